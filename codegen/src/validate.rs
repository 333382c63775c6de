//! Generation-time checks of the HTTP bindings, collecting every problem rather than the first.
//!
//! Each problem names the file, the method and what is wrong. Besides the problems found while
//! building the model (malformed templates, unknown fields, bad rules), this checks that:
//! - path variables bind singular, non-message fields reached through singular message fields;
//! - `body` and `response_body` name top-level fields, and `GET` has no body;
//! - a method with a streaming request binds its body as `*` (each line or frame is a message);
//! - a body field is not also bound by the path;
//! - no two bindings of a package would match the same request with neither more specific.
//!   Routes are tried literal before variable, segment by segment (as Envoy and matchit do),
//!   so `GET /v1/items/special` beside `GET /v1/items/{id}`, or `/x/{id}:verb` beside
//!   `/x/{id}`, is resolved; two templates of the same shape (`/v1/{a}` and `/v1/{b}`) are not.
//!
//! Routes are compared within a package, because a package is what one server exposes; two
//! packages may publish the same route (a gateway fronting a backend does exactly that).
//!
//! Route matching, as the transcoder applies it: a request path is split on `/`; a template
//! without a verb matches the raw segments (a `:` in the last segment is plain text), while a
//! template with verb `v` needs the last segment to end in `:v` and matches the rest before it.
//! `*` matches one segment, `**` zero or more; `**` followed by a verb needs at least one segment
//! to carry the verb. Two bindings conflict when they have the same HTTP method, some path
//! matches both, and their specificity ([`PathTemplate::specificity`]) is equal.

use std::fmt;

use crate::model::{Binding, BodySelector, Contract, FieldKind, HttpVerb};
use crate::template::{Matcher, PathTemplate};

/// One problem with the contracts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The `.proto` file (or rules file) where the problem is.
    pub file: String,
    /// The method's full name (or the rule's selector).
    pub method: String,
    /// The class of problem.
    pub kind: ProblemKind,
    /// What is wrong, for people.
    pub message: String,
}

/// Classes of problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProblemKind {
    /// A path variable, `body` or `response_body` names a field that does not exist.
    UnknownField,
    /// A path variable binds a repeated, map or message field.
    FieldNotAllowedInPath,
    /// The body field is also bound by the path.
    BodyPathCollision,
    /// A path template does not parse.
    MalformedTemplate,
    /// Two bindings would match the same requests.
    RouteConflict,
    /// Any other misuse of an HTTP rule (no verb, several verbs, nested or misplaced selectors).
    InvalidRule,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.file, self.method, self.message)
    }
}

/// Every problem found, in a stable order; displays one problem per line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct Problems(pub Vec<Problem>);

impl fmt::Display for Problems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let count = self.0.len();
        writeln!(
            f,
            "{count} problem{} in the HTTP bindings:",
            if count == 1 { "" } else { "s" }
        )?;
        for problem in &self.0 {
            writeln!(f, "  {problem}")?;
        }
        Ok(())
    }
}

/// Checks the contract; `Err` lists every problem.
pub fn validate(contract: &Contract) -> Result<(), Problems> {
    let mut problems = contract.problems.clone();
    for package in &contract.packages {
        let mut routes: Vec<(&str, &str, &Binding)> = Vec::new();
        for service in &package.services {
            for method in &service.methods {
                let mut report = |kind, message| {
                    problems.push(Problem {
                        file: service.file.clone(),
                        method: method.full_name.clone(),
                        kind,
                        message,
                    })
                };
                for binding in &method.bindings {
                    check_binding(binding, &mut report);
                    if method.streaming.streams_requests() && binding.body != BodySelector::All {
                        report(
                            ProblemKind::InvalidRule,
                            format!(
                                "route `{} {}`: {} reads a stream of requests, one JSON message per line or WebSocket frame: set body \"*\"",
                                binding.verb, binding.template, method.name
                            ),
                        );
                    }
                    for (other_method, other_file, other) in &routes {
                        if other.verb == binding.verb
                            && templates_overlap(&other.template, &binding.template)
                            && other.template.specificity() == binding.template.specificity()
                        {
                            report(
                                ProblemKind::RouteConflict,
                                format!(
                                    "route `{} {}` conflicts with `{} {}` of {other_method} ({other_file}): some requests match both",
                                    binding.verb, binding.template, other.verb, other.template
                                ),
                            );
                        }
                    }
                    routes.push((&method.full_name, &service.file, binding));
                }
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Problems(problems))
    }
}

fn check_binding(binding: &Binding, report: &mut impl FnMut(ProblemKind, String)) {
    let route = format!("{} {}", binding.verb, binding.template);
    for field in &binding.path_fields {
        let leaf = field.leaf();
        if let Some(many) = field.fields.iter().find(|f| f.cardinality.is_multiple()) {
            let what = if many.cardinality == crate::model::Cardinality::Map {
                "a map"
            } else {
                "a repeated"
            };
            report(
                ProblemKind::FieldNotAllowedInPath,
                format!(
                    "route `{route}`: path variable `{}` goes through `{}`, {what} field; path variables need singular fields",
                    field.path, many.name
                ),
            );
        } else if let FieldKind::Message(name) = &leaf.kind {
            report(
                ProblemKind::FieldNotAllowedInPath,
                format!(
                    "route `{route}`: path variable `{}` is a message field ({name}); path variables need scalar or enum fields",
                    field.path
                ),
            );
        }
    }
    if let BodySelector::Field(body) = &binding.body {
        if body.fields.len() > 1 {
            report(
                ProblemKind::InvalidRule,
                format!(
                    "route `{route}`: body `{}` must name a top-level field of the request",
                    body.path
                ),
            );
        }
        // A path variable inside the body field (`{book.name}` with body `book`) is allowed: the
        // path's value wins. The same field from both, or a path field holding the body, is not.
        for field in &binding.path_fields {
            if field.path.overlaps(&body.path) && field.fields.len() <= body.fields.len() {
                report(
                    ProblemKind::BodyPathCollision,
                    format!(
                        "route `{route}`: field `{}` is bound by the path and also by body `{}`",
                        field.path, body.path
                    ),
                );
            }
        }
    }
    if let Some(response) = &binding.response_body {
        if response.fields.len() > 1 {
            report(
                ProblemKind::InvalidRule,
                format!(
                    "route `{route}`: response_body `{}` must name a top-level field of the response",
                    response.path
                ),
            );
        }
    }
    if binding.verb == HttpVerb::Get && binding.body != BodySelector::None {
        report(
            ProblemKind::InvalidRule,
            format!("route `{route}`: a GET binding cannot have a body"),
        );
    }
}

/// One element of a template as matched against the raw path segments.
#[derive(Debug, Clone, PartialEq)]
enum Raw {
    /// One segment equal to the text.
    Exact(String),
    /// One segment ending with the text (empty: any segment). Never empty in its matched part.
    EndsWith(String),
    /// Zero or more segments.
    Many,
}

/// Whether some request path matches both templates (ignoring the HTTP method).
pub fn templates_overlap(a: &PathTemplate, b: &PathTemplate) -> bool {
    intersect(&raw_elements(a), &raw_elements(b))
}

fn raw_elements(template: &PathTemplate) -> Vec<Raw> {
    let mut out: Vec<Raw> = template
        .matchers()
        .into_iter()
        .map(|m| match m {
            Matcher::Literal(text) => Raw::Exact(text),
            Matcher::Any => Raw::EndsWith(String::new()),
            Matcher::AnyMany => Raw::Many,
        })
        .collect();
    if let Some(verb) = &template.verb {
        let suffix = format!(":{verb}");
        match out.pop() {
            Some(Raw::Exact(text)) => out.push(Raw::Exact(text + &suffix)),
            Some(Raw::EndsWith(_)) => out.push(Raw::EndsWith(suffix)),
            Some(Raw::Many) => {
                out.push(Raw::Many);
                out.push(Raw::EndsWith(suffix));
            }
            None => out.push(Raw::EndsWith(suffix)),
        }
    }
    out
}

/// Whether one segment can satisfy both single-segment elements.
fn segment_compatible(a: &Raw, b: &Raw) -> bool {
    match (a, b) {
        (Raw::Exact(x), Raw::Exact(y)) => x == y,
        (Raw::Exact(x), Raw::EndsWith(s)) | (Raw::EndsWith(s), Raw::Exact(x)) => {
            // A wildcard never matches an empty segment, so the suffix needs text before it.
            x.ends_with(s.as_str()) && (s.is_empty() || x.len() > s.len())
        }
        (Raw::EndsWith(s), Raw::EndsWith(t)) => s.ends_with(t.as_str()) || t.ends_with(s.as_str()),
        _ => unreachable!("`Many` is handled by the caller"),
    }
}

/// Whether some sequence of segments matches both element lists.
fn intersect(a: &[Raw], b: &[Raw]) -> bool {
    match (a.first(), b.first()) {
        (None, None) => true,
        (Some(Raw::Many), _) => intersect(&a[1..], b) || (!b.is_empty() && intersect(a, &b[1..])),
        (_, Some(Raw::Many)) => intersect(a, &b[1..]) || (!a.is_empty() && intersect(&a[1..], b)),
        (None, Some(_)) | (Some(_), None) => false,
        (Some(x), Some(y)) => segment_compatible(x, y) && intersect(&a[1..], &b[1..]),
    }
}
