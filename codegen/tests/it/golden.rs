//! Golden snapshots of the model and the generated code for the `library` fixture.
//!
//! Re-bless after an intended change with `INSTA_UPDATE=always cargo test -p tacos-codegen`
//! (or `cargo insta review`), then read the diff.

use tacos_codegen::generate::{generate, GenerateConfig, GENERATED_HEADER};

use crate::support::fixture;

fn library() -> tacos_codegen::generate::Generated {
    generate(&GenerateConfig::new(vec![fixture("library")])).expect("the library fixture generates")
}

#[test]
fn model_of_the_library_fixture() {
    insta::assert_snapshot!("library_model", library().contract.to_text());
}

#[test]
fn generated_code_of_the_library_fixture() {
    let generated = library();
    let code = generated.text("library.v1.rs").expect("a file per package");
    assert!(code.starts_with(GENERATED_HEADER));
    insta::assert_snapshot!("library_code", code);
    insta::assert_snapshot!("library_mod", generated.text("mod.rs").unwrap());
}

#[test]
fn generated_files_are_deterministic_and_skip_option_only_files() {
    let (first, second) = (library(), library());
    assert_eq!(first.files, second.files);
    let paths: Vec<String> = first
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    // google/api comes from the built-in fallback: it carries options, not contract types.
    assert_eq!(paths, ["descriptor.bin", "library.v1.rs", "mod.rs"]);
}

#[test]
fn the_descriptor_set_keeps_options_and_comments() {
    let generated = library();
    let bytes = &generated
        .files
        .iter()
        .find(|f| f.path.ends_with("descriptor.bin"))
        .unwrap()
        .contents;
    let pool = prost_reflect::DescriptorPool::decode(bytes.as_slice()).expect("a valid set");
    let http = pool
        .get_extension_by_name("google.api.http")
        .expect("the option is declared");
    let method = pool
        .get_service_by_name("library.v1.LibraryService")
        .unwrap()
        .methods()
        .find(|m| m.name() == "GetBook")
        .unwrap();
    assert!(
        method.options().has_extension(&http),
        "google.api.http survives encoding"
    );
    let file = method.parent_file();
    let info = file.file_descriptor_proto().source_code_info.as_ref();
    let comments = info
        .into_iter()
        .flat_map(|i| &i.location)
        .filter_map(|l| l.leading_comments.as_deref())
        .any(|c| c.contains("Returns one book."));
    assert!(comments, "source info with comments is kept");
}
