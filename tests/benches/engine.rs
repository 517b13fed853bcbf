//! drydockd against Debian's dockerd, side by side in one run: the latency of
//! `docker run --rm busybox true` through the docker CLI (create, attach, start, wait, remove),
//! the latency of create + start + wait + remove through the generated client at API 1.33, the
//! rate of `GET /containers/json?all=true` answered with 100 containers present, and the memory
//! the daemons hold: with 100 created containers, with 10 running ones (their monitors or shims
//! and the `sleep`s themselves counted), and idle once all are gone. Run with
//! `cargo bench -p drydock-tests --bench engine` (as root, with docker.io, runc and
//! busybox-static installed).
//!
//! dockerd runs with `--bridge=none --iptables=false` and the containers of both with
//! `--network none`, so the numbers compare the engines, not their network set-up.
//!
//! The list load: [`CONNECTIONS`] HTTP/1.1 keep-alive connections over the unix socket, each
//! sending the next request as soon as the last answer's body is in, for [`LOAD_ROUND`]; the
//! rounds alternate between the daemons. The generator is one tokio thread of this process (a
//! raw hyper connection per client, the bodies read but not parsed), so it costs the machine
//! little beside the daemon under load. The 100 containers are created, never started: a
//! listing costs the same per row for a created and a running container in both daemons, and
//! 100 running ones would put 100 shims (dockerd) or monitors (drydockd) on a 2-core machine
//! for the whole run.
//!
//! A daemon's memory is the RSS of every process whose command line names its private folder
//! (drydockd, its monitors and port proxies; dockerd, the containerd it starts and their
//! shims) and of their descendants; the table says how many processes that was.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use drydock_client::models::{ContainerConfigCmd, ContainerCreateBody, HostConfig};
use drydock_client::{
    Client, ClientConfig, ContainerCreateParams, ContainerDeleteParams, ContainerStartParams,
    ContainerWaitParams,
};
use drydock_runtime::transport::DockerHost;
use drydock_tests::docker_http;
use drydock_tests::dockerd::Dockerd;
use drydock_tests::drydockd::Drydockd;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::time::Instant;

/// `docker run` runs per daemon (alternating, so drift on the machine hits both alike).
const RUNS: usize = 30;
/// Create + start + wait + remove cycles through the API per daemon (alternating).
const API_RUNS: usize = 100;
/// The API version the generated client speaks to both daemons.
const API_VERSION: &str = "1.33";
/// How many containers the listing is made with.
const LISTED: usize = 100;
/// How many running containers the memory with containers is measured with.
const RUNNING: usize = 10;
/// Concurrent connections of the list load.
const CONNECTIONS: usize = 8;
/// How long one round of the list load lasts.
const LOAD_ROUND: Duration = Duration::from_secs(5);
/// Rounds of the list load per daemon (alternating).
const LOAD_ROUNDS: usize = 3;
/// The listing requested.
const LIST_TARGET: &str = "/v1.33/containers/json?all=true";

/// One daemon as the bench drives it.
struct Engine<'a> {
    name: &'static str,
    socket: PathBuf,
    dir: PathBuf,
    cli: Box<dyn Fn() -> Command + 'a>,
}

impl Engine<'_> {
    /// Runs the docker CLI with `args` against this daemon; how long it took.
    ///
    /// # Panics
    ///
    /// When the CLI fails; the message holds what it printed on standard error.
    fn docker<I, S>(&self, args: I) -> std::time::Duration
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut command = (self.cli)();
        command.args(args);
        let started = std::time::Instant::now();
        let output = command.output().expect("the docker CLI runs");
        let took = started.elapsed();
        assert!(
            output.status.success(),
            "{command:?} on {} failed: {}",
            self.name,
            String::from_utf8_lossy(&output.stderr)
        );
        took
    }
}

/// Median and 90th percentile of the two daemons' samples of one measure.
struct Latency {
    ours: (Duration, Duration),
    theirs: (Duration, Duration),
}

fn main() {
    let dockerd = Dockerd::start();
    let drydockd = Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")));
    dockerd.import_busybox("busybox:latest");
    drydockd.import_busybox("busybox:latest");
    let theirs = Engine {
        name: "dockerd",
        socket: dockerd.socket(),
        dir: dockerd.dir().to_owned(),
        cli: Box::new(|| dockerd.docker_command()),
    };
    let ours = Engine {
        name: "drydockd",
        socket: drydockd.socket(),
        dir: drydockd.dir().to_owned(),
        cli: Box::new(|| drydockd.docker_command()),
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");

    let cli_run = cli_run_latency(&ours, &theirs);
    let api_cycle = runtime.block_on(api_cycle_latency(&ours, &theirs));
    for engine in [&ours, &theirs] {
        LISTED_BATCH.make(engine);
    }
    let (our_rate, their_rate) = runtime.block_on(list_rates(&ours, &theirs));
    settle();
    let our_loaded = tree_memory(&ours.dir);
    let their_loaded = tree_memory(&theirs.dir);
    for engine in [&ours, &theirs] {
        LISTED_BATCH.remove(engine);
        RUNNING_BATCH.make(engine);
    }
    settle();
    let our_running = tree_memory(&ours.dir);
    let their_running = tree_memory(&theirs.dir);
    for engine in [&ours, &theirs] {
        RUNNING_BATCH.remove(engine);
    }
    settle();
    let our_idle = tree_memory(&ours.dir);
    let their_idle = tree_memory(&theirs.dir);

    println!("| what | drydockd | dockerd 20.10 | ratio | aim |");
    println!("|---|---|---|---|---|");
    let latency_rows = [
        (
            format!("`docker run --rm busybox true` (CLI), median of {RUNS}"),
            cli_run.ours.0,
            cli_run.theirs.0,
            "< 0.6",
        ),
        (
            "`docker run --rm busybox true` (CLI), p90".to_owned(),
            cli_run.ours.1,
            cli_run.theirs.1,
            "",
        ),
        (
            format!("create + start + wait + rm (API {API_VERSION}), median of {API_RUNS}"),
            api_cycle.ours.0,
            api_cycle.theirs.0,
            "",
        ),
        (
            "create + start + wait + rm (API), p90".to_owned(),
            api_cycle.ours.1,
            api_cycle.theirs.1,
            "",
        ),
    ];
    for (what, ours, theirs, aim) in latency_rows {
        println!(
            "| {what} | {:.1} ms | {:.1} ms | {:.2} | {aim} |",
            ms(ours),
            ms(theirs),
            ms(ours) / ms(theirs)
        );
    }
    println!(
        "| `GET /containers/json?all=true`, {LISTED} containers, {CONNECTIONS} connections | \
         {our_rate:.0} req/s | {their_rate:.0} req/s | {:.2} | > 2 |",
        our_rate / their_rate
    );
    let memory_rows = [
        (
            format!("memory with {LISTED} created containers"),
            &our_loaded,
            &their_loaded,
            "",
        ),
        (
            format!("memory with {RUNNING} running containers (`sleep`)"),
            &our_running,
            &their_running,
            "",
        ),
        (
            "idle memory (the containers removed)".to_owned(),
            &our_idle,
            &their_idle,
            "< 0.25",
        ),
    ];
    for (what, ours, theirs, aim) in memory_rows {
        println!(
            "| {what} | {:.1} MiB ({}) | {:.1} MiB ({}) | {:.2} | {aim} |",
            mib(ours.kib),
            ours.processes,
            mib(theirs.kib),
            theirs.processes,
            ours.kib as f64 / theirs.kib as f64
        );
    }
}

/// `docker run --rm --network none busybox true` on each daemon, alternating, after one
/// warm-up run each (first runs page in binaries and images).
fn cli_run_latency(ours: &Engine<'_>, theirs: &Engine<'_>) -> Latency {
    let run = |engine: &Engine<'_>| {
        engine.docker(["run", "--rm", "--network", "none", "busybox", "true"])
    };
    run(theirs);
    run(ours);
    let mut our_samples = Vec::with_capacity(RUNS);
    let mut their_samples = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        their_samples.push(run(theirs));
        our_samples.push(run(ours));
    }
    Latency {
        ours: percentiles(&mut our_samples),
        theirs: percentiles(&mut their_samples),
    }
}

/// A client of the generated API at [`API_VERSION`] on `engine`'s socket.
async fn client(engine: &Engine<'_>) -> Client {
    let mut config = ClientConfig::new(DockerHost::Unix(engine.socket.clone()));
    config.api_version = Some(API_VERSION.parse().expect("a version"));
    Client::connect(&config)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to {}: {e}", engine.name))
}

/// Create, start, wait for and remove a busybox `true` without a network through the generated
/// client on each daemon, alternating, after one warm-up cycle each.
async fn api_cycle_latency(ours: &Engine<'_>, theirs: &Engine<'_>) -> Latency {
    let our_client = client(ours).await;
    let their_client = client(theirs).await;
    api_cycle(&their_client, theirs.name).await;
    api_cycle(&our_client, ours.name).await;
    let mut our_samples = Vec::with_capacity(API_RUNS);
    let mut their_samples = Vec::with_capacity(API_RUNS);
    for _ in 0..API_RUNS {
        their_samples.push(api_cycle(&their_client, theirs.name).await);
        our_samples.push(api_cycle(&our_client, ours.name).await);
    }
    Latency {
        ours: percentiles(&mut our_samples),
        theirs: percentiles(&mut their_samples),
    }
}

/// One create + start + wait + remove; how long it took.
async fn api_cycle(client: &Client, daemon: &str) -> Duration {
    let started = Instant::now();
    let body = ContainerCreateBody {
        image: Some("busybox".to_owned()),
        cmd: Some(ContainerConfigCmd::List(vec!["true".to_owned()])),
        host_config: Some(HostConfig {
            network_mode: Some("none".to_owned()),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    let id = client
        .container_create(ContainerCreateParams { name: None, body })
        .await
        .unwrap_or_else(|e| panic!("create on {daemon}: {e}"))
        .id;
    client
        .container_start(ContainerStartParams {
            id: id.clone(),
            ..ContainerStartParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("start on {daemon}: {e}"));
    let exit = client
        .container_wait(ContainerWaitParams {
            id: id.clone(),
            condition: None,
        })
        .await
        .unwrap_or_else(|e| panic!("wait on {daemon}: {e}"))
        .next()
        .await
        .unwrap_or_else(|| panic!("wait on {daemon} answered nothing"))
        .unwrap_or_else(|e| panic!("wait on {daemon}: {e}"));
    assert_eq!(exit.status_code, 0, "busybox true on {daemon}");
    client
        .container_delete(ContainerDeleteParams {
            id,
            ..ContainerDeleteParams::default()
        })
        .await
        .unwrap_or_else(|e| panic!("remove on {daemon}: {e}"));
    started.elapsed()
}

/// A batch of busybox `sleep 300` containers without a network, named `<prefix>-<n>`.
#[derive(Clone, Copy)]
struct Batch {
    prefix: &'static str,
    count: usize,
    /// `create` (never started) or `run -d` (running).
    how: &'static [&'static str],
}

/// The [`LISTED`] containers of the list load, never started.
const LISTED_BATCH: Batch = Batch {
    prefix: "bench-listed",
    count: LISTED,
    how: &["create"],
};
/// The [`RUNNING`] containers of the memory measure.
const RUNNING_BATCH: Batch = Batch {
    prefix: "bench-running",
    count: RUNNING,
    how: &["run", "-d"],
};

impl Batch {
    fn names(self) -> impl Iterator<Item = String> {
        (0..self.count).map(move |n| format!("{}-{n}", self.prefix))
    }

    /// Makes the containers with the docker CLI, one invocation each.
    fn make(self, engine: &Engine<'_>) {
        for name in self.names() {
            let mut args: Vec<&str> = self.how.to_vec();
            args.extend([
                "--network",
                "none",
                "--name",
                &name,
                "busybox",
                "sleep",
                "300",
            ]);
            engine.docker(args);
        }
    }

    /// Removes the containers (killing running ones) with one `docker rm -f`.
    fn remove(self, engine: &Engine<'_>) {
        let command = ["rm".to_owned(), "-f".to_owned()];
        engine.docker(command.into_iter().chain(self.names()));
    }
}

/// The list load's requests per second on each daemon: rounds of [`LOAD_ROUND`], alternating,
/// after a one-second warm-up each.
async fn list_rates(ours: &Engine<'_>, theirs: &Engine<'_>) -> (f64, f64) {
    for engine in [ours, theirs] {
        let rows = docker_http::get(&engine.socket, LIST_TARGET).json(engine.name);
        let count = rows.as_array().map_or(0, Vec::len);
        assert_eq!(count, LISTED, "{} lists {count} containers", engine.name);
        list_load(engine, Duration::from_secs(1)).await;
    }
    let mut totals = [(0_u64, Duration::ZERO); 2];
    for _ in 0..LOAD_ROUNDS {
        for (engine, total) in [theirs, ours].into_iter().zip(&mut totals) {
            let (requests, took) = list_load(engine, LOAD_ROUND).await;
            total.0 += requests;
            total.1 += took;
        }
    }
    let rate = |(requests, took): (u64, Duration)| requests as f64 / took.as_secs_f64();
    (rate(totals[1]), rate(totals[0]))
}

/// [`CONNECTIONS`] connections asking for the listing, one request after another, until
/// `duration` has passed; how many answers came and how long that took.
async fn list_load(engine: &Engine<'_>, duration: Duration) -> (u64, Duration) {
    let started = Instant::now();
    let deadline = started + duration;
    let mut connections = tokio::task::JoinSet::new();
    for _ in 0..CONNECTIONS {
        let socket = engine.socket.clone();
        let name = engine.name;
        connections.spawn(async move {
            let stream = tokio::net::UnixStream::connect(&socket)
                .await
                .unwrap_or_else(|e| panic!("cannot connect to {name}: {e}"));
            let (mut sender, connection) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream))
                    .await
                    .unwrap_or_else(|e| panic!("no HTTP connection to {name}: {e}"));
            let driver = tokio::spawn(connection);
            let mut answered = 0_u64;
            while Instant::now() < deadline {
                let request = hyper::Request::get(LIST_TARGET)
                    .header(hyper::header::HOST, "docker")
                    .body(Empty::<Bytes>::new())
                    .expect("a request");
                let response = sender
                    .send_request(request)
                    .await
                    .unwrap_or_else(|e| panic!("the listing on {name} failed: {e}"));
                assert_eq!(response.status(), 200, "the listing on {name}");
                response
                    .into_body()
                    .collect()
                    .await
                    .unwrap_or_else(|e| panic!("the listing's body on {name}: {e}"));
                answered += 1;
            }
            drop(sender);
            let _ = driver.await;
            answered
        });
    }
    let mut answered = 0;
    while let Some(count) = connections.join_next().await {
        answered += count.expect("a load connection does not panic");
    }
    (answered, started.elapsed())
}

/// Waits for the daemons to finish what the last measure left them (exits, clean-ups).
fn settle() {
    std::thread::sleep(Duration::from_secs(2));
}

/// The median and 90th percentile.
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort();
    let at = |q: f64| samples[((samples.len() - 1) as f64 * q).round() as usize];
    (at(0.5), at(0.9))
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The memory of a daemon's processes.
struct Memory {
    kib: u64,
    /// How many processes, and which programs: `3: dockerd, containerd, …`.
    processes: String,
}

/// The resident memory of every process whose command line names `dir` (but this one) and of
/// all their descendants.
fn tree_memory(dir: &Path) -> Memory {
    let wanted = dir.as_os_str().as_encoded_bytes();
    let own = i32::try_from(std::process::id()).unwrap_or(0);
    let all = processes();
    let mut tree: Vec<i32> = all
        .iter()
        .map(|(pid, _)| *pid)
        .filter(|pid| *pid != own)
        .filter(|pid| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            cmdline.windows(wanted.len()).any(|w| w == wanted)
        })
        .collect();
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        let children: Vec<i32> = all
            .iter()
            .filter(|(pid, p)| *p == parent && !tree.contains(pid))
            .map(|(pid, _)| *pid)
            .collect();
        tree.extend(children);
        index += 1;
    }
    let mut kib = 0;
    let mut programs: Vec<String> = Vec::new();
    for pid in &tree {
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(name))
                .map(str::trim)
        };
        kib += field("VmRSS:")
            .and_then(|rss| rss.trim_end_matches("kB").trim().parse::<u64>().ok())
            .unwrap_or(0);
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        let program =
            String::from_utf8_lossy(argv0.rsplit(|b| *b == b'/').next().unwrap_or_default())
                .into_owned();
        if !programs.contains(&program) {
            programs.push(program);
        }
    }
    Memory {
        kib,
        processes: format!("{}: {}", tree.len(), programs.join(", ")),
    }
}

/// Every process with its parent.
fn processes() -> Vec<(i32, i32)> {
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<i32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            let (_, rest) = stat.rsplit_once(')')?;
            let parent = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((pid, parent))
        })
        .collect()
}
