//! The `Networks` area of a real drydockd, driven through the generated client: the three
//! default networks as dockerd lists and inspects them, and dockerd's answers to creating,
//! removing, connecting and pruning them. The daemon runs as a child process on a private
//! socket, data root and exec root, with a bridge, chain prefix and subnet from a slot of its
//! own (shared with the engine's network tests), all removed when the test ends. Needs root,
//! iproute2 and iptables.

#[path = "../../engine/tests/support/slot.rs"]
mod slot;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use drydock_client::models::NetworkCreateBody;
use drydock_client::{
    ApiVersion, Client, ClientConfig, Error, Filters, NetworkConnectParams, NetworkCreateParams,
    NetworkDeleteParams, NetworkInspectParams, NetworkListParams, NetworkPruneParams,
};
use drydock_engine::network::link;
use drydock_engine::network::nat::Firewall;

use slot::Slot;

/// How long the daemon may take to answer for the first time.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// A drydockd child process in a folder of its own; stopped, its bridge and chains removed
/// and its folder deleted on drop.
struct TestDaemon {
    child: Option<Child>,
    dir: PathBuf,
    slot: Slot,
}

impl TestDaemon {
    fn start(name: &str) -> TestDaemon {
        let slot = Slot::claim();
        let dir = PathBuf::from(format!("/tmp/ddd-net-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("the daemon's folder");
        let mut daemon = TestDaemon {
            child: None,
            dir,
            slot,
        };
        daemon.spawn();
        daemon
    }

    fn socket(&self) -> PathBuf {
        self.dir.join("drydock.sock")
    }

    /// Runs drydockd on the folder (again).
    fn spawn(&mut self) {
        let bip = format!("{}/24", self.slot.subnet(24).first_host());
        let log = std::fs::File::create(self.dir.join("daemon.log")).expect("a log");
        let child = Command::new(env!("CARGO_BIN_EXE_drydockd"))
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .arg("--data-root")
            .arg(self.dir.join("data"))
            .arg("--exec-root")
            .arg(self.dir.join("exec"))
            .args(["--bridge", &self.slot.bridge(), "--bip", &bip])
            .args(["--iptables-chain", &self.slot.chain()])
            .args(["--cgroup-parent", "/drydock-test"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .expect("drydockd runs");
        self.child = Some(child);
    }

    /// Stops the daemon with SIGTERM and waits for it.
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            // SAFETY: kill(2) has no memory-safety preconditions; the pid is our child's.
            unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
            let _ = child.wait();
        }
    }

    /// A client at `version` (the newest when `None`), once the daemon answers.
    async fn client(&self, version: Option<ApiVersion>) -> Client {
        let host = format!("unix://{}", self.socket().display());
        let mut config =
            ClientConfig::from_vars(|name| (name == "DOCKER_HOST").then(|| host.clone()))
                .expect("a client config");
        config.api_version = version;
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(client) = Client::connect(&config).await
                && client.system_ping().await.is_ok()
            {
                return client;
            }
            let log = std::fs::read_to_string(self.dir.join("daemon.log")).unwrap_or_default();
            assert!(
                Instant::now() < deadline,
                "drydockd did not answer within {START_TIMEOUT:?}: {log}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        self.stop();
        // dockerd leaves its bridge and rules when it stops; so does drydockd.
        if let Ok(firewall) = Firewall::new(&self.slot.chain(), &self.slot.bridge()) {
            let _ = firewall.uninstall();
        }
        let _ = link::delete_link(&self.slot.bridge());
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The status and message of a daemon's error answer.
fn refusal(error: Error) -> (u16, String) {
    match error {
        Error::Daemon {
            status, message, ..
        } => (status, message),
        other => panic!("not a daemon's answer: {other}"),
    }
}

fn filters(pairs: &[(&str, &str)]) -> Option<Filters> {
    let mut filters = Filters::new();
    for (key, value) in pairs {
        filters.insert(*key, *value);
    }
    Some(filters)
}

async fn names(client: &Client, filters: Option<Filters>) -> Vec<String> {
    let mut names: Vec<String> = client
        .network_list(NetworkListParams { filters })
        .await
        .expect("lists")
        .into_iter()
        .filter_map(|network| network.name)
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn the_default_networks_list_and_inspect_as_dockerd_shows_them() {
    let daemon = TestDaemon::start("list");
    let client = daemon.client(None).await;
    let networks = client
        .network_list(NetworkListParams::default())
        .await
        .expect("lists");
    assert_eq!(networks.len(), 3);
    let bridge = networks
        .iter()
        .find(|network| network.name.as_deref() == Some("bridge"))
        .expect("bridge");
    assert_eq!(bridge.driver.as_deref(), Some("bridge"));
    assert_eq!(bridge.scope.as_deref(), Some("local"));
    assert_eq!(bridge.id.as_ref().map(String::len), Some(64));
    let options = bridge.options.clone().unwrap_or_default();
    assert_eq!(
        options.get("com.docker.network.bridge.name"),
        Some(&daemon.slot.bridge())
    );
    let config = bridge
        .ipam
        .as_ref()
        .and_then(|ipam| ipam.config.clone())
        .unwrap_or_default();
    let subnet = daemon.slot.subnet(24);
    assert_eq!(
        config[0].get("Subnet").map(String::as_str),
        Some(subnet.to_string().as_str())
    );
    assert_eq!(
        config[0].get("Gateway").map(String::as_str),
        Some(subnet.first_host().to_string().as_str())
    );
    let drivers: Vec<Option<String>> = ["host", "none"]
        .iter()
        .map(|name| {
            networks
                .iter()
                .find(|network| network.name.as_deref() == Some(*name))
                .and_then(|network| network.driver.clone())
        })
        .collect();
    assert_eq!(drivers, [Some("host".to_owned()), Some("null".to_owned())]);

    let id = bridge.id.clone().expect("an id");
    for reference in [id.as_str(), &id[..12], "bridge"] {
        let inspected = client
            .network_inspect(NetworkInspectParams {
                id: reference.to_owned(),
                ..NetworkInspectParams::default()
            })
            .await
            .expect("inspects");
        assert_eq!(&inspected, bridge, "inspect {reference}");
    }
    let missing = client
        .network_inspect(NetworkInspectParams {
            id: "nosuchnetwork".to_owned(),
            ..NetworkInspectParams::default()
        })
        .await
        .expect_err("unknown");
    assert_eq!(
        refusal(missing),
        (404, "network nosuchnetwork not found".to_owned())
    );

    assert_eq!(
        names(&client, filters(&[("driver", "null")])).await,
        ["none"]
    );
    assert_eq!(
        names(&client, filters(&[("name", "o")])).await,
        ["host", "none"]
    );
    assert!(
        names(&client, filters(&[("type", "custom")]))
            .await
            .is_empty()
    );
    assert!(
        names(&client, filters(&[("dangling", "true")]))
            .await
            .is_empty()
    );
    assert_eq!(
        names(&client, filters(&[("type", "builtin")])).await.len(),
        3
    );
    let bad = client
        .network_list(NetworkListParams {
            filters: filters(&[("colour", "blue")]),
        })
        .await
        .expect_err("an unknown filter");
    assert_eq!(refusal(bad), (400, "invalid filter 'colour'".to_owned()));

    let old = daemon.client(Some(ApiVersion::new(1, 24))).await;
    let listed = old
        .network_list(NetworkListParams::default())
        .await
        .expect("lists at 1.24");
    assert_eq!(listed.len(), 3);
}

#[tokio::test]
async fn predefined_networks_cannot_be_created_removed_or_pruned_and_others_are_not_supported() {
    let daemon = TestDaemon::start("refusals");
    let client = daemon.client(None).await;
    let create = |name: &str| NetworkCreateParams {
        body: NetworkCreateBody {
            name: name.to_owned(),
            ..NetworkCreateBody::default()
        },
    };
    let predefined = client
        .network_create(create("bridge"))
        .await
        .expect_err("predefined");
    assert_eq!(
        refusal(predefined),
        (
            403,
            "operation is not permitted on predefined bridge network".to_owned()
        )
    );
    let (status, message) = refusal(
        client
            .network_create(create("mynet"))
            .await
            .expect_err("user-defined"),
    );
    assert_eq!(status, 501);
    assert!(message.contains("user-defined networks"), "{message}");
    let removed = client
        .network_delete(NetworkDeleteParams {
            id: "host".to_owned(),
        })
        .await
        .expect_err("predefined");
    assert_eq!(
        refusal(removed),
        (
            403,
            "host is a pre-defined network and cannot be removed".to_owned()
        )
    );
    let unknown = client
        .network_delete(NetworkDeleteParams {
            id: "nosuchnetwork".to_owned(),
        })
        .await
        .expect_err("unknown");
    assert_eq!(refusal(unknown).0, 404);
    let pruned = client
        .network_prune(NetworkPruneParams::default())
        .await
        .expect("prunes");
    assert!(pruned.networks_deleted.unwrap_or_default().is_empty());
    let no_container = client
        .network_connect(NetworkConnectParams {
            id: "bridge".to_owned(),
            body: drydock_client::models::NetworkConnectBody {
                container: Some("nosuchcontainer".to_owned()),
                ..Default::default()
            },
        })
        .await
        .expect_err("unknown container");
    assert_eq!(
        refusal(no_container),
        (404, "No such container: nosuchcontainer".to_owned())
    );
}

#[tokio::test]
async fn network_ids_are_kept_across_daemon_restarts() {
    let mut daemon = TestDaemon::start("restart");
    let client = daemon.client(None).await;
    let before = client
        .network_list(NetworkListParams::default())
        .await
        .expect("lists");
    daemon.stop();
    assert!(Path::new(&daemon.dir).exists());
    daemon.spawn();
    let client = daemon.client(None).await;
    let after = client
        .network_list(NetworkListParams::default())
        .await
        .expect("lists");
    assert_eq!(after, before);
}
