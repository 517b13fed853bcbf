//! `drydockd`: serve the Docker Engine API with drydock's engine (see the crate docs).

fn main() -> std::process::ExitCode {
    drydockd::run_command_line()
}
