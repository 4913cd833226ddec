//! Chart legends, laid out in a strip below the plot so that they never cover
//! data: entries in a grid of equal columns, as many as the width allows,
//! row by row.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::charts::{FAMILY, err, register_font};
use super::style::{LineStyle, Rgb};

/// What an entry's sample looks like.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Swatch {
    Line(LineStyle),
    /// A shaded span (the warmup, a failure).
    Fill(Rgb),
}

/// One entry of a legend.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

/// The legend's font size, and its row height, in pixels.
pub const FONT: u32 = 15;
pub const ROW: u32 = 22;
/// Rows every chart keeps room for; a longer legend makes the chart taller,
/// so that plots of one size keep one height.
pub const ROWS_KEPT: u32 = 2;
const SAMPLE: i32 = 30;
const GAP: u32 = 8;
const SPACING: u32 = 24;
const MARGIN: u32 = 12;

/// Where the entries go: each entry's left edge and row, rows filled left
/// to right and centred.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    pub places: Vec<(u32, u32)>,
    pub rows: u32,
    /// The room for each entry's label, in pixels.
    pub rooms: Vec<u32>,
}

impl Layout {
    /// The height of the strip below the plot.
    pub fn height(&self) -> u32 {
        self.rows.max(ROWS_KEPT) * ROW + 6
    }
}

fn text_width(label: &str) -> u32 {
    register_font();
    (FAMILY, FONT)
        .into_font()
        .box_size(label)
        .map_or(label.chars().count() as u32 * 9, |(w, _)| w)
}

/// The label as drawn: cut with "…" to fit `room` pixels.
fn fitted(label: &str, room: u32) -> String {
    if text_width(label) <= room {
        return label.to_string();
    }
    let mut chars: Vec<char> = label.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let s: String = chars.iter().collect::<String>() + "…";
        if text_width(&s) <= room {
            return s;
        }
    }
    "…".into()
}

/// The entries of a strip `width` pixels wide in rows, each as wide as its
/// label (cut to fit the strip).
pub fn layout(entries: &[Entry], width: u32) -> Layout {
    let room = width.saturating_sub(2 * MARGIN).max(1);
    let chrome = SAMPLE as u32 + GAP + SPACING;
    let widths: Vec<u32> = entries
        .iter()
        .map(|e| (chrome + text_width(&e.label)).min(room))
        .collect();
    // Rows of entries, then each row centred.
    let mut rows: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = 0;
    for (i, &w) in widths.iter().enumerate() {
        let row = rows.last_mut().expect("one row at least");
        if !row.is_empty() && used + w > room {
            rows.push(vec![i]);
            used = w;
        } else {
            row.push(i);
            used += w;
        }
    }
    let mut places = vec![(0, 0); entries.len()];
    for (r, row) in rows.iter().enumerate() {
        let total: u32 = row.iter().map(|&i| widths[i]).sum();
        let mut x = MARGIN + (room - total.min(room)) / 2;
        for &i in row {
            places[i] = (x, r as u32);
            x += widths[i];
        }
    }
    Layout {
        places,
        rows: if entries.is_empty() {
            0
        } else {
            rows.len() as u32
        },
        rooms: widths.iter().map(|w| w - chrome + SPACING / 2).collect(),
    }
}

fn draw_swatch<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    swatch: Swatch,
    (x, y): (i32, i32),
) -> Result<(), String> {
    match swatch {
        Swatch::Fill(c) => area
            .draw(&Rectangle::new(
                [(x, y - 6), (x + SAMPLE, y + 6)],
                RGBColor(c.0, c.1, c.2).mix(0.3).filled(),
            ))
            .map_err(err),
        Swatch::Line(s) => {
            let color = RGBColor(s.color.0, s.color.1, s.color.2);
            let (dash, gap) = s.dash.map_or((SAMPLE, 0), |(d, g)| (d as i32, g as i32));
            let mut from = x;
            while from < x + SAMPLE {
                let to = (from + dash).min(x + SAMPLE);
                area.draw(&PathElement::new(
                    vec![(from, y), (to, y)],
                    color.stroke_width(s.width),
                ))
                .map_err(err)?;
                from = to + gap;
            }
            Ok(())
        }
    }
}

/// Draws the entries on `area`, the strip below the plot.
pub fn draw<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    entries: &[Entry],
) -> Result<(), String> {
    let (width, _) = area.dim_in_pixel();
    let l = layout(entries, width);
    for (i, e) in entries.iter().enumerate() {
        let (x, row) = (l.places[i].0 as i32, l.places[i].1);
        let y = (row * ROW + ROW / 2 + 2) as i32;
        draw_swatch(area, e.swatch, (x, y))?;
        let room = l.rooms[i];
        let style = (FAMILY, FONT)
            .into_font()
            .color(&RGBColor(30, 30, 30))
            .pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(
            fitted(&e.label, room),
            (x + SAMPLE + GAP as i32, y),
            style,
        ))
        .map_err(err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(label: &str) -> Entry {
        Entry {
            label: label.into(),
            swatch: Swatch::Fill(Rgb(0, 0, 0)),
        }
    }

    #[test]
    fn entries_fill_rows_in_turn() {
        let few: Vec<Entry> = ["a p99", "a p50", "target"].map(entry).to_vec();
        let l = layout(&few, 960);
        assert_eq!(l.rows, 1);
        assert!(l.places[0].0 < l.places[1].0 && l.places[1].0 < l.places[2].0);
        let many: Vec<Entry> = (0..12).map(|i| entry(&format!("service-{i}"))).collect();
        let l = layout(&many, 600);
        assert!(l.rows >= 2 && l.places[11].1 == l.rows - 1);
        assert!(l.height() > ROWS_KEPT * ROW);
        let long = [entry(&"x".repeat(200))];
        assert_eq!(layout(&long, 600).rows, 1, "cut, not wrapped");
    }

    #[test]
    fn a_long_label_is_cut_to_fit() {
        let long = "x".repeat(200);
        let cut = fitted(&long, 300);
        assert!(cut.ends_with('…') && text_width(&cut) <= 300);
        assert_eq!(fitted("short", 300), "short");
    }
}
