//! A container's files and resources through a real drydockd process and the generated
//! client: `docker cp` (archive PUT, GET and HEAD with `X-Docker-Container-Path-Stat`),
//! uploads that try to leave the container's root (checked on the host's file system),
//! `docker export`, `docker diff`, `docker stats` and `docker update` (checked in the cgroup).
//! Needs root, runc, iproute2 and iptables.

mod support;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use drydock_client::models::{ContainerConfigCmd, ContainerCreateBody, ContainerUpdateBody};
use drydock_client::{
    Client, ContainerArchiveParams, ContainerChangesParams, ContainerCreateParams,
    ContainerExportParams, ContainerInspectParams, ContainerStatsParams, ContainerUpdateParams,
    Error, PutContainerArchiveParams,
};
use drydock_engine::cgroups::CgroupLayout;
use futures_util::StreamExt;
use support::DaemonProcess;

/// Creates a busybox container running `cmd`, and starts it when `start`.
async fn container(client: &Client, name: &str, cmd: &[&str], start: bool) -> String {
    let id = client
        .container_create(ContainerCreateParams {
            name: Some(name.to_owned()),
            body: ContainerCreateBody {
                image: Some("busybox".to_owned()),
                cmd: Some(ContainerConfigCmd::List(
                    cmd.iter().map(|s| (*s).to_owned()).collect(),
                )),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
        .id;
    if start {
        support::start(client, &id).await;
    }
    id
}

/// A tar of `(path, kind, content or link target)`: `d` folder, `f` file, `l` symlink, `h`
/// hard link.
fn tar_of(entries: &[(&str, char, &str)]) -> Vec<u8> {
    let mut archive = tar::Builder::new(Vec::new());
    for (path, kind, data) in entries {
        let mut header = tar::Header::new_gnu();
        header.set_mode(if *kind == 'd' { 0o755 } else { 0o644 });
        header.set_mtime(1_700_000_000);
        match kind {
            'd' => {
                header.set_entry_type(tar::EntryType::Directory);
                header.set_size(0);
                archive.append_data(&mut header, path, &[][..])
            }
            'l' | 'h' => {
                header.set_entry_type(if *kind == 'l' {
                    tar::EntryType::Symlink
                } else {
                    tar::EntryType::Link
                });
                header.set_size(0);
                archive.append_link(&mut header, path, data)
            }
            _ => {
                header.set_entry_type(tar::EntryType::Regular);
                header.set_size(data.len() as u64);
                archive.append_data(&mut header, path, data.as_bytes())
            }
        }
        .expect("an entry");
    }
    archive.into_inner().expect("the archive ends")
}

/// A tar with one entry named exactly `name` (which `tar::Builder` would refuse: `..`).
fn tar_with_raw_name(name: &str, content: &str) -> Vec<u8> {
    let mut header = tar::Header::new_ustar();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(tar::EntryType::Regular);
    header.set_mode(0o644);
    header.set_size(content.len() as u64);
    header.set_cksum();
    let mut archive = tar::Builder::new(Vec::new());
    archive
        .append(&header, content.as_bytes())
        .expect("an entry");
    archive.into_inner().expect("the archive ends")
}

async fn put(client: &Client, id: &str, path: &str, tar: Vec<u8>) -> Result<(), Error> {
    client
        .put_container_archive(PutContainerArchiveParams {
            id: id.to_owned(),
            path: path.to_owned(),
            no_overwrite_dir_non_dir: None,
            copy_uidgid: None,
            body: tar.into(),
        })
        .await
}

async fn collect(mut stream: drydock_client::ByteStream) -> Vec<u8> {
    let mut bytes = Vec::new();
    while let Some(chunk) = stream.next().await {
        bytes.extend_from_slice(&chunk.expect("a chunk"));
    }
    bytes
}

/// The entries of the tar of `path` in the container: name and, for files, content.
async fn get(client: &Client, id: &str, path: &str) -> Result<Vec<(String, String)>, Error> {
    let stream = client
        .container_archive(ContainerArchiveParams {
            id: id.to_owned(),
            path: path.to_owned(),
        })
        .await?;
    Ok(entries(&collect(stream).await))
}

fn entries(tar: &[u8]) -> Vec<(String, String)> {
    let mut archive = tar::Archive::new(tar);
    archive
        .entries()
        .expect("a tar")
        .map(|entry| {
            let mut entry = entry.expect("an entry");
            let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
            let mut content = Vec::new();
            if entry.header().entry_type() == tar::EntryType::Regular {
                entry.read_to_end(&mut content).expect("the content");
            }
            (name, String::from_utf8_lossy(&content).into_owned())
        })
        .collect()
}

/// The status and message of a daemon's refusal.
fn refusal(error: Error) -> (u16, String) {
    match error {
        Error::Daemon {
            status, message, ..
        } => (status, message),
        other => panic!("expected an answer from the daemon, got {other}"),
    }
}

/// The decoded `X-Docker-Container-Path-Stat` of a raw `method` request for `path` (HEAD or
/// GET), sent by hand because the client keeps no response headers.
fn path_stat(socket: &Path, method: &str, id: &str, path: &str) -> serde_json::Value {
    let mut stream = std::os::unix::net::UnixStream::connect(socket).expect("the socket");
    write!(
        stream,
        "{method} /v1.33/containers/{id}/archive?path={path} HTTP/1.0\r\nHost: drydock\r\n\r\n"
    )
    .expect("the request is sent");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).expect("the answer");
    let text = String::from_utf8_lossy(&answer);
    let head = text.split("\r\n\r\n").next().unwrap_or_default();
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "{head}"
    );
    let value = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("X-Docker-Container-Path-Stat")
                .then(|| value.trim().to_owned())
        })
        .unwrap_or_else(|| panic!("no stat header in {head}"));
    let json = base64::engine::general_purpose::STANDARD
        .decode(value)
        .expect("base64");
    serde_json::from_slice(&json).expect("JSON")
}

#[tokio::test]
async fn an_archive_put_into_a_container_comes_back_with_its_stat() {
    let (daemon, client) = DaemonProcess::with_busybox("files-roundtrip").await;
    let id = container(&client, "roundtrip", &["sleep", "300"], true).await;
    let upload = tar_of(&[
        ("d", 'd', ""),
        ("d/hello.txt", 'f', "hello from the host\n"),
        ("d/link", 'l', "hello.txt"),
    ]);
    put(&client, &id, "/tmp", upload).await.expect("the upload");
    assert_eq!(
        get(&client, &id, "/tmp/d").await.expect("the download"),
        [
            ("d/".to_owned(), String::new()),
            ("d/hello.txt".to_owned(), "hello from the host\n".to_owned()),
            ("d/link".to_owned(), String::new()),
        ]
    );
    // A path ending in `/.` names the folder's content.
    let content = get(&client, &id, "/tmp/d/.").await.expect("the download");
    assert_eq!(content[0].0, "./");
    let stat = path_stat(&daemon.socket(), "HEAD", &id, "/tmp/d/hello.txt");
    assert_eq!(stat["name"], "hello.txt");
    assert_eq!(stat["size"], 20);
    assert_eq!(stat["mode"], 0o644);
    assert_eq!(stat["mtime"], "2023-11-14T22:13:20Z");
    assert_eq!(stat["linkTarget"], "");
    let folder = path_stat(&daemon.socket(), "GET", &id, "/tmp/d");
    assert_eq!(
        folder["mode"].as_u64().expect("a mode") >> 31,
        1,
        "a folder"
    );
    let link = path_stat(&daemon.socket(), "HEAD", &id, "/tmp/d/link");
    assert_eq!(link["linkTarget"], "/tmp/d/hello.txt");
}

#[tokio::test]
async fn missing_paths_and_files_as_folders_are_refused_as_dockerd_refuses_them() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-errors").await;
    let id = container(&client, "errors", &["sleep", "300"], true).await;
    // The text names the container as the client named it.
    let missing = get(&client, "errors", "/nope")
        .await
        .expect_err("no such path");
    assert_eq!(
        refusal(missing),
        (
            404,
            "Could not find the file /nope in container errors".to_owned()
        )
    );
    let upload = tar_of(&[("x", 'f', "x")]);
    let into_file = put(&client, &id, "/etc/passwd", upload.clone()).await;
    assert_eq!(
        refusal(into_file.expect_err("not a folder")),
        (400, "extraction point is not a directory".to_owned())
    );
    let into_missing = put(&client, &id, "/nope", upload).await;
    assert_eq!(refusal(into_missing.expect_err("no such folder")).0, 404);
}

#[tokio::test]
async fn uploads_that_climb_out_or_follow_symlinks_out_never_write_outside_the_root() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-escape").await;
    let id = container(&client, "escape", &["sleep", "300"], true).await;
    let marker = format!("drydock-escape-{}", std::process::id());
    let host_marker = PathBuf::from("/tmp").join(&marker);
    let _ = std::fs::remove_file(&host_marker);

    // `..` as far up as it goes, out of the folder: refused whole, nothing written anywhere.
    let climb = || tar_with_raw_name(&format!("../../../../../../../../tmp/{marker}"), "out\n");
    let refused = put(&client, &id, "/root", climb())
        .await
        .expect_err("refused");
    let (status, message) = refusal(refused);
    assert_eq!(status, 400);
    assert!(message.contains("is outside of \"/root\""), "{message}");
    assert!(
        !host_marker.exists(),
        "the upload wrote {}",
        host_marker.display()
    );
    // The same climb from /tmp stays in the folder (`..` stops at the container's `/`), as in
    // dockerd: it lands in the container's /tmp, not the host's.
    put(&client, &id, "/tmp", climb())
        .await
        .expect("the climb into /tmp");
    assert!(
        !host_marker.exists(),
        "the upload wrote {}",
        host_marker.display()
    );
    assert_eq!(
        get(&client, &id, &format!("/tmp/{marker}"))
            .await
            .expect("in the container"),
        [(marker.clone(), "out\n".to_owned())]
    );

    // A symlink to `/` then a file through it: `/` is the container's, so the file lands in
    // the container's /tmp, never the host's.
    put(&client, &id, "/root", tar_of(&[("top", 'l', "/")]))
        .await
        .expect("a symlink to / is allowed, as in dockerd");
    put(
        &client,
        &id,
        "/root",
        tar_of(&[(&format!("top/root/{marker}"), 'f', "inside\n")]),
    )
    .await
    .expect("the upload through the symlink");
    let host_root_marker = PathBuf::from("/root").join(&marker);
    assert!(
        !host_root_marker.exists(),
        "the upload followed the symlink to the host"
    );
    assert_eq!(
        get(&client, &id, &format!("/root/{marker}"))
            .await
            .expect("in the container"),
        [(marker.clone(), "inside\n".to_owned())]
    );

    // A relative symlink that leads above the folder is refused, as dockerd refuses it.
    let out = tar_of(&[("up", 'l', "../../../../../../tmp"), ("up/x", 'f', "x")]);
    let (status, message) = refusal(put(&client, &id, "/root", out).await.expect_err("refused"));
    assert_eq!(status, 400);
    assert!(message.contains("invalid symlink"), "{message}");
    // Refused whole: not even the symlink, the first entry, was made.
    assert_eq!(
        refusal(get(&client, &id, "/root/up").await.expect_err("not made")).0,
        404
    );
}

#[tokio::test]
async fn hard_links_out_of_the_folder_and_bodies_that_are_no_tar_are_refused_and_write_nothing() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-hardlink").await;
    let id = container(&client, "hardlink", &["sleep", "300"], true).await;

    // A file, then a hard link leading above the folder (to the container's /etc/passwd,
    // which the host path it resolves to could as well be): refused whole, as dockerd does.
    let out = tar_of(&[("first", 'f', "x\n"), ("pw", 'h', "../etc/passwd")]);
    let (status, message) = refusal(put(&client, &id, "/root", out).await.expect_err("refused"));
    assert_eq!(status, 400);
    assert!(message.contains("invalid hardlink"), "{message}");
    for made in ["/root/first", "/root/pw"] {
        assert_eq!(
            refusal(get(&client, &id, made).await.expect_err("not made")).0,
            404,
            "{made}"
        );
    }
    // A hard link inside the folder is fine.
    put(
        &client,
        &id,
        "/root",
        tar_of(&[("a", 'f', "same\n"), ("b", 'h', "a")]),
    )
    .await
    .expect("a hard link within the folder");
    assert_eq!(
        get(&client, &id, "/root/b").await.expect("the link"),
        [("b".to_owned(), "same\n".to_owned())]
    );

    // A body that is no tar: a 400 saying so, nothing written.
    let (status, message) = refusal(
        put(&client, &id, "/root", b"this is not a tar archive".to_vec())
            .await
            .expect_err("refused"),
    );
    assert_eq!(status, 400, "{message}");
    assert!(message.contains("Error processing tar file"), "{message}");
}

#[tokio::test]
async fn export_lists_the_root_file_system_of_a_container_never_started() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-export").await;
    let id = container(&client, "export", &["true"], false).await;
    put(&client, &id, "/root", tar_of(&[("note", 'f', "kept\n")]))
        .await
        .expect("an upload into a container that never ran");
    let stream = client
        .container_export(ContainerExportParams { id: id.clone() })
        .await
        .expect("the export");
    let exported: BTreeMap<String, String> = entries(&collect(stream).await).into_iter().collect();
    for path in ["bin/", "bin/busybox", "etc/passwd", "root/note"] {
        assert!(
            exported.contains_key(path),
            "{path} missing from {exported:?}"
        );
    }
    assert_eq!(exported["root/note"], "kept\n");
    assert!(exported.keys().all(|path| !path.starts_with('/')));
}

#[tokio::test]
async fn changes_list_what_the_container_added_modified_and_deleted() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-changes").await;
    let script = "rm /bin/ls; mkdir -p /var/a; echo x > /root/new; touch /tmp/done; sleep 300";
    let id = container(&client, "changes", &["sh", "-c", script], true).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    let changes = loop {
        let changes: Vec<(String, i64)> = client
            .container_changes(ContainerChangesParams { id: id.clone() })
            .await
            .expect("the changes")
            .into_iter()
            .map(|c| (c.path.unwrap_or_default(), c.kind.map_or(-1, |k| k.value())))
            .collect();
        if changes.iter().any(|(path, _)| path == "/tmp/done") {
            break changes;
        }
        assert!(
            Instant::now() < deadline,
            "the script did not run: {changes:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for expected in [("/bin", 0), ("/bin/ls", 2), ("/root/new", 1), ("/var/a", 1)] {
        assert!(
            changes.contains(&(expected.0.to_owned(), expected.1)),
            "{expected:?} not in {changes:?}"
        );
    }
    // The files the engine makes for a container are not its changes: one that wrote
    // nothing has none.
    let untouched = container(&client, "untouched", &["sleep", "300"], true).await;
    let none = client
        .container_changes(ContainerChangesParams { id: untouched })
        .await
        .expect("the changes");
    assert!(none.is_empty(), "{none:?}");
    assert!(
        changes
            .iter()
            .all(|(path, _)| path != "/etc/hosts" && path != "/proc"),
        "{changes:?}"
    );
}

#[tokio::test]
async fn one_shot_stats_report_the_memory_and_cpu_of_a_running_sleep() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-stats").await;
    let id = container(&client, "stats", &["sleep", "300"], true).await;
    let mut frames = client
        .container_stats(ContainerStatsParams {
            id: id.clone(),
            stream: Some(false),
        })
        .await
        .expect("the stats");
    let frame = frames
        .next()
        .await
        .expect("one frame")
        .expect("the frame decodes");
    assert!(frames.next().await.is_none(), "one frame only");
    assert_eq!(frame["id"], id.as_str());
    assert_eq!(frame["name"], "/stats");
    let usage = frame["memory_stats"]["usage"].as_u64().expect("a usage");
    assert!(usage > 0, "memory in use: {frame:?}");
    assert!(frame["memory_stats"]["limit"].as_u64().expect("a limit") > usage);
    assert_eq!(frame["pids_stats"]["current"], 1);
    let cpu = &frame["cpu_stats"];
    assert!(cpu["online_cpus"].as_u64().expect("cpus") >= 1);
    assert!(cpu["cpu_usage"]["total_usage"].as_u64().expect("cpu time") > 0);
    // The one-shot frame carries the sample before it, so the CPU share can be computed.
    let before = frame["precpu_stats"]["system_cpu_usage"]
        .as_u64()
        .expect("a previous");
    assert!(cpu["system_cpu_usage"].as_u64().expect("system time") > before);
}

#[tokio::test]
async fn update_changes_the_memory_limit_in_the_cgroup_and_the_host_config() {
    let (daemon, client) = DaemonProcess::with_busybox("files-update").await;
    let id = container(&client, "update", &["sleep", "300"], true).await;
    let update = |memory: i64, swap: i64| ContainerUpdateParams {
        id: id.clone(),
        body: ContainerUpdateBody {
            memory: Some(memory),
            memory_swap: Some(swap),
            ..ContainerUpdateBody::default()
        },
    };
    let small = client.container_update(update(1024, 0)).await;
    assert_eq!(
        refusal(small.expect_err("too small")),
        (400, "Minimum memory limit allowed is 6MB".to_owned())
    );
    client
        .container_update(update(64 << 20, 128 << 20))
        .await
        .expect("the update");
    let cgroup = format!("{}/{id}", daemon.cgroup_parent());
    let dir = CgroupLayout::of_host()
        .expect("the cgroup layout")
        .memory_dir(&cgroup)
        .expect("a memory controller");
    let limit = ["memory.limit_in_bytes", "memory.max"]
        .iter()
        .find_map(|file| std::fs::read_to_string(dir.join(file)).ok())
        .expect("the limit file");
    assert_eq!(limit.trim(), (64_i64 << 20).to_string());
    let host = client
        .container_inspect(ContainerInspectParams {
            id: id.clone(),
            ..ContainerInspectParams::default()
        })
        .await
        .expect("inspect")
        .host_config
        .expect("a host config");
    assert_eq!(host.memory, Some(64 << 20));
    assert_eq!(host.memory_swap, Some(128 << 20));
}

#[tokio::test]
async fn copy_uid_gid_gives_uploads_the_container_users_ids() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-owner").await;
    let id = client
        .container_create(ContainerCreateParams {
            name: Some("owner".to_owned()),
            body: ContainerCreateBody {
                image: Some("busybox".to_owned()),
                user: Some("1234:5678".to_owned()),
                cmd: Some(ContainerConfigCmd::List(vec!["true".to_owned()])),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .expect("create")
        .id;
    let owners = |copy: Option<&str>, name: &str| {
        let (client, id, copy, name) = (&client, &id, copy.map(str::to_owned), name.to_owned());
        async move {
            client
                .put_container_archive(PutContainerArchiveParams {
                    id: id.clone(),
                    path: "/tmp".to_owned(),
                    no_overwrite_dir_non_dir: None,
                    copy_uidgid: copy,
                    body: tar_of(&[(&name, 'f', "x")]).into(),
                })
                .await
                .expect("the upload");
            let stream = client
                .container_archive(ContainerArchiveParams {
                    id: id.clone(),
                    path: format!("/tmp/{name}"),
                })
                .await
                .expect("the download");
            let tar = collect(stream).await;
            let mut archive = tar::Archive::new(&tar[..]);
            let entry = archive.entries().expect("a tar").next().expect("an entry");
            let header = entry.expect("an entry").header().clone();
            (header.uid().expect("a uid"), header.gid().expect("a gid"))
        }
    };
    assert_eq!(owners(Some("true"), "copied").await, (1234, 5678));
    assert_eq!(owners(None, "kept").await, (0, 0));
}

#[tokio::test]
async fn streamed_stats_come_every_second_each_with_the_one_before() {
    let (_daemon, client) = DaemonProcess::with_busybox("files-stream").await;
    let id = container(&client, "stream", &["sleep", "300"], true).await;
    let mut frames = client
        .container_stats(ContainerStatsParams {
            id,
            stream: Some(true),
        })
        .await
        .expect("the stats");
    let first = frames.next().await.expect("a frame").expect("decodes");
    let second = frames.next().await.expect("a frame").expect("decodes");
    assert_eq!(first["preread"], "0001-01-01T00:00:00Z");
    assert_eq!(second["preread"], first["read"]);
    assert_eq!(second["precpu_stats"], first["cpu_stats"]);
    let read = |frame: &BTreeMap<String, serde_json::Value>| {
        frame["read"]
            .as_str()
            .expect("a time")
            .parse::<drydock_engine::timestamp::Timestamp>()
            .expect("RFC 3339")
            .unix_seconds()
    };
    assert!(read(&second) - read(&first) >= 1, "{first:?} {second:?}");
}

#[tokio::test]
async fn copies_see_the_containers_volumes_binds_and_etc_files_running_or_stopped() {
    let (daemon, client) = DaemonProcess::with_busybox("files-mounts").await;
    let bound = PathBuf::from(format!("/tmp/drydock-files-bind-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&bound);
    std::fs::create_dir_all(&bound).expect("a host folder");
    std::fs::write(bound.join("b.txt"), "from the host\n").expect("a host file");
    let id = client
        .container_create(ContainerCreateParams {
            name: Some("mounts".to_owned()),
            body: ContainerCreateBody {
                image: Some("busybox".to_owned()),
                cmd: Some(ContainerConfigCmd::List(vec![
                    "sleep".to_owned(),
                    "300".to_owned(),
                ])),
                host_config: Some(drydock_client::models::HostConfig {
                    binds: Some(vec![
                        format!("{}:/srv:ro", bound.display()),
                        "files-vol:/data".to_owned(),
                    ]),
                    ..drydock_client::models::HostConfig::default()
                }),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .expect("create")
        .id;
    support::start(&client, &id).await;
    assert_eq!(
        get(&client, &id, "/srv/b.txt")
            .await
            .expect("through the bind"),
        [("b.txt".to_owned(), "from the host\n".to_owned())]
    );
    let refused = put(&client, &id, "/srv", tar_of(&[("x", 'f', "x")])).await;
    assert_eq!(
        refusal(refused.expect_err("a read-only bind")),
        (403, "mounted volume is marked read-only".to_owned())
    );
    assert!(!bound.join("x").exists());
    put(
        &client,
        &id,
        "/data",
        tar_of(&[("v.txt", 'f', "in the volume\n")]),
    )
    .await
    .expect("into the volume");
    let in_volume = daemon.data_root().join("volumes/files-vol/_data/v.txt");
    assert_eq!(
        std::fs::read_to_string(&in_volume).expect("the volume's file"),
        "in the volume\n"
    );
    assert_eq!(
        get(&client, &id, "/etc/hostname")
            .await
            .expect("the engine's file"),
        [("hostname".to_owned(), format!("{}\n", &id[..12]))]
    );
    client
        .container_stop(drydock_client::ContainerStopParams {
            id: id.clone(),
            t: Some(0),
        })
        .await
        .expect("stop");
    assert_eq!(
        get(&client, &id, "/data/v.txt")
            .await
            .expect("stopped, through the volume"),
        [("v.txt".to_owned(), "in the volume\n".to_owned())]
    );
    let _ = std::fs::remove_dir_all(&bound);
}
