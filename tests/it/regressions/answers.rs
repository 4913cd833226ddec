//! Regressions: silent wrong answers, memory and time, messages.
