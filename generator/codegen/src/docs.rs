//! Rustdoc text for generated items: spec descriptions made safe for rustdoc
//! and clippy, and the notes that say in which API versions an item exists.

use drydock_ir::{ApiVersion, Scalar, TypeRef, VersionSet};
use proc_macro2::TokenStream;
use quote::quote;

/// "Since API 1.25.", "API 1.23 to 1.29.", "API 1.25 only.", or `None` when
/// `set` holds every version of `scope` (the versions of the enclosing item).
pub(crate) fn version_note(
    set: &VersionSet,
    scope: &[ApiVersion],
    all: &[ApiVersion],
) -> Option<String> {
    if set.covers(scope) {
        return None;
    }
    let described = set.describe(all);
    Some(match described.strip_prefix("since ") {
        Some(rest) => format!("Since API {rest}."),
        None => format!("API {described}."),
    })
}

/// How a type reference reads in a note (`int32`, `array of Mount`).
pub(crate) fn describe_type_ref(ty: &TypeRef) -> String {
    match ty {
        TypeRef::Named { name } => format!("`{name}`"),
        TypeRef::Scalar { scalar } => format!("`{}`", scalar_label(*scalar)),
        TypeRef::Array { items } => format!("array of {}", describe_type_ref(items)),
        TypeRef::Map { values } => format!("map of {}", describe_type_ref(values)),
        TypeRef::Any => "any value".to_string(),
    }
}

/// The spec's spelling of a scalar (`type` and `format`).
pub(crate) fn scalar_label(scalar: Scalar) -> &'static str {
    match scalar {
        Scalar::String => "string",
        Scalar::Boolean => "boolean",
        Scalar::I8 => "int8",
        Scalar::I16 => "int16",
        Scalar::I32 => "int32",
        Scalar::I64 => "int64",
        Scalar::U8 => "uint8",
        Scalar::U16 => "uint16",
        Scalar::U32 => "uint32",
        Scalar::U64 => "uint64",
        Scalar::F32 => "float",
        Scalar::F64 => "double",
        Scalar::DateTime => "date-time",
        Scalar::Date => "date",
        Scalar::Uuid => "uuid",
        Scalar::Base64 => "byte",
        Scalar::Binary => "binary",
    }
}

/// A spec text as rustdoc lines ([`description_lines`]), with `<` outside
/// code written `&lt;`: Docker's descriptions write placeholders such as
/// `label=<string>`, which rustdoc would read as unclosed HTML tags.
pub(crate) fn rustdoc_lines(text: &str) -> Vec<String> {
    let mut in_fence = false;
    description_lines(text)
        .into_iter()
        .map(|line| {
            if line.trim_start().starts_with("```") {
                in_fence = !in_fence;
                return line;
            }
            if in_fence {
                return line;
            }
            let mut out = String::with_capacity(line.len());
            let mut in_code = false;
            for c in line.chars() {
                match c {
                    '`' => {
                        in_code = !in_code;
                        out.push(c);
                    }
                    '<' if !in_code => out.push_str("&lt;"),
                    _ => out.push(c),
                }
            }
            out
        })
        .collect()
}

/// A spec description as rustdoc lines.
///
/// Markdown stays Markdown, with what rustdoc or clippy would trip over
/// rewritten: tabs become spaces, code fences without a language become
/// `text` fences (rustdoc would compile them as doctests), indented code
/// blocks become `text` fences, list continuation lines are indented to their
/// item, and runs of blank lines collapse to one.
pub(crate) fn description_lines(description: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut in_fence = false;
    let mut in_indented_code = false;
    // Column at which the current list item's text starts.
    let mut item_indent: Option<usize> = None;
    for raw in description
        .replace('\t', "    ")
        .replace("\r\n", "\n")
        .lines()
    {
        let line = raw.trim_end();
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        if in_fence {
            if trimmed.starts_with("```") {
                in_fence = false;
                out.push("```".to_string());
            } else {
                out.push(line.to_string());
            }
            continue;
        }
        if in_indented_code {
            if trimmed.is_empty() || indent >= 4 {
                out.push(line.get(4..).unwrap_or("").to_string());
                continue;
            }
            trim_trailing_blanks(&mut out);
            out.push("```".to_string());
            out.push(String::new());
            in_indented_code = false;
        }
        if let Some(lang) = trimmed.strip_prefix("```") {
            let lang = lang.trim();
            let lang = if lang.is_empty() || lang == "rust" {
                "text"
            } else {
                lang
            };
            out.push(format!(
                "{}```{lang}",
                " ".repeat(indent.min(item_indent.unwrap_or(0)))
            ));
            in_fence = true;
            continue;
        }
        if trimmed.is_empty() {
            item_indent = None;
            if !out.last().is_none_or(String::is_empty) {
                out.push(String::new());
            }
            continue;
        }
        if let Some(content) = list_item_content(trimmed) {
            item_indent = Some(indent + content);
            out.push(line.to_string());
            continue;
        }
        match item_indent {
            Some(column) => out.push(format!("{}{trimmed}", " ".repeat(column))),
            None if indent >= 4 && out.last().is_none_or(String::is_empty) => {
                in_indented_code = true;
                out.push("```text".to_string());
                out.push(line.get(4..).unwrap_or("").to_string());
            }
            None => out.push(trimmed.to_string()),
        }
    }
    if in_fence || in_indented_code {
        trim_trailing_blanks(&mut out);
        out.push("```".to_string());
    }
    trim_trailing_blanks(&mut out);
    out
}

/// A sentence saying where a type without a description comes from, made from
/// its JSON pointer in the spec: `The request body of `POST /configs/create`.`
pub(crate) fn origin_phrase(name: &str, origin: &str) -> String {
    let segments: Vec<String> = origin
        .trim_start_matches('#')
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace("~1", "/").replace("~0", "~"))
        .collect();
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    // The part below the schema: properties, items, additionalProperties.
    let inner = |rest: &[&str]| -> (String, &'static str) {
        let mut path = Vec::new();
        let mut role = "";
        let mut i = 0;
        while i < rest.len() {
            match rest[i] {
                "properties" if i + 1 < rest.len() => {
                    path.push(rest[i + 1].to_string());
                    role = "";
                    i += 2;
                }
                "items" => {
                    role = "An element of ";
                    i += 1;
                }
                "additionalProperties" => {
                    role = "A value of ";
                    i += 1;
                }
                _ => i += 1,
            }
        }
        (path.join("."), role)
    };
    match segments.as_slice() {
        ["components", "schemas", schema, rest @ ..] | ["definitions", schema, rest @ ..] => {
            let (path, role) = inner(rest);
            match (path.is_empty(), role.is_empty()) {
                (true, true) => format!("The `{schema}` schema of the API."),
                (true, false) => format!("{role}`{schema}`."),
                (false, true) => format!("The `{path}` field of `{schema}`."),
                (false, false) => format!("{role}the `{path}` field of `{schema}`."),
            }
        }
        ["paths", path, method, "requestBody", rest @ ..]
        | ["paths", path, method, "parameters", _, rest @ ..] => {
            let (field, role) = inner(rest);
            let place = format!("the request body of `{} {path}`", method.to_uppercase());
            phrase_below(&field, role, &place)
        }
        ["paths", path, method, "responses", status, rest @ ..] => {
            let (field, role) = inner(rest);
            let place = format!(
                "the body of a `{status}` response to `{} {path}`",
                method.to_uppercase()
            );
            phrase_below(&field, role, &place)
        }
        _ => format!("The `{name}` type (`{origin}` in the spec)."),
    }
}

fn phrase_below(field: &str, role: &str, place: &str) -> String {
    let subject = if field.is_empty() {
        place.to_string()
    } else {
        format!("the `{field}` field of {place}")
    };
    if role.is_empty() {
        let mut chars = subject.chars();
        chars.next().map_or_else(String::new, |c| {
            format!("{}{}.", c.to_ascii_uppercase(), chars.as_str())
        })
    } else {
        format!("{role}{subject}.")
    }
}

/// Breaks a generated sentence into lines of at most 90 characters (a longer word stays whole).
pub(crate) fn wrap(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.len() + 1 + word.len() > 90 {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// An example value as a rustdoc section (a `json` block, which rustdoc does not compile).
pub(crate) fn example_lines(example: &serde_json::Value) -> Vec<String> {
    let text = serde_json::to_string_pretty(example).unwrap_or_else(|_| example.to_string());
    let mut lines = vec![
        "# Example".to_string(),
        String::new(),
        "```json".to_string(),
    ];
    lines.extend(text.lines().map(str::to_string));
    lines.push("```".to_string());
    lines
}

/// The lines of a description, or the one `fallback` line when there is none:
/// every generated item has documentation.
pub(crate) fn described(
    description: Option<&str>,
    fallback: impl FnOnce() -> String,
) -> Vec<String> {
    description
        .map(description_lines)
        .filter(|lines| !lines.is_empty())
        .unwrap_or_else(|| vec![fallback()])
}

fn trim_trailing_blanks(lines: &mut Vec<String>) {
    while lines.last().is_some_and(String::is_empty) {
        lines.pop();
    }
}

/// Where the text of a list item starts after its marker (`- `, `* `, `1. `), if `line` is one.
fn list_item_content(line: &str) -> Option<usize> {
    if line.starts_with("- ") || line.starts_with("* ") || line.starts_with("+ ") {
        return Some(2);
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && (line[digits..].starts_with(". ") || line[digits..].starts_with(") ")) {
        return Some(digits + 2);
    }
    None
}

/// Builds the doc of an item from paragraphs (each possibly several lines).
pub(crate) fn doc_attrs(paragraphs: &[Vec<String>]) -> TokenStream {
    let mut lines: Vec<String> = Vec::new();
    for paragraph in paragraphs.iter().filter(|p| !p.is_empty()) {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(paragraph.iter().cloned());
    }
    let attrs = lines.iter().map(|line| {
        let text = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#[doc = #text])
    });
    quote!(#(#attrs)*)
}

/// Builds an inner (`//!`) doc from lines.
pub(crate) fn inner_doc_attrs(lines: &[&str]) -> TokenStream {
    let attrs = lines.iter().map(|line| {
        let text = if line.is_empty() {
            String::new()
        } else {
            format!(" {line}")
        };
        quote!(#![doc = #text])
    });
    quote!(#(#attrs)*)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn versions(labels: &[&str]) -> Vec<ApiVersion> {
        labels.iter().map(|l| ApiVersion::new(*l)).collect()
    }

    #[test]
    fn version_notes_name_the_span_unless_it_covers_the_scope() {
        let all = versions(&["1.23", "1.24", "1.25", "1.26"]);
        let since = VersionSet::from_presence(&all, |v| v >= &ApiVersion::new("1.25"));
        assert_eq!(
            version_note(&since, &all, &all).as_deref(),
            Some("Since API 1.25.")
        );
        let until = VersionSet::from_presence(&all, |v| v <= &ApiVersion::new("1.24"));
        assert_eq!(
            version_note(&until, &all, &all).as_deref(),
            Some("API 1.23 to 1.24.")
        );
        assert_eq!(version_note(&since, &all[2..], &all), None);
    }

    #[test]
    fn types_without_a_description_say_where_they_come_from() {
        assert_eq!(
            origin_phrase(
                "RestartPolicyName",
                "#/components/schemas/RestartPolicy/properties/Name"
            ),
            "The `Name` field of `RestartPolicy`."
        );
        assert_eq!(
            origin_phrase(
                "X",
                "#/paths/~1configs~1create/post/requestBody/content/application~1json/schema"
            ),
            "The request body of `POST /configs/create`."
        );
        assert_eq!(
            origin_phrase(
                "X",
                "#/paths/~1containers~1{id}~1changes/get/responses/200/content/application~1json/schema/items"
            ),
            "An element of the body of a `200` response to `GET /containers/{id}/changes`."
        );
        assert_eq!(
            origin_phrase(
                "X",
                "#/definitions/HostConfig/properties/PortBindings/additionalProperties"
            ),
            "A value of the `PortBindings` field of `HostConfig`."
        );
        assert_eq!(
            origin_phrase("AuthConfig", "#/components/schemas/AuthConfig"),
            "The `AuthConfig` schema of the API."
        );
        assert_eq!(
            origin_phrase("X", "elsewhere"),
            "The `X` type (`elsewhere` in the spec)."
        );
    }

    #[test]
    fn notes_wrap_at_ninety_columns() {
        let text = "word ".repeat(40);
        let lines = wrap(&text);
        assert!(lines.iter().all(|l| l.len() <= 90));
        assert_eq!(lines.join(" "), text.trim_end());
        assert_eq!(wrap(""), Vec::<String>::new());
    }

    #[test]
    fn descriptions_lose_doctests_and_lazy_list_continuations() {
        let text = "Intro.\n\n```\n{\"a\": 1}\n```\n\n- item one\ncontinued\n- item two\n\n\n    indented code\n\nEnd.\t";
        assert_eq!(
            description_lines(text),
            [
                "Intro.",
                "",
                "```text",
                "{\"a\": 1}",
                "```",
                "",
                "- item one",
                "  continued",
                "- item two",
                "",
                "```text",
                "indented code",
                "```",
                "",
                "End."
            ]
        );
    }
}
