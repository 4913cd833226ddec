//! Line charts as inline SVG, with no dependencies: axes with ticks (whole
//! numbers only on an axis of whole numbers), a marker at each measured
//! point with its 95% interval as a whisker, thin lines between them (dashed
//! for theory), the target in the one style every chart gives targets, and
//! a legend to the right of the plot. Every label is escaped.

use std::fmt::Write as _;

use super::format::decimals;
use super::style::{self, DATA_DASH, TARGET};

/// Styles shared by the HTML pages: charts as wide as the page.
pub const CSS: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;margin:0 auto;padding:1.5em 2em;color:#222;max-width:1280px}\
svg.chart{display:block;width:100%;height:auto;background:#fff;border:1px solid #ddd;margin:0.8em 0}table{border-collapse:collapse;font-size:0.9em;font-variant-numeric:tabular-nums}\
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
    /// Theory: a dashed line, no markers (nothing was measured).
    pub dashed: bool,
    /// Index into the palette (a theory line takes its simulated series' colour).
    pub color: usize,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub series: Vec<Series>,
    /// The target's value and what it is ("p99 200 ms").
    pub target: Option<(f64, String)>,
    /// x takes whole values only (a replica count): whole ticks only.
    pub x_integer: bool,
}

const W: f64 = 960.0;
const H: f64 = 400.0;
const LEFT: f64 = 80.0;
const RIGHT: f64 = 240.0;
const TOP: f64 = 40.0;
const BOTTOM: f64 = 56.0;
/// Markers stand out from the thin lines that join them.
const MARKER_RADIUS: f64 = 5.0;
const LINE_WIDTH: f64 = 1.0;

/// About five round tick values covering [lo, hi]; steps of at least 1
/// when `integer`.
fn ticks(lo: f64, hi: f64, integer: bool) -> Vec<f64> {
    let span = (hi - lo).max(1e-12);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let mut step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    if integer {
        step = step.max(1.0).round();
    }
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

/// The data's ranges, padded: x so that the end markers clear the axes, y
/// by 5% (from no lower than 0 for positive data).
struct Frame {
    x: (f64, f64),
    y: (f64, f64),
    /// The target is drawn (not far above the data).
    target_drawn: bool,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        LEFT + (x - self.x.0) / (self.x.1 - self.x.0) * (W - LEFT - RIGHT)
    }

    fn py(&self, y: f64) -> f64 {
        TOP + (1.0 - (y - self.y.0) / (self.y.1 - self.y.0)) * (H - TOP - BOTTOM)
    }
}

fn dash_attr(dash: Option<(u32, u32)>) -> String {
    dash.map_or(String::new(), |(d, g)| {
        format!(" stroke-dasharray=\"{d} {g}\"")
    })
}

impl Chart {
    fn frame(&self) -> Frame {
        let pts = self.series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for &(x, y, lo, hi) in pts {
            x0 = x0.min(x);
            x1 = x1.max(x);
            for v in [y, lo, hi].into_iter().filter(|v| v.is_finite()) {
                y0 = y0.min(v);
                y1 = y1.max(v);
            }
        }
        let target_drawn = self
            .target
            .as_ref()
            .is_some_and(|(t, _)| x0 > x1 || style::target_on_scale(*t, y1));
        if let Some((t, _)) = self.target.as_ref().filter(|_| target_drawn) {
            y0 = y0.min(*t);
            y1 = y1.max(*t);
        }
        if x0 > x1 {
            (x0, x1, y0, y1) = (0.0, 1.0, 0.0, 1.0);
        }
        let pad_x = ((x1 - x0) * 0.04).max(if self.x_integer { 0.5 } else { 1e-9 });
        if y1 <= y0 {
            y1 = y0 + 1.0;
        }
        let pad = (y1 - y0) * 0.05;
        let low = if y0 >= 0.0 {
            (y0 - pad).max(0.0)
        } else {
            y0 - pad
        };
        Frame {
            x: (x0 - pad_x, x1 + pad_x),
            y: (low, y1 + pad),
            target_drawn,
        }
    }

    pub fn svg(&self) -> String {
        let f = self.frame();
        let mut s = String::new();
        let _ = write!(
            s,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {W} {H}\" class=\"chart\" role=\"img\" aria-label=\"{}\">",
            escape(&self.title)
        );
        let _ = write!(
            s,
            "<text x=\"{LEFT}\" y=\"24\" font-size=\"17\" font-weight=\"bold\">{}</text>",
            escape(&self.title)
        );
        self.axes(&mut s, &f);
        if let Some((t, _)) = self.target.as_ref().filter(|_| f.target_drawn) {
            let y = f.py(*t);
            let _ = write!(
                s,
                "<line class=\"target\" x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" stroke=\"{}\" stroke-width=\"{}\"{}/>",
                W - RIGHT,
                TARGET.color.hex(),
                TARGET.width,
                dash_attr(TARGET.dash)
            );
        }
        for series in &self.series {
            series_svg(&mut s, &f, series, &self.x_label);
        }
        self.legend(&mut s, &f);
        s += "</svg>";
        s
    }

    fn axes(&self, s: &mut String, f: &Frame) {
        let (base, right) = (H - BOTTOM, W - RIGHT);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{base}\" x2=\"{right}\" y2=\"{base}\" stroke=\"#333\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{base}\" stroke=\"#333\"/>"
        );
        let xt = ticks(f.x.0, f.x.1, self.x_integer);
        let xs = step_of(&xt);
        for t in xt {
            let x = f.px(t);
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{base}\" x2=\"{x:.1}\" y2=\"{:.1}\" stroke=\"#333\"/><text class=\"tick x\" x=\"{x:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"middle\">{}</text>",
                base + 5.0,
                base + 20.0,
                fmt(t, xs)
            );
        }
        let yt = ticks(f.y.0, f.y.1, false);
        let ys = step_of(&yt);
        for t in yt {
            let y = f.py(t);
            let _ = write!(
                s,
                "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{right}\" y2=\"{y:.1}\" stroke=\"#eee\"/><text class=\"tick y\" x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" text-anchor=\"end\">{}</text>",
                LEFT - 5.0,
                y + 4.0,
                fmt(t, ys)
            );
        }
        let _ = write!(
            s,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"14\" text-anchor=\"middle\">{}</text>",
            (LEFT + right) / 2.0,
            H - 12.0,
            escape(&self.x_label)
        );
        let mid = (TOP + base) / 2.0;
        let _ = write!(
            s,
            "<text x=\"18\" y=\"{mid:.1}\" font-size=\"14\" text-anchor=\"middle\" transform=\"rotate(-90 18 {mid:.1})\">{}</text>",
            escape(&self.y_label)
        );
    }

    /// The legend, right of the plot: each series, then the target.
    fn legend(&self, s: &mut String, f: &Frame) {
        let x = W - RIGHT + 16.0;
        let mut entries: Vec<(String, String)> = self
            .series
            .iter()
            .map(|series| {
                let dash = series.dashed.then_some(DATA_DASH);
                let stroke = format!(
                    "stroke=\"{}\" stroke-width=\"2\"{}",
                    style::palette(series.color).hex(),
                    dash_attr(dash)
                );
                (stroke, series.label.clone())
            })
            .collect();
        if let Some((_, what)) = &self.target {
            let stroke = format!(
                "stroke=\"{}\" stroke-width=\"{}\"{}",
                TARGET.color.hex(),
                TARGET.width,
                dash_attr(TARGET.dash)
            );
            let label = style::target_label(what);
            let label = if f.target_drawn {
                label
            } else {
                format!("{label}: above the chart")
            };
            entries.push((stroke, label));
        }
        let mut y = TOP + 8.0;
        for (stroke, label) in &entries {
            let _ = write!(
                s,
                "<line x1=\"{x:.1}\" y1=\"{y:.1}\" x2=\"{:.1}\" y2=\"{y:.1}\" {stroke}/>",
                x + 26.0,
            );
            for line in wrap(label, LEGEND_CHARS) {
                let _ = write!(
                    s,
                    "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\">{}</text>",
                    x + 32.0,
                    y + 4.5,
                    escape(&line)
                );
                y += 16.0;
            }
            y += 6.0;
        }
    }
}

/// Characters of a legend line that fit right of the plot.
const LEGEND_CHARS: usize = 26;

/// Text in lines of at most `width` characters, broken at spaces (a longer
/// word stays whole).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for word in text.split(' ') {
        match lines.last_mut() {
            Some(l) if l.chars().count() + 1 + word.chars().count() <= width => {
                l.push(' ');
                l.push_str(word);
            }
            _ => lines.push(word.to_string()),
        }
    }
    lines
}

/// One series: a thin line through its points; for measured series a
/// whisker (the 95% interval) and a marker, with its figures as a tooltip.
fn series_svg(s: &mut String, f: &Frame, series: &Series, x_label: &str) {
    let color = style::palette(series.color).hex();
    let path: Vec<String> = series
        .points
        .iter()
        .map(|&(x, y, _, _)| format!("{:.1},{:.1}", f.px(x), f.py(y)))
        .collect();
    let (width, dash, opacity) = if series.dashed {
        (1.5, Some(DATA_DASH), 1.0)
    } else {
        (LINE_WIDTH, None, 0.6)
    };
    let _ = write!(
        s,
        "<polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"{width}\" stroke-opacity=\"{opacity}\"{} points=\"{}\"/>",
        dash_attr(dash),
        path.join(" ")
    );
    if series.dashed {
        return;
    }
    for &(x, y, lo, hi) in &series.points {
        let (cx, cy) = (f.px(x), f.py(y));
        if lo.is_finite() && hi.is_finite() && hi > lo {
            let _ = write!(
                s,
                "<line x1=\"{cx:.1}\" y1=\"{:.1}\" x2=\"{cx:.1}\" y2=\"{:.1}\" stroke=\"{color}\" stroke-width=\"1.5\"/>",
                f.py(lo),
                f.py(hi)
            );
        }
        let interval = if lo.is_finite() && hi.is_finite() && hi > lo {
            format!(" (95%: {} to {})", decimals(lo, 6), decimals(hi, 6))
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "<circle class=\"point\" cx=\"{cx:.1}\" cy=\"{cy:.1}\" r=\"{MARKER_RADIUS}\" fill=\"{color}\" stroke=\"#fff\" stroke-width=\"1\"><title>{}: {} = {}, {}{}</title></circle>",
            escape(&series.label),
            escape(x_label),
            decimals(x, 6),
            decimals(y, 6),
            interval
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_everything_that_matters() {
        assert_eq!(escape("<script>\"'&"), "&lt;script&gt;&quot;&#39;&amp;");
    }

    #[test]
    fn ticks_are_round_and_whole_on_a_whole_axis() {
        assert_eq!(ticks(0.0, 10.0, false), [0.0, 2.0, 4.0, 6.0, 8.0, 10.0]);
        assert_eq!(ticks(6.0, 8.0, false), [6.0, 6.5, 7.0, 7.5, 8.0]);
        assert_eq!(ticks(5.5, 8.5, true), [6.0, 7.0, 8.0]);
        assert_eq!(ticks(0.5, 1.5, true), [1.0]);
    }

    #[test]
    fn long_legend_labels_wrap() {
        assert_eq!(
            wrap("target p99 200 ms: above the chart", 26),
            ["target p99 200 ms: above", "the chart"]
        );
        assert_eq!(wrap("simulated", 26), ["simulated"]);
    }
}
