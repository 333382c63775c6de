//! Naming rules shared by the emitters: how protobuf names become Rust identifiers.

use proc_macro2::{Ident, Span};

/// The identifier for one module path component as prost-build spells it (`r#type` for
/// keywords, which prost already escapes).
pub fn module_ident(component: &str) -> Ident {
    match component.strip_prefix("r#") {
        Some(raw) => Ident::new_raw(raw, Span::call_site()),
        None => Ident::new(component, Span::call_site()),
    }
}
