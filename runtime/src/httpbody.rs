//! `google.api.HttpBody`: a message that is an arbitrary HTTP body.
//!
//! Generated code uses this type wherever a contract names `google.api.HttpBody` (as prost uses
//! `prost_types` for the well-known types), so the REST surface and the REST client can tell it
//! apart from every other message:
//!
//! - as a request (`body: "*"` with an `HttpBody` request, or `body: "field"` naming an
//!   `HttpBody` field), the HTTP body is taken raw, with the request's `Content-Type`;
//! - as a response (the whole response, or its `response_body`), the data is sent raw with the
//!   message's content type; a server stream of them is the data of each message in turn, as
//!   chunks of one body whose content type is the first message's.
//!
//! Over gRPC it is an ordinary message.

use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};

use crate::json::generated::{
    expecting_message, mark_seen, options, Any, Bytes, Defaulted, FieldSeed, JsonMessage, KeySeed,
    Repeated, Ser, Str, UNKNOWN_FIELD,
};
use crate::rest::{QueryError, QueryFields};

/// An arbitrary HTTP body and its content type (`google.api.HttpBody`, field for field).
#[derive(Clone, PartialEq, prost::Message)]
pub struct HttpBody {
    /// The body's `Content-Type`.
    #[prost(string, tag = "1")]
    pub content_type: String,
    /// The body, raw.
    #[prost(bytes = "vec", tag = "2")]
    pub data: Vec<u8>,
    /// Application-specific metadata (for streams, typically only in the first message).
    #[prost(message, repeated, tag = "3")]
    pub extensions: Vec<prost_types::Any>,
}

impl HttpBody {
    /// A body of `data` with `content_type`.
    pub fn new(content_type: impl Into<String>, data: impl Into<Vec<u8>>) -> Self {
        Self {
            content_type: content_type.into(),
            data: data.into(),
            extensions: Vec::new(),
        }
    }
}

impl prost::Name for HttpBody {
    const NAME: &'static str = "HttpBody";
    const PACKAGE: &'static str = "google.api";

    fn full_name() -> String {
        "google.api.HttpBody".to_owned()
    }

    fn type_url() -> String {
        "type.googleapis.com/google.api.HttpBody".to_owned()
    }
}

/// Its proto3 JSON form, for gRPC-transcoded places where it is not the body itself (a field of
/// a JSON message, a WebSocket frame).
impl serde::Serialize for HttpBody {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let options = options();
        let all = options.emit_unpopulated;
        let name = |proto: &'static str, camel: &'static str| {
            if options.proto_field_names {
                proto
            } else {
                camel
            }
        };
        let mut map = serializer.serialize_map(None)?;
        if all || !Str::is_default(&self.content_type) {
            map.serialize_entry(
                name("content_type", "contentType"),
                &Ser::<Str>::new(&self.content_type),
            )?;
        }
        if all || !Bytes::is_default(&self.data) {
            map.serialize_entry("data", &Ser::<Bytes>::new(&self.data))?;
        }
        if all || !self.extensions.is_empty() {
            map.serialize_entry("extensions", &Ser::<Repeated<Any>>::new(&self.extensions))?;
        }
        map.end()
    }
}

impl JsonMessage for HttpBody {
    fn deserialize_json<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: Option<&'static str>,
    ) -> Result<Self, D::Error> {
        struct BodyVisitor(Option<&'static str>);

        impl<'de> Visitor<'de> for BodyVisitor {
            type Value = HttpBody;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                expecting_message(f, self.0, "google.api.HttpBody")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<HttpBody, A::Error> {
                let mut message = HttpBody::default();
                let mut seen = [false; 3];
                let field_number = |name: &str| match name {
                    "content_type" | "contentType" => 0,
                    "data" => 1,
                    "extensions" => 2,
                    _ => UNKNOWN_FIELD,
                };
                while let Some(key) = map.next_key_seed(KeySeed(field_number))? {
                    match key {
                        0 => {
                            mark_seen(&mut seen[0], "content_type")?;
                            if let Some(value) =
                                map.next_value_seed(FieldSeed::<Str>::new("content_type"))?
                            {
                                message.content_type = value;
                            }
                        }
                        1 => {
                            mark_seen(&mut seen[1], "data")?;
                            if let Some(value) =
                                map.next_value_seed(FieldSeed::<Bytes>::new("data"))?
                            {
                                message.data = value;
                            }
                        }
                        2 => {
                            mark_seen(&mut seen[2], "extensions")?;
                            if let Some(value) =
                                map.next_value_seed(FieldSeed::<Repeated<Any>>::new("extensions"))?
                            {
                                message.extensions = value;
                            }
                        }
                        _ => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(message)
            }
        }

        deserializer.deserialize_map(BodyVisitor(field))
    }
}

impl<'de> serde::Deserialize<'de> for HttpBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Self::deserialize_json(deserializer, None)
    }
}

/// A body has nothing to take from a query string: every parameter is unknown (and ignored).
impl QueryFields for HttpBody {
    fn set_query_field(&mut self, _path: &[&str], _value: &str) -> Result<(), QueryError> {
        Err(QueryError::UnknownField)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_form_is_proto3() {
        let body = HttpBody::new("text/plain", b"hi".to_vec());
        let json = crate::json::to_string(&body).unwrap();
        assert_eq!(json, r#"{"contentType":"text/plain","data":"aGk="}"#);
        let back: HttpBody =
            crate::json::from_slice(br#"{"content_type":"text/plain","data":"aGk=","x":1}"#)
                .unwrap();
        assert_eq!(back, body);
        assert_eq!(crate::json::to_string(&HttpBody::default()).unwrap(), "{}");
    }

    #[test]
    fn wire_form_is_google_api_http_body() {
        use prost::Message;
        let body = HttpBody::new("image/png", vec![1, 2, 3]);
        // Field 1 (string), field 2 (bytes).
        let expected = [
            0x0a, 9, b'i', b'm', b'a', b'g', b'e', b'/', b'p', b'n', b'g', 0x12, 3, 1, 2, 3,
        ];
        assert_eq!(body.encode_to_vec(), expected);
        assert_eq!(HttpBody::decode(&expected[..]).unwrap(), body);
    }
}
