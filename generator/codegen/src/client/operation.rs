//! Tokens for one operation: its params struct, the private function that
//! checks versions and builds the request, the public method that sends it,
//! and for hijacking operations the `_upgrade` method.

use drydock_ir::{ApiVersion, ParamLocation, Scalar, VersionSet};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::plan::{BodyPlanKind, JsonTy, OperationPlan, ParamPlan, ParamTy, ResponsePlan, needs};
use crate::docs;
use crate::naming::{field_ident, type_ident};

/// What the crate root has to provide for the operations emitted.
#[derive(Default, Clone, Copy)]
pub(crate) struct Uses {
    /// `require`: version checks of operations and parameters.
    pub require: bool,
    /// `check_body`: version checks of JSON bodies.
    pub check_body: bool,
    /// `encode_segment`: path parameters.
    pub encode_segment: bool,
    /// `encode_path`: path parameters that span segments.
    pub encode_path: bool,
    /// `JsonStream`.
    pub json_stream: bool,
    /// `FrameStream` and `raw_frames`.
    pub frames: bool,
    /// `ByteStream` and `byte_stream`.
    pub bytes: bool,
    /// `read_text`.
    pub text: bool,
    /// `read_optional_json`.
    pub optional_json: bool,
}

impl Uses {
    /// Records what `op` needs.
    pub(crate) fn record(&mut self, op: &OperationPlan, all: &[ApiVersion]) {
        let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
        self.require |= !op.everywhere(all) || op.params.iter().any(|p| gated(p, &scope));
        self.check_body |= op.body.as_ref().is_some_and(|b| {
            matches!(
                b.kind,
                BodyPlanKind::Json {
                    versioned: true,
                    ..
                }
            )
        });
        self.encode_segment |= op.params.iter().any(|p| p.location == ParamLocation::Path);
        self.encode_path |= op.params.iter().any(|p| p.multi_segment);
        match op.response {
            ResponsePlan::JsonStream(_) => self.json_stream = true,
            ResponsePlan::Frames => {
                self.frames = true;
                self.bytes = true;
            }
            ResponsePlan::Bytes => self.bytes = true,
            ResponsePlan::Text => self.text = true,
            ResponsePlan::OptionalJson(_) => self.optional_json = true,
            ResponsePlan::Empty | ResponsePlan::Json(_) => {}
        }
    }
}

/// Whether setting `p` needs a version check.
fn gated(p: &ParamPlan, scope: &[ApiVersion]) -> bool {
    p.optional && !p.versions.covers(scope)
}

/// `&[(since, until), …]`: the spans of `set`, open at the ends of `all`.
fn spans(set: &VersionSet, all: &[ApiVersion]) -> TokenStream {
    let first = all.first();
    let last = all.last();
    let version = |v: &ApiVersion| {
        let (major, minor) = v.major_minor().unwrap_or((0, 0));
        let major = Literal::u32_unsuffixed(major);
        let minor = Literal::u32_unsuffixed(minor);
        quote!(crate::ApiVersion::new(#major, #minor))
    };
    let items = set.ranges().iter().map(|r| {
        let since = if Some(&r.since) == first {
            quote!(None)
        } else {
            let v = version(&r.since);
            quote!(Some(#v))
        };
        let until = if Some(&r.until) == last {
            quote!(None)
        } else {
            let v = version(&r.until);
            quote!(Some(#v))
        };
        quote!((#since, #until))
    });
    quote!(&[#(#items),*])
}

/// "API 1.25 to 1.33", "API 1.23 to 1.24 and 1.30 to 1.33".
fn versions_phrase(set: &VersionSet) -> String {
    let parts: Vec<String> = set
        .ranges()
        .iter()
        .map(|r| {
            if r.since == r.until {
                r.since.to_string()
            } else {
                format!("{} to {}", r.since, r.until)
            }
        })
        .collect();
    format!("API {}", parts.join(" and "))
}

/// The Rust type of a scalar.
pub(crate) fn scalar_ty(scalar: Scalar) -> TokenStream {
    match scalar {
        Scalar::Boolean => quote!(bool),
        Scalar::I8 => quote!(i8),
        Scalar::I16 => quote!(i16),
        Scalar::I32 => quote!(i32),
        Scalar::I64 => quote!(i64),
        Scalar::U8 => quote!(u8),
        Scalar::U16 => quote!(u16),
        Scalar::U32 => quote!(u32),
        Scalar::U64 => quote!(u64),
        Scalar::F32 => quote!(f32),
        Scalar::F64 => quote!(f64),
        Scalar::String
        | Scalar::DateTime
        | Scalar::Date
        | Scalar::Uuid
        | Scalar::Base64
        | Scalar::Binary => quote!(String),
    }
}

fn model_ty(rust_name: &str) -> TokenStream {
    let ident = type_ident(rust_name);
    quote!(drydock_models::#ident)
}

/// The Rust type of a JSON body or response.
pub(crate) fn json_ty(ty: &JsonTy) -> TokenStream {
    match ty {
        JsonTy::Scalar(s) => scalar_ty(*s),
        JsonTy::Model(name) => model_ty(name),
        JsonTy::Array(items) => {
            let items = json_ty(items);
            quote!(Vec<#items>)
        }
        JsonTy::Map(values) => {
            let values = json_ty(values);
            quote!(std::collections::BTreeMap<String, #values>)
        }
        JsonTy::Any => quote!(serde_json::Value),
    }
}

fn param_ty(ty: &ParamTy) -> TokenStream {
    match ty {
        ParamTy::Scalar(s) => scalar_ty(*s),
        ParamTy::Model(name) => model_ty(name),
        ParamTy::Filters => quote!(drydock_runtime::Filters),
        ParamTy::Json => quote!(serde_json::Value),
        ParamTy::List { items, .. } => {
            let items = param_ty(items);
            quote!(Vec<#items>)
        }
    }
}

/// The wire text of `value` for a parameter of type `ty`; `value` is an
/// expression of type `&T` when `by_ref`, else a place of type `T`.
fn encode_value(ty: &ParamTy, value: &TokenStream, by_ref: bool) -> TokenStream {
    match ty {
        ParamTy::Scalar(Scalar::Boolean) if by_ref => {
            quote!(String::from(if *#value { "1" } else { "0" }))
        }
        ParamTy::Scalar(Scalar::Boolean) => quote!(String::from(if #value { "1" } else { "0" })),
        ParamTy::Scalar(_) | ParamTy::Model(_) | ParamTy::Json => quote!(#value.to_string()),
        ParamTy::Filters => quote!(#value.to_json()),
        ParamTy::List { items, separator } => {
            let item = encode_value(items, &quote!(item), true);
            let separator = separator.unwrap_or(',').to_string();
            quote!(#value.iter().map(|item| #item).collect::<Vec<_>>().join(#separator))
        }
    }
}

fn doc_lines(description: Option<&str>, fallback: String) -> Vec<String> {
    description
        .map(docs::rustdoc_lines)
        .filter(|lines| !lines.is_empty())
        .unwrap_or_else(|| vec![fallback])
}

/// The operation's items: params struct and `impl Client` block.
pub(crate) fn operation_items(op: &OperationPlan, all: &[ApiVersion]) -> TokenStream {
    let params_struct = params_struct(op, all);
    let request_fn = request_fn(op, all);
    let method = method(op);
    let upgrade = op.hijack.then(|| upgrade_method(op));
    quote! {
        #params_struct

        impl Client {
            #method
            #upgrade
            #request_fn
        }
    }
}

fn params_struct(op: &OperationPlan, all: &[ApiVersion]) -> TokenStream {
    let Some(name) = &op.params_name else {
        return TokenStream::new();
    };
    let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
    let name = type_ident(name);
    let method = &op.method;
    let struct_doc = format!(" Parameters of [`Client::{method}`].");
    let mut fields = Vec::new();
    let mut clone = true;
    let mut default = true;
    for p in &op.params {
        let place = match p.location {
            ParamLocation::Path => "Path parameter",
            ParamLocation::Query => "Query parameter",
            ParamLocation::Header => "Header",
            ParamLocation::Cookie => "Cookie",
        };
        let mut notes = vec![format!("{place} `{}`.", p.wire)];
        notes.extend(docs::version_note(&p.versions, &scope, all));
        if p.optional {
            notes.push("`None` leaves it out.".to_string());
        }
        let doc = docs::doc_attrs(&[
            doc_lines(
                p.description.as_deref(),
                format!("The `{}` parameter.", p.wire),
            ),
            vec![notes.join(" ")],
        ]);
        let ident = field_ident(&p.field);
        let mut ty = param_ty(&p.ty);
        if p.optional {
            ty = quote!(Option<#ty>);
        } else if matches!(p.ty, ParamTy::Model(_)) {
            default = false;
        }
        fields.push(quote!(#doc pub #ident: #ty));
    }
    if let Some(body) = &op.body {
        let (ty, note) = match &body.kind {
            BodyPlanKind::Json { ty, .. } => (json_ty(ty), "Sent as JSON.".to_string()),
            BodyPlanKind::Bytes { content_type } => {
                clone = false;
                (
                    quote!(reqwest::Body),
                    format!("Sent as it is, as `{content_type}`."),
                )
            }
        };
        default &= body.optional || body.has_default;
        let mut notes = vec![note];
        notes.extend(docs::version_note(&body.versions, &scope, all));
        if body.optional {
            notes.push("`None` sends no body.".to_string());
        }
        let doc = docs::doc_attrs(&[
            doc_lines(body.description.as_deref(), "The request body.".to_string()),
            vec![notes.join(" ")],
        ]);
        let ident = field_ident(&body.field);
        let ty = if body.optional {
            quote!(Option<#ty>)
        } else {
            ty
        };
        fields.push(quote!(#doc pub #ident: #ty));
    }
    if let Some(tty) = &op.tty_field {
        let ident = field_ident(tty);
        fields.push(quote! {
            /// The container (or exec instance) has a TTY: its output is then
            /// raw bytes, not multiplexed frames, and comes out as stdout
            /// frames. Not sent to the daemon.
            pub #ident: bool
        });
    }
    let mut derives = vec![quote!(Debug)];
    if clone {
        derives.push(quote!(Clone));
    }
    if default {
        derives.push(quote!(Default));
    }
    quote! {
        #[doc = #struct_doc]
        #[derive(#(#derives),*)]
        pub struct #name {
            #(#fields,)*
        }
    }
}

fn request_fn_ident(op: &OperationPlan) -> proc_macro2::Ident {
    format_ident!("{}_request", op.method)
}

fn params_arg(op: &OperationPlan) -> Option<TokenStream> {
    op.params_name.as_ref().map(|name| {
        let name = type_ident(name);
        quote!(params: #name)
    })
}

/// The private function that checks versions and builds the request.
fn request_fn(op: &OperationPlan, all: &[ApiVersion]) -> TokenStream {
    let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
    let id = &op.id;
    let ident = request_fn_ident(op);
    let arg = params_arg(op);
    let mut checks = Vec::new();
    if !op.everywhere(all) {
        let what = format!("{id} ({} {})", op.http_method, op.path);
        let spans = spans(&op.versions, all);
        let needs = needs(&op.versions, all);
        checks.push(quote!(crate::require(version, #what, #spans, #needs)?;));
    }
    for p in op.params.iter().filter(|p| gated(p, &scope)) {
        let place = match p.location {
            ParamLocation::Header => "header",
            _ => "query parameter",
        };
        let what = format!("{id} {place} {}", p.wire);
        let field = field_ident(&p.field);
        let spans = spans(&p.versions, all);
        let needs = needs(&p.versions, all);
        checks.push(quote! {
            if params.#field.is_some() {
                crate::require(version, #what, #spans, #needs)?;
            }
        });
    }
    if let Some(body) = &op.body
        && let BodyPlanKind::Json {
            versioned: true,
            limited,
            ..
        } = &body.kind
    {
        let field = field_ident(&body.field);
        let entries = limited.iter().map(|(path, needs)| quote!((#path, #needs)));
        let table = quote!(&[#(#entries),*]);
        checks.push(if body.optional {
            quote! {
                if let Some(body) = &params.#field {
                    crate::check_body(version, #id, body, #table)?;
                }
            }
        } else {
            quote!(crate::check_body(version, #id, &params.#field, #table)?;)
        });
    }
    let version = (!checks.is_empty()).then(|| quote!(let version = self.connection.version();));

    let path = path_expr(op);
    let method = format_ident!("{}", op.http_method.to_ascii_uppercase());
    let mut edits: Vec<TokenStream> = Vec::new();
    if let Some(query) = query_stmts(op) {
        edits.push(query);
    }
    let content_type_param = op.params.iter().find(|p| {
        p.location == ParamLocation::Header && p.wire.eq_ignore_ascii_case("content-type")
    });
    let bytes_body = op
        .body
        .as_ref()
        .is_some_and(|b| matches!(b.kind, BodyPlanKind::Bytes { .. }));
    for p in op
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Header)
    {
        if bytes_body && content_type_param.is_some_and(|c| c.wire == p.wire) {
            continue;
        }
        let wire = &p.wire;
        let field = field_ident(&p.field);
        edits.push(if p.optional {
            quote! {
                if let Some(value) = &params.#field {
                    request = request.header(#wire, value.to_string());
                }
            }
        } else {
            quote!(request = request.header(#wire, params.#field.to_string());)
        });
    }
    if let Some(body) = &op.body {
        let field = field_ident(&body.field);
        edits.push(match &body.kind {
            BodyPlanKind::Json { .. } if body.optional => quote! {
                if let Some(body) = &params.#field {
                    request = request.json(body);
                }
            },
            BodyPlanKind::Json { .. } => quote!(request = request.json(&params.#field);),
            BodyPlanKind::Bytes { content_type } => {
                let content_type = match content_type_param {
                    Some(p) => {
                        let ct = field_ident(&p.field);
                        if p.optional {
                            quote!(params.#ct.as_ref().map_or_else(|| String::from(#content_type), ToString::to_string))
                        } else {
                            quote!(params.#ct.to_string())
                        }
                    }
                    None => quote!(#content_type),
                };
                if body.optional {
                    quote! {
                        if let Some(body) = params.#field {
                            request = request
                                .header(reqwest::header::CONTENT_TYPE, #content_type)
                                .body(body);
                        }
                    }
                } else {
                    quote! {
                        request = request
                            .header(reqwest::header::CONTENT_TYPE, #content_type)
                            .body(params.#field);
                    }
                }
            }
        });
    }
    let build = if edits.is_empty() {
        quote! {
            Ok(self.connection.request(Method::#method, #path))
        }
    } else {
        quote! {
            let mut request = self.connection.request(Method::#method, #path);
            #(#edits)*
            Ok(request)
        }
    };
    let doc = format!(
        " Checks the versions of [`Client::{}`]'s request and builds it.",
        op.method
    );
    quote! {
        #[doc = #doc]
        fn #ident(&self, #arg) -> Result<RequestBuilder, Error> {
            #version
            #(#checks)*
            #build
        }
    }
}

/// The path expression: a literal, or `&format!(…)` with encoded parameters.
fn path_expr(op: &OperationPlan) -> TokenStream {
    let mut template = String::new();
    let mut args = Vec::new();
    let mut rest = op.path.as_str();
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}').map(|c| open + c) else {
            break;
        };
        template.push_str(&rest[..open]);
        template.push_str("{}");
        let name = &rest[open + 1..close];
        let arg = match op
            .params
            .iter()
            .find(|p| p.location == ParamLocation::Path && p.wire == name)
        {
            Some(p) => {
                let field = field_ident(&p.field);
                let encode = if p.multi_segment {
                    quote!(crate::encode_path)
                } else {
                    quote!(crate::encode_segment)
                };
                if p.ty == ParamTy::Scalar(Scalar::String) {
                    quote!(#encode(&params.#field))
                } else {
                    quote!(#encode(&params.#field.to_string()))
                }
            }
            None => {
                let literal = format!("{{{name}}}");
                quote!(#literal)
            }
        };
        args.push(arg);
        rest = &rest[close + 1..];
    }
    template.push_str(rest);
    if args.is_empty() {
        quote!(#template)
    } else {
        quote!(&format!(#template, #(#args),*))
    }
}

/// The statements that add the query string, if the operation has query parameters.
fn query_stmts(op: &OperationPlan) -> Option<TokenStream> {
    let query: Vec<&ParamPlan> = op
        .params
        .iter()
        .filter(|p| p.location == ParamLocation::Query)
        .collect();
    if query.is_empty() {
        return None;
    }
    let mut initial = Vec::new();
    let mut pushes = Vec::new();
    for p in query {
        let wire = &p.wire;
        let field = field_ident(&p.field);
        let multi = matches!(
            p.ty,
            ParamTy::List {
                separator: None,
                ..
            }
        );
        let items = match &p.ty {
            ParamTy::List { items, .. } => Some(items),
            _ => None,
        };
        match (p.optional, multi, items) {
            (false, false, _) => {
                let value = encode_value(&p.ty, &quote!(params.#field), false);
                initial.push(quote!((#wire, #value)));
            }
            (true, false, _) => {
                let value = encode_value(&p.ty, &quote!(value), true);
                pushes.push(quote! {
                    if let Some(value) = &params.#field {
                        query.push((#wire, #value));
                    }
                });
            }
            (optional, true, Some(items)) => {
                let value = encode_value(items, &quote!(item), true);
                let source = if optional {
                    quote!(params.#field.iter().flatten())
                } else {
                    quote!(&params.#field)
                };
                pushes.push(quote! {
                    for item in #source {
                        query.push((#wire, #value));
                    }
                });
            }
            (_, true, None) => {}
        }
    }
    let declare = match (initial.is_empty(), pushes.is_empty()) {
        (true, _) => quote!(let mut query: Vec<(&str, String)> = Vec::new();),
        (false, true) => quote!(let query: Vec<(&str, String)> = vec![#(#initial),*];),
        (false, false) => quote!(let mut query: Vec<(&str, String)> = vec![#(#initial),*];),
    };
    Some(quote! {
        #declare
        #(#pushes)*
        if !query.is_empty() {
            request = request.query(&query);
        }
    })
}

fn return_ty(op: &OperationPlan) -> TokenStream {
    match &op.response {
        ResponsePlan::Empty => quote!(()),
        ResponsePlan::Json(ty) => json_ty(ty),
        ResponsePlan::OptionalJson(ty) => {
            let ty = json_ty(ty);
            quote!(Option<#ty>)
        }
        ResponsePlan::Text => quote!(String),
        ResponsePlan::JsonStream(ty) => {
            let ty = json_ty(ty);
            quote!(crate::JsonStream<#ty>)
        }
        ResponsePlan::Frames => quote!(crate::FrameStream),
        ResponsePlan::Bytes => quote!(crate::ByteStream),
    }
}

fn method_doc(op: &OperationPlan) -> TokenStream {
    let mut paragraphs = Vec::new();
    if let Some(summary) = &op.summary {
        paragraphs.push(docs::rustdoc_lines(summary));
    }
    if let Some(description) = &op.description {
        paragraphs.push(docs::rustdoc_lines(description));
    }
    if paragraphs.iter().all(Vec::is_empty) {
        paragraphs.push(vec![format!("The `{}` operation.", op.id)]);
    }
    let mut facts = vec![format!(
        "`{} {}` (`{}`), {}.",
        op.http_method,
        op.path,
        op.id,
        versions_phrase(&op.versions)
    )];
    if op.deprecated {
        facts.push("The spec marks it deprecated.".to_string());
    }
    paragraphs.push(vec![facts.join(" ")]);
    paragraphs.push(vec![returns_sentence(op)]);
    docs::doc_attrs(&paragraphs)
}

fn returns_sentence(op: &OperationPlan) -> String {
    match &op.response {
        ResponsePlan::Empty => "Returns once the daemon answers with success.".to_string(),
        ResponsePlan::Json(_) => "Returns the daemon's JSON answer, decoded.".to_string(),
        ResponsePlan::OptionalJson(_) => {
            "Returns the daemon's JSON answer, decoded, or `None` when it answers with no body."
                .to_string()
        }
        ResponsePlan::Text => "Returns the body of the answer as text.".to_string(),
        ResponsePlan::JsonStream(_) => "Returns the stream of JSON messages the daemon writes; \
             an error the daemon reports in the stream comes out as an `Err` item."
            .to_string(),
        ResponsePlan::Frames => "Returns the output as a stream of frames: multiplexed \
             stdout/stderr frames, or, when the params say the container has a TTY, the raw \
             bytes as stdout frames."
            .to_string(),
        ResponsePlan::Bytes => "Returns the body of the answer as a stream of bytes.".to_string(),
    }
}

fn method(op: &OperationPlan) -> TokenStream {
    let doc = method_doc(op);
    let ident = field_ident(&op.method);
    let arg = params_arg(op);
    let request_fn = request_fn_ident(op);
    let id = &op.id;
    let ret = return_ty(op);
    let call = if op.params_name.is_some() {
        quote!(self.#request_fn(params)?)
    } else {
        quote!(self.#request_fn()?)
    };
    let body = match &op.response {
        ResponsePlan::Empty => quote! {
            let request = #call;
            self.connection.send_empty(#id, request).await
        },
        ResponsePlan::Json(_) => quote! {
            let request = #call;
            self.connection.send_json(#id, request).await
        },
        ResponsePlan::OptionalJson(_) => quote! {
            let request = #call;
            crate::read_optional_json(#id, self.connection.send(#id, request).await?).await
        },
        ResponsePlan::Text => quote! {
            let request = #call;
            crate::read_text(#id, self.connection.send(#id, request).await?).await
        },
        ResponsePlan::JsonStream(_) => quote! {
            let request = #call;
            let stream = self.connection.send_json_stream(#id, request).await?;
            Ok(Box::pin(stream))
        },
        ResponsePlan::Frames => {
            let tty = op.tty_field.as_deref().map_or_else(
                || quote!(false),
                |f| {
                    let f = field_ident(f);
                    quote!(params.#f)
                },
            );
            quote! {
                let tty = #tty;
                let request = #call;
                if tty {
                    let response = self.connection.send(#id, request).await?;
                    Ok(crate::raw_frames(#id, response))
                } else {
                    let frames = self.connection.send_frames(#id, request).await?;
                    Ok(Box::pin(frames))
                }
            }
        }
        ResponsePlan::Bytes => quote! {
            let request = #call;
            let response = self.connection.send(#id, request).await?;
            Ok(crate::byte_stream(#id, response))
        },
    };
    quote! {
        #doc
        pub async fn #ident(&self, #arg) -> Result<#ret, Error> {
            #body
        }
    }
}

fn upgrade_method(op: &OperationPlan) -> TokenStream {
    let ident = format_ident!("{}_upgrade", op.method);
    let arg = params_arg(op);
    let request_fn = request_fn_ident(op);
    let id = &op.id;
    let call = if op.params_name.is_some() {
        quote!(self.#request_fn(params)?)
    } else {
        quote!(self.#request_fn()?)
    };
    let doc = docs::doc_attrs(&[
        vec![format!(
            "[`Client::{}`], taking over the connection.",
            op.method
        )],
        vec![
            "Sends the request with `Connection: Upgrade` and `Upgrade: tcp` and, once the"
                .to_string(),
            "daemon answers `101 Switching Protocols`, returns the raw two-way stream: write"
                .to_string(),
            "to it to feed the container's stdin, read its output from it (multiplexed".to_string(),
            "frames, decoded with `drydock_runtime::frames::FrameCodec`, unless there is a TTY)."
                .to_string(),
        ],
        vec![format!(
            "`{} {}` (`{}`), {}.",
            op.http_method,
            op.path,
            op.id,
            versions_phrase(&op.versions)
        )],
    ]);
    quote! {
        #doc
        pub async fn #ident(&self, #arg) -> Result<crate::Upgraded, Error> {
            let request = #call;
            self.connection.upgrade(#id, request).await
        }
    }
}
