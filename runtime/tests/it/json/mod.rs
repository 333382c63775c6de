//! Proto3 JSON through impls generated from `proto/` fixtures (see `generated.rs`).

#[allow(dead_code, clippy::enum_variant_names)] // generated for the whole fixture; prost names oneof variants after their fields
#[rustfmt::skip]
mod generated;

mod errors;
mod messages;
mod well_known;

use tacos_runtime::json::{self, JsonOptions};

pub(crate) use generated::tacos::fixture::common::v1::{Money, Status};
pub(crate) use generated::tacos::fixture::v1::{
    everything, Everything, JoinQueueRequest, QueueMetadata,
};

/// Prints with the default (lowerCamel) naming and parses the result back.
pub(crate) fn round_trip<T>(message: &T) -> (String, T)
where
    T: serde::Serialize + serde::de::DeserializeOwned,
{
    let text = json::to_string(message).expect("prints");
    let back = json::from_slice(text.as_bytes()).expect("parses what it printed");
    (text, back)
}

/// Parses `text` into an `Everything`.
pub(crate) fn parse(text: &str) -> Result<Everything, json::Error> {
    json::from_slice(text.as_bytes())
}

/// Prints a value as compact JSON with the given options.
pub(crate) fn print_with<T: serde::Serialize>(message: &T, options: JsonOptions) -> String {
    json::to_string_with(message, options).expect("prints")
}

/// Registers the fixture's descriptors so `Any` fields can find their payload types.
pub(crate) fn register_fixture() {
    json::register_descriptors(include_bytes!("descriptor.bin")).expect("fixture registers");
}
