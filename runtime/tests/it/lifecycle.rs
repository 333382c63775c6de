//! Health, reflection, listener layouts, middleware and graceful shutdown.

use std::sync::Arc;
use std::time::Duration;

use tacos_runtime::config::RuntimeLayout;
use tacos_runtime::server::Bind;
use tacos_runtime::Server;
use tokio_stream::StreamExt;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;

use crate::library::*;
use crate::support::*;

async fn health_of(channel: &tonic::transport::Channel, service: &str) -> ServingStatus {
    let response = HealthClient::new(channel.clone())
        .check(HealthCheckRequest {
            service: service.to_owned(),
        })
        .await
        .unwrap();
    response.into_inner().status()
}

#[tokio::test]
async fn health_per_service_and_rest_probes() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;
    assert_eq!(
        health_of(&channel, "tacos.test.v1.Library").await,
        ServingStatus::Serving
    );
    assert_eq!(health_of(&channel, "").await, ServingStatus::Serving);
    let client = http_client();
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(server.url("/readyz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );

    server
        .health
        .set_serving("tacos.test.v1.Library", false)
        .await;
    assert_eq!(
        health_of(&channel, "tacos.test.v1.Library").await,
        ServingStatus::NotServing
    );
    let readyz = client.get(server.url("/readyz")).send().await.unwrap();
    assert_eq!(readyz.status(), 503);
    let body: serde_json::Value = readyz.json().await.unwrap();
    assert_eq!(body["not_serving"][0], "tacos.test.v1.Library");
    assert_eq!(
        client
            .get(server.url("/healthz"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
}

async fn listed_services_v1(channel: &tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    match response.message_response.unwrap() {
        MessageResponse::ListServicesResponse(list) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

async fn listed_services_v1alpha(channel: &tonic::transport::Channel) -> Vec<String> {
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = ServerReflectionClient::new(channel.clone())
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let response = responses.next().await.unwrap().unwrap();
    match response.message_response.unwrap() {
        MessageResponse::ListServicesResponse(list) => {
            list.service.into_iter().map(|s| s.name).collect()
        }
        other => panic!("unexpected reflection answer {other:?}"),
    }
}

#[tokio::test]
async fn reflection_lists_the_services_v1_and_v1alpha() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;
    for mut services in [
        listed_services_v1(&channel).await,
        listed_services_v1alpha(&channel).await,
    ] {
        services.sort();
        assert!(
            services.contains(&"tacos.test.v1.Library".to_owned()),
            "{services:?}"
        );
        assert!(
            services.contains(&"grpc.health.v1.Health".to_owned()),
            "{services:?}"
        );
        assert!(
            services.iter().any(|s| s.starts_with("grpc.reflection.")),
            "{services:?}"
        );
    }
}

#[tokio::test]
async fn separate_ports_on_per_core_runtimes() {
    let handler = Arc::new(TestLibrary::default());
    let loopback = "127.0.0.1:0".parse().unwrap();
    let running = Server::builder()
        .add(library_service(handler))
        .runtime(RuntimeLayout::PerCore { threads: 2 })
        .drain_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
        .start(Bind {
            rest: loopback,
            grpc: Some(loopback),
        })
        .unwrap();
    let rest = running.rest_addr().unwrap();
    let grpc = running.grpc_addr().unwrap();
    assert_ne!(rest, grpc);

    // Several connections, so both runtimes' listeners get some.
    for _ in 0..4 {
        let book: Book = reqwest::Client::new()
            .get(format!("http://{rest}/v1/books/b1"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(book.name, "b1");
        let book = grpc_unary::<_, Book>(
            &channel(grpc).await,
            "/tacos.test.v1.Library/GetBook",
            tonic::Request::new(GetBookRequest { name: "b1".into() }),
        )
        .await
        .unwrap()
        .into_inner();
        assert_eq!(book.name, "b1");
    }
    // The REST port does not speak gRPC routing: a gRPC path there is just an unknown route.
    let response = reqwest::Client::new()
        .post(format!("http://{rest}/tacos.test.v1.Library/GetBook"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    tokio::task::spawn_blocking(move || running.shutdown())
        .await
        .unwrap()
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(rest).await.is_err(),
        "still accepting after shutdown"
    );
}

#[tokio::test]
async fn multi_thread_layout_serves_both_on_one_port() {
    let handler = Arc::new(TestLibrary::default());
    let loopback: std::net::SocketAddr = "127.0.0.1:0".parse().unwrap();
    let running = Server::builder()
        .add(library_service(handler))
        .runtime(RuntimeLayout::MultiThread { workers: 2 })
        .build()
        .unwrap()
        .start(Bind {
            rest: loopback,
            grpc: None,
        })
        .unwrap();
    let addr = running.rest_addr().unwrap();
    assert_eq!(running.grpc_addr(), Some(addr));
    let status = reqwest::get(format!("http://{addr}/healthz"))
        .await
        .unwrap()
        .status();
    assert_eq!(status, 200);
    let book = grpc_unary::<_, Book>(
        &channel(addr).await,
        "/tacos.test.v1.Library/GetBook",
        tonic::Request::new(GetBookRequest { name: "b2".into() }),
    )
    .await
    .unwrap();
    assert_eq!(book.into_inner().name, "b2");
    tokio::task::spawn_blocking(move || running.shutdown())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn shutdown_drains_calls_and_ends_streams() {
    let server = TestServer::start().await;
    let client = http_client();
    let slow = tokio::spawn(
        client
            .post(server.url("/v1/slow"))
            .json(&serde_json::json!({"millis": 400}))
            .send(),
    );
    let mut stream = client
        .get(server.url("/v1/shelves/s1/books:watch?count=10000&intervalMillis=20"))
        .send()
        .await
        .unwrap();
    assert!(stream.chunk().await.unwrap().is_some());
    tokio::time::sleep(Duration::from_millis(50)).await;
    let addr = server.addr;
    server.stop().await;

    let slow = slow.await.unwrap().unwrap();
    assert_eq!(slow.status(), 200, "the in-flight call was not drained");
    let mut rest = Vec::new();
    while let Some(chunk) = stream.chunk().await.unwrap() {
        rest.extend_from_slice(&chunk);
    }
    let text = String::from_utf8(rest).unwrap();
    let last: serde_json::Value = serde_json::from_str(text.lines().last().unwrap()).unwrap();
    assert_eq!(last["error"]["code"], 14, "{text}");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[derive(Clone)]
struct StampLayer;

impl<S> tower::Layer<S> for StampLayer {
    type Service = Stamp<S>;
    fn layer(&self, inner: S) -> Stamp<S> {
        Stamp(inner)
    }
}

#[derive(Clone)]
struct Stamp<S>(S);

impl<S, B> tower::Service<http::Request<B>> for Stamp<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<tacos_runtime::grpc::Body>>,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future =
        std::pin::Pin<Box<dyn std::future::Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), S::Error>> {
        self.0.poll_ready(cx)
    }

    fn call(&mut self, request: http::Request<B>) -> Self::Future {
        let future = self.0.call(request);
        Box::pin(async move {
            let mut response = future.await?;
            response
                .headers_mut()
                .insert("x-stamp", "1".parse().unwrap());
            Ok(response)
        })
    }
}

#[tokio::test]
async fn one_middleware_stack_wraps_both_protocols() {
    let server = TestServer::start_with(Server::builder().layer(StampLayer)).await;
    let rest = http_client()
        .get(server.url("/v1/books/b1"))
        .send()
        .await
        .unwrap();
    assert_eq!(rest.headers()["x-stamp"], "1");
    let grpc = grpc_unary::<_, Book>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/GetBook",
        tonic::Request::new(GetBookRequest { name: "b1".into() }),
    )
    .await
    .unwrap();
    assert_eq!(grpc.metadata().get("x-stamp").unwrap(), "1");
}
