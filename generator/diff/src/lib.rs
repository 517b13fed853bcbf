//! # drydock-diff: what changed between two versions of an API
//!
//! Compares versions held in one versioned [`drydock_ir::Api`] and reports each
//! change once, where it happens, with whether it breaks clients or servers.
//!
//! * [`diff`] walks operations and named types ([`compare`](crate::compare) in
//!   the source) and returns a [`Report`]: one [`Change`] per change. A change
//!   of a named type (a field added to `HostConfig`) is reported once, at the
//!   type, with every operation that reaches it through fields, arrays, maps,
//!   aliases and unions ([`reach`](crate::reach) builds that index once per pair).
//! * [`rules`] states, in one function, which changes break clients and servers.
//! * [`Report::to_json`], [`Report::to_markdown`] and [`Report::to_html`]
//!   render one report; [`reports`] renders the committed set for every
//!   consecutive pair of versions and the first→last pair, with an index.
//!
//! Description-only changes: the IR keeps one description per item (the
//! newest), so no change of description is visible to this crate; with
//! [`DiffOptions::descriptions`] each change carries the item's description.
//!
//! Architecture invariant: reads only the IR; does no I/O. Documents are
//! rendered by askama templates under `templates/diff/`; what they show is
//! decided here.

mod change;
mod compare;
mod equivalence;
mod inclusion;
mod reach;
mod render;
pub mod rules;

use std::collections::BTreeMap;
use std::path::PathBuf;

use drydock_ir::{Api, ApiVersion};
use serde::Serialize;

pub use change::{Change, ChangeKind, Location, OperationRef, Side, type_label};
pub use render::{Links, reports};

/// What a diff reports besides changes of the API's shape.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DiffOptions {
    /// Attach each changed item's description to its change.
    pub descriptions: bool,
}

/// Every change from one version of an API to another.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Report {
    /// The API's title.
    pub title: String,
    /// The older version.
    pub from: ApiVersion,
    /// The newer version.
    pub to: ApiVersion,
    /// Counts of the changes.
    pub summary: Summary,
    /// The changes, by area, then operations before types, then location.
    pub changes: Vec<Change>,
}

/// Counts of a report's changes.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Summary {
    /// Every change.
    pub changes: usize,
    /// Changes that break clients.
    pub breaking_clients: usize,
    /// Changes that break servers.
    pub breaking_servers: usize,
    /// Changes per area.
    pub areas: BTreeMap<String, usize>,
}

impl Summary {
    fn of(changes: &[Change]) -> Self {
        let mut summary = Summary {
            changes: changes.len(),
            ..Summary::default()
        };
        for change in changes {
            summary.breaking_clients += usize::from(change.breaks_clients);
            summary.breaking_servers += usize::from(change.breaks_servers);
            *summary.areas.entry(change.area.clone()).or_default() += 1;
        }
        summary
    }
}

/// Compares version `from` with version `to` of `api`.
///
/// Either order works: with `from` newer than `to` the report reads as a downgrade.
pub fn diff(api: &Api, from: &ApiVersion, to: &ApiVersion, options: &DiffOptions) -> Report {
    let changes = compare::Walk::run(api, from, to, options);
    Report {
        title: api.title.clone(),
        from: from.clone(),
        to: to.clone(),
        summary: Summary::of(&changes),
        changes,
    }
}

impl Report {
    /// The report's base file name: `v1.24-v1.25`.
    pub fn file_stem(&self) -> String {
        format!("v{}-v{}", self.from, self.to)
    }

    /// The report's file name in `format` (`json`, `md`, `html`).
    pub fn file_name(&self, format: &str) -> PathBuf {
        PathBuf::from(format!("{}.{format}", self.file_stem()))
    }
}
