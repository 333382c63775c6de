//! Compiles `proto/bench.proto` twice, once per side of the comparison:
//!
//! - for the hand-written tonic server and the load generator, the way a tonic user would:
//!   protox (no protoc) and tonic-prost-build, into `$OUT_DIR/bench.v1.rs`;
//! - for the generated Tacos surfaces, through our own pipeline (`tacos_codegen::generate`), into
//!   `$OUT_DIR/tacos/`. Generating at build time keeps the bench in step with the code generator
//!   without a checked-in copy to go stale.

use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out_dir = PathBuf::from(std::env::var("OUT_DIR")?);
    let own_protos = manifest.join("proto");
    // `google/api/annotations.proto` lives with the workspace's contracts.
    let shared_protos = manifest.join("../../proto");

    let fds = protox::compile(["bench.proto"], [&own_protos, &shared_protos])?;
    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds)?;

    let mut config = tacos_codegen::generate::GenerateConfig::new(vec![own_protos.clone()]);
    config.files = vec![PathBuf::from("bench.proto")];
    let generated = tacos_codegen::generate::generate(&config)?;
    let tacos_dir = out_dir.join("tacos");
    std::fs::create_dir_all(&tacos_dir)?;
    for file in &generated.files {
        std::fs::write(tacos_dir.join(&file.path), &file.contents)?;
    }

    println!(
        "cargo:rerun-if-changed={}",
        own_protos.join("bench.proto").display()
    );
    Ok(())
}
