//! Writing the output: the impl as written (without `#[tacos]`), plus a `method_policy`
//! override answering from a static table (by RPC name or gRPC path), plus a dependency on the
//! descriptor set so that cargo re-checks the impl whenever the contract changes.

use std::path::Path;

use proc_macro2::TokenStream;
use quote::quote;

use super::contract::Rpc;
use super::policy::Policy;
use super::validate::Binding;

/// Where the runtime is when `#[service(crate = "...")]` does not say.
pub(crate) fn default_runtime() -> syn::Path {
    syn::parse_quote!(::tacos_runtime)
}

/// Adds the `method_policy` override to `item`: every method the impl binds gets a policy, the
/// default one (authenticated, no roles, no limits) when it declares none, so that leaving out
/// `#[tacos(public)]` can never make a method public by accident.
pub(crate) fn add_policy_method(
    item: &mut syn::ItemImpl,
    bindings: &[Binding<'_>],
    runtime: &syn::Path,
) {
    let undeclared = Policy::default();
    let declared: Vec<(&Rpc, &Policy)> = bindings
        .iter()
        .map(|b| (b.rpc, b.method.policy.as_ref().unwrap_or(&undeclared)))
        .collect();
    if declared.is_empty() {
        return;
    }
    let policy_type = quote!(#runtime::__private::MethodPolicy);
    let entries = declared
        .iter()
        .map(|(_, policy)| policy_tokens(policy, &policy_type));
    let arms = declared.iter().enumerate().map(|(index, (rpc, _))| {
        let name = &rpc.name;
        let path = &rpc.grpc_path;
        quote!(#name | #path => ::core::option::Option::Some(&POLICIES[#index]),)
    });
    let count = declared.len();
    let method: syn::ImplItemFn = syn::parse_quote! {
        fn method_policy(&self, method: &str) -> ::core::option::Option<&'static #policy_type> {
            // The runtime asks by the RPC's name in the contract (`MethodInfo::name`); layers
            // that only see the request line can ask by gRPC path (`MethodInfo::path`).
            static POLICIES: [#policy_type; #count] = [#(#entries),*];
            match method {
                #(#arms)*
                _ => ::core::option::Option::None,
            }
        }
    };
    item.items.push(syn::ImplItem::Fn(method));
}

fn policy_tokens(policy: &Policy, policy_type: &TokenStream) -> TokenStream {
    let public = policy.public;
    let idempotent = policy.idempotent;
    let roles = &policy.roles;
    let scopes = &policy.scopes;
    let rate_class = match &policy.rate_class {
        Some(class) => quote!(::core::option::Option::Some(#class)),
        None => quote!(::core::option::Option::None),
    };
    let timeout = match policy.timeout {
        Some(timeout) => {
            let secs = timeout.as_secs();
            let nanos = timeout.subsec_nanos();
            quote!(::core::option::Option::Some(::core::time::Duration::new(#secs, #nanos)))
        }
        None => quote!(::core::option::Option::None),
    };
    quote! {
        #policy_type {
            public: #public,
            roles: &[#(#roles),*],
            scopes: &[#(#scopes),*],
            idempotent: #idempotent,
            rate_class: #rate_class,
            timeout: #timeout,
        }
    }
}

/// `const _: &[u8] = include_bytes!("...");`: makes the descriptor set an input of the crate.
pub(crate) fn track_file(path: &Path) -> TokenStream {
    let path = path.to_string_lossy();
    quote!(
        const _: &[u8] = ::core::include_bytes!(#path);
    )
}
