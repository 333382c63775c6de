//! A test handler for the library contract, a server on a free loopback port, and clients.

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use futures::{Stream, StreamExt};
use tacos_runtime::server::{Listeners, Server};
use tacos_runtime::{
    HttpBody, MethodPolicy, Request, RequestStream, Response, ServerStream, Status,
};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::library::*;

/// Counts what happened to handlers, so tests can see cancellation.
#[derive(Default)]
pub struct Probe {
    pub slow_cancelled: AtomicUsize,
    pub slow_finished: AtomicUsize,
    pub streams_dropped: AtomicUsize,
    /// Imports that did not finish: dropped, or their request stream failed.
    pub imports_unfinished: AtomicUsize,
}

/// The handler under test.
#[derive(Default)]
pub struct TestLibrary {
    pub probe: Arc<Probe>,
    /// Replaces the handler's method policies (policy-stack tests).
    pub policies: Option<fn(&str) -> Option<&'static MethodPolicy>>,
}

static SLOW_POLICY: MethodPolicy = MethodPolicy {
    public: true,
    timeout: Some(Duration::from_millis(1500)),
    ..MethodPolicy::DEFAULT
};

struct SlowGuard {
    probe: Arc<Probe>,
    finished: bool,
}

impl Drop for SlowGuard {
    fn drop(&mut self) {
        let counter = if self.finished {
            &self.probe.slow_finished
        } else {
            &self.probe.slow_cancelled
        };
        counter.fetch_add(1, Ordering::SeqCst);
    }
}

/// Counts an import that did not finish.
struct ImportGuard {
    probe: Arc<Probe>,
    finished: bool,
}

impl Drop for ImportGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.probe.imports_unfinished.fetch_add(1, Ordering::SeqCst);
        }
    }
}

struct DropCounter(Arc<Probe>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.streams_dropped.fetch_add(1, Ordering::SeqCst);
    }
}

impl Library for TestLibrary {
    async fn get_book(&self, request: Request<GetBookRequest>) -> Result<Response<Book>, Status> {
        let name = request.message().name.clone();
        if name.ends_with("missing") {
            return Err(
                Status::not_found(format!("book {name} not found")).with_error_info(
                    "BOOK_NOT_FOUND",
                    "library.test",
                    [("name".to_owned(), name)],
                ),
            );
        }
        if name.ends_with("busy") {
            return Err(
                Status::unavailable("shelf is busy").with_retry_after(Duration::from_millis(1500))
            );
        }
        let mut tags = Vec::new();
        if let Some(echo) = request.metadata().get("x-echo") {
            tags.push(format!("echo:{}", echo.to_str().unwrap_or("?")));
        }
        if name.ends_with("timed") {
            // Lets client tests see whether a deadline reached the handler.
            let seen = request.context().deadline().is_some();
            tags.push(format!("deadline:{seen}"));
        }
        let mut response = Response::new(Book {
            title: format!("Title of {name}"),
            name,
            pages: 100,
            tags,
            genre: Genre::Science as i32,
            isbn: 9_780_441_013_593,
            ..Book::default()
        })
        .with_header("x-book-source", "memory");
        response
            .trailers_mut()
            .insert("x-served-by", "test-library".parse().unwrap());
        Ok(response)
    }

    async fn get_featured_book(&self, _request: Request<()>) -> Result<Response<Book>, Status> {
        Ok(Response::new(Book {
            name: "shelves/featured/books/1".into(),
            title: "Featured".into(),
            ..Book::default()
        }))
    }

    async fn create_book(
        &self,
        request: Request<CreateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let CreateBookRequest {
            parent,
            book,
            validate_only,
        } = request.into_message();
        let mut book = book.ok_or_else(|| Status::invalid_field("book", "required"))?;
        book.name = format!("{parent}/books/{}", book.title);
        if validate_only {
            book.tags.push("validated".into());
        }
        Ok(Response::new(book))
    }

    async fn update_book(
        &self,
        request: Request<UpdateBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let UpdateBookRequest {
            name,
            book,
            update_mask,
        } = request.into_message();
        let mut book = book.unwrap_or_default();
        // `/v2/{book.name=…}` names the book inside it and leaves `name` empty.
        if !name.is_empty() {
            book.name = name;
        }
        // The mask's paths come back as tags, so tests can see what was parsed.
        book.tags = update_mask.map(|m| m.paths).unwrap_or_default();
        Ok(Response::new(book))
    }

    async fn delete_book(
        &self,
        request: Request<DeleteBookRequest>,
    ) -> Result<Response<()>, Status> {
        if request.message().name.ends_with("missing") {
            return Err(Status::not_found("no such book"));
        }
        Ok(Response::new(()))
    }

    async fn archive_book(
        &self,
        request: Request<ArchiveBookRequest>,
    ) -> Result<Response<Book>, Status> {
        let ArchiveBookRequest { name, reason } = request.into_message();
        Ok(Response::new(Book {
            name,
            tags: vec![format!("archived:{reason}")],
            ..Book::default()
        }))
    }

    async fn get_file(&self, request: Request<GetFileRequest>) -> Result<Response<File>, Status> {
        Ok(Response::new(File {
            path: request.into_message().path,
        }))
    }

    async fn count_shelf(
        &self,
        request: Request<CountShelfRequest>,
    ) -> Result<Response<CountShelfResponse>, Status> {
        let shelf = request.into_message().shelf.unwrap_or_default();
        Ok(Response::new(CountShelfResponse {
            shelf_id: shelf.id,
            count: 3,
        }))
    }

    async fn list_by_genre(
        &self,
        request: Request<ListByGenreRequest>,
    ) -> Result<Response<ListBooksResponse>, Status> {
        let ListByGenreRequest { genre, page_size } = request.into_message();
        let books = (1..=page_size.clamp(0, 10))
            .map(|i| Book {
                name: format!("books/{i}"),
                genre,
                ..Book::default()
            })
            .collect();
        Ok(Response::new(ListBooksResponse { books }))
    }

    async fn search_books(
        &self,
        request: Request<SearchBooksRequest>,
    ) -> Result<Response<SearchBooksResponse>, Status> {
        Ok(Response::new(SearchBooksResponse {
            echo: Some(request.into_message()),
        }))
    }

    async fn slow(&self, request: Request<SlowRequest>) -> Result<Response<SlowResponse>, Status> {
        let mut guard = SlowGuard {
            probe: Arc::clone(&self.probe),
            finished: false,
        };
        let millis = u64::try_from(request.message().millis).unwrap_or(0);
        tokio::time::sleep(Duration::from_millis(millis)).await;
        guard.finished = true;
        Ok(Response::new(SlowResponse {
            note: format!("slept {millis}ms"),
        }))
    }

    async fn watch_books(
        &self,
        request: Request<WatchBooksRequest>,
    ) -> Result<Response<ServerStream<Book>>, Status> {
        let WatchBooksRequest {
            parent,
            count,
            fail_at,
            interval_millis,
        } = request.into_message();
        if count < 0 {
            return Err(Status::invalid_field("count", "must not be negative"));
        }
        let counter = DropCounter(Arc::clone(&self.probe));
        let interval = Duration::from_millis(u64::try_from(interval_millis).unwrap_or(0));
        let stream = futures::stream::unfold((1, counter), move |(index, counter)| {
            let parent = parent.clone();
            async move {
                if index > count {
                    return None;
                }
                if index > 1 && !interval.is_zero() {
                    tokio::time::sleep(interval).await;
                }
                let item = if index == fail_at {
                    Err(Status::aborted(format!("shelf changed at {index}")))
                } else {
                    Ok(Book {
                        name: format!("{parent}/books/{index}"),
                        title: format!("Book {index}"),
                        pages: index,
                        ..Book::default()
                    })
                };
                Some((item, (index + 1, counter)))
            }
        });
        Ok(Response::new(
            Box::pin(stream) as Pin<Box<dyn Stream<Item = _> + Send>>
        ))
    }

    async fn import_books(
        &self,
        request: Request<RequestStream<ImportBookRequest>>,
    ) -> Result<Response<ImportBooksResponse>, Status> {
        let mut guard = ImportGuard {
            probe: Arc::clone(&self.probe),
            finished: false,
        };
        let mut books = request.into_message();
        let read = async {
            let mut names = Vec::new();
            while let Some(item) = books.next().await {
                let ImportBookRequest { parent, book } = item?;
                let book = book.unwrap_or_default();
                if book.title == "fail" {
                    return Err(Status::invalid_field("book.title", "\"fail\" is refused"));
                }
                names.push(format!("{parent}/books/{}", book.title));
            }
            Ok(names)
        };
        let names = read.await?;
        guard.finished = true;
        Ok(Response::new(ImportBooksResponse {
            count: i32::try_from(names.len()).unwrap_or(i32::MAX),
            names,
        }))
    }

    async fn echo_books(
        &self,
        request: Request<RequestStream<ImportBookRequest>>,
    ) -> Result<Response<ServerStream<Book>>, Status> {
        let counter = DropCounter(Arc::clone(&self.probe));
        let books = request.into_message();
        let echoed = futures::stream::unfold(
            (books, counter, false),
            |(mut books, counter, failed)| async move {
                if failed {
                    return None;
                }
                let item = match books.next().await? {
                    Ok(ImportBookRequest { parent, book }) => {
                        let book = book.unwrap_or_default();
                        if book.title == "fail" {
                            Err(Status::aborted("a book titled \"fail\" ends the echo"))
                        } else {
                            Ok(Book {
                                name: format!("{parent}/books/{}", book.title),
                                ..book
                            })
                        }
                    }
                    Err(status) => Err(status),
                };
                let failed = item.is_err();
                Some((item, (books, counter, failed)))
            },
        );
        Ok(Response::new(tacos_runtime::server_stream(echoed)))
    }

    async fn get_cover(
        &self,
        request: Request<GetCoverRequest>,
    ) -> Result<Response<HttpBody>, Status> {
        let name = request.into_message().name;
        if name.ends_with("missing") {
            return Err(Status::not_found(format!("book {name} has no cover")));
        }
        let image = format!("\u{89}PNG cover of {name}").into_bytes();
        Ok(Response::new(HttpBody::new("image/png", image)).with_header("x-cover", "stored"))
    }

    async fn put_cover(
        &self,
        request: Request<PutCoverRequest>,
    ) -> Result<Response<Cover>, Status> {
        let PutCoverRequest { name, image } = request.into_message();
        let image = image.ok_or_else(|| Status::invalid_field("image", "required"))?;
        Ok(Response::new(Cover {
            name,
            size: image.data.len() as i64,
            image: Some(image),
        }))
    }

    async fn echo_body(&self, request: Request<HttpBody>) -> Result<Response<HttpBody>, Status> {
        let body = request.into_message();
        Ok(Response::new(HttpBody::new(
            format!("{}; echoed=true", body.content_type),
            body.data,
        )))
    }

    async fn download_book(
        &self,
        request: Request<GetBookRequest>,
    ) -> Result<Response<ServerStream<HttpBody>>, Status> {
        let name = request.into_message().name;
        let broken = name.ends_with("broken");
        let chunks = (1..=3).map(move |chapter| {
            if broken && chapter == 2 {
                return Err(Status::data_loss("chapter 2 is lost"));
            }
            Ok(HttpBody::new(
                "text/plain; charset=utf-8",
                format!("chapter {chapter} of {name}\n").into_bytes(),
            ))
        });
        Ok(Response::new(tacos_runtime::server_stream(
            futures::stream::iter(chunks),
        )))
    }

    fn method_policy(&self, method: &str) -> Option<&'static MethodPolicy> {
        if let Some(policies) = self.policies {
            return policies(method);
        }
        match method {
            "Slow" => Some(&SLOW_POLICY),
            _ => None,
        }
    }
}

/// A server on a free loopback port serving both protocols; stopped when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    pub handler: Arc<TestLibrary>,
    pub health: tacos_runtime::server::Health,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl TestServer {
    pub async fn start() -> Self {
        Self::start_with(Server::builder()).await
    }

    pub async fn start_with(builder: tacos_runtime::server::ServerBuilder) -> Self {
        Self::start_handler(builder, Arc::new(TestLibrary::default())).await
    }

    pub async fn start_handler(
        builder: tacos_runtime::server::ServerBuilder,
        handler: Arc<TestLibrary>,
    ) -> Self {
        let server = builder
            .add(library_service(Arc::clone(&handler)))
            .drain_timeout(Duration::from_secs(5))
            .build()
            .expect("server builds");
        let health = server.health();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            server
                .serve(Listeners::both(listener), async {
                    let _ = rx.await;
                })
                .await
                .expect("server runs");
        });
        Self {
            addr,
            handler,
            health,
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn probe(&self) -> &Probe {
        &self.handler.probe
    }

    /// Triggers a graceful shutdown and waits for the server to finish draining.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            tokio::time::timeout(Duration::from_secs(10), task)
                .await
                .expect("server drains in time")
                .expect("server task ends cleanly");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

pub async fn channel(addr: SocketAddr) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .expect("grpc connects")
}

/// Calls a unary method with a hand-rolled tonic client (no generated stubs needed).
pub async fn grpc_unary<Req, Resp>(
    channel: &tonic::transport::Channel,
    method: &'static str,
    request: tonic::Request<Req>,
) -> Result<tonic::Response<Resp>, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut client = tonic::client::Grpc::new(channel.clone());
    client.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static(method);
    client
        .unary(
            request,
            path,
            tonic_prost::ProstCodec::<Req, Resp>::default(),
        )
        .await
}

/// Opens a server stream with a hand-rolled tonic client.
pub async fn grpc_stream<Req, Resp>(
    channel: &tonic::transport::Channel,
    method: &'static str,
    request: tonic::Request<Req>,
) -> Result<tonic::Response<tonic::codec::Streaming<Resp>>, tonic::Status>
where
    Req: prost::Message + Send + Sync + 'static,
    Resp: prost::Message + Default + Send + Sync + 'static,
{
    let mut client = tonic::client::Grpc::new(channel.clone());
    client.ready().await.expect("channel ready");
    let path = http::uri::PathAndQuery::from_static(method);
    client
        .server_streaming(
            request,
            path,
            tonic_prost::ProstCodec::<Req, Resp>::default(),
        )
        .await
}

/// A gRPC client without tonic's transport layers, so a `grpc-timeout` header is enforced by
/// the server alone (tonic's channel would race it with a local timer).
pub fn raw_grpc(
    addr: SocketAddr,
) -> tonic::client::Grpc<
    hyper_util::client::legacy::Client<
        hyper_util::client::legacy::connect::HttpConnector,
        tonic::body::Body,
    >,
> {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .http2_only(true)
        .build_http();
    tonic::client::Grpc::with_origin(client, format!("http://{addr}").parse().unwrap())
}

pub fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Waits until `check` holds, for at most `limit`.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    check()
}

/// The first `BadRequest` violation's field of a REST error body.
pub fn violated_field(body: &[u8]) -> String {
    let status = Status::from_json(body).expect("an error body");
    status
        .details()
        .bad_request
        .as_ref()
        .and_then(|b| b.field_violations.first())
        .map(|v| v.field.clone())
        .unwrap_or_default()
}
