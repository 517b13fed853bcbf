//! Streams are not buffered: an event reaches the client while the
//! implementation still holds the next one back, and an upload reaches the
//! implementation while the client still holds the rest of it back.

use std::sync::Mutex;
use std::time::Duration;

use bytes::Bytes;
use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::containers::{PutContainerArchiveRequest, PutContainerArchiveResponse};
use drydock_server::system::{SystemEventsRequest, SystemEventsResponse};
use futures_util::StreamExt;
use tokio::sync::{mpsc, oneshot};

/// Events come from `events`; each upload's first chunk goes to `first_chunk`
/// and the total length to `upload_len`.
struct Streams {
    events: Mutex<Option<mpsc::Receiver<drydock_models::SystemEventsResponse>>>,
    first_chunk: Mutex<Option<oneshot::Sender<Bytes>>>,
    upload_len: Mutex<Option<oneshot::Sender<usize>>>,
}

impl drydock_server::System for Streams {
    async fn system_events(
        &self,
        _request: SystemEventsRequest,
        _version: ApiVersion,
    ) -> Result<SystemEventsResponse, ServerError> {
        let receiver = self
            .events
            .lock()
            .ok()
            .and_then(|mut r| r.take())
            .ok_or_else(|| ServerError::conflict("events already taken"))?;
        let messages = futures_util::stream::unfold(receiver, |mut receiver| async move {
            receiver.recv().await.map(|message| (message, receiver))
        });
        Ok(SystemEventsResponse::Status200(Box::pin(messages)))
    }
}

impl drydock_server::Containers for Streams {
    async fn put_container_archive(
        &self,
        mut request: PutContainerArchiveRequest,
        _version: ApiVersion,
    ) -> Result<PutContainerArchiveResponse, ServerError> {
        let mut total = 0;
        let mut first = self.first_chunk.lock().ok().and_then(|mut f| f.take());
        while let Some(chunk) = request.body.next().await {
            let chunk = chunk.map_err(|e| ServerError::bad_request(e.to_string()))?;
            total += chunk.len();
            if let Some(first) = first.take() {
                let _ = first.send(chunk);
            }
        }
        if let Some(len) = self.upload_len.lock().ok().and_then(|mut l| l.take()) {
            let _ = len.send(total);
        }
        Ok(PutContainerArchiveResponse::Status200)
    }
}

impl drydock_server::Configs for Streams {}
impl drydock_server::Distribution for Streams {}
impl drydock_server::Exec for Streams {}
impl drydock_server::Images for Streams {}
impl drydock_server::Networks for Streams {}
impl drydock_server::Nodes for Streams {}
impl drydock_server::Plugins for Streams {}
impl drydock_server::Secrets for Streams {}
impl drydock_server::Services for Streams {}
impl drydock_server::Session for Streams {}
impl drydock_server::Swarm for Streams {}
impl drydock_server::Tasks for Streams {}
impl drydock_server::Volumes for Streams {}

fn event(action: &str) -> drydock_models::SystemEventsResponse {
    serde_json::from_value(serde_json::json!({ "Type": "container", "Action": action }))
        .expect("an event")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_reach_the_client_one_by_one_and_uploads_reach_the_implementation_as_they_come() {
    let (event_sender, event_receiver) = mpsc::channel(1);
    let (first_sender, first_receiver) = oneshot::channel();
    let (len_sender, len_receiver) = oneshot::channel();
    let streams = Streams {
        events: Mutex::new(Some(event_receiver)),
        first_chunk: Mutex::new(Some(first_sender)),
        upload_len: Mutex::new(Some(len_sender)),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let base = format!("http://{}", listener.local_addr().expect("an address"));
    tokio::spawn(drydock_runtime::server::listen::serve_tcp(
        listener,
        drydock_server::router(streams),
    ));
    let client = reqwest::Client::new();

    let response = client
        .get(format!("{base}/v1.30/events"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    let mut body = response.bytes_stream();
    event_sender.send(event("start")).await.expect("sends");
    let first = tokio::time::timeout(Duration::from_secs(10), body.next())
        .await
        .expect("the first event arrives before the second is produced")
        .expect("a chunk")
        .expect("no error");
    assert_eq!(
        first,
        &b"{\"Type\":\"container\",\"Action\":\"start\"}\n"[..]
    );
    event_sender.send(event("die")).await.expect("sends");
    drop(event_sender);
    let rest: Vec<u8> = body
        .map(|chunk| chunk.expect("no error").to_vec())
        .concat()
        .await;
    assert_eq!(rest, b"{\"Type\":\"container\",\"Action\":\"die\"}\n");

    let (chunk_sender, chunk_receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(1);
    let upload = futures_util::stream::unfold(chunk_receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let put = tokio::spawn(
        client
            .put(format!("{base}/containers/c1/archive?path=%2Ftmp"))
            .header("Content-Type", "application/x-tar")
            .body(reqwest::Body::wrap_stream(upload))
            .send(),
    );
    chunk_sender
        .send(Ok(Bytes::from_static(b"first block")))
        .await
        .expect("sends");
    let seen = tokio::time::timeout(Duration::from_secs(10), first_receiver)
        .await
        .expect("the first block arrives before the rest is sent")
        .expect("a block");
    assert_eq!(seen, &b"first block"[..]);
    chunk_sender
        .send(Ok(Bytes::from(vec![0u8; 100_000])))
        .await
        .expect("sends");
    drop(chunk_sender);
    let response = put.await.expect("joins").expect("answers");
    assert_eq!(response.status().as_u16(), 200);
    assert_eq!(len_receiver.await.expect("a length"), 11 + 100_000);
}
