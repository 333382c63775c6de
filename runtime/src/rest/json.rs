//! JSON in and out of REST calls, with client mistakes reported per field.
//!
//! Messages use their generated proto3 JSON `serde` impls; this module only adds error
//! reporting: a body that does not deserialize is `INVALID_ARGUMENT` with a `BadRequest`
//! violation naming the field path where deserialization failed (`shelf.book_count`,
//! `tags[2]`), or `body` when the JSON itself is malformed.

use serde::de::{DeserializeOwned, DeserializeSeed};
use serde::Serialize;

use crate::json::generated::{Codec, FieldSeed};
use crate::json::{with_options, JsonOptions};
use crate::status::Status;

/// Deserializes a request body; `prefix` is the body field's name for `body: "field"` bindings.
pub fn decode<T: DeserializeOwned>(
    bytes: &[u8],
    prefix: Option<&str>,
    options: JsonOptions,
) -> Result<T, Status> {
    decode_seed(bytes, prefix, options, std::marker::PhantomData::<T>)
}

/// Deserializes a body that is one field's value, through that field's proto3 JSON codec.
pub fn decode_field<C: Codec>(
    bytes: &[u8],
    field: &'static str,
    options: JsonOptions,
) -> Result<Option<C::Value>, Status> {
    decode_seed(bytes, Some(field), options, FieldSeed::<C>::new(field))
}

fn decode_seed<'de, S: DeserializeSeed<'de>>(
    bytes: &'de [u8],
    prefix: Option<&str>,
    options: JsonOptions,
    seed: S,
) -> Result<S::Value, Status> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let mut track = serde_path_to_error::Track::new();
    let value = with_options(options, || {
        seed.deserialize(serde_path_to_error::Deserializer::new(&mut de, &mut track))
    });
    let value = value.map_err(|inner| {
        let err = serde_path_to_error::Error::new(track.path(), inner);
        let mut path = err.path().to_string();
        // `?` is a key serde never got to read: the JSON broke before it.
        if path == "?" {
            path = ".".to_owned();
        }
        let inner = err.into_inner();
        let field = match (prefix, path.as_str()) {
            (Some(prefix), ".") => prefix.to_owned(),
            (Some(prefix), path) => format!("{prefix}.{path}"),
            (None, ".") => "body".to_owned(),
            (None, path) => path.to_owned(),
        };
        let description = if inner.is_syntax() || inner.is_eof() {
            format!("malformed JSON: {inner}")
        } else {
            inner.to_string()
        };
        Status::invalid_field(field, description)
    })?;
    // Trailing garbage after the value is malformed JSON too.
    de.end().map_err(|err| {
        Status::invalid_field(prefix.unwrap_or("body"), format!("malformed JSON: {err}"))
    })?;
    Ok(value)
}

/// Serializes a response message.
pub fn encode<T: Serialize + ?Sized>(value: &T, options: JsonOptions) -> Result<Vec<u8>, Status> {
    with_options(options, || serde_json::to_vec(value))
        .map_err(|err| Status::internal(format!("response could not be serialized: {err}")))
}

/// `google.protobuf.Empty` (prost's `()`) in JSON: `{}`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EmptyObject;

impl Serialize for EmptyObject {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        serializer.serialize_map(Some(0))?.end()
    }
}

/// A response field sent alone (`response_body`), printed through its proto3 JSON codec.
pub struct Encoded<C: Codec>(pub C::Value);

impl<C: Codec> Serialize for Encoded<C> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        C::serialize(&self.0, serializer)
    }
}

/// Like [`Encoded`] for a field with presence; an unset field prints as `null`.
pub struct EncodedOption<C: Codec>(pub Option<C::Value>);

impl<C: Codec> Serialize for EncodedOption<C> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            Some(value) => C::serialize(value, serializer),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // read only through Debug
    struct Shelf {
        name: String,
        count: i32,
    }

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)] // read only through Debug
    struct Req {
        shelf: Shelf,
    }

    fn field_of(status: &Status) -> String {
        status
            .details()
            .bad_request
            .as_ref()
            .unwrap()
            .field_violations[0]
            .field
            .clone()
    }

    #[test]
    fn wrong_types_name_the_field() {
        let err = decode::<Req>(
            br#"{"shelf":{"name":"a","count":"x"}}"#,
            None,
            JsonOptions::new(),
        )
        .unwrap_err();
        assert_eq!(field_of(&err), "shelf.count");
        let err = decode::<Shelf>(
            br#"{"name":"a","count":"x"}"#,
            Some("shelf"),
            JsonOptions::new(),
        )
        .unwrap_err();
        assert_eq!(field_of(&err), "shelf.count");
    }

    #[test]
    fn malformed_json_names_the_body() {
        let err = decode::<Req>(b"{,}", None, JsonOptions::new()).unwrap_err();
        assert_eq!(err.code(), crate::status::Code::InvalidArgument);
        assert_eq!(field_of(&err), "body");
        // Cut short inside a field: the field where it broke is named.
        let err = decode::<Req>(b"{\"shelf\":", None, JsonOptions::new()).unwrap_err();
        assert_eq!(field_of(&err), "shelf");
        let err = decode::<Shelf>(
            br#"{"name":"a","count":1} trailing"#,
            None,
            JsonOptions::new(),
        )
        .unwrap_err();
        assert_eq!(field_of(&err), "body");
    }
}
