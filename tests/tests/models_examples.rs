//! Every example the specs and the reference documentation give reads into its model.
//!
//! - Each `examples` value of every type and every response in the versioned IR
//!   (`generated/ir/docker.json`) deserialises into the model of its type (of the response's
//!   schema) and serialises back to equivalent JSON, at every version the example holds in:
//!   compared along that version's spec as in `drydock_tests::model_compare` (fields the
//!   version's spec does not name are listed, not compared).
//! - Each JSON example body (request or response) in Docker's v1.23 and v1.24 reference
//!   documentation does the same with the model of its endpoint's body at that version.
//!
//! The reference documentation comes from `reference/` beside the spec mirror
//! (`DRYDOCK_SPECS_DIR`, else `<workspace>/../shared/specs/docker`); a missing document fails
//! the test. Endpoints the documentation marks experimental are not in the specs and are left
//! out (listed in the output). A body the documentation prints as something other than JSON (an ellipsis, a
//! missing comma: `derived_specs.rs` lists why each is so) cannot be read by any model and is
//! listed in the output instead.

use std::path::PathBuf;

use drydock_ir::{Api, ApiVersion, BodyKind, BodyShape, Operation, TypeRef, shape_at};
use drydock_tests::model_compare::{Report, docker_ir};
use drydock_tests::reference_doc::{self, ExampleKind};
use drydock_tests::workspace_root;

/// The schema of a body and how it is encoded (a JSON stream's schema, and example, is one
/// message of the stream).
fn schema_and_kind(shape: &BodyShape) -> Option<(&TypeRef, BodyKind)> {
    shape.schema.as_ref().map(|schema| (schema, shape.kind))
}

#[test]
fn every_type_example_round_trips_through_its_model_at_each_version_it_holds_in() {
    let api = docker_ir();
    let mut report = Report::default();
    for (name, def) in &api.types {
        for example in &def.examples {
            for version in example.versions.members(&api.versions) {
                report.check(
                    api,
                    name,
                    version,
                    &TypeRef::named(name.clone()),
                    &example.value.example,
                    &format!("{name} example {}", example.value.pointer),
                );
            }
        }
    }
    report.assert_clean();
}

#[test]
fn every_response_example_round_trips_through_its_model_at_each_version_it_holds_in() {
    let api = docker_ir();
    let mut report = Report::default();
    for operation in api.operations.values() {
        for response in &operation.responses {
            for example in &response.examples {
                for version in example.versions.members(&api.versions) {
                    let place = format!(
                        "{} {} {} example {}",
                        operation.method, operation.path, response.status, example.value.pointer
                    );
                    let Some((schema, kind)) =
                        shape_at(&response.shapes, version).and_then(schema_and_kind)
                    else {
                        report
                            .failures
                            .push(format!("v{version} {place}: an example but no schema"));
                        continue;
                    };
                    assert!(
                        matches!(kind, BodyKind::Json | BodyKind::JsonStream),
                        "v{version} {place}: a {kind:?} body with a JSON example"
                    );
                    let group = format!(
                        "{} {} {}",
                        operation.method, operation.path, response.status
                    );
                    report.check(api, &group, version, schema, &example.value.example, &place);
                }
            }
        }
    }
    report.assert_clean();
}

/// The folder of the upstream reference docs (`reference/` beside the spec mirror).
fn reference_dir() -> PathBuf {
    let specs = std::env::var_os("DRYDOCK_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("../shared/specs/docker"));
    specs.join("../reference")
}

/// The operation the reference's `METHOD template` documents (templates with `{}` for each
/// path parameter).
fn operation_for<'a>(api: &'a Api, method: &str, template: &str) -> Option<&'a Operation> {
    api.operations
        .values()
        .find(|op| op.method.eq_ignore_ascii_case(method) && op.path_shape() == template)
}

/// Reads every JSON example body of the reference of `version` through its model.
fn reference_examples_round_trip(version: &str) {
    let api = docker_ir();
    let version = ApiVersion::new(version);
    let file = reference_dir().join(format!("v{version}.md"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("the reference doc is missing at {}: {e}", file.display()));
    let doc = reference_doc::parse(&text);
    let mut report = Report::default();
    let mut not_json = Vec::new();
    let mut experimental = Vec::new();
    for endpoint in &doc.endpoints {
        if endpoint.is_experimental() {
            // The derived specs leave out what the reference marks experimental (the v1.24
            // plugin section), as `derived_specs.rs` checks.
            experimental.push(endpoint.label());
            continue;
        }
        for example in endpoint.examples.iter().filter(|e| e.looks_like_json()) {
            let place = format!(
                "{} ({:?} example, {}:{})",
                endpoint.label(),
                example.kind,
                file.display(),
                example.line
            );
            let Ok(values) = example.json_values() else {
                not_json.push(place);
                continue;
            };
            let Some(operation) = operation_for(api, &endpoint.method, &endpoint.template)
                .filter(|op| op.versions.contains(&version))
            else {
                report.failures.push(format!(
                    "v{version} {place}: the IR has no such operation in v{version}"
                ));
                continue;
            };
            let shape = match example.kind {
                ExampleKind::Request => operation
                    .request_body
                    .as_ref()
                    .filter(|body| body.versions.contains(&version))
                    .and_then(|body| shape_at(&body.shapes, &version)),
                ExampleKind::Response => operation
                    .responses
                    .iter()
                    .find(|r| {
                        r.status == example.status.to_string() && r.versions.contains(&version)
                    })
                    .and_then(|r| shape_at(&r.shapes, &version)),
            };
            let Some((schema, kind)) = shape.and_then(schema_and_kind) else {
                report.failures.push(format!(
                    "v{version} {place}: the IR gives this body no schema in v{version}"
                ));
                continue;
            };
            if kind == BodyKind::Json && values.len() != 1 {
                report.failures.push(format!(
                    "v{version} {place}: {} JSON values where the IR says one document",
                    values.len()
                ));
                continue;
            }
            let group = format!("{} {}", endpoint.method, endpoint.template);
            for value in &values {
                report.check(api, &group, &version, schema, value, &place);
            }
        }
    }
    if !experimental.is_empty() {
        println!(
            "endpoints left out as experimental: {}",
            experimental.join(", ")
        );
    }
    if !not_json.is_empty() {
        println!("example bodies the reference does not print as JSON:");
        for place in &not_json {
            println!("  {place}");
        }
    }
    report.assert_clean();
}

#[test]
fn every_json_example_of_the_v1_24_reference_reads_into_its_model() {
    reference_examples_round_trip("1.24");
}

#[test]
fn every_json_example_of_the_v1_23_reference_reads_into_its_model() {
    reference_examples_round_trip("1.23");
}
