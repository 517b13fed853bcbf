//! The `Containers` area: the generated trait implemented on the engine.

pub mod create;
pub mod files;
pub mod filters;
pub mod health;
pub mod lifecycle;
pub mod mounts;
pub mod network;
pub mod record;
pub mod stats;
pub mod store;
pub mod streams;
pub mod validate;
pub mod view;

use drydock_runtime::ApiVersion;
use drydock_runtime::server::ServerError;
use drydock_server::containers::*;

use crate::daemon::Daemon;
use crate::errors::blocking;
use record::Status;

impl drydock_server::Containers for Daemon {
    async fn container_create(
        &self,
        request: ContainerCreateRequest,
        _version: ApiVersion,
    ) -> Result<ContainerCreateResponse, ServerError> {
        let container = create::create(self, request.name.as_deref(), &request.body).await?;
        let record = container.snapshot();
        lifecycle::publish(self, &record, "create", &[]);
        Ok(ContainerCreateResponse::Status201(Box::new(
            drydock_models::ContainerCreateResponse {
                id: record.id,
                warnings: Vec::new(),
            },
        )))
    }

    async fn container_start(
        &self,
        request: ContainerStartRequest,
        _version: ApiVersion,
    ) -> Result<ContainerStartResponse, ServerError> {
        if request
            .body
            .as_ref()
            .is_some_and(|body| body != &Default::default())
        {
            return Err(ServerError::bad_request(
                "starting container with non-empty request body was deprecated since API v1.22 and removed in v1.24",
            ));
        }
        let container = self.containers.get(&request.id)?;
        lifecycle::start(self, &container).await?;
        Ok(ContainerStartResponse::Status204)
    }

    async fn container_stop(
        &self,
        request: ContainerStopRequest,
        _version: ApiVersion,
    ) -> Result<ContainerStopResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        lifecycle::stop(self, &container, request.t).await?;
        Ok(ContainerStopResponse::Status204)
    }

    async fn container_restart(
        &self,
        request: ContainerRestartRequest,
        _version: ApiVersion,
    ) -> Result<ContainerRestartResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        lifecycle::restart(self, &container, request.t).await?;
        Ok(ContainerRestartResponse::Status204)
    }

    async fn container_kill(
        &self,
        request: ContainerKillRequest,
        _version: ApiVersion,
    ) -> Result<ContainerKillResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let signal = lifecycle::parse_signal(request.signal.as_deref().unwrap_or("KILL"))?;
        lifecycle::kill(self, &container, signal)
            .await
            .map_err(|e| {
                ServerError::new(
                    e.status,
                    format!("Cannot kill container: {}: {}", request.id, e.message),
                )
            })?;
        Ok(ContainerKillResponse::Status204)
    }

    async fn container_pause(
        &self,
        request: ContainerPauseRequest,
        _version: ApiVersion,
    ) -> Result<ContainerPauseResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        lifecycle::set_paused(self, &container, true).await?;
        Ok(ContainerPauseResponse::Status204)
    }

    async fn container_unpause(
        &self,
        request: ContainerUnpauseRequest,
        _version: ApiVersion,
    ) -> Result<ContainerUnpauseResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        lifecycle::set_paused(self, &container, false).await?;
        Ok(ContainerUnpauseResponse::Status204)
    }

    async fn container_wait(
        &self,
        request: ContainerWaitRequest,
        version: ApiVersion,
    ) -> Result<ContainerWaitResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let condition = request
            .condition
            .as_ref()
            .map(|c| c.as_str().to_owned())
            .unwrap_or_else(|| "not-running".to_owned());
        if !matches!(condition.as_str(), "not-running" | "next-exit" | "removed") {
            return Err(ServerError::bad_request(format!(
                "invalid condition: \"{condition}\""
            )));
        }
        // The headers go out now, the exit status when the condition holds (the CLI starts
        // the container only once the wait's headers are in).
        let daemon = self.clone();
        let exit = futures_util::stream::once(async move {
            let status_code = lifecycle::wait(&container, &daemon, &condition).await;
            drydock_models::ContainerWaitResponse {
                status_code,
                // Since 1.30 the key is always there; waiting itself never fails here.
                error: (version >= ApiVersion::new(1, 30)).then_some(None),
            }
        });
        Ok(ContainerWaitResponse::Status200(Box::pin(exit)))
    }

    async fn container_delete(
        &self,
        request: ContainerDeleteRequest,
        _version: ApiVersion,
    ) -> Result<ContainerDeleteResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        if request.link == Some(true) {
            return Err(ServerError::bad_request(format!(
                "Conflict, cannot remove the default link name of the container {}",
                request.id
            )));
        }
        lifecycle::remove(
            self,
            &container,
            request.force == Some(true),
            request.v == Some(true),
        )
        .await?;
        Ok(ContainerDeleteResponse::Status204)
    }

    async fn container_inspect(
        &self,
        request: ContainerInspectRequest,
        _version: ApiVersion,
    ) -> Result<ContainerInspectResponse, ServerError> {
        let record = self.containers.get(&request.id)?.snapshot();
        let mut inspect = view::inspect(self, &record)?;
        if request.size == Some(true) {
            let image_size = view::image_size(self, &record);
            let (size_rw, size_root_fs) = view::disk_sizes(self, &record, image_size);
            inspect.size_rw = Some(size_rw);
            inspect.size_root_fs = size_root_fs;
        }
        Ok(ContainerInspectResponse::Status200(Box::new(inspect)))
    }

    async fn container_list(
        &self,
        request: ContainerListRequest,
        _version: ApiVersion,
    ) -> Result<ContainerListResponse, ServerError> {
        let filters = request.filters.unwrap_or_default();
        filters::validate(&filters)?;
        let mut records: Vec<_> = self.containers.all().iter().map(|c| c.snapshot()).collect();
        records.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| b.id.cmp(&a.id)));
        let find = |reference: &str| self.containers.get(reference).map(|c| c.snapshot().created);
        let mut before = None;
        for reference in filters.get("before") {
            before = Some(find(reference)?);
        }
        let mut since = None;
        for reference in filters.get("since") {
            since = Some(find(reference)?);
        }
        let mut ancestors = Vec::new();
        for reference in filters.get("ancestor") {
            match self.images.resolve(reference) {
                Ok(id) => ancestors.push(id.to_string()),
                Err(_) => ancestors.push(reference.to_owned()),
            }
        }
        let all = request.all == Some(true)
            || request.limit.is_some_and(|limit| limit > 0)
            || before.is_some()
            || since.is_some()
            || filters.get("status").next().is_some()
            || filters.get("exited").next().is_some();
        let mut image_sizes = std::collections::HashMap::new();
        let limit = request
            .limit
            .filter(|limit| *limit > 0)
            .map(|l| usize::try_from(l).unwrap_or(usize::MAX));
        let rows: Vec<_> = records
            .iter()
            .filter(|r| all || r.state.status.is_running() || r.state.status == Status::Restarting)
            .filter(|r| filters::matches(&filters, r))
            .filter(|r| before.is_none_or(|t| r.created < t))
            .filter(|r| since.is_none_or(|t| r.created > t))
            .filter(|r| {
                ancestors.is_empty() || ancestors.iter().any(|a| *a == r.image_id || *a == r.image)
            })
            .take(limit.unwrap_or(usize::MAX))
            .map(|record| {
                let mut row = view::summary(self, record);
                if request.size == Some(true) {
                    let image_size = *image_sizes
                        .entry(record.image_id.clone())
                        .or_insert_with(|| view::image_size(self, record));
                    let (size_rw, size_root_fs) = view::disk_sizes(self, record, image_size);
                    row.size_rw = Some(size_rw);
                    row.size_root_fs = size_root_fs;
                }
                row
            })
            .collect();
        Ok(ContainerListResponse::Status200(Box::new(rows)))
    }

    async fn container_logs(
        &self,
        request: ContainerLogsRequest,
        _version: ApiVersion,
    ) -> Result<ContainerLogsResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let tail = match request.tail.as_deref() {
            None | Some("all") | Some("") => None,
            Some(n) => Some(n.parse::<usize>().unwrap_or(usize::MAX)),
        };
        let stream = streams::logs(
            self,
            &container,
            streams::LogsRequest {
                stdout: request.stdout == Some(true),
                stderr: request.stderr == Some(true),
                since: request.since,
                tail,
                timestamps: request.timestamps == Some(true),
                follow: request.follow == Some(true),
            },
        )
        .await?;
        Ok(ContainerLogsResponse::Status200(stream))
    }

    async fn container_attach(
        &self,
        request: ContainerAttachRequest,
        _version: ApiVersion,
    ) -> Result<ContainerAttachResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let options = streams::AttachOptions {
            stdin: request.stdin == Some(true),
            stdout: request.stdout == Some(true),
            stderr: request.stderr == Some(true),
            logs: request.logs == Some(true),
            stream: request.stream == Some(true),
            detach_keys: request.detach_keys,
        };
        let stream = streams::attach(self, &container, options, request.hijack).await?;
        Ok(ContainerAttachResponse::Status200(stream))
    }

    async fn container_resize(
        &self,
        request: ContainerResizeRequest,
        _version: ApiVersion,
    ) -> Result<ContainerResizeResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let record = container.snapshot();
        if !record.state.status.is_running() {
            return Err(ServerError::conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        let size = drydock_engine::attach::TerminalSize {
            height: u16::try_from(request.h).unwrap_or(0),
            width: u16::try_from(request.w).unwrap_or(0),
        };
        let id = record.id.clone();
        blocking(move || drydock_engine::attach::resize(&id, size)).await?;
        Ok(ContainerResizeResponse::Status200)
    }

    async fn container_rename(
        &self,
        request: ContainerRenameRequest,
        _version: ApiVersion,
    ) -> Result<ContainerRenameResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let name = crate::names::validate(&request.name)?;
        let old = self.containers.rename(&container, name)?;
        lifecycle::publish(
            self,
            &container.snapshot(),
            "rename",
            &[("oldName", format!("/{old}"))],
        );
        Ok(ContainerRenameResponse::Status204)
    }

    async fn container_top(
        &self,
        request: ContainerTopRequest,
        _version: ApiVersion,
    ) -> Result<ContainerTopResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let record = container.snapshot();
        if !record.state.status.is_running() {
            return Err(ServerError::conflict(format!(
                "Container {} is not running",
                record.id
            )));
        }
        let args = request.ps_args.unwrap_or_else(|| "-ef".to_owned());
        let id = record.id.clone();
        let engine = self.clone();
        let output = blocking(move || {
            let mut command = engine.runtime.runc().command("ps");
            command.arg(&id);
            command.args(args.split_whitespace());
            command
                .output()
                .map_err(|source| drydock_engine::Error::Io {
                    context: "run runc ps".to_owned(),
                    source,
                })
        })
        .await?;
        if !output.status.success() {
            return Err(ServerError::internal(format!(
                "ps: {}",
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        // dockerd logs each top it answers as a container event.
        lifecycle::publish(self, &record, "top", &[]);
        let text = String::from_utf8_lossy(&output.stdout);
        let mut lines = text.lines().filter(|l| !l.trim().is_empty());
        let titles: Vec<String> = lines
            .next()
            .map(|header| header.split_whitespace().map(str::to_owned).collect())
            .unwrap_or_default();
        let columns = titles.len().max(1);
        let processes = lines
            .map(|line| {
                let mut fields: Vec<String> = line
                    .splitn(columns, char::is_whitespace)
                    .map(str::to_owned)
                    .collect();
                // splitn on single spaces leaves padding: split properly, keeping the last
                // column (the command) whole.
                let words: Vec<&str> = line.split_whitespace().collect();
                if words.len() >= columns {
                    fields = words[..columns - 1]
                        .iter()
                        .map(|w| (*w).to_owned())
                        .collect();
                    fields.push(words[columns - 1..].join(" "));
                }
                fields
            })
            .collect();
        Ok(ContainerTopResponse::Status200(Box::new(
            drydock_models::ContainerTopResponse {
                titles: Some(titles),
                processes: Some(processes),
            },
        )))
    }

    async fn container_prune(
        &self,
        request: ContainerPruneRequest,
        _version: ApiVersion,
    ) -> Result<ContainerPruneResponse, ServerError> {
        let filters = request.filters.unwrap_or_default();
        for key in filters.keys() {
            if !matches!(key, "label" | "label!" | "until") {
                return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
            }
        }
        let mut deleted = Vec::new();
        for container in self.containers.all() {
            let record = container.snapshot();
            if record.state.status.is_running() || record.state.status == Status::Restarting {
                continue;
            }
            let labels = record.labels();
            let label_ok = filters
                .get("label")
                .all(|label| match label.split_once('=') {
                    Some((k, v)) => labels.get(k).is_some_and(|x| x == v),
                    None => labels.contains_key(label),
                })
                && filters
                    .get("label!")
                    .all(|label| match label.split_once('=') {
                        Some((k, v)) => labels.get(k).is_none_or(|x| x != v),
                        None => !labels.contains_key(label),
                    });
            if !label_ok {
                continue;
            }
            if lifecycle::remove(self, &container, false, false)
                .await
                .is_ok()
            {
                deleted.push(record.id);
            }
        }
        self.events.publish(
            "container",
            "prune",
            "",
            [("reclaimed".to_owned(), "0".to_owned())].into(),
        );
        Ok(ContainerPruneResponse::Status200(Box::new(
            drydock_models::ContainerPruneResponse {
                containers_deleted: (!deleted.is_empty()).then_some(deleted),
                space_reclaimed: Some(0),
            },
        )))
    }

    async fn container_archive_info(
        &self,
        request: ContainerArchiveInfoRequest,
        _version: ApiVersion,
    ) -> Result<ContainerArchiveInfoResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let stat = files::stat(self, &container, request.path, request.id).await?;
        Ok(ContainerArchiveInfoResponse::Status200 {
            x_docker_container_path_stat: files::stat_header(&stat)?,
        })
    }

    async fn container_archive(
        &self,
        request: ContainerArchiveRequest,
        _version: ApiVersion,
    ) -> Result<ContainerArchiveResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let (stat, tar) = files::archive(self, container, request.path, request.id).await?;
        Ok(ContainerArchiveResponse::Status200 {
            body: tar,
            x_docker_container_path_stat: files::stat_header(&stat)?,
        })
    }

    async fn put_container_archive(
        &self,
        request: PutContainerArchiveRequest,
        _version: ApiVersion,
    ) -> Result<PutContainerArchiveResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let options = drydock_engine::archive::ExtractOptions {
            no_overwrite_dir_non_dir: files::query_true(
                request.no_overwrite_dir_non_dir.as_deref(),
            ),
            copy_uid_gid: files::query_true(request.copy_uidgid.as_deref()),
            ..Default::default()
        };
        files::extract(
            self,
            &container,
            request.path,
            request.id,
            options,
            request.body,
        )
        .await?;
        Ok(PutContainerArchiveResponse::Status200)
    }

    async fn container_export(
        &self,
        request: ContainerExportRequest,
        _version: ApiVersion,
    ) -> Result<ContainerExportResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let tar = files::export(self, container).await?;
        Ok(ContainerExportResponse::Status200(tar))
    }

    async fn container_changes(
        &self,
        request: ContainerChangesRequest,
        _version: ApiVersion,
    ) -> Result<ContainerChangesResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let changes = files::changes(self, &container.snapshot()).await?;
        Ok(ContainerChangesResponse::Status200(changes))
    }

    async fn container_stats(
        &self,
        request: ContainerStatsRequest,
        _version: ApiVersion,
    ) -> Result<ContainerStatsResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let frames = stats::stats(self, container, request.stream != Some(false)).await?;
        Ok(ContainerStatsResponse::Status200(frames))
    }

    async fn container_update(
        &self,
        request: ContainerUpdateRequest,
        _version: ApiVersion,
    ) -> Result<ContainerUpdateResponse, ServerError> {
        let container = self.containers.get(&request.id)?;
        let updated = stats::update(self, &container, request.body).await?;
        Ok(ContainerUpdateResponse::Status200(Box::new(updated)))
    }
}
