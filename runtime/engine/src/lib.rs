//! drydockd's engine core, a library the generated server traits will be implemented with.
//!
//! - [`images`]: a content-addressed image store (`import`, tags, `save`/`load` in Docker's
//!   archive format, inspect, remove with Docker's conflicts), ids computed as dockerd does.
//! - [`rootfs`]: container root filesystems as overlayfs mounts of an image's layers.
//! - [`oci`]: the OCI runtime spec of a container, with Docker's defaults.
//! - [`runc`]: the real `runc` binary, driven through its command line.
//! - [`archive`]: a container's files for `docker cp` and `docker export`: stat, tar and
//!   extract inside its root (a private mount namespace, chrooted), never outside it.
//! - [`cgroups`]: a container's resource use from its cgroups (v1, v2 or both), for stats.
//! - [`changes`]: what a container changed in its image's files (`docker diff`).
//! - [`attach`]: attaching to a running container's streams through its monitor.
//! - [`containers`]: the above put together: start, wait, kill and remove a container.
//! - [`logs`]: reading a container's json-file log as `docker logs` does.
//! - [`monitor`]: the per-container monitor process that holds a container's output, writes
//!   its json-file log and records its exit, so containers outlive the engine.
//! - [`network`]: the `bridge`, `host` and `none` networks: namespaces, a Linux bridge with
//!   veths, addresses from a pool, NAT and published ports (iptables and a userland proxy).
//! - [`volumes`]: local volumes (Docker's `local` driver) with the containers that use them.
//! - [`mounts`]: a container's binds, mounts, tmpfs and image volumes turned into a mount plan
//!   and its OCI mounts, with Docker's validation and copy-up.
//! - [`etc_files`]: the `hostname`, `hosts` and `resolv.conf` files a container gets.
//!
//! Architecture invariant: the engine never parses HTTP and knows nothing of API versions; it
//! takes and returns typed values, and every failure is an [`Error`] with an [`ErrorKind`].

pub mod archive;
pub mod attach;
pub mod cgroups;
pub mod changes;
pub mod containers;
mod detached;
pub mod digest;
pub mod durable;
mod error;
pub mod etc_files;
pub mod images;
pub mod logs;
pub mod monitor;
pub mod mounts;
pub mod network;
pub mod oci;
pub mod rootfs;
pub mod runc;
#[cfg(test)]
mod scratch;
pub mod timestamp;
pub mod volumes;

pub use error::{Error, ErrorKind, Result};
