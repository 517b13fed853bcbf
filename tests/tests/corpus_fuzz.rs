//! A stable, deterministic fuzz of `generate`: small documents (two written here, the small
//! corpus documents) mutated a few hundred times by a seeded generator — members removed,
//! values swapped for values of other kinds, `$ref`s pointed elsewhere, names made hostile to
//! Rust — each fed to the generator. Whatever the document, the generator returns a crate or
//! an error naming the file; it never panics.

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use xtask::generate::{Options, RuntimeDep, generate_crate};

/// xorshift64*: the same sequence on every machine, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn swagger2_seed() -> Value {
    json!({
        "swagger": "2.0",
        "info": {"title": "Seed", "version": "1.0"},
        "basePath": "/v1",
        "paths": {
            "/things/{id}": {
                "parameters": [{"name": "id", "in": "path", "required": true, "type": "string"}],
                "get": {
                    "operationId": "ThingGet",
                    "parameters": [
                        {"name": "all", "in": "query", "type": "boolean"},
                        {"name": "X-Trace", "in": "header", "type": "string"}
                    ],
                    "responses": {
                        "200": {"description": "ok", "schema": {"$ref": "#/definitions/Thing"},
                                "examples": {"application/json": {"Id": "a", "Size": 1}}},
                        "default": {"description": "error", "schema": {"$ref": "#/definitions/Error"}}
                    }
                },
                "post": {
                    "operationId": "ThingUpload",
                    "consumes": ["multipart/form-data"],
                    "parameters": [{"name": "file", "in": "formData", "type": "file"}],
                    "responses": {"204": {"description": "done"}}
                }
            }
        },
        "definitions": {
            "Thing": {
                "type": "object",
                "required": ["Id"],
                "properties": {
                    "Id": {"type": "string"},
                    "Size": {"type": "integer", "format": "int64"},
                    "Kind": {"type": "string", "enum": ["a", "b", ""]},
                    "Labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "Parent": {"$ref": "#/definitions/Thing"},
                    "type": {"type": "string", "x-nullable": true}
                }
            },
            "Error": {"type": "object", "properties": {"message": {"type": "string"}}}
        }
    })
}

fn openapi3_seed() -> Value {
    json!({
        "openapi": "3.0.3",
        "info": {"title": "Seed", "version": "2.1.0"},
        "servers": [{"url": "https://{host}/api", "variables": {"host": {"default": "example.org"}}}],
        "paths": {
            "/pets": {
                "get": {
                    "operationId": "listPets",
                    "parameters": [
                        {"name": "limit", "in": "query", "schema": {"type": "integer", "format": "int32"}},
                        {"name": "session", "in": "cookie", "schema": {"type": "string"}}
                    ],
                    "responses": {
                        "200": {"description": "pets", "content": {"application/json": {
                            "schema": {"type": "array", "items": {"$ref": "#/components/schemas/Pet"}}}}}
                    }
                },
                "post": {
                    "requestBody": {"content": {"application/x-www-form-urlencoded": {
                        "schema": {"type": "object", "properties": {"name": {"type": "string"}}}}}},
                    "responses": {"201": {"description": "made"}}
                }
            }
        },
        "components": {
            "schemas": {
                "Pet": {
                    "oneOf": [{"$ref": "#/components/schemas/Cat"}, {"$ref": "#/components/schemas/Dog"}],
                    "discriminator": {"propertyName": "kind"}
                },
                "Cat": {"type": "object", "properties": {"kind": {"type": "string"}, "lives": {"type": "integer"}},
                        "example": {"kind": "Cat", "lives": 9}},
                "Dog": {"allOf": [{"$ref": "#/components/schemas/Base"},
                                  {"type": "object", "properties": {"self": {"type": "string", "nullable": true}}}]},
                "Base": {"type": "object", "properties": {"kind": {"type": "string"},
                         "born": {"type": "string", "format": "date-time", "readOnly": true},
                         "id": {"type": "string", "format": "uuid"}}}
            },
            "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "X-Key"},
                                "bearer": {"type": "http", "scheme": "bearer"}}
        }
    })
}

/// Every JSON pointer in `value`, depth first.
fn pointers(value: &Value, at: String, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = format!("{at}/{}", k.replace('~', "~0").replace('/', "~1"));
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                let p = format!("{at}/{i}");
                out.push(p.clone());
                pointers(v, p, out);
            }
        }
        _ => {}
    }
}

/// One random change of `doc`, and what it was.
fn mutate(doc: &mut Value, rng: &mut Rng) -> String {
    let mut all = Vec::new();
    pointers(doc, String::new(), &mut all);
    let Some(target) = all.get(rng.below(all.len())).cloned() else {
        return "nothing to change".into();
    };
    let (parent, key) = target.rsplit_once('/').expect("a pointer has a slash");
    let key = key.replace("~1", "/").replace("~0", "~");
    let replacements = [
        Value::Null,
        json!(true),
        json!(-1),
        json!(1.5e300),
        json!(""),
        json!("type"),
        json!([]),
        json!({}),
        json!({"$ref": "#/definitions/Nowhere"}),
        json!({"$ref": "#/components/schemas/Pet"}),
        json!({"$ref": "#/definitions/Thing"}),
        json!({"type": "object", "additionalProperties": true}),
        json!({"type": "string", "enum": [1, "1", null]}),
        json!({"allOf": [{"$ref": "#/components/schemas/Dog"}]}),
        json!("self"),
        json!("10-ten"),
        json!("ünïcode name"),
    ];
    let choice = rng.below(4);
    let container = doc
        .pointer_mut(parent)
        .expect("the parent of a listed pointer exists");
    match (choice, container) {
        (0, Value::Object(map)) => {
            map.shift_remove(&key);
            format!("removed {target}")
        }
        (1, Value::Object(map)) => {
            // Rename the member to a name Rust cannot take as is.
            let names = [
                "type",
                "self",
                "Self",
                "10",
                "",
                "a-b",
                "A B",
                "_",
                "ünï",
                "/",
                "/1.0/{id}",
            ];
            let new = names[rng.below(names.len())].to_string();
            if let Some(v) = map.shift_remove(&key) {
                map.insert(new.clone(), v);
            }
            format!("renamed {target} to {new:?}")
        }
        (_, container) => {
            let value = replacements[rng.below(replacements.len())].clone();
            let text = value.to_string();
            if let Some(slot) = match container {
                Value::Object(map) => map.get_mut(&key),
                Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get_mut(i)),
                _ => None,
            } {
                *slot = value;
            }
            format!("set {target} to {text}")
        }
    }
}

/// Runs the generator on `doc` written to `path`: `Ok(true)` for a crate, `Ok(false)` for a
/// clear error, `Err` for a panic or an unclear error.
fn generate_survives(doc: &Value, path: &Path) -> Result<bool, String> {
    std::fs::write(path, serde_json::to_string(doc).expect("JSON serialises"))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let options = Options {
        crate_name: "fuzzed".into(),
        labels: Vec::new(),
        runtime: RuntimeDep::Version("0.1".into()),
    };
    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| {
        generate_crate(&[path.to_path_buf()], &options)
    }));
    match outcome {
        Ok(Ok(generated)) => {
            assert!(generated.files.contains_key(Path::new("Cargo.toml")));
            Ok(true)
        }
        Ok(Err(message)) => {
            if message.trim().is_empty() {
                Err("an empty error message".into())
            } else if !message.contains(&path.display().to_string()) && !message.contains("fuzzed")
            {
                Err(format!(
                    "an error that names neither the file nor the crate: {message}"
                ))
            } else {
                Ok(false)
            }
        }
        Err(panic) => Err(format!(
            "a panic: {}",
            panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default()
        )),
    }
}

fn fuzz(name: &str, seed_doc: Value, seed: u64, rounds: usize) {
    let dir = xtask::workspace_root().join("target/corpus/fuzz");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let path: PathBuf = dir.join(format!("{name}.json"));
    let mut rng = Rng(seed);
    let mut failures = Vec::new();
    let mut crates = 0;
    // The seed itself must generate.
    match generate_survives(&seed_doc, &path) {
        Ok(true) => {}
        Ok(false) => failures.push(format!("the unmutated {name} does not generate")),
        Err(e) => failures.push(format!("the unmutated {name}: {e}")),
    }
    for round in 0..rounds {
        let mut doc = seed_doc.clone();
        let changes: Vec<String> = (0..1 + rng.below(3))
            .map(|_| mutate(&mut doc, &mut rng))
            .collect();
        match generate_survives(&doc, &path) {
            Ok(made) => crates += usize::from(made),
            Err(e) => failures.push(format!(
                "{name} round {round} ({}): {e}",
                changes.join("; ")
            )),
        }
    }
    eprintln!("{name}: {crates} of {rounds} mutated documents gave a crate, the rest clear errors");
    // Mutations that break every document would test only the first error path.
    assert!(
        crates * 4 >= rounds,
        "only {crates} of {rounds} mutated {name} documents gave a crate"
    );
    assert!(
        failures.is_empty(),
        "{} of {rounds} mutated documents broke the generator:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn mutated_swagger2_documents_give_a_crate_or_a_clear_error_never_a_panic() {
    fuzz("swagger2", swagger2_seed(), 0x5EED_0002, 300);
}

#[test]
fn mutated_openapi3_documents_give_a_crate_or_a_clear_error_never_a_panic() {
    fuzz("openapi3", openapi3_seed(), 0x5EED_0003, 300);
}
