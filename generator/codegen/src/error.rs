//! The one error type of the code generators.

use std::path::PathBuf;

/// Why an emitter could not turn an IR into Rust code.
///
/// Every variant names the IR item at fault, so the message points at the spec
/// (or the normaliser) that has to change.
#[derive(Debug, thiserror::Error)]
pub enum CodegenError {
    /// A type reference names a type the IR does not hold.
    #[error("type `{referrer}` refers to `{name}`, which is not a type of the API")]
    UnknownType {
        /// The type (or `Type.Field`) holding the reference.
        referrer: String,
        /// The missing type's name.
        name: String,
    },
    /// A type has no shape at all.
    #[error("type `{name}` has no shape")]
    EmptyType {
        /// The type's name.
        name: String,
    },
    /// A field has no shape at all.
    #[error("field `{type_name}.{field}` has no shape")]
    EmptyField {
        /// The struct holding the field.
        type_name: String,
        /// The field's wire name.
        field: String,
    },
    /// An enumeration lists a value its base scalar cannot hold.
    #[error("enum `{name}` lists {value}, which is not a {base}")]
    BadEnumValue {
        /// The enumeration's name.
        name: String,
        /// The value as JSON.
        value: String,
        /// The base scalar, as the spec writes it.
        base: &'static str,
    },
    /// A version label is not of Docker's `major.minor` form.
    #[error("API version `{label}` is not of the form `major.minor`")]
    BadVersion {
        /// The label.
        label: String,
    },
    /// The emitted tokens did not parse as a Rust file (a bug in the emitter).
    #[error("emitted code for {path} does not parse: {message}")]
    Unparsable {
        /// The file being emitted.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
}
