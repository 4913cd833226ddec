//! What the benches share: their one argument.

/// The repetitions asked for on the command line (`cargo bench --bench NAME
/// -- N`; cargo passes `--bench` too), else 5.
pub fn repetitions() -> usize {
    std::env::args()
        .skip(1)
        .find_map(|a| a.parse::<usize>().ok())
        .unwrap_or(5)
        .max(1)
}
