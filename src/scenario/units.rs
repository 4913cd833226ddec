//! Units as people write them: `250us`, `1.5s`, `10000/s`, `99.9%`.
//!
//! Each parser takes the JSON form of a YAML scalar and returns the value in
//! engine units (nanoseconds, per-second rates, fractions) or a message and
//! what was expected, which resolution turns into a located [`super::Problem`].

use serde_json::Value;

use crate::engine::time::{HOUR, MICROSECOND, MILLISECOND, MINUTE, NANOSECOND, SECOND, Time};

/// Why a value was not accepted: what is wrong, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct Bad {
    pub message: String,
    pub expected: &'static str,
    /// A suggestion, such as "did you mean 100Mbit/s?".
    pub help: Option<String>,
}

pub(super) fn bad(message: impl Into<String>, expected: &'static str) -> Bad {
    Bad {
        message: message.into(),
        expected,
        help: None,
    }
}

impl Bad {
    /// The located problem of a value at `path`.
    pub fn at(self, path: &super::node::YamlPath) -> super::Problem {
        let p = super::Problem::new(path.clone(), self.message).expected(self.expected);
        match self.help {
            Some(h) => p.help(h),
            None => p,
        }
    }
}

pub const DURATION_EXPECTED: &str = "a duration with a unit, like 250us, 5ms, 1.5s, 2m or 1h";
pub const RATE_EXPECTED: &str = "a rate with a unit, like 10000/s or 600/m";
pub const FRACTION_EXPECTED: &str = "a fraction like 99.9% or 0.999";

/// Describes a JSON value the way the user wrote it, for messages.
pub fn shown(v: &Value) -> String {
    match v {
        Value::String(s) => format!("'{s}'"),
        Value::Null => "nothing".into(),
        Value::Array(_) => "a list".into(),
        Value::Object(_) => "a mapping".into(),
        other => other.to_string(),
    }
}

/// Splits "1.5ms" into (1.5, "ms").
pub(super) fn number_and_unit(s: &str) -> Option<(f64, &str)> {
    let s = s.trim();
    let end = s
        .char_indices()
        .find(|(_, c)| !(c.is_ascii_digit() || *c == '.' || *c == '-' || *c == '+'))
        .map_or(s.len(), |(i, _)| i);
    let n: f64 = s[..end].parse().ok()?;
    Some((n, s[end..].trim()))
}

/// Nanoseconds per unit of duration.
fn duration_unit(u: &str) -> Option<Time> {
    Some(match u {
        "ns" => NANOSECOND,
        "us" | "µs" | "μs" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" | "min" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// A duration in nanoseconds as a float (for distribution parameters).
pub fn duration_f64(v: &Value) -> Result<f64, Bad> {
    let s = match v {
        Value::String(s) => s,
        Value::Number(n) => {
            return Err(bad(
                format!("a bare number ({n}) is not a duration: say which unit"),
                DURATION_EXPECTED,
            ));
        }
        other => {
            return Err(bad(
                format!("{} is not a duration", shown(other)),
                DURATION_EXPECTED,
            ));
        }
    };
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| bad(format!("'{s}' is not a duration"), DURATION_EXPECTED))?;
    let per = duration_unit(unit).ok_or_else(|| {
        bad(
            format!("'{s}' has an unknown unit '{unit}' (ns, us, ms, s, m, h)"),
            DURATION_EXPECTED,
        )
    })?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad(format!("'{s}' is negative"), DURATION_EXPECTED));
    }
    Ok(n * per as f64)
}

/// A duration in integer nanoseconds.
pub fn duration(v: &Value) -> Result<Time, Bad> {
    let ns = duration_f64(v)?;
    if ns > (u64::MAX / 4) as f64 {
        return Err(bad(format!("{} is too long", shown(v)), DURATION_EXPECTED));
    }
    Ok(ns.round() as Time)
}

/// A rate in events per second.
pub fn rate(v: &Value) -> Result<f64, Bad> {
    let s = match v {
        Value::String(s) => s,
        Value::Number(n) => {
            return Err(bad(
                format!("a bare number ({n}) is not a rate: write it per unit of time, like {n}/s"),
                RATE_EXPECTED,
            ));
        }
        other => {
            return Err(bad(
                format!("{} is not a rate", shown(other)),
                RATE_EXPECTED,
            ));
        }
    };
    let (count, per) = s
        .split_once('/')
        .ok_or_else(|| bad(format!("'{s}' is not a rate"), RATE_EXPECTED))?;
    let n: f64 = count
        .trim()
        .parse()
        .map_err(|_| bad(format!("'{s}' is not a rate"), RATE_EXPECTED))?;
    let per = per.trim();
    // "/s" is per one second; "/100ms" and "/.5s" name their window.
    let per = if per
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_digit() || c == '.')
    {
        per.to_string()
    } else {
        format!("1{per}")
    };
    let window = duration_f64(&Value::String(per.clone())).map_err(|_| {
        bad(
            format!("'{s}' has an unknown time unit '{per}'"),
            RATE_EXPECTED,
        )
    })?;
    if !n.is_finite() || n < 0.0 {
        return Err(bad(format!("'{s}' is negative"), RATE_EXPECTED));
    }
    if window <= 0.0 {
        return Err(bad(format!("'{s}' divides by zero time"), RATE_EXPECTED));
    }
    Ok(n * SECOND as f64 / window)
}

/// A fraction in [0, 1], from `99.9%` or `0.999`.
pub fn fraction(v: &Value) -> Result<f64, Bad> {
    let f = match v {
        Value::Number(n) => n.as_f64().unwrap_or(f64::NAN),
        Value::String(s) => match s.trim().strip_suffix('%') {
            // "99.9e-2" parses to the nearest double of 0.999, unlike 99.9 / 100.
            Some(p) => format!("{}e-2", p.trim())
                .parse::<f64>()
                .unwrap_or(f64::NAN),
            None => s.trim().parse::<f64>().unwrap_or(f64::NAN),
        },
        other => {
            return Err(bad(
                format!("{} is not a fraction", shown(other)),
                FRACTION_EXPECTED,
            ));
        }
    };
    if f.is_nan() {
        return Err(bad(
            format!("{} is not a fraction", shown(v)),
            FRACTION_EXPECTED,
        ));
    }
    if !(0.0..=1.0).contains(&f) {
        return Err(bad(
            format!(
                "{} is out of range: a fraction is between 0 and 100%",
                shown(v)
            ),
            FRACTION_EXPECTED,
        ));
    }
    Ok(f)
}

pub const CORES_EXPECTED: &str =
    "a number of cores above zero, like 2, 0.5 or 500m (thousandths of a core), at most 100000";

/// CPU cores in thousandths of a core, from `2`, `0.5`, `"1.5"` or `500m`
/// (Kubernetes' millicores): above zero, whole thousandths, at most
/// [`super::resolve::limits::CORES`].
pub fn millicores(v: &Value) -> Result<u32, Bad> {
    let thousandths = match v {
        Value::Number(n) => n.as_f64().map(|c| c * 1000.0),
        Value::String(s) => match s.trim().strip_suffix('m').map(str::trim) {
            Some(m) if !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit()) => m.parse().ok(),
            Some(_) => None,
            None => s.trim().parse::<f64>().ok().map(|c| c * 1000.0),
        },
        _ => None,
    };
    let Some(m) = thousandths.filter(|m| m.is_finite()) else {
        return Err(bad(
            format!("{} is not a number of cores", shown(v)),
            CORES_EXPECTED,
        ));
    };
    let max = f64::from(super::resolve::limits::CORES) * 1000.0;
    let problem = if m < 0.0 {
        format!("{} cores is below zero", shown(v))
    } else if m == 0.0 {
        format!("{} cores leave no CPU: nothing could run", shown(v))
    } else if m > max {
        format!("{} cores is more than this tool simulates", shown(v))
    } else if (m - m.round()).abs() > 1e-6 || m.round() == 0.0 {
        format!("{} is finer than a thousandth of a core (1m)", shown(v))
    } else {
        return Ok(m.round() as u32);
    };
    Err(bad(problem, CORES_EXPECTED))
}

/// A plain positive number (distribution shapes, weights, factors).
pub fn positive_number(v: &Value) -> Result<f64, Bad> {
    match v.as_f64() {
        Some(f) if f.is_finite() && f > 0.0 => Ok(f),
        Some(_) => Err(bad(
            format!("{} must be greater than zero", shown(v)),
            "a positive number",
        )),
        None => Err(bad(
            format!("{} is not a number", shown(v)),
            "a positive number",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations() {
        assert_eq!(duration(&json!("250us")), Ok(250_000));
        assert_eq!(duration(&json!("1.5s")), Ok(1_500_000_000));
        assert_eq!(duration(&json!("2m")), Ok(120 * SECOND));
        assert_eq!(duration(&json!("1h")), Ok(3600 * SECOND));
        assert_eq!(duration(&json!("0s")), Ok(0));
        assert!(
            duration(&json!(5))
                .unwrap_err()
                .message
                .contains("bare number")
        );
        assert!(duration(&json!("5 parsecs")).is_err());
        assert!(duration(&json!("-5ms")).is_err());
    }

    #[test]
    fn rates() {
        assert_eq!(rate(&json!("10000/s")), Ok(10_000.0));
        assert_eq!(rate(&json!("600/m")), Ok(10.0));
        assert_eq!(rate(&json!("9.3/s")), Ok(9.3));
        assert_eq!(rate(&json!("5/100ms")), Ok(50.0));
        assert_eq!(rate(&json!("5/.5s")), Ok(10.0));
        assert!(rate(&json!("-3/s")).is_err());
        assert!(rate(&json!(100)).unwrap_err().message.contains("100/s"));
    }

    #[test]
    fn cores() {
        assert_eq!(millicores(&json!(2)), Ok(2000));
        assert_eq!(millicores(&json!(0.5)), Ok(500));
        assert_eq!(millicores(&json!("1.5")), Ok(1500));
        assert_eq!(millicores(&json!("250m")), Ok(250));
        assert_eq!(millicores(&json!(0.1)), Ok(100));
        for bad in [
            json!(0),
            json!(-1),
            json!("0m"),
            json!("-2m"),
            json!("1.5m"),
            json!(0.0001),
            json!("two"),
            json!(true),
            json!(200_000),
            json!("m"),
        ] {
            assert!(millicores(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn fractions() {
        assert_eq!(fraction(&json!("99.9%")), Ok(0.999));
        assert_eq!(fraction(&json!(0.5)), Ok(0.5));
        assert!(fraction(&json!("120%")).is_err());
        assert!(fraction(&json!(-0.1)).is_err());
    }
}
