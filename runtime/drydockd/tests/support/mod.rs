//! drydockd as a process for tests: the real binary on a private folder, socket, cgroup and
//! network slot, with a client at any API version, busybox imported, and a crash (`kill -9`)
//! and restart; on drop the daemon stops and everything it left (containers, mounts, the
//! bridge, firewall chains, the folder) is removed.

#![allow(dead_code)]

#[path = "../../../engine/tests/support/slot.rs"]
mod slot;

#[path = "../../../engine/tests/support/rootfs_tar.rs"]
pub mod rootfs_tar;
pub use rootfs_tar::busybox_rootfs;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use drydock_client::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerWaitCondition,
};
use drydock_client::{
    Client, ClientConfig, ContainerCreateParams, ContainerInspectParams, ContainerLogsParams,
    ContainerStartParams, ContainerWaitParams, Error, ImageCreateParams,
};
use drydock_engine::network::link;
use drydock_engine::network::nat::Firewall;
use drydock_runtime::transport::DockerHost;
use futures_util::StreamExt;
use serde_json::{Value, json};
use slot::Slot;

/// The drydockd binary cargo built for these tests.
pub const DRYDOCKD: &str = env!("CARGO_BIN_EXE_drydockd");

/// How long a daemon may take to answer its first ping.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A drydockd process on a folder and network slot of its own.
pub struct DaemonProcess {
    dir: PathBuf,
    slot: Slot,
    child: Option<Child>,
}

impl DaemonProcess {
    /// Starts a daemon on a new private folder.
    pub fn start(name: &str) -> DaemonProcess {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/drydockd-{name}-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the test folder is created");
        let mut daemon = DaemonProcess {
            dir,
            slot: Slot::claim(),
            child: None,
        };
        daemon.spawn();
        daemon
    }

    /// The daemon's unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("drydockd.sock")
    }

    /// The daemon's data root.
    pub fn data_root(&self) -> PathBuf {
        self.dir.join("data")
    }

    /// The daemon's exec root.
    pub fn exec_root(&self) -> PathBuf {
        self.dir.join("exec")
    }

    /// The cgroup parent of this daemon's containers.
    pub fn cgroup_parent(&self) -> String {
        format!("/drydock-test-{}", self.slot.n)
    }

    /// Runs the binary and waits until it answers.
    pub fn spawn(&mut self) {
        let bip = format!("{}/24", self.slot.subnet(24).first_host());
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.join("drydockd.log"))
            .expect("the daemon log opens");
        let child = Command::new(DRYDOCKD)
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .arg("--data-root")
            .arg(self.data_root())
            .arg("--exec-root")
            .arg(self.exec_root())
            .arg("--cgroup-parent")
            .arg(self.cgroup_parent())
            .arg("--bridge")
            .arg(self.slot.bridge())
            .arg("--bip")
            .arg(bip)
            .arg("--iptables-chain")
            .arg(self.slot.chain())
            .arg("--log-level")
            .arg("debug")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("drydockd runs");
        self.child = Some(child);
        let deadline = Instant::now() + START_TIMEOUT;
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("drydockd exited with {status}: {}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "drydockd did not listen: {}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("drydockd.log")).unwrap_or_default()
    }

    /// Kills the daemon with SIGKILL (its containers' monitors live on) and reaps it.
    pub fn crash(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the daemon with SIGTERM and waits for it.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) on our own child's pid.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// A client pinned to API `version`.
    pub async fn client(&self, version: &str) -> Client {
        let mut config = ClientConfig::new(DockerHost::Unix(self.socket()));
        config.api_version = Some(version.parse().expect("a version"));
        Client::connect(&config).await.expect("the client connects")
    }

    /// A daemon on a new private folder with busybox imported, and a client at API 1.33.
    pub async fn with_busybox(name: &str) -> (DaemonProcess, Client) {
        let daemon = DaemonProcess::start(name);
        let client = daemon.client("1.33").await;
        daemon.import_busybox(&client).await;
        (daemon, client)
    }

    /// Imports the busybox rootfs as `busybox:latest` and returns its id.
    pub async fn import_busybox(&self, client: &Client) -> String {
        self.import(client, busybox_rootfs(), "busybox", &[]).await
    }

    /// Imports a rootfs `tarball` as `<repo>:latest` with `changes` applied to its config
    /// (`docker import --change`, e.g. `VOLUME /data`) and returns its id.
    pub async fn import(
        &self,
        client: &Client,
        tarball: Vec<u8>,
        repo: &str,
        changes: &[&str],
    ) -> String {
        let mut progress = client
            .image_create(ImageCreateParams {
                from_src: Some("-".to_owned()),
                repo: Some(repo.to_owned()),
                tag: Some("latest".to_owned()),
                changes: (!changes.is_empty())
                    .then(|| changes.iter().map(|c| (*c).to_owned()).collect()),
                body: Some(tarball.into()),
                ..ImageCreateParams::default()
            })
            .await
            .expect("the import is accepted");
        let mut id = String::new();
        while let Some(message) = progress.next().await {
            let message = message.expect("progress decodes");
            if let Some(status) = message.status {
                id = status;
            }
        }
        assert!(
            id.starts_with("sha256:"),
            "the import reports the image id: {id}"
        );
        id
    }
}

/// Everything a container wrote to stdout and stderr, from its log.
pub async fn logs(client: &Client, id: &str) -> String {
    logs_of(client, id, false).await
}

/// Everything a container wrote, from its log: of a container with a terminal (`tty`), the
/// terminal's bytes as they are.
pub async fn logs_of(client: &Client, id: &str, tty: bool) -> String {
    let mut frames = client
        .container_logs(ContainerLogsParams {
            id: id.to_owned(),
            stdout: Some(true),
            stderr: Some(true),
            tty,
            ..ContainerLogsParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("logs {id}: {e}"));
    let mut text = String::new();
    while let Some(frame) = frames.next().await {
        text.push_str(&String::from_utf8_lossy(&frame.expect("a frame").payload));
    }
    text
}

/// Polls `test` every 20 ms until it holds (at most `limit`): for states that the daemon
/// reaches asynchronously (a container's exit, a health check's result).
pub async fn eventually(limit: Duration, mut test: impl AsyncFnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        if test().await {
            return true;
        }
        if tokio::time::Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The time now in Unix seconds, as `since` and `until` of the events take it.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("a time after 1970")
        .as_secs()
}

/// The status and message of a daemon's error answer.
pub fn refusal(error: Error) -> (u16, String) {
    match error {
        Error::Daemon {
            status, message, ..
        } => (status, message),
        other => panic!("expected an answer from the daemon, got {other}"),
    }
}

impl Drop for DaemonProcess {
    fn drop(&mut self) {
        self.stop();
        // The daemon leaves containers running on purpose: kill them, their monitors and
        // proxies, and every mount under the folder.
        let runc_root = self.exec_root().join("runc");
        if let Ok(out) = Command::new("runc")
            .arg("--root")
            .arg(&runc_root)
            .arg("list")
            .arg("-q")
            .output()
        {
            for id in String::from_utf8_lossy(&out.stdout).lines() {
                let _ = Command::new("runc")
                    .arg("--root")
                    .arg(&runc_root)
                    .args(["delete", "-f", id])
                    .status();
            }
        }
        kill_processes_under(&self.dir);
        unmount_under(&self.dir);
        if let Ok(firewall) = Firewall::new(&self.slot.chain(), &self.slot.bridge()) {
            let _ = firewall.uninstall();
        }
        let _ = link::delete_link(&self.slot.bridge());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Kills every process whose command line names `dir` (monitors, proxies).
fn kill_processes_under(dir: &Path) {
    let wanted = dir.as_os_str().as_encoded_bytes();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|p| p.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(cmdline) = std::fs::read(format!("/proc/{pid}/cmdline")) else {
            continue;
        };
        if cmdline.windows(wanted.len()).any(|w| w == wanted) {
            // SAFETY: kill(2) has no memory-safety preconditions.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
    }
}

/// Unmounts every mount point under `dir`, deepest first.
fn unmount_under(dir: &Path) {
    let Ok(mounts) = std::fs::read_to_string("/proc/self/mountinfo") else {
        return;
    };
    let prefix = dir.to_string_lossy().to_string();
    let mut points: Vec<String> = mounts
        .lines()
        .filter_map(|line| line.split(' ').nth(4).map(str::to_owned))
        .filter(|point| point.starts_with(&prefix))
        .collect();
    points.sort_by_key(|p| std::cmp::Reverse(p.len()));
    for point in points {
        let Ok(c) = std::ffi::CString::new(point) else {
            continue;
        };
        // SAFETY: umount2 with a valid C string.
        unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
    }
}

/// Creates a container named `name` from a create body written as the docker CLI sends it
/// (busybox unless it names an image) and returns its id.
pub async fn create(client: &Client, name: &str, mut body: Value) -> String {
    body.as_object_mut()
        .expect("a body is an object")
        .entry("Image")
        .or_insert_with(|| json!("busybox"));
    let body: ContainerCreateBody = serde_json::from_value(body).expect("a create body");
    client
        .container_create(ContainerCreateParams {
            name: Some(name.to_owned()),
            body,
        })
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
        .id
}

/// Starts the container, waits for its exit (the next one, as `docker run` waits) and returns
/// its exit code and everything it wrote.
pub async fn start_and_wait(client: &Client, id: &str) -> (i64, String) {
    let mut exit = client
        .container_wait(ContainerWaitParams {
            id: id.to_owned(),
            condition: Some(ContainerWaitCondition::NextExit),
        })
        .await
        .unwrap_or_else(|e| panic!("wait {id}: {e}"));
    start(client, id).await;
    let code = exit
        .next()
        .await
        .expect("the wait answers")
        .expect("the exit status decodes")
        .status_code;
    let output = logs(client, id).await;
    (code, output)
}

/// Creates, starts and waits for a container; its exit code and output.
pub async fn run(client: &Client, name: &str, body: Value) -> (i64, String) {
    let id = create(client, name, body).await;
    start_and_wait(client, &id).await
}

/// Starts a container.
pub async fn start(client: &Client, id: &str) {
    client
        .container_start(ContainerStartParams {
            id: id.to_owned(),
            ..ContainerStartParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("start {id}: {e}"));
}

/// Inspects a container.
pub async fn inspect(client: &Client, id: &str) -> ContainerInspectResponse {
    client
        .container_inspect(ContainerInspectParams {
            id: id.to_owned(),
            ..ContainerInspectParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("inspect {id}: {e}"))
}
