//! Message fields: generated messages and `google.protobuf.Empty`.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::codec::{Codec, Expect};

/// The parsing entry point of generated messages, carrying the name of the field being parsed so
/// a type mismatch names it.
pub trait JsonMessage: Sized {
    /// Parses the message; `field` is the enclosing field, `None` at the top level.
    fn deserialize_json<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: Option<&'static str>,
    ) -> Result<Self, D::Error>;
}

/// A field holding message `M`.
pub struct Msg<M>(PhantomData<M>);

impl<M: JsonMessage + Serialize> Codec for Msg<M> {
    type Value = M;

    #[inline]
    fn serialize<S: Serializer>(value: &M, serializer: S) -> Result<S::Ok, S::Error> {
        value.serialize(serializer)
    }

    #[inline]
    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<M, D::Error> {
        M::deserialize_json(deserializer, Some(field))
    }
}

/// `google.protobuf.Empty` (prost's `()`): `{}`.
pub struct Empty;

struct EmptyVisitor(&'static str);

impl<'de> Visitor<'de> for EmptyVisitor {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an object").write(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // Empty has no fields; anything inside is unknown and ignored.
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(())
    }
}

impl Codec for Empty {
    type Value = ();

    fn serialize<S: Serializer>(_value: &(), serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_map(Some(0))?.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<(), D::Error> {
        deserializer.deserialize_map(EmptyVisitor(field))
    }
}
