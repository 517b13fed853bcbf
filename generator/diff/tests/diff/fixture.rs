//! A small two-version API built by hand (versions `1.0` and `2.0`), which each
//! test changes in one way before diffing `1.0` → `2.0`.
//!
//! The base API: `POST /things` (`ThingCreate`, tag `Thing`) takes a query
//! parameter `name`, a JSON body `ThingConfig` and answers 201 with `Thing`;
//! `GET /things/{id}` (`ThingInspect`) answers 200 with `Thing`. `ThingConfig`
//! has fields `Size` (integer) and `Mode` (enum `ThingMode`); `Thing` has `Id`
//! (required string) and `State` (enum `ThingState`).
//! Every item holds in both versions.

use std::collections::BTreeMap;

use drydock_ir::{
    Api, ApiVersion, BodyKind, BodyShape, EnumShape, EnumValue, Field, FieldShape, Operation,
    ParamLocation, ParamShape, Parameter, RequestBody, Response, Scalar, StructShape, TypeDef,
    TypeRef, TypeShape, VersionSet, Versioned,
};
use serde_json::{Value, json};

/// `1.0`.
pub fn old() -> ApiVersion {
    ApiVersion::new("1.0")
}

/// `2.0`.
pub fn new() -> ApiVersion {
    ApiVersion::new("2.0")
}

fn all() -> Vec<ApiVersion> {
    vec![old(), new()]
}

/// Both versions.
pub fn both() -> VersionSet {
    VersionSet::from_presence(&all(), |_| true)
}

/// `1.0` only.
pub fn only_old() -> VersionSet {
    VersionSet::single(old())
}

/// `2.0` only.
pub fn only_new() -> VersionSet {
    VersionSet::single(new())
}

/// A field shape of type `ty`.
pub fn field_shape(ty: TypeRef, required: bool) -> FieldShape {
    FieldShape {
        ty,
        required,
        nullable: false,
        read_only: false,
        write_only: false,
        default: None,
    }
}

/// A field with one shape in `versions`.
pub fn field(name: &str, versions: VersionSet, shape: FieldShape) -> Field {
    Field {
        former_descriptions: Vec::new(),
        name: name.to_string(),
        versions: versions.clone(),
        description: Some(format!("The {name}.")),
        shapes: vec![Versioned::new(versions, shape)],
    }
}

/// A parameter shape of type `ty`.
pub fn param_shape(ty: TypeRef, required: bool) -> ParamShape {
    ParamShape {
        ty,
        required,
        default: None,
        collection_format: None,
        json_encoded: false,
    }
}

/// A query parameter with one shape in `versions`.
pub fn query(name: &str, versions: VersionSet, shape: ParamShape) -> Parameter {
    Parameter {
        former_descriptions: Vec::new(),
        name: name.to_string(),
        location: ParamLocation::Query,
        versions: versions.clone(),
        description: Some(format!("The {name} parameter.")),
        shapes: vec![Versioned::new(versions, shape)],
    }
}

/// A JSON body of type `name`.
pub fn json_body(name: &str, required: bool) -> BodyShape {
    BodyShape {
        kind: BodyKind::Json,
        content_types: vec!["application/json".to_string()],
        schema: Some(TypeRef::named(name)),
        required,
    }
}

/// A response with one shape in both versions.
pub fn response(status: &str, versions: VersionSet, body: BodyShape) -> Response {
    Response {
        status: status.to_string(),
        versions: versions.clone(),
        description: None,
        shapes: vec![Versioned::new(versions, body)],
        headers: Vec::new(),
        examples: Vec::new(),
    }
}

/// A body-less response.
pub fn empty_body() -> BodyShape {
    BodyShape {
        kind: BodyKind::Empty,
        content_types: Vec::new(),
        schema: None,
        required: false,
    }
}

/// A struct type with one shape in both versions.
pub fn struct_type(name: &str, fields: Vec<Field>) -> TypeDef {
    TypeDef {
        former_descriptions: Vec::new(),
        name: name.to_string(),
        versions: both(),
        description: Some(format!("A {name}.")),
        origin: format!("#/definitions/{name}"),
        shapes: vec![Versioned::new(
            both(),
            TypeShape::Struct(StructShape {
                fields,
                additional: None,
            }),
        )],
        examples: Vec::new(),
    }
}

/// A string enum type whose values hold in the given versions.
pub fn enum_type(name: &str, values: &[(&str, VersionSet)]) -> TypeDef {
    TypeDef {
        former_descriptions: Vec::new(),
        name: name.to_string(),
        versions: both(),
        description: None,
        origin: format!("#/definitions/{name}"),
        shapes: vec![Versioned::new(
            both(),
            TypeShape::Enum(EnumShape {
                base: Scalar::String,
                values: values
                    .iter()
                    .map(|(v, versions)| EnumValue {
                        value: json!(v),
                        versions: versions.clone(),
                    })
                    .collect(),
            }),
        )],
        examples: Vec::new(),
    }
}

/// An operation in both versions, without parameters or body.
pub fn operation(id: &str, method: &str, path: &str, responses: Vec<Response>) -> Operation {
    Operation {
        former_descriptions: Vec::new(),
        id: id.to_string(),
        versions: both(),
        method: method.to_string(),
        path: path.to_string(),
        tag: "Thing".to_string(),
        summary: Some(format!("{id} summary.")),
        description: None,
        deprecated: false,
        parameters: Vec::new(),
        request_body: None,
        responses,
        hijack: false,
        security: Vec::new(),
        origin: format!("#/paths/{path}/{method}"),
        former_ids: Vec::new(),
    }
}

/// The base API described in the module docs.
pub fn base() -> Api {
    let string = || TypeRef::scalar(Scalar::String);
    let mut create = operation(
        "ThingCreate",
        "POST",
        "/things",
        vec![response("201", both(), json_body("Thing", false))],
    );
    create.parameters = vec![query("name", both(), param_shape(string(), false))];
    create.request_body = Some(RequestBody {
        versions: both(),
        description: None,
        shapes: vec![Versioned::new(both(), json_body("ThingConfig", true))],
    });
    let inspect = operation(
        "ThingInspect",
        "GET",
        "/things/{id}",
        vec![response("200", both(), json_body("Thing", false))],
    );
    let types = [
        struct_type(
            "ThingConfig",
            vec![
                field(
                    "Size",
                    both(),
                    field_shape(TypeRef::scalar(Scalar::I64), false),
                ),
                field(
                    "Mode",
                    both(),
                    field_shape(TypeRef::named("ThingMode"), false),
                ),
            ],
        ),
        struct_type(
            "Thing",
            vec![
                field("Id", both(), field_shape(string(), true)),
                field(
                    "State",
                    both(),
                    field_shape(TypeRef::named("ThingState"), false),
                ),
            ],
        ),
        enum_type("ThingMode", &[("fast", both()), ("slow", both())]),
        enum_type("ThingState", &[("running", both()), ("exited", both())]),
    ];
    Api {
        title: "Things API".to_string(),
        description: None,
        versions: all(),
        servers: Vec::new(),
        security_schemes: BTreeMap::new(),
        types: types.into_iter().map(|t| (t.name.clone(), t)).collect(),
        operations: [create, inspect]
            .into_iter()
            .map(|op| (op.id.clone(), op))
            .collect(),
    }
}

/// Adds `POST /things/prune` (`ThingPrune`), new in 2.0.
pub fn add_prune(api: &mut Api) {
    let mut prune = operation(
        "ThingPrune",
        "POST",
        "/things/prune",
        vec![response("200", only_new(), empty_body())],
    );
    prune.versions = only_new();
    api.operations.insert(prune.id.clone(), prune);
}

/// The operation `id` of `api`, to change.
pub fn op<'a>(api: &'a mut Api, id: &str) -> &'a mut Operation {
    api.operations.get_mut(id).expect("fixture operation")
}

/// The struct shape of type `name` of `api`, to change.
pub fn fields<'a>(api: &'a mut Api, name: &str) -> &'a mut Vec<Field> {
    match &mut api.types.get_mut(name).expect("fixture type").shapes[0].value {
        TypeShape::Struct(st) => &mut st.fields,
        _ => panic!("{name} is not a struct"),
    }
}

/// The field `field` of struct `name`, to change.
pub fn field_mut<'a>(api: &'a mut Api, name: &str, field: &str) -> &'a mut Field {
    fields(api, name)
        .iter_mut()
        .find(|f| f.name == field)
        .expect("fixture field")
}

/// Splits a field's single shape into an old one and a new one made by `change`.
pub fn reshape_field(api: &mut Api, name: &str, field: &str, change: impl Fn(&mut FieldShape)) {
    let f = field_mut(api, name, field);
    let mut shape = f.shapes[0].value.clone();
    change(&mut shape);
    f.shapes = vec![
        Versioned::new(only_old(), f.shapes[0].value.clone()),
        Versioned::new(only_new(), shape),
    ];
}

/// The JSON entries of the report of `1.0` → `2.0`.
pub fn entries(api: &Api) -> Value {
    entries_with(api, &drydock_diff::DiffOptions::default())
}

/// The JSON entries of the report of `1.0` → `2.0` with `options`.
pub fn entries_with(api: &Api, options: &drydock_diff::DiffOptions) -> Value {
    let report = drydock_diff::diff(api, &old(), &new(), options);
    serde_json::to_value(&report.changes).expect("changes serialise")
}

/// `ThingCreate` as the JSON reports name it.
pub fn create_ref() -> Value {
    json!({"method": "POST", "path": "/things", "id": "ThingCreate"})
}

/// `ThingInspect` as the JSON reports name it.
pub fn inspect_ref() -> Value {
    json!({"method": "GET", "path": "/things/{id}", "id": "ThingInspect"})
}
