//! Building the model from a descriptor pool and a rules file.

use prost_reflect::{
    DescriptorPool, ExtensionDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
    MethodDescriptor, ServiceDescriptor, Value,
};

use super::{
    Binding, BindingSource, BodySelector, BoundField, Cardinality, Comments, Contract, FieldInfo,
    FieldKind, HttpVerb, Idempotency, Method, Package, Service, Streaming,
};
use crate::load::LoadedContracts;
use crate::rules::{selector_matches, HttpRule, HttpRules};
use crate::template::{parse_template, FieldPath};
use crate::validate::{Problem, ProblemKind};

/// The full name of the `google.api.http` method option.
const HTTP_OPTION: &str = "google.api.http";

pub(super) fn build(loaded: &LoadedContracts, rules: &HttpRules) -> Contract {
    let pool = &loaded.pool;
    let http_option = pool.get_extension_by_name(HTTP_OPTION);
    let mut problems = Vec::new();
    let mut packages: Vec<Package> = Vec::new();

    for file in loaded.files.iter().filter(|f| f.is_from_roots()) {
        let Some(descriptor) = pool.get_file_by_name(&file.name) else {
            continue;
        };
        let index = match packages
            .iter()
            .position(|p| p.name == descriptor.package_name())
        {
            Some(index) => index,
            None => {
                packages.push(Package {
                    name: descriptor.package_name().to_owned(),
                    files: Vec::new(),
                    services: Vec::new(),
                });
                packages.len() - 1
            }
        };
        packages[index].files.push(file.name.clone());
        for service in descriptor.services() {
            let built = build_service(
                &service,
                &descriptor,
                http_option.as_ref(),
                rules,
                &mut problems,
            );
            packages[index].services.push(built);
        }
    }
    packages.sort_by(|a, b| a.name.cmp(&b.name));
    check_selectors(pool, &packages, rules, &mut problems);

    Contract { packages, problems }
}

fn build_service(
    service: &ServiceDescriptor,
    file: &FileDescriptor,
    http_option: Option<&ExtensionDescriptor>,
    rules: &HttpRules,
    problems: &mut Vec<Problem>,
) -> Service {
    let methods = service
        .methods()
        .map(|method| build_method(&method, file, http_option, rules, problems))
        .collect();
    Service {
        name: service.name().to_owned(),
        full_name: service.full_name().to_owned(),
        file: file.name().to_owned(),
        comments: comments_at(file, service.path()),
        methods,
    }
}

fn build_method(
    method: &MethodDescriptor,
    file: &FileDescriptor,
    http_option: Option<&ExtensionDescriptor>,
    rules: &HttpRules,
    problems: &mut Vec<Problem>,
) -> Method {
    let full_name = method.full_name().to_owned();
    let annotation = http_option.and_then(|ext| {
        let options = method.options();
        if !options.has_extension(ext) {
            return None;
        }
        match options.get_extension(ext).as_ref() {
            Value::Message(rule) => Some(HttpRule::from_dynamic(rule)),
            _ => None,
        }
    });
    let (rule, source) = match (annotation, rules.find(&full_name)) {
        (Some(rule), _) => (rule, BindingSource::Annotation),
        (None, Some(rule)) => (rule.clone(), BindingSource::Rules),
        (None, None) => (default_rule(method), BindingSource::Default),
    };
    let origin = match source {
        BindingSource::Rules => format!(" (rule in {})", rules.display_name()),
        _ => String::new(),
    };
    // `file:line` of the method, so a problem can be found in its source.
    let at = match line_of(file, method.path()) {
        Some(line) => format!("{}:{line}", file.name()),
        None => file.name().to_owned(),
    };
    let mut report = |kind: ProblemKind, message: String| {
        problems.push(Problem {
            file: at.clone(),
            method: full_name.clone(),
            kind,
            message: format!("{message}{origin}"),
        });
    };

    let mut bindings = Vec::new();
    let nested = rule
        .additional_bindings
        .iter()
        .any(|b| !b.additional_bindings.is_empty());
    if nested {
        report(
            ProblemKind::InvalidRule,
            "additional bindings cannot have additional bindings of their own".to_owned(),
        );
    }
    for one in std::iter::once(&rule).chain(&rule.additional_bindings) {
        if let Some(binding) = build_binding(one, method, source, &mut report) {
            bindings.push(binding);
        }
    }

    Method {
        name: method.name().to_owned(),
        full_name,
        input_type: method.input().full_name().to_owned(),
        output_type: method.output().full_name().to_owned(),
        streaming: Streaming::from_flags(
            method.is_client_streaming(),
            method.is_server_streaming(),
        ),
        idempotency: idempotency(method),
        comments: comments_at(file, method.path()),
        bindings,
    }
}

/// The method's declared `idempotency_level`.
fn idempotency(method: &MethodDescriptor) -> Idempotency {
    use prost_types::method_options::IdempotencyLevel;
    let declared = method
        .method_descriptor_proto()
        .options
        .as_ref()
        .map(|options| options.idempotency_level());
    match declared {
        Some(IdempotencyLevel::NoSideEffects) => Idempotency::NoSideEffects,
        Some(IdempotencyLevel::Idempotent) => Idempotency::Idempotent,
        Some(IdempotencyLevel::IdempotencyUnknown) | None => Idempotency::Unknown,
    }
}

/// `POST /{package}.{Service}/{Method}` with body `*`, the route of unbound methods.
fn default_rule(method: &MethodDescriptor) -> HttpRule {
    HttpRule {
        post: Some(format!(
            "/{}/{}",
            method.parent_service().full_name(),
            method.name()
        )),
        body: "*".to_owned(),
        ..HttpRule::default()
    }
}

fn build_binding(
    rule: &HttpRule,
    method: &MethodDescriptor,
    source: BindingSource,
    report: &mut impl FnMut(ProblemKind, String),
) -> Option<Binding> {
    let patterns = rule.patterns();
    let (verb, path) = match patterns.as_slice() {
        [one] => one.clone(),
        [] => {
            report(
                ProblemKind::InvalidRule,
                "binding sets no verb and path (one of get, put, post, delete, patch, custom)"
                    .to_owned(),
            );
            return None;
        }
        several => {
            let verbs: Vec<&str> = several.iter().map(|(v, _)| v.as_str()).collect();
            report(
                ProblemKind::InvalidRule,
                format!("binding sets more than one verb ({})", verbs.join(", ")),
            );
            return None;
        }
    };
    if verb.is_empty() {
        report(
            ProblemKind::InvalidRule,
            "custom binding has an empty kind".to_owned(),
        );
        return None;
    }
    let template = match parse_template(path) {
        Ok(template) => template,
        Err(err) => {
            report(ProblemKind::MalformedTemplate, err.to_string());
            return None;
        }
    };

    let input = method.input();
    let mut ok = true;
    let mut path_fields = Vec::new();
    for variable in template.variables() {
        match resolve(&input, &variable.field_path) {
            Ok(bound) => path_fields.push(bound),
            Err(why) => {
                report(ProblemKind::UnknownField, format!("path `{path}`: {why}"));
                ok = false;
            }
        }
    }
    let body = match rule.body.as_str() {
        "" => BodySelector::None,
        "*" => BodySelector::All,
        text => match parse_and_resolve(&input, text) {
            Ok(bound) => BodySelector::Field(bound),
            Err(why) => {
                report(ProblemKind::UnknownField, format!("body: {why}"));
                ok = false;
                BodySelector::None
            }
        },
    };
    let response_body = match rule.response_body.as_str() {
        "" => None,
        text => match parse_and_resolve(&method.output(), text) {
            Ok(bound) => Some(bound),
            Err(why) => {
                report(ProblemKind::UnknownField, format!("response_body: {why}"));
                ok = false;
                None
            }
        },
    };
    ok.then_some(Binding {
        verb: HttpVerb::from_name(&verb),
        template,
        path_fields,
        body,
        response_body,
        source,
    })
}

fn parse_and_resolve(message: &MessageDescriptor, text: &str) -> Result<BoundField, String> {
    let path = FieldPath::parse(text).ok_or_else(|| format!("`{text}` is not a field path"))?;
    resolve(message, &path)
}

/// Walks `path` through `message`; every step but the last must be a message field.
fn resolve(message: &MessageDescriptor, path: &FieldPath) -> Result<BoundField, String> {
    let mut fields = Vec::new();
    let mut current = message.clone();
    let parts = path.parts();
    for (i, name) in parts.iter().enumerate() {
        let field = current.get_field_by_name(name).ok_or_else(|| {
            format!(
                "unknown field `{path}`: {} has no field `{name}`",
                current.full_name()
            )
        })?;
        let info = field_info(&field);
        if i + 1 < parts.len() {
            match field.kind() {
                Kind::Message(next) if !field.is_map() => current = next,
                _ => {
                    return Err(format!(
                        "unknown field `{path}`: `{name}` of {} is not a message",
                        current.full_name()
                    ))
                }
            }
        }
        fields.push(info);
    }
    Ok(BoundField {
        path: path.clone(),
        fields,
    })
}

fn field_info(field: &FieldDescriptor) -> FieldInfo {
    let kind = match field.kind() {
        Kind::Double => FieldKind::Double,
        Kind::Float => FieldKind::Float,
        Kind::Int32 => FieldKind::Int32,
        Kind::Int64 => FieldKind::Int64,
        Kind::Uint32 => FieldKind::Uint32,
        Kind::Uint64 => FieldKind::Uint64,
        Kind::Sint32 => FieldKind::Sint32,
        Kind::Sint64 => FieldKind::Sint64,
        Kind::Fixed32 => FieldKind::Fixed32,
        Kind::Fixed64 => FieldKind::Fixed64,
        Kind::Sfixed32 => FieldKind::Sfixed32,
        Kind::Sfixed64 => FieldKind::Sfixed64,
        Kind::Bool => FieldKind::Bool,
        Kind::String => FieldKind::String,
        Kind::Bytes => FieldKind::Bytes,
        Kind::Message(m) => FieldKind::Message(m.full_name().to_owned()),
        Kind::Enum(e) => FieldKind::Enum(e.full_name().to_owned()),
    };
    let proto = field.field_descriptor_proto();
    let cardinality = if field.is_map() {
        Cardinality::Map
    } else if field.is_list() {
        Cardinality::Repeated
    } else {
        match field.cardinality() {
            prost_reflect::Cardinality::Required => Cardinality::Required,
            _ if proto.proto3_optional() => Cardinality::Optional,
            _ if field.parent_file().syntax() == prost_reflect::Syntax::Proto2 => {
                Cardinality::Optional
            }
            _ => Cardinality::Singular,
        }
    };
    FieldInfo {
        name: field.name().to_owned(),
        json_name: field.json_name().to_owned(),
        number: field.number(),
        kind,
        cardinality,
    }
}

/// Rules whose selector names no method are mistakes (a typo would silently fall back to the
/// default binding); so are two rules with the same selector.
fn check_selectors(
    pool: &DescriptorPool,
    packages: &[Package],
    rules: &HttpRules,
    problems: &mut Vec<Problem>,
) {
    let file = rules.display_name();
    for (i, rule) in rules.rules.iter().enumerate() {
        let matched = packages
            .iter()
            .flat_map(|p| &p.services)
            .flat_map(|s| &s.methods)
            .any(|m| selector_matches(&rule.selector, &m.full_name));
        let (kind, message) = if rule.selector.is_empty() {
            (ProblemKind::InvalidRule, "rule has no selector".to_owned())
        } else if rules.rules[..i].iter().any(|r| r.selector == rule.selector) {
            (
                ProblemKind::InvalidRule,
                "more than one rule has this selector".to_owned(),
            )
        } else if !matched {
            let hint = if pool.get_service_by_name(&rule.selector).is_some() {
                " (it names a service; use `<service>.*` to select all its methods)"
            } else {
                ""
            };
            (
                ProblemKind::InvalidRule,
                format!("selector matches no method of the contracts{hint}"),
            )
        } else {
            continue;
        };
        problems.push(Problem {
            file: file.clone(),
            method: rule.selector.clone(),
            kind,
            message,
        });
    }
}

/// The 1-based line the element at `path` starts on, from the source info.
fn line_of(file: &FileDescriptor, path: &[i32]) -> Option<i32> {
    let location = file
        .file_descriptor_proto()
        .source_code_info
        .as_ref()?
        .location
        .iter()
        .find(|l| l.path == path)?;
    Some(location.span.first()? + 1)
}

/// The comments recorded in the source info for the element at `path`.
fn comments_at(file: &FileDescriptor, path: &[i32]) -> Comments {
    let location = file
        .file_descriptor_proto()
        .source_code_info
        .as_ref()
        .and_then(|info| info.location.iter().find(|l| l.path == path));
    let clean = |text: &Option<String>| {
        text.as_deref()
            .map(|t| {
                t.lines()
                    .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
                    .collect::<Vec<_>>()
                    .join("\n")
                    .trim()
                    .to_owned()
            })
            .filter(|t| !t.is_empty())
    };
    location.map_or_else(Comments::default, |l| Comments {
        leading: clean(&l.leading_comments),
        trailing: clean(&l.trailing_comments),
    })
}
