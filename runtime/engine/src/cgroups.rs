//! A container's resource use read from its cgroups, as `docker stats` reports it.
//!
//! runc puts a container under the cgroup path the engine gives it (`<cgroup parent>/<id>`)
//! in every hierarchy. Hosts differ in how the hierarchies are mounted: cgroup v1 with one
//! mount per controller, cgroup v2 with one unified mount, or both (a hybrid host: the v1
//! controllers under `/sys/fs/cgroup/<controller>` and an empty v2 under
//! `/sys/fs/cgroup/unified`). Each controller is read where the host mounts it: from its v1
//! hierarchy when there is one, else from the v2 hierarchy that lists it in
//! `cgroup.controllers`.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    LinuxCpuBuilder, LinuxMemoryBuilder, LinuxPidsBuilder, LinuxResources, LinuxResourcesBuilder,
};

use crate::error::{Error, Result};

/// Nanoseconds in one clock tick of `/proc/stat` and `cpuacct.stat` (`USER_HZ` is 100).
const NANOS_PER_TICK: u64 = 10_000_000;

/// One sample of a container's cgroups, in the units dockerd reports.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CgroupSample {
    /// Memory in use (v1 `usage_in_bytes`, v2 `memory.current`).
    pub memory_usage: u64,
    /// The most memory ever in use (v1 only; v2's `memory.peak` where the kernel has it).
    pub memory_max_usage: Option<u64>,
    /// How often the limit was hit (v1 only).
    pub memory_failcnt: Option<u64>,
    /// The memory limit, `None` when unlimited.
    pub memory_limit: Option<u64>,
    /// `memory.stat`, every key.
    pub memory_stat: BTreeMap<String, u64>,
    /// Whether the memory controller was found for the container.
    pub has_memory: bool,
    /// CPU time used, in nanoseconds.
    pub cpu_total: u64,
    /// CPU time per CPU, in nanoseconds (v1 only).
    pub cpu_per_cpu: Vec<u64>,
    /// CPU time in the kernel, in nanoseconds.
    pub cpu_kernel: u64,
    /// CPU time in user mode, in nanoseconds.
    pub cpu_user: u64,
    /// CFS periods elapsed, throttled periods, and time throttled in nanoseconds.
    pub throttling: (u64, u64, u64),
    /// Tasks in the cgroup.
    pub pids_current: Option<u64>,
    /// The task limit, `None` when unlimited.
    pub pids_limit: Option<u64>,
    /// Bytes moved per device and operation.
    pub io_service_bytes: Vec<DeviceCount>,
    /// Operations per device and operation.
    pub io_serviced: Vec<DeviceCount>,
}

/// A block device's count of one operation, as `blkio_stats` lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCount {
    /// The device's major number.
    pub major: u64,
    /// The device's minor number.
    pub minor: u64,
    /// `Read`, `Write`, `Sync`, `Async`, `Discard`, `Total` (v1); `read`, `write` (v2).
    pub op: String,
    /// Bytes or operations.
    pub value: u64,
}

impl DeviceCount {
    fn new(major: u64, minor: u64, op: &str, value: u64) -> DeviceCount {
        DeviceCount {
            major,
            minor,
            op: op.to_owned(),
            value,
        }
    }
}

/// Where the host mounts the cgroup hierarchies.
#[derive(Clone, Debug, Default)]
pub struct CgroupLayout {
    /// The v1 hierarchies by controller name.
    v1: BTreeMap<String, PathBuf>,
    /// The v2 hierarchy and the controllers it has.
    v2: Option<(PathBuf, Vec<String>)>,
}

impl CgroupLayout {
    /// The layout of this host, from `/proc/self/mountinfo`.
    pub fn of_host() -> Result<CgroupLayout> {
        let path = Path::new("/proc/self/mountinfo");
        let table = fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
        let mut layout = CgroupLayout::default();
        for line in table.lines() {
            let Some((mount, fs_part)) = line.split_once(" - ") else {
                continue;
            };
            let Some(mount_point) = mount.split(' ').nth(4) else {
                continue;
            };
            let mut fs_fields = fs_part.split(' ');
            let fs_type = fs_fields.next().unwrap_or("");
            let options = fs_fields.nth(1).unwrap_or("");
            match fs_type {
                "cgroup" => {
                    for option in options.split(',') {
                        if !matches!(option, "rw" | "ro") && !option.contains('=') {
                            layout
                                .v1
                                .entry(option.to_owned())
                                .or_insert_with(|| PathBuf::from(mount_point));
                        }
                    }
                }
                "cgroup2" if layout.v2.is_none() => {
                    let root = PathBuf::from(mount_point);
                    let controllers = fs::read_to_string(root.join("cgroup.controllers"))
                        .unwrap_or_default()
                        .split_whitespace()
                        .map(str::to_owned)
                        .collect();
                    layout.v2 = Some((root, controllers));
                }
                _ => {}
            }
        }
        Ok(layout)
    }

    /// The folder of the cgroup `path` for `controller`, and whether it is a v2 one.
    fn dir(&self, controller: &str, path: &str) -> Option<(PathBuf, bool)> {
        let relative = path.trim_start_matches('/');
        if let Some(root) = self.v1.get(controller) {
            return Some((root.join(relative), false));
        }
        let (root, controllers) = self.v2.as_ref()?;
        controllers
            .iter()
            .any(|c| c == controller)
            .then(|| (root.join(relative), true))
    }

    /// The CPUs and memory nodes containers may be pinned to (`--cpuset-cpus`,
    /// `--cpuset-mems`), as lists (`0-3`, `0`), where dockerd reads them: the root of the
    /// cpuset hierarchy (its effective sets on cgroup v2), else the kernel's online lists.
    ///
    /// # Errors
    ///
    /// When none of them can be read.
    pub fn cpuset_available(&self) -> Result<(String, String)> {
        let mut candidates = Vec::new();
        if let Some((root, v2)) = self.dir("cpuset", "/") {
            let suffix = if v2 { ".effective" } else { "" };
            candidates.push((
                root.join(format!("cpuset.cpus{suffix}")),
                root.join(format!("cpuset.mems{suffix}")),
            ));
        }
        candidates.push((
            PathBuf::from("/sys/devices/system/cpu/online"),
            PathBuf::from("/sys/devices/system/node/online"),
        ));
        let mut failure = None;
        for (cpus, mems) in candidates {
            match (fs::read_to_string(&cpus), fs::read_to_string(&mems)) {
                (Ok(cpus), Ok(mems)) => {
                    return Ok((cpus.trim().to_owned(), mems.trim().to_owned()));
                }
                (Err(e), _) => failure = Some(Error::io("read", &cpus, e)),
                (_, Err(e)) => failure = Some(Error::io("read", &mems, e)),
            }
        }
        Err(failure.unwrap_or_else(|| {
            Error::io(
                "read",
                Path::new("/sys/devices/system/cpu/online"),
                std::io::ErrorKind::NotFound.into(),
            )
        }))
    }

    /// The cgroup folder of `path` whose limit files a controller's settings show in, for
    /// tests and tools: the memory controller's.
    pub fn memory_dir(&self, path: &str) -> Option<PathBuf> {
        self.dir("memory", path).map(|(dir, _)| dir)
    }

    /// Reads the cgroup `path` (such as `/drydock/<id>`). Controllers the host does not have,
    /// or files a kernel does not have, are left at their defaults.
    ///
    /// # Errors
    ///
    /// When no controller has the cgroup (the container is not running).
    pub fn sample(&self, path: &str) -> Result<CgroupSample> {
        let mut sample = CgroupSample::default();
        let mut found = false;
        if let Some((dir, v2)) = self.dir("memory", path).filter(|(dir, _)| dir.is_dir()) {
            found = true;
            sample.has_memory = true;
            sample.memory_stat = key_values(&dir.join("memory.stat"));
            if v2 {
                sample.memory_usage = number(&dir.join("memory.current")).unwrap_or(0);
                sample.memory_max_usage = number(&dir.join("memory.peak"));
                sample.memory_limit = number(&dir.join("memory.max"));
            } else {
                sample.memory_usage = number(&dir.join("memory.usage_in_bytes")).unwrap_or(0);
                sample.memory_max_usage = number(&dir.join("memory.max_usage_in_bytes"));
                sample.memory_failcnt = number(&dir.join("memory.failcnt"));
                // v1 shows "no limit" as the largest page-aligned number.
                sample.memory_limit =
                    number(&dir.join("memory.limit_in_bytes")).filter(|limit| *limit < (1 << 62));
            }
        }
        let cpu_dir = self
            .dir("cpuacct", path)
            .or_else(|| self.dir("cpu", path))
            .filter(|(dir, _)| dir.is_dir());
        if let Some((dir, v2)) = cpu_dir {
            found = true;
            if v2 {
                let stat = key_values(&dir.join("cpu.stat"));
                let micros = |key: &str| stat.get(key).copied().unwrap_or(0) * 1000;
                sample.cpu_total = micros("usage_usec");
                sample.cpu_user = micros("user_usec");
                sample.cpu_kernel = micros("system_usec");
                sample.throttling = (
                    stat.get("nr_periods").copied().unwrap_or(0),
                    stat.get("nr_throttled").copied().unwrap_or(0),
                    micros("throttled_usec"),
                );
            } else {
                sample.cpu_total = number(&dir.join("cpuacct.usage")).unwrap_or(0);
                sample.cpu_per_cpu = fs::read_to_string(dir.join("cpuacct.usage_percpu"))
                    .unwrap_or_default()
                    .split_whitespace()
                    .filter_map(|n| n.parse().ok())
                    .collect();
                let ticks = key_values(&dir.join("cpuacct.stat"));
                sample.cpu_user = ticks.get("user").copied().unwrap_or(0) * NANOS_PER_TICK;
                sample.cpu_kernel = ticks.get("system").copied().unwrap_or(0) * NANOS_PER_TICK;
            }
        }
        if let Some((dir, false)) = self.dir("cpu", path) {
            let stat = key_values(&dir.join("cpu.stat"));
            sample.throttling = (
                stat.get("nr_periods").copied().unwrap_or(0),
                stat.get("nr_throttled").copied().unwrap_or(0),
                stat.get("throttled_time").copied().unwrap_or(0),
            );
        }
        if let Some((dir, _)) = self.dir("pids", path).filter(|(dir, _)| dir.is_dir()) {
            found = true;
            sample.pids_current = number(&dir.join("pids.current"));
            sample.pids_limit = number(&dir.join("pids.max"));
        }
        if let Some((dir, v2)) = self
            .dir(
                if self.v1.contains_key("blkio") {
                    "blkio"
                } else {
                    "io"
                },
                path,
            )
            .filter(|(dir, _)| dir.is_dir())
        {
            found = true;
            if v2 {
                (sample.io_service_bytes, sample.io_serviced) = io_stat(&dir.join("io.stat"));
            } else {
                let read = |name: &str| device_ops(&dir.join(name));
                sample.io_service_bytes = read("blkio.io_service_bytes_recursive");
                sample.io_serviced = read("blkio.io_serviced_recursive");
                if sample.io_service_bytes.is_empty() {
                    sample.io_service_bytes = read("blkio.throttle.io_service_bytes_recursive");
                    sample.io_serviced = read("blkio.throttle.io_serviced_recursive");
                }
            }
        }
        if found {
            Ok(sample)
        } else {
            Err(Error::Io {
                context: format!("cannot find the cgroup {path}"),
                source: std::io::ErrorKind::NotFound.into(),
            })
        }
    }
}

/// Resources to change in a running container's cgroups (`docker update`); `None` leaves one
/// as it is.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceUpdate {
    /// The memory limit in bytes.
    pub memory: Option<i64>,
    /// Memory plus swap in bytes (-1: unlimited).
    pub memory_swap: Option<i64>,
    /// The memory soft limit in bytes.
    pub memory_reservation: Option<i64>,
    /// The relative CPU weight.
    pub cpu_shares: Option<i64>,
    /// CPU time per period, in microseconds.
    pub cpu_quota: Option<i64>,
    /// The CFS period, in microseconds.
    pub cpu_period: Option<i64>,
    /// The CPUs it may run on (`0-3`, `0,1`).
    pub cpuset_cpus: Option<String>,
    /// The memory nodes it may use.
    pub cpuset_mems: Option<String>,
    /// The task limit (-1: unlimited).
    pub pids_limit: Option<i64>,
}

impl ResourceUpdate {
    /// The OCI resources `runc update` reads.
    pub fn to_oci(&self) -> Result<LinuxResources> {
        let mut resources = LinuxResourcesBuilder::default();
        if self.memory.is_some() || self.memory_swap.is_some() || self.memory_reservation.is_some()
        {
            let mut memory = LinuxMemoryBuilder::default();
            if let Some(limit) = self.memory {
                memory = memory.limit(limit);
            }
            if let Some(swap) = self.memory_swap {
                memory = memory.swap(swap);
            }
            if let Some(reservation) = self.memory_reservation {
                memory = memory.reservation(reservation);
            }
            resources = resources.memory(memory.build()?);
        }
        let cpu_fields = [self.cpu_shares, self.cpu_quota, self.cpu_period];
        if cpu_fields.iter().any(Option::is_some)
            || self.cpuset_cpus.is_some()
            || self.cpuset_mems.is_some()
        {
            let mut cpu = LinuxCpuBuilder::default();
            if let Some(shares) = self.cpu_shares {
                cpu = cpu.shares(u64::try_from(shares).unwrap_or(0));
            }
            if let Some(quota) = self.cpu_quota {
                cpu = cpu.quota(quota);
            }
            if let Some(period) = self.cpu_period {
                cpu = cpu.period(u64::try_from(period).unwrap_or(0));
            }
            if let Some(cpus) = &self.cpuset_cpus {
                cpu = cpu.cpus(cpus.clone());
            }
            if let Some(mems) = &self.cpuset_mems {
                cpu = cpu.mems(mems.clone());
            }
            resources = resources.cpu(cpu.build()?);
        }
        if let Some(limit) = self.pids_limit {
            resources = resources.pids(LinuxPidsBuilder::default().limit(limit).build()?);
        }
        Ok(resources.build()?)
    }
}

/// A file holding one number; `None` when it is missing or says `max`.
fn number(path: &Path) -> Option<u64> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// A file of `key value` lines.
fn key_values(path: &Path) -> BTreeMap<String, u64> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// v1 `blkio` lines, `8:0 Read 4096`; the `Total` lines of each device included.
fn device_ops(path: &Path) -> Vec<DeviceCount> {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let (major, minor) = fields.next()?.split_once(':')?;
            let op = fields.next()?;
            let value = fields.next()?.parse().ok()?;
            Some(DeviceCount::new(
                major.parse().ok()?,
                minor.parse().ok()?,
                op,
                value,
            ))
        })
        .collect()
}

/// v2 `io.stat` lines, `8:0 rbytes=1 wbytes=2 rios=3 wios=4 …`, as v1's bytes and operations.
fn io_stat(path: &Path) -> (Vec<DeviceCount>, Vec<DeviceCount>) {
    let (mut bytes, mut ops) = (Vec::new(), Vec::new());
    for line in fs::read_to_string(path).unwrap_or_default().lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        let (Ok(major), Ok(minor)) = (major.parse::<u64>(), minor.parse::<u64>()) else {
            continue;
        };
        for field in fields {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let Ok(value) = value.parse::<u64>() else {
                continue;
            };
            match key {
                "rbytes" => bytes.push(DeviceCount::new(major, minor, "read", value)),
                "wbytes" => bytes.push(DeviceCount::new(major, minor, "write", value)),
                "rios" => ops.push(DeviceCount::new(major, minor, "read", value)),
                "wios" => ops.push(DeviceCount::new(major, minor, "write", value)),
                _ => {}
            }
        }
    }
    (bytes, ops)
}

/// The host's CPU time since boot in nanoseconds (`/proc/stat`'s `cpu` line) and its number
/// of online CPUs, as dockerd reads them for `system_cpu_usage` and `online_cpus`.
pub fn system_cpu() -> Result<(u64, u32)> {
    let path = Path::new("/proc/stat");
    let text = fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    let mut total = 0;
    let mut cpus = 0;
    for line in text.lines() {
        if let Some(times) = line.strip_prefix("cpu ") {
            total = times
                .split_whitespace()
                .take(8)
                .filter_map(|n| n.parse::<u64>().ok())
                .sum::<u64>()
                * NANOS_PER_TICK;
        } else if line.starts_with("cpu") {
            cpus += 1;
        }
    }
    Ok((total, cpus))
}

/// How many CPUs this process may run on (its affinity mask), as Go's `runtime.NumCPU` counts
/// them for dockerd's `NanoCpus` limit; 1 when the mask cannot be read.
pub fn usable_cpus() -> u32 {
    // SAFETY: an all-zero cpu_set_t is a valid (empty) set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: the pointer and size describe `set`, which outlives the call; pid 0 is this
    // process.
    let read = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
    if read != 0 {
        return 1;
    }
    // SAFETY: `set` was filled by sched_getaffinity.
    u32::try_from(unsafe { libc::CPU_COUNT(&set) })
        .unwrap_or(1)
        .max(1)
}

/// The host's memory in bytes (`/proc/meminfo`'s `MemTotal`).
pub fn host_memory() -> Result<u64> {
    let path = Path::new("/proc/meminfo");
    let text = fs::read_to_string(path).map_err(|e| Error::io("read", path, e))?;
    Ok(text
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|rest| {
            rest.trim()
                .trim_end_matches("kB")
                .trim()
                .parse::<u64>()
                .ok()
        })
        .unwrap_or(0)
        * 1024)
}

/// The traffic counters of a process's network interfaces (`/proc/<pid>/net/dev`), loopback
/// left out: per interface, received bytes, packets, errors, drops, then the same sent.
pub fn network_counters(pid: i32) -> Result<BTreeMap<String, [u64; 8]>> {
    let path = PathBuf::from(format!("/proc/{pid}/net/dev"));
    let text = fs::read_to_string(&path).map_err(|e| Error::io("read", &path, e))?;
    Ok(text
        .lines()
        .skip(2)
        .filter_map(|line| {
            let (name, counters) = line.split_once(':')?;
            let name = name.trim();
            if name == "lo" {
                return None;
            }
            let values: Vec<u64> = counters
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            let at = |i: usize| values.get(i).copied().unwrap_or(0);
            Some((
                name.to_owned(),
                [at(0), at(1), at(2), at(3), at(8), at(9), at(10), at(11)],
            ))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::{DeviceCount, device_ops, io_stat, key_values, network_counters};

    #[test]
    fn network_counters_list_every_interface_but_loopback() {
        let pid = i32::try_from(std::process::id()).expect("a pid");
        let counters = network_counters(pid).expect("net/dev reads");
        let listed = std::fs::read_to_string("/proc/self/net/dev").expect("net/dev");
        let interfaces: Vec<&str> = listed
            .lines()
            .skip(2)
            .filter_map(|line| Some(line.split_once(':')?.0.trim()))
            .filter(|name| *name != "lo")
            .collect();
        assert!(!counters.contains_key("lo"));
        assert_eq!(counters.keys().map(String::as_str).collect::<Vec<_>>(), {
            let mut sorted = interfaces.clone();
            sorted.sort_unstable();
            sorted
        });
    }

    #[test]
    fn cgroup_files_of_both_versions_parse() {
        let scratch = crate::scratch::ScratchDir::new("cgroups");
        let stat = scratch.path().join("memory.stat");
        std::fs::write(&stat, "cache 8192\nrss 53248\n").expect("a file");
        assert_eq!(key_values(&stat)["rss"], 53248);
        let blkio = scratch.path().join("blkio");
        std::fs::write(&blkio, "8:0 Read 4096\n8:0 Write 0\nTotal 4096\n").expect("a file");
        assert_eq!(
            device_ops(&blkio),
            [
                DeviceCount::new(8, 0, "Read", 4096),
                DeviceCount::new(8, 0, "Write", 0)
            ]
        );
        let io = scratch.path().join("io.stat");
        std::fs::write(&io, "8:0 rbytes=10 wbytes=20 rios=1 wios=2 dbytes=0\n").expect("a file");
        let (bytes, ops) = io_stat(&io);
        assert_eq!(bytes[1], DeviceCount::new(8, 0, "write", 20));
        assert_eq!(ops[0], DeviceCount::new(8, 0, "read", 1));
    }
}
