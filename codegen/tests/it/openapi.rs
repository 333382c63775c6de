//! The OpenAPI document: validity as OpenAPI 3.1 (checked by `openapi-spec-validator`, which
//! validates against the official OpenAPI 3.1 schema), agreement with the model's bindings, the
//! proto3 JSON types of its schemas, and a golden snapshot.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;
use tacos_codegen::emit::openapi::{emit_openapi, operation_id};
use tacos_codegen::load::load_contracts;
use tacos_codegen::model::Contract;
use tacos_codegen::rules::HttpRules;

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

fn fixture_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/openapi")
}

/// The model and the document of the contracts under `root`.
fn document_for(root: &Path) -> (Contract, String) {
    let loaded = load_contracts(&[root.to_path_buf()], &[]).expect("contracts load");
    let contract = Contract::build(&loaded, &HttpRules::none());
    let document = emit_openapi(&contract, &loaded.pool);
    (contract, document)
}

fn parse(document: &str) -> Value {
    serde_json::from_str(document).expect("the document is JSON")
}

// ---------------------------------------------------------------------------------------------
// The validator: PyPI's `openapi-spec-validator`, in a virtualenv under the target directory.
// ---------------------------------------------------------------------------------------------

/// The pinned validator release (it validates OpenAPI 3.1 against the official schema).
const VALIDATOR: &str = "openapi-spec-validator==0.9.0";

/// A Python interpreter that can import `openapi_spec_validator`.
///
/// `TACOS_OPENAPI_PYTHON` names one explicitly; otherwise a virtualenv is created once under the
/// target directory and the pinned validator installed into it with pip.
fn validator_python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let found = PYTHON.get_or_init(|| {
        if let Some(python) = std::env::var_os("TACOS_OPENAPI_PYTHON") {
            return Ok(PathBuf::from(python));
        }
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("openapi-validator-venv-0.9.0");
        let python = venv.join("bin/python");
        if can_import_validator(&python) {
            return Ok(python);
        }
        // Build in a private directory and rename, so concurrent test runs never see half a venv.
        let staging = venv.with_extension(format!("staging-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&staging);
        run(Command::new("python3").arg("-m").arg("venv").arg(&staging))?;
        run(Command::new(staging.join("bin/python")).args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            VALIDATOR,
        ]))?;
        if std::fs::rename(&staging, &venv).is_err() {
            // Another run got there first; theirs is as good as ours.
            let _ = std::fs::remove_dir_all(&staging);
        }
        if can_import_validator(&python) {
            Ok(python)
        } else {
            Err(format!(
                "{} cannot import openapi_spec_validator",
                python.display()
            ))
        }
    });
    match found {
        Ok(python) => python,
        Err(why) => panic!(
            "the OpenAPI validator is not available ({why}); it needs `python3` with `venv` and \
             pip access to PyPI, or set TACOS_OPENAPI_PYTHON to a Python that has `{VALIDATOR}`"
        ),
    }
}

fn can_import_validator(python: &Path) -> bool {
    python.exists()
        && Command::new(python)
            .args(["-c", "import openapi_spec_validator"])
            .output()
            .is_ok_and(|out| out.status.success())
}

fn run(command: &mut Command) -> Result<(), String> {
    let out = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{command:?} failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Validates `document` as OpenAPI 3.1; the error is the validator's report.
fn validate_openapi(document: &str, label: &str) -> Result<(), String> {
    let python = validator_python();
    let file = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("openapi-{label}-{}.json", std::process::id()));
    std::fs::write(&file, document).unwrap();
    let out = Command::new(python)
        .args(["-m", "openapi_spec_validator", "--schema", "3.1"])
        .arg(&file)
        .output()
        .expect("the validator runs");
    let _ = std::fs::remove_file(&file);
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    if out.status.success() && report.contains(": OK") {
        Ok(())
    } else {
        Err(report)
    }
}

#[test]
fn the_contracts_document_is_valid_openapi_3_1() {
    let (_, document) = document_for(&workspace_root().join("proto"));
    assert_eq!(parse(&document)["openapi"], "3.1.0");
    if let Err(report) = validate_openapi(&document, "proto") {
        panic!("the document of proto/ is not valid OpenAPI 3.1:\n{report}");
    }
}

#[test]
fn the_fixture_document_is_valid_openapi_3_1() {
    let (_, document) = document_for(&fixture_root());
    if let Err(report) = validate_openapi(&document, "fixture") {
        panic!("the fixture document is not valid OpenAPI 3.1:\n{report}");
    }
}

/// The checked-in documents of the generated crates (the upstream one with its rules file and
/// default bindings) are what services serve: validate those files too.
#[test]
fn the_checked_in_documents_are_valid_openapi_3_1() {
    for krate in ["examples/contracts", "examples/upstream-contracts"] {
        let path = workspace_root()
            .join(krate)
            .join("src/generated/openapi.json");
        let document = std::fs::read_to_string(&path).expect("the generated document exists");
        if let Err(report) = validate_openapi(&document, "checked-in") {
            panic!("{} is not valid OpenAPI 3.1:\n{report}", path.display());
        }
    }
}

/// The validator is only worth trusting if it says no: break the document in ways OpenAPI 3.1
/// forbids and expect each to be rejected.
#[test]
fn the_validator_rejects_broken_documents() {
    let (_, document) = document_for(&fixture_root());
    let original = parse(&document);
    type Mutation = (&'static str, fn(&mut Value));
    let mutations: [Mutation; 3] = [
        ("a parameter in no known location", |doc| {
            doc["paths"]["/v1/books/{id}"]["patch"]["parameters"][0]["in"] = "nowhere".into();
        }),
        ("an operation whose responses is not an object", |doc| {
            doc["paths"]["/v1/books/{id}"]["patch"]["responses"] = Value::from(200);
        }),
        ("info without a title", |doc| {
            doc["info"].as_object_mut().unwrap().remove("title");
        }),
    ];
    for (what, mutate) in mutations {
        let mut broken = original.clone();
        mutate(&mut broken);
        assert_ne!(broken, original, "{what}: the mutation changed nothing");
        let text = serde_json::to_string_pretty(&broken).unwrap();
        assert!(
            validate_openapi(&text, "broken").is_err(),
            "the validator accepted a document with {what}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The document against the model.
// ---------------------------------------------------------------------------------------------

const METHODS: &[&str] = &[
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// (HTTP method, OpenAPI path, operationId) of every operation in the document.
fn documented_operations(document: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for (path, item) in document["paths"].as_object().unwrap() {
        for (key, operation) in item.as_object().unwrap() {
            let mut add = |method: &str, operation: &Value| {
                let id = operation["operationId"].as_str().unwrap().to_owned();
                assert!(
                    out.insert((method.to_ascii_uppercase(), path.clone(), id.clone())),
                    "operation {id} listed twice"
                );
            };
            if METHODS.contains(&key.as_str()) {
                add(key, operation);
            } else if key == "x-custom-methods" {
                for (method, operation) in operation.as_object().unwrap() {
                    add(method, operation);
                }
            }
        }
    }
    out
}

/// The same triples computed from the model: the template printed back as an OpenAPI path.
fn model_operations(contract: &Contract) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for method in contract.methods() {
        for (index, binding) in method.bindings.iter().enumerate() {
            // Independent of the emitter's conversion: print the template, then collapse each
            // `{field=pattern}` into `{field}`.
            let mut path = String::new();
            let mut depth = 0;
            for c in binding.template.to_string().chars() {
                match c {
                    '{' => {
                        depth += 1;
                        path.push(c);
                    }
                    '}' => {
                        depth -= 1;
                        path.push(c);
                    }
                    '=' if depth > 0 => depth += 1,
                    _ if depth > 1 => {}
                    _ => path.push(c),
                }
            }
            let path = path.replace("={", "{");
            out.insert((
                binding.verb.as_str().to_owned(),
                path,
                operation_id(contract, method, index),
            ));
        }
    }
    out
}

#[test]
fn every_binding_is_an_operation_and_every_operation_a_binding() {
    for root in [workspace_root().join("proto"), fixture_root()] {
        let (contract, document) = document_for(&root);
        let documented = documented_operations(&parse(&document));
        let expected = model_operations(&contract);
        let missing: Vec<_> = expected.difference(&documented).collect();
        let extra: Vec<_> = documented.difference(&expected).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{}: bindings without operation: {missing:#?}\noperations without binding: {extra:#?}",
            root.display()
        );
        assert!(!expected.is_empty());
    }
}

#[test]
fn the_document_is_deterministic() {
    let (_, first) = document_for(&fixture_root());
    let (_, second) = document_for(&fixture_root());
    assert_eq!(first, second);
}

#[test]
fn golden_fixture_document() {
    let (_, document) = document_for(&fixture_root());
    insta::assert_snapshot!("openapi_fixture", document);
}
