//! The one module generated code reaches into: `::tacos_runtime::__private::…`.
//!
//! Generated files name nothing else of the runtime, so the runtime's layout can change without
//! regenerating them. Not a public API: no stability promises.

pub use prost;
pub use prost_types;
pub use serde;

/// Proto3 JSON support for the generated `serde` impls.
pub mod json {
    pub use crate::json::generated::*;
    pub use serde::de::{
        Deserialize, Deserializer, Error as DeError, IgnoredAny, MapAccess, Visitor,
    };
    pub use serde::ser::{Serialize, SerializeMap, Serializer};
}
