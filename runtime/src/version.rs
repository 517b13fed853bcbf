//! Docker Engine API versions and how a client settles on one.
//!
//! Every request a client sends carries a `/vX.Y` prefix. Which `X.Y` comes
//! from [`negotiate`]: a version pinned by the user (`DOCKER_API_VERSION`)
//! wins; otherwise the lower of the daemon's `API-Version` header and
//! [`MAX_API`]. Fields and endpoints that only exist from some version on are
//! checked with [`require_version`].

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::error::Error;

/// A Docker Engine API version, `major.minor` (for example `1.24`).
///
/// Ordering is numeric: `1.9 < 1.23 < 1.33`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ApiVersion {
    major: u16,
    minor: u16,
}

/// The oldest API version drydock speaks.
pub const MIN_API: ApiVersion = ApiVersion::new(1, 23);

/// The newest API version drydock speaks.
pub const MAX_API: ApiVersion = ApiVersion::new(1, 33);

impl ApiVersion {
    /// The version `major.minor`.
    pub const fn new(major: u16, minor: u16) -> Self {
        Self { major, minor }
    }

    /// The major part (`1` in `1.24`).
    pub const fn major(self) -> u16 {
        self.major
    }

    /// The minor part (`24` in `1.24`).
    pub const fn minor(self) -> u16 {
        self.minor
    }

    /// Whether drydock can speak this version (`MIN_API..=MAX_API`).
    pub fn is_supported(self) -> bool {
        (MIN_API..=MAX_API).contains(&self)
    }

    /// The path prefix requests carry for this version, `/v1.24`.
    pub fn path_prefix(self) -> String {
        format!("/v{self}")
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

impl FromStr for ApiVersion {
    type Err = Error;

    /// Parses `1.24` (a leading `v`, as in URL paths, is accepted too).
    fn from_str(input: &str) -> Result<Self, Error> {
        let invalid = |reason: &'static str| Error::InvalidVersion {
            input: input.to_owned(),
            reason,
        };
        let text = input.trim();
        let text = text.strip_prefix('v').unwrap_or(text);
        let (major, minor) = text
            .split_once('.')
            .ok_or_else(|| invalid("expected MAJOR.MINOR"))?;
        let number = |part: &str| -> Result<u16, Error> {
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("MAJOR and MINOR must be decimal numbers"));
            }
            part.parse::<u16>()
                .map_err(|_| invalid("number too large for a version part"))
        };
        Ok(Self::new(number(major)?, number(minor)?))
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Splits the `/vX.Y` prefix off a request path, as a server routes it:
/// `/v1.24/containers/json` gives `(Some(1.24), "/containers/json")`, and an
/// unversioned `/containers/json` gives `(None, "/containers/json")`. A
/// prefix that starts like a version (`/v1…`) but is not one is an error.
pub fn split_path_version(path: &str) -> Result<(Option<ApiVersion>, &str), Error> {
    let Some(rest) = path.strip_prefix("/v") else {
        return Ok((None, path));
    };
    if !rest.starts_with(|c: char| c.is_ascii_digit()) {
        return Ok((None, path));
    }
    let end = rest.find('/').unwrap_or(rest.len());
    let version = rest[..end].parse()?;
    let remainder = &rest[end..];
    Ok((
        Some(version),
        if remainder.is_empty() { "/" } else { remainder },
    ))
}

/// Picks the API version a client uses.
///
/// - A `pinned` version wins (the daemon is not consulted), as long as
///   drydock speaks it.
/// - Otherwise the daemon's version from `GET /_ping`'s `API-Version`
///   header, capped at [`MAX_API`]. A daemon below [`MIN_API`] is an error.
/// - A daemon that sent no `API-Version` header (older daemons did not)
///   gets [`MIN_API`], which every supported daemon understands.
pub fn negotiate(
    daemon: Option<ApiVersion>,
    pinned: Option<ApiVersion>,
) -> Result<ApiVersion, Error> {
    if let Some(pinned) = pinned {
        if !pinned.is_supported() {
            return Err(Error::UnsupportedVersion {
                version: pinned,
                min: MIN_API,
                max: MAX_API,
            });
        }
        return Ok(pinned);
    }
    match daemon {
        None => Ok(MIN_API),
        Some(daemon) if daemon < MIN_API => Err(Error::DaemonTooOld {
            daemon,
            min: MIN_API,
        }),
        Some(daemon) => Ok(daemon.min(MAX_API)),
    }
}

/// Checks that `what` (a field, parameter or endpoint, such as
/// `HostConfig.Init`) is available at the `negotiated` version; it exists
/// from `since` on. Fails with [`Error::VersionGate`] otherwise.
pub fn require_version(what: &str, since: ApiVersion, negotiated: ApiVersion) -> Result<(), Error> {
    if negotiated >= since {
        Ok(())
    } else {
        Err(Error::VersionGate {
            what: what.to_owned(),
            since: since.to_string(),
            negotiated: negotiated.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(text: &str) -> ApiVersion {
        text.parse().expect("test version parses")
    }

    #[test]
    fn parses_and_displays_major_minor() {
        assert_eq!(v("1.24"), ApiVersion::new(1, 24));
        assert_eq!(v("v1.33"), ApiVersion::new(1, 33));
        assert_eq!(v(" 1.9 ").to_string(), "1.9");
        assert_eq!(ApiVersion::new(1, 30).path_prefix(), "/v1.30");
    }

    #[test]
    fn rejects_malformed_versions() {
        for bad in [
            "",
            "1",
            "1.",
            ".2",
            "1.2.3",
            "a.b",
            "1.-2",
            "1.+2",
            "99999999.1",
        ] {
            let err = bad.parse::<ApiVersion>().expect_err(bad);
            assert!(matches!(err, Error::InvalidVersion { .. }), "{bad}: {err}");
        }
    }

    #[test]
    fn orders_numerically_not_lexically() {
        assert!(v("1.9") < v("1.23"));
        assert!(v("1.33") > v("1.4"));
        assert!(v("2.0") > v("1.99"));
    }

    #[test]
    fn pinned_version_wins_over_daemon() {
        assert_eq!(
            negotiate(Some(v("1.40")), Some(v("1.25"))).ok(),
            Some(v("1.25"))
        );
        assert_eq!(negotiate(None, Some(v("1.23"))).ok(), Some(v("1.23")));
    }

    #[test]
    fn pinned_version_outside_supported_range_is_an_error() {
        let err = negotiate(None, Some(v("1.40"))).expect_err("1.40 is too new");
        assert!(matches!(err, Error::UnsupportedVersion { .. }), "{err}");
        assert!(negotiate(None, Some(v("1.12"))).is_err());
    }

    #[test]
    fn newer_daemon_is_capped_at_max_api() {
        assert_eq!(negotiate(Some(v("1.43")), None).ok(), Some(MAX_API));
    }

    #[test]
    fn older_daemon_within_range_is_used_as_is() {
        assert_eq!(negotiate(Some(v("1.26")), None).ok(), Some(v("1.26")));
        assert_eq!(negotiate(Some(MIN_API), None).ok(), Some(MIN_API));
    }

    #[test]
    fn daemon_below_min_api_is_an_error() {
        let err = negotiate(Some(v("1.22")), None).expect_err("1.22 is too old");
        assert!(matches!(err, Error::DaemonTooOld { .. }));
        assert!(err.to_string().contains("1.22"), "{err}");
    }

    #[test]
    fn daemon_without_version_header_gets_min_api() {
        assert_eq!(negotiate(None, None).ok(), Some(MIN_API));
    }

    #[test]
    fn version_gate_names_field_and_versions() {
        assert!(require_version("HostConfig.Init", v("1.25"), v("1.25")).is_ok());
        let err = require_version("HostConfig.Init", v("1.25"), v("1.24")).expect_err("gated");
        assert_eq!(
            err.to_string(),
            "`HostConfig.Init` needs API 1.25; negotiated 1.24"
        );
    }

    #[test]
    fn splits_version_prefix_off_request_paths() {
        let split = |p| split_path_version(p).expect(p);
        assert_eq!(
            split("/v1.24/containers/json"),
            (Some(v("1.24")), "/containers/json")
        );
        assert_eq!(split("/v1.30"), (Some(v("1.30")), "/"));
        assert_eq!(split("/containers/json"), (None, "/containers/json"));
        assert_eq!(split("/volumes"), (None, "/volumes"));
        assert_eq!(split("/_ping"), (None, "/_ping"));
        assert!(split_path_version("/v1.x/info").is_err());
        assert!(split_path_version("/v1/info").is_err());
    }

    #[test]
    fn serialises_as_a_string() {
        let json = serde_json::to_string(&v("1.24")).expect("serialises");
        assert_eq!(json, "\"1.24\"");
        let back: ApiVersion = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, v("1.24"));
        assert!(serde_json::from_str::<ApiVersion>("\"x\"").is_err());
    }
}
