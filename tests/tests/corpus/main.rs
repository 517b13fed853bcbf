//! `cargo xtask generate` on real and made-up documents, each crate built as a user would:
//!
//! - [`generate`]: every document of the corpus (`specs/corpus/manifest.yaml`) gives a crate
//!   that passes `cargo check` with its features `client` and `server`, and every example the
//!   document gives round-trips through its model;
//! - [`names`]: a document whose tags, operations and schemas take the names of the runtime's
//!   types, of the prelude and of the crates generated code uses gives a crate that checks;
//! - [`live`]: for two corpus documents, the generated server with a small in-memory
//!   implementation answers the generated client over TCP.
//!
//! The generated crates go under `target/corpus/crates/NAME` and build into the shared
//! `target/corpus/target` ([`crates`]), seeded with the workspace's `Cargo.lock`, so every crate
//! reuses the dependencies the first one built.

mod crates;
mod generate;
mod live;
mod names;
