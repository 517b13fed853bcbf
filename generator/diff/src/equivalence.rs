//! Whether two type references carry the same JSON on the wire.
//!
//! Specs rename types without changing what is sent: Docker's `GraphDriver`
//! became `GraphDriverData`, `NodeVersion` became `ObjectVersion`, and an inline
//! schema that gained a `$ref` gets the referenced type's name. A field whose
//! type only changed name has not changed for clients or servers. Two references
//! are equivalent when they are the same scalar, both any, arrays or maps of
//! equivalent types, or named types whose shapes (in the old and the new version
//! respectively) have the same fields with the same flags and equivalent types,
//! the same enumeration values, or equivalent alias targets or alternatives.
//! An alias is transparent. Recursive types are compared coinductively: a pair
//! under comparison is assumed equivalent.

use std::cell::RefCell;
use std::collections::BTreeSet;

use drydock_ir::{
    Api, ApiVersion, EnumShape, FieldShape, Scalar, StructShape, TypeRef, TypeShape, shape_at,
};

/// The fields of `st` present in `v`, with their shapes there.
fn present_fields<'s>(st: &'s StructShape, v: &ApiVersion) -> Vec<(&'s str, &'s FieldShape)> {
    st.fields
        .iter()
        .filter(|f| f.versions.contains(v))
        .filter_map(|f| shape_at(&f.shapes, v).map(|s| (f.name.as_str(), s)))
        .collect()
}

/// Compares type references of one version with those of another.
pub struct Wire<'a> {
    api: &'a Api,
    from: &'a ApiVersion,
    to: &'a ApiVersion,
    assumed: RefCell<BTreeSet<(String, String)>>,
}

impl<'a> Wire<'a> {
    /// A comparison of `from`'s types with `to`'s.
    pub fn new(api: &'a Api, from: &'a ApiVersion, to: &'a ApiVersion) -> Self {
        Wire {
            api,
            from,
            to,
            assumed: RefCell::default(),
        }
    }

    fn shape(&self, name: &str, v: &ApiVersion) -> Option<&'a TypeShape> {
        let ty = self.api.types.get(name)?;
        if ty.versions.contains(v) {
            shape_at(&ty.shapes, v)
        } else {
            None
        }
    }

    /// Whether `old` (in the old version) and `new` (in the new one) carry the same JSON.
    pub fn same(&self, old: &TypeRef, new: &TypeRef) -> bool {
        use TypeRef::*;
        match (old, new) {
            (Named { name: a }, Named { name: b }) if a == b => true,
            (Named { name: a }, Named { name: b }) => {
                let key = (a.clone(), b.clone());
                if self.assumed.borrow().contains(&key) {
                    return true;
                }
                let (Some(sa), Some(sb)) = (self.shape(a, self.from), self.shape(b, self.to))
                else {
                    return false;
                };
                self.assumed.borrow_mut().insert(key.clone());
                let same = self.same_shapes(sa, sb);
                self.assumed.borrow_mut().remove(&key);
                same
            }
            (Named { name }, other) => match self.shape(name, self.from) {
                Some(TypeShape::Alias { target }) => self.same(target, other),
                _ => false,
            },
            (other, Named { name }) => match self.shape(name, self.to) {
                Some(TypeShape::Alias { target }) => self.same(other, target),
                _ => false,
            },
            (Scalar { scalar: a }, Scalar { scalar: b }) => a == b,
            (Array { items: a }, Array { items: b }) => self.same(a, b),
            (Map { values: a }, Map { values: b }) => self.same(a, b),
            (Any, Any) => true,
            _ => false,
        }
    }

    fn same_shapes(&self, old: &TypeShape, new: &TypeShape) -> bool {
        match (old, new) {
            (TypeShape::Struct(a), TypeShape::Struct(b)) => self.same_structs(a, b),
            (TypeShape::Enum(a), TypeShape::Enum(b)) => self.same_enums(a, b),
            (TypeShape::Alias { target: a }, TypeShape::Alias { target: b }) => self.same(a, b),
            (TypeShape::OneOf(a), TypeShape::OneOf(b)) => {
                a.any_of == b.any_of
                    && a.variants.len() == b.variants.len()
                    && a.variants
                        .iter()
                        .zip(&b.variants)
                        .all(|(x, y)| self.same(x, y))
            }
            _ => false,
        }
    }

    fn same_structs(&self, old: &StructShape, new: &StructShape) -> bool {
        let a = present_fields(old, self.from);
        let b = present_fields(new, self.to);
        let extras_same = match (&old.additional, &new.additional) {
            (Some(x), Some(y)) => self.same(x, y),
            (None, None) => true,
            _ => false,
        };
        extras_same
            && a.len() == b.len()
            && a.iter().all(|(name, fa)| {
                b.iter().find(|(n, _)| n == name).is_some_and(|(_, fb)| {
                    fa.required == fb.required
                        && fa.nullable == fb.nullable
                        && fa.default == fb.default
                        && self.same(&fa.ty, &fb.ty)
                })
            })
    }

    fn same_enums(&self, old: &EnumShape, new: &EnumShape) -> bool {
        let values = |e: &EnumShape, v: &ApiVersion| -> Vec<serde_json::Value> {
            let mut listed: Vec<serde_json::Value> = e
                .values
                .iter()
                .filter(|x| x.versions.contains(v))
                .map(|x| x.value.clone())
                .collect();
            listed.sort_by_key(|x| x.to_string());
            listed
        };
        old.base == new.base && values(old, self.from) == values(new, self.to)
    }

    /// Whether struct `old` (in the old version) and `new` (in the new one)
    /// share at least half of the smaller one's fields: the same object that
    /// changed, rather than a name given to another object.
    pub fn similar_structs(&self, old: &StructShape, new: &StructShape) -> bool {
        let names = |st: &StructShape, v: &ApiVersion| -> BTreeSet<String> {
            st.fields
                .iter()
                .filter(|f| f.versions.contains(v))
                .map(|f| f.name.clone())
                .collect()
        };
        let (a, b) = (names(old, self.from), names(new, self.to));
        let common = a.intersection(&b).count();
        a.is_empty() || b.is_empty() || (common > 0 && common * 2 >= a.len().min(b.len()))
    }

    /// The two struct types behind `old` and `new` (through the same arrays
    /// and maps) when `new`'s type is new in the new version and the two share
    /// at least half of the smaller one's fields: a renamed type that also
    /// changed, whose field changes are worth reporting one by one.
    pub fn renamed_structs<'r>(
        &self,
        old: &'r TypeRef,
        new: &'r TypeRef,
    ) -> Option<(&'r str, &'r str)> {
        use TypeRef::*;
        match (old, new) {
            (Array { items: a }, Array { items: b }) => self.renamed_structs(a, b),
            (Map { values: a }, Map { values: b }) => self.renamed_structs(a, b),
            (Named { name: a }, Named { name: b }) if a != b => {
                if self.shape(b, self.from).is_some() {
                    return None;
                }
                let (Some(TypeShape::Struct(sa)), Some(TypeShape::Struct(sb))) =
                    (self.shape(a, self.from), self.shape(b, self.to))
                else {
                    return None;
                };
                self.similar_structs(sa, sb).then_some((a, b))
            }
            _ => None,
        }
    }
}

/// How the values a new type accepts relate to those the old type accepted,
/// when one set holds the other.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Range {
    /// The new type accepts fewer values (`string` → an enumeration, `int64` → `int32`).
    Narrower,
    /// The new type accepts more values (an enumeration → `string`, `int32` → `int64`).
    Wider,
}

/// Integers by signedness and width; floats above every integer.
fn numeric_rank(s: Scalar) -> Option<(u8, u8)> {
    use Scalar::*;
    Some(match s {
        I8 => (0, 1),
        I16 => (0, 2),
        I32 => (0, 3),
        I64 => (0, 4),
        U8 => (1, 1),
        U16 => (1, 2),
        U32 => (1, 3),
        U64 => (1, 4),
        F32 => (2, 5),
        F64 => (2, 6),
        _ => return None,
    })
}

/// Whether every value of scalar `a` is a value of scalar `b`.
fn scalar_within(a: Scalar, b: Scalar) -> bool {
    use Scalar::*;
    if a == b {
        return true;
    }
    let text_like = |s| matches!(s, DateTime | Date | Uuid | Base64);
    if b == String && text_like(a) {
        return true;
    }
    match (numeric_rank(a), numeric_rank(b)) {
        // Same signedness and wider; unsigned into a wider signed; any integer into a float.
        (Some((sa, wa)), Some((sb, wb))) => {
            wa < wb && (sa == sb || (sa == 1 && sb == 0) || sb == 2)
        }
        _ => false,
    }
}

impl Wire<'_> {
    /// Whether `old`'s values are within `new`'s, or the other way round,
    /// for scalars and for a string enumeration against `string`.
    pub fn range_change(&self, old: &TypeRef, new: &TypeRef) -> Option<Range> {
        let old_scalar = self.scalar_of(old, self.from)?;
        let new_scalar = self.scalar_of(new, self.to)?;
        let (old_enum, new_enum) = (self.is_enum(old, self.from), self.is_enum(new, self.to));
        let within = |a, b| scalar_within(a, b);
        match (old_enum, new_enum) {
            (false, false) if within(old_scalar, new_scalar) => Some(Range::Wider),
            (false, false) if within(new_scalar, old_scalar) => Some(Range::Narrower),
            (true, false) if within(old_scalar, new_scalar) => Some(Range::Wider),
            (false, true) if within(new_scalar, old_scalar) => Some(Range::Narrower),
            _ => None,
        }
    }

    /// The scalar a reference is written as: a scalar, or an enumeration's base.
    fn scalar_of(&self, ty: &TypeRef, v: &ApiVersion) -> Option<Scalar> {
        match ty {
            TypeRef::Scalar { scalar } => Some(*scalar),
            TypeRef::Named { name } => match self.shape(name, v)? {
                TypeShape::Enum(e) => Some(e.base),
                TypeShape::Alias { target } => self.scalar_of(target, v),
                _ => None,
            },
            _ => None,
        }
    }

    fn is_enum(&self, ty: &TypeRef, v: &ApiVersion) -> bool {
        match ty {
            TypeRef::Named { name } => match self.shape(name, v) {
                Some(TypeShape::Enum(_)) => true,
                Some(TypeShape::Alias { target }) => self.is_enum(target, v),
                _ => false,
            },
            _ => false,
        }
    }
}
