//! Names from traces made into scenario names.
//!
//! A scenario name is 1 to 100 characters without dots, control characters or
//! spaces at either end (docs/SCENARIO.md, "Names"). Trace names are free text
//! (`GET /v1.2/items`, `orders,`), so `import` writes them through
//! [`scenario_name`], and `fit` matches a trace's names to a scenario's through
//! the same function: the two always agree.

/// `raw` as a valid scenario name: dots and control characters become `_`,
/// spaces at either end and trailing commas go (aio-pika names a fanout
/// exchange `orders,`), the result is cut to 100 characters, and an empty
/// result is `unnamed`.
pub fn scenario_name(raw: &str) -> String {
    let cleaned: String = raw
        .trim()
        .trim_end_matches(',')
        .trim()
        .chars()
        .map(|c| if c == '.' || c.is_control() { '_' } else { c })
        .take(100)
        .collect();
    let cleaned = cleaned.trim_end();
    if cleaned.is_empty() {
        "unnamed".into()
    } else {
        cleaned.into()
    }
}

#[cfg(test)]
mod tests {
    use super::scenario_name;

    #[test]
    fn names_become_valid_scenario_names() {
        assert_eq!(scenario_name("GET /checkout"), "GET /checkout");
        assert_eq!(scenario_name("GET /v1.2/items"), "GET /v1_2/items");
        assert_eq!(scenario_name("orders,"), "orders");
        assert_eq!(scenario_name("  a\tb  "), "a_b");
        assert_eq!(scenario_name(" , "), "unnamed");
        assert_eq!(scenario_name(&"x".repeat(150)).len(), 100);
        // A cut that leaves a space at the end drops it.
        let long = format!("{} y", "x".repeat(99));
        assert_eq!(scenario_name(&long), "x".repeat(99));
    }
}
