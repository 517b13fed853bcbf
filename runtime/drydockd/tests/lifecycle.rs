//! drydockd run as a process and driven by the generated client through a container's whole
//! lifecycle at every API version 1.23 to 1.33, and through a crash of the daemon: containers
//! outlive `kill -9` of the engine, keep running and logging, and exits that happen while it
//! is down are reported when it is back.

mod support;

use std::time::Duration;

use drydock_client::models::{ContainerConfigCmd, ContainerCreateBody, HostConfig};
use drydock_client::{
    Client, ContainerCreateParams, ContainerDeleteParams, ContainerInspectParams,
    ContainerKillParams, ContainerListParams, ContainerRestartParams, ContainerStartParams,
    ContainerStopParams, ContainerWaitParams, Error,
};
use futures_util::StreamExt;
use support::{DaemonProcess, eventually, logs, unix_now};

/// Every version the client and daemon speak.
const VERSIONS: &[&str] = &[
    "1.23", "1.24", "1.25", "1.26", "1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33",
];

async fn create(client: &Client, name: &str, cmd: &[&str], host: HostConfig) -> String {
    client
        .container_create(ContainerCreateParams {
            name: Some(name.to_owned()),
            body: ContainerCreateBody {
                image: Some("busybox".to_owned()),
                cmd: Some(ContainerConfigCmd::List(
                    cmd.iter().map(|s| (*s).to_owned()).collect(),
                )),
                host_config: Some(host),
                ..ContainerCreateBody::default()
            },
        })
        .await
        .unwrap_or_else(|e| panic!("create {name}: {e}"))
        .id
}

async fn state(client: &Client, id: &str) -> (String, i64, bool) {
    let inspect = client
        .container_inspect(ContainerInspectParams {
            id: id.to_owned(),
            ..ContainerInspectParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("inspect {id}: {e}"));
    let state = inspect.state.expect("inspect has a state");
    (
        state
            .status
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        state.exit_code.unwrap_or(-1),
        state.running.unwrap_or(false),
    )
}

async fn wait(client: &Client, id: &str) -> i64 {
    client
        .container_wait(ContainerWaitParams {
            id: id.to_owned(),
            ..ContainerWaitParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("wait {id}: {e}"))
        .next()
        .await
        .expect("the wait answers")
        .expect("the exit status decodes")
        .status_code
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_generated_client_drives_a_container_lifecycle_at_every_version() {
    let daemon = DaemonProcess::start("lifecycle");
    let newest = daemon.client("1.33").await;
    daemon.import_busybox(&newest).await;
    for version in VERSIONS {
        let client = daemon.client(version).await;
        let name = format!("life-{}", version.replace('.', "-"));
        let id = create(
            &client,
            &name,
            &[
                "sh",
                "-c",
                "echo started; trap 'echo stopping; exit 7' TERM; while true; do sleep 0.1; done",
            ],
            HostConfig::default(),
        )
        .await;
        assert_eq!(
            state(&client, &name).await,
            ("created".to_owned(), 0, false),
            "at {version}"
        );
        client
            .container_start(ContainerStartParams {
                id: name.clone(),
                ..ContainerStartParams::default()
            })
            .await
            .unwrap_or_else(|e| panic!("start at {version}: {e}"));
        assert_eq!(state(&client, &id).await.0, "running", "at {version}");
        assert!(
            eventually(Duration::from_secs(10), async || logs(&client, &id)
                .await
                .contains("started"))
            .await,
            "the container's first line is logged at {version}"
        );
        let listed = client
            .container_list(ContainerListParams::default())
            .await
            .unwrap_or_else(|e| panic!("list at {version}: {e}"));
        assert!(
            listed.iter().any(|c| c.id.as_deref() == Some(id.as_str())),
            "a running container is listed at {version}"
        );
        // A second start of a started container is a 304, which the client reports.
        let again = client
            .container_start(ContainerStartParams {
                id: id.clone(),
                ..ContainerStartParams::default()
            })
            .await;
        assert!(
            matches!(&again, Err(Error::Daemon { status: 304, .. })),
            "starting a started container answers 304 at {version}: {again:?}"
        );
        client
            .container_stop(ContainerStopParams {
                id: id.clone(),
                t: Some(5),
            })
            .await
            .unwrap_or_else(|e| panic!("stop at {version}: {e}"));
        assert_eq!(
            state(&client, &id).await,
            ("exited".to_owned(), 7, false),
            "at {version}"
        );
        assert!(
            logs(&client, &id).await.contains("stopping"),
            "at {version}"
        );
        client
            .container_restart(ContainerRestartParams {
                id: id.clone(),
                t: Some(1),
            })
            .await
            .unwrap_or_else(|e| panic!("restart at {version}: {e}"));
        assert_eq!(state(&client, &id).await.0, "running", "at {version}");
        client
            .container_kill(ContainerKillParams {
                id: id.clone(),
                signal: Some("KILL".to_owned()),
            })
            .await
            .unwrap_or_else(|e| panic!("kill at {version}: {e}"));
        assert_eq!(
            wait(&client, &id).await,
            137,
            "SIGKILL exits with 137 at {version}"
        );
        client
            .container_delete(ContainerDeleteParams {
                id: id.clone(),
                ..ContainerDeleteParams::default()
            })
            .await
            .unwrap_or_else(|e| panic!("rm at {version}: {e}"));
        let gone = client
            .container_inspect(ContainerInspectParams {
                id: id.clone(),
                ..ContainerInspectParams::default()
            })
            .await;
        match gone {
            Err(Error::Daemon {
                status: 404,
                message,
                ..
            }) => {
                assert_eq!(message, format!("No such container: {id}"), "at {version}")
            }
            other => panic!("a removed container is a 404 at {version}: {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn containers_outlive_a_crash_of_the_engine_and_lose_no_log_line() {
    let mut daemon = DaemonProcess::start("crash");
    let client = daemon.client("1.33").await;
    daemon.import_busybox(&client).await;
    let counter = create(
        &client,
        "counter",
        &[
            "sh",
            "-c",
            "i=0; while true; do echo $i; i=$((i+1)); sleep 0.02; done",
        ],
        HostConfig::default(),
    )
    .await;
    let short = create(
        &client,
        "short",
        &["sh", "-c", "sleep 1; exit 5"],
        HostConfig::default(),
    )
    .await;
    for id in [&counter, &short] {
        support::start(&client, id).await;
    }
    assert!(
        eventually(Duration::from_secs(10), async || logs(&client, &counter)
            .await
            .lines()
            .count()
            > 5)
        .await,
        "the counter logs"
    );
    daemon.crash();
    // While the engine is down, the short container exits and the counter goes on.
    std::thread::sleep(Duration::from_millis(1500));
    daemon.spawn();
    let client = daemon.client("1.33").await;
    assert_eq!(
        state(&client, &counter).await.0,
        "running",
        "the counter still runs"
    );
    assert_eq!(
        state(&client, &short).await,
        ("exited".to_owned(), 5, false),
        "an exit during the crash is reported with its code"
    );
    client
        .container_stop(ContainerStopParams {
            id: counter.clone(),
            t: Some(1),
        })
        .await
        .expect("the restarted engine stops a container started before the crash");
    let text = logs(&client, &counter).await;
    let numbers: Vec<u64> = text
        .lines()
        .map(|l| l.trim().parse().expect("a number"))
        .collect();
    assert!(
        numbers.len() > 50,
        "the counter ran through the crash: {} lines",
        numbers.len()
    );
    for (index, number) in numbers.iter().enumerate() {
        assert_eq!(*number, index as u64, "no log line is lost or repeated");
    }
}

async fn restart_count(client: &Client, id: &str) -> i64 {
    client
        .container_inspect(ContainerInspectParams {
            id: id.to_owned(),
            ..ContainerInspectParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("inspect {id}: {e}"))
        .restart_count
        .unwrap_or(-1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_policies_and_auto_remove_act_on_exits_as_dockerd_does() {
    use drydock_client::models::RestartPolicy;
    let mut daemon = DaemonProcess::start("policies");
    let client = daemon.client("1.33").await;
    daemon.import_busybox(&client).await;
    let policy = |name: &str, retries: i64| HostConfig {
        restart_policy: Some(RestartPolicy {
            name: Some(name.into()),
            maximum_retry_count: Some(retries),
        }),
        ..HostConfig::default()
    };
    let failing = create(
        &client,
        "failing",
        &["sh", "-c", "exit 3"],
        policy("on-failure", 2),
    )
    .await;
    let always = create(&client, "always", &["sleep", "1000"], policy("always", 0)).await;
    let removed = create(
        &client,
        "removed",
        &["true"],
        HostConfig {
            auto_remove: Some(true),
            ..HostConfig::default()
        },
    )
    .await;
    for id in [&failing, &always, &removed] {
        support::start(&client, id).await;
    }
    assert!(
        eventually(Duration::from_secs(15), async || {
            restart_count(&client, &failing).await == 2
                && state(&client, &failing).await == ("exited".to_owned(), 3, false)
        })
        .await,
        "on-failure:2 restarts twice, then the container stays exited with its code"
    );
    assert!(
        eventually(Duration::from_secs(10), async || {
            matches!(
                client
                    .container_inspect(ContainerInspectParams {
                        id: removed.clone(),
                        ..ContainerInspectParams::default()
                    })
                    .await,
                Err(Error::Daemon { status: 404, .. })
            )
        })
        .await,
        "an AutoRemove container is gone after its exit"
    );
    // An `always` container killed while the engine is down is started again by the engine.
    let pid = client
        .container_inspect(ContainerInspectParams {
            id: always.clone(),
            ..ContainerInspectParams::default()
        })
        .await
        .expect("inspect")
        .state
        .and_then(|s| s.pid)
        .expect("a running container has a pid");
    daemon.crash();
    // SAFETY: kill(2) on the container's init, which this test started.
    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
    std::thread::sleep(Duration::from_millis(500));
    daemon.spawn();
    let client = daemon.client("1.33").await;
    assert!(
        eventually(Duration::from_secs(15), async || {
            state(&client, &always).await.0 == "running"
        })
        .await,
        "the engine restarts an `always` container that died while it was down"
    );
    // A stop by the user is final for `always`.
    client
        .container_stop(ContainerStopParams {
            id: always.clone(),
            t: Some(1),
        })
        .await
        .expect("stop");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        state(&client, &always).await.0,
        "exited",
        "a stopped `always` container stays stopped"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_report_a_containers_lifecycle_in_order_with_filters() {
    use drydock_client::{Filters, SystemEventsParams};
    let daemon = DaemonProcess::start("events");
    let client = daemon.client("1.33").await;
    daemon.import_busybox(&client).await;
    let since = unix_now();
    let id = create(
        &client,
        "evented",
        &["sh", "-c", "exit 4"],
        HostConfig::default(),
    )
    .await;
    support::start(&client, &id).await;
    assert_eq!(wait(&client, &id).await, 4);
    client
        .container_delete(ContainerDeleteParams {
            id: id.clone(),
            ..ContainerDeleteParams::default()
        })
        .await
        .expect("rm");
    let until = since + 3600;
    let mut events = client
        .system_events(SystemEventsParams {
            since: Some(since.to_string()),
            until: Some(until.to_string()),
            filters: Some(
                Filters::new()
                    .with("type", "container")
                    .with("container", "evented"),
            ),
        })
        .await
        .expect("events");
    let mut seen = Vec::new();
    while seen.len() < 4 {
        let event = tokio::time::timeout(Duration::from_secs(10), events.next())
            .await
            .expect("the past events come at once")
            .expect("the stream goes on")
            .expect("an event decodes");
        assert_eq!(event.actor.and_then(|a| a.id).as_deref(), Some(id.as_str()));
        seen.push(event.action.unwrap_or_default());
    }
    assert_eq!(seen, ["create", "start", "die", "destroy"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_containers_memory_limit_is_in_its_cgroup_from_the_start() {
    use drydock_engine::cgroups::CgroupLayout;
    let daemon = DaemonProcess::start("limits");
    let client = daemon.client("1.33").await;
    daemon.import_busybox(&client).await;
    let id = create(
        &client,
        "limited",
        &["sleep", "300"],
        HostConfig {
            memory: Some(48 << 20),
            pids_limit: Some(64),
            ..HostConfig::default()
        },
    )
    .await;
    support::start(&client, &id).await;
    let cgroup = format!("{}/{id}", daemon.cgroup_parent());
    let layout = CgroupLayout::of_host().expect("the cgroup layout");
    let read = |dir: std::path::PathBuf, files: &[&str]| {
        files
            .iter()
            .find_map(|file| std::fs::read_to_string(dir.join(file)).ok())
            .map(|text| text.trim().to_owned())
    };
    let memory = read(
        layout.memory_dir(&cgroup).expect("a memory controller"),
        &["memory.limit_in_bytes", "memory.max"],
    );
    assert_eq!(memory, Some((48_i64 << 20).to_string()));
}
