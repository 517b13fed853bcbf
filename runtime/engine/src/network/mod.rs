//! Container networking as dockerd does it for its three default networks: `bridge` (a Linux
//! bridge, a veth pair and a network namespace per container, addresses from a pool, outbound
//! NAT, published ports), `host` (the host's own namespace) and `none` (a namespace of its own
//! with only a loopback interface).
//!
//! - [`ipam`]: subnets, the address pool, MAC addresses derived from addresses.
//! - [`namespace`]: network namespaces held by a bind-mounted file, so they outlive the engine.
//! - [`link`]: the bridge, veth pairs and in-namespace addresses and routes, with iproute2.
//! - [`nat`]: outbound NAT, DNAT of published ports and forwarding rules, with iptables.
//! - [`ports`]: published ports, requested and bound.
//! - [`proxy`]: the userland proxy that serves published ports on the host, loopback included.
//!
//! [`Networks`] puts them together. Its state is one JSON document, `<data root>/network/
//! state.json`, written atomically after every change: the network records (ids, creation
//! times, the bridge's subnet and options), the pool's position, and every container's
//! [`Attachment`]. Kernel objects live under the exec root: `netns/<container id>` (the
//! namespace) and `network/proxy/<container id>.*` (its proxy's files). An engine that
//! restarts finds its attachments, namespaces, veths, rules and proxies as it left them; after a
//! reboot the namespaces are gone, and so are the attachments that used them.
//!
//! A container is attached ([`Networks::attach`]) before it starts, and runc is given
//! [`Attachment::namespace`]; it is detached ([`Networks::detach`]) when it is removed (or when
//! it stops, as dockerd does; that is the daemon's choice).

pub mod ipam;
pub mod link;
pub mod namespace;
pub mod nat;
pub mod ports;
pub mod proxy;

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Read;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

pub use ipam::{MacAddress, Pool, Subnet};
pub use ports::{PortBinding, PortRequest, Protocol};
pub use proxy::ProxyCommand;

use self::link::{HostRoute, VethPlan};
use self::nat::Firewall;
use self::proxy::{Forward, ProxySpec};
use crate::durable;
use crate::error::{Error, Result};
use crate::oci::NetworkNamespace;
use crate::timestamp::Timestamp;

/// The default bridge device's name: not `docker0`, so drydock and dockerd can share a host.
pub const DEFAULT_BRIDGE_NAME: &str = "drydock0";
/// The default prefix of the engine's iptables chains.
pub const DEFAULT_CHAIN: &str = "DRYDOCK";
/// The default MTU of the bridge and its veths (dockerd's).
pub const DEFAULT_MTU: u32 = 1500;
/// The default network's name.
pub const BRIDGE_NETWORK: &str = "bridge";
/// The host network's name.
pub const HOST_NETWORK: &str = "host";
/// The name of the network without a network.
pub const NONE_NETWORK: &str = "none";

/// Where the engine keeps network state, and how it sets up the default bridge.
#[derive(Clone, Debug)]
pub struct NetworkConfig {
    /// The data root: the state document is `network/state.json` in it.
    pub data_root: PathBuf,
    /// The exec root: namespaces in `netns/`, proxy files in `network/proxy/`.
    pub exec_root: PathBuf,
    /// The default bridge.
    pub bridge: BridgeConfig,
    /// How to run the userland proxy of published ports.
    pub proxy: ProxyCommand,
}

/// How the default bridge network is set up (dockerd's `--bridge`, `--bip`, `--mtu`, `--ip`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    /// The bridge device's name, up to 15 characters.
    pub name: String,
    /// Its subnet; when `None`, the one it had before, or the first of Docker's default pools
    /// from `172.18.0.0/16` on (`172.17.0.0/16` is left to docker0) that overlaps no route of
    /// the host.
    pub subnet: Option<Subnet>,
    /// The bridge's address with `subnet`; the subnet's first host address when `None`.
    pub gateway: Option<Ipv4Addr>,
    /// The MTU of the bridge and of every veth.
    pub mtu: u32,
    /// The prefix of the engine's iptables chains.
    pub chain: String,
    /// The host address published ports listen on when a request names none.
    pub host_binding_ipv4: Ipv4Addr,
}

impl Default for BridgeConfig {
    fn default() -> BridgeConfig {
        BridgeConfig {
            name: DEFAULT_BRIDGE_NAME.to_owned(),
            subnet: None,
            gateway: None,
            mtu: DEFAULT_MTU,
            chain: DEFAULT_CHAIN.to_owned(),
            host_binding_ipv4: Ipv4Addr::UNSPECIFIED,
        }
    }
}

/// Which of the default networks a container is on (`HostConfig.NetworkMode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NetworkMode {
    /// The default bridge.
    Bridge,
    /// The host's namespace.
    Host,
    /// A namespace with only a loopback interface.
    None,
}

impl NetworkMode {
    /// Every mode, in the order networks are listed.
    pub const ALL: [NetworkMode; 3] = [NetworkMode::Bridge, NetworkMode::Host, NetworkMode::None];

    /// The network's name: `bridge`, `host` or `none`.
    pub fn network_name(self) -> &'static str {
        match self {
            NetworkMode::Bridge => BRIDGE_NETWORK,
            NetworkMode::Host => HOST_NETWORK,
            NetworkMode::None => NONE_NETWORK,
        }
    }

    /// The network's driver, as Docker names it: `bridge`, `host` or `null`.
    pub fn driver(self) -> &'static str {
        match self {
            NetworkMode::Bridge => "bridge",
            NetworkMode::Host => "host",
            NetworkMode::None => "null",
        }
    }

    /// The mode of a `HostConfig.NetworkMode`: empty and `default` are `bridge`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] for `container:<id>` (not supported yet);
    /// [`Error::NoSuchNetwork`] for any other name (user-defined networks come later).
    pub fn parse(text: &str) -> Result<NetworkMode> {
        match text {
            "" | "default" | BRIDGE_NETWORK => Ok(NetworkMode::Bridge),
            HOST_NETWORK => Ok(NetworkMode::Host),
            NONE_NETWORK => Ok(NetworkMode::None),
            other if other.starts_with("container:") => Err(Error::InvalidNetworkConfig(format!(
                "network mode {other} is not supported by drydock yet"
            ))),
            other => Err(Error::NoSuchNetwork(other.to_owned())),
        }
    }
}

/// A network as `docker network ls` and `inspect` show it (the parts that are not constant for
/// the default networks).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkRecord {
    /// 64 hex digits, made once and kept.
    pub id: String,
    /// `bridge`, `host` or `none`.
    pub name: String,
    /// The network's mode.
    pub mode: NetworkMode,
    /// When the engine first made it.
    pub created: Timestamp,
    /// The bridge's subnet and gateway; empty for `host` and `none`.
    pub ipam: Vec<IpamConfig>,
    /// The driver options (`com.docker.network.bridge.name` and the rest, as dockerd shows
    /// them for its default bridge); empty for `host` and `none`.
    pub options: BTreeMap<String, String>,
}

impl NetworkRecord {
    /// The driver: `bridge`, `host` or `null`.
    pub fn driver(&self) -> &'static str {
        self.mode.driver()
    }
}

/// One address pool of a network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct IpamConfig {
    /// The subnet.
    pub subnet: Subnet,
    /// The gateway, the bridge's address.
    pub gateway: Ipv4Addr,
}

/// A container's place on a network: what `docker inspect` shows under
/// `NetworkSettings.Networks` and `NetworkSettings.Ports`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    /// The container.
    pub container_id: String,
    /// The network's mode.
    pub mode: NetworkMode,
    /// The network's id.
    pub network_id: String,
    /// The network's name.
    pub network_name: String,
    /// The endpoint's id, 64 hex digits.
    pub endpoint_id: String,
    /// The container's interface on the bridge; `None` on `host` and `none`.
    pub bridge: Option<BridgeEndpoint>,
    /// The published ports (none on `host` and `none`, where dockerd drops them too).
    pub ports: Vec<PortBinding>,
}

impl Attachment {
    /// The network namespace runc is to put the container in.
    pub fn namespace(&self) -> NetworkNamespace {
        match (&self.bridge, self.mode) {
            (Some(endpoint), _) => NetworkNamespace::Path(endpoint.namespace.clone()),
            (None, NetworkMode::Host) => NetworkNamespace::Host,
            (None, _) => NetworkNamespace::New,
        }
    }
}

/// A container's interface on the bridge.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BridgeEndpoint {
    /// Its address.
    pub ip: Ipv4Addr,
    /// The subnet's prefix length.
    pub prefix_len: u8,
    /// Its default gateway, the bridge's address.
    pub gateway: Ipv4Addr,
    /// Its MAC address, derived from `ip`.
    pub mac: MacAddress,
    /// The bridge device.
    pub bridge: String,
    /// The host end of its veth pair, a port of the bridge.
    pub host_interface: String,
    /// The container's network namespace, a mounted file.
    pub namespace: PathBuf,
}

/// What `state.json` holds.
#[derive(Default, Serialize, Deserialize)]
struct State {
    networks: Vec<NetworkRecord>,
    pool: Option<Pool>,
    endpoints: BTreeMap<String, Attachment>,
}

impl State {
    fn record(&self, mode: NetworkMode) -> Result<&NetworkRecord> {
        self.networks
            .iter()
            .find(|record| record.mode == mode)
            .ok_or_else(|| Error::NoSuchNetwork(mode.network_name().to_owned()))
    }

    fn pool(&mut self) -> Result<&mut Pool> {
        self.pool
            .as_mut()
            .ok_or_else(|| Error::Network("the bridge network has no address pool".to_owned()))
    }
}

/// The engine's networks: the default bridge set up on the host, the records of `bridge`,
/// `host` and `none`, and every container's attachment. Shared between threads; changes are
/// made one at a time.
#[derive(Debug)]
pub struct Networks {
    config: NetworkConfig,
    firewall: Firewall,
    state: Mutex<State>,
}

impl std::fmt::Debug for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("State")
            .field("networks", &self.networks.len())
            .field("endpoints", &self.endpoints.len())
            .finish()
    }
}

impl Networks {
    /// Opens the engine's networks: reads the state (making the three records, with new ids,
    /// the first time), forgets attachments whose namespace is gone (the machine restarted),
    /// chooses the bridge's subnet, makes sure the bridge exists with its address, and
    /// rebuilds the engine's iptables chains from the state.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] for a bad bridge name, chain or subnet;
    /// [`Error::NetworkConflict`] when the subnet overlaps a route of the host, or the bridge
    /// name is taken by another kind of interface; [`Error::Network`] when `ip` or iptables
    /// fail.
    pub fn open(config: NetworkConfig) -> Result<Networks> {
        validate_interface_name(&config.bridge.name)?;
        let firewall = Firewall::new(&config.bridge.chain, &config.bridge.name)?;
        let networks = Networks {
            firewall,
            state: Mutex::new(State::default()),
            config,
        };
        for dir in [
            networks.state_path().parent().map(Path::to_path_buf),
            Some(networks.config.exec_root.join("netns")),
            Some(networks.proxy_dir()),
        ]
        .into_iter()
        .flatten()
        {
            fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        }
        let mut state: State = durable::read_json(&networks.state_path())?.unwrap_or_default();
        for mode in NetworkMode::ALL {
            if state.record(mode).is_err() {
                state.networks.push(NetworkRecord {
                    id: random_id()?,
                    name: mode.network_name().to_owned(),
                    mode,
                    created: Timestamp::now(),
                    ipam: Vec::new(),
                    options: BTreeMap::new(),
                });
            }
        }
        let mut gone = Vec::new();
        for (id, attachment) in &state.endpoints {
            if let Some(endpoint) = &attachment.bridge
                && !namespace::exists(&endpoint.namespace)?
            {
                gone.push(id.clone());
            }
        }
        for id in gone {
            if let Some(attachment) = state.endpoints.remove(&id) {
                let _ = networks.disconnect(&attachment);
            }
        }
        networks.set_up_bridge(&mut state)?;
        networks.save(&state)?;
        *networks.lock() = state;
        Ok(networks)
    }

    /// Chooses the subnet, fills the pool with the attachments' addresses, updates the bridge's
    /// record, and sets up the bridge device and the firewall.
    fn set_up_bridge(&self, state: &mut State) -> Result<()> {
        let bridge = &self.config.bridge;
        let on_bridge: Vec<&Attachment> = state
            .endpoints
            .values()
            .filter(|attachment| attachment.bridge.is_some())
            .collect();
        let routes: Vec<HostRoute> = link::host_routes()?
            .into_iter()
            .filter(|route| route.device != bridge.name)
            .collect();
        let (subnet, gateway) =
            choose_subnet(bridge, state.pool.as_ref(), !on_bridge.is_empty(), &routes)?;
        let mut pool = match state.pool.take() {
            Some(pool) if pool.subnet() == subnet && pool.gateway() == gateway => pool,
            _ => Pool::new(subnet, gateway)?,
        };
        for endpoint in on_bridge
            .iter()
            .filter_map(|attachment| attachment.bridge.as_ref())
        {
            pool.reserve(endpoint.ip)?;
        }
        let published: Vec<(Ipv4Addr, &[PortBinding])> = on_bridge
            .iter()
            .filter_map(|attachment| {
                let endpoint = attachment.bridge.as_ref()?;
                Some((endpoint.ip, attachment.ports.as_slice()))
            })
            .collect();
        link::ensure_bridge(&bridge.name, subnet, gateway, bridge.mtu)?;
        self.firewall.install(subnet, &published)?;
        state.pool = Some(pool);
        let options = bridge_options(bridge);
        if let Some(record) = state
            .networks
            .iter_mut()
            .find(|record| record.mode == NetworkMode::Bridge)
        {
            record.ipam = vec![IpamConfig { subnet, gateway }];
            record.options = options;
        }
        Ok(())
    }

    /// The configuration the networks were opened with.
    pub fn config(&self) -> &NetworkConfig {
        &self.config
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn state_path(&self) -> PathBuf {
        self.config.data_root.join("network").join("state.json")
    }

    fn proxy_dir(&self) -> PathBuf {
        self.config.exec_root.join("network").join("proxy")
    }

    fn proxy_spec_path(&self, container_id: &str) -> PathBuf {
        self.proxy_dir().join(format!("{container_id}.json"))
    }

    fn save(&self, state: &State) -> Result<()> {
        durable::write_json_atomically(&self.state_path(), state)
    }

    /// The file holding the network namespace the engine makes for a container on the bridge.
    pub fn namespace_path(&self, container_id: &str) -> PathBuf {
        self.config.exec_root.join("netns").join(container_id)
    }

    /// The networks, `bridge`, `host` and `none` in that order.
    pub fn list(&self) -> Vec<NetworkRecord> {
        let state = self.lock();
        NetworkMode::ALL
            .iter()
            .filter_map(|mode| state.record(*mode).ok().cloned())
            .collect()
    }

    /// The network named by `name_or_id`: its full id, its name, or a prefix of its id, as
    /// dockerd looks networks up.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchNetwork`] when none matches; [`Error::InvalidNetworkConfig`] when an id
    /// prefix matches more than one.
    pub fn find(&self, name_or_id: &str) -> Result<NetworkRecord> {
        let records = self.list();
        if let Some(record) = records
            .iter()
            .find(|record| record.id == name_or_id || record.name == name_or_id)
        {
            return Ok(record.clone());
        }
        let matches: Vec<&NetworkRecord> = if name_or_id.is_empty() {
            Vec::new()
        } else {
            records
                .iter()
                .filter(|record| record.id.starts_with(name_or_id))
                .collect()
        };
        match matches.as_slice() {
            [record] => Ok((*record).clone()),
            [] => Err(Error::NoSuchNetwork(name_or_id.to_owned())),
            several => Err(Error::InvalidNetworkConfig(format!(
                "network {name_or_id} is ambiguous ({} matches found based on ID prefix)",
                several.len()
            ))),
        }
    }

    /// The attachments of the network with id `network_id` (its `Containers`), by container.
    pub fn endpoints(&self, network_id: &str) -> Vec<Attachment> {
        self.lock()
            .endpoints
            .values()
            .filter(|attachment| attachment.network_id == network_id)
            .cloned()
            .collect()
    }

    /// Every attachment, by container id.
    pub fn attachments(&self) -> Vec<Attachment> {
        self.lock().endpoints.values().cloned().collect()
    }

    /// The container's attachment, if it has one.
    pub fn attachment(&self, container_id: &str) -> Option<Attachment> {
        self.lock().endpoints.get(container_id).cloned()
    }

    /// Attaches a container to the network of `mode` and publishes `ports` (on the bridge;
    /// dockerd drops them on `host` and `none`, and so does this). On the bridge: a new
    /// namespace, a veth pair with `eth0` inside holding the next address of the pool, its MAC
    /// and default route, loopback up; the host ports bound (a host port of 0 gets one from the
    /// ephemeral range), their DNAT and forwarding rules added and their proxy started.
    /// Attaching an attached container again to the same network returns its attachment.
    ///
    /// On failure nothing of it is left: no namespace, veth, rule, proxy or address.
    ///
    /// # Errors
    ///
    /// [`Error::NetworkConflict`] when the container is attached to another network;
    /// [`Error::Network`] when a port is in use (Docker's `Bind for 0.0.0.0:8080 failed: port
    /// is already allocated`), the pool is exhausted, or `ip`, iptables or the proxy fail.
    pub fn attach(
        &self,
        container_id: &str,
        mode: NetworkMode,
        ports: &[PortRequest],
    ) -> Result<Attachment> {
        crate::containers::validate_id(container_id)?;
        let mut state = self.lock();
        if let Some(existing) = state.endpoints.get(container_id) {
            if existing.mode == mode {
                return Ok(existing.clone());
            }
            return Err(Error::NetworkConflict(format!(
                "container {container_id} is already connected to network {}",
                existing.network_name
            )));
        }
        let record = state.record(mode)?.clone();
        let mut attachment = Attachment {
            container_id: container_id.to_owned(),
            mode,
            network_id: record.id.clone(),
            network_name: record.name.clone(),
            endpoint_id: random_id()?,
            bridge: None,
            ports: Vec::new(),
        };
        if mode == NetworkMode::Bridge {
            let pool = state.pool()?;
            // Named as dockerd names it: the network's name and id, not the subnet.
            let ip = pool.allocate().map_err(|_| {
                Error::Network(format!(
                    "no available IPv4 addresses on this network's address pools: {} ({})",
                    record.name, record.id
                ))
            })?;
            let ipam = IpamConfig {
                subnet: pool.subnet(),
                gateway: pool.gateway(),
            };
            let connected = self.connect(&mut attachment, ip, ipam, ports);
            if let Err(e) = connected {
                state.pool()?.release(ip);
                return Err(e);
            }
        }
        state
            .endpoints
            .insert(container_id.to_owned(), attachment.clone());
        if let Err(e) = self.save(&state) {
            state.endpoints.remove(container_id);
            if let Some(endpoint) = &attachment.bridge {
                state.pool()?.release(endpoint.ip);
            }
            let _ = self.disconnect(&attachment);
            return Err(e);
        }
        Ok(attachment)
    }

    /// Makes the kernel side of a bridge attachment at `ip` of `pool` and fills in
    /// `attachment`; on failure, undoes what was made.
    fn connect(
        &self,
        attachment: &mut Attachment,
        ip: Ipv4Addr,
        pool: IpamConfig,
        ports: &[PortRequest],
    ) -> Result<()> {
        let bridge = &self.config.bridge;
        let namespace_path = self.namespace_path(&attachment.container_id);
        // A namespace left by a crash in the middle of an attach goes first.
        namespace::remove(&namespace_path)?;
        namespace::create(&namespace_path)?;
        let endpoint = BridgeEndpoint {
            ip,
            prefix_len: pool.subnet.prefix_len(),
            gateway: pool.gateway,
            mac: MacAddress::from_ipv4(ip),
            bridge: bridge.name.clone(),
            // dockerd's are `veth` and 7 hex digits: 9 never collide with them.
            host_interface: format!("veth{}", &attachment.endpoint_id[..9]),
            namespace: namespace_path,
        };
        attachment.bridge = Some(endpoint.clone());
        let connected = (|| {
            link::connect_veth(&VethPlan {
                host_interface: &endpoint.host_interface,
                bridge: &bridge.name,
                mtu: bridge.mtu,
                namespace: &endpoint.namespace,
                address: ip,
                subnet: pool.subnet,
                gateway: pool.gateway,
                mac: endpoint.mac,
            })?;
            let (bindings, sockets) = self.bind_ports(ports)?;
            self.firewall.publish(ip, &bindings)?;
            attachment.ports = bindings;
            if !sockets.is_empty() {
                self.start_proxy(&attachment.container_id, ip, &attachment.ports, &sockets)?;
            }
            Ok(())
        })();
        if connected.is_err() {
            let _ = self.disconnect(attachment);
        }
        connected
    }

    /// Undoes the kernel side of an attachment: stops its proxy, deletes its rules, its veth
    /// and its namespace. Every step is tried; the first failure is returned.
    fn disconnect(&self, attachment: &Attachment) -> Result<()> {
        let Some(endpoint) = &attachment.bridge else {
            return Ok(());
        };
        let results = [
            proxy::stop(&self.proxy_spec_path(&attachment.container_id)),
            self.firewall.unpublish(endpoint.ip, &attachment.ports),
            link::delete_link(&endpoint.host_interface),
            namespace::remove(&endpoint.namespace),
        ];
        results.into_iter().collect::<Result<Vec<()>>>().map(drop)
    }

    /// Detaches a container: its proxy stopped, its rules, veth and namespace deleted, its
    /// address back in the pool. A container without an attachment is already detached.
    ///
    /// # Errors
    ///
    /// [`Error::Network`], [`Error::Mount`] or [`Error::Io`] when something could not be
    /// undone; the attachment is kept then, so detaching again finishes the job.
    pub fn detach(&self, container_id: &str) -> Result<()> {
        let mut state = self.lock();
        let Some(attachment) = state.endpoints.get(container_id).cloned() else {
            return Ok(());
        };
        self.disconnect(&attachment)?;
        state.endpoints.remove(container_id);
        if let Some(endpoint) = &attachment.bridge {
            state.pool()?.release(endpoint.ip);
        }
        self.save(&state)
    }

    /// Starts the proxy again for each attachment with published ports whose proxy is not
    /// running (it was killed, or the engine crashed while starting it), binding the same host
    /// ports. Every attachment is tried; the first failure is returned.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when a port is taken meanwhile or the proxy fails to start.
    pub fn revive_proxies(&self) -> Result<()> {
        let attachments = self.attachments();
        let mut results = Vec::new();
        for attachment in attachments {
            let Some(endpoint) = &attachment.bridge else {
                continue;
            };
            let spec_path = self.proxy_spec_path(&attachment.container_id);
            if attachment.ports.is_empty() || proxy::running_pid(&spec_path).is_some() {
                continue;
            }
            let requests: Vec<PortRequest> = attachment
                .ports
                .iter()
                .map(|binding| PortRequest {
                    container_port: binding.container_port,
                    protocol: binding.protocol,
                    host_ip: Some(binding.host_ip),
                    host_port: binding.host_port,
                })
                .collect();
            // A proxy that died may still be closing its sockets: it is waited for first.
            let revived = proxy::stop(&spec_path)
                .and_then(|()| self.bind_ports(&requests))
                .and_then(|(bindings, sockets)| {
                    self.start_proxy(&attachment.container_id, endpoint.ip, &bindings, &sockets)
                });
            results.push(revived);
        }
        results.into_iter().collect::<Result<Vec<()>>>().map(drop)
    }

    /// Binds the host side of every request; on failure the sockets bound so far close.
    fn bind_ports(&self, requests: &[PortRequest]) -> Result<(Vec<PortBinding>, Vec<OwnedFd>)> {
        let mut bindings = Vec::new();
        let mut sockets = Vec::new();
        for request in requests {
            let (binding, socket) = ports::bind(request, self.config.bridge.host_binding_ipv4)?;
            bindings.push(binding);
            sockets.push(socket);
        }
        Ok((bindings, sockets))
    }

    /// Starts the proxy serving `sockets` (bound for `bindings`) for the container at `ip`.
    fn start_proxy(
        &self,
        container_id: &str,
        ip: Ipv4Addr,
        bindings: &[PortBinding],
        sockets: &[OwnedFd],
    ) -> Result<()> {
        let spec = ProxySpec {
            container_id: container_id.to_owned(),
            forwards: bindings
                .iter()
                .zip(sockets)
                .map(|(binding, socket)| Forward {
                    fd: socket.as_raw_fd(),
                    protocol: binding.protocol,
                    host: binding.host_address(),
                    container: SocketAddrV4::new(ip, binding.container_port),
                })
                .collect(),
        };
        proxy::launch(
            &self.config.proxy,
            &self.proxy_spec_path(container_id),
            &spec,
        )
        .map(drop)
    }

    /// Removes the bridge device and the engine's iptables chains and jumps (the records stay,
    /// and the next [`Networks::open`] sets the bridge up again): for uninstalling, and for
    /// tests that leave the host as they found it.
    ///
    /// # Errors
    ///
    /// [`Error::NetworkConflict`] while a container is attached to the bridge;
    /// [`Error::Network`] when `ip` or iptables fail.
    pub fn remove_bridge(&self) -> Result<()> {
        let state = self.lock();
        if state
            .endpoints
            .values()
            .any(|attachment| attachment.bridge.is_some())
        {
            return Err(Error::NetworkConflict(
                "error while removing network: network bridge has active endpoints".to_owned(),
            ));
        }
        self.firewall.uninstall()?;
        link::delete_link(&self.config.bridge.name)
    }

    /// The engine's iptables rules, as `iptables -S` lists each of its chains.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when iptables fails.
    pub fn firewall_listing(&self) -> Result<String> {
        self.firewall.listing()
    }
}

/// The subnet and gateway of the bridge: the configured ones (refused when they overlap a
/// route of the host), else the previous ones, else the first free default pool.
fn choose_subnet(
    config: &BridgeConfig,
    previous: Option<&Pool>,
    in_use: bool,
    routes: &[HostRoute],
) -> Result<(Subnet, Ipv4Addr)> {
    let clash = |subnet: &Subnet| {
        routes
            .iter()
            .find(|route| route.destination.overlaps(subnet))
    };
    let previous = previous.map(|pool| (pool.subnet(), pool.gateway()));
    if let Some(subnet) = config.subnet {
        let gateway = config.gateway.unwrap_or_else(|| subnet.first_host());
        if let Some(route) = clash(&subnet) {
            return Err(Error::NetworkConflict(format!(
                "the bridge subnet {subnet} overlaps the host's route to {} on {}; choose \
                 another subnet",
                route.destination, route.device
            )));
        }
        if in_use && previous.is_some_and(|previous| previous != (subnet, gateway)) {
            return Err(Error::NetworkConflict(format!(
                "cannot move the bridge network to {subnet} (gateway {gateway}) while \
                 containers are attached to it"
            )));
        }
        return Ok((subnet, gateway));
    }
    if let Some((subnet, gateway)) = previous
        && (in_use || clash(&subnet).is_none())
    {
        return Ok((subnet, gateway));
    }
    default_pools()
        .find(|subnet| clash(subnet).is_none())
        .map(|subnet| (subnet, subnet.first_host()))
        .ok_or_else(|| {
            Error::NetworkConflict(
                "could not find an available, non-overlapping IPv4 address pool among the \
                 defaults to assign to the bridge network; set its subnet"
                    .to_owned(),
            )
        })
}

/// Docker's default address pools from `172.18.0.0/16` on: `172.18`–`172.31.0.0/16`, then
/// `192.168.0.0/20` to `192.168.240.0/20`.
fn default_pools() -> impl Iterator<Item = Subnet> {
    let sixteens = (18..=31).map(|second| Subnet::new(Ipv4Addr::new(172, second, 0, 0), 16));
    let twenties = (0..16).map(|step| Subnet::new(Ipv4Addr::new(192, 168, step * 16, 0), 20));
    sixteens.chain(twenties).filter_map(Result::ok)
}

/// The driver options dockerd shows for its default bridge.
fn bridge_options(config: &BridgeConfig) -> BTreeMap<String, String> {
    [
        (
            "com.docker.network.bridge.default_bridge",
            "true".to_owned(),
        ),
        ("com.docker.network.bridge.enable_icc", "true".to_owned()),
        (
            "com.docker.network.bridge.enable_ip_masquerade",
            "true".to_owned(),
        ),
        (
            "com.docker.network.bridge.host_binding_ipv4",
            config.host_binding_ipv4.to_string(),
        ),
        ("com.docker.network.bridge.name", config.name.clone()),
        ("com.docker.network.driver.mtu", config.mtu.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| (key.to_owned(), value))
    .collect()
}

/// Refuses interface names the kernel would refuse, or that need quoting.
fn validate_interface_name(name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 15
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidNetworkConfig(format!(
            "invalid bridge name {name:?}: up to 15 letters, digits, '-', '_' or '.'"
        )))
    }
}

/// A random id of 64 hex digits whose short form is not a number, as Docker makes them
/// (`stringid.GenerateRandomID`).
fn random_id() -> Result<String> {
    let source = Path::new("/dev/urandom");
    let mut random = File::open(source).map_err(|e| Error::io("open", source, e))?;
    loop {
        let mut bytes = [0_u8; 32];
        random
            .read_exact(&mut bytes)
            .map_err(|e| Error::io("read", source, e))?;
        let id: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
        if id[..12].parse::<u64>().is_err() {
            return Ok(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::link::HostRoute;
    use super::{BridgeConfig, NetworkMode, Pool, Subnet, choose_subnet, random_id};
    use crate::ErrorKind;

    fn route(destination: &str, device: &str) -> HostRoute {
        HostRoute {
            destination: destination.parse().expect("a subnet"),
            device: device.to_owned(),
        }
    }

    fn subnet(text: &str) -> Subnet {
        text.parse().expect("a subnet")
    }

    #[test]
    fn the_default_subnet_is_the_first_default_pool_no_host_route_overlaps() {
        let config = BridgeConfig::default();
        let free = choose_subnet(&config, None, false, &[]).expect("a pool");
        assert_eq!(
            free,
            (subnet("172.18.0.0/16"), Ipv4Addr::new(172, 18, 0, 1))
        );
        let routes = [
            route("172.16.0.0/14", "eth1"),
            route("172.20.5.0/24", "eth2"),
        ];
        let next = choose_subnet(&config, None, false, &routes).expect("a pool");
        assert_eq!(next.0, subnet("172.21.0.0/16"));
        let everything = [route("172.16.0.0/12", "a"), route("192.168.0.0/16", "b")];
        let none = choose_subnet(&config, None, false, &everything).expect_err("all taken");
        assert_eq!(none.kind(), ErrorKind::Conflict);
    }

    #[test]
    fn a_configured_subnet_that_overlaps_a_host_route_is_refused_naming_the_route() {
        let config = BridgeConfig {
            subnet: Some(subnet("192.0.2.0/25")),
            ..BridgeConfig::default()
        };
        let refused = choose_subnet(&config, None, false, &[route("192.0.2.0/24", "eth0")])
            .expect_err("overlaps");
        assert_eq!(refused.kind(), ErrorKind::Conflict);
        assert!(
            refused.to_string().contains("192.0.2.0/24 on eth0"),
            "{refused}"
        );
        let elsewhere = choose_subnet(&config, None, false, &[route("10.0.0.0/8", "eth0")])
            .expect("no overlap");
        assert_eq!(
            elsewhere,
            (subnet("192.0.2.0/25"), Ipv4Addr::new(192, 0, 2, 1))
        );
    }

    #[test]
    fn the_previous_subnet_is_kept_and_cannot_move_under_attached_containers() {
        let previous =
            Pool::new(subnet("172.25.0.0/16"), Ipv4Addr::new(172, 25, 0, 1)).expect("a pool");
        let config = BridgeConfig::default();
        let kept = choose_subnet(&config, Some(&previous), false, &[]).expect("kept");
        assert_eq!(kept.0, subnet("172.25.0.0/16"));
        let moved = BridgeConfig {
            subnet: Some(subnet("10.9.0.0/24")),
            ..BridgeConfig::default()
        };
        assert!(choose_subnet(&moved, Some(&previous), true, &[]).is_err());
        assert!(choose_subnet(&moved, Some(&previous), false, &[]).is_ok());
    }

    #[test]
    fn network_modes_parse_as_docker_names_them() {
        assert_eq!(NetworkMode::parse("").expect("bridge"), NetworkMode::Bridge);
        assert_eq!(
            NetworkMode::parse("default").expect("bridge"),
            NetworkMode::Bridge
        );
        assert_eq!(NetworkMode::parse("host").expect("host"), NetworkMode::Host);
        assert_eq!(NetworkMode::parse("none").expect("none"), NetworkMode::None);
        assert_eq!(
            NetworkMode::parse("mynet").expect_err("unknown").kind(),
            ErrorKind::NotFound
        );
        assert_eq!(
            NetworkMode::parse("container:abc")
                .expect_err("later")
                .kind(),
            ErrorKind::InvalidInput
        );
        assert_eq!(NetworkMode::None.driver(), "null");
    }

    #[test]
    fn random_ids_are_64_hex_digits_whose_short_form_is_not_a_number() {
        let id = random_id().expect("an id");
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(id[..12].parse::<u64>().is_err());
        assert_ne!(id, random_id().expect("another"));
    }
}
