//! What generated models implement to know their API versions.
//!
//! Every generated model type implements [`VersionedModel`]. A struct knows in
//! which versions each of its fields exists, an enumeration in which versions
//! each of its values is listed; the impls here for containers (`Option`,
//! `Box`, `Vec`, maps) and leaves (scalars, JSON values) let the generated
//! impls recurse without caring what holds what.
//!
//! Version spans are open at the ends of the versions drydock knows: an item
//! that exists up to the newest known version is taken to exist in every later
//! one, and an item that exists since the oldest known version in every
//! earlier one.

use std::collections::{BTreeMap, HashMap};

pub use crate::version::ApiVersion;

/// A model whose content depends on the API version.
pub trait VersionedModel {
    /// Appends to `out` the path of everything set in `self` that `version`
    /// does not have: fields as dotted paths below `path` (`HostConfig.Init`,
    /// `Mounts[0].Type`, `Labels.com.example`), enumeration values as
    /// `path="value"`. Values the API versions drydock knows do not list at
    /// all (an enum's catch-all variant) are not reported: drydock cannot
    /// tell which versions have them.
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        let _ = (version, path, out);
    }

    /// Drops, in place, every optional field and every element that `version`
    /// does not have. A required field holding an enumeration value the
    /// version does not list stays: there is nothing to replace it with.
    fn downgrade(&mut self, version: ApiVersion) {
        let _ = version;
    }

    /// Whether this value as a whole exists in `version`: false only for an
    /// enumeration value that the version does not list.
    fn exists_in(&self, version: ApiVersion) -> bool {
        let _ = version;
        true
    }

    /// Every path that [`VersionedModel::absent_fields`] reports from the top.
    fn absent_in(&self, version: ApiVersion) -> Vec<String> {
        let mut out = Vec::new();
        self.absent_fields(version, "", &mut out);
        out
    }
}

/// An inclusive span of API versions, open where an end is `None`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    since: Option<ApiVersion>,
    until: Option<ApiVersion>,
}

impl Span {
    /// `major.minor` and every later version.
    pub const fn since(major: u16, minor: u16) -> Self {
        Span {
            since: Some(ApiVersion::new(major, minor)),
            until: None,
        }
    }

    /// Every version up to `major.minor`.
    pub const fn until(major: u16, minor: u16) -> Self {
        Span {
            since: None,
            until: Some(ApiVersion::new(major, minor)),
        }
    }

    /// `since` to `until`, both included, each given as `(major, minor)`.
    pub const fn between(since: (u16, u16), until: (u16, u16)) -> Self {
        Span {
            since: Some(ApiVersion::new(since.0, since.1)),
            until: Some(ApiVersion::new(until.0, until.1)),
        }
    }

    /// Whether `version` lies in the span.
    pub fn contains(&self, version: ApiVersion) -> bool {
        self.since.is_none_or(|since| since <= version)
            && self.until.is_none_or(|until| version <= until)
    }
}

/// Whether `version` lies in any of `spans`.
pub fn exists_in(version: ApiVersion, spans: &[Span]) -> bool {
    spans.iter().any(|span| span.contains(version))
}

/// The path of field `name` below `path` (`HostConfig` + `Init` → `HostConfig.Init`).
pub fn field_path(path: &str, name: &str) -> String {
    if path.is_empty() {
        name.to_string()
    } else {
        format!("{path}.{name}")
    }
}

/// Deserialises a value that may be `null` (as Go writes a nil slice or map)
/// as `T::default()`: generated models use it for their plain (required) fields.
pub fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de> + Default,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Option::unwrap_or_default)
}

/// Deserialises a field the spec lets be `null` so that `null` stays apart
/// from a missing field: `null` is `Some(None)`, a value `Some(Some(v))`, and
/// a missing field (with `#[serde(default)]`) `None`, which is not written.
pub fn null_as_some<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// How an absent enumeration value is reported: `path="value"`.
pub fn value_path(path: &str, value: &str) -> String {
    format!("{path}={value:?}")
}

impl<T: VersionedModel> VersionedModel for Option<T> {
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        if let Some(value) = self {
            value.absent_fields(version, path, out);
        }
    }

    fn downgrade(&mut self, version: ApiVersion) {
        match self {
            Some(value) if !value.exists_in(version) => *self = None,
            Some(value) => value.downgrade(version),
            None => {}
        }
    }
}

impl<T: VersionedModel> VersionedModel for Box<T> {
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        (**self).absent_fields(version, path, out);
    }

    fn downgrade(&mut self, version: ApiVersion) {
        (**self).downgrade(version);
    }

    fn exists_in(&self, version: ApiVersion) -> bool {
        (**self).exists_in(version)
    }
}

impl<T: VersionedModel> VersionedModel for Vec<T> {
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        for (i, value) in self.iter().enumerate() {
            value.absent_fields(version, &format!("{path}[{i}]"), out);
        }
    }

    fn downgrade(&mut self, version: ApiVersion) {
        self.retain(|value| value.exists_in(version));
        for value in self {
            value.downgrade(version);
        }
    }
}

impl<T: VersionedModel> VersionedModel for BTreeMap<String, T> {
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        for (key, value) in self {
            value.absent_fields(version, &field_path(path, key), out);
        }
    }

    fn downgrade(&mut self, version: ApiVersion) {
        self.retain(|_, value| value.exists_in(version));
        for value in self.values_mut() {
            value.downgrade(version);
        }
    }
}

impl<T: VersionedModel, S: std::hash::BuildHasher> VersionedModel for HashMap<String, T, S> {
    fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
        let mut keys: Vec<&String> = self.keys().collect();
        keys.sort();
        for key in keys {
            self[key].absent_fields(version, &field_path(path, key), out);
        }
    }

    fn downgrade(&mut self, version: ApiVersion) {
        self.retain(|_, value| value.exists_in(version));
        for value in self.values_mut() {
            value.downgrade(version);
        }
    }
}

/// Leaves: values that are the same in every version.
macro_rules! unversioned {
    ($($ty:ty),* $(,)?) => {
        $(impl VersionedModel for $ty {})*
    };
}

unversioned!(
    String,
    bool,
    i8,
    i16,
    i32,
    i64,
    u8,
    u16,
    u32,
    u64,
    f32,
    f64,
    serde_json::Value
);

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-written model shaped like generated ones: an enum whose value
    /// `b` exists since 1.25, and a struct whose field `New` exists since 1.30.
    #[derive(Debug, Clone, PartialEq)]
    enum Letter {
        A,
        B,
    }

    impl VersionedModel for Letter {
        fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
            if !self.exists_in(version) {
                out.push(value_path(path, "b"));
            }
        }

        fn exists_in(&self, version: ApiVersion) -> bool {
            match self {
                Letter::B => exists_in(version, &[Span::since(1, 25)]),
                Letter::A => true,
            }
        }
    }

    #[derive(Debug, Default, PartialEq)]
    struct Holder {
        new: Option<String>,
        letters: Vec<Letter>,
    }

    impl VersionedModel for Holder {
        fn absent_fields(&self, version: ApiVersion, path: &str, out: &mut Vec<String>) {
            if self.new.is_some() && !exists_in(version, &[Span::since(1, 30)]) {
                out.push(field_path(path, "New"));
            }
            self.letters
                .absent_fields(version, &field_path(path, "Letters"), out);
        }

        fn downgrade(&mut self, version: ApiVersion) {
            if !exists_in(version, &[Span::since(1, 30)]) {
                self.new = None;
            }
            self.letters.downgrade(version);
        }
    }

    #[derive(Debug, serde::Deserialize)]
    struct Plain {
        #[serde(rename = "Args", default, deserialize_with = "null_as_default")]
        args: Vec<String>,
    }

    #[test]
    fn null_and_missing_plain_fields_read_as_default() {
        let null: Plain = serde_json::from_str(r#"{"Args": null}"#).unwrap();
        assert!(null.args.is_empty());
        let missing: Plain = serde_json::from_str("{}").unwrap();
        assert!(missing.args.is_empty());
        let set: Plain = serde_json::from_str(r#"{"Args": ["a"]}"#).unwrap();
        assert_eq!(set.args, ["a"]);
    }

    #[test]
    fn spans_are_inclusive_and_open_where_unbounded() {
        let span = Span::between((1, 24), (1, 29));
        assert!(span.contains(ApiVersion::new(1, 24)));
        assert!(span.contains(ApiVersion::new(1, 29)));
        assert!(!span.contains(ApiVersion::new(1, 30)));
        assert!(Span::since(1, 25).contains(ApiVersion::new(1, 99)));
        assert!(Span::until(1, 29).contains(ApiVersion::new(1, 12)));
        assert!(!exists_in(
            ApiVersion::new(1, 30),
            &[Span::until(1, 24), Span::between((1, 26), (1, 29))]
        ));
    }

    #[test]
    fn absent_fields_reports_set_fields_and_unlisted_values_with_paths() {
        let holder = Holder {
            new: Some("x".to_string()),
            letters: vec![Letter::A, Letter::B],
        };
        assert_eq!(
            holder.absent_in(ApiVersion::new(1, 24)),
            ["New", "Letters[1]=\"b\""]
        );
        assert_eq!(
            holder.absent_in(ApiVersion::new(1, 33)),
            Vec::<String>::new()
        );
        let mut nested = BTreeMap::new();
        nested.insert("k".to_string(), holder);
        let mut out = Vec::new();
        nested.absent_fields(ApiVersion::new(1, 29), "Top", &mut out);
        assert_eq!(out, ["Top.k.New"]);
    }

    #[test]
    fn downgrade_drops_fields_and_values_the_version_lacks() {
        let mut holder = Holder {
            new: Some("x".to_string()),
            letters: vec![Letter::A, Letter::B],
        };
        holder.downgrade(ApiVersion::new(1, 24));
        assert_eq!(
            holder,
            Holder {
                new: None,
                letters: vec![Letter::A]
            }
        );
        let mut optional = Some(Letter::B);
        optional.downgrade(ApiVersion::new(1, 24));
        assert_eq!(optional, None);
    }
}
