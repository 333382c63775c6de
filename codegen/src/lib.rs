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
#![deny(missing_docs)]

pub mod breaking;
pub mod emit;
pub mod generate;
pub mod load;
pub mod model;
pub mod naming;
pub mod rules;
pub mod template;
pub mod validate;
