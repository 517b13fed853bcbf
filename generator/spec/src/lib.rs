//! # drydock-spec: from API documents to the versioned IR
//!
//! The pipeline, top-down:
//! 1. [`manifest`]: which documents make up each API version (upstream files
//!    pinned by sha256, or overlays on another version) and where to find them.
//! 2. [`document`]: read YAML or JSON into a JSON value, with line and column on errors.
//! 3. [`overlay`]: apply OpenAPI Overlay 1.0 documents (derived versions, errata).
//! 4. [`swagger2`]: convert Swagger 2.0 into OpenAPI 3.0 (`openapiv3`).
//! 5. [`normalise`]: turn one OpenAPI 3.0 document into a single-version [`Api`].
//! 6. [`merge`]: fold the single-version APIs into one versioned [`Api`].
//!
//! [`docker_api`] runs it all for the Docker Engine API v1.23..v1.33 from the
//! project's manifest; [`api_from_files`] for any Swagger 2.0 / OpenAPI 3.0 files.
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

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drydock_ir::{Api, ApiVersion};

pub use error::{Result, SpecError};
use manifest::{Manifest, SpecSource, VersionDocument};
pub use normalise::Warning;

/// A versioned API and what it took to build it.
#[derive(Debug)]
pub struct Built {
    /// The merged, versioned API.
    pub api: Api,
    /// One line per input version, oldest first.
    pub versions: Vec<VersionStats>,
    /// Fallbacks the normaliser took, with the version they came from.
    pub warnings: Vec<(ApiVersion, Warning)>,
    /// Time to locate, read, check and derive the documents.
    pub load_time: Duration,
    /// Time to merge the versions.
    pub merge_time: Duration,
}

/// Figures about one version.
#[derive(Debug)]
pub struct VersionStats {
    /// The version.
    pub version: ApiVersion,
    /// Where it came from.
    pub file: String,
    /// Operations it has.
    pub operations: usize,
    /// Named types it has.
    pub types: usize,
    /// Time to convert and normalise it.
    pub time: Duration,
}

/// The manifest of the Docker Engine API specs, relative to the workspace root.
pub const DOCKER_MANIFEST: &str = "specs/docker/manifest.yaml";

/// Builds the versioned Docker Engine API (v1.23..v1.33) from the project's
/// manifest: upstream specs from `specs_dir` (or the default mirror, or the
/// download cache), derived versions and errata from the project's overlays.
pub fn docker_api(specs_dir: Option<&Path>, workspace_root: &Path) -> Result<Built> {
    let start = Instant::now();
    let manifest_path = workspace_root.join(DOCKER_MANIFEST);
    let manifest = Manifest::load(&manifest_path)?;
    let source = SpecSource::new(specs_dir, workspace_root);
    let manifest_dir = manifest_path.parent().unwrap_or(workspace_root);
    let documents = manifest.documents(manifest_dir, &source)?;
    build(documents, start.elapsed())
}

/// Builds one versioned API from Swagger 2.0 / OpenAPI 3.0 files, one version
/// each. A version is labelled by `labels[i]` when given, else by the
/// document's `info.version`, else by the file's name.
pub fn api_from_files(paths: &[PathBuf], labels: Option<&[String]>) -> Result<Built> {
    let start = Instant::now();
    let mut documents = Vec::with_capacity(paths.len());
    for (i, path) in paths.iter().enumerate() {
        let value = document::load_document(path)?;
        let label = labels
            .and_then(|l| l.get(i).cloned())
            .or_else(|| {
                value.pointer("/info/version").and_then(|v| match v {
                    serde_json::Value::String(s) => Some(s.clone()),
                    serde_json::Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
            })
            .unwrap_or_else(|| {
                path.file_stem()
                    .map(|s| s.to_string_lossy().into_owned())
                    .unwrap_or_else(|| format!("{}", i + 1))
            });
        documents.push(VersionDocument {
            version: ApiVersion::new(label),
            file: path.display().to_string(),
            value,
        });
    }
    build(documents, start.elapsed())
}

/// Converts, normalises and merges documents that are already loaded. The
/// versions are independent until the merge, so they are converted and
/// normalised on every core; the result does not depend on the order they
/// finish in.
pub fn build(documents: Vec<VersionDocument>, load_time: Duration) -> Result<Built> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, documents.len().max(1));
    // Round-robin shares keep each thread's work about even (later versions are larger).
    let mut shares: Vec<Vec<(usize, VersionDocument)>> = (0..threads).map(|_| Vec::new()).collect();
    for (i, doc) in documents.into_iter().enumerate() {
        shares[i % threads].push((i, doc));
    }
    let mut done: Vec<(usize, Result<VersionBuilt>)> = std::thread::scope(|scope| {
        let handles: Vec<_> = shares
            .into_iter()
            .map(|share| {
                scope.spawn(move || {
                    share
                        .into_iter()
                        .map(|(i, doc)| (i, normalise_document(doc)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| {
                h.join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            })
            .collect()
    });
    done.sort_by_key(|(i, _)| *i);
    let mut apis = Vec::with_capacity(done.len());
    let mut versions = Vec::with_capacity(done.len());
    let mut warnings = Vec::new();
    for (_, normalised) in done {
        let normalised = normalised?;
        warnings.extend(
            normalised
                .warnings
                .into_iter()
                .map(|w| (normalised.stats.version.clone(), w)),
        );
        versions.push(normalised.stats);
        apis.push(normalised.api);
    }
    let start = Instant::now();
    let api = merge::merge(apis)?;
    Ok(Built {
        api,
        versions,
        warnings,
        load_time,
        merge_time: start.elapsed(),
    })
}

/// One version converted and normalised, with its figures.
struct VersionBuilt {
    api: Api,
    stats: VersionStats,
    warnings: Vec<Warning>,
}

fn normalise_document(doc: VersionDocument) -> Result<VersionBuilt> {
    let start = Instant::now();
    let openapi = swagger2::to_openapi3(&doc.file, doc.value)?;
    let normalised = normalise::normalise(&doc.file, doc.version.clone(), &openapi)?;
    Ok(VersionBuilt {
        stats: VersionStats {
            version: doc.version,
            file: doc.file,
            operations: normalised.api.operations.len(),
            types: normalised.api.types.len(),
            time: start.elapsed(),
        },
        api: normalised.api,
        warnings: normalised.warnings,
    })
}
