//! A readable, stable text form of the model, one fact per line.

use std::fmt::Write;

use super::{
    Binding, BindingSource, BodySelector, BoundField, Cardinality, Comments, Contract, Idempotency,
    Streaming,
};

pub(super) fn render(contract: &Contract) -> String {
    let mut out = String::new();
    for package in &contract.packages {
        let _ = writeln!(out, "package {}", package.name);
        for file in &package.files {
            let _ = writeln!(out, "  file {file}");
        }
        for service in &package.services {
            let _ = writeln!(out, "  service {} ({})", service.full_name, service.file);
            comments(&mut out, "    ", &service.comments);
            for method in &service.methods {
                let streaming = match method.streaming {
                    Streaming::Unary => "unary",
                    Streaming::Server => "server-streaming",
                    Streaming::Client => "client-streaming",
                    Streaming::Bidi => "bidi-streaming",
                };
                let idempotency = match method.idempotency {
                    Idempotency::Unknown => "",
                    Idempotency::Idempotent => " [idempotent]",
                    Idempotency::NoSideEffects => " [no-side-effects]",
                };
                let _ = writeln!(
                    out,
                    "    rpc {}({}) returns ({}) [{streaming}]{idempotency}",
                    method.name, method.input_type, method.output_type
                );
                comments(&mut out, "      ", &method.comments);
                for binding in &method.bindings {
                    render_binding(&mut out, binding);
                }
            }
        }
    }
    out
}

fn comments(out: &mut String, indent: &str, comments: &Comments) {
    for (label, text) in [("doc", &comments.leading), ("trailing", &comments.trailing)] {
        if let Some(text) = text {
            for line in text.lines() {
                let _ = writeln!(out, "{indent}{label}: {line}");
            }
        }
    }
}

fn render_binding(out: &mut String, binding: &Binding) {
    let source = match binding.source {
        BindingSource::Annotation => "annotation",
        BindingSource::Rules => "rules",
        BindingSource::Default => "default",
    };
    let _ = writeln!(
        out,
        "      {} {} ({source})",
        binding.verb, binding.template
    );
    for field in &binding.path_fields {
        let _ = writeln!(out, "        path {}", describe(field));
    }
    match &binding.body {
        BodySelector::None => {}
        BodySelector::All => {
            let _ = writeln!(out, "        body *");
        }
        BodySelector::Field(field) => {
            let _ = writeln!(out, "        body {}", describe(field));
        }
    }
    if let Some(field) = &binding.response_body {
        let _ = writeln!(out, "        response_body {}", describe(field));
    }
}

fn describe(field: &BoundField) -> String {
    let steps: Vec<String> = field
        .fields
        .iter()
        .map(|f| {
            let cardinality = match f.cardinality {
                Cardinality::Singular => "",
                Cardinality::Optional => "optional ",
                Cardinality::Required => "required ",
                Cardinality::Repeated => "repeated ",
                Cardinality::Map => "map ",
            };
            format!(
                "{}={} ({cardinality}{}, json {})",
                f.name,
                f.number,
                f.kind.proto_name(),
                f.json_name
            )
        })
        .collect();
    format!("{}: {}", field.path, steps.join(" > "))
}
