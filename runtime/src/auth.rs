//! Registry credentials in request headers.
//!
//! - `X-Registry-Auth` (pull, push, service create/update, plugin install)
//!   carries one [`AuthConfig`] as base64url-encoded JSON.
//! - `X-Registry-Config` (`POST /build`) carries a [`RegistryConfig`]: a map
//!   from registry host to [`AuthConfig`], encoded the same way.
//!
//! Encoding uses the URL-safe alphabet with padding, as the Docker CLI does;
//! decoding (for the server) also accepts missing padding and the standard
//! alphabet, which some clients send.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// Name of the header that carries one [`AuthConfig`].
pub const REGISTRY_AUTH_HEADER: &str = "X-Registry-Auth";

/// Name of the header that carries a [`RegistryConfig`].
pub const REGISTRY_CONFIG_HEADER: &str = "X-Registry-Config";

const ENCODE: GeneralPurpose = base64::engine::general_purpose::URL_SAFE;

const DECODE_CONFIG: GeneralPurposeConfig =
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent);
const DECODE_URL_SAFE: GeneralPurpose = GeneralPurpose::new(&alphabet::URL_SAFE, DECODE_CONFIG);
const DECODE_STANDARD: GeneralPurpose = GeneralPurpose::new(&alphabet::STANDARD, DECODE_CONFIG);

/// Credentials for one registry, as Docker's `AuthConfig` JSON.
///
/// Its `Debug` output hides the password and tokens.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthConfig {
    /// User name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// Password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
    /// `base64(username:password)`, as stored in `~/.docker/config.json`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth: Option<String>,
    /// E-mail (deprecated by Docker, still accepted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// The registry, such as `https://index.docker.io/v1/`.
    #[serde(
        default,
        rename = "serveraddress",
        skip_serializing_if = "Option::is_none"
    )]
    pub server_address: Option<String>,
    /// A token to obtain access tokens with (from `POST /auth`).
    #[serde(
        default,
        rename = "identitytoken",
        skip_serializing_if = "Option::is_none"
    )]
    pub identity_token: Option<String>,
    /// A bearer token for the registry.
    #[serde(
        default,
        rename = "registrytoken",
        skip_serializing_if = "Option::is_none"
    )]
    pub registry_token: Option<String>,
}

impl fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |field: &Option<String>| field.as_ref().map(|_| "<hidden>");
        f.debug_struct("AuthConfig")
            .field("username", &self.username)
            .field("password", &hidden(&self.password))
            .field("auth", &hidden(&self.auth))
            .field("email", &self.email)
            .field("server_address", &self.server_address)
            .field("identity_token", &hidden(&self.identity_token))
            .field("registry_token", &hidden(&self.registry_token))
            .finish()
    }
}

impl AuthConfig {
    /// Credentials of a user name and password for `server_address`.
    pub fn with_password(
        username: impl Into<String>,
        password: impl Into<String>,
        server_address: impl Into<String>,
    ) -> Self {
        Self {
            username: Some(username.into()),
            password: Some(password.into()),
            server_address: Some(server_address.into()),
            ..Self::default()
        }
    }

    /// The `X-Registry-Auth` header value.
    pub fn to_header(&self) -> String {
        encode_json(self)
    }

    /// Reads an `X-Registry-Auth` header value. An empty value means no
    /// credentials, as for the daemon.
    pub fn from_header(value: &str) -> Result<Self, Error> {
        decode_json(REGISTRY_AUTH_HEADER, value)
    }
}

/// Credentials for several registries, keyed by registry host, for
/// `POST /build`'s `X-Registry-Config` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct RegistryConfig {
    /// Credentials by registry host (`docker.io`, `registry.example:5000`).
    pub registries: BTreeMap<String, AuthConfig>,
}

impl RegistryConfig {
    /// No credentials.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds the credentials for `registry` (builder style).
    #[must_use]
    pub fn with(mut self, registry: impl Into<String>, auth: AuthConfig) -> Self {
        self.registries.insert(registry.into(), auth);
        self
    }

    /// The `X-Registry-Config` header value.
    pub fn to_header(&self) -> String {
        encode_json(self)
    }

    /// Reads an `X-Registry-Config` header value; empty means none.
    pub fn from_header(value: &str) -> Result<Self, Error> {
        decode_json(REGISTRY_CONFIG_HEADER, value)
    }
}

fn encode_json<T: Serialize>(value: &T) -> String {
    // Serialising string fields and string-keyed maps cannot fail.
    let json = serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec());
    ENCODE.encode(json)
}

fn decode_json<T: Default + for<'de> Deserialize<'de>>(
    header: &'static str,
    value: &str,
) -> Result<T, Error> {
    let value = value.trim();
    if value.is_empty() {
        return Ok(T::default());
    }
    let json = DECODE_URL_SAFE
        .decode(value)
        .or_else(|_| DECODE_STANDARD.decode(value))
        .map_err(|err| Error::AuthHeader {
            header,
            message: format!("not base64: {err}"),
        })?;
    serde_json::from_slice(&json).map_err(|err| Error::AuthHeader {
        header,
        message: format!("not the expected JSON: {err}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth_header_is_base64url_of_docker_json() {
        let auth = AuthConfig::with_password("bob", "s3cr?t>>", "https://index.docker.io/v1/");
        let header = auth.to_header();
        assert!(!header.contains('+') && !header.contains('/'), "{header}");
        let json = ENCODE.decode(&header).expect("base64url");
        assert_eq!(
            String::from_utf8(json).expect("utf-8"),
            r#"{"username":"bob","password":"s3cr?t>>","serveraddress":"https://index.docker.io/v1/"}"#
        );
        assert_eq!(AuthConfig::from_header(&header).expect("decodes"), auth);
    }

    #[test]
    fn auth_header_decoding_accepts_unpadded_and_standard_alphabet() {
        let auth = AuthConfig {
            identity_token: Some("tok>>>?".into()),
            ..AuthConfig::default()
        };
        let json = serde_json::to_vec(&auth).expect("json");
        let unpadded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&json);
        let standard = base64::engine::general_purpose::STANDARD.encode(&json);
        assert_eq!(AuthConfig::from_header(&unpadded).expect("unpadded"), auth);
        assert_eq!(AuthConfig::from_header(&standard).expect("standard"), auth);
    }

    #[test]
    fn empty_auth_header_means_no_credentials() {
        assert_eq!(
            AuthConfig::from_header("").expect("empty"),
            AuthConfig::default()
        );
    }

    #[test]
    fn bad_auth_headers_are_errors_naming_the_header() {
        let err = AuthConfig::from_header("!!!").expect_err("not base64");
        assert!(err.to_string().contains("X-Registry-Auth"), "{err}");
        let not_json = ENCODE.encode(b"[1,2]");
        assert!(AuthConfig::from_header(&not_json).is_err());
    }

    #[test]
    fn registry_config_header_maps_hosts_to_credentials() {
        let config = RegistryConfig::new()
            .with(
                "docker.io",
                AuthConfig::with_password("a", "b", "docker.io"),
            )
            .with(
                "registry.example:5000",
                AuthConfig {
                    auth: Some("dTpw".into()),
                    ..AuthConfig::default()
                },
            );
        let header = config.to_header();
        let json = ENCODE.decode(&header).expect("base64url");
        assert_eq!(
            String::from_utf8(json).expect("utf-8"),
            r#"{"docker.io":{"username":"a","password":"b","serveraddress":"docker.io"},"registry.example:5000":{"auth":"dTpw"}}"#
        );
        assert_eq!(
            RegistryConfig::from_header(&header).expect("decodes"),
            config
        );
        let err = RegistryConfig::from_header("%%").expect_err("bad");
        assert!(err.to_string().contains("X-Registry-Config"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let auth = AuthConfig {
            registry_token: Some("tok-123".into()),
            ..AuthConfig::with_password("bob", "hunter2", "r")
        };
        let shown = format!("{auth:?}");
        assert!(shown.contains("bob"));
        assert!(
            !shown.contains("hunter2") && !shown.contains("tok-123"),
            "{shown}"
        );
    }
}
