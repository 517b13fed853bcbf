//! `drydockd`: serve the Docker Engine API with drydock's engine (see the crate docs).

use std::process::ExitCode;

use clap::Parser;
use drydockd::options::{Cli, Command};

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Before any thread exists: the monitor and the proxy fork.
    let code = match &cli.command {
        Some(Command::Monitor { state_dir }) => Some(drydock_engine::monitor::run(state_dir)),
        Some(Command::Proxy { spec }) => Some(drydock_engine::network::proxy::run(spec)),
        None => None,
    };
    if let Some(code) = code {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    drydockd::logging::init(cli.options.log_level);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            log::error!("cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(drydockd::serve(cli.options)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            ExitCode::FAILURE
        }
    }
}
