//! Rendering reports as JSON, Markdown and HTML, and the committed set of them.
//!
//! What a document shows is decided here, in view structs; the askama
//! templates under `templates/diff/` only lay them out.

use std::collections::BTreeMap;
use std::path::PathBuf;

use askama::Template;
use drydock_ir::Api;
use serde_json::Value;

use crate::{Change, ChangeKind, DiffOptions, Report, diff};

/// Links from one report page to its neighbours.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Links {
    /// The report of the previous pair of versions, by file stem (`v1.23-v1.24`).
    pub prev: Option<String>,
    /// The report of the next pair of versions, by file stem.
    pub next: Option<String>,
    /// Whether an index page sits beside the report.
    pub index: bool,
}

/// One area's changes, as a document shows them.
struct Section {
    area: String,
    anchor: String,
    changes: usize,
    breaking_clients: usize,
    breaking_servers: usize,
    rows: Vec<Row>,
}

/// One change, as a document shows it.
struct Row {
    area: String,
    kind: String,
    location: String,
    old: String,
    new: String,
    breaks_clients: bool,
    breaks_servers: bool,
    affected: Vec<String>,
    /// The first affected operation, and where the change sits in it.
    path: Option<(String, String)>,
    description: String,
    markdown: String,
}

fn value_text(value: &Option<Value>) -> String {
    match value {
        None => String::new(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// The anchor GitHub gives a Markdown heading (`Session (experimental)` →
/// `session-experimental`), used for the HTML page's section ids too.
fn anchor(area: &str) -> String {
    area.to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

impl Row {
    fn of(change: &Change) -> Self {
        let (old, new) = (value_text(&change.old), value_text(&change.new));
        let affected: Vec<String> = if change.location.type_name.is_some() {
            change
                .affected_operations
                .iter()
                .map(ToString::to_string)
                .collect()
        } else {
            Vec::new()
        };
        let mut markdown = format!("{}: `{}`", change.kind.phrase(), change.location);
        match (old.is_empty(), new.is_empty()) {
            // Descriptions are paragraphs: show the lines that changed, below.
            _ if change.kind == ChangeKind::DescriptionChanged => {}
            (true, false) => markdown.push_str(&format!(" (`{new}`)")),
            (false, true) => markdown.push_str(&format!(" (was `{old}`)")),
            (false, false) => markdown.push_str(&format!(": `{old}` → `{new}`")),
            (true, true) => {}
        }
        match (change.breaks_clients, change.breaks_servers) {
            (true, true) => markdown.push_str(" — **breaks clients and servers**"),
            (true, false) => markdown.push_str(" — **breaks clients**"),
            (false, true) => markdown.push_str(" — breaks servers"),
            (false, false) => {}
        }
        if !affected.is_empty() {
            let ops: Vec<String> = affected.iter().map(|op| format!("`{op}`")).collect();
            markdown.push_str(&format!("; reaches {}", ops.join(", ")));
        }
        if let (Some(path), Some(first)) = (&change.location.path, affected.first()) {
            markdown.push_str(&format!(" (in `{first}`: `{path}`)"));
        }
        let path = change
            .location
            .path
            .clone()
            .zip(affected.first().cloned())
            .map(|(path, op)| (op, path));
        let description = change.description.clone().unwrap_or_default();
        if !description.is_empty() {
            let first_line = description.lines().next().unwrap_or_default();
            markdown.push_str(&format!(". {first_line}"));
        }
        if change.kind == ChangeKind::DescriptionChanged {
            markdown.push_str("\n\n  ```diff\n");
            for line in changed_lines(&old, &new) {
                markdown.push_str(&format!("  {line}\n"));
            }
            markdown.push_str("  ```");
        }
        Row {
            area: change.area.clone(),
            kind: change.kind.phrase(),
            location: change.location.to_string(),
            old,
            new,
            breaks_clients: change.breaks_clients,
            breaks_servers: change.breaks_servers,
            affected,
            path,
            description,
            markdown,
        }
    }
}

/// The lines of `new` that `old` lacks (`+ …`) and of `old` that `new` lacks
/// (`- …`), in order, by a longest-common-subsequence line diff.
fn changed_lines(old: &str, new: &str) -> Vec<String> {
    let (a, b): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    // lcs[i][j]: length of the longest common subsequence of a[i..] and b[j..].
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() || j < b.len() {
        if i < a.len() && j < b.len() && a[i] == b[j] {
            i += 1;
            j += 1;
        } else if j < b.len() && (i == a.len() || lcs[i][j + 1] >= lcs[i + 1][j]) {
            out.push(format!("+ {}", b[j]));
            j += 1;
        } else {
            out.push(format!("- {}", a[i]));
            i += 1;
        }
    }
    out
}

fn sections(report: &Report) -> Vec<Section> {
    let mut by_area: BTreeMap<&str, Vec<&Change>> = BTreeMap::new();
    for change in &report.changes {
        by_area.entry(&change.area).or_default().push(change);
    }
    by_area
        .into_iter()
        .map(|(area, changes)| Section {
            area: area.to_string(),
            anchor: anchor(area),
            changes: changes.len(),
            breaking_clients: changes.iter().filter(|c| c.breaks_clients).count(),
            breaking_servers: changes.iter().filter(|c| c.breaks_servers).count(),
            rows: changes.into_iter().map(Row::of).collect(),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "diff/report.md")]
struct MarkdownPage<'a> {
    report: &'a Report,
    sections: Vec<Section>,
}

#[derive(Template)]
#[template(path = "diff/report.html")]
struct HtmlPage<'a> {
    report: &'a Report,
    sections: Vec<Section>,
    links: &'a Links,
}

/// One report in an index.
#[derive(Clone)]
struct IndexEntry {
    stem: String,
    from: String,
    to: String,
    changes: usize,
    breaking_clients: usize,
    breaking_servers: usize,
}

#[derive(Template)]
#[template(path = "diff/index.md")]
struct MarkdownIndex<'a> {
    title: &'a str,
    entries: Vec<IndexEntry>,
}

#[derive(Template)]
#[template(path = "diff/index.html")]
struct HtmlIndex<'a> {
    title: &'a str,
    entries: Vec<IndexEntry>,
}

/// Renders a template, ending the text with a newline. The templates only read
/// fields, so rendering cannot fail short of running out of memory.
fn render(page: &impl Template) -> String {
    let mut text = page
        .render()
        .unwrap_or_else(|e| panic!("rendering a diff template failed: {e}"));
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

impl Report {
    /// The report as JSON: title, versions, summary, and one entry per change
    /// (kind, area, location, old and new values, sides, breaking flags,
    /// affected operations). Ends with a newline.
    pub fn to_json(&self) -> String {
        let mut json = serde_json::to_string_pretty(self)
            .unwrap_or_else(|e| panic!("a report always serialises: {e}"));
        json.push('\n');
        json
    }

    /// The report as a Markdown changelog: one section per area.
    pub fn to_markdown(&self) -> String {
        render(&MarkdownPage {
            report: self,
            sections: sections(self),
        })
    }

    /// The report as one self-contained HTML page (inline style and script, no
    /// external resources) with filters by area and by impact, and `links` to
    /// the neighbouring reports.
    pub fn to_html(&self, links: &Links) -> String {
        render(&HtmlPage {
            report: self,
            sections: sections(self),
            links,
        })
    }
}

/// The committed set of reports of `api`: every consecutive pair of versions
/// and the first→last pair, each as `.json`, `.md` and `.html`
/// (`v1.24-v1.25.json`), with `index.md` and `index.html`. Paths are relative
/// to the folder the caller writes them to.
pub fn reports(api: &Api) -> BTreeMap<PathBuf, String> {
    let options = DiffOptions::default();
    let consecutive: Vec<Report> = api
        .versions
        .windows(2)
        .map(|pair| diff(api, &pair[0], &pair[1], &options))
        .collect();
    let span = match (api.versions.first(), api.versions.last()) {
        (Some(first), Some(last)) if api.versions.len() > 2 => {
            Some(diff(api, first, last, &options))
        }
        _ => None,
    };
    let mut files = BTreeMap::new();
    let mut entries = Vec::new();
    for (i, report) in consecutive.iter().enumerate() {
        let links = Links {
            prev: i.checked_sub(1).map(|p| consecutive[p].file_stem()),
            next: consecutive.get(i + 1).map(Report::file_stem),
            index: true,
        };
        entries.push(write_report(report, &links, &mut files));
    }
    if let Some(report) = &span {
        let links = Links {
            index: true,
            ..Links::default()
        };
        entries.push(write_report(report, &links, &mut files));
    }
    let title = &api.title;
    files.insert(
        PathBuf::from("index.md"),
        render(&MarkdownIndex {
            title,
            entries: entries.clone(),
        }),
    );
    files.insert(
        PathBuf::from("index.html"),
        render(&HtmlIndex { title, entries }),
    );
    files
}

fn write_report(
    report: &Report,
    links: &Links,
    files: &mut BTreeMap<PathBuf, String>,
) -> IndexEntry {
    files.insert(report.file_name("json"), report.to_json());
    files.insert(report.file_name("md"), report.to_markdown());
    files.insert(report.file_name("html"), report.to_html(links));
    IndexEntry {
        stem: report.file_stem(),
        from: report.from.to_string(),
        to: report.to.to_string(),
        changes: report.summary.changes,
        breaking_clients: report.summary.breaking_clients,
        breaking_servers: report.summary.breaking_servers,
    }
}

#[cfg(test)]
mod tests {
    use super::anchor;

    #[test]
    fn area_anchors_follow_github_heading_ids() {
        assert_eq!(anchor("Session (experimental)"), "session-experimental");
        assert_eq!(anchor("Container"), "container");
    }
}
