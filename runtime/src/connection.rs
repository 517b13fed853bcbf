//! A connection to one daemon at one negotiated API version, and the
//! request helpers generated client code calls.
//!
//! [`Connection::connect`] builds the [`Transport`], asks `GET /_ping` for
//! the daemon's `API-Version` and settles on a version with
//! [`negotiate`]. Requests then go through [`Connection::request`] (which
//! prefixes `/vX.Y`) and [`Connection::send`] (which turns a non-2xx answer
//! into [`Error::Daemon`] with the daemon's message and body). Attach and
//! exec use [`Connection::upgrade`] to take over the connection.
//!
//! Clients of other APIs use [`Connection::with_base_url`]: a fixed version,
//! no ping, and paths sent after the base URL with no `/vX.Y` prefix.

use futures_util::Stream;
use reqwest::header::{CONNECTION, HeaderValue, UPGRADE};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde::de::DeserializeOwned;

use crate::body_stream::{DecodedBody, decode_body};
use crate::error::Error;
use crate::frames::FrameCodec;
use crate::json_stream::JsonStreamCodec;
use crate::transport::{ClientConfig, Transport};
use crate::version::{ApiVersion, negotiate, require_version};

/// The raw two-way byte stream of a hijacked attach or exec. Wrap its read
/// half in [`tokio_util::codec::FramedRead`] with a [`FrameCodec`] when the
/// container has no TTY.
pub type Upgraded = reqwest::Upgraded;

/// What `GET /_ping` told about the daemon.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    /// The `API-Version` header: the newest version the daemon speaks.
    pub api_version: Option<ApiVersion>,
    /// The `OSType` header (`linux`, `windows`).
    pub os_type: Option<String>,
    /// The `Docker-Experimental` header.
    pub experimental: bool,
}

/// A daemon reached through a [`Transport`] at a fixed API version.
#[derive(Debug, Clone)]
pub struct Connection {
    transport: Transport,
    version: ApiVersion,
    pinned: Option<ApiVersion>,
    /// Whether request paths start with `/vX.Y`, as the daemon's do.
    version_in_path: bool,
}

impl Connection {
    /// A connection that uses `version` without asking the daemon.
    pub fn new(transport: Transport, version: ApiVersion) -> Self {
        Self {
            transport,
            version,
            pinned: Some(version),
            version_in_path: true,
        }
    }

    /// A connection to any API served at `base_url` ([`Transport::for_base_url`]),
    /// at `version`, whose request paths are the operations' paths with no
    /// `/vX.Y` prefix (the API's own version, if any, is part of `base_url`).
    pub fn with_base_url(base_url: &str, version: ApiVersion) -> Result<Self, Error> {
        Ok(Self {
            transport: Transport::for_base_url(base_url)?,
            version,
            pinned: Some(version),
            version_in_path: false,
        })
    }

    /// Builds the transport for `config` and negotiates the version: the
    /// pinned one if `config.api_version` is set (no request is sent),
    /// otherwise from the daemon's ping.
    pub async fn connect(config: &ClientConfig) -> Result<Self, Error> {
        let transport = Transport::new(config)?;
        let mut connection = Self {
            transport,
            version: config.api_version.unwrap_or(crate::version::MIN_API),
            pinned: config.api_version,
            version_in_path: true,
        };
        connection.negotiate().await?;
        Ok(connection)
    }

    /// [`Self::connect`] with [`ClientConfig::from_env`]: what the Docker
    /// CLI would talk to.
    pub async fn from_env() -> Result<Self, Error> {
        Self::connect(&ClientConfig::from_env()?).await
    }

    /// The API version requests are sent with.
    pub fn version(&self) -> ApiVersion {
        self.version
    }

    /// The transport underneath.
    pub fn transport(&self) -> &Transport {
        &self.transport
    }

    /// `GET /_ping` (unversioned): whether the daemon answers, and its
    /// version headers. The headers are read even from an error answer, as
    /// a daemon in trouble still sends them.
    pub async fn ping(&self) -> Result<Ping, Error> {
        let url = format!("{}/_ping", self.transport.base_url());
        let request = self.transport.client().get(url);
        let response = execute("Ping", request).await?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::trim)
                .filter(|value| !value.is_empty())
                .map(str::to_owned)
        };
        let api_version = header("API-Version")
            .map(|text| text.parse::<ApiVersion>())
            .transpose()?;
        let ping = Ping {
            api_version,
            os_type: header("OSType"),
            experimental: header("Docker-Experimental").is_some_and(|v| v == "true"),
        };
        if !response.status().is_success() && ping.api_version.is_none() {
            return Err(daemon_error(response).await);
        }
        Ok(ping)
    }

    /// Settles on the API version: the pinned one, or else the daemon's
    /// (capped at [`crate::MAX_API`]) as told by [`Self::ping`].
    pub async fn negotiate(&mut self) -> Result<ApiVersion, Error> {
        let daemon = match self.pinned {
            Some(_) => None,
            None => self.ping().await?.api_version,
        };
        self.version = negotiate(daemon, self.pinned)?;
        Ok(self.version)
    }

    /// Fails with [`Error::VersionGate`] unless `what` (available from
    /// `since` on) can be used at the negotiated version.
    pub fn require(&self, what: &str, since: ApiVersion) -> Result<(), Error> {
        require_version(what, since, self.version)
    }

    /// The full URL of `path` (which starts with `/`) at the negotiated
    /// version: `http://localhost/v1.30/containers/json`, or without the
    /// version for a connection [`Self::with_base_url`]:
    /// `http://127.0.0.1:8080/api/v3/pet/1`.
    pub fn url(&self, path: &str) -> String {
        if self.version_in_path {
            format!(
                "{}{}{}",
                self.transport.base_url(),
                self.version.path_prefix(),
                path
            )
        } else {
            format!("{}{path}", self.transport.base_url())
        }
    }

    /// A request for `path` at the negotiated version.
    pub fn request(&self, method: Method, path: &str) -> RequestBuilder {
        self.transport.client().request(method, self.url(path))
    }

    /// Sends `request` for `operation` (such as `ContainerInspect`, used in
    /// errors). A non-2xx answer becomes [`Error::Daemon`].
    pub async fn send(&self, operation: &str, request: RequestBuilder) -> Result<Response, Error> {
        let response = execute(operation, request).await?;
        if response.status().is_success() || response.status() == StatusCode::SWITCHING_PROTOCOLS {
            Ok(response)
        } else {
            Err(daemon_error(response).await)
        }
    }

    /// Sends `request` and decodes its JSON body; a body that does not fit
    /// `T` is an [`Error::Decode`] naming `operation`.
    pub async fn send_json<T: DeserializeOwned>(
        &self,
        operation: &str,
        request: RequestBuilder,
    ) -> Result<T, Error> {
        let response = self.send(operation, request).await?;
        let body = response
            .bytes()
            .await
            .map_err(|err| transport_error(operation, "reading the response body", err))?;
        serde_json::from_slice(&body).map_err(|source| Error::Decode {
            operation: operation.to_owned(),
            source,
        })
    }

    /// Sends `request` and discards the body of the success answer.
    pub async fn send_empty(&self, operation: &str, request: RequestBuilder) -> Result<(), Error> {
        let response = self.send(operation, request).await?;
        response
            .bytes()
            .await
            .map_err(|err| transport_error(operation, "reading the response body", err))?;
        Ok(())
    }

    /// Sends `request` and returns its body as a stream of multiplexed
    /// frames (logs of a container without a TTY).
    pub async fn send_frames(
        &self,
        operation: &str,
        request: RequestBuilder,
    ) -> Result<
        DecodedBody<impl Stream<Item = Result<bytes::Bytes, Error>> + use<>, FrameCodec>,
        Error,
    > {
        let response = self.send(operation, request).await?;
        Ok(decode_body(
            body_chunks(operation, response),
            FrameCodec::new(),
        ))
    }

    /// Sends `request` and returns its body as a stream of JSON messages
    /// (pull progress, events, stats); in-band errors come out as
    /// [`Error::Stream`].
    pub async fn send_json_stream<T: DeserializeOwned>(
        &self,
        operation: &str,
        request: RequestBuilder,
    ) -> Result<
        DecodedBody<impl Stream<Item = Result<bytes::Bytes, Error>> + use<T>, JsonStreamCodec<T>>,
        Error,
    > {
        let response = self.send(operation, request).await?;
        Ok(decode_body(
            body_chunks(operation, response),
            JsonStreamCodec::new(),
        ))
    }

    /// Sends `request` asking to take over the connection
    /// (`Connection: Upgrade`, `Upgrade: tcp`), as attach and exec start do,
    /// and returns the raw two-way stream once the daemon answers
    /// `101 Switching Protocols`.
    pub async fn upgrade(
        &self,
        operation: &str,
        request: RequestBuilder,
    ) -> Result<Upgraded, Error> {
        let request = request
            .header(CONNECTION, HeaderValue::from_static("Upgrade"))
            .header(UPGRADE, HeaderValue::from_static("tcp"));
        let response = self.send(operation, request).await?;
        if response.status() != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Error::UpgradeRefused {
                operation: operation.to_owned(),
                status: response.status().as_u16(),
            });
        }
        response
            .upgrade()
            .await
            .map_err(|err| transport_error(operation, "taking over the connection", err))
    }
}

/// Builds and sends `request`, naming `operation`, method and path in
/// transport errors.
async fn execute(operation: &str, request: RequestBuilder) -> Result<Response, Error> {
    let (client, request) = request.build_split();
    let request = request.map_err(|err| transport_error(operation, "building the request", err))?;
    let what = format!("{} {}", request.method(), request.url().path());
    client
        .execute(request)
        .await
        .map_err(|err| transport_error(operation, &what, err))
}

fn transport_error(operation: &str, what: &str, err: reqwest::Error) -> Error {
    Error::Transport {
        action: format!("{operation} ({what})"),
        source: Box::new(err),
    }
}

fn body_chunks(
    operation: &str,
    response: Response,
) -> impl Stream<Item = Result<bytes::Bytes, Error>> + use<> {
    use futures_util::TryStreamExt;
    let operation = operation.to_owned();
    response
        .bytes_stream()
        .map_err(move |err| transport_error(&operation, "reading the response body", err))
}

/// [`Error::Daemon`] from an error answer: the `message` of its JSON body,
/// else the body text, else the status's reason.
async fn daemon_error(response: Response) -> Error {
    let status = response.status();
    let body = response.bytes().await.unwrap_or_default();
    let message = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|value| value.get("message")?.as_str().map(str::to_owned))
        .or_else(|| {
            let text = String::from_utf8_lossy(&body).trim().to_owned();
            (!text.is_empty()).then_some(text)
        })
        .unwrap_or_else(|| status.canonical_reason().unwrap_or("no message").to_owned());
    Error::Daemon {
        status: status.as_u16(),
        message,
        body: body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_url_connections_send_the_operation_paths_without_a_version() {
        let connection =
            Connection::with_base_url("http://127.0.0.1:8080/api/v3/", ApiVersion::new(1, 0))
                .expect("a base URL");
        assert_eq!(
            connection.url("/pet/1"),
            "http://127.0.0.1:8080/api/v3/pet/1"
        );
        assert_eq!(connection.version(), ApiVersion::new(1, 0));
    }
}
