//! Query parameters → request fields.
//!
//! Every field not bound by the path or the body can be set from the query string: `a.b.c=v`
//! walks nested messages, a repeated field takes one value per repetition (`tag=a&tag=b`), a
//! map takes `m[key]=v` (or `m.key=v`), a oneof member chooses its oneof,
//! `google.protobuf.Struct`, `Value` and `ListValue` take their JSON text, and names may be
//! proto names or lowerCamel JSON names. Unknown parameter names are ignored (so
//! cache-busters and tracking parameters do no harm); a value that does not parse is
//! `INVALID_ARGUMENT` naming the parameter. Path values are assigned after the query, so a path
//! value beats a query value for the same field.

use super::percent::{self, Keep};
use super::value::{parse_enum, FromParam};
use crate::json::generated::Codec;
use crate::status::Status;

/// Why a query parameter could not be applied.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueryError {
    /// No such field (or not settable from a query): the parameter is ignored.
    UnknownField,
    /// The field exists but the value is wrong; the text says why.
    Invalid(String),
}

impl From<String> for QueryError {
    fn from(reason: String) -> Self {
        QueryError::Invalid(reason)
    }
}

/// Implemented by generated code for every message reachable from a query string.
pub trait QueryFields {
    /// Sets the field at `path` (a dot path split into names) from one query value.
    fn set_query_field(&mut self, path: &[&str], value: &str) -> Result<(), QueryError>;
}

/// Applies a raw query string to `message`, skipping parameters whose first name is in
/// `excluded` (fields bound by the body).
pub fn apply_query<M: QueryFields>(
    message: &mut M,
    query: &str,
    excluded: &[&str],
) -> Result<(), Status> {
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (raw_key, raw_value) = pair.split_once('=').unwrap_or((pair, ""));
        let key = percent::decode(raw_key, Keep::Nothing, true)
            .map_err(|why| Status::invalid_field(raw_key, why))?;
        let path = split_path(&key);
        if excluded.contains(&path[0]) {
            continue;
        }
        let value = percent::decode(raw_value, Keep::Nothing, true)
            .map_err(|why| Status::invalid_field(key.as_ref(), why))?;
        match message.set_query_field(&path, &value) {
            Ok(()) | Err(QueryError::UnknownField) => {}
            Err(QueryError::Invalid(why)) => return Err(Status::invalid_field(key.as_ref(), why)),
        }
    }
    Ok(())
}

/// `a.b[c.d].e` → `["a", "b", "c.d", "e"]`: dots separate names, except inside a map key's
/// brackets.
fn split_path(key: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut rest = key;
    loop {
        let dot = rest.find('.');
        let bracket = rest.find('[');
        match (dot, bracket) {
            (_, Some(open)) if dot.is_none_or(|d| open < d) => {
                let Some(close) = rest[open..].find(']').map(|c| open + c) else {
                    parts.push(rest);
                    return parts;
                };
                parts.push(&rest[..open]);
                parts.push(&rest[open + 1..close]);
                rest = &rest[close + 1..];
                match rest.strip_prefix('.') {
                    Some(after) => rest = after,
                    None if rest.is_empty() => return parts,
                    // `m[k]x`: keep the oddity as a name that matches nothing.
                    None => {}
                }
            }
            (Some(dot), _) => {
                parts.push(&rest[..dot]);
                rest = &rest[dot + 1..];
            }
            (None, _) => {
                parts.push(rest);
                return parts;
            }
        }
    }
}

/// Generated `set_query_field` arm for a singular scalar: the path must end here.
pub fn set<T: FromParam>(field: &mut T, rest: &[&str], value: &str) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = T::from_param(value)?;
    Ok(())
}

/// For a proto3 `optional` scalar or a wrapper type.
pub fn set_optional<T: FromParam>(
    field: &mut Option<T>,
    rest: &[&str],
    value: &str,
) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = Some(T::from_param(value)?);
    Ok(())
}

/// For a repeated scalar: each occurrence appends.
pub fn push<T: FromParam>(
    field: &mut Vec<T>,
    rest: &[&str],
    value: &str,
) -> Result<(), QueryError> {
    leaf(rest)?;
    field.push(T::from_param(value)?);
    Ok(())
}

/// For a singular enum (stored as `i32` by prost).
pub fn set_enum<E: Into<i32>>(
    field: &mut i32,
    rest: &[&str],
    value: &str,
    from_name: fn(&str) -> Option<E>,
) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = parse_enum(value, from_name)?;
    Ok(())
}

/// For an optional enum.
pub fn set_optional_enum<E: Into<i32>>(
    field: &mut Option<i32>,
    rest: &[&str],
    value: &str,
    from_name: fn(&str) -> Option<E>,
) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = Some(parse_enum(value, from_name)?);
    Ok(())
}

/// For a repeated enum.
pub fn push_enum<E: Into<i32>>(
    field: &mut Vec<i32>,
    rest: &[&str],
    value: &str,
    from_name: fn(&str) -> Option<E>,
) -> Result<(), QueryError> {
    leaf(rest)?;
    field.push(parse_enum(value, from_name)?);
    Ok(())
}

/// For a nested message: continues down the path.
pub fn descend<M: QueryFields + Default>(
    field: &mut Option<M>,
    rest: &[&str],
    value: &str,
) -> Result<(), QueryError> {
    if rest.is_empty() {
        // A message itself has no query form.
        return Err(QueryError::UnknownField);
    }
    field
        .get_or_insert_with(M::default)
        .set_query_field(rest, value)
}

/// For a `google.protobuf.Struct`, `Value` or `ListValue`: the value is its JSON text.
pub fn set_json<C: Codec>(
    field: &mut Option<C::Value>,
    rest: &[&str],
    value: &str,
) -> Result<(), QueryError> {
    leaf(rest)?;
    let mut de = serde_json::Deserializer::from_str(value);
    let parsed = C::deserialize(&mut de, "query")
        .and_then(|parsed| de.end().map(|()| parsed))
        .map_err(|err| format!("not valid JSON for this field: {err}"))?;
    *field = Some(parsed);
    Ok(())
}

/// For a map of scalars: the next name is the key.
pub fn insert<K: FromParam, V: FromParam>(
    field: &mut impl Extend<(K, V)>,
    rest: &[&str],
    value: &str,
) -> Result<(), QueryError> {
    let key = map_key(rest)?;
    field.extend([(key, V::from_param(value)?)]);
    Ok(())
}

/// For a map of enums.
pub fn insert_enum<K: FromParam, E: Into<i32>>(
    field: &mut impl Extend<(K, i32)>,
    rest: &[&str],
    value: &str,
    from_name: fn(&str) -> Option<E>,
) -> Result<(), QueryError> {
    let key = map_key(rest)?;
    field.extend([(key, parse_enum(value, from_name)?)]);
    Ok(())
}

fn map_key<K: FromParam>(rest: &[&str]) -> Result<K, QueryError> {
    match rest {
        [key] => Ok(K::from_param(key).map_err(|why| format!("map key `{key}`: {why}"))?),
        [] => Err(QueryError::Invalid(
            "a map entry needs a key: `name[key]=value`".to_owned(),
        )),
        [_, name, ..] => Err(QueryError::Invalid(format!(
            "map values here are not messages, so they have no field `{name}`"
        ))),
    }
}

/// For a scalar member of a oneof: setting it chooses it.
pub fn set_oneof<T: FromParam, O>(
    field: &mut Option<O>,
    rest: &[&str],
    value: &str,
    variant: fn(T) -> O,
) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = Some(variant(T::from_param(value)?));
    Ok(())
}

/// For an enum member of a oneof.
pub fn set_oneof_enum<E: Into<i32>, O>(
    field: &mut Option<O>,
    rest: &[&str],
    value: &str,
    from_name: fn(&str) -> Option<E>,
    variant: fn(i32) -> O,
) -> Result<(), QueryError> {
    leaf(rest)?;
    *field = Some(variant(parse_enum(value, from_name)?));
    Ok(())
}

/// For a message member of a oneof: continues down the path inside it, choosing it.
pub fn descend_oneof<M: QueryFields + Default, O>(
    field: &mut Option<O>,
    rest: &[&str],
    value: &str,
    member: fn(O) -> Option<M>,
    variant: fn(M) -> O,
) -> Result<(), QueryError> {
    if rest.is_empty() {
        return Err(QueryError::UnknownField);
    }
    let mut inner = field.take().and_then(member).unwrap_or_default();
    let outcome = inner.set_query_field(rest, value);
    *field = Some(variant(inner));
    outcome
}

/// A scalar or enum field ends the path: a name after it (`?count.x=1`) is a client mistake,
/// refused with the parameter named rather than ignored.
fn leaf(rest: &[&str]) -> Result<(), QueryError> {
    match rest.first() {
        None => Ok(()),
        Some(name) => Err(QueryError::Invalid(format!(
            "the field is not a message, so it has no field `{name}`"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug)]
    struct Inner {
        n: i32,
    }

    impl QueryFields for Inner {
        fn set_query_field(&mut self, path: &[&str], value: &str) -> Result<(), QueryError> {
            match path[0] {
                "n" => set(&mut self.n, &path[1..], value),
                _ => Err(QueryError::UnknownField),
            }
        }
    }

    #[derive(Default, Debug)]
    struct Outer {
        tags: Vec<String>,
        inner: Option<Inner>,
        body: String,
    }

    impl QueryFields for Outer {
        fn set_query_field(&mut self, path: &[&str], value: &str) -> Result<(), QueryError> {
            match path[0] {
                "tags" => push(&mut self.tags, &path[1..], value),
                "inner" => descend(&mut self.inner, &path[1..], value),
                "body" => set(&mut self.body, &path[1..], value),
                _ => Err(QueryError::UnknownField),
            }
        }
    }

    #[test]
    fn nested_repeated_and_excluded() {
        let mut m = Outer::default();
        apply_query(
            &mut m,
            "tags=a&tags=b%20c&inner.n=4&unknown=1&body=x&x.y=2",
            &["body"],
        )
        .unwrap();
        assert_eq!(m.tags, ["a", "b c"]);
        assert_eq!(m.inner.unwrap().n, 4);
        assert_eq!(m.body, "");
    }

    #[test]
    fn a_name_after_a_scalar_is_refused_with_the_parameter() {
        for query in ["inner.n.x=1", "tags.x=a", "body.x=1"] {
            let mut m = Outer::default();
            let err = apply_query(&mut m, query, &[]).unwrap_err();
            let violation = &err.details().bad_request.as_ref().unwrap().field_violations[0];
            assert_eq!(violation.field, query.split('=').next().unwrap(), "{query}");
            assert!(violation.description.contains("not a message"), "{query}");
        }
    }

    #[test]
    fn paths_split_on_dots_outside_map_keys() {
        assert_eq!(split_path("a.b.c"), ["a", "b", "c"]);
        assert_eq!(split_path("labels[env]"), ["labels", "env"]);
        assert_eq!(split_path("labels[a.b].x"), ["labels", "a.b", "x"]);
        assert_eq!(split_path("f.labels[k]"), ["f", "labels", "k"]);
        assert_eq!(split_path("open[no"), ["open[no"]);
    }

    #[test]
    fn bad_values_name_the_parameter() {
        let mut m = Outer::default();
        let err = apply_query(&mut m, "inner.n=four", &[]).unwrap_err();
        let violation = &err.details().bad_request.as_ref().unwrap().field_violations[0];
        assert_eq!(violation.field, "inner.n");
    }
}
