//! Service code: per service a transport-neutral handler trait, its method table, a tonic
//! service, its REST route table with request builders, and a registration function; per
//! message a `QueryFields` impl so query strings can fill it.
//!
//! The emitted code is deliberately thin: every item reaches the runtime through
//! `<runtime>::__private`, and all behaviour (decoding, deadlines, errors, streaming) lives in
//! the runtime's `grpc` and `rest` helpers. For a service `pkg.Library` the package module gets:
//!
//! - `trait Library`: one `fn` per RPC returning
//!   `impl Future<Output = Result<Response<T>, Status>> + Send` (implement it with `async fn`),
//!   and `method_policy`, which the service attribute macro overrides. Streaming requests arrive
//!   as `Request<RequestStream<T>>`, streaming responses leave as `Response<ServerStream<T>>`;
//! - `LIBRARY_SERVICE_NAME`, `LIBRARY_METHODS` and `LIBRARY_ROUTES`;
//! - `LibraryGrpc<T>`, the tonic service;
//! - `library_service(handler)`, the `ServiceRegistration` a server takes.
//!
//! Over REST a streaming request is newline-delimited JSON (or WebSocket text frames), one
//! message per line, each built like a `body: "*"` request and then given the path's fields.

use heck::ToShoutySnakeCase;
use proc_macro2::{Ident, Literal, TokenStream};
use prost_reflect::{Cardinality, FieldDescriptor, Kind, MessageDescriptor};
use quote::{format_ident, quote};

use super::json::{field_codec, naming};
use crate::generate::PackageContext;
use crate::model::{
    Binding, BodySelector, BoundField, HttpVerb, Idempotency, Method, Service, Streaming,
};
use crate::template::{PathTemplate, Segment};

/// Emits the service code and `QueryFields` impls of one package.
pub fn emit_services(cx: &PackageContext<'_>) -> TokenStream {
    let rt = {
        let runtime = cx.runtime;
        quote!(#runtime::__private)
    };
    let query = emit_query_impls(cx, &rt);
    let services: Vec<TokenStream> = cx
        .contract
        .package(cx.package)
        .map(|package| {
            package
                .services
                .iter()
                .map(|service| ServiceEmitter::new(cx, service, &rt).emit())
                .collect()
        })
        .unwrap_or_default();
    quote! {
        #query
        #(#services)*
    }
}

/// The Rust type of a message as prost-build names it from `package`'s module (`rt` is the
/// runtime's `__private` path, for the runtime's own `HttpBody`).
pub(super) fn message_type(rt: &TokenStream, package: &str, full_name: &str) -> TokenStream {
    let full_name = full_name.trim_start_matches('.');
    match full_name {
        super::HTTP_BODY => quote!(#rt::HttpBody),
        "google.protobuf.Empty" => quote!(()),
        "google.protobuf.DoubleValue" => quote!(f64),
        "google.protobuf.FloatValue" => quote!(f32),
        "google.protobuf.Int64Value" => quote!(i64),
        "google.protobuf.UInt64Value" => quote!(u64),
        "google.protobuf.Int32Value" => quote!(i32),
        "google.protobuf.UInt32Value" => quote!(u32),
        "google.protobuf.BoolValue" => quote!(bool),
        "google.protobuf.StringValue" => quote!(::prost::alloc::string::String),
        "google.protobuf.BytesValue" => quote!(::prost::alloc::vec::Vec<u8>),
        name if name.starts_with("google.protobuf.") => {
            let ident = naming::ident(name.rsplit('.').next().unwrap_or(name));
            quote!(::prost_types::#ident)
        }
        name => naming::relative_path(package, name),
    }
}

/// Well-known message types a single query or path value can fill (prost maps them to an
/// `Option` of a `FromParam` type).
fn is_leaf_message(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Timestamp"
            | "google.protobuf.Duration"
            | "google.protobuf.FieldMask"
            | "google.protobuf.DoubleValue"
            | "google.protobuf.FloatValue"
            | "google.protobuf.Int64Value"
            | "google.protobuf.UInt64Value"
            | "google.protobuf.Int32Value"
            | "google.protobuf.UInt32Value"
            | "google.protobuf.BoolValue"
            | "google.protobuf.StringValue"
            | "google.protobuf.BytesValue"
    )
}

/// `google.protobuf.Empty`, which prost maps to `()`.
fn is_empty_message(full_name: &str) -> bool {
    full_name.trim_start_matches('.') == "google.protobuf.Empty"
}

/// Whether prost stores the field as `Option<T>`.
fn is_optional(field: &FieldDescriptor) -> bool {
    !field.is_list()
        && !field.is_map()
        && field.supports_presence()
        && field.cardinality() != Cardinality::Required
}

/// Whether the field is a member of a real (not synthetic) oneof.
fn in_real_oneof(field: &FieldDescriptor) -> bool {
    field.containing_oneof().is_some_and(|o| !o.is_synthetic())
}

fn field_ident(field: &FieldDescriptor) -> Ident {
    naming::ident(&naming::snake(field.name()))
}

fn doc_lines(text: Option<&str>) -> TokenStream {
    let lines = text.into_iter().flat_map(str::lines).map(|line| {
        let line = format!(" {}", line.trim_end());
        quote!(#[doc = #line])
    });
    quote!(#(#lines)*)
}

/// `QueryFields` for every message of the package: each field settable from one query value.
fn emit_query_impls(cx: &PackageContext<'_>, rt: &TokenStream) -> TokenStream {
    let impls = cx
        .pool
        .all_messages()
        .filter(|m| m.package_name() == cx.package && !m.is_map_entry())
        .filter(|m| !super::is_http_body(m.full_name()))
        .map(|message| emit_query_impl(cx, &message, rt));
    quote!(#(#impls)*)
}

fn emit_query_impl(
    cx: &PackageContext<'_>,
    message: &MessageDescriptor,
    rt: &TokenStream,
) -> TokenStream {
    let ty = naming::relative_path(cx.package, message.full_name());
    let arms: Vec<TokenStream> = message
        .fields()
        .filter_map(|field| {
            let setter = query_setter(cx, &field, rt)?;
            let proto = field.name();
            let json = field.json_name();
            let pattern = if proto == json {
                quote!(#proto)
            } else {
                quote!(#proto | #json)
            };
            Some(quote!(#pattern => #setter,))
        })
        .collect();
    if arms.is_empty() {
        return quote! {
            impl #rt::rest::QueryFields for #ty {
                fn set_query_field(
                    &mut self,
                    __path: &[&str],
                    __value: &str,
                ) -> ::core::result::Result<(), #rt::rest::QueryError> {
                    let _ = (__path, __value);
                    ::core::result::Result::Err(#rt::rest::QueryError::UnknownField)
                }
            }
        };
    }
    quote! {
        impl #rt::rest::QueryFields for #ty {
            fn set_query_field(
                &mut self,
                __path: &[&str],
                __value: &str,
            ) -> ::core::result::Result<(), #rt::rest::QueryError> {
                let ::core::option::Option::Some((__name, __rest)) = __path.split_first() else {
                    return ::core::result::Result::Err(#rt::rest::QueryError::UnknownField);
                };
                match *__name {
                    #(#arms)*
                    _ => {
                        let _ = (__rest, __value);
                        ::core::result::Result::Err(#rt::rest::QueryError::UnknownField)
                    }
                }
            }
        }
    }
}

/// The call setting one field from a query value, or `None` when the field has no query form
/// (maps of messages, repeated messages, messages outside the contract tree).
fn query_setter(
    cx: &PackageContext<'_>,
    field: &FieldDescriptor,
    rt: &TokenStream,
) -> Option<TokenStream> {
    if field.is_map() {
        return map_setter(cx, field, rt);
    }
    if in_real_oneof(field) {
        return oneof_setter(cx, field, rt);
    }
    let name = field_ident(field);
    let target = quote!(&mut self.#name);
    let args = quote!(__rest, __value);
    Some(match field.kind() {
        Kind::Message(m) => {
            if field.is_list() {
                return None;
            }
            if is_leaf_message(m.full_name()) {
                quote!(#rt::rest::set_optional(#target, #args))
            } else if is_json_text_message(m.full_name()) {
                let codec = field_codec(field, cx.package);
                quote!(#rt::rest::set_json::<#codec>(#target, #args))
            } else if m.full_name().starts_with("google.protobuf.")
                || cx.contract.package(m.package_name()).is_none()
            {
                return None;
            } else {
                quote!(#rt::rest::descend(#target, #args))
            }
        }
        Kind::Enum(e) => {
            if e.full_name().starts_with("google.protobuf.") {
                return None;
            }
            let path = naming::relative_path(cx.package, e.full_name());
            let from_name = quote!(#path::from_str_name);
            if field.is_list() {
                quote!(#rt::rest::push_enum(#target, #args, #from_name))
            } else if is_optional(field) {
                quote!(#rt::rest::set_optional_enum(#target, #args, #from_name))
            } else {
                quote!(#rt::rest::set_enum(#target, #args, #from_name))
            }
        }
        _ => {
            if field.is_list() {
                quote!(#rt::rest::push(#target, #args))
            } else if is_optional(field) {
                quote!(#rt::rest::set_optional(#target, #args))
            } else {
                quote!(#rt::rest::set(#target, #args))
            }
        }
    })
}

/// `google.protobuf.Struct`, `Value` and `ListValue`: a query value is their JSON text.
fn is_json_text_message(full_name: &str) -> bool {
    matches!(
        full_name,
        "google.protobuf.Struct" | "google.protobuf.Value" | "google.protobuf.ListValue"
    )
}

/// `m[key]=v` (or `m.key=v`) for a map of scalars or enums.
fn map_setter(
    cx: &PackageContext<'_>,
    field: &FieldDescriptor,
    rt: &TokenStream,
) -> Option<TokenStream> {
    let Kind::Message(entry) = field.kind() else {
        return None;
    };
    let name = field_ident(field);
    let target = quote!(&mut self.#name);
    let args = quote!(__rest, __value);
    match entry.map_entry_value_field().kind() {
        Kind::Message(_) => None,
        Kind::Enum(e) if e.full_name().starts_with("google.protobuf.") => None,
        Kind::Enum(e) => {
            let path = naming::relative_path(cx.package, e.full_name());
            Some(quote!(#rt::rest::insert_enum(#target, #args, #path::from_str_name)))
        }
        _ => Some(quote!(#rt::rest::insert(#target, #args))),
    }
}

/// A member of a oneof: setting it chooses it.
fn oneof_setter(
    cx: &PackageContext<'_>,
    field: &FieldDescriptor,
    rt: &TokenStream,
) -> Option<TokenStream> {
    let oneof = field.containing_oneof()?;
    let message = oneof.parent_message();
    let oneof_path = naming::relative_path(
        cx.package,
        &format!("{}.{}", message.full_name(), oneof.name()),
    );
    let variant = naming::ident(&naming::upper_camel(field.name()));
    let variant = quote!(#oneof_path::#variant);
    let name = naming::ident(&naming::snake(oneof.name()));
    let target = quote!(&mut self.#name);
    let args = quote!(__rest, __value);
    Some(match field.kind() {
        Kind::Message(m) if is_leaf_message(m.full_name()) => {
            quote!(#rt::rest::set_oneof(#target, #args, #variant))
        }
        Kind::Message(m)
            if m.full_name().starts_with("google.protobuf.")
                || cx.contract.package(m.package_name()).is_none() =>
        {
            return None;
        }
        Kind::Message(_) => quote! {
            #rt::rest::descend_oneof(
                #target,
                #args,
                |__choice| match __choice {
                    #variant(__inner) => ::core::option::Option::Some(__inner),
                    #[allow(unreachable_patterns)]
                    _ => ::core::option::Option::None,
                },
                #variant,
            )
        },
        Kind::Enum(e) if e.full_name().starts_with("google.protobuf.") => return None,
        Kind::Enum(e) => {
            let path = naming::relative_path(cx.package, e.full_name());
            quote!(#rt::rest::set_oneof_enum(#target, #args, #path::from_str_name, #variant))
        }
        _ => quote!(#rt::rest::set_oneof(#target, #args, #variant)),
    })
}

/// Emits everything for one service.
struct ServiceEmitter<'a> {
    cx: &'a PackageContext<'a>,
    service: &'a Service,
    rt: &'a TokenStream,
    /// `LIBRARY` in `LIBRARY_METHODS`.
    shout: String,
}

impl<'a> ServiceEmitter<'a> {
    fn new(cx: &'a PackageContext<'a>, service: &'a Service, rt: &'a TokenStream) -> Self {
        Self {
            cx,
            service,
            rt,
            shout: service.name.to_shouty_snake_case(),
        }
    }

    fn served(&self) -> impl Iterator<Item = (usize, &'a Method)> {
        self.service.methods.iter().enumerate()
    }

    fn trait_ident(&self) -> Ident {
        naming::ident(&naming::upper_camel(&self.service.name))
    }

    fn methods_const(&self) -> Ident {
        format_ident!("{}_METHODS", self.shout)
    }

    fn routes_static(&self) -> Ident {
        format_ident!("{}_ROUTES", self.shout)
    }

    fn name_const(&self) -> Ident {
        format_ident!("{}_SERVICE_NAME", self.shout)
    }

    fn grpc_ident(&self) -> Ident {
        format_ident!("{}Grpc", self.trait_ident())
    }

    fn register_fn(&self) -> Ident {
        format_ident!("{}", register_fn_name(&self.service.name))
    }

    fn input(&self, method: &Method) -> TokenStream {
        message_type(self.rt, self.cx.package, &method.input_type)
    }

    fn output(&self, method: &Method) -> TokenStream {
        message_type(self.rt, self.cx.package, &method.output_type)
    }

    fn handler_input(&self, method: &Method) -> TokenStream {
        let rt = self.rt;
        let input = self.input(method);
        if method.streaming.streams_requests() {
            quote!(#rt::RequestStream<#input>)
        } else {
            input
        }
    }

    fn handler_output(&self, method: &Method) -> TokenStream {
        let rt = self.rt;
        let output = self.output(method);
        if method.streaming.streams_responses() {
            quote!(#rt::ServerStream<#output>)
        } else {
            output
        }
    }

    fn emit(&self) -> TokenStream {
        let items = [
            self.emit_trait(),
            self.emit_tables(),
            self.emit_grpc(),
            self.emit_rest_builders(),
            self.emit_registration(),
        ];
        quote!(#(#items)*)
    }

    fn emit_trait(&self) -> TokenStream {
        let rt = self.rt;
        let name = self.trait_ident();
        let full_name = &self.service.full_name;
        let service_doc = doc_lines(self.service.comments.leading.as_deref());
        let intro =
            format!(" Handler of `{full_name}`: implement it once, serve it over gRPC and REST.");
        let methods = self.served().map(|(_, method)| {
            let ident = naming::ident(&naming::snake(&method.name));
            let input = self.handler_input(method);
            let output = self.handler_output(method);
            let doc = match method.comments.leading.as_deref() {
                Some(text) => doc_lines(Some(text)),
                None => {
                    let line = format!(" `{}`.", method.name);
                    quote!(#[doc = #line])
                }
            };
            quote! {
                #doc
                fn #ident(
                    &self,
                    request: #rt::Request<#input>,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<#rt::Response<#output>, #rt::Status>,
                > + ::core::marker::Send;
            }
        });
        quote! {
            #[doc = #intro]
            #[doc = ""]
            #service_doc
            pub trait #name: ::core::marker::Send + ::core::marker::Sync + 'static {
                #(#methods)*

                /// The declared policy of `method` (its name in the contract); the service
                /// attribute macro overrides this.
                fn method_policy(
                    &self,
                    method: &str,
                ) -> ::core::option::Option<&'static #rt::MethodPolicy> {
                    let _ = method;
                    ::core::option::Option::None
                }
            }
        }
    }

    fn emit_tables(&self) -> TokenStream {
        let rt = self.rt;
        let full_name = &self.service.full_name;
        let name_const = self.name_const();
        let methods_const = self.methods_const();
        let routes_static = self.routes_static();
        let infos = self.service.methods.iter().map(|method| {
            let name = &method.name;
            let path = format!("/{full_name}/{name}");
            let kind = match method.streaming {
                Streaming::Unary => quote!(Unary),
                Streaming::Server => quote!(ServerStreaming),
                Streaming::Client => quote!(ClientStreaming),
                Streaming::Bidi => quote!(BidiStreaming),
            };
            let idempotency = match method.idempotency {
                Idempotency::Unknown => quote!(Unknown),
                Idempotency::Idempotent => quote!(Idempotent),
                Idempotency::NoSideEffects => quote!(NoSideEffects),
            };
            quote! {
                #rt::MethodInfo {
                    service: #full_name,
                    name: #name,
                    path: #path,
                    kind: #rt::MethodKind::#kind,
                    idempotency: #rt::Idempotency::#idempotency,
                }
            }
        });
        let methods_ref = &methods_const;
        let routes = self.served().flat_map(|(index, method)| {
            let methods_const = methods_ref;
            let index = Literal::usize_unsuffixed(index);
            let input = self.input_descriptor(method);
            let output = self.output_descriptor(method);
            method.bindings.iter().map(move |binding| {
                let verb = match &binding.verb {
                    HttpVerb::Get => quote!(Get),
                    HttpVerb::Put => quote!(Put),
                    HttpVerb::Post => quote!(Post),
                    HttpVerb::Delete => quote!(Delete),
                    HttpVerb::Patch => quote!(Patch),
                    HttpVerb::Custom(name) => quote!(Custom(#name)),
                };
                let template = template_tokens(rt, &binding.template);
                let body = match &binding.body {
                    BodySelector::None => quote!(None),
                    BodySelector::All => quote!(Whole),
                    BodySelector::Field(field) => {
                        let name = field.path.to_string();
                        quote!(Field(#name))
                    }
                };
                let raw_request = super::raw_request(input.as_ref(), method, binding);
                let raw_response = super::raw_response(output.as_ref(), method, binding);
                let response_body = match &binding.response_body {
                    Some(field) => {
                        let name = field.path.to_string();
                        quote!(::core::option::Option::Some(#name))
                    }
                    None => quote!(::core::option::Option::None),
                };
                quote! {
                    #rt::rest::RouteSpec {
                        method: #rt::rest::HttpMethod::#verb,
                        template: #template,
                        body: #rt::rest::BodySelector::#body,
                        response_body: #response_body,
                        raw_request: #raw_request,
                        raw_response: #raw_response,
                        rpc: &#methods_const[#index],
                    }
                }
            })
        });
        let name_doc = format!(" The fully qualified name of `{full_name}`.");
        let methods_doc = format!(" The methods of `{full_name}`, in contract order.");
        let routes_doc =
            format!(" The REST bindings of `{full_name}` (additional bindings included).");
        quote! {
            #[doc = #name_doc]
            pub const #name_const: &str = #full_name;

            #[doc = #methods_doc]
            pub static #methods_const: &[#rt::MethodInfo] = &[#(#infos),*];

            #[doc = #routes_doc]
            pub static #routes_static: &[#rt::rest::RouteSpec] = &[#(#routes),*];
        }
    }

    fn emit_grpc(&self) -> TokenStream {
        let rt = self.rt;
        let trait_ident = self.trait_ident();
        let grpc = self.grpc_ident();
        let full_name = &self.service.full_name;
        let methods_const = self.methods_const();
        let doc =
            format!(" The tonic service of `{full_name}`, calling a [`{trait_ident}`] handler.");
        let arms = self.served().map(|(index, method)| {
            let path = format!("/{full_name}/{}", method.name);
            let name = &method.name;
            let ident = naming::ident(&naming::snake(&method.name));
            let index = Literal::usize_unsuffixed(index);
            let helper = shape_helper(method.streaming);
            quote! {
                #path => {
                    let policy = inner.method_policy(#name);
                    #rt::grpc::#helper(request, &#methods_const[#index], policy, move |request| async move {
                        inner.#ident(request).await
                    })
                }
            }
        });
        quote! {
            #[doc = #doc]
            pub struct #grpc<T> {
                inner: #rt::Arc<T>,
            }

            impl<T> #grpc<T> {
                /// Wraps a handler.
                pub fn new(inner: #rt::Arc<T>) -> Self {
                    Self { inner }
                }
            }

            impl<T> ::core::clone::Clone for #grpc<T> {
                fn clone(&self) -> Self {
                    Self {
                        inner: #rt::Arc::clone(&self.inner),
                    }
                }
            }

            impl<T: #trait_ident> #rt::grpc::Service<#rt::http::Request<#rt::grpc::Body>> for #grpc<T> {
                type Response = #rt::http::Response<#rt::grpc::Body>;
                type Error = #rt::Infallible;
                type Future = #rt::grpc::GrpcFuture;

                fn poll_ready(
                    &mut self,
                    _cx: &mut #rt::TaskContext<'_>,
                ) -> #rt::Poll<::core::result::Result<(), Self::Error>> {
                    #rt::Poll::Ready(::core::result::Result::Ok(()))
                }

                fn call(&mut self, request: #rt::http::Request<#rt::grpc::Body>) -> Self::Future {
                    let inner = #rt::Arc::clone(&self.inner);
                    match request.uri().path() {
                        #(#arms)*
                        path => #rt::grpc::unimplemented(path),
                    }
                }
            }

            impl<T> #rt::grpc::NamedService for #grpc<T> {
                const NAME: &'static str = #full_name;
            }
        }
    }

    fn builder_ident(&self, method: &Method, binding_index: usize) -> Ident {
        format_ident!(
            "__{}_{}_rest_{}",
            naming::snake(&self.service.name).trim_start_matches("r#"),
            naming::snake(&method.name).trim_start_matches("r#"),
            binding_index
        )
    }

    fn input_descriptor(&self, method: &Method) -> Option<MessageDescriptor> {
        self.cx
            .pool
            .get_message_by_name(method.input_type.trim_start_matches('.'))
    }

    fn output_descriptor(&self, method: &Method) -> Option<MessageDescriptor> {
        self.cx
            .pool
            .get_message_by_name(method.output_type.trim_start_matches('.'))
    }

    fn emit_rest_builders(&self) -> TokenStream {
        let builders = self.served().flat_map(|(_, method)| {
            method
                .bindings
                .iter()
                .enumerate()
                .map(move |(i, binding)| self.emit_rest_builder(method, i, binding))
        });
        quote!(#(#builders)*)
    }

    /// The function building a request message from a REST call: body, then query, then path.
    fn emit_rest_builder(&self, method: &Method, index: usize, binding: &Binding) -> TokenStream {
        let rt = self.rt;
        let ident = self.builder_ident(method, index);
        let input = self.input(method);
        let descriptor = self.input_descriptor(method);
        let package = self.cx.package;
        if is_empty_message(&method.input_type) {
            // prost's `()`: nothing to read from the body, the query or the path.
            return quote! {
                fn #ident(
                    call: &#rt::rest::RestCall,
                ) -> ::core::result::Result<(), #rt::Status> {
                    let _ = call;
                    ::core::result::Result::Ok(())
                }
            };
        }
        let raw_body = super::raw_request(descriptor.as_ref(), method, binding);
        if raw_body && binding.body == BodySelector::All {
            // The request is the body itself, raw.
            return quote! {
                fn #ident(
                    call: &#rt::rest::RestCall,
                ) -> ::core::result::Result<#input, #rt::Status> {
                    ::core::result::Result::Ok(call.http_body())
                }
            };
        }
        let (start, excluded) = match &binding.body {
            // Without path variables nothing changes the decoded body afterwards.
            BodySelector::All if binding.path_fields.is_empty() => {
                (quote!(let message: #input = call.body_message()?;), None)
            }
            BodySelector::All => (
                quote!(let mut message: #input = call.body_message()?;),
                None,
            ),
            BodySelector::None => (
                quote!(let mut message = <#input as ::core::default::Default>::default();),
                Some(Vec::new()),
            ),
            BodySelector::Field(bound) => {
                let leaf = bound.leaf();
                let field = descriptor
                    .as_ref()
                    .and_then(|d| d.get_field_by_name(&leaf.name));
                let assign = match field {
                    Some(field) if raw_body => {
                        // An HttpBody field is the body itself, raw.
                        let name = field_ident(&field);
                        quote! {
                            let mut message = #input {
                                #name: ::core::option::Option::Some(call.http_body()),
                                ..::core::default::Default::default()
                            };
                        }
                    }
                    Some(field) if !in_real_oneof(&field) => {
                        let name = field_ident(&field);
                        let codec = field_codec(&field, package);
                        let proto = field.name().to_owned();
                        let read = quote!(call.body_field_as::<#codec>(#proto)?);
                        let value = if is_optional(&field) {
                            read
                        } else {
                            quote!(#read.unwrap_or_default())
                        };
                        quote! {
                            let mut message = #input {
                                #name: #value,
                                ..::core::default::Default::default()
                            };
                        }
                    }
                    _ => {
                        let text = format!("body field `{}` cannot be bound", bound.path);
                        quote! {
                            ::core::compile_error!(#text);
                            let mut message = <#input as ::core::default::Default>::default();
                        }
                    }
                };
                (
                    assign,
                    Some(vec![leaf.name.clone(), leaf.json_name.clone()]),
                )
            }
        };
        let query = excluded.map(|mut names| {
            names.dedup();
            quote!(call.apply_query(&mut message, &[#(#names),*])?;)
        });
        let path = binding
            .path_fields
            .iter()
            .enumerate()
            .map(|(i, bound)| self.path_assignment(descriptor.as_ref(), i, bound));
        let mask = self.implied_mask(descriptor.as_ref(), binding);
        quote! {
            fn #ident(
                call: &#rt::rest::RestCall,
            ) -> ::core::result::Result<#input, #rt::Status> {
                #start
                #query
                #(#path)*
                #mask
                ::core::result::Result::Ok(message)
            }
        }
    }

    /// For a PATCH whose body is a message field beside a `google.protobuf.FieldMask` field:
    /// when the client sends no mask, the mask the body's JSON keys imply, so a partial update
    /// leaves the fields it does not mention alone.
    fn implied_mask(&self, input: Option<&MessageDescriptor>, binding: &Binding) -> TokenStream {
        let (HttpVerb::Patch, BodySelector::Field(bound), Some(input)) =
            (&binding.verb, &binding.body, input)
        else {
            return quote!();
        };
        let Some(body) = input.get_field_by_name(&bound.leaf().name) else {
            return quote!();
        };
        let Kind::Message(body_type) = body.kind() else {
            return quote!();
        };
        if body.is_list() || body.is_map() || body_type.full_name().starts_with("google.protobuf.")
        {
            return quote!();
        }
        let mask = input.fields().find(|field| {
            !field.is_list()
                && !in_real_oneof(field)
                && matches!(field.kind(), Kind::Message(m) if m.full_name() == "google.protobuf.FieldMask")
        });
        let Some(mask) = mask else {
            return quote!();
        };
        let name = field_ident(&mask);
        let descriptor = descriptor_path(self.cx.package);
        let body_type = body_type.full_name();
        quote! {
            if message.#name.as_ref().is_none_or(|mask| mask.paths.is_empty()) {
                message.#name = call.implied_mask(#descriptor, #body_type)?;
            }
        }
    }

    /// `message.a.get_or_insert_with(Default::default).b = call.path_var(i, "a.b")?;`
    fn path_assignment(
        &self,
        root: Option<&MessageDescriptor>,
        index: usize,
        bound: &BoundField,
    ) -> TokenStream {
        let index = Literal::usize_unsuffixed(index);
        let path_text = bound.path.to_string();
        let mut message = root.cloned();
        let mut target = quote!(message);
        let steps = bound.fields.len();
        for (step, info) in bound.fields.iter().enumerate() {
            let Some(field) = message
                .as_ref()
                .and_then(|m| m.get_field_by_name(&info.name))
            else {
                let text = format!("path field `{path_text}` cannot be bound");
                return quote!(::core::compile_error!(#text););
            };
            if in_real_oneof(&field) || field.is_list() || field.is_map() {
                let text =
                    format!("path field `{path_text}` cannot be bound: repeated, map or oneof");
                return quote!(::core::compile_error!(#text););
            }
            let name = field_ident(&field);
            if step + 1 < steps {
                let Kind::Message(next) = field.kind() else {
                    let text = format!("path field `{path_text}` walks through a non-message");
                    return quote!(::core::compile_error!(#text););
                };
                target =
                    quote!(#target.#name.get_or_insert_with(::core::default::Default::default));
                message = Some(next);
                continue;
            }
            let value = match field.kind() {
                Kind::Enum(e) => {
                    let path = naming::relative_path(self.cx.package, e.full_name());
                    quote!(call.path_enum(#index, #path_text, #path::from_str_name)?)
                }
                Kind::Message(m) if !is_leaf_message(m.full_name()) => {
                    let text = format!("path field `{path_text}` is a message");
                    return quote!(::core::compile_error!(#text););
                }
                _ => quote!(call.path_var(#index, #path_text)?),
            };
            return if is_optional(&field) {
                quote!(#target.#name = ::core::option::Option::Some(#value);)
            } else {
                quote!(#target.#name = #value;)
            };
        }
        quote!()
    }

    /// The closure picking what a binding sends: the whole response or its `response_body`.
    fn projection(&self, method: &Method, binding: &Binding) -> TokenStream {
        let rt = self.rt;
        let output = self.output(method);
        let Some(bound) = &binding.response_body else {
            if is_empty_message(&method.output_type) {
                return quote!(|_message: ()| #rt::rest::EmptyObject);
            }
            return quote!(|message: #output| message);
        };
        let field = self
            .output_descriptor(method)
            .and_then(|d| d.get_field_by_name(&bound.leaf().name));
        match field {
            Some(field) if super::is_http_body_field(&field) => {
                // Sent raw, as a whole HttpBody response is.
                let name = field_ident(&field);
                quote!(|message: #output| message.#name.unwrap_or_default())
            }
            Some(field) if !in_real_oneof(&field) => {
                let name = field_ident(&field);
                let codec = field_codec(&field, self.cx.package);
                if is_optional(&field) {
                    quote!(|message: #output| #rt::rest::EncodedOption::<#codec>(message.#name))
                } else {
                    quote!(|message: #output| #rt::rest::Encoded::<#codec>(message.#name))
                }
            }
            _ => {
                let text = format!("response_body `{}` cannot be sent", bound.path);
                quote!(::core::compile_error!(#text))
            }
        }
    }

    fn emit_registration(&self) -> TokenStream {
        let rt = self.rt;
        let trait_ident = self.trait_ident();
        let grpc = self.grpc_ident();
        let name_const = self.name_const();
        let methods_const = self.methods_const();
        let routes_static = self.routes_static();
        let register = self.register_fn();
        let full_name = &self.service.full_name;
        let descriptor = descriptor_path(self.cx.package);
        let mut route_index = 0usize;
        let mut routes = Vec::new();
        for (_, method) in self.served() {
            let ident = naming::ident(&naming::snake(&method.name));
            let name = &method.name;
            let helper = shape_helper(method.streaming);
            for (i, binding) in method.bindings.iter().enumerate() {
                let builder = self.builder_ident(method, i);
                let projection = self.projection(method, binding);
                let index = Literal::usize_unsuffixed(route_index);
                route_index += 1;
                routes.push(quote! {
                    .with_route(
                        &#routes_static[#index],
                        #rt::rest::#helper(
                            #rt::Arc::clone(&handler),
                            handler.method_policy(#name),
                            #builder,
                            |handler: #rt::Arc<T>, request| async move { handler.#ident(request).await },
                            #projection,
                        ),
                    )
                });
            }
        }
        let doc = format!(
            " Everything a server needs to serve `{full_name}` with `handler` on both protocols."
        );
        quote! {
            #[doc = #doc]
            pub fn #register<T: #trait_ident>(handler: #rt::Arc<T>) -> #rt::ServiceRegistration {
                #rt::ServiceRegistration::new(#name_const, #methods_const, #descriptor)
                    .with_grpc(#grpc::new(#rt::Arc::clone(&handler)))
                    #(#routes)*
            }
        }
    }
}

/// The runtime helper (gRPC and REST alike) serving a method of this shape.
fn shape_helper(streaming: Streaming) -> TokenStream {
    match streaming {
        Streaming::Unary => quote!(unary),
        Streaming::Server => quote!(server_streaming),
        Streaming::Client => quote!(client_streaming),
        Streaming::Bidi => quote!(bidi_streaming),
    }
}

/// The registration function of a service: `Library` → `library_service`, `QueueService` →
/// `queue_service` (no doubled suffix).
fn register_fn_name(service: &str) -> String {
    let snake = naming::snake(service);
    let snake = snake.trim_start_matches("r#");
    if snake.ends_with("service") {
        snake.to_owned()
    } else {
        format!("{snake}_service")
    }
}

/// The path from a package's module to the generated root's `FILE_DESCRIPTOR_SET`.
fn descriptor_path(package: &str) -> TokenStream {
    let depth = prost_build::Module::from_protobuf_package_name(package)
        .parts()
        .count();
    let supers = (0..depth).map(|_| quote!(super));
    quote!(#(#supers::)* FILE_DESCRIPTOR_SET)
}

fn template_tokens(rt: &TokenStream, template: &PathTemplate) -> TokenStream {
    fn segments(rt: &TokenStream, list: &[Segment]) -> TokenStream {
        let items = list.iter().map(|segment| match segment {
            Segment::Literal(text) => quote!(#rt::rest::Seg::Lit(#text)),
            Segment::Wildcard => quote!(#rt::rest::Seg::Star),
            Segment::DeepWildcard => quote!(#rt::rest::Seg::DoubleStar),
            Segment::Variable(variable) => {
                let field = variable.field_path.to_string();
                // `{a}` is `{a=*}`: both spell the single-segment pattern as no segments.
                let pattern = if matches!(variable.pattern.as_slice(), [Segment::Wildcard]) {
                    quote!(&[])
                } else {
                    segments(rt, &variable.pattern)
                };
                quote!(#rt::rest::Seg::Var { field: #field, segments: #pattern })
            }
        });
        quote!(&[#(#items),*])
    }
    let body = segments(rt, &template.segments);
    let verb = match &template.verb {
        Some(verb) => quote!(::core::option::Option::Some(#verb)),
        None => quote!(::core::option::Option::None),
    };
    quote!(#rt::rest::PathTemplate { segments: #body, verb: #verb })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_functions_read_naturally() {
        assert_eq!(register_fn_name("Library"), "library_service");
        assert_eq!(register_fn_name("QueueService"), "queue_service");
        assert_eq!(register_fn_name("WebSocketService"), "web_socket_service");
    }

    #[test]
    fn descriptor_path_climbs_to_the_generated_root() {
        let path = |p| descriptor_path(p).to_string().replace(' ', "");
        assert_eq!(path("gateway.v1"), "super::super::FILE_DESCRIPTOR_SET");
        assert_eq!(path(""), "FILE_DESCRIPTOR_SET");
    }

    #[test]
    fn empty_and_wrapper_types_follow_prost() {
        let rt = quote!(::rt::__private);
        let ty = |name| message_type(&rt, "a.v1", name).to_string().replace(' ', "");
        assert_eq!(ty("google.protobuf.Empty"), "()");
        assert_eq!(ty("google.protobuf.Timestamp"), "::prost_types::Timestamp");
        assert_eq!(ty(".a.v1.Book"), "Book");
        assert_eq!(ty("b.v1.Book"), "super::super::b::v1::Book");
        assert_eq!(ty(".google.api.HttpBody"), "::rt::__private::HttpBody");
    }
}
