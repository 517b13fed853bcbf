//! A small HTTP/1.1 client for a Docker daemon's unix socket, for tests that need the raw
//! bytes the daemon sends (the models tests compare them with what the models make of them).
//!
//! One connection per request, `Connection: close`, and the body read to the end of the
//! stream; a `chunked` body is decoded. That covers every Docker endpoint, including a
//! bounded `/events?since=…&until=…` stream, which the daemon ends at `until`.

use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a request may wait for the daemon.
const TIMEOUT: Duration = Duration::from_secs(60);

/// A response: status and body (headers are dropped once the body is decoded).
#[derive(Debug, Clone)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body, decoded from `chunked` when it was sent so.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The body as JSON.
    ///
    /// # Panics
    ///
    /// When it is not JSON; the message holds `what` and the body.
    pub fn json(&self, what: &str) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "{what}: the body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The body as a stream of JSON documents, one after another.
    ///
    /// # Panics
    ///
    /// When it is not; the message holds `what` and the body.
    pub fn json_stream(&self, what: &str) -> Vec<serde_json::Value> {
        serde_json::Deserializer::from_slice(&self.body)
            .into_iter::<serde_json::Value>()
            .collect::<Result<_, _>>()
            .unwrap_or_else(|e| {
                panic!(
                    "{what}: the body is not a JSON stream ({e}): {}",
                    String::from_utf8_lossy(&self.body)
                )
            })
    }
}

/// Sends `method target` with an optional JSON body to the daemon at `socket`.
///
/// # Panics
///
/// When the socket does not answer or the answer is not HTTP; the message holds the request.
pub fn request(
    socket: &Path,
    method: &str,
    target: &str,
    json_body: Option<&serde_json::Value>,
) -> HttpResponse {
    let body = json_body.map(serde_json::Value::to_string);
    let body = body
        .as_deref()
        .map(|body| ("application/json", body.as_bytes()));
    request_with_body(socket, method, target, body)
}

/// Sends `method target` to the daemon at `socket` with `body` (its content type and its
/// bytes, sent as they are: malformed JSON too).
///
/// # Panics
///
/// As [`request`].
pub fn request_with_body(
    socket: &Path,
    method: &str,
    target: &str,
    body: Option<(&str, &[u8])>,
) -> HttpResponse {
    let what = format!("{method} {target}");
    let mut stream = UnixStream::connect(socket)
        .unwrap_or_else(|e| panic!("{what}: cannot connect to {}: {e}", socket.display()));
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|()| stream.set_write_timeout(Some(TIMEOUT)))
        .unwrap_or_else(|e| panic!("{what}: cannot set timeouts: {e}"));
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n");
    if let Some((content_type, _)) = body {
        head.push_str(&format!("Content-Type: {content_type}\r\n"));
    }
    let bytes = body.map_or(&[][..], |(_, bytes)| bytes);
    head.push_str(&format!("Content-Length: {}\r\n\r\n", bytes.len()));
    // One write: a daemon that answers from the head alone (and closes) must not find the
    // body still to come.
    let mut request = head.into_bytes();
    request.extend_from_slice(bytes);
    stream
        .write_all(&request)
        .unwrap_or_else(|e| panic!("{what}: cannot send: {e}"));
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("{what}: cannot read the answer: {e}"));
    parse_response(&raw).unwrap_or_else(|e| {
        panic!(
            "{what}: {e}; the answer was: {}",
            String::from_utf8_lossy(&raw)
        )
    })
}

/// `GET target`.
///
/// # Panics
///
/// As [`request`].
pub fn get(socket: &Path, target: &str) -> HttpResponse {
    request(socket, "GET", target, None)
}

/// Parses a whole HTTP/1.x response.
pub fn parse_response(raw: &[u8]) -> Result<HttpResponse, String> {
    let head_end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("no end of headers")?;
    let head = std::str::from_utf8(&raw[..head_end]).map_err(|e| format!("headers: {e}"))?;
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let status = status_line
        .strip_prefix("HTTP/1.")
        .and_then(|rest| rest.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .ok_or_else(|| format!("bad status line {status_line:?}"))?;
    let mut chunked = false;
    let mut content_type = None;
    let mut content_length = None;
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value.eq_ignore_ascii_case("chunked");
        } else if name.eq_ignore_ascii_case("content-type") {
            content_type = Some(value.to_string());
        } else if name.eq_ignore_ascii_case("content-length") {
            content_length = value.parse::<usize>().ok();
        }
    }
    let rest = &raw[head_end + 4..];
    let body = if chunked {
        dechunk(rest)?
    } else {
        let len = content_length.unwrap_or(rest.len()).min(rest.len());
        rest[..len].to_vec()
    };
    Ok(HttpResponse {
        status,
        content_type,
        body,
    })
}

/// Decodes a `chunked` body.
fn dechunk(mut rest: &[u8]) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    loop {
        let line_end = rest
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line does not end")?;
        let size_text = std::str::from_utf8(&rest[..line_end]).map_err(|e| e.to_string())?;
        let size_text = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|e| format!("bad chunk size {size_text:?}: {e}"))?;
        rest = &rest[line_end + 2..];
        if size == 0 {
            return Ok(body);
        }
        let chunk = rest.get(..size).ok_or("a chunk is cut short")?;
        body.extend_from_slice(chunk);
        rest = rest
            .get(size + 2..)
            .ok_or("a chunk does not end with CRLF")?;
    }
}

#[cfg(test)]
mod tests {
    use super::parse_response;

    #[test]
    fn chunked_body_is_decoded() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n3\r\n{\"a\r\n4\r\n\":1}\r\n0\r\n\r\n";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 200);
        assert_eq!(response.body, b"{\"a\":1}");
        assert_eq!(response.content_type.as_deref(), Some("application/json"));
    }

    #[test]
    fn content_length_body_is_cut_at_its_length() {
        let raw = b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nOKextra";
        let response = parse_response(raw).expect("parses");
        assert_eq!(response.status, 404);
        assert_eq!(response.body, b"OK");
    }

    #[test]
    fn missing_end_of_headers_is_an_error() {
        assert!(parse_response(b"HTTP/1.1 200 OK\r\n").is_err());
    }
}
