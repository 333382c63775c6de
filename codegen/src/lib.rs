//! Contract loader, contract model and code emitters for Tacos services.
//!
//! # Layout
//!
//! The pipeline runs in stages, one module each:
//! - [`load`]: `.proto` files → descriptor pool (protox; no `protoc` needed);
//! - [`template`], [`rules`]: `google.api.http` path templates and the YAML rules file;
//! - [`model`]: the contract model every emitter sees (services, methods, HTTP bindings);
//! - [`validate`]: generation-time checks, reporting every problem with file and method;
//! - [`emit`]: one module per emitted artefact;
//! - [`generate`]: the whole pipeline, as `cargo xtask generate` and the macros call it;
//! - [`breaking`]: wire and REST breaking changes between two versions of the contracts.
//!
//! # Front ends
//!
//! One generator, three ways to run it, all with the same output: `cargo xtask generate` writes
//! checked-in files (reviewable diffs, a drift check in CI); [`configure`] runs from a build
//! script into `OUT_DIR` (tonic's habit), included with `tacos_runtime::include_contract!()`;
//! `tacos_runtime::contract!` expands a contract in place at compile time through [`inline`]
//! (the smallest setup: no build script, no generated files).
#![deny(missing_docs)]

pub mod breaking;
pub mod build_script;
pub mod emit;
pub mod generate;
pub mod inline;
pub mod load;
pub mod model;
pub mod naming;
pub mod rules;
pub mod template;
pub mod validate;

pub use build_script::configure;
