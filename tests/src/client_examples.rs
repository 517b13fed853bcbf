//! The programs of `tests/examples/` as functions: each example's `main` reads its arguments,
//! connects with `Client::from_env` and calls one of these, and `tests/client_examples.rs`
//! calls the same functions against the harness's daemon and reads what they wrote.
//!
//! - [`list_containers`]: `docker ps` in a few lines, one row per container.
//! - [`run_and_stream`]: `docker run --rm`: create a container running a command, start it,
//!   copy its output frames to stdout and stderr as they come, wait for it, remove it, and give
//!   back its exit code.
//! - [`print_events`]: `docker events`: one line per event, until the stream ends.
//!
//! They write to any [`Write`], so the examples hand them the process's stdout and stderr and
//! the tests hand them buffers.

use std::fmt;
use std::io::{self, Write};

use drydock_client::models::{ContainerConfigCmd, ContainerCreateBody, SystemEventsResponse};
use drydock_client::{
    Client, ContainerCreateParams, ContainerDeleteParams, ContainerListParams, ContainerLogsParams,
    ContainerStartParams, ContainerWaitParams, Error, Filters, StreamKind, SystemEventsParams,
};
use futures_util::StreamExt;

/// Why an example program stopped.
#[derive(Debug)]
pub enum ProgramError {
    /// The daemon or the connection to it failed.
    Docker(Error),
    /// Writing the program's output failed.
    Output(io::Error),
}

impl fmt::Display for ProgramError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProgramError::Docker(err) => write!(f, "docker: {err}"),
            ProgramError::Output(err) => write!(f, "cannot write the output: {err}"),
        }
    }
}

impl std::error::Error for ProgramError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            ProgramError::Docker(err) => Some(err),
            ProgramError::Output(err) => Some(err),
        }
    }
}

impl From<Error> for ProgramError {
    fn from(err: Error) -> Self {
        ProgramError::Docker(err)
    }
}

impl From<io::Error> for ProgramError {
    fn from(err: io::Error) -> Self {
        ProgramError::Output(err)
    }
}

/// How many characters of a container id `docker ps` shows.
const SHORT_ID: usize = 12;

/// Writes a table of the containers (the running ones, or all when `all`): short id, image,
/// status and names, separated by tabs, under a header line. Returns how many rows it wrote.
pub async fn list_containers(
    client: &Client,
    all: bool,
    out: &mut impl Write,
) -> Result<usize, ProgramError> {
    let containers = client
        .container_list(ContainerListParams {
            all: Some(all),
            ..ContainerListParams::default()
        })
        .await?;
    writeln!(out, "CONTAINER ID\tIMAGE\tSTATUS\tNAMES")?;
    for container in &containers {
        let id = container.id.as_deref().unwrap_or_default();
        let names: Vec<&str> = container
            .names
            .iter()
            .flatten()
            .map(|name| name.trim_start_matches('/'))
            .collect();
        writeln!(
            out,
            "{}\t{}\t{}\t{}",
            &id[..id.len().min(SHORT_ID)],
            container.image.as_deref().unwrap_or_default(),
            container.status.as_deref().unwrap_or_default(),
            names.join(",")
        )?;
    }
    out.flush()?;
    Ok(containers.len())
}

/// Runs `command` in a new container of `image`: creates and starts it, copies its stdout
/// frames to `out` and its stderr frames to `err` while it runs, waits for it to exit, removes
/// it and returns its exit code. The container is removed even when streaming or waiting fails
/// (the first error is the one returned).
pub async fn run_and_stream(
    client: &Client,
    image: &str,
    command: &[String],
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<i64, ProgramError> {
    let created = client
        .container_create(ContainerCreateParams {
            name: None,
            body: ContainerCreateBody {
                image: Some(image.to_owned()),
                cmd: Some(ContainerConfigCmd::List(command.to_vec())),
                ..ContainerCreateBody::default()
            },
        })
        .await?;
    let id = created.id;
    let ran = start_stream_wait(client, &id, out, err).await;
    let removed = client
        .container_delete(ContainerDeleteParams {
            id,
            force: Some(true),
            ..ContainerDeleteParams::default()
        })
        .await;
    let code = ran?;
    removed?;
    Ok(code)
}

/// The part of [`run_and_stream`] between create and remove.
async fn start_stream_wait(
    client: &Client,
    id: &str,
    out: &mut impl Write,
    err: &mut impl Write,
) -> Result<i64, ProgramError> {
    client
        .container_start(ContainerStartParams {
            id: id.to_owned(),
            ..ContainerStartParams::default()
        })
        .await?;
    // `follow` keeps the stream open until the container exits; a container that exited
    // already still gives everything it printed, so no output is lost to the race.
    let mut frames = client
        .container_logs(ContainerLogsParams {
            id: id.to_owned(),
            follow: Some(true),
            stdout: Some(true),
            stderr: Some(true),
            ..ContainerLogsParams::default()
        })
        .await?;
    while let Some(frame) = frames.next().await {
        let frame = frame?;
        match frame.stream {
            StreamKind::Stderr => {
                err.write_all(&frame.payload)?;
                err.flush()?;
            }
            _ => {
                out.write_all(&frame.payload)?;
                out.flush()?;
            }
        }
    }
    // The wait's answer is one message, written when the container exits.
    let mut waited = client
        .container_wait(ContainerWaitParams {
            id: id.to_owned(),
            ..ContainerWaitParams::default()
        })
        .await?;
    match waited.next().await {
        Some(exit) => Ok(exit?.status_code),
        None => Err(ProgramError::Output(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "the daemon closed the wait without an exit status",
        ))),
    }
}

/// Writes one line per event of the daemon, `<time> <type> <action> <actor id>`, until the
/// stream ends: with `until` set, when that time is reached; without it, never. `since` and
/// `until` are what `docker events` takes (Unix seconds, for instance); `filters` narrows the
/// events (`type=container`, …). Returns how many lines it wrote.
pub async fn print_events(
    client: &Client,
    since: Option<String>,
    until: Option<String>,
    filters: Option<Filters>,
    out: &mut impl Write,
) -> Result<usize, ProgramError> {
    let mut events = client
        .system_events(SystemEventsParams {
            since,
            until,
            filters,
        })
        .await?;
    let mut count = 0;
    while let Some(event) = events.next().await {
        writeln!(out, "{}", event_line(&event?))?;
        out.flush()?;
        count += 1;
    }
    Ok(count)
}

/// `<time> <type> <action> <actor id>` for one event; API 1.23 and older daemons fill only the
/// old fields (`status`, `id`), which stand in for the missing ones.
fn event_line(event: &SystemEventsResponse) -> String {
    let time = event.time.unwrap_or_default();
    let kind = event.r#type.as_deref().unwrap_or("-");
    let action = event
        .action
        .as_deref()
        .or(event.status.as_deref())
        .unwrap_or("-");
    let actor = event
        .actor
        .as_ref()
        .and_then(|actor| actor.id.as_deref())
        .or(event.id.as_deref())
        .unwrap_or("-");
    format!("{time} {kind} {action} {actor}")
}

#[cfg(test)]
mod tests {
    use super::event_line;
    use drydock_client::models::{SystemEventsResponse, SystemEventsResponseActor};

    #[test]
    fn event_line_prefers_the_actor_over_the_old_fields() {
        let event = SystemEventsResponse {
            r#type: Some("container".to_owned()),
            action: Some("start".to_owned()),
            actor: Some(SystemEventsResponseActor {
                id: Some("abc".to_owned()),
                ..SystemEventsResponseActor::default()
            }),
            time: Some(7),
            status: Some("old".to_owned()),
            id: Some("old-id".to_owned()),
            ..SystemEventsResponse::default()
        };
        assert_eq!(event_line(&event), "7 container start abc");
    }

    #[test]
    fn event_line_falls_back_to_the_old_fields() {
        let event = SystemEventsResponse {
            status: Some("die".to_owned()),
            id: Some("def".to_owned()),
            ..SystemEventsResponse::default()
        };
        assert_eq!(event_line(&event), "0 - die def");
    }
}
