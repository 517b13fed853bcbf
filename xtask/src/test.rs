//! `cargo xtask test`: install what the tests need when it is missing, then run them all.
//!
//! CI runs exactly this command on a fresh machine that has only the repository and the Rust
//! toolchain, so everything the tests need from outside Cargo is installed here: the Debian
//! packages listed in [`DEBIAN_PACKAGES`]. A warm machine that already has them skips apt.
//!
//! Then every check runs as its own step, in order, each with a header line and its time:
//! rustfmt, clippy, `xtask codegen --check`, the test suite (nextest when installed) and the
//! doc tests. By default a failed step does not stop the later ones, so one run reports every
//! failure; the command exits non-zero when any step failed.

use std::io::{BufRead, BufReader, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Arguments of `cargo xtask test`.
#[derive(clap::Args)]
pub struct TestArgs {
    /// Do not check or install the Debian packages the tests need.
    #[arg(long)]
    pub no_install: bool,
    /// Stop at the first failed step instead of running the rest.
    #[arg(long)]
    pub fail_fast: bool,
}

/// One Debian package the tests need.
struct DebianPackage {
    /// The package's name for `apt-get install`.
    name: &'static str,
    /// What needs it.
    why: &'static str,
}

/// Every Debian package the tests need: add a row here when a test needs another one.
const DEBIAN_PACKAGES: &[DebianPackage] = &[
    DebianPackage {
        name: "docker.io",
        why: "dockerd 20.10 (API 1.41) and its docker CLI, for the live-daemon tests",
    },
    DebianPackage {
        name: "busybox-static",
        why: "/bin/busybox, the rootfs of the test image the live-daemon tests import",
    },
    DebianPackage {
        name: "runc",
        why: "the OCI runtime dockerd runs containers with",
    },
    DebianPackage {
        name: "procps",
        why: "ps, which dockerd runs on the host to answer GET /containers/{id}/top",
    },
    DebianPackage {
        name: "tini",
        why: "docker-init, for `docker run --init`",
    },
    DebianPackage {
        name: "iproute2",
        why: "`ip`, which dockerd's networking calls",
    },
    DebianPackage {
        name: "iptables",
        why: "the firewall tool of dockerd's networking (the tests run it with --iptables=false)",
    },
    DebianPackage {
        name: "python3-docker",
        why: "docker-py, the real SDK the SDK test drives dockerd and drydockd with",
    },
    DebianPackage {
        name: "chromium",
        why: "headless rendering of the HTML reports in their tests",
    },
];

/// Runs `cargo xtask test`.
pub fn run(args: TestArgs) -> Result<(), String> {
    let root = crate::workspace_root();
    // Resolved before any step runs: later builds may replace the file at this path.
    let xtask =
        std::env::current_exe().map_err(|e| format!("cannot find the xtask binary: {e}"))?;
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let started = Instant::now();
    let mut report = Report::default();

    if !args.no_install {
        let outcome = timed_step(1, "install missing Debian packages", || {
            install_missing_packages()
        });
        report.record("install missing Debian packages", outcome);
        if args.fail_fast && report.any_failed() {
            return report.finish(started);
        }
    }

    let nextest = has_nextest(&cargo, &root);
    let steps = [
        Step::new(
            "cargo fmt --check",
            &cargo,
            &["fmt", "--all", "--", "--check"],
        ),
        Step::new(
            "cargo clippy -D warnings",
            &cargo,
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
        ),
        Step::new(
            "cargo xtask codegen --check",
            &xtask,
            &["codegen", "--check"],
        ),
        if nextest {
            Step::new(
                "cargo nextest run",
                &cargo,
                &["nextest", "run", "--workspace", "--no-fail-fast"],
            )
        } else {
            Step::new(
                "cargo test (nextest not installed)",
                &cargo,
                &[
                    "test",
                    "--workspace",
                    "--lib",
                    "--bins",
                    "--tests",
                    "--no-fail-fast",
                ],
            )
        }
        .counting_tests(),
        Step::new(
            "cargo test --doc",
            &cargo,
            &["test", "--workspace", "--doc", "--no-fail-fast"],
        )
        .counting_tests(),
    ];
    let first = if args.no_install { 1 } else { 2 };
    for (number, step) in (first..).zip(&steps) {
        let outcome = timed_step(number, &step.title, || step.run(&root));
        report.record(&step.title, outcome);
        if args.fail_fast && report.any_failed() {
            break;
        }
    }
    report.finish(started)
}

/// Runs one step under a numbered header line and prints how long it took.
fn timed_step(
    number: usize,
    title: &str,
    body: impl FnOnce() -> Result<TestCounts, String>,
) -> StepOutcome {
    println!("\n==> [{number}] {title}");
    flush_stdout();
    let started = Instant::now();
    let result = body();
    let elapsed = started.elapsed();
    match &result {
        Ok(_) => println!("<== [{number}] {title}: ok in {}", seconds(elapsed)),
        Err(message) => {
            println!("<== [{number}] {title}: FAILED in {}", seconds(elapsed));
            eprintln!("error: {title}: {message}");
        }
    }
    flush_stdout();
    StepOutcome { result, elapsed }
}

fn flush_stdout() {
    // A failed flush of our own stdout leaves nothing better to do than go on.
    let _ = std::io::stdout().flush();
}

fn seconds(elapsed: Duration) -> String {
    format!("{:.1}s", elapsed.as_secs_f64())
}

/// What one step ended with.
struct StepOutcome {
    result: Result<TestCounts, String>,
    elapsed: Duration,
}

/// The outcome of every step so far and the tests they counted.
#[derive(Default)]
struct Report {
    lines: Vec<(String, bool, Duration)>,
    failed: Vec<String>,
    counts: TestCounts,
}

impl Report {
    fn record(&mut self, title: &str, outcome: StepOutcome) {
        let ok = outcome.result.is_ok();
        match outcome.result {
            Ok(counts) => self.counts.add(counts),
            Err(_) => self.failed.push(title.to_owned()),
        }
        self.lines.push((title.to_owned(), ok, outcome.elapsed));
    }

    fn any_failed(&self) -> bool {
        !self.failed.is_empty()
    }

    /// Prints the summary; its last line is the test runners' total in the plain
    /// `N passed, N failed` form.
    fn finish(self, started: Instant) -> Result<(), String> {
        println!("\n==> summary ({} in all)", seconds(started.elapsed()));
        for (title, ok, elapsed) in &self.lines {
            let status = if *ok { "ok    " } else { "FAILED" };
            println!("  {status} {title:<40} {:>8}", seconds(*elapsed));
        }
        println!(
            "drydock: {} passed, {} failed",
            self.counts.passed, self.counts.failed
        );
        flush_stdout();
        if self.failed.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "{} step(s) failed: {}",
                self.failed.len(),
                self.failed.join(", ")
            ))
        }
    }
}

/// Tests passed and failed, as the test runners' summary lines count them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct TestCounts {
    passed: u64,
    failed: u64,
}

impl TestCounts {
    fn add(&mut self, other: TestCounts) {
        self.passed += other.passed;
        self.failed += other.failed;
    }

    /// The counts in one line of nextest's (`Summary [ 1.2s] 9 tests run: 8 passed, 1 failed,
    /// 0 skipped`) or libtest's (`test result: ok. 8 passed; 1 failed; …`) summary; `None` for
    /// any other line.
    fn from_summary_line(line: &str) -> Option<TestCounts> {
        let line = line.trim();
        if !(line.starts_with("Summary [") || line.starts_with("test result:")) {
            return None;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let count_before = |label: &str| {
            words
                .windows(2)
                .find(|pair| pair[1].trim_end_matches([',', ';']) == label)
                .and_then(|pair| pair[0].parse::<u64>().ok())
                .unwrap_or(0)
        };
        Some(TestCounts {
            passed: count_before("passed"),
            failed: count_before("failed"),
        })
    }
}

/// One command run as a step.
struct Step {
    title: String,
    program: PathBuf,
    args: Vec<String>,
    counts_tests: bool,
}

impl Step {
    fn new(title: &str, program: &Path, args: &[&str]) -> Step {
        Step {
            title: title.to_owned(),
            program: program.to_path_buf(),
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            counts_tests: false,
        }
    }

    /// Reads the test runner's summary lines out of this step's output.
    fn counting_tests(mut self) -> Step {
        self.counts_tests = true;
        self
    }

    fn run(&self, root: &Path) -> Result<TestCounts, String> {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(root);
        println!("$ {} {}", self.program.display(), self.args.join(" "));
        flush_stdout();
        if !self.counts_tests {
            let status = command
                .status()
                .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
            return if status.success() {
                Ok(TestCounts::default())
            } else {
                Err(format!("exited with {status}"))
            };
        }
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", self.program.display()))?;
        let stdout = child.stdout.take().map(|out| echo_counting(out, false));
        let stderr = child.stderr.take().map(|err| echo_counting(err, true));
        let status = child
            .wait()
            .map_err(|e| format!("cannot wait for {}: {e}", self.program.display()))?;
        let mut counts = TestCounts::default();
        for reader in [stdout, stderr].into_iter().flatten() {
            counts.add(reader.join().unwrap_or_default());
        }
        if status.success() {
            Ok(counts)
        } else {
            Err(format!(
                "exited with {status} ({} passed, {} failed)",
                counts.passed, counts.failed
            ))
        }
    }
}

/// Copies a child's output through to ours line by line, adding up its summary lines.
fn echo_counting(
    output: impl Read + Send + 'static,
    to_stderr: bool,
) -> std::thread::JoinHandle<TestCounts> {
    std::thread::spawn(move || {
        let mut counts = TestCounts::default();
        for line in BufReader::new(output).lines() {
            let Ok(line) = line else { break };
            if let Some(found) = TestCounts::from_summary_line(&line) {
                counts.add(found);
            }
            if to_stderr {
                eprintln!("{line}");
            } else {
                println!("{line}");
            }
        }
        counts
    })
}

/// Whether `cargo nextest` is installed.
fn has_nextest(cargo: &Path, root: &Path) -> bool {
    Command::new(cargo)
        .args(["nextest", "--version"])
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// Installs the packages of [`DEBIAN_PACKAGES`] that are not installed yet.
fn install_missing_packages() -> Result<TestCounts, String> {
    let missing: Vec<&DebianPackage> = DEBIAN_PACKAGES
        .iter()
        .filter(|package| !is_installed(package.name))
        .collect();
    if missing.is_empty() {
        println!(
            "all {} Debian packages the tests need are installed",
            DEBIAN_PACKAGES.len()
        );
        return Ok(TestCounts::default());
    }
    let names: Vec<&str> = missing.iter().map(|package| package.name).collect();
    for package in &missing {
        println!("missing: {:<16} {}", package.name, package.why);
    }
    if !is_root() {
        return Err(format!(
            "the tests need Debian packages that are not installed, and only root can install \
             them here: run `sudo apt-get install {}` (or `cargo xtask test --no-install` to \
             run without them, which fails the tests that use them)",
            names.join(" ")
        ));
    }
    run_checked(Command::new("apt-get").arg("update"), "apt-get update")?;
    run_checked(
        Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&names)
            .env("DEBIAN_FRONTEND", "noninteractive"),
        "apt-get install",
    )?;
    let still_missing: Vec<&str> = names
        .iter()
        .copied()
        .filter(|name| !is_installed(name))
        .collect();
    if still_missing.is_empty() {
        Ok(TestCounts::default())
    } else {
        Err(format!(
            "apt-get install succeeded but these are still not installed: {}",
            still_missing.join(" ")
        ))
    }
}

/// Whether dpkg reports `package` as installed.
fn is_installed(package: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", package])
        .stderr(Stdio::null())
        .output()
        .is_ok_and(|output| output.status.success() && output.stdout.ends_with(b" installed"))
}

/// Whether this process runs as root (the owner of `/proc/self` is the effective user).
fn is_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// Runs a command with its output shown, failing with `what` when it fails.
fn run_checked(command: &mut Command, what: &str) -> Result<(), String> {
    println!("$ {what}");
    flush_stdout();
    let status = command
        .status()
        .map_err(|e| format!("cannot start {what}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("{what} exited with {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::TestCounts;

    #[test]
    fn nextest_summary_line_gives_passed_and_failed() {
        let line = "     Summary [  12.345s] 9 tests run: 7 passed, 2 failed, 1 skipped";
        assert_eq!(
            TestCounts::from_summary_line(line),
            Some(TestCounts {
                passed: 7,
                failed: 2
            })
        );
    }

    #[test]
    fn libtest_summary_line_gives_passed_and_failed() {
        let line = "test result: FAILED. 3 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.01s";
        assert_eq!(
            TestCounts::from_summary_line(line),
            Some(TestCounts {
                passed: 3,
                failed: 1
            })
        );
    }

    #[test]
    fn other_lines_count_nothing() {
        assert_eq!(
            TestCounts::from_summary_line("test foo::bar ... ok (2 passed earlier)"),
            None
        );
    }

    #[test]
    fn every_debian_package_is_listed_once() {
        let mut names: Vec<&str> = super::DEBIAN_PACKAGES.iter().map(|p| p.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "a package is listed twice");
    }
}
