//! The per-container monitor: a process of its own that creates and starts the container with
//! runc, holds its stdout and stderr, writes them to the container's log in Docker's json-file
//! format, and records the exit status on disk. It is detached from the engine (its own session,
//! reparented to init), so a container outlives the engine process and an engine that crashes
//! finds, on restart, either a live monitor or the exit status it left.
//!
//! Protocol: the engine writes a [`MonitorRequest`] as `monitor.json` into the container's state
//! folder (which is also the runc bundle holding `config.json`), then runs the monitor binary
//! with that folder as its only argument ([`launch`]). The monitor forks; the first process
//! exits at once so the engine can reap it; the second becomes a child subreaper (so the
//! container's init, forked by runc, becomes its child), runs `runc create` and `runc start`,
//! and prints one JSON line on its stdout, `{"pid": N}` or `{"error": "…"}`, then closes it.
//! When the container's init exits it deletes the runc container, writes `exit.json`
//! atomically, and exits.
//!
//! An exec runs the same way with `exec_id` set: `runc exec --detach` of the `process.json` in
//! its own state folder, its output in its own log, its exit in its own `exit.json`.
//!
//! Files in the state folder: `monitor.json` (the request), `monitor.pid`, `init.pid` (runc's
//! pid file), `runc.log` (runc's own log), `exit.json` ([`ExitRecord`]).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::attach::{self, Hub};
use crate::detached::{self, Report, report};
use crate::durable;
use crate::error::{Error, Result};
use crate::images::config::go_json_bytes;
use crate::runc::Runc;
use crate::timestamp::Timestamp;

/// The request file's name in the state folder.
const REQUEST_FILE: &str = "monitor.json";
/// The exit record's name in the state folder.
const EXIT_FILE: &str = "exit.json";
/// The monitor's pid file.
const MONITOR_PID_FILE: &str = "monitor.pid";
/// runc's pid file of the container's init.
const INIT_PID_FILE: &str = "init.pid";
/// runc's own log.
const RUNC_LOG_FILE: &str = "runc.log";
/// Docker's json-file driver cuts lines longer than this into several entries.
const LOG_LINE_MAX: usize = 16 * 1024;

/// What a monitor is asked to run.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MonitorRequest {
    /// The container id (runc's too).
    pub id: String,
    /// The runtime binary.
    pub runtime: PathBuf,
    /// The runtime's `--root`.
    pub runtime_root: PathBuf,
    /// The json-file log to append to.
    pub log_path: PathBuf,
    /// Whether the container has a terminal (its spec's `process.terminal`): runc then hands
    /// the monitor the terminal's master through a console socket, and its output is logged
    /// as `stdout`.
    #[serde(default)]
    pub tty: bool,
    /// Whether the container's stdin stays open for attached clients (`OpenStdin`); without
    /// it, stdin is `/dev/null`.
    #[serde(default)]
    pub open_stdin: bool,
    /// Whether stdin closes when the first attached client ends its input (`StdinOnce`).
    #[serde(default)]
    pub stdin_once: bool,
    /// Set for an exec: the exec's id. The monitor then runs `process.json` from its state
    /// folder in the running container `id` (`runc exec --detach`) instead of creating and
    /// starting the container, and never deletes the container.
    #[serde(default)]
    pub exec_id: Option<String>,
    /// How many attach clients connect before the container's output is read: attaches made
    /// before the start (`docker run` attaches, then starts) see its output from the first
    /// byte. Until they come (or [`ATTACH_WAIT`] passes) the output waits in its pipe.
    #[serde(default)]
    pub attaches_before_start: usize,
}

/// How long a monitor holds a container's output for the attaches it expects.
pub const ATTACH_WAIT: Duration = Duration::from_secs(10);

/// How a container ended, as the monitor recorded it.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct ExitRecord {
    /// The exit code: the process's status, or 128 + the signal that killed it.
    pub exit_code: i32,
    /// When the monitor saw it exit.
    pub finished_at: Timestamp,
    /// The pid the container's init had.
    pub pid: i32,
}

/// How to run the monitor: a program and the arguments before the state folder.
#[derive(Clone, Copy, Debug)]
pub struct MonitorCommand<'a> {
    /// The monitor binary (`drydock-monitor`, or a daemon that is its own monitor).
    pub program: &'a Path,
    /// Arguments before the state folder.
    pub args: &'a [std::ffi::OsString],
}

/// A started container, as [`launch`] returns it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Launched {
    /// The container init's pid on the host.
    pub pid: i32,
    /// The monitor's pid.
    pub monitor_pid: i32,
}

/// Starts the container whose bundle (with `config.json`) is `state_dir`, under a monitor run
/// from `monitor`, and returns once it runs. The monitor is not the caller's child when
/// this returns: dropping everything the caller holds leaves the container running.
///
/// # Errors
///
/// [`Error::Monitor`] with runc's message when the container could not be created or started.
pub fn launch(
    monitor: &MonitorCommand<'_>,
    state_dir: &Path,
    request: &MonitorRequest,
) -> Result<Launched> {
    let monitor_error = |message: String| Error::Monitor {
        container: request.id.clone(),
        message,
    };
    let _ = fs::remove_file(state_dir.join(EXIT_FILE));
    durable::write_json_atomically(&state_dir.join(REQUEST_FILE), request)?;
    let mut command = Command::new(monitor.program);
    command.args(monitor.args).arg(state_dir);
    match detached::spawn(command, &state_dir.join("monitor.log"), &[]).map_err(monitor_error)? {
        Report::Pid(pid) => Ok(Launched {
            pid,
            monitor_pid: read_pid(&state_dir.join(MONITOR_PID_FILE)).unwrap_or(0),
        }),
        Report::Error(message) => Err(monitor_error(message)),
    }
}

/// The exit record of a container, or `None` while it runs (or never ran).
pub fn exit_record(state_dir: &Path) -> Result<Option<ExitRecord>> {
    durable::read_json(&state_dir.join(EXIT_FILE))
}

/// Waits until the container's monitor records its exit, polling the state folder.
///
/// # Errors
///
/// [`Error::Monitor`] when `timeout` passes first, or when the monitor died without recording.
pub fn wait_for_exit(state_dir: &Path, id: &str, timeout: Duration) -> Result<ExitRecord> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(record) = exit_record(state_dir)? {
            return Ok(record);
        }
        if !monitor_alive(state_dir) {
            // It may have written the record just before exiting.
            if let Some(record) = exit_record(state_dir)? {
                return Ok(record);
            }
            return Err(Error::Monitor {
                container: id.to_owned(),
                message: "the monitor died without recording the exit status".to_owned(),
            });
        }
        if Instant::now() >= deadline {
            return Err(Error::Monitor {
                container: id.to_owned(),
                message: format!("still running after {timeout:?}"),
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Whether the monitor of the container in `state_dir` runs: its pid file names a live process
/// whose command line names the state folder (so a recycled pid does not count).
pub fn monitor_alive(state_dir: &Path) -> bool {
    let Some(pid) = read_pid(&state_dir.join(MONITOR_PID_FILE)) else {
        return false;
    };
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let stat = fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // A zombie has exited.
    let zombie = stat
        .rsplit_once(')')
        .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
    let wanted = state_dir.as_os_str().as_encoded_bytes();
    !zombie && cmdline.windows(wanted.len()).any(|window| window == wanted)
}

/// The pid of the live monitor of the container in `state_dir` (see [`monitor_alive`]), to
/// wait on its exit (it exits right after recording the container's).
pub fn monitor_pid(state_dir: &Path) -> Option<i32> {
    if monitor_alive(state_dir) {
        read_pid(&state_dir.join(MONITOR_PID_FILE))
    } else {
        None
    }
}

/// The pid of the container's init, from runc's pid file.
pub fn init_pid(state_dir: &Path) -> Option<i32> {
    read_pid(&state_dir.join(INIT_PID_FILE))
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The monitor's entry point: what the monitor binary runs with the state folder from its
/// command line. Returns the process's exit code.
pub fn run(state_dir: &Path) -> i32 {
    // Fork before any thread exists: the first process exits so the engine reaps it, and the
    // monitor proper is reparented away from the engine.
    if let Some(code) = detached::fork_away() {
        return code;
    }
    match supervise(state_dir) {
        Ok(()) => 0,
        Err(e) => {
            report(&Report::Error(e.to_string()));
            eprintln!("monitor of {}: {e}", state_dir.display());
            1
        }
    }
}

/// A pipe whose both ends close on exec (the child gets its end through `Stdio`).
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` is a valid array of two ints for pipe2 to fill.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 returned two fresh descriptors that nothing else owns.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Creates and starts the container, reports, copies its output to the log, waits for its
/// exit, and records it.
fn supervise(state_dir: &Path) -> Result<()> {
    let request: MonitorRequest =
        durable::read_json(&state_dir.join(REQUEST_FILE))?.ok_or_else(|| {
            Error::io(
                "read",
                &state_dir.join(REQUEST_FILE),
                io::ErrorKind::NotFound.into(),
            )
        })?;
    // SAFETY: prctl with PR_SET_CHILD_SUBREAPER takes an integer argument only.
    if unsafe { libc::prctl(libc::PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) } != 0 {
        return Err(Error::io(
            "become subreaper in",
            state_dir,
            io::Error::last_os_error(),
        ));
    }
    durable::write_atomically(
        &state_dir.join(MONITOR_PID_FILE),
        std::process::id().to_string().as_bytes(),
    )?;
    let runc = Runc::new(&request.runtime, &request.runtime_root);
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .open(&request.log_path)
        .map_err(|e| Error::io("open", &request.log_path, e))?;
    let log = Arc::new(Mutex::new(log));
    let runc_log = state_dir.join(RUNC_LOG_FILE);
    let init_pid_file = state_dir.join(INIT_PID_FILE);
    let _ = fs::remove_file(&init_pid_file);
    let is_exec = request.exec_id.is_some();
    let attach_name = request.exec_id.as_deref().unwrap_or(&request.id).to_owned();
    let step: &'static str = if is_exec { "exec" } else { "create" };
    let mut command = Command::new(runc.binary());
    command
        .arg("--root")
        .arg(runc.root())
        .arg("--log")
        .arg(&runc_log)
        .arg("--log-format")
        .arg("json");
    if is_exec {
        command
            .arg("exec")
            .arg("--detach")
            .arg("--process")
            .arg(state_dir.join("process.json"));
    } else {
        command.arg("create").arg("--bundle").arg(state_dir);
    }
    command
        .arg("--pid-file")
        .arg(&init_pid_file)
        .stdin(Stdio::null());
    // Undoes a failed start: an exec leaves the container alone.
    let undo = |runc: &Runc| {
        if !is_exec {
            let _ = runc.delete(&request.id, true);
        }
    };
    let hub = Arc::new(Hub::new(request.tty, request.attaches_before_start));
    let created = if request.tty {
        create_with_terminal(command, &request.id, &log, &hub)
    } else {
        create_with_pipes(command, &request, &log, &hub)
    };
    let (created, readers, console, stdin) =
        created.map_err(|e| runtime_error(&runc, &request.id, step, format!("cannot run: {e}")))?;
    if !created.success() {
        let message = runc_log_error(&runc_log).unwrap_or_else(|| format!("exited with {created}"));
        hub.close_all();
        for reader in readers {
            let _ = reader.join();
        }
        undo(&runc);
        return Err(runtime_error(&runc, &request.id, step, message));
    }
    let pid = read_pid(&init_pid_file)
        .ok_or_else(|| runtime_error(&runc, &request.id, step, "wrote no pid file".to_owned()))?;
    let stdin: attach::Stdin = Arc::new(Mutex::new(stdin));
    if let Err(e) = attach::serve(&attach_name, Arc::clone(&hub), stdin, request.stdin_once) {
        if is_exec {
            // SAFETY: kill(2) has no memory-safety preconditions; `pid` is our child.
            unsafe { libc::kill(pid, libc::SIGKILL) };
        }
        undo(&runc);
        reap(pid);
        return Err(Error::Monitor {
            container: request.id.clone(),
            message: format!("cannot listen for attach: {e}"),
        });
    }
    let master = console.as_ref().and_then(|master| master.try_clone().ok());
    if let Err(e) = attach::serve_control(&attach_name, master) {
        eprintln!("monitor of {attach_name}: cannot listen for resizes: {e}");
    }
    if !is_exec && let Err(e) = runc.start(&request.id) {
        undo(&runc);
        reap(pid);
        // Nobody is to wait for the output of a process that never ran.
        hub.close_all();
        for reader in readers {
            let _ = reader.join();
        }
        return Err(e);
    }
    report(&Report::Pid(pid));
    let exit_code = reap(pid);
    for reader in readers {
        let _ = reader.join();
    }
    hub.close_all();
    let record = ExitRecord {
        exit_code,
        finished_at: Timestamp::now(),
        pid,
    };
    // The log is complete before the exit is recorded; a failed fsync loses nothing yet.
    let _ = log
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .sync_all();
    // runc's container goes before the exit is recorded, so that a recorded exit means runc
    // holds nothing of the container any more; a failed delete is logged, and removal retries.
    if !is_exec && let Err(e) = runc.delete(&request.id, true) {
        eprintln!("monitor of {}: {e}", request.id);
    }
    durable::write_json_atomically(&state_dir.join(EXIT_FILE), &record)
}

fn runtime_error(runc: &Runc, id: &str, command: &'static str, message: String) -> Error {
    Error::Runtime {
        runtime: runc.binary().display().to_string(),
        command,
        container: id.to_owned(),
        message,
    }
}

/// What `runc create` left: its exit status, the threads copying the container's output to
/// the log, and the terminal's master when it has one (held open for the container's life).
type Created = (
    std::process::ExitStatus,
    Vec<std::thread::JoinHandle<()>>,
    Option<OwnedFd>,
    Option<File>,
);

/// Runs `runc create <id>` with the container's stdout and stderr on pipes whose read ends
/// are copied to the log.
fn create_with_pipes(
    mut command: Command,
    request: &MonitorRequest,
    log: &Arc<Mutex<File>>,
    hub: &Arc<Hub>,
) -> io::Result<Created> {
    let (stdout_read, stdout_write) = pipe()?;
    let (stderr_read, stderr_write) = pipe()?;
    let readers = vec![
        copy_output(
            stdout_read,
            attach::STDOUT,
            Arc::clone(log),
            Arc::clone(hub),
        ),
        copy_output(
            stderr_read,
            attach::STDERR,
            Arc::clone(log),
            Arc::clone(hub),
        ),
    ];
    let stdin = if request.open_stdin {
        let (stdin_read, stdin_write) = pipe()?;
        command.stdin(Stdio::from(stdin_read));
        Some(File::from(stdin_write))
    } else {
        command.stdin(Stdio::null());
        None
    };
    let status = command
        .arg(&request.id)
        .stdout(Stdio::from(stdout_write))
        .stderr(Stdio::from(stderr_write))
        .status();
    // `command`, and with it the monitor's copies of the write ends, is gone once this
    // returns, so the readers see the end of the output when the container's processes are.
    drop(command);
    Ok((status?, readers, None, stdin))
}

/// Runs `runc create --console-socket … <id>`: runc sends the master of the container's
/// terminal over an abstract unix socket; its output is copied to the log as `stdout`.
fn create_with_terminal(
    mut command: Command,
    id: &str,
    log: &Arc<Mutex<File>>,
    hub: &Arc<Hub>,
) -> io::Result<Created> {
    use std::os::linux::net::SocketAddrExt;
    use std::os::unix::net::{SocketAddr, UnixListener};

    let name = format!(
        "drydock-console-{}-{}",
        std::process::id(),
        id.get(..12).unwrap_or(id)
    );
    let listener = UnixListener::bind_addr(&SocketAddr::from_abstract_name(name.as_bytes())?)?;
    listener.set_nonblocking(true)?;
    let mut child = command
        .arg("--console-socket")
        .arg(format!("@{name}"))
        .arg(id)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let stream = loop {
        match listener.accept() {
            Ok((stream, _)) => break Some(stream),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                if child.try_wait()?.is_some() {
                    // runc ended without sending a terminal: it failed, and says why in its log.
                    break None;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        }
    };
    let master = match stream {
        Some(stream) => {
            stream.set_nonblocking(false)?;
            match receive_fd(&stream) {
                Ok(master) => Some(master),
                Err(e) => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(e);
                }
            }
        }
        None => None,
    };
    let status = child.wait()?;
    let mut readers = Vec::new();
    let mut stdin = None;
    if let Some(master) = &master {
        readers.push(copy_output(
            master.try_clone()?,
            attach::STDOUT,
            Arc::clone(log),
            Arc::clone(hub),
        ));
        stdin = Some(File::from(master.try_clone()?));
    }
    Ok((status, readers, master, stdin))
}

/// Receives one file descriptor sent with `SCM_RIGHTS` over `stream`.
fn receive_fd(stream: &std::os::unix::net::UnixStream) -> io::Result<OwnedFd> {
    use std::os::fd::AsRawFd;

    let mut data = [0_u8; 4096];
    let mut iov = libc::iovec {
        iov_base: data.as_mut_ptr().cast(),
        iov_len: data.len(),
    };
    // u64s keep the control buffer aligned for cmsghdr.
    let mut control = [0_u64; 8];
    // SAFETY: CMSG_SPACE only computes a size.
    let space = unsafe { libc::CMSG_SPACE(std::mem::size_of::<libc::c_int>() as u32) } as usize;
    // SAFETY: an all-zero msghdr is a valid empty header.
    let mut message: libc::msghdr = unsafe { std::mem::zeroed() };
    message.msg_iov = &mut iov;
    message.msg_iovlen = 1;
    message.msg_control = control.as_mut_ptr().cast();
    message.msg_controllen = space.min(std::mem::size_of_val(&control));
    // SAFETY: `message` points at live buffers of the sizes it states.
    let received =
        unsafe { libc::recvmsg(stream.as_raw_fd(), &mut message, libc::MSG_CMSG_CLOEXEC) };
    if received < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `message` was filled by recvmsg; CMSG_FIRSTHDR reads within its control buffer.
    let header = unsafe { libc::CMSG_FIRSTHDR(&message) };
    // SAFETY: a non-null header points into `control`, which is alive and aligned.
    let rights = !header.is_null()
        && unsafe {
            (*header).cmsg_level == libc::SOL_SOCKET && (*header).cmsg_type == libc::SCM_RIGHTS
        };
    if !rights {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "the console socket sent no file descriptor",
        ));
    }
    // SAFETY: an SCM_RIGHTS header carries at least one int after it, inside `control`.
    let fd = unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(header).cast::<libc::c_int>()) };
    // SAFETY: the kernel installed `fd` in this process for us alone.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// The last error message in runc's json log.
fn runc_log_error(path: &Path) -> Option<String> {
    let text = fs::read_to_string(path).ok()?;
    text.lines()
        .rev()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|entry| entry["level"] == "error")
        .find_map(|entry| entry["msg"].as_str().map(str::to_owned))
}

/// Reaps children (the monitor is their subreaper) until `pid` exits; returns its exit code
/// as Docker reports it (128 + signal when a signal killed it).
fn reap(pid: i32) -> i32 {
    loop {
        let mut status = 0;
        // SAFETY: `status` is a valid int for waitpid to fill.
        let reaped = unsafe { libc::waitpid(-1, &mut status, 0) };
        if reaped < 0 {
            let error = io::Error::last_os_error();
            if error.raw_os_error() == Some(libc::EINTR) {
                continue;
            }
            // No child left: the init is gone without being seen (it cannot be ours).
            return 255;
        }
        if reaped != pid {
            continue;
        }
        if libc::WIFEXITED(status) {
            return libc::WEXITSTATUS(status);
        }
        if libc::WIFSIGNALED(status) {
            return 128 + libc::WTERMSIG(status);
        }
    }
}

/// One line of Docker's json-file log.
#[derive(Serialize)]
struct LogEntry<'a> {
    log: &'a str,
    stream: &'a str,
    time: String,
}

/// Copies one output stream of the container to attached clients as it comes and into the
/// json-file log one entry per line (a line longer than Docker's 16 KiB buffer makes several
/// entries, the last ending in `\n`; a last line without one is logged at the end).
fn copy_output(
    read_end: OwnedFd,
    stream: u8,
    log: Arc<Mutex<File>>,
    hub: Arc<Hub>,
) -> std::thread::JoinHandle<()> {
    let name = if stream == attach::STDERR {
        "stderr"
    } else {
        "stdout"
    };
    std::thread::spawn(move || {
        let mut source = File::from(read_end);
        hub.wait_for_expected(ATTACH_WAIT);
        let mut buffer = vec![0_u8; 32 * 1024];
        let mut pending: Vec<u8> = Vec::new();
        loop {
            let count = match source.read(&mut buffer) {
                Ok(0) => break,
                Ok(count) => count,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                // A terminal's master reads EIO once the container's side is closed.
                Err(_) => break,
            };
            hub.broadcast(stream, &buffer[..count]);
            pending.extend_from_slice(&buffer[..count]);
            while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = pending.drain(..=end).collect();
                write_entry(&log, name, &String::from_utf8_lossy(&line));
            }
            while pending.len() >= LOG_LINE_MAX {
                let part: Vec<u8> = pending.drain(..LOG_LINE_MAX).collect();
                write_entry(&log, name, &String::from_utf8_lossy(&part));
            }
        }
        if !pending.is_empty() {
            write_entry(&log, name, &String::from_utf8_lossy(&pending));
        }
    })
}

fn write_entry(log: &Mutex<File>, stream: &str, line: &str) {
    if line.is_empty() {
        return;
    }
    let entry = LogEntry {
        log: line,
        stream,
        time: Timestamp::now().to_string(),
    };
    let Ok(value) = serde_json::to_value(&entry) else {
        return;
    };
    let mut bytes = go_json_bytes(&value);
    bytes.push(b'\n');
    let mut file = log.lock().unwrap_or_else(PoisonError::into_inner);
    let _ = file.write_all(&bytes);
}

/// The folder where the engine keeps a container's state, given its exec root.
pub fn state_dir(exec_root: &Path, id: &str) -> PathBuf {
    exec_root.join("containers").join(id)
}
