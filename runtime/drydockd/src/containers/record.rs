//! What drydockd keeps of a container on disk (`<data root>/containers/<id>/config.v2.json`,
//! written atomically): its config as created, its host config, its mounts, its state.

use std::path::{Path, PathBuf};

use drydock_engine::images::ContainerConfig;
use drydock_engine::mounts::MountPlan;
use drydock_engine::timestamp::Timestamp;
use drydock_models::HostConfig;
use serde::{Deserialize, Serialize};

/// The record's file name in the container's folder.
pub const RECORD_FILE: &str = "config.v2.json";

/// A container's lifecycle state, as `docker ps` and inspect name it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Created, never started (or reset by a failed start).
    Created,
    /// Its process runs.
    Running,
    /// Its processes are frozen.
    Paused,
    /// It exited and its restart policy is starting it again.
    Restarting,
    /// It is being removed.
    Removing,
    /// It ran and exited.
    Exited,
    /// It could not be cleaned up after its exit.
    Dead,
}

impl Status {
    /// The word the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Restarting => "restarting",
            Status::Removing => "removing",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// Whether its process lives (running, paused).
    pub fn is_running(self) -> bool {
        matches!(self, Status::Running | Status::Paused)
    }
}

/// A container's state, as inspect shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct State {
    /// Where in its lifecycle it is.
    pub status: Status,
    /// Its init's pid on the host while it runs, else 0.
    pub pid: i32,
    /// The last exit code (0 before the first exit).
    pub exit_code: i32,
    /// Why the last start failed, if it did.
    pub error: String,
    /// When it last started.
    pub started_at: Option<Timestamp>,
    /// When it last exited.
    pub finished_at: Option<Timestamp>,
    /// The monitor's pid while it runs (what the exit watcher waits on).
    pub monitor_pid: i32,
    /// Whether the user stopped it (restart policies leave it stopped).
    pub manually_stopped: bool,
    /// Its health, once it started with a health check.
    #[serde(default)]
    pub health: Option<Health>,
}

/// A container's health as its checks left it (dockerd's `State.Health`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// Starting, healthy or unhealthy.
    pub status: HealthStatus,
    /// How many probes in a row failed (those of the start period not counted).
    pub failing_streak: i64,
    /// The last probe results, oldest first.
    pub log: Vec<HealthResult>,
}

/// Where a container's health stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// No probe has passed since it started.
    Starting,
    /// The last probe passed.
    Healthy,
    /// As many probes as the check's retries failed in a row, or the checks stopped.
    Unhealthy,
}

impl HealthStatus {
    /// The word the API uses.
    pub fn as_str(self) -> &'static str {
        match self {
            HealthStatus::Starting => "starting",
            HealthStatus::Healthy => "healthy",
            HealthStatus::Unhealthy => "unhealthy",
        }
    }
}

/// One probe's run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct HealthResult {
    /// When it started.
    pub start: Timestamp,
    /// When it ended.
    pub end: Timestamp,
    /// Its exit code; -1 when it timed out or could not run.
    pub exit_code: i64,
    /// Its stdout and stderr together, cut at 4096 bytes.
    pub output: String,
}

impl Default for State {
    fn default() -> Self {
        State {
            status: Status::Created,
            pid: 0,
            exit_code: 0,
            error: String::new(),
            started_at: None,
            finished_at: None,
            monitor_pid: 0,
            manually_stopped: false,
            health: None,
        }
    }
}

/// Everything drydockd knows of a container.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ContainerRecord {
    /// 64 hex digits.
    pub id: String,
    /// Its name, without the leading `/`.
    pub name: String,
    /// When it was created.
    pub created: Timestamp,
    /// The image as the user named it (`busybox`, `sha256:…`).
    pub image: String,
    /// The image's id, `sha256:<hex>`.
    pub image_id: String,
    /// The config, with the image's merged in as dockerd does at create.
    pub config: ContainerConfig,
    /// The host config as given (with Docker's defaults filled in).
    pub host_config: HostConfig,
    /// The state.
    pub state: State,
    /// How many times its restart policy restarted it.
    pub restart_count: i64,
    /// The execs started in it while it runs.
    #[serde(default)]
    pub exec_ids: Vec<String>,
    /// Its binds, volumes and tmpfs mounts, decided at create.
    #[serde(default)]
    pub mounts: MountPlan,
    /// Whether the image's content was copied into its new volumes (once, at its first start).
    #[serde(default)]
    pub volumes_populated: bool,
    /// Whether its volumes are mounted for a run not cleaned up after yet.
    #[serde(default)]
    pub volumes_mounted: bool,
}

impl ContainerRecord {
    /// The program: the entrypoint's first word, or the command's.
    pub fn path(&self) -> String {
        self.command_line().first().cloned().unwrap_or_default()
    }

    /// The program's arguments.
    pub fn args(&self) -> Vec<String> {
        self.command_line().into_iter().skip(1).collect()
    }

    /// Entrypoint then command.
    pub fn command_line(&self) -> Vec<String> {
        let mut line = self.config.entrypoint.clone().unwrap_or_default();
        line.extend(self.config.cmd.clone().unwrap_or_default());
        line
    }

    /// The record's file under `data_root`.
    pub fn file(data_root: &Path, id: &str) -> PathBuf {
        data_root.join("containers").join(id).join(RECORD_FILE)
    }

    /// The labels of its config.
    pub fn labels(&self) -> std::collections::BTreeMap<String, String> {
        self.config.labels.clone().unwrap_or_default()
    }
}
