//! Service expansion for `tacos.test.v1.Library`, exactly as the service emitter writes it.

#![allow(clippy::all)]

use super::messages::*;

/// Handler trait for `tacos.test.v1.Library`: implement it once, serve it over gRPC and REST.
pub trait Library: ::core::marker::Send + ::core::marker::Sync + 'static {
    /// `GetBook`
    fn get_book(
        &self,
        request: ::tacos_runtime::__private::Request<GetBookRequest>,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::tacos_runtime::__private::Response<Book>,
            ::tacos_runtime::__private::Status,
        >,
    > + ::core::marker::Send;
    /// `CreateBook`
    fn create_book(
        &self,
        request: ::tacos_runtime::__private::Request<CreateBookRequest>,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::tacos_runtime::__private::Response<Book>,
            ::tacos_runtime::__private::Status,
        >,
    > + ::core::marker::Send;
    /// `SearchBooks`
    fn search_books(
        &self,
        request: ::tacos_runtime::__private::Request<SearchBooksRequest>,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::tacos_runtime::__private::Response<SearchBooksResponse>,
            ::tacos_runtime::__private::Status,
        >,
    > + ::core::marker::Send;
    /// `Slow`
    fn slow(
        &self,
        request: ::tacos_runtime::__private::Request<SlowRequest>,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::tacos_runtime::__private::Response<SlowResponse>,
            ::tacos_runtime::__private::Status,
        >,
    > + ::core::marker::Send;
    /// `WatchBooks` (server streaming)
    fn watch_books(
        &self,
        request: ::tacos_runtime::__private::Request<WatchBooksRequest>,
    ) -> impl ::core::future::Future<
        Output = ::core::result::Result<
            ::tacos_runtime::__private::Response<::tacos_runtime::__private::ServerStream<Book>>,
            ::tacos_runtime::__private::Status,
        >,
    > + ::core::marker::Send;
    /// The declared policy of `method` (its name in the contract); the service macro overrides this.
    fn method_policy(
        &self,
        method: &str,
    ) -> ::core::option::Option<&'static ::tacos_runtime::__private::MethodPolicy> {
        let _ = method;
        ::core::option::Option::None
    }
}

/// Fully qualified name of `tacos.test.v1.Library`.
pub const LIBRARY_SERVICE_NAME: &str = "tacos.test.v1.Library";

/// Methods of `tacos.test.v1.Library`, in contract order.
pub const LIBRARY_METHODS: &[::tacos_runtime::__private::MethodInfo] = &[
    ::tacos_runtime::__private::MethodInfo {
        service: "tacos.test.v1.Library",
        name: "GetBook",
        path: "/tacos.test.v1.Library/GetBook",
        kind: ::tacos_runtime::__private::MethodKind::Unary,
    },
    ::tacos_runtime::__private::MethodInfo {
        service: "tacos.test.v1.Library",
        name: "CreateBook",
        path: "/tacos.test.v1.Library/CreateBook",
        kind: ::tacos_runtime::__private::MethodKind::Unary,
    },
    ::tacos_runtime::__private::MethodInfo {
        service: "tacos.test.v1.Library",
        name: "SearchBooks",
        path: "/tacos.test.v1.Library/SearchBooks",
        kind: ::tacos_runtime::__private::MethodKind::Unary,
    },
    ::tacos_runtime::__private::MethodInfo {
        service: "tacos.test.v1.Library",
        name: "Slow",
        path: "/tacos.test.v1.Library/Slow",
        kind: ::tacos_runtime::__private::MethodKind::Unary,
    },
    ::tacos_runtime::__private::MethodInfo {
        service: "tacos.test.v1.Library",
        name: "WatchBooks",
        path: "/tacos.test.v1.Library/WatchBooks",
        kind: ::tacos_runtime::__private::MethodKind::ServerStreaming,
    },
];

/// REST bindings of `tacos.test.v1.Library` (`google.api.http`, additional bindings included).
pub static LIBRARY_ROUTES: &[::tacos_runtime::__private::rest::RouteSpec] = &[
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Get,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Var {
                    field: "name",
                    segments: &[
                        ::tacos_runtime::__private::rest::Seg::Lit("shelves"),
                        ::tacos_runtime::__private::rest::Seg::Star,
                        ::tacos_runtime::__private::rest::Seg::Lit("books"),
                        ::tacos_runtime::__private::rest::Seg::Star,
                    ],
                },
            ],
            verb: ::core::option::Option::None,
        },
        body: ::tacos_runtime::__private::rest::BodySelector::None,
        response_body: ::core::option::Option::None,
        rpc: &LIBRARY_METHODS[0],
    },
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Get,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Lit("books"),
                ::tacos_runtime::__private::rest::Seg::Var {
                    field: "name",
                    segments: &[],
                },
            ],
            verb: ::core::option::Option::None,
        },
        body: ::tacos_runtime::__private::rest::BodySelector::None,
        response_body: ::core::option::Option::None,
        rpc: &LIBRARY_METHODS[0],
    },
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Post,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Var {
                    field: "parent",
                    segments: &[
                        ::tacos_runtime::__private::rest::Seg::Lit("shelves"),
                        ::tacos_runtime::__private::rest::Seg::Star,
                    ],
                },
                ::tacos_runtime::__private::rest::Seg::Lit("books"),
            ],
            verb: ::core::option::Option::None,
        },
        body: ::tacos_runtime::__private::rest::BodySelector::Field("book"),
        response_body: ::core::option::Option::None,
        rpc: &LIBRARY_METHODS[1],
    },
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Get,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Lit("books"),
            ],
            verb: ::core::option::Option::Some("search"),
        },
        body: ::tacos_runtime::__private::rest::BodySelector::None,
        response_body: ::core::option::Option::None,
        rpc: &LIBRARY_METHODS[2],
    },
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Post,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Lit("slow"),
            ],
            verb: ::core::option::Option::None,
        },
        body: ::tacos_runtime::__private::rest::BodySelector::Whole,
        response_body: ::core::option::Option::Some("note"),
        rpc: &LIBRARY_METHODS[3],
    },
    ::tacos_runtime::__private::rest::RouteSpec {
        method: ::tacos_runtime::__private::rest::HttpMethod::Get,
        template: ::tacos_runtime::__private::rest::PathTemplate {
            segments: &[
                ::tacos_runtime::__private::rest::Seg::Lit("v1"),
                ::tacos_runtime::__private::rest::Seg::Var {
                    field: "parent",
                    segments: &[
                        ::tacos_runtime::__private::rest::Seg::Lit("shelves"),
                        ::tacos_runtime::__private::rest::Seg::Star,
                    ],
                },
                ::tacos_runtime::__private::rest::Seg::Lit("books"),
            ],
            verb: ::core::option::Option::Some("watch"),
        },
        body: ::tacos_runtime::__private::rest::BodySelector::None,
        response_body: ::core::option::Option::None,
        rpc: &LIBRARY_METHODS[4],
    },
];

/// The tonic service of `tacos.test.v1.Library`.
pub struct LibraryGrpcService<T> {
    inner: ::tacos_runtime::__private::Arc<T>,
}

impl<T> LibraryGrpcService<T> {
    /// Wraps a handler.
    pub fn new(inner: ::tacos_runtime::__private::Arc<T>) -> Self {
        Self { inner }
    }
}

impl<T> ::core::clone::Clone for LibraryGrpcService<T> {
    fn clone(&self) -> Self {
        Self {
            inner: ::tacos_runtime::__private::Arc::clone(&self.inner),
        }
    }
}

impl<T: Library>
    ::tacos_runtime::__private::grpc::Service<
        ::tacos_runtime::__private::http::Request<::tacos_runtime::__private::grpc::Body>,
    > for LibraryGrpcService<T>
{
    type Response =
        ::tacos_runtime::__private::http::Response<::tacos_runtime::__private::grpc::Body>;
    type Error = ::tacos_runtime::__private::Infallible;
    type Future = ::tacos_runtime::__private::grpc::GrpcFuture;

    fn poll_ready(
        &mut self,
        _cx: &mut ::tacos_runtime::__private::TaskContext<'_>,
    ) -> ::tacos_runtime::__private::Poll<::core::result::Result<(), Self::Error>> {
        ::tacos_runtime::__private::Poll::Ready(::core::result::Result::Ok(()))
    }

    fn call(
        &mut self,
        request: ::tacos_runtime::__private::http::Request<::tacos_runtime::__private::grpc::Body>,
    ) -> Self::Future {
        let inner = ::tacos_runtime::__private::Arc::clone(&self.inner);
        match request.uri().path() {
            "/tacos.test.v1.Library/GetBook" => {
                let policy = inner.method_policy("GetBook");
                ::tacos_runtime::__private::grpc::unary(
                    request,
                    &LIBRARY_METHODS[0],
                    policy,
                    move |request| async move { inner.get_book(request).await },
                )
            }
            "/tacos.test.v1.Library/CreateBook" => {
                let policy = inner.method_policy("CreateBook");
                ::tacos_runtime::__private::grpc::unary(
                    request,
                    &LIBRARY_METHODS[1],
                    policy,
                    move |request| async move { inner.create_book(request).await },
                )
            }
            "/tacos.test.v1.Library/SearchBooks" => {
                let policy = inner.method_policy("SearchBooks");
                ::tacos_runtime::__private::grpc::unary(
                    request,
                    &LIBRARY_METHODS[2],
                    policy,
                    move |request| async move { inner.search_books(request).await },
                )
            }
            "/tacos.test.v1.Library/Slow" => {
                let policy = inner.method_policy("Slow");
                ::tacos_runtime::__private::grpc::unary(
                    request,
                    &LIBRARY_METHODS[3],
                    policy,
                    move |request| async move { inner.slow(request).await },
                )
            }
            "/tacos.test.v1.Library/WatchBooks" => {
                let policy = inner.method_policy("WatchBooks");
                ::tacos_runtime::__private::grpc::server_streaming(
                    request,
                    &LIBRARY_METHODS[4],
                    policy,
                    move |request| async move { inner.watch_books(request).await },
                )
            }
            path => ::tacos_runtime::__private::grpc::unimplemented(path),
        }
    }
}

impl<T> ::tacos_runtime::__private::grpc::NamedService for LibraryGrpcService<T> {
    const NAME: &'static str = "tacos.test.v1.Library";
}

impl ::tacos_runtime::__private::rest::QueryFields for Book {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "name" => ::tacos_runtime::__private::rest::set(&mut self.name, rest, value),
            "title" => ::tacos_runtime::__private::rest::set(&mut self.title, rest, value),
            "pages" => ::tacos_runtime::__private::rest::set(&mut self.pages, rest, value),
            "tags" => ::tacos_runtime::__private::rest::push(&mut self.tags, rest, value),
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for GetBookRequest {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "name" => ::tacos_runtime::__private::rest::set(&mut self.name, rest, value),
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for CreateBookRequest {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "parent" => ::tacos_runtime::__private::rest::set(&mut self.parent, rest, value),
            "book" => ::tacos_runtime::__private::rest::descend(&mut self.book, rest, value),
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for Filter {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "author" => ::tacos_runtime::__private::rest::set(&mut self.author, rest, value),
            "min_pages" | "minPages" => {
                ::tacos_runtime::__private::rest::set(&mut self.min_pages, rest, value)
            }
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for SearchBooksRequest {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "tags" => ::tacos_runtime::__private::rest::push(&mut self.tags, rest, value),
            "page_size" | "pageSize" => {
                ::tacos_runtime::__private::rest::set(&mut self.page_size, rest, value)
            }
            "filter" => ::tacos_runtime::__private::rest::descend(&mut self.filter, rest, value),
            "genre" => ::tacos_runtime::__private::rest::set_enum(
                &mut self.genre,
                rest,
                value,
                Genre::from_str_name,
            ),
            "published_after" | "publishedAfter" => ::tacos_runtime::__private::rest::set_optional(
                &mut self.published_after,
                rest,
                value,
            ),
            "max_age" | "maxAge" => {
                ::tacos_runtime::__private::rest::set_optional(&mut self.max_age, rest, value)
            }
            "mask" => ::tacos_runtime::__private::rest::set_optional(&mut self.mask, rest, value),
            "min_rating" | "minRating" => {
                ::tacos_runtime::__private::rest::set_optional(&mut self.min_rating, rest, value)
            }
            "cursor" => ::tacos_runtime::__private::rest::set(&mut self.cursor, rest, value),
            "exact" => ::tacos_runtime::__private::rest::set(&mut self.exact, rest, value),
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for SlowRequest {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "millis" => ::tacos_runtime::__private::rest::set(&mut self.millis, rest, value),
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

impl ::tacos_runtime::__private::rest::QueryFields for WatchBooksRequest {
    fn set_query_field(
        &mut self,
        path: &[&str],
        value: &str,
    ) -> ::core::result::Result<(), ::tacos_runtime::__private::rest::QueryError> {
        let rest = &path[1..];
        match path[0] {
            "parent" => ::tacos_runtime::__private::rest::set(&mut self.parent, rest, value),
            "count" => ::tacos_runtime::__private::rest::set(&mut self.count, rest, value),
            "fail_at" | "failAt" => {
                ::tacos_runtime::__private::rest::set(&mut self.fail_at, rest, value)
            }
            "interval_millis" | "intervalMillis" => {
                ::tacos_runtime::__private::rest::set(&mut self.interval_millis, rest, value)
            }
            _ => ::core::result::Result::Err(
                ::tacos_runtime::__private::rest::QueryError::UnknownField,
            ),
        }
    }
}

fn library_rest_get_book(
    call: &::tacos_runtime::__private::rest::RestCall,
) -> ::core::result::Result<GetBookRequest, ::tacos_runtime::__private::Status> {
    let mut message = GetBookRequest::default();
    call.apply_query(&mut message, &[])?;
    message.name = call.path_var(0, "name")?;
    ::core::result::Result::Ok(message)
}

fn library_rest_create_book(
    call: &::tacos_runtime::__private::rest::RestCall,
) -> ::core::result::Result<CreateBookRequest, ::tacos_runtime::__private::Status> {
    let mut message = CreateBookRequest::default();
    message.book = call.body_field("book")?;
    call.apply_query(&mut message, &["book"])?;
    message.parent = call.path_var(0, "parent")?;
    ::core::result::Result::Ok(message)
}

fn library_rest_search_books(
    call: &::tacos_runtime::__private::rest::RestCall,
) -> ::core::result::Result<SearchBooksRequest, ::tacos_runtime::__private::Status> {
    let mut message = SearchBooksRequest::default();
    call.apply_query(&mut message, &[])?;
    ::core::result::Result::Ok(message)
}

fn library_rest_slow(
    call: &::tacos_runtime::__private::rest::RestCall,
) -> ::core::result::Result<SlowRequest, ::tacos_runtime::__private::Status> {
    let message: SlowRequest = call.body_message()?;
    ::core::result::Result::Ok(message)
}

fn library_rest_watch_books(
    call: &::tacos_runtime::__private::rest::RestCall,
) -> ::core::result::Result<WatchBooksRequest, ::tacos_runtime::__private::Status> {
    let mut message = WatchBooksRequest::default();
    call.apply_query(&mut message, &[])?;
    message.parent = call.path_var(0, "parent")?;
    ::core::result::Result::Ok(message)
}

/// Everything needed to serve `tacos.test.v1.Library` with `handler` on both protocols.
pub fn library_service<T: Library>(
    handler: ::tacos_runtime::__private::Arc<T>,
) -> ::tacos_runtime::__private::ServiceRegistration {
    ::tacos_runtime::__private::ServiceRegistration::new(
        LIBRARY_SERVICE_NAME,
        LIBRARY_METHODS,
        super::file_descriptor_set(),
    )
    .with_grpc(LibraryGrpcService::new(
        ::tacos_runtime::__private::Arc::clone(&handler),
    ))
    .with_route(
        &LIBRARY_ROUTES[0],
        ::tacos_runtime::__private::rest::unary(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("GetBook"),
            library_rest_get_book,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.get_book(request).await
            },
            |message: Book| message,
        ),
    )
    .with_route(
        &LIBRARY_ROUTES[1],
        ::tacos_runtime::__private::rest::unary(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("GetBook"),
            library_rest_get_book,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.get_book(request).await
            },
            |message: Book| message,
        ),
    )
    .with_route(
        &LIBRARY_ROUTES[2],
        ::tacos_runtime::__private::rest::unary(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("CreateBook"),
            library_rest_create_book,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.create_book(request).await
            },
            |message: Book| message,
        ),
    )
    .with_route(
        &LIBRARY_ROUTES[3],
        ::tacos_runtime::__private::rest::unary(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("SearchBooks"),
            library_rest_search_books,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.search_books(request).await
            },
            |message: SearchBooksResponse| message,
        ),
    )
    .with_route(
        &LIBRARY_ROUTES[4],
        ::tacos_runtime::__private::rest::unary(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("Slow"),
            library_rest_slow,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.slow(request).await
            },
            |message: SlowResponse| message.note,
        ),
    )
    .with_route(
        &LIBRARY_ROUTES[5],
        ::tacos_runtime::__private::rest::server_streaming(
            ::tacos_runtime::__private::Arc::clone(&handler),
            handler.method_policy("WatchBooks"),
            library_rest_watch_books,
            |handler: ::tacos_runtime::__private::Arc<T>, request| async move {
                handler.watch_books(request).await
            },
            |message: Book| message,
        ),
    )
}
