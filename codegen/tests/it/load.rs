//! Loading: several include roots, files named by path or by import name, and the fallback
//! `google/api` definitions.

use tacos_codegen::load::{load_contracts, LoadError};

use crate::support::fixture;

#[test]
fn several_roots_and_both_ways_of_naming_files() {
    let roots = [fixture("upstream"), fixture("library")];
    let files = [
        fixture("upstream/proto/payment/v1/payment.proto"),
        "library/v1/library.proto".into(),
    ];
    let loaded = load_contracts(&roots, &files).expect("loads");
    let requested: Vec<&str> = loaded
        .files
        .iter()
        .filter(|f| f.requested)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        requested,
        ["proto/payment/v1/payment.proto", "library/v1/library.proto"]
    );
    let from_roots: Vec<&str> = loaded
        .files
        .iter()
        .filter(|f| f.is_from_roots())
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(
        from_roots,
        [
            "proto/common/v1/errors.proto",
            "proto/common/v1/types.proto",
            "proto/payment/v1/payment.proto",
            "library/v1/library.proto",
        ]
    );
    // The library imports google/api/annotations.proto, which no root ships.
    let fallback = loaded
        .files
        .iter()
        .find(|f| f.name == "google/api/annotations.proto")
        .expect("the fallback is used");
    assert!(fallback.path.is_none());
}

#[test]
fn contracts_without_google_api_load_and_have_no_annotations() {
    let loaded = load_contracts(&[fixture("upstream")], &[]).expect("loads");
    assert!(loaded
        .pool
        .get_extension_by_name("google.api.http")
        .is_none());
    assert_eq!(loaded.files.iter().filter(|f| f.requested).count(), 11);
}

#[test]
fn errors_name_the_problem() {
    let err = load_contracts(&[], &[]).unwrap_err();
    assert_eq!(err.to_string(), "no proto root given");

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("bad.proto"),
        "syntax = \"proto3\";\nmessage {",
    )
    .unwrap();
    let err = load_contracts(&[dir.path().to_owned()], &[]).unwrap_err();
    assert!(matches!(err, LoadError::Compile(_)), "{err}");
    assert!(
        err.to_string().starts_with("cannot compile contracts: "),
        "{err}"
    );
}
