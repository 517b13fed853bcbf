//! Health checks, as dockerd runs them: a checker per running container whose config has a
//! health check (`CMD` or `CMD-SHELL`; `NONE` disables the image's), which waits `Interval`,
//! runs the probe as an exec in the container, and folds the result into the container's
//! health (`starting` until a probe passes, `healthy` after one does, `unhealthy` after
//! `Retries` failures in a row, failures of the start period not counted), kept in its record
//! with the last five results and announced by `health_status: …` events when it changes.
//!
//! A start (and a restart by policy) resets the health to `starting`; an exit or a pause stops
//! the checker and leaves the container `unhealthy` without an event, as dockerd does; an
//! unpause, and the daemon's own start for a running container, resume the checker where the
//! record left the health.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use drydock_engine::attach::AttachRequest;
use drydock_engine::images::ContainerConfig;
use drydock_engine::oci::ExecConfig;
use drydock_engine::timestamp::Timestamp;
use drydock_runtime::frames::FrameCodec;
use drydock_runtime::server::ServerError;
use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::watch;
use tokio_util::codec::FramedRead;

use super::lifecycle::publish;
use super::record::{Health, HealthResult, HealthStatus, Status};
use super::store::Container;
use crate::daemon::Daemon;
use crate::exec::{self, ExecInstance, ExecRequest};

/// dockerd's interval between probes, and its probe timeout, when the check sets none.
const DEFAULT_PERIOD: Duration = Duration::from_secs(30);
/// How many failures in a row make a container unhealthy when the check does not say.
const DEFAULT_RETRIES: i64 = 3;
/// How many probe results the health keeps.
const LOG_ENTRIES: usize = 5;
/// How much of a probe's output is kept; more is cut and marked with `...`.
const OUTPUT_LIMIT: usize = 4096;
/// The shortest non-zero duration a check may set (dockerd's `MinimumDuration`), in ns.
const MINIMUM_DURATION_NANOS: i64 = 1_000_000;
/// The duration fields of a health check, as the API names them.
const DURATIONS: [&str; 3] = ["Interval", "Timeout", "StartPeriod"];

/// A container's health check, with dockerd's defaults in place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    /// The probe's command line (`CMD-SHELL`'s under the container's shell).
    pub command: Vec<String>,
    /// The wait before each probe.
    pub interval: Duration,
    /// How long a probe may run before it counts as failed.
    pub timeout: Duration,
    /// How long after the start failures do not count.
    pub start_period: Duration,
    /// Failures in a row that make the container unhealthy.
    pub retries: i64,
}

impl Check {
    /// The check a container's config asks for: none without a health check, for `NONE`,
    /// and for a test dockerd does not know (it logs and runs nothing).
    pub fn of(config: &ContainerConfig) -> Option<Check> {
        let check = config.healthcheck.as_ref()?;
        let test: Vec<String> = check
            .get("Test")
            .and_then(Value::as_array)?
            .iter()
            .map(|word| word.as_str().unwrap_or_default().to_owned())
            .collect();
        let (kind, arguments) = test.split_first()?;
        let command = match kind.as_str() {
            "CMD" => arguments.to_vec(),
            "CMD-SHELL" => {
                let mut shell = config
                    .shell
                    .clone()
                    .filter(|shell| !shell.is_empty())
                    .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned()]);
                shell.extend(arguments.iter().cloned());
                shell
            }
            _ => return None,
        };
        let nanos = |field: &str| check.get(field).and_then(Value::as_i64).unwrap_or(0);
        let duration = |field: &str, default: Duration| match u64::try_from(nanos(field)) {
            Ok(nanos) if nanos > 0 => Duration::from_nanos(nanos),
            _ => default,
        };
        Some(Check {
            command,
            interval: duration("Interval", DEFAULT_PERIOD),
            timeout: duration("Timeout", DEFAULT_PERIOD),
            start_period: duration("StartPeriod", Duration::ZERO),
            retries: Some(nanos("Retries"))
                .filter(|retries| *retries > 0)
                .unwrap_or(DEFAULT_RETRIES),
        })
    }
}

/// Checks a create request's health check as dockerd does and writes it as dockerd shows it:
/// the fields left at zero (or an empty `Test`) are dropped.
///
/// # Errors
///
/// 400 `Interval in Healthcheck cannot be less than 1ms` (likewise `Timeout`, `StartPeriod`)
/// for a duration that is neither zero nor 1 ms or more; 400 `Retries in Healthcheck cannot
/// be negative`.
pub fn normalise_config(config: &mut ContainerConfig) -> Result<(), ServerError> {
    let Some(Value::Object(check)) = config.healthcheck.as_mut() else {
        return Ok(());
    };
    for field in DURATIONS {
        let nanos = check.get(field).and_then(Value::as_i64).unwrap_or(0);
        if nanos != 0 && nanos < MINIMUM_DURATION_NANOS {
            return Err(ServerError::bad_request(format!(
                "{field} in Healthcheck cannot be less than 1ms"
            )));
        }
    }
    if check.get("Retries").and_then(Value::as_i64).unwrap_or(0) < 0 {
        return Err(ServerError::bad_request(
            "Retries in Healthcheck cannot be negative",
        ));
    }
    check.retain(|_, value| match value {
        Value::Null => false,
        Value::Array(test) => !test.is_empty(),
        Value::Number(number) => number.as_f64() != Some(0.0),
        _ => true,
    });
    Ok(())
}

/// The word of a container's health for `docker ps`'s `health` filter: its status, or `none`
/// when it never ran with a health check.
pub fn filter_word(health: Option<&Health>) -> &'static str {
    health.map_or("none", |health| health.status.as_str())
}

/// What `docker ps` shows after `Up …` for a running container with a health state.
pub fn status_suffix(health: &Health) -> String {
    match health.status {
        HealthStatus::Starting => " (health: starting)".to_owned(),
        other => format!(" ({})", other.as_str()),
    }
}

/// The running checkers, one per container at most.
#[derive(Default)]
pub struct Checkers {
    running: Mutex<BTreeMap<String, Checker>>,
    generations: AtomicU64,
}

/// A running checker: which one, and the channel that stops it (dropping the sender does).
struct Checker {
    generation: u64,
    _stop: watch::Sender<()>,
}

impl Checkers {
    fn map(&self) -> MutexGuard<'_, BTreeMap<String, Checker>> {
        self.running.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Registers a new checker for `id`, stopping the one before it; its generation and the
    /// receiver that tells it to stop.
    fn register(&self, id: &str) -> (u64, watch::Receiver<()>) {
        let generation = self.generations.fetch_add(1, Ordering::Relaxed);
        let (stop, stopped) = watch::channel(());
        self.map().insert(
            id.to_owned(),
            Checker {
                generation,
                _stop: stop,
            },
        );
        (generation, stopped)
    }

    /// Stops the checker of `id`; whether one ran.
    fn stop(&self, id: &str) -> bool {
        self.map().remove(id).is_some()
    }

    /// Whether `generation` is still the checker of `id`.
    fn is_current(&self, id: &str, generation: u64) -> bool {
        self.map()
            .get(id)
            .is_some_and(|checker| checker.generation == generation)
    }
}

/// Starts checking a running container's health, if its config has a check. After a start
/// (`fresh`), its health is reset to `starting` with no failures, its log kept, as dockerd's
/// is; on a resume (an unpause, the daemon's own start) the health goes on from the record.
pub fn start(daemon: &Daemon, container: &Arc<Container>, fresh: bool) {
    let record = container.snapshot();
    let Some(check) = Check::of(&record.config) else {
        return;
    };
    if record.state.status != Status::Running {
        return;
    }
    if fresh || record.state.health.is_none() {
        let reset = container.update(|record| {
            let log = record
                .state
                .health
                .take()
                .map(|health| health.log)
                .unwrap_or_default();
            record.state.health = Some(Health {
                status: HealthStatus::Starting,
                failing_streak: 0,
                log,
            });
        });
        if let Err(e) = reset {
            log::warn!(
                "container {}: cannot reset its health: {}",
                container.id,
                e.message
            );
        }
    }
    let (generation, stopped) = daemon.health.register(&container.id);
    tokio::spawn(run_checks(
        daemon.clone(),
        Arc::clone(container),
        check,
        generation,
        stopped,
    ));
}

/// Stops a container's checker (it exited, was paused or is being removed); a container
/// whose checks stop is `unhealthy` until they run again, without an event, as in dockerd.
pub fn stop(daemon: &Daemon, container: &Container) {
    if !daemon.health.stop(&container.id) {
        return;
    }
    let stopped = container.update(|record| {
        if let Some(health) = record.state.health.as_mut() {
            health.status = HealthStatus::Unhealthy;
        }
    });
    if let Err(e) = stopped {
        log::warn!(
            "container {}: cannot record that its health checks stopped: {}",
            container.id,
            e.message
        );
    }
}

/// The checker: waits the interval, probes, records, until it is stopped.
async fn run_checks(
    daemon: Daemon,
    container: Arc<Container>,
    check: Check,
    generation: u64,
    mut stopped: watch::Receiver<()>,
) {
    loop {
        tokio::select! {
            _ = stopped.changed() => return,
            () = tokio::time::sleep(check.interval) => {}
        }
        let start = Timestamp::now();
        let Some(outcome) = probe(&daemon, &container, &check, stopped.clone()).await else {
            return;
        };
        let result = HealthResult {
            start,
            end: Timestamp::now(),
            exit_code: outcome.exit_code,
            output: outcome.output,
        };
        record_result(&daemon, &container, &check, generation, result);
    }
}

/// What one probe gave.
struct Outcome {
    exit_code: i64,
    output: String,
}

/// How a probe's wait ended.
enum Ended {
    Exited,
    TimedOut,
    Stopped,
}

/// Runs the probe as an exec in the container; `None` when the checker was stopped first
/// (the probe is then killed and forgotten on its own).
async fn probe(
    daemon: &Daemon,
    container: &Container,
    check: &Check,
    mut stopped: watch::Receiver<()>,
) -> Option<Outcome> {
    let deadline = tokio::time::Instant::now() + check.timeout;
    let user = container.lock().config.user.clone();
    let request = ExecRequest {
        config: ExecConfig {
            cmd: check.command.clone(),
            user,
            ..ExecConfig::default()
        },
        attach_stdin: false,
        attach_stdout: true,
        attach_stderr: true,
        detach_keys: None,
    };
    let failed = |message: String| Outcome {
        exit_code: -1,
        output: message,
    };
    let exec = match exec::create(daemon, &container.id, request) {
        Ok(exec) => exec,
        Err(e) => return Some(failed(e.message)),
    };
    let running = match exec::start(daemon, &exec, false, 1).await {
        Ok(running) => running,
        Err(message) => {
            forget(daemon, &exec);
            return Some(failed(message));
        }
    };
    let output = tokio::spawn(read_output(exec.id.clone()));
    let mut exited = running.exited;
    let ended = tokio::select! {
        _ = &mut exited => Ended::Exited,
        () = tokio::time::sleep_until(deadline) => Ended::TimedOut,
        _ = stopped.changed() => Ended::Stopped,
    };
    match ended {
        Ended::Exited => {
            let output = output.await.unwrap_or_default();
            let exit_code = daemon
                .execs
                .get(&exec.id)
                .ok()
                .and_then(|exec| exec.exit_code)
                .unwrap_or(exec::EXEC_START_FAILED);
            forget(daemon, &exec);
            Some(Outcome { exit_code, output })
        }
        Ended::TimedOut => {
            kill(daemon, &exec);
            // Its exit (and `exec_die`) before the result, as in dockerd.
            let _ = exited.await;
            forget(daemon, &exec);
            Some(failed(format!(
                "Health check exceeded timeout ({})",
                go_duration(check.timeout)
            )))
        }
        Ended::Stopped => {
            kill(daemon, &exec);
            let daemon = daemon.clone();
            tokio::spawn(async move {
                let _ = exited.await;
                forget(&daemon, &exec);
            });
            None
        }
    }
}

/// Reads a probe's stdout and stderr together from its attach socket until it exits, keeping
/// the first [`OUTPUT_LIMIT`] bytes (and `...` after them when there was more). It reads
/// without holding a thread, so a probe still running when the daemon stops does not keep it
/// from stopping.
async fn read_output(exec_id: String) -> String {
    let request = AttachRequest {
        stdin: false,
        stdout: true,
        stderr: true,
    };
    let mut kept = Vec::new();
    let mut cut = false;
    if let Some(socket) = super::streams::connect(&exec_id, request).await {
        let mut frames = FramedRead::new(socket, FrameCodec::new());
        while let Some(Ok(frame)) = frames.next().await {
            let room = OUTPUT_LIMIT - kept.len();
            kept.extend_from_slice(&frame.payload[..frame.payload.len().min(room)]);
            cut |= frame.payload.len() > room;
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if cut {
        text.push_str("...");
    }
    text
}

/// Kills a probe that is still running.
fn kill(daemon: &Daemon, exec: &ExecInstance) {
    if let Ok(exec) = daemon.execs.get(&exec.id)
        && exec.running
        && exec.pid > 0
    {
        // SAFETY: kill(2) has no memory-safety preconditions; the pid is the probe's, whose
        // monitor has not reaped it yet (`running` is cleared only after that).
        unsafe { libc::kill(exec.pid, libc::SIGKILL) };
    }
}

/// Forgets a finished probe: nobody inspects it, so neither the exec store nor the engine's
/// state folder keeps it.
fn forget(daemon: &Daemon, exec: &ExecInstance) {
    daemon.execs.forget(&exec.id);
    let engine = daemon.clone();
    let (container_id, exec_id) = (exec.container_id.clone(), exec.id.clone());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = engine.runtime.remove_exec(&container_id, &exec_id) {
            log::debug!("health probe {exec_id}: {e}");
        }
    });
}

/// Folds a probe's result into the container's health, unless its checker was stopped
/// meanwhile, and announces a change of status.
fn record_result(
    daemon: &Daemon,
    container: &Container,
    check: &Check,
    generation: u64,
    result: HealthResult,
) {
    let changed = container.update(|record| {
        // Under the record's lock, so a stop either comes first (and this result is dropped)
        // or after (and its `unhealthy` stands).
        if !daemon.health.is_current(&record.id, generation) {
            return None;
        }
        let started = record.state.started_at;
        let health = record.state.health.as_mut()?;
        let before = health.status;
        fold(health, result, check, started);
        (health.status != before).then_some(health.status)
    });
    match changed {
        Ok(Some(status)) => publish(
            daemon,
            &container.snapshot(),
            &format!("health_status: {}", status.as_str()),
            &[],
        ),
        Ok(None) => {}
        Err(e) => log::warn!(
            "container {}: cannot record a health probe: {}",
            container.id,
            e.message
        ),
    }
}

/// dockerd's rules: a pass makes the container healthy and ends the streak; a failure adds
/// to it (except while the container is still starting within the start period), and
/// `retries` failures in a row make it unhealthy. The log keeps the last results.
fn fold(health: &mut Health, result: HealthResult, check: &Check, started: Option<Timestamp>) {
    let passed = result.exit_code == 0;
    let in_start_period = started.is_some_and(|started| {
        result.start.unix_nanos() - started.unix_nanos() < check.start_period.as_nanos() as i128
    });
    if health.log.len() >= LOG_ENTRIES {
        health.log.drain(..=health.log.len() - LOG_ENTRIES);
    }
    health.log.push(result);
    if passed {
        health.failing_streak = 0;
        health.status = HealthStatus::Healthy;
    } else if !(health.status == HealthStatus::Starting && in_start_period) {
        health.failing_streak += 1;
        if health.failing_streak >= check.retries {
            health.status = HealthStatus::Unhealthy;
        }
    }
}

/// A duration as Go prints a `time.Duration` (`500ms`, `1s`, `1.5s`, `2m0s`), as dockerd's
/// timeout message shows the check's timeout.
pub fn go_duration(duration: Duration) -> String {
    let nanos = duration.as_nanos();
    let decimal = |value: u128, unit: u128, digits: usize| {
        let (whole, rest) = (value / unit, value % unit);
        if rest == 0 {
            whole.to_string()
        } else {
            let fraction = format!("{rest:0digits$}");
            format!("{whole}.{}", fraction.trim_end_matches('0'))
        }
    };
    match nanos {
        0 => "0s".to_owned(),
        1..1_000 => format!("{nanos}ns"),
        1_000..1_000_000 => format!("{}µs", decimal(nanos, 1_000, 3)),
        1_000_000..1_000_000_000 => format!("{}ms", decimal(nanos, 1_000_000, 6)),
        _ => {
            let seconds = nanos / 1_000_000_000;
            let (hours, minutes) = (seconds / 3600, seconds / 60 % 60);
            let seconds = decimal(nanos % 60_000_000_000, 1_000_000_000, 9);
            match (hours, minutes) {
                (0, 0) => format!("{seconds}s"),
                (0, _) => format!("{minutes}m{seconds}s"),
                _ => format!("{hours}h{minutes}m{seconds}s"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(check: Value) -> ContainerConfig {
        ContainerConfig {
            healthcheck: Some(check),
            ..ContainerConfig::default()
        }
    }

    fn result(exit_code: i64, start: Timestamp) -> HealthResult {
        HealthResult {
            start,
            end: start,
            exit_code,
            output: String::new(),
        }
    }

    #[test]
    fn checks_take_dockerds_defaults_and_run_cmd_shell_under_the_shell() {
        let check = Check::of(&config(
            serde_json::json!({"Test": ["CMD-SHELL", "exit 1"]}),
        ))
        .expect("a check");
        assert_eq!(check.command, ["/bin/sh", "-c", "exit 1"]);
        assert_eq!(check.interval, Duration::from_secs(30));
        assert_eq!(check.timeout, Duration::from_secs(30));
        assert_eq!(check.start_period, Duration::ZERO);
        assert_eq!(check.retries, 3);
        let exec = Check::of(&config(serde_json::json!({
            "Test": ["CMD", "cat", "/etc/hostname"], "Interval": 100_000_000, "Retries": 1
        })))
        .expect("a check");
        assert_eq!(exec.command, ["cat", "/etc/hostname"]);
        assert_eq!(exec.interval, Duration::from_millis(100));
        assert_eq!(exec.retries, 1);
        let mut shelled = config(serde_json::json!({"Test": ["CMD-SHELL", "true"]}));
        shelled.shell = Some(vec!["/bin/ash".to_owned(), "-c".to_owned()]);
        assert_eq!(
            Check::of(&shelled).map(|c| c.command),
            Some(vec![
                "/bin/ash".to_owned(),
                "-c".to_owned(),
                "true".to_owned()
            ])
        );
    }

    #[test]
    fn none_an_empty_test_and_unknown_kinds_check_nothing() {
        assert_eq!(Check::of(&ContainerConfig::default()), None);
        assert_eq!(
            Check::of(&config(serde_json::json!({"Test": ["NONE"]}))),
            None
        );
        assert_eq!(Check::of(&config(serde_json::json!({"Test": []}))), None);
        assert_eq!(
            Check::of(&config(serde_json::json!({"Test": ["HTTP", "/"]}))),
            None
        );
    }

    #[test]
    fn create_refuses_durations_under_a_millisecond_and_negative_retries() {
        for (check, message) in [
            (
                serde_json::json!({"Interval": 999_999}),
                "Interval in Healthcheck cannot be less than 1ms",
            ),
            (
                serde_json::json!({"Timeout": -5}),
                "Timeout in Healthcheck cannot be less than 1ms",
            ),
            (
                serde_json::json!({"StartPeriod": 5}),
                "StartPeriod in Healthcheck cannot be less than 1ms",
            ),
            (
                serde_json::json!({"Retries": -1}),
                "Retries in Healthcheck cannot be negative",
            ),
        ] {
            let refused = normalise_config(&mut config(check)).expect_err("refused");
            assert_eq!(refused.message, message);
        }
        let mut kept = config(serde_json::json!({
            "Test": ["CMD", "true"], "Interval": 1_000_000, "Timeout": 0, "Retries": 0
        }));
        normalise_config(&mut kept).expect("valid");
        assert_eq!(
            kept.healthcheck,
            Some(serde_json::json!({"Test": ["CMD", "true"], "Interval": 1_000_000}))
        );
    }

    #[test]
    fn failures_make_a_container_unhealthy_after_the_retries_and_a_pass_heals_it() {
        let check = Check::of(&config(
            serde_json::json!({"Test": ["CMD", "x"], "Retries": 2}),
        ))
        .expect("a check");
        let mut health = Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
        };
        let now = Timestamp::now();
        fold(&mut health, result(1, now), &check, Some(now));
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Starting, 1)
        );
        fold(&mut health, result(1, now), &check, Some(now));
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Unhealthy, 2)
        );
        fold(&mut health, result(0, now), &check, Some(now));
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Healthy, 0)
        );
        for _ in 0..4 {
            fold(&mut health, result(3, now), &check, Some(now));
        }
        assert_eq!(health.log.len(), 5);
        assert_eq!(health.log[0].exit_code, 0);
        assert_eq!(health.log[4].exit_code, 3);
        assert_eq!(health.failing_streak, 4);
    }

    #[test]
    fn failures_in_the_start_period_do_not_count_while_starting() {
        let check = Check::of(&config(serde_json::json!({
            "Test": ["CMD", "x"], "Retries": 1, "StartPeriod": 60_000_000_000_i64
        })))
        .expect("a check");
        let started = Timestamp::from_unix(1000, 0);
        let mut health = Health {
            status: HealthStatus::Starting,
            failing_streak: 0,
            log: Vec::new(),
        };
        fold(
            &mut health,
            result(1, Timestamp::from_unix(1010, 0)),
            &check,
            Some(started),
        );
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Starting, 0)
        );
        fold(
            &mut health,
            result(1, Timestamp::from_unix(1061, 0)),
            &check,
            Some(started),
        );
        assert_eq!(
            (health.status, health.failing_streak),
            (HealthStatus::Unhealthy, 1)
        );
        // Once healthy, a failure counts even within the start period.
        let mut healthy = Health {
            status: HealthStatus::Healthy,
            failing_streak: 0,
            log: Vec::new(),
        };
        fold(
            &mut healthy,
            result(1, Timestamp::from_unix(1010, 0)),
            &check,
            Some(started),
        );
        assert_eq!(healthy.status, HealthStatus::Unhealthy);
    }

    #[test]
    fn durations_print_as_go_prints_them() {
        assert_eq!(go_duration(Duration::from_millis(500)), "500ms");
        assert_eq!(go_duration(Duration::from_secs(1)), "1s");
        assert_eq!(go_duration(Duration::from_millis(1500)), "1.5s");
        assert_eq!(go_duration(Duration::from_secs(30)), "30s");
        assert_eq!(go_duration(Duration::from_secs(120)), "2m0s");
        assert_eq!(go_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(go_duration(Duration::from_micros(1500)), "1.5ms");
        assert_eq!(go_duration(Duration::from_nanos(1500)), "1.5µs");
        assert_eq!(go_duration(Duration::from_nanos(15)), "15ns");
    }

    #[test]
    fn ps_shows_the_health_after_up_and_filters_know_none() {
        let health = |status| Health {
            status,
            failing_streak: 0,
            log: Vec::new(),
        };
        assert_eq!(
            status_suffix(&health(HealthStatus::Starting)),
            " (health: starting)"
        );
        assert_eq!(status_suffix(&health(HealthStatus::Healthy)), " (healthy)");
        assert_eq!(
            status_suffix(&health(HealthStatus::Unhealthy)),
            " (unhealthy)"
        );
        assert_eq!(filter_word(None), "none");
        assert_eq!(filter_word(Some(&health(HealthStatus::Healthy))), "healthy");
    }
}
