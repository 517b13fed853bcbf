//! A container's place on its network: attached (namespace, address, published ports) before
//! its start, detached after its exit, and shown in inspect's `NetworkSettings` and in
//! `docker ps`'s `Ports` and networks, as dockerd shows them.

use std::collections::BTreeMap;
use std::net::IpAddr;

use drydock_engine::network::{Attachment, NetworkMode, PortRequest};
use drydock_models::{ContainerSummaryItemNetworkSettings, NetworkSettings, Port};
use drydock_runtime::server::ServerError;
use serde_json::{Value, json};

use super::mounts::NetworkFacts;
use super::record::ContainerRecord;
use super::view::convert;
use crate::daemon::Daemon;
use crate::errors::{api_error, blocking};

/// The ports a container asks to publish: `HostConfig.PortBindings`, and with
/// `PublishAllPorts` every exposed port without a binding on a random host port.
///
/// # Errors
///
/// 400 for a malformed binding.
pub fn port_requests(record: &ContainerRecord) -> Result<Vec<PortRequest>, ServerError> {
    let host = &record.host_config;
    let mut requests = Vec::new();
    let bindings = host.port_bindings.clone().unwrap_or_default();
    for (key, list) in &bindings {
        for binding in list.iter().flatten() {
            let request = PortRequest::from_binding(
                key,
                binding.host_ip.as_deref().unwrap_or(""),
                binding.host_port.as_deref().unwrap_or(""),
            )
            .map_err(api_error)?;
            requests.push(request);
        }
    }
    if host.publish_all_ports == Some(true) {
        for key in record
            .config
            .exposed_ports
            .clone()
            .unwrap_or_default()
            .keys()
        {
            if !bindings.contains_key(key) {
                requests.push(PortRequest::from_binding(key, "", "").map_err(api_error)?);
            }
        }
    }
    Ok(requests)
}

/// Attaches the container to its network (idempotent) and returns what its `/etc/hosts`
/// needs to know.
///
/// # Errors
///
/// 400 for an unsupported network mode or bad ports; 500 when the host's networking fails
/// (a port in use is dockerd's `Bind for ... failed: port is already allocated`).
pub async fn attach(
    daemon: &Daemon,
    record: &ContainerRecord,
) -> Result<(Attachment, NetworkFacts), ServerError> {
    let mode = NetworkMode::parse(record.host_config.network_mode.as_deref().unwrap_or(""))
        .map_err(api_error)?;
    let ports = port_requests(record)?;
    let engine = daemon.clone();
    let id = record.id.clone();
    let attachment = blocking(move || engine.networks.attach(&id, mode, &ports)).await?;
    let facts = NetworkFacts {
        addresses: attachment
            .bridge
            .iter()
            .map(|endpoint| IpAddr::V4(endpoint.ip))
            .collect(),
        ipv6: false,
    };
    Ok((attachment, facts))
}

/// Takes the container off its network (its address back to the pool, its ports closed).
pub async fn detach(daemon: &Daemon, id: &str) {
    let engine = daemon.clone();
    let id = id.to_owned();
    if let Err(e) = blocking(move || engine.networks.detach(&id)).await {
        log::warn!("cannot take a container off its network: {}", e.message);
    }
}

/// The container's attachment while it runs (an exited container shows no address).
fn live_attachment(daemon: &Daemon, record: &ContainerRecord) -> Option<Attachment> {
    if record.state.status.is_running() {
        daemon.networks.attachment(&record.id)
    } else {
        None
    }
}

/// The network name a container's mode stands for (`default` is `bridge`).
fn network_name(record: &ContainerRecord) -> String {
    match record
        .host_config
        .network_mode
        .as_deref()
        .unwrap_or("default")
    {
        "" | "default" => "bridge".to_owned(),
        other => other.to_owned(),
    }
}

/// The endpoint of a network in `Networks`, filled while attached.
fn endpoint(daemon: &Daemon, record: &ContainerRecord, attachment: Option<&Attachment>) -> Value {
    let name = network_name(record);
    let network_id = attachment.map(|a| a.network_id.clone()).unwrap_or_else(|| {
        daemon
            .networks
            .find(&name)
            .map(|n| n.id)
            .unwrap_or_default()
    });
    let bridge = attachment.and_then(|a| a.bridge.as_ref());
    json!({
        "IPAMConfig": null,
        "Links": null,
        "Aliases": null,
        "NetworkID": network_id,
        "EndpointID": attachment.map(|a| a.endpoint_id.clone()).unwrap_or_default(),
        "Gateway": bridge.map(|b| b.gateway.to_string()).unwrap_or_default(),
        "IPAddress": bridge.map(|b| b.ip.to_string()).unwrap_or_default(),
        "IPPrefixLen": bridge.map_or(0, |b| b.prefix_len),
        "IPv6Gateway": "",
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "MacAddress": bridge.map(|b| b.mac.to_string()).unwrap_or_default(),
        "DriverOpts": null
    })
}

/// Inspect's `NetworkSettings`.
///
/// # Errors
///
/// 500 when the document does not convert to the model.
pub fn settings(daemon: &Daemon, record: &ContainerRecord) -> Result<NetworkSettings, ServerError> {
    let attachment = live_attachment(daemon, record);
    let bridge = attachment.as_ref().and_then(|a| a.bridge.as_ref());
    let mut ports: BTreeMap<String, Value> = BTreeMap::new();
    if let Some(attachment) = &attachment {
        for exposed in record
            .config
            .exposed_ports
            .clone()
            .unwrap_or_default()
            .keys()
        {
            ports.insert(exposed.clone(), Value::Null);
        }
        for binding in &attachment.ports {
            let entry = ports.entry(binding.port_key()).or_insert(Value::Null);
            if !entry.is_array() {
                *entry = Value::Array(Vec::new());
            }
            if let Value::Array(list) = entry {
                list.push(json!({
                    "HostIp": binding.host_ip.to_string(),
                    "HostPort": binding.host_port.to_string()
                }));
            }
        }
    }
    let endpoint = endpoint(daemon, record, attachment.as_ref());
    let sandbox_key = bridge
        .map(|b| b.namespace.display().to_string())
        .unwrap_or_default();
    let default_bridge = network_name(record) == "bridge";
    let pick = |key: &str| {
        if default_bridge {
            endpoint[key].clone()
        } else {
            Value::String(String::new())
        }
    };
    let document = json!({
        "Bridge": "",
        "SandboxID": if attachment.is_some() { record.id.clone() } else { String::new() },
        "HairpinMode": false,
        "LinkLocalIPv6Address": "",
        "LinkLocalIPv6PrefixLen": 0,
        "Ports": ports,
        "SandboxKey": sandbox_key,
        "SecondaryIPAddresses": null,
        "SecondaryIPv6Addresses": null,
        "EndpointID": pick("EndpointID"),
        "Gateway": pick("Gateway"),
        "GlobalIPv6Address": "",
        "GlobalIPv6PrefixLen": 0,
        "IPAddress": pick("IPAddress"),
        "IPPrefixLen": if default_bridge { endpoint["IPPrefixLen"].clone() } else { json!(0) },
        "IPv6Gateway": "",
        "MacAddress": pick("MacAddress"),
        "Networks": { network_name(record): endpoint }
    });
    convert(&document)
}

/// `docker ps`'s `Ports`: published ports with their host side, exposed ones without.
pub fn summary_ports(daemon: &Daemon, record: &ContainerRecord) -> Vec<Port> {
    let attachment = live_attachment(daemon, record);
    let mut rows: Vec<Value> = Vec::new();
    let published: Vec<String> = attachment
        .iter()
        .flat_map(|a| a.ports.iter().map(|p| p.port_key()))
        .collect();
    for binding in attachment.iter().flat_map(|a| a.ports.iter()) {
        rows.push(json!({
            "IP": binding.host_ip.to_string(),
            "PrivatePort": binding.container_port,
            "PublicPort": binding.host_port,
            "Type": binding.protocol.to_string()
        }));
    }
    for exposed in record
        .config
        .exposed_ports
        .clone()
        .unwrap_or_default()
        .keys()
    {
        if published.contains(exposed) {
            continue;
        }
        let (port, protocol) = exposed.split_once('/').unwrap_or((exposed, "tcp"));
        if let Ok(port) = port.parse::<u16>() {
            rows.push(json!({ "PrivatePort": port, "Type": protocol }));
        }
    }
    rows.into_iter()
        .filter_map(|row| convert(&row).ok())
        .collect()
}

/// `docker ps`'s `NetworkSettings`: the container's network and its endpoint.
pub fn summary_networks(
    daemon: &Daemon,
    record: &ContainerRecord,
) -> ContainerSummaryItemNetworkSettings {
    let attachment = live_attachment(daemon, record);
    let document = json!({ "Networks": { network_name(record): endpoint(daemon, record, attachment.as_ref()) } });
    convert(&document).unwrap_or_default()
}
