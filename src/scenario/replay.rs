//! `arrival: replay`: an open workload whose send times are given, as a load
//! generator's recorded or planned schedule, so that a simulation and a
//! measurement share one realisation of the arrivals. Part of
//! [`super::workloads`]: the times are checked (durations, in order, at most
//! [`limits::REPLAY`]). The profile holds their mean rate for information only:
//! nothing reads a replay's rate (`check`'s formulas want Poisson arrivals,
//! `fit` leaves a replay as written and runs for its span).

use std::sync::Arc;

use super::error::Problem;
use super::node::YamlPath;
use super::raw::RawWorkload;
use super::resolve::{Resolver, limits};
use super::spec::{Arrival, RateProfile};
use crate::engine::time::SECOND;

/// The replayed arrival process, or None after reporting why there is none.
pub(super) fn arrival(r: &mut Resolver, wl: &RawWorkload, p: &YamlPath) -> Option<Arrival> {
    if wl.rate.is_some() {
        r.push(
            Problem::new(
                p.key("rate"),
                "'rate' is set but arrival is replay: the replay list gives the times",
            )
            .expected("replay: [...] without a rate"),
        );
    }
    let list = wl.replay.as_ref()?;
    let q = p.key("replay");
    if list.is_empty() || list.len() > limits::REPLAY {
        r.push(
            Problem::new(q, format!("{} send times", list.len()))
                .expected(format!("1 to {} send times", limits::REPLAY)),
        );
        return None;
    }
    let mut times = Vec::with_capacity(list.len());
    for (i, t) in list.iter().enumerate() {
        let at = r.duration(&t.0, &q.index(i))?;
        if times.last().is_some_and(|&prev| at < prev) {
            r.push(
                Problem::new(q.index(i), "replay times must not go back")
                    .expected("send times in order, from the start of the simulation"),
            );
            return None;
        }
        times.push(at);
    }
    let span = times[times.len() - 1].max(1) as f64 / SECOND as f64;
    let rate = times.len() as f64 / span;
    Some(Arrival {
        poisson: false,
        profile: RateProfile::Fixed(rate),
        replay: Some(Arc::from(times)),
    })
}
