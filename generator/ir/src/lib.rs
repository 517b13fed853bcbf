//! # drydock-ir: the versioned intermediate representation
//!
//! The one data model that every stage of drydock reads or writes. The spec
//! pipeline (`drydock-spec`) normalises each version of an API document into an
//! [`Api`] that holds a single version, then merges those into one [`Api`] whose
//! every operation, parameter, type, field, enum value and response carries the
//! [`VersionSet`] in which it exists. The emitters (`drydock-codegen`) and the
//! spec-diff reports (`drydock-diff`) read only this model.
//!
//! Where an item's *shape* changes between versions (a field changes type,
//! required-ness or nullability, a type changes from an object to an enum), the
//! item keeps one [`Versioned`] shape per span of versions instead of merging
//! them silently: `shapes.len() > 1` is exactly "this changed".
//!
//! Architecture invariant: this crate does no I/O and knows nothing of YAML,
//! OpenAPI documents or Rust syntax. Names here are neutral (the spec's own
//! names and PascalCase type names); emitters decide how to spell them.

mod version;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

pub use version::{ApiVersion, VersionRange, VersionSet};

/// An API: one version of it after normalisation, or all of its versions after merging.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Api {
    /// The API's title (`info.title`).
    pub title: String,
    /// The API's description, Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Every version this API holds, oldest first.
    pub versions: Vec<ApiVersion>,
    /// Base URLs the spec names (`servers` in OpenAPI 3, host + basePath in Swagger 2).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub servers: Vec<Server>,
    /// Security schemes by name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub security_schemes: BTreeMap<String, SecurityScheme>,
    /// Every named type, by name.
    pub types: BTreeMap<String, TypeDef>,
    /// Every operation, by operation id.
    pub operations: BTreeMap<String, Operation>,
}

impl Api {
    /// The set holding every version of this API.
    pub fn all_versions(&self) -> VersionSet {
        VersionSet::from_presence(&self.versions, |_| true)
    }

    /// The newest version.
    pub fn latest(&self) -> Option<&ApiVersion> {
        self.versions.last()
    }

    /// The operation with method and path template, if any.
    pub fn operation_at(&self, method: &str, path: &str) -> Option<&Operation> {
        self.operations
            .values()
            .find(|op| op.method.eq_ignore_ascii_case(method) && op.path == path)
    }

    /// A struct type's field, searching its shapes newest first.
    pub fn field(&self, type_name: &str, field: &str) -> Option<&Field> {
        self.types
            .get(type_name)?
            .shapes
            .iter()
            .rev()
            .find_map(|s| match &s.value {
                TypeShape::Struct(st) => st.fields.iter().find(|f| f.name == field),
                _ => None,
            })
    }
}

/// A value that holds in a set of versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Versioned<T> {
    /// Versions in which `value` holds.
    pub versions: VersionSet,
    /// The value itself.
    #[serde(flatten)]
    pub value: T,
}

impl<T> Versioned<T> {
    /// Wraps a value that holds in `versions`.
    pub fn new(versions: VersionSet, value: T) -> Self {
        Versioned { versions, value }
    }
}

/// Picks, from a list of versioned shapes, the one that holds in `v`.
pub fn shape_at<'a, T>(shapes: &'a [Versioned<T>], v: &ApiVersion) -> Option<&'a T> {
    shapes
        .iter()
        .find(|s| s.versions.contains(v))
        .map(|s| &s.value)
}

/// A description an item had in older versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FormerDescription {
    /// The versions in which it held.
    pub versions: VersionSet,
    /// The text; empty when the item had no description then.
    pub text: String,
}

/// The description an item had in version `v`: the older one that holds
/// there, else the current one. `None` when it had none.
pub fn description_at<'a>(
    current: Option<&'a String>,
    former: &'a [FormerDescription],
    v: &ApiVersion,
) -> Option<&'a str> {
    match former.iter().find(|d| d.versions.contains(v)) {
        Some(d) if d.text.is_empty() => None,
        Some(d) => Some(&d.text),
        None => current.map(String::as_str),
    }
}

/// A base URL of the API.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Server {
    /// URL template, possibly with `{variables}`.
    pub url: String,
    /// Description of the server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Variables of the template with their defaults.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub variables: BTreeMap<String, String>,
}

/// How a client proves who it is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecurityScheme {
    /// A key sent in a header, query parameter or cookie.
    ApiKey {
        /// Name of the header, parameter or cookie.
        name: String,
        /// Where the key goes.
        location: ParamLocation,
    },
    /// HTTP basic authentication.
    Basic,
    /// A bearer token in the `Authorization` header (also OAuth2 and OpenID Connect).
    Bearer,
}

/// A named type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TypeDef {
    /// PascalCase name, unique in the API (`HostConfig`, `ContainerCreateBody`).
    pub name: String,
    /// Versions in which the type exists.
    pub versions: VersionSet,
    /// Description, Markdown (from the newest version that has one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Older descriptions, with the versions in which each held, where they
    /// differ from `description` (an empty text: the item had none). Lets a
    /// report show description-only changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_descriptions: Vec<FormerDescription>,
    /// Where the type stands in the newest spec that has it, as a JSON pointer
    /// (`#/definitions/HostConfig`, `#/paths/~1containers~1create/post/...`).
    pub origin: String,
    /// The type's shape; more than one entry when the shape changed between versions.
    pub shapes: Vec<Versioned<TypeShape>>,
    /// Example values given by the spec for this type.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Versioned<Example>>,
}

/// An example value from a spec.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Example {
    /// JSON pointer of the example in its spec.
    pub pointer: String,
    /// The value.
    pub example: Value,
}

/// What a named type is.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeShape {
    /// An object with named fields.
    Struct(StructShape),
    /// A closed list of values in the spec (emitted open: unknown values are kept).
    Enum(EnumShape),
    /// Another name for a type reference (an array, a map, a scalar).
    Alias {
        /// The aliased type.
        target: TypeRef,
    },
    /// Exactly one (`one_of`) or at least one (`any_of`) of several types.
    OneOf(OneOfShape),
}

/// An object type.
#[derive(Clone, Debug, PartialEq, Default, Serialize, Deserialize)]
pub struct StructShape {
    /// Fields in the spec's order (`allOf` parts in order, then the type's own).
    pub fields: Vec<Field>,
    /// Type of extra properties (`additionalProperties`), if the object allows them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional: Option<TypeRef>,
}

/// A field of an object type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Field {
    /// The name on the wire (`AutoRemove`).
    pub name: String,
    /// Versions in which the field exists.
    pub versions: VersionSet,
    /// Description, Markdown (newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Older descriptions, with the versions in which each held, where they
    /// differ from `description` (an empty text: the item had none). Lets a
    /// report show description-only changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_descriptions: Vec<FormerDescription>,
    /// The field's shape; more than one entry when it changed between versions.
    pub shapes: Vec<Versioned<FieldShape>>,
}

/// The type and flags of a field in some versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FieldShape {
    /// The field's type.
    pub ty: TypeRef,
    /// The field must be present.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// The field may be `null` (`nullable`, `x-nullable`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub nullable: bool,
    /// Only sent by servers.
    #[serde(default, skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Only sent by clients.
    #[serde(default, skip_serializing_if = "is_false")]
    pub write_only: bool,
    /// Default value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
}

/// An enumeration type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumShape {
    /// The scalar the values are written as.
    pub base: Scalar,
    /// The listed values.
    pub values: Vec<EnumValue>,
}

/// One listed value of an enumeration.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EnumValue {
    /// The value on the wire.
    pub value: Value,
    /// Versions that list it.
    pub versions: VersionSet,
}

/// A union type.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OneOfShape {
    /// `anyOf` rather than `oneOf`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub any_of: bool,
    /// The alternatives.
    pub variants: Vec<TypeRef>,
    /// Property that names the alternative, if the spec gives one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub discriminator: Option<Discriminator>,
}

/// The discriminator of a union.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Discriminator {
    /// The property whose value names the alternative.
    pub property: String,
    /// Value → type name, where the spec maps them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub mapping: BTreeMap<String, String>,
}

/// A reference to a type, as used by fields, parameters and bodies.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TypeRef {
    /// A named type of [`Api::types`].
    Named {
        /// The type's name.
        name: String,
    },
    /// A scalar.
    Scalar {
        /// Which scalar.
        scalar: Scalar,
    },
    /// A list.
    Array {
        /// The element type.
        items: Box<TypeRef>,
    },
    /// A map from strings to values.
    Map {
        /// The value type.
        values: Box<TypeRef>,
    },
    /// Any JSON value: only where the spec really says free-form.
    Any,
}

impl TypeRef {
    /// A reference to the named type `name`.
    pub fn named(name: impl Into<String>) -> Self {
        TypeRef::Named { name: name.into() }
    }

    /// A scalar reference.
    pub fn scalar(scalar: Scalar) -> Self {
        TypeRef::Scalar { scalar }
    }

    /// The named type this reference mentions, looking through arrays and maps.
    pub fn named_inner(&self) -> Option<&str> {
        match self {
            TypeRef::Named { name } => Some(name),
            TypeRef::Array { items } => items.named_inner(),
            TypeRef::Map { values } => values.named_inner(),
            _ => None,
        }
    }
}

/// Scalars, from `type` and `format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scalar {
    /// Text.
    String,
    /// `true` / `false`.
    Boolean,
    /// `integer` with format `int8`.
    I8,
    /// `integer` with format `int16`.
    I16,
    /// `integer` with format `int32` or `int`.
    I32,
    /// `integer` with format `int64`, or with no format.
    I64,
    /// `integer` with format `uint8`.
    U8,
    /// `integer` with format `uint16`.
    U16,
    /// `integer` with format `uint32`.
    U32,
    /// `integer` with format `uint64`.
    U64,
    /// `number` with format `float`.
    F32,
    /// `number` with format `double`, or with no format.
    F64,
    /// `string` with format `date-time` (or Docker's `dateTime`).
    DateTime,
    /// `string` with format `date`.
    Date,
    /// `string` with format `uuid`.
    Uuid,
    /// `string` with format `byte`: base64 text.
    Base64,
    /// `string` with format `binary`, or Swagger's `file`: raw bytes.
    Binary,
}

/// An operation: one method on one path.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Operation {
    /// The operation id (`ContainerCreate`); made from method and path when the spec has none.
    pub id: String,
    /// Versions in which the operation exists.
    pub versions: VersionSet,
    /// HTTP method, upper case.
    pub method: String,
    /// Path template relative to the base path (`/containers/{id}/json`).
    pub path: String,
    /// The area (first tag), `Container`; `default` when untagged.
    pub tag: String,
    /// One-line summary.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
    /// Description, Markdown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Older descriptions, with the versions in which each held, where they
    /// differ from `description` (an empty text: the item had none). Lets a
    /// report show description-only changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_descriptions: Vec<FormerDescription>,
    /// Marked deprecated.
    #[serde(default, skip_serializing_if = "is_false")]
    pub deprecated: bool,
    /// Path, query, header and cookie parameters.
    pub parameters: Vec<Parameter>,
    /// The request body, if the operation takes one in some version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_body: Option<RequestBody>,
    /// Responses, by status.
    pub responses: Vec<Response>,
    /// The server may take over the connection (HTTP upgrade to a raw duplex
    /// stream, as Docker's attach and exec start do).
    #[serde(default, skip_serializing_if = "is_false")]
    pub hijack: bool,
    /// Names of the security schemes that apply (any one of them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub security: Vec<String>,
    /// Where the operation stands in the newest spec, as a JSON pointer.
    pub origin: String,
    /// Ids the same method and path had in older versions (Docker renamed
    /// `ContainerArchiveHead` to `ContainerArchiveInfo` in 1.28), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_ids: Vec<String>,
}

impl Operation {
    /// The path with parameter names blanked (`/containers/{}/json`): the
    /// identity of an endpoint across versions that rename its parameters.
    pub fn path_shape(&self) -> String {
        let mut out = String::with_capacity(self.path.len());
        let mut in_param = false;
        for c in self.path.chars() {
            match c {
                '{' => {
                    in_param = true;
                    out.push('{');
                }
                '}' => {
                    in_param = false;
                    out.push('}');
                }
                _ if in_param => {}
                _ => out.push(c),
            }
        }
        out
    }
}

/// Where a parameter is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ParamLocation {
    /// In the path template.
    Path,
    /// In the query string.
    Query,
    /// In a request header.
    Header,
    /// In a cookie.
    Cookie,
}

/// A non-body parameter.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Parameter {
    /// Name on the wire.
    pub name: String,
    /// Where it goes.
    pub location: ParamLocation,
    /// Versions in which it exists.
    pub versions: VersionSet,
    /// Description, Markdown (newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Older descriptions, with the versions in which each held, where they
    /// differ from `description` (an empty text: the item had none). Lets a
    /// report show description-only changes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub former_descriptions: Vec<FormerDescription>,
    /// Its shape; more than one entry when it changed between versions.
    pub shapes: Vec<Versioned<ParamShape>>,
}

/// The type and flags of a parameter in some versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ParamShape {
    /// The parameter's type; enums are named types.
    pub ty: TypeRef,
    /// Must be sent.
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
    /// Default the server applies when it is not sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Value>,
    /// How an array is written: `csv` (default), `ssv`, `tsv`, `pipes` or `multi`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collection_format: Option<String>,
    /// The value is JSON text (Docker's `filters`, `buildargs`, …), from `format: json`
    /// or a description that says so.
    #[serde(default, skip_serializing_if = "is_false")]
    pub json_encoded: bool,
}

/// How a body is encoded on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyKind {
    /// One JSON document.
    Json,
    /// A stream of JSON documents, one after another (progress, events).
    JsonStream,
    /// A raw byte stream (a TTY's output).
    RawStream,
    /// Docker's multiplexed stdout/stderr frames.
    MultiplexedStream,
    /// A tar archive.
    Tar,
    /// Opaque bytes.
    OctetStream,
    /// Plain text.
    Text,
    /// `application/x-www-form-urlencoded`.
    Form,
    /// `multipart/form-data`.
    Multipart,
    /// No body.
    Empty,
}

/// A request body.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RequestBody {
    /// Versions in which the operation takes a body.
    pub versions: VersionSet,
    /// Description, Markdown (newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its shape; more than one entry when it changed between versions.
    pub shapes: Vec<Versioned<BodyShape>>,
}

/// The encoding and type of a body in some versions.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BodyShape {
    /// How it is encoded.
    pub kind: BodyKind,
    /// Media types the spec lists for it, primary first.
    pub content_types: Vec<String>,
    /// The schema of a JSON, form or multipart body (of each item for a JSON stream).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<TypeRef>,
    /// Must be sent (request bodies only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub required: bool,
}

/// A response of an operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Response {
    /// Status code (`200`), a range (`4XX`) or `default`.
    pub status: String,
    /// Versions in which the operation documents this status.
    pub versions: VersionSet,
    /// Description (newest).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Its body; more than one entry when it changed between versions.
    pub shapes: Vec<Versioned<BodyShape>>,
    /// Response headers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<ResponseHeader>,
    /// Example bodies the spec gives.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Versioned<Example>>,
}

/// A documented response header.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResponseHeader {
    /// Header name.
    pub name: String,
    /// Versions that document it.
    pub versions: VersionSet,
    /// Its type.
    pub ty: TypeRef,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

fn is_false(b: &bool) -> bool {
    !*b
}
