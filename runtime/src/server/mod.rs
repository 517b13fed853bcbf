//! The server half (feature `server`): what generated servers link against.
//!
//! - [`service`]: the axum router with moby's behaviour around every
//!   operation (versions, `/_ping`, common headers, 404s) and the
//!   [`Dispatch`] trait generated code implements.
//! - [`routes`]: the route table and a matcher whose greedy parameters take
//!   image names with slashes, as moby's `{name:.*}` does.
//! - [`request`]: decoding the query, headers and bodies as the daemon does.
//! - [`response`]: answers, downgraded JSON, streamed bodies.
//! - [`hijack`]: `101 UPGRADED` and the duplex stream of attach and exec.
//! - [`listen`]: unix sockets and TCP.
//! - [`error`]: [`ServerError`], Docker's `{"message": …}` answers.
//!
//! Architecture invariant: nothing here knows an operation; the generated
//! server supplies the table and the typed decoding.

pub mod error;
pub mod hijack;
pub mod listen;
pub mod request;
pub mod response;
pub mod routes;
pub mod service;

pub use axum::Router;
/// The status of an answer ([`ServerError::new`] takes one).
pub use axum::http::StatusCode;
pub use error::ServerError;
pub use hijack::{Hijack, HijackInput};
pub use request::{BodyStream, Query, Request};
pub use response::{ByteStream, Messages, Reply};
pub use routes::{PathParams, Route};
pub use service::{Dispatch, DispatchFuture, ServerConfig, router};
