//! drydockd against Debian's dockerd, driven by the real docker CLI (28.x): the same scenarios
//! of CLI invocations run against a private dockerd and a private drydockd, and what the CLI
//! printed (exit code, standard output, standard error) must be the same once the things that
//! legitimately differ between two daemons are normalised away.
//!
//! Both daemons hold the same busybox image with the same id: it is imported into dockerd and
//! moved into drydockd with `docker save` / `docker load`. Both run with a Linux bridge of
//! their own from the network test slots, so `docker network` has a `bridge` to show on each.
//! The CLI is pinned to API 1.33 (`DOCKER_API_VERSION`), drydockd's newest, so the output
//! shapes match. The two daemons run their scenarios at the same time, each in a thread.
//!
//! Normalised, in every output: container, image and layer ids (to `<id1>`, `<id2>`, … in order
//! of first appearance within a scenario, short `<idN>` and long `<idN…>` kept apart), times
//! (`<time>`, but the zero time stays), durations (`<duration>`: "2 seconds", "Less than a
//! second"), each daemon's folder, data root, bridge and subnet, and runs of spaces (the CLI's
//! tables pad columns to what the normalised text no longer has). Sizes (`<size>`) only in the
//! steps that ask for it, where the two stores count differently. Inspect steps compare a
//! chosen set of JSON fields rather than the whole document.
//!
//! Every known difference is in [`KNOWN_DIFFERENCES`], with why. A difference not listed there
//! fails the test with both outputs and a line diff; so does a listed difference that no
//! longer occurs (a stale entry), so the table stays honest: when a feature lands, its "not
//! implemented yet" entries turn into checks by being deleted.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use drydock_engine::network::link;
use drydock_engine::network::{DEFAULT_MTU, Subnet};
use drydock_tests::dockerd::{Dockerd, busybox_rootfs, cli_command};
use drydock_tests::drydockd::{DOCKER_CLI, Drydockd};
use drydock_tests::network_slot::Slot;
use regex::Regex;
use serde_json::Value;

/// The API version both daemons are driven at: drydockd's newest.
const API_VERSION: &str = "1.33";
/// How long one CLI invocation may take before it is killed (and reported as timed out).
const STEP_TIMEOUT: Duration = Duration::from_secs(30);
/// The image every scenario starts from.
const IMAGE: &str = "busybox:latest";

/// What of a step's output is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Check {
    /// Exit code, standard output and standard error.
    Output,
    /// Exit code and standard error; standard output is JSON (an inspect's array) of which
    /// only these fields (JSON pointers) are compared.
    Json(&'static [&'static str]),
    /// Nothing: a setup or clean-up step, or a pause.
    Nothing,
}

/// One docker CLI invocation of a scenario. In `args`, `{scratch}` is a folder of the daemon's
/// side, `{rootfs}` the busybox rootfs tarball, `{since}` the time the side's run of the
/// scenario began and `{until}` the time of the step, both as Unix seconds with nanoseconds.
#[derive(Clone, Debug)]
struct Step {
    args: Vec<&'static str>,
    stdin: Option<&'static str>,
    check: Check,
    sizes: bool,
    /// How long the CLI's standard input stays open after `stdin` was written, at most (it
    /// closes when the CLI exits).
    hold_stdin: Duration,
    /// How long the CLI may take before it is killed and reported as timed out.
    timeout: Duration,
    /// When set, the step is not a CLI invocation but a pause of this long.
    pause: Option<Duration>,
}

impl Step {
    /// The step's command line as reports and [`KNOWN_DIFFERENCES`] name it.
    fn command_line(&self) -> String {
        match self.pause {
            Some(pause) => format!("(pause {}ms)", pause.as_millis()),
            None => self.args.join(" "),
        }
    }

    /// Feeds `text` to the CLI's standard input.
    fn stdin(mut self, text: &'static str) -> Step {
        self.stdin = Some(text);
        self
    }

    /// Feeds `text` to the CLI's standard input and keeps it open until the CLI exits, for
    /// `seconds` at most.
    fn stdin_held(mut self, text: &'static str, seconds: u64) -> Step {
        self.stdin = Some(text);
        self.hold_stdin = Duration::from_secs(seconds);
        self
    }

    /// Kills the CLI after `seconds` rather than [`STEP_TIMEOUT`].
    fn timeout(mut self, seconds: u64) -> Step {
        self.timeout = Duration::from_secs(seconds);
        self
    }

    /// Compares only these fields of the JSON standard output.
    fn json(mut self, fields: &'static [&'static str]) -> Step {
        self.check = Check::Json(fields);
        self
    }

    /// Also normalises sizes.
    fn sizes(mut self) -> Step {
        self.sizes = true;
        self
    }

    /// Runs the step without comparing anything.
    fn unchecked(mut self) -> Step {
        self.check = Check::Nothing;
        self
    }
}

/// A CLI step, compared in full.
fn docker(args: &[&'static str]) -> Step {
    Step {
        args: args.to_vec(),
        stdin: None,
        check: Check::Output,
        sizes: false,
        hold_stdin: Duration::ZERO,
        timeout: STEP_TIMEOUT,
        pause: None,
    }
}

/// A pause, so that what a container prints right after it starts is there to see.
fn pause(millis: u64) -> Step {
    Step {
        args: Vec::new(),
        stdin: None,
        check: Check::Nothing,
        sizes: false,
        hold_stdin: Duration::ZERO,
        timeout: STEP_TIMEOUT,
        pause: Some(Duration::from_millis(millis)),
    }
}

/// A scenario: steps run in order against one daemon, which end with that daemon as it was.
struct Scenario {
    name: &'static str,
    steps: Vec<Step>,
}

fn scenario(name: &'static str, steps: Vec<Step>) -> Scenario {
    Scenario { name, steps }
}

/// The fields of `docker container inspect` compared.
const CONTAINER_FIELDS: &[&str] = &[
    "/Name",
    "/Path",
    "/Args",
    "/Image",
    "/RestartCount",
    "/Driver",
    "/State/Status",
    "/State/Running",
    "/State/Paused",
    "/State/Restarting",
    "/State/OOMKilled",
    "/State/Dead",
    "/State/ExitCode",
    "/State/Error",
    "/State/StartedAt",
    "/State/FinishedAt",
    "/Config/Hostname",
    "/Config/User",
    "/Config/Tty",
    "/Config/OpenStdin",
    "/Config/StdinOnce",
    "/Config/AttachStdin",
    "/Config/AttachStdout",
    "/Config/AttachStderr",
    "/Config/Cmd",
    "/Config/Entrypoint",
    "/Config/Env",
    "/Config/Image",
    "/Config/Labels",
    "/Config/WorkingDir",
    "/Config/StopSignal",
    "/HostConfig/Binds",
    "/HostConfig/NetworkMode",
    "/HostConfig/RestartPolicy",
    "/HostConfig/AutoRemove",
    "/HostConfig/Privileged",
    "/HostConfig/ReadonlyRootfs",
    "/HostConfig/LogConfig",
    "/HostConfig/Init",
    "/Mounts",
];

/// The fields of `docker image inspect` compared.
const IMAGE_FIELDS: &[&str] = &[
    "/Id",
    "/RepoTags",
    "/RepoDigests",
    "/Parent",
    "/Comment",
    "/Author",
    "/Architecture",
    "/Os",
    "/Size",
    "/Config/Cmd",
    "/Config/Entrypoint",
    "/Config/Env",
    "/Config/WorkingDir",
    "/Config/User",
    "/Config/Labels",
    "/RootFS",
];

/// The fields of `docker volume inspect` compared.
const VOLUME_FIELDS: &[&str] = &[
    "/Name",
    "/Driver",
    "/Mountpoint",
    "/Labels",
    "/Scope",
    "/Options",
    "/CreatedAt",
];

/// The fields of `docker network inspect` compared.
const NETWORK_FIELDS: &[&str] = &[
    "/Name",
    "/Id",
    "/Scope",
    "/Driver",
    "/EnableIPv6",
    "/IPAM",
    "/Internal",
    "/Attachable",
    "/Ingress",
    "/Containers",
    "/Options",
    "/Labels",
];

/// Every scenario, in the order they run.
fn scenarios() -> Vec<Scenario> {
    vec![
        scenario(
            "run-rm-echo",
            vec![docker(&["run", "--rm", IMAGE, "echo", "hello", "world"])],
        ),
        scenario(
            "run-detached-ps-logs-stop-rm",
            vec![
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dps",
                    IMAGE,
                    "sh",
                    "-c",
                    "echo started; echo warned >&2; sleep 0.2; echo ready; exec sleep 30",
                ]),
                pause(500),
                docker(&["ps", "--filter", "name=^dps$"]),
                docker(&[
                    "ps",
                    "--no-trunc",
                    "--filter",
                    "name=dps",
                    "--format",
                    "{{.ID}}|{{.Image}}|{{.Command}}|{{.Status}}|{{.Names}}|{{.Labels}}|{{.Mounts}}",
                ]),
                docker(&["logs", "dps"]),
                docker(&["logs", "--tail", "1", "--timestamps", "dps"]),
                docker(&["stop", "-t", "1", "dps"]),
                docker(&[
                    "ps",
                    "-a",
                    "--filter",
                    "name=dps",
                    "--format",
                    "{{.Names}} {{.Status}}",
                ]),
                docker(&["inspect", "dps"]).json(CONTAINER_FIELDS),
                docker(&["rm", "dps"]),
                docker(&["ps", "-a", "--filter", "name=dps", "-q"]),
            ],
        ),
        scenario(
            "system-df",
            vec![
                docker(&[
                    "create",
                    "--name",
                    "ddf",
                    "-v",
                    "ddf-vol:/data",
                    IMAGE,
                    "true",
                ]),
                docker(&["system", "df"]).sizes(),
                docker(&[
                    "system",
                    "df",
                    "--format",
                    "{{.Type}} {{.TotalCount}} {{.Active}}",
                ]),
                docker(&[
                    "run",
                    "--name",
                    "dsize",
                    IMAGE,
                    "sh",
                    "-c",
                    "head -c 1500 /dev/zero > /written && ln /written /linked && rm /bin/cat",
                ]),
                docker(&[
                    "ps",
                    "-a",
                    "-s",
                    "--filter",
                    "name=dsize",
                    "--format",
                    "{{.Names}} {{.Size}}",
                ]),
                docker(&[
                    "inspect",
                    "-s",
                    "--format",
                    "{{.SizeRw}} {{.SizeRootFs}}",
                    "dsize",
                ]),
                docker(&[
                    "inspect",
                    "--format",
                    "{{.SizeRw}} {{.SizeRootFs}}",
                    "dsize",
                ]),
                docker(&["rm", "dsize"]),
                docker(&["rm", "-v", "ddf"]),
                docker(&["volume", "rm", "ddf-vol"]),
            ],
        ),
        scenario(
            "run-exit-code",
            vec![
                docker(&[
                    "run",
                    "--rm",
                    IMAGE,
                    "sh",
                    "-c",
                    "echo out; echo err >&2; exit 3",
                ]),
                docker(&["run", "--name", "dex", IMAGE, "false"]),
                docker(&["wait", "dex"]),
                docker(&[
                    "ps",
                    "-a",
                    "--filter",
                    "name=dex",
                    "--format",
                    "{{.Status}}",
                ]),
                docker(&["rm", "dex"]),
                // --init: Debian's tini runs as pid 1 under Docker's name, the command under it.
                docker(&[
                    "run",
                    "--rm",
                    "--init",
                    IMAGE,
                    "sh",
                    "-c",
                    "cat /proc/1/comm; readlink /proc/1/exe; cat /proc/$$/comm",
                ]),
            ],
        ),
        scenario(
            "run-stdin",
            vec![
                docker(&["run", "--rm", "-i", IMAGE, "cat"]).stdin("line one\nline two\n"),
                docker(&["run", "--rm", "-i", IMAGE, "wc", "-l"]).stdin("a\nb\nc\n"),
            ],
        ),
        scenario(
            "exec",
            vec![
                docker(&["run", "-d", "--name", "dexe", IMAGE, "sleep", "30"]).unchecked(),
                docker(&["exec", "dexe", "sh", "-c", "echo out; echo err >&2; exit 5"]),
                docker(&["exec", "-i", "dexe", "cat"]).stdin("through exec\n"),
                docker(&[
                    "exec",
                    "-e",
                    "V=1",
                    "-w",
                    "/tmp",
                    "dexe",
                    "sh",
                    "-c",
                    "echo $V; pwd",
                ]),
                docker(&["exec", "dexe", "nosuchcommand"]),
                docker(&["kill", "dexe"]),
                docker(&["wait", "dexe"]),
                docker(&["exec", "dexe", "true"]),
                docker(&["rm", "-f", "dexe"]).unchecked(),
            ],
        ),
        // Health checks with probes every 200 ms: the pause is many intervals long, so both
        // containers have reached their final state (healthy after one pass, unhealthy after
        // two failures) on either daemon; a failing streak's length depends on timing and
        // is not shown.
        scenario(
            "health",
            vec![
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dhealth",
                    "--health-cmd",
                    "echo ok",
                    "--health-interval",
                    "200ms",
                    IMAGE,
                    "sleep",
                    "60",
                ])
                .unchecked(),
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dsick",
                    "--health-cmd",
                    "echo bad; exit 1",
                    "--health-interval",
                    "200ms",
                    "--health-retries",
                    "2",
                    IMAGE,
                    "sleep",
                    "60",
                ])
                .unchecked(),
                pause(3000),
                docker(&[
                    "inspect",
                    "--format",
                    "{{.State.Health.Status}} {{.State.Health.FailingStreak}} {{json .Config.Healthcheck}}",
                    "dhealth",
                ]),
                docker(&[
                    "inspect",
                    "--format",
                    "{{.State.Health.Status}} {{(index .State.Health.Log 0).ExitCode}} {{printf \"%q\" (index .State.Health.Log 0).Output}}",
                    "dsick",
                ]),
                docker(&[
                    "ps",
                    "--filter",
                    "health=healthy",
                    "--format",
                    "{{.Names}} {{.Status}}",
                ]),
                docker(&[
                    "ps",
                    "--filter",
                    "health=unhealthy",
                    "--format",
                    "{{.Names}} {{.Status}}",
                ]),
                docker(&["ps", "--filter", "health=sick"]),
                docker(&[
                    "create",
                    "--name",
                    "dhealth-bad",
                    "--health-interval",
                    "500us",
                    IMAGE,
                    "true",
                ]),
                docker(&[
                    "create",
                    "--name",
                    "dnohc",
                    "--no-healthcheck",
                    IMAGE,
                    "true",
                ])
                .unchecked(),
                docker(&[
                    "inspect",
                    "--format",
                    "{{json .Config.Healthcheck}} {{json .State.Health}}",
                    "dnohc",
                ]),
                docker(&["stop", "-t", "1", "dhealth"]).unchecked(),
                docker(&["inspect", "--format", "{{.State.Health.Status}}", "dhealth"]),
                docker(&[
                    "ps",
                    "-a",
                    "--filter",
                    "health=unhealthy",
                    "--format",
                    "{{.Names}} {{.Status}}",
                ]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "container=dsick",
                    "--filter",
                    "event=health_status",
                    "--format",
                    "{{.Action}} {{.Actor.Attributes.name}}",
                ]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "container=dhealth",
                    "--filter",
                    "event=health_status",
                    "--format",
                    "{{.Action}} {{.Actor.Attributes.name}}",
                ]),
                docker(&["rm", "-f", "dhealth", "dsick", "dnohc"]).unchecked(),
            ],
        ),
        scenario(
            "attach",
            vec![
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "datt",
                    IMAGE,
                    "sh",
                    "-c",
                    "sleep 2; echo late; exit 7",
                ])
                .unchecked(),
                docker(&["attach", "--no-stdin", "datt"]),
                docker(&[
                    "run",
                    "-d",
                    "-i",
                    "--name",
                    "datt-in",
                    IMAGE,
                    "sh",
                    "-c",
                    "read line; echo got $line; exit 8",
                ])
                .unchecked(),
                // dockerd ends the attach's output when its stdin ends (the container's stdin
                // is not StdinOnce): stdin stays open until the container has answered.
                docker(&["attach", "datt-in"]).stdin_held("hello\n", 5),
                docker(&[
                    "ps",
                    "-a",
                    "--filter",
                    "name=datt",
                    "--format",
                    "{{.Names}} {{.Status}}",
                ]),
                docker(&["attach", "datt"]),
                docker(&["rm", "datt", "datt-in"]),
            ],
        ),
        scenario(
            "inspect-container",
            vec![
                docker(&[
                    "create",
                    "--name",
                    "dins",
                    "-e",
                    "A=1",
                    "-l",
                    "tier=front",
                    "--restart",
                    "on-failure:2",
                    "-w",
                    "/tmp",
                    IMAGE,
                    "sh",
                    "-c",
                    "exit 0",
                ])
                .unchecked(),
                docker(&["inspect", "dins"]).json(CONTAINER_FIELDS),
                docker(&["start", "dins"]),
                docker(&["wait", "dins"]),
                docker(&["inspect", "dins"]).json(CONTAINER_FIELDS),
                docker(&[
                    "container",
                    "inspect",
                    "--format",
                    "{{.State.Status}} {{.Config.Env}}",
                    "dins",
                ]),
                docker(&["rm", "dins"]),
            ],
        ),
        scenario(
            "inspect-image",
            vec![
                docker(&["image", "inspect", IMAGE]).json(IMAGE_FIELDS),
                docker(&[
                    "history",
                    "--no-trunc",
                    "--format",
                    "{{.ID}} {{.CreatedBy}} {{.Size}} {{.Comment}}",
                    IMAGE,
                ]),
                docker(&[
                    "images",
                    "--format",
                    "{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}}",
                    "busybox",
                ]),
                docker(&["image", "inspect", "nosuchimage"]),
            ],
        ),
        scenario(
            "import-with-change",
            vec![
                docker(&[
                    "import",
                    "--change",
                    "CMD [\"sh\", \"-c\", \"echo $GREETING from $(pwd)\"]",
                    "--change",
                    "ENV GREETING=hi",
                    "--change",
                    "WORKDIR /tmp",
                    "--change",
                    "LABEL origin=import",
                    "-m",
                    "a message",
                    "{rootfs}",
                    "dimp:1",
                ]),
                docker(&["run", "--rm", "dimp:1"]),
                docker(&["image", "inspect", "dimp:1"]).json(IMAGE_FIELDS),
                docker(&[
                    "history",
                    "--format",
                    "{{.CreatedBy}}|{{.Comment}}",
                    "dimp:1",
                ]),
                docker(&["import", "--change", "NOSUCH x", "{rootfs}", "dimp:2"]),
                docker(&["rmi", "dimp:1"]),
            ],
        ),
        scenario(
            "save-load",
            vec![
                docker(&["tag", IMAGE, "dsl:1"]),
                docker(&["save", "-o", "{scratch}/dsl.tar", "dsl:1"]),
                docker(&["rmi", "dsl:1"]),
                docker(&["load", "-i", "{scratch}/dsl.tar"]),
                docker(&[
                    "images",
                    "--no-trunc",
                    "--format",
                    "{{.Repository}}:{{.Tag}} {{.ID}}",
                    "dsl",
                ]),
                docker(&["rmi", "dsl:1"]),
                docker(&["save", "nosuchimage"]),
            ],
        ),
        scenario(
            "tag-rmi-conflicts",
            vec![
                docker(&["import", "{rootfs}", "dtr:a"]),
                docker(&["tag", "dtr:a", "dtr:b"]),
                docker(&["tag", "nosuchimage", "dtr:c"]),
                docker(&["images", "--format", "{{.Repository}}:{{.Tag}}", "dtr"]),
                docker(&["run", "--name", "dtr-user", "dtr:a", "true"]),
                docker(&["rmi", "dtr:a"]),
                docker(&["rmi", "dtr:b"]),
                docker(&["run", "-d", "--name", "dtr-running", "dtr:b", "sleep", "30"]),
                docker(&["rmi", "-f", "dtr:b"]),
                docker(&["rm", "-f", "dtr-user", "dtr-running"]),
                docker(&["rmi", "dtr:b"]),
                docker(&["rmi", "dtr:b"]),
            ],
        ),
        scenario(
            "volumes",
            vec![
                docker(&["volume", "create", "--label", "tier=data", "dvol"]),
                docker(&["volume", "ls", "--filter", "name=dvol"]),
                docker(&["volume", "ls", "-q", "--filter", "label=tier=data"]),
                docker(&["volume", "inspect", "dvol"]).json(VOLUME_FIELDS),
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dvol-user",
                    "-v",
                    "dvol:/data",
                    IMAGE,
                    "sleep",
                    "30",
                ]),
                docker(&["inspect", "dvol-user"]).json(CONTAINER_FIELDS),
                docker(&[
                    "run",
                    "--rm",
                    "--volumes-from",
                    "dvol-user",
                    IMAGE,
                    "sh",
                    "-c",
                    "echo shared > /data/f && cat /data/f",
                ]),
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dvol-reader",
                    "--volumes-from",
                    "dvol-user:ro",
                    IMAGE,
                    "sleep",
                    "30",
                ]),
                docker(&[
                    "inspect",
                    "--format",
                    "{{range .Mounts}}{{.Type}} {{.Name}} {{.Destination}} [{{.Mode}}] {{.RW}}{{end}}",
                    "dvol-reader",
                ]),
                docker(&[
                    "exec",
                    "dvol-reader",
                    "sh",
                    "-c",
                    "cat /data/f; echo x > /data/g",
                ]),
                docker(&["create", "--volumes-from", "nosuchcontainer", IMAGE, "true"]),
                docker(&[
                    "create",
                    "--volumes-from",
                    "dvol-user:nocopy",
                    IMAGE,
                    "true",
                ]),
                docker(&["rm", "-f", "dvol-reader"]),
                docker(&["volume", "rm", "dvol"]),
                docker(&["rm", "-f", "dvol-user"]),
                docker(&["volume", "rm", "dvol"]),
                docker(&["volume", "inspect", "dvol"]),
            ],
        ),
        scenario(
            "networks",
            vec![
                docker(&["network", "ls"]),
                docker(&[
                    "network",
                    "ls",
                    "--no-trunc",
                    "--format",
                    "{{.Name}} {{.Driver}} {{.Scope}}",
                ]),
                docker(&["network", "inspect", "bridge", "host", "none"]).json(NETWORK_FIELDS),
                docker(&["network", "inspect", "nosuchnetwork"]),
                docker(&["network", "rm", "bridge"]),
                docker(&["network", "create", "dnet"]),
                docker(&["network", "rm", "dnet"]),
            ],
        ),
        scenario(
            "events",
            vec![
                docker(&["run", "--rm", "--name", "dev", IMAGE, "true"]),
                docker(&["volume", "create", "dev-vol"]),
                docker(&["volume", "rm", "dev-vol"]),
                docker(&["tag", IMAGE, "dev:1"]),
                docker(&["rmi", "dev:1"]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "container=dev",
                ]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "type=container",
                    "--filter",
                    "event=die",
                    "--format",
                    "{{.Type}} {{.Action}} {{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}",
                ]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "type=volume",
                    "--format",
                    "{{.Type}} {{.Action}} {{.Actor.ID}}",
                ]),
                docker(&[
                    "events",
                    "--since",
                    "{since}",
                    "--until",
                    "{until}",
                    "--filter",
                    "type=image",
                    "--format",
                    "{{.Type}} {{.Action}} {{.Actor.Attributes.name}}",
                ]),
            ],
        ),
        scenario(
            "cp",
            vec![
                docker(&[
                    "run",
                    "-d",
                    "--name",
                    "dcp",
                    IMAGE,
                    "sh",
                    "-c",
                    "echo content > /tmp/f; exec sleep 30",
                ])
                .unchecked(),
                pause(300),
                docker(&["cp", "dcp:/tmp/f", "{scratch}/f"]),
                docker(&["cp", "{scratch}/f", "dcp:/tmp/g"]),
                docker(&["exec", "dcp", "cat", "/tmp/g"]),
                docker(&["cp", "dcp:/nosuchfile", "{scratch}/x"]),
                docker(&["rm", "-f", "dcp"]).unchecked(),
            ],
        ),
        scenario(
            "error-cases",
            vec![
                docker(&["inspect", "nosuchcontainer"]),
                docker(&["container", "inspect", "nosuchcontainer"]),
                docker(&["rm", "nosuchcontainer"]),
                docker(&["start", "nosuchcontainer"]),
                docker(&["logs", "nosuchcontainer"]),
                docker(&["create", "--name", "bad name", IMAGE, "true"]),
                docker(&["create", "--name", "derr-nocmd", IMAGE]),
                docker(&[
                    "create", "--name", "derr-mem", "--memory", "1k", IMAGE, "true",
                ]),
                docker(&[
                    "create",
                    "--name",
                    "derr-cpus",
                    "--cpus",
                    "512",
                    IMAGE,
                    "true",
                ]),
                docker(&[
                    "create",
                    "--name",
                    "derr-wd",
                    "--workdir",
                    "rel",
                    IMAGE,
                    "true",
                ]),
                docker(&["create", "--name", "derr", IMAGE, "true"]).unchecked(),
                docker(&["create", "--name", "derr", IMAGE, "true"]),
                docker(&["start", "derr"]),
                docker(&["wait", "derr"]),
                // update checks its request's resources and restart policy as create does.
                docker(&["update", "--memory", "1k", "derr"]),
                docker(&["update", "--cpus", "512", "derr"]),
                docker(&["update", "--memory-swap", "10m", "derr"]),
                docker(&["update", "--restart", "sometimes", "derr"]),
                docker(&["update", "--memory", "64m", "--memory-swap", "100m", "derr"]),
                docker(&[
                    "inspect",
                    "--format",
                    "{{.HostConfig.Memory}} {{.HostConfig.MemorySwap}}",
                    "derr",
                ]),
                docker(&["stop", "derr"]),
                docker(&["kill", "derr"]),
                docker(&["run", "--rm", "nosuchimage:1", "true"]),
                docker(&["rm", "derr"]),
                docker(&["ps", "-a", "-q", "--filter", "name=derr"]),
            ],
        ),
        // Last: drydockd leaves this container behind (see KNOWN_DIFFERENCES), which would
        // show in the scenarios after it.
        scenario(
            "run-command-not-found",
            vec![
                docker(&["run", "--rm", "--name", "dnocmd", IMAGE, "nosuchcommand"]).timeout(10),
                docker(&["rm", "-f", "dnocmd"]),
            ],
        ),
    ]
}

/// What a step may differ in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Aspect {
    /// The exit code.
    Exit,
    /// Standard output (of a JSON step whose output is not JSON on one side: an error).
    Stdout,
    /// Standard error.
    Stderr,
    /// One field (JSON pointer) of a JSON step's output, over all its documents.
    Field(&'static str),
}

/// A difference between dockerd and drydockd that is known, and why.
struct KnownDifference {
    /// The scenario's name, or `*` for every scenario.
    scenario: &'static str,
    /// The step's command line (see [`Step::command_line`]), or `*` for every step.
    step: &'static str,
    /// What differs; empty for every aspect.
    aspects: &'static [Aspect],
    /// Why: "not implemented yet: …" for what drydockd has still to do, "bug: …" for a bug
    /// of drydockd that is reported and not fixed yet, "by design: …" and "setup: …" for
    /// differences that stay.
    why: &'static str,
    /// Whether the difference comes and goes between runs (a race in drydockd), so that its
    /// absence from one run does not make the entry stale.
    racy: bool,
}

/// Every aspect of a step.
const ANY: &[Aspect] = &[];
const STDERR: &[Aspect] = &[Aspect::Stderr];

/// Every difference between dockerd's and drydockd's answers that the test accepts, each with
/// why. An entry whose difference no longer occurs fails the test (unless it is racy): delete
/// it then.
const KNOWN_DIFFERENCES: &[KnownDifference] = &[
    // Features drydockd does not have yet.
    KnownDifference {
        scenario: "networks",
        step: "network create dnet",
        aspects: ANY,
        why: "not implemented yet: user-defined networks come in a later issue; drydockd \
              answers 501",
        racy: false,
    },
    KnownDifference {
        scenario: "networks",
        step: "network rm dnet",
        aspects: ANY,
        why: "not implemented yet: user-defined networks (the network the step before could \
              not create is not there to remove)",
        racy: false,
    },
    // Differences that stay.
    KnownDifference {
        scenario: "networks",
        step: "network inspect bridge host none",
        aspects: &[Aspect::Field("/Options")],
        why: "setup: the reference dockerd runs with --iptables=false, so its bridge reports \
              enable_ip_masquerade false; drydockd masquerades the bridge's subnet",
        racy: false,
    },
    KnownDifference {
        scenario: "error-cases",
        step: "run --rm nosuchimage:1 true",
        aspects: STDERR,
        why: "by design: drydockd pulls from no registry and says so; dockerd tries Docker Hub, \
              which the test machine cannot reach (its message is the network failure)",
        racy: false,
    },
    KnownDifference {
        scenario: "inspect-image",
        step: "image inspect nosuchimage",
        aspects: STDERR,
        why: "dockerd 20.10: its image inspect wraps the not-found message twice ('no such \
              image: nosuchimage: No such image: nosuchimage:latest'); later dockerd, like \
              drydockd, say 'No such image: nosuchimage:latest'",
        racy: false,
    },
];

/// The output of one step on one daemon, normalised.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Outcome {
    exit: i32,
    stdout: String,
    stderr: String,
    /// For a JSON step whose output is JSON: each field's values, as pretty JSON.
    fields: Vec<(&'static str, String)>,
}

impl Outcome {
    fn aspect(&self, aspect: Aspect) -> String {
        match aspect {
            Aspect::Exit => self.exit.to_string(),
            Aspect::Stdout => self.stdout.clone(),
            Aspect::Stderr => self.stderr.clone(),
            Aspect::Field(field) => self
                .fields
                .iter()
                .find(|(name, _)| *name == field)
                .map(|(_, values)| values.clone())
                .unwrap_or_default(),
        }
    }

    /// What differs between this outcome (dockerd's) and `other` (drydockd's): field by field
    /// when both printed JSON.
    fn differences(&self, other: &Outcome) -> Vec<Aspect> {
        let mut aspects = vec![Aspect::Exit, Aspect::Stderr];
        if self.fields.is_empty() || other.fields.is_empty() {
            aspects.push(Aspect::Stdout);
        } else {
            aspects.extend(self.fields.iter().map(|(field, _)| Aspect::Field(field)));
        }
        aspects
            .into_iter()
            .filter(|aspect| self.aspect(*aspect) != other.aspect(*aspect))
            .collect()
    }
}

/// One daemon as the scenarios see it: where its CLI points, and what of its output is its
/// own and normalised away.
struct Side {
    host: String,
    config: PathBuf,
    scratch: PathBuf,
    rootfs: PathBuf,
    /// Text that names this daemon's own places (folders, bridge, subnet), and what it becomes.
    own_names: Vec<(String, String)>,
}

impl Side {
    /// Runs every scenario; returns each step's outcome (`None` for unchecked steps).
    fn run(&self, scenarios: &[Scenario]) -> Vec<Vec<Option<Outcome>>> {
        scenarios
            .iter()
            .map(|scenario| self.run_scenario(scenario))
            .collect()
    }

    fn run_scenario(&self, scenario: &Scenario) -> Vec<Option<Outcome>> {
        let since = unix_now();
        let mut ids = IdNames::default();
        scenario
            .steps
            .iter()
            .map(|step| {
                if let Some(pause) = step.pause {
                    std::thread::sleep(pause);
                    return None;
                }
                let args: Vec<String> = step
                    .args
                    .iter()
                    .map(|arg| {
                        arg.replace("{scratch}", &self.scratch.display().to_string())
                            .replace("{rootfs}", &self.rootfs.display().to_string())
                            .replace("{since}", &since)
                            .replace("{until}", &unix_now())
                    })
                    .collect();
                let (exit, stdout, stderr) = self.docker(&args, step);
                if step.check == Check::Nothing {
                    return None;
                }
                let selected = match step.check {
                    Check::Json(fields) => selected_fields(&stdout, fields),
                    _ => None,
                };
                let (stdout, fields) = match selected {
                    // The whole first, so ids are numbered in the order the documents show them.
                    Some((whole, fields)) => (
                        self.normalise(&whole, step.sizes, &mut ids),
                        fields
                            .into_iter()
                            .map(|(field, values)| {
                                (field, self.normalise(&values, step.sizes, &mut ids))
                            })
                            .collect(),
                    ),
                    None => (self.normalise(&stdout, step.sizes, &mut ids), Vec::new()),
                };
                let stderr = self.normalise(&stderr, step.sizes, &mut ids);
                Some(Outcome {
                    exit,
                    stdout,
                    stderr,
                    fields,
                })
            })
            .collect()
    }

    /// Runs the CLI with `args` (and the step's standard input); returns its exit code and
    /// output. A CLI still running after the step's timeout is killed and reported with exit
    /// code -1.
    fn docker(&self, args: &[String], step: &Step) -> (i32, String, String) {
        let stdin = step.stdin;
        let mut command: Command = cli_command(Path::new(DOCKER_CLI), &self.host, &self.config);
        command
            .args(args)
            .env("DOCKER_API_VERSION", API_VERSION)
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {DOCKER_CLI}: {e}"));
        let (exited, exit_seen) = std::sync::mpsc::channel::<()>();
        if let (Some(text), Some(mut input)) = (stdin, child.stdin.take()) {
            let hold = step.hold_stdin;
            std::thread::spawn(move || {
                // The CLI may exit before reading it all (an error): a broken pipe is its
                // answer.
                let _ = input.write_all(text.as_bytes());
                let _ = exit_seen.recv_timeout(hold);
            });
        }
        let mut stdout = child.stdout.take().expect("stdout was piped");
        let mut stderr = child.stderr.take().expect("stderr was piped");
        let out = std::thread::spawn(move || read_all(&mut stdout));
        let err = std::thread::spawn(move || read_all(&mut stderr));
        let started = Instant::now();
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break Some(status),
                Ok(None) if started.elapsed() < step.timeout => {
                    std::thread::sleep(Duration::from_millis(10));
                }
                _ => {
                    let _ = child.kill();
                    let _ = child.wait();
                    break None;
                }
            }
        };
        let _ = exited.send(());
        let stdout = out.join().unwrap_or_default();
        let mut stderr = err.join().unwrap_or_default();
        let exit = match status {
            Some(status) => status.code().unwrap_or(-1),
            None => {
                let _ = writeln!(stderr, "<timed out after {:?}: killed>", step.timeout);
                -1
            }
        };
        (exit, stdout, stderr)
    }

    /// `text` with what differs between any two daemons replaced by placeholders.
    fn normalise(&self, text: &str, sizes: bool, ids: &mut IdNames) -> String {
        let mut text = text.to_owned();
        for (own, placeholder) in &self.own_names {
            text = text.replace(own.as_str(), placeholder);
        }
        normalise_text(&text, sizes, ids)
    }
}

fn read_all(reader: &mut impl std::io::Read) -> String {
    let mut bytes = Vec::new();
    let _ = reader.read_to_end(&mut bytes);
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The time now as Unix seconds with nanoseconds, as `docker events --since` takes it.
fn unix_now() -> String {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("the clock is past 1970");
    format!("{}.{:09}", now.as_secs(), now.subsec_nanos())
}

/// Placeholders for ids, in order of first appearance: a 12-digit id and a 64-digit one with
/// the same start are the same id.
#[derive(Default)]
struct IdNames {
    by_prefix: BTreeMap<String, usize>,
}

impl IdNames {
    fn name(&mut self, id: &str) -> String {
        let next = self.by_prefix.len() + 1;
        let n = *self.by_prefix.entry(id[..12].to_owned()).or_insert(next);
        if id.len() == 64 {
            format!("<id{n}…>")
        } else {
            format!("<id{n}>")
        }
    }
}

/// The patterns normalisation replaces.
struct Patterns {
    id: Regex,
    time: Regex,
    duration: Regex,
    size: Regex,
    percent: Regex,
    spaces: Regex,
}

fn patterns() -> &'static Patterns {
    static PATTERNS: std::sync::OnceLock<Patterns> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| Patterns {
        id: Regex::new(r"\b([0-9a-f]{64}|[0-9a-f]{12})\b").expect("a regex"),
        time: Regex::new(
            r"\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?( ?(Z|[+-]\d{2}:?\d{2})( [A-Z]{3,4})?)?",
        )
        .expect("a regex"),
        duration: Regex::new(
            r"\b(Less than a second|About an? (minute|hour)|\d+ (second|minute|hour|day|week|month|year)s?)\b",
        )
        .expect("a regex"),
        size: Regex::new(r"\b\d+(\.\d+)?\s?(B|kB|KB|MB|GB|TB|KiB|MiB|GiB)\b").expect("a regex"),
        percent: Regex::new(r"\(\d+%\)").expect("a regex"),
        spaces: Regex::new(r" {2,}").expect("a regex"),
    })
}

/// `text` with ids, times, durations, runs of spaces and (when `sizes`) sizes replaced.
fn normalise_text(text: &str, sizes: bool, ids: &mut IdNames) -> String {
    let patterns = patterns();
    let text = patterns
        .id
        .replace_all(text, |found: &regex::Captures<'_>| ids.name(&found[0]));
    let text = patterns
        .time
        .replace_all(&text, |found: &regex::Captures<'_>| {
            if found[0].starts_with("0001-01-01") {
                found[0].to_owned()
            } else {
                "<time>".to_owned()
            }
        });
    let text = patterns.duration.replace_all(&text, "<duration>");
    let text = if sizes {
        let text = patterns.size.replace_all(&text, "<size>");
        patterns
            .percent
            .replace_all(&text, "(<percent>)")
            .into_owned()
    } else {
        text.into_owned()
    };
    patterns.spaces.replace_all(&text, "  ").into_owned()
}

/// The fields (JSON pointers) of each document of an inspect's JSON array: all of them as
/// pretty JSON, and each field's values over the documents. A field the document lacks is
/// `null`, as dockerd writes unset fields (drydock's models leave them out; every client reads
/// both as unset). `None` when the output is not a JSON array (an error).
fn selected_fields(
    stdout: &str,
    fields: &'static [&'static str],
) -> Option<(String, Vec<(&'static str, String)>)> {
    let Ok(Value::Array(documents)) = serde_json::from_str::<Value>(stdout) else {
        return None;
    };
    let pick = |document: &Value, field: &str| {
        sorted(document.pointer(field).cloned().unwrap_or(Value::Null))
    };
    let selected: Vec<Value> = documents
        .iter()
        .map(|document| {
            let object = fields
                .iter()
                .map(|field| ((*field).to_owned(), pick(document, field)))
                .collect();
            Value::Object(object)
        })
        .collect();
    let pretty = |value: &Value| {
        let mut text = serde_json::to_string_pretty(value).expect("JSON prints");
        text.push('\n');
        text
    };
    let per_field = fields
        .iter()
        .map(|field| {
            let values: Vec<Value> = documents.iter().map(|d| pick(d, field)).collect();
            (*field, pretty(&Value::Array(values)))
        })
        .collect();
    Some((pretty(&Value::Array(selected)), per_field))
}

/// `value` with the keys of every object in sorted order (the daemons' orders differ and mean
/// nothing) and without the keys whose value is `null` (dockerd writes unset fields as
/// `null`, drydock's models leave them out).
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let ordered: BTreeMap<String, Value> = map
                .into_iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k, sorted(v)))
                .collect();
            Value::Object(ordered.into_iter().collect())
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

/// A step whose outcomes differ.
struct Difference<'a> {
    scenario: &'a str,
    step: String,
    number: usize,
    aspects: Vec<Aspect>,
    dockerd: Outcome,
    drydockd: Outcome,
}

/// Whether a known difference covers `aspect` of `difference`.
fn covers(known: &KnownDifference, difference: &Difference<'_>, aspect: Aspect) -> bool {
    (known.scenario == "*" || known.scenario == difference.scenario)
        && (known.step == "*" || known.step == difference.step)
        && (known.aspects.is_empty() || known.aspects.contains(&aspect))
}

/// A line diff of two texts: lines only in `left` start with `-`, only in `right` with `+`.
fn line_diff(left: &str, right: &str) -> String {
    let a: Vec<&str> = left.lines().collect();
    let b: Vec<&str> = right.lines().collect();
    // Longest common subsequence, from the ends.
    let mut table = vec![vec![0_usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            table[i][j] = if a[i] == b[j] {
                table[i + 1][j + 1] + 1
            } else {
                table[i + 1][j].max(table[i][j + 1])
            };
        }
    }
    let (mut i, mut j) = (0, 0);
    let mut out = String::new();
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            let _ = writeln!(out, "      {}", a[i]);
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || table[i][j + 1] >= table[i + 1][j]) {
            let _ = writeln!(out, "    + {}", b[j]);
            j += 1;
        } else {
            let _ = writeln!(out, "    - {}", a[i]);
            i += 1;
        }
    }
    out
}

/// The report of one difference: both outcomes of each differing aspect and their line diff.
fn describe(difference: &Difference<'_>, aspects: &[Aspect]) -> String {
    let mut out = format!(
        "scenario {:?}, step {} `docker {}`:\n",
        difference.scenario, difference.number, difference.step
    );
    for aspect in aspects {
        let left = difference.dockerd.aspect(*aspect);
        let right = difference.drydockd.aspect(*aspect);
        let _ = writeln!(out, "  {aspect:?} differs (- dockerd, + drydockd):");
        out.push_str(&line_diff(&left, &right));
    }
    out
}

/// The daemons, their bridges and the files the scenarios use, torn down in reverse order.
struct Daemons {
    dockerd: Dockerd,
    drydockd: Drydockd,
    dockerd_bridge: DockerdBridge,
    scratch: PathBuf,
}

/// The bridge dockerd's `bridge` network uses: made in a network test slot, deleted on drop
/// (after dockerd, which [`Daemons`] drops first).
struct DockerdBridge {
    slot: Slot,
    subnet: Subnet,
}

impl DockerdBridge {
    fn make() -> DockerdBridge {
        let slot = Slot::claim();
        let subnet = slot.subnet(24);
        link::ensure_bridge(&slot.bridge(), subnet, subnet.first_host(), DEFAULT_MTU)
            .unwrap_or_else(|e| panic!("cannot make bridge {}: {e}", slot.bridge()));
        DockerdBridge { slot, subnet }
    }
}

impl Drop for DockerdBridge {
    fn drop(&mut self) {
        let _ = link::delete_link(&self.slot.bridge());
    }
}

impl Drop for Daemons {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.scratch);
    }
}

/// The first three octets and a dot of a /24 subnet: `10.213.7.`.
fn subnet_prefix(subnet: &Subnet) -> String {
    let [a, b, c, _] = subnet.network().octets();
    format!("{a}.{b}.{c}.")
}

/// Starts both daemons (at the same time) with the busybox image, the same id in both.
fn start_daemons() -> (Dockerd, Drydockd, DockerdBridge) {
    let bridge = DockerdBridge::make();
    let bridge_name = bridge.slot.bridge();
    let dockerd = std::thread::spawn(move || {
        let dockerd = Dockerd::start_on_bridge(&bridge_name);
        dockerd.import_busybox(IMAGE);
        dockerd
    });
    let drydockd = Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")));
    let dockerd = dockerd.join().expect("dockerd starts");
    let mut save = dockerd.docker_command();
    save.args(["save", IMAGE]);
    let archive = save.output().expect("docker save runs");
    assert!(
        archive.status.success(),
        "docker save {IMAGE} failed: {}",
        String::from_utf8_lossy(&archive.stderr)
    );
    drydockd.load(archive.stdout);
    let id_of = |command: &mut Command| {
        let output = command
            .args(["image", "inspect", "--format", "{{.Id}}", IMAGE])
            .output()
            .expect("docker image inspect runs");
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    };
    let dockerd_id = id_of(&mut dockerd.docker_command());
    let drydockd_id = id_of(&mut drydockd.docker_command());
    assert_eq!(
        dockerd_id, drydockd_id,
        "dockerd's busybox, saved and loaded into drydockd, has another id there"
    );
    (dockerd, drydockd, bridge)
}

#[test]
fn docker_cli_scenarios_answer_on_drydockd_as_on_dockerd() {
    let started = Instant::now();
    let (dockerd, drydockd, dockerd_bridge) = start_daemons();
    let scratch = PathBuf::from(format!("/tmp/ddiff-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let daemons = Daemons {
        dockerd,
        drydockd,
        dockerd_bridge,
        scratch,
    };
    let rootfs = daemons.scratch.join("rootfs.tar");
    std::fs::create_dir_all(&daemons.scratch).expect("the scratch folder");
    std::fs::write(&rootfs, busybox_rootfs()).expect("the rootfs tarball");
    let side =
        |label: &str, host: String, dir: &Path, data_root: &str, bridge: String, subnet: String| {
            let scratch = daemons.scratch.join(label);
            std::fs::create_dir_all(&scratch).expect("a side's scratch folder");
            Side {
                host,
                config: dir.join("config"),
                own_names: vec![
                    (scratch.display().to_string(), "<scratch>".to_owned()),
                    (
                        dir.join(data_root).display().to_string(),
                        "<data-root>".to_owned(),
                    ),
                    (dir.display().to_string(), "<dir>".to_owned()),
                    (bridge, "<bridge>".to_owned()),
                    (subnet, "<subnet>.".to_owned()),
                ],
                scratch,
                rootfs: rootfs.clone(),
            }
        };
    let dockerd_side = side(
        "dockerd",
        daemons.dockerd.host(),
        daemons.dockerd.dir(),
        "root",
        daemons.dockerd_bridge.slot.bridge(),
        subnet_prefix(&daemons.dockerd_bridge.subnet),
    );
    let drydockd_side = side(
        "drydockd",
        daemons.drydockd.host(),
        daemons.drydockd.dir(),
        "data",
        daemons.drydockd.bridge(),
        subnet_prefix(&daemons.drydockd.subnet()),
    );
    let ready = started.elapsed();

    let scenarios = scenarios();
    let (dockerd_outcomes, drydockd_outcomes) = std::thread::scope(|scope| {
        let dockerd = scope.spawn(|| dockerd_side.run(&scenarios));
        let drydockd = drydockd_side.run(&scenarios);
        (dockerd.join().expect("the dockerd side runs"), drydockd)
    });

    let mut differences = Vec::new();
    for (s, scenario) in scenarios.iter().enumerate() {
        for (n, step) in scenario.steps.iter().enumerate() {
            let (Some(left), Some(right)) = (&dockerd_outcomes[s][n], &drydockd_outcomes[s][n])
            else {
                continue;
            };
            let aspects = left.differences(right);
            if !aspects.is_empty() {
                differences.push(Difference {
                    scenario: scenario.name,
                    step: step.command_line(),
                    number: n + 1,
                    aspects,
                    dockerd: left.clone(),
                    drydockd: right.clone(),
                });
            }
        }
    }

    let mut used = vec![false; KNOWN_DIFFERENCES.len()];
    let mut unexpected = String::new();
    let mut expected = 0;
    for difference in &differences {
        let mut uncovered = Vec::new();
        for aspect in &difference.aspects {
            let mut covered = false;
            for (k, known) in KNOWN_DIFFERENCES.iter().enumerate() {
                if covers(known, difference, *aspect) {
                    used[k] = true;
                    covered = true;
                }
            }
            if !covered {
                uncovered.push(*aspect);
            }
        }
        if uncovered.is_empty() {
            expected += 1;
        } else {
            unexpected.push_str(&describe(difference, &uncovered));
        }
    }
    let stale: Vec<String> = KNOWN_DIFFERENCES
        .iter()
        .zip(&used)
        .filter(|(known, used)| !**used && !known.racy)
        .map(|(known, _)| {
            format!(
                "  scenario {:?}, step {:?} ({})",
                known.scenario, known.step, known.why
            )
        })
        .collect();
    eprintln!(
        "{} scenarios, {} steps: {} known differences seen; daemons ready in {:.1}s, all done in \
         {:.1}s",
        scenarios.len(),
        scenarios.iter().map(|s| s.steps.len()).sum::<usize>(),
        expected,
        ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    let mut failure = String::new();
    if !unexpected.is_empty() {
        let _ = write!(
            failure,
            "drydockd answered differently from dockerd where no known difference says it \
             may:\n\n{unexpected}\n"
        );
    }
    if !stale.is_empty() {
        let _ = write!(
            failure,
            "these known differences no longer occur: remove them from KNOWN_DIFFERENCES\n{}\n",
            stale.join("\n")
        );
    }
    if !failure.is_empty() {
        let log = daemons.drydockd.log();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        panic!(
            "{failure}\nthe last lines of drydockd's log:\n{}",
            tail.join("\n")
        );
    }
}

#[test]
fn ids_become_placeholders_in_order_of_first_appearance() {
    let long = "d9c66aee88cb5a56a74f20d781db5a2e33016087468e87e78a3575a1bd1f928d";
    let other = "df5f30d5ddb07e560b0b26a5a70cdd89a0101090368e1fe055ad1384ba6dd13a";
    let text = format!("{other} then {long}, short d9c66aee88cb and sha256:{other}");
    assert_eq!(
        normalise_text(&text, false, &mut IdNames::default()),
        "<id1…> then <id2…>, short <id2> and sha256:<id1…>"
    );
}

#[test]
fn times_and_durations_become_placeholders_but_the_zero_time_stays() {
    let text = "Up Less than a second|Exited (0) 2 seconds ago|2026-11-23T00:32:28.7624529Z|\
                0001-01-01T00:00:00Z|About a minute ago";
    assert_eq!(
        normalise_text(text, false, &mut IdNames::default()),
        "Up <duration>|Exited (0) <duration> ago|<time>|0001-01-01T00:00:00Z|<duration> ago"
    );
}

#[test]
fn sizes_become_placeholders_only_when_asked() {
    let text = "Images  1  1  1.98MB  0B (0%)";
    assert_eq!(
        normalise_text(text, true, &mut IdNames::default()),
        "Images  1  1  <size>  <size> (<percent>)"
    );
    assert_eq!(
        normalise_text(text, false, &mut IdNames::default()),
        "Images  1  1  1.98MB  0B (0%)"
    );
}

#[test]
fn inspect_fields_are_picked_sorted_and_absent_ones_null() {
    let stdout = r#"[{"State": {"Status": "exited", "ExitCode": 3, "Error": null}, "Config": {"Labels": {"b": "2", "a": "1"}}}]"#;
    let (whole, fields) =
        selected_fields(stdout, &["/State", "/Config/Labels", "/Name"]).expect("JSON");
    assert_eq!(fields[2], ("/Name", "[\n  null\n]\n".to_owned()));
    assert!(selected_fields("Error: No such object: x\n", &["/Name"]).is_none());
    let value: Value = serde_json::from_str(&whole).expect("JSON");
    assert_eq!(
        value,
        serde_json::json!([{
            "/State": {"ExitCode": 3, "Status": "exited"},
            "/Config/Labels": {"a": "1", "b": "2"},
            "/Name": null
        }])
    );
}

#[test]
fn line_diff_marks_lines_of_each_side() {
    assert_eq!(
        line_diff("a\nb\nc\n", "a\nx\nc\n"),
        "      a\n    + x\n    - b\n      c\n"
    );
}

#[test]
fn every_known_difference_names_a_scenario_and_step_that_exist() {
    let scenarios = scenarios();
    for known in KNOWN_DIFFERENCES {
        if known.scenario == "*" {
            assert_eq!(
                known.step, "*",
                "an entry for every scenario is for every step"
            );
            continue;
        }
        let scenario = scenarios
            .iter()
            .find(|s| s.name == known.scenario)
            .unwrap_or_else(|| panic!("no scenario {:?}", known.scenario));
        assert!(
            known.step == "*"
                || scenario
                    .steps
                    .iter()
                    .any(|s| s.command_line() == known.step),
            "scenario {:?} has no step {:?}",
            known.scenario,
            known.step
        );
        assert!(!known.why.is_empty(), "a known difference says why");
    }
    let mut names: Vec<&str> = scenarios.iter().map(|s| s.name).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), scenarios.len(), "scenario names are unique");
}
