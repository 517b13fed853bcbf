//! The `Volumes` area: create, inspect, list, remove and prune local volumes, on the engine's
//! volume store (`drydock_engine::volumes`), answered as dockerd (20.10) answers: its filters
//! and their errors, its events (`create`, `destroy`, `prune`).

use std::collections::BTreeMap;

use drydock_engine::volumes::{CreateVolume, PruneFilter, Volume, VolumeFilter};
use drydock_models::VolumeScope;
use drydock_runtime::server::ServerError;
use drydock_runtime::{ApiVersion, Filters};
use drydock_server::volumes::*;

use crate::daemon::Daemon;
use crate::errors::blocking;

/// A volume as the API shows it (inspect, list, create); `UsageData` is for `system df` only.
pub fn volume_model(volume: &Volume) -> drydock_models::Volume {
    drydock_models::Volume {
        name: volume.name.clone(),
        driver: volume.driver.clone(),
        mountpoint: volume.mountpoint.display().to_string(),
        created_at: Some(volume.created_at.to_string()),
        status: None,
        labels: volume.labels.clone().unwrap_or_default(),
        scope: Some(VolumeScope::Local),
        options: volume.options.clone(),
        usage_data: None,
    }
}

/// Publishes a volume event.
fn publish(daemon: &Daemon, action: &str, actor: &str, attributes: BTreeMap<String, String>) {
    daemon
        .events
        .publish("volume", action, actor.to_owned(), attributes);
}

/// The `driver` attribute of a volume's events.
fn driver_attribute(volume: &Volume) -> BTreeMap<String, String> {
    BTreeMap::from([("driver".to_owned(), volume.driver.clone())])
}

/// Refuses filter keys outside `accepted`, with dockerd's text.
fn check_filter_keys(filters: &Filters, accepted: &[&str]) -> Result<(), ServerError> {
    match filters.keys().find(|key| !accepted.contains(key)) {
        Some(key) => Err(ServerError::bad_request(format!("Invalid filter '{key}'"))),
        None => Ok(()),
    }
}

/// The values of `key`.
fn values(filters: &Filters, key: &str) -> Vec<String> {
    filters.get(key).map(str::to_owned).collect()
}

/// `GET /volumes`' filters: `name`, `driver`, `label`, `dangling` (`true`/`1`, `false`/`0`).
fn list_filter(filters: &Filters) -> Result<VolumeFilter, ServerError> {
    check_filter_keys(filters, &["dangling", "name", "driver", "label"])?;
    let dangling = match filters.get("dangling").next() {
        None => None,
        Some(_) if filters.contains("dangling", "true") || filters.contains("dangling", "1") => {
            Some(true)
        }
        Some(_) if filters.contains("dangling", "false") || filters.contains("dangling", "0") => {
            Some(false)
        }
        Some(_) => {
            return Err(ServerError::bad_request(format!(
                "Invalid filter 'dangling=[{}]'",
                values(filters, "dangling").join(" ")
            )));
        }
    };
    Ok(VolumeFilter {
        names: values(filters, "name"),
        drivers: values(filters, "driver"),
        labels: values(filters, "label"),
        dangling,
    })
}

/// `POST /volumes/prune`'s filters: `label` and `label!`.
fn prune_filter(filters: &Filters) -> Result<PruneFilter, ServerError> {
    check_filter_keys(filters, &["label", "label!"])?;
    Ok(PruneFilter {
        labels: values(filters, "label"),
        not_labels: values(filters, "label!"),
    })
}

impl drydock_server::Volumes for Daemon {
    async fn volume_create(
        &self,
        request: VolumeCreateRequest,
        _version: ApiVersion,
    ) -> Result<VolumeCreateResponse, ServerError> {
        let body = request.body;
        let create = CreateVolume {
            name: body.name.unwrap_or_default(),
            driver: body.driver.unwrap_or_default(),
            labels: body.labels,
            options: body.driver_opts,
        };
        let engine = self.clone();
        let volume = blocking(move || engine.volumes.create(&create)).await?;
        publish(self, "create", &volume.name, driver_attribute(&volume));
        Ok(VolumeCreateResponse::Status201(Box::new(volume_model(
            &volume,
        ))))
    }

    async fn volume_delete(
        &self,
        request: VolumeDeleteRequest,
        _version: ApiVersion,
    ) -> Result<VolumeDeleteResponse, ServerError> {
        let engine = self.clone();
        let name = request.name;
        let force = request.force.unwrap_or(false);
        let removed = blocking(move || {
            let volume = match engine.volumes.get(&name) {
                Ok(volume) => volume,
                Err(drydock_engine::Error::NoSuchVolume { .. }) if force => return Ok(None),
                Err(e) => return Err(e),
            };
            engine.volumes.remove(&volume.name, force)?;
            Ok(Some(volume))
        })
        .await?;
        if let Some(volume) = removed {
            publish(self, "destroy", &volume.name, driver_attribute(&volume));
        }
        Ok(VolumeDeleteResponse::Status204)
    }

    async fn volume_inspect(
        &self,
        request: VolumeInspectRequest,
        _version: ApiVersion,
    ) -> Result<VolumeInspectResponse, ServerError> {
        let engine = self.clone();
        let volume = blocking(move || engine.volumes.get(&request.name)).await?;
        Ok(VolumeInspectResponse::Status200(Box::new(volume_model(
            &volume,
        ))))
    }

    async fn volume_list(
        &self,
        request: VolumeListRequest,
        _version: ApiVersion,
    ) -> Result<VolumeListResponse, ServerError> {
        let filter = list_filter(&request.filters.unwrap_or_default())?;
        let engine = self.clone();
        let volumes = blocking(move || engine.volumes.list(&filter)).await?;
        Ok(VolumeListResponse::Status200(Box::new(
            drydock_models::VolumeListResponse {
                volumes: volumes.iter().map(volume_model).collect(),
                warnings: Vec::new(),
            },
        )))
    }

    async fn volume_prune(
        &self,
        request: VolumePruneRequest,
        _version: ApiVersion,
    ) -> Result<VolumePruneResponse, ServerError> {
        let filter = prune_filter(&request.filters.unwrap_or_default())?;
        let engine = self.clone();
        let report = blocking(move || engine.volumes.prune(&filter)).await?;
        publish(
            self,
            "prune",
            "",
            BTreeMap::from([("reclaimed".to_owned(), report.space_reclaimed.to_string())]),
        );
        Ok(VolumePruneResponse::Status200(Box::new(
            drydock_models::VolumePruneResponse {
                volumes_deleted: Some(report.volumes_deleted),
                space_reclaimed: Some(i64::try_from(report.space_reclaimed).unwrap_or(i64::MAX)),
            },
        )))
    }
}

#[cfg(test)]
mod tests {
    use drydock_runtime::Filters;

    use super::{list_filter, prune_filter};

    #[test]
    fn list_filters_are_checked_as_dockerd_checks_them() {
        let filter = list_filter(
            &Filters::new()
                .with("name", "^db")
                .with("label", "tier=back")
                .with("dangling", "1"),
        )
        .expect("valid");
        assert_eq!(filter.names, ["^db"]);
        assert_eq!(filter.labels, ["tier=back"]);
        assert_eq!(filter.dangling, Some(true));
        let unknown = list_filter(&Filters::new().with("colour", "red")).expect_err("unknown");
        assert_eq!(unknown.message, "Invalid filter 'colour'");
        let dangling = list_filter(&Filters::new().with("dangling", "maybe")).expect_err("bad");
        assert_eq!(dangling.message, "Invalid filter 'dangling=[maybe]'");
        let prune = prune_filter(&Filters::new().with("label!", "keep")).expect("valid");
        assert_eq!(prune.not_labels, ["keep"]);
        assert!(prune_filter(&Filters::new().with("dangling", "true")).is_err());
    }
}
