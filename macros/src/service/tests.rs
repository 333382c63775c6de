//! Expansion tests run without the compiler, against descriptor sets compiled from the
//! fixtures in `tests/fixtures/proto` at test time.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proc_macro2::TokenStream;
use prost::Message;
use quote::quote;

use super::expand_in;
use super::locate::Environment;

/// Compiles fixture files into an encoded descriptor set in a fresh temporary file.
fn fixture_set(files: &[&str]) -> PathBuf {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proto");
    let set = protox::compile(files, [&root]).expect("fixture protos compile");
    let dir = std::env::temp_dir().join(format!("tacos-macros-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("set-{}.bin", NEXT.fetch_add(1, Ordering::Relaxed)));
    std::fs::write(&path, set.encode_to_vec()).unwrap();
    path
}

fn shop_env() -> Environment {
    Environment {
        manifest_dir: None,
        descriptors_var: Some(fixture_set(&["shop/v1/queue.proto"]).display().to_string()),
    }
}

/// The output and the messages of its `compile_error!`s.
fn run(env: &Environment, attr: TokenStream, item: TokenStream) -> (syn::File, Vec<String>) {
    let output = expand_in(env, attr, item).expect("the item is an impl");
    let file: syn::File = syn::parse2(output).expect("the output is Rust items");
    let errors = file
        .items
        .iter()
        .filter_map(|item| match item {
            syn::Item::Macro(m) if m.mac.path.segments.last().unwrap().ident == "compile_error" => {
                Some(m.mac.parse_body::<syn::LitStr>().unwrap().value())
            }
            _ => None,
        })
        .collect();
    (file, errors)
}

/// The fixture's client-streaming and bidirectional handlers, correctly written.
fn request_stream_methods() -> TokenStream {
    quote! {
        async fn upload_positions(&self, req: Request<RequestStream<QueueUpdate>>) -> Result<Response<()>, Status> { todo!() }
        async fn exchange_positions(&self, req: Request<RequestStream<QueueUpdate>>) -> Result<Response<ServerStream<QueueUpdate>>, Status> { todo!() }
    }
}

fn errors_of(item: TokenStream) -> Vec<String> {
    run(&shop_env(), TokenStream::new(), item).1
}

fn the_impl(file: &syn::File) -> &syn::ItemImpl {
    file.items
        .iter()
        .find_map(|item| match item {
            syn::Item::Impl(i) => Some(i),
            _ => None,
        })
        .expect("the impl is kept")
}

fn correct_queue_impl() -> TokenStream {
    quote! {
        impl QueueService for Gateway {
            #[tacos(public, timeout = "2s", rate = "join")]
            async fn join_queue(&self, req: Request<pb::JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
                todo!()
            }
            async fn leave_queue(&self, req: Request<LeaveQueueRequest>) -> Result<Response<()>, Status> {
                todo!()
            }
            #[tacos(roles("admin", "ops"), scopes("queue:read"))]
            #[tacos(idempotent, timeout = "1.5ms")]
            async fn get_queue_stats(&self, req: Request<GetQueueStatsRequest>) -> Result<Response<get_queue_stats::Response>, Status> {
                todo!()
            }
        }
    }
}

#[test]
fn a_correct_impl_expands_without_errors() {
    let env = shop_env();
    let (file, errors) = run(&env, TokenStream::new(), correct_queue_impl());
    assert_eq!(errors, Vec::<String>::new());
    let item = the_impl(&file);
    // `#[tacos]` is gone, since it is no real attribute.
    for impl_item in &item.items {
        if let syn::ImplItem::Fn(f) = impl_item {
            assert!(f.attrs.iter().all(|a| !a.path().is_ident("tacos")));
        }
    }
    let policy = item
        .items
        .iter()
        .find_map(|i| match i {
            syn::ImplItem::Fn(f) if f.sig.ident == "method_policy" => Some(f),
            _ => None,
        })
        .expect("method_policy is written");
    let text = quote!(#policy).to_string().replace(' ', "");
    assert!(
        text.contains(
            r#""JoinQueue"|"/shop.v1.QueueService/JoinQueue"=>::core::option::Option::Some(&POLICIES[0usize])"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#""LeaveQueue"|"/shop.v1.QueueService/LeaveQueue"=>::core::option::Option::Some(&POLICIES[1usize])"#),
        "methods without attributes get the default policy: {text}"
    );
    assert!(text.contains(r#""GetQueueStats"|"/shop.v1.QueueService/GetQueueStats"=>::core::option::Option::Some(&POLICIES[2usize])"#), "{text}");
    assert!(
        text.contains(r#"public:false,roles:&[],scopes:&[],idempotent:false,rate_class:::core::option::Option::None,timeout:::core::option::Option::None"#),
        "{text}"
    );
    assert!(text.contains(r#"public:true,roles:&[],scopes:&[],idempotent:false,rate_class:::core::option::Option::Some("join"),timeout:::core::option::Option::Some(::core::time::Duration::new(2u64,0u32))"#), "{text}");
    assert!(text.contains(r#"public:false,roles:&["admin","ops"],scopes:&["queue:read"],idempotent:true,rate_class:::core::option::Option::None,timeout:::core::option::Option::Some(::core::time::Duration::new(0u64,1500000u32))"#), "{text}");
    // The descriptor set is an input of the crate.
    let path = env.descriptors_var.unwrap();
    let tracked = quote!(#file).to_string();
    assert!(
        tracked.contains(&format!("include_bytes ! ({path:?})")),
        "{tracked}"
    );
}

#[test]
fn an_impl_without_policies_protects_every_method() {
    let request_streams = request_stream_methods();
    let (file, errors) = run(
        &shop_env(),
        TokenStream::new(),
        quote! {
            impl UpdatesService for Gateway {
                #request_streams
                async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<ServerStream<QueueUpdate>>, Status> {
                    todo!()
                }
            }
        },
    );
    assert_eq!(errors, Vec::<String>::new());
    let item = the_impl(&file);
    // Three handlers and the written `method_policy`.
    assert_eq!(item.items.len(), 4);
    let text = quote!(#item).to_string().replace(' ', "");
    assert!(text.contains("public:false"), "{text}");
}

#[test]
fn every_problem_is_reported_at_once() {
    let errors = errors_of(quote! {
        impl QueueService for Gateway {
            #[tacos(public, timout = "2s")]
            async fn join_queu(&self, req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
                todo!()
            }
            async fn leave_queue(&self, req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status> {
                todo!()
            }
            #[tacos(timeout = "soon")]
            fn get_queue_stats(&self, req: Request<GetQueueStatsRequest>) -> Result<Response<get_queue_stats::Response>, Status> {
                todo!()
            }
        }
    });
    assert_eq!(
        errors,
        [
            "unknown `#[tacos]` key `timout`: did you mean `timeout`?",
            "timeout `soon` has an unknown unit `soon`: write a number and a unit (ns, us, ms, s, m, h), such as \"2s\" or \"250ms\"",
            "`join_queu` is not an RPC of `shop.v1.QueueService`: did you mean `join_queue`?",
            "the request of `LeaveQueue` is `LeaveQueueRequest`, found `JoinQueueRequest`",
            "the response of `LeaveQueue` is `()`, found `JoinQueueResponse`",
            "`get_queue_stats` must be an `async fn`: write `async fn get_queue_stats(&self, req: Request<GetQueueStatsRequest>) -> Result<Response<get_queue_stats::Response>, Status>`",
            "missing handler for RPC `JoinQueue`: add `async fn join_queue(&self, req: Request<JoinQueueRequest>) -> Result<Response<JoinQueueResponse>, Status>`",
        ]
    );
}

#[test]
fn streaming_shapes_are_checked() {
    let request_streams = request_stream_methods();
    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            #request_streams
            async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<QueueUpdate>, Status> {
                todo!()
            }
        }
    });
    assert_eq!(errors, ["`StreamUpdates` is server-streaming: expected `ServerStream<QueueUpdate>`, found `QueueUpdate`"]);

    let errors = errors_of(quote! {
        impl QueueService for Gateway {
            async fn join_queue(&self, req: Request<JoinQueueRequest>) -> Result<Response<ServerStream<JoinQueueResponse>>, Status> { todo!() }
            async fn leave_queue(&self, req: Request<LeaveQueueRequest>) -> Result<Response<()>, Status> { todo!() }
            async fn get_queue_stats(&self, req: Request<GetQueueStatsRequest>) -> Result<Response<get_queue_stats::Response>, Status> { todo!() }
        }
    });
    assert_eq!(
        errors,
        ["`JoinQueue` is unary: expected `JoinQueueResponse`, found `ServerStream<JoinQueueResponse>` (only server-streaming and bidirectional RPCs answer with a `ServerStream`)"]
    );

    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<ServerStream<JoinQueueResponse>>, Status> { todo!() }
            async fn upload_positions(&self, req: Request<QueueUpdate>) -> Result<Response<()>, Status> { todo!() }
            async fn exchange_positions(&self, req: Request<RequestStream<QueueUpdate>>) -> Result<Response<QueueUpdate>, Status> { todo!() }
        }
    });
    assert_eq!(
        errors,
        [
            "the stream items of `StreamUpdates` is `QueueUpdate`, found `JoinQueueResponse`",
            "`UploadPositions` is client-streaming: expected `RequestStream<QueueUpdate>`, found `QueueUpdate`",
            "`ExchangePositions` is bidirectional-streaming: expected `ServerStream<QueueUpdate>`, found `QueueUpdate`",
        ]
    );

    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            #request_streams
            async fn stream_updates(&self, req: Request<RequestStream<StreamUpdatesRequest>>) -> Result<Response<ServerStream<QueueUpdate>>, Status> { todo!() }
        }
    });
    assert_eq!(
        errors,
        ["`StreamUpdates` is server-streaming: expected `StreamUpdatesRequest`, found `RequestStream<StreamUpdatesRequest>` (only client-streaming and bidirectional RPCs take a `RequestStream`)"]
    );
}

#[test]
fn signature_shapes_are_checked() {
    let request_streams = request_stream_methods();
    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            #request_streams
            async fn stream_updates(&mut self, req: StreamUpdatesRequest, extra: u8) -> Response<ServerStream<QueueUpdate>> { todo!() }
        }
    });
    let expected = "write `async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<ServerStream<QueueUpdate>>, Status>`";
    assert_eq!(
        errors,
        [
            format!("handlers take `&self`: {expected}"),
            format!("expected `Request<StreamUpdatesRequest>`, found `StreamUpdatesRequest`: {expected}"),
            format!("handlers take only `&self` and the request: {expected}"),
            format!("expected `Result<Response<ServerStream<QueueUpdate>>, Status>`, found `Response<ServerStream<QueueUpdate>>`: {expected}"),
        ]
    );
}

#[test]
fn future_returning_methods_and_result_aliases_are_accepted() {
    let request_streams = request_stream_methods();
    let (_, errors) = run(
        &shop_env(),
        TokenStream::new(),
        quote! {
            impl UpdatesService for Gateway {
                #request_streams
                fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> impl Future<Output = tacos::Result<Response<ServerStream<pb::QueueUpdate>>>> + Send {
                    async { todo!() }
                }
            }
        },
    );
    assert_eq!(errors, Vec::<String>::new());
}

#[test]
fn policy_attributes_are_checked() {
    let request_streams = request_stream_methods();
    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            #request_streams
            #[tacos(public, roles("admin"), public, rate = "", scopes(), timeout = "0s", idempotent = true)]
            #[tacos]
            async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<ServerStream<QueueUpdate>>, Status> { todo!() }
        }
    });
    assert_eq!(
        errors,
        [
            "`public` is given twice for this method: keep one",
            "the rate class must not be empty",
            "`scopes()` lists nothing: name at least one, as in `scopes(\"a\", \"b\")`",
            "timeout `0s` must be longer than zero",
            "`idempotent` takes no value: write just `idempotent`",
            "expected `#[tacos(...)]` with keys such as `public`, `timeout = \"2s\"` or `roles(\"admin\")`",
            "a `public` method cannot also require roles or scopes: remove `public` or the requirements",
        ]
    );
}

#[test]
fn the_service_is_found_by_trait_name_or_contract() {
    let env = Environment {
        manifest_dir: None,
        descriptors_var: Some(
            fixture_set(&["shop/v1/queue.proto", "other/v1/queue.proto"])
                .display()
                .to_string(),
        ),
    };
    let ping = quote! {
        impl QueueService for Gateway {
            async fn ping(&self, req: Request<PingRequest>) -> Result<Response<PingResponse>, Status> { todo!() }
        }
    };
    let (_, errors) = run(&env, TokenStream::new(), ping.clone());
    assert_eq!(
        errors,
        ["`QueueService` names several services (`other.v1.QueueService`, `shop.v1.QueueService`): pick one with `#[service(contract = \"other.v1.QueueService\")]`"]
    );
    let (_, errors) = run(
        &env,
        quote!(contract = "other.v1.QueueService"),
        ping.clone(),
    );
    assert_eq!(errors, Vec::<String>::new());
    let (_, errors) = run(&env, quote!(contract = "other.v1.QueueServce"), ping);
    assert_eq!(
        errors,
        ["the contract has no service `other.v1.QueueServce`: did you mean `other.v1.QueueService`?"]
    );

    let (_, errors) = run(
        &env,
        TokenStream::new(),
        quote!(impl pb::QueueServise for Gateway {}),
    );
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("the contract has no service named `QueueServise`: "),
        "{}",
        errors[0]
    );
    assert!(
        errors[0].contains("did you mean `QueueService`?"),
        "{}",
        errors[0]
    );
}

#[test]
fn attribute_arguments_are_checked() {
    let (_, errors) = run(
        &shop_env(),
        quote!(
            contract = "shop.v1.UpdatesService",
            contract = "x",
            descriptor = "y",
            crate = "not a path"
        ),
        quote!(impl UpdatesService for Gateway {}),
    );
    assert_eq!(errors[0], "`contract` is given twice: keep one");
    assert_eq!(
        errors[1],
        "unknown `#[service]` argument `descriptor`: did you mean `descriptors`?"
    );
    assert_eq!(
        errors[2],
        "`crate` must be a path, such as `\"::tacos_runtime\"`"
    );
}

#[test]
fn a_missing_or_broken_descriptor_set_is_explained() {
    let (file, errors) = run(
        &Environment::default(),
        TokenStream::new(),
        correct_queue_impl(),
    );
    assert_eq!(errors.len(), 1);
    assert!(
        errors[0].starts_with("cannot tell where the contract's descriptor set is"),
        "{}",
        errors[0]
    );
    // The impl is still there for the IDE, with its `#[tacos]` attributes removed.
    assert!(!quote!(#file).to_string().contains("tacos ("));

    let (_, errors) = run(
        &Environment::default(),
        quote!(descriptors = "/nonexistent/descriptor.bin"),
        correct_queue_impl(),
    );
    assert!(
        errors[0].starts_with("cannot read the descriptor set `/nonexistent/descriptor.bin`"),
        "{}",
        errors[0]
    );
    assert!(errors[0].contains("cargo xtask generate"), "{}", errors[0]);

    let garbage = fixture_set(&["shop/v1/queue.proto"]);
    std::fs::write(&garbage, b"\xff\xff\xff").unwrap();
    let env = Environment {
        manifest_dir: None,
        descriptors_var: Some(garbage.display().to_string()),
    };
    let (_, errors) = run(&env, TokenStream::new(), correct_queue_impl());
    assert!(
        errors[0].contains("is not a valid encoded descriptor set"),
        "{}",
        errors[0]
    );
}

#[test]
fn only_trait_impls_are_accepted() {
    let env = shop_env();
    let err = expand_in(&env, TokenStream::new(), quote!(impl Gateway {})).unwrap_err();
    assert!(err.to_string().contains("needs the service trait"));
    let err = expand_in(
        &env,
        TokenStream::new(),
        quote!(
            struct Gateway;
        ),
    )
    .unwrap_err();
    assert!(err.to_string().contains("goes on a handler impl"));
}

#[test]
fn a_hand_written_method_policy_is_refused() {
    let request_streams = request_stream_methods();
    let errors = errors_of(quote! {
        impl UpdatesService for Gateway {
            #request_streams
            async fn stream_updates(&self, req: Request<StreamUpdatesRequest>) -> Result<Response<ServerStream<QueueUpdate>>, Status> { todo!() }
            fn method_policy(&self, method: &str) -> Option<&'static MethodPolicy> { None }
        }
    });
    assert_eq!(errors.len(), 1);
    assert!(errors[0].starts_with("`method_policy` is written by `#[service]`"));
}

#[test]
fn the_traffic_tacos_contract_is_read_from_the_generated_descriptor_set() {
    // The set `cargo xtask generate` writes for `proto/`, found through the attribute.
    let env = Environment {
        manifest_dir: Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
        descriptors_var: None,
    };
    let (file, errors) = run(
        &env,
        quote!(descriptors = "../examples/contracts/src/generated/descriptor.bin"),
        quote! {
            impl pb::QueueService for Gateway {
                #[tacos(public, timeout = "2s", rate = "join")]
                async fn join_queue(&self, req: Request<pb::JoinQueueRequest>) -> Result<Response<pb::JoinQueueResponse>, Status> { todo!() }
                async fn get_queue_status(&self, req: Request<pb::GetQueueStatusRequest>) -> Result<Response<pb::GetQueueStatusResponse>, Status> { todo!() }
                async fn request_admission(&self, req: Request<pb::RequestAdmissionRequest>) -> Result<Response<pb::RequestAdmissionResponse>, Status> { todo!() }
                async fn leave_queue(&self, req: Request<pb::LeaveQueueRequest>) -> Result<Response<pb::LeaveQueueResponse>, Status> { todo!() }
                #[tacos(roles("admin"), scopes("queue:read"), idempotent)]
                async fn get_queue_stats(&self, req: Request<pb::GetQueueStatsRequest>) -> Result<Response<pb::GetQueueStatsResponse>, Status> { todo!() }
            }
        },
    );
    assert_eq!(errors, Vec::<String>::new());
    let text = quote!(#file).to_string();
    assert!(
        text.contains("\"/gateway.v1.QueueService/GetQueueStats\""),
        "{text}"
    );

    let (_, errors) = run(
        &env,
        quote!(descriptors = "../examples/contracts/src/generated/descriptor.bin"),
        quote! {
            impl WebSocketService for Gateway {
                async fn stream_queue_updates(&self, req: Request<StreamQueueUpdatesRequest>) -> Result<Response<StreamQueueUpdatesResponse>, Status> { todo!() }
            }
        },
    );
    assert_eq!(errors[0], "`StreamQueueUpdates` is server-streaming: expected `ServerStream<StreamQueueUpdatesResponse>`, found `StreamQueueUpdatesResponse`");
    assert!(
        errors[1..]
            .iter()
            .all(|e| e.starts_with("missing handler for RPC `")),
        "{errors:?}"
    );
    assert_eq!(errors.len(), 4, "{errors:?}");
}
