//! `google.protobuf.FieldMask`: paths joined by commas, each in lowerCamel.

use std::fmt;

use prost_types::FieldMask as PbFieldMask;
use serde::de::{Deserializer, Error, Visitor};
use serde::ser::Error as _;
use serde::Serializer;

use super::codec::{invalid, Codec, Expect};

/// Converts a snake_case path to lowerCamel, refusing paths that would not convert back.
fn path_to_camel(path: &str) -> Result<String, String> {
    let mut out = String::with_capacity(path.len());
    let mut upper_next = false;
    for c in path.chars() {
        if c.is_ascii_uppercase() {
            return Err(format!("field mask path {path:?} has an upper-case letter"));
        }
        if c == '_' {
            if upper_next {
                return Err(format!("field mask path {path:?} has a double underscore"));
            }
            upper_next = true;
        } else if upper_next {
            if !c.is_ascii_lowercase() {
                return Err(format!(
                    "field mask path {path:?} has an underscore not followed by a letter"
                ));
            }
            out.push(c.to_ascii_uppercase());
            upper_next = false;
        } else {
            out.push(c);
        }
    }
    if upper_next {
        return Err(format!("field mask path {path:?} ends with an underscore"));
    }
    Ok(out)
}

/// Converts a lowerCamel path back to snake_case.
fn path_to_snake(path: &str) -> Option<String> {
    let mut out = String::with_capacity(path.len() + 4);
    for c in path.chars() {
        match c {
            '_' => return None,
            'A'..='Z' => {
                out.push('_');
                out.push(c.to_ascii_lowercase());
            }
            _ => out.push(c),
        }
    }
    Some(out)
}

/// Formats a field mask, or says which path cannot be printed.
pub(crate) fn format_field_mask(mask: &PbFieldMask) -> Result<String, String> {
    let mut out = String::new();
    for (i, path) in mask.paths.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&path_to_camel(path)?);
    }
    Ok(out)
}

/// Parses a comma-joined list of lowerCamel paths.
pub(crate) fn parse_field_mask(text: &str) -> Option<PbFieldMask> {
    if text.is_empty() {
        return Some(PbFieldMask::default());
    }
    let paths = text
        .split(',')
        .map(path_to_snake)
        .collect::<Option<Vec<_>>>()?;
    Some(PbFieldMask { paths })
}

struct MaskVisitor(&'static str);

impl Visitor<'_> for MaskVisitor {
    type Value = PbFieldMask;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        Expect(self.0, "a comma-separated list of field paths").write(f)
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<PbFieldMask, E> {
        parse_field_mask(v)
            .ok_or_else(|| invalid(self.0, format_args!("{v:?} is not a lowerCamel field mask")))
    }
}

/// `google.protobuf.FieldMask`: `"user.displayName,photo"`.
pub struct FieldMask;

impl Codec for FieldMask {
    type Value = PbFieldMask;

    fn serialize<S: Serializer>(value: &PbFieldMask, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format_field_mask(value).map_err(S::Error::custom)?)
    }

    fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
        field: &'static str,
    ) -> Result<PbFieldMask, D::Error> {
        deserializer.deserialize_str(MaskVisitor(field))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_both_ways() {
        let mask = PbFieldMask {
            paths: vec!["foo_bar".into(), "baz.qux_quux".into()],
        };
        let text = format_field_mask(&mask).unwrap();
        assert_eq!(text, "fooBar,baz.quxQuux");
        assert_eq!(parse_field_mask(&text).unwrap(), mask);
        assert_eq!(parse_field_mask("").unwrap(), PbFieldMask::default());
    }

    #[test]
    fn refuses_paths_that_do_not_round_trip() {
        for bad in ["fooBar", "foo__bar", "foo_3_bar", "foo_"] {
            let mask = PbFieldMask {
                paths: vec![bad.into()],
            };
            assert!(format_field_mask(&mask).is_err(), "{bad}");
        }
        assert!(parse_field_mask("foo,bar_bar").is_none());
    }
}
