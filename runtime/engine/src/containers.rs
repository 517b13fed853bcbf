//! Containers end to end: a root filesystem mounted from an image's layers, the runtime spec
//! written into the container's bundle, the container started under its monitor, waited for,
//! signalled and removed, leaving no mount, runc state or folder behind.
//!
//! Layout: the exec root holds runc's state (`runc/`) and each container's bundle and monitor
//! state (`containers/<id>/`, see [`crate::monitor`]); the data root holds each container's
//! root filesystem (`rootfs/<id>/`, see [`crate::rootfs`]) and log
//! (`containers/<id>/<id>-json.log`, where dockerd keeps it).

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::durable;
use crate::error::{Error, Result};
use crate::images::ContainerConfig;
use crate::monitor::{self, ExitRecord, Launched, MonitorRequest};
use crate::oci::{self, HostSettings, SpecInput};
use crate::rootfs;
use crate::runc::Runc;

/// How long [`ContainerRuntime::remove`] with `force` waits for a killed container's exit.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);

/// Where and with what the engine runs containers.
#[derive(Clone, Debug)]
pub struct RuntimeConfig {
    /// The data root: root filesystems and logs.
    pub data_root: PathBuf,
    /// The exec root: runc's state, bundles, monitor state.
    pub exec_root: PathBuf,
    /// The OCI runtime binary (`runc`, or a path).
    pub runtime: PathBuf,
    /// The monitor binary.
    pub monitor: PathBuf,
    /// Arguments put before the state folder when the monitor runs (a daemon that is its own
    /// monitor passes its monitor subcommand here).
    pub monitor_args: Vec<std::ffi::OsString>,
    /// The cgroup under which each container gets `<parent>/<id>`.
    pub cgroup_parent: String,
}

/// What became of a container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ContainerState {
    /// Its monitor runs and has recorded no exit.
    Running {
        /// The container init's pid on the host (0 if its pid file is unreadable).
        pid: i32,
    },
    /// It exited, as its monitor recorded.
    Exited(ExitRecord),
    /// Its monitor is gone without recording an exit (the machine rebooted, or the monitor was
    /// killed): its fate is unknown.
    Lost,
}

/// Runs containers with runc under their monitors.
#[derive(Clone, Debug)]
pub struct ContainerRuntime {
    config: RuntimeConfig,
    runc: Runc,
}

impl ContainerRuntime {
    /// A runtime with the given folders, which are created when missing.
    pub fn new(config: RuntimeConfig) -> Result<ContainerRuntime> {
        for dir in [
            config.data_root.join("rootfs"),
            config.data_root.join("containers"),
            config.exec_root.join("runc"),
            config.exec_root.join("containers"),
        ] {
            fs::create_dir_all(&dir).map_err(|e| Error::io("create", &dir, e))?;
        }
        let runc = Runc::new(&config.runtime, config.exec_root.join("runc"));
        Ok(ContainerRuntime { config, runc })
    }

    /// The folders and binaries this runtime was made with.
    pub fn config(&self) -> &RuntimeConfig {
        &self.config
    }

    fn monitor_command(&self) -> monitor::MonitorCommand<'_> {
        monitor::MonitorCommand {
            program: &self.config.monitor,
            args: &self.config.monitor_args,
        }
    }

    /// The runc this runtime drives.
    pub fn runc(&self) -> &Runc {
        &self.runc
    }

    /// The folder of a container's root filesystem.
    pub fn rootfs_dir(&self, id: &str) -> PathBuf {
        self.config.data_root.join("rootfs").join(id)
    }

    /// The bytes of the container's changes to its image (its writable layer), as `docker ps
    /// -s` and `docker system df` show them: 0 before it first ran.
    ///
    /// # Errors
    ///
    /// When its writable layer cannot be read.
    pub fn changes_size(&self, id: &str) -> Result<u64> {
        validate_id(id)?;
        let upper = rootfs::RootfsDirs::in_dir(&self.rootfs_dir(id)).upper;
        match rootfs::content_size(&upper) {
            Ok(size) => Ok(size),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(0),
            Err(e) => Err(Error::io("measure", &upper, e)),
        }
    }

    /// A container's bundle and monitor state folder.
    pub fn state_dir(&self, id: &str) -> PathBuf {
        monitor::state_dir(&self.config.exec_root, id)
    }

    /// A container's json-file log.
    pub fn log_path(&self, id: &str) -> PathBuf {
        self.config
            .data_root
            .join("containers")
            .join(id)
            .join(format!("{id}-json.log"))
    }

    /// Mounts the container's root filesystem on `layers` (top-most first), writes its
    /// runtime spec from `config` (the image's config already merged in) and `host`, and
    /// starts it under a monitor. Its output waits for `attaches` clients to attach (at most
    /// [`monitor::ATTACH_WAIT`]) before it is read. On failure nothing is left mounted or known to runc.
    pub fn start(
        &self,
        id: &str,
        layers: &[PathBuf],
        config: &ContainerConfig,
        host: &HostSettings,
        attaches: usize,
    ) -> Result<Launched> {
        validate_id(id)?;
        if monitor::monitor_alive(&self.state_dir(id)) {
            return Err(Error::ContainerConflict(format!(
                "container {id} is already running"
            )));
        }
        let rootfs_dir = self.rootfs_dir(id);
        let root = rootfs::mount(&rootfs_dir, layers)?;
        let started = self.start_on(id, &root, config, host, attaches);
        if started.is_err() {
            let _ = self.runc.delete(id, true);
            let _ = rootfs::unmount(&rootfs_dir);
        }
        started
    }

    fn start_on(
        &self,
        id: &str,
        root: &Path,
        config: &ContainerConfig,
        host: &HostSettings,
        attaches: usize,
    ) -> Result<Launched> {
        let spec = oci::build_spec(&SpecInput {
            id,
            rootfs: root,
            config,
            cgroups_path: PathBuf::from(format!("{}/{id}", self.config.cgroup_parent)),
            host,
        })?;
        let state_dir = self.state_dir(id);
        fs::create_dir_all(&state_dir).map_err(|e| Error::io("create", &state_dir, e))?;
        durable::write_json_atomically(&state_dir.join("config.json"), &spec)?;
        let log_path = self.log_path(id);
        if let Some(log_dir) = log_path.parent() {
            fs::create_dir_all(log_dir).map_err(|e| Error::io("create", log_dir, e))?;
        }
        let request = MonitorRequest {
            id: id.to_owned(),
            runtime: self.config.runtime.clone(),
            runtime_root: self.runc.root().to_path_buf(),
            log_path,
            tty: config.tty,
            open_stdin: config.open_stdin,
            stdin_once: config.stdin_once,
            exec_id: None,
            attaches_before_start: attaches,
        };
        monitor::launch(&self.monitor_command(), &state_dir, &request)
    }

    /// What became of a container, from what its monitor left on disk: how an engine that
    /// restarted (after a crash, too) finds its containers.
    pub fn state(&self, id: &str) -> Result<ContainerState> {
        validate_id(id)?;
        let state_dir = self.state_dir(id);
        if !state_dir.exists() {
            return Err(Error::NoSuchContainer(id.to_owned()));
        }
        if let Some(record) = monitor::exit_record(&state_dir)? {
            return Ok(ContainerState::Exited(record));
        }
        if monitor::monitor_alive(&state_dir) {
            let pid = monitor::init_pid(&state_dir).unwrap_or(0);
            return Ok(ContainerState::Running { pid });
        }
        // The exit may have been recorded between the two looks.
        match monitor::exit_record(&state_dir)? {
            Some(record) => Ok(ContainerState::Exited(record)),
            None => Ok(ContainerState::Lost),
        }
    }

    /// The ids of the containers this runtime has state for, sorted.
    pub fn ids(&self) -> Result<Vec<String>> {
        let dir = self.config.exec_root.join("containers");
        let entries = fs::read_dir(&dir).map_err(|e| Error::io("list", &dir, e))?;
        let mut ids: Vec<String> = entries
            .flatten()
            .filter(|entry| entry.path().is_dir())
            .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// The state folder of an exec in a container.
    pub fn exec_dir(&self, id: &str, exec_id: &str) -> PathBuf {
        self.state_dir(id).join("execs").join(exec_id)
    }

    /// The output of an exec, in the json-file format.
    pub fn exec_log_path(&self, id: &str, exec_id: &str) -> PathBuf {
        self.exec_dir(id, exec_id).join("output.log")
    }

    /// Runs `exec` in the running container `id` under a monitor of its own, as `docker exec`
    /// does: attach to it with [`crate::attach::connect`] and `exec_id`, wait for it with
    /// [`ContainerRuntime::wait_exec`]. With `open_stdin`, its stdin is open for attach (and
    /// closed after the first attach's input ends when `stdin_once`). Its output waits for
    /// `attaches` clients, as with [`ContainerRuntime::start`].
    pub fn exec(
        &self,
        id: &str,
        exec_id: &str,
        exec: &oci::ExecConfig,
        open_stdin: bool,
        stdin_once: bool,
        attaches: usize,
    ) -> Result<Launched> {
        validate_id(id)?;
        validate_id(exec_id)?;
        if !self.is_running(id) {
            return Err(Error::ContainerConflict(format!(
                "Container {id} is not running"
            )));
        }
        let spec_path = self.state_dir(id).join("config.json");
        let spec: oci_spec::runtime::Spec =
            durable::read_json(&spec_path)?.ok_or_else(|| Error::NoSuchContainer(id.to_owned()))?;
        let process = oci::exec_process(&spec, exec)?;
        let exec_dir = self.exec_dir(id, exec_id);
        if exec_dir.exists() {
            return Err(Error::ContainerConflict(format!(
                "exec {exec_id} already exists in container {id}"
            )));
        }
        fs::create_dir_all(&exec_dir).map_err(|e| Error::io("create", &exec_dir, e))?;
        durable::write_json_atomically(&exec_dir.join("process.json"), &process)?;
        let request = MonitorRequest {
            id: id.to_owned(),
            runtime: self.config.runtime.clone(),
            runtime_root: self.runc.root().to_path_buf(),
            log_path: self.exec_log_path(id, exec_id),
            tty: exec.tty,
            open_stdin,
            stdin_once,
            exec_id: Some(exec_id.to_owned()),
            attaches_before_start: attaches,
        };
        monitor::launch(&self.monitor_command(), &exec_dir, &request)
    }

    /// Removes the state folder of an exec that has exited (its process spec, its output),
    /// for an exec nobody will inspect again; an exec never started or removed already is
    /// nothing to do.
    ///
    /// # Errors
    ///
    /// [`Error::ContainerConflict`] while its monitor runs; an I/O error when the folder
    /// cannot be removed.
    pub fn remove_exec(&self, id: &str, exec_id: &str) -> Result<()> {
        validate_id(id)?;
        validate_id(exec_id)?;
        let exec_dir = self.exec_dir(id, exec_id);
        if monitor::monitor_alive(&exec_dir) {
            return Err(Error::ContainerConflict(format!(
                "exec {exec_id} in container {id} is still running"
            )));
        }
        match fs::remove_dir_all(&exec_dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(Error::io("remove", &exec_dir, e))
            }
            _ => Ok(()),
        }
    }

    /// Waits for an exec to exit.
    pub fn wait_exec(&self, id: &str, exec_id: &str, timeout: Duration) -> Result<ExitRecord> {
        monitor::wait_for_exit(&self.exec_dir(id, exec_id), exec_id, timeout)
    }

    /// Whether the container is running: its monitor lives and has recorded no exit yet.
    pub fn is_running(&self, id: &str) -> bool {
        let state_dir = self.state_dir(id);
        monitor::monitor_alive(&state_dir) && matches!(monitor::exit_record(&state_dir), Ok(None))
    }

    /// Waits for a monitor that recorded the exit to finish its own clean-up (deleting the
    /// runc container) and exit, so removal never races it.
    fn wait_for_monitor_exit(&self, id: &str) -> Result<()> {
        let state_dir = self.state_dir(id);
        let deadline = std::time::Instant::now() + KILL_TIMEOUT;
        while monitor::monitor_alive(&state_dir) {
            if std::time::Instant::now() >= deadline {
                return Err(Error::Monitor {
                    container: id.to_owned(),
                    message: format!("still running {KILL_TIMEOUT:?} after the container exited"),
                });
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }

    /// How the container ended, or `None` while it runs or before it ran.
    pub fn exit_record(&self, id: &str) -> Result<Option<ExitRecord>> {
        monitor::exit_record(&self.state_dir(id))
    }

    /// Waits for the container to exit.
    pub fn wait(&self, id: &str, timeout: Duration) -> Result<ExitRecord> {
        monitor::wait_for_exit(&self.state_dir(id), id, timeout)
    }

    /// Sends `signal` to the container's init.
    pub fn kill(&self, id: &str, signal: i32) -> Result<()> {
        self.require_running(id)?;
        self.runc.kill(id, signal)
    }

    /// Freezes the running container (`docker pause`).
    pub fn pause(&self, id: &str) -> Result<()> {
        self.require_running(id)?;
        if self.runc.state(id)?.status == "paused" {
            return Err(Error::ContainerConflict(format!(
                "Container {id} is already paused"
            )));
        }
        self.runc.pause(id)
    }

    /// Thaws the paused container (`docker unpause`).
    pub fn unpause(&self, id: &str) -> Result<()> {
        self.require_running(id)?;
        if self.runc.state(id)?.status != "paused" {
            return Err(Error::ContainerConflict(format!(
                "Container {id} is not paused"
            )));
        }
        self.runc.resume(id)
    }

    fn require_running(&self, id: &str) -> Result<()> {
        validate_id(id)?;
        if self.is_running(id) {
            Ok(())
        } else {
            Err(Error::ContainerConflict(format!(
                "Container {id} is not running"
            )))
        }
    }

    /// Removes the container: its runc state, its root filesystem (unmounted first) and its
    /// folders. A running container is killed when `force`, else refused as Docker does.
    pub fn remove(&self, id: &str, force: bool) -> Result<()> {
        validate_id(id)?;
        if self.is_running(id) {
            if !force {
                return Err(Error::ContainerConflict(format!(
                    "You cannot remove a running container {id}. Stop the container before \
                     attempting removal or force remove"
                )));
            }
            match self.runc.kill(id, libc::SIGKILL) {
                Ok(()) | Err(Error::NoSuchContainer(_)) => {}
                Err(e) => return Err(e),
            }
            // A frozen process cannot die: thaw a paused container (an error just means it
            // was not paused).
            let _ = self.runc.resume(id);
            self.wait(id, KILL_TIMEOUT)?;
        }
        self.wait_for_monitor_exit(id)?;
        self.runc.delete(id, true)?;
        rootfs::remove(&self.rootfs_dir(id))?;
        for dir in [
            self.state_dir(id),
            self.config.data_root.join("containers").join(id),
        ] {
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(Error::io("remove", &dir, e)),
            }
        }
        Ok(())
    }
}

/// Refuses ids that are not one plain path component of letters, digits, `_`, `.` and `-`
/// (they name folders and runc containers).
pub(crate) fn validate_id(id: &str) -> Result<()> {
    let valid = !id.is_empty()
        && !id.starts_with('.')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidContainerConfig(format!(
            "invalid container id {id:?}"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::validate_id;

    #[test]
    fn ids_that_could_name_another_folder_are_refused() {
        for bad in ["", "..", "../x", "a/b", ".hidden", "a b"] {
            assert!(validate_id(bad).is_err(), "{bad:?} accepted");
        }
        assert!(validate_id(&"a".repeat(64)).is_ok());
    }
}
