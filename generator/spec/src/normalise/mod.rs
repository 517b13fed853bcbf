//! Normalise one OpenAPI 3.0 document into a single-version [`Api`].
//!
//! Every schema becomes either a named type or an inline [`TypeRef`]. Inline
//! objects, enums and unions are *hoisted* into named types under names from one
//! naming rule, in this order of precedence: the schema's `title`; then the
//! parent's name and the field's (`ContainerState` + `Health` →
//! `ContainerStateHealth`, array items add `Item`, map values add `Value`); then
//! the operation's id and the role (`ContainerCreate` + `Body`,
//! `ImageHistory` + `Response`, `ImageList` + a parameter's name). A name already
//! taken gets the first free numeric suffix; that happens in one place,
//! [`Normaliser::claim_name`]. `$ref`s become references to named types and
//! `allOf` parts are flattened into one struct.
//!
//! A component schema with an `x-drydock-name` extension is named by it: an
//! overlay gives a definition that a later spec renamed (Docker's `Config`,
//! `ContainerConfig` from 1.30) its later name, so merging sees one type.
//!
//! Docker specifics come only through vendor extensions that the project's
//! overlays add with their evidence: `x-drydock-stream` on an operation
//! (`json`, `multiplexed` or `raw`: its success body is a stream of that kind)
//! and `x-drydock-hijack` (the operation may take over the connection). A
//! documented `101` alone does not mark hijacking: Docker's specs document
//! `101` on log endpoints that never upgrade.

mod view;

use std::collections::{BTreeMap, BTreeSet};

use drydock_ir::{
    Api, ApiVersion, BodyKind, BodyShape, Discriminator, EnumShape, EnumValue, Example, Field,
    FieldShape, OneOfShape, Operation, ParamLocation, ParamShape, Parameter, RequestBody, Response,
    ResponseHeader, Scalar, SecurityScheme, Server, StructShape, TypeDef, TypeRef, TypeShape,
    VersionSet, Versioned,
};
use heck::ToUpperCamelCase;
use openapiv3::{AdditionalProperties, MediaType, OpenAPI, ReferenceOr, Schema};
use serde_json::Value;

use crate::error::{Result, SpecError, pointer_token};
use view::{SchemaRef, SchemaView};

/// Something the normaliser handled with a fallback, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning {
    /// JSON pointer of the construct.
    pub pointer: String,
    /// What was done.
    pub message: String,
}

/// A normalised document: the single-version API and the warnings met on the way.
#[derive(Clone, Debug)]
pub struct Normalised {
    /// The API, holding one version.
    pub api: Api,
    /// Fallbacks taken.
    pub warnings: Vec<Warning>,
}

/// Normalises `doc` (read from `file`) as version `version`.
pub fn normalise(file: &str, version: ApiVersion, doc: &OpenAPI) -> Result<Normalised> {
    let mut n = Normaliser {
        file,
        doc,
        versions: VersionSet::single(version.clone()),
        types: BTreeMap::new(),
        taken: BTreeSet::new(),
        component_names: BTreeMap::new(),
        building: BTreeSet::new(),
        warnings: Vec::new(),
    };
    n.name_components();
    n.build_components()?;
    let operations = n.operations()?;
    let api = Api {
        title: doc.info.title.clone(),
        description: doc.info.description.clone(),
        versions: vec![version],
        servers: servers(doc),
        security_schemes: n.security_schemes(),
        types: n.types,
        operations,
    };
    Ok(Normalised {
        api,
        warnings: n.warnings,
    })
}

fn servers(doc: &OpenAPI) -> Vec<Server> {
    doc.servers
        .iter()
        .map(|s| Server {
            url: s.url.clone(),
            description: s.description.clone(),
            variables: s
                .variables
                .iter()
                .flatten()
                .map(|(k, v)| (k.clone(), v.default.clone()))
                .collect(),
        })
        .collect()
}

const COMPONENT_SCHEMAS: &str = "#/components/schemas/";

struct Normaliser<'a> {
    file: &'a str,
    doc: &'a OpenAPI,
    versions: VersionSet,
    types: BTreeMap<String, TypeDef>,
    taken: BTreeSet<String>,
    /// Component key → type name.
    component_names: BTreeMap<String, String>,
    /// Components whose type is being built (cycle guard for `allOf`).
    building: BTreeSet<String>,
    warnings: Vec<Warning>,
}

/// Where a schema stands and what to call what is hoisted out of it.
#[derive(Clone)]
struct Place {
    /// Name for a type hoisted from here.
    name: String,
    /// JSON pointer (without the leading `#`).
    pointer: String,
}

impl Place {
    fn child(&self, name_part: &str, pointer_part: &str) -> Place {
        Place {
            name: format!("{}{}", self.name, name_part.to_upper_camel_case()),
            pointer: format!("{}/{}", self.pointer, pointer_part),
        }
    }
}

impl<'a> Normaliser<'a> {
    fn warn(&mut self, pointer: &str, message: impl Into<String>) {
        self.warnings.push(Warning {
            pointer: pointer.to_string(),
            message: message.into(),
        });
    }

    fn invalid(&self, pointer: &str, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            file: self.file.to_string(),
            pointer: pointer.to_string(),
            message: message.into(),
        }
    }

    /// Claims a type name: `wanted` in PascalCase, or with the first free numeric suffix.
    fn claim_name(&mut self, wanted: &str) -> String {
        let mut base = wanted.to_upper_camel_case();
        if base.is_empty() || !base.starts_with(|c: char| c.is_ascii_alphabetic()) {
            base = format!("Type{base}");
        }
        let mut name = base.clone();
        let mut n = 2;
        while self.taken.contains(&name) {
            name = format!("{base}{n}");
            n += 1;
        }
        self.taken.insert(name.clone());
        name
    }

    /// Names every component schema: its `x-drydock-name` when an overlay gave
    /// one (a definition the spec renamed in a later version keeps one identity
    /// across versions), else its key.
    fn name_components(&mut self) {
        let doc = self.doc;
        let named: Vec<(String, String)> = doc
            .components
            .iter()
            .flat_map(|c| c.schemas.iter())
            .map(|(key, schema)| {
                let wanted = match schema {
                    ReferenceOr::Item(s) => s
                        .schema_data
                        .extensions
                        .get("x-drydock-name")
                        .and_then(Value::as_str)
                        .unwrap_or(key),
                    ReferenceOr::Reference { .. } => key,
                };
                (key.clone(), wanted.to_string())
            })
            .collect();
        // Renamed components claim their names first, so the key they take
        // over (if another component had it) is the one that gets a suffix.
        let (renamed, plain): (Vec<_>, Vec<_>) = named.into_iter().partition(|(k, w)| k != w);
        for (key, wanted) in renamed.into_iter().chain(plain) {
            let name = self.claim_name(&wanted);
            self.component_names.insert(key, name);
        }
    }

    fn build_components(&mut self) -> Result<()> {
        let keys: Vec<String> = self.component_names.keys().cloned().collect();
        for key in keys {
            self.build_component(&key)?;
        }
        Ok(())
    }

    /// Builds the named type of component `key` once; returns its name.
    fn build_component(&mut self, key: &str) -> Result<String> {
        let name = self.component_names[key].clone();
        if self.types.contains_key(&name) {
            return Ok(name);
        }
        let pointer = format!("/components/schemas/{}", pointer_token(key));
        if !self.building.insert(key.to_string()) {
            return Err(SpecError::Unsupported {
                file: self.file.to_string(),
                pointer,
                construct: "a schema that includes itself through allOf".into(),
            });
        }
        let schema = self
            .doc
            .components
            .as_ref()
            .and_then(|c| c.schemas.get(key));
        let result = match schema {
            Some(ReferenceOr::Item(schema)) => {
                let place = Place {
                    name: name.clone(),
                    pointer,
                };
                self.define(&name, &place, schema)
            }
            Some(ReferenceOr::Reference { reference }) => {
                let target = self.resolve_ref(reference, &pointer)?;
                let def = TypeDef {
                    name: name.clone(),
                    versions: self.versions.clone(),
                    description: None,
                    origin: format!("#{pointer}"),
                    shapes: vec![Versioned::new(
                        self.versions.clone(),
                        TypeShape::Alias { target },
                    )],
                    examples: Vec::new(),
                    former_descriptions: Vec::new(),
                };
                self.types.insert(name.clone(), def);
                Ok(())
            }
            None => Err(self.invalid(&pointer, "component schema vanished")),
        };
        self.building.remove(key);
        result.map(|()| name)
    }

    /// Resolves a `$ref` to a component schema into a named type reference.
    fn resolve_ref(&mut self, reference: &str, pointer: &str) -> Result<TypeRef> {
        let key = self.schema_key(reference, pointer)?;
        Ok(TypeRef::named(self.component_names[&key].clone()))
    }

    /// The component key a `$ref` to `#/components/schemas/…` names.
    fn schema_key(&self, reference: &str, pointer: &str) -> Result<String> {
        reference
            .strip_prefix(COMPONENT_SCHEMAS)
            .map(unescape_token)
            .filter(|k| self.component_names.contains_key(k))
            .ok_or_else(|| SpecError::UnresolvedRef {
                file: self.file.to_string(),
                pointer: pointer.to_string(),
                reference: reference.to_string(),
            })
    }

    /// Resolves a `$ref` to `#/components/<kind>/<key>` (parameters, request
    /// bodies, responses) into the item and its JSON pointer.
    fn component<T>(
        &self,
        reference: &str,
        kind: &str,
        pointer: &str,
        items: impl Fn(&'a openapiv3::Components) -> &'a indexmap::IndexMap<String, ReferenceOr<T>>,
    ) -> Result<(&'a T, String)> {
        let key = reference
            .strip_prefix(&format!("#/components/{kind}/"))
            .map(unescape_token);
        let doc: &'a OpenAPI = self.doc;
        let found = key.as_ref().and_then(|k| {
            doc.components
                .as_ref()
                .and_then(|c| items(c).get(k))
                .and_then(ReferenceOr::as_item)
        });
        match (found, key) {
            (Some(item), Some(key)) => {
                Ok((item, format!("/components/{kind}/{}", pointer_token(&key))))
            }
            _ => Err(SpecError::UnresolvedRef {
                file: self.file.to_string(),
                pointer: pointer.to_string(),
                reference: reference.to_string(),
            }),
        }
    }

    /// Defines the named type `name` from `schema` standing at `place`.
    fn define(&mut self, name: &str, place: &Place, schema: &Schema) -> Result<()> {
        let view = SchemaView::of(schema);
        let shape = self.shape(place, &view)?;
        let examples = view
            .data
            .example
            .iter()
            .map(|e| {
                Versioned::new(
                    self.versions.clone(),
                    Example {
                        pointer: format!("{}/example", place.pointer),
                        example: e.clone(),
                    },
                )
            })
            .collect();
        let def = TypeDef {
            name: name.to_string(),
            versions: self.versions.clone(),
            description: view.data.description.clone(),
            origin: format!("#{}", place.pointer),
            shapes: vec![Versioned::new(self.versions.clone(), shape)],
            examples,
            former_descriptions: Vec::new(),
        };
        self.types.insert(name.to_string(), def);
        Ok(())
    }

    /// The shape of a named type.
    fn shape(&mut self, place: &Place, view: &SchemaView<'_>) -> Result<TypeShape> {
        if !view.all_of.is_empty() {
            if view.all_of.len() == 1 && view.properties.is_empty() {
                let target =
                    self.type_ref((&view.all_of[0]).into(), &place.child("", "allOf/0"))?;
                return Ok(TypeShape::Alias { target });
            }
            return Ok(TypeShape::Struct(self.struct_shape(place, view)?));
        }
        if !view.one_of.is_empty() || !view.any_of.is_empty() {
            let (parts, any_of, key) = if view.one_of.is_empty() {
                (view.any_of, true, "anyOf")
            } else {
                (view.one_of, false, "oneOf")
            };
            let mut variants = Vec::new();
            for (i, part) in parts.iter().enumerate() {
                let child = Place {
                    name: format!("{}Variant{}", place.name, i + 1),
                    pointer: format!("{}/{key}/{i}", place.pointer),
                };
                variants.push(self.type_ref(part.into(), &child)?);
            }
            let discriminator = match &view.data.discriminator {
                Some(d) => {
                    let mut mapping = BTreeMap::new();
                    for (value, reference) in &d.mapping {
                        if let TypeRef::Named { name } =
                            self.resolve_ref(reference, &place.pointer)?
                        {
                            mapping.insert(value.clone(), name);
                        }
                    }
                    Some(Discriminator {
                        property: d.property_name.clone(),
                        mapping,
                    })
                }
                None => None,
            };
            return Ok(TypeShape::OneOf(OneOfShape {
                any_of,
                variants,
                discriminator,
            }));
        }
        if let Some(base) = enum_base(view).filter(|_| !view.enumeration.is_empty()) {
            let values = view
                .enumeration
                .iter()
                .filter(|v| enum_value_fits(base, v))
                .map(|v| EnumValue {
                    value: v.clone(),
                    versions: self.versions.clone(),
                })
                .collect();
            return Ok(TypeShape::Enum(EnumShape { base, values }));
        }
        if view.is_struct() {
            return Ok(TypeShape::Struct(self.struct_shape(place, view)?));
        }
        let target = self.plain_ref(place, view)?;
        Ok(TypeShape::Alias { target })
    }

    /// The fields of an object schema, its `allOf` parts flattened in order.
    fn struct_shape(&mut self, place: &Place, view: &SchemaView<'_>) -> Result<StructShape> {
        let mut shape = StructShape::default();
        let mut required: BTreeSet<String> = view.required.iter().cloned().collect();
        for (i, part) in view.all_of.iter().enumerate() {
            let part_pointer = format!("{}/allOf/{i}", place.pointer);
            match part {
                ReferenceOr::Reference { reference } => {
                    let key = self.schema_key(reference, &part_pointer)?;
                    let name = self.build_component(&key)?;
                    let part_shape = self
                        .types
                        .get(&name)
                        .and_then(|t| t.shapes.first())
                        .map(|s| s.value.clone());
                    match part_shape {
                        Some(TypeShape::Struct(s)) => {
                            for f in s.fields {
                                push_field(&mut shape.fields, f);
                            }
                            if s.additional.is_some() {
                                shape.additional = s.additional;
                            }
                        }
                        Some(TypeShape::Alias { target: TypeRef::Map { values } }) => {
                            shape.additional = Some(*values);
                        }
                        _ => self.warn(
                            &part_pointer,
                            format!("allOf part `{name}` is not an object; its constraints are not merged"),
                        ),
                    }
                }
                ReferenceOr::Item(schema) => {
                    let part_view = SchemaView::of(schema);
                    let part_place = Place {
                        name: place.name.clone(),
                        pointer: part_pointer,
                    };
                    let part = self.struct_shape(&part_place, &part_view)?;
                    required.extend(part_view.required.iter().cloned());
                    for f in part.fields {
                        push_field(&mut shape.fields, f);
                    }
                    if part.additional.is_some() {
                        shape.additional = part.additional;
                    }
                }
            }
        }
        for (prop, sref) in &view.properties {
            let child = place.child(prop, &format!("properties/{}", pointer_token(prop)));
            let field = self.field(prop, sref, &child, required.contains(*prop))?;
            push_field(&mut shape.fields, field);
        }
        // Parts flattened above bring their own `required`; the parent's list can add more.
        for f in &mut shape.fields {
            if required.contains(&f.name) {
                for s in &mut f.shapes {
                    s.value.required = true;
                }
            }
        }
        match view.additional {
            Some(AdditionalProperties::Any(true)) => shape.additional = Some(TypeRef::Any),
            Some(AdditionalProperties::Schema(s)) => {
                let child = place.child("Value", "additionalProperties");
                shape.additional = Some(self.type_ref(s.as_ref().into(), &child)?);
            }
            Some(AdditionalProperties::Any(false)) | None => {}
        }
        Ok(shape)
    }

    fn field(
        &mut self,
        name: &str,
        sref: &SchemaRef<'_>,
        place: &Place,
        required: bool,
    ) -> Result<Field> {
        let ty = self.type_ref(*sref, place)?;
        let (description, nullable, read_only, write_only, default) = match sref {
            SchemaRef::Item(s) => {
                let d = &s.schema_data;
                (
                    d.description.clone(),
                    d.nullable,
                    d.read_only,
                    d.write_only,
                    d.default.clone(),
                )
            }
            SchemaRef::Ref(_) => (None, false, false, false, None),
        };
        Ok(Field {
            name: name.to_string(),
            versions: self.versions.clone(),
            description,
            former_descriptions: Vec::new(),
            shapes: vec![Versioned::new(
                self.versions.clone(),
                FieldShape {
                    ty,
                    required,
                    nullable,
                    read_only,
                    write_only,
                    default,
                },
            )],
        })
    }

    /// How a use of a schema is typed; objects, enums and unions are hoisted.
    fn type_ref(&mut self, sref: SchemaRef<'_>, place: &Place) -> Result<TypeRef> {
        let schema = match sref {
            SchemaRef::Ref(reference) => return self.resolve_ref(reference, &place.pointer),
            SchemaRef::Item(s) => s,
        };
        let view = SchemaView::of(schema);
        if !view.all_of.is_empty() {
            if view.all_of.len() == 1 && view.properties.is_empty() {
                let child = Place {
                    name: place.name.clone(),
                    pointer: format!("{}/allOf/0", place.pointer),
                };
                return self.type_ref((&view.all_of[0]).into(), &child);
            }
            return self.hoist(place, schema);
        }
        let alternatives = if view.one_of.is_empty() {
            view.any_of
        } else {
            view.one_of
        };
        if alternatives.len() == 1 {
            let key = if view.one_of.is_empty() {
                "anyOf"
            } else {
                "oneOf"
            };
            let child = Place {
                name: place.name.clone(),
                pointer: format!("{}/{key}/0", place.pointer),
            };
            return self.type_ref((&alternatives[0]).into(), &child);
        }
        if !alternatives.is_empty() || view.is_struct() {
            return self.hoist(place, schema);
        }
        if !view.enumeration.is_empty() && enum_base(&view).is_some() {
            return self.hoist(place, schema);
        }
        self.plain_ref(place, &view)
    }

    /// Arrays, maps, scalars and free-form values: the shapes that are never hoisted.
    fn plain_ref(&mut self, place: &Place, view: &SchemaView<'_>) -> Result<TypeRef> {
        if view.typ == Some("array") || view.items.is_some() {
            let items = match view.items {
                Some(items) => self.type_ref(items, &place.child("Item", "items"))?,
                None => TypeRef::Any,
            };
            return Ok(TypeRef::Array {
                items: Box::new(items),
            });
        }
        // `additionalProperties` makes a map only of an object or an untyped schema: real
        // specs put `additionalProperties: true` on strings and integers too.
        if view.typ == Some("object") || (view.typ.is_none() && view.additional.is_some()) {
            let values = match view.additional {
                Some(AdditionalProperties::Schema(s)) => self.type_ref(
                    s.as_ref().into(),
                    &place.child("Value", "additionalProperties"),
                )?,
                _ => TypeRef::Any,
            };
            return Ok(TypeRef::Map {
                values: Box::new(values),
            });
        }
        match view.typ {
            Some(typ) => match scalar(typ, view.format.as_deref()) {
                Some(scalar) => Ok(TypeRef::scalar(scalar)),
                None => {
                    self.warn(
                        &place.pointer,
                        format!("unknown type `{typ}`; kept as any JSON value"),
                    );
                    Ok(TypeRef::Any)
                }
            },
            None => Ok(TypeRef::Any),
        }
    }

    /// Hoists an inline schema into a named type; the title wins over the place's name.
    fn hoist(&mut self, place: &Place, schema: &Schema) -> Result<TypeRef> {
        let wanted = schema
            .schema_data
            .title
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .unwrap_or(&place.name)
            .to_string();
        let name = self.claim_name(&wanted);
        let named_place = Place {
            name: name.clone(),
            pointer: place.pointer.clone(),
        };
        self.define(&name, &named_place, schema)?;
        Ok(TypeRef::named(name))
    }

    fn security_schemes(&self) -> BTreeMap<String, SecurityScheme> {
        let Some(components) = &self.doc.components else {
            return BTreeMap::new();
        };
        components
            .security_schemes
            .iter()
            .filter_map(|(name, s)| {
                let ReferenceOr::Item(s) = s else { return None };
                let scheme = match s {
                    openapiv3::SecurityScheme::APIKey { location, name, .. } => {
                        SecurityScheme::ApiKey {
                            name: name.clone(),
                            location: match location {
                                openapiv3::APIKeyLocation::Query => ParamLocation::Query,
                                openapiv3::APIKeyLocation::Header => ParamLocation::Header,
                                openapiv3::APIKeyLocation::Cookie => ParamLocation::Cookie,
                            },
                        }
                    }
                    openapiv3::SecurityScheme::HTTP { scheme, .. }
                        if scheme.eq_ignore_ascii_case("basic") =>
                    {
                        SecurityScheme::Basic
                    }
                    _ => SecurityScheme::Bearer,
                };
                Some((name.clone(), scheme))
            })
            .collect()
    }

    fn operations(&mut self) -> Result<BTreeMap<String, Operation>> {
        let mut operations = BTreeMap::new();
        let doc = self.doc;
        for (path, item) in doc.paths.iter() {
            let path_pointer = format!("/paths/{}", pointer_token(path));
            let item = match item {
                ReferenceOr::Item(item) => item,
                ReferenceOr::Reference { reference } => {
                    return Err(SpecError::Unsupported {
                        file: self.file.to_string(),
                        pointer: path_pointer,
                        construct: format!("a path item that is a $ref (`{reference}`)"),
                    });
                }
            };
            for (method, op) in item.iter() {
                let pointer = format!("{path_pointer}/{method}");
                let mut id = op
                    .operation_id
                    .clone()
                    .filter(|id| !id.trim().is_empty())
                    .unwrap_or_else(|| synthesise_operation_id(method, path));
                if operations.contains_key(&id) {
                    let unique = (2..)
                        .map(|n| format!("{id}{n}"))
                        .find(|c| !operations.contains_key(c));
                    let unique = unique.unwrap_or_else(|| format!("{id}_"));
                    self.warn(
                        &pointer,
                        format!("operation id `{id}` is used twice; this one is `{unique}`"),
                    );
                    id = unique;
                }
                let operation =
                    self.operation(&id, method, path, &pointer, &item.parameters, op)?;
                operations.insert(id, operation);
            }
        }
        Ok(operations)
    }

    fn operation(
        &mut self,
        id: &str,
        method: &str,
        path: &str,
        pointer: &str,
        path_params: &[ReferenceOr<openapiv3::Parameter>],
        op: &openapiv3::Operation,
    ) -> Result<Operation> {
        let id_place = Place {
            name: id.to_string(),
            pointer: pointer.to_string(),
        };
        // Path-level parameters first; an operation's own parameter of the same name and place replaces one.
        let mut parameters: Vec<Parameter> = Vec::new();
        let all = path_params
            .iter()
            .enumerate()
            .map(|(i, p)| {
                (
                    format!(
                        "{}/parameters/{i}",
                        pointer.rsplit_once('/').map_or("", |x| x.0)
                    ),
                    p,
                )
            })
            .chain(
                op.parameters
                    .iter()
                    .enumerate()
                    .map(|(i, p)| (format!("{pointer}/parameters/{i}"), p)),
            );
        for (param_pointer, p) in all {
            let param = self.parameter(&id_place, &param_pointer, p)?;
            match parameters
                .iter_mut()
                .find(|q| q.name == param.name && q.location == param.location)
            {
                Some(existing) => *existing = param,
                None => parameters.push(param),
            }
        }
        let stream = op
            .extensions
            .get("x-drydock-stream")
            .and_then(Value::as_str);
        let request_body = match &op.request_body {
            Some(body) => {
                Some(self.request_body(&id_place, &format!("{pointer}/requestBody"), body)?)
            }
            None => None,
        };
        let mut responses = Vec::new();
        let mut success_named = false;
        let statuses = op
            .responses
            .responses
            .iter()
            .map(|(s, r)| (s.to_string(), r))
            .chain(
                op.responses
                    .default
                    .iter()
                    .map(|r| ("default".to_string(), r)),
            );
        for (status, r) in statuses {
            let resp_pointer = format!("{pointer}/responses/{}", pointer_token(&status));
            let success = status.starts_with('2');
            let role = if success && !success_named {
                success_named = true;
                "Response".to_string()
            } else {
                format!("Response{}", status.to_upper_camel_case())
            };
            let stream = if success { stream } else { None };
            responses.push(self.response(&id_place, &role, &status, &resp_pointer, r, stream)?);
        }
        let hijack = op
            .extensions
            .get("x-drydock-hijack")
            .and_then(Value::as_bool)
            == Some(true);
        let security = op
            .security
            .as_ref()
            .or(self.doc.security.as_ref())
            .map(|reqs| {
                let names: BTreeSet<String> = reqs.iter().flat_map(|r| r.keys().cloned()).collect();
                names.into_iter().collect()
            })
            .unwrap_or_default();
        Ok(Operation {
            id: id.to_string(),
            versions: self.versions.clone(),
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            tag: op.tags.first().cloned().unwrap_or_else(|| "default".into()),
            summary: op.summary.clone(),
            description: op.description.clone(),
            deprecated: op.deprecated,
            parameters,
            request_body,
            responses,
            hijack,
            security,
            origin: format!("#{pointer}"),
            former_ids: Vec::new(),
            former_descriptions: Vec::new(),
        })
    }

    fn parameter(
        &mut self,
        op: &Place,
        pointer: &str,
        p: &ReferenceOr<openapiv3::Parameter>,
    ) -> Result<Parameter> {
        let (p, pointer) = match p {
            ReferenceOr::Item(p) => (p, pointer.to_string()),
            ReferenceOr::Reference { reference } => {
                self.component(reference, "parameters", pointer, |c| &c.parameters)?
            }
        };
        let (data, location, style) = match p {
            openapiv3::Parameter::Query {
                parameter_data,
                style,
                ..
            } => {
                let style = match style {
                    openapiv3::QueryStyle::Form => "form",
                    openapiv3::QueryStyle::SpaceDelimited => "spaceDelimited",
                    openapiv3::QueryStyle::PipeDelimited => "pipeDelimited",
                    openapiv3::QueryStyle::DeepObject => "deepObject",
                };
                (parameter_data, ParamLocation::Query, style)
            }
            openapiv3::Parameter::Header { parameter_data, .. } => {
                (parameter_data, ParamLocation::Header, "simple")
            }
            openapiv3::Parameter::Path { parameter_data, .. } => {
                (parameter_data, ParamLocation::Path, "simple")
            }
            openapiv3::Parameter::Cookie { parameter_data, .. } => {
                (parameter_data, ParamLocation::Cookie, "form")
            }
        };
        let place = Place {
            name: format!("{}{}", op.name, data.name.to_upper_camel_case()),
            pointer: format!("{pointer}/schema"),
        };
        let (ty, default, format, mut json_encoded) = match &data.format {
            openapiv3::ParameterSchemaOrContent::Schema(s) => {
                let ty = self.type_ref(s.into(), &place)?;
                let (default, format) = match s {
                    ReferenceOr::Item(s) => {
                        (s.schema_data.default.clone(), SchemaView::of(s).format)
                    }
                    ReferenceOr::Reference { .. } => (None, None),
                };
                (ty, default, format, false)
            }
            openapiv3::ParameterSchemaOrContent::Content(content) => {
                let schema = content.values().next().and_then(|m| m.schema.as_ref());
                let ty = match schema {
                    Some(s) => self.type_ref(s.into(), &place)?,
                    None => TypeRef::Any,
                };
                (ty, None, None, true)
            }
        };
        if format.as_deref() == Some("json") || describes_json_text(data.description.as_deref()) {
            json_encoded = matches!(
                ty,
                TypeRef::Scalar {
                    scalar: Scalar::String
                } | TypeRef::Any
            ) || json_encoded;
        }
        let collection_format = data
            .extensions
            .get("x-collection-format")
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| match ty {
                TypeRef::Array { .. } => Some(
                    match (style, data.explode) {
                        ("form", Some(false)) => "csv",
                        ("form", _) => "multi",
                        ("spaceDelimited", _) => "ssv",
                        ("pipeDelimited", _) => "pipes",
                        _ => "csv",
                    }
                    .to_string(),
                ),
                _ => None,
            });
        Ok(Parameter {
            name: data.name.clone(),
            location,
            versions: self.versions.clone(),
            description: data.description.clone(),
            former_descriptions: Vec::new(),
            shapes: vec![Versioned::new(
                self.versions.clone(),
                ParamShape {
                    ty,
                    required: data.required || location == ParamLocation::Path,
                    default,
                    collection_format,
                    json_encoded,
                },
            )],
        })
    }

    fn request_body(
        &mut self,
        op: &Place,
        pointer: &str,
        body: &ReferenceOr<openapiv3::RequestBody>,
    ) -> Result<RequestBody> {
        let (body, pointer) = match body {
            ReferenceOr::Item(b) => (b, pointer.to_string()),
            ReferenceOr::Reference { reference } => {
                self.component(reference, "requestBodies", pointer, |c| &c.request_bodies)?
            }
        };
        let place = Place {
            name: format!("{}Body", op.name),
            pointer,
        };
        let mut shape = self.body_shape(&place, &body.content, None)?;
        shape.required = body.required;
        Ok(RequestBody {
            versions: self.versions.clone(),
            description: body.description.clone(),
            shapes: vec![Versioned::new(self.versions.clone(), shape)],
        })
    }

    fn response(
        &mut self,
        op: &Place,
        role: &str,
        status: &str,
        pointer: &str,
        r: &ReferenceOr<openapiv3::Response>,
        stream: Option<&str>,
    ) -> Result<Response> {
        let (r, pointer) = match r {
            ReferenceOr::Item(r) => (r, pointer.to_string()),
            ReferenceOr::Reference { reference } => {
                self.component(reference, "responses", pointer, |c| &c.responses)?
            }
        };
        let place = Place {
            name: format!("{}{}", op.name, role),
            pointer: pointer.clone(),
        };
        let shape = self.body_shape(&place, &r.content, stream)?;
        let mut headers = Vec::new();
        for (name, h) in &r.headers {
            let ReferenceOr::Item(h) = h else {
                self.warn(
                    &format!("{pointer}/headers/{}", pointer_token(name)),
                    "header $ref not followed; typed as text",
                );
                continue;
            };
            let ty = match &h.format {
                openapiv3::ParameterSchemaOrContent::Schema(s) => {
                    let hp = place.child(
                        &format!("{name}Header"),
                        &format!("headers/{}/schema", pointer_token(name)),
                    );
                    self.type_ref(s.into(), &hp)?
                }
                openapiv3::ParameterSchemaOrContent::Content(_) => TypeRef::scalar(Scalar::String),
            };
            headers.push(ResponseHeader {
                name: name.clone(),
                versions: self.versions.clone(),
                ty,
                description: h.description.clone(),
            });
        }
        let mut examples = Vec::new();
        for (mime, media) in &r.content {
            let base = format!("{pointer}/content/{}", pointer_token(mime));
            if let Some(e) = &media.example {
                examples.push(Versioned::new(
                    self.versions.clone(),
                    Example {
                        pointer: format!("{base}/example"),
                        example: e.clone(),
                    },
                ));
            }
            for (name, e) in &media.examples {
                if let ReferenceOr::Item(openapiv3::Example { value: Some(v), .. }) = e {
                    examples.push(Versioned::new(
                        self.versions.clone(),
                        Example {
                            pointer: format!("{base}/examples/{}/value", pointer_token(name)),
                            example: v.clone(),
                        },
                    ));
                }
            }
        }
        Ok(Response {
            status: status.to_string(),
            versions: self.versions.clone(),
            description: Some(r.description.clone()).filter(|d| !d.is_empty()),
            shapes: vec![Versioned::new(self.versions.clone(), shape)],
            headers,
            examples,
        })
    }

    /// The kind, media types and schema of a body.
    fn body_shape(
        &mut self,
        place: &Place,
        content: &indexmap::IndexMap<String, MediaType>,
        stream: Option<&str>,
    ) -> Result<BodyShape> {
        let mut content_types: Vec<String> = content.keys().cloned().collect();
        // The primary media type: the first JSON one, else the first listed.
        if let Some(i) = content_types
            .iter()
            .position(|m| body_kind(m) == BodyKind::Json)
        {
            let json = content_types.remove(i);
            content_types.insert(0, json);
        }
        let Some(primary) = content_types.first().cloned() else {
            // A stream the spec gives no media type or schema for is still a
            // stream: of untyped messages.
            return Ok(BodyShape {
                kind: stream_kind(stream).unwrap_or(BodyKind::Empty),
                content_types,
                schema: None,
                required: false,
            });
        };
        let media = &content[&primary];
        let mut kind = stream_kind(stream).unwrap_or_else(|| body_kind(&primary));
        let keeps_schema = matches!(
            kind,
            BodyKind::Json
                | BodyKind::JsonStream
                | BodyKind::Text
                | BodyKind::Form
                | BodyKind::Multipart
        );
        let mut schema = match (&media.schema, keeps_schema) {
            (Some(s), true) => {
                let child = Place {
                    name: place.name.clone(),
                    pointer: format!(
                        "{}/content/{}/schema",
                        place.pointer,
                        pointer_token(&primary)
                    ),
                };
                Some(self.type_ref(s.into(), &child)?)
            }
            _ => None,
        };
        if kind == BodyKind::Json && schema.is_none() {
            kind = BodyKind::Empty;
        }
        // `format: binary` says the bytes are not text, whatever media type comes first.
        if kind == BodyKind::Text
            && matches!(
                schema,
                Some(TypeRef::Scalar {
                    scalar: Scalar::Binary
                })
            )
        {
            kind = BodyKind::OctetStream;
            schema = None;
        }
        Ok(BodyShape {
            kind,
            content_types,
            schema,
            required: false,
        })
    }
}

/// Adds a field, replacing an earlier one of the same name in place (later `allOf` parts win).
fn push_field(fields: &mut Vec<Field>, field: Field) {
    match fields.iter_mut().find(|f| f.name == field.name) {
        Some(existing) => *existing = field,
        None => fields.push(field),
    }
}

/// The body kind an `x-drydock-stream` value stands for.
fn stream_kind(stream: Option<&str>) -> Option<BodyKind> {
    match stream? {
        "json" => Some(BodyKind::JsonStream),
        "multiplexed" => Some(BodyKind::MultiplexedStream),
        "raw" => Some(BodyKind::RawStream),
        _ => None,
    }
}

/// The body kind a media type stands for.
pub fn body_kind(media_type: &str) -> BodyKind {
    let essence = media_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/json" => BodyKind::Json,
        "application/x-ndjson"
        | "application/jsonl"
        | "application/json-seq"
        | "application/stream+json" => BodyKind::JsonStream,
        "application/vnd.docker.raw-stream" => BodyKind::RawStream,
        "application/vnd.docker.multiplexed-stream" => BodyKind::MultiplexedStream,
        "application/x-tar" | "application/tar" => BodyKind::Tar,
        "application/x-www-form-urlencoded" => BodyKind::Form,
        "multipart/form-data" => BodyKind::Multipart,
        "text/plain" => BodyKind::Text,
        e if e.ends_with("+json") || e.ends_with("/json") => BodyKind::Json,
        e if e.starts_with("text/") => BodyKind::Text,
        _ => BodyKind::OctetStream,
    }
}

/// The scalar for a `type` and `format`, `None` for an unknown type.
fn scalar(typ: &str, format: Option<&str>) -> Option<Scalar> {
    Some(match (typ, format) {
        ("string", Some("date-time" | "dateTime")) => Scalar::DateTime,
        ("string", Some("date")) => Scalar::Date,
        ("string", Some("uuid")) => Scalar::Uuid,
        ("string", Some("byte")) => Scalar::Base64,
        ("string" | "file", Some("binary")) | ("file", _) => Scalar::Binary,
        ("string", _) => Scalar::String,
        ("boolean", _) => Scalar::Boolean,
        ("integer", Some("int8")) => Scalar::I8,
        ("integer", Some("int16")) => Scalar::I16,
        ("integer", Some("int32" | "int")) => Scalar::I32,
        ("integer", Some("uint8")) => Scalar::U8,
        ("integer", Some("uint16")) => Scalar::U16,
        ("integer", Some("uint32")) => Scalar::U32,
        ("integer", Some("uint64")) => Scalar::U64,
        ("integer", _) => Scalar::I64,
        ("number", Some("float")) => Scalar::F32,
        ("number", _) => Scalar::F64,
        _ => return None,
    })
}

/// The scalar an enum is written as, when its values allow one.
fn enum_base(view: &SchemaView<'_>) -> Option<Scalar> {
    let typ = view.typ.or_else(|| {
        if view.enumeration.iter().all(Value::is_string) {
            Some("string")
        } else if view.enumeration.iter().all(|v| v.is_i64() || v.is_u64()) {
            Some("integer")
        } else {
            None
        }
    })?;
    match typ {
        "string" => Some(Scalar::String),
        "integer" => scalar("integer", view.format.as_deref()),
        _ => None,
    }
}

fn enum_value_fits(base: Scalar, v: &Value) -> bool {
    match base {
        Scalar::String => v.is_string(),
        _ => v.is_i64() || v.is_u64(),
    }
}

/// Whether a parameter's description says its value is JSON text (Docker's
/// `filters`: "A JSON encoded value of …").
fn describes_json_text(description: Option<&str>) -> bool {
    let Some(d) = description else { return false };
    [
        "JSON encoded",
        "JSON-encoded",
        "encoded as JSON",
        "JSON map",
        "JSON array",
        "JSON object",
        "as a JSON",
        "JSON string",
    ]
    .iter()
    .any(|phrase| d.contains(phrase))
}

/// One token of a `$ref` fragment: percent-decoded (a fragment is part of a
/// URI: `%7Bindex%7D` is `{index}`), then JSON-pointer unescaped.
fn unescape_token(token: &str) -> String {
    let bytes = token.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                decoded.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                decoded.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded)
        .replace("~1", "/")
        .replace("~0", "~")
}

/// An operation id from method and path: `GET /pets/{id}` → `GetPetsId`.
fn synthesise_operation_id(method: &str, path: &str) -> String {
    let words: String = path
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w.to_upper_camel_case())
        .collect();
    format!("{}{}", method.to_upper_camel_case(), words)
}

#[cfg(test)]
mod tests;
