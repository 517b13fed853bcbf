//! Non-default values of the models, as generated Rust: the `value` module of
//! the contract test holds one function per model type the test sends or
//! answers with, which builds the type at a given API version with a struct
//! literal (so the compiler checks that every field is named) and sets every
//! field that version has.
//!
//! Rules, in one place:
//! - Booleans are `true`; numbers are small and non-zero, derived from the
//!   field's wire name so two fields rarely hold the same one; text is the
//!   wire name followed by ` value`; free-form JSON is a small object.
//! - A field that only some versions have is set at those versions and left
//!   `None` at the others, so the client's version checks pass and the
//!   server's downgrade keeps every field.
//! - An enumeration takes its last non-empty listed value that the version
//!   has (the first is usually the default), else any value it has, else an
//!   unlisted one; a union its first alternative (the one deserialising
//!   picks); a list and a map one element.
//! - A type that contains itself is built one level deep: its function takes
//!   a depth, and a field leading back to the type is set only at depth 0.

use std::cell::Cell;
use std::collections::{BTreeMap, BTreeSet};

use drydock_ir::{ApiVersion, Scalar, VersionSet};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use crate::client::plan::{JsonTy, ParamTy};
use crate::naming::{field_ident, type_ident};
use crate::space::{EnumModel, FieldModel, Model, ModelKind, ModelSpace, RustTy};

/// Where a value expression stands: in a test, or in the `value` module
/// (inside the function of a type that contains itself, with its depth).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Place {
    /// A test function: model functions are `value::…`.
    Test,
    /// A function of the `value` module.
    Module {
        /// The function has a `depth` parameter.
        deep: bool,
    },
}

/// The value functions of an API's model space.
pub(crate) struct Values<'a> {
    space: &'a ModelSpace,
    /// IR names by Rust name, for the client plan's model references.
    by_rust: BTreeMap<&'a str, &'a str>,
    /// Function names by IR name, for every type the test builds.
    functions: BTreeMap<String, String>,
    /// IR names of the types that contain themselves.
    cyclic: BTreeSet<String>,
    /// IR names of the types whose value depends on the version.
    versioned: BTreeSet<String>,
    /// The functions written so far call `at`.
    calls_at: Cell<bool>,
}

/// A small non-zero number derived from `seed`, so values differ from field to field.
fn seed_number(seed: &str) -> u32 {
    seed.bytes().map(u32::from).sum::<u32>() % 90 + 2
}

/// A literal of `scalar` for the item named `seed`; text reads `text`.
pub(crate) fn scalar_literal(scalar: Scalar, seed: &str, text: &str) -> TokenStream {
    // At most 91: it fits every integer type.
    let n = seed_number(seed);
    let literal = match scalar {
        Scalar::Boolean => return quote!(true),
        Scalar::I8 => Literal::i8_suffixed(n as i8),
        Scalar::I16 => Literal::i16_suffixed(n as i16),
        Scalar::I32 => Literal::i32_suffixed(n as i32),
        Scalar::I64 => Literal::i64_suffixed(i64::from(n)),
        Scalar::U8 => Literal::u8_suffixed(n as u8),
        Scalar::U16 => Literal::u16_suffixed(n as u16),
        Scalar::U32 => Literal::u32_suffixed(n),
        Scalar::U64 => Literal::u64_suffixed(u64::from(n)),
        Scalar::F32 => Literal::f32_suffixed(n as f32 + 0.5),
        Scalar::F64 => Literal::f64_suffixed(f64::from(n) + 0.5),
        Scalar::String
        | Scalar::DateTime
        | Scalar::Date
        | Scalar::Uuid
        | Scalar::Base64
        | Scalar::Binary => return quote!(String::from(#text)),
    };
    quote!(#literal)
}

/// `within(version, &[((1, 25), (1, 33)), …])`: whether the version lies in `set`.
pub(crate) fn within(set: &VersionSet) -> TokenStream {
    let spans = set.ranges().iter().map(|range| {
        let (a, b) = range.since.major_minor().unwrap_or((0, 0));
        let (c, d) = range.until.major_minor().unwrap_or((0, 0));
        let [a, b, c, d] = [a, b, c, d].map(|n| Literal::u16_unsuffixed(n as u16));
        quote!(((#a, #b), (#c, #d)))
    });
    quote!(&[#(#spans),*])
}

/// `Some(value)`, or `at(version, spans, value)` when `set` does not cover `scope`.
pub(crate) fn optional_at(
    set: &VersionSet,
    scope: &[ApiVersion],
    value: TokenStream,
) -> TokenStream {
    if set.covers(scope) {
        quote!(Some(#value))
    } else {
        let spans = within(set);
        quote!(at(version, #spans, #value))
    }
}

/// A free-form JSON value.
fn any_value() -> TokenStream {
    quote!(serde_json::json!({ "free": ["form", 1] }))
}

impl<'a> Values<'a> {
    /// The value functions needed to build `roots` (IR names of the types
    /// the test sends or answers with) and everything they contain.
    pub(crate) fn new(space: &'a ModelSpace, roots: impl IntoIterator<Item = String>) -> Self {
        let by_rust = space
            .models
            .iter()
            .map(|(ir, m)| (m.rust_name.as_str(), ir.as_str()))
            .collect();
        let mut values = Values {
            space,
            by_rust,
            functions: BTreeMap::new(),
            cyclic: BTreeSet::new(),
            versioned: BTreeSet::new(),
            calls_at: Cell::new(false),
        };
        let mut needed = BTreeSet::new();
        let mut stack: Vec<String> = roots.into_iter().collect();
        while let Some(name) = stack.pop() {
            if space.models.contains_key(&name) && needed.insert(name.clone()) {
                stack.extend(values.children(&name));
            }
        }
        values.cyclic = needed
            .iter()
            .filter(|name| values.reaches(&values.children(name), name))
            .cloned()
            .collect();
        values.versioned = needed
            .iter()
            .filter(|name| values.own_versioned(name))
            .cloned()
            .collect();
        loop {
            let more: Vec<String> = needed
                .iter()
                .filter(|name| !values.versioned.contains(*name))
                .filter(|name| {
                    values
                        .children(name)
                        .iter()
                        .any(|c| values.versioned.contains(c))
                })
                .cloned()
                .collect();
            if more.is_empty() {
                break;
            }
            values.versioned.extend(more);
        }
        let names: Vec<String> = needed
            .iter()
            .map(|ir| space.models[ir].rust_name.clone())
            .collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let (functions, _) = crate::naming::field_names(&refs, false);
        values.functions = needed.into_iter().zip(functions).collect();
        values
    }

    /// Whether the module written by [`Self::module`] calls `at`.
    pub(crate) fn calls_at(&self) -> bool {
        self.calls_at.get()
    }

    /// Whether the test builds any model.
    pub(crate) fn is_empty(&self) -> bool {
        self.functions.is_empty()
    }

    /// The IR name of the model named `rust` in Rust.
    pub(crate) fn ir_name(&self, rust: &str) -> Option<&'a str> {
        self.by_rust.get(rust).copied()
    }

    /// The types a value of `name` is built from.
    fn children(&self, name: &str) -> Vec<String> {
        let Some(model) = self.space.models.get(name) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        match &model.kind {
            ModelKind::Struct(st) => {
                for f in &st.fields {
                    named_in(&f.ty, &mut out);
                }
                if let Some((_, values)) = &st.additional {
                    named_in(values, &mut out);
                }
            }
            ModelKind::Alias(target) => named_in(target, &mut out),
            ModelKind::Union(variants) => {
                if let Some(first) = variants.first() {
                    named_in(&first.ty, &mut out);
                }
            }
            ModelKind::Enum(_) => {}
        }
        out
    }

    /// Whether the value of `name` itself (not what it contains) depends on
    /// the version: a field or an enumeration value some versions lack.
    fn own_versioned(&self, name: &str) -> bool {
        let Some(model) = self.space.models.get(name) else {
            return false;
        };
        match &model.kind {
            ModelKind::Struct(st) => {
                let scope = self.scope(model);
                st.fields
                    .iter()
                    .any(|f| f.optional && !f.everywhere && !f.versions.covers(&scope))
            }
            ModelKind::Enum(e) => enum_value(&type_ident(&model.rust_name), e).1,
            ModelKind::Alias(_) | ModelKind::Union(_) => false,
        }
    }

    /// The versions `model` exists in.
    fn scope(&self, model: &Model) -> Vec<ApiVersion> {
        model
            .versions
            .members(&self.space.all_versions)
            .cloned()
            .collect()
    }

    /// Whether building any of `from` builds a `target` again.
    fn reaches(&self, from: &[String], target: &str) -> bool {
        let mut seen = BTreeSet::new();
        let mut stack: Vec<String> = from.to_vec();
        while let Some(name) = stack.pop() {
            if name == target {
                return true;
            }
            if seen.insert(name.clone()) {
                stack.extend(self.children(&name));
            }
        }
        false
    }

    /// A call of the value function of the type `ir` (at `version`). Every
    /// type a test or a value names has one; were one missing, the call would
    /// name `missing_value_function` and the test would not compile.
    fn call(&self, ir: &str, place: Place) -> TokenStream {
        let function = self.functions.get(ir).map_or_else(
            || format_ident!("missing_value_function"),
            |f| field_ident(f),
        );
        let path = match place {
            Place::Test => quote!(value::#function),
            Place::Module { .. } => quote!(#function),
        };
        let mut args = Vec::new();
        if self.versioned.contains(ir) {
            args.push(quote!(version));
        }
        if self.cyclic.contains(ir) {
            args.push(match place {
                Place::Module { deep: true } => quote!(depth + 1),
                _ => quote!(0),
            });
        }
        quote!(#path(#(#args),*))
    }

    /// A value of a model field or element type.
    fn rust_value(&self, ty: &RustTy, seed: &str, place: Place) -> TokenStream {
        match ty {
            RustTy::Scalar(s) => scalar_literal(*s, seed, &format!("{seed} value")),
            RustTy::I128 => {
                let n = Literal::i128_suffixed(i128::from(seed_number(seed)));
                quote!(#n)
            }
            RustTy::Named(name) => self.call(name, place),
            RustTy::Array(items) => {
                let item = self.rust_value(items, seed, place);
                quote!(vec![#item])
            }
            RustTy::Map(values) => {
                let mut value = self.rust_value(values, seed, place);
                if self.space.nil_able(values) {
                    value = quote!(Some(#value));
                }
                let key = format!("{seed} key");
                quote!(std::collections::BTreeMap::from([(String::from(#key), #value)]))
            }
            RustTy::Any => any_value(),
        }
    }

    /// A value of a JSON body or answer of the client plan.
    pub(crate) fn json_value(&self, ty: &JsonTy, seed: &str) -> TokenStream {
        match ty {
            JsonTy::Scalar(s) => scalar_literal(*s, seed, &format!("{seed} value")),
            JsonTy::Model(rust) => match self.ir_name(rust) {
                Some(ir) => self.call(ir, Place::Test),
                None => any_value(),
            },
            JsonTy::Array(items) => {
                let item = self.json_value(items, seed);
                quote!(vec![#item])
            }
            JsonTy::Map(values) => {
                let value = self.json_value(values, seed);
                let key = format!("{seed} key");
                quote!(std::collections::BTreeMap::from([(String::from(#key), #value)]))
            }
            JsonTy::Any => any_value(),
        }
    }

    /// A value of a parameter of the client plan; `text` is what text holds.
    pub(crate) fn param_value(&self, ty: &ParamTy, seed: &str, text: &str) -> TokenStream {
        match ty {
            ParamTy::Scalar(s) => scalar_literal(*s, seed, text),
            ParamTy::Model(rust) => match self.ir_name(rust) {
                Some(ir) => self.call(ir, Place::Test),
                None => quote!(String::from(#text)),
            },
            ParamTy::Filters => quote!(Filters::new().with("label", "a=b").with("label", "c")),
            ParamTy::Json => quote!(serde_json::json!({ "KEY": #text })),
            ParamTy::List { items, .. } => {
                // Items hold no separator, so splitting gives them back.
                let first = self.param_value(items, seed, &format!("{seed}-1"));
                let second = self.param_value(items, seed, &format!("{seed}-2"));
                quote!(vec![#first, #second])
            }
        }
    }

    /// The IR names of the models a client-plan JSON type names.
    pub(crate) fn json_roots(&self, ty: &JsonTy, out: &mut Vec<String>) {
        match ty {
            JsonTy::Model(rust) => out.extend(self.ir_name(rust).map(str::to_string)),
            JsonTy::Array(inner) | JsonTy::Map(inner) => self.json_roots(inner, out),
            JsonTy::Scalar(_) | JsonTy::Any => {}
        }
    }

    /// The `value` module: one function per type, in IR name order.
    pub(crate) fn module(&self) -> TokenStream {
        let functions = self.functions.iter().map(|(ir, function)| {
            let model = &self.space.models[ir];
            self.function(model, function)
        });
        quote! {
            /// Values of the models with every field a version has set.
            mod value {
                use super::*;

                #(#functions)*
            }
        }
    }

    fn function(&self, model: &Model, function: &str) -> TokenStream {
        let ident = field_ident(function);
        let ty = type_ident(&model.rust_name);
        let deep = self.cyclic.contains(&model.ir_name);
        let place = Place::Module { deep };
        let body = match &model.kind {
            ModelKind::Struct(st) => {
                let scope = self.scope(model);
                let fields = st
                    .fields
                    .iter()
                    .map(|f| self.field(model, f, &scope, place));
                let additional = st.additional.as_ref().map(|(rust, values)| {
                    let field = field_ident(rust);
                    let value = self.rust_value(values, "additional", place);
                    quote!(#field: std::collections::BTreeMap::from([(String::from("additional key"), #value)]),)
                });
                quote!(models::#ty { #(#fields)* #additional })
            }
            ModelKind::Enum(e) => enum_value(&ty, e).0,
            ModelKind::Alias(target) => self.rust_value(target, &model.ir_name, place),
            ModelKind::Union(variants) => match variants.first() {
                Some(first) => {
                    let variant = type_ident(&first.rust);
                    let mut value = self.rust_value(&first.ty, &model.ir_name, place);
                    if first.boxed {
                        value = quote!(Box::new(#value));
                    }
                    quote!(models::#ty::#variant(#value))
                }
                // The models give every union its catch-all alternative.
                None => quote!(unreachable!("a union without alternatives")),
            },
        };
        let versioned = self.versioned.contains(&model.ir_name);
        let doc = match (&model.kind, versioned) {
            (ModelKind::Struct(_), true) => {
                format!(
                    " A `{}` with every field the version has set.",
                    model.rust_name
                )
            }
            (ModelKind::Struct(_), false) => {
                format!(" A `{}` with every field set.", model.rust_name)
            }
            (ModelKind::Enum(_), true) => {
                format!(" A value of `{}` that the version lists.", model.rust_name)
            }
            (ModelKind::Enum(_), false) => format!(" A listed value of `{}`.", model.rust_name),
            _ => format!(" A value of `{}`.", model.rust_name),
        };
        let mut params = Vec::new();
        if self.versioned.contains(&model.ir_name) {
            params.push(quote!(version: ApiVersion));
        }
        if deep {
            params.push(quote!(depth: u8));
        }
        quote! {
            #[doc = #doc]
            pub(super) fn #ident(#(#params),*) -> models::#ty {
                #body
            }
        }
    }

    /// `field: value,` for one struct field.
    fn field(
        &self,
        model: &Model,
        f: &FieldModel,
        scope: &[ApiVersion],
        place: Place,
    ) -> TokenStream {
        let ident = field_ident(&f.rust);
        let mut value = self.rust_value(&f.ty, &f.wire, place);
        if f.boxed {
            value = quote!(Box::new(#value));
        }
        if f.optional && f.nullable {
            value = quote!(Some(#value));
        }
        if f.optional {
            value = if f.everywhere || f.versions.covers(scope) {
                quote!(Some(#value))
            } else {
                self.calls_at.set(true);
                optional_at(&f.versions, scope, value)
            };
        }
        let deep = matches!(place, Place::Module { deep: true });
        let mut inner = Vec::new();
        named_in(&f.ty, &mut inner);
        if deep && self.reaches(&inner, &model.ir_name) {
            let stop = if f.optional {
                quote!(None)
            } else {
                quote!(Default::default())
            };
            value = quote!(if depth == 0 { #value } else { #stop });
        }
        quote!(#ident: #value,)
    }
}

/// The IR names `ty` mentions.
fn named_in(ty: &RustTy, out: &mut Vec<String>) {
    match ty {
        RustTy::Named(name) => out.push(name.clone()),
        RustTy::Array(inner) | RustTy::Map(inner) => named_in(inner, out),
        RustTy::Scalar(_) | RustTy::I128 | RustTy::Any => {}
    }
}

/// An enumeration's value at `version`: the preferred listed value the
/// version has, else an unlisted one; and whether that depends on the version.
fn enum_value(ty: &proc_macro2::Ident, e: &EnumModel) -> (TokenStream, bool) {
    let mut preferred: Vec<_> = e
        .variants
        .iter()
        .filter(|v| !v.label.is_empty())
        .rev()
        .collect();
    preferred.extend(e.variants.iter().filter(|v| v.label.is_empty()));
    let other = type_ident(&e.other);
    let unlisted = match e.integer {
        None => quote!(models::#ty::#other(String::from("unlisted value"))),
        Some(_) => {
            let highest = e
                .variants
                .iter()
                .filter_map(|v| v.label.parse::<i64>().ok())
                .max()
                .unwrap_or(0);
            let n = Literal::i64_unsuffixed(highest + 1);
            quote!(models::#ty::#other(#n))
        }
    };
    let mut arms = Vec::new();
    for v in preferred {
        let variant = type_ident(&v.rust);
        if v.everywhere {
            arms.push((None, quote!(models::#ty::#variant)));
            break;
        }
        arms.push((Some(within(&v.versions)), quote!(models::#ty::#variant)));
    }
    let last = match arms.last() {
        Some((None, _)) => arms.pop().map(|(_, value)| value),
        _ => None,
    }
    .unwrap_or(unlisted);
    let versioned = !arms.is_empty();
    let value = arms.into_iter().rev().fold(last, |otherwise, (spans, value)| {
        quote!(if within(version, #spans) { #value } else { #otherwise })
    });
    (value, versioned)
}
