//! HTTP rules: the `google.api.HttpRule` shape, read from annotations or from a YAML rules file.
//!
//! The rules file has the shape of the `http` section of a `google.api.Service` configuration,
//! so a file written for other tools works here too (other top-level sections are ignored):
//!
//! ```yaml
//! http:
//!   rules:
//!     - selector: gateway.v1.QueueService.JoinQueue
//!       post: /api/v1/queue/join
//!       body: "*"
//!     - selector: gateway.v1.QueueService.*
//!       get: /api/v1/queue/{waiting_token}
//! ```
//!
//! A selector names a method by its full name, or every method of a service with a trailing
//! `.*`; an exact selector wins over a wildcard. Annotations win over the rules file: a rule only
//! binds methods that carry no `google.api.http` annotation, so a rules file can complete a
//! contract but never silently re-route an annotated one.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// One HTTP rule: a verb and path, plus body selectors and additional bindings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRule {
    /// The method(s) the rule applies to (rules files only; empty for annotations).
    #[serde(default)]
    pub selector: String,
    /// `GET` path template.
    pub get: Option<String>,
    /// `PUT` path template.
    pub put: Option<String>,
    /// `POST` path template.
    pub post: Option<String>,
    /// `DELETE` path template.
    pub delete: Option<String>,
    /// `PATCH` path template.
    pub patch: Option<String>,
    /// A verb outside the five above, such as `HEAD`.
    pub custom: Option<CustomPattern>,
    /// The request field mapped to the body: empty for none, `*` for all unbound fields.
    #[serde(default)]
    pub body: String,
    /// The response field mapped to the body: empty for the whole response.
    #[serde(default)]
    pub response_body: String,
    /// More bindings for the same method; they may not nest further.
    #[serde(default)]
    pub additional_bindings: Vec<HttpRule>,
}

/// A custom verb and its path template.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomPattern {
    /// The HTTP method name.
    pub kind: String,
    /// The path template.
    pub path: String,
}

impl HttpRule {
    /// The `(verb, path)` pairs the rule sets; a well-formed rule sets exactly one.
    pub fn patterns(&self) -> Vec<(String, &str)> {
        let mut out = Vec::new();
        let plain = [
            ("GET", &self.get),
            ("PUT", &self.put),
            ("POST", &self.post),
            ("DELETE", &self.delete),
            ("PATCH", &self.patch),
        ];
        for (verb, path) in plain {
            if let Some(path) = path {
                out.push((verb.to_owned(), path.as_str()));
            }
        }
        if let Some(custom) = &self.custom {
            out.push((custom.kind.clone(), custom.path.as_str()));
        }
        out
    }

    /// Reads an `HttpRule` from the dynamic value of a `google.api.http` option.
    pub fn from_dynamic(message: &prost_reflect::DynamicMessage) -> Self {
        let text = |name: &str| -> Option<String> {
            if !message.has_field_by_name(name) {
                return None;
            }
            message.get_field_by_name(name)?.as_str().map(str::to_owned)
        };
        let custom = message
            .has_field_by_name("custom")
            .then(|| message.get_field_by_name("custom"))
            .flatten()
            .and_then(|v| v.as_message().cloned())
            .map(|m| CustomPattern {
                kind: string_field(&m, "kind"),
                path: string_field(&m, "path"),
            });
        let additional_bindings = message
            .get_field_by_name("additional_bindings")
            .and_then(|v| v.as_list().map(<[_]>::to_vec))
            .unwrap_or_default()
            .iter()
            .filter_map(|v| v.as_message().map(Self::from_dynamic))
            .collect();
        Self {
            selector: text("selector").unwrap_or_default(),
            get: text("get"),
            put: text("put"),
            post: text("post"),
            delete: text("delete"),
            patch: text("patch"),
            custom,
            body: text("body").unwrap_or_default(),
            response_body: text("response_body").unwrap_or_default(),
            additional_bindings,
        }
    }
}

fn string_field(message: &prost_reflect::DynamicMessage, name: &str) -> String {
    message
        .get_field_by_name(name)
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// The rules of one rules file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HttpRules {
    /// Where the rules came from (for messages).
    pub source: Option<PathBuf>,
    /// The rules, in file order.
    pub rules: Vec<HttpRule>,
}

/// A rules file that could not be read or parsed.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The file could not be read.
    #[error("cannot read rules file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid YAML of the expected shape.
    #[error("invalid rules file {path}: {source}")]
    Parse {
        /// The file (or `<inline>`).
        path: PathBuf,
        /// The YAML error, with its line and column.
        source: serde_yaml::Error,
    },
}

#[derive(Deserialize)]
struct ServiceConfig {
    #[serde(default)]
    http: HttpSection,
}

#[derive(Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct HttpSection {
    #[serde(default)]
    rules: Vec<HttpRule>,
    // Accepted for compatibility with service configurations; it has no effect here because
    // reserved expansion is always applied to `**` variables.
    #[serde(default)]
    #[allow(dead_code)] // read only so that the key is accepted
    fully_decode_reserved_expansion: bool,
}

impl HttpRules {
    /// An empty rule set.
    pub fn none() -> Self {
        Self::default()
    }

    /// Reads a rules file.
    pub fn from_file(path: &Path) -> Result<Self, RulesError> {
        let text = std::fs::read_to_string(path).map_err(|source| RulesError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut rules = Self::from_yaml(&text).map_err(|err| match err {
            RulesError::Parse { source, .. } => RulesError::Parse {
                path: path.to_owned(),
                source,
            },
            other => other,
        })?;
        rules.source = Some(path.to_owned());
        Ok(rules)
    }

    /// Parses rules from YAML text.
    pub fn from_yaml(text: &str) -> Result<Self, RulesError> {
        let config: ServiceConfig =
            serde_yaml::from_str(text).map_err(|source| RulesError::Parse {
                path: PathBuf::from("<inline>"),
                source,
            })?;
        Ok(Self {
            source: None,
            rules: config.http.rules,
        })
    }

    /// The name used for the rules file in messages.
    pub fn display_name(&self) -> String {
        self.source
            .as_ref()
            .map_or_else(|| "<rules>".to_owned(), |p| p.display().to_string())
    }

    /// The rule for `method` (a full name such as `pkg.Service.Method`): an exact selector
    /// first, then a `pkg.Service.*` wildcard.
    pub fn find(&self, method: &str) -> Option<&HttpRule> {
        self.rules
            .iter()
            .find(|r| r.selector == method)
            .or_else(|| {
                self.rules
                    .iter()
                    .find(|r| selector_matches(&r.selector, method))
            })
    }
}

/// Whether `selector` names `method`, exactly or through a trailing `.*` wildcard.
pub fn selector_matches(selector: &str, method: &str) -> bool {
    match selector.strip_suffix(".*") {
        Some(prefix) => method
            .strip_prefix(prefix)
            .is_some_and(|rest| rest.starts_with('.') && !rest[1..].contains('.')),
        None => selector == method,
    }
}
