//! How containers look through the API: inspect, `docker ps` rows and their status words.

use drydock_engine::timestamp::Timestamp;
use drydock_models::{
    ContainerInspectResponse, ContainerInspectResponseState, ContainerSummaryItem,
    ContainerSummaryItemHostConfig, GraphDriverData,
};
use drydock_runtime::server::ServerError;

use super::mounts;
use super::record::{ContainerRecord, Status};
use crate::daemon::Daemon;

/// A duration in words as Docker prints it (`Up 5 seconds`, `Exited (0) About a minute ago`).
pub fn human_duration(seconds: i64) -> String {
    let seconds = seconds.max(0);
    let minutes = seconds / 60;
    let hours = (seconds + 1800) / 3600;
    match () {
        () if seconds < 1 => "Less than a second".to_owned(),
        () if seconds == 1 => "1 second".to_owned(),
        () if seconds < 60 => format!("{seconds} seconds"),
        () if minutes == 1 => "About a minute".to_owned(),
        () if minutes < 60 => format!("{minutes} minutes"),
        () if hours == 1 => "About an hour".to_owned(),
        () if hours < 48 => format!("{hours} hours"),
        () if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        () if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        () if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        () => format!("{} years", hours / 24 / 365),
    }
}

/// Seconds from `then` to now.
fn since(then: Option<Timestamp>) -> i64 {
    then.map_or(0, |then| {
        Timestamp::now().unix_seconds() - then.unix_seconds()
    })
}

/// The `Status` column of `docker ps`.
pub fn status_text(record: &ContainerRecord) -> String {
    let state = &record.state;
    match state.status {
        Status::Created => "Created".to_owned(),
        Status::Running => format!(
            "Up {}{}",
            human_duration(since(state.started_at)),
            state
                .health
                .as_ref()
                .map(super::health::status_suffix)
                .unwrap_or_default()
        ),
        Status::Paused => format!("Up {} (Paused)", human_duration(since(state.started_at))),
        Status::Restarting => format!(
            "Restarting ({}) {} ago",
            state.exit_code,
            human_duration(since(state.finished_at))
        ),
        Status::Removing => "Removal In Progress".to_owned(),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            state.exit_code,
            human_duration(since(state.finished_at))
        ),
        Status::Dead => "Dead".to_owned(),
    }
}

/// A model from JSON of the same shape (the engine's config types and the API's share
/// Docker's field names).
pub fn convert<T: serde::de::DeserializeOwned>(
    value: &impl serde::Serialize,
) -> Result<T, ServerError> {
    serde_json::to_value(value)
        .and_then(serde_json::from_value)
        .map_err(|e| ServerError::internal(format!("cannot convert a container's config: {e}")))
}

/// The zero time Go prints for a time never set.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `docker inspect` of a container.
///
/// # Errors
///
/// 500 when its stored config does not convert.
pub fn inspect(
    daemon: &Daemon,
    record: &ContainerRecord,
) -> Result<ContainerInspectResponse, ServerError> {
    let state = &record.state;
    let container_dir = daemon.options.data_root.join("containers").join(&record.id);
    let rootfs = daemon.runtime.rootfs_dir(&record.id);
    let graph_data = [
        ("MergedDir", rootfs.join("merged")),
        ("UpperDir", rootfs.join("upper")),
        ("WorkDir", rootfs.join("work")),
    ]
    .into_iter()
    .map(|(key, path)| (key.to_owned(), path.display().to_string()))
    .collect();
    let time = |t: Option<Timestamp>| t.map_or_else(|| ZERO_TIME.to_owned(), |t| t.to_string());
    Ok(ContainerInspectResponse {
        id: Some(record.id.clone()),
        created: Some(record.created.to_string()),
        path: Some(record.path()),
        args: Some(record.args()),
        state: Some(ContainerInspectResponseState {
            status: Some(state.status.as_str().into()),
            running: Some(state.status.is_running()),
            paused: Some(state.status == Status::Paused),
            restarting: Some(state.status == Status::Restarting),
            oom_killed: Some(false),
            dead: Some(state.status == Status::Dead),
            pid: Some(i64::from(state.pid)),
            exit_code: Some(i64::from(state.exit_code)),
            error: Some(state.error.clone()),
            started_at: Some(time(state.started_at)),
            finished_at: Some(time(state.finished_at)),
            health: state.health.as_ref().map(health_model),
        }),
        image: Some(record.image_id.clone()),
        resolv_conf_path: Some(container_dir.join("resolv.conf").display().to_string()),
        hostname_path: Some(container_dir.join("hostname").display().to_string()),
        hosts_path: Some(container_dir.join("hosts").display().to_string()),
        log_path: Some(daemon.runtime.log_path(&record.id).display().to_string()),
        node: None,
        name: Some(format!("/{}", record.name)),
        restart_count: Some(record.restart_count),
        driver: Some("overlay2".to_owned()),
        mount_label: Some(String::new()),
        process_label: Some(String::new()),
        app_armor_profile: Some(String::new()),
        exec_ids: (!record.exec_ids.is_empty()).then(|| record.exec_ids.clone()),
        host_config: Some(record.host_config.clone()),
        graph_driver: Some(GraphDriverData {
            name: Some("overlay2".to_owned()),
            data: Some(graph_data),
        }),
        size_rw: None,
        size_root_fs: None,
        mounts: Some(mounts::mount_points(&record.mounts)),
        config: Some(convert(&record.config)?),
        network_settings: Some(super::network::settings(daemon, record)?),
    })
}

/// A container's health as inspect shows it.
fn health_model(health: &super::record::Health) -> drydock_models::Health {
    drydock_models::Health {
        status: Some(health.status.as_str().into()),
        failing_streak: Some(health.failing_streak),
        log: Some(
            health
                .log
                .iter()
                .map(|result| drydock_models::HealthcheckResult {
                    start: Some(result.start.to_string()),
                    end: Some(result.end.to_string()),
                    exit_code: Some(result.exit_code),
                    output: Some(result.output.clone()),
                })
                .collect(),
        ),
    }
}

/// A `docker ps` row.
pub fn summary(daemon: &Daemon, record: &ContainerRecord) -> ContainerSummaryItem {
    let command = record
        .command_line()
        .iter()
        .map(|word| {
            if word.contains(' ') {
                format!("'{word}'")
            } else {
                word.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    ContainerSummaryItem {
        id: Some(record.id.clone()),
        names: Some(vec![format!("/{}", record.name)]),
        image: Some(record.image.clone()),
        image_id: Some(record.image_id.clone()),
        command: Some(command),
        created: Some(record.created.unix_seconds()),
        ports: Some(super::network::summary_ports(daemon, record)),
        size_rw: None,
        size_root_fs: None,
        labels: Some(record.labels()),
        state: Some(record.state.status.as_str().to_owned()),
        status: Some(status_text(record)),
        host_config: Some(ContainerSummaryItemHostConfig {
            network_mode: record.host_config.network_mode.clone(),
        }),
        network_settings: Some(super::network::summary_networks(daemon, record)),
        mounts: Some(mounts::mount_points(&record.mounts)),
    }
}

/// What a container takes on disk, as `docker ps -s`, `docker inspect -s` and `docker system
/// df` show it: `SizeRw`, the bytes it wrote over its image (-1 when they cannot be measured,
/// as dockerd says it), and `SizeRootFs`, those and its image's layers (`image_size`, none
/// when the image is unknown).
pub fn disk_sizes(
    daemon: &Daemon,
    record: &ContainerRecord,
    image_size: Option<i64>,
) -> (i64, Option<i64>) {
    let size_rw = daemon
        .runtime
        .changes_size(&record.id)
        .map_or(-1, |size| i64::try_from(size).unwrap_or(i64::MAX));
    (size_rw, image_size.map(|image| image + size_rw.max(0)))
}

/// The size of a container's image, for [`disk_sizes`]; none when it cannot be read.
pub fn image_size(daemon: &Daemon, record: &ContainerRecord) -> Option<i64> {
    let id = drydock_engine::digest::Digest::parse(&record.image_id)?;
    let size = daemon.images.image_size(&id).ok()?;
    i64::try_from(size).ok()
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_as_dockers_status_column() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(1), "1 second");
        assert_eq!(human_duration(59), "59 seconds");
        assert_eq!(human_duration(60), "About a minute");
        assert_eq!(human_duration(120), "2 minutes");
        assert_eq!(human_duration(3600), "About an hour");
        assert_eq!(human_duration(5 * 3600), "5 hours");
        assert_eq!(human_duration(3 * 24 * 3600), "3 days");
        assert_eq!(human_duration(20 * 24 * 3600), "2 weeks");
        assert_eq!(human_duration(90 * 24 * 3600), "3 months");
        assert_eq!(human_duration(800 * 24 * 3600), "2 years");
    }
}
