//! The `Exec` area: `docker exec` (create, start over the hijacked connection, inspect,
//! resize).

use crate::daemon::Daemon;

/// The exec instances of every container.
#[derive(Default)]
pub struct ExecStore {}

impl drydock_server::Exec for Daemon {}
