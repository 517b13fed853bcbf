//! The corpus of real public specs (`specs/corpus/manifest.yaml`) through `cargo xtask
//! generate`: for each document, the generated crate passes `cargo check` with its features
//! `client` and `server` and every target without a warning, and every example the document
//! gives for a schema or a JSON response round-trips through that schema's model.
//!
//! The documents are fetched into `.cache/corpus/` on first use (`npm pack`, checksums
//! checked).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use drydock_ir::{Api, BodyKind, TypeRef};
use xtask::corpus::{self, Manifest};
use xtask::generate::{Options, RuntimeDep, generate_crate};

use crate::crates::{cargo, check_without_warnings, spec, write_crate};

/// Generates the crate of corpus document `name`, checks it and round-trips its examples.
fn generates_checks_and_round_trips(name: &str) {
    let (spec, path) = spec(name);
    let crate_name = format!("corpus-{name}");
    let started = Instant::now();
    let generated = generate_crate(
        std::slice::from_ref(&path),
        &Options {
            crate_name: crate_name.clone(),
            labels: Vec::new(),
            runtime: RuntimeDep::workspace(),
        },
    )
    .unwrap_or_else(|e| panic!("{name}: generate failed on a valid document: {e}"));
    let generate_time = started.elapsed();
    assert!(
        generated.built.api.operations.len() + generated.built.api.types.len() > 0,
        "{name}: the crate has neither operations nor types"
    );

    let mut files = generated.files.clone();
    let (test, examples) = examples_test(&generated.built.api, &files, &crate_name)
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    if examples > 0 {
        files.insert("tests/corpus_examples.rs".into(), test);
    }
    let dir = write_crate(name, &files);

    let started = Instant::now();
    check_without_warnings(name, &dir);
    let check_time = started.elapsed();

    let started = Instant::now();
    if examples > 0 {
        let (ok, output) = cargo(&dir, &["test", "--test", "corpus_examples", "--quiet"]);
        assert!(
            ok,
            "{name}: examples of {} ({}) do not round-trip through their models:\n{output}",
            spec.file,
            path.display()
        );
    }
    eprintln!(
        "{name} ({}, {} operations, {} types, {} warnings): generate {generate_time:.1?}, \
         check {check_time:.1?}, {examples} examples round-tripped in {:.1?}",
        spec.format,
        generated.built.api.operations.len(),
        generated.built.api.types.len(),
        generated.warnings.len(),
        started.elapsed()
    );
}

/// The Rust type of a JSON body whose schema is `ty`, when it has a model.
fn rust_type(ty: &TypeRef, names: &BTreeMap<String, String>, lib: &str) -> Option<String> {
    match ty {
        TypeRef::Named { name } => names.get(name).map(|n| format!("{lib}::{n}")),
        TypeRef::Array { items } => rust_type(items, names, lib).map(|t| format!("Vec<{t}>")),
        TypeRef::Map { values } => rust_type(values, names, lib)
            .map(|t| format!("std::collections::BTreeMap<String, {t}>")),
        _ => None,
    }
}

/// `tests/corpus_examples.rs` for the generated crate: one round trip per example of a type
/// or of a JSON response whose schema has a model. Returns the file and the example count.
fn examples_test(
    api: &Api,
    files: &BTreeMap<PathBuf, String>,
    crate_name: &str,
) -> Result<(String, usize), String> {
    let lib = crate_name.replace('-', "_");
    let models_lib = files
        .get(Path::new("models/src/lib.rs"))
        .ok_or("the generated crate has no models/src/lib.rs")?;
    let names = xtask::generate::model_names(api, models_lib)?;
    let mut calls = String::new();
    let mut count = 0;
    let mut add = |ty: &str, pointer: &str, value: &serde_json::Value| {
        // An example under a media type that is not JSON (XML, text) is not a model's JSON.
        if let Some((_, rest)) = pointer.split_once("/content/")
            && !rest
                .split('/')
                .next()
                .is_some_and(|media| media.contains("json"))
        {
            return;
        }
        let json = serde_json::to_string(value).expect("a JSON value serialises");
        writeln!(
            calls,
            "    round_trip::<{ty}>({pointer:?}, {json:?}, &mut failures);"
        )
        .expect("writing to a String cannot fail");
        count += 1;
    };
    for (name, def) in &api.types {
        for example in &def.examples {
            add(
                &format!("{lib}::{}", names[name]),
                &example.value.pointer,
                &example.value.example,
            );
        }
    }
    for op in api.operations.values() {
        for response in &op.responses {
            let Some(shape) = response.shapes.last() else {
                continue;
            };
            if shape.value.kind != BodyKind::Json {
                continue;
            }
            let Some(ty) = shape
                .value
                .schema
                .as_ref()
                .and_then(|s| rust_type(s, &names, &lib))
            else {
                continue;
            };
            for example in &response.examples {
                add(&ty, &example.value.pointer, &example.value.example);
            }
        }
    }
    let text = format!(
        "//! Written by drydock's corpus test: every example of the document through its model.\n\
         \n\
         use serde::Serialize;\n\
         use serde::de::DeserializeOwned;\n\
         use serde_json::Value;\n\
         \n\
         /// Deserialises the example into `M` and back, recording what differs. An example that\n\
         /// the spec wrote as a JSON text (a string) for a structured schema is decoded first.\n\
         fn round_trip<M: Serialize + DeserializeOwned>(pointer: &str, json: &str, failures: &mut Vec<String>) {{\n\
         \x20   let mut sent: Value = serde_json::from_str(json).expect(\"the test holds JSON\");\n\
         \x20   let mut model = serde_json::from_value::<M>(sent.clone());\n\
         \x20   if model.is_err()\n\
         \x20       && let Some(inner) = sent.as_str().and_then(|s| serde_json::from_str::<Value>(s).ok())\n\
         \x20   {{\n\
         \x20       model = serde_json::from_value::<M>(inner.clone());\n\
         \x20       sent = inner;\n\
         \x20   }}\n\
         \x20   match model.map(|m| serde_json::to_value(&m)) {{\n\
         \x20       Err(e) => failures.push(format!(\"{{pointer}}: does not deserialise: {{e}}\\n  {{sent}}\")),\n\
         \x20       Ok(Err(e)) => failures.push(format!(\"{{pointer}}: does not serialise: {{e}}\")),\n\
         \x20       Ok(Ok(back)) => {{\n\
         \x20           if let Some(at) = difference(&sent, &back, String::new()) {{\n\
         \x20               failures.push(format!(\"{{pointer}}: differs at `{{at}}`\\n  sent {{sent}}\\n  got back {{back}}\"));\n\
         \x20           }}\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n\
         \n\
         /// Where `a` and `b` first differ, with numbers equal by value (at `f32` precision when\n\
         /// the model holds a `float`), a null member the same as an absent one, and a member\n\
         /// the example leaves out but the model gives back empty (a required one) ignored.\n\
         fn difference(a: &Value, b: &Value, at: String) -> Option<String> {{\n\
         \x20   match (a, b) {{\n\
         \x20       (Value::Number(x), Value::Number(y)) => {{\n\
         \x20           let (x, y) = (x.as_f64()?, y.as_f64()?);\n\
         \x20           (x != y && x as f32 != y as f32).then_some(at)\n\
         \x20       }}\n\
         \x20       (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x\n\
         \x20           .iter()\n\
         \x20           .zip(y)\n\
         \x20           .enumerate()\n\
         \x20           .find_map(|(i, (x, y))| difference(x, y, format!(\"{{at}}[{{i}}]\"))),\n\
         \x20       (Value::Object(x), Value::Object(y)) => {{\n\
         \x20           let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();\n\
         \x20           keys.into_iter().find_map(|k| {{\n\
         \x20               if !x.contains_key(k) && y.get(k).is_some_and(empty) {{\n\
         \x20                   return None;\n\
         \x20               }}\n\
         \x20               let x = x.get(k).unwrap_or(&Value::Null);\n\
         \x20               let y = y.get(k).unwrap_or(&Value::Null);\n\
         \x20               difference(x, y, format!(\"{{at}}.{{k}}\"))\n\
         \x20           }})\n\
         \x20       }}\n\
         \x20       _ => (a != b).then_some(at),\n\
         \x20   }}\n\
         }}\n\
         \n\
         /// The empty value of its kind: what a model makes of a required member left out.\n\
         fn empty(value: &Value) -> bool {{\n\
         \x20   match value {{\n\
         \x20       Value::Null => true,\n\
         \x20       Value::Bool(b) => !b,\n\
         \x20       Value::Number(n) => n.as_f64() == Some(0.0),\n\
         \x20       Value::String(s) => s.is_empty(),\n\
         \x20       Value::Array(a) => a.is_empty(),\n\
         \x20       Value::Object(o) => o.is_empty(),\n\
         \x20   }}\n\
         }}\n\
         \n\
         #[test]\n\
         fn every_example_round_trips_through_its_model() {{\n\
         \x20   let mut failures: Vec<String> = Vec::new();\n\
         {calls}\
         \x20   assert!(failures.is_empty(), \"{{}} of {count} examples failed:\\n{{}}\", failures.len(), failures.join(\"\\n\"));\n\
         }}\n"
    );
    Ok((text, count))
}

/// One test per corpus document; `the_tests_cover_the_manifest` keeps the list complete.
macro_rules! corpus_tests {
    ($($test:ident => $name:literal,)*) => {
        $(
            #[test]
            fn $test() {
                generates_checks_and_round_trips($name);
            }
        )*
        const TESTED: &[&str] = &[$($name),*];
    };
}

corpus_tests! {
    petstore_v2_generates_a_crate_that_checks_and_round_trips_its_examples => "petstore-v2",
    petstore_expanded_v2_generates_a_crate_that_checks_and_round_trips_its_examples => "petstore-expanded-v2",
    circular_v2_generates_a_crate_that_checks_and_round_trips_its_examples => "circular-v2",
    petstore_v3_generates_a_crate_that_checks_and_round_trips_its_examples => "petstore-v3",
    uspto_generates_a_crate_that_checks_and_round_trips_its_examples => "uspto",
    oneforge_generates_a_crate_that_checks_and_round_trips_its_examples => "1forge",
    xkcd_generates_a_crate_that_checks_and_round_trips_its_examples => "xkcd",
    apis_guru_generates_a_crate_that_checks_and_round_trips_its_examples => "apis-guru",
    nexmo_account_generates_a_crate_that_checks_and_round_trips_its_examples => "nexmo-account",
    postmark_account_generates_a_crate_that_checks_and_round_trips_its_examples => "postmark-account",
    openstates_generates_a_crate_that_checks_and_round_trips_its_examples => "openstates",
    spotify_generates_a_crate_that_checks_and_round_trips_its_examples => "spotify",
}

#[test]
fn the_tests_cover_the_manifest() {
    let manifest = Manifest::load_default().unwrap_or_else(|e| panic!("{e}"));
    let listed: Vec<&str> = manifest.specs.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(
        listed,
        TESTED,
        "add a test to corpus_tests! for each document of {}",
        corpus::MANIFEST
    );
}

#[test]
fn two_documents_make_one_crate_with_both_versions() {
    let (_, v2) = spec("petstore-v2");
    let (_, v3) = spec("petstore-v3");
    let options = Options {
        crate_name: "petstore".into(),
        labels: vec!["1.0".into(), "2.0".into()],
        runtime: RuntimeDep::Version("0.1".into()),
    };
    let generated = generate_crate(&[v2.clone(), v3.clone()], &options)
        .unwrap_or_else(|e| panic!("two petstores: {e}"));
    let versions: Vec<String> = generated
        .built
        .api
        .versions
        .iter()
        .map(|v| v.to_string())
        .collect();
    assert_eq!(versions, ["1.0", "2.0"]);
    let manifest = &generated.files[Path::new("models/Cargo.toml")];
    assert!(
        manifest.contains("drydock-runtime = { version = \"0.1\""),
        "the runtime is the chosen version:\n{manifest}"
    );

    // Both documents say 1.0.0: without labels they are told apart by position, with a warning.
    let generated = generate_crate(
        &[v2, v3],
        &Options {
            labels: Vec::new(),
            ..options
        },
    )
    .unwrap_or_else(|e| panic!("two petstores without labels: {e}"));
    assert_eq!(generated.built.api.versions.len(), 2);
    assert!(
        generated
            .warnings
            .iter()
            .any(|w| w.contains("#/info/version") && w.contains("\"1.0.0\"")),
        "{:?}",
        generated.warnings
    );
}

#[test]
fn a_label_count_that_does_not_match_the_documents_is_an_error() {
    let (_, v2) = spec("petstore-v2");
    let error = generate_crate(
        &[v2],
        &Options {
            crate_name: "petstore".into(),
            labels: vec!["1.0".into(), "2.0".into()],
            runtime: RuntimeDep::workspace(),
        },
    )
    .expect_err("two labels for one document");
    assert!(error.contains("--version-label"), "{error}");
}
