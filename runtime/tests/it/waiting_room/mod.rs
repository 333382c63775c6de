//! Waiting-room tests: the conformance suite on every store, plus fault injection.

mod cleanup;
mod conformance;
mod faults;
pub(crate) mod support;

/// Instantiates every conformance test for one store.
macro_rules! suite {
    ($module:ident, $harness:expr) => {
        mod $module {
            use super::conformance;

            suite!(@tests $harness;
                joins_get_fifo_positions_and_are_idempotent,
                concurrent_joins_get_distinct_gap_free_positions,
                concurrent_retries_of_one_join_get_one_place,
                status_reports_position_eta_and_renews_heartbeat,
                leave_moves_everyone_behind_up,
                lapsed_heartbeats_never_block_the_head,
                admission_respects_window_bucket_and_repeats_the_grant,
                bucket_refills_at_the_configured_rate,
                concurrent_admissions_never_exceed_the_bucket,
                reservation_tokens_are_bound_and_single_use,
                grants_and_reservations_expire,
                bad_input_gets_matching_answers,
                stats_per_event_and_system_wide,
                live_updates_follow_position_and_readiness,
                many_watchers_share_one_feed,
            );
        }
    };
    (@tests $harness:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let harness = $harness;
                conformance::$name(&harness).await;
            }
        )*
    };
}

suite!(memory, super::support::Harness::memory());
suite!(redis, super::support::Harness::redis());
suite!(redis_cluster, super::support::Harness::cluster());
