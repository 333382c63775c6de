//! The upstream layout: repo-root imports, no annotations, bindings from a rules file and the
//! default. (That the generated code compiles is proven by the `traffic-tacos-upstream-contracts`
//! crate, which `cargo xtask generate` writes from the same inputs.)

use tacos_codegen::generate::{generate, GenerateConfig};
use tacos_codegen::model::{BindingSource, BodySelector, Streaming};

use crate::support::fixture;

fn upstream() -> tacos_codegen::generate::Generated {
    let root = fixture("upstream");
    let config = GenerateConfig {
        rules: Some(root.join("http-rules.yaml")),
        ..GenerateConfig::new(vec![root])
    };
    generate(&config).expect("the upstream fixture generates")
}

fn routes(generated: &tacos_codegen::generate::Generated, method: &str) -> Vec<String> {
    let method = generated
        .contract
        .method(method)
        .unwrap_or_else(|| panic!("{method} is in the model"));
    method
        .bindings
        .iter()
        .map(|b| {
            let body = match &b.body {
                BodySelector::None => String::new(),
                BodySelector::All => " body *".to_owned(),
                BodySelector::Field(f) => format!(" body {}", f.path),
            };
            format!("{} {}{body} ({:?})", b.verb, b.template, b.source)
        })
        .collect()
}

#[test]
fn bindings_come_from_rules_and_the_default() {
    let generated = upstream();
    assert_eq!(
        routes(&generated, "gateway.v1.QueueService.JoinQueue"),
        ["POST /api/v1/queue/join body * (Rules)"]
    );
    assert_eq!(
        routes(&generated, "gateway.v1.QueueService.LeaveQueue"),
        ["DELETE /api/v1/queue/leave (Rules)"]
    );
    assert_eq!(
        routes(&generated, "gateway.v1.GatewayService.GetPaymentStatus"),
        [
            "GET /api/v1/payment/{payment_intent_id}/status (Rules)",
            "GET /api/v1/payment/{payment_intent_id} (Rules)",
        ]
    );
    assert_eq!(
        routes(&generated, "common.v1.AdminService.GetSystemHealth"),
        ["POST /common.v1.AdminService/GetSystemHealth body * (Default)"]
    );
    assert_eq!(
        routes(
            &generated,
            "reservation.v1.WorkerService.ProcessReservationExpiry"
        ),
        ["POST /reservation.v1.WorkerService/ProcessReservationExpiry body * (Default)"]
    );
}

#[test]
fn path_fields_are_resolved_against_the_request() {
    let generated = upstream();
    let method = generated
        .contract
        .method("gateway.v1.GatewayService.GetReservation")
        .unwrap();
    let field = method.bindings[0].path_fields[0].leaf();
    assert_eq!(
        (field.name.as_str(), field.json_name.as_str(), field.number),
        ("reservation_id", "reservationId", 1)
    );
}

#[test]
fn every_rpc_is_in_the_model_with_its_streaming_shape() {
    let generated = upstream();
    let methods: Vec<_> = generated.contract.methods().collect();
    assert_eq!(methods.len(), 50);
    assert!(methods.iter().all(|m| !m.bindings.is_empty()));
    let streaming = methods
        .iter()
        .filter(|m| m.streaming == Streaming::Server)
        .count();
    assert_eq!(streaming, 3);
    let from_rules = methods
        .iter()
        .filter(|m| m.bindings[0].source == BindingSource::Rules)
        .count();
    assert_eq!(from_rules, 8);
}

#[test]
fn generated_files_cover_every_package() {
    let generated = upstream();
    let paths: Vec<String> = generated
        .files
        .iter()
        .map(|f| f.path.display().to_string())
        .collect();
    assert_eq!(
        paths,
        [
            "common.v1.rs",
            "descriptor.bin",
            "gateway.v1.rs",
            "mod.rs",
            "payment.v1.rs",
            "reservation.v1.rs"
        ]
    );
}
