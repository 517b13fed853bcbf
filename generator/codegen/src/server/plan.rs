//! The server plan: every IR operation resolved into its area, its request
//! struct's fields (and how each is decoded), and its response variants.
//!
//! Rules, in one place:
//! - Areas come from the first tag (`Container` → `containers`); an untagged
//!   operation takes its area from its path's first segment.
//! - A path parameter is a `String`; a query or header parameter is an
//!   `Option` unless every version requires it (then a missing one is a 400).
//! - Booleans, numbers, enumerations, lists and JSON-encoded parameters are
//!   decoded as the daemon does (see `drydock_runtime::server::request`);
//!   `filters` is a `drydock_runtime::Filters`.
//! - Where a body or response changed shape between versions, the newest
//!   shape is used, as the models widen types to their newest.
//! - `GET /_ping` is answered by the runtime, not by implementations.

use std::collections::BTreeMap;

use drydock_ir::{
    Api, ApiVersion, BodyKind, BodyShape, Operation, ParamLocation, Scalar, TypeRef, VersionSet,
};
use heck::{ToSnakeCase, ToUpperCamelCase};

use crate::error::CodegenError;
use crate::naming;
use crate::space::{ModelKind, ModelSpace};

/// The resolved server of an API.
pub(crate) struct ServerPlan {
    /// Every version, oldest first.
    pub all_versions: Vec<ApiVersion>,
    /// Areas by module name.
    pub areas: BTreeMap<String, Area>,
    /// Rust names of the model types, by IR name.
    pub model_names: BTreeMap<String, String>,
}

/// One API area: one module and one trait.
pub(crate) struct Area {
    /// The trait's name (`Containers`).
    pub trait_name: String,
    /// The tag as the spec writes it.
    pub tag: String,
    /// Operations in id order.
    pub operations: Vec<OperationPlan>,
}

/// One operation.
pub(crate) struct OperationPlan {
    /// Operation id.
    pub id: String,
    /// Method of the trait (`container_list`).
    pub method: String,
    /// `ContainerListRequest`.
    pub request_name: String,
    /// `ContainerListResponse`.
    pub response_name: String,
    /// HTTP method.
    pub http_method: String,
    /// Path template.
    pub path: String,
    /// Summary and description.
    pub summary: Option<String>,
    /// Description.
    pub description: Option<String>,
    /// Versions.
    pub versions: VersionSet,
    /// Request fields.
    pub fields: Vec<FieldPlan>,
    /// Response variants, one per documented status.
    pub responses: Vec<ResponsePlan>,
    /// The `default` answer, when the spec documents one.
    pub default_response: Option<DefaultPlan>,
    /// The operation may take over the connection.
    pub hijack: bool,
    /// The path parameter that takes several segments.
    pub greedy: Option<String>,
}

/// One field of a request struct.
pub(crate) struct FieldPlan {
    /// Name on the wire (`body` and `hijack` for those).
    pub wire: String,
    /// Rust field name.
    pub rust: String,
    /// Where it comes from and how it decodes.
    pub source: Source,
    /// Held as `Option<_>`.
    pub optional: bool,
    /// Description.
    pub description: Option<String>,
    /// Versions in which it exists.
    pub versions: VersionSet,
}

/// Where a request field comes from.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    /// A path parameter, text.
    Path,
    /// A query parameter.
    Query(ParamTy),
    /// A header.
    Header(ParamTy),
    /// A JSON body of this type.
    JsonBody(TypeRef),
    /// A text body.
    TextBody,
    /// A streamed body (tar, bytes).
    StreamBody,
    /// The hijacked connection's input.
    Hijack,
}

/// A parameter's Rust type, which says how it is decoded.
#[derive(Clone, Debug)]
pub(crate) enum ParamTy {
    /// `bool`, Docker's spelling rules.
    Bool,
    /// A number of this scalar.
    Number(Scalar),
    /// `String`.
    Text,
    /// A text enumeration model (Rust name).
    Model(String),
    /// `Filters`.
    Filters,
    /// Another JSON-encoded value.
    Json,
    /// A list of strings, split at the separator (`None`: the key repeated).
    List(Option<char>),
}

/// One documented status.
pub(crate) struct ResponsePlan {
    /// The status code.
    pub status: u16,
    /// Description.
    pub description: Option<String>,
    /// What the body is.
    pub body: ResponseBody,
    /// Documented headers: wire name and Rust field name.
    pub headers: Vec<(String, String)>,
    /// Versions that document it.
    pub versions: VersionSet,
}

/// The spec's `default` answer: any status the others do not list, chosen
/// by the implementation.
pub(crate) struct DefaultPlan {
    /// Description.
    pub description: Option<String>,
    /// What the body is.
    pub body: ResponseBody,
    /// Documented headers: wire name and Rust field name.
    pub headers: Vec<(String, String)>,
    /// Versions that document it.
    pub versions: VersionSet,
}

/// A response body.
#[derive(Clone, Debug)]
pub(crate) enum ResponseBody {
    /// No body.
    Empty,
    /// One JSON document of this type (`Any` without a schema).
    Json(TypeRef),
    /// A JSON message stream of this item type.
    Messages(TypeRef),
    /// Bytes streamed with this media type constant of the runtime.
    Stream(&'static str),
    /// Text.
    Text,
}

/// The module an operation belongs to.
fn area_module(op: &Operation) -> String {
    let tag = op.tag.split_whitespace().next().unwrap_or("default");
    let tag = if tag == "default" {
        op.path
            .trim_start_matches('/')
            .split('/')
            .next()
            .unwrap_or("default")
            .to_string()
    } else {
        tag.to_string()
    };
    let snake = tag.to_snake_case();
    match snake.as_str() {
        "container" | "image" | "network" | "volume" | "node" | "service" | "task" | "secret"
        | "config" | "plugin" => format!("{snake}s"),
        _ => naming::area_module_name(rust_name(snake, "area")),
    }
}

/// The names the generated crate's root imports or defines, which a trait
/// (re-exported there) must not take.
const ROOT_NAMES: &[&str] = &[
    "ApiVersion",
    "Arc",
    "Dispatch",
    "DispatchFuture",
    "DockerApi",
    "Request",
    "Route",
    "Router",
    "ServerConfig",
    "ServerError",
    "Service",
];

/// A snake-case name usable as a Rust module or method name: `fallback` when
/// empty, `fallback_…` when it starts with a digit (a tag or path such as
/// `1.0`), `…_` when it is a keyword.
fn rust_name(snake: String, fallback: &str) -> String {
    if snake.is_empty() {
        fallback.to_string()
    } else if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("{fallback}_{snake}")
    } else if crate::naming::is_keyword(&snake) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// An operation id as the start of a type name (`Op10artistMbid` for `10ArtistMbid`).
fn rust_type_base(id: &str) -> String {
    let camel = id.to_upper_camel_case();
    if camel.is_empty() || camel.starts_with(|c: char| c.is_ascii_digit()) {
        format!("Op{camel}")
    } else {
        camel
    }
}

/// The newest of versioned shapes.
fn newest<T>(shapes: &[drydock_ir::Versioned<T>]) -> Option<&T> {
    shapes
        .iter()
        .max_by(|a, b| a.versions.until().cmp(&b.versions.until()))
        .map(|s| &s.value)
}

impl ServerPlan {
    pub(crate) fn build(api: &Api, space: &ModelSpace) -> Result<Self, CodegenError> {
        let model_names: BTreeMap<String, String> = space
            .models
            .iter()
            .map(|(ir, m)| (ir.clone(), m.rust_name.clone()))
            .collect();
        let mut areas: BTreeMap<String, Area> = BTreeMap::new();
        for op in api.operations.values() {
            if op.path == "/_ping" {
                continue;
            }
            let module = area_module(op);
            let plan = operation_plan(op, api, space)?;
            areas
                .entry(module)
                .or_insert_with(|| Area {
                    trait_name: String::new(),
                    tag: op.tag.clone(),
                    operations: Vec::new(),
                })
                .operations
                .push(plan);
        }
        // Traits are named first, then requests and answers, all in one set:
        // a trait takes `Api` after a name the crate's root or the prelude
        // has (`Request` → `RequestApi`), a request or answer that another
        // item took a number; methods take a number after a name their
        // trait has already (`getThing` and `GetThing`).
        let mut names = naming::ItemNames::new(ROOT_NAMES);
        for (module, area) in &mut areas {
            area.trait_name = names.claim(&module.to_upper_camel_case(), "Api");
        }
        for area in areas.values_mut() {
            let mut methods = naming::ItemNames::new(&[]);
            for op in &mut area.operations {
                op.request_name = names.claim(&op.request_name, "");
                op.response_name = names.claim(&op.response_name, "");
                op.method = methods.claim_snake(&op.method);
            }
        }
        Ok(ServerPlan {
            all_versions: api.versions.clone(),
            areas,
            model_names,
        })
    }
}

fn param_ty(
    shape: &drydock_ir::ParamShape,
    json_encoded: bool,
    wire: &str,
    space: &ModelSpace,
) -> ParamTy {
    if json_encoded {
        return if wire == "filters" {
            ParamTy::Filters
        } else {
            ParamTy::Json
        };
    }
    match &shape.ty {
        TypeRef::Scalar {
            scalar: Scalar::Boolean,
        } => ParamTy::Bool,
        TypeRef::Scalar { scalar } if is_number(*scalar) => ParamTy::Number(*scalar),
        TypeRef::Named { name } => match space.models.get(name).map(|m| (&m.kind, m)) {
            Some((ModelKind::Enum(e), m)) if e.integer.is_none() => {
                ParamTy::Model(m.rust_name.clone())
            }
            _ => ParamTy::Text,
        },
        TypeRef::Array { .. } => ParamTy::List(match shape.collection_format.as_deref() {
            Some("multi") => None,
            Some("ssv") => Some(' '),
            Some("tsv") => Some('\t'),
            Some("pipes") => Some('|'),
            _ => Some(','),
        }),
        _ => ParamTy::Text,
    }
}

pub(crate) fn is_number(scalar: Scalar) -> bool {
    matches!(
        scalar,
        Scalar::I8
            | Scalar::I16
            | Scalar::I32
            | Scalar::I64
            | Scalar::U8
            | Scalar::U16
            | Scalar::U32
            | Scalar::U64
            | Scalar::F32
            | Scalar::F64
    )
}

fn response_body(shape: Option<&BodyShape>) -> ResponseBody {
    let Some(shape) = shape else {
        return ResponseBody::Empty;
    };
    let schema = || shape.schema.clone().unwrap_or(TypeRef::Any);
    match shape.kind {
        BodyKind::Empty => ResponseBody::Empty,
        BodyKind::Json | BodyKind::Form | BodyKind::Multipart => ResponseBody::Json(schema()),
        BodyKind::JsonStream => ResponseBody::Messages(schema()),
        BodyKind::RawStream | BodyKind::MultiplexedStream => ResponseBody::Stream("RAW_STREAM"),
        BodyKind::Tar => ResponseBody::Stream("TAR"),
        BodyKind::OctetStream => ResponseBody::Stream("OCTET_STREAM"),
        BodyKind::Text => ResponseBody::Text,
    }
}

/// The path parameter that takes several segments, `/` included, as moby's
/// router matches it: the `name` of Docker's image, plugin and distribution
/// paths (`/images/{name}/json` with `library/busybox`). Every other path
/// parameter is one segment, whose `/` a client must percent-encode.
pub(crate) fn multi_segment_parameter(op: &Operation) -> Option<&str> {
    ["/images/", "/plugins/", "/distribution/"]
        .iter()
        .any(|prefix| op.path.starts_with(prefix))
        .then(|| {
            op.parameters
                .iter()
                .find(|p| p.location == ParamLocation::Path && p.name == "name")
                .map(|p| p.name.as_str())
        })
        .flatten()
}

fn operation_plan(
    op: &Operation,
    api: &Api,
    space: &ModelSpace,
) -> Result<OperationPlan, CodegenError> {
    let all = &api.versions;
    let op_versions: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
    let body = op.request_body.as_ref().and_then(|rb| {
        newest(&rb.shapes).map(|shape| {
            let required =
                rb.versions.covers(&op_versions) && rb.shapes.iter().all(|s| s.value.required);
            let source = match shape.kind {
                BodyKind::Json | BodyKind::Form | BodyKind::Multipart => {
                    Source::JsonBody(shape.schema.clone().unwrap_or(TypeRef::Any))
                }
                BodyKind::Text => Source::TextBody,
                _ => Source::StreamBody,
            };
            let optional = matches!(source, Source::JsonBody(_) | Source::TextBody) && !required;
            (
                source,
                optional,
                rb.description.clone(),
                rb.versions.clone(),
            )
        })
    });
    let params: Vec<_> = op
        .parameters
        .iter()
        .filter(|p| p.location != ParamLocation::Cookie)
        .collect();
    let mut wires: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    if body.is_some() {
        wires.push("body");
    }
    if op.hijack {
        wires.push("hijack");
    }
    let (rust_names, _) = naming::field_names(&wires, false);
    let mut fields = Vec::new();
    for (p, rust) in params.iter().zip(&rust_names) {
        let shape = newest(&p.shapes).ok_or_else(|| CodegenError::EmptyField {
            type_name: op.id.clone(),
            field: p.name.clone(),
        })?;
        let required = p.versions.covers(&op_versions) && p.shapes.iter().all(|s| s.value.required);
        // JSON text in any version is JSON text in all: daemons never took
        // another form where a spec forgot to say so.
        let json_encoded = p.shapes.iter().any(|s| s.value.json_encoded);
        let source = match p.location {
            ParamLocation::Path => Source::Path,
            ParamLocation::Header => Source::Header(param_ty(shape, false, &p.name, space)),
            _ => Source::Query(param_ty(shape, json_encoded, &p.name, space)),
        };
        fields.push(FieldPlan {
            wire: p.name.clone(),
            rust: rust.clone(),
            optional: !matches!(source, Source::Path) && !required,
            source,
            description: p.description.clone(),
            versions: p.versions.clone(),
        });
    }
    let mut next = params.len();
    if let Some((source, optional, description, versions)) = body {
        fields.push(FieldPlan {
            wire: "body".to_string(),
            rust: rust_names[next].clone(),
            source,
            optional,
            description,
            versions,
        });
        next += 1;
    }
    if op.hijack {
        fields.push(FieldPlan {
            wire: "hijack".to_string(),
            rust: rust_names[next].clone(),
            source: Source::Hijack,
            optional: false,
            description: Some(
                "The client's input: the upgraded connection, or the request body.".to_string(),
            ),
            versions: op.versions.clone(),
        });
    }
    let mut responses = Vec::new();
    let mut default_response = None;
    for r in &op.responses {
        let headers = r
            .headers
            .iter()
            .map(|h| (h.name.clone(), h.name.to_snake_case()))
            .collect();
        let description = r.description.clone();
        let body = response_body(newest(&r.shapes));
        let versions = r.versions.clone();
        if r.status == "default" {
            default_response = Some(DefaultPlan {
                description,
                body,
                headers,
                versions,
            });
        } else if let Ok(status) = r.status.parse::<u16>() {
            responses.push(ResponsePlan {
                status,
                description,
                body,
                headers,
                versions,
            });
        }
    }
    responses.sort_by_key(|r| r.status);
    let greedy = multi_segment_parameter(op).map(str::to_string);
    Ok(OperationPlan {
        id: op.id.clone(),
        method: rust_name(op.id.to_snake_case(), "op"),
        request_name: format!("{}Request", rust_type_base(&op.id)),
        response_name: format!("{}Response", rust_type_base(&op.id)),
        http_method: op.method.to_ascii_uppercase(),
        path: op.path.clone(),
        summary: op.summary.clone(),
        description: op.description.clone(),
        versions: op.versions.clone(),
        fields,
        responses,
        default_response,
        hijack: op.hijack,
        greedy,
    })
}

#[cfg(test)]
mod naming_tests {
    use super::{rust_name, rust_type_base};

    #[test]
    fn tags_and_ids_that_are_not_rust_names_become_rust_names() {
        assert_eq!(rust_name(String::new(), "area"), "area");
        assert_eq!(rust_name("1_0".into(), "area"), "area_1_0");
        assert_eq!(rust_name("type".into(), "op"), "type_");
        assert_eq!(rust_name("pets".into(), "area"), "pets");
        assert_eq!(rust_type_base("10ArtistMbid"), "Op10artistMbid");
        assert_eq!(rust_type_base(""), "Op");
        assert_eq!(rust_type_base("PetList"), "PetList");
    }
}
