//! Names that clash: a made-up document whose tags, operation ids and schemas take the names
//! the generated code already uses — the runtime's types (`Request`, `Reply`, `ServerError`,
//! `Hijack`, `ByteStream`, `Messages`, `ApiVersion`), the client's (`Client`, `Error`,
//! `Method`), the prelude's (`Result`, `Sync`) and the crates' (`models`, `serde_json`,
//! `bytes`, `recording`) — gives a crate that passes `cargo check` without a warning.

use std::path::PathBuf;

use serde_json::{Value, json};
use xtask::generate::{Options, RuntimeDep, generate_crate};

use crate::crates::{check_without_warnings, write_crate};

/// The names every kind of generated item must be able to take.
const CLASHING: &[&str] = &[
    "Request",
    "Reply",
    "ServerError",
    "Hijack",
    "ByteStream",
    "BodyStream",
    "Messages",
    "ApiVersion",
    "Client",
    "ClientConfig",
    "Connection",
    "Error",
    "Method",
    "RequestBuilder",
    "Route",
    "Router",
    "Filters",
    "Frame",
    "Result",
    "Sync",
];

/// An OpenAPI 3.0 document with one schema, one tag and one operation per name of
/// [`CLASHING`], tags that are crate and module names, two operation ids that differ only in
/// case, one that is another's method with `Request` appended, and one whose request struct
/// would take its area's trait name.
fn document() -> Value {
    let mut schemas = serde_json::Map::new();
    let mut paths = serde_json::Map::new();
    for (i, name) in CLASHING.iter().enumerate() {
        let next = CLASHING[(i + 1) % CLASHING.len()];
        schemas.insert(
            name.to_string(),
            json!({
                "type": "object",
                "properties": {
                    "id": { "type": "integer", "format": "int64" },
                    "next": { "$ref": format!("#/components/schemas/{next}") }
                }
            }),
        );
        paths.insert(
            format!("/{}/{{id}}", name.to_lowercase()),
            json!({
                "post": {
                    "operationId": name,
                    "tags": [name],
                    "parameters": [
                        { "name": "id", "in": "path", "required": true, "schema": { "type": "string" } },
                        { "name": "method", "in": "query", "schema": { "$ref": "#/components/schemas/Kind" } }
                    ],
                    "requestBody": {
                        "required": true,
                        "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{name}") } } }
                    },
                    "responses": {
                        "200": { "description": "it", "content": { "application/json": { "schema": { "$ref": format!("#/components/schemas/{next}") } } } },
                        "404": { "description": "no such thing", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/ServerError" } } } },
                        "default": { "description": "another error", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Error" } } } }
                    }
                }
            }),
        );
    }
    schemas.insert(
        "Kind".into(),
        json!({ "type": "string", "enum": ["Request", "Reply", "Self", "self"] }),
    );
    let get = |id: &str, tag: &str| {
        json!({
            "operationId": id,
            "tags": [tag],
            "responses": { "200": { "description": "ok", "content": { "application/json": { "schema": { "$ref": "#/components/schemas/Request" } } } } }
        })
    };
    for (path, id, tag) in [
        ("/models", "listModels", "models"),
        ("/serde", "listSerde", "serde_json"),
        ("/bytes", "listBytes", "Bytes"),
        ("/recording", "listRecording", "Recording"),
        ("/things/a", "getThing", "Things"),
        ("/things/b", "GetThing", "Things"),
        ("/things/c", "getThingRequest", "Things"),
        ("/pets", "Pet", "Pet request"),
    ] {
        paths.insert(path.into(), json!({ "get": get(id, tag) }));
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Clashing names", "version": "1.0" },
        "paths": paths,
        "components": { "schemas": schemas }
    })
}

#[test]
fn names_of_runtime_types_prelude_items_and_crates_give_a_crate_that_checks() {
    let dir = xtask::workspace_root().join("target/corpus/specs");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let spec = dir.join("clashing-names.json");
    let text = serde_json::to_string_pretty(&document()).expect("a JSON value serialises");
    std::fs::write(&spec, text).unwrap_or_else(|e| panic!("{}: {e}", spec.display()));

    let generated = generate_crate(
        std::slice::from_ref(&spec),
        &Options {
            crate_name: "clashing-names".into(),
            labels: Vec::new(),
            runtime: RuntimeDep::workspace(),
        },
    )
    .unwrap_or_else(|e| panic!("generate fails on {}: {e}", spec.display()));
    assert_eq!(
        generated.built.api.operations.len(),
        CLASHING.len() + 8,
        "one operation per path"
    );
    // The server's traits take the names of their areas, with `Api` where the crate's root
    // or the prelude has the name already.
    let server_lib = &generated.files[&PathBuf::from("server/src/lib.rs")];
    for reexport in [
        "pub use request::RequestApi;",
        "pub use sync::SyncApi;",
        "pub use error::Error;",
        "pub use models_area::ModelsArea;",
        "pub use recording_area::RecordingArea;",
    ] {
        assert!(server_lib.contains(reexport), "{reexport}:\n{server_lib}");
    }

    let dir = write_crate("clashing-names", &generated.files);
    check_without_warnings("clashing-names", &dir);
}
