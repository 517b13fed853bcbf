//! A private drydockd for live tests, beside [`crate::dockerd`]'s private dockerd: the daemon
//! binary started in a folder of its own, reached through a unix socket in that folder, driven by
//! the real docker CLI (28.x).
//!
//! The binary is the `drydockd-for-tests` program of this package (`src/bin`), which is
//! drydockd's own `main`: cargo builds a package's binaries, fresh, before that package's
//! integration tests, and hands their paths to the tests as `CARGO_BIN_EXE_<name>`, while a
//! dependency's binaries it never builds. A test passes that path to [`Drydockd::start`]
//! (`DRYDOCK_TEST_DRYDOCKD` overrides it, to test an installed drydockd).
//!
//! Each daemon has a folder `/tmp/dy-<pid>-<n>` (short, for the socket's 108 bytes) holding its
//! socket, data root, exec root and log; a cgroup parent `/drydockd-dy-<pid>-<n>`; and a
//! network test slot ([`crate::network_slot`], shared with the engine's and drydockd's own
//! network tests) for its bridge, iptables chains and subnet, so daemons of concurrent tests
//! never share host state.
//!
//! drydockd leaves containers running when it stops, on purpose (their monitors outlive it),
//! so stopping a test daemon takes more than SIGTERM: [`Drydockd`]'s drop then deletes every
//! container runc still knows under its exec root, kills the monitors and port proxies (every
//! process whose command line names the folder), unmounts what is mounted in the folder,
//! removes it, its cgroups, and its bridge and chains. A test process killed outright cannot do
//! that; the next [`Drydockd::start`] on the machine does it for folders whose process is gone.
//!
//! Every function here panics with what went wrong, including the daemon's log when it does not
//! come up: it is meant for tests, where a panic is the failure report.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use drydock_engine::network::link;
use drydock_engine::network::nat::Firewall;

use crate::dockerd::{
    busybox_rootfs, cli_command, command_line_names, make_private_folder, mount_points_under,
    orphaned_folders, run_with_input, terminate, unix_url, unmount_and_remove,
    wait_until_answering,
};
use crate::network_slot::Slot;

/// The docker CLI the differential tests drive both daemons with: 28.x, on every machine of the
/// project (Debian's `/usr/bin/docker` is 20.10).
pub const DOCKER_CLI: &str = "/usr/local/bin/docker";
/// The variable that names another drydockd binary to test than the one built here.
pub const BINARY_OVERRIDE: &str = "DRYDOCK_TEST_DRYDOCKD";
/// Debian's runc, which drydockd runs containers with (package `runc`).
const RUNC: &str = "/usr/sbin/runc";
/// The `PATH` drydockd runs with, so that it finds runc, tini, `ip` and iptables.
const DAEMON_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// The start of every daemon folder's name, followed by `<pid>-<n>`.
const FOLDER_PREFIX: &str = "dy-";
/// Where cgroup hierarchies are mounted.
const CGROUP_ROOT: &str = "/sys/fs/cgroup";
/// How long the daemon may take to answer `/_ping` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A running drydockd in a private folder and network slot; stopped, with everything it
/// started, on drop.
pub struct Drydockd {
    dir: PathBuf,
    slot: Slot,
    /// The prefix length of the bridge's subnet, the slot's `10.213.<n>.0/<prefix_len>`.
    prefix_len: u8,
    child: Mutex<Option<Child>>,
}

impl Drydockd {
    /// Starts `binary` (or the binary `DRYDOCK_TEST_DRYDOCKD` names) as a daemon and waits until
    /// it answers `/_ping`. Pass `env!("CARGO_BIN_EXE_drydockd-for-tests")`.
    ///
    /// # Panics
    ///
    /// When the binary cannot be started or does not answer within 30 seconds; the panic
    /// message holds the daemon's log.
    pub fn start(binary: &Path) -> Drydockd {
        Drydockd::start_with_subnet(binary, 24)
    }

    /// [`Drydockd::start`] with a bridge subnet of `prefix_len` bits (`--bip`): a /30 has one
    /// address for a container, a /29 five.
    ///
    /// # Panics
    ///
    /// As [`Drydockd::start`].
    pub fn start_with_subnet(binary: &Path, prefix_len: u8) -> Drydockd {
        for dir in orphaned_folders(FOLDER_PREFIX) {
            remove_leftovers(&dir);
        }
        let binary =
            std::env::var_os(BINARY_OVERRIDE).map_or_else(|| binary.to_owned(), PathBuf::from);
        let slot = Slot::claim();
        let dir = make_private_folder(FOLDER_PREFIX);
        let log = fs::File::create(dir.join("drydockd.log"))
            .unwrap_or_else(|e| panic!("cannot create {}/drydockd.log: {e}", dir.display()));
        let log_too = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share drydockd.log: {e}"));
        let bip = format!("{}/{prefix_len}", slot.subnet(prefix_len).first_host());
        let child = Command::new(&binary)
            .arg("-H")
            .arg(unix_url(&dir.join("drydockd.sock")))
            .arg("--data-root")
            .arg(dir.join("data"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--cgroup-parent")
            .arg(cgroup_parent(&dir))
            .args(["--bridge", &slot.bridge(), "--bip", &bip])
            .args(["--iptables-chain", &slot.chain()])
            .args(["--log-level", "debug"])
            .env("PATH", DAEMON_PATH)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_too)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", binary.display()));
        let daemon = Drydockd {
            dir,
            slot,
            prefix_len,
            child: Mutex::new(Some(child)),
        };
        // A panic here drops `daemon`, which stops it and removes its folder.
        wait_until_answering(
            "drydockd",
            &daemon.socket(),
            &daemon.child,
            START_TIMEOUT,
            || daemon.log(),
        );
        daemon
    }

    /// The daemon's private folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The daemon's unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("drydockd.sock")
    }

    /// The `-H` address of the daemon: `unix://` and the socket's path.
    pub fn host(&self) -> String {
        unix_url(&self.socket())
    }

    /// The Linux bridge of the daemon's default `bridge` network.
    pub fn bridge(&self) -> String {
        self.slot.bridge()
    }

    /// The subnet of the daemon's default `bridge` network.
    pub fn subnet(&self) -> drydock_engine::network::Subnet {
        self.slot.subnet(self.prefix_len)
    }

    /// The cgroup under which the daemon puts each container's (`--cgroup-parent`).
    pub fn cgroup_parent(&self) -> String {
        cgroup_parent(&self.dir)
    }

    /// The daemon's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(Child::id)
    }

    /// The interfaces enslaved to the daemon's bridge: the host ends of its containers' veths.
    ///
    /// # Panics
    ///
    /// When `ip` cannot be run.
    pub fn bridge_ports(&self) -> Vec<String> {
        let output = Command::new("ip")
            .args(["-o", "link", "show", "master", &self.bridge()])
            .output()
            .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .filter_map(|line| line.split(':').nth(1))
            .map(|name| name.trim().split('@').next().unwrap_or_default().to_owned())
            .collect()
    }

    /// What containers could have left on the host that is still there, one line each: mounts
    /// under the daemon's folder (root filesystems, volumes, namespaces), processes naming it
    /// other than the daemon (monitors, port proxies), containers runc knows, namespace files,
    /// container records, root filesystems and state folders, container cgroups under the
    /// cgroup parent, interfaces on the bridge, and network endpoints (addresses taken from the
    /// pool). Empty when nothing is left.
    ///
    /// Run it while no docker CLI aimed at the daemon runs (the CLI's `-H` names the folder).
    pub fn leftovers(&self) -> Vec<String> {
        let mut found = Vec::new();
        for mount in mount_points_under(&self.dir) {
            found.push(format!("mount {}", mount.display()));
        }
        let daemon = self.pid().and_then(|pid| i32::try_from(pid).ok());
        for pid in processes_naming(&self.dir) {
            if Some(pid) != daemon {
                let cmdline = fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
                let shown = String::from_utf8_lossy(&cmdline).replace('\0', " ");
                found.push(format!("process {pid}: {shown}"));
            }
        }
        let entries = |dir: PathBuf| -> Vec<String> {
            fs::read_dir(&dir)
                .map(|entries| {
                    entries
                        .flatten()
                        .map(|entry| entry.path().display().to_string())
                        .collect()
                })
                .unwrap_or_default()
        };
        for state in entries(self.dir.join("exec").join("runc")) {
            found.push(format!("runc container {state}"));
        }
        for namespace in entries(self.dir.join("exec").join("netns")) {
            found.push(format!("namespace file {namespace}"));
        }
        for (what, dir) in [
            ("container record", self.dir.join("data").join("containers")),
            ("root filesystem", self.dir.join("data").join("rootfs")),
            ("container state", self.dir.join("exec").join("containers")),
        ] {
            for entry in entries(dir) {
                found.push(format!("{what} {entry}"));
            }
        }
        for hierarchy in entries(PathBuf::from(CGROUP_ROOT)) {
            let parent = Path::new(&hierarchy).join(self.cgroup_parent().trim_start_matches('/'));
            for group in entries(parent) {
                if Path::new(&group).is_dir() {
                    found.push(format!("cgroup {group}"));
                }
            }
        }
        for port in self.bridge_ports() {
            found.push(format!("interface {port} on {}", self.bridge()));
        }
        let state = self.dir.join("data").join("network").join("state.json");
        let endpoints = fs::read(&state)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|state| state.get("endpoints").cloned())
            .and_then(|endpoints| endpoints.as_object().cloned())
            .unwrap_or_default();
        for (container, endpoint) in endpoints {
            found.push(format!("network endpoint of {container}: {endpoint}"));
        }
        found
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.join("drydockd.log"))
            .unwrap_or_else(|e| format!("(cannot read drydockd.log: {e})"))
    }

    /// A docker CLI (28.x) command aimed at this daemon, with a config folder of its own and
    /// none of the `DOCKER_*` variables that would aim it elsewhere or pin its API version.
    pub fn docker_command(&self) -> Command {
        cli_command(
            Path::new(DOCKER_CLI),
            &self.host(),
            &self.dir.join("config"),
        )
    }

    /// Loads an image archive (`docker save`'s format) with `docker load`; returns what the CLI
    /// printed.
    ///
    /// # Panics
    ///
    /// When `docker load` fails.
    pub fn load(&self, archive: Vec<u8>) -> Output {
        let mut command = self.docker_command();
        command.arg("load");
        run_with_input(command, archive, "docker load")
    }

    /// Imports the busybox rootfs of [`busybox_rootfs`] under `tag` with `docker import`.
    ///
    /// # Panics
    ///
    /// When busybox is missing or `docker import` fails.
    pub fn import_busybox(&self, tag: &str) {
        let mut command = self.docker_command();
        command.args(["import", "-", tag]);
        run_with_input(command, busybox_rootfs(), &format!("docker import - {tag}"));
    }
}

impl Drop for Drydockd {
    fn drop(&mut self) {
        let child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(mut child) = child {
            terminate(&mut child, "drydockd");
        }
        remove_leftovers(&self.dir);
        if let Ok(firewall) = Firewall::new(&self.slot.chain(), &self.slot.bridge()) {
            let _ = firewall.uninstall();
        }
        let _ = link::delete_link(&self.slot.bridge());
    }
}

/// The cgroup parent of the daemon in `dir`: `/drydockd-<folder name>`.
fn cgroup_parent(dir: &Path) -> String {
    let name = dir.file_name().map(|n| n.to_string_lossy().into_owned());
    format!("/drydockd-{}", name.unwrap_or_default())
}

/// Removes what a stopped daemon in `dir` left: the containers runc still knows under its exec
/// root (deleted with `--force`, which kills them and removes their cgroups), every process
/// whose command line names `dir` (monitors, port proxies, a daemon still running), the mounts
/// and the folder, and its cgroup parent. The network slot's bridge and chains are removed by
/// the slot's owner.
fn remove_leftovers(dir: &Path) {
    let runc_root = dir.join("exec").join("runc");
    if let Ok(entries) = fs::read_dir(&runc_root) {
        for entry in entries.flatten() {
            let _ = Command::new(RUNC)
                .arg("--root")
                .arg(&runc_root)
                .args(["delete", "--force"])
                .arg(entry.file_name())
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status();
        }
    }
    kill_processes_naming(dir);
    unmount_and_remove(dir);
    remove_cgroups(&cgroup_parent(dir));
}

/// The processes (but this one) whose command line names `dir`.
fn processes_naming(dir: &Path) -> Vec<i32> {
    let own = std::process::id();
    let Ok(entries) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| u32::try_from(*pid).is_ok_and(|pid| pid != own))
        .filter(|pid| command_line_names(*pid, dir))
        .collect()
}

/// SIGKILLs every process whose command line names `dir`, and waits a little for them to go.
fn kill_processes_naming(dir: &Path) {
    let victims = processes_naming(dir);
    for pid in &victims {
        // SAFETY: kill(2) has no memory-safety preconditions; the process names our folder.
        unsafe { libc::kill(*pid, libc::SIGKILL) };
    }
    let deadline = Instant::now() + Duration::from_secs(5);
    while Instant::now() < deadline
        && victims
            .iter()
            .any(|pid| Path::new("/proc").join(pid.to_string()).exists())
    {
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Removes the cgroup `parent` (and any child runc left) from every hierarchy.
fn remove_cgroups(parent: &str) {
    let relative = parent.trim_start_matches('/');
    let mut hierarchies = vec![PathBuf::from(CGROUP_ROOT)];
    if let Ok(entries) = fs::read_dir(CGROUP_ROOT) {
        hierarchies.extend(entries.flatten().map(|entry| entry.path()));
    }
    for hierarchy in hierarchies {
        let group = hierarchy.join(relative);
        if let Ok(children) = fs::read_dir(&group) {
            for child in children.flatten() {
                if child.path().is_dir() {
                    let _ = fs::remove_dir(child.path());
                }
            }
        }
        let _ = fs::remove_dir(&group);
    }
}
