//! Enums: names out, names or numbers in; `google.protobuf.NullValue` as `null`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, Error, Visitor};
use serde::Serializer;

use super::codec::{invalid, Codec, Defaulted, Expect};
use super::options;

/// Name tables of a proto enum; generated for every enum.
pub trait ProtoEnum {
    /// The enum's full proto name, for error messages.
    const TYPE_NAME: &'static str;

    /// The name of `value` (the first one when values are aliased), or `None` for an unknown
    /// number.
    fn name_of(value: i32) -> Option<&'static str>;

    /// The number of the value named `name`.
    fn value_of(name: &str) -> Option<i32>;
}

/// A field of enum `E` (an `i32` in prost structs).
pub struct Enum<E>(PhantomData<E>);

enum Parsed {
    Known(i32),
    UnknownName,
}

struct EnumVisitor<E>(&'static str, PhantomData<E>);

impl<E: ProtoEnum> Visitor<'_> for EnumVisitor<E> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an enum name or number").write(f)
    }

    fn visit_str<Er: Error>(self, v: &str) -> Result<Parsed, Er> {
        Ok(E::value_of(v).map_or(Parsed::UnknownName, Parsed::Known))
    }

    fn visit_i64<Er: Error>(self, v: i64) -> Result<Parsed, Er> {
        // proto3 enums are open: unknown numbers are kept.
        i32::try_from(v)
            .map(Parsed::Known)
            .map_err(|_| invalid(self.0, format_args!("{v} is out of range")))
    }

    fn visit_u64<Er: Error>(self, v: u64) -> Result<Parsed, Er> {
        i32::try_from(v)
            .map(Parsed::Known)
            .map_err(|_| invalid(self.0, format_args!("{v} is out of range")))
    }

    fn visit_f64<Er: Error>(self, v: f64) -> Result<Parsed, Er> {
        if v.fract() == 0.0 && (-2147483648.0..2147483648.0).contains(&v) {
            Ok(Parsed::Known(v as i32))
        } else {
            Err(invalid(self.0, format_args!("{v} is not an enum number")))
        }
    }
}

impl<E: ProtoEnum> Codec for Enum<E> {
    type Value = i32;

    #[inline]
    fn serialize<S: Serializer>(value: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        match E::name_of(*value) {
            Some(name) => serializer.serialize_str(name),
            None => serializer.serialize_i32(*value),
        }
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<i32, D::Error> {
        match Self::deserialize_lenient(deserializer, field)? {
            Some(v) => Ok(v),
            // Only reachable when unknown names are ignored; a dropped value reads as default.
            None => Ok(0),
        }
    }

    fn deserialize_lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Option<i32>, D::Error> {
        match deserializer.deserialize_any(EnumVisitor::<E>(field, PhantomData))? {
            Parsed::Known(v) => Ok(Some(v)),
            Parsed::UnknownName if options::current().ignore_unknown_enum_values => Ok(None),
            Parsed::UnknownName => Err(invalid(
                field,
                format_args!("unknown name for enum `{}`", E::TYPE_NAME),
            )),
        }
    }
}

impl<E: ProtoEnum> Defaulted for Enum<E> {
    #[inline]
    fn is_default(value: &i32) -> bool {
        *value == 0
    }
}

/// `google.protobuf.NullValue`: always `null`.
pub struct NullValue;

struct NullVisitor(&'static str);

impl Visitor<'_> for NullVisitor {
    type Value = i32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "null").write(f)
    }

    fn visit_unit<E: Error>(self) -> Result<i32, E> {
        Ok(0)
    }

    fn visit_none<E: Error>(self) -> Result<i32, E> {
        Ok(0)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<i32, E> {
        match v {
            "NULL_VALUE" => Ok(0),
            _ => Err(invalid(self.0, format_args!("{v:?} is not a NullValue"))),
        }
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<i32, E> {
        match v {
            0 => Ok(0),
            _ => Err(invalid(self.0, format_args!("{v} is not a NullValue"))),
        }
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<i32, E> {
        match v {
            0 => Ok(0),
            _ => Err(invalid(self.0, format_args!("{v} is not a NullValue"))),
        }
    }
}

impl Codec for NullValue {
    type Value = i32;

    fn serialize<S: Serializer>(_value: &i32, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_unit()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<i32, D::Error> {
        deserializer.deserialize_any(NullVisitor(field))
    }

    fn null() -> Option<i32> {
        Some(0)
    }
}

impl Defaulted for NullValue {
    #[inline]
    fn is_default(value: &i32) -> bool {
        *value == 0
    }
}
