//! The one error type of the runtime crate.
//!
//! Every fallible function here, and every generated client method, returns
//! [`Error`]. Each variant carries what a user needs to act on it: the
//! daemon's status and message, the version a field needs, the byte offset
//! at which a stream went bad, the operation whose response did not decode.

use std::fmt;

use crate::version::ApiVersion;

/// A boxed error from a lower layer (HTTP client, TLS, I/O).
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong talking to, or parsing data from, a Docker
/// daemon.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A string that should have been an API version (`1.24`) was not.
    #[error("invalid API version {input:?}: {reason}")]
    InvalidVersion {
        /// The text that failed to parse.
        input: String,
        /// What is wrong with it.
        reason: &'static str,
    },

    /// A pinned API version lies outside what drydock speaks.
    #[error("API version {version} is not supported; drydock speaks {min} to {max}")]
    UnsupportedVersion {
        /// The version asked for.
        version: ApiVersion,
        /// The oldest supported version.
        min: ApiVersion,
        /// The newest supported version.
        max: ApiVersion,
    },

    /// The daemon only speaks API versions older than drydock supports.
    #[error("the daemon speaks API {daemon}, older than the oldest supported {min}")]
    DaemonTooOld {
        /// The daemon's `API-Version`.
        daemon: ApiVersion,
        /// The oldest version drydock speaks.
        min: ApiVersion,
    },

    /// A field, parameter or endpoint was used that the negotiated API
    /// version does not have.
    #[error("`{what}` needs API {since}; negotiated {negotiated}")]
    VersionGate {
        /// What was used, such as `HostConfig.Init`.
        what: String,
        /// The first version that has it.
        since: String,
        /// The version in use.
        negotiated: String,
    },

    /// The daemon (or any API's server) answered with a non-success status;
    /// `message` is the `message` of its JSON error body (or the body text,
    /// or the status's reason when the body was empty). [`Error::body_as`]
    /// decodes the body into the error model the API documents.
    #[error("the daemon answered {status}: {message}")]
    Daemon {
        /// The HTTP status code.
        status: u16,
        /// What the daemon said.
        message: String,
        /// The body of the answer, as it came.
        body: Vec<u8>,
    },

    /// The request could not be sent or its response not received
    /// (connection refused, TLS failure, timeout, …).
    #[error("{action} failed: {source}")]
    Transport {
        /// What was being done, such as `GET /_ping`.
        action: String,
        /// The underlying error.
        #[source]
        source: BoxError,
    },

    /// The daemon did not switch protocols for a hijacked (attach/exec)
    /// request.
    #[error("{operation}: expected the daemon to answer 101 Switching Protocols, got {status}")]
    UpgradeRefused {
        /// The operation, such as `ContainerAttach`.
        operation: String,
        /// The status it answered with instead.
        status: u16,
    },

    /// The client configuration (`DOCKER_HOST`, certificates, …) is unusable.
    #[error("{setting}: {message}")]
    Config {
        /// The setting at fault, such as `DOCKER_HOST="ftp://x"` or a file path.
        setting: String,
        /// What is wrong with it.
        message: String,
    },

    /// Reading or writing a byte stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),

    /// A multiplexed stdout/stderr stream held a bad frame.
    #[error("bad frame at byte {offset} of the stream: {kind}")]
    Frame {
        /// Offset of the frame's header from the start of the stream.
        offset: u64,
        /// What was wrong with it.
        kind: FrameErrorKind,
    },

    /// A JSON message stream held bytes that are not JSON, or a message
    /// that does not have the expected shape.
    #[error("bad JSON at byte {offset} of the stream: {source}")]
    Json {
        /// Offset from the start of the stream where the problem was found.
        offset: u64,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },

    /// A JSON stream ended in the middle of a message.
    #[error("the JSON stream ended inside a message that starts at byte {offset}")]
    JsonTruncated {
        /// Offset of the unfinished message.
        offset: u64,
    },

    /// A JSON message exceeded the decoder's size cap.
    #[error("the JSON message at byte {offset} is longer than the {max}-byte cap")]
    JsonTooLarge {
        /// Offset of the message.
        offset: u64,
        /// The cap.
        max: usize,
    },

    /// A progress or event stream reported an error in-band
    /// (`{"error": "...", "errorDetail": {...}}`).
    #[error("the stream reported an error: {message}")]
    Stream {
        /// The `error` (or `errorDetail.message`) text.
        message: String,
        /// `errorDetail.code`, when the daemon sent one.
        code: Option<i64>,
        /// The whole message as received.
        raw: serde_json::Value,
    },

    /// A response body did not decode into the type the operation returns.
    #[error("could not decode the response of {operation}: {source}")]
    Decode {
        /// The operation, such as `ContainerInspect`.
        operation: String,
        /// The decoder's error.
        #[source]
        source: serde_json::Error,
    },

    /// A registry auth header (`X-Registry-Auth` / `X-Registry-Config`) did
    /// not decode.
    #[error("bad {header} header: {message}")]
    AuthHeader {
        /// The header's name.
        header: &'static str,
        /// What is wrong with it.
        message: String,
    },

    /// A `filters` query parameter did not parse.
    #[error("bad filters {input:?}: {source}")]
    Filters {
        /// The parameter's text.
        input: String,
        /// The parser's error.
        #[source]
        source: serde_json::Error,
    },
}

/// What was wrong with a frame of a multiplexed stream.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameErrorKind {
    /// The stream-type byte is not 0 (stdin), 1 (stdout) or 2 (stderr).
    UnknownStream(u8),
    /// Header bytes 1 to 3 must be zero.
    NonZeroPadding([u8; 3]),
    /// The announced payload is longer than the decoder's cap.
    TooLarge {
        /// The announced length.
        len: u64,
        /// The cap.
        max: usize,
    },
    /// The stream ended inside the 8-byte header.
    TruncatedHeader {
        /// How many header bytes arrived.
        got: usize,
    },
    /// The stream ended inside a payload.
    TruncatedPayload {
        /// The announced length.
        expected: u32,
        /// How many payload bytes arrived.
        got: usize,
    },
}

impl fmt::Display for FrameErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UnknownStream(byte) => write!(
                f,
                "unknown stream type {byte} (expected 0 stdin, 1 stdout or 2 stderr; is this a TTY stream?)"
            ),
            Self::NonZeroPadding(bytes) => {
                write!(f, "header bytes 1..4 must be zero, found {bytes:?}")
            }
            Self::TooLarge { len, max } => {
                write!(
                    f,
                    "frame announces {len} payload bytes, over the {max}-byte cap"
                )
            }
            Self::TruncatedHeader { got } => {
                write!(f, "stream ended inside a frame header ({got} of 8 bytes)")
            }
            Self::TruncatedPayload { expected, got } => write!(
                f,
                "stream ended inside a frame payload ({got} of {expected} bytes)"
            ),
        }
    }
}

impl Error {
    /// Whether this is a timeout of the underlying transport.
    pub fn is_timeout(&self) -> bool {
        match self {
            #[cfg(feature = "client")]
            Self::Transport { source, .. } => source
                .downcast_ref::<reqwest::Error>()
                .is_some_and(reqwest::Error::is_timeout),
            Self::Io(err) => err.kind() == std::io::ErrorKind::TimedOut,
            _ => false,
        }
    }

    /// The HTTP status the daemon answered with, for [`Error::Daemon`].
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Daemon { status, .. } => Some(*status),
            _ => None,
        }
    }

    /// The body of an error answer ([`Error::Daemon`]) decoded as JSON into
    /// `T`, the model the API documents for that status; `None` for other
    /// errors.
    pub fn body_as<T: serde::de::DeserializeOwned>(&self) -> Option<Result<T, serde_json::Error>> {
        match self {
            Self::Daemon { body, .. } => Some(serde_json::from_slice(body)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_crosses_threads_and_boxes_as_std_error() {
        fn assert_send_sync<T: Send + Sync + 'static>() {}
        assert_send_sync::<Error>();
        let boxed: BoxError = Box::new(Error::Daemon {
            status: 409,
            message: "conflict".into(),
            body: Vec::new(),
        });
        assert_eq!(boxed.to_string(), "the daemon answered 409: conflict");
    }

    #[test]
    fn status_and_timeout_accessors_match_the_variant() {
        let daemon = Error::Daemon {
            status: 404,
            message: "No such image".into(),
            body: br#"{"message":"No such image","code":7}"#.to_vec(),
        };
        assert_eq!(daemon.status(), Some(404));
        let body: serde_json::Value = daemon
            .body_as()
            .expect("a daemon error has a body")
            .expect("the body is JSON");
        assert_eq!(body["code"], 7);
        assert!(!daemon.is_timeout());
        let io = Error::Io(std::io::Error::from(std::io::ErrorKind::TimedOut));
        assert!(io.is_timeout());
        assert_eq!(io.status(), None);
        assert!(io.body_as::<serde_json::Value>().is_none());
    }
}
