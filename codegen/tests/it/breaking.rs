//! The breaking-change check: each kind of break in a small contract, and the allow-list.

use std::path::Path;

use tacos_codegen::breaking::{apply_allow_list, breaking_changes, Break, BreakKind};
use tacos_codegen::generate::{load_model, GenerateConfig};

/// `google.api.field_behavior`, declared here the way the Google API protos declare it (the
/// option's field number and enum numbers are what matter).
const FIELD_BEHAVIOR: &str = r#"
syntax = "proto3";
package google.api;
import "google/protobuf/descriptor.proto";
enum FieldBehavior {
  FIELD_BEHAVIOR_UNSPECIFIED = 0;
  OPTIONAL = 1;
  REQUIRED = 2;
  OUTPUT_ONLY = 3;
}
extend google.protobuf.FieldOptions {
  repeated google.api.FieldBehavior field_behavior = 1052 [packed = false];
}
"#;

/// The first version of the shop's contract.
const BASE: &str = r#"
syntax = "proto3";
package shop.v1;
import "google/api/annotations.proto";
import "google/api/field_behavior.proto";

service Shop {
  rpc GetBook(GetBookRequest) returns (Book) {
    option (google.api.http) = {get: "/v1/{name=books/*}"};
  }
  rpc CreateBook(CreateBookRequest) returns (Book) {
    option (google.api.http) = {post: "/v1/books" body: "book"};
  }
  rpc DeleteBook(GetBookRequest) returns (Book) {
    option (google.api.http) = {delete: "/v1/{name=books/*}"};
  }
}
message GetBookRequest { string name = 1; }
message CreateBookRequest {
  Book book = 1;
  string request_id = 2;
}
message Book {
  string name = 1;
  string title = 2;
  int32 pages = 3;
  Genre genre = 4;
}
enum Genre {
  GENRE_UNSPECIFIED = 0;
  GENRE_NOVEL = 1;
  GENRE_POETRY = 2;
}
"#;

fn load(
    dir: &Path,
    shop: &str,
) -> (
    tacos_codegen::load::LoadedContracts,
    tacos_codegen::model::Contract,
) {
    std::fs::create_dir_all(dir.join("google/api")).unwrap();
    std::fs::create_dir_all(dir.join("shop/v1")).unwrap();
    std::fs::write(dir.join("google/api/field_behavior.proto"), FIELD_BEHAVIOR).unwrap();
    std::fs::write(dir.join("shop/v1/shop.proto"), shop).unwrap();
    let mut config = GenerateConfig::new(vec![dir.to_owned()]);
    config.files = vec!["shop/v1/shop.proto".into()];
    load_model(&config).unwrap_or_else(|err| panic!("{err}"))
}

/// The breaks from [`BASE`] to `changed`.
fn breaks(changed: &str) -> Vec<Break> {
    let old = tempfile::tempdir().unwrap();
    let new = tempfile::tempdir().unwrap();
    let (old_loaded, old_model) = load(old.path(), BASE);
    let (new_loaded, new_model) = load(new.path(), changed);
    breaking_changes((&old_loaded, &old_model), (&new_loaded, &new_model))
}

fn keys(breaks: &[Break]) -> Vec<String> {
    breaks.iter().map(Break::key).collect()
}

#[test]
fn an_unchanged_or_extended_contract_has_no_breaks() {
    assert_eq!(keys(&breaks(BASE)), Vec::<String>::new());
    // New fields, values, RPCs and routes break nobody.
    let extended = BASE
        .replace("Genre genre = 4;", "Genre genre = 4;\n  string isbn = 5;")
        .replace("GENRE_POETRY = 2;", "GENRE_POETRY = 2;\n  GENRE_ESSAY = 3;")
        .replace(
            r#"option (google.api.http) = {get: "/v1/{name=books/*}"};"#,
            r#"option (google.api.http) = {get: "/v1/{name=books/*}" additional_bindings {get: "/v2/{name=books/*}"}};"#,
        );
    assert_eq!(keys(&breaks(&extended)), Vec::<String>::new());
}

#[test]
fn a_renumbered_field_is_a_wire_break() {
    let found = breaks(&BASE.replace("string title = 2;", "string title = 6;"));
    assert_eq!(keys(&found), ["FIELD_RENUMBERED shop.v1.Book.title"]);
    assert!(found[0].kind.breaks_wire());
    assert!(
        found[0].detail.contains("from number 2 to 6"),
        "{}",
        found[0]
    );
}

#[test]
fn a_removed_route_and_a_changed_path_template_are_rest_breaks() {
    let removed = breaks(&BASE.replace(
        r#"option (google.api.http) = {delete: "/v1/{name=books/*}"};"#,
        "",
    ));
    // The method stays on gRPC (its default POST route is another one).
    assert_eq!(
        keys(&removed),
        ["ROUTE_REMOVED shop.v1.Shop.DeleteBook DELETE /v1/{name=books/*}"]
    );
    assert!(!removed[0].kind.breaks_wire());

    let moved = breaks(&BASE.replace(
        r#"{get: "/v1/{name=books/*}"}"#,
        r#"{get: "/v1/{name=shelves/*/books/*}"}"#,
    ));
    assert_eq!(
        keys(&moved),
        ["ROUTE_REMOVED shop.v1.Shop.GetBook GET /v1/{name=books/*}"]
    );
    assert!(
        moved[0].detail.contains("GET /v1/{name=shelves/*/books/*}"),
        "{}",
        moved[0]
    );
}

#[test]
fn a_field_that_became_required_is_a_break() {
    let found = breaks(&BASE.replace(
        "string request_id = 2;",
        "string request_id = 2 [(google.api.field_behavior) = REQUIRED];",
    ));
    assert_eq!(
        keys(&found),
        ["FIELD_BECAME_REQUIRED shop.v1.CreateBookRequest.request_id"]
    );
}

#[test]
fn other_kinds_are_named() {
    let found = breaks(
        &BASE
            .replace("int32 pages = 3;", "int64 pages = 3;")
            .replace(
                "string name = 1;\n  string title",
                "string id = 1;\n  string title",
            )
            .replace("GENRE_POETRY = 2;", "")
            .replace(r#"body: "book""#, r#"body: "*""#)
            .replace(
                "rpc DeleteBook(GetBookRequest) returns (Book)",
                "rpc DeleteBook(GetBookRequest) returns (GetBookRequest)",
            ),
    );
    let kinds: Vec<BreakKind> = found.iter().map(|b| b.kind).collect();
    assert_eq!(
        keys(&found),
        [
            "FIELD_TYPE_CHANGED shop.v1.Book.pages",
            "FIELD_RENAMED shop.v1.Book.name",
            "ENUM_VALUE_REMOVED shop.v1.GENRE_POETRY",
            "METHOD_TYPE_CHANGED shop.v1.Shop.DeleteBook",
            "ROUTE_BODY_CHANGED shop.v1.Shop.CreateBook POST /v1/books",
        ],
        "{kinds:?}"
    );
}

#[test]
fn the_allow_list_passes_intended_breaks_and_names_stale_entries() {
    let found = breaks(
        &BASE
            .replace("string title = 2;", "string title = 6;")
            .replace("int32 pages = 3;", "int64 pages = 3;"),
    );
    assert_eq!(found.len(), 2);
    let allow = "# moving titles to 6 is intended\nFIELD_RENUMBERED shop.v1.Book.title\n\
                 FIELD_REMOVED shop.v1.Book.gone  # no longer happens\n";
    let (left, stale) = apply_allow_list(found, allow);
    assert_eq!(keys(&left), ["FIELD_TYPE_CHANGED shop.v1.Book.pages"]);
    assert_eq!(stale, ["FIELD_REMOVED shop.v1.Book.gone"]);
}
