//! Broken specs through the public entry point (`drydock_spec::api_from_files`,
//! what `cargo xtask generate` runs): each gives an error naming the file and
//! where in it the problem stands, never a panic.

use std::path::PathBuf;

fn spec_file(name: &str, text: &str) -> (tempdir::Dir, PathBuf) {
    let dir = tempdir::Dir::new(name);
    let path = dir.path().join(name);
    std::fs::write(&path, text).expect("the temp file is written");
    (dir, path)
}

/// A private folder under the system temp dir, removed on drop.
mod tempdir {
    use std::path::{Path, PathBuf};

    pub struct Dir(PathBuf);

    impl Dir {
        pub fn new(label: &str) -> Dir {
            let path =
                std::env::temp_dir().join(format!("drydock-broken-{}-{label}", std::process::id()));
            std::fs::create_dir_all(&path).expect("the temp folder is made");
            Dir(path)
        }

        pub fn path(&self) -> &Path {
            &self.0
        }
    }

    impl Drop for Dir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

fn error_for(name: &str, text: &str) -> String {
    let (_dir, path) = spec_file(name, text);
    match drydock_spec::api_from_files(&[path], None) {
        Ok(_) => panic!("{name} must not build"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn malformed_yaml_names_file_line_and_column() {
    let err = error_for(
        "bad-yaml.yaml",
        "swagger: \"2.0\"\ninfo:\n  title: [unclosed\n  version: 1\n",
    );
    assert!(err.contains("bad-yaml.yaml"), "{err}");
    assert!(
        err.contains(":3:") || err.contains(":4:"),
        "names the line: {err}"
    );
}

#[test]
fn an_unresolved_ref_names_its_json_pointer() {
    let err = error_for(
        "dangling.yaml",
        r##"
swagger: "2.0"
info: {title: Dangling, version: "1"}
paths:
  /things:
    get:
      operationId: ThingList
      responses:
        200:
          description: ok
          schema: {$ref: "#/definitions/Nowhere"}
"##,
    );
    assert!(err.contains("dangling.yaml"), "{err}");
    assert!(err.contains("Nowhere"), "names the reference: {err}");
    assert!(
        err.contains("/paths/~1things/get/responses/200"),
        "names the pointer: {err}"
    );
}

#[test]
fn a_wrongly_typed_node_names_its_pointer() {
    let err = error_for(
        "wrong-type.yaml",
        "swagger: \"2.0\"\ninfo: {title: T, version: \"1\"}\npaths: 3\n",
    );
    assert!(err.contains("wrong-type.yaml"), "{err}");
    assert!(err.contains("/paths"), "{err}");
}

#[test]
fn a_document_that_is_neither_swagger_2_nor_openapi_3_says_so() {
    let err = error_for(
        "neither.json",
        r#"{"openapi": "4.0.0", "info": {"title": "x", "version": "1"}, "paths": {}}"#,
    );
    assert!(err.contains("neither.json"), "{err}");
    assert!(
        err.to_lowercase().contains("openapi") || err.to_lowercase().contains("swagger"),
        "{err}"
    );
}

#[test]
fn a_missing_file_names_the_path() {
    let path = PathBuf::from("/nonexistent/drydock/spec.yaml");
    let err = drydock_spec::api_from_files(&[path], None)
        .unwrap_err()
        .to_string();
    assert!(err.contains("/nonexistent/drydock/spec.yaml"), "{err}");
}

#[test]
fn a_valid_openapi_3_document_builds_one_version_labelled_by_info_version() {
    let (_dir, path) = spec_file(
        "ok.yaml",
        r##"
openapi: 3.0.3
info: {title: Fine, version: "2.1.0"}
paths:
  /pets:
    get:
      operationId: PetList
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {type: string}}
"##,
    );
    let built = drydock_spec::api_from_files(&[path], None).expect("a valid document builds");
    assert_eq!(built.api.versions.len(), 1);
    assert_eq!(built.api.versions[0].as_str(), "2.1.0");
    assert!(built.api.operations.contains_key("PetList"));
}
