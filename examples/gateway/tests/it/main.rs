//! Integration tests of the gateway: the server in process on loopback ports, called over
//! gRPC and REST.

mod auth;
mod gateway;
mod openapi;
mod queue;
mod redis;
mod streams;
mod support;
mod system;
mod webhook;
