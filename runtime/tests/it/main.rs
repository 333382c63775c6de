//! Integration tests of tacos-runtime over real sockets on 127.0.0.1 (one binary keeps link times down).

mod json;
mod library;
mod support;
mod waiting_room;

mod deadlines;
mod errors;
mod lifecycle;
mod streaming;
mod transcoding;
mod unary;
