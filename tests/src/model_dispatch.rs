//! The `drydock-models` type of an IR type, found by the IR name at run time.
//!
//! `tests/build.rs` writes one `match` arm per IR type; [`with_model`] calls a [`ModelFn`]
//! with the model type of the named IR type. On top of it: [`roundtrip`] (deserialise, then
//! serialise back), [`absent_in`] and [`downgrade`] (the model's `VersionedModel` methods).

use drydock_runtime::model::{ApiVersion, VersionedModel};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

/// What every generated model is: JSON both ways, and versioned.
pub trait Model: Serialize + DeserializeOwned + VersionedModel {}

impl<T: Serialize + DeserializeOwned + VersionedModel> Model for T {}

/// A function generic over the model type, called by [`with_model`].
pub trait ModelFn {
    /// What the function returns.
    type Output;
    /// Runs the function with the model type `M`.
    fn call<M: Model>(self) -> Self::Output;
}

include!(concat!(env!("OUT_DIR"), "/model_dispatch.rs"));

/// `value` deserialised into the model `M`, with the JSON path of the first problem on failure.
pub fn deserialize<M: Model>(value: &Value) -> Result<M, String> {
    serde_path_to_error::deserialize::<_, M>(value)
        .map_err(|e| format!("at `{}`: {}", e.path(), e.inner()))
}

/// `value` deserialised into the model of `ir_name` and serialised back; `None` when the IR has
/// no such type.
pub fn roundtrip(ir_name: &str, value: &Value) -> Option<Result<Value, String>> {
    struct Roundtrip<'a>(&'a Value);
    impl ModelFn for Roundtrip<'_> {
        type Output = Result<Value, String>;
        fn call<M: Model>(self) -> Self::Output {
            let model: M = deserialize(self.0)?;
            serde_json::to_value(&model).map_err(|e| format!("cannot serialise: {e}"))
        }
    }
    with_model(ir_name, Roundtrip(value))
}

/// What the model of `ir_name`, holding `value`, reports absent in `version`.
pub fn absent_in(
    ir_name: &str,
    value: &Value,
    version: ApiVersion,
) -> Option<Result<Vec<String>, String>> {
    struct Absent<'a>(&'a Value, ApiVersion);
    impl ModelFn for Absent<'_> {
        type Output = Result<Vec<String>, String>;
        fn call<M: Model>(self) -> Self::Output {
            let model: M = deserialize(self.0)?;
            Ok(model.absent_in(self.1))
        }
    }
    with_model(ir_name, Absent(value, version))
}

/// The model of `ir_name`, holding `value`, downgraded to `version` and serialised.
pub fn downgrade(
    ir_name: &str,
    value: &Value,
    version: ApiVersion,
) -> Option<Result<Value, String>> {
    struct Downgrade<'a>(&'a Value, ApiVersion);
    impl ModelFn for Downgrade<'_> {
        type Output = Result<Value, String>;
        fn call<M: Model>(self) -> Self::Output {
            let mut model: M = deserialize(self.0)?;
            model.downgrade(self.1);
            serde_json::to_value(&model).map_err(|e| format!("cannot serialise: {e}"))
        }
    }
    with_model(ir_name, Downgrade(value, version))
}
