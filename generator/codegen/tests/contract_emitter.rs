//! The contract emitter on the client emitter's small hand-built IR
//! (`tests/client_golden/widgets.json`).
//!
//! `tests/contract_golden/widgets.golden` holds every file the emitter writes
//! for the fixture (see `golden_files`). The committed Docker contract test
//! (`generated/contract`) is the emitter's output on the real IR and runs in
//! the workspace.

mod golden_files;

use std::path::{Path, PathBuf};

use drydock_codegen::{ContractCrates, GeneratedFiles, emit_contract};
use drydock_ir::Api;
use golden_files::{squeeze, widgets};

const CRATES: ContractCrates<'static> = ContractCrates {
    contract: "widget-contract",
    client: "widget-client",
    server: "widget-server",
};

fn tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests")
}

fn emitted(api: &Api) -> GeneratedFiles {
    emit_contract(api, CRATES).expect("the fixture emits")
}

fn test_file(files: &GeneratedFiles) -> &str {
    &files[Path::new("tests/contract.rs")]
}

#[test]
fn widgets_contract_matches_golden() {
    let files = emitted(&widgets());
    golden_files::check(&tests_dir().join("contract_golden/widgets.golden"), &files);
}

#[test]
fn every_operation_has_a_case_and_the_test_counts_every_version() {
    let api = widgets();
    let files = emitted(&api);
    let text = test_file(&files);
    let mut cases = 0;
    for op in api.operations.values() {
        let label = format!("format!(\"{} at {{version}}\")", op.id);
        assert!(text.contains(&label), "{} has no case", op.id);
        cases += op.versions.members(&api.versions).count();
    }
    assert!(
        text.contains(&format!(
            "{} operations, {cases} cases",
            api.operations.len()
        )),
        "the test counts {cases} cases"
    );
}

#[test]
fn a_type_that_contains_itself_is_built_one_level_deep() {
    let mut json: serde_json::Value =
        serde_json::to_value(widgets()).expect("the fixture serialises");
    let fields = json
        .pointer_mut("/types/Widget/shapes/0/fields")
        .and_then(serde_json::Value::as_array_mut)
        .expect("Widget is a struct");
    fields.push(serde_json::json!({
        "name": "Parent",
        "versions": ["1.24..=1.26"],
        "shapes": [{
            "versions": ["1.24..=1.26"],
            "ty": { "kind": "named", "name": "Widget" }
        }]
    }));
    let api: Api = serde_json::from_value(json).expect("the changed fixture parses");
    let files = emitted(&api);
    let text = squeeze(test_file(&files));
    assert!(
        text.contains("fn widget(version: ApiVersion, depth: u8) -> models::Widget"),
        "{text}"
    );
    assert!(
        text.contains(
            "parent: if depth == 0 { Some(Box::new(widget(version, depth + 1))) } else { None }"
        ),
        "{text}"
    );
    assert!(text.contains("body: value::widget(version, 0)"), "{text}");
}

#[test]
fn emitting_twice_gives_the_same_bytes() {
    let api = widgets();
    assert_eq!(emitted(&api), emitted(&api));
}

#[test]
fn the_manifest_names_the_client_and_the_server_it_drives() {
    let files = emitted(&widgets());
    let manifest = &files[Path::new("Cargo.toml")];
    assert!(
        manifest.contains("name = \"widget-contract\""),
        "{manifest}"
    );
    assert!(
        manifest.contains("widget-client = { path = \"../client\" }"),
        "{manifest}"
    );
    assert!(
        manifest.contains("widget-server = { path = \"../server\", features = [\"recording\"] }"),
        "{manifest}"
    );
    let paths: Vec<&Path> = files.keys().map(PathBuf::as_path).collect();
    assert_eq!(
        paths,
        [Path::new("Cargo.toml"), Path::new("tests/contract.rs")]
    );
}
