//! Compiles `proto/bench.proto` for the hand-written tonic server and the load generator, the way a
//! tonic user would: protox (no protoc) and tonic-prost-build. The generated Tacos surface for the
//! same file comes from our own code generator instead.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = std::path::PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let own_protos = manifest.join("proto");
    // `google/api/annotations.proto` lives with the workspace's contracts.
    let shared_protos = manifest.join("../../proto");
    let fds = protox::compile(["bench.proto"], [&own_protos, &shared_protos])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;
    println!(
        "cargo:rerun-if-changed={}",
        own_protos.join("bench.proto").display()
    );
    Ok(())
}
