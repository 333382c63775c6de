//! Integration tests of tacos-runtime (one binary keeps link times down).

mod json;
mod waiting_room;
