//! The `filters` query parameter of list endpoints (`GET /containers/json`,
//! `GET /images/json`, `GET /events`, …).
//!
//! Clients send a JSON object mapping each filter to its values,
//! `{"label":["a=b"],"status":["running"]}`. Daemons also accept the form
//! older clients sent, `{"status":{"running":true}}`; [`Filters::parse`]
//! reads both so a server can too.

use std::collections::{BTreeMap, BTreeSet};

use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A set of filters: each key (`label`, `status`, `dangling`, …) with the
/// values it must match. Keys and values are kept sorted, so serialising
/// the same filters always gives the same text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filters {
    fields: BTreeMap<String, BTreeSet<String>>,
}

impl Filters {
    /// No filters.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `value` under `key` (builder style).
    #[must_use]
    pub fn with(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(key, value);
        self
    }

    /// Adds `value` under `key`.
    pub fn insert(&mut self, key: impl Into<String>, value: impl Into<String>) {
        self.fields
            .entry(key.into())
            .or_default()
            .insert(value.into());
    }

    /// Removes every value of `key`.
    pub fn remove(&mut self, key: &str) {
        self.fields.remove(key);
    }

    /// Whether there is no filter at all.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }

    /// The filter keys, sorted.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.fields.keys().map(String::as_str)
    }

    /// The values of `key`, sorted (none if the key is absent).
    pub fn get(&self, key: &str) -> impl Iterator<Item = &str> {
        self.fields
            .get(key)
            .into_iter()
            .flat_map(|values| values.iter().map(String::as_str))
    }

    /// Whether `key` has the value `value`.
    pub fn contains(&self, key: &str, value: &str) -> bool {
        self.fields
            .get(key)
            .is_some_and(|values| values.contains(value))
    }

    /// The JSON text for the `filters` query parameter,
    /// `{"key":["value",…]}`.
    pub fn to_json(&self) -> String {
        // Serialising string maps cannot fail.
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }

    /// The query parameter's value, or `None` when there are no filters (so
    /// the parameter is left out).
    pub fn to_query_value(&self) -> Option<String> {
        (!self.is_empty()).then(|| self.to_json())
    }

    /// Parses a `filters` parameter in either the current form
    /// (`{"key":["value"]}`) or the legacy one (`{"key":{"value":true}}`).
    /// An empty or blank parameter means no filters. As Docker does, every
    /// value named in the legacy form counts, whatever its boolean.
    pub fn parse(input: &str) -> Result<Self, Error> {
        if input.trim().is_empty() {
            return Ok(Self::new());
        }
        serde_json::from_str(input).map_err(|source| Error::Filters {
            input: input.to_owned(),
            source,
        })
    }
}

impl Serialize for Filters {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.fields.len()))?;
        for (key, values) in &self.fields {
            map.serialize_entry(key, values)?;
        }
        map.end()
    }
}

/// A filter's values in either of the accepted forms.
#[derive(Deserialize)]
#[serde(untagged)]
enum FilterValues {
    List(Vec<String>),
    Legacy(BTreeMap<String, bool>),
}

impl<'de> Deserialize<'de> for Filters {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FiltersVisitor;

        impl<'de> Visitor<'de> for FiltersVisitor {
            type Value = Filters;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(
                    "an object of filters: {\"key\":[\"value\"]} or {\"key\":{\"value\":true}}",
                )
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Filters, A::Error> {
                let mut filters = Filters::new();
                while let Some(key) = access.next_key::<String>()? {
                    let values = access.next_value::<FilterValues>().map_err(|_| {
                        de::Error::custom(format!(
                            "filter {key:?} must be a list of strings or an object of booleans"
                        ))
                    })?;
                    let set = filters.fields.entry(key).or_default();
                    match values {
                        FilterValues::List(list) => set.extend(list),
                        FilterValues::Legacy(map) => set.extend(map.into_keys()),
                    }
                }
                Ok(filters)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Filters, E> {
                Ok(Filters::new())
            }
        }

        deserializer.deserialize_any(FiltersVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builder_serialises_to_docker_form() {
        let filters = Filters::new()
            .with("status", "running")
            .with("label", "com.example=1")
            .with("label", "a=b");
        assert_eq!(
            filters.to_json(),
            r#"{"label":["a=b","com.example=1"],"status":["running"]}"#
        );
    }

    #[test]
    fn empty_filters_are_left_out_of_the_query() {
        assert_eq!(Filters::new().to_query_value(), None);
        assert_eq!(
            Filters::new()
                .with("dangling", "true")
                .to_query_value()
                .as_deref(),
            Some(r#"{"dangling":["true"]}"#)
        );
    }

    #[test]
    fn parses_current_form() {
        let filters = Filters::parse(r#"{"label":["a=b","c"],"status":["exited"]}"#)
            .expect("current form parses");
        assert!(filters.contains("label", "a=b"));
        assert!(filters.contains("label", "c"));
        assert_eq!(filters.get("status").collect::<Vec<_>>(), ["exited"]);
        assert_eq!(filters.keys().collect::<Vec<_>>(), ["label", "status"]);
    }

    #[test]
    fn parses_legacy_map_of_booleans_form() {
        let filters =
            Filters::parse(r#"{"status":{"running":true,"paused":true},"dangling":{"1":false}}"#)
                .expect("legacy form parses");
        assert_eq!(
            filters.get("status").collect::<Vec<_>>(),
            ["paused", "running"]
        );
        assert!(filters.contains("dangling", "1"));
    }

    #[test]
    fn both_forms_of_the_same_filters_are_equal() {
        let current = Filters::parse(r#"{"label":["x"]}"#).expect("parses");
        let legacy = Filters::parse(r#"{"label":{"x":true}}"#).expect("parses");
        assert_eq!(current, legacy);
        assert_eq!(
            Filters::parse(&current.to_json()).expect("round trip"),
            current
        );
    }

    #[test]
    fn empty_and_null_mean_no_filters() {
        assert!(Filters::parse("").expect("empty").is_empty());
        assert!(Filters::parse("  ").expect("blank").is_empty());
        assert!(Filters::parse("null").expect("null").is_empty());
        assert!(Filters::parse("{}").expect("object").is_empty());
    }

    #[test]
    fn malformed_filters_are_errors_naming_the_key() {
        let err = Filters::parse(r#"{"label":"x"}"#).expect_err("string value");
        assert!(err.to_string().contains("\"label\""), "{err}");
        assert!(Filters::parse("[1]").is_err());
        assert!(Filters::parse("{\"a\":[1]}").is_err());
        assert!(Filters::parse("{").is_err());
    }

    #[test]
    fn remove_drops_a_key() {
        let mut filters = Filters::new().with("a", "1").with("b", "2");
        filters.remove("a");
        assert_eq!(filters.to_json(), r#"{"b":["2"]}"#);
    }
}
