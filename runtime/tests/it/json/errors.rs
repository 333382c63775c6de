//! Errors say which field was wrong and why.

use tacos_runtime::json;

use super::{parse, JoinQueueRequest};

fn error_of(text: &str) -> String {
    parse(text).unwrap_err().to_string()
}

#[test]
fn wrong_types_name_the_field() {
    let err = json::from_slice::<JoinQueueRequest>(br#"{"eventId":1}"#)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("field `event_id`") && err.contains("expected a string"),
        "{err}"
    );
    let err = error_of(r#"{"price":"cheap"}"#);
    assert!(err.contains("field `price`"), "{err}");
    let err = error_of(r#"{"ids":[1,"x"]}"#);
    assert!(err.contains("field `ids`"), "{err}");
    let err = error_of(r#"{"at":"yesterday"}"#);
    assert!(err.contains("invalid value for field `at`"), "{err}");
}

#[test]
fn range_errors_name_the_field() {
    let err = error_of(r#"{"int32Value":1e10}"#);
    assert!(
        err.contains("invalid value for field `int32_value`") && err.contains("out of range"),
        "{err}"
    );
}

#[test]
fn duplicate_fields_are_rejected_under_either_name() {
    let err = error_of(r#"{"stringValue":"a","string_value":"b"}"#);
    assert!(err.contains("duplicate field `string_value`"), "{err}");
}

#[test]
fn two_members_of_a_oneof_are_rejected() {
    let err = error_of(r#"{"choiceText":"a","choiceNested":{}}"#);
    assert!(err.contains("oneof `choice`"), "{err}");
}

#[test]
fn top_level_must_be_an_object() {
    let err = json::from_slice::<JoinQueueRequest>(b"[]")
        .unwrap_err()
        .to_string();
    assert!(err.contains("tacos.fixture.v1.JoinQueueRequest"), "{err}");
}
