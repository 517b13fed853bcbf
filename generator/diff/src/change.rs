//! The report's vocabulary: what changed ([`ChangeKind`]), where ([`Location`]),
//! on which side of the exchange ([`Side`]), and one reported [`Change`].

use std::fmt;

use drydock_ir::{Operation, Scalar, TypeRef};
use serde::Serialize;
use serde_json::Value;

use crate::rules::{self, Impact};

/// What changed. Required-ness, nullability and status classes are part of the
/// kind so that the breaking rules ([`crate::rules::impact`]) depend on the kind
/// and the side alone.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeKind {
    /// An operation appeared.
    OperationAdded,
    /// An operation disappeared.
    OperationRemoved,
    /// A parameter the client may omit appeared.
    OptionalParameterAdded,
    /// A parameter the client must send appeared.
    RequiredParameterAdded,
    /// A parameter disappeared.
    ParameterRemoved,
    /// A parameter's type changed.
    ParameterTypeChanged,
    /// A parameter became required.
    ParameterBecameRequired,
    /// A parameter became optional.
    ParameterBecameOptional,
    /// A parameter's default changed.
    ParameterDefaultChanged,
    /// An optional request body appeared.
    OptionalRequestBodyAdded,
    /// A required request body appeared.
    RequiredRequestBodyAdded,
    /// The request body disappeared.
    RequestBodyRemoved,
    /// The request body became required.
    RequestBodyBecameRequired,
    /// The request body became optional.
    RequestBodyBecameOptional,
    /// A body's encoding changed (JSON to a stream, tar to bytes, …).
    BodyKindChanged,
    /// A body's schema changed to another type.
    BodyTypeChanged,
    /// A body lists a new media type.
    ContentTypeAdded,
    /// A body no longer lists a media type.
    ContentTypeRemoved,
    /// A 1xx or 2xx status appeared.
    SuccessStatusAdded,
    /// A 1xx or 2xx status disappeared.
    SuccessStatusRemoved,
    /// An error status (3xx, 4xx, 5xx, `default`) appeared.
    ErrorStatusAdded,
    /// An error status disappeared.
    ErrorStatusRemoved,
    /// A documented response header appeared.
    ResponseHeaderAdded,
    /// A documented response header disappeared.
    ResponseHeaderRemoved,
    /// An optional field appeared in a named type.
    OptionalFieldAdded,
    /// A required field appeared in a named type.
    RequiredFieldAdded,
    /// A field disappeared from a named type.
    FieldRemoved,
    /// A field's type changed.
    FieldTypeChanged,
    /// A field became required.
    FieldBecameRequired,
    /// A field became optional.
    FieldBecameOptional,
    /// A field may now be `null`.
    FieldBecameNullable,
    /// A field may no longer be `null`.
    FieldBecameNonNullable,
    /// A field's default changed.
    FieldDefaultChanged,
    /// An enumeration lists a new value.
    EnumValueAdded,
    /// An enumeration no longer lists a value.
    EnumValueRemoved,
    /// A field's or parameter's type now accepts fewer values (`string` to an
    /// enumeration, `int64` to `int32`).
    TypeNarrowed,
    /// A field's or parameter's type now accepts more values (an enumeration
    /// to `string`, `int32` to `int64`, `date-time` to `string`).
    TypeWidened,
    /// A type reference now names another type: one that carries the same
    /// JSON, or a renamed type whose own changes are reported one by one.
    TypeRenamed,
    /// A named type changed in a way the kinds above do not name: from an
    /// object to an enumeration, an alias's target, a union's alternatives,
    /// an object's extra-properties type.
    TypeChanged,
    /// Only the description of an operation, parameter, type or field
    /// changed; reported only with [`crate::DiffOptions::descriptions`].
    DescriptionChanged,
}

impl ChangeKind {
    /// The kind as written in the JSON report (`optional_field_added`).
    pub fn as_str(self) -> &'static str {
        use ChangeKind::*;
        match self {
            OperationAdded => "operation_added",
            OperationRemoved => "operation_removed",
            OptionalParameterAdded => "optional_parameter_added",
            RequiredParameterAdded => "required_parameter_added",
            ParameterRemoved => "parameter_removed",
            ParameterTypeChanged => "parameter_type_changed",
            ParameterBecameRequired => "parameter_became_required",
            ParameterBecameOptional => "parameter_became_optional",
            ParameterDefaultChanged => "parameter_default_changed",
            OptionalRequestBodyAdded => "optional_request_body_added",
            RequiredRequestBodyAdded => "required_request_body_added",
            RequestBodyRemoved => "request_body_removed",
            RequestBodyBecameRequired => "request_body_became_required",
            RequestBodyBecameOptional => "request_body_became_optional",
            BodyKindChanged => "body_kind_changed",
            BodyTypeChanged => "body_type_changed",
            ContentTypeAdded => "content_type_added",
            ContentTypeRemoved => "content_type_removed",
            SuccessStatusAdded => "success_status_added",
            SuccessStatusRemoved => "success_status_removed",
            ErrorStatusAdded => "error_status_added",
            ErrorStatusRemoved => "error_status_removed",
            ResponseHeaderAdded => "response_header_added",
            ResponseHeaderRemoved => "response_header_removed",
            OptionalFieldAdded => "optional_field_added",
            RequiredFieldAdded => "required_field_added",
            FieldRemoved => "field_removed",
            FieldTypeChanged => "field_type_changed",
            FieldBecameRequired => "field_became_required",
            FieldBecameOptional => "field_became_optional",
            FieldBecameNullable => "field_became_nullable",
            FieldBecameNonNullable => "field_became_non_nullable",
            FieldDefaultChanged => "field_default_changed",
            EnumValueAdded => "enum_value_added",
            EnumValueRemoved => "enum_value_removed",
            TypeNarrowed => "type_narrowed",
            TypeWidened => "type_widened",
            TypeRenamed => "type_renamed",
            TypeChanged => "type_changed",
            DescriptionChanged => "description_changed",
        }
    }

    /// A short phrase for the Markdown and HTML reports (`optional field added`).
    pub fn phrase(self) -> String {
        self.as_str().replace('_', " ")
    }
}

impl fmt::Display for ChangeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which part of the exchange a change touches; the breaking rules differ by side.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    /// The operation as a whole (it exists or not).
    Operation,
    /// What the client sends: parameters, the request body and the types it reaches.
    Request,
    /// What the server sends: statuses, headers, response bodies and the types they reach.
    Response,
}

/// An operation, as reports name it.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct OperationRef {
    /// HTTP method, upper case.
    pub method: String,
    /// Path template.
    pub path: String,
    /// Operation id.
    pub id: String,
}

impl OperationRef {
    /// The reference to `op`.
    pub fn of(op: &Operation) -> Self {
        OperationRef {
            method: op.method.clone(),
            path: op.path.clone(),
            id: op.id.clone(),
        }
    }
}

impl fmt::Display for OperationRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.path)
    }
}

/// Where a change happens: in an operation (and which part of it) or in a named type.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Location {
    /// The operation, for changes of an operation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<OperationRef>,
    /// The parameter, written `location name` (`query force`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    /// `request` for the request body, or the response's status.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// The response header.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub header: Option<String>,
    /// The named type, for changes of a type.
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    pub type_name: Option<String>,
    /// The field of the named type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// For a change of a named type: where it sits in the first affected
    /// operation (`response 200: RootFS.BaseLayer`, `request body: HostConfig.Mounts[]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

impl Location {
    /// A location in an operation.
    pub fn in_operation(op: &Operation) -> Self {
        Location {
            operation: Some(OperationRef::of(op)),
            ..Location::default()
        }
    }

    /// A location in a named type, optionally at one of its fields.
    pub fn in_type(type_name: &str, field: Option<&str>) -> Self {
        Location {
            type_name: Some(type_name.to_string()),
            field: field.map(str::to_string),
            ..Location::default()
        }
    }
}

impl fmt::Display for Location {
    /// `POST /containers/create query name`, `GET /info response 200`, `HostConfig.Init`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut parts: Vec<String> = Vec::new();
        if let Some(op) = &self.operation {
            parts.push(op.to_string());
        }
        if let Some(p) = &self.parameter {
            parts.push(format!("parameter {p}"));
        }
        if let Some(b) = &self.body {
            parts.push(if b == "request" {
                "request body".to_string()
            } else {
                format!("response {b}")
            });
        }
        if let Some(h) = &self.header {
            parts.push(format!("header {h}"));
        }
        match (&self.type_name, &self.field) {
            (Some(t), Some(field)) => parts.push(format!("{t}.{field}")),
            (Some(t), None) => parts.push(t.clone()),
            _ => {}
        }
        f.write_str(&parts.join(" "))
    }
}

/// One change between two versions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// What changed.
    pub kind: ChangeKind,
    /// The section it belongs to: the operation's tag, or for a named type the
    /// tag most of the operations it reaches share.
    pub area: String,
    /// Where it changed.
    pub location: Location,
    /// The value before (a type, a flag, a default, an enum value), if any.
    pub old: Option<Value>,
    /// The value after, if any.
    pub new: Option<Value>,
    /// Sides of the exchange the change touches. A named type reached both by
    /// requests and responses touches both.
    pub sides: Vec<Side>,
    /// A client written for the old version may fail against a server of the new one.
    pub breaks_clients: bool,
    /// A server written for the old version must change to serve clients of the new one.
    pub breaks_servers: bool,
    /// Operations the change reaches, directly or through named types.
    pub affected_operations: Vec<OperationRef>,
    /// Description of the item, when asked for with [`crate::DiffOptions::descriptions`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Change {
    /// A change whose breaking flags follow from its kind and sides.
    pub fn new(
        kind: ChangeKind,
        location: Location,
        sides: Vec<Side>,
        old: Option<Value>,
        new: Option<Value>,
    ) -> Self {
        let impact = sides
            .iter()
            .map(|side| rules::impact(kind, *side))
            .fold(Impact::NONE, Impact::or);
        Change {
            kind,
            area: String::new(),
            location,
            old,
            new,
            sides,
            breaks_clients: impact.breaks_clients,
            breaks_servers: impact.breaks_servers,
            affected_operations: Vec::new(),
            description: None,
        }
    }

    /// Whether the change breaks clients or servers.
    pub fn is_breaking(&self) -> bool {
        self.breaks_clients || self.breaks_servers
    }
}

/// How a type reference reads in reports: `string`, `integer (int64)`,
/// `[ Mount ]`, `map of string`, `HostConfig`, `any`.
pub fn type_label(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named { name } => name.clone(),
        TypeRef::Scalar { scalar } => scalar_label(*scalar).to_string(),
        TypeRef::Array { items } => format!("[ {} ]", type_label(items)),
        TypeRef::Map { values } => format!("map of {}", type_label(values)),
        TypeRef::Any => "any".to_string(),
    }
}

fn scalar_label(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "string",
        Scalar::Boolean => "boolean",
        Scalar::I8 => "integer (int8)",
        Scalar::I16 => "integer (int16)",
        Scalar::I32 => "integer (int32)",
        Scalar::I64 => "integer (int64)",
        Scalar::U8 => "integer (uint8)",
        Scalar::U16 => "integer (uint16)",
        Scalar::U32 => "integer (uint32)",
        Scalar::U64 => "integer (uint64)",
        Scalar::F32 => "number (float)",
        Scalar::F64 => "number (double)",
        Scalar::DateTime => "string (date-time)",
        Scalar::Date => "string (date)",
        Scalar::Uuid => "string (uuid)",
        Scalar::Base64 => "string (byte)",
        Scalar::Binary => "string (binary)",
    }
}
