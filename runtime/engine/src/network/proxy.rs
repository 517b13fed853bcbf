//! The userland proxy of published ports, docker-proxy's job: a process per container that
//! accepts on the host sockets the engine bound for its published ports and relays each TCP
//! connection, and each UDP peer's datagrams, to the container's address.
//!
//! Why a proxy and not only iptables: a connection from the host to `127.0.0.1:<port>` never
//! passes `PREROUTING` and cannot be DNATed to another interface without turning on
//! `route_localnet` for the bridge, which would also let containers reach services the host
//! keeps on its loopback. The proxy also holds the port, so a host process cannot take it from
//! under a container (and taking a port in use fails at once with Docker's message).
//! DNAT still serves traffic from other hosts (see [`super::nat`]).
//!
//! Why its own process: like the container monitor, it is detached from the engine (its own
//! session, reparented away), so published ports keep answering while the engine restarts.
//! The engine binds the sockets itself (so a port in use, or the kernel's pick of a free
//! port, is known before anything else happens) and passes them on to the proxy as inherited
//! descriptors, named in the proxy's spec file. The proxy program is the engine's
//! `drydock-proxy` binary, or a daemon that is its own proxy (its proxy subcommand runs
//! [`run`]).
//!
//! Files, beside each other under the engine's proxy folder: `<id>.json` (the
//! [`ProxySpec`]), `<id>.pid`, `<id>.log` (the proxy's stderr).

use std::collections::HashMap;
use std::ffi::OsString;
use std::fs;
use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream, UdpSocket};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::ports::Protocol;
use crate::detached::{self, Report, report};
use crate::durable;
use crate::error::{Error, Result};

/// How long a UDP peer's relay lives without traffic (docker-proxy's `UDPConnTrackTimeout`).
const UDP_IDLE: Duration = Duration::from_secs(90);
/// How long connecting to the container may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);
/// How long [`stop`] waits for a killed proxy to be gone.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How to run the proxy: a program and the arguments before the spec file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxyCommand {
    /// The proxy binary (`drydock-proxy`, or a daemon that is its own proxy).
    pub program: PathBuf,
    /// Arguments before the spec file (a daemon's proxy subcommand).
    pub args: Vec<OsString>,
}

/// What one proxy serves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProxySpec {
    /// The container whose ports these are.
    pub container_id: String,
    /// One relay per published port.
    pub forwards: Vec<Forward>,
}

/// One published port as the proxy serves it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Forward {
    /// The inherited descriptor of the bound host socket (listening, for TCP).
    pub fd: RawFd,
    /// The socket's protocol.
    pub protocol: Protocol,
    /// The host address it is bound to (for messages).
    pub host: SocketAddrV4,
    /// Where it relays to: the container's address and port.
    pub container: SocketAddrV4,
}

/// The pid file beside a spec file.
fn pid_file(spec_path: &Path) -> PathBuf {
    spec_path.with_extension("pid")
}

/// Starts a proxy serving `spec`, writing it to `spec_path`, and returns the proxy's pid once
/// it serves. The descriptors the spec names must be open in this process until this returns
/// (the caller holds the sockets); the proxy inherits them. It is not the caller's child when
/// this returns.
///
/// # Errors
///
/// [`Error::Network`] when the proxy cannot be run or reports a failure.
pub fn launch(command: &ProxyCommand, spec_path: &Path, spec: &ProxySpec) -> Result<i32> {
    let failed = |message: String| {
        Error::Network(format!(
            "the port proxy of container {}: {message}",
            spec.container_id
        ))
    };
    durable::write_json_atomically(spec_path, spec)?;
    let inherited: Vec<RawFd> = spec.forwards.iter().map(|forward| forward.fd).collect();
    let mut child = Command::new(&command.program);
    child.args(&command.args).arg(spec_path);
    match detached::spawn(child, &spec_path.with_extension("log"), &inherited).map_err(failed)? {
        Report::Pid(pid) => Ok(pid),
        Report::Error(message) => Err(failed(message)),
    }
}

/// The pid the proxy of `spec_path` wrote.
fn recorded_pid(spec_path: &Path) -> Option<i32> {
    fs::read_to_string(pid_file(spec_path))
        .ok()?
        .trim()
        .parse()
        .ok()
}

/// The state letter of a task (`R`, `S`, `Z`, ...) from its `stat` file.
fn task_state(stat_path: &str) -> Option<char> {
    let stat = fs::read_to_string(stat_path).ok()?;
    stat.rsplit_once(')')?.1.trim_start().chars().next()
}

/// How many threads of `pid` have not exited yet. A process's descriptors (a proxy's sockets)
/// are closed once this is 0, even while its zombie waits for its parent.
fn live_threads(pid: i32) -> usize {
    let Ok(tasks) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .flatten()
        .filter(|task| {
            let stat = format!(
                "/proc/{pid}/task/{}/stat",
                task.file_name().to_string_lossy()
            );
            !matches!(task_state(&stat), None | Some('Z' | 'X'))
        })
        .count()
}

/// The pid of the live proxy of `spec_path`: its pid file names a process that is not a
/// zombie and whose command line names the spec file (so a recycled pid does not count).
pub fn running_pid(spec_path: &Path) -> Option<i32> {
    let pid = recorded_pid(spec_path)?;
    let cmdline = fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let zombie = task_state(&format!("/proc/{pid}/stat")) == Some('Z');
    let wanted = spec_path.as_os_str().as_encoded_bytes();
    let named = cmdline
        .split(|&b| b == 0)
        .any(|argument| argument == wanted);
    (!zombie && named).then_some(pid)
}

/// Kills the proxy of `spec_path`, waits until every thread of it has exited (so its sockets
/// are closed and its ports free) and removes its files. A proxy that is not running is
/// already stopped; one that is dying is waited for.
///
/// # Errors
///
/// [`Error::Network`] when it is still alive after the kill; [`Error::Io`] when its files
/// cannot be removed.
pub fn stop(spec_path: &Path) -> Result<()> {
    let running = running_pid(spec_path);
    if let Some(pid) = running {
        // SAFETY: kill(2) has no memory-safety preconditions; the pid was just checked to be
        // this spec's proxy.
        unsafe { libc::kill(pid, libc::SIGKILL) };
    }
    // A proxy killed just now, or one that died on its own and whose zombie leader waits for
    // its parent while its other threads still close the sockets.
    let dying = running.or_else(|| {
        recorded_pid(spec_path).filter(|pid| task_state(&format!("/proc/{pid}/stat")) == Some('Z'))
    });
    if let Some(pid) = dying {
        let deadline = Instant::now() + STOP_TIMEOUT;
        while live_threads(pid) > 0 {
            if Instant::now() >= deadline {
                return Err(Error::Network(format!(
                    "the port proxy {pid} ({}) is still alive {STOP_TIMEOUT:?} after SIGKILL",
                    spec_path.display()
                )));
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }
    for path in [
        pid_file(spec_path),
        spec_path.with_extension("log"),
        spec_path.to_path_buf(),
    ] {
        match fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io("remove", &path, e)),
        }
    }
    Ok(())
}

/// The proxy's entry point: what the proxy binary (or a daemon's proxy subcommand) runs with
/// the spec file from its command line, before any thread exists. Returns the process's exit
/// code; the proxy proper never returns.
pub fn run(spec_path: &Path) -> i32 {
    if let Some(code) = detached::fork_away() {
        return code;
    }
    let relays = match start_relays(spec_path) {
        Ok(relays) => relays,
        Err(e) => {
            report(&Report::Error(e.to_string()));
            eprintln!("proxy {}: {e}", spec_path.display());
            return 1;
        }
    };
    report(&Report::Pid(std::process::id() as i32));
    for relay in relays {
        let _ = relay.join();
    }
    0
}

/// Reads the spec, writes the pid file, takes over the inherited sockets and starts a thread
/// serving each.
fn start_relays(spec_path: &Path) -> Result<Vec<std::thread::JoinHandle<()>>> {
    let spec: ProxySpec = durable::read_json(spec_path)?
        .ok_or_else(|| Error::io("read", spec_path, io::ErrorKind::NotFound.into()))?;
    durable::write_atomically(
        &pid_file(spec_path),
        std::process::id().to_string().as_bytes(),
    )?;
    let mut relays = Vec::new();
    for forward in spec.forwards {
        let socket = inherited_socket(forward)?;
        relays.push(match forward.protocol {
            Protocol::Tcp => {
                let listener = TcpListener::from(socket);
                std::thread::spawn(move || relay_tcp(&listener, forward.container))
            }
            Protocol::Udp => {
                let socket = UdpSocket::from(socket);
                std::thread::spawn(move || relay_udp(&socket, forward.container))
            }
        });
    }
    Ok(relays)
}

/// Takes over an inherited descriptor after checking that it is a socket of the forward's
/// type, and makes it close on exec again.
fn inherited_socket(forward: Forward) -> Result<OwnedFd> {
    let wanted = match forward.protocol {
        Protocol::Tcp => libc::SOCK_STREAM,
        Protocol::Udp => libc::SOCK_DGRAM,
    };
    let mut kind: libc::c_int = 0;
    let mut length = std::mem::size_of::<libc::c_int>() as libc::socklen_t;
    // SAFETY: `kind` and `length` are valid for getsockopt to fill; a bad fd only fails.
    let queried = unsafe {
        libc::getsockopt(
            forward.fd,
            libc::SOL_SOCKET,
            libc::SO_TYPE,
            (&raw mut kind).cast(),
            &mut length,
        )
    };
    if queried != 0 || kind != wanted {
        return Err(Error::Network(format!(
            "descriptor {} is not the {} socket of {}",
            forward.fd, forward.protocol, forward.host
        )));
    }
    // SAFETY: the descriptor was inherited for this forward alone and nothing else owns it.
    let socket = unsafe { OwnedFd::from_raw_fd(forward.fd) };
    // SAFETY: fcntl on a descriptor we own.
    unsafe { libc::fcntl(socket.as_raw_fd(), libc::F_SETFD, libc::FD_CLOEXEC) };
    Ok(socket)
}

/// Accepts connections on `listener` and relays each to `container` on a thread of its own.
fn relay_tcp(listener: &TcpListener, container: SocketAddrV4) {
    loop {
        match listener.accept() {
            Ok((client, _)) => {
                std::thread::spawn(move || relay_connection(client, container));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning.
                eprintln!("proxy: accept: {e}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// Relays one connection both ways until both sides have finished, passing on each side's
/// end of output as a half-close.
fn relay_connection(client: TcpStream, container: SocketAddrV4) {
    let backend = match TcpStream::connect_timeout(&SocketAddr::V4(container), CONNECT_TIMEOUT) {
        Ok(backend) => backend,
        Err(e) => {
            eprintln!("proxy: cannot connect to {container}: {e}");
            return;
        }
    };
    let (Ok(client_reader), Ok(backend_reader)) = (client.try_clone(), backend.try_clone()) else {
        return;
    };
    let upstream = std::thread::spawn(move || copy_half(client_reader, backend));
    copy_half(backend_reader, client);
    let _ = upstream.join();
}

/// Copies `from` into `to` until `from` ends, then half-closes `to`; on an error both
/// connections are shut so the other direction ends too.
fn copy_half(mut from: TcpStream, mut to: TcpStream) {
    match io::copy(&mut from, &mut to) {
        Ok(_) => {
            let _ = to.shutdown(Shutdown::Write);
        }
        Err(_) => {
            let _ = from.shutdown(Shutdown::Both);
            let _ = to.shutdown(Shutdown::Both);
        }
    }
}

/// Relays datagrams from each peer of `socket` to `container` through a socket of the peer's
/// own, and the container's answers back to the peer, until the peer is idle for
/// [`UDP_IDLE`].
fn relay_udp(socket: &UdpSocket, container: SocketAddrV4) {
    let peers: Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>> = Arc::default();
    let mut buffer = vec![0_u8; 65_536];
    loop {
        let (length, peer) = match socket.recv_from(&mut buffer) {
            Ok(received) => received,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => {
                eprintln!("proxy: receive: {e}");
                std::thread::sleep(Duration::from_millis(100));
                continue;
            }
        };
        let existing = peers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&peer)
            .cloned();
        let backend = match existing {
            Some(backend) => backend,
            None => match udp_backend(socket, container, peer, &peers) {
                Ok(backend) => backend,
                Err(e) => {
                    eprintln!("proxy: cannot relay {peer} to {container}: {e}");
                    continue;
                }
            },
        };
        let _ = backend.send(&buffer[..length]);
    }
}

/// A socket connected to `container` for `peer`, with a thread sending what the container
/// answers back to `peer` through `socket`, removed from `peers` once idle.
fn udp_backend(
    socket: &UdpSocket,
    container: SocketAddrV4,
    peer: SocketAddr,
    peers: &Arc<Mutex<HashMap<SocketAddr, Arc<UdpSocket>>>>,
) -> io::Result<Arc<UdpSocket>> {
    let backend = UdpSocket::bind(SocketAddrV4::new(Ipv4Addr::UNSPECIFIED, 0))?;
    backend.connect(container)?;
    backend.set_read_timeout(Some(UDP_IDLE))?;
    let backend = Arc::new(backend);
    let answers = socket.try_clone()?;
    let (reader, peers_of_thread) = (Arc::clone(&backend), Arc::clone(peers));
    std::thread::spawn(move || {
        let mut buffer = vec![0_u8; 65_536];
        // Ends on the idle timeout, or when the container refuses (nothing listens).
        while let Ok(length) = reader.recv(&mut buffer) {
            let _ = answers.send_to(&buffer[..length], peer);
        }
        peers_of_thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&peer);
    });
    peers
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .insert(peer, Arc::clone(&backend));
    Ok(backend)
}
