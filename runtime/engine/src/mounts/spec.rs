//! Docker's Linux mount parser: `Binds` strings and `Mounts` entries checked and turned into
//! mount points with the texts dockerd (20.10) refuses them with.

use std::collections::BTreeMap;
use std::path::Path;

use super::{MountPoint, MountSpec, MountType, Propagation, VolumeOptions};

/// A parsed mount: its point, and for a volume what to create it with.
#[derive(Clone, Debug)]
pub(super) struct ParsedMount {
    /// The mount point; a volume's `name` is empty when anonymous and its `source` is not
    /// known yet.
    pub(super) point: MountPoint,
    /// A volume's driver as asked for (empty for the default).
    pub(super) driver: String,
    /// A volume's labels.
    pub(super) labels: Option<BTreeMap<String, String>>,
    /// A volume's driver options.
    pub(super) options: Option<BTreeMap<String, String>>,
}

/// `invalid volume specification: '<raw>'`.
fn invalid_spec(raw: &str) -> String {
    format!("invalid volume specification: '{raw}'")
}

/// Parses one `HostConfig.Binds` entry: `/host:/ctr[:mode]`, `name:/ctr[:mode]` or `/ctr`
/// (an anonymous volume). A host folder need not exist: it is created when the container
/// starts, as Docker does for binds.
pub(super) fn parse_bind(raw: &str, volume_driver: &str) -> Result<ParsedMount, String> {
    if raw.matches(':').count() > 2 {
        return Err(invalid_spec(raw));
    }
    let parts: Vec<&str> = raw.splitn(3, ':').collect();
    if parts[0].is_empty() {
        return Err(invalid_spec(raw));
    }
    let (source, target, mode) = match parts[..] {
        [target] => ("", target, ""),
        // A destination and a mode is no volume (`/foo:rw`).
        [_, second] if valid_mode(second) => return Err(invalid_spec(raw)),
        [source, target] => (source, target, ""),
        [source, target, mode] => (source, target, mode),
        _ => return Err(invalid_spec(raw)),
    };
    if !valid_mode(mode) {
        return Err(format!("invalid mode: {mode}"));
    }
    let options: Vec<&str> = mode.split(',').collect();
    let kind = if source.starts_with('/') {
        MountType::Bind
    } else {
        MountType::Volume
    };
    let mut spec = MountSpec {
        read_only: options.contains(&"ro"),
        ..MountSpec::new(kind, source, target)
    };
    if !volume_driver.is_empty() && kind == MountType::Volume {
        spec.volume_options = Some(VolumeOptions {
            driver: Some(super::VolumeDriver {
                name: volume_driver.to_owned(),
                options: None,
            }),
            ..VolumeOptions::default()
        });
    }
    if options.contains(&"nocopy") {
        spec.volume_options
            .get_or_insert_with(Default::default)
            .no_copy = true;
    }
    if let Some(propagation) = options.iter().find_map(|o| o.parse::<Propagation>().ok()) {
        spec.bind_options = Some(super::BindOptions {
            propagation: propagation.as_str().to_owned(),
        });
    }
    let mut parsed =
        parse_mount_spec(&spec, false).map_err(|e| format!("{}: {e}", invalid_spec(raw)))?;
    parsed.point.mode = mode.to_owned();
    if kind == MountType::Bind {
        parsed.point.create_source = true;
    }
    Ok(parsed)
}

/// Checks one `HostConfig.Mounts` entry (and, with `check_source_exists`, that a bind's host
/// path exists) and turns it into a mount point.
pub(super) fn parse_mount_spec(
    spec: &MountSpec,
    check_source_exists: bool,
) -> Result<ParsedMount, String> {
    let config_error = |reason: String| {
        format!(
            "invalid mount config for type {:?}: {reason}",
            spec.kind.as_str()
        )
    };
    if spec.target.is_empty() {
        return Err(config_error("field Target must not be empty".to_owned()));
    }
    validate_destination(&spec.target).map_err(config_error)?;
    match spec.kind {
        MountType::Bind => {
            if spec.source.is_empty() {
                return Err(config_error("field Source must not be empty".to_owned()));
            }
            if let Some(options) = &spec.bind_options
                && !options.propagation.is_empty()
                && options.propagation.parse::<Propagation>().is_err()
            {
                return Err(config_error(format!(
                    "invalid propagation mode: {}",
                    options.propagation
                )));
            }
            if spec.volume_options.is_some() {
                return Err(config_error(extra_field("VolumeOptions")));
            }
            validate_absolute(&spec.source).map_err(config_error)?;
            if check_source_exists {
                match Path::new(&spec.source).metadata() {
                    Ok(_) => {}
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                        return Err(config_error(format!(
                            "bind source path does not exist: {}",
                            spec.source
                        )));
                    }
                    Err(e) => return Err(config_error(format!("stat {}: {e}", spec.source))),
                }
            }
        }
        MountType::Volume => {
            if spec.bind_options.is_some() {
                return Err(config_error(extra_field("BindOptions")));
            }
            if spec.source.is_empty() && spec.read_only {
                return Err(config_error(
                    "must not set ReadOnly mode when using anonymous volumes".to_owned(),
                ));
            }
        }
        MountType::Tmpfs => {
            if spec.bind_options.is_some() {
                return Err(config_error(extra_field("BindOptions")));
            }
            if !spec.source.is_empty() {
                return Err(config_error(extra_field("Source")));
            }
        }
    }
    let mut point = MountPoint {
        kind: spec.kind,
        name: String::new(),
        source: String::new(),
        destination: clean_path(&spec.target),
        driver: String::new(),
        mode: String::new(),
        rw: !spec.read_only,
        propagation: None,
        copy_data: false,
        anonymous: false,
        create_source: false,
        tmpfs_data: String::new(),
    };
    let mut parsed = ParsedMount {
        point: point.clone(),
        driver: String::new(),
        labels: None,
        options: None,
    };
    match spec.kind {
        MountType::Volume => {
            point.name.clone_from(&spec.source);
            point.anonymous = spec.source.is_empty();
            point.copy_data = true;
            if let Some(options) = &spec.volume_options {
                point.copy_data = !options.no_copy;
                parsed.labels.clone_from(&options.labels);
                if let Some(driver) = &options.driver {
                    parsed.driver.clone_from(&driver.name);
                    parsed.options.clone_from(&driver.options);
                }
            }
        }
        MountType::Bind => {
            point.source = clean_path(&spec.source);
            point.propagation = Some(
                spec.bind_options
                    .as_ref()
                    .and_then(|options| options.propagation.parse().ok())
                    .unwrap_or(Propagation::Rprivate),
            );
        }
        MountType::Tmpfs => {
            point.tmpfs_data = tmpfs_data(spec.tmpfs_options.as_ref(), spec.read_only);
        }
    }
    parsed.point = point;
    Ok(parsed)
}

fn extra_field(name: &str) -> String {
    format!("field {name} must not be specified")
}

/// Refuses `/` and relative paths as a mount's destination, with Docker's texts.
pub(super) fn validate_destination(target: &str) -> Result<(), String> {
    if clean_path(&target.replace('\\', "/")) == "/" {
        return Err("invalid specification: destination can't be '/'".to_owned());
    }
    validate_absolute(target)
}

fn validate_absolute(path: &str) -> Result<(), String> {
    let path = path.replace('\\', "/");
    if path.starts_with('/') {
        Ok(())
    } else {
        Err(format!(
            "invalid mount path: '{path}' mount path must be absolute"
        ))
    }
}

/// Parses one `HostConfig.VolumesFrom` entry, `container[:mode]`, into the container and
/// whether its mounts stay writable: the mode is at most one of `rw`/`ro` and one of `z`/`Z`
/// (no propagation, no `nocopy`), `rw` when absent.
pub(super) fn parse_volumes_from(raw: &str) -> Result<(String, bool), String> {
    if raw.is_empty() {
        return Err("volumes-from specification cannot be an empty string".to_owned());
    }
    let (container, mode) = raw.split_once(':').unwrap_or((raw, ""));
    let mut counts = [0usize; 2];
    let mut read_only = false;
    for word in mode.split(',').filter(|_| !mode.is_empty()) {
        let kind = match word {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            _ => return Err(format!("invalid mode: {mode}")),
        };
        counts[kind] += 1;
        read_only |= word == "ro";
    }
    if counts.iter().any(|&count| count > 1) {
        return Err(format!("invalid mode: {mode}"));
    }
    Ok((container.to_owned(), !read_only))
}

/// Whether a bind's mode is Docker's: comma-separated words, at most one of each kind
/// (`rw`/`ro`, `z`/`Z`, a propagation, `nocopy`, a consistency).
fn valid_mode(mode: &str) -> bool {
    if mode.is_empty() {
        return true;
    }
    let mut counts = [0usize; 5];
    for word in mode.split(',') {
        let kind = match word {
            "rw" | "ro" => 0,
            "z" | "Z" => 1,
            _ if word.parse::<Propagation>().is_ok() => 2,
            "nocopy" => 3,
            "consistent" | "cached" | "delegated" => 4,
            _ => return false,
        };
        counts[kind] += 1;
    }
    counts.iter().all(|&count| count <= 1)
}

/// The tmpfs data of a `Mounts` entry: `ro`, `mode=<octal>`, `size=<n>[kmg]` (the largest unit
/// that divides the size), as Docker's `ConvertTmpfsOptions` writes them.
fn tmpfs_data(options: Option<&super::TmpfsOptions>, read_only: bool) -> String {
    let mut words = Vec::new();
    if read_only {
        words.push("ro".to_owned());
    }
    if let Some(options) = options {
        if options.mode != 0 {
            words.push(format!("mode={:o}", options.mode));
        }
        if options.size_bytes != 0 {
            let size = options.size_bytes;
            let unit = [("g", 1i64 << 30), ("m", 1 << 20), ("k", 1 << 10)]
                .into_iter()
                .find(|(_, divisor)| size % divisor == 0);
            words.push(match unit {
                Some((suffix, divisor)) => format!("size={}{suffix}", size / divisor),
                None => format!("size={size}"),
            });
        }
    }
    words.join(",")
}

/// The options of a tmpfs mount: Docker's defaults (`noexec,nosuid,nodev,rprivate`) then
/// `data`, merged as Docker's `MergeTmpfsOptions` does (a later flag or `key=` wins over an
/// earlier one of its kind).
pub(super) fn tmpfs_options(data: &str) -> Result<Vec<String>, String> {
    let mut words = vec!["noexec", "nosuid", "nodev", "rprivate"];
    if !data.is_empty() {
        words.extend(data.split(','));
    }
    let mut seen_flags: Vec<&str> = Vec::new();
    let mut seen_keys: Vec<&str> = Vec::new();
    let mut merged: Vec<String> = Vec::new();
    for word in words.into_iter().rev() {
        if word == "defaults" {
            continue;
        }
        if let Some(kind) = tmpfs_flag_kind(word) {
            if !seen_flags.contains(&kind) {
                merged.insert(0, word.to_owned());
                seen_flags.push(kind);
            }
            continue;
        }
        let key = match word.split_once('=') {
            Some((key, _))
                if matches!(
                    key,
                    "" | "size" | "mode" | "uid" | "gid" | "nr_inodes" | "nr_blocks" | "mpol"
                ) =>
            {
                key
            }
            _ => {
                let parts: Vec<String> = word
                    .splitn(2, '=')
                    .map(|part| format!("{part:?}"))
                    .collect();
                return Err(format!("Invalid tmpfs option [{}]", parts.join(" ")));
            }
        };
        if !seen_keys.contains(&key) {
            merged.insert(0, word.to_owned());
            seen_keys.push(key);
        }
    }
    Ok(merged)
}

/// Which mount flag a tmpfs option word sets or clears (words of one kind collide; every
/// propagation word is one kind), or `None` for data.
fn tmpfs_flag_kind(word: &str) -> Option<&'static str> {
    Some(match word {
        "ro" | "rw" => "rdonly",
        "suid" | "nosuid" => "nosuid",
        "dev" | "nodev" => "nodev",
        "exec" | "noexec" => "noexec",
        "sync" | "async" => "sync",
        "dirsync" => "dirsync",
        "remount" => "remount",
        "mand" | "nomand" => "mand",
        "atime" | "noatime" => "noatime",
        "diratime" | "nodiratime" => "nodiratime",
        "bind" | "rbind" | "unbindable" | "runbindable" | "private" | "rprivate" | "shared"
        | "rshared" | "slave" | "rslave" => "propagation",
        "relatime" | "norelatime" => "relatime",
        "strictatime" | "nostrictatime" => "strictatime",
        _ => return None,
    })
}

/// Go's `path.Clean`: the shortest lexically equal path (`/a/./b/../c/` is `/a/c`).
pub(crate) fn clean_path(path: &str) -> String {
    if path.is_empty() {
        return ".".to_owned();
    }
    let rooted = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => match parts.last() {
                Some(&last) if last != ".." => {
                    parts.pop();
                }
                _ if rooted => {}
                _ => parts.push(".."),
            },
            _ => parts.push(part),
        }
    }
    let joined = parts.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".to_owned(),
        (false, false) => joined,
    }
}

/// How deep a destination is (its count of `/`), the order Docker mounts in so that a mount
/// never hides one inside it.
pub(super) fn depth(destination: &str) -> usize {
    clean_path(destination).matches('/').count()
}

#[cfg(test)]
mod tests {
    use super::{
        clean_path, parse_bind, parse_mount_spec, parse_volumes_from, tmpfs_data, tmpfs_options,
        valid_mode,
    };
    use crate::mounts::{
        BindOptions, MountSpec, MountType, Propagation, TmpfsOptions, VolumeOptions,
    };

    #[test]
    fn paths_clean_as_gos_path_clean() {
        for (dirty, clean) in [
            ("", "."),
            ("/", "/"),
            ("/a/./b/../c/", "/a/c"),
            ("/../x", "/x"),
            ("a/../../b", "../b"),
            ("//data//", "/data"),
        ] {
            assert_eq!(clean_path(dirty), clean, "{dirty}");
        }
    }

    #[test]
    fn volumes_from_takes_a_container_and_a_read_write_or_label_mode_as_dockerd() {
        for (raw, container, writable) in [
            ("src", "src", true),
            ("src:", "src", true),
            ("src:ro", "src", false),
            ("src:rw,z", "src", true),
            ("src:ro,Z", "src", false),
            ("src:Z", "src", true),
        ] {
            assert_eq!(
                parse_volumes_from(raw),
                Ok((container.to_owned(), writable)),
                "{raw}"
            );
        }
        for (raw, error) in [
            ("", "volumes-from specification cannot be an empty string"),
            ("src:xx", "invalid mode: xx"),
            ("src:nocopy", "invalid mode: nocopy"),
            ("src:rslave", "invalid mode: rslave"),
            ("src:rw,ro", "invalid mode: rw,ro"),
            ("src:z,Z", "invalid mode: z,Z"),
            ("src:ro:rw", "invalid mode: ro:rw"),
        ] {
            assert_eq!(parse_volumes_from(raw), Err(error.to_owned()), "{raw}");
        }
    }

    #[test]
    fn bind_modes_allow_one_word_of_each_kind() {
        for good in ["", "ro", "rw,z", "ro,rshared", "nocopy", "Z,cached,rw"] {
            assert!(valid_mode(good), "{good}");
        }
        for bad in ["ro,rw", "z,Z", "shared,slave", "bogus", "ro,"] {
            assert!(!valid_mode(bad), "{bad}");
        }
    }

    #[test]
    fn binds_become_binds_or_volumes_with_their_modes() {
        let bind = parse_bind("/srv/data/:/data:ro,rslave", "").expect("a bind");
        assert_eq!(bind.point.kind, MountType::Bind);
        assert_eq!(bind.point.source, "/srv/data");
        assert_eq!(bind.point.destination, "/data");
        assert!(!bind.point.rw);
        assert_eq!(bind.point.mode, "ro,rslave");
        assert_eq!(bind.point.propagation, Some(Propagation::Rslave));
        assert!(bind.point.create_source);
        let plain = parse_bind("/srv:/srv", "").expect("a bind");
        assert_eq!(plain.point.propagation, Some(Propagation::Rprivate));
        assert!(plain.point.rw);
        let volume = parse_bind("cache:/var/cache:nocopy", "").expect("a volume");
        assert_eq!(volume.point.kind, MountType::Volume);
        assert_eq!(volume.point.name, "cache");
        assert!(!volume.point.copy_data);
        assert!(!volume.point.anonymous);
        let anonymous = parse_bind("/scratch", "local").expect("an anonymous volume");
        assert_eq!(anonymous.point.kind, MountType::Volume);
        assert!(anonymous.point.anonymous);
        assert!(anonymous.point.copy_data);
        assert_eq!(anonymous.driver, "local");
    }

    #[test]
    fn malformed_binds_are_refused_with_dockers_texts() {
        for (raw, message) in [
            ("", "invalid volume specification: ''"),
            (":/x", "invalid volume specification: ':/x'"),
            ("/a:/b:ro:z", "invalid volume specification: '/a:/b:ro:z'"),
            ("/data:rw", "invalid volume specification: '/data:rw'"),
            ("/a:/b:bogus", "invalid mode: bogus"),
            (
                "/tmp:data",
                "invalid volume specification: '/tmp:data': invalid mount config for type \
                 \"bind\": invalid mount path: 'data' mount path must be absolute",
            ),
            (
                "/tmp:/",
                "invalid volume specification: '/tmp:/': invalid mount config for type \
                 \"bind\": invalid specification: destination can't be '/'",
            ),
            (
                "vol:/x:shared",
                "invalid volume specification: 'vol:/x:shared': invalid mount config for type \
                 \"volume\": field BindOptions must not be specified",
            ),
            (
                "/host:/x:nocopy",
                "invalid volume specification: '/host:/x:nocopy': invalid mount config for \
                 type \"bind\": field VolumeOptions must not be specified",
            ),
        ] {
            let error = parse_bind(raw, "").expect_err(raw);
            assert_eq!(error, message, "{raw}");
        }
    }

    #[test]
    fn mounts_entries_are_checked_as_docker_checks_them() {
        let missing =
            parse_mount_spec(&MountSpec::new(MountType::Bind, "/no/such/dir", "/x"), true)
                .expect_err("no source");
        assert_eq!(
            missing,
            "invalid mount config for type \"bind\": bind source path does not exist: \
             /no/such/dir"
        );
        let no_target = parse_mount_spec(&MountSpec::new(MountType::Tmpfs, "", ""), true)
            .expect_err("no target");
        assert_eq!(
            no_target,
            "invalid mount config for type \"tmpfs\": field Target must not be empty"
        );
        let tmpfs_source = parse_mount_spec(&MountSpec::new(MountType::Tmpfs, "x", "/t"), true)
            .expect_err("source");
        assert_eq!(
            tmpfs_source,
            "invalid mount config for type \"tmpfs\": field Source must not be specified"
        );
        let readonly_anonymous = parse_mount_spec(
            &MountSpec {
                read_only: true,
                ..MountSpec::new(MountType::Volume, "", "/v")
            },
            true,
        )
        .expect_err("read-only anonymous");
        assert_eq!(
            readonly_anonymous,
            "invalid mount config for type \"volume\": must not set ReadOnly mode when using \
             anonymous volumes"
        );
        let propagation = parse_mount_spec(
            &MountSpec {
                bind_options: Some(BindOptions {
                    propagation: "sideways".to_owned(),
                }),
                ..MountSpec::new(MountType::Bind, "/tmp", "/t")
            },
            true,
        )
        .expect_err("bad propagation");
        assert_eq!(
            propagation,
            "invalid mount config for type \"bind\": invalid propagation mode: sideways"
        );
        let volume = parse_mount_spec(
            &MountSpec {
                volume_options: Some(VolumeOptions {
                    no_copy: true,
                    ..VolumeOptions::default()
                }),
                ..MountSpec::new(MountType::Volume, "named", "/v/../w/")
            },
            true,
        )
        .expect("a volume");
        assert_eq!(volume.point.destination, "/w");
        assert!(!volume.point.copy_data);
        let bind =
            parse_mount_spec(&MountSpec::new(MountType::Bind, "/tmp", "/t"), true).expect("bind");
        assert!(!bind.point.create_source, "Mounts binds are never created");
    }

    #[test]
    fn tmpfs_options_are_written_and_merged_as_docker_does() {
        let options = TmpfsOptions {
            size_bytes: 64 << 20,
            mode: 0o1777,
        };
        assert_eq!(tmpfs_data(Some(&options), true), "ro,mode=1777,size=64m");
        let odd = TmpfsOptions {
            size_bytes: 1000,
            mode: 0,
        };
        assert_eq!(tmpfs_data(Some(&odd), false), "size=1000");
        assert_eq!(
            tmpfs_options("exec,size=1g,size=2g").expect("merges"),
            ["nosuid", "nodev", "rprivate", "exec", "size=2g"]
        );
        assert_eq!(
            tmpfs_options("").expect("defaults"),
            ["noexec", "nosuid", "nodev", "rprivate"]
        );
        assert_eq!(
            tmpfs_options("colour=red").expect_err("unknown"),
            "Invalid tmpfs option [\"colour\" \"red\"]"
        );
    }
}
