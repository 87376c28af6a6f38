//! The audit log's hash chain.
//!
//! Every entry's hash commits to its own content and to the hash of the entry before it (the first
//! entry to 32 zero bytes). Changing, removing, inserting or reordering any entry therefore changes
//! every hash after it. Each entry is also signed with the server's Ed25519 key, over its sequence
//! number and hash: someone who can write to the database but does not hold the key file cannot
//! rebuild a consistent chain after a change, because the signatures would no longer verify.
//!
//! Verification recomputes every hash (fast: one SHA-256 of a few hundred bytes per entry) and
//! checks the signatures of a sample — every `signature_every`-th entry and always the last one —
//! because a valid chain up to a valid signature proves every entry before it. `--all-signatures`
//! callers pass 1. Cutting entries off the end leaves a shorter valid chain; that is caught by an
//! *anchor* (a sequence number and hash noted earlier, printed by every verification), which must
//! still be in the chain with the same hash.
//!
//! The hashed bytes are a fixed, length-prefixed encoding (below), never JSON: the same entry hashes
//! the same on every backend and in every version.

use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use sha2::{Digest, Sha256};

/// A key or anchor given as text that is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the {what} is not valid: expected {expected}")]
pub struct BadText {
    pub what: &'static str,
    pub expected: &'static str,
}

/// `N` bytes from their hexadecimal text (surrounding whitespace ignored), or `None`.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    // Through a table and without allocating: verification decodes a million hashes.
    let text = text.trim().as_bytes();
    if text.len() != 2 * N {
        return None;
    }
    let mut bytes = [0u8; N];
    let mut bad = 0u8;
    for (b, pair) in bytes.iter_mut().zip(text.chunks_exact(2)) {
        let (hi, lo) = (HEX[usize::from(pair[0])], HEX[usize::from(pair[1])]);
        bad |= hi | lo;
        *b = (hi << 4) | (lo & 0x0f);
    }
    (bad & 0xf0 == 0).then_some(bytes)
}

/// Each byte's value as a hexadecimal digit, 0xff if it is not one.
const HEX: [u8; 256] = {
    let mut t = [0xffu8; 256];
    let mut i = 0;
    while i < 10 {
        t[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        t[b'a' as usize + i] = 10 + i as u8;
        t[b'A' as usize + i] = 10 + i as u8;
        i += 1;
    }
    t
};

/// The hash before the first entry.
pub const GENESIS: [u8; 32] = [0; 32];

const DOMAIN: &[u8] = b"baraza-audit-v1\0";

/// What an entry says, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Content<'a> {
    /// Unix seconds.
    pub at: i64,
    /// Who did it: `user:12`, `app-user:3`, `system`, or `anonymous`.
    pub actor: &'a str,
    /// What was done, a stable dotted code (`auth.sign_in`, `export.download`…).
    pub action: &'a str,
    /// What it was done to (`project:3/form:points_eau`), empty when nothing in particular.
    pub target: &'a str,
    /// Details as JSON text, written once by the caller and hashed as bytes.
    pub details: &'a str,
}

/// The hash of an entry with sequence number `seq` after the entry whose hash is `prev`.
pub fn entry_hash(seq: u64, content: &Content<'_>, prev: &[u8; 32]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(DOMAIN);
    h.update(seq.to_be_bytes());
    h.update(content.at.to_be_bytes());
    for field in [
        content.actor,
        content.action,
        content.target,
        content.details,
    ] {
        // Lengths are bounded by what a database row holds; u64 keeps them unambiguous anyway.
        h.update((field.len() as u64).to_be_bytes());
        h.update(field.as_bytes());
    }
    h.update(prev);
    h.finalize().into()
}

fn signed_message(seq: u64, hash: &[u8; 32]) -> [u8; 48] {
    let mut m = [0u8; 48];
    m[..8].copy_from_slice(&seq.to_be_bytes());
    m[8..16].copy_from_slice(b"audit-v1");
    m[16..].copy_from_slice(hash);
    m
}

/// The server's signing key (Ed25519), made from 32 secret bytes that the caller keeps in a file.
pub struct AuditKey(SigningKey);

impl std::fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKey({})", self.public_hex())
    }
}

impl AuditKey {
    pub fn from_bytes(secret: &[u8; 32]) -> AuditKey {
        AuditKey(SigningKey::from_bytes(secret))
    }

    /// Reads the key file's text: 64 hexadecimal digits.
    pub fn from_text(text: &str) -> Result<AuditKey, BadText> {
        let bytes = from_hex::<32>(text).ok_or(BadText {
            what: "audit signing key",
            expected: "64 hexadecimal digits",
        })?;
        Ok(AuditKey::from_bytes(&bytes))
    }

    /// The key file's text.
    pub fn to_text(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// The public half, hexadecimal, to publish or to give to an auditor.
    pub fn public_hex(&self) -> String {
        hex::encode(self.0.verifying_key().to_bytes())
    }

    pub fn public(&self) -> AuditPublicKey {
        AuditPublicKey(self.0.verifying_key())
    }

    /// Signs entry `seq` with hash `hash`.
    pub fn sign(&self, seq: u64, hash: &[u8; 32]) -> [u8; 64] {
        self.0.sign(&signed_message(seq, hash)).to_bytes()
    }

    /// Signs a document the server vouches for (a release report…): the signed message is
    /// [`document_message`], so that it can never be taken for an audit entry's signature.
    pub fn sign_document(&self, kind: &str, document: &[u8]) -> [u8; 64] {
        self.0.sign(&document_message(kind, document)).to_bytes()
    }
}

/// What [`AuditKey::sign_document`] signs: `baraza-document-v1`, a zero byte, the document's
/// kind, a zero byte, then the SHA-256 of the document. An audit entry's message is 48 bytes
/// starting with a sequence number, so the two never coincide.
pub fn document_message(kind: &str, document: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(20 + kind.len() + 32);
    m.extend_from_slice(b"baraza-document-v1\0");
    m.extend_from_slice(kind.as_bytes());
    m.push(0);
    m.extend_from_slice(&Sha256::digest(document));
    m
}

/// The public key that checks the signatures.
#[derive(Debug, Clone)]
pub struct AuditPublicKey(VerifyingKey);

impl AuditPublicKey {
    pub fn from_hex(text: &str) -> Result<AuditPublicKey, BadText> {
        let bytes = from_hex::<32>(text).ok_or(BadText {
            what: "audit public key",
            expected: "64 hexadecimal digits",
        })?;
        VerifyingKey::from_bytes(&bytes)
            .map(AuditPublicKey)
            .map_err(|_| BadText {
                what: "audit public key",
                expected: "a valid Ed25519 public key",
            })
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0.to_bytes())
    }

    /// Checks a signature made by [`AuditKey::sign_document`].
    pub fn verify_document(&self, kind: &str, document: &[u8], signature: &[u8; 64]) -> bool {
        self.0
            .verify(
                &document_message(kind, document),
                &Signature::from_bytes(signature),
            )
            .is_ok()
    }

    pub fn verify(&self, seq: u64, hash: &[u8; 32], signature: &[u8; 64]) -> bool {
        self.0
            .verify(
                &signed_message(seq, hash),
                &Signature::from_bytes(signature),
            )
            .is_ok()
    }
}

/// One stored entry, as read back for verification.
#[derive(Debug, Clone)]
pub struct Stored<'a> {
    pub seq: u64,
    pub content: Content<'a>,
    pub prev: [u8; 32],
    pub hash: [u8; 32],
    pub signature: [u8; 64],
}

/// Why a chain does not verify; the sequence number says where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Break {
    /// A sequence number is missing or out of order.
    Gap { expected: u64, found: u64 },
    /// The entry does not point at the hash of the entry before it.
    Link { seq: u64 },
    /// The entry's content does not give its hash: it was changed.
    Content { seq: u64 },
    /// The signature does not verify with the server's key.
    Signature { seq: u64 },
    /// The anchor given is not in the chain with its hash (entries were cut off or rewritten).
    Anchor { seq: u64 },
}

impl std::fmt::Display for Break {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Break::Gap { expected, found } => write!(
                f,
                "entry {expected} is missing (the next entry is {found}): entries were removed"
            ),
            Break::Link { seq } => write!(
                f,
                "entry {seq} does not follow the entry before it: entries were removed, inserted or reordered"
            ),
            Break::Content { seq } => {
                write!(f, "entry {seq} was changed after it was written")
            }
            Break::Signature { seq } => write!(
                f,
                "the signature of entry {seq} does not verify with the server's audit key"
            ),
            Break::Anchor { seq } => write!(
                f,
                "the anchor entry {seq} is no longer in the log with the hash noted: entries were cut off or rewritten"
            ),
        }
    }
}

/// A verification in progress, fed entries in order (so that a log of any length is checked in
/// constant memory).
///
/// A long log can also be checked in parts at once: each part's verifier starts
/// ([`ChainVerifier::start_after`]) from the *stored* hash of the entry before its range, and
/// [`ChainVerifier::join`] then joins the parts in order, checking that each part starts exactly
/// where the part before it ended, on an entry that part verified. The parts together check what
/// one verifier fed the whole log checks.
#[derive(Debug)]
pub struct ChainVerifier {
    key: AuditPublicKey,
    signature_every: u64,
    /// The entry this verifier started after (`start_after`), `None` for the beginning.
    start: Option<(u64, [u8; 32])>,
    next_seq: Option<u64>,
    prev: [u8; 32],
    last: Option<(u64, [u8; 32], [u8; 64])>,
    last_signed: Option<u64>,
    anchor: Option<(u64, [u8; 32])>,
    anchor_seen: bool,
    entries: u64,
    signatures: u64,
}

/// What a successful verification found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub entries: u64,
    pub signatures_checked: u64,
    /// The last entry: its sequence number and hash, the anchor of a later verification.
    pub head: Option<(u64, [u8; 32])>,
}

impl ChainVerifier {
    /// `signature_every`: check the signature of every n-th entry (and always of the last);
    /// 1 checks them all. `anchor`: an entry that must be in the chain with this hash.
    pub fn new(
        key: AuditPublicKey,
        signature_every: u64,
        anchor: Option<(u64, [u8; 32])>,
    ) -> ChainVerifier {
        ChainVerifier {
            key,
            signature_every: signature_every.max(1),
            start: None,
            next_seq: None,
            prev: GENESIS,
            last: None,
            last_signed: None,
            anchor,
            anchor_seen: false,
            entries: 0,
            signatures: 0,
        }
    }

    /// Starts after entry `seq` whose hash is `hash`, for a log whose oldest entries were
    /// archived; `None` starts at the beginning (entry 1, after [`GENESIS`]).
    pub fn start_after(&mut self, seq: u64, hash: [u8; 32]) {
        self.start = Some((seq, hash));
        self.next_seq = Some(seq + 1);
        self.prev = hash;
    }

    /// Every how many entries a signature is checked.
    pub fn signature_every(&self) -> u64 {
        self.signature_every
    }

    /// The entry this verifier has reached: the last one checked, or the one it started after
    /// (`(0, GENESIS)` before the first entry).
    fn end(&self) -> (u64, [u8; 32]) {
        (self.next_seq.unwrap_or(1) - 1, self.prev)
    }

    /// Joins the verifier of the part of the log that follows this one's. `next` must have
    /// started after the entry this one ended on, with the same hash (the seam): otherwise
    /// entries are missing between the two parts ([`Break::Gap`]), or the entry at the seam is
    /// not the one this verifier checked ([`Break::Link`]). The joined verifier goes on from
    /// where `next` ended; [`ChainVerifier::finish`] then checks the last entry's signature and
    /// the anchor over all the parts. A part that found no entry at all adds nothing.
    pub fn join(mut self, next: ChainVerifier) -> Result<ChainVerifier, Break> {
        if next.start.is_none() && next.entries == 0 {
            // A part that found nothing at all in its range: the next seam, the anchor or the
            // caller's head say what is missing.
            return Ok(self);
        }
        let (end_seq, end_hash) = self.end();
        let (start_seq, start_hash) = next.start.unwrap_or((0, GENESIS));
        if start_seq > end_seq {
            return Err(Break::Gap {
                expected: end_seq + 1,
                found: start_seq,
            });
        }
        if start_seq != end_seq || start_hash != end_hash {
            return Err(Break::Link { seq: start_seq + 1 });
        }
        self.next_seq = next.next_seq.or(self.next_seq);
        self.prev = next.prev;
        if next.entries > 0 {
            self.last = next.last;
            self.last_signed = next.last_signed;
        }
        self.anchor_seen |= next.anchor_seen;
        self.entries += next.entries;
        self.signatures += next.signatures;
        Ok(self)
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &Stored<'_>) -> Result<(), Break> {
        let expected = self.next_seq.unwrap_or(1);
        if e.seq != expected {
            return Err(Break::Gap {
                expected,
                found: e.seq,
            });
        }
        if e.prev != self.prev {
            return Err(Break::Link { seq: e.seq });
        }
        if entry_hash(e.seq, &e.content, &e.prev) != e.hash {
            return Err(Break::Content { seq: e.seq });
        }
        if let Some((seq, hash)) = self.anchor {
            if seq == e.seq {
                if hash != e.hash {
                    return Err(Break::Anchor { seq });
                }
                self.anchor_seen = true;
            }
        }
        if e.seq.is_multiple_of(self.signature_every) {
            if !self.key.verify(e.seq, &e.hash, &e.signature) {
                return Err(Break::Signature { seq: e.seq });
            }
            self.signatures += 1;
            self.last_signed = Some(e.seq);
        }
        self.next_seq = Some(e.seq + 1);
        self.prev = e.hash;
        self.last = Some((e.seq, e.hash, e.signature));
        self.entries += 1;
        Ok(())
    }

    /// Ends the verification: the last entry's signature, and the anchor.
    pub fn finish(mut self) -> Result<Verified, Break> {
        if let Some((seq, hash, signature)) = self.last {
            if self.last_signed != Some(seq) {
                if !self.key.verify(seq, &hash, &signature) {
                    return Err(Break::Signature { seq });
                }
                self.signatures += 1;
            }
        }
        if let Some((seq, _)) = self.anchor {
            if !self.anchor_seen {
                return Err(Break::Anchor { seq });
            }
        }
        Ok(Verified {
            entries: self.entries,
            signatures_checked: self.signatures,
            head: self.last.map(|(s, h, _)| (s, h)),
        })
    }
}

/// Parses an anchor as printed by a verification: `SEQ:HASH` (hash in hexadecimal).
pub fn parse_anchor(text: &str) -> Result<(u64, [u8; 32]), BadText> {
    let bad = || BadText {
        what: "anchor",
        expected: "the sequence number and hash a verification printed, as SEQ:HASH",
    };
    let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
    let seq = seq.parse::<u64>().map_err(|_| bad())?;
    let hash = from_hex::<32>(hash).ok_or_else(bad)?;
    Ok((seq, hash))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_signature_names_its_kind_and_content_and_is_no_entry_signature() {
        let key = AuditKey::from_bytes(&[7; 32]);
        let public = key.public();
        let sig = key.sign_document("release-report", b"{\"records\":8}");
        assert!(public.verify_document("release-report", b"{\"records\":8}", &sig));
        assert!(!public.verify_document("release-report", b"{\"records\":9}", &sig));
        assert!(!public.verify_document("other-kind", b"{\"records\":8}", &sig));
        let other = AuditKey::from_bytes(&[8; 32]).public();
        assert!(!other.verify_document("release-report", b"{\"records\":8}", &sig));
        // Never valid as an audit entry's signature, whatever its sequence and hash.
        let hash: [u8; 32] = Sha256::digest(b"{\"records\":8}").into();
        assert!(!public.verify(0, &hash, &sig));
        assert_eq!(document_message("k", b"").len(), 19 + 1 + 1 + 32);
    }

    struct Owned {
        seq: u64,
        at: i64,
        actor: String,
        action: String,
        target: String,
        details: String,
        prev: [u8; 32],
        hash: [u8; 32],
        signature: [u8; 64],
    }

    impl Owned {
        fn stored(&self) -> Stored<'_> {
            Stored {
                seq: self.seq,
                content: Content {
                    at: self.at,
                    actor: &self.actor,
                    action: &self.action,
                    target: &self.target,
                    details: &self.details,
                },
                prev: self.prev,
                hash: self.hash,
                signature: self.signature,
            }
        }
    }

    fn chain(key: &AuditKey, n: u64) -> Vec<Owned> {
        let mut prev = GENESIS;
        (1..=n)
            .map(|seq| {
                let mut e = Owned {
                    seq,
                    at: 1_700_000_000 + seq as i64,
                    actor: format!("user:{}", seq % 3),
                    action: "export.download".into(),
                    target: "project:1/form:points_eau".into(),
                    details: format!("{{\"rows\":{seq}}}"),
                    prev,
                    hash: [0; 32],
                    signature: [0; 64],
                };
                e.hash = entry_hash(seq, &e.stored().content, &prev);
                e.signature = key.sign(seq, &e.hash);
                prev = e.hash;
                e
            })
            .collect()
    }

    fn verify(
        key: &AuditKey,
        entries: &[Owned],
        every: u64,
        anchor: Option<(u64, [u8; 32])>,
    ) -> Result<Verified, Break> {
        let mut v = ChainVerifier::new(key.public(), every, anchor);
        for e in entries {
            v.push(&e.stored())?;
        }
        v.finish()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let key = AuditKey::from_bytes(&[7; 32]);
        let entries = chain(&key, 25);
        let ok = verify(&key, &entries, 10, None).unwrap();
        assert_eq!(ok.entries, 25);
        // Entries 10 and 20, and the last one.
        assert_eq!(ok.signatures_checked, 3);
        assert_eq!(ok.head, Some((25, entries[24].hash)));
        assert_eq!(
            verify(&key, &entries, 1, None).unwrap().signatures_checked,
            25
        );
        assert_eq!(verify(&key, &[], 1, None).unwrap().entries, 0);
    }

    #[test]
    fn every_kind_of_tampering_is_found_where_it_is() {
        let key = AuditKey::from_bytes(&[7; 32]);
        type Tamper = Box<dyn Fn(&mut Vec<Owned>)>;
        let cases: Vec<(&str, Tamper, Break)> = vec![
            (
                "details changed",
                Box::new(|c| c[4].details = "{\"rows\":0}".into()),
                Break::Content { seq: 5 },
            ),
            (
                "actor changed",
                Box::new(|c| c[0].actor = "user:99".into()),
                Break::Content { seq: 1 },
            ),
            (
                "time changed",
                Box::new(|c| c[11].at += 1),
                Break::Content { seq: 12 },
            ),
            (
                "entry removed",
                Box::new(|c| {
                    c.remove(6);
                }),
                Break::Gap {
                    expected: 7,
                    found: 8,
                },
            ),
            (
                "entries swapped",
                Box::new(|c| c.swap(2, 3)),
                Break::Gap {
                    expected: 3,
                    found: 4,
                },
            ),
            (
                "entry removed and the rest renumbered",
                Box::new(|c| {
                    c.remove(6);
                    for e in c.iter_mut().skip(6) {
                        e.seq -= 1;
                    }
                }),
                Break::Link { seq: 7 },
            ),
        ];
        for (what, tamper, expected) in cases {
            let mut c = chain(&key, 12);
            tamper(&mut c);
            assert_eq!(verify(&key, &c, 1, None).unwrap_err(), expected, "{what}");
        }
    }

    #[test]
    fn a_rebuilt_chain_without_the_key_fails_its_signatures() {
        let key = AuditKey::from_bytes(&[7; 32]);
        let forger = AuditKey::from_bytes(&[8; 32]);
        let mut c = chain(&key, 12);
        // The forger changes entry 5 and rehashes everything after it, but cannot sign.
        c[4].details = "{\"rows\":0}".into();
        let mut prev = c[3].hash;
        for e in c.iter_mut().skip(4) {
            e.prev = prev;
            e.hash = entry_hash(e.seq, &e.stored().content, &prev);
            e.signature = forger.sign(e.seq, &e.hash);
            prev = e.hash;
        }
        // Sampled: the last entry's signature is always checked.
        assert_eq!(
            verify(&key, &c, 100, None).unwrap_err(),
            Break::Signature { seq: 12 }
        );
        assert_eq!(
            verify(&key, &c, 1, None).unwrap_err(),
            Break::Signature { seq: 5 }
        );
    }

    #[test]
    fn cutting_the_tail_is_caught_by_an_anchor() {
        let key = AuditKey::from_bytes(&[7; 32]);
        let mut c = chain(&key, 12);
        let anchor = (10, c[9].hash);
        assert!(verify(&key, &c, 5, Some(anchor)).is_ok());
        c.truncate(8);
        // Without an anchor a shorter chain is still a valid chain…
        assert!(verify(&key, &c, 5, None).is_ok());
        // …which the anchor noted earlier exposes.
        assert_eq!(
            verify(&key, &c, 5, Some(anchor)).unwrap_err(),
            Break::Anchor { seq: 10 }
        );
        let wrong = (3, [1; 32]);
        assert_eq!(
            verify(&key, &c, 5, Some(wrong)).unwrap_err(),
            Break::Anchor { seq: 3 }
        );
    }

    /// Verifies `entries` in parts, as a reader of each range would: the part of `(b, next b]`
    /// starts after the first entry it finds from `b` on, whatever it is, and the parts are
    /// joined in order.
    fn verify_in_parts(
        key: &AuditKey,
        entries: &[Owned],
        every: u64,
        anchor: Option<(u64, [u8; 32])>,
        bounds: &[u64],
    ) -> Result<Verified, Break> {
        let mut joined: Option<ChainVerifier> = None;
        for (i, &lo) in bounds.iter().enumerate() {
            let hi = bounds.get(i + 1).copied().unwrap_or(u64::MAX);
            let mut v = ChainVerifier::new(key.public(), every, anchor);
            let mut range = entries.iter().filter(|e| e.seq >= lo && e.seq <= hi);
            if lo > 0 {
                if let Some(first) = range.next() {
                    v.start_after(first.seq, first.hash);
                }
            }
            let mut failed = None;
            for e in range {
                if let Err(b) = v.push(&e.stored()) {
                    failed = Some(b);
                    break;
                }
            }
            joined = Some(match joined {
                None => v,
                Some(j) => j.join(v)?,
            });
            if let Some(b) = failed {
                return Err(b);
            }
        }
        joined.expect("at least one part").finish()
    }

    #[test]
    fn a_log_checked_in_parts_is_checked_as_strongly_as_in_one() {
        let key = AuditKey::from_bytes(&[7; 32]);
        let bounds = [0, 10, 20];
        let intact = chain(&key, 30);
        for every in [1, 10, 7, 100] {
            assert_eq!(
                verify_in_parts(&key, &intact, every, None, &bounds),
                verify(&key, &intact, every, None),
                "every {every}"
            );
        }
        let at_seam = Some((20, intact[19].hash));
        assert!(verify_in_parts(&key, &intact, 7, at_seam, &bounds).is_ok());
        type Tamper = Box<dyn Fn(&mut Vec<Owned>)>;
        let forger = AuditKey::from_bytes(&[8; 32]);
        let cases: Vec<(&str, Tamper, Break)> = vec![
            (
                "the entry at the seam changed",
                Box::new(|c| c[9].details = "{}".into()),
                Break::Content { seq: 10 },
            ),
            (
                "the entry after the seam changed",
                Box::new(|c| c[10].details = "{}".into()),
                Break::Content { seq: 11 },
            ),
            (
                "the stored hash the next part starts from changed",
                Box::new(|c| c[9].hash[0] ^= 1),
                Break::Content { seq: 10 },
            ),
            (
                "the entry at the seam removed",
                Box::new(|c| {
                    c.remove(9);
                }),
                Break::Gap {
                    expected: 10,
                    found: 11,
                },
            ),
            (
                "the entry after the seam removed",
                Box::new(|c| {
                    c.remove(10);
                }),
                Break::Gap {
                    expected: 11,
                    found: 12,
                },
            ),
            (
                "a whole part removed",
                Box::new(|c| {
                    c.drain(10..20);
                }),
                Break::Gap {
                    expected: 11,
                    found: 21,
                },
            ),
            (
                "the entries on either side of the seam swapped",
                Box::new(|c| {
                    let (a, b) = (c[9].seq, c[10].seq);
                    c.swap(9, 10);
                    c[9].seq = a;
                    c[10].seq = b;
                }),
                Break::Link { seq: 10 },
            ),
            (
                "the entry at the seam removed and the rest renumbered",
                Box::new(|c| {
                    c.remove(9);
                    for e in c.iter_mut().skip(9) {
                        e.seq -= 1;
                    }
                }),
                Break::Link { seq: 10 },
            ),
            (
                "rebuilt from the seam without the key",
                Box::new(move |c| {
                    c[9].details = "{}".into();
                    let mut prev = c[8].hash;
                    for e in c.iter_mut().skip(9) {
                        e.prev = prev;
                        e.hash = entry_hash(e.seq, &e.stored().content, &prev);
                        e.signature = forger.sign(e.seq, &e.hash);
                        prev = e.hash;
                    }
                }),
                Break::Signature { seq: 30 },
            ),
        ];
        for (what, tamper, expected) in cases {
            let mut c = chain(&key, 30);
            tamper(&mut c);
            assert_eq!(verify(&key, &c, 100, None), Err(expected.clone()), "{what}");
            assert_eq!(
                verify_in_parts(&key, &c, 100, None, &bounds),
                Err(expected),
                "{what}, in parts"
            );
        }
        // A cut tail, with an anchor in the last part or at a seam.
        let mut c = chain(&key, 30);
        let anchors = [(27, c[26].hash), (20, c[19].hash)];
        c.truncate(24);
        assert_eq!(
            verify_in_parts(&key, &c, 100, Some(anchors[0]), &bounds),
            Err(Break::Anchor { seq: 27 })
        );
        c.truncate(19);
        assert_eq!(
            verify_in_parts(&key, &c, 100, Some(anchors[1]), &bounds),
            Err(Break::Anchor { seq: 20 })
        );
        // Parts that do not meet are refused, whichever way they miss.
        let mut a = ChainVerifier::new(key.public(), 1, None);
        for e in &intact[..10] {
            a.push(&e.stored()).unwrap();
        }
        let mut b = ChainVerifier::new(key.public(), 1, None);
        b.start_after(10, [0; 32]);
        assert_eq!(a.join(b).unwrap_err(), Break::Link { seq: 11 });
    }

    #[test]
    fn fields_cannot_bleed_into_each_other() {
        let a = Content {
            at: 1,
            actor: "user:1",
            action: "a.b",
            target: "x",
            details: "",
        };
        let b = Content {
            target: "",
            details: "x",
            ..a.clone()
        };
        assert_ne!(entry_hash(1, &a, &GENESIS), entry_hash(1, &b, &GENESIS));
    }

    #[test]
    fn hexadecimal_reads_as_the_hex_crate_reads_it() {
        let bytes: [u8; 32] = std::array::from_fn(|i| (i * 37 + 11) as u8);
        for text in [hex::encode(bytes), hex::encode_upper(bytes)] {
            assert_eq!(from_hex::<32>(&text), Some(bytes));
            assert_eq!(from_hex::<32>(&format!(" {text}\n")), Some(bytes));
            assert_eq!(from_hex::<31>(&text), None);
            for bad in [b'g', b'G', b':', b'/', b'@', b'`', 0x1f, 0xc3] {
                let mut t = text.clone().into_bytes();
                t[17] = bad;
                let t = String::from_utf8_lossy(&t).into_owned();
                assert_eq!(from_hex::<32>(&t), None, "{t}");
            }
        }
        assert_eq!(from_hex::<2>("0aF"), None);
        assert_eq!(from_hex::<0>(""), Some([]));
    }

    #[test]
    fn keys_and_anchors_read_back() {
        let key = AuditKey::from_bytes(&[9; 32]);
        let again = AuditKey::from_text(&key.to_text()).unwrap();
        assert_eq!(again.public_hex(), key.public_hex());
        assert!(!format!("{key:?}").contains(&key.to_text()));
        let public = AuditPublicKey::from_hex(&key.public_hex()).unwrap();
        let hash = [3; 32];
        assert!(public.verify(4, &hash, &key.sign(4, &hash)));
        assert!(!public.verify(5, &hash, &key.sign(4, &hash)));
        assert!(AuditKey::from_text("abc").is_err());
        assert_eq!(
            parse_anchor(&format!("12:{}", hex::encode([5u8; 32]))).unwrap(),
            (12, [5; 32])
        );
        for bad in ["12", "x:00", "12:zz", "12:0011"] {
            assert!(parse_anchor(bad).is_err(), "{bad}");
        }
    }
}
