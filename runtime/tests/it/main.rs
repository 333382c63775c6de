//! Integration tests over real sockets on 127.0.0.1.

mod library;
mod support;

mod deadlines;
mod errors;
mod lifecycle;
mod streaming;
mod transcoding;
mod unary;
