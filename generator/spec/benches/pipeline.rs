//! Times the whole spec pipeline for the Docker Engine API: locate and read the
//! nine upstream specs, check their sha256, apply errata, derive v1.24 and
//! v1.23 from overlays, convert to OpenAPI 3.0, normalise each version and
//! merge all eleven. Also each stage alone, so a regression points at its stage.
//!
//! `cargo bench -p drydock-spec` (criterion). The target from the issue is under
//! 300 ms for everything, in release, on one core.

use std::path::{Path, PathBuf};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use drydock_spec::manifest::{Manifest, SpecSource};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("generator/spec sits two levels below the workspace root")
        .to_path_buf()
}

fn pipeline(c: &mut Criterion) {
    let root = workspace_root();
    let manifest_path = root.join(drydock_spec::DOCKER_MANIFEST);
    let manifest = Manifest::load(&manifest_path).expect("the manifest loads");
    let source = SpecSource::new(None, &root);
    let manifest_dir = manifest_path.parent().expect("the manifest has a folder");
    let documents = manifest
        .documents(manifest_dir, &source)
        .expect("the Docker specs are in ../shared/specs/docker or DRYDOCK_SPECS_DIR");

    let mut group = c.benchmark_group("docker");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("load_derive_normalise_merge_all_11_versions", |b| {
        b.iter(|| drydock_spec::docker_api(None, &root).expect("the pipeline runs"))
    });
    group.bench_function("load_and_derive_documents", |b| {
        b.iter(|| {
            manifest
                .documents(manifest_dir, &source)
                .expect("documents load")
        })
    });
    group.bench_function("convert_normalise_merge", |b| {
        b.iter_batched(
            || documents.clone(),
            |docs| drydock_spec::build(docs, Duration::ZERO).expect("the pipeline runs"),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
