//! Client code: per service a `<Service>Client` implementing the service's own handler trait,
//! so code written against `impl Library` runs unchanged with a local handler, a gRPC client
//! or a REST client.
//!
//! For a service `pkg.Library` the package module gets:
//!
//! - `LibraryClient`: cheap to clone; `new(transport)` / `with_options(transport, options)`
//!   call over a runtime `client::Transport` (gRPC or REST), `local(handler)` /
//!   `local_with_options(handler, options)` call an in-process handler directly;
//! - `impl Library for LibraryClient`: each method hands the runtime the method's entry of
//!   `LIBRARY_METHODS` and its first REST binding from `LIBRARY_ROUTES`, the one the server
//!   lists first; encoding, metadata, deadlines and errors are the runtime's;
//! - a private object-safe trait, implemented for every handler, through which the in-process
//!   client calls the handler without knowing its type.
//!
//! The gRPC half is not generated with tonic-build: its clients are their own types with
//! `&mut self` methods and tonic's request and response types, while these clients implement the
//! handler trait (`&self`, the runtime's `Request`/`Response`/`Status`) over three transports.
//! The runtime makes the gRPC calls on `tonic::client::Grpc` itself, so the generated code stays
//! one short method per RPC.

use proc_macro2::{Ident, Literal, TokenStream};
use quote::{format_ident, quote};

use super::json::naming;
use super::service::message_type;
use crate::generate::PackageContext;
use crate::model::{Service, Streaming};

/// Emits the clients of one package's services.
pub fn emit_clients(cx: &PackageContext<'_>) -> TokenStream {
    let runtime = cx.runtime;
    let rt = quote!(#runtime::__private);
    let Some(package) = cx.contract.package(cx.package) else {
        return TokenStream::new();
    };
    let clients = package
        .services
        .iter()
        .map(|service| emit_client(cx.package, service, &rt));
    quote!(#(#clients)*)
}

/// One served method: its index in the method table, the index of its first binding in the
/// route table, and its names and types.
struct ClientMethod {
    index: Literal,
    route: Option<Literal>,
    name: String,
    ident: Ident,
    input: TokenStream,
    output: TokenStream,
    streaming: Streaming,
}

fn served_methods(package: &str, service: &Service, rt: &TokenStream) -> Vec<ClientMethod> {
    let mut next_route = 0usize;
    service
        .methods
        .iter()
        .enumerate()
        .map(|(index, method)| {
            // The route table lists every binding of every served method, in this order.
            let route =
                (!method.bindings.is_empty()).then(|| Literal::usize_unsuffixed(next_route));
            next_route += method.bindings.len();
            ClientMethod {
                index: Literal::usize_unsuffixed(index),
                route,
                name: method.name.clone(),
                ident: naming::ident(&naming::snake(&method.name)),
                input: message_type(rt, package, &method.input_type),
                output: message_type(rt, package, &method.output_type),
                streaming: method.streaming,
            }
        })
        .collect()
}

fn emit_client(package: &str, service: &Service, rt: &TokenStream) -> TokenStream {
    let trait_ident = naming::ident(&naming::upper_camel(&service.name));
    let client = format_ident!("{}Client", trait_ident);
    let local = format_ident!("__{}Local", trait_ident);
    let shout = heck::ToShoutySnakeCase::to_shouty_snake_case(service.name.as_str());
    let methods_const = format_ident!("{}_METHODS", shout);
    let routes_static = format_ident!("{}_ROUTES", shout);
    let full_name = &service.full_name;
    let methods = served_methods(package, service, rt);

    let result = |m: &ClientMethod| {
        let output = &m.output;
        let output = if m.streaming.streams_responses() {
            quote!(#rt::ServerStream<#output>)
        } else {
            output.clone()
        };
        quote!(::core::result::Result<#rt::Response<#output>, #rt::Status>)
    };
    let input = |m: &ClientMethod| {
        let input = &m.input;
        if m.streaming.streams_requests() {
            quote!(#rt::RequestStream<#input>)
        } else {
            input.clone()
        }
    };

    let local_decls = methods.iter().map(|m| {
        let ident = &m.ident;
        let input = input(m);
        let result = result(m);
        quote! {
            fn #ident(
                self: #rt::Arc<Self>,
                request: #rt::Request<#input>,
            ) -> #rt::client::BoxFuture<#result>;
        }
    });
    let local_impls = methods.iter().map(|m| {
        let ident = &m.ident;
        let input = input(m);
        let result = result(m);
        quote! {
            fn #ident(
                self: #rt::Arc<Self>,
                request: #rt::Request<#input>,
            ) -> #rt::client::BoxFuture<#result> {
                ::std::boxed::Box::pin(async move { #trait_ident::#ident(&*self, request).await })
            }
        }
    });
    let client_methods = methods.iter().map(|m| {
        let ident = &m.ident;
        let input = input(m);
        let result = result(m);
        let index = &m.index;
        let name = &m.name;
        let route = match &m.route {
            Some(route) => quote!(::core::option::Option::Some(&#routes_static[#route])),
            None => quote!(::core::option::Option::None),
        };
        let (remote, local_call) = match m.streaming {
            Streaming::Unary => (quote!(unary), quote!(local_unary)),
            Streaming::Server => (quote!(server_streaming), quote!(local_server_streaming)),
            Streaming::Client => (quote!(client_streaming), quote!(local_client_streaming)),
            Streaming::Bidi => (quote!(bidi_streaming), quote!(local_bidi_streaming)),
        };
        quote! {
            async fn #ident(&self, request: #rt::Request<#input>) -> #result {
                let method = &#methods_const[#index];
                match &self.local {
                    ::core::option::Option::Some(handler) => {
                        let handler = #rt::Arc::clone(handler);
                        let policy = handler.policy(#name);
                        self.client
                            .#local_call(method, policy, request, move |request| {
                                handler.#ident(request)
                            })
                            .await
                    }
                    ::core::option::Option::None => {
                        self.client.#remote(method, #route, request).await
                    }
                }
            }
        }
    });

    let client_doc = format!(
        " A client of `{full_name}`: implements [`{trait_ident}`] over gRPC, REST or an \
         in-process handler, with the same results, errors, metadata and deadlines on each."
    );
    let client_doc_more = " Cheap to clone: clones share the transport and its connections.";
    let local_doc =
        format!(" Calls an in-process [`{trait_ident}`] handler without knowing its type.");
    quote! {
        #[doc = #client_doc]
        #[doc = ""]
        #[doc = #client_doc_more]
        #[derive(Clone)]
        pub struct #client {
            client: #rt::client::Client,
            local: ::core::option::Option<#rt::Arc<dyn #local>>,
        }

        impl #client {
            /// A client calling over `transport` (gRPC or REST) with default options.
            pub fn new(transport: impl ::core::convert::Into<#rt::client::Transport>) -> Self {
                Self::with_options(transport, ::core::default::Default::default())
            }

            /// A client calling over `transport` with `options` (default timeouts).
            pub fn with_options(
                transport: impl ::core::convert::Into<#rt::client::Transport>,
                options: #rt::client::ClientOptions,
            ) -> Self {
                Self {
                    client: #rt::client::Client::new(transport, options),
                    local: ::core::option::Option::None,
                }
            }

            /// A client calling `handler` in this process, with no encoding, under the same
            /// metadata and deadline rules.
            pub fn local<T: #trait_ident>(handler: #rt::Arc<T>) -> Self {
                Self::local_with_options(handler, ::core::default::Default::default())
            }

            /// A client calling `handler` in this process with `options`.
            pub fn local_with_options<T: #trait_ident>(
                handler: #rt::Arc<T>,
                options: #rt::client::ClientOptions,
            ) -> Self {
                let handler: #rt::Arc<dyn #local> = handler;
                Self {
                    client: #rt::client::Client::local(options),
                    local: ::core::option::Option::Some(handler),
                }
            }

            /// The runtime client: transport and options.
            pub fn client(&self) -> &#rt::client::Client {
                &self.client
            }
        }

        impl ::core::fmt::Debug for #client {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_struct(::core::stringify!(#client))
                    .field("client", &self.client)
                    .field("local", &self.local.is_some())
                    .finish()
            }
        }

        impl #trait_ident for #client {
            #(#client_methods)*
        }

        #[doc = #local_doc]
        #[allow(non_camel_case_types)]
        trait #local: ::core::marker::Send + ::core::marker::Sync + 'static {
            #(#local_decls)*

            /// The handler's declared policy of `method`.
            fn policy(&self, method: &str) -> ::core::option::Option<&'static #rt::MethodPolicy>;
        }

        impl<T: #trait_ident> #local for T {
            #(#local_impls)*

            fn policy(&self, method: &str) -> ::core::option::Option<&'static #rt::MethodPolicy> {
                #trait_ident::method_policy(self, method)
            }
        }
    }
}
