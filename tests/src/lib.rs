//! Shared set-up for drydock's cross-crate tests (paths to the specs and the workspace).

pub mod dockerd;

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
