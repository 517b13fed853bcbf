//! Answers: status, media type and a body that is empty, whole, or streamed.
//!
//! JSON bodies are downgraded to the requested version
//! ([`VersionedModel::downgrade`]) before they are written; streams (JSON
//! messages, multiplexed frames, tar archives) are written chunk by chunk as
//! the implementation produces them, never collected first.

use std::pin::Pin;

use axum::body::Body;
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::http::{HeaderMap, HeaderName, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use super::error::ServerError;
use crate::frames::{Frame, FrameCodec};
use crate::model::VersionedModel;
use crate::version::ApiVersion;

/// A streamed body: chunks of bytes as they are produced.
pub type ByteStream = Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>;

/// A stream of messages of a JSON message stream (progress, events, stats).
pub type Messages<T> = Pin<Box<dyn Stream<Item = T> + Send>>;

/// `application/json`.
pub const JSON: &str = "application/json";
/// Docker's raw stream (attach, exec, logs), multiplexed or a TTY's bytes.
pub const RAW_STREAM: &str = "application/vnd.docker.raw-stream";
/// A tar archive.
pub const TAR: &str = "application/x-tar";
/// Opaque bytes.
pub const OCTET_STREAM: &str = "application/octet-stream";
/// Plain text.
pub const TEXT: &str = "text/plain; charset=utf-8";

enum ReplyBody {
    Empty,
    Full(Bytes),
    Stream(ByteStream),
}

/// An answer of an operation, before the common headers are added.
pub struct Reply {
    status: StatusCode,
    content_type: Option<&'static str>,
    headers: HeaderMap,
    body: ReplyBody,
}

impl std::fmt::Debug for Reply {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reply")
            .field("status", &self.status)
            .field("content_type", &self.content_type)
            .finish()
    }
}

fn status(code: u16) -> Result<StatusCode, ServerError> {
    StatusCode::from_u16(code)
        .map_err(|_| ServerError::internal(format!("invalid status code {code}")))
}

impl Reply {
    /// An answer with no body.
    pub fn empty(code: u16) -> Result<Self, ServerError> {
        Ok(Reply {
            status: status(code)?,
            content_type: None,
            headers: HeaderMap::new(),
            body: ReplyBody::Empty,
        })
    }

    /// A JSON answer, downgraded to `version` first.
    pub fn json<T: Serialize + VersionedModel>(
        code: u16,
        mut value: T,
        version: ApiVersion,
    ) -> Result<Self, ServerError> {
        value.downgrade(version);
        let mut bytes = serde_json::to_vec(&value)
            .map_err(|err| ServerError::internal(format!("could not encode the answer: {err}")))?;
        bytes.push(b'\n');
        Ok(Reply {
            status: status(code)?,
            content_type: Some(JSON),
            headers: HeaderMap::new(),
            body: ReplyBody::Full(bytes.into()),
        })
    }

    /// A plain-text answer.
    pub fn text(code: u16, text: String) -> Result<Self, ServerError> {
        Ok(Reply {
            status: status(code)?,
            content_type: Some(TEXT),
            headers: HeaderMap::new(),
            body: ReplyBody::Full(text.into()),
        })
    }

    /// A streamed answer of media type `content_type`.
    pub fn stream(
        code: u16,
        content_type: &'static str,
        body: ByteStream,
    ) -> Result<Self, ServerError> {
        Ok(Reply {
            status: status(code)?,
            content_type: Some(content_type),
            headers: HeaderMap::new(),
            body: ReplyBody::Stream(body),
        })
    }

    /// A JSON message stream: each message downgraded to `version`, written
    /// as one line as soon as it is produced.
    pub fn json_messages<T: Serialize + VersionedModel + Send + 'static>(
        code: u16,
        messages: Messages<T>,
        version: ApiVersion,
    ) -> Result<Self, ServerError> {
        let body = messages.map(move |mut message| {
            message.downgrade(version);
            let mut line = serde_json::to_vec(&message).map_err(std::io::Error::other)?;
            line.push(b'\n');
            Ok(Bytes::from(line))
        });
        Self::stream(code, JSON, Box::pin(body))
    }

    /// Adds a response header (a documented one, such as
    /// `X-Docker-Container-Path-Stat`); a name or value that is not a valid
    /// header is a 500.
    pub fn with_header(mut self, name: &str, value: &str) -> Result<Self, ServerError> {
        let name = HeaderName::try_from(name)
            .map_err(|_| ServerError::internal(format!("invalid header name {name:?}")))?;
        let value = HeaderValue::try_from(value)
            .map_err(|_| ServerError::internal(format!("invalid value of header {name}")))?;
        self.headers.insert(name, value);
        Ok(self)
    }

    /// The status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The body as a stream, for a hijacked connection.
    pub(crate) fn into_byte_stream(self) -> ByteStream {
        match self.body {
            ReplyBody::Empty => Box::pin(futures_util::stream::empty()),
            ReplyBody::Full(bytes) => Box::pin(futures_util::stream::iter([Ok(bytes)])),
            ReplyBody::Stream(stream) => stream,
        }
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response {
        let body = match self.body {
            ReplyBody::Empty => Body::empty(),
            ReplyBody::Full(bytes) => Body::from(bytes),
            ReplyBody::Stream(stream) => Body::from_stream(stream),
        };
        let mut response = Response::new(body);
        *response.status_mut() = self.status;
        *response.headers_mut() = self.headers;
        if let Some(content_type) = self.content_type {
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
        }
        response
    }
}

/// Encodes a container's output as multiplexed frames (a container without
/// a TTY); a TTY's output is sent as it is.
pub fn frames_body(frames: impl Stream<Item = Frame> + Send + 'static) -> ByteStream {
    Box::pin(frames.map(|frame| {
        let mut out = bytes::BytesMut::new();
        tokio_util::codec::Encoder::encode(&mut FrameCodec::new(), frame, &mut out)
            .map_err(std::io::Error::other)?;
        Ok(out.freeze())
    }))
}
