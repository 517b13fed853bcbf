//! Turns a Swagger 2.0 document into OpenAPI 3.0 ([`openapiv3::OpenAPI`]).
//!
//! [`to_openapi3`] accepts a document that is already OpenAPI 3.0 as is, and
//! converts a Swagger 2.0 one by building the OpenAPI 3.0 JSON tree and then
//! deserializing it. The conversion moves `definitions`, global `parameters`,
//! `responses` and `securityDefinitions` under `components`, rewrites every
//! `$ref` to match, turns `body` and `formData` parameters into request bodies,
//! moves parameter type facets into schemas, spreads `consumes` and `produces`
//! over request and response content, turns `x-nullable` into `nullable` and
//! `host`/`basePath`/`schemes` into `servers`. Vendor extensions (`x-*`) stay
//! where they were; the conversion adds three of its own:
//! - `x-body-name` on a request body: the name of the Swagger body parameter;
//! - `x-collection-format` on a parameter (or form-field encoding): the
//!   original `collectionFormat`, also where it has no OpenAPI 3.0 style (`tsv`);
//! - `x-nullable` is kept beside the `nullable` it becomes.
//!
//! Errors name the JSON pointer of the offending node: in the Swagger 2.0 input
//! when the conversion meets a node of the wrong type, in the converted OpenAPI
//! 3.0 tree (the message says so) when the final deserialization fails. A `$ref`
//! that points nowhere is kept as is, for normalisation to report.

use openapiv3::OpenAPI;
use serde_json::{Map, Value, json};

use crate::error::{Result, SpecError, json_kind, pointer_token};

/// The OpenAPI version written into converted documents.
const OPENAPI_VERSION: &str = "3.0.3";

/// Media type used when neither the operation nor the document declares one.
const DEFAULT_MEDIA_TYPE: &str = "application/json";

const MULTIPART: &str = "multipart/form-data";
const URLENCODED: &str = "application/x-www-form-urlencoded";

/// The HTTP methods a Swagger 2.0 path item can hold.
const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

/// Keys of a Swagger 2.0 non-body parameter, header or `items` object that
/// describe its value and so move into its OpenAPI 3.0 schema.
const SCHEMA_FACETS: [&str; 16] = [
    "type",
    "format",
    "default",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "maxItems",
    "minItems",
    "uniqueItems",
    "enum",
    "multipleOf",
    "x-nullable",
];

/// Reads `doc` as OpenAPI 3.0, converting it first when it is Swagger 2.0.
///
/// `file` labels errors. A document whose `openapi` starts with `3.0` is
/// deserialized as is; one with `swagger: "2.0"` is converted; anything else is
/// [`SpecError::Invalid`] naming the `/openapi` or `/swagger` pointer.
pub fn to_openapi3(file: &str, doc: Value) -> Result<OpenAPI> {
    let invalid = |pointer: &str, message: String| SpecError::Invalid {
        file: file.to_owned(),
        pointer: pointer.to_owned(),
        message,
    };
    let Some(root) = doc.as_object() else {
        return Err(invalid(
            "",
            format!("the document must be a mapping, found {}", json_kind(&doc)),
        ));
    };
    if let Some(version) = root.get("openapi") {
        return match version.as_str() {
            Some(v) if v.starts_with("3.0") => deserialize(file, doc, false),
            _ => Err(invalid(
                "/openapi",
                format!("only OpenAPI 3.0.x is supported, found {version}"),
            )),
        };
    }
    match root.get("swagger") {
        Some(Value::String(v)) if v == "2.0" => {
            let converted = Converter::new(file, root)?.document()?;
            deserialize(file, converted, true)
        }
        Some(other) => Err(invalid(
            "/swagger",
            format!("only Swagger \"2.0\" is supported, found {other}"),
        )),
        None => Err(invalid(
            "",
            "neither `swagger: \"2.0\"` nor `openapi: 3.0.x` is declared".to_owned(),
        )),
    }
}

/// Parses `text` (YAML or JSON) and reads it as OpenAPI 3.0: the loader's
/// whole path from text to [`OpenAPI`], as the fuzz target `load_spec` drives it.
pub fn parse_openapi3(file: &str, text: &str) -> Result<OpenAPI> {
    to_openapi3(file, crate::document::parse_document(file, text)?)
}

/// Deserializes an OpenAPI 3.0 tree, naming the pointer of the first failure.
fn deserialize(file: &str, tree: Value, converted: bool) -> Result<OpenAPI> {
    let error = match serde_path_to_error::deserialize::<_, OpenAPI>(&tree) {
        Ok(api) => return Ok(api),
        Err(error) => error,
    };
    let (pointer, message) = narrow_failure(
        &tree,
        (path_pointer(error.path()), error.inner().to_string()),
    );
    let message = if converted {
        format!("in the converted OpenAPI 3.0 document: {message}")
    } else {
        message
    };
    Err(SpecError::Invalid {
        file: file.to_owned(),
        pointer,
        message,
    })
}

/// The JSON pointer of a deserialization path.
fn path_pointer(path: &serde_path_to_error::Path) -> String {
    path.iter()
        .filter_map(|segment| match segment {
            serde_path_to_error::Segment::Seq { index } => Some(format!("/{index}")),
            serde_path_to_error::Segment::Map { key } => Some(format!("/{}", pointer_token(key))),
            serde_path_to_error::Segment::Enum { .. } | serde_path_to_error::Segment::Unknown => {
                None
            }
        })
        .collect()
}

/// The pointer and message of the first failure to read `value` (at `at`) as `T`.
fn first_failure<T: serde::de::DeserializeOwned>(
    value: &Value,
    at: &str,
) -> Option<(String, String)> {
    serde_path_to_error::deserialize::<_, T>(value)
        .err()
        .map(|error| {
            (
                format!("{at}{}", path_pointer(error.path())),
                error.inner().to_string(),
            )
        })
}

/// `openapiv3` keeps path items and responses in flattened maps, where the
/// deserializer loses track of the path: a failure reported at `/paths` or at
/// an operation's `responses` is narrowed by reading their entries one by one.
fn narrow_failure(tree: &Value, failure: (String, String)) -> (String, String) {
    let entries = |at: &str| -> Vec<(String, &Value)> {
        tree.pointer(at)
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter(|(key, value)| !is_extension(key) && value.get("$ref").is_none())
            .map(|(key, value)| (child(at, key), value))
            .collect()
    };
    let mut failure = failure;
    if failure.0 == "/paths"
        && let Some(found) = entries("/paths")
            .into_iter()
            .find_map(|(at, item)| first_failure::<openapiv3::PathItem>(item, &at))
    {
        failure = found;
    }
    if failure.0.starts_with("/paths/")
        && failure.0.ends_with("/responses")
        && let Some(found) = entries(&failure.0)
            .into_iter()
            .find_map(|(at, response)| first_failure::<openapiv3::Response>(response, &at))
    {
        failure = found;
    }
    failure
}

/// The pointer of `token` under `at`.
fn child(at: &str, token: &str) -> String {
    format!("{at}/{}", pointer_token(token))
}

fn is_extension(key: &str) -> bool {
    key.starts_with("x-")
}

/// Copies every vendor extension of `from` into `to`.
fn copy_extensions(from: &Map<String, Value>, to: &mut Map<String, Value>) {
    for (key, value) in from {
        if is_extension(key) {
            to.insert(key.clone(), value.clone());
        }
    }
}

/// A parameter that becomes (part of) a request body.
enum BodyParameter<'a> {
    /// `$ref` to a global body parameter: becomes a `$ref` to `components/requestBodies`.
    Global(String),
    /// A body parameter written in place, with its pointer.
    Inline(&'a Map<String, Value>, String),
}

/// A form field: a `formData` parameter (resolved if it was a `$ref`) and its pointer.
struct FormField<'a> {
    name: String,
    param: &'a Map<String, Value>,
    at: String,
}

/// A parameter of the document's `parameters`: its name, its object and its pointer.
struct GlobalParameter<'a> {
    name: String,
    param: &'a Map<String, Value>,
    at: String,
}

/// The parameters of one path item or operation, sorted by what they become.
#[derive(Default)]
struct ParameterSet<'a> {
    /// OpenAPI 3.0 parameters (converted, or `$ref`s to `components/parameters`).
    plain: Vec<Value>,
    body: Option<BodyParameter<'a>>,
    form: Vec<FormField<'a>>,
}

/// One conversion: the Swagger 2.0 root and the document-wide defaults.
struct Converter<'a> {
    file: &'a str,
    root: &'a Map<String, Value>,
    consumes: Vec<String>,
    produces: Vec<String>,
}

impl<'a> Converter<'a> {
    fn new(file: &'a str, root: &'a Map<String, Value>) -> Result<Self> {
        let mut converter = Converter {
            file,
            root,
            consumes: Vec::new(),
            produces: Vec::new(),
        };
        converter.consumes = converter
            .media_types(root, "consumes", "")?
            .unwrap_or_default();
        converter.produces = converter
            .media_types(root, "produces", "")?
            .unwrap_or_default();
        Ok(converter)
    }

    fn invalid(&self, at: &str, message: impl Into<String>) -> SpecError {
        SpecError::Invalid {
            file: self.file.to_owned(),
            pointer: at.to_owned(),
            message: message.into(),
        }
    }

    fn object<'v>(&self, value: &'v Value, at: &str) -> Result<&'v Map<String, Value>> {
        value.as_object().ok_or_else(|| {
            self.invalid(
                at,
                format!("expected a mapping, found {}", json_kind(value)),
            )
        })
    }

    fn array<'v>(&self, value: &'v Value, at: &str) -> Result<&'v Vec<Value>> {
        value.as_array().ok_or_else(|| {
            self.invalid(
                at,
                format!("expected a sequence, found {}", json_kind(value)),
            )
        })
    }

    fn string<'v>(&self, value: &'v Value, at: &str) -> Result<&'v str> {
        value.as_str().ok_or_else(|| {
            self.invalid(at, format!("expected a string, found {}", json_kind(value)))
        })
    }

    /// `map[key]` as a list of media types, `None` when absent or empty.
    fn media_types(
        &self,
        map: &Map<String, Value>,
        key: &str,
        at: &str,
    ) -> Result<Option<Vec<String>>> {
        let Some(value) = map.get(key) else {
            return Ok(None);
        };
        let at = child(at, key);
        let mut types = Vec::new();
        for (index, item) in self.array(value, &at)?.iter().enumerate() {
            types.push(
                self.string(item, &child(&at, &index.to_string()))?
                    .to_owned(),
            );
        }
        Ok((!types.is_empty()).then_some(types))
    }

    /// The whole OpenAPI 3.0 tree.
    fn document(&self) -> Result<Value> {
        let mut out = Map::new();
        out.insert("openapi".into(), OPENAPI_VERSION.into());
        for (key, value) in self.root {
            match key.as_str() {
                "swagger"
                | "host"
                | "basePath"
                | "schemes"
                | "consumes"
                | "produces"
                | "definitions"
                | "parameters"
                | "responses"
                | "securityDefinitions"
                | "paths" => {}
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        if let Some(servers) = self.servers()? {
            out.insert("servers".into(), servers);
        }
        let paths = match self.root.get("paths") {
            Some(paths) => self.paths(paths, "/paths")?,
            None => Value::Object(Map::new()),
        };
        out.insert("paths".into(), paths);
        let components = self.components()?;
        if !components.is_empty() {
            out.insert("components".into(), Value::Object(components));
        }
        Ok(Value::Object(out))
    }

    /// `host`, `basePath` and `schemes` as a `servers` list.
    fn servers(&self) -> Result<Option<Value>> {
        let host = match self.root.get("host") {
            Some(host) => Some(self.string(host, "/host")?),
            None => None,
        };
        let base_path = match self.root.get("basePath") {
            Some(path) => self.string(path, "/basePath")?,
            None => "",
        };
        let Some(host) = host else {
            return Ok((!base_path.is_empty()).then(|| json!([{ "url": base_path }])));
        };
        let schemes = self.media_types(self.root, "schemes", "")?;
        let urls: Vec<Value> = match schemes {
            Some(schemes) => schemes
                .iter()
                .map(|scheme| json!({ "url": format!("{scheme}://{host}{base_path}") }))
                .collect(),
            None => vec![json!({ "url": format!("//{host}{base_path}") })],
        };
        Ok(Some(Value::Array(urls)))
    }

    fn components(&self) -> Result<Map<String, Value>> {
        let mut components = Map::new();
        if let Some(definitions) = self.root.get("definitions") {
            let mut schemas = Map::new();
            for (name, schema) in self.object(definitions, "/definitions")? {
                let at = child("/definitions", name);
                schemas.insert(name.clone(), self.schema(schema, &at)?);
            }
            components.insert("schemas".into(), Value::Object(schemas));
        }
        if let Some(parameters) = self.root.get("parameters") {
            let mut plain = Map::new();
            let mut bodies = Map::new();
            for (name, param) in self.object(parameters, "/parameters")? {
                let at = child("/parameters", name);
                let param = self.object(param, &at)?;
                match self.location(param, &at)? {
                    "body" => {
                        let body = self.request_body(param, &at, &self.consumes)?;
                        bodies.insert(name.clone(), body);
                    }
                    // Form fields are inlined into the request body of each
                    // operation that refers to them.
                    "formData" => {}
                    location => {
                        plain.insert(name.clone(), self.parameter(param, location, &at)?);
                    }
                }
            }
            if !plain.is_empty() {
                components.insert("parameters".into(), Value::Object(plain));
            }
            if !bodies.is_empty() {
                components.insert("requestBodies".into(), Value::Object(bodies));
            }
        }
        if let Some(responses) = self.root.get("responses") {
            let mut out = Map::new();
            for (name, response) in self.object(responses, "/responses")? {
                let at = child("/responses", name);
                out.insert(name.clone(), self.response(response, &at, &self.produces)?);
            }
            components.insert("responses".into(), Value::Object(out));
        }
        if let Some(schemes) = self.root.get("securityDefinitions") {
            let mut out = Map::new();
            for (name, scheme) in self.object(schemes, "/securityDefinitions")? {
                let at = child("/securityDefinitions", name);
                out.insert(name.clone(), self.security_scheme(scheme, &at)?);
            }
            components.insert("securitySchemes".into(), Value::Object(out));
        }
        Ok(components)
    }

    fn security_scheme(&self, scheme: &Value, at: &str) -> Result<Value> {
        let scheme = self.object(scheme, at)?;
        let kind = self.string(
            scheme
                .get("type")
                .ok_or_else(|| self.invalid(at, "security scheme has no `type`"))?,
            &child(at, "type"),
        )?;
        let mut out = Map::new();
        match kind {
            "basic" => {
                out.insert("type".into(), "http".into());
                out.insert("scheme".into(), "basic".into());
            }
            "apiKey" => {
                out.insert("type".into(), "apiKey".into());
                for key in ["name", "in"] {
                    if let Some(value) = scheme.get(key) {
                        out.insert(key.into(), value.clone());
                    }
                }
            }
            "oauth2" => {
                let flow = match scheme.get("flow") {
                    Some(flow) => self.string(flow, &child(at, "flow"))?,
                    None => return Err(self.invalid(at, "oauth2 security scheme has no `flow`")),
                };
                let flow_name = match flow {
                    "implicit" => "implicit",
                    "password" => "password",
                    "application" => "clientCredentials",
                    "accessCode" => "authorizationCode",
                    other => {
                        return Err(self.invalid(
                            &child(at, "flow"),
                            format!("unknown oauth2 flow `{other}`"),
                        ));
                    }
                };
                let mut flow_out = Map::new();
                for key in ["authorizationUrl", "tokenUrl"] {
                    if let Some(value) = scheme.get(key) {
                        flow_out.insert(key.into(), value.clone());
                    }
                }
                let scopes = scheme.get("scopes").cloned().unwrap_or_else(|| json!({}));
                flow_out.insert("scopes".into(), scopes);
                out.insert("type".into(), "oauth2".into());
                out.insert("flows".into(), json!({ flow_name: flow_out }));
            }
            other => {
                return Err(self.invalid(
                    &child(at, "type"),
                    format!("unknown security scheme type `{other}`"),
                ));
            }
        }
        if let Some(description) = scheme.get("description") {
            out.insert("description".into(), description.clone());
        }
        copy_extensions(scheme, &mut out);
        Ok(Value::Object(out))
    }

    fn paths(&self, paths: &'a Value, at: &str) -> Result<Value> {
        let mut out = Map::new();
        for (path, item) in self.object(paths, at)? {
            let item_at = child(at, path);
            let converted = if is_extension(path) {
                item.clone()
            } else {
                self.path_item(item, &item_at)?
            };
            out.insert(path.clone(), converted);
        }
        Ok(Value::Object(out))
    }

    fn path_item(&self, item: &'a Value, at: &str) -> Result<Value> {
        let item = self.object(item, at)?;
        let shared = match item.get("parameters") {
            Some(params) => self.parameter_set(params, &child(at, "parameters"))?,
            None => ParameterSet::default(),
        };
        let mut out = Map::new();
        for (key, value) in item {
            let key_at = child(at, key);
            if METHODS.contains(&key.as_str()) {
                out.insert(key.clone(), self.operation(value, &key_at, &shared)?);
            } else if key == "$ref" || is_extension(key) {
                out.insert(key.clone(), value.clone());
            }
        }
        if !shared.plain.is_empty() {
            out.insert("parameters".into(), Value::Array(shared.plain));
        }
        Ok(Value::Object(out))
    }

    /// One operation; `shared` holds the parameters of its path item, whose
    /// body and form fields apply to the operation unless it overrides them.
    fn operation(&self, op: &'a Value, at: &str, shared: &ParameterSet<'_>) -> Result<Value> {
        let op = self.object(op, at)?;
        let mut out = Map::new();
        for (key, value) in op {
            match key.as_str() {
                "parameters" | "consumes" | "produces" | "responses" | "schemes" => {}
                _ => {
                    out.insert(key.clone(), value.clone());
                }
            }
        }
        let consumes = self.effective_media_types(op, "consumes", at, &self.consumes)?;
        let produces = self.effective_media_types(op, "produces", at, &self.produces)?;
        let own = match op.get("parameters") {
            Some(params) => self.parameter_set(params, &child(at, "parameters"))?,
            None => ParameterSet::default(),
        };
        if !own.plain.is_empty() {
            out.insert("parameters".into(), Value::Array(own.plain));
        }
        let body = own.body.as_ref().or(shared.body.as_ref());
        let mut form: Vec<&FormField<'_>> = own.form.iter().collect();
        for field in &shared.form {
            if !own.form.iter().any(|f| f.name == field.name) {
                form.push(field);
            }
        }
        match (body, form.is_empty()) {
            (Some(_), false) => {
                return Err(self.invalid(at, "operation has both body and formData parameters"));
            }
            (Some(BodyParameter::Global(name)), true) => {
                let reference = format!("#/components/requestBodies/{name}");
                out.insert("requestBody".into(), json!({ "$ref": reference }));
            }
            (Some(BodyParameter::Inline(param, param_at)), true) => {
                let body = self.request_body(param, param_at, &consumes)?;
                out.insert("requestBody".into(), body);
            }
            (None, false) => {
                out.insert("requestBody".into(), self.form_body(&form, &consumes)?);
            }
            (None, true) => {}
        }
        if let Some(responses) = op.get("responses") {
            let responses_at = child(at, "responses");
            let mut converted = Map::new();
            for (code, response) in self.object(responses, &responses_at)? {
                let value = if is_extension(code) {
                    response.clone()
                } else {
                    self.response(response, &child(&responses_at, code), &produces)?
                };
                converted.insert(code.clone(), value);
            }
            out.insert("responses".into(), Value::Object(converted));
        }
        Ok(Value::Object(out))
    }

    /// The operation's own media types, else the document's, else JSON.
    fn effective_media_types(
        &self,
        op: &Map<String, Value>,
        key: &str,
        at: &str,
        global: &[String],
    ) -> Result<Vec<String>> {
        Ok(match self.media_types(op, key, at)? {
            Some(types) => types,
            None if !global.is_empty() => global.to_vec(),
            None => vec![DEFAULT_MEDIA_TYPE.to_owned()],
        })
    }

    /// The `in` of a Swagger 2.0 parameter.
    fn location<'v>(&self, param: &'v Map<String, Value>, at: &str) -> Result<&'v str> {
        match param.get("in") {
            Some(location) => self.string(location, &child(at, "in")),
            None => Err(self.invalid(at, "parameter has no `in`")),
        }
    }

    /// Sorts a `parameters` list into plain parameters, a body and form fields.
    fn parameter_set(&self, params: &'a Value, at: &str) -> Result<ParameterSet<'a>> {
        let mut set = ParameterSet::default();
        for (index, param) in self.array(params, at)?.iter().enumerate() {
            let param_at = child(at, &index.to_string());
            let param = self.object(param, &param_at)?;
            let (resolved, resolved_at, global) = match param.get("$ref") {
                Some(reference) => {
                    let reference = self.string(reference, &child(&param_at, "$ref"))?;
                    match self.global_parameter(reference)? {
                        Some(GlobalParameter { name, param, at }) => {
                            (param, at, Some((name, reference)))
                        }
                        None => {
                            // Points nowhere we know: left for normalisation to report.
                            set.plain.push(json!({ "$ref": rewrite_ref(reference) }));
                            continue;
                        }
                    }
                }
                None => (param, param_at, None),
            };
            match self.location(resolved, &resolved_at)? {
                "body" => {
                    if set.body.is_some() {
                        return Err(self.invalid(&resolved_at, "more than one body parameter"));
                    }
                    set.body = Some(match global {
                        Some((name, _)) => BodyParameter::Global(name),
                        None => BodyParameter::Inline(resolved, resolved_at),
                    });
                }
                "formData" => {
                    let name = match resolved.get("name") {
                        Some(name) => self.string(name, &child(&resolved_at, "name"))?,
                        None => return Err(self.invalid(&resolved_at, "form field has no `name`")),
                    };
                    set.form.push(FormField {
                        name: name.to_owned(),
                        param: resolved,
                        at: resolved_at,
                    });
                }
                location => match global {
                    Some((_, reference)) => {
                        set.plain.push(json!({ "$ref": rewrite_ref(reference) }));
                    }
                    None => set
                        .plain
                        .push(self.parameter(resolved, location, &resolved_at)?),
                },
            }
        }
        Ok(set)
    }

    /// The global parameter that `reference` names, if it is `#/parameters/…`
    /// and exists: its name, its object and its pointer.
    fn global_parameter(&self, reference: &str) -> Result<Option<GlobalParameter<'a>>> {
        let Some(name) = reference.strip_prefix("#/parameters/") else {
            return Ok(None);
        };
        let unescaped = name.replace("~1", "/").replace("~0", "~");
        let Some(param) = self
            .root
            .get("parameters")
            .and_then(|params| params.get(&unescaped))
        else {
            return Ok(None);
        };
        let at = child("/parameters", &unescaped);
        Ok(Some(GlobalParameter {
            name: name.to_owned(),
            param: self.object(param, &at)?,
            at,
        }))
    }

    /// A query, header or path parameter.
    fn parameter(&self, param: &Map<String, Value>, location: &str, at: &str) -> Result<Value> {
        if !matches!(location, "query" | "header" | "path" | "cookie") {
            return Err(self.invalid(
                &child(at, "in"),
                format!("unknown parameter location `{location}`"),
            ));
        }
        let mut out = Map::new();
        for (key, value) in param {
            match key.as_str() {
                "name" | "in" | "description" | "required" | "allowEmptyValue" => {
                    out.insert(key.clone(), value.clone());
                }
                "x-nullable" => {}
                _ if is_extension(key) => {
                    out.insert(key.clone(), value.clone());
                }
                _ => {}
            }
        }
        out.insert("schema".into(), self.simple_schema(param, at)?);
        if let Some((style, explode)) = self.style(param, location, at)? {
            out.insert("style".into(), style.into());
            out.insert("explode".into(), explode.into());
        }
        if let Some(format) = param.get("collectionFormat") {
            out.insert("x-collection-format".into(), format.clone());
        }
        Ok(Value::Object(out))
    }

    /// The OpenAPI 3.0 `style` and `explode` of an array parameter or form
    /// field, from its `collectionFormat` (default `csv`); `None` when it is not
    /// an array or its format has no OpenAPI 3.0 equivalent.
    fn style(
        &self,
        param: &Map<String, Value>,
        location: &str,
        at: &str,
    ) -> Result<Option<(&'static str, bool)>> {
        if param.get("type").and_then(Value::as_str) != Some("array") {
            return Ok(None);
        }
        let format = match param.get("collectionFormat") {
            Some(format) => self.string(format, &child(at, "collectionFormat"))?,
            None => "csv",
        };
        Ok(match (location, format) {
            ("query" | "formData", "csv") => Some(("form", false)),
            ("query" | "formData", "multi") => Some(("form", true)),
            ("query" | "formData", "ssv") => Some(("spaceDelimited", false)),
            ("query" | "formData", "pipes") => Some(("pipeDelimited", false)),
            ("path" | "header", "csv") => Some(("simple", false)),
            _ => None,
        })
    }

    /// The schema of a non-body parameter, header or `items` object: its value
    /// facets, `items` converted the same way, `type: file` as binary string.
    fn simple_schema(&self, param: &Map<String, Value>, at: &str) -> Result<Value> {
        let mut out = Map::new();
        for key in SCHEMA_FACETS {
            if let Some(value) = param.get(key) {
                out.insert(key.into(), value.clone());
            }
        }
        if let Some(items) = param.get("items") {
            let items_at = child(at, "items");
            let items_map = self.object(items, &items_at)?;
            let mut items_schema = self.simple_schema(items_map, &items_at)?;
            if let (Some(format), Some(schema)) = (
                items_map.get("collectionFormat"),
                items_schema.as_object_mut(),
            ) {
                schema.insert("x-collection-format".into(), format.clone());
            }
            if let Some(schema) = items_schema.as_object_mut() {
                for (key, value) in items_map {
                    if is_extension(key) && !schema.contains_key(key) {
                        schema.insert(key.clone(), value.clone());
                    }
                }
            }
            out.insert("items".into(), items_schema);
        }
        apply_file_type(&mut out);
        apply_nullable(&mut out);
        Ok(Value::Object(out))
    }

    /// A body parameter as a request body with one content entry per media type.
    fn request_body(
        &self,
        param: &Map<String, Value>,
        at: &str,
        consumes: &[String],
    ) -> Result<Value> {
        let schema = match param.get("schema") {
            Some(schema) => self.schema(schema, &child(at, "schema"))?,
            None => return Err(self.invalid(at, "body parameter has no `schema`")),
        };
        let mut content = Map::new();
        for media_type in consumes {
            content.insert(media_type.clone(), json!({ "schema": schema }));
        }
        let mut out = Map::new();
        if let Some(description) = param.get("description") {
            out.insert("description".into(), description.clone());
        }
        out.insert("content".into(), Value::Object(content));
        if let Some(required) = param.get("required") {
            out.insert("required".into(), required.clone());
        }
        copy_extensions(param, &mut out);
        if let Some(name) = param.get("name") {
            out.insert("x-body-name".into(), name.clone());
        }
        Ok(Value::Object(out))
    }

    /// Form fields as a request body holding one object schema, encoded as
    /// multipart or urlencoded (whichever `consumes` lists; multipart when a
    /// field is a file and it lists neither).
    fn form_body(&self, fields: &[&FormField<'_>], consumes: &[String]) -> Result<Value> {
        let mut properties = Map::new();
        let mut required = Vec::new();
        let mut encoding = Map::new();
        let mut has_file = false;
        for field in fields {
            let mut schema = self.simple_schema(field.param, &field.at)?;
            if let (Some(description), Some(schema)) =
                (field.param.get("description"), schema.as_object_mut())
            {
                schema.insert("description".into(), description.clone());
            }
            if let Some(schema) = schema.as_object_mut() {
                copy_extensions(field.param, schema);
            }
            has_file |= field.param.get("type").and_then(Value::as_str) == Some("file");
            if field.param.get("required").and_then(Value::as_bool) == Some(true) {
                required.push(Value::String(field.name.clone()));
            }
            let mut field_encoding = Map::new();
            if let Some((style, explode)) = self.style(field.param, "formData", &field.at)? {
                field_encoding.insert("style".into(), style.into());
                field_encoding.insert("explode".into(), explode.into());
            }
            if let Some(format) = field.param.get("collectionFormat") {
                field_encoding.insert("x-collection-format".into(), format.clone());
            }
            if !field_encoding.is_empty() {
                encoding.insert(field.name.clone(), Value::Object(field_encoding));
            }
            properties.insert(field.name.clone(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), "object".into());
        schema.insert("properties".into(), Value::Object(properties));
        let any_required = !required.is_empty();
        if any_required {
            schema.insert("required".into(), Value::Array(required));
        }
        let mut media_types: Vec<&str> = consumes
            .iter()
            .map(String::as_str)
            .filter(|m| *m == MULTIPART || *m == URLENCODED)
            .collect();
        if media_types.is_empty() {
            media_types.push(if has_file { MULTIPART } else { URLENCODED });
        }
        let mut content = Map::new();
        for media_type in media_types {
            let mut entry = Map::new();
            entry.insert("schema".into(), Value::Object(schema.clone()));
            if !encoding.is_empty() {
                entry.insert("encoding".into(), Value::Object(encoding.clone()));
            }
            content.insert(media_type.to_owned(), Value::Object(entry));
        }
        Ok(json!({ "content": content, "required": any_required }))
    }

    /// A response: schema under each produced media type, examples, headers.
    fn response(&self, response: &Value, at: &str, produces: &[String]) -> Result<Value> {
        let response = self.object(response, at)?;
        if let Some(reference) = response.get("$ref") {
            let reference = self.string(reference, &child(at, "$ref"))?;
            return Ok(json!({ "$ref": rewrite_ref(reference) }));
        }
        let mut out = Map::new();
        if let Some(description) = response.get("description") {
            out.insert("description".into(), description.clone());
        }
        copy_extensions(response, &mut out);
        let schema = match response.get("schema") {
            Some(schema) => Some(self.schema(schema, &child(at, "schema"))?),
            None => None,
        };
        let mut content = Map::new();
        if let Some(schema) = &schema {
            let fallback = [DEFAULT_MEDIA_TYPE.to_owned()];
            let media_types = if produces.is_empty() {
                &fallback[..]
            } else {
                produces
            };
            for media_type in media_types {
                content.insert(media_type.clone(), json!({ "schema": schema }));
            }
        } else if carries_body(at) {
            // A success without a schema whose operation produces bytes (a tar
            // archive, an export) still has that body: keep its media types.
            for media_type in produces.iter().filter(|m| is_binary_media_type(m)) {
                content.insert(media_type.clone(), json!({}));
            }
        }
        if let Some(examples) = response.get("examples") {
            let examples_at = child(at, "examples");
            for (media_type, example) in self.object(examples, &examples_at)? {
                let entry = content.entry(media_type.clone()).or_insert_with(|| {
                    let mut entry = Map::new();
                    if let Some(schema) = &schema {
                        entry.insert("schema".into(), schema.clone());
                    }
                    Value::Object(entry)
                });
                if let Some(entry) = entry.as_object_mut() {
                    entry.insert("example".into(), example.clone());
                }
            }
        }
        if !content.is_empty() {
            out.insert("content".into(), Value::Object(content));
        }
        if let Some(headers) = response.get("headers") {
            let headers_at = child(at, "headers");
            let mut converted = Map::new();
            for (name, header) in self.object(headers, &headers_at)? {
                let header_at = child(&headers_at, name);
                let header = self.object(header, &header_at)?;
                let mut header_out = Map::new();
                if let Some(description) = header.get("description") {
                    header_out.insert("description".into(), description.clone());
                }
                header_out.insert("schema".into(), self.simple_schema(header, &header_at)?);
                if let Some(format) = header.get("collectionFormat") {
                    header_out.insert("x-collection-format".into(), format.clone());
                }
                for (key, value) in header {
                    if is_extension(key) && key != "x-nullable" {
                        header_out.insert(key.clone(), value.clone());
                    }
                }
                converted.insert(name.clone(), Value::Object(header_out));
            }
            out.insert("headers".into(), Value::Object(converted));
        }
        Ok(Value::Object(out))
    }

    /// A Swagger 2.0 schema as an OpenAPI 3.0 schema, recursively.
    fn schema(&self, schema: &Value, at: &str) -> Result<Value> {
        let schema = self.object(schema, at)?;
        if let Some(reference) = schema.get("$ref") {
            let reference = rewrite_ref(self.string(reference, &child(at, "$ref"))?);
            // OpenAPI 3.0 ignores the siblings of `$ref`; nullability is kept
            // by wrapping the reference.
            return Ok(
                if schema.get("x-nullable").and_then(Value::as_bool) == Some(true) {
                    json!({ "nullable": true, "allOf": [{ "$ref": reference }] })
                } else {
                    json!({ "$ref": reference })
                },
            );
        }
        let mut out = Map::new();
        for (key, value) in schema {
            let key_at = child(at, key);
            let converted = match key.as_str() {
                "properties" => {
                    let mut properties = Map::new();
                    for (name, property) in self.object(value, &key_at)? {
                        properties
                            .insert(name.clone(), self.schema(property, &child(&key_at, name))?);
                    }
                    Value::Object(properties)
                }
                "allOf" | "anyOf" | "oneOf" => self.schema_list(value, &key_at)?,
                "items" if value.is_array() => self.schema_list(value, &key_at)?,
                "items" | "not" => self.schema(value, &key_at)?,
                "additionalProperties" if value.is_boolean() => value.clone(),
                "additionalProperties" => self.schema(value, &key_at)?,
                "discriminator" => match value {
                    Value::String(name) => json!({ "propertyName": name }),
                    other => other.clone(),
                },
                _ => value.clone(),
            };
            out.insert(key.clone(), converted);
        }
        apply_file_type(&mut out);
        apply_nullable(&mut out);
        self.split_type_list(&mut out, at)?;
        Ok(Value::Object(out))
    }

    /// A JSON-Schema type list (`type: [array, string]`, which Docker's specs
    /// use though neither Swagger 2.0 nor OpenAPI 3.0 allows it) becomes a
    /// `oneOf` with one branch per type, each taking the keywords that apply to
    /// its type; `null` in the list becomes `nullable: true`.
    fn split_type_list(&self, schema: &mut Map<String, Value>, at: &str) -> Result<()> {
        let Some(Value::Array(types)) = schema.get("type") else {
            return Ok(());
        };
        let type_at = child(at, "type");
        let mut names = Vec::new();
        for (index, name) in types.iter().enumerate() {
            names.push(
                self.string(name, &child(&type_at, &index.to_string()))?
                    .to_owned(),
            );
        }
        schema.remove("type");
        if names.iter().any(|name| name == "null") {
            schema.insert("nullable".into(), true.into());
            names.retain(|name| name != "null");
        }
        let keywords_of = |name: &str| -> &'static [&'static str] {
            match name {
                "array" => &["items", "minItems", "maxItems", "uniqueItems"],
                "object" => &[
                    "properties",
                    "additionalProperties",
                    "required",
                    "minProperties",
                    "maxProperties",
                    "discriminator",
                ],
                "string" => &["format", "minLength", "maxLength", "pattern"],
                "number" | "integer" => &[
                    "format",
                    "minimum",
                    "maximum",
                    "exclusiveMinimum",
                    "exclusiveMaximum",
                    "multipleOf",
                ],
                _ => &[],
            }
        };
        if let [name] = names.as_slice() {
            schema.insert("type".into(), name.as_str().into());
            return Ok(());
        }
        let branches: Vec<Value> = names
            .iter()
            .map(|name| {
                let mut branch = Map::new();
                branch.insert("type".into(), name.as_str().into());
                for keyword in keywords_of(name) {
                    if let Some(value) = schema.get(*keyword) {
                        branch.insert((*keyword).into(), value.clone());
                    }
                }
                Value::Object(branch)
            })
            .collect();
        for name in &names {
            for keyword in keywords_of(name) {
                schema.remove(*keyword);
            }
        }
        if !branches.is_empty() {
            schema.insert("oneOf".into(), Value::Array(branches));
        }
        Ok(())
    }

    fn schema_list(&self, list: &Value, at: &str) -> Result<Value> {
        let mut out = Vec::new();
        for (index, schema) in self.array(list, at)?.iter().enumerate() {
            out.push(self.schema(schema, &child(at, &index.to_string()))?);
        }
        Ok(Value::Array(out))
    }
}

/// `type: file` (Swagger 2.0 only) becomes a binary string.
fn apply_file_type(schema: &mut Map<String, Value>) {
    if schema.get("type").and_then(Value::as_str) == Some("file") {
        schema.insert("type".into(), "string".into());
        schema.insert("format".into(), "binary".into());
    }
}

/// `x-nullable: true` also becomes `nullable: true`.
fn apply_nullable(schema: &mut Map<String, Value>) {
    if schema.get("x-nullable").and_then(Value::as_bool) == Some(true) {
        schema.insert("nullable".into(), true.into());
    }
}

/// Whether the response at pointer `at` (ending in its status) may carry a
/// body: a 2xx other than 204 (1xx, 204 and 304 never have one).
fn carries_body(at: &str) -> bool {
    let status = at.rsplit('/').next().unwrap_or_default();
    status.starts_with('2') && status != "204"
}

/// Whether a media type is bytes rather than JSON or text.
fn is_binary_media_type(media_type: &str) -> bool {
    let essence = media_type.split(';').next().unwrap_or_default().trim();
    !(essence.ends_with("json") || essence.starts_with("text/"))
}

/// Rewrites a Swagger 2.0 `$ref` to where the conversion moved its target.
///
/// A reference to a global body parameter is written as a request-body
/// reference by the caller; here `#/parameters/` maps to
/// `#/components/parameters/`. Other references are returned unchanged.
fn rewrite_ref(reference: &str) -> String {
    let (document, fragment) = match reference.find('#') {
        Some(hash) => reference.split_at(hash),
        None => return reference.to_owned(),
    };
    for (from, to) in [
        ("#/definitions/", "#/components/schemas/"),
        ("#/parameters/", "#/components/parameters/"),
        ("#/responses/", "#/components/responses/"),
    ] {
        if let Some(rest) = fragment.strip_prefix(from) {
            return format!("{document}{to}{rest}");
        }
    }
    reference.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::parse_document;
    use openapiv3::{ReferenceOr, SchemaKind, SecurityScheme};
    use std::path::PathBuf;

    /// Converts an inline Swagger 2.0 YAML fixture and returns the result as JSON.
    fn convert(yaml: &str) -> Value {
        let doc = parse_document("fixture.yaml", yaml).expect("fixture parses");
        let api = to_openapi3("fixture.yaml", doc).expect("fixture converts");
        serde_json::to_value(&api).expect("OpenAPI serializes")
    }

    fn convert_err(yaml: &str) -> SpecError {
        let doc = parse_document("fixture.yaml", yaml).expect("fixture parses");
        to_openapi3("fixture.yaml", doc).expect_err("fixture must be rejected")
    }

    fn invalid_pointer(error: SpecError) -> String {
        match error {
            SpecError::Invalid { pointer, .. } => pointer,
            other => panic!("expected SpecError::Invalid, got {other:?}"),
        }
    }

    const HEADER: &str = "swagger: \"2.0\"\ninfo: {title: t, version: \"1\"}\n";

    // ---- the nine real Docker specs ------------------------------------------

    const DOCKER_VERSIONS: [&str; 9] = [
        "1.25", "1.26", "1.27", "1.28", "1.29", "1.30", "1.31", "1.32", "1.33",
    ];

    fn specs_dir() -> PathBuf {
        let dir = match std::env::var_os("DRYDOCK_SPECS_DIR") {
            Some(dir) => PathBuf::from(dir),
            None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/docker"),
        };
        assert!(
            dir.is_dir(),
            "the Docker spec mirror is missing: expected v1.25.yaml..v1.33.yaml in {} \
             (set DRYDOCK_SPECS_DIR to the folder holding them)",
            dir.display()
        );
        dir
    }

    /// One converted Docker spec: its version, the Swagger 2.0 input, the
    /// OpenAPI 3.0 result and that result serialized back to JSON.
    struct DockerSpec {
        version: &'static str,
        input: Value,
        api: OpenAPI,
        output: Value,
    }

    /// The nine Docker specs, loaded and converted once for all tests.
    fn docker_specs() -> &'static [DockerSpec] {
        static SPECS: std::sync::OnceLock<Vec<DockerSpec>> = std::sync::OnceLock::new();
        SPECS.get_or_init(|| {
            let dir = specs_dir();
            DOCKER_VERSIONS
                .iter()
                .map(|version| {
                    let path = dir.join(format!("v{version}.yaml"));
                    let input = crate::document::load_document(&path)
                        .unwrap_or_else(|e| panic!("v{version} does not load: {e}"));
                    let api = to_openapi3(&path.display().to_string(), input.clone())
                        .unwrap_or_else(|e| panic!("v{version} does not convert: {e}"));
                    let output = serde_json::to_value(&api).expect("OpenAPI serializes");
                    DockerSpec {
                        version,
                        input,
                        api,
                        output,
                    }
                })
                .collect()
        })
    }

    fn walk<'v>(value: &'v Value, at: String, visit: &mut impl FnMut(&str, &'v Value)) {
        visit(&at, value);
        match value {
            Value::Object(map) => {
                for (key, child_value) in map {
                    walk(child_value, child(&at, key), visit);
                }
            }
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    walk(item, format!("{at}/{index}"), visit);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn every_docker_spec_converts_keeping_every_operation() {
        for DockerSpec {
            version,
            input,
            output,
            ..
        } in docker_specs()
        {
            let input_paths = input["paths"].as_object().expect("input paths");
            let output_paths = output["paths"].as_object().expect("output paths");
            assert_eq!(
                input_paths.keys().collect::<Vec<_>>(),
                output_paths.keys().collect::<Vec<_>>(),
                "v{version}: paths differ"
            );
            for (path, item) in input_paths {
                for method in METHODS {
                    assert_eq!(
                        item.get(method).is_some(),
                        output_paths[path].get(method).is_some(),
                        "v{version}: {method} {path}"
                    );
                }
            }
            assert_eq!(
                output["servers"],
                json!([{ "url": format!("/v{version}") }])
            );
            assert_eq!(
                input["definitions"].as_object().map(Map::len),
                output["components"]["schemas"].as_object().map(Map::len),
                "v{version}: every definition becomes a component schema"
            );
        }
    }

    #[test]
    fn container_create_takes_a_json_body_whose_schema_is_an_all_of() {
        for DockerSpec { version, api, .. } in docker_specs() {
            let post = api
                .paths
                .paths
                .get("/containers/create")
                .and_then(ReferenceOr::as_item)
                .and_then(|item| item.post.as_ref())
                .expect("POST /containers/create");
            let body = post
                .request_body
                .as_ref()
                .and_then(ReferenceOr::as_item)
                .expect("inline request body");
            assert!(body.required, "v{version}: body is required");
            assert_eq!(body.extensions.get("x-body-name"), Some(&json!("body")));
            let media = body
                .content
                .get("application/json")
                .expect("application/json content");
            let schema = media
                .schema
                .as_ref()
                .and_then(ReferenceOr::as_item)
                .expect("inline schema");
            match &schema.schema_kind {
                SchemaKind::AllOf { all_of } => {
                    // `Config` until v1.29, `ContainerConfig` from v1.30.
                    match all_of.first() {
                        Some(ReferenceOr::Reference { reference }) => assert!(
                            reference.ends_with("Config")
                                && reference.starts_with("#/components/schemas/"),
                            "v{version}: {reference}"
                        ),
                        other => panic!("v{version}: allOf starts with {other:?}"),
                    }
                }
                other => panic!("v{version}: expected allOf, got {other:?}"),
            }
        }
    }

    #[test]
    fn responses_take_media_types_from_operation_or_global_produces() {
        for DockerSpec {
            version, output, ..
        } in docker_specs()
        {
            let attach = &output["paths"]["/containers/{id}/attach"]["post"]["responses"];
            let keys = |response: &Value| {
                response["content"]
                    .as_object()
                    .map(|c| c.keys().cloned().collect::<Vec<_>>())
                    .unwrap_or_default()
            };
            assert_eq!(
                keys(&attach["400"]),
                ["application/vnd.docker.raw-stream"],
                "v{version}: attach 400 uses the operation's produces"
            );
            assert_eq!(
                attach["400"]["content"]["application/vnd.docker.raw-stream"]["schema"]["$ref"],
                "#/components/schemas/ErrorResponse"
            );
            // The example's media type joins the produced one.
            assert_eq!(
                keys(&attach["404"]),
                ["application/vnd.docker.raw-stream", "application/json"],
                "v{version}"
            );
            assert_eq!(
                attach["404"]["content"]["application/json"]["example"]["message"],
                "No such container: c2ada9df5af8"
            );
            assert!(
                attach["101"].get("content").is_none(),
                "v{version}: a response without schema has no content"
            );
            let logs = &output["paths"]["/containers/{id}/logs"]["get"]["responses"];
            assert_eq!(
                keys(&logs["200"]),
                ["application/json", "text/plain"],
                "v{version}: logs falls back to the global produces"
            );
        }
    }

    #[test]
    fn x_nullable_schemas_are_nullable_in_every_docker_spec() {
        for DockerSpec {
            version,
            input,
            output,
            ..
        } in docker_specs()
        {
            let mut nullable = Vec::new();
            walk(&input["definitions"], String::new(), &mut |at, node| {
                if node.get("x-nullable") == Some(&Value::Bool(true)) {
                    nullable.push(at.to_owned());
                }
            });
            assert!(!nullable.is_empty(), "v{version} has x-nullable schemas");
            for at in nullable {
                let converted = output
                    .pointer(&format!("/components/schemas{at}"))
                    .unwrap_or_else(|| panic!("v{version}: {at} is gone"));
                assert_eq!(
                    converted.get("nullable"),
                    Some(&Value::Bool(true)),
                    "v{version}: {at}"
                );
            }
        }
    }

    #[test]
    fn every_reference_in_a_converted_docker_spec_resolves() {
        for DockerSpec {
            version, output, ..
        } in docker_specs()
        {
            let mut references = 0;
            walk(output, String::new(), &mut |at, node| {
                let Some(reference) = node.get("$ref").and_then(Value::as_str) else {
                    return;
                };
                references += 1;
                assert!(
                    !reference.starts_with("#/definitions/"),
                    "v{version}: {at} still points into definitions"
                );
                let target = reference.strip_prefix('#').unwrap_or(reference);
                assert!(
                    output.pointer(target).is_some(),
                    "v{version}: {at}: `{reference}` resolves to nothing"
                );
            });
            assert!(references > 100, "v{version}: only {references} refs");
        }
    }

    #[test]
    fn docker_query_parameters_carry_their_type_in_a_schema() {
        for DockerSpec {
            version, output, ..
        } in docker_specs()
        {
            let params = output["paths"]["/containers/json"]["get"]["parameters"]
                .as_array()
                .expect("parameters");
            let all = params
                .iter()
                .find(|p| p["name"] == "all")
                .expect("`all` parameter");
            assert_eq!(all["in"], "query");
            assert_eq!(all["schema"]["type"], "boolean", "v{version}");
            assert_eq!(all["schema"]["default"], false, "v{version}");
        }
    }

    // ---- synthetic fixtures ---------------------------------------------------

    #[test]
    fn form_data_with_a_file_becomes_a_multipart_body() {
        let out = convert(&format!(
            "{HEADER}paths:
  /upload:
    post:
      consumes: [multipart/form-data]
      parameters:
        - {{name: file, in: formData, type: file, required: true, description: the file}}
        - {{name: note, in: formData, type: string, x-secret: true}}
      responses:
        200: {{description: ok}}
"
        ));
        let body = &out["paths"]["/upload"]["post"]["requestBody"];
        assert_eq!(body["required"], true);
        let schema = &body["content"]["multipart/form-data"]["schema"];
        assert_eq!(schema["type"], "object");
        assert_eq!(
            schema["properties"]["file"],
            json!({"type": "string", "format": "binary", "description": "the file"})
        );
        assert_eq!(schema["properties"]["note"]["x-secret"], true);
        assert_eq!(schema["required"], json!(["file"]));
        assert!(out["paths"]["/upload"]["post"].get("parameters").is_none());
    }

    #[test]
    fn form_data_without_form_consumes_is_urlencoded_unless_it_has_a_file() {
        let out = convert(&format!(
            "{HEADER}paths:
  /a:
    post:
      parameters: [{{name: n, in: formData, type: integer}}]
      responses: {{200: {{description: ok}}}}
  /b:
    post:
      parameters: [{{name: f, in: formData, type: file}}]
      responses: {{200: {{description: ok}}}}
"
        ));
        let content = |path: &str| {
            out["paths"][path]["post"]["requestBody"]["content"]
                .as_object()
                .map(|c| c.keys().cloned().collect::<Vec<_>>())
        };
        assert_eq!(content("/a"), Some(vec![URLENCODED.to_owned()]));
        assert_eq!(content("/b"), Some(vec![MULTIPART.to_owned()]));
        assert!(
            out["paths"]["/a"]["post"]["requestBody"]
                .get("required")
                .is_none()
        );
    }

    #[test]
    fn collection_formats_become_styles_and_are_kept_as_extensions() {
        let out = convert(&format!(
            "{HEADER}paths:
  /items/{{ids}}:
    get:
      parameters:
        - {{name: ids, in: path, required: true, type: array, items: {{type: integer}}}}
        - {{name: csv, in: query, type: array, items: {{type: string}}, collectionFormat: csv}}
        - {{name: multi, in: query, type: array, items: {{type: string}}, collectionFormat: multi}}
        - {{name: ssv, in: query, type: array, items: {{type: string}}, collectionFormat: ssv}}
        - {{name: pipes, in: query, type: array, items: {{type: string}}, collectionFormat: pipes}}
        - {{name: tsv, in: query, type: array, items: {{type: string}}, collectionFormat: tsv}}
        - {{name: tags, in: formData, type: array, items: {{type: string}}, collectionFormat: multi}}
      responses: {{200: {{description: ok}}}}
"
        ));
        let op = &out["paths"]["/items/{ids}"]["get"];
        let param = |name: &str| {
            op["parameters"]
                .as_array()
                .and_then(|ps| ps.iter().find(|p| p["name"] == name))
                .cloned()
                .unwrap_or_else(|| panic!("parameter {name}"))
        };
        let style = |name: &str| {
            let p = param(name);
            (
                p["style"].clone(),
                p["explode"].clone(),
                p["x-collection-format"].clone(),
            )
        };
        assert_eq!(style("ids"), (json!("simple"), json!(false), Value::Null));
        assert_eq!(style("csv"), (json!("form"), json!(false), json!("csv")));
        assert_eq!(style("multi"), (json!("form"), json!(true), json!("multi")));
        assert_eq!(
            style("ssv"),
            (json!("spaceDelimited"), json!(false), json!("ssv"))
        );
        assert_eq!(
            style("pipes"),
            (json!("pipeDelimited"), json!(false), json!("pipes"))
        );
        // tsv has no OpenAPI 3.0 style: openapiv3 writes its default style
        // and the original survives only as the extension.
        assert_eq!(style("tsv"), (json!("form"), Value::Null, json!("tsv")));
        assert_eq!(
            param("csv")["schema"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        let encoding = &op["requestBody"]["content"][URLENCODED]["encoding"]["tags"];
        assert_eq!(
            (
                &encoding["style"],
                &encoding["explode"],
                &encoding["x-collection-format"]
            ),
            (&json!("form"), &json!(true), &json!("multi"))
        );
    }

    #[test]
    fn global_parameters_move_to_components_and_body_ones_to_request_bodies() {
        let out = convert(&format!(
            "{HEADER}consumes: [application/json, text/plain]
parameters:
  Limit: {{name: limit, in: query, type: integer, minimum: 1}}
  Payload: {{name: payload, in: body, required: true, schema: {{$ref: '#/definitions/Thing'}}}}
  Upload: {{name: blob, in: formData, type: file}}
definitions:
  Thing: {{type: object}}
paths:
  /things:
    get:
      parameters: [{{$ref: '#/parameters/Limit'}}]
      responses: {{200: {{description: ok}}}}
    post:
      parameters: [{{$ref: '#/parameters/Payload'}}]
      responses: {{200: {{description: ok}}}}
    put:
      parameters: [{{$ref: '#/parameters/Upload'}}]
      responses: {{200: {{description: ok}}}}
"
        ));
        let components = &out["components"];
        let limit = &components["parameters"]["Limit"];
        assert_eq!(
            (&limit["name"], &limit["in"]),
            (&json!("limit"), &json!("query"))
        );
        assert_eq!(limit["schema"], json!({"type": "integer", "minimum": 1}));
        assert!(components["parameters"].get("Payload").is_none());
        assert!(components["parameters"].get("Upload").is_none());
        let body = &components["requestBodies"]["Payload"];
        assert_eq!(body["required"], true);
        assert_eq!(body["x-body-name"], "payload");
        assert_eq!(
            body["content"]["text/plain"]["schema"]["$ref"],
            "#/components/schemas/Thing"
        );
        let things = &out["paths"]["/things"];
        assert_eq!(
            things["get"]["parameters"],
            json!([{"$ref": "#/components/parameters/Limit"}])
        );
        assert_eq!(
            things["post"]["requestBody"],
            json!({"$ref": "#/components/requestBodies/Payload"})
        );
        assert_eq!(
            things["put"]["requestBody"]["content"][MULTIPART]["schema"]["properties"]["blob"],
            json!({"type": "string", "format": "binary"})
        );
    }

    #[test]
    fn path_level_parameters_survive_and_their_body_reaches_each_operation() {
        let out = convert(&format!(
            "{HEADER}paths:
  /things/{{id}}:
    parameters:
      - {{name: id, in: path, required: true, type: string}}
      - {{name: thing, in: body, schema: {{type: object}}}}
    put:
      consumes: [application/x-thing]
      responses: {{204: {{description: done}}}}
    get:
      parameters: [{{name: verbose, in: query, type: boolean}}]
      responses: {{200: {{description: ok}}}}
"
        ));
        let item = &out["paths"]["/things/{id}"];
        let id = &item["parameters"][0];
        assert_eq!(
            (&id["name"], &id["in"], &id["required"]),
            (&json!("id"), &json!("path"), &json!(true))
        );
        assert_eq!(id["schema"], json!({"type": "string"}));
        assert_eq!(item["parameters"].as_array().map(Vec::len), Some(1));
        assert_eq!(
            item["put"]["requestBody"]["content"],
            json!({"application/x-thing": {"schema": {"type": "object"}}})
        );
        assert_eq!(item["get"]["parameters"][0]["name"], "verbose");
        assert_eq!(
            item["get"]["requestBody"]["x-body-name"], "thing",
            "a path-level body applies to every operation"
        );
    }

    #[test]
    fn security_definitions_become_security_schemes() {
        let doc = parse_document(
            "sec.yaml",
            &format!(
                "{HEADER}securityDefinitions:
  basicAuth: {{type: basic, description: user and password}}
  key: {{type: apiKey, name: X-Key, in: header, x-note: n}}
  oauth: {{type: oauth2, flow: accessCode, authorizationUrl: 'https://a/auth',
           tokenUrl: 'https://a/token', scopes: {{read: reads}}}}
  implicit: {{type: oauth2, flow: implicit, authorizationUrl: 'https://a/auth'}}
security: [{{basicAuth: []}}]
paths: {{}}
"
            ),
        )
        .expect("parses");
        let api = to_openapi3("sec.yaml", doc).expect("converts");
        let schemes = &api
            .components
            .as_ref()
            .expect("components")
            .security_schemes;
        match schemes.get("basicAuth").and_then(ReferenceOr::as_item) {
            Some(SecurityScheme::HTTP {
                scheme,
                description,
                ..
            }) => {
                assert_eq!(scheme, "basic");
                assert_eq!(description.as_deref(), Some("user and password"));
            }
            other => panic!("basicAuth: {other:?}"),
        }
        match schemes.get("key").and_then(ReferenceOr::as_item) {
            Some(SecurityScheme::APIKey {
                location,
                name,
                extensions,
                ..
            }) => {
                assert_eq!(name, "X-Key");
                assert_eq!(*location, openapiv3::APIKeyLocation::Header);
                assert_eq!(extensions.get("x-note"), Some(&json!("n")));
            }
            other => panic!("key: {other:?}"),
        }
        match schemes.get("oauth").and_then(ReferenceOr::as_item) {
            Some(SecurityScheme::OAuth2 { flows, .. }) => {
                let flow = flows
                    .authorization_code
                    .as_ref()
                    .expect("authorizationCode");
                assert_eq!(flow.token_url, "https://a/token");
                assert_eq!(flow.scopes.get("read").map(String::as_str), Some("reads"));
            }
            other => panic!("oauth: {other:?}"),
        }
        match schemes.get("implicit").and_then(ReferenceOr::as_item) {
            Some(SecurityScheme::OAuth2 { flows, .. }) => assert!(flows.implicit.is_some()),
            other => panic!("implicit: {other:?}"),
        }
        assert_eq!(api.security.as_ref().map(Vec::len), Some(1));
    }

    #[test]
    fn unknown_security_scheme_type_names_its_pointer() {
        let error = convert_err(&format!(
            "{HEADER}securityDefinitions: {{s: {{type: kerberos}}}}\npaths: {{}}\n"
        ));
        assert_eq!(invalid_pointer(error), "/securityDefinitions/s/type");
    }

    #[test]
    fn body_parameter_keeps_description_extensions_and_name() {
        let out = convert(&format!(
            "{HEADER}paths:
  /b:
    post:
      consumes: [application/json, application/x-tar]
      parameters:
        - {{name: spec, in: body, description: what, required: true, x-go-name: Spec,
            schema: {{type: string}}}}
      responses: {{200: {{description: ok}}}}
"
        ));
        assert_eq!(
            out["paths"]["/b"]["post"]["requestBody"],
            json!({
                "description": "what",
                "content": {
                    "application/json": {"schema": {"type": "string"}},
                    "application/x-tar": {"schema": {"type": "string"}}
                },
                "required": true,
                "x-go-name": "Spec",
                "x-body-name": "spec"
            })
        );
    }

    #[test]
    fn a_download_without_a_schema_keeps_its_binary_media_types() {
        let doc = convert(&format!(
            "{HEADER}produces: [application/json, text/plain]
paths:
  /containers/{{id}}/export:
    get:
      produces: [application/octet-stream]
      responses:
        200: {{description: the export}}
        204: {{description: nothing}}
  /ping:
    get:
      responses:
        200: {{description: no schema, global produces}}
"
        ));
        let export = &doc["paths"]["/containers/{id}/export"]["get"]["responses"];
        assert_eq!(
            export["200"]["content"],
            json!({"application/octet-stream": {}})
        );
        assert!(
            export["204"].get("content").is_none(),
            "204 carries no body"
        );
        let ping = &doc["paths"]["/ping"]["get"]["responses"]["200"];
        assert!(
            ping.get("content").is_none(),
            "JSON and text without a schema stay empty"
        );
    }

    #[test]
    fn response_schemas_headers_examples_and_files_convert() {
        let out = convert(&format!(
            "{HEADER}produces: [application/json]
paths:
  /f:
    get:
      produces: [application/octet-stream, application/json]
      responses:
        200:
          description: a file
          schema: {{type: file}}
          headers:
            X-Count: {{type: integer, description: how many}}
            X-Ids: {{type: array, items: {{type: string}}, collectionFormat: csv}}
          examples:
            application/json: {{a: 1}}
          x-extra: kept
        default:
          description: error
"
        ));
        let response = &out["paths"]["/f"]["get"]["responses"]["200"];
        let binary = json!({"type": "string", "format": "binary"});
        assert_eq!(
            response["content"]["application/octet-stream"]["schema"],
            binary
        );
        assert_eq!(
            response["content"]["application/json"]["example"],
            json!({"a": 1})
        );
        assert_eq!(response["x-extra"], "kept");
        assert_eq!(response["headers"]["X-Count"]["description"], "how many");
        assert_eq!(
            response["headers"]["X-Count"]["schema"],
            json!({"type": "integer"})
        );
        assert_eq!(response["headers"]["X-Ids"]["x-collection-format"], "csv");
        assert!(
            out["paths"]["/f"]["get"]["responses"]["default"]
                .get("content")
                .is_none()
        );
    }

    #[test]
    fn x_nullable_becomes_nullable_in_nested_schemas() {
        let out = convert(&format!(
            "{HEADER}definitions:
  Outer:
    x-nullable: true
    x-go-type: Outer
    allOf:
      - $ref: '#/definitions/Inner'
      - type: object
        properties:
          list:
            type: array
            items: {{type: string, x-nullable: true}}
          inner: {{$ref: '#/definitions/Inner', x-nullable: true}}
          map:
            type: object
            additionalProperties: {{type: integer, x-nullable: true}}
  Inner: {{type: object, discriminator: kind, properties: {{kind: {{type: string}}}}}}
paths: {{}}
"
        ));
        let outer = &out["components"]["schemas"]["Outer"];
        assert_eq!(outer["nullable"], true);
        assert_eq!(outer["x-go-type"], "Outer");
        assert_eq!(outer["allOf"][0]["$ref"], "#/components/schemas/Inner");
        let props = &outer["allOf"][1]["properties"];
        assert_eq!(props["list"]["items"]["nullable"], true);
        assert_eq!(
            props["inner"],
            json!({"nullable": true, "allOf": [{"$ref": "#/components/schemas/Inner"}]})
        );
        assert_eq!(props["map"]["additionalProperties"]["nullable"], true);
        assert_eq!(
            out["components"]["schemas"]["Inner"]["discriminator"],
            json!({"propertyName": "kind"})
        );
    }

    #[test]
    fn type_lists_become_one_of_with_per_type_keywords() {
        let out = convert(&format!(
            "{HEADER}definitions:
  Cmd:
    description: a command
    type: [array, string, \"null\"]
    items: {{type: string}}
    minLength: 1
  One: {{type: [integer], minimum: 3}}
paths: {{}}
"
        ));
        assert_eq!(
            out["components"]["schemas"]["Cmd"],
            json!({
                "description": "a command",
                "nullable": true,
                "oneOf": [
                    {"type": "array", "items": {"type": "string"}},
                    {"type": "string", "minLength": 1}
                ]
            })
        );
        assert_eq!(
            out["components"]["schemas"]["One"],
            json!({"type": "integer", "minimum": 3})
        );
        let error = convert_err(&format!(
            "{HEADER}definitions: {{A: {{type: [string, 4]}}}}\npaths: {{}}\n"
        ));
        assert_eq!(invalid_pointer(error), "/definitions/A/type/1");
    }

    #[test]
    fn host_base_path_and_schemes_become_servers() {
        let out = convert(&format!(
            "{HEADER}host: api.example\nbasePath: /v2\nschemes: [https, http]\npaths: {{}}\n"
        ));
        assert_eq!(
            out["servers"],
            json!([{"url": "https://api.example/v2"}, {"url": "http://api.example/v2"}])
        );
    }

    #[test]
    fn openapi_3_0_documents_pass_through_unchanged() {
        let doc = json!({
            "openapi": "3.0.1",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}
        });
        let api = to_openapi3("a.json", doc.clone()).expect("3.0 is accepted");
        assert_eq!(api.openapi, "3.0.1");
        assert!(api.paths.paths.contains_key("/a"));
    }

    #[test]
    fn other_versions_are_rejected_naming_the_version_field() {
        let v31 = json!({"openapi": "3.1.0", "info": {"title": "t", "version": "1"}});
        assert_eq!(
            invalid_pointer(to_openapi3("x", v31).expect_err("3.1")),
            "/openapi"
        );
        let v12 = json!({"swagger": "1.2"});
        assert_eq!(
            invalid_pointer(to_openapi3("x", v12).expect_err("1.2")),
            "/swagger"
        );
        assert_eq!(
            invalid_pointer(to_openapi3("x", json!({})).expect_err("none")),
            ""
        );
        assert_eq!(
            invalid_pointer(to_openapi3("x", json!([1])).expect_err("array")),
            ""
        );
    }

    #[test]
    fn wrong_typed_nodes_are_errors_naming_their_pointer() {
        let cases = [
            ("paths: 3\n", "/paths"),
            (
                "paths: {/a: {get: {parameters: 5}}}\n",
                "/paths/~1a/get/parameters",
            ),
            (
                "paths: {/a: {get: {parameters: [7]}}}\n",
                "/paths/~1a/get/parameters/0",
            ),
            (
                "paths: {/a: {get: {parameters: [{name: x, in: cookie-jar}]}}}\n",
                "/paths/~1a/get/parameters/0/in",
            ),
            (
                "paths: {/a: {get: {responses: {200: {schema: []}}}}}\n",
                "/paths/~1a/get/responses/200/schema",
            ),
            (
                "definitions: {A: {properties: {b: 1}}}\npaths: {}\n",
                "/definitions/A/properties/b",
            ),
            ("consumes: application/json\npaths: {}\n", "/consumes"),
            (
                "paths: {/a: {post: {parameters: [{in: body, name: a, schema: {}}, {in: body, name: b, schema: {}}]}}}\n",
                "/paths/~1a/post/parameters/1",
            ),
        ];
        for (body, pointer) in cases {
            let error = convert_err(&format!("{HEADER}{body}"));
            assert_eq!(invalid_pointer(error), pointer, "for {body}");
        }
    }

    #[test]
    fn deserialization_failure_names_the_converted_pointer() {
        let error = convert_err(&format!(
            "{HEADER}paths: {{/a: {{get: {{operationId: [1], responses: {{}}}}}}}}\n"
        ));
        match error {
            SpecError::Invalid {
                pointer, message, ..
            } => {
                assert_eq!(pointer, "/paths/~1a/get/operationId");
                assert!(message.contains("converted OpenAPI 3.0"), "{message}");
            }
            other => panic!("expected Invalid, got {other:?}"),
        }
    }

    #[test]
    fn deserialization_failure_inside_a_response_names_the_response_field() {
        let error = convert_err(&format!(
            "{HEADER}paths: {{/a: {{get: {{responses: {{200: {{description: [1]}}}}}}}}}}\n"
        ));
        assert_eq!(
            invalid_pointer(error),
            "/paths/~1a/get/responses/200/description"
        );
    }

    #[test]
    fn unresolved_references_are_left_for_normalisation() {
        let out = convert(&format!(
            "{HEADER}paths:
  /a:
    get:
      parameters: [{{$ref: '#/parameters/Nope'}}]
      responses: {{200: {{description: ok, schema: {{$ref: '#/definitions/Missing'}}}}}}
"
        ));
        let op = &out["paths"]["/a"]["get"];
        assert_eq!(op["parameters"][0]["$ref"], "#/components/parameters/Nope");
        assert_eq!(
            op["responses"]["200"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Missing"
        );
    }

    #[test]
    fn malformed_yaml_reports_line_and_column_through_the_loader() {
        let error = parse_openapi3("bad.yaml", &format!("{HEADER}paths:\n  /a: [\n"))
            .expect_err("malformed");
        match error {
            SpecError::Syntax { line, column, .. } => {
                assert!(line >= 4 && column >= 1, "{line}:{column}");
            }
            other => panic!("expected Syntax, got {other:?}"),
        }
    }

    // ---- no panic on any input: the fuzz target's corpus and seeded mutations

    /// A small deterministic generator (xorshift64*), so every run replays the
    /// same mutations.
    struct Mutator(u64);

    impl Mutator {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
        }
    }

    /// Runs the loader on `text`: `None` if it panicked, else whether it accepted the text.
    fn accepts(text: &str) -> Option<bool> {
        std::panic::catch_unwind(|| parse_openapi3("mutant.yaml", text).is_ok()).ok()
    }

    fn corpus_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/load_spec")
    }

    /// The synthetic spec the mutations start from: a corpus file that touches
    /// every branch of the conversion.
    fn mutation_seed() -> String {
        let path = corpus_dir().join("swagger2-kitchen-sink.yaml");
        std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("corpus file {}: {e}", path.display()))
    }

    #[test]
    fn fuzz_corpus_replays_without_panic() {
        let entries = std::fs::read_dir(corpus_dir()).expect("fuzz corpus folder exists");
        let mut replayed = 0;
        for entry in entries {
            let path = entry.expect("corpus entry").path();
            let bytes = std::fs::read(&path).expect("corpus file reads");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                accepts(&text).is_some(),
                "panic on corpus file {}",
                path.display()
            );
            replayed += 1;
        }
        assert!(replayed >= 5, "only {replayed} corpus files");
        assert!(
            parse_openapi3("seed", &mutation_seed()).is_ok(),
            "the seed converts"
        );
    }

    #[test]
    fn seeded_text_mutations_never_panic() {
        const TOKENS: [&str; 16] = [
            ":", "- ", "{", "}", "[", "]", " ", "\n", "&a ", "*a", "!t ", "<<: ", "'", "#", "x-",
            "0",
        ];
        let seed = mutation_seed();
        let mut rng = Mutator(0x5eed_d0c4);
        let mut accepted = 0;
        for round in 0..2000 {
            let mut text: Vec<char> = seed.chars().collect();
            for _ in 0..=rng.below(4) {
                let at = rng.below(text.len());
                match rng.below(4) {
                    0 => {
                        let len = rng.below(40);
                        text.drain(at..(at + len).min(text.len()));
                    }
                    1 => {
                        let token = TOKENS[rng.below(TOKENS.len())];
                        text.splice(at..at, token.chars());
                    }
                    2 => {
                        let end = (at + rng.below(60)).min(text.len());
                        let span: Vec<char> = text[at..end].to_vec();
                        let to = rng.below(text.len());
                        text.splice(to..to, span);
                    }
                    _ => {
                        if let Some(c) = text.get_mut(at) {
                            *c = char::from(b' ' + (rng.below(95) as u8));
                        }
                    }
                }
            }
            let text: String = text.into_iter().collect();
            match accepts(&text) {
                Some(ok) => accepted += usize::from(ok),
                None => panic!("round {round} panicked on:\n{text}"),
            }
        }
        // The mutations must reach the converter, not only the YAML parser.
        assert!(
            (200..1800).contains(&accepted),
            "{accepted} of 2000 accepted"
        );
    }

    #[test]
    fn seeded_tree_mutations_never_panic() {
        let replacements = [
            Value::Null,
            json!(true),
            json!(3),
            json!(-1.5),
            json!(""),
            json!("file"),
            json!([]),
            json!({}),
            json!([1, "a"]),
            json!({"$ref": "#/definitions/Nope"}),
            json!({"$ref": 4}),
            json!({"type": ["file", "null"]}),
            json!({"in": "body", "name": "b"}),
            json!({"in": "formData", "name": "f", "type": "array"}),
        ];
        let seed = parse_document("seed.yaml", &mutation_seed()).expect("seed parses");
        let mut pointers = Vec::new();
        walk(&seed, String::new(), &mut |at, _| {
            pointers.push(at.to_owned())
        });
        let mut rng = Mutator(0x7ee5_1a7e);
        let mut accepted = 0;
        for round in 0..2000 {
            let mut doc = seed.clone();
            for _ in 0..=rng.below(3) {
                let at = &pointers[rng.below(pointers.len())];
                if let Some(node) = doc.pointer_mut(at) {
                    *node = replacements[rng.below(replacements.len())].clone();
                }
            }
            match std::panic::catch_unwind(|| to_openapi3("mutant", doc.clone()).is_ok()) {
                Ok(ok) => accepted += usize::from(ok),
                Err(_) => panic!("round {round} panicked on {doc}"),
            }
        }
        assert!(
            (100..1900).contains(&accepted),
            "{accepted} of 2000 accepted"
        );
    }
}
