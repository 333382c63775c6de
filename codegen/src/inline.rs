//! The generated files as one token stream, for the `contract!` macro: the module tree of
//! `mod.rs` with each `include!("pkg.rs")` replaced by that file's items and the descriptor set
//! and OpenAPI document as literals. The items are the very ones the xtask writes to disk.

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::ToTokens;
use syn::{Expr, Item, LitByteStr, LitStr};

use crate::generate::{GenerateError, Generated, MODULE_FILE};

/// The module tree of `generated`, every file inlined.
pub fn inline(generated: &Generated) -> Result<TokenStream, GenerateError> {
    let mut tree = parse(generated, MODULE_FILE)?;
    inline_items(generated, &mut tree.items)?;
    Ok(tree.into_token_stream())
}

fn parse(generated: &Generated, path: &str) -> Result<syn::File, GenerateError> {
    let text = generated.text(path).ok_or_else(|| missing(path))?;
    syn::parse_file(text).map_err(|err| GenerateError::Emit {
        package: path.to_owned(),
        message: err.to_string(),
    })
}

fn missing(path: &str) -> GenerateError {
    GenerateError::Emit {
        package: path.to_owned(),
        message: "the module tree includes a file the generator did not write".to_owned(),
    }
}

/// A macro of the module tree whose argument is not the file name the generator writes.
fn unreadable_tree(err: syn::Error) -> GenerateError {
    GenerateError::Emit {
        package: MODULE_FILE.to_owned(),
        message: err.to_string(),
    }
}

fn inline_items(generated: &Generated, items: &mut Vec<Item>) -> Result<(), GenerateError> {
    let mut out = Vec::with_capacity(items.len());
    for mut item in items.drain(..) {
        match &mut item {
            Item::Mod(module) => {
                if let Some((_, content)) = &mut module.content {
                    inline_items(generated, content)?;
                }
                out.push(item);
            }
            Item::Macro(mac) if mac.mac.path.is_ident("include") => {
                let file: LitStr = mac.mac.parse_body().map_err(unreadable_tree)?;
                let included = parse(generated, &file.value())?;
                out.extend(included.items);
            }
            Item::Const(constant) => {
                if let Expr::Macro(mac) = &*constant.expr {
                    if let Some(literal) = literal(generated, &mac.mac)? {
                        *constant.expr = literal;
                    }
                }
                out.push(item);
            }
            _ => out.push(item),
        }
    }
    *items = out;
    Ok(())
}

/// `include_bytes!("f")` / `include_str!("f")` as a literal of the generated file `f`.
fn literal(generated: &Generated, mac: &syn::Macro) -> Result<Option<Expr>, GenerateError> {
    let bytes = mac.path.is_ident("include_bytes");
    if !bytes && !mac.path.is_ident("include_str") {
        return Ok(None);
    }
    let name: LitStr = mac.parse_body().map_err(unreadable_tree)?;
    let name = name.value();
    let file = generated
        .files
        .iter()
        .find(|f| f.path == Path::new(&name))
        .ok_or_else(|| missing(&name))?;
    let tokens = if bytes {
        LitByteStr::new(&file.contents, Span::call_site()).into_token_stream()
    } else {
        let text = std::str::from_utf8(&file.contents).map_err(|_| missing(&name))?;
        LitStr::new(text, Span::call_site()).into_token_stream()
    };
    Ok(Some(
        syn::parse2(tokens).expect("a literal is an expression"),
    ))
}
