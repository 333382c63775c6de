//! The waiting-room page in headless Chromium against the gateway: a buyer queues, watches
//! their place fall as others are admitted, gets in and lands on the next page with a working
//! reservation token; a Redis restart under the page shows "reconnecting" and keeps the place.

use std::time::Duration;

use reqwest::Method;
use tacos_runtime::waiting_room::EventConfig;
use traffic_tacos_contracts::gateway::v1::*;
use traffic_tacos_gateway::config::GatewayConfig;

use crate::browser::{artifacts, Browser};
use crate::queue::{admit_both, join_both};
use crate::redis_process::RedisProcess;
use crate::support::{buyer_token, json, test_config, Gateway};

/// A gateway whose `event` lets only the head of the line ask for admission.
async fn gateway(event: &str, redis_url: Option<String>) -> Gateway {
    let mut config: GatewayConfig = test_config(20);
    config.redis_url = redis_url;
    config.event_admission = vec![(
        event.to_owned(),
        EventConfig {
            admission_window: 1,
            ..config.admission.clone()
        },
    )];
    Gateway::start_with(config).await
}

async fn state(browser: &Browser) -> String {
    let script = "return document.getElementById('state').dataset.state;";
    browser
        .eval(script)
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
}

async fn position(browser: &Browser) -> String {
    browser.text("position").await
}

/// Waits until the page shows `expected` as the buyer's place.
async fn shows_position(browser: &Browser, expected: u32) {
    let expected = expected.to_string();
    let shown = browser
        .until(Duration::from_secs(15), || async {
            position(browser).await == expected
        })
        .await;
    assert!(
        shown,
        "the page shows place {:?} in state {:?}, not {expected}",
        position(browser).await,
        state(browser).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_buyer_queues_watches_the_line_move_and_gets_in() {
    let event = "page-concert";
    let gw = gateway(event, None).await;
    let mut others = Vec::new();
    for name in ["ana", "ben", "cai"] {
        others.push((name, join_both(&gw, event, name).await));
    }
    let browser = Browser::start().await;
    browser
        .goto(&format!("http://{}/queue/{event}?user_id=dana", gw.rest))
        .await;
    shows_position(&browser, 4).await;
    assert_eq!(browser.text("ahead").await, "3");
    assert_eq!(state(&browser).await, "waiting");
    assert_eq!(
        browser.text("announce").await,
        "You are number 4 in line.",
        "screen readers hear the place"
    );
    browser
        .screenshot(&artifacts().join("waiting-room-page.png"))
        .await;

    // A second tab of the same browser holds the same place, not a second one.
    let first_tab = browser.new_tab().await;
    browser
        .goto(&format!("http://{}/queue/{event}?user_id=dana", gw.rest))
        .await;
    shows_position(&browser, 4).await;
    let stats: GetQueueStatsResponse = gw
        .rest(
            Method::GET,
            &format!("/api/v1/events/{event}/queue/stats"),
            None,
        )
        .await
        .unwrap();
    assert_eq!(stats.events[0].total_waiting, 4, "one place for two tabs");

    // The operator view in that tab: a sign-in, then the figures.
    browser
        .goto(&format!("http://{}/queue/{event}/stats", gw.rest))
        .await;
    let script = format!(
        "document.getElementById('token').value = {:?}; \
         document.getElementById('signin').requestSubmit();",
        crate::support::operator_token()
    );
    let asks = browser
        .until(Duration::from_secs(10), || async {
            let visible = "return !document.getElementById('signin').hidden;";
            browser.eval(visible).await == serde_json::Value::Bool(true)
        })
        .await;
    assert!(asks, "the operator view did not ask for a token");
    browser.eval(&script).await;
    let figures = browser
        .until(Duration::from_secs(10), || async {
            browser.text("waiting").await == "4"
        })
        .await;
    assert!(
        figures,
        "the operator view shows {:?} waiting",
        browser.text("waiting").await
    );
    assert_eq!(browser.text("admitted").await, "0");
    browser.switch_to(&first_tab).await;

    // Each admission ahead moves the buyer up, live.
    for (admitted, (name, joined)) in others.iter().enumerate() {
        let grant = admit_both(&gw, &joined.waiting_token, event, name).await;
        assert_eq!(grant.admission, AdmissionStatus::Granted as i32, "{name}");
        if admitted < 2 {
            shows_position(&browser, 3 - admitted as u32).await;
        }
    }

    // At the head, the page asks for admission itself and goes on with the token.
    let landed = browser
        .until(Duration::from_secs(15), || async {
            browser.url().await.contains("/admitted?")
        })
        .await;
    let url = browser.url().await;
    assert!(
        landed,
        "still at {url} in state {:?}",
        state(&browser).await
    );
    let next = reqwest::Url::parse(&url).unwrap();
    assert_eq!(next.path(), format!("/queue/{event}/admitted"));
    let query: std::collections::HashMap<_, _> = next.query_pairs().into_owned().collect();
    assert_eq!(query["event_id"], event);
    let token = &query["reservation_token"];
    assert_eq!(browser.text("token").await, *token);

    // The token is the buyer's own: it reserves a seat once.
    let request = CreateReservationRequest {
        event_id: event.into(),
        quantity: 1,
        user_id: "dana".into(),
        reservation_token: token.clone(),
        idempotency_key: "dana-1".into(),
        ..Default::default()
    };
    let created: CreateReservationResponse = gw
        .with_token(Some(buyer_token("dana")))
        .rest(Method::POST, "/api/v1/reservations", json(&request))
        .await
        .expect("the page's token reserves");
    assert_eq!(created.reserved_seats.len(), 1);
    drop(browser);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_rides_out_a_redis_restart_and_keeps_its_place() {
    // Every write reaches the disk, so the restarted server has the line as it was.
    let mut redis = RedisProcess::start(&["--appendonly", "yes", "--appendfsync", "always"]);
    let event = "page-restart";
    let gw = gateway(event, Some(redis.url())).await;
    join_both(&gw, event, "ana").await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("http://{}/queue/{event}?user_id=ben", gw.rest))
        .await;
    shows_position(&browser, 2).await;
    let token_before = browser
        .eval("return localStorage.getItem('tacos-queue:page-restart');")
        .await;
    // A mark that a reload would wipe.
    browser.eval("window.stillTheSamePage = true;").await;

    redis.kill();
    let calm = browser
        .until(Duration::from_secs(20), || async {
            state(&browser).await == "reconnecting"
        })
        .await;
    assert!(calm, "no reconnecting state: {:?}", state(&browser).await);
    browser
        .screenshot(&artifacts().join("waiting-room-page-reconnecting.png"))
        .await;

    redis.launch();
    let recovered = browser
        .until(Duration::from_secs(30), || async {
            state(&browser).await == "waiting"
        })
        .await;
    assert!(recovered, "not recovered: {:?}", state(&browser).await);
    assert_eq!(position(&browser).await, "2", "the place is kept");
    let same_page = browser
        .eval("return window.stillTheSamePage === true;")
        .await;
    assert_eq!(
        same_page,
        serde_json::Value::Bool(true),
        "the page reloaded"
    );
    let token_after = browser
        .eval("return localStorage.getItem('tacos-queue:page-restart');")
        .await;
    let token = |stored: &serde_json::Value| -> String {
        let stored: serde_json::Value =
            serde_json::from_str(stored.as_str().unwrap_or("{}")).unwrap();
        stored["token"].as_str().unwrap_or_default().to_owned()
    };
    assert!(!token(&token_before).is_empty());
    assert_eq!(token(&token_before), token(&token_after));
    drop(browser);
    gw.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_place_offers_to_join_again() {
    let event = "page-lost";
    let gw = gateway(event, None).await;
    join_both(&gw, event, "ana").await;
    let browser = Browser::start().await;
    browser
        .goto(&format!("http://{}/queue/{event}?user_id=ben", gw.rest))
        .await;
    shows_position(&browser, 2).await;
    let stored = browser
        .eval("return JSON.parse(localStorage.getItem('tacos-queue:page-lost')).token;")
        .await;
    let token = stored
        .as_str()
        .expect("the page keeps its token")
        .to_owned();

    // The place goes (as when its heartbeat lapses): the page says so and offers a new one.
    let left: Result<LeaveQueueResponse, _> = gw
        .rest(
            Method::DELETE,
            &format!("/api/v1/queue/leave?waiting_token={token}"),
            None,
        )
        .await;
    assert!(left.unwrap().success);
    let offered = browser
        .until(Duration::from_secs(15), || async {
            state(&browser).await == "expired"
        })
        .await;
    assert!(offered, "no rejoin offered: {:?}", state(&browser).await);
    browser
        .eval("document.getElementById('rejoin').click();")
        .await;
    let rejoined = browser
        .until(Duration::from_secs(15), || async {
            state(&browser).await == "waiting"
        })
        .await;
    assert!(rejoined, "not rejoined: {:?}", state(&browser).await);
    shows_position(&browser, 2).await;
    let again = browser
        .eval("return JSON.parse(localStorage.getItem('tacos-queue:page-lost')).token;")
        .await;
    assert_ne!(
        again.as_str(),
        Some(token.as_str()),
        "a new place, a new token"
    );
    drop(browser);
    gw.stop().await;
}

#[tokio::test]
async fn the_pages_are_served_beside_the_api() {
    let gw = Gateway::start().await;
    for path in [
        "/queue/concert-1",
        "/queue/concert-1/stats",
        "/queue/concert-1/admitted",
    ] {
        let response = gw
            .http
            .get(format!("http://{}{path}", gw.rest))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(
            response.headers()["content-type"],
            "text/html; charset=utf-8"
        );
        assert!(response.text().await.unwrap().contains("<main>"));
    }
    // The operator view's figures need an operator.
    let anonymous: Result<GetQueueStatsResponse, _> = gw
        .with_token(None)
        .rest(Method::GET, "/api/v1/events/concert-1/queue/stats", None)
        .await;
    assert_eq!(
        anonymous.unwrap_err().code,
        tacos_runtime::Code::Unauthenticated
    );
    let buyer: Result<GetQueueStatsResponse, _> = gw
        .with_token(Some(buyer_token("ana")))
        .rest(Method::GET, "/api/v1/events/concert-1/queue/stats", None)
        .await;
    assert_eq!(
        buyer.unwrap_err().code,
        tacos_runtime::Code::PermissionDenied
    );
    gw.stop().await;
}
