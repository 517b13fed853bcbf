//! A slot of the host's networking per test: a bridge name, a chain prefix, a subnet and link
//! names of its own, claimed with a lock file so concurrent tests (of this crate and of
//! drydockd's, which includes this file too) never share one; what a crashed earlier run left
//! in a slot is removed when it is claimed.

use std::fs::File;
use std::net::Ipv4Addr;
use std::os::fd::AsRawFd;

use drydock_engine::network::nat::Firewall;
use drydock_engine::network::{Subnet, link};

/// How many slots there are (each has a /24 of 10.213.0.0/16 and a /30 of 198.51.100.0/24).
const SLOTS: u8 = 64;

/// One test's share of the host's networking, held while its lock file is locked.
pub struct Slot {
    /// The slot's number, below [`SLOTS`].
    pub n: u8,
    _lock: File,
}

impl Slot {
    /// Claims a free slot and removes what a crashed earlier run left in it.
    pub fn claim() -> Slot {
        for n in 0..SLOTS {
            let path = format!("/tmp/drydock-network-test-{n}.lock");
            let lock = File::create(&path).unwrap_or_else(|e| panic!("cannot create {path}: {e}"));
            // SAFETY: flock on a descriptor we hold; it is released when the file closes.
            if unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                let slot = Slot { n, _lock: lock };
                slot.remove_leftovers();
                return slot;
            }
        }
        panic!("all {SLOTS} network test slots are taken");
    }

    fn remove_leftovers(&self) {
        if let Ok(firewall) = Firewall::new(&self.chain(), &self.bridge()) {
            let _ = firewall.uninstall();
        }
        for name in [self.bridge(), self.peer_link(), self.route_link()] {
            let _ = link::delete_link(&name);
        }
    }

    /// The bridge's name: `ddt<nn>` (two digits, so no slot's names start another's).
    pub fn bridge(&self) -> String {
        format!("ddt{:02}", self.n)
    }

    /// The chain prefix: `DDT<nn>`.
    pub fn chain(&self) -> String {
        format!("DDT{:02}", self.n)
    }

    /// The bridge's subnet, `10.213.<n>.0/<prefix_len>`.
    pub fn subnet(&self, prefix_len: u8) -> Subnet {
        Subnet::new(Ipv4Addr::new(10, 213, self.n, 0), prefix_len).expect("a subnet")
    }

    /// The host end of the peer host's link.
    pub fn peer_link(&self) -> String {
        format!("ddtp{:02}", self.n)
    }

    /// A link that takes part of the slot's subnet away.
    pub fn route_link(&self) -> String {
        format!("ddtd{:02}", self.n)
    }
}
