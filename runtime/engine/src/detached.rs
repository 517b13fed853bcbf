//! Processes that outlive the engine: the container monitors ([`crate::monitor`]) and the
//! port proxies ([`crate::network::proxy`]). Each is run in a session of its own and forks
//! once before any thread exists: the first process exits at once, so the engine reaps it and
//! the second is reparented away from the engine. The second prints one JSON line on its
//! stdout, `{"pid": N}` or `{"error": "…"}`, and closes it; the engine reads to its end.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};

/// What a detached process reports once it has started its work (or failed to).
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Report {
    /// It runs; the pid it reports (the container's init for a monitor, its own for a proxy).
    Pid(i32),
    /// It failed, and why.
    Error(String),
}

/// Runs `command` in a new session with its stderr in `log`, the descriptors `inherited` left
/// open in it, and returns its report once the first process has exited.
///
/// # Errors
///
/// What went wrong, for the caller to wrap: the program could not run, its report could not
/// be read or did not parse (with what its log says then).
pub(crate) fn spawn(
    mut command: Command,
    log: &Path,
    inherited: &[RawFd],
) -> Result<Report, String> {
    let stderr = File::create(log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let inherited = inherited.to_vec();
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(stderr);
    // SAFETY: between fork and exec only async-signal-safe calls (setsid, fcntl) are made, on
    // descriptors this process owns; clearing FD_CLOEXEC lets the child inherit them.
    unsafe {
        command.pre_exec(move || {
            if libc::setsid() < 0 {
                return Err(io::Error::last_os_error());
            }
            for &fd in &inherited {
                if libc::fcntl(fd, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            }
            Ok(())
        });
    }
    let mut child = command
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", command.get_program().display()))?;
    let mut report = String::new();
    let read = child
        .stdout
        .take()
        .map(|mut stdout| stdout.read_to_string(&mut report));
    // The first process exits right after forking the detached one.
    let _ = child.wait();
    if let Some(Err(e)) = read {
        return Err(format!("cannot read its report: {e}"));
    }
    serde_json::from_str(report.trim()).map_err(|_| {
        let log = fs::read_to_string(log).unwrap_or_default();
        format!("reported {:?}; its log: {}", report.trim(), log.trim())
    })
}

/// Forks the detached process away from the one the engine started: `Some(exit code)` in the
/// first process, which is to exit with it at once (it has reported a failed fork), `None` in
/// the detached one. To be called before any thread exists.
pub(crate) fn fork_away() -> Option<i32> {
    // SAFETY: the process is single-threaded here; the child only continues normal execution.
    match unsafe { libc::fork() } {
        -1 => {
            report(&Report::Error(format!(
                "fork: {}",
                io::Error::last_os_error()
            )));
            Some(1)
        }
        0 => None,
        _ => Some(0),
    }
}

/// Prints the report line on stdout and closes stdout (the engine reads to its end).
pub(crate) fn report(report: &Report) {
    let line = serde_json::to_string(report).unwrap_or_else(|_| "{}".to_owned());
    let mut stdout = io::stdout();
    let _ = writeln!(stdout, "{line}");
    let _ = stdout.flush();
    if let Ok(null) = File::open("/dev/null") {
        // SAFETY: both descriptors are open; dup2 replaces fd 1 with /dev/null.
        unsafe { libc::dup2(null.as_raw_fd(), 1) };
    }
}
