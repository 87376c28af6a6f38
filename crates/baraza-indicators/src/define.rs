//! Indicator definitions.
