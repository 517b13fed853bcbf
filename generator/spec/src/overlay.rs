//! OpenAPI Overlay Specification 1.0 documents: parse them and apply them to a
//! JSON tree.
//!
//! An overlay is an ordered list of *actions*. Each action has a `target`, an
//! RFC 9535 JSONPath query, and either an `update` (merged into every node the
//! query selects) or `remove: true` (every selected node is deleted from the
//! object or array that holds it). Actions apply in order, each to the result of
//! the previous one.
//!
//! Merge rules of `update` (the 1.0 text, with the recursive reading that
//! Overlay 1.1 spells out):
//! - a selected **object** receives an object: a property only in the update is
//!   added; a property in both is merged recursively: objects merge, arrays are
//!   concatenated (update items after the existing ones), a primitive replaces a
//!   primitive, and any other pairing (an array onto a string, …) is an error;
//! - a selected **array** receives its update appended as one new element, or,
//!   when the update is itself an array, its items appended in order;
//! - a selected primitive or `null` is an error: select the object that holds it
//!   and update the property there.
//!
//! drydock is stricter than the specification in three places, because its
//! overlays derive API versions and correct upstream errata, and a silent no-op
//! there is a wrong spec:
//! - an action whose target selects nothing is an error (the overlay is stale);
//! - an action must say what it does: `remove: true`, or an `update`;
//! - `update` together with `remove: true` is rejected as ambiguous.
//!
//! Errors name the overlay file, the action index (0-based, as in the JSON
//! pointer `/actions/N`) and its target.

use serde_json::{Map, Value};
use serde_json_path::{JsonPath, PathElement};

use crate::document::parse_document;
use crate::error::{Result, SpecError, json_kind, pointer};

/// One parsed overlay document.
#[derive(Debug, Clone)]
pub struct Overlay {
    /// Label of the overlay file in errors (`overlays/v1.24.yaml`).
    pub file: String,
    /// The `overlay` field: the Overlay Specification version (`1.0.0`).
    pub spec_version: String,
    /// `info.title`: what the overlay is for.
    pub title: String,
    /// `info.version`: the overlay's own version.
    pub version: String,
    /// `extends`: the URL of the document the overlay was written for, if given.
    pub extends: Option<String>,
    /// The actions, in the order they apply.
    pub actions: Vec<Action>,
}

/// One action of an overlay.
#[derive(Debug, Clone)]
pub struct Action {
    /// The JSONPath query as written.
    pub target: String,
    /// The optional `description`.
    pub description: Option<String>,
    /// What the action does to each selected node.
    pub change: Change,
    path: JsonPath,
}

/// What an action does to the nodes its target selects.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Merge this value into each selected node.
    Update(Value),
    /// Delete each selected node from its parent.
    Remove,
}

/// One step of a location inside a JSON tree.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Step {
    Name(String),
    Index(usize),
}

impl Step {
    fn token(&self) -> String {
        match self {
            Step::Name(name) => name.clone(),
            Step::Index(index) => index.to_string(),
        }
    }
}

impl Overlay {
    /// Parses an overlay from YAML or JSON `text`; `file` labels errors.
    ///
    /// Checks the shape the specification requires (`overlay: 1.0.x`, `info`
    /// with `title` and `version`, at least one action, every target a valid
    /// RFC 9535 query) and rejects unknown fields other than `x-` extensions.
    pub fn parse(file: &str, text: &str) -> Result<Overlay> {
        let value = parse_document(file, text)?;
        let invalid = |at: &str, message: String| SpecError::Invalid {
            file: file.to_owned(),
            pointer: at.to_owned(),
            message,
        };
        let root = value
            .as_object()
            .ok_or_else(|| invalid("", "an overlay must be a mapping".to_owned()))?;
        reject_unknown_fields(file, "", root, &["overlay", "info", "extends", "actions"])?;

        let spec_version = required_string(file, "", root, "overlay")?;
        if !is_overlay_1_0(&spec_version) {
            return Err(invalid(
                "/overlay",
                format!("`overlay: {spec_version}` is not supported; drydock reads Overlay 1.0.x"),
            ));
        }

        let info = root
            .get("info")
            .ok_or_else(|| invalid("", "missing required field `info`".to_owned()))?
            .as_object()
            .ok_or_else(|| invalid("/info", "`info` must be a mapping".to_owned()))?;
        reject_unknown_fields(file, "/info", info, &["title", "version", "description"])?;
        let title = required_string(file, "/info", info, "title")?;
        let version = required_string(file, "/info", info, "version")?;
        let extends = optional_string(file, "", root, "extends")?;

        let raw_actions = root
            .get("actions")
            .ok_or_else(|| invalid("", "missing required field `actions`".to_owned()))?
            .as_array()
            .ok_or_else(|| invalid("/actions", "`actions` must be a list".to_owned()))?;
        if raw_actions.is_empty() {
            return Err(invalid(
                "/actions",
                "`actions` must hold at least one action".to_owned(),
            ));
        }
        let actions = raw_actions
            .iter()
            .enumerate()
            .map(|(index, raw)| parse_action(file, index, raw))
            .collect::<Result<Vec<_>>>()?;

        Ok(Overlay {
            file: file.to_owned(),
            spec_version,
            title,
            version,
            extends,
            actions,
        })
    }

    /// Applies every action, in order, to `doc`.
    ///
    /// On error `doc` holds the result of the actions before the failing one;
    /// callers that need all-or-nothing apply to a clone.
    pub fn apply(&self, doc: &mut Value) -> Result<()> {
        for (index, action) in self.actions.iter().enumerate() {
            action.apply(doc).map_err(|message| SpecError::Overlay {
                file: self.file.clone(),
                index,
                target: action.target.clone(),
                message,
            })?;
        }
        Ok(())
    }
}

impl Action {
    /// Applies this action to `doc`; the error is a sentence without the
    /// file and action context, which [`Overlay::apply`] adds.
    fn apply(&self, doc: &mut Value) -> std::result::Result<(), String> {
        let locations = self.select(doc);
        if locations.is_empty() {
            return Err(
                "the target selects nothing: the document no longer has what this \
                 action expects, so the overlay is stale; fix the target or delete the action"
                    .to_owned(),
            );
        }
        match &self.change {
            Change::Update(update) => locations
                .iter()
                .try_for_each(|steps| update_node(doc, steps, update)),
            Change::Remove => remove_nodes(doc, locations),
        }
    }

    /// The locations the target selects, each once, in document order.
    fn select(&self, doc: &Value) -> Vec<Vec<Step>> {
        self.path
            .query_located(doc)
            .dedup()
            .iter()
            .map(|node| {
                node.location()
                    .iter()
                    .map(|element| match element {
                        PathElement::Name(name) => Step::Name((*name).to_owned()),
                        PathElement::Index(index) => Step::Index(*index),
                    })
                    .collect()
            })
            .collect()
    }
}

fn parse_action(file: &str, index: usize, raw: &Value) -> Result<Action> {
    let at = format!("/actions/{index}");
    let invalid = |message: String| SpecError::Invalid {
        file: file.to_owned(),
        pointer: at.clone(),
        message,
    };
    let fields = raw
        .as_object()
        .ok_or_else(|| invalid("an action must be a mapping".to_owned()))?;
    reject_unknown_fields(
        file,
        &at,
        fields,
        &["target", "description", "update", "remove"],
    )?;
    let target = required_string(file, &at, fields, "target")?;
    if !target.starts_with('$') {
        return Err(invalid(format!(
            "target `{target}` must be a JSONPath query starting with `$`"
        )));
    }
    let path = JsonPath::parse(&target).map_err(|error| {
        invalid(format!(
            "target `{target}` is not RFC 9535 JSONPath: {error}"
        ))
    })?;
    let description = optional_string(file, &at, fields, "description")?;
    let remove = match fields.get("remove") {
        None => false,
        Some(Value::Bool(remove)) => *remove,
        Some(other) => {
            return Err(invalid(format!(
                "`remove` must be true or false, not {}",
                json_kind(other)
            )));
        }
    };
    let change = match (fields.get("update"), remove) {
        (Some(_), true) => {
            return Err(invalid(
                "the action has both `update` and `remove: true`; keep one".to_owned(),
            ));
        }
        (Some(update), false) => Change::Update(update.clone()),
        (None, true) => Change::Remove,
        (None, false) => {
            return Err(invalid(
                "the action does nothing: give it an `update` or `remove: true`".to_owned(),
            ));
        }
    };
    Ok(Action {
        target,
        description,
        change,
        path,
    })
}

/// Overlay 1.0.x: `1.0.` followed by a patch number.
fn is_overlay_1_0(version: &str) -> bool {
    version
        .strip_prefix("1.0.")
        .is_some_and(|patch| !patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit()))
}

fn reject_unknown_fields(
    file: &str,
    at: &str,
    fields: &Map<String, Value>,
    known: &[&str],
) -> Result<()> {
    match fields
        .keys()
        .find(|key| !key.starts_with("x-") && !known.contains(&key.as_str()))
    {
        Some(key) => Err(SpecError::Invalid {
            file: file.to_owned(),
            pointer: at.to_owned(),
            message: format!(
                "unknown field `{key}` (expected {}, or an `x-` extension)",
                known.join(", ")
            ),
        }),
        None => Ok(()),
    }
}

fn required_string(
    file: &str,
    at: &str,
    fields: &Map<String, Value>,
    name: &str,
) -> Result<String> {
    optional_string(file, at, fields, name)?.ok_or_else(|| SpecError::Invalid {
        file: file.to_owned(),
        pointer: at.to_owned(),
        message: format!("missing required field `{name}`"),
    })
}

fn optional_string(
    file: &str,
    at: &str,
    fields: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>> {
    match fields.get(name) {
        None => Ok(None),
        Some(Value::String(text)) => Ok(Some(text.clone())),
        Some(other) => Err(SpecError::Invalid {
            file: file.to_owned(),
            pointer: format!("{at}/{name}"),
            message: format!(
                "`{name}` must be a string, not {} (quote it in YAML)",
                json_kind(other)
            ),
        }),
    }
}

fn is_container(value: &Value) -> bool {
    matches!(value, Value::Array(_) | Value::Object(_))
}

fn steps_pointer(steps: &[Step]) -> String {
    pointer(steps.iter().map(Step::token))
}

fn node_mut<'a>(doc: &'a mut Value, steps: &[Step]) -> Option<&'a mut Value> {
    steps.iter().try_fold(doc, |node, step| match (node, step) {
        (Value::Object(map), Step::Name(name)) => map.get_mut(name),
        (Value::Array(items), Step::Index(index)) => items.get_mut(*index),
        _ => None,
    })
}

fn update_node(doc: &mut Value, steps: &[Step], update: &Value) -> std::result::Result<(), String> {
    let at = steps_pointer(steps);
    let node = node_mut(doc, steps)
        .ok_or_else(|| format!("selected node `{at}` vanished during the action"))?;
    match (node, update) {
        (Value::Object(target), Value::Object(fields)) => merge_object(target, fields, &at),
        (Value::Object(_), other) => Err(format!(
            "`{at}` is an object, so `update` must be an object of properties to merge, not {}",
            json_kind(other)
        )),
        (Value::Array(items), Value::Array(more)) => {
            items.extend(more.iter().cloned());
            Ok(())
        }
        (Value::Array(items), element) => {
            items.push(element.clone());
            Ok(())
        }
        (primitive, _) => Err(format!(
            "`{at}` is {}; an update target must be an object or an array: select the \
             object that holds it and update the property there",
            json_kind(primitive)
        )),
    }
}

fn merge_object(
    target: &mut Map<String, Value>,
    fields: &Map<String, Value>,
    at: &str,
) -> std::result::Result<(), String> {
    for (name, update) in fields {
        let here = format!("{at}{}", pointer([name]));
        match target.get_mut(name) {
            None => {
                target.insert(name.clone(), update.clone());
            }
            Some(existing) => merge_value(existing, update, &here)?,
        }
    }
    Ok(())
}

fn merge_value(existing: &mut Value, update: &Value, at: &str) -> std::result::Result<(), String> {
    match (existing, update) {
        (Value::Object(target), Value::Object(fields)) => merge_object(target, fields, at),
        (Value::Array(items), Value::Array(more)) => {
            items.extend(more.iter().cloned());
            Ok(())
        }
        (existing, update) if !is_container(existing) && !is_container(update) => {
            *existing = update.clone();
            Ok(())
        }
        (existing, update) => Err(format!(
            "cannot merge {} into {} at `{at}`; to replace it, remove it in an earlier action",
            json_kind(update),
            json_kind(existing)
        )),
    }
}

/// Deletes every located node. Locations are visited in descending order, so
/// a higher array index goes before a lower one and a child before its parent:
/// no removal shifts a location still to be visited.
fn remove_nodes(doc: &mut Value, mut locations: Vec<Vec<Step>>) -> std::result::Result<(), String> {
    locations.sort_unstable_by(|a, b| b.cmp(a));
    for steps in &locations {
        let Some((last, parent_steps)) = steps.split_last() else {
            return Err("the target selects the document root, which cannot be removed".to_owned());
        };
        let parent_at = steps_pointer(parent_steps);
        let parent = node_mut(doc, parent_steps)
            .ok_or_else(|| format!("parent `{parent_at}` of a selected node vanished"))?;
        let removed = match (parent, last) {
            (Value::Object(map), Step::Name(name)) => map.shift_remove(name).is_some(),
            (Value::Array(items), Step::Index(index)) if *index < items.len() => {
                items.remove(*index);
                true
            }
            _ => false,
        };
        if !removed {
            return Err(format!(
                "selected node `{}` vanished during the action",
                steps_pointer(steps)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn overlay(actions: &str) -> Overlay {
        let text =
            format!("overlay: 1.0.0\ninfo:\n  title: test\n  version: 1.0.0\nactions:\n{actions}");
        Overlay::parse("test.yaml", &text).expect("test overlay parses")
    }

    fn apply(actions: &str, mut doc: Value) -> Result<Value> {
        overlay(actions).apply(&mut doc)?;
        Ok(doc)
    }

    fn sample() -> Value {
        json!({
            "info": {"title": "Docker", "version": "1.25"},
            "paths": {
                "/images/create": {"post": {"parameters": [
                    {"name": "fromImage", "in": "query"},
                    {"name": "platform", "in": "query"},
                    {"name": "tag", "in": "query"},
                    {"name": "platform", "in": "header"}
                ]}},
                "/plugins": {"get": {"summary": "List plugins"}}
            },
            "definitions": {"ImageSummary": {
                "required": ["Id", "Labels"],
                "properties": {"Labels": {"type": "object", "x-nullable": false}}
            }}
        })
    }

    #[test]
    fn parse_reads_info_extends_and_actions() {
        let text = "overlay: 1.0.0\ninfo:\n  title: Derive v1.24\n  version: 2.0.0\n  x-team: drydock\n\
                    extends: ./v1.25.yaml\nx-note: kept\nactions:\n  - target: $.info\n    \
                    description: bump\n    update: {version: '1.24'}\n  - target: $.paths['/plugins']\n    remove: true\n";
        let parsed = Overlay::parse("o.yaml", text).unwrap();
        assert_eq!(parsed.spec_version, "1.0.0");
        assert_eq!(parsed.title, "Derive v1.24");
        assert_eq!(parsed.version, "2.0.0");
        assert_eq!(parsed.extends.as_deref(), Some("./v1.25.yaml"));
        assert_eq!(parsed.actions.len(), 2);
        assert_eq!(parsed.actions[0].description.as_deref(), Some("bump"));
        assert_eq!(
            parsed.actions[0].change,
            Change::Update(json!({"version": "1.24"}))
        );
        assert_eq!(parsed.actions[1].change, Change::Remove);
    }

    #[test]
    fn parse_rejects_other_overlay_versions() {
        let err = Overlay::parse(
            "o.yaml",
            "overlay: 2.0.0\ninfo: {title: t, version: '1'}\nactions: [{target: $, remove: true}]",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("o.yaml#/overlay") && err.contains("Overlay 1.0.x"),
            "{err}"
        );
    }

    #[test]
    fn parse_requires_info_title_and_version() {
        let err = Overlay::parse(
            "o.yaml",
            "overlay: 1.0.0\ninfo: {title: t}\nactions: [{target: $, remove: true}]",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("o.yaml#/info") && err.contains("`version`"),
            "{err}"
        );
    }

    #[test]
    fn parse_requires_at_least_one_action() {
        let err = Overlay::parse(
            "o.yaml",
            "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions: []",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("at least one action"), "{err}");
    }

    #[test]
    fn parse_rejects_unknown_fields_but_keeps_extensions() {
        let err = Overlay::parse(
            "o.yaml",
            "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n  - {target: $, remove: true, x-why: ok, updte: {}}",
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("o.yaml#/actions/0") && err.contains("`updte`"),
            "{err}"
        );
    }

    #[test]
    fn parse_rejects_invalid_jsonpath_targets() {
        let err = overlay_error("  - target: $.paths[?@.name==]\n    remove: true\n");
        assert!(
            err.contains("#/actions/0") && err.contains("RFC 9535"),
            "{err}"
        );
        let err = overlay_error("  - target: paths\n    remove: true\n");
        assert!(err.contains("starting with `$`"), "{err}");
    }

    #[test]
    fn parse_rejects_actions_that_do_nothing_or_both() {
        let err = overlay_error("  - target: $.info\n");
        assert!(err.contains("does nothing"), "{err}");
        let err = overlay_error("  - target: $.info\n    update: {a: 1}\n    remove: true\n");
        assert!(err.contains("both `update` and `remove: true`"), "{err}");
        let err = overlay_error("  - target: $.info\n    remove: 'yes'\n");
        assert!(err.contains("`remove` must be true or false"), "{err}");
    }

    fn overlay_error(actions: &str) -> String {
        let text = format!("overlay: 1.0.0\ninfo: {{title: t, version: '1'}}\nactions:\n{actions}");
        Overlay::parse("o.yaml", &text).unwrap_err().to_string()
    }

    #[test]
    fn parse_reports_yaml_syntax_errors_with_position() {
        let err = Overlay::parse("o.yaml", "overlay: 1.0.0\ninfo: [\n").unwrap_err();
        assert!(
            matches!(err, SpecError::Syntax { line, .. } if line > 0),
            "{err}"
        );
    }

    #[test]
    fn update_adds_new_properties_and_replaces_primitives() {
        let doc = apply(
            "  - target: $.info\n    update:\n      version: '1.24'\n      x-derived: true\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["info"],
            json!({"title": "Docker", "version": "1.24", "x-derived": true})
        );
    }

    #[test]
    fn update_merges_nested_objects_recursively() {
        let doc = apply(
            "  - target: $.definitions.ImageSummary\n    update:\n      properties:\n        \
             Labels: {x-nullable: true}\n        Containers: {type: integer}\n",
            sample(),
        )
        .unwrap();
        let props = &doc["definitions"]["ImageSummary"]["properties"];
        assert_eq!(
            props["Labels"],
            json!({"type": "object", "x-nullable": true})
        );
        assert_eq!(props["Containers"], json!({"type": "integer"}));
    }

    #[test]
    fn update_concatenates_nested_arrays() {
        let doc = apply(
            "  - target: $.definitions.ImageSummary\n    update: {required: [Containers]}\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["definitions"]["ImageSummary"]["required"],
            json!(["Id", "Labels", "Containers"])
        );
    }

    #[test]
    fn update_of_an_array_target_appends_the_value() {
        let doc = apply(
            "  - target: $.paths['/images/create'].post.parameters\n    update: {name: repo, in: query}\n",
            sample(),
        )
        .unwrap();
        let params = doc["paths"]["/images/create"]["post"]["parameters"]
            .as_array()
            .unwrap();
        assert_eq!(params.len(), 5);
        assert_eq!(params[4], json!({"name": "repo", "in": "query"}));
    }

    #[test]
    fn update_of_an_array_target_with_an_array_appends_each_item() {
        let doc = apply(
            "  - target: $.definitions.ImageSummary.required\n    update: [Size, Created]\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["definitions"]["ImageSummary"]["required"],
            json!(["Id", "Labels", "Size", "Created"])
        );
    }

    #[test]
    fn update_applies_to_every_selected_node() {
        let doc = apply(
            "  - target: $.paths.*.*\n    update: {x-seen: true}\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["paths"]["/images/create"]["post"]["x-seen"],
            json!(true)
        );
        assert_eq!(doc["paths"]["/plugins"]["get"]["x-seen"], json!(true));
    }

    #[test]
    fn update_of_a_node_selected_twice_applies_once() {
        let doc = apply(
            "  - target: $.definitions['ImageSummary','ImageSummary'].required\n    update: Size\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["definitions"]["ImageSummary"]["required"],
            json!(["Id", "Labels", "Size"])
        );
    }

    #[test]
    fn update_of_a_primitive_target_is_an_error() {
        let err = apply("  - target: $.info.version\n    update: '1.24'\n", sample())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`/info/version` is a string"), "{err}");
    }

    #[test]
    fn update_of_an_object_with_a_non_object_is_an_error() {
        let err = apply("  - target: $.info\n    update: [1]\n", sample())
            .unwrap_err()
            .to_string();
        assert!(err.contains("`/info` is an object"), "{err}");
    }

    #[test]
    fn update_with_incompatible_property_types_is_an_error() {
        let err = apply(
            "  - target: $.definitions.ImageSummary\n    update: {required: Id}\n",
            sample(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains(
                "cannot merge a string into an array at `/definitions/ImageSummary/required`"
            ),
            "{err}"
        );
    }

    #[test]
    fn remove_deletes_an_object_property() {
        let doc = apply(
            "  - target: $.paths['/plugins']\n    remove: true\n",
            sample(),
        )
        .unwrap();
        assert!(doc["paths"].get("/plugins").is_none());
        assert!(doc["paths"].get("/images/create").is_some());
    }

    #[test]
    fn remove_deletes_array_elements_selected_by_a_filter() {
        let doc = apply(
            "  - target: $.paths['/images/create'].post.parameters[?@.name=='platform']\n    remove: true\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["paths"]["/images/create"]["post"]["parameters"],
            json!([{"name": "fromImage", "in": "query"}, {"name": "tag", "in": "query"}])
        );
    }

    #[test]
    fn remove_handles_a_parent_and_its_child_selected_together() {
        let doc = apply(
            "  - target: $..[?@.type=='object']\n    remove: true\n",
            json!({"a": {"type": "object", "b": {"type": "object"}}, "c": [{"type": "object"}, 1]}),
        )
        .unwrap();
        assert_eq!(doc, json!({"c": [1]}));
    }

    #[test]
    fn remove_of_the_root_is_an_error() {
        let err = apply("  - target: $\n    remove: true\n", sample())
            .unwrap_err()
            .to_string();
        assert!(err.contains("document root"), "{err}");
    }

    #[test]
    fn actions_apply_in_order_to_the_previous_result() {
        let doc = apply(
            "  - target: $.paths['/plugins']\n    remove: true\n  - target: $.paths\n    \
             update: {/plugins: {post: {}}}\n  - target: $.paths['/plugins'].post\n    update: {summary: new}\n",
            sample(),
        )
        .unwrap();
        assert_eq!(
            doc["paths"]["/plugins"],
            json!({"post": {"summary": "new"}})
        );
    }

    #[test]
    fn a_target_that_selects_nothing_is_a_stale_overlay_error() {
        let err = apply(
            "  - target: $.info\n    update: {x: 1}\n  - target: $.paths['/nowhere']\n    remove: true\n",
            sample(),
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.starts_with(
                "test.yaml: action 1 (target `$.paths['/nowhere']`): the target selects nothing"
            ),
            "{err}"
        );
        assert!(err.contains("stale"), "{err}");
    }
}
