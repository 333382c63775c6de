//! Sockets and connections: binding (with `SO_REUSEPORT` for one runtime per core), the accept
//! loop, and graceful connection shutdown.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use socket2::{Domain, Protocol, Socket, Type};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::dispatch::{ConnService, ListenerRole, Stack};

/// Binds `count` listeners to `addr` sharing the port through `SO_REUSEPORT` (the kernel spreads
/// connections across them). Port 0 picks one free port for all of them.
pub(crate) fn bind_shared(
    addr: SocketAddr,
    count: usize,
) -> io::Result<Vec<std::net::TcpListener>> {
    let mut listeners = Vec::with_capacity(count);
    let mut addr = addr;
    for _ in 0..count.max(1) {
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
        socket.set_reuse_address(true)?;
        socket.set_reuse_port(true)?;
        socket.set_nonblocking(true)?;
        socket.bind(&addr.into())?;
        socket.listen(1024)?;
        let listener: std::net::TcpListener = socket.into();
        // Later sockets must join the port the first one got.
        addr = listener.local_addr()?;
        listeners.push(listener);
    }
    Ok(listeners)
}

/// How connections are served.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ConnSettings {
    /// How long shutdown waits for in-flight calls.
    pub(crate) drain: Duration,
    /// Largest request header section, refused by hyper before any handler runs.
    pub(crate) max_header_bytes: usize,
}

/// One listener's accept loop, until `shutdown`; connections are spawned on `tracker`.
async fn accept_loop(
    listener: TcpListener,
    role: ListenerRole,
    stack: Stack,
    shutdown: CancellationToken,
    tracker: TaskTracker,
    settings: ConnSettings,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    // HTTP/1 answers 431 past its read buffer; HTTP/2 refuses larger header lists.
    builder
        .http1()
        .max_buf_size(settings.max_header_bytes.max(8192));
    builder
        .http2()
        .max_header_list_size(u32::try_from(settings.max_header_bytes).unwrap_or(u32::MAX));
    if role == ListenerRole::Grpc {
        builder = builder.http2_only();
    }
    let builder = Arc::new(builder);
    loop {
        let accepted = tokio::select! {
            biased;
            () = shutdown.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, remote) = match accepted {
            Ok(accepted) => accepted,
            Err(err) => {
                // Out of descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %err, "accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        // Small RPCs must not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let service = ConnService {
            stack: stack.clone(),
            remote,
            shutdown: shutdown.clone(),
        };
        let builder = Arc::clone(&builder);
        let shutdown = shutdown.clone();
        tracker.spawn(async move {
            let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
            tokio::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, %remote, "connection ended with an error");
                    }
                }
                () = shutdown.cancelled() => {
                    // Finish in-flight requests, refuse new ones, then close.
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }
}

/// Serves `listeners` on the current runtime until `shutdown`, then drains for at most `drain`.
pub(crate) async fn serve_listeners(
    listeners: Vec<(TcpListener, ListenerRole, Stack)>,
    shutdown: CancellationToken,
    settings: ConnSettings,
) {
    let tracker = TaskTracker::new();
    let mut loops = Vec::with_capacity(listeners.len());
    for (listener, role, stack) in listeners {
        loops.push(tokio::spawn(accept_loop(
            listener,
            role,
            stack,
            shutdown.clone(),
            tracker.clone(),
            settings,
        )));
    }
    for accept in loops {
        let _ = accept.await;
    }
    tracker.close();
    if tokio::time::timeout(settings.drain, tracker.wait())
        .await
        .is_err()
    {
        tracing::warn!(
            remaining = tracker.len(),
            "drain timeout: closing remaining connections"
        );
    }
}
