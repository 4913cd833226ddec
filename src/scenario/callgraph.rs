//! The call graph of the endpoints: who calls whom, and how often on average
//! (the probability of reaching the call, through branches, times its
//! fan-out). A call cycle is refused unless it passes a branch: only then
//! does it end with probability 1. The expected calls of one request are the
//! solution of the traffic equations, and must be finite and bounded.
//! Part of [`super::resolve`].

use super::error::Problem;
use super::node::YamlPath;
use super::resolve::{Resolver, limits};
use super::services::World;
use super::steps::endpoint_name;

/// One call step (or call in a `parallel`) of an endpoint.
pub(super) struct CallEdge {
    pub from: usize,
    pub to: usize,
    /// Probability that a run of `from`'s steps reaches the call.
    pub probability: f64,
    pub fanout: u32,
    pub path: YamlPath,
}

impl CallEdge {
    /// Calls made on average per run of `from`.
    fn expected(&self) -> f64 {
        self.probability * f64::from(self.fanout)
    }
    /// Made on every run of `from`: no branch on the way.
    fn certain(&self) -> bool {
        self.probability >= 1.0
    }
}

/// Largest strongly connected part of the call graph whose traffic equations are solved.
const CYCLE_ENDPOINTS: usize = 500;

/// Refuses call trees whose expected calls are infinite or past what memory
/// can hold: calls(e) = Σ over e's calls of p × fanout × (1 + calls(target)),
/// solved per strongly connected part of the graph, callees first.
pub(super) fn check_call_volume(r: &mut Resolver, w: &World) {
    let calls = match expected_calls(&w.call_paths, w.endpoints.len()) {
        Ok(calls) => calls,
        Err((part, why)) => {
            // The first call of the file that stays inside the cycle.
            let inside = |e: usize| part.contains(&e);
            let edge = w.call_paths.iter().find(|e| inside(e.from) && inside(e.to));
            let edge = edge.expect("a strongly connected part with a cycle has a call inside");
            r.push(Problem::new(edge.path.clone(), format!("calls through {} never end on average: {why}", endpoint_name(w, edge.from))).expected("branch probabilities × fan-outs around each call cycle that lead back less than once per pass").help("lower the probability of the call that leads back, or its fan-out"));
            return;
        }
    };
    for edge in &w.call_paths {
        let n = calls[edge.from];
        if n > limits::CALLS_PER_REQUEST {
            r.push(Problem::new(edge.path.clone(), format!("one request to {} causes {n:.0} calls in all (fan-outs multiply down the chain)", endpoint_name(w, edge.from))).expected(format!("at most {} calls per request", limits::CALLS_PER_REQUEST)));
            return;
        }
    }
}

/// The expected calls one request to each of the `n` endpoints causes, or
/// the strongly connected part whose cycle never ends on average, and why.
fn expected_calls(edges: &[CallEdge], n: usize) -> Result<Vec<f64>, (Vec<usize>, String)> {
    let mut out: Vec<Vec<&CallEdge>> = vec![Vec::new(); n];
    for e in edges {
        out[e.from].push(e);
    }
    let mut calls = vec![0.0f64; n];
    for part in strong_parts(&out) {
        if let Err(why) = solve(&part, &out, &mut calls) {
            return Err((part, why));
        }
    }
    Ok(calls)
}

/// The strongly connected parts of the graph (Tarjan's algorithm, without
/// recursion), each listed after every part it calls into.
fn strong_parts(out: &[Vec<&CallEdge>]) -> Vec<Vec<usize>> {
    const UNSEEN: usize = usize::MAX;
    let n = out.len();
    let (mut index, mut low) = (vec![UNSEEN; n], vec![0; n]);
    let (mut on_stack, mut stack, mut parts) = (vec![false; n], Vec::new(), Vec::new());
    let mut next = 0;
    for root in 0..n {
        if index[root] != UNSEEN {
            continue;
        }
        let mut dfs: Vec<(usize, usize)> = vec![(root, 0)];
        while let Some(&mut (v, ref mut i)) = dfs.last_mut() {
            if *i == 0 {
                (index[v], low[v]) = (next, next);
                next += 1;
                stack.push(v);
                on_stack[v] = true;
            }
            if let Some(edge) = out[v].get(*i) {
                *i += 1;
                let to = edge.to;
                if index[to] == UNSEEN {
                    dfs.push((to, 0));
                } else if on_stack[to] {
                    low[v] = low[v].min(index[to]);
                }
                continue;
            }
            dfs.pop();
            if let Some(&(parent, _)) = dfs.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut part = Vec::new();
                while let Some(x) = stack.pop() {
                    on_stack[x] = false;
                    part.push(x);
                    if x == v {
                        break;
                    }
                }
                parts.push(part);
            }
        }
    }
    parts
}

/// Solves calls(e) for the endpoints of one part, the parts it calls known:
/// (I − M) x = b, M the expected calls inside the part. The answer is finite
/// and non-negative exactly when every cycle is left on average (spectral
/// radius of M below 1); otherwise the system is singular or its solution negative.
fn solve(part: &[usize], out: &[Vec<&CallEdge>], calls: &mut [f64]) -> Result<(), String> {
    let k = part.len();
    let local = |e: usize| part.iter().position(|&x| x == e);
    if k == 1 && !out[part[0]].iter().any(|e| e.to == part[0]) {
        calls[part[0]] = out[part[0]]
            .iter()
            .map(|e| e.expected() * (1.0 + calls[e.to]))
            .sum();
        return Ok(());
    }
    if k > CYCLE_ENDPOINTS {
        return Err(format!(
            "a call cycle through {k} endpoints is more than {CYCLE_ENDPOINTS}, the most checked"
        ));
    }
    // The augmented matrix [I − M | b], row i for endpoint part[i].
    let mut a = vec![vec![0.0f64; k + 1]; k];
    for (i, &e) in part.iter().enumerate() {
        a[i][i] = 1.0;
        for edge in &out[e] {
            let x = edge.expected();
            match local(edge.to) {
                Some(j) => {
                    a[i][j] -= x;
                    a[i][k] += x;
                }
                None => a[i][k] += x * (1.0 + calls[edge.to]),
            }
        }
    }
    for col in 0..k {
        let pivot = (col..k)
            .max_by(|&x, &y| a[x][col].abs().total_cmp(&a[y][col].abs()))
            .expect("rows left");
        if a[pivot][col].abs() < 1e-9 {
            return Err("each pass leads back at least once".into());
        }
        a.swap(col, pivot);
        let pivot_row = a[col].clone();
        for (row, r) in a.iter_mut().enumerate() {
            if row != col && r[col] != 0.0 {
                let f = r[col] / pivot_row[col];
                for (x, p) in r[col..].iter_mut().zip(&pivot_row[col..]) {
                    *x -= f * p;
                }
            }
        }
    }
    for (i, &e) in part.iter().enumerate() {
        let x = a[i][k] / a[i][i];
        if !x.is_finite() || x < 0.0 {
            return Err("each pass leads back more than once".into());
        }
        calls[e] = x;
    }
    Ok(())
}

/// Reports every call cycle that no branch can leave, once, at the call that
/// closes it; true when there is none.
pub(super) fn check_cycles(r: &mut Resolver, w: &World) -> bool {
    let before = r.count();
    let n = w.endpoints.len();
    let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
    for e in w.call_paths.iter().filter(|e| e.certain()) {
        edges[e.from].push(e.to);
    }
    // 0 = unseen, 1 = on the stack, 2 = done.
    let mut state = vec![0u8; n];
    for start in 0..n {
        if state[start] != 0 {
            continue;
        }
        let mut stack: Vec<(usize, usize)> = vec![(start, 0)];
        state[start] = 1;
        while let Some(&mut (node, ref mut next)) = stack.last_mut() {
            if let Some(&to) = edges[node].get(*next) {
                *next += 1;
                match state[to] {
                    0 => {
                        state[to] = 1;
                        stack.push((to, 0));
                    }
                    1 => {
                        let pos = stack.iter().position(|(e, _)| *e == to).unwrap_or(0);
                        let mut names: Vec<String> = stack[pos..]
                            .iter()
                            .map(|(e, _)| endpoint_name(w, *e))
                            .collect();
                        names.push(endpoint_name(w, to));
                        let path = w
                            .call_paths
                            .iter()
                            .find(|e| e.from == node && e.to == to && e.certain())
                            .map(|e| e.path.clone())
                            .unwrap_or_default();
                        r.push(Problem::new(path, format!("call cycle: {}", names.join(" -> "))).expected("calls that never lead back to the caller, or a cycle that passes a branch").help("a synchronous call cycle taken every time never finishes; break it, make one hop an event, or take one call with a probability below 1"));
                    }
                    _ => {}
                }
            } else {
                state[node] = 2;
                stack.pop();
            }
        }
    }
    r.count() == before
}

#[cfg(test)]
mod tests {
    use super::*;

    fn edge(from: usize, to: usize, probability: f64, fanout: u32) -> CallEdge {
        CallEdge {
            from,
            to,
            probability,
            fanout,
            path: YamlPath::default(),
        }
    }

    #[test]
    fn routing_and_feedback_solve_the_traffic_equations() {
        // 0 → 1 at 30%, 0 → 2 at 70%, 2 → 1 twice: calls(0) = 0.3 + 0.7 × 3.
        let tree = [edge(0, 1, 0.3, 1), edge(0, 2, 0.7, 1), edge(2, 1, 1.0, 2)];
        let calls = expected_calls(&tree, 3).unwrap();
        assert!((calls[0] - 2.4).abs() < 1e-12, "{calls:?}");
        // 0 → 0 at 50% and 0 → 1 always: calls(0) = 0.5 (1 + calls(0)) + 1 = 3.
        let feedback = [edge(0, 0, 0.5, 1), edge(0, 1, 1.0, 1)];
        let calls = expected_calls(&feedback, 2).unwrap();
        assert!((calls[0] - 3.0).abs() < 1e-12, "{calls:?}");
        // 0 → 1 → 0 at 50%, 1 → 2 always: calls(1) = 1 + 0.5 (1 + calls(0)),
        // calls(0) = 1 + calls(1), so calls(0) = 5 and calls(1) = 4.
        let cycle = [edge(0, 1, 1.0, 1), edge(1, 0, 0.5, 1), edge(1, 2, 1.0, 1)];
        let calls = expected_calls(&cycle, 3).unwrap();
        assert!((calls[0] - 5.0).abs() < 1e-9 && (calls[1] - 4.0).abs() < 1e-9);
    }

    #[test]
    fn a_cycle_that_leads_back_once_a_pass_or_more_is_refused() {
        let once = [edge(0, 1, 1.0, 1), edge(1, 0, 0.5, 2)];
        assert!(
            expected_calls(&once, 2)
                .unwrap_err()
                .1
                .contains("at least once")
        );
        let more = [edge(0, 0, 0.6, 2)];
        assert!(
            expected_calls(&more, 1)
                .unwrap_err()
                .1
                .contains("more than once")
        );
    }
}
