//! Reads one API document (YAML or JSON) into a [`serde_json::Value`].
//!
//! JSON text (anything whose first non-blank character is `{`) goes through
//! `serde_json` for speed and precise positions; everything else, and JSON that
//! `serde_json` rejects but YAML accepts (a flow mapping such as `{a: 1}`), goes
//! through `serde_yaml`. On the YAML side merge keys (`<<: *anchor`) are applied,
//! scalar mapping keys that are not strings (Docker writes `200:` unquoted under
//! `responses`) become their string form, and any other key is an error that
//! names the JSON pointer of its mapping.
//!
//! Architecture invariant: this module knows nothing of Swagger or OpenAPI; it
//! only turns text into a tree.

use std::path::Path;

use serde_json::{Map, Value};
use serde_yaml::Value as Yaml;

use crate::error::{Result, SpecError, pointer};

/// Parses `text` (YAML or JSON) into a JSON value; `file` labels errors.
///
/// Syntax errors come back as [`SpecError::Syntax`] with 1-based line and
/// column. A mapping key that is a sequence or a mapping, a key that collides
/// with another once turned into a string, a tagged value (`!tag`) and a
/// non-finite number (`.nan`, `.inf`) are [`SpecError::Invalid`] naming the
/// JSON pointer where they stand.
pub fn parse_document(file: &str, text: &str) -> Result<Value> {
    if text.trim_start().starts_with('{') {
        match serde_json::from_str::<Value>(text) {
            Ok(value) => return Ok(value),
            Err(json_error) => {
                // A YAML flow mapping also starts with `{`: accept it, but when
                // YAML fails too, the JSON parser's position is the better one.
                return parse_yaml(file, text).map_err(|_| SpecError::Syntax {
                    file: file.to_owned(),
                    line: json_error.line(),
                    column: json_error.column(),
                    message: json_error.to_string(),
                });
            }
        }
    }
    parse_yaml(file, text)
}

/// Reads and parses the document at `path`; [`SpecError::Io`] when it cannot be read.
pub fn load_document(path: &Path) -> Result<Value> {
    let text = std::fs::read_to_string(path).map_err(|source| SpecError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse_document(&path.display().to_string(), &text)
}

fn parse_yaml(file: &str, text: &str) -> Result<Value> {
    let syntax = |error: serde_yaml::Error| SpecError::from_yaml(file, &error);
    let mut yaml: Yaml = serde_yaml::from_str(text).map_err(syntax)?;
    yaml.apply_merge().map_err(syntax)?;
    let mut path = Vec::new();
    yaml_to_json(file, yaml, &mut path)
}

/// Converts a YAML tree into JSON; `path` holds the pointer tokens of `yaml`.
fn yaml_to_json(file: &str, yaml: Yaml, path: &mut Vec<String>) -> Result<Value> {
    let invalid = |path: &[String], message: String| SpecError::Invalid {
        file: file.to_owned(),
        pointer: pointer(path),
        message,
    };
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| {
                        invalid(path, format!("number `{n}` has no JSON representation"))
                    })?
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            let mut out = Vec::with_capacity(items.len());
            for (index, item) in items.into_iter().enumerate() {
                path.push(index.to_string());
                out.push(yaml_to_json(file, item, path)?);
                path.pop();
            }
            Value::Array(out)
        }
        Yaml::Mapping(mapping) => {
            let mut out = Map::with_capacity(mapping.len());
            for (key, value) in mapping {
                let key = match key {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    Yaml::Null => "null".to_owned(),
                    other => {
                        return Err(invalid(
                            path,
                            format!("mapping key must be a scalar, found {}", yaml_kind(&other)),
                        ));
                    }
                };
                if out.contains_key(&key) {
                    return Err(invalid(
                        path,
                        format!("duplicate mapping key `{key}` once keys are read as strings"),
                    ));
                }
                path.push(key);
                let value = yaml_to_json(file, value, path)?;
                let key = path.pop().unwrap_or_default();
                out.insert(key, value);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            return Err(invalid(
                path,
                format!("YAML tag `{}` is not supported", tagged.tag),
            ));
        }
    })
}

fn yaml_kind(yaml: &Yaml) -> &'static str {
    match yaml {
        Yaml::Null => "null",
        Yaml::Bool(_) => "a boolean",
        Yaml::Number(_) => "a number",
        Yaml::String(_) => "a string",
        Yaml::Sequence(_) => "a sequence",
        Yaml::Mapping(_) => "a mapping",
        Yaml::Tagged(_) => "a tagged value",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numeric_and_boolean_keys_become_strings() {
        let value = parse_document("t.yaml", "responses:\n  200: ok\n  true: yes\n  1.5: x\n")
            .expect("valid YAML");
        assert_eq!(
            value,
            json!({"responses": {"200": "ok", "true": "yes", "1.5": "x"}})
        );
    }

    #[test]
    fn merge_keys_are_applied() {
        let text = "base: &b\n  a: 1\n  b: 2\nderived:\n  <<: *b\n  b: 3\n";
        let value = parse_document("t.yaml", text).expect("valid YAML");
        assert_eq!(value["derived"], json!({"a": 1, "b": 3}));
    }

    #[test]
    fn yaml_syntax_error_names_line_and_column() {
        let error = parse_document("broken.yaml", "a:\n  b: 1\n c: [\n").expect_err("malformed");
        match error {
            SpecError::Syntax {
                file, line, column, ..
            } => {
                assert_eq!(file, "broken.yaml");
                assert!(line >= 3, "line {line}");
                assert!(column >= 1, "column {column}");
            }
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn json_syntax_error_names_line_and_column() {
        let error =
            parse_document("broken.json", "{\n  \"a\": 1,\n  \"b\": ]\n}").expect_err("malformed");
        match error {
            SpecError::Syntax { line, column, .. } => assert_eq!((line, column), (3, 8)),
            other => panic!("expected a syntax error, got {other:?}"),
        }
    }

    #[test]
    fn json_text_is_read_as_json_and_flow_yaml_still_parses() {
        assert_eq!(
            parse_document("a.json", "{\"a\": [1, 2.5, null]}").expect("json"),
            json!({"a": [1, 2.5, null]})
        );
        assert_eq!(
            parse_document("a.yaml", "{a: 1, 404: b}").expect("flow mapping"),
            json!({"a": 1, "404": "b"})
        );
    }

    #[test]
    fn non_scalar_key_is_an_error_naming_its_pointer() {
        let error = parse_document("k.yaml", "paths:\n  /a/b:\n    ? [1, 2]\n    : x\n")
            .expect_err("sequence key");
        match error {
            SpecError::Invalid { pointer, .. } => assert_eq!(pointer, "/paths/~1a~1b"),
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn keys_that_collide_as_strings_are_an_error() {
        let error = parse_document("k.yaml", "r:\n  200: a\n  \"200\": b\n").expect_err("dup");
        assert!(matches!(error, SpecError::Invalid { ref pointer, .. } if pointer == "/r"));
    }

    #[test]
    fn non_finite_number_is_an_error() {
        let error = parse_document("n.yaml", "a:\n  - .nan\n").expect_err("nan");
        assert!(matches!(error, SpecError::Invalid { ref pointer, .. } if pointer == "/a/0"));
    }

    #[test]
    fn alias_expansion_bomb_is_rejected_not_expanded() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..10 {
            let refs = vec![format!("*a{}", level - 1); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{refs}]\n"));
        }
        let error = parse_document("bomb.yaml", &text).expect_err("10^10 nodes");
        assert!(
            matches!(error, SpecError::Syntax { ref message, .. } if message.contains("repetition limit")),
            "{error:?}"
        );
    }

    #[test]
    fn missing_file_is_an_io_error() {
        let error = load_document(Path::new("/nonexistent/drydock/spec.yaml")).expect_err("io");
        assert!(matches!(error, SpecError::Io { .. }));
    }
}
