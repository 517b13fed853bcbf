//! The models emitter on the real thing: the merged IR of Docker's specs,
//! `generated/ir/docker.json`, as the spec pipeline commits it.

use std::path::Path;
use std::sync::OnceLock;

use drydock_codegen::{emit_client, emit_models};
use drydock_ir::Api;

fn docker_api() -> Api {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../generated/ir/docker.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The emitted `src/lib.rs`, made once for all tests of this file.
fn docker_models() -> &'static str {
    static LIB: OnceLock<String> = OnceLock::new();
    LIB.get_or_init(|| {
        let files = emit_models(&docker_api(), "drydock-models").expect("the Docker IR emits");
        files[Path::new("src/lib.rs")].clone()
    })
}

/// Whether the item or field on line `i` has a doc comment above its attributes.
fn documented(lines: &[&str], i: usize) -> bool {
    let indent = |l: &str| l.len() - l.trim_start().len();
    let own = indent(lines[i]);
    lines[..i]
        .iter()
        .rev()
        .find(|l| {
            let t = l.trim_start();
            !(indent(l) > own || t.starts_with("#[") || t.starts_with(")]"))
        })
        .is_some_and(|l| indent(l) == own && l.trim_start().starts_with("///"))
}

#[test]
fn docker_ir_emits_the_same_bytes_twice() {
    let api = docker_api();
    let first = emit_models(&api, "drydock-models").expect("emits");
    let second = emit_models(&api, "drydock-models").expect("emits");
    assert_eq!(first, second);
}

#[test]
fn every_docker_type_becomes_one_documented_rust_item() {
    let api = docker_api();
    let lib = docker_models();
    let lines: Vec<&str> = lib.lines().collect();
    let items: Vec<usize> = (0..lines.len())
        .filter(|&i| {
            ["pub struct ", "pub enum ", "pub type "]
                .iter()
                .any(|p| lines[i].starts_with(p))
        })
        .collect();
    assert_eq!(items.len(), api.types.len());
    for &i in &items {
        assert!(documented(&lines, i), "undocumented: {}", lines[i]);
    }
}

#[test]
fn every_docker_field_and_variant_is_documented() {
    let lib = docker_models();
    let lines: Vec<&str> = lib.lines().collect();
    let mut in_type = false;
    for i in 0..lines.len() {
        let line = lines[i];
        if line.starts_with("pub struct ") || line.starts_with("pub enum ") {
            in_type = !line.ends_with(';');
        } else if line == "}" {
            in_type = false;
        } else if in_type
            && line.starts_with("    ")
            && line[4..].starts_with(|c: char| c.is_ascii_alphabetic())
        {
            assert!(documented(&lines, i), "undocumented: {line}");
        }
    }
}

#[test]
fn docker_enums_are_open_and_keep_the_empty_restart_policy() {
    let lib = docker_models();
    let enums = lib.lines().filter(|l| l.starts_with("pub enum ")).count();
    let catch_alls = lib
        .lines()
        .filter(|l| l.starts_with("    Other(") || l.starts_with("    Unlisted("))
        .count();
    assert_eq!(enums, catch_alls, "one catch-all variant per enum");
    assert!(
        lib.contains("\"\" => Self::Empty,"),
        "RestartPolicy.Name lists the empty string"
    );
}

#[test]
fn image_names_keep_their_slashes_and_other_path_parameters_are_one_segment() {
    let files = emit_client(&docker_api(), "drydock-client").expect("the Docker IR emits");
    let squeeze = |path: &str| -> String {
        files[Path::new(path)]
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
    };
    let image = squeeze("src/image.rs");
    assert!(
        image.contains("format!(\"/images/{}/json\", crate ::encode_path(& params.name))"),
        "ImageInspect sends library/busybox as two segments"
    );
    let container = squeeze("src/container.rs");
    assert!(
        container.contains("format!(\"/containers/{}/json\", crate ::encode_segment(& params.id))"),
        "ContainerInspect sends its id as one segment"
    );
    assert!(!container.contains("encode_path"));
}
