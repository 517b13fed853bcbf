//! A content-addressed image store under a data root.
//!
//! Layout (all under the store's root):
//! - `content/sha256/<hex>`: image configs; an image's id is the sha256 of these bytes.
//! - `layers/sha256/<diff id hex>/diff/`: each layer unpacked once, stacked by overlayfs;
//!   `layer.tar` beside it is the uncompressed tar whose sha256 is the diff id, kept so that
//!   `save` writes the very bytes the diff id names; `size` is its size as Docker counts it.
//! - `repositories.json`: tags, `{"busybox": {"busybox:latest": "sha256:…"}}`, as dockerd
//!   keeps them.
//! - `tmp/`: staging; a layer or config is renamed into place only once complete.

mod archive;
mod change;
pub(crate) mod config;
mod layer;
mod reference;

use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::Serialize;

pub use archive::LoadedImage;
pub use change::apply_changes;
pub use config::{ContainerConfig, History, ImageConfig, RootFs};
pub(crate) use layer::c_path as layer_c_path;
pub use layer::decompressed;
pub use reference::{DEFAULT_TAG, Reference};

use crate::digest::Digest;
use crate::durable;
use crate::error::{Error, Result};
use crate::timestamp::Timestamp;

/// Tags by repository name, then by full reference, as dockerd's `repositories.json`.
type Repositories = BTreeMap<String, BTreeMap<String, Digest>>;

/// The on-disk document of tags.
#[derive(serde::Serialize, serde::Deserialize, Default)]
struct RepositoriesFile {
    #[serde(rename = "Repositories", default)]
    repositories: Repositories,
}

/// How `import` makes the image config.
#[derive(Clone, Debug)]
pub struct ImportOptions {
    /// The tag to give the image (`busybox:latest`), if any.
    pub reference: Option<String>,
    /// The image's default container config (what `--change` instructions set).
    pub config: ContainerConfig,
    /// The comment: Docker writes `Imported from <source>` (`-` for stdin).
    pub comment: String,
    /// When the image was made; `now` by default.
    pub created: Timestamp,
    /// What goes into `docker_version`.
    pub docker_version: String,
    /// The architecture (`amd64`).
    pub architecture: String,
    /// The operating system (`linux`).
    pub os: String,
}

impl Default for ImportOptions {
    fn default() -> ImportOptions {
        ImportOptions {
            reference: None,
            config: ContainerConfig::default(),
            comment: "Imported from -".to_owned(),
            created: Timestamp::now(),
            docker_version: format!("drydock-{}", env!("CARGO_PKG_VERSION")),
            architecture: go_architecture().to_owned(),
            os: "linux".to_owned(),
        }
    }
}

/// Go's name (`GOARCH`) for the machine's architecture, as image configs carry it.
pub fn go_architecture() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// A container that uses an image, which `remove` must respect as Docker does.
#[derive(Clone, Debug)]
pub struct ImageUser {
    /// The container's id.
    pub container_id: String,
    /// The image the container was created from.
    pub image: Digest,
    /// Whether it is running (a running container's image cannot be removed, even forced).
    pub running: bool,
}

/// One thing `remove` did, as Docker reports it (`Untagged` / `Deleted`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum DeleteRecord {
    /// A tag was removed.
    Untagged(String),
    /// An image (by id) was removed.
    Deleted(String),
}

/// What `docker image inspect` shows of an image.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// `sha256:<hex>`.
    pub id: String,
    /// Its tags.
    pub repo_tags: Vec<String>,
    /// Its registry digests (none for local images).
    pub repo_digests: Vec<String>,
    /// The parent image (empty for imported and loaded images).
    pub parent: String,
    /// The config's comment.
    pub comment: String,
    /// When it was made.
    pub created: String,
    /// The container it was committed from.
    pub container: String,
    /// The committed container's config.
    pub container_config: Option<ContainerConfig>,
    /// The version of the tool that made it.
    pub docker_version: String,
    /// Its author.
    pub author: String,
    /// The default container config.
    pub config: Option<ContainerConfig>,
    /// The CPU architecture.
    pub architecture: String,
    /// The operating system.
    pub os: String,
    /// The sum of its layers' sizes.
    pub size: u64,
    /// The same as `size` (API < 1.44).
    pub virtual_size: u64,
    /// Its layers.
    #[serde(rename = "RootFS")]
    pub rootfs: InspectRootFs,
}

/// The `RootFS` of an image inspect.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct InspectRootFs {
    /// Always `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// The diff ids, bottom first.
    pub layers: Vec<String>,
}

/// One image as `docker images` lists it.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// `sha256:<hex>`.
    pub id: String,
    /// Its tags.
    pub repo_tags: Vec<String>,
    /// When it was made, in seconds since the epoch.
    pub created: i64,
    /// The sum of its layers' sizes.
    pub size: u64,
    /// Its config's labels.
    pub labels: BTreeMap<String, String>,
}

/// One step of `docker history`, newest first.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryEntry {
    /// The image id for the newest step, `<missing>` for the steps below it.
    pub id: String,
    /// When the step ran, in seconds since the epoch.
    pub created: i64,
    /// The step's command.
    pub created_by: String,
    /// The image's tags on the newest step.
    pub tags: Vec<String>,
    /// The size of the layer the step made (0 for an empty layer).
    pub size: u64,
    /// The step's comment.
    pub comment: String,
}

/// The image store.
pub struct ImageStore {
    root: PathBuf,
    /// Serialises every change of tags, configs and layers.
    lock: Mutex<()>,
}

impl ImageStore {
    /// Opens (creating when missing) the store in `root`.
    pub fn open(root: impl Into<PathBuf>) -> Result<ImageStore> {
        let root = root.into();
        for sub in ["content/sha256", "layers/sha256", "tmp"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        }
        // Staging left by a crash is garbage.
        let tmp = root.join("tmp");
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let path = entry.path();
                let _ = fs::remove_dir_all(&path).or_else(|_| fs::remove_file(&path));
            }
        }
        Ok(ImageStore {
            root,
            lock: Mutex::new(()),
        })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Imports a root filesystem tarball (plain or gzip) as a one-layer image, as `docker
    /// import` does, and returns its id.
    pub fn import(&self, tarball: impl Read, options: ImportOptions) -> Result<Digest> {
        let reference = options
            .reference
            .as_deref()
            .map(|text| Reference::parse(text).map(Reference::with_default_tag))
            .transpose()?;
        if reference.as_ref().is_some_and(|r| r.digest().is_some()) {
            return Err(Error::InvalidReference(
                "refusing to create a tag with a digest reference".to_owned(),
            ));
        }
        let staging = self.staging_dir()?;
        let tar = staging.join("layer.tar");
        let stored = layer::store_uncompressed(tarball, &tar);
        let diff_id = match stored {
            Ok(diff_id) => diff_id,
            Err(e) => {
                let _ = fs::remove_dir_all(&staging);
                return Err(e);
            }
        };
        let _guard = self.locked();
        let registered = self.register_layer(&diff_id, &tar);
        let _ = fs::remove_dir_all(&staging);
        registered?;
        let bytes = config::ImportedConfig {
            architecture: &options.architecture,
            os: &options.os,
            comment: &options.comment,
            config: &options.config,
            created: options.created,
            docker_version: &options.docker_version,
            diff_id: &diff_id,
        }
        .to_bytes();
        let id = self.write_config(&bytes)?;
        if let Some(reference) = reference {
            self.set_tag_locked(&reference, &id)?;
        }
        Ok(id)
    }

    /// A new empty folder under `tmp/`.
    fn staging_dir(&self) -> Result<PathBuf> {
        let tmp = self.root.join("tmp");
        for n in 0..u32::MAX {
            let dir = tmp.join(format!("{}-{n}", std::process::id()));
            match fs::create_dir(&dir) {
                Ok(()) => return Ok(dir),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => return Err(Error::io("create", &dir, e)),
            }
        }
        Err(Error::io(
            "create",
            &tmp,
            std::io::ErrorKind::AlreadyExists.into(),
        ))
    }

    /// Makes the layer whose uncompressed tar is the file `tar` (already hashed to `diff_id`)
    /// part of the store, unpacking it unless it is there already. `tar` is moved, not copied.
    fn register_layer(&self, diff_id: &Digest, tar: &Path) -> Result<()> {
        let final_dir = self.layer_dir(diff_id);
        if final_dir.join("size").exists() {
            return Ok(());
        }
        let staging = self.staging_dir()?;
        let result = (|| {
            let diff = staging.join("diff");
            fs::create_dir(&diff).map_err(|e| Error::io("create", &diff, e))?;
            let size = layer::unpack(tar, &diff)?;
            let kept = staging.join("layer.tar");
            fs::rename(tar, &kept).map_err(|e| Error::io("move", tar, e))?;
            durable::write_atomically(&staging.join("size"), size.to_string().as_bytes())?;
            durable::sync_dir(&staging)?;
            if final_dir.exists() {
                // A layer left incomplete by a crash (no `size`): replace it.
                fs::remove_dir_all(&final_dir).map_err(|e| Error::io("remove", &final_dir, e))?;
            }
            durable::rename_dir_durably(&staging, &final_dir)
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result
    }

    /// The folder of a layer (its `diff/` holds the files).
    fn layer_dir(&self, diff_id: &Digest) -> PathBuf {
        self.root.join("layers/sha256").join(diff_id.hex())
    }

    /// Stores config bytes and returns their digest, the image id.
    fn write_config(&self, bytes: &[u8]) -> Result<Digest> {
        let id = Digest::of(bytes);
        let path = self.config_path(&id);
        if !path.exists() {
            durable::write_atomically(&path, bytes)?;
        }
        Ok(id)
    }

    fn config_path(&self, id: &Digest) -> PathBuf {
        self.root.join("content/sha256").join(id.hex())
    }

    /// The config bytes of an image, exactly as stored.
    pub fn config_bytes(&self, id: &Digest) -> Result<Vec<u8>> {
        let path = self.config_path(id);
        fs::read(&path).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                Error::NoSuchImage(id.to_string())
            } else {
                Error::io("read", &path, e)
            }
        })
    }

    /// The parsed config of an image.
    pub fn config(&self, id: &Digest) -> Result<ImageConfig> {
        let bytes = self.config_bytes(id)?;
        parse_config(id, &bytes)
    }

    fn repositories_path(&self) -> PathBuf {
        self.root.join("repositories.json")
    }

    fn read_repositories(&self) -> Result<Repositories> {
        Ok(
            durable::read_json::<RepositoriesFile>(&self.repositories_path())?
                .unwrap_or_default()
                .repositories,
        )
    }

    fn write_repositories(&self, repositories: &Repositories) -> Result<()> {
        let file = RepositoriesFile {
            repositories: repositories.clone(),
        };
        durable::write_json_atomically(&self.repositories_path(), &file)
    }

    /// Gives image `target` (a name, tag or id) the tag `reference`, moving the tag from any
    /// image that had it.
    pub fn tag(&self, target: &str, reference: &str) -> Result<()> {
        let id = self.resolve(target)?;
        let reference = Reference::parse(reference)?.with_default_tag();
        if reference.digest().is_some() {
            return Err(Error::InvalidReference(
                "refusing to create a tag with a digest reference".to_owned(),
            ));
        }
        let _guard = self.locked();
        self.set_tag_locked(&reference, &id)
    }

    fn set_tag_locked(&self, reference: &Reference, id: &Digest) -> Result<()> {
        let mut repositories = self.read_repositories()?;
        repositories
            .entry(reference.name().to_owned())
            .or_default()
            .insert(reference.to_string(), id.clone());
        self.write_repositories(&repositories)
    }

    /// The image id a name, tag or id (full, `sha256:`-prefixed or a unique prefix) names.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchImage`] when nothing matches (naming the reference with its default tag,
    /// `No such image: busybox:latest`, as dockerd does), [`Error::AmbiguousImageId`] when an id
    /// prefix matches several images.
    pub fn resolve(&self, text: &str) -> Result<Digest> {
        let mut missing = text.to_owned();
        if let Ok(reference) = Reference::parse(text) {
            let reference = reference.with_default_tag();
            let repositories = self.read_repositories()?;
            if let Some(id) = repositories
                .get(reference.name())
                .and_then(|tags| tags.get(&reference.to_string()))
            {
                return Ok(id.clone());
            }
            missing = reference.to_string();
        }
        let hex = text.strip_prefix("sha256:").unwrap_or(text);
        let is_hex = !hex.is_empty()
            && hex.len() <= 64
            && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !is_hex {
            return Err(Error::NoSuchImage(missing));
        }
        let mut matches = self
            .image_ids()?
            .into_iter()
            .filter(|id| id.hex().starts_with(hex));
        match (matches.next(), matches.next()) {
            (Some(id), None) => Ok(id),
            (Some(_), Some(_)) => Err(Error::AmbiguousImageId(text.to_owned())),
            (None, _) => Err(Error::NoSuchImage(missing)),
        }
    }

    /// Every image id in the store.
    pub fn image_ids(&self) -> Result<Vec<Digest>> {
        let dir = self.root.join("content/sha256");
        let entries = fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        let mut ids: Vec<Digest> = entries
            .flatten()
            .filter_map(|entry| Digest::from_hex(&entry.file_name().to_string_lossy()))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The tags of an image, sorted.
    pub fn tags_of(&self, id: &Digest) -> Result<Vec<String>> {
        let repositories = self.read_repositories()?;
        Ok(repositories
            .values()
            .flat_map(|tags| tags.iter())
            .filter(|(_, target)| *target == id)
            .map(|(tag, _)| tag.clone())
            .collect())
    }

    /// The unpacked layer folders of an image, top-most first (the order of overlayfs'
    /// `lowerdir`).
    pub fn layer_paths(&self, id: &Digest) -> Result<Vec<PathBuf>> {
        let config = self.config(id)?;
        Ok(config
            .rootfs
            .diff_ids
            .iter()
            .rev()
            .map(|diff_id| self.layer_dir(diff_id).join("diff"))
            .collect())
    }

    /// What `docker image inspect` shows of the image `text` names.
    pub fn inspect(&self, text: &str) -> Result<ImageInspect> {
        let id = self.resolve(text)?;
        let config = self.config(&id)?;
        let size = self.size_of_layers(&config)?;
        Ok(ImageInspect {
            id: id.to_string(),
            repo_tags: self.tags_of(&id)?,
            repo_digests: Vec::new(),
            parent: config.parent.clone(),
            comment: config.comment.clone(),
            created: config.created.unwrap_or(Timestamp::UNIX_EPOCH).to_string(),
            container: config.container.clone(),
            container_config: config.container_config.clone(),
            docker_version: config.docker_version.clone(),
            author: config.author.clone(),
            config: config.config.clone(),
            architecture: config.architecture.clone(),
            os: config.os.clone(),
            size,
            virtual_size: size,
            rootfs: InspectRootFs {
                kind: config.rootfs.kind.clone(),
                layers: config
                    .rootfs
                    .diff_ids
                    .iter()
                    .map(Digest::to_string)
                    .collect(),
            },
        })
    }

    /// Every image, newest first, as `docker images -a` lists them.
    pub fn list(&self) -> Result<Vec<ImageSummary>> {
        let mut summaries = Vec::new();
        for id in self.image_ids()? {
            let config = self.config(&id)?;
            let size = self.size_of_layers(&config)?;
            summaries.push(ImageSummary {
                id: id.to_string(),
                repo_tags: self.tags_of(&id)?,
                created: config.created.map_or(0, |created| created.unix_seconds()),
                size,
                labels: config
                    .config
                    .and_then(|config| config.labels)
                    .unwrap_or_default(),
            });
        }
        summaries.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(summaries)
    }

    /// The history of the image `text` names, newest step first, each step that made a layer
    /// paired with that layer's size, as `docker history` shows it.
    pub fn history(&self, text: &str) -> Result<Vec<HistoryEntry>> {
        let id = self.resolve(text)?;
        let config = self.config(&id)?;
        let mut layers = config.rootfs.diff_ids.iter();
        let mut entries = Vec::new();
        for step in &config.history {
            let size = if step.empty_layer {
                0
            } else {
                match layers.next() {
                    Some(diff_id) => self.layer_size(diff_id)?,
                    None => 0,
                }
            };
            entries.push(HistoryEntry {
                id: "<missing>".to_owned(),
                created: step.created.map_or(0, |created| created.unix_seconds()),
                created_by: step.created_by.clone(),
                tags: Vec::new(),
                size,
                comment: step.comment.clone(),
            });
        }
        entries.reverse();
        if let Some(newest) = entries.first_mut() {
            newest.id = id.to_string();
            newest.tags = self.tags_of(&id)?;
        }
        Ok(entries)
    }

    /// The bytes the image `id`'s layers take unpacked: its `Size` in inspect and lists, and
    /// the base of its containers' `SizeRootFs`.
    ///
    /// # Errors
    ///
    /// When the store has no such image or one of its layers.
    pub fn image_size(&self, id: &Digest) -> Result<u64> {
        self.size_of_layers(&self.config(id)?)
    }

    fn size_of_layers(&self, config: &ImageConfig) -> Result<u64> {
        config
            .rootfs
            .diff_ids
            .iter()
            .map(|diff_id| self.layer_size(diff_id))
            .sum()
    }

    /// The bytes the layer `diff_id` takes unpacked (what `docker system df` adds up).
    ///
    /// # Errors
    ///
    /// When the store has no such layer.
    pub fn layer_size(&self, diff_id: &Digest) -> Result<u64> {
        let path = self.layer_dir(diff_id).join("size");
        let text = fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
        text.trim().parse().map_err(|_| {
            Error::io(
                "parse",
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, "not a size"),
            )
        })
    }

    /// Removes the image `text` names, as `docker rmi` does: a tag is untagged, and the image
    /// goes when no tag is left and no container uses it; an id removes the image and its one
    /// repository's tags. `users` are the engine's containers and their images.
    ///
    /// # Errors
    ///
    /// [`Error::ImageConflict`] with Docker's text when a container uses the image (running:
    /// even with `force`; by its last tag: without `force`, which would leave a container on a
    /// dangling image) or an id names an image tagged in several repositories without `force`;
    /// [`Error::NoSuchImage`] when nothing matches.
    pub fn remove(
        &self,
        text: &str,
        force: bool,
        users: &[ImageUser],
    ) -> Result<Vec<DeleteRecord>> {
        let id = self.resolve(text)?;
        let _guard = self.locked();
        let mut repositories = self.read_repositories()?;
        let refs: Vec<String> = repositories
            .values()
            .flat_map(|tags| tags.iter())
            .filter(|(_, target)| **target == id)
            .map(|(tag, _)| tag.clone())
            .collect();
        let by_id = is_id_prefix(&id, text);
        let mut records = Vec::new();
        let using: Vec<&ImageUser> = users.iter().filter(|user| user.image == id).collect();
        let running = using.iter().find(|user| user.running);
        let stopped = using.iter().find(|user| !user.running);
        if !by_id {
            if !force
                && refs.len() == 1
                && let Some(user) = using.first()
            {
                return Err(Error::ImageConflict(format!(
                    "conflict: unable to remove repository reference {text:?} (must force) - \
                     container {} is using its referenced image {}",
                    short(&user.container_id),
                    id.short()
                )));
            }
            let reference = Reference::parse(text)?.with_default_tag();
            let untagged = reference.to_string();
            if let Some(tags) = repositories.get_mut(reference.name()) {
                tags.remove(&untagged);
                if tags.is_empty() {
                    repositories.remove(reference.name());
                }
            }
            self.write_repositories(&repositories)?;
            records.push(DeleteRecord::Untagged(untagged));
            if refs.len() > 1 || !using.is_empty() {
                // Other tags keep the image, or a container does (the image stays, untagged).
                return Ok(records);
            }
        } else {
            let conflict = |reason: String, forced: &str| {
                Error::ImageConflict(format!(
                    "conflict: unable to delete {} ({forced}) - {reason}",
                    id.short()
                ))
            };
            if let Some(user) = running {
                return Err(conflict(
                    format!(
                        "image is being used by running container {}",
                        short(&user.container_id)
                    ),
                    "cannot be forced",
                ));
            }
            let repos: std::collections::BTreeSet<String> = refs
                .iter()
                .filter_map(|tag| Reference::parse(tag).ok())
                .map(|reference| reference.name().to_owned())
                .collect();
            if !force {
                if repos.len() > 1 {
                    return Err(conflict(
                        "image is referenced in multiple repositories".to_owned(),
                        "must be forced",
                    ));
                }
                if let Some(user) = stopped {
                    return Err(conflict(
                        format!(
                            "image is being used by stopped container {}",
                            short(&user.container_id)
                        ),
                        "must be forced",
                    ));
                }
            }
            for tag in &refs {
                for tags in repositories.values_mut() {
                    tags.remove(tag);
                }
                records.push(DeleteRecord::Untagged(tag.clone()));
            }
            repositories.retain(|_, tags| !tags.is_empty());
            self.write_repositories(&repositories)?;
        }
        self.delete_image_locked(&id, !using.is_empty())?;
        records.push(DeleteRecord::Deleted(id.to_string()));
        Ok(records)
    }

    /// Deletes an image's config and the layers no other image uses (all of them are kept when
    /// `keep_layers`: a container still stands on them).
    fn delete_image_locked(&self, id: &Digest, keep_layers: bool) -> Result<()> {
        let config = self.config(id)?;
        let path = self.config_path(id);
        fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
        if keep_layers {
            return Ok(());
        }
        let mut still_used = std::collections::BTreeSet::new();
        for other in self.image_ids()? {
            if let Ok(other_config) = self.config(&other) {
                still_used.extend(other_config.rootfs.diff_ids);
            }
        }
        for diff_id in config.rootfs.diff_ids {
            if still_used.contains(&diff_id) {
                continue;
            }
            let dir = self.layer_dir(&diff_id);
            // Renamed away first, so a crash mid-removal leaves no half layer under its name.
            let doomed = self.staging_dir()?;
            let _ = fs::remove_dir(&doomed);
            if fs::rename(&dir, &doomed).is_ok() {
                fs::remove_dir_all(&doomed).map_err(|e| Error::io("remove", &doomed, e))?;
            }
        }
        Ok(())
    }
}

/// Whether `text` names the image by id (full, `sha256:`-prefixed or a prefix of it) rather
/// than by a tag.
fn is_id_prefix(id: &Digest, text: &str) -> bool {
    let hex = text.strip_prefix("sha256:").unwrap_or(text);
    !hex.is_empty() && id.hex().starts_with(hex)
}

/// The first 12 characters of a container id.
fn short(id: &str) -> &str {
    id.get(..12).unwrap_or(id)
}

/// Parses config bytes, naming the image when they are malformed.
fn parse_config(id: &Digest, bytes: &[u8]) -> Result<ImageConfig> {
    serde_json::from_slice(bytes).map_err(|e| Error::InvalidImageConfig {
        id: id.to_string(),
        reason: e.to_string(),
    })
}
