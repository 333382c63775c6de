//! Compile-time behaviour of `#[service]`: trybuild cases under `tests/ui/`, against the fixture
//! contract `tests/fixtures/proto/shop/v1/queue.proto` and its hand-written module
//! `tests/fixtures/shop.rs`.

use std::path::Path;

use prost::Message;

#[test]
fn ui() {
    // The cases find the descriptor set through `TACOS_DESCRIPTORS`: trybuild compiles them in a
    // project of its own, so neither a relative path nor this crate's Cargo.toml would reach it.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/proto");
    let set = protox::compile(["shop/v1/queue.proto"], [&root]).expect("the fixture compiles");
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("tacos-macros-ui");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("descriptor.bin");
    let bytes = set.encode_to_vec();
    // Rewriting an unchanged file would make cargo re-check every case.
    if std::fs::read(&path).ok().as_deref() != Some(bytes.as_slice()) {
        std::fs::write(&path, bytes).unwrap();
    }
    std::env::set_var("TACOS_DESCRIPTORS", &path);

    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
