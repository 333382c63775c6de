//! What happens to every call between the protocol layer and the handler, the same way on gRPC
//! and REST.
//!
//! The protocol layers (`grpc`, `rest`) decode what they must and hand the call here; this module
//! runs the policy stack in one documented order and then the handler:
//!
//! 1. **request id and trace context**: read (or made) once per HTTP request by the server's
//!    dispatcher, returned on the response, and carried to outgoing calls;
//! 2. **metrics**: the method's series (resolved when the server was built) count the call, its
//!    latency and its code; one access-log line follows the outcome;
//! 3. **size limits**: enforced before decoding by the protocol layers (REST body, gRPC message);
//! 4. **auth**: the bearer token is verified and the principal checked against the method's roles
//!    and scopes;
//! 5. **rate limit**: the method's rate class, per principal (client IP when anonymous);
//! 6. **idempotency**: methods marked idempotent replay the stored outcome of an
//!    `Idempotency-Key` already used;
//! 7. **deadline**: the client's timeout capped by the method's policy covers everything above
//!    and the handler, which runs inside a [`CallScope`](crate::context::CallScope) so its
//!    outgoing calls inherit the deadline, request id and trace context.

mod admission;
mod deadline;
mod idempotent;
mod pipeline;
mod policies;
mod record;

pub(crate) use deadline::Deadlined;
pub(crate) use pipeline::{client_streaming, server_streaming, unary, CallFuture, CallParts};
pub(crate) use policies::{CallEnv, Policies, ServerShutdown};
