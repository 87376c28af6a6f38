//! Protection of personal data, pure: no IO, no clock, no randomness of its own (callers pass in
//! times and random bytes), no database.
//!
//! * [`chain`] — the audit log's hash chain: each entry commits to the one before it, so that a
//!   changed, removed or reordered entry breaks every hash after it, and the chain's head is
//!   signed so that a rewritten chain is caught too.

pub mod chain;
