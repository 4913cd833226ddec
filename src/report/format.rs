//! Numbers as people read them, shared by the tables, the pages and the
//! charts: trimmed decimals, short tick labels, counts with thousands
//! separated, and figures with their units.

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

/// A count, rounded, thousands separated: 96064.2 → "96,064".
pub fn count(x: f64) -> String {
    let grouped = crate::model::budget::thousands(x.abs().round() as u64);
    if x.round() < 0.0 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// What a figure is, and so how it is printed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// Milliseconds, to the microsecond: "25.515 ms".
    Ms,
    /// A share printed as a percentage to three decimals: 0.99985 → "99.985%".
    Percent,
    /// A count: "96,064".
    Count,
    /// A rate: "9,994/s" (two decimals under 100).
    PerSecond,
}

impl Unit {
    fn number(self, x: f64) -> String {
        match self {
            Unit::Ms => format!("{x:.3}"),
            Unit::Percent => format!("{:.3}", x * 100.0),
            Unit::Count => count(x),
            Unit::PerSecond if x.abs() < 100.0 => format!("{x:.2}"),
            Unit::PerSecond => count(x),
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Unit::Ms => " ms",
            Unit::Percent => "%",
            Unit::Count => "",
            Unit::PerSecond => "/s",
        }
    }

    /// The figure with its unit.
    pub fn show(self, x: f64) -> String {
        format!("{}{}", self.number(x), self.suffix())
    }

    /// A mean ± the half-width of its interval, with the unit once:
    /// "9.064 ± 0.029 ms", "99.906 ± 0.011%", "100,031 ± 558". Without a
    /// finite half-width (one replication), the mean alone.
    pub fn show_pm(self, mean: f64, half: Option<f64>) -> String {
        match half.filter(|h| h.is_finite()) {
            Some(h) => format!(
                "{} ± {}{}",
                self.number(mean),
                self.number(h),
                self.suffix()
            ),
            None => self.show(mean),
        }
    }
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

    #[test]
    fn figures_with_their_units() {
        assert_eq!(count(96064.2), "96,064");
        assert_eq!(count(999.6), "1,000");
        assert_eq!(count(-1234567.0), "-1,234,567");
        assert_eq!(count(12.0), "12");
        assert_eq!(Unit::Percent.show(0.99985), "99.985%");
        assert_eq!(Unit::Count.show_pm(96064.2, Some(445.332)), "96,064 ± 445");
        assert_eq!(Unit::Ms.show_pm(9.0637, Some(0.0291)), "9.064 ± 0.029 ms");
        assert_eq!(
            Unit::Percent.show_pm(0.99906, Some(0.00011)),
            "99.906 ± 0.011%"
        );
        assert_eq!(Unit::PerSecond.show(9993.6), "9,994/s");
        assert_eq!(Unit::Ms.show_pm(25.5, Some(f64::INFINITY)), "25.500 ms");
    }
}
