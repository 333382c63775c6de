//! Shared runtime for Tacos services.
#![deny(missing_docs)]
