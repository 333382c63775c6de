//! Wire compatibility with the Traffic Tacos facts sheet: every package, message, field (name,
//! number, type, label, map key and value), enum value and RPC listed there must be in our
//! descriptors exactly as listed. More is allowed; different is not.

use prost_reflect::{DescriptorPool, FieldDescriptor, Kind};
use tacos_codegen::load::load_contracts;

use crate::support::{fixture, repo_root};

/// One line of the sheet, reduced to what we compare.
#[derive(Debug)]
enum Fact {
    Enum {
        file: String,
        name: String,
        values: Vec<(String, i32)>,
    },
    Message {
        file: String,
        name: String,
        fields: Vec<(u32, String, String)>,
    },
    Rpc {
        service: String,
        method: String,
        input: String,
        output: String,
        client_streaming: bool,
        server_streaming: bool,
    },
}

struct Sheet {
    packages: Vec<String>,
    facts: Vec<Fact>,
}

fn read_sheet() -> Sheet {
    let text = std::fs::read_to_string(fixture("traffic-tacos-wire-facts.txt")).unwrap();
    let mut packages = Vec::new();
    let mut facts = Vec::new();
    let mut file = String::new();
    let mut service = String::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## file ") {
            let (path, meta) = rest.split_once(' ').unwrap();
            file = path.to_owned();
            let package = meta
                .split("package ")
                .nth(1)
                .and_then(|p| p.split(';').next())
                .unwrap()
                .to_owned();
            if !packages.contains(&package) {
                packages.push(package);
            }
        } else if let Some(rest) = line.strip_prefix("enum ") {
            let (name, values) = rest.split_once(" = ").unwrap();
            let values = values
                .split(", ")
                .map(|v| {
                    let (k, n) = v.split_once('=').unwrap();
                    (k.to_owned(), n.parse().unwrap())
                })
                .collect();
            facts.push(Fact::Enum {
                file: file.clone(),
                name: name.to_owned(),
                values,
            });
        } else if let Some(rest) = line.strip_prefix("message ") {
            let (name, body) = rest.split_once(" { ").unwrap();
            let fields = body
                .trim_end_matches(" }")
                .split("; ")
                .map(|f| {
                    let (number, rest) = f.split_once(':').unwrap();
                    let (field, ty) = rest.split_once(' ').unwrap();
                    (number.parse().unwrap(), field.to_owned(), ty.to_owned())
                })
                .collect();
            facts.push(Fact::Message {
                file: file.clone(),
                name: name.to_owned(),
                fields,
            });
        } else if let Some(rest) = line.strip_prefix("service ") {
            service = rest.trim_end_matches(':').to_owned();
        } else if let Some(rest) = line.trim_start().strip_prefix("rpc ") {
            let (method, rest) = rest.split_once('(').unwrap();
            let (input, rest) = rest.split_once(") returns (").unwrap();
            let output = rest.trim_end_matches(')');
            facts.push(Fact::Rpc {
                service: service.clone(),
                method: method.to_owned(),
                input: input.trim_start_matches("stream ").to_owned(),
                output: output.trim_start_matches("stream ").to_owned(),
                client_streaming: input.starts_with("stream "),
                server_streaming: output.starts_with("stream "),
            });
        }
    }
    Sheet { packages, facts }
}

/// The field's type as the sheet writes it: `string`, `repeated common.v1.Seat`, `map<string,string>`.
fn sheet_type(field: &FieldDescriptor) -> String {
    fn kind_name(kind: &Kind) -> String {
        match kind {
            Kind::Message(m) => m.full_name().to_owned(),
            Kind::Enum(e) => e.full_name().to_owned(),
            Kind::Double => "double".into(),
            Kind::Float => "float".into(),
            Kind::Int32 => "int32".into(),
            Kind::Int64 => "int64".into(),
            Kind::Uint32 => "uint32".into(),
            Kind::Uint64 => "uint64".into(),
            Kind::Sint32 => "sint32".into(),
            Kind::Sint64 => "sint64".into(),
            Kind::Fixed32 => "fixed32".into(),
            Kind::Fixed64 => "fixed64".into(),
            Kind::Sfixed32 => "sfixed32".into(),
            Kind::Sfixed64 => "sfixed64".into(),
            Kind::Bool => "bool".into(),
            Kind::String => "string".into(),
            Kind::Bytes => "bytes".into(),
        }
    }
    if field.is_map() {
        let Kind::Message(entry) = field.kind() else {
            unreachable!("map fields are messages")
        };
        format!(
            "map<{},{}>",
            kind_name(&entry.map_entry_key_field().kind()),
            kind_name(&entry.map_entry_value_field().kind())
        )
    } else if field.is_list() {
        format!("repeated {}", kind_name(&field.kind()))
    } else {
        kind_name(&field.kind())
    }
}

/// Every difference between the sheet and the pool; with `same_files`, declarations must also
/// sit in the files the sheet names (true for the upstream layout).
fn differences(pool: &DescriptorPool, same_files: bool) -> Vec<String> {
    let sheet = read_sheet();
    let mut out = Vec::new();
    for package in &sheet.packages {
        if !pool.files().any(|f| f.package_name() == package) {
            out.push(format!("package {package} is missing"));
        }
    }
    for fact in &sheet.facts {
        match fact {
            Fact::Enum { file, name, values } => {
                let Some(e) = pool.get_enum_by_name(name) else {
                    out.push(format!("enum {name} is missing"));
                    continue;
                };
                if same_files && e.parent_file().name() != file {
                    out.push(format!(
                        "enum {name} is in {}, not {file}",
                        e.parent_file().name()
                    ));
                }
                for (value, number) in values {
                    match e.get_value_by_name(value) {
                        Some(v) if v.number() == *number => {}
                        Some(v) => {
                            out.push(format!("{name}.{value} is {}, not {number}", v.number()))
                        }
                        None => out.push(format!("{name}.{value} is missing")),
                    }
                }
            }
            Fact::Message { file, name, fields } => {
                let Some(m) = pool.get_message_by_name(name) else {
                    out.push(format!("message {name} is missing"));
                    continue;
                };
                if same_files && m.parent_file().name() != file {
                    out.push(format!(
                        "message {name} is in {}, not {file}",
                        m.parent_file().name()
                    ));
                }
                for (number, field, ty) in fields {
                    match m.get_field(*number) {
                        Some(f) if f.name() == field && sheet_type(&f) == *ty => {}
                        Some(f) => out.push(format!(
                            "{name} field {number} is `{} {}`, not `{ty} {field}`",
                            sheet_type(&f),
                            f.name()
                        )),
                        None => out.push(format!("{name} field {number} ({field}) is missing")),
                    }
                }
            }
            Fact::Rpc {
                service,
                method,
                input,
                output,
                client_streaming,
                server_streaming,
            } => {
                let Some(s) = pool.get_service_by_name(service) else {
                    out.push(format!("service {service} is missing"));
                    continue;
                };
                let Some(m) = s.methods().find(|m| m.name() == method) else {
                    out.push(format!("rpc {service}.{method} is missing"));
                    continue;
                };
                let actual = (
                    m.input().full_name().to_owned(),
                    m.output().full_name().to_owned(),
                    m.is_client_streaming(),
                    m.is_server_streaming(),
                );
                let expected = (
                    input.clone(),
                    output.clone(),
                    *client_streaming,
                    *server_streaming,
                );
                if actual != expected {
                    out.push(format!(
                        "rpc {service}.{method} is {actual:?}, not {expected:?}"
                    ));
                }
            }
        }
    }
    out
}

#[test]
fn the_sheet_is_read_whole() {
    let sheet = read_sheet();
    assert_eq!(sheet.packages.len(), 4);
    let rpcs = sheet
        .facts
        .iter()
        .filter(|f| matches!(f, Fact::Rpc { .. }))
        .count();
    assert_eq!(rpcs, 50, "the sheet lists 50 RPCs");
}

#[test]
fn our_contracts_match_the_sheet() {
    let loaded = load_contracts(&[repo_root().join("proto")], &[]).expect("proto/ loads");
    let diffs = differences(&loaded.pool, false);
    assert!(
        diffs.is_empty(),
        "proto/ differs from the wire facts:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn the_upstream_fixture_matches_the_sheet() {
    let loaded = load_contracts(&[fixture("upstream")], &[]).expect("the upstream fixture loads");
    let diffs = differences(&loaded.pool, true);
    assert!(
        diffs.is_empty(),
        "the upstream fixture differs:\n{}",
        diffs.join("\n")
    );
}

#[test]
fn a_renumbered_field_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let source = fixture("upstream");
    for file in tacos_codegen::load::find_proto_files(&source).unwrap() {
        let relative = file.strip_prefix(&source).unwrap();
        let dest = dir.path().join(relative);
        std::fs::create_dir_all(dest.parent().unwrap()).unwrap();
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(
            &dest,
            text.replace("string currency = 2;", "string currency = 3;"),
        )
        .unwrap();
    }
    let loaded = load_contracts(&[dir.path().to_owned()], &[]).unwrap();
    assert_eq!(
        differences(&loaded.pool, true),
        ["common.v1.Money field 2 (currency) is missing"]
    );
}
