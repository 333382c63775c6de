//! Client resilience against a misbehaving REST backend on 127.0.0.1: retries of safe methods,
//! the retry budget, the circuit breaker, and one deadline over all attempts.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tacos_runtime::client::{
    BreakerConfig, BreakerState, ClientOptions, RestTransport, RetryPolicy, Transport,
};
use tacos_runtime::{Code, Request};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use crate::library::*;

type Script = dyn Fn(usize) -> (u16, String) + Send + Sync;

/// An HTTP/1.1 backend answering the `n`-th request (from 0) with `script(n)`.
struct Backend {
    address: String,
    requests: Arc<AtomicUsize>,
}

impl Backend {
    async fn start(script: impl Fn(usize) -> (u16, String) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(AtomicUsize::new(0));
        let script: Arc<Script> = Arc::new(script);
        let counter = Arc::clone(&requests);
        tokio::spawn(async move {
            while let Ok((mut socket, _)) = listener.accept().await {
                let script = Arc::clone(&script);
                let counter = Arc::clone(&counter);
                tokio::spawn(async move {
                    let mut buffer = Vec::new();
                    let mut chunk = [0u8; 4096];
                    // Requests here carry no body: the header block is the whole request.
                    while !buffer.windows(4).any(|w| w == b"\r\n\r\n") {
                        match socket.read(&mut chunk).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                        }
                    }
                    let n = counter.fetch_add(1, Ordering::SeqCst);
                    let (status, body) = script(n);
                    let response = format!(
                        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\n\
                         content-length: {}\r\nconnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = socket.write_all(response.as_bytes()).await;
                    let _ = socket.shutdown().await;
                });
            }
        });
        Self { address, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn unavailable() -> (u16, String) {
    (
        503,
        r#"{"code":14,"message":"warming up","details":[]}"#.to_owned(),
    )
}

fn book() -> (u16, String) {
    (
        200,
        r#"{"name":"shelves/1/books/1","title":"T"}"#.to_owned(),
    )
}

fn fast_retries() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 5,
        initial_backoff: Duration::from_millis(10),
        max_backoff: Duration::from_millis(50),
        multiplier: 2.0,
    }
}

/// A breaker that does not get in the way of retry tests.
fn lenient() -> BreakerConfig {
    BreakerConfig {
        consecutive_failures: 1_000,
        min_calls: 1_000,
        ..BreakerConfig::default()
    }
}

fn rest_client(backend: &Backend, breaker: BreakerConfig, options: ClientOptions) -> LibraryClient {
    let rest = RestTransport::builder(&backend.address)
        .breaker(breaker)
        .build()
        .unwrap();
    LibraryClient::with_options(rest, options)
}

fn get_book() -> Request<GetBookRequest> {
    let mut request = Request::new(GetBookRequest {
        name: "shelves/1/books/1".into(),
    });
    request
        .context_mut()
        .set_deadline(Some(Instant::now() + Duration::from_secs(5)));
    request
}

#[tokio::test]
async fn safe_methods_are_retried_and_others_are_not() {
    let backend = Backend::start(|n| if n < 2 { unavailable() } else { book() }).await;
    let options = ClientOptions::new()
        .retry(fast_retries())
        .safe_method("GetBook");
    let client = rest_client(&backend, lenient(), options);
    let book = client.get_book(get_book()).await.unwrap().into_message();
    assert_eq!(book.title, "T");
    assert_eq!(backend.requests(), 3);

    let backend = Backend::start(|_| unavailable()).await;
    let options = ClientOptions::new()
        .retry(fast_retries())
        .safe_method("GetBook");
    let client = rest_client(&backend, lenient(), options);
    let err = client
        .create_book(Request::new(CreateBookRequest {
            parent: "shelves/1".into(),
            ..CreateBookRequest::default()
        }))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(err.message(), "warming up");
    assert_eq!(backend.requests(), 1, "CreateBook is not safe to repeat");
}

#[tokio::test]
async fn retry_info_sets_the_wait_and_the_deadline_bounds_all_attempts() {
    let backend = Backend::start(|n| {
        if n == 0 {
            (
                429,
                r#"{"code":8,"message":"slow down","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"0.200s"}]}"#.to_owned(),
            )
        } else {
            book()
        }
    })
    .await;
    let options = ClientOptions::new()
        .retry(fast_retries())
        .safe_method("GetBook");
    let client = rest_client(&backend, lenient(), options.clone());
    let started = Instant::now();
    client.get_book(get_book()).await.unwrap();
    assert!(started.elapsed() >= Duration::from_millis(200));
    assert_eq!(backend.requests(), 2);

    // A server asking for a wait longer than the deadline leaves gets its answer at once.
    let backend = Backend::start(|_| {
        (
            503,
            r#"{"code":14,"message":"later","details":[{"@type":"type.googleapis.com/google.rpc.RetryInfo","retryDelay":"2s"}]}"#.to_owned(),
        )
    })
    .await;
    let client = rest_client(&backend, lenient(), options);
    let mut request = get_book();
    request
        .context_mut()
        .set_deadline(Some(Instant::now() + Duration::from_millis(500)));
    let started = Instant::now();
    let err = client.get_book(request).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(started.elapsed() < Duration::from_millis(400));
    assert_eq!(backend.requests(), 1);
}

#[tokio::test]
async fn the_budget_stops_a_retry_storm() {
    let backend = Backend::start(|_| unavailable()).await;
    let options = ClientOptions::new()
        .retry(fast_retries())
        .safe_method("GetBook");
    let client = rest_client(&backend, lenient(), options);
    // Ten tokens, one per failure, retries only above five: the first call makes its five
    // attempts, the next ones one each.
    client.get_book(get_book()).await.unwrap_err();
    assert_eq!(backend.requests(), 5);
    for expected in 6..=8 {
        client.get_book(get_book()).await.unwrap_err();
        assert_eq!(backend.requests(), expected);
    }
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let healthy = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&healthy);
    let backend = Backend::start(move |_| {
        if flag.load(Ordering::SeqCst) {
            book()
        } else {
            unavailable()
        }
    })
    .await;
    let breaker = BreakerConfig {
        consecutive_failures: 3,
        open_for: Duration::from_millis(300),
        ..BreakerConfig::default()
    };
    let rest = RestTransport::builder(&backend.address)
        .breaker(breaker)
        .build()
        .unwrap();
    let transport = Transport::from(rest);
    let client = LibraryClient::new(transport.clone());
    for _ in 0..3 {
        client.get_book(get_book()).await.unwrap_err();
    }
    assert_eq!(backend.requests(), 3);
    assert_eq!(transport.breaker_state(), BreakerState::Open);
    let err = client.get_book(get_book()).await.unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert!(err.message().contains("circuit breaker"), "{err}");
    assert_eq!(backend.requests(), 3, "an open breaker sends nothing");

    // Another client of the same target shares the breaker.
    let other = LibraryClient::new(transport.clone());
    assert!(other.get_book(get_book()).await.is_err());
    assert_eq!(backend.requests(), 3);

    tokio::time::sleep(Duration::from_millis(350)).await;
    healthy.store(true, Ordering::SeqCst);
    client.get_book(get_book()).await.unwrap();
    assert_eq!(backend.requests(), 4);
    assert_eq!(transport.breaker_state(), BreakerState::Closed);
}
