//! Starting, stopping, killing, restarting, pausing, waiting for and removing containers;
//! watching their exits and applying restart policies and `AutoRemove`.

use std::collections::BTreeMap;
use std::os::fd::{FromRawFd, OwnedFd};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use drydock_engine::containers::ContainerState;
use drydock_engine::digest::Digest;
use drydock_engine::oci::{HostSettings, NetworkNamespace};
use drydock_engine::timestamp::Timestamp;
use drydock_runtime::server::ServerError;
use tokio::io::unix::AsyncFd;

use super::mounts;
use super::record::{ContainerRecord, Status};
use super::store::Container;
use crate::daemon::Daemon;
use crate::errors::blocking;

/// How long `stop` waits after the stop signal by default (Docker's 10 seconds).
pub const DEFAULT_STOP_TIMEOUT: i64 = 10;

/// Restarts by policy wait this long at first, doubling each time (as dockerd does).
const RESTART_BACKOFF_START: Duration = Duration::from_millis(100);
/// ... up to this.
const RESTART_BACKOFF_MAX: Duration = Duration::from_secs(60);

/// The attributes of a container's events: its name, image and labels.
pub fn event_attributes(record: &ContainerRecord) -> BTreeMap<String, String> {
    let mut attributes = record.labels();
    attributes.insert("name".to_owned(), record.name.clone());
    attributes.insert("image".to_owned(), record.image.clone());
    attributes
}

/// Publishes a container event.
pub fn publish(daemon: &Daemon, record: &ContainerRecord, action: &str, extra: &[(&str, String)]) {
    let mut attributes = event_attributes(record);
    for (key, value) in extra {
        attributes.insert((*key).to_owned(), value.clone());
    }
    daemon
        .events
        .publish("container", action, record.id.clone(), attributes);
}

/// What the host gives the container, from its host config.
fn host_settings(daemon: &Daemon, record: &ContainerRecord) -> Result<HostSettings, ServerError> {
    let host = &record.host_config;
    let network = match host.network_mode.as_deref().unwrap_or("default") {
        "host" => NetworkNamespace::Host,
        _ => NetworkNamespace::New,
    };
    let init = if host.init == Some(true) {
        Some(daemon.init.clone().ok_or_else(|| {
            ServerError::internal(format!(
                "--init needs {} on the daemon's PATH (install tini, whose tini-static is \
                 used, or give --init-path)",
                daemon.options.init_path
            ))
        })?)
    } else {
        None
    };
    Ok(HostSettings {
        mounts: Vec::new(),
        network,
        init,
        readonly_rootfs: host.readonly_rootfs == Some(true),
        resources: resources(host),
    })
}

/// The cgroup limits of a host config, as dockerd applies them at start: zero means unset,
/// and a memory limit without a swap limit allows as much swap again (swap = 2 x memory).
fn resources(host: &drydock_models::HostConfig) -> drydock_engine::cgroups::ResourceUpdate {
    let set = |value: Option<i64>| value.filter(|v| *v != 0);
    let memory = set(host.memory);
    let memory_swap = set(host.memory_swap).or(memory.map(|m| m.saturating_mul(2)));
    drydock_engine::cgroups::ResourceUpdate {
        memory,
        memory_swap,
        memory_reservation: set(host.memory_reservation),
        cpu_shares: set(host.cpu_shares),
        cpu_quota: set(host.cpu_quota),
        cpu_period: set(host.cpu_period),
        cpuset_cpus: host.cpuset_cpus.clone().filter(|c| !c.is_empty()),
        cpuset_mems: host.cpuset_mems.clone().filter(|m| !m.is_empty()),
        pids_limit: set(host.pids_limit).filter(|limit| *limit > 0),
    }
}

/// Starts a created or exited container: mounts its root filesystem, runs it under a
/// monitor (holding its output for the attaches waiting), and watches its exit.
///
/// # Errors
///
/// 304 when it already runs; 409 when paused; 400 with the runtime's message when the
/// runtime cannot start it (its state then records the error and exit code 127 or 126, as
/// dockerd's does).
pub async fn start(daemon: &Daemon, container: &Arc<Container>) -> Result<(), ServerError> {
    let _operation = container.operation.lock().await;
    start_locked(daemon, container).await
}

async fn start_locked(daemon: &Daemon, container: &Arc<Container>) -> Result<(), ServerError> {
    let record = container.snapshot();
    match record.state.status {
        Status::Running => return Err(ServerError::not_modified("container already started")),
        Status::Paused => {
            return Err(ServerError::conflict(
                "cannot start a paused container, try unpause instead",
            ));
        }
        Status::Removing | Status::Dead => {
            return Err(ServerError::conflict(format!(
                "container {} is marked for removal and cannot be started",
                record.id
            )));
        }
        _ => {}
    }
    let image = Digest::parse(&record.image_id)
        .ok_or_else(|| ServerError::internal(format!("bad image id {}", record.image_id)))?;
    let mut host = host_settings(daemon, &record)?;
    // On its network before it runs: its namespace for runc, its address for /etc/hosts.
    let (attachment, network) = super::network::attach(daemon, &record).await?;
    host.network = attachment.namespace();
    let attaches = container.pending_attaches.swap(0, Ordering::SeqCst);
    let launched = async {
        let engine = daemon.clone();
        let ready = Arc::clone(container);
        let (layers, host) = blocking(move || {
            let layers = engine.images.layer_paths(&image)?;
            let mut host = host;
            mounts::mounts_for_start(&engine, &ready, &layers, &network, &mut host)?;
            Ok((layers, host))
        })
        .await?;
        mounts::publish_mounted(daemon, &record);
        let engine = daemon.clone();
        let id = record.id.clone();
        let config = record.config.clone();
        blocking(move || engine.runtime.start(&id, &layers, &config, &host, attaches)).await
    }
    .await;
    if launched.is_err() {
        mounts::unmount_after_exit(daemon, container).await;
        super::network::detach(daemon, &record.id).await;
    }
    match launched {
        Ok(launched) => {
            container.update_running_state(|record| {
                record.state.status = Status::Running;
                record.state.pid = launched.pid;
                record.state.monitor_pid = launched.monitor_pid;
                record.state.started_at = Some(Timestamp::now());
                record.state.error.clear();
                record.state.manually_stopped = false;
            })?;
            publish(daemon, &container.snapshot(), "start", &[]);
            watch_exit(daemon.clone(), Arc::clone(container), launched.monitor_pid);
            super::health::start(daemon, container, true);
            Ok(())
        }
        Err(error) => {
            let message = runtime_failure_text(&error.message);
            let code = if message.contains("not found") || message.contains("no such file") {
                127
            } else {
                126
            };
            // Waiters for its exit (`docker run` waits before it starts) get the failure as
            // one, as dockerd records a failed start as an exit with 126 or 127.
            container.exits.fetch_add(1, Ordering::SeqCst);
            container.update(|record| {
                record.state.error.clone_from(&message);
                record.state.exit_code = code;
                record.state.finished_at = Some(Timestamp::now());
                if record.state.status != Status::Exited {
                    record.state.status = Status::Created;
                }
            })?;
            if record.host_config.auto_remove == Some(true) {
                let daemon = daemon.clone();
                let container = Arc::clone(container);
                tokio::spawn(async move {
                    if let Err(e) = remove(&daemon, &container, true, true).await {
                        log::warn!(
                            "container {}: auto-remove after a failed start: {}",
                            container.id,
                            e.message
                        );
                    }
                });
            }
            Err(ServerError::bad_request(message))
        }
    }
}

/// A failed start as dockerd words it: runc's own message (`runc create failed: unable to
/// start container process: exec: ...`) inside `failed to create shim task: OCI runtime
/// create failed: ...: unknown`; other failures as they are.
fn runtime_failure_text(message: &str) -> String {
    for step in ["create", "start"] {
        let marker = format!("runc {step} failed:");
        if let Some(at) = message.find(&marker) {
            return format!(
                "failed to create shim task: OCI runtime {step} failed: {}: unknown",
                &message[at..]
            );
        }
    }
    message.to_owned()
}

/// Waits (without blocking a thread) for the monitor `pid` to exit, then records the
/// container's exit and applies `AutoRemove` or its restart policy.
pub fn watch_exit(daemon: Daemon, container: Arc<Container>, monitor_pid: i32) {
    tokio::spawn(async move {
        wait_for_process(monitor_pid).await;
        let id = container.id.clone();
        let engine = daemon.clone();
        let state = blocking(move || engine.runtime.state(&id)).await;
        let (exit_code, finished_at) = match state {
            Ok(ContainerState::Exited(exit)) => (exit.exit_code, exit.finished_at),
            Ok(ContainerState::Running { .. }) => return,
            _ => (255, Timestamp::now()),
        };
        on_exit(&daemon, &container, exit_code, finished_at).await;
    });
}

/// Resolves once the process `pid` has exited (at once when it is gone already).
pub async fn wait_for_process(pid: i32) {
    if pid <= 0 {
        return;
    }
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    let Ok(fd) = i32::try_from(fd) else { return };
    if fd < 0 {
        return;
    }
    // SAFETY: pidfd_open returned a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: the OwnedFd keeps its descriptor open and unchanged for as long as the
    // AsyncFd that owns it lives.
    match unsafe { AsyncFd::register_with_interest(fd, tokio::io::Interest::READABLE) } {
        Ok(fd) => {
            let _ = fd.readable().await;
        }
        Err(_) => {
            // Without the reactor's help, poll.
            while std::path::Path::new(&format!("/proc/{pid}")).exists() {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// Records an exit, publishes `die`, then removes the container (`AutoRemove`) or restarts
/// it (restart policy).
async fn on_exit(
    daemon: &Daemon,
    container: &Arc<Container>,
    exit_code: i32,
    finished_at: Timestamp,
) {
    super::health::stop(daemon, container);
    // Before the exit is recorded (as dockerd cleans up before `die`), so a start that waits
    // for it never has its volumes unmounted under it.
    mounts::unmount_after_exit(daemon, container).await;
    super::network::detach(daemon, &container.id).await;
    container.exits.fetch_add(1, Ordering::SeqCst);
    // A container removed meanwhile (`rm -f` kills, then removes) has no record to update.
    let removed = !daemon.containers.contains(&container.id);
    let recorded = if removed {
        Ok(())
    } else {
        container.update_running_state(|record| {
            record.state.status = Status::Exited;
            record.state.exit_code = exit_code;
            record.state.finished_at = Some(finished_at);
            record.state.pid = 0;
            record.state.monitor_pid = 0;
            record.exec_ids.clear();
        })
    };
    if let Err(e) = recorded {
        log::error!(
            "container {}: cannot record its exit: {}",
            container.id,
            e.message
        );
    }
    let record = container.snapshot();
    publish(
        daemon,
        &record,
        "die",
        &[("exitCode", exit_code.to_string())],
    );
    if record.host_config.auto_remove == Some(true) {
        // dockerd's auto-removal is `docker rm -fv`: anonymous volumes go too.
        if let Err(e) = remove(daemon, container, true, true).await {
            log::error!(
                "container {}: auto-remove failed: {}",
                container.id,
                e.message
            );
        }
        return;
    }
    if should_restart(&record) {
        let daemon = daemon.clone();
        let container = Arc::clone(container);
        tokio::spawn(async move { restart_by_policy(daemon, container).await });
    }
}

/// Whether the restart policy asks for another run after this exit.
fn should_restart(record: &ContainerRecord) -> bool {
    if record.state.manually_stopped {
        return false;
    }
    let Some(policy) = &record.host_config.restart_policy else {
        return false;
    };
    let name = policy
        .name
        .as_ref()
        .map(|n| n.as_str().to_owned())
        .unwrap_or_default();
    match name.as_str() {
        "always" | "unless-stopped" => true,
        "on-failure" => {
            let max = policy.maximum_retry_count.unwrap_or(0);
            record.state.exit_code != 0 && (max == 0 || record.restart_count < max)
        }
        _ => false,
    }
}

/// Waits the policy's back-off, then starts the container again unless it was stopped,
/// removed or started meanwhile.
async fn restart_by_policy(daemon: Daemon, container: Arc<Container>) {
    let count = container.snapshot().restart_count;
    let ran_long = container
        .snapshot()
        .state
        .started_at
        .zip(container.snapshot().state.finished_at)
        .is_some_and(|(start, end)| end.unix_seconds() - start.unix_seconds() >= 10);
    let exponent = if ran_long {
        0
    } else {
        u32::try_from(count.min(10)).unwrap_or(10)
    };
    let delay = (RESTART_BACKOFF_START * 2_u32.pow(exponent)).min(RESTART_BACKOFF_MAX);
    let _ = container.update(|record| record.state.status = Status::Restarting);
    tokio::time::sleep(delay).await;
    let _operation = container.operation.lock().await;
    let record = container.snapshot();
    if !daemon.containers.contains(&container.id)
        || record.state.manually_stopped
        || record.state.status != Status::Restarting
    {
        return;
    }
    let _ = container.update(|record| {
        record.state.status = Status::Exited;
        record.restart_count += 1;
    });
    if let Err(e) = start_locked(&daemon, &container).await {
        log::warn!("container {}: restart failed: {}", container.id, e.message);
    } else {
        publish(&daemon, &container.snapshot(), "restart", &[]);
    }
}

/// Parses a signal as Docker accepts it: a number, or a name with or without `SIG`.
///
/// # Errors
///
/// 400 `Invalid signal: X`.
pub fn parse_signal(text: &str) -> Result<i32, ServerError> {
    if let Ok(number) = text.parse::<i32>()
        && (1..=64).contains(&number)
    {
        return Ok(number);
    }
    let name = text
        .trim_start_matches("SIG")
        .trim_start_matches("sig")
        .to_ascii_uppercase();
    let signal = match name.as_str() {
        "HUP" => libc::SIGHUP,
        "INT" => libc::SIGINT,
        "QUIT" => libc::SIGQUIT,
        "ILL" => libc::SIGILL,
        "TRAP" => libc::SIGTRAP,
        "ABRT" | "IOT" => libc::SIGABRT,
        "BUS" => libc::SIGBUS,
        "FPE" => libc::SIGFPE,
        "KILL" => libc::SIGKILL,
        "USR1" => libc::SIGUSR1,
        "SEGV" => libc::SIGSEGV,
        "USR2" => libc::SIGUSR2,
        "PIPE" => libc::SIGPIPE,
        "ALRM" => libc::SIGALRM,
        "TERM" => libc::SIGTERM,
        "STKFLT" => libc::SIGSTKFLT,
        "CHLD" => libc::SIGCHLD,
        "CONT" => libc::SIGCONT,
        "STOP" => libc::SIGSTOP,
        "TSTP" => libc::SIGTSTP,
        "TTIN" => libc::SIGTTIN,
        "TTOU" => libc::SIGTTOU,
        "URG" => libc::SIGURG,
        "XCPU" => libc::SIGXCPU,
        "XFSZ" => libc::SIGXFSZ,
        "VTALRM" => libc::SIGVTALRM,
        "PROF" => libc::SIGPROF,
        "WINCH" => libc::SIGWINCH,
        "IO" | "POLL" => libc::SIGIO,
        "PWR" => libc::SIGPWR,
        "SYS" => libc::SIGSYS,
        _ => return Err(ServerError::bad_request(format!("Invalid signal: {text}"))),
    };
    Ok(signal)
}

/// Sends a signal to a running container.
///
/// # Errors
///
/// 409 `Container <id> is not running`; 400 for a bad signal.
pub async fn kill(
    daemon: &Daemon,
    container: &Arc<Container>,
    signal: i32,
) -> Result<(), ServerError> {
    let record = container.snapshot();
    if !record.state.status.is_running() {
        return Err(ServerError::conflict(format!(
            "Container {} is not running",
            record.id
        )));
    }
    if signal == libc::SIGKILL && record.state.status == Status::Paused {
        // A paused container cannot die until thawed; restart policies ignore a user's kill -9
        // only when it is a stop.
        let id = record.id.clone();
        let engine = daemon.clone();
        let _ = blocking(move || engine.runtime.runc().resume(&id)).await;
    }
    let id = record.id.clone();
    let engine = daemon.clone();
    blocking(move || engine.runtime.kill(&id, signal)).await?;
    publish(daemon, &record, "kill", &[("signal", signal.to_string())]);
    Ok(())
}

/// Waits until the container no longer runs, at most `timeout`; whether it stopped.
async fn wait_not_running(container: &Container, timeout: Duration) -> bool {
    let mut changes = container.subscribe();
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if !container.lock().state.status.is_running() {
            return true;
        }
        match tokio::time::timeout_at(deadline, changes.changed()).await {
            Ok(Ok(())) => {}
            Ok(Err(_)) => return true,
            Err(_) => return !container.lock().state.status.is_running(),
        }
    }
}

/// Stops a running container as `docker stop` does: its stop signal, then SIGKILL after
/// `timeout` seconds. It is marked stopped by the user, so restart policies leave it.
///
/// # Errors
///
/// 304 when it does not run.
pub async fn stop(
    daemon: &Daemon,
    container: &Arc<Container>,
    timeout: Option<i64>,
) -> Result<(), ServerError> {
    let _operation = container.operation.lock().await;
    stop_locked(daemon, container, timeout).await
}

async fn stop_locked(
    daemon: &Daemon,
    container: &Arc<Container>,
    timeout: Option<i64>,
) -> Result<(), ServerError> {
    let record = container.snapshot();
    if record.state.status == Status::Restarting {
        container.update(|record| {
            record.state.manually_stopped = true;
            record.state.status = Status::Exited;
        })?;
        publish(daemon, &record, "stop", &[]);
        return Ok(());
    }
    if !record.state.status.is_running() {
        return Err(ServerError::not_modified("container already stopped"));
    }
    container.update(|record| record.state.manually_stopped = true)?;
    let signal = match record.config.stop_signal.as_str() {
        "" => libc::SIGTERM,
        name => parse_signal(name).unwrap_or(libc::SIGTERM),
    };
    let seconds = timeout
        .or(record.config.stop_timeout)
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    if record.state.status == Status::Paused && signal != libc::SIGKILL {
        // A frozen process sees no signal: dockerd sends it, and the kill after the timeout
        // thaws it.
    }
    let _ = kill(daemon, container, signal).await;
    let grace = Duration::from_secs(u64::try_from(seconds).unwrap_or(0));
    if seconds < 0 {
        wait_not_running(container, Duration::from_secs(u64::MAX / 4)).await;
    } else if !wait_not_running(container, grace).await {
        let _ = kill(daemon, container, libc::SIGKILL).await;
        wait_not_running(container, Duration::from_secs(30)).await;
    }
    publish(daemon, &container.snapshot(), "stop", &[]);
    Ok(())
}

/// Stops (when running) and starts the container again.
///
/// # Errors
///
/// What start reports.
pub async fn restart(
    daemon: &Daemon,
    container: &Arc<Container>,
    timeout: Option<i64>,
) -> Result<(), ServerError> {
    let _operation = container.operation.lock().await;
    if container.snapshot().state.status.is_running() {
        stop_locked(daemon, container, timeout).await?;
    }
    start_locked(daemon, container).await?;
    publish(daemon, &container.snapshot(), "restart", &[]);
    Ok(())
}

/// Freezes or thaws a running container.
///
/// # Errors
///
/// 409 when it is not running, or already in that state.
pub async fn set_paused(
    daemon: &Daemon,
    container: &Arc<Container>,
    paused: bool,
) -> Result<(), ServerError> {
    let record = container.snapshot();
    let id = record.id.clone();
    let engine = daemon.clone();
    if paused {
        if record.state.status == Status::Paused {
            return Err(ServerError::conflict(format!(
                "Container {id} is already paused"
            )));
        }
        if record.state.status != Status::Running {
            return Err(ServerError::conflict(format!(
                "Container {id} is not running"
            )));
        }
        blocking(move || engine.runtime.pause(&id)).await?;
    } else {
        if record.state.status != Status::Paused {
            return Err(ServerError::conflict(format!(
                "Container {id} is not paused"
            )));
        }
        blocking(move || engine.runtime.unpause(&id)).await?;
    }
    container.update(|record| {
        if record.state.status.is_running() {
            record.state.status = if paused {
                Status::Paused
            } else {
                Status::Running
            };
        }
    })?;
    // A paused container is not checked; its checks go on where they were at the unpause.
    if paused {
        super::health::stop(daemon, container);
    } else {
        super::health::start(daemon, container, false);
    }
    publish(
        daemon,
        &record,
        if paused { "pause" } else { "unpause" },
        &[],
    );
    Ok(())
}

/// Removes a container; a running one only with `force` (killed first). Its references on
/// its volumes are dropped; with `volumes` (`docker rm -v`) its anonymous volumes go too.
///
/// # Errors
///
/// 409 for a running container without `force`, or one being removed already.
pub async fn remove(
    daemon: &Daemon,
    container: &Arc<Container>,
    force: bool,
    volumes: bool,
) -> Result<(), ServerError> {
    let record = container.snapshot();
    if record.state.status == Status::Removing {
        return Err(ServerError::conflict(format!(
            "removal of container {} is already in progress",
            record.id
        )));
    }
    if record.state.status.is_running() && !force {
        let what = if record.state.status == Status::Paused {
            "You cannot remove a paused container"
        } else {
            "You cannot remove a running container"
        };
        return Err(ServerError::conflict(format!(
            "{what} {}. Stop the container before attempting removal or force remove",
            record.id
        )));
    }
    super::health::stop(daemon, container);
    container.update_running_state(|record| {
        record.state.manually_stopped = true;
        if !record.state.status.is_running() {
            record.state.status = Status::Removing;
        }
    })?;
    // Its exit, recorded while it is killed, must not write into the folder being removed.
    container.begin_removal();
    let id = record.id.clone();
    let engine = daemon.clone();
    let removed = blocking(move || engine.runtime.remove(&id, true)).await;
    if let Err(e) = removed {
        container.abort_removal();
        let _ = container.update(|record| record.state.status = Status::Dead);
        return Err(e);
    }
    // A container killed to be removed may not have been cleaned up after yet.
    mounts::unmount_after_exit(daemon, container).await;
    mounts::release(daemon, &record, volumes).await;
    super::network::detach(daemon, &record.id).await;
    daemon.containers.forget(&record.id);
    daemon.execs.forget_container(&record.id);
    publish(daemon, &record, "destroy", &[]);
    Ok(())
}

/// When the daemon opens: unmounts the volumes of containers that exited while it was away,
/// watches the exits of running containers, and starts the ones
/// whose restart policy says so (`always`, `unless-stopped` unless stopped by the user, and
/// `on-failure` after a failure), as dockerd does on its start.
pub async fn resume(daemon: &Daemon) {
    for container in daemon.containers.all() {
        let record = container.snapshot();
        if !record.state.status.is_running() && record.volumes_mounted {
            // It exited while the daemon was away.
            mounts::unmount_after_exit(daemon, &container).await;
        }
        match record.state.status {
            Status::Running | Status::Paused => {
                watch_exit(
                    daemon.clone(),
                    Arc::clone(&container),
                    record.state.monitor_pid,
                );
                // A running container's checks go on where the record left its health.
                super::health::start(daemon, &container, false);
            }
            Status::Exited | Status::Restarting
                if should_restart(&record) || (record.state.status == Status::Restarting) =>
            {
                let policy = record
                    .host_config
                    .restart_policy
                    .as_ref()
                    .and_then(|p| p.name.as_ref())
                    .map(|n| n.as_str().to_owned())
                    .unwrap_or_default();
                if policy == "always" || policy == "unless-stopped" || policy == "on-failure" {
                    let daemon = daemon.clone();
                    tokio::spawn(async move {
                        if let Err(e) = start(&daemon, &container).await {
                            log::warn!(
                                "container {}: restart on engine start failed: {}",
                                container.id,
                                e.message
                            );
                        }
                    });
                }
            }
            _ => {}
        }
    }
}

/// What a wait answers: the exit code, once the condition holds.
///
/// `not-running` returns at once for a container that does not run; `next-exit` waits for
/// its next exit; `removed` waits until it is removed.
pub async fn wait(container: &Arc<Container>, daemon: &Daemon, condition: &str) -> i64 {
    let mut changes = container.subscribe();
    let exits_before = container.exits.load(Ordering::SeqCst);
    loop {
        changes.borrow_and_update();
        let record = container.snapshot();
        let running = record.state.status.is_running() || record.state.status == Status::Restarting;
        let done = match condition {
            "removed" => !daemon.containers.contains(&container.id),
            "next-exit" => container.exits.load(Ordering::SeqCst) > exits_before,
            _ => !running,
        };
        if done {
            return i64::from(record.state.exit_code);
        }
        if changes.changed().await.is_err() {
            return i64::from(container.lock().state.exit_code);
        }
    }
}
