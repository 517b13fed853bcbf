//! Listening: a unix socket (mode `0660`, as the daemon's) or TCP.

use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use axum::Router;
use tokio::net::{TcpListener, UnixListener};

/// Binds a unix socket at `path` with mode `0660`, replacing a stale socket
/// file left there (any other kind of file is an error).
pub fn bind_unix(path: &Path) -> io::Result<UnixListener> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if std::os::unix::fs::FileTypeExt::is_socket(&meta.file_type()) => {
            std::fs::remove_file(path)?;
        }
        Ok(_) => {
            return Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!("{} exists and is not a socket", path.display()),
            ));
        }
        Err(_) => {}
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    Ok(listener)
}

/// Serves `router` on a unix socket until the task is dropped.
pub async fn serve_unix(listener: UnixListener, router: Router) -> io::Result<()> {
    axum::serve(listener, router).await
}

/// Serves `router` over TCP until the task is dropped.
pub async fn serve_tcp(listener: TcpListener, router: Router) -> io::Result<()> {
    axum::serve(listener, router).await
}
