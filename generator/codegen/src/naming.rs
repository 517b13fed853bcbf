//! The naming pass: every Rust identifier the emitters write comes from here.
//!
//! Names are made in one place, in a fixed order, so that collisions are
//! resolved once and the same IR always gives the same names:
//!
//! 1. type names: the IR's PascalCase names cased with `heck`, in the IR's
//!    (sorted) order; a name that would shadow a prelude item gets `Type`
//!    appended; a later type whose name is taken gets `2`, `3`, … appended;
//! 2. field names, per struct, in the spec's field order: snake case, raw
//!    identifiers for keywords, `_2`, `_3`, … for collisions (`ID` and `Id`);
//! 3. enum variants, per enum, in the listed order, then the catch-all variant
//!    that holds unlisted values (`Other`, or `Unlisted` when a value is `other`);
//! 4. for the client and server: area modules ([`module_names`],
//!    [`area_module_name`]: never a crate generated code names by path, such as
//!    `models` or `serde_json`), methods ([`method_names`]) and the items of
//!    area modules ([`ItemNames`]: traits, params, requests and answers, never a
//!    prelude name nor one the crate's root imports). Generated code names the
//!    runtime's and the models' types by path, so a spec's names never meet them.

use std::collections::{BTreeMap, BTreeSet};

use heck::{ToSnakeCase, ToUpperCamelCase};

/// Names in the Rust prelude (and `Self`), and the names generated code
/// imports, that a generated type must not take: generated code spells these
/// without a path.
const RESERVED_TYPE_NAMES: &[&str] = &[
    "BTreeMap",
    "VersionedModel",
    "Box",
    "Clone",
    "Copy",
    "Default",
    "Drop",
    "Eq",
    "Err",
    "Fn",
    "From",
    "Into",
    "Iterator",
    "None",
    "Ok",
    "Option",
    "Ord",
    "PartialEq",
    "PartialOrd",
    "Result",
    "Self",
    "Send",
    "Sized",
    "Some",
    "String",
    "Sync",
    "ToOwned",
    "ToString",
    "Vec",
];

/// Names a module of a generated crate must not take: the crates generated code
/// names by path (a module of that name at the crate's root would shadow the
/// crate there) and the modules the emitters write themselves (`models` in the
/// client, `recording` in the server).
const RESERVED_MODULE_NAMES: &[&str] = &[
    "alloc",
    "bytes",
    "core",
    "drydock_models",
    "drydock_runtime",
    "futures_util",
    "models",
    "recording",
    "reqwest",
    "serde",
    "serde_json",
    "std",
    "tokio",
];

/// Keywords that cannot be raw identifiers.
const NON_RAW_KEYWORDS: &[&str] = &["self", "Self", "super", "crate", "_"];

/// Every keyword of Rust 2024 (strict and reserved).
const KEYWORDS: &[&str] = &[
    "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
    "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
    "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub", "ref",
    "return", "self", "Self", "static", "struct", "super", "trait", "true", "try", "type",
    "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Mixed-case acronyms that `heck` would split in the middle (`IPv4` → `i_pv4`),
/// rewritten before casing.
const ACRONYMS: &[(&str, &str)] = &[("IPv", "Ipv"), ("IOps", "Iops"), ("SELinux", "Selinux")];

/// Whether `name` is a Rust keyword (strict or reserved).
pub(crate) fn is_keyword(name: &str) -> bool {
    KEYWORDS.contains(&name)
}

/// Hands out names from a set, adding a numeric suffix to the ones already taken.
#[derive(Default)]
struct Taken(BTreeSet<String>);

impl Taken {
    /// A set in which `names` are already taken.
    fn with<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        Taken(names.into_iter().map(str::to_string).collect())
    }

    /// `base`, or `base` + separator + the first free number from 2.
    fn claim(&mut self, base: String, separator: &str) -> String {
        let mut name = base.clone();
        let mut n = 2;
        while self.0.contains(&name) {
            name = format!("{base}{separator}{n}");
            n += 1;
        }
        self.0.insert(name.clone());
        name
    }
}

/// Rewrites what `heck` would split in the middle: the [`ACRONYMS`], and plural
/// acronyms (`CAs`, `CIDRs`, `URLs` → `Cas`, `Cidrs`, `Urls`).
fn fix_acronyms(name: &str) -> String {
    let name = ACRONYMS
        .iter()
        .fold(name.to_string(), |acc, (from, to)| acc.replace(from, to));
    let chars: Vec<char> = name.chars().collect();
    let mut out = String::with_capacity(name.len());
    let mut i = 0;
    while i < chars.len() {
        let run = chars[i..]
            .iter()
            .take_while(|c| c.is_ascii_uppercase())
            .count();
        let plural = run >= 2
            && chars.get(i + run) == Some(&'s')
            && chars
                .get(i + run + 1)
                .is_none_or(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if plural {
            out.push(chars[i]);
            out.extend(chars[i + 1..i + run].iter().map(char::to_ascii_lowercase));
            i += run;
        } else {
            out.push(chars[i]);
            i += 1;
        }
    }
    out
}

/// The Rust names of the API's types, keyed by IR name.
pub(crate) fn type_names<'a>(
    ir_names: impl IntoIterator<Item = &'a str>,
) -> BTreeMap<String, String> {
    let mut taken = Taken::default();
    let mut sorted: Vec<&str> = ir_names.into_iter().collect();
    sorted.sort_unstable();
    sorted
        .into_iter()
        .map(|ir| {
            let mut base = fix_acronyms(ir).to_upper_camel_case();
            if base.is_empty() {
                base = "Model".to_string();
            } else if base.starts_with(|c: char| c.is_ascii_digit()) {
                base = format!("Model{base}");
            }
            if RESERVED_TYPE_NAMES.contains(&base.as_str()) {
                base.push_str("Type");
            }
            (ir.to_string(), taken.claim(base, ""))
        })
        .collect()
}

/// The module name for an API area whose snake-case name is `snake`: `snake`
/// itself, or `snake_area` when generated code already uses `snake` as a path
/// ([`RESERVED_MODULE_NAMES`]: `models`, `std`, `serde_json`, …).
pub(crate) fn area_module_name(snake: String) -> String {
    if RESERVED_MODULE_NAMES.contains(&snake.as_str()) {
        format!("{snake}_area")
    } else {
        snake
    }
}

/// The module names of API areas, one per tag, in order: snake case as for
/// fields (raw identifiers for keywords, numbers for collisions), through
/// [`area_module_name`].
pub(crate) fn module_names(tags: &[&str]) -> Vec<String> {
    let mut taken = Taken::default();
    tags.iter()
        .map(|tag| taken.claim(area_module_name(field_base(tag)), "_"))
        .collect()
}

/// Names of the items an area module of a generated crate defines, handed out
/// in one place so that they never clash with each other nor with what the
/// code around them spells without a path.
pub(crate) struct ItemNames(Taken);

impl ItemNames {
    /// A set in which the prelude's names ([`RESERVED_TYPE_NAMES`]) and
    /// `also` (the names the generated crate's root imports or defines) are
    /// taken.
    pub(crate) fn new(also: &[&str]) -> Self {
        ItemNames(Taken::with(
            RESERVED_TYPE_NAMES
                .iter()
                .chain(also)
                .copied()
                .chain(["Future", "IntoFuture"]),
        ))
    }

    /// `base`, or `base` + `suffix` when `base` is taken, or that with the
    /// first free number from 2.
    pub(crate) fn claim(&mut self, base: &str, suffix: &str) -> String {
        let base = if self.0.0.contains(base) {
            format!("{base}{suffix}")
        } else {
            base.to_string()
        };
        self.0.claim(base, "")
    }

    /// A snake-case `base`, or `base_2`, `base_3`, … when it is taken.
    pub(crate) fn claim_snake(&mut self, base: &str) -> String {
        self.0.claim(base.to_string(), "_")
    }
}

/// A snake-case field identifier for a wire name, before collisions are resolved.
fn field_base(wire: &str) -> String {
    let snake = fix_acronyms(wire).to_snake_case();
    if snake.is_empty() {
        "field".to_string()
    } else if snake.starts_with(|c: char| c.is_ascii_digit()) {
        format!("field_{snake}")
    } else if NON_RAW_KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// The field names of one struct: one per wire name, in order, then the name of
/// the map that holds additional properties (when `extra` is set).
pub(crate) fn field_names(wire_names: &[&str], extra: bool) -> (Vec<String>, Option<String>) {
    let mut taken = Taken::default();
    let fields = wire_names
        .iter()
        .map(|w| taken.claim(field_base(w), "_"))
        .collect();
    let extra = extra.then(|| taken.claim("additional".to_string(), "_"));
    (fields, extra)
}

/// Method names, one per operation id, in order, as [`field_names`] makes
/// them (`_2`, `_3`, … for collisions), none of them one of `reserved` (the
/// methods the type has besides), and none of them the name of another's
/// helper: each name with each of `helpers` appended (`_request`) is free too.
pub(crate) fn method_names(ids: &[&str], reserved: &[&str], helpers: &[&str]) -> Vec<String> {
    let mut taken = Taken::with(reserved.iter().copied());
    ids.iter()
        .map(|id| {
            let base = field_base(id);
            let free = |name: &str, taken: &Taken| {
                !taken.0.contains(name)
                    && helpers
                        .iter()
                        .all(|h| !taken.0.contains(&format!("{name}{h}")))
            };
            let mut name = base.clone();
            let mut n = 2;
            while !free(&name, &taken) {
                name = format!("{base}_{n}");
                n += 1;
            }
            taken.0.extend(helpers.iter().map(|h| format!("{name}{h}")));
            taken.0.insert(name.clone());
            name
        })
        .collect()
}

/// Writes a field name as Rust source: keywords become raw identifiers.
pub(crate) fn field_ident(name: &str) -> proc_macro2::Ident {
    if KEYWORDS.contains(&name) {
        proc_macro2::Ident::new_raw(name, proc_macro2::Span::call_site())
    } else {
        proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
    }
}

/// Writes a type or variant name as Rust source.
pub(crate) fn type_ident(name: &str) -> proc_macro2::Ident {
    proc_macro2::Ident::new(name, proc_macro2::Span::call_site())
}

/// The variant names of an enumeration whose values are written `labels`
/// (strings as they are, numbers in decimal), then the catch-all variant's name.
pub(crate) fn variant_names(labels: &[String]) -> (Vec<String>, String) {
    let mut taken = Taken::default();
    let variants = labels
        .iter()
        .map(|label| {
            let cased = fix_acronyms(label).to_upper_camel_case();
            let base = if label.is_empty() {
                "Empty".to_string()
            } else if let Some(negative) =
                label.strip_prefix('-').filter(|n| n.parse::<u64>().is_ok())
            {
                format!("Minus{negative}")
            } else if cased.is_empty() {
                "Value".to_string()
            } else if cased.starts_with(|c: char| c.is_ascii_digit()) {
                format!("V{cased}")
            } else if cased == "Self" {
                "SelfValue".to_string()
            } else {
                cased
            };
            taken.claim(base, "")
        })
        .collect();
    let other = ["Other", "Unlisted", "OtherValue"]
        .iter()
        .find(|n| !taken.0.contains(**n))
        .map_or_else(|| taken.claim("Other".to_string(), ""), |n| n.to_string());
    (variants, other)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_names_are_upper_camel_case_and_unique() {
        let names = type_names([
            "ContainerJSON",
            "ContainerJson",
            "String",
            "IPAM",
            "3Things",
        ]);
        assert_eq!(names["ContainerJSON"], "ContainerJson");
        assert_eq!(names["ContainerJson"], "ContainerJson2");
        assert_eq!(names["String"], "StringType");
        assert_eq!(names["IPAM"], "Ipam");
        assert_eq!(names["3Things"], "Model3things");
    }

    #[test]
    fn field_names_are_snake_case_with_keywords_and_collisions_resolved() {
        let (names, extra) = field_names(
            &[
                "ID",
                "Id",
                "Type",
                "IPv4Address",
                "NanoCPUs",
                "self",
                "additional",
                "CPUShares",
            ],
            true,
        );
        assert_eq!(
            names,
            [
                "id",
                "id_2",
                "type",
                "ipv4_address",
                "nano_cpus",
                "self_",
                "additional",
                "cpu_shares"
            ]
        );
        assert_eq!(extra.as_deref(), Some("additional_2"));
        assert_eq!(field_ident("type").to_string(), "r#type");
        assert_eq!(field_ident("id").to_string(), "id");
    }

    #[test]
    fn variant_names_cover_empty_numeric_and_colliding_values() {
        let labels: Vec<String> = [
            "",
            "no",
            "unless-stopped",
            "on-failure",
            "1",
            "-1",
            "self",
            "NO",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let (names, other) = variant_names(&labels);
        assert_eq!(
            names,
            [
                "Empty",
                "No",
                "UnlessStopped",
                "OnFailure",
                "V1",
                "Minus1",
                "SelfValue",
                "No2"
            ]
        );
        assert_eq!(other, "Other");
    }

    #[test]
    fn modules_that_generated_code_names_by_path_take_area() {
        assert_eq!(
            module_names(&[
                "models",
                "Recording",
                "serde_json",
                "Images",
                "type",
                "Models"
            ]),
            [
                "models_area",
                "recording_area",
                "serde_json_area",
                "images",
                "type",
                "models_area_2"
            ]
        );
    }

    #[test]
    fn item_names_avoid_the_prelude_the_reserved_and_each_other() {
        let mut names = ItemNames::new(&["Request"]);
        assert_eq!(names.claim("Request", "Api"), "RequestApi");
        assert_eq!(names.claim("Sync", "Api"), "SyncApi");
        assert_eq!(names.claim("Future", "Api"), "FutureApi");
        assert_eq!(names.claim("Images", "Api"), "Images");
        assert_eq!(names.claim("Images", "Api"), "ImagesApi");
        assert_eq!(names.claim("PetRequest", ""), "PetRequest");
        assert_eq!(names.claim("PetRequest", ""), "PetRequest2");
        assert_eq!(names.claim_snake("get_thing"), "get_thing");
        assert_eq!(names.claim_snake("get_thing"), "get_thing_2");
    }

    #[test]
    fn method_names_avoid_reserved_methods_and_each_others_helpers() {
        assert_eq!(
            method_names(
                &[
                    "Connection",
                    "GetThing",
                    "getThing",
                    "getThingRequest",
                    "x_request",
                    "x"
                ],
                &["connection", "new"],
                &["_request"],
            ),
            [
                "connection_2",
                "get_thing",
                "get_thing_2",
                "get_thing_request_2",
                "x_request",
                "x_2"
            ]
        );
    }

    #[test]
    fn catch_all_variant_avoids_a_listed_other() {
        let (names, other) = variant_names(&["other".to_string(), "unknown".to_string()]);
        assert_eq!(names, ["Other", "Unknown"]);
        assert_eq!(other, "Unlisted");
    }
}
