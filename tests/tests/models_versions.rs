//! The versioning rules of the generated models, on real Docker types: what
//! `VersionedModel::absent_fields` reports and `downgrade` drops for a field or an enumeration
//! value newer than a version, and round trips of fields whose type changed between versions.
//!
//! Each case first checks, in the versioned IR, that the item really is versioned as the case
//! assumes (so a change of the specs or errata shows up here as such, not as a puzzling
//! failure of the models).

use drydock_ir::TypeShape;
use drydock_models::{
    ContainerCreateBody, ContainerInspectResponseState, ContainerInspectResponseStateStatus,
    HostConfig, Mount, MountType, RestartPolicy, SecretSpec,
};
use drydock_runtime::model::{ApiVersion, VersionedModel};
use drydock_tests::model_compare::{docker_ir, same_value};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

fn v(minor: u16) -> ApiVersion {
    ApiVersion::new(1, minor)
}

/// `json` read into the model `M`.
fn model<M: DeserializeOwned>(json: Value) -> M {
    serde_json::from_value(json.clone()).unwrap_or_else(|e| {
        panic!(
            "{json} does not read into {}: {e}",
            std::any::type_name::<M>()
        )
    })
}

/// `model` written as JSON.
fn to_json<M: Serialize>(model: &M) -> Value {
    serde_json::to_value(model).expect("models serialise")
}

/// The versions (`1.NN..=1.MM` ranges) in which the IR has field `field` of type `type_name`.
fn field_versions(type_name: &str, field: &str) -> String {
    let found = docker_ir()
        .field(type_name, field)
        .unwrap_or_else(|| panic!("the IR has no {type_name}.{field}"));
    found.versions.describe(&docker_ir().versions)
}

/// The versions in which the IR lists `value` for the enumeration `type_name`.
fn enum_value_versions(type_name: &str, value: &str) -> String {
    let def = docker_ir()
        .types
        .get(type_name)
        .unwrap_or_else(|| panic!("the IR has no type {type_name}"));
    def.shapes
        .iter()
        .find_map(|shape| match &shape.value {
            TypeShape::Enum(e) => e.values.iter().find(|v| v.value == json!(value)),
            _ => None,
        })
        .unwrap_or_else(|| panic!("the IR's {type_name} does not list {value:?}"))
        .versions
        .describe(&docker_ir().versions)
}

#[test]
fn host_config_init_is_reported_absent_at_1_24_and_present_at_1_25() {
    assert_eq!(field_versions("HostConfig", "Init"), "since 1.25");
    let body: ContainerCreateBody = model(json!({
        "Image": "busybox",
        "HostConfig": {"Init": true, "Memory": 0}
    }));
    assert_eq!(to_json(&body)["HostConfig"]["Init"], json!(true));
    assert_eq!(body.absent_in(v(24)), ["HostConfig.Init"]);
    assert_eq!(body.absent_in(v(23)), ["HostConfig.Init"]);
    assert!(body.absent_in(v(25)).is_empty());
    assert!(body.absent_in(v(33)).is_empty());
    let alone: HostConfig = model(json!({"Init": false}));
    assert_eq!(
        alone.absent_in(v(24)),
        ["Init"],
        "a set `false` is set, too"
    );
}

/// `body` with the config fields the daemon always writes (`null` when unset) that it
/// leaves unset.
fn with_config_nulls(mut body: serde_json::Value) -> serde_json::Value {
    for key in ["Env", "Cmd", "Entrypoint", "Volumes", "Labels", "OnBuild"] {
        body.as_object_mut()
            .expect("an object")
            .entry(key)
            .or_insert(serde_json::Value::Null);
    }
    body
}

#[test]
fn downgrading_host_config_to_1_24_drops_init_and_keeps_the_rest() {
    let sent = json!({"Image": "busybox", "HostConfig": {"Init": true, "Memory": 1024}});
    let mut old: ContainerCreateBody = model(sent.clone());
    old.downgrade(v(24));
    assert!(old.absent_in(v(24)).is_empty(), "nothing absent is left");
    let written = to_json(&old);
    assert!(
        same_value(
            &written,
            &with_config_nulls(json!({"Image": "busybox", "HostConfig": {"Memory": 1024}}))
        ),
        "downgraded to 1.24: {written}"
    );
    let mut current: ContainerCreateBody = model(sent.clone());
    current.downgrade(v(25));
    assert!(
        same_value(&to_json(&current), &with_config_nulls(sent)),
        "1.25 keeps Init"
    );
}

#[test]
fn config_slices_and_maps_are_written_as_null_when_unset_as_the_daemon_writes_them() {
    let body: ContainerCreateBody = model(json!({"Image": "busybox", "Cmd": ["true"]}));
    let written = to_json(&body);
    assert_eq!(written["Cmd"], json!(["true"]));
    for key in ["Env", "Entrypoint", "Volumes", "Labels", "OnBuild"] {
        assert_eq!(written.get(key), Some(&serde_json::Value::Null), "{key}");
    }
    assert_eq!(
        written.get("WorkingDir"),
        None,
        "other unset fields stay out"
    );
    let back: ContainerCreateBody = model(written);
    assert_eq!(back, body, "null reads back as unset");
}

#[test]
fn mount_type_npipe_is_reported_and_dropped_before_1_32() {
    assert_eq!(enum_value_versions("MountType", "npipe"), "since 1.32");
    let mount: Mount = model(json!({"Target": "\\\\.\\pipe\\docker", "Type": "npipe"}));
    assert_eq!(mount.r#type, Some(MountType::Npipe));
    assert_eq!(mount.absent_in(v(31)), ["Type=\"npipe\""]);
    assert!(mount.absent_in(v(32)).is_empty());
    assert!(!MountType::Npipe.exists_in(v(31)));
    assert!(MountType::Npipe.exists_in(v(32)));

    let mut old = mount.clone();
    old.downgrade(v(31));
    assert_eq!(
        old.r#type, None,
        "an optional field with a value 1.31 lacks is dropped"
    );
    let mut current = mount.clone();
    current.downgrade(v(32));
    assert_eq!(current, mount);
}

#[test]
fn nested_enum_values_are_reported_with_their_path() {
    // The daemon took "" (no restart policy) in every version; the
    // restart-policy erratum says so from 1.25 on, and 1.24/1.23 derive from it.
    assert_eq!(enum_value_versions("RestartPolicyName", ""), "since 1.23");
    assert_eq!(enum_value_versions("MountType", "npipe"), "since 1.32");
    assert_eq!(field_versions("HostConfig", "Mounts"), "since 1.25");
    let host: HostConfig = model(json!({
        "RestartPolicy": {"Name": "", "MaximumRetryCount": 0},
        "Mounts": [
            {"Target": "/a", "Type": "volume"},
            {"Target": "/b", "Type": "npipe"}
        ],
        "Init": true
    }));
    let mut absent = host.absent_in(v(24));
    absent.sort();
    assert_eq!(
        absent,
        ["Init", "Mounts"],
        "a field 1.24 lacks is reported whole, not what it holds"
    );
    let mut at_1_31 = host.absent_in(v(31));
    at_1_31.sort();
    assert_eq!(at_1_31, ["Mounts[1].Type=\"npipe\""]);
    assert!(host.absent_in(v(32)).is_empty());
}

#[test]
fn an_unlisted_enum_value_is_kept_and_never_reported() {
    let policy: RestartPolicy = model(json!({"Name": "sometimes"}));
    assert!(policy.absent_in(v(23)).is_empty());
    assert!(same_value(&to_json(&policy), &json!({"Name": "sometimes"})));
}

#[test]
fn container_state_status_round_trips_as_a_string_and_as_an_enum() {
    let status = docker_ir()
        .field("ContainerInspectResponseState", "Status")
        .expect("the IR has ContainerInspectResponseState.Status");
    let kinds: Vec<String> = status
        .shapes
        .iter()
        .map(|s| {
            format!(
                "{} {:?}",
                s.versions.describe(&docker_ir().versions),
                s.value.ty
            )
        })
        .collect();
    assert_eq!(
        status.shapes.len(),
        2,
        "a plain string, then an enum: {kinds:?}"
    );

    for version in [v(29), v(30)] {
        for (sent, listed) in [("paused", true), ("migrating", false)] {
            let wire = json!({"Status": sent, "Running": false});
            let state: ContainerInspectResponseState = model(wire.clone());
            let expected = if listed {
                ContainerInspectResponseStateStatus::Paused
            } else {
                ContainerInspectResponseStateStatus::Other(sent.to_owned())
            };
            assert_eq!(state.status.as_ref(), Some(&expected), "v{version} {sent}");
            assert!(state.absent_in(version).is_empty(), "v{version} {sent}");
            let mut downgraded = state.clone();
            downgraded.downgrade(version);
            assert!(
                same_value(&to_json(&downgraded), &wire),
                "v{version}: {sent} round-trips"
            );
        }
    }
}

#[test]
fn secret_data_round_trips_as_a_list_before_1_31_and_as_text_since() {
    let data = docker_ir()
        .field("SecretSpec", "Data")
        .expect("the IR has SecretSpec.Data");
    assert_eq!(data.shapes.len(), 2, "a list of strings, then a string");
    let list = json!({"Name": "s", "Data": ["aGVsbG8="]});
    let text = json!({"Name": "s", "Data": "aGVsbG8="});
    for (version, wire) in [(v(30), &list), (v(31), &text)] {
        let mut spec: SecretSpec = model(wire.clone());
        assert!(spec.absent_in(version).is_empty());
        spec.downgrade(version);
        assert!(same_value(&to_json(&spec), wire), "v{version}: {wire}");
    }
}
