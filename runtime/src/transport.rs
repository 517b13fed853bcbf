//! Where the daemon is and how to reach it: `DOCKER_HOST` and friends turned
//! into a configured reqwest client and a base URL.
//!
//! - [`DockerHost`] parses `unix:///var/run/docker.sock` (the default) and
//!   `tcp://host:port` (`http://` and `https://` are accepted as well).
//! - [`ClientConfig`] gathers the host, TLS files, a pinned API version and
//!   timeouts; [`ClientConfig::from_env`] reads them the way the Docker CLI
//!   does from `DOCKER_HOST`, `DOCKER_API_VERSION`, `DOCKER_CERT_PATH` and
//!   `DOCKER_TLS_VERIFY`.
//! - [`Transport`] is the resulting client: reqwest's own unix-socket
//!   connector for `unix://`, rustls with the `ca.pem`/`cert.pem`/`key.pem`
//!   files for TLS.

use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use crate::error::Error;
use crate::version::ApiVersion;

/// The daemon address used when `DOCKER_HOST` is unset.
pub const DEFAULT_DOCKER_HOST: &str = "unix:///var/run/docker.sock";

/// The conventional plain-HTTP daemon port.
pub const DEFAULT_HTTP_PORT: u16 = 2375;

/// The conventional TLS daemon port.
pub const DEFAULT_TLS_PORT: u16 = 2376;

/// Where the daemon listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DockerHost {
    /// A unix socket path.
    Unix(PathBuf),
    /// A TCP address; `port` is `None` when the address named none, and
    /// then defaults by whether TLS is used.
    Tcp {
        /// Host name or IP address (IPv6 without brackets).
        host: String,
        /// Port, if given.
        port: Option<u16>,
    },
}

impl Default for DockerHost {
    fn default() -> Self {
        Self::Unix(PathBuf::from("/var/run/docker.sock"))
    }
}

impl FromStr for DockerHost {
    type Err = Error;

    fn from_str(input: &str) -> Result<Self, Error> {
        let invalid = |message: &str| Error::Config {
            setting: format!("DOCKER_HOST={input:?}"),
            message: message.to_owned(),
        };
        let text = input.trim();
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("expected unix:///path or tcp://host:port"))?;
        match scheme.to_ascii_lowercase().as_str() {
            "unix" => {
                if rest.is_empty() {
                    return Err(invalid("the unix socket path is empty"));
                }
                Ok(Self::Unix(PathBuf::from(rest)))
            }
            "tcp" | "http" | "https" => {
                let authority = rest.trim_end_matches('/');
                if authority.contains('/') {
                    return Err(invalid("a TCP address takes no path"));
                }
                let (host, port) = split_host_port(authority).map_err(invalid)?;
                if host.is_empty() {
                    return Err(invalid("the host is empty"));
                }
                Ok(Self::Tcp { host, port })
            }
            "npipe" | "ssh" | "fd" => Err(invalid(
                "this transport is not supported; use unix:// or tcp://",
            )),
            _ => Err(invalid("unknown scheme; expected unix:// or tcp://")),
        }
    }
}

/// Splits `host:port`, `host`, `[v6]:port` or `[v6]`.
fn split_host_port(authority: &str) -> Result<(String, Option<u16>), &'static str> {
    let parse_port = |port: &str| {
        port.parse::<u16>()
            .map_err(|_| "the port must be a number from 0 to 65535")
    };
    if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest
            .split_once(']')
            .ok_or("an IPv6 address lacks its closing bracket")?;
        return match after {
            "" => Ok((host.to_owned(), None)),
            _ => match after.strip_prefix(':') {
                Some(port) => Ok((host.to_owned(), Some(parse_port(port)?))),
                None => Err("unexpected text after the IPv6 address"),
            },
        };
    }
    match authority.rsplit_once(':') {
        Some((host, _)) if host.contains(':') => Err("put IPv6 addresses in brackets"),
        Some((host, port)) => Ok((host.to_owned(), Some(parse_port(port)?))),
        None => Ok((authority.to_owned(), None)),
    }
}

impl fmt::Display for DockerHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unix(path) => write!(f, "unix://{}", path.display()),
            Self::Tcp { host, port } => {
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                match port {
                    Some(port) => write!(f, "tcp://{host}:{port}"),
                    None => write!(f, "tcp://{host}"),
                }
            }
        }
    }
}

/// TLS settings: the Docker CLI's `ca.pem`, `cert.pem` and `key.pem`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsConfig {
    /// CA bundle to trust instead of the system roots.
    pub ca: Option<PathBuf>,
    /// Client certificate and its private key (PEM), for daemons that
    /// require client authentication.
    pub client_cert: Option<(PathBuf, PathBuf)>,
    /// Whether to verify the daemon's certificate. Off means any
    /// certificate is accepted, as with the CLI when `DOCKER_TLS_VERIFY` is
    /// unset.
    pub verify: bool,
}

impl TlsConfig {
    /// The files of a Docker cert directory: `ca.pem`, plus `cert.pem` and
    /// `key.pem` when both exist. `ca.pem` is required when verifying.
    pub fn from_cert_dir(dir: &Path, verify: bool) -> Result<Self, Error> {
        let file = |name: &str| {
            let path = dir.join(name);
            path.is_file().then_some(path)
        };
        let ca = file("ca.pem");
        if verify && ca.is_none() {
            return Err(Error::Config {
                setting: dir.join("ca.pem").display().to_string(),
                message:
                    "missing; DOCKER_TLS_VERIFY needs the CA that signed the daemon's certificate"
                        .into(),
            });
        }
        let client_cert = match (file("cert.pem"), file("key.pem")) {
            (Some(cert), Some(key)) => Some((cert, key)),
            (None, None) => None,
            (Some(_), None) => return Err(missing_pair(dir, "key.pem", "cert.pem")),
            (None, Some(_)) => return Err(missing_pair(dir, "cert.pem", "key.pem")),
        };
        Ok(Self {
            ca,
            client_cert,
            verify,
        })
    }
}

fn missing_pair(dir: &Path, missing: &str, present: &str) -> Error {
    Error::Config {
        setting: dir.join(missing).display().to_string(),
        message: format!("missing, but {present} is there; a client certificate needs both"),
    }
}

/// Timeouts of the transport. Streaming endpoints (attach, logs, events)
/// keep a request open for as long as the container runs, so the defaults
/// bound only connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    /// Time to establish a TCP connection (default 30 s).
    pub connect: Option<Duration>,
    /// Time for a whole request, body included (default none). A single
    /// request can override it with `RequestBuilder::timeout`.
    pub request: Option<Duration>,
    /// Longest wait for the next bytes of a response (default none).
    pub read: Option<Duration>,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Some(Duration::from_secs(30)),
            request: None,
            read: None,
        }
    }
}

/// Everything needed to reach a daemon.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientConfig {
    /// The daemon's address.
    pub host: DockerHost,
    /// TLS settings; `None` for plain HTTP.
    pub tls: Option<TlsConfig>,
    /// A version to use without negotiating (`DOCKER_API_VERSION`).
    pub api_version: Option<ApiVersion>,
    /// Timeouts.
    pub timeouts: Timeouts,
}

impl ClientConfig {
    /// A configuration for `host`, no TLS, negotiated version, default
    /// timeouts.
    pub fn new(host: DockerHost) -> Self {
        Self {
            host,
            ..Self::default()
        }
    }

    /// Reads `DOCKER_HOST`, `DOCKER_API_VERSION`, `DOCKER_CERT_PATH` and
    /// `DOCKER_TLS_VERIFY` from the environment; see [`Self::from_vars`].
    pub fn from_env() -> Result<Self, Error> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// Builds a configuration from variables looked up with `var`, the way
    /// the Docker CLI reads its environment (empty counts as unset):
    ///
    /// - `DOCKER_HOST`: the address, default [`DEFAULT_DOCKER_HOST`].
    /// - `DOCKER_API_VERSION`: pins the API version.
    /// - `DOCKER_CERT_PATH`: TLS with that directory's files; the daemon's
    ///   certificate is verified only if `DOCKER_TLS_VERIFY` is set too.
    /// - `DOCKER_TLS_VERIFY` alone: verified TLS with `$HOME/.docker`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, Error> {
        let var = |name: &str| var(name).filter(|value| !value.trim().is_empty());
        let host = match var("DOCKER_HOST") {
            Some(host) => host.parse()?,
            None => DockerHost::default(),
        };
        let api_version = var("DOCKER_API_VERSION")
            .map(|text| {
                text.parse::<ApiVersion>().map_err(|err| Error::Config {
                    setting: format!("DOCKER_API_VERSION={text:?}"),
                    message: err.to_string(),
                })
            })
            .transpose()?;
        let verify = var("DOCKER_TLS_VERIFY").is_some();
        let cert_dir = match var("DOCKER_CERT_PATH") {
            Some(dir) => Some(PathBuf::from(dir)),
            None if verify => {
                let home = var("HOME").ok_or_else(|| Error::Config {
                    setting: "DOCKER_TLS_VERIFY".into(),
                    message:
                        "set, but neither DOCKER_CERT_PATH nor HOME says where the certificates are"
                            .into(),
                })?;
                Some(Path::new(&home).join(".docker"))
            }
            None => None,
        };
        let tls = cert_dir
            .map(|dir| TlsConfig::from_cert_dir(&dir, verify))
            .transpose()?;
        Ok(Self {
            host,
            tls,
            api_version,
            timeouts: Timeouts::default(),
        })
    }

    /// The base URL requests go to: `http://localhost` for a unix socket
    /// (the host part is only sent as the `Host` header),
    /// `http(s)://host:port` for TCP.
    pub fn base_url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        match &self.host {
            DockerHost::Unix(_) => format!("{scheme}://localhost"),
            DockerHost::Tcp { host, port } => {
                let port = port.unwrap_or(if self.tls.is_some() {
                    DEFAULT_TLS_PORT
                } else {
                    DEFAULT_HTTP_PORT
                });
                let host = if host.contains(':') {
                    format!("[{host}]")
                } else {
                    host.clone()
                };
                format!("{scheme}://{host}:{port}")
            }
        }
    }
}

/// A reqwest client set up for one daemon, and the base URL to send to.
#[derive(Debug, Clone)]
pub struct Transport {
    client: reqwest::Client,
    base_url: String,
    host: DockerHost,
}

impl Transport {
    /// Builds the client for `config`: reading the TLS files, setting the
    /// unix socket and the timeouts. Nothing is sent yet.
    pub fn new(config: &ClientConfig) -> Result<Self, Error> {
        let mut builder = client_builder(&config.timeouts);
        if let DockerHost::Unix(path) = &config.host {
            #[cfg(unix)]
            {
                builder = builder.unix_socket(path.as_path());
            }
            #[cfg(not(unix))]
            return Err(Error::Config {
                setting: format!("DOCKER_HOST={:?}", config.host.to_string()),
                message: format!(
                    "unix sockets ({}) exist only on unix systems",
                    path.display()
                ),
            });
        }
        if let Some(tls) = &config.tls {
            builder = configure_tls(builder, tls)?;
        }
        let client = builder.build().map_err(|err| Error::Transport {
            action: format!("setting up the client for {}", config.host),
            source: Box::new(err),
        })?;
        Ok(Self {
            client,
            base_url: config.base_url(),
            host: config.host.clone(),
        })
    }

    /// A client for an API served at `base_url` (`http://host:port/base/path`
    /// or `https://…`, as an OpenAPI document's `servers` give it): requests
    /// go to `base_url` followed by the operation's path. Default timeouts,
    /// the system's trusted certificates for `https`, and, as for daemons,
    /// no proxy from the environment. Nothing is sent yet.
    pub fn for_base_url(base_url: &str) -> Result<Self, Error> {
        let invalid = |message: &str| Error::Config {
            setting: format!("base URL {base_url:?}"),
            message: message.to_owned(),
        };
        let text = base_url.trim().trim_end_matches('/');
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("expected http://host[:port][/path] or https://…"))?;
        if !matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https") {
            return Err(invalid("expected an http:// or https:// URL"));
        }
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let (host, port) = split_host_port(authority).map_err(invalid)?;
        if host.is_empty() {
            return Err(invalid("the host is empty"));
        }
        if rest.contains(['?', '#']) {
            return Err(invalid("a base URL takes no query or fragment"));
        }
        let host = DockerHost::Tcp { host, port };
        let builder = client_builder(&Timeouts::default());
        let client = builder.build().map_err(|err| Error::Transport {
            action: format!("setting up the client for {text}"),
            source: Box::new(err),
        })?;
        Ok(Self {
            client,
            base_url: text.to_owned(),
            host,
        })
    }

    /// The reqwest client.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// The base URL, without a trailing slash or version prefix.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The daemon's address.
    pub fn host(&self) -> &DockerHost {
        &self.host
    }
}

/// A reqwest client builder with drydock's user agent, no proxy and `timeouts`.
fn client_builder(timeouts: &Timeouts) -> reqwest::ClientBuilder {
    let mut builder = reqwest::Client::builder()
        .user_agent(concat!("drydock/", env!("CARGO_PKG_VERSION")))
        .no_proxy();
    if let Some(timeout) = timeouts.connect {
        builder = builder.connect_timeout(timeout);
    }
    if let Some(timeout) = timeouts.request {
        builder = builder.timeout(timeout);
    }
    if let Some(timeout) = timeouts.read {
        builder = builder.read_timeout(timeout);
    }
    builder
}

fn read_file(path: &Path) -> Result<Vec<u8>, Error> {
    std::fs::read(path).map_err(|err| Error::Config {
        setting: path.display().to_string(),
        message: format!("cannot be read: {err}"),
    })
}

fn configure_tls(
    mut builder: reqwest::ClientBuilder,
    tls: &TlsConfig,
) -> Result<reqwest::ClientBuilder, Error> {
    builder = builder.tls_backend_rustls();
    if let Some(ca) = &tls.ca {
        let certs = reqwest::Certificate::from_pem_bundle(&read_file(ca)?).map_err(|err| {
            Error::Config {
                setting: ca.display().to_string(),
                message: format!("not a PEM certificate bundle: {err}"),
            }
        })?;
        if certs.is_empty() {
            return Err(Error::Config {
                setting: ca.display().to_string(),
                message: "holds no PEM certificate".into(),
            });
        }
        builder = builder.tls_certs_only(certs);
    }
    if let Some((cert, key)) = &tls.client_cert {
        let mut pem = read_file(cert)?;
        pem.push(b'\n');
        pem.extend(read_file(key)?);
        let identity = reqwest::Identity::from_pem(&pem).map_err(|err| Error::Config {
            setting: format!("{} + {}", cert.display(), key.display()),
            message: format!("not a PEM certificate and private key: {err}"),
        })?;
        builder = builder.identity(identity);
    }
    if !tls.verify {
        builder = builder.tls_danger_accept_invalid_certs(true);
    }
    Ok(builder)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |name| map.get(name).cloned()
    }

    fn temp_dir(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("drydock-runtime-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    #[test]
    fn parses_docker_host_forms() {
        let host = |s: &str| s.parse::<DockerHost>().expect(s);
        assert_eq!(
            host("unix:///var/run/docker.sock"),
            DockerHost::Unix("/var/run/docker.sock".into())
        );
        assert_eq!(
            host("tcp://10.0.0.2:2376"),
            DockerHost::Tcp {
                host: "10.0.0.2".into(),
                port: Some(2376)
            }
        );
        assert_eq!(
            host("tcp://docker.example"),
            DockerHost::Tcp {
                host: "docker.example".into(),
                port: None
            }
        );
        assert_eq!(
            host("tcp://[::1]:2375/"),
            DockerHost::Tcp {
                host: "::1".into(),
                port: Some(2375)
            }
        );
        assert_eq!(host("tcp://[::1]:2375").to_string(), "tcp://[::1]:2375");
    }

    #[test]
    fn base_urls_keep_their_path_and_lose_a_trailing_slash() {
        let transport = Transport::for_base_url("https://petstore.example:8443/api/v3/")
            .expect("a base URL with a path");
        assert_eq!(transport.base_url(), "https://petstore.example:8443/api/v3");
        assert_eq!(
            transport.host(),
            &DockerHost::Tcp {
                host: "petstore.example".into(),
                port: Some(8443)
            }
        );
        let transport = Transport::for_base_url("http://127.0.0.1:8080").expect("no path");
        assert_eq!(transport.base_url(), "http://127.0.0.1:8080");
        for bad in [
            "petstore.example",
            "ftp://petstore.example",
            "http:///v3",
            "http://host:port",
            "http://host/v3?x=1",
        ] {
            let err = Transport::for_base_url(bad).expect_err(bad);
            assert!(err.to_string().contains("base URL"), "{bad}: {err}");
        }
    }

    #[test]
    fn rejects_unusable_docker_hosts() {
        for bad in [
            "",
            "/var/run/docker.sock",
            "unix://",
            "tcp://",
            "tcp://host:port",
            "tcp://host:99999",
            "tcp://host/path",
            "tcp://::1:2375",
            "ssh://user@host",
            "ftp://host",
        ] {
            let err = bad.parse::<DockerHost>().expect_err(bad);
            assert!(err.to_string().contains("DOCKER_HOST"), "{bad}: {err}");
        }
    }

    #[test]
    fn empty_environment_means_default_unix_socket() {
        let config = ClientConfig::from_vars(vars(&[("DOCKER_HOST", "")])).expect("config");
        assert_eq!(config.host.to_string(), DEFAULT_DOCKER_HOST);
        assert_eq!(config.tls, None);
        assert_eq!(config.api_version, None);
        assert_eq!(config.base_url(), "http://localhost");
    }

    #[test]
    fn environment_pins_version_and_picks_tcp_port() {
        let config = ClientConfig::from_vars(vars(&[
            ("DOCKER_HOST", "tcp://127.0.0.1"),
            ("DOCKER_API_VERSION", "1.25"),
        ]))
        .expect("config");
        assert_eq!(config.api_version, Some(ApiVersion::new(1, 25)));
        assert_eq!(config.base_url(), "http://127.0.0.1:2375");
        let err = ClientConfig::from_vars(vars(&[("DOCKER_API_VERSION", "latest")]))
            .expect_err("bad version");
        assert!(err.to_string().contains("DOCKER_API_VERSION"), "{err}");
    }

    #[test]
    fn cert_path_turns_on_tls_and_verify_follows_tls_verify() {
        let dir = temp_dir("certs");
        for name in ["ca.pem", "cert.pem", "key.pem"] {
            std::fs::write(dir.join(name), "placeholder").expect("write");
        }
        let dir_text = dir.display().to_string();
        let config = ClientConfig::from_vars(vars(&[
            ("DOCKER_HOST", "tcp://docker.example"),
            ("DOCKER_CERT_PATH", &dir_text),
        ]))
        .expect("config");
        let tls = config.tls.clone().expect("tls on");
        assert!(!tls.verify);
        assert_eq!(tls.ca, Some(dir.join("ca.pem")));
        assert_eq!(
            tls.client_cert,
            Some((dir.join("cert.pem"), dir.join("key.pem")))
        );
        assert_eq!(config.base_url(), "https://docker.example:2376");

        let verified = ClientConfig::from_vars(vars(&[
            ("DOCKER_CERT_PATH", &dir_text),
            ("DOCKER_TLS_VERIFY", "1"),
        ]))
        .expect("config");
        assert!(verified.tls.expect("tls on").verify);
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn tls_verify_without_ca_is_a_config_error() {
        let dir = temp_dir("no-ca");
        let dir_text = dir.display().to_string();
        let err = ClientConfig::from_vars(vars(&[
            ("DOCKER_CERT_PATH", &dir_text),
            ("DOCKER_TLS_VERIFY", "1"),
        ]))
        .expect_err("no ca.pem");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        std::fs::write(dir.join("cert.pem"), "x").expect("write");
        let err = TlsConfig::from_cert_dir(&dir, false).expect_err("cert without key");
        assert!(err.to_string().contains("key.pem"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }

    #[test]
    fn tls_verify_alone_uses_home_docker_dir() {
        let err = ClientConfig::from_vars(vars(&[
            ("DOCKER_TLS_VERIFY", "1"),
            ("HOME", "/nonexistent-home"),
        ]))
        .expect_err("no certs there");
        assert!(
            err.to_string().contains("/nonexistent-home/.docker/ca.pem"),
            "{err}"
        );
    }

    #[test]
    fn garbage_certificate_files_are_config_errors_naming_the_file() {
        let dir = temp_dir("garbage");
        std::fs::write(dir.join("ca.pem"), "not a certificate").expect("write");
        let config = ClientConfig {
            host: "tcp://127.0.0.1:2376".parse().expect("host"),
            tls: Some(TlsConfig::from_cert_dir(&dir, true).expect("files exist")),
            ..ClientConfig::default()
        };
        let err = Transport::new(&config).expect_err("garbage CA");
        assert!(err.to_string().contains("ca.pem"), "{err}");
        std::fs::remove_dir_all(&dir).ok();
    }
}
