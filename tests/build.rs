//! Writes `$OUT_DIR/model_dispatch.rs`: one `match` arm per type of the versioned IR
//! (`generated/ir/docker.json`), calling a generic function with the `drydock-models` type the
//! emitter wrote for it (`generated/models/src/lib.rs`). The model tests use it to deserialise a
//! JSON value into the model of a type they know only by its IR name.
//!
//! The emitter writes one top-level item per IR type, in the IR's (sorted) order; the script
//! pairs them up in that order and checks that each pair's names agree, so that a change of the
//! emitter's layout fails the build here rather than pairing types wrongly.

use std::fmt::Write as _;
use std::path::PathBuf;

fn main() {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf();
    let ir_path = root.join("generated/ir/docker.json");
    let models_path = root.join("generated/models/src/lib.rs");
    println!("cargo::rerun-if-changed={}", ir_path.display());
    println!("cargo::rerun-if-changed={}", models_path.display());

    let ir_text = std::fs::read_to_string(&ir_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", ir_path.display()));
    let ir: serde_json::Value = serde_json::from_str(&ir_text)
        .unwrap_or_else(|e| panic!("{} is not JSON: {e}", ir_path.display()));
    let mut ir_names: Vec<&str> = ir["types"]
        .as_object()
        .unwrap_or_else(|| panic!("{} has no `types` object", ir_path.display()))
        .keys()
        .map(String::as_str)
        .collect();
    ir_names.sort_unstable();

    let models = std::fs::read_to_string(&models_path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", models_path.display()));
    let rust_names: Vec<&str> = models.lines().filter_map(top_level_type_name).collect();
    assert_eq!(
        ir_names.len(),
        rust_names.len(),
        "{} has {} types but {} holds {} top-level types: the emitter's layout changed; update \
         tests/build.rs",
        ir_path.display(),
        ir_names.len(),
        models_path.display(),
        rust_names.len()
    );

    let mut arms = String::new();
    for (ir, rust) in ir_names.iter().zip(&rust_names) {
        assert!(
            normalised(rust).starts_with(&normalised(ir)),
            "IR type {ir} pairs with model {rust}: the emitter's order or naming changed; update \
             tests/build.rs"
        );
        writeln!(
            arms,
            "        {ir:?} => Some(f.call::<drydock_models::{rust}>()),"
        )
        .expect("writing to a String cannot fail");
    }
    let code = format!(
        "/// Calls `f` with the model of the IR type `ir_name`; `None` when there is no such type.\n\
         pub fn with_model<F: ModelFn>(ir_name: &str, f: F) -> Option<F::Output> {{\n    \
         match ir_name {{\n{arms}        _ => None,\n    }}\n}}\n\n\
         /// The IR name of every type that has a model, in order.\n\
         pub const MODEL_NAMES: &[&str] = &{ir_names:?};\n"
    );
    let out =
        PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it")).join("model_dispatch.rs");
    std::fs::write(&out, code).unwrap_or_else(|e| panic!("cannot write {}: {e}", out.display()));
}

/// `pub struct Name {` / `pub enum Name {` / `pub type Name = …;` at the left margin → `Name`.
fn top_level_type_name(line: &str) -> Option<&str> {
    let rest = ["pub struct ", "pub enum ", "pub type "]
        .iter()
        .find_map(|keyword| line.strip_prefix(keyword))?;
    let end = rest
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// Lower-case letters and digits only, to compare an IR name with its Rust spelling.
fn normalised(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}
