//! `cargo xtask generate`: one standalone crate from any Swagger 2.0 / OpenAPI 3.0 documents.
//!
//! The crate written under `--out` is a small Cargo workspace of its own:
//!
//! ```text
//! OUT/Cargo.toml        package NAME (+ [workspace]): features `client` and `server`
//! OUT/src/lib.rs        re-exports the models; `client` and `server` modules behind features
//! OUT/README.md         what it is, how to use it (also the crate's rustdoc)
//! OUT/examples/         decode.rs: deserialises and prints a model
//! OUT/models/           NAME-models, from `drydock_codegen::emit_models`
//! OUT/client/           NAME-client, from `drydock_codegen::emit_client`
//! OUT/server/           NAME-server, from `drydock_codegen::emit_server`
//! ```
//!
//! The emitters write crates that know their models as `drydock-models`; the generated
//! crates keep that name through Cargo's dependency renaming (`package = "NAME-models"`),
//! so the emitted code is used byte for byte, the same as `cargo xtask codegen` writes it.
//!
//! Fallbacks, each reported as one warning: a version label that is not `MAJOR.MINOR`
//! (the client and server gate operations by such versions) becomes one derived from it
//! (`1.0.0` → `1.0`, `v2` → `2.0`, else the document's position `N.0`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use drydock_ir::ApiVersion;
use drydock_spec::Built;
use drydock_spec::manifest::VersionDocument;

/// Where the generated crate finds `drydock-runtime`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeDep {
    /// A path dependency on a checkout of the runtime crate.
    Path(PathBuf),
    /// A registry dependency on a published version.
    Version(String),
}

impl RuntimeDep {
    /// The runtime of this workspace, by absolute path.
    pub fn workspace() -> Self {
        RuntimeDep::Path(crate::workspace_root().join("runtime"))
    }

    /// The dependency's TOML key-values, without features: `path = "…"` or `version = "…"`.
    fn toml(&self) -> String {
        match self {
            RuntimeDep::Path(path) => format!("path = {}", toml_string(&path.to_string_lossy())),
            RuntimeDep::Version(version) => format!("version = {}", toml_string(version)),
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Options {
    /// The crate's name (the sub-crates are `NAME-models`, `NAME-client`, `NAME-server`).
    pub crate_name: String,
    /// Labels of the versions, in the order of the documents (default: `info.version`).
    pub labels: Vec<String>,
    /// The runtime dependency.
    pub runtime: RuntimeDep,
}

/// A generated crate, not yet written.
#[derive(Debug)]
pub struct Generated {
    /// Every file, relative to the output folder.
    pub files: BTreeMap<PathBuf, String>,
    /// The merged API and its statistics.
    pub built: Built,
    /// Every fallback taken: `file#/json/pointer: what was done`.
    pub warnings: Vec<String>,
    /// Time to load, normalise and merge the documents.
    pub load_time: Duration,
    /// Time to emit the code.
    pub emit_time: Duration,
}

/// Loads `specs`, builds the versioned API and emits the crate.
///
/// Errors name the file and, for an invalid document, the JSON pointer.
pub fn generate_crate(specs: &[PathBuf], options: &Options) -> Result<Generated, String> {
    check_crate_name(&options.crate_name)?;
    if specs.is_empty() {
        return Err("no document given: pass at least one --spec FILE".into());
    }
    if !options.labels.is_empty() && options.labels.len() != specs.len() {
        return Err(format!(
            "{} --version-label for {} --spec: give one label per document, or none",
            options.labels.len(),
            specs.len()
        ));
    }
    let start = Instant::now();
    let mut warnings = Vec::new();
    let mut documents = Vec::with_capacity(specs.len());
    for path in specs {
        let value = drydock_spec::document::load_document(path).map_err(|e| e.to_string())?;
        documents.push((path, value));
    }
    let wanted: Vec<String> = if options.labels.is_empty() {
        documents
            .iter()
            .enumerate()
            .map(|(i, (path, value))| document_label(path, value, i))
            .collect()
    } else {
        options.labels.clone()
    };
    let labels = usable_labels(&wanted);
    for ((path, _), (want, got)) in documents.iter().zip(wanted.iter().zip(&labels)) {
        if want != got {
            warnings.push(format!(
                "{}#/info/version: version {want:?} is not MAJOR.MINOR, which the client and server gate operations by; labelled {got}",
                path.display()
            ));
        }
    }
    let documents = documents
        .into_iter()
        .zip(labels)
        .map(|((path, value), label)| VersionDocument {
            version: ApiVersion::new(label),
            file: path.display().to_string(),
            value,
        })
        .collect();
    let load = start.elapsed();
    let built = drydock_spec::build(documents, load).map_err(|e| e.to_string())?;
    for (version, w) in &built.warnings {
        let file = built
            .versions
            .iter()
            .find(|v| &v.version == version)
            .map_or_else(|| format!("v{version}"), |v| v.file.clone());
        warnings.push(format!("{file}#{}: {}", w.pointer, w.message));
    }
    let load_time = start.elapsed();

    let start = Instant::now();
    let name = &options.crate_name;
    let models_name = format!("{name}-models");
    let client_name = format!("{name}-client");
    let server_name = format!("{name}-server");
    let emit = |what: &str, r: Result<BTreeMap<PathBuf, String>, drydock_codegen::CodegenError>| {
        r.map_err(|e| format!("emitting the {what} of {name}: {e}"))
    };
    let models = emit(
        "models",
        drydock_codegen::emit_models(&built.api, &models_name),
    )?;
    let client = emit(
        "client",
        drydock_codegen::emit_client(&built.api, &client_name),
    )?;
    let server = emit(
        "server",
        drydock_codegen::emit_server(&built.api, &server_name),
    )?;
    let mut files = BTreeMap::new();
    for (dir, part, crate_files) in [
        ("models", &models_name, models),
        ("client", &client_name, client),
        ("server", &server_name, server),
    ] {
        for (path, text) in crate_files {
            let text = if path == Path::new("Cargo.toml") {
                sub_crate_manifest(&text, part, &models_name, &options.runtime)?
            } else {
                text
            };
            files.insert(Path::new(dir).join(path), text);
        }
    }
    files.insert("Cargo.toml".into(), root_manifest(name, &built));
    files.insert(
        "src/lib.rs".into(),
        root_lib(name, !built.api.types.is_empty()),
    );
    files.insert("README.md".into(), readme(name, &built, specs, &warnings));
    let models_lib = files
        .get(Path::new("models/src/lib.rs"))
        .map(String::as_str)
        .unwrap_or_default();
    if let Some(text) = model_names(&built.api, models_lib)
        .ok()
        .and_then(|names| example(name, &built.api, &names))
    {
        files.insert("examples/decode.rs".into(), text);
    }
    files.insert(".gitignore".into(), "/target\n".into());
    let emit_time = start.elapsed();
    Ok(Generated {
        files,
        built,
        warnings,
        load_time,
        emit_time,
    })
}

/// Writes `files` under `out`, leaving files that already hold the same text alone.
/// Returns how many files it wrote.
pub fn write_files(files: &BTreeMap<PathBuf, String>, out: &Path) -> Result<usize, String> {
    let mut written = 0;
    for (path, text) in files {
        let full = out.join(path);
        if std::fs::read_to_string(&full).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = full.parent() {
            std::fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        std::fs::write(&full, text).map_err(|e| format!("{}: {e}", full.display()))?;
        written += 1;
    }
    Ok(written)
}

/// A crate name Cargo accepts: ASCII letters, digits, `-` and `_`, starting with a letter.
fn check_crate_name(name: &str) -> Result<(), String> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        && name.len() <= 64;
    if ok {
        Ok(())
    } else {
        Err(format!(
            "crate name {name:?} is not valid: use ASCII letters, digits, '-' or '_', starting with a letter"
        ))
    }
}

/// The document's own label: `info.version`, else the file's stem, else its position.
fn document_label(path: &Path, value: &serde_json::Value, index: usize) -> String {
    match value.pointer("/info/version") {
        Some(serde_json::Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        Some(serde_json::Value::Number(n)) => n.to_string(),
        _ => path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| format!("{}", index + 1)),
    }
}

/// Labels the emitters accept (`MAJOR.MINOR`, distinct): each wanted label that is one
/// stays; others become the first two numbers found in them (`v1.0.0` → `1.0`, `v2` →
/// `2.0`); when that leaves no number or a duplicate, every label becomes `N.0` by position.
pub fn usable_labels(wanted: &[String]) -> Vec<String> {
    let derived: Vec<Option<String>> = wanted
        .iter()
        .map(|label| {
            if ApiVersion::new(label.clone()).major_minor().is_some() {
                return Some(label.clone());
            }
            let numbers: Vec<u32> = label
                .split(|c: char| !c.is_ascii_digit())
                .filter(|s| !s.is_empty())
                .map_while(|s| s.parse().ok())
                .take(2)
                .collect();
            match numbers.as_slice() {
                [major, minor] => Some(format!("{major}.{minor}")),
                [major] => Some(format!("{major}.0")),
                _ => None,
            }
        })
        .collect();
    let distinct = derived
        .iter()
        .flatten()
        .collect::<std::collections::BTreeSet<_>>()
        .len()
        == wanted.len();
    if derived.iter().all(Option::is_some) && distinct {
        derived.into_iter().flatten().collect()
    } else {
        (1..=wanted.len()).map(|n| format!("{n}.0")).collect()
    }
}

/// Rewrites an emitted sub-crate's manifest for the generated crate: its runtime
/// dependency, its models dependency (renamed so the emitted `drydock_models::` paths
/// resolve), and the note on who wrote it.
fn sub_crate_manifest(
    text: &str,
    part: &str,
    models_name: &str,
    runtime: &RuntimeDep,
) -> Result<String, String> {
    const RUNTIME: &str = "path = \"../../runtime\"";
    const MODELS: &str = "drydock-models = { path = \"../models\" }";
    if !text.contains(RUNTIME) {
        return Err(format!(
            "the emitted manifest of {part} has no `{RUNTIME}` runtime dependency to point at the chosen runtime"
        ));
    }
    Ok(text
        .replace(
            "# Generated by `cargo xtask codegen`. Do not edit.",
            "# Generated by `cargo xtask generate` (drydock). Do not edit.",
        )
        .replace(RUNTIME, &runtime.toml())
        .replace(
            MODELS,
            &format!(
                "drydock-models = {{ package = {}, path = \"../models\" }}",
                toml_string(models_name)
            ),
        ))
}

fn root_manifest(name: &str, built: &Built) -> String {
    let description = toml_string(&format!(
        "{} (generated by drydock from its API document)",
        one_line(&built.api.title)
    ));
    let name_toml = toml_string(name);
    let models = toml_string(&format!("{name}-models"));
    let client = toml_string(&format!("{name}-client"));
    let server = toml_string(&format!("{name}-server"));
    format!(
        "# Generated by `cargo xtask generate` (drydock). Do not edit.\n\
         [package]\n\
         name = {name_toml}\n\
         description = {description}\n\
         version = \"0.1.0\"\n\
         edition = \"2024\"\n\
         publish = false\n\
         \n\
         [features]\n\
         # The reqwest client: `client::Client`, one async method per operation.\n\
         client = [\"dep:client\"]\n\
         # The axum server: one trait per area of operations and `server::router`.\n\
         server = [\"dep:server\"]\n\
         \n\
         [dependencies]\n\
         models = {{ package = {models}, path = \"models\" }}\n\
         client = {{ package = {client}, path = \"client\", optional = true }}\n\
         server = {{ package = {server}, path = \"server\", optional = true }}\n\
         \n\
         [dev-dependencies]\n\
         serde = \"1\"\n\
         serde_json = \"1\"\n\
         \n\
         [workspace]\n\
         members = [\"models\", \"client\", \"server\"]\n"
    )
}

/// The root crate's `lib.rs`: the models at the root (when there are any), the models crate
/// as `models`, the client and server behind their features.
fn root_lib(name: &str, has_models: bool) -> String {
    let glob = if has_models {
        "pub use models::*;\n\n"
    } else {
        ""
    };
    format!(
        "// Generated by `cargo xtask generate` (drydock). Do not edit.\n\
         #![doc = include_str!(\"../README.md\")]\n\
         \n\
         {glob}\
         /// The models crate itself (`{name}-models`).\n\
         pub use models;\n\
         \n\
         /// The client (`{name}-client`): `client::Client`, one async method per operation.\n\
         #[cfg(feature = \"client\")]\n\
         pub use client;\n\
         \n\
         /// The server (`{name}-server`): one trait per area of operations and `server::router`.\n\
         #[cfg(feature = \"server\")]\n\
         pub use server;\n"
    )
}

fn readme(name: &str, built: &Built, specs: &[PathBuf], warnings: &[String]) -> String {
    let api = &built.api;
    let title = one_line(&api.title);
    let rust_name = name.replace('-', "_");
    let mut text = format!(
        "# {name}\n\
         \n\
         Rust types, a client and a server for the {title}, generated by drydock's\n\
         `cargo xtask generate` from {documents}. Do not edit: generate it again.\n\
         \n\
         | | |\n\
         | --- | --- |\n\
         | API versions | {versions} |\n\
         | operations | {operations} |\n\
         | types | {types} |\n\
         \n\
         ## Use\n\
         \n\
         ```toml\n\
         [dependencies]\n\
         {name} = {{ path = \"…\", features = [\"client\"] }}\n\
         ```\n\
         \n\
         - The models are at the crate's root (and in `{rust_name}::models`): one type per schema,\n\
         \x20 `serde` both ways, open enums (an unknown value is kept, not an error).\n\
         - Feature `client`: `{rust_name}::client::Client`, one async method per operation,\n\
         \x20 named after the operation id in snake case, taking its `…Params` struct.\n\
         - Feature `server`: `{rust_name}::server`, one trait per area with a 501 default per\n\
         \x20 operation, and `router` to serve an implementation (an axum `Router`).\n\
         - `cargo run --example decode` (when the API has a struct model) decodes one from\n\
         \x20 JSON on standard input, or from the document's example, and prints it.\n\
         \n\
         ```rust,ignore\n\
         // The API at {server}, at version {newest}: request paths carry no version prefix.\n\
         let client = {rust_name}::client::Client::with_base_url(\"{server}\")?;\n\
         ```\n\
         \n\
         An error status is `Err(Error::Daemon {{ status, message, body }})`;\n\
         `error.body_as::<{rust_name}::Model>()` decodes the body into the model the\n\
         document gives for that status.\n\
         \n\
         The crate is a Cargo workspace of four packages: `{name}` (this one),\n\
         `{name}-models`, `{name}-client` and `{name}-server`, all linked against\n\
         `drydock-runtime`.\n",
        documents = specs
            .iter()
            .map(|p| format!(
                "`{}`",
                p.file_name().map_or_else(
                    || p.display().to_string(),
                    |n| n.to_string_lossy().into_owned()
                )
            ))
            .collect::<Vec<_>>()
            .join(", "),
        versions = api
            .versions
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join(", "),
        operations = api.operations.len(),
        types = api.types.len(),
        server = api
            .servers
            .iter()
            .map(|s| s.url.trim_end_matches('/'))
            .find(|url| url.starts_with("http://") || url.starts_with("https://"))
            .unwrap_or("http://127.0.0.1:8080"),
        newest = api
            .versions
            .last()
            .map_or_else(String::new, ToString::to_string),
    );
    if !warnings.is_empty() {
        text.push_str(
            "\n## Fallbacks\n\n\
             Constructs Rust types cannot express exactly, and what was generated instead:\n\n",
        );
        for w in warnings {
            text.push_str(&format!("- {}\n", one_line(w).replace('<', "&lt;")));
        }
    }
    text
}

/// The Rust name of each IR type in the models crate's `lib.rs`, which holds one top-level
/// item per IR type, in the IR's (sorted) order. An error when the layout does not pair up.
pub fn model_names(
    api: &drydock_ir::Api,
    models_lib: &str,
) -> Result<BTreeMap<String, String>, String> {
    let rust: Vec<&str> = models_lib
        .lines()
        .filter_map(|line| {
            let rest = ["pub struct ", "pub enum ", "pub type "]
                .iter()
                .find_map(|k| line.strip_prefix(k))?;
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            Some(&rest[..end])
        })
        .collect();
    if rust.len() != api.types.len() {
        return Err(format!(
            "the models hold {} top-level types for {} IR types: the emitter's layout changed",
            rust.len(),
            api.types.len()
        ));
    }
    let squash = |s: &str| -> String {
        s.chars()
            .filter(char::is_ascii_alphanumeric)
            .map(|c| c.to_ascii_lowercase())
            .collect()
    };
    let mut names = BTreeMap::new();
    for (ir, rust) in api.types.keys().zip(rust) {
        if !squash(rust).starts_with(&squash(ir)) {
            return Err(format!(
                "IR type {ir} pairs with model {rust}: the emitter's order changed"
            ));
        }
        names.insert(ir.clone(), rust.to_string());
    }
    Ok(names)
}

/// `examples/decode.rs`: decodes one model (the first with an example in the spec, else the
/// first struct) from standard input or the spec's example, and prints it both ways. `None`
/// when the API has no struct model.
fn example(name: &str, api: &drydock_ir::Api, names: &BTreeMap<String, String>) -> Option<String> {
    let is_struct = |def: &drydock_ir::TypeDef| {
        def.shapes
            .last()
            .is_some_and(|s| matches!(s.value, drydock_ir::TypeShape::Struct(_)))
    };
    let (ir, def) = api
        .types
        .iter()
        .find(|(_, def)| is_struct(def) && !def.examples.is_empty())
        .or_else(|| api.types.iter().find(|(_, def)| is_struct(def)))?;
    let rust = names.get(ir)?;
    let sample = def
        .examples
        .last()
        .map_or_else(|| "{}".to_string(), |e| e.value.example.to_string());
    let krate = name.replace('-', "_");
    Some(format!(
        "// Generated by `cargo xtask generate` (drydock). Do not edit.\n\
         //! Decodes a [`{krate}::{rust}`] from the JSON on standard input (else from the API\n\
         //! document's example) and prints it as Rust and back as JSON:\n\
         //! `cargo run --example decode < {ir}.json`.\n\
         \n\
         use std::io::{{IsTerminal, Read}};\n\
         \n\
         /// The document's example of `{ir}` (or an empty object).\n\
         const SAMPLE: &str = {sample:?};\n\
         \n\
         fn main() {{\n\
         \x20   let mut input = String::new();\n\
         \x20   if !std::io::stdin().is_terminal() {{\n\
         \x20       let _ = std::io::stdin().read_to_string(&mut input);\n\
         \x20   }}\n\
         \x20   if input.trim().is_empty() {{\n\
         \x20       input = SAMPLE.to_string();\n\
         \x20   }}\n\
         \x20   match serde_json::from_str::<{krate}::{rust}>(&input) {{\n\
         \x20       Ok(model) => {{\n\
         \x20           println!(\"{{model:#?}}\");\n\
         \x20           match serde_json::to_string_pretty(&model) {{\n\
         \x20               Ok(json) => println!(\"{{json}}\"),\n\
         \x20               Err(e) => eprintln!(\"cannot encode it again: {{e}}\"),\n\
         \x20           }}\n\
         \x20       }}\n\
         \x20       Err(e) => {{\n\
         \x20           eprintln!(\"not a {rust}: {{e}}\");\n\
         \x20           std::process::exit(1);\n\
         \x20       }}\n\
         \x20   }}\n\
         }}\n"
    ))
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_that_are_major_minor_stay() {
        assert_eq!(
            usable_labels(&["1.41".into(), "1.2".into()]),
            ["1.41", "1.2"]
        );
    }

    #[test]
    fn semver_and_v_prefixed_labels_keep_their_first_two_numbers() {
        assert_eq!(
            usable_labels(&["1.0.0".into(), "v2".into(), "2021-01".into()]),
            ["1.0", "2.0", "2021.1"]
        );
    }

    #[test]
    fn labels_without_numbers_or_colliding_become_positions() {
        assert_eq!(usable_labels(&["beta".into()]), ["1.0"]);
        assert_eq!(
            usable_labels(&["1.0.0".into(), "1.0.1".into()]),
            ["1.0", "2.0"]
        );
    }

    #[test]
    fn crate_names_cargo_rejects_are_errors() {
        assert!(check_crate_name("petstore-api").is_ok());
        assert!(check_crate_name("1pet").is_err());
        assert!(check_crate_name("pet store").is_err());
    }

    #[test]
    fn toml_strings_escape_quotes_and_backslashes() {
        assert_eq!(toml_string(r#"a "b" \c"#), r#""a \"b\" \\c""#);
    }
}
