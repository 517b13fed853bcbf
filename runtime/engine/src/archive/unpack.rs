//! Extraction of an uploaded tar into a folder of the container, from inside the chrooted
//! view, as dockerd's `archive.Unpack` does it: entries cleaned, implied parent folders made,
//! whatever an entry replaces removed (a folder merged with a folder), owners, modes and times
//! from the archive (or the container user's with `copyUIDGID`), folder times set last.
//!
//! Unlike dockerd, the whole archive is checked before anything is written (dockerd stops at
//! the first bad entry, leaving the ones before it extracted): an entry outside the folder, a
//! symlink or hard link leading out of it, or (with `noOverwriteDirNonDir`) a folder replaced
//! by a file or the reverse, refuses the upload whole. Names that are not UTF-8 are read
//! lossily.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufReader, Seek, SeekFrom};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

use super::{ViewMount, absolute_path, in_scope};
use crate::error::{Error, Result};
use crate::images::decompressed;
use crate::images::layer_c_path as c_path;
use crate::mounts::spec::clean_path;

/// The mode of the folders an archive implies but does not hold (dockerd's
/// `ImpliedDirectoryMode`).
const IMPLIED_DIRECTORY_MODE: u32 = 0o755;

/// How [`super::extract`] writes.
#[derive(Clone, Debug, Default)]
pub struct ExtractOptions {
    /// `noOverwriteDirNonDir`: refuse to replace a folder with a non-folder or the reverse.
    pub no_overwrite_dir_non_dir: bool,
    /// `copyUIDGID`: give every extracted file the container user's uid and gid (when the
    /// container has a user) rather than the archive's.
    pub copy_uid_gid: bool,
    /// The container's user (`Config.User`: `name`, `uid`, `name:group`, `uid:gid`).
    pub user: String,
    /// The container's root file system is read-only (`ReadonlyRootfs`).
    pub readonly_rootfs: bool,
}

/// Extracts the tar file `tar` into the folder `path` of the chrooted root.
pub(super) fn extract_into(
    path: &str,
    container: &str,
    tar: &File,
    options: &ExtractOptions,
    mounts: &[ViewMount],
) -> Result<()> {
    let absolute = absolute_path(path);
    let dest = in_scope(&absolute)?;
    let metadata = match fs::symlink_metadata(&dest) {
        Ok(metadata) => metadata,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(Error::NoSuchPath {
                path: path.to_owned(),
                container: container.to_owned(),
            });
        }
        Err(e) => return Err(super::lstat_error(&absolute, e)),
    };
    if !metadata.is_dir() {
        return Err(Error::InvalidArchivePath(
            "extraction point is not a directory".to_owned(),
        ));
    }
    check_writable(&dest, mounts, options.readonly_rootfs)?;
    let owner = if options.copy_uid_gid && !options.user.is_empty() {
        Some(container_user_ids(&options.user))
    } else {
        None
    };
    let mut planned = Plan::default();
    for_each_entry(tar, |entry| planned.check(&dest, entry, options))?;
    let mut writer = Writer {
        dest: &dest,
        options,
        owner,
        folders: Vec::new(),
    };
    for_each_entry(tar, |entry| writer.write(entry))?;
    writer.finish()
}

/// dockerd's read-only checks: a folder in a mount must be in a writable one; a folder on the
/// root file system needs a writable root.
fn check_writable(dest: &str, mounts: &[ViewMount], readonly_rootfs: bool) -> Result<()> {
    let mut in_mount = false;
    for mount in mounts {
        let destination = clean_path(&mount.destination);
        let inside = dest == destination
            || destination == "/"
            || dest.starts_with(&format!("{destination}/"));
        if inside {
            if !mount.writable {
                return Err(Error::ReadOnlyPath(
                    "mounted volume is marked read-only".to_owned(),
                ));
            }
            in_mount = true;
        }
    }
    if !in_mount && readonly_rootfs {
        return Err(Error::ReadOnlyPath(
            "container rootfs is marked read-only".to_owned(),
        ));
    }
    Ok(())
}

/// Runs `visit` on every entry of the (plain or gzip) tar in `tar`, read from its start, but
/// PAX global headers; any failure becomes dockerd's `Error processing tar file` text.
fn for_each_entry(
    tar: &File,
    mut visit: impl FnMut(&mut Entry<'_>) -> Result<(), String>,
) -> Result<()> {
    let reading = |e: io::Error| Error::Io {
        context: "cannot read the uploaded archive".to_owned(),
        source: e,
    };
    let mut file = tar.try_clone().map_err(reading)?;
    file.seek(SeekFrom::Start(0)).map_err(reading)?;
    let input = decompressed(BufReader::new(file)).map_err(|e| processing_error(&e.to_string()))?;
    let mut archive = tar::Archive::new(input);
    let entries = archive
        .entries()
        .map_err(|e| processing_error(&e.to_string()))?;
    for entry in entries {
        let entry = entry.map_err(|e| processing_error(&e.to_string()))?;
        if entry.header().entry_type() == tar::EntryType::XGlobalHeader {
            continue;
        }
        let name = clean_path(&String::from_utf8_lossy(&entry.path_bytes()));
        let link = entry
            .link_name_bytes()
            .map(|link| String::from_utf8_lossy(&link).into_owned());
        let mut entry = Entry {
            name,
            link,
            inner: entry,
        };
        visit(&mut entry).map_err(|message| processing_error(&message))?;
    }
    Ok(())
}

/// dockerd's wording of an extraction that failed (it extracts in a child process).
fn processing_error(message: &str) -> Error {
    Error::InvalidArchivePath(format!(
        "Error processing tar file(exit status 1): {message}"
    ))
}

/// An archive entry with its cleaned name and its link target.
struct Entry<'a> {
    name: String,
    link: Option<String>,
    inner: tar::Entry<'a, Box<dyn io::Read>>,
}

impl Entry<'_> {
    fn kind(&self) -> tar::EntryType {
        self.inner.header().entry_type()
    }
}

/// `dest/name`, cleaned.
fn join(dest: &str, name: &str) -> String {
    clean_path(&format!("{dest}/{name}"))
}

/// Go's `filepath.Dir`.
fn parent(path: &str) -> String {
    match path.rfind('/') {
        Some(0) => "/".to_owned(),
        Some(at) => clean_path(&path[..at]),
        None => ".".to_owned(),
    }
}

/// The first pass: what dockerd would refuse, found before anything is written.
#[derive(Default)]
struct Plan {
    /// Paths the archive makes, with whether each is a folder.
    made: HashMap<String, bool>,
}

impl Plan {
    fn check(
        &mut self,
        dest: &str,
        entry: &mut Entry<'_>,
        options: &ExtractOptions,
    ) -> Result<(), String> {
        let path = join(dest, &entry.name);
        let inside = |p: &str| p == dest || dest == "/" || p.starts_with(&format!("{dest}/"));
        if !inside(&path) {
            return Err(format!("{:?} is outside of {:?}", entry.name, dest));
        }
        let kind = entry.kind();
        // dockerd compares these as strings, and so does this.
        if kind == tar::EntryType::Symlink {
            let link = entry.link.clone().unwrap_or_default();
            let target = clean_path(&format!("{}/{link}", parent(&path)));
            if !target.starts_with(dest) {
                return Err(format!("invalid symlink {path:?} -> {link:?}"));
            }
        }
        if kind == tar::EntryType::Link {
            let link = entry.link.clone().unwrap_or_default();
            let target = join(dest, &link);
            if !target.starts_with(dest) {
                return Err(format!("invalid hardlink {target:?} -> {link:?}"));
            }
        }
        let is_dir = kind == tar::EntryType::Directory;
        if options.no_overwrite_dir_non_dir {
            let existing = match self.made.get(&path) {
                Some(made_dir) => Some(*made_dir),
                None => fs::symlink_metadata(&path).ok().map(|m| m.is_dir()),
            };
            if let Some(existing_dir) = existing {
                overwrite_check(existing_dir, is_dir, &path, dest)?;
            }
        }
        self.made.insert(path, is_dir);
        Ok(())
    }
}

/// dockerd's `noOverwriteDirNonDir` texts.
fn overwrite_check(
    existing_dir: bool,
    entry_dir: bool,
    path: &str,
    dest: &str,
) -> Result<(), String> {
    if existing_dir && !entry_dir {
        return Err(format!(
            "cannot overwrite directory {path:?} with non-directory {dest:?}"
        ));
    }
    if !existing_dir && entry_dir {
        return Err(format!(
            "cannot overwrite non-directory {path:?} with directory {dest:?}"
        ));
    }
    Ok(())
}

/// The second pass: the entries written.
struct Writer<'a> {
    dest: &'a str,
    options: &'a ExtractOptions,
    owner: Option<(u32, u32)>,
    /// Folders made or merged, with their times, set once everything is in.
    folders: Vec<(String, i64)>,
}

impl Writer<'_> {
    fn write(&mut self, entry: &mut Entry<'_>) -> Result<(), String> {
        let path = join(self.dest, &entry.name);
        self.write_at(entry, &path)
            .map_err(|e| format!("{path}: {e}"))
    }

    fn write_at(&mut self, entry: &mut Entry<'_>, path: &str) -> io::Result<()> {
        let kind = entry.kind();
        let is_dir = kind == tar::EntryType::Directory;
        let implied = parent(path);
        if fs::symlink_metadata(&implied).is_err() {
            fs::DirBuilder::new()
                .recursive(true)
                .mode(IMPLIED_DIRECTORY_MODE)
                .create(&implied)?;
        }
        if let Ok(existing) = fs::symlink_metadata(path) {
            if self.options.no_overwrite_dir_non_dir {
                overwrite_check(existing.is_dir(), is_dir, path, self.dest)
                    .map_err(io::Error::other)?;
            }
            if existing.is_dir() && entry.name == "." {
                return Ok(());
            }
            if !(existing.is_dir() && is_dir) {
                if existing.is_dir() {
                    fs::remove_dir_all(path)?;
                } else {
                    fs::remove_file(path)?;
                }
            }
        }
        let header = entry.inner.header();
        // A numeric field left empty is zero, as Go's tar reader takes it (a mode: 0644).
        let mode = header.mode().unwrap_or(0o644) & 0o7777;
        let (uid, gid) = match self.owner {
            Some(owner) => owner,
            None => (
                u32::try_from(header.uid().unwrap_or(0)).unwrap_or(0),
                u32::try_from(header.gid().unwrap_or(0)).unwrap_or(0),
            ),
        };
        let mtime = i64::try_from(header.mtime().unwrap_or(0)).unwrap_or(0);
        let link = entry.link.clone().unwrap_or_default();
        match kind {
            tar::EntryType::Directory => {
                if fs::symlink_metadata(path).is_err() {
                    fs::DirBuilder::new().mode(mode).create(path)?;
                }
                self.folders.push((path.to_owned(), mtime));
            }
            tar::EntryType::Regular | tar::EntryType::Continuous => {
                let mut file = OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(mode)
                    .custom_flags(libc::O_NOFOLLOW)
                    .open(path)?;
                io::copy(&mut entry.inner, &mut file)?;
            }
            tar::EntryType::Symlink => std::os::unix::fs::symlink(&link, path)?,
            tar::EntryType::Link => fs::hard_link(join(self.dest, &link), path)?,
            tar::EntryType::Char | tar::EntryType::Block | tar::EntryType::Fifo => {
                let file_type = match kind {
                    tar::EntryType::Char => libc::S_IFCHR,
                    tar::EntryType::Block => libc::S_IFBLK,
                    _ => libc::S_IFIFO,
                };
                let major = header.device_major()?.unwrap_or(0);
                let minor = header.device_minor()?.unwrap_or(0);
                make_node(path, file_type | mode, libc::makedev(major, minor))?;
            }
            other => {
                return Err(io::Error::other(format!(
                    "unhandled tar header type {}",
                    other.as_byte()
                )));
            }
        }
        let is_symlink = kind == tar::EntryType::Symlink;
        std::os::unix::fs::lchown(path, Some(uid), Some(gid))?;
        // After the owner, which clears set-id bits; a symlink has no mode of its own.
        if !is_symlink {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))?;
        }
        if !is_dir {
            set_times(path, mtime)?;
        }
        Ok(())
    }

    /// Folder times, last: what was written into them changed them.
    fn finish(self) -> Result<()> {
        for (path, mtime) in self.folders.iter().rev() {
            set_times(path, *mtime)
                .map_err(|e| Error::io("set the times of", Path::new(path), e))?;
        }
        Ok(())
    }
}

/// Makes a device node or fifo.
fn make_node(path: &str, mode: u32, device: libc::dev_t) -> io::Result<()> {
    let c = c_path(Path::new(path)).map_err(io::Error::other)?;
    // SAFETY: `c` is a NUL-terminated string that outlives the call.
    if unsafe { libc::mknod(c.as_ptr(), mode, device) } == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// Sets the access and modification times of `path` (not following a symlink) to `mtime`.
fn set_times(path: &str, mtime: i64) -> io::Result<()> {
    let c = c_path(Path::new(path)).map_err(io::Error::other)?;
    let time = libc::timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    let times = [time, time];
    // SAFETY: `c` is NUL-terminated and `times` two timespecs, both outliving the call.
    let set = unsafe {
        libc::utimensat(
            libc::AT_FDCWD,
            c.as_ptr(),
            times.as_ptr(),
            libc::AT_SYMLINK_NOFOLLOW,
        )
    };
    if set == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The uid and gid of the container user `user` from the (chrooted) root's `/etc/passwd` and
/// `/etc/group`: numbers are taken as they are; a name that is not there is root's.
fn container_user_ids(user: &str) -> (u32, u32) {
    let (name, group) = match user.split_once(':') {
        Some((name, group)) => (name, Some(group)),
        None => (user, None),
    };
    let passwd = fs::read_to_string("/etc/passwd").unwrap_or_default();
    let entry = passwd.lines().find_map(|line| {
        let fields: Vec<&str> = line.split(':').collect();
        let (uid, gid) = (
            fields.get(2)?.parse::<u32>().ok()?,
            fields.get(3)?.parse::<u32>().ok()?,
        );
        (fields[0] == name || name.parse() == Ok(uid)).then_some((uid, gid))
    });
    let uid = name
        .parse::<u32>()
        .ok()
        .or(entry.map(|(uid, _)| uid))
        .unwrap_or(0);
    let primary = entry.map_or(0, |(_, gid)| gid);
    let gid = match group {
        None => primary,
        Some(group) => group.parse::<u32>().ok().unwrap_or_else(|| {
            fs::read_to_string("/etc/group")
                .unwrap_or_default()
                .lines()
                .find_map(|line| {
                    let fields: Vec<&str> = line.split(':').collect();
                    (fields.first() == Some(&group)).then(|| fields.get(2)?.parse().ok())?
                })
                .unwrap_or(primary)
        }),
    };
    (uid, gid)
}

#[cfg(test)]
mod tests {
    use super::{join, parent};

    #[test]
    fn entry_paths_are_cleaned_joins_of_the_folder() {
        assert_eq!(join("/tmp", "../../etc/x"), "/etc/x");
        assert_eq!(join("/tmp", "/abs/x"), "/tmp/abs/x");
        assert_eq!(join("/", "."), "/");
        assert_eq!(parent("/tmp/x"), "/tmp");
        assert_eq!(parent("/x"), "/");
    }
}
