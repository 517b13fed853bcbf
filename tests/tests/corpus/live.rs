//! Live: for two corpus documents, one Swagger 2.0 (`petstore-expanded-v2`) and one OpenAPI
//! 3.0 (`nexmo-account`), the generated server with a small in-memory implementation answers
//! the generated client over TCP.
//!
//! Each program of `live/` is a test of the generated crate (`tests/live.rs`): it implements
//! the server's traits on a store that keeps what is posted, serves `router` on 127.0.0.1:0
//! and drives it with `Client::with_base_url`: create, get, list, query parameters, and error
//! statuses whose bodies decode as the models the document gives for them. The crates share
//! `target/corpus/target` with the other corpus tests, so the dependencies build once.

use std::path::{Path, PathBuf};

use xtask::generate::{Options, RuntimeDep, generate_crate};

use crate::crates::{assert_no_warnings, cargo, spec, write_crate};

/// Generates the crate of corpus document `name` as `crate_name`, adds `program` as its test
/// `live` (with tokio and the runtime's listener as dev-dependencies) and runs it.
fn serves_its_client_over_tcp(name: &str, crate_name: &str, program: &str) {
    let (_, path) = spec(name);
    let runtime = xtask::workspace_root().join("runtime");
    let generated = generate_crate(
        std::slice::from_ref(&path),
        &Options {
            crate_name: crate_name.into(),
            labels: Vec::new(),
            runtime: RuntimeDep::Path(runtime.clone()),
        },
    )
    .unwrap_or_else(|e| panic!("{name}: generate failed: {e}"));
    let mut files = generated.files;
    let manifest = files
        .get_mut(Path::new("Cargo.toml"))
        .expect("the crate has a manifest");
    let dev_dependencies = format!(
        "[dev-dependencies]\n\
         tokio = {{ version = \"1\", features = [\"macros\", \"rt-multi-thread\", \"net\"] }}\n\
         drydock-runtime = {{ path = {:?}, default-features = false, features = [\"server\"] }}\n",
        runtime.display().to_string()
    );
    assert!(
        manifest.contains("[dev-dependencies]\n"),
        "{name}: the generated manifest has no [dev-dependencies]:\n{manifest}"
    );
    *manifest = manifest.replace("[dev-dependencies]\n", &dev_dependencies);
    files.insert(PathBuf::from("tests/live.rs"), program.to_string());
    let dir = write_crate(crate_name, &files);

    let (ok, output) = cargo(
        &dir,
        &[
            "test",
            "--features",
            "client,server",
            "--test",
            "live",
            "--message-format",
            "short",
        ],
    );
    assert!(
        ok,
        "{name}: the generated server does not answer the generated client as the program in {} expects:\n{output}",
        dir.display()
    );
    assert_no_warnings(name, &dir, &output);
    assert!(
        output.contains("test the_generated_client_drives_the_generated_server_over_tcp ... ok"),
        "{name}: the program's test did not run:\n{output}"
    );
}

#[test]
fn petstore_expanded_v2_server_answers_its_client_over_tcp() {
    serves_its_client_over_tcp(
        "petstore-expanded-v2",
        "live-petstore",
        include_str!("live/petstore_expanded_v2.rs"),
    );
}

#[test]
fn nexmo_account_server_answers_its_client_over_tcp() {
    serves_its_client_over_tcp(
        "nexmo-account",
        "live-nexmo",
        include_str!("live/nexmo_account.rs"),
    );
}
