//! `slo.png`: the three SLO verdicts as coloured boxes.

use plotters::prelude::*;

use super::charts::{FAMILY, WIDTH, encode_png, err, register_font};

/// The SLO verdicts as a picture: one box per target, green or red.
pub struct VerdictPanel {
    /// (name, actual, target, pass, label); `None` pass: nothing to
    /// measure, or inconclusive.
    pub rows: Vec<(String, String, String, Option<bool>, &'static str)>,
}

pub const PANEL_HEIGHT: u32 = 160;

impl VerdictPanel {
    pub fn png(&self) -> Result<Vec<u8>, String> {
        register_font();
        let mut rgb = vec![0u8; (WIDTH * PANEL_HEIGHT * 3) as usize];
        {
            let root =
                BitMapBackend::with_buffer(&mut rgb, (WIDTH, PANEL_HEIGHT)).into_drawing_area();
            root.fill(&WHITE).map_err(err)?;
            let n = self.rows.len().max(1) as i32;
            let w = (WIDTH as i32 - 20) / n;
            for (i, (name, actual, target, pass, verdict)) in self.rows.iter().enumerate() {
                let x = 10 + i as i32 * w;
                let fill = match pass {
                    Some(true) => RGBColor(220, 245, 220),
                    Some(false) => RGBColor(250, 215, 215),
                    None => RGBColor(235, 235, 235),
                };
                let edge = match pass {
                    Some(true) => RGBColor(30, 130, 30),
                    Some(false) => RGBColor(190, 20, 20),
                    None => RGBColor(120, 120, 120),
                };
                root.draw(&Rectangle::new(
                    [(x, 10), (x + w - 10, PANEL_HEIGHT as i32 - 10)],
                    fill.filled(),
                ))
                .map_err(err)?;
                root.draw(&Rectangle::new(
                    [(x, 10), (x + w - 10, PANEL_HEIGHT as i32 - 10)],
                    edge.stroke_width(2),
                ))
                .map_err(err)?;
                let text = |s: &str, y: i32, size: u32, color: RGBColor| {
                    Text::new(
                        s.to_string(),
                        (x + 14, y),
                        (FAMILY, size).into_font().color(&color),
                    )
                };
                root.draw(&text(name, 22, 18, BLACK)).map_err(err)?;
                root.draw(&text(verdict, 50, 32, edge)).map_err(err)?;
                root.draw(&text(
                    actual,
                    92,
                    if actual.len() > 24 { 15 } else { 20 },
                    BLACK,
                ))
                .map_err(err)?;
                root.draw(&text(
                    &format!("target {target}"),
                    120,
                    15,
                    RGBColor(80, 80, 80),
                ))
                .map_err(err)?;
            }
            root.present().map_err(err)?;
        }
        encode_png(&rgb, WIDTH, PANEL_HEIGHT)
    }
}
