//! Path templates of `google.api.http` bindings as `const` data, and matching them.
//!
//! Generated code writes each template as a [`PathTemplate`]: `/v1/{name=shelves/*/books/*}:get`
//! is
//!
//! ```
//! use tacos_runtime::rest::{PathTemplate, Seg};
//! const T: PathTemplate = PathTemplate {
//!     segments: &[
//!         Seg::Lit("v1"),
//!         Seg::Var { field: "name", segments: &[Seg::Lit("shelves"), Seg::Star, Seg::Lit("books"), Seg::Star] },
//!     ],
//!     verb: Some("get"),
//! };
//! ```
//!
//! `*` matches one segment, `**` zero or more (only last), `{field}` is `{field=*}`. A variable
//! whose pattern is one segment decodes its value fully except `%2F`, which stays encoded so the
//! value cannot grow a separator. A multi-segment variable keeps `/` as matched and decodes all
//! but RFC 6570 reserved characters, which stay percent-encoded.

use super::percent::{self, Keep};

/// One segment of a path template.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Seg {
    /// A literal segment.
    Lit(&'static str),
    /// `*`: exactly one segment.
    Star,
    /// `**`: zero or more segments; only last.
    DoubleStar,
    /// `{field=segments}`; empty `segments` means `*`.
    Var {
        /// The bound field's dot path in the request message (`shelf.name`).
        field: &'static str,
        /// The variable's own pattern (no nested variables).
        segments: &'static [Seg],
    },
}

/// A whole path template: segments and an optional custom verb (`:cancel`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct PathTemplate {
    /// The segments after the leading `/`.
    pub segments: &'static [Seg],
    /// The custom verb without its `:`.
    pub verb: Option<&'static str>,
}

/// A single-segment pattern: `{x}`, `{x=*}`.
fn is_single(segments: &[Seg]) -> bool {
    matches!(segments, [] | [Seg::Star] | [Seg::Lit(_)])
}

impl PathTemplate {
    /// The variables' field paths, in template order.
    pub fn variables(&self) -> impl Iterator<Item = &'static str> {
        self.segments.iter().filter_map(|s| match s {
            Seg::Var { field, .. } => Some(*field),
            _ => None,
        })
    }

    /// Matches a request path (without query, starting with `/`), returning variable values in
    /// template order, decoded; `Ok(None)` when it does not match; `Err((field, reason))` when it
    /// matches but a value is not valid percent-encoding.
    pub fn matches(&self, path: &str) -> Result<Option<Vec<String>>, (&'static str, &'static str)> {
        let Some(mut rest) = path.strip_prefix('/') else {
            return Ok(None);
        };
        if let Some(verb) = self.verb {
            match rest.strip_suffix(verb).and_then(|r| r.strip_suffix(':')) {
                Some(stripped) => rest = stripped,
                None => return Ok(None),
            }
        }
        let segments: Vec<&str> = rest.split('/').collect();
        let mut vars = Vec::new();
        let mut at = 0;
        for seg in self.segments {
            match seg {
                Seg::Var {
                    field,
                    segments: pattern,
                } => {
                    let start = at;
                    let pattern = if pattern.is_empty() {
                        &[Seg::Star][..]
                    } else {
                        pattern
                    };
                    if !match_plain(pattern, &segments, &mut at) {
                        return Ok(None);
                    }
                    let raw = join_raw(rest, &segments, start, at);
                    let keep = if is_single(pattern) {
                        Keep::Slash
                    } else {
                        Keep::Reserved
                    };
                    let value = percent::decode(raw, keep, false).map_err(|why| (*field, why))?;
                    vars.push(value.into_owned());
                }
                plain => {
                    if !match_plain(std::slice::from_ref(plain), &segments, &mut at) {
                        return Ok(None);
                    }
                }
            }
        }
        Ok((at == segments.len()).then_some(vars))
    }

    /// An ordering key: routes with more literal segments, earlier, are tried first.
    pub(crate) fn specificity(&self) -> Vec<u8> {
        let mut key = Vec::new();
        fn push(seg: &Seg, key: &mut Vec<u8>) {
            match seg {
                Seg::Lit(_) => key.push(0),
                Seg::Star => key.push(1),
                Seg::DoubleStar => key.push(2),
                Seg::Var { segments: [], .. } => key.push(1),
                Seg::Var { segments, .. } => segments.iter().for_each(|s| push(s, key)),
            }
        }
        self.segments.iter().for_each(|s| push(s, &mut key));
        // Longer templates are more specific than their prefixes.
        key.push(3);
        key.push(u8::from(self.verb.is_none()));
        key
    }

    /// The first literal segment, used to index routes.
    pub(crate) fn first_literal(&self) -> Option<&'static str> {
        match self.segments.first()? {
            Seg::Lit(lit) => Some(lit),
            Seg::Var { segments, .. } => match segments.first()? {
                Seg::Lit(lit) => Some(lit),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Matches variable-free segments starting at `*at`, advancing it.
fn match_plain(pattern: &[Seg], segments: &[&str], at: &mut usize) -> bool {
    for seg in pattern {
        match seg {
            Seg::Lit(lit) => {
                if segments.get(*at) != Some(lit) {
                    return false;
                }
                *at += 1;
            }
            Seg::Star => {
                // An empty segment (`//`) is no value.
                if segments.get(*at).is_none_or(|s| s.is_empty()) {
                    return false;
                }
                *at += 1;
            }
            Seg::DoubleStar => *at = segments.len(),
            Seg::Var { .. } => return false,
        }
    }
    true
}

/// The raw text of `segments[start..end]`, slashes included, as a slice of `rest`.
fn join_raw<'a>(rest: &'a str, segments: &[&str], start: usize, end: usize) -> &'a str {
    if start == end {
        return "";
    }
    let offset = |s: &str| s.as_ptr() as usize - rest.as_ptr() as usize;
    let from = offset(segments[start]);
    let last = segments[end - 1];
    &rest[from..offset(last) + last.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOK: PathTemplate = PathTemplate {
        segments: &[
            Seg::Lit("v1"),
            Seg::Var {
                field: "name",
                segments: &[Seg::Lit("shelves"), Seg::Star, Seg::Lit("books"), Seg::Star],
            },
        ],
        verb: None,
    };

    #[test]
    fn sub_pattern_captures_with_slashes() {
        assert_eq!(
            BOOK.matches("/v1/shelves/s1/books/b%201").unwrap(),
            Some(vec!["shelves/s1/books/b 1".to_owned()])
        );
        assert_eq!(BOOK.matches("/v1/shelves/s1/books").unwrap(), None);
        assert_eq!(BOOK.matches("/v1/shelves/s1/books/b/extra").unwrap(), None);
    }

    #[test]
    fn verbs_and_single_segment_decoding() {
        const T: PathTemplate = PathTemplate {
            segments: &[
                Seg::Lit("v1"),
                Seg::Lit("shelves"),
                Seg::Var {
                    field: "shelf",
                    segments: &[],
                },
            ],
            verb: Some("archive"),
        };
        assert_eq!(
            T.matches("/v1/shelves/a%2Fb:archive").unwrap(),
            Some(vec!["a%2Fb".to_owned()])
        );
        assert_eq!(T.matches("/v1/shelves/a").unwrap(), None);
        assert_eq!(T.matches("/v1/shelves/:archive").unwrap(), None);
        assert!(T.matches("/v1/shelves/%zz:archive").is_err());
    }

    #[test]
    fn double_star_takes_the_rest() {
        const T: PathTemplate = PathTemplate {
            segments: &[
                Seg::Lit("files"),
                Seg::Var {
                    field: "path",
                    segments: &[Seg::DoubleStar],
                },
            ],
            verb: None,
        };
        assert_eq!(
            T.matches("/files/a/b%2Fc/d").unwrap(),
            Some(vec!["a/b%2Fc/d".to_owned()])
        );
        assert_eq!(T.matches("/files").unwrap(), Some(vec![String::new()]));
    }
}
