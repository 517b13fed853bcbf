//! `docker create`: the request's config checked and merged with the image's, as dockerd
//! does, into a new container record, its mounts planned and its volumes created.

use std::sync::Arc;

use drydock_engine::images::ContainerConfig;
use drydock_engine::oci::merge_image_config;
use drydock_engine::timestamp::Timestamp;
use drydock_models::ContainerCreateBody;
use drydock_runtime::server::ServerError;
use serde_json::Value;

use super::mounts;
use super::record::{ContainerRecord, State};
use super::store::Container;
use crate::daemon::{Daemon, random_hex};
use crate::errors::api_error;
use crate::names;

/// The container config of a create request: Docker's `Config` fields of the body, with a
/// string `Cmd`/`Entrypoint` taken as a one-word list (Docker's `StrSlice`).
///
/// # Errors
///
/// 400 when a field has the wrong type.
pub fn container_config(body: &ContainerCreateBody) -> Result<ContainerConfig, ServerError> {
    let mut value = serde_json::to_value(body)
        .map_err(|e| ServerError::bad_request(format!("invalid container config: {e}")))?;
    if let Value::Object(fields) = &mut value {
        fields.remove("HostConfig");
        fields.remove("NetworkingConfig");
        for key in ["Cmd", "Entrypoint"] {
            if let Some(Value::String(word)) = fields.get(key) {
                let list = Value::Array(vec![Value::String(word.clone())]);
                fields.insert(key.to_owned(), list);
            }
        }
        fields.retain(|_, field| !field.is_null());
    }
    serde_json::from_value(value)
        .map_err(|e| ServerError::bad_request(format!("invalid container config: {e}")))
}

/// Creates a container as `docker create` does: its record (config merged with the image's,
/// mounts planned), its volumes (a volume `create` event each), then the container itself.
///
/// # Errors
///
/// 400 for an invalid name, config or mount, 404 `No such image` or volume driver, 409 for a
/// name in use; nothing is left behind then.
pub async fn create(
    daemon: &Daemon,
    name: Option<&str>,
    body: &ContainerCreateBody,
) -> Result<Arc<Container>, ServerError> {
    let record = new_record(daemon, name, body)?;
    mounts::create_volumes(daemon, &record).await?;
    match daemon.containers.insert(record.clone()) {
        Ok(container) => Ok(container),
        Err(e) => {
            mounts::release(daemon, &record, true).await;
            Err(e)
        }
    }
}

/// The record of a new container from a create request.
fn new_record(
    daemon: &Daemon,
    name: Option<&str>,
    body: &ContainerCreateBody,
) -> Result<ContainerRecord, ServerError> {
    // dockerd's order: the request's checks, the image, then the name.
    super::validate::check_create(body)?;
    let image = body.image.clone().unwrap_or_default();
    if image.is_empty() {
        return Err(ServerError::bad_request("No image specified"));
    }
    // The engine names a missing image as dockerd does (`busybox:latest`).
    let image_id = daemon.images.resolve(&image).map_err(api_error)?;
    let image_config = daemon.images.config(&image_id).map_err(api_error)?;
    // Without a name, the store generates one as it inserts the record.
    let name = match name.filter(|n| !n.is_empty()) {
        Some(requested) => {
            let name = names::validate(requested)?;
            daemon.containers.check_name_free(&name)?;
            name
        }
        None => String::new(),
    };
    let mut config = container_config(body)?;
    let reset_entrypoint = config.entrypoint.as_deref() == Some(&[String::new()][..]);
    if let Some(image_defaults) = &image_config.config {
        merge_image_config(&mut config, image_defaults);
    }
    if reset_entrypoint {
        config.entrypoint = None;
    }
    config.image.clone_from(&image);
    super::health::normalise_config(&mut config)?;
    if config.entrypoint.as_ref().is_none_or(Vec::is_empty)
        && config.cmd.as_ref().is_none_or(Vec::is_empty)
    {
        return Err(ServerError::bad_request("No command specified"));
    }
    let mut host_config = body.host_config.clone().unwrap_or_default();
    // dockerd fills in its default log driver.
    let log_type_unset = host_config
        .log_config
        .as_ref()
        .and_then(|l| l.r#type.as_ref())
        .is_none_or(|t| t.as_str().is_empty());
    if log_type_unset {
        let config = host_config
            .log_config
            .take()
            .and_then(|l| l.config)
            .unwrap_or_default();
        host_config.log_config = Some(drydock_models::HostConfigLogConfig {
            r#type: Some("json-file".into()),
            config: Some(config),
        });
    }
    if host_config
        .network_mode
        .as_deref()
        .is_none_or(str::is_empty)
    {
        host_config.network_mode = Some("default".to_owned());
    }
    let id = random_hex(32);
    if config.hostname.is_empty() {
        // dockerd's: the host's name on the host's network, else the id's first 12 digits.
        config.hostname = if host_config.network_mode.as_deref() == Some("host") {
            crate::system::hostname()
        } else {
            id[..12].to_owned()
        };
    }
    let mounts = mounts::plan(daemon, &config, &host_config)?;
    Ok(ContainerRecord {
        id,
        name,
        created: Timestamp::now(),
        image,
        image_id: image_id.to_string(),
        config,
        host_config,
        state: State::default(),
        restart_count: 0,
        exec_ids: Vec::new(),
        mounts,
        volumes_populated: false,
        volumes_mounted: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_string_cmd_is_one_word_as_dockers_strslice() {
        let body: ContainerCreateBody = serde_json::from_value(serde_json::json!({
            "Image": "busybox", "Cmd": "echo hi", "Entrypoint": ["sh", "-c"], "Tty": true,
            "HostConfig": {"AutoRemove": true}
        }))
        .expect("parses");
        let config = container_config(&body).expect("converts");
        assert_eq!(config.cmd, Some(vec!["echo hi".to_owned()]));
        assert_eq!(
            config.entrypoint,
            Some(vec!["sh".to_owned(), "-c".to_owned()])
        );
        assert!(config.tty);
    }
}
