//! Generated Rust for the Traffic Tacos contracts in `proto/`.
//!
//! Every protobuf package is a module (`gateway.v1` → [`gateway::v1`]) holding the prost
//! message types, their proto3 JSON impls and the service code. The files under
//! `src/generated/` are written by `cargo xtask generate`; CI fails when they are stale.
#![deny(missing_docs)]

// Generated modules: fields and enum values carry docs only where the `.proto` has a comment.
#[allow(missing_docs)]
// The files are formatted by the generator (prettyplease); rustfmt leaves them as written so
// `cargo fmt` and `cargo xtask generate --check` never disagree.
#[rustfmt::skip]
mod generated;

pub use generated::*;

/// The encoded `FileDescriptorSet` of the contracts (imports, options and source info
/// included), for gRPC reflection and runtime descriptors.
pub const FILE_DESCRIPTOR_SET: &[u8] = include_bytes!("generated/descriptor.bin");
