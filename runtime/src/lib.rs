//! # drydock-runtime: the hand-written half of drydock's Docker client and server
//!
//! What generated code links against:
//!
//! - [`version`]: the [`ApiVersion`] type, the supported range
//!   ([`MIN_API`]..=[`MAX_API`]), [`negotiate`] and version gates.
//! - [`error`]: the one [`Error`] type every operation returns.
//! - [`frames`] (feature `streams`, which `client` and `server` turn on):
//!   Docker's multiplexed stdout/stderr stream (attach, exec, logs).
//! - [`json_stream`] (feature `streams`): streams of JSON messages (pull
//!   progress, events, stats).
//! - [`model`]: the trait generated models implement to know their API versions.
//! - [`body_stream`] (feature `streams`): running either decoder over an HTTP
//!   body's chunks.
//! - [`filters`]: the `filters` query parameter, both wire forms.
//! - [`auth`]: the `X-Registry-Auth` and `X-Registry-Config` headers.
//! - [`transport`] and [`connection`] (feature `client`, on by default):
//!   turning `DOCKER_HOST` into a reqwest client, negotiating the version,
//!   sending versioned requests and hijacking attach/exec connections; or,
//!   for any other API, sending to a base URL with no version in the path
//!   ([`connection::Connection::with_base_url`]).
//! - [`server`] (feature `server`): the axum half generated servers link
//!   against: routing, moby's version rules, decoding, streaming, hijacking.
//!
//! Architecture invariant: the shared modules (everything but `transport`
//! and `connection`) do no I/O of their own and depend on neither reqwest
//! nor axum, so server builds (`default-features = false,
//! features = ["server"]`) never compile the HTTP client.

#![warn(missing_docs)]

pub mod auth;
#[cfg(feature = "streams")]
pub mod body_stream;
#[cfg(feature = "client")]
pub mod connection;
pub mod error;
pub mod filters;
#[cfg(feature = "streams")]
pub mod frames;
#[cfg(feature = "streams")]
pub mod json_stream;
pub mod model;
#[cfg(feature = "server")]
pub mod server;
#[cfg(feature = "client")]
pub mod transport;
pub mod version;

pub use error::{Error, FrameErrorKind};
pub use filters::Filters;
pub use version::{ApiVersion, MAX_API, MIN_API, negotiate, require_version, split_path_version};

/// Result type of the runtime and of generated code.
pub type Result<T, E = Error> = std::result::Result<T, E>;
