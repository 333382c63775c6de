//! Helpers shared by the tests: fixture paths and throwaway contract trees.

use std::path::{Path, PathBuf};

use tacos_codegen::load::load_contracts;
use tacos_codegen::model::Contract;
use tacos_codegen::rules::HttpRules;
use tacos_codegen::validate::{validate, Problem};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("codegen lives in the repository")
        .to_owned()
}

/// A fixture directory under `codegen/tests/fixtures`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// Loads `test/v1/test.proto` with the given body (after the package line and imports), plus
/// rules, and returns the contract and every problem validation reports.
pub fn check(body: &str, rules_yaml: &str) -> (Contract, Vec<Problem>) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let file = dir.path().join("test/v1/test.proto");
    std::fs::create_dir_all(file.parent().unwrap()).unwrap();
    let source = format!(
        "syntax = \"proto3\";\npackage test.v1;\nimport \"google/api/annotations.proto\";\n{body}\n"
    );
    std::fs::write(&file, source).unwrap();
    let loaded = load_contracts(&[dir.path().to_owned()], &[]).expect("the test proto loads");
    let rules = HttpRules::from_yaml(rules_yaml).expect("the test rules parse");
    let contract = Contract::build(&loaded, &rules);
    let problems = validate(&contract).err().map(|p| p.0).unwrap_or_default();
    (contract, problems)
}

/// The problems' display lines.
pub fn lines(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(ToString::to_string).collect()
}
