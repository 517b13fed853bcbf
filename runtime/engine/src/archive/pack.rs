//! Tars of a container's files, written from inside the chrooted view as dockerd's
//! `TarWithOptions` writes them: entries in name order, symlinks kept as links, a file's
//! further hard links as links to its first name, folders named with a trailing `/`; files
//! that vanish or cannot be read while the container runs are left out, as dockerd leaves
//! them out.

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs::{self, File, Metadata};
use std::io::{self, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::Path;

use crate::error::{Error, Result};

/// The longest name (and link target) a ustar header holds; longer ones go in a PAX header.
const USTAR_NAME_MAX: usize = 100;

/// Tars the resource at `source` (a path in the chrooted root), its entries named after
/// `rebase` (the requested path's last element; the root's entries start with `/`).
pub(super) fn tar_resource<W: Write>(source: &str, rebase: &str, out: W) -> Result<()> {
    let mut packer = Packer::new(out);
    let name = if rebase == "/" { "" } else { rebase };
    packer.walk(Path::new(source), name.as_bytes().to_vec())?;
    packer.finish()
}

/// Tars everything under the chrooted root, named relative to it, the root itself left out.
pub(super) fn tar_tree<W: Write>(out: W) -> Result<()> {
    let mut packer = Packer::new(out);
    packer.children(Path::new("/"), None)?;
    packer.finish()
}

/// A tar being written, with the first name of each multiply linked file seen.
struct Packer<W: Write> {
    builder: tar::Builder<W>,
    links: HashMap<(u64, u64), Vec<u8>>,
}

impl<W: Write> Packer<W> {
    fn new(out: W) -> Packer<W> {
        Packer {
            builder: tar::Builder::new(out),
            links: HashMap::new(),
        }
    }

    /// Adds `path` as `name` and, for a folder, everything in it.
    fn walk(&mut self, path: &Path, name: Vec<u8>) -> Result<()> {
        let Ok(metadata) = fs::symlink_metadata(path) else {
            return Ok(());
        };
        self.append(path, name.clone(), &metadata)
            .map_err(write_error)?;
        if metadata.is_dir() {
            self.children(path, Some(&name))?;
        }
        Ok(())
    }

    /// Adds what the folder `dir` holds, in name order, under `name` (at the top without one).
    fn children(&mut self, dir: &Path, name: Option<&[u8]>) -> Result<()> {
        let Ok(entries) = fs::read_dir(dir) else {
            return Ok(());
        };
        let mut names: Vec<OsString> = entries.flatten().map(|entry| entry.file_name()).collect();
        names.sort_by(|a, b| a.as_bytes().cmp(b.as_bytes()));
        for child in names {
            let mut child_name = Vec::new();
            if let Some(name) = name {
                child_name.extend_from_slice(name);
                child_name.push(b'/');
            }
            child_name.extend_from_slice(child.as_bytes());
            self.walk(&dir.join(&child), child_name)?;
        }
        Ok(())
    }

    /// Writes one entry; sockets are left out (tar has no kind for them).
    fn append(&mut self, path: &Path, mut name: Vec<u8>, metadata: &Metadata) -> io::Result<()> {
        let kind = metadata.file_type();
        if kind.is_socket() {
            return Ok(());
        }
        let mut header = tar::Header::new_ustar();
        header.set_mode(metadata.mode() & 0o7777);
        header.set_uid(u64::from(metadata.uid()));
        header.set_gid(u64::from(metadata.gid()));
        header.set_mtime(u64::try_from(metadata.mtime()).unwrap_or(0));
        header.set_size(0);
        let mut link: Option<Vec<u8>> = None;
        let mut content: Option<File> = None;
        if kind.is_dir() {
            header.set_entry_type(tar::EntryType::Directory);
            name.push(b'/');
        } else if kind.is_symlink() {
            header.set_entry_type(tar::EntryType::Symlink);
            link = Some(fs::read_link(path)?.as_os_str().as_bytes().to_vec());
        } else if kind.is_file() {
            let inode = (metadata.dev(), metadata.ino());
            if let Some(first) = self.links.get(&inode).filter(|_| metadata.nlink() > 1) {
                header.set_entry_type(tar::EntryType::Link);
                link = Some(first.clone());
            } else {
                // A file that cannot be opened now (it vanished) is left out.
                let Ok(file) = File::open(path) else {
                    return Ok(());
                };
                if metadata.nlink() > 1 {
                    self.links.insert(inode, name.clone());
                }
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(metadata.len());
                content = Some(file);
            }
        } else if kind.is_fifo() {
            header.set_entry_type(tar::EntryType::Fifo);
        } else {
            header.set_entry_type(if kind.is_char_device() {
                tar::EntryType::Char
            } else {
                tar::EntryType::Block
            });
            let device = metadata.rdev();
            header.set_device_major(libc::major(device))?;
            header.set_device_minor(libc::minor(device))?;
        }
        let mut pax: Vec<(&str, &[u8])> = Vec::new();
        if name.len() > USTAR_NAME_MAX {
            pax.push(("path", &name));
        }
        if let Some(link) = link.as_deref().filter(|link| link.len() > USTAR_NAME_MAX) {
            pax.push(("linkpath", link));
        }
        if !pax.is_empty() {
            self.builder.append_pax_extensions(pax)?;
        }
        // The names go in as they are (the root's start with `/`, which `set_path` refuses);
        // a longer one was given in full in the PAX header above.
        let old = header.as_old_mut();
        copy_truncated(&mut old.name, &name);
        if let Some(link) = &link {
            copy_truncated(&mut old.linkname, link);
        }
        header.set_cksum();
        match content {
            // A file that shrank while it was read would tear the archive: pad it to the size
            // the header announced.
            Some(file) => {
                let size = header.size()?;
                let reader = file.take(size).chain(io::repeat(0)).take(size);
                self.builder.append(&header, reader)
            }
            None => self.builder.append(&header, io::empty()),
        }
    }

    fn finish(self) -> Result<()> {
        self.builder
            .into_inner()
            .and_then(|mut out| out.flush())
            .map_err(write_error)
    }
}

/// `bytes` in the fixed-size field `field`, cut to fit, the rest zeroed.
fn copy_truncated(field: &mut [u8], bytes: &[u8]) {
    let n = bytes.len().min(field.len());
    field[..n].copy_from_slice(&bytes[..n]);
    field[n..].fill(0);
}

fn write_error(source: io::Error) -> Error {
    Error::Io {
        context: "cannot write the archive".to_owned(),
        source,
    }
}
