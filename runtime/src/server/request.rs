//! A routed request, and decoding its parts as the daemon does.
//!
//! - Booleans in the query follow moby's `httputils.BoolValue`: empty, `0`,
//!   `no`, `false` and `none` (any case) are false, anything else true.
//! - Integers must parse; a bad one is a 400 naming the parameter.
//! - `filters` is JSON in either form [`Filters::parse`] reads; other
//!   JSON-encoded parameters (`buildargs`, `labels`, …) must be JSON.
//! - JSON bodies are read up to a size cap (413 beyond it); an empty body
//!   counts as absent. A body sent with a `Content-Type` other than JSON is a
//!   400 in dockerd's words, and one that does not decode a 400 naming the
//!   field. Tar and byte bodies are never buffered: they are handed over as a
//!   [`BodyStream`].

use std::pin::Pin;
use std::str::FromStr;
use std::task::{Context, Poll};

use axum::body::Body;
use axum::http::{HeaderMap, StatusCode};
use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use http_body_util::BodyExt;
use serde::de::DeserializeOwned;

use super::error::ServerError;
use super::hijack::Hijack;
use super::routes::PathParams;
use crate::filters::Filters;
use crate::version::ApiVersion;

/// The decoded query string: every `key=value` pair in order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Query(Vec<(String, String)>);

impl Query {
    /// Parses a raw query string (`a=1&b=x%20y`); `+` is a space, as in Go.
    pub fn parse(raw: &str) -> Self {
        Query(
            form_urlencoded::parse(raw.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of `name`, if sent.
    pub fn first(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// A text parameter.
    pub fn string(&self, name: &str) -> Option<String> {
        self.first(name).map(str::to_owned)
    }

    /// A boolean parameter, read as the daemon reads it.
    pub fn boolean(&self, name: &str) -> Option<bool> {
        self.first(name).map(|text| {
            let text = text.trim().to_ascii_lowercase();
            !matches!(text.as_str(), "" | "0" | "no" | "false" | "none")
        })
    }

    /// A number parameter; a value that does not parse is a 400. An empty
    /// value counts as not sent, as the daemon treats it.
    pub fn number<T: FromStr>(&self, name: &str) -> Result<Option<T>, ServerError> {
        match self.first(name).map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => text.parse().map(Some).map_err(|_| {
                ServerError::bad_request(format!(
                    "invalid value for query parameter {name:?}: {text:?} is not a number"
                ))
            }),
        }
    }

    /// A parameter holding a value of a generated enumeration (or any type
    /// made from text).
    pub fn model<T: for<'a> From<&'a str>>(&self, name: &str) -> Option<T> {
        self.first(name).map(T::from)
    }

    /// A list: the values of every `name=` (`multi`), each split at
    /// `separator` when one is given (`csv` and the like).
    pub fn list(&self, name: &str, separator: Option<char>) -> Option<Vec<String>> {
        let values = self.all(name);
        if values.is_empty() {
            return None;
        }
        Some(match separator {
            None => values,
            Some(sep) => values
                .iter()
                .flat_map(|v| v.split(sep))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
                .collect(),
        })
    }

    /// The `filters` parameter, in either JSON form.
    pub fn filters(&self, name: &str) -> Result<Option<Filters>, ServerError> {
        match self.first(name) {
            None => Ok(None),
            Some(text) => Filters::parse(text).map(Some).map_err(|err| {
                ServerError::bad_request(format!("invalid query parameter {name:?}: {err}"))
            }),
        }
    }

    /// A JSON-encoded parameter (`buildargs`, `labels`, …). An empty value
    /// counts as not sent.
    pub fn json<T: DeserializeOwned>(&self, name: &str) -> Result<Option<T>, ServerError> {
        match self.first(name) {
            None => Ok(None),
            Some(text) if text.trim().is_empty() => Ok(None),
            Some(text) => serde_json::from_str(text).map(Some).map_err(|err| {
                ServerError::bad_request(format!(
                    "invalid query parameter {name:?}: not the expected JSON: {err}"
                ))
            }),
        }
    }
}

/// dockerd's `CheckForJSON`: a body sent with a `Content-Type` must be sent as
/// `application/json` (parameters such as `charset` aside). A body without one
/// is read as JSON.
fn check_json_content_type(headers: &HeaderMap) -> Result<(), ServerError> {
    let Some(value) = headers.get(axum::http::header::CONTENT_TYPE) else {
        return Ok(());
    };
    let text = String::from_utf8_lossy(value.as_bytes());
    let media_type = text.split(';').next().unwrap_or_default().trim();
    if media_type.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(ServerError::bad_request(format!(
            "Content-Type specified ({text}) must be 'application/json'"
        )))
    }
}

/// The 400 for a JSON body `bytes` that does not decode as `T`: `expected an
/// object` when `T` is one and the body is not, else serde's message, after the
/// path of the field a value of the wrong type is at (decoded again, with the
/// path tracked, only now that it failed).
fn json_error<T: DeserializeOwned>(bytes: &[u8]) -> ServerError {
    let starts_as_object = bytes
        .iter()
        .find(|byte| !byte.is_ascii_whitespace())
        .is_some_and(|byte| *byte == b'{');
    if !starts_as_object && takes_object::<T>() {
        return ServerError::bad_request("invalid JSON in the request body: expected an object");
    }
    let mut decoder = serde_json::Deserializer::from_slice(bytes);
    let message = match serde_path_to_error::deserialize::<_, T>(&mut decoder) {
        Err(err) => {
            let path = err.path().to_string();
            // A syntax error (a cut body, a stray character) has no field to name.
            let data = err.inner().classify() == serde_json::error::Category::Data;
            if !data || path == "." || path == "?" {
                err.inner().to_string()
            } else {
                format!("{path}: {}", err.inner())
            }
        }
        // Decoded on its own but not as the whole body: trailing characters.
        Ok(_) => match decoder.end() {
            Err(err) => err.to_string(),
            Ok(()) => "it does not decode".to_owned(),
        },
    };
    ServerError::bad_request(format!("invalid JSON in the request body: {message}"))
}

/// Whether `T` is decoded from a JSON object (serde would also take a struct's
/// fields from an array, in order, and then complain about the first one).
fn takes_object<T: DeserializeOwned>() -> bool {
    match serde_json::from_slice::<T>(b"{}") {
        Ok(_) => true,
        Err(err) => !err.to_string().starts_with("invalid type: map"),
    }
}

/// The error for a required parameter that was not sent.
pub fn missing(location: &str, name: &str) -> ServerError {
    ServerError::bad_request(format!("missing {location} parameter {name:?}"))
}

/// A request body handed over as it arrives (tar uploads, image loads).
pub struct BodyStream(Pin<Box<dyn Stream<Item = Result<Bytes, std::io::Error>> + Send>>);

impl std::fmt::Debug for BodyStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BodyStream")
    }
}

impl BodyStream {
    /// The chunks of `body`.
    pub fn new(body: Body) -> Self {
        BodyStream(Box::pin(
            body.into_data_stream()
                .map(|chunk| chunk.map_err(std::io::Error::other)),
        ))
    }

    /// A body of the given chunks (for tests and in-process callers).
    pub fn from_stream(
        stream: impl Stream<Item = Result<Bytes, std::io::Error>> + Send + 'static,
    ) -> Self {
        BodyStream(Box::pin(stream))
    }

    /// The body as an `AsyncRead`.
    pub fn into_async_read(self) -> impl tokio::io::AsyncRead + Send + Unpin {
        tokio_util::io::StreamReader::new(self)
    }

    /// Reads the whole body, failing once it exceeds `limit` bytes.
    pub async fn collect(mut self, limit: usize) -> Result<Vec<u8>, ServerError> {
        let mut out = Vec::new();
        while let Some(chunk) = self.next().await {
            let chunk = chunk.map_err(|err| ServerError::bad_request(err.to_string()))?;
            if out.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            out.extend_from_slice(&chunk);
        }
        Ok(out)
    }
}

impl Stream for BodyStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.0.as_mut().poll_next(cx)
    }
}

fn too_large(limit: usize) -> ServerError {
    ServerError::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("request body is larger than the {limit}-byte limit"),
    )
}

/// A request matched to an operation, with everything generated code needs
/// to decode it.
#[derive(Debug)]
pub struct Request {
    version: ApiVersion,
    path: PathParams,
    query: Query,
    headers: HeaderMap,
    body: Option<Body>,
    hijack: Option<Hijack>,
    body_limit: usize,
}

impl Request {
    /// A request at `version`; `hijack` is set for operations that may take
    /// over the connection.
    pub fn new(
        version: ApiVersion,
        path: PathParams,
        query: Query,
        headers: HeaderMap,
        body: Body,
        hijack: Option<Hijack>,
        body_limit: usize,
    ) -> Self {
        Request {
            version,
            path,
            query,
            headers,
            body: Some(body),
            hijack,
            body_limit,
        }
    }

    /// The API version the client asked for (the newest when it named none).
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// The query string.
    pub fn query(&self) -> &Query {
        &self.query
    }

    /// The request headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// Path parameter `name` (always present once the route matched).
    pub fn path_param(&self, name: &str) -> Result<String, ServerError> {
        self.path
            .get(name)
            .map(str::to_owned)
            .ok_or_else(|| missing("path", name))
    }

    /// Header `name` as text; a value that is not UTF-8 is a 400.
    pub fn header(&self, name: &str) -> Result<Option<String>, ServerError> {
        match self.headers.get(name) {
            None => Ok(None),
            Some(value) => value.to_str().map(|v| Some(v.to_owned())).map_err(|_| {
                ServerError::bad_request(format!("header {name:?} is not valid UTF-8"))
            }),
        }
    }

    fn take_body(&mut self) -> Body {
        self.body.take().unwrap_or_else(Body::empty)
    }

    /// The body read whole, up to the size cap.
    pub async fn body_bytes(&mut self) -> Result<Bytes, ServerError> {
        let limit = self.body_limit;
        let limited = http_body_util::Limited::new(self.take_body(), limit);
        match limited.collect().await {
            Ok(collected) => Ok(collected.to_bytes()),
            Err(err) if err.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
            Err(err) => Err(ServerError::bad_request(format!(
                "could not read the request body: {err}"
            ))),
        }
    }

    /// The JSON body, `None` when the body is empty. A body whose `Content-Type`
    /// is not JSON, or that does not decode, is a 400.
    pub async fn json_body<T: DeserializeOwned>(&mut self) -> Result<Option<T>, ServerError> {
        let bytes = self.body_bytes().await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        check_json_content_type(&self.headers)?;
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|_| json_error::<T>(&bytes))
    }

    /// A text body, `None` when empty.
    pub async fn text_body(&mut self) -> Result<Option<String>, ServerError> {
        let bytes = self.body_bytes().await?;
        if bytes.is_empty() {
            return Ok(None);
        }
        String::from_utf8(bytes.to_vec())
            .map(Some)
            .map_err(|_| ServerError::bad_request("the request body is not UTF-8 text"))
    }

    /// The body as a stream, unbuffered.
    pub fn body_stream(&mut self) -> BodyStream {
        BodyStream::new(self.take_body())
    }

    /// The hijacked connection's input, for operations that may take over
    /// the connection (attach, exec start). Without an upgrade, the input is
    /// the request body.
    pub fn hijack(&mut self) -> Hijack {
        match self.hijack.take() {
            Some(hijack) => hijack,
            None => Hijack::from_body(self.body_stream()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_json_body_sent_as_another_media_type_is_refused_in_dockerds_words() {
        let with = |value: &str| {
            let mut headers = HeaderMap::new();
            headers.insert(
                axum::http::header::CONTENT_TYPE,
                value.parse().expect("a header value"),
            );
            headers
        };
        assert!(check_json_content_type(&HeaderMap::new()).is_ok());
        assert!(check_json_content_type(&with("application/json")).is_ok());
        assert!(check_json_content_type(&with("Application/JSON; charset=utf-8")).is_ok());
        let refused = check_json_content_type(&with("text/plain")).expect_err("refused");
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            refused.message,
            "Content-Type specified (text/plain) must be 'application/json'"
        );
    }

    #[test]
    fn a_json_body_that_does_not_decode_is_refused_naming_the_field() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Inner {
            #[serde(rename = "Memory")]
            memory: Option<i64>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Outer {
            #[serde(rename = "HostConfig")]
            host_config: Option<Inner>,
        }
        let refused = json_error::<Outer>(br#"{"HostConfig": {"Memory": "lots"}}"#);
        assert_eq!(refused.status, StatusCode::BAD_REQUEST);
        assert!(
            refused
                .message
                .starts_with("invalid JSON in the request body: HostConfig.Memory: invalid type"),
            "{}",
            refused.message
        );
        let array = json_error::<Outer>(b"[1, 2]");
        assert_eq!(
            array.message,
            "invalid JSON in the request body: expected an object"
        );
        let list = json_error::<Vec<i64>>(b"[1, \"two\"]");
        assert!(
            list.message.contains("[1]: invalid type"),
            "{}",
            list.message
        );
        let cut = json_error::<Outer>(br#"{"HostConfig": {"#);
        assert_eq!(
            cut.message,
            "invalid JSON in the request body: EOF while parsing an object at line 1 column 16"
        );
        let trailing = json_error::<Outer>(br#"{} x"#);
        assert!(
            trailing.message.contains("trailing"),
            "{}",
            trailing.message
        );
    }

    #[test]
    fn booleans_read_as_the_daemon_reads_them() {
        let q = Query::parse("a=1&b=true&c=0&d=false&e=&f=no&g=NONE&h=yes");
        let got: Vec<_> = ["a", "b", "c", "d", "e", "f", "g", "h", "z"]
            .iter()
            .map(|k| q.boolean(k))
            .collect();
        assert_eq!(
            got,
            [
                Some(true),
                Some(true),
                Some(false),
                Some(false),
                Some(false),
                Some(false),
                Some(false),
                Some(true),
                None
            ]
        );
    }

    #[test]
    fn numbers_must_parse() {
        let q = Query::parse("t=10&bad=ten&empty=");
        assert_eq!(q.number::<i64>("t"), Ok(Some(10)));
        assert_eq!(q.number::<i64>("empty"), Ok(None));
        let err = q.number::<i64>("bad").expect_err("not a number");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert!(err.message.contains("\"bad\""), "{}", err.message);
    }

    #[test]
    fn filters_parse_in_both_forms_and_bad_ones_are_400() {
        let q = Query::parse(
            "filters=%7B%22a%22%3A%5B%22b%22%5D%7D&old=%7B%22a%22%3A%7B%22b%22%3Atrue%7D%7D&bad=%7B",
        );
        let current = q.filters("filters").expect("parses").expect("present");
        assert_eq!(Some(current), q.filters("old").expect("parses"));
        assert_eq!(
            q.filters("bad").expect_err("bad").status,
            StatusCode::BAD_REQUEST
        );
    }

    #[test]
    fn lists_split_or_repeat() {
        let q = Query::parse("a=x,y&m=1&m=2&plus=a+b");
        assert_eq!(q.list("a", Some(',')), Some(vec!["x".into(), "y".into()]));
        assert_eq!(q.list("m", None), Some(vec!["1".into(), "2".into()]));
        assert_eq!(q.string("plus").as_deref(), Some("a b"));
    }
}
