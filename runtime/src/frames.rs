//! Docker's multiplexed stdout/stderr stream format.
//!
//! Attach, exec and logs of a container without a TTY interleave its
//! outputs in frames: an 8-byte header — the stream type (0 stdin, 1
//! stdout, 2 stderr), three zero bytes, the payload length as a big-endian
//! `u32` — followed by that many payload bytes.
//!
//! [`FrameCodec`] is a [`Decoder`]/[`Encoder`] pair for this format. It is
//! incremental (any chunking of the input gives the same frames), it caps the
//! payload size, and malformed input — an unknown stream type, non-zero
//! padding, a stream that ends inside a frame — is an [`Error::Frame`]
//! naming the byte offset, never a panic. Wrap an `AsyncRead` (such as the
//! IO of a hijacked attach) with [`tokio_util::codec::FramedRead`], or a
//! stream of body chunks with [`crate::body_stream::decode_body`].

use bytes::{Buf, BufMut, Bytes, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::error::{Error, FrameErrorKind};

/// Length of a frame header.
pub const HEADER_LEN: usize = 8;

/// The payload cap [`FrameCodec::new`] uses: 16 MiB. The daemon writes
/// frames of at most a few tens of KiB, so a larger header is garbage.
pub const DEFAULT_MAX_PAYLOAD: usize = 16 * 1024 * 1024;

/// Which of a container's streams a frame belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StreamKind {
    /// Standard input (type byte 0; daemons echo it only in rare setups).
    Stdin,
    /// Standard output (type byte 1).
    Stdout,
    /// Standard error (type byte 2).
    Stderr,
}

impl StreamKind {
    /// The header's type byte.
    pub const fn as_byte(self) -> u8 {
        match self {
            Self::Stdin => 0,
            Self::Stdout => 1,
            Self::Stderr => 2,
        }
    }

    /// The stream with this type byte, if any.
    pub const fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            0 => Some(Self::Stdin),
            1 => Some(Self::Stdout),
            2 => Some(Self::Stderr),
            _ => None,
        }
    }
}

/// One frame of a multiplexed stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// The stream the payload belongs to.
    pub stream: StreamKind,
    /// The bytes written to it.
    pub payload: Bytes,
}

impl Frame {
    /// A frame of `payload` on `stream`.
    pub fn new(stream: StreamKind, payload: impl Into<Bytes>) -> Self {
        Self {
            stream,
            payload: payload.into(),
        }
    }
}

/// Encoder and incremental decoder of multiplexed frames.
#[derive(Debug, Clone)]
pub struct FrameCodec {
    max_payload: usize,
    /// Bytes of the stream consumed so far, for error offsets.
    offset: u64,
}

impl Default for FrameCodec {
    fn default() -> Self {
        Self::new()
    }
}

impl FrameCodec {
    /// A codec with the [`DEFAULT_MAX_PAYLOAD`] cap.
    pub fn new() -> Self {
        Self::with_max_payload(DEFAULT_MAX_PAYLOAD)
    }

    /// A codec whose decoder rejects frames with payloads over `max_payload`
    /// bytes, and whose encoder splits longer payloads into several frames.
    /// A cap of 0 is raised to 1.
    pub fn with_max_payload(max_payload: usize) -> Self {
        Self {
            max_payload: max_payload.clamp(1, u32::MAX as usize),
            offset: 0,
        }
    }

    /// The payload cap.
    pub fn max_payload(&self) -> usize {
        self.max_payload
    }

    /// How many bytes of the stream the decoder has consumed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    fn error(&self, kind: FrameErrorKind) -> Error {
        Error::Frame {
            offset: self.offset,
            kind,
        }
    }

    /// Checks the header at the front of `src` (which holds at least
    /// [`HEADER_LEN`] bytes) and returns its stream and payload length.
    fn parse_header(&self, src: &[u8]) -> Result<(StreamKind, usize), Error> {
        let stream = StreamKind::from_byte(src[0])
            .ok_or_else(|| self.error(FrameErrorKind::UnknownStream(src[0])))?;
        let padding = [src[1], src[2], src[3]];
        if padding != [0, 0, 0] {
            return Err(self.error(FrameErrorKind::NonZeroPadding(padding)));
        }
        let len = u32::from_be_bytes([src[4], src[5], src[6], src[7]]);
        let len = usize::try_from(len).unwrap_or(usize::MAX);
        if len > self.max_payload {
            return Err(self.error(FrameErrorKind::TooLarge {
                len: len as u64,
                max: self.max_payload,
            }));
        }
        Ok((stream, len))
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if src.len() < HEADER_LEN {
            // A header's first byte can already be judged; fail early on
            // garbage rather than waiting for more of it.
            if let Some(&first) = src.first()
                && StreamKind::from_byte(first).is_none()
            {
                return Err(self.error(FrameErrorKind::UnknownStream(first)));
            }
            return Ok(None);
        }
        let (stream, len) = self.parse_header(src)?;
        let total = HEADER_LEN + len;
        if src.len() < total {
            src.reserve(total - src.len());
            return Ok(None);
        }
        src.advance(HEADER_LEN);
        let payload = src.split_to(len).freeze();
        self.offset += total as u64;
        Ok(Some(Frame { stream, payload }))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, Error> {
        if let Some(frame) = self.decode(src)? {
            return Ok(Some(frame));
        }
        if src.is_empty() {
            return Ok(None);
        }
        let kind = if src.len() < HEADER_LEN {
            FrameErrorKind::TruncatedHeader { got: src.len() }
        } else {
            let (_, len) = self.parse_header(src)?;
            FrameErrorKind::TruncatedPayload {
                expected: u32::try_from(len).unwrap_or(u32::MAX),
                got: src.len() - HEADER_LEN,
            }
        };
        Err(self.error(kind))
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = Error;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), Error> {
        let payload = frame.payload;
        if payload.is_empty() {
            put_header(dst, frame.stream, 0);
            return Ok(());
        }
        dst.reserve(payload.len() + HEADER_LEN * payload.len().div_ceil(self.max_payload));
        for chunk in payload.chunks(self.max_payload) {
            // `max_payload` is clamped to `u32::MAX`, so this cannot saturate.
            let len = u32::try_from(chunk.len()).unwrap_or(u32::MAX);
            put_header(dst, frame.stream, len);
            dst.put_slice(chunk);
        }
        Ok(())
    }
}

fn put_header(dst: &mut BytesMut, stream: StreamKind, len: u32) {
    dst.put_u8(stream.as_byte());
    dst.put_bytes(0, 3);
    dst.put_u32(len);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode_all(frames: &[Frame]) -> BytesMut {
        let mut codec = FrameCodec::new();
        let mut out = BytesMut::new();
        for frame in frames {
            codec.encode(frame.clone(), &mut out).expect("encodes");
        }
        out
    }

    /// Feeds `input` in the given chunk sizes and decodes to the end.
    fn decode_chunked(
        codec: &mut FrameCodec,
        input: &[u8],
        cuts: &[usize],
    ) -> Result<Vec<Frame>, Error> {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            let cut = cut.clamp(start, input.len());
            buf.extend_from_slice(&input[start..cut]);
            start = cut;
            while let Some(frame) = codec.decode(&mut buf)? {
                frames.push(frame);
            }
        }
        while let Some(frame) = codec.decode_eof(&mut buf)? {
            frames.push(frame);
        }
        Ok(frames)
    }

    fn sample() -> Vec<Frame> {
        vec![
            Frame::new(StreamKind::Stdout, &b"hello\n"[..]),
            Frame::new(StreamKind::Stderr, &b"oops: \xff not utf-8\n"[..]),
            Frame::new(StreamKind::Stdout, Bytes::new()),
            Frame::new(StreamKind::Stdin, vec![7u8; 300]),
        ]
    }

    #[test]
    fn header_layout_matches_docker() {
        let bytes = encode_all(&[Frame::new(StreamKind::Stderr, &b"abc"[..])]);
        assert_eq!(&bytes[..], b"\x02\x00\x00\x00\x00\x00\x00\x03abc");
    }

    #[test]
    fn round_trips_frames() {
        let frames = sample();
        let bytes = encode_all(&frames);
        let decoded = decode_chunked(&mut FrameCodec::new(), &bytes, &[]).expect("decodes");
        assert_eq!(decoded, frames);
    }

    #[test]
    fn split_at_every_byte_boundary_gives_same_frames() {
        let frames = sample();
        let bytes = encode_all(&frames);
        for cut in 0..=bytes.len() {
            let decoded = decode_chunked(&mut FrameCodec::new(), &bytes, &[cut]).expect("decodes");
            assert_eq!(decoded, frames, "cut at {cut}");
        }
        // One byte at a time.
        let every: Vec<usize> = (0..bytes.len()).collect();
        let decoded = decode_chunked(&mut FrameCodec::new(), &bytes, &every).expect("decodes");
        assert_eq!(decoded, frames);
    }

    #[test]
    fn truncated_header_at_eof_is_an_error() {
        let bytes = encode_all(&sample());
        let err = decode_chunked(&mut FrameCodec::new(), &bytes[..bytes.len() - 300 - 5], &[])
            .expect_err("truncated");
        match err {
            Error::Frame {
                kind: FrameErrorKind::TruncatedHeader { got: 3 },
                ..
            } => {}
            other => panic!("unexpected {other}"),
        }
    }

    #[test]
    fn truncated_payload_at_eof_names_lengths_and_offset() {
        let bytes = encode_all(&[
            Frame::new(StreamKind::Stdout, &b"ok"[..]),
            Frame::new(StreamKind::Stdout, &b"cut short"[..]),
        ]);
        let err = decode_chunked(&mut FrameCodec::new(), &bytes[..bytes.len() - 4], &[])
            .expect_err("truncated");
        assert_eq!(
            err.to_string(),
            "bad frame at byte 10 of the stream: stream ended inside a frame payload (5 of 9 bytes)"
        );
    }

    #[test]
    fn unknown_stream_type_is_an_error() {
        let err = decode_chunked(&mut FrameCodec::new(), b"\x03\0\0\0\0\0\0\x01x", &[])
            .expect_err("bad type");
        assert!(matches!(
            err,
            Error::Frame {
                offset: 0,
                kind: FrameErrorKind::UnknownStream(3)
            }
        ));
    }

    #[test]
    fn tty_text_is_rejected_at_its_first_byte() {
        let mut codec = FrameCodec::new();
        let mut buf = BytesMut::from(&b"h"[..]);
        let err = codec.decode(&mut buf).expect_err("text is not a frame");
        assert!(matches!(
            err,
            Error::Frame {
                kind: FrameErrorKind::UnknownStream(b'h'),
                ..
            }
        ));
    }

    #[test]
    fn non_zero_padding_is_an_error() {
        let err = decode_chunked(&mut FrameCodec::new(), b"\x01\0\x01\0\0\0\0\0", &[])
            .expect_err("bad padding");
        assert!(matches!(
            err,
            Error::Frame {
                kind: FrameErrorKind::NonZeroPadding([0, 1, 0]),
                ..
            }
        ));
    }

    #[test]
    fn payload_over_cap_is_rejected_before_buffering() {
        let mut codec = FrameCodec::with_max_payload(16);
        let mut buf = BytesMut::from(&b"\x01\0\0\0\xff\xff\xff\xff"[..]);
        let err = codec.decode(&mut buf).expect_err("too large");
        assert!(matches!(
            err,
            Error::Frame {
                kind: FrameErrorKind::TooLarge {
                    len: 4_294_967_295,
                    max: 16
                },
                ..
            }
        ));
    }

    #[test]
    fn encoder_splits_payloads_over_cap() {
        let mut codec = FrameCodec::with_max_payload(4);
        let mut out = BytesMut::new();
        codec
            .encode(Frame::new(StreamKind::Stdout, &b"abcdefghij"[..]), &mut out)
            .expect("encodes");
        let decoded =
            decode_chunked(&mut FrameCodec::with_max_payload(4), &out, &[]).expect("decodes");
        let payloads: Vec<&[u8]> = decoded.iter().map(|f| &f.payload[..]).collect();
        assert_eq!(payloads, [&b"abcd"[..], b"efgh", b"ij"]);
    }

    #[test]
    fn offset_counts_consumed_bytes() {
        let bytes = encode_all(&sample());
        let mut codec = FrameCodec::new();
        decode_chunked(&mut codec, &bytes, &[]).expect("decodes");
        assert_eq!(codec.offset(), bytes.len() as u64);
    }
}
