//! State written so that a crash leaves either the old file or the new one, never a torn one.

use std::fs::{self, File};
use std::io::Write;
use std::path::Path;

use crate::error::{Error, Result};

/// Writes `bytes` to `path` atomically: a temporary file beside it is written and fsynced,
/// renamed over `path`, and the folder is fsynced so the rename itself is durable.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, true)
}

/// Writes `bytes` to `path` atomically against a crash of the process (a temporary file
/// renamed over it), without waiting for the disk: for state that can be rebuilt after a
/// power loss (a container's running state, which its monitor's records tell again).
pub fn replace_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    replace(path, bytes, false)
}

fn replace(path: &Path, bytes: &[u8], durable: bool) -> Result<()> {
    let dir = path
        .parent()
        .ok_or_else(|| Error::io("write", path, std::io::ErrorKind::InvalidInput.into()))?;
    let name = path
        .file_name()
        .ok_or_else(|| Error::io("write", path, std::io::ErrorKind::InvalidInput.into()))?;
    let mut temporary_name = std::ffi::OsString::from(".");
    temporary_name.push(name);
    temporary_name.push(format!(".tmp-{}", std::process::id()));
    let temporary = dir.join(temporary_name);
    let written = (|| {
        let mut file = File::create(&temporary)?;
        file.write_all(bytes)?;
        if durable { file.sync_all() } else { Ok(()) }
    })();
    if let Err(e) = written {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io("write", &temporary, e));
    }
    if let Err(e) = fs::rename(&temporary, path) {
        let _ = fs::remove_file(&temporary);
        return Err(Error::io("rename into place", path, e));
    }
    if durable { sync_dir(dir) } else { Ok(()) }
}

/// Writes `value` as JSON to `path` atomically (see [`write_atomically`]).
pub fn write_json_atomically<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|source| Error::StateJson {
        path: path.display().to_string(),
        source,
    })?;
    write_atomically(path, &bytes)
}

/// Writes `value` as JSON to `path`, atomic against a process crash but not synced to disk
/// (see [`replace_atomically`]).
pub fn replace_json_atomically<T: serde::Serialize>(path: &Path, value: &T) -> Result<()> {
    let bytes = serde_json::to_vec(value).map_err(|source| Error::StateJson {
        path: path.display().to_string(),
        source,
    })?;
    replace_atomically(path, &bytes)
}

/// Reads a JSON document the engine wrote, or `None` when the file does not exist.
pub fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Option<T>> {
    let bytes = match fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io("read", path, e)),
    };
    serde_json::from_slice(&bytes)
        .map(Some)
        .map_err(|source| Error::StateJson {
            path: path.display().to_string(),
            source,
        })
}

/// Fsyncs a folder, making renames and new entries in it durable.
pub fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|folder| folder.sync_all())
        .map_err(|e| Error::io("fsync", dir, e))
}

/// Renames a fully written folder into place and makes the rename durable.
pub fn rename_dir_durably(from: &Path, to: &Path) -> Result<()> {
    fs::rename(from, to).map_err(|e| Error::io("rename into place", to, e))?;
    match to.parent() {
        Some(parent) => sync_dir(parent),
        None => Ok(()),
    }
}
