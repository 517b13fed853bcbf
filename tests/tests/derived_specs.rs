//! The derived v1.24 and v1.23 specs (overlays on the real v1.25 spec) against
//! Docker's own v1.24 and v1.23 reference documentation.
//!
//! The documents come from the manifest pipeline (`specs/docker/manifest.yaml`):
//! v1.24 = `overlays/v1.24.yaml` on the upstream v1.25 spec (after errata),
//! v1.23 = `overlays/v1.23.yaml` on that v1.24. The upstream spec comes from
//! `DRYDOCK_SPECS_DIR` or `<workspace>/../shared/specs/docker`; a missing spec
//! fails the tests, it never skips them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::OnceLock;

use drydock_spec::manifest::{Manifest, SPECS_DIR_ENV, SpecSource, locate_mirror};
use drydock_spec::overlay::Overlay;
use drydock_tests::reference_doc::{
    self, DocumentedEndpoint, ExampleKind, ReferenceDoc, filter_names, path_template,
};
use drydock_tests::schema_check::SchemaChecker;
use drydock_tests::workspace_root;
use serde_json::Value;

/// What an entry of [`KNOWN_DISCREPANCIES`] excuses in one example.
enum Excused {
    /// The example body is not valid JSON as printed.
    MalformedJson,
    /// Violations at or below this JSON pointer of the example body.
    Below(&'static str),
}

/// An example the derived spec cannot honestly accept, with the reason.
struct Discrepancy {
    method: &'static str,
    /// Path template as [`path_template`] writes it.
    path: &'static str,
    kind: ExampleKind,
    excused: Excused,
    /// Why this is a fault of the upstream doc or of the upstream v1.25 schema
    /// (inherited by the derivation), not of the overlays.
    reason: &'static str,
}

use ExampleKind::{Request, Response};
use Excused::{Below, MalformedJson};

/// The one list of examples excused from validation. Every entry is either an error
/// in the upstream Markdown, or a defect of the upstream v1.25 schema that all
/// derived versions inherit and that belongs in a v1.25 erratum, not in a derivation.
const KNOWN_DISCREPANCIES: &[Discrepancy] = &[
    // Errors in the reference documents.
    Discrepancy {
        method: "GET",
        path: "/containers/{}/top",
        kind: Response,
        excused: MalformedJson,
        reason: "the ps_args example lacks a comma after the Titles array",
    },
    Discrepancy {
        method: "GET",
        path: "/containers/{}/json",
        kind: Response,
        excused: MalformedJson,
        reason: "the size example is a fragment framed by `....` lines",
    },
    Discrepancy {
        method: "GET",
        path: "/images/search",
        kind: Response,
        excused: MalformedJson,
        reason: "the example list ends in a trailing comma and an ellipsis",
    },
    Discrepancy {
        method: "POST",
        path: "/images/create",
        kind: Response,
        excused: MalformedJson,
        reason: "the progress stream is abbreviated with a bare `...` line",
    },
    Discrepancy {
        method: "POST",
        path: "/images/{}/push",
        kind: Response,
        excused: MalformedJson,
        reason: "the progress stream is abbreviated with a bare `...` line",
    },
    Discrepancy {
        method: "POST",
        path: "/images/load",
        kind: Response,
        excused: MalformedJson,
        reason: "the progress stream is abbreviated with a bare `...` line",
    },
    Discrepancy {
        method: "GET",
        path: "/nodes",
        kind: Response,
        excused: MalformedJson,
        reason: "the example lacks commas between members",
    },
    Discrepancy {
        method: "GET",
        path: "/nodes/{}",
        kind: Response,
        excused: MalformedJson,
        reason: "the example lacks commas between members",
    },
    Discrepancy {
        method: "GET",
        path: "/tasks",
        kind: Response,
        excused: MalformedJson,
        reason: "the example list has a trailing comma",
    },
    Discrepancy {
        method: "POST",
        path: "/containers/create",
        kind: Request,
        excused: Below("/Healthcheck/StartPeriod"),
        reason: "StartPeriod arrived with API v1.29; the v1.24 page was edited after the fact",
    },
    Discrepancy {
        method: "POST",
        path: "/commit",
        kind: Request,
        excused: Below("/Mounts"),
        reason: "the body is a container Config, which has no Mounts; the example pasted an inspect result",
    },
    Discrepancy {
        method: "POST",
        path: "/swarm/update",
        kind: Request,
        excused: Below("/JoinTokens"),
        reason: "the body is a SwarmSpec; JoinTokens belongs to the inspect result the example was pasted from",
    },
    Discrepancy {
        method: "GET",
        path: "/images/{}/json",
        kind: Response,
        excused: Below("/Config/PublishService"),
        reason: "PublishService was a field of experimental 1.9 builds, never part of the stable config",
    },
    Discrepancy {
        method: "GET",
        path: "/images/{}/json",
        kind: Response,
        excused: Below("/ContainerConfig/PublishService"),
        reason: "PublishService was a field of experimental 1.9 builds, never part of the stable config",
    },
];

/// The folder of upstream `v1.NN.yaml` files, as the manifest pipeline finds it
/// (`DRYDOCK_SPECS_DIR`, else `<workspace>/../shared/specs/docker`). The test fails
/// when it is missing: it never falls back to downloading, and never skips.
fn specs_dir() -> PathBuf {
    let mirror = locate_mirror(None, &workspace_root());
    let base = mirror.as_ref().map(|dir| dir.join("v1.25.yaml"));
    match (mirror, base) {
        (Some(dir), Some(base)) if base.is_file() => dir,
        (dir, _) => panic!(
            "the upstream v1.25 spec is missing (spec mirror: {dir:?}): set {SPECS_DIR_ENV} to \
             the folder holding v1.NN.yaml, or put the mirror at <workspace>/../shared/specs/docker"
        ),
    }
}

/// The folder of the upstream reference docs (`reference/` beside the spec mirror).
fn reference_dir() -> PathBuf {
    specs_dir().join("..").join("reference")
}

/// v1.24 and v1.23 as the manifest pipeline builds them, built once per test binary.
fn derived() -> &'static BTreeMap<String, Value> {
    static DERIVED: OnceLock<BTreeMap<String, Value>> = OnceLock::new();
    DERIVED.get_or_init(|| {
        let root = workspace_root();
        let manifest_dir = root.join("specs").join("docker");
        let manifest =
            Manifest::load(&manifest_dir.join("manifest.yaml")).unwrap_or_else(|e| panic!("{e}"));
        let source = SpecSource::new(Some(&specs_dir()), &root);
        let documents = manifest
            .documents(&manifest_dir, &source)
            .unwrap_or_else(|e| panic!("{e}"));
        let out: BTreeMap<String, Value> = documents
            .into_iter()
            .map(|document| (document.version.to_string(), document.value))
            .filter(|(version, _)| version == "1.24" || version == "1.23")
            .collect();
        assert_eq!(
            out.len(),
            2,
            "the manifest must list the derived versions 1.24 and 1.23"
        );
        out
    })
}

/// The reference doc of one version.
fn reference(version: &str) -> ReferenceDoc {
    let file = reference_dir().join(format!("v{version}.md"));
    let text = std::fs::read_to_string(&file)
        .unwrap_or_else(|e| panic!("the reference doc is missing at {}: {e}", file.display()));
    reference_doc::parse(&text)
}

/// Endpoints of the stable API: sections marked experimental (v1.24's plugins) are
/// left out, as the change list introduces those endpoints in v1.25.
fn stable_endpoints(doc: &ReferenceDoc) -> Vec<&DocumentedEndpoint> {
    doc.endpoints
        .iter()
        .filter(|e| !e.is_experimental())
        .collect()
}

/// `(METHOD, template)` → query parameter names, for every operation of a spec.
fn spec_operations(spec: &Value) -> BTreeMap<(String, String), BTreeSet<String>> {
    let mut out = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            if method == "parameters" || method.starts_with("x-") {
                continue;
            }
            let params = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["in"] == "query")
                .filter_map(|p| p["name"].as_str().map(str::to_string))
                .collect();
            out.insert((method.to_ascii_uppercase(), path_template(path)), params);
        }
    }
    out
}

/// Query parameters the docs describe only by reference to another section.
const DOCUMENTED_BY_REFERENCE: &[(&str, &str, &str, &str)] = &[(
    "HEAD",
    "/containers/{}/archive",
    "path",
    "the HEAD section points at the GET section below it, which documents path",
)];

fn check_documented_endpoints(version: &str) {
    let spec = &derived()[version];
    let ops = spec_operations(spec);
    let doc = reference(version);
    let documented = stable_endpoints(&doc);
    assert!(
        documented.len() > 50,
        "v{version}: only {} endpoints parsed; is the doc parser broken?",
        documented.len()
    );
    let missing: Vec<String> = documented
        .iter()
        .filter(|e| !ops.contains_key(&(e.method.clone(), e.template.clone())))
        .map(|e| format!("{} (line {})", e.label(), e.line))
        .collect();
    assert!(
        missing.is_empty(),
        "v{version} lacks documented endpoints:\n{}",
        missing.join("\n")
    );
}

fn check_documented_query_params(version: &str) {
    let ops = spec_operations(&derived()[version]);
    let mut missing = Vec::new();
    for e in stable_endpoints(&reference(version)) {
        let Some(params) = ops.get(&(e.method.clone(), e.template.clone())) else {
            continue;
        };
        for name in e.query_params.difference(params) {
            missing.push(format!("{} ?{name} (line {})", e.label(), e.line));
        }
    }
    assert!(
        missing.is_empty(),
        "v{version} lacks documented query parameters:\n{}",
        missing.join("\n")
    );
}

fn check_nothing_undocumented(version: &str) {
    let ops = spec_operations(&derived()[version]);
    let doc = reference(version);
    let documented: BTreeMap<(String, String), &BTreeSet<String>> = stable_endpoints(&doc)
        .into_iter()
        .map(|e| ((e.method.clone(), e.template.clone()), &e.query_params))
        .collect();
    let mut extra = Vec::new();
    for ((method, path), params) in &ops {
        let Some(doc_params) = documented.get(&(method.clone(), path.clone())) else {
            extra.push(format!("{method} {path}"));
            continue;
        };
        for name in params.difference(doc_params) {
            let by_reference = DOCUMENTED_BY_REFERENCE
                .iter()
                .any(|(m, p, n, _)| m == method && p == path && n == name);
            if !by_reference {
                extra.push(format!("{method} {path} ?{name}"));
            }
        }
    }
    assert!(
        extra.is_empty(),
        "v{version} has what its doc lacks:\n{}",
        extra.join("\n")
    );
}

/// Compares the filter names each documented `filters` parameter lists with those
/// the derived spec's description of it lists.
fn check_filters(version: &str) {
    let spec = &derived()[version];
    let mut described = BTreeMap::new();
    for (path, item) in spec["paths"].as_object().into_iter().flatten() {
        for (method, op) in item.as_object().into_iter().flatten() {
            let filters = op["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|p| p["in"] == "query" && p["name"] == "filters");
            if let Some(filters) = filters {
                let text = filters["description"].as_str().unwrap_or_default();
                described.insert(
                    (method.to_ascii_uppercase(), path_template(path)),
                    filter_names(text),
                );
            }
        }
    }
    let mut differences = Vec::new();
    for e in stable_endpoints(&reference(version)) {
        let (Some(documented), Some(spec_names)) = (
            &e.filters,
            described.get(&(e.method.clone(), e.template.clone())),
        ) else {
            continue;
        };
        if documented != spec_names {
            differences.push(format!(
                "{} (line {}): only documented {:?}, only in the spec {:?}",
                e.label(),
                e.line,
                documented.difference(spec_names).collect::<Vec<_>>(),
                spec_names.difference(documented).collect::<Vec<_>>()
            ));
        }
    }
    assert!(
        differences.is_empty(),
        "v{version} filters differ from the doc:\n{}",
        differences.join("\n")
    );
}

/// The schema an example must match, or `None` when the spec declares no JSON body.
fn example_schema(op: &Value, kind: ExampleKind, status: u16) -> Option<&Value> {
    match kind {
        ExampleKind::Request => op["parameters"]
            .as_array()?
            .iter()
            .find(|p| p["in"] == "body")
            .map(|p| &p["schema"]),
        ExampleKind::Response => op["responses"].get(status.to_string())?.get("schema"),
    }
}

/// Failures of the documented JSON examples of one version against its derived
/// spec, the number of values checked, and the indices of the
/// [`KNOWN_DISCREPANCIES`] that excused something.
fn example_failures(version: &str) -> (Vec<String>, usize, BTreeSet<usize>) {
    let spec = &derived()[version];
    let checker = SchemaChecker::new(spec);
    let paths: BTreeMap<String, &Value> = spec["paths"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(p, item)| (path_template(p), item))
        .collect();
    let doc = reference(version);
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut used = BTreeSet::new();
    for e in stable_endpoints(&doc) {
        for example in e.examples.iter().filter(|x| x.looks_like_json()) {
            let excuses: Vec<(usize, &Excused)> = KNOWN_DISCREPANCIES
                .iter()
                .enumerate()
                .filter(|(_, d)| {
                    d.method == e.method && d.path == e.template && d.kind == example.kind
                })
                .map(|(i, d)| (i, &d.excused))
                .collect();
            let where_ = format!(
                "{} {:?} example at line {}",
                e.label(),
                example.kind,
                example.line
            );
            let values = match example.json_values() {
                Ok(values) => values,
                Err(err) => {
                    match excuses.iter().find(|(_, x)| matches!(x, MalformedJson)) {
                        Some((i, _)) => {
                            used.insert(*i);
                        }
                        None => failures.push(format!("{where_}: not JSON: {err}")),
                    }
                    continue;
                }
            };
            let Some(op) = paths
                .get(&e.template)
                .and_then(|item| item.get(e.method.to_ascii_lowercase()))
            else {
                failures.push(format!("{where_}: no such operation in the spec"));
                continue;
            };
            let Some(schema) = example_schema(op, example.kind, example.status) else {
                if example.kind == ExampleKind::Request {
                    failures.push(format!("{where_}: the spec declares no request body"));
                }
                continue;
            };
            for value in &values {
                checked += 1;
                for violation in checker.check(schema, value) {
                    let excuse = excuses
                        .iter()
                        .find(|(_, x)| matches!(x, Below(prefix) if violation.pointer.starts_with(prefix)));
                    match excuse {
                        Some((i, _)) => {
                            used.insert(*i);
                        }
                        None => failures.push(format!("{where_}: {violation}")),
                    }
                }
            }
        }
    }
    (failures, checked, used)
}

fn check_examples(version: &str) {
    let (failures, checked, _) = example_failures(version);
    assert!(
        checked > 20,
        "v{version}: only {checked} JSON examples were checked; is the doc parser broken?"
    );
    assert!(
        failures.is_empty(),
        "v{version} examples the derived spec rejects:\n{}",
        failures.join("\n")
    );
}

fn host_config_properties(spec: &Value) -> &serde_json::Map<String, Value> {
    spec["definitions"]["HostConfig"]["allOf"][1]["properties"]
        .as_object()
        .expect("HostConfig is allOf[Resources, {properties}]")
}

fn has_query_param(spec: &Value, path: &str, method: &str, name: &str) -> bool {
    spec["paths"][path][method]["parameters"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|p| p["in"] == "query" && p["name"] == name)
}

#[test]
fn derived_v1_24_has_every_documented_endpoint() {
    check_documented_endpoints("1.24");
}

#[test]
fn derived_v1_23_has_every_documented_endpoint() {
    check_documented_endpoints("1.23");
}

#[test]
fn derived_v1_24_has_every_documented_query_parameter() {
    check_documented_query_params("1.24");
}

#[test]
fn derived_v1_23_has_every_documented_query_parameter() {
    check_documented_query_params("1.23");
}

#[test]
fn derived_v1_24_has_no_undocumented_endpoint_or_query_parameter() {
    check_nothing_undocumented("1.24");
}

#[test]
fn derived_v1_23_has_no_undocumented_endpoint_or_query_parameter() {
    check_nothing_undocumented("1.23");
}

#[test]
fn derived_v1_24_accepts_every_documented_json_example() {
    check_examples("1.24");
}

#[test]
fn derived_v1_23_accepts_every_documented_json_example() {
    check_examples("1.23");
}

#[test]
fn derived_v1_24_describes_the_documented_filters() {
    check_filters("1.24");
}

#[test]
fn derived_v1_23_describes_the_documented_filters() {
    check_filters("1.23");
}

#[test]
fn every_known_discrepancy_still_excuses_something() {
    let used: BTreeSet<usize> = ["1.24", "1.23"]
        .into_iter()
        .flat_map(|version| example_failures(version).2)
        .collect();
    let stale: Vec<String> = KNOWN_DISCREPANCIES
        .iter()
        .enumerate()
        .filter(|(i, _)| !used.contains(i))
        .map(|(_, d)| format!("{} {} {:?}: {}", d.method, d.path, d.kind, d.reason))
        .collect();
    assert!(
        stale.is_empty(),
        "entries that excuse nothing any more (delete them):\n{}",
        stale.join("\n")
    );
}

#[test]
fn only_the_plugin_section_is_left_out_as_experimental() {
    let v124 = reference("1.24");
    let experimental: Vec<String> = v124
        .endpoints
        .iter()
        .filter(|e| e.is_experimental())
        .map(DocumentedEndpoint::label)
        .collect();
    assert!(
        !experimental.is_empty(),
        "v1.24.md documents plugins as experimental"
    );
    assert!(
        experimental.iter().all(|label| label.contains("/plugins")),
        "left out as experimental: {experimental:?}"
    );
    assert!(
        reference("1.23")
            .endpoints
            .iter()
            .all(|e| !e.is_experimental())
    );
}

#[test]
fn every_overlay_action_states_its_evidence() {
    for version in ["1.24", "1.23"] {
        let file = workspace_root().join(format!("specs/docker/overlays/v{version}.yaml"));
        let text =
            std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let overlay =
            Overlay::parse(&file.display().to_string(), &text).unwrap_or_else(|e| panic!("{e}"));
        let silent: Vec<&str> = overlay
            .actions
            .iter()
            .filter(|a| a.description.as_deref().is_none_or(|d| d.trim().is_empty()))
            .map(|a| a.target.as_str())
            .collect();
        assert!(
            silent.is_empty(),
            "v{version} actions without evidence: {silent:?}"
        );
    }
}

#[test]
fn derived_versions_carry_their_version_and_base_path() {
    for version in ["1.24", "1.23"] {
        let spec = &derived()[version];
        assert_eq!(spec["info"]["version"], version);
        assert_eq!(spec["basePath"], format!("/v{version}"));
    }
}

#[test]
fn storage_opt_and_search_filters_exist_in_v1_24_but_not_v1_23() {
    let v124 = &derived()["1.24"];
    let v123 = &derived()["1.23"];
    assert!(host_config_properties(v124).contains_key("StorageOpt"));
    assert!(!host_config_properties(v123).contains_key("StorageOpt"));
    assert!(has_query_param(v124, "/images/search", "get", "filters"));
    assert!(!has_query_param(v123, "/images/search", "get", "filters"));
}

#[test]
fn neither_derived_version_has_auto_remove_init_plugins_or_secrets() {
    for version in ["1.24", "1.23"] {
        let spec = &derived()[version];
        let host = host_config_properties(spec);
        assert!(
            !host.contains_key("AutoRemove"),
            "v{version} has HostConfig.AutoRemove"
        );
        assert!(!host.contains_key("Init"), "v{version} has HostConfig.Init");
        let paths = spec["paths"].as_object().expect("paths");
        let newer: Vec<&String> = paths
            .keys()
            .filter(|p| p.starts_with("/plugins") || p.starts_with("/secrets"))
            .collect();
        assert!(newer.is_empty(), "v{version} has {newer:?}");
    }
}
