//! `cargo xtask bench models-build`: how long the generated models take to build, beside
//! bollard's models (`bollard-stubs` from crates.io), measured the same way in one run.
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
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .args(args)
        .arg("--quiet")
        .current_dir(&subject.scratch)
        .env("CARGO_TARGET_DIR", &subject.target)
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .status()
        .map_err(|e| format!("cannot run cargo {}: {e}", args.join(" ")))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "cargo {} for {} failed with {status}",
            args.join(" "),
            subject.label
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
