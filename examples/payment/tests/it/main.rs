//! Integration tests of the payment simulator: a real server on loopback ports called over gRPC
//! and REST, delivering webhooks to a local receiver.

mod scenarios;
mod support;
mod webhooks;
