//! Client mistakes are 400 `INVALID_ARGUMENT` naming the field; never a 500, never a panic.

use crate::support::*;

async fn rejected(server: &TestServer, request: reqwest::RequestBuilder) -> String {
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 400, "{:?}", response.url().clone());
    assert_eq!(response.headers()["content-type"], "application/json");
    let body = response.bytes().await.unwrap();
    let status = tacos_runtime::Status::from_json(&body).expect("a status body");
    assert_eq!(status.code(), tacos_runtime::Code::InvalidArgument);
    let _ = server;
    violated_field(&body)
}

#[tokio::test]
async fn bad_bodies_name_the_field() {
    let server = TestServer::start().await;
    let client = http_client();
    let post = |body: &'static str| {
        client
            .post(server.url("/v1/shelves/s1/books"))
            .header("content-type", "application/json")
            .body(body)
    };
    assert_eq!(rejected(&server, post("{\"title\": ")).await, "book.title");
    assert_eq!(rejected(&server, post("{,}")).await, "book");
    assert_eq!(
        rejected(&server, post(r#"{"pages": "many"}"#)).await,
        "book.pages"
    );
    assert_eq!(
        rejected(&server, post(r#"{"tags": "one"}"#)).await,
        "book.tags"
    );
    assert_eq!(
        rejected(&server, post(r#"{"title": "x"} extra"#)).await,
        "book"
    );
    let slow = client.post(server.url("/v1/slow")).body("[1,2]");
    assert_eq!(rejected(&server, slow).await, "body");
}

#[tokio::test]
async fn bad_query_and_path_values_name_the_field() {
    let server = TestServer::start().await;
    let client = http_client();
    let search = |query: &str| client.get(server.url(&format!("/v1/books:search?{query}")));
    assert_eq!(rejected(&server, search("pageSize=ten")).await, "pageSize");
    assert_eq!(
        rejected(&server, search("page_size=99999999999")).await,
        "page_size"
    );
    assert_eq!(
        rejected(&server, search("genre=GENRE_POETRY")).await,
        "genre"
    );
    assert_eq!(
        rejected(&server, search("filter.minPages=x")).await,
        "filter.minPages"
    );
    assert_eq!(
        rejected(&server, search("publishedAfter=yesterday")).await,
        "publishedAfter"
    );
    assert_eq!(rejected(&server, search("maxAge=5")).await, "maxAge");
    assert_eq!(rejected(&server, search("exact=yes")).await, "exact");
    assert_eq!(rejected(&server, search("cursor=%%%")).await, "cursor");
    assert_eq!(
        rejected(&server, search("minRating=high")).await,
        "minRating"
    );
    let bad_path = client.get(server.url("/v1/books/%C3%28"));
    assert_eq!(rejected(&server, bad_path).await, "name");
    let bad_timeout = client
        .get(server.url("/v1/books/b1"))
        .header("x-request-timeout", "soon");
    assert_eq!(rejected(&server, bad_timeout).await, "x-request-timeout");
}

#[tokio::test]
async fn oversized_bodies_are_refused_before_decoding() {
    let server = TestServer::start_with(tacos_runtime::Server::builder().max_body_bytes(64)).await;
    let response = http_client()
        .post(server.url("/v1/slow"))
        .body(format!(
            "{{\"millis\": 1, \"pad\": \"{}\"}}",
            "x".repeat(200)
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let status = tacos_runtime::Status::from_json(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code(), tacos_runtime::Code::ResourceExhausted);
}
