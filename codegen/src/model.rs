//! The contract model: what every emitter, the xtask and the macros see.
//!
//! It is deliberately smaller than the descriptors: packages, services, methods with their
//! streaming shape and comments, and each method's HTTP bindings already parsed (path template
//! AST, body selectors) and resolved against the request and response messages.
//!
//! Build one with [`Contract::build`]; check it with [`crate::validate::validate`].

mod build;
mod text;

use std::fmt;

pub use crate::template::FieldPath;
use crate::template::PathTemplate;
use crate::validate::Problem;

/// All contracts loaded together, grouped by protobuf package.
#[derive(Debug, Clone, PartialEq)]
pub struct Contract {
    /// Packages of the contract tree (not the well-known types), sorted by name.
    pub packages: Vec<Package>,
    /// Problems found while building: bindings that could not be parsed or resolved are left out
    /// of the model and reported here; [`crate::validate::validate`] returns them with the rest.
    pub(crate) problems: Vec<Problem>,
}

/// One protobuf package, such as `gateway.v1`.
#[derive(Debug, Clone, PartialEq)]
pub struct Package {
    /// The dotted package name.
    pub name: String,
    /// The files declaring the package, in load order.
    pub files: Vec<String>,
    /// The services of the package, in declaration order.
    pub services: Vec<Service>,
}

/// One service.
#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    /// The short name, such as `QueueService`.
    pub name: String,
    /// The full name, such as `gateway.v1.QueueService`.
    pub full_name: String,
    /// The file declaring the service.
    pub file: String,
    /// The comments attached to the service.
    pub comments: Comments,
    /// The methods, in declaration order.
    pub methods: Vec<Method>,
}

/// One RPC.
#[derive(Debug, Clone, PartialEq)]
pub struct Method {
    /// The short name, such as `JoinQueue`.
    pub name: String,
    /// The full name used by selectors, such as `gateway.v1.QueueService.JoinQueue`.
    pub full_name: String,
    /// The request message's full name.
    pub input_type: String,
    /// The response message's full name.
    pub output_type: String,
    /// Which sides stream.
    pub streaming: Streaming,
    /// What repeating a call does (the `idempotency_level` method option).
    pub idempotency: Idempotency,
    /// The comments attached to the method.
    pub comments: Comments,
    /// The HTTP bindings: the primary first, then the additional ones.
    pub bindings: Vec<Binding>,
}

/// What calling a method twice does, as `google.protobuf.MethodOptions.idempotency_level`
/// declares it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Idempotency {
    /// Not declared.
    Unknown,
    /// Repeating leaves the same state as one call.
    Idempotent,
    /// The call changes nothing.
    NoSideEffects,
}

/// Which sides of an RPC stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Streaming {
    /// One request, one response.
    Unary,
    /// One request, a stream of responses.
    Server,
    /// A stream of requests, one response.
    Client,
    /// Streams both ways.
    Bidi,
}

impl Streaming {
    /// The shape for the given streaming flags.
    pub fn from_flags(client: bool, server: bool) -> Self {
        match (client, server) {
            (false, false) => Self::Unary,
            (false, true) => Self::Server,
            (true, false) => Self::Client,
            (true, true) => Self::Bidi,
        }
    }

    /// Whether the client sends a stream of requests (client-streaming and bidirectional).
    pub fn streams_requests(self) -> bool {
        matches!(self, Self::Client | Self::Bidi)
    }

    /// Whether the server answers with a stream (server-streaming and bidirectional).
    pub fn streams_responses(self) -> bool {
        matches!(self, Self::Server | Self::Bidi)
    }
}

/// Comments from the source, without the comment markers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comments {
    /// The comment right above the element.
    pub leading: Option<String>,
    /// The comment right after the element.
    pub trailing: Option<String>,
}

/// One HTTP route of a method.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    /// The HTTP method.
    pub verb: HttpVerb,
    /// The parsed path template.
    pub template: PathTemplate,
    /// The request fields bound by the template's variables, in template order.
    pub path_fields: Vec<BoundField>,
    /// What the request body carries.
    pub body: BodySelector,
    /// The response field sent as the body; `None` sends the whole response.
    pub response_body: Option<BoundField>,
    /// Where the binding came from.
    pub source: BindingSource,
}

/// An HTTP method.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum HttpVerb {
    /// `GET`.
    Get,
    /// `PUT`.
    Put,
    /// `POST`.
    Post,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
    /// Any other method, as written (for example `HEAD`).
    Custom(String),
}

impl HttpVerb {
    /// The verb for a method name; the five HttpRule verbs are recognised in any case.
    pub fn from_name(name: &str) -> Self {
        match name.to_ascii_uppercase().as_str() {
            "GET" => Self::Get,
            "PUT" => Self::Put,
            "POST" => Self::Post,
            "DELETE" => Self::Delete,
            "PATCH" => Self::Patch,
            _ => Self::Custom(name.to_owned()),
        }
    }

    /// The method name as sent on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Get => "GET",
            Self::Put => "PUT",
            Self::Post => "POST",
            Self::Delete => "DELETE",
            Self::Patch => "PATCH",
            Self::Custom(name) => name,
        }
    }
}

impl fmt::Display for HttpVerb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the request body of a binding carries.
#[derive(Debug, Clone, PartialEq)]
pub enum BodySelector {
    /// No body: fields not in the path come from the query string.
    None,
    /// `*`: every field not bound by the path.
    All,
    /// One request field; the others not in the path come from the query string.
    Field(BoundField),
}

/// Where a binding came from, in order of precedence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingSource {
    /// A `google.api.http` option on the method.
    Annotation,
    /// An entry of the rules file (only for methods without an annotation).
    Rules,
    /// The default for unbound methods: `POST /{package}.{Service}/{Method}`, body `*`.
    Default,
}

/// A field path resolved against a message: one [`FieldInfo`] per step.
#[derive(Debug, Clone, PartialEq)]
pub struct BoundField {
    /// The path as written.
    pub path: FieldPath,
    /// The fields along the path, outermost first; never empty.
    pub fields: Vec<FieldInfo>,
}

impl BoundField {
    /// The field the path ends at.
    pub fn leaf(&self) -> &FieldInfo {
        self.fields
            .last()
            .expect("a bound field has at least one step")
    }
}

/// What the model records about a field that a binding touches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldInfo {
    /// The proto name, such as `waiting_token`.
    pub name: String,
    /// The JSON name, such as `waitingToken`.
    pub json_name: String,
    /// The field number.
    pub number: u32,
    /// The value type.
    pub kind: FieldKind,
    /// Singular, optional, repeated or map.
    pub cardinality: Cardinality,
}

/// The type of a field's values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[allow(missing_docs)] // the variants are the protobuf scalar types, named as in `.proto`
pub enum FieldKind {
    Double,
    Float,
    Int32,
    Int64,
    Uint32,
    Uint64,
    Sint32,
    Sint64,
    Fixed32,
    Fixed64,
    Sfixed32,
    Sfixed64,
    Bool,
    String,
    Bytes,
    /// A message, by full name.
    Message(String),
    /// An enum, by full name.
    Enum(String),
}

impl FieldKind {
    /// The type as written in `.proto`.
    pub fn proto_name(&self) -> &str {
        match self {
            Self::Double => "double",
            Self::Float => "float",
            Self::Int32 => "int32",
            Self::Int64 => "int64",
            Self::Uint32 => "uint32",
            Self::Uint64 => "uint64",
            Self::Sint32 => "sint32",
            Self::Sint64 => "sint64",
            Self::Fixed32 => "fixed32",
            Self::Fixed64 => "fixed64",
            Self::Sfixed32 => "sfixed32",
            Self::Sfixed64 => "sfixed64",
            Self::Bool => "bool",
            Self::String => "string",
            Self::Bytes => "bytes",
            Self::Message(name) | Self::Enum(name) => name,
        }
    }

    /// Whether values are messages.
    pub fn is_message(&self) -> bool {
        matches!(self, Self::Message(_))
    }
}

/// How many values a field holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// A plain field (implicit presence in proto3; messages always track presence).
    Singular,
    /// An explicitly `optional` field, or a proto2 optional field.
    Optional,
    /// A proto2 `required` field.
    Required,
    /// A `repeated` field.
    Repeated,
    /// A `map<K, V>` field.
    Map,
}

impl Cardinality {
    /// Whether the field holds several values (repeated or map).
    pub fn is_multiple(self) -> bool {
        matches!(self, Self::Repeated | Self::Map)
    }
}

impl Contract {
    /// Builds the model from loaded contracts, taking bindings from annotations, then `rules`,
    /// then the default binding. Problems are kept for [`crate::validate::validate`].
    pub fn build(loaded: &crate::load::LoadedContracts, rules: &crate::rules::HttpRules) -> Self {
        build::build(loaded, rules)
    }

    /// The package called `name`.
    pub fn package(&self, name: &str) -> Option<&Package> {
        self.packages.iter().find(|p| p.name == name)
    }

    /// The method with the full name `name` (`pkg.Service.Method`).
    pub fn method(&self, name: &str) -> Option<&Method> {
        self.methods().find(|m| m.full_name == name)
    }

    /// Every method of every package.
    pub fn methods(&self) -> impl Iterator<Item = &Method> {
        self.packages
            .iter()
            .flat_map(|p| &p.services)
            .flat_map(|s| &s.methods)
    }

    /// A readable text dump of the model (used by golden tests and for debugging contracts).
    pub fn to_text(&self) -> String {
        text::render(self)
    }
}
