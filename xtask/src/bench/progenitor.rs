//! `cargo xtask bench progenitor`: drydock's generator beside Oxide's progenitor on the
//! OpenAPI 3.0 documents of the corpus, in one run.
//!
//! 1. **Generation** (scratch crate `target/bench/progenitor-generate`, release): for each
//!    OpenAPI 3.0 document of `specs/corpus/manifest.yaml`, in alternating rounds, the time
//!    from the file to formatted Rust of a client: drydock's load, merge and models and client
//!    emitters, and progenitor's parse, `generate_tokens` and prettyplease. A document
//!    progenitor rejects or panics on is reported as such. The program writes both crates of
//!    every document progenitor accepts under `target/bench/progenitor/crates/NAME/`, and their
//!    lines of Rust (drydock: models and client; progenitor: the one file).
//! 2. **Build** (`cargo build`, dev profile, dependencies fetched before any clock starts): each
//!    generator's crates build into a target folder of their own. The first document (the
//!    largest) is built clean with its dependencies, then every crate alone
//!    (`cargo clean -p` of its packages, dependencies built).
//! 3. **Calls** (scratch crate `target/bench/progenitor-load`, release): both clients of
//!    `openstates` call `GET /jurisdictions/{jurisdiction_id}` on one local axum server that
//!    answers a fixed jurisdiction, in alternating rounds; calls per second, one connection.
//!
//! progenitor is compiled only in these scratch crates, so the workspace and CI never build it.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::{cargo_in, ratio, run_scratch};
use crate::workspace_root;

/// The version of progenitor compared against, pinned so that runs compare alike (the newest
/// release when this was written).
const PROGENITOR_VERSION: &str = "=0.15.1";

/// The document whose clients the calls compare (progenitor accepts it; it has the most
/// operations of those it accepts).
const LOAD_SPEC: &str = "openstates";

/// Arguments of `cargo xtask bench progenitor`.
#[derive(clap::Args)]
pub struct ProgenitorBenchArgs {
    /// Timed generations of each document with each generator.
    #[arg(long, default_value_t = 20)]
    pub rounds: usize,
    /// Calls of each client per round of the calls measurement.
    #[arg(long, default_value_t = 2000)]
    pub calls: usize,
    /// Clean builds of each generator's largest crate (the best is reported); builds of
    /// each crate alone take at least three.
    #[arg(long, default_value_t = 2)]
    pub build_rounds: usize,
}

/// One document's generation, as the scratch program wrote it.
struct Generated {
    name: String,
    operations: usize,
    drydock: Duration,
    drydock_lines: usize,
    /// `ok`, or what progenitor did instead (`rejects: …`, `panics: …`).
    progenitor_status: String,
    progenitor: Duration,
    progenitor_lines: usize,
}

/// Runs `cargo xtask bench progenitor`.
pub fn run(args: &ProgenitorBenchArgs) -> Result<(), String> {
    if args.rounds == 0 || args.calls == 0 || args.build_rounds == 0 {
        return Err("--rounds, --calls and --build-rounds must be at least 1".to_string());
    }
    let root = workspace_root();
    let manifest = xtask::corpus::Manifest::load_default()?;
    let cache = xtask::corpus::default_cache();
    xtask::corpus::fetch(&manifest, &cache)?;
    let specs: Vec<(String, PathBuf)> = manifest
        .specs
        .iter()
        .filter(|s| s.format == "openapi-3.0")
        .map(|s| (s.name.clone(), s.path_in(&cache)))
        .collect();
    let out = root.join("target/bench/progenitor");
    if out.exists() {
        std::fs::remove_dir_all(&out)
            .map_err(|e| format!("cannot remove {}: {e}", out.display()))?;
    }
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    println!(
        "building the generators (drydock and progenitor {PROGENITOR_VERSION}) in release mode"
    );
    let dependencies = format!(
        "xtask = {{ path = {xtask:?} }}\ndrydock-spec = {{ path = {spec:?} }}\ndrydock-codegen = {{ path = {codegen:?} }}\ndrydock-ir = {{ path = {ir:?} }}\nprogenitor = {{ version = \"{PROGENITOR_VERSION}\", default-features = false }}\nopenapiv3 = \"2\"\nserde_json = \"1\"\nprettyplease = \"0.2\"\nsyn = {{ version = \"2\", features = [\"full\"] }}\n",
        xtask = root.join("xtask").display().to_string(),
        spec = root.join("generator/spec").display().to_string(),
        codegen = root.join("generator/codegen").display().to_string(),
        ir = root.join("generator/ir").display().to_string(),
    );
    let mut program_args = vec![
        out.display().to_string(),
        root.join("runtime").display().to_string(),
        args.rounds.to_string(),
    ];
    program_args.extend(
        specs
            .iter()
            .map(|(name, path)| format!("{name}={}", path.display())),
    );
    run_scratch(
        &root,
        "progenitor-generate",
        &dependencies,
        GENERATE_MAIN,
        &program_args,
    )?;
    let generated = read_generated(&out.join("generate.tsv"))?;

    let mut accepted: Vec<&Generated> = generated
        .iter()
        .filter(|g| g.progenitor_status == "ok")
        .collect();
    accepted.sort_by_key(|g| std::cmp::Reverse(g.drydock_lines + g.progenitor_lines));
    let load_before = load_average();
    let builds = build_times(&out, &accepted, args.build_rounds)?;

    println!("building the calls benchmark ({LOAD_SPEC}'s two clients) in release mode");
    let load_crates = out.join("crates").join(LOAD_SPEC);
    if !load_crates.join("progenitor").is_dir() {
        return Err(format!(
            "progenitor did not generate {LOAD_SPEC}, whose clients the calls compare"
        ));
    }
    let dependencies = format!(
        "bench-{LOAD_SPEC}-drydock = {{ path = {:?}, features = [\"client\"] }}\nbench-{LOAD_SPEC}-progenitor = {{ path = {:?} }}\ntokio = {{ version = \"1\", features = [\"rt-multi-thread\", \"net\"] }}\naxum = {{ version = \"0.8\", default-features = false, features = [\"http1\", \"tokio\"] }}\n",
        load_crates.join("drydock").display().to_string(),
        load_crates.join("progenitor").display().to_string(),
    );
    let calls_file = out.join("calls.tsv");
    run_scratch(
        &root,
        "progenitor-load",
        &dependencies,
        LOAD_MAIN,
        &[args.calls.to_string(), calls_file.display().to_string()],
    )?;
    let calls = std::fs::read_to_string(&calls_file)
        .map_err(|e| format!("cannot read {}: {e}", calls_file.display()))?;

    report(&generated, &builds, &calls, args.build_rounds);
    println!(
        "load average (1, 5, 15 min) before the builds: {load_before}; at the end: {}",
        load_average()
    );
    Ok(())
}

/// Reads the scratch program's `generate.tsv`: one line per document.
fn read_generated(path: &Path) -> Result<Vec<Generated>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let micros = |s: &str| s.parse::<u64>().map(Duration::from_micros);
    text.lines()
        .map(|line| {
            let f: Vec<&str> = line.split('\t').collect();
            let bad = || format!("{}: a line that is not 7 fields: {line:?}", path.display());
            if f.len() != 7 {
                return Err(bad());
            }
            Ok(Generated {
                name: f[0].to_string(),
                operations: f[1].parse().map_err(|_| bad())?,
                drydock: micros(f[2]).map_err(|_| bad())?,
                drydock_lines: f[3].parse().map_err(|_| bad())?,
                progenitor_status: f[4].to_string(),
                progenitor: micros(f[5]).map_err(|_| bad())?,
                progenitor_lines: f[6].parse().map_err(|_| bad())?,
            })
        })
        .collect()
}

/// Build times, best of the rounds, drydock's then progenitor's: the first document built
/// clean with its dependencies, then each document's crate alone.
struct Builds {
    clean: (String, [Duration; 2]),
    alone: Vec<(String, [Duration; 2])>,
}

/// The two generators, in the order of their columns.
const GENERATORS: [&str; 2] = ["drydock", "progenitor"];

/// `cargo build` of every accepted document's two crates, each generator into its own
/// target folder, in `rounds` alternating rounds: the first document clean with its
/// dependencies (the target folder removed first), then each crate alone.
fn build_times(out: &Path, accepted: &[&Generated], rounds: usize) -> Result<Builds, String> {
    let Some(first) = accepted.first() else {
        return Err("progenitor accepted no OpenAPI 3.0 document of the corpus".to_string());
    };
    let dir = |name: &str, generator: &str| out.join("crates").join(name).join(generator);
    for g in accepted {
        for generator in GENERATORS {
            println!(
                "fetching the dependencies of {}'s {generator} crate",
                g.name
            );
            cargo_in(
                &dir(&g.name, generator),
                &target(out, generator),
                &["fetch"],
            )?;
        }
    }
    let mut clean = [Duration::MAX; 2];
    for round in 0..rounds {
        for i in [round % 2, 1 - round % 2] {
            let generator = GENERATORS[i];
            let target = target(out, generator);
            if target.exists() {
                std::fs::remove_dir_all(&target)
                    .map_err(|e| format!("cannot remove {}: {e}", target.display()))?;
            }
            println!(
                "clean build of {}'s {generator} crate with its dependencies ({}/{rounds})",
                first.name,
                round + 1
            );
            clean[i] = clean[i].min(timed_build(
                &dir(&first.name, generator),
                &target,
                generator,
            )?);
        }
    }
    let mut alone = Vec::new();
    for g in accepted {
        let mut times = [Duration::MAX; 2];
        for generator in GENERATORS {
            cargo_in(
                &dir(&g.name, generator),
                &target(out, generator),
                &build_args(generator),
            )?;
        }
        println!("builds of {}'s crates alone", g.name);
        for round in 0..rounds.max(3) {
            for i in [round % 2, 1 - round % 2] {
                let generator = GENERATORS[i];
                let (dir, target) = (dir(&g.name, generator), target(out, generator));
                let mut clean_args = vec!["clean".to_string(), "--offline".to_string()];
                for package in packages(&g.name, generator) {
                    clean_args.push("-p".to_string());
                    clean_args.push(package);
                }
                let clean_args: Vec<&str> = clean_args.iter().map(String::as_str).collect();
                cargo_in(&dir, &target, &clean_args)?;
                times[i] = times[i].min(timed_build(&dir, &target, generator)?);
            }
        }
        alone.push((g.name.clone(), times));
    }
    Ok(Builds {
        clean: (first.name.clone(), clean),
        alone,
    })
}

/// The target folder of one generator's crates.
fn target(out: &Path, generator: &str) -> PathBuf {
    out.join(format!("target-{generator}"))
}

/// The packages of a document's crate: drydock's root, models and client; progenitor's one.
fn packages(name: &str, generator: &str) -> Vec<String> {
    let base = format!("bench-{name}-{generator}");
    if generator == "drydock" {
        vec![
            base.clone(),
            format!("{base}-models"),
            format!("{base}-client"),
        ]
    } else {
        vec![base]
    }
}

/// `cargo build` of a generator's crate: drydock's with its feature `client` (the models and
/// the client, as progenitor's crate holds both).
fn build_args(generator: &str) -> Vec<&'static str> {
    let mut args = vec!["build", "--offline"];
    if generator == "drydock" {
        args.extend(["--features", "client"]);
    }
    args
}

fn timed_build(dir: &Path, target: &Path, generator: &str) -> Result<Duration, String> {
    let start = Instant::now();
    cargo_in(dir, target, &build_args(generator))?;
    Ok(start.elapsed())
}

fn report(generated: &[Generated], builds: &Builds, calls: &str, rounds: usize) {
    println!();
    println!("generation, median of the rounds (release builds of both generators):");
    println!(
        "{:<18} {:>4} {:>12} {:>8} {:>12} {:>8} {:>7}   progenitor",
        "document", "ops", "drydock", "lines", "progenitor", "lines", "ratio"
    );
    for g in generated {
        if g.progenitor_status == "ok" {
            println!(
                "{:<18} {:>4} {:>10.1}ms {:>8} {:>10.1}ms {:>8} {:>7.2}   accepts",
                g.name,
                g.operations,
                millis(g.drydock),
                g.drydock_lines,
                millis(g.progenitor),
                g.progenitor_lines,
                ratio(g.drydock, g.progenitor)
            );
        } else {
            println!(
                "{:<18} {:>4} {:>10.1}ms {:>8} {:>12} {:>8} {:>7}   {}",
                g.name,
                g.operations,
                millis(g.drydock),
                g.drydock_lines,
                "-",
                "-",
                "-",
                g.progenitor_status
            );
        }
    }
    println!();
    println!(
        "cargo build (dev profile), the best of the rounds; drydock's crate with feature `client` (models + client):"
    );
    println!(
        "{:<40} {:>10} {:>12} {:>7}",
        "", "drydock", "progenitor", "ratio"
    );
    let (name, [drydock, progenitor]) = &builds.clean;
    println!(
        "{:<40} {:>9.1}s {:>11.1}s {:>7.2}",
        format!("{name}, clean, with dependencies (best of {rounds})"),
        drydock.as_secs_f64(),
        progenitor.as_secs_f64(),
        ratio(*drydock, *progenitor)
    );
    for (name, [drydock, progenitor]) in &builds.alone {
        println!(
            "{:<40} {:>9.1}s {:>11.1}s {:>7.2}",
            format!("{name}, the crate alone (best of {})", rounds.max(3)),
            drydock.as_secs_f64(),
            progenitor.as_secs_f64(),
            ratio(*drydock, *progenitor)
        );
    }
    println!();
    print!("{calls}");
}

/// `/proc/loadavg`'s first three fields, or `unknown`.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".to_string())
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// `src/main.rs` of the scratch crate that times both generators and writes their crates.
const GENERATE_MAIN: &str = r##"//! Written by `cargo xtask bench progenitor`: drydock's and progenitor's generation of a
//! client for each document, timed in alternating rounds; both crates written out.
//! Arguments: OUT RUNTIME ROUNDS NAME=PATH…

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// drydock from the file to formatted Rust: load, merge, models and client. Returns the
/// files and the operation count.
fn drydock(path: &Path) -> Result<(BTreeMap<PathBuf, String>, usize), String> {
    let value = drydock_spec::document::load_document(path).map_err(|e| e.to_string())?;
    let wanted = value
        .pointer("/info/version")
        .and_then(|v| v.as_str())
        .unwrap_or("1.0")
        .to_string();
    let label = xtask::generate::usable_labels(&[wanted]).remove(0);
    let documents = vec![drydock_spec::manifest::VersionDocument {
        version: drydock_ir::ApiVersion::new(label),
        file: path.display().to_string(),
        value,
    }];
    let built = drydock_spec::build(documents, Duration::ZERO).map_err(|e| e.to_string())?;
    let mut files = drydock_codegen::emit_models(&built.api, "models").map_err(|e| e.to_string())?;
    let client = drydock_codegen::emit_client(&built.api, "client").map_err(|e| e.to_string())?;
    files.extend(client.into_iter().map(|(p, t)| (Path::new("client").join(p), t)));
    Ok((files, built.api.operations.len()))
}

/// What progenitor needs beside its code, from what the code uses.
struct ProgenitorCrate {
    code: String,
    chrono: bool,
    uuid: bool,
    regress: bool,
    futures: bool,
}

/// progenitor from the file to formatted Rust: parse, `generate_tokens`, prettyplease.
fn progenitor(path: &Path) -> Result<ProgenitorCrate, String> {
    let text = std::fs::read_to_string(path).map_err(|e| e.to_string())?;
    let spec: openapiv3::OpenAPI = serde_json::from_str(&text).map_err(|e| format!("rejects: {e}"))?;
    let mut generator = progenitor::Generator::default();
    let tokens = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| generator.generate_tokens(&spec)))
        .map_err(|payload| {
            let message = payload
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            format!("panics: {message}")
        })?
        .map_err(|e| format!("rejects: {e}"))?;
    let file = syn::parse2::<syn::File>(tokens).map_err(|e| format!("rejects: {e}"))?;
    let types = generator.get_type_space();
    Ok(ProgenitorCrate {
        code: prettyplease::unparse(&file),
        chrono: types.uses_chrono(),
        uuid: types.uses_uuid(),
        regress: types.uses_regress(),
        futures: generator.uses_futures(),
    })
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}

fn lines(files: &BTreeMap<PathBuf, String>) -> usize {
    files
        .iter()
        .filter(|(p, _)| p.extension().is_some_and(|e| e == "rs"))
        .map(|(_, t)| t.lines().count())
        .sum()
}

fn write(path: &Path, text: &str) {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).expect("the folder is made");
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let out = PathBuf::from(&args[0]);
    let runtime = PathBuf::from(&args[1]);
    let rounds: usize = args[2].parse().expect("ROUNDS is a count");
    // progenitor's panics are caught and reported; their default message would only repeat it.
    std::panic::set_hook(Box::new(|_| {}));
    let mut table = String::new();
    for pair in &args[3..] {
        let (name, path) = pair.split_once('=').expect("NAME=PATH");
        let path = Path::new(path);
        let (files, operations) = match drydock(path) {
            Ok(generated) => generated,
            Err(e) => panic!("drydock fails on {name}: {e}"),
        };
        let accepted = progenitor(path);
        let mut drydock_times = Vec::new();
        let mut progenitor_times = Vec::new();
        for round in 0..rounds {
            for which in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                if which == 0 {
                    std::hint::black_box(drydock(path).expect("drydock generated it before"));
                    drydock_times.push(start.elapsed());
                } else if accepted.is_ok() {
                    let _ = std::hint::black_box(progenitor(path));
                    progenitor_times.push(start.elapsed());
                }
            }
        }
        let drydock_time = median(&mut drydock_times);
        let (status, progenitor_time, progenitor_lines) = match &accepted {
            Ok(generated) => ("ok".to_string(), median(&mut progenitor_times), generated.code.lines().count()),
            Err(e) => (e.lines().next().unwrap_or_default().replace('\t', " "), Duration::ZERO, 0),
        };
        eprintln!("{name}: drydock {drydock_time:.1?}, progenitor {status}");
        writeln!(
            table,
            "{name}\t{operations}\t{}\t{}\t{status}\t{}\t{progenitor_lines}",
            drydock_time.as_micros(),
            lines(&files),
            progenitor_time.as_micros()
        )
        .expect("a String takes text");
        let Ok(generated) = accepted else { continue };

        // Both crates, for the build measurement: drydock's as `cargo xtask generate` writes it.
        let crate_dir = out.join("crates").join(name);
        let drydock_name = format!("bench-{name}-drydock");
        let crate_files = xtask::generate::generate_crate(
            &[path.to_path_buf()],
            &xtask::generate::Options {
                crate_name: drydock_name,
                labels: Vec::new(),
                runtime: xtask::generate::RuntimeDep::Path(runtime.clone()),
            },
        )
        .unwrap_or_else(|e| panic!("generate fails on {name}: {e}"));
        xtask::generate::write_files(&crate_files.files, &crate_dir.join("drydock"))
            .unwrap_or_else(|e| panic!("{e}"));
        let mut manifest = format!(
            "[package]\nname = \"bench-{name}-progenitor\"\nversion = \"0.1.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nbytes = \"1\"\nfutures-core = \"0.3\"\nprogenitor-client = \"=0.15.1\"\nreqwest = {{ version = \"0.13\", default-features = false, features = [\"json\", \"query\", \"stream\"] }}\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = \"1\"\nserde_urlencoded = \"0.7\"\n"
        );
        if generated.chrono {
            manifest.push_str("chrono = { version = \"0.4\", default-features = false, features = [\"serde\"] }\n");
        }
        if generated.uuid {
            manifest.push_str("uuid = { version = \"1\", features = [\"serde\"] }\n");
        }
        if generated.regress {
            manifest.push_str("regress = \"0.10\"\n");
        }
        if generated.futures {
            manifest.push_str("futures = \"0.3\"\n");
        }
        manifest.push_str("\n[workspace]\n");
        write(&crate_dir.join("progenitor/Cargo.toml"), &manifest);
        write(&crate_dir.join("progenitor/src/lib.rs"), &generated.code);
    }
    write(&out.join("generate.tsv"), &table);
}
"##;

/// `src/main.rs` of the scratch crate that times both clients of [`LOAD_SPEC`].
const LOAD_MAIN: &str = r##"//! Written by `cargo xtask bench progenitor`: drydock's and progenitor's clients of the
//! Open States API call `GET /jurisdictions/{jurisdiction_id}` on one local server that
//! answers a fixed jurisdiction, in alternating rounds. Arguments: CALLS OUT_FILE.

use std::time::{Duration, Instant};

use bench_openstates_drydock::client::JurisdictionDetailJurisdictionsJurisdictionIdGetParams as Params;

const ROUNDS: usize = 6;
const ID: &str = "ocd-jurisdiction/country:us/state:nc/government";

/// A jurisdiction with two sessions and two chambers, which both clients' models accept.
const JURISDICTION: &str = r#"{"id":"ocd-jurisdiction/country:us/state:nc/government","name":"North Carolina","classification":"state","division_id":"ocd-division/country:us/state:nc","url":"https://nc.gov","latest_bill_update":"2021-11-12T10:00:00+00:00","latest_people_update":"2021-11-10T08:30:00+00:00","legislative_sessions":[{"identifier":"2021","name":"2021-2022 Session","classification":"primary","start_date":"2021-01-13","end_date":"2022-12-31"},{"identifier":"2021E1","name":"2021 First Extra Session","classification":"special","start_date":"2021-11-01","end_date":"2021-11-30"}],"organizations":[{"id":"ocd-organization/1","name":"North Carolina General Assembly","classification":"legislature"},{"id":"ocd-organization/2","name":"Senate","classification":"upper"}]}"#;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let calls: usize = args[0].parse().expect("CALLS is a count");
    let out = &args[1];
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let app = axum::Router::new().route(
            "/jurisdictions/{id}",
            axum::routing::get(|| async {
                ([(axum::http::header::CONTENT_TYPE, "application/json")], JURISDICTION)
            }),
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        let drydock = bench_openstates_drydock::client::Client::with_base_url(&base).expect("drydock's client");
        let progenitor = bench_openstates_progenitor::Client::new(&base);
        let call_drydock = || async {
            let params = Params { jurisdiction_id: ID.to_string(), ..Default::default() };
            let jurisdiction = drydock
                .jurisdiction_detail_jurisdictions_jurisdiction_id_get(params)
                .await
                .expect("drydock's call");
            jurisdiction.legislative_sessions.map_or(0, |s| s.len())
        };
        let call_progenitor = || async {
            let jurisdiction = progenitor
                .jurisdiction_detail_jurisdictions_jurisdiction_id_get(ID, None, None, None)
                .await
                .expect("progenitor's call")
                .into_inner();
            jurisdiction.legislative_sessions.len()
        };
        assert_eq!(call_drydock().await, 2, "drydock decodes both sessions");
        assert_eq!(call_progenitor().await, 2, "progenitor decodes both sessions");
        for _ in 0..calls / 10 {
            call_drydock().await;
            call_progenitor().await;
        }
        let mut times: [Vec<Duration>; 2] = [Vec::new(), Vec::new()];
        for round in 0..ROUNDS {
            for which in [round % 2, 1 - round % 2] {
                let start = Instant::now();
                for _ in 0..calls {
                    if which == 0 {
                        call_drydock().await;
                    } else {
                        call_progenitor().await;
                    }
                }
                times[which].push(start.elapsed());
            }
        }
        let per_second = |times: &mut Vec<Duration>| {
            times.sort();
            calls as f64 / times[times.len() / 2].as_secs_f64()
        };
        let drydock = per_second(&mut times[0]);
        let progenitor = per_second(&mut times[1]);
        let text = format!(
            "calls of GET /jurisdictions/{{id}} (openstates), one connection, median of {ROUNDS} rounds of {calls}:\n{:<40} {:>9.0}/s {:>9.0}/s {:>7.2}\n",
            "calls per second (drydock, progenitor)",
            drydock,
            progenitor,
            drydock / progenitor
        );
        std::fs::write(out, text).expect("the result is written");
    });
}
"##;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drydock_crates_build_and_clean_with_their_models_and_client() {
        assert_eq!(
            build_args("drydock"),
            ["build", "--offline", "--features", "client"]
        );
        assert_eq!(build_args("progenitor"), ["build", "--offline"]);
        assert_eq!(
            packages("uspto", "drydock"),
            [
                "bench-uspto-drydock",
                "bench-uspto-drydock-models",
                "bench-uspto-drydock-client"
            ]
        );
        assert_eq!(packages("uspto", "progenitor"), ["bench-uspto-progenitor"]);
    }

    #[test]
    fn generation_lines_read_back() {
        let dir = std::env::temp_dir().join(format!("drydock-bench-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("a temp folder");
        let path = dir.join("generate.tsv");
        std::fs::write(
            &path,
            "uspto\t3\t1500\t900\tok\t4200\t308\nxkcd\t2\t800\t300\trejects: no operation id\t0\t0\n",
        )
        .expect("written");
        let read = read_generated(&path).expect("two lines");
        assert_eq!(read.len(), 2);
        assert_eq!(read[0].drydock, Duration::from_micros(1500));
        assert_eq!(read[1].progenitor_status, "rejects: no operation id");
        std::fs::write(&path, "uspto\t3\n").expect("written");
        assert!(read_generated(&path).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
