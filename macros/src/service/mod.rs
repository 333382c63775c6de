//! `#[service]`: binds a handler impl to its contract.
//!
//! The stages, one module each: [`args`] and [`parse`] read the attribute and the impl (with
//! [`policy`] for the per-method `#[tacos(...)]` attributes), [`locate`] and [`contract`] find the
//! service in the descriptor set, [`validate`] checks the impl against it, and [`expand`] writes
//! the result. Every problem found on the way is reported, not just the first.

mod args;
mod contract;
mod expand;
mod locate;
mod parse;
mod policy;
mod timeout;
mod validate;

use proc_macro2::{Span, TokenStream};
use quote::{quote, ToTokens};

use crate::errors::Errors;
use args::ServiceArgs;
use contract::Catalog;
use locate::{locate_descriptors, Environment};
use parse::HandlerImpl;

/// Expands `#[service(attr)] item` in the environment of the running compiler.
pub(crate) fn expand(attr: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    expand_in(&Environment::from_process(), attr, item)
}

/// Expands `#[service(attr)] item`; `Err` only when `item` is not a trait impl at all.
///
/// Otherwise the output always holds the impl (so later errors and IDEs stay sensible), plus a
/// `compile_error!` for each problem.
pub(crate) fn expand_in(
    env: &Environment,
    attr: TokenStream,
    item: TokenStream,
) -> syn::Result<TokenStream> {
    let mut errors = Errors::default();
    let args = ServiceArgs::parse(attr, &mut errors);
    let mut handler = HandlerImpl::parse(item, &mut errors)?;
    let runtime = args.runtime.clone().unwrap_or_else(expand::default_runtime);

    let mut tracked = TokenStream::new();
    let catalog = load_catalog(&args, env).map(|(catalog, files)| {
        tracked = files;
        catalog
    });
    if let Some(catalog) = errors.take(catalog) {
        if let Some(service) =
            errors.take(catalog.select(args.contract.as_ref(), &handler.trait_path))
        {
            let bindings = validate::check(&handler, service, &mut errors);
            let mut item = handler.item.clone();
            expand::add_policy_method(&mut item, &bindings, &runtime);
            handler.item = item;
        }
    }

    let item = handler.item.to_token_stream();
    let compile_errors = errors.to_compile_errors();
    Ok(quote! {
        #item
        #tracked
        #compile_errors
    })
}

#[cfg(test)]
mod tests;

/// The contract the impl is checked against, and the files to rebuild on: the `.proto` files
/// under `root = "dir"` when given, else the descriptor set found by [`locate_descriptors`].
fn load_catalog(args: &ServiceArgs, env: &Environment) -> syn::Result<(Catalog, TokenStream)> {
    if let Some(root) = &args.root {
        let dir = env
            .manifest_dir
            .as_deref()
            .unwrap_or(std::path::Path::new("."))
            .join(root.value());
        let (catalog, sources) =
            Catalog::compile(&dir).map_err(|message| syn::Error::new(root.span(), message))?;
        let tracked = sources
            .iter()
            .map(|path| expand::track_file(path))
            .collect();
        return Ok((catalog, tracked));
    }
    let path = locate_descriptors(args.descriptors.as_ref(), env)?;
    let span = args
        .descriptors
        .as_ref()
        .map_or_else(Span::call_site, syn::LitStr::span);
    let catalog = Catalog::load(&path).map_err(|message| syn::Error::new(span, message))?;
    Ok((catalog, expand::track_file(&path)))
}
