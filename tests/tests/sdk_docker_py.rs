//! A real SDK drives drydockd as it drives dockerd: docker-py (Debian's `python3-docker`)
//! runs one session (`tests/sdk/docker_py_session.py`: ping, version, run, a failing run, a
//! detached container with logs, exec with demuxed streams, a TTY, environment and a missing
//! command, archive put and get, list, top, stats, pause, stop, wait, rename, remove, events,
//! volumes, tag, save and load, errors, prune, info, df) against Debian's dockerd and against
//! drydockd, each private and with the same busybox imported. The session prints one line per
//! check with nothing in it that differs between two faithful daemons, so the two transcripts
//! must be equal, and the session must end well on both.

use std::path::Path;
use std::process::{Command, Output};

use drydock_tests::dockerd::Dockerd;
use drydock_tests::drydockd::Drydockd;
use drydock_tests::workspace_root;

/// Debian's Python, which has Debian's docker-py (package `python3-docker`).
const PYTHON: &str = "/usr/bin/python3";

/// Runs the session against the daemon at `host` (a `unix://` address).
fn session(host: &str) -> Output {
    let script = workspace_root().join("tests/sdk/docker_py_session.py");
    Command::new(PYTHON)
        .arg(&script)
        .env("DOCKER_HOST", host)
        .env_remove("DOCKER_API_VERSION")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("DOCKER_CERT_PATH")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run {PYTHON} (Debian's python3 with python3-docker): {e}")
        })
}

/// The transcript of a session, or a panic with everything it wrote when it failed.
fn transcript(daemon: &str, output: &Output) -> String {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "the docker-py session failed against {daemon} ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
fn docker_py_drives_drydockd_as_it_drives_dockerd() {
    let dockerd = Dockerd::start();
    let drydockd = Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")));
    dockerd.import_busybox("busybox:latest");
    drydockd.import_busybox("busybox:latest");
    let (reference, ours) = std::thread::scope(|scope| {
        let reference = scope.spawn(|| session(&dockerd.host()));
        let ours = session(&drydockd.host());
        (reference.join().expect("the dockerd session ran"), ours)
    });
    let reference = transcript("dockerd", &reference);
    let ours = transcript("drydockd", &ours);
    assert!(
        reference.contains("run: b'hello sdk\\n'"),
        "the session ran its checks:\n{reference}"
    );
    let differences: Vec<String> = reference
        .lines()
        .zip(ours.lines())
        .filter(|(theirs, ours)| theirs != ours)
        .map(|(theirs, ours)| format!("  dockerd:  {theirs}\n  drydockd: {ours}"))
        .collect();
    assert!(
        differences.is_empty() && reference.lines().count() == ours.lines().count(),
        "docker-py saw drydockd answer differently from dockerd:\n{}\n\ndrydockd's log:\n{}",
        differences.join("\n"),
        drydockd.log()
    );
}
