//! Links and addresses, set with iproute2's `ip` (in `-batch` mode, so a container's side of
//! the bridge takes two runs of it): the bridge with its gateway address, a veth pair per
//! container whose far end is `eth0` in the container's namespace, that end's address, MAC
//! and default route, and the host's routes a new subnet must not overlap.

use std::fs;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::ipam::{MacAddress, Subnet};
use super::namespace;
use crate::error::{Error, Result};

/// The iproute2 binary.
const IP: &str = "ip";

/// The name of a container's end of its veth pair, inside its namespace.
pub const CONTAINER_INTERFACE: &str = "eth0";

/// Runs `ip <args>` and returns its stdout.
fn ip(args: &[&str]) -> Result<String> {
    let output = Command::new(IP)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|e| Error::Network(format!("cannot run {IP} (install iproute2): {e}")))?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    Err(Error::Network(format!(
        "{IP} {}: {}",
        args.join(" "),
        String::from_utf8_lossy(&output.stderr).trim()
    )))
}

/// Runs `ip -batch -` with one command a line.
fn ip_batch(commands: &[String]) -> Result<()> {
    let failed = |message: String| {
        Error::Network(format!("{IP} -batch ({}): {message}", commands.join("; ")))
    };
    let mut child = Command::new(IP)
        .args(["-batch", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Network(format!("cannot run {IP} (install iproute2): {e}")))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(commands.join("\n").as_bytes())
            .map_err(|e| failed(e.to_string()))?;
    }
    let output = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(failed(
            String::from_utf8_lossy(&output.stderr).trim().to_owned(),
        ))
    }
}

/// A word of an `ip -batch` line, quoted so a path with spaces stays one word.
fn batch_word(text: &str) -> Result<String> {
    if text.contains(['"', '\\', '\n']) {
        return Err(Error::InvalidNetworkConfig(format!(
            "{text:?}: quotes, backslashes and newlines are not allowed in network paths"
        )));
    }
    Ok(format!("\"{text}\""))
}

/// What `ip -json link show` says of a link.
#[derive(Deserialize)]
struct LinkJson {
    #[serde(default)]
    linkinfo: Option<LinkInfoJson>,
}

#[derive(Deserialize)]
struct LinkInfoJson {
    #[serde(default)]
    info_kind: String,
}

/// What `ip -json addr show` says of a link's addresses.
#[derive(Deserialize)]
struct AddressesJson {
    #[serde(default)]
    addr_info: Vec<AddressJson>,
}

#[derive(Deserialize)]
struct AddressJson {
    #[serde(default)]
    family: String,
    #[serde(default)]
    local: String,
    #[serde(default)]
    prefixlen: u8,
}

/// Whether a link named `name` exists in the engine's namespace.
pub fn link_exists(name: &str) -> bool {
    Path::new("/sys/class/net").join(name).exists()
}

/// Makes sure the bridge `name` exists, is up, has MTU `mtu` and exactly the address
/// `gateway/prefix` of `subnet` as its IPv4 address (as dockerd sets up `docker0`). An
/// existing bridge is kept with its ports; its other IPv4 addresses are removed.
///
/// # Errors
///
/// [`Error::NetworkConflict`] when a link of that name exists and is not a bridge;
/// [`Error::Network`] when `ip` fails.
pub fn ensure_bridge(name: &str, subnet: Subnet, gateway: Ipv4Addr, mtu: u32) -> Result<()> {
    if link_exists(name) {
        let shown = ip(&["-json", "-details", "link", "show", "dev", name])?;
        let links: Vec<LinkJson> = serde_json::from_str(&shown)
            .map_err(|e| Error::Network(format!("cannot read {IP}'s view of {name}: {e}")))?;
        let kind = links
            .first()
            .and_then(|link| link.linkinfo.as_ref())
            .map(|info| info.info_kind.as_str())
            .unwrap_or_default();
        if kind != "bridge" {
            return Err(Error::NetworkConflict(format!(
                "the interface {name} exists and is not a bridge (it is {:?}); choose another \
                 bridge name",
                if kind.is_empty() { "a device" } else { kind }
            )));
        }
    } else {
        ip(&["link", "add", "name", name, "type", "bridge"])?;
    }
    let wanted = format!("{gateway}/{}", subnet.prefix_len());
    let shown = ip(&["-json", "-4", "addr", "show", "dev", name])?;
    let links: Vec<AddressesJson> = serde_json::from_str(&shown)
        .map_err(|e| Error::Network(format!("cannot read {IP}'s view of {name}: {e}")))?;
    let addresses: Vec<String> = links
        .iter()
        .flat_map(|link| &link.addr_info)
        .filter(|address| address.family == "inet")
        .map(|address| format!("{}/{}", address.local, address.prefixlen))
        .collect();
    let mut commands: Vec<String> = addresses
        .iter()
        .filter(|address| **address != wanted)
        .map(|stale| format!("addr del {stale} dev {name}"))
        .collect();
    if !addresses.contains(&wanted) {
        commands.push(format!(
            "addr add {wanted} broadcast {} dev {name}",
            subnet.broadcast()
        ));
    }
    commands.push(format!("link set dev {name} mtu {mtu} up"));
    ip_batch(&commands)
}

/// Deletes the link `name` (a veth's peer goes with it); a missing link is already gone.
///
/// # Errors
///
/// [`Error::Network`] when `ip` fails for another reason.
pub fn delete_link(name: &str) -> Result<()> {
    if !link_exists(name) {
        return Ok(());
    }
    match ip(&["link", "delete", "dev", name]) {
        Err(_) if !link_exists(name) => Ok(()),
        done => done.map(drop),
    }
}

/// A container's side of the bridge.
#[derive(Clone, Copy, Debug)]
pub struct VethPlan<'a> {
    /// The host end's name, a port of the bridge.
    pub host_interface: &'a str,
    /// The bridge.
    pub bridge: &'a str,
    /// The MTU of both ends.
    pub mtu: u32,
    /// The container's network namespace (a mounted file).
    pub namespace: &'a Path,
    /// The container end's address.
    pub address: Ipv4Addr,
    /// The subnet it is in.
    pub subnet: Subnet,
    /// Its default gateway (the bridge's address).
    pub gateway: Ipv4Addr,
    /// The container end's MAC address.
    pub mac: MacAddress,
}

/// Makes a veth pair whose host end is a port of the bridge and whose other end is
/// `eth0` in the container's namespace, with its address, MAC and default route, and brings up
/// both ends and the namespace's loopback. On failure the pair is deleted.
///
/// # Errors
///
/// [`Error::Network`] when `ip` fails.
pub fn connect_veth(plan: &VethPlan<'_>) -> Result<()> {
    let VethPlan {
        host_interface,
        bridge,
        mtu,
        namespace,
        address,
        subnet,
        gateway,
        mac,
    } = *plan;
    let namespace_word = batch_word(&namespace.display().to_string())?;
    let host_side = [
        format!(
            "link add name {host_interface} mtu {mtu} type veth peer name {CONTAINER_INTERFACE} \
             mtu {mtu} address {mac} netns {namespace_word}"
        ),
        format!("link set dev {host_interface} master {bridge} up"),
    ];
    ip_batch(&host_side)?;
    let container_side = [
        "link set dev lo up".to_owned(),
        format!(
            "addr add {address}/{} broadcast {} dev {CONTAINER_INTERFACE}",
            subnet.prefix_len(),
            subnet.broadcast()
        ),
        format!("link set dev {CONTAINER_INTERFACE} up"),
        format!("route add default via {gateway} dev {CONTAINER_INTERFACE}"),
    ];
    let configured = namespace::run_in(namespace, || ip_batch(&container_side)).and_then(|r| r);
    if configured.is_err() {
        let _ = delete_link(host_interface);
    }
    configured
}

/// A route of the host's main table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HostRoute {
    /// Where it leads.
    pub destination: Subnet,
    /// Its interface.
    pub device: String,
}

/// The IPv4 routes of the engine's namespace's main table other than the default route, from
/// `/proc/net/route`.
///
/// # Errors
///
/// [`Error::Io`] when the table cannot be read.
pub fn host_routes() -> Result<Vec<HostRoute>> {
    let table_path = Path::new("/proc/net/route");
    let table = fs::read_to_string(table_path).map_err(|e| Error::io("read", table_path, e))?;
    Ok(parse_route_table(&table))
}

/// Parses `/proc/net/route`: addresses and masks are hex in the machine's byte order.
fn parse_route_table(table: &str) -> Vec<HostRoute> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let device = (*fields.first()?).to_owned();
            let destination = u32::from_str_radix(fields.get(1)?, 16).ok()?;
            let mask = u32::from_str_radix(fields.get(7)?, 16).ok()?;
            let destination = Ipv4Addr::from(destination.to_ne_bytes());
            let prefix_len = u8::try_from(mask.count_ones()).ok()?;
            (prefix_len > 0).then_some(())?;
            Some(HostRoute {
                destination: Subnet::new(destination, prefix_len).ok()?,
                device,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::{HostRoute, batch_word, parse_route_table};

    #[test]
    fn the_route_table_reads_as_subnets_without_the_default_route() {
        // As a little-endian machine prints 192.0.2.0/24 on eth0 and the default route.
        let table = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                     eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n\
                     eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n";
        let routes = parse_route_table(table);
        if cfg!(target_endian = "little") {
            assert_eq!(
                routes,
                vec![HostRoute {
                    destination: "192.0.2.0/24".parse().expect("a subnet"),
                    device: "eth0".to_owned(),
                }]
            );
        }
    }

    #[test]
    fn batch_words_are_quoted_and_quotes_refused() {
        assert_eq!(
            batch_word("/run/dry dock/netns/x").expect("quoted"),
            "\"/run/dry dock/netns/x\""
        );
        assert!(batch_word("/run/\"x").is_err());
    }
}
