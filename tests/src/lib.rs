//! Shared set-up for drydock's cross-crate tests (paths to the specs and the workspace).

pub mod client_examples;
pub mod docker_http;
pub mod dockerd;
pub mod drydockd;
/// The network test slots (a bridge, chains and a subnet per test, claimed with a lock file)
/// of the engine's and drydockd's network tests, which the live daemons here claim too.
#[path = "../../runtime/engine/tests/support/slot.rs"]
pub mod network_slot;

pub mod model_compare;
pub mod model_dispatch;
pub mod reference_doc;
pub mod schema_check;

use std::path::PathBuf;

/// The workspace root.
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}
