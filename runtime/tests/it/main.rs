//! Integration tests over real sockets.

mod openapi;
