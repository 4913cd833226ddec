//! Regressions: the JSON Schema, CI and what a new user reads.
