//! Compiles `proto/bench.proto` twice, once per side of the comparison:
//!
//! - for the hand-written tonic server and the load generator, the way a tonic user would:
//!   protox (no protoc) and tonic-prost-build, into `$OUT_DIR/bench.v1.rs`;
//! - for the generated Tacos surfaces, through our own pipeline's build-script front end
//!   (`tacos_codegen::configure()`), into `$OUT_DIR/tacos/`. Generating at build time keeps the bench in step with the code generator
//!   without a checked-in copy to go stale.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let own_protos = manifest.join("proto");
    // `google/api/annotations.proto` lives with the workspace's contracts.
    let shared_protos = manifest.join("../../proto");

    let fds = protox::compile(["bench.proto"], [&own_protos, &shared_protos])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;

    // Writes `$OUT_DIR/tacos/` and asks cargo to rerun when `bench.proto` changes.
    tacos_codegen::configure().compile(&["bench.proto"], &[&own_protos])?;
    Ok(())
}
