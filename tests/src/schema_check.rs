//! A small validator for JSON values against Swagger 2.0 schemas, strict about
//! unknown properties so that an example carrying a field the spec lacks fails.
//!
//! Handles `$ref` (to `#/definitions/...`), `allOf` (properties of all branches are
//! allowed; every branch must accept the value), `type` (also a list of types),
//! `properties`, `additionalProperties`, `items`, `enum` and `x-nullable`.
//!
//! Rules for `null`: accepted where the schema says `x-nullable: true`, and for arrays,
//! objects and untyped schemas, which the Go daemon encodes as `null` when empty.
//! Rules for objects: a property not in `properties` is checked against
//! `additionalProperties` when that is a schema, accepted when it is `true` or when
//! the object declares neither (a free-form object), and is a violation otherwise.

use serde_json::{Map, Value};

/// One reason a value does not match a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// JSON pointer into the checked value (`/HostConfig/AutoRemove`).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pointer = if self.pointer.is_empty() {
            "(root)"
        } else {
            &self.pointer
        };
        write!(f, "{pointer}: {}", self.message)
    }
}

/// Checks values against the schemas of one Swagger 2.0 document.
pub struct SchemaChecker<'a> {
    document: &'a Value,
}

impl<'a> SchemaChecker<'a> {
    /// A checker resolving `$ref`s in `document`.
    pub fn new(document: &'a Value) -> Self {
        Self { document }
    }

    /// Every violation of `schema` by `value`; empty when the value matches.
    pub fn check(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check_at(schema, value, String::new(), &mut out);
        out
    }

    /// Follows `$ref`s from a document schema until a schema without one.
    fn resolve(
        &self,
        mut schema: &'a Value,
        out: &mut Vec<Violation>,
        pointer: &str,
    ) -> Option<&'a Value> {
        let mut hops = 0;
        while let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            let target = reference
                .strip_prefix("#/")
                .map(|p| p.split('/').try_fold(self.document, |v, t| v.get(t)))
                .unwrap_or(None);
            match target {
                Some(t) if hops < 64 => {
                    schema = t;
                    hops += 1;
                }
                _ => {
                    out.push(Violation {
                        pointer: pointer.to_string(),
                        message: format!("schema $ref `{reference}` does not resolve"),
                    });
                    return None;
                }
            }
        }
        Some(schema)
    }

    fn check_at(&self, schema: &Value, value: &Value, pointer: String, out: &mut Vec<Violation>) {
        let schema = match schema.get("$ref") {
            Some(_) => match self.resolve_owned(schema, out, &pointer) {
                Some(s) => s,
                None => return,
            },
            None => schema.clone(),
        };
        let types = schema_types(&schema);
        if value.is_null() {
            let nullable = schema.get("x-nullable").and_then(Value::as_bool) == Some(true)
                || types.is_empty()
                || types.iter().any(|t| t == "array" || t == "object");
            if !nullable {
                out.push(Violation {
                    pointer,
                    message: format!("null where the schema requires {}", types.join(" or ")),
                });
            }
            return;
        }
        if let Some(options) = schema.get("enum").and_then(Value::as_array)
            && !options.contains(value)
        {
            out.push(Violation {
                pointer: pointer.clone(),
                message: format!(
                    "{value} is not one of the enum values {}",
                    Value::Array(options.clone())
                ),
            });
        }
        if let Some(branches) = schema.get("allOf").and_then(Value::as_array) {
            if value.is_object() {
                let mut merged = Map::new();
                let mut additional = None;
                self.collect_properties(&schema, &mut merged, &mut additional, out, &pointer);
                self.check_object(&merged, additional.as_ref(), value, &pointer, out);
            } else {
                for branch in branches {
                    self.check_at(branch, value, pointer.clone(), out);
                }
            }
            return;
        }
        if types.is_empty() {
            if schema.get("properties").is_some() && value.is_object() {
                self.check_typed(&schema, "object", value, pointer, out);
            }
            return;
        }
        if types.len() == 1 {
            self.check_typed(&schema, &types[0], value, pointer, out);
            return;
        }
        let mut best: Option<Vec<Violation>> = None;
        for ty in &types {
            let mut attempt = Vec::new();
            self.check_typed(&schema, ty, value, pointer.clone(), &mut attempt);
            if attempt.is_empty() {
                return;
            }
            if best.as_ref().is_none_or(|b| attempt.len() < b.len()) {
                best = Some(attempt);
            }
        }
        out.extend(best.unwrap_or_default());
    }

    /// Resolves a schema holding a `$ref` into an owned copy of its target.
    fn resolve_owned(
        &self,
        schema: &Value,
        out: &mut Vec<Violation>,
        pointer: &str,
    ) -> Option<Value> {
        let reference = schema
            .get("$ref")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let start = reference
            .strip_prefix("#/")
            .map(|p| p.split('/').try_fold(self.document, |v, t| v.get(t)))
            .unwrap_or(None);
        match start {
            Some(target) => self.resolve(target, out, pointer).cloned(),
            None => {
                out.push(Violation {
                    pointer: pointer.to_string(),
                    message: format!("schema $ref `{reference}` does not resolve"),
                });
                None
            }
        }
    }

    fn check_typed(
        &self,
        schema: &Value,
        ty: &str,
        value: &Value,
        pointer: String,
        out: &mut Vec<Violation>,
    ) {
        let ok = match ty {
            "object" => {
                if value.is_object() {
                    let mut merged = Map::new();
                    let mut additional = None;
                    self.collect_properties(schema, &mut merged, &mut additional, out, &pointer);
                    self.check_object(&merged, additional.as_ref(), value, &pointer, out);
                    true
                } else {
                    false
                }
            }
            "array" => match value.as_array() {
                Some(items) => {
                    let item_schema = schema
                        .get("items")
                        .cloned()
                        .unwrap_or(Value::Object(Map::new()));
                    for (i, item) in items.iter().enumerate() {
                        self.check_at(&item_schema, item, format!("{pointer}/{i}"), out);
                    }
                    true
                }
                None => false,
            },
            "string" => value.is_string(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "boolean" => value.is_boolean(),
            "file" => true,
            other => {
                out.push(Violation {
                    pointer: pointer.clone(),
                    message: format!("schema has unknown type `{other}`"),
                });
                true
            }
        };
        if !ok {
            out.push(Violation {
                pointer,
                message: format!("expected {ty}, found {}", json_kind(value)),
            });
        }
    }

    /// Gathers `properties` and `additionalProperties` through `$ref` and `allOf`.
    fn collect_properties(
        &self,
        schema: &Value,
        merged: &mut Map<String, Value>,
        additional: &mut Option<Value>,
        out: &mut Vec<Violation>,
        pointer: &str,
    ) {
        let schema = match schema.get("$ref") {
            Some(_) => match self.resolve_owned(schema, out, pointer) {
                Some(s) => s,
                None => return,
            },
            None => schema.clone(),
        };
        if let Some(props) = schema.get("properties").and_then(Value::as_object) {
            for (name, prop) in props {
                merged.entry(name.clone()).or_insert_with(|| prop.clone());
            }
        }
        if let Some(extra) = schema.get("additionalProperties")
            && additional.is_none()
        {
            *additional = Some(extra.clone());
        }
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            self.collect_properties(branch, merged, additional, out, pointer);
        }
    }

    fn check_object(
        &self,
        properties: &Map<String, Value>,
        additional: Option<&Value>,
        value: &Value,
        pointer: &str,
        out: &mut Vec<Violation>,
    ) {
        let Some(object) = value.as_object() else {
            out.push(Violation {
                pointer: pointer.to_string(),
                message: format!("expected object, found {}", json_kind(value)),
            });
            return;
        };
        for (name, field) in object {
            let at = format!("{pointer}/{}", name.replace('~', "~0").replace('/', "~1"));
            if let Some(prop) = properties.get(name) {
                self.check_at(prop, field, at, out);
            } else {
                match additional {
                    Some(Value::Bool(true)) => {}
                    Some(extra @ Value::Object(_)) => self.check_at(extra, field, at, out),
                    None if properties.is_empty() => {}
                    _ => out.push(Violation {
                        pointer: at,
                        message: "property not in the schema".to_string(),
                    }),
                }
            }
        }
    }
}

/// The `type` of a schema as a list (`"string"` → `["string"]`, absent → `[]`).
fn schema_types(schema: &Value) -> Vec<String> {
    match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

/// The JSON kind of a value, for messages.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "number",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn document() -> Value {
        json!({
            "definitions": {
                "Base": {"type": "object", "properties": {"A": {"type": "integer"}}},
                "Kind": {"type": "string", "enum": ["x", "y"]},
                "Both": {"allOf": [
                    {"$ref": "#/definitions/Base"},
                    {"type": "object", "properties": {
                        "B": {"type": "array", "items": {"$ref": "#/definitions/Kind"}},
                        "M": {"type": "object", "additionalProperties": {"type": "string"}},
                        "N": {"type": "string", "x-nullable": true},
                        "T": {"type": ["string", "array"], "items": {"type": "string"}}
                    }}
                ]}
            }
        })
    }

    #[test]
    fn check_accepts_a_value_that_matches_through_refs_and_allof() {
        let doc = document();
        let checker = SchemaChecker::new(&doc);
        let schema = json!({"$ref": "#/definitions/Both"});
        let value = json!({"A": 1, "B": ["x"], "M": {"k": "v"}, "N": null, "T": ["a"]});
        assert_eq!(checker.check(&schema, &value), Vec::new());
        assert!(checker.check(&schema, &json!({"T": "a"})).is_empty());
    }

    #[test]
    fn check_reports_unknown_properties_wrong_types_and_enum_misses() {
        let doc = document();
        let checker = SchemaChecker::new(&doc);
        let schema = json!({"$ref": "#/definitions/Both"});
        let value = json!({"A": "1", "B": ["z"], "M": {"k": 2}, "Extra": true, "T": 3});
        let pointers: Vec<String> = checker
            .check(&schema, &value)
            .into_iter()
            .map(|v| v.pointer)
            .collect();
        assert_eq!(pointers, ["/A", "/B/0", "/M/k", "/Extra", "/T"]);
    }

    #[test]
    fn check_rejects_null_for_a_scalar_that_is_not_nullable() {
        let doc = document();
        let checker = SchemaChecker::new(&doc);
        let violations = checker.check(&json!({"$ref": "#/definitions/Base"}), &json!({"A": null}));
        assert_eq!(violations.len(), 1);
        assert_eq!(violations[0].pointer, "/A");
    }
}
