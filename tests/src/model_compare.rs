//! Round trips of JSON through the `drydock-models` types, checked against what the IR says
//! one API version holds.
//!
//! [`roundtrip_as`] deserialises a value into the model of an IR type reference (a named
//! type, or an array, map or scalar of them) and serialises it back. [`compare`] then walks
//! the value the model was given and the value it gave back along the type's shape *at one
//! version*:
//!
//! - every field that version's spec names must come back with the same value (numbers are
//!   compared as numbers, so `5` and `5.0` are the same value; maps and objects ignore order);
//! - a field sent as `null` must come back as `null` when the version's spec says it is
//!   nullable; where the spec does not allow `null` (Go writes a nil slice or map so), a model
//!   may give it back as absent or as the empty value of its type, and the field is listed in
//!   [`Comparison::unlisted_nulls`] (so is a `null` body where the spec says list: see
//!   [`roundtrip_as`]);
//! - a field the version's spec does not name is not compared (models ignore unknown fields:
//!   the schema is open) and is listed in [`Comparison::unknown`];
//! - a field the model sends back that was not sent is listed in [`Comparison::added`] (a
//!   required field the emitter fills with its default).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

use drydock_ir::{Api, ApiVersion, Scalar, StructShape, TypeRef, TypeShape, shape_at};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::model_dispatch;

/// What [`compare`] found.
#[derive(Debug, Default, Clone)]
pub struct Comparison {
    /// Values the model did not give back as sent: each a path and what went wrong.
    pub mismatches: Vec<String>,
    /// Paths of fields the version's spec does not name (not compared).
    pub unknown: Vec<String>,
    /// Paths of fields sent as `null` where the version's spec does not allow `null`.
    pub unlisted_nulls: Vec<String>,
    /// Paths of fields the model sent back that the value did not hold.
    pub added: Vec<String>,
}

impl Comparison {
    /// Appends what `other` found.
    pub fn extend(&mut self, other: Comparison) {
        self.mismatches.extend(other.mismatches);
        self.unknown.extend(other.unknown);
        self.unlisted_nulls.extend(other.unlisted_nulls);
        self.added.extend(other.added);
    }
}

/// The versioned IR the models were generated from (`generated/ir/docker.json`), read once.
///
/// # Panics
///
/// When the file is missing or is no IR.
pub fn docker_ir() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let path = crate::workspace_root().join("generated/ir/docker.json");
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is no IR: {e}", path.display()))
    })
}

/// `value` deserialised into the model of `ty` and serialised back.
///
/// An array or map is handled element by element (exactly what `Vec<T>` and `BTreeMap<_, T>`
/// do), with the element's index or key in the error. A `null` where `ty` is a list becomes
/// the empty list, as the models read a required list that Go wrote as `null` (a nil slice:
/// `GET /containers/{id}/changes` of a container without changes is `null`); [`compare`]
/// lists it with the other nulls the spec does not allow.
pub fn roundtrip_as(ty: &TypeRef, value: &Value) -> Result<Value, String> {
    match ty {
        TypeRef::Named { name } => model_dispatch::roundtrip(name, value)
            .unwrap_or_else(|| Err(format!("no model for the IR type {name}"))),
        TypeRef::Array { .. } if value.is_null() => Ok(Value::Array(Vec::new())),
        TypeRef::Array { items } => match value {
            Value::Array(elements) => elements
                .iter()
                .enumerate()
                .map(|(i, element)| roundtrip_as(items, element).map_err(|e| format!("[{i}]: {e}")))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array),
            other => Err(format!("expected an array, got {}", kind(other))),
        },
        TypeRef::Map { values } => match value {
            Value::Object(entries) => entries
                .iter()
                .map(|(key, element)| {
                    roundtrip_as(values, element)
                        .map(|back| (key.clone(), back))
                        .map_err(|e| format!("[{key:?}]: {e}"))
                })
                .collect::<Result<serde_json::Map<_, _>, _>>()
                .map(Value::Object),
            other => Err(format!("expected an object, got {}", kind(other))),
        },
        TypeRef::Scalar { scalar } => roundtrip_scalar(*scalar, value),
        TypeRef::Any => Ok(value.clone()),
    }
}

/// A scalar through the Rust type the models hold it in.
fn roundtrip_scalar(scalar: Scalar, value: &Value) -> Result<Value, String> {
    fn through<T: Serialize + DeserializeOwned>(value: &Value) -> Result<Value, String> {
        let held: T = serde_json::from_value(value.clone()).map_err(|e| e.to_string())?;
        serde_json::to_value(held).map_err(|e| e.to_string())
    }
    match scalar {
        Scalar::String
        | Scalar::DateTime
        | Scalar::Date
        | Scalar::Uuid
        | Scalar::Base64
        | Scalar::Binary => through::<String>(value),
        Scalar::Boolean => through::<bool>(value),
        Scalar::I8 => through::<i8>(value),
        Scalar::I16 => through::<i16>(value),
        Scalar::I32 => through::<i32>(value),
        Scalar::I64 => through::<i64>(value),
        Scalar::U8 => through::<u8>(value),
        Scalar::U16 => through::<u16>(value),
        Scalar::U32 => through::<u32>(value),
        Scalar::U64 => through::<u64>(value),
        Scalar::F32 => through::<f32>(value),
        Scalar::F64 => through::<f64>(value),
    }
}

/// Compares `sent` with `back` (what the model of `ty` made of it) along `ty`'s shape in
/// `version`; `path` names `sent` in the findings.
pub fn compare(
    api: &Api,
    ty: &TypeRef,
    version: &ApiVersion,
    sent: &Value,
    back: &Value,
    path: &str,
) -> Comparison {
    let mut out = Comparison::default();
    Walk { api, version }.value(ty, sent, back, path, &mut out);
    out
}

/// The IR and the version a comparison walks along.
struct Walk<'a> {
    api: &'a Api,
    version: &'a ApiVersion,
}

impl Walk<'_> {
    fn value(&self, ty: &TypeRef, sent: &Value, back: &Value, path: &str, out: &mut Comparison) {
        match (ty, sent) {
            (TypeRef::Named { name }, _) => self.named(name, sent, back, path, out),
            (TypeRef::Array { .. }, Value::Null) if is_empty(back) => {
                out.unlisted_nulls.push(if path.is_empty() {
                    "(root)".to_owned()
                } else {
                    path.to_owned()
                });
            }
            (TypeRef::Array { items }, Value::Array(elements)) => match back {
                Value::Array(backs) if backs.len() == elements.len() => {
                    for (i, (element, element_back)) in elements.iter().zip(backs).enumerate() {
                        self.value(items, element, element_back, &format!("{path}[{i}]"), out);
                    }
                }
                _ => mismatch(out, path, sent, back),
            },
            (TypeRef::Map { values }, Value::Object(entries)) => match back {
                Value::Object(backs) => {
                    for (key, element) in entries {
                        let here = format!("{path}.{key}");
                        match backs.get(key) {
                            Some(element_back) => {
                                self.value(values, element, element_back, &here, out)
                            }
                            None => out
                                .mismatches
                                .push(format!("{here}: vanished (sent {element})")),
                        }
                    }
                }
                _ => mismatch(out, path, sent, back),
            },
            _ => {
                if !same_value(sent, back) {
                    mismatch(out, path, sent, back);
                }
            }
        }
    }

    fn named(&self, name: &str, sent: &Value, back: &Value, path: &str, out: &mut Comparison) {
        let shape = self
            .api
            .types
            .get(name)
            .and_then(|def| shape_at(&def.shapes, self.version));
        match (shape, sent) {
            (Some(TypeShape::Struct(st)), Value::Object(_)) => {
                self.structure(st, sent, back, path, out);
            }
            (Some(TypeShape::Alias { target }), _) => self.value(target, sent, back, path, out),
            (None, _) => {
                out.unknown
                    .push(format!("{path} (type {name} is not in {})", self.version));
                if !same_value(sent, back) {
                    mismatch(out, path, sent, back);
                }
            }
            _ => {
                if !same_value(sent, back) {
                    mismatch(out, path, sent, back);
                }
            }
        }
    }

    fn structure(
        &self,
        st: &StructShape,
        sent: &Value,
        back: &Value,
        path: &str,
        out: &mut Comparison,
    ) {
        let (Value::Object(sent), Value::Object(back)) = (sent, back) else {
            mismatch(out, path, sent, back);
            return;
        };
        for (key, value) in sent {
            let here = if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            };
            let field = st
                .fields
                .iter()
                .find(|f| f.name == *key && f.versions.contains(self.version));
            let (ty, nullable) = match (field, &st.additional) {
                (Some(field), _) => {
                    let shape = shape_at(&field.shapes, self.version)
                        .or_else(|| field.shapes.first().map(|s| &s.value));
                    match shape {
                        Some(shape) => (&shape.ty, shape.nullable),
                        None => (&TypeRef::Any, false),
                    }
                }
                (None, Some(additional)) => (additional, false),
                (None, None) => {
                    out.unknown.push(here);
                    continue;
                }
            };
            match (value, back.get(key)) {
                (Value::Null, Some(Value::Null)) => {}
                (Value::Null, None) if !nullable => out.unlisted_nulls.push(here),
                (Value::Null, Some(value_back)) if !nullable && is_empty(value_back) => {
                    out.unlisted_nulls.push(here);
                }
                (Value::Null, None) => out.mismatches.push(format!(
                    "{here}: sent null, which {} allows, but it vanished",
                    self.version
                )),
                (_, None) => out
                    .mismatches
                    .push(format!("{here}: vanished (sent {value})")),
                (_, Some(value_back)) => self.value(ty, value, value_back, &here, out),
            }
        }
        for key in back.keys().filter(|key| !sent.contains_key(*key)) {
            out.added.push(if path.is_empty() {
                key.clone()
            } else {
                format!("{path}.{key}")
            });
        }
    }
}

/// Findings of many round trips, grouped for the test's output: failures, and as information
/// the fields a version's spec does not name, the nulls it does not allow and the fields the
/// models add, each by group (an endpoint, a type) and path, with the versions seen in.
#[derive(Debug, Default)]
pub struct Report {
    /// Failures, each with its version, group and where.
    pub failures: Vec<String>,
    /// Group → path without indices → versions (`v1.NN`) of fields the spec does not name.
    pub unknown: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// The same for nulls the spec does not allow.
    pub unlisted_nulls: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// The same for fields the models add.
    pub added: BTreeMap<String, BTreeMap<String, BTreeSet<String>>>,
    /// How many values were round-tripped.
    pub checked: usize,
}

impl Report {
    /// Round-trips `value` through the model of `ty` and compares it at `version`, recording
    /// what was found under `group`; `place` says where the value came from in a failure.
    pub fn check(
        &mut self,
        api: &Api,
        group: &str,
        version: &ApiVersion,
        ty: &TypeRef,
        value: &Value,
        place: &str,
    ) {
        self.checked += 1;
        match roundtrip_as(ty, value) {
            Ok(back) => {
                let found = compare(api, ty, version, value, &back, "");
                self.record(group, version, place, found);
            }
            Err(e) => self.failures.push(format!(
                "v{version} {place}: does not deserialise into the model: {e}"
            )),
        }
    }

    /// Records what one comparison found.
    pub fn record(&mut self, group: &str, version: &ApiVersion, place: &str, found: Comparison) {
        let label = format!("v{version}");
        for (paths, into) in [
            (found.unknown, &mut self.unknown),
            (found.unlisted_nulls, &mut self.unlisted_nulls),
            (found.added, &mut self.added),
        ] {
            for path in paths {
                into.entry(group.to_owned())
                    .or_default()
                    .entry(without_indices(&path))
                    .or_default()
                    .insert(label.clone());
            }
        }
        for mismatch in found.mismatches {
            self.failures
                .push(format!("v{version} {place}: {mismatch}"));
        }
    }

    /// Prints the information tables, then fails with every failure, or when nothing was
    /// checked.
    ///
    /// # Panics
    ///
    /// When there are failures or no value was checked.
    pub fn assert_clean(&self) {
        for (title, table) in [
            (
                "fields the version's spec does not name (not compared; the models ignore them)",
                &self.unknown,
            ),
            (
                "nulls where the version's spec does not allow null",
                &self.unlisted_nulls,
            ),
            (
                "fields the models add (required fields filled with their default)",
                &self.added,
            ),
        ] {
            if table.is_empty() {
                continue;
            }
            println!("{title}:");
            for (group, fields) in table {
                for (field, versions) in fields {
                    let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
                    println!("  {group}: {field} ({})", versions.join(" "));
                }
            }
        }
        println!("{} values round-tripped", self.checked);
        assert!(
            self.failures.is_empty(),
            "{} failure(s):\n{}",
            self.failures.len(),
            self.failures.join("\n")
        );
        assert!(self.checked > 0, "no value was checked");
    }
}

fn mismatch(out: &mut Comparison, path: &str, sent: &Value, back: &Value) {
    let path = if path.is_empty() { "(root)" } else { path };
    out.mismatches
        .push(format!("{path}: sent {sent}, got back {back}"));
}

/// Whether `value` is the empty value of its kind (`[]`, `{}`, `""`, `0`, `false`): what a
/// model may make of a `null` its spec does not allow (Go's nil slice or map).
pub fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Bool(b) => !b,
        Value::Number(n) => n.as_f64() == Some(0.0),
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
    }
}

/// JSON equality with numbers compared by value (`5` equals `5.0`) and objects by key.
pub fn same_value(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            match (x.as_i64(), y.as_i64(), x.as_u64(), y.as_u64()) {
                (Some(x), Some(y), _, _) => x == y,
                (_, _, Some(x), Some(y)) => x == y,
                _ => x.as_f64() == y.as_f64(),
            }
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_value(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(key, x)| y.get(key).is_some_and(|y| same_value(x, y)))
        }
        _ => a == b,
    }
}

/// The kind of a JSON value, for messages.
pub fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `path` with every array index replaced by `[]`, to group findings across elements.
pub fn without_indices(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut in_index = false;
    for c in path.chars() {
        match c {
            '[' => {
                in_index = true;
                out.push_str("[]");
            }
            ']' => in_index = false,
            _ if in_index => {}
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn same_value_compares_numbers_by_value_and_objects_by_key() {
        assert!(same_value(
            &json!({"a": 5, "b": [1.0]}),
            &json!({"b": [1], "a": 5.0})
        ));
        assert!(!same_value(&json!({"a": 5}), &json!({"a": 6})));
        assert!(!same_value(&json!({"a": 5}), &json!({"a": 5, "b": null})));
        assert!(!same_value(&json!(u64::MAX), &json!(-1)));
    }

    #[test]
    fn without_indices_blanks_every_index() {
        assert_eq!(without_indices("[3].Mounts[12].Type"), "[].Mounts[].Type");
    }
}
