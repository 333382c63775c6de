//! Integration tests of tacos-runtime (one binary keeps link times down).

mod waiting_room;
