//! Path template parser: the AST, canonical printing, and every malformed case.

use tacos_codegen::template::{parse_template, FieldPath, PathTemplate, Segment, Variable};

fn var(path: &str, pattern: Vec<Segment>) -> Segment {
    Segment::Variable(Variable {
        field_path: FieldPath::parse(path).unwrap(),
        pattern,
    })
}

fn lit(text: &str) -> Segment {
    Segment::Literal(text.to_owned())
}

#[test]
fn variable_with_a_multi_segment_pattern() {
    let t = parse_template("/v1/{name=shelves/*/books/*}").unwrap();
    assert_eq!(
        t,
        PathTemplate {
            segments: vec![
                lit("v1"),
                var(
                    "name",
                    vec![
                        lit("shelves"),
                        Segment::Wildcard,
                        lit("books"),
                        Segment::Wildcard
                    ]
                ),
            ],
            verb: None,
        }
    );
    assert_eq!(t.to_string(), "/v1/{name=shelves/*/books/*}");
}

#[test]
fn deep_wildcards_alone_and_in_variables() {
    let t = parse_template("/v1/files/**").unwrap();
    assert_eq!(t.segments.last(), Some(&Segment::DeepWildcard));
    let t = parse_template("/v1/{path=files/**}").unwrap();
    assert_eq!(
        t.segments[1],
        var("path", vec![lit("files"), Segment::DeepWildcard])
    );
    assert_eq!(t.to_string(), "/v1/{path=files/**}");
}

#[test]
fn custom_verb() {
    let t = parse_template("/v1/{name=shelves/*}:publish").unwrap();
    assert_eq!(t.verb.as_deref(), Some("publish"));
    assert_eq!(t.to_string(), "/v1/{name=shelves/*}:publish");
    let t = parse_template("/v1/**:undelete").unwrap();
    assert_eq!(t.verb.as_deref(), Some("undelete"));
}

#[test]
fn nested_field_paths() {
    let t = parse_template("/v1/{a.b.c}/x").unwrap();
    let Segment::Variable(v) = &t.segments[1] else {
        panic!("expected a variable: {t:?}")
    };
    assert_eq!(v.field_path.parts(), ["a", "b", "c"]);
    assert_eq!(v.pattern, vec![Segment::Wildcard]);
}

#[test]
fn shorthand_prints_canonically() {
    assert_eq!(
        parse_template("/v1/{id=*}").unwrap().to_string(),
        "/v1/{id}"
    );
    assert_eq!(parse_template("/v1/{id}").unwrap().to_string(), "/v1/{id}");
    let text = "/v1/users/{user_id}/items/{item.id=i/*}:do-it";
    assert_eq!(parse_template(text).unwrap().to_string(), text);
}

#[track_caller]
fn malformed(text: &str, column: usize, reason: &str) {
    let err = parse_template(text).expect_err(text);
    assert_eq!(
        (err.column, err.reason.as_str()),
        (column, reason),
        "{text}"
    );
    assert_eq!(
        err.to_string(),
        format!("malformed path template `{text}` at column {column}: {reason}")
    );
}

#[test]
fn must_start_with_a_slash() {
    malformed("v1/books", 1, "a template must start with `/`");
    malformed("", 1, "a template must start with `/`");
}

#[test]
fn empty_segments() {
    malformed("/", 2, "empty segment");
    malformed("/v1//books", 5, "empty segment");
    malformed("/v1/books/", 11, "empty segment");
}

#[test]
fn deep_wildcard_not_last() {
    malformed("/v1/**/books", 5, "`**` must be the last segment");
    malformed("/v1/{name=**}/books", 11, "`**` must be the last segment");
    malformed("/v1/{a=x/**/y}", 10, "`**` must be the last segment");
}

#[test]
fn nested_variables() {
    malformed("/v1/{a={b}}", 8, "variables cannot be nested");
}

#[test]
fn unclosed_and_unbalanced_braces() {
    malformed("/v1/{name", 5, "unclosed `{`");
    malformed("/v1/{name=books/*", 5, "unclosed `{`");
    malformed("/v1/name}", 9, "unexpected `}`");
}

#[test]
fn bad_field_paths() {
    malformed("/v1/{}", 6, "expected a field name");
    malformed("/v1/{1abc}", 6, "`1abc` is not a field name");
    malformed("/v1/{a.}", 8, "expected a field name");
    malformed("/v1/{a-b}", 7, "unexpected `-` in variable");
}

#[test]
fn bad_verbs_and_characters() {
    malformed("/v1/books:", 11, "expected a verb after `:`");
    malformed("/v1/books:a:b", 12, "unexpected `:`");
    malformed("/v1/bo oks", 7, "unexpected ` `");
    malformed("/v1/***", 7, "`***` is not a segment; use `*` or `**`");
}

#[test]
fn a_field_bound_twice() {
    malformed("/v1/{a}/{a}", 9, "field `a` is bound more than once");
    malformed("/v1/{a}/{a.b}", 9, "field `a.b` is bound more than once");
}

#[test]
fn field_paths_overlap_by_prefix() {
    let a = FieldPath::parse("a").unwrap();
    let ab = FieldPath::parse("a.b").unwrap();
    let ac = FieldPath::parse("a.c").unwrap();
    assert!(a.overlaps(&ab) && ab.overlaps(&a));
    assert!(!ab.overlaps(&ac));
    assert!(FieldPath::parse("a..b").is_none());
}

/// Bounded fuzzing (256 cases, or `FUZZ_CASES`): any text parses or is refused, never a panic,
/// and whatever parses prints back to text that parses to the same template.
#[test]
fn any_text_parses_or_is_refused_and_parsed_templates_print_back() {
    use proptest::prelude::*;
    let cases = std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    let pieces = prop::sample::select(vec![
        "/",
        "v1",
        "x",
        "{",
        "}",
        "=",
        "*",
        "**",
        ":",
        ":verb",
        ".",
        "a.b",
        "name",
        "%2F",
        "-",
        "_",
        "{name}",
        "{name=*}",
        "{a.b=x/*}",
        "{name=**}",
    ]);
    let text = prop_oneof![
        prop::collection::vec(pieces, 0..10).prop_map(|p| p.concat()),
        any::<String>(),
    ];
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        failure_persistence: None,
        ..Default::default()
    });
    runner
        .run(&text, |text| {
            if let Ok(template) = parse_template(&text) {
                let printed = template.to_string();
                let again = parse_template(&printed).expect("a printed template parses");
                prop_assert_eq!(again, template, "{} printed as {}", text, printed);
            }
            Ok(())
        })
        .unwrap();
}
