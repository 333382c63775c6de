//! `contract!`: a contract expanded in place at compile time.
//!
//! The arguments name include roots, files and a rules file, relative to the crate's manifest
//! directory; the expansion is [`tacos_codegen::inline`] of what `cargo xtask generate` would
//! write, plus an `include_bytes!` of every `.proto` read, so cargo rebuilds the crate when one
//! changes.

use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{bracketed, Ident, LitStr, Token};
use tacos_codegen::generate::{generate, GenerateConfig, GenerateError};

/// The parsed arguments.
struct Args {
    roots: Vec<LitStr>,
    files: Vec<LitStr>,
    rules: Option<LitStr>,
    runtime: Option<LitStr>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args {
            roots: Vec::new(),
            files: Vec::new(),
            rules: None,
            runtime: None,
        };
        while !input.is_empty() {
            let key: Ident = input.parse()?;
            input.parse::<Token![=]>()?;
            let list = |input: ParseStream<'_>| -> syn::Result<Vec<LitStr>> {
                if input.peek(syn::token::Bracket) {
                    let content;
                    bracketed!(content in input);
                    let items = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?;
                    Ok(items.into_iter().collect())
                } else {
                    Ok(vec![input.parse()?])
                }
            };
            match key.to_string().as_str() {
                "root" | "roots" => args.roots.extend(list(input)?),
                "files" | "file" => args.files.extend(list(input)?),
                "rules" => args.rules = Some(input.parse()?),
                "runtime" => args.runtime = Some(input.parse()?),
                other => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!(
                            "unknown argument `{other}`: expected root, files, rules or runtime"
                        ),
                    ))
                }
            }
            if !input.is_empty() {
                input.parse::<Token![,]>()?;
            }
        }
        if args.roots.is_empty() {
            return Err(syn::Error::new(
                Span::call_site(),
                "a `root = \"dir\"` (relative to the crate's Cargo.toml) is required",
            ));
        }
        Ok(args)
    }
}

/// Expands `contract!(…)`.
pub(crate) fn expand(input: TokenStream) -> syn::Result<TokenStream> {
    let args: Args = syn::parse2(input)?;
    let manifest = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let path = |lit: &LitStr| manifest.join(lit.value());
    let mut config = GenerateConfig::new(args.roots.iter().map(path).collect());
    config.files = args
        .files
        .iter()
        .map(|f| PathBuf::from(f.value()))
        .collect();
    config.rules = args.rules.as_ref().map(path);
    if let Some(runtime) = &args.runtime {
        config.runtime_path = runtime.value();
    }
    // Errors point at what they are about: the rules file, else the files, else the root.
    let contracts = args.files.first().unwrap_or(&args.roots[0]).span();
    let blame = |err: GenerateError| {
        let span = match (&err, &args.rules) {
            (GenerateError::Rules(_), Some(rules)) => rules.span(),
            _ => contracts,
        };
        syn::Error::new(span, err.to_string())
    };
    let generated = generate(&config).map_err(blame)?;
    let items = tacos_codegen::inline::inline(&generated).map_err(blame)?;
    let watched = generated
        .sources
        .iter()
        .chain(config.rules.iter())
        .map(|source| watch(source));
    Ok(quote! {
        #(#watched)*
        #items
    })
}

/// An `include_bytes!` of `path`: cargo then rebuilds the crate when the file changes.
fn watch(path: &Path) -> TokenStream {
    let path = path.display().to_string();
    quote! { const _: &[u8] = include_bytes!(#path); }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The compile error `contract!` gives for a root holding `proto` as `bad/v1/bad.proto`.
    fn error(proto: Option<&str>) -> String {
        let root = std::env::temp_dir().join(format!(
            "tacos-contract-macro-{}-{}",
            std::process::id(),
            proto.map_or(0, str::len)
        ));
        std::fs::create_dir_all(root.join("bad/v1")).unwrap();
        if let Some(proto) = proto {
            std::fs::write(root.join("bad/v1/bad.proto"), proto).unwrap();
        }
        let root = root.display().to_string();
        let input = quote!(root = #root, files = ["bad/v1/bad.proto"]);
        let err = expand(input).expect_err("a compile error");
        err.to_string()
    }

    #[test]
    fn a_missing_file_is_named() {
        let message = error(None);
        assert!(message.contains("bad/v1/bad.proto"), "{message}");
        assert!(message.contains("include path"), "{message}");
    }

    #[test]
    fn a_syntax_error_names_file_line_and_problem() {
        let message = error(Some(
            "syntax = \"proto3\";\npackage bad.v1;\nmessage Oops { string name = ; }\n",
        ));
        assert!(message.contains("bad/v1/bad.proto:3:"), "{message}");
        assert!(message.contains("expected"), "{message}");
    }

    #[test]
    fn an_invalid_binding_names_file_method_and_problem() {
        let message = error(Some(
            "syntax = \"proto3\";\npackage bad.v1;\nimport \"google/api/annotations.proto\";\n\
             service Bad {\n  rpc Get(GetRequest) returns (GetRequest) {\n    \
             option (google.api.http) = {get: \"/v1/{missing}\"};\n  }\n}\n\
             message GetRequest { string name = 1; }\n",
        ));
        assert!(message.contains("bad/v1/bad.proto"), "{message}");
        assert!(message.contains("bad.v1.Bad.Get"), "{message}");
        assert!(message.contains("missing"), "{message}");
    }

    #[test]
    fn arguments_are_checked() {
        let err = expand(quote!(files = ["x.proto"])).unwrap_err();
        assert!(err.to_string().contains("root"), "{err}");
        let err = expand(quote!(root = "proto", colour = "blue")).unwrap_err();
        assert!(
            err.to_string().contains("unknown argument `colour`"),
            "{err}"
        );
    }
}
