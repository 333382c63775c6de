//! How a server spreads over the cores.
//!
//! Measured on the 2-core machines this project runs on, tonic unary calls cost about twice the
//! CPU on tokio's multi-thread runtime as on one current-thread runtime per core (the connection
//! task and the stream task wake each other across cores), while HTTP/1.1 barely notices. So the
//! bench runs each server in every layout it can be asked for and reports them side by side.

use std::future::Future;
use std::io;
use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpSocket};
use tokio::runtime::{Builder, Runtime};

/// A runtime layout for one server process.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Layout {
    /// One current-thread runtime: the single-core rows, pinned to one core.
    CurrentThread,
    /// One tokio multi-thread runtime with this many workers (what `#[tokio::main]` gives).
    MultiThread {
        /// Worker threads.
        workers: usize,
    },
    /// This many OS threads, each running a current-thread runtime with its own `SO_REUSEPORT`
    /// listener on the same address; the kernel spreads connections across them.
    PerCore {
        /// Runtimes (one per core).
        runtimes: usize,
    },
}

/// A layout string that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("unknown layout `{0}`: expected `current`, `multi:N` or `per-core:N` with N >= 1")]
pub struct UnknownLayout(pub String);

impl Layout {
    /// Parses `current`, `multi:N` or `per-core:N`.
    pub fn parse(s: &str) -> Result<Self, UnknownLayout> {
        let unknown = || UnknownLayout(s.to_owned());
        if s == "current" {
            return Ok(Layout::CurrentThread);
        }
        let (kind, count) = s.split_once(':').ok_or_else(unknown)?;
        let count: usize = count.parse().ok().filter(|&n| n >= 1).ok_or_else(unknown)?;
        match kind {
            "multi" => Ok(Layout::MultiThread { workers: count }),
            "per-core" => Ok(Layout::PerCore { runtimes: count }),
            _ => Err(unknown()),
        }
    }

    /// The string [`Layout::parse`] accepts.
    pub fn name(&self) -> String {
        match self {
            Layout::CurrentThread => "current".to_owned(),
            Layout::MultiThread { workers } => format!("multi:{workers}"),
            Layout::PerCore { runtimes } => format!("per-core:{runtimes}"),
        }
    }

    /// Builds the runtimes and binds one listener per runtime on `addr` (port 0 picks a free
    /// port, shared by every runtime of a per-core layout).
    pub fn bind(self, addr: SocketAddr) -> io::Result<BoundLayout> {
        let mut bound = Vec::new();
        let mut addr = addr;
        let (runtimes, reuse_port) = match self {
            Layout::CurrentThread => (1, false),
            Layout::MultiThread { .. } => (1, false),
            Layout::PerCore { runtimes } => (runtimes, true),
        };
        for _ in 0..runtimes {
            let runtime = match self {
                Layout::MultiThread { workers } => Builder::new_multi_thread()
                    .worker_threads(workers)
                    .enable_all()
                    .build()?,
                _ => Builder::new_current_thread().enable_all().build()?,
            };
            // The listener registers with the reactor of the runtime that will serve it.
            let listener = runtime.block_on(async { listen(addr, reuse_port) })?;
            addr = listener.local_addr()?;
            bound.push((runtime, listener));
        }
        Ok(BoundLayout {
            layout: self,
            addr,
            bound,
        })
    }
}

/// Runtimes with their listeners, ready to serve.
#[derive(Debug)]
pub struct BoundLayout {
    layout: Layout,
    addr: SocketAddr,
    bound: Vec<(Runtime, TcpListener)>,
}

impl BoundLayout {
    /// The address every listener is bound to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Runs `serve` on every runtime with its listener and blocks until all of them return.
    ///
    /// On a multi-thread runtime the serve future is spawned, so the accept loop runs on a worker
    /// like the connections it starts.
    pub fn serve<F, Fut>(self, serve: F) -> io::Result<()>
    where
        F: Fn(TcpListener) -> Fut + Send + Sync + Clone + 'static,
        Fut: Future<Output = io::Result<()>> + Send + 'static,
    {
        let multi = matches!(self.layout, Layout::MultiThread { .. });
        let threads: Vec<_> = self
            .bound
            .into_iter()
            .enumerate()
            .map(|(index, (runtime, listener))| {
                let serve = serve.clone();
                std::thread::Builder::new()
                    .name(format!("bench-runtime-{index}"))
                    .spawn(move || {
                        if multi {
                            runtime.block_on(async move {
                                tokio::spawn(serve(listener))
                                    .await
                                    .map_err(io::Error::other)?
                            })
                        } else {
                            runtime.block_on(serve(listener))
                        }
                    })
            })
            .collect::<io::Result<_>>()?;
        for thread in threads {
            thread
                .join()
                .map_err(|_| io::Error::other("a server runtime panicked"))??;
        }
        Ok(())
    }
}

fn listen(addr: SocketAddr, reuse_port: bool) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    if reuse_port {
        socket.set_reuseport(true)?;
    }
    socket.bind(addr)?;
    socket.listen(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_parse_and_print_back() {
        for s in ["current", "multi:2", "per-core:2", "per-core:1"] {
            assert_eq!(Layout::parse(s).unwrap().name(), s);
        }
        for s in ["", "multi", "multi:0", "per-core:x", "single:1"] {
            assert!(Layout::parse(s).is_err(), "{s} should not parse");
        }
    }

    #[test]
    fn per_core_listeners_share_one_port() {
        let bound = Layout::PerCore { runtimes: 2 }
            .bind("127.0.0.1:0".parse().unwrap())
            .unwrap();
        let port = bound.local_addr().port();
        assert_ne!(port, 0);
        for (_, listener) in &bound.bound {
            assert_eq!(listener.local_addr().unwrap().port(), port);
        }
    }
}
