//! Addresses on the bridge network: IPv4 subnets, the pool that hands out a subnet's addresses
//! one container at a time, and the MAC address Docker derives from a container's address.

use std::collections::BTreeSet;
use std::fmt;
use std::net::Ipv4Addr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// An IPv4 subnet: a network address with its host bits clear, and a prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Subnet {
    network: Ipv4Addr,
    prefix_len: u8,
}

impl Subnet {
    /// The subnet of `address` with `prefix_len` bits: `172.18.0.1/16` is `172.18.0.0/16`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] for a prefix longer than 32 bits.
    pub fn new(address: Ipv4Addr, prefix_len: u8) -> Result<Subnet> {
        if prefix_len > 32 {
            return Err(Error::InvalidNetworkConfig(format!(
                "invalid prefix length /{prefix_len} of {address}: IPv4 has 32 bits"
            )));
        }
        Ok(Subnet {
            network: Ipv4Addr::from(u32::from(address) & mask(prefix_len)),
            prefix_len,
        })
    }

    /// The network address (host bits clear).
    pub fn network(&self) -> Ipv4Addr {
        self.network
    }

    /// The prefix length in bits.
    pub fn prefix_len(&self) -> u8 {
        self.prefix_len
    }

    /// The broadcast address (host bits set).
    pub fn broadcast(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network) | !mask(self.prefix_len))
    }

    /// The first address after the network address, the gateway Docker gives a bridge.
    pub fn first_host(&self) -> Ipv4Addr {
        Ipv4Addr::from(u32::from(self.network).wrapping_add(1))
    }

    /// Whether `address` is in this subnet.
    pub fn contains(&self, address: Ipv4Addr) -> bool {
        u32::from(address) & mask(self.prefix_len) == u32::from(self.network)
    }

    /// Whether this subnet and `other` share any address.
    pub fn overlaps(&self, other: &Subnet) -> bool {
        self.contains(other.network) || other.contains(self.network)
    }

    /// Whether `address` can be given to a host: inside, and neither the network nor the
    /// broadcast address.
    pub fn is_host(&self, address: Ipv4Addr) -> bool {
        self.contains(address) && address != self.network && address != self.broadcast()
    }
}

/// The netmask of a prefix length, as a number.
fn mask(prefix_len: u8) -> u32 {
    match prefix_len {
        0 => 0,
        bits => u32::MAX << (32 - u32::from(bits.min(32))),
    }
}

impl fmt::Display for Subnet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix_len)
    }
}

impl FromStr for Subnet {
    type Err = Error;

    /// Parses CIDR notation, `172.18.0.0/16`; host bits are cleared.
    fn from_str(text: &str) -> Result<Subnet> {
        let invalid = || {
            Error::InvalidNetworkConfig(format!(
                "invalid subnet {text:?}: expected an IPv4 CIDR such as 172.18.0.0/16"
            ))
        };
        let (address, prefix_len) = text.split_once('/').ok_or_else(invalid)?;
        let address: Ipv4Addr = address.parse().map_err(|_| invalid())?;
        let prefix_len: u8 = prefix_len.parse().map_err(|_| invalid())?;
        Subnet::new(address, prefix_len)
    }
}

impl Serialize for Subnet {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Subnet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// An Ethernet address, shown as `02:42:ac:12:00:02`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct MacAddress(pub [u8; 6]);

impl MacAddress {
    /// The address Docker derives from a container's IPv4 address: `02:42` (a locally
    /// administered unicast prefix) followed by the four bytes of the address, so
    /// `172.18.0.2` has `02:42:ac:12:00:02`.
    pub fn from_ipv4(address: Ipv4Addr) -> MacAddress {
        let [a, b, c, d] = address.octets();
        MacAddress([0x02, 0x42, a, b, c, d])
    }
}

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for MacAddress {
    type Err = Error;

    fn from_str(text: &str) -> Result<MacAddress> {
        let invalid = || Error::InvalidNetworkConfig(format!("invalid MAC address {text:?}"));
        let mut bytes = [0_u8; 6];
        let mut parts = text.split(':');
        for byte in &mut bytes {
            let part = parts.next().ok_or_else(invalid)?;
            if part.len() != 2 {
                return Err(invalid());
            }
            *byte = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(MacAddress(bytes))
    }
}

impl Serialize for MacAddress {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The addresses of one subnet: which are handed out, and where the next search starts.
///
/// Addresses are handed out serially, as libnetwork's allocator does: each search starts
/// after the last address handed out and wraps around, so an address just released is the
/// last to be handed out again (a container that is gone is not mistaken for its successor by
/// peers that cached its address). The network, broadcast and gateway addresses are never
/// handed out.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Pool {
    subnet: Subnet,
    gateway: Ipv4Addr,
    /// The address handed out last.
    last: Option<Ipv4Addr>,
    /// The addresses in use (rebuilt from the endpoints when the state is read).
    #[serde(skip)]
    allocated: BTreeSet<Ipv4Addr>,
}

impl Pool {
    /// An empty pool of `subnet` whose gateway is `gateway`.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidNetworkConfig`] when the gateway is not a host address of the subnet, or
    /// the subnet is narrower than a /30 (no address would be left for a container).
    pub fn new(subnet: Subnet, gateway: Ipv4Addr) -> Result<Pool> {
        if subnet.prefix_len() > 30 {
            return Err(Error::InvalidNetworkConfig(format!(
                "subnet {subnet} is too small: a bridge needs at least a /30"
            )));
        }
        if !subnet.is_host(gateway) {
            return Err(Error::InvalidNetworkConfig(format!(
                "gateway {gateway} is not a host address of subnet {subnet}"
            )));
        }
        Ok(Pool {
            subnet,
            gateway,
            last: None,
            allocated: BTreeSet::new(),
        })
    }

    /// The pool's subnet.
    pub fn subnet(&self) -> Subnet {
        self.subnet
    }

    /// The pool's gateway (the bridge's own address).
    pub fn gateway(&self) -> Ipv4Addr {
        self.gateway
    }

    /// Hands out the next free address after the last one handed out.
    ///
    /// # Errors
    ///
    /// [`Error::Network`] when every address is in use.
    pub fn allocate(&mut self) -> Result<Ipv4Addr> {
        let first = u32::from(self.subnet.network()) + 1;
        let end = u32::from(self.subnet.broadcast());
        let count = end - first;
        let start = match self.last {
            Some(last) if self.subnet.is_host(last) => u32::from(last) + 1 - first,
            _ => 0,
        };
        for step in 0..count {
            let candidate = Ipv4Addr::from(first + (start + step) % count);
            if candidate != self.gateway && !self.allocated.contains(&candidate) {
                self.allocated.insert(candidate);
                self.last = Some(candidate);
                return Ok(candidate);
            }
        }
        Err(Error::Network(format!(
            "no available IPv4 addresses on this network's address pools: {}",
            self.subnet
        )))
    }

    /// Marks `address` as in use (when the state is read back).
    ///
    /// # Errors
    ///
    /// [`Error::NetworkConflict`] when it is outside the subnet, the gateway, or in use.
    pub fn reserve(&mut self, address: Ipv4Addr) -> Result<()> {
        if !self.subnet.is_host(address) || address == self.gateway {
            return Err(Error::NetworkConflict(format!(
                "address {address} cannot be handed out in subnet {} (gateway {})",
                self.subnet, self.gateway
            )));
        }
        if !self.allocated.insert(address) {
            return Err(Error::NetworkConflict(format!(
                "address {address} is already in use"
            )));
        }
        Ok(())
    }

    /// Gives `address` back; `false` when it was not in use.
    pub fn release(&mut self, address: Ipv4Addr) -> bool {
        self.allocated.remove(&address)
    }

    /// Whether `address` is in use.
    pub fn is_allocated(&self, address: Ipv4Addr) -> bool {
        self.allocated.contains(&address)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::{MacAddress, Pool, Subnet};

    fn subnet(text: &str) -> Subnet {
        text.parse().expect("a subnet")
    }

    #[test]
    fn a_subnet_parses_clears_its_host_bits_and_prints_back() {
        let parsed = subnet("172.18.3.4/16");
        assert_eq!(parsed.to_string(), "172.18.0.0/16");
        assert_eq!(parsed.broadcast(), Ipv4Addr::new(172, 18, 255, 255));
        assert_eq!(parsed.first_host(), Ipv4Addr::new(172, 18, 0, 1));
        for bad in [
            "172.18.0.0",
            "172.18.0.0/33",
            "x/16",
            "::1/64",
            "172.18.0.0/",
        ] {
            assert!(bad.parse::<Subnet>().is_err(), "{bad} accepted");
        }
        assert_eq!(subnet("0.0.0.0/0").broadcast(), Ipv4Addr::BROADCAST);
    }

    #[test]
    fn subnets_overlap_when_one_contains_the_others_network() {
        assert!(subnet("172.18.0.0/16").overlaps(&subnet("172.18.5.0/24")));
        assert!(subnet("172.18.5.0/24").overlaps(&subnet("172.16.0.0/12")));
        assert!(!subnet("172.18.0.0/16").overlaps(&subnet("172.19.0.0/16")));
        assert!(subnet("10.0.0.0/8").overlaps(&subnet("0.0.0.0/0")));
    }

    #[test]
    fn the_mac_address_is_dockers_02_42_followed_by_the_ipv4_bytes() {
        let mac = MacAddress::from_ipv4(Ipv4Addr::new(172, 18, 0, 2));
        assert_eq!(mac.to_string(), "02:42:ac:12:00:02");
        assert_eq!(
            "02:42:ac:12:00:02".parse::<MacAddress>().expect("parses"),
            mac
        );
        assert!("02:42:ac:12:00".parse::<MacAddress>().is_err());
        assert!("02:42:ac:12:00:02:03".parse::<MacAddress>().is_err());
    }

    #[test]
    fn addresses_are_handed_out_serially_never_twice_and_never_the_gateway() {
        let mut pool =
            Pool::new(subnet("10.1.0.0/29"), Ipv4Addr::new(10, 1, 0, 1)).expect("a pool");
        let handed: Vec<Ipv4Addr> = (0..5).map(|_| pool.allocate().expect("free")).collect();
        assert_eq!(
            handed,
            (2..=6)
                .map(|last| Ipv4Addr::new(10, 1, 0, last))
                .collect::<Vec<_>>()
        );
        let full = pool.allocate().expect_err("exhausted");
        assert!(
            full.to_string().contains("no available IPv4 addresses"),
            "{full}"
        );
        assert!(pool.release(Ipv4Addr::new(10, 1, 0, 3)));
        assert!(!pool.release(Ipv4Addr::new(10, 1, 0, 3)), "released twice");
        assert_eq!(
            pool.allocate().expect("one free"),
            Ipv4Addr::new(10, 1, 0, 3)
        );
    }

    #[test]
    fn a_released_address_comes_back_only_after_the_rest_of_the_subnet() {
        let mut pool =
            Pool::new(subnet("10.1.0.0/29"), Ipv4Addr::new(10, 1, 0, 6)).expect("a pool");
        let first = pool.allocate().expect("free");
        assert_eq!(first, Ipv4Addr::new(10, 1, 0, 1));
        pool.release(first);
        let next: Vec<Ipv4Addr> = (0..5).map(|_| pool.allocate().expect("free")).collect();
        assert_eq!(
            next,
            [2, 3, 4, 5, 1]
                .iter()
                .map(|&last| Ipv4Addr::new(10, 1, 0, last))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn reserving_refuses_addresses_in_use_outside_or_the_gateway() {
        let mut pool =
            Pool::new(subnet("10.1.0.0/24"), Ipv4Addr::new(10, 1, 0, 1)).expect("a pool");
        pool.reserve(Ipv4Addr::new(10, 1, 0, 9)).expect("free");
        assert!(pool.reserve(Ipv4Addr::new(10, 1, 0, 9)).is_err());
        assert!(pool.reserve(Ipv4Addr::new(10, 1, 0, 1)).is_err());
        assert!(pool.reserve(Ipv4Addr::new(10, 1, 0, 255)).is_err());
        assert!(pool.reserve(Ipv4Addr::new(10, 2, 0, 9)).is_err());
        assert!(pool.is_allocated(Ipv4Addr::new(10, 1, 0, 9)));
        assert!(Pool::new(subnet("10.1.0.0/31"), Ipv4Addr::new(10, 1, 0, 1)).is_err());
        assert!(Pool::new(subnet("10.1.0.0/24"), Ipv4Addr::new(10, 1, 0, 0)).is_err());
    }
}
