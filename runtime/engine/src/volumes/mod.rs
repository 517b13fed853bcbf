//! Local volumes, kept as Docker's `local` driver keeps them, with the references that
//! containers hold on them.
//!
//! Layout (under the store's root, `<data_root>/volumes`):
//! - `<name>/_data/`: the volume's content, what containers mount;
//! - `<name>/volume.json`: its record (driver, creation time, labels, options, the containers
//!   that reference it and those that have it mounted), replaced atomically on every change so
//!   references survive an engine restart;
//! - `.creating-<name>`, `.removing-<name>`: a volume being made or removed; a crash leaves
//!   either, and [`VolumeStore::open`] clears them (volume names never start with a dot).
//!
//! A volume is *referenced* by each container that uses it, from create to remove
//! ([`VolumeStore::acquire`] / [`VolumeStore::release`]): a referenced volume is in use and
//! is neither removed nor pruned. It is *mounted* for each running container
//! ([`VolumeStore::mount`] / [`VolumeStore::unmount`]): a volume whose options name a device
//! (`type=tmpfs,device=tmpfs`, `type=none,o=bind,device=/srv`) has it mounted on `_data` while
//! any container runs with it, as Docker's local driver does.

mod device;
mod filter;

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read};
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use serde::{Deserialize, Serialize};

pub use filter::{PruneFilter, VolumeFilter};

use crate::durable;
use crate::error::{Error, Result};
use crate::rootfs;
use crate::timestamp::Timestamp;

/// The only volume driver the engine has, Docker's default.
pub const LOCAL_DRIVER: &str = "local";

/// The scope of every local volume.
pub const LOCAL_SCOPE: &str = "local";

/// The folder inside a volume's folder that holds its content.
const DATA_DIR: &str = "_data";

/// The record of a volume, beside its `_data`.
const RECORD_FILE: &str = "volume.json";

/// What `docker volume create` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateVolume {
    /// The name; empty for an anonymous volume, which gets 64 random hex digits as Docker's.
    pub name: String,
    /// The driver: empty or `local`.
    pub driver: String,
    /// Labels, kept as given (`None` and an empty map stay apart, as Docker shows them).
    pub labels: Option<BTreeMap<String, String>>,
    /// Driver options: the local driver's `type`, `device`, `o` (and `size`, which needs a
    /// quota the engine does not have).
    pub options: Option<BTreeMap<String, String>>,
}

/// A volume, as `docker volume inspect` shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Volume {
    /// Its name.
    pub name: String,
    /// Its driver, always [`LOCAL_DRIVER`].
    pub driver: String,
    /// Where its content is on the host (`<root>/<name>/_data`).
    pub mountpoint: PathBuf,
    /// When it was created, to the second (Docker shows it as RFC 3339).
    pub created_at: Timestamp,
    /// Its labels.
    pub labels: Option<BTreeMap<String, String>>,
    /// The driver options it was created with.
    pub options: Option<BTreeMap<String, String>>,
    /// The containers that reference it, oldest first; it is in use while any does.
    pub users: Vec<String>,
}

impl Volume {
    /// Its scope, [`LOCAL_SCOPE`].
    pub fn scope(&self) -> &'static str {
        LOCAL_SCOPE
    }

    /// Whether its options have the local driver mount a device on its `_data`.
    pub fn mounts_device(&self) -> bool {
        device::DeviceMount::from_options(self.options.as_ref()).is_some()
    }
}

/// What `docker volume prune` did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// The names of the volumes removed.
    pub volumes_deleted: Vec<String>,
    /// The bytes their content took.
    pub space_reclaimed: u64,
}

/// A volume with the disk space its content takes, for `docker system df`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumeUsage {
    /// The volume.
    pub volume: Volume,
    /// The bytes its content takes, or `None` when it could not be measured (Docker shows -1).
    pub size: Option<u64>,
}

/// A volume's record on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Record {
    name: String,
    driver: String,
    created_at: Timestamp,
    labels: Option<BTreeMap<String, String>>,
    options: Option<BTreeMap<String, String>>,
    /// Containers referencing the volume.
    #[serde(default)]
    users: Vec<String>,
    /// Containers running with the volume mounted.
    #[serde(default)]
    mounted_by: Vec<String>,
}

/// The local volumes under one root.
pub struct VolumeStore {
    root: PathBuf,
    /// Serialises every change of a record and every creation and removal.
    lock: Mutex<()>,
}

impl VolumeStore {
    /// Opens (creating when missing) the store in `root`, usually `<data_root>/volumes`, and
    /// clears what a crash left half made or half removed.
    pub fn open(root: impl Into<PathBuf>) -> Result<VolumeStore> {
        let root = root.into();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o701)
            .create(&root)
            .map_err(|e| Error::io("create", &root, e))?;
        let entries = fs::read_dir(&root).map_err(|e| Error::io("list", &root, e))?;
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with(".creating-") || name.starts_with(".removing-") {
                remove_tree(&entry.path())?;
            }
        }
        Ok(VolumeStore {
            root,
            lock: Mutex::new(()),
        })
    }

    /// The store's root folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Where the content of the volume `name` is (whether or not it exists).
    pub fn data_path(&self, name: &str) -> PathBuf {
        self.root.join(name).join(DATA_DIR)
    }

    fn locked(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn record_path(&self, name: &str) -> PathBuf {
        self.root.join(name).join(RECORD_FILE)
    }

    /// The record of `name`, or `None` when there is no such volume (or the name could not be
    /// one: it would name another folder).
    fn read(&self, name: &str) -> Result<Option<Record>> {
        if validate_name(name).is_err() {
            return Ok(None);
        }
        durable::read_json(&self.record_path(name))
    }

    fn read_existing(&self, op: &'static str, name: &str) -> Result<Record> {
        self.read(name)?.ok_or_else(|| Error::NoSuchVolume {
            op,
            name: name.to_owned(),
        })
    }

    fn write(&self, record: &Record) -> Result<()> {
        durable::write_json_atomically(&self.record_path(&record.name), record)
    }

    fn volume(&self, record: Record) -> Volume {
        Volume {
            mountpoint: self.data_path(&record.name),
            name: record.name,
            driver: record.driver,
            created_at: record.created_at,
            labels: record.labels,
            options: record.options,
            users: record.users,
        }
    }

    /// Creates a volume, as `docker volume create` does. A volume that exists already is
    /// returned as it is (the labels and options asked for are neither applied nor checked),
    /// as Docker does.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchVolumeDriver`] for a driver other than `local`; [`Error::InvalidVolume`]
    /// for a name or options the local driver refuses, with Docker's text.
    pub fn create(&self, request: &CreateVolume) -> Result<Volume> {
        let name = if request.name.is_empty() {
            random_name()?
        } else {
            request.name.clone()
        };
        if !request.driver.is_empty() && request.driver != LOCAL_DRIVER {
            return Err(Error::NoSuchVolumeDriver {
                name,
                driver: request.driver.clone(),
            });
        }
        let invalid = |reason: String| Error::InvalidVolume {
            op: "create",
            name: name.clone(),
            reason,
        };
        validate_name(&name).map_err(&invalid)?;
        let _guard = self.locked();
        if let Some(existing) = self.read(&name)? {
            return Ok(self.volume(existing));
        }
        device::validate_options(request.options.as_ref()).map_err(invalid)?;
        let record = Record {
            name: name.clone(),
            driver: LOCAL_DRIVER.to_owned(),
            created_at: Timestamp::now().whole_seconds(),
            labels: request.labels.clone(),
            options: request.options.clone(),
            users: Vec::new(),
            mounted_by: Vec::new(),
        };
        let staging = self.root.join(format!(".creating-{name}"));
        let made = (|| {
            remove_tree(&staging)?;
            let mut builder = fs::DirBuilder::new();
            builder
                .mode(0o701)
                .create(&staging)
                .map_err(|e| Error::io("create", &staging, e))?;
            let data = staging.join(DATA_DIR);
            builder
                .mode(0o755)
                .create(&data)
                .map_err(|e| Error::io("create", &data, e))?;
            // The mode is exact whatever the umask.
            fs::set_permissions(&data, fs::Permissions::from_mode(0o755))
                .map_err(|e| Error::io("set the mode of", &data, e))?;
            durable::write_json_atomically(&staging.join(RECORD_FILE), &record)?;
            durable::rename_dir_durably(&staging, &self.root.join(&name))
        })();
        if let Err(e) = made {
            let _ = remove_tree(&staging);
            return Err(e);
        }
        Ok(self.volume(record))
    }

    /// The volume `name`.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchVolume`] (`get x: no such volume`).
    pub fn get(&self, name: &str) -> Result<Volume> {
        Ok(self.volume(self.read_existing("get", name)?))
    }

    /// Every volume, by name.
    fn records(&self) -> Result<Vec<Record>> {
        let entries = fs::read_dir(&self.root).map_err(|e| Error::io("list", &self.root, e))?;
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
            .filter(|name| !name.starts_with('.'))
            .collect();
        names.sort();
        let mut records = Vec::with_capacity(names.len());
        for name in names {
            if let Some(record) = self.read(&name)? {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// The volumes `filter` keeps, by name (`docker volume ls`).
    pub fn list(&self, filter: &VolumeFilter) -> Result<Vec<Volume>> {
        Ok(self
            .records()?
            .into_iter()
            .map(|record| self.volume(record))
            .filter(|volume| filter.matches(volume))
            .collect())
    }

    /// Removes the volume and its content (`docker volume rm`). With `force`, a volume that
    /// does not exist is no error.
    ///
    /// # Errors
    ///
    /// [`Error::VolumeInUse`] while containers reference it; [`Error::NoSuchVolume`] without
    /// `force` when it does not exist.
    pub fn remove(&self, name: &str, force: bool) -> Result<()> {
        let _guard = self.locked();
        let record = match self.read(name)? {
            Some(record) => record,
            None if force => return Ok(()),
            None => {
                return Err(Error::NoSuchVolume {
                    op: "get",
                    name: name.to_owned(),
                });
            }
        };
        self.remove_unused(&record)
    }

    /// Removes a volume that the caller checked exists, refusing it while in use. Its content
    /// is deleted only once nothing is mounted in it, so a device (a bind of a host folder)
    /// can never be emptied by mistake.
    fn remove_unused(&self, record: &Record) -> Result<()> {
        if !record.users.is_empty() {
            return Err(Error::VolumeInUse {
                name: record.name.clone(),
                users: record.users.clone(),
            });
        }
        let dir = self.root.join(&record.name);
        let data = dir.join(DATA_DIR);
        if rootfs::is_mount_point(&data)? {
            device::unmount(&data)?;
        }
        let still_mounted = rootfs::mounts_under(&dir)?;
        if !still_mounted.is_empty() {
            return Err(Error::Mount {
                action: "unmount",
                target: still_mounted[0].display().to_string(),
                source: io::Error::from_raw_os_error(libc::EBUSY),
            });
        }
        let removing = self.root.join(format!(".removing-{}", record.name));
        durable::rename_dir_durably(&dir, &removing)?;
        remove_tree(&removing)
    }

    /// Removes the unused local volumes `filter` keeps, as `docker volume prune` does: a
    /// volume created with driver options is never pruned (its content is not local).
    pub fn prune(&self, filter: &PruneFilter) -> Result<PruneReport> {
        let _guard = self.locked();
        let mut report = PruneReport::default();
        for record in self.records()? {
            let volume = self.volume(record.clone());
            let has_options = record.options.as_ref().is_some_and(|o| !o.is_empty());
            if !volume.users.is_empty() || has_options || !filter.matches(&volume) {
                continue;
            }
            let size = rootfs::content_size(&volume.mountpoint).unwrap_or(0);
            self.remove_unused(&record)?;
            report.space_reclaimed += size;
            report.volumes_deleted.push(record.name);
        }
        Ok(report)
    }

    /// The local volumes without driver options with the space their content takes, as
    /// `docker system df` counts them.
    pub fn usage(&self) -> Result<Vec<VolumeUsage>> {
        Ok(self
            .records()?
            .into_iter()
            .filter(|record| record.options.as_ref().is_none_or(BTreeMap::is_empty))
            .map(|record| {
                let volume = self.volume(record);
                let size = rootfs::content_size(&volume.mountpoint).ok();
                VolumeUsage { volume, size }
            })
            .collect())
    }

    /// Records that the container `user` references the volume: it is in use until
    /// [`VolumeStore::release`]. Acquiring twice is acquiring once.
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchVolume`] when it does not exist.
    pub fn acquire(&self, name: &str, user: &str) -> Result<Volume> {
        let _guard = self.locked();
        let mut record = self.read_existing("get", name)?;
        if insert_user(&mut record.users, user) {
            self.write(&record)?;
        }
        Ok(self.volume(record))
    }

    /// Drops the container `user`'s reference. Releasing a reference not held, or of a volume
    /// that is gone, does nothing.
    pub fn release(&self, name: &str, user: &str) -> Result<()> {
        let _guard = self.locked();
        let Some(mut record) = self.read(name)? else {
            return Ok(());
        };
        if remove_user(&mut record.users, user) {
            self.write(&record)?;
        }
        Ok(())
    }

    /// Makes the volume ready for the container `user` to run with and returns the folder to
    /// bind into it: a volume with a device has it mounted on `_data` (once, however many
    /// containers run with it).
    ///
    /// # Errors
    ///
    /// [`Error::NoSuchVolume`] when it does not exist; [`Error::Mount`] when the kernel
    /// refuses the device.
    pub fn mount(&self, name: &str, user: &str) -> Result<PathBuf> {
        let _guard = self.locked();
        let mut record = self.read_existing("get", name)?;
        let data = self.data_path(name);
        if let Some(device) = device::DeviceMount::from_options(record.options.as_ref())
            && !rootfs::is_mount_point(&data)?
        {
            device.mount(&data)?;
        }
        if insert_user(&mut record.mounted_by, user) {
            self.write(&record)?;
        }
        Ok(data)
    }

    /// Undoes [`VolumeStore::mount`] for `user`: once no container runs with the volume, its
    /// device is unmounted. Unmounting a volume that is gone does nothing.
    pub fn unmount(&self, name: &str, user: &str) -> Result<()> {
        let _guard = self.locked();
        let Some(mut record) = self.read(name)? else {
            return Ok(());
        };
        if remove_user(&mut record.mounted_by, user) {
            self.write(&record)?;
        }
        let data = self.data_path(name);
        if record.mounted_by.is_empty()
            && device::DeviceMount::from_options(record.options.as_ref()).is_some()
            && rootfs::is_mount_point(&data)?
        {
            device::unmount(&data)?;
        }
        Ok(())
    }
}

/// Adds `user` to `users` unless it is there; whether it was added.
fn insert_user(users: &mut Vec<String>, user: &str) -> bool {
    let absent = !users.iter().any(|known| known == user);
    if absent {
        users.push(user.to_owned());
    }
    absent
}

/// Removes `user` from `users`; whether it was there.
fn remove_user(users: &mut Vec<String>, user: &str) -> bool {
    let index = users.iter().position(|known| known == user);
    if let Some(index) = index {
        users.remove(index);
    }
    index.is_some()
}

/// Checks a volume name as Docker's local driver does (`[a-zA-Z0-9][a-zA-Z0-9_.-]+`), giving
/// its reason when refused.
pub(crate) fn validate_name(name: &str) -> std::result::Result<(), String> {
    if name.len() == 1 {
        return Err(
            "volume name is too short, names should be at least two alphanumeric characters"
                .to_owned(),
        );
    }
    let mut bytes = name.bytes();
    let valid = bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(format!(
            "{name:?} includes invalid characters for a local volume name, only \
             \"[a-zA-Z0-9][a-zA-Z0-9_.-]\" are allowed. If you intended to pass a host \
             directory, use absolute path"
        ))
    }
}

/// A new anonymous volume name: 64 random hex digits, whose 12-digit prefix is not all
/// digits (Docker's ids avoid that, so a short id never reads as a number).
pub(crate) fn random_name() -> Result<String> {
    let source = Path::new("/dev/urandom");
    let mut file = fs::File::open(source).map_err(|e| Error::io("open", source, e))?;
    loop {
        let mut bytes = [0u8; 32];
        file.read_exact(&mut bytes)
            .map_err(|e| Error::io("read", source, e))?;
        let name: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        if !name[..12].bytes().all(|b| b.is_ascii_digit()) {
            return Ok(name);
        }
    }
}

/// Removes a folder tree, which may be missing.
fn remove_tree(path: &Path) -> Result<()> {
    match fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(Error::io("remove", path, e)),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{CreateVolume, PruneFilter, VolumeFilter, VolumeStore, random_name, validate_name};
    use crate::error::{Error, ErrorKind};
    use crate::scratch::ScratchDir;

    fn named(name: &str) -> CreateVolume {
        CreateVolume {
            name: name.to_owned(),
            ..CreateVolume::default()
        }
    }

    #[test]
    fn names_follow_the_local_drivers_rule_with_dockers_reasons() {
        assert!(validate_name("db-data_1.x").is_ok());
        assert_eq!(
            validate_name("a").expect_err("too short"),
            "volume name is too short, names should be at least two alphanumeric characters"
        );
        for bad in ["../etc", ".hidden", "a/b", "-x", "a b", ""] {
            let reason = validate_name(bad).expect_err(bad);
            assert!(
                reason.starts_with(&format!("{bad:?} includes invalid characters")),
                "{reason}"
            );
        }
    }

    #[test]
    fn anonymous_names_are_64_hex_digits_and_differ() {
        let first = random_name().expect("a name");
        let second = random_name().expect("a name");
        assert_eq!(first.len(), 64);
        assert!(first.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(first, second);
    }

    #[test]
    fn a_created_volume_is_inspected_listed_and_kept_as_given() {
        let dir = ScratchDir::new("create");
        let store = dir.volume_store();
        let labels = BTreeMap::from([("tier".to_owned(), "db".to_owned())]);
        let created = store
            .create(&CreateVolume {
                name: "data".to_owned(),
                labels: Some(labels.clone()),
                options: Some(BTreeMap::new()),
                ..CreateVolume::default()
            })
            .expect("created");
        assert_eq!(created.driver, "local");
        assert_eq!(created.scope(), "local");
        assert_eq!(created.mountpoint, dir.path().join("volumes/data/_data"));
        assert!(created.mountpoint.is_dir());
        assert_eq!(created.labels, Some(labels));
        assert_eq!(created.options, Some(BTreeMap::new()));
        assert_eq!(store.get("data").expect("inspect"), created);
        // Creating it again returns it unchanged, whatever the options.
        let again = store
            .create(&CreateVolume {
                options: Some(BTreeMap::from([("colour".to_owned(), "red".to_owned())])),
                ..named("data")
            })
            .expect("exists");
        assert_eq!(again, created);
        let anonymous = store.create(&CreateVolume::default()).expect("anonymous");
        assert_eq!(anonymous.name.len(), 64);
        assert_eq!(anonymous.labels, None);
        let names: Vec<String> = store
            .list(&VolumeFilter::default())
            .expect("list")
            .into_iter()
            .map(|volume| volume.name)
            .collect();
        let mut expected = vec![anonymous.name.clone(), "data".to_owned()];
        expected.sort();
        assert_eq!(names, expected);
    }

    #[test]
    fn unknown_volumes_drivers_and_names_get_dockers_errors() {
        let dir = ScratchDir::new("errors");
        let store = dir.volume_store();
        let missing = store.get("nosuchvol").expect_err("missing");
        assert_eq!(missing.to_string(), "get nosuchvol: no such volume");
        assert_eq!(missing.kind(), ErrorKind::NotFound);
        let remove = store.remove("nosuchvol", false).expect_err("missing");
        assert_eq!(remove.to_string(), "get nosuchvol: no such volume");
        store
            .remove("nosuchvol", true)
            .expect("force ignores a missing volume");
        let driver = store
            .create(&CreateVolume {
                name: "v1".to_owned(),
                driver: "nfs-plugin".to_owned(),
                ..CreateVolume::default()
            })
            .expect_err("no such driver");
        assert_eq!(
            driver.to_string(),
            "create v1: error looking up volume plugin nfs-plugin: plugin \"nfs-plugin\" not found"
        );
        assert_eq!(driver.kind(), ErrorKind::NotFound);
        let traversal = store.create(&named("../x")).expect_err("bad name");
        assert_eq!(traversal.kind(), ErrorKind::InvalidInput);
        assert!(
            traversal
                .to_string()
                .starts_with("create ../x: \"../x\" includes invalid characters"),
            "{traversal}"
        );
        assert!(!dir.path().join("x").exists());
        let option = store
            .create(&CreateVolume {
                name: "v2".to_owned(),
                options: Some(BTreeMap::from([("colour".to_owned(), "red".to_owned())])),
                ..CreateVolume::default()
            })
            .expect_err("bad option");
        assert_eq!(option.to_string(), "create v2: invalid option: \"colour\"");
        assert!(matches!(store.get("v2"), Err(Error::NoSuchVolume { .. })));
    }

    #[test]
    fn a_referenced_volume_is_in_use_until_every_container_releases_it() {
        let dir = ScratchDir::new("in-use");
        let store = dir.volume_store();
        store.create(&named("shared")).expect("created");
        store.acquire("shared", "c1").expect("c1");
        store.acquire("shared", "c2").expect("c2");
        store.acquire("shared", "c1").expect("c1 again");
        let busy = store.remove("shared", true).expect_err("in use");
        assert_eq!(
            busy.to_string(),
            "remove shared: volume is in use - [c1, c2]"
        );
        assert_eq!(busy.kind(), ErrorKind::Conflict);
        // The references are on disk: a store opened afresh (an engine that restarted) sees
        // them.
        let reopened = VolumeStore::open(store.root()).expect("reopens");
        assert_eq!(reopened.get("shared").expect("exists").users, ["c1", "c2"]);
        reopened.release("shared", "c1").expect("c1 goes");
        reopened
            .release("shared", "c3")
            .expect("not a user: nothing");
        assert!(reopened.remove("shared", false).is_err());
        reopened.release("shared", "c2").expect("c2 goes");
        reopened.remove("shared", false).expect("unused now");
        assert!(!dir.path().join("volumes/shared").exists());
        assert!(matches!(
            reopened.acquire("shared", "c1"),
            Err(Error::NoSuchVolume { .. })
        ));
    }

    #[test]
    fn prune_removes_unused_volumes_the_label_filters_keep_and_counts_their_bytes() {
        let dir = ScratchDir::new("prune");
        let store = dir.volume_store();
        let labelled = |name: &str, labels: &[(&str, &str)]| CreateVolume {
            name: name.to_owned(),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            ..CreateVolume::default()
        };
        let store = &store;
        let keep = store
            .create(&labelled("keep", &[("keep", "")]))
            .expect("keep");
        let old = store
            .create(&labelled("old", &[("env", "test")]))
            .expect("old");
        store
            .create(&labelled("used", &[("env", "test")]))
            .expect("used");
        store.create(&named("plain")).expect("plain");
        store.acquire("used", "c1").expect("in use");
        std::fs::write(old.mountpoint.join("blob"), [7u8; 1000]).expect("content");
        std::fs::write(keep.mountpoint.join("blob"), [7u8; 10]).expect("content");
        let by_label = store
            .prune(&PruneFilter {
                labels: vec!["env=test".to_owned()],
                ..PruneFilter::default()
            })
            .expect("prunes");
        assert_eq!(by_label.volumes_deleted, ["old"]);
        assert_eq!(by_label.space_reclaimed, 1000);
        let all_but_kept = store
            .prune(&PruneFilter {
                not_labels: vec!["keep".to_owned()],
                ..PruneFilter::default()
            })
            .expect("prunes");
        assert_eq!(all_but_kept.volumes_deleted, ["plain"]);
        let names: Vec<String> = store
            .list(&VolumeFilter::default())
            .expect("list")
            .into_iter()
            .map(|volume| volume.name)
            .collect();
        assert_eq!(names, ["keep", "used"]);
    }

    #[test]
    fn usage_counts_each_hard_linked_file_once_and_skips_volumes_with_options() {
        let dir = ScratchDir::new("usage");
        let store = dir.volume_store();
        let store = &store;
        let volume = store.create(&named("sized")).expect("created");
        std::fs::write(volume.mountpoint.join("a"), [1u8; 300]).expect("a");
        std::fs::hard_link(volume.mountpoint.join("a"), volume.mountpoint.join("b")).expect("b");
        std::fs::create_dir(volume.mountpoint.join("sub")).expect("sub");
        std::fs::write(volume.mountpoint.join("sub/c"), [1u8; 20]).expect("c");
        store
            .create(&CreateVolume {
                name: "ram".to_owned(),
                options: Some(BTreeMap::from([
                    ("type".to_owned(), "tmpfs".to_owned()),
                    ("device".to_owned(), "tmpfs".to_owned()),
                ])),
                ..CreateVolume::default()
            })
            .expect("ram");
        store.acquire("sized", "c1").expect("in use");
        let usage = store.usage().expect("usage");
        assert_eq!(usage.len(), 1);
        assert_eq!(usage[0].volume.name, "sized");
        assert_eq!(usage[0].volume.users, ["c1"]);
        assert_eq!(usage[0].size, Some(320));
    }

    #[test]
    fn a_half_created_or_half_removed_volume_left_by_a_crash_is_cleared_on_open() {
        let dir = ScratchDir::new("crash");
        let store = dir.volume_store();
        let root = store.root().to_path_buf();
        std::fs::create_dir_all(root.join(".creating-x1/_data")).expect("staging");
        std::fs::create_dir_all(root.join(".removing-x2/_data")).expect("removal");
        let reopened = VolumeStore::open(&root).expect("reopens");
        assert!(!root.join(".creating-x1").exists());
        assert!(!root.join(".removing-x2").exists());
        assert!(
            reopened
                .list(&VolumeFilter::default())
                .expect("list")
                .is_empty()
        );
    }
}
