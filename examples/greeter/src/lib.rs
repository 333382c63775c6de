//! A greeter whose contract is expanded in place at compile time by
//! [`tacos_runtime::contract!`]: no build script, no generated files. The macro turns
//! `proto/greeter/v1/greeter.proto` into the module [`greeter::v1`] — messages, proto3 JSON,
//! the `Greeter` trait, its gRPC and REST routes and its client — beside
//! [`FILE_DESCRIPTOR_SET`] and [`OPENAPI_JSON`], exactly as `cargo xtask generate` would write
//! them.
#![deny(missing_docs)]

// Generated items carry docs only where the `.proto` has a comment.
#[allow(missing_docs)]
mod contract {
    tacos_runtime::contract!(root = "proto", files = ["greeter/v1/greeter.proto"]);
}

pub use contract::{greeter, FILE_DESCRIPTOR_SET, OPENAPI_JSON};

use greeter::v1::{Greeter, SayHelloAgainRequest, SayHelloRequest, SayHelloResponse};
use tacos_runtime::{Request, Response, ServerStream, Status};

/// The greeter's handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct Greetings;

impl Greetings {
    fn greeting(name: &str, language: &str) -> Result<String, Status> {
        if name.trim().is_empty() {
            return Err(Status::invalid_argument("a name is required"));
        }
        let hello = match language.split('-').next().unwrap_or_default() {
            "" | "en" => "Hello",
            "es" => "Hola",
            "ko" => "안녕하세요",
            other => {
                return Err(Status::invalid_argument(format!(
                    "no greeting in language `{other}`"
                )))
            }
        };
        Ok(format!("{hello}, {name}!"))
    }
}

// `root`: the attribute reads the same `.proto` files the macro expanded.
#[tacos_runtime::service(root = "proto")]
impl Greeter for Greetings {
    #[tacos(public, timeout = "1s")]
    async fn say_hello(
        &self,
        request: Request<SayHelloRequest>,
    ) -> Result<Response<SayHelloResponse>, Status> {
        let req = request.into_message();
        Ok(Response::new(SayHelloResponse {
            message: Self::greeting(&req.name, &req.language)?,
        }))
    }

    #[tacos(public, timeout = "10s")]
    async fn say_hello_again(
        &self,
        request: Request<SayHelloAgainRequest>,
    ) -> Result<Response<ServerStream<SayHelloResponse>>, Status> {
        let req = request.into_message();
        if !(1..=10).contains(&req.times) {
            return Err(Status::invalid_argument("times must be 1 to 10"));
        }
        let message = Self::greeting(&req.name, "")?;
        let greetings = (0..req.times).map(move |_| {
            Ok(SayHelloResponse {
                message: message.clone(),
            })
        });
        Ok(Response::new(tacos_runtime::server_stream(
            futures::stream::iter(greetings),
        )))
    }
}
