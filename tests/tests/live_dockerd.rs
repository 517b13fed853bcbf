//! The live-daemon harness works: a private Debian dockerd 20.10 starts, answers the docker CLI
//! at its own API version and at pinned older ones, imports the busybox image and runs a
//! container from it with runc, and a second daemon runs beside it without clashing.

use drydock_tests::dockerd::Dockerd;

/// `docker version`'s client and server API versions, with `DOCKER_API_VERSION` set to `pinned`
/// when given.
fn client_and_server_api_versions(daemon: &Dockerd, pinned: Option<&str>) -> (String, String) {
    let mut command = daemon.docker_command();
    command.args([
        "version",
        "--format",
        "{{.Client.APIVersion}} {{.Server.APIVersion}}",
    ]);
    if let Some(version) = pinned {
        command.env("DOCKER_API_VERSION", version);
    }
    let output = command.output().expect("the docker CLI starts");
    assert!(
        output.status.success(),
        "docker version (pinned {pinned:?}) failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).expect("docker version prints UTF-8");
    let (client, server) = text
        .trim()
        .split_once(' ')
        .unwrap_or_else(|| panic!("docker version printed {text:?}"));
    (client.to_owned(), server.to_owned())
}

/// The repository tags of the images the daemon lists, with `DOCKER_API_VERSION=pinned`.
fn image_tags_at(daemon: &Dockerd, pinned: &str) -> Vec<String> {
    let output = daemon
        .docker_command()
        .args(["image", "ls", "--format", "{{.Repository}}:{{.Tag}}"])
        .env("DOCKER_API_VERSION", pinned)
        .output()
        .expect("the docker CLI starts");
    assert!(
        output.status.success(),
        "docker image ls at API {pinned} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn daemon_speaks_api_1_41() {
    let (client, server) = client_and_server_api_versions(Dockerd::shared(), None);
    assert_eq!(server, "1.41");
    assert_eq!(client, "1.41");
}

#[test]
fn cli_pinned_to_api_1_24_reports_it_and_lists_images() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("busybox:latest");
    let (client, server) = client_and_server_api_versions(daemon, Some("1.24"));
    assert_eq!(client, "1.24");
    assert_eq!(server, "1.41");
    assert!(
        image_tags_at(daemon, "1.24").contains(&"busybox:latest".to_owned()),
        "busybox:latest is listed at API 1.24"
    );
}

#[test]
fn cli_pinned_to_api_1_33_reports_it_and_lists_images() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("busybox:latest");
    let (client, server) = client_and_server_api_versions(daemon, Some("1.33"));
    assert_eq!(client, "1.33");
    assert_eq!(server, "1.41");
    assert!(
        image_tags_at(daemon, "1.33").contains(&"busybox:latest".to_owned()),
        "busybox:latest is listed at API 1.33"
    );
}

#[test]
fn busybox_container_echoes_hello() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("busybox:latest");
    let printed = daemon.docker_stdout(["run", "--rm", "busybox", "echo", "hello"]);
    assert_eq!(printed, "hello\n");
}

#[test]
fn busybox_container_runs_as_root_from_the_imported_passwd() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("busybox:latest");
    let printed =
        daemon.docker_stdout(["run", "--rm", "busybox", "sh", "-c", "whoami; ls -d /tmp"]);
    assert_eq!(printed, "root\n/tmp\n");
}

#[test]
fn imported_busybox_image_is_inspectable() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("busybox:latest");
    let printed = daemon.docker_stdout(["image", "inspect", "busybox:latest"]);
    let images: serde_json::Value =
        serde_json::from_str(&printed).expect("docker image inspect prints JSON");
    let image = &images[0];
    assert_eq!(image["Os"], "linux");
    assert_eq!(image["RepoTags"], serde_json::json!(["busybox:latest"]));
    assert_eq!(
        image["RootFS"]["Layers"].as_array().map(Vec::len),
        Some(1),
        "an imported image has one layer: {image}"
    );
}

#[test]
fn second_daemon_runs_beside_the_shared_one_and_leaves_nothing_behind() {
    let shared = Dockerd::shared();
    let second = Dockerd::start();
    assert_ne!(shared.dir(), second.dir());
    let (_, server) = client_and_server_api_versions(&second, None);
    assert_eq!(server, "1.41");
    let dir = second.dir().to_path_buf();
    assert!(dir.exists());
    drop(second);
    assert!(!dir.exists(), "{} is removed on drop", dir.display());
    let (_, server) = client_and_server_api_versions(shared, None);
    assert_eq!(server, "1.41", "the shared daemon still answers");
}
