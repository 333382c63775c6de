//! `google.protobuf.Struct`, `Value` and `ListValue`: free-form JSON.

use std::collections::BTreeMap;
use std::fmt;

use prost_types::value::Kind;
use prost_types::{ListValue as PbListValue, Struct as PbStruct, Value as PbValue};
use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde::ser::{Error as _, Serialize, SerializeMap, SerializeSeq, Serializer};

use super::codec::{Codec, Expect};
use super::scalar::serialize_float;

/// Prints a `Value`; `NaN` and infinities have no JSON form and are errors.
struct ValueRef<'a>(&'a PbValue);

impl Serialize for ValueRef<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0.kind {
            None | Some(Kind::NullValue(_)) => serializer.serialize_unit(),
            Some(Kind::NumberValue(n)) if !n.is_finite() => Err(S::Error::custom(
                "a google.protobuf.Value number cannot be NaN or infinite",
            )),
            Some(Kind::NumberValue(n)) => serialize_float(*n, false, serializer),
            Some(Kind::StringValue(s)) => serializer.serialize_str(s),
            Some(Kind::BoolValue(b)) => serializer.serialize_bool(*b),
            Some(Kind::StructValue(s)) => serialize_struct(s, serializer),
            Some(Kind::ListValue(l)) => serialize_list(l, serializer),
        }
    }
}

fn serialize_struct<S: Serializer>(value: &PbStruct, serializer: S) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(value.fields.len()))?;
    for (k, v) in &value.fields {
        map.serialize_entry(k, &ValueRef(v))?;
    }
    map.end()
}

fn serialize_list<S: Serializer>(value: &PbListValue, serializer: S) -> Result<S::Ok, S::Error> {
    let mut seq = serializer.serialize_seq(Some(value.values.len()))?;
    for v in &value.values {
        seq.serialize_element(&ValueRef(v))?;
    }
    seq.end()
}

/// Parses any JSON into a `Value`.
#[derive(Clone, Copy)]
struct ValueVisitor(&'static str);

impl<'de> DeserializeSeed<'de> for ValueVisitor {
    type Value = PbValue;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<PbValue, D::Error> {
        deserializer.deserialize_any(self)
    }
}

fn value(kind: Kind) -> PbValue {
    PbValue { kind: Some(kind) }
}

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = PbValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "any JSON value").write(f)
    }

    fn visit_unit<E: Error>(self) -> Result<PbValue, E> {
        Ok(value(Kind::NullValue(0)))
    }

    fn visit_none<E: Error>(self) -> Result<PbValue, E> {
        Ok(value(Kind::NullValue(0)))
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<PbValue, D::Error> {
        deserializer.deserialize_any(self)
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<PbValue, E> {
        Ok(value(Kind::BoolValue(v)))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<PbValue, E> {
        Ok(value(Kind::NumberValue(v as f64)))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<PbValue, E> {
        Ok(value(Kind::NumberValue(v as f64)))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<PbValue, E> {
        Ok(value(Kind::NumberValue(v)))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<PbValue, E> {
        Ok(value(Kind::StringValue(v.to_owned())))
    }

    fn visit_string<E: Error>(self, v: String) -> Result<PbValue, E> {
        Ok(value(Kind::StringValue(v)))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<PbValue, A::Error> {
        ListVisitor(self.0)
            .visit_seq(seq)
            .map(|l| value(Kind::ListValue(l)))
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<PbValue, A::Error> {
        StructVisitor(self.0)
            .visit_map(map)
            .map(|s| value(Kind::StructValue(s)))
    }
}

struct StructVisitor(&'static str);

impl<'de> Visitor<'de> for StructVisitor {
    type Value = PbStruct;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an object").write(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<PbStruct, A::Error> {
        let mut fields = BTreeMap::new();
        while let Some(key) = map.next_key::<String>()? {
            let v = map.next_value_seed(ValueVisitor(self.0))?;
            fields.insert(key, v);
        }
        Ok(PbStruct { fields })
    }
}

struct ListVisitor(&'static str);

impl<'de> Visitor<'de> for ListVisitor {
    type Value = PbListValue;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an array").write(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<PbListValue, A::Error> {
        let mut values = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(v) = seq.next_element_seed(ValueVisitor(self.0))? {
            values.push(v);
        }
        Ok(PbListValue { values })
    }
}

/// `google.protobuf.Value`: any JSON; `null` is `NULL_VALUE`, not an unset field.
pub struct Value;

impl Codec for Value {
    type Value = PbValue;

    fn serialize<S: Serializer>(value: &PbValue, serializer: S) -> Result<S::Ok, S::Error> {
        ValueRef(value).serialize(serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbValue, D::Error> {
        deserializer.deserialize_any(ValueVisitor(field))
    }

    fn null() -> Option<PbValue> {
        Some(value(Kind::NullValue(0)))
    }
}

/// `google.protobuf.Struct`: a JSON object.
pub struct Struct;

impl Codec for Struct {
    type Value = PbStruct;

    fn serialize<S: Serializer>(value: &PbStruct, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_struct(value, serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbStruct, D::Error> {
        deserializer.deserialize_map(StructVisitor(field))
    }
}

/// `google.protobuf.ListValue`: a JSON array.
pub struct ListValue;

impl Codec for ListValue {
    type Value = PbListValue;

    fn serialize<S: Serializer>(value: &PbListValue, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_list(value, serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbListValue, D::Error> {
        deserializer.deserialize_seq(ListVisitor(field))
    }
}
