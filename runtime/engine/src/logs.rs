//! Reading a container's json-file log (what its monitor writes) as `docker logs` does: stream
//! selection, `--since`, `--until`, `--tail`, and following the log as it grows.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// Which output stream a log entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogStream {
    /// The container's stdout (everything, with a terminal).
    Stdout,
    /// The container's stderr.
    Stderr,
}

/// One entry of the log: a line (or a piece of a long one) with its stream and time.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LogRecord {
    /// The stream.
    pub stream: LogStream,
    /// The text, with its newline when it had one.
    pub line: String,
    /// When the monitor read it.
    pub time: Timestamp,
}

/// Which entries to return.
#[derive(Clone, Debug)]
pub struct LogOptions {
    /// Include stdout entries.
    pub stdout: bool,
    /// Include stderr entries.
    pub stderr: bool,
    /// Only entries at or after this time.
    pub since: Option<Timestamp>,
    /// Only entries before this time.
    pub until: Option<Timestamp>,
    /// Only the last this many of the selected entries (of those already written).
    pub tail: Option<usize>,
}

impl Default for LogOptions {
    fn default() -> LogOptions {
        LogOptions {
            stdout: true,
            stderr: true,
            since: None,
            until: None,
            tail: None,
        }
    }
}

impl LogOptions {
    fn selects(&self, record: &LogRecord) -> bool {
        let stream = match record.stream {
            LogStream::Stdout => self.stdout,
            LogStream::Stderr => self.stderr,
        };
        stream
            && self.since.is_none_or(|since| record.time >= since)
            && self.until.is_none_or(|until| record.time < until)
    }
}

/// A line of the json-file format.
#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: Timestamp,
}

/// Reads a container's log: the selected entries written so far, and a cursor that returns
/// the ones written later ([`LogReader::next_entries`]), for `docker logs --follow`.
pub struct LogReader {
    path: PathBuf,
    options: LogOptions,
    offset: u64,
    /// The bytes of a line whose end the monitor had not written yet.
    partial: Vec<u8>,
}

impl LogReader {
    /// Opens the log at `path` and returns the selected entries already in it (a missing log
    /// has none yet), and the reader positioned after them.
    pub fn open(path: &Path, options: LogOptions) -> Result<(Vec<LogRecord>, LogReader)> {
        let mut reader = LogReader {
            path: path.to_path_buf(),
            options,
            offset: 0,
            partial: Vec::new(),
        };
        let mut records = reader.next_entries()?;
        if let Some(tail) = reader.options.tail {
            let skip = records.len().saturating_sub(tail);
            records.drain(..skip);
        }
        Ok((records, reader))
    }

    /// The selected entries written since the last call.
    pub fn next_entries(&mut self) -> Result<Vec<LogRecord>> {
        let mut file = match File::open(&self.path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io("open", &self.path, e)),
        };
        file.seek(SeekFrom::Start(self.offset))
            .map_err(|e| Error::io("seek in", &self.path, e))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)
            .map_err(|e| Error::io("read", &self.path, e))?;
        self.offset += bytes.len() as u64;
        let mut data = std::mem::take(&mut self.partial);
        data.extend_from_slice(&bytes);
        let complete = data
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |end| end + 1);
        self.partial = data.split_off(complete);
        let mut records = Vec::new();
        for line in data.split(|&b| b == b'\n').filter(|line| !line.is_empty()) {
            let entry: Entry = serde_json::from_slice(line).map_err(|source| Error::StateJson {
                path: self.path.display().to_string(),
                source,
            })?;
            let stream = if entry.stream == "stderr" {
                LogStream::Stderr
            } else {
                LogStream::Stdout
            };
            let record = LogRecord {
                stream,
                line: entry.log,
                time: entry.time,
            };
            if self.options.selects(&record) {
                records.push(record);
            }
        }
        Ok(records)
    }
}
