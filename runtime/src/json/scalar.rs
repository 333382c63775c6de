//! Scalar codecs: integers, floats, bool, string and bytes.

use std::fmt;

use serde::de::{Deserializer, Error, Visitor};
use serde::Serializer;

use super::base64;
use super::codec::{invalid, Codec, Defaulted, Expect};

/// Integers that JSON numbers and strings convert into.
trait Integer: Sized + Copy + fmt::Display + std::str::FromStr {
    const EXPECT: &'static str;
    fn from_i64(v: i64) -> Option<Self>;
    fn from_u64(v: u64) -> Option<Self>;
    /// From an integral `f64` already checked to have no fraction.
    fn from_integral_f64(v: f64) -> Option<Self>;
}

macro_rules! integer {
    ($t:ty, $expect:literal, $lo:expr, $hi:expr) => {
        impl Integer for $t {
            const EXPECT: &'static str = $expect;
            #[inline]
            fn from_i64(v: i64) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            #[inline]
            fn from_u64(v: u64) -> Option<Self> {
                <$t>::try_from(v).ok()
            }
            fn from_integral_f64(v: f64) -> Option<Self> {
                // `$hi` is the first value past the range, exact as an f64.
                ($lo..$hi).contains(&v).then(|| v as $t)
            }
        }
    };
}

integer!(i32, "a 32-bit integer", -2147483648.0, 2147483648.0);
integer!(u32, "an unsigned 32-bit integer", 0.0, 4294967296.0);
integer!(
    i64,
    "a 64-bit integer",
    -9223372036854775808.0,
    9223372036854775808.0
);
integer!(
    u64,
    "an unsigned 64-bit integer",
    0.0,
    18446744073709551616.0
);

struct IntVisitor<T>(&'static str, std::marker::PhantomData<T>);

fn from_f64<T: Integer, E: Error>(field: &str, v: f64) -> Result<T, E> {
    if v.fract() != 0.0 || !v.is_finite() {
        return Err(invalid(field, format_args!("{v} is not an integer")));
    }
    T::from_integral_f64(v).ok_or_else(|| invalid(field, format_args!("{v} is out of range")))
}

impl<T: Integer> Visitor<'_> for IntVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, T::EXPECT).write(f)
    }

    #[inline]
    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        T::from_i64(v).ok_or_else(|| invalid(self.0, format_args!("{v} is out of range")))
    }

    #[inline]
    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        T::from_u64(v).ok_or_else(|| invalid(self.0, format_args!("{v} is out of range")))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<T, E> {
        from_f64(self.0, v)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        // Plain integers first: exact for the whole 64-bit range.
        let digits = v.strip_prefix('-').unwrap_or(v);
        if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
            return v
                .parse::<T>()
                .map_err(|_| invalid(self.0, format_args!("{v:?} is out of range")));
        }
        // Then number-shaped text such as "1e2" or "1.0", as for JSON numbers.
        if is_json_number(v) {
            if let Ok(f) = v.parse::<f64>() {
                return from_f64(self.0, f);
            }
        }
        Err(invalid(self.0, format_args!("{v:?} is not an integer")))
    }
}

/// Whether `text` has the shape of a JSON number (so "inf", " 1" or "0x10" are refused).
fn is_json_number(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    !body.is_empty()
        && body.as_bytes()[0].is_ascii_digit()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

macro_rules! int_codec {
    ($(#[$doc:meta])* $name:ident, $t:ty, $ser:ident) => {
        $(#[$doc])*
        pub struct $name;

        impl Codec for $name {
            type Value = $t;

            #[inline]
            fn serialize<S: Serializer>(value: &$t, serializer: S) -> Result<S::Ok, S::Error> {
                int_codec!(@ser $ser, value, serializer)
            }

            #[inline]
            fn deserialize<'de, D: Deserializer<'de>>(
                deserializer: D,
                field: &'static str,
            ) -> Result<$t, D::Error> {
                deserializer.deserialize_any(IntVisitor::<$t>(field, std::marker::PhantomData))
            }
        }

        impl Defaulted for $name {
            #[inline]
            fn is_default(value: &$t) -> bool {
                *value == 0
            }
        }
    };
    (@ser number, $v:ident, $s:ident) => { $s.serialize_i64(i64::from(*$v)) };
    (@ser string, $v:ident, $s:ident) => { $s.collect_str($v) };
}

int_codec!(
    /// `int32`, `sint32`, `sfixed32`: a JSON number.
    Int32, i32, number
);
int_codec!(
    /// `uint32`, `fixed32`: a JSON number.
    Uint32, u32, number
);
int_codec!(
    /// `int64`, `sint64`, `sfixed64`: a JSON string (numbers accepted on input).
    Int64, i64, string
);
int_codec!(
    /// `uint64`, `fixed64`: a JSON string (numbers accepted on input).
    Uint64, u64, string
);

/// Floating-point types.
trait Float: Sized + Copy + fmt::Display {
    const EXPECT: &'static str;
    fn from_f64(v: f64) -> Option<Self>;
    fn to_f64(self) -> f64;
}

impl Float for f64 {
    const EXPECT: &'static str = "a number";
    fn from_f64(v: f64) -> Option<Self> {
        Some(v)
    }
    fn to_f64(self) -> f64 {
        self
    }
}

impl Float for f32 {
    const EXPECT: &'static str = "a number";
    fn from_f64(v: f64) -> Option<Self> {
        // Finite doubles beyond the float range are errors, not infinities.
        (!v.is_finite() || v.abs() <= f64::from(f32::MAX)).then_some(v as f32)
    }
    fn to_f64(self) -> f64 {
        f64::from(self)
    }
}

struct FloatVisitor<T>(&'static str, std::marker::PhantomData<T>);

impl<T: Float> FloatVisitor<T> {
    fn finite<E: Error>(&self, v: f64) -> Result<T, E> {
        if !v.is_finite() {
            return Err(invalid(self.0, "number is out of range"));
        }
        T::from_f64(v).ok_or_else(|| invalid(self.0, format_args!("{v} is out of range")))
    }
}

impl<T: Float> Visitor<'_> for FloatVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, T::EXPECT).write(f)
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<T, E> {
        self.finite(v as f64)
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<T, E> {
        self.finite(v as f64)
    }

    #[inline]
    fn visit_f64<E: Error>(self, v: f64) -> Result<T, E> {
        self.finite(v)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<T, E> {
        match v {
            "NaN" => T::from_f64(f64::NAN),
            "Infinity" => T::from_f64(f64::INFINITY),
            "-Infinity" => T::from_f64(f64::NEG_INFINITY),
            _ if is_json_number(v) => {
                let parsed = v
                    .parse::<f64>()
                    .map_err(|_| invalid::<E>(self.0, format_args!("{v:?} is not a number")))?;
                return self.finite(parsed);
            }
            _ => None,
        }
        .ok_or_else(|| invalid(self.0, format_args!("{v:?} is not a number")))
    }
}

pub(crate) fn serialize_float<S: Serializer>(
    v: f64,
    is_f32: bool,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    if v.is_nan() {
        serializer.serialize_str("NaN")
    } else if v.is_infinite() {
        serializer.serialize_str(if v > 0.0 { "Infinity" } else { "-Infinity" })
    } else if v.fract() == 0.0 && v.abs() < 1e15 && !(v == 0.0 && v.is_sign_negative()) {
        // Integral values print without a trailing ".0", as protobuf's own printers do.
        serializer.serialize_i64(v as i64)
    } else if is_f32 {
        serializer.serialize_f32(v as f32)
    } else {
        serializer.serialize_f64(v)
    }
}

/// `double`: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub struct Double;

impl Codec for Double {
    type Value = f64;

    #[inline]
    fn serialize<S: Serializer>(value: &f64, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_float(*value, false, serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<f64, D::Error> {
        deserializer.deserialize_any(FloatVisitor::<f64>(field, std::marker::PhantomData))
    }
}

impl Defaulted for Double {
    #[inline]
    fn is_default(value: &f64) -> bool {
        // -0.0 is a distinct value on the wire, so only +0.0 is the default.
        value.to_bits() == 0
    }
}

/// `float`: a JSON number, or `"NaN"`, `"Infinity"`, `"-Infinity"`.
pub struct Float32;

impl Codec for Float32 {
    type Value = f32;

    #[inline]
    fn serialize<S: Serializer>(value: &f32, serializer: S) -> Result<S::Ok, S::Error> {
        serialize_float(value.to_f64(), true, serializer)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<f32, D::Error> {
        deserializer.deserialize_any(FloatVisitor::<f32>(field, std::marker::PhantomData))
    }
}

impl Defaulted for Float32 {
    #[inline]
    fn is_default(value: &f32) -> bool {
        value.to_bits() == 0
    }
}

/// `bool`: `true` or `false`.
pub struct Bool;

struct BoolVisitor(&'static str);

impl Visitor<'_> for BoolVisitor {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "a boolean").write(f)
    }

    #[inline]
    fn visit_bool<E: Error>(self, v: bool) -> Result<bool, E> {
        Ok(v)
    }
}

impl Codec for Bool {
    type Value = bool;

    #[inline]
    fn serialize<S: Serializer>(value: &bool, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bool(*value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<bool, D::Error> {
        deserializer.deserialize_bool(BoolVisitor(field))
    }
}

impl Defaulted for Bool {
    #[inline]
    fn is_default(value: &bool) -> bool {
        !*value
    }
}

/// `string`: a JSON string.
pub struct Str;

struct StrVisitor(&'static str);

impl Visitor<'_> for StrVisitor {
    type Value = String;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "a string").write(f)
    }

    #[inline]
    fn visit_str<E: Error>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }

    #[inline]
    fn visit_string<E: Error>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
}

impl Codec for Str {
    type Value = String;

    #[inline]
    fn serialize<S: Serializer>(value: &String, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(value)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<String, D::Error> {
        deserializer.deserialize_string(StrVisitor(field))
    }
}

impl Defaulted for Str {
    #[inline]
    fn is_default(value: &String) -> bool {
        value.is_empty()
    }
}

/// `bytes`: a base64 JSON string.
pub struct Bytes;

struct BytesVisitor(&'static str);

impl Visitor<'_> for BytesVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "a base64 string").write(f)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Vec<u8>, E> {
        base64::decode(v).map_err(|e| invalid(self.0, e))
    }
}

impl Codec for Bytes {
    type Value = Vec<u8>;

    fn serialize<S: Serializer>(value: &Vec<u8>, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&base64::Encoded(value))
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Vec<u8>, D::Error> {
        deserializer.deserialize_str(BytesVisitor(field))
    }
}

impl Defaulted for Bytes {
    #[inline]
    fn is_default(value: &Vec<u8>) -> bool {
        value.is_empty()
    }
}

/// Parses map keys, which JSON always writes as strings.
#[allow(private_bounds)] // `Integer` is sealed inside this module
pub(crate) fn parse_int_key<T: Integer>(field: &str, text: &str) -> Result<T, String> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(format!(
            "invalid value for field `{field}`: map key {text:?} is not an integer"
        ));
    }
    text.parse::<T>()
        .map_err(|_| format!("invalid value for field `{field}`: map key {text:?} is out of range"))
}
