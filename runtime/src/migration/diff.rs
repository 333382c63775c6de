//! Field-by-field comparison of two JSON documents, naming each difference by its path.
//!
//! Paths read like field accesses: `seats[2].price.amount`. Object keys that are not plain
//! identifiers (map keys such as `"A-12"`) are quoted: `holds["A-12"].expiresAt`. A field present
//! on one side only is a difference at its path; `null` counts as absent, as in proto3 JSON.
//! Arrays are compared index by index, and each extra element is reported at its index.

use std::fmt::Write as _;

use serde_json::{Map, Value};

/// The path reported when the two documents differ at the top (different kinds of value).
pub const ROOT: &str = "<root>";

/// The differences found between two documents.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Diff {
    /// Paths of differing fields, in document order, at most the limit asked for.
    pub paths: Vec<String>,
    /// Differences found beyond the limit.
    pub omitted: usize,
}

impl Diff {
    /// Whether the documents are equal.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && self.omitted == 0
    }
}

/// Compares `a` with `b`, keeping at most `max_paths` paths.
pub fn diff(a: &Value, b: &Value, max_paths: usize) -> Diff {
    let mut walk = Walk {
        out: Diff::default(),
        max_paths,
        path: String::new(),
    };
    walk.value(a, b);
    walk.out
}

struct Walk {
    out: Diff,
    max_paths: usize,
    path: String,
}

impl Walk {
    fn value(&mut self, a: &Value, b: &Value) {
        match (a, b) {
            (Value::Object(a), Value::Object(b)) => self.object(a, b),
            (Value::Array(a), Value::Array(b)) => self.array(a, b),
            (a, b) if a == b => {}
            _ => self.report(),
        }
    }

    fn object(&mut self, a: &Map<String, Value>, b: &Map<String, Value>) {
        // Keys of `a` in its order, then those only in `b`.
        let only_b = b.keys().filter(|k| !a.contains_key(*k));
        for key in a.keys().chain(only_b) {
            let left = a.get(key).unwrap_or(&Value::Null);
            let right = b.get(key).unwrap_or(&Value::Null);
            let len = self.path.len();
            push_key(&mut self.path, key);
            self.value(left, right);
            self.path.truncate(len);
        }
    }

    fn array(&mut self, a: &[Value], b: &[Value]) {
        for index in 0..a.len().max(b.len()) {
            let len = self.path.len();
            // Writing to a String cannot fail.
            let _ = write!(self.path, "[{index}]");
            match (a.get(index), b.get(index)) {
                (Some(left), Some(right)) => self.value(left, right),
                _ => self.report(),
            }
            self.path.truncate(len);
        }
    }

    fn report(&mut self) {
        if self.out.paths.len() < self.max_paths {
            let path = if self.path.is_empty() {
                ROOT.to_owned()
            } else {
                self.path.clone()
            };
            self.out.paths.push(path);
        } else {
            self.out.omitted += 1;
        }
    }
}

fn push_key(path: &mut String, key: &str) {
    let plain = key
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        if !path.is_empty() {
            path.push('.');
        }
        path.push_str(key);
    } else {
        // A JSON string literal: quotes and escapes keep the path unambiguous.
        path.push('[');
        path.push_str(&Value::String(key.to_owned()).to_string());
        path.push(']');
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn paths(a: Value, b: Value) -> Vec<String> {
        diff(&a, &b, 100).paths
    }

    #[test]
    fn equal_documents() {
        let doc = json!({"id": "r1", "seats": [{"row": 1}], "labels": {"a": "b"}});
        assert!(diff(&doc, &doc.clone(), 10).is_empty());
        // Key order does not matter.
        assert!(paths(json!({"a": 1, "b": 2}), json!({"b": 2, "a": 1})).is_empty());
    }

    #[test]
    fn nested_and_repeated_fields() {
        let a = json!({
            "reservation": {"id": "r1", "status": "HELD"},
            "seats": [
                {"id": "A1", "price": {"currency": "KRW", "amount": "1000"}},
                {"id": "A2", "price": {"currency": "KRW", "amount": "1000"}},
                {"id": "A3", "price": {"currency": "KRW", "amount": "1000"}},
            ]
        });
        let b = json!({
            "reservation": {"id": "r1", "status": "CONFIRMED"},
            "seats": [
                {"id": "A1", "price": {"currency": "KRW", "amount": "1000"}},
                {"id": "A2", "price": {"currency": "KRW", "amount": "1000"}},
                {"id": "A3", "price": {"currency": "KRW", "amount": "1200"}},
            ]
        });
        assert_eq!(paths(a, b), ["reservation.status", "seats[2].price.amount"]);
    }

    #[test]
    fn missing_and_present_fields() {
        let a = json!({"id": "r1", "note": "aisle"});
        let b = json!({"id": "r1", "expiresAt": "2026-01-01T00:00:00Z"});
        assert_eq!(paths(a, b), ["note", "expiresAt"]);
        // null is how an absent message field may be written: not a difference.
        assert!(paths(json!({"id": "r1", "hold": null}), json!({"id": "r1"})).is_empty());
        // But null against a value is.
        assert_eq!(paths(json!({"hold": null}), json!({"hold": {}})), ["hold"]);
    }

    #[test]
    fn map_keys_and_array_lengths() {
        let a = json!({"holds": {"A-12": {"until": "1"}, "b": 1}, "tags": ["x", "y"]});
        let b = json!({"holds": {"A-12": {"until": "2"}, "c": 1}, "tags": ["x", "y", "z", "w"]});
        assert_eq!(
            paths(a, b),
            [
                r#"holds["A-12"].until"#,
                "holds.b",
                "holds.c",
                "tags[2]",
                "tags[3]"
            ]
        );
        assert_eq!(
            paths(json!({"m": {"a\"b": 1}}), json!({"m": {"a\"b": 2}})),
            [r#"m["a\"b"]"#]
        );
    }

    #[test]
    fn kinds_of_value() {
        assert_eq!(paths(json!({"n": "1"}), json!({"n": 1})), ["n"]);
        assert_eq!(paths(json!({"n": [1]}), json!({"n": {"0": 1}})), ["n"]);
        assert_eq!(paths(json!([1]), json!({})), [ROOT]);
        assert_eq!(paths(json!([1, 2]), json!([1, 3])), ["[1]"]);
    }

    #[test]
    fn the_limit_counts_what_it_leaves_out() {
        let a = json!({"v": [1, 2, 3, 4, 5]});
        let b = json!({"v": [0, 0, 0, 0, 0]});
        let d = diff(&a, &b, 2);
        assert_eq!(d.paths, ["v[0]", "v[1]"]);
        assert_eq!(d.omitted, 3);
        assert!(!d.is_empty());
    }
}
