//! Picking a replica of the callee: round robin, uniformly at random, or the
//! less loaded of two random replicas (Envoy's least_request, "power of two
//! choices"; load = requests outstanding at the replica).

use rand::RngExt;

use crate::engine::Stream;
use crate::scenario::spec::LoadBalancer;

/// Chooses among `n` replicas; `load(i)` is replica i's outstanding requests.
pub fn pick(
    policy: LoadBalancer,
    n: u32,
    cursor: &mut u32,
    rng: &mut Stream,
    load: impl Fn(u32) -> u32,
) -> u32 {
    if n <= 1 {
        return 0;
    }
    match policy {
        LoadBalancer::RoundRobin => {
            let i = *cursor % n;
            *cursor = cursor.wrapping_add(1);
            i
        }
        LoadBalancer::Random => rng.random_range(0..n),
        LoadBalancer::LeastRequest => {
            let a = rng.random_range(0..n);
            let b = (a + rng.random_range(1..n)) % n;
            if load(b) < load(a) { b } else { a }
        }
    }
}
