//! Streams of JSON messages: image pull/push/build progress, `docker events`,
//! container stats.
//!
//! The daemon writes one JSON object after another, usually separated by
//! newlines (but older daemons and some endpoints send them back to back).
//! [`JsonStreamCodec`] is a [`Decoder`] that turns any chunking of such a
//! stream into typed items. A message that carries an `error` field — how
//! the daemon reports a failure once the `200 OK` is already sent — becomes
//! [`Error::Stream`]; bytes that are not JSON become [`Error::Json`] naming
//! the byte offset from the start of the stream.

use std::marker::PhantomData;

use bytes::{Buf, BytesMut};
use serde::de::DeserializeOwned;
use serde_json::Value;
use tokio_util::codec::Decoder;

use crate::error::Error;

/// The message-size cap [`JsonStreamCodec::new`] uses: 16 MiB.
pub const DEFAULT_MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Incremental decoder of concatenated or newline-delimited JSON messages
/// into `T`.
#[derive(Debug)]
pub struct JsonStreamCodec<T> {
    max_message: usize,
    /// Bytes of the stream consumed so far (the offset of `src[0]`).
    offset: u64,
    /// Bytes at the front of the buffer already parsed without completing a
    /// message; an object or array cannot complete before another `}` or
    /// `]` arrives, so parsing is retried only then.
    scanned: usize,
    item: PhantomData<fn() -> T>,
}

impl<T> Clone for JsonStreamCodec<T> {
    fn clone(&self) -> Self {
        Self {
            max_message: self.max_message,
            offset: self.offset,
            scanned: self.scanned,
            item: PhantomData,
        }
    }
}

impl<T> Default for JsonStreamCodec<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> JsonStreamCodec<T> {
    /// A decoder with the [`DEFAULT_MAX_MESSAGE`] cap.
    pub fn new() -> Self {
        Self::with_max_message(DEFAULT_MAX_MESSAGE)
    }

    /// A decoder that rejects messages longer than `max_message` bytes.
    pub fn with_max_message(max_message: usize) -> Self {
        Self {
            max_message: max_message.max(1),
            offset: 0,
            scanned: 0,
            item: PhantomData,
        }
    }

    /// How many bytes of the stream have been consumed.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Drops whitespace at the front of `src`.
    fn skip_whitespace(&mut self, src: &mut BytesMut) {
        let blank = src
            .iter()
            .take_while(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        src.advance(blank);
        self.offset += blank as u64;
    }
}

impl<T: DeserializeOwned> JsonStreamCodec<T> {
    /// Parses the next message at the front of `src` (which starts with a
    /// non-blank byte), or `None` if it is not complete yet.
    fn next_value(&mut self, src: &mut BytesMut) -> Result<Option<Value>, Error> {
        let closer = match src.first() {
            Some(b'{') => Some(b'}'),
            Some(b'[') => Some(b']'),
            _ => None,
        };
        if let Some(closer) = closer
            && self.scanned > 0
            && !src
                .get(self.scanned..)
                .is_some_and(|new| new.contains(&closer))
        {
            self.scanned = src.len();
            return self.incomplete(src.len());
        }
        let mut values = serde_json::Deserializer::from_slice(src).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => {
                let used = values.byte_offset();
                src.advance(used);
                self.offset += used as u64;
                self.scanned = 0;
                Ok(Some(value))
            }
            Some(Err(err)) if err.is_eof() => {
                self.scanned = src.len();
                self.incomplete(src.len())
            }
            Some(Err(err)) => Err(Error::Json {
                offset: self.offset + position_in(src, err.line(), err.column()),
                source: err,
            }),
            None => Ok(None),
        }
    }

    /// The answer for an unfinished message of `len` bytes so far.
    fn incomplete(&self, len: usize) -> Result<Option<Value>, Error> {
        if len > self.max_message {
            return Err(Error::JsonTooLarge {
                offset: self.offset,
                max: self.max_message,
            });
        }
        Ok(None)
    }

    fn to_item(&self, start: u64, value: Value) -> Result<T, Error> {
        if let Some(err) = stream_error(&value) {
            return Err(err);
        }
        T::deserialize(value).map_err(|source| Error::Json {
            offset: start,
            source,
        })
    }
}

impl<T: DeserializeOwned> Decoder for JsonStreamCodec<T> {
    type Item = T;
    type Error = Error;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<T>, Error> {
        self.skip_whitespace(src);
        if src.is_empty() {
            return Ok(None);
        }
        let start = self.offset;
        match self.next_value(src)? {
            Some(value) => self.to_item(start, value).map(Some),
            None => Ok(None),
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<T>, Error> {
        // Parse in full once more, so garbage in an unfinished message is
        // reported as such rather than as truncation.
        self.scanned = 0;
        match self.decode(src)? {
            Some(item) => Ok(Some(item)),
            None if src.is_empty() => Ok(None),
            None => Err(Error::JsonTruncated {
                offset: self.offset,
            }),
        }
    }
}

/// Byte offset in `src` of a 1-based `line` and the `column` serde_json
/// reports (bytes after the line's start).
fn position_in(src: &[u8], line: usize, column: usize) -> u64 {
    let line_start = if line <= 1 {
        0
    } else {
        src.iter()
            .enumerate()
            .filter(|(_, b)| **b == b'\n')
            .nth(line - 2)
            .map_or(src.len(), |(i, _)| i + 1)
    };
    (line_start + column.saturating_sub(1)) as u64
}

/// The in-band error a stream message carries, if any:
/// `{"error": "...", "errorDetail": {"code": 1, "message": "..."}}`.
pub fn stream_error(message: &Value) -> Option<Error> {
    let object = message.as_object()?;
    let detail = object.get("errorDetail").filter(|d| !d.is_null());
    let text = object
        .get("error")
        .filter(|e| !e.is_null())
        .map(|e| match e {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        })
        .or_else(|| {
            detail
                .and_then(|d| d.get("message"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        })?;
    let code = detail.and_then(|d| d.get("code")).and_then(Value::as_i64);
    Some(Error::Stream {
        message: text,
        code,
        raw: message.clone(),
    })
}

#[cfg(test)]
mod tests {
    use serde::Deserialize;

    use super::*;

    #[derive(Debug, Deserialize, PartialEq)]
    struct Progress {
        status: String,
        #[serde(default)]
        id: Option<String>,
    }

    fn decode_chunked<T: DeserializeOwned>(
        input: &[u8],
        cuts: &[usize],
    ) -> (Vec<T>, Option<Error>) {
        let mut codec = JsonStreamCodec::<T>::new();
        let mut buf = BytesMut::new();
        let mut items = Vec::new();
        let mut start = 0;
        for &cut in cuts.iter().chain(std::iter::once(&input.len())) {
            let cut = cut.clamp(start, input.len());
            buf.extend_from_slice(&input[start..cut]);
            start = cut;
            loop {
                match codec.decode(&mut buf) {
                    Ok(Some(item)) => items.push(item),
                    Ok(None) => break,
                    Err(err) => return (items, Some(err)),
                }
            }
        }
        loop {
            match codec.decode_eof(&mut buf) {
                Ok(Some(item)) => items.push(item),
                Ok(None) => return (items, None),
                Err(err) => return (items, Some(err)),
            }
        }
    }

    const PULL: &[u8] = b"{\"status\":\"Pulling from library/alpine\",\"id\":\"latest\"}\r\n\
        {\"status\":\"Downloading\",\"id\":\"a1b2\"}{\"status\":\"Pull complete \xc3\xa9\"}\n\n";

    fn expected() -> Vec<Progress> {
        vec![
            Progress {
                status: "Pulling from library/alpine".into(),
                id: Some("latest".into()),
            },
            Progress {
                status: "Downloading".into(),
                id: Some("a1b2".into()),
            },
            Progress {
                status: "Pull complete é".into(),
                id: None,
            },
        ]
    }

    #[test]
    fn decodes_newline_delimited_and_concatenated_messages() {
        let (items, err) = decode_chunked::<Progress>(PULL, &[]);
        assert!(err.is_none(), "{err:?}");
        assert_eq!(items, expected());
    }

    #[test]
    fn any_chunk_boundary_gives_same_messages() {
        for cut in 0..=PULL.len() {
            let (items, err) = decode_chunked::<Progress>(PULL, &[cut]);
            assert!(err.is_none(), "cut {cut}: {err:?}");
            assert_eq!(items, expected(), "cut {cut}");
        }
        let every: Vec<usize> = (0..PULL.len()).collect();
        let (items, err) = decode_chunked::<Progress>(PULL, &every);
        assert!(err.is_none());
        assert_eq!(items, expected());
    }

    #[test]
    fn error_message_surfaces_as_stream_error() {
        let input = b"{\"status\":\"Pulling\"}\n{\"errorDetail\":{\"code\":1,\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\n";
        let (items, err) = decode_chunked::<Progress>(input, &[]);
        assert_eq!(items.len(), 1);
        match err {
            Some(Error::Stream { message, code, .. }) => {
                assert_eq!(message, "manifest unknown");
                assert_eq!(code, Some(1));
            }
            other => panic!("expected a stream error, got {other:?}"),
        }
    }

    #[test]
    fn error_detail_alone_also_surfaces() {
        let value: Value =
            serde_json::from_str(r#"{"errorDetail":{"message":"denied"}}"#).expect("json");
        let err = stream_error(&value).expect("an error");
        assert_eq!(err.to_string(), "the stream reported an error: denied");
        let fine: Value = serde_json::from_str(r#"{"status":"x","error":null}"#).expect("json");
        assert!(stream_error(&fine).is_none());
    }

    #[test]
    fn garbage_names_its_byte_offset() {
        let input = b"{\"status\":\"ok\"}\n{\"status\":\"ok\"}\n  nope";
        let (items, err) = decode_chunked::<Progress>(input, &[3, 20]);
        assert_eq!(items.len(), 2);
        match err {
            // `n` could start `null`; the `o` at byte 35 is where it fails.
            Some(Error::Json { offset, .. }) => assert_eq!(offset, 35),
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn garbage_inside_a_later_line_names_its_offset() {
        let input = b"{\"status\":\n\"ok\", x}";
        let (_, err) = decode_chunked::<Progress>(input, &[]);
        match err {
            Some(Error::Json { offset, .. }) => assert_eq!(offset, 17),
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn wrong_shape_names_message_offset() {
        let input = b"{\"status\":\"ok\"}\n{\"id\":\"no status\"}";
        let (items, err) = decode_chunked::<Progress>(input, &[]);
        assert_eq!(items.len(), 1);
        match err {
            Some(Error::Json { offset, .. }) => assert_eq!(offset, 16),
            other => panic!("expected a JSON error, got {other:?}"),
        }
    }

    #[test]
    fn stream_ending_inside_a_message_is_an_error() {
        let (items, err) = decode_chunked::<Progress>(b"{\"status\":\"ok\"}\n{\"stat", &[]);
        assert_eq!(items.len(), 1);
        assert!(
            matches!(err, Some(Error::JsonTruncated { offset: 16 })),
            "{err:?}"
        );
    }

    #[test]
    fn large_message_in_small_chunks_decodes_once_complete() {
        let mut message = String::from("{\"status\":\"");
        message.push_str(&"x".repeat(200_000));
        message.push_str("\",\"id\":\"big\"}\n{\"status\":\"next\"}");
        let mut codec = JsonStreamCodec::<Progress>::new();
        let mut buf = BytesMut::new();
        let mut items = Vec::new();
        for chunk in message.as_bytes().chunks(64) {
            buf.extend_from_slice(chunk);
            while let Some(item) = codec.decode(&mut buf).expect("valid stream") {
                items.push(item);
            }
        }
        while let Some(item) = codec.decode_eof(&mut buf).expect("valid stream") {
            items.push(item);
        }
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].status.len(), 200_000);
        assert_eq!(items[1].status, "next");
    }

    #[test]
    fn garbage_in_an_unfinished_message_is_reported_at_eof() {
        let (_, err) = decode_chunked::<Progress>(b"{\"status\":", &[]);
        assert!(
            matches!(err, Some(Error::JsonTruncated { offset: 0 })),
            "{err:?}"
        );
        let (_, err) = decode_chunked::<Progress>(b"{\"status\": x", &[4]);
        assert!(
            matches!(err, Some(Error::Json { offset: 11, .. })),
            "{err:?}"
        );
    }

    #[test]
    fn message_over_cap_is_rejected() {
        let mut codec = JsonStreamCodec::<Value>::with_max_message(8);
        let mut buf = BytesMut::from(&b"{\"status\":\"a long unfinished"[..]);
        let err = codec.decode(&mut buf).expect_err("over the cap");
        assert!(matches!(err, Error::JsonTooLarge { max: 8, .. }));
    }
}
