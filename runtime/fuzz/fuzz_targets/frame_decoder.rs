//! Fuzzes the multiplexed-stream decoder: the first byte picks a chunk size,
//! the rest is the stream. Decoding must never panic, and whatever decodes
//! without error must encode back to the same bytes.
#![no_main]

use bytes::BytesMut;
use drydock_runtime::frames::FrameCodec;
use libfuzzer_sys::fuzz_target;
use tokio_util::codec::{Decoder, Encoder};

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, stream)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk).max(1);
    let mut decoder = FrameCodec::with_max_payload(1 << 16);
    let mut buf = BytesMut::new();
    let mut frames = Vec::new();
    for piece in stream.chunks(chunk) {
        buf.extend_from_slice(piece);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => frames.push(frame),
                Ok(None) => break,
                Err(_) => return,
            }
        }
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(frame)) => frames.push(frame),
            Ok(None) => break,
            Err(_) => return,
        }
    }
    let mut again = BytesMut::new();
    let mut encoder = FrameCodec::with_max_payload(1 << 16);
    for frame in frames {
        if encoder.encode(frame, &mut again).is_err() {
            panic!("re-encoding a decoded frame failed");
        }
    }
    assert_eq!(&again[..], stream, "accepted input must round-trip");
});
