//! Call policies as written (on a step, or in `defaults.call`) resolved into
//! [`CallPolicy`]: a step's key wins over the default's, key by key. Part of
//! [`super::resolve`].

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{
    self, Jitter, RawBreaker, RawCallPolicy, RawHedge, RawOutlier, RawRetry, RetryOn, WindowType,
};
use super::resolve::Resolver;
use super::spec::{Breaker, BreakerWindow, CallPolicy, Hedge, Outlier, Retry};
use crate::engine::time::{MILLISECOND, SECOND, Time};

/// The policy keys a call step may carry, each with where it was written.
pub(super) struct Keys<'a> {
    pub timeout: Option<(&'a raw::Duration, YamlPath)>,
    pub deadline: Option<(&'a raw::Duration, YamlPath)>,
    pub retry: Option<(&'a RawRetry, YamlPath)>,
    pub breaker: Option<(&'a RawBreaker, YamlPath)>,
    pub hedge: Option<(&'a RawHedge, YamlPath)>,
    pub propagate_deadline: Option<bool>,
}

impl<'a> Keys<'a> {
    /// The keys of `defaults.call`.
    pub fn defaults(d: Option<&'a RawCallPolicy>, p: &YamlPath) -> Keys<'a> {
        let with = |k: &str| p.key(k);
        Keys {
            timeout: d
                .and_then(|d| d.timeout.as_ref())
                .map(|v| (v, with("timeout"))),
            deadline: d
                .and_then(|d| d.deadline.as_ref())
                .map(|v| (v, with("deadline"))),
            retry: d.and_then(|d| d.retry.as_ref()).map(|v| (v, with("retry"))),
            breaker: d
                .and_then(|d| d.circuit_breaker.as_ref())
                .map(|v| (v, with("circuit_breaker"))),
            hedge: None,
            propagate_deadline: d.and_then(|d| d.propagate_deadline),
        }
    }

    /// The step's keys, falling back to `defaults` key by key.
    pub fn step(s: &'a raw::RawStep, p: &YamlPath, defaults: &Keys<'a>) -> Keys<'a> {
        let with = |k: &str| p.key(k);
        Keys {
            timeout: s
                .timeout
                .as_ref()
                .map(|v| (v, with("timeout")))
                .or_else(|| defaults.timeout.clone()),
            deadline: s
                .deadline
                .as_ref()
                .map(|v| (v, with("deadline")))
                .or_else(|| defaults.deadline.clone()),
            retry: s
                .retry
                .as_ref()
                .map(|v| (v, with("retry")))
                .or_else(|| defaults.retry.clone()),
            breaker: s
                .circuit_breaker
                .as_ref()
                .map(|v| (v, with("circuit_breaker")))
                .or_else(|| defaults.breaker.clone()),
            hedge: s.hedge.as_ref().map(|v| (v, with("hedge"))),
            propagate_deadline: s.propagate_deadline.or(defaults.propagate_deadline),
        }
    }
}

/// Resolves the keys into a policy, reporting problems at the paths they were written.
pub(super) fn resolve(r: &mut Resolver, k: &Keys) -> CallPolicy {
    CallPolicy {
        timeout: k.timeout.as_ref().and_then(|(v, p)| r.duration(&v.0, p)),
        deadline: k.deadline.as_ref().and_then(|(v, p)| r.duration(&v.0, p)),
        retry: k.retry.as_ref().and_then(|(v, p)| retry(r, v, p)),
        breaker: k.breaker.as_ref().and_then(|(v, p)| breaker(r, v, p)),
        hedge: k.hedge.as_ref().and_then(|(v, p)| hedge(r, v, p)),
        propagate_deadline: k.propagate_deadline.unwrap_or(false),
    }
}

fn or_default(r: &mut Resolver, v: &Option<raw::Duration>, p: YamlPath, default: Time) -> Time {
    v.as_ref()
        .map_or(Some(default), |d| r.duration(&d.0, &p))
        .unwrap_or(default)
}

fn fraction_or(r: &mut Resolver, v: &Option<raw::Fraction>, p: YamlPath, default: f64) -> f64 {
    v.as_ref()
        .map_or(Some(default), |f| r.fraction(&f.0, &p))
        .unwrap_or(default)
}

fn retry(r: &mut Resolver, v: &RawRetry, p: &YamlPath) -> Option<Retry> {
    let max_attempts = r.bounded(v.max_attempts, 3, 1, 100, &p.key("max_attempts"));
    let multiplier = v.backoff_multiplier.unwrap_or(1.0);
    if !(multiplier.is_finite() && (1.0..=100.0).contains(&multiplier)) {
        r.push(
            Problem::new(
                p.key("backoff_multiplier"),
                format!("{multiplier} is out of range"),
            )
            .expected("a number from 1 (fixed waits) to 100"),
        );
    }
    let on = |k: RetryOn| v.retry_on.as_ref().is_none_or(|list| list.contains(&k));
    Some(Retry {
        max_attempts,
        wait: or_default(
            r,
            &v.wait_duration,
            p.key("wait_duration"),
            500 * MILLISECOND,
        ),
        multiplier: multiplier.clamp(1.0, 100.0),
        max_wait: or_default(
            r,
            &v.max_wait_duration,
            p.key("max_wait_duration"),
            Time::MAX / 4,
        ),
        jitter: v.jitter.unwrap_or(Jitter::None),
        on_timeout: on(RetryOn::Timeout),
        on_connect_failure: on(RetryOn::ConnectFailure),
        on_server_error: on(RetryOn::ServerError),
        on_rejected: on(RetryOn::Rejected),
        budget: v
            .budget
            .as_ref()
            .and_then(|b| r.fraction(&b.0, &p.key("budget"))),
    })
}

fn breaker(r: &mut Resolver, v: &RawBreaker, p: &YamlPath) -> Option<Breaker> {
    let size = r.bounded(
        v.sliding_window_size,
        100,
        1,
        1_000_000,
        &p.key("sliding_window_size"),
    );
    let window = match v.sliding_window_type.unwrap_or(WindowType::CountBased) {
        WindowType::CountBased => BreakerWindow::Count(size),
        WindowType::TimeBased => BreakerWindow::Time(size.min(86_400)),
    };
    Some(Breaker {
        window,
        minimum_calls: r.bounded(
            v.minimum_number_of_calls,
            100,
            1,
            1_000_000,
            &p.key("minimum_number_of_calls"),
        ),
        failure_threshold: fraction_or(
            r,
            &v.failure_rate_threshold,
            p.key("failure_rate_threshold"),
            0.5,
        ),
        slow_threshold: fraction_or(
            r,
            &v.slow_call_rate_threshold,
            p.key("slow_call_rate_threshold"),
            1.0,
        ),
        slow_duration: or_default(
            r,
            &v.slow_call_duration_threshold,
            p.key("slow_call_duration_threshold"),
            60 * SECOND,
        ),
        wait_open: or_default(
            r,
            &v.wait_duration_in_open_state,
            p.key("wait_duration_in_open_state"),
            60 * SECOND,
        ),
        half_open_calls: r.bounded(
            v.permitted_number_of_calls_in_half_open_state,
            10,
            1,
            1_000_000,
            &p.key("permitted_number_of_calls_in_half_open_state"),
        ),
    })
}

fn hedge(r: &mut Resolver, v: &RawHedge, p: &YamlPath) -> Option<Hedge> {
    let after = r.duration(&v.after.0, &p.key("after"))?;
    let max = r.bounded(v.max, 1, 1, 10, &p.key("max"));
    Some(Hedge { after, max })
}

pub(super) fn outlier(r: &mut Resolver, v: Option<&RawOutlier>, p: &YamlPath) -> Option<Outlier> {
    let v = v?;
    Some(Outlier {
        consecutive: r.bounded(
            v.consecutive_5xx,
            5,
            1,
            1_000_000,
            &p.key("consecutive_5xx"),
        ),
        base_ejection: or_default(
            r,
            &v.base_ejection_time,
            p.key("base_ejection_time"),
            30 * SECOND,
        ),
        max_percent: fraction_or(
            r,
            &v.max_ejection_percent,
            p.key("max_ejection_percent"),
            0.1,
        ),
    })
}
