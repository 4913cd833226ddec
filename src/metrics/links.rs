//! The links with a bandwidth, per direction: what they carried and how busy
//! they were over the measured time (`links` in summary.json).

use indexmap::IndexMap;
use serde::Serialize;

use super::Collector;
use super::latency::{round3, round6};
use crate::scenario::Scenario;

/// One direction of a link: messages handed to it in the measured time, their
/// bytes and waits, and the time it spent sending (clipped to the measured time).
#[derive(Clone, Debug, Default)]
pub struct LinkStats {
    pub messages: u64,
    pub bytes: u128,
    pub busy_ns: u128,
    /// Total time messages waited for the link before their first byte left.
    pub queue_ns: u128,
}

#[derive(Clone, Debug, Serialize)]
pub struct LinkSummary {
    pub messages: u64,
    /// At most u64::MAX (a JSON number every reader takes).
    pub bytes: u64,
    /// Time spent sending / measured time.
    pub utilization: f64,
    /// Mean wait for the link, before sending (null when nothing was sent).
    pub queue_ms_mean: Option<f64>,
}

/// `"from->to"` for each direction of each link with a bandwidth, in data center order.
pub fn links(s: &Scenario, c: &Collector) -> IndexMap<String, LinkSummary> {
    let measured = c.end.saturating_sub(s.warmup);
    c.links
        .iter()
        .map(|(a, b, st)| {
            let summary = LinkSummary {
                messages: st.messages,
                bytes: u64::try_from(st.bytes).unwrap_or(u64::MAX),
                utilization: if measured == 0 {
                    0.0
                } else {
                    round6(st.busy_ns as f64 / measured as f64)
                },
                queue_ms_mean: (st.messages > 0)
                    .then(|| round3(st.queue_ns as f64 / st.messages as f64 / 1e6)),
            };
            let key = format!("{}->{}", s.datacenters[*a], s.datacenters[*b]);
            (key, summary)
        })
        .collect()
}
