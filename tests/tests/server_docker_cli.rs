//! The real `docker` CLI (28.x) against the generated server on a unix
//! socket, with a small scripted implementation: `docker version` at three
//! pinned API versions, `docker ps`, and `docker inspect` of a missing object.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Arc, Mutex};

use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::containers::{
    ContainerInspectRequest, ContainerInspectResponse, ContainerListRequest, ContainerListResponse,
};
use drydock_server::images::{ImageInspectRequest, ImageInspectResponse};
use drydock_server::networks::{NetworkInspectRequest, NetworkInspectResponse};
use drydock_server::plugins::{PluginInspectRequest, PluginInspectResponse};
use drydock_server::system::{
    SystemInfoRequest, SystemInfoResponse, SystemVersionRequest, SystemVersionResponse,
};
use drydock_server::volumes::{VolumeInspectRequest, VolumeInspectResponse};
use serde_json::json;

const DOCKER: &str = "/usr/local/bin/docker";
const CONTAINER_ID: &str = "4a3f1c2d9e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f";

/// Answers what the CLI asks for these commands, and notes each call.
#[derive(Clone, Default)]
struct Scripted {
    calls: Arc<Mutex<Vec<(String, ApiVersion)>>>,
}

impl Scripted {
    fn note(&self, what: &str, version: ApiVersion) {
        if let Ok(mut calls) = self.calls.lock() {
            calls.push((what.to_string(), version));
        }
    }

    fn calls(&self) -> Vec<(String, ApiVersion)> {
        self.calls.lock().map(|c| c.clone()).unwrap_or_default()
    }
}

fn model<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> Result<T, ServerError> {
    serde_json::from_value(value).map_err(|e| ServerError::internal(e.to_string()))
}

impl drydock_server::System for Scripted {
    async fn system_version(
        &self,
        _request: SystemVersionRequest,
        version: ApiVersion,
    ) -> Result<SystemVersionResponse, ServerError> {
        self.note("SystemVersion", version);
        Ok(SystemVersionResponse::Status200(model(json!({
            "Version": "17.10.0-drydock",
            "ApiVersion": "1.33",
            "MinAPIVersion": "1.23",
            "GitCommit": "0123abc",
            "GoVersion": "go1.9.1",
            "Os": "linux",
            "Arch": "amd64",
            "KernelVersion": "6.1.0",
            "BuildTime": "2017-10-17T00:00:00.000000000+00:00"
        }))?))
    }

    async fn system_info(
        &self,
        _request: SystemInfoRequest,
        version: ApiVersion,
    ) -> Result<SystemInfoResponse, ServerError> {
        self.note("SystemInfo", version);
        Ok(SystemInfoResponse::Status200(model(json!({
            "ID": "drydock",
            "Name": "drydock-test",
            "OSType": "linux",
            "Swarm": { "LocalNodeState": "inactive", "ControlAvailable": false }
        }))?))
    }
}

impl drydock_server::Containers for Scripted {
    async fn container_list(
        &self,
        request: ContainerListRequest,
        version: ApiVersion,
    ) -> Result<ContainerListResponse, ServerError> {
        self.note("ContainerList", version);
        let all = request.all.unwrap_or(false);
        let mut list = vec![json!({
            "Id": CONTAINER_ID,
            "Names": ["/drydock-web"],
            "Image": "busybox:latest",
            "ImageID": "sha256:6d5fcfe5ff170471fcc3c8b47631d6d71202a1fd44cf3c147e50c8de21cf0648",
            "Command": "httpd -f",
            "Created": 1508198400,
            "Ports": [],
            "Labels": {},
            "State": "running",
            "Status": "Up 2 minutes",
            "HostConfig": { "NetworkMode": "default" },
            "NetworkSettings": { "Networks": {} },
            "Mounts": []
        })];
        if all {
            list.push(json!({
                "Id": "ffff000011112222333344445555666677778888999900001111222233334444",
                "Names": ["/drydock-exited"],
                "Image": "busybox:latest",
                "Command": "true",
                "Created": 1508198400,
                "State": "exited",
                "Status": "Exited (0) 1 minute ago"
            }));
        }
        Ok(ContainerListResponse::Status200(model(json!(list))?))
    }

    async fn container_inspect(
        &self,
        request: ContainerInspectRequest,
        version: ApiVersion,
    ) -> Result<ContainerInspectResponse, ServerError> {
        self.note("ContainerInspect", version);
        Err(ServerError::not_found(format!(
            "No such container: {}",
            request.id
        )))
    }
}

impl drydock_server::Images for Scripted {
    async fn image_inspect(
        &self,
        request: ImageInspectRequest,
        version: ApiVersion,
    ) -> Result<ImageInspectResponse, ServerError> {
        self.note("ImageInspect", version);
        Err(ServerError::not_found(format!(
            "No such image: {}",
            request.name
        )))
    }
}

impl drydock_server::Networks for Scripted {
    async fn network_inspect(
        &self,
        request: NetworkInspectRequest,
        version: ApiVersion,
    ) -> Result<NetworkInspectResponse, ServerError> {
        self.note("NetworkInspect", version);
        Err(ServerError::not_found(format!(
            "network {} not found",
            request.id
        )))
    }
}

impl drydock_server::Volumes for Scripted {
    async fn volume_inspect(
        &self,
        request: VolumeInspectRequest,
        version: ApiVersion,
    ) -> Result<VolumeInspectResponse, ServerError> {
        self.note("VolumeInspect", version);
        Err(ServerError::not_found(format!(
            "get {}: no such volume",
            request.name
        )))
    }
}

impl drydock_server::Plugins for Scripted {
    async fn plugin_inspect(
        &self,
        request: PluginInspectRequest,
        version: ApiVersion,
    ) -> Result<PluginInspectResponse, ServerError> {
        self.note("PluginInspect", version);
        Err(ServerError::not_found(format!(
            "plugin {} not found",
            request.name
        )))
    }
}

impl drydock_server::Configs for Scripted {}
impl drydock_server::Distribution for Scripted {}
impl drydock_server::Exec for Scripted {}
impl drydock_server::Nodes for Scripted {}
impl drydock_server::Secrets for Scripted {}
impl drydock_server::Services for Scripted {}
impl drydock_server::Session for Scripted {}
impl drydock_server::Swarm for Scripted {}
impl drydock_server::Tasks for Scripted {}

/// A server on a fresh unix socket, and the directory holding it.
struct Served {
    dir: PathBuf,
    socket: PathBuf,
    scripted: Scripted,
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn serve(runtime: &tokio::runtime::Runtime, name: &str) -> Served {
    let dir = std::env::temp_dir().join(format!("drydock-cli-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("config")).expect("creates the test directory");
    let socket = dir.join("docker.sock");
    let scripted = Scripted::default();
    let router = drydock_server::router(scripted.clone());
    let listener = {
        let _guard = runtime.enter();
        drydock_runtime::server::listen::bind_unix(&socket).expect("binds the socket")
    };
    runtime.spawn(drydock_runtime::server::listen::serve_unix(
        listener, router,
    ));
    Served {
        dir,
        socket,
        scripted,
    }
}

fn docker(served: &Served, api_version: Option<&str>, args: &[&str]) -> Output {
    let mut command = std::process::Command::new(DOCKER);
    command
        .arg("-H")
        .arg(format!("unix://{}", served.socket.display()))
        .args(args)
        .env("DOCKER_CONFIG", served.dir.join("config"))
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_API_VERSION");
    if let Some(v) = api_version {
        command.env("DOCKER_API_VERSION", v);
    }
    command.output().expect("the docker CLI runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

fn cli_present() -> bool {
    Path::new(DOCKER).exists()
}

#[test]
fn docker_version_talks_to_the_server_at_each_pinned_api_version() {
    assert!(cli_present(), "{DOCKER} is missing");
    let runtime = runtime();
    let served = serve(&runtime, "version");
    for pinned in ["1.23", "1.25", "1.33"] {
        let out = docker(&served, Some(pinned), &["version"]);
        let stdout = text(&out.stdout);
        assert!(
            out.status.success(),
            "docker version at {pinned} failed: {stdout}{}",
            text(&out.stderr)
        );
        assert!(stdout.contains("17.10.0-drydock"), "{stdout}");
        assert!(
            stdout.contains(&format!("API version:       {pinned} (downgraded from")),
            "{stdout}"
        );
        // `MinAPIVersion` exists since 1.25: the answer is downgraded below that.
        let minimum = if pinned == "1.23" {
            "API version:      1.33 (minimum version )"
        } else {
            "API version:      1.33 (minimum version 1.23)"
        };
        assert!(stdout.contains(minimum), "{stdout}");
        let calls = served.scripted.calls();
        let expected: ApiVersion = pinned.parse().expect("a version");
        assert!(
            calls
                .iter()
                .any(|(what, v)| what == "SystemVersion" && *v == expected),
            "no GET /v{pinned}/version among {calls:?}"
        );
    }
}

#[test]
fn docker_ps_lists_the_implementations_containers() {
    assert!(cli_present(), "{DOCKER} is missing");
    let runtime = runtime();
    let served = serve(&runtime, "ps");
    let out = docker(&served, None, &["ps"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert!(stdout.contains(&CONTAINER_ID[..12]), "{stdout}");
    assert!(stdout.contains("drydock-web"), "{stdout}");
    assert!(!stdout.contains("drydock-exited"), "{stdout}");
    let out = docker(
        &served,
        None,
        &["ps", "--all", "--format", "{{.Names}} {{.State}}"],
    );
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", text(&out.stderr));
    assert_eq!(
        stdout.lines().collect::<Vec<_>>(),
        ["drydock-web running", "drydock-exited exited"]
    );
}

#[test]
fn docker_inspect_of_a_missing_object_prints_the_not_found_message() {
    assert!(cli_present(), "{DOCKER} is missing");
    let runtime = runtime();
    let served = serve(&runtime, "inspect");
    let out = docker(&served, None, &["inspect", "nosuch"]);
    let stderr = text(&out.stderr);
    assert!(
        !out.status.success(),
        "inspect of a missing object succeeded"
    );
    assert!(
        stderr.to_lowercase().contains("no such object: nosuch"),
        "{stderr}"
    );
    let out = docker(&served, None, &["container", "inspect", "nosuch"]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("No such container: nosuch"), "{stderr}");
    let asked: Vec<String> = served
        .scripted
        .calls()
        .into_iter()
        .map(|(w, _)| w)
        .collect();
    assert!(asked.contains(&"ContainerInspect".to_string()), "{asked:?}");
    assert!(asked.contains(&"ImageInspect".to_string()), "{asked:?}");
}
