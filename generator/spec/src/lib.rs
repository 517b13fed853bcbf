//! # drydock-spec: from API documents to the versioned IR
//!
//! The pipeline, top-down:
//! 1. [`manifest`]: which documents make up each API version (upstream files
//!    pinned by sha256, or overlays on another version) and where to find them.
//! 2. [`document`]: read YAML or JSON into a JSON value, with line and column on errors.
//! 3. [`overlay`]: apply OpenAPI Overlay 1.0 documents (derived versions, errata).
//! 4. [`swagger2`]: convert Swagger 2.0 into OpenAPI 3.0 (`openapiv3`).
//! 5. [`normalise`]: turn one OpenAPI 3.0 document into a single-version [`drydock_ir::Api`].
//! 6. [`merge`]: fold the single-version APIs into one versioned [`drydock_ir::Api`].
//!
//! Architecture invariant: this crate is the only one that reads spec documents;
//! it emits no code.

pub mod document;
pub mod error;
pub mod manifest;
pub mod merge;
pub mod normalise;
pub mod overlay;
pub mod swagger2;

pub use error::{Result, SpecError};
