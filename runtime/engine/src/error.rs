//! The engine's one error type, with the kind a server maps to an HTTP status.

use std::io;
use std::path::Path;

/// What kind of failure an [`Error`] is, for the server to map to Docker's status codes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The caller named something that does not exist (404).
    NotFound,
    /// The request conflicts with the engine's state (409).
    Conflict,
    /// The caller's input is malformed (400).
    InvalidInput,
    /// The request would write where writing is not allowed (403).
    Forbidden,
    /// The machine, the disk or the OCI runtime failed (500).
    System,
}

/// An engine failure, with the context a user can act on.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file-system operation failed.
    #[error("{context}: {source}")]
    Io {
        /// What was being done, naming the path.
        context: String,
        /// The operating system's error.
        #[source]
        source: io::Error,
    },
    /// An image reference does not parse as Docker's reference grammar.
    #[error("invalid reference format{}", detail_suffix(.0))]
    InvalidReference(String),
    /// No image matches a name, tag or id.
    #[error("No such image: {0}")]
    NoSuchImage(String),
    /// An image id prefix matches more than one image.
    #[error("ambiguous image id prefix {0}: more than one image matches")]
    AmbiguousImageId(String),
    /// Removing an image conflicts with its tags or with containers using it (Docker's text).
    #[error("{0}")]
    ImageConflict(String),
    /// An image archive (`docker save` format) is malformed.
    #[error("invalid image archive: {0}")]
    InvalidArchive(String),
    /// A tarball or layer is malformed or uses an unsupported compression.
    #[error("invalid layer: {0}")]
    InvalidLayer(String),
    /// An image config JSON is malformed.
    #[error("invalid image config {id}: {reason}")]
    InvalidImageConfig {
        /// The config's digest or file.
        id: String,
        /// What is wrong with it.
        reason: String,
    },
    /// Content does not hash to the digest it was announced with.
    #[error("{what} should have digest {expected} but has {actual}")]
    DigestMismatch {
        /// What was hashed.
        what: String,
        /// The announced digest.
        expected: String,
        /// The digest of the content.
        actual: String,
    },
    /// A `--change` instruction of an import is malformed or not allowed (dockerd's text).
    #[error("{0}")]
    InvalidChange(String),
    /// A container config cannot be turned into a runtime spec.
    #[error("invalid container config: {0}")]
    InvalidContainerConfig(String),
    /// The OCI runtime spec could not be built.
    #[error("cannot build the OCI runtime spec: {0}")]
    Spec(#[from] oci_spec::OciSpecError),
    /// A mount or unmount failed.
    #[error("cannot {action} {target}: {source}")]
    Mount {
        /// `mount` or `unmount`.
        action: &'static str,
        /// The mount point.
        target: String,
        /// The kernel's error.
        #[source]
        source: io::Error,
    },
    /// The OCI runtime (runc) failed.
    #[error("{runtime} {command} {container}: {message}")]
    Runtime {
        /// The runtime binary.
        runtime: String,
        /// The runtime subcommand.
        command: &'static str,
        /// The container id.
        container: String,
        /// The runtime's own message (its stderr) or exit status.
        message: String,
    },
    /// The container's state forbids the request (Docker's text).
    #[error("{0}")]
    ContainerConflict(String),
    /// The runtime has no container with this id.
    #[error("No such container: {0}")]
    NoSuchContainer(String),
    /// The container monitor failed to start the container or to report.
    #[error("container monitor of {container}: {message}")]
    Monitor {
        /// The container id.
        container: String,
        /// What went wrong.
        message: String,
    },
    /// No volume has this name (Docker's text: `get x: no such volume`).
    #[error("{op} {name}: no such volume")]
    NoSuchVolume {
        /// What was being done: `get`, `remove`.
        op: &'static str,
        /// The volume name asked for.
        name: String,
    },
    /// A volume that containers use cannot be removed (Docker's text, with their ids).
    #[error("remove {name}: volume is in use - [{}]", .users.join(", "))]
    VolumeInUse {
        /// The volume.
        name: String,
        /// The containers that hold a reference to it.
        users: Vec<String>,
    },
    /// A volume's name or options are not valid for the local driver (Docker's text).
    #[error("{op} {name}: {reason}")]
    InvalidVolume {
        /// What was being done: `create`.
        op: &'static str,
        /// The volume name.
        name: String,
        /// What is wrong.
        reason: String,
    },
    /// A volume driver other than `local` was asked for (Docker's text for a missing plugin).
    #[error(
        "create {name}: error looking up volume plugin {driver}: plugin \"{driver}\" not found"
    )]
    NoSuchVolumeDriver {
        /// The volume name.
        name: String,
        /// The driver asked for.
        driver: String,
    },
    /// A container's binds, mounts, tmpfs or host entries cannot be honoured (Docker's text).
    #[error("{0}")]
    InvalidHostConfig(String),
    /// No network has this name or id (Docker's text).
    #[error("network {0} not found")]
    NoSuchNetwork(String),
    /// A network request conflicts with the host or the engine's state: a subnet overlapping
    /// a route, a container on another network, a network with endpoints.
    #[error("{0}")]
    NetworkConflict(String),
    /// A network setting, port or mode is malformed or not supported.
    #[error("{0}")]
    InvalidNetworkConfig(String),
    /// A network could not be set up or torn down: `ip`, iptables, a port bind (Docker's
    /// `port is already allocated`, a 500 in dockerd too) or the port proxy failed.
    #[error("{0}")]
    Network(String),
    /// A path does not exist in a container (Docker's text).
    #[error("Could not find the file {path} in container {container}")]
    NoSuchPath {
        /// The path as the caller gave it.
        path: String,
        /// The container as the caller named it.
        container: String,
    },
    /// A path or an archive for a container's files is refused (Docker's text).
    #[error("{0}")]
    InvalidArchivePath(String),
    /// A container path is on a read-only root file system or volume (Docker's text).
    #[error("{0}")]
    ReadOnlyPath(String),
    /// A JSON document written by the engine itself could not be read back.
    #[error("cannot read {path}: {source}")]
    StateJson {
        /// The file.
        path: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },
}

impl Error {
    /// The kind of this error, which decides its HTTP status.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NoSuchImage(_)
            | Error::NoSuchContainer(_)
            | Error::NoSuchVolume { .. }
            | Error::NoSuchVolumeDriver { .. }
            | Error::NoSuchNetwork(_)
            | Error::NoSuchPath { .. } => ErrorKind::NotFound,
            Error::ImageConflict(_)
            | Error::ContainerConflict(_)
            | Error::VolumeInUse { .. }
            | Error::NetworkConflict(_) => ErrorKind::Conflict,
            Error::InvalidReference(_)
            | Error::AmbiguousImageId(_)
            | Error::InvalidArchive(_)
            | Error::InvalidLayer(_)
            | Error::InvalidImageConfig { .. }
            | Error::DigestMismatch { .. }
            | Error::InvalidChange(_)
            | Error::InvalidContainerConfig(_)
            | Error::InvalidVolume { .. }
            | Error::InvalidHostConfig(_)
            | Error::InvalidNetworkConfig(_)
            | Error::InvalidArchivePath(_) => ErrorKind::InvalidInput,
            Error::ReadOnlyPath(_) => ErrorKind::Forbidden,
            Error::Io { .. }
            | Error::Spec(_)
            | Error::Mount { .. }
            | Error::Runtime { .. }
            | Error::Monitor { .. }
            | Error::Network(_)
            | Error::StateJson { .. } => ErrorKind::System,
        }
    }

    /// An [`Error::Io`] that says what was done to which path.
    pub(crate) fn io(action: &str, path: &Path, source: io::Error) -> Error {
        Error::Io {
            context: format!("cannot {action} {}", path.display()),
            source,
        }
    }
}

/// `": detail"` when there is a detail, else nothing (Docker's reference errors end either way).
fn detail_suffix(detail: &str) -> String {
    if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    }
}

/// The engine's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
