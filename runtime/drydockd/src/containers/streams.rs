//! A container's output through the API: `docker logs` (json-file replay, follow) and
//! `docker attach` / `docker run`'s attach (the monitor's live streams, stdin over the
//! hijacked connection, detach keys).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use bytes::Bytes;
use drydock_engine::attach::{self, AttachRequest};
use drydock_engine::logs::{LogOptions, LogReader, LogRecord, LogStream};
use drydock_engine::timestamp::Timestamp;
use drydock_runtime::server::{ByteStream, Hijack, ServerError};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::lifecycle::publish;
use super::record::Status;
use super::store::Container;
use crate::daemon::Daemon;
use crate::errors::blocking;

/// How often `logs --follow` looks for new entries.
const FOLLOW_INTERVAL: Duration = Duration::from_millis(50);

/// A byte stream fed by a task through a channel.
pub fn channel_stream() -> (mpsc::Sender<Bytes>, ByteStream) {
    let (sender, receiver) = mpsc::channel::<Bytes>(64);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|bytes| (Ok(bytes), receiver))
    });
    (sender, Box::pin(stream))
}

/// One log entry as the API sends it: a frame (stream byte, length) unless the container has
/// a terminal, with the entry's time first when asked for.
fn encode(record: &LogRecord, tty: bool, timestamps: bool) -> Bytes {
    let mut payload = Vec::with_capacity(record.line.len() + 40);
    if timestamps {
        payload.extend_from_slice(record.time.to_string().as_bytes());
        payload.push(b' ');
    }
    payload.extend_from_slice(record.line.as_bytes());
    if tty {
        return Bytes::from(payload);
    }
    let stream = match record.stream {
        LogStream::Stdout => attach::STDOUT,
        LogStream::Stderr => attach::STDERR,
    };
    let mut framed = Vec::with_capacity(payload.len() + 8);
    framed.push(stream);
    framed.extend_from_slice(&[0, 0, 0]);
    framed.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    framed.extend_from_slice(&payload);
    Bytes::from(framed)
}

/// What `docker logs` asks for.
#[derive(Clone, Debug)]
pub struct LogsRequest {
    /// Entries of stdout.
    pub stdout: bool,
    /// Entries of stderr.
    pub stderr: bool,
    /// Entries at or after this Unix second.
    pub since: Option<i64>,
    /// The last this many entries (`all` or none: every entry).
    pub tail: Option<usize>,
    /// Each entry's time first.
    pub timestamps: bool,
    /// Go on with new entries while the container runs.
    pub follow: bool,
}

/// The log stream of a container.
///
/// # Errors
///
/// 400 when neither stream is asked for, as dockerd answers.
pub async fn logs(
    daemon: &Daemon,
    container: &Arc<Container>,
    request: LogsRequest,
) -> Result<ByteStream, ServerError> {
    if !request.stdout && !request.stderr {
        return Err(ServerError::bad_request(
            "You must choose at least one stream",
        ));
    }
    let record = container.snapshot();
    let tty = record.config.tty;
    let path = daemon.runtime.log_path(&record.id);
    let options = LogOptions {
        stdout: request.stdout,
        stderr: request.stderr,
        since: request
            .since
            .filter(|s| *s > 0)
            .map(|s| Timestamp::from_unix(s, 0)),
        until: None,
        tail: request.tail,
    };
    let (entries, mut reader) = blocking(move || LogReader::open(&path, options)).await?;
    let (sender, stream) = channel_stream();
    let container = Arc::clone(container);
    tokio::spawn(async move {
        for entry in &entries {
            if sender
                .send(encode(entry, tty, request.timestamps))
                .await
                .is_err()
            {
                return;
            }
        }
        if !request.follow {
            return;
        }
        loop {
            let running = container.lock().state.status.is_running();
            let (more, back) = match tokio::task::spawn_blocking(move || {
                let more = reader.next_entries();
                (more, reader)
            })
            .await
            {
                Ok(result) => result,
                Err(_) => return,
            };
            reader = back;
            let Ok(more) = more else { return };
            for entry in &more {
                if sender
                    .send(encode(entry, tty, request.timestamps))
                    .await
                    .is_err()
                {
                    return;
                }
            }
            if !running && more.is_empty() {
                return;
            }
            tokio::time::sleep(FOLLOW_INTERVAL).await;
            if sender.is_closed() {
                return;
            }
        }
    });
    Ok(stream)
}

/// What an attach asks for.
#[derive(Clone, Debug, Default)]
pub struct AttachOptions {
    /// Send the client's input to the container's stdin.
    pub stdin: bool,
    /// Receive stdout.
    pub stdout: bool,
    /// Receive stderr.
    pub stderr: bool,
    /// Replay the log first.
    pub logs: bool,
    /// Stream live output.
    pub stream: bool,
    /// The key sequence that detaches (`ctrl-p,ctrl-q` by default).
    pub detach_keys: Option<String>,
}

/// The detach keys when none are given (an empty value means these too).
pub const DEFAULT_DETACH_KEYS: &str = "ctrl-p,ctrl-q";

/// Parses Docker's detach-key syntax (`ctrl-p,ctrl-q`, `a`, `ctrl-@`) into bytes.
///
/// # Errors
///
/// 400 for a key Docker does not accept.
pub fn parse_detach_keys(text: &str) -> Result<Vec<u8>, ServerError> {
    if text.is_empty() {
        return parse_detach_keys(DEFAULT_DETACH_KEYS);
    }
    let bad = || ServerError::bad_request(format!("Invalid detach keys ({text}) provided"));
    let mut keys = Vec::new();
    for key in text.split(',') {
        if let Some(rest) = key.strip_prefix("ctrl-") {
            let byte = match rest.as_bytes() {
                [c @ b'a'..=b'z'] => c - b'a' + 1,
                [b'@'] => 0,
                [b'['] => 27,
                [b'\\'] => 28,
                [b']'] => 29,
                [b'^'] => 30,
                [b'_'] => 31,
                _ => return Err(bad()),
            };
            keys.push(byte);
        } else if key.len() == 1 {
            keys.push(key.as_bytes()[0]);
        } else {
            return Err(bad());
        }
    }
    Ok(keys)
}

/// Attaches to a container: the log replay when asked, then (with `stream`) the live output
/// from the container's monitor, waiting for the next start when it does not run yet, while
/// the client's input goes to its stdin until the detach keys.
///
/// # Errors
///
/// 409 for a paused container; 400 for bad detach keys.
pub async fn attach(
    daemon: &Daemon,
    container: &Arc<Container>,
    options: AttachOptions,
    hijack: Hijack,
) -> Result<ByteStream, ServerError> {
    let record = container.snapshot();
    if record.state.status == Status::Paused {
        return Err(ServerError::conflict(
            "You cannot attach to a paused container, unpause it first",
        ));
    }
    if record.state.status == Status::Restarting {
        return Err(ServerError::conflict(
            "You cannot attach to a restarting container, wait until it is running",
        ));
    }
    let detach_keys = parse_detach_keys(
        options
            .detach_keys
            .as_deref()
            .unwrap_or(DEFAULT_DETACH_KEYS),
    )?;
    let tty = record.config.tty;
    let replay = if options.logs {
        let path = daemon.runtime.log_path(&record.id);
        let log_options = LogOptions {
            stdout: options.stdout,
            stderr: options.stderr,
            ..LogOptions::default()
        };
        blocking(move || LogReader::open(&path, log_options))
            .await?
            .0
    } else {
        Vec::new()
    };
    let waiting = options.stream && !record.state.status.is_running();
    if waiting {
        container.pending_attaches.fetch_add(1, Ordering::SeqCst);
    }
    if options.stream {
        // Recorded before the answer, as dockerd does: the CLI starts the container only
        // after the attach's answer, so `attach` comes before `start`.
        publish(daemon, &record, "attach", &[]);
    }
    let (sender, stream) = channel_stream();
    let daemon = daemon.clone();
    let container = Arc::clone(container);
    tokio::spawn(async move {
        for entry in &replay {
            if sender.send(encode(entry, tty, false)).await.is_err() {
                return;
            }
        }
        if !options.stream {
            return;
        }
        if waiting && !wait_for_start(&container).await {
            return;
        }
        let request = AttachRequest {
            stdin: options.stdin,
            stdout: options.stdout,
            stderr: options.stderr,
        };
        let input = options.stdin.then_some(hijack);
        if relay(&container.id, request, input, detach_keys, &sender).await == Relayed::Detached {
            publish(&daemon, &container.snapshot(), "detach", &[]);
        }
    });
    Ok(stream)
}

/// How a relay ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Relayed {
    /// The process's output ended (it exited), or the client went away.
    Ended,
    /// The client typed the detach keys.
    Detached,
    /// The monitor's attach socket could not be reached.
    Unreachable,
}

/// Connects to the attach socket `name` (a container's or an exec's monitor) as a client
/// asking for `request`; `None` when it cannot be reached.
pub async fn connect(name: &str, request: AttachRequest) -> Option<tokio::net::UnixStream> {
    let name = name.to_owned();
    let socket = tokio::task::spawn_blocking(move || attach::connect(&name, request))
        .await
        .ok()?
        .ok()?;
    socket.set_nonblocking(true).ok()?;
    tokio::net::UnixStream::from_std(socket).ok()
}

/// Connects to the attach socket `name` (a container's or an exec's monitor) and relays:
/// its output to `sender`, the client's `input` (when given) to the process's stdin until
/// the `detach_keys`, which end the relay without touching the process.
pub async fn relay(
    name: &str,
    request: AttachRequest,
    input: Option<Hijack>,
    detach_keys: Vec<u8>,
    sender: &mpsc::Sender<Bytes>,
) -> Relayed {
    let Some(socket) = connect(name, request).await else {
        return Relayed::Unreachable;
    };
    let (mut from_process, mut to_process) = socket.into_split();
    let (detached_tx, mut detached_rx) = tokio::sync::oneshot::channel::<()>();
    if let Some(hijack) = input {
        tokio::spawn(async move {
            let Some(mut input) = hijack.input().await else {
                return;
            };
            let mut buffer = vec![0_u8; 32 * 1024];
            let mut matched = 0;
            loop {
                let count = match input.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(count) => count,
                };
                let mut forward = Vec::with_capacity(count);
                let mut detached = false;
                for &byte in &buffer[..count] {
                    if !detach_keys.is_empty() && byte == detach_keys[matched] {
                        matched += 1;
                        if matched == detach_keys.len() {
                            detached = true;
                            break;
                        }
                        continue;
                    }
                    forward.extend_from_slice(&detach_keys[..matched]);
                    matched = 0;
                    forward.push(byte);
                }
                if to_process.write_all(&forward).await.is_err() {
                    break;
                }
                if detached {
                    let _ = detached_tx.send(());
                    return;
                }
            }
            let _ = to_process.shutdown().await;
        });
    }
    let mut buffer = vec![0_u8; 32 * 1024];
    loop {
        tokio::select! {
            read = from_process.read(&mut buffer) => match read {
                Ok(0) | Err(_) => return Relayed::Ended,
                Ok(count) => {
                    if sender.send(Bytes::copy_from_slice(&buffer[..count])).await.is_err() {
                        return Relayed::Ended;
                    }
                }
            },
            Ok(()) = &mut detached_rx => return Relayed::Detached,
        }
    }
}

/// Waits until the container runs (or ran: its monitor holds the output for this attach);
/// false when it was removed first.
async fn wait_for_start(container: &Container) -> bool {
    let mut changes = container.subscribe();
    let exits = container.exits.load(Ordering::SeqCst);
    loop {
        changes.borrow_and_update();
        let status = container.lock().state.status;
        if status.is_running() || container.exits.load(Ordering::SeqCst) > exits {
            return true;
        }
        if changes.changed().await.is_err() {
            return false;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys_parse_as_docker_writes_them() {
        assert_eq!(parse_detach_keys("ctrl-p,ctrl-q").ok(), Some(vec![16, 17]));
        assert_eq!(parse_detach_keys("").ok(), Some(vec![16, 17]));
        assert_eq!(parse_detach_keys("a,ctrl-@").ok(), Some(vec![b'a', 0]));
        assert!(parse_detach_keys("ctrl-1").is_err());
        assert!(parse_detach_keys("abc").is_err());
    }

    #[test]
    fn log_entries_are_framed_unless_the_container_has_a_terminal() {
        let record = LogRecord {
            stream: LogStream::Stderr,
            line: "hi\n".to_owned(),
            time: Timestamp::UNIX_EPOCH,
        };
        assert_eq!(
            &encode(&record, false, false)[..],
            b"\x02\0\0\0\0\0\0\x03hi\n"
        );
        assert_eq!(&encode(&record, true, false)[..], b"hi\n");
        assert_eq!(
            &encode(&record, true, true)[..],
            b"1970-01-01T00:00:00Z hi\n"
        );
    }
}
