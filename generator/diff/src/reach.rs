//! Which operations reach each named type, and from which side.
//!
//! Built once per pair of versions, so that a change of a named type is
//! reported once, where it happens, with every operation it affects.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use drydock_ir::{Api, ApiVersion, Operation, TypeRef, TypeShape};

use crate::change::{OperationRef, Side};
use crate::inclusion::Inclusions;

/// How one operation reaches a type.
#[derive(Debug, Default)]
struct Reached {
    sides: BTreeSet<Side>,
    path: Option<String>,
}

/// Operations (and sides) that reach each named type in either of two versions.
#[derive(Debug, Default)]
pub struct Reachability {
    by_type: BTreeMap<String, BTreeMap<OperationRef, Reached>>,
    tags: BTreeMap<OperationRef, String>,
}

impl Reachability {
    /// Follows every operation present in `from` or `to` through parameters,
    /// bodies, fields, array items, map values, aliases and union alternatives
    /// present in either version, and from a struct to the types it includes.
    pub fn build(api: &Api, from: &ApiVersion, to: &ApiVersion, inclusions: &Inclusions) -> Self {
        Self::build_over(api, &[from, to], inclusions)
    }

    /// The same index over items present in any of `versions`.
    pub fn build_over(api: &Api, versions: &[&ApiVersion], inclusions: &Inclusions) -> Self {
        let in_pair = |set: &drydock_ir::VersionSet| versions.iter().any(|v| set.contains(v));
        let mut edges = type_edges(api, &in_pair);
        for (whole, out) in edges.iter_mut() {
            out.extend(
                inclusions
                    .parts(whole)
                    .iter()
                    .map(|part| (part.as_str(), String::new())),
            );
        }
        let mut index = Reachability::default();
        for op in api.operations.values().filter(|op| in_pair(&op.versions)) {
            let op_ref = OperationRef::of(op);
            index.tags.insert(op_ref.clone(), op.tag.clone());
            let mut seen = BTreeSet::new();
            for (root, side, path) in roots(op, &in_pair) {
                // Breadth first, so that each type's recorded path is a shortest one.
                let mut queue = VecDeque::from([(root, path)]);
                while let Some((name, path)) = queue.pop_front() {
                    if !seen.insert((name, side)) {
                        continue;
                    }
                    let reached = index
                        .by_type
                        .entry(name.to_string())
                        .or_default()
                        .entry(op_ref.clone())
                        .or_default();
                    reached.sides.insert(side);
                    reached.path.get_or_insert_with(|| path.clone());
                    for (next, label) in edges.get(name).into_iter().flatten() {
                        queue.push_back((next, join_path(&path, label)));
                    }
                }
            }
        }
        index
    }

    /// Where `type_name` sits in the first operation that reaches it:
    /// `response 200: RootFS`, `request body: HostConfig.Mounts[]`.
    pub fn path(&self, type_name: &str) -> Option<&str> {
        let (_, reached) = self.by_type.get(type_name)?.iter().next()?;
        reached.path.as_deref()
    }

    /// Operations that reach `type_name`, ordered by method and path.
    pub fn operations(&self, type_name: &str) -> Vec<OperationRef> {
        self.by_type
            .get(type_name)
            .map(|ops| ops.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Sides from which `type_name` is reached, request first.
    pub fn sides(&self, type_name: &str) -> Vec<Side> {
        let sides: BTreeSet<Side> = self
            .by_type
            .get(type_name)
            .into_iter()
            .flat_map(|ops| ops.values().flat_map(|r| r.sides.iter().copied()))
            .collect();
        sides.into_iter().collect()
    }

    /// The tag most operations reaching `type_name` share (ties go to the
    /// first in name order), or `Types` when no operation reaches it.
    pub fn area(&self, type_name: &str) -> String {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for op in self
            .by_type
            .get(type_name)
            .into_iter()
            .flat_map(|ops| ops.keys())
        {
            if let Some(tag) = self.tags.get(op) {
                *counts.entry(tag).or_default() += 1;
            }
        }
        let best = counts.values().copied().max().unwrap_or(0);
        counts
            .into_iter()
            .find(|(_, n)| *n == best)
            .map_or_else(|| "Types".to_string(), |(tag, _)| tag.to_string())
    }
}

/// `[]` for each array and `{}` for each map a reference goes through.
fn wrappers(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Array { items } => format!("[]{}", wrappers(items)),
        TypeRef::Map { values } => format!("{{}}{}", wrappers(values)),
        _ => String::new(),
    }
}

/// `path` followed by `label`: dotted, with `[]` and `{}` attached.
pub fn join_path(path: &str, label: &str) -> String {
    if label.is_empty() {
        path.to_string()
    } else if path.ends_with(": ") || label.starts_with(['[', '{']) {
        format!("{path}{label}")
    } else {
        format!("{path}.{label}")
    }
}

/// Named types each named type mentions directly, in either version, each
/// with the path segment that leads to it (`Mounts[]`; empty through aliases
/// and unions).
fn type_edges<'a>(
    api: &'a Api,
    in_pair: &impl Fn(&drydock_ir::VersionSet) -> bool,
) -> BTreeMap<&'a str, Vec<(&'a str, String)>> {
    let mut edges: BTreeMap<&str, Vec<(&str, String)>> = BTreeMap::new();
    for ty in api.types.values().filter(|t| in_pair(&t.versions)) {
        let out = edges.entry(ty.name.as_str()).or_default();
        for shape in ty.shapes.iter().filter(|s| in_pair(&s.versions)) {
            let refs: Vec<(String, &TypeRef)> = match &shape.value {
                TypeShape::Struct(st) => st
                    .fields
                    .iter()
                    .filter(|f| in_pair(&f.versions))
                    .flat_map(|f| {
                        f.shapes
                            .iter()
                            .filter(|s| in_pair(&s.versions))
                            .map(move |s| {
                                (format!("{}{}", f.name, wrappers(&s.value.ty)), &s.value.ty)
                            })
                    })
                    .chain(
                        st.additional
                            .iter()
                            .map(|t| (format!("{{}}{}", wrappers(t)), t)),
                    )
                    .collect(),
                TypeShape::Enum(_) => Vec::new(),
                TypeShape::Alias { target } => vec![(wrappers(target), target)],
                TypeShape::OneOf(one) => one.variants.iter().map(|v| (wrappers(v), v)).collect(),
            };
            out.extend(
                refs.into_iter()
                    .filter_map(|(label, ty)| Some((ty.named_inner()?, label))),
            );
        }
    }
    edges
}

/// Named types an operation mentions directly, with the side that mentions
/// them and where (`query filters: `, `request body: `, `response 200: []`).
fn roots<'a>(
    op: &'a Operation,
    in_pair: &impl Fn(&drydock_ir::VersionSet) -> bool,
) -> Vec<(&'a str, Side, String)> {
    let mut found = Vec::new();
    for p in op.parameters.iter().filter(|p| in_pair(&p.versions)) {
        for s in p.shapes.iter().filter(|s| in_pair(&s.versions)) {
            if let Some(name) = s.value.ty.named_inner() {
                let location = serde_json::to_value(p.location)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_string))
                    .unwrap_or_default();
                let path = format!("{location} {}: {}", p.name, wrappers(&s.value.ty));
                found.push((name, Side::Request, path));
            }
        }
    }
    let bodies = op
        .request_body
        .iter()
        .filter(|b| in_pair(&b.versions))
        .flat_map(|b| b.shapes.iter().filter(|s| in_pair(&s.versions)))
        .map(|s| ("request body".to_string(), Side::Request, &s.value))
        .chain(
            op.responses
                .iter()
                .filter(|r| in_pair(&r.versions))
                .flat_map(|r| {
                    r.shapes
                        .iter()
                        .filter(|s| in_pair(&s.versions))
                        .map(move |s| (format!("response {}", r.status), Side::Response, &s.value))
                }),
        );
    for (place, side, body) in bodies {
        if let Some(schema) = &body.schema
            && let Some(name) = schema.named_inner()
        {
            found.push((name, side, format!("{place}: {}", wrappers(schema))));
        }
    }
    found
}
