//! The client plan: every IR operation resolved into what its generated method
//! takes and returns, before any syntax is written.
//!
//! This pass decides the method and params names (through [`crate::naming`]),
//! the Rust type of every parameter and body, how each query parameter is
//! encoded, which response kind the method returns, and which version checks
//! it makes before sending.
//!
//! Rules, in one place:
//! - A parameter is a plain value only when it is required in every version of
//!   its operation; otherwise it is an `Option`, `None` meaning "not sent".
//! - Booleans go on the wire as `1`/`0` (every daemon accepts both spellings);
//!   `json_encoded` parameters as JSON text (`filters` as a
//!   `drydock_runtime::Filters`, the others as a `serde_json::Value`); arrays
//!   per their collection format, `multi` repeating the key.
//! - Where an item's shape changed between versions, the newest shape is used:
//!   daemons accept it at every version the item exists in, and the version
//!   checks refuse what a version lacks.
//! - The success answer is the first documented `2xx` with a body; an
//!   operation that also documents an empty `2xx` returns `Option<T>`.

use std::collections::BTreeMap;

use drydock_ir::{
    Api, ApiVersion, BodyKind, BodyShape, Operation, ParamLocation, Parameter, Scalar, TypeRef,
    TypeShape, VersionSet, Versioned,
};

use crate::error::CodegenError;
use crate::naming;
use crate::space::{ModelSpace, RustTy};

/// The resolved client of an API.
pub(crate) struct ClientPlan {
    /// Every version of the API, oldest first.
    pub all_versions: Vec<ApiVersion>,
    /// Areas (tags) by module name, each with its operations in id order.
    pub modules: BTreeMap<String, Module>,
}

/// One API area, emitted as one module.
pub(crate) struct Module {
    /// The tag as the spec writes it.
    pub tag: String,
    /// Its operations, by id.
    pub operations: Vec<OperationPlan>,
}

/// One operation, resolved.
pub(crate) struct OperationPlan {
    /// The operation id (`ContainerCreate`).
    pub id: String,
    /// The method name (`container_create`).
    pub method: String,
    /// The params struct's name (`ContainerCreateParams`), `None` when the
    /// operation takes nothing.
    pub params_name: Option<String>,
    /// HTTP method, upper case.
    pub http_method: String,
    /// Path template.
    pub path: String,
    /// One-line summary.
    pub summary: Option<String>,
    /// Description, Markdown.
    pub description: Option<String>,
    /// Marked deprecated.
    pub deprecated: bool,
    /// Versions in which the operation exists.
    pub versions: VersionSet,
    /// Path, query and header parameters in spec order.
    pub params: Vec<ParamPlan>,
    /// The request body.
    pub body: Option<BodyPlan>,
    /// What the method returns.
    pub response: ResponsePlan,
    /// The operation may take over the connection: an `_upgrade` method too.
    pub hijack: bool,
    /// Field name of the `tty` flag of a multiplexed answer, if it has one.
    pub tty_field: Option<String>,
}

/// One path, query or header parameter.
pub(crate) struct ParamPlan {
    /// Name on the wire.
    pub wire: String,
    /// Field name in the params struct.
    pub field: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// Its Rust type.
    pub ty: ParamTy,
    /// Held as `Option<_>`.
    pub optional: bool,
    /// Description, Markdown.
    pub description: Option<String>,
    /// Versions in which it exists.
    pub versions: VersionSet,
    /// A path parameter that spans segments: its `/` are sent as they are
    /// ([`crate::server::plan::multi_segment_parameter`]).
    pub multi_segment: bool,
}

/// The Rust type of a parameter, which also says how it is encoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ParamTy {
    /// A scalar, written with `Display` (booleans as `1`/`0`).
    Scalar(Scalar),
    /// A generated model (an enumeration or alias), written with `Display`;
    /// the Rust name.
    Model(String),
    /// `drydock_runtime::Filters`, written as JSON.
    Filters,
    /// A JSON value, written as JSON text.
    Json,
    /// A list, joined with `separator`, or the key repeated when `None`.
    List {
        /// The element type.
        items: Box<ParamTy>,
        /// `,` for csv, ` ` for ssv, `\t` for tsv, `|` for pipes; `None` for multi.
        separator: Option<char>,
    },
}

/// The request body.
pub(crate) struct BodyPlan {
    /// Field name in the params struct.
    pub field: String,
    /// What the body is.
    pub kind: BodyPlanKind,
    /// Held as `Option<_>`.
    pub optional: bool,
    /// Description, Markdown.
    pub description: Option<String>,
    /// Versions in which the operation takes a body.
    pub versions: VersionSet,
    /// The body's type has a `Default`.
    pub has_default: bool,
}

/// What a request body is.
pub(crate) enum BodyPlanKind {
    /// A JSON document of this type.
    Json {
        /// The document's type.
        ty: JsonTy,
        /// Whether values of the type can hold something a version lacks.
        versioned: bool,
        /// Version-limited fields and values below the body (as
        /// `absent_fields` writes their paths, without list indexes) with the
        /// versions that have them.
        limited: Vec<(String, String)>,
    },
    /// Bytes sent as they are with this content type.
    Bytes {
        /// The `Content-Type` header.
        content_type: String,
    },
}

/// A JSON type named in a body or a response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum JsonTy {
    /// A scalar.
    Scalar(Scalar),
    /// A generated model: the Rust name.
    Model(String),
    /// `Vec<T>`.
    Array(Box<JsonTy>),
    /// `BTreeMap<String, T>`.
    Map(Box<JsonTy>),
    /// `serde_json::Value`.
    Any,
}

/// What an operation's method returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum ResponsePlan {
    /// Nothing: `()`.
    Empty,
    /// One JSON document.
    Json(JsonTy),
    /// One JSON document, or `None` for an empty success answer.
    OptionalJson(JsonTy),
    /// Text: `String`.
    Text,
    /// A stream of JSON messages of this type.
    JsonStream(JsonTy),
    /// Multiplexed stdout/stderr frames (raw bytes when the container has a TTY).
    Frames,
    /// The raw bytes of the body.
    Bytes,
}

/// The names the generated crate's root and area modules import or define.
const ROOT_NAMES: &[&str] = &[
    "ApiVersion",
    "ByteStream",
    "Client",
    "ClientConfig",
    "Connection",
    "Error",
    "Filters",
    "Frame",
    "FrameStream",
    "JsonStream",
    "Method",
    "RequestBuilder",
    "Span",
    "StreamKind",
    "Upgraded",
];

/// The methods `Client` has besides one per operation.
const CLIENT_METHODS: &[&str] = &[
    "connect",
    "connection",
    "from_env",
    "new",
    "version",
    "with_base_url",
];

impl ClientPlan {
    /// Resolves every operation of `api`, naming models through `space`.
    pub(crate) fn build(api: &Api, space: &ModelSpace) -> Result<Self, CodegenError> {
        let all = api.versions.clone();
        let ids: Vec<&str> = api.operations.keys().map(String::as_str).collect();
        let methods = naming::method_names(&ids, CLIENT_METHODS, &["_request", "_upgrade"]);
        let mut tags: Vec<&str> = api.operations.values().map(|op| op.tag.as_str()).collect();
        tags.sort_unstable();
        tags.dedup();
        let module_names = naming::module_names(&tags);
        let tag_modules: BTreeMap<&str, String> = tags.iter().copied().zip(module_names).collect();
        let mut modules: BTreeMap<String, Module> = BTreeMap::new();
        for (op, method) in api.operations.values().zip(methods) {
            let plan = OperationPlan::build(api, space, op, method)?;
            let module = tag_modules[op.tag.as_str()].clone();
            modules
                .entry(module)
                .or_insert_with(|| Module {
                    tag: op.tag.clone(),
                    operations: Vec::new(),
                })
                .operations
                .push(plan);
        }
        // Params structs are re-exported at the crate's root: one name each.
        let mut names = naming::ItemNames::new(ROOT_NAMES);
        for op in modules.values_mut().flat_map(|m| m.operations.iter_mut()) {
            if let Some(name) = &mut op.params_name {
                *name = names.claim(name, "");
            }
        }
        Ok(ClientPlan {
            all_versions: all,
            modules,
        })
    }

    /// Every operation, module by module.
    pub(crate) fn operations(&self) -> impl Iterator<Item = &OperationPlan> {
        self.modules.values().flat_map(|m| m.operations.iter())
    }
}

/// The shape of a versioned item that holds in the newest version it exists in.
fn newest<'a, T>(shapes: &'a [Versioned<T>], versions: &VersionSet) -> Option<&'a T> {
    versions
        .until()
        .and_then(|last| drydock_ir::shape_at(shapes, last))
        .or_else(|| shapes.last().map(|s| &s.value))
}

impl OperationPlan {
    fn build(
        api: &Api,
        space: &ModelSpace,
        op: &Operation,
        method: String,
    ) -> Result<Self, CodegenError> {
        let all = &api.versions;
        let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
        let params_in: Vec<&Parameter> = op
            .parameters
            .iter()
            .filter(|p| p.location != ParamLocation::Cookie)
            .collect();
        let response = response_plan(space, op)?;
        let body_shape = op
            .request_body
            .as_ref()
            .and_then(|b| newest(&b.shapes, &b.versions).map(|s| (b, s)))
            .filter(|(_, s)| s.kind != BodyKind::Empty);
        let tty = response == ResponsePlan::Frames;
        let mut wires: Vec<&str> = params_in.iter().map(|p| p.name.as_str()).collect();
        if body_shape.is_some() {
            wires.push("body");
        }
        if tty {
            wires.push("tty");
        }
        let (mut fields, _) = naming::field_names(&wires, false);
        let tty_field = tty.then(|| fields.pop()).flatten();
        let body_field = body_shape.is_some().then(|| fields.pop()).flatten();
        let mut params = Vec::new();
        for (p, field) in params_in.into_iter().zip(fields) {
            let shape = newest(&p.shapes, &p.versions).ok_or_else(|| CodegenError::EmptyField {
                type_name: op.id.clone(),
                field: p.name.clone(),
            })?;
            let everywhere = p.versions.covers(&scope);
            let required = p.shapes.iter().all(|s| s.value.required);
            let ty = if shape.json_encoded && p.location == ParamLocation::Query {
                if p.name == "filters" {
                    ParamTy::Filters
                } else {
                    ParamTy::Json
                }
            } else {
                param_ty(
                    api,
                    space,
                    &op.id,
                    &shape.ty,
                    shape.collection_format.as_deref(),
                )?
            };
            let multi_segment = p.location == ParamLocation::Path
                && crate::server::plan::multi_segment_parameter(op) == Some(p.name.as_str());
            params.push(ParamPlan {
                multi_segment,
                wire: p.name.clone(),
                field,
                location: p.location,
                ty,
                optional: !(required && everywhere) && p.location != ParamLocation::Path,
                description: p.description.clone(),
                versions: p.versions.clone(),
            });
        }
        let body = match (body_shape, body_field) {
            (Some((body, shape)), Some(field)) => Some(BodyPlan {
                field,
                kind: body_kind(api, space, &op.id, shape)?,
                optional: !(shape.required && body.versions.covers(&scope)),
                description: body.description.clone(),
                versions: body.versions.clone(),
                has_default: match (shape.kind, &shape.schema) {
                    (BodyKind::Json, Some(TypeRef::Named { name })) => {
                        space.has_default(&RustTy::Named(name.clone()))
                    }
                    (BodyKind::Json, _) => true,
                    _ => false,
                },
            }),
            _ => None,
        };
        let takes_params = !params.is_empty() || body.is_some() || tty_field.is_some();
        let params_name = takes_params.then(|| {
            let names = naming::type_names([format!("{}Params", op.id).as_str()]);
            names.into_values().next().unwrap_or_default()
        });
        Ok(OperationPlan {
            id: op.id.clone(),
            method,
            params_name,
            http_method: op.method.clone(),
            path: op.path.clone(),
            summary: op.summary.clone(),
            description: op.description.clone(),
            deprecated: op.deprecated,
            versions: op.versions.clone(),
            params,
            body,
            response,
            hijack: op.hijack,
            tty_field,
        })
    }

    /// Whether the operation exists in every version of the API.
    pub(crate) fn everywhere(&self, all: &[ApiVersion]) -> bool {
        self.versions.covers(all)
    }
}

/// The Rust name of the model `name`, or an error naming `referrer`.
fn model_name(space: &ModelSpace, referrer: &str, name: &str) -> Result<String, CodegenError> {
    space
        .models
        .get(name)
        .map(|m| m.rust_name.clone())
        .ok_or_else(|| CodegenError::UnknownType {
            referrer: referrer.to_string(),
            name: name.to_string(),
        })
}

fn param_ty(
    api: &Api,
    space: &ModelSpace,
    op: &str,
    ty: &TypeRef,
    collection: Option<&str>,
) -> Result<ParamTy, CodegenError> {
    Ok(match ty {
        TypeRef::Scalar { scalar } => ParamTy::Scalar(*scalar),
        TypeRef::Named { name } => {
            let structured = api.types.get(name).is_some_and(|def| {
                def.shapes
                    .iter()
                    .any(|s| matches!(s.value, TypeShape::Struct(_) | TypeShape::OneOf(_)))
            });
            if structured {
                ParamTy::Json
            } else {
                ParamTy::Model(model_name(space, op, name)?)
            }
        }
        TypeRef::Array { items } => ParamTy::List {
            items: Box::new(param_ty(api, space, op, items, None)?),
            separator: match collection.unwrap_or("csv") {
                "multi" => None,
                "ssv" => Some(' '),
                "tsv" => Some('\t'),
                "pipes" => Some('|'),
                _ => Some(','),
            },
        },
        TypeRef::Map { .. } | TypeRef::Any => ParamTy::Json,
    })
}

fn json_ty(space: &ModelSpace, op: &str, ty: &TypeRef) -> Result<JsonTy, CodegenError> {
    Ok(match ty {
        TypeRef::Scalar { scalar } => JsonTy::Scalar(*scalar),
        TypeRef::Named { name } => JsonTy::Model(model_name(space, op, name)?),
        TypeRef::Array { items } => JsonTy::Array(Box::new(json_ty(space, op, items)?)),
        TypeRef::Map { values } => JsonTy::Map(Box::new(json_ty(space, op, values)?)),
        TypeRef::Any => JsonTy::Any,
    })
}

fn body_kind(
    api: &Api,
    space: &ModelSpace,
    op: &str,
    shape: &BodyShape,
) -> Result<BodyPlanKind, CodegenError> {
    match (shape.kind, &shape.schema) {
        (BodyKind::Json, Some(schema)) => {
            let ty = json_ty(space, op, schema)?;
            let versioned = schema
                .named_inner()
                .is_some_and(|n| space.versioned.contains(n));
            let mut limited = Vec::new();
            if versioned {
                limited_below(api, schema, "", &mut Vec::new(), &mut limited);
            }
            Ok(BodyPlanKind::Json {
                ty,
                versioned,
                limited,
            })
        }
        (BodyKind::Json, None) => Ok(BodyPlanKind::Json {
            ty: JsonTy::Any,
            versioned: false,
            limited: Vec::new(),
        }),
        (kind, _) => Ok(BodyPlanKind::Bytes {
            content_type: shape
                .content_types
                .first()
                .cloned()
                .unwrap_or_else(|| default_content_type(kind).to_string()),
        }),
    }
}

fn default_content_type(kind: BodyKind) -> &'static str {
    match kind {
        BodyKind::Tar => "application/x-tar",
        BodyKind::Text => "text/plain",
        BodyKind::Form => "application/x-www-form-urlencoded",
        BodyKind::Multipart => "multipart/form-data",
        BodyKind::Json | BodyKind::JsonStream => "application/json",
        _ => "application/octet-stream",
    }
}

/// How deep [`limited_below`] looks into nested types.
const LIMITED_DEPTH: usize = 12;

/// Collects the version-limited fields and enumeration values reachable from
/// `ty` at `path`, with the versions that have them (written as the
/// `VersionGate` error's `since`). Types already on `stack` are not entered
/// again, so recursive types end.
fn limited_below(
    api: &Api,
    ty: &TypeRef,
    path: &str,
    stack: &mut Vec<String>,
    out: &mut Vec<(String, String)>,
) {
    let Some(name) = ty.named_inner() else {
        return;
    };
    if stack.iter().any(|s| s == name) || stack.len() >= LIMITED_DEPTH {
        return;
    }
    let Some(def) = api.types.get(name) else {
        return;
    };
    let scope: Vec<ApiVersion> = def.versions.members(&api.versions).cloned().collect();
    stack.push(name.to_string());
    for shape in &def.shapes {
        match &shape.value {
            TypeShape::Struct(st) => {
                for field in &st.fields {
                    let field_path = if path.is_empty() {
                        field.name.clone()
                    } else {
                        format!("{path}.{}", field.name)
                    };
                    if !field.versions.covers(&scope) {
                        push_unique(
                            out,
                            field_path.clone(),
                            needs(&field.versions, &api.versions),
                        );
                    }
                    for fs in &field.shapes {
                        limited_below(api, &fs.value.ty, &field_path, stack, out);
                    }
                }
            }
            TypeShape::Enum(e) => {
                for value in &e.values {
                    if value.versions.covers(&scope) {
                        continue;
                    }
                    let label = match &value.value {
                        serde_json::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    push_unique(
                        out,
                        format!("{path}={label:?}"),
                        needs(&value.versions, &api.versions),
                    );
                }
            }
            TypeShape::Alias { target } => limited_below(api, target, path, stack, out),
            TypeShape::OneOf(o) => {
                for variant in &o.variants {
                    limited_below(api, variant, path, stack, out);
                }
            }
        }
    }
    stack.pop();
}

fn push_unique(out: &mut Vec<(String, String)>, path: String, needs: String) {
    if !out.iter().any(|(p, _)| *p == path) {
        out.push((path, needs));
    }
}

/// The versions that have an item, as a `VersionGate` error's `since`:
/// `1.25` for "1.25 and later", else the set described (`1.23 to 1.29`).
pub(crate) fn needs(set: &VersionSet, all: &[ApiVersion]) -> String {
    if let [range] = set.ranges()
        && Some(&range.until) == all.last()
    {
        return range.since.to_string();
    }
    let described = set.describe(all);
    match described.strip_prefix("since ") {
        Some(rest) if !rest.contains(',') => rest.to_string(),
        _ => described,
    }
}

fn response_plan(space: &ModelSpace, op: &Operation) -> Result<ResponsePlan, CodegenError> {
    let mut successes: Vec<&drydock_ir::Response> = op
        .responses
        .iter()
        .filter(|r| r.status.starts_with('2'))
        .collect();
    successes.sort_by(|a, b| a.status.cmp(&b.status));
    let shapes: Vec<&BodyShape> = successes
        .iter()
        .filter_map(|r| newest(&r.shapes, &r.versions))
        .collect();
    let empty_too = shapes.iter().any(|s| s.kind == BodyKind::Empty);
    let Some(shape) = shapes.iter().find(|s| s.kind != BodyKind::Empty) else {
        return Ok(ResponsePlan::Empty);
    };
    let schema = |shape: &BodyShape| -> Result<JsonTy, CodegenError> {
        shape
            .schema
            .as_ref()
            .map_or(Ok(JsonTy::Any), |s| json_ty(space, &op.id, s))
    };
    Ok(match shape.kind {
        BodyKind::Json if empty_too => ResponsePlan::OptionalJson(schema(shape)?),
        BodyKind::Json => ResponsePlan::Json(schema(shape)?),
        BodyKind::JsonStream => ResponsePlan::JsonStream(schema(shape)?),
        BodyKind::Text => ResponsePlan::Text,
        BodyKind::MultiplexedStream => ResponsePlan::Frames,
        BodyKind::RawStream
        | BodyKind::Tar
        | BodyKind::OctetStream
        | BodyKind::Form
        | BodyKind::Multipart => ResponsePlan::Bytes,
        BodyKind::Empty => ResponsePlan::Empty,
    })
}
