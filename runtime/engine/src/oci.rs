//! The OCI runtime spec (runc's `config.json`) of a container, built from a Docker-like
//! container config with Docker's defaults: its mounts, namespaces, capabilities, masked paths.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capabilities, Capability, LinuxBuilder, LinuxCapabilitiesBuilder, LinuxDeviceCgroupBuilder,
    LinuxNamespaceBuilder, LinuxNamespaceType, MountBuilder, ProcessBuilder, RootBuilder, Spec,
    SpecBuilder, UserBuilder,
};

use crate::error::{Error, Result};
use crate::images::ContainerConfig;

/// The `PATH` Docker gives a container whose config sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Where the init binary (`--init`) appears in a container, as Docker puts it.
pub const INIT_PATH: &str = "/sbin/docker-init";

/// Docker's default capability set (moby `oci/caps/defaults.go`).
const DEFAULT_CAPABILITIES: &[Capability] = &[
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Paths Docker hides from containers (moby `oci/defaults.go`).
const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
];

/// Paths Docker makes read-only in containers.
const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// What the spec is built from.
#[derive(Clone, Debug)]
pub struct SpecInput<'a> {
    /// The container's id; its first 12 characters are the default host name.
    pub id: &'a str,
    /// The mounted root filesystem.
    pub rootfs: &'a Path,
    /// The container's config, with the image's already merged in ([`merge_image_config`]).
    pub config: &'a ContainerConfig,
    /// The cgroup path (relative to the cgroup mounts), e.g. `/drydock/<id>`.
    pub cgroups_path: PathBuf,
    /// What the host gives the container beyond its image and config: mounts, network, init.
    pub host: &'a HostSettings,
}

/// What a container gets from the host beyond its image and config (the engine's view of
/// Docker's `HostConfig`).
#[derive(Clone, Debug, Default)]
pub struct HostSettings {
    /// Mounts added after Docker's defaults (`/proc`, `/dev`, ...), in order: binds, volumes,
    /// tmpfs, and the engine-written `/etc/hosts`, `/etc/resolv.conf` and `/etc/hostname`.
    pub mounts: Vec<oci_spec::runtime::Mount>,
    /// The container's network namespace.
    pub network: NetworkNamespace,
    /// An init binary (`tini-static`) run as the container's pid 1, bind-mounted at
    /// [`INIT_PATH`].
    pub init: Option<PathBuf>,
    /// Whether the root filesystem is mounted read-only (`ReadonlyRootfs`).
    pub readonly_rootfs: bool,
    /// The cgroup limits (`Memory`, `MemorySwap`, `CpuShares`, `CpuQuota`, `PidsLimit`, ...).
    pub resources: crate::cgroups::ResourceUpdate,
}

/// Which network namespace a container joins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NetworkNamespace {
    /// A new namespace with only a loopback interface (`--network none`).
    #[default]
    New,
    /// The host's own namespace (`--network host`).
    Host,
    /// A namespace the engine prepared (a bind-mounted `/proc/<pid>/ns/net`), for bridge
    /// networking.
    Path(PathBuf),
}

/// Fills the container config's unset fields from the image's, as dockerd does at create:
/// user, working dir, stop signal; the image's env entries whose names the container does not
/// set; the image's entrypoint, and its cmd unless the container gives an entrypoint or a cmd;
/// labels, exposed ports and volumes added.
pub fn merge_image_config(container: &mut ContainerConfig, image: &ContainerConfig) {
    if container.user.is_empty() {
        container.user.clone_from(&image.user);
    }
    if container.working_dir.is_empty() {
        container.working_dir.clone_from(&image.working_dir);
    }
    if container.stop_signal.is_empty() {
        container.stop_signal.clone_from(&image.stop_signal);
    }
    if let Some(image_env) = &image.env {
        let own = container.env.take().unwrap_or_default();
        let names: Vec<&str> = own.iter().map(|entry| env_name(entry)).collect();
        let mut merged: Vec<String> = image_env
            .iter()
            .filter(|entry| !names.contains(&env_name(entry)))
            .cloned()
            .collect();
        merged.extend(own);
        container.env = Some(merged);
    }
    let own_entrypoint = container.entrypoint.as_ref().is_some_and(|e| !e.is_empty());
    let own_cmd = container.cmd.as_ref().is_some_and(|c| !c.is_empty());
    if !own_entrypoint {
        if !own_cmd {
            container.cmd.clone_from(&image.cmd);
        }
        container.entrypoint.clone_from(&image.entrypoint);
    }
    for (own, from_image) in [
        (&mut container.exposed_ports, &image.exposed_ports),
        (&mut container.volumes, &image.volumes),
    ] {
        if let Some(from_image) = from_image {
            let merged = own.get_or_insert_with(BTreeMap::new);
            for (key, value) in from_image {
                merged.entry(key.clone()).or_insert_with(|| value.clone());
            }
        }
    }
    if let Some(labels) = &image.labels {
        let merged = container.labels.get_or_insert_with(BTreeMap::new);
        for (key, value) in labels {
            merged.entry(key.clone()).or_insert_with(|| value.clone());
        }
    }
    if let Some(image_check) = &image.healthcheck {
        match &mut container.healthcheck {
            Some(own) => merge_healthcheck(own, image_check),
            none => *none = Some(image_check.clone()),
        }
    }
}

/// The health check's fields a container inherits from its image when it leaves them unset
/// (an empty `Test`, a zero duration or retry count), as dockerd merges them: each on its own.
const HEALTHCHECK_FIELDS: [&str; 5] = ["Test", "Interval", "Timeout", "StartPeriod", "Retries"];

/// Fills the fields the container's health check leaves unset from the image's.
fn merge_healthcheck(own: &mut serde_json::Value, image: &serde_json::Value) {
    use serde_json::Value;
    let (Value::Object(own), Value::Object(image)) = (own, image) else {
        return;
    };
    for field in HEALTHCHECK_FIELDS {
        let unset = match own.get(field) {
            None | Some(Value::Null) => true,
            Some(Value::Array(test)) => test.is_empty(),
            Some(Value::Number(number)) => number.as_f64() == Some(0.0),
            Some(_) => false,
        };
        if let (true, Some(inherited)) = (unset, image.get(field)) {
            own.insert(field.to_owned(), inherited.clone());
        }
    }
}

/// The name part of a `NAME=value` entry.
fn env_name(entry: &str) -> &str {
    entry.split_once('=').map_or(entry, |(name, _)| name)
}

/// Builds the runtime spec of a container.
///
/// # Errors
///
/// [`Error::InvalidContainerConfig`] when there is no command or the user does not resolve in
/// the container's `/etc/passwd` and `/etc/group`.
pub fn build_spec(input: &SpecInput<'_>) -> Result<Spec> {
    let config = input.config;
    let mut args: Vec<String> = config.entrypoint.clone().unwrap_or_default();
    args.extend(config.cmd.clone().unwrap_or_default());
    if args.is_empty() {
        return Err(Error::InvalidContainerConfig(
            "No command specified".to_owned(),
        ));
    }
    let hostname = if config.hostname.is_empty() {
        input.id.get(..12).unwrap_or(input.id).to_owned()
    } else {
        config.hostname.clone()
    };
    let user = resolve_user(input.rootfs, &config.user)?;
    let mut env = vec![format!("HOSTNAME={hostname}")];
    let own_env = config.env.clone().unwrap_or_default();
    if !own_env.iter().any(|entry| env_name(entry) == "PATH") {
        env.push(DEFAULT_PATH.to_owned());
    }
    if config.tty {
        env.push("TERM=xterm".to_owned());
    }
    env.extend(own_env);
    if !env.iter().any(|entry| env_name(entry) == "HOME") {
        env.push(format!("HOME={}", user.home));
    }
    if input.host.init.is_some() {
        args.insert(0, "--".to_owned());
        args.insert(0, INIT_PATH.to_owned());
    }
    let cwd = if config.working_dir.is_empty() {
        "/".to_owned()
    } else {
        config.working_dir.clone()
    };
    if !cwd.starts_with('/') {
        return Err(Error::InvalidContainerConfig(format!(
            "the working directory '{cwd}' is invalid: it needs to be an absolute path"
        )));
    }
    let capabilities: Capabilities = DEFAULT_CAPABILITIES.iter().copied().collect();
    let process = ProcessBuilder::default()
        .terminal(config.tty)
        .user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(user.additional_gids)
                .build()?,
        )
        .args(args)
        .env(env)
        .cwd(cwd)
        .capabilities(
            LinuxCapabilitiesBuilder::default()
                .bounding(capabilities.clone())
                .effective(capabilities.clone())
                .permitted(capabilities)
                .build()?,
        )
        .no_new_privileges(false)
        .build()?;
    let mut namespaces = Vec::new();
    for kind in [
        LinuxNamespaceType::Mount,
        LinuxNamespaceType::Network,
        LinuxNamespaceType::Uts,
        LinuxNamespaceType::Pid,
        LinuxNamespaceType::Ipc,
    ] {
        let mut namespace = LinuxNamespaceBuilder::default();
        namespace = namespace.typ(kind);
        if kind == LinuxNamespaceType::Network {
            match &input.host.network {
                NetworkNamespace::New => {}
                NetworkNamespace::Host => continue,
                NetworkNamespace::Path(path) => namespace = namespace.path(path.clone()),
            }
        }
        namespaces.push(namespace.build()?);
    }
    let linux = LinuxBuilder::default()
        .namespaces(namespaces)
        .cgroups_path(input.cgroups_path.clone())
        .resources({
            let mut resources = input.host.resources.to_oci()?;
            resources.set_devices(Some(vec![
                LinuxDeviceCgroupBuilder::default()
                    .allow(false)
                    .access("rwm")
                    .build()?,
            ]));
            resources
        })
        .masked_paths(
            MASKED_PATHS
                .iter()
                .map(|path| (*path).to_owned())
                .collect::<Vec<_>>(),
        )
        .readonly_paths(
            READONLY_PATHS
                .iter()
                .map(|path| (*path).to_owned())
                .collect::<Vec<_>>(),
        )
        .build()?;
    // A mount of the container's own replaces the default at its destination, and one on
    // `/dev` every default below it, as dockerd does (`--tmpfs /dev/shm`, `-v x:/dev`).
    let own: Vec<&Path> = input
        .host
        .mounts
        .iter()
        .map(|mount| mount.destination().as_path())
        .collect();
    let own_dev = own.contains(&Path::new("/dev"));
    let mut mounts: Vec<oci_spec::runtime::Mount> = default_mounts()?
        .into_iter()
        .filter(|mount| {
            let destination = mount.destination().as_path();
            let replaced =
                own.contains(&destination) || (own_dev && destination.starts_with("/dev"));
            !replaced
        })
        .collect();
    if let Some(init) = &input.host.init {
        mounts.push(
            MountBuilder::default()
                .destination(INIT_PATH)
                .typ("bind")
                .source(init.clone())
                .options(vec!["bind".to_owned(), "ro".to_owned()])
                .build()?,
        );
    }
    mounts.extend(input.host.mounts.iter().cloned());
    let spec = SpecBuilder::default()
        .version("1.0.2-dev")
        .root(
            RootBuilder::default()
                .path(input.rootfs.to_path_buf())
                .readonly(input.host.readonly_rootfs)
                .build()?,
        )
        .hostname(hostname)
        .process(process)
        .mounts(mounts)
        .linux(linux)
        .build()?;
    Ok(spec)
}

/// What `docker exec` runs in a running container.
#[derive(Clone, Debug, Default)]
pub struct ExecConfig {
    /// The command and its arguments.
    pub cmd: Vec<String>,
    /// `NAME=value` entries added to (or replacing those of) the container's environment.
    pub env: Vec<String>,
    /// The user, as the container config's `User`; the container's when empty.
    pub user: String,
    /// The working directory; the container's when empty.
    pub working_dir: String,
    /// Whether the process gets a terminal.
    pub tty: bool,
}

/// The process of an exec: the container's own (from its runtime spec) with the exec's
/// command, environment, user, working directory and terminal.
///
/// # Errors
///
/// [`Error::InvalidContainerConfig`] without a command, or for a user the container's
/// `/etc/passwd` does not know.
pub fn exec_process(container: &Spec, exec: &ExecConfig) -> Result<oci_spec::runtime::Process> {
    if exec.cmd.is_empty() {
        return Err(Error::InvalidContainerConfig(
            "No exec command specified".to_owned(),
        ));
    }
    let mut process = container.process().clone().ok_or_else(|| {
        Error::InvalidContainerConfig("the container's spec has no process".to_owned())
    })?;
    process.set_args(Some(exec.cmd.clone()));
    let mut env = process.env().clone().unwrap_or_default();
    let mut added = exec.env.clone();
    if exec.tty
        && !added
            .iter()
            .chain(&env)
            .any(|entry| env_name(entry) == "TERM")
    {
        added.push("TERM=xterm".to_owned());
    }
    for entry in added {
        match env.iter_mut().find(|old| env_name(old) == env_name(&entry)) {
            Some(old) => *old = entry,
            None => env.push(entry),
        }
    }
    process.set_env(Some(env));
    if !exec.user.is_empty() {
        let rootfs = container
            .root()
            .as_ref()
            .map(|root| root.path().clone())
            .unwrap_or_default();
        let user = resolve_user(&rootfs, &exec.user)?;
        process.set_user(
            UserBuilder::default()
                .uid(user.uid)
                .gid(user.gid)
                .additional_gids(user.additional_gids)
                .build()?,
        );
    }
    if !exec.working_dir.is_empty() {
        if !exec.working_dir.starts_with('/') {
            return Err(Error::InvalidContainerConfig(format!(
                "the working directory '{}' is invalid: it needs to be an absolute path",
                exec.working_dir
            )));
        }
        process.set_cwd(PathBuf::from(&exec.working_dir));
    }
    process.set_terminal(Some(exec.tty));
    Ok(process)
}

/// Docker's default mounts: `/proc`, `/dev`, `/dev/pts`, `/sys`, `/sys/fs/cgroup`,
/// `/dev/mqueue`, `/dev/shm`.
fn default_mounts() -> Result<Vec<oci_spec::runtime::Mount>> {
    let table: [(&str, &str, &str, &[&str]); 7] = [
        ("/proc", "proc", "proc", &["nosuid", "noexec", "nodev"]),
        (
            "/dev",
            "tmpfs",
            "tmpfs",
            &["nosuid", "strictatime", "mode=755", "size=65536k"],
        ),
        (
            "/dev/pts",
            "devpts",
            "devpts",
            &[
                "nosuid",
                "noexec",
                "newinstance",
                "ptmxmode=0666",
                "mode=0620",
                "gid=5",
            ],
        ),
        (
            "/sys",
            "sysfs",
            "sysfs",
            &["nosuid", "noexec", "nodev", "ro"],
        ),
        (
            "/sys/fs/cgroup",
            "cgroup",
            "cgroup",
            &["ro", "nosuid", "noexec", "nodev"],
        ),
        (
            "/dev/mqueue",
            "mqueue",
            "mqueue",
            &["nosuid", "noexec", "nodev"],
        ),
        (
            "/dev/shm",
            "shm",
            "tmpfs",
            &["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"],
        ),
    ];
    table
        .into_iter()
        .map(|(destination, source, kind, options)| {
            MountBuilder::default()
                .destination(destination)
                .typ(kind)
                .source(source)
                .options(
                    options
                        .iter()
                        .map(|option| (*option).to_owned())
                        .collect::<Vec<_>>(),
                )
                .build()
                .map_err(Error::from)
        })
        .collect()
}

/// A user resolved to ids.
#[derive(Debug, PartialEq, Eq)]
struct ResolvedUser {
    uid: u32,
    gid: u32,
    additional_gids: Vec<u32>,
    home: String,
}

/// Resolves Docker's `User` (`""`, `name`, `uid`, `name:group`, `uid:gid`) against the
/// container's `/etc/passwd` and `/etc/group`, as runc's `user.GetExecUser` does.
fn resolve_user(rootfs: &Path, user: &str) -> Result<ResolvedUser> {
    let passwd = fs::read_to_string(rootfs.join("etc/passwd")).unwrap_or_default();
    let group = fs::read_to_string(rootfs.join("etc/group")).unwrap_or_default();
    let (user_part, group_part) = match user.split_once(':') {
        Some((user, group)) => (user, Some(group)),
        None => (user, None),
    };
    let user_part = if user_part.is_empty() { "0" } else { user_part };
    let passwd_entries: Vec<Vec<&str>> = passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 7)
        .collect();
    let numeric = user_part.parse::<u32>().ok();
    let entry = passwd_entries.iter().find(|fields| match numeric {
        Some(uid) => fields[2].parse::<u32>().ok() == Some(uid),
        None => fields[0] == user_part,
    });
    let (uid, mut gid, name, home) = match (entry, numeric) {
        (Some(fields), _) => (
            fields[2].parse::<u32>().unwrap_or(0),
            fields[3].parse::<u32>().unwrap_or(0),
            Some(fields[0]),
            fields[5].to_owned(),
        ),
        (None, Some(uid)) => (uid, 0, None, "/".to_owned()),
        (None, None) => {
            return Err(Error::InvalidContainerConfig(format!(
                "unable to find user {user_part}: no matching entries in passwd file"
            )));
        }
    };
    let groups: Vec<Vec<&str>> = group
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .filter(|fields| fields.len() >= 4)
        .collect();
    if let Some(group_part) = group_part {
        gid = match group_part.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => groups
                .iter()
                .find(|fields| fields[0] == group_part)
                .and_then(|fields| fields[2].parse().ok())
                .ok_or_else(|| {
                    Error::InvalidContainerConfig(format!(
                        "unable to find group {group_part}: no matching entries in group file"
                    ))
                })?,
        };
    }
    let additional_gids = match name {
        Some(name) if group_part.is_none() => groups
            .iter()
            .filter(|fields| fields[3].split(',').any(|member| member == name))
            .filter_map(|fields| fields[2].parse().ok())
            .filter(|&extra| extra != gid)
            .collect(),
        _ => Vec::new(),
    };
    Ok(ResolvedUser {
        uid,
        gid,
        additional_gids,
        home,
    })
}

#[cfg(test)]
mod tests {
    use super::{
        HostSettings, ResolvedUser, SpecInput, build_spec, merge_image_config, resolve_user,
    };
    use crate::images::ContainerConfig;

    fn rootfs_with_users() -> tempdir::Dir {
        let dir = tempdir::Dir::new("oci-users");
        std::fs::create_dir_all(dir.path().join("etc")).expect("etc");
        std::fs::write(
            dir.path().join("etc/passwd"),
            "root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/false\n",
        )
        .expect("passwd");
        std::fs::write(
            dir.path().join("etc/group"),
            "root:x:0:\nwww:x:33:\nadm:x:4:www\n",
        )
        .expect("group");
        dir
    }

    #[test]
    fn user_names_resolve_through_the_containers_passwd_and_group() {
        let dir = rootfs_with_users();
        let www = resolve_user(dir.path(), "www").expect("www resolves");
        assert_eq!(
            www,
            ResolvedUser {
                uid: 33,
                gid: 33,
                additional_gids: vec![4],
                home: "/var/www".to_owned()
            }
        );
        let numeric = resolve_user(dir.path(), "1000:adm").expect("numeric uid resolves");
        assert_eq!((numeric.uid, numeric.gid), (1000, 4));
        let root = resolve_user(dir.path(), "").expect("empty is root");
        assert_eq!((root.uid, root.gid, root.home.as_str()), (0, 0, "/root"));
        let missing = resolve_user(dir.path(), "nobody").expect_err("unknown user");
        assert!(
            missing.to_string().contains("unable to find user nobody"),
            "{missing}"
        );
    }

    #[test]
    fn a_containers_health_check_inherits_each_unset_field_from_the_images() {
        let image = ContainerConfig {
            healthcheck: Some(serde_json::json!({
                "Test": ["CMD-SHELL", "true"], "Interval": 5, "Retries": 2
            })),
            ..ContainerConfig::default()
        };
        let mut inherits = ContainerConfig::default();
        merge_image_config(&mut inherits, &image);
        assert_eq!(inherits.healthcheck, image.healthcheck);
        let mut own = ContainerConfig {
            healthcheck: Some(serde_json::json!({"Test": [], "Interval": 7, "Retries": 0})),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut own, &image);
        assert_eq!(
            own.healthcheck,
            Some(serde_json::json!({"Test": ["CMD-SHELL", "true"], "Interval": 7, "Retries": 2}))
        );
        let mut disabled = ContainerConfig {
            healthcheck: Some(serde_json::json!({"Test": ["NONE"]})),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut disabled, &image);
        assert_eq!(
            disabled.healthcheck,
            Some(serde_json::json!({"Test": ["NONE"], "Interval": 5, "Retries": 2}))
        );
    }

    #[test]
    fn image_cmd_is_dropped_when_the_container_sets_an_entrypoint() {
        let image = ContainerConfig {
            entrypoint: Some(vec!["/entry".to_owned()]),
            cmd: Some(vec!["default".to_owned()]),
            env: Some(vec!["PATH=/image".to_owned(), "A=image".to_owned()]),
            working_dir: "/srv".to_owned(),
            ..ContainerConfig::default()
        };
        let mut own_entrypoint = ContainerConfig {
            entrypoint: Some(vec!["/mine".to_owned()]),
            env: Some(vec!["A=mine".to_owned()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut own_entrypoint, &image);
        assert_eq!(own_entrypoint.cmd, None);
        assert_eq!(own_entrypoint.entrypoint, Some(vec!["/mine".to_owned()]));
        assert_eq!(
            own_entrypoint.env,
            Some(vec!["PATH=/image".to_owned(), "A=mine".to_owned()])
        );
        assert_eq!(own_entrypoint.working_dir, "/srv");
        let mut own_cmd = ContainerConfig {
            cmd: Some(vec!["other".to_owned()]),
            ..ContainerConfig::default()
        };
        merge_image_config(&mut own_cmd, &image);
        assert_eq!(own_cmd.entrypoint, Some(vec!["/entry".to_owned()]));
        assert_eq!(own_cmd.cmd, Some(vec!["other".to_owned()]));
    }

    #[test]
    fn the_containers_own_mounts_replace_the_defaults_at_their_destinations() {
        let dir = tempdir::Dir::new("oci-own-mounts");
        let tmpfs = |destination: &str| {
            oci_spec::runtime::MountBuilder::default()
                .destination(destination)
                .typ("tmpfs")
                .source("tmpfs")
                .build()
                .expect("a mount")
        };
        let config = ContainerConfig {
            cmd: Some(vec!["true".to_owned()]),
            ..ContainerConfig::default()
        };
        let destinations = |host: &HostSettings| -> Vec<String> {
            let spec = build_spec(&SpecInput {
                id: "0123456789ab",
                rootfs: dir.path(),
                config: &config,
                cgroups_path: "/test".into(),
                host,
            })
            .expect("a spec");
            spec.mounts()
                .iter()
                .flatten()
                .map(|mount| mount.destination().display().to_string())
                .collect()
        };
        let shm = HostSettings {
            mounts: vec![tmpfs("/dev/shm")],
            ..HostSettings::default()
        };
        let with_shm = destinations(&shm);
        assert_eq!(with_shm.iter().filter(|d| *d == "/dev/shm").count(), 1);
        assert_eq!(with_shm.last().map(String::as_str), Some("/dev/shm"));
        let dev = HostSettings {
            mounts: vec![tmpfs("/dev")],
            ..HostSettings::default()
        };
        assert_eq!(
            destinations(&dev),
            ["/proc", "/sys", "/sys/fs/cgroup", "/dev"]
        );
    }

    /// A folder removed on drop, for unit tests.
    mod tempdir {
        use std::path::{Path, PathBuf};

        pub struct Dir(PathBuf);

        impl Dir {
            pub fn new(name: &str) -> Dir {
                let path = std::env::temp_dir().join(format!(
                    "drydock-engine-{name}-{}-{:?}",
                    std::process::id(),
                    std::thread::current().id()
                ));
                let _ = std::fs::remove_dir_all(&path);
                std::fs::create_dir_all(&path).expect("temp dir");
                Dir(path)
            }

            pub fn path(&self) -> &Path {
                &self.0
            }
        }

        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.0);
            }
        }
    }
}
