//! Canonical proto3 JSON (`serde`) impls for generated messages.
//!
//! The impls are written out field by field, as serde_derive would: keys are matched with a
//! `match` on `&str` (proto name or lowerCamel json name), values go straight through a per-kind
//! codec of the runtime (`__private::json`), and no intermediate JSON tree is built. The emitted
//! items sit in the package's module, next to the prost structs they serialize.

use proc_macro2::{Literal, TokenStream};
use prost_reflect::{
    Cardinality, DescriptorPool, EnumDescriptor, FieldDescriptor, Kind, MessageDescriptor,
    OneofDescriptor,
};
use quote::quote;

/// Emits `serde::Serialize` / `serde::Deserialize` impls for every message and enum of `package`.
///
/// `runtime` is the path generated code uses to reach the runtime crate (`::tacos_runtime`, or
/// `crate` inside the runtime itself).
pub fn emit_json(pool: &DescriptorPool, package: &str, runtime: &syn::Path) -> TokenStream {
    let messages: Vec<TokenStream> = pool
        .all_messages()
        .filter(|m| m.package_name() == package && !m.is_map_entry())
        .filter(|m| !super::is_http_body(m.full_name()))
        .map(|m| emit_message(&m, package))
        .collect();
    let enums: Vec<TokenStream> = pool
        .all_enums()
        .filter(|e| e.package_name() == package)
        .map(|e| emit_enum(&e, package))
        .collect();
    if messages.is_empty() && enums.is_empty() {
        return TokenStream::new();
    }
    quote! {
        use #runtime::__private::json as __tacos_json;
        #(#messages)*
        #(#enums)*
    }
}

/// Rust names and paths exactly as prost-build spells them.
pub(crate) mod naming {
    use heck::{ToSnakeCase, ToUpperCamelCase};
    use proc_macro2::{Ident, Span, TokenStream};
    use quote::quote;

    /// Escapes Rust keywords the way prost-build does: `r#` where a raw identifier is allowed,
    /// a trailing `_` where it is not, a leading `_` before a digit.
    fn sanitize(ident: String) -> String {
        match ident.as_str() {
            "as" | "break" | "const" | "continue" | "else" | "enum" | "false" | "fn" | "for"
            | "if" | "impl" | "in" | "let" | "loop" | "match" | "mod" | "move" | "mut" | "pub"
            | "ref" | "return" | "static" | "struct" | "trait" | "true" | "type" | "unsafe"
            | "use" | "where" | "while" | "dyn" | "abstract" | "become" | "box" | "do"
            | "final" | "macro" | "override" | "priv" | "typeof" | "unsized" | "virtual"
            | "yield" | "async" | "await" | "try" | "gen" => format!("r#{ident}"),
            "_" | "super" | "self" | "Self" | "extern" | "crate" => format!("{ident}_"),
            s if s.starts_with(|c: char| c.is_numeric()) => format!("_{ident}"),
            _ => ident,
        }
    }

    /// A field or module name: `lower_snake`.
    pub fn snake(name: &str) -> String {
        sanitize(name.to_snake_case())
    }

    /// A type or variant name: `UpperCamel`.
    pub fn upper_camel(name: &str) -> String {
        sanitize(name.to_upper_camel_case())
    }

    /// An identifier token, raw when the name carries `r#`.
    pub fn ident(name: &str) -> Ident {
        match name.strip_prefix("r#") {
            Some(raw) => Ident::new_raw(raw, Span::call_site()),
            None => Ident::new(name, Span::call_site()),
        }
    }

    /// The path from the module of `package` to the item `full_name` (a message, an enum, or a
    /// oneof enum named `Message.oneof`): `super` for each package part not shared, then the
    /// remaining parts in snake case, then the item in UpperCamel.
    pub fn relative_path(package: &str, full_name: &str) -> TokenStream {
        let mut here = package.split('.').filter(|s| !s.is_empty()).peekable();
        let mut parts: Vec<&str> = full_name.split('.').collect();
        let item = parts.pop().unwrap_or_default();
        let mut there = parts.into_iter().peekable();
        while here.peek().is_some() && here.peek() == there.peek() {
            here.next();
            there.next();
        }
        let segments = here
            .map(|_| ident("super"))
            .chain(there.map(|part| ident(&snake(part))))
            .chain(std::iter::once(ident(&upper_camel(item))));
        quote!(#(#segments)::*)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn names_follow_prost() {
            assert_eq!(snake("FieldName8"), "field_name8");
            assert_eq!(snake("type"), "r#type");
            assert_eq!(snake("self"), "self_");
            assert_eq!(upper_camel("oneof_field"), "OneofField");
            assert_eq!(upper_camel("Self"), "Self_");
        }

        #[test]
        fn paths_climb_to_the_shared_prefix() {
            let p = |pkg, name| relative_path(pkg, name).to_string().replace(' ', "");
            assert_eq!(
                p("gateway.v1", "gateway.v1.JoinQueueRequest"),
                "JoinQueueRequest"
            );
            assert_eq!(
                p("gateway.v1", "common.v1.Error"),
                "super::super::common::v1::Error"
            );
            assert_eq!(p("a.b", "a.c.X"), "super::c::X");
            assert_eq!(p("a.b", "a.b.Outer.Inner"), "outer::Inner");
            assert_eq!(p("", "Top"), "Top");
        }
    }
}

/// How a field holds its value in the prost struct.
enum Shape {
    /// Plain value, printed only when not default (`String`, `i32`, ...).
    Implicit,
    /// `Option<T>`: messages, wrappers, proto3 `optional`.
    Optional,
    /// `Vec<T>` or `HashMap<K, V>`, printed only when not empty.
    Collection,
    /// A member of a real oneof: the index of the oneof among the message's oneofs.
    Oneof(usize),
}

/// One field as the emitted code sees it.
struct Field {
    proto_name: String,
    json_name: String,
    rust_name: syn::Ident,
    codec: TokenStream,
    shape: Shape,
    /// For oneof members: the variant path (`msg::Choice::Name`).
    variant: Option<TokenStream>,
    /// A singular `google.protobuf.Empty`, which prost holds as `()`.
    is_unit: bool,
}

fn fields_of(message: &MessageDescriptor, package: &str) -> (Vec<Field>, Vec<OneofDescriptor>) {
    let oneofs: Vec<OneofDescriptor> = message.oneofs().filter(|o| !o.is_synthetic()).collect();
    let fields = message
        .fields()
        .map(|field| {
            let real_oneof = field
                .containing_oneof()
                .filter(|o| !o.is_synthetic())
                .and_then(|o| oneofs.iter().position(|x| x.name() == o.name()));
            let shape = if let Some(index) = real_oneof {
                Shape::Oneof(index)
            } else if field.is_list() || field.is_map() {
                Shape::Collection
            } else if field.supports_presence() && field.cardinality() != Cardinality::Required {
                Shape::Optional
            } else {
                Shape::Implicit
            };
            let variant = real_oneof.map(|index| {
                let oneof_path = naming::relative_path(
                    package,
                    &format!("{}.{}", message.full_name(), oneofs[index].name()),
                );
                let variant = naming::ident(&naming::upper_camel(field.name()));
                quote!(#oneof_path::#variant)
            });
            let rust_name = match real_oneof {
                Some(index) => naming::ident(&naming::snake(oneofs[index].name())),
                None => naming::ident(&naming::snake(field.name())),
            };
            Field {
                proto_name: field.name().to_owned(),
                json_name: field.json_name().to_owned(),
                rust_name,
                codec: field_codec(&field, package),
                shape,
                variant,
                is_unit: !field.is_list()
                    && matches!(field.kind(), Kind::Message(m) if m.full_name() == "google.protobuf.Empty"),
            }
        })
        .collect();
    (fields, oneofs)
}

/// The runtime codec of a whole field: element codec, wrapped for `repeated` and `map`.
pub(crate) fn field_codec(field: &FieldDescriptor, package: &str) -> TokenStream {
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("map fields are messages")
        };
        let key = kind_codec(&entry.map_entry_key_field().kind(), package);
        let value = kind_codec(&entry.map_entry_value_field().kind(), package);
        quote!(__tacos_json::Map<#key, #value>)
    } else if field.is_list() {
        let element = kind_codec(&field.kind(), package);
        quote!(__tacos_json::Repeated<#element>)
    } else {
        kind_codec(&field.kind(), package)
    }
}

/// The runtime codec of one value of `kind`.
fn kind_codec(kind: &Kind, package: &str) -> TokenStream {
    match kind {
        Kind::Double => quote!(__tacos_json::Double),
        Kind::Float => quote!(__tacos_json::Float32),
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => quote!(__tacos_json::Int32),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => quote!(__tacos_json::Int64),
        Kind::Uint32 | Kind::Fixed32 => quote!(__tacos_json::Uint32),
        Kind::Uint64 | Kind::Fixed64 => quote!(__tacos_json::Uint64),
        Kind::Bool => quote!(__tacos_json::Bool),
        Kind::String => quote!(__tacos_json::Str),
        Kind::Bytes => quote!(__tacos_json::Bytes),
        Kind::Enum(e) => enum_codec(e, package),
        Kind::Message(m) => message_codec(m, package),
    }
}

fn enum_codec(e: &EnumDescriptor, package: &str) -> TokenStream {
    match e.full_name() {
        "google.protobuf.NullValue" => quote!(__tacos_json::NullValue),
        // Other google.protobuf enums (Syntax, Field.Kind, ...) are prost-types' own; they have
        // no name tables here, so they travel as numbers.
        name if name.starts_with("google.protobuf.") => quote!(__tacos_json::Int32),
        name => {
            let path = naming::relative_path(package, name);
            quote!(__tacos_json::Enum<#path>)
        }
    }
}

fn message_codec(m: &MessageDescriptor, package: &str) -> TokenStream {
    // prost-build maps these to prost-types (or to plain Rust types, for the wrappers).
    match m.full_name() {
        "google.protobuf.Timestamp" => quote!(__tacos_json::Timestamp),
        "google.protobuf.Duration" => quote!(__tacos_json::Duration),
        "google.protobuf.FieldMask" => quote!(__tacos_json::FieldMask),
        "google.protobuf.Struct" => quote!(__tacos_json::Struct),
        "google.protobuf.Value" => quote!(__tacos_json::Value),
        "google.protobuf.ListValue" => quote!(__tacos_json::ListValue),
        "google.protobuf.Any" => quote!(__tacos_json::Any),
        "google.protobuf.Empty" => quote!(__tacos_json::Empty),
        "google.protobuf.DoubleValue" => quote!(__tacos_json::Double),
        "google.protobuf.FloatValue" => quote!(__tacos_json::Float32),
        "google.protobuf.Int64Value" => quote!(__tacos_json::Int64),
        "google.protobuf.UInt64Value" => quote!(__tacos_json::Uint64),
        "google.protobuf.Int32Value" => quote!(__tacos_json::Int32),
        "google.protobuf.UInt32Value" => quote!(__tacos_json::Uint32),
        "google.protobuf.BoolValue" => quote!(__tacos_json::Bool),
        "google.protobuf.StringValue" => quote!(__tacos_json::Str),
        "google.protobuf.BytesValue" => quote!(__tacos_json::Bytes),
        super::HTTP_BODY => quote!(__tacos_json::Msg<__tacos_json::HttpBody>),
        name if name.starts_with("google.protobuf.") => {
            let message = format!("proto3 JSON for `{name}` fields is not supported");
            quote!(::core::compile_error!(#message))
        }
        name => {
            let path = naming::relative_path(package, name);
            quote!(__tacos_json::Msg<#path>)
        }
    }
}

/// The output key of a field: the json name, or the proto name when asked for.
fn output_key(field: &Field) -> TokenStream {
    let proto = &field.proto_name;
    let json = &field.json_name;
    if proto == json {
        quote!(#proto)
    } else {
        quote!(if __proto_names { #proto } else { #json })
    }
}

fn emit_serialize(ty: &TokenStream, fields: &[Field], oneofs: &[OneofDescriptor]) -> TokenStream {
    let plain = fields.iter().filter(|f| f.variant.is_none()).map(|field| {
        let Field {
            rust_name, codec, ..
        } = field;
        let key = output_key(field);
        let entry = |value: TokenStream| {
            quote!(__map.serialize_entry(#key, &__tacos_json::Ser::<#codec>::new(#value))?;)
        };
        match field.shape {
            Shape::Implicit => {
                let entry = entry(quote!(&self.#rust_name));
                quote! {
                    if __all || !<#codec as __tacos_json::Defaulted>::is_default(&self.#rust_name) {
                        #entry
                    }
                }
            }
            Shape::Optional => {
                let entry = entry(quote!(__value));
                quote!(if let ::core::option::Option::Some(__value) = &self.#rust_name { #entry })
            }
            Shape::Collection => {
                let entry = entry(quote!(&self.#rust_name));
                quote!(if __all || !self.#rust_name.is_empty() { #entry })
            }
            Shape::Oneof(_) => unreachable!("oneof members are printed by their oneof"),
        }
    });
    let choices = oneofs.iter().enumerate().map(|(index, oneof)| {
        let members: Vec<&Field> = fields
            .iter()
            .filter(|f| matches!(f.shape, Shape::Oneof(i) if i == index))
            .collect();
        let rust_name = naming::ident(&naming::snake(oneof.name()));
        let arms = members.iter().map(|field| {
            let key = output_key(field);
            let codec = &field.codec;
            let variant = &field.variant;
            quote! {
                #variant(__value) => {
                    __map.serialize_entry(#key, &__tacos_json::Ser::<#codec>::new(__value))?;
                }
            }
        });
        quote! {
            if let ::core::option::Option::Some(__choice) = &self.#rust_name {
                match __choice { #(#arms)* }
            }
        }
    });
    // Fields without presence print unpopulated only when the options ask for it.
    let without_presence = fields
        .iter()
        .any(|f| matches!(f.shape, Shape::Implicit | Shape::Collection));
    let (names, map_binding) = if fields.is_empty() {
        (quote!(), quote!(let __map))
    } else if without_presence {
        (
            quote! {
                let __options = __tacos_json::options();
                let __proto_names = __options.proto_field_names;
                let __all = __options.emit_unpopulated;
            },
            quote!(let mut __map),
        )
    } else {
        (
            quote!(let __proto_names = __tacos_json::proto_field_names();),
            quote!(let mut __map),
        )
    };
    quote! {
        impl __tacos_json::Serialize for #ty {
            fn serialize<S: __tacos_json::Serializer>(&self, __serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                use __tacos_json::SerializeMap as _;
                #names
                #map_binding = __serializer.serialize_map(::core::option::Option::None)?;
                #(#plain)*
                #(#choices)*
                __map.end()
            }
        }
    }
}

fn emit_deserialize(
    ty: &TokenStream,
    full_name: &str,
    fields: &[Field],
    oneofs: &[OneofDescriptor],
) -> TokenStream {
    let key_arms = fields.iter().enumerate().map(|(index, field)| {
        let index = Literal::u32_suffixed(index as u32);
        let proto = &field.proto_name;
        let json = &field.json_name;
        if proto == json {
            quote!(#proto => #index,)
        } else {
            quote!(#proto | #json => #index,)
        }
    });
    let value_arms = fields.iter().enumerate().map(|(index, field)| {
        let key = Literal::u32_suffixed(index as u32);
        let slot = Literal::usize_unsuffixed(index);
        let Field {
            proto_name,
            rust_name,
            codec,
            ..
        } = field;
        // `()` is written out rather than moved, which lints would flag as a unit argument.
        let (unpack, placed) = if field.is_unit {
            (quote!(let () = __value;), quote!(()))
        } else {
            (quote!(), quote!(__tacos_json::place(__value)))
        };
        let store = match field.shape {
            Shape::Implicit | Shape::Collection => quote!(__message.#rust_name = __value;),
            Shape::Optional => {
                quote!(#unpack __message.#rust_name = ::core::option::Option::Some(#placed);)
            }
            Shape::Oneof(oneof) => {
                let seen = quote::format_ident!("__oneof_{}", oneof);
                let oneof_name = oneofs[oneof].name();
                let variant = &field.variant;
                quote! {
                    __tacos_json::mark_oneof(&mut #seen, #oneof_name)?;
                    #unpack
                    __message.#rust_name = ::core::option::Option::Some(#variant(#placed));
                }
            }
        };
        quote! {
            #key => {
                __tacos_json::mark_seen(&mut __seen[#slot], #proto_name)?;
                if let ::core::option::Option::Some(__value) =
                    __map.next_value_seed(__tacos_json::FieldSeed::<#codec>::new(#proto_name))?
                {
                    #store
                }
            }
        }
    });
    let oneof_flags = (0..oneofs.len()).map(|i| {
        let seen = quote::format_ident!("__oneof_{}", i);
        quote!(let mut #seen = false;)
    });
    let count = fields.len();
    let body = if fields.is_empty() {
        quote! {
            while __map
                .next_entry::<__tacos_json::IgnoredAny, __tacos_json::IgnoredAny>()?
                .is_some()
            {}
            ::core::result::Result::Ok(<#ty as ::core::default::Default>::default())
        }
    } else {
        quote! {
            let mut __message = <#ty as ::core::default::Default>::default();
            let mut __seen = [false; #count];
            #(#oneof_flags)*
            while let ::core::option::Option::Some(__key) = __map.next_key_seed(__tacos_json::KeySeed(|__name: &str| {
                match __name {
                    #(#key_arms)*
                    _ => __tacos_json::UNKNOWN_FIELD,
                }
            }))? {
                match __key {
                    #(#value_arms)*
                    _ => {
                        __map.next_value::<__tacos_json::IgnoredAny>()?;
                    }
                }
            }
            ::core::result::Result::Ok(__message)
        }
    };
    quote! {
        impl __tacos_json::JsonMessage for #ty {
            fn deserialize_json<'de, D: __tacos_json::Deserializer<'de>>(
                __deserializer: D,
                __field: ::core::option::Option<&'static str>,
            ) -> ::core::result::Result<Self, D::Error> {
                struct __Visitor(::core::option::Option<&'static str>);

                impl<'de> __tacos_json::Visitor<'de> for __Visitor {
                    type Value = #ty;

                    fn expecting(&self, __f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                        __tacos_json::expecting_message(__f, self.0, #full_name)
                    }

                    fn visit_map<A: __tacos_json::MapAccess<'de>>(
                        self,
                        mut __map: A,
                    ) -> ::core::result::Result<Self::Value, A::Error> {
                        #body
                    }
                }

                __deserializer.deserialize_map(__Visitor(__field))
            }
        }

        impl<'de> __tacos_json::Deserialize<'de> for #ty {
            fn deserialize<D: __tacos_json::Deserializer<'de>>(__deserializer: D) -> ::core::result::Result<Self, D::Error> {
                <Self as __tacos_json::JsonMessage>::deserialize_json(__deserializer, ::core::option::Option::None)
            }
        }
    }
}

fn emit_message(message: &MessageDescriptor, package: &str) -> TokenStream {
    let ty = naming::relative_path(package, message.full_name());
    let (fields, oneofs) = fields_of(message, package);
    let serialize = emit_serialize(&ty, &fields, &oneofs);
    let deserialize = emit_deserialize(&ty, message.full_name(), &fields, &oneofs);
    quote! {
        #serialize
        #deserialize
    }
}

fn emit_enum(e: &EnumDescriptor, package: &str) -> TokenStream {
    let ty = naming::relative_path(package, e.full_name());
    let full_name = e.full_name();
    let mut numbers_seen = std::collections::HashSet::new();
    // With `allow_alias` several names share a number; the first one is printed.
    // Declaration order, as written in the .proto: the descriptor's own list.
    let declared = &e.enum_descriptor_proto().value;
    let name_arms = declared
        .iter()
        .filter(|v| numbers_seen.insert(v.number()))
        .map(|v| {
            let number = Literal::i32_unsuffixed(v.number());
            let name = v.name();
            quote!(#number => ::core::option::Option::Some(#name),)
        })
        .collect::<Vec<_>>();
    let value_arms = e.values().map(|v| {
        let number = Literal::i32_unsuffixed(v.number());
        let name = v.name();
        quote!(#name => ::core::option::Option::Some(#number),)
    });
    quote! {
        impl __tacos_json::ProtoEnum for #ty {
            const TYPE_NAME: &'static str = #full_name;

            fn name_of(__value: i32) -> ::core::option::Option<&'static str> {
                match __value {
                    #(#name_arms)*
                    _ => ::core::option::Option::None,
                }
            }

            fn value_of(__name: &str) -> ::core::option::Option<i32> {
                match __name {
                    #(#value_arms)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl __tacos_json::Serialize for #ty {
            fn serialize<S: __tacos_json::Serializer>(&self, __serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                <__tacos_json::Enum<#ty> as __tacos_json::Codec>::serialize(&(*self as i32), __serializer)
            }
        }

        impl<'de> __tacos_json::Deserialize<'de> for #ty {
            fn deserialize<D: __tacos_json::Deserializer<'de>>(__deserializer: D) -> ::core::result::Result<Self, D::Error> {
                let __value = <__tacos_json::Enum<#ty> as __tacos_json::Codec>::deserialize(__deserializer, "")?;
                <Self as ::core::convert::TryFrom<i32>>::try_from(__value).map_err(|_| {
                    <D::Error as __tacos_json::DeError>::custom(
                        ::core::format_args!("{} is not a value of enum `{}`", __value, #full_name),
                    )
                })
            }
        }
    }
}

#[cfg(test)]
mod golden {
    //! The runtime's JSON tests compile and run code generated from fixture protos; this test
    //! keeps that checked-in code equal to what the emitter produces today.

    use std::path::{Path, PathBuf};

    use prost::Message as _;

    const FIXTURE_FILES: [&str; 2] = [
        "tacos/fixture/v1/common.proto",
        "tacos/fixture/v1/fixture.proto",
    ];

    fn fixture_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../runtime/tests/it/json")
    }

    /// Generated prost structs plus JSON impls of `package`, wrapped in its nested modules.
    fn package_module(package: &str, prost_code: &str, json_code: &str) -> String {
        let parts: Vec<&str> = package.split('.').collect();
        let mut out = String::new();
        for part in &parts {
            out.push_str(&format!("pub mod {part} {{\n"));
        }
        out.push_str(prost_code);
        out.push_str(json_code);
        for _ in &parts {
            out.push_str("}\n");
        }
        out
    }

    fn generate() -> (String, Vec<u8>) {
        let dir = fixture_dir();
        let descriptors =
            protox::compile(FIXTURE_FILES, [dir.join("proto")]).expect("fixture compiles");
        let out_dir =
            std::env::temp_dir().join(format!("tacos-json-golden-{}", std::process::id()));
        std::fs::create_dir_all(&out_dir).expect("temp dir");
        prost_build::Config::new()
            .out_dir(&out_dir)
            .compile_fds(descriptors.clone())
            .expect("prost-build runs");
        let pool = prost_reflect::DescriptorPool::from_file_descriptor_set(descriptors.clone())
            .expect("pool builds");
        let runtime: syn::Path = syn::parse_quote!(::tacos_runtime);
        let mut source = String::new();
        for package in ["tacos.fixture.common.v1", "tacos.fixture.v1"] {
            let prost_code = std::fs::read_to_string(out_dir.join(format!("{package}.rs")))
                .expect("prost output");
            let json_code = super::emit_json(&pool, package, &runtime).to_string();
            source.push_str(&package_module(package, &prost_code, &json_code));
        }
        let _ = std::fs::remove_dir_all(&out_dir);
        // One `tacos::fixture` tree: merge the two package paths into one module nesting.
        let source = source.replace("}\n}\n}\n}\npub mod tacos {\npub mod fixture {\n", "}\n}\n");
        let file = syn::parse_file(&source).expect("generated code parses");
        let text = format!(
            "// @generated by tacos-codegen from runtime/tests/it/json/proto; re-bless with\n\
             // `TACOS_BLESS=1 cargo test -p tacos-codegen golden`.\n\n{}",
            prettyplease::unparse(&file)
        );
        (text, descriptors.encode_to_vec())
    }

    #[test]
    fn runtime_fixture_is_up_to_date() {
        let (code, descriptors) = generate();
        let dir = fixture_dir();
        let code_path = dir.join("generated.rs");
        let set_path = dir.join("descriptor.bin");
        if std::env::var_os("TACOS_BLESS").is_some() {
            std::fs::write(&code_path, &code).expect("write generated.rs");
            std::fs::write(&set_path, &descriptors).expect("write descriptor.bin");
            return;
        }
        let on_disk = std::fs::read_to_string(&code_path).unwrap_or_default();
        assert!(
            on_disk == code && std::fs::read(&set_path).unwrap_or_default() == descriptors,
            "{} is stale; run `TACOS_BLESS=1 cargo test -p tacos-codegen golden`",
            code_path.display()
        );
    }
}
