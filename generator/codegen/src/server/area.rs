//! One area module of the generated server: per operation a request struct
//! with its decoder and a response enum with its encoder, then the area's
//! trait.

use drydock_ir::{ApiVersion, Scalar, TypeRef};
use proc_macro2::TokenStream;
use quote::{format_ident, quote};

use super::plan::{
    Area, FieldPlan, OperationPlan, ParamTy, ResponseBody, ResponsePlan, ServerPlan, Source,
};
use crate::docs;
use crate::naming::{field_ident, type_ident};

/// A spec description as rustdoc lines ([`docs::rustdoc_lines`]).
fn doc_lines(text: Option<&str>) -> Vec<String> {
    text.map(docs::rustdoc_lines).unwrap_or_default()
}

/// The tokens of a scalar's Rust type.
pub(crate) fn scalar_tokens(scalar: Scalar) -> TokenStream {
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

impl ServerPlan {
    /// The Rust type of an IR type reference, models from `drydock_models`.
    pub(crate) fn type_tokens(&self, ty: &TypeRef) -> TokenStream {
        match ty {
            TypeRef::Named { name } => {
                let ident = type_ident(
                    self.model_names
                        .get(name)
                        .map_or(name.as_str(), String::as_str),
                );
                quote!(drydock_models::#ident)
            }
            TypeRef::Scalar { scalar } => scalar_tokens(*scalar),
            TypeRef::Array { items } => {
                let items = self.type_tokens(items);
                quote!(Vec<#items>)
            }
            TypeRef::Map { values } => {
                let values = self.type_tokens(values);
                quote!(std::collections::BTreeMap<String, #values>)
            }
            TypeRef::Any => quote!(serde_json::Value),
        }
    }

    fn param_tokens(&self, ty: &ParamTy) -> TokenStream {
        match ty {
            ParamTy::Bool => quote!(bool),
            ParamTy::Number(s) => scalar_tokens(*s),
            ParamTy::Text => quote!(String),
            ParamTy::Model(name) => {
                let ident = type_ident(name);
                quote!(drydock_models::#ident)
            }
            ParamTy::Filters => quote!(drydock_runtime::Filters),
            ParamTy::Json => quote!(serde_json::Value),
            ParamTy::List(_) => quote!(Vec<String>),
        }
    }

    fn field_type(&self, field: &FieldPlan) -> TokenStream {
        let inner = match &field.source {
            Source::Path => quote!(String),
            Source::Query(ty) => self.param_tokens(ty),
            Source::Header(ParamTy::Model(name)) => {
                let ident = type_ident(name);
                quote!(drydock_models::#ident)
            }
            Source::Header(_) => quote!(String),
            Source::JsonBody(ty) => self.type_tokens(ty),
            Source::TextBody => quote!(String),
            Source::StreamBody => quote!(drydock_runtime::server::BodyStream),
            Source::Hijack => quote!(drydock_runtime::server::Hijack),
        };
        if field.optional {
            quote!(Option<#inner>)
        } else {
            inner
        }
    }

    /// The expression decoding one field from `request`.
    fn field_decoder(&self, field: &FieldPlan) -> TokenStream {
        let wire = &field.wire;
        let value = match &field.source {
            Source::Path => return quote!(request.path_param(#wire)?),
            Source::Query(ty) => match ty {
                ParamTy::Bool => quote!(request.query().boolean(#wire)),
                ParamTy::Number(s) => {
                    let t = scalar_tokens(*s);
                    quote!(request.query().number::<#t>(#wire)?)
                }
                ParamTy::Text => quote!(request.query().string(#wire)),
                ParamTy::Model(name) => {
                    let ident = type_ident(name);
                    quote!(request.query().model::<drydock_models::#ident>(#wire))
                }
                ParamTy::Filters => quote!(request.query().filters(#wire)?),
                ParamTy::Json => quote!(request.query().json::<serde_json::Value>(#wire)?),
                ParamTy::List(separator) => {
                    let separator = match separator {
                        Some(c) => quote!(Some(#c)),
                        None => quote!(None),
                    };
                    quote!(request.query().list(#wire, #separator))
                }
            },
            Source::Header(ParamTy::Model(name)) => {
                let ident = type_ident(name);
                quote!(request.header(#wire)?.map(|value| drydock_models::#ident::from(value.as_str())))
            }
            Source::Header(_) => quote!(request.header(#wire)?),
            Source::JsonBody(_) => quote!(request.json_body().await?),
            Source::TextBody => quote!(request.text_body().await?),
            Source::StreamBody => return quote!(request.body_stream()),
            Source::Hijack => return quote!(request.hijack()),
        };
        if field.optional {
            value
        } else {
            let location = match &field.source {
                Source::Header(_) => "header",
                Source::JsonBody(_) | Source::TextBody => "body",
                _ => "query",
            };
            quote!(#value.ok_or_else(|| drydock_runtime::server::request::missing(#location, #wire))?)
        }
    }

    fn request_items(&self, op: &OperationPlan) -> TokenStream {
        let all = &self.all_versions;
        let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
        let name = type_ident(&op.request_name);
        let doc = docs::doc_attrs(&[vec![format!(
            "The decoded request of `{} {}` (`{}`).",
            op.http_method, op.path, op.id
        )]]);
        let fields = op.fields.iter().map(|f| {
            let ident = field_ident(&f.rust);
            let ty = self.field_type(f);
            let where_from = match &f.source {
                Source::Path => format!("Path parameter `{}`.", f.wire),
                Source::Query(_) => format!("Query parameter `{}`.", f.wire),
                Source::Header(_) => format!("Header `{}`.", f.wire),
                Source::JsonBody(_) => "The JSON body.".to_string(),
                Source::TextBody => "The text body.".to_string(),
                Source::StreamBody => "The body, streamed as it arrives.".to_string(),
                Source::Hijack => "The client's input.".to_string(),
            };
            let doc = docs::doc_attrs(&[
                vec![where_from],
                doc_lines(f.description.as_deref()),
                docs::version_note(&f.versions, &scope, all)
                    .into_iter()
                    .collect(),
            ]);
            let wire = &f.wire;
            let serde = match (&f.source, f.optional) {
                (Source::StreamBody | Source::Hijack, _) => quote!(#[serde(skip)]),
                (_, true) => {
                    quote!(#[serde(rename = #wire, skip_serializing_if = "Option::is_none")])
                }
                (_, false) => quote!(#[serde(rename = #wire)]),
            };
            quote! { #doc #serde pub #ident: #ty }
        });
        let decoders = op.fields.iter().map(|f| {
            let ident = field_ident(&f.rust);
            let value = self.field_decoder(f);
            quote!(#ident: #value)
        });
        let request_arg = if op.fields.is_empty() {
            quote!(_request)
        } else {
            quote!(request)
        };
        quote! {
            #doc
            #[derive(Debug, serde::Serialize)]
            pub struct #name {
                #(#fields,)*
            }

            impl #name {
                /// Decodes the request as the daemon does; what does not decode is a 400.
                pub async fn decode(
                    #request_arg: &mut drydock_runtime::server::Request,
                ) -> Result<Self, drydock_runtime::server::ServerError> {
                    Ok(Self {
                        #(#decoders,)*
                    })
                }
            }
        }
    }

    pub(crate) fn body_tokens(&self, body: &ResponseBody) -> Option<TokenStream> {
        match body {
            ResponseBody::Empty => None,
            // Named types are boxed: a struct answer beside a small error answer
            // would make every value of the enum as large as the struct.
            ResponseBody::Json(ty @ TypeRef::Named { .. }) => {
                let ty = self.type_tokens(ty);
                Some(quote!(Box<#ty>))
            }
            ResponseBody::Json(ty) => Some(self.type_tokens(ty)),
            ResponseBody::Messages(ty) => {
                let ty = self.type_tokens(ty);
                Some(quote!(drydock_runtime::server::Messages<#ty>))
            }
            ResponseBody::Stream(_) => Some(quote!(drydock_runtime::server::ByteStream)),
            ResponseBody::Text => Some(quote!(String)),
        }
    }

    fn response_items(&self, op: &OperationPlan) -> TokenStream {
        let all = &self.all_versions;
        let scope: Vec<ApiVersion> = op.versions.members(all).cloned().collect();
        let name = type_ident(&op.response_name);
        let doc = format!(
            " The documented answers of `{}`, one variant per status.",
            op.id
        );
        let answers: Vec<Answer> = op
            .responses
            .iter()
            .map(|r| Answer {
                ident: variant_ident(r),
                status: Some(r.status),
                description: r.description.as_deref(),
                body: &r.body,
                headers: &r.headers,
                versions: &r.versions,
            })
            .chain(op.default_response.as_ref().map(|d| Answer {
                ident: format_ident!("Default"),
                status: None,
                description: d.description.as_deref(),
                body: &d.body,
                headers: &d.headers,
                versions: &d.versions,
            }))
            .collect();
        let variants = answers.iter().map(|a| {
            let ident = &a.ident;
            let head = match a.status {
                Some(status) => format!("Status {status}."),
                None => "Any other status (the `default` answer).".to_string(),
            };
            let doc = docs::doc_attrs(&[
                vec![head],
                doc_lines(a.description),
                docs::version_note(a.versions, &scope, all)
                    .into_iter()
                    .collect(),
            ]);
            let body = self.body_tokens(a.body);
            if a.headers.is_empty() && a.status.is_some() {
                match body {
                    Some(body) => quote!(#doc #ident(#body)),
                    None => quote!(#doc #ident),
                }
            } else {
                let status = a.status.is_none().then(|| {
                    quote!(/// The status, one the other variants do not have.
                    status: u16,)
                });
                let headers = a.headers.iter().map(|(wire, rust)| {
                    let field = field_ident(rust);
                    let doc = format!(" The `{wire}` header.");
                    quote!(#[doc = #doc] #field: String)
                });
                let body = body.map(|b| {
                    quote!(/// The body.
                    body: #b,)
                });
                quote!(#doc #ident { #status #body #(#headers,)* })
            }
        });
        let uses_version = answers
            .iter()
            .any(|a| matches!(a.body, ResponseBody::Json(_) | ResponseBody::Messages(_)));
        let version_arg = if uses_version {
            quote!(version)
        } else {
            quote!(_version)
        };
        let reply = quote!(drydock_runtime::server::Reply);
        let arms = answers.iter().map(|a| {
            let ident = &a.ident;
            let status = match a.status {
                Some(status) => {
                    let status = proc_macro2::Literal::u16_unsuffixed(status);
                    quote!(#status)
                }
                None => quote!(status),
            };
            let reply = match a.body {
                ResponseBody::Empty => quote!(#reply::empty(#status)),
                ResponseBody::Json(_) => quote!(#reply::json(#status, body, version)),
                ResponseBody::Messages(_) => quote!(#reply::json_messages(#status, body, version)),
                ResponseBody::Stream(kind) => {
                    let kind = format_ident!("{}", kind);
                    quote!(#reply::stream(#status, drydock_runtime::server::response::#kind, body))
                }
                ResponseBody::Text => quote!(#reply::text(#status, body)),
            };
            let has_body = !matches!(a.body, ResponseBody::Empty);
            if a.headers.is_empty() && a.status.is_some() {
                if has_body {
                    quote!(Self::#ident(body) => #reply,)
                } else {
                    quote!(Self::#ident => #reply,)
                }
            } else {
                let fields: Vec<_> = a
                    .headers
                    .iter()
                    .map(|(_, rust)| field_ident(rust))
                    .collect();
                let wires: Vec<_> = a.headers.iter().map(|(wire, _)| wire).collect();
                let status_field = a.status.is_none().then(|| quote!(status,));
                let body = has_body.then(|| quote!(body,));
                if fields.is_empty() {
                    quote!(Self::#ident { #status_field #body } => #reply,)
                } else {
                    quote!(Self::#ident { #status_field #body #(#fields,)* } => {
                        let reply = #reply?;
                        #(let reply = reply.with_header(#wires, &#fields)?;)*
                        Ok(reply)
                    })
                }
            }
        });
        quote! {
            #[doc = #doc]
            pub enum #name {
                #(#variants,)*
            }

            impl #name {
                /// The answer as the runtime writes it; JSON is downgraded to `version`.
                pub fn into_reply(
                    self,
                    #version_arg: drydock_runtime::ApiVersion,
                ) -> Result<#reply, drydock_runtime::server::ServerError> {
                    match self {
                        #(#arms)*
                    }
                }
            }
        }
    }

    fn trait_method(&self, op: &OperationPlan) -> TokenStream {
        let method = field_ident(&op.method);
        let request = type_ident(&op.request_name);
        let response = type_ident(&op.response_name);
        let id = &op.id;
        let mut head = docs::described(op.summary.as_deref(), || format!("`{id}`."));
        head.push(String::new());
        head.push(format!(
            "`{} {}`. Without an implementation it answers 501.",
            op.http_method, op.path
        ));
        let doc = docs::doc_attrs(&[
            head,
            doc_lines(op.description.as_deref()),
            docs::version_note(&op.versions, &self.all_versions, &self.all_versions)
                .into_iter()
                .collect(),
        ]);
        quote! {
            #doc
            fn #method(
                &self,
                request: #request,
                version: drydock_runtime::ApiVersion,
            ) -> impl Future<Output = Result<#response, drydock_runtime::server::ServerError>> + Send {
                let _ = (request, version);
                std::future::ready(Err(drydock_runtime::server::ServerError::not_implemented(#id)))
            }
        }
    }

    /// The tokens of an area's module.
    pub(crate) fn area_tokens(&self, module: &str, area: &Area) -> TokenStream {
        let items = area.operations.iter().map(|op| {
            let request = self.request_items(op);
            let response = self.response_items(op);
            quote!(#request #response)
        });
        let trait_name = type_ident(&area.trait_name);
        let methods = area.operations.iter().map(|op| self.trait_method(op));
        let module_doc = format!(
            " The `{}` area: its requests, answers and the [`{}`] trait.",
            area.tag, area.trait_name
        );
        let trait_doc = format!(
            " The operations of the `{}` area. Every method has a default that answers 501, so an implementation provides only what it serves.",
            area.tag
        );
        let _ = module;
        quote! {
            #![doc = #module_doc]
            #![cfg_attr(rustfmt, rustfmt::skip)]

            #(#items)*

            #[doc = #trait_doc]
            pub trait #trait_name: Send + Sync {
                #(#methods)*
            }
        }
    }
}

/// One variant of a response enum: a documented status, or the `default`
/// answer (`status` is `None`), which carries the status it is sent with.
struct Answer<'a> {
    ident: proc_macro2::Ident,
    status: Option<u16>,
    description: Option<&'a str>,
    body: &'a ResponseBody,
    headers: &'a [(String, String)],
    versions: &'a drydock_ir::VersionSet,
}

/// `Status200`.
pub(crate) fn variant_ident(r: &ResponsePlan) -> proc_macro2::Ident {
    format_ident!("Status{}", r.status)
}
