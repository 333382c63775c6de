//! One handler, two protocols: the same call gives the same answer, metadata included.

use tacos_runtime::Status;

use crate::library::*;
use crate::support::*;

#[tokio::test]
async fn get_book_answers_the_same_over_grpc_and_rest() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;

    let mut request = tonic::Request::new(GetBookRequest {
        name: "shelves/s1/books/b1".into(),
    });
    request
        .metadata_mut()
        .insert("x-echo", "hello".parse().unwrap());
    let grpc = grpc_unary::<_, Book>(&channel, "/tacos.test.v1.Library/GetBook", request)
        .await
        .expect("grpc call succeeds");
    assert_eq!(grpc.metadata().get("x-book-source").unwrap(), "memory");
    let grpc_book = grpc.into_inner();

    let rest = http_client()
        .get(server.url("/v1/shelves/s1/books/b1"))
        .header("x-echo", "hello")
        .send()
        .await
        .unwrap();
    assert_eq!(rest.status(), 200);
    assert_eq!(rest.headers()["content-type"], "application/json");
    assert_eq!(rest.headers()["x-book-source"], "memory");
    assert_eq!(rest.headers()["grpc-trailer-x-served-by"], "test-library");
    let rest_book: Book = rest.json().await.unwrap();

    assert_eq!(grpc_book, rest_book);
    assert_eq!(rest_book.tags, ["echo:hello"]);
}

#[tokio::test]
async fn grpc_trailers_carry_handler_trailers() {
    let server = TestServer::start().await;
    let mut client = tonic::client::Grpc::new(channel(server.addr).await);
    client.ready().await.unwrap();
    // Streaming decode exposes the trailers, which a unary tonic client drops.
    let response = client
        .server_streaming(
            tonic::Request::new(GetBookRequest {
                name: "shelves/s/books/b".into(),
            }),
            http::uri::PathAndQuery::from_static("/tacos.test.v1.Library/GetBook"),
            tonic_prost::ProstCodec::<GetBookRequest, Book>::default(),
        )
        .await
        .unwrap();
    let mut stream = response.into_inner();
    assert!(stream.message().await.unwrap().is_some());
    assert!(stream.message().await.unwrap().is_none());
    let trailers = stream.trailers().await.unwrap().expect("trailers");
    assert_eq!(trailers.get("x-served-by").unwrap(), "test-library");
}

#[tokio::test]
async fn create_book_takes_the_body_field_and_the_path() {
    let server = TestServer::start().await;
    let rest: Book = http_client()
        .post(server.url("/v1/shelves/s1/books"))
        .json(&serde_json::json!({"title": "Dune", "pages": 412}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let grpc = grpc_unary::<_, Book>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/CreateBook",
        tonic::Request::new(CreateBookRequest {
            parent: "shelves/s1".into(),
            book: Some(Book {
                title: "Dune".into(),
                pages: 412,
                ..Book::default()
            }),
            validate_only: false,
        }),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(rest.name, "shelves/s1/books/Dune");
    assert_eq!(rest, grpc);
}

#[tokio::test]
async fn errors_carry_the_same_status_both_ways() {
    let server = TestServer::start().await;
    let channel = channel(server.addr).await;
    for (name, http_status) in [
        ("shelves/s/books/missing", 404),
        ("shelves/s/books/busy", 503),
    ] {
        let grpc = grpc_unary::<_, Book>(
            &channel,
            "/tacos.test.v1.Library/GetBook",
            tonic::Request::new(GetBookRequest { name: name.into() }),
        )
        .await
        .unwrap_err();
        let rest = http_client()
            .get(server.url(&format!("/v1/{name}")))
            .send()
            .await
            .unwrap();
        assert_eq!(rest.status(), http_status);
        let retry_after = rest.headers().get("retry-after").cloned();
        let body = rest.bytes().await.unwrap();
        let from_rest = Status::from_json(&body).expect("a status body");
        let from_grpc = Status::from(grpc);
        // gRPC metadata also carries the call's own headers (its request id); the status is
        // code, message and details.
        assert_eq!(from_rest.code(), from_grpc.code(), "{name}");
        assert_eq!(from_rest.message(), from_grpc.message(), "{name}");
        assert_eq!(from_rest.details(), from_grpc.details(), "{name}");
        if name.ends_with("busy") {
            assert_eq!(retry_after.unwrap(), "2");
            assert!(from_grpc.details().retry_info.is_some());
        } else {
            let info = from_grpc.details().error_info.as_ref().expect("error info");
            assert_eq!(info.reason, "BOOK_NOT_FOUND");
        }
    }
}
