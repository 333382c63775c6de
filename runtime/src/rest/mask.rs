//! The update mask a PATCH body implies, for clients that send none: the leaf paths of the JSON
//! keys present (into `google.protobuf.Struct` values too), so a partial update changes only
//! the fields it mentions.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use prost_reflect::{DescriptorPool, Kind, MessageDescriptor};
use serde_json::{Map, Value};

/// The decoded descriptor pools, by the address of the generated descriptor set they came from.
fn pool(descriptor_set: &'static [u8]) -> Option<DescriptorPool> {
    static POOLS: OnceLock<Mutex<HashMap<usize, Option<DescriptorPool>>>> = OnceLock::new();
    let pools = POOLS.get_or_init(Default::default);
    let mut pools = pools
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    pools
        .entry(descriptor_set.as_ptr() as usize)
        .or_insert_with(|| DescriptorPool::decode(descriptor_set).ok())
        .clone()
}

/// The paths `body` sets in `message` (a full name in `descriptor_set`), relative to it.
pub(crate) fn implied_paths(
    body: &Map<String, Value>,
    descriptor_set: &'static [u8],
    message: &str,
) -> Option<Vec<String>> {
    let descriptor = pool(descriptor_set)?.get_message_by_name(message)?;
    let mut paths = Vec::new();
    message_paths(body, &descriptor, "", &mut paths);
    Some(paths)
}

fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}.{name}")
    }
}

fn message_paths(
    body: &Map<String, Value>,
    message: &MessageDescriptor,
    prefix: &str,
    out: &mut Vec<String>,
) {
    for (key, value) in body {
        // Unknown keys are ignored on input, so they change nothing either.
        let Some(field) = message
            .get_field_by_json_name(key)
            .or_else(|| message.get_field_by_name(key))
        else {
            continue;
        };
        let path = join(prefix, field.name());
        let nested = match field.kind() {
            Kind::Message(nested) if !field.is_list() && !field.is_map() => nested,
            // Scalars, enums, lists and maps are replaced whole.
            _ => {
                out.push(path);
                continue;
            }
        };
        match (nested.full_name(), value) {
            ("google.protobuf.Struct", Value::Object(object)) if !object.is_empty() => {
                struct_paths(object, &path, out);
            }
            // Other well-known types have JSON forms of their own: set whole.
            (name, _) if name.starts_with("google.protobuf.") => out.push(path),
            (_, Value::Object(object)) if !object.is_empty() => {
                message_paths(object, &nested, &path, out);
            }
            _ => out.push(path),
        }
    }
}

fn struct_paths(object: &Map<String, Value>, prefix: &str, out: &mut Vec<String>) {
    for (key, value) in object {
        let path = join(prefix, key);
        match value {
            Value::Object(inner) if !inner.is_empty() => struct_paths(inner, &path, out),
            _ => out.push(path),
        }
    }
}
