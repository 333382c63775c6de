//! Moving client traffic between transports, safely.
//!
//! - [`Split`]: a gRPC percentage decided per call and changeable while running
//!   ([`Split::set_percent`]), exact at 0 and 100.
//! - [`Shadow`]: a sampled share of calls to side-effect-free methods is also sent over the other
//!   transport in the background; the decoded answers are compared field by field ([`diff`]) and
//!   differences counted per method and field path ([`Shadow::stats`]) and logged.
//!
//! A client composing two transports calls, per RPC:
//!
//! ```ignore
//! let (primary, other) = if split.grpc() { (&grpc, &rest) } else { (&rest, &grpc) };
//! let shadow_call = method_has_no_side_effects
//!     .then(|| shadow.start(METHOD.path, || other.call(request.clone())))
//!     .flatten();
//! let result = primary.call(request).await;
//! if let Some(shadow_call) = shadow_call {
//!     shadow_call.finish(&result);
//! }
//! result
//! ```

mod config;
pub mod diff;
mod shadow;
mod split;

pub use shadow::{
    FieldDifference, PerMilleOutOfRange, Shadow, ShadowCall, ShadowConfig, ShadowStats, OTHER_PATH,
    STATUS_PATH,
};
pub use split::{PercentOutOfRange, Split};

#[cfg(test)]
mod tests;
