//! `google.api.http` path templates: parsing into an AST and printing back.
//!
//! The grammar, from `google/api/http.proto`:
//!
//! ```text
//! Template = "/" Segments [ Verb ] ;
//! Segments = Segment { "/" Segment } ;
//! Segment  = "*" | "**" | LITERAL | Variable ;
//! Variable = "{" FieldPath [ "=" Segments ] "}" ;
//! FieldPath = IDENT { "." IDENT } ;
//! Verb     = ":" LITERAL ;
//! ```
//!
//! `{a}` is shorthand for `{a=*}`. `**` may only be the last segment of the template (and so of
//! a variable's segments too). Variables do not nest, and a field is bound at most once.

use std::fmt;

/// A dotted path to a (possibly nested) field of a message, such as `shelf.name`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FieldPath(Vec<String>);

impl FieldPath {
    /// Builds a path from its components; returns `None` when any component is not an identifier.
    pub fn new<I, S>(parts: I) -> Option<Self>
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        let parts: Vec<String> = parts.into_iter().map(Into::into).collect();
        (!parts.is_empty() && parts.iter().all(|p| is_ident(p))).then_some(Self(parts))
    }

    /// Parses `a.b.c`; returns `None` for anything that is not a dotted list of identifiers.
    pub fn parse(text: &str) -> Option<Self> {
        Self::new(text.split('.'))
    }

    /// The field names from the outermost message inwards.
    pub fn parts(&self) -> &[String] {
        &self.0
    }

    /// The first field name (the field of the request message itself).
    pub fn root(&self) -> &str {
        &self.0[0]
    }

    /// True when `self` equals `other` or one is a prefix of the other (`a` and `a.b`).
    pub fn overlaps(&self, other: &FieldPath) -> bool {
        self.0.iter().zip(&other.0).all(|(a, b)| a == b)
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

/// A parsed path template: `/v1/{name=shelves/*}/books:publish`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    /// The segments between the slashes, in order.
    pub segments: Vec<Segment>,
    /// The custom verb after the last segment (`publish` in `...:publish`).
    pub verb: Option<String>,
}

impl PathTemplate {
    /// The order in which a server tries routes that a path could match: segment by segment,
    /// a literal before `*` (or a single-segment variable) before `**`; a longer template
    /// before its prefix; a template with a verb before one without. The runtime's router
    /// orders routes by the same key, so two bindings with different keys never conflict.
    pub fn specificity(&self) -> Vec<u8> {
        fn push(segment: &Segment, key: &mut Vec<u8>) {
            match segment {
                Segment::Literal(_) => key.push(0),
                Segment::Wildcard => key.push(1),
                Segment::DeepWildcard => key.push(2),
                Segment::Variable(variable) => {
                    variable.pattern.iter().for_each(|s| push(s, key));
                }
            }
        }
        let mut key = Vec::new();
        self.segments.iter().for_each(|s| push(s, &mut key));
        key.push(3);
        key.push(u8::from(self.verb.is_none()));
        key
    }
}

/// One segment of a template, or of a variable's pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// Text that must appear as is.
    Literal(String),
    /// `*`: exactly one path segment.
    Wildcard,
    /// `**`: zero or more path segments; only ever last.
    DeepWildcard,
    /// `{field.path=pattern}`: the matched text is bound to a request field. Only appears at
    /// the top level of a template, never inside another variable.
    Variable(Variable),
}

/// A variable segment: which field it binds and which segments it captures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    /// The request field the captured text is bound to.
    pub field_path: FieldPath,
    /// What the variable matches; `{a}` has the pattern `[Wildcard]`. Never contains variables.
    pub pattern: Vec<Segment>,
}

/// What one segment of a flattened template matches, once variables are expanded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Matcher {
    /// One segment equal to the text.
    Literal(String),
    /// Any one segment.
    Any,
    /// Zero or more segments.
    AnyMany,
}

impl PathTemplate {
    /// The variables of the template, in order.
    pub fn variables(&self) -> impl Iterator<Item = &Variable> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Variable(v) => Some(v),
            _ => None,
        })
    }

    /// The template with its variables replaced by their patterns, as one matcher per segment.
    pub fn matchers(&self) -> Vec<Matcher> {
        fn push(out: &mut Vec<Matcher>, segment: &Segment) {
            match segment {
                Segment::Literal(text) => out.push(Matcher::Literal(text.clone())),
                Segment::Wildcard => out.push(Matcher::Any),
                Segment::DeepWildcard => out.push(Matcher::AnyMany),
                Segment::Variable(v) => v.pattern.iter().for_each(|s| push(out, s)),
            }
        }
        let mut out = Vec::new();
        self.segments.iter().for_each(|s| push(&mut out, s));
        out
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for segment in &self.segments {
            write!(f, "/{segment}")?;
        }
        if let Some(verb) = &self.verb {
            write!(f, ":{verb}")?;
        }
        Ok(())
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Literal(text) => f.write_str(text),
            Segment::Wildcard => f.write_str("*"),
            Segment::DeepWildcard => f.write_str("**"),
            Segment::Variable(v) => write!(f, "{v}"),
        }
    }
}

impl fmt::Display for Variable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{{{}", self.field_path)?;
        if self.pattern != [Segment::Wildcard] {
            f.write_str("=")?;
            for (i, segment) in self.pattern.iter().enumerate() {
                if i > 0 {
                    f.write_str("/")?;
                }
                write!(f, "{segment}")?;
            }
        }
        f.write_str("}")
    }
}

/// Why a template did not parse, and where (1-based column, counted in characters).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("malformed path template `{template}` at column {column}: {reason}")]
pub struct TemplateError {
    /// The template as written.
    pub template: String,
    /// 1-based column of the offending character (one past the end for a premature end).
    pub column: usize,
    /// What is wrong there.
    pub reason: String,
}

/// Parses a path template such as `/v1/{name=shelves/*/books/*}:publish`.
pub fn parse_template(text: &str) -> Result<PathTemplate, TemplateError> {
    let mut parser = Parser {
        text,
        chars: text.chars().collect(),
        pos: 0,
    };
    parser.template()
}

impl std::str::FromStr for PathTemplate {
    type Err = TemplateError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        parse_template(s)
    }
}

struct Parser<'a> {
    text: &'a str,
    chars: Vec<char>,
    pos: usize,
}

impl Parser<'_> {
    fn template(&mut self) -> Result<PathTemplate, TemplateError> {
        if !self.eat('/') {
            return Err(self.error("a template must start with `/`"));
        }
        let segments = self.segments(false)?;
        let verb = if self.eat(':') {
            let start = self.pos;
            let verb = self.literal();
            if verb.is_empty() {
                return Err(self.error_at(start, "expected a verb after `:`"));
            }
            Some(verb)
        } else {
            None
        };
        if let Some(c) = self.peek() {
            return Err(self.error(&format!("unexpected `{c}`")));
        }
        self.check_deep_wildcard_last(&segments)?;
        self.check_unique_fields(&segments)?;
        Ok(PathTemplate { segments, verb })
    }

    /// Parses `Segment { "/" Segment }`; inside a variable, stops before `}`.
    fn segments(&mut self, in_variable: bool) -> Result<Vec<Segment>, TemplateError> {
        let mut segments = vec![self.segment(in_variable)?];
        while self.eat('/') {
            segments.push(self.segment(in_variable)?);
        }
        Ok(segments)
    }

    fn segment(&mut self, in_variable: bool) -> Result<Segment, TemplateError> {
        let start = self.pos;
        match self.peek() {
            Some('*') => {
                self.pos += 1;
                if self.eat('*') {
                    if self.peek() == Some('*') {
                        return Err(self.error("`***` is not a segment; use `*` or `**`"));
                    }
                    Ok(Segment::DeepWildcard)
                } else {
                    Ok(Segment::Wildcard)
                }
            }
            Some('{') if in_variable => Err(self.error("variables cannot be nested")),
            Some('{') => self.variable().map(Segment::Variable),
            _ => {
                let literal = self.literal();
                if literal.is_empty() {
                    return Err(match self.peek() {
                        None | Some('/') | Some(':') | Some('}') => {
                            self.error_at(start, "empty segment")
                        }
                        Some(c) => self.error(&format!("unexpected `{c}`")),
                    });
                }
                Ok(Segment::Literal(literal))
            }
        }
    }

    fn variable(&mut self) -> Result<Variable, TemplateError> {
        let open = self.pos;
        self.pos += 1; // `{`
        let field_path = self.field_path()?;
        let pattern = if self.eat('=') {
            self.segments(true)?
        } else {
            vec![Segment::Wildcard]
        };
        match self.peek() {
            Some('}') => self.pos += 1,
            Some(c) => return Err(self.error(&format!("unexpected `{c}` in variable"))),
            None => return Err(self.error_at(open, "unclosed `{`")),
        }
        Ok(Variable {
            field_path,
            pattern,
        })
    }

    fn field_path(&mut self) -> Result<FieldPath, TemplateError> {
        let mut parts = Vec::new();
        loop {
            let start = self.pos;
            while self
                .peek()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
            {
                self.pos += 1;
            }
            let ident: String = self.chars[start..self.pos].iter().collect();
            if !is_ident(&ident) {
                let what = if ident.is_empty() {
                    "expected a field name".to_owned()
                } else {
                    format!("`{ident}` is not a field name")
                };
                return Err(self.error_at(start, &what));
            }
            parts.push(ident);
            if !self.eat('.') {
                break;
            }
        }
        Ok(FieldPath(parts))
    }

    fn literal(&mut self) -> String {
        let start = self.pos;
        while self.peek().is_some_and(is_literal_char) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn check_deep_wildcard_last(&self, segments: &[Segment]) -> Result<(), TemplateError> {
        let matchers = PathTemplate {
            segments: segments.to_vec(),
            verb: None,
        }
        .matchers();
        let deep = matchers.iter().position(|m| *m == Matcher::AnyMany);
        match deep {
            Some(i) if i + 1 != matchers.len() => {
                let column = self.char_column_of("**");
                Err(self.error_at(column, "`**` must be the last segment"))
            }
            _ => Ok(()),
        }
    }

    fn check_unique_fields(&self, segments: &[Segment]) -> Result<(), TemplateError> {
        let mut seen: Vec<&FieldPath> = Vec::new();
        for segment in segments {
            if let Segment::Variable(v) = segment {
                if seen.iter().any(|p| p.overlaps(&v.field_path)) {
                    let needle = format!("{{{}", v.field_path);
                    let column = self
                        .text
                        .rfind(&needle)
                        .map_or(0, |byte| self.text[..byte].chars().count());
                    return Err(self.error_at(
                        column,
                        &format!("field `{}` is bound more than once", v.field_path),
                    ));
                }
                seen.push(&v.field_path);
            }
        }
        Ok(())
    }

    /// Character index of the first occurrence of `needle` (used to point at a checked construct).
    fn char_column_of(&self, needle: &str) -> usize {
        self.text
            .find(needle)
            .map_or(0, |byte| self.text[..byte].chars().count())
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        let hit = self.peek() == Some(c);
        if hit {
            self.pos += 1;
        }
        hit
    }

    fn error(&self, reason: &str) -> TemplateError {
        self.error_at(self.pos, reason)
    }

    fn error_at(&self, pos: usize, reason: &str) -> TemplateError {
        TemplateError {
            template: self.text.to_owned(),
            column: pos + 1,
            reason: reason.to_owned(),
        }
    }
}

/// URL path characters allowed in a literal: unreserved, percent escapes and the sub-delimiters
/// that carry no meaning in the template syntax itself.
fn is_literal_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~%!$&'()+,;@".contains(c)
}

fn is_ident(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}
