//! Which operations reach each named type, and from which side.
//!
//! Built once per pair of versions, so that a change of a named type is
//! reported once, where it happens, with every operation it affects.

use std::collections::{BTreeMap, BTreeSet};

use drydock_ir::{Api, ApiVersion, Operation, TypeRef, TypeShape};

use crate::change::{OperationRef, Side};
use crate::inclusion::Inclusions;

/// Operations (and sides) that reach each named type in either of two versions.
#[derive(Debug, Default)]
pub struct Reachability {
    by_type: BTreeMap<String, BTreeMap<OperationRef, BTreeSet<Side>>>,
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
            out.extend(inclusions.parts(whole).iter().map(String::as_str));
        }
        let mut index = Reachability::default();
        for op in api.operations.values().filter(|op| in_pair(&op.versions)) {
            let op_ref = OperationRef::of(op);
            index.tags.insert(op_ref.clone(), op.tag.clone());
            let mut seen = BTreeSet::new();
            for (root, side) in roots(op, &in_pair) {
                let mut stack = vec![root];
                while let Some(name) = stack.pop() {
                    if !seen.insert((name, side)) {
                        continue;
                    }
                    index
                        .by_type
                        .entry(name.to_string())
                        .or_default()
                        .entry(op_ref.clone())
                        .or_default()
                        .insert(side);
                    if let Some(next) = edges.get(name) {
                        stack.extend(next.iter().copied());
                    }
                }
            }
        }
        index
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
            .flat_map(|ops| ops.values().flatten().copied())
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

/// Named types each named type mentions directly, in either version.
fn type_edges<'a>(
    api: &'a Api,
    in_pair: &impl Fn(&drydock_ir::VersionSet) -> bool,
) -> BTreeMap<&'a str, Vec<&'a str>> {
    let mut edges: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for ty in api.types.values().filter(|t| in_pair(&t.versions)) {
        let out = edges.entry(ty.name.as_str()).or_default();
        for shape in ty.shapes.iter().filter(|s| in_pair(&s.versions)) {
            let refs: Vec<&TypeRef> = match &shape.value {
                TypeShape::Struct(st) => st
                    .fields
                    .iter()
                    .filter(|f| in_pair(&f.versions))
                    .flat_map(|f| f.shapes.iter().filter(|s| in_pair(&s.versions)))
                    .map(|s| &s.value.ty)
                    .chain(st.additional.iter())
                    .collect(),
                TypeShape::Enum(_) => Vec::new(),
                TypeShape::Alias { target } => vec![target],
                TypeShape::OneOf(one) => one.variants.iter().collect(),
            };
            out.extend(refs.into_iter().filter_map(TypeRef::named_inner));
        }
    }
    edges
}

/// Named types an operation mentions directly, with the side that mentions them.
fn roots<'a>(
    op: &'a Operation,
    in_pair: &impl Fn(&drydock_ir::VersionSet) -> bool,
) -> Vec<(&'a str, Side)> {
    let params = op
        .parameters
        .iter()
        .filter(|p| in_pair(&p.versions))
        .flat_map(|p| p.shapes.iter().filter(|s| in_pair(&s.versions)))
        .filter_map(|s| s.value.ty.named_inner())
        .map(|name| (name, Side::Request));
    let request = op
        .request_body
        .iter()
        .filter(|b| in_pair(&b.versions))
        .flat_map(|b| b.shapes.iter().filter(|s| in_pair(&s.versions)))
        .filter_map(|s| s.value.schema.as_ref()?.named_inner())
        .map(|name| (name, Side::Request));
    let responses = op
        .responses
        .iter()
        .filter(|r| in_pair(&r.versions))
        .flat_map(|r| r.shapes.iter().filter(|s| in_pair(&s.versions)))
        .filter_map(|s| s.value.schema.as_ref()?.named_inner())
        .map(|name| (name, Side::Response));
    params.chain(request).chain(responses).collect()
}
