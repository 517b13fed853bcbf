//! `docker stats` and `docker update`: a running container's resource use read from its
//! cgroups ([`drydock_engine::cgroups`]) in dockerd's JSON shape, once or every second, and
//! its resources changed live with `runc update` and kept in its host config.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use drydock_engine::cgroups::{self, CgroupLayout, CgroupSample, DeviceCount, ResourceUpdate};
use drydock_engine::timestamp::Timestamp;
use drydock_models::{ContainerUpdateBody, HostConfig};
use drydock_runtime::server::{Messages, ServerError};
use serde_json::{Value, json};

use super::lifecycle::publish;
use super::record::ContainerRecord;
use super::store::Container;
use crate::daemon::Daemon;
use crate::errors::blocking;

/// How often a stream of stats is sampled, as dockerd does.
const INTERVAL: Duration = Duration::from_secs(1);

/// Go's zero time, which dockerd writes for a time it has not read.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// One frame of stats, as sent.
type Frame = BTreeMap<String, Value>;

/// A sample with the host's numbers of the same moment.
#[derive(Clone)]
struct Reading {
    at: Timestamp,
    cgroup: CgroupSample,
    system_cpu: u64,
    online_cpus: u32,
    networks: Option<BTreeMap<String, [u64; 8]>>,
}

/// The stats of a container (`GET /containers/{id}/stats`): with `stream`, a frame every
/// second until it stops or the client leaves; else one frame, after two samples a second
/// apart so that the CPU use can be computed from it (as dockerd waits for its second
/// sample). A container that does not run gives one frame of zeros, as in dockerd.
pub async fn stats(
    daemon: &Daemon,
    container: Arc<Container>,
    stream: bool,
) -> Result<Messages<Frame>, ServerError> {
    let record = container.snapshot();
    if !record.state.status.is_running() {
        let frame = empty_frame(&record);
        return Ok(Box::pin(futures_util::stream::once(async move { frame })));
    }
    let cgroup = format!(
        "{}/{}",
        daemon.options.cgroup_parent.trim_end_matches('/'),
        record.id
    );
    let layout = blocking(CgroupLayout::of_host).await?;
    let host_memory = blocking(cgroups::host_memory).await?;
    let network = record.host_config.network_mode.as_deref() != Some("host");
    let read = move || {
        let (layout, cgroup, pid) = (layout.clone(), cgroup.clone(), record.state.pid);
        async move {
            blocking(move || {
                let (system_cpu, online_cpus) = cgroups::system_cpu()?;
                Ok(Reading {
                    at: Timestamp::now(),
                    cgroup: layout.sample(&cgroup)?,
                    system_cpu,
                    online_cpus,
                    networks: network
                        .then(|| cgroups::network_counters(pid).ok())
                        .flatten(),
                })
            })
            .await
            .ok()
        }
    };
    let name = format!("/{}", container.snapshot().name);
    let id = container.id.clone();
    if !stream {
        let first = read().await;
        tokio::time::sleep(INTERVAL).await;
        let second = read().await;
        let frame = match second {
            Some(now) => frame(&name, &id, &now, first.as_ref(), host_memory),
            None => empty_frame(&container.snapshot()),
        };
        return Ok(Box::pin(futures_util::stream::once(async move { frame })));
    }
    let frames = futures_util::stream::unfold((None::<Reading>, true), move |(previous, first)| {
        let (read, name, id) = (read.clone(), name.clone(), id.clone());
        async move {
            if !first {
                tokio::time::sleep(INTERVAL).await;
            }
            let now = read().await?;
            let sent = frame(&name, &id, &now, previous.as_ref(), host_memory);
            Some((sent, (Some(now), false)))
        }
    });
    Ok(Box::pin(frames))
}

/// dockerd's frame for a container that does not run.
fn empty_frame(record: &ContainerRecord) -> Frame {
    let cpu = json!({
        "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
        "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
    });
    let blkio: serde_json::Map<String, Value> = BLKIO_KEYS
        .iter()
        .map(|key| ((*key).to_owned(), Value::Null))
        .collect();
    object(json!({
        "read": ZERO_TIME,
        "preread": ZERO_TIME,
        "pids_stats": {},
        "blkio_stats": blkio,
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu,
        "precpu_stats": cpu,
        "memory_stats": {},
        "name": format!("/{}", record.name),
        "id": record.id,
    }))
}

/// The lists of `blkio_stats`, in dockerd's order.
const BLKIO_KEYS: [&str; 8] = [
    "io_service_bytes_recursive",
    "io_serviced_recursive",
    "io_queue_recursive",
    "io_service_time_recursive",
    "io_wait_time_recursive",
    "io_merged_recursive",
    "io_time_recursive",
    "sectors_recursive",
];

/// A frame from a reading and the one before it (the `precpu_stats`).
fn frame(
    name: &str,
    id: &str,
    now: &Reading,
    previous: Option<&Reading>,
    host_memory: u64,
) -> Frame {
    let sample = &now.cgroup;
    let mut memory = serde_json::Map::new();
    if sample.has_memory {
        memory.insert("usage".to_owned(), json!(sample.memory_usage));
        if let Some(max) = sample.memory_max_usage {
            memory.insert("max_usage".to_owned(), json!(max));
        }
        memory.insert("stats".to_owned(), json!(sample.memory_stat));
        if let Some(failcnt) = sample.memory_failcnt {
            memory.insert("failcnt".to_owned(), json!(failcnt));
        }
        let limit = sample
            .memory_limit
            .filter(|limit| *limit > 0 && *limit < host_memory)
            .unwrap_or(host_memory);
        memory.insert("limit".to_owned(), json!(limit));
    }
    let mut pids = serde_json::Map::new();
    if let Some(current) = sample.pids_current {
        pids.insert("current".to_owned(), json!(current));
    }
    if let Some(limit) = sample.pids_limit {
        pids.insert("limit".to_owned(), json!(limit));
    }
    let entries = |list: &[DeviceCount]| {
        Value::Array(
            list.iter()
                .map(|c| json!({"major": c.major, "minor": c.minor, "op": c.op, "value": c.value}))
                .collect(),
        )
    };
    let mut blkio = serde_json::Map::new();
    for key in BLKIO_KEYS {
        let list = match key {
            "io_service_bytes_recursive" => entries(&sample.io_service_bytes),
            "io_serviced_recursive" => entries(&sample.io_serviced),
            _ => Value::Array(Vec::new()),
        };
        blkio.insert(key.to_owned(), list);
    }
    let mut frame = object(json!({
        "read": now.at.to_string(),
        "preread": previous.map_or_else(|| ZERO_TIME.to_owned(), |p| p.at.to_string()),
        "pids_stats": pids,
        "blkio_stats": blkio,
        "num_procs": 0,
        "storage_stats": {},
        "cpu_stats": cpu_stats(Some(now)),
        "precpu_stats": cpu_stats(previous),
        "memory_stats": memory,
        "name": name,
        "id": id,
    }));
    if let Some(networks) = now.networks.as_ref().filter(|n| !n.is_empty()) {
        let networks: serde_json::Map<String, Value> = networks
            .iter()
            .map(|(interface, c)| {
                let counters = json!({
                    "rx_bytes": c[0], "rx_packets": c[1], "rx_errors": c[2], "rx_dropped": c[3],
                    "tx_bytes": c[4], "tx_packets": c[5], "tx_errors": c[6], "tx_dropped": c[7],
                });
                (interface.clone(), counters)
            })
            .collect();
        frame.insert("networks".to_owned(), Value::Object(networks));
    }
    frame
}

/// `cpu_stats` of a reading; zeros without one (the first frame's `precpu_stats`).
fn cpu_stats(reading: Option<&Reading>) -> Value {
    let Some(reading) = reading else {
        return json!({
            "cpu_usage": {"total_usage": 0, "usage_in_kernelmode": 0, "usage_in_usermode": 0},
            "throttling_data": {"periods": 0, "throttled_periods": 0, "throttled_time": 0},
        });
    };
    let sample = &reading.cgroup;
    let mut usage = json!({
        "total_usage": sample.cpu_total,
        "usage_in_kernelmode": sample.cpu_kernel,
        "usage_in_usermode": sample.cpu_user,
    });
    if !sample.cpu_per_cpu.is_empty() {
        usage["percpu_usage"] = json!(sample.cpu_per_cpu);
    }
    let (periods, throttled_periods, throttled_time) = sample.throttling;
    json!({
        "cpu_usage": usage,
        "system_cpu_usage": reading.system_cpu,
        "online_cpus": reading.online_cpus,
        "throttling_data": {
            "periods": periods,
            "throttled_periods": throttled_periods,
            "throttled_time": throttled_time,
        },
    })
}

/// The members of a JSON object.
fn object(value: Value) -> Frame {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => Frame::new(),
    }
}

/// Changes a container's resources and restart policy (`POST /containers/{id}/update`), with
/// dockerd's checks and texts: applied at once with `runc update` when it runs, kept in its
/// host config for its next starts.
pub async fn update(
    daemon: &Daemon,
    container: &Container,
    body: ContainerUpdateBody,
) -> Result<drydock_models::ContainerUpdateResponse, ServerError> {
    let _operation = container.operation.lock().await;
    let record = container.snapshot();
    let cannot = |message: &str| format!("Cannot update container {}: {message}", record.id);
    // The request's own fields are checked first, as at create.
    super::validate::check_update(&super::view::convert(&body)?)?;
    let host = &record.host_config;
    if body.restart_policy.as_ref().is_some_and(has_policy) && host.auto_remove == Some(true) {
        return Err(ServerError::conflict(cannot(
            "Restart policy cannot be updated because AutoRemove is enabled for the container",
        )));
    }
    let memory = body.memory.unwrap_or(0);
    let memory_swap = body.memory_swap.unwrap_or(0);
    if memory != 0 && memory > host.memory_swap.unwrap_or(0) && memory_swap == 0 {
        return Err(ServerError::conflict(cannot(
            "Memory limit should be smaller than already set memoryswap limit, update the \
             memoryswap at the same time",
        )));
    }
    let updated = updated_host_config(host, &body);
    if record.state.status.is_running() {
        let resources = live_resources(&body);
        let engine = daemon.clone();
        let id = record.id.clone();
        blocking(move || engine.runtime.runc().update(&id, &resources))
            .await
            .map_err(|e| ServerError::new(e.status, cannot(&e.message)))?;
    }
    container.update(|record| record.host_config = updated)?;
    publish(daemon, &container.snapshot(), "update", &[]);
    Ok(drydock_models::ContainerUpdateResponse { warnings: None })
}

/// Whether a restart policy is set to something (an empty name leaves it alone).
fn has_policy(policy: &drydock_models::RestartPolicy) -> bool {
    policy
        .name
        .as_ref()
        .is_some_and(|name| !name.as_str().is_empty())
}

/// `host` with what `body` sets (a zero leaves a number as it was, as in dockerd).
fn updated_host_config(host: &HostConfig, body: &ContainerUpdateBody) -> HostConfig {
    let mut host = host.clone();
    let set = |field: &mut Option<i64>, value: Option<i64>| {
        if let Some(value) = value.filter(|v| *v != 0) {
            *field = Some(value);
        }
    };
    set(&mut host.memory, body.memory);
    set(&mut host.memory_swap, body.memory_swap);
    set(&mut host.memory_reservation, body.memory_reservation);
    set(&mut host.cpu_shares, body.cpu_shares);
    set(&mut host.cpu_quota, body.cpu_quota);
    set(&mut host.cpu_period, body.cpu_period);
    set(&mut host.pids_limit, body.pids_limit);
    set(&mut host.blkio_weight, body.blkio_weight);
    set(&mut host.kernel_memory, body.kernel_memory);
    for (field, value) in [
        (&mut host.cpuset_cpus, &body.cpuset_cpus),
        (&mut host.cpuset_mems, &body.cpuset_mems),
    ] {
        if let Some(value) = value.as_ref().filter(|v| !v.is_empty()) {
            *field = Some(value.clone());
        }
    }
    if let Some(policy) = body.restart_policy.as_ref().filter(|p| has_policy(p)) {
        host.restart_policy = Some(policy.clone());
    }
    host
}

/// What `runc update` applies: the resources the request sets (zero leaves one alone).
fn live_resources(body: &ContainerUpdateBody) -> ResourceUpdate {
    let set = |value: Option<i64>| value.filter(|v| *v != 0);
    ResourceUpdate {
        memory: set(body.memory),
        memory_swap: set(body.memory_swap),
        memory_reservation: set(body.memory_reservation),
        cpu_shares: set(body.cpu_shares),
        cpu_quota: set(body.cpu_quota),
        cpu_period: set(body.cpu_period),
        cpuset_cpus: body.cpuset_cpus.clone().filter(|c| !c.is_empty()),
        cpuset_mems: body.cpuset_mems.clone().filter(|m| !m.is_empty()),
        // dockerd: a negative limit is no limit.
        pids_limit: set(body.pids_limit).map(|limit| limit.max(-1)),
    }
}
