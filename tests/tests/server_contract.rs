//! The generated server against the spec's wire format, checked from the IR:
//! for every operation and every version it exists in, a request written
//! from the IR with a non-default value in each parameter and body field
//! goes over HTTP to a server whose recording implementation keeps what the
//! server decoded; the decoded request must be exactly what was sent, and
//! the answer must come back as the implementation gave it.
//!
//! The generated client's side of the contract is `generated/contract`:
//! there the client sends, and the expected values are the JSON of the typed
//! values, so what the client and server share (the models' wire names)
//! cannot show a difference. Here the wire is written from the IR, which
//! checks those names against the spec, and in the forms the client never
//! sends: booleans spelled `true`, the legacy `filters` form, paths without
//! the `/vX.Y` prefix; and the documented response headers are checked.

use std::sync::Arc;

use drydock_ir::{
    Api, ApiVersion as IrVersion, BodyKind, Operation, ParamLocation, Scalar, TypeRef, TypeShape,
    shape_at,
};
use drydock_runtime::ApiVersion;
use drydock_server::recording::{Answer, Recording, first_difference};
use serde_json::{Value, json};

fn load_api() -> Api {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../generated/ir/docker.json");
    let text = std::fs::read_to_string(path).expect("the committed IR is readable");
    serde_json::from_str(&text).expect("the committed IR parses")
}

/// A value of `ty` as it exists at `version`, with every field set.
fn synth(api: &Api, ty: &TypeRef, version: &IrVersion, depth: usize) -> Value {
    match ty {
        TypeRef::Scalar { scalar } => scalar_value(*scalar),
        TypeRef::Array { items } => json!([synth(api, items, version, depth + 1)]),
        TypeRef::Map { values } => json!({ "key1": synth(api, values, version, depth + 1) }),
        TypeRef::Any => json!({ "free": ["form", 1] }),
        TypeRef::Named { name } => {
            let Some(def) = api.types.get(name) else {
                return Value::Null;
            };
            let shape =
                shape_at(&def.shapes, version).or_else(|| def.shapes.last().map(|s| &s.value));
            match shape {
                None => Value::Null,
                Some(TypeShape::Alias { target }) => synth(api, target, version, depth),
                Some(TypeShape::OneOf(one)) => one
                    .variants
                    .first()
                    .map_or(Value::Null, |v| synth(api, v, version, depth)),
                Some(TypeShape::Enum(e)) => e
                    .values
                    .iter()
                    .find(|v| v.versions.contains(version))
                    .or(e.values.first())
                    .map_or(Value::Null, |v| v.value.clone()),
                Some(TypeShape::Struct(st)) => {
                    let mut object = serde_json::Map::new();
                    if depth > 8 {
                        return Value::Object(object);
                    }
                    for field in &st.fields {
                        if !field.versions.contains(version) {
                            continue;
                        }
                        let Some(shape) = shape_at(&field.shapes, version) else {
                            continue;
                        };
                        object.insert(
                            field.name.clone(),
                            synth(api, &shape.ty, version, depth + 1),
                        );
                    }
                    if st.fields.is_empty()
                        && let Some(values) = &st.additional
                    {
                        object.insert("extra".into(), synth(api, values, version, depth + 1));
                    }
                    Value::Object(object)
                }
            }
        }
    }
}

fn scalar_value(scalar: Scalar) -> Value {
    match scalar {
        Scalar::Boolean => json!(true),
        Scalar::I8 | Scalar::I16 | Scalar::I32 | Scalar::I64 => json!(-7),
        Scalar::U8 | Scalar::U16 | Scalar::U32 | Scalar::U64 => json!(7),
        Scalar::F32 | Scalar::F64 => json!(1.5),
        Scalar::DateTime => json!("2017-06-07T08:09:10.123456789Z"),
        Scalar::Date => json!("2017-06-07"),
        Scalar::Uuid => json!("1b4e28ba-2fa1-11d2-883f-0016d3cca427"),
        Scalar::Base64 => json!("aGVsbG8="),
        Scalar::String | Scalar::Binary => json!("non-default"),
    }
}

/// Numbers compare by value (a field widened to `f64` writes `7.0`).
fn normalise(value: Value) -> Value {
    match value {
        Value::Number(n) => n
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Null, Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(normalise).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalise(v))).collect())
        }
        other => other,
    }
}

/// How an answer's body is written.
#[derive(Clone, Copy, PartialEq)]
enum Written {
    Json,
    Messages,
    Bytes,
    Empty,
}

/// The answer the recorder gives: the first success the version documents.
fn answer_for(api: &Api, operation: &str, version: ApiVersion) -> Answer {
    written_answer(api, operation, version).0
}

fn written_answer(api: &Api, operation: &str, version: ApiVersion) -> (Answer, Written) {
    let v = IrVersion::new(version.to_string());
    let op = &api.operations[operation];
    let response = op
        .responses
        .iter()
        .filter(|r| r.versions.contains(&v) && r.status.starts_with('2'))
        .min_by_key(|r| r.status.clone())
        .or_else(|| op.responses.iter().find(|r| r.versions.contains(&v)));
    let Some(response) = response else {
        let answer = Answer {
            status: 500,
            body: Value::Null,
            headers: Default::default(),
        };
        return (answer, Written::Empty);
    };
    let shape = response
        .shapes
        .iter()
        .max_by(|a, b| a.versions.until().cmp(&b.versions.until()))
        .map(|s| &s.value);
    let (body, written) = match shape {
        None => (Value::Null, Written::Empty),
        Some(shape) => match (shape.kind, &shape.schema) {
            (BodyKind::Json, Some(schema)) => (synth(api, schema, &v, 0), Written::Json),
            (BodyKind::Json, None) => (json!({ "free": "form" }), Written::Json),
            (BodyKind::JsonStream, Some(schema)) => (
                json!([synth(api, schema, &v, 0), synth(api, schema, &v, 0)]),
                Written::Messages,
            ),
            (BodyKind::JsonStream, None) => (
                json!([{ "status": "a" }, { "status": "b" }]),
                Written::Messages,
            ),
            (BodyKind::Empty, _) => (Value::Null, Written::Empty),
            _ => (json!(format!("bytes of {operation}")), Written::Bytes),
        },
    };
    let headers = response
        .headers
        .iter()
        .map(|h| (h.name.clone(), format!("header-{}", h.name)))
        .collect();
    let answer = Answer {
        status: response.status.parse().unwrap_or(500),
        body,
        headers,
    };
    (answer, written)
}

/// One request built from the IR, and what the server must decode from it.
struct Probe {
    method: reqwest::Method,
    url: String,
    headers: Vec<(String, String)>,
    body: Option<(String, Vec<u8>)>,
    expected: serde_json::Map<String, Value>,
}

fn probe(api: &Api, op: &Operation, version: &IrVersion, base: &str, prefixed: bool) -> Probe {
    let mut expected = serde_json::Map::new();
    let mut path = op.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers = Vec::new();
    // Alternate the two spellings of booleans and of `filters` across versions.
    let odd = version
        .major_minor()
        .is_some_and(|(_, minor)| minor % 2 == 1);
    for p in &op.parameters {
        if !p.versions.contains(version) {
            continue;
        }
        let Some(shape) = shape_at(&p.shapes, version) else {
            continue;
        };
        let json_encoded = p.shapes.iter().any(|s| s.value.json_encoded);
        let (wire, decoded): (Vec<String>, Value) =
            if json_encoded && p.name == "filters" && p.location == ParamLocation::Query {
                let text = if odd {
                    r#"{"label":["a=b","c"]}"#
                } else {
                    r#"{"label":{"a=b":true,"c":true}}"#
                };
                (vec![text.into()], json!({ "label": ["a=b", "c"] }))
            } else if json_encoded && p.location == ParamLocation::Query {
                let value = json!({ "KEY": "value" });
                (vec![value.to_string()], value)
            } else {
                match &shape.ty {
                    TypeRef::Scalar {
                        scalar: Scalar::Boolean,
                    } => (vec![if odd { "1" } else { "true" }.into()], json!(true)),
                    TypeRef::Scalar { scalar } if scalar_value(*scalar).is_number() => {
                        let v = scalar_value(*scalar);
                        (vec![v.to_string()], v)
                    }
                    TypeRef::Array { .. } => {
                        let values = json!(["one", "two"]);
                        if shape.collection_format.as_deref() == Some("multi") {
                            (vec!["one".into(), "two".into()], values)
                        } else {
                            (vec!["one,two".into()], values)
                        }
                    }
                    TypeRef::Named { .. } => {
                        let v = synth(api, &shape.ty, version, 0);
                        let text = v.as_str().map_or_else(|| v.to_string(), str::to_owned);
                        (vec![text.clone()], Value::String(text))
                    }
                    _ => {
                        let text = if p.location == ParamLocation::Path
                            && p.name == "name"
                            && ["/images/", "/plugins/", "/distribution/"]
                                .iter()
                                .any(|prefix| op.path.starts_with(prefix))
                        {
                            "reg.example:5000/team/app:1.0".to_string()
                        } else {
                            format!("value of {} {}", p.name, op.id)
                        };
                        (vec![text.clone()], Value::String(text))
                    }
                }
            };
        match p.location {
            ParamLocation::Path => {
                let text = &wire[0];
                let encoded = if text.contains('/') {
                    text.clone()
                } else {
                    text.replace(' ', "%20")
                };
                path = path.replace(&format!("{{{}}}", p.name), &encoded);
            }
            ParamLocation::Query => query.extend(wire.into_iter().map(|w| (p.name.clone(), w))),
            ParamLocation::Header => headers.push((p.name.clone(), wire[0].clone())),
            ParamLocation::Cookie => continue,
        }
        expected.insert(p.name.clone(), decoded);
    }
    let mut body = None;
    if let Some(rb) = &op.request_body
        && rb.versions.contains(version)
    {
        let shape = rb
            .shapes
            .iter()
            .max_by(|a, b| a.versions.until().cmp(&b.versions.until()))
            .map(|s| &s.value);
        if let Some(shape) = shape {
            match (shape.kind, &shape.schema) {
                (BodyKind::Json, schema) => {
                    let value = schema
                        .as_ref()
                        .map_or_else(|| json!({ "free": "form" }), |s| synth(api, s, version, 0));
                    body = Some((
                        "application/json".to_string(),
                        value.to_string().into_bytes(),
                    ));
                    expected.insert("body".into(), value);
                }
                (BodyKind::Text, _) => {
                    body = Some(("text/plain".to_string(), b"text body".to_vec()));
                    expected.insert("body".into(), json!("text body"));
                }
                _ => {
                    let content = format!("streamed bytes for {}", op.id);
                    let media = shape
                        .content_types
                        .first()
                        .cloned()
                        .unwrap_or_else(|| "application/octet-stream".into());
                    body = Some((media, content.clone().into_bytes()));
                    expected.insert("body".into(), Value::String(content));
                }
            }
        }
    }
    let prefix = if prefixed {
        format!("/v{}", version.as_str())
    } else {
        String::new()
    };
    let mut url = format!("{base}{prefix}{path}");
    if !query.is_empty() {
        let encoded: Vec<String> = query
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .collect();
        url = format!("{url}?{}", encoded.join("&"));
    }
    Probe {
        method: reqwest::Method::from_bytes(op.method.as_bytes())
            .expect("IR methods are HTTP methods"),
        url,
        headers,
        body,
        expected,
    }
}

fn encode(text: &str) -> String {
    let mut out = String::new();
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_decodes_what_was_sent_and_answers_what_was_given_at_every_version() {
    let api = Arc::new(load_api());
    let answers = Arc::clone(&api);
    let recording =
        Recording::new(move |operation, version| answer_for(&answers, operation, version));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binds");
    let base = format!("http://{}", listener.local_addr().expect("has an address"));
    let router = drydock_server::router(recording.clone());
    tokio::spawn(drydock_runtime::server::listen::serve_tcp(listener, router));
    let client = reqwest::Client::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for op in api.operations.values() {
        if op.path == "/_ping" {
            continue;
        }
        let versions: Vec<IrVersion> = op.versions.members(&api.versions).cloned().collect();
        for version in &versions {
            let prefixed = version != api.versions.last().expect("versions");
            let probe = probe(&api, op, version, &base, prefixed);
            let mut request = client.request(probe.method.clone(), &probe.url);
            for (name, value) in &probe.headers {
                request = request.header(name, value);
            }
            if let Some((media, bytes)) = &probe.body {
                request = request.header("Content-Type", media).body(bytes.clone());
            }
            let label = format!("{} {} at {}", op.id, probe.url, version);
            let response = match request.send().await {
                Ok(r) => r,
                Err(err) => {
                    failures.push(format!("{label}: {err}"));
                    continue;
                }
            };
            let ours = ApiVersion::new(1, version.major_minor().map_or(0, |(_, m)| m as u16));
            let (answer, written) = written_answer(&api, &op.id, ours);
            let calls = recording.take_calls();
            let status = response.status().as_u16();
            let header_ok = answer.headers.iter().all(|(name, value)| {
                response.headers().get(name).and_then(|v| v.to_str().ok()) == Some(value.as_str())
            });
            let text = response.text().await.unwrap_or_default();
            if status != answer.status {
                failures.push(format!(
                    "{label}: status {status}, expected {}: {text}",
                    answer.status
                ));
                continue;
            }
            if !header_ok {
                failures.push(format!("{label}: documented headers missing"));
            }
            let got = match written {
                // A switch of protocols has no body to compare.
                _ if status < 200 => answer.body.clone(),
                Written::Empty if text.is_empty() => Value::Null,
                Written::Json => serde_json::from_str(&text).unwrap_or(Value::String(text.clone())),
                Written::Messages => text
                    .lines()
                    .map(|line| serde_json::from_str(line).unwrap_or(Value::String(line.into())))
                    .collect(),
                Written::Empty | Written::Bytes => Value::String(text.clone()),
            };
            let (got, want) = (normalise(got), normalise(answer.body.clone()));
            if let Some(difference) = first_difference(&got, &want) {
                failures.push(format!("{label}: answer differs at {difference}"));
            }
            match calls.as_slice() {
                [call] if call.operation == op.id && call.version == ours => {
                    let expected = normalise(Value::Object(probe.expected.clone()));
                    let decoded = normalise(call.request.clone());
                    if let Some(difference) = first_difference(&decoded, &expected) {
                        failures.push(format!("{label}: decoded request differs at {difference}"));
                    }
                }
                other => failures.push(format!("{label}: recorded {other:?}")),
            }
            checked += 1;
        }
    }
    assert!(checked > 500, "only {checked} operation versions checked");
    let failed_operations: std::collections::BTreeSet<&str> = failures
        .iter()
        .filter_map(|f| f.split_whitespace().next())
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {checked} operation versions failed, in {failed_operations:?}:\n{}",
        failures.len(),
        failures
            .iter()
            .take(200)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
}
