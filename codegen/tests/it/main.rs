//! Integration tests of the contract pipeline.

mod openapi;
