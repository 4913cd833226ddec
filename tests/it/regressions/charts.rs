//! Regressions: charts and tables.
