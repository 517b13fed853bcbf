//! `docker save` / `docker load`: Docker's image archive, a tar holding `manifest.json`
//! (`[{"Config": "<id hex>.json", "RepoTags": [...], "Layers": ["<dir>/layer.tar", ...]}]`),
//! `repositories` (legacy tags: repository → tag → top layer's folder), each image's config as
//! `<id hex>.json`, and per layer a folder with `layer.tar`, `VERSION` (`1.0`) and a v1 `json`.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Component, Path};

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{ImageStore, Reference, layer, parse_config};
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// One entry of `manifest.json`.
#[derive(Serialize, Deserialize)]
struct ManifestEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Option<Vec<String>>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// An image `load` brought in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// Its id.
    pub id: Digest,
    /// The tags it was given.
    pub tags: Vec<String>,
}

impl ImageStore {
    /// Writes the images `names` name (tags, names or ids) as a `docker save` archive.
    /// A tag saves that tag, a repository name without a tag saves all its tags, an id saves
    /// the image untagged.
    pub fn save(&self, names: &[&str], out: impl Write) -> Result<()> {
        let mut images: BTreeMap<Digest, BTreeSet<String>> = BTreeMap::new();
        for name in names {
            let repository_tags = self.repository_tags(name)?;
            if !repository_tags.is_empty() {
                for (tag, id) in repository_tags {
                    images.entry(id).or_default().insert(tag);
                }
                continue;
            }
            let id = self.resolve(name)?;
            let tags = images.entry(id.clone()).or_default();
            if !super::is_id_prefix(&id, name) {
                tags.insert(Reference::parse(name)?.with_default_tag().to_string());
            }
        }
        let mut archive = tar::Builder::new(out);
        let mut manifest = Vec::new();
        let mut repositories: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        let mut written_layers = BTreeSet::new();
        for (id, tags) in &images {
            let bytes = self.config_bytes(id)?;
            let config = parse_config(id, &bytes)?;
            let created = config.created.unwrap_or(Timestamp::UNIX_EPOCH);
            let mut layer_paths = Vec::new();
            let mut parent: Option<String> = None;
            let mut chain: Option<Digest> = None;
            for diff_id in &config.rootfs.diff_ids {
                let chain_id = match &chain {
                    None => diff_id.clone(),
                    Some(below) => Digest::of(format!("{below} {diff_id}").as_bytes()),
                };
                let folder = chain_id.hex().to_owned();
                if written_layers.insert(folder.clone()) {
                    let mut v1 = serde_json::Map::new();
                    v1.insert("id".to_owned(), Value::from(folder.clone()));
                    if let Some(parent) = &parent {
                        v1.insert("parent".to_owned(), Value::from(parent.clone()));
                    }
                    v1.insert("created".to_owned(), Value::from(created.to_string()));
                    append_dir(&mut archive, &folder, created)?;
                    append_bytes(&mut archive, &format!("{folder}/VERSION"), b"1.0", created)?;
                    append_bytes(
                        &mut archive,
                        &format!("{folder}/json"),
                        Value::Object(v1).to_string().as_bytes(),
                        created,
                    )?;
                    let tar_path = self.layer_dir(diff_id).join("layer.tar");
                    let mut file =
                        File::open(&tar_path).map_err(|e| Error::io("open", &tar_path, e))?;
                    let length = file
                        .metadata()
                        .map_err(|e| Error::io("stat", &tar_path, e))?
                        .len();
                    let mut header = header(tar::EntryType::Regular, 0o644, length, created);
                    archive
                        .append_data(&mut header, format!("{folder}/layer.tar"), &mut file)
                        .map_err(|e| Error::io("write the archive entry of", &tar_path, e))?;
                }
                layer_paths.push(format!("{folder}/layer.tar"));
                parent = Some(folder);
                chain = Some(chain_id);
            }
            append_bytes(&mut archive, &format!("{}.json", id.hex()), &bytes, created)?;
            for tag in tags {
                if let (Ok(reference), Some(top)) = (Reference::parse(tag), &parent) {
                    repositories
                        .entry(reference.name().to_owned())
                        .or_default()
                        .insert(
                            reference.tag().unwrap_or(super::DEFAULT_TAG).to_owned(),
                            top.clone(),
                        );
                }
            }
            manifest.push(ManifestEntry {
                config: format!("{}.json", id.hex()),
                repo_tags: (!tags.is_empty()).then(|| tags.iter().cloned().collect()),
                layers: layer_paths,
            });
        }
        let manifest_bytes =
            serde_json::to_vec(&manifest).map_err(|e| Error::InvalidArchive(e.to_string()))?;
        append_bytes(
            &mut archive,
            "manifest.json",
            &manifest_bytes,
            Timestamp::UNIX_EPOCH,
        )?;
        if !repositories.is_empty() {
            let bytes = json!(repositories).to_string();
            append_bytes(
                &mut archive,
                "repositories",
                bytes.as_bytes(),
                Timestamp::UNIX_EPOCH,
            )?;
        }
        archive
            .into_inner()
            .and_then(|mut out| out.flush())
            .map_err(|e| Error::Io {
                context: "cannot finish the image archive".to_owned(),
                source: e,
            })
    }

    /// The tags of the repository `name` names when it is a name without tag or digest, else
    /// nothing.
    fn repository_tags(&self, name: &str) -> Result<Vec<(String, Digest)>> {
        let Ok(reference) = Reference::parse(name) else {
            return Ok(Vec::new());
        };
        if reference.tag().is_some() || reference.digest().is_some() {
            return Ok(Vec::new());
        }
        let repositories = self.read_repositories()?;
        Ok(repositories
            .get(reference.name())
            .map(|tags| {
                tags.iter()
                    .map(|(tag, id)| (tag.clone(), id.clone()))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// Loads a `docker save` archive (plain or gzip), checking every layer against the diff id
    /// its config announces, and tags the images as the archive says.
    pub fn load(&self, input: impl Read) -> Result<Vec<LoadedImage>> {
        let staging = self.staging_dir()?;
        let result = self.load_from(input, &staging);
        let _ = fs::remove_dir_all(&staging);
        result
    }

    fn load_from(&self, input: impl Read, staging: &Path) -> Result<Vec<LoadedImage>> {
        let input = layer::decompressed(input)?;
        let mut archive = tar::Archive::new(input);
        archive
            .unpack(staging)
            .map_err(|e| Error::InvalidArchive(format!("cannot unpack: {e}")))?;
        let manifest_path = staging.join("manifest.json");
        let manifest_bytes = match fs::read(&manifest_path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(Error::InvalidArchive(
                    "no manifest.json (archives of Docker before 1.10 are not supported)"
                        .to_owned(),
                ));
            }
            Err(e) => return Err(Error::io("read", &manifest_path, e)),
        };
        let manifest: Vec<ManifestEntry> = serde_json::from_slice(&manifest_bytes)
            .map_err(|e| Error::InvalidArchive(format!("manifest.json: {e}")))?;
        let mut loaded = Vec::new();
        for entry in manifest {
            let config_path = inside(staging, &entry.config)?;
            let bytes = fs::read(&config_path).map_err(|_| {
                Error::InvalidArchive(format!("manifest names {} which it lacks", entry.config))
            })?;
            let id = Digest::of(&bytes);
            let config = parse_config(&id, &bytes)?;
            if config.rootfs.diff_ids.len() != entry.layers.len() {
                return Err(Error::InvalidArchive(format!(
                    "{} lists {} layers but its config {}",
                    entry.config,
                    entry.layers.len(),
                    config.rootfs.diff_ids.len()
                )));
            }
            let _guard = self.locked();
            for (diff_id, layer_name) in config.rootfs.diff_ids.iter().zip(&entry.layers) {
                let layer_path = inside(staging, layer_name)?;
                let uncompressed = self.staging_dir()?;
                let tar = uncompressed.join("layer.tar");
                let file = File::open(&layer_path).map_err(|_| {
                    Error::InvalidArchive(format!("manifest names {layer_name} which it lacks"))
                })?;
                let stored = layer::store_uncompressed(file, &tar).and_then(|actual| {
                    if &actual == diff_id {
                        self.register_layer(diff_id, &tar)
                    } else {
                        Err(Error::DigestMismatch {
                            what: format!("layer {layer_name}"),
                            expected: diff_id.to_string(),
                            actual: actual.to_string(),
                        })
                    }
                });
                let _ = fs::remove_dir_all(&uncompressed);
                stored?;
            }
            self.write_config(&bytes)?;
            let mut tags = Vec::new();
            for tag in entry.repo_tags.unwrap_or_default() {
                let reference = Reference::parse(&tag)?.with_default_tag();
                self.set_tag_locked(&reference, &id)?;
                tags.push(reference.to_string());
            }
            loaded.push(LoadedImage { id, tags });
        }
        Ok(loaded)
    }
}

/// The path of an archive member named in `manifest.json`, refusing names that climb out.
fn inside(root: &Path, name: &str) -> Result<std::path::PathBuf> {
    let relative = Path::new(name);
    let safe = relative
        .components()
        .all(|component| matches!(component, Component::Normal(_) | Component::CurDir));
    if !safe {
        return Err(Error::InvalidArchive(format!("{name} leaves the archive")));
    }
    let path = root.join(relative);
    let resolved = fs::canonicalize(&path)
        .map_err(|_| Error::InvalidArchive(format!("manifest names {name} which it lacks")))?;
    let root = fs::canonicalize(root).map_err(|e| Error::io("resolve", root, e))?;
    if resolved.starts_with(&root) {
        Ok(resolved)
    } else {
        Err(Error::InvalidArchive(format!(
            "{name} leaves the archive through a symlink"
        )))
    }
}

fn header(kind: tar::EntryType, mode: u32, size: u64, mtime: Timestamp) -> tar::Header {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(u64::try_from(mtime.unix_seconds()).unwrap_or(0));
    header
}

fn append_dir<W: Write>(archive: &mut tar::Builder<W>, name: &str, mtime: Timestamp) -> Result<()> {
    let mut header = header(tar::EntryType::Directory, 0o755, 0, mtime);
    archive
        .append_data(&mut header, format!("{name}/"), std::io::empty())
        .map_err(|e| Error::Io {
            context: format!("cannot write the archive entry {name}"),
            source: e,
        })
}

fn append_bytes<W: Write>(
    archive: &mut tar::Builder<W>,
    name: &str,
    bytes: &[u8],
    mtime: Timestamp,
) -> Result<()> {
    let mut header = header(tar::EntryType::Regular, 0o644, bytes.len() as u64, mtime);
    archive
        .append_data(&mut header, name, bytes)
        .map_err(|e| Error::Io {
            context: format!("cannot write the archive entry {name}"),
            source: e,
        })
}
