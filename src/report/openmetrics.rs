//! A small OpenMetrics text encoder (<https://prometheus.io/docs/specs/om/open_metrics_spec/>)
//! for samples that carry their own timestamps, many per series: what a
//! backfill (`promtool tsdb create-blocks-from openmetrics`) reads. The
//! `prometheus-client` crate encodes one current value per series without
//! timestamps (its timestamp support, client_rust#126, is still open), so it
//! cannot write a run's history.

use std::fmt::Write as _;

/// The type of a metric family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

/// Writes families one after the other; [`Encoder::finish`] adds `# EOF`.
pub struct Encoder {
    out: String,
    /// The instant of simulated time 0, in ms since the Unix epoch.
    start_ms: i64,
}

impl Encoder {
    pub fn new(start_ms: i64) -> Self {
        Encoder {
            out: String::new(),
            start_ms,
        }
    }

    /// Starts a family: its `# TYPE`, `# UNIT` (when `unit` is not empty;
    /// the name must then end with it) and `# HELP` lines.
    pub fn family(&mut self, name: &str, kind: Kind, unit: &str, help: &str) {
        debug_assert!(unit.is_empty() || name.ends_with(unit));
        let _ = writeln!(self.out, "# TYPE {name} {}", kind.name());
        if !unit.is_empty() {
            let _ = writeln!(self.out, "# UNIT {name} {unit}");
        }
        let _ = writeln!(self.out, "# HELP {name} {}", escape_help(help));
    }

    /// One sample at simulated time `t_ns`.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: f64, t_ns: u64) {
        self.out.push_str(name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape_label(v));
            }
            self.out.push('}');
        }
        let _ = writeln!(
            self.out,
            " {} {}",
            number(value),
            timestamp(self.start_ms, t_ns)
        );
    }

    pub fn finish(mut self) -> Vec<u8> {
        self.out.push_str("# EOF\n");
        self.out.into_bytes()
    }
}

/// A label value with `\`, `"` and line feeds escaped.
pub fn escape_label(v: &str) -> String {
    let mut s = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\\' => s.push_str("\\\\"),
            '"' => s.push_str("\\\""),
            '\n' => s.push_str("\\n"),
            c => s.push(c),
        }
    }
    s
}

/// HELP text: `\` and line feeds escaped.
fn escape_help(v: &str) -> String {
    v.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A value: integers without a fraction, NaN and infinities as the spec spells them.
pub fn number(v: f64) -> String {
    if v.is_nan() {
        "NaN".into()
    } else if v.is_infinite() {
        if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        }
    } else {
        format!("{v}")
    }
}

/// Seconds since the epoch, with at most millisecond precision (Prometheus
/// keeps milliseconds), trailing zeros of the fraction left out.
pub fn timestamp(start_ms: i64, t_ns: u64) -> String {
    let ms = start_ms + (t_ns / 1_000_000) as i64;
    let (secs, frac) = (ms.div_euclid(1000), ms.rem_euclid(1000));
    if frac == 0 {
        format!("{secs}")
    } else {
        let f = format!("{frac:03}");
        format!("{secs}.{}", f.trim_end_matches('0'))
    }
}

/// Parses `--metrics-start`: an RFC 3339 instant (`2026-01-01T00:00:00Z`,
/// `2026-01-01T01:00:00.5+01:00`) or seconds since the epoch; ms since the epoch.
pub fn parse_start(s: &str) -> Result<i64, String> {
    let bad = || {
        format!("expected an RFC 3339 instant (2026-01-01T00:00:00Z) or epoch seconds, not '{s}'")
    };
    if let Ok(secs) = s.parse::<f64>() {
        return (secs.is_finite() && secs.abs() < 1e13)
            .then(|| (secs * 1000.0).round() as i64)
            .ok_or_else(bad);
    }
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return Err(bad());
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<i64>().ok());
    let (y, mo, d) = (num(0..4), num(5..7), num(8..10));
    let (h, mi, se) = (num(11..13), num(14..16), num(17..19));
    let (Some(y), Some(mo), Some(d), Some(h), Some(mi), Some(se)) = (y, mo, d, h, mi, se) else {
        return Err(bad());
    };
    if b[13] != b':' || b[16] != b':' || !(1..=12).contains(&mo) || !(1..=31).contains(&d) {
        return Err(bad());
    }
    let mut rest = &s[19..];
    let mut ms = 0;
    if let Some(f) = rest.strip_prefix('.') {
        let digits = f.bytes().take_while(u8::is_ascii_digit).count();
        let frac = format!("{:0<3}", &f[..digits.min(3)]);
        ms = frac.parse::<i64>().map_err(|_| bad())?;
        rest = &f[digits..];
    }
    let offset_min = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6 && rest.as_bytes()[3] == b':' => {
            let sign = match rest.as_bytes()[0] {
                b'+' => 1,
                b'-' => -1,
                _ => return Err(bad()),
            };
            let (oh, om) = (rest[1..3].parse::<i64>(), rest[4..6].parse::<i64>());
            let (Ok(oh), Ok(om)) = (oh, om) else {
                return Err(bad());
            };
            sign * (oh * 60 + om)
        }
        _ => return Err(bad()),
    };
    let days = days_from_civil(y, mo, d);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_min * 60;
    Ok(secs * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_instants_parse_to_epoch_ms() {
        assert_eq!(parse_start("2026-01-01T00:00:00Z"), Ok(1_767_225_600_000));
        assert_eq!(parse_start("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_start("2000-02-29T12:34:56.789Z"), Ok(951_827_696_789));
        assert_eq!(
            parse_start("2026-01-01T01:00:00.5+01:00"),
            Ok(1_767_225_600_500)
        );
        assert_eq!(parse_start("1767225600"), Ok(1_767_225_600_000));
        assert_eq!(parse_start("1767225600.25"), Ok(1_767_225_600_250));
        for bad in [
            "",
            "yesterday",
            "2026-13-01T00:00:00Z",
            "2026-01-01T00:00:00",
            "inf",
        ] {
            assert!(parse_start(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn samples_escape_labels_and_carry_second_timestamps() {
        let mut e = Encoder::new(1_767_225_600_000);
        e.family("x_seconds", Kind::Histogram, "seconds", "a \\ b\nc");
        e.sample(
            "x_seconds_bucket",
            &[("w", "a\"b\\c\nd"), ("le", "+Inf")],
            3.0,
            1_500_000_000,
        );
        e.sample("x_seconds_count", &[], 0.25, 2_000_000_000);
        e.family("y", Kind::Gauge, "", "y");
        e.sample("y", &[], f64::INFINITY, 1_234_567);
        let text = String::from_utf8(e.finish()).unwrap();
        assert_eq!(
            text,
            "# TYPE x_seconds histogram\n# UNIT x_seconds seconds\n# HELP x_seconds a \\\\ b\\nc\n\
             x_seconds_bucket{w=\"a\\\"b\\\\c\\nd\",le=\"+Inf\"} 3 1767225601.5\n\
             x_seconds_count 0.25 1767225602\n\
             # TYPE y gauge\n# HELP y y\ny +Inf 1767225600.001\n# EOF\n"
        );
        assert_eq!(timestamp(0, 20_000_000), "0.02");
        assert_eq!(
            (number(f64::NAN), number(-0.5)),
            ("NaN".into(), "-0.5".into())
        );
    }
}
