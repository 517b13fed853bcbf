//! A private Docker daemon for live tests: Debian's `dockerd` 20.10 (API 1.41) in a folder of
//! its own, reached through a unix socket in that folder.
//!
//! [`Dockerd::start`] starts a daemon that the returned value owns and stops on drop.
//! [`Dockerd::shared`] starts one daemon per process (per test binary under `cargo test`, per
//! test under nextest, which runs each test in a process of its own) and hands every caller the
//! same one. Statics are never dropped, so the shared daemon is stopped by a handler registered
//! with `atexit(3)`, which runs when the test harness returns from `main` or calls
//! `process::exit`, whether the tests passed or not. A test process killed outright cannot run
//! it; the daemon then gets the same signal when the killer signals the process group (as nextest
//! does on a timeout), and the next [`Dockerd::start`] on the machine removes what such a run left
//! behind.
//!
//! Daemons of different processes never clash: each has its own folder `/tmp/dd-<pid>-<n>` for
//! its socket, data root, exec root (where its own containerd runs), pid file, key and config,
//! and runs with `--iptables=false` and either `--bridge=none` ([`Dockerd::start`]) or a bridge
//! the caller made ([`Dockerd::start_on_bridge`]) so that it touches no shared network state.
//! The folder is short because a unix socket's path must fit in 108 bytes.
//!
//! Every function here panics with what went wrong, including the daemon's log when it does not
//! come up: it is meant for tests, where a panic is the failure report.

use std::collections::BTreeSet;
use std::ffi::{CString, OsStr};
use std::fs;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::{Duration, Instant};

/// Debian's Docker daemon (package `docker.io`).
const DOCKERD: &str = "/usr/sbin/dockerd";
/// Debian's docker CLI of the same release (package `docker.io`), rather than whatever `docker`
/// comes first on `PATH`.
const DOCKER_CLI: &str = "/usr/bin/docker";
/// Debian's statically linked busybox (package `busybox-static`).
/// The `PATH` dockerd runs with, so that it finds Debian's containerd and runc.
const DAEMON_PATH: &str = "/usr/sbin:/usr/bin:/sbin:/bin";
/// Where the daemons' folders are made.
const FOLDER_PARENT: &str = "/tmp";
/// The start of every daemon folder's name, followed by `<pid>-<n>`.
const FOLDER_PREFIX: &str = "dd-";
/// How long a daemon may take to answer `/_ping` after it was started.
const START_TIMEOUT: Duration = Duration::from_secs(90);
/// How long a daemon may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(30);
/// Environment variables of the docker CLI that would point it elsewhere than at this daemon.
const CLI_ENV_CLEARED: &[&str] = &[
    "DOCKER_HOST",
    "DOCKER_CONTEXT",
    "DOCKER_API_VERSION",
    "DOCKER_TLS_VERIFY",
    "DOCKER_CERT_PATH",
];

/// A running Docker daemon in a private folder; stopped, unmounted and removed on drop.
pub struct Dockerd {
    dir: PathBuf,
    child: Mutex<Option<Child>>,
    imported: Mutex<BTreeSet<String>>,
}

/// The daemon of [`Dockerd::shared`].
static SHARED: OnceLock<Dockerd> = OnceLock::new();

impl Dockerd {
    /// Starts a daemon and waits until it answers `/_ping`.
    ///
    /// # Panics
    ///
    /// When `dockerd` is missing (install Debian's `docker.io`: `cargo xtask test` does) or does
    /// not answer within 90 seconds; the panic message holds the daemon's log.
    pub fn start() -> Dockerd {
        Dockerd::launch(&["--iptables=false", "--bridge=none"])
    }

    /// Starts a daemon whose default `bridge` network is the existing Linux bridge `bridge`
    /// (with the address and subnet it has), without touching iptables or IP forwarding, and
    /// waits until it answers `/_ping`.
    ///
    /// # Panics
    ///
    /// As [`Dockerd::start`], and when the bridge does not exist.
    pub fn start_on_bridge(bridge: &str) -> Dockerd {
        Dockerd::launch(&[
            "--iptables=false",
            "--ip-forward=false",
            &format!("--bridge={bridge}"),
        ])
    }

    /// Starts a daemon with the network arguments `network` and waits until it answers.
    fn launch(network: &[&str]) -> Dockerd {
        for dir in orphaned_folders(FOLDER_PREFIX) {
            kill_if_running_in(&dir, "pid");
            remove_folder(&dir);
        }
        let dir = make_private_folder(FOLDER_PREFIX);
        for sub in ["root", "exec", "config"] {
            fs::create_dir(dir.join(sub))
                .unwrap_or_else(|e| panic!("cannot create {}/{sub}: {e}", dir.display()));
        }
        // A config file of its own, so /etc/docker/daemon.json cannot change the daemon, which
        // puts its identity key in the folder too (rather than /etc/docker/key.json).
        let config = format!(
            "{{\"deprecated-key-path\": \"{}\"}}\n",
            dir.join("key.json").display()
        );
        fs::write(dir.join("daemon.json"), config)
            .unwrap_or_else(|e| panic!("cannot write {}/daemon.json: {e}", dir.display()));
        let log = fs::File::create(dir.join("dockerd.log"))
            .unwrap_or_else(|e| panic!("cannot create {}/dockerd.log: {e}", dir.display()));
        let log_too = log
            .try_clone()
            .unwrap_or_else(|e| panic!("cannot share dockerd.log: {e}"));
        let child = Command::new(DOCKERD)
            .arg("-H")
            .arg(unix_url(&dir.join("docker.sock")))
            .arg("--data-root")
            .arg(dir.join("root"))
            .arg("--exec-root")
            .arg(dir.join("exec"))
            .arg("--pidfile")
            .arg(dir.join("pid"))
            .arg("--config-file")
            .arg(dir.join("daemon.json"))
            .args(network)
            .env("PATH", DAEMON_PATH)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_too)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start {DOCKERD}: {e} (it comes with Debian's docker.io, which \
                     `cargo xtask test` installs)"
                )
            });
        let daemon = Dockerd {
            dir,
            child: Mutex::new(Some(child)),
            imported: Mutex::new(BTreeSet::new()),
        };
        // A panic here drops `daemon`, which stops it and removes its folder.
        daemon.wait_until_answering();
        daemon
    }

    /// The daemon shared by every caller in this process, started by the first call and stopped
    /// when the process exits.
    ///
    /// # Panics
    ///
    /// As [`Dockerd::start`].
    pub fn shared() -> &'static Dockerd {
        SHARED.get_or_init(|| {
            let daemon = Dockerd::start();
            // SAFETY: `stop_shared_at_exit` is a plain function with no arguments that never
            // unwinds; registering it has no other precondition.
            let registered = unsafe { libc::atexit(stop_shared_at_exit) };
            assert_eq!(registered, 0, "atexit could not register the daemon's stop");
            daemon
        })
    }

    /// The daemon's private folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The daemon's unix socket.
    pub fn socket(&self) -> PathBuf {
        self.dir.join("docker.sock")
    }

    /// The `-H` address of the daemon: `unix://` and the socket's path.
    pub fn host(&self) -> String {
        unix_url(&self.socket())
    }

    /// A docker CLI command aimed at this daemon, with a config folder of its own and none of
    /// the `DOCKER_*` variables that would aim it elsewhere or pin its API version; add
    /// arguments (and `DOCKER_API_VERSION`, to pin one) before running it.
    pub fn docker_command(&self) -> Command {
        cli_command(
            Path::new(DOCKER_CLI),
            &self.host(),
            &self.dir.join("config"),
        )
    }

    /// Runs the docker CLI with `args` against this daemon and returns what it printed and its
    /// exit status.
    ///
    /// # Panics
    ///
    /// When the CLI cannot be started.
    pub fn docker<I, S>(&self, args: I) -> Output
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.docker_command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap_or_else(|e| panic!("cannot run {DOCKER_CLI}: {e}"))
    }

    /// Runs the docker CLI with `args` against this daemon and returns its standard output.
    ///
    /// # Panics
    ///
    /// When the command fails; the message holds its arguments and standard error.
    pub fn docker_stdout<I, S>(&self, args: I) -> String
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let args: Vec<S> = args.into_iter().collect();
        let output = self.docker(&args);
        let shown: Vec<_> = args
            .iter()
            .map(|arg| arg.as_ref().to_string_lossy())
            .collect();
        assert!(
            output.status.success(),
            "`docker {}` failed with {}: {}",
            shown.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout)
            .unwrap_or_else(|e| panic!("`docker {}` printed non-UTF-8: {e}", shown.join(" ")))
    }

    /// Imports a busybox image built from this machine's `/bin/busybox` (see [`busybox_rootfs`])
    /// under `tag`, e.g. `busybox:latest`; once per tag and daemon, however often it is called.
    ///
    /// # Panics
    ///
    /// When busybox is missing or `docker import` fails.
    pub fn import_busybox(&self, tag: &str) {
        let mut imported = self.imported.lock().unwrap_or_else(PoisonError::into_inner);
        if imported.contains(tag) {
            return;
        }
        let mut command = self.docker_command();
        command.args(["import", "-", tag]);
        run_with_input(command, busybox_rootfs(), &format!("docker import - {tag}"));
        imported.insert(tag.to_owned());
    }

    /// Polls `/_ping` until the daemon answers, panicking with its log when it exits or the
    /// time runs out.
    fn wait_until_answering(&self) {
        wait_until_answering(
            "dockerd",
            &self.socket(),
            &self.child,
            START_TIMEOUT,
            || self.log(),
        );
    }

    /// The daemon's log so far.
    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("dockerd.log"))
            .unwrap_or_else(|e| format!("(cannot read dockerd.log: {e})"))
    }

    /// Stops the daemon (SIGTERM, then SIGKILL when it has not exited in time), unmounts what is
    /// left mounted in its folder and removes the folder. Does nothing the second time.
    fn stop(&self) {
        let child = self
            .child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut child) = child else {
            return;
        };
        terminate(&mut child, "dockerd");
        remove_folder(&self.dir);
    }
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Stops the shared daemon; registered with `atexit`.
extern "C" fn stop_shared_at_exit() {
    // Nothing may unwind out of an `extern "C"` function.
    let _ = std::panic::catch_unwind(|| {
        if let Some(daemon) = SHARED.get() {
            daemon.stop();
        }
    });
}

/// A docker CLI command (`program`) aimed at the daemon at `host`, with the config folder
/// `config` and none of the `DOCKER_*` variables that would aim it elsewhere or pin its API
/// version.
pub fn cli_command(program: &Path, host: &str, config: &Path) -> Command {
    let mut command = Command::new(program);
    command.arg("-H").arg(host).env("DOCKER_CONFIG", config);
    for name in CLI_ENV_CLEARED {
        command.env_remove(name);
    }
    command
}

/// Runs `command` with `input` on its standard input and returns its output.
///
/// # Panics
///
/// When it cannot be run or fails; the message names it as `what` and holds its standard
/// error.
pub(crate) fn run_with_input(mut command: Command, input: Vec<u8>, what: &str) -> Output {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run `{what}`: {e}"));
    let mut stdin = child.stdin.take().expect("stdin was piped");
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("cannot wait for `{what}`: {e}"));
    let written = writer.join().expect("the input writer does not panic");
    assert!(
        output.status.success(),
        "`{what}` failed with {}: {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    written.unwrap_or_else(|e| panic!("cannot send the input of `{what}`: {e}"));
    output
}

/// Polls `GET /_ping` on `socket` until the daemon `name` answers, panicking with its log when
/// its process (`child`) exits first or `timeout` passes.
pub(crate) fn wait_until_answering(
    name: &str,
    socket: &Path,
    child: &Mutex<Option<Child>>,
    timeout: Duration,
    log: impl Fn() -> String,
) {
    let started = Instant::now();
    let mut attempts = 0_u32;
    loop {
        attempts += 1;
        if ping(socket) {
            return;
        }
        let exited = child
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_mut()
            .and_then(|child| child.try_wait().ok().flatten());
        if let Some(status) = exited {
            panic!(
                "{name} exited with {status} before answering /_ping; its log:\n{}",
                log()
            );
        }
        if started.elapsed() > timeout {
            panic!(
                "{name} did not answer /_ping on {} after {attempts} attempts in {timeout:?}; \
                 its log:\n{}",
                socket.display(),
                log()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `unix://` followed by `socket`'s path.
pub(crate) fn unix_url(socket: &Path) -> String {
    format!("unix://{}", socket.display())
}

/// Whether the daemon at `socket` answers `GET /_ping` with `200 OK`.
fn ping(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return false;
    };
    let timeout = Some(Duration::from_secs(5));
    if stream.set_read_timeout(timeout).is_err() || stream.set_write_timeout(timeout).is_err() {
        return false;
    }
    if stream
        .write_all(b"GET /_ping HTTP/1.0\r\nHost: docker\r\n\r\n")
        .is_err()
    {
        return false;
    }
    let mut response = String::new();
    if stream.read_to_string(&mut response).is_err() {
        return false;
    }
    let status_ok = response
        .lines()
        .next()
        .is_some_and(|status| status.starts_with("HTTP/1.") && status.contains(" 200 "));
    status_ok && response.ends_with("OK")
}

/// Makes a new folder `/tmp/<prefix><pid>-<n>` with the lowest free `n`.
pub(crate) fn make_private_folder(prefix: &str) -> PathBuf {
    let pid = std::process::id();
    for n in 0..1000 {
        let dir = Path::new(FOLDER_PARENT).join(format!("{prefix}{pid}-{n}"));
        match fs::create_dir(&dir) {
            Ok(()) => return dir,
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => panic!("cannot create {}: {e}", dir.display()),
        }
    }
    panic!("no free folder {FOLDER_PARENT}/{prefix}{pid}-<n> for n < 1000");
}

/// The folders `/tmp/<prefix><pid>-<n>` whose process is gone: it was killed before it could
/// stop its daemon, so what the daemon left there is to be cleaned up.
pub(crate) fn orphaned_folders(prefix: &str) -> Vec<PathBuf> {
    let Ok(entries) = fs::read_dir(FOLDER_PARENT) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|entry| {
            let name = entry.file_name();
            name.to_str()
                .and_then(|name| name.strip_prefix(prefix))
                .and_then(|rest| rest.split_once('-'))
                .and_then(|(pid, _)| pid.parse::<i32>().ok())
                .is_some_and(|owner| !is_alive(owner))
        })
        .map(|entry| entry.path())
        .collect()
}

/// Whether a process with this id exists.
fn is_alive(pid: i32) -> bool {
    Path::new("/proc").join(pid.to_string()).exists()
}

/// SIGKILLs the process whose id is in `dir`'s pid file `pidfile`, if it runs and its command
/// line names `dir` (so a process that got the id of a dead one is left alone).
fn kill_if_running_in(dir: &Path, pidfile: &str) {
    let Some(pid) = read_pid(&dir.join(pidfile)) else {
        return;
    };
    if command_line_names(pid, dir) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
}

/// Whether the command line of process `pid` holds `dir`'s path.
pub(crate) fn command_line_names(pid: i32, dir: &Path) -> bool {
    let Ok(cmdline) = fs::read(Path::new("/proc").join(pid.to_string()).join("cmdline")) else {
        return false;
    };
    let dir = dir.as_os_str().as_bytes();
    cmdline.windows(dir.len()).any(|window| window == dir)
}

/// The process id in a pid file.
fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// Sends SIGTERM to the daemon `name`, waits up to [`STOP_TIMEOUT`] for it to exit, then
/// SIGKILLs it.
pub(crate) fn terminate(child: &mut Child, name: &str) {
    let Ok(pid) = i32::try_from(child.id()) else {
        return;
    };
    // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our own unreaped child.
    unsafe { libc::kill(pid, libc::SIGTERM) };
    let deadline = Instant::now() + STOP_TIMEOUT;
    while Instant::now() < deadline {
        match child.try_wait() {
            Ok(Some(_)) | Err(_) => return,
            Ok(None) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
    eprintln!("{name} {pid} did not stop within {STOP_TIMEOUT:?} of SIGTERM: killing it");
    // The containerd it started survives this; `remove_folder` kills it.
    let _ = child.kill();
    let _ = child.wait();
}

/// Kills the containerd a daemon in `dir` started if it still runs, unmounts everything mounted
/// under `dir` (deepest first, lazily) and removes it.
fn remove_folder(dir: &Path) {
    kill_if_running_in(dir, "exec/containerd/containerd.pid");
    unmount_and_remove(dir);
}

/// Unmounts everything mounted under `dir` (deepest first, lazily) and removes it.
pub(crate) fn unmount_and_remove(dir: &Path) {
    let mut mounts = mount_points_under(dir);
    mounts.sort_by_key(|mount| std::cmp::Reverse(mount.as_os_str().len()));
    for mount in mounts {
        let Ok(path) = CString::new(mount.as_os_str().as_bytes()) else {
            continue;
        };
        // SAFETY: `path` is a NUL-terminated string that outlives the call.
        let result = unsafe { libc::umount2(path.as_ptr(), libc::MNT_DETACH) };
        if result != 0 {
            eprintln!(
                "cannot unmount {}: {}",
                mount.display(),
                std::io::Error::last_os_error()
            );
        }
    }
    if let Err(e) = fs::remove_dir_all(dir) {
        eprintln!("cannot remove {}: {e}", dir.display());
    }
}

/// The mount points at or under `dir`, from `/proc/self/mountinfo`.
pub(crate) fn mount_points_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(table) = fs::read_to_string("/proc/self/mountinfo") else {
        return Vec::new();
    };
    table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mount_field(field)))
        .filter(|mount| mount.starts_with(dir))
        .collect()
}

/// Undoes the octal escapes (`\040` for a space) of a `/proc/self/mountinfo` field.
fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes.get(i + 1..i + 4).and_then(|digits| {
            let text = std::str::from_utf8(digits).ok()?;
            u8::from_str_radix(text, 8).ok()
        });
        match (bytes[i], escaped) {
            (b'\\', Some(byte)) => {
                out.push(byte);
                i += 4;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

// The busybox rootfs tarball, one file shared with the engine's and drydockd's tests.
#[path = "../../runtime/engine/tests/support/rootfs_tar.rs"]
mod rootfs_tar;
pub use rootfs_tar::{busybox_rootfs, busybox_rootfs_with};

#[cfg(test)]
mod tests {
    use super::unescape_mount_field;

    #[test]
    fn mountinfo_octal_escapes_become_their_bytes() {
        assert_eq!(
            unescape_mount_field(r"/tmp/dd-1-0/with\040space\011tab"),
            "/tmp/dd-1-0/with space\ttab"
        );
    }

    #[test]
    fn mountinfo_backslash_without_octal_stays() {
        assert_eq!(unescape_mount_field(r"/a\b\12"), r"/a\b\12");
    }
}
