//! The client transport against a real HTTP/1.1 server on a unix socket.
//!
//! The server below is a small, deliberately literal HTTP/1.1 responder on
//! a `tokio::net::UnixListener` that answers the way dockerd does: `/_ping`
//! with version headers, JSON error bodies, chunked progress streams,
//! multiplexed log bodies and a `101 UPGRADED` hijack for attach. Nothing
//! in reqwest is replaced: requests go through reqwest's unix connector and
//! real sockets.
#![cfg(all(unix, feature = "client"))]

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use drydock_runtime::connection::Connection;
use drydock_runtime::frames::{Frame, FrameCodec, StreamKind};
use drydock_runtime::transport::{ClientConfig, DockerHost, Timeouts};
use drydock_runtime::{ApiVersion, Error, MAX_API, MIN_API};
use futures_util::StreamExt;
use reqwest::Method;
use serde::Deserialize;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio_util::codec::{Encoder, FramedRead};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// A fake-free dockerd stand-in: a real listener on a fresh socket path.
struct Server {
    path: PathBuf,
    seen: Arc<Mutex<Vec<Seen>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
        std::fs::remove_file(&self.path).ok();
    }
}

impl Server {
    /// Starts a server whose `/_ping` sends `api_version` as `API-Version`
    /// (no header when `None`).
    fn start(api_version: Option<&'static str>) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let path = std::env::temp_dir().join(format!(
            "drydock-rt-{}-{}.sock",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        ));
        std::fs::remove_file(&path).ok();
        let listener = UnixListener::bind(&path).expect("bind the test socket");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = Arc::clone(&seen);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let log = Arc::clone(&log);
                tokio::spawn(async move {
                    // A connection error only ends that connection.
                    let _ = serve(stream, api_version, log).await;
                });
            }
        });
        Self { path, seen, task }
    }

    fn config(&self) -> ClientConfig {
        ClientConfig::from_vars(|name| match name {
            "DOCKER_HOST" => Some(format!("unix://{}", self.path.display())),
            _ => None,
        })
        .expect("config from DOCKER_HOST")
    }

    fn seen(&self) -> Vec<Seen> {
        self.seen.lock().expect("request log").clone()
    }
}

async fn read_request(reader: &mut BufReader<UnixStream>) -> std::io::Result<Option<Seen>> {
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Ok(None);
    }
    let mut parts = line.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let target = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).await? == 0 {
            return Ok(None);
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    let seen = Seen {
        method,
        target,
        headers,
    };
    if let Some(len) = seen.header("content-length") {
        let mut body = vec![0; len.parse().unwrap_or(0)];
        reader.read_exact(&mut body).await?;
    }
    Ok(Some(seen))
}

fn response(status: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (name, value) in headers {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    out.push_str("\r\n");
    let mut out = out.into_bytes();
    out.extend_from_slice(body);
    out
}

fn frames(frames: &[(StreamKind, &[u8])]) -> Vec<u8> {
    let mut codec = FrameCodec::new();
    let mut out = BytesMut::new();
    for (stream, payload) in frames {
        codec
            .encode(Frame::new(*stream, payload.to_vec()), &mut out)
            .expect("encode frame");
    }
    out.to_vec()
}

/// Writes `body` with chunked transfer encoding, in pieces of `piece`
/// bytes, flushing each so the client sees separate chunks.
async fn write_chunked(
    stream: &mut BufReader<UnixStream>,
    content_type: &str,
    body: &[u8],
    piece: usize,
) -> std::io::Result<()> {
    let head = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await?;
    stream.flush().await?;
    for chunk in body.chunks(piece) {
        stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .await?;
        stream.write_all(chunk).await?;
        stream.write_all(b"\r\n").await?;
        stream.flush().await?;
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    stream.write_all(b"0\r\n\r\n").await?;
    stream.flush().await
}

async fn serve(
    stream: UnixStream,
    api_version: Option<&'static str>,
    log: Arc<Mutex<Vec<Seen>>>,
) -> std::io::Result<()> {
    let mut stream = BufReader::new(stream);
    while let Some(request) = read_request(&mut stream).await? {
        log.lock().expect("request log").push(request.clone());
        let path = request.target.split('?').next().unwrap_or_default();
        let version_prefix = format!("/v{}", api_version.unwrap_or("1.23"));
        let route = path.strip_prefix(version_prefix.as_str()).unwrap_or(path);
        match (request.method.as_str(), route) {
            ("GET", "/_ping") => {
                let mut headers = vec![("OSType", "linux"), ("Docker-Experimental", "true")];
                if let Some(version) = api_version {
                    headers.push(("API-Version", version));
                }
                stream
                    .write_all(&response("200 OK", &headers, b"OK"))
                    .await?;
            }
            ("GET", "/containers/abc/json") => {
                let body = br#"{"Id":"abc","Name":"/web"}"#;
                let headers = [("Content-Type", "application/json")];
                stream
                    .write_all(&response("200 OK", &headers, body))
                    .await?;
            }
            ("GET", "/containers/missing/json") => {
                let body = br#"{"message":"No such container: missing"}"#;
                let headers = [("Content-Type", "application/json")];
                stream
                    .write_all(&response("404 Not Found", &headers, body))
                    .await?;
            }
            ("GET", "/info") => {
                let body = br#"{"Containers":"many"}"#;
                stream.write_all(&response("200 OK", &[], body)).await?;
            }
            ("POST", "/containers/abc/stop") => {
                stream
                    .write_all(&response("500 Internal Server Error", &[], b""))
                    .await?;
            }
            ("GET", "/containers/abc/logs") => {
                let body = frames(&[
                    (StreamKind::Stdout, b"line one\n"),
                    (StreamKind::Stderr, b"warning\n"),
                    (StreamKind::Stdout, b"line two\n"),
                ]);
                write_chunked(&mut stream, "application/vnd.docker.raw-stream", &body, 5).await?;
            }
            ("POST", "/images/create") => {
                let body = concat!(
                    "{\"status\":\"Pulling from library/alpine\",\"id\":\"latest\"}\r\n",
                    "{\"status\":\"Downloading\",\"id\":\"a1\"}\r\n",
                    "{\"errorDetail\":{\"message\":\"unauthorized\"},\"error\":\"unauthorized\"}\r\n"
                );
                write_chunked(&mut stream, "application/json", body.as_bytes(), 7).await?;
            }
            ("GET", "/slow") => {
                tokio::time::sleep(Duration::from_secs(5)).await;
                stream.write_all(&response("200 OK", &[], b"{}")).await?;
            }
            ("POST", "/containers/abc/attach") if request.header("upgrade") == Some("tcp") => {
                stream
                    .write_all(
                        b"HTTP/1.1 101 UPGRADED\r\nContent-Type: application/vnd.docker.raw-stream\r\nConnection: Upgrade\r\nUpgrade: tcp\r\n\r\n",
                    )
                    .await?;
                stream
                    .write_all(&frames(&[(StreamKind::Stdout, b"ready\n")]))
                    .await?;
                stream.flush().await?;
                // Echo one line of stdin back on stderr, then hang up.
                let mut line = Vec::new();
                stream.read_until(b'\n', &mut line).await?;
                stream
                    .write_all(&frames(&[(StreamKind::Stderr, &line)]))
                    .await?;
                stream.shutdown().await?;
                return Ok(());
            }
            ("POST", "/containers/plain/attach") => {
                stream.write_all(&response("200 OK", &[], b"")).await?;
            }
            _ => {
                let body = format!(r#"{{"message":"page not found: {path}"}}"#);
                stream
                    .write_all(&response("404 Not Found", &[], body.as_bytes()))
                    .await?;
            }
        }
        stream.flush().await?;
    }
    Ok(())
}

/// A stand-in daemon speaking API 1.30 and a connection negotiated with it.
async fn connected_at_1_30() -> (Server, Connection) {
    let server = Server::start(Some("1.30"));
    let connection = Connection::connect(&server.config())
        .await
        .expect("connect");
    (server, connection)
}

#[tokio::test]
async fn ping_reads_api_version_and_daemon_headers() {
    let (server, connection) = connected_at_1_30().await;
    let ping = connection.ping().await.expect("ping");
    assert_eq!(ping.api_version, Some(ApiVersion::new(1, 30)));
    assert_eq!(ping.os_type.as_deref(), Some("linux"));
    assert!(ping.experimental);
    let seen = server.seen();
    assert!(
        seen.iter()
            .all(|r| r.method == "GET" && r.target == "/_ping")
    );
}

#[tokio::test]
async fn connect_negotiates_daemon_version_and_prefixes_requests() {
    let (server, connection) = connected_at_1_30().await;
    assert_eq!(connection.version(), ApiVersion::new(1, 30));

    #[derive(Deserialize)]
    struct Inspect {
        #[serde(rename = "Id")]
        id: String,
        #[serde(rename = "Name")]
        name: String,
    }
    let request = connection.request(Method::GET, "/containers/abc/json");
    let inspect: Inspect = connection
        .send_json("ContainerInspect", request)
        .await
        .expect("inspect");
    assert_eq!(
        (inspect.id.as_str(), inspect.name.as_str()),
        ("abc", "/web")
    );
    let seen = server.seen();
    assert_eq!(
        seen.last().map(|r| r.target.as_str()),
        Some("/v1.30/containers/abc/json")
    );
}

#[tokio::test]
async fn newer_daemon_is_spoken_to_at_max_api() {
    let server = Server::start(Some("1.43"));
    let connection = Connection::connect(&server.config())
        .await
        .expect("connect");
    assert_eq!(connection.version(), MAX_API);
    let err = connection
        .send_empty(
            "ContainerList",
            connection.request(Method::GET, "/containers/json"),
        )
        .await
        .expect_err("the stand-in routes only /v1.43");
    assert!(err.to_string().contains("/v1.33/containers/json"), "{err}");
}

#[tokio::test]
async fn daemon_without_version_header_gets_min_api() {
    let server = Server::start(None);
    let connection = Connection::connect(&server.config())
        .await
        .expect("connect");
    assert_eq!(connection.version(), MIN_API);
}

#[tokio::test]
async fn too_old_daemon_fails_to_connect() {
    let server = Server::start(Some("1.19"));
    let err = Connection::connect(&server.config())
        .await
        .expect_err("1.19 is too old");
    assert!(matches!(err, Error::DaemonTooOld { .. }), "{err}");
}

#[tokio::test]
async fn pinned_version_skips_the_ping() {
    let server = Server::start(Some("1.30"));
    let mut config = server.config();
    config.api_version = Some(ApiVersion::new(1, 25));
    let connection = Connection::connect(&config).await.expect("connect");
    assert_eq!(connection.version(), ApiVersion::new(1, 25));
    assert!(server.seen().is_empty(), "{:?}", server.seen());
    assert!(
        connection
            .require("HostConfig.Init", ApiVersion::new(1, 25))
            .is_ok()
    );
    let err = connection
        .require("HostConfig.Runtime.Something", ApiVersion::new(1, 30))
        .expect_err("gated");
    assert!(matches!(err, Error::VersionGate { .. }));
}

#[tokio::test]
async fn error_status_becomes_daemon_error_with_its_message() {
    let (_server, connection) = connected_at_1_30().await;
    let request = connection.request(Method::GET, "/containers/missing/json");
    let err = connection
        .send_empty("ContainerInspect", request)
        .await
        .expect_err("404");
    match err {
        Error::Daemon {
            status,
            message,
            body,
        } => {
            assert_eq!(status, 404);
            assert_eq!(message, "No such container: missing");
            assert!(
                String::from_utf8_lossy(&body).contains("No such container: missing"),
                "the body is kept as it came"
            );
        }
        other => panic!("expected a daemon error, got {other}"),
    }
    let request = connection.request(Method::POST, "/containers/abc/stop");
    let err = connection
        .send_empty("ContainerStop", request)
        .await
        .expect_err("500");
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("Internal Server Error"), "{err}");
}

#[tokio::test]
async fn undecodable_body_names_the_operation() {
    // The body's "Containers" is a string; a map of counts does not fit it.
    type Info = std::collections::HashMap<String, u64>;
    let (_server, connection) = connected_at_1_30().await;
    let err = connection
        .send_json::<Info>("SystemInfo", connection.request(Method::GET, "/info"))
        .await
        .expect_err("Containers is a string");
    assert!(matches!(err, Error::Decode { ref operation, .. } if operation == "SystemInfo"));
    assert!(
        err.to_string()
            .starts_with("could not decode the response of SystemInfo")
    );
}

#[tokio::test]
async fn log_body_decodes_into_frames_across_chunks() {
    let (server, connection) = connected_at_1_30().await;
    let request = connection
        .request(Method::GET, "/containers/abc/logs")
        .query(&[("stdout", "1"), ("stderr", "1")]);
    let frames: Vec<Frame> = connection
        .send_frames("ContainerLogs", request)
        .await
        .expect("logs")
        .map(|frame| frame.expect("frame"))
        .collect()
        .await;
    assert_eq!(
        frames,
        [
            Frame::new(StreamKind::Stdout, &b"line one\n"[..]),
            Frame::new(StreamKind::Stderr, &b"warning\n"[..]),
            Frame::new(StreamKind::Stdout, &b"line two\n"[..]),
        ]
    );
    let seen = server.seen();
    assert_eq!(
        seen.last().map(|r| r.target.as_str()),
        Some("/v1.30/containers/abc/logs?stdout=1&stderr=1")
    );
}

#[tokio::test]
async fn progress_stream_surfaces_in_band_error() {
    #[derive(Debug, Deserialize)]
    struct Progress {
        status: String,
    }
    let (_server, connection) = connected_at_1_30().await;
    let request = connection
        .request(Method::POST, "/images/create")
        .query(&[("fromImage", "alpine")]);
    let items: Vec<Result<Progress, Error>> = connection
        .send_json_stream("ImageCreate", request)
        .await
        .expect("stream starts")
        .collect()
        .await;
    assert_eq!(items.len(), 3);
    assert_eq!(
        items[1].as_ref().map(|p| p.status.as_str()).ok(),
        Some("Downloading")
    );
    assert!(
        matches!(&items[2], Err(Error::Stream { message, .. }) if message == "unauthorized"),
        "{:?}",
        items[2]
    );
}

#[tokio::test]
async fn attach_upgrades_to_a_duplex_frame_stream() {
    let (server, connection) = connected_at_1_30().await;
    let request = connection
        .request(Method::POST, "/containers/abc/attach")
        .query(&[("stream", "1"), ("stdin", "1"), ("stdout", "1")]);
    let io = connection
        .upgrade("ContainerAttach", request)
        .await
        .expect("upgrade");
    let (read, mut write) = tokio::io::split(io);
    let mut frames = FramedRead::new(read, FrameCodec::new());
    let first = frames.next().await.expect("a frame").expect("valid");
    assert_eq!(first, Frame::new(StreamKind::Stdout, &b"ready\n"[..]));
    write
        .write_all(b"ping from stdin\n")
        .await
        .expect("write stdin");
    write.flush().await.expect("flush");
    let echoed = frames.next().await.expect("a frame").expect("valid");
    assert_eq!(
        echoed,
        Frame::new(StreamKind::Stderr, &b"ping from stdin\n"[..])
    );
    assert!(frames.next().await.is_none(), "the server hung up");

    let attach = server
        .seen()
        .into_iter()
        .find(|r| r.target.starts_with("/v1.30/containers/abc/attach"))
        .expect("attach request seen");
    assert_eq!(attach.header("upgrade"), Some("tcp"));
    assert_eq!(
        attach
            .header("connection")
            .map(str::to_ascii_lowercase)
            .as_deref(),
        Some("upgrade")
    );
}

#[tokio::test]
async fn attach_without_101_is_refused() {
    let (_server, connection) = connected_at_1_30().await;
    let request = connection.request(Method::POST, "/containers/plain/attach");
    let err = connection
        .upgrade("ContainerAttach", request)
        .await
        .expect_err("no upgrade");
    assert!(
        matches!(err, Error::UpgradeRefused { status: 200, .. }),
        "{err}"
    );
}

#[tokio::test]
async fn request_timeout_is_reported_as_timeout() {
    let server = Server::start(Some("1.30"));
    let mut config = server.config();
    config.timeouts = Timeouts {
        request: Some(Duration::from_millis(200)),
        ..Timeouts::default()
    };
    let connection = Connection::connect(&config).await.expect("connect");
    let err = connection
        .send_empty("Slow", connection.request(Method::GET, "/slow"))
        .await
        .expect_err("times out");
    assert!(err.is_timeout(), "{err:?}");
    assert!(err.to_string().contains("Slow (GET /v1.30/slow)"), "{err}");
}

#[tokio::test]
async fn missing_socket_is_a_transport_error_naming_the_request() {
    let path = std::env::temp_dir().join(format!("drydock-rt-{}-absent.sock", std::process::id()));
    let config = ClientConfig::new(DockerHost::Unix(path));
    let err = Connection::connect(&config).await.expect_err("no daemon");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    assert!(
        err.to_string().starts_with("Ping (GET /_ping) failed"),
        "{err}"
    );
}
