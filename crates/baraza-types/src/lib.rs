//! Baraza's shared vocabulary.
//!
//! Every other crate speaks in these types: identifiers, the roles a person can hold in a project,
//! the permissions those roles grant, and the one table of error codes that the web edge turns into
//! HTTP statuses and that `docs/errors.md` documents.
//!
//! This crate does no IO, reads no clock and holds no global state: it is the bottom of the
//! dependency graph (`types` <- pure libraries <- `store` <- `core` <- `web` <- `baraza`).

mod error;
mod ids;
mod role;

pub use error::{ErrorCode, ErrorKind};
pub use ids::{OrgId, ProjectId, TokenId, UserId};
pub use role::{OrgRole, Permission, Role, Visibility};

/// Checks a slug: the readable name of an organisation or project in URLs.
///
/// Lowercase ASCII letters, digits and single hyphens, 2 to 63 characters, starting with a letter,
/// not ending with a hyphen, and not a word reserved for Baraza's own URLs.
pub fn check_slug(s: &str) -> Result<(), &'static str> {
    const RESERVED: &[&str] = &[
        "api", "new", "edit", "people", "projects", "settings", "static", "tokens", "json", "csv",
    ];
    if s.len() < 2 || s.len() > 63 {
        return Err("slug_length");
    }
    let bytes = s.as_bytes();
    if !bytes[0].is_ascii_lowercase() {
        return Err("slug_start");
    }
    if bytes[bytes.len() - 1] == b'-' {
        return Err("slug_end");
    }
    let mut prev_hyphen = false;
    for &b in bytes {
        match b {
            b'a'..=b'z' | b'0'..=b'9' => prev_hyphen = false,
            b'-' if !prev_hyphen => prev_hyphen = true,
            _ => return Err("slug_chars"),
        }
    }
    if RESERVED.contains(&s) {
        return Err("slug_reserved");
    }
    Ok(())
}

/// Derives a slug from a human name: accents folded, other characters turned into hyphens.
pub fn slugify(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        let folded = fold_accent(c).to_ascii_lowercase();
        if folded.is_ascii_alphanumeric() {
            out.push(folded);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
        if out.len() >= 60 {
            break;
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.chars().next().is_some_and(|c| c.is_ascii_digit()) {
        out.insert(0, 'p');
    }
    out
}

fn fold_accent(c: char) -> char {
    match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => 'a',
        'ç' | 'Ç' => 'c',
        'è' | 'é' | 'ê' | 'ë' | 'È' | 'É' | 'Ê' | 'Ë' => 'e',
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => 'i',
        'ñ' | 'Ñ' => 'n',
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' => 'o',
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => 'u',
        'ý' | 'ÿ' | 'Ý' => 'y',
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs() {
        let cases = [
            ("eau-tchad", Ok(())),
            ("a", Err("slug_length")),
            ("1abc", Err("slug_start")),
            ("abc-", Err("slug_end")),
            ("ab--c", Err("slug_chars")),
            ("Abc", Err("slug_start")),
            ("ab_c", Err("slug_chars")),
            ("api", Err("slug_reserved")),
        ];
        for (input, want) in cases {
            assert_eq!(check_slug(input), want, "{input}");
        }
    }

    #[test]
    fn slugify_folds_accents() {
        assert_eq!(
            slugify("Suivi des points d'eau — N'Djamena"),
            "suivi-des-points-d-eau-n-djamena"
        );
        assert_eq!(slugify("Électricité 2026"), "electricite-2026");
        assert_eq!(slugify("2026 enquête"), "p2026-enquete");
        assert!(check_slug(&slugify("Baromètre citoyen de l'eau")).is_ok());
    }
}
