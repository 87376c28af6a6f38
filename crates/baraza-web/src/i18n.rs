//! French and English for every text a person reads.
//!
//! The catalogues are TOML files (`locales/en.toml`, `locales/fr.toml`), flat `key = "text"`
//! tables that translators can edit without reading Rust, embedded in the binary and parsed once
//! at start. A test checks that both have exactly the same keys and the same `{placeholders}`.
//!
//! The language of a request is, in order: the `lang` cookie set by the switch in the page header
//! (or at sign-in from the account's choice), the `Accept-Language` header, the instance default.

use std::collections::HashMap;

/// A language Baraza speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    En,
    Fr,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::En, Lang::Fr];

    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Fr => "fr",
        }
    }

    /// The language's name in itself, for the switch.
    pub fn native_name(self) -> &'static str {
        match self {
            Lang::En => "English",
            Lang::Fr => "Français",
        }
    }

    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.split(['-', '_']).next()?.trim();
        if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else if primary.eq_ignore_ascii_case("fr") {
            Some(Lang::Fr)
        } else {
            None
        }
    }

    /// The best language for an `Accept-Language` header (RFC 9110 §12.5.4), if any fits.
    /// Malformed parts are skipped; ties keep the header's order.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut best: Option<(Lang, u16)> = None;
        for part in header.split(',').take(32) {
            let mut pieces = part.split(';');
            let tag = pieces.next().unwrap_or("").trim();
            let mut q = 1000u16;
            for p in pieces {
                if let Some(v) = p.trim().strip_prefix("q=") {
                    q = parse_q(v).unwrap_or(0);
                }
            }
            if q == 0 {
                continue;
            }
            if let Some(lang) = Lang::from_code(tag) {
                if best.is_none_or(|(_, bq)| q > bq) {
                    best = Some((lang, q));
                }
            }
        }
        best.map(|(l, _)| l)
    }
}

/// A quality value as thousandths (`0.8` -> 800), or `None` when malformed.
fn parse_q(v: &str) -> Option<u16> {
    let v = v.trim();
    if v.len() > 5 {
        return None;
    }
    let f: f32 = v.parse().ok()?;
    if !(0.0..=1.0).contains(&f) {
        return None;
    }
    Some((f * 1000.0).round() as u16)
}

/// The catalogues.
#[derive(Debug)]
pub struct I18n {
    en: HashMap<String, String>,
    fr: HashMap<String, String>,
}

const EN: &str = include_str!("../locales/en.toml");
const FR: &str = include_str!("../locales/fr.toml");

fn parse_catalog(name: &str, text: &str) -> Result<HashMap<String, String>, String> {
    let table: toml::Table = text.parse().map_err(|e| format!("locales/{name}: {e}"))?;
    let mut out = HashMap::new();
    flatten("", &table, &mut out, name)?;
    Ok(out)
}

fn flatten(
    prefix: &str,
    table: &toml::Table,
    out: &mut HashMap<String, String>,
    name: &str,
) -> Result<(), String> {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            toml::Value::String(s) => {
                out.insert(key, s.clone());
            }
            toml::Value::Table(t) => flatten(&key, t, out, name)?,
            _ => return Err(format!("locales/{name}: {key} must be a string")),
        }
    }
    Ok(())
}

impl I18n {
    /// Parses the embedded catalogues.
    pub fn load() -> Result<I18n, String> {
        Ok(I18n {
            en: parse_catalog("en.toml", EN)?,
            fr: parse_catalog("fr.toml", FR)?,
        })
    }

    /// The text for `key` in `lang`, falling back to English, then to the key itself (so a
    /// missing translation shows up plainly instead of failing the page).
    pub fn t<'a>(&'a self, lang: Lang, key: &'a str) -> &'a str {
        let primary = match lang {
            Lang::En => &self.en,
            Lang::Fr => &self.fr,
        };
        primary
            .get(key)
            .or_else(|| self.en.get(key))
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// The text for `key` with `{name}` placeholders filled in.
    pub fn tf(&self, lang: Lang, key: &str, args: &[(&str, &str)]) -> String {
        let mut s = self.t(lang, key).to_owned();
        for (name, value) in args {
            s = s.replace(&format!("{{{name}}}"), value);
        }
        s
    }

    #[cfg(test)]
    fn keys(&self, lang: Lang) -> std::collections::BTreeSet<&str> {
        match lang {
            Lang::En => self.en.keys().map(String::as_str).collect(),
            Lang::Fr => self.fr.keys().map(String::as_str).collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baraza_types::ErrorCode;
    use proptest::prelude::*;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s
            .split('{')
            .skip(1)
            .filter_map(|p| p.split_once('}').map(|(name, _)| name))
            .collect();
        v.sort_unstable();
        v
    }

    #[test]
    fn catalogues_have_the_same_keys_and_placeholders() {
        let i = I18n::load().unwrap();
        let en = i.keys(Lang::En);
        let fr = i.keys(Lang::Fr);
        let only_en: Vec<_> = en.difference(&fr).collect();
        let only_fr: Vec<_> = fr.difference(&en).collect();
        assert!(only_en.is_empty(), "missing in fr.toml: {only_en:?}");
        assert!(only_fr.is_empty(), "missing in en.toml: {only_fr:?}");
        for k in en {
            assert_eq!(
                placeholders(i.t(Lang::En, k)),
                placeholders(i.t(Lang::Fr, k)),
                "placeholders of {k}"
            );
        }
    }

    #[test]
    fn every_error_code_has_a_message() {
        let i = I18n::load().unwrap();
        for c in ErrorCode::ALL {
            let key = format!("error.{}", c.as_str());
            for lang in Lang::ALL {
                assert_ne!(i.t(lang, &key), key, "{key} in {lang:?}");
            }
        }
    }

    #[test]
    fn accept_language() {
        let cases = [
            ("fr-FR,fr;q=0.9,en;q=0.8", Some(Lang::Fr)),
            ("en-GB,en;q=0.9", Some(Lang::En)),
            ("sw,en;q=0.5,fr;q=0.7", Some(Lang::Fr)),
            ("de", None),
            ("", None),
            ("fr;q=0,en", Some(Lang::En)),
            ("fr;q=abc, en;q=0.1", Some(Lang::En)),
            ("*", None),
        ];
        for (h, want) in cases {
            assert_eq!(Lang::from_accept_language(h), want, "{h}");
        }
    }

    proptest! {
        #[test]
        fn accept_language_never_panics(h in ".{0,300}") {
            let _ = Lang::from_accept_language(&h);
        }
    }
}
