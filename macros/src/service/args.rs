//! The arguments of `#[service(...)]` itself.

use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{LitStr, Token};

use crate::errors::Errors;
use crate::names::closest;

/// What `#[service(contract = "...", descriptors = "...", crate = "...")]` says.
#[derive(Default)]
pub(crate) struct ServiceArgs {
    /// `contract = "pkg.Service"`: the service, when the trait name does not say it alone.
    pub(crate) contract: Option<LitStr>,
    /// `descriptors = "path"`: the encoded descriptor set, relative to the crate's manifest.
    pub(crate) descriptors: Option<LitStr>,
    /// `root = "dir"`: compile the `.proto` files under this folder instead (the `contract!`
    /// front end, which writes no descriptor set), relative to the crate's manifest.
    pub(crate) root: Option<LitStr>,
    /// `crate = "path"`: where the runtime is, when it is not `::tacos_runtime`.
    pub(crate) runtime: Option<syn::Path>,
}

const KEYS: &[&str] = &["contract", "descriptors", "root", "crate"];

/// One `key = "value"` of the attribute.
struct Arg {
    key: syn::Ident,
    value: LitStr,
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let key = input.call(syn::ext::IdentExt::parse_any)?;
        input
            .parse::<Token![=]>()
            .map_err(|e| syn::Error::new(e.span(), format!("expected `{key} = \"...\"`")))?;
        let value = input.parse()?;
        Ok(Self { key, value })
    }
}

impl ServiceArgs {
    /// Parses the attribute's tokens, recording every problem.
    pub(crate) fn parse(tokens: proc_macro2::TokenStream, errors: &mut Errors) -> Self {
        let mut args = Self::default();
        let parser = Punctuated::<Arg, Token![,]>::parse_terminated;
        let Some(list) = errors.take(syn::parse::Parser::parse2(parser, tokens)) else {
            return args;
        };
        for Arg { key, value } in list {
            let name = key.to_string();
            let slot_taken = match name.as_str() {
                "contract" => args.contract.replace(value).is_some(),
                "descriptors" => args.descriptors.replace(value).is_some(),
                "root" => args.root.replace(value).is_some(),
                "crate" => match value.parse::<syn::Path>() {
                    Ok(path) => args.runtime.replace(path).is_some(),
                    Err(_) => {
                        errors.spanned(
                            &value,
                            "`crate` must be a path, such as `\"::tacos_runtime\"`",
                        );
                        false
                    }
                },
                _ => {
                    let hint = match closest(&name, KEYS.iter().copied()) {
                        Some(near) => format!("did you mean `{near}`?"),
                        None => format!("expected one of {}", list_keys(KEYS)),
                    };
                    errors.spanned(
                        &key,
                        format!("unknown `#[service]` argument `{name}`: {hint}"),
                    );
                    false
                }
            };
            if slot_taken {
                errors.spanned(&key, format!("`{name}` is given twice: keep one"));
            }
        }
        args
    }
}

/// `` `a`, `b` or `c` ``.
pub(crate) fn list_keys(keys: &[&str]) -> String {
    let quoted: Vec<String> = keys.iter().map(|k| format!("`{k}`")).collect();
    match quoted.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => quoted.join(""),
    }
}
