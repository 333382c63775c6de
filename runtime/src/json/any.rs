//! `google.protobuf.Any` through a process-wide type registry.
//!
//! An Any's payload can be any message, so it is printed and parsed dynamically with
//! prost-reflect, from descriptors that generated crates register at start-up. Any is rare, so
//! this path trades speed for generality; every other field kind is handled by generated code.

use std::sync::{LazyLock, RwLock};

use prost::Message as _;
use prost_reflect::ReflectMessage as _;
use prost_reflect::{DescriptorPool, DynamicMessage, SerializeOptions};
use prost_types::Any as PbAny;
use serde::de::Deserializer;
use serde::ser::{Error as _, Serialize, SerializeMap, Serializer};

use super::codec::{invalid, Codec};
use super::options;

static REGISTRY: LazyLock<RwLock<DescriptorPool>> =
    LazyLock::new(|| RwLock::new(DescriptorPool::new()));

/// Adds the messages of an encoded `FileDescriptorSet` to the registry that `Any` fields use to
/// find their payload types. Files already registered are skipped, so registering twice is fine.
pub fn register_descriptors(file_descriptor_set: &[u8]) -> Result<(), super::Error> {
    let mut guard = REGISTRY
        .write()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    // Extend a copy so a failed registration leaves the registry as it was.
    let mut pool = guard.clone();
    pool.decode_file_descriptor_set(file_descriptor_set)
        .map_err(super::Error::Descriptors)?;
    *guard = pool;
    Ok(())
}

/// A snapshot of the registry (descriptor pools are reference-counted, so this is cheap).
fn registry() -> DescriptorPool {
    REGISTRY
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
        .clone()
}

/// Types whose JSON form is not an object of fields; inside an Any they sit under `"value"`.
fn has_special_json(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Any"
            | "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.Struct"
            | "google.protobuf.Value"
            | "google.protobuf.ListValue"
            | "google.protobuf.Empty"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// The message name of a type URL: everything after the last `/`.
fn type_name(type_url: &str) -> &str {
    type_url.rsplit_once('/').map_or(type_url, |(_, name)| name)
}

fn serialize_options() -> SerializeOptions {
    SerializeOptions::new().use_proto_field_name(options::proto_field_names())
}

struct Dynamic<'a>(&'a DynamicMessage);

impl Serialize for Dynamic<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_with_options(serializer, &serialize_options())
    }
}

/// Decodes the payload of `any` into a dynamic message of its registered type.
fn unpack(any: &PbAny) -> Result<DynamicMessage, String> {
    let name = type_name(&any.type_url);
    let desc = registry().get_message_by_name(name).ok_or_else(|| {
        format!(
            "type {:?} of an Any is not registered (see json::register_descriptors)",
            any.type_url
        )
    })?;
    DynamicMessage::decode(desc, any.value.as_slice()).map_err(|e| {
        format!(
            "Any payload of type {:?} does not decode: {e}",
            any.type_url
        )
    })
}

/// `google.protobuf.Any`: `{"@type": url, ...fields}`, or `{"@type": url, "value": ...}` for
/// types with a special JSON form.
pub struct Any;

impl Codec for Any {
    type Value = PbAny;

    fn serialize<S: Serializer>(value: &PbAny, serializer: S) -> Result<S::Ok, S::Error> {
        if value.type_url.is_empty() && value.value.is_empty() {
            return serializer.serialize_map(Some(0))?.end();
        }
        let message = unpack(value).map_err(S::Error::custom)?;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("@type", &value.type_url)?;
        if has_special_json(message.descriptor().full_name()) {
            map.serialize_entry("value", &Dynamic(&message))?;
        } else {
            // Print the payload as an object, then lift its entries next to "@type".
            let fields = message
                .serialize_with_options(serde_json::value::Serializer, &serialize_options())
                .map_err(S::Error::custom)?;
            if let serde_json::Value::Object(fields) = fields {
                for (k, v) in &fields {
                    map.serialize_entry(k, v)?;
                }
            }
        }
        map.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbAny, D::Error> {
        // "@type" may come after the fields, so the object is buffered before it is read.
        let mut object: serde_json::Map<String, serde_json::Value> =
            serde::Deserialize::deserialize(deserializer)?;
        if object.is_empty() {
            return Ok(PbAny::default());
        }
        let type_url = match object.remove("@type") {
            Some(serde_json::Value::String(url)) => url,
            Some(_) => return Err(invalid(field, "\"@type\" must be a string")),
            None => return Err(invalid(field, "an Any needs an \"@type\"")),
        };
        let desc = registry()
            .get_message_by_name(type_name(&type_url))
            .ok_or_else(|| {
                invalid::<D::Error>(
                    field,
                    format_args!("type {type_url:?} of an Any is not registered"),
                )
            })?;
        let body = if has_special_json(desc.full_name()) {
            object
                .remove("value")
                .ok_or_else(|| invalid::<D::Error>(field, "an Any of this type needs \"value\""))?
        } else {
            serde_json::Value::Object(object)
        };
        let options = prost_reflect::DeserializeOptions::new().deny_unknown_fields(false);
        let message = DynamicMessage::deserialize_with_options(desc, body, &options)
            .map_err(|e| invalid::<D::Error>(field, e))?;
        Ok(PbAny {
            type_url,
            value: message.encode_to_vec(),
        })
    }
}
