//! `repeated` fields as JSON arrays and `map` fields as JSON objects.

use std::collections::HashMap;
use std::fmt;
use std::hash::Hash;
use std::marker::PhantomData;

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};

use super::codec::{Codec, Expect, Ser};
use super::scalar::{parse_int_key, Bool, Int32, Int64, Str, Uint32, Uint64};

/// A `repeated` field of codec `C`: a JSON array.
pub struct Repeated<C>(PhantomData<C>);

/// Parses one element (or map value) through `C`; `null` is not a valid element.
struct Elem<C>(&'static str, PhantomData<C>);

impl<'de, C: Codec> DeserializeSeed<'de> for Elem<C> {
    type Value = Option<C::Value>;

    #[inline]
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        C::deserialize_lenient(deserializer, self.0)
    }
}

struct SeqVisitor<C>(&'static str, PhantomData<C>);

impl<'de, C: Codec> Visitor<'de> for SeqVisitor<C> {
    type Value = Vec<C::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an array").write(f)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(item) = seq.next_element_seed(Elem::<C>(self.0, PhantomData))? {
            if let Some(item) = item {
                out.push(item);
            }
        }
        Ok(out)
    }
}

impl<C: Codec> Codec for Repeated<C> {
    type Value = Vec<C::Value>;

    fn serialize<S: Serializer>(value: &Self::Value, serializer: S) -> Result<S::Ok, S::Error> {
        let mut seq = serializer.serialize_seq(Some(value.len()))?;
        for item in value {
            seq.serialize_element(&Ser::<C>::new(item))?;
        }
        seq.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(SeqVisitor::<C>(field, PhantomData))
    }
}

/// Codecs that can be map keys; JSON writes every key as a string.
pub trait MapKey: Codec {
    /// Prints `key` as an object key.
    fn serialize_key<M: SerializeMap>(key: &Self::Value, map: &mut M) -> Result<(), M::Error>;

    /// Parses an object key.
    fn parse_key(field: &str, text: &str) -> Result<Self::Value, String>;
}

/// Prints a map key through `Display`, which serializers turn into a string key.
struct DisplayKey<'a, T>(&'a T);

impl<T: fmt::Display> serde::Serialize for DisplayKey<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self.0)
    }
}

impl MapKey for Str {
    #[inline]
    fn serialize_key<M: SerializeMap>(key: &String, map: &mut M) -> Result<(), M::Error> {
        map.serialize_key(key.as_str())
    }

    #[inline]
    fn parse_key(_field: &str, text: &str) -> Result<String, String> {
        Ok(text.to_owned())
    }
}

impl MapKey for Bool {
    fn serialize_key<M: SerializeMap>(key: &bool, map: &mut M) -> Result<(), M::Error> {
        map.serialize_key(if *key { "true" } else { "false" })
    }

    fn parse_key(field: &str, text: &str) -> Result<bool, String> {
        match text {
            "true" => Ok(true),
            "false" => Ok(false),
            _ => Err(format!(
                "invalid value for field `{field}`: map key {text:?} is not a boolean"
            )),
        }
    }
}

macro_rules! int_key {
    ($codec:ty, $t:ty) => {
        impl MapKey for $codec {
            fn serialize_key<M: SerializeMap>(key: &$t, map: &mut M) -> Result<(), M::Error> {
                map.serialize_key(&DisplayKey(key))
            }

            fn parse_key(field: &str, text: &str) -> Result<$t, String> {
                parse_int_key::<$t>(field, text)
            }
        }
    };
}

int_key!(Int32, i32);
int_key!(Uint32, u32);
int_key!(Int64, i64);
int_key!(Uint64, u64);

/// A `map<K, V>` field: a JSON object.
pub struct Map<K, V>(PhantomData<(K, V)>);

/// Parses an object key through `K`.
struct KeySeed<K>(&'static str, PhantomData<K>);

impl<'de, K: MapKey> DeserializeSeed<'de> for KeySeed<K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<K: MapKey> Visitor<'_> for KeySeed<K> {
    type Value = K::Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "a map key").write(f)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<K::Value, E> {
        K::parse_key(self.0, v).map_err(E::custom)
    }
}

struct MapVisitor<K, V>(&'static str, PhantomData<(K, V)>);

impl<'de, K, V> Visitor<'de> for MapVisitor<K, V>
where
    K: MapKey,
    K::Value: Eq + Hash,
    V: Codec,
{
    type Value = HashMap<K::Value, V::Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "an object").write(f)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = HashMap::with_capacity(map.size_hint().unwrap_or(0).min(4096));
        while let Some(key) = map.next_key_seed(KeySeed::<K>(self.0, PhantomData))? {
            let value = map.next_value_seed(Elem::<V>(self.0, PhantomData))?;
            if let Some(value) = value {
                if out.insert(key, value).is_some() {
                    return Err(A::Error::custom(format_args!(
                        "invalid value for field `{}`: duplicate map key",
                        self.0
                    )));
                }
            }
        }
        Ok(out)
    }
}

impl<K, V> Codec for Map<K, V>
where
    K: MapKey,
    K::Value: Eq + Hash,
    V: Codec,
{
    type Value = HashMap<K::Value, V::Value>;

    fn serialize<S: Serializer>(value: &Self::Value, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(value.len()))?;
        for (k, v) in value {
            K::serialize_key(k, &mut map)?;
            map.serialize_value(&Ser::<V>::new(v))?;
        }
        map.end()
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(MapVisitor::<K, V>(field, PhantomData))
    }
}
