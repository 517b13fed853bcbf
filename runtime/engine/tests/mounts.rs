//! Mounts and volumes against the real thing: volumes in a real store, binds, volumes and
//! tmpfs mounted by the real runc into busybox containers under the real monitor, the files
//! Docker writes for `/etc` read back with `cat` inside the container. Needs root, runc and
//! busybox-static (`cargo xtask test` installs them).

#[allow(
    dead_code,
    reason = "shared with the engine tests; not every helper is used here"
)]
mod support;

use std::collections::BTreeMap;
use std::fs;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use drydock_engine::digest::Digest;
use drydock_engine::etc_files::{EtcFiles, EtcSettings, HostFiles};
use drydock_engine::images::{ContainerConfig, ImportOptions};
use drydock_engine::mounts::{
    self, MountPlan, MountRequest, MountSpec, MountType, TmpfsOptions, VolumeOptions,
};
use drydock_engine::oci::{self, HostSettings};
use drydock_engine::volumes::{CreateVolume, PruneFilter, VolumeFilter, VolumeStore};
use drydock_engine::{Error, ErrorKind, rootfs};

use support::{Sandbox, new_container_id};

/// How long a short-lived container may take.
const EXIT_TIMEOUT: Duration = Duration::from_secs(30);

/// What the image with a volume has in its volume folder.
const IMAGE_FILE: &str = "hello from the image\n";

/// A sandbox with a volume store in its data root. Volume devices still mounted when a test
/// ends (it failed half-way) are unmounted before the sandbox goes.
struct VolumeSandbox {
    store: VolumeStore,
    sandbox: Sandbox,
}

impl VolumeSandbox {
    fn new() -> VolumeSandbox {
        let sandbox = Sandbox::new();
        let store = VolumeStore::open(sandbox.dir.join("data/volumes")).expect("volumes open");
        VolumeSandbox { store, sandbox }
    }

    /// Imports busybox with `/srv/data/hello.txt` (owned by 1000:1000, folder mode 0750) and
    /// `/srv/data` as an image volume.
    fn import_image_with_volume(&self) -> Digest {
        let config = ContainerConfig {
            volumes: Some(BTreeMap::from([(
                "/srv/data".to_owned(),
                serde_json::json!({}),
            )])),
            ..ContainerConfig::default()
        };
        let options = ImportOptions {
            reference: Some("volumes:latest".to_owned()),
            config,
            ..ImportOptions::default()
        };
        self.sandbox
            .store
            .import(&rootfs_with_image_volume()[..], options)
            .expect("the image imports")
    }

    /// Plans `request` for a new container of `image` running `cmd`, creates its volumes,
    /// copies the image's content into them, and starts it with the plan's mounts and, when
    /// given, the `/etc` files. Returns the container id.
    fn run(
        &self,
        image: &Digest,
        cmd: &[&str],
        request: &MountRequest,
        etc: Option<(&EtcFiles, &str)>,
    ) -> (String, MountPlan) {
        let id = new_container_id();
        let plan = mounts::plan(request, &self.store).unwrap_or_else(|e| panic!("plans: {e}"));
        self.start(&id, image, cmd, &plan, etc);
        (id, plan)
    }

    fn start(
        &self,
        id: &str,
        image: &Digest,
        cmd: &[&str],
        plan: &MountPlan,
        etc: Option<(&EtcFiles, &str)>,
    ) {
        let runtime = &self.sandbox.runtime;
        let layers = self.sandbox.store.layer_paths(image).expect("layers");
        let config = config_of(&self.sandbox, image, cmd, etc.map(|(_, name)| name));
        plan.create_volumes(&self.store, id).expect("volumes");
        let root = rootfs::mount(&runtime.rootfs_dir(id), &layers).expect("rootfs");
        plan.populate(&self.store, &root, id).expect("copy-up");
        let mut host = HostSettings {
            mounts: plan.oci_mounts(&self.store, id).expect("mounts"),
            ..HostSettings::default()
        };
        if let Some((files, _)) = etc {
            host.mounts
                .extend(files.oci_mounts(plan, false).expect("etc mounts"));
        }
        runtime
            .start(id, &layers, &config, &host, 0)
            .unwrap_or_else(|e| panic!("the container starts: {e}"));
    }

    /// Waits for the container, returns its exit code and output, and removes it (its volume
    /// mounts undone, its references dropped, with `-v`).
    fn finish(&self, id: &str, plan: &MountPlan) -> (i32, String) {
        let exit = self
            .sandbox
            .runtime
            .wait(id, EXIT_TIMEOUT)
            .expect("it exits");
        let output = output_of(&self.sandbox, id);
        self.remove(id, plan);
        (exit.exit_code, output)
    }

    fn remove(&self, id: &str, plan: &MountPlan) {
        self.sandbox.runtime.remove(id, true).expect("removed");
        plan.unmount_volumes(&self.store, id).expect("unmounted");
        plan.release_volumes(&self.store, id, true)
            .expect("released");
    }

    fn volume_names(&self) -> Vec<String> {
        self.store
            .list(&VolumeFilter::default())
            .expect("volumes list")
            .into_iter()
            .map(|volume| volume.name)
            .collect()
    }
}

impl Drop for VolumeSandbox {
    fn drop(&mut self) {
        let volumes = self.sandbox.dir.join("data/volumes");
        let mut mounted = rootfs::mounts_under(&volumes).unwrap_or_default();
        mounted.sort_by_key(|path| std::cmp::Reverse(path.components().count()));
        for path in mounted {
            if let Ok(c) = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()) {
                // SAFETY: `c` is a NUL-terminated path that outlives the call.
                unsafe { libc::umount2(c.as_ptr(), libc::MNT_DETACH) };
            }
        }
    }
}

/// The config of `cmd` with the image's merged in, under `hostname` when given.
fn config_of(
    sandbox: &Sandbox,
    image: &Digest,
    cmd: &[&str],
    hostname: Option<&str>,
) -> ContainerConfig {
    let mut config = ContainerConfig {
        cmd: Some(cmd.iter().map(|arg| (*arg).to_owned()).collect()),
        hostname: hostname.unwrap_or_default().to_owned(),
        ..ContainerConfig::default()
    };
    if let Some(image_config) = &sandbox.store.config(image).expect("config").config {
        oci::merge_image_config(&mut config, image_config);
    }
    config
}

/// Everything the container wrote, in order.
fn output_of(sandbox: &Sandbox, id: &str) -> String {
    let text = fs::read_to_string(sandbox.runtime.log_path(id)).expect("the log exists");
    text.lines()
        .map(|line| {
            let entry: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
            entry["log"].as_str().unwrap_or_default().to_owned()
        })
        .collect()
}

/// The busybox root file system with `srv/data/hello.txt` added.
fn rootfs_with_image_volume() -> Vec<u8> {
    let busybox = support::busybox_rootfs();
    let mut source = tar::Archive::new(&busybox[..]);
    let mut archive = tar::Builder::new(Vec::new());
    for entry in source.entries().expect("entries") {
        let mut entry = entry.expect("an entry");
        let mut header = entry.header().clone();
        let path = entry.path().expect("a path").into_owned();
        if header.entry_type().is_symlink() {
            let target = entry.link_name().expect("a link").expect("a target");
            archive
                .append_link(&mut header, &path, target.as_ref())
                .expect("appended");
        } else {
            archive
                .append_data(&mut header, &path, &mut entry)
                .expect("appended");
        }
    }
    for (path, kind, mode, data) in [
        ("srv", tar::EntryType::Directory, 0o755, &b""[..]),
        ("srv/data", tar::EntryType::Directory, 0o750, &b""[..]),
        (
            "srv/data/hello.txt",
            tar::EntryType::Regular,
            0o644,
            IMAGE_FILE.as_bytes(),
        ),
    ] {
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(mode);
        header.set_size(data.len() as u64);
        header.set_uid(1000);
        header.set_gid(1000);
        header.set_mtime(0);
        archive
            .append_data(&mut header, path, data)
            .expect("appended");
    }
    archive.into_inner().expect("the archive finishes")
}

fn binds(items: &[String]) -> MountRequest {
    MountRequest {
        binds: items.to_vec(),
        ..MountRequest::default()
    }
}

/// A host folder in the sandbox holding `greeting`.
fn host_folder(sandbox: &Sandbox, name: &str) -> PathBuf {
    let dir = sandbox.dir.join(name);
    fs::create_dir_all(&dir).expect("host folder");
    fs::write(dir.join("greeting"), "hello from the host\n").expect("greeting");
    dir
}

#[test]
fn a_read_only_bind_shows_the_host_folder_and_refuses_writes() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let read_only = host_folder(&volumes.sandbox, "ro");
    let writable = host_folder(&volumes.sandbox, "rw");
    let (id, plan) = volumes.run(
        &image,
        &[
            "sh",
            "-c",
            "cat /mnt/greeting; touch /mnt/new 2>&1; echo ro=$?; echo hi > /rw/out; echo rw=$?",
        ],
        &binds(&[
            format!("{}:/mnt:ro", read_only.display()),
            format!("{}:/rw", writable.display()),
        ]),
        None,
    );
    let (code, output) = volumes.finish(&id, &plan);
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "hello from the host\ntouch: /mnt/new: Read-only file system\nro=1\nrw=0\n"
    );
    assert!(!read_only.join("new").exists());
    assert_eq!(
        fs::read_to_string(writable.join("out")).expect("written"),
        "hi\n"
    );
}

#[test]
fn a_named_volume_keeps_its_content_after_its_container_is_removed() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let (writer, plan) = volumes.run(
        &image,
        &["sh", "-c", "echo kept > /data/file"],
        &binds(&["keep:/data".to_owned()]),
        None,
    );
    assert_eq!(plan.points[0].name, "keep");
    assert_eq!(volumes.finish(&writer, &plan).0, 0);
    // Removed with `-v`, the container leaves its named volume behind.
    let kept = volumes.store.get("keep").expect("the volume stays");
    assert!(kept.users.is_empty());
    assert_eq!(
        fs::read_to_string(kept.mountpoint.join("file")).expect("its content"),
        "kept\n"
    );
    let reader = MountRequest {
        mounts: vec![MountSpec {
            read_only: true,
            ..MountSpec::new(MountType::Volume, "keep", "/data")
        }],
        ..MountRequest::default()
    };
    let (id, plan) = volumes.run(
        &image,
        &["sh", "-c", "cat /data/file; rm /data/file 2>&1; echo rm=$?"],
        &reader,
        None,
    );
    let (_, output) = volumes.finish(&id, &plan);
    assert_eq!(
        output,
        "kept\nrm: can't remove '/data/file': Read-only file system\nrm=1\n"
    );
    assert_eq!(volumes.volume_names(), ["keep"]);
}

#[test]
fn an_anonymous_volume_for_an_image_volume_gets_the_image_content_copied_up() {
    let volumes = VolumeSandbox::new();
    let image = volumes.import_image_with_volume();
    let request = MountRequest {
        image_volumes: vec!["/srv/data".to_owned()],
        ..MountRequest::default()
    };
    let (id, plan) = volumes.run(
        &image,
        &[
            "sh",
            "-c",
            "cat /srv/data/hello.txt; stat -c '%u:%g %a' /srv/data; grep -c ' /srv/data ' /proc/mounts",
        ],
        &request,
        None,
    );
    let anonymous = volumes.volume_names();
    assert_eq!(anonymous.len(), 1);
    assert_eq!(anonymous[0].len(), 64);
    assert_eq!(plan.points[0].name, anonymous[0]);
    let data = volumes.store.data_path(&anonymous[0]);
    assert_eq!(
        fs::read_to_string(data.join("hello.txt")).expect("copied up"),
        IMAGE_FILE
    );
    let (code, output) = volumes.finish(&id, &plan);
    assert_eq!(code, 0);
    assert_eq!(output, format!("{IMAGE_FILE}1000:1000 750\n1\n"));
    // `docker rm -v` took the anonymous volume with the container.
    assert!(volumes.volume_names().is_empty());
}

#[test]
fn a_volume_mounted_with_nocopy_over_an_image_folder_stays_empty() {
    let volumes = VolumeSandbox::new();
    let image = volumes.import_image_with_volume();
    let request = MountRequest {
        mounts: vec![MountSpec {
            volume_options: Some(VolumeOptions {
                no_copy: true,
                ..VolumeOptions::default()
            }),
            ..MountSpec::new(MountType::Volume, "empty", "/srv/data")
        }],
        image_volumes: vec!["/srv/data".to_owned()],
        ..MountRequest::default()
    };
    let (id, plan) = volumes.run(&image, &["ls", "-A", "/srv/data"], &request, None);
    let (code, output) = volumes.finish(&id, &plan);
    assert_eq!((code, output.as_str()), (0, ""));
    // The image volume is covered by the named one: no anonymous volume was made.
    assert_eq!(volumes.volume_names(), ["empty"]);
}

#[test]
fn tmpfs_mounts_have_dockers_flags_and_the_size_and_mode_asked_for() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let request = MountRequest {
        mounts: vec![MountSpec {
            tmpfs_options: Some(TmpfsOptions {
                size_bytes: 1 << 20,
                mode: 0o1770,
            }),
            ..MountSpec::new(MountType::Tmpfs, "", "/scratch")
        }],
        tmpfs: BTreeMap::from([("/cache".to_owned(), "size=64k,exec".to_owned())]),
        ..MountRequest::default()
    };
    let (id, plan) = volumes.run(
        &image,
        &[
            "sh",
            "-c",
            "grep -E ' /(scratch|cache) ' /proc/mounts; stat -c %a /scratch",
        ],
        &request,
        None,
    );
    let (code, output) = volumes.finish(&id, &plan);
    assert_eq!(code, 0);
    let lines: Vec<&str> = output.lines().collect();
    assert_eq!(lines.len(), 3, "{output}");
    let scratch = lines
        .iter()
        .find(|line| line.starts_with("tmpfs /scratch tmpfs "))
        .unwrap_or_else(|| panic!("/scratch is a tmpfs: {output}"));
    for option in ["rw", "nosuid", "nodev", "noexec", "size=1024k", "mode=1770"] {
        assert!(
            scratch.split([' ', ',']).any(|word| word == option),
            "{option} in {scratch}"
        );
    }
    let cache = lines
        .iter()
        .find(|line| line.starts_with("tmpfs /cache tmpfs "))
        .unwrap_or_else(|| panic!("/cache is a tmpfs: {output}"));
    assert!(cache.contains("size=64k"), "{cache}");
    assert!(!cache.contains("noexec"), "exec overrides noexec: {cache}");
    assert_eq!(lines[2], "1770");
}

#[test]
fn etc_hosts_hostname_and_resolv_conf_are_what_docker_writes() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let id = new_container_id();
    let files = EtcFiles::in_dir(&volumes.sandbox.dir.join("data/containers").join(&id));
    let settings = EtcSettings {
        hostname: "box".to_owned(),
        domainname: "example.com".to_owned(),
        addresses: vec!["172.17.0.2".parse::<IpAddr>().expect("an address")],
        extra_hosts: vec!["db:10.0.0.9".to_owned()],
        dns: vec!["192.0.2.1".to_owned()],
        dns_search: vec!["example.com".to_owned()],
        dns_options: vec!["ndots:1".to_owned()],
        ..EtcSettings::default()
    };
    files
        .write(&settings, &HostFiles::system())
        .expect("written");
    let plan = mounts::plan(&MountRequest::default(), &volumes.store).expect("plans");
    volumes.start(
        &id,
        &image,
        &[
            "sh",
            "-c",
            "cat /etc/hosts /etc/hostname /etc/resolv.conf; hostname",
        ],
        &plan,
        Some((&files, "box")),
    );
    let (code, output) = volumes.finish(&id, &plan);
    assert_eq!(code, 0);
    assert_eq!(
        output,
        "127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         ff00::0\tip6-mcastprefix\n\
         ff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n\
         10.0.0.9\tdb\n\
         172.17.0.2\tbox.example.com box\n\
         box\n\
         search example.com\n\
         nameserver 192.0.2.1\n\
         options ndots:1\n\
         box\n"
    );
}

#[test]
fn a_bind_over_etc_hosts_replaces_the_engines_file() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let id = new_container_id();
    let files = EtcFiles::in_dir(&volumes.sandbox.dir.join("data/containers").join(&id));
    files
        .write(
            &EtcSettings {
                hostname: "box".to_owned(),
                ..EtcSettings::default()
            },
            &HostFiles::system(),
        )
        .expect("written");
    let own_hosts = volumes.sandbox.dir.join("my-hosts");
    fs::write(&own_hosts, "10.9.9.9 mine\n").expect("hosts");
    let plan = mounts::plan(
        &binds(&[format!("{}:/etc/hosts:ro", own_hosts.display())]),
        &volumes.store,
    )
    .expect("plans");
    volumes.start(
        &id,
        &image,
        &["cat", "/etc/hosts"],
        &plan,
        Some((&files, "box")),
    );
    let (_, output) = volumes.finish(&id, &plan);
    assert_eq!(output, "10.9.9.9 mine\n");
}

#[test]
fn a_volume_is_in_use_while_a_container_references_it_even_after_an_engine_restart() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let (id, plan) = volumes.run(
        &image,
        &["sleep", "1000"],
        &binds(&["busy:/data".to_owned()]),
        None,
    );
    let refused = volumes.store.remove("busy", false).expect_err("in use");
    assert_eq!(
        refused.to_string(),
        format!("remove busy: volume is in use - [{id}]")
    );
    assert_eq!(refused.kind(), ErrorKind::Conflict);
    // A store opened afresh, as by an engine that restarted, knows the reference.
    let reopened = VolumeStore::open(volumes.store.root()).expect("reopens");
    assert!(matches!(
        reopened.remove("busy", true),
        Err(Error::VolumeInUse { .. })
    ));
    assert!(
        reopened
            .prune(&PruneFilter::default())
            .expect("prunes")
            .volumes_deleted
            .is_empty()
    );
    volumes.remove(&id, &plan);
    reopened.remove("busy", false).expect("unused now");
    assert!(volumes.volume_names().is_empty());
}

#[test]
fn prune_removes_the_unused_volumes_and_reports_their_bytes() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let (id, plan) = volumes.run(
        &image,
        &[
            "sh",
            "-c",
            "head -c 4096 /dev/zero > /data/part; mv /data/part /data/blob; sleep 1000",
        ],
        &binds(&["used:/data".to_owned()]),
        None,
    );
    wait_for_file(&volumes.store.data_path("used").join("blob"));
    let idle = volumes
        .store
        .create(&CreateVolume {
            name: "idle".to_owned(),
            ..CreateVolume::default()
        })
        .expect("idle");
    fs::write(idle.mountpoint.join("blob"), vec![0u8; 1000]).expect("content");
    let report = volumes
        .store
        .prune(&PruneFilter::default())
        .expect("prunes");
    assert_eq!(report.volumes_deleted, ["idle"]);
    assert_eq!(report.space_reclaimed, 1000);
    assert_eq!(volumes.volume_names(), ["used"]);
    volumes.remove(&id, &plan);
    let report = volumes
        .store
        .prune(&PruneFilter::default())
        .expect("prunes");
    assert_eq!(report.volumes_deleted, ["used"]);
    assert_eq!(report.space_reclaimed, 4096);
}

#[test]
fn a_tmpfs_volume_is_mounted_while_a_container_runs_with_it() {
    let volumes = VolumeSandbox::new();
    let image = volumes.sandbox.import_busybox();
    let volume = volumes
        .store
        .create(&CreateVolume {
            name: "ram".to_owned(),
            options: Some(BTreeMap::from([
                ("type".to_owned(), "tmpfs".to_owned()),
                ("device".to_owned(), "tmpfs".to_owned()),
                ("o".to_owned(), "size=1m".to_owned()),
            ])),
            ..CreateVolume::default()
        })
        .expect("created");
    let (id, plan) = volumes.run(
        &image,
        &[
            "sh",
            "-c",
            "grep -c '^tmpfs /data tmpfs .*size=1024k' /proc/mounts; echo x > /data/f; sleep 1000",
        ],
        &binds(&["ram:/data".to_owned()]),
        None,
    );
    let data = volume.mountpoint.clone();
    assert!(is_mount_point(&data), "mounted while the container runs");
    wait_for_file(&data.join("f"));
    assert_eq!(
        output_of(&volumes.sandbox, &id),
        "1\n",
        "a 1 MiB tmpfs in the container"
    );
    volumes.remove(&id, &plan);
    assert!(!is_mount_point(&data), "unmounted once no container runs");
    assert!(!data.join("f").exists(), "the tmpfs content went with it");
    assert_eq!(volumes.volume_names(), ["ram"]);
}

fn is_mount_point(path: &Path) -> bool {
    rootfs::is_mount_point(path).expect("mountinfo reads")
}

fn wait_for_file(path: &Path) {
    let deadline = std::time::Instant::now() + EXIT_TIMEOUT;
    while !path.exists() {
        assert!(
            std::time::Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}
