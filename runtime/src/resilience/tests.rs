//! [`Resilience`] under scripted outcomes, on tokio's paused clock.

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant as StdInstant};

use futures::{stream, Stream, StreamExt};
use tokio::time::Instant;

use super::*;
use crate::context::CallScope;
use crate::status::{Code, Status};

type Outcome = Result<u32, Status>;

/// Replays scripted outcomes, one per attempt, and records the attempt numbers it was called with.
#[derive(Clone, Default)]
struct Script {
    outcomes: Arc<Mutex<VecDeque<Step>>>,
    attempts: Arc<Mutex<Vec<u32>>>,
}

enum Step {
    Answer(Outcome),
    /// Takes this long, then answers.
    Slow(Duration, Outcome),
    /// Never answers.
    Hang,
}

impl Script {
    fn new(steps: impl IntoIterator<Item = Step>) -> Self {
        Self {
            outcomes: Arc::new(Mutex::new(steps.into_iter().collect())),
            attempts: Arc::default(),
        }
    }

    /// One attempt: the next scripted step (the last one repeats once the script runs out).
    fn attempt(&self, number: u32) -> impl std::future::Future<Output = Outcome> {
        self.attempts.lock().unwrap().push(number);
        let step = {
            let mut outcomes = self.outcomes.lock().unwrap();
            if outcomes.len() > 1 {
                outcomes.pop_front().unwrap()
            } else {
                match outcomes.front().expect("a scripted step") {
                    Step::Answer(o) => Step::Answer(o.clone()),
                    Step::Slow(d, o) => Step::Slow(*d, o.clone()),
                    Step::Hang => Step::Hang,
                }
            }
        };
        async move {
            match step {
                Step::Answer(outcome) => outcome,
                Step::Slow(delay, outcome) => {
                    tokio::time::sleep(delay).await;
                    outcome
                }
                Step::Hang => std::future::pending().await,
            }
        }
    }

    fn attempts(&self) -> Vec<u32> {
        self.attempts.lock().unwrap().clone()
    }
}

fn unavailable() -> Step {
    Step::Answer(Err(Status::unavailable("backend restarting")))
}

fn ok(value: u32) -> Step {
    Step::Answer(Ok(value))
}

/// A target whose breaker and budget stay out of the way unless a test asks for them.
fn target(policy: RetryPolicy) -> Resilience {
    Resilience::new(
        "reservation",
        policy,
        RetryBudget::new(1000, 1.0),
        BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        },
    )
}

fn in_ms(ms: u64) -> Option<StdInstant> {
    Some((Instant::now() + Duration::from_millis(ms)).into_std())
}

#[tokio::test(start_paused = true)]
async fn retries_until_success_within_the_backoff_bounds() {
    let script = Script::new([unavailable(), unavailable(), ok(7)]);
    let target = target(RetryPolicy::default());
    let started = Instant::now();
    let result = target.call(true, None, |n| script.attempt(n)).await;
    assert_eq!(result.unwrap(), 7);
    assert_eq!(script.attempts(), [1, 2, 3]);
    // Waits of at most 100 ms and 200 ms.
    assert!(started.elapsed() <= Duration::from_millis(300));
    let stats = target.stats();
    assert_eq!((stats.calls, stats.retries), (1, 2));
}

#[tokio::test(start_paused = true)]
async fn attempts_are_capped() {
    let script = Script::new([unavailable()]);
    let target = target(RetryPolicy::default());
    let err = target
        .call(true, None, |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(script.attempts(), [1, 2, 3]);

    let script = Script::new([unavailable()]);
    let target = self::target(RetryPolicy::default().with_max_attempts(50));
    let _ = target.call(true, None, |n| script.attempt(n)).await;
    assert_eq!(script.attempts(), [1, 2, 3, 4, 5]);
}

#[tokio::test(start_paused = true)]
async fn methods_unsafe_to_repeat_are_not_retried() {
    let script = Script::new([unavailable(), ok(1)]);
    let target = target(RetryPolicy::default());
    let err = target
        .call(false, None, |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(script.attempts(), [1]);
    assert_eq!(target.stats().retries, 0);
}

#[tokio::test(start_paused = true)]
async fn client_mistakes_are_not_retried() {
    let script = Script::new([
        Step::Answer(Err(Status::invalid_argument("bad seat"))),
        ok(1),
    ]);
    let target = target(RetryPolicy::default());
    let err = target
        .call(true, None, |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::InvalidArgument);
    assert_eq!(script.attempts(), [1]);
}

#[tokio::test(start_paused = true)]
async fn retry_info_sets_the_wait() {
    let pushback =
        Status::resource_exhausted("queue full").with_retry_after(Duration::from_millis(700));
    let script = Script::new([Step::Answer(Err(pushback.clone())), ok(3)]);
    let target = target(RetryPolicy::default());
    let started = Instant::now();
    assert_eq!(
        target
            .call(true, None, |n| script.attempt(n))
            .await
            .unwrap(),
        3
    );
    assert_eq!(started.elapsed(), Duration::from_millis(700));

    // A pushback beyond the deadline ends the call at once with the server's answer.
    let script = Script::new([Step::Answer(Err(pushback)), ok(3)]);
    let started = Instant::now();
    let err = target
        .call(true, in_ms(500), |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::ResourceExhausted);
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(script.attempts(), [1]);
}

#[tokio::test(start_paused = true)]
async fn a_pushback_longer_than_allowed_ends_the_call() {
    let long = Status::unavailable("maintenance").with_retry_after(Duration::from_secs(60));
    let script = Script::new([Step::Answer(Err(long)), ok(1)]);
    let target = target(RetryPolicy::default());
    let tokens = target.budget().tokens();
    let started = Instant::now();
    let err = target
        .call(true, None, |n| script.attempt(n))
        .await
        .unwrap_err();
    // The caller gets the server's answer, RetryInfo included, at once.
    assert_eq!(started.elapsed(), Duration::ZERO);
    assert_eq!(
        err.details().retry_info.as_ref().unwrap().retry_delay,
        Some(Duration::from_secs(60))
    );
    assert_eq!(script.attempts(), [1]);
    assert_eq!(target.budget().tokens(), tokens - 1.0);

    // An absurd delay with an unlimited policy and a deadline: no overflow, no retry.
    let absurd = Status::unavailable("x").with_retry_after(Duration::MAX);
    let script = Script::new([Step::Answer(Err(absurd)), ok(1)]);
    let target = self::target(RetryPolicy::default().with_max_pushback(Duration::MAX));
    let err = target
        .call(true, in_ms(1000), |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(script.attempts(), [1]);
}

#[tokio::test(start_paused = true)]
async fn one_deadline_covers_all_attempts() {
    // The first attempt fails after 300 ms, the second never answers: the call ends at the
    // deadline, not 300 ms + backoff + a fresh timeout later.
    let script = Script::new([
        Step::Slow(
            Duration::from_millis(300),
            Err(Status::unavailable("reset")),
        ),
        Step::Hang,
    ]);
    let target = target(RetryPolicy::default());
    let started = Instant::now();
    let err = target
        .call(true, in_ms(1000), |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded);
    assert!(err.message().contains("reservation"), "{err}");
    assert_eq!(started.elapsed(), Duration::from_millis(1000));
    assert_eq!(script.attempts(), [1, 2]);
    assert_eq!(target.stats().deadline_exceeded, 1);

    // A deadline already past: no attempt at all.
    let script = Script::new([ok(1)]);
    let past = Some(Instant::now().into_std());
    let err = target
        .call(true, past, |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded);
    assert!(script.attempts().is_empty());
}

#[tokio::test(start_paused = true)]
async fn no_retry_whose_backoff_outlasts_the_deadline() {
    // A RetryInfo makes the wait exact, so whether it fits before the deadline is certain.
    let script = Script::new([
        Step::Answer(Err(
            Status::unavailable("draining").with_retry_after(Duration::from_millis(50))
        )),
        ok(1),
    ]);
    let target = target(RetryPolicy::default());
    let err = target
        .call(true, in_ms(50), |n| script.attempt(n))
        .await
        .unwrap_err();
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(script.attempts(), [1]);
    // With room for the wait, the retry happens.
    let script = Script::new([
        Step::Answer(Err(
            Status::unavailable("draining").with_retry_after(Duration::from_millis(50))
        )),
        ok(1),
    ]);
    assert_eq!(
        target
            .call(true, in_ms(51), |n| script.attempt(n))
            .await
            .unwrap(),
        1
    );
}

#[tokio::test(start_paused = true)]
async fn the_budget_stops_a_retry_storm() {
    let script = Script::new([unavailable()]);
    let target = Resilience::new(
        "payment",
        RetryPolicy::default(),
        RetryBudget::default(),
        BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        },
    );
    for _ in 0..10 {
        let _ = target.call(true, None, |n| script.attempt(n)).await;
    }
    // Call 1: 3 attempts (10 → 7 tokens); call 2: 2 attempts (→ 5, throttled); then 1 each.
    assert_eq!(script.attempts().len(), 3 + 2 + 8);
    let stats = target.stats();
    assert_eq!(stats.retries, 3);
    assert_eq!(stats.throttled, 9);
    assert_eq!(target.budget().tokens(), 0.0);
}

#[tokio::test(start_paused = true)]
async fn successes_refill_the_budget() {
    let target = Resilience::new(
        "payment",
        RetryPolicy::default(),
        RetryBudget::default(),
        BreakerConfig {
            enabled: false,
            ..BreakerConfig::default()
        },
    );
    let failing = Script::new([unavailable()]);
    for _ in 0..5 {
        let _ = target.call(false, None, |n| failing.attempt(n)).await;
    }
    // Unsafe calls are not retried but still count: 5 tokens left, no retries.
    assert_eq!(target.budget().tokens(), 5.0);
    assert!(!target.budget().allows_retry());
    // Eleven successes give back 1.1 tokens: one failure later, 5.1 are left and retries resume.
    let healthy = Script::new([ok(1)]);
    for _ in 0..11 {
        let _ = target.call(false, None, |n| healthy.attempt(n)).await;
    }
    let flaky = Script::new([unavailable(), ok(2)]);
    assert_eq!(
        target.call(true, None, |n| flaky.attempt(n)).await.unwrap(),
        2
    );
    assert_eq!(flaky.attempts(), [1, 2]);
}

fn breaking(consecutive: u32) -> Resilience {
    Resilience::new(
        "inventory",
        RetryPolicy::default(),
        RetryBudget::new(1000, 1.0),
        BreakerConfig {
            consecutive_failures: consecutive,
            open_duration: Duration::from_secs(5),
            ..BreakerConfig::default()
        },
    )
}

#[tokio::test(start_paused = true)]
async fn the_breaker_opens_fails_fast_half_opens_and_closes() {
    let target = breaking(3);
    let failing = Script::new([unavailable()]);
    for _ in 0..3 {
        let _ = target.call(false, None, |n| failing.attempt(n)).await;
    }
    assert_eq!(target.breaker().state(), BreakerState::Open);
    let err = target
        .call(true, None, |n| failing.attempt(n))
        .await
        .unwrap_err();
    // Failed fast: the backend was not called and nothing was retried.
    assert_eq!(failing.attempts().len(), 3);
    assert_eq!(err.code(), Code::Unavailable);
    assert_eq!(
        err.details().retry_info.as_ref().unwrap().retry_delay,
        Some(Duration::from_secs(5))
    );

    tokio::time::advance(Duration::from_secs(5)).await;
    let healthy = Script::new([ok(9)]);
    assert_eq!(
        target
            .call(true, None, |n| healthy.attempt(n))
            .await
            .unwrap(),
        9
    );
    assert_eq!(target.breaker().state(), BreakerState::Closed);
}

#[tokio::test(start_paused = true)]
async fn the_breaker_is_checked_before_every_attempt() {
    let target = breaking(2);
    let script = Script::new([unavailable()]);
    let err = target
        .call(true, None, |n| script.attempt(n))
        .await
        .unwrap_err();
    // The second failure opened the breaker, so the third attempt was never sent.
    assert_eq!(script.attempts(), [1, 2]);
    assert_eq!(
        err.details().error_info.as_ref().unwrap().reason,
        "CIRCUIT_OPEN"
    );
}

#[tokio::test(start_paused = true)]
async fn a_failed_probe_reopens() {
    let target = breaking(1);
    let failing = Script::new([unavailable()]);
    let _ = target.call(false, None, |n| failing.attempt(n)).await;
    tokio::time::advance(Duration::from_secs(5)).await;
    // The probe fails: open again, and the retry is refused by the breaker.
    let _ = target.call(true, None, |n| failing.attempt(n)).await;
    assert_eq!(failing.attempts(), [1, 1]);
    assert_eq!(target.breaker().state(), BreakerState::Open);
    assert_eq!(target.breaker().stats().opened, 2);
}

type BoxStream = Pin<Box<dyn Stream<Item = Outcome> + Send>>;

fn items(items: Vec<Outcome>) -> BoxStream {
    Box::pin(stream::iter(items))
}

#[tokio::test(start_paused = true)]
async fn streams_are_retried_before_their_first_item() {
    let target = target(RetryPolicy::default());
    let mut opened = Vec::new();
    let started = target
        .call_stream(true, None, |n| {
            opened.push(n);
            async move {
                match n {
                    // Failing to open, then failing as the first item: both retried.
                    1 => Err(Status::unavailable("connect refused")),
                    2 => Ok(items(vec![Err(Status::unavailable("reset"))])),
                    _ => Ok(items(vec![Ok(1), Ok(2)])),
                }
            }
        })
        .await
        .unwrap();
    let got: Vec<u32> = started.map(Result::unwrap).collect().await;
    assert_eq!(got, [1, 2]);
    assert_eq!(opened, [1, 2, 3]);
}

#[tokio::test(start_paused = true)]
async fn no_retry_once_a_stream_has_started() {
    let target = target(RetryPolicy::default());
    let mut opened = 0;
    let started = target
        .call_stream(true, None, |_| {
            opened += 1;
            async { Ok(items(vec![Ok(1), Err(Status::unavailable("reset")), Ok(3)])) }
        })
        .await
        .unwrap();
    let got: Vec<Outcome> = started.collect().await;
    assert_eq!(got.len(), 3);
    assert_eq!(got[1].as_ref().unwrap_err().code(), Code::Unavailable);
    assert_eq!(opened, 1);
}

#[tokio::test(start_paused = true)]
async fn streams_of_unsafe_methods_are_not_retried() {
    let target = target(RetryPolicy::default());
    let mut opened = 0;
    let result = target
        .call_stream(false, None, |_| {
            opened += 1;
            async { Ok(items(vec![Err(Status::unavailable("reset")), Ok(1)])) }
        })
        .await;
    assert_eq!(result.err().map(|s| s.code()), Some(Code::Unavailable));
    assert_eq!(opened, 1);
}

#[tokio::test(start_paused = true)]
async fn empty_streams_succeed() {
    let target = target(RetryPolicy::default());
    let started = target
        .call_stream(true, None, |_| async { Ok(items(vec![])) })
        .await
        .unwrap();
    assert_eq!(started.count().await, 0);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_ends_a_started_stream() {
    let target = target(RetryPolicy::default());
    let begun = Instant::now();
    let mut started = target
        .call_stream(true, in_ms(200), |_| async {
            let stream: BoxStream = Box::pin(stream::iter([Ok(1)]).chain(stream::pending()));
            Ok(stream)
        })
        .await
        .unwrap();
    assert_eq!(started.next().await.unwrap().unwrap(), 1);
    let err = started.next().await.unwrap().unwrap_err();
    assert_eq!(err.code(), Code::DeadlineExceeded);
    assert_eq!(begun.elapsed(), Duration::from_millis(200));
    assert!(started.next().await.is_none());
}

#[tokio::test(start_paused = true)]
async fn a_stream_that_never_starts_hits_the_deadline() {
    let target = target(RetryPolicy::default());
    let result = target
        .call_stream(true, in_ms(100), |_| async {
            let stream: BoxStream = Box::pin(stream::pending());
            Ok(stream)
        })
        .await;
    assert_eq!(result.err().map(|s| s.code()), Some(Code::DeadlineExceeded));
}

#[tokio::test]
async fn outgoing_deadlines_respect_the_incoming_call() {
    assert_eq!(outgoing_deadline(None), None);
    let before = StdInstant::now();
    let own = outgoing_deadline(Some(Duration::from_secs(10))).unwrap();
    assert!(own >= before + Duration::from_secs(10));

    let incoming = StdInstant::now() + Duration::from_secs(2);
    let scope = Arc::new(CallScope::new(Some(incoming), Default::default()));
    let (capped, inherited) = scope
        .enter(async {
            (
                outgoing_deadline(Some(Duration::from_secs(10))),
                outgoing_deadline(None),
            )
        })
        .await;
    assert_eq!(capped, Some(incoming));
    assert_eq!(inherited, Some(incoming));
    let shorter = Arc::new(CallScope::new(Some(incoming), Default::default()))
        .enter(async { outgoing_deadline(Some(Duration::from_millis(1))) })
        .await
        .unwrap();
    assert!(shorter < incoming);
}
