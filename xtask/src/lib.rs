//! The parts of drydock's build tasks that tests use too: `generate` (a crate from any
//! Swagger 2.0 / OpenAPI 3.0 documents) and `corpus` (the real public specs it is tested on).

pub mod corpus;
pub mod generate;

use std::path::PathBuf;

/// The workspace root (the parent of `xtask/`).
pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask/ has a parent")
        .to_path_buf()
}
