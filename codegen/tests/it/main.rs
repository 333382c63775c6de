//! Integration tests of the contract pipeline (one binary for the crate).

mod golden;
mod load;
mod support;
mod template;
mod upstream;
mod validate;
mod wire_facts;
