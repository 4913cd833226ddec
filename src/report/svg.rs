//! Line charts as inline SVG, with no dependencies: axes with ticks, one
//! polyline per series (dashed for theory), 95% interval whiskers, and a
//! red dashed target line. Every label is escaped.

use std::fmt::Write as _;

/// Styles shared by the HTML pages.
pub const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:2em;color:#222;max-width:1100px}\
svg{background:#fff;border:1px solid #ddd;margin:0.5em 0}table{border-collapse:collapse;font-size:0.9em}\
td,th{border:1px solid #ccc;padding:0.2em 0.6em;text-align:right}th{background:#f4f4f4}";

/// Escapes text for HTML and SVG (element content and attribute values).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub struct Series {
    pub label: String,
    /// (x, y, y low, y high)
    pub points: Vec<(f64, f64, f64, f64)>,
    pub dashed: bool,
    /// Index into the palette (a theory line takes its simulated series' colour).
    pub color: usize,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    pub target: Option<f64>,
    pub log_y: bool,
}

const COLORS: [&str; 8] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#17becf",
];
const W: f64 = 760.0;
const H: f64 = 360.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 200.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 50.0;

/// About five round tick values covering [lo, hi].
fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    (0..=12)
        .map(|i| first + i as f64 * step)
        .take_while(|v| *v <= hi + step * 1e-9)
        .collect()
}

/// A tick label with as many decimals as the tick step needs.
fn fmt(v: f64, step: f64) -> String {
    let decimals = (-step.log10().floor()).clamp(0.0, 9.0) as usize;
    if v.abs() >= 1e7 {
        format!("{v:.2e}")
    } else {
        format!("{v:.decimals$}")
    }
}

fn step_of(ticks: &[f64]) -> f64 {
    if ticks.len() > 1 {
        ticks[1] - ticks[0]
    } else {
        1.0
    }
}

impl Chart {
    pub fn svg(&self) -> String {
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, _, lo, hi) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            if lo.is_finite() {
                y0 = y0.min(lo);
            }
            if hi.is_finite() {
                y1 = y1.max(hi);
            }
        }
        if let Some(t) = self.target {
            y0 = y0.min(t);
            y1 = y1.max(t);
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        if x1 == x0 {
            x1 = x0 + 1.0;
        }
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let pad = (y1 - y0) * 0.05;
        let (y0, y1) = (
            if y0 >= 0.0 {
                (y0 - pad).max(0.0)
            } else {
                y0 - pad
            },
            y1 + pad,
        );
        let px = |x: f64| LEFT + (x - x0) / (x1 - x0) * (W - LEFT - RIGHT);
        let py = |y: f64| TOP + (1.0 - (y - y0) / (y1 - y0)) * (H - TOP - BOTTOM);
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
            escape(&self.title)
        );
        let _ = write!(
            s,
            "<text x=\"{LEFT}\" y=\"22\" font-size=\"15\" font-weight=\"bold\">{}</text>",
            escape(&self.title)
        );
        let (bx, by) = (H - BOTTOM, W - RIGHT);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{bx}\" x2=\"{by}\" y2=\"{bx}\" stroke=\"#333\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{bx}\" stroke=\"#333\"/>"
        );
        let xt = ticks(x0, x1);
        let xs = step_of(&xt);
        for t in xt {
            let x = px(t);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{bx}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333\"/><text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
                bx + 4.0,
                bx + 16.0,
                fmt(t, xs)
            );
        }
        let yt = ticks(y0, y1);
        let ys = step_of(&yt);
        for t in yt {
            let y = py(t);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{by}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"end\">{}</text>",
                LEFT - 4.0,
                y + 4.0,
                fmt(t, ys)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\">{}</text>",
            (LEFT + W - RIGHT) / 2.0,
            H - 12.0,
            escape(&self.x_label)
        );
        let _ = write!(
            s,
            "<text x=\"14\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"middle\" transform=\"rotate(-90 14 {:.1})\">{}</text>",
            (TOP + bx) / 2.0,
            (TOP + bx) / 2.0,
            escape(&self.y_label)
        );
        if let Some(t) = self.target {
            let y = py(t);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{by}\" y2=\"{y:.1}\" stroke=\"#d62728\" stroke-width=\"1.5\" stroke-dasharray=\"6 4\"/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\" fill=\"#d62728\">SLO {}</text>",
                LEFT + 4.0,
                y - 4.0,
                fmt(t, ys / 10.0)
            );
        }
        for (i, series) in self.series.iter().enumerate() {
            let color = COLORS[series.color % COLORS.len()];
            let path: Vec<String> = series
                .points
                .iter()
                .map(|&(x, y, _, _)| format!("{:.1},{:.1}", px(x), py(y)))
                .collect();
            let dash = if series.dashed {
                " stroke-dasharray=\"4 3\""
            } else {
                ""
            };
            let _ = write!(
                s,
                "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash} points=\"{}\"/>",
                path.join(" ")
            );
            for &(x, y, lo, hi) in &series.points {
                if !series.dashed {
                    if lo.is_finite() && hi.is_finite() && hi > lo {
                        let _ = write!(
                            s,
                            "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"{color}\"/>",
                            px(x),
                            py(lo),
                            px(x),
                            py(hi)
                        );
                    }
                    let _ = write!(
                        s,
                        "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>",
                        px(x),
                        py(y)
                    );
                }
            }
            let ly = TOP + 16.0 * i as f64;
            let _ = write!(
                s,
                "<line x1=\"{:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/><text x=\"{:.1}\" y=\"{:.1}\" font-size=\"11\">{}</text>",
                by + 10.0,
                by + 30.0,
                by + 34.0,
                ly + 4.0,
                escape(&series.label)
            );
        }
        s += "</svg>";
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
        assert_eq!(ticks(0.0, 10.0), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
    }
}
