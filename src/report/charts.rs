//! The report's charts, drawn with plotters to inline SVG and to PNG.
//!
//! A [`Chart`] says what to draw (lines, shaded time windows, target lines);
//! [`Chart::svg`] and [`Chart::png`] draw the same picture on either backend,
//! the plot above and its legend below it ([`super::legend`]), in the
//! styles of [`super::style`].
//! Text is laid out with the DejaVu Sans font shipped in `assets/fonts`, so no
//! system font is needed. Labels go through plotters' SVG backend, which
//! escapes them.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use super::format::{decimals, short_number};
use super::legend::{self, Entry, Swatch};
pub use super::panel::{PANEL_HEIGHT, VerdictPanel};
use super::style::{self, LineStyle, Rgb};

/// The font every chart uses (DejaVu Sans, its licence beside it).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";

/// Width and height of a chart with a legend of up to [`legend::ROWS_KEPT`]
/// rows, in pixels; a longer legend makes it taller.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 400;
/// The width of charts shown side by side (compare): drawn near the size
/// they are shown at, their text stays legible.
pub const SMALL_WIDTH: u32 = 600;

/// Font sizes: the title, and tick labels and axis names.
const TITLE_FONT: u32 = 20;
const LABEL_FONT: u32 = 15;

pub(super) fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is compiled in; it parses, or the build is broken.
        plotters::style::register_font(FAMILY, FontStyle::Normal, FONT)
            .unwrap_or_else(|_| panic!("the shipped font parses"));
    });
}

pub struct Line {
    pub label: String,
    pub points: Vec<(f64, f64)>,
    /// Index into the palette.
    pub color: usize,
    pub dashed: bool,
    /// Drawn as steps (a state that holds until the next point).
    pub steps: bool,
}

impl Line {
    /// A solid line.
    pub fn new(label: String, points: Vec<(f64, f64)>, color: usize) -> Line {
        Line {
            label,
            points,
            color,
            dashed: false,
            steps: false,
        }
    }

    pub fn dashed(self) -> Line {
        Line {
            dashed: true,
            ..self
        }
    }

    pub fn stepped(self) -> Line {
        Line {
            steps: true,
            ..self
        }
    }

    /// How the line is stroked: a palette colour, solid or in short dashes.
    pub fn style(&self) -> LineStyle {
        LineStyle {
            color: style::palette(self.color),
            width: 2,
            dash: self.dashed.then_some(style::DATA_DASH),
        }
    }
}

/// A shaded span of x (a failure window, the warmup).
pub struct Band {
    pub from: f64,
    pub to: f64,
    pub warmup: bool,
}

pub struct Chart {
    pub title: String,
    pub x_label: String,
    pub y_label: String,
    pub lines: Vec<Line>,
    pub bands: Vec<Band>,
    /// Horizontal target lines (an SLO), with what they are ("sync p99
    /// 200 ms"); the legend says "target sync p99 200 ms".
    pub targets: Vec<(f64, String)>,
    /// Vertical target lines.
    pub x_targets: Vec<(f64, String)>,
    pub log_x: bool,
    /// Fixed y range (else from the data, from 0).
    pub y_range: Option<(f64, f64)>,
    /// Labels for integer y values (breaker states).
    pub y_names: Option<&'static [&'static str]>,
    /// The width in pixels ([`WIDTH`], or [`SMALL_WIDTH`] side by side).
    pub width: u32,
}

type DrawResult = Result<(), String>;

pub(super) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw a chart: {e:?}")
}

/// The x and y ranges of a chart's plot.
type Bounds = ((f64, f64), (f64, f64));

impl Chart {
    pub fn new(title: &str, x_label: &str, y_label: &str) -> Chart {
        Chart {
            title: title.to_string(),
            x_label: x_label.to_string(),
            y_label: y_label.to_string(),
            lines: Vec::new(),
            bands: Vec::new(),
            targets: Vec::new(),
            x_targets: Vec::new(),
            log_x: false,
            y_range: None,
            y_names: None,
            width: WIDTH,
        }
    }

    /// The largest y of the lines and targets (0 with none).
    pub fn y_top(&self) -> f64 {
        let data = self.data_top();
        self.targets
            .iter()
            .map(|t| t.0)
            .filter(|&t| style::target_on_scale(t, data))
            .fold(data, f64::max)
    }

    fn data_top(&self) -> f64 {
        self.lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(0.0, f64::max)
    }

    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.points.is_empty())
    }

    /// The legend, in the order drawn: the lines, the targets (one style
    /// for all, [`style::TARGET`]), then the shaded spans.
    pub fn legend(&self) -> Vec<Entry> {
        let (_, (_, y1)) = self.bounds();
        let mut out: Vec<Entry> = self
            .lines
            .iter()
            .map(|l| Entry {
                label: l.label.clone(),
                swatch: Swatch::Line(l.style()),
            })
            .collect();
        let targets = self.targets.iter().map(|(y, what)| (*y > y1, what));
        for (above, what) in targets.chain(self.x_targets.iter().map(|(_, w)| (false, w))) {
            let label = style::target_label(what);
            out.push(Entry {
                label: if above {
                    format!("{label}: above the chart")
                } else {
                    label
                },
                swatch: Swatch::Line(style::TARGET),
            });
        }
        let shades = [
            (true, "warmup (not measured)", style::WARMUP),
            (false, "failure injected", style::FAILURE),
        ];
        for (warmup, label, color) in shades {
            if self.bands.iter().any(|b| b.warmup == warmup) {
                out.push(Entry {
                    label: label.into(),
                    swatch: Swatch::Fill(color),
                });
            }
        }
        out
    }

    /// Width and height in pixels: the height grows with a long legend.
    pub fn size(&self) -> (u32, u32) {
        let rows = legend::layout(&self.legend(), self.width).rows;
        let extra = rows.saturating_sub(legend::ROWS_KEPT) * legend::ROW;
        (self.width, HEIGHT + extra)
    }

    /// The chart as an `<svg>` element to inline in HTML (no namespace
    /// attribute, scales to the page's width).
    pub fn svg(&self) -> Result<String, String> {
        register_font();
        let (w, h) = self.size();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        let out = out.replacen(
            &format!(
                "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"http://www.w3.org/2000/svg\">"
            ),
            &format!(
                "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
                super::svg::escape(&self.title)
            ),
            1,
        );
        Ok(out)
    }

    /// The chart as a PNG file.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        register_font();
        let (w, h) = self.size();
        let mut rgb = vec![0u8; (w * h * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        encode_png(&rgb, w, h)
    }

    /// The plot's ranges: x over the data, bands and vertical targets (padded
    /// on a log scale); y from 0 over the data and the targets on scale,
    /// unless fixed.
    fn bounds(&self) -> Bounds {
        let points = self.lines.iter().flat_map(|l| l.points.iter());
        let (mut x0, mut x1, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, 0f64);
        for &(x, y) in points {
            if self.log_x && x <= 0.0 {
                continue;
            }
            x0 = x0.min(x);
            x1 = x1.max(x);
            y1 = y1.max(y);
        }
        let spans = self.bands.iter().map(|b| (b.from, b.to));
        for (a, b) in spans.chain(self.x_targets.iter().map(|&(x, _)| (x, x))) {
            x0 = x0.min(a);
            x1 = x1.max(b);
        }
        let data_top = y1;
        for &(y, _) in &self.targets {
            if style::target_on_scale(y, data_top) {
                y1 = y1.max(y);
            }
        }
        if !x0.is_finite() || !x1.is_finite() {
            (x0, x1) = (if self.log_x { 0.1 } else { 0.0 }, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + if self.log_x { x0.max(1e-3) } else { 1.0 };
        }
        if self.log_x {
            (x0, x1) = (x0 * 0.9, x1 * 1.1);
        }
        let y = self
            .y_range
            .unwrap_or((0.0, if y1 > 0.0 { y1 * 1.08 } else { 1.0 }));
        ((x0, x1), y)
    }

    /// The plot above, the legend in a strip below it.
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
        let legend = self.legend();
        let strip = legend::layout(&legend, self.width).height();
        let (_, h) = root.dim_in_pixel();
        let (plot, below) = root.split_vertically(h - strip);
        self.draw_plot(&plot)?;
        legend::draw(&below, &legend)
    }

    fn draw_plot<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        let ((x0, x1), (y0, y1)) = self.bounds();
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, (FAMILY, TITLE_FONT))
            .margin(12)
            .margin_bottom(4)
            .x_label_area_size(48)
            // Named states ("half-open") are wider than numbers.
            .y_label_area_size(if self.y_names.is_some() { 100 } else { 76 });
        let grid = RGBColor(235, 235, 235);
        if self.log_x {
            let mut chart = builder
                .build_cartesian_2d((x0..x1).log_scale(), y0..y1)
                .map_err(err)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style((FAMILY, LABEL_FONT))
                .axis_desc_style((FAMILY, LABEL_FONT))
                .light_line_style(grid)
                .x_label_formatter(&|v| short_number(*v));
            mesh.draw().map_err(err)?;
            self.draw_content(&mut chart, (x0, x1), (y0, y1))
        } else {
            let mut chart = builder.build_cartesian_2d(x0..x1, y0..y1).map_err(err)?;
            let names = self.y_names;
            let y_fmt = move |v: &f64| match names {
                Some(n) if (v.fract()).abs() < 1e-9 && *v >= 0.0 => {
                    n.get(*v as usize).map_or(String::new(), |s| s.to_string())
                }
                Some(_) => String::new(),
                None => short_number(*v),
            };
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style((FAMILY, LABEL_FONT))
                .axis_desc_style((FAMILY, LABEL_FONT))
                .light_line_style(grid)
                .x_label_formatter(&|v| short_number(*v))
                .y_label_formatter(&y_fmt);
            if let Some(n) = names {
                mesh.y_labels(n.len() * 2 - 1);
            }
            mesh.draw().map_err(err)?;
            self.draw_content(&mut chart, (x0, x1), (y0, y1))
        }
    }

    fn draw_content<'a, DB, CT>(
        &self,
        chart: &mut ChartContext<'a, DB, CT>,
        (xa, xb): (f64, f64),
        (y0, y1): (f64, f64),
    ) -> DrawResult
    where
        DB: DrawingBackend + 'a,
        CT: CoordTranslate<From = (f64, f64)>,
    {
        for b in &self.bands {
            let c = if b.warmup {
                style::WARMUP
            } else {
                style::FAILURE
            };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(b.from, y0), (b.to, y1)],
                    rgb(c).mix(0.15).filled(),
                )))
                .map_err(err)?;
        }
        for line in &self.lines {
            let points: Vec<(f64, f64)> = if line.steps {
                stepped(&line.points)
            } else {
                line.points.clone()
            };
            stroke(chart, points, line.style())?;
            if line.points.len() == 1 {
                // One point draws no line: a dot instead.
                let dot = Circle::new(line.points[0], 3, rgb(line.style().color).filled());
                chart.draw_series(std::iter::once(dot)).map_err(err)?;
            }
        }
        for (y, _) in self.targets.iter().filter(|(y, _)| *y <= y1) {
            stroke(chart, vec![(xa, *y), (xb, *y)], style::TARGET)?;
        }
        for (x, _) in &self.x_targets {
            stroke(chart, vec![(*x, y0), (*x, y1)], style::TARGET)?;
        }
        Ok(())
    }
}

fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// Draws a polyline in a style, solid or dashed.
fn stroke<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    points: Vec<(f64, f64)>,
    s: LineStyle,
) -> DrawResult
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate<From = (f64, f64)>,
{
    let pen = rgb(s.color).stroke_width(s.width);
    match s.dash {
        Some((dash, gap)) => chart
            .draw_series(DashedLineSeries::new(points, dash, gap, pen))
            .map(|_| ()),
        None => chart.draw_series(LineSeries::new(points, pen)).map(|_| ()),
    }
    .map_err(err)
}

/// A state series as steps: each value holds until the next point's time.
fn stepped(points: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut out = Vec::with_capacity(points.len() * 2);
    for (i, &(x, y)) in points.iter().enumerate() {
        if i > 0 {
            out.push((x, points[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

pub(super) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, width, height);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        enc.set_compression(png::Compression::Fast);
        let mut w = enc.write_header().map_err(err)?;
        w.write_image_data(rgb).map_err(err)?;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chart_draws_on_both_backends() {
        let mut c = Chart::new("t <script>", "s", "ms");
        let points = vec![(0.0, 1.0), (1.0, 2.0), (2.0, 1.5)];
        c.lines
            .push(Line::new("a \"quoted\" <b>".into(), points, 0));
        c.bands.push(Band {
            from: 0.5,
            to: 1.0,
            warmup: false,
        });
        c.targets.push((1.8, "SLO".into()));
        let svg = c.svg().unwrap();
        assert!(svg.starts_with("<svg viewBox"));
        assert!(!svg.contains("<script>") && !svg.contains("<b>"));
        let png = c.png().unwrap();
        assert_eq!(&png[1..4], b"PNG");
        assert_eq!(u32::from_be_bytes(png[16..20].try_into().unwrap()), WIDTH);
    }
}
