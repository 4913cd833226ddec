//! A single worker's time outside its spans: the service's `handoff`.
//!
//! A service whose jobs never overlap in the traces has one worker. A request
//! sent before the job ahead of it began was waiting when that job ended, so
//! the time from that end to its own start is what the worker did outside any
//! span: writing the answer, reading the next request. meshsim holds the
//! worker that long after each answer (docs/SCENARIO.md, `handoff`); the
//! answer itself is not delayed, so this is capacity, not latency.

use indexmap::{IndexMap, IndexSet};

/// Waiting jobs needed before a handoff is written.
pub const MIN_WAITING: usize = 20;

/// Every job of every service: (start, end, when its request was sent if a
/// CLIENT span shows it), in ns.
#[derive(Clone, Debug, Default)]
pub struct Handoffs {
    jobs: IndexMap<String, Vec<(u64, u64, Option<u64>)>>,
    /// Services with a job from a sampled trace: the jobs between two seen
    /// ones may be missing, and a gap would hold their work.
    sampled: IndexSet<String>,
}

impl Handoffs {
    pub(super) fn add(&mut self, service: &str, job: (u64, u64), sent: Option<u64>, sampled: bool) {
        let (start, end) = job;
        if sampled && !self.sampled.contains(service) {
            self.sampled.insert(service.to_string());
        }
        if let Some(v) = self.jobs.get_mut(service) {
            v.push((start, end, sent));
        } else {
            self.jobs
                .insert(service.to_string(), vec![(start, end, sent)]);
        }
    }

    /// Whether some of the service's jobs come from sampled traces.
    pub fn sampled(&self, service: &str) -> bool {
        self.sampled.contains(service)
    }

    /// The handoffs of a one-worker service (its jobs never overlap): for each
    /// job sent before the job ahead of it began, its start − that job's end (ns).
    pub fn of(&self, service: &str) -> Vec<f64> {
        let Some(jobs) = self.jobs.get(service) else {
            return Vec::new();
        };
        let mut jobs = jobs.clone();
        jobs.sort_unstable();
        jobs.windows(2)
            .filter_map(|w| {
                let (ahead, next) = (w[0], w[1]);
                let waiting = next.2.is_some_and(|sent| sent <= ahead.0);
                (waiting && next.0 >= ahead.1).then(|| (next.0 - ahead.1) as f64)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::Handoffs;

    const MS: u64 = 1_000_000;

    #[test]
    fn only_a_job_that_was_waiting_gives_a_handoff() {
        let mut h = Handoffs::default();
        h.add("compute", (0, 10 * MS), Some(0), false);
        // Sent before the first began: it waited, and started 1 ms after the end.
        h.add("compute", (11 * MS, 21 * MS), Some(0), false);
        // Sent after the second began: it may have arrived when the worker was free.
        h.add("compute", (30 * MS, 40 * MS), Some(12 * MS), false);
        // No CLIENT span: when it was sent is unknown.
        h.add("compute", (42 * MS, 50 * MS), None, false);
        // Sent long before: it waited behind the fourth, 0.5 ms handoff.
        h.add("compute", (50 * MS + MS / 2, 60 * MS), Some(41 * MS), false);
        assert_eq!(h.of("compute"), [1e6, 0.5e6]);
        assert!(h.of("auth").is_empty());
        assert!(!h.sampled("compute"));
        h.add("auth", (0, MS), None, true);
        assert!(
            h.sampled("auth"),
            "a span of a sampled trace marks its service"
        );
    }
}
