//! The test contract `tacos.test.v1.Library`: prost messages (as prost-build writes them) plus
//! the service expansion in `service.rs`, written exactly as the service emitter generates it.

pub mod messages;
pub mod service;

pub use messages::*;
pub use service::*;

/// The encoded `FileDescriptorSet` of `tests/proto/tacos/test/v1/library.proto`.
///
/// Generated crates `include_bytes!` a checked-in `descriptor.bin`; this test compiles the proto
/// once at start-up instead, with the same loader (protox).
pub fn file_descriptor_set() -> &'static [u8] {
    static SET: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let root = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/proto");
        let files =
            protox::compile(["tacos/test/v1/library.proto"], [root]).expect("test proto compiles");
        prost::Message::encode_to_vec(&files)
    })
}
