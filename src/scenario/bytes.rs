//! Sizes and bandwidths as people write them: `2KB`, `1.5MiB`, `100Mbit/s`, `10MB/s`.
//!
//! Sizes are in bytes, decimal by default as in networking (`2KB` = 2,000
//! bytes, `1MB` = 10⁶), binary with an `i` (`1KiB` = 1,024 bytes). A bandwidth
//! is bits per second (`bit/s`, `kbit/s`, `Mbit/s`, `Gbit/s`, `Tbit/s`) or bytes
//! per second (a size unit and `/s`). The spellings that mean something else
//! elsewhere (`Mbps`, `Mb/s`, `kb`) are refused with the spelling meant.

use serde_json::Value;

use super::units::{Bad, bad, number_and_unit, shown};

pub const SIZE_EXPECTED: &str =
    "a size with a unit, like 512B, 2KB, 1.5MB, 1GB (decimal) or 64KiB, 1MiB (binary)";
pub const BANDWIDTH_EXPECTED: &str =
    "a bandwidth above zero, like 100Mbit/s, 1Gbit/s or 10MB/s (bytes per second)";

/// The largest size one message may have: 1 TB.
pub const MAX_SIZE: f64 = 1e12;
/// The largest bandwidth: 100 Tbit/s, in bytes per second.
pub const MAX_BANDWIDTH: f64 = 12.5e12;

/// Bytes per unit of size.
fn size_unit(u: &str) -> Option<f64> {
    Some(match u {
        "B" => 1.0,
        "kB" | "KB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        "KiB" => 1024.0,
        "MiB" => 1024.0 * 1024.0,
        "GiB" => 1024.0 * 1024.0 * 1024.0,
        "TiB" => 1024.0 * 1024.0 * 1024.0 * 1024.0,
        _ => return None,
    })
}

/// Bits per second per unit of bandwidth written in bits.
fn bit_rate_unit(u: &str) -> Option<f64> {
    Some(match u {
        "bit/s" => 1.0,
        "kbit/s" | "Kbit/s" => 1e3,
        "Mbit/s" => 1e6,
        "Gbit/s" => 1e9,
        "Tbit/s" => 1e12,
        _ => return None,
    })
}

/// The size unit a misspelt one probably meant (`kb` → `KB`, `K` → `KB`).
fn meant_size(u: &str) -> Option<&'static str> {
    Some(match u {
        "b" | "byte" | "bytes" => "B",
        "k" | "K" | "kb" | "Kb" | "kiB" => "KB",
        "m" | "M" | "mb" | "Mb" => "MB",
        "g" | "G" | "gb" | "Gb" => "GB",
        _ => return None,
    })
}

/// The bandwidth unit a common other spelling means (`Mbps` → `Mbit/s`).
fn meant_bandwidth(u: &str) -> Option<&'static str> {
    Some(match u {
        "bps" | "b/s" | "bits/s" => "bit/s",
        "kbps" | "Kbps" | "kb/s" | "Kb/s" | "kbit" => "kbit/s",
        "Mbps" | "mbps" | "Mb/s" | "mb/s" | "Mbit" | "mbit/s" => "Mbit/s",
        "Gbps" | "gbps" | "Gb/s" | "gb/s" | "Gbit" | "gbit/s" => "Gbit/s",
        "Tbps" | "Tb/s" | "Tbit" => "Tbit/s",
        "Bps" => "B/s",
        "KBps" | "kBps" => "KB/s",
        "MBps" => "MB/s",
        "GBps" => "GB/s",
        _ => return None,
    })
}

fn text<'a>(
    v: &'a Value,
    what: &str,
    expected: &'static str,
    example: &str,
) -> Result<&'a str, Bad> {
    match v {
        Value::String(s) => Ok(s),
        Value::Number(n) => Err(Bad {
            help: Some(format!("did you mean {n}{example}?")),
            ..bad(
                format!("a bare number ({n}) is not a {what}: say which unit"),
                expected,
            )
        }),
        other => Err(bad(format!("{} is not a {what}", shown(other)), expected)),
    }
}

/// A size in bytes (as a float, for distribution parameters).
pub fn size_f64(v: &Value) -> Result<f64, Bad> {
    let s = text(v, "size", SIZE_EXPECTED, "B")?;
    let (n, unit) =
        number_and_unit(s).ok_or_else(|| bad(format!("'{s}' is not a size"), SIZE_EXPECTED))?;
    let Some(per) = size_unit(unit) else {
        let mut b = bad(
            format!("'{s}' has an unknown unit '{unit}' (B, KB, MB, GB, KiB, MiB, GiB)"),
            SIZE_EXPECTED,
        );
        b.help = meant_size(unit).map(|m| format!("did you mean {n}{m}? sizes are in bytes"));
        if unit.ends_with("/s") {
            b.help = Some("a size has no '/s'; bandwidth belongs to links".into());
        }
        return Err(b);
    };
    if !n.is_finite() || n < 0.0 {
        return Err(Bad {
            help: Some(format!("did you mean {}{unit}? a size is zero or more", -n)),
            ..bad(format!("'{s}' is negative"), SIZE_EXPECTED)
        });
    }
    let bytes = n * per;
    if bytes > MAX_SIZE {
        return Err(bad(format!("'{s}' is larger than 1TB"), SIZE_EXPECTED));
    }
    Ok(bytes)
}

/// A bandwidth in bytes per second, above zero.
pub fn bandwidth(v: &Value) -> Result<f64, Bad> {
    let s = text(v, "bandwidth", BANDWIDTH_EXPECTED, "Mbit/s")?;
    let (n, unit) = number_and_unit(s)
        .ok_or_else(|| bad(format!("'{s}' is not a bandwidth"), BANDWIDTH_EXPECTED))?;
    let per = match (
        bit_rate_unit(unit),
        unit.strip_suffix("/s").and_then(size_unit),
    ) {
        (Some(bits), _) => bits / 8.0,
        (None, Some(bytes)) => bytes,
        (None, None) => {
            let mut b = bad(
                format!(
                    "'{s}' has an unknown unit '{unit}' (bit/s, kbit/s, Mbit/s, Gbit/s, or B/s, KB/s, MB/s, GB/s)"
                ),
                BANDWIDTH_EXPECTED,
            );
            b.help = meant_bandwidth(unit)
                .map(|m| format!("did you mean {n}{m}?"))
                .or_else(|| size_unit(unit).map(|_| format!("did you mean {n}{unit}/s?")));
            return Err(b);
        }
    };
    if !n.is_finite() || n < 0.0 {
        return Err(Bad {
            help: Some(format!("did you mean {}{unit}?", -n)),
            ..bad(format!("'{s}' is negative"), BANDWIDTH_EXPECTED)
        });
    }
    if n == 0.0 {
        return Err(Bad {
            help: Some("leave bandwidth out for a link that serialises instantly".into()),
            ..bad(
                format!("'{s}' is zero: nothing would ever cross the link"),
                BANDWIDTH_EXPECTED,
            )
        });
    }
    let rate = n * per;
    if rate > MAX_BANDWIDTH {
        return Err(bad(
            format!("'{s}' is more than 100Tbit/s"),
            BANDWIDTH_EXPECTED,
        ));
    }
    Ok(rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sizes() {
        assert_eq!(size_f64(&json!("2KB")), Ok(2000.0));
        assert_eq!(size_f64(&json!("2kB")), Ok(2000.0));
        assert_eq!(size_f64(&json!("1.5MB")), Ok(1.5e6));
        assert_eq!(size_f64(&json!("1KiB")), Ok(1024.0));
        assert_eq!(size_f64(&json!("0B")), Ok(0.0));
        assert!(size_f64(&json!("-2KB")).is_err());
        let b = size_f64(&json!(2000)).unwrap_err();
        assert_eq!(b.help.as_deref(), Some("did you mean 2000B?"));
        let b = size_f64(&json!("2kb")).unwrap_err();
        assert!(b.help.unwrap().contains("2KB"));
    }

    #[test]
    fn bandwidths() {
        assert_eq!(bandwidth(&json!("100Mbit/s")), Ok(12.5e6));
        assert_eq!(bandwidth(&json!("1Gbit/s")), Ok(1.25e8));
        assert_eq!(bandwidth(&json!("10MB/s")), Ok(1e7));
        assert!(bandwidth(&json!("0Mbit/s")).is_err());
        let b = bandwidth(&json!("100Mbps")).unwrap_err();
        assert_eq!(b.help.as_deref(), Some("did you mean 100Mbit/s?"));
        let b = bandwidth(&json!("10MB")).unwrap_err();
        assert_eq!(b.help.as_deref(), Some("did you mean 10MB/s?"));
    }
}
