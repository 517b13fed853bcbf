//! What the network tests share beside their slots ([`crate::slot`]): the engine's networks
//! opened in a sandbox on a slot and torn down on drop, a peer "host" in a namespace of the
//! test's own wired to the host by a veth, and an extra route that takes part of a slot's
//! subnet. Traffic only goes to loopback and to addresses inside namespaces the tests made.

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;

use drydock_engine::network::{
    BridgeConfig, NetworkConfig, Networks, ProxyCommand, Subnet, link, namespace,
};

use crate::slot::Slot;

/// The proxy binary built with these tests.
const PROXY: &str = env!("CARGO_BIN_EXE_drydock-proxy");

/// The network config of a sandbox folder with `slot`'s bridge, chain and subnet.
pub fn config(slot: &Slot, dir: &Path, prefix_len: u8) -> NetworkConfig {
    NetworkConfig {
        data_root: dir.join("data"),
        exec_root: dir.join("exec"),
        bridge: BridgeConfig {
            name: slot.bridge(),
            subnet: Some(slot.subnet(prefix_len)),
            chain: slot.chain(),
            ..BridgeConfig::default()
        },
        proxy: ProxyCommand {
            program: PROXY.into(),
            args: Vec::new(),
        },
    }
}

/// The engine's networks in a sandbox, reopened at will, left with nothing attached, no bridge
/// and no chain on drop.
pub struct TestNetworks {
    config: NetworkConfig,
    networks: Option<Networks>,
}

impl TestNetworks {
    /// Opens the networks of `config`.
    pub fn open(config: NetworkConfig) -> TestNetworks {
        let networks =
            Networks::open(config.clone()).unwrap_or_else(|e| panic!("the networks open: {e}"));
        TestNetworks {
            config,
            networks: Some(networks),
        }
    }

    /// The open networks.
    pub fn get(&self) -> &Networks {
        self.networks.as_ref().expect("open")
    }

    /// Drops the networks and opens them again, as an engine that restarted does.
    pub fn reopen(&mut self) -> &Networks {
        drop(self.networks.take());
        self.networks = Some(
            Networks::open(self.config.clone())
                .unwrap_or_else(|e| panic!("the networks open again: {e}")),
        );
        self.get()
    }
}

impl Drop for TestNetworks {
    fn drop(&mut self) {
        if let Some(networks) = &self.networks {
            for attachment in networks.attachments() {
                let _ = networks.detach(&attachment.container_id);
            }
            let _ = networks.remove_bridge();
        }
    }
}

/// Another host on a link of its own to this one: a namespace holding `eth0` at
/// `198.51.100.<4n+2>/30` with a default route to this host's end at `198.51.100.<4n+1>`.
pub struct PeerHost {
    /// Its namespace.
    pub namespace: PathBuf,
    host_link: String,
    /// This host's address on the link.
    pub host_address: Ipv4Addr,
    /// The peer's address.
    pub peer_address: Ipv4Addr,
}

impl PeerHost {
    /// Makes the peer in `dir` on `slot`'s link.
    pub fn new(dir: &Path, slot: &Slot) -> PeerHost {
        std::fs::create_dir_all(dir).expect("the peer's folder");
        let namespace = dir.join("peer-netns");
        namespace::create(&namespace).expect("the peer's namespace");
        let host_address = Ipv4Addr::new(198, 51, 100, 4 * slot.n + 1);
        let peer_address = Ipv4Addr::new(198, 51, 100, 4 * slot.n + 2);
        let peer = PeerHost {
            namespace,
            host_link: slot.peer_link(),
            host_address,
            peer_address,
        };
        let namespace_arg = peer.namespace.display().to_string();
        ip(&[
            "link",
            "add",
            &peer.host_link,
            "type",
            "veth",
            "peer",
            "name",
            "eth0",
            "netns",
            &namespace_arg,
        ]);
        ip(&[
            "addr",
            "add",
            &format!("{host_address}/30"),
            "dev",
            &peer.host_link,
        ]);
        ip(&["link", "set", &peer.host_link, "up"]);
        namespace::run_in(&peer.namespace, || {
            ip(&["addr", "add", &format!("{peer_address}/30"), "dev", "eth0"]);
            ip(&["link", "set", "eth0", "up"]);
            ip(&["link", "set", "lo", "up"]);
            ip(&["route", "add", "default", "via", &host_address.to_string()]);
        })
        .expect("into the peer's namespace");
        peer
    }
}

impl Drop for PeerHost {
    fn drop(&mut self) {
        let _ = link::delete_link(&self.host_link);
        let _ = namespace::remove(&self.namespace);
    }
}

/// A veth pair whose host end holds `subnet`'s first address, so the host has a route to it;
/// deleted on drop.
pub struct ExtraRoute {
    name: String,
}

impl ExtraRoute {
    /// Adds the pair `name`, `<name>p` with `subnet` on `name`.
    pub fn new(name: &str, subnet: Subnet) -> ExtraRoute {
        let route = ExtraRoute {
            name: name.to_owned(),
        };
        let peer = format!("{name}p");
        ip(&["link", "add", name, "type", "veth", "peer", "name", &peer]);
        ip(&[
            "addr",
            "add",
            &format!("{}/{}", subnet.first_host(), subnet.prefix_len()),
            "dev",
            name,
        ]);
        ip(&["link", "set", name, "up"]);
        ip(&["link", "set", &peer, "up"]);
        route
    }
}

impl Drop for ExtraRoute {
    fn drop(&mut self) {
        let _ = link::delete_link(&self.name);
    }
}

/// Runs `ip <args>`, panicking with its message on failure.
pub fn ip(args: &[&str]) {
    let output = Command::new("ip")
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run ip: {e}"));
    assert!(
        output.status.success(),
        "ip {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr)
    );
}
