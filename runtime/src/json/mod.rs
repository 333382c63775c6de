//! Canonical proto3 JSON for generated messages.
//!
//! Generated code implements `serde::Serialize` and `serde::Deserialize` for every message with
//! the proto3 JSON mapping: 64-bit integers as strings, enums by name, bytes as base64, the
//! well-known types in their special forms, default values left out, both the proto name and the
//! lowerCamel name accepted on input and unknown fields ignored. The functions here run those
//! impls with [`JsonOptions`].
//!
//! ```ignore
//! let json = tacos_runtime::json::to_string(&request)?;                 // {"eventId":"e1"}
//! let snake = JsonOptions::new().with_proto_field_names(true);
//! let json = tacos_runtime::json::to_string_with(&request, snake)?;    // {"event_id":"e1"}
//! let back: JoinQueueRequest = tacos_runtime::json::from_slice(json.as_bytes())?;
//! ```
//!
//! Layout: `codec` holds the trait each field kind implements; `scalar`, `enums`, `message`,
//! `collections`, `time`, `field_mask`, `structs` and `any` implement it; `options` carries
//! [`JsonOptions`] to the generated impls.

mod any;
pub(crate) mod base64;
mod codec;
mod collections;
mod enums;
mod field_mask;
mod message;
mod options;
mod scalar;
mod structs;
mod time;

pub use any::register_descriptors;
pub use options::{with_options, JsonOptions};

/// The parts generated impls use; reached through `__private::json`.
#[doc(hidden)]
pub mod generated {
    pub use super::any::Any;
    pub use super::codec::{
        expecting_message, mark_oneof, mark_seen, place, Codec, Defaulted, FieldSeed, KeySeed, Ser,
        UNKNOWN_FIELD,
    };
    pub use super::collections::{Map, MapKey, Repeated};
    pub use super::enums::{Enum, NullValue, ProtoEnum};
    pub use super::field_mask::FieldMask;
    pub use super::message::{Empty, JsonMessage, Msg};
    pub use super::options::{options, proto_field_names};
    pub use super::scalar::{Bool, Bytes, Double, Float32, Int32, Int64, Str, Uint32, Uint64};
    pub use super::structs::{ListValue, Struct, Value};
    pub use super::time::{Duration, Timestamp};
    pub use crate::httpbody::HttpBody;
}

/// Errors of JSON printing, parsing and type registration.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The JSON was malformed or did not fit the message; the text names the field.
    #[error("{0}")]
    Json(#[from] serde_json::Error),
    /// A registered descriptor set did not decode or conflicts with one already registered.
    #[error("invalid descriptor set: {0}")]
    Descriptors(prost_reflect::DescriptorError),
}

/// Prints `message` as proto3 JSON with the default options (lowerCamel names).
pub fn to_vec<T: serde::Serialize + ?Sized>(message: &T) -> Result<Vec<u8>, Error> {
    to_vec_with(message, JsonOptions::new())
}

/// Prints `message` as proto3 JSON with `options`.
pub fn to_vec_with<T: serde::Serialize + ?Sized>(
    message: &T,
    options: JsonOptions,
) -> Result<Vec<u8>, Error> {
    with_options(options, || serde_json::to_vec(message)).map_err(Error::Json)
}

/// Prints `message` as a proto3 JSON string with the default options (lowerCamel names).
pub fn to_string<T: serde::Serialize + ?Sized>(message: &T) -> Result<String, Error> {
    to_string_with(message, JsonOptions::new())
}

/// Prints `message` as a proto3 JSON string with `options`.
pub fn to_string_with<T: serde::Serialize + ?Sized>(
    message: &T,
    options: JsonOptions,
) -> Result<String, Error> {
    with_options(options, || serde_json::to_string(message)).map_err(Error::Json)
}

/// Parses proto3 JSON with the default options (unknown enum names rejected).
pub fn from_slice<T: serde::de::DeserializeOwned>(json: &[u8]) -> Result<T, Error> {
    from_slice_with(json, JsonOptions::new())
}

/// Parses proto3 JSON with `options`.
pub fn from_slice_with<T: serde::de::DeserializeOwned>(
    json: &[u8],
    options: JsonOptions,
) -> Result<T, Error> {
    with_options(options, || serde_json::from_slice(json)).map_err(Error::Json)
}
