//! Macros that bind handler impls to Tacos contracts, and expand contracts in place.
//!
//! Use them through the runtime, as `#[tacos_runtime::service]` and `tacos_runtime::contract!`;
//! see [`service`] and [`contract`].
#![deny(missing_docs)]

mod contract;
mod errors;
mod names;
mod service;

use proc_macro::TokenStream;

/// Checks a handler impl against its contract and records its per-method policies.
///
/// ```ignore
/// #[tacos_runtime::service]
/// impl QueueService for Gateway {
///     #[tacos(public, timeout = "2s", rate = "join")]
///     async fn join_queue(&self, req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
///         // ...
///     }
///     #[tacos(roles("admin"), scopes("queue:read"), idempotent)]
///     async fn get_queue_stats(&self, req: Request<GetQueueStatsRequest>) -> Result<Response<GetQueueStatsResponse>, Status> {
///         // ...
///     }
/// }
/// ```
///
/// # The contract
///
/// The macro reads the encoded descriptor set that `cargo xtask generate` writes next to the
/// generated code (`descriptor.bin`). It finds it through `descriptors = "path"` in the attribute
/// (relative to the crate's manifest directory), else `descriptors = "path"` under
/// `[package.metadata.tacos]` in the crate's `Cargo.toml`, else the `TACOS_DESCRIPTORS`
/// environment variable. The service is `contract = "pkg.Service"` when given, else the one
/// service whose name is the trait's name. The crate is rebuilt when the descriptor set changes.
///
/// # Checks
///
/// Each of these is a compile error at the offending tokens, all reported at once: an RPC with
/// no method, a method that is no RPC (with the closest name suggested), a request type other
/// than the RPC's input message, a response type other than its output message (or
/// `ServerStream<Output>` for server-streaming RPCs), a method that is not `async fn (&self,
/// Request<_>)`, and malformed `#[tacos(...)]` attributes. Messages compare by the name prost
/// gives them, so `Request<pb::JoinQueueRequest>` and `Request<JoinQueueRequest>` are the same.
///
/// # Per-method policy
///
/// `#[tacos(...)]` on a method declares, in any combination: `public` (no authentication),
/// `roles("a", ...)` (one of them needed), `scopes("a", ...)` (all of them needed), `idempotent`,
/// `rate = "class"` and `timeout = "2s"` (units `ns`, `us`, `ms`, `s`, `m`, `h`; fractions
/// allowed). They become the impl's `method_policy`, which the runtime consults on every call by
/// the RPC's name (`JoinQueue`); the gRPC path (`/gateway.v1.QueueService/JoinQueue`) finds the
/// same policy.
///
/// # Arguments
///
/// `contract = "pkg.Service"`, `descriptors = "path"`, `root = "dir"` (compile the `.proto`
/// files under `dir` instead of reading a descriptor set: for contracts expanded by
/// [`contract!`], which writes none), and `crate = "path"` (where the runtime is, when not
/// `::tacos_runtime`).
#[proc_macro_attribute]
pub fn service(attr: TokenStream, item: TokenStream) -> TokenStream {
    let item = proc_macro2::TokenStream::from(item);
    match service::expand(attr.into(), item.clone()) {
        Ok(tokens) => tokens.into(),
        Err(error) => {
            // Keep the item, so one wrong attribute does not bury the crate in follow-on errors.
            let mut tokens = error.to_compile_error();
            tokens.extend(item);
            tokens.into()
        }
    }
}

/// Expands `.proto` contracts in place at compile time: messages, proto3 JSON, service traits,
/// gRPC and REST routes, clients, the descriptor set and the OpenAPI document, exactly as
/// `cargo xtask generate` writes them (with no build script and no generated files).
///
/// ```ignore
/// tacos_runtime::contract!(root = "proto", files = ["greeter/v1/greeter.proto"]);
/// // also: rules = "http-rules.yaml", runtime = "::tacos_runtime", several roots as a list
/// ```
///
/// Paths are relative to the crate's `Cargo.toml`. With no `files`, every `.proto` file under
/// the roots is expanded. Protobuf packages become modules (`greeter.v1` → `greeter::v1`) in the
/// module where the macro is called, beside `FILE_DESCRIPTOR_SET` and `OPENAPI_JSON`. A missing
/// file, a syntax error or an invalid binding is a compile error at the macro's arguments, with
/// the file, line and problem; the crate rebuilds when a `.proto` file changes.
#[proc_macro]
pub fn contract(input: TokenStream) -> TokenStream {
    match contract::expand(input.into()) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}
