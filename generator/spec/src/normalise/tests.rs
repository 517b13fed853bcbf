use super::*;

fn normalise_yaml(text: &str) -> Result<Normalised> {
    let doc: OpenAPI = serde_yaml::from_str(text).expect("test document parses");
    normalise("test.yaml", ApiVersion::new("1.0"), &doc)
}

const PETS: &str = r##"
openapi: 3.0.3
info: {title: Pets, version: "1.0"}
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: string}}
    get:
      operationId: PetInspect
      tags: [Pet]
      parameters:
        - name: filters
          in: query
          description: A JSON encoded value of the filters.
          schema: {type: string}
        - name: kind
          in: query
          schema: {type: string, enum: [cat, dog]}
        - name: tags
          in: query
          style: form
          explode: false
          schema: {type: array, items: {type: string}}
      responses:
        "200":
          description: the pet
          content:
            application/json:
              schema: {$ref: "#/components/schemas/Pet"}
              example: {Name: rex}
        "404":
          description: missing
          content:
            application/json:
              schema:
                type: object
                properties:
                  message: {type: string}
  /pets:
    post:
      operationId: PetCreate
      requestBody:
        required: true
        content:
          application/json:
            schema:
              allOf:
                - $ref: "#/components/schemas/Pet"
                - type: object
                  properties:
                    Owner:
                      type: object
                      properties:
                        Name: {type: string}
      responses:
        "201":
          description: created
          content:
            application/json:
              schema:
                type: object
                title: PetCreated
                required: [Id]
                properties:
                  Id: {type: string}
  /pets/{id}/attach:
    post:
      operationId: PetAttach
      x-drydock-stream: multiplexed
      x-drydock-hijack: true
      responses:
        "101": {description: hijacked}
        "200":
          description: stream
          content:
            application/vnd.docker.raw-stream:
              schema: {type: string, format: binary}
components:
  schemas:
    Pet:
      type: object
      required: [Name]
      example: {Name: rex, Age: 3}
      properties:
        Name: {type: string, description: The name.}
        Age: {type: integer, format: int64, nullable: true}
        Health:
          type: object
          properties:
            Status: {type: string, enum: [healthy, sick, ""]}
        Labels:
          type: object
          additionalProperties: {type: string}
        Toys:
          type: array
          items:
            type: object
            properties:
              Size: {type: integer, format: uint32}
        Extra: {}
        Config: {type: object}
"##;

#[test]
fn inline_objects_are_hoisted_under_parent_and_field_names() {
    let api = normalise_yaml(PETS).unwrap().api;
    let names: Vec<&str> = api.types.keys().map(String::as_str).collect();
    assert!(names.contains(&"PetHealth"), "{names:?}");
    assert!(names.contains(&"PetHealthStatus"), "{names:?}");
    assert!(names.contains(&"PetToysItem"), "{names:?}");
    assert!(names.contains(&"PetCreateBody"), "{names:?}");
    assert!(names.contains(&"PetCreateBodyOwner"), "{names:?}");
    assert!(names.contains(&"PetInspectResponse404"), "{names:?}");
    assert!(names.contains(&"PetInspectKind"), "{names:?}");
}

#[test]
fn a_schema_title_wins_over_the_place_name() {
    let api = normalise_yaml(PETS).unwrap().api;
    assert!(api.types.contains_key("PetCreated"));
    assert!(!api.types.contains_key("PetCreateResponse"));
}

#[test]
fn all_of_parts_are_flattened_into_one_struct_in_order() {
    let api = normalise_yaml(PETS).unwrap().api;
    let body = &api.types["PetCreateBody"];
    let TypeShape::Struct(s) = &body.shapes[0].value else {
        panic!("PetCreateBody is a struct")
    };
    let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "Name", "Age", "Health", "Labels", "Toys", "Extra", "Config", "Owner"
        ]
    );
    assert!(
        s.fields[0].shapes[0].value.required,
        "Name stays required from the Pet part"
    );
}

#[test]
fn scalars_maps_arrays_and_free_form_values_are_typed_inline() {
    let api = normalise_yaml(PETS).unwrap().api;
    let ty = |f: &str| api.field("Pet", f).unwrap().shapes[0].value.ty.clone();
    assert_eq!(ty("Age"), TypeRef::scalar(Scalar::I64));
    assert!(api.field("Pet", "Age").unwrap().shapes[0].value.nullable);
    assert_eq!(
        ty("Labels"),
        TypeRef::Map {
            values: Box::new(TypeRef::scalar(Scalar::String))
        }
    );
    assert_eq!(
        ty("Toys"),
        TypeRef::Array {
            items: Box::new(TypeRef::named("PetToysItem"))
        }
    );
    assert_eq!(ty("Extra"), TypeRef::Any);
    assert_eq!(
        ty("Config"),
        TypeRef::Map {
            values: Box::new(TypeRef::Any)
        }
    );
}

#[test]
fn additional_properties_on_a_scalar_leave_it_a_scalar() {
    let api = normalise_yaml(
        r##"
openapi: 3.0.3
info: {title: Play, version: "1.0"}
paths: {}
components:
  schemas:
    Play:
      type: object
      properties:
        uri: {type: string, additionalProperties: true}
        position: {type: integer, additionalProperties: true}
        offset: {type: object, additionalProperties: true}
"##,
    )
    .unwrap()
    .api;
    let ty = |f: &str| api.field("Play", f).unwrap().shapes[0].value.ty.clone();
    assert_eq!(ty("uri"), TypeRef::scalar(Scalar::String));
    assert_eq!(ty("position"), TypeRef::scalar(Scalar::I64));
    assert_eq!(
        ty("offset"),
        TypeRef::Map {
            values: Box::new(TypeRef::Any)
        }
    );
}

#[test]
fn enums_keep_their_empty_string_value() {
    let api = normalise_yaml(PETS).unwrap().api;
    let TypeShape::Enum(e) = &api.types["PetHealthStatus"].shapes[0].value else {
        panic!("an enum")
    };
    let values: Vec<&Value> = e.values.iter().map(|v| &v.value).collect();
    assert_eq!(
        values,
        [
            &Value::from("healthy"),
            &Value::from("sick"),
            &Value::from("")
        ]
    );
}

#[test]
fn parameters_carry_location_json_encoding_and_collection_format() {
    let api = normalise_yaml(PETS).unwrap().api;
    let op = &api.operations["PetInspect"];
    let names: Vec<(&str, ParamLocation)> = op
        .parameters
        .iter()
        .map(|p| (p.name.as_str(), p.location))
        .collect();
    assert_eq!(
        names,
        [
            ("id", ParamLocation::Path),
            ("filters", ParamLocation::Query),
            ("kind", ParamLocation::Query),
            ("tags", ParamLocation::Query)
        ]
    );
    assert!(op.parameters[0].shapes[0].value.required);
    assert!(op.parameters[1].shapes[0].value.json_encoded);
    assert_eq!(
        op.parameters[3].shapes[0]
            .value
            .collection_format
            .as_deref(),
        Some("csv")
    );
    assert_eq!(
        op.parameters[2].shapes[0].value.ty,
        TypeRef::named("PetInspectKind")
    );
}

#[test]
fn vendor_extensions_mark_streams_and_hijacking() {
    let api = normalise_yaml(PETS).unwrap().api;
    let op = &api.operations["PetAttach"];
    assert!(op.hijack);
    let ok = op.responses.iter().find(|r| r.status == "200").unwrap();
    assert_eq!(ok.shapes[0].value.kind, BodyKind::MultiplexedStream);
    let inspect = &api.operations["PetInspect"];
    assert!(!inspect.hijack);
    assert_eq!(inspect.responses[0].examples.len(), 1);
    assert_eq!(api.types["Pet"].examples.len(), 1);
}

#[test]
fn a_binary_schema_makes_a_text_first_body_a_byte_stream() {
    let doc = r##"
openapi: 3.0.3
info: {title: Import, version: "1.0"}
paths:
  /import:
    post:
      operationId: Import
      requestBody:
        content:
          text/plain: {schema: {type: string, format: binary}}
          application/octet-stream: {schema: {type: string, format: binary}}
      responses: {"204": {description: done}}
  /note:
    post:
      operationId: Note
      requestBody:
        content:
          text/plain: {schema: {type: string}}
      responses: {"204": {description: done}}
"##;
    let api = normalise_yaml(doc).unwrap().api;
    let body = |id: &str| {
        api.operations[id].request_body.as_ref().unwrap().shapes[0]
            .value
            .clone()
    };
    assert_eq!(body("Import").kind, BodyKind::OctetStream);
    assert_eq!(body("Import").schema, None);
    assert_eq!(body("Note").kind, BodyKind::Text);
}

#[test]
fn an_unresolved_ref_names_its_pointer() {
    let text = r##"
openapi: 3.0.3
info: {title: Broken, version: "1"}
paths: {}
components:
  schemas:
    A:
      type: object
      properties:
        b: {$ref: "#/components/schemas/Missing"}
"##;
    let err = normalise_yaml(text).unwrap_err().to_string();
    assert!(err.contains("/components/schemas/A/properties/b"), "{err}");
    assert!(err.contains("#/components/schemas/Missing"), "{err}");
}

#[test]
fn a_self_including_all_of_is_an_error_not_a_hang() {
    let text = r##"
openapi: 3.0.3
info: {title: Loop, version: "1"}
paths: {}
components:
  schemas:
    A:
      allOf:
        - $ref: "#/components/schemas/A"
        - type: object
          properties: {x: {type: string}}
"##;
    let err = normalise_yaml(text).unwrap_err().to_string();
    assert!(err.contains("includes itself"), "{err}");
}

#[test]
fn clashing_names_get_numeric_suffixes_in_one_place() {
    let text = r##"
openapi: 3.0.3
info: {title: Clash, version: "1"}
paths: {}
components:
  schemas:
    pet_type: {type: string}
    PetType: {type: integer}
    Pet:
      type: object
      properties:
        Type: {type: object, properties: {x: {type: string}}}
"##;
    let api = normalise_yaml(text).unwrap().api;
    let names: Vec<&str> = api.types.keys().map(String::as_str).collect();
    assert_eq!(names, ["Pet", "PetType", "PetType2", "PetType3"]);
}

#[test]
fn operations_without_ids_get_ids_from_method_and_path() {
    let text = r##"
openapi: 3.0.3
info: {title: NoIds, version: "1"}
paths:
  /pets/{id}/toys:
    get:
      responses:
        default: {description: ok}
"##;
    let api = normalise_yaml(text).unwrap().api;
    assert!(api.operations.contains_key("GetPetsIdToys"));
    assert_eq!(
        api.operations["GetPetsIdToys"].responses[0].status,
        "default"
    );
}

#[test]
fn parameter_descriptions_that_say_json_mark_the_value_as_json_text() {
    for d in [
        "A JSON encoded value of the filters (a `map[string][]string`).",
        "Filters to process on the prune list, encoded as JSON (a `map[string][]string`).",
        "Arbitrary key/value labels to set on the image, as a JSON map of string pairs.",
    ] {
        assert!(describes_json_text(Some(d)), "{d}");
    }
    assert!(!describes_json_text(Some("Show all containers.")));
    assert!(!describes_json_text(None));
}

#[test]
fn media_types_map_to_body_kinds() {
    assert_eq!(body_kind("application/json; charset=utf-8"), BodyKind::Json);
    assert_eq!(body_kind("application/x-tar"), BodyKind::Tar);
    assert_eq!(
        body_kind("application/vnd.docker.raw-stream"),
        BodyKind::RawStream
    );
    assert_eq!(body_kind("application/problem+json"), BodyKind::Json);
    assert_eq!(body_kind("text/plain"), BodyKind::Text);
    assert_eq!(body_kind("image/png"), BodyKind::OctetStream);
}

#[test]
fn component_parameters_bodies_and_responses_are_followed_and_dangling_ones_named() {
    let text = r##"
openapi: 3.0.3
info: {title: Components, version: "1"}
paths:
  /things:
    post:
      operationId: ThingCreate
      parameters: [{$ref: "#/components/parameters/Limit"}]
      requestBody: {$ref: "#/components/requestBodies/Thing"}
      responses:
        "404": {$ref: "#/components/responses/NotFound"}
components:
  parameters:
    Limit: {name: limit, in: query, schema: {type: integer, format: int32}}
  requestBodies:
    Thing:
      required: true
      content:
        application/json:
          schema: {type: object, properties: {Name: {type: string}}}
  responses:
    NotFound:
      description: no such thing
      content:
        application/json:
          schema: {type: object, properties: {message: {type: string}}}
"##;
    let api = normalise_yaml(text).unwrap().api;
    let op = &api.operations["ThingCreate"];
    assert_eq!(op.parameters[0].name, "limit");
    assert_eq!(
        op.parameters[0].shapes[0].value.ty,
        TypeRef::scalar(Scalar::I32)
    );
    let body = &op.request_body.as_ref().unwrap().shapes[0].value;
    assert!(body.required);
    assert_eq!(body.schema, Some(TypeRef::named("ThingCreateBody")));
    assert_eq!(
        op.responses[0].description.as_deref(),
        Some("no such thing")
    );

    let dangling = text.replace(
        "#/components/responses/NotFound",
        "#/components/responses/Gone",
    );
    let err = normalise_yaml(&dangling).unwrap_err().to_string();
    assert!(err.contains("#/components/responses/Gone"), "{err}");
    assert!(err.contains("/paths/~1things/post/responses/404"), "{err}");
}

#[test]
fn percent_encoded_and_escaped_ref_tokens_resolve() {
    let text = r##"
openapi: 3.0.3
info: {title: Encoded, version: "1"}
paths: {}
components:
  schemas:
    "{index}": {type: string}
    "a/b": {type: integer}
    User:
      type: object
      properties:
        index: {$ref: "#/components/schemas/%7Bindex%7D"}
        ab: {$ref: "#/components/schemas/a~1b"}
"##;
    let api = normalise_yaml(text).unwrap().api;
    let ty = |f: &str| api.field("User", f).unwrap().shapes[0].value.ty.clone();
    assert_eq!(ty("index"), TypeRef::named("Index"));
    assert_eq!(ty("ab"), TypeRef::named("AB"));
    assert_eq!(unescape_token("%7Bindex%7D"), "{index}");
    assert_eq!(unescape_token("100%"), "100%", "a stray % stays");
}

#[test]
fn an_x_drydock_name_renames_a_component_and_every_reference_to_it() {
    let text = r##"
openapi: 3.0.3
info: {title: Renamed, version: "1"}
paths: {}
components:
  schemas:
    Config:
      x-drydock-name: ContainerConfig
      type: object
      properties:
        Image: {type: string}
    Inspect:
      type: object
      properties:
        Config: {$ref: "#/components/schemas/Config"}
"##;
    let api = normalise_yaml(text).unwrap().api;
    assert!(api.types.contains_key("ContainerConfig"));
    assert!(!api.types.contains_key("Config"));
    assert_eq!(
        api.field("Inspect", "Config").unwrap().shapes[0].value.ty,
        TypeRef::named("ContainerConfig")
    );
}
