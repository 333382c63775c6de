//! Compile-time behaviour of `#[service]`: trybuild cases under `tests/ui/`. `pass/` and `fail/`
//! use the fixture contract `tests/fixtures/proto/shop/v1/queue.proto` and its hand-written module
//! `tests/fixtures/shop.rs`; `contracts/` uses the generated Traffic Tacos crate; `contract/`
//! expands the broken contracts of `tests/fixtures/broken/` with `contract!`.

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

    {
        let cases = trybuild::TestCases::new();
        cases.pass("tests/ui/pass/*.rs");
        cases.compile_fail("tests/ui/fail/*.rs");
        // The cases run when `cases` is dropped, here.
    }

    // `contract!` resolves paths from the manifest of the crate it expands in, which for these
    // cases is trybuild's project; the broken contracts are copied there.
    let project = Path::new(env!("CARGO_TARGET_TMPDIR")).join("../tests/trybuild/tacos-macros");
    let fixtures = project.join("contract-fixtures/shop/v1");
    std::fs::create_dir_all(&fixtures).unwrap();
    let broken = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/broken/shop/v1");
    for file in ["syntax.proto", "binding.proto"] {
        std::fs::copy(broken.join(file), fixtures.join(file)).unwrap();
    }
    trybuild::TestCases::new().compile_fail("tests/ui/contract/*.rs");

    // The generated Traffic Tacos traits, against the descriptor set generated with them.
    let contracts = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../examples/contracts/src/generated/descriptor.bin");
    std::env::set_var("TACOS_DESCRIPTORS", contracts);
    trybuild::TestCases::new().pass("tests/ui/contracts/*.rs");
}
