//! Message-level behaviour: naming, defaults, scalars, enums, collections, oneofs.

use std::collections::HashMap;

use tacos_runtime::json::{self, JsonOptions};

use super::{
    everything, parse, print_with, round_trip, Everything, JoinQueueRequest, Money, QueueMetadata,
    Status,
};

fn join_request() -> JoinQueueRequest {
    JoinQueueRequest {
        event_id: "evt-1".into(),
        user_id: "user-7".into(),
        session_id: String::new(),
        metadata: Some(QueueMetadata {
            ip_address: "127.0.0.1".into(),
            user_agent: String::new(),
            headers: HashMap::from([("x-trace".to_owned(), "abc".to_owned())]),
        }),
    }
}

#[test]
fn prints_lower_camel_by_default_and_omits_defaults() {
    let (text, back) = round_trip(&join_request());
    assert_eq!(
        text,
        r#"{"eventId":"evt-1","userId":"user-7","metadata":{"ipAddress":"127.0.0.1","headers":{"x-trace":"abc"}}}"#
    );
    assert_eq!(back, join_request());
}

#[test]
fn prints_proto_names_when_asked() {
    let text = print_with(
        &join_request(),
        JsonOptions::new().with_proto_field_names(true),
    );
    assert_eq!(
        text,
        r#"{"event_id":"evt-1","user_id":"user-7","metadata":{"ip_address":"127.0.0.1","headers":{"x-trace":"abc"}}}"#
    );
    // The option only lasts for that call.
    assert!(json::to_string(&join_request())
        .unwrap()
        .contains("eventId"));
}

#[test]
fn accepts_both_names_and_ignores_unknown_fields() {
    let parsed: JoinQueueRequest = json::from_slice(
        br#"{"event_id":"a","userId":"b","surprise":{"deep":[1,2,{"x":null}]},"metadata":{"user_agent":"ua"}}"#,
    )
    .unwrap();
    assert_eq!(parsed.event_id, "a");
    assert_eq!(parsed.user_id, "b");
    assert_eq!(parsed.metadata.unwrap().user_agent, "ua");
}

#[test]
fn empty_message_prints_as_empty_object() {
    assert_eq!(json::to_string(&Everything::default()).unwrap(), "{}");
    assert_eq!(parse("{}").unwrap(), Everything::default());
}

#[test]
fn sixty_four_bit_integers_are_strings() {
    let message = Everything {
        int64_value: -9_223_372_036_854_775_808,
        uint64_value: u64::MAX,
        sint64_value: 5,
        fixed64_value: 6,
        ids: vec![1, -2],
        int32_value: -3,
        uint32_value: 4,
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert!(
        text.contains(r#""int64Value":"-9223372036854775808""#),
        "{text}"
    );
    assert!(
        text.contains(r#""uint64Value":"18446744073709551615""#),
        "{text}"
    );
    assert!(text.contains(r#""ids":["1","-2"]"#), "{text}");
    assert!(text.contains(r#""int32Value":-3"#), "{text}");
    assert_eq!(back, message);
}

#[test]
fn integers_accept_strings_and_float_shaped_numbers() {
    let m = parse(r#"{"int32Value":"12","int64Value":1e2,"uint32Value":1.0,"uint64Value":"1e3"}"#)
        .unwrap();
    assert_eq!(
        (m.int32_value, m.int64_value, m.uint32_value, m.uint64_value),
        (12, 100, 1, 1000)
    );
    let m = parse(r#"{"int64Value":9223372036854775807,"uint64Value":"18446744073709551615"}"#)
        .unwrap();
    assert_eq!((m.int64_value, m.uint64_value), (i64::MAX, u64::MAX));
}

#[test]
fn integers_reject_fractions_and_overflow() {
    for bad in [
        r#"{"int32Value":1.5}"#,
        r#"{"int32Value":2147483648}"#,
        r#"{"uint32Value":-1}"#,
        r#"{"int64Value":"9223372036854775808"}"#,
        r#"{"int64Value":"0x10"}"#,
        r#"{"int32Value":" 1"}"#,
        r#"{"int32Value":true}"#,
    ] {
        assert!(parse(bad).is_err(), "{bad} should fail");
    }
}

#[test]
fn floats_use_strings_for_non_finite_values() {
    let message = Everything {
        float_value: f32::NAN,
        double_value: f64::NEG_INFINITY,
        ..Default::default()
    };
    let text = json::to_string(&message).unwrap();
    assert_eq!(text, r#"{"floatValue":"NaN","doubleValue":"-Infinity"}"#);
    let back = parse(&text).unwrap();
    assert!(back.float_value.is_nan());
    assert_eq!(back.double_value, f64::NEG_INFINITY);
    let m = parse(r#"{"floatValue":"1.5","doubleValue":"Infinity"}"#).unwrap();
    assert_eq!((m.float_value, m.double_value), (1.5, f64::INFINITY));
    assert!(
        parse(r#"{"floatValue":3.5e38}"#).is_err(),
        "beyond f32 range"
    );
    assert!(parse(r#"{"doubleValue":"inf"}"#).is_err());
    // -0.0 is not the default, so it is printed.
    let neg_zero = Everything {
        double_value: -0.0,
        ..Default::default()
    };
    assert_eq!(
        json::to_string(&neg_zero).unwrap(),
        r#"{"doubleValue":-0.0}"#
    );
}

#[test]
fn bytes_are_base64_standard_out_and_either_alphabet_in() {
    let message = Everything {
        bytes_value: vec![0xfb, 0xff, 0x00],
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(text, r#"{"bytesValue":"+/8A"}"#);
    assert_eq!(back, message);
    assert_eq!(parse(r#"{"bytesValue":"-_8A"}"#).unwrap(), message);
    assert_eq!(
        parse(r#"{"bytesValue":"-_8"}"#).unwrap().bytes_value,
        vec![0xfb, 0xff]
    );
    assert!(parse(r#"{"bytesValue":"!!"}"#).is_err());
}

#[test]
fn enums_are_names_out_and_names_or_numbers_in() {
    let message = Everything {
        status: Status::Active as i32,
        statuses: vec![Status::Closed as i32, 42],
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(
        text,
        r#"{"status":"STATUS_ACTIVE","statuses":["STATUS_CLOSED",42]}"#
    );
    assert_eq!(back, message);
    assert_eq!(parse(r#"{"status":2}"#).unwrap().status, 2);
    assert_eq!(parse(r#"{"status":"STATUS_CLOSED"}"#).unwrap().status, 2);
    // Enum types themselves serialize by name too.
    assert_eq!(
        json::to_string(&Status::Closed).unwrap(),
        r#""STATUS_CLOSED""#
    );
    assert_eq!(
        json::from_slice::<Status>(br#""STATUS_ACTIVE""#).unwrap(),
        Status::Active
    );
    let err = json::from_slice::<Status>(br#""STATUS_NOPE""#)
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("invalid value: unknown name for enum `tacos.fixture.common.v1.Status`"),
        "{err}"
    );
    assert!(
        json::from_slice::<Status>(b"7").is_err(),
        "a bare enum must be a known value"
    );
}

#[test]
fn unknown_enum_names_fail_unless_ignored() {
    let text = r#"{"status":"STATUS_NOPE","statuses":["STATUS_ACTIVE","STATUS_NOPE"]}"#;
    let err = parse(text).unwrap_err().to_string();
    assert!(err.contains("`status`"), "{err}");
    let lenient = JsonOptions::new().with_ignore_unknown_enum_values(true);
    let m: Everything = json::from_slice_with(text.as_bytes(), lenient).unwrap();
    assert_eq!(m.status, 0);
    assert_eq!(m.statuses, vec![Status::Active as i32]);
}

#[test]
fn null_means_default() {
    let m = parse(
        r#"{"int32Value":null,"stringValue":null,"price":null,"ids":null,"byNumber":null,"wrappedInt32":null,"at":null,"choiceText":null}"#,
    )
    .unwrap();
    assert_eq!(m, Everything::default());
}

#[test]
fn maps_use_string_keys() {
    let message = Everything {
        by_number: HashMap::from([(-5, "minus five".to_owned())]),
        by_flag: HashMap::from([(
            true,
            Money {
                amount: 3,
                currency: "KRW".into(),
            },
        )]),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(
        text,
        r#"{"byNumber":{"-5":"minus five"},"byFlag":{"true":{"amount":"3","currency":"KRW"}}}"#
    );
    assert_eq!(back, message);
    assert!(parse(r#"{"byNumber":{"x":"y"}}"#).is_err());
    assert!(parse(r#"{"byFlag":{"yes":{}}}"#).is_err());
}

#[test]
fn oneofs_print_the_set_member() {
    let nested = everything::Nested {
        depth: 2,
        ..Default::default()
    };
    let message = Everything {
        choice: Some(everything::Choice::ChoiceNested(Box::new(nested))),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(text, r#"{"choiceNested":{"depth":2}}"#);
    assert_eq!(back, message);
    // NullValue in a oneof is a set member printed as null.
    let null_choice = Everything {
        choice: Some(everything::Choice::ChoiceNull(0)),
        ..Default::default()
    };
    let (text, back) = round_trip(&null_choice);
    assert_eq!(text, r#"{"choiceNull":null}"#);
    assert_eq!(back, null_choice);
    // A null member does not count as set.
    let m = parse(r#"{"choiceText":null,"choiceNested":{}}"#).unwrap();
    assert!(matches!(
        m.choice,
        Some(everything::Choice::ChoiceNested(_))
    ));
}

#[test]
fn presence_fields_print_defaults_when_set() {
    let message = Everything {
        maybe: Some(0),
        wrapped_int32: Some(0),
        wrapped_string: Some(String::new()),
        wrapped_uint64: Some(7),
        wrapped_list: vec![1, 2],
        empty: Some(()),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(
        text,
        r#"{"maybe":0,"empty":{},"wrappedInt32":0,"wrappedString":"","wrappedUint64":"7","wrappedList":[1,2]}"#
    );
    assert_eq!(back, message);
}

#[test]
fn keywords_and_odd_casing_map_to_prost_names() {
    let m = parse(r#"{"type":"t","FieldName7":7}"#).unwrap();
    assert_eq!((m.r#type.as_str(), m.field_name7), ("t", 7));
    let text = print_with(&m, JsonOptions::new());
    assert_eq!(text, r#"{"type":"t","FieldName7":7}"#);
}

#[test]
fn recursive_messages_round_trip() {
    let inner = Everything {
        string_value: "leaf".into(),
        ..Default::default()
    };
    let message = Everything {
        nested: Some(Box::new(everything::Nested {
            depth: 1,
            recursive: Some(Box::new(inner)),
            kind: everything::nested::Kind::Deep as i32,
        })),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(
        text,
        r#"{"nested":{"depth":1,"recursive":{"stringValue":"leaf"},"kind":"KIND_DEEP"}}"#
    );
    assert_eq!(back, message);
}
