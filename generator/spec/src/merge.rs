//! Merge single-version APIs into one versioned [`Api`].
//!
//! Versions fold in from oldest to newest. Every item's [`VersionSet`] is the
//! union of the versions that have it. A shape (a field's type and flags, a
//! parameter's, a body's, a type's kind) that is equal to the one before joins
//! it; a different one starts a new [`Versioned`] entry, so each change stays
//! visible. Descriptions, summaries and origins come from the newest version
//! that has the item. Lists keep the newest version's order, with items that
//! newer versions dropped after them.

use std::collections::BTreeMap;

use drydock_ir::{
    Api, ApiVersion, EnumValue, Example, Field, FormerDescription, Operation, Parameter, Response,
    ResponseHeader, TypeDef, TypeShape, VersionSet, Versioned,
};

use crate::error::{Result, SpecError};

/// Merges single-version APIs (any order) into one versioned API.
///
/// Fails when two inputs hold the same version, or when an input holds more than one.
pub fn merge(mut apis: Vec<Api>) -> Result<Api> {
    for api in &apis {
        if api.versions.len() != 1 {
            return Err(SpecError::Invalid {
                file: api.title.clone(),
                pointer: String::new(),
                message: format!(
                    "merge takes single-version APIs; this one holds {:?}",
                    api.versions
                ),
            });
        }
    }
    apis.sort_by(|a, b| a.versions[0].cmp(&b.versions[0]));
    if let Some(w) = apis.windows(2).find(|w| w[0].versions == w[1].versions) {
        return Err(SpecError::Invalid {
            file: w[1].title.clone(),
            pointer: String::new(),
            message: format!("version {} is given twice", w[1].versions[0]),
        });
    }
    let all: Vec<ApiVersion> = apis.iter().map(|a| a.versions[0].clone()).collect();
    let mut iter = apis.into_iter();
    let Some(mut merged) = iter.next() else {
        return Err(SpecError::Invalid {
            file: String::new(),
            pointer: String::new(),
            message: "no API versions to merge".into(),
        });
    };
    let folder = Folder { all: &all };
    for api in iter {
        folder.fold_api(&mut merged, api);
    }
    merged.versions = all;
    Ok(merged)
}

struct Folder<'a> {
    all: &'a [ApiVersion],
}

impl Folder<'_> {
    fn add(&self, set: &mut VersionSet, more: &VersionSet) {
        *set = set.union(more, self.all);
    }

    /// Folds `next` shapes into `acc`: an equal shape joins the last one, a new one is appended.
    fn fold_shapes<T: PartialEq>(&self, acc: &mut Vec<Versioned<T>>, next: Vec<Versioned<T>>) {
        for shape in next {
            match acc.last_mut() {
                Some(last) if last.value == shape.value => {
                    let more = shape.versions;
                    self.add(&mut last.versions, &more);
                }
                _ => acc.push(shape),
            }
        }
    }

    fn fold_api(&self, acc: &mut Api, next: Api) {
        acc.title = next.title;
        if next.description.is_some() {
            acc.description = next.description;
        }
        if !next.servers.is_empty() {
            acc.servers = next.servers;
        }
        acc.security_schemes.extend(next.security_schemes);
        for (name, def) in next.types {
            match acc.types.get_mut(&name) {
                Some(existing) => self.fold_type(existing, def),
                None => {
                    acc.types.insert(name, def);
                }
            }
        }
        // An endpoint is its method and path; a new id for it is a rename.
        let mut by_endpoint: BTreeMap<(String, String), String> = acc
            .operations
            .iter()
            .map(|(k, o)| ((o.method.clone(), o.path_shape()), k.clone()))
            .collect();
        for (id, op) in next.operations {
            let endpoint = (op.method.clone(), op.path_shape());
            match by_endpoint
                .get(&endpoint)
                .and_then(|k| acc.operations.remove(k))
            {
                Some(mut existing) => {
                    if existing.id != id {
                        existing.former_ids.push(existing.id.clone());
                        existing.id = id.clone();
                    }
                    self.fold_operation(&mut existing, op);
                    acc.operations.insert(id.clone(), existing);
                }
                None => {
                    acc.operations.insert(id.clone(), op);
                }
            }
            by_endpoint.insert(endpoint, id);
        }
    }

    /// Takes the newer description; the one it replaces goes to `former`
    /// with the versions (of `versions_before`) in which it held.
    fn fold_description(
        &self,
        description: &mut Option<String>,
        former: &mut Vec<FormerDescription>,
        versions_before: &VersionSet,
        next: Option<String>,
    ) {
        let Some(next) = next else { return };
        if description.as_ref() == Some(&next) {
            return;
        }
        let held = VersionSet::from_presence(self.all, |v| {
            versions_before.contains(v) && !former.iter().any(|d| d.versions.contains(v))
        });
        if !held.is_empty() {
            former.push(FormerDescription {
                versions: held,
                text: description.take().unwrap_or_default(),
            });
        }
        *description = Some(next);
    }

    fn fold_type(&self, acc: &mut TypeDef, next: TypeDef) {
        self.fold_description(
            &mut acc.description,
            &mut acc.former_descriptions,
            &acc.versions,
            next.description,
        );
        self.add(&mut acc.versions, &next.versions);
        acc.origin = next.origin;
        self.fold_examples(&mut acc.examples, next.examples);
        for shape in next.shapes {
            let last = acc.shapes.last_mut();
            match (last, shape.value) {
                (Some(last), TypeShape::Struct(next_struct)) if matches!(&last.value, TypeShape::Struct(s) if s.additional == next_struct.additional) =>
                {
                    let TypeShape::Struct(acc_struct) = &mut last.value else {
                        unreachable!("matched as a struct above")
                    };
                    acc_struct.fields = merge_keyed(
                        std::mem::take(&mut acc_struct.fields),
                        next_struct.fields,
                        |f| f.name.clone(),
                        |a, b| self.fold_field(a, b),
                    );
                    self.add(&mut last.versions, &shape.versions);
                }
                (Some(last), TypeShape::Enum(next_enum)) if matches!(&last.value, TypeShape::Enum(e) if e.base == next_enum.base) =>
                {
                    let TypeShape::Enum(acc_enum) = &mut last.value else {
                        unreachable!("matched as an enum above")
                    };
                    acc_enum.values = merge_keyed(
                        std::mem::take(&mut acc_enum.values),
                        next_enum.values,
                        |v| v.value.to_string(),
                        |a: &mut EnumValue, b: EnumValue| self.add(&mut a.versions, &b.versions),
                    );
                    self.add(&mut last.versions, &shape.versions);
                }
                (Some(last), value) if last.value == value => {
                    self.add(&mut last.versions, &shape.versions);
                }
                (_, value) => acc.shapes.push(Versioned::new(shape.versions, value)),
            }
        }
    }

    fn fold_field(&self, acc: &mut Field, next: Field) {
        self.fold_description(
            &mut acc.description,
            &mut acc.former_descriptions,
            &acc.versions,
            next.description,
        );
        self.add(&mut acc.versions, &next.versions);
        self.fold_shapes(&mut acc.shapes, next.shapes);
    }

    fn fold_examples(&self, acc: &mut Vec<Versioned<Example>>, next: Vec<Versioned<Example>>) {
        for e in next {
            match acc.iter_mut().find(|a| a.value == e.value) {
                Some(same) => self.add(&mut same.versions, &e.versions),
                None => acc.push(e),
            }
        }
    }

    fn fold_operation(&self, acc: &mut Operation, next: Operation) {
        self.fold_description(
            &mut acc.description,
            &mut acc.former_descriptions,
            &acc.versions,
            next.description,
        );
        self.add(&mut acc.versions, &next.versions);
        acc.method = next.method;
        acc.path = next.path;
        acc.tag = next.tag;
        if next.summary.is_some() {
            acc.summary = next.summary;
        }
        acc.deprecated = next.deprecated;
        acc.hijack = acc.hijack || next.hijack;
        acc.security = next.security;
        acc.origin = next.origin;
        acc.parameters = merge_keyed(
            std::mem::take(&mut acc.parameters),
            next.parameters,
            |p| (p.location, p.name.clone()),
            |a: &mut Parameter, b: Parameter| {
                self.fold_description(
                    &mut a.description,
                    &mut a.former_descriptions,
                    &a.versions,
                    b.description,
                );
                self.add(&mut a.versions, &b.versions);
                self.fold_shapes(&mut a.shapes, b.shapes);
            },
        );
        match (&mut acc.request_body, next.request_body) {
            (Some(a), Some(b)) => {
                self.add(&mut a.versions, &b.versions);
                if b.description.is_some() {
                    a.description = b.description;
                }
                self.fold_shapes(&mut a.shapes, b.shapes);
            }
            (None, Some(b)) => acc.request_body = Some(b),
            (_, None) => {}
        }
        acc.responses = merge_keyed(
            std::mem::take(&mut acc.responses),
            next.responses,
            |r| r.status.clone(),
            |a: &mut Response, b: Response| {
                self.add(&mut a.versions, &b.versions);
                if b.description.is_some() {
                    a.description = b.description;
                }
                self.fold_shapes(&mut a.shapes, b.shapes);
                self.fold_examples(&mut a.examples, b.examples);
                a.headers = merge_keyed(
                    std::mem::take(&mut a.headers),
                    b.headers,
                    |h| h.name.clone(),
                    |x: &mut ResponseHeader, y: ResponseHeader| {
                        self.add(&mut x.versions, &y.versions);
                        x.ty = y.ty;
                        if y.description.is_some() {
                            x.description = y.description;
                        }
                    },
                );
            },
        );
    }
}

/// Merges two keyed lists: `next`'s order first (items in both folded with
/// `fold`), then the items only `acc` has, in their order.
fn merge_keyed<T, K: Ord>(
    acc: Vec<T>,
    next: Vec<T>,
    key: impl Fn(&T) -> K,
    fold: impl Fn(&mut T, T),
) -> Vec<T> {
    let mut old: BTreeMap<K, T> = BTreeMap::new();
    let mut old_order = Vec::new();
    for item in acc {
        let k = key(&item);
        old_order.push(key(&item));
        old.insert(k, item);
    }
    let mut out = Vec::with_capacity(next.len() + old.len());
    for item in next {
        match old.remove(&key(&item)) {
            Some(mut existing) => {
                fold(&mut existing, item);
                out.push(existing);
            }
            None => out.push(item),
        }
    }
    for k in old_order {
        if let Some(item) = old.remove(&k) {
            out.push(item);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::normalise;

    fn api(version: &str, text: &str) -> Api {
        let doc: openapiv3::OpenAPI = serde_yaml::from_str(text).expect("test document parses");
        normalise("t.yaml", ApiVersion::new(version), &doc)
            .unwrap()
            .api
    }

    const V1: &str = r##"
openapi: 3.0.3
info: {title: T, version: "1.0"}
paths:
  /things:
    get:
      operationId: ThingList
      parameters:
        - {name: all, in: query, schema: {type: boolean}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}
components:
  schemas:
    Thing:
      type: object
      properties:
        Id: {type: string}
        Size: {type: integer, format: int32}
        Old: {type: string}
        State: {type: string, enum: [on, off]}
"##;
    const V2: &str = r##"
openapi: 3.0.3
info: {title: T, version: "2.0"}
paths:
  /things:
    get:
      operationId: ThingList
      parameters:
        - {name: all, in: query, schema: {type: boolean}}
        - {name: limit, in: query, schema: {type: integer}}
      responses:
        "200":
          description: ok
          content:
            application/json:
              schema: {type: array, items: {$ref: "#/components/schemas/Thing"}}
  /things/{id}:
    delete:
      operationId: ThingDelete
      parameters:
        - {name: id, in: path, required: true, schema: {type: string}}
      responses:
        "204": {description: gone}
components:
  schemas:
    Thing:
      type: object
      properties:
        Id: {type: string}
        Size: {type: integer, format: int64, nullable: true}
        State: {type: string, enum: [on, off, paused]}
        New: {type: boolean}
"##;

    fn merged() -> Api {
        merge(vec![api("2.0", V2), api("1.0", V1)]).unwrap()
    }

    #[test]
    fn items_carry_the_versions_that_have_them() {
        let api = merged();
        assert_eq!(
            api.versions,
            [ApiVersion::new("1.0"), ApiVersion::new("2.0")]
        );
        assert_eq!(
            api.operations["ThingList"].versions.to_string(),
            "1.0..=2.0"
        );
        assert_eq!(api.operations["ThingDelete"].versions.to_string(), "2.0");
        assert_eq!(
            api.field("Thing", "Old").unwrap().versions.to_string(),
            "1.0"
        );
        assert_eq!(
            api.field("Thing", "New").unwrap().versions.to_string(),
            "2.0"
        );
        let limit = &api.operations["ThingList"].parameters[1];
        assert_eq!(
            (limit.name.as_str(), limit.versions.to_string()),
            ("limit", "2.0".into())
        );
    }

    #[test]
    fn a_changed_field_shape_is_recorded_per_version_not_merged() {
        let api = merged();
        let size = api.field("Thing", "Size").unwrap();
        assert_eq!(size.shapes.len(), 2);
        assert_eq!(size.shapes[0].versions.to_string(), "1.0");
        assert!(!size.shapes[0].value.nullable);
        assert_eq!(size.shapes[1].versions.to_string(), "2.0");
        assert!(size.shapes[1].value.nullable);
        let id = api.field("Thing", "Id").unwrap();
        assert_eq!(id.shapes.len(), 1, "an unchanged field has one shape");
    }

    #[test]
    fn enum_values_carry_their_own_versions() {
        let api = merged();
        let TypeShape::Enum(e) = &api.types["ThingState"].shapes[0].value else {
            panic!("an enum")
        };
        let paused = e.values.iter().find(|v| v.value == "paused").unwrap();
        assert_eq!(paused.versions.to_string(), "2.0");
        let on = e.values.iter().find(|v| v.value == "on").unwrap();
        assert_eq!(on.versions.to_string(), "1.0..=2.0");
    }

    #[test]
    fn fields_keep_the_newest_order_with_dropped_ones_after() {
        let api = merged();
        let TypeShape::Struct(s) = &api.types["Thing"].shapes[0].value else {
            panic!("a struct")
        };
        let names: Vec<&str> = s.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["Id", "Size", "State", "New", "Old"]);
    }

    #[test]
    fn a_type_whose_kind_changes_keeps_both_shapes() {
        let a = api(
            "1",
            "openapi: 3.0.3\ninfo: {title: T, version: '1'}\npaths: {}\ncomponents: {schemas: {X: {type: string}}}\n",
        );
        let b = api(
            "2",
            "openapi: 3.0.3\ninfo: {title: T, version: '2'}\npaths: {}\ncomponents: {schemas: {X: {type: object, properties: {a: {type: string}}}}}\n",
        );
        let merged = merge(vec![a, b]).unwrap();
        let x = &merged.types["X"];
        assert_eq!(x.shapes.len(), 2);
        assert!(matches!(x.shapes[0].value, TypeShape::Alias { .. }));
        assert!(matches!(x.shapes[1].value, TypeShape::Struct(_)));
    }

    #[test]
    fn a_renamed_operation_keeps_one_entry_with_its_former_id() {
        let old = V1.replace("ThingList", "ListThings");
        let api = merge(vec![api("1.0", &old), api("2.0", V2)]).unwrap();
        assert!(!api.operations.contains_key("ListThings"));
        let op = &api.operations["ThingList"];
        assert_eq!(op.former_ids, ["ListThings"]);
        assert_eq!(op.versions.to_string(), "1.0..=2.0");
    }

    #[test]
    fn an_older_description_is_kept_with_the_versions_it_held_in() {
        let v2 = V2.replace(
            "Id: {type: string}",
            "Id: {type: string, description: The new words.}",
        );
        let v3 = v2.replace("version: \"2.0\"", "version: \"3.0\"");
        let v1 = V1.replace(
            "Id: {type: string}",
            "Id: {type: string, description: The old words.}",
        );
        let api = merge(vec![api("1.0", &v1), api("2.0", &v2), api("3.0", &v3)]).unwrap();
        let id = api.field("Thing", "Id").unwrap();
        assert_eq!(id.description.as_deref(), Some("The new words."));
        assert_eq!(id.former_descriptions.len(), 1);
        assert_eq!(id.former_descriptions[0].versions.to_string(), "1.0");
        let at = |v: &str| {
            drydock_ir::description_at(
                id.description.as_ref(),
                &id.former_descriptions,
                &ApiVersion::new(v),
            )
        };
        assert_eq!(at("1.0"), Some("The old words."));
        assert_eq!(at("2.0"), Some("The new words."));
        assert_eq!(at("3.0"), Some("The new words."));
    }

    #[test]
    fn the_same_version_twice_is_an_error() {
        let err = merge(vec![api("1.0", V1), api("1.0", V1)])
            .unwrap_err()
            .to_string();
        assert!(err.contains("given twice"), "{err}");
    }
}
