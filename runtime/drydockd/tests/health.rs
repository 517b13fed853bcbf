//! Health checks of drydockd run as a process and driven by the generated client: probes run
//! as execs in the container with short intervals, and what inspect, `docker ps` (its status
//! and `health` filter) and the events say of them, through a stop, a start, a pause and a
//! crash of the daemon.

mod support;

use std::time::Duration;

use drydock_client::models::{Health, HealthConfig, HealthStatus};
use drydock_client::{
    Client, ContainerListParams, ContainerPauseParams, ContainerStopParams, ContainerUnpauseParams,
    Filters, SystemEventsParams,
};
use futures_util::StreamExt;
use support::{DaemonProcess, busybox_rootfs, eventually, inspect, refusal, start, unix_now};

/// How long a health state may take to come about: many intervals, so that only a hung
/// daemon misses it.
const PATIENCE: Duration = Duration::from_secs(30);
/// The probes' interval in these tests: 200 ms, in nanoseconds.
const INTERVAL: i64 = 200_000_000;

/// A health check that runs `command` under the shell every [`INTERVAL`].
fn shell_check(command: &str, retries: i64) -> HealthConfig {
    HealthConfig {
        test: Some(vec!["CMD-SHELL".to_owned(), command.to_owned()]),
        interval: Some(INTERVAL),
        retries: Some(retries),
        ..HealthConfig::default()
    }
}

/// Creates a container of `image` running `cmd`, with `check` if any.
async fn create(
    client: &Client,
    name: &str,
    image: &str,
    cmd: &[&str],
    check: Option<HealthConfig>,
) -> String {
    let mut body = serde_json::json!({"Image": image, "Cmd": cmd});
    if let Some(check) = check {
        body["Healthcheck"] = serde_json::to_value(check).expect("a check serialises");
    }
    support::create(client, name, body).await
}

/// Creates and starts a container of `image` that sleeps, with `check`.
async fn run_checked(client: &Client, name: &str, image: &str, check: HealthConfig) -> String {
    let id = create(client, name, image, &["sleep", "300"], Some(check)).await;
    start(client, &id).await;
    id
}

/// The container's `State.Health`.
async fn health(client: &Client, id: &str) -> Option<Health> {
    inspect(client, id)
        .await
        .state
        .and_then(|state| state.health)
}

/// Waits until the container's health has `status`, and returns it.
async fn health_becomes(client: &Client, id: &str, status: HealthStatus) -> Health {
    let mut last = None;
    let reached = eventually(PATIENCE, async || {
        last = health(client, id).await;
        last.as_ref().and_then(|h| h.status.as_ref()) == Some(&status)
    })
    .await;
    assert!(reached, "{id} never became {status}: {last:?}");
    last.expect("a health")
}

/// The names `docker ps --filter health=<word>` lists.
async fn listed_with_health(client: &Client, word: &str) -> Vec<String> {
    let mut names: Vec<String> = client
        .container_list(ContainerListParams {
            all: Some(true),
            filters: Some(Filters::new().with("health", word)),
            ..ContainerListParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("ps --filter health={word}: {e}"))
        .into_iter()
        .flat_map(|row| row.names.unwrap_or_default())
        .collect();
    names.sort();
    names
}

/// The `docker ps` status column of the container called `name`.
async fn ps_status(client: &Client, name: &str) -> String {
    client
        .container_list(ContainerListParams {
            all: Some(true),
            filters: Some(Filters::new().with("name", format!("^{name}$"))),
            ..ContainerListParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("ps: {e}"))
        .into_iter()
        .find_map(|row| row.status)
        .unwrap_or_default()
}

/// The number of probe results in the log and the end of the last.
fn last_probe(health: &Health) -> (usize, Option<String>) {
    let log = health.log.clone().unwrap_or_default();
    (log.len(), log.last().and_then(|result| result.end.clone()))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn passing_probes_make_a_container_healthy_and_failing_ones_unhealthy_after_the_retries() {
    let (_daemon, client) = DaemonProcess::with_busybox("health-states").await;
    let good = run_checked(&client, "good", "busybox", shell_check("echo ok", 3)).await;
    let bad = run_checked(
        &client,
        "bad",
        "busybox",
        shell_check("echo broken >&2; exit 3", 2),
    )
    .await;
    let plain = create(&client, "plain", "busybox", &["true"], None).await;

    let healthy = health_becomes(&client, &good, HealthStatus::Healthy).await;
    assert_eq!(healthy.failing_streak, Some(0));
    let passed = healthy.log.clone().unwrap_or_default();
    assert!(!passed.is_empty() && passed.len() <= 5, "{passed:?}");
    assert!(
        passed
            .iter()
            .all(|result| result.exit_code == Some(0) && result.output.as_deref() == Some("ok\n")),
        "{passed:?}"
    );
    assert!(
        ps_status(&client, "good").await.ends_with(" (healthy)"),
        "the status column shows the health"
    );

    let unhealthy = health_becomes(&client, &bad, HealthStatus::Unhealthy).await;
    assert!(
        unhealthy.failing_streak.unwrap_or(0) >= 2,
        "unhealthy after the retries: {unhealthy:?}"
    );
    let failed = unhealthy.log.clone().unwrap_or_default();
    assert!(
        failed
            .iter()
            .all(|result| result.exit_code == Some(3)
                && result.output.as_deref() == Some("broken\n")),
        "{failed:?}"
    );
    assert!(ps_status(&client, "bad").await.ends_with(" (unhealthy)"));

    // A created container never ran its check: no health, `none` to the filter.
    assert_eq!(health(&client, &plain).await, None);
    assert_eq!(listed_with_health(&client, "healthy").await, ["/good"]);
    assert_eq!(listed_with_health(&client, "unhealthy").await, ["/bad"]);
    assert_eq!(listed_with_health(&client, "none").await, ["/plain"]);
    assert!(listed_with_health(&client, "starting").await.is_empty());
    let bogus = client
        .container_list(ContainerListParams {
            filters: Some(Filters::new().with("health", "fine")),
            ..ContainerListParams::default()
        })
        .await
        .expect_err("an unknown health is refused");
    assert_eq!(
        refusal(bogus),
        (400, "Unrecognised filter value for health: fine".to_owned())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn probes_that_time_out_or_cannot_start_fail_and_the_start_period_forgives_failures() {
    let (_daemon, client) = DaemonProcess::with_busybox("health-failures").await;
    let slow = run_checked(
        &client,
        "slow",
        "busybox",
        HealthConfig {
            timeout: Some(300_000_000),
            ..shell_check("sleep 30", 1)
        },
    )
    .await;
    let missing = run_checked(
        &client,
        "missing",
        "busybox",
        HealthConfig {
            test: Some(vec!["CMD".to_owned(), "nosuchprobe".to_owned()]),
            ..shell_check("", 1)
        },
    )
    .await;
    let forgiven = run_checked(
        &client,
        "forgiven",
        "busybox",
        HealthConfig {
            start_period: Some(600_000_000_000),
            ..shell_check("exit 1", 1)
        },
    )
    .await;

    let timed_out = health_becomes(&client, &slow, HealthStatus::Unhealthy).await;
    let result = timed_out.log.unwrap_or_default().remove(0);
    assert_eq!(result.exit_code, Some(-1));
    assert_eq!(
        result.output.as_deref(),
        Some("Health check exceeded timeout (300ms)")
    );

    let not_started = health_becomes(&client, &missing, HealthStatus::Unhealthy).await;
    let result = not_started.log.unwrap_or_default().remove(0);
    assert_eq!(result.exit_code, Some(-1));
    let output = result.output.unwrap_or_default();
    assert!(
        output.starts_with("OCI runtime exec failed: exec failed: ")
            && output.contains("\"nosuchprobe\": executable file not found in $PATH"),
        "{output}"
    );

    // Failures within the start period leave a starting container starting.
    let mut during = None;
    let probed = eventually(PATIENCE, async || {
        during = health(&client, &forgiven).await;
        during.as_ref().is_some_and(|h| last_probe(h).0 >= 3)
    })
    .await;
    assert!(probed, "three probes ran: {during:?}");
    let during = during.expect("a health");
    assert_eq!(during.status, Some(HealthStatus::Starting));
    assert_eq!(during.failing_streak, Some(0));
    assert!(
        ps_status(&client, "forgiven")
            .await
            .ends_with(" (health: starting)")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn none_disables_an_images_check_and_unset_fields_are_the_images() {
    let daemon = DaemonProcess::start("health-image");
    let client = daemon.client("1.33").await;
    daemon
        .import(
            &client,
            busybox_rootfs(),
            "checked",
            &["HEALTHCHECK CMD echo from-image"],
        )
        .await;
    // Only the interval is the container's own; the test comes from the image.
    let inherits = run_checked(
        &client,
        "inherits",
        "checked",
        HealthConfig {
            interval: Some(INTERVAL),
            ..HealthConfig::default()
        },
    )
    .await;
    let disabled = run_checked(
        &client,
        "disabled",
        "checked",
        HealthConfig {
            test: Some(vec!["NONE".to_owned()]),
            interval: Some(INTERVAL),
            ..HealthConfig::default()
        },
    )
    .await;
    let healthy = health_becomes(&client, &inherits, HealthStatus::Healthy).await;
    let log = healthy.log.unwrap_or_default();
    assert_eq!(log[0].output.as_deref(), Some("from-image\n"));
    let config = inspect(&client, &inherits)
        .await
        .config
        .and_then(|config| config.healthcheck);
    assert_eq!(
        config,
        Some(HealthConfig {
            test: Some(vec!["CMD-SHELL".to_owned(), "echo from-image".to_owned()]),
            interval: Some(INTERVAL),
            ..HealthConfig::default()
        })
    );
    // By now the disabled container would have been probed too.
    assert_eq!(health(&client, &disabled).await, None);
    assert_eq!(listed_with_health(&client, "none").await, ["/disabled"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_status_events_announce_each_change_after_the_probes_exec() {
    let (_daemon, client) = DaemonProcess::with_busybox("health-events").await;
    let since = unix_now();
    let id = run_checked(&client, "evented", "busybox", shell_check("true", 1)).await;
    health_becomes(&client, &id, HealthStatus::Healthy).await;
    let mut events = client
        .system_events(SystemEventsParams {
            since: Some(since.to_string()),
            until: Some((since + 3600).to_string()),
            filters: Some(Filters::new().with("container", "evented")),
        })
        .await
        .expect("events");
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|action: &String| action.starts_with("health_status"))
    {
        let event = tokio::time::timeout(PATIENCE, events.next())
            .await
            .expect("the past events come at once")
            .expect("the stream goes on")
            .expect("an event decodes");
        seen.push(event.action.unwrap_or_default());
    }
    assert_eq!(
        seen,
        [
            "create",
            "start",
            "exec_create: /bin/sh -c true",
            "exec_start: /bin/sh -c true",
            "exec_die",
            "health_status: healthy",
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn checks_stop_with_the_container_or_a_pause_and_start_over_with_it() {
    let (_daemon, client) = DaemonProcess::with_busybox("health-stop").await;
    let id = run_checked(&client, "stopped", "busybox", shell_check("true", 3)).await;
    health_becomes(&client, &id, HealthStatus::Healthy).await;

    client
        .container_pause(ContainerPauseParams { id: id.clone() })
        .await
        .expect("pause");
    let paused = health(&client, &id).await.expect("a health");
    assert_eq!(paused.status, Some(HealthStatus::Unhealthy));
    client
        .container_unpause(ContainerUnpauseParams { id: id.clone() })
        .await
        .expect("unpause");
    health_becomes(&client, &id, HealthStatus::Healthy).await;

    client
        .container_stop(ContainerStopParams {
            id: id.clone(),
            t: Some(1),
        })
        .await
        .expect("stop");
    let stopped = health(&client, &id).await.expect("a health");
    assert_eq!(stopped.status, Some(HealthStatus::Unhealthy));
    // Many intervals later no probe has run.
    tokio::time::sleep(Duration::from_millis(8 * 200)).await;
    let later = health(&client, &id).await.expect("a health");
    assert_eq!(last_probe(&later), last_probe(&stopped));

    start(&client, &id).await;
    let restarted = health(&client, &id).await.expect("a health");
    assert_eq!(restarted.status, Some(HealthStatus::Starting));
    assert_eq!(restarted.failing_streak, Some(0));
    assert_eq!(
        last_probe(&restarted),
        last_probe(&stopped),
        "the log is kept"
    );
    health_becomes(&client, &id, HealthStatus::Healthy).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_survives_a_crash_of_the_daemon_and_its_checks_go_on() {
    let mut daemon = DaemonProcess::start("health-crash");
    let client = daemon.client("1.33").await;
    daemon.import_busybox(&client).await;
    let good = run_checked(&client, "steady", "busybox", shell_check("true", 1)).await;
    let bad = run_checked(&client, "failing", "busybox", shell_check("exit 1", 1)).await;
    health_becomes(&client, &good, HealthStatus::Healthy).await;
    health_becomes(&client, &bad, HealthStatus::Unhealthy).await;

    daemon.crash();
    daemon.spawn();
    let client = daemon.client("1.33").await;
    let after = health(&client, &good).await.expect("the health is kept");
    assert_eq!(after.status, Some(HealthStatus::Healthy));
    let failing = health(&client, &bad).await.expect("the health is kept");
    assert_eq!(failing.status, Some(HealthStatus::Unhealthy));
    assert!(failing.failing_streak.unwrap_or(0) >= 1);

    // The checks go on: a newer probe result comes.
    let before = last_probe(&after).1;
    let mut now = None;
    let probed = eventually(PATIENCE, async || {
        now = health(&client, &good).await;
        now.as_ref().is_some_and(|h| last_probe(h).1 != before)
    })
    .await;
    assert!(probed, "no probe after the restart: {now:?}");
    assert_eq!(
        now.and_then(|h| h.status),
        Some(HealthStatus::Healthy),
        "still healthy"
    );
}
