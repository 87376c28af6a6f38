//! Contributions and cells.
