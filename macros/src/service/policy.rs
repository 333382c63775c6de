//! Per-method `#[tacos(...)]` attributes: the policy a handler declares for one RPC.
//!
//! ```text
//! #[tacos(public, timeout = "2s", rate = "join")]
//! #[tacos(roles("admin"), scopes("queue:read"), idempotent)]
//! ```
//! Several `#[tacos]` attributes on one method add up; a key may appear once per method.

use std::time::Duration;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

use super::args::list_keys;
use super::timeout::parse_timeout;
use crate::errors::Errors;
use crate::names::closest;

/// The name of the per-method attribute.
pub(crate) const ATTRIBUTE: &str = "tacos";

const KEYS: &[&str] = &["public", "roles", "scopes", "idempotent", "rate", "timeout"];

/// What the `#[tacos]` attributes of one method declare.
#[derive(Default)]
pub(crate) struct Policy {
    /// Callable without authentication.
    pub(crate) public: bool,
    /// Roles of which the caller needs one.
    pub(crate) roles: Vec<LitStr>,
    /// Scopes the caller needs, all of them.
    pub(crate) scopes: Vec<LitStr>,
    /// Safe to retry.
    pub(crate) idempotent: bool,
    /// The rate-limit class.
    pub(crate) rate_class: Option<LitStr>,
    /// The longest the handler may run.
    pub(crate) timeout: Option<Duration>,
}

/// Reads every `#[tacos]` attribute of a method into one policy, recording each problem.
pub(crate) fn parse_policy(attrs: &[syn::Attribute], errors: &mut Errors) -> Policy {
    let mut policy = Policy::default();
    let mut seen: Vec<(String, Span)> = Vec::new();
    let mut public_key = None;
    for attr in attrs {
        if !matches!(attr.meta, syn::Meta::List(_)) {
            errors.spanned(
                attr,
                "expected `#[tacos(...)]` with keys such as `public`, `timeout = \"2s\"` or `roles(\"admin\")`",
            );
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some(key) = meta.path.get_ident() else {
                errors.spanned(&meta.path, format!("expected one of {}", list_keys(KEYS)));
                return skip_value(&meta);
            };
            let name = key.to_string();
            if seen.iter().any(|(seen, _)| *seen == name) {
                errors.spanned(
                    key,
                    format!("`{name}` is given twice for this method: keep one"),
                );
                return skip_value(&meta);
            }
            seen.push((name.clone(), key.span()));
            match name.as_str() {
                "public" => {
                    flag(&meta, &name)?;
                    policy.public = true;
                    public_key = Some(key.clone());
                }
                "idempotent" => {
                    flag(&meta, &name)?;
                    policy.idempotent = true;
                }
                "roles" => policy.roles = string_list(&meta, &name, errors)?,
                "scopes" => policy.scopes = string_list(&meta, &name, errors)?,
                "rate" => {
                    let class = string_value(&meta, &name, "\"join\"")?;
                    if class.value().trim().is_empty() {
                        errors.spanned(&class, "the rate class must not be empty");
                    }
                    policy.rate_class = Some(class);
                }
                "timeout" => {
                    let text = string_value(&meta, &name, "\"2s\"")?;
                    match parse_timeout(&text.value()) {
                        Ok(timeout) => policy.timeout = Some(timeout),
                        Err(message) => errors.spanned(&text, message),
                    }
                }
                _ => {
                    let hint = match closest(&name, KEYS.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("expected one of {}", list_keys(KEYS)),
                    };
                    errors.spanned(key, format!("unknown `#[tacos]` key `{name}`: {hint}"));
                    return skip_value(&meta);
                }
            }
            Ok(())
        });
        errors.take(result);
    }
    if let Some(public) = public_key {
        if !policy.roles.is_empty() || !policy.scopes.is_empty() {
            errors.spanned(
                public,
                "a `public` method cannot also require roles or scopes: remove `public` or the requirements",
            );
        }
    }
    policy
}

/// A key that takes no value, such as `public`.
fn flag(meta: &ParseNestedMeta<'_>, name: &str) -> syn::Result<()> {
    if meta.input.peek(Token![=]) || meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("`{name}` takes no value: write just `{name}`")));
    }
    Ok(())
}

/// `key = "text"`.
fn string_value(meta: &ParseNestedMeta<'_>, name: &str, example: &str) -> syn::Result<LitStr> {
    if !meta.input.peek(Token![=]) {
        return Err(meta.error(format!("expected `{name} = {example}`")));
    }
    meta.value()?.parse::<LitStr>().map_err(|e| {
        syn::Error::new(
            e.span(),
            format!("expected a string, as in `{name} = {example}`"),
        )
    })
}

/// `key("a", "b")`: at least one non-empty string.
fn string_list(
    meta: &ParseNestedMeta<'_>,
    name: &str,
    errors: &mut Errors,
) -> syn::Result<Vec<LitStr>> {
    let example = format!("`{name}(\"a\", \"b\")`");
    if !meta.input.peek(syn::token::Paren) {
        return Err(meta.error(format!("expected a list of strings, as in {example}")));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let list = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)
        .map_err(|e| syn::Error::new(e.span(), format!("expected strings, as in {example}")))?;
    if list.is_empty() {
        errors.spanned(
            &meta.path,
            format!("`{name}()` lists nothing: name at least one, as in {example}"),
        );
    }
    for item in &list {
        if item.value().trim().is_empty() {
            errors.spanned(item, format!("empty string in `{name}`"));
        }
    }
    Ok(list.into_iter().collect())
}

/// Consumes whatever value a rejected key has, so the keys after it are still checked.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        meta.value()?.parse::<syn::Expr>()?;
    } else if meta.input.peek(syn::token::Paren) {
        let content;
        syn::parenthesized!(content in meta.input);
        content.parse::<proc_macro2::TokenStream>()?;
    }
    Ok(())
}

/// Whether `attr` is a `#[tacos]` attribute.
pub(crate) fn is_policy_attribute(attr: &syn::Attribute) -> bool {
    attr.path().is_ident(ATTRIBUTE)
}
