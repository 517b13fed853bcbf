//! The route table and its matcher.
//!
//! Image, plugin and distribution names contain `/` (`reg:5000/a/b:tag`), so
//! `/images/{name}/json` must match a name of several segments, as moby's
//! `{name:.*}` does. A [`Route`] marks such a parameter as *greedy*: it takes
//! one or more whole segments, as many as leave the rest of the template to
//! match the end of the path. Among the routes that match, the one with the
//! most literal segments wins (`/images/json` over `/images/{name}/json`'s
//! `{name}` = ``), so the order of the table does not matter.

use percent_encoding::percent_decode_str;

use crate::version::ApiVersion;

/// One operation's route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Route {
    /// The operation id (`ContainerList`).
    pub operation: &'static str,
    /// The HTTP method, upper case.
    pub method: &'static str,
    /// The path template (`/containers/{id}/json`).
    pub template: &'static str,
    /// The parameter that matches several segments, if any.
    pub greedy: Option<&'static str>,
    /// Inclusive spans of the versions that have the operation.
    pub versions: &'static [(ApiVersion, ApiVersion)],
    /// The operation may take over the connection (attach, exec start).
    pub hijack: bool,
}

impl Route {
    /// Whether the operation exists in `version`.
    pub fn exists_in(&self, version: ApiVersion) -> bool {
        self.versions
            .iter()
            .any(|(since, until)| (*since..=*until).contains(&version))
    }

    /// The path parameters, by template name, if `path` (without the version
    /// prefix) matches the template. Values are percent-decoded.
    pub fn match_path(&self, path: &str) -> Option<PathParams> {
        let template: Vec<&str> = self.template.split('/').collect();
        let segments: Vec<&str> = path.split('/').collect();
        let mut params = PathParams::default();
        let greedy_at = template
            .iter()
            .position(|t| param_name(t).is_some_and(|n| Some(n) == self.greedy));
        let (head, tail) = match greedy_at {
            Some(at) => {
                let after = template.len() - at - 1;
                if segments.len() < at + 1 + after {
                    return None;
                }
                let taken = &segments[at..segments.len() - after];
                let value = taken.join("/");
                if value.is_empty() {
                    return None;
                }
                params.push(self.greedy?, decode(&value)?);
                (
                    (&template[..at], &segments[..at]),
                    Some((&template[at + 1..], &segments[segments.len() - after..])),
                )
            }
            None => {
                if segments.len() != template.len() {
                    return None;
                }
                ((&template[..], &segments[..]), None)
            }
        };
        for (templates, segments) in std::iter::once(head).chain(tail) {
            for (t, s) in templates.iter().zip(segments.iter()) {
                match param_name(t) {
                    Some(name) => {
                        if s.is_empty() {
                            return None;
                        }
                        params.push(name, decode(s)?);
                    }
                    None if t == s => {}
                    None => return None,
                }
            }
        }
        Some(params)
    }

    /// How many literal segments the template has (more wins a tie).
    fn literal_segments(&self) -> usize {
        self.template
            .split('/')
            .filter(|t| !t.is_empty() && param_name(t).is_none())
            .count()
    }
}

/// The name of a `{param}` template segment.
fn param_name(segment: &str) -> Option<&str> {
    segment.strip_prefix('{')?.strip_suffix('}')
}

fn decode(text: &str) -> Option<String> {
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|s| s.into_owned())
}

/// The path parameters of a matched route.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PathParams(Vec<(String, String)>);

impl PathParams {
    fn push(&mut self, name: &str, value: String) {
        self.0.push((name.to_owned(), value));
    }

    /// The value of parameter `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// What the table holds for a method and path.
#[derive(Debug, PartialEq, Eq)]
pub enum RouteMatch {
    /// The route (by index in the table) and its path parameters.
    Found(usize, PathParams),
    /// No route has this method and path.
    NotFound,
}

/// Finds the route for `method` and `path` (without the version prefix).
pub fn find_route(routes: &[Route], method: &str, path: &str) -> RouteMatch {
    let mut best: Option<(usize, PathParams, usize)> = None;
    for (index, route) in routes.iter().enumerate() {
        if !route.method.eq_ignore_ascii_case(method) {
            continue;
        }
        if let Some(params) = route.match_path(path) {
            let score = route.literal_segments();
            if best.as_ref().is_none_or(|(_, _, s)| score > *s) {
                best = Some((index, params, score));
            }
        }
    }
    match best {
        Some((index, params, _)) => RouteMatch::Found(index, params),
        None => RouteMatch::NotFound,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: &[(ApiVersion, ApiVersion)] = &[(ApiVersion::new(1, 23), ApiVersion::new(1, 33))];

    fn route(operation: &'static str, method: &'static str, template: &'static str) -> Route {
        Route {
            operation,
            method,
            template,
            greedy: template.starts_with("/images/").then_some("name"),
            versions: ALL,
            hijack: false,
        }
    }

    fn table() -> Vec<Route> {
        vec![
            route("ImageList", "GET", "/images/json"),
            route("ImageInspect", "GET", "/images/{name}/json"),
            route("ImageTag", "POST", "/images/{name}/tag"),
            route("ImageDelete", "DELETE", "/images/{name}"),
            route("ContainerInspect", "GET", "/containers/{id}/json"),
        ]
    }

    fn found(method: &str, path: &str) -> Option<(&'static str, PathParams)> {
        let routes = table();
        match find_route(&routes, method, path) {
            RouteMatch::Found(i, params) => Some((routes[i].operation, params)),
            RouteMatch::NotFound => None,
        }
    }

    #[test]
    fn image_names_with_slashes_match_greedy_parameters() {
        let (op, params) = found("GET", "/images/reg:5000/a/b:tag/json").expect("matches");
        assert_eq!(op, "ImageInspect");
        assert_eq!(params.get("name"), Some("reg:5000/a/b:tag"));
        let (op, params) = found("DELETE", "/images/reg:5000/a/b").expect("matches");
        assert_eq!(op, "ImageDelete");
        assert_eq!(params.get("name"), Some("reg:5000/a/b"));
        let (_, params) = found("GET", "/images/a/json/json").expect("matches");
        assert_eq!(params.get("name"), Some("a/json"));
    }

    #[test]
    fn literal_routes_win_over_parameters() {
        assert_eq!(found("GET", "/images/json").map(|f| f.0), Some("ImageList"));
    }

    #[test]
    fn plain_parameters_match_one_segment_and_are_percent_decoded() {
        let (_, params) = found("GET", "/containers/a%20b/json").expect("matches");
        assert_eq!(params.get("id"), Some("a b"));
        assert_eq!(found("GET", "/containers/a/b/json"), None);
        assert_eq!(found("GET", "/containers//json"), None);
        assert_eq!(found("POST", "/containers/a/json"), None);
        assert_eq!(found("GET", "/images//json"), None);
    }

    #[test]
    fn routes_know_their_versions() {
        const SINCE_1_25: &[(ApiVersion, ApiVersion)] =
            &[(ApiVersion::new(1, 25), ApiVersion::new(1, 33))];
        let route = Route {
            versions: SINCE_1_25,
            ..route("x", "GET", "/x")
        };
        assert!(!route.exists_in(ApiVersion::new(1, 24)));
        assert!(route.exists_in(ApiVersion::new(1, 25)));
    }
}
