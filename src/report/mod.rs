//! Results to bytes: `summary.json`, `run.json`, the terminal table, and the
//! sweep's csv, json and html (with inline SVG charts).
//! Renderers return bytes or strings; only [`crate::cli`] writes them.

pub mod charts;
pub mod fit;
pub mod fit_html;
pub mod format;
pub mod html;
pub mod json;
pub mod legend;
pub mod metrics;
pub mod openmetrics;
pub mod otlp;
pub mod otlp_map;
pub mod panel;
pub mod run;
pub mod style;
pub mod svg;
pub mod sweep;
pub mod table;
pub mod traces;
pub mod verdicts;
