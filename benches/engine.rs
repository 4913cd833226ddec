//! meshsim's engine against a minimal hand-written event loop, on the same two
//! textbook models: M/M/4 at ρ = 0.8 and a tandem of three M/M/1 stations at
//! ρ = 0.8 (a Jackson network), both with μ = 1000/s and 1 M customers.
//!
//! `cargo bench --bench engine [-- REPETITIONS]` (default 5). Each repetition
//! runs the hand loop and meshsim in turn, alternating which goes first; the
//! figures are medians. Two ratios are printed: of the two medians, and the
//! median of each repetition's own ratio (the pair ran back to back, so a
//! stretch of a slower machine moves both of its times). The mean response
//! times show that both loops simulate the same queue: each should be within
//! about 1% of theory.
//!
//! The hand loop is what a person would write for these models and nothing
//! more: a `BinaryHeap` keyed by `(time, seq)`, integer nanoseconds, one
//! xoshiro256++ stream per purpose, exponential draws from `rand_distr`.
//! meshsim runs the same models from YAML through its public API, as a user's
//! scenario would, with the options of `meshsim run --json` (no network, no
//! policy; counters, utilisation and per-second counts as usual, no latencies
//! per step, which only the reports read).

mod common;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::time::Instant;

use rand::SeedableRng;
use rand_distr::{Distribution, Exp1};
use rand_xoshiro::Xoshiro256PlusPlus;

const CUSTOMERS: f64 = 1.0e6;
const MU: f64 = 1000.0;
const RHO: f64 = 0.8;
const SEED: u64 = 42;
const WARMUP_S: f64 = 1.0;
const NS: f64 = 1e9;

/// One model: its name, arrival rate, servers per station, stations in series,
/// and its theoretical mean response time in seconds.
struct Model {
    name: &'static str,
    lambda: f64,
    servers: usize,
    stations: usize,
    theory_s: f64,
}

impl Model {
    fn duration_s(&self) -> f64 {
        CUSTOMERS / self.lambda
    }

    /// The same model as a meshsim scenario: one service per station, each
    /// but the last calling the next after its work (async: the worker is
    /// free while the call is out).
    fn yaml(&self) -> String {
        let mut y = format!(
            "name: bench\nseed: {SEED}\nduration: {:.0}ms\nwarmup: {WARMUP_S}s\nservices:\n",
            self.duration_s() * 1e3
        );
        for k in 0..self.stations {
            y += &format!(
                "  s{k}:\n    threading: async\n    concurrency: {}\n    queue: 1000000\n    endpoints:\n      x:\n        steps:\n          - work: {{exponential: {{mean: 1ms}}}}\n",
                self.servers
            );
            if k + 1 < self.stations {
                y += &format!("          - call: s{}.x\n", k + 1);
            }
        }
        y + &format!(
            "workload:\n  - {{name: w, target: s0.x, rate: {}/s}}\n",
            self.lambda
        )
    }
}

fn models() -> [Model; 2] {
    let lambda = RHO * 4.0 * MU;
    let tandem = RHO * MU;
    [
        Model {
            name: "M/M/4, ρ = 0.8",
            lambda,
            servers: 4,
            stations: 1,
            theory_s: meshsim::validate::mmc_mean(4, lambda, MU),
        },
        Model {
            name: "3-station tandem, ρ = 0.8",
            lambda: tandem,
            servers: 1,
            stations: 3,
            theory_s: 3.0 / (MU - tandem),
        },
    ]
}

/// A customer entering the system, or finishing service at a station
/// (carrying the time it entered the system).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
enum Ev {
    Arrival,
    Done { station: usize, entered: u64 },
}

/// The hand-written loop: returns the mean response time (s) of the customers
/// that entered after warmup and left before the end.
fn hand_loop(m: &Model) -> f64 {
    let end = (m.duration_s() * NS) as u64;
    let warmup = (WARMUP_S * NS) as u64;
    let (gap_ns, work_ns) = (NS / m.lambda, NS / MU);
    let mut arrivals = Xoshiro256PlusPlus::seed_from_u64(SEED);
    let mut work: Vec<_> = (0..m.stations)
        .map(|k| Xoshiro256PlusPlus::seed_from_u64(SEED + 1 + k as u64))
        .collect();
    let mut busy = vec![0usize; m.stations];
    let mut waiting: Vec<VecDeque<u64>> = vec![VecDeque::new(); m.stations];
    let mut heap = BinaryHeap::new();
    let mut seq = 0u64;
    let mut push = |heap: &mut BinaryHeap<_>, t: u64, ev: Ev| {
        heap.push(Reverse((t, seq, ev)));
        seq += 1;
    };
    let draw = |rng: &mut Xoshiro256PlusPlus, mean: f64| {
        let e: f64 = Exp1.sample(rng);
        (mean * e + 0.5) as u64
    };
    let (mut sum_ns, mut count) = (0u128, 0u64);
    push(&mut heap, draw(&mut arrivals, gap_ns), Ev::Arrival);
    while let Some(Reverse((now, _, ev))) = heap.pop() {
        if now > end {
            break;
        }
        let (station, entered) = match ev {
            Ev::Arrival => {
                push(&mut heap, now + draw(&mut arrivals, gap_ns), Ev::Arrival);
                (0, now)
            }
            Ev::Done { station, entered } => {
                match waiting[station].pop_front() {
                    // The first customer waiting here starts its service.
                    Some(entered) => {
                        let t = now + draw(&mut work[station], work_ns);
                        push(&mut heap, t, Ev::Done { station, entered });
                    }
                    None => busy[station] -= 1,
                }
                if station + 1 == m.stations {
                    if entered >= warmup {
                        sum_ns += u128::from(now - entered);
                        count += 1;
                    }
                    continue;
                }
                (station + 1, entered)
            }
        };
        if busy[station] < m.servers {
            busy[station] += 1;
            let t = now + draw(&mut work[station], work_ns);
            push(&mut heap, t, Ev::Done { station, entered });
        } else {
            waiting[station].push_back(entered);
        }
    }
    sum_ns as f64 / count as f64 / NS
}

/// meshsim on the same model, as `meshsim run --json` runs it: the mean
/// response time (s) of its workload.
fn meshsim(s: &meshsim::scenario::Scenario) -> f64 {
    let options = meshsim::model::RunOptions {
        skip_latency_series: true,
        ..Default::default()
    };
    let out = meshsim::model::run_with(s, s.seed, &options, &mut |_, _| {});
    out.collector.workloads[0].latency.mean_ns() / NS
}

/// A loop's runs: the wall time of each and the result of the last.
#[derive(Default)]
struct Runs {
    secs: Vec<f64>,
    mean_s: f64,
}

impl Runs {
    fn time(&mut self, f: impl FnOnce() -> f64) {
        let start = Instant::now();
        self.mean_s = f();
        self.secs.push(start.elapsed().as_secs_f64());
    }

    fn median_s(&self) -> f64 {
        median(self.secs.clone())
    }
}

/// The middle value (the upper one of an even count).
fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let reps = common::repetitions();
    println!("1 M customers per run, medians of {reps} alternating repetitions\n");
    let (rate, mean) = ("customers/s", "mean response, ms");
    println!("{:<26} {rate:^27} {:^15}   {mean:^29}", "", "ratio");
    println!(
        "{:<26} {:>13} {:>13} {:>7} {:>7}   {:>9} {:>9} {:>9}",
        "model", "hand loop", "meshsim", "medians", "pairs", "theory", "hand loop", "meshsim"
    );
    for m in models() {
        let yaml = m.yaml();
        let s = meshsim::scenario::load_str(&yaml, "bench", &[])
            .unwrap_or_else(|e| panic!("{}", e.render()));
        let (mut hand, mut mesh) = (Runs::default(), Runs::default());
        for i in 0..reps {
            if i % 2 == 0 {
                hand.time(|| hand_loop(&m));
                mesh.time(|| meshsim(&s));
            } else {
                mesh.time(|| meshsim(&s));
                hand.time(|| hand_loop(&m));
            }
        }
        let (hand_s, mesh_s) = (hand.median_s(), mesh.median_s());
        let pairs = median(
            mesh.secs
                .iter()
                .zip(&hand.secs)
                .map(|(m, h)| m / h)
                .collect(),
        );
        println!(
            "{:<26} {:>11.2} M {:>11.2} M {:>6.2}× {:>6.2}×   {:>9.4} {:>9.4} {:>9.4}",
            m.name,
            CUSTOMERS / hand_s / 1e6,
            CUSTOMERS / mesh_s / 1e6,
            mesh_s / hand_s,
            pairs,
            m.theory_s * 1e3,
            hand.mean_s * 1e3,
            mesh.mean_s * 1e3,
        );
    }
    println!(
        "\nratio: meshsim's time over the hand loop's (1.00× would be as fast): \
         of the medians, and the median of the repetitions' own ratios"
    );
}
