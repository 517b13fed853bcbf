//! Network namespaces held by a file: a new namespace is bind-mounted from
//! `/proc/thread-self/ns/net` onto a file (as `ip netns add` does under `/run/netns`), so it
//! lives on with no process in it, across restarts of the engine, until the file is unmounted.
//! runc joins it by that path ([`crate::oci::NetworkNamespace::Path`]).

use std::ffi::CString;
use std::fs::{self, File};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result};
use crate::rootfs;

/// Creates a new network namespace, with only a loopback interface (down), held by a bind
/// mount at `path`. The folder must exist; the file must not.
///
/// # Errors
///
/// [`Error::Io`] or [`Error::Mount`] when the file, the namespace or the mount cannot be made;
/// nothing is left at `path` then.
pub fn create(path: &Path) -> Result<()> {
    let target = c_path(path)?;
    File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Error::io("create", path, e))?;
    // The new namespace is made on a thread of its own, which ends with it: only the mount
    // holds it then, and no other thread of the engine ever changes namespace.
    let mounted = std::thread::scope(|scope| {
        scope
            .spawn(|| -> io::Result<()> {
                // SAFETY: unshare takes flags only; it changes this thread's namespace alone.
                if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                    return Err(io::Error::last_os_error());
                }
                let source = c"/proc/thread-self/ns/net";
                // SAFETY: both paths are NUL-terminated strings that outlive the call; a bind
                // mount reads no data argument.
                let done = unsafe {
                    libc::mount(
                        source.as_ptr(),
                        target.as_ptr(),
                        c"none".as_ptr(),
                        libc::MS_BIND,
                        std::ptr::null(),
                    )
                };
                if done != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(())
            })
            .join()
            .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")))
    });
    mounted.map_err(|source| {
        let _ = fs::remove_file(path);
        Error::Mount {
            action: "bind-mount a new network namespace on",
            target: path.display().to_string(),
            source,
        }
    })
}

/// Unmounts the namespace at `path` and removes the file; the namespace ends once no process
/// is in it. A missing file is already removed.
///
/// # Errors
///
/// [`Error::Mount`] or [`Error::Io`] when the unmount or the removal fails.
pub fn remove(path: &Path) -> Result<()> {
    if exists(path)? {
        let target = c_path(path)?;
        // SAFETY: `target` is a NUL-terminated string that outlives the call.
        if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH | libc::UMOUNT_NOFOLLOW) } != 0
        {
            return Err(Error::Mount {
                action: "unmount",
                target: path.display().to_string(),
                source: io::Error::last_os_error(),
            });
        }
    }
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

/// Whether a namespace is mounted at `path`.
///
/// # Errors
///
/// [`Error::Io`] when the mount table cannot be read.
pub fn exists(path: &Path) -> Result<bool> {
    rootfs::is_mount_point(path)
}

/// Runs `work` on a thread of its own that has joined the network namespace at `path`, and
/// returns what it returns. Sockets it opens and processes it starts are in that namespace;
/// the engine's other threads are not affected.
///
/// # Errors
///
/// [`Error::Io`] when the namespace cannot be opened or joined.
pub fn run_in<T: Send>(path: &Path, work: impl FnOnce() -> T + Send) -> Result<T> {
    let namespace = File::open(path).map_err(|e| Error::io("open", path, e))?;
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                // SAFETY: setns takes a descriptor we hold open and a flag; it changes this
                // thread's network namespace alone, and the thread ends after `work`.
                if unsafe { libc::setns(namespace.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                    return Err(Error::io("join", path, io::Error::last_os_error()));
                }
                Ok(work())
            })
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::io("use", path, io::ErrorKind::InvalidInput.into()))
}
