//! Hijacked connections: attach and exec start.
//!
//! A client that sends `Connection: Upgrade` and `Upgrade: tcp` gets
//! `101 UPGRADED` with `Content-Type: application/vnd.docker.raw-stream`, and
//! the connection becomes a raw duplex stream: what the implementation
//! returns as the answer's body is written to it as it comes (multiplexed
//! frames or a TTY's raw bytes), and what the client writes (its stdin)
//! reaches the implementation through [`Hijack::input`]. Without those
//! headers the answer is an ordinary streamed body and the input is the
//! request body.

use std::pin::Pin;

use futures_util::StreamExt;
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWriteExt};
use tokio::sync::oneshot;

use super::request::BodyStream;
use super::response::ByteStream;

/// The input half of a hijacked connection, as the implementation reads it.
pub type HijackInput = Pin<Box<dyn AsyncRead + Send>>;

/// Where a hijacking operation reads its client's input from.
pub struct Hijack {
    source: Source,
}

enum Source {
    Upgraded(oneshot::Receiver<HijackInput>),
    Body(BodyStream),
    Ready(HijackInput),
}

impl std::fmt::Debug for Hijack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hijack")
            .field("upgraded", &self.is_upgraded())
            .finish()
    }
}

impl Hijack {
    /// Input read from a request body (no upgrade asked for).
    pub fn from_body(body: BodyStream) -> Self {
        Hijack {
            source: Source::Body(body),
        }
    }

    /// Input already in hand: what [`Hijack::input`] gave, handed on (an
    /// implementation that waited for the upgrade before it went on).
    pub fn from_input(input: HijackInput) -> Self {
        Hijack {
            source: Source::Ready(input),
        }
    }

    /// An upgraded connection's input, with the sender the runtime hands
    /// the connection's read half to once the `101` is out.
    pub(crate) fn upgraded() -> (Self, oneshot::Sender<HijackInput>) {
        let (sender, receiver) = oneshot::channel();
        (
            Hijack {
                source: Source::Upgraded(receiver),
            },
            sender,
        )
    }

    /// Whether the client asked to upgrade the connection.
    pub fn is_upgraded(&self) -> bool {
        matches!(self.source, Source::Upgraded(_))
    }

    /// The client's input: the upgraded connection's read half (available
    /// once the `101` is sent, so await it in a task of its own, not before
    /// answering), or the request body. `None` when the upgrade failed.
    pub async fn input(self) -> Option<HijackInput> {
        match self.source {
            Source::Upgraded(receiver) => receiver.await.ok(),
            Source::Body(body) => Some(Box::pin(body.into_async_read())),
            Source::Ready(input) => Some(input),
        }
    }
}

/// Once hyper has switched protocols: hands the read half to the
/// implementation and writes `output` to the write half, then closes it.
pub(crate) async fn run_upgraded(
    on_upgrade: OnUpgrade,
    input: oneshot::Sender<HijackInput>,
    mut output: ByteStream,
) {
    let Ok(upgraded) = on_upgrade.await else {
        return;
    };
    let (read, mut write) = tokio::io::split(TokioIo::new(upgraded));
    // The implementation may have stopped listening; its output still goes out.
    let _ = input.send(Box::pin(read));
    while let Some(chunk) = output.next().await {
        let Ok(chunk) = chunk else { break };
        if write.write_all(&chunk).await.is_err() {
            return;
        }
        if write.flush().await.is_err() {
            return;
        }
    }
    let _ = write.shutdown().await;
}
