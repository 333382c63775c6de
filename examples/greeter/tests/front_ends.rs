//! One contract through the three front ends — `cargo xtask generate` (checked in under
//! `tests/generated/`), the build script (`OUT_DIR`), and `contract!` (the crate itself) — gives
//! the same items, and a handler compiles and answers against each.

use std::path::Path;
use std::sync::Arc;

use tacos_runtime::{Request, Response, Status};

/// A handler of the `Greeter` trait of the module it is expanded in.
macro_rules! hello_handler {
    () => {
        pub struct Hello;

        impl greeter::v1::Greeter for Hello {
            async fn say_hello(
                &self,
                request: Request<greeter::v1::SayHelloRequest>,
            ) -> Result<Response<greeter::v1::SayHelloResponse>, Status> {
                Ok(Response::new(greeter::v1::SayHelloResponse {
                    message: format!("Hello, {}!", request.into_message().name),
                }))
            }

            async fn say_hello_again(
                &self,
                _request: Request<greeter::v1::SayHelloAgainRequest>,
            ) -> Result<
                Response<tacos_runtime::ServerStream<greeter::v1::SayHelloResponse>>,
                Status,
            > {
                Err(Status::unimplemented("not in this test"))
            }
        }

        /// What the handler answers through the generated in-process client.
        pub async fn greet(name: &str) -> String {
            let client = greeter::v1::GreeterClient::local(Arc::new(Hello));
            let request = Request::new(greeter::v1::SayHelloRequest {
                name: name.into(),
                ..Default::default()
            });
            use self::greeter::v1::Greeter as _;
            client.say_hello(request).await.unwrap().into_message().message
        }
    };
}

#[allow(missing_docs, dead_code, unreachable_pub)]
mod checked_in {
    use super::*;
    include!("generated/mod.rs");
    hello_handler!();
}

#[allow(missing_docs, dead_code, unreachable_pub)]
mod by_build_script {
    use super::*;
    tacos_runtime::include_contract!();
    hello_handler!();
}

#[allow(missing_docs, dead_code, unreachable_pub)]
mod by_macro {
    use super::*;
    pub use greeter::greeter;
    hello_handler!();
}

/// `file` printed again: the same items give the same text, whatever the comments.
fn formatted(file: syn::File) -> String {
    prettyplease::unparse(&file)
}

/// The items of the module `greeter::v1` in the macro's expansion.
fn macro_package() -> syn::File {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut config = tacos_codegen::generate::GenerateConfig::new(vec![manifest.join("proto")]);
    config.files = vec!["greeter/v1/greeter.proto".into()];
    let generated = tacos_codegen::generate::generate(&config).unwrap();
    let expanded: syn::File = syn::parse2(tacos_codegen::inline::inline(&generated).unwrap())
        .expect("the expansion parses");
    let module = |items: &[syn::Item], name: &str| -> Vec<syn::Item> {
        items
            .iter()
            .find_map(|item| match item {
                syn::Item::Mod(m) if m.ident == name => Some(m.content.clone()?.1),
                _ => None,
            })
            .unwrap_or_else(|| panic!("no module {name}"))
    };
    let v1 = module(&module(&expanded.items, "greeter"), "v1");
    syn::File {
        shebang: None,
        attrs: Vec::new(),
        items: v1,
    }
}

#[test]
fn the_three_front_ends_generate_the_same_items() {
    let checked_in: syn::File = syn::parse_str(include_str!("generated/greeter.v1.rs")).unwrap();
    let build_script: syn::File = syn::parse_str(include_str!(concat!(
        env!("OUT_DIR"),
        "/tacos/greeter.v1.rs"
    )))
    .unwrap();
    let checked_in = formatted(checked_in);
    assert!(checked_in.contains("pub trait Greeter"));
    assert_eq!(checked_in, formatted(build_script), "build script");
    assert_eq!(checked_in, formatted(macro_package()), "contract! macro");

    // The descriptor set and the OpenAPI document are the same bytes too.
    assert_eq!(
        checked_in::FILE_DESCRIPTOR_SET,
        greeter::FILE_DESCRIPTOR_SET
    );
    assert_eq!(
        by_build_script::FILE_DESCRIPTOR_SET,
        greeter::FILE_DESCRIPTOR_SET
    );
    assert_eq!(checked_in::OPENAPI_JSON, greeter::OPENAPI_JSON);
    assert_eq!(by_build_script::OPENAPI_JSON, greeter::OPENAPI_JSON);
}

#[tokio::test]
async fn a_handler_compiles_and_answers_against_each() {
    assert_eq!(checked_in::greet("Ana").await, "Hello, Ana!");
    assert_eq!(by_build_script::greet("Ana").await, "Hello, Ana!");
    assert_eq!(by_macro::greet("Ana").await, "Hello, Ana!");
}
