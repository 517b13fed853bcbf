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

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(name: &str) -> std::path::PathBuf {
        let dir =
            std::env::temp_dir().join(format!("drydock-listen-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("creates a temp dir");
        dir
    }

    #[tokio::test]
    async fn unix_socket_is_group_readable_only_and_replaces_a_stale_socket() {
        let dir = temp_dir("mode");
        let path = dir.join("docker.sock");
        let first = bind_unix(&path).expect("binds");
        drop(first);
        let _second = bind_unix(&path).expect("replaces the stale socket");
        let mode = std::fs::metadata(&path)
            .expect("exists")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o660);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[tokio::test]
    async fn unix_socket_refuses_to_replace_a_regular_file() {
        let dir = temp_dir("file");
        let path = dir.join("docker.sock");
        std::fs::write(&path, "keep me").expect("writes");
        let err = bind_unix(&path).expect_err("a regular file is not replaced");
        assert_eq!(err.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(
            std::fs::read_to_string(&path).expect("still there"),
            "keep me"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
