//! Progress towards a target.
//!
//! SKELETON: to be written.
