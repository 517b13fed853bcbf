//! Which volumes `docker volume ls` and `docker volume prune` keep, by Docker's filter rules.

use std::collections::BTreeMap;

use super::Volume;

/// The filters of `docker volume ls`; an empty filter keeps every volume.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VolumeFilter {
    /// `name`: a volume is kept when its name equals one of these or one of them, as a Go
    /// regular expression, matches in it.
    pub names: Vec<String>,
    /// `driver`: a volume is kept when its driver is one of these.
    pub drivers: Vec<String>,
    /// `label`: `key` or `key=value`; a volume is kept when it has every one.
    pub labels: Vec<String>,
    /// `dangling`: `true` keeps the volumes no container references, `false` the others.
    pub dangling: Option<bool>,
}

impl VolumeFilter {
    /// Whether `volume` passes every filter.
    pub fn matches(&self, volume: &Volume) -> bool {
        let name_matches = self.names.is_empty()
            || self.names.iter().any(|pattern| {
                pattern == &volume.name
                    || regex::Regex::new(pattern).is_ok_and(|re| re.is_match(&volume.name))
            });
        let driver_matches =
            self.drivers.is_empty() || self.drivers.iter().any(|d| d == &volume.driver);
        let dangling_matches = self
            .dangling
            .is_none_or(|dangling| dangling == volume.users.is_empty());
        name_matches
            && driver_matches
            && dangling_matches
            && labels_match(&self.labels, volume.labels.as_ref())
    }
}

/// The filters of `docker volume prune` (which prunes only unused volumes anyway).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneFilter {
    /// `label`: `key` or `key=value`; a volume is pruned only when it has every one.
    pub labels: Vec<String>,
    /// `label!`: a volume is spared when it has every one of these (Docker's rule: all of
    /// them, not any).
    pub not_labels: Vec<String>,
}

impl PruneFilter {
    /// Whether `volume` passes the label filters.
    pub fn matches(&self, volume: &Volume) -> bool {
        labels_match(&self.labels, volume.labels.as_ref())
            && (self.not_labels.is_empty()
                || !labels_match(&self.not_labels, volume.labels.as_ref()))
    }
}

/// Docker's `MatchKVList`: no filter keeps everything; otherwise the labels hold every `key`
/// (any value) and every `key=value`.
fn labels_match(filters: &[String], labels: Option<&BTreeMap<String, String>>) -> bool {
    if filters.is_empty() {
        return true;
    }
    let Some(labels) = labels.filter(|labels| !labels.is_empty()) else {
        return false;
    };
    filters.iter().all(|filter| match filter.split_once('=') {
        Some((key, value)) => labels.get(key).is_some_and(|have| have == value),
        None => labels.contains_key(filter),
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::{PruneFilter, VolumeFilter};
    use crate::timestamp::Timestamp;
    use crate::volumes::Volume;

    fn volume(name: &str, labels: &[(&str, &str)], users: &[&str]) -> Volume {
        Volume {
            name: name.to_owned(),
            driver: "local".to_owned(),
            mountpoint: PathBuf::from("/x"),
            created_at: Timestamp::UNIX_EPOCH,
            labels: (!labels.is_empty()).then(|| {
                labels
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                    .collect::<BTreeMap<_, _>>()
            }),
            options: None,
            users: users.iter().map(|u| (*u).to_owned()).collect(),
        }
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn name_filters_are_regular_expressions_and_other_filters_are_exact() {
        let web = volume("web-data", &[("app", "web"), ("tier", "front")], &["c1"]);
        let cache = volume("cache", &[], &[]);
        let by_name = VolumeFilter {
            names: strings(&["^web"]),
            ..VolumeFilter::default()
        };
        assert!(by_name.matches(&web));
        assert!(!by_name.matches(&cache));
        let substring = VolumeFilter {
            names: strings(&["ach"]),
            ..VolumeFilter::default()
        };
        assert!(substring.matches(&cache));
        let broken_pattern = VolumeFilter {
            names: strings(&["(", "cache"]),
            ..VolumeFilter::default()
        };
        assert!(broken_pattern.matches(&cache));
        assert!(!broken_pattern.matches(&web));
        let driver = VolumeFilter {
            drivers: strings(&["loc"]),
            ..VolumeFilter::default()
        };
        assert!(!driver.matches(&cache));
        let labels = VolumeFilter {
            labels: strings(&["app=web", "tier"]),
            ..VolumeFilter::default()
        };
        assert!(labels.matches(&web));
        assert!(!labels.matches(&cache));
        let wrong_value = VolumeFilter {
            labels: strings(&["app=db"]),
            ..VolumeFilter::default()
        };
        assert!(!wrong_value.matches(&web));
        let dangling = VolumeFilter {
            dangling: Some(true),
            ..VolumeFilter::default()
        };
        assert!(dangling.matches(&cache));
        assert!(!dangling.matches(&web));
    }

    #[test]
    fn prune_spares_a_volume_only_when_it_has_every_negated_label() {
        let both = volume("both", &[("a", ""), ("b", "")], &[]);
        let only_a = volume("only-a", &[("a", "")], &[]);
        let spare_a_and_b = PruneFilter {
            not_labels: strings(&["a", "b"]),
            ..PruneFilter::default()
        };
        assert!(!spare_a_and_b.matches(&both));
        assert!(spare_a_and_b.matches(&only_a));
    }
}
