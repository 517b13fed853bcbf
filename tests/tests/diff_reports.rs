//! The spec-diff reports of the real Docker API (v1.23..v1.33) say what Docker's
//! own changelog says.
//!
//! Each spec-visible bullet of the v1.25 section of
//! `specs/reference/changes-v1.23-v1.25.md` is listed with what the 1.24 → 1.25
//! report must contain for it. Bullets the Swagger documents cannot show are left
//! out: behaviour without a schema change (validation, error messages, the
//! version prefix, unversioned Dockerfile checks), filter values inside
//! JSON-encoded `filters` parameters, headers no v1.25 operation documents, and
//! fields the v1.25 document itself lacks (`OsVersion`, `Isolation` in `/info`,
//! `Addr`, peers, the `removing` state, log-opts). `HostConfig.Init` is
//! missing upstream too, but drydock's erratum restores it from 1.25 on.

use std::sync::OnceLock;

use drydock_diff::{Change, ChangeKind, DiffOptions, Report, diff};
use drydock_ir::{Api, ApiVersion};
use drydock_tests::workspace_root;

fn docker_api() -> &'static Api {
    static API: OnceLock<Api> = OnceLock::new();
    API.get_or_init(|| {
        drydock_spec::docker_api(None, &workspace_root())
            .unwrap_or_else(|e| panic!("loading the Docker API specs: {e}"))
            .api
    })
}

fn report(from: &str, to: &str) -> Report {
    diff(
        docker_api(),
        &ApiVersion::new(from),
        &ApiVersion::new(to),
        &DiffOptions::default(),
    )
}

/// What the report must contain for one changelog bullet.
#[derive(Debug)]
enum Expect {
    /// An operation added at method and path.
    OperationAdded(&'static str, &'static str),
    /// A parameter (`query force`) added to the operation at method and path.
    ParameterAdded(&'static str, &'static str, &'static str),
    /// A field of this name added to a type that the operation at method and path reaches.
    FieldAdded(&'static str, &'static str, &'static str),
    /// A field of this name removed from a type that the operation reaches.
    FieldRemoved(&'static str, &'static str, &'static str),
}

fn reaches(change: &Change, method: &str, path: &str) -> bool {
    change
        .affected_operations
        .iter()
        .any(|op| op.method == method && op.path == path)
}

fn at_operation(change: &Change, method: &str, path: &str) -> bool {
    change
        .location
        .operation
        .as_ref()
        .is_some_and(|op| op.method == method && op.path == path)
}

impl Expect {
    fn holds_in(&self, report: &Report) -> bool {
        use ChangeKind::*;
        report.changes.iter().any(|c| match *self {
            Expect::OperationAdded(method, path) => {
                c.kind == OperationAdded && at_operation(c, method, path)
            }
            Expect::ParameterAdded(method, path, param) => {
                matches!(c.kind, OptionalParameterAdded | RequiredParameterAdded)
                    && at_operation(c, method, path)
                    && c.location.parameter.as_deref() == Some(param)
            }
            Expect::FieldAdded(method, path, field) => {
                matches!(c.kind, OptionalFieldAdded | RequiredFieldAdded)
                    && c.location.field.as_deref() == Some(field)
                    && reaches(c, method, path)
            }
            Expect::FieldRemoved(method, path, field) => {
                c.kind == FieldRemoved
                    && c.location.field.as_deref() == Some(field)
                    && reaches(c, method, path)
            }
        })
    }
}

/// The spec-visible bullets of "v1.25 API changes", in the changelog's order.
fn v1_25_bullets() -> Vec<(&'static str, Vec<Expect>)> {
    use Expect::*;
    vec![
        (
            "`GET /version` now returns `MinAPIVersion`.",
            vec![FieldAdded("GET", "/version", "MinAPIVersion")],
        ),
        (
            "`POST /build` accepts `networkmode` parameter",
            vec![ParameterAdded("POST", "/build", "query networkmode")],
        ),
        (
            "`GET /images/(name)/json` no longer contains the `RootFS.BaseLayer` field.",
            vec![FieldRemoved("GET", "/images/{name}/json", "BaseLayer")],
        ),
        (
            "`POST /containers/create` now takes `AutoRemove` in HostConfig",
            vec![FieldAdded("POST", "/containers/create", "AutoRemove")],
        ),
        (
            "`DELETE /volumes/(name)` now accepts a `force` query parameter",
            vec![ParameterAdded("DELETE", "/volumes/{name}", "query force")],
        ),
        (
            "`POST /containers/create` now takes a `Mounts` field in `HostConfig`",
            vec![FieldAdded("POST", "/containers/create", "Mounts")],
        ),
        (
            "`POST /build` accepts `cachefrom` parameter",
            vec![ParameterAdded("POST", "/build", "query cachefrom")],
        ),
        (
            "`POST /containers/create` now takes `StopTimeout` field.",
            vec![FieldAdded("POST", "/containers/create", "StopTimeout")],
        ),
        (
            "`POST /services/create` and `POST /services/(id or name)/update` now accept `Monitor` and `MaxFailureRatio`",
            vec![
                FieldAdded("POST", "/services/create", "Monitor"),
                FieldAdded("POST", "/services/{id}/update", "Monitor"),
                FieldAdded("POST", "/services/create", "MaxFailureRatio"),
                FieldAdded("POST", "/services/{id}/update", "MaxFailureRatio"),
            ],
        ),
        (
            "`POST /services/(id or name)/update` now accepts a `ForceUpdate` parameter inside the `TaskTemplate`",
            vec![FieldAdded("POST", "/services/{id}/update", "ForceUpdate")],
        ),
        (
            "`POST /services/create` ... now return a `Warnings` array.",
            vec![FieldAdded("POST", "/services/create", "Warning")],
        ),
        (
            "`GET /networks/(name)` now returns field `Created`",
            vec![FieldAdded("GET", "/networks/{id}", "Created")],
        ),
        (
            "`POST /containers/(id or name)/exec` now accepts an `Env` field",
            vec![FieldAdded("POST", "/containers/{id}/exec", "Env")],
        ),
        (
            "`GET /volumes`, `GET /volumes/(name)`, and `POST /volumes/create` now return the `Options` field",
            vec![
                FieldAdded("GET", "/volumes", "Options"),
                FieldAdded("GET", "/volumes/{name}", "Options"),
                FieldAdded("POST", "/volumes/create", "Options"),
            ],
        ),
        (
            "`GET /exec/(id)/json` now returns `Pid`",
            vec![FieldAdded("GET", "/exec/{id}/json", "Pid")],
        ),
        (
            "`POST /containers/prune` prunes stopped containers.",
            vec![OperationAdded("POST", "/containers/prune")],
        ),
        (
            "`POST /images/prune` prunes unused images.",
            vec![OperationAdded("POST", "/images/prune")],
        ),
        (
            "`POST /volumes/prune` prunes unused volumes.",
            vec![OperationAdded("POST", "/volumes/prune")],
        ),
        (
            "`POST /networks/prune` prunes unused networks.",
            vec![OperationAdded("POST", "/networks/prune")],
        ),
        (
            "The `hostConfig` option now accepts the fields `CpuRealtimePeriod` and `CpuRtRuntime`",
            vec![
                FieldAdded("POST", "/containers/create", "CpuRealtimePeriod"),
                FieldAdded("POST", "/containers/create", "CpuRealtimeRuntime"),
            ],
        ),
        (
            "The `HostConfig` field now includes `NanoCpus`",
            vec![FieldAdded("POST", "/containers/create", "NanoCpus")],
        ),
        (
            "The `HostConfig` field now includes `CpuCount`",
            vec![FieldAdded("POST", "/containers/create", "CpuCount")],
        ),
        (
            "`POST /services/create` and `POST /services/(id or name)/update` now accept the `TTY` parameter",
            vec![
                FieldAdded("POST", "/services/create", "TTY"),
                FieldAdded("POST", "/services/{id}/update", "TTY"),
            ],
        ),
        (
            "`POST /services/create` and `POST /services/(id or name)/update` now accept the `DNSConfig` parameter",
            vec![
                FieldAdded("POST", "/services/create", "DNSConfig"),
                FieldAdded("POST", "/services/{id}/update", "DNSConfig"),
            ],
        ),
        (
            "`GET /plugins` list plugins.",
            vec![OperationAdded("GET", "/plugins")],
        ),
        (
            "`POST /plugins/pull?name=<plugin name>` pulls a plugin.",
            vec![OperationAdded("POST", "/plugins/pull")],
        ),
        (
            "`GET /plugins/(plugin name)` inspect a plugin.",
            vec![OperationAdded("GET", "/plugins/{name}/json")],
        ),
        (
            "`POST /plugins/(plugin name)/set` configure a plugin.",
            vec![OperationAdded("POST", "/plugins/{name}/set")],
        ),
        (
            "`POST /plugins/(plugin name)/enable` enable a plugin.",
            vec![OperationAdded("POST", "/plugins/{name}/enable")],
        ),
        (
            "`POST /plugins/(plugin name)/disable` disable a plugin.",
            vec![OperationAdded("POST", "/plugins/{name}/disable")],
        ),
        (
            "`POST /plugins/(plugin name)/push` push a plugin.",
            vec![OperationAdded("POST", "/plugins/{name}/push")],
        ),
        (
            "`POST /plugins/create?name=(plugin name)` create a plugin.",
            vec![OperationAdded("POST", "/plugins/create")],
        ),
        (
            "`DELETE /plugins/(plugin name)` delete a plugin.",
            vec![OperationAdded("DELETE", "/plugins/{name}")],
        ),
        (
            "`POST /containers/create` now takes `HostConfig.Init` field",
            vec![FieldAdded("POST", "/containers/create", "Init")],
        ),
        (
            "`GET /secrets` returns information on the secrets.",
            vec![OperationAdded("GET", "/secrets")],
        ),
        (
            "`POST /secrets/create` creates a secret.",
            vec![OperationAdded("POST", "/secrets/create")],
        ),
        (
            "`DELETE /secrets/{id}` removes the secret `id`.",
            vec![OperationAdded("DELETE", "/secrets/{id}")],
        ),
        (
            "`GET /secrets/{id}` returns information on the secret `id`.",
            vec![OperationAdded("GET", "/secrets/{id}")],
        ),
    ]
}

#[test]
fn v1_24_to_v1_25_report_has_every_spec_visible_changelog_bullet() {
    let report = report("1.24", "1.25");
    let missing: Vec<String> = v1_25_bullets()
        .into_iter()
        .flat_map(|(bullet, expects)| {
            expects
                .into_iter()
                .filter(|e| !e.holds_in(&report))
                .map(move |e| format!("{bullet}: {e:?}"))
        })
        .collect();
    assert!(
        missing.is_empty(),
        "the 1.24 → 1.25 report misses:\n{}",
        missing.join("\n")
    );
}

#[test]
fn v1_23_to_v1_33_report_has_host_config_init_and_distribution_inspect() {
    let report = report("1.23", "1.33");
    let init = report.changes.iter().find(|c| {
        c.kind == ChangeKind::OptionalFieldAdded
            && c.location.type_name.as_deref() == Some("HostConfig")
            && c.location.field.as_deref() == Some("Init")
    });
    let init = init.expect("HostConfig.Init added between 1.23 and 1.33");
    assert!(reaches(init, "POST", "/containers/create"));
    assert!(Expect::OperationAdded("GET", "/distribution/{name}/json").holds_in(&report));
}

#[test]
fn distribution_inspect_appears_in_the_1_29_to_1_30_report() {
    let added = Expect::OperationAdded("GET", "/distribution/{name}/json");
    assert!(added.holds_in(&report("1.29", "1.30")));
    assert!(!added.holds_in(&report("1.28", "1.29")));
}

#[test]
fn a_named_type_change_is_reported_once_per_pair() {
    let report = report("1.24", "1.25");
    let auto_remove: Vec<&Change> = report
        .changes
        .iter()
        .filter(|c| c.location.field.as_deref() == Some("AutoRemove"))
        .collect();
    assert_eq!(auto_remove.len(), 1, "{auto_remove:#?}");
    assert!(reaches(auto_remove[0], "POST", "/containers/create"));
    assert!(reaches(auto_remove[0], "GET", "/containers/{id}/json"));
}

#[test]
fn committed_report_set_covers_every_consecutive_pair_and_first_to_last() {
    let files = drydock_diff::reports(docker_api());
    let versions = &docker_api().versions;
    assert_eq!(versions.len(), 11);
    for pair in versions.windows(2) {
        for ext in ["json", "md", "html"] {
            let name = format!("v{}-v{}.{ext}", pair[0], pair[1]);
            assert!(files.contains_key(std::path::Path::new(&name)), "{name}");
        }
    }
    assert!(files.contains_key(std::path::Path::new("v1.23-v1.33.md")));
    assert!(files.contains_key(std::path::Path::new("index.html")));
}

/// Loads a report page in headless Chromium with `fragment` as the address's
/// fragment (which presets the filters) and returns the DOM after its script ran.
fn dom_after_script(page: &str, fragment: &str) -> String {
    let dir = std::env::temp_dir().join(format!("drydock-diff-reports-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temporary folder");
    let path = dir.join(format!("page-{}.html", fragment.replace(['=', '&'], "-")));
    std::fs::write(&path, page).expect("writing the page");
    let url = format!("file://{}#{fragment}", path.display());
    let output = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--enable-logging=stderr",
            "--v=0",
            "--dump-dom",
            &url,
        ])
        .output()
        .unwrap_or_else(|e| panic!("running chromium (cargo xtask test installs it): {e}"));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "chromium failed:\n{stderr}");
    let console_errors: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") && (l.contains("Uncaught") || l.contains("Error")))
        .collect();
    assert!(
        console_errors.is_empty(),
        "console errors: {console_errors:#?}"
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// The opening tags of the change rows the script left visible.
fn visible_rows(dom: &str) -> Vec<&str> {
    dom.split(r#"<tr class="change""#)
        .skip(1)
        .filter_map(|rest| rest.split('>').next())
        .filter(|attributes| !attributes.contains("hidden"))
        .collect()
}

#[test]
fn html_report_shows_every_change_until_filtered() {
    let report = report("1.24", "1.25");
    let dom = dom_after_script(&report.to_html(&drydock_diff::Links::default()), "");
    assert_eq!(visible_rows(&dom).len(), report.changes.len());
    let shown = format!(r#"<strong id="shown">{}</strong>"#, report.changes.len());
    assert!(dom.contains(&shown), "{shown} not in the page");
}

#[test]
fn html_report_filters_by_impact_and_area_in_a_browser() {
    let report = report("1.24", "1.25");
    let page = report.to_html(&drydock_diff::Links::default());

    let clients = dom_after_script(&page, "impact=clients");
    let rows = visible_rows(&clients);
    assert_eq!(rows.len(), report.summary.breaking_clients);
    assert!(rows.iter().all(|r| r.contains(r#"data-clients="true""#)));
    let shown = format!(r#"<strong id="shown">{}</strong>"#, rows.len());
    assert!(clients.contains(&shown), "{shown} not in the page");

    // Exec's new response field `Pid` breaks nothing.
    let exec = dom_after_script(&page, "area=Exec&impact=non-breaking");
    let rows = visible_rows(&exec);
    let expected = report
        .changes
        .iter()
        .filter(|c| c.area == "Exec" && !c.is_breaking())
        .count();
    assert!(
        expected > 0,
        "the 1.24 → 1.25 report has no non-breaking Exec change"
    );
    assert_eq!(rows.len(), expected);
    assert!(rows.iter().all(|r| r.contains(r#"data-area="Exec""#)));
    // Sections left without a visible row are hidden too.
    assert!(exec.contains(r#"<section class="area" id="container" hidden="""#));
}

#[test]
fn removed_root_fs_base_layer_is_located_by_its_path_in_image_inspect() {
    let report = report("1.24", "1.25");
    let base_layer = report
        .changes
        .iter()
        .find(|c| {
            c.kind == ChangeKind::FieldRemoved && c.location.field.as_deref() == Some("BaseLayer")
        })
        .expect("RootFS.BaseLayer removed in 1.25");
    assert_eq!(
        (
            base_layer.affected_operations[0].to_string().as_str(),
            base_layer.location.path.as_deref()
        ),
        (
            "GET /images/{name}/json",
            Some("response 200: RootFS.BaseLayer")
        )
    );
}
