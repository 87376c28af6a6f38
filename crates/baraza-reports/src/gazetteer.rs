//! Place names typed on phones, matched against the place gazetteer.
//!
//! A place has a name, alternative names (old names, local spellings, abbreviations such as
//! `NDJ`) and an admin code (`TD-ND`). A query matches a place through, in order of confidence:
//!
//! 1. the same folded text (case, accents and punctuation aside): `N'Djaména` = `ndjamena`…
//!    — spaces aside too, so `N Djamena` and `NDjamena` are the same name;
//! 2. the same *skeleton*, which also forgets the spelling variants common in French and
//!    Chadian transliteration: `dj`/`j`, `tch`/`ch`/`sh`, `ou`/`u`/`w`, `y`/`i`, `k`/`q`/`c` before
//!    a consonant…, doubled letters and a final mute `e` (`Abéché` = `Abeshe`, `Moussoro` =
//!    `Musoro`);
//! 3. a Damerau-Levenshtein distance between skeletons within a tolerance that grows with the
//!    length: none up to 3 letters, 1 up to 5, 2 up to 9, 3 beyond.
//!
//! The best score wins; when two different places share it, the answer is ambiguous and lists
//! them (`Mao` is a town and a sub-prefecture…), for a person to decide.

use crate::text::{fold, osa_distance};
use foldhash::{HashMap, HashMapExt};

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    /// Our id of the place.
    pub id: String,
    pub name: String,
    pub alt_names: Vec<String>,
    pub admin_code: String,
}

/// How a query matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum MatchKind {
    Fuzzy,
    Variant,
    Exact,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PlaceMatch {
    /// Index of the place in the gazetteer.
    pub place: usize,
    /// 1.0 for an exact match, down to about 0.6 for the furthest fuzzy one.
    pub score: f32,
    pub kind: MatchKind,
    /// The name or alternative name that matched, as written in the gazetteer.
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Lookup {
    Found(PlaceMatch),
    /// Several places match equally well, best first.
    Ambiguous(Vec<PlaceMatch>),
    NotFound,
}

/// The places and their indexes.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    places: Vec<Place>,
    /// Folded, space-free name → (place, name).
    exact: HashMap<String, Vec<(usize, String)>>,
    /// Skeleton → (place, name).
    variant: HashMap<String, Vec<(usize, String)>>,
    /// (skeleton, place, name) for the fuzzy scan.
    all: Vec<(String, usize, String)>,
}

/// Folded, without spaces: the key of exact matches.
fn compact(s: &str) -> String {
    fold(s).chars().filter(|c| !c.is_whitespace()).collect()
}

/// The spelling skeleton of a name (see the module documentation).
pub fn skeleton(s: &str) -> String {
    let c = compact(s);
    let mut t = c
        .replace("tch", "ch")
        .replace("sh", "ch")
        .replace("dj", "j")
        .replace("ou", "u")
        .replace("w", "u")
        .replace("y", "i")
        .replace("ph", "f")
        .replace("qu", "k")
        .replace("ck", "k")
        .replace("q", "k")
        .replace("gu", "g");
    // `c` sounding like `k` (before a, o, u, a consonant or at the end).
    let chars: Vec<char> = t.chars().collect();
    let mut out = String::with_capacity(t.len());
    for (i, &ch) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied();
        if ch == 'c' && !matches!(next, Some('e' | 'i' | 'h')) {
            out.push('k');
        } else {
            out.push(ch);
        }
    }
    t = out;
    // Doubled letters once.
    let mut dedup = String::with_capacity(t.len());
    let mut last = None;
    for ch in t.chars() {
        if Some(ch) != last {
            dedup.push(ch);
        }
        last = Some(ch);
    }
    // A final mute `e` after a consonant (`Abeche`, `Abech`).
    if dedup.chars().count() > 3 && dedup.ends_with('e') {
        let before = dedup.chars().rev().nth(1);
        if before.is_some_and(|b| !"aeiou".contains(b)) {
            dedup.pop();
        }
    }
    dedup
}

/// Words of a free text searched for a place: an SMS has fewer.
pub const MAX_WORDS: usize = 60;

fn tolerance(len: usize) -> usize {
    match len {
        0..=3 => 0,
        4..=5 => 1,
        6..=9 => 2,
        _ => 3,
    }
}

impl Gazetteer {
    pub fn new(places: Vec<Place>) -> Gazetteer {
        let mut exact: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        let mut variant: HashMap<String, Vec<(usize, String)>> = HashMap::new();
        let mut all = Vec::new();
        for (i, p) in places.iter().enumerate() {
            let names = std::iter::once(&p.name)
                .chain(&p.alt_names)
                .chain(std::iter::once(&p.admin_code));
            for n in names {
                let k = compact(n);
                if k.is_empty() {
                    continue;
                }
                let s = skeleton(n);
                let e = exact.entry(k).or_default();
                if !e.iter().any(|(j, _)| *j == i) {
                    e.push((i, n.clone()));
                }
                let v = variant.entry(s.clone()).or_default();
                if !v.iter().any(|(j, _)| *j == i) {
                    v.push((i, n.clone()));
                }
                all.push((s, i, n.clone()));
            }
        }
        Gazetteer {
            places,
            exact,
            variant,
            all,
        }
    }

    pub fn places(&self) -> &[Place] {
        &self.places
    }

    pub fn place(&self, m: &PlaceMatch) -> &Place {
        &self.places[m.place]
    }

    /// The place `query` names.
    pub fn lookup(&self, query: &str) -> Lookup {
        let k = compact(query);
        if k.is_empty() || k.chars().count() > 80 {
            return Lookup::NotFound;
        }
        if let Some(hits) = self.exact.get(&k) {
            return decide(
                hits.iter()
                    .map(|(i, n)| (*i, 1.0, MatchKind::Exact, n.clone()))
                    .collect(),
            );
        }
        let s = skeleton(query);
        if let Some(hits) = self.variant.get(&s) {
            return decide(
                hits.iter()
                    .map(|(i, n)| (*i, 0.95, MatchKind::Variant, n.clone()))
                    .collect(),
            );
        }
        let len = s.chars().count();
        let tol = tolerance(len);
        if tol == 0 {
            return Lookup::NotFound;
        }
        let mut found = Vec::new();
        for (sk, i, n) in &self.all {
            let d = osa_distance(&s, sk, tol);
            if d <= tol {
                let score = 0.9 - 0.3 * d as f32 / tol as f32;
                found.push((*i, score, MatchKind::Fuzzy, n.clone()));
            }
        }
        decide(found)
    }

    /// The longest run of up to four words of `text` (of its first [`MAX_WORDS`]) that names a
    /// place, the best match first, with the byte range of those words.
    pub fn find_in(&self, text: &str) -> Option<(Lookup, std::ops::Range<usize>)> {
        let words: Vec<(usize, &str)> = text
            .split_whitespace()
            .map(|w| (w.as_ptr() as usize - text.as_ptr() as usize, w))
            .take(MAX_WORDS)
            .collect();
        let mut best: Option<(Lookup, std::ops::Range<usize>, f32, usize)> = None;
        for n in (1..=4).rev() {
            for start in 0..words.len().saturating_sub(n - 1) {
                let from = words[start].0;
                let last = words[start + n - 1];
                let to = last.0 + last.1.len();
                let found = self.lookup(&text[from..to]);
                let score = match &found {
                    Lookup::Found(m) => m.score,
                    Lookup::Ambiguous(ms) => ms[0].score,
                    Lookup::NotFound => continue,
                };
                let better = match &best {
                    None => true,
                    Some((_, _, s, len)) => score > *s + 0.001 || (score >= *s - 0.001 && n > *len),
                };
                if better {
                    best = Some((found, from..to, score, n));
                }
            }
        }
        best.map(|(l, r, _, _)| (l, r))
    }
}

fn decide(mut hits: Vec<(usize, f32, MatchKind, String)>) -> Lookup {
    if hits.is_empty() {
        return Lookup::NotFound;
    }
    hits.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    // One entry per place, its best.
    let mut seen = Vec::new();
    hits.retain(|h| {
        if seen.contains(&h.0) {
            false
        } else {
            seen.push(h.0);
            true
        }
    });
    let best = hits[0].1;
    let tied: Vec<PlaceMatch> = hits
        .into_iter()
        .filter(|h| h.1 >= best - 0.001)
        .map(|(place, score, kind, matched)| PlaceMatch {
            place,
            score,
            kind,
            matched,
        })
        .collect();
    if tied.len() == 1 {
        Lookup::Found(tied.into_iter().next().expect("one"))
    } else {
        Lookup::Ambiguous(tied)
    }
}

/// A category of free-text reports and the words that announce it.
#[derive(Debug, Clone, PartialEq)]
pub struct Category {
    pub code: String,
    /// Keywords in any language (`EAU`, `WATER`, `MAYA`…).
    pub keywords: Vec<String>,
}

/// A free-text report taken apart.
#[derive(Debug, Clone, PartialEq)]
pub struct FreeText {
    /// The category whose keyword starts the message.
    pub category: Option<String>,
    /// The place named in the rest, if any.
    pub place: Lookup,
    /// The message without its keyword.
    pub body: String,
}

/// Reads `CATEGORY free text naming a place`: the first word is compared with the categories'
/// keywords (folded; one typing mistake allowed from five letters), the place is searched in
/// the rest.
pub fn free_text(text: &str, categories: &[Category], gazetteer: &Gazetteer) -> FreeText {
    let trimmed = text.trim();
    let (first, rest) = match trimmed.find(char::is_whitespace) {
        Some(i) => (&trimmed[..i], trimmed[i..].trim_start()),
        None => (trimmed, ""),
    };
    let f = fold(first);
    let category = categories.iter().find_map(|c| {
        c.keywords.iter().find_map(|k| {
            let k = fold(k);
            let tol = if k.chars().count() >= 5 { 1 } else { 0 };
            (!f.is_empty() && osa_distance(&f, &k, tol) <= tol).then(|| c.code.clone())
        })
    });
    let body = if category.is_some() { rest } else { trimmed };
    let place = gazetteer
        .find_in(body)
        .map(|(l, _)| l)
        .unwrap_or(Lookup::NotFound);
    FreeText {
        category,
        place,
        body: body.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn place(id: &str, name: &str, alts: &[&str], code: &str) -> Place {
        Place {
            id: id.into(),
            name: name.into(),
            alt_names: alts.iter().map(|s| s.to_string()).collect(),
            admin_code: code.into(),
        }
    }

    fn chad() -> Gazetteer {
        Gazetteer::new(vec![
            place("nd", "N'Djaména", &["NDJ", "Fort-Lamy"], "TD-ND"),
            place("ab", "Abéché", &[], "TD-OD-ABE"),
            place("mo", "Moundou", &[], "TD-LO-MOU"),
            place("sa", "Sarh", &["Fort-Archambault"], "TD-MC-SAR"),
            place("ms", "Moussoro", &[], "TD-BG-MSS"),
            place("bo", "Bongor", &[], "TD-MA-BON"),
            place("mao1", "Mao", &[], "TD-KA-MAO"),
            place("mao2", "Mao", &[], "TD-KA-MAO-SP"),
            place("am", "Am Timan", &[], "TD-SA-AMT"),
            place("ba", "Bol", &[], "TD-LC-BOL"),
            place("bl", "Bébédjia", &[], "TD-LR-BEB"),
        ])
    }

    fn found(g: &Gazetteer, q: &str) -> (String, MatchKind) {
        match g.lookup(q) {
            Lookup::Found(m) => (g.place(&m).id.clone(), m.kind),
            other => panic!("{q}: {other:?}"),
        }
    }

    #[test]
    fn spellings_of_ndjamena_all_match() {
        let g = chad();
        for q in [
            "N'Djamena",
            "Ndjamena",
            "NDJAMENA",
            "n djaména",
            "N’Djaména",
            "NDJ",
            "ndj",
            "Fort Lamy",
            "td-nd",
        ] {
            assert_eq!(found(&g, q), ("nd".into(), MatchKind::Exact), "{q}");
        }
        for q in ["Njamena", "N'Jamena", "NDJAMENNA"] {
            assert_eq!(found(&g, q), ("nd".into(), MatchKind::Variant), "{q}");
        }
        for q in ["Ndjamina", "Ndjmena", "Ndajmena", "Ndjamene"] {
            assert_eq!(found(&g, q), ("nd".into(), MatchKind::Fuzzy), "{q}");
        }
    }

    #[test]
    fn variants_and_typos_within_a_tolerance_scaled_by_length() {
        let g = chad();
        assert_eq!(found(&g, "Abeshe"), ("ab".into(), MatchKind::Variant));
        assert_eq!(found(&g, "ABECHE"), ("ab".into(), MatchKind::Exact));
        assert_eq!(found(&g, "Mondou"), ("mo".into(), MatchKind::Fuzzy));
        assert_eq!(found(&g, "Mundu"), ("mo".into(), MatchKind::Variant));
        assert_eq!(found(&g, "Musoro"), ("ms".into(), MatchKind::Variant));
        assert_eq!(found(&g, "Bongro"), ("bo".into(), MatchKind::Fuzzy));
        assert_eq!(found(&g, "Bebedja"), ("bl".into(), MatchKind::Fuzzy));
        assert_eq!(found(&g, "AmTiman"), ("am".into(), MatchKind::Exact));
        // Short names allow no mistake: `Sar` is not `Sarh`, `Bal` is not `Bol`.
        assert_eq!(g.lookup("Sar"), Lookup::NotFound);
        assert_eq!(g.lookup("Bal"), Lookup::NotFound);
        assert_eq!(g.lookup("Paris"), Lookup::NotFound);
        assert_eq!(g.lookup(""), Lookup::NotFound);
        assert_eq!(g.lookup("!!!"), Lookup::NotFound);
        assert_eq!(g.lookup(&"a".repeat(10_000)), Lookup::NotFound);
        // Scores order the kinds of match.
        let s = |q: &str| match g.lookup(q) {
            Lookup::Found(m) => m.score,
            _ => 0.0,
        };
        assert!(s("Abéché") > s("Abeshe") && s("Abeshe") > s("Bongro") && s("Bongro") > 0.5);
    }

    #[test]
    fn two_places_of_the_same_name_are_ambiguous() {
        let g = chad();
        match g.lookup("mao") {
            Lookup::Ambiguous(ms) => {
                let ids: Vec<&str> = ms.iter().map(|m| g.place(m).id.as_str()).collect();
                assert_eq!(ids, vec!["mao1", "mao2"]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(found(&g, "TD-KA-MAO-SP").0, "mao2");
    }

    #[test]
    fn places_are_found_inside_free_text() {
        let g = chad();
        let (l, r) = g.find_in("la pompe de Am Timan est en panne").unwrap();
        assert!(matches!(l, Lookup::Found(ref m) if g.place(m).id == "am"));
        assert_eq!(&"la pompe de Am Timan est en panne"[r], "Am Timan");
        let (l, _) = g.find_in("incendie au marché de Moundou hier").unwrap();
        assert!(matches!(l, Lookup::Found(ref m) if g.place(m).id == "mo"));
        assert!(g.find_in("rien à signaler").is_none());
        // Long hostile texts are searched in their first words only.
        let long = format!("{}Moundou", "mot ".repeat(10_000));
        assert!(g.find_in(&long).is_none());
        assert!(g.find_in(&format!("Moundou {long}")).is_some());
    }

    #[test]
    fn free_text_report_category_then_place() {
        let g = chad();
        let cats = vec![
            Category {
                code: "water".into(),
                keywords: vec!["EAU".into(), "WATER".into()],
            },
            Category {
                code: "fire".into(),
                keywords: vec!["INCENDIE".into(), "FIRE".into()],
            },
        ];
        let r = free_text("Incendei marché central N'Djamena", &cats, &g);
        assert_eq!(r.category.as_deref(), Some("fire"));
        assert!(matches!(r.place, Lookup::Found(ref m) if g.place(m).id == "nd"));
        assert_eq!(r.body, "marché central N'Djamena");
        let r = free_text("eau: forage sec a Abeshe", &cats, &g);
        assert_eq!(r.category.as_deref(), Some("water"));
        assert!(matches!(r.place, Lookup::Found(ref m) if g.place(m).id == "ab"));
        // No typo allowed on short keywords; no category, the whole text is the body.
        let r = free_text("EAO Moundou", &cats, &g);
        assert_eq!(r.category, None);
        assert_eq!(r.body, "EAO Moundou");
        assert_eq!(free_text("", &cats, &g).place, Lookup::NotFound);
    }

    #[test]
    fn skeletons_forget_the_usual_variants() {
        assert_eq!(skeleton("N'Djaména"), skeleton("Njamena"));
        assert_eq!(skeleton("Tchad"), skeleton("Chad"));
        assert_eq!(skeleton("Ouaddaï"), skeleton("Waddai"));
        assert_eq!(skeleton("Koumra"), skeleton("Kumra"));
        assert_ne!(skeleton("Sarh"), skeleton("Sar"));
    }
}
