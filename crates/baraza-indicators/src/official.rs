//! Official series.
//!
//! SKELETON: to be written.
