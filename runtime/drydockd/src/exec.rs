//! The `Exec` area: `docker exec` — create an exec instance in a running container, start it
//! (attached over the hijacked connection, or detached), inspect it, resize its terminal.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use drydock_engine::attach::{AttachRequest, TerminalSize};
use drydock_engine::monitor::Launched;
use drydock_engine::oci::ExecConfig;
use drydock_models::{IdResponse, ProcessConfig};
use drydock_runtime::ApiVersion;
use drydock_runtime::frames::{Frame, FrameCodec, StreamKind};
use drydock_runtime::server::{Hijack, ServerError};
use drydock_server::exec::*;
use tokio_util::codec::Encoder;

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

    /// Forgets one exec instance.
    pub fn forget(&self, id: &str) {
        self.map().remove(id);
    }

    /// Forgets the execs of a removed container.
    pub fn forget_container(&self, container_id: &str) {
        self.map()
            .retain(|_, exec| exec.container_id != container_id);
    }
}

/// The action of an exec's `exec_create` and `exec_start` events, with the command as dockerd
/// words it: the program, a space, then its arguments (so a command without arguments ends
/// in a space).
fn exec_action(action: &str, exec: &ExecInstance) -> String {
    let (program, arguments) = exec
        .config
        .cmd
        .split_first()
        .map_or(("", &[][..]), |(first, rest)| (first.as_str(), rest));
    format!("{action}: {program} {}", arguments.join(" "))
}

/// What the client asked for when it created an exec instance.
pub struct ExecRequest {
    /// What to run, how.
    pub config: ExecConfig,
    /// Whether the client's stdin is attached.
    pub attach_stdin: bool,
    /// Whether stdout is attached.
    pub attach_stdout: bool,
    /// Whether stderr is attached.
    pub attach_stderr: bool,
    /// The detach keys.
    pub detach_keys: Option<String>,
}

/// Makes an exec instance in the running container `container_id`: kept in the store, named
/// in the container's `ExecIDs`, announced by `exec_create`.
///
/// # Errors
///
/// 404 when the container is gone.
pub fn create(
    daemon: &Daemon,
    container_id: &str,
    request: ExecRequest,
) -> Result<ExecInstance, ServerError> {
    let exec = ExecInstance {
        id: random_hex(32),
        container_id: container_id.to_owned(),
        config: request.config,
        attach_stdin: request.attach_stdin,
        attach_stdout: request.attach_stdout,
        attach_stderr: request.attach_stderr,
        detach_keys: request.detach_keys,
        started: false,
        running: false,
        exit_code: None,
        pid: 0,
    };
    let container = daemon.containers.get(container_id)?;
    daemon.execs.map().insert(exec.id.clone(), exec.clone());
    container.update_running_state(|record| record.exec_ids.push(exec.id.clone()))?;
    let action = exec_action("exec_create", &exec);
    publish(
        daemon,
        &container.snapshot(),
        &action,
        &[("execID", exec.id.clone())],
    );
    Ok(exec)
}

/// An exec whose process runs.
pub struct RunningExec {
    /// The process and its monitor.
    pub launched: Launched,
    /// Resolves once its exit is recorded (and `exec_die` published).
    pub exited: tokio::task::JoinHandle<()>,
}

/// Starts a created exec instance: marks it started, announces `exec_start` (before the
/// runtime is asked, as dockerd does), and runs its process under a monitor that holds its
/// output for `attaches` attaches.
///
/// # Errors
///
/// When the process could not be started (no such program, a bad user or working folder):
/// the exec is then over with exit code 126, as dockerd records it, and the error is its
/// message as dockerd words it (`OCI runtime exec failed: exec failed: ...: unknown`).
pub async fn start(
    daemon: &Daemon,
    exec: &ExecInstance,
    open_stdin: bool,
    attaches: usize,
) -> Result<RunningExec, String> {
    daemon.execs.update(&exec.id, |e| {
        e.started = true;
        e.running = true;
    });
    if let Ok(container) = daemon.containers.get(&exec.container_id) {
        let action = exec_action("exec_start", exec);
        publish(
            daemon,
            &container.snapshot(),
            &action,
            &[("execID", exec.id.clone())],
        );
    }
    let engine = daemon.clone();
    let (container_id, exec_id, config) = (
        exec.container_id.clone(),
        exec.id.clone(),
        exec.config.clone(),
    );
    let launched = tokio::task::spawn_blocking(move || {
        engine
            .runtime
            .exec(&container_id, &exec_id, &config, open_stdin, true, attaches)
    })
    .await;
    let failure = match launched {
        Ok(Ok(launched)) => {
            daemon.execs.update(&exec.id, |e| e.pid = launched.pid);
            let exited = watch_exec_exit(daemon.clone(), exec.clone(), launched.monitor_pid);
            return Ok(RunningExec { launched, exited });
        }
        Ok(Err(error)) => exec_failure_text(&error),
        Err(error) => format!("engine task failed: {error}"),
    };
    daemon.execs.update(&exec.id, |e| {
        e.running = false;
        e.exit_code = Some(EXEC_START_FAILED);
    });
    if let Ok(container) = daemon.containers.get(&exec.container_id) {
        let _ =
            container.update_running_state(|record| record.exec_ids.retain(|id| *id != exec.id));
    }
    Err(failure)
}

/// The exit code dockerd gives an exec whose process could not be started.
pub const EXEC_START_FAILED: i64 = 126;

/// A failed exec start as dockerd words it: the OCI runtime's own message (`exec failed:
/// unable to start container process: exec: "x": executable file not found in $PATH`) inside
/// `OCI runtime exec failed: ...: unknown`; a config the process cannot run with (a user the
/// container does not know) in the engine's words, which are dockerd's.
fn exec_failure_text(error: &drydock_engine::Error) -> String {
    const MARKER: &str = "exec failed:";
    if let drydock_engine::Error::InvalidContainerConfig(message) = error {
        return message.clone();
    }
    let message = error.to_string();
    match message.find(MARKER) {
        Some(at) => format!(
            "OCI runtime exec failed: {}: unknown",
            message[at..].trim_end()
        ),
        None => message,
    }
}

/// What an attached client of an exec that could not start reads: the failure's text and a
/// line end, on stdout (a frame of its own unless the exec has a terminal), as dockerd writes it
/// after the upgrade.
fn failure_output(message: &str, tty: bool) -> bytes::Bytes {
    let text = format!("{message}\r\n");
    if tty {
        return bytes::Bytes::from(text);
    }
    let mut framed = bytes::BytesMut::new();
    // Encoding into memory cannot fail.
    let _ = FrameCodec::new().encode(Frame::new(StreamKind::Stdout, text), &mut framed);
    framed.freeze()
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
        let exec = create(
            self,
            &container_id,
            ExecRequest {
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
            },
        )?;
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
        let attached = !detach && (exec.attach_stdout || exec.attach_stderr || exec.attach_stdin);
        if !attached {
            // dockerd refuses a detached start that fails with the failure's text.
            return match start(self, &exec, false, 0).await {
                Ok(_) => Ok(ExecStartResponse::Status200(Box::pin(
                    futures_util::stream::empty(),
                ))),
                Err(message) => Err(ServerError::bad_request(message)),
            };
        }
        // Taken now, so that a second start is refused at once.
        self.execs.update(&exec.id, |e| e.started = true);
        let (sender, stream) = channel_stream();
        let daemon = self.clone();
        let hijack = request.hijack;
        tokio::spawn(async move {
            // As dockerd, the process starts once the connection is hijacked (the `101` is
            // out): its first output then never reaches the client in one read with the
            // headers, which a client reading them through a buffer (docker-py) would lose.
            let Some(input) = hijack.input().await else {
                return;
            };
            let running = match start(&daemon, &exec, exec.attach_stdin, 1).await {
                Ok(running) => running,
                // dockerd writes the failure to the attached client, which then reads the
                // exit code 126 from the exec's inspect.
                Err(message) => {
                    let _ = sender.send(failure_output(&message, exec.config.tty)).await;
                    return;
                }
            };
            let attach = AttachRequest {
                stdin: exec.attach_stdin,
                stdout: exec.attach_stdout,
                stderr: exec.attach_stderr,
            };
            let input = exec.attach_stdin.then(|| Hijack::from_input(input));
            // The exec's output is held for this attach; the relay ends when the process
            // does (or at the detach keys, leaving it running).
            let relayed = relay(&exec.id, attach, input, detach_keys, &sender).await;
            // The CLI inspects the exec for its exit code once the stream ends: the exit is
            // recorded first, as dockerd does.
            if relayed != Relayed::Detached {
                let _ = running.exited.await;
            }
            drop(sender);
        });
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
            let _ = container
                .update_running_state(|record| record.exec_ids.retain(|id| *id != exec.id));
            publish(
                &daemon,
                &container.snapshot(),
                "exec_die",
                &[("execID", exec.id.clone()), ("exitCode", code.to_string())],
            );
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exec_of(cmd: &[&str]) -> ExecInstance {
        ExecInstance {
            id: "e".repeat(64),
            container_id: "c".repeat(64),
            config: ExecConfig {
                cmd: cmd.iter().map(|word| (*word).to_owned()).collect(),
                ..ExecConfig::default()
            },
            attach_stdin: false,
            attach_stdout: true,
            attach_stderr: true,
            detach_keys: None,
            started: false,
            running: false,
            exit_code: None,
            pid: 0,
        }
    }

    #[test]
    fn exec_event_actions_join_program_and_arguments_as_dockerd_does() {
        assert_eq!(
            exec_action("exec_create", &exec_of(&["sh", "-c", "true"])),
            "exec_create: sh -c true"
        );
        // dockerd writes the space after the program even when no argument follows.
        assert_eq!(
            exec_action("exec_start", &exec_of(&["nosuchcommand"])),
            "exec_start: nosuchcommand "
        );
    }

    #[test]
    fn a_runtime_failure_to_exec_reads_as_dockerds_oci_runtime_error() {
        let error = drydock_engine::Error::Monitor {
            container: "c".repeat(64),
            message: format!(
                "/usr/sbin/runc exec {}: exec failed: unable to start container process: exec: \"nosuchcommand\": executable file not found in $PATH\n",
                "c".repeat(64)
            ),
        };
        assert_eq!(
            exec_failure_text(&error),
            "OCI runtime exec failed: exec failed: unable to start container process: exec: \"nosuchcommand\": executable file not found in $PATH: unknown"
        );
        let user = drydock_engine::Error::InvalidContainerConfig(
            "unable to find user nobody: no matching entries in passwd file".to_owned(),
        );
        assert_eq!(
            exec_failure_text(&user),
            "unable to find user nobody: no matching entries in passwd file"
        );
    }

    #[test]
    fn a_failed_start_is_one_stdout_frame_or_raw_text_with_a_terminal() {
        let framed = failure_output("no", false);
        assert_eq!(&framed[..], b"\x01\x00\x00\x00\x00\x00\x00\x04no\r\n");
        assert_eq!(&failure_output("no", true)[..], b"no\r\n");
    }
}
