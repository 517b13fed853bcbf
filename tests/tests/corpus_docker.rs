//! The Docker Engine API through `cargo xtask generate` gives the same models as `cargo xtask
//! codegen`: the documents of the Docker manifest (upstream v1.25..v1.33 with the project's
//! errata, the derived v1.23 and v1.24), written out as plain JSON files and handed to
//! `generate` with their versions as labels, produce `generated/models/src/lib.rs` byte for byte.

use std::path::PathBuf;

use drydock_spec::manifest::{Manifest, SpecSource};
use xtask::generate::{Options, RuntimeDep, generate_crate};

#[test]
fn the_docker_specs_through_generate_give_the_models_codegen_writes() {
    let root = xtask::workspace_root();
    let manifest_path = root.join(drydock_spec::DOCKER_MANIFEST);
    let manifest = Manifest::load(&manifest_path).unwrap_or_else(|e| panic!("{e}"));
    let source = SpecSource::new(None, &root);
    let documents = manifest
        .documents(
            manifest_path.parent().expect("the manifest has a folder"),
            &source,
        )
        .unwrap_or_else(|e| panic!("the Docker documents load (../shared/specs/docker): {e}"));
    assert_eq!(documents.len(), 11, "v1.23..v1.33");

    let dir = root.join("target/corpus/docker-documents");
    std::fs::create_dir_all(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
    let mut paths: Vec<PathBuf> = Vec::new();
    let mut labels = Vec::new();
    for doc in &documents {
        let path = dir.join(format!("v{}.json", doc.version));
        let text = serde_json::to_string_pretty(&doc.value).expect("a JSON value serialises");
        std::fs::write(&path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        paths.push(path);
        labels.push(doc.version.to_string());
    }

    let generated = generate_crate(
        &paths,
        &Options {
            crate_name: "drydock".into(),
            labels,
            runtime: RuntimeDep::workspace(),
        },
    )
    .unwrap_or_else(|e| panic!("generate fails on the Docker documents: {e}"));
    let ours = &generated.files[&PathBuf::from("models/src/lib.rs")];
    let codegen_path = root.join("generated/models/src/lib.rs");
    let codegen = std::fs::read_to_string(&codegen_path)
        .unwrap_or_else(|e| panic!("{}: {e}", codegen_path.display()));
    if ours != &codegen {
        let line = ours
            .lines()
            .zip(codegen.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| ours.lines().count().min(codegen.lines().count()));
        panic!(
            "generate's models differ from {} from line {}:\n  generate: {:?}\n  codegen:  {:?}",
            codegen_path.display(),
            line + 1,
            ours.lines().nth(line),
            codegen.lines().nth(line)
        );
    }
    assert!(
        generated
            .files
            .contains_key(&PathBuf::from("client/src/lib.rs"))
            && generated
                .files
                .contains_key(&PathBuf::from("server/src/lib.rs")),
        "the Docker crate has a client and a server"
    );
}
