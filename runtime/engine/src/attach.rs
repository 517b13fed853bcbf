//! Attaching to a running container through its monitor: the monitor listens on an abstract
//! unix socket named after the container; a client sends one JSON line saying which streams it
//! wants (an [`AttachRequest`]) and then receives the container's output as it is written, in
//! Docker's multiplexed frames (8-byte header: stream 1 or 2, three zero bytes, big-endian
//! length) or raw for a container with a terminal, while what it writes goes to the
//! container's stdin (when the container was started with `OpenStdin`). The socket closes when
//! the container exits.

use std::io::{self, Read, Write};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixListener, UnixStream};
use std::sync::{Arc, Condvar, Mutex, PoisonError};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The stream byte of stdout in a frame header.
pub const STDOUT: u8 = 1;
/// The stream byte of stderr in a frame header.
pub const STDERR: u8 = 2;

/// Which streams an attach wants.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachRequest {
    /// Send what the client writes to the container's stdin.
    pub stdin: bool,
    /// Receive stdout.
    pub stdout: bool,
    /// Receive stderr.
    pub stderr: bool,
}

/// The abstract socket name of a container's attach socket.
pub fn socket_name(id: &str) -> String {
    format!("drydock-attach-{id}")
}

/// Connects to the attach socket of the running container `id`, asking for `request`'s
/// streams. Read the output from the returned stream ([`read_frame`] for a container without
/// a terminal), write stdin to it, and shut its write half to end stdin.
///
/// # Errors
///
/// [`Error::ContainerConflict`] when no monitor listens (the container is not running).
pub fn connect(id: &str, request: AttachRequest) -> Result<UnixStream> {
    let address = SocketAddr::from_abstract_name(socket_name(id).as_bytes())
        .map_err(|e| attach_error(id, e))?;
    let mut stream = UnixStream::connect_addr(&address).map_err(|e| {
        if e.kind() == io::ErrorKind::ConnectionRefused {
            Error::ContainerConflict(format!(
                "You cannot attach to a stopped container, start it first ({id})"
            ))
        } else {
            attach_error(id, e)
        }
    })?;
    let mut header = serde_json::to_vec(&request).map_err(|e| Error::Monitor {
        container: id.to_owned(),
        message: e.to_string(),
    })?;
    header.push(b'\n');
    stream.write_all(&header).map_err(|e| attach_error(id, e))?;
    Ok(stream)
}

fn attach_error(id: &str, e: io::Error) -> Error {
    Error::Monitor {
        container: id.to_owned(),
        message: format!("cannot attach: {e}"),
    }
}

/// The abstract socket name where a container's (or exec's) monitor takes terminal resizes.
fn control_name(id: &str) -> String {
    format!("drydock-control-{id}")
}

/// A terminal size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerminalSize {
    /// Rows.
    pub height: u16,
    /// Columns.
    pub width: u16,
}

/// Resizes the terminal of the running container (or exec) `id`, as `docker` does when its
/// window changes.
///
/// # Errors
///
/// [`Error::ContainerConflict`] when it is not running, [`Error::Monitor`] when it has no
/// terminal.
pub fn resize(id: &str, size: TerminalSize) -> Result<()> {
    let address = SocketAddr::from_abstract_name(control_name(id).as_bytes())
        .map_err(|e| attach_error(id, e))?;
    let mut stream = UnixStream::connect_addr(&address).map_err(|e| {
        if e.kind() == io::ErrorKind::ConnectionRefused {
            Error::ContainerConflict(format!("Container {id} is not running"))
        } else {
            attach_error(id, e)
        }
    })?;
    let mut line = serde_json::to_vec(&size).map_err(|e| Error::Monitor {
        container: id.to_owned(),
        message: e.to_string(),
    })?;
    line.push(b'\n');
    stream.write_all(&line).map_err(|e| attach_error(id, e))?;
    let mut reply = String::new();
    stream
        .read_to_string(&mut reply)
        .map_err(|e| attach_error(id, e))?;
    match reply.trim() {
        "ok" => Ok(()),
        message => Err(Error::Monitor {
            container: id.to_owned(),
            message: message.to_owned(),
        }),
    }
}

/// Serves terminal resizes of the container (or exec) `id` on its control socket until the
/// process exits; `master` is its terminal, `None` without one.
pub(crate) fn serve_control(id: &str, master: Option<std::os::fd::OwnedFd>) -> io::Result<()> {
    let address = SocketAddr::from_abstract_name(control_name(id).as_bytes())?;
    let listener = UnixListener::bind_addr(&address)?;
    std::thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(mut client) = client else { continue };
            let reply = match read_line(&mut client)
                .and_then(|line| serde_json::from_slice::<TerminalSize>(&line).ok())
            {
                None => "a resize is one JSON line with height and width".to_owned(),
                Some(size) => match &master {
                    None => "the container has no terminal".to_owned(),
                    Some(master) => set_window_size(master, size),
                },
            };
            let _ = client.write_all(format!("{reply}\n").as_bytes());
        }
    });
    Ok(())
}

/// Sets a terminal's window size; `ok` or the kernel's error.
fn set_window_size(master: &std::os::fd::OwnedFd, size: TerminalSize) -> String {
    use std::os::fd::AsRawFd;

    let window = libc::winsize {
        ws_row: size.height,
        ws_col: size.width,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: TIOCSWINSZ reads one winsize from the pointer, which is valid for the call.
    let set = unsafe { libc::ioctl(master.as_raw_fd(), libc::TIOCSWINSZ, &window) };
    if set == 0 {
        "ok".to_owned()
    } else {
        format!("cannot resize the terminal: {}", io::Error::last_os_error())
    }
}

/// Reads one line (at most 1 KiB, without its newline) byte by byte, so nothing after it is
/// consumed; `None` when the peer ends first or sends more.
fn read_line(client: &mut UnixStream) -> Option<Vec<u8>> {
    let mut line = Vec::new();
    let mut byte = [0_u8; 1];
    loop {
        match client.read(&mut byte) {
            Ok(1) if byte[0] == b'\n' => return Some(line),
            Ok(1) if line.len() < 1024 => line.push(byte[0]),
            _ => return None,
        }
    }
}

/// Reads one multiplexed frame: its stream byte and payload, or `None` at the end.
pub fn read_frame(reader: &mut impl Read) -> io::Result<Option<(u8, Vec<u8>)>> {
    let mut header = [0_u8; 8];
    match reader.read_exact(&mut header) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let length = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let mut payload = vec![0_u8; length];
    reader.read_exact(&mut payload)?;
    Ok(Some((header[0], payload)))
}

/// One attached client's output side.
struct Subscriber {
    stream: UnixStream,
    request: AttachRequest,
}

/// The monitor's fan-out of the container's output to attached clients.
pub(crate) struct Hub {
    subscribers: Mutex<Vec<Subscriber>>,
    /// Signalled whenever a client subscribes.
    subscribed: Condvar,
    /// How many clients attach before the output is read (attaches that were waiting when the
    /// container started); until then the output waits in its pipe or terminal.
    expected: usize,
    /// Set once the process is gone or never started: nobody waits for clients any more.
    closed: std::sync::atomic::AtomicBool,
    /// The attach socket's listening descriptor (-1 before it listens), shut down when the
    /// process is gone so that a late client is refused rather than accepted by nobody.
    listener: std::sync::atomic::AtomicI32,
    tty: bool,
}

impl Hub {
    pub(crate) fn new(tty: bool, expected: usize) -> Hub {
        Hub {
            subscribers: Mutex::new(Vec::new()),
            subscribed: Condvar::new(),
            expected,
            closed: std::sync::atomic::AtomicBool::new(false),
            listener: std::sync::atomic::AtomicI32::new(-1),
            tty,
        }
    }

    /// Blocks until the expected clients have attached, or `timeout` passed (a client that
    /// went away must not hold the container's output forever).
    pub(crate) fn wait_for_expected(&self, timeout: std::time::Duration) {
        let subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let _ = self
            .subscribed
            .wait_timeout_while(subscribers, timeout, |subscribers| {
                subscribers.len() < self.expected
                    && !self.closed.load(std::sync::atomic::Ordering::SeqCst)
            });
    }

    /// Sends `bytes` of `stream` to every client that asked for it, dropping clients that went
    /// away.
    pub(crate) fn broadcast(&self, stream: u8, bytes: &[u8]) {
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if subscribers.is_empty() {
            return;
        }
        let mut framed = Vec::with_capacity(bytes.len() + 8);
        if !self.tty {
            framed.push(stream);
            framed.extend_from_slice(&[0, 0, 0]);
            framed.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        }
        framed.extend_from_slice(bytes);
        subscribers.retain_mut(|subscriber| {
            let wanted = match stream {
                STDERR => subscriber.request.stderr,
                _ => subscriber.request.stdout,
            };
            !wanted || subscriber.stream.write_all(&framed).is_ok()
        });
    }

    /// Ends every client's stream (the container exited, or never started) and stops waiting
    /// for expected clients.
    pub(crate) fn close_all(&self) {
        self.closed.store(true, std::sync::atomic::Ordering::SeqCst);
        self.subscribed.notify_all();
        let listener = self.listener.swap(-1, std::sync::atomic::Ordering::SeqCst);
        if listener >= 0 {
            // SAFETY: shutdown(2) on the listening socket the serving thread owns; it only
            // wakes that thread's accept and makes further connects fail.
            unsafe { libc::shutdown(listener, libc::SHUT_RDWR) };
        }
        let mut subscribers = self
            .subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for subscriber in subscribers.drain(..) {
            let _ = subscriber.stream.shutdown(std::net::Shutdown::Both);
        }
    }
}

/// The container's stdin as the monitor holds it: the write end of its pipe, or the terminal's
/// master; `None` once closed.
pub(crate) type Stdin = Arc<Mutex<Option<std::fs::File>>>;

/// Listens on the container's attach socket and serves clients until the process exits.
pub(crate) fn serve(id: &str, hub: Arc<Hub>, stdin: Stdin, stdin_once: bool) -> io::Result<()> {
    let address = SocketAddr::from_abstract_name(socket_name(id).as_bytes())?;
    let listener = UnixListener::bind_addr(&address)?;
    {
        use std::os::fd::AsRawFd;
        hub.listener
            .store(listener.as_raw_fd(), std::sync::atomic::Ordering::SeqCst);
    }
    std::thread::spawn(move || {
        for client in listener.incoming() {
            if hub.closed.load(std::sync::atomic::Ordering::SeqCst) {
                break;
            }
            let Ok(client) = client else { continue };
            let hub = Arc::clone(&hub);
            let stdin = Arc::clone(&stdin);
            std::thread::spawn(move || serve_client(client, &hub, &stdin, stdin_once));
        }
    });
    Ok(())
}

/// Reads a client's request line, subscribes it, and copies what it writes to stdin.
fn serve_client(mut client: UnixStream, hub: &Hub, stdin: &Stdin, stdin_once: bool) {
    // Byte by byte, so that no stdin byte after the line is taken with it.
    let Some(line) = read_line(&mut client) else {
        return;
    };
    let Ok(request) = serde_json::from_slice::<AttachRequest>(&line) else {
        return;
    };
    if let Ok(output) = client.try_clone() {
        hub.subscribers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Subscriber {
                stream: output,
                request,
            });
        hub.subscribed.notify_all();
    }
    if !request.stdin {
        return;
    }
    let mut buffer = [0_u8; 32 * 1024];
    loop {
        let count = match client.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(count) => count,
        };
        let mut target = stdin.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(file) = target.as_mut() else { break };
        if file.write_all(&buffer[..count]).is_err() {
            break;
        }
    }
    if stdin_once && !hub.tty {
        // Closing the pipe's write end is the container's end of input.
        stdin.lock().unwrap_or_else(PoisonError::into_inner).take();
    }
}
