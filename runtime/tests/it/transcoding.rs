//! HttpRule transcoding over real sockets: templates, decoding, bodies, query parameters,
//! additional bindings, 404 and 405.

use serde_json::{json, Value};

use crate::library::*;
use crate::support::*;

#[tokio::test]
async fn query_parameters_of_every_kind() {
    let server = TestServer::start().await;
    let query = [
        "tags=a&tags=b%20c",
        "pageSize=25",
        "filter.author=Le+Guin&filter.min_pages=9007199254740993",
        "genre=GENRE_SCIENCE",
        "published_after=1972-01-01T10:00:20.021Z",
        "maxAge=1.5s",
        "mask=title,filter.minPages",
        "minRating=4.5",
        "cursor=AAEC",
        "exact=true",
        "unknown=ignored",
    ]
    .join("&");
    let body: Value = http_client()
        .get(server.url(&format!("/v1/books:search?{query}")))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        body["echo"],
        json!({
            "tags": ["a", "b c"],
            "pageSize": 25,
            "filter": {"author": "Le Guin", "minPages": 9_007_199_254_740_993_i64},
            "genre": 2,
            "publishedAfter": [63_108_020, 21_000_000],
            "maxAge": [1, 500_000_000],
            "mask": ["title", "filter.min_pages"],
            "minRating": 4.5,
            "cursor": [0, 1, 2],
            "exact": true,
        })
    );
    // Enums by number too.
    let body: Value = http_client()
        .get(server.url("/v1/books:search?genre=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["echo"]["genre"], 1);
}

#[tokio::test]
async fn path_values_beat_query_values_and_decode_per_spec() {
    let server = TestServer::start().await;
    let client = http_client();
    let get = |path: &str| {
        let url = server.url(path);
        let client = client.clone();
        async move {
            let response = client.get(url).send().await.unwrap();
            assert_eq!(response.status(), 200);
            response.json::<Book>().await.unwrap().name
        }
    };
    assert_eq!(
        get("/v1/shelves/s1/books/b1?name=other").await,
        "shelves/s1/books/b1"
    );
    // Multi-segment variable: `%20` decodes, reserved `%2F` stays encoded.
    assert_eq!(
        get("/v1/shelves/s%201/books/b%2Fc").await,
        "shelves/s 1/books/b%2Fc"
    );
    // Single-segment variable (additional binding `/v1/books/{name}`): `%2F` stays encoded.
    assert_eq!(get("/v1/books/a%2Fb%3F").await, "a%2Fb?");
}

#[tokio::test]
async fn body_star_with_an_empty_body_is_an_empty_message() {
    let server = TestServer::start().await;
    let response = http_client()
        .post(server.url("/v1/slow"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // `response_body: "note"`: only that field is sent.
    assert_eq!(response.json::<Value>().await.unwrap(), json!("slept 0ms"));
}

#[tokio::test]
async fn unknown_routes_are_404_and_wrong_methods_405() {
    let server = TestServer::start().await;
    let client = http_client();
    let response = client
        .get(server.url("/v1/nothing/here"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let status = tacos_runtime::Status::from_json(&response.bytes().await.unwrap()).unwrap();
    assert_eq!(status.code(), tacos_runtime::Code::NotFound);

    let response = client
        .delete(server.url("/v1/shelves/s1/books"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");

    // A custom verb is part of the route: another verb is another (unknown) path.
    let response = client
        .get(server.url("/v1/books:browse"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = client
        .post(server.url("/v1/books:search"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET");
}
