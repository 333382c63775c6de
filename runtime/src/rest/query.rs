//! Query parameters → request fields.
//!
//! Every field not bound by the path or the body can be set from the query string: `a.b.c=v`
//! walks nested messages, a repeated field takes one value per repetition (`tag=a&tag=b`), and
//! names may be proto names or lowerCamel JSON names. Unknown parameter names are ignored (so
//! cache-busters and tracking parameters do no harm); a value that does not parse is
//! `INVALID_ARGUMENT` naming the parameter. Path values are assigned after the query, so a path
//! value beats a query value for the same field.

use super::percent::{self, Keep};
use super::value::{parse_enum, FromParam};
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
        let path: Vec<&str> = key.split('.').collect();
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
    fn bad_values_name_the_parameter() {
        let mut m = Outer::default();
        let err = apply_query(&mut m, "inner.n=four", &[]).unwrap_err();
        let violation = &err.details().bad_request.as_ref().unwrap().field_violations[0];
        assert_eq!(violation.field, "inner.n");
    }
}
