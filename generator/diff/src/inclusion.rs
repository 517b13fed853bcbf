//! Which named types a struct took its fields from.
//!
//! The IR flattens `allOf` parts into one struct: Docker's `HostConfig` holds
//! every field of `Resources`, and the container-create body every field of
//! `ContainerConfig`. A field added to `Resources` therefore shows up in both
//! types. To report it once, where it happens, the walk needs to know that
//! `HostConfig` includes `Resources`: a struct *includes* another when, in both
//! versions compared, every field the other has (two at least) is also its
//! field, with the same shape. (Not the same description: the IR keeps each
//! type's newest, and the two types may end in different versions.) The included type's
//! changes are then reported at the included type only, and whatever reaches
//! the including type reaches the included one.

use std::collections::{BTreeMap, BTreeSet};

use drydock_ir::{Api, ApiVersion, Field, FieldShape, StructShape, TypeDef, TypeShape, shape_at};

/// Included types and the fields each struct inherits from them.
#[derive(Debug, Default)]
pub struct Inclusions {
    parts: BTreeMap<String, Vec<String>>,
    inherited: BTreeMap<String, BTreeSet<String>>,
}

/// The struct shape of `ty` in `v`, if it is a struct there.
fn struct_at<'a>(ty: &'a TypeDef, v: &ApiVersion) -> Option<&'a StructShape> {
    if !ty.versions.contains(v) {
        return None;
    }
    match shape_at(&ty.shapes, v)? {
        TypeShape::Struct(st) => Some(st),
        _ => None,
    }
}

/// The shape of `field` in `v`, if it is present there.
fn field_at<'a>(field: &'a Field, v: &ApiVersion) -> Option<&'a FieldShape> {
    if field.versions.contains(v) {
        shape_at(&field.shapes, v)
    } else {
        None
    }
}

impl Inclusions {
    /// Finds, for every struct, the structs it includes in `from` and `to`.
    pub fn find(api: &Api, from: &ApiVersion, to: &ApiVersion) -> Self {
        let versions = [from, to];
        // Field name → types having a field of that name in either version.
        let mut by_field: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for ty in api.types.values() {
            for v in versions {
                for field in struct_at(ty, v).into_iter().flat_map(|st| &st.fields) {
                    if field_at(field, v).is_some() {
                        by_field.entry(&field.name).or_default().insert(&ty.name);
                    }
                }
            }
        }
        let mut fields_of: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        let mut pairs: BTreeSet<(&str, &str)> = BTreeSet::new();
        for part in api.types.values() {
            let names: BTreeSet<&str> = versions
                .iter()
                .flat_map(|v| {
                    struct_at(part, v).into_iter().flat_map(move |st| {
                        st.fields
                            .iter()
                            .filter(move |f| field_at(f, v).is_some())
                            .map(|f| f.name.as_str())
                    })
                })
                .collect();
            let (Some(first), true) = (names.first(), names.len() >= 2) else {
                continue;
            };
            let candidates = by_field.get(first).into_iter().flatten();
            for whole in candidates.filter(|name| **name != part.name) {
                if api
                    .types
                    .get(*whole)
                    .is_some_and(|w| includes(w, part, &versions))
                {
                    pairs.insert((whole, &part.name));
                }
            }
            fields_of.insert(&part.name, names);
        }
        let mut found = Inclusions::default();
        for &(whole, part) in &pairs {
            // Two types with the same fields include each other: the fields
            // belong to the first by name.
            if pairs.contains(&(part, whole)) && whole < part {
                continue;
            }
            found
                .parts
                .entry(whole.to_string())
                .or_default()
                .push(part.to_string());
            found
                .inherited
                .entry(whole.to_string())
                .or_default()
                .extend(fields_of[part].iter().map(|n| n.to_string()));
        }
        found
    }

    /// Types whose fields `type_name` took in.
    pub fn parts(&self, type_name: &str) -> &[String] {
        self.parts.get(type_name).map_or(&[], Vec::as_slice)
    }

    /// Whether `type_name`'s field `field` comes from a type it includes.
    pub fn is_inherited(&self, type_name: &str, field: &str) -> bool {
        self.inherited
            .get(type_name)
            .is_some_and(|fields| fields.contains(field))
    }
}

/// Whether `whole` has every field of `part`, identically, in each version.
fn includes(whole: &TypeDef, part: &TypeDef, versions: &[&ApiVersion]) -> bool {
    versions.iter().all(|v| {
        let Some(part_st) = struct_at(part, v) else {
            return true;
        };
        let whole_st = struct_at(whole, v);
        part_st
            .fields
            .iter()
            .filter(|f| field_at(f, v).is_some())
            .all(|pf| {
                whole_st
                    .and_then(|st| st.fields.iter().find(|wf| wf.name == pf.name))
                    .is_some_and(|wf| versions.iter().all(|u| field_at(wf, u) == field_at(pf, u)))
            })
    })
}
