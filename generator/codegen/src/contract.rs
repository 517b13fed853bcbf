//! The contract emitter: a test crate that drives the generated server with
//! the generated client, operation by operation and version by version.
//!
//! [`emit_contract`] writes a crate with no library, only
//! `tests/contract.rs`. For every operation it holds a function (see
//! [`case`]) that, at every version the operation has, builds the client's
//! params struct with every parameter and body field set to a non-default
//! value (struct literals of the generated types, see [`value`], so the
//! compiler checks that every field is named), sends it to the generated
//! server serving its `recording` implementation, and checks that the server
//! decoded exactly what was sent and that the client decoded exactly what
//! the implementation answered (both compared as the JSON of the typed
//! values). One test runs every function against one server on a loopback
//! port and reports each operation that fails; it also checks the number of
//! cases, so none is skipped. The functions are written from the client and
//! server plans of the same IR: an operation the IR gains gains a case.

mod case;
mod value;

use std::path::PathBuf;

use drydock_ir::Api;
use proc_macro2::TokenStream;
use quote::quote;

use crate::client::plan::{BodyPlanKind, ClientPlan, ParamTy, ResponsePlan};
use crate::docs;
use crate::error::CodegenError;
use crate::models::GeneratedFiles;
use crate::server::plan::ServerPlan;
use crate::source::{self, render};
use crate::space::ModelSpace;
use value::Values;

/// The crates a contract test drives, by package name.
#[derive(Debug, Clone, Copy)]
pub struct ContractCrates<'a> {
    /// The contract crate itself.
    pub contract: &'a str,
    /// The client crate emitted by [`crate::emit_client`], at `../client`.
    pub client: &'a str,
    /// The server crate emitted by [`crate::emit_server`], at `../server`.
    pub server: &'a str,
}

/// What the test file's helpers have to provide for the tests emitted.
#[derive(Default, Clone, Copy)]
pub(crate) struct Uses {
    /// `at`: a value some versions of the operation lack.
    pub at: bool,
    /// `request`: the request the server must decode.
    pub sent: bool,
    /// `Contract::check_no_call`: operations the runtime answers itself.
    pub no_call: bool,
    /// `messages` and `without_stream_error`: JSON streams.
    pub messages: bool,
    /// `container_output` and `frames_of`: container output.
    pub frames: bool,
    /// `bytes_of`: downloads.
    pub bytes: bool,
    /// `upgraded`: taken-over connections.
    pub upgraded: bool,
}

/// Emits the contract test crate for `api`: `Cargo.toml` and
/// `tests/contract.rs`.
///
/// The crate depends on the client and server crates emitted for the same
/// `api` (named in `crates`, at `../client` and `../server`) and on
/// `drydock-runtime` (at `../../runtime`). The output depends only on its
/// input: the same IR gives the same bytes.
pub fn emit_contract(
    api: &Api,
    crates: ContractCrates<'_>,
) -> Result<GeneratedFiles, CodegenError> {
    source::require_major_minor(api)?;
    let space = ModelSpace::build(api)?;
    let client_plan = ClientPlan::build(api, &space)?;
    let server_plan = ServerPlan::build(api, &space)?;
    let all = &api.versions;
    let empty = Values::new(&space, []);
    let mut roots = Vec::new();
    for op in client_plan.operations() {
        for p in &op.params {
            param_roots(&empty, &p.ty, &mut roots);
        }
        if let Some(body) = &op.body
            && let BodyPlanKind::Json { ty, .. } = &body.kind
        {
            empty.json_roots(ty, &mut roots);
        }
        match &op.response {
            ResponsePlan::Json(ty)
            | ResponsePlan::OptionalJson(ty)
            | ResponsePlan::JsonStream(ty) => empty.json_roots(ty, &mut roots),
            _ => {}
        }
    }
    let values = Values::new(&space, roots);
    let mut uses = Uses::default();
    let cx = case::Context {
        values: &values,
        all,
        client_crate: crate_ident(crates.client),
    };
    let cases: Vec<case::CaseFn> = client_plan
        .operations()
        .map(|op| {
            let server = server_plan
                .areas
                .values()
                .flat_map(|area| area.operations.iter())
                .find(|s| s.id == op.id);
            case::case_fn(op, server, &cx, &mut uses)
        })
        .collect();
    let test = every_operation_test(&cases);
    let case_fns = cases.iter().map(|c| &c.tokens);
    let value_module = (!values.is_empty()).then(|| values.module());
    uses.at |= values.calls_at();
    let filters = client_plan
        .operations()
        .flat_map(|op| op.params.iter())
        .any(|p| mentions_filters(&p.ty));
    let harness = harness(api, crates, uses, filters, !values.is_empty());
    let tokens = quote! {
        #harness
        #test
        #(#case_fns)*
        #value_module
    };
    let mut files = GeneratedFiles::new();
    let path = PathBuf::from("tests/contract.rs");
    files.insert(path.clone(), render(&path, tokens)?);
    files.insert(PathBuf::from("Cargo.toml"), cargo_toml(api, crates));
    Ok(files)
}

/// The one test: every operation's function, in turn, against one server.
fn every_operation_test(cases: &[case::CaseFn]) -> TokenStream {
    let total: usize = cases.iter().map(|c| c.versions).sum();
    let doc = format!(
        " Every operation at every version it exists in: {} operations, {total} cases.",
        cases.len()
    );
    let operations = proc_macro2::Literal::usize_unsuffixed(cases.len());
    let total_literal = proc_macro2::Literal::usize_unsuffixed(total);
    let calls = cases.iter().map(|c| {
        let name = &c.name;
        quote!(#name(&contract).await)
    });
    quote! {
        #[doc = #doc]
        #[tokio::test]
        async fn every_operation_round_trips_at_every_version() {
            let contract = Contract::start().await;
            let outcomes = [#(#calls),*];
            let mut checked = 0;
            let mut failures = Vec::new();
            for outcome in outcomes {
                match outcome {
                    Ok(versions) => checked += versions,
                    Err(failure) => failures.push(failure),
                }
            }
            assert!(
                failures.is_empty(),
                "{} of {} operations failed:\n{}",
                failures.len(),
                #operations,
                failures.join("\n")
            );
            assert_eq!(checked, #total_literal, "cases checked");
        }
    }
}

/// The IR names of the models a parameter type names.
fn param_roots(values: &Values<'_>, ty: &ParamTy, out: &mut Vec<String>) {
    match ty {
        ParamTy::Model(rust) => out.extend(values.ir_name(rust).map(str::to_string)),
        ParamTy::List { items, .. } => param_roots(values, items, out),
        ParamTy::Scalar(_) | ParamTy::Filters | ParamTy::Json => {}
    }
}

fn mentions_filters(ty: &ParamTy) -> bool {
    match ty {
        ParamTy::Filters => true,
        ParamTy::List { items, .. } => mentions_filters(items),
        _ => false,
    }
}

/// The crate's manifest: a package with no library, only the test.
fn cargo_toml(api: &Api, crates: ContractCrates<'_>) -> String {
    let description = format!(
        "Contract test of the generated client and server of the {} (generated by drydock)",
        api.title
    )
    .replace('"', "'");
    let ContractCrates {
        contract,
        client,
        server,
    } = crates;
    format!(
        "# Generated by `cargo xtask codegen`. Do not edit.\n\
         [package]\n\
         name = \"{contract}\"\n\
         description = \"{description}\"\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [dev-dependencies]\n\
         {client} = {{ path = \"../client\" }}\n\
         {server} = {{ path = \"../server\", features = [\"recording\"] }}\n\
         drydock-runtime = {{ path = \"../../runtime\", features = [\"server\"] }}\n\
         reqwest = {{ version = \"0.13\", default-features = false }}\n\
         serde = \"1\"\n\
         serde_json = \"1\"\n\
         futures-util = {{ version = \"0.3\", default-features = false, features = [\"std\"] }}\n\
         tokio = {{ version = \"1\", default-features = false, features = [\"rt\", \"macros\", \"net\", \"io-util\"] }}\n"
    )
}

/// The file's documentation, imports and the helpers the tests use.
fn harness(
    api: &Api,
    crates: ContractCrates<'_>,
    uses: Uses,
    filters: bool,
    models: bool,
) -> TokenStream {
    let client = crate_ident(crates.client);
    let server = crate_ident(crates.server);
    let span = match (api.versions.first(), api.versions.last()) {
        (Some(first), Some(last)) if first != last => format!("API versions {first} to {last}"),
        (Some(only), _) => format!("API version {only}"),
        _ => "no API version".to_string(),
    };
    let text = format!(
        "# {contract}: the generated client against the generated server

For every operation of the {title} and every version it exists in
({span}), the client `{client_crate}` sends the operation with a non-default
value in every parameter and body field to the server `{server_crate}`
serving its recording implementation on a loopback port; the test checks that
the server decoded exactly what was sent, and that the client decoded exactly
what the implementation answered. Generated by `cargo xtask codegen` from
drydock's IR, so no operation is forgotten: never edit it by hand.",
        contract = crates.contract,
        title = api.title,
        client_crate = crates.client,
        server_crate = crates.server,
    );
    let lines: Vec<&str> = text.lines().collect();
    let doc = docs::inner_doc_attrs(&lines);
    let versions = api.versions.iter().map(|v| {
        let (major, minor) = v.major_minor().unwrap_or((0, 0));
        let [major, minor] = [major, minor].map(|n| proc_macro2::Literal::u16_unsuffixed(n as u16));
        quote!(ApiVersion::new(#major, #minor))
    });
    let count = proc_macro2::Literal::usize_unsuffixed(api.versions.len());
    let mut items = Vec::new();
    let mut imports = vec![
        quote!(use #client::{ApiVersion, Client, ClientConfig, Connection, Error};),
        quote!(
            use drydock_runtime::transport::Transport;
        ),
    ];
    if models {
        imports.push(quote!(use #client::models;));
    }
    if filters {
        imports.push(quote!(use #client::Filters;));
    }
    if uses.frames {
        imports.push(quote!(use #client::{Frame, StreamKind};));
    }
    if uses.sent {
        items.push(quote! {
            /// The request the server must decode, as the recording writes it:
            /// the parameters set, by wire name, and the body.
            fn request<const N: usize>(entries: [(&str, Value); N]) -> Value {
                Value::Object(
                    entries
                        .into_iter()
                        .filter(|(_, value)| !value.is_null())
                        .map(|(name, value)| (name.to_string(), value))
                        .collect(),
                )
            }
        });
    }
    // Every case picks its versions with `within`.
    items.push(quote! {
        /// An inclusive span of versions: `(major, minor)` of its first
        /// and of its last.
        type Span = ((u16, u16), (u16, u16));

        /// Whether `version` lies in one of `spans`.
        fn within(version: ApiVersion, spans: &[Span]) -> bool {
            spans.iter().any(|&((a, b), (c, d))| {
                ApiVersion::new(a, b) <= version && version <= ApiVersion::new(c, d)
            })
        }

        /// Every version of the API, oldest first.
        const VERSIONS: [ApiVersion; #count] = [#(#versions),*];

        /// The versions that lie in `spans`, oldest first.
        fn versions_in(spans: &[Span]) -> Vec<ApiVersion> {
            VERSIONS.into_iter().filter(|version| within(*version, spans)).collect()
        }
    });
    if uses.at {
        items.push(quote! {
            /// `value` at the versions of `spans`, `None` at the others.
            fn at<T>(version: ApiVersion, spans: &[Span], value: T) -> Option<T> {
                within(version, spans).then_some(value)
            }
        });
    }
    if uses.no_call {
        items.push(quote! {
            impl Contract {
                /// Fails if an implementation saw a call since the last check.
                fn check_no_call(&self, label: &str) -> Result<(), String> {
                    let calls = self.recording.take_calls();
                    if calls.is_empty() {
                        Ok(())
                    } else {
                        Err(format!("{label}: the runtime answers it, yet the implementation saw {calls:?}"))
                    }
                }
            }
        });
    }
    if uses.messages {
        items.push(quote! {
            /// A message without the fields that make it the daemon's in-band
            /// error (`error`, `errorDetail`), so the client decodes the rest.
            fn without_stream_error(message: &Value) -> Value {
                let mut message = message.clone();
                if let Value::Object(fields) = &mut message {
                    fields.remove("error");
                    fields.remove("errorDetail");
                }
                message
            }

            /// The messages of a stream as JSON; an in-band error as the
            /// message that carried it.
            async fn messages<T: serde::Serialize>(label: &str, mut stream: #client::JsonStream<T>) -> Result<Value, String> {
                let mut messages = Vec::new();
                while let Some(item) = stream.next().await {
                    messages.push(match item {
                        Ok(message) => json_of(&message),
                        Err(Error::Stream { raw, .. }) => raw,
                        Err(err) => return Err(format!("{label}: message {}: {err}", messages.len())),
                    });
                }
                Ok(Value::Array(messages))
            }
        });
    }
    if uses.frames {
        items.push(quote! {
            /// What a container writes, as the server sends it (multiplexed
            /// frames, or a TTY's raw bytes) and as the client must hand it out
            /// (`[stream, text]` pairs).
            fn container_output(label: &str, tty: bool) -> (String, Value) {
                let out = format!("out of {label}");
                let err = format!("err of {label}");
                if tty {
                    let text = format!("{out}{err}");
                    return (text.clone(), serde_json::json!([["stdout", text]]));
                }
                let mut written = String::new();
                for (stream, text) in [(StreamKind::Stdout, &out), (StreamKind::Stderr, &err)] {
                    // Short texts keep every header byte below 0x80, one char each.
                    let size = u8::try_from(text.len()).ok().filter(|n| *n < 0x80);
                    let size = size.unwrap_or_else(|| panic!("{label}: output too long"));
                    written.extend([stream.as_byte(), 0, 0, 0, 0, 0, 0, size].map(char::from));
                    written.push_str(text);
                }
                (written, serde_json::json!([["stdout", out], ["stderr", err]]))
            }

            /// The frames of container output as `[stream, text]` pairs, runs of
            /// one stream joined (a TTY's output arrives in any chunks).
            async fn frames_of(label: &str, mut stream: #client::FrameStream) -> Result<Value, String> {
                let mut runs: Vec<(StreamKind, Vec<u8>)> = Vec::new();
                while let Some(frame) = stream.next().await {
                    let Frame { stream, payload } = ok(label, frame)?;
                    match runs.last_mut() {
                        Some((last, bytes)) if *last == stream => bytes.extend_from_slice(&payload),
                        _ => runs.push((stream, payload.to_vec())),
                    }
                }
                Ok(Value::Array(
                    runs.into_iter()
                        .map(|(stream, bytes)| {
                            let name = match stream {
                                StreamKind::Stdin => "stdin",
                                StreamKind::Stdout => "stdout",
                                StreamKind::Stderr => "stderr",
                            };
                            serde_json::json!([name, String::from_utf8_lossy(&bytes)])
                        })
                        .collect(),
                ))
            }
        });
    }
    if uses.bytes {
        items.push(quote! {
            /// A downloaded body as text.
            async fn bytes_of(label: &str, mut stream: #client::ByteStream) -> Result<Value, String> {
                let mut bytes = Vec::new();
                while let Some(chunk) = stream.next().await {
                    bytes.extend_from_slice(&ok(label, chunk)?);
                }
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
        });
    }
    if uses.upgraded {
        items.push(quote! {
            /// Everything the server writes to a taken-over connection, as text.
            async fn upgraded(label: &str, mut connection: #client::Upgraded) -> Result<Value, String> {
                let mut bytes = Vec::new();
                tokio::io::AsyncReadExt::read_to_end(&mut connection, &mut bytes)
                    .await
                    .map_err(|err| format!("{label}: reading the connection: {err}"))?;
                Ok(Value::String(String::from_utf8_lossy(&bytes).into_owned()))
            }
        });
    }
    let stream_ext = (uses.messages || uses.frames || uses.bytes).then(|| {
        quote!(
            use futures_util::StreamExt;
        )
    });
    quote! {
        #doc
        #![cfg_attr(rustfmt, rustfmt::skip)]

        use std::collections::BTreeMap;
        use std::sync::{Arc, Mutex};

        #(#imports)*
        use #server::recording::{Answer, Recording, first_difference};
        #stream_ext
        use serde_json::Value;

        /// The generated server serving the recording implementation on a
        /// loopback port, the answer it gives next, and the transport of the
        /// clients that call it.
        struct Contract {
            recording: Recording,
            next: Arc<Mutex<Answer>>,
            transport: Transport,
        }

        impl Contract {
            /// Starts the server on a free loopback port.
            async fn start() -> Contract {
                let next = Arc::new(Mutex::new(Answer { status: 500, body: Value::Null, headers: BTreeMap::new() }));
                let told = Arc::clone(&next);
                let recording = Recording::new(move |_, _| match told.lock() {
                    Ok(answer) => answer.clone(),
                    Err(poisoned) => poisoned.into_inner().clone(),
                });
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a loopback port is free");
                let address = listener.local_addr().expect("the listener has an address");
                let router = #server::router(recording.clone());
                tokio::spawn(drydock_runtime::server::listen::serve_tcp(listener, router));
                let host = format!("tcp://{address}");
                let config = ClientConfig::from_vars(|name| (name == "DOCKER_HOST").then(|| host.clone()))
                    .expect("the address is a Docker host");
                let transport = Transport::new(&config).expect("the transport builds");
                Contract { recording, next, transport }
            }

            /// A client of the server pinned to `version` (clients share one
            /// transport and its connections).
            fn client(&self, version: ApiVersion) -> Client {
                Client::new(Connection::new(self.transport.clone(), version))
            }

            /// Makes the implementation answer the next call with `status` and `body`.
            fn answer(&self, status: u16, body: Value) {
                let answer = Answer { status, body, headers: BTreeMap::new() };
                match self.next.lock() {
                    Ok(mut next) => *next = answer,
                    Err(poisoned) => *poisoned.into_inner() = answer,
                }
            }

            /// Fails unless the one call since the last check is `operation`
            /// at `version` and the server decoded exactly `sent`.
            fn check_call(&self, label: &str, operation: &str, version: ApiVersion, sent: &Value) -> Result<(), String> {
                let calls = self.recording.take_calls();
                match calls.as_slice() {
                    [call] if call.operation == operation && call.version == version => {
                        match first_difference(&call.request, sent) {
                            Some(difference) => Err(format!("{label}: the server decoded another request: {difference}")),
                            None => Ok(()),
                        }
                    }
                    other => Err(format!("{label}: expected one call of {operation} at {version}, recorded {other:?}")),
                }
            }
        }

        /// The JSON of a value sent or received.
        fn json_of<T: serde::Serialize>(value: &T) -> Value {
            serde_json::to_value(value).expect("the test's values serialise")
        }

        /// The value of a call that must succeed; its error, labelled.
        fn ok<T>(label: &str, result: Result<T, Error>) -> Result<T, String> {
            result.map_err(|err| format!("{label}: {err}"))
        }

        /// Fails unless the client decoded exactly what the implementation answered.
        fn check_answer(label: &str, got: &Value, want: &Value) -> Result<(), String> {
            match first_difference(got, want) {
                Some(difference) => Err(format!("{label}: the client decoded another answer: {difference}")),
                None => Ok(()),
            }
        }

        #(#items)*
    }
}

/// A crate name as the identifier code uses (`drydock-client` → `drydock_client`).
fn crate_ident(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(&name.replace('-', "_"), proc_macro2::Span::call_site())
}
