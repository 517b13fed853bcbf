//! Published ports: what a container asks for (`-p 127.0.0.1:8080:80/tcp`), what it got (a
//! host address and port per container port), and the host sockets that hold those ports for
//! the userland proxy.

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4, TcpListener, UdpSocket};
use std::os::fd::OwnedFd;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A transport protocol a port is published for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP, the default.
    Tcp,
    /// UDP.
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

impl FromStr for Protocol {
    type Err = Error;

    fn from_str(text: &str) -> Result<Protocol> {
        match text.to_ascii_lowercase().as_str() {
            "" | "tcp" => Ok(Protocol::Tcp),
            "udp" => Ok(Protocol::Udp),
            other => Err(Error::InvalidNetworkConfig(format!(
                "invalid proto: {other} (drydock publishes tcp and udp ports)"
            ))),
        }
    }
}

/// A port a container asks to publish.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortRequest {
    /// The port inside the container.
    pub container_port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The host address to listen on; `None` for the network's default
    /// (`com.docker.network.bridge.host_binding_ipv4`, `0.0.0.0`).
    pub host_ip: Option<Ipv4Addr>,
    /// The host port; 0 for one the kernel picks from the ephemeral range
    /// (`/proc/sys/net/ipv4/ip_local_port_range`, Docker's range too).
    pub host_port: u16,
}

impl PortRequest {
    /// The request of one entry of the API's `HostConfig.PortBindings`: the key (`80/tcp`) and
    /// one binding's `HostIp` and `HostPort`, either of which may be empty.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] for a malformed port, a port range, an unknown
    /// protocol or a host address that is not IPv4.
    pub fn from_binding(key: &str, host_ip: &str, host_port: &str) -> Result<PortRequest> {
        let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
        Ok(PortRequest {
            container_port: parse_port(port, "container")?,
            protocol: protocol.parse()?,
            host_ip: parse_host_ip(host_ip)?,
            host_port: match host_port {
                "" => 0,
                port => parse_port(port, "host")?,
            },
        })
    }
}

impl FromStr for PortRequest {
    type Err = Error;

    /// Parses `docker run -p`'s syntax: `[[HOST_IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]`,
    /// e.g. `80`, `8080:80`, `127.0.0.1:8080:80/tcp`, `127.0.0.1::80`, `53:53/udp`.
    fn from_str(text: &str) -> Result<PortRequest> {
        let (address, protocol) = text.rsplit_once('/').unwrap_or((text, "tcp"));
        let parts: Vec<&str> = address.split(':').collect();
        let (host_ip, host_port, container_port) = match parts.as_slice() {
            [container] => ("", "", *container),
            [host_port, container] => ("", *host_port, *container),
            [host_ip, host_port, container] => (*host_ip, *host_port, *container),
            _ => {
                return Err(Error::InvalidNetworkConfig(format!(
                    "invalid port specification: {text:?} (IPv6 host addresses are not supported)"
                )));
            }
        };
        PortRequest::from_binding(&format!("{container_port}/{protocol}"), host_ip, host_port)
    }
}

/// A port number, 1 to 65535 (0 only for a host port, meaning "any").
fn parse_port(text: &str, which: &str) -> Result<u16> {
    if text.contains('-') {
        return Err(Error::InvalidNetworkConfig(format!(
            "invalid {which} port {text:?}: port ranges are not supported"
        )));
    }
    match text.parse::<u16>() {
        Ok(0) if which == "container" => Err(Error::InvalidNetworkConfig(
            "invalid container port 0".to_owned(),
        )),
        Ok(port) => Ok(port),
        Err(_) => Err(Error::InvalidNetworkConfig(format!(
            "invalid {which} port {text:?}"
        ))),
    }
}

/// A host address: empty for the default, else IPv4.
fn parse_host_ip(text: &str) -> Result<Option<Ipv4Addr>> {
    if text.is_empty() {
        return Ok(None);
    }
    text.parse().map(Some).map_err(|_| {
        Error::InvalidNetworkConfig(format!(
            "invalid host IP {text:?}: drydock publishes ports on IPv4 addresses"
        ))
    })
}

/// A published port: a container port and the host address and port that reach it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PortBinding {
    /// The port inside the container.
    pub container_port: u16,
    /// Its protocol.
    pub protocol: Protocol,
    /// The host address it listens on (`0.0.0.0` for every address).
    pub host_ip: Ipv4Addr,
    /// The host port.
    pub host_port: u16,
}

impl PortBinding {
    /// The key Docker files the binding under in `NetworkSettings.Ports`: `80/tcp`.
    pub fn port_key(&self) -> String {
        format!("{}/{}", self.container_port, self.protocol)
    }

    /// The host side, `0.0.0.0:8080`.
    pub fn host_address(&self) -> SocketAddrV4 {
        SocketAddrV4::new(self.host_ip, self.host_port)
    }
}

/// Binds the host side of `request` (on `default_host_ip` when it names no address), so the
/// port is held from now on; returns the binding with the port the kernel picked for a host
/// port of 0, and the socket for the proxy to serve.
///
/// # Errors
///
/// [`Error::Network`] with Docker's text when the port is in use (`Bind for 0.0.0.0:8080
/// failed: port is already allocated`), or why the bind failed otherwise.
pub(crate) fn bind(
    request: &PortRequest,
    default_host_ip: Ipv4Addr,
) -> Result<(PortBinding, OwnedFd)> {
    let host_ip = request.host_ip.unwrap_or(default_host_ip);
    let wanted = SocketAddrV4::new(host_ip, request.host_port);
    let bound: io::Result<(u16, OwnedFd)> = match request.protocol {
        Protocol::Tcp => TcpListener::bind(wanted)
            .and_then(|listener| Ok((listener.local_addr()?.port(), OwnedFd::from(listener)))),
        Protocol::Udp => UdpSocket::bind(wanted)
            .and_then(|socket| Ok((socket.local_addr()?.port(), OwnedFd::from(socket)))),
    };
    match bound {
        Ok((host_port, socket)) => Ok((
            PortBinding {
                container_port: request.container_port,
                protocol: request.protocol,
                host_ip,
                host_port,
            },
            socket,
        )),
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(Error::Network(format!(
            "Bind for {wanted} failed: port is already allocated"
        ))),
        Err(e) => Err(Error::Network(format!(
            "cannot listen on {wanted}/{}: {e}",
            request.protocol
        ))),
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::{PortBinding, PortRequest, Protocol};

    fn request(container_port: u16, host_ip: Option<Ipv4Addr>, host_port: u16) -> PortRequest {
        PortRequest {
            container_port,
            protocol: Protocol::Tcp,
            host_ip,
            host_port,
        }
    }

    #[test]
    fn docker_run_p_forms_parse() {
        let parse = |text: &str| text.parse::<PortRequest>().expect(text);
        assert_eq!(parse("80"), request(80, None, 0));
        assert_eq!(parse("8080:80"), request(80, None, 8080));
        assert_eq!(
            parse("127.0.0.1:8080:80/tcp"),
            request(80, Some(Ipv4Addr::LOCALHOST), 8080)
        );
        assert_eq!(
            parse("127.0.0.1::80"),
            request(80, Some(Ipv4Addr::LOCALHOST), 0)
        );
        let udp = parse("53:53/udp");
        assert_eq!((udp.protocol, udp.host_port), (Protocol::Udp, 53));
        for bad in [
            "",
            "0",
            "8080:80/sctp",
            "8000-8010:80",
            "x:80",
            "[::1]:8080:80",
            "1.2.3:80:80",
            "70000:80",
        ] {
            assert!(bad.parse::<PortRequest>().is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn api_port_bindings_parse_with_empty_host_parts() {
        let parsed = PortRequest::from_binding("80/tcp", "", "").expect("parses");
        assert_eq!(parsed, request(80, None, 0));
        let udp = PortRequest::from_binding("53/udp", "0.0.0.0", "5353").expect("parses");
        assert_eq!(udp.protocol, Protocol::Udp);
        assert_eq!(udp.host_ip, Some(Ipv4Addr::UNSPECIFIED));
        assert!(PortRequest::from_binding("80/tcp", "::", "").is_err());
        assert!(PortRequest::from_binding("80/tcp", "", "8000-8001").is_err());
    }

    #[test]
    fn a_binding_is_filed_under_port_slash_protocol() {
        let binding = PortBinding {
            container_port: 80,
            protocol: Protocol::Udp,
            host_ip: Ipv4Addr::UNSPECIFIED,
            host_port: 8080,
        };
        assert_eq!(binding.port_key(), "80/udp");
        assert_eq!(binding.host_address().to_string(), "0.0.0.0:8080");
    }
}
