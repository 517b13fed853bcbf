//! The generated client (`drydock-client`) against a live dockerd, pinned to
//! each API version from 1.23 to 1.33 in turn: system, image, container,
//! exec, volume, network and event operations go through it and their answers
//! are checked, attach feeds stdin over the upgraded connection, and the
//! version checks refuse what a pinned version lacks before anything is sent.
//!
//! The tests share one daemon and take turns ([`serial`]): prunes and
//! `system df` see every container of the daemon, so each test must find it
//! as the others left it (no containers).

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use drydock_client::models::{
    ContainerConfigCmd, ContainerCreateBody, ContainerExecBody, ExecStartBody, HostConfig,
    NetworkCreateBody, VolumeCreateBody,
};
use drydock_client::{
    ApiVersion, ByteStream, Client, ClientConfig, ContainerArchiveInfoParams,
    ContainerArchiveParams, ContainerAttachParams, ContainerCreateParams, ContainerDeleteParams,
    ContainerExecParams, ContainerExportParams, ContainerInspectParams, ContainerKillParams,
    ContainerListParams, ContainerLogsParams, ContainerPruneParams, ContainerRestartParams,
    ContainerStartParams, ContainerStopParams, ContainerTopParams, ContainerWaitParams, Error,
    ExecStartParams, Filters, Frame, FrameStream, ImageCreateParams, ImageDeleteParams,
    ImageHistoryParams, ImageInspectParams, ImageListParams, ImageTagParams, NetworkCreateParams,
    NetworkDeleteParams, NetworkInspectParams, NetworkListParams, PutContainerArchiveParams,
    StreamKind, SystemEventsParams, VolumeCreateParams, VolumeDeleteParams, VolumeInspectParams,
    VolumeListParams,
};
use drydock_runtime::frames::FrameCodec;
use drydock_runtime::transport::DockerHost;
use drydock_tests::dockerd::Dockerd;
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;

const IMAGE: &str = "busybox:latest";

/// Runs `test` on a fresh single-threaded tokio runtime.
fn block_on<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(test)
}

/// Holds the daemon for one test at a time.
fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The shared daemon, with busybox imported and no container left over
/// from a test that failed half-way (removed with the docker CLI).
fn daemon() -> &'static Dockerd {
    let daemon = Dockerd::shared();
    daemon.import_busybox(IMAGE);
    let leftovers = daemon.docker_stdout(["ps", "--all", "--quiet"]);
    let ids: Vec<&str> = leftovers.split_whitespace().collect();
    if !ids.is_empty() {
        daemon.docker_stdout(["rm", "--force"].into_iter().chain(ids));
    }
    daemon
}

/// A client of `daemon` pinned to `version`.
async fn client_at(daemon: &Dockerd, version: &str) -> Client {
    let mut config = ClientConfig::new(DockerHost::Unix(daemon.socket()));
    config.api_version = Some(version.parse().expect("the test's version parses"));
    let client = Client::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("connecting at API {version}: {e}"));
    assert_eq!(client.version().to_string(), version);
    client
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Every frame of `frames` on `stream`, concatenated as text.
async fn collect_text(mut frames: FrameStream, stream: StreamKind) -> String {
    let mut out = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame: Frame = frame.expect("the frame stream holds well-formed frames");
        if frame.stream == stream {
            out.extend_from_slice(&frame.payload);
        }
    }
    String::from_utf8(out).expect("the output is UTF-8")
}

/// Whether `version` is at least `major.minor`.
fn at_least(version: &str, major: u16, minor: u16) -> bool {
    version.parse::<ApiVersion>().expect("version parses") >= ApiVersion::new(major, minor)
}

fn expect_version_gate<T: std::fmt::Debug>(
    result: Result<T, Error>,
    what: &str,
    since: &str,
) -> String {
    match result {
        Err(Error::VersionGate {
            what: gated,
            since: needs,
            negotiated,
        }) => {
            assert!(gated.contains(what), "{gated:?} names {what:?}");
            assert_eq!(needs, since, "the gate on {gated} names its first version");
            negotiated
        }
        other => panic!("expected a version gate on {what}, got {other:?}"),
    }
}

/// Ping, version and info.
async fn system_operations(client: &Client, version: &str) {
    let pong = client.system_ping().await.expect("ping answers");
    assert_eq!(pong, "OK", "ping at API {version}");
    let about = client.system_version().await.expect("version answers");
    assert_eq!(about.api_version.as_deref(), Some("1.41"));
    assert_eq!(about.os.as_deref(), Some("linux"));
    let info = client.system_info().await.expect("info answers");
    assert!(
        info.images.unwrap_or_default() >= 1,
        "info at API {version} counts the busybox image"
    );
    if at_least(version, 1, 25) {
        let usage = client.system_data_usage().await.expect("system df answers");
        let images = usage.images.unwrap_or_default();
        assert!(
            images
                .iter()
                .any(|image| image.repo_tags.iter().any(|tag| tag == IMAGE)),
            "system df at API {version} lists busybox"
        );
    } else {
        let result = client.system_data_usage().await;
        expect_version_gate(result, "SystemDataUsage", "1.25");
    }
}

/// Image list, inspect, tag, history and remove.
async fn image_operations(client: &Client, version: &str) {
    let images = client
        .image_list(ImageListParams::default())
        .await
        .expect("image list answers");
    let busybox = images
        .iter()
        .find(|image| image.repo_tags.iter().any(|tag| tag == IMAGE))
        .unwrap_or_else(|| panic!("image list at API {version} has busybox: {images:?}"));
    let inspected = client
        .image_inspect(ImageInspectParams {
            name: IMAGE.to_owned(),
        })
        .await
        .expect("image inspect answers");
    assert_eq!(inspected.id.as_deref(), Some(busybox.id.as_str()));
    assert_eq!(inspected.os.as_deref(), Some("linux"));

    let repo = format!("drydock-client-{}", version.replace('.', "-"));
    client
        .image_tag(ImageTagParams {
            name: IMAGE.to_owned(),
            repo: Some(repo.clone()),
            tag: Some("tagged".to_owned()),
            ..ImageTagParams::default()
        })
        .await
        .expect("image tag succeeds");
    let reference = format!("{repo}:tagged");
    let tagged = client
        .image_list(ImageListParams {
            filters: Some(Filters::new().with("reference", reference.as_str())),
            ..ImageListParams::default()
        })
        .await
        .expect("image list with a reference filter answers");
    assert_eq!(
        tagged
            .iter()
            .map(|image| image.id.as_str())
            .collect::<Vec<_>>(),
        [busybox.id.as_str()],
        "the filter selects the new tag only"
    );

    let history = client
        .image_history(ImageHistoryParams {
            name: reference.clone(),
        })
        .await
        .expect("image history answers");
    assert!(!history.is_empty(), "an image has at least one layer");

    let deleted = client
        .image_delete(ImageDeleteParams {
            name: reference.clone(),
            ..ImageDeleteParams::default()
        })
        .await
        .expect("image remove answers");
    assert!(
        deleted
            .iter()
            .any(|item| item.untagged.as_deref() == Some(reference.as_str())),
        "removing a second tag untags it: {deleted:?}"
    );
}

/// Runs `command` in `id` through exec create and exec start and returns its stdout.
async fn exec_output(client: &Client, id: &str, command: &[&str]) -> String {
    let created = client
        .container_exec(ContainerExecParams {
            id: id.to_owned(),
            body: ContainerExecBody {
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                cmd: Some(command.iter().map(|c| (*c).to_owned()).collect()),
                ..ContainerExecBody::default()
            },
        })
        .await
        .expect("exec create answers");
    let frames = client
        .exec_start(ExecStartParams {
            id: created.id,
            body: Some(ExecStartBody {
                detach: Some(false),
                tty: Some(false),
            }),
            tty: false,
        })
        .await
        .expect("exec start answers");
    collect_text(frames, StreamKind::Stdout).await
}

/// The container lifecycle, exec, logs and prune.
/// Everything a byte stream (a download) holds.
async fn collect_bytes(mut stream: ByteStream, what: &str) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(chunk) = stream.next().await {
        out.extend_from_slice(&chunk.unwrap_or_else(|e| panic!("{what} streams: {e}")));
    }
    out
}

/// A tar archive holding one file.
fn tar_with_file(name: &str, text: &str) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    let mut header = tar::Header::new_gnu();
    header.set_size(text.len() as u64);
    header.set_mode(0o644);
    header.set_cksum();
    builder
        .append_data(&mut header, name, text.as_bytes())
        .expect("a tar entry is written to memory");
    builder
        .into_inner()
        .expect("a tar archive is finished in memory")
}

/// The entries of a tar archive: path and, for files, their text.
fn tar_entries(bytes: &[u8]) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(bytes);
    let entries = archive.entries().expect("the download is a tar archive");
    entries
        .map(|entry| {
            let mut entry = entry.expect("a tar entry reads");
            let path = entry
                .path()
                .expect("an entry has a path")
                .display()
                .to_string();
            let mut text = String::new();
            if entry.header().entry_type().is_file() {
                std::io::Read::read_to_string(&mut entry, &mut text).unwrap_or_default();
            }
            (path, text)
        })
        .collect()
}

/// archive PUT, HEAD and GET, and export, on the running container `id`.
async fn archive_and_export(client: &Client, version: &str, id: &str) {
    let text = format!("put at {version}\n");
    client
        .put_container_archive(PutContainerArchiveParams {
            id: id.to_owned(),
            path: "/tmp".to_owned(),
            no_overwrite_dir_non_dir: None,
            copy_uidgid: None,
            body: reqwest::Body::from(tar_with_file("greeting.txt", &text)),
        })
        .await
        .expect("archive put succeeds");
    client
        .container_archive_info(ContainerArchiveInfoParams {
            id: id.to_owned(),
            path: "/tmp/greeting.txt".to_owned(),
        })
        .await
        .expect("archive info (HEAD) finds the file");
    let downloaded = client
        .container_archive(ContainerArchiveParams {
            id: id.to_owned(),
            path: "/tmp/greeting.txt".to_owned(),
        })
        .await
        .expect("archive get answers");
    let entries = tar_entries(&collect_bytes(downloaded, "archive get").await);
    assert_eq!(
        entries,
        [("greeting.txt".to_owned(), text.clone())],
        "archive get at API {version} gives back what archive put wrote"
    );
    let exported = client
        .container_export(ContainerExportParams { id: id.to_owned() })
        .await
        .expect("export answers");
    let entries = tar_entries(&collect_bytes(exported, "export").await);
    assert!(
        entries.iter().any(|(path, _)| path == "bin/busybox"),
        "the export at API {version} holds the image's files"
    );
    assert!(
        entries.contains(&("tmp/greeting.txt".to_owned(), text)),
        "the export at API {version} holds the file archive put wrote"
    );
}

/// `docker import`: a tarball uploaded to POST /images/create with fromSrc=-.
async fn image_import(client: &Client, version: &str) {
    let repo = format!("drydock-import-{}", version.replace('.', "-"));
    let mut progress = client
        .image_create(ImageCreateParams {
            from_src: Some("-".to_owned()),
            repo: Some(repo.clone()),
            tag: Some("latest".to_owned()),
            body: Some(reqwest::Body::from(tar_with_file(
                "hello.txt",
                "imported\n",
            ))),
            ..ImageCreateParams::default()
        })
        .await
        .expect("image import answers");
    let mut messages = Vec::new();
    while let Some(message) = progress.next().await {
        messages.push(message.expect("import progress has no error"));
    }
    assert!(
        messages.iter().any(|m| m
            .status
            .as_deref()
            .is_some_and(|s| s.starts_with("sha256:"))),
        "the import at API {version} reports the new image id: {messages:?}"
    );
    let reference = format!("{repo}:latest");
    let inspected = client
        .image_inspect(ImageInspectParams {
            name: reference.clone(),
        })
        .await
        .expect("the imported image inspects");
    assert!(inspected.id.is_some_and(|id| id.starts_with("sha256:")));
    client
        .image_delete(ImageDeleteParams {
            name: reference,
            ..ImageDeleteParams::default()
        })
        .await
        .expect("the imported image is removed");
}

async fn container_operations(client: &Client, version: &str) {
    let name = format!("drydock-client-{}", version.replace('.', "-"));
    let greeting = format!("hello from {version}");
    let created = client
        .container_create(ContainerCreateParams {
            name: Some(name.clone()),
            body: ContainerCreateBody {
                image: Some(IMAGE.to_owned()),
                cmd: Some(ContainerConfigCmd::List(vec![
                    "sh".to_owned(),
                    "-c".to_owned(),
                    format!("echo '{greeting}'; exec sleep 300"),
                ])),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .expect("container create answers");
    let id = created.id;
    assert!(!id.is_empty());
    client
        .container_start(ContainerStartParams {
            id: id.clone(),
            ..ContainerStartParams::default()
        })
        .await
        .expect("container start succeeds");

    let inspected = client
        .container_inspect(ContainerInspectParams {
            id: name.clone(),
            ..ContainerInspectParams::default()
        })
        .await
        .expect("container inspect answers");
    assert_eq!(inspected.id.as_deref(), Some(id.as_str()));
    assert_eq!(
        inspected.state.and_then(|state| state.running),
        Some(true),
        "the container runs at API {version}"
    );
    archive_and_export(client, version, &id).await;

    // The shell execs the sleep once it has echoed: top shows `sleep 300` as
    // a command of its own from then on (before, only inside `sh -c …`).
    let mut processes = Vec::new();
    for _ in 0..50 {
        let top = client
            .container_top(ContainerTopParams {
                id: id.clone(),
                ..ContainerTopParams::default()
            })
            .await
            .expect("container top answers");
        processes = top.processes.unwrap_or_default();
        if processes
            .iter()
            .any(|row| row.iter().any(|cell| cell == "sleep 300"))
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        processes
            .iter()
            .any(|row| row.iter().any(|cell| cell == "sleep 300")),
        "top lists the sleep: {processes:?}"
    );

    // The daemon copies the output to the log asynchronously.
    let mut logged = String::new();
    for _ in 0..50 {
        let logs = client
            .container_logs(ContainerLogsParams {
                id: id.clone(),
                stdout: Some(true),
                stderr: Some(true),
                ..ContainerLogsParams::default()
            })
            .await
            .expect("container logs answers");
        logged = collect_text(logs, StreamKind::Stdout).await;
        if !logged.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(logged, format!("{greeting}\n"));

    if at_least(version, 1, 25) {
        let usage = client.system_data_usage().await.expect("system df answers");
        let containers = usage.containers.unwrap_or_default();
        assert!(
            containers
                .iter()
                .any(|container| container.id.as_deref() == Some(id.as_str())),
            "system df at API {version} lists the running container: {containers:?}"
        );
    }

    let printed = exec_output(client, &id, &["echo", "exec works"]).await;
    assert_eq!(printed, "exec works\n");

    client
        .container_restart(ContainerRestartParams {
            id: id.clone(),
            t: Some(1),
        })
        .await
        .expect("container restart succeeds");
    client
        .container_kill(ContainerKillParams {
            id: id.clone(),
            signal: Some("SIGKILL".to_owned()),
        })
        .await
        .expect("container kill succeeds");
    let waited = client
        .container_wait(ContainerWaitParams {
            id: id.clone(),
            ..ContainerWaitParams::default()
        })
        .await
        .expect("container wait answers")
        .next()
        .await
        .expect("the wait sends the exit status")
        .expect("the exit status decodes");
    assert_eq!(
        waited.status_code, 137,
        "SIGKILL ends the container with 137"
    );

    client
        .container_start(ContainerStartParams {
            id: id.clone(),
            ..ContainerStartParams::default()
        })
        .await
        .expect("a stopped container starts again");
    client
        .container_stop(ContainerStopParams {
            id: id.clone(),
            t: Some(1),
        })
        .await
        .expect("container stop succeeds");
    client
        .container_delete(ContainerDeleteParams {
            id: id.clone(),
            ..ContainerDeleteParams::default()
        })
        .await
        .expect("container remove succeeds");
    let remaining = client
        .container_list(ContainerListParams {
            all: Some(true),
            filters: Some(Filters::new().with("id", id.as_str())),
            ..ContainerListParams::default()
        })
        .await
        .expect("container list answers");
    assert!(remaining.is_empty(), "the container is gone: {remaining:?}");

    let label = format!("drydock.prune={version}");
    let doomed = client
        .container_create(ContainerCreateParams {
            name: None,
            body: ContainerCreateBody {
                image: Some(IMAGE.to_owned()),
                cmd: Some(ContainerConfigCmd::List(vec!["true".to_owned()])),
                labels: Some([("drydock.prune".to_owned(), version.to_owned())].into()),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .expect("container create answers");
    // The v1.27 spec leaves `filters` out of container prune (v1.25, v1.26
    // and v1.28 on have it), so the client refuses it there.
    let filters = Some(Filters::new().with("label", label.as_str()));
    if version == "1.27" {
        let result = client
            .container_prune(ContainerPruneParams {
                filters: filters.clone(),
            })
            .await;
        expect_version_gate(
            result,
            "ContainerPrune query parameter filters",
            "1.25 to 1.26, since 1.28",
        );
    }
    let prune = ContainerPruneParams {
        filters: filters.filter(|_| version != "1.27"),
    };
    if at_least(version, 1, 25) {
        let pruned = client
            .container_prune(prune)
            .await
            .expect("container prune answers");
        assert_eq!(
            pruned.containers_deleted.unwrap_or_default(),
            [doomed.id.as_str()],
            "prune removes exactly the labelled (at 1.27: the only stopped) container"
        );
    } else {
        expect_version_gate(
            client.container_prune(prune).await,
            "ContainerPrune",
            "1.25",
        );
        client
            .container_delete(ContainerDeleteParams {
                id: doomed.id,
                ..ContainerDeleteParams::default()
            })
            .await
            .expect("container remove succeeds");
    }
}

/// Attach with stdin over the upgraded connection: what is written comes back from `cat`.
async fn attach_with_stdin(client: &Client, version: &str) {
    let created = client
        .container_create(ContainerCreateParams {
            name: None,
            body: ContainerCreateBody {
                image: Some(IMAGE.to_owned()),
                cmd: Some(ContainerConfigCmd::List(vec!["cat".to_owned()])),
                open_stdin: Some(true),
                stdin_once: Some(true),
                attach_stdin: Some(true),
                attach_stdout: Some(true),
                attach_stderr: Some(true),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .expect("container create answers");
    let id = created.id;
    let upgraded = client
        .container_attach_upgrade(ContainerAttachParams {
            id: id.clone(),
            stream: Some(true),
            stdin: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..ContainerAttachParams::default()
        })
        .await
        .expect("attach takes over the connection");
    client
        .container_start(ContainerStartParams {
            id: id.clone(),
            ..ContainerStartParams::default()
        })
        .await
        .expect("container start succeeds");
    let (read, mut write) = tokio::io::split(upgraded);
    let line = format!("typed at API {version}\n");
    write
        .write_all(line.as_bytes())
        .await
        .expect("stdin takes the line");
    write.shutdown().await.expect("stdin closes");
    let mut frames = tokio_util::codec::FramedRead::new(read, FrameCodec::new());
    let mut stdout = Vec::new();
    while let Some(frame) = frames.next().await {
        let frame = frame.expect("attach writes well-formed frames");
        if frame.stream == StreamKind::Stdout {
            stdout.extend_from_slice(&frame.payload);
        }
    }
    assert_eq!(String::from_utf8_lossy(&stdout), line);
    let waited = client
        .container_wait(ContainerWaitParams {
            id: id.clone(),
            ..ContainerWaitParams::default()
        })
        .await
        .expect("container wait answers")
        .next()
        .await
        .expect("the wait sends the exit status")
        .expect("the exit status decodes");
    assert_eq!(waited.status_code, 0, "cat ends when stdin closes");
    client
        .container_delete(ContainerDeleteParams {
            id,
            ..ContainerDeleteParams::default()
        })
        .await
        .expect("container remove succeeds");
}

/// Volume create, list, inspect and remove.
async fn volume_operations(client: &Client, version: &str) {
    let name = format!("drydock-client-{}", version.replace('.', "-"));
    let created = client
        .volume_create(VolumeCreateParams {
            body: VolumeCreateBody {
                name: Some(name.clone()),
                ..VolumeCreateBody::default()
            },
        })
        .await
        .expect("volume create answers");
    assert_eq!(created.name, name);
    let listed = client
        .volume_list(VolumeListParams::default())
        .await
        .expect("volume list answers");
    assert!(
        listed.volumes.iter().any(|volume| volume.name == name),
        "volume list at API {version} has {name}"
    );
    let inspected = client
        .volume_inspect(VolumeInspectParams { name: name.clone() })
        .await
        .expect("volume inspect answers");
    assert_eq!(inspected.driver, "local");
    client
        .volume_delete(VolumeDeleteParams {
            name: name.clone(),
            ..VolumeDeleteParams::default()
        })
        .await
        .expect("volume remove succeeds");
    let missing = client.volume_inspect(VolumeInspectParams { name }).await;
    assert_eq!(missing.err().and_then(|e| e.status()), Some(404));
}

/// Network create, list, inspect and remove.
async fn network_operations(client: &Client, version: &str) {
    let name = format!("drydock-client-{}", version.replace('.', "-"));
    let created = client
        .network_create(NetworkCreateParams {
            body: NetworkCreateBody {
                name: name.clone(),
                driver: Some("bridge".to_owned()),
                internal: Some(true),
                ..NetworkCreateBody::default()
            },
        })
        .await
        .expect("network create answers");
    let id = created.id.expect("network create names the network");
    let listed = client
        .network_list(NetworkListParams {
            filters: Some(Filters::new().with("name", name.as_str())),
        })
        .await
        .expect("network list answers");
    assert_eq!(
        listed
            .iter()
            .filter_map(|network| network.id.as_deref())
            .collect::<Vec<_>>(),
        [id.as_str()],
        "network list at API {version} filters by name"
    );
    let inspected = client
        .network_inspect(NetworkInspectParams {
            id: id.clone(),
            ..NetworkInspectParams::default()
        })
        .await
        .expect("network inspect answers");
    assert_eq!(inspected.name.as_deref(), Some(name.as_str()));
    assert_eq!(inspected.internal, Some(true));
    client
        .network_delete(NetworkDeleteParams { id: id.clone() })
        .await
        .expect("network remove succeeds");
}

/// Events between two instants: the stream ends at `until`.
async fn events_between(client: &Client, since: u64, until: u64, container: &str) {
    let mut events = client
        .system_events(SystemEventsParams {
            since: Some(since.to_string()),
            until: Some(until.to_string()),
            filters: Some(Filters::new().with("container", container)),
        })
        .await
        .expect("events answers");
    let mut actions = Vec::new();
    while let Some(event) = events.next().await {
        let event = event.expect("events are well-formed JSON messages");
        actions.extend(event.action);
    }
    assert!(
        actions.iter().any(|a| a == "create") && actions.iter().any(|a| a == "destroy"),
        "the events of {container} include create and destroy: {actions:?}"
    );
}

/// Everything above at one pinned version.
fn walk_through(version: &str) {
    let _turn = serial();
    let daemon = daemon();
    block_on(async {
        let since = unix_seconds();
        let client = client_at(daemon, version).await;
        system_operations(&client, version).await;
        image_operations(&client, version).await;
        image_import(&client, version).await;
        container_operations(&client, version).await;
        attach_with_stdin(&client, version).await;
        volume_operations(&client, version).await;
        network_operations(&client, version).await;
        let container = format!("drydock-client-{}", version.replace('.', "-"));
        events_between(&client, since, unix_seconds() + 1, &container).await;
    });
}

#[test]
fn client_pinned_to_1_23_runs_every_operation_it_has() {
    walk_through("1.23");
}

#[test]
fn client_pinned_to_1_24_runs_every_operation_it_has() {
    walk_through("1.24");
}

#[test]
fn client_pinned_to_1_25_runs_every_operation_it_has() {
    walk_through("1.25");
}

#[test]
fn client_pinned_to_1_26_runs_every_operation_it_has() {
    walk_through("1.26");
}

#[test]
fn client_pinned_to_1_27_runs_every_operation_it_has() {
    walk_through("1.27");
}

#[test]
fn client_pinned_to_1_28_runs_every_operation_it_has() {
    walk_through("1.28");
}

#[test]
fn client_pinned_to_1_29_runs_every_operation_it_has() {
    walk_through("1.29");
}

#[test]
fn client_pinned_to_1_30_runs_every_operation_it_has() {
    walk_through("1.30");
}

#[test]
fn client_pinned_to_1_31_runs_every_operation_it_has() {
    walk_through("1.31");
}

#[test]
fn client_pinned_to_1_32_runs_every_operation_it_has() {
    walk_through("1.32");
}

#[test]
fn client_pinned_to_1_33_runs_every_operation_it_has() {
    walk_through("1.33");
}

#[test]
fn host_config_init_is_refused_at_1_24_before_anything_is_sent() {
    let _turn = serial();
    let daemon = daemon();
    block_on(async {
        let client = client_at(daemon, "1.24").await;
        let name = "drydock-client-gated-init";
        let result = client
            .container_create(ContainerCreateParams {
                name: Some(name.to_owned()),
                body: ContainerCreateBody {
                    image: Some(IMAGE.to_owned()),
                    cmd: Some(ContainerConfigCmd::List(vec!["true".to_owned()])),
                    host_config: Some(HostConfig {
                        init: Some(true),
                        ..HostConfig::default()
                    }),
                    ..ContainerCreateBody::default()
                },
            })
            .await;
        let negotiated = expect_version_gate(result, "HostConfig.Init", "1.25");
        assert_eq!(negotiated, "1.24");
        let listed = client
            .container_list(ContainerListParams {
                all: Some(true),
                filters: Some(Filters::new().with("name", name)),
                ..ContainerListParams::default()
            })
            .await
            .expect("container list answers");
        assert!(listed.is_empty(), "no container was created: {listed:?}");

        let newer = client_at(daemon, "1.25").await;
        let created = newer
            .container_create(ContainerCreateParams {
                name: Some(name.to_owned()),
                body: ContainerCreateBody {
                    image: Some(IMAGE.to_owned()),
                    cmd: Some(ContainerConfigCmd::List(vec!["true".to_owned()])),
                    host_config: Some(HostConfig {
                        init: Some(true),
                        ..HostConfig::default()
                    }),
                    ..ContainerCreateBody::default()
                },
            })
            .await
            .expect("API 1.25 has HostConfig.Init");
        newer
            .container_delete(ContainerDeleteParams {
                id: created.id,
                ..ContainerDeleteParams::default()
            })
            .await
            .expect("container remove succeeds");
    });
}

#[test]
fn endpoint_from_1_25_is_refused_at_1_24() {
    let _turn = serial();
    let daemon = daemon();
    block_on(async {
        let client = client_at(daemon, "1.24").await;
        let result = client.system_data_usage().await;
        let negotiated = expect_version_gate(result, "SystemDataUsage", "1.25");
        assert_eq!(negotiated, "1.24");
        let result = client
            .container_prune(ContainerPruneParams::default())
            .await;
        expect_version_gate(result, "ContainerPrune", "1.25");
    });
}

#[test]
fn query_parameter_from_1_32_is_refused_at_1_31() {
    let _turn = serial();
    let daemon = daemon();
    block_on(async {
        let client = client_at(daemon, "1.31").await;
        let result = client
            .image_create(ImageCreateParams {
                from_image: Some("drydock.invalid/none".to_owned()),
                platform: Some("linux/amd64".to_owned()),
                ..ImageCreateParams::default()
            })
            .await;
        let Err(error) = result else {
            panic!("the platform parameter is refused at API 1.31");
        };
        let text = error.to_string();
        assert!(
            matches!(error, Error::VersionGate { .. }) && text.contains("platform"),
            "{text}"
        );
        assert!(text.contains("1.32") && text.contains("1.31"), "{text}");
    });
}

#[test]
fn logs_of_a_tty_container_come_out_as_raw_stdout_frames() {
    let _turn = serial();
    let daemon = daemon();
    block_on(async {
        let client = client_at(daemon, "1.33").await;
        let created = client
            .container_create(ContainerCreateParams {
                name: None,
                body: ContainerCreateBody {
                    image: Some(IMAGE.to_owned()),
                    tty: Some(true),
                    cmd: Some(ContainerConfigCmd::List(vec![
                        "echo".to_owned(),
                        "through a tty".to_owned(),
                    ])),
                    ..ContainerCreateBody::default()
                },
            })
            .await
            .expect("container create answers");
        let id = created.id;
        client
            .container_start(ContainerStartParams {
                id: id.clone(),
                ..ContainerStartParams::default()
            })
            .await
            .expect("container start succeeds");
        let waited = client
            .container_wait(ContainerWaitParams {
                id: id.clone(),
                ..ContainerWaitParams::default()
            })
            .await
            .expect("container wait answers")
            .next()
            .await
            .expect("the wait sends the exit status")
            .expect("the exit status decodes");
        assert_eq!(waited.status_code, 0);
        let logs = client
            .container_logs(ContainerLogsParams {
                id: id.clone(),
                stdout: Some(true),
                tty: true,
                ..ContainerLogsParams::default()
            })
            .await
            .expect("container logs answers");
        // A TTY turns the newline into CR LF; read as frames, these bytes
        // would be an unknown stream type ('t').
        assert_eq!(
            collect_text(logs, StreamKind::Stdout).await,
            "through a tty\r\n"
        );
        client
            .container_delete(ContainerDeleteParams {
                id,
                ..ContainerDeleteParams::default()
            })
            .await
            .expect("container remove succeeds");
    });
}
