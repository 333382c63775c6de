//! Generated clients over gRPC, REST and in-process against the test library: the same results,
//! errors, metadata and deadlines whichever transport carries the call.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::StreamExt;
use http::HeaderMap;
use tacos_runtime::client::{ClientOptions, GrpcTransport, RestTransport, StreamFormat, TlsConfig};
use tacos_runtime::context::CallScope;
use tacos_runtime::{Code, Request, Response, Status};

use crate::library::*;
use crate::support::{eventually, TestServer};

/// The three clients of one server: gRPC, REST and in-process (the server's own handler).
pub(crate) fn clients(
    server: &TestServer,
    options: ClientOptions,
) -> Vec<(&'static str, LibraryClient)> {
    let address = format!("http://{}", server.addr);
    let grpc = GrpcTransport::builder(&address)
        .connections(2)
        .build()
        .expect("grpc transport");
    let rest = RestTransport::builder(&address)
        .build()
        .expect("rest transport");
    vec![
        ("grpc", LibraryClient::with_options(grpc, options.clone())),
        ("rest", LibraryClient::with_options(rest, options.clone())),
        (
            "local",
            LibraryClient::local_with_options(Arc::clone(&server.handler), options),
        ),
    ]
}

/// Calls `call` on every client and checks that all answers equal the first one.
pub(crate) async fn same_everywhere<T, F, Fut>(
    clients: &[(&'static str, LibraryClient)],
    call: F,
) -> T
where
    T: PartialEq + std::fmt::Debug,
    F: Fn(LibraryClient) -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut first: Option<(&str, T)> = None;
    for (name, client) in clients {
        let answer = call(client.clone()).await;
        match &first {
            None => first = Some((name, answer)),
            Some((first_name, expected)) => {
                assert_eq!(&answer, expected, "{name} differs from {first_name}");
            }
        }
    }
    first.expect("at least one client").1
}

fn ok<T>(result: Result<Response<T>, Status>) -> T {
    result.expect("call succeeds").into_message()
}

/// What tests compare of an error: code, message, details.
fn error<T: std::fmt::Debug>(result: Result<T, Status>) -> (Code, String, String) {
    let status = result.expect_err("call fails");
    (
        status.code(),
        status.message().to_owned(),
        format!("{:?}", status.details()),
    )
}

#[tokio::test]
async fn every_unary_shape_answers_the_same_on_every_transport() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());

    // Multi-segment path variable.
    let book = same_everywhere(&clients, |c| async move {
        ok(c.get_book(Request::new(GetBookRequest {
            name: "shelves/s1/books/b1".into(),
        }))
        .await)
    })
    .await;
    assert_eq!(book.title, "Title of shelves/s1/books/b1");
    assert_eq!(book.isbn, 9_780_441_013_593);

    // `body: "book"` with the rest from path and query.
    let created = same_everywhere(&clients, |c| async move {
        ok(c.create_book(Request::new(CreateBookRequest {
            parent: "shelves/s1".into(),
            book: Some(Book {
                title: "Dune".into(),
                pages: 412,
                tags: vec!["sf".into()],
                ..Book::default()
            }),
            validate_only: true,
        }))
        .await)
    })
    .await;
    assert_eq!(created.name, "shelves/s1/books/Dune");
    assert_eq!(created.tags, ["sf", "validated"]);

    // A field mask in the query string beside a body field.
    let updated = same_everywhere(&clients, |c| async move {
        ok(c.update_book(Request::new(UpdateBookRequest {
            name: "shelves/s1/books/b1".into(),
            book: Some(Book {
                title: "New".into(),
                ..Book::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["title".into(), "pages".into()],
            }),
        }))
        .await)
    })
    .await;
    assert_eq!(updated.tags, ["title", "pages"]);

    // `google.protobuf.Empty` out.
    same_everywhere(&clients, |c| async move {
        ok(c.delete_book(Request::new(DeleteBookRequest {
            name: "shelves/s1/books/b1".into(),
        }))
        .await)
    })
    .await;

    // `body: "*"` and a custom verb.
    let archived = same_everywhere(&clients, |c| async move {
        ok(c.archive_book(Request::new(ArchiveBookRequest {
            name: "shelves/s1/books/b1".into(),
            reason: "worn out".into(),
        }))
        .await)
    })
    .await;
    assert_eq!(archived.tags, ["archived:worn out"]);

    // A nested path variable and an enum path variable.
    let count = same_everywhere(&clients, |c| async move {
        ok(c.count_shelf(Request::new(CountShelfRequest {
            shelf: Some(Shelf {
                id: 9_007_199_254_740_993,
                name: "kept in the query".into(),
            }),
        }))
        .await)
    })
    .await;
    assert_eq!(count.shelf_id, 9_007_199_254_740_993);
    let listed = same_everywhere(&clients, |c| async move {
        ok(c.list_by_genre(Request::new(ListByGenreRequest {
            genre: Genre::Fiction as i32,
            page_size: 2,
        }))
        .await)
    })
    .await;
    assert_eq!(listed.books.len(), 2);
    assert_eq!(listed.books[0].genre, Genre::Fiction as i32);

    // `response_body: "note"`.
    let slow = same_everywhere(&clients, |c| async move {
        ok(c.slow(Request::new(SlowRequest { millis: 1 })).await)
    })
    .await;
    assert_eq!(slow.note, "slept 1ms");
}

#[tokio::test]
async fn query_parameters_of_every_kind_round_trip() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    let request = SearchBooksRequest {
        tags: vec!["a".into(), "b c&d=e".into()],
        page_size: 25,
        filter: Some(Filter {
            author: "Le Guin+".into(),
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
        cursor: vec![0, 1, 2, 250],
        exact: true,
        genres: vec![Genre::Fiction as i32, Genre::Science as i32],
        limit: Some(7),
        weight: 0.25,
        min_pages: [("fiction".to_owned(), 100)].into(),
        genre_by_shelf: [(7, Genre::Science as i32)].into(),
        start: Some(search_books_request::Start::FromIsbn(42)),
        // A Struct in the query is JSON text, which the REST client does not write.
        attributes: None,
    };
    let echo = same_everywhere(&clients, |c| {
        let request = request.clone();
        async move { ok(c.search_books(Request::new(request)).await) }
    })
    .await;
    assert_eq!(echo.echo, Some(request));
}

#[tokio::test]
async fn reserved_characters_in_path_variables() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    // `**` keeps `/` and the sub-delimiters; spaces, `%` and non-ASCII are encoded and decoded.
    let path = "dir one/50%/ü:x@y+z,(1)";
    let file = same_everywhere(&clients, |c| async move {
        ok(
            c.get_file(Request::new(GetFileRequest { path: path.into() }))
                .await,
        )
    })
    .await;
    assert_eq!(file.path, path);
    // Segments inside a multi-segment pattern carry spaces, `%` and non-ASCII text.
    let name = "shelves/a b%/books/c é~";
    let book = same_everywhere(&clients, |c| async move {
        ok(
            c.get_book(Request::new(GetBookRequest { name: name.into() }))
                .await,
        )
    })
    .await;
    assert_eq!(book.name, name);
    // `?` and `#` cannot stand in a path: sent encoded, and by the HttpRule a multi-segment
    // variable leaves reserved characters encoded for the handler.
    let book = ok(clients[1]
        .1
        .get_book(Request::new(GetBookRequest {
            name: "shelves/a/books/c?d#e".into(),
        }))
        .await);
    assert_eq!(book.name, "shelves/a/books/c%3Fd%23e");
    // A value that does not fit the binding's pattern is refused before anything is sent.
    let rest = &clients[1].1;
    let err = rest
        .get_book(Request::new(GetBookRequest {
            name: "books/1".into(),
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert!(err.message().contains("shelves/*/books/*"), "{err}");
}

#[tokio::test]
async fn errors_keep_code_message_and_details() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    let (code, message, details) = same_everywhere(&clients, |c| async move {
        error(
            c.get_book(Request::new(GetBookRequest {
                name: "shelves/s1/books/missing".into(),
            }))
            .await,
        )
    })
    .await;
    assert_eq!(code, Code::NotFound);
    assert_eq!(message, "book shelves/s1/books/missing not found");
    assert!(details.contains("BOOK_NOT_FOUND"), "{details}");

    let (code, _, details) = same_everywhere(&clients, |c| async move {
        error(
            c.get_book(Request::new(GetBookRequest {
                name: "shelves/s1/books/busy".into(),
            }))
            .await,
        )
    })
    .await;
    assert_eq!(code, Code::Unavailable);
    assert!(details.contains("1.5s"), "{details}");

    // A handler's validation error with a field violation.
    let (code, _, details) = same_everywhere(&clients, |c| async move {
        error(
            c.create_book(Request::new(CreateBookRequest {
                parent: "shelves/s1".into(),
                ..CreateBookRequest::default()
            }))
            .await,
        )
    })
    .await;
    assert_eq!(code, Code::InvalidArgument);
    assert!(details.contains("field: \"book\""), "{details}");
}

#[tokio::test]
async fn metadata_goes_out_and_comes_back() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());
    let (tags, source, served_by) = same_everywhere(&clients, |c| async move {
        let mut request = Request::new(GetBookRequest {
            name: "shelves/s1/books/b1".into(),
        });
        request
            .context_mut()
            .metadata_mut()
            .insert("x-echo", "hello".parse().unwrap());
        let response = c.get_book(request).await.expect("call succeeds");
        (
            response.message().tags.clone(),
            response.headers().get("x-book-source").cloned(),
            response.trailers().get("x-served-by").cloned(),
        )
    })
    .await;
    assert_eq!(tags, ["echo:hello"]);
    assert_eq!(source.unwrap(), "memory");
    assert_eq!(served_by.unwrap(), "test-library");

    // Inside an incoming call, its propagated headers go out on every call.
    let mut propagated = HeaderMap::new();
    propagated.insert("x-echo", "from-scope".parse().unwrap());
    let scope = Arc::new(CallScope::new(None, propagated));
    let tags = same_everywhere(&clients, |c| {
        let scope = Arc::clone(&scope);
        async move {
            let request = Request::new(GetBookRequest {
                name: "shelves/s1/books/b1".into(),
            });
            scope
                .enter(async move { ok(c.get_book(request).await).tags })
                .await
        }
    })
    .await;
    assert_eq!(tags, ["echo:from-scope"]);
}

#[tokio::test]
async fn deadlines_reach_the_handler_and_expire_locally() {
    let server = TestServer::start().await;
    let timed = || {
        Request::new(GetBookRequest {
            name: "shelves/s1/books/timed".into(),
        })
    };

    // No deadline anywhere: the handler sees none.
    let tags = same_everywhere(&clients(&server, ClientOptions::new()), |c| async move {
        ok(c.get_book(timed()).await).tags
    })
    .await;
    assert_eq!(tags, ["deadline:false"]);

    // A per-method default timeout is sent and reaches the handler.
    let options = ClientOptions::new().method_timeout("GetBook", Duration::from_secs(5));
    let with_default = clients(&server, options);
    let tags = same_everywhere(&with_default, |c| async move {
        ok(c.get_book(timed()).await).tags
    })
    .await;
    assert_eq!(tags, ["deadline:true"]);

    // The incoming call's deadline is carried too.
    let scope = Arc::new(CallScope::new(
        Some(Instant::now() + Duration::from_secs(5)),
        HeaderMap::new(),
    ));
    let tags = same_everywhere(&clients(&server, ClientOptions::new()), |c| {
        let scope = Arc::clone(&scope);
        async move {
            scope
                .enter(async move { ok(c.get_book(timed()).await).tags })
                .await
        }
    })
    .await;
    assert_eq!(tags, ["deadline:true"]);

    // A request deadline shorter than the handler: DEADLINE_EXCEEDED in time, handler cancelled.
    for (name, client) in clients(&server, ClientOptions::new()) {
        let before = server.probe().slow_cancelled.load(Ordering::SeqCst);
        let mut request = Request::new(SlowRequest { millis: 5_000 });
        request
            .context_mut()
            .set_deadline(Some(Instant::now() + Duration::from_millis(200)));
        let started = Instant::now();
        let err = client.slow(request).await.unwrap_err();
        assert_eq!(err.code(), Code::DeadlineExceeded, "{name}: {err}");
        assert!(started.elapsed() < Duration::from_millis(1_200), "{name}");
        assert!(
            eventually(Duration::from_secs(3), || {
                server.probe().slow_cancelled.load(Ordering::SeqCst) > before
            })
            .await,
            "{name}: the handler was not cancelled"
        );
    }
}

async fn watch(client: LibraryClient, count: i32, fail_at: i32) -> Vec<Result<Book, Code>> {
    let stream = client
        .watch_books(Request::new(WatchBooksRequest {
            parent: "shelves/s1".into(),
            count,
            fail_at,
            interval_millis: 0,
        }))
        .await
        .expect("stream opens")
        .into_message();
    stream
        .map(|item| item.map_err(|s| s.code()))
        .collect()
        .await
}

#[tokio::test]
async fn server_streams_on_every_transport() {
    let server = TestServer::start().await;
    let mut all = clients(&server, ClientOptions::new());
    let sse = RestTransport::builder(format!("http://{}", server.addr))
        .stream_format(StreamFormat::Sse)
        .build()
        .unwrap();
    all.push(("rest-sse", LibraryClient::new(sse)));
    all.push((
        "local-default",
        LibraryClient::local(Arc::clone(&server.handler)),
    ));

    let items = same_everywhere(&all, |c| watch(c, 3, 0)).await;
    assert_eq!(items.len(), 3);
    assert_eq!(items[2].as_ref().unwrap().name, "shelves/s1/books/3");

    let items = same_everywhere(&all, |c| watch(c, 5, 2)).await;
    assert_eq!(items.len(), 2);
    assert_eq!(items[1], Err(Code::Aborted));

    // An error before the stream starts is the call's error.
    let (code, _, details) = same_everywhere(&all, |c| async move {
        error(
            c.watch_books(Request::new(WatchBooksRequest {
                parent: "shelves/s1".into(),
                count: -1,
                ..WatchBooksRequest::default()
            }))
            .await
            .map(|_| ()),
        )
    })
    .await;
    assert_eq!(code, Code::InvalidArgument);
    assert!(details.contains("count"), "{details}");

    // A deadline bounds the whole stream.
    for (name, client) in clients(&server, ClientOptions::new()) {
        let mut request = Request::new(WatchBooksRequest {
            parent: "shelves/s1".into(),
            count: 100,
            interval_millis: 50,
            ..WatchBooksRequest::default()
        });
        request
            .context_mut()
            .set_deadline(Some(Instant::now() + Duration::from_millis(300)));
        let items: Vec<_> = match client.watch_books(request).await {
            Ok(response) => response.into_message().collect().await,
            Err(status) => vec![Err(status)],
        };
        let last = items.last().expect("some items").as_ref().unwrap_err();
        assert_eq!(last.code(), Code::DeadlineExceeded, "{name}: {last}");
        assert!(items.len() < 50, "{name}: {} items", items.len());
    }
}

#[tokio::test]
async fn unreachable_targets_and_bad_settings() {
    // Nothing listens on the discard port of the loopback address.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let grpc = GrpcTransport::builder(&address).build().unwrap();
    let rest = RestTransport::builder(&address).build().unwrap();
    for client in [LibraryClient::new(grpc), LibraryClient::new(rest)] {
        let transport = client.client().transport().expect("a remote client");
        assert_eq!(transport.target(), address);
        let err = client
            .get_book(Request::new(GetBookRequest {
                name: "shelves/1/books/1".into(),
            }))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{err}");
    }

    let err = GrpcTransport::builder("http://[::1").build().unwrap_err();
    assert!(err.to_string().contains("not a valid address"), "{err}");
    let err = GrpcTransport::builder("localhost:1")
        .connections(0)
        .build()
        .unwrap_err();
    assert!(err.reason.contains("at least one"), "{err}");
    let missing = std::env::temp_dir().join("tacos-no-such-ca.pem");
    let err = GrpcTransport::builder("localhost:1")
        .tls(TlsConfig::new().ca_file(&missing))
        .build()
        .unwrap_err();
    assert!(err.reason.contains("cannot read CA file"), "{err}");
    let err = RestTransport::builder("https://localhost:1")
        .build()
        .unwrap_err();
    assert!(err.reason.contains("http://"), "{err}");
}

#[tokio::test]
async fn http_bodies_round_trip_on_every_transport() {
    let server = TestServer::start().await;
    let clients = clients(&server, ClientOptions::new());

    // A whole HttpBody response, raw over REST.
    let cover = same_everywhere(&clients, |c| async move {
        let response = c
            .get_cover(Request::new(GetCoverRequest {
                name: "shelves/s1/books/b1".into(),
            }))
            .await
            .expect("call succeeds");
        let header = response.headers().get("x-cover").cloned();
        (response.into_message(), header)
    })
    .await;
    assert_eq!(cover.0.content_type, "image/png");
    assert_eq!(
        cover.0.data,
        "\u{89}PNG cover of shelves/s1/books/b1".as_bytes()
    );
    assert_eq!(cover.1.unwrap(), "stored");

    // An HttpBody request field, raw over REST, and an HttpBody `response_body` (over REST the
    // answer is that field alone, as for any `response_body`).
    let image = tacos_runtime::HttpBody::new("image/jpeg", vec![0xff, 0xd8, 0xff, 0x00, 0x7f]);
    let stored = same_everywhere(&clients, |c| {
        let image = image.clone();
        async move {
            ok(c.put_cover(Request::new(PutCoverRequest {
                name: "shelves/s1/books/b1".into(),
                image: Some(image),
            }))
            .await)
            .image
        }
    })
    .await;
    assert_eq!(stored, Some(image));

    // A whole HttpBody request and response.
    let echoed = same_everywhere(&clients, |c| async move {
        ok(c.echo_body(Request::new(tacos_runtime::HttpBody::new(
            "text/csv",
            b"a,b\n1,2\n".to_vec(),
        )))
        .await)
    })
    .await;
    assert_eq!(echoed.content_type, "text/csv; echoed=true");
    assert_eq!(echoed.data, b"a,b\n1,2\n");

    // A stream of them: the same bytes and content type (REST cuts the body where the network
    // does, so only the concatenation is comparable).
    let text = same_everywhere(&clients, |c| async move {
        let chunks: Vec<_> = c
            .download_book(Request::new(GetBookRequest {
                name: "shelves/s1/books/b1".into(),
            }))
            .await
            .expect("stream opens")
            .into_message()
            .collect()
            .await;
        let chunks: Vec<_> = chunks.into_iter().map(|c| c.expect("chunk")).collect();
        let content_type = chunks[0].content_type.clone();
        let data: Vec<u8> = chunks.into_iter().flat_map(|c| c.data).collect();
        (content_type, String::from_utf8(data).unwrap())
    })
    .await;
    assert_eq!(text.0, "text/plain; charset=utf-8");
    assert_eq!(
        text.1,
        "chapter 1 of shelves/s1/books/b1\nchapter 2 of shelves/s1/books/b1\nchapter 3 of shelves/s1/books/b1\n"
    );

    // A raw stream has no room for a status: over REST a failure mid-stream cuts the body short
    // (the call fails, or its stream ends in an error, depending on what was flushed first).
    for (name, client) in &clients {
        let opened = client
            .download_book(Request::new(GetBookRequest {
                name: "shelves/s1/books/broken".into(),
            }))
            .await;
        let items: Vec<_> = match opened {
            Ok(response) => response.into_message().collect().await,
            Err(status) => vec![Err(status)],
        };
        let last = items
            .last()
            .unwrap()
            .as_ref()
            .expect_err("the stream fails");
        if *name == "rest" {
            assert_eq!(last.code(), Code::Unavailable, "{name}: {last}");
        } else {
            assert_eq!(last.code(), Code::DataLoss, "{name}: {last}");
            assert_eq!(
                items[0].as_ref().unwrap().data,
                b"chapter 1 of shelves/s1/books/broken\n"
            );
        }
    }
}
