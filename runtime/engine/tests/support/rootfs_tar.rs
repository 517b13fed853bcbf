//! The busybox root file system the engine's and drydockd's tests import: Debian's
//! busybox-static with a link per applet, root in /etc/passwd and /etc/group, the usual
//! folders. drydockd's tests include this file too (`#[path]`).

use std::fs;
use std::process::Command;

/// Debian's statically linked busybox (package `busybox-static`).
const BUSYBOX: &str = "/bin/busybox";

/// A tar of a minimal busybox root filesystem: `/bin/busybox` with a symlink per applet,
/// `/etc/passwd` and `/etc/group` holding root, and the usual empty folders.
pub fn busybox_rootfs() -> Vec<u8> {
    busybox_rootfs_with(&[])
}

/// [`busybox_rootfs`] with the regular files `extra` (path, content; mode 0644, folders made
/// as they are unpacked) added at its end.
pub fn busybox_rootfs_with(extra: &[(&str, &[u8])]) -> Vec<u8> {
    let busybox = fs::read(BUSYBOX)
        .unwrap_or_else(|e| panic!("cannot read {BUSYBOX}: {e} (install Debian's busybox-static)"));
    let listed = Command::new(BUSYBOX)
        .arg("--list")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {BUSYBOX} --list: {e}"));
    assert!(listed.status.success(), "{BUSYBOX} --list failed");
    let applets = String::from_utf8_lossy(&listed.stdout).into_owned();
    let mut archive = tar::Builder::new(Vec::new());
    for (dir, mode) in [
        ("bin", 0o755),
        ("dev", 0o755),
        ("etc", 0o755),
        ("proc", 0o555),
        ("root", 0o700),
        ("sys", 0o555),
        ("tmp", 0o1777),
        ("var", 0o755),
    ] {
        append(&mut archive, tar::EntryType::Directory, dir, mode, &[]);
    }
    append(
        &mut archive,
        tar::EntryType::Regular,
        "bin/busybox",
        0o755,
        &busybox,
    );
    for applet in applets.lines().map(str::trim) {
        if applet.is_empty() || applet == "busybox" || applet.contains('/') {
            continue;
        }
        let mut header = header(tar::EntryType::Symlink, 0o777, 0);
        archive
            .append_link(&mut header, format!("bin/{applet}"), "busybox")
            .expect("a symlink entry");
    }
    append(
        &mut archive,
        tar::EntryType::Regular,
        "etc/passwd",
        0o644,
        b"root:x:0:0:root:/root:/bin/sh\n",
    );
    append(
        &mut archive,
        tar::EntryType::Regular,
        "etc/group",
        0o644,
        b"root:x:0:\n",
    );
    for (path, data) in extra {
        append(&mut archive, tar::EntryType::Regular, path, 0o644, data);
    }
    archive.into_inner().expect("the archive finishes")
}

pub fn append(
    archive: &mut tar::Builder<Vec<u8>>,
    kind: tar::EntryType,
    path: &str,
    mode: u32,
    data: &[u8],
) {
    let mut header = header(kind, mode, data.len() as u64);
    archive
        .append_data(&mut header, path, data)
        .expect("an archive entry");
}

pub fn header(kind: tar::EntryType, mode: u32, size: u64) -> tar::Header {
    let mut header = tar::Header::new_gnu();
    header.set_entry_type(kind);
    header.set_mode(mode);
    header.set_size(size);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(0);
    header
}
