//! Facts the versioned Docker IR must know: when fields, parameters and
//! endpoints appeared, from the upstream specs v1.25..v1.33 and the project's
//! overlays for v1.23 and v1.24.

use std::sync::OnceLock;

use drydock_ir::{Api, ApiVersion, VersionSet};

fn api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        let root = drydock_tests::workspace_root();
        match drydock_spec::docker_api(None, &root) {
            Ok(built) => built.api,
            Err(e) => panic!(
                "the Docker API must build from the manifest and ../shared/specs/docker: {e}"
            ),
        }
    })
}

fn since(set: &VersionSet) -> String {
    set.describe(&api().versions)
}

fn field_since(type_name: &str, field: &str) -> String {
    let f = api()
        .field(type_name, field)
        .unwrap_or_else(|| panic!("{type_name}.{field} is in the IR"));
    since(&f.versions)
}

fn operation_since(method: &str, path: &str) -> String {
    let op = api()
        .operation_at(method, path)
        .unwrap_or_else(|| panic!("{method} {path} is in the IR"));
    since(&op.versions)
}

fn query_param_since(method: &str, path: &str, name: &str) -> String {
    let op = api()
        .operation_at(method, path)
        .unwrap_or_else(|| panic!("{method} {path} is in the IR"));
    let p = op
        .parameters
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("{method} {path} has a `{name}` parameter"));
    since(&p.versions)
}

#[test]
fn the_ir_holds_every_version_from_1_23_to_1_33_in_order() {
    let labels: Vec<&str> = api().versions.iter().map(ApiVersion::as_str).collect();
    assert_eq!(
        labels,
        [
            "1.23", "1.24", "1.25", "1.26", "1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33"
        ]
    );
}

#[test]
fn host_config_auto_remove_and_init_appear_in_1_25() {
    assert_eq!(field_since("HostConfig", "AutoRemove"), "since 1.25");
    assert_eq!(field_since("HostConfig", "Init"), "since 1.25");
}

#[test]
fn health_config_start_period_appears_in_1_29() {
    assert_eq!(field_since("HealthConfig", "StartPeriod"), "since 1.29");
}

#[test]
fn container_state_health_and_its_log_appear_in_1_24() {
    assert_eq!(
        field_since("ContainerInspectResponseState", "Health"),
        "since 1.24"
    );
    assert_eq!(field_since("Health", "FailingStreak"), "since 1.24");
    assert_eq!(field_since("HealthcheckResult", "Output"), "since 1.24");
}

#[test]
fn volume_created_at_appears_in_1_31() {
    assert_eq!(field_since("Volume", "CreatedAt"), "since 1.31");
}

#[test]
fn distribution_inspect_appears_in_1_30() {
    assert_eq!(
        operation_since("GET", "/distribution/{name}/json"),
        "since 1.30"
    );
}

#[test]
fn image_create_platform_parameter_appears_in_1_32() {
    assert_eq!(
        query_param_since("POST", "/images/create", "platform"),
        "since 1.32"
    );
}

#[test]
fn plugin_and_secret_endpoints_appear_in_1_25() {
    for (method, path) in [
        ("GET", "/plugins"),
        ("POST", "/plugins/pull"),
        ("GET", "/secrets"),
        ("POST", "/secrets/create"),
    ] {
        assert_eq!(
            operation_since(method, path),
            "since 1.25",
            "{method} {path}"
        );
    }
}

#[test]
fn image_search_filters_appear_in_1_24() {
    assert_eq!(
        query_param_since("GET", "/images/search", "filters"),
        "since 1.24"
    );
}

#[test]
fn host_config_storage_opt_appears_in_1_24() {
    assert_eq!(field_since("HostConfig", "StorageOpt"), "since 1.24");
}

#[test]
fn renamed_archive_operations_stay_one_endpoint_each() {
    let op = api()
        .operation_at("HEAD", "/containers/{id}/archive")
        .expect("archive HEAD");
    assert_eq!(op.id, "ContainerArchiveInfo");
    assert!(op.former_ids.contains(&"ContainerArchiveHead".to_string()));
    assert_eq!(since(&op.versions), "since 1.23");
}

#[test]
fn attach_and_exec_start_hijack_and_stream_multiplexed_frames() {
    for (method, path) in [
        ("POST", "/containers/{id}/attach"),
        ("POST", "/exec/{id}/start"),
    ] {
        let op = api().operation_at(method, path).expect("operation exists");
        assert!(op.hijack, "{method} {path} hijacks the connection");
    }
    let logs = api()
        .operation_at("GET", "/containers/{id}/logs")
        .expect("logs");
    assert!(!logs.hijack, "logs never upgrade the connection");
    let ok = logs
        .responses
        .iter()
        .find(|r| r.status == "200")
        .expect("200");
    assert_eq!(
        ok.shapes.last().map(|s| s.value.kind),
        Some(drydock_ir::BodyKind::MultiplexedStream)
    );
}

#[test]
fn progress_and_event_endpoints_stream_json() {
    for (method, path) in [
        ("POST", "/images/create"),
        ("POST", "/build"),
        ("GET", "/events"),
        ("POST", "/images/{name}/push"),
    ] {
        let op = api().operation_at(method, path).expect("operation exists");
        let ok = op
            .responses
            .iter()
            .find(|r| r.status == "200")
            .expect("200");
        assert_eq!(
            ok.shapes.last().map(|s| s.value.kind),
            Some(drydock_ir::BodyKind::JsonStream),
            "{method} {path}"
        );
    }
}
