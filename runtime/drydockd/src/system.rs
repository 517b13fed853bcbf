//! The `System` area: version, info, events, disk usage, registry login.

use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::system::*;
use futures_util::StreamExt;
use serde_json::json;

use crate::daemon::Daemon;
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
fn hostname() -> String {
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
                go_version: Some(format!("rust {}", env!("CARGO_PKG_RUST_VERSION"))),
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
