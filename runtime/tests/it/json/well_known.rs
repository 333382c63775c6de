//! Well-known types in their special JSON forms.

use prost::Message as _;
use prost_types::value::Kind;
use prost_types::{Any, Duration, FieldMask, ListValue, Struct, Timestamp, Value};

use tacos_runtime::json::{self, JsonOptions};

use super::{parse, print_with, register_fixture, round_trip, Everything, Money};

#[test]
fn timestamps_are_rfc3339_with_z() {
    let message = Everything {
        at: Some(Timestamp {
            seconds: 1_700_000_000,
            nanos: 5_000_000,
        }),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(text, r#"{"at":"2023-11-14T22:13:20.005Z"}"#);
    assert_eq!(back, message);
    let offset = parse(r#"{"at":"2023-11-15T07:13:20.005+09:00"}"#).unwrap();
    assert_eq!(offset, message);
    assert!(parse(r#"{"at":"2023-11-14 22:13:20Z"}"#).is_err());
    assert!(parse(r#"{"at":"0000-01-01T00:00:00Z"}"#).is_err());
    let too_late = Everything {
        at: Some(Timestamp {
            seconds: 253_402_300_800,
            nanos: 0,
        }),
        ..Default::default()
    };
    assert!(json::to_string(&too_late).is_err());
}

#[test]
fn durations_are_seconds_strings() {
    let message = Everything {
        ttl: Some(Duration {
            seconds: -1,
            nanos: -500_000_000,
        }),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(text, r#"{"ttl":"-1.500s"}"#);
    assert_eq!(back, message);
    assert!(parse(r#"{"ttl":"1.5"}"#).is_err());
}

#[test]
fn field_masks_are_lower_camel_paths() {
    let message = Everything {
        mask: Some(FieldMask {
            paths: vec!["event_id".into(), "metadata.user_agent".into()],
        }),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(text, r#"{"mask":"eventId,metadata.userAgent"}"#);
    assert_eq!(back, message);
}

#[test]
fn struct_value_and_list_are_free_json() {
    let text = r#"{"details":{"a":[1,"two",true,null,{"b":{}}]},"value":null,"list":[1.5,[]]}"#;
    let message = parse(text).unwrap();
    assert_eq!(
        message.value,
        Some(Value {
            kind: Some(Kind::NullValue(0))
        }),
        "null is a Value, not an unset field"
    );
    let details: &Struct = message.details.as_ref().unwrap();
    let Some(Kind::ListValue(ListValue { values })) = &details.fields["a"].kind else {
        panic!("a is a list")
    };
    assert_eq!(values.len(), 5);
    let (printed, back) = round_trip(&message);
    assert_eq!(printed, text);
    assert_eq!(back, message);
    let nan = Everything {
        value: Some(Value {
            kind: Some(Kind::NumberValue(f64::NAN)),
        }),
        ..Default::default()
    };
    assert!(json::to_string(&nan).is_err());
}

#[test]
fn any_embeds_the_payload_with_its_type() {
    register_fixture();
    let money = Money {
        amount: 1200,
        currency: "KRW".into(),
    };
    let message = Everything {
        any: Some(Any {
            type_url: "type.googleapis.com/tacos.fixture.common.v1.Money".into(),
            value: money.encode_to_vec(),
        }),
        ..Default::default()
    };
    let (text, back) = round_trip(&message);
    assert_eq!(
        text,
        r#"{"any":{"@type":"type.googleapis.com/tacos.fixture.common.v1.Money","amount":"1200","currency":"KRW"}}"#
    );
    assert_eq!(back, message);
    // "@type" may come last.
    let late = parse(r#"{"any":{"currency":"KRW","amount":1200,"@type":"type.googleapis.com/tacos.fixture.common.v1.Money"}}"#)
        .unwrap();
    assert_eq!(late, message);
}

#[test]
fn any_holding_a_well_known_type_uses_value() {
    register_fixture();
    let message = Everything {
        any: Some(Any {
            type_url: "type.googleapis.com/google.protobuf.Duration".into(),
            value: Duration {
                seconds: 3,
                nanos: 0,
            }
            .encode_to_vec(),
        }),
        ..Default::default()
    };
    let text = print_with(&message, JsonOptions::new().with_proto_field_names(true));
    assert_eq!(
        text,
        r#"{"any":{"@type":"type.googleapis.com/google.protobuf.Duration","value":"3s"}}"#
    );
    assert_eq!(parse(&text).unwrap(), message);
}

#[test]
fn any_with_an_unregistered_type_is_an_error() {
    let message = Everything {
        any: Some(Any {
            type_url: "type.googleapis.com/nowhere.Thing".into(),
            value: vec![],
        }),
        ..Default::default()
    };
    let err = json::to_string(&message).unwrap_err().to_string();
    assert!(err.contains("nowhere.Thing"), "{err}");
    assert!(parse(r#"{"any":{"@type":"type.googleapis.com/nowhere.Thing"}}"#).is_err());
}
