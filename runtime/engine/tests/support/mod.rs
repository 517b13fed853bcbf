//! What the engine's integration tests share: a busybox root filesystem tarball built from the
//! machine's static busybox (as the live-daemon harness in `tests/src/dockerd.rs` builds it),
//! and a private folder per test that is unmounted, rid of its containers and removed on drop.

use std::fs;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use drydock_engine::containers::{ContainerRuntime, RuntimeConfig};
use drydock_engine::digest::Digest;
use drydock_engine::images::{ImageStore, ImportOptions};
use drydock_engine::rootfs;

mod rootfs_tar;
use rootfs_tar::append;
pub use rootfs_tar::busybox_rootfs;

/// The monitor binary built with these tests.
const MONITOR: &str = env!("CARGO_BIN_EXE_drydock-monitor");

/// A private data root and exec root for one test, with an image store and a container
/// runtime in them.
pub struct Sandbox {
    pub dir: PathBuf,
    pub store: ImageStore,
    pub runtime: ContainerRuntime,
}

static NEXT: AtomicU32 = AtomicU32::new(0);

impl Sandbox {
    /// A new sandbox under `/tmp/dde-<pid>-<n>`.
    pub fn new() -> Sandbox {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir = PathBuf::from(format!("/tmp/dde-{}-{n}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let store = ImageStore::open(dir.join("data/image")).expect("the store opens");
        let runtime = ContainerRuntime::new(RuntimeConfig {
            data_root: dir.join("data"),
            exec_root: dir.join("exec"),
            runtime: "runc".into(),
            monitor: MONITOR.into(),
            monitor_args: Vec::new(),
            cgroup_parent: "/drydock-test".to_owned(),
        })
        .expect("the runtime's folders");
        Sandbox {
            dir,
            store,
            runtime,
        }
    }

    /// Imports the busybox rootfs as `busybox:latest`.
    pub fn import_busybox(&self) -> Digest {
        let options = ImportOptions {
            reference: Some("busybox:latest".to_owned()),
            ..ImportOptions::default()
        };
        self.store
            .import(&busybox_rootfs()[..], options)
            .expect("busybox imports")
    }

    /// The mount points in the sandbox.
    pub fn mounts(&self) -> Vec<PathBuf> {
        rootfs::mounts_under(&self.dir).expect("mountinfo reads")
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        let runc = self.runtime.runc();
        if let Ok(states) = runc.list() {
            for state in states {
                let _ = runc.kill(&state.id, libc::SIGKILL);
                let _ = runc.delete(&state.id, true);
            }
        }
        if let Ok(entries) = fs::read_dir(self.dir.join("data/rootfs")) {
            for entry in entries.flatten() {
                let _ = rootfs::unmount(&entry.path());
            }
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

/// A new container id: 64 hex digits, as Docker's.
pub fn new_container_id() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|since| since.as_nanos())
        .unwrap_or(0);
    let seed = format!(
        "{}-{now}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    Digest::of(seed.as_bytes()).hex().to_owned()
}

/// A small layer tar unlike busybox's.
pub fn tampered_layer() -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    append(
        &mut archive,
        tar::EntryType::Regular,
        "evil",
        0o644,
        b"not busybox",
    );
    archive.into_inner().expect("the archive finishes")
}
