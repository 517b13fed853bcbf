//! The local driver's options: `type`, `device` and `o` have a device mounted on the volume's
//! `_data` (`type=tmpfs,device=tmpfs,o=size=64m`, `type=none,o=bind,device=/srv/data`), as
//! Docker's local driver mounts them; `size` asks for a quota, which the engine has no support
//! for.

use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;
use std::path::Path;

use crate::error::{Error, Result};
use crate::images::layer_c_path as c_path;

/// The options the local driver knows.
const VALID_OPTIONS: [&str; 4] = ["type", "o", "device", "size"];

/// Options that need others: `device` needs `type`, `type` needs `device`, `o` needs both.
const REQUIRED_WITH: [(&str, &[&str]); 3] = [
    ("device", &["type"]),
    ("type", &["device"]),
    ("o", &["device", "type"]),
];

/// Checks driver options as the local driver does, giving Docker's reason when refused.
pub(super) fn validate_options(options: Option<&BTreeMap<String, String>>) -> Result<(), String> {
    let Some(options) = options else {
        return Ok(());
    };
    if let Some(unknown) = options
        .keys()
        .find(|key| !VALID_OPTIONS.contains(&key.as_str()))
    {
        return Err(format!("invalid option: {unknown:?}"));
    }
    for (option, needed) in REQUIRED_WITH {
        if options.contains_key(option)
            && let Some(missing) = needed.iter().find(|need| !options.contains_key(**need))
        {
            return Err(format!("missing required option: {missing:?}"));
        }
    }
    if let Some(size) = options.get("size")
        && ram_in_bytes(size)? > 0
    {
        return Err("quota size requested but no quota support".to_owned());
    }
    Ok(())
}

/// Parses a size as Docker's `units.RAMInBytes` does: a number with an optional binary unit
/// (`k`, `m`, `g`, `t`, `p`, then an optional `i` and `b`, any case), `64m`, `1.5GiB`, `100`.
fn ram_in_bytes(text: &str) -> Result<i64, String> {
    let invalid = || format!("invalid size: '{text}'");
    let trimmed = text.strip_suffix(['b', 'B']).unwrap_or(text);
    let trimmed = trimmed.strip_suffix(['i', 'I']).unwrap_or(trimmed);
    let (number, multiplier) = match trimmed.chars().last() {
        Some(unit) if unit.is_ascii_alphabetic() => {
            let power = match unit.to_ascii_lowercase() {
                'k' => 1,
                'm' => 2,
                'g' => 3,
                't' => 4,
                'p' => 5,
                _ => return Err(invalid()),
            };
            (&trimmed[..trimmed.len() - 1], 1024f64.powi(power))
        }
        _ => (trimmed, 1.0),
    };
    let number = number.strip_suffix(' ').unwrap_or(number);
    let digits_ok = !number.is_empty()
        && number.split('.').all(|part| !part.is_empty())
        && number.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if !digits_ok {
        return Err(invalid());
    }
    let value: f64 = number.parse().map_err(|_| invalid())?;
    Ok((value * multiplier) as i64)
}

/// What the local driver mounts on a volume's `_data`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DeviceMount {
    kind: String,
    device: String,
    options: String,
}

impl DeviceMount {
    /// The device the options name, or `None` when they name none (a plain folder volume).
    pub(super) fn from_options(options: Option<&BTreeMap<String, String>>) -> Option<DeviceMount> {
        let options = options?;
        let field = |key: &str| options.get(key).cloned().unwrap_or_default();
        let mount = DeviceMount {
            kind: field("type"),
            device: field("device"),
            options: field("o"),
        };
        (!mount.kind.is_empty() || !mount.device.is_empty()).then_some(mount)
    }

    /// Mounts the device on `target`: `o`'s flags (`ro`, `bind`, `nosuid`, ...) as mount
    /// flags, the rest as the file system's data, a propagation flag and a read-only bind
    /// applied after, as Docker's `mount.Mount` does.
    pub(super) fn mount(&self, target: &Path) -> Result<()> {
        let mount_error = |source: io::Error| Error::Mount {
            action: "mount",
            target: target.display().to_string(),
            source,
        };
        if self.device.is_empty() {
            return Err(mount_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "missing device in volume options",
            )));
        }
        let (flags, data) = parse_mount_options(&self.options);
        let propagation = flags & PROPAGATION_FLAGS;
        let flags = flags & !PROPAGATION_FLAGS;
        let nul = |_| {
            mount_error(io::Error::new(
                io::ErrorKind::InvalidInput,
                "a volume option holds a NUL byte",
            ))
        };
        let device = CString::new(self.device.as_str()).map_err(nul)?;
        let kind = CString::new(self.kind.as_str()).map_err(nul)?;
        let data = CString::new(data).map_err(nul)?;
        let target_c = c_path(target)?;
        // SAFETY: every pointer is a NUL-terminated string that outlives the call.
        let mounted = unsafe {
            libc::mount(
                device.as_ptr(),
                target_c.as_ptr(),
                kind.as_ptr(),
                flags,
                data.as_ptr().cast(),
            )
        };
        if mounted != 0 {
            return Err(mount_error(io::Error::last_os_error()));
        }
        let mut after = Vec::new();
        if flags & libc::MS_BIND != 0 && flags & libc::MS_RDONLY != 0 {
            after.push(libc::MS_REMOUNT | libc::MS_BIND | libc::MS_RDONLY | flags);
        }
        if propagation != 0 {
            after.push(propagation);
        }
        for extra in after {
            // SAFETY: `target_c` is a NUL-terminated string; the other pointers may be null
            // for a remount or a propagation change.
            let changed = unsafe {
                libc::mount(
                    std::ptr::null(),
                    target_c.as_ptr(),
                    std::ptr::null(),
                    extra,
                    std::ptr::null(),
                )
            };
            if changed != 0 {
                let error = io::Error::last_os_error();
                let _ = unmount(target);
                return Err(mount_error(error));
            }
        }
        Ok(())
    }
}

/// Unmounts what is mounted on `target`.
pub(super) fn unmount(target: &Path) -> Result<()> {
    let target_c = c_path(target)?;
    // SAFETY: `target_c` is a NUL-terminated string that outlives the call.
    if unsafe { libc::umount2(target_c.as_ptr(), libc::UMOUNT_NOFOLLOW) } != 0 {
        return Err(Error::Mount {
            action: "unmount",
            target: target.display().to_string(),
            source: io::Error::last_os_error(),
        });
    }
    Ok(())
}

/// The propagation flags, which the kernel takes in a call of their own.
const PROPAGATION_FLAGS: libc::c_ulong =
    libc::MS_SHARED | libc::MS_PRIVATE | libc::MS_SLAVE | libc::MS_UNBINDABLE;

/// Splits fstab-style options into mount flags and the file system's data, as Docker's
/// `parseOptions` does: a known flag sets or clears its bit (the last word wins), anything
/// else is data.
fn parse_mount_options(options: &str) -> (libc::c_ulong, String) {
    let mut flags: libc::c_ulong = 0;
    let mut data = Vec::new();
    for option in options.split(',') {
        match mount_flag(option) {
            Some((true, flag)) => flags &= !flag,
            Some((false, flag)) => flags |= flag,
            None => data.push(option),
        }
    }
    (flags, data.join(","))
}

/// A mount option's flag, and whether the option clears it (`rw` clears `MS_RDONLY`).
fn mount_flag(option: &str) -> Option<(bool, libc::c_ulong)> {
    let (clear, flag) = match option {
        "ro" => (false, libc::MS_RDONLY),
        "rw" => (true, libc::MS_RDONLY),
        "suid" => (true, libc::MS_NOSUID),
        "nosuid" => (false, libc::MS_NOSUID),
        "dev" => (true, libc::MS_NODEV),
        "nodev" => (false, libc::MS_NODEV),
        "exec" => (true, libc::MS_NOEXEC),
        "noexec" => (false, libc::MS_NOEXEC),
        "sync" => (false, libc::MS_SYNCHRONOUS),
        "async" => (true, libc::MS_SYNCHRONOUS),
        "dirsync" => (false, libc::MS_DIRSYNC),
        "remount" => (false, libc::MS_REMOUNT),
        "mand" => (false, libc::MS_MANDLOCK),
        "nomand" => (true, libc::MS_MANDLOCK),
        "atime" => (true, libc::MS_NOATIME),
        "noatime" => (false, libc::MS_NOATIME),
        "diratime" => (true, libc::MS_NODIRATIME),
        "nodiratime" => (false, libc::MS_NODIRATIME),
        "bind" => (false, libc::MS_BIND),
        "rbind" => (false, libc::MS_BIND | libc::MS_REC),
        "unbindable" => (false, libc::MS_UNBINDABLE),
        "runbindable" => (false, libc::MS_UNBINDABLE | libc::MS_REC),
        "private" => (false, libc::MS_PRIVATE),
        "rprivate" => (false, libc::MS_PRIVATE | libc::MS_REC),
        "shared" => (false, libc::MS_SHARED),
        "rshared" => (false, libc::MS_SHARED | libc::MS_REC),
        "slave" => (false, libc::MS_SLAVE),
        "rslave" => (false, libc::MS_SLAVE | libc::MS_REC),
        "relatime" => (false, libc::MS_RELATIME),
        "norelatime" => (true, libc::MS_RELATIME),
        "strictatime" => (false, libc::MS_STRICTATIME),
        "nostrictatime" => (true, libc::MS_STRICTATIME),
        _ => return None,
    };
    Some((clear, flag))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{DeviceMount, parse_mount_options, ram_in_bytes, validate_options};

    fn options(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn driver_options_are_checked_with_dockers_reasons() {
        assert_eq!(validate_options(None), Ok(()));
        assert_eq!(
            validate_options(Some(&options(&[
                ("type", "tmpfs"),
                ("device", "tmpfs"),
                ("o", "size=1m")
            ]))),
            Ok(())
        );
        assert_eq!(
            validate_options(Some(&options(&[("foo", "bar")]))),
            Err("invalid option: \"foo\"".to_owned())
        );
        assert_eq!(
            validate_options(Some(&options(&[("type", "tmpfs")]))),
            Err("missing required option: \"device\"".to_owned())
        );
        assert_eq!(
            validate_options(Some(&options(&[("device", "/dev/sda1")]))),
            Err("missing required option: \"type\"".to_owned())
        );
        assert_eq!(
            validate_options(Some(&options(&[("size", "10m")]))),
            Err("quota size requested but no quota support".to_owned())
        );
        assert_eq!(validate_options(Some(&options(&[("size", "0")]))), Ok(()));
        assert_eq!(
            validate_options(Some(&options(&[("size", "ten")]))),
            Err("invalid size: 'ten'".to_owned())
        );
    }

    #[test]
    fn sizes_parse_with_binary_units_as_docker_does() {
        assert_eq!(ram_in_bytes("100"), Ok(100));
        assert_eq!(ram_in_bytes("100b"), Ok(100));
        assert_eq!(ram_in_bytes("64m"), Ok(64 << 20));
        assert_eq!(ram_in_bytes("1.5GiB"), Ok(3 << 29));
        assert_eq!(ram_in_bytes("2 k"), Ok(2048));
        assert!(ram_in_bytes("").is_err());
        assert!(ram_in_bytes("1x").is_err());
        assert!(ram_in_bytes("1..2m").is_err());
    }

    #[test]
    fn mount_options_split_into_flags_and_data() {
        let (flags, data) = parse_mount_options("size=64m,ro,noexec,uid=1000");
        assert_eq!(flags, libc::MS_RDONLY | libc::MS_NOEXEC);
        assert_eq!(data, "size=64m,uid=1000");
        let (flags, data) = parse_mount_options("ro,rw,bind");
        assert_eq!(flags, libc::MS_BIND);
        assert_eq!(data, "");
    }

    #[test]
    fn only_options_with_a_type_or_device_mount_anything() {
        assert_eq!(DeviceMount::from_options(None), None);
        assert_eq!(DeviceMount::from_options(Some(&options(&[]))), None);
        assert!(
            DeviceMount::from_options(Some(&options(&[("type", "tmpfs"), ("device", "tmpfs")])))
                .is_some()
        );
    }
}
