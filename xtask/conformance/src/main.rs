//! Conformance testee: reads length-prefixed `ConformanceRequest`s on stdin and answers each with
//! a `ConformanceResponse` on stdout. JSON goes through the generated serde impls, binary through
//! prost. Only proto3 tests that involve JSON are answered; the rest are skipped.

use std::io::{self, Read, Write};

use prost::Message;

#[allow(clippy::all, dead_code, missing_docs)] // generated for the whole proto, used in part
mod conformance {
    include!(concat!(env!("OUT_DIR"), "/conformance.rs"));
    include!(concat!(env!("OUT_DIR"), "/conformance.json.rs"));
}

#[allow(clippy::all, dead_code, missing_docs)] // generated for the whole proto, used in part
mod protobuf_test_messages {
    pub mod proto3 {
        include!(concat!(
            env!("OUT_DIR"),
            "/protobuf_test_messages.proto3.rs"
        ));
        include!(concat!(
            env!("OUT_DIR"),
            "/protobuf_test_messages.proto3.json.rs"
        ));
    }
}

use conformance::conformance_request::Payload;
use conformance::conformance_response::Result as Outcome;
use conformance::{ConformanceRequest, ConformanceResponse, TestCategory, WireFormat};
use protobuf_test_messages::proto3::TestAllTypesProto3;
use tacos_runtime::json::{self, JsonOptions};

const PROTO3_MESSAGE: &str = "protobuf_test_messages.proto3.TestAllTypesProto3";

fn main() -> io::Result<()> {
    json::register_descriptors(include_bytes!(concat!(env!("OUT_DIR"), "/descriptor.bin")))
        .expect("conformance descriptors register");
    let mut stdin = io::stdin().lock();
    let mut stdout = io::stdout().lock();
    loop {
        let mut len = [0u8; 4];
        match stdin.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut request = vec![0u8; u32::from_le_bytes(len) as usize];
        stdin.read_exact(&mut request)?;
        let outcome = match ConformanceRequest::decode(request.as_slice()) {
            Ok(request) => answer(&request),
            Err(e) => Outcome::RuntimeError(format!("bad request: {e}")),
        };
        let response = ConformanceResponse {
            result: Some(outcome),
        }
        .encode_to_vec();
        stdout.write_all(&(response.len() as u32).to_le_bytes())?;
        stdout.write_all(&response)?;
        stdout.flush()?;
    }
}

fn answer(request: &ConformanceRequest) -> Outcome {
    if request.message_type != PROTO3_MESSAGE {
        return Outcome::Skipped("only proto3 messages are tested".into());
    }
    let output = request.requested_output_format();
    let json_in = matches!(request.payload, Some(Payload::JsonPayload(_)));
    if !json_in && output != WireFormat::Json {
        return Outcome::Skipped("only tests involving JSON are run".into());
    }
    if !matches!(output, WireFormat::Json | WireFormat::Protobuf) {
        return Outcome::Skipped("output format not supported".into());
    }
    let options = JsonOptions::new().with_ignore_unknown_enum_values(
        request.test_category() == TestCategory::JsonIgnoreUnknownParsingTest,
    );
    let message: TestAllTypesProto3 = match &request.payload {
        Some(Payload::ProtobufPayload(bytes)) => match TestAllTypesProto3::decode(bytes.as_slice())
        {
            Ok(m) => m,
            Err(e) => return Outcome::ParseError(e.to_string()),
        },
        Some(Payload::JsonPayload(text)) => match json::from_slice_with(text.as_bytes(), options) {
            Ok(m) => m,
            Err(e) => return Outcome::ParseError(e.to_string()),
        },
        _ => return Outcome::Skipped("input format not supported".into()),
    };
    match output {
        WireFormat::Json => match json::to_string_with(&message, options) {
            Ok(text) => Outcome::JsonPayload(text),
            Err(e) => Outcome::SerializeError(e.to_string()),
        },
        _ => Outcome::ProtobufPayload(message.encode_to_vec()),
    }
}
