//! A summary to bytes: `summary.json`, `run.json` and the terminal table.
//! Renderers return bytes or strings; only [`crate::cli`] writes them.

pub mod json;
pub mod table;
