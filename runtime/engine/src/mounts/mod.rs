//! A container's mounts: Docker's `HostConfig.Binds`, `HostConfig.Mounts`, `HostConfig.Tmpfs`
//! and the image's `Volumes` turned into a [`MountPlan`], checked as dockerd checks them, and
//! from the plan the OCI mounts the runtime spec gets (Docker's options: `rbind`, `rprivate`,
//! `ro`; tmpfs `noexec,nosuid,nodev` with its size and mode).
//!
//! A plan is made when a container is created and kept with it (it serialises); its steps
//! follow the container's life:
//! 1. [`plan`]: check everything, decide every volume (anonymous ones get their names);
//! 2. [`MountPlan::create_volumes`]: create the volumes and reference them for the container;
//! 3. [`MountPlan::populate`]: copy the image's content into empty volumes (copy-up);
//! 4. [`MountPlan::oci_mounts`] at each start, [`MountPlan::unmount_volumes`] at each stop;
//! 5. [`MountPlan::release_volumes`] when the container is removed (with `-v`, its anonymous
//!    volumes go too).

pub(crate) mod copy;
pub(crate) mod spec;

use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use std::str::FromStr;

use oci_spec::runtime::{Mount, MountBuilder};
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::volumes::{self, CreateVolume, LOCAL_DRIVER, VolumeStore};

/// What a mount mounts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MountType {
    /// A host path.
    Bind,
    /// A volume.
    Volume,
    /// A new tmpfs.
    Tmpfs,
}

impl MountType {
    /// The API's word: `bind`, `volume`, `tmpfs`.
    pub fn as_str(&self) -> &'static str {
        match self {
            MountType::Bind => "bind",
            MountType::Volume => "volume",
            MountType::Tmpfs => "tmpfs",
        }
    }
}

impl fmt::Display for MountType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for MountType {
    type Err = Error;

    /// Parses the API's word; any other (`npipe`, `""`) is Docker's `mount type unknown`.
    fn from_str(text: &str) -> Result<MountType> {
        match text {
            "bind" => Ok(MountType::Bind),
            "volume" => Ok(MountType::Volume),
            "tmpfs" => Ok(MountType::Tmpfs),
            _ => Err(Error::InvalidHostConfig(format!(
                "invalid mount config for type {text:?}: mount type unknown"
            ))),
        }
    }
}

/// A bind's mount propagation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Propagation {
    /// `private`.
    Private,
    /// `rprivate`, Docker's default for binds.
    Rprivate,
    /// `shared`.
    Shared,
    /// `rshared`.
    Rshared,
    /// `slave`.
    Slave,
    /// `rslave`.
    Rslave,
}

impl Propagation {
    /// The API's word, which is also the OCI mount option.
    pub fn as_str(&self) -> &'static str {
        match self {
            Propagation::Private => "private",
            Propagation::Rprivate => "rprivate",
            Propagation::Shared => "shared",
            Propagation::Rshared => "rshared",
            Propagation::Slave => "slave",
            Propagation::Rslave => "rslave",
        }
    }
}

impl FromStr for Propagation {
    type Err = Error;

    fn from_str(text: &str) -> Result<Propagation> {
        Ok(match text {
            "private" => Propagation::Private,
            "rprivate" => Propagation::Rprivate,
            "shared" => Propagation::Shared,
            "rshared" => Propagation::Rshared,
            "slave" => Propagation::Slave,
            "rslave" => Propagation::Rslave,
            _ => {
                return Err(Error::InvalidHostConfig(format!(
                    "invalid propagation mode: {text}"
                )));
            }
        })
    }
}

/// What a container asks to have mounted (the engine's view of the mount fields of Docker's
/// `HostConfig`, and the image's `Volumes`).
#[derive(Clone, Debug, Default)]
pub struct MountRequest {
    /// `HostConfig.Binds`: `/host:/ctr[:mode]`, `volume:/ctr[:mode]`, `/ctr`.
    pub binds: Vec<String>,
    /// `HostConfig.Mounts`.
    pub mounts: Vec<MountSpec>,
    /// `HostConfig.Tmpfs`: destination to tmpfs options (`size=64m,exec`).
    pub tmpfs: BTreeMap<String, String>,
    /// The paths of `Config.Volumes` (the image's merged in): each gets an anonymous volume
    /// unless something else is mounted there.
    pub image_volumes: Vec<String>,
    /// `HostConfig.VolumeDriver`: the driver of the volumes `binds` name (empty: `local`).
    pub volume_driver: String,
    /// The mount points of the `HostConfig.VolumesFrom` containers, in the order given, each
    /// made by [`MountPoint::inherited`]: of two at one destination the later wins, and a bind
    /// or `Mounts` entry there wins over both, as in Docker.
    pub inherited: Vec<MountPoint>,
}

/// One `HostConfig.VolumesFrom` entry, `container[:mode]`: whose mount points a new
/// container takes, and whether they stay writable.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VolumesFrom {
    /// The container's name or id, as given.
    pub container: String,
    /// False for the mode `ro`: every mount taken is read-only then.
    pub writable: bool,
}

impl FromStr for VolumesFrom {
    type Err = Error;

    /// Parses an entry as dockerd does: the mode is at most one of `rw`/`ro` and one of
    /// `z`/`Z`; anything else is Docker's `invalid mode: <mode>`.
    fn from_str(raw: &str) -> Result<VolumesFrom> {
        let (container, writable) =
            spec::parse_volumes_from(raw).map_err(Error::InvalidHostConfig)?;
        Ok(VolumesFrom {
            container,
            writable,
        })
    }
}

/// One `HostConfig.Mounts` entry.
#[derive(Clone, Debug)]
pub struct MountSpec {
    /// `Type` (parse the API's word with [`MountType::from_str`]).
    pub kind: MountType,
    /// `Source`: a host path, a volume name (empty for an anonymous volume), nothing for tmpfs.
    pub source: String,
    /// `Target`: where it appears in the container.
    pub target: String,
    /// `ReadOnly`.
    pub read_only: bool,
    /// `BindOptions`.
    pub bind_options: Option<BindOptions>,
    /// `VolumeOptions`.
    pub volume_options: Option<VolumeOptions>,
    /// `TmpfsOptions`.
    pub tmpfs_options: Option<TmpfsOptions>,
}

impl MountSpec {
    /// An entry of `kind` from `source` to `target`, writable and without options.
    pub fn new(kind: MountType, source: impl Into<String>, target: impl Into<String>) -> MountSpec {
        MountSpec {
            kind,
            source: source.into(),
            target: target.into(),
            read_only: false,
            bind_options: None,
            volume_options: None,
            tmpfs_options: None,
        }
    }
}

/// `Mounts[].BindOptions`.
#[derive(Clone, Debug, Default)]
pub struct BindOptions {
    /// `Propagation` as given (checked by [`plan`]); empty for the default, `rprivate`.
    pub propagation: String,
}

/// `Mounts[].VolumeOptions`.
#[derive(Clone, Debug, Default)]
pub struct VolumeOptions {
    /// `NoCopy`: do not copy the image's content into a new volume.
    pub no_copy: bool,
    /// `Labels` of a volume this creates.
    pub labels: Option<BTreeMap<String, String>>,
    /// `DriverConfig`.
    pub driver: Option<VolumeDriver>,
}

/// `Mounts[].VolumeOptions.DriverConfig`.
#[derive(Clone, Debug, Default)]
pub struct VolumeDriver {
    /// `Name`: only `local` exists.
    pub name: String,
    /// `Options` of a volume this creates.
    pub options: Option<BTreeMap<String, String>>,
}

/// `Mounts[].TmpfsOptions`.
#[derive(Clone, Debug, Default)]
pub struct TmpfsOptions {
    /// `SizeBytes`; 0 for the kernel's default.
    pub size_bytes: i64,
    /// `Mode` (permission bits); 0 for the kernel's default.
    pub mode: u32,
}

/// One mount of a container, as dockerd keeps it and `docker inspect` lists it (`Mounts`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPoint {
    /// What it mounts.
    pub kind: MountType,
    /// The volume's name; empty for binds and tmpfs.
    pub name: String,
    /// The host path: a bind's source or a volume's content folder; empty for tmpfs.
    pub source: String,
    /// Where it appears in the container (cleaned).
    pub destination: String,
    /// The volume's driver; empty for binds and tmpfs.
    pub driver: String,
    /// A bind's mode as written (`ro,z`); `z` for a volume named in `Mounts`, as Docker shows.
    pub mode: String,
    /// Whether it is writable.
    pub rw: bool,
    /// A bind's propagation.
    pub propagation: Option<Propagation>,
    /// Whether a new, empty volume gets the image's content at its destination.
    pub copy_data: bool,
    /// Whether the volume was made for this container without a name (`docker rm -v` removes
    /// it).
    pub anonymous: bool,
    /// Whether a missing host folder is created at start (binds of `Binds` are, binds of
    /// `Mounts` are not).
    pub create_source: bool,
    /// A tmpfs mount's options (`ro,mode=1777,size=64m`).
    pub tmpfs_data: String,
}

impl MountPoint {
    /// This mount point as a container given `--volumes-from` its container gets it: the same
    /// source, volume and destination, writable only if both it and the request are, with no
    /// mode shown and no copy of image content (the volume has its content already).
    pub fn inherited(&self, writable: bool) -> MountPoint {
        MountPoint {
            mode: String::new(),
            rw: self.rw && writable,
            copy_data: false,
            ..self.clone()
        }
    }
}

/// Every mount of a container, decided.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MountPlan {
    /// Binds, volumes and `Mounts` tmpfs, by destination: what `docker inspect` lists.
    pub points: Vec<MountPoint>,
    /// `HostConfig.Tmpfs`, checked: destination to options. A tmpfs here wins over a mount
    /// point at the same destination, as in Docker.
    pub tmpfs: BTreeMap<String, String>,
    /// The volumes to create and reference for the container, named.
    pub volumes: Vec<VolumeToCreate>,
}

/// A volume a plan needs: created when missing, referenced by the container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VolumeToCreate {
    /// Its name (generated for an anonymous volume).
    pub name: String,
    /// Whether the plan made its name up.
    pub anonymous: bool,
    /// The labels it gets if created.
    pub labels: Option<BTreeMap<String, String>>,
    /// The driver options it gets if created.
    pub options: Option<BTreeMap<String, String>>,
}

/// Checks a container's mount request as dockerd does and decides its mounts: binds first,
/// then `Mounts`, then the inherited mount points at the places still free, then an
/// anonymous volume for each image volume nothing else covers. Nothing
/// is created yet; the one thing looked at is whether the host paths of `Mounts` binds exist.
///
/// # Errors
///
/// [`Error::InvalidHostConfig`] with Docker's text (an invalid bind spec or mode, a relative
/// or `/` destination, `Duplicate mount point: /data`, a missing bind source of `Mounts`, an
/// invalid tmpfs option); [`Error::InvalidVolume`] for a volume name the local driver refuses;
/// [`Error::NoSuchVolumeDriver`] for a driver other than `local`.
pub fn plan(request: &MountRequest, store: &VolumeStore) -> Result<MountPlan> {
    let invalid = Error::InvalidHostConfig;
    for (destination, data) in &request.tmpfs {
        spec::validate_destination(destination).map_err(invalid)?;
        spec::tmpfs_options(data).map_err(invalid)?;
    }
    let mut plan = MountPlan {
        tmpfs: request.tmpfs.clone(),
        ..MountPlan::default()
    };
    for raw in &request.binds {
        let parsed = spec::parse_bind(raw, &request.volume_driver).map_err(invalid)?;
        let destination = &parsed.point.destination;
        if plan.has_point_at(destination) || request.tmpfs.contains_key(destination) {
            return Err(duplicate(destination));
        }
        plan.add(parsed, store)?;
    }
    for mount in &request.mounts {
        let parsed = spec::parse_mount_spec(mount, true).map_err(invalid)?;
        if plan.has_point_at(&parsed.point.destination) {
            return Err(duplicate(&mount.target));
        }
        plan.add(parsed, store)?;
    }
    for point in request.inherited.iter().rev() {
        if plan.has_point_at(&point.destination) {
            continue;
        }
        if point.kind == MountType::Volume {
            plan.volumes.push(VolumeToCreate {
                name: point.name.clone(),
                anonymous: point.anonymous,
                labels: None,
                options: None,
            });
        }
        plan.points.push(point.clone());
    }
    for path in &request.image_volumes {
        let destination = spec::clean_path(path);
        if plan.has_mount_for(&destination) {
            continue;
        }
        let name = volumes::random_name()?;
        plan.volumes.push(VolumeToCreate {
            name: name.clone(),
            anonymous: true,
            labels: None,
            options: None,
        });
        plan.points.push(MountPoint {
            kind: MountType::Volume,
            source: store.data_path(&name).display().to_string(),
            name,
            destination,
            driver: LOCAL_DRIVER.to_owned(),
            mode: String::new(),
            rw: true,
            propagation: None,
            copy_data: true,
            anonymous: true,
            create_source: false,
            tmpfs_data: String::new(),
        });
    }
    plan.points
        .sort_by(|a, b| a.destination.cmp(&b.destination));
    Ok(plan)
}

/// Docker's `Duplicate mount point: <destination>`.
fn duplicate(destination: &str) -> Error {
    Error::InvalidHostConfig(format!("Duplicate mount point: {destination}"))
}

impl MountPlan {
    fn has_point_at(&self, destination: &str) -> bool {
        self.points
            .iter()
            .any(|point| point.destination == destination)
    }

    /// Whether anything is mounted at `destination` (a mount point or a `HostConfig.Tmpfs`):
    /// the engine then leaves its own file there (`/etc/hosts`, ...) out.
    pub fn has_mount_for(&self, destination: &str) -> bool {
        self.has_point_at(destination) || self.tmpfs.contains_key(destination)
    }

    /// Adds a parsed bind or mount; a volume is named (anonymous ones get a name), checked
    /// and noted for creation, and shows the mode `z` when it has none, as Docker shows a
    /// local volume.
    fn add(&mut self, parsed: spec::ParsedMount, store: &VolumeStore) -> Result<()> {
        let mut point = parsed.point;
        if point.kind == MountType::Volume {
            if point.name.is_empty() {
                point.name = volumes::random_name()?;
            }
            if !parsed.driver.is_empty() && parsed.driver != LOCAL_DRIVER {
                return Err(Error::NoSuchVolumeDriver {
                    name: point.name,
                    driver: parsed.driver,
                });
            }
            volumes::validate_name(&point.name).map_err(|reason| Error::InvalidVolume {
                op: "create",
                name: point.name.clone(),
                reason,
            })?;
            point.driver = LOCAL_DRIVER.to_owned();
            point.source = store.data_path(&point.name).display().to_string();
            if point.mode.is_empty() {
                point.mode = "z".to_owned();
            }
            self.volumes.push(VolumeToCreate {
                name: point.name.clone(),
                anonymous: point.anonymous,
                labels: parsed.labels,
                options: parsed.options,
            });
        }
        self.points.push(point);
        Ok(())
    }

    /// Creates the plan's volumes that do not exist and references each for `container`. On
    /// failure the references taken are dropped and the anonymous volumes made are removed.
    pub fn create_volumes(&self, store: &VolumeStore, container: &str) -> Result<()> {
        let mut done: Vec<&VolumeToCreate> = Vec::new();
        for volume in &self.volumes {
            let created = store
                .create(&CreateVolume {
                    name: volume.name.clone(),
                    driver: LOCAL_DRIVER.to_owned(),
                    labels: volume.labels.clone(),
                    options: volume.options.clone(),
                })
                .and_then(|_| store.acquire(&volume.name, container));
            if let Err(e) = created {
                for undone in done.into_iter().chain([volume]) {
                    let _ = store.release(&undone.name, container);
                    if undone.anonymous {
                        let _ = store.remove(&undone.name, true);
                    }
                }
                return Err(e);
            }
            done.push(volume);
        }
        Ok(())
    }

    /// Copies the image's content into the plan's volumes, as Docker does when a container is
    /// created: for each volume mount that copies data, the folder at its destination in
    /// `rootfs` (the container's mounted root, symlinks resolved inside it) is copied, with
    /// owners, modes, times and extended attributes, into the volume if the volume is empty.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidHostConfig`] when an anonymous volume would hide a file (Docker's
    /// `cannot mount volume over existing file`); I/O and mount errors.
    pub fn populate(&self, store: &VolumeStore, rootfs: &Path, container: &str) -> Result<()> {
        for point in &self.points {
            if point.kind != MountType::Volume || self.tmpfs.contains_key(&point.destination) {
                continue;
            }
            let image_path = copy::resolve_in_root(rootfs, &point.destination)?;
            let metadata = match fs::symlink_metadata(&image_path) {
                Ok(metadata) => metadata,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(Error::io("inspect", &image_path, e)),
            };
            if !metadata.is_dir() {
                if point.anonymous {
                    return Err(Error::InvalidHostConfig(format!(
                        "cannot mount volume over existing file, file exists {}",
                        image_path.display()
                    )));
                }
                continue;
            }
            if !point.copy_data {
                continue;
            }
            let data = store.mount(&point.name, container)?;
            let copied = copy::copy_into_empty(&image_path, &data);
            let unmounted = store.unmount(&point.name, container);
            copied?;
            unmounted?;
        }
        Ok(())
    }

    /// The OCI mounts of the plan for a start of `container`, shallowest first: each volume is
    /// mounted for it ([`VolumeStore::mount`]), a missing host folder of a `Binds` bind is
    /// created, and each mount gets Docker's options.
    pub fn oci_mounts(&self, store: &VolumeStore, container: &str) -> Result<Vec<Mount>> {
        let mut mounts: Vec<Mount> = Vec::new();
        let mut mounted: Vec<&str> = Vec::new();
        let built = (|| {
            for point in &self.points {
                if self.tmpfs.contains_key(&point.destination) {
                    continue;
                }
                let mount = match point.kind {
                    MountType::Bind => {
                        let source = Path::new(&point.source);
                        if point.create_source && !source.exists() {
                            fs::DirBuilder::new()
                                .recursive(true)
                                .mode(0o755)
                                .create(source)
                                .map_err(|e| Error::io("create", source, e))?;
                        }
                        bind_mount(&point.destination, source, point.rw, point.propagation)?
                    }
                    MountType::Volume => {
                        let data = store.mount(&point.name, container)?;
                        mounted.push(&point.name);
                        bind_mount(&point.destination, &data, point.rw, None)?
                    }
                    MountType::Tmpfs => tmpfs_mount(&point.destination, &point.tmpfs_data)?,
                };
                mounts.push(mount);
            }
            for (destination, data) in &self.tmpfs {
                mounts.push(tmpfs_mount(destination, data)?);
            }
            Ok(())
        })();
        if let Err(e) = built {
            for name in mounted {
                let _ = store.unmount(name, container);
            }
            return Err(e);
        }
        mounts.sort_by_key(|mount| spec::depth(&mount.destination().to_string_lossy()));
        Ok(mounts)
    }

    /// Undoes the volume mounts of [`MountPlan::oci_mounts`] once `container` stopped.
    pub fn unmount_volumes(&self, store: &VolumeStore, container: &str) -> Result<()> {
        self.each_volume(|name| store.unmount(name, container))
    }

    /// Drops `container`'s references on the plan's volumes when it is removed; with
    /// `remove_anonymous` (`docker rm -v`) its anonymous volumes are removed too, unless
    /// another container uses one.
    pub fn release_volumes(
        &self,
        store: &VolumeStore,
        container: &str,
        remove_anonymous: bool,
    ) -> Result<()> {
        self.each_volume(|name| {
            store.release(name, container)?;
            let anonymous = self
                .points
                .iter()
                .any(|point| point.name == name && point.anonymous);
            if remove_anonymous && anonymous {
                match store.remove(name, true) {
                    Ok(()) | Err(Error::VolumeInUse { .. }) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(())
        })
    }

    /// Runs `action` on each volume of the plan, going on after a failure, and returns the
    /// first failure.
    fn each_volume(&self, mut action: impl FnMut(&str) -> Result<()>) -> Result<()> {
        let mut first_error = None;
        for point in &self.points {
            if point.kind == MountType::Volume
                && let Err(e) = action(&point.name)
                && first_error.is_none()
            {
                first_error = Some(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// A bind mount with Docker's options: `rbind`, `ro` when read-only, the propagation.
pub(crate) fn bind_mount(
    destination: &str,
    source: &Path,
    rw: bool,
    propagation: Option<Propagation>,
) -> Result<Mount> {
    let mut options = vec!["rbind".to_owned()];
    if !rw {
        options.push("ro".to_owned());
    }
    if let Some(propagation) = propagation {
        options.push(propagation.as_str().to_owned());
    }
    Ok(MountBuilder::default()
        .destination(destination)
        .typ("bind")
        .source(source)
        .options(options)
        .build()?)
}

/// A tmpfs mount with Docker's default options merged with `data`.
fn tmpfs_mount(destination: &str, data: &str) -> Result<Mount> {
    let options = spec::tmpfs_options(data).map_err(Error::InvalidHostConfig)?;
    Ok(MountBuilder::default()
        .destination(destination)
        .typ("tmpfs")
        .source("tmpfs")
        .options(options)
        .build()?)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{
        MountPoint, MountRequest, MountSpec, MountType, Propagation, VolumeOptions, VolumesFrom,
        plan,
    };
    use crate::error::{Error, ErrorKind};
    use crate::scratch::ScratchDir;

    fn binds(items: &[&str]) -> MountRequest {
        MountRequest {
            binds: items.iter().map(|s| (*s).to_owned()).collect(),
            ..MountRequest::default()
        }
    }

    fn error_text(result: crate::error::Result<super::MountPlan>) -> String {
        result.expect_err("refused").to_string()
    }

    #[test]
    fn unknown_mount_types_are_refused_with_dockers_text() {
        assert_eq!(
            "npipe"
                .parse::<MountType>()
                .expect_err("unknown")
                .to_string(),
            "invalid mount config for type \"npipe\": mount type unknown"
        );
        assert_eq!(
            "tmpfs".parse::<MountType>().expect("known"),
            MountType::Tmpfs
        );
        assert_eq!(
            "rshared".parse::<Propagation>().expect("known"),
            Propagation::Rshared
        );
    }

    #[test]
    fn a_destination_mounted_twice_is_refused() {
        let dir = ScratchDir::new("duplicates");
        let store = dir.volume_store();
        assert_eq!(
            error_text(plan(&binds(&["/tmp:/data", "vol:/data/"]), &store)),
            "Duplicate mount point: /data"
        );
        let with_tmpfs = MountRequest {
            tmpfs: BTreeMap::from([("/run".to_owned(), String::new())]),
            ..binds(&["/tmp:/run"])
        };
        assert_eq!(
            error_text(plan(&with_tmpfs, &store)),
            "Duplicate mount point: /run"
        );
        let mount_after_bind = MountRequest {
            mounts: vec![MountSpec::new(MountType::Tmpfs, "", "/data/")],
            ..binds(&["/tmp:/data"])
        };
        let error = plan(&mount_after_bind, &store).expect_err("duplicate");
        assert_eq!(error.to_string(), "Duplicate mount point: /data/");
        assert_eq!(error.kind(), ErrorKind::InvalidInput);
    }

    #[test]
    fn volume_names_and_drivers_are_checked_before_anything_is_created() {
        let dir = ScratchDir::new("names");
        let store = dir.volume_store();
        let error = plan(&binds(&["a:/x"]), &store).expect_err("short name");
        assert_eq!(
            error.to_string(),
            "create a: volume name is too short, names should be at least two alphanumeric \
             characters"
        );
        let driver = MountRequest {
            volume_driver: "convoy".to_owned(),
            ..binds(&["data:/x"])
        };
        assert!(matches!(
            plan(&driver, &store),
            Err(Error::NoSuchVolumeDriver { .. })
        ));
        let tmpfs = MountRequest {
            tmpfs: BTreeMap::from([("run".to_owned(), String::new())]),
            ..MountRequest::default()
        };
        assert_eq!(
            error_text(plan(&tmpfs, &store)),
            "invalid mount path: 'run' mount path must be absolute"
        );
        assert!(
            store
                .list(&crate::volumes::VolumeFilter::default())
                .expect("list")
                .is_empty()
        );
    }

    #[test]
    fn image_volumes_get_anonymous_volumes_where_nothing_else_is_mounted() {
        let dir = ScratchDir::new("image-volumes");
        let store = dir.volume_store();
        let request = MountRequest {
            image_volumes: vec!["/data".to_owned(), "/cache/".to_owned(), "/run".to_owned()],
            tmpfs: BTreeMap::from([("/run".to_owned(), "size=1m".to_owned())]),
            mounts: vec![MountSpec {
                volume_options: Some(VolumeOptions {
                    labels: Some(BTreeMap::from([("a".to_owned(), "b".to_owned())])),
                    ..VolumeOptions::default()
                }),
                ..MountSpec::new(MountType::Volume, "cache", "/cache")
            }],
            ..MountRequest::default()
        };
        let planned = plan(&request, &store).expect("plans");
        let destinations: Vec<&str> = planned
            .points
            .iter()
            .map(|point| point.destination.as_str())
            .collect();
        assert_eq!(destinations, ["/cache", "/data"]);
        let cache = &planned.points[0];
        assert_eq!((cache.name.as_str(), cache.mode.as_str()), ("cache", "z"));
        assert!(!cache.anonymous);
        let data = &planned.points[1];
        assert_eq!(data.name.len(), 64);
        assert!(data.anonymous && data.copy_data && data.rw);
        assert_eq!(data.mode, "");
        assert_eq!(
            data.source,
            store.data_path(&data.name).display().to_string()
        );
        assert_eq!(planned.volumes.len(), 2);
        assert_eq!(
            planned.volumes[0].labels,
            Some(BTreeMap::from([("a".to_owned(), "b".to_owned())]))
        );
        assert!(planned.has_mount_for("/run"));
        // The plan survives a round trip through JSON, as the daemon keeps it.
        let json = serde_json::to_string(&planned).expect("serialises");
        let back: super::MountPlan = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, planned);
    }

    #[test]
    fn inherited_mount_points_fill_the_places_binds_and_mounts_leave_free() {
        let dir = ScratchDir::new("volumes-from");
        let store = dir.volume_store();
        let source = plan(
            &MountRequest {
                binds: vec!["shared:/shared".to_owned(), "/srv:/srv:ro".to_owned()],
                image_volumes: vec!["/data".to_owned(), "/cache".to_owned()],
                ..MountRequest::default()
            },
            &store,
        )
        .expect("the source container's plan");
        let read_only: Vec<MountPoint> = source
            .points
            .iter()
            .map(|point| point.inherited(false))
            .collect();
        let writable: Vec<MountPoint> = source
            .points
            .iter()
            .filter(|point| point.destination == "/shared")
            .map(|point| point.inherited(true))
            .collect();
        let request = MountRequest {
            binds: vec!["/tmp:/data".to_owned()],
            image_volumes: vec!["/cache".to_owned()],
            inherited: [read_only, writable].concat(),
            ..MountRequest::default()
        };
        let planned = plan(&request, &store).expect("plans");
        let shown: Vec<(&str, MountType, &str, bool)> = planned
            .points
            .iter()
            .map(|p| (p.destination.as_str(), p.kind, p.mode.as_str(), p.rw))
            .collect();
        assert_eq!(
            shown,
            [
                ("/cache", MountType::Volume, "", false),
                ("/data", MountType::Bind, "", true),
                ("/shared", MountType::Volume, "", true),
                ("/srv", MountType::Bind, "", false),
            ]
        );
        let cache = &planned.points[0];
        let source_cache = source.points.iter().find(|p| p.destination == "/cache");
        assert_eq!(Some(&cache.name), source_cache.map(|p| &p.name));
        assert!(cache.anonymous && !cache.copy_data);
        let referenced: Vec<&str> = planned.volumes.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(referenced, ["shared", cache.name.as_str()]);
        assert_eq!(
            "src:rw,ro"
                .parse::<VolumesFrom>()
                .expect_err("refused")
                .to_string(),
            "invalid mode: rw,ro"
        );
    }

    #[test]
    fn oci_mounts_carry_dockers_options_shallowest_first() {
        let dir = ScratchDir::new("oci");
        let store = dir.volume_store();
        let host = dir.path().join("host");
        std::fs::create_dir_all(&host).expect("host dir");
        let new_host = dir.path().join("made/at/start");
        let request = MountRequest {
            binds: vec![
                format!("{}:/srv/a/b:ro", host.display()),
                format!("{}:/srv", new_host.display()),
                "named:/data".to_owned(),
            ],
            tmpfs: BTreeMap::from([("/run".to_owned(), "exec,size=1m".to_owned())]),
            ..MountRequest::default()
        };
        let planned = plan(&request, &store).expect("plans");
        planned.create_volumes(&store, "c1").expect("volumes");
        let mounts = planned.oci_mounts(&store, "c1").expect("mounts");
        let shown: Vec<(String, String, Vec<String>)> = mounts
            .iter()
            .map(|mount| {
                (
                    mount.destination().display().to_string(),
                    mount.typ().clone().unwrap_or_default(),
                    mount.options().clone().unwrap_or_default(),
                )
            })
            .collect();
        let owned = |items: &[&str]| items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            shown,
            [
                ("/data".to_owned(), "bind".to_owned(), owned(&["rbind"])),
                (
                    "/srv".to_owned(),
                    "bind".to_owned(),
                    owned(&["rbind", "rprivate"])
                ),
                (
                    "/run".to_owned(),
                    "tmpfs".to_owned(),
                    owned(&["nosuid", "nodev", "rprivate", "exec", "size=1m"])
                ),
                (
                    "/srv/a/b".to_owned(),
                    "bind".to_owned(),
                    owned(&["rbind", "ro", "rprivate"])
                ),
            ]
        );
        assert!(new_host.is_dir(), "a Binds source is created at start");
        assert_eq!(
            mounts[0].source().as_deref(),
            Some(store.data_path("named").as_path())
        );
        assert_eq!(store.get("named").expect("created").users, ["c1"]);
        planned
            .release_volumes(&store, "c1", true)
            .expect("released");
        // A named volume outlives the container even with `-v`.
        assert!(store.get("named").expect("kept").users.is_empty());
    }
}
