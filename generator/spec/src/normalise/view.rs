//! One uniform, borrowed view of an `openapiv3` schema.
//!
//! `openapiv3` parses a schema either into a typed variant (`Type::Object`,
//! `Type::String`, …) or, when keywords mix, into `AnySchema`. The normaliser
//! reads both through [`SchemaView`] so each rule is written once.

use openapiv3::{
    AdditionalProperties, IntegerFormat, NumberFormat, ReferenceOr, Schema, SchemaData, SchemaKind,
    StringFormat, Type, VariantOrUnknownOrEmpty,
};
use serde_json::Value;

/// A schema or a `$ref` to one, whether boxed or not.
#[derive(Clone, Copy)]
pub enum SchemaRef<'a> {
    /// `$ref: "#/components/schemas/X"`.
    Ref(&'a str),
    /// An inline schema.
    Item(&'a Schema),
}

impl<'a> From<&'a ReferenceOr<Schema>> for SchemaRef<'a> {
    fn from(r: &'a ReferenceOr<Schema>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(s) => SchemaRef::Item(s),
        }
    }
}

impl<'a> From<&'a ReferenceOr<Box<Schema>>> for SchemaRef<'a> {
    fn from(r: &'a ReferenceOr<Box<Schema>>) -> Self {
        match r {
            ReferenceOr::Reference { reference } => SchemaRef::Ref(reference),
            ReferenceOr::Item(s) => SchemaRef::Item(s),
        }
    }
}

/// The keywords of one schema, whichever way `openapiv3` parsed it.
pub struct SchemaView<'a> {
    /// Description, nullable, example, title, extensions…
    pub data: &'a SchemaData,
    /// `type`.
    pub typ: Option<&'a str>,
    /// `format`.
    pub format: Option<String>,
    /// `properties`, in order.
    pub properties: Vec<(&'a str, SchemaRef<'a>)>,
    /// `required`.
    pub required: &'a [String],
    /// `additionalProperties`.
    pub additional: Option<&'a AdditionalProperties>,
    /// `items`.
    pub items: Option<SchemaRef<'a>>,
    /// `enum`, without `null` members.
    pub enumeration: Vec<Value>,
    /// `allOf`.
    pub all_of: &'a [ReferenceOr<Schema>],
    /// `oneOf`.
    pub one_of: &'a [ReferenceOr<Schema>],
    /// `anyOf`.
    pub any_of: &'a [ReferenceOr<Schema>],
}

fn format_label<T: std::fmt::Debug>(
    f: &VariantOrUnknownOrEmpty<T>,
    known: impl Fn(&T) -> &'static str,
) -> Option<String> {
    match f {
        VariantOrUnknownOrEmpty::Item(t) => Some(known(t).to_string()),
        VariantOrUnknownOrEmpty::Unknown(s) => Some(s.clone()),
        VariantOrUnknownOrEmpty::Empty => None,
    }
}

impl<'a> SchemaView<'a> {
    /// Reads `schema`.
    pub fn of(schema: &'a Schema) -> Self {
        let mut view = SchemaView {
            data: &schema.schema_data,
            typ: None,
            format: None,
            properties: Vec::new(),
            required: &[],
            additional: None,
            items: None,
            enumeration: Vec::new(),
            all_of: &[],
            one_of: &[],
            any_of: &[],
        };
        match &schema.schema_kind {
            SchemaKind::Type(Type::String(s)) => {
                view.typ = Some("string");
                view.format = format_label(&s.format, |f| match f {
                    StringFormat::Date => "date",
                    StringFormat::DateTime => "date-time",
                    StringFormat::Password => "password",
                    StringFormat::Byte => "byte",
                    StringFormat::Binary => "binary",
                });
                view.enumeration = s
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::String(v.clone()))
                    .collect();
            }
            SchemaKind::Type(Type::Integer(i)) => {
                view.typ = Some("integer");
                view.format = format_label(&i.format, |f| match f {
                    IntegerFormat::Int32 => "int32",
                    IntegerFormat::Int64 => "int64",
                });
                view.enumeration = i
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::from(*v))
                    .collect();
            }
            SchemaKind::Type(Type::Number(n)) => {
                view.typ = Some("number");
                view.format = format_label(&n.format, |f| match f {
                    NumberFormat::Float => "float",
                    NumberFormat::Double => "double",
                });
                view.enumeration = n
                    .enumeration
                    .iter()
                    .flatten()
                    .map(|v| Value::from(*v))
                    .collect();
            }
            SchemaKind::Type(Type::Boolean(_)) => view.typ = Some("boolean"),
            SchemaKind::Type(Type::Object(o)) => {
                view.typ = Some("object");
                view.properties = o
                    .properties
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.into()))
                    .collect();
                view.required = &o.required;
                view.additional = o.additional_properties.as_ref();
            }
            SchemaKind::Type(Type::Array(a)) => {
                view.typ = Some("array");
                view.items = a.items.as_ref().map(Into::into);
            }
            SchemaKind::OneOf { one_of } => view.one_of = one_of,
            SchemaKind::AllOf { all_of } => view.all_of = all_of,
            SchemaKind::AnyOf { any_of } => view.any_of = any_of,
            SchemaKind::Not { .. } => {}
            SchemaKind::Any(a) => {
                view.typ = a.typ.as_deref();
                view.format = a.format.clone();
                view.properties = a
                    .properties
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.into()))
                    .collect();
                view.required = &a.required;
                view.additional = a.additional_properties.as_ref();
                view.items = a.items.as_ref().map(Into::into);
                view.enumeration = a
                    .enumeration
                    .iter()
                    .filter(|v| !v.is_null())
                    .cloned()
                    .collect();
                view.all_of = &a.all_of;
                view.one_of = &a.one_of;
                view.any_of = &a.any_of;
            }
        }
        view
    }

    /// Whether the schema describes an object with named properties.
    pub fn is_struct(&self) -> bool {
        !self.properties.is_empty()
            || (self.typ == Some("object")
                && matches!(self.additional, Some(AdditionalProperties::Any(false))))
    }
}
