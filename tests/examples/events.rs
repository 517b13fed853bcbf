//! Prints the daemon's events, like `docker events`: `events [SINCE [UNTIL]]`.
//!
//! One line per event (`<time> <type> <action> <actor id>`). Without `UNTIL` it follows the
//! daemon until interrupted; `SINCE` and `UNTIL` are what `docker events --since/--until` take
//! (Unix seconds, for instance). Connects the way the docker CLI does (`DOCKER_HOST`,
//! `DOCKER_API_VERSION`, `DOCKER_CERT_PATH`, `DOCKER_TLS_VERIFY`).
//!
//! ```text
//! cargo run -p drydock-tests --example events -- 1700000000 1700000600
//! ```

use std::process::ExitCode;

use drydock_client::Client;
use drydock_tests::client_examples::print_events;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let mut args = std::env::args().skip(1);
    let since = args.next();
    let until = args.next();
    if args.next().is_some() {
        eprintln!("usage: events [SINCE [UNTIL]]");
        return ExitCode::from(2);
    }
    let client = match Client::from_env().await {
        Ok(client) => client,
        Err(err) => {
            eprintln!("cannot connect to the daemon: {err}");
            return ExitCode::FAILURE;
        }
    };
    match print_events(&client, since, until, None, &mut std::io::stdout().lock()).await {
        Ok(_) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("{err}");
            ExitCode::FAILURE
        }
    }
}
