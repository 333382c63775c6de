//! JSON Schemas (2020-12, as OpenAPI 3.1 uses) for protobuf messages and enums in their proto3
//! JSON form.
//!
//! Messages and enums become named components (`#/components/schemas/<full.proto.Name>`; the
//! package is part of the name because two packages may declare the same short name). Fields
//! are inlined into their message's `properties` under their lowerCamel JSON names. The
//! well-known types get their special JSON forms (Timestamp as an RFC 3339 string, wrappers as
//! nullable scalars, ...). Only what the document reaches is emitted.

use std::collections::{BTreeMap, BTreeSet};

use prost_reflect::{EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor};

use super::comments::{comments_of, Located};
use super::json::{Json, Object};

/// The `$ref` value for a component schema.
pub(crate) fn schema_ref(name: &str) -> Json {
    Object::new()
        .with("$ref", format!("#/components/schemas/{name}"))
        .into()
}

/// Collects the component schemas the document refers to.
#[derive(Default)]
pub(crate) struct Schemas {
    /// Finished components, by name (sorted, so the output does not depend on visit order).
    done: BTreeMap<String, Json>,
    /// Names already queued or done.
    seen: BTreeSet<String>,
    /// Messages and enums referred to but not yet rendered.
    pending: Vec<Pending>,
}

enum Pending {
    Message(MessageDescriptor),
    Enum(EnumDescriptor),
}

impl Schemas {
    /// Adds a component built by hand (error shapes); it wins over a descriptor of that name.
    pub(crate) fn insert_fixed(&mut self, name: &str, schema: Json) {
        self.seen.insert(name.to_owned());
        self.done.insert(name.to_owned(), schema);
    }

    /// A reference to `message`'s schema, queueing the schema.
    pub(crate) fn message_ref(&mut self, message: &MessageDescriptor) -> Json {
        let name = message.full_name();
        if self.seen.insert(name.to_owned()) {
            self.pending.push(Pending::Message(message.clone()));
        }
        schema_ref(name)
    }

    fn enum_ref(&mut self, descriptor: &EnumDescriptor) -> Json {
        let name = descriptor.full_name();
        if self.seen.insert(name.to_owned()) {
            self.pending.push(Pending::Enum(descriptor.clone()));
        }
        schema_ref(name)
    }

    /// The schema of a field as a property: arrays for repeated fields, objects for maps, with
    /// the field's comments as its description.
    pub(crate) fn field_schema(&mut self, field: &FieldDescriptor) -> Json {
        let mut schema = match self.field_values_schema(field) {
            Json::Object(object) => object,
            other => return other,
        };
        let mut description = comments_of(Located::Field(field));
        if let Some(oneof) = field.containing_oneof().filter(|o| !o.is_synthetic()) {
            let members: Vec<String> = oneof
                .fields()
                .map(|f| format!("`{}`", f.json_name()))
                .collect();
            let note = format!(
                "At most one of {} is set (oneof `{}`).",
                members.join(", "),
                oneof.name()
            );
            description = Some(match description {
                Some(text) => format!("{text}\n\n{note}"),
                None => note,
            });
        }
        schema.insert_opt("description", description);
        if field
            .field_descriptor_proto()
            .options
            .as_ref()
            .and_then(|o| o.deprecated)
            == Some(true)
        {
            schema.insert("deprecated", true);
        }
        schema.into()
    }

    /// The schema of a field's values, without its description.
    pub(crate) fn field_values_schema(&mut self, field: &FieldDescriptor) -> Json {
        if field.is_map() {
            let Kind::Message(entry) = field.kind() else {
                unreachable!("map fields are message fields")
            };
            let key = entry.map_entry_key_field();
            let value = entry.map_entry_value_field();
            let mut object = Object::new()
                .with("type", "object")
                .with("additionalProperties", self.value_schema(&value.kind()));
            if let Some(names) = map_key_names(&key.kind()) {
                object.insert("propertyNames", names);
            }
            object.into()
        } else if field.is_list() {
            Object::new()
                .with("type", "array")
                .with("items", self.value_schema(&field.kind()))
                .into()
        } else {
            self.value_schema(&field.kind())
        }
    }

    /// The schema of one value of `kind`.
    pub(crate) fn value_schema(&mut self, kind: &Kind) -> Json {
        match kind {
            Kind::Double => float_schema("double"),
            Kind::Float => float_schema("float"),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => {
                integer_schema("int32", i64::from(i32::MIN), i64::from(i32::MAX))
            }
            Kind::Uint32 | Kind::Fixed32 => integer_schema("uint32", 0, i64::from(u32::MAX)),
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => string_integer_schema("int64"),
            Kind::Uint64 | Kind::Fixed64 => string_integer_schema("uint64"),
            Kind::Bool => type_schema("boolean"),
            Kind::String => type_schema("string"),
            Kind::Bytes => bytes_schema(),
            Kind::Enum(descriptor) if descriptor.full_name() == NULL_VALUE => type_schema("null"),
            Kind::Enum(descriptor) => self.enum_ref(descriptor),
            Kind::Message(message) => self.message_ref(message),
        }
    }

    /// Renders every queued schema (and what those refer to) and returns all components.
    pub(crate) fn finish(mut self) -> Object {
        while let Some(next) = self.pending.pop() {
            let (name, schema) = match next {
                Pending::Message(message) => {
                    let schema = self.message_schema(&message);
                    (message.full_name().to_owned(), schema)
                }
                Pending::Enum(descriptor) => {
                    (descriptor.full_name().to_owned(), enum_schema(&descriptor))
                }
            };
            self.done.insert(name, schema);
        }
        let mut out = Object::new();
        for (name, schema) in self.done {
            out.insert(name, schema);
        }
        out
    }

    fn message_schema(&mut self, message: &MessageDescriptor) -> Json {
        let mut schema = match well_known_schema(message.full_name()) {
            Some(schema) => schema,
            None => {
                let mut properties = Object::new();
                for field in message.fields() {
                    let property = self.field_schema(&field);
                    properties.insert(field.json_name(), property);
                }
                let mut schema = Object::new().with("type", "object");
                if !properties.is_empty() {
                    schema.insert("properties", properties);
                }
                schema
            }
        };
        if schema.get("description").is_none() {
            schema.insert_opt("description", comments_of(Located::Message(message)));
        }
        schema.into()
    }
}

const NULL_VALUE: &str = "google.protobuf.NullValue";

fn type_schema(name: &str) -> Json {
    Object::new().with("type", name).into()
}

fn integer_schema(format: &str, minimum: i64, maximum: i64) -> Json {
    Object::new()
        .with("type", "integer")
        .with("format", format)
        .with("minimum", minimum)
        .with("maximum", maximum)
        .into()
}

/// 64-bit integers are decimal strings in proto3 JSON (a JSON number loses precision past
/// 2^53); parsers accept numbers too, which the document's description says once.
fn string_integer_schema(format: &str) -> Json {
    let pattern = if format == "uint64" {
        "^[0-9]+$"
    } else {
        "^-?[0-9]+$"
    };
    Object::new()
        .with("type", "string")
        .with("format", format)
        .with("pattern", pattern)
        .into()
}

/// Floating point values are numbers, or one of three strings for the values JSON lacks.
fn float_schema(format: &str) -> Json {
    Object::new()
        .with(
            "anyOf",
            vec![
                Object::new()
                    .with("type", "number")
                    .with("format", format)
                    .into(),
                Object::new()
                    .with("type", "string")
                    .with("enum", Json::strings(["NaN", "Infinity", "-Infinity"]))
                    .into(),
            ],
        )
        .into()
}

fn bytes_schema() -> Json {
    Object::new()
        .with("type", "string")
        .with("format", "byte")
        .with("contentEncoding", "base64")
        .into()
}

/// JSON object keys are strings; integer and bool map keys are written as their text.
fn map_key_names(kind: &Kind) -> Option<Json> {
    let pattern = match kind {
        Kind::Int32
        | Kind::Sint32
        | Kind::Sfixed32
        | Kind::Int64
        | Kind::Sint64
        | Kind::Sfixed64 => "^-?[0-9]+$",
        Kind::Uint32 | Kind::Fixed32 | Kind::Uint64 | Kind::Fixed64 => "^[0-9]+$",
        Kind::Bool => {
            return Some(
                Object::new()
                    .with("enum", Json::strings(["true", "false"]))
                    .into(),
            )
        }
        _ => return None,
    };
    Some(Object::new().with("pattern", pattern).into())
}

fn enum_schema(descriptor: &EnumDescriptor) -> Json {
    let names: Vec<String> = descriptor.values().map(|v| v.name().to_owned()).collect();
    let mut lines = Vec::new();
    for value in descriptor.values() {
        match comments_of(Located::EnumValue(&value)) {
            Some(text) => lines.push(format!("- `{}`: {}", value.name(), text.replace('\n', " "))),
            None => lines.push(format!("- `{}`", value.name())),
        }
    }
    let values = lines.join("\n");
    let description = match comments_of(Located::Enum(descriptor)) {
        Some(text) => format!("{text}\n\n{values}"),
        None => values,
    };
    Object::new()
        .with("type", "string")
        .with("enum", Json::strings(names))
        .with("description", description)
        .into()
}

/// The proto3 JSON forms of the well-known types; `None` for ordinary messages.
fn well_known_schema(full_name: &str) -> Option<Object> {
    let nullable = |types: &str, format: Option<&str>, what: &str| {
        let mut schema = Object::new().with("type", Json::strings([types, "null"]));
        schema.insert_opt("format", format);
        schema.with("description", format!("{what}, or `null` when unset."))
    };
    let schema = match full_name {
        "google.protobuf.Timestamp" => Object::new()
            .with("type", "string")
            .with("format", "date-time")
            .with(
                "description",
                "An RFC 3339 timestamp in UTC, such as `2024-05-01T12:00:00Z` \
                 (0, 3, 6 or 9 fractional digits).",
            ),
        "google.protobuf.Duration" => Object::new()
            .with("type", "string")
            .with("pattern", "^-?[0-9]+(\\.[0-9]{1,9})?s$")
            .with(
                "description",
                "A duration in seconds with an `s` suffix, such as `1.5s`.",
            ),
        "google.protobuf.FieldMask" => Object::new().with("type", "string").with(
            "description",
            "Comma-separated field paths in lowerCamel form, such as `user.displayName,photo`.",
        ),
        "google.protobuf.Struct" => Object::new()
            .with("type", "object")
            .with("additionalProperties", true)
            .with("description", "Any JSON object."),
        "google.protobuf.Value" => Object::new().with("description", "Any JSON value."),
        "google.protobuf.ListValue" => Object::new()
            .with("type", "array")
            .with("items", true)
            .with("description", "Any JSON array."),
        "google.protobuf.Empty" => Object::new()
            .with("type", "object")
            .with("description", "An empty JSON object."),
        "google.protobuf.Any" => Object::new()
            .with("type", "object")
            .with(
                "properties",
                Object::new().with(
                    "@type",
                    Object::new().with("type", "string").with(
                        "description",
                        "The packed message's type URL, such as \
                         `type.googleapis.com/google.rpc.ErrorInfo`.",
                    ),
                ),
            )
            .with("required", Json::strings(["@type"]))
            .with("additionalProperties", true)
            .with(
                "description",
                "A message of any type: `@type` names it and the other properties are the \
                 message's own fields (or `value` for a well-known type with a special form).",
            ),
        "google.protobuf.DoubleValue" | "google.protobuf.FloatValue" => {
            let format = if full_name.ends_with("DoubleValue") {
                "double"
            } else {
                "float"
            };
            let Json::Object(mut float) = float_schema(format) else {
                unreachable!("float schemas are objects")
            };
            if let Some(Json::Array(options)) = float.get_mut("anyOf") {
                options.push(type_schema("null"));
            }
            float.with("description", "A number, or `null` when unset.")
        }
        "google.protobuf.Int64Value" => {
            nullable("string", Some("int64"), "A 64-bit integer as a string")
        }
        "google.protobuf.UInt64Value" => nullable(
            "string",
            Some("uint64"),
            "An unsigned 64-bit integer as a string",
        ),
        "google.protobuf.Int32Value" => nullable("integer", Some("int32"), "A 32-bit integer"),
        "google.protobuf.UInt32Value" => {
            nullable("integer", Some("uint32"), "An unsigned 32-bit integer")
        }
        "google.protobuf.BoolValue" => nullable("boolean", None, "A boolean"),
        "google.protobuf.StringValue" => nullable("string", None, "A string"),
        "google.protobuf.BytesValue" => nullable("string", Some("byte"), "Base64 bytes"),
        _ => return None,
    };
    Some(schema)
}
