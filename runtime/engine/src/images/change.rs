//! `docker import --change`: the Dockerfile instructions dockerd lets an import set in the
//! image's config (`CMD`, `ENTRYPOINT`, `ENV`, `EXPOSE`, `HEALTHCHECK`, `LABEL`, `ONBUILD`,
//! `USER`, `VOLUME`, `WORKDIR`), applied as dockerd's builder applies them.
//!
//! Not done yet: `$VARIABLE` expansion in the arguments and `HEALTHCHECK`'s `--interval`-style
//! options (refused with a clear error rather than ignored).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::ContainerConfig;
use crate::error::{Error, Result};

/// Applies `changes` in order to `config`.
///
/// # Errors
///
/// [`Error::InvalidChange`] with dockerd's words for an instruction an import cannot
/// use (`run is not a valid change command`) or one without its arguments.
pub fn apply_changes(config: &mut ContainerConfig, changes: &[String]) -> Result<()> {
    let mut cmd_set = false;
    for change in changes {
        let change = change.trim();
        let (instruction, rest) = match change.split_once(char::is_whitespace) {
            Some((instruction, rest)) => (instruction, rest.trim()),
            None => (change, ""),
        };
        let lower = instruction.to_ascii_lowercase();
        let needs_arguments = |name: &str| {
            if rest.is_empty() {
                Err(invalid(format!("{name} requires at least one argument")))
            } else {
                Ok(())
            }
        };
        match lower.as_str() {
            "cmd" => {
                config.cmd = Some(command_form(rest));
                cmd_set = true;
            }
            "entrypoint" => {
                config.entrypoint = Some(command_form(rest));
                if !cmd_set {
                    config.cmd = None;
                }
            }
            "env" => {
                needs_arguments("ENV")?;
                for (name, value) in name_values(rest, "ENV")? {
                    let env = config.env.get_or_insert_with(Vec::new);
                    let entry = format!("{name}={value}");
                    match env
                        .iter_mut()
                        .find(|old| old.split_once('=').map_or(old.as_str(), |(n, _)| n) == name)
                    {
                        Some(old) => *old = entry,
                        None => env.push(entry),
                    }
                }
            }
            "label" => {
                needs_arguments("LABEL")?;
                let labels = config.labels.get_or_insert_with(BTreeMap::new);
                for (name, value) in name_values(rest, "LABEL")? {
                    labels.insert(name, value);
                }
            }
            "expose" => {
                needs_arguments("EXPOSE")?;
                let ports = config.exposed_ports.get_or_insert_with(BTreeMap::new);
                for port in rest.split_whitespace() {
                    for expanded in expand_port(port)? {
                        ports.insert(expanded, json!({}));
                    }
                }
            }
            "volume" => {
                needs_arguments("VOLUME")?;
                let volumes = config.volumes.get_or_insert_with(BTreeMap::new);
                let paths = json_string_array(rest)
                    .unwrap_or_else(|| rest.split_whitespace().map(str::to_owned).collect());
                for path in paths {
                    if path.trim().is_empty() {
                        return Err(invalid(
                            "VOLUME specified can not be an empty string".to_owned(),
                        ));
                    }
                    volumes.insert(path, json!({}));
                }
            }
            "user" => {
                needs_arguments("USER")?;
                config.user = rest.to_owned();
            }
            "workdir" => {
                needs_arguments("WORKDIR")?;
                let base = if config.working_dir.is_empty() {
                    "/"
                } else {
                    config.working_dir.as_str()
                };
                config.working_dir = join_clean(base, rest);
            }
            "onbuild" => {
                needs_arguments("ONBUILD")?;
                let (trigger, arguments) = match rest.split_once(char::is_whitespace) {
                    Some((trigger, arguments)) => (trigger, arguments.trim()),
                    None => (rest, ""),
                };
                let trigger = trigger.to_ascii_uppercase();
                if matches!(trigger.as_str(), "ONBUILD" | "FROM" | "MAINTAINER") {
                    return Err(invalid(format!(
                        "{trigger} isn't allowed as an ONBUILD trigger"
                    )));
                }
                let text = if arguments.is_empty() {
                    trigger
                } else {
                    format!("{trigger} {arguments}")
                };
                config.on_build.get_or_insert_with(Vec::new).push(text);
            }
            "healthcheck" => config.healthcheck = Some(healthcheck(rest)?),
            _ => return Err(invalid(format!("{lower} is not a valid change command"))),
        }
    }
    Ok(())
}

fn invalid(message: String) -> Error {
    Error::InvalidChange(message)
}

/// A JSON array of strings (the exec form), if `text` is one.
fn json_string_array(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(text).ok()
}

/// `CMD` and `ENTRYPOINT` arguments: the exec form as given, the shell form under `/bin/sh -c`.
fn command_form(text: &str) -> Vec<String> {
    json_string_array(text)
        .unwrap_or_else(|| vec!["/bin/sh".to_owned(), "-c".to_owned(), text.to_owned()])
}

/// `HEALTHCHECK NONE` or `HEALTHCHECK CMD …`, without options.
fn healthcheck(text: &str) -> Result<Value> {
    if text.starts_with("--") {
        return Err(invalid(
            "HEALTHCHECK options are not supported in an import change yet".to_owned(),
        ));
    }
    let (kind, rest) = match text.split_once(char::is_whitespace) {
        Some((kind, rest)) => (kind, rest.trim()),
        None => (text, ""),
    };
    match kind.to_ascii_uppercase().as_str() {
        "NONE" if rest.is_empty() => Ok(json!({"Test": ["NONE"]})),
        "NONE" => Err(invalid("HEALTHCHECK NONE takes no arguments".to_owned())),
        "CMD" if !rest.is_empty() => {
            let test = match json_string_array(rest) {
                Some(exec) => std::iter::once("CMD".to_owned()).chain(exec).collect(),
                None => vec!["CMD-SHELL".to_owned(), rest.to_owned()],
            };
            Ok(json!({ "Test": test }))
        }
        "CMD" => Err(invalid("Missing command after HEALTHCHECK CMD".to_owned())),
        other => Err(invalid(format!(
            "Unknown type {other:?} in HEALTHCHECK (try CMD)"
        ))),
    }
}

/// `ENV`/`LABEL` arguments: `name value` (one pair, the legacy form) or `name=value …` with
/// Dockerfile quoting (`"…"`, `'…'`, backslash escapes) removed.
fn name_values(text: &str, instruction: &str) -> Result<Vec<(String, String)>> {
    let words = split_words(text)?;
    let first_has_equals = words.first().is_some_and(|raw| raw.contains('='));
    if !first_has_equals {
        let Some(name) = words.first() else {
            return Err(invalid(format!(
                "{instruction} requires at least one argument"
            )));
        };
        let value = text[name.len()..].trim();
        if value.is_empty() {
            return Err(invalid(format!("{instruction} names can not be blank")));
        }
        return Ok(vec![(name.clone(), unquote(value)?)]);
    }
    let mut pairs = Vec::new();
    for raw in words {
        let Some((name, value)) = raw.split_once('=') else {
            return Err(invalid(format!(
                "Syntax error - can't find = in {raw:?}. Must be of the form: name=value"
            )));
        };
        if name.is_empty() {
            return Err(invalid(format!("{instruction} names can not be blank")));
        }
        pairs.push((unquote(name)?, unquote(value)?));
    }
    Ok(pairs)
}

/// Splits on unquoted whitespace, keeping each word's raw text (quotes included).
fn split_words(text: &str) -> Result<Vec<String>> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (_, '\\') if quote != Some('\'') => {
                word.push(c);
                if let Some(next) = chars.next() {
                    word.push(next);
                }
            }
            (None, '"' | '\'') => {
                quote = Some(c);
                word.push(c);
            }
            (Some(open), _) if c == open => {
                quote = None;
                word.push(c);
            }
            (None, c) if c.is_whitespace() => {
                if !word.is_empty() {
                    words.push(std::mem::take(&mut word));
                }
            }
            _ => word.push(c),
        }
    }
    if quote.is_some() {
        return Err(invalid(format!(
            "unexpected end of statement while looking for matching quote in {text:?}"
        )));
    }
    if !word.is_empty() {
        words.push(word);
    }
    Ok(words)
}

/// Removes Dockerfile quoting: `"…"` (with `\` escapes), `'…'` (literal), `\x` outside quotes.
fn unquote(text: &str) -> Result<String> {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some('\''), '\'') | (Some('"'), '"') => quote = None,
            (Some('\''), c) => out.push(c),
            (Some('"'), '\\') => match chars.next() {
                Some(next @ ('"' | '\\' | '$')) => out.push(next),
                Some(next) => {
                    out.push('\\');
                    out.push(next);
                }
                None => out.push('\\'),
            },
            (None, '"' | '\'') => quote = Some(c),
            (None, '\\') => {
                if let Some(next) = chars.next() {
                    out.push(next);
                }
            }
            (_, c) => out.push(c),
        }
    }
    if quote.is_some() {
        return Err(invalid(format!("unmatched quote in {text:?}")));
    }
    Ok(out)
}

/// `80` → `80/tcp`, `443/udp` as given, `8000-8002` → one entry per port.
fn expand_port(text: &str) -> Result<Vec<String>> {
    let (ports, protocol) = match text.split_once('/') {
        Some((ports, protocol)) => (ports, protocol.to_ascii_lowercase()),
        None => (text, "tcp".to_owned()),
    };
    let bad = || invalid(format!("Invalid containerPort: {ports}"));
    let number = |part: &str| part.parse::<u16>().map_err(|_| bad());
    let (start, end) = match ports.split_once('-') {
        Some((start, end)) => (number(start)?, number(end)?),
        None => {
            let port = number(ports)?;
            (port, port)
        }
    };
    if end < start || !matches!(protocol.as_str(), "tcp" | "udp" | "sctp") {
        return Err(bad());
    }
    Ok((start..=end)
        .map(|port| format!("{port}/{protocol}"))
        .collect())
}

/// `base` joined with `path` (absolute `path` replaces it), cleaned as Go's `path.Join`.
fn join_clean(base: &str, path: &str) -> String {
    let joined = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("{base}/{path}")
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in joined.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    format!("/{}", parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::apply_changes;
    use crate::images::ContainerConfig;

    fn applied(changes: &[&str]) -> ContainerConfig {
        let mut config = ContainerConfig::default();
        let changes: Vec<String> = changes.iter().map(|c| (*c).to_owned()).collect();
        apply_changes(&mut config, &changes).expect("the changes apply");
        config
    }

    #[test]
    fn env_and_label_take_quoted_pairs_and_the_legacy_form() {
        let config = applied(&[
            r#"ENV A=1 B="two words""#,
            "ENV C 3 and more",
            "ENV A=replaced",
            r#"LABEL k=v "x y"=z"#,
        ]);
        assert_eq!(
            config.env,
            Some(vec![
                "A=replaced".to_owned(),
                "B=two words".to_owned(),
                "C=3 and more".to_owned()
            ])
        );
        let labels = config.labels.expect("labels");
        assert_eq!(labels.get("x y").map(String::as_str), Some("z"));
    }

    #[test]
    fn shell_form_runs_under_sh_and_entrypoint_alone_clears_cmd() {
        let config = applied(&["CMD echo hi && ls", r#"ENTRYPOINT ["/bin/sh","-c"]"#]);
        assert_eq!(
            config.cmd,
            Some(vec![
                "/bin/sh".to_owned(),
                "-c".to_owned(),
                "echo hi && ls".to_owned()
            ])
        );
        let only_entrypoint = applied(&["ENTRYPOINT top"]);
        assert_eq!(only_entrypoint.cmd, None);
    }

    #[test]
    fn workdir_expose_and_volume_as_the_builder_sets_them() {
        let config = applied(&[
            "WORKDIR /srv",
            "WORKDIR sub/../x",
            "EXPOSE 80 443/udp 8000-8001",
            "VOLUME /data /logs",
        ]);
        assert_eq!(config.working_dir, "/srv/x");
        let ports: Vec<String> = config.exposed_ports.expect("ports").into_keys().collect();
        assert_eq!(ports, vec!["443/udp", "80/tcp", "8000/tcp", "8001/tcp"]);
        let volumes: Vec<String> = config.volumes.expect("volumes").into_keys().collect();
        assert_eq!(volumes, vec!["/data", "/logs"]);
    }

    #[test]
    fn build_only_instructions_are_refused_with_dockerds_words() {
        let mut config = ContainerConfig::default();
        let error = apply_changes(&mut config, &["RUN true".to_owned()]).expect_err("refused");
        assert_eq!(error.to_string(), "run is not a valid change command");
        assert!(apply_changes(&mut config, &["ENV".to_owned()]).is_err());
        assert!(apply_changes(&mut config, &["EXPOSE 99999".to_owned()]).is_err());
    }
}
