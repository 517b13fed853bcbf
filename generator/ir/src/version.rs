//! API versions and the sets of versions in which an item exists.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An API version label such as `1.25` (Docker) or `2.1.0` (any other API).
///
/// Ordering is numeric-aware: dotted segments that are numbers compare as
/// numbers (`1.9 < 1.10`), other segments compare as text. The sort key is
/// computed once, and clones share it, so comparing and cloning are cheap.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct ApiVersion(Arc<VersionKey>);

#[derive(PartialEq, Eq, Hash)]
struct VersionKey {
    label: String,
    segments: Vec<Segment>,
}

#[derive(PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Segment {
    Number(u64),
    Text(String),
}

impl ApiVersion {
    /// Builds a version from its label. Leading and trailing white space is trimmed.
    pub fn new(label: impl Into<String>) -> Self {
        let label = label.into().trim().to_string();
        let segments = label
            .split(['.', '-'])
            .map(|s| match s.parse::<u64>() {
                Ok(n) => Segment::Number(n),
                Err(_) => Segment::Text(s.to_string()),
            })
            .collect();
        ApiVersion(Arc::new(VersionKey { label, segments }))
    }

    /// The label as written (`1.25`).
    pub fn as_str(&self) -> &str {
        &self.0.label
    }

    /// Major and minor numbers when the label has the form `M.N`, as Docker's do.
    pub fn major_minor(&self) -> Option<(u32, u32)> {
        let (major, minor) = self.0.label.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    }
}

impl Ord for ApiVersion {
    fn cmp(&self, other: &Self) -> Ordering {
        if Arc::ptr_eq(&self.0, &other.0) {
            return Ordering::Equal;
        }
        self.0
            .segments
            .cmp(&other.0.segments)
            .then_with(|| self.0.label.cmp(&other.0.label))
    }
}

impl PartialOrd for ApiVersion {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for ApiVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "v{}", self.as_str())
    }
}

impl FromStr for ApiVersion {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(ApiVersion::new(s.trim_start_matches('v')))
    }
}

impl From<&str> for ApiVersion {
    fn from(s: &str) -> Self {
        ApiVersion::new(s)
    }
}

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(ApiVersion::new(String::deserialize(d)?))
    }
}

/// An inclusive range of versions, `since ..= until`.
///
/// A range is meaningful relative to the ordered list of versions of an
/// [`crate::Api`]: it holds every listed version between its ends.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Debug)]
pub struct VersionRange {
    /// First version that has the item.
    pub since: ApiVersion,
    /// Last version that has the item.
    pub until: ApiVersion,
}

impl VersionRange {
    /// Whether `v` lies within the range.
    pub fn contains(&self, v: &ApiVersion) -> bool {
        &self.since <= v && v <= &self.until
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.since == self.until {
            write!(f, "{}", self.since)
        } else {
            write!(f, "{}..={}", self.since, self.until)
        }
    }
}

/// The set of versions in which an item exists, kept as sorted, disjoint
/// inclusive ranges of *listed* versions.
///
/// Serialised as a list of strings: `["1.25..=1.33"]`, or `["1.23", "1.30..=1.33"]`
/// for an item that was removed and came back.
#[derive(Clone, PartialEq, Eq, Hash, Default, Debug)]
pub struct VersionSet {
    ranges: Vec<VersionRange>,
}

impl VersionSet {
    /// The empty set.
    pub fn empty() -> Self {
        VersionSet::default()
    }

    /// The set holding exactly one version.
    pub fn single(v: ApiVersion) -> Self {
        VersionSet {
            ranges: vec![VersionRange {
                since: v.clone(),
                until: v,
            }],
        }
    }

    /// Builds a set from the versions in which an item is present, given the
    /// ordered list of all versions: consecutive listed versions join into one range.
    pub fn from_presence(all: &[ApiVersion], present: impl Fn(&ApiVersion) -> bool) -> Self {
        let mut set = VersionSet::empty();
        let mut open: Option<VersionRange> = None;
        for v in all {
            if present(v) {
                match &mut open {
                    Some(r) => r.until = v.clone(),
                    None => {
                        open = Some(VersionRange {
                            since: v.clone(),
                            until: v.clone(),
                        })
                    }
                }
            } else if let Some(r) = open.take() {
                set.ranges.push(r);
            }
        }
        set.ranges.extend(open);
        set
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.ranges.is_empty()
    }

    /// Whether `v` is in the set.
    pub fn contains(&self, v: &ApiVersion) -> bool {
        self.ranges.iter().any(|r| r.contains(v))
    }

    /// The ranges, in order.
    pub fn ranges(&self) -> &[VersionRange] {
        &self.ranges
    }

    /// First version of the set.
    pub fn since(&self) -> Option<&ApiVersion> {
        self.ranges.first().map(|r| &r.since)
    }

    /// Last version of the set.
    pub fn until(&self) -> Option<&ApiVersion> {
        self.ranges.last().map(|r| &r.until)
    }

    /// The listed versions (from `all`) that the set holds.
    pub fn members<'a>(&'a self, all: &'a [ApiVersion]) -> impl Iterator<Item = &'a ApiVersion> {
        all.iter().filter(|v| self.contains(v))
    }

    /// Whether the set holds every version of `all`.
    pub fn covers(&self, all: &[ApiVersion]) -> bool {
        all.iter().all(|v| self.contains(v))
    }

    /// The union of two sets, relative to the ordered list `all`.
    pub fn union(&self, other: &VersionSet, all: &[ApiVersion]) -> VersionSet {
        VersionSet::from_presence(all, |v| self.contains(v) || other.contains(v))
    }

    /// The intersection of two sets, relative to the ordered list `all`.
    pub fn intersection(&self, other: &VersionSet, all: &[ApiVersion]) -> VersionSet {
        VersionSet::from_presence(all, |v| self.contains(v) && other.contains(v))
    }

    /// A short human phrase: `since 1.25`, `1.23 to 1.29`, `1.25 only`.
    pub fn describe(&self, all: &[ApiVersion]) -> String {
        let last = all.last();
        let parts: Vec<String> = self
            .ranges
            .iter()
            .map(|r| {
                if r.since == r.until {
                    format!("{} only", r.since)
                } else if Some(&r.until) == last {
                    format!("since {}", r.since)
                } else {
                    format!("{} to {}", r.since, r.until)
                }
            })
            .collect();
        parts.join(", ")
    }
}

impl fmt::Display for VersionSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.ranges.iter().map(ToString::to_string).collect();
        f.write_str(&parts.join(", "))
    }
}

impl Serialize for VersionSet {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.ranges.iter().map(ToString::to_string))
    }
}

impl<'de> Deserialize<'de> for VersionSet {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let items = Vec::<String>::deserialize(d)?;
        let ranges = items
            .iter()
            .map(|item| match item.split_once("..=") {
                Some((a, b)) => VersionRange {
                    since: ApiVersion::new(a),
                    until: ApiVersion::new(b),
                },
                None => VersionRange {
                    since: ApiVersion::new(item.as_str()),
                    until: ApiVersion::new(item.as_str()),
                },
            })
            .collect();
        Ok(VersionSet { ranges })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(labels: &[&str]) -> Vec<ApiVersion> {
        labels.iter().map(|l| ApiVersion::new(*l)).collect()
    }

    #[test]
    fn versions_order_numerically_not_lexically() {
        assert!(ApiVersion::new("1.9") < ApiVersion::new("1.10"));
        assert!(ApiVersion::new("1.23") < ApiVersion::new("1.33"));
        assert!(ApiVersion::new("2.0.0") > ApiVersion::new("1.99"));
        assert_eq!(ApiVersion::new("1.33").major_minor(), Some((1, 33)));
    }

    #[test]
    fn presence_joins_consecutive_versions_into_ranges() {
        let all = versions(&["1.23", "1.24", "1.25", "1.26", "1.27"]);
        let set = VersionSet::from_presence(&all, |v| v.as_str() != "1.25");
        assert_eq!(set.to_string(), "1.23..=1.24, 1.26..=1.27");
        assert!(set.contains(&ApiVersion::new("1.24")));
        assert!(!set.contains(&ApiVersion::new("1.25")));
        assert_eq!(set.describe(&all), "1.23 to 1.24, since 1.26");
    }

    #[test]
    fn version_set_round_trips_through_json() {
        let all = versions(&["1.23", "1.24", "1.25"]);
        let set = VersionSet::from_presence(&all, |v| v.as_str() != "1.24");
        let json = serde_json::to_string(&set).unwrap();
        assert_eq!(json, r#"["1.23","1.25"]"#);
        let back: VersionSet = serde_json::from_str(&json).unwrap();
        assert_eq!(back, set);
    }

    #[test]
    fn union_and_intersection_follow_the_version_list() {
        let all = versions(&["1.23", "1.24", "1.25"]);
        let a = VersionSet::single(ApiVersion::new("1.23"));
        let b = VersionSet::single(ApiVersion::new("1.24"));
        assert_eq!(a.union(&b, &all).to_string(), "1.23..=1.24");
        assert!(a.intersection(&b, &all).is_empty());
    }
}
