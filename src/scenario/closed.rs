//! Resolution of a workload's load: open (`rate` and an arrival process, in
//! [`super::workloads`]) or closed (`users` who think between requests).
//! Exactly one of `rate` and `users`. Part of [`super::resolve`].

use serde_json::Value;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::{ArrivalKind, RawWorkload};
use super::resolve::{Resolver, limits};
use super::spec::{Closed, Load, UsersRamp};
use super::units;

/// The workload's load, or None after reporting why it has none.
pub(super) fn load(r: &mut Resolver, wl: &RawWorkload, p: &YamlPath) -> Option<Load> {
    match (&wl.rate, &wl.users) {
        (Some(rate), None) => {
            if wl.think.is_some() {
                r.push(
                    Problem::new(
                        p.key("think"),
                        "'think' is the think time of a closed workload, and this one has a 'rate'",
                    )
                    .expected("users: N with think, or rate without think"),
                );
            }
            let rate = r.rate(&rate.0, &p.key("rate"))?;
            super::workloads::arrival(r, wl, rate, p).map(Load::Open)
        }
        (None, None) if wl.replay.is_some() || wl.arrival == Some(ArrivalKind::Replay) => {
            super::workloads::arrival(r, wl, 0.0, p).map(Load::Open)
        }
        (None, Some(users)) => closed(r, wl, &users.0, p).map(Load::Closed),
        (Some(_), Some(_)) => {
            r.push(
                Problem::new(
                    p.key("users"),
                    "a workload has either a 'rate' (open) or 'users' (closed), not both",
                )
                .expected("one of rate and users")
                .help("remove 'rate' for a closed loop of users, or 'users' and 'think' for open arrivals"),
            );
            None
        }
        (None, None) => {
            r.push(
                Problem::new(p.clone(), "the workload has no load")
                    .expected("rate: 100/s (open), or users: 10 with think: 1s (closed)"),
            );
            None
        }
    }
}

fn closed(r: &mut Resolver, wl: &RawWorkload, users: &Value, p: &YamlPath) -> Option<Closed> {
    for (key, present) in [
        ("arrival", wl.arrival.is_some()),
        ("bursty", wl.bursty.is_some()),
        ("schedule", wl.schedule.is_some()),
        ("replay", wl.replay.is_some()),
    ] {
        if present {
            r.push(
                Problem::new(
                    p.key(key),
                    format!("'{key}' shapes open arrivals; a closed workload (users) has none"),
                )
                .expected("users, think, and optionally ramp: {to: 200, over: 60s}"),
            );
        }
    }
    let users = count(
        r,
        users,
        1,
        &p.key("users"),
        "to start with no users, start at 1 and add the others with ramp: {to: N, over: 60s}",
    );
    let think = match &wl.think {
        Some(t) => r.dist(&t.0, &p.key("think")),
        None => {
            r.push(
                Problem::new(p.clone(), "a closed workload (users) needs a 'think' time")
                    .expected("think: a distribution, like 1s or {exponential: {mean: 1s}}")
                    .help("think: 0s makes each user send again as soon as it has its answer"),
            );
            None
        }
    };
    let ramp = match &wl.ramp {
        None => None,
        Some(rp) => {
            let q = p.key("ramp");
            let to = count(
                r,
                &rp.to.0,
                0,
                &q.key("to"),
                "to: 0 makes every user leave (each after its current request and think)",
            );
            let over = r.duration(&rp.over.0, &q.key("over"));
            let start = rp
                .start
                .as_ref()
                .map_or(Some(0), |s| r.duration(&s.0, &q.key("start")));
            Some(UsersRamp {
                to: to?,
                over: over?,
                start: start?,
            })
        }
    };
    Some(Closed {
        users: users?,
        think: think?,
        ramp,
    })
}

/// A whole number of users from `min` to the limit.
fn count(r: &mut Resolver, v: &Value, min: u32, path: &YamlPath, help: &str) -> Option<u32> {
    match v.as_u64() {
        Some(n) if n >= u64::from(min) && n <= u64::from(limits::USERS) => Some(n as u32),
        _ => {
            r.push(
                Problem::new(
                    path.clone(),
                    format!("{} is not a number of users", units::shown(v)),
                )
                .expected(format!("a whole number from {min} to {}", limits::USERS))
                .help(help),
            );
            None
        }
    }
}
