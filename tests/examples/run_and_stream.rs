//! Runs a command in a new container and streams its output, like `docker run --rm`:
//! `run_and_stream IMAGE COMMAND [ARG...]`.
//!
//! Creates the container, starts it, copies its stdout and stderr to this process's stdout
//! and stderr as the frames arrive, waits for it, removes it and exits with the command's exit
//! code. Connects the way the docker CLI does (`DOCKER_HOST`, `DOCKER_API_VERSION`,
//! `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`).
//!
//! ```text
//! cargo run -p drydock-tests --example run_and_stream -- busybox sh -c 'echo hi; exit 3'
//! ```

use std::process::ExitCode;

use drydock_client::Client;
use drydock_tests::client_examples::run_and_stream;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(image), command) = (args.next(), args.collect::<Vec<_>>()) else {
        eprintln!("usage: run_and_stream IMAGE COMMAND [ARG...]");
        return ExitCode::from(2);
    };
    if command.is_empty() {
        eprintln!("usage: run_and_stream IMAGE COMMAND [ARG...]");
        return ExitCode::from(2);
    }
    let client = match Client::from_env().await {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot connect to the daemon: {err}");
            return ExitCode::FAILURE;
        }
    };
    let ran = run_and_stream(
        &client,
        &image,
        &command,
        &mut std::io::stdout().lock(),
        &mut std::io::stderr().lock(),
    )
    .await;
    match ran {
        // Exit codes are 0..=255 on Unix; anything else is reported as a failure.
        Ok(code) => u8::try_from(code).map_or(ExitCode::FAILURE, ExitCode::from),
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
