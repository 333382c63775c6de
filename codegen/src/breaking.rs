//! Breaking changes between two versions of the same contracts, on the wire and on REST.
//!
//! Wire checks read the descriptor pools: removed or renumbered fields, changed field types
//! and cardinalities, removed messages, enums, enum values, services and RPCs, changed RPC
//! message types and streaming. REST checks read the contract models: removed routes, changed
//! verbs and path templates, changed bodies and response bodies, renamed fields and JSON names
//! (a proto3 JSON client sends names, not numbers), and fields that became required
//! (`google.api.field_behavior = REQUIRED`, or proto2 `required`).
//!
//! Each finding has a stable key, `KIND subject` (for example
//! `FIELD_RENUMBERED shop.v1.Book.title`), which an allow-list names to accept an intended
//! break. Packages under `google.` are not checked: they are the well-known types.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use prost_reflect::{Cardinality, DescriptorPool, FieldDescriptor, Kind, Value};

use crate::load::LoadedContracts;
use crate::model::{Binding, BodySelector, Contract, Method};

/// The field option `google.api.field_behavior`.
const FIELD_BEHAVIOR: &str = "google.api.field_behavior";
/// `google.api.FieldBehavior.REQUIRED`.
const REQUIRED: i32 = 2;

/// What kind of break a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum BreakKind {
    /// A message is gone.
    MessageRemoved,
    /// A field number is gone.
    FieldRemoved,
    /// A field kept its name under another number.
    FieldRenumbered,
    /// A field number carries another type.
    FieldTypeChanged,
    /// A field number became repeated, singular, a map or lost its presence tracking.
    FieldCardinalityChanged,
    /// A field number carries another name (REST: JSON clients send names).
    FieldRenamed,
    /// A field's JSON name changed.
    JsonNameChanged,
    /// A field became required.
    FieldBecameRequired,
    /// An enum is gone.
    EnumRemoved,
    /// An enum value number is gone.
    EnumValueRemoved,
    /// An enum value number carries another name (REST: JSON carries enum names).
    EnumValueRenamed,
    /// A service is gone.
    ServiceRemoved,
    /// An RPC is gone.
    MethodRemoved,
    /// An RPC takes or returns another message.
    MethodTypeChanged,
    /// An RPC streams differently.
    MethodStreamingChanged,
    /// An HTTP route is gone (verb and path template).
    RouteRemoved,
    /// A route's body selector changed.
    RouteBodyChanged,
    /// A route's response body changed.
    RouteResponseBodyChanged,
}

impl BreakKind {
    /// The upper-case name used in keys and allow-lists.
    pub fn name(self) -> &'static str {
        match self {
            Self::MessageRemoved => "MESSAGE_REMOVED",
            Self::FieldRemoved => "FIELD_REMOVED",
            Self::FieldRenumbered => "FIELD_RENUMBERED",
            Self::FieldTypeChanged => "FIELD_TYPE_CHANGED",
            Self::FieldCardinalityChanged => "FIELD_CARDINALITY_CHANGED",
            Self::FieldRenamed => "FIELD_RENAMED",
            Self::JsonNameChanged => "JSON_NAME_CHANGED",
            Self::FieldBecameRequired => "FIELD_BECAME_REQUIRED",
            Self::EnumRemoved => "ENUM_REMOVED",
            Self::EnumValueRemoved => "ENUM_VALUE_REMOVED",
            Self::EnumValueRenamed => "ENUM_VALUE_RENAMED",
            Self::ServiceRemoved => "SERVICE_REMOVED",
            Self::MethodRemoved => "METHOD_REMOVED",
            Self::MethodTypeChanged => "METHOD_TYPE_CHANGED",
            Self::MethodStreamingChanged => "METHOD_STREAMING_CHANGED",
            Self::RouteRemoved => "ROUTE_REMOVED",
            Self::RouteBodyChanged => "ROUTE_BODY_CHANGED",
            Self::RouteResponseBodyChanged => "ROUTE_RESPONSE_BODY_CHANGED",
        }
    }

    /// Whether it breaks protobuf binary clients (otherwise only JSON and REST clients).
    pub fn breaks_wire(self) -> bool {
        !matches!(
            self,
            Self::FieldRenamed
                | Self::JsonNameChanged
                | Self::EnumValueRenamed
                | Self::FieldBecameRequired
                | Self::RouteRemoved
                | Self::RouteBodyChanged
                | Self::RouteResponseBodyChanged
        )
    }
}

/// One breaking change.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Break {
    /// What broke.
    pub kind: BreakKind,
    /// The element: a full message, field, enum value, service or method name; for routes,
    /// `method VERB /template`.
    pub subject: String,
    /// What changed, for people.
    pub detail: String,
}

impl Break {
    /// The stable key an allow-list names: `KIND subject`.
    pub fn key(&self) -> String {
        format!("{} {}", self.kind.name(), self.subject)
    }
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let layer = if self.kind.breaks_wire() {
            "wire"
        } else {
            "REST/JSON"
        };
        write!(f, "{} ({layer}): {}", self.key(), self.detail)
    }
}

/// Every break from `old` to `new`, sorted.
pub fn breaking_changes(
    old: (&LoadedContracts, &Contract),
    new: (&LoadedContracts, &Contract),
) -> Vec<Break> {
    let mut found = Vec::new();
    wire(&old.0.pool, &new.0.pool, &mut found);
    rest(old.1, new.1, &mut found);
    found.sort();
    found.dedup();
    found
}

/// The breaks not named in `allow` (one key per line; `#` starts a comment), and the allowed
/// keys that matched nothing (stale entries worth removing).
pub fn apply_allow_list(breaks: Vec<Break>, allow: &str) -> (Vec<Break>, Vec<String>) {
    let allowed: BTreeSet<&str> = allow
        .lines()
        .map(|line| line.split('#').next().unwrap_or_default().trim())
        .filter(|line| !line.is_empty())
        .collect();
    let keys: BTreeSet<String> = breaks.iter().map(Break::key).collect();
    let stale = allowed
        .iter()
        .filter(|key| !keys.contains(**key))
        .map(|key| (*key).to_owned())
        .collect();
    let remaining = breaks
        .into_iter()
        .filter(|b| !allowed.contains(b.key().as_str()))
        .collect();
    (remaining, stale)
}

fn checked(full_name: &str) -> bool {
    !full_name.starts_with("google.")
}

fn push(found: &mut Vec<Break>, kind: BreakKind, subject: impl Into<String>, detail: String) {
    found.push(Break {
        kind,
        subject: subject.into(),
        detail,
    });
}

fn wire(old: &DescriptorPool, new: &DescriptorPool, found: &mut Vec<Break>) {
    for message in old.all_messages().filter(|m| checked(m.full_name())) {
        if message.is_map_entry() {
            continue;
        }
        let name = message.full_name();
        let Some(current) = new.get_message_by_name(name) else {
            push(
                found,
                BreakKind::MessageRemoved,
                name,
                format!("message {name} was removed"),
            );
            continue;
        };
        for field in message.fields() {
            compare_field(&field, &current, found);
        }
        for field in current.fields() {
            let was_required = message
                .get_field(field.number())
                .is_some_and(|before| is_required(&before));
            if is_required(&field) && !was_required {
                push(
                    found,
                    BreakKind::FieldBecameRequired,
                    field.full_name(),
                    format!("{} is now required", field.full_name()),
                );
            }
        }
    }
    for old_enum in old.all_enums().filter(|e| checked(e.full_name())) {
        let name = old_enum.full_name();
        let Some(current) = new.get_enum_by_name(name) else {
            push(
                found,
                BreakKind::EnumRemoved,
                name,
                format!("enum {name} was removed"),
            );
            continue;
        };
        for value in old_enum.values() {
            match current.get_value(value.number()) {
                None => push(
                    found,
                    BreakKind::EnumValueRemoved,
                    value.full_name(),
                    format!("{} ({}) was removed", value.full_name(), value.number()),
                ),
                Some(now) if now.name() != value.name() => push(
                    found,
                    BreakKind::EnumValueRenamed,
                    value.full_name(),
                    format!("value {} is now named {}", value.number(), now.name()),
                ),
                Some(_) => {}
            }
        }
    }
    for service in old.services().filter(|s| checked(s.full_name())) {
        let name = service.full_name();
        let Some(current) = new.get_service_by_name(name) else {
            push(
                found,
                BreakKind::ServiceRemoved,
                name,
                format!("service {name} was removed"),
            );
            continue;
        };
        for method in service.methods() {
            let full = method.full_name();
            let Some(now) = current.methods().find(|m| m.name() == method.name()) else {
                push(
                    found,
                    BreakKind::MethodRemoved,
                    full,
                    format!("rpc {full} was removed"),
                );
                continue;
            };
            let types = |m: &prost_reflect::MethodDescriptor| {
                (
                    m.input().full_name().to_owned(),
                    m.output().full_name().to_owned(),
                )
            };
            if types(&method) != types(&now) {
                let ((i, o), (ni, no)) = (types(&method), types(&now));
                push(
                    found,
                    BreakKind::MethodTypeChanged,
                    full,
                    format!("({i}) returns ({o}) became ({ni}) returns ({no})"),
                );
            }
            let streams = |m: &prost_reflect::MethodDescriptor| {
                (m.is_client_streaming(), m.is_server_streaming())
            };
            if streams(&method) != streams(&now) {
                push(
                    found,
                    BreakKind::MethodStreamingChanged,
                    full,
                    format!(
                        "streaming (client, server) {:?} became {:?}",
                        streams(&method),
                        streams(&now)
                    ),
                );
            }
        }
    }
}

fn compare_field(
    field: &FieldDescriptor,
    current: &prost_reflect::MessageDescriptor,
    found: &mut Vec<Break>,
) {
    let full = field.full_name();
    let Some(now) = current.get_field(field.number()) else {
        match current.get_field_by_name(field.name()) {
            Some(moved) => push(
                found,
                BreakKind::FieldRenumbered,
                full,
                format!(
                    "{} moved from number {} to {}",
                    full,
                    field.number(),
                    moved.number()
                ),
            ),
            None => push(
                found,
                BreakKind::FieldRemoved,
                full,
                format!("{full} (number {}) was removed", field.number()),
            ),
        }
        return;
    };
    if now.name() != field.name() {
        push(
            found,
            BreakKind::FieldRenamed,
            full,
            format!("number {} is now named {}", field.number(), now.name()),
        );
    } else if now.json_name() != field.json_name() {
        push(
            found,
            BreakKind::JsonNameChanged,
            full,
            format!("JSON name {} became {}", field.json_name(), now.json_name()),
        );
    }
    if kind_name(&field.kind()) != kind_name(&now.kind()) {
        push(
            found,
            BreakKind::FieldTypeChanged,
            full,
            format!(
                "type {} became {}",
                kind_name(&field.kind()),
                kind_name(&now.kind())
            ),
        );
    }
    if shape(field) != shape(&now) {
        push(
            found,
            BreakKind::FieldCardinalityChanged,
            full,
            format!("{} became {}", shape(field), shape(&now)),
        );
    }
}

fn kind_name(kind: &Kind) -> String {
    match kind {
        Kind::Message(m) => m.full_name().to_owned(),
        Kind::Enum(e) => e.full_name().to_owned(),
        other => format!("{other:?}").to_lowercase(),
    }
}

fn shape(field: &FieldDescriptor) -> &'static str {
    if field.is_map() {
        "a map"
    } else if field.is_list() {
        "repeated"
    } else if field.cardinality() == Cardinality::Required {
        "required"
    } else if field.supports_presence() {
        "singular with presence"
    } else {
        "singular"
    }
}

fn is_required(field: &FieldDescriptor) -> bool {
    if field.cardinality() == Cardinality::Required {
        return true;
    }
    let Some(extension) = field.parent_pool().get_extension_by_name(FIELD_BEHAVIOR) else {
        return false;
    };
    let options = field.options();
    let value = options.get_extension(&extension);
    match value.as_ref() {
        Value::List(behaviors) => behaviors
            .iter()
            .any(|b| matches!(b, Value::EnumNumber(REQUIRED))),
        Value::EnumNumber(n) => *n == REQUIRED,
        _ => false,
    }
}

fn rest(old: &Contract, new: &Contract, found: &mut Vec<Break>) {
    let methods: BTreeMap<&str, &Method> = new
        .methods()
        .map(|method| (method.full_name.as_str(), method))
        .collect();
    for method in old.methods().filter(|m| checked(&m.full_name)) {
        // A removed method is already a wire break; its routes go with it.
        let Some(current) = methods.get(method.full_name.as_str()) else {
            continue;
        };
        for binding in &method.bindings {
            let route = route(binding);
            let subject = format!("{} {route}", method.full_name);
            let Some(now) = current.bindings.iter().find(|b| self::route(b) == route) else {
                let now: Vec<String> = current.bindings.iter().map(self::route).collect();
                push(
                    found,
                    BreakKind::RouteRemoved,
                    subject,
                    format!("route {route} is gone; now {}", now.join(", ")),
                );
                continue;
            };
            if body(&binding.body) != body(&now.body) {
                push(
                    found,
                    BreakKind::RouteBodyChanged,
                    subject.clone(),
                    format!("body {} became {}", body(&binding.body), body(&now.body)),
                );
            }
            let response = |b: &Binding| {
                b.response_body
                    .as_ref()
                    .map_or_else(|| "(whole response)".to_owned(), |f| f.path.to_string())
            };
            if response(binding) != response(now) {
                push(
                    found,
                    BreakKind::RouteResponseBodyChanged,
                    subject,
                    format!(
                        "response body {} became {}",
                        response(binding),
                        response(now)
                    ),
                );
            }
        }
    }
}

fn route(binding: &Binding) -> String {
    format!("{} {}", binding.verb, binding.template)
}

fn body(selector: &BodySelector) -> String {
    match selector {
        BodySelector::None => "(none)".to_owned(),
        BodySelector::All => "*".to_owned(),
        BodySelector::Field(field) => field.path.to_string(),
    }
}
