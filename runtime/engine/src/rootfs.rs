//! Container root filesystems assembled with overlayfs: the image's layers read-only below, a
//! per-container `diff/` above (its changes), `work/` for overlayfs, `merged/` the mount point.
//!
//! The mount outlives the engine process on purpose (a running container stands on it); it is
//! undone by [`unmount`] or [`remove`], which tolerate a rootfs that is not mounted, so an
//! engine that restarts can always clean up.

use std::collections::HashSet;
use std::fs;
use std::io;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::images::layer_c_path as c_path;

/// The largest option string the kernel takes in one `mount(2)` (a page).
const MOUNT_DATA_MAX: usize = 4095;

/// The folders of a container's root filesystem under its folder `dir`.
#[derive(Clone, Debug)]
pub struct RootfsDirs {
    /// The writable layer.
    pub upper: PathBuf,
    /// Overlayfs' work folder.
    pub work: PathBuf,
    /// The mount point: the container's `/`.
    pub merged: PathBuf,
}

impl RootfsDirs {
    /// The folders of the rootfs kept in `dir`.
    pub fn in_dir(dir: &Path) -> RootfsDirs {
        RootfsDirs {
            upper: dir.join("diff"),
            work: dir.join("work"),
            merged: dir.join("merged"),
        }
    }
}

/// Mounts the overlay of `lowers` (top-most first, as [`crate::images::ImageStore::layer_paths`]
/// gives them) with the writable layer in `dir`, creating the folders it needs, and returns the
/// mounted root. Mounting a rootfs that is already mounted does nothing.
///
/// # Errors
///
/// [`Error::Mount`] when the kernel refuses; nothing is left mounted then.
pub fn mount(dir: &Path, lowers: &[PathBuf]) -> Result<PathBuf> {
    let dirs = RootfsDirs::in_dir(dir);
    if is_mount_point(&dirs.merged)? {
        return Ok(dirs.merged);
    }
    if lowers.is_empty() {
        return Err(Error::InvalidContainerConfig(
            "an image without layers has no root filesystem".to_owned(),
        ));
    }
    for folder in [&dirs.upper, &dirs.work, &dirs.merged] {
        fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
    }
    let lowerdir: Vec<String> = lowers.iter().map(|lower| escape_option(lower)).collect();
    let data = format!(
        "lowerdir={},upperdir={},workdir={}",
        lowerdir.join(":"),
        escape_option(&dirs.upper),
        escape_option(&dirs.work)
    );
    let mount_error = |source: io::Error| Error::Mount {
        action: "mount",
        target: dirs.merged.display().to_string(),
        source,
    };
    if data.len() > MOUNT_DATA_MAX {
        return Err(mount_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "{} layers make the overlay's options too long",
                lowers.len()
            ),
        )));
    }
    let target = c_path(&dirs.merged)?;
    let data = std::ffi::CString::new(data).map_err(|_| {
        mount_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "a layer path holds a NUL byte",
        ))
    })?;
    // SAFETY: every pointer is a NUL-terminated string that outlives the call.
    let mounted = unsafe {
        libc::mount(
            c"overlay".as_ptr(),
            target.as_ptr(),
            c"overlay".as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if mounted != 0 {
        return Err(mount_error(io::Error::last_os_error()));
    }
    Ok(dirs.merged)
}

/// Escapes the characters overlayfs' option parser treats specially (`,` `:` `\`).
fn escape_option(path: &Path) -> String {
    let mut out = String::new();
    for c in path.to_string_lossy().chars() {
        if matches!(c, ',' | ':' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// Unmounts the rootfs kept in `dir`, if it is mounted.
pub fn unmount(dir: &Path) -> Result<()> {
    let merged = RootfsDirs::in_dir(dir).merged;
    if !is_mount_point(&merged)? {
        return Ok(());
    }
    let target = c_path(&merged)?;
    // SAFETY: `target` is a NUL-terminated string that outlives the call.
    let unmounted = unsafe { libc::umount2(target.as_ptr(), libc::UMOUNT_NOFOLLOW) };
    if unmounted == 0 {
        return Ok(());
    }
    let error = io::Error::last_os_error();
    if error.raw_os_error() == Some(libc::EINVAL) && !is_mount_point(&merged)? {
        return Ok(());
    }
    Err(Error::Mount {
        action: "unmount",
        target: merged.display().to_string(),
        source: error,
    })
}

/// Unmounts the rootfs kept in `dir` and removes the folder with the container's changes.
pub fn remove(dir: &Path) -> Result<()> {
    unmount(dir)?;
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", dir, e)),
    }
}

/// Whether `path` is a mount point in this process's mount namespace.
pub fn is_mount_point(path: &Path) -> Result<bool> {
    Ok(mount_points()?.iter().any(|mount| mount == path))
}

/// The mount points at or below `dir`, from `/proc/self/mountinfo`.
pub fn mounts_under(dir: &Path) -> Result<Vec<PathBuf>> {
    Ok(mount_points()?
        .into_iter()
        .filter(|mount| mount.starts_with(dir))
        .collect())
}

/// The bytes the files under `dir` take, as Docker's `directory.Size` counts them: every
/// non-folder once (hard links once), by its length: a volume's content, a container's changes.
pub fn content_size(dir: &Path) -> io::Result<u64> {
    let mut seen = HashSet::new();
    let mut pending = vec![dir.to_path_buf()];
    let mut size = 0;
    while let Some(folder) = pending.pop() {
        for entry in fs::read_dir(&folder)? {
            let entry = entry?;
            let metadata = entry.metadata()?;
            if metadata.is_dir() {
                pending.push(entry.path());
            } else if seen.insert((metadata.dev(), metadata.ino())) {
                size += metadata.len();
            }
        }
    }
    Ok(size)
}

/// Every mount point of this process's mount namespace.
fn mount_points() -> Result<Vec<PathBuf>> {
    let table_path = Path::new("/proc/self/mountinfo");
    let table = fs::read_to_string(table_path).map_err(|e| Error::io("read", table_path, e))?;
    Ok(table
        .lines()
        .filter_map(|line| line.split(' ').nth(4))
        .map(|field| PathBuf::from(unescape_mount_field(field)))
        .collect())
}

/// Undoes the octal escapes (`\040` for a space) of a mountinfo field.
fn unescape_mount_field(field: &str) -> String {
    let bytes = field.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = bytes
            .get(i + 1..i + 4)
            .and_then(|digits| u8::from_str_radix(std::str::from_utf8(digits).ok()?, 8).ok());
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

#[cfg(test)]
mod tests {
    use super::{escape_option, unescape_mount_field};
    use std::path::Path;

    #[test]
    fn overlay_option_separators_in_paths_are_escaped() {
        assert_eq!(escape_option(Path::new("/a,b:c")), r"/a\,b\:c");
    }

    #[test]
    fn mountinfo_escapes_are_undone() {
        assert_eq!(unescape_mount_field(r"/x\040y"), "/x y");
    }
}
