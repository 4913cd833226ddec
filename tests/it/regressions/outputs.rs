//! Regressions: outputs that must be trusted after a failure.
