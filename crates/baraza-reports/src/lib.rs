//! Citizen reports, the pure parts: everything that can be decided without a clock, a
//! database or a network.
//!
//! Reports reach Baraza from basic phones through SMS gateways, and from other messaging
//! bridges. This crate holds what the web layer and the store will call around them:
//!
//! - [`gateway`]: each gateway's documented webhook turned into one [`gateway::InboundMessage`]
//!   after its signature or shared-secret check; the HTTP request each gateway needs to send a
//!   reply (described, never sent); [`gateway::Outbox`], retry backoff and per-gateway rate as
//!   functions of time;
//! - [`smsform`]: SMS forms from an XLSForm (a keyword per form, a short tag per question, in
//!   the spirit of XLSForm's `prefix`/`delimiter` settings and `compact_tag` column), parsed
//!   into typed answers or into an error reply in the sender's language;
//! - [`gazetteer`]: place names matched against a gazetteer despite accents, case,
//!   punctuation, local spelling variants and typing mistakes; free-text reports split into a
//!   category keyword and a place;
//! - [`dedup`]: deduplication keys and the HMAC pseudonym of a phone number;
//! - [`cluster`]: points grouped into grid cells by zoom level in one pass, clusters smaller
//!   than k merged upward or hidden for public maps, and location fuzzing;
//! - [`view`]: the map's viewport (zoom and centre) read from and written to plain links, the
//!   box it shows, zooming and panning;
//! - [`moderation`]: the states of a report and the transitions allowed between them.
//!
//! Nothing here reads the time: callers pass `now`. Nothing panics on hostile input.

pub mod cluster;
pub mod dedup;
pub mod gateway;
pub mod gazetteer;
pub mod moderation;
pub mod phone;
pub mod smsform;
pub mod text;
pub mod view;

pub use gateway::{Gateway, InboundMessage};
pub use moderation::State;
