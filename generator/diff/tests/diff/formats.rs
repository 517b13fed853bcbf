//! The rendered formats against golden files (`DRYDOCK_BLESS=1` rewrites them),
//! and the committed set of reports with its links.

use std::path::{Path, PathBuf};

use drydock_diff::{DiffOptions, Links, diff, reports};
use drydock_ir::{Api, ApiVersion, Scalar, TypeRef};

use crate::fixture::*;

/// Compares `actual` with the golden file `name`, or rewrites it when
/// `DRYDOCK_BLESS=1`.
fn assert_golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name);
    if std::env::var_os("DRYDOCK_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap_or_else(|e| panic!("writing {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "reading {}: {e} (run with DRYDOCK_BLESS=1 to create it)",
            path.display()
        )
    });
    assert!(
        expected == actual,
        "{} is stale; run with DRYDOCK_BLESS=1 to rewrite it. Actual output:\n{actual}",
        path.display()
    );
}

/// The base API with one change of several kinds, across two areas.
fn changed() -> Api {
    let mut api = base();
    add_prune(&mut api);
    let mut ping = operation(
        "SystemPing",
        "GET",
        "/_ping",
        vec![response("200", both(), empty_body())],
    );
    ping.tag = "System".to_string();
    ping.versions = only_old();
    api.operations.insert(ping.id.clone(), ping);
    let force = query(
        "force",
        only_new(),
        param_shape(TypeRef::scalar(Scalar::Boolean), true),
    );
    op(&mut api, "ThingCreate").parameters.push(force);
    field_mut(&mut api, "Thing", "Id").versions = only_old();
    let created = field(
        "Created",
        only_new(),
        field_shape(TypeRef::scalar(Scalar::DateTime), false),
    );
    fields(&mut api, "Thing").push(created);
    api.types.insert(
        "ThingState".to_string(),
        enum_type(
            "ThingState",
            &[
                ("running", both()),
                ("exited", both()),
                ("<removing>", only_new()),
            ],
        ),
    );
    api
}

#[test]
fn json_report_matches_golden_file() {
    let report = diff(&changed(), &old(), &new(), &DiffOptions::default());
    assert_golden("things-v1.0-v2.0.json", &report.to_json());
}

#[test]
fn markdown_report_matches_golden_file() {
    let report = diff(&changed(), &old(), &new(), &DiffOptions::default());
    assert_golden("things-v1.0-v2.0.md", &report.to_markdown());
}

#[test]
fn html_report_matches_golden_file() {
    let report = diff(&changed(), &old(), &new(), &DiffOptions::default());
    let links = Links {
        prev: Some("v0.9-v1.0".to_string()),
        next: None,
        index: true,
    };
    assert_golden("things-v1.0-v2.0.html", &report.to_html(&links));
}

#[test]
fn html_report_is_self_contained_and_escapes_values() {
    let report = diff(&changed(), &old(), &new(), &DiffOptions::default());
    let html = report.to_html(&Links::default());
    for external in ["<link", "src=", "http://", "https://", "@import"] {
        assert!(!html.contains(external), "HTML report refers to {external}");
    }
    assert!(html.contains("&#60;removing&#62;") || html.contains("&lt;removing&gt;"));
    assert!(!html.contains("<removing>"));
}

/// The changed API with a third version in which nothing of `2.0` remains but `ThingCreate`.
fn three_versions() -> Api {
    let mut api = changed();
    api.versions.push(ApiVersion::new("3.0"));
    let all = api.versions.clone();
    op(&mut api, "ThingCreate").versions = drydock_ir::VersionSet::from_presence(&all, |_| true);
    api
}

#[test]
fn report_set_has_every_consecutive_pair_and_first_to_last_in_each_format() {
    let files = reports(&three_versions());
    let names: Vec<PathBuf> = files.keys().cloned().collect();
    let mut expected: Vec<PathBuf> = ["v1.0-v2.0", "v2.0-v3.0", "v1.0-v3.0"]
        .iter()
        .flat_map(|stem| ["json", "md", "html"].map(|ext| PathBuf::from(format!("{stem}.{ext}"))))
        .chain(["index.md", "index.html"].map(PathBuf::from))
        .collect();
    expected.sort();
    assert_eq!(names, expected);
}

#[test]
fn report_pages_link_to_neighbouring_pairs_and_the_index() {
    let files = reports(&three_versions());
    let first = &files[Path::new("v1.0-v2.0.html")];
    assert!(first.contains(r#"href="v2.0-v3.0.html""#));
    assert!(!first.contains(r#"id="prev""#));
    let second = &files[Path::new("v2.0-v3.0.html")];
    assert!(second.contains(r#"href="v1.0-v2.0.html""#));
    assert!(!second.contains(r#"id="next""#));
    for page in [first, second, &files[Path::new("v1.0-v3.0.html")]] {
        assert!(page.contains(r#"href="index.html""#));
    }
    let index = &files[Path::new("index.md")];
    for stem in ["v1.0-v2.0", "v2.0-v3.0", "v1.0-v3.0"] {
        assert!(
            index.contains(&format!("({stem}.md)")),
            "index.md lacks {stem}"
        );
        assert!(files[Path::new("index.html")].contains(&format!(r#"href="{stem}.html""#)));
    }
}

#[test]
fn report_set_json_parses_and_counts_match_the_entries() {
    let files = reports(&three_versions());
    let json: serde_json::Value =
        serde_json::from_str(&files[Path::new("v2.0-v3.0.json")]).expect("valid JSON");
    let changes = json["changes"].as_array().expect("changes");
    assert!(!changes.is_empty());
    assert_eq!(json["summary"]["changes"], changes.len());
    let breaking = changes
        .iter()
        .filter(|c| c["breaks_clients"] == true)
        .count();
    assert_eq!(json["summary"]["breaking_clients"], breaking);
}

#[test]
fn report_without_changes_says_so() {
    let report = diff(&base(), &old(), &new(), &DiffOptions::default());
    let sentence = "The specs show no change of operations or types from 1.0 to 2.0.";
    assert!(report.to_markdown().contains(sentence));
    assert!(report.to_html(&Links::default()).contains(sentence));
}
