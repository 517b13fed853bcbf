//! The client transport over HTTPS with client certificates, the way a
//! daemon started with `--tlsverify` expects: a CA, a server certificate
//! and a client certificate are made at test time, written as a Docker
//! cert directory (`ca.pem`, `cert.pem`, `key.pem`), and a rustls server on
//! 127.0.0.1 that requires a client certificate answers `/_ping`.
#![cfg(feature = "client")]

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use drydock_runtime::connection::Connection;
use drydock_runtime::transport::ClientConfig;
use drydock_runtime::{ApiVersion, Error};
use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig, crypto};

/// A certificate authority that signs server and client certificates.
struct Authority {
    cert: Certificate,
    issuer: Issuer<'static, KeyPair>,
}

impl Authority {
    fn new(name: &str) -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        params.distinguished_name.push(DnType::CommonName, name);
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let key = KeyPair::generate().expect("CA key");
        let cert = params.self_signed(&key).expect("CA certificate");
        Self {
            cert,
            issuer: Issuer::new(params, key),
        }
    }

    /// A certificate and key for `names`, usable for `purpose`.
    fn issue(&self, names: &[&str], purpose: ExtendedKeyUsagePurpose) -> (Certificate, KeyPair) {
        let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
        let mut params = CertificateParams::new(names).expect("leaf params");
        params
            .distinguished_name
            .push(DnType::CommonName, "drydock test");
        params.extended_key_usages = vec![purpose];
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let key = KeyPair::generate().expect("leaf key");
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        (cert, key)
    }
}

/// A fresh Docker cert directory holding the given files.
fn cert_dir(files: &[(&str, String)]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "drydock-rt-tls-{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("cert dir");
    for (name, pem) in files {
        std::fs::write(dir.join(name), pem).expect("write PEM");
    }
    dir
}

/// Starts an HTTPS server on 127.0.0.1 that requires a client certificate
/// signed by `authority` and answers `GET /_ping` with API 1.31. Returns its
/// port.
async fn start_daemon(authority: &Authority) -> u16 {
    let provider = Arc::new(crypto::aws_lc_rs::default_provider());
    let mut roots = RootCertStore::empty();
    roots
        .add(authority.cert.der().clone())
        .expect("trust the CA");
    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .expect("client verifier");
    let (cert, key) = authority.issue(&["127.0.0.1"], ExtendedKeyUsagePurpose::ServerAuth);
    let chain: Vec<CertificateDer<'static>> = vec![cert.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("protocol versions")
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .expect("server config");
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A refused handshake only ends that connection.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let mut stream = BufReader::new(tls);
                loop {
                    let mut line = String::new();
                    match stream.read_line(&mut line).await {
                        Ok(0) | Err(_) => return,
                        Ok(_) if line.trim().is_empty() => {
                            let answer = "HTTP/1.1 200 OK\r\nAPI-Version: 1.31\r\nContent-Length: 2\r\n\r\nOK";
                            if stream.write_all(answer.as_bytes()).await.is_err()
                                || stream.flush().await.is_err()
                            {
                                return;
                            }
                        }
                        Ok(_) => {}
                    }
                }
            });
        }
    });
    port
}

fn config(port: u16, dir: &Path, verify: bool) -> ClientConfig {
    let host = format!("tcp://127.0.0.1:{port}");
    let dir = dir.display().to_string();
    ClientConfig::from_vars(|name| match name {
        "DOCKER_HOST" => Some(host.clone()),
        "DOCKER_CERT_PATH" => Some(dir.clone()),
        "DOCKER_TLS_VERIFY" => verify.then(|| "1".to_owned()),
        _ => None,
    })
    .expect("config")
}

fn client_files(authority: &Authority, ca_pem: String) -> Vec<(&'static str, String)> {
    let (cert, key) = authority.issue(&["drydock-client"], ExtendedKeyUsagePurpose::ClientAuth);
    vec![
        ("ca.pem", ca_pem),
        ("cert.pem", cert.pem()),
        ("key.pem", key.serialize_pem()),
    ]
}

#[tokio::test]
async fn verified_tls_with_client_certificate_from_cert_path_connects() {
    let authority = Authority::new("drydock test CA");
    let port = start_daemon(&authority).await;
    let dir = cert_dir(&client_files(&authority, authority.cert.pem()));
    let config = config(port, &dir, true);
    assert_eq!(config.base_url(), format!("https://127.0.0.1:{port}"));
    let connection = Connection::connect(&config).await.expect("mutual TLS");
    assert_eq!(connection.version(), ApiVersion::new(1, 31));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn daemon_requiring_client_certificate_refuses_a_client_without_one() {
    let authority = Authority::new("drydock test CA");
    let port = start_daemon(&authority).await;
    let dir = cert_dir(&[("ca.pem", authority.cert.pem())]);
    let err = Connection::connect(&config(port, &dir, true))
        .await
        .expect_err("no client certificate");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn verification_rejects_a_daemon_signed_by_another_ca_unless_turned_off() {
    let authority = Authority::new("drydock test CA");
    let stranger = Authority::new("some other CA");
    let port = start_daemon(&authority).await;
    let dir = cert_dir(&client_files(&authority, stranger.cert.pem()));
    let err = Connection::connect(&config(port, &dir, true))
        .await
        .expect_err("server certificate not signed by ca.pem");
    assert!(matches!(err, Error::Transport { .. }), "{err}");
    // Without DOCKER_TLS_VERIFY the CLI accepts any server certificate.
    let connection = Connection::connect(&config(port, &dir, false))
        .await
        .expect("unverified TLS still presents the client certificate");
    assert_eq!(connection.version(), ApiVersion::new(1, 31));
    std::fs::remove_dir_all(&dir).ok();
}
