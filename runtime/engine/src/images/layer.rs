//! Layer tarballs: decompression, hashing to a diff id, and unpacking into a folder that
//! overlayfs can stack (Docker's `.wh.` whiteouts become overlay whiteouts).

use std::ffi::CString;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Component, Path, PathBuf};

use crate::digest::{Digest, HashingWriter};
use crate::error::{Error, Result};

/// The prefix Docker's layer format marks a deleted file with.
const WHITEOUT_PREFIX: &str = ".wh.";
/// The name that marks its folder opaque (the lower layers' content of it is hidden).
const OPAQUE_MARKER: &str = ".wh..wh..opq";

/// `input` decompressed when it is gzip, as is when it is a plain tar.
///
/// # Errors
///
/// [`Error::InvalidLayer`] for xz, bzip2 and zstd, which the engine does not read.
pub fn decompressed<'a, R: Read + 'a>(input: R) -> Result<Box<dyn Read + 'a>> {
    let mut reader = BufReader::with_capacity(64 * 1024, input);
    let head = reader
        .fill_buf()
        .map_err(|e| Error::InvalidLayer(format!("cannot read the tarball: {e}")))?;
    let compression = if head.starts_with(&[0x1f, 0x8b]) {
        Some("gzip")
    } else if head.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0]) {
        Some("xz")
    } else if head.starts_with(b"BZh") {
        Some("bzip2")
    } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
        Some("zstd")
    } else {
        None
    };
    match compression {
        None => Ok(Box::new(reader)),
        Some("gzip") => Ok(Box::new(flate2::bufread::MultiGzDecoder::new(reader))),
        Some(other) => Err(Error::InvalidLayer(format!(
            "{other}-compressed tarballs are not supported: give a plain or gzip tarball"
        ))),
    }
}

/// Copies the (decompressed) tar from `input` to the file `to`, returning its diff id: the
/// sha256 of the uncompressed tar, as Docker computes it.
pub fn store_uncompressed(input: impl Read, to: &Path) -> Result<Digest> {
    let mut input = decompressed(input)?;
    let file = File::create(to).map_err(|e| Error::io("create", to, e))?;
    let mut writer = HashingWriter::new(file);
    io::copy(&mut input, &mut writer)
        .map_err(|e| Error::InvalidLayer(format!("cannot read the tarball: {e}")))?;
    let (digest, _, file) = writer.finish();
    file.sync_all().map_err(|e| Error::io("fsync", to, e))?;
    Ok(digest)
}

/// Unpacks the tar file `tar` into the empty folder `dest`, keeping owners, modes, times and
/// xattrs, and turning whiteouts into overlayfs ones. Returns the layer's size as Docker counts
/// it: the sizes of its files and symlinks (a symlink's is its target's length).
///
/// # Errors
///
/// [`Error::InvalidLayer`] for a malformed tar or an entry that would land outside `dest`.
pub fn unpack(tar: &Path, dest: &Path) -> Result<u64> {
    let file = File::open(tar).map_err(|e| Error::io("open", tar, e))?;
    let mut archive = tar::Archive::new(BufReader::new(file));
    archive.set_preserve_permissions(true);
    archive.set_preserve_ownerships(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    let invalid = |e: io::Error| Error::InvalidLayer(format!("{}: {e}", tar.display()));
    let mut size = 0_u64;
    for entry in archive.entries().map_err(invalid)? {
        let mut entry = entry.map_err(invalid)?;
        let path = entry.path().map_err(invalid)?.into_owned();
        let relative = relative_inside(&path)?;
        let Some(name) = relative
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
        else {
            // The archive's root folder itself: nothing to create.
            continue;
        };
        if name == OPAQUE_MARKER {
            let folder = dest.join(relative.parent().unwrap_or(Path::new("")));
            ensure_folder_inside(dest, &folder)?;
            set_xattr(&folder, "trusted.overlay.opaque", b"y")?;
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT_PREFIX) {
            let folder = dest.join(relative.parent().unwrap_or(Path::new("")));
            ensure_folder_inside(dest, &folder)?;
            make_whiteout(&folder.join(hidden))?;
            continue;
        }
        size += counted_size(&entry).map_err(invalid)?;
        entry.unpack_in(dest).map_err(invalid)?;
    }
    Ok(size)
}

/// What an entry adds to the layer's size as dockerd counts it (the `lstat` sizes of the
/// unpacked files, folders excluded, hard links once): a file's length, a symlink's target's.
fn counted_size<R: Read>(entry: &tar::Entry<'_, R>) -> io::Result<u64> {
    let kind = entry.header().entry_type();
    if kind.is_file() || kind == tar::EntryType::Continuous {
        Ok(entry.size())
    } else if kind.is_symlink() {
        Ok(entry
            .link_name_bytes()
            .map_or(0, |target| target.len() as u64))
    } else {
        Ok(0)
    }
}

/// The entry path made relative, refusing `..` components (absolute paths are taken as
/// relative to the layer's root, as Docker does).
fn relative_inside(path: &Path) -> Result<PathBuf> {
    let mut relative = PathBuf::new();
    for component in path.components() {
        match component {
            Component::Normal(part) => relative.push(part),
            Component::RootDir | Component::CurDir => {}
            Component::ParentDir | Component::Prefix(_) => {
                return Err(Error::InvalidLayer(format!(
                    "entry {} leaves the layer's root",
                    path.display()
                )));
            }
        }
    }
    Ok(relative)
}

/// Creates `folder` (and its parents) and checks that, with symlinks resolved, it lies in `root`.
fn ensure_folder_inside(root: &Path, folder: &Path) -> Result<()> {
    fs::create_dir_all(folder).map_err(|e| Error::io("create", folder, e))?;
    let root = fs::canonicalize(root).map_err(|e| Error::io("resolve", root, e))?;
    let resolved = fs::canonicalize(folder).map_err(|e| Error::io("resolve", folder, e))?;
    if resolved.starts_with(&root) {
        Ok(())
    } else {
        Err(Error::InvalidLayer(format!(
            "whiteout in {} leaves the layer's root through a symlink",
            folder.display()
        )))
    }
}

/// An overlayfs whiteout: a character device 0:0.
fn make_whiteout(path: &Path) -> Result<()> {
    let c_path = c_path(path)?;
    // SAFETY: `c_path` is a NUL-terminated string that outlives the call.
    let made = unsafe { libc::mknod(c_path.as_ptr(), libc::S_IFCHR, 0) };
    if made == 0 {
        Ok(())
    } else {
        Err(Error::io(
            "make the whiteout",
            path,
            io::Error::last_os_error(),
        ))
    }
}

/// Sets an extended attribute on a path (not following a final symlink).
fn set_xattr(path: &Path, name: &str, value: &[u8]) -> Result<()> {
    let c_path = c_path(path)?;
    let c_name = CString::new(name).map_err(|_| Error::InvalidLayer(name.to_owned()))?;
    // SAFETY: both strings are NUL-terminated and `value` is a valid buffer of its length.
    let set = unsafe {
        libc::lsetxattr(
            c_path.as_ptr(),
            c_name.as_ptr(),
            value.as_ptr().cast(),
            value.len(),
            0,
        )
    };
    if set == 0 {
        Ok(())
    } else {
        Err(Error::io("mark opaque", path, io::Error::last_os_error()))
    }
}

/// `path` as a C string.
pub(crate) fn c_path(path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| {
        Error::io(
            "use",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "path holds a NUL byte"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::{decompressed, relative_inside};
    use std::io::Read;
    use std::path::Path;

    #[test]
    fn gzip_input_is_decompressed_and_plain_input_passes_through() {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"plain bytes").expect("vec write");
        let compressed = gz.finish().expect("gzip finishes");
        let mut out = String::new();
        decompressed(&compressed[..])
            .expect("gzip is read")
            .read_to_string(&mut out)
            .expect("decodes");
        assert_eq!(out, "plain bytes");
        let mut plain = String::new();
        decompressed(&b"plain bytes"[..])
            .expect("plain is read")
            .read_to_string(&mut plain)
            .expect("reads");
        assert_eq!(plain, "plain bytes");
    }

    #[test]
    fn xz_input_is_refused_with_a_clear_error() {
        let error = decompressed(&[0xfd, b'7', b'z', b'X', b'Z', 0, 1][..])
            .err()
            .expect("xz refused");
        assert!(error.to_string().contains("xz-compressed"), "{error}");
    }

    #[test]
    fn entries_climbing_out_of_the_layer_are_refused() {
        assert!(relative_inside(Path::new("a/../../etc/passwd")).is_err());
        assert_eq!(
            relative_inside(Path::new("/./bin/sh")).expect("absolute is relative"),
            Path::new("bin/sh")
        );
    }
}
