//! What every client of one target shares: its resilience (retry policy, retry budget, circuit
//! breaker) and its metric series.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::context::Protocol;
use crate::method::MethodInfo;
use crate::metrics::BreakerState as ClientBreakerState;
use crate::metrics::{ClientMethodSeries, ClientMetrics, Metrics};
use crate::resilience::{BreakerState, CircuitBreaker, Resilience, ResilienceConfig, RetryBudget};

/// The shared state of one target over one transport.
#[derive(Debug)]
pub(crate) struct Target {
    resilience: Resilience,
    metrics: Arc<Metrics>,
    name: Arc<str>,
    protocol: Protocol,
    // Methods are only known as calls arrive; each is resolved once.
    series: Mutex<HashMap<usize, ClientMethodSeries>>,
}

impl Target {
    /// The state of `name` (the configured address) reached over `protocol`.
    pub(crate) fn new(
        name: &str,
        protocol: Protocol,
        config: &ResilienceConfig,
        metrics: Arc<Metrics>,
    ) -> Self {
        let name: Arc<str> = Arc::from(name);
        let gauge = ClientMetrics::new(&metrics, &name, []);
        gauge.set_breaker_state(ClientBreakerState::Closed);
        let breaker = CircuitBreaker::new(name.clone(), config.breaker.clone()).on_transition(
            move |transition| {
                gauge.set_breaker_state(gauge_state(transition.to));
                tracing::warn!(
                    target_name = &*transition.target,
                    from = transition.from.as_str(),
                    to = transition.to.as_str(),
                    "circuit breaker changed state"
                );
            },
        );
        let resilience = Resilience::with_breaker(
            config.retry.clone(),
            RetryBudget::new(config.budget_max_tokens, config.budget_token_ratio),
            breaker,
        );
        Self {
            resilience,
            metrics,
            name,
            protocol,
            series: Mutex::new(HashMap::new()),
        }
    }

    /// Retries, budget and breaker of this target.
    pub(crate) fn resilience(&self) -> &Resilience {
        &self.resilience
    }

    /// The protocol label of this target's calls.
    pub(crate) fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The series of `method` on this target.
    pub(crate) fn series(&self, method: &'static MethodInfo) -> ClientMethodSeries {
        let key = std::ptr::from_ref(method) as usize;
        let mut series = self.series.lock().unwrap_or_else(|e| e.into_inner());
        series
            .entry(key)
            .or_insert_with(|| {
                ClientMetrics::new(&self.metrics, &self.name, [method])
                    .method(method)
                    .cloned()
                    .expect("the series of the method it was built with")
            })
            .clone()
    }
}

fn gauge_state(state: BreakerState) -> ClientBreakerState {
    match state {
        BreakerState::Closed => ClientBreakerState::Closed,
        BreakerState::Open => ClientBreakerState::Open,
        BreakerState::HalfOpen => ClientBreakerState::HalfOpen,
    }
}
