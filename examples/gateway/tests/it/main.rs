//! Integration tests of the gateway: the server in process on loopback ports, called over
//! gRPC and REST.

mod auth;
mod browser;
mod gateway;
mod openapi;
mod page;
mod queue;
mod redis;
mod redis_process;
mod streams;
mod support;
mod system;
mod webhook;
