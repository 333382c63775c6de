//! Serves the gRPC interop test service on `127.0.0.1:10000`, or the port of `--port N`, until
//! interrupted.

fn main() -> anyhow::Result<()> {
    let mut port = 10_000;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match (arg.as_str(), args.next()) {
            ("--port", Some(value)) => port = value.parse()?,
            _ => anyhow::bail!("usage: interop-server [--port N]"),
        }
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(tacos_interop::loopback(port)).await?;
        eprintln!("interop server on {}", listener.local_addr()?);
        tacos_interop::serve(listener, tacos_runtime::server::shutdown_signal()).await
    })
}
