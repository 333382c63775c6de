//! Client resilience against misbehaving backends on 127.0.0.1, over gRPC and over REST: a
//! backend failing N times then answering, one stalling, one dropping connections; the retry
//! budget against a storm; the circuit breaker's whole cycle; a propagated deadline cancelling
//! the backend's handler.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use http::HeaderMap;
use tacos_runtime::client::{ClientOptions, GrpcTransport, RestTransport, Transport};
use tacos_runtime::context::CallScope;
use tacos_runtime::metrics::Metrics;
use tacos_runtime::resilience::{BreakerConfig, BreakerState, ResilienceConfig, RetryPolicy};
use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::{
    Code, HttpBody, Idempotency, Request, RequestStream, Response, ServerStream, Status,
};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::library::*;
use crate::support::{eventually, TestLibrary};

/// The test library behind a switch: while `failures_left` is above zero, or while `down`,
/// every call answers `UNAVAILABLE` (and uses one failure up). With `retitle`, `GetBook`
/// answers that title instead of the library's (a backend that differs in one field).
#[derive(Default)]
pub(crate) struct Flaky {
    pub(crate) library: TestLibrary,
    pub(crate) failures_left: AtomicUsize,
    pub(crate) down: AtomicBool,
    pub(crate) calls: AtomicUsize,
    pub(crate) retitle: Option<&'static str>,
    /// The next call answers `RESOURCE_EXHAUSTED` asking for this wait (`RetryInfo`), in ms.
    pub(crate) pushback_ms: AtomicUsize,
}

impl Flaky {
    fn gate(&self) -> Result<(), Status> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        let pushback = self.pushback_ms.swap(0, Ordering::SeqCst);
        if pushback > 0 {
            return Err(Status::resource_exhausted("slow down")
                .with_retry_after(Duration::from_millis(pushback as u64)));
        }
        let failing = self.down.load(Ordering::SeqCst)
            || self
                .failures_left
                .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                .is_ok();
        if failing {
            Err(Status::unavailable("warming up"))
        } else {
            Ok(())
        }
    }
}

impl Library for Flaky {
    async fn get_book(&self, request: Request<GetBookRequest>) -> Result<Response<Book>, Status> {
        self.gate()?;
        let response = self.library.get_book(request).await?;
        Ok(match self.retitle {
            Some(title) => response.map(|book| Book {
                title: title.to_owned(),
                ..book
            }),
            None => response,
        })
    }
    async fn get_featured_book(&self, request: Request<()>) -> Result<Response<Book>, Status> {
        self.gate()?;
        self.library.get_featured_book(request).await
    }
    async fn create_book(
        &self,
        request: Request<CreateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        self.gate()?;
        self.library.create_book(request).await
    }
    async fn update_book(
        &self,
        request: Request<UpdateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        self.gate()?;
        self.library.update_book(request).await
    }
    async fn delete_book(
        &self,
        request: Request<DeleteBookRequest>,
    ) -> Result<Response<()>, Status> {
        self.gate()?;
        self.library.delete_book(request).await
    }
    async fn archive_book(
        &self,
        request: Request<ArchiveBookRequest>,
    ) -> Result<Response<Book>, Status> {
        self.gate()?;
        self.library.archive_book(request).await
    }
    async fn get_file(&self, request: Request<GetFileRequest>) -> Result<Response<File>, Status> {
        self.gate()?;
        self.library.get_file(request).await
    }
    async fn count_shelf(
        &self,
        request: Request<CountShelfRequest>,
    ) -> Result<Response<CountShelfResponse>, Status> {
        self.gate()?;
        self.library.count_shelf(request).await
    }
    async fn list_by_genre(
        &self,
        request: Request<ListByGenreRequest>,
    ) -> Result<Response<ListBooksResponse>, Status> {
        self.gate()?;
        self.library.list_by_genre(request).await
    }
    async fn search_books(
        &self,
        request: Request<SearchBooksRequest>,
    ) -> Result<Response<SearchBooksResponse>, Status> {
        self.gate()?;
        self.library.search_books(request).await
    }
    async fn slow(&self, request: Request<SlowRequest>) -> Result<Response<SlowResponse>, Status> {
        self.gate()?;
        self.library.slow(request).await
    }
    async fn watch_books(
        &self,
        request: Request<WatchBooksRequest>,
    ) -> Result<Response<ServerStream<Book>>, Status> {
        self.gate()?;
        self.library.watch_books(request).await
    }
    async fn import_books(
        &self,
        request: Request<RequestStream<ImportBookRequest>>,
    ) -> Result<Response<ImportBooksResponse>, Status> {
        self.gate()?;
        self.library.import_books(request).await
    }
    async fn echo_books(
        &self,
        request: Request<RequestStream<ImportBookRequest>>,
    ) -> Result<Response<ServerStream<Book>>, Status> {
        self.gate()?;
        self.library.echo_books(request).await
    }
    async fn get_cover(
        &self,
        request: Request<GetCoverRequest>,
    ) -> Result<Response<HttpBody>, Status> {
        self.gate()?;
        self.library.get_cover(request).await
    }
    async fn put_cover(
        &self,
        request: Request<PutCoverRequest>,
    ) -> Result<Response<Cover>, Status> {
        self.gate()?;
        self.library.put_cover(request).await
    }
    async fn echo_body(&self, request: Request<HttpBody>) -> Result<Response<HttpBody>, Status> {
        self.gate()?;
        self.library.echo_body(request).await
    }
    async fn download_book(
        &self,
        request: Request<GetBookRequest>,
    ) -> Result<Response<ServerStream<HttpBody>>, Status> {
        self.gate()?;
        self.library.download_book(request).await
    }
}

/// A [`Flaky`] library served over both protocols on a free loopback port.
pub(crate) struct FlakyServer {
    pub(crate) address: String,
    pub(crate) handler: Arc<Flaky>,
    _shutdown: oneshot::Sender<()>,
}

impl FlakyServer {
    pub(crate) async fn start() -> Self {
        Self::serve(Flaky::default()).await
    }

    pub(crate) async fn serve(handler: Flaky) -> Self {
        let handler = Arc::new(handler);
        let server = Server::builder()
            .add(library_service(Arc::clone(&handler)))
            .build()
            .expect("server builds");
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = format!("http://{}", listener.local_addr().unwrap());
        let (shutdown, stop) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = server
                .serve(Listeners::both(listener), async {
                    let _ = stop.await;
                })
                .await;
        });
        Self {
            address,
            handler,
            _shutdown: shutdown,
        }
    }

    pub(crate) fn calls(&self) -> usize {
        self.handler.calls.load(Ordering::SeqCst)
    }
}

/// Five attempts with short backoffs, and a breaker that stays out of the way.
fn retrying() -> ResilienceConfig {
    ResilienceConfig {
        retry: RetryPolicy::default().with_max_attempts(5).with_backoff(
            Duration::from_millis(5),
            Duration::from_millis(20),
            2.0,
        ),
        breaker: BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        },
        ..ResilienceConfig::default()
    }
}

/// The gRPC and the REST transport to `address`, built with `config`.
fn transports(address: &str, config: &ResilienceConfig) -> [(&'static str, Transport); 2] {
    let grpc = GrpcTransport::builder(address)
        .connections(1)
        .resilience(config.clone())
        .build()
        .unwrap();
    let rest = RestTransport::builder(address)
        .resilience(config.clone())
        .build()
        .unwrap();
    [("grpc", grpc.into()), ("rest", rest.into())]
}

fn stats(transport: &Transport) -> tacos_runtime::resilience::ResilienceStats {
    match transport {
        Transport::Grpc(grpc) => grpc.resilience().stats(),
        Transport::Rest(rest) => rest.resilience().stats(),
        Transport::Split(_) => unreachable!("single transports only"),
    }
}

fn safe_get_book() -> ClientOptions {
    ClientOptions::new().safe_method("GetBook")
}

fn get_book(deadline: Duration) -> Request<GetBookRequest> {
    let mut request = Request::new(GetBookRequest {
        name: "shelves/1/books/1".into(),
    });
    request
        .context_mut()
        .set_deadline(Some(Instant::now() + deadline));
    request
}

fn create_book() -> Request<CreateBookRequest> {
    let mut request = Request::new(CreateBookRequest {
        parent: "shelves/1".into(),
        book: Some(Book {
            title: "Dune".into(),
            ..Book::default()
        }),
        validate_only: true,
    });
    request
        .context_mut()
        .set_deadline(Some(Instant::now() + Duration::from_secs(5)));
    request
}

#[tokio::test]
async fn safe_methods_are_retried_within_the_deadline_and_others_are_not() {
    let server = FlakyServer::start().await;
    for (name, transport) in transports(&server.address, &retrying()) {
        let client = LibraryClient::with_options(transport.clone(), safe_get_book());
        let before = server.calls();
        server.handler.failures_left.store(2, Ordering::SeqCst);
        let book = client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(book.message().name, "shelves/1/books/1", "{name}");
        assert_eq!(
            server.calls() - before,
            3,
            "{name}: two failures, one success"
        );
        assert_eq!(stats(&transport).retries, 2, "{name}");

        let before = server.calls();
        server.handler.failures_left.store(2, Ordering::SeqCst);
        let err = client.create_book(create_book()).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{name}");
        assert_eq!(err.message(), "warming up", "{name}");
        assert_eq!(
            server.calls() - before,
            1,
            "{name}: CreateBook is not safe to repeat"
        );
        assert_eq!(stats(&transport).retries, 2, "{name}");
    }
}

#[tokio::test]
async fn methods_the_contract_declares_idempotent_are_retried_unmarked() {
    let delete = LIBRARY_METHODS
        .iter()
        .find(|m| m.name == "DeleteBook")
        .unwrap();
    assert_eq!(delete.idempotency, Idempotency::Idempotent);
    let server = FlakyServer::start().await;
    for (name, transport) in transports(&server.address, &retrying()) {
        let client = LibraryClient::new(transport.clone());
        let before = server.calls();
        server.handler.failures_left.store(2, Ordering::SeqCst);
        let mut request = Request::new(DeleteBookRequest {
            name: "shelves/1/books/1".into(),
        });
        request
            .context_mut()
            .set_deadline(Some(Instant::now() + Duration::from_secs(5)));
        client
            .delete_book(request)
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            server.calls() - before,
            3,
            "{name}: two failures, one success"
        );

        // Marking a method the contract leaves undeclared makes it retried too.
        let marked = LibraryClient::with_options(
            transport.clone(),
            ClientOptions::new().safe_method("CreateBook"),
        );
        let before = server.calls();
        server.handler.failures_left.store(1, Ordering::SeqCst);
        marked
            .create_book(create_book())
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert_eq!(
            server.calls() - before,
            2,
            "{name}: one failure, one success"
        );
    }
}

#[tokio::test]
async fn the_server_s_retry_info_sets_the_wait() {
    let server = FlakyServer::start().await;
    for (name, transport) in transports(&server.address, &retrying()) {
        let client = LibraryClient::with_options(transport, safe_get_book());
        server.handler.pushback_ms.store(200, Ordering::SeqCst);
        let before = server.calls();
        let started = Instant::now();
        client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(started.elapsed() >= Duration::from_millis(200), "{name}");
        assert_eq!(server.calls() - before, 2, "{name}");

        // A wait longer than the deadline leaves: the server's answer at once.
        server.handler.pushback_ms.store(2_000, Ordering::SeqCst);
        let started = Instant::now();
        let err = client
            .get_book(get_book(Duration::from_millis(500)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::ResourceExhausted, "{name}: {err}");
        assert!(started.elapsed() < Duration::from_millis(400), "{name}");
    }
}

#[tokio::test]
async fn a_retry_never_outlasts_the_deadline() {
    let server = FlakyServer::start().await;
    server.handler.down.store(true, Ordering::SeqCst);
    let config = ResilienceConfig {
        retry: RetryPolicy::default().with_max_attempts(5).with_backoff(
            Duration::from_millis(150),
            Duration::from_millis(150),
            1.0,
        ),
        ..retrying()
    };
    for (name, transport) in transports(&server.address, &config) {
        let client = LibraryClient::with_options(transport, safe_get_book());
        let started = Instant::now();
        let err = client
            .get_book(get_book(Duration::from_millis(250)))
            .await
            .unwrap_err();
        assert!(
            matches!(err.code(), Code::Unavailable | Code::DeadlineExceeded),
            "{name}: {err}"
        );
        assert!(
            started.elapsed() < Duration::from_millis(400),
            "{name}: one deadline over all attempts, took {:?}",
            started.elapsed()
        );
    }
}

#[tokio::test]
async fn a_stalled_backend_ends_at_the_propagated_deadline_and_its_handler_is_cancelled() {
    let server = FlakyServer::start().await;
    for (name, transport) in transports(&server.address, &retrying()) {
        let client = LibraryClient::new(transport);
        let probe = Arc::clone(&server.handler.library.probe);
        let before = probe.slow_cancelled.load(Ordering::SeqCst);
        // The deadline comes from the incoming call the client serves, not from the request.
        let scope = Arc::new(CallScope::new(
            Some(Instant::now() + Duration::from_millis(300)),
            HeaderMap::new(),
        ));
        let started = Instant::now();
        let err = scope
            .enter(async move {
                client
                    .slow(Request::new(SlowRequest { millis: 10_000 }))
                    .await
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::DeadlineExceeded, "{name}: {err}");
        assert!(started.elapsed() < Duration::from_millis(1_000), "{name}");
        assert!(
            eventually(Duration::from_secs(3), || {
                probe.slow_cancelled.load(Ordering::SeqCst) > before
            })
            .await,
            "{name}: the backend's handler was not cancelled"
        );
    }
}

/// Accepts connections and closes them at once; counts them.
async fn dropping_backend() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}", listener.local_addr().unwrap());
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&accepted);
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (address, accepted)
}

#[tokio::test]
async fn dropped_connections_are_unavailable_and_retried_only_for_safe_methods() {
    let (address, accepted) = dropping_backend().await;
    for (name, transport) in transports(&address, &retrying()) {
        let client = LibraryClient::with_options(transport.clone(), safe_get_book());
        let before = accepted.load(Ordering::SeqCst);
        let started = Instant::now();
        let err = client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{name}: {err}");
        assert!(started.elapsed() < Duration::from_secs(3), "{name}");
        assert_eq!(stats(&transport).retries, 4, "{name}: every attempt used");
        assert!(accepted.load(Ordering::SeqCst) - before >= 5, "{name}");

        let err = client.create_book(create_book()).await.unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{name}: {err}");
        assert_eq!(
            stats(&transport).retries,
            4,
            "{name}: CreateBook not retried"
        );
    }
}

#[tokio::test]
async fn the_budget_stops_a_retry_storm() {
    let server = FlakyServer::start().await;
    server.handler.down.store(true, Ordering::SeqCst);
    for (name, transport) in transports(&server.address, &retrying()) {
        let client = LibraryClient::with_options(transport.clone(), safe_get_book());
        // Ten tokens, one per failure, retries only above five: the first call makes its five
        // attempts, the next ones one each.
        let before = server.calls();
        client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(server.calls() - before, 5, "{name}");
        for more in 1..=3 {
            client
                .get_book(get_book(Duration::from_secs(5)))
                .await
                .unwrap_err();
            assert_eq!(server.calls() - before, 5 + more, "{name}");
        }
        assert!(stats(&transport).throttled >= 3, "{name}");
    }
}

#[tokio::test]
async fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let server = FlakyServer::start().await;
    let config = ResilienceConfig {
        retry: RetryPolicy::no_retries(),
        breaker: BreakerConfig {
            consecutive_failures: 3,
            open_duration: Duration::from_millis(300),
            ..BreakerConfig::default()
        },
        ..ResilienceConfig::default()
    };
    for (name, transport) in transports(&server.address, &config) {
        server.handler.down.store(true, Ordering::SeqCst);
        let client = LibraryClient::new(transport.clone());
        let before = server.calls();
        for _ in 0..3 {
            client
                .get_book(get_book(Duration::from_secs(5)))
                .await
                .unwrap_err();
        }
        assert_eq!(server.calls() - before, 3, "{name}");
        assert_eq!(transport.breaker_state(), BreakerState::Open, "{name}");
        assert_eq!(breaker_gauge(&server.address), Some(2.0), "{name}: open");
        let err = client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable, "{name}");
        assert!(err.message().contains("circuit breaker"), "{name}: {err}");
        assert_eq!(
            server.calls() - before,
            3,
            "{name}: an open breaker sends nothing"
        );

        // Another client of the same transport shares the breaker.
        let other = LibraryClient::new(transport.clone());
        assert!(other
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .is_err());
        assert_eq!(server.calls() - before, 3, "{name}");

        // After the cool-down one probe goes through; its failure opens the breaker again.
        tokio::time::sleep(Duration::from_millis(350)).await;
        client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap_err();
        assert_eq!(server.calls() - before, 4, "{name}: the half-open probe");
        assert_eq!(transport.breaker_state(), BreakerState::Open, "{name}");

        // A successful probe closes it.
        tokio::time::sleep(Duration::from_millis(350)).await;
        server.handler.down.store(false, Ordering::SeqCst);
        client
            .get_book(get_book(Duration::from_secs(5)))
            .await
            .unwrap();
        assert_eq!(server.calls() - before, 5, "{name}");
        assert_eq!(transport.breaker_state(), BreakerState::Closed, "{name}");
        assert_eq!(breaker_gauge(&server.address), Some(0.0), "{name}: closed");
    }
}

/// `tacos_client_breaker_state` of `target` in the default registry's text.
fn breaker_gauge(target: &str) -> Option<f64> {
    let prefix = format!("tacos_client_breaker_state{{target=\"{target}\"}} ");
    Metrics::global()
        .render()
        .lines()
        .find_map(|line| line.strip_prefix(&prefix)?.trim().parse().ok())
}
