//! The real `runc` binary, driven through its command line with `--root` under the engine's
//! exec root so the engine's containers never mix with another runtime user's.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde::Deserialize;

use crate::error::{Error, Result};

/// What `runc state` reports of a container.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct RuncState {
    /// The container id.
    pub id: String,
    /// The init process's pid on the host (0 once stopped).
    pub pid: i32,
    /// `created`, `running`, `paused` or `stopped`.
    pub status: String,
    /// The bundle folder.
    pub bundle: PathBuf,
}

/// An OCI runtime with runc's command line.
#[derive(Clone, Debug)]
pub struct Runc {
    binary: PathBuf,
    root: PathBuf,
}

impl Runc {
    /// A runtime run from `binary` (a path, or a name looked up on `PATH`) keeping its state in
    /// `root`.
    pub fn new(binary: impl Into<PathBuf>, root: impl Into<PathBuf>) -> Runc {
        Runc {
            binary: binary.into(),
            root: root.into(),
        }
    }

    /// The runtime binary.
    pub fn binary(&self) -> &Path {
        &self.binary
    }

    /// The runtime's state root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// A `runc --root <root> <subcommand>` command with nothing else set.
    pub fn command(&self, subcommand: &str) -> Command {
        let mut command = Command::new(&self.binary);
        command.arg("--root").arg(&self.root).arg(subcommand);
        command
    }

    /// Runs `runc <subcommand> <args…>` to completion, turning a failure into
    /// [`Error::Runtime`] (or [`Error::NoSuchContainer`] when runc says it does not exist).
    fn run<I, S>(&self, subcommand: &'static str, id: &str, args: I) -> Result<Output>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let output = self
            .command(subcommand)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| self.error(subcommand, id, format!("cannot run: {e}")))?;
        if output.status.success() {
            return Ok(output);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        if stderr.contains("does not exist") || stderr.contains("container not found") {
            return Err(Error::NoSuchContainer(id.to_owned()));
        }
        let message = if stderr.is_empty() {
            format!("exited with {}", output.status)
        } else {
            stderr
        };
        Err(self.error(subcommand, id, message))
    }

    fn error(&self, command: &'static str, id: &str, message: String) -> Error {
        Error::Runtime {
            runtime: self.binary.display().to_string(),
            command,
            container: id.to_owned(),
            message,
        }
    }

    /// `runc start`: runs the user process of a created container.
    pub fn start(&self, id: &str) -> Result<()> {
        self.run("start", id, [id]).map(drop)
    }

    /// `runc state`.
    pub fn state(&self, id: &str) -> Result<RuncState> {
        let output = self.run("state", id, [id])?;
        serde_json::from_slice(&output.stdout).map_err(|e| {
            self.error(
                "state",
                id,
                format!("printed a state that does not parse: {e}"),
            )
        })
    }

    /// `runc pause <id>`: freezes every process of the container (freezer cgroup).
    pub fn pause(&self, id: &str) -> Result<()> {
        self.run("pause", id, [id]).map(drop)
    }

    /// `runc resume <id>`: thaws a paused container.
    pub fn resume(&self, id: &str) -> Result<()> {
        self.run("resume", id, [id]).map(drop)
    }

    /// `runc kill <id> <signal>`.
    pub fn kill(&self, id: &str, signal: i32) -> Result<()> {
        self.run("kill", id, [id.to_owned(), signal.to_string()])
            .map(drop)
    }

    /// `runc delete [--force] <id>`; a container runc does not know is already deleted.
    pub fn delete(&self, id: &str, force: bool) -> Result<()> {
        let mut args = Vec::new();
        if force {
            args.push("--force");
        }
        args.push(id);
        match self.run("delete", id, args) {
            Ok(_) | Err(Error::NoSuchContainer(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `runc update --resources - <id>`: applies `resources` to the running container's cgroups.
    pub fn update(&self, id: &str, resources: &crate::cgroups::ResourceUpdate) -> Result<()> {
        let json = serde_json::to_vec(&resources.to_oci()?)
            .map_err(|e| self.error("update", id, format!("cannot encode the resources: {e}")))?;
        let mut child = self
            .command("update")
            .args(["--resources", "-", id])
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| self.error("update", id, format!("cannot run: {e}")))?;
        if let Some(mut stdin) = child.stdin.take() {
            std::io::Write::write_all(&mut stdin, &json)
                .map_err(|e| self.error("update", id, format!("cannot send the resources: {e}")))?;
        }
        let output = child
            .wait_with_output()
            .map_err(|e| self.error("update", id, format!("cannot run: {e}")))?;
        if output.status.success() {
            return Ok(());
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_owned();
        Err(self.error("update", id, stderr))
    }

    /// The ids of the containers runc knows (`runc list`).
    pub fn list(&self) -> Result<Vec<RuncState>> {
        let output = self.run("list", "", ["--format", "json"])?;
        let text = String::from_utf8_lossy(&output.stdout);
        if text.trim() == "null" || text.trim().is_empty() {
            return Ok(Vec::new());
        }
        serde_json::from_str(&text).map_err(|e| {
            self.error(
                "list",
                "",
                format!("printed a list that does not parse: {e}"),
            )
        })
    }
}
