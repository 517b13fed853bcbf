//! Times the diff of every consecutive pair of Docker API versions (v1.23..v1.33,
//! ten pairs) and the rendering of the committed report set.
//!
//! `cargo bench -p drydock-diff` prints the fastest and the median of a few runs.
//! A bench binary rather than criterion: the numbers that matter here are
//! milliseconds per `cargo xtask codegen`, not nanosecond regressions.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use drydock_diff::{DiffOptions, diff, reports};

const RUNS: usize = 10;

/// Runs `work` [`RUNS`] times and prints the fastest and median run.
fn time(name: &str, mut work: impl FnMut() -> usize) {
    let mut runs: Vec<Duration> = Vec::with_capacity(RUNS);
    let mut size = 0;
    for _ in 0..RUNS {
        let start = Instant::now();
        size = std::hint::black_box(work());
        runs.push(start.elapsed());
    }
    runs.sort();
    println!(
        "{name}: fastest {:.2?}, median {:.2?} ({size} items, {RUNS} runs)",
        runs[0],
        runs[RUNS / 2]
    );
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let api = match drydock_spec::docker_api(None, &root) {
        Ok(built) => built.api,
        Err(e) => {
            eprintln!("loading the Docker API specs: {e}");
            std::process::exit(1);
        }
    };
    let options = DiffOptions::default();
    time("diff of the ten consecutive pairs", || {
        api.versions
            .windows(2)
            .map(|pair| diff(&api, &pair[0], &pair[1], &options).changes.len())
            .sum()
    });
    time("committed report set (diff and render)", || {
        reports(&api).values().map(String::len).sum()
    });
}
