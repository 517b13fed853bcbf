//! One test per change kind: a hand-built change and the JSON entry it must give.

use drydock_diff::{ChangeKind, DiffOptions, diff};
use drydock_ir::{BodyKind, ResponseHeader, Scalar, TypeRef, TypeShape, Versioned};
use serde_json::{Value, json};

use crate::fixture::*;

/// An entry of a change in `ThingCreate`.
fn in_create(
    kind: &str,
    extra: Value,
    sides: Value,
    (old, new): (Value, Value),
    (clients, servers): (bool, bool),
) -> Value {
    let mut location = json!({"operation": create_ref()});
    if let (Some(loc), Some(extra)) = (location.as_object_mut(), extra.as_object()) {
        loc.extend(extra.clone());
    }
    json!({
        "kind": kind,
        "area": "Thing",
        "location": location,
        "old": old,
        "new": new,
        "sides": sides,
        "breaks_clients": clients,
        "breaks_servers": servers,
        "affected_operations": [create_ref()],
    })
}

/// An entry of a change in a named type.
fn in_type(
    kind: &str,
    (type_name, field): (&str, Option<&str>),
    path: &str,
    sides: Value,
    (old, new): (Value, Value),
    (clients, servers): (bool, bool),
    affected: Value,
) -> Value {
    let mut location = json!({"type": type_name, "path": path});
    if let (Some(loc), Some(field)) = (location.as_object_mut(), field) {
        loc.insert("field".to_string(), json!(field));
    }
    json!({
        "kind": kind,
        "area": "Thing",
        "location": location,
        "old": old,
        "new": new,
        "sides": sides,
        "breaks_clients": clients,
        "breaks_servers": servers,
        "affected_operations": affected,
    })
}

#[test]
fn identical_versions_give_an_empty_report() {
    assert_eq!(entries(&base()), json!([]));
}

#[test]
fn added_operation_is_reported_and_breaks_only_servers() {
    let mut api = base();
    add_prune(&mut api);
    let prune_ref = json!({"method": "POST", "path": "/things/prune", "id": "ThingPrune"});
    assert_eq!(
        entries(&api),
        json!([{
            "kind": "operation_added",
            "area": "Thing",
            "location": {"operation": prune_ref},
            "old": null,
            "new": null,
            "sides": ["operation"],
            "breaks_clients": false,
            "breaks_servers": true,
            "affected_operations": [prune_ref],
        }])
    );
}

#[test]
fn removed_operation_breaks_clients() {
    let mut api = base();
    op(&mut api, "ThingInspect").versions = only_old();
    assert_eq!(
        entries(&api),
        json!([{
            "kind": "operation_removed",
            "area": "Thing",
            "location": {"operation": inspect_ref()},
            "old": null,
            "new": null,
            "sides": ["operation"],
            "breaks_clients": true,
            "breaks_servers": false,
            "affected_operations": [inspect_ref()],
        }])
    );
}

#[test]
fn new_optional_parameter_breaks_only_servers() {
    let mut api = base();
    let force = query(
        "force",
        only_new(),
        param_shape(TypeRef::scalar(Scalar::Boolean), false),
    );
    op(&mut api, "ThingCreate").parameters.push(force);
    assert_eq!(
        entries(&api),
        json!([in_create(
            "optional_parameter_added",
            json!({"parameter": "query force"}),
            json!(["request"]),
            (json!(null), json!("boolean")),
            (false, true),
        )])
    );
}

#[test]
fn new_required_parameter_breaks_old_clients() {
    let mut api = base();
    let force = query(
        "force",
        only_new(),
        param_shape(TypeRef::scalar(Scalar::Boolean), true),
    );
    op(&mut api, "ThingCreate").parameters.push(force);
    assert_eq!(
        entries(&api),
        json!([in_create(
            "required_parameter_added",
            json!({"parameter": "query force"}),
            json!(["request"]),
            (json!(null), json!("boolean")),
            (true, true),
        )])
    );
}

#[test]
fn removed_parameter_breaks_clients_that_send_it() {
    let mut api = base();
    op(&mut api, "ThingCreate").parameters[0].versions = only_old();
    assert_eq!(
        entries(&api),
        json!([in_create(
            "parameter_removed",
            json!({"parameter": "query name"}),
            json!(["request"]),
            (json!("string"), json!(null)),
            (true, false),
        )])
    );
}

/// Splits `ThingCreate`'s `name` parameter into an old and a changed new shape.
fn reshape_name(api: &mut drydock_ir::Api, change: impl Fn(&mut drydock_ir::ParamShape)) {
    let param = &mut op(api, "ThingCreate").parameters[0];
    let mut shape = param.shapes[0].value.clone();
    change(&mut shape);
    param.shapes = vec![
        Versioned::new(only_old(), param.shapes[0].value.clone()),
        Versioned::new(only_new(), shape),
    ];
}

#[test]
fn parameter_type_change_breaks_both_sides() {
    let mut api = base();
    reshape_name(&mut api, |s| s.ty = TypeRef::scalar(Scalar::I32));
    assert_eq!(
        entries(&api),
        json!([in_create(
            "parameter_type_changed",
            json!({"parameter": "query name"}),
            json!(["request"]),
            (json!("string"), json!("integer (int32)")),
            (true, true),
        )])
    );
}

#[test]
fn parameter_becoming_required_breaks_clients() {
    let mut api = base();
    reshape_name(&mut api, |s| s.required = true);
    assert_eq!(
        entries(&api),
        json!([in_create(
            "parameter_became_required",
            json!({"parameter": "query name"}),
            json!(["request"]),
            (json!(false), json!(true)),
            (true, false),
        )])
    );
}

#[test]
fn parameter_becoming_optional_breaks_servers() {
    let mut api = base();
    op(&mut api, "ThingCreate").parameters[0].shapes[0]
        .value
        .required = true;
    reshape_name(&mut api, |s| s.required = false);
    assert_eq!(
        entries(&api),
        json!([in_create(
            "parameter_became_optional",
            json!({"parameter": "query name"}),
            json!(["request"]),
            (json!(true), json!(false)),
            (false, true),
        )])
    );
}

#[test]
fn parameter_default_change_breaks_both_sides() {
    let mut api = base();
    reshape_name(&mut api, |s| s.default = Some(json!("thing")));
    assert_eq!(
        entries(&api),
        json!([in_create(
            "parameter_default_changed",
            json!({"parameter": "query name"}),
            json!(["request"]),
            (json!(null), json!("thing")),
            (true, true),
        )])
    );
}

#[test]
fn new_required_request_body_breaks_old_clients() {
    let mut api = base();
    let mut update = operation("ThingUpdate", "POST", "/things/{id}/update", Vec::new());
    update.request_body = Some(drydock_ir::RequestBody {
        versions: only_new(),
        description: None,
        shapes: vec![Versioned::new(only_new(), json_body("ThingConfig", true))],
    });
    api.operations.insert(update.id.clone(), update);
    let update_ref = json!({"method": "POST", "path": "/things/{id}/update", "id": "ThingUpdate"});
    assert_eq!(
        entries(&api),
        json!([{
            "kind": "required_request_body_added",
            "area": "Thing",
            "location": {"operation": update_ref, "body": "request"},
            "old": null,
            "new": "json ThingConfig",
            "sides": ["request"],
            "breaks_clients": true,
            "breaks_servers": true,
            "affected_operations": [update_ref],
        }])
    );
}

#[test]
fn removed_request_body_breaks_clients() {
    let mut api = base();
    if let Some(body) = &mut op(&mut api, "ThingCreate").request_body {
        body.versions = only_old();
    }
    assert_eq!(
        entries(&api),
        json!([in_create(
            "request_body_removed",
            json!({"body": "request"}),
            json!(["request"]),
            (json!("json ThingConfig"), json!(null)),
            (true, false),
        )])
    );
}

/// Splits `ThingCreate`'s request body into an old and a changed new shape.
fn reshape_request(api: &mut drydock_ir::Api, change: impl Fn(&mut drydock_ir::BodyShape)) {
    if let Some(body) = &mut op(api, "ThingCreate").request_body {
        let mut shape = body.shapes[0].value.clone();
        change(&mut shape);
        body.shapes = vec![
            Versioned::new(only_old(), body.shapes[0].value.clone()),
            Versioned::new(only_new(), shape),
        ];
    }
}

#[test]
fn request_body_kind_change_breaks_both_sides() {
    let mut api = base();
    reshape_request(&mut api, |b| {
        b.kind = BodyKind::Tar;
        b.schema = None;
        b.content_types = vec!["application/json".to_string()];
    });
    assert_eq!(
        entries(&api),
        json!([in_create(
            "body_kind_changed",
            json!({"body": "request"}),
            json!(["request"]),
            (json!("json ThingConfig"), json!("tar")),
            (true, true),
        )])
    );
}

#[test]
fn request_body_becoming_optional_breaks_servers() {
    let mut api = base();
    reshape_request(&mut api, |b| b.required = false);
    assert_eq!(
        entries(&api),
        json!([in_create(
            "request_body_became_optional",
            json!({"body": "request"}),
            json!(["request"]),
            (json!(true), json!(false)),
            (false, true),
        )])
    );
}

#[test]
fn body_type_change_is_reported_at_the_body() {
    let mut api = base();
    reshape_request(&mut api, |b| b.schema = Some(TypeRef::named("Thing")));
    let entries = entries(&api);
    assert_eq!(
        entries[0],
        in_create(
            "body_type_changed",
            json!({"body": "request"}),
            json!(["request"]),
            (json!("ThingConfig"), json!("Thing")),
            (true, true),
        )
    );
}

#[test]
fn request_content_type_added_and_removed() {
    let mut api = base();
    reshape_request(&mut api, |b| {
        b.content_types = vec!["application/yaml".to_string()]
    });
    assert_eq!(
        entries(&api),
        json!([
            in_create(
                "content_type_added",
                json!({"body": "request"}),
                json!(["request"]),
                (json!(null), json!("application/yaml")),
                (false, true),
            ),
            in_create(
                "content_type_removed",
                json!({"body": "request"}),
                json!(["request"]),
                (json!("application/json"), json!(null)),
                (true, false),
            ),
        ])
    );
}

#[test]
fn new_success_status_breaks_clients_and_new_error_status_breaks_nothing() {
    let mut api = base();
    let responses = &mut op(&mut api, "ThingCreate").responses;
    responses.push(response("200", only_new(), json_body("Thing", false)));
    responses.push(response("409", only_new(), empty_body()));
    assert_eq!(
        entries(&api),
        json!([
            in_create(
                "success_status_added",
                json!({"body": "200"}),
                json!(["response"]),
                (json!(null), json!("json Thing")),
                (true, false),
            ),
            in_create(
                "error_status_added",
                json!({"body": "409"}),
                json!(["response"]),
                (json!(null), json!("empty")),
                (false, false),
            ),
        ])
    );
}

#[test]
fn removed_statuses_are_reported_by_class() {
    let mut api = base();
    let responses = &mut op(&mut api, "ThingCreate").responses;
    responses[0].versions = only_old();
    responses.push(response("500", only_old(), empty_body()));
    let entries = entries(&api);
    let kinds: Vec<&str> = entries
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["kind"].as_str())
        .collect();
    assert_eq!(kinds, ["success_status_removed", "error_status_removed"]);
    assert_eq!(entries[0]["breaks_servers"], json!(true));
    assert_eq!(entries[1]["breaks_clients"], json!(false));
}

#[test]
fn response_header_added_and_removed() {
    let mut api = base();
    let header = |name: &str, versions| ResponseHeader {
        name: name.to_string(),
        versions,
        ty: TypeRef::scalar(Scalar::String),
        description: None,
    };
    op(&mut api, "ThingCreate").responses[0].headers = vec![
        header("Api-Version", only_new()),
        header("Server", only_old()),
    ];
    assert_eq!(
        entries(&api),
        json!([
            in_create(
                "response_header_added",
                json!({"body": "201", "header": "Api-Version"}),
                json!(["response"]),
                (json!(null), json!("string")),
                (false, false),
            ),
            in_create(
                "response_header_removed",
                json!({"body": "201", "header": "Server"}),
                json!(["response"]),
                (json!("string"), json!(null)),
                (true, false),
            ),
        ])
    );
}

#[test]
fn new_required_request_field_breaks_old_clients() {
    let mut api = base();
    let color = field(
        "Color",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::String), true),
    );
    fields(&mut api, "ThingConfig").push(color);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "required_field_added",
            ("ThingConfig", Some("Color")),
            "request body: Color",
            json!(["request"]),
            (json!(null), json!("string")),
            (true, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn new_optional_request_field_breaks_only_servers() {
    let mut api = base();
    let color = field(
        "Color",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::String), false),
    );
    fields(&mut api, "ThingConfig").push(color);
    assert_eq!(
        entries(&api)[0]["kind"],
        json!(ChangeKind::OptionalFieldAdded.as_str())
    );
    assert_eq!(entries(&api)[0]["breaks_clients"], json!(false));
    assert_eq!(entries(&api)[0]["breaks_servers"], json!(true));
}

#[test]
fn new_optional_response_field_breaks_nothing() {
    let mut api = base();
    let created = field(
        "Created",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::DateTime), false),
    );
    fields(&mut api, "Thing").push(created);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "optional_field_added",
            ("Thing", Some("Created")),
            "response 200: Created",
            json!(["response"]),
            (json!(null), json!("string (date-time)")),
            (false, false),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn removed_response_field_breaks_clients_that_read_it() {
    let mut api = base();
    field_mut(&mut api, "Thing", "Id").versions = only_old();
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_removed",
            ("Thing", Some("Id")),
            "response 200: Id",
            json!(["response"]),
            (json!("string"), json!(null)),
            (true, false),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn field_type_change_breaks_both_sides() {
    let mut api = base();
    reshape_field(&mut api, "ThingConfig", "Size", |s| {
        s.ty = TypeRef::Array {
            items: Box::new(TypeRef::scalar(Scalar::I64)),
        }
    });
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_type_changed",
            ("ThingConfig", Some("Size")),
            "request body: Size",
            json!(["request"]),
            (json!("integer (int64)"), json!("[ integer (int64) ]")),
            (true, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn response_field_becoming_optional_breaks_clients() {
    let mut api = base();
    reshape_field(&mut api, "Thing", "Id", |s| s.required = false);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_became_optional",
            ("Thing", Some("Id")),
            "response 200: Id",
            json!(["response"]),
            (json!(true), json!(false)),
            (true, false),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn request_field_becoming_required_breaks_clients() {
    let mut api = base();
    reshape_field(&mut api, "ThingConfig", "Size", |s| s.required = true);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_became_required",
            ("ThingConfig", Some("Size")),
            "request body: Size",
            json!(["request"]),
            (json!(false), json!(true)),
            (true, false),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn response_field_becoming_nullable_breaks_clients() {
    let mut api = base();
    reshape_field(&mut api, "Thing", "Id", |s| s.nullable = true);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_became_nullable",
            ("Thing", Some("Id")),
            "response 200: Id",
            json!(["response"]),
            (json!(false), json!(true)),
            (true, false),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn request_field_becoming_non_nullable_breaks_clients() {
    let mut api = base();
    field_mut(&mut api, "ThingConfig", "Size").shapes[0]
        .value
        .nullable = true;
    reshape_field(&mut api, "ThingConfig", "Size", |s| s.nullable = false);
    let entry = &entries(&api)[0];
    assert_eq!(entry["kind"], json!("field_became_non_nullable"));
    assert_eq!(
        (&entry["breaks_clients"], &entry["breaks_servers"]),
        (&json!(true), &json!(false))
    );
}

#[test]
fn request_field_default_change_breaks_both_sides() {
    let mut api = base();
    reshape_field(&mut api, "ThingConfig", "Size", |s| {
        s.default = Some(json!(10))
    });
    assert_eq!(
        entries(&api),
        json!([in_type(
            "field_default_changed",
            ("ThingConfig", Some("Size")),
            "request body: Size",
            json!(["request"]),
            (json!(null), json!(10)),
            (true, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn enum_value_added_in_a_request_breaks_servers() {
    let mut api = base();
    api.types.insert(
        "ThingMode".to_string(),
        enum_type(
            "ThingMode",
            &[("fast", both()), ("slow", both()), ("auto", only_new())],
        ),
    );
    assert_eq!(
        entries(&api),
        json!([in_type(
            "enum_value_added",
            ("ThingMode", None),
            "request body: Mode",
            json!(["request"]),
            (json!(null), json!("auto")),
            (false, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn enum_value_removed_in_a_request_breaks_clients() {
    let mut api = base();
    api.types.insert(
        "ThingMode".to_string(),
        enum_type("ThingMode", &[("fast", both()), ("slow", only_old())]),
    );
    assert_eq!(
        entries(&api),
        json!([in_type(
            "enum_value_removed",
            ("ThingMode", None),
            "request body: Mode",
            json!(["request"]),
            (json!("slow"), json!(null)),
            (true, false),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn enum_value_added_in_a_response_breaks_clients() {
    let mut api = base();
    api.types.insert(
        "ThingState".to_string(),
        enum_type(
            "ThingState",
            &[
                ("running", both()),
                ("exited", both()),
                ("removing", only_new()),
            ],
        ),
    );
    assert_eq!(
        entries(&api),
        json!([in_type(
            "enum_value_added",
            ("ThingState", None),
            "response 200: State",
            json!(["response"]),
            (json!(null), json!("removing")),
            (true, false),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn enum_value_removed_in_a_response_breaks_servers() {
    let mut api = base();
    api.types.insert(
        "ThingState".to_string(),
        enum_type("ThingState", &[("running", both()), ("exited", only_old())]),
    );
    let entry = &entries(&api)[0];
    assert_eq!(entry["kind"], json!("enum_value_removed"));
    assert_eq!(
        (&entry["breaks_clients"], &entry["breaks_servers"]),
        (&json!(false), &json!(true))
    );
}

#[test]
fn type_changing_from_enum_to_alias_is_a_type_change() {
    let mut api = base();
    if let Some(mode) = api.types.get_mut("ThingMode") {
        let old_shape = mode.shapes[0].value.clone();
        mode.shapes = vec![
            Versioned::new(only_old(), old_shape),
            Versioned::new(
                only_new(),
                TypeShape::Alias {
                    target: TypeRef::scalar(Scalar::String),
                },
            ),
        ];
    }
    assert_eq!(
        entries(&api),
        json!([in_type(
            "type_changed",
            ("ThingMode", None),
            "request body: Mode",
            json!(["request"]),
            (json!("enum of string"), json!("string")),
            (true, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn type_change_is_reported_once_with_every_operation_it_reaches() {
    let mut api = base();
    // Thing.History: [ map of ThingConfig ] makes ThingConfig reachable from responses too.
    let history = TypeRef::Array {
        items: Box::new(TypeRef::Map {
            values: Box::new(TypeRef::named("ThingConfig")),
        }),
    };
    fields(&mut api, "Thing").push(field("History", both(), field_shape(history, false)));
    let color = field(
        "Color",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::String), false),
    );
    fields(&mut api, "ThingConfig").push(color);
    assert_eq!(
        entries(&api),
        json!([in_type(
            "optional_field_added",
            ("ThingConfig", Some("Color")),
            "response 200: History[]{}.Color",
            json!(["request", "response"]),
            (json!(null), json!("string")),
            (false, true),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn descriptions_are_attached_only_when_asked_for() {
    let mut api = base();
    let color = field(
        "Color",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::String), false),
    );
    fields(&mut api, "ThingConfig").push(color);
    assert_eq!(entries(&api)[0].get("description"), None);
    let with = entries_with(&api, &DiffOptions { descriptions: true });
    assert_eq!(with[0]["description"], json!("The Color."));
}

#[test]
fn description_only_changes_are_reported_only_when_asked_for_and_break_nothing() {
    let mut api = base();
    let size = fields(&mut api, "ThingConfig")
        .iter_mut()
        .find(|f| f.name == "Size")
        .expect("ThingConfig.Size");
    size.description = Some("Size in bytes.".into());
    size.former_descriptions = vec![drydock_ir::FormerDescription {
        versions: only_old(),
        text: "Size in blocks.".into(),
    }];
    op(&mut api, "ThingInspect").description = Some("Inspect a thing.".into());
    op(&mut api, "ThingInspect").former_descriptions = vec![drydock_ir::FormerDescription {
        versions: only_old(),
        text: String::new(),
    }];

    assert_eq!(
        entries(&api),
        json!([]),
        "no description changes without the flag"
    );
    let report = diff(&api, &old(), &new(), &DiffOptions { descriptions: true });
    type Seen = (ChangeKind, Option<Value>, Option<Value>, bool, bool);
    let changes: Vec<Seen> = report
        .changes
        .iter()
        .map(|c| {
            (
                c.kind,
                c.old.clone(),
                c.new.clone(),
                c.breaks_clients,
                c.breaks_servers,
            )
        })
        .collect();
    assert_eq!(
        changes,
        [
            (
                ChangeKind::DescriptionChanged,
                None,
                Some(json!("Inspect a thing.")),
                false,
                false
            ),
            (
                ChangeKind::DescriptionChanged,
                Some(json!("Size in blocks.")),
                Some(json!("Size in bytes.")),
                false,
                false
            ),
        ]
    );
}

#[test]
fn diffing_backwards_reads_as_a_downgrade() {
    let mut api = base();
    op(&mut api, "ThingInspect").versions = only_new();
    let report = diff(&api, &new(), &old(), &DiffOptions::default());
    let kinds: Vec<ChangeKind> = report.changes.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ChangeKind::OperationRemoved]);
}

/// The base API plus `ThingSpec`, which flattens `ThingConfig`'s fields (as
/// `allOf` does) beside its own `Name`, sent by `POST /things/{id}/update`.
fn with_flattened_config() -> drydock_ir::Api {
    let mut api = base();
    let mut spec_fields = fields(&mut api, "ThingConfig").clone();
    spec_fields.push(field(
        "Name",
        both(),
        field_shape(TypeRef::scalar(Scalar::String), false),
    ));
    api.types.insert(
        "ThingSpec".to_string(),
        struct_type("ThingSpec", spec_fields),
    );
    let mut update = operation("ThingUpdate", "POST", "/things/{id}/update", Vec::new());
    update.request_body = Some(drydock_ir::RequestBody {
        versions: both(),
        description: None,
        shapes: vec![Versioned::new(both(), json_body("ThingSpec", true))],
    });
    api.operations.insert(update.id.clone(), update);
    api
}

#[test]
fn field_added_to_a_flattened_type_is_reported_once_at_that_type() {
    let mut api = with_flattened_config();
    let color = field(
        "Color",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::String), false),
    );
    fields(&mut api, "ThingConfig").push(color.clone());
    fields(&mut api, "ThingSpec").push(color);
    let update_ref = json!({"method": "POST", "path": "/things/{id}/update", "id": "ThingUpdate"});
    assert_eq!(
        entries(&api),
        json!([in_type(
            "optional_field_added",
            ("ThingConfig", Some("Color")),
            "request body: Color",
            json!(["request"]),
            (json!(null), json!("string")),
            (false, true),
            json!([create_ref(), update_ref]),
        )])
    );
}

#[test]
fn own_field_of_a_type_that_flattens_another_is_reported_at_it() {
    let mut api = with_flattened_config();
    field_mut(&mut api, "ThingSpec", "Name").versions = only_old();
    let entries = entries(&api);
    assert_eq!(entries.as_array().map(Vec::len), Some(1));
    assert_eq!(
        entries[0]["location"],
        json!({"type": "ThingSpec", "field": "Name", "path": "request body: Name"})
    );
}

#[test]
fn a_field_that_differs_from_the_flattened_one_is_reported_at_both_types() {
    let mut api = with_flattened_config();
    // ThingSpec overrides Size with its own default: not the same field.
    field_mut(&mut api, "ThingSpec", "Size").shapes[0]
        .value
        .default = Some(json!(1));
    reshape_field(&mut api, "ThingConfig", "Size", |s| s.required = true);
    reshape_field(&mut api, "ThingSpec", "Size", |s| s.required = true);
    let entries = entries(&api);
    let at: Vec<&Value> = entries
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| &e["location"]["type"])
        .collect();
    assert_eq!(at, [&json!("ThingConfig"), &json!("ThingSpec")]);
}

/// The base API in which 2.0 renames `ThingConfig` to `ThingSettings`,
/// `change` applied to the renamed type's fields.
fn with_renamed_config(change: impl Fn(&mut Vec<drydock_ir::Field>)) -> drydock_ir::Api {
    let mut api = base();
    let mut settings = api.types["ThingConfig"].clone();
    settings.name = "ThingSettings".to_string();
    settings.versions = only_new();
    if let Some(config) = api.types.get_mut("ThingConfig") {
        config.versions = only_old();
    }
    api.types.insert(settings.name.clone(), settings);
    change(fields(&mut api, "ThingSettings"));
    reshape_request(&mut api, |b| {
        b.schema = Some(TypeRef::named("ThingSettings"))
    });
    api
}

#[test]
fn renamed_type_carrying_the_same_json_breaks_nothing() {
    let api = with_renamed_config(|_| {});
    assert_eq!(
        entries(&api),
        json!([in_create(
            "type_renamed",
            json!({"body": "request"}),
            json!(["request"]),
            (json!("ThingConfig"), json!("ThingSettings")),
            (false, false),
        )])
    );
}

#[test]
fn renamed_type_that_changed_reports_its_field_changes_at_the_new_name() {
    let api = with_renamed_config(|fields| {
        fields.push(field(
            "Color",
            only_new(),
            field_shape(TypeRef::scalar(Scalar::String), true),
        ))
    });
    assert_eq!(
        entries(&api),
        json!([
            in_create(
                "type_renamed",
                json!({"body": "request"}),
                json!(["request"]),
                (json!("ThingConfig"), json!("ThingSettings")),
                (false, false),
            ),
            in_type(
                "required_field_added",
                ("ThingSettings", Some("Color")),
                "request body: Color",
                json!(["request"]),
                (json!(null), json!("string")),
                (true, true),
                json!([create_ref()]),
            ),
        ])
    );
}

/// The base API in which `ThingConfig` names another object in 2.0: its
/// fields `Size` and `Mode` go, `Alpha` and `Beta` come.
fn with_reused_config_name() -> drydock_ir::Api {
    let mut api = base();
    let config = fields(&mut api, "ThingConfig");
    for f in config.iter_mut() {
        f.versions = only_old();
        f.shapes[0].versions = only_old();
    }
    for name in ["Alpha", "Beta"] {
        config.push(field(
            name,
            only_new(),
            field_shape(TypeRef::scalar(Scalar::String), false),
        ));
    }
    api
}

#[test]
fn reused_type_name_used_by_an_operation_throughout_is_one_type_change() {
    let api = with_reused_config_name();
    assert_eq!(
        entries(&api),
        json!([in_type(
            "type_changed",
            ("ThingConfig", None),
            "request body",
            json!(["request"]),
            (json!("object {Size, Mode}"), json!("object {Alpha, Beta}")),
            (true, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn reused_type_name_is_compared_where_it_is_used_not_field_by_field() {
    let mut api = with_reused_config_name();
    // ThingCreate now sends ThingSettings, the old ThingConfig under a new name;
    // the new ThingConfig belongs to a new operation.
    let mut settings = base().types["ThingConfig"].clone();
    settings.name = "ThingSettings".to_string();
    settings.versions = only_new();
    api.types.insert(settings.name.clone(), settings);
    reshape_request(&mut api, |b| {
        b.schema = Some(TypeRef::named("ThingSettings"))
    });
    let mut configs = operation(
        "ThingConfigs",
        "GET",
        "/things/configs",
        vec![response("200", only_new(), json_body("ThingConfig", false))],
    );
    configs.versions = only_new();
    api.operations.insert(configs.id.clone(), configs);
    let kinds: Vec<Value> = entries(&api)
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, [json!("operation_added"), json!("type_renamed")]);
}

#[test]
fn response_field_narrowed_to_an_enumeration_breaks_only_servers() {
    let mut api = base();
    api.types.insert(
        "ThingId".to_string(),
        enum_type("ThingId", &[("a", both()), ("b", both())]),
    );
    reshape_field(&mut api, "Thing", "Id", |s| {
        s.ty = TypeRef::named("ThingId")
    });
    assert_eq!(
        entries(&api),
        json!([in_type(
            "type_narrowed",
            ("Thing", Some("Id")),
            "response 200: Id",
            json!(["response"]),
            (json!("string"), json!("ThingId")),
            (false, true),
            json!([inspect_ref(), create_ref()]),
        )])
    );
}

#[test]
fn request_integer_widened_breaks_only_servers() {
    let mut api = base();
    field_mut(&mut api, "ThingConfig", "Size").shapes[0]
        .value
        .ty = TypeRef::scalar(Scalar::I32);
    reshape_field(&mut api, "ThingConfig", "Size", |s| {
        s.ty = TypeRef::scalar(Scalar::I64)
    });
    assert_eq!(
        entries(&api),
        json!([in_type(
            "type_widened",
            ("ThingConfig", Some("Size")),
            "request body: Size",
            json!(["request"]),
            (json!("integer (int32)"), json!("integer (int64)")),
            (false, true),
            json!([create_ref()]),
        )])
    );
}

#[test]
fn signed_to_unsigned_integer_is_a_type_change() {
    let mut api = base();
    reshape_field(&mut api, "ThingConfig", "Size", |s| {
        s.ty = TypeRef::scalar(Scalar::U64)
    });
    assert_eq!(entries(&api)[0]["kind"], json!("field_type_changed"));
}
