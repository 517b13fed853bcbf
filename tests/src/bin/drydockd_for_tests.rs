//! `drydockd-for-tests`: the `drydockd` program built inside this package, so that its tests find
//! it through `CARGO_BIN_EXE_drydockd-for-tests`, built fresh before they run (cargo builds a
//! package's binaries for its integration tests, never a dependency's). It is drydockd's own
//! `main`: the daemon, and its own container monitor and port proxy.

fn main() -> std::process::ExitCode {
    drydockd::run_command_line()
}
