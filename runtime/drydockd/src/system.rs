//! The `System` area: version, info, events, disk usage, registry login.

use std::collections::HashMap;

use drydock_engine::digest::Digest;
use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::system::*;
use futures_util::StreamExt;
use serde_json::json;

use crate::containers::record::ContainerRecord;
use crate::containers::view;
use crate::daemon::Daemon;
use crate::errors::blocking;
use crate::events::parse_time;

/// The kernel's release (`uname -r`).
fn kernel_version() -> String {
    std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// The machine's architecture as `uname -m` prints it.
fn machine() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "x86_64",
        "aarch64" => "aarch64",
        other => other,
    }
}

/// The host's operating system's pretty name, from os-release.
fn operating_system() -> String {
    std::fs::read_to_string("/etc/os-release")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("PRETTY_NAME="))
                .map(|name| name.trim_matches('"').to_owned())
        })
        .unwrap_or_else(|| "Linux".to_owned())
}

/// Total memory in bytes, from /proc/meminfo.
fn mem_total() -> i64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|line| line.strip_prefix("MemTotal:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<i64>()
                        .ok()
                })
        })
        .map_or(0, |kib| kib * 1024)
}

/// The host's name.
pub(crate) fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|v| v.trim().to_owned())
        .unwrap_or_default()
}

/// A model from JSON of its shape.
fn model<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ServerError> {
    serde_json::from_value(value).map_err(|e| ServerError::internal(e.to_string()))
}

impl drydock_server::System for Daemon {
    async fn system_version(
        &self,
        _request: SystemVersionRequest,
        _version: ApiVersion,
    ) -> Result<SystemVersionResponse, ServerError> {
        Ok(SystemVersionResponse::Status200(Box::new(
            drydock_models::SystemVersionResponse {
                version: Some(crate::VERSION.to_owned()),
                api_version: Some(drydock_runtime::MAX_API.to_string()),
                min_api_version: Some(drydock_runtime::MIN_API.to_string()),
                git_commit: Some(
                    option_env!("DRYDOCK_GIT_COMMIT")
                        .unwrap_or("unknown")
                        .to_owned(),
                ),
                // The toolchain's field; drydockd's is rustc's.
                go_version: Some(format!(
                    "rustc {}",
                    option_env!("DRYDOCK_RUSTC_VERSION").unwrap_or("unknown")
                )),
                os: Some("linux".to_owned()),
                arch: Some(drydock_engine::images::go_architecture().to_owned()),
                kernel_version: Some(kernel_version()),
                experimental: Some(false),
                build_time: None,
            },
        )))
    }

    async fn system_info(
        &self,
        _request: SystemInfoRequest,
        _version: ApiVersion,
    ) -> Result<SystemInfoResponse, ServerError> {
        let (running, paused, stopped) = self.containers.counts();
        let images = self.images.image_ids().map(|ids| ids.len()).unwrap_or(0);
        let cpus = std::thread::available_parallelism().map_or(1, usize::from);
        let cgroup_v2 = std::path::Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        let info = json!({
            "ID": self.engine_id,
            "Containers": running + paused + stopped,
            "ContainersRunning": running,
            "ContainersPaused": paused,
            "ContainersStopped": stopped,
            "Images": images,
            "Driver": "overlay2",
            "DriverStatus": [["Backing Filesystem", "extfs"], ["Supports d_type", "true"], ["Native Overlay Diff", "true"]],
            "DockerRootDir": self.options.data_root.display().to_string(),
            "Plugins": {
                "Volume": ["local"],
                "Network": ["bridge", "host", "null"],
                "Authorization": null,
                "Log": ["json-file"]
            },
            "MemoryLimit": true,
            "SwapLimit": false,
            "KernelMemory": !cgroup_v2,
            "CpuCfsPeriod": true,
            "CpuCfsQuota": true,
            "CPUShares": true,
            "CPUSet": true,
            "OomKillDisable": !cgroup_v2,
            "IPv4Forwarding": std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").is_ok_and(|v| v.trim() == "1"),
            "BridgeNfIptables": false,
            "BridgeNfIp6tables": false,
            "Debug": self.options.log_level >= log::LevelFilter::Debug,
            "NFd": std::fs::read_dir("/proc/self/fd").map(|d| d.count()).unwrap_or(0),
            "NGoroutines": tokio::runtime::Handle::current().metrics().num_alive_tasks(),
            "SystemTime": drydock_engine::timestamp::Timestamp::now().to_string(),
            "LoggingDriver": "json-file",
            "CgroupDriver": "cgroupfs",
            "NEventsListener": 0,
            "KernelVersion": kernel_version(),
            "OperatingSystem": operating_system(),
            "OSType": "linux",
            "Architecture": machine(),
            "NCPU": cpus,
            "MemTotal": mem_total(),
            "IndexServerAddress": "https://index.docker.io/v1/",
            "RegistryConfig": {
                "AllowNondistributableArtifactsCIDRs": [],
                "AllowNondistributableArtifactsHostnames": [],
                "InsecureRegistryCIDRs": ["127.0.0.0/8"],
                "IndexConfigs": {},
                "Mirrors": []
            },
            "GenericResources": null,
            "HttpProxy": "",
            "HttpsProxy": "",
            "NoProxy": "",
            "Name": hostname(),
            "Labels": [],
            "ExperimentalBuild": false,
            "ServerVersion": crate::VERSION,
            "ClusterStore": "",
            "ClusterAdvertise": "",
            "Runtimes": { "runc": { "path": self.runtime.config().runtime.display().to_string() } },
            "DefaultRuntime": "runc",
            "Swarm": {
                "NodeID": "",
                "NodeAddr": "",
                "LocalNodeState": "inactive",
                "ControlAvailable": false,
                "Error": "",
                "RemoteManagers": null
            },
            "LiveRestoreEnabled": true,
            "Isolation": "",
            "InitBinary": self.options.init_path,
            "ContainerdCommit": { "ID": "", "Expected": "" },
            "RuncCommit": { "ID": "", "Expected": "" },
            "InitCommit": { "ID": "", "Expected": "" },
            "SecurityOptions": []
        });
        Ok(SystemInfoResponse::Status200(Box::new(model(info)?)))
    }

    async fn system_events(
        &self,
        request: SystemEventsRequest,
        _version: ApiVersion,
    ) -> Result<SystemEventsResponse, ServerError> {
        let since = request
            .since
            .as_deref()
            .map(|s| parse_time("since", s))
            .transpose()?;
        let until = request
            .until
            .as_deref()
            .map(|s| parse_time("until", s))
            .transpose()?;
        let filters = request.filters.unwrap_or_default();
        for key in filters.keys() {
            if !matches!(
                key,
                "container"
                    | "event"
                    | "image"
                    | "label"
                    | "type"
                    | "volume"
                    | "network"
                    | "daemon"
                    | "plugin"
                    | "node"
                    | "service"
                    | "secret"
                    | "config"
                    | "scope"
            ) {
                return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
            }
        }
        let stream = self
            .events
            .stream(since, until, filters)
            .map(|event| event.to_model());
        Ok(SystemEventsResponse::Status200(Box::pin(stream)))
    }

    async fn system_data_usage(
        &self,
        _request: SystemDataUsageRequest,
        version: ApiVersion,
    ) -> Result<SystemDataUsageResponse, ServerError> {
        let listed = drydock_server::Images::image_list(
            self,
            drydock_server::images::ImageListRequest {
                all: None,
                filters: None,
                digests: None,
                filter: None,
            },
            version,
        )
        .await?;
        let drydock_server::images::ImageListResponse::Status200(images) = listed else {
            return Err(ServerError::internal("the images could not be listed"));
        };
        let mut records: Vec<ContainerRecord> =
            self.containers.all().iter().map(|c| c.snapshot()).collect();
        records.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
        let engine = self.clone();
        let usage = blocking(move || disk_usage(&engine, images, &records)).await?;
        Ok(SystemDataUsageResponse::Status200(Box::new(usage)))
    }

    async fn system_auth(
        &self,
        _request: SystemAuthRequest,
        _version: ApiVersion,
    ) -> Result<SystemAuthResponse, ServerError> {
        Err(ServerError::internal(
            "drydockd talks to no registry: there is nothing to log in to",
        ))
    }
}

/// `docker system df` as dockerd (20.10) counts it: the bytes of every layer the images use
/// (each once); each image with the containers that use it and the bytes of its layers that
/// other images use too; every container with its changes (`SizeRw`) and its whole root
/// (`SizeRootFs`: its image and its changes); the local volumes without driver options with
/// the bytes of their content and the containers that reference them.
fn disk_usage(
    daemon: &Daemon,
    mut images: Vec<drydock_models::ImageSummary>,
    records: &[ContainerRecord],
) -> drydock_engine::Result<drydock_models::SystemDataUsageResponse> {
    // Each image's layers as dockerd keys them: by the chain of layers up to each.
    let mut layers_of_image: Vec<Vec<(Vec<Digest>, u64)>> = Vec::with_capacity(images.len());
    let mut uses: HashMap<Vec<Digest>, (usize, u64)> = HashMap::new();
    for image in &images {
        let Some(id) = Digest::parse(&image.id) else {
            layers_of_image.push(Vec::new());
            continue;
        };
        let mut chain = Vec::new();
        let mut layers = Vec::new();
        for diff_id in daemon.images.config(&id)?.rootfs.diff_ids {
            let size = daemon.images.layer_size(&diff_id)?;
            chain.push(diff_id);
            uses.entry(chain.clone()).or_insert((0, size)).0 += 1;
            layers.push((chain.clone(), size));
        }
        layers_of_image.push(layers);
    }
    let layers_size: u64 = uses.values().map(|(_, size)| size).sum();
    let mut image_sizes = HashMap::new();
    for (image, layers) in images.iter_mut().zip(&layers_of_image) {
        let shared: u64 = layers
            .iter()
            .filter(|(chain, _)| uses.get(chain).is_some_and(|(count, _)| *count > 1))
            .map(|(_, size)| size)
            .sum();
        image.shared_size = i64::try_from(shared).unwrap_or(i64::MAX);
        let containers = records.iter().filter(|r| r.image_id == image.id).count();
        image.containers = i64::try_from(containers).unwrap_or(i64::MAX);
        image_sizes.insert(image.id.clone(), image.size);
    }
    let containers = records
        .iter()
        .map(|record| {
            let mut row = view::summary(daemon, record);
            let image_size = image_sizes.get(&record.image_id).copied();
            (row.size_rw, row.size_root_fs) = {
                let (size_rw, size_root_fs) = view::disk_sizes(daemon, record, image_size);
                (Some(size_rw), size_root_fs)
            };
            row
        })
        .collect();
    let volumes = daemon
        .volumes
        .usage()?
        .into_iter()
        .map(|usage| {
            let mut model = crate::volumes::volume_model(&usage.volume);
            model.usage_data = Some(Some(drydock_models::VolumeUsageData {
                size: usage
                    .size
                    .map_or(-1, |size| i64::try_from(size).unwrap_or(i64::MAX)),
                ref_count: i64::try_from(usage.volume.users.len()).unwrap_or(i64::MAX),
            }));
            model
        })
        .collect();
    Ok(drydock_models::SystemDataUsageResponse {
        layers_size: Some(i64::try_from(layers_size).unwrap_or(i64::MAX)),
        images: Some(images),
        containers: Some(containers),
        volumes: Some(volumes),
    })
}
