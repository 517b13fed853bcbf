//! A container's files as `docker cp` and `docker export` reach them: stat a path, tar it,
//! extract a tar into a folder, tar the whole root.
//!
//! Every operation runs on a thread of its own in a private mount namespace (the host never
//! sees what it mounts, and it all goes away with the thread): the container's root file
//! system is mounted there when it is not mounted already (a stopped container), the
//! container's binds and volumes are bind-mounted over it at their destinations (as dockerd
//! mounts them for `docker cp`), and the thread `chroot`s into it. Paths then resolve the way
//! they do in the container: `..` stops at `/`, an absolute symlink starts again at the
//! container's `/`, and nothing outside the root can be read or written, whatever the archive
//! or the container's symlinks say.
//!
//! What is checked and how paths are named follow dockerd (`container.ResolvePath`,
//! `archive.TarResourceRebase`, `archive.Unpack`), error texts included.

mod pack;
mod unpack;

use std::ffi::CString;
use std::fs;
use std::io::{self, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::thread::JoinHandle;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::images::layer_c_path as c_path;
use crate::mounts::copy::resolve_in_root;
use crate::mounts::spec::clean_path;
use crate::rootfs::{self, RootfsDirs};
use crate::timestamp::Timestamp;

pub use unpack::ExtractOptions;

/// What an operation sees of a container: its root file system and the mounts over it.
#[derive(Clone, Debug)]
pub struct RootView {
    /// The container's rootfs folder (see [`crate::rootfs`]); its `merged/` is the root.
    pub rootfs_dir: PathBuf,
    /// The image's layers, top-most first, mounted under the writable layer when the root
    /// file system is not mounted (the container is not running).
    pub layers: Vec<PathBuf>,
    /// Binds and volumes, shallowest first, seen at their destinations.
    pub mounts: Vec<ViewMount>,
}

/// A bind or volume in a [`RootView`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewMount {
    /// The host path mounted.
    pub source: PathBuf,
    /// Where it appears in the container.
    pub destination: String,
    /// Whether it may be written.
    pub writable: bool,
}

/// A path's stat as `X-Docker-Container-Path-Stat` carries it (Docker's `ContainerPathStat`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PathStat {
    /// The path's last element (`/` for the root).
    pub name: String,
    /// Its size (`lstat`'s).
    pub size: i64,
    /// Go's `os.FileMode` bits: permissions, then type and special bits high.
    pub mode: u32,
    /// When it was last modified.
    pub mtime: Timestamp,
    /// For a symlink, where it leads with every link resolved inside the root; else empty.
    #[serde(rename = "linkTarget")]
    pub link_target: String,
}

/// The stat of `path` in the container, as `HEAD /containers/{id}/archive` gives it.
/// `container` is how the caller named the container (for the not-found text).
///
/// # Errors
///
/// [`Error::NoSuchPath`] when it does not exist; an I/O error (dockerd's 500) when a part of
/// it is not a folder; mount errors.
pub fn stat(view: &RootView, path: &str, container: &str) -> Result<PathStat> {
    let (path, container) = (path.to_owned(), container.to_owned());
    join(spawn_in_view(view.clone(), move || {
        locate(&path, &container).map(|found| found.stat)
    })?)
}

/// Writes a tar of `path` in the container to `out`, as `GET /containers/{id}/archive`
/// serves it: entries named after the path's last element (`etc/`, `etc/passwd`; `./…` for
/// a path ending in `/.`; `/bin/…` for the root), symlinks kept as links. Returns the path's
/// stat once it is known and the tar is being written, with the thread writing it: joining it
/// gives the outcome of the writing (an `out` that fails, a reader gone, ends it early).
///
/// # Errors
///
/// As [`stat`], before anything is written.
pub fn archive<W: Write + Send + 'static>(
    view: &RootView,
    path: &str,
    container: &str,
    out: W,
) -> Result<(PathStat, JoinHandle<Result<()>>)> {
    let (found_tx, found_rx) = mpsc::sync_channel(1);
    let (path, container) = (path.to_owned(), container.to_owned());
    let writer = spawn_in_view(view.clone(), move || {
        let found = locate(&path, &container);
        let located = match &found {
            Ok(found) => Some((found.resolved.clone(), found.rebase.clone())),
            Err(_) => None,
        };
        let _ = found_tx.send(found.map(|found| found.stat));
        match located {
            Some((resolved, rebase)) => pack::tar_resource(&resolved, &rebase, out),
            None => Ok(()),
        }
    })?;
    match found_rx.recv() {
        Ok(Ok(stat)) => Ok((stat, writer)),
        Ok(Err(e)) => {
            let _ = writer.join();
            Err(e)
        }
        // The thread ended before it could look (entering the view failed).
        Err(_) => Err(join(writer)
            .err()
            .unwrap_or_else(|| thread_error(io::Error::other("ended without an answer")))),
    }
}

/// Extracts the tar (plain or gzip) in the file `tar` into the folder `path` of the
/// container, as `PUT /containers/{id}/archive` does. The whole archive is checked before
/// anything is written, so an archive that dockerd would refuse half-way (an entry outside
/// the folder, a symlink or hard link leading out of it, a directory it may not replace)
/// changes nothing.
///
/// # Errors
///
/// [`Error::NoSuchPath`] when `path` does not exist; [`Error::InvalidArchivePath`] when it is
/// not a folder or an entry is refused (dockerd's texts); [`Error::ReadOnlyPath`] when the
/// folder is on a read-only root or volume; [`Error::InvalidLayer`] for a malformed archive.
pub fn extract(
    view: &RootView,
    path: &str,
    container: &str,
    tar: &Path,
    options: &ExtractOptions,
) -> Result<()> {
    // Opened here: inside the view, the host's paths are out of reach.
    let tar = fs::File::open(tar).map_err(|e| Error::io("open", tar, e))?;
    let (path, container, options) = (path.to_owned(), container.to_owned(), options.clone());
    let mounts = view.mounts.clone();
    join(spawn_in_view(view.clone(), move || {
        unpack::extract_into(&path, &container, &tar, &options, &mounts)
    })?)
}

/// Writes a tar of the container's whole root file system to `out`, as `docker export`
/// gives it (names relative to `/`, sorted, no volumes), and waits for the end.
pub fn export<W: Write + Send + 'static>(
    view: &RootView,
    out: W,
) -> Result<JoinHandle<Result<()>>> {
    let view = RootView {
        mounts: Vec::new(),
        ..view.clone()
    };
    spawn_in_view(view, move || pack::tar_tree(out))
}

/// A located path: its stat, its path inside the root (symlinks of its folder resolved) and
/// the name its tar entries start with.
struct Located {
    stat: PathStat,
    resolved: String,
    rebase: String,
}

/// dockerd's `ResolvePath` and `StatPath`, inside the chrooted view.
fn locate(path: &str, container: &str) -> Result<Located> {
    let absolute = absolute_path(path);
    let (dir, base) = split_dir_entry(&absolute);
    let resolved_dir = in_scope(dir)?;
    let resolved = if resolved_dir.ends_with('/') {
        format!("{resolved_dir}{base}")
    } else {
        format!("{resolved_dir}/{base}")
    };
    let metadata = match fs::symlink_metadata(&resolved) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::NoSuchPath {
                path: path.to_owned(),
                container: container.to_owned(),
            });
        }
        Err(e) => return Err(lstat_error(&absolute, e)),
    };
    let link_target = if metadata.file_type().is_symlink() {
        in_scope(&absolute)?
    } else {
        String::new()
    };
    let name = go_base(&absolute);
    Ok(Located {
        stat: PathStat {
            name: name.clone(),
            size: i64::try_from(metadata.size()).unwrap_or(i64::MAX),
            mode: go_file_mode(metadata.mode()),
            mtime: Timestamp::from_unix(
                metadata.mtime(),
                u32::try_from(metadata.mtime_nsec()).unwrap_or(0),
            ),
            link_target,
        },
        resolved,
        rebase: name,
    })
}

/// The error of an `lstat` that failed for another reason than absence, as dockerd words it.
fn lstat_error(path: &str, source: io::Error) -> Error {
    Error::Io {
        context: format!("lstat {path}"),
        source,
    }
}

/// `path` taken as absolute in the container and cleaned, keeping a trailing `/` or `/.`
/// (dockerd's `PreserveTrailingDotOrSeparator`): they change what is archived.
fn absolute_path(path: &str) -> String {
    let mut cleaned = clean_path(&format!("/{path}"));
    let current_dir = |p: &str| p == "." || p.ends_with("/.");
    if !current_dir(&cleaned) && current_dir(path) {
        if !cleaned.ends_with('/') {
            cleaned.push('/');
        }
        cleaned.push('.');
    }
    if !cleaned.ends_with('/') && path.ends_with('/') {
        cleaned.push('/');
    }
    cleaned
}

/// Go's `filepath.Split`: everything up to the last `/`, and the rest.
fn split_dir_entry(path: &str) -> (&str, &str) {
    match path.rfind('/') {
        Some(at) => path.split_at(at + 1),
        None => ("", path),
    }
}

/// Go's `filepath.Base`: the last element, trailing slashes ignored; `/` for the root.
fn go_base(path: &str) -> String {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.is_empty() { "." } else { "/" }.to_owned();
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed).to_owned()
}

/// `path` with every symlink on the way resolved inside the (chrooted) root, as dockerd's
/// `FollowSymlinkInScope`: parts that do not exist are kept as they are.
fn in_scope(path: &str) -> Result<String> {
    let resolved = resolve_in_root(Path::new("/"), path)?;
    Ok(resolved.to_string_lossy().into_owned())
}

/// Go's `os.FileMode` of a `st_mode`: permission bits, then the type and the set-id and sticky
/// bits where Go keeps them.
fn go_file_mode(mode: u32) -> u32 {
    const MODE_DIR: u32 = 1 << 31;
    const MODE_SYMLINK: u32 = 1 << 27;
    const MODE_DEVICE: u32 = 1 << 26;
    const MODE_NAMED_PIPE: u32 = 1 << 25;
    const MODE_SOCKET: u32 = 1 << 24;
    const MODE_SETUID: u32 = 1 << 23;
    const MODE_SETGID: u32 = 1 << 22;
    const MODE_CHAR_DEVICE: u32 = 1 << 21;
    const MODE_STICKY: u32 = 1 << 20;
    let mut go = mode & 0o777;
    go |= match mode & libc::S_IFMT {
        libc::S_IFDIR => MODE_DIR,
        libc::S_IFLNK => MODE_SYMLINK,
        libc::S_IFBLK => MODE_DEVICE,
        libc::S_IFCHR => MODE_DEVICE | MODE_CHAR_DEVICE,
        libc::S_IFIFO => MODE_NAMED_PIPE,
        libc::S_IFSOCK => MODE_SOCKET,
        _ => 0,
    };
    for (bit, go_bit) in [
        (libc::S_ISUID, MODE_SETUID),
        (libc::S_ISGID, MODE_SETGID),
        (libc::S_ISVTX, MODE_STICKY),
    ] {
        if mode & bit != 0 {
            go |= go_bit;
        }
    }
    go
}

/// Runs `work` on a new thread that has entered `view` (see the module's documentation).
fn spawn_in_view<T: Send + 'static>(
    view: RootView,
    work: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<JoinHandle<Result<T>>> {
    std::thread::Builder::new()
        .name("drydock-files".to_owned())
        .spawn(move || {
            enter(&view)?;
            work()
        })
        .map_err(thread_error)
}

/// The outcome of a view's thread.
fn join<T>(handle: JoinHandle<Result<T>>) -> Result<T> {
    handle
        .join()
        .unwrap_or_else(|_| Err(thread_error(io::Error::other("panicked"))))
}

fn thread_error(source: io::Error) -> Error {
    Error::Io {
        context: "the container files' thread".to_owned(),
        source,
    }
}

/// Makes this thread's mount namespace and root the view's: a private copy of the mounts
/// (nothing propagates back to the host), the root file system mounted if it is not, the
/// mounts over it, then `chroot` into it.
fn enter(view: &RootView) -> Result<()> {
    let namespace = |action: &str, source: io::Error| Error::Io {
        context: format!("cannot {action} for the container's files"),
        source,
    };
    // SAFETY: unshare takes flags only; CLONE_FS makes the chroot below this thread's alone.
    if unsafe { libc::unshare(libc::CLONE_NEWNS | libc::CLONE_FS) } != 0 {
        return Err(namespace(
            "make a mount namespace",
            io::Error::last_os_error(),
        ));
    }
    mount_call(None, Path::new("/"), libc::MS_REC | libc::MS_SLAVE)
        .map_err(|e| namespace("keep mounts from the host", e))?;
    let merged = RootfsDirs::in_dir(&view.rootfs_dir).merged;
    let root = if rootfs::is_mount_point(&merged)? {
        merged
    } else {
        rootfs::mount(&view.rootfs_dir, &view.layers)?
    };
    for mount in &view.mounts {
        bind_into(&root, mount)?;
    }
    let root_c = c_path(&root)?;
    // SAFETY: `root_c` is a NUL-terminated string that outlives the call.
    if unsafe { libc::chroot(root_c.as_ptr()) } != 0 {
        return Err(Error::io("chroot into", &root, io::Error::last_os_error()));
    }
    std::env::set_current_dir("/").map_err(|e| Error::io("enter", &root, e))
}

/// Bind-mounts a view's mount at its destination in `root` (resolved inside it), creating the
/// mount point as dockerd does when it is missing.
fn bind_into(root: &Path, mount: &ViewMount) -> Result<()> {
    let target = resolve_in_root(root, &mount.destination)?;
    let source_is_dir = fs::metadata(&mount.source)
        .map_err(|e| Error::io("inspect", &mount.source, e))?
        .is_dir();
    if fs::symlink_metadata(&target).is_err() {
        if source_is_dir {
            fs::create_dir_all(&target).map_err(|e| Error::io("create", &target, e))?;
        } else {
            if let Some(parent) = target.parent() {
                fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
            }
            fs::File::create(&target).map_err(|e| Error::io("create", &target, e))?;
        }
    }
    let failed = |source| Error::Mount {
        action: "mount",
        target: target.display().to_string(),
        source,
    };
    mount_call(Some(&mount.source), &target, libc::MS_BIND | libc::MS_REC).map_err(failed)?;
    if !mount.writable {
        mount_call(
            None,
            &target,
            libc::MS_BIND | libc::MS_REMOUNT | libc::MS_RDONLY,
        )
        .map_err(failed)?;
    }
    Ok(())
}

/// `mount(2)` with no file system type or data.
fn mount_call(source: Option<&Path>, target: &Path, flags: libc::c_ulong) -> io::Result<()> {
    let to_c = |path: &Path| {
        CString::new(path.as_os_str().as_encoded_bytes())
            .map_err(|_| io::Error::from(io::ErrorKind::InvalidInput))
    };
    let source = source.map(to_c).transpose()?;
    let target = to_c(target)?;
    // SAFETY: the strings are NUL-terminated and outlive the call; null pointers are allowed
    // for the source, type and data of these mount kinds.
    let mounted = unsafe {
        libc::mount(
            source.as_ref().map_or(std::ptr::null(), |s| s.as_ptr()),
            target.as_ptr(),
            std::ptr::null(),
            flags,
            std::ptr::null(),
        )
    };
    if mounted == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(test)]
mod tests {
    use super::{absolute_path, go_base, go_file_mode, split_dir_entry};

    #[test]
    fn paths_keep_a_trailing_slash_or_dot_as_dockerd_does() {
        assert_eq!(absolute_path("etc/../etc/passwd"), "/etc/passwd");
        assert_eq!(absolute_path("/etc/"), "/etc/");
        assert_eq!(absolute_path("/etc/."), "/etc/.");
        assert_eq!(absolute_path("."), "/.");
        assert_eq!(absolute_path("/"), "/");
        assert_eq!(absolute_path("/../../x"), "/x");
    }

    #[test]
    fn names_are_the_last_element_and_slash_for_the_root() {
        assert_eq!(go_base("/"), "/");
        assert_eq!(go_base("/etc/"), "etc");
        assert_eq!(go_base("/etc/."), ".");
        assert_eq!(split_dir_entry("/etc/passwd"), ("/etc/", "passwd"));
        assert_eq!(split_dir_entry("/"), ("/", ""));
    }

    #[test]
    fn file_modes_are_go_file_modes() {
        assert_eq!(go_file_mode(libc::S_IFREG | 0o644), 420);
        assert_eq!(go_file_mode(libc::S_IFDIR | 0o755), 2_147_484_141);
        assert_eq!(go_file_mode(libc::S_IFLNK | 0o777), 134_218_239);
        assert_eq!(
            go_file_mode(libc::S_IFDIR | 0o1777),
            (1 << 31) | (1 << 20) | 0o777
        );
    }
}
