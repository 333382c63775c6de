//! Messages of `tacos.test.v1`, as prost-build emits them, with minimal JSON impls (the real
//! generated code gets canonical proto3 JSON impls from the JSON emitter).

use serde::{Deserialize, Serialize, Serializer};

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Book {
    #[prost(string, tag = "1")]
    pub name: String,
    #[prost(string, tag = "2")]
    pub title: String,
    #[prost(int32, tag = "3")]
    pub pages: i32,
    #[prost(string, repeated, tag = "4")]
    pub tags: Vec<String>,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct GetBookRequest {
    #[prost(string, tag = "1")]
    pub name: String,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct CreateBookRequest {
    #[prost(string, tag = "1")]
    pub parent: String,
    #[prost(message, optional, tag = "2")]
    pub book: Option<Book>,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct Filter {
    #[prost(string, tag = "1")]
    pub author: String,
    #[prost(int64, tag = "2")]
    pub min_pages: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum Genre {
    Unspecified = 0,
    Fiction = 1,
    Science = 2,
}

impl Genre {
    pub fn from_str_name(value: &str) -> Option<Self> {
        match value {
            "GENRE_UNSPECIFIED" => Some(Self::Unspecified),
            "GENRE_FICTION" => Some(Self::Fiction),
            "GENRE_SCIENCE" => Some(Self::Science),
            _ => None,
        }
    }
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct SearchBooksRequest {
    #[prost(string, repeated, tag = "1")]
    pub tags: Vec<String>,
    #[prost(int32, tag = "2")]
    pub page_size: i32,
    #[prost(message, optional, tag = "3")]
    pub filter: Option<Filter>,
    #[prost(enumeration = "Genre", tag = "4")]
    pub genre: i32,
    #[prost(message, optional, tag = "5")]
    pub published_after: Option<prost_types::Timestamp>,
    #[prost(message, optional, tag = "6")]
    pub max_age: Option<prost_types::Duration>,
    #[prost(message, optional, tag = "7")]
    pub mask: Option<prost_types::FieldMask>,
    #[prost(message, optional, tag = "8")]
    pub min_rating: Option<f64>,
    #[prost(bytes = "vec", tag = "9")]
    pub cursor: Vec<u8>,
    #[prost(bool, tag = "10")]
    pub exact: bool,
}

/// Debug-shaped JSON: enough for tests to compare what the server parsed.
impl Serialize for SearchBooksRequest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serde_json::json!({
            "tags": self.tags,
            "pageSize": self.page_size,
            "filter": self.filter,
            "genre": self.genre,
            "publishedAfter": self.published_after.as_ref().map(|t| [t.seconds, i64::from(t.nanos)]),
            "maxAge": self.max_age.as_ref().map(|d| [d.seconds, i64::from(d.nanos)]),
            "mask": self.mask.as_ref().map(|m| m.paths.clone()),
            "minRating": self.min_rating,
            "cursor": self.cursor,
            "exact": self.exact,
        })
        .serialize(serializer)
    }
}

#[derive(Clone, PartialEq, prost::Message, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchBooksResponse {
    #[prost(message, optional, tag = "1")]
    pub echo: Option<SearchBooksRequest>,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SlowRequest {
    #[prost(int64, tag = "1")]
    pub millis: i64,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct SlowResponse {
    #[prost(string, tag = "1")]
    pub note: String,
}

#[derive(Clone, PartialEq, prost::Message, Serialize, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct WatchBooksRequest {
    #[prost(string, tag = "1")]
    pub parent: String,
    #[prost(int32, tag = "2")]
    pub count: i32,
    #[prost(int32, tag = "3")]
    pub fail_at: i32,
    #[prost(int64, tag = "4")]
    pub interval_millis: i64,
}
