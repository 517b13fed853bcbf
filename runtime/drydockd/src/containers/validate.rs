//! The checks dockerd makes of a create request before it creates anything, each refusal a 400
//! in dockerd's words: the config (present at all, its working directory, stop signal,
//! environment and health check), the host config (isolation, `AutoRemove` with a restart
//! policy, extra hosts, published ports, the restart policy) and its resources (memory, swap,
//! CPU, cpusets), shared memory and the OOM score. Mount specs are checked where they are
//! planned ([`super::mounts::plan`]).

use std::collections::BTreeSet;
use std::net::IpAddr;

use drydock_engine::cgroups::{CgroupLayout, usable_cpus};
use drydock_models::{ContainerCreateBody, HealthConfig, HostConfig};
use drydock_runtime::server::ServerError;

/// The smallest memory limit or reservation dockerd accepts: 6 MiB.
const MIN_MEMORY: i64 = 6 * 1024 * 1024;
/// The shortest health check interval, timeout or start period: 1ms, in nanoseconds.
const MIN_HEALTH_DURATION: i64 = 1_000_000;

/// Checks a create request's config and host config, in dockerd's order.
///
/// # Errors
///
/// A 400 with dockerd's message for the first thing wrong.
pub fn check_create(body: &ContainerCreateBody) -> Result<(), ServerError> {
    let host = body.host_config.clone().unwrap_or_default();
    check_isolation(&host)?;
    let config_only = ContainerCreateBody {
        host_config: None,
        networking_config: None,
        ..body.clone()
    };
    if config_only == ContainerCreateBody::default() {
        return Err(ServerError::bad_request(
            "Config cannot be empty in order to create a container",
        ));
    }
    check_config(body)?;
    check_host_config(&host)?;
    check_resources(&host, false)?;
    if host.shm_size.is_some_and(|size| size < 0) {
        return Err(ServerError::bad_request("SHM size can not be less than 0"));
    }
    if let Some(adjustment) = host.oom_score_adj
        && !(-1000..=1000).contains(&adjustment)
    {
        return Err(ServerError::bad_request(format!(
            "Invalid value {adjustment}, range for oom score adj is [-1000, 1000]"
        )));
    }
    Ok(())
}

/// Checks an update request's resources and restart policy as dockerd does before it
/// updates anything (`host` holds the request's fields only).
///
/// # Errors
///
/// A 400 with dockerd's message for the first thing wrong.
pub fn check_update(host: &HostConfig) -> Result<(), ServerError> {
    check_host_config(host)?;
    check_resources(host, true)
}

/// A 400 with `message`.
fn refuse(message: impl Into<String>) -> Result<(), ServerError> {
    Err(ServerError::bad_request(message))
}

/// Linux containers have the default isolation only.
fn check_isolation(host: &HostConfig) -> Result<(), ServerError> {
    match host.isolation.as_ref().map(|isolation| isolation.as_str()) {
        None | Some("" | "default") => Ok(()),
        Some(other) => refuse(format!(
            "Invalid isolation: {other:?} - linux only supports 'default'"
        )),
    }
}

/// The config's working directory, stop signal, environment and health check.
fn check_config(body: &ContainerCreateBody) -> Result<(), ServerError> {
    if let Some(dir) = body.working_dir.as_deref()
        && !dir.is_empty()
        && !dir.starts_with('/')
    {
        return refuse(format!(
            "the working directory '{dir}' is invalid, it needs to be an absolute path"
        ));
    }
    if let Some(signal) = body.stop_signal.as_deref()
        && !signal.is_empty()
    {
        super::lifecycle::parse_signal(signal)?;
    }
    for variable in body.env.iter().flatten() {
        if variable.split('=').next().is_none_or(str::is_empty) {
            return refuse(format!("invalid environment variable: {variable}"));
        }
    }
    body.healthcheck.as_ref().map_or(Ok(()), check_health)
}

/// A health check's durations (each at least 1ms when set) and retry count.
fn check_health(health: &HealthConfig) -> Result<(), ServerError> {
    let too_short = |value: Option<i64>| value.is_some_and(|v| v != 0 && v < MIN_HEALTH_DURATION);
    if too_short(health.interval) {
        return refuse("Interval in Healthcheck cannot be less than 1ms");
    }
    if too_short(health.timeout) {
        return refuse("Timeout in Healthcheck cannot be less than 1ms");
    }
    if health.retries.is_some_and(|retries| retries < 0) {
        return refuse("Retries in Healthcheck cannot be negative");
    }
    if too_short(health.start_period) {
        return refuse("StartPeriod in Healthcheck cannot be less than 1ms");
    }
    Ok(())
}

/// `AutoRemove` against the restart policy, extra hosts, published ports, the restart policy.
fn check_host_config(host: &HostConfig) -> Result<(), ServerError> {
    let policy = host
        .restart_policy
        .as_ref()
        .and_then(|p| p.name.as_ref())
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    if host.auto_remove == Some(true) && !matches!(policy.as_str(), "" | "no") {
        return refuse("can't create 'AutoRemove' container with restart policy");
    }
    for entry in host.extra_hosts.iter().flatten() {
        check_extra_host(entry)?;
    }
    for (port, bindings) in host.port_bindings.iter().flatten() {
        check_port_binding(
            port,
            bindings.iter().flatten().map(|b| b.host_port.as_deref()),
        )?;
    }
    let retries = host
        .restart_policy
        .as_ref()
        .and_then(|p| p.maximum_retry_count)
        .unwrap_or(0);
    match policy.as_str() {
        "" => Ok(()),
        "no" | "always" | "unless-stopped" if retries != 0 => refuse(format!(
            "maximum retry count cannot be used with restart policy '{policy}'"
        )),
        "no" | "always" | "unless-stopped" => Ok(()),
        "on-failure" if retries < 0 => refuse("maximum retry count cannot be negative"),
        "on-failure" => Ok(()),
        other => refuse(format!("invalid restart policy '{other}'")),
    }
}

/// An `--add-host` entry: `name:address`, the address an IP or `host-gateway`.
fn check_extra_host(entry: &str) -> Result<(), ServerError> {
    let Some((_, address)) = entry.split_once(':').filter(|(name, _)| !name.is_empty()) else {
        return refuse(format!("bad format for add-host: {entry:?}"));
    };
    if address != "host-gateway" && address.trim().parse::<IpAddr>().is_err() {
        return refuse(format!("invalid IP address in add-host: {address:?}"));
    }
    Ok(())
}

/// A published port: its container port (`80/tcp`) a port number, each host port a number or
/// a range (`8000-8010`), optionally with a protocol.
fn check_port_binding<'a>(
    port: &str,
    host_ports: impl Iterator<Item = Option<&'a str>>,
) -> Result<(), ServerError> {
    let container_port = port_of(port);
    if !container_port.is_empty() && parse_port_number(container_port).is_none() {
        return refuse(format!("invalid port specification: {container_port:?}"));
    }
    for host_port in host_ports.map(Option::unwrap_or_default) {
        let range = port_of(host_port);
        if !range.is_empty() && parse_port_range(range).is_none() {
            return refuse(format!("invalid port specification: {host_port:?}"));
        }
    }
    Ok(())
}

/// The port part of `port/protocol` (the whole text without a protocol).
fn port_of(text: &str) -> &str {
    text.split('/').next().unwrap_or_default()
}

/// A port number: decimal digits only, at most 65535.
fn parse_port_number(text: &str) -> Option<u16> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A port or a range of ports, `8000` or `8000-8010` (not descending).
fn parse_port_range(text: &str) -> Option<(u16, u16)> {
    let mut parts = text.split('-');
    let start = parse_port_number(parts.next()?)?;
    let end = match parts.next() {
        Some(end) => parse_port_number(end)?,
        None => start,
    };
    (end >= start).then_some((start, end))
}

/// Memory, swap, CPU and cpuset limits, as dockerd checks them on Linux; an `update` may set
/// swap alone (the container's memory limit stays).
fn check_resources(host: &HostConfig, update: bool) -> Result<(), ServerError> {
    let memory = host.memory.unwrap_or(0);
    let swap = host.memory_swap.unwrap_or(0);
    let reservation = host.memory_reservation.unwrap_or(0);
    if memory != 0 && memory < MIN_MEMORY {
        return refuse("Minimum memory limit allowed is 6MB");
    }
    if memory > 0 && swap > 0 && swap < memory {
        return refuse("Minimum memoryswap limit should be larger than memory limit, see usage");
    }
    if memory == 0 && swap > 0 && !update {
        return refuse(
            "You should always set the Memory limit when using Memoryswap limit, see usage",
        );
    }
    // -1 is "unset".
    if let Some(swappiness) = host.memory_swappiness.filter(|s| *s != -1)
        && !(0..=100).contains(&swappiness)
    {
        return refuse(format!(
            "Invalid value: {swappiness}, valid memory swappiness range is 0-100"
        ));
    }
    if reservation > 0 && reservation < MIN_MEMORY {
        return refuse("Minimum memory reservation allowed is 6MB");
    }
    if memory > 0 && reservation > 0 && memory < reservation {
        return refuse(
            "Minimum memory limit can not be less than memory reservation limit, see usage",
        );
    }
    if host
        .kernel_memory
        .is_some_and(|kernel| kernel > 0 && kernel < MIN_MEMORY)
    {
        return refuse("Minimum kernel memory limit allowed is 6MB");
    }
    check_cpu(host)?;
    check_cpusets(host)
}

/// `NanoCpus` against the CFS period and quota and the CPUs there are; the period's and the
/// quota's ranges.
fn check_cpu(host: &HostConfig) -> Result<(), ServerError> {
    let nano = host.nano_cpus.unwrap_or(0);
    let period = host.cpu_period.unwrap_or(0);
    let quota = host.cpu_quota.unwrap_or(0);
    if nano > 0 && period > 0 {
        return refuse("Conflicting options: Nano CPUs and CPU Period cannot both be set");
    }
    if nano > 0 && quota > 0 {
        return refuse("Conflicting options: Nano CPUs and CPU Quota cannot both be set");
    }
    let cpus = usable_cpus();
    if nano < 0 || nano > i64::from(cpus) * 1_000_000_000 {
        return refuse(format!(
            "Range of CPUs is from 0.01 to {cpus}.00, as there are only {cpus} CPUs available"
        ));
    }
    if period != 0 && !(1000..=1_000_000).contains(&period) {
        return refuse(
            "CPU cfs period can not be less than 1ms (i.e. 1000) or larger than 1s (i.e. 1000000)",
        );
    }
    if quota > 0 && quota < 1000 {
        return refuse("CPU cfs quota can not be less than 1ms (i.e. 1000)");
    }
    Ok(())
}

/// `CpusetCpus` and `CpusetMems`: lists (`0-2,4`) of CPUs and memory nodes the host has.
fn check_cpusets(host: &HostConfig) -> Result<(), ServerError> {
    let cpus = host.cpuset_cpus.as_deref().unwrap_or_default();
    let mems = host.cpuset_mems.as_deref().unwrap_or_default();
    if cpus.is_empty() && mems.is_empty() {
        return Ok(());
    }
    let available = CgroupLayout::of_host().and_then(|layout| layout.cpuset_available());
    let (cpus_there, mems_there) = match available {
        Ok(available) => available,
        Err(e) => {
            // Without the host's sets, only the lists' format can be checked.
            log::warn!("cannot read the host's cpusets: {e}");
            (String::new(), String::new())
        }
    };
    let checks = [
        (cpus, cpus_there, "cpus", "CPUs"),
        (mems, mems_there, "mems", "memory nodes"),
    ];
    for (requested, there, field, what) in checks {
        let Some(wanted) = parse_list(requested) else {
            return refuse(format!(
                "Invalid value {requested} for cpuset {field}: invalid format: {requested}"
            ));
        };
        let Some(present) = parse_list(&there).filter(|_| !there.is_empty()) else {
            continue;
        };
        if !wanted.is_subset(&present) {
            return refuse(format!(
                "Requested {what} are not available - requested {requested}, available: {there}"
            ));
        }
    }
    Ok(())
}

/// A list of numbers and ranges, `0-2,4`; `None` when malformed. Empty is the empty set.
fn parse_list(text: &str) -> Option<BTreeSet<i64>> {
    let mut numbers = BTreeSet::new();
    if text.is_empty() {
        return Some(numbers);
    }
    for part in text.split(',') {
        match part.split_once('-') {
            None => {
                numbers.insert(part.parse().ok()?);
            }
            Some((low, high)) => {
                let (low, high): (i64, i64) = (low.parse().ok()?, high.parse().ok()?);
                if high < low {
                    return None;
                }
                numbers.extend(low..=high);
            }
        }
    }
    Some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(json: serde_json::Value) -> HostConfig {
        serde_json::from_value(json).expect("a host config")
    }

    fn refusal(result: Result<(), ServerError>) -> String {
        result.expect_err("refused").message
    }

    #[test]
    fn restart_policies_are_checked_as_dockerd_checks_them() {
        let check = |json| check_host_config(&host(json));
        assert!(check(serde_json::json!({})).is_ok());
        assert!(
            check(
                serde_json::json!({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": 3}})
            )
            .is_ok()
        );
        assert_eq!(
            refusal(check(
                serde_json::json!({"AutoRemove": true, "RestartPolicy": {"Name": "always"}})
            )),
            "can't create 'AutoRemove' container with restart policy"
        );
        assert_eq!(
            refusal(check(
                serde_json::json!({"RestartPolicy": {"Name": "always", "MaximumRetryCount": -1}})
            )),
            "maximum retry count cannot be used with restart policy 'always'"
        );
        assert_eq!(
            refusal(check(
                serde_json::json!({"RestartPolicy": {"Name": "on-failure", "MaximumRetryCount": -1}})
            )),
            "maximum retry count cannot be negative"
        );
        assert_eq!(
            refusal(check(
                serde_json::json!({"RestartPolicy": {"Name": "sometimes"}})
            )),
            "invalid restart policy 'sometimes'"
        );
    }

    #[test]
    fn ports_are_numbers_and_host_ports_may_be_ascending_ranges() {
        let ports =
            |key: &str, host_port: &str| check_port_binding(key, std::iter::once(Some(host_port)));
        assert!(ports("80/tcp", "8080").is_ok());
        assert!(ports("80", "").is_ok());
        assert!(ports("53/udp", "8000-8010/udp").is_ok());
        for (key, host_port, wrong) in [
            ("99999/tcp", "80", "99999"),
            ("80-81/tcp", "80", "80-81"),
            ("80/tcp", "+80", "+80"),
            ("80/tcp", "9000-8000", "9000-8000"),
        ] {
            assert_eq!(
                refusal(ports(key, host_port)),
                format!("invalid port specification: \"{wrong}\"")
            );
        }
    }

    #[test]
    fn memory_limits_below_6mb_or_out_of_order_are_refused() {
        let check = |json| check_resources(&host(json), false);
        assert!(check(serde_json::json!({"Memory": 6291456, "MemorySwap": -1})).is_ok());
        assert!(
            check_update(&host(serde_json::json!({"MemorySwap": 67108864}))).is_ok(),
            "an update may set swap alone"
        );
        assert!(check(serde_json::json!({"MemorySwappiness": -1})).is_ok());
        for (json, message) in [
            (
                serde_json::json!({"Memory": -1}),
                "Minimum memory limit allowed is 6MB",
            ),
            (
                serde_json::json!({"Memory": 67108864, "MemorySwap": 1}),
                "Minimum memoryswap limit should be larger than memory limit, see usage",
            ),
            (
                serde_json::json!({"MemorySwap": 67108864}),
                "You should always set the Memory limit when using Memoryswap limit, see usage",
            ),
            (
                serde_json::json!({"MemorySwappiness": 101}),
                "Invalid value: 101, valid memory swappiness range is 0-100",
            ),
            (
                serde_json::json!({"Memory": 67108864, "MemoryReservation": 134217728}),
                "Minimum memory limit can not be less than memory reservation limit, see usage",
            ),
        ] {
            assert_eq!(refusal(check(json)), message);
        }
    }

    #[test]
    fn cpu_limits_are_checked_against_each_other_and_their_ranges() {
        let check = |json| check_cpu(&host(json));
        assert!(check(serde_json::json!({"NanoCpus": 500000000})).is_ok());
        assert!(check(serde_json::json!({"CpuPeriod": 100000, "CpuQuota": 50000})).is_ok());
        assert!(
            refusal(check(serde_json::json!({"NanoCpus": 1, "CpuQuota": 5000})))
                .contains("Nano CPUs and CPU Quota")
        );
        assert!(
            refusal(check(serde_json::json!({"NanoCpus": -1})))
                .starts_with("Range of CPUs is from 0.01 to ")
        );
        assert!(
            refusal(check(serde_json::json!({"CpuPeriod": 999})))
                .starts_with("CPU cfs period can not be less than 1ms")
        );
    }

    #[test]
    fn cpuset_lists_parse_as_numbers_and_ascending_ranges() {
        assert_eq!(parse_list("0-2,4"), Some(BTreeSet::from([0, 1, 2, 4])));
        assert_eq!(parse_list(""), Some(BTreeSet::new()));
        for bad in ["abc", "2-1", "1,", "-1", "1-"] {
            assert_eq!(parse_list(bad), None, "{bad}");
        }
    }

    #[test]
    fn extra_hosts_need_a_name_and_an_address() {
        assert!(check_extra_host("db:10.0.0.2").is_ok());
        assert!(check_extra_host("db:::1").is_ok());
        assert!(check_extra_host("gw:host-gateway").is_ok());
        assert_eq!(
            refusal(check_extra_host("nocolon")),
            "bad format for add-host: \"nocolon\""
        );
        assert_eq!(
            refusal(check_extra_host(":10.0.0.2")),
            "bad format for add-host: \":10.0.0.2\""
        );
        assert_eq!(
            refusal(check_extra_host("h:nowhere")),
            "invalid IP address in add-host: \"nowhere\""
        );
    }

    #[test]
    fn a_body_without_config_fields_is_an_empty_config() {
        let body = |json| serde_json::from_value::<ContainerCreateBody>(json).expect("a body");
        assert_eq!(
            refusal(check_create(&body(serde_json::json!({"HostConfig": {}})))),
            "Config cannot be empty in order to create a container"
        );
        assert!(check_create(&body(serde_json::json!({"Cmd": ["true"]}))).is_ok());
    }
}
