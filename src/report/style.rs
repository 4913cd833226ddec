//! The look every chart shares, plotters' ([`super::charts`]) and the sweep's
//! hand-written SVG ([`super::svg`]): a palette for data, one style for
//! targets that no data series takes, and the shades of the warmup and of
//! failures.

/// A colour.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for SVG.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// Euclidean distance in RGB space (0 to 441): how far apart two colours look, roughly.
    pub fn distance(self, o: Rgb) -> f64 {
        let d = |a: u8, b: u8| (f64::from(a) - f64::from(b)).powi(2);
        (d(self.0, o.0) + d(self.1, o.1) + d(self.2, o.2)).sqrt()
    }
}

/// Tableau 10, matplotlib's palette, without its grey (too near the targets'
/// near-black and the warmup's grey).
pub const PALETTE: [Rgb; 9] = [
    Rgb(31, 119, 180),
    Rgb(255, 127, 14),
    Rgb(44, 160, 44),
    Rgb(214, 39, 40),
    Rgb(148, 103, 189),
    Rgb(140, 86, 75),
    Rgb(227, 119, 194),
    Rgb(188, 189, 34),
    Rgb(23, 190, 207),
];

/// The colour of data series `i`.
pub fn palette(i: usize) -> Rgb {
    PALETTE[i % PALETTE.len()]
}

/// How a line is stroked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LineStyle {
    pub color: Rgb,
    pub width: u32,
    /// (dash, gap) in pixels; `None` is solid.
    pub dash: Option<(u32, u32)>,
}

/// Every target (an SLO) on every chart: near-black, long dashes, labelled
/// "target …". No data series is drawn in this colour.
pub const TARGET: LineStyle = LineStyle {
    color: Rgb(34, 34, 34),
    width: 2,
    dash: Some((10, 5)),
};

/// The dashes of dashed data series (p50s, errors, theory): shorter than the target's.
pub const DATA_DASH: (u32, u32) = (6, 4);

/// The shade of the warmup (not measured) and of injected failures.
pub const WARMUP: Rgb = Rgb(160, 160, 160);
pub const FAILURE: Rgb = Rgb(214, 39, 40);

/// The legend's name of a target.
pub fn target_label(what: &str) -> String {
    format!("target {what}")
}

/// A target far above the data (more than thrice its top) would flatten the
/// data into the axis: it is named in the legend ("above the chart"), not drawn.
pub fn target_on_scale(target: f64, data_top: f64) -> bool {
    data_top <= 0.0 || target <= 3.0 * data_top
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_data_colour_looks_like_a_target() {
        for c in PALETTE {
            assert!(c.distance(TARGET.color) > 100.0, "{c:?}");
            assert!(c.distance(WARMUP) > 60.0, "{c:?}");
        }
        assert_eq!(Rgb(31, 119, 180).hex(), "#1f77b4");
    }
}
