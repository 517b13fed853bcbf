//! Shared set-up for drydock's cross-crate tests (paths to the specs and the workspace).

pub mod client_examples;
pub mod docker_http;
pub mod dockerd;

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
