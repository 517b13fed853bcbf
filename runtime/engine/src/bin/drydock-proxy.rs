//! The userland proxy of a container's published ports (see `drydock_engine::network::proxy`):
//! run by the engine with the proxy's spec file as its only argument, never by hand.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(spec), None) = (args.next(), args.next()) else {
        eprintln!("usage: drydock-proxy <proxy spec file> (run by the engine)");
        std::process::exit(2);
    };
    std::process::exit(drydock_engine::network::proxy::run(&PathBuf::from(spec)));
}
