//! The `Images` area: list, inspect, history, tag, remove, import, save and load, prune.

use std::collections::BTreeMap;

use drydock_engine::images::{DeleteRecord, ImageUser, ImportOptions, apply_changes};
use drydock_models::{
    BuildInfo, CreateImageInfo, GraphDriverData, ImageDeleteResponseItem, ImageHistoryResponseItem,
};
use drydock_runtime::ApiVersion;
use drydock_runtime::server::{BodyStream, ByteStream, ServerError};
use drydock_server::images::*;
use tokio_util::io::{ReaderStream, SyncIoBridge};

use crate::containers::view::convert;
use crate::daemon::Daemon;
use crate::errors::{api_error, blocking};

/// The images containers are created from, for removal's conflict rules.
fn image_users(daemon: &Daemon) -> Vec<ImageUser> {
    daemon
        .containers
        .all()
        .iter()
        .filter_map(|container| {
            let record = container.snapshot();
            Some(ImageUser {
                container_id: record.id.clone(),
                image: drydock_engine::digest::Digest::parse(&record.image_id)?,
                running: record.state.status.is_running(),
            })
        })
        .collect()
}

/// Publishes an image event. dockerd's `tag` events name the new tag in its familiar form,
/// its `untag`, `delete`, `import` and `load` events name the image by its id.
fn publish(daemon: &Daemon, action: &str, actor: &str, name: &str) {
    let attributes = BTreeMap::from([("name".to_owned(), name.to_owned())]);
    daemon
        .events
        .publish("image", action, actor.to_owned(), attributes);
}

/// A blocking reader of a request body (run it in `spawn_blocking`).
fn body_reader(body: BodyStream) -> impl std::io::Read + Send + 'static {
    SyncIoBridge::new(body.into_async_read())
}

/// The repo and tag of an import or tag request as one reference (`repo:tag`).
fn reference_of(repo: Option<&str>, tag: Option<&str>) -> Option<String> {
    let repo = repo.filter(|r| !r.is_empty())?;
    Some(match tag.filter(|t| !t.is_empty()) {
        Some(tag) => format!("{repo}:{tag}"),
        None => repo.to_owned(),
    })
}

/// Reads a request body to its end, discarding it.
async fn drain(mut body: BodyStream) {
    use futures_util::StreamExt;
    while let Some(Ok(_)) = body.next().await {}
}

/// One message of a JSON progress stream.
fn messages<T: Send + 'static>(items: Vec<T>) -> drydock_runtime::server::Messages<T> {
    Box::pin(futures_util::stream::iter(items))
}

impl drydock_server::Images for Daemon {
    async fn image_create(
        &self,
        request: ImageCreateRequest,
        _version: ApiVersion,
    ) -> Result<ImageCreateResponse, ServerError> {
        let Some(source) = request.from_src.clone() else {
            let image = request.from_image.unwrap_or_default();
            return Err(ServerError::not_found(format!(
                "pull access denied for {image}: drydockd pulls from no registry; import or load the image instead"
            )));
        };
        if source != "-" {
            return Err(ServerError::bad_request(format!(
                "import from {source}: drydockd imports from the request body only (fromSrc=-)"
            )));
        }
        let mut config = drydock_engine::images::ContainerConfig::default();
        if let Err(e) = apply_changes(&mut config, request.changes.as_deref().unwrap_or_default()) {
            // Read what the client is still sending before refusing: an answer sent while it
            // writes the tarball reaches it as a broken pipe instead of the refusal.
            drain(request.body).await;
            return Err(api_error(e));
        }
        let reference = reference_of(request.repo.as_deref(), request.tag.as_deref());
        let options = ImportOptions {
            reference: reference.clone(),
            config,
            comment: request
                .message
                .clone()
                .filter(|m| !m.is_empty())
                .unwrap_or_else(|| "Imported from -".to_owned()),
            ..ImportOptions::default()
        };
        let reader = body_reader(request.body);
        let engine = self.clone();
        let id = blocking(move || engine.images.import(reader, options)).await?;
        if let Some(reference) = &reference {
            publish(self, "tag", &id.to_string(), &familiar_tag(reference));
        }
        publish(self, "import", &id.to_string(), &id.to_string());
        Ok(ImageCreateResponse::Status200(messages(vec![
            CreateImageInfo {
                status: Some(id.to_string()),
                ..CreateImageInfo::default()
            },
        ])))
    }

    async fn image_list(
        &self,
        request: ImageListRequest,
        _version: ApiVersion,
    ) -> Result<ImageListResponse, ServerError> {
        let mut filters = request.filters.unwrap_or_default();
        if let Some(reference) = request.filter.filter(|f| !f.is_empty()) {
            filters.insert("reference", reference);
        }
        for key in filters.keys() {
            if !matches!(key, "dangling" | "label" | "before" | "since" | "reference") {
                return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
            }
        }
        let dangling: Option<bool> = match filters.get("dangling").next() {
            None => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(other) => {
                return Err(ServerError::bad_request(format!(
                    "Invalid filter 'dangling=[{other}]'"
                )));
            }
        };
        let engine = self.clone();
        let summaries = blocking(move || engine.images.list()).await?;
        let created_of = |reference: &str| -> Result<i64, ServerError> {
            let id = self.images.resolve(reference).map_err(api_error)?;
            summaries
                .iter()
                .find(|s| s.id == id.to_string())
                .map(|s| s.created)
                .ok_or_else(|| ServerError::not_found(format!("No such image: {reference}")))
        };
        let mut before = None;
        for reference in filters.get("before") {
            before = Some(created_of(reference)?);
        }
        let mut since = None;
        for reference in filters.get("since") {
            since = Some(created_of(reference)?);
        }
        let containers = image_users(self);
        let mut rows: Vec<drydock_models::ImageSummary> = summaries
            .iter()
            .filter(|s| dangling.is_none_or(|d| d == s.repo_tags.is_empty()))
            .filter(|s| before.is_none_or(|t| s.created < t))
            .filter(|s| since.is_none_or(|t| s.created > t))
            .filter(|s| {
                filters
                    .get("label")
                    .all(|label| match label.split_once('=') {
                        Some((k, v)) => s.labels.get(k).is_some_and(|x| x == v),
                        None => s.labels.contains_key(label),
                    })
            })
            .filter_map(|s| {
                let mut references = filters.get("reference").peekable();
                let tags: Vec<String> = if references.peek().is_none() {
                    s.repo_tags.clone()
                } else {
                    let wanted: Vec<&str> = references.collect();
                    let matching: Vec<String> = s
                        .repo_tags
                        .iter()
                        .filter(|tag| wanted.iter().any(|w| reference_matches(w, tag)))
                        .cloned()
                        .collect();
                    if matching.is_empty() {
                        return None;
                    }
                    matching
                };
                let size = i64::try_from(s.size).unwrap_or(i64::MAX);
                Some(drydock_models::ImageSummary {
                    id: s.id.clone(),
                    parent_id: String::new(),
                    repo_tags: if tags.is_empty() {
                        vec!["<none>:<none>".to_owned()]
                    } else {
                        tags
                    },
                    repo_digests: if s.repo_tags.is_empty() {
                        vec!["<none>@<none>".to_owned()]
                    } else {
                        Vec::new()
                    },
                    created: s.created,
                    size,
                    shared_size: -1,
                    virtual_size: size,
                    labels: Some(s.labels.clone()),
                    containers: -1,
                })
            })
            .collect();
        let _ = containers;
        rows.sort_by(|a, b| b.created.cmp(&a.created).then_with(|| a.id.cmp(&b.id)));
        Ok(ImageListResponse::Status200(rows))
    }

    async fn image_inspect(
        &self,
        request: ImageInspectRequest,
        _version: ApiVersion,
    ) -> Result<ImageInspectResponse, ServerError> {
        let engine = self.clone();
        let name = request.name.clone();
        let inspect = blocking(move || engine.images.inspect(&name)).await?;
        let mut image: drydock_models::Image = convert(&inspect)?;
        let layers = self
            .images
            .resolve(&request.name)
            .and_then(|id| self.images.layer_paths(&id))
            .unwrap_or_default();
        let lower: Vec<String> = layers.iter().map(|p| p.display().to_string()).collect();
        image.graph_driver = GraphDriverData {
            name: Some("overlay2".to_owned()),
            data: Some(BTreeMap::from([("LowerDir".to_owned(), lower.join(":"))])),
        }
        .into();
        Ok(ImageInspectResponse::Status200(Box::new(image)))
    }

    async fn image_history(
        &self,
        request: ImageHistoryRequest,
        _version: ApiVersion,
    ) -> Result<ImageHistoryResponse, ServerError> {
        let engine = self.clone();
        let history = blocking(move || engine.images.history(&request.name)).await?;
        let rows = history
            .into_iter()
            .map(|entry| ImageHistoryResponseItem {
                id: entry.id,
                created: entry.created,
                created_by: entry.created_by,
                tags: entry.tags,
                size: i64::try_from(entry.size).unwrap_or(i64::MAX),
                comment: entry.comment,
            })
            .collect();
        Ok(ImageHistoryResponse::Status200(rows))
    }

    async fn image_tag(
        &self,
        request: ImageTagRequest,
        _version: ApiVersion,
    ) -> Result<ImageTagResponse, ServerError> {
        let Some(reference) = reference_of(request.repo.as_deref(), request.tag.as_deref()) else {
            return Err(ServerError::bad_request(
                "repository name must have at least one component",
            ));
        };
        let engine = self.clone();
        let name = request.name.clone();
        let target = reference.clone();
        blocking(move || engine.images.tag(&name, &target)).await?;
        let id = self.images.resolve(&request.name).map_err(api_error)?;
        publish(self, "tag", &id.to_string(), &familiar_tag(&reference));
        Ok(ImageTagResponse::Status201)
    }

    async fn image_delete(
        &self,
        request: ImageDeleteRequest,
        _version: ApiVersion,
    ) -> Result<ImageDeleteResponse, ServerError> {
        let users = image_users(self);
        let id = self
            .images
            .resolve(&request.name)
            .map_err(api_error)?
            .to_string();
        let engine = self.clone();
        let name = request.name.clone();
        let force = request.force == Some(true);
        let records = blocking(move || engine.images.remove(&name, force, &users)).await?;
        let rows = records
            .into_iter()
            .map(|record| match record {
                DeleteRecord::Untagged(tag) => {
                    publish(self, "untag", &id, &id);
                    ImageDeleteResponseItem {
                        untagged: Some(tag),
                        deleted: None,
                    }
                }
                DeleteRecord::Deleted(id) => {
                    publish(self, "delete", &id, &id);
                    ImageDeleteResponseItem {
                        untagged: None,
                        deleted: Some(id),
                    }
                }
            })
            .collect();
        Ok(ImageDeleteResponse::Status200(rows))
    }

    async fn image_get(
        &self,
        request: ImageGetRequest,
        _version: ApiVersion,
    ) -> Result<ImageGetResponse, ServerError> {
        let stream = save(self, vec![request.name]).await?;
        Ok(ImageGetResponse::Status200(stream))
    }

    async fn image_get_all(
        &self,
        request: ImageGetAllRequest,
        _version: ApiVersion,
    ) -> Result<ImageGetAllResponse, ServerError> {
        let stream = save(self, request.names.unwrap_or_default()).await?;
        Ok(ImageGetAllResponse::Status200(stream))
    }

    async fn image_load(
        &self,
        request: ImageLoadRequest,
        _version: ApiVersion,
    ) -> Result<ImageLoadResponse, ServerError> {
        let reader = body_reader(request.body);
        let engine = self.clone();
        let loaded = blocking(move || engine.images.load(reader)).await?;
        let mut lines = Vec::new();
        for image in &loaded {
            publish(self, "load", &image.id.to_string(), &image.id.to_string());
            if image.tags.is_empty() {
                lines.push(format!("Loaded image ID: {}\n", image.id));
            }
            for tag in &image.tags {
                lines.push(format!("Loaded image: {tag}\n"));
            }
        }
        // `quiet` hides only the progress of the layers, which drydockd does not report: the
        // lines that name what was loaded are written either way, as dockerd does (the docker
        // CLI asks for quiet whenever its output is not a terminal).
        let infos = lines
            .into_iter()
            .map(|line| BuildInfo {
                stream: Some(line),
                ..BuildInfo::default()
            })
            .collect();
        Ok(ImageLoadResponse::Status200(messages(infos)))
    }

    async fn image_prune(
        &self,
        request: ImagePruneRequest,
        _version: ApiVersion,
    ) -> Result<ImagePruneResponse, ServerError> {
        let filters = request.filters.unwrap_or_default();
        for key in filters.keys() {
            if !matches!(key, "dangling" | "label" | "label!" | "until") {
                return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
            }
        }
        let dangling_only = !matches!(filters.get("dangling").next(), Some("false" | "0"));
        let users = image_users(self);
        let engine = self.clone();
        let summaries = blocking(move || engine.images.list()).await?;
        let mut deleted = Vec::new();
        let mut reclaimed = 0_i64;
        for summary in summaries {
            if dangling_only && !summary.repo_tags.is_empty() {
                continue;
            }
            if users.iter().any(|u| u.image.to_string() == summary.id) {
                continue;
            }
            let engine = self.clone();
            let users = users.clone();
            let id = summary.id.clone();
            let Ok(records) = blocking(move || engine.images.remove(&id, true, &users)).await
            else {
                continue;
            };
            reclaimed += i64::try_from(summary.size).unwrap_or(0);
            for record in records {
                deleted.push(match record {
                    DeleteRecord::Untagged(tag) => ImageDeleteResponseItem {
                        untagged: Some(tag),
                        deleted: None,
                    },
                    DeleteRecord::Deleted(id) => {
                        publish(self, "delete", &id, &id);
                        ImageDeleteResponseItem {
                            untagged: None,
                            deleted: Some(id),
                        }
                    }
                });
            }
        }
        Ok(ImagePruneResponse::Status200(Box::new(
            drydock_models::ImagePruneResponse {
                images_deleted: (!deleted.is_empty()).then_some(deleted),
                space_reclaimed: Some(reclaimed),
            },
        )))
    }
}

/// A tag as dockerd's events name it: familiar (`busybox:1`, not
/// `docker.io/library/busybox:1`), with `latest` when it names none.
fn familiar_tag(reference: &str) -> String {
    drydock_engine::images::Reference::parse(reference)
        .map(|parsed| parsed.with_default_tag().to_string())
        .unwrap_or_else(|_| reference.to_owned())
}

/// Whether a tag matches a `reference` filter: `name` matches every tag of that name,
/// `name:tag` that tag; `*` in the pattern matches within a path component.
fn reference_matches(pattern: &str, tag: &str) -> bool {
    let (name, _) = tag.rsplit_once(':').unwrap_or((tag, ""));
    glob(pattern, tag) || glob(pattern, name)
}

/// A shell-like match with `*` (not across `/`) and `?`.
fn glob(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && t[0] != b'/' && go(p, &t[1..])),
            (Some(b'?'), Some(c)) if *c != b'/' => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a == b => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// `docker save` as a byte stream: the archive is written by a blocking task into a pipe.
async fn save(daemon: &Daemon, names: Vec<String>) -> Result<ByteStream, ServerError> {
    for name in &names {
        daemon.images.resolve(name).map_err(|e| match e {
            // dockerd's save names the image as asked for, without the default tag.
            drydock_engine::Error::NoSuchImage(_) => {
                ServerError::not_found(format!("No such image: {name}"))
            }
            other => api_error(other),
        })?;
    }
    let (reader, writer) = tokio::io::duplex(256 * 1024);
    let engine = daemon.clone();
    tokio::task::spawn_blocking(move || {
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let out = SyncIoBridge::new(writer);
        if let Err(e) = engine.images.save(&refs, out) {
            log::error!("save: {e}");
        }
    });
    let stream = ReaderStream::new(reader);
    Ok(Box::pin(stream))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_filters_match_names_tags_and_globs() {
        assert!(reference_matches("busybox", "busybox:latest"));
        assert!(reference_matches("busybox:latest", "busybox:latest"));
        assert!(!reference_matches("busybox:1", "busybox:latest"));
        assert!(reference_matches("busy*", "busybox:latest"));
        assert!(!reference_matches("*", "reg:5000/a/b:1"));
        assert!(reference_matches("reg:5000/a/*", "reg:5000/a/b:1"));
    }

    #[test]
    fn repo_and_tag_join_into_one_reference() {
        assert_eq!(
            reference_of(Some("a/b"), Some("1")).as_deref(),
            Some("a/b:1")
        );
        assert_eq!(reference_of(Some("a"), None).as_deref(), Some("a"));
        assert_eq!(reference_of(None, Some("1")), None);
    }
}
