//! Numbers as people read them, shared by the tables, the pages and the
//! charts: trimmed decimals, short tick labels.

/// `x` to `n` decimals, without trailing zeros: 25.510 → "25.51", 2.000 → "2".
pub fn decimals(x: f64, n: usize) -> String {
    let s = format!("{x:.n$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// 0.5, 12, 1.5k, 2M: short tick labels.
pub fn short_number(v: f64) -> String {
    let a = v.abs();
    let (x, suffix) = if a >= 1e6 {
        (v / 1e6, "M")
    } else if a >= 1e4 {
        (v / 1e3, "k")
    } else {
        (v, "")
    };
    if x != 0.0 && x.abs() < 0.01 {
        // Tiny ticks (a run of a few milliseconds): keep two significant digits.
        return format!("{:.1e}", x);
    }
    let s = if (x - x.round()).abs() < 1e-9 {
        format!("{x:.0}")
    } else if x.abs() >= 10.0 {
        format!("{x:.1}")
    } else {
        decimals(x, 3)
    };
    format!("{s}{suffix}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_numbers() {
        assert_eq!(short_number(0.5), "0.5");
        assert_eq!(short_number(12.0), "12");
        assert_eq!(short_number(15000.0), "15k");
        assert_eq!(short_number(2_500_000.0), "2.5M");
        assert_eq!(short_number(0.0004), "4.0e-4");
    }
}
