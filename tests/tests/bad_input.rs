//! Bad input against drydockd, beside Debian's dockerd: each request is sent as it is to both
//! (raw HTTP on their unix sockets, API 1.33), and drydockd must answer with dockerd's status
//! and dockerd's message (ids normalised), or, where the wording cannot be the same (Go's JSON
//! decoder against serde's), with dockerd's status and a message naming what is wrong. And a
//! refused request must leave nothing behind in drydockd: no container, no name taken, no
//! volume, no mount, veth, namespace, address or record ([`Drydockd::leftovers`]).
//!
//! Covered: malformed create bodies (invalid JSON, wrong types, a wrong content type, unknown
//! fields, which are accepted), bad restart policies, memory limits, container names, port
//! specs, mount specs and binds, a missing or unknown image, a name in use, and a full address
//! pool (both daemons on a /30 bridge: one container fills it, the next start fails, and a
//! freed address lets the next one start). Needs root, runc, iproute2, iptables, Debian's
//! docker.io and the docker CLI at /usr/local/bin/docker.

use std::path::Path;
use std::process::Command;

use drydock_engine::network::{DEFAULT_MTU, link};
use drydock_tests::docker_http::{self, HttpResponse};
use drydock_tests::dockerd::Dockerd;
use drydock_tests::drydockd::Drydockd;
use drydock_tests::network_slot::Slot;
use regex::Regex;
use serde_json::Value;

/// The API version both daemons are asked at.
const API: &str = "/v1.33";

/// What drydockd must answer to a case.
#[derive(Clone, Copy, Debug)]
enum Expect {
    /// dockerd's status and message, ids normalised.
    Dockerds,
    /// A status of its own and a message holding `holds`, for `why`. When drydockd's answer
    /// becomes dockerd's, the entry is stale and fails the test (delete it then).
    Own {
        status: u16,
        holds: &'static str,
        why: &'static str,
    },
}

/// One create request.
struct Case {
    what: &'static str,
    /// The `name` query parameter, already URL-encoded.
    name: Option<String>,
    content_type: &'static str,
    body: String,
    expect: Expect,
}

/// A create request of `body` (JSON text) that must get dockerd's answer.
fn case(what: &'static str, body: &str) -> Case {
    Case {
        what,
        name: None,
        content_type: "application/json",
        body: body.to_owned(),
        expect: Expect::Dockerds,
    }
}

impl Case {
    fn named(mut self, name: &str) -> Case {
        self.name = Some(name.to_owned());
        self
    }

    fn content_type(mut self, content_type: &'static str) -> Case {
        self.content_type = content_type;
        self
    }

    /// drydockd answers `status` with a message holding `holds`, not as dockerd, for `why`.
    fn own(mut self, status: u16, holds: &'static str, why: &'static str) -> Case {
        self.expect = Expect::Own { status, holds, why };
        self
    }

    fn target(&self) -> String {
        match &self.name {
            Some(name) => format!("{API}/containers/create?name={name}"),
            None => format!("{API}/containers/create"),
        }
    }

    fn send(&self, socket: &Path) -> HttpResponse {
        docker_http::request_with_body(
            socket,
            "POST",
            &self.target(),
            Some((self.content_type, self.body.as_bytes())),
        )
    }
}

/// A create body: busybox running `true`, with `host_config` as its `HostConfig` and `extra`
/// fields (JSON object members, without braces) added.
fn body(host_config: &str, extra: &str) -> String {
    let mut fields = vec![r#""Image": "busybox", "Cmd": ["true"]"#.to_owned()];
    if !host_config.is_empty() {
        fields.push(format!(r#""HostConfig": {host_config}"#));
    }
    if !extra.is_empty() {
        fields.push(extra.to_owned());
    }
    format!("{{{}}}", fields.join(", "))
}

/// A create body with only `host_config` as its `HostConfig`.
fn host(host_config: &str) -> String {
    body(host_config, "")
}

/// Why drydockd answers a body that does not decode as it does.
const UNDECODABLE: &str = "by design: dockerd 20.10 answers a body that does not decode with \
                           a 500 in Go's words; it is the client's error, a 400, and drydockd \
                           names the field (the project's rule: no 500 on bad input)";
/// Why drydockd answers a bad bind as it does.
const BAD_BIND: &str = "by design: dockerd 20.10 loses the class of a bad bind's error and \
                        answers 500 with the right message; drydockd answers 400";

/// The creates, bad ones and some that look bad but that dockerd accepts.
fn cases() -> Vec<Case> {
    vec![
        // The body itself.
        case("invalid JSON", r#"{"Image": "busybox", "Cmd": ["true"]"#).own(
            400,
            "EOF while parsing",
            UNDECODABLE,
        ),
        case("an array for the config", "[1, 2]").own(400, "expected an object", UNDECODABLE),
        case(
            "Image of the wrong type",
            r#"{"Image": 5, "Cmd": ["true"]}"#,
        )
        .own(400, "Image: invalid type: integer", UNDECODABLE),
        case("Env of the wrong type", &body("", r#""Env": "A=1""#)).own(
            400,
            "Env: invalid type: string",
            UNDECODABLE,
        ),
        case("Memory of the wrong type", &host(r#"{"Memory": "lots"}"#)).own(
            400,
            "HostConfig.Memory: invalid type: string",
            UNDECODABLE,
        ),
        case("a body that is no JSON", "Image=busybox").content_type("text/plain"),
        case("no body", "").own(
            400,
            "missing body parameter",
            "by design: dockerd 20.10 answers an empty body with a 500 'EOF'",
        ),
        case("an empty config", "{}"),
        case(
            "unknown fields, which are ignored",
            &body(r#"{"Bogus": 1}"#, r#""Bogus": true"#),
        ),
        // The image and the name.
        case("no Image", r#"{"Cmd": ["true"]}"#).own(
            400,
            "No image specified",
            "by design: dockerd 20.10 creates a container without an image, which has nothing \
             to run; drydockd refuses it at create",
        ),
        case(
            "an unknown image",
            r#"{"Image": "nosuchimage:1", "Cmd": ["true"]}"#,
        ),
        case("an invalid name", &body("", "")).named("bad%20name"),
        case("a name of one character", &body("", "")).named("a"),
        case("a name in use", &body("", "")).named("bi-taken"),
        // The config.
        case(
            "a relative working directory",
            &body("", r#""WorkingDir": "relative""#),
        ),
        case(
            "a stop signal that is none",
            &body("", r#""StopSignal": "SIGNOPE""#),
        ),
        case("a variable without a name", &body("", r#""Env": ["=bad"]"#)),
        case(
            "a health check interval under 1ms",
            &body(
                "",
                r#""Healthcheck": {"Test": ["CMD", "true"], "Interval": 10}"#,
            ),
        ),
        case(
            "a negative health check retry count",
            &body(
                "",
                r#""Healthcheck": {"Test": ["CMD", "true"], "Retries": -1}"#,
            ),
        ),
        // Restart policies.
        case(
            "an unknown restart policy",
            &host(r#"{"RestartPolicy": {"Name": "sometimes"}}"#),
        ),
        case(
            "a retry count with always",
            &host(r#"{"RestartPolicy": {"Name": "always", "MaximumRetryCount": 3}}"#),
        ),
        case(
            "a negative retry count",
            &host(r#"{"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}}"#),
        ),
        case(
            "a restart policy with AutoRemove",
            &host(r#"{"AutoRemove": true, "RestartPolicy": {"Name": "always"}}"#),
        ),
        // Resources.
        case("a negative memory limit", &host(r#"{"Memory": -1}"#)),
        case("a memory limit under 6MB", &host(r#"{"Memory": 1024}"#)),
        case(
            "a swap limit under the memory limit",
            &host(r#"{"Memory": 67108864, "MemorySwap": 33554432}"#),
        ),
        case(
            "a swap limit without a memory limit",
            &host(r#"{"MemorySwap": 67108864}"#),
        ),
        case(
            "a memory reservation over the limit",
            &host(r#"{"Memory": 67108864, "MemoryReservation": 134217728}"#),
        ),
        case(
            "a memory reservation under 6MB",
            &host(r#"{"MemoryReservation": 1024}"#),
        ),
        case(
            "a kernel memory limit under 6MB",
            &host(r#"{"KernelMemory": 1024}"#),
        ),
        case(
            "a swappiness over 100",
            &host(r#"{"MemorySwappiness": 101}"#),
        ),
        case(
            "a swappiness under -1",
            &host(r#"{"MemorySwappiness": -2}"#),
        ),
        case(
            "a swappiness of -1, which is unset",
            &host(r#"{"MemorySwappiness": -1}"#),
        ),
        case("a CPU period under 1ms", &host(r#"{"CpuPeriod": 999}"#)),
        case("a CPU period over 1s", &host(r#"{"CpuPeriod": 1000001}"#)),
        case("a CPU quota under 1ms", &host(r#"{"CpuQuota": 999}"#)),
        case(
            "NanoCpus with a CPU period",
            &host(r#"{"NanoCpus": 500000000, "CpuPeriod": 100000}"#),
        ),
        case(
            "NanoCpus with a CPU quota",
            &host(r#"{"NanoCpus": 500000000, "CpuQuota": 50000}"#),
        ),
        case(
            "NanoCpus over the CPUs there are",
            &host(r#"{"NanoCpus": 1000000000000}"#),
        ),
        case("negative NanoCpus", &host(r#"{"NanoCpus": -1}"#)),
        case(
            "a cpuset that is no list",
            &host(r#"{"CpusetCpus": "abc"}"#),
        ),
        case(
            "a cpuset of CPUs not there",
            &host(r#"{"CpusetCpus": "64"}"#),
        ),
        case(
            "a cpuset of memory nodes not there",
            &host(r#"{"CpusetMems": "9"}"#),
        ),
        case(
            "an OOM score adjustment over 1000",
            &host(r#"{"OomScoreAdj": 1001}"#),
        ),
        case("a negative shm size", &host(r#"{"ShmSize": -1}"#)),
        case(
            "an isolation Linux has not",
            &host(r#"{"Isolation": "hyperv"}"#),
        )
        .own(
            400,
            "Invalid isolation: \"hyperv\" - linux only supports 'default'",
            "by design: dockerd 20.10 refuses it with a 500",
        ),
        // Extra hosts and ports.
        case(
            "an extra host without an address",
            &host(r#"{"ExtraHosts": ["nocolon"]}"#),
        ),
        case(
            "an extra host with a bad address",
            &host(r#"{"ExtraHosts": ["h:not-an-ip"]}"#),
        ),
        case(
            "a port number out of range",
            &host(r#"{"PortBindings": {"99999/tcp": [{"HostPort": "80"}]}}"#),
        ),
        case(
            "a port range as the container port",
            &host(r#"{"PortBindings": {"80-81/tcp": [{"HostPort": "80"}]}}"#),
        ),
        case(
            "a host port that is no number",
            &host(r#"{"PortBindings": {"80/tcp": [{"HostPort": "http"}]}}"#),
        ),
        case(
            "a host port over 65535",
            &host(r#"{"PortBindings": {"80/tcp": [{"HostPort": "70000"}]}}"#),
        ),
        case(
            "a descending host port range",
            &host(r#"{"PortBindings": {"80/tcp": [{"HostPort": "9000-8000"}]}}"#),
        ),
        case(
            "a host port range, which is fine",
            &host(r#"{"PortBindings": {"80/tcp": [{"HostPort": "8000-8001"}]}}"#),
        ),
        case(
            "an exposed port that is no number, which dockerd takes",
            &body("", r#""ExposedPorts": {"web/tcp": {}}"#),
        ),
        // Mounts and binds.
        case(
            "a bind mount from a relative path",
            &host(r#"{"Mounts": [{"Type": "bind", "Source": "relative/dir", "Target": "/x"}]}"#),
        ),
        case(
            "a bind mount from a missing path",
            &host(
                r#"{"Mounts": [{"Type": "bind", "Source": "/nonexistent-drydock-bad-input", "Target": "/x"}]}"#,
            ),
        ),
        case(
            "a mount of an unknown type",
            &host(r#"{"Mounts": [{"Type": "nope", "Target": "/x"}]}"#),
        ),
        case(
            "a mount without a target",
            &host(r#"{"Mounts": [{"Type": "volume", "Source": "v"}]}"#),
        ),
        case(
            "a tmpfs mount with a source",
            &host(r#"{"Mounts": [{"Type": "tmpfs", "Source": "x", "Target": "/t"}]}"#),
        ),
        case(
            "a bind from a relative path",
            &host(r#"{"Binds": ["./relative:/x"]}"#),
        ),
        case(
            "a bind to a relative path",
            &host(r#"{"Binds": ["/tmp:relative"]}"#),
        )
        .own(400, "'relative' mount path must be absolute", BAD_BIND),
        case(
            "a bind with an unknown mode",
            &host(r#"{"Binds": ["/tmp:/x:sideways"]}"#),
        )
        .own(400, "invalid mode: sideways", BAD_BIND),
        case(
            "a bind with an empty source",
            &host(r#"{"Binds": [":/x"]}"#),
        )
        .own(400, "invalid volume specification: ':/x'", BAD_BIND),
        case(
            "a volume driver that does not exist",
            &host(r#"{"VolumeDriver": "nosuchdriver", "Binds": ["vol1:/x"]}"#),
        ),
    ]
}

/// Ids (64 hex digits) and network ids in `message` as `<id>`.
fn normalised(message: &str) -> String {
    let ids = Regex::new("[0-9a-f]{64}").expect("a regex");
    ids.replace_all(message, "<id>").into_owned()
}

/// The status and message of an answer (the message empty when the body has none).
fn answer(response: &HttpResponse) -> (u16, String) {
    let message = serde_json::from_slice::<Value>(&response.body)
        .ok()
        .and_then(|body| {
            body.get("message")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .unwrap_or_default();
    (response.status, message)
}

/// Removes the container a case made (when it was accepted) on the daemon at `socket`.
fn remove_created(socket: &Path, response: &HttpResponse) {
    if response.status != 201 {
        return;
    }
    let id = response.json("create")["Id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let removed = docker_http::request(
        socket,
        "DELETE",
        &format!("{API}/containers/{id}?force=true&v=true"),
        None,
    );
    assert_eq!(removed.status, 204, "removing {id}");
}

/// The names of the containers and volumes a daemon has.
fn containers_and_volumes(socket: &Path) -> (Vec<String>, Vec<String>) {
    let containers = docker_http::get(socket, &format!("{API}/containers/json?all=true"))
        .json("containers")
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .flat_map(|row| row["Names"].as_array().cloned().unwrap_or_default())
        .filter_map(|name| name.as_str().map(str::to_owned))
        .collect();
    let volumes = docker_http::get(socket, &format!("{API}/volumes")).json("volumes")["Volumes"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .filter_map(|volume| volume["Name"].as_str().map(str::to_owned))
        .collect();
    (containers, volumes)
}

/// Both daemons, each with busybox, started at the same time.
fn daemons(
    dockerd: impl FnOnce() -> Dockerd + Send,
    drydockd: impl FnOnce() -> Drydockd,
) -> (Dockerd, Drydockd) {
    std::thread::scope(|scope| {
        let theirs = scope.spawn(|| {
            let daemon = dockerd();
            daemon.import_busybox("busybox:latest");
            daemon
        });
        let ours = drydockd();
        ours.import_busybox("busybox:latest");
        (theirs.join().expect("dockerd starts"), ours)
    })
}

#[test]
fn bad_creates_get_dockerds_status_and_message_and_leave_nothing_behind() {
    let (dockerd, drydockd) = daemons(Dockerd::start, || {
        Drydockd::start(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")))
    });
    let taken = case("the container whose name is taken", &body("", "")).named("bi-taken");
    for socket in [dockerd.socket(), drydockd.socket()] {
        assert_eq!(taken.send(&socket).status, 201, "{}", taken.what);
    }
    let mut report = Vec::new();
    // The names of the creates drydockd refused: none may be taken.
    let mut refused_names = Vec::new();
    for (n, case) in cases().into_iter().enumerate() {
        // Named, unless the name is what the case is about.
        let case = match case.name {
            Some(_) => case,
            None => case.named(&format!("bi-{n}")),
        };
        let theirs = case.send(&dockerd.socket());
        let ours = case.send(&drydockd.socket());
        remove_created(&dockerd.socket(), &theirs);
        remove_created(&drydockd.socket(), &ours);
        let (their_status, their_message) = answer(&theirs);
        let (our_status, our_message) = answer(&ours);
        if our_status != 201 && case.name.as_deref() != Some("bi-taken") {
            refused_names.extend(case.name.clone());
        }
        let same =
            their_status == our_status && normalised(&their_message) == normalised(&our_message);
        match case.expect {
            Expect::Dockerds if !same => report.push(format!(
                "{}: dockerd {their_status} {their_message:?}, drydockd {our_status} {our_message:?}",
                case.what
            )),
            Expect::Own { why, .. } if same => report.push(format!(
                "{}: stale, drydockd now answers as dockerd ({why}); delete the entry",
                case.what
            )),
            Expect::Own { status, holds, .. }
                if our_status != status || !our_message.contains(holds) =>
            {
                report.push(format!(
                    "{}: drydockd {our_status} {our_message:?}, not {status} with {holds:?}",
                    case.what
                ));
            }
            _ => {}
        }
        let (containers, volumes) = containers_and_volumes(&drydockd.socket());
        if containers != ["/bi-taken"] || !volumes.is_empty() {
            report.push(format!(
                "{}: drydockd kept containers {containers:?} and volumes {volumes:?}",
                case.what
            ));
        }
    }
    assert!(report.is_empty(), "{}", report.join("\n"));

    // No refused create kept its name: a good create takes each (invalid names aside).
    let valid = Regex::new("^[a-zA-Z0-9][a-zA-Z0-9_.-]+$").expect("a regex");
    for name in refused_names.iter().filter(|name| valid.is_match(name)) {
        let good = case("a good create", &body("", "")).named(name);
        let created = good.send(&drydockd.socket());
        assert_eq!(created.status, 201, "the name {name} is free");
        remove_created(&drydockd.socket(), &created);
    }
    let removed = docker_http::request(
        &drydockd.socket(),
        "DELETE",
        &format!("{API}/containers/bi-taken"),
        None,
    );
    assert_eq!(removed.status, 204);
    assert_eq!(drydockd.leftovers(), Vec::<String>::new());
}

/// The slot of dockerd's bridge, removed on drop.
struct DockerdBridge(Slot);

impl Drop for DockerdBridge {
    fn drop(&mut self) {
        let _ = link::delete_link(&self.0.bridge());
    }
}

/// Runs the docker CLI with `args`, which must succeed.
fn docker(mut command: Command, args: &[&str]) {
    let output = command.args(args).output().expect("the docker CLI runs");
    assert!(
        output.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_full_address_pool_refuses_a_start_as_dockerd_does_leaving_nothing_until_an_address_frees() {
    // Both daemons on a /30: one address for a container.
    let slot = Slot::claim();
    let subnet = slot.subnet(30);
    link::ensure_bridge(&slot.bridge(), subnet, subnet.first_host(), DEFAULT_MTU)
        .unwrap_or_else(|e| panic!("cannot make bridge {}: {e}", slot.bridge()));
    let bridge = DockerdBridge(slot);
    let bridge_name = bridge.0.bridge();
    let (dockerd, drydockd) = daemons(
        || Dockerd::start_on_bridge(&bridge_name),
        || Drydockd::start_with_subnet(Path::new(env!("CARGO_BIN_EXE_drydockd-for-tests")), 30),
    );
    let clis = || [dockerd.docker_command(), drydockd.docker_command()];
    for cli in clis() {
        docker(
            cli,
            &["run", "-d", "--name", "fill", "busybox", "sleep", "300"],
        );
    }
    for cli in clis() {
        docker(cli, &["create", "--name", "over", "busybox", "true"]);
    }
    let before = drydockd.leftovers();
    // The running `fill` shows in every kind of trace the check looks for.
    for kind in [
        "mount ",
        "process ",
        "runc container ",
        "namespace file ",
        "cgroup ",
        "interface ",
        "network endpoint ",
    ] {
        assert!(
            before.iter().any(|trace| trace.starts_with(kind)),
            "no {kind}trace of a running container in {before:#?}"
        );
    }
    let start = |socket: &Path| {
        answer(&docker_http::request(
            socket,
            "POST",
            &format!("{API}/containers/over/start"),
            None,
        ))
    };
    let (their_status, their_message) = start(&dockerd.socket());
    let (our_status, our_message) = start(&drydockd.socket());
    assert!(
        their_message.starts_with("no available IPv4 addresses"),
        "dockerd: {their_status} {their_message}"
    );
    assert_eq!(
        (our_status, normalised(&our_message)),
        (their_status, normalised(&their_message))
    );
    // The failed start made nothing: no veth, namespace, endpoint, mount, monitor or cgroup.
    assert_eq!(drydockd.leftovers(), before);

    // An address freed, the same container starts.
    for cli in clis() {
        docker(cli, &["rm", "-f", "fill"]);
    }
    for (socket, daemon) in [
        (dockerd.socket(), "dockerd"),
        (drydockd.socket(), "drydockd"),
    ] {
        assert_eq!(start(&socket), (204, String::new()), "{daemon}");
    }
    for cli in clis() {
        docker(cli, &["rm", "-f", "over"]);
    }
    assert_eq!(drydockd.leftovers(), Vec::<String>::new());
}
