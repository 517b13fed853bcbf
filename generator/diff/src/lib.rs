//! # drydock-diff: what changed between two versions of an API
//!
//! Compares versions held in one versioned [`drydock_ir::Api`] and reports each
//! change once, where it happens, with whether it breaks clients or servers.
//!
//! Architecture invariant: reads only the IR; does no I/O.
