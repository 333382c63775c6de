//! Integration tests of the contract pipeline (one binary for the crate).

mod breaking;
mod golden;
mod load;
mod openapi;
mod support;
mod template;
mod upstream;
mod validate;
mod wire_facts;
