//! Checking a handler impl against its service: every RPC implemented, nothing else, and each
//! signature shaped as the generated trait declares it. Every problem is recorded, each at the
//! tokens to change, with the fix in the message.

use quote::ToTokens;

use super::contract::{MessageName, Rpc, ServiceContract, Streaming};
use super::parse::{HandlerImpl, HandlerMethod};
use crate::errors::Errors;
use crate::names::{closest, method_name, method_name_in_source};

/// The trait method the macro writes itself.
pub(crate) const POLICY_METHOD: &str = "method_policy";

/// A handler method and the RPC it implements.
pub(crate) struct Binding<'a> {
    /// The RPC.
    pub(crate) rpc: &'a Rpc,
    /// The method implementing it.
    pub(crate) method: &'a HandlerMethod,
}

/// Checks `handler` against `service`; returns the methods that implement an RPC, so the
/// expansion can go ahead even when some signatures are wrong.
pub(crate) fn check<'a>(
    handler: &'a HandlerImpl,
    service: &'a ServiceContract,
    errors: &mut Errors,
) -> Vec<Binding<'a>> {
    let mut bindings = Vec::new();
    for method in &handler.methods {
        let ident = &method.sig.ident;
        let name = ident_name(ident);
        if name == POLICY_METHOD {
            errors.spanned(
                ident,
                "`method_policy` is written by `#[service]`: remove it and declare each method's policy \
                 with `#[tacos(...)]`",
            );
            continue;
        }
        match service
            .rpcs
            .iter()
            .find(|rpc| method_name(&rpc.name) == name)
        {
            Some(rpc) => {
                check_signature(method, rpc, errors);
                bindings.push(Binding { rpc, method });
            }
            None => {
                let candidates: Vec<String> = service
                    .rpcs
                    .iter()
                    .map(|rpc| method_name_in_source(&rpc.name))
                    .collect();
                let hint = match closest(&name, candidates.iter().map(String::as_str)) {
                    Some(near) => format!("did you mean `{near}`?"),
                    None if candidates.is_empty() => "it has no RPCs to implement".to_owned(),
                    None => format!("its methods are {}", backticked(&candidates)),
                };
                errors.spanned(
                    ident,
                    format!("`{name}` is not an RPC of `{}`: {hint}", service.full_name),
                );
            }
        }
    }
    for rpc in &service.rpcs {
        if !bindings.iter().any(|b| std::ptr::eq(b.rpc, rpc)) {
            errors.spanned(
                &handler.trait_path,
                format!(
                    "missing handler for RPC `{}`: add `{}`",
                    rpc.name,
                    expected_signature(rpc),
                ),
            );
        }
    }
    bindings
}

/// `JoinQueueRequest`, or `RequestStream<Chunk>` for a streaming request.
fn request_shape(rpc: &Rpc) -> String {
    let message = rpc.input.rust_path.clone();
    if rpc.streaming.streams_requests() {
        format!("RequestStream<{message}>")
    } else {
        message
    }
}

/// `JoinQueueResponse`, or `ServerStream<Update>` for a streaming response.
fn response_shape(rpc: &Rpc) -> String {
    let message = rpc.output.rust_path.clone();
    if rpc.streaming.streams_responses() {
        format!("ServerStream<{message}>")
    } else {
        message
    }
}

/// How the contract calls a shape, in messages.
fn shape_name(streaming: Streaming) -> &'static str {
    match streaming {
        Streaming::Unary => "unary",
        Streaming::Server => "server-streaming",
        Streaming::Client => "client-streaming",
        Streaming::Bidi => "bidirectional-streaming",
    }
}

fn expected_signature(rpc: &Rpc) -> String {
    format!(
        "async fn {}(&self, req: Request<{}>) -> Result<Response<{}>, Status>",
        method_name_in_source(&rpc.name),
        request_shape(rpc),
        response_shape(rpc),
    )
}

fn check_signature(method: &HandlerMethod, rpc: &Rpc, errors: &mut Errors) {
    let sig = &method.sig;
    let expected = expected_signature(rpc);
    let output = match (&sig.asyncness, &sig.output) {
        (Some(_), syn::ReturnType::Type(_, ty)) => Some(&**ty),
        (Some(_), syn::ReturnType::Default) => {
            errors.spanned(
                &sig.ident,
                format!("`{}` returns nothing: write `{expected}`", sig.ident),
            );
            None
        }
        // Implementing the trait's `-> impl Future` form directly is fine too.
        (None, syn::ReturnType::Type(_, ty)) if future_output(ty).is_some() => future_output(ty),
        (None, _) => {
            errors.spanned(
                sig.fn_token,
                format!("`{}` must be an `async fn`: write `{expected}`", sig.ident),
            );
            None
        }
    };
    if !sig.generics.params.is_empty() {
        errors.spanned(
            &sig.generics,
            format!("handler methods take no generic parameters: write `{expected}`"),
        );
    }
    let mut inputs = sig.inputs.iter();
    match inputs.next() {
        Some(syn::FnArg::Receiver(receiver))
            if receiver.reference.is_some()
                && receiver.mutability.is_none()
                && receiver.colon_token.is_none() => {}
        Some(other) => errors.spanned(other, format!("handlers take `&self`: write `{expected}`")),
        None => errors.spanned(
            &sig.ident,
            format!("`{}` takes no `&self`: write `{expected}`", sig.ident),
        ),
    }
    let request = inputs.next();
    match request {
        Some(syn::FnArg::Typed(arg)) => check_request(&arg.ty, rpc, &expected, errors),
        Some(other) => errors.spanned(
            other,
            format!("expected the request argument: write `{expected}`"),
        ),
        None => errors.spanned(
            &sig.ident,
            format!(
                "`{}` takes no request argument: write `{expected}`",
                sig.ident
            ),
        ),
    }
    for extra in inputs {
        errors.spanned(
            extra,
            format!("handlers take only `&self` and the request: write `{expected}`"),
        );
    }
    if let Some(output) = output {
        check_response(output, rpc, &expected, errors);
    }
}

fn check_request(ty: &syn::Type, rpc: &Rpc, expected: &str, errors: &mut Errors) {
    let shape = request_shape(rpc);
    let Some(inner) = single_argument(ty, "Request") else {
        errors.spanned(
            ty,
            format!(
                "expected `Request<{shape}>`, found `{}`: write `{expected}`",
                type_text(ty)
            ),
        );
        return;
    };
    let what = format!("the request of `{}`", rpc.name);
    let streamed = rpc.streaming.streams_requests();
    match (streamed, single_argument(inner, "RequestStream")) {
        (true, Some(item)) => check_message(
            item,
            &rpc.input,
            &format!("the request stream items of `{}`", rpc.name),
            errors,
        ),
        (true, None) => errors.spanned(
            inner,
            format!(
                "`{}` is {}: expected `{shape}`, found `{}`",
                rpc.name,
                shape_name(rpc.streaming),
                type_text(inner)
            ),
        ),
        (false, Some(_)) => errors.spanned(
            inner,
            format!(
                "`{}` is {}: expected `{shape}`, found `{}` (only client-streaming and bidirectional RPCs take a `RequestStream`)",
                rpc.name,
                shape_name(rpc.streaming),
                type_text(inner)
            ),
        ),
        (false, None) => check_message(inner, &rpc.input, &what, errors),
    }
}

fn check_response(ty: &syn::Type, rpc: &Rpc, expected: &str, errors: &mut Errors) {
    let shape = response_shape(rpc);
    let result_args = last_segment_args(ty, "Result");
    // `Result<Response<T>, Status>`, or a `Result<Response<T>>` alias that fixes the error type.
    let Some(response) = result_args
        .as_deref()
        .and_then(<[&syn::Type]>::first)
        .copied()
    else {
        errors.spanned(
            ty,
            format!(
                "expected `Result<Response<{shape}>, Status>`, found `{}`: write `{expected}`",
                type_text(ty)
            ),
        );
        return;
    };
    let Some(inner) = single_argument(response, "Response") else {
        errors.spanned(
            response,
            format!(
                "expected `Response<{shape}>`, found `{}`",
                type_text(response)
            ),
        );
        return;
    };
    let streamed = rpc.streaming.streams_responses();
    match (streamed, single_argument(inner, "ServerStream")) {
        (true, Some(item)) => check_message(
            item,
            &rpc.output,
            &format!("the stream items of `{}`", rpc.name),
            errors,
        ),
        (true, None) => errors.spanned(
            inner,
            format!(
                "`{}` is {}: expected `{shape}`, found `{}`",
                rpc.name,
                shape_name(rpc.streaming),
                type_text(inner)
            ),
        ),
        (false, Some(_)) => errors.spanned(
            inner,
            format!(
                "`{}` is {}: expected `{shape}`, found `{}` (only server-streaming and bidirectional RPCs answer with a `ServerStream`)",
                rpc.name,
                shape_name(rpc.streaming),
                type_text(inner)
            ),
        ),
        (false, None) => check_message(
            inner,
            &rpc.output,
            &format!("the response of `{}`", rpc.name),
            errors,
        ),
    }
}

/// Compares a message type by the Rust name prost gives it, so any path to it is fine.
fn check_message(ty: &syn::Type, wanted: &MessageName, what: &str, errors: &mut Errors) {
    let found = match ty {
        syn::Type::Tuple(tuple) if tuple.elems.is_empty() => Some("()".to_owned()),
        syn::Type::Path(path) if path.qself.is_none() => path
            .path
            .segments
            .last()
            .filter(|segment| segment.arguments.is_none())
            .map(|segment| ident_name(&segment.ident)),
        syn::Type::Group(group) => return check_message(&group.elem, wanted, what, errors),
        _ => None,
    };
    if found.as_deref() != Some(wanted.rust_name.as_str()) {
        errors.spanned(
            ty,
            format!(
                "{what} is `{}`, found `{}`",
                wanted.rust_path,
                type_text(ty)
            ),
        );
    }
}

/// `T` of `Name<T>` (any path ending in `Name`).
fn single_argument<'a>(ty: &'a syn::Type, name: &str) -> Option<&'a syn::Type> {
    match last_segment_args(ty, name)?.as_slice() {
        [only] => Some(only),
        _ => None,
    }
}

/// The type arguments of a path type whose last segment is `name`.
fn last_segment_args<'a>(ty: &'a syn::Type, name: &str) -> Option<Vec<&'a syn::Type>> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let segment = path.path.segments.last()?;
    if segment.ident != name {
        return None;
    }
    let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    Some(
        args.args
            .iter()
            .filter_map(|arg| match arg {
                syn::GenericArgument::Type(ty) => Some(ty),
                _ => None,
            })
            .collect(),
    )
}

/// `T` of `impl Future<Output = T> + ...`.
fn future_output(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::ImplTrait(bounds) = ty else {
        return None;
    };
    bounds.bounds.iter().find_map(|bound| {
        let syn::TypeParamBound::Trait(bound) = bound else {
            return None;
        };
        let segment = bound.path.segments.last()?;
        let syn::PathArguments::AngleBracketed(args) = &segment.arguments else {
            return None;
        };
        if segment.ident != "Future" {
            return None;
        }
        args.args.iter().find_map(|arg| match arg {
            syn::GenericArgument::AssocType(assoc) if assoc.ident == "Output" => Some(&assoc.ty),
            _ => None,
        })
    })
}

fn ident_name(ident: &syn::Ident) -> String {
    let name = ident.to_string();
    name.strip_prefix("r#").map(str::to_owned).unwrap_or(name)
}

/// A type as a person writes it (`pb::Foo<Bar>`, not `pb :: Foo < Bar >`).
fn type_text(ty: &syn::Type) -> String {
    let text = ty.to_token_stream().to_string();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == ' ' {
            let next = chars.peek().copied();
            let previous = out.chars().last();
            let glue = matches!(next, Some(':' | '<' | '>' | ',' | ')'))
                || matches!(previous, Some(':' | '<' | '(' | '&'));
            if glue {
                continue;
            }
        }
        out.push(c);
    }
    out
}

fn backticked(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    quoted.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_print_as_written() {
        let ty: syn::Type = syn::parse_quote!(Response<pb::ServerStream<pb::Update>>);
        assert_eq!(type_text(&ty), "Response<pb::ServerStream<pb::Update>>");
        let ty: syn::Type = syn::parse_quote!(Result<Response<(u8, String)>, Status>);
        assert_eq!(type_text(&ty), "Result<Response<(u8, String)>, Status>");
        let ty: syn::Type = syn::parse_quote!(&'static str);
        assert_eq!(type_text(&ty), "&'static str");
    }
}
