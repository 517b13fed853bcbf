//! A container's files: `docker cp` (archive HEAD, GET and PUT), `docker export` and
//! `docker diff`, on the engine's [`drydock_engine::archive`] and
//! [`drydock_engine::changes`]. Each holds the container's operation lock while it runs (a
//! stopped container's root file system is mounted for it, privately), so a start or a
//! removal waits for a copy to end, as in dockerd.
//!
//! The container's binds and volumes, and the `/etc/hosts`, `/etc/hostname` and
//! `/etc/resolv.conf` the engine writes for it, are seen at their destinations (bound over the
//! root in the operation's private mount namespace, read-only ones read-only), as dockerd
//! mounts them for `docker cp`; `docker export` leaves them out, as dockerd does.
//!
//! Known differences from dockerd:
//! - a volume whose `_data` is itself mounted (the local driver's `type`/`device` options) is
//!   seen only while its container runs;
//! - an archive whose entries dockerd refuses half-way is refused whole, before anything is
//!   written, and with 400 rather than dockerd's 500 (an extraction folder that is not a
//!   folder too); a read-only root or volume is the 403 the API documents (dockerd: 500);
//! - uploads compressed with bzip2 or xz are refused (plain and gzip are taken).

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use drydock_engine::archive::{self, ExtractOptions, PathStat, RootView, ViewMount};
use drydock_engine::digest::Digest;
use drydock_engine::etc_files::EtcFiles;
use drydock_engine::mounts::MountType;
use drydock_runtime::server::{BodyStream, ByteStream, ServerError};
use futures_util::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

use super::lifecycle::publish;
use super::record::ContainerRecord;
use super::store::Container;
use crate::daemon::Daemon;
use crate::errors::{api_error, blocking};

/// How many chunks of a tar being written may wait for the client.
const CHUNKS_IN_FLIGHT: usize = 16;
/// The size of the chunks a tar is sent in.
const CHUNK_SIZE: usize = 64 * 1024;

/// The `X-Docker-Container-Path-Stat` header's value: the stat as JSON, in base64.
pub fn stat_header(stat: &PathStat) -> Result<String, ServerError> {
    let json = serde_json::to_vec(stat)
        .map_err(|e| ServerError::internal(format!("cannot encode the path's stat: {e}")))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(json))
}

/// A boolean query parameter as dockerd reads one (`httputils.BoolValue`): anything but
/// nothing, `0`, `no`, `false` and `none` is true.
pub fn query_true(value: Option<&str>) -> bool {
    let value = value.unwrap_or("").trim().to_ascii_lowercase();
    !matches!(value.as_str(), "" | "0" | "no" | "false" | "none")
}

/// dockerd's answer to an empty `path` (its text, missing space included).
fn check_path(path: &str) -> Result<(), ServerError> {
    if path.is_empty() {
        return Err(ServerError::bad_request(
            "bad parameter: pathcannot be empty",
        ));
    }
    Ok(())
}

/// What the engine's file operations see of the container.
fn view(daemon: &Daemon, record: &ContainerRecord) -> Result<RootView, ServerError> {
    let image = Digest::parse(&record.image_id)
        .ok_or_else(|| ServerError::internal(format!("bad image id {}", record.image_id)))?;
    Ok(RootView {
        rootfs_dir: daemon.runtime.rootfs_dir(&record.id),
        layers: daemon.images.layer_paths(&image).map_err(api_error)?,
        mounts: view_mounts(daemon, record),
    })
}

/// The container's binds, volumes and `/etc` files as its files are seen through them,
/// shallowest first; tmpfs mounts live only in the container and are not seen, as in dockerd.
fn view_mounts(daemon: &Daemon, record: &ContainerRecord) -> Vec<ViewMount> {
    let plan = &record.mounts;
    let files = EtcFiles::in_dir(&daemon.options.data_root.join("containers").join(&record.id));
    let etc_files = [
        (files.hostname, "/etc/hostname"),
        (files.hosts, "/etc/hosts"),
        (files.resolv_conf, "/etc/resolv.conf"),
    ]
    .into_iter()
    .filter(|(source, destination)| source.is_file() && !plan.has_mount_for(destination))
    .map(|(source, destination)| ViewMount {
        source,
        destination: destination.to_owned(),
        writable: record.host_config.readonly_rootfs != Some(true),
    });
    let mut mounts: Vec<ViewMount> = plan
        .points
        .iter()
        .filter(|point| point.kind != MountType::Tmpfs)
        .filter(|point| !plan.tmpfs.contains_key(&point.destination))
        .map(|point| ViewMount {
            source: PathBuf::from(&point.source),
            destination: point.destination.clone(),
            writable: point.rw,
        })
        .chain(etc_files)
        .collect();
    mounts.sort_by_key(|mount| mount.destination.matches('/').count());
    mounts
}

/// The stat of `path` in the container (`HEAD /containers/{id}/archive`); `reference` is
/// how the client named the container.
pub async fn stat(
    daemon: &Daemon,
    container: &Container,
    path: String,
    reference: String,
) -> Result<PathStat, ServerError> {
    check_path(&path)?;
    let _operation = container.operation.lock().await;
    let view = view(daemon, &container.snapshot())?;
    blocking(move || archive::stat(&view, &path, &reference)).await
}

/// A tar of `path` in the container and its stat (`GET /containers/{id}/archive`).
pub async fn archive(
    daemon: &Daemon,
    container: Arc<Container>,
    path: String,
    reference: String,
) -> Result<(PathStat, ByteStream), ServerError> {
    check_path(&path)?;
    tar_under_lock(daemon, container, "archive-path", move |view, chunks| {
        archive::archive(&view, &path, &reference, chunks)
    })
    .await
}

/// Starts `start` (which begins a tar of the container's files on a thread of the engine and
/// says what it found first) with the container's operation lock held until the tar is
/// written, and publishes `event` once it began.
async fn tar_under_lock<T: Send + 'static>(
    daemon: &Daemon,
    container: Arc<Container>,
    event: &'static str,
    start: impl FnOnce(RootView, Chunks) -> drydock_engine::Result<(T, TarWriter)> + Send + 'static,
) -> Result<(T, ByteStream), ServerError> {
    let (chunks, stream) = chunk_channel();
    let (started_tx, started_rx) = oneshot::channel();
    let daemon = daemon.clone();
    tokio::spawn(async move {
        let _operation = container.operation.lock().await;
        let record = container.snapshot();
        let started = match view(&daemon, &record) {
            Ok(view) => blocking(move || start(view, chunks)).await,
            Err(e) => Err(e),
        };
        match started {
            Ok((found, writer)) => {
                publish(&daemon, &record, event, &[]);
                let _ = started_tx.send(Ok(found));
                let _ = tokio::task::spawn_blocking(move || writer.join()).await;
            }
            Err(e) => {
                let _ = started_tx.send(Err(e));
            }
        }
    });
    let found = started_rx
        .await
        .map_err(|_| ServerError::internal("the archive task ended without an answer"))??;
    Ok((found, stream))
}

/// Extracts the uploaded tar into the folder `path` of the container
/// (`PUT /containers/{id}/archive`). The upload is kept in a file under the data root while it
/// is checked and extracted.
pub async fn extract(
    daemon: &Daemon,
    container: &Container,
    path: String,
    reference: String,
    mut options: ExtractOptions,
    body: BodyStream,
) -> Result<(), ServerError> {
    check_path(&path)?;
    let spool = Spool::create(daemon).await?;
    let mut file = tokio::fs::File::create(&spool.0)
        .await
        .map_err(|e| ServerError::internal(format!("cannot keep the upload: {e}")))?;
    let mut body = body;
    while let Some(chunk) = body.next().await {
        let chunk =
            chunk.map_err(|e| ServerError::bad_request(format!("the upload broke: {e}")))?;
        file.write_all(&chunk)
            .await
            .map_err(|e| ServerError::internal(format!("cannot keep the upload: {e}")))?;
    }
    file.flush()
        .await
        .map_err(|e| ServerError::internal(format!("cannot keep the upload: {e}")))?;
    drop(file);
    let _operation = container.operation.lock().await;
    let record = container.snapshot();
    let view = view(daemon, &record)?;
    options.user.clone_from(&record.config.user);
    options.readonly_rootfs = record.host_config.readonly_rootfs == Some(true);
    let tar = spool.0.clone();
    blocking(move || archive::extract(&view, &path, &reference, &tar, &options)).await?;
    publish(daemon, &record, "extract-to-dir", &[]);
    Ok(())
}

/// The container's whole root file system as a tar (`docker export`).
pub async fn export(daemon: &Daemon, container: Arc<Container>) -> Result<ByteStream, ServerError> {
    let ((), tar) = tar_under_lock(daemon, container, "export", |view, chunks| {
        archive::export(&view, chunks).map(|writer| ((), writer))
    })
    .await?;
    Ok(tar)
}

/// What the container changed in its image's files (`docker diff`).
pub async fn changes(
    daemon: &Daemon,
    record: &ContainerRecord,
) -> Result<Vec<drydock_models::ContainerChangesResponseItem>, ServerError> {
    let view = view(daemon, record)?;
    let changes =
        blocking(move || drydock_engine::changes::changes(&view.rootfs_dir, &view.layers)).await?;
    Ok(changes
        .into_iter()
        .map(|change| drydock_models::ContainerChangesResponseItem {
            path: Some(change.path),
            kind: Some(change.kind.code().into()),
        })
        .collect())
}

/// What a tar is written to: chunks of a response body.
type Chunks = io::BufWriter<ChunkSender>;

/// The engine's thread writing a tar.
type TarWriter = std::thread::JoinHandle<drydock_engine::Result<()>>;

/// A writer whose bytes go out as a response body, and that body.
fn chunk_channel() -> (Chunks, ByteStream) {
    let (sender, receiver) = mpsc::channel::<io::Result<Bytes>>(CHUNKS_IN_FLIGHT);
    let stream = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    (
        io::BufWriter::with_capacity(CHUNK_SIZE, ChunkSender(sender)),
        Box::pin(stream),
    )
}

/// Sends what is written, from a blocking thread, to a response body; fails once the client
/// is gone.
struct ChunkSender(mpsc::Sender<io::Result<Bytes>>);

impl Write for ChunkSender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0
            .blocking_send(Ok(Bytes::copy_from_slice(buf)))
            .map_err(|_| io::Error::from(io::ErrorKind::BrokenPipe))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An upload kept on disk, removed on drop.
struct Spool(PathBuf);

impl Spool {
    async fn create(daemon: &Daemon) -> Result<Spool, ServerError> {
        let dir = daemon.options.data_root.join("tmp");
        tokio::fs::create_dir_all(&dir)
            .await
            .map_err(|e| ServerError::internal(format!("cannot create {}: {e}", dir.display())))?;
        Ok(Spool(
            dir.join(format!("upload-{}", crate::daemon::random_hex(16))),
        ))
    }
}

impl Drop for Spool {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}
