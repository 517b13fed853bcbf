//! drydockd's command line: where it listens, where it keeps state, what runs containers.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// A Docker-compatible engine: the Docker Engine API (1.23 to 1.33) served on a unix socket or
/// TCP, containers run by an OCI runtime under per-container monitors.
#[derive(Debug, Parser)]
#[command(name = "drydockd", version, about)]
pub struct Cli {
    /// What to do; without a subcommand, run the daemon.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// The daemon's settings.
    #[command(flatten)]
    pub options: Options,
}

/// drydockd's subcommands besides serving.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Monitor one container (run by the daemon itself, never by hand).
    #[command(hide = true)]
    Monitor {
        /// The container's state folder.
        state_dir: PathBuf,
    },
    /// Serve one container's published ports (run by the daemon itself, never by hand).
    #[command(hide = true)]
    Proxy {
        /// The proxy's spec file.
        spec: PathBuf,
    },
}

/// The daemon's settings.
#[derive(Clone, Debug, Args)]
pub struct Options {
    /// Where to listen: `unix:///path.sock`, `tcp://host:port`; repeat for several.
    #[arg(short = 'H', long = "host", default_value = "unix:///run/drydock.sock")]
    pub hosts: Vec<String>,
    /// Where images, containers, volumes and logs are kept.
    #[arg(long, default_value = "/var/lib/drydock")]
    pub data_root: PathBuf,
    /// Where run-time state is kept (runc's state, container bundles, sockets).
    #[arg(long, default_value = "/run/drydock")]
    pub exec_root: PathBuf,
    /// The OCI runtime: `runc`, `crun`, or a path to a runtime binary.
    #[arg(long, default_value = "runc")]
    pub runtime: String,
    /// The cgroup under which each container gets `<parent>/<id>`.
    #[arg(long, default_value = "/drydock")]
    pub cgroup_parent: String,
    /// The init binary for containers run with `--init`: a path, or a name on `PATH`. It runs
    /// inside the container's root, so it must be statically linked (Debian's `docker-init`
    /// is `tini-static`); when the default is missing, `tini-static` and then `catatonit` are
    /// looked for.
    #[arg(long, default_value = crate::daemon::DEFAULT_INIT)]
    pub init_path: String,
    /// The least severe log level printed on stderr: error, warn, info, debug, trace.
    #[arg(short = 'l', long, default_value = "info")]
    pub log_level: log::LevelFilter,
    /// The group that may use the unix socket (its mode is 0660).
    #[arg(short = 'G', long)]
    pub group: Option<String>,
    /// The Linux bridge of the default `bridge` network.
    #[arg(short = 'b', long, default_value = drydock_engine::network::DEFAULT_BRIDGE_NAME)]
    pub bridge: String,
    /// The bridge's address and subnet, `172.18.0.1/16`; by default the first of Docker's
    /// address pools from 172.18.0.0/16 on that no route of the host overlaps.
    #[arg(long)]
    pub bip: Option<String>,
    /// The MTU of the bridge and of each container's interface.
    #[arg(long, default_value_t = drydock_engine::network::DEFAULT_MTU)]
    pub mtu: u32,
    /// The host address published ports listen on when `-p` names none.
    #[arg(long, default_value = "0.0.0.0")]
    pub ip: std::net::Ipv4Addr,
    /// The prefix of drydockd's iptables chains (two daemons on one host need two).
    #[arg(long, default_value = drydock_engine::network::DEFAULT_CHAIN, hide = true)]
    pub iptables_chain: String,
}
