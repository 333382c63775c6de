//! Generated Rust for the Traffic Tacos contracts (see `proto/`).
