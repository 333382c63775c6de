//! Generates prost structs plus our proto3 JSON impls for the conformance protos.
//!
//! `PROTOBUF_SOURCE_DIR` points at protobuf's source tree (the xtask finds it in the
//! `protobuf-src` crate); nothing is copied into this repository.

use std::path::PathBuf;

const PACKAGES: [&str; 2] = ["conformance", "protobuf_test_messages.proto3"];

fn main() {
    println!("cargo:rerun-if-env-changed=PROTOBUF_SOURCE_DIR");
    let source =
        PathBuf::from(std::env::var_os("PROTOBUF_SOURCE_DIR").expect(
            "PROTOBUF_SOURCE_DIR is not set; build this crate with `cargo xtask conformance`",
        ));
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));

    let files = [
        source.join("conformance/conformance.proto"),
        source.join("src/google/protobuf/test_messages_proto3.proto"),
    ];
    let includes = [source.clone(), source.join("src")];
    for file in &files {
        println!("cargo:rerun-if-changed={}", file.display());
    }
    let descriptors = protox::compile(&files, &includes).expect("conformance protos compile");

    prost_build::Config::new()
        .out_dir(&out_dir)
        .compile_fds(descriptors.clone())
        .expect("prost-build generates the conformance messages");

    let pool = prost_reflect::DescriptorPool::from_file_descriptor_set(descriptors.clone())
        .expect("descriptor pool");
    let runtime: syn::Path = syn::parse_quote!(::tacos_runtime);
    for package in PACKAGES {
        let tokens = tacos_codegen::emit::json::emit_json(&pool, package, &runtime);
        let file = syn::parse2(tokens).expect("emitted JSON impls parse");
        std::fs::write(
            out_dir.join(format!("{package}.json.rs")),
            prettyplease::unparse(&file),
        )
        .expect("write generated JSON impls");
    }
    std::fs::write(
        out_dir.join("descriptor.bin"),
        prost::Message::encode_to_vec(&descriptors),
    )
    .expect("write descriptor set");
}
