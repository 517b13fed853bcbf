//! A container's mounts through its life, wired as dockerd wires them, on the engine's
//! [`drydock_engine::mounts`], [`drydock_engine::volumes`] and [`drydock_engine::etc_files`]:
//!
//! - create: the request's `Binds`, `Mounts`, `Tmpfs`, `VolumeDriver` and the merged
//!   config's `Volumes` planned ([`plan`]) and the plan's volumes created and referenced
//!   ([`create_volumes`]); the plan is kept in the record;
//! - start: the image's content copied into the new volumes the first time, the `/etc` files
//!   written, and every mount put in the runtime spec ([`mounts_for_start`]);
//! - exit: the volumes unmounted ([`unmount_after_exit`]);
//! - removal: the references dropped, anonymous volumes removed with `-v` ([`release`]);
//! - inspect and `docker ps`: the mount points ([`mount_points`]) and the `volume` filter
//!   ([`uses_volume`]).
//!
//! Volumes publish the events dockerd publishes: `create` (at container create, for each
//! volume, new or not), `mount`, `unmount`, and `destroy` for anonymous volumes removed.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use std::str::FromStr;

use drydock_engine::etc_files::{EtcFiles, EtcSettings, HostFiles};
use drydock_engine::images::ContainerConfig;
use drydock_engine::mounts::{
    self, BindOptions, MountPlan, MountRequest, MountSpec, MountType, TmpfsOptions, VolumeDriver,
    VolumeOptions, VolumesFrom,
};
use drydock_engine::oci::HostSettings;
use drydock_engine::rootfs;
use drydock_engine::volumes::LOCAL_DRIVER;
use drydock_models::{HostConfig, Mount, MountPoint};
use drydock_runtime::server::ServerError;

use super::record::ContainerRecord;
use super::store::Container;
use crate::daemon::Daemon;
use crate::errors::{api_error, blocking};

/// The engine's view of a create request's mounts: `HostConfig.Binds`, `Mounts`, `Tmpfs`,
/// `VolumeDriver`, the paths of the merged config's `Volumes` (the image's and the
/// request's), and `inherited`, the mount points taken from the `VolumesFrom` containers
/// ([`inherited_points`]).
///
/// # Errors
///
/// 400 for a `Mounts` entry dockerd refuses before planning (an unknown type, a negative
/// tmpfs mode).
pub fn request(
    config: &ContainerConfig,
    host: &HostConfig,
    inherited: Vec<mounts::MountPoint>,
) -> Result<MountRequest, ServerError> {
    let mounts = host
        .mounts
        .iter()
        .flatten()
        .map(mount_spec)
        .collect::<Result<_, _>>()?;
    Ok(MountRequest {
        binds: host.binds.clone().unwrap_or_default(),
        mounts,
        tmpfs: host.tmpfs.clone().unwrap_or_default(),
        image_volumes: config
            .volumes
            .iter()
            .flat_map(BTreeMap::keys)
            .cloned()
            .collect(),
        volume_driver: host.volume_driver.clone().unwrap_or_default(),
        inherited,
    })
}

/// The mount points a new container takes from the containers of its
/// `HostConfig.VolumesFrom` (`container[:ro|rw]`), in order: each container's binds,
/// volumes and tmpfs mounts, read-only with `ro`.
///
/// # Errors
///
/// 400 for an entry dockerd refuses (`invalid mode: xx`, an empty entry) and for a container
/// that does not exist: dockerd's `No such container: x`, with the 400 dockerd answers it
/// with at create.
pub fn inherited_points(
    daemon: &Daemon,
    host: &HostConfig,
) -> Result<Vec<mounts::MountPoint>, ServerError> {
    let mut inherited = Vec::new();
    for raw in host.volumes_from.iter().flatten() {
        let from = VolumesFrom::from_str(raw).map_err(api_error)?;
        let container = daemon
            .containers
            .get(&from.container)
            .map_err(|e| ServerError::bad_request(e.message))?;
        let record = container.lock();
        inherited.extend(
            record
                .mounts
                .points
                .iter()
                .map(|point| point.inherited(from.writable)),
        );
    }
    Ok(inherited)
}

/// One `HostConfig.Mounts` entry as the engine takes it.
fn mount_spec(mount: &Mount) -> Result<MountSpec, ServerError> {
    let kind = mount.r#type.as_ref().map_or("", |kind| kind.as_str());
    let kind = MountType::from_str(kind).map_err(api_error)?;
    let tmpfs_options = match &mount.tmpfs_options {
        None => None,
        Some(options) => {
            let mode = options.mode.unwrap_or(0);
            let mode = u32::try_from(mode).map_err(|_| {
                ServerError::bad_request(format!(
                    "invalid mount config for type \"tmpfs\": invalid tmpfs mode: {mode}"
                ))
            })?;
            Some(TmpfsOptions {
                size_bytes: options.size_bytes.unwrap_or(0),
                mode,
            })
        }
    };
    Ok(MountSpec {
        read_only: mount.read_only == Some(true),
        bind_options: mount.bind_options.as_ref().map(|options| BindOptions {
            propagation: options
                .propagation
                .as_ref()
                .map(|p| p.as_str().to_owned())
                .unwrap_or_default(),
        }),
        volume_options: mount.volume_options.as_ref().map(|options| VolumeOptions {
            no_copy: options.no_copy == Some(true),
            labels: options.labels.clone(),
            driver: options.driver_config.as_ref().map(|driver| VolumeDriver {
                name: driver.name.clone().unwrap_or_default(),
                options: driver.options.clone(),
            }),
        }),
        tmpfs_options,
        ..MountSpec::new(
            kind,
            mount.source.clone().unwrap_or_default(),
            mount.target.clone().unwrap_or_default(),
        )
    })
}

/// Checks a container's mounts as dockerd does at create and decides them (anonymous volumes
/// are named); nothing is created yet.
///
/// # Errors
///
/// 400 with dockerd's text for what dockerd refuses (`invalid volume specification`,
/// `Duplicate mount point`, a missing bind source of `Mounts`, a bad volume name, a bad or
/// unknown `VolumesFrom` entry); 404 for a volume driver other than `local`.
pub fn plan(
    daemon: &Daemon,
    config: &ContainerConfig,
    host: &HostConfig,
) -> Result<MountPlan, ServerError> {
    let inherited = inherited_points(daemon, host)?;
    let request = request(config, host, inherited)?;
    mounts::plan(&request, &daemon.volumes).map_err(api_error)
}

/// Creates the volumes of a new container's plan (those that exist are kept as they are) and
/// references them for it, publishing a volume `create` event for each, as dockerd does.
///
/// # Errors
///
/// What the volume store reports; nothing is left referenced or made anonymous then.
pub async fn create_volumes(daemon: &Daemon, record: &ContainerRecord) -> Result<(), ServerError> {
    if record.mounts.volumes.is_empty() {
        return Ok(());
    }
    let engine = daemon.clone();
    let plan = record.mounts.clone();
    let id = record.id.clone();
    blocking(move || plan.create_volumes(&engine.volumes, &id)).await?;
    for volume in &record.mounts.volumes {
        publish(daemon, "create", &volume.name, driver_attribute());
    }
    Ok(())
}

/// The `driver` attribute of a local volume's events.
fn driver_attribute() -> BTreeMap<String, String> {
    BTreeMap::from([("driver".to_owned(), LOCAL_DRIVER.to_owned())])
}

/// Publishes a volume event.
fn publish(daemon: &Daemon, action: &str, name: &str, attributes: BTreeMap<String, String>) {
    daemon
        .events
        .publish("volume", action, name.to_owned(), attributes);
}

/// What the container's network tells its `/etc` files, from whoever attached it to its
/// network before the start: its addresses (written into `/etc/hosts` with its names, its
/// IPv4 first) and whether that network has IPv6 (IPv6 name servers stay in `resolv.conf`
/// only then). Empty for `none` and `host`, and for a container not attached.
#[derive(Clone, Debug, Default)]
pub struct NetworkFacts {
    /// The container's addresses on its network.
    pub addresses: Vec<IpAddr>,
    /// Whether its network has IPv6.
    pub ipv6: bool,
}

/// What the `/etc` files of a container are written from: its host and domain name, the
/// host config's `ExtraHosts` and `Dns*`, its network mode, and `network`.
pub fn etc_settings(
    daemon: &Daemon,
    record: &ContainerRecord,
    network: &NetworkFacts,
) -> EtcSettings {
    let host = &record.host_config;
    let hostname = if record.config.hostname.is_empty() {
        record.id.get(..12).unwrap_or(&record.id).to_owned()
    } else {
        record.config.hostname.clone()
    };
    // `host-gateway` is the default bridge's gateway, whatever the container's network.
    let host_gateway = daemon
        .networks
        .find("bridge")
        .ok()
        .and_then(|bridge| bridge.ipam.first().map(|ipam| IpAddr::V4(ipam.gateway)));
    EtcSettings {
        hostname,
        domainname: record.config.domainname.clone(),
        addresses: network.addresses.clone(),
        extra_hosts: host.extra_hosts.clone().unwrap_or_default(),
        host_gateway,
        dns: host.dns.clone().unwrap_or_default(),
        dns_search: host.dns_search.clone().unwrap_or_default(),
        dns_options: host.dns_options.clone().unwrap_or_default(),
        host_network: host.network_mode.as_deref() == Some("host"),
        ipv6: network.ipv6,
    }
}

/// Readies everything a start of `container` mounts beyond the runtime's defaults and puts it
/// in `host.mounts`: on its first start the image's content is copied into its new volumes
/// (its root filesystem on `layers` is mounted for that, and stays mounted for the runtime),
/// its `/etc/hostname`, `/etc/hosts` and `/etc/resolv.conf` are written into its folder, and
/// each volume is mounted for it. The plan's OCI mounts come first, then the `/etc` files'
/// (read-only with a read-only root). Its record then says its volumes are mounted: undo with
/// [`unmount_after_exit`], also when the start fails.
///
/// Runs on a blocking thread.
///
/// # Errors
///
/// 400 for a volume over an image file or a malformed extra host (dockerd's texts); what
/// the volume store, the file system and the kernel report.
pub fn mounts_for_start(
    daemon: &Daemon,
    container: &Container,
    layers: &[PathBuf],
    network: &NetworkFacts,
    host: &mut HostSettings,
) -> drydock_engine::Result<()> {
    let record = container.snapshot();
    let plan = &record.mounts;
    if !record.volumes_populated {
        let copies = plan
            .points
            .iter()
            .any(|point| point.kind == MountType::Volume && point.copy_data);
        if copies {
            let rootfs_dir = daemon.runtime.rootfs_dir(&record.id);
            let root = rootfs::mount(&rootfs_dir, layers)?;
            if let Err(e) = plan.populate(&daemon.volumes, &root, &record.id) {
                let _ = rootfs::unmount(&rootfs_dir);
                return Err(e);
            }
        }
        update(container, |record| record.volumes_populated = true)?;
    }
    let folder = daemon.options.data_root.join("containers").join(&record.id);
    let files = EtcFiles::in_dir(&folder);
    files.write(
        &etc_settings(daemon, &record, network),
        &HostFiles::system(),
    )?;
    let etc_mounts = files.oci_mounts(plan, host.readonly_rootfs)?;
    let mut mounts = plan.oci_mounts(&daemon.volumes, &record.id)?;
    update(container, |record| record.volumes_mounted = true)?;
    mounts.extend(etc_mounts);
    host.mounts = mounts;
    Ok(())
}

/// Changes the record from a blocking thread, as an engine result.
fn update(
    container: &Container,
    change: impl FnOnce(&mut ContainerRecord),
) -> drydock_engine::Result<()> {
    container
        .update(change)
        .map_err(|e| drydock_engine::Error::Io {
            context: format!("record container {}", container.id),
            source: std::io::Error::other(e.message),
        })
}

/// Publishes a volume `mount` event for each volume the container started with, as dockerd
/// does once the container runs.
pub fn publish_mounted(daemon: &Daemon, record: &ContainerRecord) {
    for point in volume_points(&record.mounts) {
        let attributes = BTreeMap::from([
            ("driver".to_owned(), point.driver.clone()),
            ("container".to_owned(), record.id.clone()),
            ("destination".to_owned(), point.destination.clone()),
            ("read/write".to_owned(), point.rw.to_string()),
            (
                "propagation".to_owned(),
                point
                    .propagation
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        ]);
        publish(daemon, "mount", &point.name, attributes);
    }
}

/// The volume mount points of a plan (a `HostConfig.Tmpfs` at the same place wins and
/// mounts no volume).
fn volume_points(plan: &MountPlan) -> impl Iterator<Item = &mounts::MountPoint> {
    plan.points.iter().filter(|point| {
        point.kind == MountType::Volume && !plan.tmpfs.contains_key(&point.destination)
    })
}

/// Unmounts the volumes of a container whose run ended (it exited, its start failed, it was
/// killed to be removed, or it exited while the daemon was away), once per run, and
/// publishes a volume `unmount` event for each, as dockerd does.
pub async fn unmount_after_exit(daemon: &Daemon, container: &Container) {
    // Taken under the lock, so of an exit and a removal racing only one unmounts.
    if !std::mem::take(&mut container.lock().volumes_mounted) {
        return;
    }
    // Kept on disk too, unless the container's folder is gone already (a removal).
    let _ = container.update(|record| record.volumes_mounted = false);
    let record = container.snapshot();
    let engine = daemon.clone();
    let plan = record.mounts.clone();
    let id = record.id.clone();
    if let Err(e) = blocking(move || plan.unmount_volumes(&engine.volumes, &id)).await {
        log::warn!(
            "container {}: cannot unmount its volumes: {}",
            record.id,
            e.message
        );
    }
    for point in volume_points(&record.mounts) {
        let attributes = BTreeMap::from([
            ("driver".to_owned(), point.driver.clone()),
            ("container".to_owned(), record.id.clone()),
        ]);
        publish(daemon, "unmount", &point.name, attributes);
    }
}

/// Drops a removed container's references on its volumes; with `remove_anonymous` (`docker
/// rm -v`, `AutoRemove`) its anonymous volumes go too, unless another container uses one, and
/// each removed publishes `destroy`. Failures are logged, as dockerd logs them: the
/// container is gone either way.
pub async fn release(daemon: &Daemon, record: &ContainerRecord, remove_anonymous: bool) {
    if record.mounts.volumes.is_empty() {
        return;
    }
    let engine = daemon.clone();
    let plan = record.mounts.clone();
    let id = record.id.clone();
    let anonymous: Vec<String> = volume_points(&record.mounts)
        .filter(|point| point.anonymous)
        .map(|point| point.name.clone())
        .collect();
    let released = blocking(move || {
        plan.release_volumes(&engine.volumes, &id, remove_anonymous)?;
        // Which anonymous volumes are gone now.
        Ok(anonymous
            .into_iter()
            .filter(|name| {
                remove_anonymous
                    && matches!(
                        engine.volumes.get(name),
                        Err(drydock_engine::Error::NoSuchVolume { .. })
                    )
            })
            .collect::<Vec<_>>())
    })
    .await;
    match released {
        Ok(removed) => {
            for name in removed {
                publish(daemon, "destroy", &name, driver_attribute());
            }
        }
        Err(e) => log::error!(
            "container {}: cannot release its volumes: {}",
            record.id,
            e.message
        ),
    }
}

/// The mounts of a container as inspect and `docker ps` show them (`Mounts`), as dockerd
/// fills them: `Name` and `Driver` only for volumes, `Source` empty for tmpfs, `Propagation`
/// only for binds. `HostConfig.Tmpfs` mounts are not mount points and are not listed.
pub fn mount_points(plan: &MountPlan) -> Vec<MountPoint> {
    plan.points
        .iter()
        .map(|point| MountPoint {
            r#type: Some(point.kind.as_str().into()),
            name: (!point.name.is_empty()).then(|| point.name.clone()),
            source: Some(point.source.clone()),
            destination: Some(point.destination.clone()),
            driver: (!point.driver.is_empty()).then(|| point.driver.clone()),
            mode: Some(point.mode.clone()),
            rw: Some(point.rw),
            propagation: Some(
                point
                    .propagation
                    .map(|p| p.as_str().to_owned())
                    .unwrap_or_default(),
            ),
        })
        .collect()
}

/// Whether the container mounts `volume`, as `docker ps --filter volume=` matches it: a
/// volume's name (a bind's source) or a destination.
pub fn uses_volume(plan: &MountPlan, volume: &str) -> bool {
    plan.points.iter().any(|point| {
        let name = if point.name.is_empty() {
            &point.source
        } else {
            &point.name
        };
        name == volume || point.destination == volume
    })
}

#[cfg(test)]
mod tests {
    use drydock_models::{ContainerCreateBody, MountPoint};

    use super::*;

    fn body(json: serde_json::Value) -> ContainerCreateBody {
        serde_json::from_value(json).expect("a create body")
    }

    fn request_of(json: serde_json::Value) -> Result<MountRequest, ServerError> {
        let body = body(json);
        let config = crate::containers::create::container_config(&body).expect("a config");
        request(&config, &body.host_config.unwrap_or_default(), Vec::new())
    }

    #[test]
    fn a_create_request_gives_binds_mounts_tmpfs_and_volumes_to_the_engine() {
        let request = request_of(serde_json::json!({
            "Image": "busybox",
            "Volumes": {"/cache": {}},
            "HostConfig": {
                "Binds": ["/srv:/srv:ro", "data:/data"],
                "Tmpfs": {"/run": "size=1m"},
                "VolumeDriver": "local",
                "Mounts": [
                    {"Type": "volume", "Target": "/v", "VolumeOptions": {
                        "NoCopy": true, "Labels": {"a": "b"},
                        "DriverConfig": {"Name": "local", "Options": {"type": "tmpfs"}}}},
                    {"Type": "bind", "Source": "/tmp", "Target": "/t", "ReadOnly": true,
                     "BindOptions": {"Propagation": "rslave"}},
                    {"Type": "tmpfs", "Target": "/scratch",
                     "TmpfsOptions": {"SizeBytes": 65536, "Mode": 448}}
                ]
            }
        }))
        .expect("converts");
        assert_eq!(request.binds, ["/srv:/srv:ro", "data:/data"]);
        assert_eq!(request.tmpfs["/run"], "size=1m");
        assert_eq!(request.image_volumes, ["/cache"]);
        assert_eq!(request.volume_driver, "local");
        let [volume, bind, tmpfs] = &request.mounts[..] else {
            panic!("three mounts: {:?}", request.mounts)
        };
        assert_eq!(
            (volume.kind, volume.target.as_str()),
            (MountType::Volume, "/v")
        );
        let options = volume.volume_options.as_ref().expect("volume options");
        assert!(options.no_copy);
        assert_eq!(options.labels.as_ref().map(|l| l["a"].as_str()), Some("b"));
        let driver = options.driver.as_ref().expect("a driver config");
        assert_eq!(driver.name, "local");
        assert_eq!(
            driver.options.as_ref().map(|o| o["type"].as_str()),
            Some("tmpfs")
        );
        assert!(bind.read_only);
        assert_eq!(
            bind.bind_options.as_ref().map(|o| o.propagation.as_str()),
            Some("rslave")
        );
        let tmpfs_options = tmpfs.tmpfs_options.as_ref().expect("tmpfs options");
        assert_eq!(
            (tmpfs_options.size_bytes, tmpfs_options.mode),
            (65536, 0o700)
        );
    }

    #[test]
    fn unknown_mount_types_are_refused_with_400() {
        let unknown = request_of(serde_json::json!({
            "Image": "busybox",
            "HostConfig": {"Mounts": [{"Type": "npipe", "Source": "x", "Target": "/x"}]}
        }))
        .expect_err("npipe is refused");
        assert_eq!(unknown.status.as_u16(), 400);
        assert_eq!(
            unknown.message,
            "invalid mount config for type \"npipe\": mount type unknown"
        );
        let untyped = request_of(serde_json::json!({
            "Image": "busybox", "HostConfig": {"Mounts": [{"Target": "/x"}]}
        }))
        .expect_err("a mount needs a type");
        assert_eq!(
            untyped.message,
            "invalid mount config for type \"\": mount type unknown"
        );
    }

    fn point(kind: MountType, name: &str, source: &str, destination: &str) -> mounts::MountPoint {
        mounts::MountPoint {
            kind,
            name: name.to_owned(),
            source: source.to_owned(),
            destination: destination.to_owned(),
            driver: if kind == MountType::Volume {
                "local".to_owned()
            } else {
                String::new()
            },
            mode: String::new(),
            rw: true,
            propagation: (kind == MountType::Bind).then_some(mounts::Propagation::Rprivate),
            copy_data: false,
            anonymous: false,
            create_source: false,
            tmpfs_data: String::new(),
        }
    }

    #[test]
    fn mount_points_show_name_and_driver_only_for_volumes_and_match_the_volume_filter() {
        let plan = MountPlan {
            points: vec![
                point(MountType::Bind, "", "/srv", "/srv"),
                point(MountType::Volume, "data", "/v/data/_data", "/data"),
                point(MountType::Tmpfs, "", "", "/scratch"),
            ],
            ..MountPlan::default()
        };
        let shown = mount_points(&plan);
        let json = serde_json::to_value(&shown).expect("serialises");
        assert_eq!(
            json,
            serde_json::json!([
                {"Type": "bind", "Source": "/srv", "Destination": "/srv", "Mode": "",
                 "RW": true, "Propagation": "rprivate"},
                {"Type": "volume", "Name": "data", "Source": "/v/data/_data",
                 "Destination": "/data", "Driver": "local", "Mode": "", "RW": true,
                 "Propagation": ""},
                {"Type": "tmpfs", "Source": "", "Destination": "/scratch", "Mode": "",
                 "RW": true, "Propagation": ""}
            ])
        );
        let _: &[MountPoint] = &shown;
        assert!(uses_volume(&plan, "data"));
        assert!(uses_volume(&plan, "/data"));
        assert!(uses_volume(&plan, "/srv"), "a bind matches by its source");
        assert!(
            !uses_volume(&plan, "/v/data/_data"),
            "a volume matches by name"
        );
        assert!(!uses_volume(&plan, "other"));
    }
}
