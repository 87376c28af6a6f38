//! Never twice, never exposed: deduplication keys and phone pseudonyms, as pure functions.
//!
//! A gateway may post the same message several times (a retry after a timeout, a phone
//! re-syncing). Two keys catch it:
//!
//! - [`provider_key`]: the gateway's own message id, exact;
//! - [`content_key`]: the folded text, the sender's pseudonym and the time window the message
//!   fell in. A message is a duplicate when the key of its window **or of the window before**
//!   ([`content_keys_to_check`]) was seen: two copies up to one window apart are always caught,
//!   copies two windows apart never.
//!
//! Phone numbers are stored encrypted; what links a sender's reports, and what the keys above
//! use, is [`pseudonym`]: an HMAC-SHA256 of the E.164 number under a secret key of the instance.
//! Without the key the pseudonym cannot be reversed by trying every number.

use crate::text::fold;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The pseudonym of a sender: `p1:` and the hex HMAC-SHA256 of the E.164 number (normalise it
/// with [`crate::phone::normalize`] first, so that every spelling gives the same pseudonym).
/// `p1` names the scheme so that a later one can live beside it.
pub fn pseudonym(key: &[u8], phone_e164: &str) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(phone_e164.trim().as_bytes());
    format!("p1:{}", hex::encode(mac.finalize().into_bytes()))
}

/// The key of a message by its gateway id: `gateway:id`.
pub fn provider_key(gateway: crate::Gateway, provider_message_id: &str) -> String {
    format!("{}:{}", gateway.code(), provider_message_id.trim())
}

/// The text as compared: folded (case, accents, punctuation and spacing aside).
pub fn normalize_text(text: &str) -> String {
    fold(text)
}

/// The content key of a message received at `unix_seconds` in window number `window`
/// (see [`window_of`]): hex SHA-256 of the pseudonym, the window and the normalised text.
pub fn content_key(text: &str, pseudonym: &str, window: i64) -> String {
    let mut h = Sha256::new();
    h.update(pseudonym.as_bytes());
    h.update([0]);
    h.update(window.to_be_bytes());
    h.update([0]);
    h.update(normalize_text(text).as_bytes());
    hex::encode(h.finalize())
}

/// The window a time falls in, for windows of `window_seconds` (at least one second).
pub fn window_of(unix_seconds: i64, window_seconds: i64) -> i64 {
    unix_seconds.div_euclid(window_seconds.max(1))
}

/// The key to store for a message, and the keys that make it a duplicate if seen: its own
/// window's and the previous window's.
pub fn content_keys_to_check(
    text: &str,
    pseudonym: &str,
    unix_seconds: i64,
    window_seconds: i64,
) -> [String; 2] {
    let w = window_of(unix_seconds, window_seconds);
    [
        content_key(text, pseudonym, w),
        content_key(text, pseudonym, w - 1),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phone::normalize;
    use crate::Gateway;

    #[test]
    fn pseudonyms_are_keyed_stable_and_blind_to_spelling() {
        let key = b"instance secret";
        let a = pseudonym(key, &normalize("066 12 34 56", "235").unwrap());
        let b = pseudonym(key, &normalize("+235 66123456", "235").unwrap());
        assert_eq!(a, b);
        assert!(a.starts_with("p1:") && a.len() == 3 + 64);
        assert!(!a.contains("66123456"));
        assert_ne!(a, pseudonym(b"another secret", "+23566123456"));
        assert_ne!(a, pseudonym(key, "+23566123457"));
        // RFC 4231 test case 2 (key "Jefe"): the HMAC is the standard one.
        assert_eq!(
            pseudonym(b"Jefe", "what do ya want for nothing?"),
            "p1:5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn provider_keys_name_the_gateway() {
        assert_eq!(provider_key(Gateway::Twilio, " SM1 "), "twilio:SM1");
        assert_ne!(
            provider_key(Gateway::Twilio, "1"),
            provider_key(Gateway::SmsSync, "1")
        );
    }

    #[test]
    fn content_keys_catch_copies_within_a_window_only() {
        let p = pseudonym(b"k", "+23566123456");
        let w = 600;
        let t0 = 1_795_000_000 - 1_795_000_000 % 600 + 590; // ten seconds before a boundary
        let first = content_keys_to_check("EAU 3 Khouma panne", &p, t0, w);
        // A copy 20 s later, across the window boundary, with other case and spacing: caught.
        let copy = content_keys_to_check("eau  3 KHOUMA  Panne ", &p, t0 + 20, w);
        assert!(copy.contains(&first[0]));
        // The same text from someone else, or another text: not a copy.
        let other = pseudonym(b"k", "+23566123457");
        assert!(!content_keys_to_check("EAU 3 Khouma panne", &other, t0, w).contains(&first[0]));
        assert!(!content_keys_to_check("EAU 4 Khouma panne", &p, t0, w).contains(&first[0]));
        // Two windows later: a new report.
        assert!(
            !content_keys_to_check("EAU 3 Khouma panne", &p, t0 + 2 * w, w).contains(&first[0])
        );
        assert_eq!(window_of(-1, 600), -1);
        assert_eq!(window_of(5, 0), 5);
    }
}
