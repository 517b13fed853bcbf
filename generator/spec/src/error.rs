//! The one error type of the spec pipeline: every variant names the file and,
//! where it applies, the line and column or the JSON pointer of the problem.

use std::path::PathBuf;

/// Something wrong with a spec, an overlay, the manifest or the files behind them.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The text is not valid YAML or JSON.
    #[error("{file}:{line}:{column}: {message}")]
    Syntax {
        /// The file (or label of the document).
        file: String,
        /// 1-based line, 0 when unknown.
        line: usize,
        /// 1-based column, 0 when unknown.
        column: usize,
        /// What the parser said.
        message: String,
    },
    /// The document is well-formed but something in it is wrong.
    #[error("{file}#{pointer}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// JSON pointer of the offending node (`/paths/~1containers~1json/get`).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A `$ref` that points nowhere.
    #[error("{file}#{pointer}: unresolved $ref `{reference}`")]
    UnresolvedRef {
        /// The file.
        file: String,
        /// Where the `$ref` stands.
        pointer: String,
        /// The reference text.
        reference: String,
    },
    /// A construct drydock does not handle.
    #[error("{file}#{pointer}: unsupported: {construct}")]
    Unsupported {
        /// The file.
        file: String,
        /// Where it stands.
        pointer: String,
        /// What it is.
        construct: String,
    },
    /// An overlay action could not be applied (its target selects nothing, or
    /// its update does not fit the selected node).
    #[error("{file}: action {index} (target `{target}`): {message}")]
    Overlay {
        /// The overlay file.
        file: String,
        /// 0-based index of the action, as in the JSON pointer `/actions/N`.
        index: usize,
        /// The action's JSONPath target.
        target: String,
        /// What went wrong.
        message: String,
    },
    /// An upstream spec is missing or does not match its pinned checksum.
    #[error("{file}: {message}")]
    Source {
        /// The file.
        file: String,
        /// What is wrong and what to do about it.
        message: String,
    },
}

/// Result of the spec pipeline.
pub type Result<T, E = SpecError> = std::result::Result<T, E>;

impl SpecError {
    /// A [`SpecError::Syntax`] from a `serde_yaml` error about `file`, with its
    /// 1-based line and column when the parser knows them.
    pub fn from_yaml(file: &str, error: &serde_yaml::Error) -> SpecError {
        let (line, column) = error
            .location()
            .map_or((0, 0), |at| (at.line(), at.column()));
        SpecError::Syntax {
            file: file.to_owned(),
            line,
            column,
            message: error.to_string(),
        }
    }
}

/// The JSON type of `value` with its article (`an object`, `null`), for messages.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Escapes one JSON-pointer token (`/` → `~1`, `~` → `~0`).
pub fn pointer_token(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Joins tokens into a JSON pointer (`["paths", "/a"]` → `/paths/~1a`).
pub fn pointer<I, S>(tokens: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    tokens
        .into_iter()
        .map(|t| format!("/{}", pointer_token(t.as_ref())))
        .collect()
}
