//! A small JSON tree that keeps keys in insertion order, and its pretty printer.
//!
//! The document is checked in and drift-checked, so its bytes must not depend on how a
//! dependency happens to be built: `serde_json::Map` sorts keys or keeps insertion order
//! depending on a cargo feature that any crate in the build can switch on. Owning the tree and
//! the printer keeps the output identical everywhere, and lets the document read in a natural
//! order (`openapi`, `info`, `paths`, then `components`).

use std::fmt::Write as _;

/// A JSON value whose objects keep their keys in the order they were inserted.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Json {
    /// `true` or `false`.
    Bool(bool),
    /// An integer.
    Int(i128),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<Json>),
    /// An object; keys are unique (a second insert replaces the first value in place).
    Object(Object),
}

/// An insertion-ordered JSON object.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Object(Vec<(String, Json)>);

impl Object {
    /// An empty object.
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Sets `key`, keeping the position of an existing key.
    pub(crate) fn insert(&mut self, key: impl Into<String>, value: impl Into<Json>) {
        let key = key.into();
        let value = value.into();
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => self.0.push((key, value)),
        }
    }

    /// Builder form of [`Object::insert`].
    pub(crate) fn with(mut self, key: impl Into<String>, value: impl Into<Json>) -> Self {
        self.insert(key, value);
        self
    }

    /// Sets `key` only when `value` is `Some`.
    pub(crate) fn insert_opt(&mut self, key: impl Into<String>, value: Option<impl Into<Json>>) {
        if let Some(value) = value {
            self.insert(key, value);
        }
    }

    /// The value at `key`.
    pub(crate) fn get(&self, key: &str) -> Option<&Json> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Mutable access to the value at `key`.
    pub(crate) fn get_mut(&mut self, key: &str) -> Option<&mut Json> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// The entries, in order.
    pub(crate) fn into_entries(self) -> Vec<(String, Json)> {
        self.0
    }

    /// Whether the object has no keys.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Object> for Json {
    fn from(object: Object) -> Self {
        Json::Object(object)
    }
}

impl From<&str> for Json {
    fn from(text: &str) -> Self {
        Json::Str(text.to_owned())
    }
}

impl From<String> for Json {
    fn from(text: String) -> Self {
        Json::Str(text)
    }
}

impl From<bool> for Json {
    fn from(value: bool) -> Self {
        Json::Bool(value)
    }
}

impl From<i64> for Json {
    fn from(value: i64) -> Self {
        Json::Int(value.into())
    }
}

impl From<u64> for Json {
    fn from(value: u64) -> Self {
        Json::Int(value.into())
    }
}

impl From<Vec<Json>> for Json {
    fn from(items: Vec<Json>) -> Self {
        Json::Array(items)
    }
}

impl Json {
    /// An array of strings.
    pub(crate) fn strings<I, S>(items: I) -> Json
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Json::Array(items.into_iter().map(|s| Json::Str(s.into())).collect())
    }

    /// Pretty-printed text: two-space indents, `": "` after keys, a final newline.
    pub(crate) fn to_pretty(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out.push('\n');
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        match self {
            Json::Bool(value) => out.push_str(if *value { "true" } else { "false" }),
            Json::Int(value) => {
                let _ = write!(out, "{value}");
            }
            Json::Str(text) => write_string(out, text),
            Json::Array(items) if items.is_empty() => out.push_str("[]"),
            Json::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    item.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push(']');
            }
            Json::Object(object) if object.is_empty() => out.push_str("{}"),
            Json::Object(object) => {
                out.push('{');
                for (i, (key, value)) in object.0.iter().enumerate() {
                    out.push_str(if i == 0 { "\n" } else { ",\n" });
                    indent(out, depth + 1);
                    write_string(out, key);
                    out.push_str(": ");
                    value.write(out, depth + 1);
                }
                out.push('\n');
                indent(out, depth);
                out.push('}');
            }
        }
    }
}

fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// Writes `text` as a JSON string literal (RFC 8259 escapes; non-ASCII kept as is).
fn write_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_in_insertion_order_with_escapes() {
        let doc = Object::new()
            .with("z", "a\"b\\c\n\u{1}é")
            .with("a", Json::Array(vec![Json::Int(-1), Json::Bool(true)]))
            .with("m", Object::new())
            .with("e", Json::Array(Vec::new()));
        let text = Json::from(doc).to_pretty();
        assert_eq!(
            text,
            "{\n  \"z\": \"a\\\"b\\\\c\\n\\u0001é\",\n  \"a\": [\n    -1,\n    true\n  ],\n  \"m\": {},\n  \"e\": []\n}\n"
        );
    }

    #[test]
    fn insert_replaces_in_place() {
        let mut object = Object::new().with("a", 1i64).with("b", 2i64);
        object.insert("a", 3i64);
        assert_eq!(
            Json::from(object).to_pretty(),
            "{\n  \"a\": 3,\n  \"b\": 2\n}\n"
        );
    }
}
