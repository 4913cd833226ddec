//! The network between replicas: one hop's delay inside a data center or over
//! a link, the link's loss, and what failures do to it (extra latency,
//! partitions, data centers down).
//!
//! Loss is drawn once per call, on the request: a link's `loss` is the share
//! of calls over it that get no answer. Partitions drop every message, both
//! ways. A request that reaches a data center that is down is lost there (the
//! caller sees a timeout); clients are not in a data center's outage.
//!
//! A message with a size crossing a link with a bandwidth first waits for
//! that direction of the link and is serialised ([`super::bandwidth`]), then
//! propagates; a partitioned link drops it before it takes any bandwidth.

use rand::RngExt;

use super::bandwidth::LinkQueue;
use crate::engine::{Dist, Stream, Time, stream};
use crate::metrics::LinkStats;
use crate::scenario::spec::{Link, Scenario};

pub(super) struct Network {
    n: usize,
    within: Option<Dist>,
    within_rng: Stream,
    /// Consumers' acknowledgements and the deliveries they let through (a
    /// stream of their own: the calls' draws are the same with or without them).
    ack_rng: Stream,
    /// `n × n`, symmetric; `links[a * n + a]` is None.
    links: Vec<Option<Link>>,
    link_rng: Vec<Stream>,
    loss_rng: Vec<Stream>,
    /// Active failures: extra delay and partitions per pair, outages per data center.
    extra: Vec<Time>,
    partitioned: Vec<u16>,
    down: Vec<u16>,
    /// `n × n`, one per direction of a link with a bandwidth.
    queues: Vec<Option<LinkQueue>>,
    /// The measured time, for the links' figures.
    window: (Time, Time),
}

impl Network {
    pub fn new(s: &Scenario, seed: u64) -> Network {
        let n = s.datacenters.len();
        let pair_stream = |a: usize, b: usize, what: &str| {
            let (lo, hi) = (a.min(b), a.max(b));
            stream(
                seed,
                &format!(
                    "network/link/{}/{}/{what}",
                    s.datacenters[lo], s.datacenters[hi]
                ),
            )
        };
        let pairs = |what: &str| {
            (0..n * n)
                .map(|i| pair_stream(i / n, i % n, what))
                .collect()
        };
        Network {
            n,
            within: s.within_dc.clone(),
            within_rng: stream(seed, "network/within_dc"),
            ack_rng: stream(seed, "network/consumer_acks"),
            links: s.links.clone(),
            link_rng: pairs("latency"),
            loss_rng: pairs("loss"),
            extra: vec![0; n * n],
            partitioned: vec![0; n * n],
            down: vec![0; n],
            queues: s
                .links
                .iter()
                .map(|l| l.as_ref()?.bandwidth.map(LinkQueue::new))
                .collect(),
            window: (s.warmup, s.end()),
        }
    }

    /// The delay of a request of `bytes` sent at `now` from data center `a`
    /// to `b`, or None if it is lost.
    #[inline(always)]
    pub fn request_hop(&mut self, a: u16, b: u16, now: Time, bytes: u64) -> Option<Time> {
        let delay = self.hop(a, b, now, bytes)?;
        if let Some(link) = &self.links[self.pair(a, b)]
            && link.loss > 0.0
        {
            let i = self.canonical(a, b);
            if self.loss_rng[i].random::<f64>() < link.loss {
                return None;
            }
        }
        Some(delay)
    }

    /// The delay of an answer (or a message) of `bytes` sent at `now` from
    /// `a` to `b`, or None if it is dropped.
    #[inline]
    pub fn answer_hop(&mut self, a: u16, b: u16, now: Time, bytes: u64) -> Option<Time> {
        self.hop(a, b, now, bytes)
    }

    /// A consumer's ack from data center `a` to a broker node in `b` and the
    /// next delivery back, both without a size; None if either way is cut.
    pub fn round_trip(&mut self, a: u16, b: u16) -> Option<Time> {
        let mut way = |from: u16, to: u16| {
            let (i, j) = (from as usize, to as usize);
            if self.down[i] > 0 || self.down[j] > 0 {
                return None;
            }
            let p = self.pair(from, to);
            if self.partitioned[p] > 0 {
                return None;
            }
            let base = match (&self.links[p], from == to) {
                (Some(link), false) => link.latency.sample(&mut self.ack_rng),
                _ => self
                    .within
                    .as_ref()
                    .map_or(0, |d| d.sample(&mut self.ack_rng)),
            };
            Some(base.saturating_add(self.extra[p]))
        };
        let there = way(a, b)?;
        Some(there.saturating_add(way(b, a)?))
    }

    /// One data center (the common case) inline; between several, out of line.
    #[inline]
    fn hop(&mut self, a: u16, b: u16, now: Time, bytes: u64) -> Option<Time> {
        if self.n == 1 {
            return Some(
                self.within
                    .as_ref()
                    .map_or(0, |d| d.sample(&mut self.within_rng))
                    + self.extra[0],
            );
        }
        self.hop_between(a, b, now, bytes)
    }

    #[inline(never)]
    fn hop_between(&mut self, a: u16, b: u16, now: Time, bytes: u64) -> Option<Time> {
        let p = self.pair(a, b);
        if self.partitioned[p] > 0 {
            return None;
        }
        let base = match (&self.links[p], a == b) {
            (Some(link), false) => {
                let i = self.canonical(a, b);
                link.latency.sample(&mut self.link_rng[i])
            }
            _ => self
                .within
                .as_ref()
                .map_or(0, |d| d.sample(&mut self.within_rng)),
        };
        let sending = match &mut self.queues[p] {
            Some(q) if bytes > 0 => q.send(now, bytes, self.window),
            _ => 0,
        };
        // Saturating: a huge message on a slow link must not wrap the clock.
        let delay = sending.saturating_add(base).saturating_add(self.extra[p]);
        Some(delay.min(Time::MAX - now))
    }

    /// Each direction of each link with a bandwidth: (from, to, its figures),
    /// for a run that ended at `end` (before the window's end if the memory
    /// budget stopped it).
    pub fn link_stats(&self, end: Time) -> Vec<(usize, usize, LinkStats)> {
        self.queues
            .iter()
            .enumerate()
            .filter_map(|(p, q)| {
                Some((
                    p / self.n,
                    p % self.n,
                    q.as_ref()?.stats_until(end, self.window),
                ))
            })
            .collect()
    }

    fn pair(&self, a: u16, b: u16) -> usize {
        a as usize * self.n + b as usize
    }

    /// One stream per unordered pair, whichever way the message goes.
    fn canonical(&self, a: u16, b: u16) -> usize {
        self.pair(a.min(b), a.max(b))
    }

    pub fn dc_is_down(&self, dc: u16) -> bool {
        self.down[dc as usize] > 0
    }

    pub fn set_extra(&mut self, a: usize, b: usize, extra: Time, on: bool) {
        for p in [a * self.n + b, b * self.n + a] {
            if on {
                self.extra[p] += extra;
            } else {
                self.extra[p] -= extra;
            }
            if a == b {
                break;
            }
        }
    }

    pub fn set_partition(&mut self, a: usize, b: usize, on: bool) {
        for p in [a * self.n + b, b * self.n + a] {
            if on {
                self.partitioned[p] += 1;
            } else {
                self.partitioned[p] -= 1;
            }
        }
    }

    pub fn set_down(&mut self, dc: usize, on: bool) {
        if on {
            self.down[dc] += 1;
        } else {
            self.down[dc] -= 1;
        }
    }
}
