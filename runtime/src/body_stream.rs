//! Running a [`Decoder`] over a stream of byte chunks, such as an HTTP
//! response body (`GET /containers/{id}/logs`, `GET /events`,
//! `POST /images/create`).
//!
//! For an `AsyncRead` (the IO of a hijacked attach) use
//! [`tokio_util::codec::FramedRead`] instead.

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::{Bytes, BytesMut};
use futures_util::Stream;
use tokio_util::codec::Decoder;

use crate::error::Error;

/// A stream of decoded items from a stream of byte chunks; see
/// [`decode_body`].
pub struct DecodedBody<S, D> {
    chunks: Pin<Box<S>>,
    decoder: D,
    buffer: BytesMut,
    finished: bool,
}

impl<S, D: std::fmt::Debug> std::fmt::Debug for DecodedBody<S, D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DecodedBody")
            .field("decoder", &self.decoder)
            .field("buffered", &self.buffer.len())
            .field("finished", &self.finished)
            .finish()
    }
}

/// Decodes `chunks` with `decoder`: items come out as soon as their bytes
/// are in, whatever the chunking. The stream ends after the first error.
pub fn decode_body<S, E, D>(chunks: S, decoder: D) -> DecodedBody<S, D>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Error>,
    D: Decoder<Error = Error>,
{
    DecodedBody {
        chunks: Box::pin(chunks),
        decoder,
        buffer: BytesMut::new(),
        finished: false,
    }
}

impl<S, D> DecodedBody<S, D> {
    /// The decoder, for its offset and settings.
    pub fn decoder(&self) -> &D {
        &self.decoder
    }
}

impl<S, E, D> Stream for DecodedBody<S, D>
where
    S: Stream<Item = Result<Bytes, E>>,
    E: Into<Error>,
    D: Decoder<Error = Error> + Unpin,
{
    type Item = Result<D::Item, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            match this.decoder.decode(&mut this.buffer) {
                Ok(Some(item)) => return Poll::Ready(Some(Ok(item))),
                Ok(None) => {}
                Err(err) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(err)));
                }
            }
            match this.chunks.as_mut().poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => this.buffer.extend_from_slice(&chunk),
                Poll::Ready(Some(Err(err))) => {
                    this.finished = true;
                    return Poll::Ready(Some(Err(err.into())));
                }
                Poll::Ready(None) => {
                    let last = this.decoder.decode_eof(&mut this.buffer);
                    match last {
                        Ok(Some(item)) => return Poll::Ready(Some(Ok(item))),
                        Ok(None) => {
                            this.finished = true;
                            return Poll::Ready(None);
                        }
                        Err(err) => {
                            this.finished = true;
                            return Poll::Ready(Some(Err(err)));
                        }
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures_util::{StreamExt, stream};

    use super::*;
    use crate::frames::{Frame, FrameCodec, StreamKind};
    use crate::json_stream::JsonStreamCodec;

    #[tokio::test]
    async fn decodes_frames_across_body_chunks() {
        let body = b"\x01\0\0\0\0\0\0\x03out\x02\0\0\0\0\0\0\x03err";
        let chunks: Vec<Result<Bytes, Error>> = body
            .chunks(5)
            .map(|c| Ok(Bytes::copy_from_slice(c)))
            .collect();
        let frames: Vec<Frame> = decode_body(stream::iter(chunks), FrameCodec::new())
            .map(|f| f.expect("frame"))
            .collect()
            .await;
        assert_eq!(
            frames,
            [
                Frame::new(StreamKind::Stdout, &b"out"[..]),
                Frame::new(StreamKind::Stderr, &b"err"[..]),
            ]
        );
    }

    #[tokio::test]
    async fn body_error_ends_the_stream_after_reporting_it() {
        let chunks: Vec<Result<Bytes, Error>> = vec![
            Ok(Bytes::from_static(b"{\"a\":1}\n{\"a\"")),
            Err(Error::Io(std::io::Error::other("connection reset"))),
            Ok(Bytes::from_static(b":2}")),
        ];
        let items: Vec<Result<serde_json::Value, Error>> =
            decode_body(stream::iter(chunks), JsonStreamCodec::new())
                .collect()
                .await;
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert!(matches!(items[1], Err(Error::Io(_))));
    }

    #[tokio::test]
    async fn truncated_body_reports_truncation() {
        let chunks: Vec<Result<Bytes, Error>> =
            vec![Ok(Bytes::from_static(b"\x01\0\0\0\0\0\0\x09short"))];
        let items: Vec<_> = decode_body(stream::iter(chunks), FrameCodec::new())
            .collect()
            .await;
        assert_eq!(items.len(), 1);
        assert!(matches!(items[0], Err(Error::Frame { .. })));
    }
}
