//! Listening: a unix socket (mode `0660`, as the daemon's), TCP, or (feature
//! `server-tls`) TLS that requires client certificates.

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

/// A TLS acceptor that, like a daemon started with `--tlsverify`, presents
/// `cert_pem` with `key_pem` and requires a client certificate signed by a CA
/// of `ca_pem` (all PEM text).
#[cfg(feature = "server-tls")]
pub fn tls_acceptor(
    ca_pem: &[u8],
    cert_pem: &[u8],
    key_pem: &[u8],
) -> io::Result<tokio_rustls::TlsAcceptor> {
    use std::sync::Arc;

    use tokio_rustls::rustls::pki_types::pem::PemObject;
    use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use tokio_rustls::rustls::server::WebPkiClientVerifier;
    use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};

    let invalid = |what: &str, err: &dyn std::fmt::Display| {
        io::Error::new(io::ErrorKind::InvalidInput, format!("{what}: {err}"))
    };
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem) {
        let cert = cert.map_err(|e| invalid("CA certificate", &e))?;
        roots.add(cert).map_err(|e| invalid("CA certificate", &e))?;
    }
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| invalid("client verifier", &e))?;
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| invalid("server certificate", &e))?;
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| invalid("server key", &e))?;
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid("TLS versions", &e))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| invalid("server certificate", &e))?;
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Serves `router` over TLS until the task is dropped. A client whose
/// handshake fails (no certificate, one from another CA) loses only its own
/// connection; hijacked connections work as over TCP.
#[cfg(feature = "server-tls")]
pub async fn serve_tls(
    listener: TcpListener,
    acceptor: tokio_rustls::TlsAcceptor,
    router: Router,
) -> io::Result<()> {
    use hyper_util::rt::TokioIo;
    use hyper_util::service::TowerToHyperService;

    loop {
        let (tcp, _) = listener.accept().await?;
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(router.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(tls), service)
                .with_upgrades();
            // A connection that breaks off ends only itself.
            let _ = connection.await;
        });
    }
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

    #[cfg(feature = "server-tls")]
    mod tls {
        use std::sync::Arc;

        use rcgen::{
            BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer,
            KeyPair, KeyUsagePurpose,
        };
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        use tokio_rustls::TlsConnector;
        use tokio_rustls::rustls::pki_types::{
            CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName,
        };
        use tokio_rustls::rustls::{ClientConfig, RootCertStore, crypto};

        use super::super::*;
        use crate::server::{Dispatch, DispatchFuture, Request, Route, ServerConfig, ServerError};

        /// Serves no operation: `/_ping` is the runtime's own.
        struct NoOperations;

        impl Dispatch for NoOperations {
            fn routes(&self) -> &'static [Route] {
                &[]
            }

            fn dispatch(self: Arc<Self>, _index: usize, _request: Request) -> DispatchFuture {
                Box::pin(async { Err(ServerError::page_not_found()) })
            }
        }

        fn leaf(
            issuer: &Issuer<'static, KeyPair>,
            names: &[&str],
            purpose: ExtendedKeyUsagePurpose,
        ) -> (rcgen::Certificate, KeyPair) {
            let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
            let mut params = CertificateParams::new(names).expect("leaf params");
            params
                .distinguished_name
                .push(DnType::CommonName, "drydock");
            params.extended_key_usages = vec![purpose];
            params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
            let key = KeyPair::generate().expect("leaf key");
            let cert = params.signed_by(&key, issuer).expect("leaf certificate");
            (cert, key)
        }

        async fn ping(
            port: u16,
            ca: &CertificateDer<'static>,
            client: Option<(rcgen::Certificate, KeyPair)>,
        ) -> std::io::Result<String> {
            let provider = Arc::new(crypto::aws_lc_rs::default_provider());
            let mut roots = RootCertStore::empty();
            roots.add(ca.clone()).expect("trust the CA");
            let builder = ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("versions")
                .with_root_certificates(roots);
            let config = match client {
                Some((cert, key)) => builder
                    .with_client_auth_cert(
                        vec![cert.der().clone()],
                        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                    )
                    .expect("client auth"),
                None => builder.with_no_client_auth(),
            };
            let tcp = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
            let name = ServerName::try_from("127.0.0.1").expect("a name");
            let mut tls = TlsConnector::from(Arc::new(config))
                .connect(name, tcp)
                .await?;
            tls.write_all(
                b"GET /v1.30/_ping HTTP/1.1\r\nHost: docker\r\nConnection: close\r\n\r\n",
            )
            .await?;
            let mut answer = String::new();
            tls.read_to_string(&mut answer).await?;
            Ok(answer)
        }

        #[tokio::test]
        async fn tls_listener_requires_a_client_certificate_from_the_ca() {
            let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
            params
                .distinguished_name
                .push(DnType::CommonName, "drydock CA");
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![KeyUsagePurpose::KeyCertSign];
            let ca_key = KeyPair::generate().expect("CA key");
            let ca = params.self_signed(&ca_key).expect("CA certificate");
            let issuer = Issuer::new(params, ca_key);
            let (server_cert, server_key) =
                leaf(&issuer, &["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
            let acceptor = tls_acceptor(
                ca.pem().as_bytes(),
                server_cert.pem().as_bytes(),
                server_key.serialize_pem().as_bytes(),
            )
            .expect("an acceptor");
            let listener = TcpListener::bind("127.0.0.1:0").await.expect("binds");
            let port = listener.local_addr().expect("an address").port();
            let router = crate::server::router(NoOperations, ServerConfig::default());
            tokio::spawn(serve_tls(listener, acceptor, router));

            let client = leaf(&issuer, &["client"], ExtendedKeyUsagePurpose::ClientAuth);
            let answer = ping(port, ca.der(), Some(client))
                .await
                .expect("a TLS answer");
            assert!(answer.starts_with("HTTP/1.1 200 OK\r\n"), "{answer}");
            assert!(
                answer.to_ascii_lowercase().contains("api-version: 1.33"),
                "{answer}"
            );
            assert!(answer.ends_with("\r\n\r\nOK"), "{answer}");

            let refused = ping(port, ca.der(), None).await;
            assert!(
                refused.as_ref().map_or(true, |a| !a.contains("200 OK")),
                "answered without a client certificate: {refused:?}"
            );
        }
    }
}
