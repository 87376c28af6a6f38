//! Blind indexes: finding every record of one person without decrypting them all.
//!
//! A blind index is HMAC-SHA256, under a per-project index key derived from the project's
//! [`DataKey`] (one secret per project), of the kind of value and its *normalised* form,
//! truncated to 16 bytes and written in hex. Normalising first makes the index match what a
//! person would call the same value: `0 66 12 34 56` and `+235 66 12 34 56` are one phone
//! number in Chad, `Haroun Fatimé` and `fatime haroun` one name. Equal values give equal indexes
//! within a project and unrelated ones across projects; an index reveals nothing else, but a
//! value with few possibilities (a year of birth) can be guessed from its index by anyone who
//! holds the key, so blind indexes are for values with many possibilities.
//!
//! Normalisers, by [`BlindKind`]:
//! * `Phone` — digits only (Devanagari and Arabic-Indic digits read as such); a leading `+` or
//!   `00` keeps the country code; otherwise, given a default country calling code, the national
//!   number loses its leading zeros and gains `+code`. Letters are refused.
//! * `Email` — trimmed, lowercased.
//! * `Name` — Unicode NFKD with the Latin combining diacritics removed (marks of other scripts,
//!   such as Devanagari vowel signs, stay: they are letters there), lowercased, apostrophes
//!   dropped, other punctuation made a space, and the words sorted, so word order and accents do
//!   not matter.
//! * `Identifier` — uppercased, spaces and dashes removed.

use std::fmt;

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;
use zeroize::Zeroize;

use crate::error::{ProtectError, Result};
use crate::keys::{hmac_sha256, DataKey};

/// Bytes of HMAC kept in an index.
pub const BLIND_INDEX_LEN: usize = 16;

/// What kind of value is indexed, which decides how it is normalised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BlindKind {
    /// A phone number; `default_calling_code` (235 for Chad) completes national numbers.
    Phone { default_calling_code: Option<u16> },
    /// An e-mail address.
    Email,
    /// A person's name, in any word order.
    Name,
    /// An identity document or registration number.
    Identifier,
}

impl BlindKind {
    fn label(self) -> &'static str {
        match self {
            Self::Phone { .. } => "phone number",
            Self::Email => "e-mail address",
            Self::Name => "name",
            Self::Identifier => "identifier",
        }
    }
}

/// Normalises `raw` as a value of `kind`, as it is before being indexed.
pub fn normalise(kind: BlindKind, raw: &str) -> Result<String> {
    let normalised = match kind {
        BlindKind::Phone {
            default_calling_code,
        } => normalise_phone(raw, default_calling_code)?,
        BlindKind::Email => raw.trim().to_lowercase(),
        BlindKind::Name => normalise_name(raw),
        BlindKind::Identifier => raw
            .chars()
            .filter(|c| !c.is_whitespace() && !is_dash(*c))
            .flat_map(char::to_uppercase)
            .collect(),
    };
    if normalised.is_empty() || normalised == "+" {
        return Err(ProtectError::BlindEmpty {
            kind: kind.label(),
            shown: shorten(raw),
        });
    }
    Ok(normalised)
}

fn is_dash(c: char) -> bool {
    matches!(c, '-' | '\u{2010}'..='\u{2015}' | '\u{2212}')
}

/// At most 24 characters of a value, for an error message that must not spill a whole record.
fn shorten(raw: &str) -> String {
    let mut shown: String = raw.chars().take(24).collect();
    if raw.chars().count() > 24 {
        shown.push('…');
    }
    shown
}

fn digit_value(c: char) -> Option<char> {
    let zero = match c {
        '0'..='9' => return Some(c),
        '\u{0966}'..='\u{096F}' => 0x0966, // Devanagari
        '\u{0660}'..='\u{0669}' => 0x0660, // Arabic-Indic
        '\u{06F0}'..='\u{06F9}' => 0x06F0, // Extended Arabic-Indic
        '\u{FF10}'..='\u{FF19}' => 0xFF10, // fullwidth
        _ => return None,
    };
    char::from_digit(c as u32 - zero, 10)
}

fn normalise_phone(raw: &str, default_calling_code: Option<u16>) -> Result<String> {
    if let Some(code) = default_calling_code {
        if !(1..=999).contains(&code) {
            return Err(ProtectError::CallingCode { code });
        }
    }
    let trimmed = raw.trim();
    let (plus, rest) = match trimmed
        .strip_prefix('+')
        .or_else(|| trimmed.strip_prefix('\u{FF0B}'))
    {
        Some(rest) => (true, rest),
        None => (false, trimmed),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        if let Some(d) = digit_value(c) {
            digits.push(d);
        } else if !(c.is_whitespace() || is_dash(c) || matches!(c, '.' | '(' | ')' | '/')) {
            return Err(ProtectError::PhoneInvalid {
                shown: shorten(raw),
                found: c,
            });
        }
    }
    if digits.is_empty() {
        return Ok(String::new());
    }
    if plus {
        return Ok(format!("+{digits}"));
    }
    if let Some(international) = digits.strip_prefix("00") {
        return Ok(format!("+{international}"));
    }
    Ok(match default_calling_code {
        Some(code) => format!("+{code}{}", digits.trim_start_matches('0')),
        None => digits,
    })
}

fn is_latin_diacritic(c: char) -> bool {
    is_combining_mark(c)
        && matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}' | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

fn normalise_name(raw: &str) -> String {
    let mut cleaned = String::with_capacity(raw.len());
    for c in raw.nfkd().filter(|c| !is_latin_diacritic(*c)) {
        if matches!(c, '\'' | '\u{2019}' | '\u{02BC}' | '\u{2018}' | '`') {
            continue;
        }
        if c.is_alphanumeric() || is_combining_mark(c) {
            cleaned.extend(c.to_lowercase());
        } else {
            cleaned.push(' ');
        }
    }
    let mut words: Vec<&str> = cleaned.split_whitespace().collect();
    words.sort_unstable();
    words.join(" ")
}

/// A project's key for blind indexes, derived from its [`DataKey`].
#[derive(Clone)]
pub struct BlindIndexKey([u8; 32]);

impl BlindIndexKey {
    /// The blind index of `raw` as a value of `kind`: 32 hex digits.
    pub fn index(&self, kind: BlindKind, raw: &str) -> Result<String> {
        let label = match kind {
            BlindKind::Phone { .. } => "phone",
            BlindKind::Email => "email",
            BlindKind::Name => "name",
            BlindKind::Identifier => "identifier",
        };
        let mut normalised = normalise(kind, raw)?;
        let mac = hmac_sha256(&self.0, &[label.as_bytes(), b"\0", normalised.as_bytes()]);
        normalised.zeroize();
        Ok(hex::encode(&mac[..BLIND_INDEX_LEN]))
    }
}

impl Drop for BlindIndexKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for BlindIndexKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("BlindIndexKey(..)")
    }
}

impl DataKey {
    /// The project's blind-index key.
    pub fn blind_index_key(&self) -> BlindIndexKey {
        BlindIndexKey(self.derive(b"blind-index"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCHAD: BlindKind = BlindKind::Phone {
        default_calling_code: Some(235),
    };
    const KENYA: BlindKind = BlindKind::Phone {
        default_calling_code: Some(254),
    };
    const NEPAL: BlindKind = BlindKind::Phone {
        default_calling_code: Some(977),
    };
    const ARGENTINA: BlindKind = BlindKind::Phone {
        default_calling_code: Some(54),
    };
    const NO_COUNTRY: BlindKind = BlindKind::Phone {
        default_calling_code: None,
    };

    #[test]
    fn normalises_by_kind() {
        let cases = [
            (TCHAD, "0 66 12 34 56", "+23566123456"),
            (TCHAD, "66 12 34 56", "+23566123456"),
            (TCHAD, "+235 66-12-34-56", "+23566123456"),
            (TCHAD, "00235 66.12.34.56", "+23566123456"),
            (KENYA, "0712 345 678", "+254712345678"),
            (KENYA, "(0712) 345-678", "+254712345678"),
            (NEPAL, "984-1234567", "+9779841234567"),
            (NEPAL, "९८४१२३४५६७", "+9779841234567"),
            (ARGENTINA, "+54 9 11 1234-5678", "+5491112345678"),
            (ARGENTINA, "0054 9 11 1234 5678", "+5491112345678"),
            (TCHAD, "+33 6 12 34 56 78", "+33612345678"),
            (NO_COUNTRY, "066 12 34 56", "066123456"),
            (NO_COUNTRY, "+235 66 12 34 56", "+23566123456"),
            (
                BlindKind::Email,
                "  Fatime.Haroun@Example.ORG ",
                "fatime.haroun@example.org",
            ),
            (BlindKind::Name, "Haroun Fatimé", "fatime haroun"),
            (BlindKind::Name, "  fatime   HAROUN ", "fatime haroun"),
            (
                BlindKind::Name,
                "Mahamat-Saleh Abdérahim",
                "abderahim mahamat saleh",
            ),
            (BlindKind::Name, "Zoé N'Garé Œdipe", "ngare zoe œdipe"),
            (
                BlindKind::Name,
                "José María Núñez Peña",
                "jose maria nunez pena",
            ),
            (
                BlindKind::Name,
                "PEÑA, Núñez; José María",
                "jose maria nunez pena",
            ),
            (
                BlindKind::Name,
                "Rām Bahādur Shrestha",
                "bahadur ram shrestha",
            ),
            (
                BlindKind::Name,
                "SHRESTHA Ram Bahadur",
                "bahadur ram shrestha",
            ),
            (
                BlindKind::Name,
                "Sītā Kumārī Thāpā-Magar",
                "kumari magar sita thapa",
            ),
            (BlindKind::Name, "राम बहादुर", "बहादुर राम"),
            (BlindKind::Name, "ﬁrmin", "firmin"),
            (BlindKind::Identifier, "ab-12 345 c", "AB12345C"),
            (BlindKind::Identifier, "AB12345C", "AB12345C"),
        ];
        for (kind, raw, expected) in cases {
            assert_eq!(normalise(kind, raw).unwrap(), expected, "{kind:?} {raw:?}");
        }
    }

    #[test]
    fn refuses_what_cannot_be_indexed() {
        let cases = [
            (TCHAD, "", "blind_index_empty"),
            (TCHAD, " - ", "blind_index_empty"),
            (TCHAD, "+", "blind_index_empty"),
            (TCHAD, "66 12 34 56 ext 3", "phone_invalid"),
            (
                BlindKind::Phone {
                    default_calling_code: Some(1000),
                },
                "66 12 34 56",
                "calling_code_invalid",
            ),
            (
                BlindKind::Phone {
                    default_calling_code: Some(0),
                },
                "66 12 34 56",
                "calling_code_invalid",
            ),
            (BlindKind::Email, "   ", "blind_index_empty"),
            (BlindKind::Name, " ,.- ", "blind_index_empty"),
            (BlindKind::Identifier, " - ", "blind_index_empty"),
        ];
        for (kind, raw, code) in cases {
            assert_eq!(
                normalise(kind, raw).unwrap_err().code(),
                code,
                "{kind:?} {raw:?}"
            );
        }
    }

    #[test]
    fn equal_values_match_within_a_project_only() {
        let project = DataKey::from_bytes([1; 32]).blind_index_key();
        let other = DataKey::from_bytes([2; 32]).blind_index_key();
        let a = project.index(BlindKind::Name, "Haroun Fatimé").unwrap();
        assert_eq!(a.len(), 2 * BLIND_INDEX_LEN);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(a, project.index(BlindKind::Name, "FATIME haroun").unwrap());
        assert_ne!(a, project.index(BlindKind::Name, "Haroun Fatima").unwrap());
        assert_ne!(a, other.index(BlindKind::Name, "Haroun Fatimé").unwrap());
        assert_eq!(
            project.index(TCHAD, "0 66 12 34 56").unwrap(),
            project.index(KENYA, "+235 66 12 34 56").unwrap()
        );
        // The kind is part of the index: the same text as a name and as an identifier differ.
        assert_ne!(
            project.index(BlindKind::Name, "ab12").unwrap(),
            project.index(BlindKind::Identifier, "ab12").unwrap()
        );
        assert_eq!(format!("{project:?}"), "BlindIndexKey(..)");
    }
}
