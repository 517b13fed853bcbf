//! The per-container monitor (see `drydock_engine::monitor`): run by the engine with the
//! container's state folder as its only argument, never by hand.

use std::path::PathBuf;

fn main() {
    let mut args = std::env::args_os().skip(1);
    let (Some(state_dir), None) = (args.next(), args.next()) else {
        eprintln!("usage: drydock-monitor <container state folder> (run by the engine)");
        std::process::exit(2);
    };
    std::process::exit(drydock_engine::monitor::run(&PathBuf::from(state_dir)));
}
