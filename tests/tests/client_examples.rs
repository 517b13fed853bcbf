//! The example programs of `tests/examples/` against a live dockerd: their functions
//! ([`drydock_tests::client_examples`], which each example's `main` calls) run with a client
//! configured from `DOCKER_HOST=unix://<socket>`, as the examples' `Client::from_env` would be,
//! and what they write is checked.

use std::time::{SystemTime, UNIX_EPOCH};

use drydock_client::{Client, ClientConfig, Filters};
use drydock_tests::client_examples::{list_containers, print_events, run_and_stream};
use drydock_tests::dockerd::Dockerd;

/// The image of the examples, except where a test needs one of its own.
const IMAGE: &str = "busybox:latest";

/// Runs `test` on a fresh single-threaded tokio runtime.
fn block_on<F: std::future::Future>(test: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts")
        .block_on(test)
}

/// The shared daemon with `image` imported.
fn daemon(image: &str) -> &'static Dockerd {
    let daemon = Dockerd::shared();
    daemon.import_busybox(image);
    daemon
}

/// A client configured the way `Client::from_env` configures the examples' clients, from
/// `DOCKER_HOST` naming the daemon's socket and nothing else set.
async fn client_of(daemon: &Dockerd) -> Client {
    let host = daemon.host();
    let config = ClientConfig::from_vars(|name| (name == "DOCKER_HOST").then(|| host.clone()))
        .unwrap_or_else(|e| panic!("DOCKER_HOST={host} is a valid configuration: {e}"));
    Client::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("connecting to {host}: {e}"))
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is after 1970")
        .as_secs()
}

/// Runs `command` through `run_and_stream` and returns its exit code, stdout and stderr.
async fn run(client: &Client, image: &str, command: &[&str]) -> (i64, String, String) {
    let command: Vec<String> = command.iter().map(|arg| (*arg).to_owned()).collect();
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_and_stream(client, image, &command, &mut out, &mut err)
        .await
        .unwrap_or_else(|e| panic!("run_and_stream {command:?} fails: {e}"));
    let text = |bytes: Vec<u8>| String::from_utf8(bytes).expect("the output is UTF-8");
    (code, text(out), text(err))
}

#[test]
fn run_and_stream_splits_stdout_and_stderr_returns_the_exit_code_and_removes_the_container() {
    // An image of its own, so that its containers are this test's only.
    let image = "drydock-examples-run:latest";
    let daemon = daemon(image);
    block_on(async {
        let client = client_of(daemon).await;
        let (code, out, err) = run(
            &client,
            image,
            &["sh", "-c", "echo to-stdout; echo to-stderr >&2; exit 3"],
        )
        .await;
        assert_eq!(code, 3, "the command's exit code comes back");
        assert_eq!(out, "to-stdout\n");
        assert_eq!(err, "to-stderr\n");

        let (code, out, err) = run(&client, image, &["true"]).await;
        assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
    });
    let left = daemon.docker_stdout(
        ["ps", "--all", "--quiet", "--filter"]
            .into_iter()
            .chain([format!("ancestor={image}").as_str()]),
    );
    assert_eq!(left.trim(), "", "run_and_stream removes its containers");
}

#[test]
fn run_and_stream_keeps_every_line_of_long_output_in_order() {
    let daemon = daemon(IMAGE);
    block_on(async {
        let client = client_of(daemon).await;
        let (code, out, err) = run(&client, IMAGE, &["seq", "1", "5000"]).await;
        assert_eq!(code, 0);
        assert_eq!(err, "");
        let expected: String = (1..=5000).map(|n| format!("{n}\n")).collect();
        assert!(
            out == expected,
            "seq's 5000 lines arrive whole and in order; got {} bytes, {} lines, ending {:?}",
            out.len(),
            out.lines().count(),
            &out[out.len().saturating_sub(40)..]
        );
    });
}

#[test]
fn list_containers_shows_stopped_containers_with_all_only() {
    let daemon = daemon(IMAGE);
    let name = format!("drydock-examples-list-{}", std::process::id());
    let id = daemon
        .docker_stdout(["create", "--name", name.as_str(), IMAGE, "true"])
        .trim()
        .to_owned();
    let (all, running) = block_on(async {
        let client = client_of(daemon).await;
        let mut all = Vec::new();
        let rows = list_containers(&client, true, &mut all)
            .await
            .expect("list_containers --all succeeds");
        let all = String::from_utf8(all).expect("the table is UTF-8");
        assert_eq!(all.lines().count(), rows + 1, "one header and {rows} rows");
        let mut running = Vec::new();
        list_containers(&client, false, &mut running)
            .await
            .expect("list_containers succeeds");
        (all, String::from_utf8(running).expect("the table is UTF-8"))
    });
    daemon.docker_stdout(["rm", "--force", id.as_str()]);

    assert_eq!(
        all.lines().next(),
        Some("CONTAINER ID\tIMAGE\tSTATUS\tNAMES")
    );
    let row: Vec<&str> = all
        .lines()
        .map(|line| line.split('\t').collect::<Vec<_>>())
        .find(|columns| columns.last() == Some(&name.as_str()))
        .unwrap_or_else(|| panic!("--all lists {name}:\n{all}"));
    assert_eq!(
        row[0],
        &id[..12],
        "the short id is the id's first 12 characters"
    );
    assert_eq!(row[1], IMAGE);
    assert_eq!(row[2], "Created", "a container never started is `Created`");
    assert!(
        !running.contains(&name),
        "without --all the created container is left out:\n{running}"
    );
}

#[test]
fn print_events_writes_a_line_per_event_of_a_container_in_order() {
    let daemon = daemon(IMAGE);
    let name = format!("drydock-examples-events-{}", std::process::id());
    let since = unix_seconds();
    let id = daemon
        .docker_stdout(["create", "--name", name.as_str(), IMAGE, "true"])
        .trim()
        .to_owned();
    daemon.docker_stdout(["rm", id.as_str()]);
    // The stream ends at `until`, a second after the removal, so that it has been logged.
    let until = unix_seconds() + 1;
    let printed = block_on(async {
        let client = client_of(daemon).await;
        let mut out = Vec::new();
        let lines = print_events(
            &client,
            Some(since.to_string()),
            Some(until.to_string()),
            Some(Filters::new().with("container", name.as_str())),
            &mut out,
        )
        .await
        .expect("print_events succeeds");
        let out = String::from_utf8(out).expect("the events are UTF-8");
        assert_eq!(out.lines().count(), lines);
        out
    });
    let events: Vec<(&str, &str, &str)> = printed
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split(' ').collect();
            assert_eq!(fields.len(), 4, "`<time> <type> <action> <id>`: {line:?}");
            let time: u64 = fields[0]
                .parse()
                .unwrap_or_else(|e| panic!("the time of {line:?} is a number: {e}"));
            assert!(
                (since..=until).contains(&time),
                "{line:?} is between {since} and {until}"
            );
            (fields[1], fields[2], fields[3])
        })
        .collect();
    assert_eq!(
        events,
        [
            ("container", "create", id.as_str()),
            ("container", "destroy", id.as_str())
        ],
        "the container's create and destroy, in that order:\n{printed}"
    );
}
