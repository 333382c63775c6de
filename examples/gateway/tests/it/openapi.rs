//! `/openapi.json` documents exactly the routes the gateway serves.

use crate::support::Gateway;

/// Fills every `{param}` of an OpenAPI path with a plausible value.
fn concrete(path: &str) -> String {
    let mut out = String::new();
    let mut in_param = false;
    for c in path.chars() {
        match c {
            '{' => in_param = true,
            '}' => {
                in_param = false;
                out.push_str("x1");
            }
            _ if in_param => {}
            _ => out.push(c),
        }
    }
    out
}

#[tokio::test]
async fn documents_the_served_services_and_every_documented_route_is_served() {
    let gateway = Gateway::start().await;
    let base = format!("http://{}", gateway.rest);
    let document: serde_json::Value = gateway
        .http
        .get(format!("{base}/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().expect("paths");
    assert!(paths.contains_key("/api/v1/queue/join"));
    assert!(paths.contains_key("/api/v1/reservations/{reservation_id}/confirm"));
    assert!(
        !paths
            .keys()
            .any(|p| p.starts_with("/admin/") || p.starts_with("/payment/v1")),
        "services this binary does not serve are left out: {:?}",
        paths.keys().collect::<Vec<_>>()
    );
    let mut checked = 0;
    for (path, item) in paths {
        for verb in ["get", "post", "put", "delete", "patch"] {
            if item.get(verb).is_none() {
                continue;
            }
            let method = reqwest::Method::from_bytes(verb.to_uppercase().as_bytes()).unwrap();
            let mut request = gateway
                .http
                .request(method, format!("{base}{}", concrete(path)))
                .header("accept", "application/json");
            if verb != "get" && verb != "delete" {
                request = request.body("{}");
            }
            let status = request.send().await.unwrap().status().as_u16();
            assert!(
                status != 404 || path.contains('{'),
                "{verb} {path} is documented but not routed (404)"
            );
            assert_ne!(status, 405, "{verb} {path} is documented but answers 405");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} operations documented");
}
