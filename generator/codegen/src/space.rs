//! The model space: every IR type resolved to the one Rust type that stands for
//! it in all versions.
//!
//! This pass decides everything the emitter writes except syntax: names (from
//! [`crate::naming`]), the Rust type of each field, which fields are optional,
//! which are boxed, which types implement `Default`, and which carry
//! version-dependent content.
//!
//! Shape changes between versions follow one rule, *widening*: a field (or a
//! type) whose shape changed is held in the narrowest Rust type that can hold
//! the value of every version. Integers widen to the wider integer (an unsigned
//! one to the next signed one, `int64` and `uint64` to `i128`), integers and
//! floats to `f64`, string formats to `String`, a string to an (open, hence
//! string-complete) enum, arrays and maps element-wise, and a type renamed
//! between versions to the other name when its values fit (a struct whose every
//! field the other has with a fitting type, a union whose every alternative
//! fits one of the other's); anything else is held as a `serde_json::Value`. A field
//! is optional unless it is required and not nullable in every shape.

use std::collections::{BTreeMap, BTreeSet};

use drydock_ir::{
    Api, ApiVersion, EnumShape, EnumValue, Field, FieldShape, Scalar, StructShape, TypeDef,
    TypeRef, TypeShape, VersionSet, Versioned,
};

use crate::docs;
use crate::error::CodegenError;
use crate::naming;

/// The Rust type of a field, an alias or an element.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RustTy {
    /// A scalar.
    Scalar(Scalar),
    /// `i128`: where a signed and an unsigned 64-bit integer meet.
    I128,
    /// A generated type, by IR name.
    Named(String),
    /// `Vec<T>`.
    Array(Box<RustTy>),
    /// `BTreeMap<String, T>`.
    Map(Box<RustTy>),
    /// `serde_json::Value`.
    Any,
}

impl RustTy {
    fn from_ref(ty: &TypeRef) -> Self {
        match ty {
            TypeRef::Named { name } => RustTy::Named(name.clone()),
            TypeRef::Scalar { scalar } => RustTy::Scalar(*scalar),
            TypeRef::Array { items } => RustTy::Array(Box::new(RustTy::from_ref(items))),
            TypeRef::Map { values } => RustTy::Map(Box::new(RustTy::from_ref(values))),
            TypeRef::Any => RustTy::Any,
        }
    }

    fn named(&self) -> Vec<&str> {
        match self {
            RustTy::Named(name) => vec![name],
            RustTy::Array(inner) | RustTy::Map(inner) => inner.named(),
            RustTy::Scalar(_) | RustTy::I128 | RustTy::Any => Vec::new(),
        }
    }
}

/// A resolved type.
#[derive(Debug)]
pub(crate) struct Model {
    /// The IR name.
    pub ir_name: String,
    /// The Rust name.
    pub rust_name: String,
    /// Versions in which the type exists.
    pub versions: VersionSet,
    /// Description, Markdown.
    pub description: Option<String>,
    /// Where the type stands in the newest spec, as a JSON pointer.
    pub origin: String,
    /// The newest example the spec gives, if any.
    pub example: Option<serde_json::Value>,
    /// What the type is in Rust.
    pub kind: ModelKind,
    /// A note on how the type's shape changed between versions, if it did.
    pub shape_note: Option<String>,
}

/// What a resolved type is in Rust.
#[derive(Debug)]
pub(crate) enum ModelKind {
    /// A struct.
    Struct(StructModel),
    /// An open enumeration.
    Enum(EnumModel),
    /// A type alias.
    Alias(RustTy),
    /// An untagged union; the last variant is the catch-all `Value` unless one of them is.
    Union(Vec<UnionVariant>),
}

/// A resolved struct.
#[derive(Debug)]
pub(crate) struct StructModel {
    /// Fields in order.
    pub fields: Vec<FieldModel>,
    /// Rust name and value type of the map that holds additional properties.
    pub additional: Option<(String, RustTy)>,
}

/// A resolved field.
#[derive(Debug)]
pub(crate) struct FieldModel {
    /// Name on the wire.
    pub wire: String,
    /// Rust name.
    pub rust: String,
    /// Description, Markdown.
    pub description: Option<String>,
    /// Versions in which the field exists.
    pub versions: VersionSet,
    /// Whether the field exists in every version of its struct.
    pub everywhere: bool,
    /// Rust type (without `Option` or `Box`).
    pub ty: RustTy,
    /// Held as `Option<_>`.
    pub optional: bool,
    /// Held in a `Box` (the type contains itself through this field).
    pub boxed: bool,
    /// Some version's spec allows `null` and the field may be left out: held as
    /// `Option<Option<T>>`, where `Some(None)` is a `null` sent or received and `None` a field
    /// left out.
    pub nullable: bool,
    /// Every version requires the field and some lets it be `null` (Go's nil slice or map
    /// in a field without `omitempty`): held as `Option<T>` and always written, `None` as
    /// `null`, as the daemon writes it. Only for a field of every version of its struct, so
    /// that no version gets a field it lacks.
    pub written_as_null: bool,
    /// A note on how the field's shape changed between versions, if it did.
    pub shape_note: Option<String>,
    /// The default the newest shape gives, if any.
    pub default: Option<serde_json::Value>,
}

/// A resolved enumeration.
#[derive(Debug)]
pub(crate) struct EnumModel {
    /// `None` for a string enum, else the integer scalar values are written as.
    pub integer: Option<Scalar>,
    /// The listed values.
    pub variants: Vec<VariantModel>,
    /// Name of the variant holding unlisted values.
    pub other: String,
}

/// One listed value.
#[derive(Debug)]
pub(crate) struct VariantModel {
    /// The value as text (a string as it is, an integer in decimal).
    pub label: String,
    /// Rust name.
    pub rust: String,
    /// Versions that list it.
    pub versions: VersionSet,
    /// Whether every version of the enum lists it.
    pub everywhere: bool,
}

/// One alternative of a union.
#[derive(Debug)]
pub(crate) struct UnionVariant {
    /// Rust name.
    pub rust: String,
    /// The alternative's type.
    pub ty: RustTy,
    /// Boxed because the union contains itself through it.
    pub boxed: bool,
}

/// All resolved types of an API.
pub(crate) struct ModelSpace {
    /// Every version of the API, oldest first.
    pub all_versions: Vec<ApiVersion>,
    /// Resolved types by IR name.
    pub models: BTreeMap<String, Model>,
    /// IR names of the types whose values can lack something in some version
    /// (a version-limited field or enum value, here or below).
    pub versioned: BTreeSet<String>,
}

impl ModelSpace {
    /// Resolves every type of `api`.
    pub(crate) fn build(api: &Api) -> Result<Self, CodegenError> {
        let names = naming::type_names(api.types.keys().map(String::as_str));
        let all = api.versions.clone();
        let cx = Widening {
            types: &api.types,
            text_enums: text_enum_names(api),
        };
        let mut resolved = BTreeMap::new();
        for (ir_name, def) in &api.types {
            let (kind, merge_note) = merged_kind(def, &all, &cx)?;
            let mut model = resolve(def, kind, &names, &all, &cx)?;
            model.shape_note = merge_note.or(model.shape_note);
            resolved.insert(ir_name.clone(), model);
        }
        check_references(&resolved)?;
        let mut space = ModelSpace {
            all_versions: all,
            models: resolved,
            versioned: BTreeSet::new(),
        };
        space.decide_optional();
        space.decide_boxes();
        space.versioned = space.versioned_types();
        Ok(space)
    }

    /// Whether a value of `ty` has a `Default`.
    pub(crate) fn has_default(&self, ty: &RustTy) -> bool {
        self.has_default_within(ty, 0)
    }

    fn has_default_within(&self, ty: &RustTy, depth: usize) -> bool {
        match ty {
            RustTy::Named(name) => match self.models.get(name).map(|m| &m.kind) {
                Some(ModelKind::Struct(_)) => true,
                Some(ModelKind::Alias(target)) if depth < 32 => {
                    self.has_default_within(target, depth + 1)
                }
                _ => false,
            },
            RustTy::Scalar(_) | RustTy::I128 | RustTy::Array(_) | RustTy::Map(_) | RustTy::Any => {
                true
            }
        }
    }

    /// Whether Go may write a value of `ty` as `null` (a nil slice or map):
    /// lists and maps, also behind aliases.
    pub(crate) fn nil_able(&self, ty: &RustTy) -> bool {
        let mut ty = ty;
        for _ in 0..32 {
            match ty {
                RustTy::Array(_) | RustTy::Map(_) => return true,
                RustTy::Named(name) => match self.models.get(name).map(|m| &m.kind) {
                    Some(ModelKind::Alias(target)) => ty = target,
                    _ => return false,
                },
                _ => return false,
            }
        }
        false
    }

    /// Whether values of `ty` can lack something in some version.
    pub(crate) fn carries_versions(&self, ty: &RustTy) -> bool {
        ty.named().iter().any(|n| self.versioned.contains(*n))
    }

    /// Required fields are plain `T` only when they are required and not
    /// nullable in every shape, exist in every version of their struct, and
    /// `T` has a `Default` (a daemon that omits one then yields the default
    /// rather than an error); every other field is an `Option`.
    fn decide_optional(&mut self) {
        let mut plain: Vec<(String, usize)> = Vec::new();
        for (name, model) in &self.models {
            if let ModelKind::Struct(st) = &model.kind {
                for (i, f) in st.fields.iter().enumerate() {
                    let plain_allowed = f.everywhere && self.has_default(&f.ty);
                    if !f.optional && !plain_allowed {
                        plain.push((name.clone(), i));
                    }
                }
            }
        }
        for (name, i) in plain {
            if let Some(ModelKind::Struct(st)) = self.models.get_mut(&name).map(|m| &mut m.kind) {
                st.fields[i].optional = true;
            }
        }
    }

    /// The types a value of `name` contains directly (not through a `Vec` or a map).
    fn direct_children(&self, name: &str) -> Vec<&str> {
        let direct = |ty: &RustTy| match ty {
            RustTy::Named(n) => Some(n.clone()),
            _ => None,
        };
        let Some(model) = self.models.get(name) else {
            return Vec::new();
        };
        let children: Vec<String> = match &model.kind {
            ModelKind::Struct(st) => st.fields.iter().filter_map(|f| direct(&f.ty)).collect(),
            ModelKind::Alias(target) => direct(target).into_iter().collect(),
            ModelKind::Union(variants) => variants.iter().filter_map(|v| direct(&v.ty)).collect(),
            ModelKind::Enum(_) => Vec::new(),
        };
        children
            .iter()
            .filter_map(|c| self.models.get_key_value(c).map(|(k, _)| k.as_str()))
            .collect()
    }

    fn reaches(&self, from: &str, to: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from];
        while let Some(n) = stack.pop() {
            if n == to {
                return true;
            }
            if seen.insert(n) {
                stack.extend(self.direct_children(n));
            }
        }
        false
    }

    /// A field or union alternative is boxed when its type leads back, directly,
    /// to the type holding it: that is what would make the type infinitely large.
    fn decide_boxes(&mut self) {
        let mut boxed: Vec<(String, usize)> = Vec::new();
        for (name, model) in &self.models {
            let tys: Vec<&RustTy> = match &model.kind {
                ModelKind::Struct(st) => st.fields.iter().map(|f| &f.ty).collect(),
                ModelKind::Union(vs) => vs.iter().map(|v| &v.ty).collect(),
                _ => Vec::new(),
            };
            for (i, ty) in tys.into_iter().enumerate() {
                if let RustTy::Named(child) = ty
                    && self.reaches(child, name)
                {
                    boxed.push((name.clone(), i));
                }
            }
        }
        for (name, i) in boxed {
            match self.models.get_mut(&name).map(|m| &mut m.kind) {
                Some(ModelKind::Struct(st)) => st.fields[i].boxed = true,
                Some(ModelKind::Union(vs)) => vs[i].boxed = true,
                _ => {}
            }
        }
    }

    /// The least fixed point of "has a version-limited field or value, or a
    /// field whose type is in the set".
    fn versioned_types(&self) -> BTreeSet<String> {
        let mut set: BTreeSet<String> = BTreeSet::new();
        loop {
            let before = set.len();
            for (name, model) in &self.models {
                let carries = |ty: &RustTy| ty.named().iter().any(|n| set.contains(*n));
                let versioned = match &model.kind {
                    ModelKind::Struct(st) => {
                        st.fields.iter().any(|f| !f.everywhere || carries(&f.ty))
                            || st.additional.as_ref().is_some_and(|(_, t)| carries(t))
                    }
                    ModelKind::Enum(e) => e.variants.iter().any(|v| !v.everywhere),
                    ModelKind::Alias(t) => carries(t),
                    ModelKind::Union(vs) => vs.iter().any(|v| carries(&v.ty)),
                };
                if versioned && !set.contains(name) {
                    set.insert(name.clone());
                }
            }
            if set.len() == before {
                return set;
            }
        }
    }
}

/// A type's shapes folded into one, before naming.
enum MergedKind {
    Struct(StructShape),
    Enum(EnumShape),
    Alias(RustTy),
    Union(drydock_ir::OneOfShape),
}

fn enum_is_text(shape: &EnumShape) -> bool {
    text_scalar(shape.base)
}

fn text_scalar(s: Scalar) -> bool {
    matches!(
        s,
        Scalar::String
            | Scalar::DateTime
            | Scalar::Date
            | Scalar::Uuid
            | Scalar::Base64
            | Scalar::Binary
    )
}

/// Integers as (signed, bits).
fn integer_width(s: Scalar) -> Option<(bool, u8)> {
    Some(match s {
        Scalar::I8 => (true, 8),
        Scalar::I16 => (true, 16),
        Scalar::I32 => (true, 32),
        Scalar::I64 => (true, 64),
        Scalar::U8 => (false, 8),
        Scalar::U16 => (false, 16),
        Scalar::U32 => (false, 32),
        Scalar::U64 => (false, 64),
        _ => return None,
    })
}

fn integer_scalar(signed: bool, bits: u8) -> Scalar {
    match (signed, bits) {
        (true, 8) => Scalar::I8,
        (true, 16) => Scalar::I16,
        (true, 32) => Scalar::I32,
        (true, _) => Scalar::I64,
        (false, 8) => Scalar::U8,
        (false, 16) => Scalar::U16,
        (false, 32) => Scalar::U32,
        (false, _) => Scalar::U64,
    }
}

/// The narrowest scalar holding every value of `a` and of `b`, if there is one.
fn widen_scalars(a: Scalar, b: Scalar) -> Option<Scalar> {
    if a == b {
        return Some(a);
    }
    if text_scalar(a) && text_scalar(b) {
        return Some(Scalar::String);
    }
    let float = |s: Scalar| matches!(s, Scalar::F32 | Scalar::F64);
    match (integer_width(a), integer_width(b)) {
        (Some((sa, ba)), Some((sb, bb))) if sa == sb => Some(integer_scalar(sa, ba.max(bb))),
        (Some((sa, ba)), Some((_, bb))) => {
            let (signed_bits, unsigned_bits) = if sa { (ba, bb) } else { (bb, ba) };
            let bits = signed_bits.max(unsigned_bits * 2);
            (unsigned_bits < 64).then(|| integer_scalar(true, bits))
        }
        (Some(_), None) if float(b) => Some(Scalar::F64),
        (None, Some(_)) if float(a) => Some(Scalar::F64),
        (None, None) if float(a) && float(b) => Some(Scalar::F64),
        _ => None,
    }
}

/// What widening needs to know about the API's types.
struct Widening<'a> {
    types: &'a BTreeMap<String, TypeDef>,
    /// Types whose every shape is an enumeration written as text.
    text_enums: BTreeSet<String>,
}

impl Widening<'_> {
    /// The shape a named type has in its newest version.
    fn newest_shape(&self, name: &str) -> Option<&TypeShape> {
        let def = self.types.get(name)?;
        def.shapes
            .iter()
            .max_by(|a, b| a.versions.until().cmp(&b.versions.until()))
            .map(|s| &s.value)
    }

    /// The type that holds every shape of a field.
    fn field_type(&self, field: &Field, depth: usize) -> RustTy {
        let mut shapes: Vec<&Versioned<FieldShape>> = field.shapes.iter().collect();
        shapes.sort_by(|a, b| a.versions.since().cmp(&b.versions.since()));
        shapes
            .iter()
            .map(|s| RustTy::from_ref(&s.value.ty))
            .reduce(|acc, t| widen_at(&acc, &t, self, depth))
            .unwrap_or(RustTy::Any)
    }

    /// Whether every value of `from` reads as a `to` without loss: the same
    /// type, a wider scalar, a text value into an open enum, or (for types
    /// that were renamed between versions) a struct whose every field `to`
    /// has with a type that fits, a union whose every alternative fits one of
    /// `to`'s, an alias whose target fits.
    fn fits(&self, from: &RustTy, to: &RustTy, depth: usize) -> bool {
        if from == to {
            return true;
        }
        if depth > 8 {
            return false;
        }
        match (from, to) {
            (RustTy::Scalar(a), RustTy::Scalar(b)) => widen_scalars(*a, *b) == Some(*b),
            (RustTy::Scalar(s), RustTy::I128) => integer_width(*s).is_some(),
            (RustTy::Scalar(s), RustTy::Named(n)) => text_scalar(*s) && self.text_enums.contains(n),
            (RustTy::Array(a), RustTy::Array(b)) | (RustTy::Map(a), RustTy::Map(b)) => {
                self.fits(a, b, depth + 1)
            }
            (_, RustTy::Any) => true,
            (RustTy::Named(a), RustTy::Named(b)) => {
                match (self.newest_shape(a), self.newest_shape(b)) {
                    (Some(TypeShape::Enum(x)), Some(TypeShape::Enum(y))) => {
                        (enum_is_text(x) && enum_is_text(y))
                            || widen_scalars(x.base, y.base) == Some(y.base)
                    }
                    (Some(TypeShape::Struct(x)), Some(TypeShape::Struct(y))) => {
                        x.additional.is_none() == y.additional.is_none()
                            && x.fields.iter().all(|fx| {
                                y.fields
                                    .iter()
                                    .find(|fy| fy.name == fx.name)
                                    .is_some_and(|fy| {
                                        let tx = self.field_type(fx, depth + 1);
                                        let ty = self.field_type(fy, depth + 1);
                                        self.fits(&tx, &ty, depth + 1)
                                    })
                            })
                    }
                    (Some(TypeShape::OneOf(x)), Some(TypeShape::OneOf(y))) => {
                        x.variants.iter().all(|vx| {
                            y.variants.iter().any(|vy| {
                                self.fits(&RustTy::from_ref(vx), &RustTy::from_ref(vy), depth + 1)
                            })
                        })
                    }
                    (
                        Some(TypeShape::Alias { target: x }),
                        Some(TypeShape::Alias { target: y }),
                    ) => self.fits(&RustTy::from_ref(x), &RustTy::from_ref(y), depth + 1),
                    _ => false,
                }
            }
            _ => false,
        }
    }
}

/// The narrowest Rust type holding every value of `older` and of `newer`
/// (the module documentation states the rule).
fn widen(older: &RustTy, newer: &RustTy, cx: &Widening<'_>) -> RustTy {
    widen_at(older, newer, cx, 0)
}

/// [`widen`] below `depth` levels of renamed types.
fn widen_at(older: &RustTy, newer: &RustTy, cx: &Widening<'_>, depth: usize) -> RustTy {
    if older == newer {
        return older.clone();
    }
    match (older, newer) {
        (RustTy::Scalar(a), RustTy::Scalar(b)) => match widen_scalars(*a, *b) {
            Some(s) => RustTy::Scalar(s),
            None if integer_width(*a).is_some() && integer_width(*b).is_some() => RustTy::I128,
            None => RustTy::Any,
        },
        (RustTy::Array(a), RustTy::Array(b)) => {
            RustTy::Array(Box::new(widen_at(a, b, cx, depth + 1)))
        }
        (RustTy::Map(a), RustTy::Map(b)) => RustTy::Map(Box::new(widen_at(a, b, cx, depth + 1))),
        _ if cx.fits(older, newer, depth) => newer.clone(),
        _ if cx.fits(newer, older, depth) => older.clone(),
        _ => RustTy::Any,
    }
}

/// Sorts versioned items oldest first.
fn by_since<T>(items: &mut [Versioned<T>]) {
    items.sort_by(|a, b| a.versions.since().cmp(&b.versions.since()));
}

/// Names the types whose every shape is an enumeration written as text.
fn text_enum_names(api: &Api) -> BTreeSet<String> {
    api.types
        .iter()
        .filter(|(_, def)| {
            def.shapes
                .iter()
                .all(|s| matches!(&s.value, TypeShape::Enum(e) if enum_is_text(e)))
        })
        .map(|(name, _)| name.clone())
        .collect()
}

fn shape_kind_label(shape: &TypeShape) -> String {
    match shape {
        TypeShape::Struct(_) => "an object".to_string(),
        TypeShape::Enum(e) => format!("an enumeration of `{}`", docs::scalar_label(e.base)),
        TypeShape::Alias { target } => docs::describe_type_ref(target),
        TypeShape::OneOf(_) => "a union".to_string(),
    }
}

/// "`int32` in API 1.23 to 1.29; `int64` since API 1.30"
fn shapes_phrase<T>(
    shapes: &[Versioned<T>],
    label: impl Fn(&T) -> String,
    all: &[ApiVersion],
) -> String {
    shapes
        .iter()
        .map(|s| {
            let described = s.versions.describe(all);
            let span = match described.strip_prefix("since ") {
                Some(rest) => format!("since API {rest}"),
                None => format!("in API {described}"),
            };
            format!("{} {span}", label(&s.value))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// Folds a type's shapes into one; the note says how, when there was more than one.
fn merged_kind(
    def: &TypeDef,
    all: &[ApiVersion],
    cx: &Widening<'_>,
) -> Result<(MergedKind, Option<String>), CodegenError> {
    let mut shapes = def.shapes.clone();
    by_since(&mut shapes);
    let Some(first) = shapes.first() else {
        return Err(CodegenError::EmptyType {
            name: def.name.clone(),
        });
    };
    let single = |shape: &TypeShape| match shape {
        TypeShape::Struct(s) => MergedKind::Struct(s.clone()),
        TypeShape::Enum(e) => MergedKind::Enum(e.clone()),
        TypeShape::Alias { target } => MergedKind::Alias(RustTy::from_ref(target)),
        TypeShape::OneOf(o) => MergedKind::Union(o.clone()),
    };
    if shapes.len() == 1 {
        return Ok((single(&first.value), None));
    }
    let phrase = shapes_phrase(&shapes, shape_kind_label, all);
    let structs: Vec<&StructShape> = shapes
        .iter()
        .filter_map(|s| match &s.value {
            TypeShape::Struct(st) => Some(st),
            _ => None,
        })
        .collect();
    if structs.len() == shapes.len() {
        let merged = merge_struct_shapes(&structs, all, cx);
        return Ok((MergedKind::Struct(merged), None));
    }
    let enums: Vec<&EnumShape> = shapes
        .iter()
        .filter_map(|s| match &s.value {
            TypeShape::Enum(e) => Some(e),
            _ => None,
        })
        .collect();
    let text_aliases = shapes.iter().all(|s| match &s.value {
        TypeShape::Enum(e) => enum_is_text(e),
        TypeShape::Alias {
            target: TypeRef::Scalar { scalar },
        } => text_scalar(*scalar),
        _ => false,
    });
    let widest_base = enums
        .iter()
        .map(|e| Some(e.base))
        .reduce(|a, b| a.zip(b).and_then(|(a, b)| widen_scalars(a, b)))
        .flatten();
    if (enums.len() == shapes.len() && widest_base.is_some()) || (text_aliases && !enums.is_empty())
    {
        let mut values: Vec<EnumValue> = Vec::new();
        for e in &enums {
            values.extend(e.values.iter().cloned());
        }
        // Where the type was a plain string, every value was allowed.
        for alias in shapes
            .iter()
            .filter(|s| matches!(s.value, TypeShape::Alias { .. }))
        {
            for value in &mut values {
                value.versions = value.versions.union(&alias.versions, all);
            }
        }
        let base = widest_base.unwrap_or(Scalar::String);
        let note = format!(
            "This type changed between API versions: {phrase}. Every version's values are listed."
        );
        return Ok((MergedKind::Enum(EnumShape { base, values }), Some(note)));
    }
    let aliases: Vec<RustTy> = shapes
        .iter()
        .filter_map(|s| match &s.value {
            TypeShape::Alias { target } => Some(RustTy::from_ref(target)),
            _ => None,
        })
        .collect();
    let target = if aliases.len() == shapes.len() {
        aliases
            .iter()
            .skip(1)
            .fold(aliases[0].clone(), |acc, t| widen(&acc, t, cx))
    } else {
        RustTy::Any
    };
    let held = if target == RustTy::Any {
        "a JSON value"
    } else {
        "a type wide enough for every version"
    };
    let note = format!("This type changed between API versions: {phrase}. It is held as {held}.");
    Ok((MergedKind::Alias(target), Some(note)))
}

/// Merges the fields of several struct shapes of one type by wire name, newest order first.
fn merge_struct_shapes(
    structs: &[&StructShape],
    all: &[ApiVersion],
    cx: &Widening<'_>,
) -> StructShape {
    let mut fields: Vec<Field> = Vec::new();
    for st in structs.iter().rev() {
        for f in &st.fields {
            match fields.iter_mut().find(|g| g.name == f.name) {
                Some(g) => {
                    g.versions = g.versions.union(&f.versions, all);
                    g.shapes.extend(f.shapes.iter().cloned());
                    if g.description.is_none() {
                        g.description.clone_from(&f.description);
                    }
                }
                None => fields.push(f.clone()),
            }
        }
    }
    for f in &mut fields {
        let mut seen: Vec<Versioned<FieldShape>> = Vec::new();
        for s in f.shapes.drain(..) {
            match seen.iter_mut().find(|t| t.value == s.value) {
                Some(t) => t.versions = t.versions.union(&s.versions, all),
                None => seen.push(s),
            }
        }
        f.shapes = seen;
    }
    let additional = structs
        .iter()
        .filter_map(|s| s.additional.as_ref().map(RustTy::from_ref))
        .reduce(|a, b| widen(&a, &b, cx));
    StructShape {
        fields,
        additional: additional.map(|t| type_ref_of(&t)),
    }
}

/// The IR reference for a Rust type (inverse of `RustTy::from_ref`).
fn type_ref_of(ty: &RustTy) -> TypeRef {
    match ty {
        RustTy::Scalar(s) => TypeRef::scalar(*s),
        RustTy::Named(n) => TypeRef::named(n.clone()),
        RustTy::Array(i) => TypeRef::Array {
            items: Box::new(type_ref_of(i)),
        },
        RustTy::Map(v) => TypeRef::Map {
            values: Box::new(type_ref_of(v)),
        },
        // The IR has no 128-bit integer: a map of them is held as JSON values.
        RustTy::I128 | RustTy::Any => TypeRef::Any,
    }
}

/// Resolves one field of struct `def`.
fn resolve_field(
    def: &TypeDef,
    field: &Field,
    rust: String,
    all: &[ApiVersion],
    cx: &Widening<'_>,
) -> Result<FieldModel, CodegenError> {
    let mut shapes = field.shapes.clone();
    by_since(&mut shapes);
    let Some(first) = shapes.first() else {
        return Err(CodegenError::EmptyField {
            type_name: def.name.clone(),
            field: field.name.clone(),
        });
    };
    let ty = shapes
        .iter()
        .skip(1)
        .fold(RustTy::from_ref(&first.value.ty), |acc, s| {
            widen(&acc, &RustTy::from_ref(&s.value.ty), cx)
        });
    let distinct_types = shapes.iter().any(|s| s.value.ty != first.value.ty);
    let shape_note = distinct_types.then(|| {
        let phrase = shapes_phrase(
            &shapes,
            |s: &FieldShape| docs::describe_type_ref(&s.ty),
            all,
        );
        let held = if ty == RustTy::Any {
            "a JSON value"
        } else {
            "a type wide enough for every version"
        };
        format!(
            "The type of this field changed between API versions: {phrase}. It is held as {held}."
        )
    });
    let scope: Vec<ApiVersion> = def.versions.members(all).cloned().collect();
    let everywhere = field.versions.covers(&scope);
    let required = shapes.iter().all(|s| s.value.required);
    let some_nullable = shapes.iter().any(|s| s.value.nullable);
    let written_as_null = required && some_nullable && everywhere;
    Ok(FieldModel {
        wire: field.name.clone(),
        rust,
        description: field.description.clone(),
        versions: field.versions.clone(),
        everywhere,
        ty,
        optional: !required || some_nullable,
        nullable: some_nullable && !written_as_null,
        written_as_null,
        boxed: false,
        shape_note,
        default: shapes.last().and_then(|s| s.value.default.clone()),
    })
}

/// The text of an enumeration value, checked against its base.
fn enum_label(
    def: &TypeDef,
    shape: &EnumShape,
    value: &serde_json::Value,
) -> Result<Option<String>, CodegenError> {
    let bad = || CodegenError::BadEnumValue {
        name: def.name.clone(),
        value: value.to_string(),
        base: docs::scalar_label(shape.base),
    };
    Ok(match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) if enum_is_text(shape) => Some(s.clone()),
        serde_json::Value::Number(_) | serde_json::Value::Bool(_) if enum_is_text(shape) => {
            Some(value.to_string())
        }
        serde_json::Value::Number(n)
            if integer_width(shape.base).is_some() && (n.is_i64() || n.is_u64()) =>
        {
            Some(n.to_string())
        }
        serde_json::Value::String(s)
            if integer_width(shape.base).is_some() && s.parse::<i64>().is_ok() =>
        {
            Some(s.clone())
        }
        _ => return Err(bad()),
    })
}

/// Resolves an enumeration; enumerations of floats or booleans become aliases
/// of their scalar, with the values listed in the note.
fn resolve_enum(
    def: &TypeDef,
    shape: &EnumShape,
    all: &[ApiVersion],
) -> Result<(ModelKind, Option<String>), CodegenError> {
    let mut labels: Vec<(String, VersionSet)> = Vec::new();
    for value in &shape.values {
        let Some(label) = enum_label(def, shape, &value.value)? else {
            continue;
        };
        match labels.iter_mut().find(|(l, _)| *l == label) {
            Some((_, versions)) => *versions = versions.union(&value.versions, all),
            None => labels.push((label, value.versions.clone())),
        }
    }
    if !enum_is_text(shape) && integer_width(shape.base).is_none() {
        let listed: Vec<String> = labels.iter().map(|(l, _)| format!("`{l}`")).collect();
        let note = format!("Listed values: {}.", listed.join(", "));
        return Ok((ModelKind::Alias(RustTy::Scalar(shape.base)), Some(note)));
    }
    let texts: Vec<String> = labels.iter().map(|(l, _)| l.clone()).collect();
    let (names, other) = naming::variant_names(&texts);
    let scope: Vec<ApiVersion> = def.versions.members(all).cloned().collect();
    let variants = labels
        .into_iter()
        .zip(names)
        .map(|((label, versions), rust)| VariantModel {
            everywhere: versions.covers(&scope),
            label,
            rust,
            versions,
        })
        .collect();
    let integer = (!enum_is_text(shape)).then_some(shape.base);
    Ok((
        ModelKind::Enum(EnumModel {
            integer,
            variants,
            other,
        }),
        None,
    ))
}

fn union_variant_base(ty: &RustTy, names: &BTreeMap<String, String>) -> String {
    match ty {
        RustTy::Named(n) => names.get(n).cloned().unwrap_or_else(|| n.clone()),
        RustTy::Scalar(s) => heck::ToUpperCamelCase::to_upper_camel_case(docs::scalar_label(*s)),
        RustTy::Array(_) => "List".to_string(),
        RustTy::Map(_) => "Map".to_string(),
        RustTy::I128 => "Integer".to_string(),
        RustTy::Any => "Value".to_string(),
    }
}

/// Resolves one type.
fn resolve(
    def: &TypeDef,
    kind: MergedKind,
    names: &BTreeMap<String, String>,
    all: &[ApiVersion],
    cx: &Widening<'_>,
) -> Result<Model, CodegenError> {
    let (kind, note) = match kind {
        MergedKind::Struct(st) if st.fields.is_empty() => {
            let values = st.additional.as_ref().map_or(RustTy::Any, RustTy::from_ref);
            (ModelKind::Alias(RustTy::Map(Box::new(values))), None)
        }
        MergedKind::Struct(st) => {
            let wires: Vec<&str> = st.fields.iter().map(|f| f.name.as_str()).collect();
            let (rust_names, extra) = naming::field_names(&wires, st.additional.is_some());
            let fields = st
                .fields
                .iter()
                .zip(rust_names)
                .map(|(f, rust)| resolve_field(def, f, rust, all, cx))
                .collect::<Result<Vec<_>, _>>()?;
            let additional = extra.zip(st.additional.as_ref().map(RustTy::from_ref));
            (ModelKind::Struct(StructModel { fields, additional }), None)
        }
        MergedKind::Enum(e) => resolve_enum(def, &e, all)?,
        MergedKind::Alias(t) => (ModelKind::Alias(t), None),
        MergedKind::Union(o) => {
            let tys: Vec<RustTy> = o.variants.iter().map(RustTy::from_ref).collect();
            let bases: Vec<String> = tys.iter().map(|t| union_variant_base(t, names)).collect();
            let (rust_names, other) = naming::variant_names(&bases);
            let mut variants: Vec<UnionVariant> = tys
                .into_iter()
                .zip(rust_names)
                .map(|(ty, rust)| UnionVariant {
                    rust,
                    ty,
                    boxed: false,
                })
                .collect();
            if !variants.iter().any(|v| v.ty == RustTy::Any) {
                variants.push(UnionVariant {
                    rust: other,
                    ty: RustTy::Any,
                    boxed: false,
                });
            }
            (ModelKind::Union(variants), None)
        }
    };
    Ok(Model {
        ir_name: def.name.clone(),
        rust_name: names
            .get(&def.name)
            .cloned()
            .unwrap_or_else(|| def.name.clone()),
        versions: def.versions.clone(),
        description: def.description.clone(),
        origin: def.origin.clone(),
        example: def
            .examples
            .iter()
            .max_by(|a, b| a.versions.until().cmp(&b.versions.until()))
            .map(|e| e.value.example.clone()),
        kind,
        shape_note: note,
    })
}

/// Every type named by a resolved model must exist.
fn check_references(models: &BTreeMap<String, Model>) -> Result<(), CodegenError> {
    for (name, model) in models {
        let refs: Vec<(String, &RustTy)> = match &model.kind {
            ModelKind::Struct(st) => st
                .fields
                .iter()
                .map(|f| (format!("{name}.{}", f.wire), &f.ty))
                .chain(st.additional.iter().map(|(_, t)| (name.clone(), t)))
                .collect(),
            ModelKind::Alias(t) => vec![(name.clone(), t)],
            ModelKind::Union(vs) => vs.iter().map(|v| (name.clone(), &v.ty)).collect(),
            ModelKind::Enum(_) => Vec::new(),
        };
        for (referrer, ty) in refs {
            if let Some(missing) = ty.named().into_iter().find(|n| !models.contains_key(*n)) {
                return Err(CodegenError::UnknownType {
                    referrer,
                    name: missing.to_string(),
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_widen_to_the_narrowest_integer_holding_both() {
        assert_eq!(widen_scalars(Scalar::I32, Scalar::I64), Some(Scalar::I64));
        assert_eq!(widen_scalars(Scalar::U8, Scalar::U32), Some(Scalar::U32));
        assert_eq!(widen_scalars(Scalar::U32, Scalar::I32), Some(Scalar::I64));
        assert_eq!(widen_scalars(Scalar::U8, Scalar::I8), Some(Scalar::I16));
        assert_eq!(widen_scalars(Scalar::U64, Scalar::I64), None);
    }

    #[test]
    fn numbers_widen_to_f64_and_string_formats_to_string() {
        assert_eq!(widen_scalars(Scalar::I64, Scalar::F32), Some(Scalar::F64));
        assert_eq!(widen_scalars(Scalar::F32, Scalar::F64), Some(Scalar::F64));
        assert_eq!(
            widen_scalars(Scalar::String, Scalar::DateTime),
            Some(Scalar::String)
        );
        assert_eq!(widen_scalars(Scalar::Boolean, Scalar::String), None);
    }

    #[test]
    fn signed_and_unsigned_64_bit_integers_meet_in_i128_and_text_in_an_open_enum() {
        let types = BTreeMap::new();
        let cx = Widening {
            types: &types,
            text_enums: BTreeSet::from(["State".to_string()]),
        };
        let i64 = RustTy::Scalar(Scalar::I64);
        let u64 = RustTy::Scalar(Scalar::U64);
        assert_eq!(widen(&i64, &u64, &cx), RustTy::I128);
        let text = RustTy::Scalar(Scalar::String);
        let state = RustTy::Named("State".to_string());
        assert_eq!(widen(&text, &state, &cx), state);
        let list = RustTy::Array(Box::new(text.clone()));
        assert_eq!(widen(&list, &text, &cx), RustTy::Any);
    }
}
