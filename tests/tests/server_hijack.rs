//! Hijacked attach: with `Connection: Upgrade` and `Upgrade: tcp` the server
//! answers `101 UPGRADED` and the connection becomes a duplex stream (stdin
//! in, multiplexed frames or a TTY's raw bytes out); without them the output
//! is a streamed body.

use std::path::PathBuf;

use bytes::Bytes;
use drydock_runtime::ApiVersion;
use drydock_runtime::frames::{Frame, StreamKind};
use drydock_runtime::server::ServerError;
use drydock_runtime::server::response::frames_body;
use drydock_server::containers::{ContainerAttachRequest, ContainerAttachResponse};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// Echoes its input: for container `tty` as raw bytes, otherwise as a stdout
/// frame followed by the upper-cased input on stderr.
struct Echo;

impl drydock_server::Containers for Echo {
    async fn container_attach(
        &self,
        request: ContainerAttachRequest,
        _version: ApiVersion,
    ) -> Result<ContainerAttachResponse, ServerError> {
        if request.id == "missing" {
            return Err(ServerError::not_found("No such container: missing"));
        }
        let tty = request.id == "tty";
        let (sender, receiver) = tokio::sync::mpsc::channel::<Bytes>(8);
        let hijack = request.hijack;
        tokio::spawn(async move {
            let Some(mut input) = hijack.input().await else {
                return;
            };
            let mut buffer = [0u8; 1024];
            while let Ok(n) = input.read(&mut buffer).await {
                if n == 0
                    || sender
                        .send(Bytes::copy_from_slice(&buffer[..n]))
                        .await
                        .is_err()
                {
                    break;
                }
            }
        });
        let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|chunk| (chunk, receiver))
        });
        let body = if tty {
            Box::pin(futures_util::StreamExt::map(chunks, Ok))
                as drydock_runtime::server::ByteStream
        } else {
            let frames = futures_util::StreamExt::flat_map(chunks, |chunk| {
                let upper = Bytes::from(chunk.to_ascii_uppercase());
                futures_util::stream::iter([
                    Frame::new(StreamKind::Stdout, chunk),
                    Frame::new(StreamKind::Stderr, upper),
                ])
            });
            frames_body(frames)
        };
        Ok(ContainerAttachResponse::Status200(body))
    }
}

impl drydock_server::Configs for Echo {}
impl drydock_server::Distribution for Echo {}
impl drydock_server::Exec for Echo {}
impl drydock_server::Images for Echo {}
impl drydock_server::Networks for Echo {}
impl drydock_server::Nodes for Echo {}
impl drydock_server::Plugins for Echo {}
impl drydock_server::Secrets for Echo {}
impl drydock_server::Services for Echo {}
impl drydock_server::Session for Echo {}
impl drydock_server::Swarm for Echo {}
impl drydock_server::System for Echo {}
impl drydock_server::Tasks for Echo {}
impl drydock_server::Volumes for Echo {}

async fn serve(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("drydock-hijack-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("creates the test directory");
    let socket = dir.join("docker.sock");
    let listener = drydock_runtime::server::listen::bind_unix(&socket).expect("binds");
    tokio::spawn(drydock_runtime::server::listen::serve_unix(
        listener,
        drydock_server::router(Echo),
    ));
    socket
}

/// Reads up to the end of the response head.
async fn read_head(stream: &mut UnixStream) -> String {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).await.expect("reads the head");
        assert_eq!(n, 1, "connection closed inside the head: {head:?}");
        head.push(byte[0]);
    }
    String::from_utf8(head).expect("the head is text")
}

async fn upgrade(socket: &PathBuf, container: &str) -> (UnixStream, String) {
    let mut stream = UnixStream::connect(socket).await.expect("connects");
    let request = format!(
        "POST /v1.30/containers/{container}/attach?stream=1&stdin=1&stdout=1&stderr=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Type: text/plain\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).await.expect("writes");
    let head = read_head(&mut stream).await;
    (stream, head)
}

fn frame(stream: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = vec![stream, 0, 0, 0];
    out.extend_from_slice(&(payload.len() as u32).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_attach_is_a_duplex_stream_of_multiplexed_frames() {
    let socket = serve("frames").await;
    let (mut stream, head) = upgrade(&socket, "plain").await;
    let lower = head.to_ascii_lowercase();
    assert!(head.starts_with("HTTP/1.1 101 UPGRADED\r\n"), "{head}");
    assert!(
        lower.contains("content-type: application/vnd.docker.raw-stream"),
        "{head}"
    );
    assert!(lower.contains("upgrade: tcp"), "{head}");
    assert!(lower.contains("api-version: 1.33"), "{head}");
    stream.write_all(b"hello\n").await.expect("writes stdin");
    let mut expected = frame(1, b"hello\n");
    expected.extend(frame(2, b"HELLO\n"));
    let mut got = vec![0u8; expected.len()];
    stream.read_exact(&mut got).await.expect("reads the frames");
    assert_eq!(got, expected);
    stream.write_all(b"again").await.expect("writes stdin");
    let mut got = vec![0u8; 8 + 5];
    stream.read_exact(&mut got).await.expect("reads a frame");
    assert_eq!(got, frame(1, b"again"));
    let mut got = vec![0u8; 8 + 5];
    stream.read_exact(&mut got).await.expect("reads a frame");
    assert_eq!(got, frame(2, b"AGAIN"));
    // Closing stdin ends the output, and the server closes the connection.
    stream.shutdown().await.expect("closes stdin");
    let mut rest = Vec::new();
    stream
        .read_to_end(&mut rest)
        .await
        .expect("reads to the end");
    assert!(rest.is_empty(), "{rest:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upgraded_attach_to_a_tty_passes_raw_bytes() {
    let socket = serve("tty").await;
    let (mut stream, head) = upgrade(&socket, "tty").await;
    assert!(head.starts_with("HTTP/1.1 101 UPGRADED\r\n"), "{head}");
    stream.write_all(b"ls -l\r").await.expect("writes stdin");
    let mut got = vec![0u8; 6];
    stream.read_exact(&mut got).await.expect("reads the echo");
    assert_eq!(got, b"ls -l\r");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attach_without_upgrade_streams_the_body() {
    let socket = serve("plain").await;
    let mut stream = UnixStream::connect(&socket).await.expect("connects");
    let request = "POST /containers/plain/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndata";
    stream.write_all(request.as_bytes()).await.expect("writes");
    let mut response = Vec::new();
    let read = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        stream.read_to_end(&mut response),
    )
    .await;
    assert!(
        read.is_ok(),
        "the answer did not end: {}",
        String::from_utf8_lossy(&response)
    );
    let text = String::from_utf8_lossy(&response).into_owned();
    assert!(text.starts_with("HTTP/1.1 200 OK\r\n"), "{text}");
    assert!(
        text.to_ascii_lowercase()
            .contains("content-type: application/vnd.docker.raw-stream"),
        "{text}"
    );
    // The body is chunked; each frame arrives whole in its own chunk.
    for expected in [frame(1, b"data"), frame(2, b"DATA")] {
        assert!(
            response.windows(expected.len()).any(|w| w == expected),
            "{text}"
        );
    }
    assert!(text.ends_with("\r\n0\r\n\r\n"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_attach_is_a_json_error_not_an_upgrade() {
    let socket = serve("refused").await;
    let (mut stream, head) = upgrade(&socket, "missing").await;
    assert!(head.starts_with("HTTP/1.1 404 Not Found\r\n"), "{head}");
    let expected = "{\"message\":\"No such container: missing\"}\n";
    let mut body = vec![0u8; expected.len()];
    stream.read_exact(&mut body).await.expect("reads the body");
    assert_eq!(String::from_utf8_lossy(&body), expected);
}
