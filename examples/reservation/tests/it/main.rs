//! Integration tests of the reservation service: real servers on loopback ports, called over
//! gRPC (tonic) and REST (reqwest).

mod flow;
mod redis;
mod support;
