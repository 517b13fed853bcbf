//! drydock's engine and Debian's dockerd agree on images: the same tarball imported at the same
//! time gets the same id in both, and images move between them through `docker save` /
//! `docker load` archives with their ids unchanged.

use std::fs;
use std::path::{Path, PathBuf};

use drydock_engine::images::{ContainerConfig, ImageStore, ImportOptions, apply_changes};
use drydock_tests::dockerd::{Dockerd, busybox_rootfs};

/// A private folder for a store, removed on drop.
struct Folder(PathBuf);

impl Folder {
    fn new(name: &str) -> Folder {
        let path = PathBuf::from(format!("/tmp/dde-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&path);
        fs::create_dir_all(&path).expect("the folder");
        Folder(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// `docker image inspect --format` of one image, split on spaces.
fn inspect_fields(daemon: &Dockerd, image: &str, format: &str) -> Vec<String> {
    daemon
        .docker_stdout(["image", "inspect", "--format", format, image])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

#[test]
fn import_gives_the_id_docker_import_gives_the_same_tarball() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("engine-import:latest");
    let fields = inspect_fields(
        daemon,
        "engine-import:latest",
        "{{.Id}} {{.Created}} {{.DockerVersion}} {{.Architecture}} {{.Size}} {{json .RootFS.Layers}}",
    );
    let [
        docker_id,
        created,
        docker_version,
        architecture,
        size,
        layers,
    ] = &fields[..]
    else {
        panic!("inspect printed {fields:?}");
    };
    let folder = Folder::new("import");
    let store = ImageStore::open(folder.path()).expect("the store opens");
    // `docker import -` writes the time of the import and its own version into the config;
    // given the same, the engine writes the same bytes.
    let options = ImportOptions {
        reference: Some("engine-import:latest".to_owned()),
        comment: "Imported from -".to_owned(),
        created: created.parse().expect("dockerd's time parses"),
        docker_version: docker_version.clone(),
        architecture: architecture.clone(),
        ..ImportOptions::default()
    };
    let id = store
        .import(&busybox_rootfs()[..], options)
        .expect("the import succeeds");
    assert_eq!(&id.to_string(), docker_id);
    let inspect = store.inspect("engine-import").expect("inspects");
    assert_eq!(&inspect.created, created);
    assert_eq!(&inspect.size.to_string(), size);
    let docker_layers: Vec<String> = serde_json::from_str(layers).expect("layers JSON");
    assert_eq!(inspect.rootfs.layers, docker_layers);
    assert_eq!(inspect.repo_tags, vec!["engine-import:latest".to_owned()]);
}

#[test]
fn an_image_saved_by_dockerd_loads_with_its_id_and_goes_back_unchanged() {
    let daemon = Dockerd::shared();
    daemon.import_busybox("engine-save/busybox:1");
    let docker_id = inspect_fields(daemon, "engine-save/busybox:1", "{{.Id}}")
        .pop()
        .expect("an id");
    let folder = Folder::new("save");
    let saved = folder.path().join("from-dockerd.tar");
    daemon.docker_stdout([
        "save".as_ref(),
        "-o".as_ref(),
        saved.as_os_str(),
        "engine-save/busybox:1".as_ref(),
    ]);
    let store = ImageStore::open(folder.path().join("store")).expect("the store opens");
    let archive = fs::File::open(&saved).expect("the archive");
    let loaded = store.load(archive).expect("dockerd's archive loads");
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].id.to_string(), docker_id);
    assert_eq!(loaded[0].tags, vec!["engine-save/busybox:1".to_owned()]);

    // Back to dockerd under a new tag with a registry and port in its name.
    store
        .tag("engine-save/busybox:1", "localhost:5000/engine/back:2")
        .expect("tags");
    let back = folder.path().join("from-engine.tar");
    let out = fs::File::create(&back).expect("the archive file");
    store
        .save(&["localhost:5000/engine/back:2"], out)
        .expect("saves");
    let loaded_output = daemon.docker_stdout(["load".as_ref(), "-i".as_ref(), back.as_os_str()]);
    assert!(
        loaded_output.contains("Loaded image: localhost:5000/engine/back:2"),
        "{loaded_output}"
    );
    let back_id = inspect_fields(daemon, "localhost:5000/engine/back:2", "{{.Id}}")
        .pop()
        .expect("an id");
    assert_eq!(back_id, docker_id);
}

#[test]
fn import_with_changes_and_a_message_gives_dockerds_id() {
    let daemon = Dockerd::shared();
    let folder = Folder::new("changes");
    let tarball = folder.path().join("rootfs.tar");
    fs::write(&tarball, busybox_rootfs()).expect("the tarball");
    let changes = [
        "CMD echo hi && ls",
        r#"ENTRYPOINT ["/bin/sh","-c"]"#,
        r#"ENV A=1 B="two words""#,
        "ENV C 3",
        "WORKDIR /srv",
        "WORKDIR sub",
        "USER nobody",
        "EXPOSE 80 443/udp",
        "VOLUME /data",
        r#"LABEL k=v "x y"=z"#,
        "ONBUILD RUN true",
        "HEALTHCHECK CMD true",
    ];
    let mut args = vec![
        "import".to_owned(),
        "-m".to_owned(),
        "a <message>".to_owned(),
    ];
    for change in changes {
        args.push("-c".to_owned());
        args.push(change.to_owned());
    }
    args.push(tarball.display().to_string());
    args.push("engine-changes:1".to_owned());
    daemon.docker_stdout(&args);
    let fields = inspect_fields(
        daemon,
        "engine-changes:1",
        "{{.Id}} {{.Created}} {{.DockerVersion}} {{.Architecture}}",
    );
    let [docker_id, created, docker_version, architecture] = &fields[..] else {
        panic!("inspect printed {fields:?}");
    };
    let mut config = ContainerConfig::default();
    let changes: Vec<String> = changes.iter().map(|change| (*change).to_owned()).collect();
    apply_changes(&mut config, &changes).expect("the changes apply");
    let store = ImageStore::open(folder.path().join("store")).expect("the store opens");
    let options = ImportOptions {
        config,
        comment: "a <message>".to_owned(),
        created: created.parse().expect("dockerd's time parses"),
        docker_version: docker_version.clone(),
        architecture: architecture.clone(),
        ..ImportOptions::default()
    };
    let tar = fs::File::open(&tarball).expect("the tarball");
    let id = store.import(tar, options).expect("the import succeeds");
    assert_eq!(&id.to_string(), docker_id);
}
