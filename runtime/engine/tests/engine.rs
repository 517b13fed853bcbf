//! The engine core against the real thing: busybox images in a real store, root filesystems
//! mounted with real overlayfs, containers run by the real runc under the real monitor binary.
//! Needs root, runc and busybox-static (`cargo xtask test` installs them).

mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::Shutdown;
use std::time::Duration;

use drydock_engine::attach::{self, AttachRequest, TerminalSize};
use drydock_engine::containers::{ContainerRuntime, ContainerState};
use drydock_engine::digest::Digest;
use drydock_engine::images::{ContainerConfig, DeleteRecord, ImageStore, ImageUser};
use drydock_engine::logs::{LogOptions, LogReader, LogStream};
use drydock_engine::monitor::Launched;
use drydock_engine::oci::{ExecConfig, HostSettings};
use drydock_engine::timestamp::Timestamp;
use drydock_engine::{Error, ErrorKind, oci, rootfs};

use support::{Sandbox, new_container_id};

/// How long a short-lived container may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// The container config of `cmd` with `image`'s config merged in, as dockerd merges it.
fn config_of(sandbox: &Sandbox, image: &Digest, cmd: &[&str]) -> ContainerConfig {
    let mut config = ContainerConfig {
        cmd: Some(cmd.iter().map(|arg| (*arg).to_owned()).collect()),
        ..ContainerConfig::default()
    };
    let image_config = sandbox.store.config(image).expect("the image config");
    if let Some(image_config) = &image_config.config {
        oci::merge_image_config(&mut config, image_config);
    }
    config
}

/// Starts `cmd` in a new container of `image`.
fn start(sandbox: &Sandbox, image: &Digest, cmd: &[&str]) -> (String, Launched) {
    let id = new_container_id();
    let layers = sandbox
        .store
        .layer_paths(image)
        .expect("the image's layers");
    let launched = sandbox
        .runtime
        .start(
            &id,
            &layers,
            &config_of(sandbox, image, cmd),
            &HostSettings::default(),
            0,
        )
        .unwrap_or_else(|e| panic!("the container starts: {e}"));
    (id, launched)
}

/// The json-file log lines of a container.
fn log_lines(sandbox: &Sandbox, id: &str) -> Vec<serde_json::Value> {
    let text = fs::read_to_string(sandbox.runtime.log_path(id)).expect("the log exists");
    text.lines()
        .map(|line| serde_json::from_str(line).expect("each log line is JSON"))
        .collect()
}

/// Removes the container and checks that nothing of it is left: no mount, no runc state, no
/// folder.
fn remove_and_check_nothing_left(sandbox: &Sandbox, id: &str) {
    sandbox
        .runtime
        .remove(id, false)
        .expect("the container goes");
    assert!(sandbox.mounts().is_empty(), "{:?}", sandbox.mounts());
    assert!(matches!(
        sandbox.runtime.runc().state(id),
        Err(Error::NoSuchContainer(_))
    ));
    assert!(!sandbox.runtime.rootfs_dir(id).exists());
    assert!(!sandbox.runtime.state_dir(id).exists());
    assert!(!sandbox.runtime.log_path(id).exists());
}

#[test]
fn echo_hello_exits_zero_and_its_line_is_in_the_json_file_log() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let (id, launched) = start(&sandbox, &image, &["echo", "hello"]);
    assert!(launched.pid > 0);
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 0);
    assert_eq!(exit.pid, launched.pid);
    let lines = log_lines(&sandbox, &id);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["log"], "hello\n");
    assert_eq!(lines[0]["stream"], "stdout");
    let time = lines[0]["time"].as_str().expect("a time");
    assert!(
        time.parse::<drydock_engine::timestamp::Timestamp>().is_ok(),
        "{time}"
    );
    // The monitor deleted the runc container once it exited; the rootfs stays until removal.
    assert!(matches!(
        sandbox.runtime.runc().state(&id),
        Err(Error::NoSuchContainer(_))
    ));
    assert_eq!(sandbox.mounts().len(), 1);
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn exit_code_three_and_stderr_are_recorded() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let (id, _) = start(&sandbox, &image, &["sh", "-c", "echo oops >&2; exit 3"]);
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 3);
    let lines = log_lines(&sandbox, &id);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["log"], "oops\n");
    assert_eq!(lines[0]["stream"], "stderr");
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn a_missing_command_fails_to_start_with_runcs_reason_and_leaves_nothing_mounted() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let id = new_container_id();
    let layers = sandbox.store.layer_paths(&image).expect("layers");
    let config = config_of(&sandbox, &image, &["/no/such/binary"]);
    let error = sandbox
        .runtime
        .start(&id, &layers, &config, &HostSettings::default(), 0)
        .expect_err("no binary");
    assert!(error.to_string().contains("/no/such/binary"), "{error}");
    assert!(
        sandbox
            .runtime
            .runc()
            .list()
            .expect("runc lists")
            .is_empty()
    );
    assert!(sandbox.mounts().is_empty(), "{:?}", sandbox.mounts());
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn a_rootfs_on_a_missing_layer_fails_to_mount_and_leaves_no_mount() {
    let sandbox = Sandbox::new();
    let dir = sandbox.runtime.rootfs_dir("broken");
    let error = rootfs::mount(&dir, &[sandbox.dir.join("no-such-layer")]).expect_err("refused");
    assert!(matches!(error, Error::Mount { .. }), "{error}");
    assert!(sandbox.mounts().is_empty(), "{:?}", sandbox.mounts());
    rootfs::remove(&dir).expect("an unmounted rootfs is removed");
    assert!(!dir.exists());
}

#[test]
fn a_sleeping_container_outlives_the_engines_handles_and_dies_by_kill() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    // The launch handle is not kept: nothing of the engine's holds the container, and the
    // monitor is not this process's child.
    let (id, _) = start(&sandbox, &image, &["sleep", "1000"]);
    let state_dir = sandbox.runtime.state_dir(&id);
    let parent_of_monitor = {
        let pid = fs::read_to_string(state_dir.join("monitor.pid")).expect("monitor.pid");
        let stat = fs::read_to_string(format!("/proc/{}/stat", pid.trim())).expect("its stat");
        let after_name = stat.rsplit_once(')').expect("stat has a name").1.to_owned();
        after_name
            .split_whitespace()
            .nth(1)
            .expect("a ppid")
            .to_owned()
    };
    assert_ne!(parent_of_monitor, std::process::id().to_string());
    std::thread::sleep(Duration::from_millis(300));
    let state = sandbox.runtime.runc().state(&id).expect("runc knows it");
    assert_eq!(state.status, "running");
    assert!(sandbox.runtime.is_running(&id));
    // A runtime opened afresh on the same folders, as by an engine that restarted, finds it.
    let reopened = ContainerRuntime::new(sandbox.runtime.config().clone()).expect("reopens");
    assert_eq!(reopened.ids().expect("lists"), vec![id.clone()]);
    assert_eq!(
        reopened.state(&id).expect("a state"),
        ContainerState::Running { pid: state.pid }
    );
    assert_eq!(sandbox.runtime.exit_record(&id).expect("readable"), None);
    sandbox.runtime.pause(&id).expect("pauses");
    assert_eq!(
        sandbox.runtime.runc().state(&id).expect("a state").status,
        "paused"
    );
    let twice = sandbox.runtime.pause(&id).expect_err("already paused");
    assert_eq!(twice.kind(), ErrorKind::Conflict);
    sandbox.runtime.unpause(&id).expect("unpauses");
    assert_eq!(
        sandbox.runtime.runc().state(&id).expect("a state").status,
        "running"
    );
    let refused = sandbox.runtime.remove(&id, false).expect_err("it runs");
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    sandbox.runtime.kill(&id, libc::SIGKILL).expect("kill");
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 128 + libc::SIGKILL);
    assert_eq!(
        reopened.state(&id).expect("a state"),
        ContainerState::Exited(exit)
    );
    let again = sandbox
        .runtime
        .kill(&id, libc::SIGKILL)
        .expect_err("not running");
    assert_eq!(again.kind(), ErrorKind::Conflict);
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn force_removing_a_running_container_kills_it_and_leaves_nothing() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let (id, launched) = start(&sandbox, &image, &["sleep", "1000"]);
    // Paused, too: removal thaws it so the kill takes.
    sandbox.runtime.pause(&id).expect("pauses");
    sandbox.runtime.remove(&id, true).expect("forced removal");
    assert!(!std::path::Path::new(&format!("/proc/{}", launched.pid)).exists());
    assert!(sandbox.mounts().is_empty(), "{:?}", sandbox.mounts());
    assert!(!sandbox.runtime.state_dir(&id).exists());
    assert!(
        sandbox
            .runtime
            .runc()
            .list()
            .expect("runc lists")
            .is_empty()
    );
}

#[test]
fn a_container_with_a_terminal_writes_its_output_through_the_terminal() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let id = new_container_id();
    let layers = sandbox.store.layer_paths(&image).expect("layers");
    let mut config = config_of(&sandbox, &image, &["sh", "-c", "tty; echo $TERM; exit 5"]);
    config.tty = true;
    sandbox
        .runtime
        .start(&id, &layers, &config, &HostSettings::default(), 0)
        .unwrap_or_else(|e| panic!("the container starts: {e}"));
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 5);
    let lines = log_lines(&sandbox, &id);
    let logged: Vec<&str> = lines
        .iter()
        .map(|line| line["log"].as_str().unwrap_or_default())
        .collect();
    // A terminal turns each newline into CRLF, and everything is stdout.
    assert_eq!(logged, vec!["/dev/pts/0\r\n", "xterm\r\n"]);
    assert!(lines.iter().all(|line| line["stream"] == "stdout"));
    remove_and_check_nothing_left(&sandbox, &id);
}

/// Starts `cmd` with stdin open for attach (and `tty` as given).
fn start_interactive(sandbox: &Sandbox, image: &Digest, cmd: &[&str], tty: bool) -> String {
    let id = new_container_id();
    let layers = sandbox.store.layer_paths(image).expect("layers");
    let mut config = config_of(sandbox, image, cmd);
    config.tty = tty;
    config.open_stdin = true;
    config.stdin_once = true;
    sandbox
        .runtime
        .start(&id, &layers, &config, &HostSettings::default(), 0)
        .unwrap_or_else(|e| panic!("the container starts: {e}"));
    id
}

#[test]
fn attached_stdin_reaches_cat_and_its_output_comes_back_in_frames() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let id = start_interactive(&sandbox, &image, &["cat"], false);
    let request = AttachRequest {
        stdin: true,
        stdout: true,
        stderr: true,
    };
    let no_terminal = attach::resize(
        &id,
        TerminalSize {
            height: 1,
            width: 1,
        },
    )
    .expect_err("no terminal to resize");
    assert!(
        no_terminal.to_string().contains("no terminal"),
        "{no_terminal}"
    );
    let mut stream = attach::connect(&id, request).expect("attaches");
    stream.write_all(b"ping\n").expect("writes stdin");
    let (kind, payload) = attach::read_frame(&mut stream)
        .expect("reads")
        .expect("a frame");
    assert_eq!((kind, payload.as_slice()), (attach::STDOUT, &b"ping\n"[..]));
    // Ending stdin (StdinOnce) ends cat, which ends the stream.
    stream.shutdown(Shutdown::Write).expect("ends stdin");
    assert_eq!(attach::read_frame(&mut stream).expect("reads"), None);
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 0);
    let lines = log_lines(&sandbox, &id);
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert_eq!(lines[0]["log"], "ping\n");
    let late = attach::connect(&id, request).expect_err("it exited");
    assert_eq!(late.kind(), ErrorKind::Conflict);
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn an_attached_terminal_runs_an_interactive_shell() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let id = start_interactive(&sandbox, &image, &["sh"], true);
    let request = AttachRequest {
        stdin: true,
        stdout: true,
        stderr: false,
    };
    attach::resize(
        &id,
        TerminalSize {
            height: 40,
            width: 100,
        },
    )
    .expect("resizes");
    let mut stream = attach::connect(&id, request).expect("attaches");
    stream
        .write_all(b"echo answer=$((6*7)); stty size\nexit 4\n")
        .expect("types");
    let mut screen = Vec::new();
    stream
        .read_to_end(&mut screen)
        .expect("reads until the shell exits");
    let screen = String::from_utf8_lossy(&screen);
    assert!(screen.contains("answer=42\r\n40 100\r\n"), "{screen:?}");
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 4);
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn logs_select_streams_and_tails_and_follow_what_comes_later() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let script = "echo one; echo two >&2; echo three; read line; echo $line; printf partial";
    let id = start_interactive(&sandbox, &image, &["sh", "-c", script], false);
    let log_path = sandbox.runtime.log_path(&id);
    // Wait for the first three lines.
    let deadline = std::time::Instant::now() + EXIT_TIMEOUT;
    while fs::read_to_string(&log_path)
        .unwrap_or_default()
        .lines()
        .count()
        < 3
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the first lines never came"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let stdout_tail = LogOptions {
        stderr: false,
        tail: Some(1),
        ..LogOptions::default()
    };
    let (records, mut follower) = LogReader::open(&log_path, stdout_tail).expect("reads");
    let texts: Vec<&str> = records.iter().map(|record| record.line.as_str()).collect();
    assert_eq!(texts, vec!["three\n"]);
    assert_eq!(records[0].stream, LogStream::Stdout);
    let (everything, _) = LogReader::open(&log_path, LogOptions::default()).expect("reads");
    // Two streams read by two threads: their entries' order between streams is not fixed.
    assert_eq!(everything.len(), 3);
    let stderr: Vec<&str> = everything
        .iter()
        .filter(|record| record.stream == LogStream::Stderr)
        .map(|record| record.line.as_str())
        .collect();
    assert_eq!(stderr, vec!["two\n"]);
    let future: Timestamp = "2100-01-01T00:00:00Z".parse().expect("a time");
    let earliest = everything
        .iter()
        .map(|record| record.time)
        .min()
        .expect("entries");
    for (since, until, expected) in [
        (Some(future), None, 0),
        (Some(earliest), None, 3),
        (None, Some(earliest), 0),
        (None, Some(future), 3),
    ] {
        let window = LogOptions {
            since,
            until,
            ..LogOptions::default()
        };
        let (selected, _) = LogReader::open(&log_path, window).expect("reads");
        assert_eq!(selected.len(), expected, "since {since:?} until {until:?}");
    }
    assert!(follower.next_entries().expect("nothing new").is_empty());
    let mut stream = attach::connect(
        &id,
        AttachRequest {
            stdin: true,
            ..AttachRequest::default()
        },
    )
    .expect("attaches");
    stream.write_all(b"four\n").expect("writes");
    stream.shutdown(Shutdown::Write).expect("ends stdin");
    sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    let followed: Vec<String> = follower
        .next_entries()
        .expect("reads the rest")
        .into_iter()
        .map(|record| record.line)
        .collect();
    assert_eq!(followed, vec!["four\n".to_owned(), "partial".to_owned()]);
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn output_written_before_an_expected_attach_reaches_it_from_the_first_byte() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let id = new_container_id();
    let layers = sandbox
        .store
        .layer_paths(&image)
        .expect("the image's layers");
    let config = config_of(
        &sandbox,
        &image,
        &["sh", "-c", "echo first; echo second >&2"],
    );
    // The container starts (and prints) before the client attaches, as with `docker run`.
    sandbox
        .runtime
        .start(&id, &layers, &config, &HostSettings::default(), 1)
        .unwrap_or_else(|e| panic!("the container starts: {e}"));
    let mut stream = attach::connect(
        &id,
        AttachRequest {
            stdin: false,
            stdout: true,
            stderr: true,
        },
    )
    .expect("attaches to the container");
    let mut received = Vec::new();
    while let Some(frame) = attach::read_frame(&mut stream).expect("reads") {
        received.push(frame);
    }
    received.sort();
    assert_eq!(
        received,
        vec![
            (attach::STDOUT, b"first\n".to_vec()),
            (attach::STDERR, b"second\n".to_vec())
        ]
    );
    sandbox
        .runtime
        .wait(&id, EXIT_TIMEOUT)
        .expect("the container exits");
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn exec_runs_in_the_running_container_with_its_own_streams_and_exit_code() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let (id, _) = start(&sandbox, &image, &["sleep", "1000"]);
    let interactive = ExecConfig {
        cmd: ["sh", "-c", "read x; echo got $x; echo err >&2; exit 7"]
            .map(str::to_owned)
            .to_vec(),
        env: vec!["EXTRA=1".to_owned()],
        ..ExecConfig::default()
    };
    sandbox
        .runtime
        .exec(&id, "exec-one", &interactive, true, true, 0)
        .unwrap_or_else(|e| panic!("the exec starts: {e}"));
    let mut stream = attach::connect(
        "exec-one",
        AttachRequest {
            stdin: true,
            stdout: true,
            stderr: true,
        },
    )
    .expect("attaches to the exec");
    stream.write_all(b"it\n").expect("writes");
    stream.shutdown(Shutdown::Write).expect("ends stdin");
    let mut received = Vec::new();
    while let Some(frame) = attach::read_frame(&mut stream).expect("reads") {
        received.push(frame);
    }
    received.sort();
    assert_eq!(
        received,
        vec![
            (attach::STDOUT, b"got it\n".to_vec()),
            (attach::STDERR, b"err\n".to_vec())
        ]
    );
    let exit = sandbox
        .runtime
        .wait_exec(&id, "exec-one", EXIT_TIMEOUT)
        .expect("the exec exits");
    assert_eq!(exit.exit_code, 7);
    // The container runs on; a second exec sees its environment, user and working directory.
    assert!(sandbox.runtime.is_running(&id));
    let plain = ExecConfig {
        cmd: ["sh", "-c", "echo $EXTRA-$HOSTNAME-$(id -u)-$(pwd)"]
            .map(str::to_owned)
            .to_vec(),
        env: vec!["EXTRA=two".to_owned()],
        working_dir: "/tmp".to_owned(),
        ..ExecConfig::default()
    };
    sandbox
        .runtime
        .exec(&id, "exec-two", &plain, false, false, 0)
        .expect("the second exec starts");
    let exit = sandbox
        .runtime
        .wait_exec(&id, "exec-two", EXIT_TIMEOUT)
        .expect("it exits");
    assert_eq!(exit.exit_code, 0);
    let output =
        fs::read_to_string(sandbox.runtime.exec_log_path(&id, "exec-two")).expect("output");
    let line: serde_json::Value = serde_json::from_str(output.trim()).expect("one JSON line");
    assert_eq!(line["log"], format!("two-{}-0-/tmp\n", &id[..12]));
    // The container's own log has none of it.
    assert!(!sandbox.runtime.log_path(&id).exists() || log_lines(&sandbox, &id).is_empty());
    let duplicate = sandbox
        .runtime
        .exec(&id, "exec-two", &plain, false, false, 0)
        .expect_err("the id is taken");
    assert_eq!(duplicate.kind(), ErrorKind::Conflict);
    sandbox.runtime.remove(&id, true).expect("forced removal");
    assert!(sandbox.mounts().is_empty(), "{:?}", sandbox.mounts());
    let stopped = sandbox
        .runtime
        .exec(&id, "exec-three", &plain, false, false, 0)
        .expect_err("not running");
    assert_eq!(stopped.kind(), ErrorKind::Conflict);
}

#[test]
fn the_container_sees_the_image_files_and_its_writes_stay_in_its_upper_layer() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    let (id, _) = start(
        &sandbox,
        &image,
        &[
            "sh",
            "-c",
            "echo written > /tmp/file; cat /etc/passwd; hostname",
        ],
    );
    let exit = sandbox.runtime.wait(&id, EXIT_TIMEOUT).expect("it exits");
    assert_eq!(exit.exit_code, 0);
    let logged: Vec<String> = log_lines(&sandbox, &id)
        .iter()
        .map(|line| line["log"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        logged,
        vec![
            "root:x:0:0:root:/root:/bin/sh\n".to_owned(),
            format!("{}\n", &id[..12])
        ]
    );
    let upper = sandbox.runtime.rootfs_dir(&id).join("diff/tmp/file");
    assert_eq!(fs::read_to_string(upper).expect("the write"), "written\n");
    let layer = &sandbox.store.layer_paths(&image).expect("layers")[0];
    assert!(!layer.join("tmp/file").exists(), "the layer is untouched");
    remove_and_check_nothing_left(&sandbox, &id);
}

#[test]
fn removing_an_image_follows_dockers_tag_and_container_rules() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    sandbox
        .store
        .tag("busybox", "reg:5000/a/b:tag")
        .expect("tags");
    assert_eq!(
        sandbox.store.resolve("reg:5000/a/b:tag").expect("resolves"),
        image
    );
    let running = [ImageUser {
        container_id: "c".repeat(64),
        image: image.clone(),
        running: true,
    }];
    let by_id = sandbox
        .store
        .remove(image.hex(), true, &running)
        .expect_err("a running container holds it");
    assert_eq!(by_id.kind(), ErrorKind::Conflict);
    assert_eq!(
        by_id.to_string(),
        format!(
            "conflict: unable to delete {} (cannot be forced) - image is being used by running container cccccccccccc",
            image.short()
        )
    );
    let multiple = sandbox
        .store
        .remove(&image.hex()[..12], false, &[])
        .expect_err("two repositories");
    assert!(
        multiple
            .to_string()
            .ends_with("(must be forced) - image is referenced in multiple repositories"),
        "{multiple}"
    );
    // A tag goes; the image stays while another tag or a container holds it.
    let untagged = sandbox
        .store
        .remove("reg:5000/a/b:tag", false, &[])
        .expect("untags");
    assert_eq!(
        untagged,
        vec![DeleteRecord::Untagged("reg:5000/a/b:tag".to_owned())]
    );
    // The last tag of an image a container uses goes only when forced.
    let last_tag = sandbox
        .store
        .remove("busybox", false, &running)
        .expect_err("a container uses the image");
    assert_eq!(last_tag.kind(), ErrorKind::Conflict);
    assert_eq!(
        last_tag.to_string(),
        format!(
            "conflict: unable to remove repository reference \"busybox\" (must force) - container \
             cccccccccccc is using its referenced image {}",
            image.short()
        )
    );
    let kept = sandbox
        .store
        .remove("busybox", true, &running)
        .expect("untags only");
    assert_eq!(
        kept,
        vec![DeleteRecord::Untagged("busybox:latest".to_owned())]
    );
    assert!(sandbox.store.inspect(image.hex()).is_ok());
    let gone = sandbox
        .store
        .remove(image.hex(), false, &[])
        .expect("deletes");
    assert_eq!(gone, vec![DeleteRecord::Deleted(image.to_string())]);
    let missing = sandbox.store.inspect(image.hex()).expect_err("gone");
    assert_eq!(missing.kind(), ErrorKind::NotFound);
    let layers = fs::read_dir(sandbox.store.root().join("layers/sha256"))
        .expect("the layers folder")
        .count();
    assert_eq!(layers, 0, "the unused layer is removed");
}

#[test]
fn an_image_saved_here_loads_into_a_fresh_store_with_the_same_id_and_tags() {
    let sandbox = Sandbox::new();
    let image = sandbox.import_busybox();
    sandbox
        .store
        .tag("busybox", "reg:5000/a/b:tag")
        .expect("tags");
    let mut archive = Vec::new();
    sandbox
        .store
        .save(&["busybox:latest", "reg:5000/a/b:tag"], &mut archive)
        .expect("saves");
    let other = ImageStore::open(sandbox.dir.join("other")).expect("a second store");
    let loaded = other.load(&archive[..]).expect("loads");
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id, image);
    assert_eq!(
        loaded[0].tags,
        vec!["busybox:latest".to_owned(), "reg:5000/a/b:tag".to_owned()]
    );
    let listed = other.list().expect("lists");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, image.to_string());
    assert_eq!(listed[0].repo_tags, loaded[0].tags);
    let history = other.history("busybox").expect("a history");
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, image.to_string());
    assert_eq!(history[0].comment, "Imported from -");
    assert_eq!(history[0].size, listed[0].size);
    let here = sandbox.store.inspect("busybox").expect("inspects");
    let there = other.inspect("reg:5000/a/b:tag").expect("inspects");
    assert_eq!(here.id, there.id);
    assert_eq!(here.size, there.size);
    assert_eq!(here.rootfs.layers, there.rootfs.layers);
    assert!(here.size > 0);
}

#[test]
fn an_archive_whose_layer_does_not_match_its_diff_id_is_refused() {
    let sandbox = Sandbox::new();
    sandbox.import_busybox();
    let mut archive = Vec::new();
    sandbox
        .store
        .save(&["busybox"], &mut archive)
        .expect("saves");
    // Rebuild the archive with a different layer.tar under the same name.
    let mut rebuilt = tar::Builder::new(Vec::new());
    let mut original = tar::Archive::new(&archive[..]);
    for entry in original.entries().expect("entries") {
        let mut entry = entry.expect("an entry");
        let path = entry.path().expect("a path").into_owned();
        let mut data = Vec::new();
        std::io::Read::read_to_end(&mut entry, &mut data).expect("reads");
        if path.ends_with("layer.tar") {
            data = support::tampered_layer();
        }
        let mut header = entry.header().clone();
        header.set_size(data.len() as u64);
        header.set_cksum();
        rebuilt
            .append_data(&mut header, &path, &data[..])
            .expect("appends");
    }
    let rebuilt = rebuilt.into_inner().expect("finishes");
    let other = ImageStore::open(sandbox.dir.join("other")).expect("a second store");
    let error = other.load(&rebuilt[..]).expect_err("mismatch");
    assert_eq!(error.kind(), ErrorKind::InvalidInput);
    assert!(error.to_string().contains("should have digest"), "{error}");
    assert!(other.image_ids().expect("lists").is_empty());
}

#[test]
fn a_gzip_tarball_imports_to_the_same_image_as_the_plain_one() {
    let sandbox = Sandbox::new();
    let plain = support::busybox_rootfs();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &plain).expect("compresses");
    let compressed = gz.finish().expect("finishes");
    let created = "2020-01-01T00:00:00Z".parse().expect("a time");
    let options = || drydock_engine::images::ImportOptions {
        created,
        ..Default::default()
    };
    let from_plain = sandbox.store.import(&plain[..], options()).expect("plain");
    let from_gzip = sandbox
        .store
        .import(&compressed[..], options())
        .expect("gzip");
    assert_eq!(from_plain, from_gzip);
    let inspect = sandbox.store.inspect(from_plain.hex()).expect("inspects");
    assert_eq!(inspect.rootfs.layers, vec![Digest::of(&plain).to_string()]);
    assert_eq!(inspect.created, "2020-01-01T00:00:00Z");
}
