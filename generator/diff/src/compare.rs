//! The walk: compares what holds in one version with what holds in another,
//! operation by operation and named type by named type.

use std::collections::BTreeSet;

use drydock_ir::{
    Api, ApiVersion, BodyShape, Field, Operation, Parameter, RequestBody, Response, StructShape,
    TypeDef, TypeRef, TypeShape, VersionSet, shape_at,
};
use serde_json::Value;

use crate::DiffOptions;
use crate::change::{Change, ChangeKind, Location, OperationRef, Side, type_label};
use crate::equivalence::{Range, Wire};
use crate::inclusion::Inclusions;
use crate::reach::{Reachability, join_path};

/// Collects the changes from one version to another.
pub(crate) struct Walk<'a> {
    from: &'a ApiVersion,
    to: &'a ApiVersion,
    api: &'a Api,
    reach: Reachability,
    /// The reachability in the old version alone and in the new one alone, when needed.
    reach_each: Option<(Reachability, Reachability)>,
    inclusions: Inclusions,
    wire: Wire<'a>,
    /// Renamed struct types (old name, new name) whose fields are still to compare.
    renamed: Vec<(String, String)>,
    options: &'a DiffOptions,
    changes: Vec<Change>,
}

/// Whether an item with these versions and shapes holds in `v`, and its shape there.
fn present<'s, T>(
    versions: &VersionSet,
    shapes: &'s [drydock_ir::Versioned<T>],
    v: &ApiVersion,
) -> Option<&'s T> {
    if versions.contains(v) {
        shape_at(shapes, v)
    } else {
        None
    }
}

fn text(s: impl Into<String>) -> Option<Value> {
    Some(Value::String(s.into()))
}

fn body_label(body: &BodyShape) -> String {
    let kind = wire_name(&body.kind);
    match &body.schema {
        Some(ty) => format!("{kind} {}", type_label(ty)),
        None => kind,
    }
}

fn shape_label(shape: &TypeShape) -> String {
    match shape {
        TypeShape::Struct(st) => match &st.additional {
            Some(extra) => format!("object with extra properties of {}", type_label(extra)),
            None => "object".to_string(),
        },
        TypeShape::Enum(en) => format!("enum of {}", type_label(&TypeRef::scalar(en.base))),
        TypeShape::Alias { target } => type_label(target),
        TypeShape::OneOf(one) => {
            let variants: Vec<String> = one.variants.iter().map(type_label).collect();
            let word = if one.any_of { "any of" } else { "one of" };
            format!("{word} {}", variants.join(" | "))
        }
    }
}

fn field_named<'s>(st: &'s StructShape, name: &str) -> Option<&'s Field> {
    st.fields.iter().find(|f| f.name == name)
}

/// A change's kind with its old and new values.
type Delta = (ChangeKind, Option<Value>, Option<Value>);

/// The kinds of an item a client may have to send (a parameter, a request
/// body, a field) when it appears, disappears or flips required-ness.
struct RequirableKinds {
    added_required: ChangeKind,
    added_optional: ChangeKind,
    removed: ChangeKind,
    became_required: ChangeKind,
    became_optional: ChangeKind,
}

const PARAMETER: RequirableKinds = RequirableKinds {
    added_required: ChangeKind::RequiredParameterAdded,
    added_optional: ChangeKind::OptionalParameterAdded,
    removed: ChangeKind::ParameterRemoved,
    became_required: ChangeKind::ParameterBecameRequired,
    became_optional: ChangeKind::ParameterBecameOptional,
};

const REQUEST_BODY: RequirableKinds = RequirableKinds {
    added_required: ChangeKind::RequiredRequestBodyAdded,
    added_optional: ChangeKind::OptionalRequestBodyAdded,
    removed: ChangeKind::RequestBodyRemoved,
    became_required: ChangeKind::RequestBodyBecameRequired,
    became_optional: ChangeKind::RequestBodyBecameOptional,
};

const FIELD: RequirableKinds = RequirableKinds {
    added_required: ChangeKind::RequiredFieldAdded,
    added_optional: ChangeKind::OptionalFieldAdded,
    removed: ChangeKind::FieldRemoved,
    became_required: ChangeKind::FieldBecameRequired,
    became_optional: ChangeKind::FieldBecameOptional,
};

/// Presence and required-ness changes of an item, given its label and
/// required flag in each version where it is present.
fn requirable_deltas(
    kinds: &RequirableKinds,
    before: Option<(String, bool)>,
    after: Option<(String, bool)>,
) -> Vec<Delta> {
    match (before, after) {
        (None, Some((label, required))) => {
            let kind = if required {
                kinds.added_required
            } else {
                kinds.added_optional
            };
            vec![(kind, None, text(label))]
        }
        (Some((label, _)), None) => vec![(kinds.removed, text(label), None)],
        (Some((_, was)), Some((_, is))) if was != is => {
            let kind = if is {
                kinds.became_required
            } else {
                kinds.became_optional
            };
            vec![(kind, Some(was.into()), Some(is.into()))]
        }
        _ => Vec::new(),
    }
}

/// `kind` with the old and new values, when they differ.
fn differs<T: PartialEq>(
    kind: ChangeKind,
    old: &T,
    new: &T,
    value: impl Fn(&T) -> Option<Value>,
) -> Option<Delta> {
    (old != new).then(|| (kind, value(old), value(new)))
}

/// How a serialised enum of the IR is written (`query`, `json`).
fn wire_name(value: &impl serde::Serialize) -> String {
    serde_json::to_value(value)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// `object {A, B, C}`: the fields of a struct present in `v`.
fn fields_label(st: &StructShape, v: &ApiVersion) -> String {
    let names: Vec<&str> = st
        .fields
        .iter()
        .filter(|f| f.versions.contains(v))
        .map(|f| f.name.as_str())
        .collect();
    format!("object {{{}}}", names.join(", "))
}

/// The description change of an item between two versions, as a delta.
fn description_delta(
    current: Option<&String>,
    former: &[drydock_ir::FormerDescription],
    from: &ApiVersion,
    to: &ApiVersion,
) -> Option<Delta> {
    let was = drydock_ir::description_at(current, former, from);
    let is = drydock_ir::description_at(current, former, to);
    (was != is).then(|| {
        (
            ChangeKind::DescriptionChanged,
            was.and_then(text),
            is.and_then(text),
        )
    })
}

fn is_success(status: &str) -> bool {
    status.starts_with('1') || status.starts_with('2')
}

impl<'a> Walk<'a> {
    /// Compares `from` with `to` in `api`.
    pub(crate) fn run(
        api: &'a Api,
        from: &'a ApiVersion,
        to: &'a ApiVersion,
        options: &'a DiffOptions,
    ) -> Vec<Change> {
        let inclusions = Inclusions::find(api, from, to);
        let mut walk = Walk {
            from,
            to,
            api,
            reach_each: None,
            wire: Wire::new(api, from, to),
            renamed: Vec::new(),
            reach: Reachability::build(api, from, to, &inclusions),
            inclusions,
            options,
            changes: Vec::new(),
        };
        for op in api.operations.values() {
            walk.operation(op);
        }
        for ty in api.types.values() {
            walk.compare_types(ty, ty);
        }
        let mut compared = BTreeSet::new();
        while let Some((old, new)) = walk.renamed.pop() {
            if let (Some(a), Some(b)) = (api.types.get(&old), api.types.get(&new))
                && compared.insert((old, new))
            {
                walk.compare_types(a, b);
            }
        }
        let mut changes = walk.changes;
        changes.sort_by(|a, b| {
            (&a.area, a.location.type_name.is_some(), &a.location, a.kind).cmp(&(
                &b.area,
                b.location.type_name.is_some(),
                &b.location,
                b.kind,
            ))
        });
        // Several old types renamed to one new type report its changes once.
        changes.dedup_by(|a, b| {
            (a.kind, &a.location, &a.old, &a.new) == (b.kind, &b.location, &b.old, &b.new)
        });
        changes
    }

    fn push_in_operation(
        &mut self,
        op: &Operation,
        mut change: Change,
        description: Option<&String>,
    ) {
        change.area = op.tag.clone();
        change.affected_operations = vec![OperationRef::of(op)];
        if self.options.descriptions {
            change.description = description.cloned();
        }
        self.changes.push(change);
    }

    fn push_in_type(&mut self, ty: &TypeDef, mut change: Change, description: Option<&String>) {
        change.location.path = self.type_path(&ty.name, change.location.field.as_deref());
        change.area = self.reach.area(&ty.name);
        change.affected_operations = self.reach.operations(&ty.name);
        if self.options.descriptions {
            change.description = description.cloned();
        }
        self.changes.push(change);
    }

    fn operation(&mut self, op: &Operation) {
        let (before, after) = (
            op.versions.contains(self.from),
            op.versions.contains(self.to),
        );
        let description = op.summary.as_ref().or(op.description.as_ref());
        let kind = match (before, after) {
            (false, true) => ChangeKind::OperationAdded,
            (true, false) => ChangeKind::OperationRemoved,
            (true, true) => {
                if self.options.descriptions
                    && let Some((kind, old, new)) = description_delta(
                        op.description.as_ref(),
                        &op.former_descriptions,
                        self.from,
                        self.to,
                    )
                {
                    let change = Change::new(
                        kind,
                        Location::in_operation(op),
                        vec![Side::Operation],
                        old,
                        new,
                    );
                    self.push_in_operation(op, change, description);
                }
                for param in &op.parameters {
                    self.parameter(op, param);
                }
                if let Some(body) = &op.request_body {
                    self.request_body(op, body);
                }
                for response in &op.responses {
                    self.response(op, response);
                }
                return;
            }
            (false, false) => return,
        };
        let change = Change::new(
            kind,
            Location::in_operation(op),
            vec![Side::Operation],
            None,
            None,
        );
        self.push_in_operation(op, change, description);
    }

    fn parameter(&mut self, op: &Operation, param: &Parameter) {
        let before = present(&param.versions, &param.shapes, self.from);
        let after = present(&param.versions, &param.shapes, self.to);
        let location = Location {
            parameter: Some(format!("{} {}", wire_name(&param.location), param.name)),
            ..Location::in_operation(op)
        };
        let mut deltas = requirable_deltas(
            &PARAMETER,
            before.map(|s| (type_label(&s.ty), s.required)),
            after.map(|s| (type_label(&s.ty), s.required)),
        );
        if let (Some(old), Some(new)) = (before, after) {
            deltas.extend(self.retyped(ChangeKind::ParameterTypeChanged, &old.ty, &new.ty));
            deltas.extend(differs(
                ChangeKind::ParameterDefaultChanged,
                &old.default,
                &new.default,
                Clone::clone,
            ));
            if self.options.descriptions {
                deltas.extend(description_delta(
                    param.description.as_ref(),
                    &param.former_descriptions,
                    self.from,
                    self.to,
                ));
            }
        }
        for (kind, old, new) in deltas {
            let change = Change::new(kind, location.clone(), vec![Side::Request], old, new);
            self.push_in_operation(op, change, param.description.as_ref());
        }
    }

    fn request_body(&mut self, op: &Operation, body: &RequestBody) {
        let before = present(&body.versions, &body.shapes, self.from);
        let after = present(&body.versions, &body.shapes, self.to);
        let location = Location {
            body: Some("request".to_string()),
            ..Location::in_operation(op)
        };
        let mut found = Vec::new();
        if let (Some(old), Some(new)) = (before, after) {
            found = body_changes(self, &location, Side::Request, old, new);
        }
        let deltas = requirable_deltas(
            &REQUEST_BODY,
            before.map(|b| (body_label(b), b.required)),
            after.map(|b| (body_label(b), b.required)),
        );
        for (kind, old, new) in deltas {
            found.push(Change::new(
                kind,
                location.clone(),
                vec![Side::Request],
                old,
                new,
            ));
        }
        for change in found {
            self.push_in_operation(op, change, body.description.as_ref());
        }
    }

    fn response(&mut self, op: &Operation, response: &Response) {
        let before = response.versions.contains(self.from);
        let after = response.versions.contains(self.to);
        let location = Location {
            body: Some(response.status.clone()),
            ..Location::in_operation(op)
        };
        let side = || vec![Side::Response];
        let success = is_success(&response.status);
        let label = |v: &ApiVersion| shape_at(&response.shapes, v).map(body_label);
        let mut found = Vec::new();
        match (before, after) {
            (false, true) => {
                let kind = if success {
                    ChangeKind::SuccessStatusAdded
                } else {
                    ChangeKind::ErrorStatusAdded
                };
                found.push(Change::new(
                    kind,
                    location,
                    side(),
                    None,
                    label(self.to).and_then(text),
                ));
            }
            (true, false) => {
                let kind = if success {
                    ChangeKind::SuccessStatusRemoved
                } else {
                    ChangeKind::ErrorStatusRemoved
                };
                found.push(Change::new(
                    kind,
                    location,
                    side(),
                    label(self.from).and_then(text),
                    None,
                ));
            }
            (true, true) => {
                if let (Some(old), Some(new)) = (
                    shape_at(&response.shapes, self.from),
                    shape_at(&response.shapes, self.to),
                ) {
                    found = body_changes(self, &location, Side::Response, old, new);
                }
                for header in &response.headers {
                    let kind = match (
                        header.versions.contains(self.from),
                        header.versions.contains(self.to),
                    ) {
                        (false, true) => ChangeKind::ResponseHeaderAdded,
                        (true, false) => ChangeKind::ResponseHeaderRemoved,
                        _ => continue,
                    };
                    let value = text(type_label(&header.ty));
                    let (old, new) = if kind == ChangeKind::ResponseHeaderAdded {
                        (None, value)
                    } else {
                        (value, None)
                    };
                    let at = Location {
                        header: Some(header.name.clone()),
                        ..location.clone()
                    };
                    found.push(Change::new(kind, at, side(), old, new));
                }
            }
            (false, false) => {}
        }
        for change in found {
            self.push_in_operation(op, change, response.description.as_ref());
        }
    }

    /// A change of type from `old` to `new`, unless they are the same: a
    /// rename when both carry the same JSON, or when `new` is a renamed `old`
    /// whose field changes are then compared one by one; else `changed`.
    fn retyped(&mut self, changed: ChangeKind, old: &TypeRef, new: &TypeRef) -> Option<Delta> {
        if old == new {
            return None;
        }
        let (was, is) = (text(type_label(old)), text(type_label(new)));
        if self.wire.same(old, new) {
            return Some((ChangeKind::TypeRenamed, was, is));
        }
        match self.wire.range_change(old, new) {
            Some(Range::Narrower) => return Some((ChangeKind::TypeNarrowed, was, is)),
            Some(Range::Wider) => return Some((ChangeKind::TypeWidened, was, is)),
            None => {}
        }
        if let Some((a, b)) = self.wire.renamed_structs(old, new) {
            self.renamed.push((a.to_string(), b.to_string()));
            return Some((ChangeKind::TypeRenamed, was, is));
        }
        Some((changed, was, is))
    }

    /// Where `type_name` (and its `field`) sits in the first operation reaching it.
    fn type_path(&self, type_name: &str, field: Option<&str>) -> Option<String> {
        let path = self.reach.path(type_name)?;
        Some(match field {
            Some(field) => join_path(path, field),
            None => path.trim_end_matches(": ").to_string(),
        })
    }

    /// Operations that reach `type_name` in the old version and in the new one.
    fn continuing_operations(&mut self, type_name: &str) -> Vec<OperationRef> {
        let (api, from, to) = (self.api, self.from, self.to);
        let inclusions = &self.inclusions;
        let (before, after) = self.reach_each.get_or_insert_with(|| {
            (
                Reachability::build_over(api, &[from], inclusions),
                Reachability::build_over(api, &[to], inclusions),
            )
        });
        let after = after.operations(type_name);
        before
            .operations(type_name)
            .into_iter()
            .filter(|op| after.contains(op))
            .collect()
    }

    /// Compares type `old_ty` in the old version with `new_ty` in the new one
    /// (the same type, or a renamed one), reporting at `new_ty`.
    fn compare_types(&mut self, old_ty: &TypeDef, ty: &TypeDef) {
        let before = present(&old_ty.versions, &old_ty.shapes, self.from);
        let after = present(&ty.versions, &ty.shapes, self.to);
        let (Some(old), Some(new)) = (before, after) else {
            // A type that appears or disappears is reported where it is used:
            // the field, parameter or body that names it.
            return;
        };
        let sides = || self.reach.sides(&ty.name);
        let location = Location::in_type(&ty.name, None);
        let mut found = Vec::new();
        if self.options.descriptions
            && std::ptr::eq(old_ty, ty)
            && let Some((kind, was, is)) = description_delta(
                ty.description.as_ref(),
                &ty.former_descriptions,
                self.from,
                self.to,
            )
        {
            found.push(Change::new(kind, location.clone(), sides(), was, is));
        }
        match (old, new) {
            (TypeShape::Struct(a), TypeShape::Struct(b)) if !self.wire.similar_structs(a, b) => {
                // The name now stands for another object (Docker's `Config`
                // was a container's configuration, then a swarm config). Where
                // it is used is compared at each use; only operations that use
                // it in both versions see the object change under them.
                let continuing = self.continuing_operations(&ty.name);
                if !continuing.is_empty() {
                    let mut change = Change::new(
                        ChangeKind::TypeChanged,
                        location,
                        self.reach.sides(&ty.name),
                        text(fields_label(a, self.from)),
                        text(fields_label(b, self.to)),
                    );
                    change.location.path = self.type_path(&ty.name, None);
                    change.area = self.reach.area(&ty.name);
                    change.affected_operations = continuing;
                    if self.options.descriptions {
                        change.description = ty.description.clone();
                    }
                    self.changes.push(change);
                }
                return;
            }
            (TypeShape::Struct(a), TypeShape::Struct(b)) => {
                if a.additional != b.additional {
                    found.push(Change::new(
                        ChangeKind::TypeChanged,
                        location,
                        sides(),
                        text(shape_label(old)),
                        text(shape_label(new)),
                    ));
                }
                for change in found {
                    self.push_in_type(ty, change, ty.description.as_ref());
                }
                self.fields(ty, a, b);
                return;
            }
            (TypeShape::Enum(a), TypeShape::Enum(b)) if a.base == b.base => {
                let listed = |values: &[drydock_ir::EnumValue], v: &ApiVersion| -> Vec<Value> {
                    values
                        .iter()
                        .filter(|e| e.versions.contains(v))
                        .map(|e| e.value.clone())
                        .collect()
                };
                let (was, is) = (listed(&a.values, self.from), listed(&b.values, self.to));
                for value in is.iter().filter(|v| !was.contains(v)) {
                    found.push(Change::new(
                        ChangeKind::EnumValueAdded,
                        location.clone(),
                        sides(),
                        None,
                        Some(value.clone()),
                    ));
                }
                for value in was.iter().filter(|v| !is.contains(v)) {
                    found.push(Change::new(
                        ChangeKind::EnumValueRemoved,
                        location.clone(),
                        sides(),
                        Some(value.clone()),
                        None,
                    ));
                }
            }
            _ => {
                let (was, is) = (shape_label(old), shape_label(new));
                if was != is || old != new {
                    found.push(Change::new(
                        ChangeKind::TypeChanged,
                        location,
                        sides(),
                        text(was),
                        text(is),
                    ));
                }
            }
        }
        for change in found {
            self.push_in_type(ty, change, ty.description.as_ref());
        }
    }

    fn fields(&mut self, ty: &TypeDef, old: &StructShape, new: &StructShape) {
        let names: BTreeSet<&str> = old
            .fields
            .iter()
            .chain(&new.fields)
            .map(|f| f.name.as_str())
            .collect();
        // Fields taken in from an included type are reported at that type.
        let own: Vec<&str> = names
            .into_iter()
            .filter(|name| !self.inclusions.is_inherited(&ty.name, name))
            .collect();
        for name in own {
            let old_field = field_named(old, name);
            let new_field = field_named(new, name);
            let before = old_field.and_then(|f| present(&f.versions, &f.shapes, self.from));
            let after = new_field.and_then(|f| present(&f.versions, &f.shapes, self.to));
            let description = new_field.or(old_field).and_then(|f| f.description.as_ref());
            let location = Location::in_type(&ty.name, Some(name));
            let mut deltas = requirable_deltas(
                &FIELD,
                before.map(|s| (type_label(&s.ty), s.required)),
                after.map(|s| (type_label(&s.ty), s.required)),
            );
            if let (Some(old), Some(new)) = (before, after) {
                deltas.extend(self.retyped(ChangeKind::FieldTypeChanged, &old.ty, &new.ty));
                let nullable = if new.nullable {
                    ChangeKind::FieldBecameNullable
                } else {
                    ChangeKind::FieldBecameNonNullable
                };
                deltas.extend(differs(nullable, &old.nullable, &new.nullable, |b| {
                    Some((*b).into())
                }));
                deltas.extend(differs(
                    ChangeKind::FieldDefaultChanged,
                    &old.default,
                    &new.default,
                    Clone::clone,
                ));
                if self.options.descriptions
                    && let Some(field) = new_field
                {
                    deltas.extend(description_delta(
                        field.description.as_ref(),
                        &field.former_descriptions,
                        self.from,
                        self.to,
                    ));
                }
            }
            let sides = self.reach.sides(&ty.name);
            let found: Vec<Change> = deltas
                .into_iter()
                .map(|(kind, old, new)| {
                    Change::new(kind, location.clone(), sides.clone(), old, new)
                })
                .collect();
            for change in found {
                self.push_in_type(ty, change, description);
            }
        }
    }
}

/// Changes of a body present in both versions: encoding, media types, schema.
fn body_changes(
    walk: &mut Walk<'_>,
    location: &Location,
    side: Side,
    old: &BodyShape,
    new: &BodyShape,
) -> Vec<Change> {
    let mut found = Vec::new();
    let change = |kind, old: Option<Value>, new: Option<Value>| {
        Change::new(kind, location.clone(), vec![side], old, new)
    };
    if old.kind != new.kind {
        found.push(change(
            ChangeKind::BodyKindChanged,
            text(body_label(old)),
            text(body_label(new)),
        ));
    } else {
        let delta = match (&old.schema, &new.schema) {
            (Some(a), Some(b)) => walk.retyped(ChangeKind::BodyTypeChanged, a, b),
            (a, b) => differs(ChangeKind::BodyTypeChanged, a, b, |s| {
                s.as_ref().map(type_label).and_then(text)
            }),
        };
        found.extend(delta.map(|(kind, was, is)| change(kind, was, is)));
    }
    for ct in new
        .content_types
        .iter()
        .filter(|c| !old.content_types.contains(c))
    {
        found.push(change(
            ChangeKind::ContentTypeAdded,
            None,
            text(ct.as_str()),
        ));
    }
    for ct in old
        .content_types
        .iter()
        .filter(|c| !new.content_types.contains(c))
    {
        found.push(change(
            ChangeKind::ContentTypeRemoved,
            text(ct.as_str()),
            None,
        ));
    }
    found
}
