//! The daemon: the engine's parts put together (image store, container runtime, containers,
//! execs, events), opened from disk, shared by every API area's implementation.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use drydock_engine::containers::{ContainerRuntime, RuntimeConfig};
use drydock_engine::images::ImageStore;
use drydock_engine::volumes::VolumeStore;

use crate::containers::store::ContainerStore;
use crate::events::Events;
use crate::exec::ExecStore;
use crate::options::Options;

/// drydockd: cheap to clone, every clone serves the same engine.
#[derive(Clone)]
pub struct Daemon {
    inner: Arc<Inner>,
}

/// The daemon's parts.
pub struct Inner {
    /// The command line it was started with.
    pub options: Options,
    /// Images.
    pub images: ImageStore,
    /// Local volumes.
    pub volumes: VolumeStore,
    /// Runs containers with the OCI runtime.
    pub runtime: ContainerRuntime,
    /// Containers by id and name.
    pub containers: ContainerStore,
    /// Exec instances.
    pub execs: ExecStore,
    /// The health checkers of running containers.
    pub health: crate::containers::health::Checkers,
    /// The `bridge`, `host` and `none` networks and every container's place on them.
    pub networks: drydock_engine::network::Networks,
    /// The event log.
    pub events: Events,
    /// The init binary for `--init`, if it is installed.
    pub init: Option<PathBuf>,
    /// A stable id of this engine (`docker info`'s `ID`).
    pub engine_id: String,
    /// When the daemon started.
    pub started: Instant,
}

impl std::ops::Deref for Daemon {
    type Target = Inner;

    fn deref(&self) -> &Inner {
        &self.inner
    }
}

impl Daemon {
    /// Opens the state under the data and exec roots: images, containers (reconciled with
    /// what their monitors recorded while the daemon was away), and starts watching the
    /// running containers' exits.
    ///
    /// # Errors
    ///
    /// When a folder cannot be created or the state does not read.
    pub async fn open(options: Options) -> drydock_engine::Result<Daemon> {
        let runtime_binary =
            resolve_binary(&options.runtime).unwrap_or_else(|| PathBuf::from(&options.runtime));
        let monitor = std::env::current_exe().map_err(|source| drydock_engine::Error::Io {
            context: "find drydockd's own binary (the monitor)".to_owned(),
            source,
        })?;
        let runtime = ContainerRuntime::new(RuntimeConfig {
            data_root: options.data_root.clone(),
            exec_root: options.exec_root.clone(),
            runtime: runtime_binary,
            monitor,
            monitor_args: vec!["monitor".into()],
            cgroup_parent: options.cgroup_parent.clone(),
        })?;
        let images = ImageStore::open(options.data_root.join("image"))?;
        let volumes = VolumeStore::open(options.data_root.join("volumes"))?;
        let engine_id = engine_id(&options.data_root)?;
        let containers = ContainerStore::load(&options.data_root, &runtime)?;
        let networks = crate::networks::open(&options, &runtime.config().monitor)?;
        let daemon = Daemon {
            inner: Arc::new(Inner {
                init: resolve_init(&options.init_path),
                options,
                images,
                volumes,
                runtime,
                containers,
                execs: ExecStore::default(),
                health: Default::default(),
                networks,
                events: Events::default(),
                engine_id,
                started: Instant::now(),
            }),
        };
        crate::containers::lifecycle::resume(&daemon).await;
        Ok(daemon)
    }

    /// Stops serving: containers keep running under their monitors.
    pub async fn shutdown(&self) {
        log::info!("engine stopped; containers keep running under their monitors");
    }
}

/// A program's path: as given when it has a `/`, else found on `PATH`.
pub fn resolve_binary(name: &str) -> Option<PathBuf> {
    if name.contains('/') {
        let path = PathBuf::from(name);
        return path.is_file().then_some(path);
    }
    let path = std::env::var_os("PATH")
        .unwrap_or_else(|| "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin".into());
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

/// The init binary dockerd looks for, and drydockd first.
pub const DEFAULT_INIT: &str = "docker-init";

/// The init binary `name` names; for the default, `docker-init`, Debian's statically linked
/// `tini-static` or `catatonit` when it is missing (a dynamically linked `tini` cannot run in
/// a container whose root has no C library).
pub fn resolve_init(name: &str) -> Option<PathBuf> {
    resolve_binary(name).or_else(|| {
        (name == DEFAULT_INIT)
            .then(|| {
                ["tini-static", "catatonit"]
                    .into_iter()
                    .find_map(resolve_binary)
            })
            .flatten()
    })
}

/// The engine's id, made once and kept in `<data root>/engine-id`.
fn engine_id(data_root: &std::path::Path) -> drydock_engine::Result<String> {
    let path = data_root.join("engine-id");
    if let Ok(id) = std::fs::read_to_string(&path) {
        let id = id.trim();
        if !id.is_empty() {
            return Ok(id.to_owned());
        }
    }
    let id = random_hex(32);
    drydock_engine::durable::write_atomically(&path, id.as_bytes())?;
    Ok(id)
}

/// `bytes` random bytes from the kernel, as lowercase hex.
pub fn random_hex(bytes: usize) -> String {
    let mut buffer = vec![0_u8; bytes];
    let mut filled = 0;
    while filled < bytes {
        // SAFETY: the pointer and length describe the unfilled tail of `buffer`.
        let got =
            unsafe { libc::getrandom(buffer[filled..].as_mut_ptr().cast(), bytes - filled, 0) };
        if got > 0 {
            filled += got as usize;
        }
    }
    buffer.iter().map(|b| format!("{b:02x}")).collect()
}
