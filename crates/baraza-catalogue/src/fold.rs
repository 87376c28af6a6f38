//! Text folded for search: Unicode-decomposed, combining marks dropped, lower case; words are
//! runs of letters and digits.

use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// `s` in lower case without accents: "Économie d'Eau" -> "economie d'eau". Ligatures that
/// French writes (œ, æ) become two letters, as a French reader types them.
pub fn fold(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.nfkd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'œ' | 'Œ' => out.push_str("oe"),
            'æ' | 'Æ' => out.push_str("ae"),
            'ß' => out.push_str("ss"),
            _ => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The folded words of `s`, in order, with repeats.
pub fn words(s: &str) -> Vec<String> {
    fold(s)
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_case_and_composition_are_folded() {
        assert_eq!(fold("Économie"), "economie");
        // The same word written decomposed (E + combining acute).
        assert_eq!(fold("E\u{301}conomie"), "economie");
        assert_eq!(fold("Cœur SANTÉ"), "coeur sante");
        assert_eq!(
            words("L'accès à l'eau — N'Djaména, 2026"),
            ["l", "acces", "a", "l", "eau", "n", "djamena", "2026"]
        );
    }
}
