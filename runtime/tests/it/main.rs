//! Integration tests of the runtime, one binary for the whole crate.

mod json;
