//! The generated models read what a real daemon sends, at every API version drydock knows.
//!
//! A private dockerd (see `drydock_tests::dockerd`) gets a busybox image, three containers
//! (one running `sleep`, one that exited, one with labels, a named volume, a bind mount and a
//! healthcheck), a labelled volume, a user-defined network and two exec instances. Then, for
//! every version 1.23..1.33 the IR holds each endpoint in, the raw body of each endpoint below
//! is deserialised into the model of the endpoint's `200` response at that version (looked up
//! in the IR), serialised back, and compared along that version's spec (see
//! `drydock_tests::model_compare`): every field the spec names must come back with the value
//! the daemon sent. Fields the version's spec does not name are not compared (the models
//! ignore unknown fields) but listed in the test's output, as are nulls where the spec does
//! not allow them and fields the models add.
//!
//! The daemon runs with `--bridge=none`, so it has no `bridge` network and creating a bridge
//! network would put a bridge device in the host's network namespace. The network created
//! here is a config-only one (API 1.30+): it exists in the daemon's store only, which is
//! enough for the network endpoints to list and inspect a user-defined network with IPAM
//! configuration, labels and options beside the built-in `host` and `none`.

use std::sync::OnceLock;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drydock_ir::{ApiVersion, BodyKind, shape_at};
use drydock_tests::docker_http::{self, HttpResponse};
use drydock_tests::dockerd::Dockerd;
use drydock_tests::model_compare::{Report, docker_ir};
use serde_json::{Value, json};

/// The image every container runs.
const IMAGE: &str = "busybox:latest";
/// Names of what the fixture creates.
const RUNNING: &str = "models-running";
const EXITED: &str = "models-exited";
const LABELLED: &str = "models-labelled";
const VOLUME: &str = "models-volume";
const MOUNTED_VOLUME: &str = "models-mounted";
const NETWORK: &str = "models-config-only";

/// What the fixture made on the shared daemon.
struct Fixture {
    daemon: &'static Dockerd,
    containers: Vec<String>,
    execs: Vec<String>,
    networks: Vec<String>,
    /// Unix seconds before the first and after the last thing was made.
    since: u64,
    until: u64,
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// The fixture, made once per process.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(make_fixture)
}

fn make_fixture() -> Fixture {
    let daemon = Dockerd::shared();
    let since = unix_now().saturating_sub(1);
    daemon.import_busybox(IMAGE);
    let bind = daemon.dir().join("bind");
    std::fs::create_dir_all(&bind)
        .unwrap_or_else(|e| panic!("cannot create {}: {e}", bind.display()));

    let running = daemon
        .docker_stdout(["run", "-d", "--name", RUNNING, IMAGE, "sleep", "3600"])
        .trim()
        .to_owned();
    let exited = daemon.docker([
        "run",
        "--name",
        EXITED,
        IMAGE,
        "sh",
        "-c",
        "echo changed > /tmp/changed; rm -r /var; exit 3",
    ]);
    assert_eq!(
        exited.status.code(),
        Some(3),
        "the exited container exits with 3: {}",
        String::from_utf8_lossy(&exited.stderr)
    );
    let exited = daemon
        .docker_stdout(["inspect", "--format", "{{.Id}}", EXITED])
        .trim()
        .to_owned();
    daemon.docker_stdout([
        "volume",
        "create",
        "--label",
        "com.example.kind=fixture",
        VOLUME,
    ]);
    let labelled = daemon
        .docker_stdout([
            "run",
            "-d",
            "--name",
            LABELLED,
            "--label",
            "com.example.role=labelled",
            "--label",
            "com.example.empty=",
            "-v",
            &format!("{MOUNTED_VOLUME}:/data"),
            "-v",
            &format!("{}:/bind:ro", bind.display()),
            "--health-cmd",
            "true",
            "--health-interval",
            "1s",
            "--stop-timeout",
            "5",
            "--env",
            "FIXTURE=1",
            "-w",
            "/data",
            IMAGE,
            "sleep",
            "3600",
        ])
        .trim()
        .to_owned();

    let socket = daemon.socket();
    let networks = {
        let created = daemon.docker([
            "network",
            "create",
            "--config-only",
            "--subnet",
            "10.213.0.0/24",
            "--gateway",
            "10.213.0.1",
            "--label",
            "com.example.kind=fixture",
            "--opt",
            "com.example.option=1",
            NETWORK,
        ]);
        assert!(
            created.status.success(),
            "a config-only network can be made with --bridge=none: {}",
            String::from_utf8_lossy(&created.stderr)
        );
        let listed = ok_json(&docker_http::get(&socket, "/networks"), "GET /networks");
        let ids: Vec<String> = listed
            .as_array()
            .unwrap_or_else(|| panic!("GET /networks is no array: {listed}"))
            .iter()
            .filter_map(|n| n["Id"].as_str().map(str::to_owned))
            .collect();
        assert!(
            ids.len() >= 3,
            "host, none and {NETWORK} are listed: {listed}"
        );
        ids
    };

    let exec_created = make_exec(
        &socket,
        &running,
        json!({"Cmd": ["true"], "AttachStdout": true}),
    );
    let exec_ran = make_exec(
        &socket,
        &running,
        json!({"Cmd": ["sh", "-c", "exit 7"], "Env": ["X=1"], "WorkingDir": "/tmp"}),
    );
    let started = docker_http::request(
        &socket,
        "POST",
        &format!("/exec/{exec_ran}/start"),
        Some(&json!({"Detach": true, "Tty": false})),
    );
    assert!(
        started.status < 300,
        "exec start answered {}: {}",
        started.status,
        String::from_utf8_lossy(&started.body)
    );

    // The healthcheck has run and the detached exec has finished before anything is read.
    wait_for(
        Duration::from_secs(60),
        "the healthcheck to log a run",
        || {
            let state = ok_json(
                &docker_http::get(&socket, &format!("/containers/{labelled}/json")),
                "inspect",
            );
            state["State"]["Health"]["Log"]
                .as_array()
                .is_some_and(|log| !log.is_empty())
        },
    );
    wait_for(Duration::from_secs(60), "the exec to exit", || {
        let exec = ok_json(
            &docker_http::get(&socket, &format!("/exec/{exec_ran}/json")),
            "exec",
        );
        exec["Running"] == json!(false) && exec["ExitCode"] == json!(7)
    });

    // `until` in the past, so the events endpoint answers at once.
    let until = unix_now() + 1;
    while unix_now() <= until {
        std::thread::sleep(Duration::from_millis(100));
    }
    Fixture {
        daemon,
        containers: vec![running, exited, labelled],
        execs: vec![exec_created, exec_ran],
        networks,
        since,
        until,
    }
}

/// Creates an exec instance in `container` and returns its id.
fn make_exec(socket: &std::path::Path, container: &str, body: Value) -> String {
    let target = format!("/containers/{container}/exec");
    let created = docker_http::request(socket, "POST", &target, Some(&body));
    assert_eq!(
        created.status,
        201,
        "POST {target}: {}",
        String::from_utf8_lossy(&created.body)
    );
    let created = created.json(&target);
    created["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("POST {target} gave no Id: {created}"))
        .to_owned()
}

fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn ok_json(response: &HttpResponse, what: &str) -> Value {
    assert_eq!(
        response.status,
        200,
        "{what}: {}",
        String::from_utf8_lossy(&response.body)
    );
    response.json(what)
}

/// Reads `GET /v{version}{target}` through the model of the `200` response the IR gives the
/// endpoint `template` at `version`, for every version the endpoint exists in, and records
/// what the comparison found. Returns the versions read.
fn read_at_every_version(report: &mut Report, template: &str, target: &str) -> Vec<ApiVersion> {
    let api = docker_ir();
    let daemon = fixture().daemon;
    let operation = api
        .operation_at("GET", template)
        .unwrap_or_else(|| panic!("the IR has no GET {template}"));
    let mut read = Vec::new();
    for version in api
        .versions
        .iter()
        .filter(|v| operation.versions.contains(v))
    {
        let full = format!("/v{version}{target}");
        let response = docker_http::get(&daemon.socket(), &full);
        if response.status != 200 {
            report.failures.push(format!(
                "v{version} GET {target}: status {}: {}",
                response.status,
                String::from_utf8_lossy(&response.body)
            ));
            continue;
        }
        let Some(shape) = operation
            .responses
            .iter()
            .find(|r| r.status == "200" && r.versions.contains(version))
            .and_then(|r| shape_at(&r.shapes, version))
        else {
            report.failures.push(format!(
                "v{version} GET {template}: the IR documents no 200 response, but the daemon \
                 sent one"
            ));
            continue;
        };
        let Some(schema) = &shape.schema else {
            report.failures.push(format!(
                "v{version} GET {template}: the 200 response has no schema"
            ));
            continue;
        };
        let bodies: Vec<Value> = match shape.kind {
            BodyKind::Json => vec![response.json(&full)],
            BodyKind::JsonStream => response.json_stream(&full),
            BodyKind::Text => vec![Value::String(
                String::from_utf8_lossy(&response.body).into(),
            )],
            other => panic!("v{version} GET {template}: a {other:?} body is not JSON"),
        };
        for (i, body) in bodies.iter().enumerate() {
            let place = if bodies.len() > 1 {
                format!("GET {target} message {i}")
            } else {
                format!("GET {target}")
            };
            report.check(
                api,
                &format!("GET {template}"),
                version,
                schema,
                body,
                &place,
            );
        }
        read.push(version.clone());
    }
    read
}

fn every_version() -> Vec<ApiVersion> {
    docker_ir().versions.clone()
}

#[test]
fn ping_answers_ok_as_text_at_every_version() {
    let mut report = Report::default();
    let read = read_at_every_version(&mut report, "/_ping", "/_ping");
    assert_eq!(read, every_version());
    for version in &read {
        let response = docker_http::get(&fixture().daemon.socket(), &format!("/v{version}/_ping"));
        assert_eq!(response.body, b"OK", "v{version} /_ping");
    }
    report.assert_clean();
}

#[test]
fn system_version_info_and_data_usage_round_trip_at_every_version() {
    let mut report = Report::default();
    assert_eq!(
        read_at_every_version(&mut report, "/version", "/version"),
        every_version()
    );
    assert_eq!(
        read_at_every_version(&mut report, "/info", "/info"),
        every_version()
    );
    let df = read_at_every_version(&mut report, "/system/df", "/system/df");
    assert_eq!(df.first().map(ToString::to_string).as_deref(), Some("1.25"));
    report.assert_clean();
}

#[test]
fn container_list_inspect_top_and_changes_round_trip_at_every_version() {
    let fixture = fixture();
    let mut report = Report::default();
    read_at_every_version(
        &mut report,
        "/containers/json",
        "/containers/json?all=1&size=1",
    );
    for id in &fixture.containers {
        let read = read_at_every_version(
            &mut report,
            "/containers/{id}/json",
            &format!("/containers/{id}/json?size=1"),
        );
        assert_eq!(read, every_version());
        read_at_every_version(
            &mut report,
            "/containers/{id}/changes",
            &format!("/containers/{id}/changes"),
        );
    }
    for id in [&fixture.containers[0], &fixture.containers[2]] {
        read_at_every_version(
            &mut report,
            "/containers/{id}/top",
            &format!("/containers/{id}/top"),
        );
    }
    report.assert_clean();
}

#[test]
fn image_list_inspect_and_history_round_trip_at_every_version() {
    fixture();
    let mut report = Report::default();
    read_at_every_version(&mut report, "/images/json", "/images/json?all=1");
    let read = read_at_every_version(
        &mut report,
        "/images/{name}/json",
        &format!("/images/{IMAGE}/json"),
    );
    assert_eq!(read, every_version());
    read_at_every_version(
        &mut report,
        "/images/{name}/history",
        &format!("/images/{IMAGE}/history"),
    );
    report.assert_clean();
}

#[test]
fn volume_and_network_list_and_inspect_round_trip_at_every_version() {
    let fixture = fixture();
    let mut report = Report::default();
    read_at_every_version(&mut report, "/volumes", "/volumes");
    for volume in [VOLUME, MOUNTED_VOLUME] {
        let read = read_at_every_version(
            &mut report,
            "/volumes/{name}",
            &format!("/volumes/{volume}"),
        );
        assert_eq!(read, every_version());
    }
    read_at_every_version(&mut report, "/networks", "/networks");
    for id in &fixture.networks {
        read_at_every_version(&mut report, "/networks/{id}", &format!("/networks/{id}"));
    }
    report.assert_clean();
}

#[test]
fn exec_inspect_round_trips_at_every_version() {
    let fixture = fixture();
    let mut report = Report::default();
    for id in &fixture.execs {
        let read =
            read_at_every_version(&mut report, "/exec/{id}/json", &format!("/exec/{id}/json"));
        assert_eq!(read, every_version());
    }
    report.assert_clean();
}

#[test]
fn events_of_the_fixture_round_trip_at_every_version() {
    let fixture = fixture();
    let mut report = Report::default();
    let target = format!("/events?since={}&until={}", fixture.since, fixture.until);
    let read = read_at_every_version(&mut report, "/events", &target);
    assert_eq!(read, every_version());
    assert!(
        report.checked >= read.len() * 10,
        "the fixture's containers, volumes, network and execs made events at every version \
         ({} messages in all)",
        report.checked
    );
    report.assert_clean();
}
