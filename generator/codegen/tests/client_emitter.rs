//! The client emitter on a small hand-built IR (`tests/client_golden/widgets.json`)
//! and on the committed Docker IR.
//!
//! `tests/client_golden/widgets.golden` holds every file the emitter writes
//! for the fixture (see `golden_files`). The other tests check one behaviour
//! each on the emitted text.

mod golden_files;

use std::path::{Path, PathBuf};

use drydock_codegen::{CodegenError, GeneratedFiles, emit_client};
use drydock_ir::Api;
use golden_files::{squeeze, widgets};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/client_golden")
}

fn emitted(api: &Api) -> GeneratedFiles {
    emit_client(api, "widget-client").expect("the fixture emits")
}

/// One emitted file of the widgets fixture.
fn file(files: &GeneratedFiles, path: &str) -> String {
    files
        .get(Path::new(path))
        .unwrap_or_else(|| panic!("{path} is emitted; got {:?}", files.keys()))
        .clone()
}

/// The text of `function` (from its `fn` line to the next `fn` at the same indent).
fn function<'a>(text: &'a str, name: &str) -> &'a str {
    let start = text
        .find(&format!("fn {name}("))
        .unwrap_or_else(|| panic!("fn {name} is emitted"));
    let rest = &text[start..];
    let end = rest[1..]
        .find("\n    pub async fn ")
        .into_iter()
        .chain(rest[1..].find("\n    fn "))
        .chain(rest[1..].find("\n}"))
        .min()
        .map_or(rest.len(), |i| i + 1);
    &rest[..end]
}

#[test]
fn widgets_client_matches_golden() {
    let files = emitted(&widgets());
    golden_files::check(&golden_dir().join("widgets.golden"), &files);
}

#[test]
fn one_module_per_tag_and_params_reexported_at_the_root() {
    let files = emitted(&widgets());
    let paths: Vec<String> = files.keys().map(|p| p.display().to_string()).collect();
    assert_eq!(
        paths,
        ["Cargo.toml", "src/lib.rs", "src/system.rs", "src/widget.rs"]
    );
    let lib = squeeze(&file(&files, "src/lib.rs"));
    assert!(lib.contains("pub mod system; pub mod widget;"), "{lib}");
    assert!(
        lib.contains("pub use widget::{ WidgetAttachParams, WidgetCreateParams,"),
        "{lib}"
    );
    let manifest = file(&files, "Cargo.toml");
    assert!(manifest.contains("name = \"widget-client\""));
    assert!(manifest.contains("edition = \"2024\""));
    assert!(manifest.contains("drydock-models = { path = \"../models\" }"));
    assert!(
        manifest
            .contains("drydock-runtime = { path = \"../../runtime\", features = [\"client\"] }")
    );
}

#[test]
fn methods_are_snake_case_ids_taking_params_and_returning_the_model() {
    let files = emitted(&widgets());
    let widget = squeeze(&file(&files, "src/widget.rs"));
    assert!(
        widget.contains(
            "pub async fn widget_create( &self, params: WidgetCreateParams, ) -> Result<drydock_models::WidgetCreateResponse, Error>"
        ),
        "{widget}"
    );
    assert!(widget.contains("pub name: Option<String>"), "{widget}");
    assert!(
        widget.contains("pub body: drydock_models::Widget"),
        "{widget}"
    );
    let system = squeeze(&file(&files, "src/system.rs"));
    assert!(
        system.contains("pub async fn system_ping(&self) -> Result<String, Error>"),
        "an operation without parameters takes none: {system}"
    );
}

#[test]
fn query_parameters_are_encoded_as_docker_reads_them() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    let list = squeeze(function(&widget, "widget_list_request"));
    assert!(
        list.contains(r#"vec![("limit", params.limit.to_string())]"#),
        "a required parameter is always sent: {list}"
    );
    assert!(
        list.contains(r#"query.push(("all", String::from(if *value { "1" } else { "0" })));"#),
        "booleans are 1/0: {list}"
    );
    assert!(
        list.contains(r#"query.push(("filters", value.to_json()));"#),
        "filters are JSON: {list}"
    );
    assert!(
        list.contains(r#"query .push(( "ids", value .iter() .map(|item| item.to_string())"#)
            && list.contains(r#".join(","), ));"#),
        "csv lists are joined with commas: {list}"
    );
    assert!(
        list.contains(
            r#"for item in params.label.iter().flatten() { query.push(("label", item.to_string())); }"#
        ),
        "multi lists repeat the key: {list}"
    );
    assert!(
        list.contains(r#"query.push(("kind", value.to_string()));"#),
        "enums are written with Display: {list}"
    );
    let struct_text = squeeze(&widget);
    assert!(struct_text.contains("pub filters: Option<drydock_runtime::Filters>"));
    assert!(struct_text.contains("pub kind: Option<drydock_models::WidgetKind>"));
    assert!(struct_text.contains("pub limit: i64"));
}

#[test]
fn operation_and_parameters_absent_in_a_version_are_refused_before_sending() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    let prune = squeeze(function(&widget, "widget_prune_request"));
    let gate = prune
        .find(r#"crate::require( version, "WidgetPrune (POST /widgets/prune)", &[(Some(crate::ApiVersion::new(1, 25)), None)], "1.25", )?;"#)
        .unwrap_or_else(|| panic!("the operation is gated at 1.25: {prune}"));
    let param_gate = prune
        .find(r#"if params.until.is_some() { crate::require( version, "WidgetPrune query parameter until", &[(Some(crate::ApiVersion::new(1, 26)), None)], "1.26", )?; }"#)
        .unwrap_or_else(|| panic!("the parameter is gated at 1.26: {prune}"));
    let request = prune
        .find("self.connection.request(")
        .unwrap_or_else(|| panic!("the request is built: {prune}"));
    assert!(
        gate < request && param_gate < request,
        "checks come first: {prune}"
    );
    let create = squeeze(function(&widget, "widget_create_request"));
    assert!(
        create.contains(
            r#"crate::check_body( version, "WidgetCreate", &params.body, &[("Init", "1.25"), ("Kind=\"square\"", "1.26")], )?;"#
        ),
        "body fields and values carry their first version: {create}"
    );
    let list = squeeze(function(&widget, "widget_list_request"));
    assert!(
        !list.contains("require"),
        "what exists in every version is not checked: {list}"
    );
}

#[test]
fn response_kinds_map_to_their_rust_types() {
    let files = emitted(&widgets());
    let widget = squeeze(&file(&files, "src/widget.rs"));
    let system = squeeze(&file(&files, "src/system.rs"));
    for (text, expected) in [
        (&widget, "-> Result<Vec<drydock_models::Widget>, Error>"),
        (
            &widget,
            "pub async fn widget_prune(&self, params: WidgetPruneParams) -> Result<(), Error>",
        ),
        (&widget, "-> Result<crate::FrameStream, Error>"),
        (&widget, "-> Result<crate::ByteStream, Error>"),
        (
            &system,
            "-> Result<crate::JsonStream<drydock_models::Widget>, Error>",
        ),
        (
            &system,
            "-> Result<Option<drydock_models::WidgetCreateResponse>, Error>",
        ),
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
}

#[test]
fn multiplexed_output_has_a_tty_flag_and_hijacking_an_upgrade_method() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    let logs = squeeze(function(&widget, "widget_logs"));
    assert!(
        logs.contains("let tty = params.tty;")
            && logs.contains("crate::raw_frames(\"WidgetLogs\", response)")
            && logs.contains("self.connection.send_frames(\"WidgetLogs\", request)"),
        "{logs}"
    );
    let upgrade = squeeze(function(&widget, "widget_attach_upgrade"));
    assert!(
        upgrade.contains("-> Result<crate::Upgraded, Error>")
            && upgrade.contains("self.connection.upgrade(\"WidgetAttach\", request).await"),
        "{upgrade}"
    );
    assert!(
        !widget.contains("fn widget_logs_upgrade("),
        "only hijacking operations upgrade"
    );
}

#[test]
fn uploads_take_a_body_with_its_content_type() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    let import = squeeze(function(&widget, "widget_import_request"));
    assert!(
        import.contains(
            r#"if let Some(body) = params.body { request = request .header(reqwest::header::CONTENT_TYPE, "application/x-tar") .body(body); }"#
        ),
        "{import}"
    );
    assert!(
        import.contains(r#"request = request.header("X-Registry-Auth", value.to_string());"#),
        "{import}"
    );
    assert!(squeeze(&widget).contains("pub body: Option<reqwest::Body>"));
}

#[test]
fn methods_document_path_and_versions() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    assert!(widget.contains("/// `POST /widgets/prune` (`WidgetPrune`), API 1.25 to 1.26."));
    assert!(widget.contains("/// `GET /widgets` (`WidgetList`), API 1.24 to 1.26."));
    assert!(widget.contains("/// Query parameter `until`. API 1.26 only. `None` leaves it out."));
}

#[test]
fn placeholders_in_spec_text_are_not_read_as_html() {
    let files = emitted(&widgets());
    let widget = file(&files, "src/widget.rs");
    assert!(
        widget.contains("/// - label=&lt;string> a label"),
        "{widget}"
    );
    assert!(
        widget.contains("/// - `id=<id>` an id"),
        "code stays as it is: {widget}"
    );
}

#[test]
fn same_ir_gives_the_same_bytes() {
    assert_eq!(emitted(&widgets()), emitted(&widgets()));
}

#[test]
fn unknown_type_in_a_response_is_an_error_naming_the_operation() {
    let mut api = widgets();
    let list = api
        .operations
        .get_mut("WidgetList")
        .expect("fixture has WidgetList");
    list.responses[0].shapes[0].value.schema = Some(drydock_ir::TypeRef::named("Gadget"));
    match emit_client(&api, "widget-client") {
        Err(CodegenError::UnknownType { referrer, name }) => {
            assert_eq!((referrer.as_str(), name.as_str()), ("WidgetList", "Gadget"));
        }
        other => panic!("expected UnknownType, got {:?}", other.map(|f| f.len())),
    }
}

#[test]
fn docker_ir_gives_a_method_per_operation_and_gates_what_came_later() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../generated/ir/docker.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let api: Api = serde_json::from_str(&text).expect("the committed IR deserialises");
    let files = emit_client(&api, "drydock-client").expect("the Docker IR emits");
    let all: String = files.values().map(|t| squeeze(t)).collect();
    for id in api.operations.keys() {
        let method = heck_snake(id);
        assert!(
            all.contains(&format!("pub async fn {method}(")),
            "{id} has {method}"
        );
    }
    assert!(all.contains("pub async fn container_attach_upgrade("));
    assert!(all.contains("pub async fn exec_start_upgrade("));
    let system = squeeze(&file(&files, "src/system.rs"));
    assert!(
        system.contains(r#""SystemDataUsage (GET /system/df)", &[(Some(crate::ApiVersion::new(1, 25)), None)], "1.25","#),
        "system df is gated at 1.25"
    );
    let container = squeeze(&file(&files, "src/container.rs"));
    assert!(container.contains(r#"("HostConfig.Init", "1.25")"#));
}

/// `ContainerCreate` → `container_create` (the ids of the Docker IR are plain PascalCase).
fn heck_snake(id: &str) -> String {
    let mut out = String::new();
    for (i, c) in id.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
