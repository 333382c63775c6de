//! The `Codec` trait: how one proto field kind maps to JSON, plus the small adapters generated
//! impls use to drive codecs from `serde` maps.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, Visitor};
use serde::ser::{Serialize, Serializer};

/// One proto field kind (a scalar type, an enum, a message, a well-known type, or a repeated or
/// map of those) and its proto3 JSON form.
///
/// Codecs are marker types; the Rust value lives in [`Codec::Value`], the type prost-build uses
/// for that kind.
pub trait Codec {
    /// The Rust type prost-build gives a field of this kind.
    type Value;

    /// Prints `value`.
    fn serialize<S: Serializer>(value: &Self::Value, serializer: S) -> Result<S::Ok, S::Error>;

    /// Parses a value; `field` names the field for error messages.
    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Self::Value, D::Error>;

    /// Parses a value that may be dropped: `Ok(None)` when the input is valid but ignored (an
    /// unknown enum name while unknown enum values are ignored).
    fn deserialize_lenient<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Option<Self::Value>, D::Error> {
        Self::deserialize(deserializer, field).map(Some)
    }

    /// The value a JSON `null` stands for; `None` means the field stays unset (every kind but
    /// `google.protobuf.Value` and `google.protobuf.NullValue`).
    fn null() -> Option<Self::Value> {
        None
    }
}

/// Codecs of implicit-presence fields, which are printed only when not at their default.
pub trait Defaulted: Codec {
    /// Whether `value` is the proto3 default (and so is left out of the output).
    fn is_default(value: &Self::Value) -> bool;
}

/// Prints a value through codec `C`.
pub struct Ser<'a, C: Codec>(&'a C::Value, PhantomData<C>);

impl<'a, C: Codec> Ser<'a, C> {
    /// Wraps `value` for printing.
    #[inline]
    pub fn new(value: &'a C::Value) -> Self {
        Self(value, PhantomData)
    }
}

impl<C: Codec> Serialize for Ser<'_, C> {
    #[inline]
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        C::serialize(self.0, serializer)
    }
}

/// Parses one field value through codec `C`; `Ok(None)` means the field stays unset (`null`,
/// or a dropped unknown enum name).
pub struct FieldSeed<C>(&'static str, PhantomData<C>);

impl<C> FieldSeed<C> {
    /// A seed for the field named `field`.
    #[inline]
    pub fn new(field: &'static str) -> Self {
        Self(field, PhantomData)
    }
}

impl<'de, C: Codec> DeserializeSeed<'de> for FieldSeed<C> {
    type Value = Option<C::Value>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(FieldVisitor::<C>(self.0, PhantomData))
    }
}

struct FieldVisitor<C>(&'static str, PhantomData<C>);

impl<'de, C: Codec> Visitor<'de> for FieldVisitor<C> {
    type Value = Option<C::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "a value for field `{}`", self.0)
    }

    #[inline]
    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::null())
    }

    #[inline]
    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(C::null())
    }

    #[inline]
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        C::deserialize_lenient(deserializer, self.0)
    }
}

/// Parses an object key into a field index with the generated `match`, without allocating.
pub struct KeySeed<F>(pub F);

impl<'de, F: FnOnce(&str) -> u32> DeserializeSeed<'de> for KeySeed<F> {
    type Value = u32;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<u32, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, F: FnOnce(&str) -> u32> Visitor<'de> for KeySeed<F> {
    type Value = u32;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a field name")
    }

    #[inline]
    fn visit_str<E: serde::de::Error>(self, name: &str) -> Result<u32, E> {
        Ok((self.0)(name))
    }
}

/// Moves a parsed value into its field's type: itself, or a `Box` for the message fields prost
/// boxes (recursive messages). Generated code cannot tell which, so it lets `From` decide.
#[inline]
pub fn place<T, U: From<T>>(value: T) -> U {
    U::from(value)
}

/// Field index the generated key `match` returns for names the message does not know.
pub const UNKNOWN_FIELD: u32 = u32::MAX;

/// Records that field `name` was read, failing if it already was (under either of its names).
#[inline]
pub fn mark_seen<E: serde::de::Error>(seen: &mut bool, name: &'static str) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        return Err(duplicate_field(name));
    }
    Ok(())
}

#[cold]
#[inline(never)]
fn duplicate_field<E: serde::de::Error>(name: &'static str) -> E {
    E::custom(format_args!("duplicate field `{name}`"))
}

/// Records that oneof `name` received a value, failing if it already had one.
#[inline]
pub fn mark_oneof<E: serde::de::Error>(seen: &mut bool, name: &'static str) -> Result<(), E> {
    if std::mem::replace(seen, true) {
        return Err(E::custom(format_args!(
            "more than one field of oneof `{name}` is set"
        )));
    }
    Ok(())
}

/// Writes the `expecting` text of a generated message visitor.
pub fn expecting_message(
    f: &mut fmt::Formatter<'_>,
    field: Option<&'static str>,
    message: &'static str,
) -> fmt::Result {
    match field {
        Some(field) => write!(f, "an object for field `{field}` ({message})"),
        None => write!(f, "an object for message `{message}`"),
    }
}

/// An error for field `field` whose value is invalid for the reason `what`.
pub(crate) fn invalid<E: serde::de::Error>(field: &str, what: impl fmt::Display) -> E {
    if field.is_empty() {
        // A bare value (an enum or well-known type parsed on its own), not a field.
        return E::custom(format_args!("invalid value: {what}"));
    }
    E::custom(format_args!("invalid value for field `{field}`: {what}"))
}

/// The `expecting` text of leaf visitors: "a string for field `f`".
pub(crate) struct Expect<'a>(pub &'a str, pub &'static str);

impl Expect<'_> {
    pub(crate) fn write(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            f.write_str(self.1)
        } else {
            write!(f, "{} for field `{}`", self.1, self.0)
        }
    }
}
