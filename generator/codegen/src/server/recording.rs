//! The generated `recording` module (feature `recording`): an implementation
//! of every trait that records each decoded request as JSON and answers with
//! what the test asks for. Contract tests drive the whole server with it.

use proc_macro2::TokenStream;
use quote::quote;

use super::area::variant_ident;
use super::plan::{OperationPlan, ResponseBody, ServerPlan, Source};
use crate::naming::{field_ident, type_ident};

impl ServerPlan {
    fn recording_method(&self, module: &str, op: &OperationPlan) -> TokenStream {
        let module = field_ident(module);
        let method = field_ident(&op.method);
        let request = type_ident(&op.request_name);
        let response = type_ident(&op.response_name);
        let id = &op.id;
        let streamed = op.fields.iter().filter(|f| matches!(f.source, Source::StreamBody)).map(|f| {
            let ident = field_ident(&f.rust);
            let wire = &f.wire;
            quote! {
                let bytes = request.#ident.collect(usize::MAX).await?;
                recorded.insert(#wire.to_string(), serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned()));
            }
        });
        let arms = op.responses.iter().map(|r| {
            let ident = variant_ident(r);
            let status = proc_macro2::Literal::u16_unsuffixed(r.status);
            let body = match &r.body {
                ResponseBody::Empty => None,
                ResponseBody::Json(_) | ResponseBody::Text => {
                    Some(quote!(decode(#id, answer.body)?))
                }
                ResponseBody::Messages(_) => Some(quote!(messages(#id, answer.body)?)),
                ResponseBody::Stream(_) => Some(quote!(bytes(answer.body))),
            };
            if r.headers.is_empty() {
                match body {
                    Some(body) => quote!(#status => Ok(#module::#response::#ident(#body)),),
                    None => quote!(#status => Ok(#module::#response::#ident),),
                }
            } else {
                let fields = r.headers.iter().map(|(wire, rust)| {
                    let field = field_ident(rust);
                    quote!(#field: answer.headers.get(#wire).cloned().unwrap_or_default())
                });
                let body = body.map(|b| quote!(body: #b,));
                quote!(#status => Ok(#module::#response::#ident { #body #(#fields,)* }),)
            }
        });
        let fallback = match &op.default_response {
            Some(d) => {
                let body = match &d.body {
                    ResponseBody::Empty => None,
                    ResponseBody::Json(_) | ResponseBody::Text => {
                        Some(quote!(body: decode(#id, answer.body)?,))
                    }
                    ResponseBody::Messages(_) => Some(quote!(body: messages(#id, answer.body)?,)),
                    ResponseBody::Stream(_) => Some(quote!(body: bytes(answer.body),)),
                };
                let fields = d.headers.iter().map(|(wire, rust)| {
                    let field = field_ident(rust);
                    quote!(#field: answer.headers.get(#wire).cloned().unwrap_or_default())
                });
                quote!(status => Ok(#module::#response::Default { status, #body #(#fields,)* }),)
            }
            None => quote! {
                status => Err(ServerError::internal(format!("{} documents no status {status}", #id))),
            },
        };
        let has_stream = op
            .fields
            .iter()
            .any(|f| matches!(f.source, Source::StreamBody));
        let recorded = if has_stream {
            quote!(mut recorded)
        } else {
            quote!(recorded)
        };
        quote! {
            async fn #method(
                &self,
                request: #module::#request,
                version: ApiVersion,
            ) -> Result<#module::#response, ServerError> {
                let #recorded = serialised(&request);
                #(#streamed)*
                self.record(#id, version, recorded);
                let answer = (self.answer)(#id, version);
                match answer.status {
                    #(#arms)*
                    #fallback
                }
            }
        }
    }

    /// The tokens of `src/recording.rs`.
    pub(crate) fn recording_tokens(&self) -> TokenStream {
        let impls = self.areas.iter().map(|(module, area)| {
            let trait_name = type_ident(&area.trait_name);
            let module_ident = field_ident(module);
            let methods = area
                .operations
                .iter()
                .map(|op| self.recording_method(module, op));
            quote! {
                impl crate::#module_ident::#trait_name for Recording {
                    #(#methods)*
                }
            }
        });
        let modules = self.areas.keys().map(|m| {
            let m = field_ident(m);
            quote!(use crate::#m;)
        });
        quote! {
            //! A recording implementation of every trait (feature `recording`), for
            //! contract tests: each call's decoded request is kept as JSON (wire names,
            //! streamed bodies as text), and each answer is built from the status and
            //! JSON the test's `answer` function gives.

            #![cfg_attr(rustfmt, rustfmt::skip)]

            use std::collections::BTreeMap;
            use std::sync::{Arc, Mutex};

            use drydock_runtime::ApiVersion;
            use drydock_runtime::server::{ByteStream, Messages, ServerError};

            #(#modules)*

            /// One recorded call.
            #[derive(Debug, Clone, PartialEq)]
            pub struct Call {
                /// The operation id.
                pub operation: &'static str,
                /// The version the request asked for.
                pub version: ApiVersion,
                /// The decoded request as JSON, by wire name.
                pub request: serde_json::Value,
            }

            /// What an operation answers.
            #[derive(Debug, Clone, PartialEq)]
            pub struct Answer {
                /// The status, one the operation documents.
                pub status: u16,
                /// The body: JSON for JSON answers, a list of messages for message
                /// streams, a string for text and byte streams.
                pub body: serde_json::Value,
                /// Documented headers, by name.
                pub headers: BTreeMap<String, String>,
            }

            /// Chooses the answer of an operation at a version.
            pub type AnswerFn = dyn Fn(&'static str, ApiVersion) -> Answer + Send + Sync;

            /// Records every call and answers as told. Clones share the record, so a
            /// test keeps one clone and serves another.
            #[derive(Clone)]
            pub struct Recording {
                calls: Arc<Mutex<Vec<Call>>>,
                answer: Arc<AnswerFn>,
            }

            impl Recording {
                /// A recorder answering with `answer`.
                pub fn new(answer: impl Fn(&'static str, ApiVersion) -> Answer + Send + Sync + 'static) -> Self {
                    Recording { calls: Arc::new(Mutex::new(Vec::new())), answer: Arc::new(answer) }
                }

                /// The calls recorded so far, oldest first; the record is emptied.
                pub fn take_calls(&self) -> Vec<Call> {
                    match self.calls.lock() {
                        Ok(mut calls) => std::mem::take(&mut *calls),
                        Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
                    }
                }

                fn record(&self, operation: &'static str, version: ApiVersion, request: serde_json::Map<String, serde_json::Value>) {
                    let call = Call { operation, version, request: serde_json::Value::Object(request) };
                    match self.calls.lock() {
                        Ok(mut calls) => calls.push(call),
                        Err(poisoned) => poisoned.into_inner().push(call),
                    }
                }
            }

            fn serialised<T: serde::Serialize>(value: &T) -> serde_json::Map<String, serde_json::Value> {
                match serde_json::to_value(value) {
                    Ok(serde_json::Value::Object(map)) => map,
                    Ok(other) => serde_json::Map::from_iter([("value".to_string(), other)]),
                    Err(err) => serde_json::Map::from_iter([("unserialisable".to_string(), serde_json::Value::String(err.to_string()))]),
                }
            }

            fn decode<T: serde::de::DeserializeOwned>(operation: &str, body: serde_json::Value) -> Result<T, ServerError> {
                serde_json::from_value(body).map_err(|err| ServerError::internal(format!("{operation}: the answer does not decode: {err}")))
            }

            fn messages<T: serde::de::DeserializeOwned + Send + 'static>(operation: &str, body: serde_json::Value) -> Result<Messages<T>, ServerError> {
                let items: Vec<T> = decode(operation, body)?;
                Ok(Box::pin(futures_util::stream::iter(items)))
            }

            fn bytes(body: serde_json::Value) -> ByteStream {
                let bytes = match body {
                    serde_json::Value::String(text) => text.into_bytes(),
                    other => other.to_string().into_bytes(),
                };
                Box::pin(futures_util::stream::iter([Ok(bytes::Bytes::from(bytes))]))
            }

            /// Where `got` first differs from `want`, as a path into them with
            /// the two values there (`.HostConfig.Init: got true, want false`),
            /// or `None` when they are equal: a contract test's message when
            /// what the server decoded, or what a client received, is not what
            /// it expects.
            pub fn first_difference(got: &serde_json::Value, want: &serde_json::Value) -> Option<String> {
                difference_at(got, want, "")
            }

            fn difference_at(got: &serde_json::Value, want: &serde_json::Value, path: &str) -> Option<String> {
                use serde_json::Value;
                match (got, want) {
                    (Value::Object(g), Value::Object(w)) => {
                        for (key, wv) in w {
                            let here = format!("{path}.{key}");
                            match g.get(key) {
                                None => return Some(format!("{here} missing (want {wv})")),
                                Some(gv) => {
                                    if let Some(difference) = difference_at(gv, wv, &here) {
                                        return Some(difference);
                                    }
                                }
                            }
                        }
                        g.keys()
                            .find(|k| !w.contains_key(*k))
                            .map(|k| format!("{path}.{k} unexpected ({})", g[k]))
                    }
                    (Value::Array(g), Value::Array(w)) if g.len() == w.len() => g
                        .iter()
                        .zip(w)
                        .enumerate()
                        .find_map(|(i, (gv, wv))| difference_at(gv, wv, &format!("{path}[{i}]"))),
                    _ if got == want => None,
                    _ => Some(format!("{path}: got {got}, want {want}")),
                }
            }

            #(#impls)*
        }
    }
}
