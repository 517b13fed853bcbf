//! drydockd against Debian's dockerd, side by side in one run, driven by the same docker CLI:
//! the latency of `docker run --rm busybox true` (create, attach, start, wait, remove) and the
//! memory the daemons hold when idle. Run with `cargo bench -p drydock-tests --bench engine`
//! (as root, with docker.io, runc and busybox-static installed).
//!
//! dockerd runs with `--bridge=none --iptables=false` and the containers of both with
//! `--network none`, so the numbers compare the engines, not their network set-up.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use drydock_tests::dockerd::Dockerd;
use drydock_tests::drydockd::Drydockd;

/// Runs per daemon (alternating, so drift on the machine hits both alike).
const RUNS: usize = 30;

fn main() {
    let dockerd = Dockerd::start();
    let drydockd = Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")));
    dockerd.import_busybox("busybox:latest");
    drydockd.import_busybox("busybox:latest");
    let run = |mut command: Command| -> Duration {
        let started = Instant::now();
        let output = command
            .args(["run", "--rm", "--network", "none", "busybox", "true"])
            .output()
            .expect("the docker CLI runs");
        let took = started.elapsed();
        assert!(
            output.status.success(),
            "docker run failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        took
    };
    // One warm-up run each: first runs page in binaries and images.
    run(dockerd.docker_command());
    run(drydockd.docker_command());
    let mut theirs = Vec::with_capacity(RUNS);
    let mut ours = Vec::with_capacity(RUNS);
    for _ in 0..RUNS {
        theirs.push(run(dockerd.docker_command()));
        ours.push(run(drydockd.docker_command()));
    }
    let (their_median, their_p90) = percentiles(&mut theirs);
    let (our_median, our_p90) = percentiles(&mut ours);
    std::thread::sleep(Duration::from_secs(2));
    let their_memory = tree_rss_kib(&dockerd_pid(&dockerd));
    let our_memory = tree_rss_kib(&daemon_pids_in(drydockd.dir(), "drydockd-for-tests"));
    println!("| what | drydockd | dockerd 20.10 | ratio |");
    println!("|---|---|---|---|");
    println!(
        "| `docker run --rm busybox true`, median of {RUNS} | {:.1} ms | {:.1} ms | {:.2} |",
        ms(our_median),
        ms(their_median),
        ms(our_median) / ms(their_median)
    );
    println!(
        "| `docker run --rm busybox true`, p90 | {:.1} ms | {:.1} ms | {:.2} |",
        ms(our_p90),
        ms(their_p90),
        ms(our_p90) / ms(their_p90)
    );
    println!(
        "| idle memory (RSS of the daemon's processes) | {:.1} MiB | {:.1} MiB (dockerd + containerd) | {:.2} |",
        our_memory as f64 / 1024.0,
        their_memory as f64 / 1024.0,
        our_memory as f64 / their_memory as f64
    );
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

/// dockerd's pid, from its pid file.
fn dockerd_pid(dockerd: &Dockerd) -> Vec<i32> {
    std::fs::read_to_string(dockerd.dir().join("pid"))
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .into_iter()
        .collect()
}

/// The pids of processes running `program` whose command line names `dir`.
fn daemon_pids_in(dir: &Path, program: &str) -> Vec<i32> {
    let wanted = dir.as_os_str().as_encoded_bytes();
    processes()
        .into_iter()
        .filter(|(pid, _)| {
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
            let first = cmdline.split(|b| *b == 0).next().unwrap_or_default();
            first.ends_with(program.as_bytes())
                && cmdline.windows(wanted.len()).any(|w| w == wanted)
                && !cmdline.windows(7).any(|w| w == b"monitor")
        })
        .map(|(pid, _)| pid)
        .collect()
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

/// The resident memory of `roots` and all their descendants, in KiB.
fn tree_rss_kib(roots: &[i32]) -> u64 {
    let all = processes();
    let mut tree: Vec<i32> = roots.to_vec();
    let mut index = 0;
    while index < tree.len() {
        let parent = tree[index];
        tree.extend(
            all.iter()
                .filter(|(_, p)| *p == parent)
                .map(|(pid, _)| *pid),
        );
        index += 1;
    }
    tree.iter()
        .filter_map(|pid| std::fs::read_to_string(format!("/proc/{pid}/status")).ok())
        .filter_map(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix("VmRSS:"))
                .and_then(|rest| {
                    rest.trim()
                        .trim_end_matches("kB")
                        .trim()
                        .parse::<u64>()
                        .ok()
                })
        })
        .sum()
}
