//! Phone numbers to E.164 (`+` and up to 15 digits), as gateways write them in every style.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PhoneError {
    #[error("no phone number")]
    Empty,
    /// Letters or other signs: alphanumeric senders (`MTN`, `Orange`) are not people.
    #[error("not a phone number: {0:?}")]
    NotANumber(String),
    #[error("a phone number has 6 to 15 digits, not {0}")]
    Length(usize),
}

/// The longest national number without its trunk `0` that we complete with the default
/// country code; longer runs of digits are taken to include their country code already.
const NATIONAL_MAX: usize = 9;

/// Normalises `raw` to E.164. `default_country` (digits only, e.g. `235` for Chad) completes
/// national numbers: `0` trunk prefix (`066 12 34 56` → `+23566123456`) or a short number
/// (`66123456` → `+23566123456`). Accepts `tel:` URNs, `+`, `00` international prefixes,
/// spaces, dots, dashes and parentheses.
pub fn normalize(raw: &str, default_country: &str) -> Result<String, PhoneError> {
    let s = raw.trim();
    let s = s.strip_prefix("tel:").unwrap_or(s).trim();
    if s.is_empty() {
        return Err(PhoneError::Empty);
    }
    let mut plus = false;
    let mut digits = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '0'..='9' => digits.push(c),
            '+' if digits.is_empty() && !plus => plus = true,
            ' ' | '.' | '-' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return Err(PhoneError::NotANumber(raw.chars().take(32).collect())),
        }
    }
    if digits.is_empty() {
        return Err(PhoneError::NotANumber(raw.chars().take(32).collect()));
    }
    let international = if plus {
        digits
    } else if let Some(d) = digits.strip_prefix("00") {
        d.to_owned()
    } else if let Some(d) = digits.strip_prefix('0') {
        format!("{default_country}{d}")
    } else if digits.len() <= NATIONAL_MAX {
        format!("{default_country}{digits}")
    } else {
        digits
    };
    let n = international.len();
    if !(6..=15).contains(&n) || international.starts_with('0') {
        return Err(PhoneError::Length(n));
    }
    Ok(format!("+{international}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_style_gives_the_same_number() {
        for raw in [
            "+235 66 12 34 56",
            "00235 66-12-34-56",
            "23566123456",
            "66123456",
            "066.12.34.56",
            "tel:+23566123456",
            "(+235) 66 12 34 56",
        ] {
            assert_eq!(
                normalize(raw, "235").as_deref(),
                Ok("+23566123456"),
                "{raw}"
            );
        }
        assert_eq!(normalize("+14158675309", "235").unwrap(), "+14158675309");
    }

    #[test]
    fn senders_that_are_not_numbers_are_refused() {
        assert!(matches!(
            normalize("MTN", "235"),
            Err(PhoneError::NotANumber(_))
        ));
        assert_eq!(normalize("  ", "235"), Err(PhoneError::Empty));
        assert_eq!(normalize("+123", "235"), Err(PhoneError::Length(3)));
        assert_eq!(
            normalize("+1234567890123456", "235"),
            Err(PhoneError::Length(16))
        );
        assert!(normalize("+", "235").is_err());
        assert!(matches!(
            normalize("66+123456", "235"),
            Err(PhoneError::NotANumber(_))
        ));
        assert!(matches!(
            normalize("++23566123456", "235"),
            Err(PhoneError::NotANumber(_))
        ));
    }
}
