//! The image config JSON (the document whose sha256 is an image's id), read leniently and
//! written byte for byte as Docker's Go code writes it, so that ids computed here match dockerd's.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::digest::Digest;
use crate::timestamp::Timestamp;

/// A container's configuration as images carry it (Go's `container.Config`), with its fields in
/// Go's order and Go's `omitempty` choices, so that it serialises to the same bytes.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerConfig {
    /// The container's host name.
    #[serde(default)]
    pub hostname: String,
    /// The container's domain name.
    #[serde(default)]
    pub domainname: String,
    /// The user (`name`, `uid`, `uid:gid`, `name:group`) the process runs as.
    #[serde(default)]
    pub user: String,
    /// Whether stdin is attached.
    #[serde(default)]
    pub attach_stdin: bool,
    /// Whether stdout is attached.
    #[serde(default)]
    pub attach_stdout: bool,
    /// Whether stderr is attached.
    #[serde(default)]
    pub attach_stderr: bool,
    /// The exposed ports (`80/tcp` → `{}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exposed_ports: Option<BTreeMap<String, Value>>,
    /// Whether the process gets a terminal.
    #[serde(default)]
    pub tty: bool,
    /// Whether stdin stays open.
    #[serde(default)]
    pub open_stdin: bool,
    /// Whether stdin closes after the first attach ends.
    #[serde(default)]
    pub stdin_once: bool,
    /// `NAME=value` environment entries.
    #[serde(default)]
    pub env: Option<Vec<String>>,
    /// The command (after the entrypoint).
    #[serde(default)]
    pub cmd: Option<Vec<String>>,
    /// The health check, kept as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub healthcheck: Option<Value>,
    /// Whether the command is already escaped (Windows only).
    #[serde(default, skip_serializing_if = "is_false")]
    pub args_escaped: bool,
    /// The image the container was created from.
    #[serde(default)]
    pub image: String,
    /// The volumes (`/data` → `{}`).
    #[serde(default)]
    pub volumes: Option<BTreeMap<String, Value>>,
    /// The working directory.
    #[serde(default)]
    pub working_dir: String,
    /// The entrypoint.
    #[serde(default)]
    pub entrypoint: Option<Vec<String>>,
    /// Whether networking is disabled.
    #[serde(default, skip_serializing_if = "is_false")]
    pub network_disabled: bool,
    /// The MAC address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub mac_address: String,
    /// `ONBUILD` triggers.
    #[serde(default)]
    pub on_build: Option<Vec<String>>,
    /// Labels.
    #[serde(default)]
    pub labels: Option<BTreeMap<String, String>>,
    /// The signal that stops the container.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
    /// Seconds to wait after the stop signal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_timeout: Option<i64>,
    /// The shell of `RUN` (Windows and builders).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shell: Option<Vec<String>>,
}

fn is_false(value: &bool) -> bool {
    !value
}

/// One entry of an image's history.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct History {
    /// When the step ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<Timestamp>,
    /// Who made it.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// The command of the step.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// A comment.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// Whether the step made no layer.
    #[serde(default, skip_serializing_if = "is_false")]
    pub empty_layer: bool,
}

/// The layers of an image, by diff id (sha256 of each uncompressed layer tar).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RootFs {
    /// Always `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The layers' diff ids, bottom first.
    #[serde(default)]
    pub diff_ids: Vec<Digest>,
}

/// The parts of an image config that the engine reads. The config's own bytes stay what they
/// were (they are the image's identity); this is a view of them.
#[derive(Clone, Debug, Deserialize)]
pub struct ImageConfig {
    /// The CPU architecture.
    #[serde(default)]
    pub architecture: String,
    /// The operating system.
    #[serde(default)]
    pub os: String,
    /// The default container config.
    #[serde(default)]
    pub config: Option<ContainerConfig>,
    /// The config of the container the image was committed from.
    #[serde(default)]
    pub container_config: Option<ContainerConfig>,
    /// The image's layers.
    pub rootfs: RootFs,
    /// How the image was built.
    #[serde(default)]
    pub history: Vec<History>,
    /// When the image was made.
    #[serde(default)]
    pub created: Option<Timestamp>,
    /// A comment.
    #[serde(default)]
    pub comment: String,
    /// The author.
    #[serde(default)]
    pub author: String,
    /// The Docker version that made the image.
    #[serde(default)]
    pub docker_version: String,
    /// The container the image was committed from.
    #[serde(default)]
    pub container: String,
    /// The parent image (legacy).
    #[serde(default)]
    pub parent: String,
}

/// What `import` writes into a new image's config.
pub(crate) struct ImportedConfig<'a> {
    pub architecture: &'a str,
    pub os: &'a str,
    pub comment: &'a str,
    pub config: &'a ContainerConfig,
    pub created: Timestamp,
    pub docker_version: &'a str,
    pub diff_id: &'a Digest,
}

impl ImportedConfig<'_> {
    /// The config's bytes as dockerd writes them for `docker import`: top-level keys sorted
    /// (dockerd marshals the image through a map), `config` and `container_config` in Go's
    /// field order, Go's HTML-safe string escapes.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut top: BTreeMap<&str, Value> = BTreeMap::new();
        top.insert("architecture", Value::from(self.architecture));
        if !self.comment.is_empty() {
            top.insert("comment", Value::from(self.comment));
        }
        let config = serde_json::to_value(self.config).unwrap_or(Value::Null);
        let empty = serde_json::to_value(ContainerConfig::default()).unwrap_or(Value::Null);
        top.insert("config", config);
        top.insert("container_config", empty);
        top.insert("created", Value::from(self.created.to_string()));
        if !self.docker_version.is_empty() {
            top.insert("docker_version", Value::from(self.docker_version));
        }
        let history = History {
            created: Some(self.created),
            comment: self.comment.to_owned(),
            ..History::default()
        };
        top.insert(
            "history",
            Value::Array(vec![serde_json::to_value(history).unwrap_or(Value::Null)]),
        );
        top.insert("os", Value::from(self.os));
        let rootfs = RootFs {
            kind: "layers".to_owned(),
            diff_ids: vec![self.diff_id.clone()],
        };
        top.insert(
            "rootfs",
            serde_json::to_value(rootfs).unwrap_or(Value::Null),
        );
        let object: serde_json::Map<String, Value> = top
            .into_iter()
            .map(|(key, value)| (key.to_owned(), value))
            .collect();
        go_json_bytes(&Value::Object(object))
    }
}

/// `value` as Go's `encoding/json` writes it: compact, with `<`, `>`, `&`, U+2028 and U+2029
/// escaped as `\u003c` and so on. Those characters can only appear inside JSON strings, so
/// replacing them in the compact text is exact.
pub(crate) fn go_json_bytes(value: &Value) -> Vec<u8> {
    let text = value.to_string();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            other => out.push(other),
        }
    }
    out.into_bytes()
}

#[cfg(test)]
mod tests {
    use super::{ContainerConfig, ImportedConfig, go_json_bytes};
    use crate::digest::Digest;

    /// The config dockerd 20.10 wrote for `docker import` of a one-file tarball (from its
    /// `docker save`), which the engine must reproduce byte for byte.
    const DOCKERD_IMPORT_CONFIG: &str = r#"{"architecture":"amd64","comment":"Imported from -","config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2026-11-22T21:39:40.788614422Z","docker_version":"20.10.24+dfsg1","history":[{"created":"2026-11-22T21:39:40.788614422Z","comment":"Imported from -"}],"os":"linux","rootfs":{"type":"layers","diff_ids":["sha256:a67f739a7c46ef5ba238cad3728b7f3c5a98873fac57fac5e3944223f128a5ab"]}}"#;

    #[test]
    fn import_config_matches_dockerd_byte_for_byte() {
        let diff_id = Digest::parse(
            "sha256:a67f739a7c46ef5ba238cad3728b7f3c5a98873fac57fac5e3944223f128a5ab",
        )
        .expect("a digest");
        let config = ImportedConfig {
            architecture: "amd64",
            os: "linux",
            comment: "Imported from -",
            config: &ContainerConfig::default(),
            created: "2026-11-22T21:39:40.788614422Z".parse().expect("a time"),
            docker_version: "20.10.24+dfsg1",
            diff_id: &diff_id,
        };
        let bytes = config.to_bytes();
        assert_eq!(String::from_utf8_lossy(&bytes), DOCKERD_IMPORT_CONFIG);
        assert_eq!(
            Digest::of(&bytes).to_string(),
            "sha256:9e401a9495fd63c03a49de0791fa913a95d856892f5069c0aac8799d2d394572"
        );
    }

    #[test]
    fn html_characters_are_escaped_as_go_does() {
        let value = serde_json::json!({"Cmd": ["sh", "-c", "a && b > c < d"]});
        assert_eq!(
            String::from_utf8_lossy(&go_json_bytes(&value)),
            r#"{"Cmd":["sh","-c","a \u0026\u0026 b \u003e c \u003c d"]}"#
        );
    }
}
