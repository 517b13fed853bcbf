//! The spec manifest (`specs/docker/manifest.yaml`): which document makes up
//! each API version, and where its bytes come from.
//!
//! Every version is either
//! - **upstream**: a file published by the API's authors, pinned by URL and
//!   sha256. drydock never commits these files; it reads them from a local
//!   mirror ([`locate_mirror`]), else from the cache
//!   (`<workspace>/.cache/specs/`), else downloads the pinned URL into the cache
//!   with `curl`, and always checks the checksum; or
//! - **derived**: a copy of another version's document with overlays applied
//!   (Docker's v1.24 is v1.25 with `overlays/v1.24.yaml`).
//!
//! *Errata* are overlays that correct mistakes of the upstream documents (a
//! field the daemon sends as `null` that the spec calls non-nullable). Each
//! applies to a stated range of upstream versions, right after the file is
//! read, so derived versions inherit the correction from their base.
//!
//! ```yaml
//! versions:
//!   - version: "1.25"
//!     file: v1.25.yaml
//!     url: https://raw.githubusercontent.com/moby/moby/<commit>/api/docs/v1.25.yaml
//!     sha256: d7cd7bc9…
//!   - version: "1.24"
//!     base: "1.25"
//!     overlays: [overlays/v1.24.yaml]
//! errata:
//!   - overlay: errata/image-summary-labels-nullable.yaml
//!     versions: "1.25..=1.33"
//! ```

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};
use std::process::Command;

use drydock_ir::{ApiVersion, VersionRange};
use serde::{Deserialize, Deserializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::document::parse_document;
use crate::error::{Result, SpecError};
use crate::overlay::Overlay;

/// The environment variable naming the folder of upstream spec files.
pub const SPECS_DIR_ENV: &str = "DRYDOCK_SPECS_DIR";

/// The validated manifest.
#[derive(Debug, Clone)]
pub struct Manifest {
    file: String,
    versions: Vec<VersionEntry>,
    errata: Vec<Erratum>,
    /// Indexes into `versions`, each version after the one it derives from.
    order: Vec<usize>,
}

/// One API version and where its document comes from.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionEntry {
    /// The API version.
    pub version: ApiVersion,
    /// Its document's source.
    pub source: VersionSource,
}

/// Where a version's document comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum VersionSource {
    /// A file published upstream.
    Upstream(UpstreamFile),
    /// Another version's document with overlays applied.
    Derived(Derivation),
}

/// An upstream file, pinned by URL and checksum.
#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamFile {
    /// The file name, looked up in the mirror and the cache (`v1.25.yaml`).
    pub file: String,
    /// Where to download it: a URL fixed to one upstream commit.
    pub url: String,
    /// Lowercase hex sha256 of the file's bytes.
    pub sha256: String,
}

/// A version derived from another by overlays.
#[derive(Debug, Clone, PartialEq)]
pub struct Derivation {
    /// The version whose (errata-corrected) document is the starting point.
    pub base: ApiVersion,
    /// Overlay files, relative to the manifest's folder, applied in order.
    pub overlays: Vec<String>,
}

/// An overlay correcting upstream documents of a range of versions.
#[derive(Debug, Clone, PartialEq)]
pub struct Erratum {
    /// Overlay file, relative to the manifest's folder.
    pub overlay: String,
    /// The upstream versions it applies to.
    pub versions: VersionRange,
}

/// Where upstream files are looked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpecSource {
    /// A local folder holding the upstream files, if one was found.
    pub mirror: Option<PathBuf>,
    /// The download cache (`<workspace>/.cache/specs`).
    pub cache: PathBuf,
}

/// One version's document, ready for normalisation.
#[derive(Debug, Clone, PartialEq)]
pub struct VersionDocument {
    /// The API version.
    pub version: ApiVersion,
    /// A label for errors: `v1.25.yaml`, or `v1.24 (v1.25.yaml + overlays/v1.24.yaml)`.
    pub file: String,
    /// The document, with errata and overlays applied.
    pub value: Value,
}

impl SpecSource {
    /// The usual source: the mirror from [`locate_mirror`] and the cache under
    /// `<workspace_root>/.cache/specs`.
    pub fn new(explicit_mirror: Option<&Path>, workspace_root: &Path) -> SpecSource {
        SpecSource {
            mirror: locate_mirror(explicit_mirror, workspace_root),
            cache: workspace_root.join(".cache").join("specs"),
        }
    }
}

/// Finds the folder of upstream spec files: `explicit` (the `--specs-dir`
/// flag) if given, else the `DRYDOCK_SPECS_DIR` environment variable if set and
/// not empty, else `<workspace_root>/../shared/specs/docker` when it exists.
pub fn locate_mirror(explicit: Option<&Path>, workspace_root: &Path) -> Option<PathBuf> {
    mirror_from(explicit, std::env::var_os(SPECS_DIR_ENV), workspace_root)
}

fn mirror_from(
    explicit: Option<&Path>,
    env: Option<OsString>,
    workspace_root: &Path,
) -> Option<PathBuf> {
    explicit
        .map(Path::to_path_buf)
        .or_else(|| env.filter(|dir| !dir.is_empty()).map(PathBuf::from))
        .or_else(|| {
            let sibling = workspace_root
                .join("..")
                .join("shared")
                .join("specs")
                .join("docker");
            sibling.is_dir().then_some(sibling)
        })
}

impl Manifest {
    /// Reads and validates the manifest at `path`.
    pub fn load(path: &Path) -> Result<Manifest> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
            path: path.to_owned(),
            source,
        })?;
        Manifest::parse(&path.display().to_string(), &text)
    }

    /// Parses and validates manifest `text`; `file` labels errors.
    ///
    /// Checks that every version is listed once, that each entry is either
    /// upstream (`file`, `url`, `sha256`) or derived (`base`, `overlays`), that
    /// every base exists and derivations form no cycle, and that errata name
    /// listed upstream versions.
    pub fn parse(file: &str, text: &str) -> Result<Manifest> {
        let raw: RawManifest =
            serde_yaml::from_str(text).map_err(|error| SpecError::from_yaml(file, &error))?;
        let invalid = |pointer: String, message: String| SpecError::Invalid {
            file: file.to_owned(),
            pointer,
            message,
        };

        let mut versions = Vec::with_capacity(raw.versions.len());
        let mut seen: HashMap<ApiVersion, usize> = HashMap::new();
        for (index, entry) in raw.versions.into_iter().enumerate() {
            let at = format!("/versions/{index}");
            let entry = entry
                .validate()
                .map_err(|message| invalid(at.clone(), message))?;
            if let Some(first) = seen.insert(entry.version.clone(), index) {
                return Err(invalid(
                    at,
                    format!(
                        "version {} is listed twice (also at /versions/{first}); list each version once",
                        entry.version
                    ),
                ));
            }
            versions.push(entry);
        }
        if versions.is_empty() {
            return Err(invalid(
                "/versions".to_owned(),
                "no versions listed".to_owned(),
            ));
        }

        let order = derivation_order(&versions, &seen)
            .map_err(|(index, message)| invalid(format!("/versions/{index}/base"), message))?;

        let errata = raw
            .errata
            .into_iter()
            .enumerate()
            .map(|(index, erratum)| {
                erratum
                    .validate(&versions)
                    .map_err(|message| invalid(format!("/errata/{index}"), message))
            })
            .collect::<Result<Vec<_>>>()?;

        Ok(Manifest {
            file: file.to_owned(),
            versions,
            errata,
            order,
        })
    }

    /// Label of the manifest file in errors.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The version entries, in the order the manifest lists them.
    pub fn versions(&self) -> &[VersionEntry] {
        &self.versions
    }

    /// The errata, in the order they apply.
    pub fn errata(&self) -> &[Erratum] {
        &self.errata
    }

    /// The listed versions, oldest first.
    pub fn version_list(&self) -> Vec<ApiVersion> {
        let mut list: Vec<ApiVersion> = self.versions.iter().map(|e| e.version.clone()).collect();
        list.sort();
        list
    }

    /// Builds every version's document, oldest version first.
    ///
    /// Upstream files come from `source` and must match their checksum; errata
    /// apply to them right away; derived versions start from a copy of their
    /// base and apply their overlays in order. A derived document whose
    /// overlays leave `info.version` or `basePath` as the base had them gets
    /// the derived version there (`1.24`, `/v1.24`).
    pub fn documents(
        &self,
        manifest_dir: &Path,
        source: &SpecSource,
    ) -> Result<Vec<VersionDocument>> {
        let errata = self
            .errata
            .iter()
            .map(|erratum| Ok((erratum, load_overlay(manifest_dir, &erratum.overlay)?)))
            .collect::<Result<Vec<_>>>()?;

        // Upstream files are independent of each other: read, check, parse and
        // correct them on every core at once; derivations then run in order.
        let mut loaded: BTreeMap<usize, Result<Value>> = std::thread::scope(|scope| {
            let errata = &errata;
            let handles: Vec<_> = self
                .versions
                .iter()
                .enumerate()
                .filter_map(|(index, entry)| match &entry.source {
                    VersionSource::Upstream(upstream) => Some((
                        index,
                        scope.spawn(move || {
                            let text = read_upstream(upstream, source)?;
                            let mut value = parse_document(&upstream.file, &text)?;
                            for (erratum, overlay) in errata {
                                if erratum.versions.contains(&entry.version) {
                                    overlay
                                        .apply(&mut value)
                                        .map_err(|e| within(e, &upstream.file))?;
                                }
                            }
                            Ok(value)
                        }),
                    )),
                    VersionSource::Derived(_) => None,
                })
                .collect();
            handles
                .into_iter()
                .map(|(index, handle)| {
                    let value = handle
                        .join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
                    (index, value)
                })
                .collect()
        });

        let mut built: BTreeMap<ApiVersion, (VersionDocument, Vec<String>)> = BTreeMap::new();
        for &index in &self.order {
            let entry = &self.versions[index];
            let (document, chain) = match &entry.source {
                VersionSource::Upstream(upstream) => {
                    let value = loaded.remove(&index).ok_or_else(|| SpecError::Invalid {
                        file: self.file.clone(),
                        pointer: format!("/versions/{index}"),
                        message: "an upstream entry was not loaded".to_string(),
                    })??;
                    let document = VersionDocument {
                        version: entry.version.clone(),
                        file: upstream.file.clone(),
                        value,
                    };
                    (document, vec![upstream.file.clone()])
                }
                VersionSource::Derived(derivation) => {
                    let Some((base, base_chain)) = built.get(&derivation.base) else {
                        return Err(SpecError::Invalid {
                            file: self.file.clone(),
                            pointer: format!("/versions/{index}/base"),
                            message: format!("base {} was not built first", derivation.base),
                        });
                    };
                    let mut chain = base_chain.clone();
                    chain.extend(derivation.overlays.iter().cloned());
                    let file = format!("v{} ({})", entry.version, chain.join(" + "));
                    let value = derive(&entry.version, base, &derivation.overlays, manifest_dir)
                        .map_err(|e| within(e, &file))?;
                    let document = VersionDocument {
                        version: entry.version.clone(),
                        file,
                        value,
                    };
                    (document, chain)
                }
            };
            built.insert(entry.version.clone(), (document, chain));
        }
        Ok(built.into_values().map(|(document, _)| document).collect())
    }
}

/// Applies a derivation's overlays to a copy of its base's document.
fn derive(
    version: &ApiVersion,
    base: &VersionDocument,
    overlays: &[String],
    manifest_dir: &Path,
) -> Result<Value> {
    let mut value = base.value.clone();
    for path in overlays {
        load_overlay(manifest_dir, path)?.apply(&mut value)?;
    }
    let base_info_version = base.value.pointer("/info/version");
    if value.pointer("/info/version") == base_info_version
        && let Some(info) = value.get_mut("info").and_then(Value::as_object_mut)
    {
        info.insert("version".to_owned(), Value::String(version.to_string()));
    }
    let base_path = base.value.get("basePath");
    if base_path.is_some()
        && value.get("basePath") == base_path
        && let Some(root) = value.as_object_mut()
    {
        root.insert("basePath".to_owned(), Value::String(format!("/v{version}")));
    }
    Ok(value)
}

fn load_overlay(manifest_dir: &Path, relative: &str) -> Result<Overlay> {
    let path = manifest_dir.join(relative);
    let text = std::fs::read_to_string(&path).map_err(|source| SpecError::Io { path, source })?;
    Overlay::parse(relative, &text)
}

/// Adds the document an overlay was applied to, to an overlay error.
fn within(error: SpecError, document: &str) -> SpecError {
    match error {
        SpecError::Overlay {
            file,
            index,
            target,
            message,
        } => SpecError::Overlay {
            file,
            index,
            target,
            message: format!("applied to {document}: {message}"),
        },
        other => other,
    }
}

/// Reads an upstream file from the mirror, else the cache, else downloads it
/// into the cache; the bytes must match the pinned checksum.
fn read_upstream(upstream: &UpstreamFile, source: &SpecSource) -> Result<String> {
    let mut looked = Vec::new();
    match &source.mirror {
        Some(mirror) => {
            let path = mirror.join(&upstream.file);
            if path.is_file() {
                let bytes = read_bytes(&path)?;
                return checked_text(upstream, &path, bytes, "the spec mirror");
            }
            looked.push(format!("the spec mirror {}", mirror.display()));
        }
        None => looked.push(format!(
            "no spec mirror (no --specs-dir, {SPECS_DIR_ENV} unset, no ../shared/specs/docker beside the workspace)"
        )),
    }
    let cached = source.cache.join(&upstream.file);
    if cached.is_file() {
        let bytes = read_bytes(&cached)?;
        return checked_text(upstream, &cached, bytes, "the download cache");
    }
    looked.push(format!("the cache {}", source.cache.display()));
    match download(upstream, &source.cache) {
        Ok(bytes) => checked_text(upstream, &cached, bytes, "the download cache"),
        Err(reason) => Err(SpecError::Source {
            file: upstream.file.clone(),
            message: format!(
                "not found. Looked in: {}; downloading {} failed: {reason}. Provide the file \
                 (sha256 {}): pass --specs-dir <dir> or set {SPECS_DIR_ENV}=<dir> for a folder \
                 holding {}, or put it into {}",
                looked.join("; "),
                upstream.url,
                upstream.sha256,
                upstream.file,
                source.cache.display()
            ),
        }),
    }
}

fn read_bytes(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| SpecError::Io {
        path: path.to_owned(),
        source,
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The file's text, once its checksum is the pinned one.
fn checked_text(
    upstream: &UpstreamFile,
    path: &Path,
    bytes: Vec<u8>,
    place: &str,
) -> Result<String> {
    let actual = sha256_hex(&bytes);
    if actual != upstream.sha256 {
        return Err(SpecError::Source {
            file: upstream.file.clone(),
            message: format!(
                "checksum mismatch for {} in {place}: expected sha256 {}, found {actual}. \
                 The file is not the pinned revision; replace it with the one at {} (or delete \
                 it from the cache to download it again). If the pin itself should change, \
                 review the upstream diff and update sha256 in the manifest.",
                path.display(),
                upstream.sha256,
                upstream.url
            ),
        });
    }
    String::from_utf8(bytes).map_err(|_| SpecError::Source {
        file: upstream.file.clone(),
        message: format!("{} is not UTF-8 text", path.display()),
    })
}

/// Downloads the pinned URL into the cache with `curl`; keeps the file only
/// when its checksum matches. The error is the reason, for the caller's message.
fn download(upstream: &UpstreamFile, cache: &Path) -> std::result::Result<Vec<u8>, String> {
    std::fs::create_dir_all(cache)
        .map_err(|e| format!("cannot create the cache {}: {e}", cache.display()))?;
    let partial = cache.join(format!("{}.download", upstream.file));
    let output = Command::new("curl")
        .args([
            "-fsSL",
            "--connect-timeout",
            "15",
            "--max-time",
            "300",
            "-o",
        ])
        .arg(&partial)
        .arg(&upstream.url)
        .output();
    let discard = || {
        let _ = std::fs::remove_file(&partial);
    };
    match output {
        Err(e) if e.kind() == ErrorKind::NotFound => return Err("curl is not installed".to_owned()),
        Err(e) => return Err(format!("cannot run curl: {e}")),
        Ok(output) if !output.status.success() => {
            discard();
            let stderr = String::from_utf8_lossy(&output.stderr);
            return Err(format!("curl {}: {}", output.status, stderr.trim()));
        }
        Ok(_) => {}
    }
    let bytes = std::fs::read(&partial).map_err(|e| {
        discard();
        format!("cannot read the download {}: {e}", partial.display())
    })?;
    let actual = sha256_hex(&bytes);
    if actual != upstream.sha256 {
        discard();
        return Err(format!(
            "the downloaded file has sha256 {actual}, not the pinned {}; it was not kept",
            upstream.sha256
        ));
    }
    std::fs::rename(&partial, cache.join(&upstream.file)).map_err(|e| {
        discard();
        format!("cannot move the download into the cache: {e}")
    })?;
    Ok(bytes)
}

/// Orders the entries so each comes after its base (upstream first, then by
/// derivation depth, then by version). Errors carry the entry index.
fn derivation_order(
    versions: &[VersionEntry],
    index_of: &HashMap<ApiVersion, usize>,
) -> std::result::Result<Vec<usize>, (usize, String)> {
    let mut depth = Vec::with_capacity(versions.len());
    for (index, entry) in versions.iter().enumerate() {
        let mut chain = vec![entry.version.clone()];
        let mut current = index;
        while let VersionSource::Derived(derivation) = &versions[current].source {
            let Some(&next) = index_of.get(&derivation.base) else {
                return Err((
                    current,
                    format!(
                        "base {} of version {} is not listed in the manifest",
                        derivation.base, versions[current].version
                    ),
                ));
            };
            chain.push(derivation.base.clone());
            if next == index || chain.len() > versions.len() + 1 {
                let path: Vec<String> = chain.iter().map(ToString::to_string).collect();
                return Err((
                    index,
                    format!(
                        "derivation cycle: {}; one version must be upstream",
                        path.join(" -> ")
                    ),
                ));
            }
            current = next;
        }
        depth.push(chain.len());
    }
    let mut order: Vec<usize> = (0..versions.len()).collect();
    order.sort_by(|&a, &b| {
        depth[a]
            .cmp(&depth[b])
            .then_with(|| versions[a].version.cmp(&versions[b].version))
    });
    Ok(order)
}

// --- the manifest as written ------------------------------------------------

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    versions: Vec<RawVersion>,
    #[serde(default)]
    errata: Vec<RawErratum>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVersion {
    version: Label,
    file: Option<String>,
    url: Option<String>,
    sha256: Option<String>,
    base: Option<Label>,
    overlays: Option<Vec<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawErratum {
    overlay: String,
    versions: Label,
}

/// A version label that must be written as a string: YAML reads `1.30` as the
/// number 1.3, so a bare number is refused with that hint.
struct Label(String);

impl<'de> Deserialize<'de> for Label {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        match serde_yaml::Value::deserialize(d)? {
            serde_yaml::Value::String(text) if !text.trim().is_empty() => Ok(Label(text)),
            serde_yaml::Value::Number(number) => Err(serde::de::Error::custom(format!(
                "version {number} must be quoted (\"{number}\"): YAML reads 1.30 as the number 1.3"
            ))),
            _ => Err(serde::de::Error::custom(
                "a version must be a non-empty string",
            )),
        }
    }
}

impl RawVersion {
    fn validate(self) -> std::result::Result<VersionEntry, String> {
        let version = ApiVersion::new(self.version.0);
        let upstream = self.file.is_some() || self.url.is_some() || self.sha256.is_some();
        let derived = self.base.is_some() || self.overlays.is_some();
        let source = match (upstream, derived) {
            (true, true) => {
                return Err(format!(
                    "version {version} has both upstream fields (file, url, sha256) and \
                     derivation fields (base, overlays); keep one kind"
                ));
            }
            (false, false) => {
                return Err(format!(
                    "version {version} needs a source: `file`, `url` and `sha256`, or `base` and `overlays`"
                ));
            }
            (true, false) => {
                let missing = |field: &str| format!("upstream version {version} lacks `{field}`");
                let file = self.file.ok_or_else(|| missing("file"))?;
                let url = self.url.ok_or_else(|| missing("url"))?;
                let sha256 = self.sha256.ok_or_else(|| missing("sha256"))?;
                if file.is_empty() || file == "." || file == ".." || file.contains(['/', '\\']) {
                    return Err(format!("`file: {file}` must be a plain file name"));
                }
                if !url.ends_with(&format!("/{file}")) {
                    return Err(format!(
                        "`url: {url}` does not end in the file name `{file}`"
                    ));
                }
                if sha256.len() != 64
                    || !sha256
                        .bytes()
                        .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
                {
                    return Err(format!(
                        "`sha256: {sha256}` must be 64 lowercase hex digits"
                    ));
                }
                VersionSource::Upstream(UpstreamFile { file, url, sha256 })
            }
            (false, true) => {
                let base = self
                    .base
                    .map(|label| ApiVersion::new(label.0))
                    .ok_or_else(|| format!("derived version {version} lacks `base`"))?;
                let overlays = self.overlays.unwrap_or_default();
                if overlays.is_empty() {
                    return Err(format!(
                        "derived version {version} lists no overlays; a derivation without \
                         overlays would copy {base}"
                    ));
                }
                if let Some(bad) = overlays.iter().find(|path| !is_relative_file(path)) {
                    return Err(format!(
                        "overlay `{bad}` must be a path relative to the manifest's folder"
                    ));
                }
                VersionSource::Derived(Derivation { base, overlays })
            }
        };
        Ok(VersionEntry { version, source })
    }
}

impl RawErratum {
    fn validate(self, versions: &[VersionEntry]) -> std::result::Result<Erratum, String> {
        if !is_relative_file(&self.overlay) {
            return Err(format!(
                "overlay `{}` must be a path relative to the manifest's folder",
                self.overlay
            ));
        }
        let text = self.versions.0;
        let (since, until) = match text.split_once("..=") {
            Some((since, until)) => (ApiVersion::new(since), ApiVersion::new(until)),
            None => (
                ApiVersion::new(text.as_str()),
                ApiVersion::new(text.as_str()),
            ),
        };
        for end in [&since, &until] {
            if !versions.iter().any(|entry| &entry.version == end) {
                return Err(format!(
                    "`versions: {text}` names {end}, which the manifest does not list"
                ));
            }
        }
        if since > until {
            return Err(format!("`versions: {text}` is an empty range"));
        }
        let range = VersionRange { since, until };
        if let Some(derived) = versions
            .iter()
            .find(|e| range.contains(&e.version) && matches!(e.source, VersionSource::Derived(_)))
        {
            return Err(format!(
                "`versions: {text}` includes the derived version {}; errata correct upstream \
                 files, and derived versions inherit the corrections from their base",
                derived.version
            ));
        }
        Ok(Erratum {
            overlay: self.overlay,
            versions: range,
        })
    }
}

fn is_relative_file(path: &str) -> bool {
    !path.is_empty() && !Path::new(path).is_absolute() && !path.starts_with(['/', '\\'])
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A folder under the system temp dir, removed when dropped.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(name: &str) -> Scratch {
            static NEXT: AtomicUsize = AtomicUsize::new(0);
            let dir = std::env::temp_dir().join(format!(
                "drydock-manifest-{name}-{}-{}",
                std::process::id(),
                NEXT.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            Scratch(dir)
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.0.join(relative);
            std::fs::create_dir_all(path.parent().expect("has parent")).expect("create dirs");
            std::fs::write(&path, text).expect("write scratch file");
            path
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    fn workspace_root() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("..")
    }

    fn project_manifest_dir() -> PathBuf {
        workspace_root().join("specs").join("docker")
    }

    fn project_manifest() -> Manifest {
        Manifest::load(&project_manifest_dir().join("manifest.yaml")).expect("manifest.yaml loads")
    }

    /// The upstream mirror; its absence fails the test, with what to do.
    fn mirror() -> PathBuf {
        locate_mirror(None, &workspace_root()).unwrap_or_else(|| {
            panic!(
                "no spec mirror: set {SPECS_DIR_ENV} to a folder holding the upstream v1.25..v1.33 \
                 files, or provide <workspace>/../shared/specs/docker"
            )
        })
    }

    const SPEC_V2: &str = "swagger: '2.0'\nbasePath: /v2\ninfo:\n  title: Test\n  version: '2'\n\
        paths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n  /b:\n    get:\n      \
        responses:\n        200: {description: ok}\ndefinitions:\n  Thing:\n    type: object\n    \
        properties:\n      Labels: {type: object, x-nullable: false}\n";

    /// A manifest with upstream 2 (served from `mirror`), derived 1, and an erratum on 2.
    fn synthetic(dir: &Scratch, sha256: &str, url: &str) -> Manifest {
        dir.write(
            "overlays/v1.yaml",
            "overlay: 1.0.0\ninfo: {title: v1, version: '1'}\nactions:\n  - target: $.paths['/b']\n    remove: true\n",
        );
        dir.write(
            "errata/labels.yaml",
            "overlay: 1.0.0\ninfo: {title: e, version: '1'}\nactions:\n  - target: $.definitions.Thing.properties.Labels\n    update: {x-nullable: true}\n",
        );
        let text = format!(
            "versions:\n  - version: '1'\n    base: '2'\n    overlays: [overlays/v1.yaml]\n  - version: '2'\n    \
             file: v2.yaml\n    url: {url}\n    sha256: {sha256}\nerrata:\n  - overlay: errata/labels.yaml\n    versions: '2'\n"
        );
        Manifest::parse("manifest.yaml", &text).expect("synthetic manifest parses")
    }

    fn source_with_mirror(dir: &Scratch) -> SpecSource {
        dir.write("mirror/v2.yaml", SPEC_V2);
        SpecSource {
            mirror: Some(dir.0.join("mirror")),
            cache: dir.0.join("cache"),
        }
    }

    #[test]
    fn project_manifest_lists_every_version_from_1_23_to_1_33_once() {
        let manifest = project_manifest();
        let expected: Vec<ApiVersion> = (23..=33)
            .map(|n| ApiVersion::new(format!("1.{n}")))
            .collect();
        assert_eq!(manifest.version_list(), expected);
        assert_eq!(manifest.versions.len(), expected.len());
    }

    #[test]
    fn project_manifest_derives_1_24_and_1_23_and_pins_the_rest_upstream() {
        let manifest = project_manifest();
        for entry in &manifest.versions {
            match (&entry.source, entry.version.as_str()) {
                (VersionSource::Derived(d), "1.24") => assert_eq!(d.base.as_str(), "1.25"),
                (VersionSource::Derived(d), "1.23") => assert_eq!(d.base.as_str(), "1.24"),
                (VersionSource::Upstream(u), v) => {
                    assert_eq!(u.file, format!("v{v}.yaml"));
                    assert_eq!(
                        u.url,
                        format!(
                            "https://raw.githubusercontent.com/moby/moby/\
                             b985e2313a8676e18072b442911fc8f64f17d440/api/docs/v{v}.yaml"
                        )
                    );
                }
                (source, v) => panic!("unexpected source for {v}: {source:?}"),
            }
        }
    }

    #[test]
    fn mirror_files_match_the_pinned_sha256() {
        let mirror = mirror();
        for entry in &project_manifest().versions {
            if let VersionSource::Upstream(upstream) = &entry.source {
                let path = mirror.join(&upstream.file);
                let bytes = std::fs::read(&path)
                    .unwrap_or_else(|e| panic!("mirror lacks {}: {e}", path.display()));
                assert_eq!(sha256_hex(&bytes), upstream.sha256, "{}", path.display());
            }
        }
    }

    #[test]
    fn project_documents_come_oldest_first_with_errata_and_derivations_applied() {
        let scratch = Scratch::new("project");
        let source = SpecSource {
            mirror: Some(mirror()),
            cache: scratch.0.join("cache"),
        };
        let documents = project_manifest()
            .documents(&project_manifest_dir(), &source)
            .unwrap_or_else(|e| panic!("{e}"));
        let versions: Vec<&str> = documents.iter().map(|d| d.version.as_str()).collect();
        assert_eq!(versions.first(), Some(&"1.23"));
        assert_eq!(versions.last(), Some(&"1.33"));
        assert!(
            versions
                .windows(2)
                .all(|w| ApiVersion::new(w[0]) < ApiVersion::new(w[1]))
        );
        for document in &documents {
            assert_eq!(
                document.value.pointer("/info/version"),
                Some(&Value::String(document.version.to_string())),
                "{}",
                document.file
            );
            assert_eq!(
                document.value.get("basePath"),
                Some(&Value::String(format!("/v{}", document.version))),
                "{}",
                document.file
            );
            // The erratum reaches every version, derived ones through their base.
            assert_eq!(
                document
                    .value
                    .pointer("/definitions/ImageSummary/properties/Labels/x-nullable"),
                Some(&Value::Bool(true)),
                "{}",
                document.file
            );
        }
        assert_eq!(
            documents[1].file,
            "v1.24 (v1.25.yaml + overlays/v1.24.yaml)"
        );
        assert_eq!(
            documents[0].file,
            "v1.23 (v1.25.yaml + overlays/v1.24.yaml + overlays/v1.23.yaml)"
        );
        assert_eq!(documents[2].file, "v1.25.yaml");
    }

    #[test]
    fn derived_version_applies_overlays_over_the_corrected_base() {
        let scratch = Scratch::new("derive");
        let manifest = synthetic(
            &scratch,
            &sha256_hex(SPEC_V2.as_bytes()),
            "https://example.invalid/v2.yaml",
        );
        let documents = manifest
            .documents(&scratch.0, &source_with_mirror(&scratch))
            .unwrap();
        assert_eq!(documents.len(), 2);
        let (v1, v2) = (&documents[0], &documents[1]);
        assert_eq!(v1.version.as_str(), "1");
        assert_eq!(v1.file, "v1 (v2.yaml + overlays/v1.yaml)");
        assert!(v1.value["paths"].get("/b").is_none());
        assert!(v2.value["paths"].get("/b").is_some());
        assert_eq!(v1.value["info"]["version"], "1");
        assert_eq!(v1.value["basePath"], "/v1");
        assert_eq!(v2.value["basePath"], "/v2");
        for doc in [v1, v2] {
            assert_eq!(
                doc.value["definitions"]["Thing"]["properties"]["Labels"]["x-nullable"],
                true
            );
        }
    }

    #[test]
    fn derived_version_keeps_the_info_version_its_overlay_sets() {
        let scratch = Scratch::new("keep");
        let manifest = synthetic(
            &scratch,
            &sha256_hex(SPEC_V2.as_bytes()),
            "https://example.invalid/v2.yaml",
        );
        scratch.write(
            "overlays/v1.yaml",
            "overlay: 1.0.0\ninfo: {title: v1, version: '1'}\nactions:\n  - target: $.info\n    update: {version: '1.0-custom'}\n",
        );
        let documents = manifest
            .documents(&scratch.0, &source_with_mirror(&scratch))
            .unwrap();
        assert_eq!(documents[0].value["info"]["version"], "1.0-custom");
    }

    #[test]
    fn a_stale_erratum_names_the_overlay_action_and_document() {
        let scratch = Scratch::new("stale");
        let manifest = synthetic(
            &scratch,
            &sha256_hex(SPEC_V2.as_bytes()),
            "https://example.invalid/v2.yaml",
        );
        scratch.write(
            "errata/labels.yaml",
            "overlay: 1.0.0\ninfo: {title: e, version: '1'}\nactions:\n  - target: $.definitions.Gone\n    remove: true\n",
        );
        let err = manifest
            .documents(&scratch.0, &source_with_mirror(&scratch))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with(
                "errata/labels.yaml: action 0 (target `$.definitions.Gone`): applied to v2.yaml:"
            ),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_checksum_names_the_file_and_both_digests() {
        let scratch = Scratch::new("checksum");
        let pinned = "0".repeat(64);
        let manifest = synthetic(&scratch, &pinned, "https://example.invalid/v2.yaml");
        let err = manifest
            .documents(&scratch.0, &source_with_mirror(&scratch))
            .unwrap_err();
        assert!(
            matches!(&err, SpecError::Source { file, .. } if file == "v2.yaml"),
            "{err}"
        );
        let text = err.to_string();
        assert!(
            text.contains(&format!("expected sha256 {pinned}")),
            "{text}"
        );
        assert!(
            text.contains(&format!("found {}", sha256_hex(SPEC_V2.as_bytes()))),
            "{text}"
        );
        assert!(text.contains("https://example.invalid/v2.yaml"), "{text}");
    }

    #[test]
    fn a_missing_file_says_where_it_looked_and_how_to_provide_it() {
        let scratch = Scratch::new("missing");
        let url = format!("file://{}/nowhere/v2.yaml", scratch.0.display());
        let manifest = synthetic(&scratch, &sha256_hex(SPEC_V2.as_bytes()), &url);
        let source = SpecSource {
            mirror: Some(scratch.0.join("empty-mirror")),
            cache: scratch.0.join("cache"),
        };
        let err = manifest.documents(&scratch.0, &source).unwrap_err();
        assert!(
            matches!(&err, SpecError::Source { file, .. } if file == "v2.yaml"),
            "{err}"
        );
        let text = err.to_string();
        for needle in [
            "not found",
            "empty-mirror",
            &source.cache.display().to_string(),
            &url,
            "--specs-dir",
            SPECS_DIR_ENV,
        ] {
            assert!(text.contains(needle), "`{needle}` missing from: {text}");
        }
        assert!(!source.cache.join("v2.yaml.download").exists());
    }

    #[test]
    fn a_file_absent_from_the_mirror_is_downloaded_into_the_cache_and_verified() {
        let scratch = Scratch::new("download");
        let served = scratch.write("served/v2.yaml", SPEC_V2);
        let url = format!("file://{}", served.display());
        let manifest = synthetic(&scratch, &sha256_hex(SPEC_V2.as_bytes()), &url);
        let source = SpecSource {
            mirror: None,
            cache: scratch.0.join("cache"),
        };
        let documents = manifest
            .documents(&scratch.0, &source)
            .expect("curl copies the file");
        assert_eq!(documents.len(), 2);
        let cached = std::fs::read_to_string(source.cache.join("v2.yaml")).unwrap();
        assert_eq!(cached, SPEC_V2);
        // The next run reads the cache even when the URL is gone.
        std::fs::remove_file(&served).unwrap();
        assert!(manifest.documents(&scratch.0, &source).is_ok());
    }

    #[test]
    fn a_download_with_the_wrong_checksum_is_not_kept() {
        let scratch = Scratch::new("baddownload");
        let served = scratch.write("served/v2.yaml", "swagger: '2.0'\n");
        let url = format!("file://{}", served.display());
        let manifest = synthetic(&scratch, &sha256_hex(SPEC_V2.as_bytes()), &url);
        let source = SpecSource {
            mirror: None,
            cache: scratch.0.join("cache"),
        };
        let err = manifest
            .documents(&scratch.0, &source)
            .unwrap_err()
            .to_string();
        assert!(err.contains("was not kept"), "{err}");
        assert!(!source.cache.join("v2.yaml").exists());
        assert!(!source.cache.join("v2.yaml.download").exists());
    }

    fn parse_error(text: &str) -> String {
        Manifest::parse("m.yaml", text).unwrap_err().to_string()
    }

    const SHA: &str = "d7cd7bc9ea71e110735a2b309e65aa39a21eea28076be6f9091c2d6369a02212";

    fn upstream(version: &str) -> String {
        format!(
            "  - version: '{version}'\n    file: v{version}.yaml\n    url: https://x/v{version}.yaml\n    sha256: {SHA}\n"
        )
    }

    #[test]
    fn a_version_listed_twice_is_an_error() {
        let err = parse_error(&format!(
            "versions:\n{}{}",
            upstream("1.25"),
            upstream("1.25")
        ));
        assert!(
            err.contains("m.yaml#/versions/1") && err.contains("listed twice"),
            "{err}"
        );
    }

    #[test]
    fn an_unknown_base_is_an_error() {
        let err = parse_error(&format!(
            "versions:\n{}  - version: '1.24'\n    base: '1.99'\n    overlays: [o.yaml]\n",
            upstream("1.25")
        ));
        assert!(
            err.contains("#/versions/1/base") && err.contains("1.99"),
            "{err}"
        );
    }

    #[test]
    fn a_derivation_cycle_is_an_error() {
        let err = parse_error(
            "versions:\n  - version: '1.23'\n    base: '1.24'\n    overlays: [a.yaml]\n  \
             - version: '1.24'\n    base: '1.23'\n    overlays: [b.yaml]\n",
        );
        assert!(
            err.contains("derivation cycle: 1.23 -> 1.24 -> 1.23"),
            "{err}"
        );
    }

    #[test]
    fn an_entry_must_be_upstream_or_derived_not_both_or_neither() {
        let err = parse_error(&format!(
            "versions:\n{}    base: '1.26'\n",
            upstream("1.25")
        ));
        assert!(err.contains("keep one kind"), "{err}");
        let err = parse_error("versions:\n  - version: '1.25'\n");
        assert!(err.contains("needs a source"), "{err}");
        let err = parse_error(
            "versions:\n  - version: '1.25'\n    file: v1.25.yaml\n    url: https://x/v1.25.yaml\n",
        );
        assert!(err.contains("lacks `sha256`"), "{err}");
    }

    #[test]
    fn upstream_fields_are_checked() {
        let err = parse_error(&upstream("1.25").replace(SHA, "abc").replacen(
            "  -",
            "versions:\n  -",
            1,
        ));
        assert!(err.contains("64 lowercase hex"), "{err}");
        let err = parse_error(&format!(
            "versions:\n{}",
            upstream("1.25").replace("https://x/v1.25.yaml", "https://x/v1.26.yaml")
        ));
        assert!(err.contains("does not end in the file name"), "{err}");
        let err = parse_error(&format!(
            "versions:\n{}",
            upstream("1.25").replace("file: v1.25.yaml", "file: ../v1.25.yaml")
        ));
        assert!(err.contains("plain file name"), "{err}");
    }

    #[test]
    fn an_unquoted_version_gets_a_quoting_hint() {
        let err =
            parse_error("versions:\n  - version: 1.30\n    base: '1.31'\n    overlays: [o.yaml]\n");
        assert!(err.contains("must be quoted"), "{err}");
    }

    #[test]
    fn errata_must_name_listed_upstream_versions() {
        let versions = format!(
            "versions:\n{}{}  - version: '1.24'\n    base: '1.25'\n    overlays: [o.yaml]\n",
            upstream("1.25"),
            upstream("1.26")
        );
        let ok = Manifest::parse(
            "m.yaml",
            &format!("{versions}errata:\n  - overlay: e.yaml\n    versions: '1.25..=1.26'\n"),
        )
        .unwrap();
        assert!(ok.errata[0].versions.contains(&ApiVersion::new("1.26")));
        let err = parse_error(&format!(
            "{versions}errata:\n  - overlay: e.yaml\n    versions: '1.25..=1.40'\n"
        ));
        assert!(err.contains("#/errata/0") && err.contains("1.40"), "{err}");
        let err = parse_error(&format!(
            "{versions}errata:\n  - overlay: e.yaml\n    versions: '1.24..=1.26'\n"
        ));
        assert!(err.contains("derived version 1.24"), "{err}");
    }

    #[test]
    fn derivation_order_puts_each_base_before_its_derivations() {
        let manifest = project_manifest();
        let position = |v: &str| {
            manifest
                .order
                .iter()
                .position(|&i| manifest.versions[i].version.as_str() == v)
                .unwrap()
        };
        assert!(position("1.25") < position("1.24"));
        assert!(position("1.24") < position("1.23"));
    }

    #[test]
    fn mirror_location_prefers_flag_then_env_then_sibling_folder() {
        let scratch = Scratch::new("locate");
        let root = scratch.0.join("main");
        std::fs::create_dir_all(&root).unwrap();
        assert_eq!(mirror_from(None, None, &root), None);
        assert_eq!(mirror_from(None, Some(OsString::new()), &root), None);
        let sibling = root.join("..").join("shared").join("specs").join("docker");
        std::fs::create_dir_all(&sibling).unwrap();
        assert_eq!(mirror_from(None, None, &root), Some(sibling));
        assert_eq!(
            mirror_from(None, Some("/env/specs".into()), &root),
            Some(PathBuf::from("/env/specs"))
        );
        assert_eq!(
            mirror_from(Some(Path::new("/flag")), Some("/env/specs".into()), &root),
            Some(PathBuf::from("/flag"))
        );
        let source = SpecSource::new(Some(Path::new("/flag")), &root);
        assert_eq!(source.cache, root.join(".cache").join("specs"));
    }
}
