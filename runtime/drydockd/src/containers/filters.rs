//! `docker ps` filters, as dockerd applies them.

use drydock_runtime::Filters;
use drydock_runtime::server::ServerError;

use super::mounts;
use super::record::{ContainerRecord, Status};

/// The filter keys `docker ps` accepts.
const KEYS: &[&str] = &[
    "id",
    "name",
    "label",
    "status",
    "ancestor",
    "exited",
    "before",
    "since",
    "volume",
    "network",
    "health",
    "is-task",
    "publish",
    "expose",
    "isolation",
];

/// The statuses the `status` filter knows.
const STATUSES: &[&str] = &[
    "created",
    "restarting",
    "running",
    "removing",
    "paused",
    "exited",
    "dead",
];

/// Checks the filters' keys and values as dockerd does before listing.
///
/// # Errors
///
/// 400 `Invalid filter 'x'` or an invalid value.
pub fn validate(filters: &Filters) -> Result<(), ServerError> {
    for key in filters.keys() {
        if !KEYS.contains(&key) {
            return Err(ServerError::bad_request(format!("Invalid filter '{key}'")));
        }
    }
    for status in filters.get("status") {
        if !STATUSES.contains(&status) {
            return Err(ServerError::bad_request(format!(
                "Unrecognised filter value for status: {status}"
            )));
        }
    }
    for health in filters.get("health") {
        if !matches!(health, "starting" | "healthy" | "unhealthy" | "none") {
            return Err(ServerError::bad_request(format!(
                "Unrecognised filter value for health: {health}"
            )));
        }
    }
    for code in filters.get("exited") {
        if code.parse::<i32>().is_err() {
            return Err(ServerError::bad_request(format!(
                "invalid filter 'exited={code}'"
            )));
        }
    }
    Ok(())
}

/// Whether a container passes the filters, apart from `before`/`since` (which need the
/// other containers' creation times) and `ancestor` (which needs the image store).
pub fn matches(filters: &Filters, record: &ContainerRecord) -> bool {
    let any = |key: &str, test: &dyn Fn(&str) -> bool| {
        let mut values = filters.get(key).peekable();
        values.peek().is_none() || values.any(test)
    };
    let labels = record.labels();
    any("id", &|id| record.id.starts_with(id))
        && any("name", &|pattern| name_matches(pattern, &record.name))
        && filters
            .get("label")
            .all(|label| match label.split_once('=') {
                Some((key, value)) => labels.get(key).is_some_and(|v| v == value),
                None => labels.contains_key(label),
            })
        && any("status", &|status| status == record.state.status.as_str())
        && any("exited", &|code| {
            record.state.status == Status::Exited
                && code
                    .parse::<i32>()
                    .is_ok_and(|code| code == record.state.exit_code)
        })
        && any("volume", &|volume| {
            mounts::uses_volume(&record.mounts, volume)
        })
        && any("health", &|health| {
            health == super::health::filter_word(record.state.health.as_ref())
        })
        && any("is-task", &|value| value == "false")
}

/// Whether a container name matches a `name` filter: a regular expression, as dockerd's
/// (`^web$`), against the name with and without its leading slash; a pattern that is not a
/// regular expression matches as a substring.
fn name_matches(pattern: &str, name: &str) -> bool {
    match regex::Regex::new(pattern) {
        Ok(regex) => regex.is_match(name) || regex.is_match(&format!("/{name}")),
        Err(_) => name.contains(pattern.trim_start_matches('/')),
    }
}

#[cfg(test)]
mod tests {
    use super::name_matches;

    #[test]
    fn name_filters_are_regular_expressions_as_in_dockerd() {
        assert!(name_matches("^web$", "web"));
        assert!(!name_matches("^web$", "web2"));
        assert!(name_matches("web", "my-web-1"));
        assert!(name_matches("^/web", "web"));
        assert!(name_matches("(", "a(b"));
    }
}
