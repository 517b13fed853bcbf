//! Many `docker run` at once against a private drydockd, driven by the real docker CLI (28.x):
//! containers on the default bridge (a namespace, a veth pair and an address each), half with
//! `--rm` and half without, half named and half with generated names. Every run must succeed
//! with its own output and address, and once the rest are removed nothing may be left: no
//! mount, monitor, runc container, cgroup, veth, namespace, address or record (see
//! [`Drydockd::leftovers`]), and the next run gets an address. Needs root, runc, iproute2,
//! iptables and the docker CLI at /usr/local/bin/docker.

use std::collections::BTreeSet;
use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Output;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use drydock_tests::drydockd::Drydockd;

/// How many `docker run` start at once.
const RUNS: usize = 50;

/// What each container runs: its tag, then the IPv4 address of its `eth0`; it stays a second
/// so that the runs overlap.
const SCRIPT: &str =
    "echo \"$0\"; ip -4 -o addr show eth0 | sed -n 's/.* inet \\([0-9.]*\\)\\/.*/\\1/p'; sleep 1";

/// Run `n`: with `--rm` when even, named `conc-<n>` when `n % 4` is 0 or 1.
fn run_args(n: usize) -> Vec<String> {
    let mut args = vec!["run".to_owned()];
    if n.is_multiple_of(2) {
        args.push("--rm".to_owned());
    }
    if n % 4 < 2 {
        args.extend(["--name".to_owned(), format!("conc-{n}")]);
    }
    args.extend(
        ["busybox", "sh", "-c", SCRIPT]
            .iter()
            .map(|word| (*word).to_owned()),
    );
    args.push(format!("tag-{n}"));
    args
}

/// The docker CLI's output as text, with its exit status, for messages.
fn shown(output: &Output) -> String {
    format!(
        "{}; stdout {:?}; stderr {:?}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

/// Runs the docker CLI with `args` and returns its standard output.
///
/// # Panics
///
/// When the CLI fails.
fn docker_stdout(daemon: &Drydockd, args: &[&str]) -> String {
    let output = daemon
        .docker_command()
        .args(args)
        .output()
        .expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        shown(&output)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn fifty_concurrent_runs_on_the_bridge_succeed_with_their_own_addresses_and_leave_nothing_behind() {
    let daemon = Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")));
    daemon.import_busybox("busybox:latest");
    let subnet = daemon.subnet();
    // The runs, and beside them a sampler of the interfaces on the bridge (the veths made).
    let sampling = AtomicBool::new(true);
    let (outputs, veths_seen) = thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let mut seen = BTreeSet::new();
            while sampling.load(Ordering::SeqCst) {
                seen.extend(daemon.bridge_ports());
                thread::sleep(Duration::from_millis(50));
            }
            seen
        });
        let runs: Vec<_> = (0..RUNS)
            .map(|n| {
                let mut command = daemon.docker_command();
                command.args(run_args(n));
                scope.spawn(move || command.output())
            })
            .collect();
        let outputs: Vec<_> = runs.into_iter().map(|run| run.join()).collect();
        sampling.store(false, Ordering::SeqCst);
        (outputs, sampler.join())
    });
    let outputs: Vec<Output> = outputs
        .into_iter()
        .map(|output| {
            output
                .expect("a run's thread does not panic")
                .expect("the docker CLI runs")
        })
        .collect();
    let veths_seen = veths_seen.expect("the sampler does not panic");

    let mut addresses = BTreeSet::new();
    for (n, output) in outputs.iter().enumerate() {
        assert!(output.status.success(), "run {n}: {}", shown(output));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let lines: Vec<&str> = stdout.lines().collect();
        let tag = format!("tag-{n}");
        assert_eq!(lines.first(), Some(&tag.as_str()), "run {n}: {stdout:?}");
        let address: Ipv4Addr = lines
            .get(1)
            .and_then(|line| line.parse().ok())
            .unwrap_or_else(|| panic!("run {n} printed no address: {stdout:?}"));
        assert!(
            subnet.is_host(address),
            "run {n} got {address}, outside {subnet}"
        );
        assert!(addresses.insert(address), "run {n} got {address} again");
    }
    assert!(
        !veths_seen.is_empty(),
        "no veth was ever seen on {}",
        daemon.bridge()
    );

    // The runs without --rm are left, exited, each under its own name.
    let names = docker_stdout(&daemon, &["ps", "-a", "--format", "{{.Names}} {{.Status}}"]);
    let left: Vec<&str> = names.lines().collect();
    assert_eq!(left.len(), RUNS / 2, "{names}");
    let unique: BTreeSet<&str> = left
        .iter()
        .filter_map(|line| line.split(' ').next())
        .collect();
    assert_eq!(unique.len(), left.len(), "names repeat: {names}");
    assert!(
        left.iter().all(|line| line.contains(" Exited (0) ")),
        "{names}"
    );
    // What is left is theirs: a record each (the check sees what there is to see).
    let records = daemon
        .leftovers()
        .into_iter()
        .filter(|leftover| leftover.starts_with("container record "))
        .count();
    assert_eq!(records, RUNS / 2);
    let ids = docker_stdout(&daemon, &["ps", "-aq"]);
    let mut remove = vec!["rm"];
    remove.extend(ids.lines());
    docker_stdout(&daemon, &remove);

    assert_eq!(docker_stdout(&daemon, &["ps", "-aq"]), "");
    assert_eq!(daemon.leftovers(), Vec::<String>::new());
    let still_there: Vec<&String> = veths_seen
        .iter()
        .filter(|name| Path::new("/sys/class/net").join(name).exists())
        .collect();
    assert!(still_there.is_empty(), "veths left: {still_there:?}");

    // The pool still hands out addresses, and the names are free again.
    let next = docker_stdout(
        &daemon,
        &[
            "run", "--rm", "--name", "conc-1", "busybox", "sh", "-c", SCRIPT, "next",
        ],
    );
    let address: Option<Ipv4Addr> = next.lines().nth(1).and_then(|line| line.parse().ok());
    assert!(
        address.is_some_and(|address| subnet.is_host(address)),
        "the run after: {next:?}"
    );
    assert_eq!(daemon.leftovers(), Vec::<String>::new());
}
