//! Image references as Docker parses them (`busybox`, `busybox:1.36`, `reg:5000/a/b:tag`),
//! normalised to their familiar form (`docker.io/library/busybox` is shown as `busybox`).

use std::fmt;

use crate::error::{Error, Result};

/// The domain of names that have none.
const DEFAULT_DOMAIN: &str = "docker.io";
/// The path prefix of official images on the default domain.
const OFFICIAL_PREFIX: &str = "library/";
/// The tag of a reference that names none.
pub const DEFAULT_TAG: &str = "latest";
/// Docker's limit on a name's length.
const NAME_MAX: usize = 255;

/// A repository name with an optional tag or digest, in Docker's familiar form.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Reference {
    /// The familiar repository name: `busybox`, `reg:5000/a/b`, `user/app`.
    name: String,
    /// The tag, if one was given.
    tag: Option<String>,
    /// The digest (`sha256:…`), if one was given.
    digest: Option<String>,
}

impl Reference {
    /// Parses a reference as `docker` does (`ParseNormalizedNamed`).
    ///
    /// # Errors
    ///
    /// [`Error::InvalidReference`] with Docker's wording when it does not parse.
    pub fn parse(text: &str) -> Result<Reference> {
        let invalid = |detail: &str| Error::InvalidReference(detail.to_owned());
        if Self::is_full_hex_id(text) {
            return Err(invalid("cannot specify 64-byte hexadecimal strings"));
        }
        let (rest, digest) = match text.split_once('@') {
            Some((rest, digest)) => {
                let (algorithm, hex) = digest.split_once(':').ok_or_else(|| invalid(""))?;
                let valid = algorithm == "sha256"
                    && hex.len() == 64
                    && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
                if !valid {
                    return Err(invalid(""));
                }
                (rest, Some(digest.to_owned()))
            }
            None => (text, None),
        };
        // A tag follows the last ':' that comes after the last '/'.
        let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
        let (name, tag) = match rest[last_slash..].rfind(':') {
            Some(colon) => {
                let at = last_slash + colon;
                (&rest[..at], Some(rest[at + 1..].to_owned()))
            }
            None => (rest, None),
        };
        if tag.as_deref().is_some_and(|tag| !is_valid_tag(tag)) {
            return Err(invalid(""));
        }
        if name.is_empty() || name.len() > NAME_MAX {
            return Err(invalid(""));
        }
        let (domain, path) = split_domain(name);
        if domain.is_some_and(|domain| !is_valid_domain(domain)) {
            return Err(invalid(""));
        }
        if path.bytes().any(|b| b.is_ascii_uppercase()) {
            return Err(invalid("repository name must be lowercase"));
        }
        if !path.split('/').all(is_valid_path_component) {
            return Err(invalid(""));
        }
        let name = familiar_name(domain.unwrap_or(DEFAULT_DOMAIN), path);
        Ok(Reference { name, tag, digest })
    }

    /// Whether `text` is 64 hex digits, which Docker refuses as a name (it reads as an id).
    fn is_full_hex_id(text: &str) -> bool {
        text.len() == 64 && text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    }

    /// The familiar repository name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The tag given, if any.
    pub fn tag(&self) -> Option<&str> {
        self.tag.as_deref()
    }

    /// The digest given, if any.
    pub fn digest(&self) -> Option<&str> {
        self.digest.as_deref()
    }

    /// This reference with `latest` as its tag when it has neither tag nor digest, as Docker
    /// completes names (`TagNameOnly`).
    pub fn with_default_tag(mut self) -> Reference {
        if self.tag.is_none() && self.digest.is_none() {
            self.tag = Some(DEFAULT_TAG.to_owned());
        }
        self
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)?;
        if let Some(tag) = &self.tag {
            write!(f, ":{tag}")?;
        }
        if let Some(digest) = &self.digest {
            write!(f, "@{digest}")?;
        }
        Ok(())
    }
}

/// Splits off the first component when it is a registry domain: it holds a `.` or a `:`, or is
/// `localhost`, or has an upper-case letter (as Docker's `splitDockerDomain` decides).
fn split_domain(name: &str) -> (Option<&str>, &str) {
    match name.split_once('/') {
        Some((first, rest))
            if first.contains(['.', ':'])
                || first == "localhost"
                || first.bytes().any(|b| b.is_ascii_uppercase()) =>
        {
            (Some(first), rest)
        }
        _ => (None, name),
    }
}

/// The name as Docker shows it: no `docker.io/`, and no `library/` for official images.
fn familiar_name(domain: &str, path: &str) -> String {
    if domain == DEFAULT_DOMAIN || domain == "index.docker.io" {
        match path.strip_prefix(OFFICIAL_PREFIX) {
            Some(official) if !official.contains('/') => official.to_owned(),
            _ => path.to_owned(),
        }
    } else {
        format!("{domain}/{path}")
    }
}

/// A tag: a word character, then up to 127 word characters, dots and dashes.
fn is_valid_tag(tag: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let bytes = tag.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 128
        && word(bytes[0])
        && bytes.iter().all(|&b| word(b) || b == b'.' || b == b'-')
}

/// A domain: dot-separated labels of letters, digits and inner dashes, with an optional port.
fn is_valid_domain(domain: &str) -> bool {
    let (host, port) = match domain.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (domain, None),
    };
    let label_ok = |label: &str| {
        let bytes = label.as_bytes();
        !bytes.is_empty()
            && bytes
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'-')
            && bytes[0] != b'-'
            && bytes[bytes.len() - 1] != b'-'
    };
    let port_ok =
        port.is_none_or(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
    host.split('.').all(label_ok) && port_ok
}

/// A path component: lower-case alphanumeric runs joined by `.`, `_`, `__` or dashes.
fn is_valid_path_component(component: &str) -> bool {
    let bytes = component.as_bytes();
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if alnum(bytes[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < bytes.len() && !alnum(bytes[i]) {
            i += 1;
        }
        let separator = &component[start..i];
        let ok = matches!(separator, "." | "_" | "__") || separator.bytes().all(|b| b == b'-');
        if !ok {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::Reference;

    fn familiar(text: &str) -> String {
        Reference::parse(text)
            .unwrap_or_else(|e| panic!("{text} does not parse: {e}"))
            .with_default_tag()
            .to_string()
    }

    #[test]
    fn official_names_get_latest_and_lose_their_default_domain() {
        assert_eq!(familiar("busybox"), "busybox:latest");
        assert_eq!(familiar("docker.io/library/busybox:1.36"), "busybox:1.36");
        assert_eq!(familiar("docker.io/user/app"), "user/app:latest");
    }

    #[test]
    fn names_with_registry_port_and_slashes_keep_them() {
        assert_eq!(familiar("reg:5000/a/b:tag"), "reg:5000/a/b:tag");
        assert_eq!(familiar("localhost/app"), "localhost/app:latest");
        let parsed = Reference::parse("reg:5000/a/b").expect("parses");
        assert_eq!(parsed.name(), "reg:5000/a/b");
        assert_eq!(parsed.tag(), None);
    }

    #[test]
    fn malformed_names_are_refused_with_dockers_words() {
        let upper = Reference::parse("BusyBox").expect_err("upper case refused");
        assert_eq!(
            upper.to_string(),
            "invalid reference format: repository name must be lowercase"
        );
        for bad in [
            "",
            "a:",
            "a/:b",
            "-a",
            "a//b",
            "a:b:c",
            "a@sha256:12",
            ":tag",
        ] {
            assert!(Reference::parse(bad).is_err(), "{bad:?} parsed");
        }
        let hex = "a".repeat(64);
        assert!(Reference::parse(&hex).is_err());
    }
}
