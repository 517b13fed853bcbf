//! The engine's events: every change the API reports (`docker events`), kept in a bounded
//! history for `since` and fanned out to listeners as it happens.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use drydock_models::{SystemEventsResponse, SystemEventsResponseActor};
use drydock_runtime::Filters;
use drydock_runtime::server::ServerError;
use futures_util::StreamExt;
use tokio::sync::broadcast;

/// How many past events `since` can reach (dockerd keeps 256; more costs little).
const HISTORY: usize = 1024;

/// One event, as it is kept and filtered.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// `container`, `image`, `volume`, `network`, `daemon`.
    pub kind: &'static str,
    /// What happened: `create`, `start`, `die`, `exec_start: sh`, ...
    pub action: String,
    /// The object's id (or name for volumes).
    pub actor: String,
    /// The object's attributes: `name`, `image`, labels, `exitCode`, ...
    pub attributes: BTreeMap<String, String>,
    /// When, in nanoseconds since the epoch.
    pub time_nano: i64,
}

impl Event {
    /// The event as the API sends it: the typed fields, and for containers and images the
    /// older `status`/`id`/`from` fields clients below 1.22 read (dockerd still sends them).
    pub fn to_model(&self) -> SystemEventsResponse {
        let legacy = matches!(self.kind, "container" | "image");
        SystemEventsResponse {
            r#type: Some(self.kind.to_owned()),
            action: Some(self.action.clone()),
            actor: Some(SystemEventsResponseActor {
                id: Some(self.actor.clone()),
                attributes: Some(self.attributes.clone()),
            }),
            time: Some(self.time_nano / 1_000_000_000),
            time_nano: Some(self.time_nano),
            status: legacy.then(|| self.action.clone()),
            id: legacy.then(|| self.actor.clone()),
            from: (self.kind == "container")
                .then(|| self.attributes.get("image").cloned())
                .flatten(),
        }
    }

    /// Whether the event passes `filters` as dockerd's event filter decides (values of one key
    /// are alternatives, keys must all match): `type` exactly; `event` exactly, or as a prefix
    /// when one value is `exec_create`, `exec_start` or `health_status` (whose actions carry
    /// the command); `container`, `volume`, `network` and `daemon` as a prefix of the actor's
    /// id or `name` attribute, whatever the event's type (so `container=web` also passes the
    /// volume `web-data`); `image` exactly, against the id and the image (`image` attribute,
    /// or an image event's `name`), with or without their tag; `label` as `key` or
    /// `key=value` of the attributes.
    pub fn matches(&self, filters: &Filters) -> bool {
        let exact = |key: &str, source: &str| {
            let mut values = filters.get(key).peekable();
            values.peek().is_none() || values.any(|value| value == source)
        };
        let name = self
            .attributes
            .get("name")
            .map(String::as_str)
            .unwrap_or_default();
        let fuzzy_name = |key: &str| {
            let mut values = filters.get(key).peekable();
            values.peek().is_none()
                || values.any(|value| self.actor.starts_with(value) || name.starts_with(value))
        };
        let event = if filters
            .get("event")
            .any(|value| matches!(value, "exec_create" | "exec_start" | "health_status"))
        {
            filters
                .get("event")
                .any(|value| self.action.starts_with(value))
        } else {
            exact("event", &self.action)
        };
        let image_name = self
            .attributes
            .get(if self.kind == "image" {
                "name"
            } else {
                "image"
            })
            .map(String::as_str)
            .unwrap_or_default();
        let image = exact("image", &self.actor)
            || exact("image", image_name)
            || exact("image", &untagged(&self.actor))
            || exact("image", &untagged(image_name));
        let labels = filters
            .get("label")
            .all(|label| match label.split_once('=') {
                Some((key, value)) => self.attributes.get(key).is_some_and(|v| v == value),
                None => self.attributes.contains_key(label),
            });
        event
            && exact("type", self.kind)
            && fuzzy_name("container")
            && fuzzy_name("volume")
            && fuzzy_name("network")
            && fuzzy_name("daemon")
            && image
            && labels
    }
}

/// An image reference without its tag or digest, in its familiar form (`busybox:1` and
/// `docker.io/library/busybox` are `busybox`), as dockerd's image filter compares names; text
/// that is not a reference stays as it is.
fn untagged(reference: &str) -> String {
    drydock_engine::images::Reference::parse(reference)
        .map(|parsed| parsed.name().to_owned())
        .unwrap_or_else(|_| reference.to_owned())
}

/// The event log and its listeners.
pub struct Events {
    history: Mutex<VecDeque<Event>>,
    sender: broadcast::Sender<Event>,
}

impl Default for Events {
    fn default() -> Self {
        Events {
            history: Mutex::new(VecDeque::with_capacity(HISTORY)),
            sender: broadcast::channel(HISTORY).0,
        }
    }
}

impl Events {
    /// Records an event and tells every listener.
    pub fn publish(
        &self,
        kind: &'static str,
        action: impl Into<String>,
        actor: impl Into<String>,
        attributes: BTreeMap<String, String>,
    ) {
        let event = Event {
            kind,
            action: action.into(),
            actor: actor.into(),
            attributes,
            time_nano: now_nano(),
        };
        log::debug!("event {} {} {}", event.kind, event.action, event.actor);
        let mut history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
        if history.len() == HISTORY {
            history.pop_front();
        }
        history.push_back(event.clone());
        // Sent under the lock, so a listener that subscribed while reading the history
        // sees every event exactly once.
        let _ = self.sender.send(event);
    }

    /// The events `since` (to `until`) that pass `filters`: the past ones from the history,
    /// then new ones as they happen, until `until` passes (forever without `until`).
    pub fn stream(
        &self,
        since: Option<i64>,
        until: Option<i64>,
        filters: Filters,
    ) -> futures_util::stream::BoxStream<'static, Event> {
        let now = now_nano();
        let (past, receiver) = {
            let history = self.history.lock().unwrap_or_else(PoisonError::into_inner);
            let past: Vec<Event> = match since {
                Some(since) => history
                    .iter()
                    .filter(|e| e.time_nano >= since && until.is_none_or(|u| e.time_nano <= u))
                    .cloned()
                    .collect(),
                None => Vec::new(),
            };
            (past, self.sender.subscribe())
        };
        let past_filters = filters.clone();
        let past = futures_util::stream::iter(past)
            .filter(move |e| std::future::ready(e.matches(&past_filters)));
        if until.is_some_and(|until| until <= now) {
            return past.boxed();
        }
        let live = futures_util::stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(event) => return Some((event, receiver)),
                    Err(broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        })
        .filter(move |e| std::future::ready(e.matches(&filters)));
        let live = match until {
            Some(until) => {
                let wait = Duration::from_nanos(u64::try_from(until - now).unwrap_or(0));
                live.take_until(tokio::time::sleep(wait)).boxed()
            }
            None => live.boxed(),
        };
        past.chain(live).boxed()
    }
}

/// Nanoseconds since the epoch, now.
pub fn now_nano() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Parses a `since`/`until` value as the CLI sends it: Unix seconds with an optional
/// fraction (`1508198400.123456789`), into nanoseconds since the epoch.
///
/// # Errors
///
/// A 400 naming the parameter when the value is not such a number.
pub fn parse_time(name: &str, value: &str) -> Result<i64, ServerError> {
    let bad = || ServerError::bad_request(format!("invalid value for {name}: {value:?}"));
    let (seconds, fraction) = value.split_once('.').unwrap_or((value, ""));
    let seconds: i64 = seconds.parse().map_err(|_| bad())?;
    if fraction.len() > 9 || !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let nanos: i64 = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().map_err(|_| bad())?
    };
    seconds
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(nanos))
        .ok_or_else(bad)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &'static str, action: &str, actor: &str, attrs: &[(&str, &str)]) -> Event {
        Event {
            kind,
            action: action.to_owned(),
            actor: actor.to_owned(),
            attributes: attrs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            time_nano: 5,
        }
    }

    #[test]
    fn filters_match_dockers_keys_with_alternatives_per_key() {
        let die = event(
            "container",
            "die",
            "abcdef",
            &[("name", "web"), ("image", "busybox"), ("tier", "front")],
        );
        let f = |pairs: &[(&str, &str)]| {
            let mut filters = Filters::new();
            for (k, v) in pairs {
                filters.insert(*k, *v);
            }
            filters
        };
        assert!(die.matches(&Filters::new()));
        assert!(die.matches(&f(&[("type", "container"), ("event", "die")])));
        assert!(die.matches(&f(&[("event", "start"), ("event", "die")])));
        assert!(!die.matches(&f(&[("event", "start")])));
        assert!(die.matches(&f(&[("container", "web")])));
        assert!(die.matches(&f(&[("container", "abc")])));
        assert!(die.matches(&f(&[("image", "busybox")])));
        assert!(die.matches(&f(&[("label", "tier=front")])));
        assert!(!die.matches(&f(&[("label", "tier=back")])));
        assert!(!die.matches(&f(&[("type", "image")])));
        let exec = event("container", "exec_start: sh -c true", "abcdef", &[]);
        assert!(exec.matches(&f(&[("event", "exec_start")])));
        assert!(!exec.matches(&f(&[("event", "exec")])));
    }

    #[test]
    fn name_filters_match_a_prefix_of_any_events_actor_as_dockerd_does() {
        let f = |key: &str, value: &str| {
            let mut filters = Filters::new();
            filters.insert(key, value);
            filters
        };
        let volume = event("volume", "create", "web-data", &[("driver", "local")]);
        assert!(volume.matches(&f("container", "web")));
        assert!(volume.matches(&f("volume", "web")));
        assert!(!volume.matches(&f("container", "db")));
        let tag = event("image", "tag", "sha256:1234", &[("name", "web:1")]);
        assert!(tag.matches(&f("container", "web")));
        assert!(tag.matches(&f("image", "web:1")));
        assert!(tag.matches(&f("image", "web")));
        assert!(tag.matches(&f("image", "sha256:1234")));
        assert!(!tag.matches(&f("image", "we")));
        let start = event(
            "container",
            "start",
            "abcdef",
            &[("image", "busybox:latest")],
        );
        assert!(start.matches(&f("image", "busybox")));
        assert!(start.matches(&f("image", "busybox:latest")));
        assert!(!start.matches(&f("image", "busy")));
    }

    #[test]
    fn times_parse_as_seconds_with_an_optional_fraction() {
        assert_eq!(parse_time("since", "12").ok(), Some(12_000_000_000));
        assert_eq!(parse_time("since", "12.5").ok(), Some(12_500_000_000));
        assert_eq!(parse_time("since", "1.000000001").ok(), Some(1_000_000_001));
        assert!(parse_time("since", "yesterday").is_err());
        assert!(parse_time("since", "1.0000000001").is_err());
    }

    #[tokio::test]
    async fn a_listener_gets_past_events_since_a_time_then_new_ones() {
        let events = Events::default();
        events.publish("container", "create", "one", BTreeMap::new());
        let mut stream = events.stream(Some(0), None, Filters::new());
        events.publish("container", "start", "one", BTreeMap::new());
        let first = stream.next().await.map(|e| e.action);
        let second = stream.next().await.map(|e| e.action);
        assert_eq!(first.as_deref(), Some("create"));
        assert_eq!(second.as_deref(), Some("start"));
    }
}
