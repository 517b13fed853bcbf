//! The axum service: one fallback handler that does what moby's router and
//! middlewares do, then hands the request to the generated dispatcher.
//!
//! For every request: split off the `/vX.Y` prefix (none means the newest
//! version the dispatcher serves, [`Dispatch::versions`]: [`MAX_API`] for
//! Docker; a `/v…` segment that is not a version stays part of the path);
//! refuse versions outside that range with moby's 400 messages; answer `/_ping`; find the route in the
//! generated table (404 `page not found` when there is none, or when the
//! requested version lacks the operation); call the implementation; add
//! the headers every daemon answer carries.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::http::header::{CACHE_CONTROL, CONNECTION, CONTENT_TYPE, HeaderValue, PRAGMA, UPGRADE};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};

use super::error::ServerError;
use super::hijack::{Hijack, run_upgraded};
use super::request::{Query, Request};
use super::response::{RAW_STREAM, Reply};
use super::routes::{Route, RouteMatch, find_route};
use crate::version::{ApiVersion, MAX_API, MIN_API, split_path_version};

/// The future an operation's dispatch returns.
pub type DispatchFuture = Pin<Box<dyn Future<Output = Result<Reply, ServerError>> + Send>>;

/// What generated servers implement: the route table, and a call into the
/// implementation for the route at an index of that table.
pub trait Dispatch: Send + Sync + 'static {
    /// Every operation's route.
    fn routes(&self) -> &'static [Route];

    /// Decodes `request` for the operation of `routes()[index]`, calls the
    /// implementation and encodes its answer.
    fn dispatch(self: Arc<Self>, index: usize, request: Request) -> DispatchFuture;

    /// The oldest and the newest API version served: a request without a
    /// `/vX.Y` prefix gets the newest, and one outside the range a 400.
    /// Docker's range ([`MIN_API`]..=[`MAX_API`]) unless the API says.
    fn versions(&self) -> (ApiVersion, ApiVersion) {
        (MIN_API, MAX_API)
    }
}

/// Settings of a server.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The version in the `Server` header, `drydock/<version> (linux)`.
    pub server_version: String,
    /// The largest request body read whole (JSON, text); streamed bodies
    /// (tar, bytes) have no cap.
    pub body_limit: usize,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            server_version: env!("CARGO_PKG_VERSION").to_owned(),
            body_limit: 16 * 1024 * 1024,
        }
    }
}

struct Shared<D> {
    dispatch: Arc<D>,
    config: ServerConfig,
    server_header: HeaderValue,
    api_header: HeaderValue,
    /// [`Dispatch::versions`].
    versions: (ApiVersion, ApiVersion),
}

/// An axum router that serves `dispatch`'s operations at every version,
/// with and without the `/vX.Y` prefix.
pub fn router<D: Dispatch>(dispatch: D, config: ServerConfig) -> Router {
    let server_header = HeaderValue::try_from(format!("drydock/{} (linux)", config.server_version))
        .unwrap_or_else(|_| HeaderValue::from_static("drydock (linux)"));
    let versions = dispatch.versions();
    let shared = Arc::new(Shared {
        dispatch: Arc::new(dispatch),
        config,
        server_header,
        api_header: HeaderValue::try_from(versions.1.to_string())
            .unwrap_or_else(|_| HeaderValue::from_static("1.33")),
        versions,
    });
    Router::new().fallback(move |request: axum::extract::Request| {
        let shared = Arc::clone(&shared);
        async move { shared.handle(request).await }
    })
}

/// The message moby answers for a version below the minimum `min`.
pub fn too_old_message(version: ApiVersion, min: ApiVersion) -> String {
    format!(
        "client version {version} is too old. Minimum supported API version is {min}, please upgrade your client to a newer version"
    )
}

/// The message moby answers for a version above the maximum `max`.
pub fn too_new_message(version: ApiVersion, max: ApiVersion) -> String {
    format!("client version {version} is too new. Maximum supported API version is {max}")
}

/// The version a path asks for within `(min, max)` (`max` when it asks for
/// none) and the rest of the path, or the error answer. A first segment
/// that starts like a version but is not one (`/v1/pets`, `/v1.x/info`)
/// asks for none: it is part of the path.
fn requested_version(
    path: &str,
    (min, max): (ApiVersion, ApiVersion),
) -> Result<(ApiVersion, &str), ServerError> {
    let (version, rest) = split_path_version(path).unwrap_or((None, path));
    let version = version.unwrap_or(max);
    if version < min {
        return Err(ServerError::bad_request(too_old_message(version, min)));
    }
    if version > max {
        return Err(ServerError::bad_request(too_new_message(version, max)));
    }
    Ok((version, rest))
}

/// Whether the client asked to take over the connection.
fn wants_upgrade(headers: &HeaderMap) -> bool {
    let has = |name, token: &str| {
        headers.get_all(name).iter().any(|value| {
            value.to_str().is_ok_and(|v| {
                v.split(',')
                    .any(|part| part.trim().eq_ignore_ascii_case(token))
            })
        })
    };
    has(CONNECTION, "upgrade") && has(UPGRADE, "tcp")
}

impl<D: Dispatch> Shared<D> {
    async fn handle(&self, request: axum::extract::Request) -> Response {
        let mut response = match self.route(request).await {
            Ok(response) => response,
            Err(err) => err.into_response(),
        };
        let headers = response.headers_mut();
        headers.insert("Api-Version", self.api_header.clone());
        headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
        headers.insert("Ostype", HeaderValue::from_static("linux"));
        headers.insert("Server", self.server_header.clone());
        response
    }

    async fn route(&self, mut request: axum::extract::Request) -> Result<Response, ServerError> {
        let path = request.uri().path().to_owned();
        let (version, rest) = requested_version(&path, self.versions)?;
        if rest == "/_ping" {
            return ping(request.method());
        }
        let method = request.method().as_str().to_owned();
        let routes = self.dispatch.routes();
        let RouteMatch::Found(index, params) = find_route(routes, &method, rest) else {
            return Err(ServerError::page_not_found());
        };
        let route = &routes[index];
        if !route.exists_in(version) {
            return Err(ServerError::page_not_found());
        }
        let query = Query::parse(request.uri().query().unwrap_or(""));
        let upgrade = if route.hijack && wants_upgrade(request.headers()) {
            Some(hyper::upgrade::on(&mut request))
        } else {
            None
        };
        let (hijack, input) = match upgrade {
            Some(_) => {
                let (hijack, input) = Hijack::upgraded();
                (Some(hijack), Some(input))
            }
            None => (None, None),
        };
        let (parts, body) = request.into_parts();
        let request = Request::new(
            version,
            params,
            query,
            parts.headers,
            body,
            hijack,
            self.config.body_limit,
        );
        let reply = Arc::clone(&self.dispatch).dispatch(index, request).await?;
        match (upgrade, input) {
            (Some(on_upgrade), Some(input)) if reply.status().is_success() => {
                tokio::spawn(run_upgraded(on_upgrade, input, reply.into_byte_stream()));
                Ok(upgraded_response())
            }
            _ => Ok(reply.into_response()),
        }
    }
}

/// `101 UPGRADED`, as the daemon answers a hijack.
fn upgraded_response() -> Response {
    let mut response = Response::new(Body::empty());
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    response
        .extensions_mut()
        .insert(hyper::ext::ReasonPhrase::from_static(b"UPGRADED"));
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(RAW_STREAM));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
    response
}

/// `GET`/`HEAD /_ping`: `OK`, never cached.
fn ping(method: &Method) -> Result<Response, ServerError> {
    let body = match *method {
        Method::GET => Body::from("OK"),
        Method::HEAD => Body::empty(),
        _ => return Err(ServerError::page_not_found()),
    };
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_outside_the_range_get_mobys_messages() {
        let docker = (MIN_API, MAX_API);
        let err = requested_version("/v1.12/info", docker).expect_err("too old");
        assert_eq!(err.status, StatusCode::BAD_REQUEST);
        assert_eq!(
            err.message,
            "client version 1.12 is too old. Minimum supported API version is 1.23, please upgrade your client to a newer version"
        );
        let err = requested_version("/v1.34/info", docker).expect_err("too new");
        assert_eq!(
            err.message,
            "client version 1.34 is too new. Maximum supported API version is 1.33"
        );
        assert_eq!(
            requested_version("/info", docker).ok(),
            Some((MAX_API, "/info"))
        );
        // Not a version: the path as it is, which no Docker route matches (moby's 404).
        assert_eq!(
            requested_version("/v1.x/info", docker).ok(),
            Some((MAX_API, "/v1.x/info"))
        );
    }

    #[test]
    fn other_apis_serve_their_own_versions_and_paths_that_start_with_v() {
        let petstore = (ApiVersion::new(1, 0), ApiVersion::new(2, 0));
        assert_eq!(
            requested_version("/pets", petstore).ok(),
            Some((ApiVersion::new(2, 0), "/pets"))
        );
        assert_eq!(
            requested_version("/v1.0/pets", petstore).ok(),
            Some((ApiVersion::new(1, 0), "/pets"))
        );
        assert_eq!(
            requested_version("/v1/pets", petstore).ok(),
            Some((ApiVersion::new(2, 0), "/v1/pets"))
        );
        let err = requested_version("/v2.1/pets", petstore).expect_err("too new");
        assert_eq!(
            err.message,
            "client version 2.1 is too new. Maximum supported API version is 2.0"
        );
    }

    #[test]
    fn upgrade_needs_both_headers() {
        let mut headers = HeaderMap::new();
        headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
        assert!(!wants_upgrade(&headers));
        headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
        assert!(wants_upgrade(&headers));
    }
}
