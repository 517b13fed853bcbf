//! A container's mounts in a real drydockd, driven through the generated client: named and
//! anonymous volumes through `docker rm -v`, read-only binds, an image's `VOLUME` copied up,
//! tmpfs mounts, the `/etc` files Docker writes, `Mounts` in inspect and `docker ps` with its
//! `volume` filter, volume events, and `docker system df`, each checked against what dockerd
//! (20.10) does. The containers run in busybox under the real runc; their output is read
//! back with `docker logs`. Needs root, runc, iproute2, iptables and busybox-static.

mod support;

use std::time::{SystemTime, UNIX_EPOCH};

use drydock_client::models::{
    ContainerCreateBody, ContainerInspectResponse, ContainerWaitCondition, MountPoint,
    SystemEventsResponse,
};
use drydock_client::{
    Client, ContainerCreateParams, ContainerDeleteParams, ContainerListParams,
    ContainerStartParams, ContainerWaitParams, Filters, SystemEventsParams, VolumeDeleteParams,
    VolumeInspectParams, VolumeListParams,
};
use futures_util::StreamExt;
use serde_json::json;
use support::{DaemonProcess, create, inspect, run, start_and_wait};

/// The newest API version, which every check here speaks.
const API: &str = "1.33";

async fn remove(client: &Client, id: &str, volumes: bool) {
    client
        .container_delete(ContainerDeleteParams {
            id: id.to_owned(),
            v: Some(volumes),
            ..ContainerDeleteParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("rm {id}: {e}"));
}

async fn volume_names(client: &Client) -> Vec<String> {
    let mut names: Vec<String> = client
        .volume_list(VolumeListParams::default())
        .await
        .expect("volumes list")
        .volumes
        .into_iter()
        .map(|volume| volume.name)
        .collect();
    names.sort();
    names
}

/// The names of the anonymous volumes (64 hex digits) of a container, from inspect.
fn anonymous_volumes(inspect: &ContainerInspectResponse) -> Vec<String> {
    inspect
        .mounts
        .iter()
        .flatten()
        .filter_map(|mount| mount.name.clone())
        .filter(|name| name.len() == 64)
        .collect()
}

/// Now, as the events API takes a time: seconds and nanoseconds.
fn now() -> String {
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after the epoch");
    format!("{}.{:09}", since.as_secs(), since.subsec_nanos())
}

/// The events of `kind` between `since` and now, as `action name` lines.
async fn events(client: &Client, kind: &str, since: &str) -> Vec<String> {
    let mut stream = client
        .system_events(SystemEventsParams {
            since: Some(since.to_owned()),
            until: Some(now()),
            filters: Some(Filters::new().with("type", kind)),
        })
        .await
        .expect("events answer");
    let mut lines = Vec::new();
    while let Some(event) = stream.next().await {
        let event: SystemEventsResponse = event.expect("an event decodes");
        let actor = event.actor.and_then(|actor| actor.id).unwrap_or_default();
        lines.push(format!("{} {actor}", event.action.unwrap_or_default()));
    }
    lines
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_volume_outlives_its_container_and_rm_v_removes_only_anonymous_volumes() {
    let (_daemon, client) = DaemonProcess::with_busybox("mounts-named").await;
    let writer = create(
        &client,
        "writer",
        json!({
            "Cmd": ["sh", "-c", "echo kept > /data/f; echo scratch > /anon/f"],
            "Volumes": {"/anon": {}},
            "HostConfig": {"Binds": ["keep:/data"]}
        }),
    )
    .await;
    assert_eq!(start_and_wait(&client, &writer).await.0, 0);
    let anonymous = anonymous_volumes(&inspect(&client, &writer).await);
    assert_eq!(anonymous.len(), 1, "`Volumes` gives an anonymous volume");
    let anonymous = anonymous[0].clone();
    // Another container names the anonymous volume: `rm -v` leaves it to that one.
    let holder = create(
        &client,
        "holder",
        json!({"Cmd": ["cat", "/x/f"], "HostConfig": {"Binds": [format!("{anonymous}:/x")]}}),
    )
    .await;
    remove(&client, &writer, true).await;
    assert_eq!(
        volume_names(&client).await,
        [anonymous.clone(), "keep".to_owned()],
        "a named volume survives rm -v, and so does an anonymous one in use"
    );
    let refused = client
        .volume_delete(VolumeDeleteParams {
            name: anonymous.clone(),
            force: None,
        })
        .await
        .expect_err("a volume in use is not removed");
    assert_eq!(
        support::refusal(refused),
        (
            409,
            format!("remove {anonymous}: volume is in use - [{holder}]")
        )
    );
    assert_eq!(
        start_and_wait(&client, &holder).await,
        (0, "scratch\n".to_owned())
    );
    remove(&client, &holder, true).await;
    assert_eq!(
        volume_names(&client).await,
        [anonymous.clone(), "keep".to_owned()],
        "the holder named it: rm -v keeps it, as dockerd does"
    );
    client
        .volume_delete(VolumeDeleteParams {
            name: anonymous,
            force: None,
        })
        .await
        .expect("a volume no container uses is removed");
    let (_, output) = run(
        &client,
        "reader",
        json!({"Cmd": ["cat", "/data/f"], "HostConfig": {"Binds": ["keep:/data"]}}),
    )
    .await;
    assert_eq!(
        output, "kept\n",
        "the named volume's content outlived its writer"
    );
    // `--rm` removes anonymous volumes as `rm -v` does.
    let auto = create(
        &client,
        "auto",
        json!({"Cmd": ["true"], "Volumes": {"/v": {}}, "HostConfig": {"AutoRemove": true}}),
    )
    .await;
    let mut removed = client
        .container_wait(ContainerWaitParams {
            id: auto.clone(),
            condition: Some(ContainerWaitCondition::Removed),
        })
        .await
        .expect("wait answers");
    assert_eq!(
        volume_names(&client).await.len(),
        2,
        "`--rm` made its volume"
    );
    client
        .container_start(ContainerStartParams {
            id: auto,
            ..ContainerStartParams::default()
        })
        .await
        .expect("starts");
    removed
        .next()
        .await
        .expect("the wait answers")
        .expect("decodes");
    assert_eq!(volume_names(&client).await, ["keep"]);
    // Without -v an anonymous volume stays, as in dockerd.
    let plain = create(
        &client,
        "plain",
        json!({"Cmd": ["true"], "Volumes": {"/v": {}}}),
    )
    .await;
    let left = anonymous_volumes(&inspect(&client, &plain).await);
    remove(&client, &plain, false).await;
    assert!(volume_names(&client).await.contains(&left[0]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_bind_shows_the_host_folder_and_refuses_writes() {
    let (daemon, client) = DaemonProcess::with_busybox("mounts-bind").await;
    let host = daemon.data_root().with_file_name("host-folder");
    std::fs::create_dir_all(&host).expect("a host folder");
    std::fs::write(host.join("h"), "from the host\n").expect("a host file");
    let (code, output) = run(
        &client,
        "binder",
        json!({
            "Cmd": ["sh", "-c", "exec 2>&1; cat /h/h; echo x > /h/new || echo refused"],
            "HostConfig": {"Binds": [format!("{}:/h:ro", host.display())]}
        }),
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "from the host\nsh: can't create /h/new: Read-only file system\nrefused\n"
    );
    assert!(!host.join("new").exists());
}

/// A container's mounts as `(destination, type, mode, writable)`, by destination.
fn mount_shapes(inspect: &ContainerInspectResponse) -> Vec<(String, String, String, bool)> {
    let mut shapes: Vec<_> = inspect
        .mounts
        .iter()
        .flatten()
        .map(|mount| {
            (
                mount.destination.clone().unwrap_or_default(),
                mount
                    .r#type
                    .as_ref()
                    .map(|kind| kind.as_str().to_owned())
                    .unwrap_or_default(),
                mount.mode.clone().unwrap_or_default(),
                mount.rw == Some(true),
            )
        })
        .collect();
    shapes.sort();
    shapes
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_from_shares_another_containers_volumes_and_binds_read_only_with_ro() {
    let (daemon, client) = DaemonProcess::with_busybox("mounts-from").await;
    let host = daemon.data_root().with_file_name("from-host");
    std::fs::create_dir_all(&host).expect("a host folder");
    std::fs::write(host.join("h"), "host\n").expect("a host file");
    let source = create(
        &client,
        "source",
        json!({
            "Cmd": ["sh", "-c", "echo anonymous > /data/f; echo named > /named/f"],
            "Volumes": {"/data": {}},
            "HostConfig": {"Binds": ["shared:/named", format!("{}:/h:ro", host.display())]}
        }),
    )
    .await;
    assert_eq!(start_and_wait(&client, &source).await.0, 0);
    let anonymous = anonymous_volumes(&inspect(&client, &source).await);
    // The taker reads and writes the source's volumes and reads its read-only bind.
    let taker = create(
        &client,
        "taker",
        json!({
            "Cmd": ["sh", "-c", "cat /data/f /named/f /h/h; echo more >> /data/f"],
            "HostConfig": {"VolumesFrom": ["source"]}
        }),
    )
    .await;
    assert_eq!(
        start_and_wait(&client, &taker).await,
        (0, "anonymous\nnamed\nhost\n".to_owned())
    );
    let shapes = |items: &[(&str, &str, bool)]| {
        items
            .iter()
            .map(|(dst, kind, rw)| ((*dst).to_owned(), (*kind).to_owned(), String::new(), *rw))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        mount_shapes(&inspect(&client, &taker).await),
        shapes(&[
            ("/data", "volume", true),
            ("/h", "bind", false),
            ("/named", "volume", true)
        ]),
        "dockerd shows taken mounts with no mode, writable as they were"
    );
    assert_eq!(
        anonymous_volumes(&inspect(&client, &taker).await),
        anonymous
    );
    // `:ro` makes every taken mount read-only; a bind at a taken place wins.
    let (code, output) = run(
        &client,
        "reader",
        json!({
            "Cmd": ["sh", "-c", "exec 2>&1; cat /data/f; echo x > /named/g || ls /data"],
            "HostConfig": {
                "VolumesFrom": ["source:ro"],
                "Binds": [format!("{}:/data", host.display())]
            }
        }),
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "cat: can't open '/data/f': No such file or directory\n\
         sh: can't create /named/g: Read-only file system\nh\n"
    );
    let reader = inspect(&client, "reader").await;
    assert_eq!(
        mount_shapes(&reader),
        [
            ("/data".to_owned(), "bind".to_owned(), String::new(), true),
            ("/h".to_owned(), "bind".to_owned(), String::new(), false),
            (
                "/named".to_owned(),
                "volume".to_owned(),
                String::new(),
                false
            ),
        ]
    );
    // Refused as dockerd refuses them, with nothing left behind.
    for (from, message) in [
        ("nosuch", "No such container: nosuch"),
        ("source:nocopy", "invalid mode: nocopy"),
        ("", "volumes-from specification cannot be an empty string"),
    ] {
        let body: ContainerCreateBody = serde_json::from_value(json!({
            "Image": "busybox", "Cmd": ["true"], "HostConfig": {"VolumesFrom": [from]}
        }))
        .expect("a create body");
        let refused = client
            .container_create(ContainerCreateParams {
                name: Some("refused".to_owned()),
                body,
            })
            .await
            .expect_err("refused");
        assert_eq!(
            support::refusal(refused),
            (400, message.to_owned()),
            "{from}"
        );
    }
    let all = client
        .container_list(ContainerListParams {
            all: Some(true),
            ..ContainerListParams::default()
        })
        .await
        .expect("containers list");
    assert_eq!(all.len(), 3, "no refused create left a container");
    // The anonymous volume stays while a taker holds it, and goes with the last one's -v.
    remove(&client, &source, true).await;
    assert_eq!(
        volume_names(&client).await,
        [anonymous[0].clone(), "shared".to_owned()]
    );
    remove(&client, "reader", true).await;
    remove(&client, &taker, true).await;
    assert_eq!(volume_names(&client).await, ["shared"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_image_volume_gets_an_anonymous_volume_with_the_image_content_copied_once() {
    let daemon = DaemonProcess::start("mounts-copy");
    let client = daemon.client(API).await;
    daemon
        .import(
            &client,
            support::rootfs_tar::busybox_rootfs_with(&[(
                "srv/data/hello",
                b"hello from the image\n",
            )]),
            "withdata",
            &["VOLUME /srv/data"],
        )
        .await;
    let since = now();
    let id = create(
        &client,
        "copier",
        json!({
            "Image": "withdata",
            "Cmd": ["sh", "-c", "exec 2>&1; cat /srv/data/*; rm /srv/data/hello"]
        }),
    )
    .await;
    let name = anonymous_volumes(&inspect(&client, &id).await)
        .pop()
        .expect("the image's volume is an anonymous volume");
    let first = "hello from the image\n";
    assert_eq!(start_and_wait(&client, &id).await, (0, first.to_owned()));
    let data = client
        .volume_inspect(VolumeInspectParams { name: name.clone() })
        .await
        .expect("the volume exists")
        .mountpoint;
    assert_eq!(
        std::fs::read_dir(&data)
            .expect("the volume's folder")
            .count(),
        0,
        "the container emptied the volume"
    );
    // A second start does not copy again: the emptied volume stays empty.
    let (_, again) = start_and_wait(&client, &id).await;
    assert_eq!(
        again,
        format!(
            "{first}\
             cat: can't open '/srv/data/*': No such file or directory\n\
             rm: can't remove '/srv/data/hello': No such file or directory\n"
        )
    );
    remove(&client, &id, true).await;
    assert_eq!(
        events(&client, "volume", &since).await,
        [
            format!("create {name}"),
            format!("mount {name}"),
            format!("unmount {name}"),
            format!("mount {name}"),
            format!("unmount {name}"),
            format!("destroy {name}"),
        ],
        "the volume events dockerd publishes"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tmpfs_mounts_have_dockers_options_and_inspect_lists_only_mount_points() {
    let (_daemon, client) = DaemonProcess::with_busybox("mounts-tmpfs").await;
    let id = create(
        &client,
        "tmpfs",
        json!({
            "Cmd": ["sh", "-c", "grep -E ' /(run|t) ' /proc/mounts"],
            "HostConfig": {
                "Tmpfs": {"/run": "size=1m,exec"},
                "Mounts": [{"Type": "tmpfs", "Target": "/t",
                            "TmpfsOptions": {"SizeBytes": 65536, "Mode": 448}}]
            }
        }),
    )
    .await;
    let (code, output) = start_and_wait(&client, &id).await;
    assert_eq!(code, 0);
    let mut lines: Vec<&str> = output.lines().collect();
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "tmpfs /run tmpfs rw,nosuid,nodev,relatime,size=1024k 0 0",
            "tmpfs /t tmpfs rw,nosuid,nodev,noexec,relatime,size=64k,mode=700 0 0",
        ]
    );
    let mounts = inspect(&client, &id)
        .await
        .mounts
        .expect("inspect lists Mounts");
    assert_eq!(
        serde_json::to_value(&mounts).expect("serialises"),
        json!([{"Type": "tmpfs", "Source": "", "Destination": "/t", "Mode": "", "RW": true,
                "Propagation": ""}]),
        "`--tmpfs` is no mount point; `--mount type=tmpfs` is"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etc_hostname_hosts_and_resolv_conf_are_written_as_docker_writes_them() {
    let (_daemon, client) = DaemonProcess::with_busybox("mounts-etc").await;
    let cat = json!(["sh", "-c", "cat /etc/hostname /etc/hosts /etc/resolv.conf"]);
    let (code, output) = run(
        &client,
        "etc-files",
        json!({
            "Cmd": cat,
            "Hostname": "web",
            "Domainname": "example.com",
            "HostConfig": {
                "NetworkMode": "none",
                "ExtraHosts": ["db:10.1.2.3", "v6:fd00::1"],
                "Dns": ["10.9.9.9"],
                "DnsSearch": ["corp.example"],
                "DnsOptions": ["ndots:2"]
            }
        }),
    )
    .await;
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "web\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n\
         10.1.2.3\tdb\n\
         fd00::1\tv6\n\
         search corp.example\n\
         nameserver 10.9.9.9\n\
         options ndots:2\n"
    );
    // Without a host name the container's is its id's first 12 digits, as in dockerd.
    let id = create(
        &client,
        "default-name",
        json!({"Cmd": ["cat", "/etc/hostname"], "HostConfig": {"NetworkMode": "none"}}),
    )
    .await;
    assert_eq!(
        inspect(&client, &id).await.config.and_then(|c| c.hostname),
        Some(id[..12].to_owned())
    );
    assert_eq!(
        start_and_wait(&client, &id).await.1,
        format!("{}\n", &id[..12])
    );
    // On the host's network the host's hosts file, read-only with a read-only root.
    let (_, hosts) = run(
        &client,
        "host-net",
        json!({
            "Cmd": ["sh", "-c", "exec 2>&1; cat /etc/hosts; echo x >> /etc/hosts || echo refused"],
            "HostConfig": {"NetworkMode": "host", "ReadonlyRootfs": true}
        }),
    )
    .await;
    let host_hosts = std::fs::read_to_string("/etc/hosts").expect("the host has /etc/hosts");
    assert_eq!(
        hosts,
        format!("{host_hosts}sh: can't create /etc/hosts: Read-only file system\nrefused\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inspect_and_ps_show_mounts_as_dockerd_and_ps_filters_by_volume() {
    let (daemon, client) = DaemonProcess::with_busybox("mounts-inspect").await;
    let host = daemon.data_root().with_file_name("bound");
    std::fs::create_dir_all(&host).expect("a host folder");
    let id = create(
        &client,
        "shown",
        json!({
            "Cmd": ["true"],
            "HostConfig": {
                "Binds": [format!("{}:/srv:ro", host.display()), "data:/data"],
                "Mounts": [{"Type": "volume", "Source": "cache", "Target": "/cache",
                            "ReadOnly": true}]
            }
        }),
    )
    .await;
    let volumes = daemon.data_root().join("volumes");
    let expected = json!([
        {"Type": "volume", "Name": "cache",
         "Source": volumes.join("cache/_data").display().to_string(),
         "Destination": "/cache", "Driver": "local", "Mode": "z", "RW": false,
         "Propagation": ""},
        {"Type": "volume", "Name": "data",
         "Source": volumes.join("data/_data").display().to_string(),
         "Destination": "/data", "Driver": "local", "Mode": "z", "RW": true,
         "Propagation": ""},
        {"Type": "bind", "Source": host.display().to_string(), "Destination": "/srv",
         "Mode": "ro", "RW": false, "Propagation": "rprivate"}
    ]);
    let shown = |mounts: Option<Vec<MountPoint>>| {
        serde_json::to_value(mounts.expect("Mounts are listed")).expect("serialises")
    };
    assert_eq!(shown(inspect(&client, &id).await.mounts), expected);
    let list = |filter: &str| {
        let client = &client;
        let filters = Filters::new().with("volume", filter);
        async move {
            client
                .container_list(ContainerListParams {
                    all: Some(true),
                    filters: Some(filters),
                    ..ContainerListParams::default()
                })
                .await
                .expect("ps answers")
        }
    };
    let rows = list("data").await;
    assert_eq!(rows.len(), 1, "a volume's name matches");
    assert_eq!(shown(rows[0].mounts.clone()), expected, "ps shows the same");
    assert_eq!(list("/cache").await.len(), 1, "a destination matches");
    assert_eq!(
        list(&host.display().to_string()).await.len(),
        1,
        "a bind's source matches"
    );
    assert!(list("other").await.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_df_counts_layers_images_containers_and_volumes_as_dockerd() {
    let daemon = DaemonProcess::start("mounts-df");
    let client = daemon.client(API).await;
    let busybox = daemon.import_busybox(&client).await;
    // The same layer under a second image: shared by both.
    let labelled = daemon
        .import(
            &client,
            support::busybox_rootfs(),
            "labelled",
            &["LABEL tier=test"],
        )
        .await;
    let (code, _) = run(
        &client,
        "filler",
        json!({
            "Cmd": ["sh", "-c", "head -c 100000 /dev/zero > /big; head -c 1234 /dev/zero > /v/f"],
            "HostConfig": {"Binds": ["sized:/v"]}
        }),
    )
    .await;
    assert_eq!(code, 0);
    create(&client, "idle", json!({"Cmd": ["true"]})).await;
    let usage = client.system_data_usage().await.expect("df answers");
    let images = usage.images.expect("images");
    let image = |id: &str| {
        images
            .iter()
            .find(|image| image.id == id)
            .unwrap_or_else(|| panic!("{id} is listed"))
    };
    let layer = image(&busybox).size;
    assert!(layer > 100_000, "busybox's layer has a size: {layer}");
    assert_eq!(
        usage.layers_size,
        Some(layer),
        "the shared layer counts once"
    );
    assert_eq!(
        (image(&busybox).containers, image(&busybox).shared_size),
        (2, layer)
    );
    assert_eq!(
        (image(&labelled).containers, image(&labelled).shared_size),
        (0, layer)
    );
    let containers = usage.containers.expect("containers");
    let sizes: Vec<(String, Option<i64>, Option<i64>)> = containers
        .iter()
        .map(|c| {
            let name = c.names.iter().flatten().next().cloned().unwrap_or_default();
            (name, c.size_rw, c.size_root_fs)
        })
        .collect();
    assert_eq!(
        sizes,
        [
            ("/idle".to_owned(), Some(0), Some(layer)),
            ("/filler".to_owned(), Some(100_000), Some(layer + 100_000)),
        ],
        "newest first; a container's changes exclude its volumes"
    );
    let volumes = usage.volumes.expect("volumes");
    let [volume] = &volumes[..] else {
        panic!("one volume: {volumes:?}")
    };
    assert_eq!(volume.name, "sized");
    let usage_data = volume.usage_data.clone().flatten().expect("UsageData");
    assert_eq!((usage_data.size, usage_data.ref_count), (1234, 1));
}
