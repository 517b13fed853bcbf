//! `cargo xtask bench`: measurements too slow or too heavy for `cargo xtask test`, each beside
//! bollard's counterpart in the same run.
//!
//! ## `models-build`
//!
//! How long the generated models take to build, beside bollard's models (`bollard-stubs` from
//! crates.io), measured the same way in one run.
//!
//! Each crate is built through a scratch crate of its own under `target/bench/` that only
//! depends on it, is its own workspace (so neither borrows the other's lock file or
//! artefacts) and has the same `dev` profile as drydock's workspace. Dependencies are
//! fetched before any clock starts, so download time never counts. Then, for each crate:
//!
//! 1. a clean build: a fresh `CARGO_TARGET_DIR`, the crate and all its dependencies;
//! 2. the crate alone: `cargo clean -p <crate>` and build again, so only the crate itself
//!    compiles (its dependencies stay built).
//!
//! Both times and the ratios are printed. The builds take minutes on a shared machine, which
//! is why `cargo xtask test` never runs this.
//!
//! ## `client`
//!
//! The generated client (`drydock-client`) beside `bollard`, on the same calls to the same
//! daemon in one run: see [`client`]. bollard is compiled only in the scratch crate under
//! `target/bench/client/`, so the workspace's builds (and CI's clippy and tests) never see it.
//!
//! ## `progenitor`
//!
//! `cargo xtask generate` beside Oxide's progenitor on the corpus's OpenAPI 3.0 documents:
//! generation time, lines, build time of the generated crates and calls per second of their
//! clients, in one run: see [`progenitor`].

mod progenitor;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use crate::workspace_root;

/// The version of bollard's models compared against, pinned so that runs compare alike.
/// (The newest release when this was written; it covers Docker API 1.53.)
const BOLLARD_STUBS_VERSION: &str = "=1.53.1-rc.29.3.1";

/// The `dev` profile of drydock's workspace (root `Cargo.toml`), given to both scratch crates.
const DEV_PROFILE: &str =
    "[profile.dev]\ndebug = \"line-tables-only\"\n\n[profile.dev.package.\"*\"]\ndebug = false\n";

/// Arguments of `cargo xtask bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// What to measure.
    #[command(subcommand)]
    pub which: Bench,
}

/// The benchmarks.
#[derive(clap::Subcommand)]
pub enum Bench {
    /// Clean build time of generated/models beside that of bollard-stubs (takes minutes).
    ModelsBuild,
    /// Per-call latency of drydock-client beside bollard against one private dockerd (builds
    /// both in release mode first, which takes minutes).
    Client(ClientBenchArgs),
    /// Requests per second of `GET /_ping` and `GET /containers/json` through drydock's
    /// generated router beside the same calls to a private dockerd (builds in release mode).
    Server(ServerBenchArgs),
    /// `cargo xtask generate` beside progenitor on the corpus's OpenAPI 3.0 documents:
    /// generation time, lines, build time and client calls per second (takes minutes).
    Progenitor(progenitor::ProgenitorBenchArgs),
}

/// Arguments of `cargo xtask bench server`.
#[derive(clap::Args)]
pub struct ServerBenchArgs {
    /// Requests of each call to each server, per round.
    #[arg(long, default_value_t = 4000)]
    pub requests: usize,
    /// Connections sending at once.
    #[arg(long, default_value_t = 8)]
    pub connections: usize,
}

/// Arguments of `cargo xtask bench client`.
#[derive(clap::Args)]
pub struct ClientBenchArgs {
    /// Timed calls of each operation with each client.
    #[arg(long, default_value_t = 2000)]
    pub iterations: usize,
    /// Stopped containers on the daemon (for the list), besides the one that logs.
    #[arg(long, default_value_t = 5)]
    pub containers: usize,
    /// Lines the logging container printed (`seq 1 LINES`), read back by each logs call.
    #[arg(long, default_value_t = 1000)]
    pub lines: usize,
}

/// One crate under measurement.
struct Subject {
    /// Label in the output.
    label: String,
    /// The package name for `cargo clean -p`.
    package: &'static str,
    /// The scratch crate that depends on it.
    scratch: PathBuf,
    /// Its fresh target folder.
    target: PathBuf,
}

/// What was measured for one crate.
struct Times {
    clean: Duration,
    alone: Duration,
}

/// Runs `cargo xtask bench`.
pub fn run(args: BenchArgs) -> Result<(), String> {
    match args.which {
        Bench::ModelsBuild => models_build(),
        Bench::Client(args) => client(&args),
        Bench::Server(args) => server(&args),
        Bench::Progenitor(args) => progenitor::run(&args),
    }
}

fn models_build() -> Result<(), String> {
    let root = workspace_root();
    let models = root.join("generated/models");
    if !models.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no crate: run `cargo xtask codegen` first",
            models.display()
        ));
    }
    let bench = root.join("target/bench");
    let drydock = Subject {
        label: "drydock-models (generated/models)".to_string(),
        package: "drydock-models",
        scratch: bench.join("scratch-drydock-models"),
        target: bench.join("target-drydock-models"),
    };
    let bollard = Subject {
        label: format!(
            "bollard-stubs {}",
            BOLLARD_STUBS_VERSION.trim_start_matches('=')
        ),
        package: "bollard-stubs",
        scratch: bench.join("scratch-bollard-stubs"),
        target: bench.join("target-bollard-stubs"),
    };
    let models_dep = format!(
        "drydock-models = {{ path = {:?} }}",
        models.display().to_string()
    );
    let bollard_dep = format!("bollard-stubs = \"{BOLLARD_STUBS_VERSION}\"");
    write_scratch(&drydock, &models_dep, "drydock_models")?;
    write_scratch(&bollard, &bollard_dep, "bollard_stubs")?;
    // drydock's lock file pins the models' dependencies to the versions the workspace uses.
    std::fs::copy(root.join("Cargo.lock"), drydock.scratch.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;

    for subject in [&drydock, &bollard] {
        println!("fetching the dependencies of {}", subject.label);
        cargo(subject, &["fetch"])?;
    }
    let mut results = Vec::new();
    for subject in [&drydock, &bollard] {
        if subject.target.exists() {
            std::fs::remove_dir_all(&subject.target)
                .map_err(|e| format!("cannot remove {}: {e}", subject.target.display()))?;
        }
        println!("clean build of {}", subject.label);
        let clean = timed(|| cargo(subject, &["build", "--offline"]))?;
        cargo(subject, &["clean", "--offline", "-p", subject.package])?;
        println!("build of {} alone", subject.label);
        let alone = timed(|| cargo(subject, &["build", "--offline"]))?;
        results.push(Times { clean, alone });
    }

    let (ours, theirs) = (&results[0], &results[1]);
    println!();
    println!(
        "{:<40} {:>18} {:>18}",
        "dev profile, same machine", "clean build", "crate alone"
    );
    for (subject, times) in [(&drydock, ours), (&bollard, theirs)] {
        println!(
            "{:<40} {:>17.1}s {:>17.1}s",
            subject.label,
            times.clean.as_secs_f64(),
            times.alone.as_secs_f64()
        );
    }
    println!(
        "{:<40} {:>18.2} {:>18.2}",
        "ratio drydock / bollard",
        ratio(ours.clean, theirs.clean),
        ratio(ours.alone, theirs.alone)
    );
    Ok(())
}

/// Writes a scratch crate at `subject.scratch` depending on `dependency`, re-exporting it so
/// that it is compiled in full.
fn write_scratch(subject: &Subject, dependency: &str, lib_name: &str) -> Result<(), String> {
    let src = subject.scratch.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask bench models-build`.\n[package]\nname = \"bench-{}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependency}\n\n{DEV_PROFILE}\n[workspace]\n",
        subject.package
    );
    write(&subject.scratch.join("Cargo.toml"), &manifest)?;
    write(
        &src.join("lib.rs"),
        &format!("//! Builds `{lib_name}` for the benchmark.\npub use {lib_name};\n"),
    )
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// Runs `cargo <args>` in the subject's scratch crate with its own target folder.
fn cargo(subject: &Subject, args: &[&str]) -> Result<(), String> {
    cargo_in(&subject.scratch, &subject.target, args)
        .map_err(|e| format!("{e} (building {})", subject.label))
}

/// Runs `cargo <args> --quiet` in `dir` with `target` as its target folder, without the
/// caller's RUSTFLAGS.
fn cargo_in(dir: &Path, target: &Path, args: &[&str]) -> Result<(), String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .arg("--quiet")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo {}: {e}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {} in {} failed with {status}",
            args.join(" "),
            dir.display()
        ))
    }
}

fn timed(f: impl FnOnce() -> Result<(), String>) -> Result<Duration, String> {
    let start = Instant::now();
    f()?;
    Ok(start.elapsed())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(f64::EPSILON)
}

/// The version of bollard compared against, pinned so that runs compare alike (the newest
/// release when this was written).
const BOLLARD_VERSION: &str = "=0.21.1";

/// `cargo xtask bench client`: writes the scratch crate `target/bench/client/` (drydock-client
/// and drydock-tests by path, bollard from crates.io, drydock's lock file for the versions they
/// share), builds it in release mode and runs it. The program ([`CLIENT_BENCH_MAIN`]) starts a
/// private dockerd with the tests' harness, creates the containers, and times each call with
/// each client in alternating rounds so that a change of load on the machine falls on both.
fn client(args: &ClientBenchArgs) -> Result<(), String> {
    let root = workspace_root();
    let client = root.join("generated/client");
    if !client.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no crate: run `cargo xtask codegen` first",
            client.display()
        ));
    }
    if args.iterations == 0 {
        return Err("--iterations must be at least 1".to_string());
    }
    let dependencies = format!(
        "drydock-client = {{ path = {:?} }}\ndrydock-tests = {{ path = {:?} }}\nbollard = \"{BOLLARD_VERSION}\"\nfutures-util = \"0.3\"\ntokio = {{ version = \"1\", features = [\"rt\"] }}\n",
        client.display().to_string(),
        root.join("tests").display().to_string(),
    );
    println!("building drydock-client and bollard {BOLLARD_VERSION} in release mode");
    run_scratch(
        &root,
        "client",
        &dependencies,
        CLIENT_BENCH_MAIN,
        &[
            args.iterations.to_string(),
            args.containers.to_string(),
            args.lines.to_string(),
        ],
    )
}

/// Writes the scratch crate `target/bench/NAME/` (package `bench-NAME`, with
/// `dependencies` and `main`, and drydock's lock file so that the versions it
/// shares with the workspace are the workspace's), builds it in release mode
/// in its own target folder and runs it with `args`.
fn run_scratch(
    root: &Path,
    name: &str,
    dependencies: &str,
    main: &str,
    args: &[String],
) -> Result<(), String> {
    let scratch = root.join("target/bench").join(name);
    let src = scratch.join("src");
    std::fs::create_dir_all(&src).map_err(|e| format!("cannot create {}: {e}", src.display()))?;
    let manifest = format!(
        "# Written by `cargo xtask bench {name}`.\n[package]\nname = \"bench-{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{dependencies}\n[profile.release]\ndebug = false\n\n[workspace]\n"
    );
    write(&scratch.join("Cargo.toml"), &manifest)?;
    write(&src.join("main.rs"), main)?;
    std::fs::copy(root.join("Cargo.lock"), scratch.join("Cargo.lock"))
        .map_err(|e| format!("cannot copy Cargo.lock: {e}"))?;
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target = scratch.join("target");
    let status = Command::new(cargo)
        .args(["build", "--release", "--quiet"])
        .current_dir(&scratch)
        .env("CARGO_TARGET_DIR", &target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo build: {e}"))?;
    if !status.success() {
        return Err(format!(
            "cargo build of {} failed with {status}",
            scratch.display()
        ));
    }
    let program = target.join("release").join(format!("bench-{name}"));
    let status = Command::new(&program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{} failed with {status}", program.display()))
    }
}

/// `cargo xtask bench server`: the scratch crate `target/bench/server/`
/// (drydock-server and drydock-tests by path) built and run by [`run_scratch`]
/// ([`SERVER_BENCH_MAIN`]).
fn server(args: &ServerBenchArgs) -> Result<(), String> {
    let root = workspace_root();
    let server = root.join("generated/server");
    if !server.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} has no crate: run `cargo xtask codegen` first",
            server.display()
        ));
    }
    if args.requests == 0 || args.connections == 0 {
        return Err("--requests and --connections must be at least 1".to_string());
    }
    let dependencies = format!(
        "drydock-server = {{ path = {:?} }}\ndrydock-runtime = {{ path = {:?}, default-features = false, features = [\"server\"] }}\ndrydock-tests = {{ path = {:?} }}\nreqwest = {{ version = \"0.13\", default-features = false }}\nserde_json = \"1\"\ntokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"net\"] }}\n",
        server.display().to_string(),
        root.join("runtime").display().to_string(),
        root.join("tests").display().to_string(),
    );
    println!("building drydock-server in release mode");
    run_scratch(
        &root,
        "server",
        &dependencies,
        SERVER_BENCH_MAIN,
        &[args.requests.to_string(), args.connections.to_string()],
    )
}

/// `src/main.rs` of the scratch crate of `cargo xtask bench server`.
const SERVER_BENCH_MAIN: &str = r##"//! Written by `cargo xtask bench server`: drydock's generated router and a private
//! dockerd, each on a unix socket, answering the same requests from the same load
//! generator in alternating rounds. Arguments: REQUESTS CONNECTIONS.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::containers::{ContainerListRequest, ContainerListResponse};
use drydock_tests::dockerd::Dockerd;

const ROUNDS: usize = 6;

/// Answers `GET /containers/json` with what dockerd answered, so both servers send the same list.
#[derive(Clone)]
struct Fixed {
    containers: serde_json::Value,
}

impl drydock_server::Containers for Fixed {
    async fn container_list(
        &self,
        _request: ContainerListRequest,
        _version: ApiVersion,
    ) -> Result<ContainerListResponse, ServerError> {
        let list = serde_json::from_value(self.containers.clone())
            .map_err(|e| ServerError::internal(e.to_string()))?;
        Ok(ContainerListResponse::Status200(list))
    }
}
impl drydock_server::Configs for Fixed {}
impl drydock_server::Distribution for Fixed {}
impl drydock_server::Exec for Fixed {}
impl drydock_server::Images for Fixed {}
impl drydock_server::Networks for Fixed {}
impl drydock_server::Nodes for Fixed {}
impl drydock_server::Plugins for Fixed {}
impl drydock_server::Secrets for Fixed {}
impl drydock_server::Services for Fixed {}
impl drydock_server::Session for Fixed {}
impl drydock_server::Swarm for Fixed {}
impl drydock_server::System for Fixed {}
impl drydock_server::Tasks for Fixed {}
impl drydock_server::Volumes for Fixed {}

/// Sends `requests` GETs of `path` over `connections` keep-alive connections at once; the time taken.
async fn load(socket: &Path, path: &str, requests: usize, connections: usize) -> Duration {
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..connections {
        let client = reqwest::Client::builder()
            .unix_socket(socket)
            .build()
            .expect("a reqwest client builds");
        let url = format!("http://localhost{path}");
        let share = requests / connections + usize::from(c < requests % connections);
        tasks.push(tokio::spawn(async move {
            for _ in 0..share {
                let response = client.get(&url).send().await.expect("the server answers");
                assert!(response.status().is_success(), "{url}: {}", response.status());
                response.bytes().await.expect("the body arrives");
            }
        }));
    }
    for task in tasks {
        task.await.expect("a load task finishes");
    }
    start.elapsed()
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("the arguments are counts"))
        .collect();
    let [requests, connections] = args[..] else {
        panic!("usage: bench-server REQUESTS CONNECTIONS");
    };
    println!("starting a private dockerd");
    let daemon = Dockerd::start();
    daemon.import_busybox("busybox:latest");
    for n in 0..5 {
        daemon.docker_stdout(["create", "--name", &format!("bench-{n}"), "busybox:latest", "true"]);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    runtime.block_on(async {
        let dockerd_socket = PathBuf::from(daemon.socket());
        let containers: serde_json::Value = reqwest::Client::builder()
            .unix_socket(dockerd_socket.as_path())
            .build()
            .expect("a reqwest client builds")
            .get("http://localhost/v1.33/containers/json?all=1")
            .send()
            .await
            .expect("dockerd answers")
            .json()
            .await
            .expect("dockerd's list is JSON");
        let folder = std::env::temp_dir().join(format!("drydock-bench-server-{}", std::process::id()));
        std::fs::create_dir_all(&folder).expect("the socket folder is made");
        let ours = folder.join("drydock.sock");
        let _ = std::fs::remove_file(&ours);
        let listener = tokio::net::UnixListener::bind(&ours).expect("the socket binds");
        let router = drydock_server::router(Fixed { containers });
        tokio::spawn(drydock_runtime::server::listen::serve_unix(listener, router));

        let calls = [("GET /_ping", "/v1.33/_ping"), ("GET /containers/json", "/v1.33/containers/json?all=1")];
        let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
        println!("{requests} requests per round, {ROUNDS} alternating rounds, {connections} connections; load before: {}", load_before.trim());
        println!();
        println!("{:<22} {:>14} {:>14} {:>10}", "call", "drydock req/s", "dockerd req/s", "ratio");
        for (label, path) in calls {
            // Warm both up, then alternate which goes first each round.
            load(&ours, path, requests / 4, connections).await;
            load(&dockerd_socket, path, requests / 4, connections).await;
            let (mut ours_time, mut theirs_time) = (Duration::ZERO, Duration::ZERO);
            for round in 0..ROUNDS {
                if round % 2 == 0 {
                    ours_time += load(&ours, path, requests, connections).await;
                    theirs_time += load(&dockerd_socket, path, requests, connections).await;
                } else {
                    theirs_time += load(&dockerd_socket, path, requests, connections).await;
                    ours_time += load(&ours, path, requests, connections).await;
                }
            }
            let total = (requests * ROUNDS) as f64;
            let (ours_rate, theirs_rate) = (total / ours_time.as_secs_f64(), total / theirs_time.as_secs_f64());
            println!("{label:<22} {ours_rate:>14.0} {theirs_rate:>14.0} {:>10.2}", ours_rate / theirs_rate);
        }
        println!();
        println!("ratio: drydock's requests per second over dockerd's (above 1: drydock serves more)");
        let _ = std::fs::remove_dir_all(&folder);
    });
    drop(daemon);
}
"##;

/// `src/main.rs` of the scratch crate of `cargo xtask bench client`.
const CLIENT_BENCH_MAIN: &str = r##"//! Written by `cargo xtask bench client`: drydock-client beside bollard, the same calls to
//! one private dockerd, both at API 1.33 over its unix socket, one call at a time on a
//! single-threaded tokio runtime. Arguments: ITERATIONS CONTAINERS LINES.

use std::time::{Duration, Instant};

use bollard::query_parameters::{ListContainersOptions, LogsOptions};
use bollard::{ClientVersion, Docker};
use drydock_client::{
    Client, ClientConfig, ContainerInspectParams, ContainerListParams, ContainerLogsParams,
};
use drydock_tests::dockerd::Dockerd;
use futures_util::StreamExt;

const IMAGE: &str = "busybox:latest";
/// Rounds of each call: each round times ITERATIONS / ROUNDS calls with one client, then as
/// many with the other, the first client alternating from round to round.
const ROUNDS: usize = 10;

#[derive(Clone, Copy)]
enum Call {
    Ping,
    List,
    Inspect,
    Logs,
}

impl Call {
    fn label(self) -> &'static str {
        match self {
            Call::Ping => "ping",
            Call::List => "container list",
            Call::Inspect => "container inspect",
            Call::Logs => "container logs",
        }
    }
}

struct Clients {
    drydock: Client,
    bollard: Docker,
    /// The container that printed the lines.
    logger: String,
}

/// One call with drydock-client; returns a size to check against bollard's.
async fn drydock_call(clients: &Clients, call: Call) -> usize {
    let client = &clients.drydock;
    match call {
        Call::Ping => client.system_ping().await.expect("drydock ping").len(),
        Call::List => client
            .container_list(ContainerListParams {
                all: Some(true),
                ..ContainerListParams::default()
            })
            .await
            .expect("drydock container list")
            .len(),
        Call::Inspect => client
            .container_inspect(ContainerInspectParams {
                id: clients.logger.clone(),
                ..ContainerInspectParams::default()
            })
            .await
            .expect("drydock container inspect")
            .id
            .map_or(0, |id| id.len()),
        Call::Logs => {
            let mut frames = client
                .container_logs(ContainerLogsParams {
                    id: clients.logger.clone(),
                    stdout: Some(true),
                    stderr: Some(true),
                    ..ContainerLogsParams::default()
                })
                .await
                .expect("drydock container logs");
            let mut bytes = 0;
            while let Some(frame) = frames.next().await {
                bytes += frame.expect("drydock log frame").payload.len();
            }
            bytes
        }
    }
}

/// The same call with bollard.
async fn bollard_call(clients: &Clients, call: Call) -> usize {
    let docker = &clients.bollard;
    match call {
        Call::Ping => docker.ping().await.expect("bollard ping").len(),
        Call::List => docker
            .list_containers(Some(ListContainersOptions {
                all: true,
                ..ListContainersOptions::default()
            }))
            .await
            .expect("bollard container list")
            .len(),
        Call::Inspect => docker
            .inspect_container(&clients.logger, None)
            .await
            .expect("bollard container inspect")
            .id
            .map_or(0, |id| id.len()),
        Call::Logs => {
            let mut frames = docker.logs(
                &clients.logger,
                Some(LogsOptions {
                    stdout: true,
                    stderr: true,
                    ..LogsOptions::default()
                }),
            );
            let mut bytes = 0;
            while let Some(frame) = frames.next().await {
                bytes += frame.expect("bollard log frame").as_ref().len();
            }
            bytes
        }
    }
}

/// Times `count` calls of `call` with drydock (`drydock` true) or bollard, adding each call's
/// duration to `times`.
async fn timed(clients: &Clients, call: Call, drydock: bool, count: usize, times: &mut Vec<Duration>) {
    for _ in 0..count {
        let start = Instant::now();
        let size = if drydock {
            drydock_call(clients, call).await
        } else {
            bollard_call(clients, call).await
        };
        times.push(start.elapsed());
        std::hint::black_box(size);
    }
}

struct Summary {
    median: Duration,
    mean: Duration,
    p90: Duration,
}

fn summary(times: &mut [Duration]) -> Summary {
    times.sort();
    let total: Duration = times.iter().sum();
    Summary {
        median: times[times.len() / 2],
        mean: total / times.len() as u32,
        p90: times[times.len() * 9 / 10],
    }
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|text| text.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|e| format!("(cannot read /proc/loadavg: {e})"))
}

fn main() {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .map(|arg| arg.parse().expect("the arguments are counts"))
        .collect();
    let [iterations, containers, lines] = args[..] else {
        panic!("usage: bench-client ITERATIONS CONTAINERS LINES");
    };
    println!("starting a private dockerd");
    let daemon = Dockerd::start();
    daemon.import_busybox(IMAGE);
    for n in 0..containers {
        daemon.docker_stdout(["create", "--name", &format!("bench-{n}"), IMAGE, "true"]);
    }
    let logger = daemon
        .docker_stdout(["create", "--name", "bench-logs", IMAGE, "seq", "1", &lines.to_string()])
        .trim()
        .to_owned();
    daemon.docker_stdout(["start", "--attach", logger.as_str()]);
    let logged: usize = (1..=lines).map(|n| n.to_string().len() + 1).sum();

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime starts");
    runtime.block_on(async {
        let host = daemon.host();
        let config = ClientConfig::from_vars(|name| match name {
            "DOCKER_HOST" => Some(host.clone()),
            "DOCKER_API_VERSION" => Some("1.33".to_owned()),
            _ => None,
        })
        .expect("the configuration is valid");
        let drydock = Client::connect(&config).await.expect("drydock connects");
        let bollard = Docker::connect_with_unix(
            &host,
            120,
            &ClientVersion {
                major_version: 1,
                minor_version: 33,
            },
        )
        .expect("bollard connects");
        let clients = Clients {
            drydock,
            bollard,
            logger: logger.clone(),
        };
        let calls = [Call::Ping, Call::List, Call::Inspect, Call::Logs];
        // Both clients see the same answers before anything is timed.
        for call in calls {
            let (ours, theirs) = (drydock_call(&clients, call).await, bollard_call(&clients, call).await);
            assert_eq!(ours, theirs, "{} gives the same size with both clients", call.label());
        }
        assert_eq!(drydock_call(&clients, Call::List).await, containers + 1);
        assert_eq!(drydock_call(&clients, Call::Logs).await, logged);

        let per_round = iterations.div_ceil(ROUNDS);
        let load_before = load_average();
        println!(
            "{} calls of each operation with each client ({ROUNDS} alternating rounds), {} containers, logs of {lines} lines ({logged} bytes); load average before: {load_before}",
            per_round * ROUNDS,
            containers + 1
        );
        println!();
        println!(
            "{:<20} {:<10} {:>12} {:>12} {:>12} {:>12}",
            "call", "client", "median µs", "mean µs", "p90 µs", "calls/s"
        );
        for call in calls {
            let warm_up = (per_round / 2).max(1);
            let mut discard = Vec::new();
            timed(&clients, call, true, warm_up, &mut discard).await;
            timed(&clients, call, false, warm_up, &mut discard).await;
            let (mut ours, mut theirs) = (Vec::new(), Vec::new());
            for round in 0..ROUNDS {
                let drydock_first = round % 2 == 0;
                for drydock in [drydock_first, !drydock_first] {
                    let times = if drydock { &mut ours } else { &mut theirs };
                    timed(&clients, call, drydock, per_round, times).await;
                }
            }
            let (ours, theirs) = (summary(&mut ours), summary(&mut theirs));
            for (client, s) in [("drydock", &ours), ("bollard", &theirs)] {
                println!(
                    "{:<20} {:<10} {:>12.1} {:>12.1} {:>12.1} {:>12.0}",
                    call.label(),
                    client,
                    micros(s.median),
                    micros(s.mean),
                    micros(s.p90),
                    1.0 / s.mean.as_secs_f64()
                );
            }
            println!(
                "{:<20} {:<10} {:>12.2} {:>12.2} {:>12.2} {:>12.2}",
                "",
                "ratio d/b",
                ours.median.as_secs_f64() / theirs.median.as_secs_f64(),
                ours.mean.as_secs_f64() / theirs.mean.as_secs_f64(),
                ours.p90.as_secs_f64() / theirs.p90.as_secs_f64(),
                theirs.mean.as_secs_f64() / ours.mean.as_secs_f64()
            );
        }
        println!();
        println!("load average before: {load_before}; after: {}", load_average());
        println!("ratio d/b: drydock's latency over bollard's (below 1: drydock is faster); for calls/s, drydock's rate over bollard's");
    });
    drop(daemon);
}
"##;
