//! The report's charts, drawn with plotters to inline SVG and to PNG.
//!
//! A [`Chart`] says what to draw (lines, shaded time windows, target lines);
//! [`Chart::svg`] and [`Chart::png`] draw the same picture on either backend.
//! Text is laid out with the DejaVu Sans font shipped in `assets/fonts`, so no
//! system font is needed. Labels go through plotters' SVG backend, which
//! escapes them.

use std::sync::Once;

use plotters::coord::Shift;
use plotters::prelude::*;

pub use super::format::{decimals, short_number};
pub use super::panel::{PANEL_HEIGHT, VerdictPanel};

/// The font every chart uses (DejaVu Sans, its licence beside it).
static FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(super) const FAMILY: &str = "sans-serif";

/// Width and height of every chart, in pixels.
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 400;

/// Tableau 10, the palette of matplotlib.
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];
const TARGET: RGBColor = RGBColor(200, 0, 0);
const FAILURE: RGBColor = RGBColor(214, 39, 40);
const WARMUP: RGBColor = RGBColor(160, 160, 160);

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
    /// Horizontal target lines (an SLO), with their label.
    pub targets: Vec<(f64, String)>,
    /// Vertical target lines.
    pub x_targets: Vec<(f64, String)>,
    pub log_x: bool,
    /// Fixed y range (else from the data, from 0).
    pub y_range: Option<(f64, f64)>,
    /// Labels for integer y values (breaker states).
    pub y_names: Option<&'static [&'static str]>,
    /// The legend in the lower right (CDFs: their curves leave it empty).
    pub legend_lower_right: bool,
}

type DrawResult = Result<(), String>;

pub(super) fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("cannot draw a chart: {e:?}")
}

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
            legend_lower_right: false,
        }
    }

    /// The largest y of the lines and targets (0 with none).
    pub fn y_top(&self) -> f64 {
        let data = self.data_top();
        self.targets
            .iter()
            .map(|t| t.0)
            .filter(|&t| Self::target_on_scale(t, data))
            .fold(data, f64::max)
    }

    fn data_top(&self) -> f64 {
        self.lines
            .iter()
            .flat_map(|l| l.points.iter().map(|p| p.1))
            .fold(0.0, f64::max)
    }

    /// A target far above the data (more than thrice its top) would flatten
    /// the lines: it is named in the legend instead of drawn.
    fn target_on_scale(target: f64, data_top: f64) -> bool {
        data_top <= 0.0 || target <= 3.0 * data_top
    }

    pub fn is_empty(&self) -> bool {
        self.lines.iter().all(|l| l.points.is_empty())
    }

    /// The chart as an `<svg>` element to inline in HTML (no namespace
    /// attribute, scales to the page's width).
    pub fn svg(&self) -> Result<String, String> {
        register_font();
        let mut out = String::new();
        {
            let root = SVGBackend::with_string(&mut out, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        let out = out.replacen(
            &format!(
                "<svg width=\"{WIDTH}\" height=\"{HEIGHT}\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" xmlns=\"http://www.w3.org/2000/svg\">"
            ),
            &format!(
                "<svg viewBox=\"0 0 {WIDTH} {HEIGHT}\" role=\"img\" aria-label=\"{}\" class=\"chart\">",
                super::svg::escape(&self.title)
            ),
            1,
        );
        Ok(out)
    }

    /// The chart as a PNG file.
    pub fn png(&self) -> Result<Vec<u8>, String> {
        register_font();
        let mut rgb = vec![0u8; (WIDTH * HEIGHT * 3) as usize];
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (WIDTH, HEIGHT)).into_drawing_area();
            self.draw(&root)?;
            root.present().map_err(err)?;
        }
        encode_png(&rgb, WIDTH, HEIGHT)
    }

    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> DrawResult {
        root.fill(&WHITE).map_err(err)?;
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
        for b in &self.bands {
            x0 = x0.min(b.from);
            x1 = x1.max(b.to);
        }
        for &(x, _) in &self.x_targets {
            x0 = x0.min(x);
            x1 = x1.max(x);
        }
        let data_top = y1;
        for &(y, _) in &self.targets {
            if Self::target_on_scale(y, data_top) {
                y1 = y1.max(y);
            }
        }
        if !x0.is_finite() || !x1.is_finite() {
            (x0, x1) = (if self.log_x { 0.1 } else { 0.0 }, 1.0);
        }
        if x1 <= x0 {
            x1 = x0 + if self.log_x { x0.max(1e-3) } else { 1.0 };
        }
        let (y0, y1) = match self.y_range {
            Some(r) => r,
            None => (0.0, if y1 > 0.0 { y1 * 1.08 } else { 1.0 }),
        };
        let mut builder = ChartBuilder::on(root);
        builder
            .caption(&self.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(72);
        if self.log_x {
            let mut chart = builder
                .build_cartesian_2d((x0 * 0.9..x1 * 1.1).log_scale(), y0..y1)
                .map_err(err)?;
            let mut mesh = chart.configure_mesh();
            mesh.x_desc(&self.x_label)
                .y_desc(&self.y_label)
                .label_style((FAMILY, 14))
                .light_line_style(RGBColor(235, 235, 235))
                .x_label_formatter(&|v| short_number(*v));
            mesh.draw().map_err(err)?;
            self.draw_content(&mut chart, (x0 * 0.9, x1 * 1.1), (y0, y1))
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
                .label_style((FAMILY, 14))
                .light_line_style(RGBColor(235, 235, 235))
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
            let color = if b.warmup { WARMUP } else { FAILURE };
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(b.from, y0), (b.to, y1)],
                    color.mix(0.15).filled(),
                )))
                .map_err(err)?;
        }
        if self.bands.iter().any(|b| !b.warmup) {
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                .map_err(err)?
                .label("failure injected")
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 18, y + 5)], FAILURE.mix(0.3).filled())
                });
        }
        for line in &self.lines {
            let color = PALETTE[line.color % PALETTE.len()];
            let style = color.stroke_width(2);
            if line.points.len() == 1 {
                // One point draws no line: a dot instead.
                chart
                    .draw_series(
                        line.points
                            .iter()
                            .map(|&p| Circle::new(p, 3, color.filled())),
                    )
                    .map_err(err)?;
            }
            let points: Vec<(f64, f64)> = if line.steps {
                stepped(&line.points)
            } else {
                line.points.clone()
            };
            let series = if line.dashed {
                chart
                    .draw_series(DashedLineSeries::new(points, 6, 4, style))
                    .map_err(err)?
            } else {
                chart
                    .draw_series(LineSeries::new(points, style))
                    .map_err(err)?
            };
            let dashed = line.dashed;
            series.label(&line.label).legend(move |(x, y)| {
                if dashed {
                    PathElement::new(vec![(x, y), (x + 7, y)], color.stroke_width(2))
                } else {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                }
            });
        }
        for (y, label) in &self.targets {
            if *y > y1 {
                chart
                    .draw_series(std::iter::empty::<PathElement<(f64, f64)>>())
                    .map_err(err)?
                    .label(format!("{label}: above the chart"))
                    .legend(|(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], TARGET.stroke_width(2))
                    });
                continue;
            }
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(xa, *y), (xb, *y)],
                    8,
                    5,
                    TARGET.stroke_width(2),
                ))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], TARGET.stroke_width(2))
                });
        }
        for (x, label) in &self.x_targets {
            chart
                .draw_series(DashedLineSeries::new(
                    vec![(*x, y0), (*x, y1)],
                    8,
                    5,
                    TARGET.stroke_width(2),
                ))
                .map_err(err)?
                .label(label)
                .legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], TARGET.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .label_font((FAMILY, 13))
            .background_style(WHITE.mix(0.6))
            .border_style(RGBColor(200, 200, 200))
            .position(if self.legend_lower_right {
                SeriesLabelPosition::LowerRight
            } else {
                SeriesLabelPosition::UpperLeft
            })
            .draw()
            .map_err(err)
    }
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
