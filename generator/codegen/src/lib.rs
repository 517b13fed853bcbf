//! # drydock-codegen: Rust code from drydock's IR
//!
//! Turns a versioned [`drydock_ir::Api`] into Rust source: models, a reqwest
//! client, axum server stubs and the contract test between the two, built as
//! `syn` trees with `quote!` and formatted by `prettyplease`.
//!
//! Architecture invariant: emitters read only the IR, never YAML or OpenAPI
//! documents, and their output depends only on their input (same IR, same bytes).

pub mod client;
pub mod contract;
mod docs;
pub mod error;
pub mod models;
mod naming;
pub mod server;
mod source;
mod space;

pub use client::emit_client;
pub use contract::{ContractCrates, emit_contract};
pub use error::CodegenError;
pub use models::{GeneratedFiles, emit_models};
pub use server::emit_server;
