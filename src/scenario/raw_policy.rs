//! The call policy blocks of the scenario file (timeouts, retry, circuit
//! breaker, hedge, outlier detection), re-exported by [`super::raw`].

use schemars::JsonSchema;
use serde::Deserialize;

use super::raw::{Duration, Fraction};

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawCallPolicy {
    /// Each attempt's timeout.
    pub timeout: Option<Duration>,
    /// The whole call's deadline, all attempts and waits included (Envoy's route timeout).
    pub deadline: Option<Duration>,
    pub retry: Option<RawRetry>,
    pub circuit_breaker: Option<RawBreaker>,
    /// The callee gets the caller's remaining time and abandons work past it.
    pub propagate_deadline: Option<bool>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    None,
    /// uniform(0, wait)
    Full,
    /// wait/2 + uniform(0, wait/2)
    Equal,
    /// min(max_wait, uniform(wait_duration, 3 × previous wait))
    Decorrelated,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RetryOn {
    Timeout,
    ConnectFailure,
    #[serde(rename = "5xx")]
    ServerError,
    Rejected,
}

/// Resilience4j Retry, with Envoy's retry_on and retry budget.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawRetry {
    /// Attempts in all, the first included (default 3).
    #[schemars(range(min = 1, max = 100))]
    pub max_attempts: Option<u32>,
    /// Wait before the first retry (default 500ms).
    pub wait_duration: Option<Duration>,
    /// Each further wait is the previous × this (default 1: fixed waits).
    #[schemars(range(min = 1, max = 100))]
    pub backoff_multiplier: Option<f64>,
    /// Cap on a wait (default: none).
    pub max_wait_duration: Option<Duration>,
    /// Default none.
    pub jitter: Option<Jitter>,
    /// What is retried (default: all four).
    pub retry_on: Option<Vec<RetryOn>>,
    /// Retries in progress at most this share of active requests (at least 3), as Envoy.
    pub budget: Option<Fraction>,
}

#[derive(Clone, Copy, Debug, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum WindowType {
    CountBased,
    TimeBased,
}

/// Resilience4j CircuitBreaker (defaults are Resilience4j's).
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawBreaker {
    pub sliding_window_type: Option<WindowType>,
    /// Calls (count_based, default 100) or seconds (time_based).
    #[schemars(range(min = 1, max = 1_000_000))]
    pub sliding_window_size: Option<u32>,
    /// Default 100.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub minimum_number_of_calls: Option<u32>,
    /// Default 50%.
    pub failure_rate_threshold: Option<Fraction>,
    /// Default 100%.
    pub slow_call_rate_threshold: Option<Fraction>,
    /// Default 60s.
    pub slow_call_duration_threshold: Option<Duration>,
    /// Default 60s.
    pub wait_duration_in_open_state: Option<Duration>,
    /// Default 10.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub permitted_number_of_calls_in_half_open_state: Option<u32>,
}

#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawHedge {
    pub after: Duration,
    /// Backup copies at most (default 1).
    #[schemars(range(min = 1, max = 10))]
    pub max: Option<u32>,
}

/// Envoy outlier detection for this service's replicas.
#[derive(Clone, Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RawOutlier {
    /// Default 5.
    #[schemars(range(min = 1, max = 1_000_000))]
    pub consecutive_5xx: Option<u32>,
    /// Default 30s; the n-th ejection of a replica lasts n × this.
    pub base_ejection_time: Option<Duration>,
    /// Default 10%.
    pub max_ejection_percent: Option<Fraction>,
}
