//! OpenRosa for Baraza: reading what ODK Collect (or Enketo, or anyone on the internet) submits,
//! and writing what OpenRosa clients expect to read.
//!
//! # Safety first
//!
//! A submission endpoint takes XML from devices we do not control, and often from anyone who
//! knows a public link. [`parse_submission`] therefore assumes every document is hostile:
//!
//! * **Size before anything.** The byte length is checked against [`Limits::max_bytes`] before a
//!   single byte is decoded. While reading, nesting depth ([`Limits::max_depth`]) and element
//!   count ([`Limits::max_elements`]) are checked as each element opens, so a bomb is stopped at
//!   the first element past the limit, not after it has been built. The values' paths, which
//!   repeat their ancestors' names and could turn deep, long-named elements into gigabytes, have
//!   a budget too ([`parse::PATH_BUDGET_FACTOR`] times `max_bytes`), as do element names
//!   ([`parse::MAX_NAME_BYTES`]).
//! * **No DTD, ever.** Any `<!DOCTYPE …>` is refused outright with [`SubmissionError::Dtd`]:
//!   internal subsets are where entity declarations live (billion laughs, quadratic blowup) and
//!   external ones are how XXE reads `/etc/passwd` or reaches internal hosts. OpenRosa
//!   submissions never need a DTD. The parser (quick-xml) never fetches or expands anything by
//!   itself; references are resolved here, and only the five predefined entities (`&lt;` `&gt;`
//!   `&amp;` `&apos;` `&quot;`) and character references to legal XML characters are; any other
//!   `&name;` is refused as malformed.
//! * **Only the XML declaration.** Processing instructions other than `<?xml …?>` (at the very
//!   start) are refused.
//! * **UTF-8 only.** Bytes must be UTF-8 (a BOM is allowed), the declaration may only name
//!   UTF-8, and characters XML forbids (NUL and the other C0 controls but tab, newline and
//!   carriage return; U+FFFE, U+FFFF) are refused, so nothing downstream — notably a database —
//!   ever sees them.
//! * **Well-formed and unambiguous.** Tags must match; names must be plain XML names (so a path
//!   segment can never contain `/` or `[`); text mixed with child elements is refused, so each
//!   value belongs to exactly one leaf; there is exactly one root.
//! * **Nothing panics.** There is no indexing that can fail, no `unwrap` on input; proptests
//!   feed random bytes and random XML-ish token soups to the parser.
//!
//! Errors carry stable snake_case codes ([`SubmissionError::code`], [`ValueError::code`]) for
//! the API and translations.
//!
//! # Two steps: parse, then type
//!
//! [`parse::parse_submission`] knows nothing of forms. It gives the identity of the submission
//! (root element, form id and version from the root's attributes, `meta/instanceID`,
//! `meta/deprecatedID` for edits, `meta/instanceName`) and every leaf element as a
//! [`Value`] with an absolute path of local names (namespace prefixes such as `orx:` dropped). A
//! segment carries a 1-based `[n]` when its element has a same-named sibling, which is all the
//! raw document can tell.
//!
//! [`typed::type_values`] then walks the form ([`baraza_xlsform::model::Form`]) alongside those
//! paths. It checks that the submission is for this form and version, that every value belongs
//! to a question (or to `meta/*`, or to the `NAME_other` and `NAME_count` nodes pyxform
//! generates), and reads each value by its question's type: integers, finite decimals, real
//! calendar dates, times, geopoints within the globe, traces and shapes, choices, attachment file
//! names that are safe to use on a disk ([`safe_attachment_name`]). Paths are normalised: every
//! repeat instance carries its `[n]`, even when alone, and each value knows its innermost repeat
//! instance. All problems are reported together, so that a broken client can be fixed in one go.
//! Choice names are not checked against their lists (choice filters, `or_other`, external and
//! from-file lists make that a job for a later stage).
//!
//! # Writers
//!
//! [`writers`] produces the formList, manifest and OpenRosa responses as ODK Central shapes
//! them, escaping every text (and replacing characters XML cannot carry), deterministically.
//!
//! The crate is pure: no IO, no clock, no globals.

pub mod erase;
pub mod parse;
pub mod typed;
pub mod writers;

pub use erase::{erase_answers, EraseError};
pub use parse::{
    is_encrypted_envelope, parse_submission, Limits, Submission, SubmissionError, Value,
};
pub use typed::{
    attachment_names, read_value, safe_attachment_name, type_values, Typed, TypedValue, ValueError,
};
pub use writers::{
    form_list, manifest, md5_hash, openrosa_error, openrosa_response, FormListEntry, MediaFile,
};

#[cfg(test)]
mod tests;
