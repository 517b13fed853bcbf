//! sha256 digests as Docker writes them (`sha256:<64 hex>`), and a writer that computes one.

use std::fmt;
use std::io::{self, Write};

use sha2::{Digest as _, Sha256};

/// A sha256 content digest, shown as `sha256:<64 lowercase hex digits>`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Digest {
    /// The 64 lowercase hex digits.
    hex: String,
}

impl Digest {
    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Digest {
        Digest::from_hash(Sha256::digest(bytes).as_slice())
    }

    /// Parses `sha256:<hex>`; `None` for any other algorithm or a malformed hex part.
    pub fn parse(text: &str) -> Option<Digest> {
        let hex = text.strip_prefix("sha256:")?;
        Digest::from_hex(hex)
    }

    /// A digest from its 64 lowercase hex digits.
    pub fn from_hex(hex: &str) -> Option<Digest> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Digest {
            hex: hex.to_owned(),
        })
    }

    /// The 64 hex digits, without `sha256:`.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// The first 12 hex digits, as Docker shows ids (`stringid.TruncateID`).
    pub fn short(&self) -> &str {
        &self.hex[..12]
    }

    fn from_hash(hash: &[u8]) -> Digest {
        let mut hex = String::with_capacity(64);
        for byte in hash {
            hex.push_str(&format!("{byte:02x}"));
        }
        Digest { hex }
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Digest {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Digest, D::Error> {
        let text = String::deserialize(deserializer)?;
        Digest::parse(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("not a sha256 digest: {text:?}")))
    }
}

/// A writer that hashes and counts everything written through it to an inner writer.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    written: u64,
}

impl<W: Write> HashingWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> HashingWriter<W> {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            written: 0,
        }
    }

    /// The digest and length of everything written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        let digest = Digest::from_hash(self.hasher.finalize().as_slice());
        (digest, self.written, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let count = self.inner.write(buf)?;
        self.hasher.update(&buf[..count]);
        self.written += count as u64;
        Ok(count)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::{Digest, HashingWriter};
    use std::io::Write;

    #[test]
    fn digest_of_empty_input_is_sha256_of_nothing() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hashing_writer_agrees_with_one_shot_digest() {
        let mut writer = HashingWriter::new(Vec::new());
        writer.write_all(b"hello ").expect("vec write");
        writer.write_all(b"world").expect("vec write");
        let (digest, length, inner) = writer.finish();
        assert_eq!(digest, Digest::of(b"hello world"));
        assert_eq!(length, 11);
        assert_eq!(inner, b"hello world");
    }

    #[test]
    fn other_algorithms_and_short_hex_are_not_digests() {
        assert!(Digest::parse("sha512:abcd").is_none());
        assert!(Digest::parse("sha256:abcd").is_none());
        assert!(Digest::parse(&format!("sha256:{}", "A".repeat(64))).is_none());
    }
}
