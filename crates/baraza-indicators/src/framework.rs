//! The SDG global indicator framework as data.
//!
//! SKELETON: to be written.
