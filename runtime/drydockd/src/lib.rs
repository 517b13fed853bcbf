//! drydockd: a Docker-compatible engine. The generated server's traits (`drydock-server`)
//! implemented on drydock's engine core (`drydock-engine`), served on unix sockets and TCP.
//!
//! The crate reads top-down: [`options`] (the command line) → [`daemon`] (the engine's parts
//! put together, state loaded from disk) → one module per API area implementing its trait
//! ([`containers`], [`exec`], [`images`], [`system`], [`volumes`], [`networks`], and
//! [`not_swarm`] for the swarm-mode areas a standalone engine answers as dockerd does) →
//! [`serve`] (listeners, signals).
//!
//! Architecture invariant: HTTP and API versions stop at these trait implementations; the
//! engine crate sees typed values only. Every engine failure becomes Docker's status and
//! `{"message": ...}` through [`errors`].

#![recursion_limit = "256"]

pub mod containers;
pub mod daemon;
pub mod errors;
pub mod events;
pub mod exec;
pub mod images;
pub mod logging;
pub mod names;
pub mod networks;
pub mod not_swarm;
pub mod options;
pub mod system;
pub mod volumes;

use std::io;
use std::path::PathBuf;
use std::process::ExitCode;

use drydock_runtime::server::listen;
use drydock_server::ServerConfig;

pub use daemon::Daemon;
use options::{Cli, Command, Options};

/// The `Server` header's product version and `docker version`'s engine version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The `drydockd` program: parses the command line, runs the subcommand it names (a
/// container's monitor, a port proxy) or else the daemon, and says how it ended. The binary's
/// `main` is this function; a test crate that needs the daemon as a program of its own (cargo
/// builds only its own package's binaries for its tests) has a `main` that calls it too.
pub fn run_command_line() -> ExitCode {
    let cli = <Cli as clap::Parser>::parse();
    // Before any thread exists: the monitor and the proxy fork.
    let code = match &cli.command {
        Some(Command::Monitor { state_dir }) => Some(drydock_engine::monitor::run(state_dir)),
        Some(Command::Proxy { spec }) => Some(drydock_engine::network::proxy::run(spec)),
        None => None,
    };
    if let Some(code) = code {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    logging::init(cli.options.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(serve(cli.options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the daemon until SIGTERM or SIGINT: opens its state, listens on every `-H` address,
/// and serves the Docker Engine API.
///
/// # Errors
///
/// When the state cannot be opened or an address cannot be listened on.
pub async fn serve(options: Options) -> io::Result<()> {
    let daemon = Daemon::open(options.clone())
        .await
        .map_err(|e| io::Error::other(format!("cannot open the engine's state: {e}")))?;
    let config = ServerConfig {
        server_version: VERSION.to_owned(),
        ..ServerConfig::default()
    };
    let router = drydock_server::router_with_config(daemon.clone(), config);
    let mut tasks = tokio::task::JoinSet::new();
    let mut sockets: Vec<PathBuf> = Vec::new();
    for host in &options.hosts {
        if let Some(path) = host.strip_prefix("unix://") {
            let path = PathBuf::from(path);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)?;
            }
            let listener = listen::bind_unix(&path)
                .map_err(|e| io::Error::other(format!("cannot listen on {host}: {e}")))?;
            if let Some(group) = &options.group {
                set_group(&path, group)?;
            }
            log::info!("API listening on {}", path.display());
            sockets.push(path);
            tasks.spawn(listen::serve_unix(listener, router.clone()));
        } else if let Some(address) = host.strip_prefix("tcp://") {
            let listener = tokio::net::TcpListener::bind(address)
                .await
                .map_err(|e| io::Error::other(format!("cannot listen on {host}: {e}")))?;
            log::info!("API listening on {}", listener.local_addr()?);
            tasks.spawn(listen::serve_tcp(listener, router.clone()));
        } else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("-H {host}: the address must start with unix:// or tcp://"),
            ));
        }
    }
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let outcome = tokio::select! {
        _ = terminate.recv() => { log::info!("SIGTERM: shutting down"); Ok(()) }
        _ = tokio::signal::ctrl_c() => { log::info!("SIGINT: shutting down"); Ok(()) }
        Some(ended) = tasks.join_next() => match ended {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(e),
            Err(e) => Err(io::Error::other(e)),
        },
    };
    tasks.abort_all();
    daemon.shutdown().await;
    for socket in sockets {
        let _ = std::fs::remove_file(socket);
    }
    outcome
}

/// Gives the socket at `path` to `group` (a name from /etc/group or a number).
fn set_group(path: &std::path::Path, group: &str) -> io::Result<()> {
    let gid = match group.parse::<u32>() {
        Ok(gid) => gid,
        Err(_) => std::fs::read_to_string("/etc/group")?
            .lines()
            .find_map(|line| {
                let mut fields = line.split(':');
                (fields.next() == Some(group))
                    .then(|| fields.nth(1).and_then(|gid| gid.parse().ok()))
                    .flatten()
            })
            .ok_or_else(|| {
                io::Error::new(io::ErrorKind::NotFound, format!("no such group: {group}"))
            })?,
    };
    std::os::unix::fs::chown(path, None, Some(gid))
}
