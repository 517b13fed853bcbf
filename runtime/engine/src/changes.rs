//! What a container changed in its image's file system (`docker diff`), read from its
//! writable layer as dockerd's overlay driver reads it (`archive.OverlayChanges`): every entry
//! of the layer is a change, added when no image layer has it and modified when one does
//! (a folder that only holds changes is not itself modified unless its size, mode or time
//! differ); an overlay whiteout (a 0:0 character device) or an opaque folder is a deletion;
//! an added or deleted entry marks its folder modified.
//!
//! The files the engine itself puts in every container (the mount points of `/etc/hosts`,
//! `/etc/hostname`, `/etc/resolv.conf`, `/proc`, `/sys`, `/dev`…) are not changes, nor is a
//! folder that holds nothing else: dockerd keeps them in an init layer below the container's,
//! so they never show. The mount points of a container's own volumes and binds are changes,
//! as in dockerd.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::rootfs::RootfsDirs;

/// Paths that dockerd's init layer holds: made for the container, never its changes.
const ENGINE_PATHS: &[&str] = &[
    "/.dockerenv",
    "/dev",
    "/dev/console",
    "/dev/pts",
    "/dev/shm",
    "/etc/hostname",
    "/etc/hosts",
    "/etc/mtab",
    "/etc/resolv.conf",
    "/proc",
    "/sys",
];

/// What happened to a path, with Docker's numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangeKind {
    /// `C`, 0.
    Modified,
    /// `A`, 1.
    Added,
    /// `D`, 2.
    Deleted,
}

impl ChangeKind {
    /// Docker's number for the kind.
    pub fn code(self) -> i64 {
        match self {
            ChangeKind::Modified => 0,
            ChangeKind::Added => 1,
            ChangeKind::Deleted => 2,
        }
    }
}

/// One changed path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    /// The path in the container.
    pub path: String,
    /// What happened to it.
    pub kind: ChangeKind,
}

/// The changes of the container whose rootfs folder is `rootfs_dir`, on the image `layers`
/// (top-most first), in the order of a walk of its writable layer by name.
///
/// # Errors
///
/// When the writable layer cannot be read.
pub fn changes(rootfs_dir: &Path, layers: &[PathBuf]) -> Result<Vec<Change>> {
    let upper = RootfsDirs::in_dir(rootfs_dir).upper;
    let mut walk = Walk {
        upper: &upper,
        layers,
        ignored: ENGINE_PATHS.iter().map(|path| (*path).to_owned()).collect(),
        changed_dirs: HashSet::new(),
        changes: Vec::new(),
    };
    match fs::symlink_metadata(&upper) {
        Ok(_) => walk.folder(Path::new(""))?,
        // Never started: nothing written yet.
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(Error::io("read", &upper, e)),
    }
    Ok(walk.changes)
}

struct Walk<'a> {
    upper: &'a Path,
    layers: &'a [PathBuf],
    ignored: HashSet<String>,
    changed_dirs: HashSet<String>,
    changes: Vec<Change>,
}

impl Walk<'_> {
    /// Visits the entries of the layer's folder `relative`, in name order.
    fn folder(&mut self, relative: &Path) -> Result<()> {
        let dir = self.upper.join(relative);
        let entries = fs::read_dir(&dir).map_err(|e| Error::io("read", &dir, e))?;
        let mut names: Vec<OsString> = entries.flatten().map(|e| e.file_name()).collect();
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for name in names {
            let child = relative.join(&name);
            let path = self.upper.join(&child);
            let Ok(metadata) = fs::symlink_metadata(&path) else {
                continue;
            };
            self.entry(&child, &metadata)?;
            if metadata.is_dir() {
                self.folder(&child)?;
            }
        }
        Ok(())
    }

    /// dockerd's `changes` for one entry of the writable layer.
    fn entry(&mut self, relative: &Path, metadata: &Metadata) -> Result<()> {
        let path = format!("/{}", relative.to_string_lossy());
        let kind = if self.deleted(relative, metadata) {
            ChangeKind::Deleted
        } else {
            match self.in_image(relative)? {
                None => ChangeKind::Added,
                Some(image) => {
                    let same_dir = image.is_dir()
                        && metadata.is_dir()
                        && image.size() == metadata.size()
                        && image.mode() == metadata.mode()
                        && image.mtime() == metadata.mtime()
                        && image.mtime_nsec() == metadata.mtime_nsec();
                    let only_engine_files = image.is_dir()
                        && metadata.is_dir()
                        && image.mode() == metadata.mode()
                        && image.uid() == metadata.uid()
                        && image.gid() == metadata.gid()
                        && self.holds_only_engine_files(relative, &path);
                    if same_dir || only_engine_files {
                        return Ok(());
                    }
                    ChangeKind::Modified
                }
            }
        };
        if self.ignored.contains(&path) {
            return Ok(());
        }
        if metadata.is_dir() {
            self.changed_dirs.insert(path.clone());
        }
        if kind != ChangeKind::Modified {
            let parent = parent_of(&path);
            if parent != "/" && !self.changed_dirs.contains(&parent) {
                self.changed_dirs.insert(parent.clone());
                self.changes.push(Change {
                    path: parent,
                    kind: ChangeKind::Modified,
                });
            }
        }
        self.changes.push(Change { path, kind });
        Ok(())
    }

    /// Whether everything the layer holds in the folder is the engine's (its time changed
    /// only because the engine made a mount point in it, which dockerd's init layer hides).
    fn holds_only_engine_files(&self, relative: &Path, path: &str) -> bool {
        let Ok(entries) = fs::read_dir(self.upper.join(relative)) else {
            return false;
        };
        entries.flatten().all(|entry| {
            let child = format!("{path}/{}", entry.file_name().to_string_lossy());
            self.ignored.contains(&child)
        })
    }

    /// Whether the entry is an overlay whiteout or an opaque folder.
    fn deleted(&self, relative: &Path, metadata: &Metadata) -> bool {
        if metadata.file_type().is_char_device() && metadata.rdev() == 0 {
            return true;
        }
        metadata.is_dir() && opaque(&self.upper.join(relative))
    }

    /// The entry's metadata in the top-most image layer that has it.
    fn in_image(&self, relative: &Path) -> Result<Option<Metadata>> {
        for layer in self.layers {
            let path = layer.join(relative);
            match fs::metadata(&path) {
                Ok(metadata) => return Ok(Some(metadata)),
                Err(e) if matches!(e.raw_os_error(), Some(libc::ENOENT | libc::ENOTDIR)) => {}
                Err(e) => return Err(Error::io("inspect", &path, e)),
            }
        }
        Ok(None)
    }
}

/// Whether overlayfs marked the folder opaque (`trusted.overlay.opaque=y`).
fn opaque(path: &Path) -> bool {
    let Ok(c) = crate::images::layer_c_path(path) else {
        return false;
    };
    let mut value = [0_u8; 2];
    // SAFETY: `c` and the attribute name are NUL-terminated; `value` has room for its length.
    let read = unsafe {
        libc::lgetxattr(
            c.as_ptr(),
            c"trusted.overlay.opaque".as_ptr(),
            value.as_mut_ptr().cast(),
            value.len(),
        )
    };
    read == 1 && value[0] == b'y'
}

/// The folder of a `/`-rooted path.
fn parent_of(path: &str) -> String {
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(at) => path[..at].to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, ChangeKind, changes};
    use std::fs;

    #[test]
    fn a_folder_holding_only_the_engines_mount_points_is_no_change() {
        let scratch = crate::scratch::ScratchDir::new("engine-files");
        let lower = scratch.path().join("lower");
        let rootfs = scratch.path().join("rootfs");
        let upper = rootfs.join("diff");
        fs::create_dir_all(lower.join("etc")).expect("a lower folder");
        fs::create_dir_all(upper.join("etc")).expect("an upper folder");
        for file in ["hosts", "hostname", "resolv.conf"] {
            fs::write(upper.join("etc").join(file), "").expect("a mount point");
        }
        let etc = crate::images::layer_c_path(&upper.join("etc")).expect("a path");
        let times = [libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        }; 2];
        // SAFETY: `etc` is NUL-terminated and `times` two timespecs, both outliving the call.
        assert_eq!(
            unsafe { libc::utimensat(libc::AT_FDCWD, etc.as_ptr(), times.as_ptr(), 0) },
            0
        );
        assert_eq!(changes(&rootfs, &[lower]).expect("changes read"), []);
    }

    #[test]
    fn added_deleted_and_modified_entries_are_told_apart() {
        let scratch = crate::scratch::ScratchDir::new("changes");
        let lower = scratch.path().join("lower");
        let rootfs = scratch.path().join("rootfs");
        let upper = rootfs.join("diff");
        for dir in ["etc", "bin", "root"] {
            fs::create_dir_all(lower.join(dir)).expect("a lower folder");
        }
        fs::write(lower.join("etc/group"), "root:x:0:\n").expect("a lower file");
        fs::write(lower.join("bin/ls"), "ls").expect("a lower file");
        fs::create_dir_all(upper.join("etc")).expect("an upper folder");
        fs::create_dir_all(upper.join("bin")).expect("an upper folder");
        fs::create_dir_all(upper.join("var/a")).expect("an upper folder");
        fs::write(upper.join("etc/group"), "changed\n").expect("an upper file");
        fs::write(upper.join("etc/hosts"), "").expect("an engine file");
        // The folder's time differs from the image's: it was written to.
        let etc = crate::images::layer_c_path(&upper.join("etc")).expect("a path");
        let times = [libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        }; 2];
        // SAFETY: `etc` is NUL-terminated and `times` two timespecs, both outliving the call.
        assert_eq!(
            unsafe { libc::utimensat(libc::AT_FDCWD, etc.as_ptr(), times.as_ptr(), 0) },
            0
        );
        let whiteout = crate::images::layer_c_path(&upper.join("bin/ls")).expect("a path");
        // SAFETY: a NUL-terminated path; a 0:0 character device is an overlay whiteout.
        assert_eq!(
            unsafe { libc::mknod(whiteout.as_ptr(), libc::S_IFCHR, 0) },
            0
        );
        let found = changes(&rootfs, &[lower]).expect("changes read");
        let change = |path: &str, kind| Change {
            path: path.to_owned(),
            kind,
        };
        assert_eq!(
            found,
            [
                change("/bin", ChangeKind::Modified),
                change("/bin/ls", ChangeKind::Deleted),
                change("/etc", ChangeKind::Modified),
                change("/etc/group", ChangeKind::Modified),
                change("/var", ChangeKind::Added),
                change("/var/a", ChangeKind::Added),
            ]
        );
    }
}
