//! The network hop between two services, estimated from the calls in the traces.

/// The network hop, seen from each call (CLIENT span and its SERVER child).
///
/// The answer's leg (CLIENT end − SERVER end) is one hop and nothing else when
/// the SERVER span starts once a worker has the job (as a pool thread's span
/// does): the forward leg also holds the wait for a worker, which the model
/// queues for itself. The two legs' average, (CLIENT − SERVER) / 2, is immune
/// to clock skew between the hosts but holds half that wait. Clocks disagree
/// visibly when a SERVER span ends after its CLIENT span, or starts with it
/// exactly (moved there by the skew repair); past 1% of calls so, the average
/// is used.
#[derive(Clone, Debug, Default)]
pub struct Hops {
    /// CLIENT end − SERVER end per call whose clocks agree (ns).
    pub answer: Vec<f64>,
    /// (CLIENT − SERVER) / 2 per call (ns).
    pub average: Vec<f64>,
}

impl Hops {
    /// One call: the CLIENT span's and its SERVER child's (start, end) in ns.
    pub(crate) fn add(&mut self, client: (u64, u64), server: (u64, u64)) {
        let skewed = server.1 > client.1 || server.0 == client.0;
        if !skewed {
            self.answer.push((client.1 - server.1) as f64);
        }
        let (c, s) = (client.1 - client.0, server.1 - server.0);
        self.average.push(c.saturating_sub(s) as f64 / 2.0);
    }

    /// Calls whose clocks visibly disagree: every call has an average, only the
    /// others an answer leg.
    pub fn skewed(&self) -> usize {
        self.average.len() - self.answer.len()
    }

    /// Whether the answer's leg is the estimate (clocks agree in ≥ 99% of calls).
    pub fn answer_leg(&self) -> bool {
        self.skewed() * 100 <= self.average.len()
    }

    /// The samples of the estimate used.
    pub fn chosen(&self) -> &[f64] {
        if self.answer_leg() {
            &self.answer
        } else {
            &self.average
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Hops;

    const MS: u64 = 1_000_000;

    #[test]
    fn the_answer_leg_leaves_the_wait_for_a_worker_out() {
        let mut h = Hops::default();
        // A 1 ms hop each way; the second call waited 10 ms for a worker.
        h.add((0, 22 * MS), (MS, 21 * MS));
        h.add((0, 32 * MS), (11 * MS, 31 * MS));
        assert!(h.answer_leg());
        assert_eq!(h.chosen(), [1e6, 1e6]);
        assert_eq!(h.average, [1e6, 6e6], "the average holds half the wait");
    }

    #[test]
    fn clocks_that_disagree_fall_back_to_the_average() {
        let mut h = Hops::default();
        for i in 0..100 {
            h.add(
                (i * 100 * MS, i * 100 * MS + 22 * MS),
                (i * 100 * MS + MS, i * 100 * MS + 21 * MS),
            );
        }
        // The callee's clock is 3 ms ahead: its span ends after the caller's.
        h.add((0, 22 * MS), (4 * MS, 24 * MS));
        assert!(h.answer_leg(), "1 call in 101 is within the 1% allowed");
        h.add((0, 22 * MS), (0, 20 * MS)); // moved by the skew repair
        assert_eq!(h.skewed(), 2);
        assert!(!h.answer_leg());
        assert_eq!(h.answer.len(), 100, "the skewed calls are not answer legs");
        assert_eq!(h.chosen().len(), 102);
        assert!(h.chosen().iter().all(|&x| x == 1e6));
    }
}
