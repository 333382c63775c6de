//! Bounded fuzzing of what the runtime reads from the network: REST route matching, query
//! binding, proto3 JSON decoding of generated messages, `grpc-timeout` parsing and bearer-token
//! verification. Each property feeds hostile input and asks only for a clean answer (a value or
//! an error, never a panic), plus round trips where there is one to check.
//!
//! CI runs [`cases`] per property (256 by default); longer runs set `FUZZ_CASES`, for example
//! `FUZZ_CASES=200000 cargo test -p tacos-runtime --test it fuzz -- --nocapture`. A failure
//! prints the smallest input found; keep it as a plain test beside the code it broke.

use std::time::Duration;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tacos_runtime::auth::{AuthConfig, Authenticator};
use tacos_runtime::context::deadline::parse_grpc_timeout;
use tacos_runtime::rest::query::apply_query;

use crate::library::*;

/// Cases per property: `FUZZ_CASES`, else 256.
fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: cases(),
        failure_persistence: None,
        ..Config::default()
    })
}

/// Text biased towards what the parsers look for.
fn hostile_text() -> impl Strategy<Value = String> {
    let pieces = prop::sample::select(vec![
        "/",
        "//",
        "v1",
        "shelves",
        "books",
        "1",
        ":",
        ":archive",
        "%",
        "%2F",
        "%zz",
        "%00",
        "*",
        "**",
        "{",
        "}",
        "=",
        "&",
        "?",
        "[",
        "]",
        ".",
        "..",
        "a.b",
        "tags",
        "page_size",
        "genre",
        "filter.author",
        "published_after",
        "max_age",
        "-",
        "+",
        "1e9",
        "9999999999999999999",
        "\u{0}",
        "é",
        "\u{202e}",
        " ",
        "\"",
        "\\",
        "null",
        "true",
        "[1,",
        "{\"",
        "0x10",
    ]);
    prop_oneof![
        prop::collection::vec(pieces, 0..12).prop_map(|p| p.concat()),
        any::<String>(),
    ]
}

#[test]
fn route_matching_answers_every_path() {
    runner()
        .run(&hostile_text(), |path| {
            let path = format!("/{path}");
            for route in LIBRARY_ROUTES {
                if let Ok(Some(values)) = route.template.matches(&path) {
                    // A match binds one value per variable.
                    prop_assert_eq!(values.len(), route.template.variables().count());
                }
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn query_binding_answers_every_query() {
    runner()
        .run(&hostile_text(), |query| {
            let mut search = SearchBooksRequest::default();
            let _ = apply_query(&mut search, &query, &[]);
            let mut list = ListByGenreRequest::default();
            let _ = apply_query(&mut list, &query, &["genre"]);
            Ok(())
        })
        .unwrap();
}

/// Arbitrary JSON documents, nested a few levels.
fn json_value() -> impl Strategy<Value = serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>().prop_map(serde_json::Value::from),
        hostile_text().prop_map(serde_json::Value::from),
    ];
    leaf.prop_recursive(4, 32, 6, |inner| {
        let keys = prop::sample::select(vec![
            "name",
            "title",
            "pages",
            "tags",
            "genre",
            "isbn",
            "filter",
            "author",
            "pageSize",
            "page_size",
            "publishedAfter",
            "maxAge",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::from),
            prop::collection::btree_map(keys, inner, 0..5).prop_map(|m| {
                serde_json::Value::Object(m.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
            }),
        ]
    })
}

#[test]
fn json_decoding_answers_every_document_and_round_trips() {
    runner()
        .run(&json_value(), |value| {
            let text = value.to_string();
            if let Ok(book) = tacos_runtime::json::from_slice::<Book>(text.as_bytes()) {
                // Whatever decodes encodes, and decodes back to the same message.
                let again = tacos_runtime::json::to_vec(&book).expect("encodes");
                let back: Book = tacos_runtime::json::from_slice(&again).expect("decodes again");
                prop_assert_eq!(back, book);
            }
            let _ = tacos_runtime::json::from_slice::<SearchBooksRequest>(text.as_bytes());
            Ok(())
        })
        .unwrap();
    runner()
        .run(&prop::collection::vec(any::<u8>(), 0..64), |bytes| {
            let _ = tacos_runtime::json::from_slice::<SearchBooksRequest>(&bytes);
            Ok(())
        })
        .unwrap();
}

#[test]
fn grpc_timeouts_parse_by_the_spec() {
    runner()
        .run(&hostile_text(), |text| {
            let _ = parse_grpc_timeout(&text);
            Ok(())
        })
        .unwrap();
    // Valid values: one to eight digits and a unit.
    let valid = (
        0u64..100_000_000,
        prop::sample::select(vec!['H', 'M', 'S', 'm', 'u', 'n']),
    );
    runner()
        .run(&valid, |(amount, unit)| {
            let parsed = parse_grpc_timeout(&format!("{amount}{unit}"));
            let expected = match unit {
                'H' => Duration::from_secs(amount * 3600),
                'M' => Duration::from_secs(amount * 60),
                'S' => Duration::from_secs(amount),
                'm' => Duration::from_millis(amount),
                'u' => Duration::from_micros(amount),
                _ => Duration::from_nanos(amount),
            };
            prop_assert_eq!(parsed, Some(expected));
            Ok(())
        })
        .unwrap();
}

#[test]
fn bearer_tokens_are_verified_without_panics() {
    let auth = Authenticator::new(AuthConfig::with_secret(vec![7u8; 32]).expect("a long secret"))
        .expect("an authenticator");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let segment = prop::sample::select(vec![
        "eyJhbGciOiJIUzI1NiJ9",
        "eyJhbGciOiJub25lIn0",
        "eyJ9",
        "e30",
        "",
        "!!",
        "AAAA",
        "eyJzdWIiOiJhIiwiZXhwIjo5OTk5OTk5OTk5fQ",
    ]);
    let token = prop_oneof![
        prop::collection::vec(segment, 0..5).prop_map(|s| s.join(".")),
        hostile_text(),
    ];
    runner()
        .run(&token, |token| {
            let verified = runtime.block_on(auth.verify_token(&token));
            prop_assert!(verified.is_err(), "{token} was accepted");
            Ok(())
        })
        .unwrap();
}
