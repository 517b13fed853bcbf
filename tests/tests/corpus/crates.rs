//! What the corpus tests share: the fetched corpus, and generated crates written under
//! `target/corpus/crates/` and built with cargo into the one `target/corpus/target`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use xtask::corpus::{self, CorpusSpec, Manifest};

/// The manifest, with every document fetched into the cache (once per test binary).
pub fn corpus() -> &'static (Manifest, PathBuf) {
    static CORPUS: OnceLock<(Manifest, PathBuf)> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let manifest = Manifest::load_default().unwrap_or_else(|e| panic!("{e}"));
        let cache = corpus::default_cache();
        corpus::fetch(&manifest, &cache)
            .unwrap_or_else(|e| panic!("cannot fetch the corpus into {}: {e}", cache.display()));
        (manifest, cache)
    })
}

/// The manifest's entry for document `name` and the path of its fetched file.
pub fn spec(name: &str) -> (CorpusSpec, PathBuf) {
    let (manifest, cache) = corpus();
    let spec = manifest
        .specs
        .iter()
        .find(|s| s.name == name)
        .unwrap_or_else(|| panic!("{name} is not in {}", corpus::MANIFEST));
    (spec.clone(), spec.path_in(cache))
}

fn corpus_dir() -> PathBuf {
    xtask::workspace_root().join("target/corpus")
}

/// Writes `files` as the crate `target/corpus/crates/NAME` (replacing what was there), seeded
/// with the workspace's lock file, which pins the dependencies the generated crates share
/// with it. Returns the crate's folder.
pub fn write_crate(name: &str, files: &BTreeMap<PathBuf, String>) -> PathBuf {
    let dir = corpus_dir().join("crates").join(name);
    let _ = std::fs::remove_dir_all(&dir);
    xtask::generate::write_files(files, &dir).unwrap_or_else(|e| panic!("{e}"));
    std::fs::copy(
        xtask::workspace_root().join("Cargo.lock"),
        dir.join("Cargo.lock"),
    )
    .unwrap_or_else(|e| panic!("cannot seed the lock file: {e}"));
    dir
}

/// Runs cargo in `dir` against the shared corpus target folder; returns (success, output).
pub fn cargo(dir: &Path, args: &[&str]) -> (bool, String) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let output = Command::new(cargo)
        .args(args)
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", corpus_dir().join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .unwrap_or_else(|e| panic!("cannot run cargo in {}: {e}", dir.display()));
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned()
        + &String::from_utf8_lossy(&output.stdout);
    (output.status.success(), stderr)
}

/// `cargo check --all-targets --features client,server` of the crate in `dir`: panics with
/// cargo's output when it fails or warns.
pub fn check_without_warnings(what: &str, dir: &Path) {
    let (ok, output) = cargo(
        dir,
        &[
            "check",
            "--all-targets",
            "--features",
            "client,server",
            "--message-format",
            "short",
        ],
    );
    assert!(
        ok,
        "{what}: the generated crate in {} does not pass cargo check:\n{output}",
        dir.display()
    );
    assert_no_warnings(what, dir, &output);
}

/// Panics with the warnings of a cargo run in `dir` when its `output` has any.
pub fn assert_no_warnings(what: &str, dir: &Path, output: &str) {
    let warnings: Vec<&str> = output.lines().filter(|l| l.contains("warning")).collect();
    assert!(
        warnings.is_empty(),
        "{what}: cargo in {} warns:\n{}",
        dir.display(),
        warnings.join("\n")
    );
}
