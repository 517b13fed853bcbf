//! Engine failures as Docker answers them: the status its error kind maps to, and the
//! engine's message (already worded as dockerd words it) in `{"message": ...}`.

use drydock_engine::{Error, ErrorKind};
use drydock_runtime::server::ServerError;

/// The API error of an engine failure.
pub fn api_error(error: Error) -> ServerError {
    let message = error.to_string();
    match error.kind() {
        ErrorKind::NotFound => ServerError::not_found(message),
        ErrorKind::Conflict => ServerError::conflict(message),
        ErrorKind::InvalidInput => ServerError::bad_request(message),
        ErrorKind::Forbidden => {
            ServerError::new(drydock_runtime::server::StatusCode::FORBIDDEN, message)
        }
        ErrorKind::System => {
            log::error!("{message}");
            ServerError::internal(message)
        }
    }
}

/// Runs blocking engine work (runc, the file system) off the async threads.
pub async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> drydock_engine::Result<T> + Send + 'static,
) -> Result<T, ServerError> {
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(api_error),
        Err(e) => Err(ServerError::internal(format!("engine task failed: {e}"))),
    }
}
