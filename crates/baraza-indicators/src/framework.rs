//! The SDG global indicator framework as data: 17 goals, 169 targets and the indicators of the
//! 2020 comprehensive review with the refinements that followed it, with their titles in six
//! languages.
//!
//! The texts ship inside the crate (`data/sdg/`, provenance and licences in its `README.md`) and
//! are parsed at run time from `include_str!`: no network, no build script. The caller builds a
//! [`Framework`] once with [`Framework::embedded`] and keeps it.
//!
//! # Repeated indicators
//!
//! The framework lists 247 indicator codes, but twelve indicators repeat under two or three
//! targets (1.5.1 = 11.5.1 = 13.1.1, 7.b.1 = 12.a.1, …), which leaves 231 unique indicators.
//! A repeat is known by its English title: codes whose official English titles are identical
//! (after collapsing white space) are one indicator. A test pins the twelve groups this gives,
//! which matches the UN Statistics Division's count for this framework (247 codes, twelve
//! repeated indicators, 231 unique). The canonical code of an indicator is
//! its first code in the framework's order (goal, then target, then indicator), e.g. "1.5.1",
//! "7.b.1", "8.4.1".
//!
//! # Order
//!
//! Goals by number; targets by goal, numbered targets before lettered ones (1.1 … 1.5, 1.a,
//! 1.b); indicators by target, then number (1.2 < 1.10 at every level).
//!
//! # Stale keys
//!
//! The translation files still carry five keys deleted or renumbered in the 2020 review
//! (1-a-3, 8-9-2, 11-c-1, 13-3-2, 17-6-2). Only the codes of `indicator-codes-2020-framework.txt`
//! are kept; the stale keys are ignored. Target 11.c has no indicator since that review.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// What the shipped data is.
pub const VERSION: &str = "SDG global indicator framework (A/RES/71/313 annex), as revised by \
the 2020 comprehensive review of the UN Statistical Commission and carried by the Open SDG \
sdg-translations project: 17 goals, 169 targets, 247 indicator codes, 231 unique indicators; \
en, fr, es, ar official UN texts, sw and ne community translations. Later annual refinements \
only as far as that project had taken them in; not the March 2025 comprehensive review.";

/// The languages of the shipped titles. English is the fallback.
pub const LANGUAGES: [&str; 6] = ["en", "fr", "es", "ar", "sw", "ne"];

/// A text in several languages: language code -> text.
pub type Titles = BTreeMap<String, String>;

/// The text in `lang`, or in English when that language is missing, or "" when neither is there.
pub fn title<'a>(t: &'a Titles, lang: &str) -> &'a str {
    t.get(lang)
        .or_else(|| t.get("en"))
        .map(String::as_str)
        .unwrap_or("")
}

/// A goal (1 to 17).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Goal {
    pub number: u8,
    /// The short name ("Clean water and sanitation").
    pub short: Titles,
    pub title: Titles,
}

/// A target ("6.1", "17.19", "4.a").
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Target {
    pub code: String,
    pub goal: u8,
    pub title: Titles,
}

/// A unique indicator, with every code it is listed under.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Indicator {
    /// Canonical code: its first code in the framework's order, e.g. "1.5.1".
    pub code: String,
    /// Every code it is listed under, in the framework's order, e.g. ["1.5.1", "11.5.1", "13.1.1"].
    pub codes: Vec<String>,
    /// The targets of those codes ("1.5", "11.5", "13.1").
    pub targets: Vec<String>,
    /// The goals of those codes, without repeats, in order.
    pub goals: Vec<u8>,
    pub title: Titles,
}

/// The whole framework.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framework {
    pub version: &'static str,
    pub goals: Vec<Goal>,
    pub targets: Vec<Target>,
    pub indicators: Vec<Indicator>,
}

/// The shipped files, per language: goals, targets, indicators.
const FILES: [(&str, [&str; 3]); 6] = [
    (
        "en",
        [
            include_str!("../data/sdg/en/global_goals.yml"),
            include_str!("../data/sdg/en/global_targets.yml"),
            include_str!("../data/sdg/en/global_indicators.yml"),
        ],
    ),
    (
        "fr",
        [
            include_str!("../data/sdg/fr/global_goals.yml"),
            include_str!("../data/sdg/fr/global_targets.yml"),
            include_str!("../data/sdg/fr/global_indicators.yml"),
        ],
    ),
    (
        "es",
        [
            include_str!("../data/sdg/es/global_goals.yml"),
            include_str!("../data/sdg/es/global_targets.yml"),
            include_str!("../data/sdg/es/global_indicators.yml"),
        ],
    ),
    (
        "ar",
        [
            include_str!("../data/sdg/ar/global_goals.yml"),
            include_str!("../data/sdg/ar/global_targets.yml"),
            include_str!("../data/sdg/ar/global_indicators.yml"),
        ],
    ),
    (
        "sw",
        [
            include_str!("../data/sdg/sw/global_goals.yml"),
            include_str!("../data/sdg/sw/global_targets.yml"),
            include_str!("../data/sdg/sw/global_indicators.yml"),
        ],
    ),
    (
        "ne",
        [
            include_str!("../data/sdg/ne/global_goals.yml"),
            include_str!("../data/sdg/ne/global_targets.yml"),
            include_str!("../data/sdg/ne/global_indicators.yml"),
        ],
    ),
];

const CODES: &str = include_str!("../data/sdg/indicator-codes-2020-framework.txt");

/// A problem in the shipped data or in a file given to [`Framework::from_sources`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameworkError {
    #[error("{file}: line {line}: {message}")]
    Yaml {
        file: String,
        line: usize,
        message: String,
    },
    #[error("{0}")]
    Data(String),
}

/// The sources of a framework: per language the three YAML texts (goals, targets, indicators),
/// and the list of indicator codes (one per line, "6-1-1" style; other lines are ignored).
pub struct Sources<'a> {
    pub languages: Vec<(&'a str, [&'a str; 3])>,
    pub codes: &'a str,
}

impl Framework {
    /// The framework shipped with the crate. Never fails (a test parses it).
    pub fn embedded() -> Framework {
        let sources = Sources {
            languages: FILES.to_vec(),
            codes: CODES,
        };
        match Framework::from_sources(VERSION, &sources) {
            Ok(f) => f,
            // The shipped data is checked by the tests; this cannot happen with it.
            Err(e) => panic!("shipped SDG framework data is invalid: {e}"),
        }
    }

    /// Builds a framework from its sources (for the embedded data, and for a later import of
    /// a newer version of the same files).
    pub fn from_sources(
        version: &'static str,
        sources: &Sources<'_>,
    ) -> Result<Framework, FrameworkError> {
        const KINDS: [&str; 3] = [
            "global_goals.yml",
            "global_targets.yml",
            "global_indicators.yml",
        ];
        // key ("6-1-1") -> lang -> text, for each kind.
        let mut maps: [BTreeMap<String, Titles>; 3] = Default::default();
        for (lang, texts) in &sources.languages {
            for (k, text) in texts.iter().enumerate() {
                let pairs = parse_flat_yaml(text).map_err(|e| FrameworkError::Yaml {
                    file: format!("{lang}/{}", KINDS[k]),
                    line: e.line,
                    message: e.message,
                })?;
                for (key, value) in pairs {
                    let value = collapse_ws(&value);
                    if !value.is_empty() {
                        maps[k]
                            .entry(key)
                            .or_default()
                            .insert((*lang).to_string(), value);
                    }
                }
            }
        }
        let [goal_map, target_map, indicator_map] = maps;
        let pick = |map: &BTreeMap<String, Titles>, key: &str| -> Result<Titles, FrameworkError> {
            match map.get(key) {
                Some(t) if t.contains_key("en") => Ok(t.clone()),
                _ => Err(FrameworkError::Data(format!(
                    "no English text for key {key}"
                ))),
            }
        };

        let mut goals = Vec::new();
        for n in 1..=17u8 {
            goals.push(Goal {
                number: n,
                short: pick(&goal_map, &format!("{n}-short"))?,
                title: pick(&goal_map, &format!("{n}-title"))?,
            });
        }

        let mut targets = Vec::new();
        for key in target_map.keys() {
            let Some(stem) = key.strip_suffix("-title") else {
                continue;
            };
            let code = stem.replace('-', ".");
            let parts = split_code(&code)
                .filter(|p| p.len() == 2)
                .ok_or_else(|| FrameworkError::Data(format!("bad target key {key}")))?;
            let goal = goal_number(parts[0])
                .ok_or_else(|| FrameworkError::Data(format!("bad goal in target key {key}")))?;
            targets.push(Target {
                code,
                goal,
                title: pick(&target_map, key)?,
            });
        }
        targets.sort_by(|a, b| natural_cmp(&a.code, &b.code));

        // The listed codes, in the framework's order.
        let mut codes: Vec<String> = Vec::new();
        for line in sources.codes.lines() {
            let line = line.trim();
            let code = line.replace('-', ".");
            if split_code(&code).is_some_and(|p| p.len() == 3) {
                if codes.contains(&code) {
                    return Err(FrameworkError::Data(format!("code {code} listed twice")));
                }
                codes.push(code);
            }
        }
        codes.sort_by(|a, b| natural_cmp(a, b));

        let mut indicators: Vec<Indicator> = Vec::new();
        let mut by_title: BTreeMap<String, usize> = BTreeMap::new();
        for code in codes {
            let key = format!("{}-title", code.replace('.', "-"));
            let titles = pick(&indicator_map, &key)?;
            let target = target_of(&code).to_string();
            if !targets.iter().any(|t| t.code == target) {
                return Err(FrameworkError::Data(format!(
                    "indicator {code}: no target {target}"
                )));
            }
            let goal = goal_of(&code);
            let english = titles["en"].clone();
            match by_title.get(&english) {
                Some(&i) => {
                    let ind = &mut indicators[i];
                    ind.codes.push(code);
                    ind.targets.push(target);
                    if !ind.goals.contains(&goal) {
                        ind.goals.push(goal);
                    }
                    for (lang, text) in titles {
                        ind.title.entry(lang).or_insert(text);
                    }
                }
                None => {
                    by_title.insert(english, indicators.len());
                    indicators.push(Indicator {
                        code: code.clone(),
                        codes: vec![code],
                        targets: vec![target],
                        goals: vec![goal],
                        title: titles,
                    });
                }
            }
        }

        Ok(Framework {
            version,
            goals,
            targets,
            indicators,
        })
    }

    /// Goal `n` (1 to 17).
    pub fn goal(&self, n: u8) -> Option<&Goal> {
        self.goals.iter().find(|g| g.number == n)
    }

    /// A target by code: "6.1", "6-1", "4.a", "4.A".
    pub fn target(&self, code: &str) -> Option<&Target> {
        let code = normalise_code(code)?;
        self.targets.iter().find(|t| t.code == code)
    }

    /// An indicator by any of its codes: "6.1.1", "6-1-1", "6_1_1", "SDG 6.1.1", "06.01.01", or
    /// the compact form "C060101" (C, then goal, target and indicator on two characters each;
    /// "C010a01" for 1.a.1). 11.5.1 and 13.1.1 give the indicator 1.5.1.
    pub fn indicator(&self, code: &str) -> Option<&Indicator> {
        let code = normalise_code(code)?;
        self.indicators.iter().find(|i| i.codes.contains(&code))
    }

    /// The indicators listed under goal `n`, repeated ones included (11.5.1 gives the indicator
    /// 1.5.1 under goal 11), in the order of their codes under that goal.
    pub fn indicators_of_goal(&self, n: u8) -> Vec<&Indicator> {
        let mut listed: Vec<(&str, &Indicator)> = Vec::new();
        for ind in &self.indicators {
            if let Some(code) = ind.codes.iter().find(|c| goal_of(c) == n) {
                listed.push((code, ind));
            }
        }
        listed.sort_by(|a, b| natural_cmp(a.0, b.0));
        listed.into_iter().map(|(_, i)| i).collect()
    }

    /// The targets of goal `n`, in order.
    pub fn targets_of_goal(&self, n: u8) -> Vec<&Target> {
        self.targets.iter().filter(|t| t.goal == n).collect()
    }
}

/// "6.1.1" -> ["6", "1", "1"], when every part is a number or (for the target) a letter.
fn split_code(code: &str) -> Option<Vec<&str>> {
    let parts: Vec<&str> = code.split('.').collect();
    if parts.is_empty() || parts.len() > 3 {
        return None;
    }
    for (i, p) in parts.iter().enumerate() {
        let numeric = !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit());
        let letter = i == 1 && p.len() == 1 && p.bytes().all(|b| b.is_ascii_lowercase());
        if !numeric && !letter {
            return None;
        }
    }
    Some(parts)
}

fn goal_number(s: &str) -> Option<u8> {
    s.parse::<u8>().ok().filter(|n| (1..=17).contains(n))
}

fn goal_of(code: &str) -> u8 {
    code.split('.')
        .next()
        .and_then(|g| g.parse().ok())
        .unwrap_or(0)
}

fn target_of(code: &str) -> &str {
    match code.rfind('.') {
        Some(i) => &code[..i],
        None => code,
    }
}

/// Compares SDG codes in the framework's order: numbers numerically, numbered targets before
/// lettered ones.
pub fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn key(p: &str) -> (u8, u64, &str) {
        match p.parse::<u64>() {
            Ok(n) => (0, n, ""),
            Err(_) => (1, 0, p),
        }
    }
    let mut ia = a.split('.');
    let mut ib = b.split('.');
    loop {
        match (ia.next(), ib.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match key(x).cmp(&key(y)) {
                Ordering::Equal => {}
                o => return o,
            },
        }
    }
}

/// "6-1-1", "6_1_1", " SDG 6.1.1 ", "C060101", "c010a01" -> "6.1.1"; "4.A" -> "4.a".
pub(crate) fn normalise_code(input: &str) -> Option<String> {
    let s = input.trim();
    let s = s
        .strip_prefix("SDG")
        .or_else(|| s.strip_prefix("sdg"))
        .unwrap_or(s)
        .trim();
    let lower = s.to_ascii_lowercase();
    // UN SDG database reference style: C + goal (2) + target (2) + indicator (2).
    if lower.len() == 7 && lower.starts_with('c') && lower.is_ascii() {
        let g = lower[1..3].parse::<u8>().ok()?;
        let t = &lower[3..5];
        let i = lower[5..7].parse::<u8>().ok()?;
        let t = match t.parse::<u8>() {
            Ok(n) => n.to_string(),
            Err(_) if t.starts_with('0') && t.as_bytes()[1].is_ascii_lowercase() => t[1..].into(),
            Err(_) => return None,
        };
        return Some(format!("{g}.{t}.{i}"));
    }
    let dotted: String = lower
        .chars()
        .map(|c| if c == '-' || c == '_' { '.' } else { c })
        .collect();
    let parts = split_code(&dotted)?;
    // Drop leading zeros ("06.01.01").
    let parts: Vec<String> = parts
        .iter()
        .map(|p| match p.parse::<u64>() {
            Ok(n) => n.to_string(),
            Err(_) => (*p).to_string(),
        })
        .collect();
    Some(parts.join("."))
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// An error of [`parse_flat_yaml`], with its 1-based line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// Parses the subset of YAML the framework files use: a flat mapping of `key: value` where the
/// key is a plain word at the start of a line and the value is a plain scalar (folded over
/// indented continuation lines, ended by ` #` comments), a single-quoted scalar (`''` is a
/// quote), a double-quoted scalar (backslash escapes, `\` at the end of a line joins without a
/// space), or a `|`/`>` block scalar (with `-`/`+` chomping). Blank lines, comment lines and
/// `---`/`...` markers are skipped; a byte order mark is dropped. Anything else (nested maps,
/// lists, anchors, flow collections, duplicate keys) is an error, so that nothing is lost in
/// silence. Multi-line flow scalars fold as YAML does: a line break becomes a space, a blank line a
/// line feed.
pub fn parse_flat_yaml(src: &str) -> Result<Vec<(String, String)>, YamlError> {
    let src = src.strip_prefix('\u{feff}').unwrap_or(src);
    let lines: Vec<&str> = src
        .lines()
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .collect();
    let err = |line: usize, message: &str| YamlError {
        line: line + 1,
        message: message.to_string(),
    };
    let mut out: Vec<(String, String)> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let trimmed = line.trim();
        if trimmed.is_empty() || trimmed.starts_with('#') || line == "---" || line == "..." {
            i += 1;
            continue;
        }
        if line.starts_with([' ', '\t']) {
            return Err(err(i, "indented line outside a value"));
        }
        let Some(colon) = find_key_colon(line) else {
            return Err(err(i, "expected `key: value`"));
        };
        let key = line[..colon].trim_end();
        if key.is_empty()
            || key.starts_with([
                '-', '?', '[', '{', '&', '*', '!', '|', '>', '\'', '"', '%', '@',
            ])
        {
            return Err(err(i, "unsupported key"));
        }
        if !seen.insert(key.to_string()) {
            return Err(err(i, &format!("duplicate key {key}")));
        }
        let rest = line[colon + 1..].trim_start();
        let start = i;
        // Indented continuation lines (blank lines inside are kept when more indented text follows).
        let mut j = i + 1;
        let mut end = i + 1;
        while j < lines.len() {
            let l = lines[j];
            if l.trim().is_empty() {
                j += 1;
                continue;
            }
            if l.starts_with([' ', '\t']) {
                j += 1;
                end = j;
            } else {
                break;
            }
        }
        let cont = &lines[i + 1..end];
        let value = if let Some(body) = rest.strip_prefix('\'') {
            parse_quoted(body, cont, false).map_err(|m| err(start, &m))?
        } else if let Some(body) = rest.strip_prefix('"') {
            parse_quoted(body, cont, true).map_err(|m| err(start, &m))?
        } else if rest.starts_with(['|', '>']) {
            parse_block(rest, cont).map_err(|m| err(start, &m))?
        } else if rest.starts_with(['[', '{', '&', '*', '!', '%', '@', '`']) {
            return Err(err(
                start,
                "unsupported value (flow collection, anchor, alias or tag)",
            ));
        } else if rest.starts_with("- ") || (rest == "-" && !cont.is_empty()) {
            return Err(err(start, "unsupported value (list)"));
        } else {
            parse_plain(rest, cont).map_err(|m| err(start, &m))?
        };
        out.push((key.to_string(), value));
        i = end;
    }
    Ok(out)
}

/// The byte index of the `:` that ends a key: the first `: ` or a final `:`.
fn find_key_colon(line: &str) -> Option<usize> {
    let b = line.as_bytes();
    (0..b.len())
        .find(|&k| b[k] == b':' && (k + 1 == b.len() || b[k + 1] == b' ' || b[k + 1] == b'\t'))
}

/// Folds lines of a flow scalar: a break between two lines is a space, each blank line a `\n`.
fn fold(pieces: &[&str]) -> String {
    let mut out = String::new();
    let mut blanks = 0usize;
    let mut first = true;
    for p in pieces {
        if p.is_empty() {
            blanks += 1;
            continue;
        }
        if !first {
            if blanks == 0 {
                out.push(' ');
            } else {
                out.extend(std::iter::repeat_n('\n', blanks));
            }
        }
        blanks = 0;
        first = false;
        out.push_str(p);
    }
    out
}

fn strip_comment(s: &str) -> &str {
    let b = s.as_bytes();
    for k in 0..b.len() {
        if b[k] == b'#' && (k == 0 || b[k - 1] == b' ' || b[k - 1] == b'\t') {
            return s[..k].trim_end();
        }
    }
    s.trim_end()
}

fn parse_plain(first: &str, cont: &[&str]) -> Result<String, String> {
    let mut pieces = vec![strip_comment(first)];
    for l in cont {
        let t = l.trim();
        if t.starts_with('#') {
            // A comment line ends the scalar; nothing may follow but comments.
            continue;
        }
        pieces.push(strip_comment(t));
    }
    let first_empty = pieces[0].is_empty();
    let joined = if first_empty {
        fold(&pieces[1..])
    } else {
        fold(&pieces)
    };
    Ok(joined)
}

fn parse_quoted(body: &str, cont: &[&str], double: bool) -> Result<String, String> {
    // Gather the raw text: first line's rest, then continuation lines trimmed.
    let mut raw: Vec<&str> = vec![body];
    for l in cont {
        raw.push(l.trim());
    }
    let quote = if double { '"' } else { '\'' };
    let mut out = String::new();
    let mut pending_blanks = 0usize;
    let mut pending_break = false;
    let mut closed_at: Option<(usize, usize)> = None;
    'lines: for (li, line) in raw.iter().enumerate() {
        let line: &str = if li == 0 { line } else { line.trim() };
        if li > 0 {
            if line.is_empty() {
                pending_blanks += 1;
                continue;
            }
            if pending_break {
                if pending_blanks == 0 {
                    out.push(' ');
                } else {
                    out.extend(std::iter::repeat_n('\n', pending_blanks));
                }
            }
            pending_blanks = 0;
        }
        // Trailing white space of a line that continues is not part of the value.
        let mut chars = line.char_indices().peekable();
        let mut segment = String::new();
        pending_break = true;
        while let Some((pos, c)) = chars.next() {
            if c == quote {
                if !double && chars.peek().map(|&(_, n)| n) == Some('\'') {
                    chars.next();
                    segment.push('\'');
                    continue;
                }
                out.push_str(&segment);
                closed_at = Some((li, pos + 1));
                break 'lines;
            }
            if double && c == '\\' {
                let Some((_, e)) = chars.next() else {
                    // Escaped line break: join without a space.
                    out.push_str(&segment);
                    pending_break = false;
                    continue 'lines;
                };
                let decoded = match e {
                    '0' => '\0',
                    'a' => '\u{7}',
                    'b' => '\u{8}',
                    't' | '\t' => '\t',
                    'n' => '\n',
                    'v' => '\u{b}',
                    'f' => '\u{c}',
                    'r' => '\r',
                    'e' => '\u{1b}',
                    ' ' => ' ',
                    '"' => '"',
                    '/' => '/',
                    '\\' => '\\',
                    'N' => '\u{85}',
                    '_' => '\u{a0}',
                    'L' => '\u{2028}',
                    'P' => '\u{2029}',
                    'x' | 'u' | 'U' => {
                        let n = match e {
                            'x' => 2,
                            'u' => 4,
                            _ => 8,
                        };
                        let mut hex = String::new();
                        for _ in 0..n {
                            match chars.next() {
                                Some((_, h)) if h.is_ascii_hexdigit() => hex.push(h),
                                _ => return Err(format!("bad \\{e} escape")),
                            }
                        }
                        u32::from_str_radix(&hex, 16)
                            .ok()
                            .and_then(char::from_u32)
                            .ok_or_else(|| format!("bad \\{e} escape"))?
                    }
                    other => return Err(format!("unknown escape \\{other}")),
                };
                segment.push(decoded);
                continue;
            }
            segment.push(c);
        }
        if li + 1 < raw.len() {
            out.push_str(segment.trim_end_matches([' ', '\t']));
        } else {
            out.push_str(&segment);
        }
    }
    let Some((li, pos)) = closed_at else {
        return Err("unterminated quoted value".into());
    };
    let after = if li == 0 {
        &raw[0][pos..]
    } else {
        &raw[li].trim()[pos..]
    };
    let after = after.trim();
    if !(after.is_empty() || after.starts_with('#'))
        || raw[li + 1..]
            .iter()
            .any(|l| !l.is_empty() && !l.starts_with('#'))
    {
        return Err("text after the closing quote".into());
    }
    Ok(out)
}

fn parse_block(header: &str, cont: &[&str]) -> Result<String, String> {
    let header = strip_comment(header);
    let literal = header.starts_with('|');
    let mut chomp = 'c';
    let mut indent: Option<usize> = None;
    for c in header[1..].chars() {
        match c {
            '-' | '+' => chomp = c,
            '1'..='9' => indent = Some(c as usize - '0' as usize),
            _ => return Err("bad block scalar header".into()),
        }
    }
    let indent = match indent {
        Some(n) => n,
        None => cont
            .iter()
            .find(|l| !l.trim().is_empty())
            .map(|l| l.len() - l.trim_start_matches(' ').len())
            .unwrap_or(0),
    };
    let mut lines: Vec<String> = Vec::new();
    for l in cont {
        if l.trim().is_empty() {
            lines.push(String::new());
        } else {
            let lead = l.len() - l.trim_start_matches(' ').len();
            if lead < indent {
                return Err("block scalar line less indented than the first".into());
            }
            lines.push(l[indent..].to_string());
        }
    }
    // The lines of `cont` stop at the last non-blank line, so trailing blanks are already gone.
    let mut body = if literal {
        lines.join("\n")
    } else {
        // Folded: a break between two text lines is a space; n blank lines between them are
        // n line feeds; breaks next to more-indented lines are kept.
        let mut s = String::new();
        let mut blanks = 0usize;
        let mut prev_more = false;
        let mut first = true;
        for l in &lines {
            if l.is_empty() {
                blanks += 1;
                continue;
            }
            let more = l.starts_with([' ', '\t']);
            if !first {
                let keep = usize::from(more || prev_more);
                if blanks + keep == 0 {
                    s.push(' ');
                } else {
                    s.extend(std::iter::repeat_n('\n', blanks + keep));
                }
            }
            blanks = 0;
            first = false;
            s.push_str(l);
            prev_more = more;
        }
        s
    };
    match chomp {
        '-' => {}
        _ => body.push('\n'),
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fw() -> Framework {
        Framework::embedded()
    }

    /// The keys a line-based count finds in a file: lines starting with `key:`.
    fn key_lines(text: &str) -> Vec<String> {
        text.lines()
            .filter_map(|l| {
                let c = l.find(':')?;
                let k = &l[..c];
                (!k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase() || b == b'-')
                    && (k.ends_with("-title") || k.ends_with("-short")))
                .then(|| k.to_string())
            })
            .collect()
    }

    #[test]
    fn every_shipped_file_parses_without_losing_a_key() {
        for (lang, texts) in FILES {
            for text in texts {
                let parsed = parse_flat_yaml(text).unwrap_or_else(|e| panic!("{lang}: {e:?}"));
                let keys: Vec<String> = parsed.iter().map(|(k, _)| k.clone()).collect();
                assert_eq!(keys, key_lines(text), "{lang}");
                for (k, v) in &parsed {
                    assert!(!v.trim().is_empty(), "{lang} {k} empty");
                    assert!(
                        !v.starts_with(['\'', '"']),
                        "{lang} {k} kept its quote: {v}"
                    );
                }
            }
        }
        // Counts per kind, the same in every language.
        for (lang, [g, t, i]) in FILES {
            assert_eq!(parse_flat_yaml(g).unwrap().len(), 34, "{lang}");
            assert_eq!(parse_flat_yaml(t).unwrap().len(), 169, "{lang}");
            assert_eq!(parse_flat_yaml(i).unwrap().len(), 252, "{lang}");
        }
    }

    #[test]
    fn embedded_never_fails_and_has_the_official_counts() {
        let f = fw();
        assert_eq!(f.version, VERSION);
        assert_eq!(f.goals.len(), 17);
        assert_eq!(f.targets.len(), 169);
        let codes: usize = f.indicators.iter().map(|i| i.codes.len()).sum();
        assert_eq!(codes, 247);
        assert_eq!(f.indicators.len(), 231);
    }

    #[test]
    fn repeats_are_the_twelve_groups_of_the_framework() {
        let f = fw();
        let mut groups: Vec<Vec<&str>> = f
            .indicators
            .iter()
            .filter(|i| i.codes.len() > 1)
            .map(|i| i.codes.iter().map(String::as_str).collect())
            .collect();
        groups.sort();
        let mut expected: Vec<Vec<&str>> = vec![
            vec!["1.5.1", "11.5.1", "13.1.1"],
            vec!["1.5.2", "11.5.2"],
            vec!["1.5.3", "11.b.1", "13.1.2"],
            vec!["1.5.4", "11.b.2", "13.1.3"],
            vec!["4.7.1", "12.8.1", "13.3.1"],
            vec!["7.b.1", "12.a.1"],
            vec!["8.4.1", "12.2.1"],
            vec!["8.4.2", "12.2.2"],
            vec!["10.3.1", "16.b.1"],
            vec!["10.6.1", "16.8.1"],
            vec!["15.7.1", "15.c.1"],
            vec!["15.a.1", "15.b.1"],
        ];
        expected.sort();
        assert_eq!(groups, expected);
        for g in &expected {
            let first = f.indicator(g[0]).unwrap();
            assert_eq!(first.code, g[0]);
            for c in g {
                assert!(std::ptr::eq(f.indicator(c).unwrap(), first));
            }
        }
        let i = f.indicator("13.1.1").unwrap();
        assert_eq!(i.code, "1.5.1");
        assert_eq!(i.targets, ["1.5", "11.5", "13.1"]);
        assert_eq!(i.goals, [1, 11, 13]);
    }

    #[test]
    fn every_item_has_english_and_french() {
        let f = fw();
        for g in &f.goals {
            for t in [&g.short, &g.title] {
                assert!(
                    t.contains_key("en") && t.contains_key("fr"),
                    "goal {}",
                    g.number
                );
            }
        }
        for t in &f.targets {
            assert!(
                t.title.contains_key("en") && t.title.contains_key("fr"),
                "{}",
                t.code
            );
        }
        for i in &f.indicators {
            assert!(
                i.title.contains_key("en") && i.title.contains_key("fr"),
                "{}",
                i.code
            );
        }
        for lang in LANGUAGES {
            assert!(f.goals.iter().all(|g| g.title.contains_key(lang)), "{lang}");
        }
    }

    #[test]
    fn stale_keys_are_ignored() {
        let f = fw();
        for stale in ["1-a-3", "8-9-2", "11-c-1", "13-3-2", "17-6-2"] {
            assert!(f.indicator(stale).is_none(), "{stale}");
        }
        assert!(f.target("11.c").is_some());
        assert!(f
            .indicators
            .iter()
            .all(|i| i.targets.iter().all(|t| t != "11.c")));
        // 17.6.2 had the same English title as 17.6.1: it must not join it.
        assert_eq!(f.indicator("17.6.1").unwrap().codes, ["17.6.1"]);
    }

    #[test]
    fn lookups_accept_several_spellings() {
        let f = fw();
        let w = f.indicator("6.1.1").unwrap();
        for s in [
            "6-1-1",
            "6_1_1",
            " 6.1.1 ",
            "SDG 6.1.1",
            "C060101",
            "06.01.01",
        ] {
            assert!(std::ptr::eq(f.indicator(s).unwrap(), w), "{s}");
        }
        assert_eq!(f.indicator("C010a01").unwrap().code, "1.a.1");
        assert_eq!(f.indicator("1-A-1").unwrap().code, "1.a.1");
        assert!(f.indicator("6.1").is_none());
        assert!(f.indicator("99.1.1").is_none());
        assert!(f.indicator("").is_none());
        assert!(f.indicator("C06010").is_none());
        assert_eq!(f.target("4-A").unwrap().code, "4.a");
        assert_eq!(f.target("17.19").unwrap().goal, 17);
        assert_eq!(f.goal(6).unwrap().short["en"], "Clean water and sanitation");
        assert!(f.goal(0).is_none() && f.goal(18).is_none());
        assert!(title(&w.title, "fr").starts_with("Proportion"));
        assert_eq!(title(&w.title, "xx"), w.title["en"]);
    }

    #[test]
    fn order_is_natural_numbered_before_lettered() {
        let f = fw();
        let t1: Vec<&str> = f
            .targets_of_goal(1)
            .iter()
            .map(|t| t.code.as_str())
            .collect();
        assert_eq!(t1, ["1.1", "1.2", "1.3", "1.4", "1.5", "1.a", "1.b"]);
        let t17 = f.targets_of_goal(17);
        assert_eq!(t17.len(), 19);
        assert_eq!(t17[9].code, "17.10");
        assert_eq!(f.targets[0].code, "1.1");
        assert_eq!(f.targets.last().unwrap().code, "17.19");
        for w in f.targets.windows(2) {
            assert_eq!(natural_cmp(&w[0].code, &w[1].code), Ordering::Less);
        }
        let g11: Vec<&str> = f
            .indicators_of_goal(11)
            .iter()
            .map(|i| i.code.as_str())
            .collect();
        assert!(g11.contains(&"1.5.1") && g11.contains(&"11.1.1"));
        assert_eq!(g11.first(), Some(&"11.1.1"));
        let g1 = f.indicators_of_goal(1);
        assert_eq!(g1.len(), 13);
        assert_eq!(f.indicators_of_goal(6).len(), 11);
        assert!(natural_cmp("1.2", "1.10") == Ordering::Less);
        assert!(natural_cmp("1.9", "1.a") == Ordering::Less);
        assert!(natural_cmp("16.10.2", "16.a.1") == Ordering::Less);
    }

    #[test]
    fn titles_are_read_whole() {
        let f = fw();
        assert_eq!(
            f.goal(15).unwrap().title["en"],
            "Protect, restore and promote sustainable use of terrestrial ecosystems, sustainably \
             manage forests, combat desertification, and halt and reverse land degradation and \
             halt biodiversity loss"
        );
        // Quoted with `''` inside (Swahili 17.11.1).
        assert!(f.indicator("17.11.1").unwrap().title["sw"].contains('\''));
        // Double-quoted (Spanish 4.7.1).
        let es = &f.indicator("4.7.1").unwrap().title["es"];
        assert!(
            es.starts_with("Grado en que") && es.ends_with("estudiantes"),
            "{es}"
        );
        // Trailing spaces inside quotes are trimmed (Arabic goal 2).
        assert!(!f.goal(2).unwrap().title["ar"].ends_with(' '));
    }

    #[test]
    fn parser_subset() {
        let src = "\u{feff}# a comment\n---\na: plain text # comment\n  folded here\n\nb: 'it''s\n  two'\nc: \"tab\\there \\u00e9\\\n  joined\"\nd: |\n  line 1\n  line 2\ne: >-\n  folded\n  text\n\n  para\nf: http://x.org/a:b\n";
        let got = parse_flat_yaml(src).unwrap();
        let m: BTreeMap<_, _> = got.into_iter().collect();
        assert_eq!(m["a"], "plain text folded here");
        assert_eq!(m["b"], "it's two");
        assert_eq!(m["c"], "tab\there éjoined");
        assert_eq!(m["d"], "line 1\nline 2\n");
        assert_eq!(m["e"], "folded text\n\npara".replace("\n\n", "\n"));
        assert_eq!(m["f"], "http://x.org/a:b");
        let crlf = parse_flat_yaml("k: 'a\r\n  b'\r\nl: c\r\n").unwrap();
        assert_eq!(crlf, [("k".into(), "a b".into()), ("l".into(), "c".into())]);
        let blank_inside = parse_flat_yaml("k: a\n\n  b\n").unwrap();
        assert_eq!(blank_inside[0].1, "a\nb");
    }

    #[test]
    fn parser_rejects_what_it_does_not_understand() {
        for bad in [
            "a: 'open\n",
            "a: \"bad \\q\"\n",
            "  indented: x\n",
            "a: x\na: y\n",
            "a: [1, 2]\n",
            "a: &anchor x\n",
            "- item\n",
            "just text\n",
            "a: 'x' y\n",
            "a: \"\\u12\"\n",
        ] {
            assert!(parse_flat_yaml(bad).is_err(), "{bad:?}");
        }
        let e = parse_flat_yaml("a: 1\nb: 'x\n").unwrap_err();
        assert_eq!(e.line, 2);
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn yaml_parser_never_panics(src in "([a-z0-9-]{0,6}(: ?)?['\"|>#\\ a-zé-]{0,12}\r?\n( {1,3}[^\n]{0,10}\n)?){0,8}") {
                let _ = parse_flat_yaml(&src);
            }

            #[test]
            fn lookups_never_panic(code in "\\PC{0,10}") {
                static FW: std::sync::OnceLock<Framework> = std::sync::OnceLock::new();
                let f = FW.get_or_init(Framework::embedded);
                let _ = f.indicator(&code);
                let _ = f.target(&code);
            }

            #[test]
            fn plain_and_quoted_values_round_trip(value in "[A-Za-z0-9éك,.()'\" -]{1,40}") {
                let value = value.trim().to_string();
                prop_assume!(!value.is_empty());
                let single = format!("k: '{}'\n", value.replace('\'', "''"));
                prop_assert_eq!(&parse_flat_yaml(&single).unwrap()[0].1, &value);
                let double = format!("k: \"{}\"\n", value.replace('\\', "\\\\").replace('"', "\\\""));
                prop_assert_eq!(&parse_flat_yaml(&double).unwrap()[0].1, &value);
            }
        }
    }
}
