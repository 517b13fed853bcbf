//! One function per operation: at every version the operation has, the
//! generated client sends the operation with every parameter and body field
//! set, the recording implementation answers, and the function checks what
//! the server decoded and what the client decoded, returning the first
//! difference as its error.
//!
//! Rules, in one place:
//! - Boolean parameters are `true` at some versions and `false` at the others,
//!   and two neighbours never hold the same one, so both `1` and `0` are
//!   sent and a parameter decoded from its neighbour's value shows.
//! - Path parameters hold text that needs encoding (a space, `+`, `&`, `é`);
//!   a greedy one (an image or plugin name) holds a registry name with `/`
//!   and `:`. Query parameters hold the same awkward text (list items none of
//!   the separators); headers plain text.
//! - The answer is the status the client decodes: the first `2xx` with a body,
//!   else the first `2xx`, else the first status. An operation that also
//!   documents an empty `2xx` gets the empty one at every other version, and
//!   the client must then decode `None`. Container output is multiplexed
//!   frames, or a TTY's raw text at every other version.
//! - A JSON stream answers two messages: the value without the in-band error
//!   fields `error` and `errorDetail`, then the whole value (which the client
//!   hands out as the daemon's in-band error, carrying the message).
//! - Operations that can take over the connection are sent a second time
//!   through the `_upgrade` method; what the implementation answers must come
//!   out of the upgraded connection as it was written.
//! - An operation the server does not hand to implementations (`/_ping`) is
//!   checked to reach none, and to be answered by the runtime.

use drydock_ir::{ApiVersion, ParamLocation, Scalar};
use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use super::Uses;
use super::value::{Values, optional_at, within};
use crate::client::plan::{
    BodyPlanKind, OperationPlan as ClientOperation, ParamPlan, ParamTy, ResponsePlan,
};
use crate::naming::{field_ident, type_ident};
use crate::server::plan::{OperationPlan as ServerOperation, ResponseBody};

/// What every case is written with.
pub(crate) struct Context<'a> {
    /// The value functions.
    pub values: &'a Values<'a>,
    /// Every version of the API, oldest first.
    pub all: &'a [ApiVersion],
    /// The client crate, as code names it.
    pub client_crate: proc_macro2::Ident,
}

/// The statuses the recording answers with.
struct Statuses {
    /// The answer the client's method decodes.
    main: u16,
    /// An empty success, for methods that return `Option`.
    empty: Option<u16>,
}

/// Picks the statuses to answer `server`'s operation with.
fn statuses(server: &ServerOperation) -> Statuses {
    let success = |r: &&crate::server::plan::ResponsePlan| (200..300).contains(&r.status);
    let with_body = server
        .responses
        .iter()
        .filter(success)
        .find(|r| !matches!(r.body, ResponseBody::Empty));
    let empty = server
        .responses
        .iter()
        .filter(success)
        .find(|r| matches!(r.body, ResponseBody::Empty));
    let main = with_body
        .or(empty)
        .or(server.responses.first())
        .map_or(200, |r| r.status);
    Statuses {
        main,
        empty: empty.map(|r| r.status),
    }
}

/// The text a path, query or header parameter holds.
fn param_text(op: &ClientOperation, p: &ParamPlan, greedy: bool) -> String {
    match p.location {
        ParamLocation::Path if greedy => format!("reg.example:5000/team/{}:1.0", op.method),
        ParamLocation::Path | ParamLocation::Query => format!("{} of {} + é&", p.wire, op.id),
        ParamLocation::Header | ParamLocation::Cookie => format!("{} of {}", p.wire, op.id),
    }
}

/// The function that checks one operation at every version it has.
pub(crate) struct CaseFn {
    /// Its name (`container_list_round_trips`).
    pub name: proc_macro2::Ident,
    /// How many versions it checks.
    pub versions: usize,
    /// Its tokens.
    pub tokens: TokenStream,
}

/// The function that checks `client`'s operation, which `server` hands to
/// implementations (`None`: the runtime answers it itself).
pub(crate) fn case_fn(
    client: &ClientOperation,
    server: Option<&ServerOperation>,
    cx: &Context<'_>,
    uses: &mut Uses,
) -> CaseFn {
    let Context { values, all, .. } = cx;
    let scope: Vec<ApiVersion> = client.versions.members(all).cloned().collect();
    let id = &client.id;
    let label = format!("{id} at {{version}}");
    let spans = within(&client.versions);
    let statuses = server.map(statuses);
    let alternate = client.tty_field.is_some()
        || (matches!(client.response, ResponsePlan::OptionalJson(_))
            && statuses.as_ref().is_some_and(|s| s.empty.is_some()));
    let each = if alternate {
        quote!((round, &version) in versions.iter().enumerate())
    } else {
        quote!(&version in &versions)
    };
    let (params_stmts, sent) = params(client, server, cx, &scope, uses);
    // What the server must decode, when an implementation sees the call.
    let sent = server.map(|_| sent);
    uses.sent |= server.is_some();
    let call = |method: &proc_macro2::Ident| {
        if client.params_name.is_some() {
            quote!(client.#method(params).await)
        } else {
            quote!(client.#method().await)
        }
    };
    let method = call(&field_ident(&client.method));
    let body = match &statuses {
        None => {
            uses.no_call = true;
            let got = got_value(client, uses);
            let want = match client.response {
                ResponsePlan::Text => quote!(Value::String(String::from("OK"))),
                _ => quote!(Value::Null),
            };
            quote! {
                let got = ok(&label, #method)?;
                contract.check_no_call(&label)?;
                check_answer(&label, &#got, &#want)?;
            }
        }
        Some(statuses) => {
            let (answer, status, want) = answer(client, statuses, values, uses);
            let checked = match client.response {
                ResponsePlan::Empty => quote! {
                    ok(&label, #method)?;
                    contract.check_call(&label, #id, version, &sent)?;
                },
                _ => {
                    let got = got_value(client, uses);
                    quote! {
                        let got = ok(&label, #method)?;
                        contract.check_call(&label, #id, version, &sent)?;
                        check_answer(&label, &#got, &#want)?;
                    }
                }
            };
            let upgrade = client.hijack.then(|| {
                uses.upgraded = true;
                let upgrade = call(&format_ident!("{}_upgrade", client.method));
                let written = match client.response {
                    ResponsePlan::Frames => quote!(answer),
                    _ => quote!(Value::String(String::new())),
                };
                let main = Literal::u16_unsuffixed(statuses.main);
                quote! {
                    let label = format!("{label} (taking over the connection)");
                    #params_stmts
                    contract.answer(#main, answer.clone());
                    let got = upgraded(&label, ok(&label, #upgrade)?).await?;
                    contract.check_call(&label, #id, version, &sent)?;
                    check_answer(&label, &got, &#written)?;
                }
            });
            quote! {
                #answer
                contract.answer(#status, answer.clone());
                #checked
                #upgrade
            }
        }
    };
    let name = format_ident!("{}_round_trips", client.method);
    let checks = if server.is_some() {
        "the server decodes what the client sent, the client what the implementation answered"
    } else {
        "the runtime answers it without calling an implementation, and the client decodes the answer"
    };
    let doc = format!(
        " `{} {}` (`{id}`) at each of its versions: {checks}. Returns how many versions it checked.",
        client.http_method, client.path
    );
    let count = scope.len();
    let tokens = quote! {
        #[doc = #doc]
        async fn #name(contract: &Contract) -> Result<usize, String> {
            let versions = versions_in(#spans);
            for #each {
                let label = format!(#label);
                let client = contract.client(version);
                #params_stmts
                #sent
                #body
            }
            Ok(versions.len())
        }
    };
    CaseFn {
        name,
        versions: count,
        tokens,
    }
}

/// The statements that build `params` (and what an upload holds), and the
/// statement that builds `sent`, the request the server must decode.
fn params(
    client: &ClientOperation,
    server: Option<&ServerOperation>,
    cx: &Context<'_>,
    scope: &[ApiVersion],
    uses: &mut Uses,
) -> (TokenStream, TokenStream) {
    let values = cx.values;
    let Some(params_name) = &client.params_name else {
        return (TokenStream::new(), quote!(let sent = request([]);));
    };
    let greedy = server.and_then(|s| s.greedy.as_deref());
    let mut fields = Vec::new();
    let mut sent = Vec::new();
    let mut before = Vec::new();
    let mut booleans = 0;
    for p in &client.params {
        let ident = field_ident(&p.field);
        let text = param_text(client, p, greedy == Some(p.wire.as_str()));
        let mut value = if p.ty == ParamTy::Scalar(Scalar::Boolean) {
            // `1` and `0` both go on the wire, and neighbours differ.
            let parity = Literal::u16_unsuffixed(booleans % 2);
            booleans += 1;
            quote!(version.minor() % 2 == #parity)
        } else {
            values.param_value(&p.ty, &p.wire, &text)
        };
        if p.optional {
            if !p.versions.covers(scope) {
                uses.at = true;
            }
            value = optional_at(&p.versions, scope, value);
        }
        fields.push(quote!(#ident: #value,));
        let wire = &p.wire;
        sent.push(quote!((#wire, json_of(&params.#ident))));
    }
    if let Some(body) = &client.body {
        let ident = field_ident(&body.field);
        let json = matches!(body.kind, BodyPlanKind::Json { .. });
        let value = match &body.kind {
            BodyPlanKind::Json { ty, .. } => values.json_value(ty, "body"),
            BodyPlanKind::Bytes { .. } => {
                let text = format!("upload of {}", client.id);
                quote!(String::from(#text))
            }
        };
        let value = if body.optional {
            if !body.versions.covers(scope) {
                uses.at = true;
            }
            optional_at(&body.versions, scope, value)
        } else {
            value
        };
        if json {
            fields.push(quote!(#ident: #value,));
            sent.push(quote!(("body", json_of(&params.#ident))));
        } else {
            // A body of bytes is a `reqwest::Body`; the server records its text.
            before.push(quote!(let upload = #value;));
            let body = if body.optional {
                quote!(upload.clone().map(reqwest::Body::from))
            } else {
                quote!(reqwest::Body::from(upload.clone()))
            };
            fields.push(quote!(#ident: #body,));
            sent.push(quote!(("body", json_of(&upload))));
        }
    }
    if let Some(tty) = &client.tty_field {
        let ident = field_ident(tty);
        fields.push(quote!(#ident: round % 2 == 1,));
    }
    let name = type_ident(params_name);
    let client_crate = &cx.client_crate;
    (
        quote! {
            #(#before)*
            let params = #client_crate::#name { #(#fields)* };
        },
        quote!(let sent = request([#(#sent),*]);),
    )
}

/// The statements that build `answer` (what the recording answers with, as
/// JSON), the status expression, and what the client must decode, as JSON.
fn answer(
    client: &ClientOperation,
    statuses: &Statuses,
    values: &Values<'_>,
    uses: &mut Uses,
) -> (TokenStream, TokenStream, TokenStream) {
    let main = Literal::u16_unsuffixed(statuses.main);
    let id = &client.id;
    let answer = match &client.response {
        ResponsePlan::Empty => quote!(let answer = Value::Null;),
        ResponsePlan::Json(ty) => {
            let value = values.json_value(ty, id);
            quote!(let answer = json_of(&#value);)
        }
        ResponsePlan::OptionalJson(ty) => {
            let value = values.json_value(ty, id);
            if let Some(empty) = statuses.empty {
                let empty = Literal::u16_unsuffixed(empty);
                let status = quote!(if round % 2 == 0 { #main } else { #empty });
                let answer = quote! {
                    let answer = if round % 2 == 0 { json_of(&#value) } else { Value::Null };
                };
                return (answer, status, quote!(answer));
            }
            quote!(let answer = json_of(&#value);)
        }
        ResponsePlan::Text => {
            let text = format!("text of {id}");
            quote!(let answer = Value::String(String::from(#text));)
        }
        ResponsePlan::JsonStream(ty) => {
            uses.messages = true;
            let value = values.json_value(ty, id);
            quote! {
                let message = json_of(&#value);
                let first = without_stream_error(&message);
                let answer = Value::Array(vec![first, message]);
            }
        }
        ResponsePlan::Frames => {
            uses.frames = true;
            let answer = quote! {
                let (written, frames) = container_output(&label, round % 2 == 1);
                let answer = Value::String(written);
            };
            return (answer, quote!(#main), quote!(frames));
        }
        ResponsePlan::Bytes => {
            uses.bytes = true;
            quote!(let answer = Value::String(format!("bytes of {label}"));)
        }
    };
    (answer, quote!(#main), quote!(answer))
}

/// The JSON of what the client's method returned in `got`.
fn got_value(client: &ClientOperation, uses: &mut Uses) -> TokenStream {
    match client.response {
        ResponsePlan::JsonStream(_) => {
            uses.messages = true;
            quote!(messages(&label, got).await?)
        }
        ResponsePlan::Frames => {
            uses.frames = true;
            quote!(frames_of(&label, got).await?)
        }
        ResponsePlan::Bytes => {
            uses.bytes = true;
            quote!(bytes_of(&label, got).await?)
        }
        _ => quote!(json_of(&got)),
    }
}
