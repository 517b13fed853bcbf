//! The `Exec` area: `docker exec` — create an exec instance in a running container, start it
//! (attached over the hijacked connection, or detached), inspect it, resize its terminal.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use drydock_engine::attach::{AttachRequest, TerminalSize};
use drydock_engine::oci::ExecConfig;
use drydock_models::{IdResponse, ProcessConfig};
use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::exec::*;

use crate::containers::lifecycle::{publish, wait_for_process};
use crate::containers::record::Status;
use crate::containers::streams::{
    DEFAULT_DETACH_KEYS, Relayed, channel_stream, parse_detach_keys, relay,
};
use crate::daemon::{Daemon, random_hex};
use crate::errors::blocking;

/// One exec instance.
#[derive(Clone, Debug)]
pub struct ExecInstance {
    /// 64 hex digits.
    pub id: String,
    /// The container it runs in.
    pub container_id: String,
    /// What it runs.
    pub config: ExecConfig,
    /// Whether the client's stdin is attached.
    pub attach_stdin: bool,
    /// Whether stdout is attached.
    pub attach_stdout: bool,
    /// Whether stderr is attached.
    pub attach_stderr: bool,
    /// The detach keys asked for at create.
    pub detach_keys: Option<String>,
    /// Whether it was started.
    pub started: bool,
    /// Whether it runs.
    pub running: bool,
    /// Its exit code once it exited.
    pub exit_code: Option<i64>,
    /// Its process's pid on the host while it runs.
    pub pid: i32,
}

/// The exec instances of every container.
#[derive(Default)]
pub struct ExecStore {
    execs: Mutex<BTreeMap<String, ExecInstance>>,
}

impl ExecStore {
    fn map(&self) -> MutexGuard<'_, BTreeMap<String, ExecInstance>> {
        self.execs.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The exec instance `id`.
    ///
    /// # Errors
    ///
    /// 404 `No such exec instance: <id>`.
    pub fn get(&self, id: &str) -> Result<ExecInstance, ServerError> {
        self.map()
            .get(id)
            .cloned()
            .ok_or_else(|| ServerError::not_found(format!("No such exec instance: {id}")))
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut ExecInstance)) {
        if let Some(exec) = self.map().get_mut(id) {
            change(exec);
        }
    }

    /// Forgets the execs of a removed container.
    pub fn forget_container(&self, container_id: &str) {
        self.map()
            .retain(|_, exec| exec.container_id != container_id);
    }
}

/// The exec events' attributes, with the command as dockerd words it.
fn exec_action(action: &str, exec: &ExecInstance) -> String {
    format!("{action}: {}", exec.config.cmd.join(" "))
}

/// Checks that a container can run an exec now.
fn require_running(daemon: &Daemon, reference: &str) -> Result<String, ServerError> {
    let container = daemon.containers.get(reference)?;
    let record = container.snapshot();
    match record.state.status {
        Status::Running => Ok(record.id),
        Status::Paused => Err(ServerError::conflict(format!(
            "Container {} is paused, unpause the container before exec",
            record.id
        ))),
        Status::Restarting => Err(ServerError::conflict(format!(
            "Container {} is restarting, wait until the container is running",
            record.id
        ))),
        _ => Err(ServerError::conflict(format!(
            "Container {} is not running",
            record.id
        ))),
    }
}

impl drydock_server::Exec for Daemon {
    async fn container_exec(
        &self,
        request: ContainerExecRequest,
        _version: ApiVersion,
    ) -> Result<ContainerExecResponse, ServerError> {
        let container_id = require_running(self, &request.id)?;
        let body = request.body;
        let cmd = body.cmd.unwrap_or_default();
        if cmd.is_empty() {
            return Err(ServerError::bad_request("No exec command specified"));
        }
        if let Some(keys) = &body.detach_keys {
            parse_detach_keys(keys)?;
        }
        let exec = ExecInstance {
            id: random_hex(32),
            container_id: container_id.clone(),
            config: ExecConfig {
                cmd,
                env: body.env.unwrap_or_default(),
                user: body.user.unwrap_or_default(),
                working_dir: String::new(),
                tty: body.tty == Some(true),
            },
            attach_stdin: body.attach_stdin == Some(true),
            attach_stdout: body.attach_stdout == Some(true),
            attach_stderr: body.attach_stderr == Some(true),
            detach_keys: body.detach_keys,
            started: false,
            running: false,
            exit_code: None,
            pid: 0,
        };
        self.execs.map().insert(exec.id.clone(), exec.clone());
        let container = self.containers.get(&container_id)?;
        container.update(|record| record.exec_ids.push(exec.id.clone()))?;
        let action = exec_action("exec_create", &exec);
        publish(
            self,
            &container.snapshot(),
            &action,
            &[("execID", exec.id.clone())],
        );
        Ok(ContainerExecResponse::Status201(Box::new(IdResponse {
            id: exec.id,
        })))
    }

    async fn exec_start(
        &self,
        request: ExecStartRequest,
        _version: ApiVersion,
    ) -> Result<ExecStartResponse, ServerError> {
        let exec = self.execs.get(&request.id)?;
        if exec.started {
            return Err(ServerError::conflict(format!(
                "Error: Exec command {} has already run",
                exec.id
            )));
        }
        require_running(self, &exec.container_id)?;
        let body = request.body.unwrap_or_default();
        let detach = body.detach == Some(true);
        let detach_keys =
            parse_detach_keys(exec.detach_keys.as_deref().unwrap_or(DEFAULT_DETACH_KEYS))?;
        self.execs.update(&exec.id, |e| {
            e.started = true;
            e.running = true;
        });
        let attached = !detach && (exec.attach_stdout || exec.attach_stderr || exec.attach_stdin);
        let engine = self.clone();
        let (container_id, exec_id, config) = (
            exec.container_id.clone(),
            exec.id.clone(),
            exec.config.clone(),
        );
        let open_stdin = exec.attach_stdin && !detach;
        let launched = blocking(move || {
            engine.runtime.exec(
                &container_id,
                &exec_id,
                &config,
                open_stdin,
                true,
                usize::from(attached),
            )
        })
        .await;
        let launched = match launched {
            Ok(launched) => launched,
            Err(error) => {
                self.execs.update(&exec.id, |e| {
                    e.running = false;
                    e.exit_code = Some(126);
                });
                return Err(error);
            }
        };
        self.execs.update(&exec.id, |e| e.pid = launched.pid);
        if let Ok(container) = self.containers.get(&exec.container_id) {
            let action = exec_action("exec_start", &exec);
            publish(
                self,
                &container.snapshot(),
                &action,
                &[("execID", exec.id.clone())],
            );
        }
        let exited = watch_exec_exit(self.clone(), exec.clone(), launched.monitor_pid);
        let (sender, stream) = channel_stream();
        if attached {
            let attach = AttachRequest {
                stdin: exec.attach_stdin,
                stdout: exec.attach_stdout,
                stderr: exec.attach_stderr,
            };
            let input = exec.attach_stdin.then_some(request.hijack);
            tokio::spawn(async move {
                // The exec's output is held for this attach; the relay ends when the process
                // does (or at the detach keys, leaving it running).
                let relayed = relay(&exec.id, attach, input, detach_keys, &sender).await;
                // The CLI inspects the exec for its exit code once the stream ends: the
                // exit is recorded first, as dockerd does.
                if relayed != Relayed::Detached {
                    let _ = exited.await;
                }
                drop(sender);
            });
        }
        Ok(ExecStartResponse::Status200(stream))
    }

    async fn exec_inspect(
        &self,
        request: ExecInspectRequest,
        _version: ApiVersion,
    ) -> Result<ExecInspectResponse, ServerError> {
        let exec = self.execs.get(&request.id)?;
        let (entrypoint, arguments) = match exec.config.cmd.split_first() {
            Some((first, rest)) => (first.clone(), rest.to_vec()),
            None => (String::new(), Vec::new()),
        };
        Ok(ExecInspectResponse::Status200(Box::new(
            drydock_models::ExecInspectResponse {
                id: Some(exec.id.clone()),
                running: Some(exec.running),
                exit_code: exec.exit_code,
                process_config: Some(ProcessConfig {
                    privileged: Some(false),
                    user: Some(exec.config.user.clone()),
                    tty: Some(exec.config.tty),
                    entrypoint: Some(entrypoint),
                    arguments: Some(arguments),
                }),
                open_stdin: Some(exec.attach_stdin),
                open_stderr: Some(exec.attach_stderr),
                open_stdout: Some(exec.attach_stdout),
                container_id: Some(exec.container_id.clone()),
                pid: Some(i64::from(exec.pid)),
                can_remove: Some(false),
                detach_keys: Some(exec.detach_keys.clone()),
            },
        )))
    }

    async fn exec_resize(
        &self,
        request: ExecResizeRequest,
        _version: ApiVersion,
    ) -> Result<ExecResizeResponse, ServerError> {
        let exec = self.execs.get(&request.id)?;
        if !exec.running {
            return Err(ServerError::conflict(format!(
                "Exec {} is not running",
                exec.id
            )));
        }
        let size = TerminalSize {
            height: u16::try_from(request.h).unwrap_or(0),
            width: u16::try_from(request.w).unwrap_or(0),
        };
        let id = exec.id.clone();
        blocking(move || drydock_engine::attach::resize(&id, size)).await?;
        Ok(ExecResizeResponse::Status200)
    }
}

/// Records the exec's exit once its monitor is gone, and publishes `exec_die`; the handle
/// resolves once it is recorded.
fn watch_exec_exit(
    daemon: Daemon,
    exec: ExecInstance,
    monitor_pid: i32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        wait_for_process(monitor_pid).await;
        let engine = daemon.clone();
        let (container_id, exec_id) = (exec.container_id.clone(), exec.id.clone());
        let exit = blocking(move || {
            engine
                .runtime
                .wait_exec(&container_id, &exec_id, std::time::Duration::from_secs(5))
        })
        .await;
        let code = exit.map_or(126, |exit| i64::from(exit.exit_code));
        daemon.execs.update(&exec.id, |e| {
            e.running = false;
            e.exit_code = Some(code);
            e.pid = 0;
        });
        if let Ok(container) = daemon.containers.get(&exec.container_id) {
            let _ = container.update(|record| record.exec_ids.retain(|id| *id != exec.id));
            let action = exec_action("exec_die", &exec);
            publish(
                &daemon,
                &container.snapshot(),
                &action,
                &[("execID", exec.id.clone()), ("exitCode", code.to_string())],
            );
        }
    })
}
