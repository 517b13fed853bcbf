//! Copy-up: an image folder's content copied into a new volume as Docker copies it (owners,
//! modes, times, extended attributes, hard links, symlinks and device nodes kept), and paths
//! resolved inside a container's root so that a symlink in the image cannot lead outside it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::images::layer_c_path as c_path;

/// How many symlinks a path may pass through before it is taken for a loop (Linux's limit).
const MAX_SYMLINKS: usize = 255;

/// The host path of `path` inside the root file system `root`, with every symlink on the way
/// resolved as if `root` were `/` (an absolute link restarts at `root`, `..` stops there).
pub(crate) fn resolve_in_root(root: &Path, path: &str) -> Result<PathBuf> {
    let mut pending: Vec<OsString> = components(OsStr::new(path));
    pending.reverse();
    let mut resolved: Vec<OsString> = Vec::new();
    let mut links = 0;
    while let Some(part) = pending.pop() {
        if part == "." || part.is_empty() {
            continue;
        }
        if part == ".." {
            resolved.pop();
            continue;
        }
        let candidate: PathBuf = root.join(resolved.iter().collect::<PathBuf>()).join(&part);
        match fs::symlink_metadata(&candidate) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                links += 1;
                if links > MAX_SYMLINKS {
                    return Err(Error::io(
                        "resolve",
                        &candidate,
                        io::Error::from_raw_os_error(libc::ELOOP),
                    ));
                }
                let target =
                    fs::read_link(&candidate).map_err(|e| Error::io("read", &candidate, e))?;
                if target.is_absolute() {
                    resolved.clear();
                }
                let mut parts = components(target.as_os_str());
                parts.reverse();
                pending.extend(parts);
            }
            _ => resolved.push(part),
        }
    }
    Ok(root.join(resolved.iter().collect::<PathBuf>()))
}

/// The `/`-separated parts of a path.
fn components(path: &OsStr) -> Vec<OsString> {
    path.as_bytes()
        .split(|&b| b == b'/')
        .map(|part| OsStr::from_bytes(part).to_os_string())
        .collect()
}

/// Copies the content of the folder `source` into the folder `target` if `target` is empty,
/// and gives `target` the owner, mode, times and extended attributes of `source`, as Docker's
/// copy-up does; a `target` with anything in it is left alone.
pub(super) fn copy_into_empty(source: &Path, target: &Path) -> Result<()> {
    let mut entries = fs::read_dir(target).map_err(|e| Error::io("list", target, e))?;
    if entries.next().is_some() {
        return Ok(());
    }
    let mut links = HashMap::new();
    copy_folder(source, target, &mut links)
}

/// Copies the entries of `source` into the existing folder `target`, then `source`'s metadata
/// onto `target` (last, so the folder's times are not changed by its entries' creation).
/// `links` maps the inodes of multiply linked files to their first copy.
fn copy_folder(
    source: &Path,
    target: &Path,
    links: &mut HashMap<(u64, u64), PathBuf>,
) -> Result<()> {
    let entries = fs::read_dir(source).map_err(|e| Error::io("list", source, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("list", source, e))?;
        let from = entry.path();
        let to = target.join(entry.file_name());
        let metadata = fs::symlink_metadata(&from).map_err(|e| Error::io("inspect", &from, e))?;
        let kind = metadata.file_type();
        if kind.is_dir() {
            fs::create_dir(&to).map_err(|e| Error::io("create", &to, e))?;
            copy_folder(&from, &to, links)?;
            continue;
        }
        if metadata.nlink() > 1 && !kind.is_symlink() {
            let inode = (metadata.dev(), metadata.ino());
            if let Some(first) = links.get(&inode) {
                fs::hard_link(first, &to).map_err(|e| Error::io("link", &to, e))?;
                continue;
            }
            links.insert(inode, to.clone());
        }
        if kind.is_file() {
            fs::copy(&from, &to).map_err(|e| Error::io("copy", &from, e))?;
        } else if kind.is_symlink() {
            let link = fs::read_link(&from).map_err(|e| Error::io("read", &from, e))?;
            std::os::unix::fs::symlink(&link, &to).map_err(|e| Error::io("create", &to, e))?;
        } else {
            make_node(&to, &metadata)?;
        }
        copy_metadata(&from, &to, &metadata)?;
    }
    let metadata = fs::symlink_metadata(source).map_err(|e| Error::io("inspect", source, e))?;
    copy_metadata(source, target, &metadata)
}

/// Makes a fifo, socket or device node like the one `metadata` describes.
fn make_node(path: &Path, metadata: &Metadata) -> Result<()> {
    let c = c_path(path)?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    let made = unsafe { libc::mknod(c.as_ptr(), metadata.mode(), metadata.rdev()) };
    if made != 0 {
        return Err(Error::io("create", path, io::Error::last_os_error()));
    }
    Ok(())
}

/// Gives `to` the owner, mode (with set-id bits, after the owner, which clears them), extended
/// attributes and access and modification times of `from`, without following a symlink.
fn copy_metadata(from: &Path, to: &Path, metadata: &Metadata) -> Result<()> {
    std::os::unix::fs::lchown(to, Some(metadata.uid()), Some(metadata.gid()))
        .map_err(|e| Error::io("change the owner of", to, e))?;
    let is_symlink = metadata.file_type().is_symlink();
    if !is_symlink {
        fs::set_permissions(to, fs::Permissions::from_mode(metadata.mode() & 0o7777))
            .map_err(|e| Error::io("set the mode of", to, e))?;
    }
    copy_xattrs(from, to)?;
    let times = [
        libc::timespec {
            tv_sec: metadata.atime(),
            tv_nsec: metadata.atime_nsec(),
        },
        libc::timespec {
            tv_sec: metadata.mtime(),
            tv_nsec: metadata.mtime_nsec(),
        },
    ];
    let c = c_path(to)?;
    // SAFETY: `c` is a NUL-terminated string and `times` two timespecs, both outliving the call.
    let set = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if set != 0 {
        return Err(Error::io(
            "set the times of",
            to,
            io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Copies the extended attributes of `from` to `to` (not following symlinks); attributes the
/// target's file system does not support are skipped, as Docker skips them.
fn copy_xattrs(from: &Path, to: &Path) -> Result<()> {
    let from_c = c_path(from)?;
    let to_c = c_path(to)?;
    let unsupported =
        |e: &io::Error| matches!(e.raw_os_error(), Some(libc::ENOTSUP | libc::ENODATA));
    let names = match read_xattr_buffer(|buffer, size| {
        // SAFETY: `from_c` is NUL-terminated; `buffer` has room for `size` bytes.
        unsafe { libc::llistxattr(from_c.as_ptr(), buffer.cast(), size) }
    }) {
        Ok(names) => names,
        Err(e) if unsupported(&e) => return Ok(()),
        Err(e) => return Err(Error::io("list the attributes of", from, e)),
    };
    for name in names.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let name_c = std::ffi::CString::new(name).map_err(|_| {
            Error::io(
                "read the attributes of",
                from,
                io::Error::from(io::ErrorKind::InvalidData),
            )
        })?;
        let value = match read_xattr_buffer(|buffer, size| {
            // SAFETY: both strings are NUL-terminated; `buffer` has room for `size` bytes.
            unsafe { libc::lgetxattr(from_c.as_ptr(), name_c.as_ptr(), buffer.cast(), size) }
        }) {
            Ok(value) => value,
            Err(e) if unsupported(&e) => continue,
            Err(e) => return Err(Error::io("read the attributes of", from, e)),
        };
        // SAFETY: both strings are NUL-terminated and `value` outlives the call.
        let set = unsafe {
            libc::lsetxattr(
                to_c.as_ptr(),
                name_c.as_ptr(),
                value.as_ptr().cast(),
                value.len(),
                0,
            )
        };
        if set != 0 {
            let error = io::Error::last_os_error();
            if !unsupported(&error) {
                return Err(Error::io("set the attributes of", to, error));
            }
        }
    }
    Ok(())
}

/// Calls an `*xattr` function first for the size, then with a buffer of that size (again if
/// the attribute grew in between).
fn read_xattr_buffer(call: impl Fn(*mut u8, usize) -> isize) -> io::Result<Vec<u8>> {
    loop {
        let size = call(std::ptr::null_mut(), 0);
        if size < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buffer = vec![0u8; size.unsigned_abs()];
        let read = call(buffer.as_mut_ptr(), buffer.len());
        if read >= 0 {
            buffer.truncate(read.unsigned_abs());
            return Ok(buffer);
        }
        let error = io::Error::last_os_error();
        if error.raw_os_error() != Some(libc::ERANGE) {
            return Err(error);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    use super::{copy_into_empty, resolve_in_root};
    use crate::scratch::ScratchDir;

    #[test]
    fn symlinks_resolve_inside_the_root_and_never_above_it() {
        let scratch = ScratchDir::new("resolve");
        let root = scratch.path().join("root");
        fs::create_dir_all(root.join("srv/real")).expect("dirs");
        std::os::unix::fs::symlink("/srv/real", root.join("srv/absolute")).expect("link");
        std::os::unix::fs::symlink("../../../../etc", root.join("srv/escape")).expect("link");
        std::os::unix::fs::symlink("real", root.join("srv/relative")).expect("link");
        assert_eq!(
            resolve_in_root(&root, "/srv/absolute/x").expect("resolves"),
            root.join("srv/real/x")
        );
        assert_eq!(
            resolve_in_root(&root, "/srv/relative").expect("resolves"),
            root.join("srv/real")
        );
        assert_eq!(
            resolve_in_root(&root, "/srv/escape/passwd").expect("resolves"),
            root.join("etc/passwd")
        );
        assert_eq!(
            resolve_in_root(&root, "/../../x").expect("resolves"),
            root.join("x")
        );
        std::os::unix::fs::symlink("loop", root.join("loop")).expect("link");
        assert!(resolve_in_root(&root, "/loop").is_err());
    }

    #[test]
    fn copy_up_keeps_modes_owners_times_links_and_only_fills_an_empty_target() {
        let scratch = ScratchDir::new("copy");
        let source = scratch.path().join("image-dir");
        fs::create_dir_all(source.join("sub")).expect("dirs");
        fs::write(source.join("sub/file"), "content").expect("file");
        // The owner first: a change of owner clears the set-id bits.
        std::os::unix::fs::lchown(source.join("sub/file"), Some(1234), Some(5678)).expect("owner");
        fs::set_permissions(source.join("sub/file"), fs::Permissions::from_mode(0o4750))
            .expect("mode");
        fs::hard_link(source.join("sub/file"), source.join("hard")).expect("hard link");
        std::os::unix::fs::symlink("sub/file", source.join("soft")).expect("symlink");
        fs::set_permissions(&source, fs::Permissions::from_mode(0o700)).expect("mode");
        let times = filetime_of(&source.join("sub/file"));
        let target = scratch.path().join("volume");
        fs::create_dir(&target).expect("target");
        copy_into_empty(&source, &target).expect("copies");
        let copied = fs::metadata(target.join("sub/file")).expect("copied");
        assert_eq!(
            fs::read_to_string(target.join("sub/file")).expect("read"),
            "content"
        );
        assert_eq!(copied.mode() & 0o7777, 0o4750);
        assert_eq!((copied.uid(), copied.gid()), (1234, 5678));
        assert_eq!(filetime_of(&target.join("sub/file")), times);
        assert_eq!(
            fs::metadata(target.join("hard")).expect("hard").ino(),
            copied.ino()
        );
        assert_eq!(
            fs::read_link(target.join("soft")).expect("symlink"),
            std::path::Path::new("sub/file")
        );
        assert_eq!(
            fs::metadata(&target).expect("target").mode() & 0o7777,
            0o700,
            "the volume takes the image folder's mode"
        );
        // A volume that has content is left alone.
        fs::write(source.join("later"), "x").expect("file");
        copy_into_empty(&source, &target).expect("no-op");
        assert!(!target.join("later").exists());
    }

    fn filetime_of(path: &std::path::Path) -> (i64, i64) {
        let metadata = fs::metadata(path).expect("metadata");
        (metadata.mtime(), metadata.mtime_nsec())
    }
}
