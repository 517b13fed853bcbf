//! The stream decoders against a few thousand seeded pseudo-random inputs:
//! a stable-toolchain stand-in for `runtime/fuzz` (cargo-fuzz needs
//! nightly). Every input is fed in random chunks; decoding must end in items
//! or an error, never a panic, and whatever decodes completely must encode
//! back to the same bytes.

use bytes::BytesMut;
use drydock_runtime::Error;
use drydock_runtime::frames::{Frame, FrameCodec, HEADER_LEN, StreamKind};
use drydock_runtime::json_stream::JsonStreamCodec;
use tokio_util::codec::{Decoder, Encoder};

/// xorshift64*: small, deterministic, good enough to spread inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn bytes(&mut self, len: usize) -> Vec<u8> {
        (0..len).map(|_| self.next() as u8).collect()
    }
}

/// An input of one of several shapes: noise, valid frames, valid frames
/// with a few bytes changed, valid frames cut short.
fn frame_input(rng: &mut Rng) -> Vec<u8> {
    let valid = |rng: &mut Rng| {
        let mut codec = FrameCodec::new();
        let mut out = BytesMut::new();
        for _ in 0..rng.below(6) {
            let stream = [StreamKind::Stdin, StreamKind::Stdout, StreamKind::Stderr][rng.below(3)];
            let len = rng.below(40);
            let payload = rng.bytes(len);
            codec
                .encode(Frame::new(stream, payload), &mut out)
                .expect("encoding never fails under the cap");
        }
        out.to_vec()
    };
    match rng.below(4) {
        0 => {
            let len = rng.below(64);
            rng.bytes(len)
        }
        1 => valid(rng),
        2 => {
            let mut bytes = valid(rng);
            for _ in 0..=rng.below(3) {
                if !bytes.is_empty() {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
            }
            bytes
        }
        _ => {
            let mut bytes = valid(rng);
            let keep = rng.below(bytes.len() + 1);
            bytes.truncate(keep);
            bytes
        }
    }
}

/// Feeds `input` to `decoder` in random chunks, then finishes it.
fn feed<D: Decoder<Error = Error>>(
    rng: &mut Rng,
    decoder: &mut D,
    input: &[u8],
) -> (Vec<D::Item>, Option<Error>) {
    let mut buf = BytesMut::new();
    let mut items = Vec::new();
    let mut at = 0;
    while at < input.len() {
        let step = 1 + rng.below(input.len() - at);
        buf.extend_from_slice(&input[at..at + step]);
        at += step;
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => break,
                Err(err) => return (items, Some(err)),
            }
        }
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(item)) => items.push(item),
            Ok(None) => return (items, None),
            Err(err) => return (items, Some(err)),
        }
    }
}

#[test]
fn frame_decoder_survives_random_input_and_round_trips_what_it_accepts() {
    let mut rng = Rng(0x5eed_d0c4_2026_0001);
    let (mut accepted, mut rejected) = (0, 0);
    for _ in 0..4000 {
        let input = frame_input(&mut rng);
        let mut decoder = FrameCodec::with_max_payload(64);
        let (frames, err) = feed(&mut rng, &mut decoder, &input);
        let payload: usize = frames.iter().map(|f| f.payload.len() + HEADER_LEN).sum();
        assert!(payload <= input.len(), "decoded more than was fed");
        match err {
            None => {
                accepted += 1;
                let mut again = BytesMut::new();
                for frame in frames {
                    FrameCodec::new()
                        .encode(frame, &mut again)
                        .expect("re-encode");
                }
                assert_eq!(&again[..], &input[..], "accepted input must round-trip");
            }
            Some(Error::Frame { offset, .. }) => {
                rejected += 1;
                assert!(
                    offset <= input.len() as u64,
                    "offset {offset} past the input"
                );
            }
            Some(other) => panic!("unexpected error kind: {other}"),
        }
    }
    // Both outcomes must actually be exercised for the test to mean anything.
    assert!(
        accepted > 500 && rejected > 500,
        "{accepted} accepted, {rejected} rejected"
    );
}

#[test]
fn json_stream_decoder_survives_random_input() {
    let mut rng = Rng(0x5eed_d0c4_2026_0002);
    let pieces: [&[u8]; 10] = [
        b"{\"status\":\"x\"}",
        b"\n",
        b"{",
        b"}",
        b"\"",
        b"[1,2]",
        b"{\"error\":\"e\"}",
        b"nul",
        b"\xff\xfe",
        b"  ",
    ];
    let (mut clean, mut failed) = (0, 0);
    for _ in 0..3000 {
        let mut input = Vec::new();
        for _ in 0..rng.below(8) {
            input.extend_from_slice(pieces[rng.below(pieces.len())]);
        }
        let mut decoder = JsonStreamCodec::<serde_json::Value>::with_max_message(256);
        let (_, err) = feed(&mut rng, &mut decoder, &input);
        match err {
            None => clean += 1,
            Some(
                Error::Json { offset, .. }
                | Error::JsonTruncated { offset }
                | Error::JsonTooLarge { offset, .. },
            ) => {
                failed += 1;
                assert!(
                    offset <= input.len() as u64,
                    "offset {offset} past the input"
                );
            }
            Some(Error::Stream { .. }) => failed += 1,
            Some(other) => panic!("unexpected error kind: {other}"),
        }
    }
    assert!(
        clean > 100 && failed > 100,
        "{clean} clean, {failed} failed"
    );
}
