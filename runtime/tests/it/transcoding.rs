//! The transcoding suite: every HttpRule feature of the test contract over real sockets.

use serde_json::{json, Value};

use crate::library::*;
use crate::support::*;

async fn get_json(server: &TestServer, path: &str) -> (u16, Value) {
    let response = http_client().get(server.url(path)).send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap())
}

#[tokio::test]
async fn query_parameters_of_every_kind() {
    let server = TestServer::start().await;
    let query = [
        "tags=a&tags=b%20c",
        "pageSize=25",
        "filter.author=Le+Guin&filter.min_pages=9007199254740993",
        "genre=GENRE_SCIENCE",
        "genres=GENRE_FICTION&genres=2",
        "published_after=1972-01-01T10:00:20.021Z",
        "maxAge=1.5s",
        "mask=title,filter.minPages",
        "minRating=4.5",
        "cursor=AAEC",
        "exact=true",
        "limit=7",
        "weight=0.25",
        "unknown=ignored",
    ]
    .join("&");
    let (status, body) = get_json(&server, &format!("/v1/books:search?{query}")).await;
    assert_eq!(status, 200);
    let echo: SearchBooksRequest = serde_json::from_value(body["echo"].clone()).unwrap();
    let expected = SearchBooksRequest {
        tags: vec!["a".into(), "b c".into()],
        page_size: 25,
        filter: Some(Filter {
            author: "Le Guin".into(),
            min_pages: 9_007_199_254_740_993,
        }),
        genre: Genre::Science as i32,
        published_after: Some(prost_types::Timestamp {
            seconds: 63_108_020,
            nanos: 21_000_000,
        }),
        max_age: Some(prost_types::Duration {
            seconds: 1,
            nanos: 500_000_000,
        }),
        mask: Some(prost_types::FieldMask {
            paths: vec!["title".into(), "filter.min_pages".into()],
        }),
        min_rating: Some(4.5),
        cursor: vec![0, 1, 2],
        exact: true,
        genres: vec![Genre::Fiction as i32, Genre::Science as i32],
        limit: Some(7),
        weight: 0.25,
        ..SearchBooksRequest::default()
    };
    assert_eq!(echo, expected);
    // Canonical proto3 JSON on the way out: 64-bit as strings, enums by name.
    assert_eq!(
        body["echo"]["filter"]["minPages"],
        json!("9007199254740993")
    );
    assert_eq!(body["echo"]["genre"], json!("GENRE_SCIENCE"));

    // The same request over gRPC gives the same echo.
    let grpc = grpc_unary::<_, SearchBooksResponse>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/SearchBooks",
        tonic::Request::new(expected.clone()),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(grpc.echo, Some(expected));
}

#[tokio::test]
async fn a_query_name_past_a_scalar_or_enum_is_a_400_naming_it() {
    let server = TestServer::start().await;
    for param in [
        "pageSize.x",
        "genre.name",
        "filter.author.first",
        "published_after.seconds",
    ] {
        let (status, body) = get_json(&server, &format!("/v1/books:search?{param}=1")).await;
        assert_eq!(status, 400, "{param}: {body}");
        let violations = &body["details"][0]["fieldViolations"];
        assert_eq!(violations[0]["field"], json!(param), "{body}");
    }
    // Unknown names are still ignored (clients may send parameters of newer contracts).
    let (status, _) = get_json(&server, "/v1/books:search?newer.field=1").await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn path_values_beat_query_values_and_decode_per_spec() {
    let server = TestServer::start().await;
    let name = |path: &'static str| {
        let server = &server;
        async move {
            let (status, body) = get_json(server, path).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["name"].as_str().unwrap().to_owned()
        }
    };
    assert_eq!(
        name("/v1/shelves/s1/books/b1?name=other").await,
        "shelves/s1/books/b1"
    );
    // Multi-segment variable: `%20` decodes, reserved `%2F` stays encoded.
    assert_eq!(
        name("/v1/shelves/s%201/books/b%2Fc").await,
        "shelves/s 1/books/b%2Fc"
    );
    // Single-segment variable (additional binding `/v1/books/{name}`): `%2F` stays encoded.
    assert_eq!(name("/v1/books/a%2Fb%3F").await, "a%2Fb?");
}

#[tokio::test]
async fn double_star_takes_the_rest_of_the_path() {
    let server = TestServer::start().await;
    let (_, body) = get_json(&server, "/v1/files/a/b%20c/d%2Fe.txt").await;
    assert_eq!(body["path"], "a/b c/d%2Fe.txt");
    let (status, body) = get_json(&server, "/v1/files").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({}));
}

#[tokio::test]
async fn nested_and_typed_path_fields() {
    let server = TestServer::start().await;
    let (_, body) = get_json(&server, "/v1/shelves/42/count").await;
    assert_eq!(body, json!({"shelfId": "42", "count": 3}));
    let response = http_client()
        .get(server.url("/v1/shelves/forty/count"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(violated_field(&response.bytes().await.unwrap()), "shelf.id");

    let (_, body) = get_json(&server, "/v1/genres/GENRE_FICTION/books?pageSize=2").await;
    assert_eq!(body["books"].as_array().unwrap().len(), 2);
    assert_eq!(body["books"][0]["genre"], "GENRE_FICTION");
    let (_, body) = get_json(&server, "/v1/genres/2/books?pageSize=1").await;
    assert_eq!(body["books"][0]["genre"], "GENRE_SCIENCE");
    let response = http_client()
        .get(server.url("/v1/genres/POETRY/books"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 400);
    assert_eq!(violated_field(&response.bytes().await.unwrap()), "genre");
}

#[tokio::test]
async fn body_field_path_and_query_together() {
    let server = TestServer::start().await;
    let client = http_client();
    let book: Book = client
        .post(server.url("/v1/shelves/s1/books?validateOnly=true&book.title=ignored"))
        .json(&json!({"title": "Dune", "pages": 412, "isbn": "9780441013593", "genre": "GENRE_FICTION"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book.name, "shelves/s1/books/Dune");
    assert_eq!(book.isbn, 9_780_441_013_593);
    assert_eq!(book.genre, Genre::Fiction as i32);
    assert_eq!(book.tags, ["validated"]);

    let book: Book = client
        .patch(server.url("/v1/shelves/s1/books/b7?updateMask=title,pageCount"))
        .json(&json!({"title": "New"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book.name, "shelves/s1/books/b7");
    assert_eq!(book.title, "New");
    assert_eq!(book.tags, ["title", "page_count"]);

    // `/v2/{book.name=shelves/*/books/*}` with body `book`: a path variable inside the body
    // field, whose value wins over the body's.
    let book: Book = client
        .patch(server.url("/v2/shelves/s1/books/b8"))
        .json(&json!({"name": "shelves/other/books/x", "title": "Renamed"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book.name, "shelves/s1/books/b8");
    assert_eq!(book.title, "Renamed");
}

#[tokio::test]
async fn a_patch_without_a_mask_updates_only_the_keys_it_sends() {
    let server = TestServer::start().await;
    let patch = |url: &str, body: Value| http_client().patch(server.url(url)).json(&body).send();
    // No mask: the leaf paths of the body's keys, nested messages and Struct values included,
    // under their proto names whichever spelling the client used.
    let book: Book = patch(
        "/v1/shelves/s1/books/b9",
        json!({
            "title": "Partial",
            "publisher": {"city": "Seoul"},
            "details": {"edition": {"year": 2026}, "signed": true}
        }),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let mut paths = book.tags.clone();
    paths.sort();
    assert_eq!(
        paths,
        [
            "details.edition.year",
            "details.signed",
            "publisher.city",
            "title"
        ]
    );
    // A mask the client sends is kept as sent.
    let book: Book = patch(
        "/v1/shelves/s1/books/b9?updateMask=title",
        json!({"title": "Only", "pages": 3}),
    )
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(book.tags, ["title"]);
    // An empty body implies no mask.
    let response = http_client()
        .patch(server.url("/v1/shelves/s1/books/b9"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let book: Book = response.json().await.unwrap();
    assert!(book.tags.is_empty());
}

#[tokio::test]
async fn custom_verb_with_body_star_and_delete_without_body() {
    let server = TestServer::start().await;
    let client = http_client();
    let book: Book = client
        .post(server.url("/v1/shelves/s1/books/b1:archive"))
        .json(&json!({"reason": "worn out", "name": "ignored: the path wins"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(book.name, "shelves/s1/books/b1");
    assert_eq!(book.tags, ["archived:worn out"]);

    let response = client
        .delete(server.url("/v1/shelves/s1/books/b1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.json::<Value>().await.unwrap(), json!({}));
    let response = client
        .delete(server.url("/v1/shelves/s1/books/missing"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 404);
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
    let response = client
        .put(server.url("/v1/shelves/s1/books/b1"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "GET, PATCH, DELETE");

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

#[tokio::test]
async fn proto_field_names_on_output_when_configured() {
    let server = TestServer::start_with(
        tacos_runtime::Server::builder()
            .json_options(tacos_runtime::json::JsonOptions::new().with_proto_field_names(true)),
    )
    .await;
    let (_, body) = get_json(&server, "/v1/shelves/42/count").await;
    assert_eq!(body, json!({"shelf_id": "42", "count": 3}));
}

#[tokio::test]
async fn unpopulated_fields_print_only_when_configured() {
    // A book with no tags, as the default options print it: no `tags` key.
    let server = TestServer::start().await;
    let (_, body) = get_json(&server, "/v1/books/b1").await;
    assert!(body.get("tags").is_none(), "{body}");

    let server = TestServer::start_with(
        tacos_runtime::Server::builder()
            .json_options(tacos_runtime::json::JsonOptions::new().with_emit_unpopulated(true)),
    )
    .await;
    let (_, body) = get_json(&server, "/v1/books/b1").await;
    assert_eq!(body["tags"], json!([]), "{body}");
    assert_eq!(body["pages"], 100);
    // Every field without presence prints at its default; message and `optional` fields
    // still print only when set.
    let (_, body) = get_json(&server, "/v1/books:search").await;
    assert_eq!(
        body["echo"],
        json!({
            "tags": [],
            "pageSize": 0,
            "genre": "GENRE_UNSPECIFIED",
            "cursor": "",
            "exact": false,
            "genres": [],
            "weight": 0,
            "minPages": {},
            "genreByShelf": {}
        }),
        "{body}"
    );
    let (_, body) = get_json(&server, "/v1/shelves/42/count").await;
    assert_eq!(body, json!({"shelfId": "42", "count": 3}));
}

#[tokio::test]
async fn a_literal_route_wins_over_a_variable_one() {
    let server = TestServer::start().await;
    let (status, body) = get_json(&server, "/v1/books/featured").await;
    assert_eq!(status, 200);
    assert_eq!(body["title"], "Featured");
    let (_, body) = get_json(&server, "/v1/books/b1").await;
    assert_eq!(body["title"], "Title of b1");
}

#[tokio::test]
async fn maps_oneofs_and_struct_values_from_the_query() {
    let server = TestServer::start().await;
    let (status, body) = get_json(
        &server,
        "/v1/books:search?minPages[fiction]=100&min_pages.science=5\
         &genreByShelf[7]=GENRE_SCIENCE&fromIsbn=42\
         &attributes=%7B%22signed%22%3Atrue%2C%22tags%22%3A%5B1%5D%7D",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let echo = &body["echo"];
    assert_eq!(echo["minPages"], json!({"fiction": 100, "science": 5}));
    assert_eq!(echo["genreByShelf"], json!({"7": "GENRE_SCIENCE"}));
    assert_eq!(echo["fromIsbn"], "42");
    assert_eq!(echo["attributes"], json!({"signed": true, "tags": [1]}));

    // A oneof's message member; the last member set is the one chosen.
    let (_, body) = get_json(
        &server,
        "/v1/books:search?afterName=x&matching.author=Herbert&matching.minPages=3",
    )
    .await;
    assert_eq!(
        body["echo"]["matching"],
        json!({"author": "Herbert", "minPages": "3"})
    );
    assert!(body["echo"].get("afterName").is_none(), "{body}");

    // Bad keys, bad JSON and a map without a key are refused naming the parameter.
    for (query, field) in [
        ("genreByShelf[x]=GENRE_SCIENCE", "genreByShelf[x]"),
        ("attributes=%7Bnope", "attributes"),
        ("minPages=3", "minPages"),
        ("minPages[a].b=3", "minPages[a].b"),
    ] {
        let response = http_client()
            .get(server.url(&format!("/v1/books:search?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 400, "{query}");
        assert_eq!(
            violated_field(&response.bytes().await.unwrap()),
            field,
            "{query}"
        );
    }
}

#[tokio::test]
async fn http_bodies_travel_raw() {
    let server = TestServer::start().await;
    let client = http_client();

    // A whole HttpBody response: its data with its content type, handler headers beside it.
    let response = client
        .get(server.url("/v1/shelves/s1/books/b1/cover"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/png");
    assert_eq!(response.headers()["x-cover"], "stored");
    assert_eq!(
        &response.bytes().await.unwrap()[..],
        "\u{89}PNG cover of shelves/s1/books/b1".as_bytes()
    );
    // Errors stay JSON.
    let (status, body) = get_json(&server, "/v1/shelves/s1/books/missing/cover").await;
    assert_eq!((status, &body["code"]), (404, &json!(5)));

    // An HttpBody body field: the request body raw with its content type, the path beside it;
    // an HttpBody `response_body` answered raw.
    let image: &[u8] = &[0xff, 0xd8, 0xff, 0x00, 0x7f, b'{'];
    let response = client
        .put(server.url("/v1/shelves/s1/books/b1/cover"))
        .header("content-type", "image/jpeg")
        .body(image.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "image/jpeg");
    assert_eq!(&response.bytes().await.unwrap()[..], image);
    // The same request on the binding without `response_body`: the Cover as JSON.
    let response = client
        .post(server.url("/v1/shelves/s1/books/b1/cover:describe"))
        .header("content-type", "image/jpeg")
        .body(image.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let cover: Value = response.json().await.unwrap();
    assert_eq!(
        cover,
        json!({
            "name": "shelves/s1/books/b1",
            "image": {"contentType": "image/jpeg", "data": "/9j/AH97"},
            "size": "6",
        })
    );

    // A whole HttpBody request and response; a body with no content type reads as empty.
    let response = client
        .post(server.url("/v1/echo"))
        .header("content-type", "text/csv")
        .body("a,b\n1,2\n")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["content-type"], "text/csv; echoed=true");
    assert_eq!(response.text().await.unwrap(), "a,b\n1,2\n");

    // A stream of HttpBody: one body of their data, typed by the first.
    let response = client
        .get(server.url("/v1/shelves/s1/books/b1:download"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/plain; charset=utf-8"
    );
    assert_eq!(
        response.text().await.unwrap(),
        "chapter 1 of shelves/s1/books/b1\nchapter 2 of shelves/s1/books/b1\nchapter 3 of shelves/s1/books/b1\n"
    );
    // A failure mid-stream cuts the body short rather than ending it cleanly.
    let cut = async {
        let response = client
            .get(server.url("/v1/shelves/s1/books/broken:download"))
            .send()
            .await?;
        response.bytes().await
    }
    .await;
    assert!(
        cut.is_err(),
        "a broken stream must not look complete: {cut:?}"
    );

    // Over gRPC an HttpBody is an ordinary message.
    let cover = grpc_unary::<_, tacos_runtime::HttpBody>(
        &channel(server.addr).await,
        "/tacos.test.v1.Library/GetCover",
        tonic::Request::new(GetCoverRequest {
            name: "shelves/s1/books/b1".into(),
        }),
    )
    .await
    .unwrap()
    .into_inner();
    assert_eq!(cover.content_type, "image/png");

    // The OpenAPI document says so: any content type, binary, on both sides.
    let document: Value = serde_json::from_str(crate::generated::OPENAPI_JSON).unwrap();
    let binary = json!({"*/*": {"schema": {"type": "string", "format": "binary"}}});
    let echo = &document["paths"]["/v1/echo"]["post"];
    assert_eq!(echo["requestBody"]["content"], binary);
    assert_eq!(echo["responses"]["200"]["content"], binary);
    let describe = &document["paths"]["/v1/{name}/cover:describe"]["post"];
    assert_eq!(describe["requestBody"]["content"], binary);
    assert!(describe["responses"]["200"]["content"]["application/json"].is_object());
}
