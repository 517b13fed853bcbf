//! The `Networks` area: dockerd's three default networks, `bridge`, `host` and `none`, from the
//! engine's [`drydock_engine::network::Networks`], answered as a standalone dockerd answers
//! them. User-defined networks come in a later issue: creating one answers 501 saying so, and
//! so do the connects and disconnects that only they (or a live re-plumbing of a container's
//! namespace) would make possible.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::path::Path;

use drydock_engine::network::{
    Attachment, BridgeConfig, NetworkConfig, NetworkMode, NetworkRecord, Networks, ProxyCommand,
    Subnet,
};
use drydock_models::{Ipam, Network, NetworkContainer};
use drydock_runtime::server::{ServerError, StatusCode};
use drydock_runtime::{ApiVersion, Filters};
use drydock_server::networks::*;

use crate::containers::record::ContainerRecord;
use crate::daemon::Daemon;
use crate::errors::api_error;
use crate::options::Options;

/// Opens the engine's networks as the options say: the bridge's name, address, MTU and host
/// binding address, and drydockd itself (`program proxy <spec>`) as the port proxy.
///
/// # Errors
///
/// A malformed `--bip`, a bridge subnet that overlaps a route of the host, or `ip` and
/// iptables failing.
pub fn open(options: &Options, program: &Path) -> drydock_engine::Result<Networks> {
    let (subnet, gateway) = match &options.bip {
        Some(bip) => {
            let (subnet, gateway) = parse_bip(bip)?;
            (Some(subnet), Some(gateway))
        }
        None => (None, None),
    };
    Networks::open(NetworkConfig {
        data_root: options.data_root.clone(),
        exec_root: options.exec_root.clone(),
        bridge: BridgeConfig {
            name: options.bridge.clone(),
            subnet,
            gateway,
            mtu: options.mtu,
            chain: options.iptables_chain.clone(),
            host_binding_ipv4: options.ip,
        },
        proxy: ProxyCommand {
            program: program.to_path_buf(),
            args: vec!["proxy".into()],
        },
    })
}

/// dockerd's `--bip`: the bridge's own address with the subnet's prefix, `172.18.0.1/16`.
fn parse_bip(bip: &str) -> drydock_engine::Result<(Subnet, Ipv4Addr)> {
    let subnet: Subnet = bip.parse()?;
    let gateway = bip
        .split_once('/')
        .and_then(|(address, _)| address.parse().ok())
        .ok_or_else(|| {
            drydock_engine::Error::InvalidNetworkConfig(format!("invalid --bip {bip:?}"))
        })?;
    Ok((subnet, gateway))
}

/// An error with a status the engine's kinds do not name (403 for dockerd's forbidden
/// operations on predefined networks, 501 for what drydock does not do yet).
fn refuse(status: StatusCode, message: impl Into<String>) -> ServerError {
    ServerError::new(status, message)
}

/// dockerd's answer to changing a container's place on the host network.
const CONFLICT_HOST_NETWORK: &str =
    "container cannot be disconnected from host network or connected to host network";
/// dockerd's answer to adding a network to a container in `none` (or `none` to another).
const CONFLICT_NO_NETWORK: &str = "container cannot be connected to multiple networks with one of the networks in private \
     (none) mode";
/// dockerd's answer for a container that shares another's namespace.
const CONFLICT_SHARED_NETWORK: &str = "container sharing network namespace with another \
     container or host cannot be connected to any other network";

/// The API's view of a network; its `Containers` when `containers` is given.
fn network_model(
    record: &NetworkRecord,
    containers: Option<BTreeMap<String, NetworkContainer>>,
) -> Network {
    let config = record
        .ipam
        .iter()
        .map(|pool| {
            BTreeMap::from([
                ("Subnet".to_owned(), pool.subnet.to_string()),
                ("Gateway".to_owned(), pool.gateway.to_string()),
            ])
        })
        .collect();
    Network {
        name: Some(record.name.clone()),
        id: Some(record.id.clone()),
        created: Some(record.created.to_string()),
        scope: Some("local".to_owned()),
        driver: Some(record.driver().to_owned()),
        enable_ipv6: Some(false),
        ipam: Some(Ipam {
            driver: Some("default".to_owned()),
            config: Some(config),
            options: None,
        }),
        internal: Some(false),
        attachable: Some(false),
        ingress: Some(false),
        containers: Some(containers.unwrap_or_default()),
        options: Some(record.options.clone()),
        labels: Some(BTreeMap::new()),
    }
}

impl Daemon {
    /// The `Containers` of a network: each attached container's name, endpoint, MAC and
    /// address (empty on `host` and `none`, as dockerd shows them).
    fn network_containers(&self, record: &NetworkRecord) -> BTreeMap<String, NetworkContainer> {
        self.networks
            .endpoints(&record.id)
            .into_iter()
            .map(|attachment| {
                let name = self
                    .containers
                    .get(&attachment.container_id)
                    .map(|container| container.lock().name.clone())
                    .unwrap_or_default();
                (
                    attachment.container_id.clone(),
                    endpoint_model(&attachment, name),
                )
            })
            .collect()
    }

    /// The network `id` names, the container `reference` names, and the network mode the
    /// container was created with (an error for `container:<id>`), or their 404s.
    fn network_and_container(
        &self,
        id: &str,
        reference: Option<&str>,
    ) -> Result<
        (
            NetworkRecord,
            ContainerRecord,
            drydock_engine::Result<NetworkMode>,
        ),
        ServerError,
    > {
        let record = self.find_network(id)?;
        let container = self
            .containers
            .get(reference.unwrap_or_default())?
            .snapshot();
        let mode = NetworkMode::parse(
            container
                .host_config
                .network_mode
                .as_deref()
                .unwrap_or("default"),
        );
        Ok((record, container, mode))
    }

    /// The network `id` names (a name, an id or an id prefix), or dockerd's 404.
    fn find_network(&self, id: &str) -> Result<NetworkRecord, ServerError> {
        self.networks.find(id).map_err(api_error)
    }
}

/// One container's endpoint as a network's `Containers` lists it.
fn endpoint_model(attachment: &Attachment, name: String) -> NetworkContainer {
    let bridge = attachment.bridge.as_ref();
    NetworkContainer {
        name: Some(name),
        endpoint_id: Some(attachment.endpoint_id.clone()),
        mac_address: Some(bridge.map(|e| e.mac.to_string()).unwrap_or_default()),
        ipv4_address: Some(
            bridge
                .map(|e| format!("{}/{}", e.ip, e.prefix_len))
                .unwrap_or_default(),
        ),
        ipv6_address: Some(String::new()),
    }
}

/// Whether a network passes the list filters of `docker network ls`.
fn matches_filters(record: &NetworkRecord, filters: &Filters) -> Result<bool, ServerError> {
    for key in filters.keys() {
        if !matches!(
            key,
            "dangling" | "driver" | "id" | "label" | "name" | "scope" | "type"
        ) {
            return Err(ServerError::bad_request(format!("invalid filter '{key}'")));
        }
    }
    for kind in filters.get("type") {
        if !matches!(kind, "custom" | "builtin") {
            return Err(ServerError::bad_request(format!(
                "invalid filter: 'type'='{kind}'"
            )));
        }
    }
    let dangling = match filters.get("dangling").next() {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(other) => {
            return Err(ServerError::bad_request(format!(
                "invalid filter 'dangling={other}'"
            )));
        }
    };
    let any = |key: &str, test: &dyn Fn(&str) -> bool| {
        let mut values = filters.get(key).peekable();
        values.peek().is_none() || values.any(test)
    };
    // Every network here is predefined: never dangling (dockerd's rule), so `dangling=true`
    // lists none and `dangling=false` all; none has labels.
    Ok(dangling != Some(true)
        && any("driver", &|driver| driver == record.driver())
        && any("id", &|id| record.id.contains(id))
        && any("name", &|name| record.name.contains(name))
        && any("scope", &|scope| scope == "local")
        && any("type", &|kind| kind == "builtin")
        && filters.get("label").next().is_none())
}

impl drydock_server::Networks for Daemon {
    async fn network_list(
        &self,
        request: NetworkListRequest,
        version: ApiVersion,
    ) -> Result<NetworkListResponse, ServerError> {
        let filters = request.filters.unwrap_or_default();
        // Since API 1.28 the list leaves out each network's containers.
        let with_containers = version < ApiVersion::new(1, 28);
        let mut networks = Vec::new();
        for record in self.networks.list() {
            if matches_filters(&record, &filters)? {
                let containers = with_containers.then(|| self.network_containers(&record));
                networks.push(network_model(&record, containers));
            }
        }
        Ok(NetworkListResponse::Status200(networks))
    }

    async fn network_inspect(
        &self,
        request: NetworkInspectRequest,
        _version: ApiVersion,
    ) -> Result<NetworkInspectResponse, ServerError> {
        let record = self.find_network(&request.id)?;
        if request
            .scope
            .as_deref()
            .is_some_and(|scope| !scope.is_empty() && scope != "local")
        {
            return Err(ServerError::not_found(format!(
                "network {} not found",
                request.id
            )));
        }
        let containers = self.network_containers(&record);
        Ok(NetworkInspectResponse::Status200(Box::new(network_model(
            &record,
            Some(containers),
        ))))
    }

    async fn network_create(
        &self,
        request: NetworkCreateRequest,
        _version: ApiVersion,
    ) -> Result<NetworkCreateResponse, ServerError> {
        let name = request.body.name;
        if NetworkMode::ALL
            .iter()
            .any(|mode| mode.network_name() == name)
        {
            return Err(refuse(
                StatusCode::FORBIDDEN,
                format!("operation is not permitted on predefined {name} network"),
            ));
        }
        Err(refuse(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "cannot create network {name}: drydock does not support user-defined networks \
                 yet (only bridge, host and none exist)"
            ),
        ))
    }

    async fn network_delete(
        &self,
        request: NetworkDeleteRequest,
        _version: ApiVersion,
    ) -> Result<NetworkDeleteResponse, ServerError> {
        let record = self.find_network(&request.id)?;
        Err(refuse(
            StatusCode::FORBIDDEN,
            format!(
                "{} is a pre-defined network and cannot be removed",
                record.name
            ),
        ))
    }

    async fn network_connect(
        &self,
        request: NetworkConnectRequest,
        _version: ApiVersion,
    ) -> Result<NetworkConnectResponse, ServerError> {
        let (record, container, current) =
            self.network_and_container(&request.id, request.body.container.as_deref())?;
        let refusal = match (current, record.mode) {
            (Err(_), _) => CONFLICT_SHARED_NETWORK.to_owned(),
            (Ok(NetworkMode::Host), _) | (_, NetworkMode::Host) => CONFLICT_HOST_NETWORK.to_owned(),
            (Ok(NetworkMode::None), _) | (_, NetworkMode::None) => CONFLICT_NO_NETWORK.to_owned(),
            (Ok(NetworkMode::Bridge), NetworkMode::Bridge) => {
                return Err(refuse(
                    StatusCode::FORBIDDEN,
                    format!(
                        "endpoint with name {} already exists in network {}",
                        container.name, record.name
                    ),
                ));
            }
        };
        Err(ServerError::bad_request(refusal))
    }

    async fn network_disconnect(
        &self,
        request: NetworkDisconnectRequest,
        _version: ApiVersion,
    ) -> Result<NetworkDisconnectResponse, ServerError> {
        let (record, container, current) =
            self.network_and_container(&request.id, request.body.container.as_deref())?;
        let on_it = current.is_ok_and(|mode| mode == record.mode);
        if record.mode == NetworkMode::Host && on_it {
            return Err(ServerError::bad_request(CONFLICT_HOST_NETWORK));
        }
        if !on_it {
            return Err(ServerError::internal(format!(
                "container {} is not connected to network {}",
                container.id, record.name
            )));
        }
        Err(refuse(
            StatusCode::NOT_IMPLEMENTED,
            format!(
                "cannot disconnect container {} from network {}: drydock does not take a \
                 container off its only network yet",
                container.name, record.name
            ),
        ))
    }

    async fn network_prune(
        &self,
        request: NetworkPruneRequest,
        _version: ApiVersion,
    ) -> Result<NetworkPruneResponse, ServerError> {
        let filters = request.filters.unwrap_or_default();
        for key in filters.keys() {
            if !matches!(key, "until" | "label" | "label!") {
                return Err(ServerError::bad_request(format!("invalid filter '{key}'")));
            }
        }
        // Only the predefined networks exist, and they are never pruned.
        Ok(NetworkPruneResponse::Status200(Box::default()))
    }
}
