//! Reads Docker's Markdown API reference (`docker_remote_api_v1.NN.md`) into the facts
//! the derived-spec tests compare against: each documented `METHOD /path`, its query
//! parameters, and its example request and response bodies.
//!
//! The reference documents every endpoint the same way: a `#### Title` heading, a line
//! holding only `` `METHOD /path` `` (path parameters written as `(id or name)`), then
//! `**Example request**:` / `**Example response**:` code blocks (indented or fenced)
//! and a `**Query parameters**:` list of `- **name** – text` items.

use std::collections::BTreeSet;

/// HTTP methods the reference uses in endpoint lines.
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "DELETE", "HEAD"];

/// One parsed reference document.
#[derive(Debug, Clone)]
pub struct ReferenceDoc {
    /// Every endpoint, in document order.
    pub endpoints: Vec<DocumentedEndpoint>,
}

/// One `METHOD /path` section of the reference.
#[derive(Debug, Clone)]
pub struct DocumentedEndpoint {
    /// Upper-case HTTP method.
    pub method: String,
    /// Path as written in the doc, without any query string.
    pub path: String,
    /// Path with every parameter replaced by `{}`, comparable with [`path_template`].
    pub template: String,
    /// The `###` section the endpoint belongs to (e.g. `3.6 Plugins (experimental)`).
    pub section: String,
    /// 1-based line of the endpoint line.
    pub line: usize,
    /// Query parameters named in the `Query parameters` list or in an example request URL.
    pub query_params: BTreeSet<String>,
    /// Filter names the `filters` query parameter lists (see [`filter_names`]), when
    /// the endpoint documents one.
    pub filters: Option<BTreeSet<String>>,
    /// Example requests and responses, in document order.
    pub examples: Vec<Example>,
}

impl DocumentedEndpoint {
    /// `METHOD /path`, as the doc writes it.
    pub fn label(&self) -> String {
        format!("{} {}", self.method, self.path)
    }

    /// Whether the endpoint is documented in a section marked experimental.
    pub fn is_experimental(&self) -> bool {
        self.section.to_ascii_lowercase().contains("experimental")
    }
}

/// Whether an example shows a request or a response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExampleKind {
    /// An example request sent by the client.
    Request,
    /// An example response sent by the daemon.
    Response,
}

/// One example code block.
#[derive(Debug, Clone)]
pub struct Example {
    /// Request or response.
    pub kind: ExampleKind,
    /// 1-based line where the code block starts.
    pub line: usize,
    /// The request line or status line, if the block has one.
    pub start_line: Option<String>,
    /// The HTTP status of a response example (200 when the block has no status line).
    pub status: u16,
    /// The body: everything after the start line and headers, trimmed.
    pub body: String,
}

impl Example {
    /// Whether the body is meant as JSON: it opens with `{` or `[` and is not a
    /// Jekyll placeholder such as `{% raw %}`.
    pub fn looks_like_json(&self) -> bool {
        (self.body.starts_with('{') || self.body.starts_with('[')) && !self.body.starts_with("{%")
    }

    /// The body parsed as JSON: one value, or several for a JSON stream.
    pub fn json_values(&self) -> Result<Vec<serde_json::Value>, serde_json::Error> {
        serde_json::Deserializer::from_str(&self.body)
            .into_iter::<serde_json::Value>()
            .collect()
    }
}

/// Replaces every path parameter (`{id}`, `(id or name)`, `(name)`) by `{}`.
pub fn path_template(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut depth_close = None;
    for c in path.chars() {
        match (depth_close, c) {
            (None, '{') => depth_close = Some('}'),
            (None, '(') => depth_close = Some(')'),
            (Some(close), c) if c == close => {
                out.push_str("{}");
                depth_close = None;
            }
            (Some(_), _) => {}
            (None, c) => out.push(c),
        }
    }
    out
}

/// Parses the Markdown text of a reference document.
pub fn parse(text: &str) -> ReferenceDoc {
    let lines: Vec<&str> = text.lines().collect();
    let mut endpoints: Vec<DocumentedEndpoint> = Vec::new();
    let mut section = String::new();
    let mut in_endpoint = false;
    let mut in_query_list = false;
    let mut in_filters = false;
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        if let Some(title) = line.strip_prefix("### ") {
            section = title.trim().to_string();
            in_endpoint = false;
        } else if line.starts_with("#### ") {
            in_endpoint = false;
        } else if let Some((method, path)) = endpoint_line(line) {
            endpoints.push(DocumentedEndpoint {
                method: method.to_string(),
                template: path_template(path),
                path: path.to_string(),
                section: section.clone(),
                line: i + 1,
                query_params: query_of(line).collect(),
                filters: None,
                examples: Vec::new(),
            });
            in_endpoint = true;
            in_query_list = false;
            in_filters = false;
        } else if in_endpoint && let Some(endpoint) = endpoints.last_mut() {
            if let Some(kind) = example_heading(line) {
                let (example, next) = read_example(&lines, i + 1, kind);
                if let Some(start) = &example.start_line
                    && kind == ExampleKind::Request
                {
                    endpoint.query_params.extend(query_of(start));
                }
                endpoint.examples.push(example);
                i = next;
                continue;
            }
            if is_bold_heading(line) {
                in_query_list = line.to_ascii_lowercase().contains("query parameters");
            } else if in_query_list {
                if let Some(name) = list_item_name(line) {
                    in_filters = name == "filters";
                    if in_filters {
                        endpoint.filters = Some(filter_names(line));
                    }
                    endpoint.query_params.insert(name);
                } else if !line.trim().is_empty() && !line.starts_with([' ', '\t', '-']) {
                    // Any other paragraph at the left margin ends the list.
                    in_query_list = false;
                    in_filters = false;
                } else if in_filters && let Some(filters) = endpoint.filters.as_mut() {
                    filters.extend(filter_names(line));
                }
            }
        }
        i += 1;
    }
    ReferenceDoc { endpoints }
}

/// Names of the filters a `filters` description lists: the name opening each list
/// item (`` - `status=`(...) ``, `` - `before`=(...) ``) and each inline
/// `` `name=value` `` (`` There is one available filter: `dangling=true` ``).
/// Works on the Markdown reference and on the specs' descriptions alike.
pub fn filter_names(text: &str) -> BTreeSet<String> {
    let is_name = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let trimmed = line.trim_start();
        if let Some(item) = trimmed.strip_prefix(['-', '+', '*'])
            && let Some(code) = item.trim_start().strip_prefix('`')
        {
            let name: String = code.chars().take_while(|&c| is_name(c)).collect();
            if !name.is_empty() {
                names.insert(name);
            }
        }
        for code in line.split('`').skip(1).step_by(2) {
            if let Some((name, _)) = code.split_once('=')
                && !name.is_empty()
                && name.chars().all(is_name)
            {
                names.insert(name.to_string());
            }
        }
    }
    names
}

/// `` `GET /containers/(id or name)/json` `` → `("GET", "/containers/(id or name)/json")`;
/// a query string or a trailing ` HTTP/1.1` in the endpoint line is dropped.
fn endpoint_line(line: &str) -> Option<(&str, &str)> {
    let inner = line.trim().strip_prefix('`')?.strip_suffix('`')?;
    let (method, path) = inner.split_once(' ')?;
    if !METHODS.contains(&method) || !path.starts_with('/') {
        return None;
    }
    let path = path.split(" HTTP/").next().unwrap_or(path);
    let path = path.split('?').next().unwrap_or(path);
    Some((method, path))
}

/// Names of the query parameters in a request line or endpoint line
/// (`GET /v1.24/images/get?names=a&names=b HTTP/1.1` → `names`).
fn query_of(line: &str) -> impl Iterator<Item = String> + '_ {
    let target = line
        .trim()
        .trim_matches('`')
        .split_whitespace()
        .nth(1)
        .unwrap_or("");
    target
        .split_once('?')
        .map(|(_, query)| query)
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split('=').next())
        .filter(|name| !name.is_empty() && !name.contains(['<', '(']))
        .map(str::to_string)
}

/// `**Example request**:` or `**Example response, with digest information**:` (any
/// case, colon optional) → its kind.
fn example_heading(line: &str) -> Option<ExampleKind> {
    let lower = line.trim().to_ascii_lowercase();
    if !is_bold_heading(line) {
        None
    } else if lower.starts_with("**example request") {
        Some(ExampleKind::Request)
    } else if lower.starts_with("**example response") {
        Some(ExampleKind::Response)
    } else {
        None
    }
}

/// A paragraph that is only bold text, such as `**Status codes**:`.
fn is_bold_heading(line: &str) -> bool {
    let t = line.trim_end().trim_end_matches(':');
    t.starts_with("**") && t.ends_with("**") && t.len() > 4 && !line.starts_with(' ')
}

/// `-   **all** – text` at the left margin → `all`.
fn list_item_name(line: &str) -> Option<String> {
    let rest = line.strip_prefix('-')?.trim_start();
    let rest = rest.strip_prefix("**")?;
    let name = &rest[..rest.find("**")?];
    name.chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_')
        .then(|| name.to_string())
}

/// Reads the code block that follows an example heading (skipping blank lines):
/// fenced with ``` or indented. Returns the example and the index of the next line.
fn read_example(lines: &[&str], from: usize, kind: ExampleKind) -> (Example, usize) {
    let mut j = from;
    while j < lines.len() && lines[j].trim().is_empty() {
        j += 1;
    }
    let start = j;
    let mut block: Vec<String> = Vec::new();
    if j < lines.len() && lines[j].trim_start().starts_with("```") {
        j += 1;
        while j < lines.len() && !lines[j].trim_start().starts_with("```") {
            block.push(lines[j].to_string());
            j += 1;
        }
        j += 1;
    } else {
        while j < lines.len() && (lines[j].trim().is_empty() || lines[j].starts_with([' ', '\t'])) {
            block.push(expand_tabs(lines[j]));
            j += 1;
        }
    }
    let indent = block
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    let block: Vec<&str> = block
        .iter()
        .map(|l| l.get(indent..).unwrap_or(""))
        .skip_while(|l| l.trim().is_empty())
        .collect();
    let first = block.first().map(|l| l.trim()).unwrap_or("");
    let has_start =
        first.starts_with("HTTP/1.") || METHODS.iter().any(|m| first.starts_with(&format!("{m} ")));
    let (start_line, body_from) = if has_start {
        let headers_end = block
            .iter()
            .position(|l| l.trim().is_empty())
            .unwrap_or(block.len());
        (Some(first.to_string()), headers_end)
    } else {
        (None, 0)
    };
    let status = start_line
        .as_deref()
        .filter(|l| l.starts_with("HTTP/"))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or(200);
    let body = block[body_from.min(block.len())..]
        .join("\n")
        .trim()
        .to_string();
    (
        Example {
            kind,
            line: start + 1,
            start_line,
            status,
            body,
        },
        j,
    )
}

/// Tabs to spaces at 8-column stops, so tab- and space-indented lines dedent alike.
fn expand_tabs(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    for c in line.chars() {
        if c == '\t' {
            let pad = 8 - out.chars().count() % 8;
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "### 3.1 Containers\n\n#### List containers\n\n`GET /containers/(id or name)/top`\n\n**Example request**:\n\n    GET /v1.24/containers/x/top?ps_args=aux&extra=1 HTTP/1.1\n\n**Example response**:\n\n    HTTP/1.1 201 Created\n    Content-Type: application/json\n\n    {\"Titles\": []}\n\n**Query parameters**:\n\n-   **ps_args** – ps arguments\n  -   **nested** – not a parameter\n\nJSON parameters:\n\n- **Body** – not a query parameter\n\n### 3.6 Plugins (experimental)\n\n`GET /plugins`\n";

    #[test]
    fn parse_reads_endpoint_params_and_examples() {
        let doc = parse(SAMPLE);
        assert_eq!(doc.endpoints.len(), 2);
        let top = &doc.endpoints[0];
        assert_eq!(top.label(), "GET /containers/(id or name)/top");
        assert_eq!(top.template, "/containers/{}/top");
        let params: Vec<&str> = top.query_params.iter().map(String::as_str).collect();
        assert_eq!(params, ["extra", "ps_args"]);
        assert_eq!(top.examples.len(), 2);
        assert_eq!(top.examples[1].status, 201);
        assert_eq!(top.examples[1].body, "{\"Titles\": []}");
        assert!(!top.is_experimental());
        assert!(doc.endpoints[1].is_experimental());
    }

    #[test]
    fn filter_names_reads_list_items_and_inline_code() {
        let text = "filters. There is one: `dangling=true`\n  -   `status=`(`a`|`b`)\n  -   `before`=(`<id>`)\n- `label=key` or `label=\"k=v\"`";
        let names: Vec<String> = filter_names(text).into_iter().collect();
        assert_eq!(names, ["before", "dangling", "label", "status"]);
    }

    #[test]
    fn path_template_erases_both_parameter_spellings() {
        assert_eq!(path_template("/exec/(id)/json"), "/exec/{}/json");
        assert_eq!(path_template("/exec/{id}/json"), "/exec/{}/json");
    }
}
