//! Reading the handler impl: the trait it implements, its methods, and their `#[tacos]`
//! policies (which are removed from the impl, since `tacos` is not a real attribute).

use syn::spanned::Spanned;

use super::policy::{is_policy_attribute, parse_policy, Policy};
use crate::errors::Errors;

/// A handler impl, `impl QueueService for Gateway { ... }`, with its policies taken out.
pub(crate) struct HandlerImpl {
    /// The impl as written, minus the `#[tacos]` attributes.
    pub(crate) item: syn::ItemImpl,
    /// The trait path, such as `pb::QueueService`.
    pub(crate) trait_path: syn::Path,
    /// The methods, in source order.
    pub(crate) methods: Vec<HandlerMethod>,
}

/// One method of the handler impl.
pub(crate) struct HandlerMethod {
    /// The signature as written.
    pub(crate) sig: syn::Signature,
    /// What its `#[tacos]` attributes declare; `None` when it has none.
    pub(crate) policy: Option<Policy>,
}

impl HandlerImpl {
    /// Parses `item`; the error (for anything but a trait impl) ends the expansion.
    pub(crate) fn parse(item: proc_macro2::TokenStream, errors: &mut Errors) -> syn::Result<Self> {
        let mut item: syn::ItemImpl = syn::parse2(item).map_err(|e| {
            syn::Error::new(
                e.span(),
                "`#[service]` goes on a handler impl, such as `impl QueueService for Gateway { ... }`",
            )
        })?;
        let trait_path =
            match &item.trait_ {
                Some((Some(bang), _, _)) => {
                    return Err(syn::Error::new_spanned(
                        bang,
                        "`#[service]` cannot go on a negative impl",
                    ))
                }
                Some((None, path, _)) => path.clone(),
                None => return Err(syn::Error::new(
                    item.self_ty.span(),
                    "`#[service]` needs the service trait: write `impl QueueService for Gateway`",
                )),
            };
        let mut methods = Vec::new();
        for impl_item in &mut item.items {
            match impl_item {
                syn::ImplItem::Fn(function) => {
                    let (policy_attrs, kept) =
                        function.attrs.drain(..).partition(is_policy_attribute);
                    function.attrs = kept;
                    let policy_attrs: Vec<syn::Attribute> = policy_attrs;
                    let policy =
                        (!policy_attrs.is_empty()).then(|| parse_policy(&policy_attrs, errors));
                    methods.push(HandlerMethod {
                        sig: function.sig.clone(),
                        policy,
                    });
                }
                syn::ImplItem::Const(syn::ImplItemConst { attrs, .. })
                | syn::ImplItem::Type(syn::ImplItemType { attrs, .. }) => {
                    for attr in attrs.iter().filter(|a| is_policy_attribute(a)) {
                        errors.spanned(attr, "`#[tacos(...)]` goes on handler methods only");
                    }
                    attrs.retain(|a| !is_policy_attribute(a));
                }
                _ => {}
            }
        }
        Ok(Self {
            item,
            trait_path,
            methods,
        })
    }
}
