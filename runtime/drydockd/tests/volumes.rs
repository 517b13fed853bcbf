//! The `Volumes` area of drydockd driven through the generated client: a daemon opened on a
//! private data root and served on a private unix socket in this process, its answers checked
//! against what dockerd (20.10) answers. The daemon sets up its default bridge network, so it
//! gets a bridge, chain prefix and subnet from a network test slot of its own (shared with the
//! engine's network tests), removed when the test ends. Needs root, iproute2 and iptables.

#[path = "../../engine/tests/support/slot.rs"]
mod slot;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};

use clap::Parser;
use drydock_client::models::{VolumeCreateBody, VolumeScope};
use drydock_client::{
    Client, ClientConfig, Error, Filters, VolumeCreateParams, VolumeDeleteParams,
    VolumeInspectParams, VolumeListParams, VolumePruneParams,
};
use drydock_engine::network::link;
use drydock_engine::network::nat::Firewall;
use drydock_runtime::server::listen;
use drydock_runtime::transport::DockerHost;
use drydockd::Daemon;
use drydockd::options::Cli;
use slot::Slot;

/// A daemon served in this process on a private folder and network slot.
struct Served {
    daemon: Daemon,
    socket: PathBuf,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    place: Place,
}

/// A test's folder and network slot: its bridge and chains and the folder are removed on
/// drop, also when the daemon failed to open.
struct Place {
    dir: PathBuf,
    slot: Slot,
}

impl Served {
    async fn start() -> Served {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let dir = PathBuf::from(format!(
            "/tmp/drydockd-volumes-{}-{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let place = Place {
            dir,
            slot: Slot::claim(),
        };
        let bip = format!("{}/24", place.slot.subnet(24).first_host());
        let cli = Cli::parse_from([
            "drydockd".into(),
            "--data-root".into(),
            place.dir.join("data").into_os_string(),
            "--exec-root".into(),
            place.dir.join("exec").into_os_string(),
            "--cgroup-parent".into(),
            "/drydock-test".into(),
            "--bridge".into(),
            place.slot.bridge().into(),
            "--bip".into(),
            bip.into(),
            "--iptables-chain".into(),
            place.slot.chain().into(),
        ] as [std::ffi::OsString; 13]);
        let daemon = Daemon::open(cli.options).await.expect("the daemon opens");
        let socket = place.dir.join("drydockd.sock");
        let listener = listen::bind_unix(&socket).expect("the socket binds");
        let server = tokio::spawn(listen::serve_unix(
            listener,
            drydock_server::router(daemon.clone()),
        ));
        Served {
            daemon,
            socket,
            server,
            place,
        }
    }

    /// A client pinned to API `version`.
    async fn client(&self, version: &str) -> Client {
        let mut config = ClientConfig::new(DockerHost::Unix(self.socket.clone()));
        config.api_version = Some(version.parse().expect("a version"));
        Client::connect(&config).await.expect("the client connects")
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Ok(firewall) = Firewall::new(&self.slot.chain(), &self.slot.bridge()) {
            let _ = firewall.uninstall();
        }
        let _ = link::delete_link(&self.slot.bridge());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn create(name: &str, labels: &[(&str, &str)]) -> VolumeCreateParams {
    VolumeCreateParams {
        body: VolumeCreateBody {
            name: Some(name.to_owned()),
            labels: Some(
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect(),
            ),
            driver_opts: Some(BTreeMap::new()),
            ..VolumeCreateBody::default()
        },
    }
}

/// The status and message of a daemon's error answer.
fn refusal(error: Error) -> (u16, String) {
    match error {
        Error::Daemon {
            status, message, ..
        } => (status, message),
        other => panic!("expected an answer from the daemon, got {other}"),
    }
}

async fn names(client: &Client, filters: Filters) -> Vec<String> {
    client
        .volume_list(VolumeListParams {
            filters: Some(filters),
        })
        .await
        .expect("volumes list")
        .volumes
        .into_iter()
        .map(|volume| volume.name)
        .collect()
}

#[tokio::test]
async fn a_created_volume_is_inspected_and_listed_as_dockerd_shows_it() {
    let served = Served::start().await;
    let client = served.client("1.33").await;
    let created = client
        .volume_create(create("web-data", &[("tier", "front")]))
        .await
        .expect("created");
    assert_eq!(created.name, "web-data");
    assert_eq!(created.driver, "local");
    assert_eq!(created.scope, Some(VolumeScope::Local));
    assert_eq!(
        created.mountpoint,
        served
            .place
            .dir
            .join("data/volumes/web-data/_data")
            .display()
            .to_string()
    );
    assert_eq!(created.labels["tier"], "front");
    assert_eq!(created.options, Some(BTreeMap::new()));
    let created_at = created.created_at.clone().expect("a creation time");
    assert!(
        created_at.ends_with('Z') && !created_at.contains('.'),
        "RFC 3339 to the second: {created_at}"
    );
    let inspected = client
        .volume_inspect(VolumeInspectParams {
            name: "web-data".to_owned(),
        })
        .await
        .expect("inspected");
    assert_eq!(inspected, created);
    let anonymous = client
        .volume_create(VolumeCreateParams::default())
        .await
        .expect("anonymous");
    assert_eq!(anonymous.name.len(), 64);
    let mut all = names(&client, Filters::new()).await;
    all.sort();
    let mut expected = vec![anonymous.name.clone(), "web-data".to_owned()];
    expected.sort();
    assert_eq!(all, expected);
    assert_eq!(
        names(&client, Filters::new().with("label", "tier=front")).await,
        ["web-data"]
    );
    assert_eq!(
        names(&client, Filters::new().with("name", "^web")).await,
        ["web-data"]
    );
    // API 1.30 has no CreatedAt: the answer is shaped for the version asked.
    let old = served.client("1.30").await;
    let at_1_30 = old
        .volume_inspect(VolumeInspectParams {
            name: "web-data".to_owned(),
        })
        .await
        .expect("inspected");
    assert_eq!(at_1_30.created_at, None);
}

#[tokio::test]
async fn unknown_volumes_filters_and_drivers_get_dockerds_errors() {
    let served = Served::start().await;
    let client = served.client("1.33").await;
    let missing = client
        .volume_inspect(VolumeInspectParams {
            name: "nosuchvol".to_owned(),
        })
        .await
        .expect_err("missing");
    assert_eq!(
        refusal(missing),
        (404, "get nosuchvol: no such volume".to_owned())
    );
    let filter = client
        .volume_list(VolumeListParams {
            filters: Some(Filters::new().with("colour", "red")),
        })
        .await
        .expect_err("unknown filter");
    assert_eq!(refusal(filter), (400, "Invalid filter 'colour'".to_owned()));
    let dangling = client
        .volume_list(VolumeListParams {
            filters: Some(Filters::new().with("dangling", "maybe")),
        })
        .await
        .expect_err("bad dangling");
    assert_eq!(
        refusal(dangling),
        (400, "Invalid filter 'dangling=[maybe]'".to_owned())
    );
    let driver = client
        .volume_create(VolumeCreateParams {
            body: VolumeCreateBody {
                name: Some("v1".to_owned()),
                driver: Some("convoy".to_owned()),
                ..VolumeCreateBody::default()
            },
        })
        .await
        .expect_err("no such driver");
    assert_eq!(
        refusal(driver),
        (
            404,
            "create v1: error looking up volume plugin convoy: plugin \"convoy\" not found"
                .to_owned()
        )
    );
    let name = client
        .volume_create(create("a", &[]))
        .await
        .expect_err("too short");
    assert_eq!(
        refusal(name),
        (
            400,
            "create a: volume name is too short, names should be at least two alphanumeric \
             characters"
                .to_owned()
        )
    );
    let option = client
        .volume_create(VolumeCreateParams {
            body: VolumeCreateBody {
                name: Some("v2".to_owned()),
                driver_opts: Some(BTreeMap::from([("type".to_owned(), "tmpfs".to_owned())])),
                ..VolumeCreateBody::default()
            },
        })
        .await
        .expect_err("missing device");
    assert_eq!(
        refusal(option),
        (
            400,
            "create v2: missing required option: \"device\"".to_owned()
        )
    );
}

#[tokio::test]
async fn a_volume_in_use_is_refused_removal_until_its_container_lets_go() {
    let served = Served::start().await;
    let client = served.client("1.33").await;
    client
        .volume_create(create("busy", &[]))
        .await
        .expect("created");
    served
        .daemon
        .volumes
        .acquire("busy", "c0ffee")
        .expect("a container references it");
    let delete = |force| VolumeDeleteParams {
        name: "busy".to_owned(),
        force: Some(force),
    };
    let refused = client
        .volume_delete(delete(true))
        .await
        .expect_err("in use");
    assert_eq!(
        refusal(refused),
        (409, "remove busy: volume is in use - [c0ffee]".to_owned())
    );
    assert_eq!(
        names(&client, Filters::new().with("dangling", "false")).await,
        ["busy"]
    );
    served
        .daemon
        .volumes
        .release("busy", "c0ffee")
        .expect("released");
    assert_eq!(
        names(&client, Filters::new().with("dangling", "true")).await,
        ["busy"]
    );
    client.volume_delete(delete(false)).await.expect("removed");
    let gone = client.volume_delete(delete(false)).await.expect_err("gone");
    assert_eq!(refusal(gone), (404, "get busy: no such volume".to_owned()));
    client
        .volume_delete(delete(true))
        .await
        .expect("force ignores a missing volume");
}

#[tokio::test]
async fn prune_removes_unused_volumes_by_label_and_reports_their_bytes() {
    let served = Served::start().await;
    let client = served.client("1.33").await;
    for (name, labels) in [
        ("old", &[("env", "test")][..]),
        ("kept", &[("keep", "")][..]),
        ("used", &[("env", "test")][..]),
    ] {
        let volume = client
            .volume_create(create(name, labels))
            .await
            .expect("created");
        std::fs::write(PathBuf::from(&volume.mountpoint).join("blob"), [1u8; 100])
            .expect("content");
    }
    served
        .daemon
        .volumes
        .acquire("used", "c0ffee")
        .expect("in use");
    let pruned = client
        .volume_prune(VolumePruneParams {
            filters: Some(Filters::new().with("label!", "keep")),
        })
        .await
        .expect("pruned");
    assert_eq!(pruned.volumes_deleted, Some(vec!["old".to_owned()]));
    assert_eq!(pruned.space_reclaimed, Some(100));
    let invalid = client
        .volume_prune(VolumePruneParams {
            filters: Some(Filters::new().with("dangling", "true")),
        })
        .await
        .expect_err("not a prune filter");
    assert_eq!(
        refusal(invalid),
        (400, "Invalid filter 'dangling'".to_owned())
    );
    let mut left = names(&client, Filters::new()).await;
    left.sort();
    assert_eq!(left, ["kept", "used"]);
}
