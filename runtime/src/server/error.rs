//! Errors a server answers with: a status and Docker's `{"message": …}` body.

use axum::http::StatusCode;
use axum::http::header::{CONTENT_TYPE, HeaderValue};
use axum::response::{IntoResponse, Response};

/// An error answer: the HTTP status and the message Docker clients show.
///
/// Generated server traits return it from every operation; the runtime
/// answers with it when a request cannot be decoded (400), names no route or
/// an operation the requested version lacks (404), or asks for an API version
/// outside the supported range (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status}: {message}")]
pub struct ServerError {
    /// The HTTP status.
    pub status: StatusCode,
    /// The `message` of the JSON body.
    pub message: String,
}

impl ServerError {
    /// An error with any status.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 404: no such object (`No such container: x`).
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 304: the object is already in the asked-for state (starting a started
    /// container).
    pub fn not_modified(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_MODIFIED, message)
    }

    /// 409: the request conflicts with the object's state.
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, message)
    }

    /// 500: the server failed.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    /// 501: the implementation does not provide `operation`.
    pub fn not_implemented(operation: &str) -> Self {
        Self::new(
            StatusCode::NOT_IMPLEMENTED,
            format!("{operation} is not implemented by this server"),
        )
    }

    /// 404 `page not found`: what the daemon answers for an unknown route,
    /// and for an operation the requested API version does not have.
    pub fn page_not_found() -> Self {
        Self::not_found("page not found")
    }
}

/// The JSON error body, `{"message":"…"}`.
pub fn error_body(message: &str) -> String {
    serde_json::json!({ "message": message }).to_string() + "\n"
}

impl IntoResponse for ServerError {
    fn into_response(self) -> Response {
        let mut response = (self.status, error_body(&self.message)).into_response();
        response
            .headers_mut()
            .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_is_docker_message_json() {
        assert_eq!(
            error_body("No such container: \"x\""),
            "{\"message\":\"No such container: \\\"x\\\"\"}\n"
        );
    }

    #[test]
    fn constructors_pick_the_status() {
        assert_eq!(ServerError::page_not_found().status, StatusCode::NOT_FOUND);
        assert_eq!(ServerError::conflict("c").status, StatusCode::CONFLICT);
        assert_eq!(
            ServerError::not_implemented("ContainerList").message,
            "ContainerList is not implemented by this server"
        );
    }
}
