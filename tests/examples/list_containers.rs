//! Lists the daemon's containers, like `docker ps`: `list_containers [--all]`.
//!
//! Connects the way the docker CLI does (`DOCKER_HOST`, `DOCKER_API_VERSION`,
//! `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`) and prints the running containers, or all of them
//! with `--all`, as tab-separated columns.
//!
//! ```text
//! DOCKER_HOST=unix:///var/run/docker.sock cargo run -p drydock-tests --example list_containers -- --all
//! ```

use std::process::ExitCode;

use drydock_client::Client;
use drydock_tests::client_examples::list_containers;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut all = false;
    for arg in std::env::args().skip(1) {
        match arg.as_str() {
            "-a" | "--all" => all = true,
            other => {
                eprintln!("usage: list_containers [--all] (unknown argument {other:?})");
                return ExitCode::from(2);
            }
        }
    }
    let client = match Client::from_env().await {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot connect to the daemon: {err}");
            return ExitCode::FAILURE;
        }
    };
    match list_containers(&client, all, &mut std::io::stdout().lock()).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
