//! Official series: figures published by a statistical office or a custodian agency, read from
//! CSV and kept apart from citizen figures. They are shown beside ours, never blended with them.
//!
//! # Layouts
//!
//! [`detect`] recognises three layouts from the header row:
//!
//! * [`Layout::UnSdgDatabase`]: the CSV of the UN Global SDG Indicators Database (download or
//!   `SDGAPI` CSV): `Goal, Target, Indicator, SeriesCode, SeriesDescription, GeoAreaCode,
//!   GeoAreaName, TimePeriod, Value, Time_Detail, TimeCoverage, UpperBound, LowerBound,
//!   BasePeriod, Source, GeoInfoUrl, FootNote` followed by the series' dimensions and attributes
//!   in brackets: `[Age]`, `[Location]`, `[Nature]`, `[Reporting Type]`, `[Sex]`, `[Units]`…
//!   (the database's bulk "all data" file names them without brackets: `Age`, `Sex`, `Units`,
//!   with `ValueType` and release columns, which are ignored). Columns are found by name, so
//!   their order and the set of dimension columns may vary. Common codes become SDMX ones
//!   (`ALLAREA`, `BOTHSEX`, `ALLAGE` → `_T`; `URBAN`/`RURAL` → `U`/`R`; `FEMALE`/`MALE` →
//!   `F`/`M`); others are kept as given.
//! * [`Layout::SdmxCsv`]: SDMX-CSV, version 1.0 (first column `DATAFLOW`) or 2.0 (`STRUCTURE`,
//!   `STRUCTURE_ID`, optional `ACTION`), with the SDG data structure's concepts: dimensions
//!   `FREQ, REPORTING_TYPE, SERIES, REF_AREA, SEX, AGE, URBANISATION, …`, `TIME_PERIOD`,
//!   `OBS_VALUE`, attributes `UNIT_MEASURE, NATURE, SOURCE_DETAIL, COMMENT_OBS, LOWER_BOUND,
//!   UPPER_BOUND, …`. Written with labels (headers `FREQ:Frequency`, coded values
//!   `M: Monthly`), coded columns keep the code and the labels of `SERIES` and `REF_AREA` become
//!   the series title and area name; free text (`COMMENT_OBS`…) is kept whole. SDMX-CSV 2.0 rows
//!   whose `ACTION` is `D` (delete) are skipped.
//! * [`Layout::Simple`]: for a partner's own spreadsheet: `indicator, area, period, value`
//!   required; `low, high, unit, source, series, series_title, area_name, nature, footnote`
//!   optional; any other column is a disaggregation (`sex`, `age`, `urbanisation`…, stored
//!   upper-case as in SDMX).
//!
//! Columns that a layout does not map go to [`Observation::dims`] under their name.
//!
//! # Values
//!
//! A value must be a finite number. French spreadsheets export `;`-separated files with a
//! decimal comma: in a `;`-separated file, `12,5` is 12.5 (thousands separators are refused, in
//! either kind of file, rather than guessed). A value that is empty, `NaN`, `..`,
//! `-`, `NA` or `N/A` is *missing*; a value such as `<5`, `>95`, `<=2.5` is *censored* (the UN
//! database uses them, e.g. for JMP estimates near 0 or 100 %). Neither is turned into a number:
//! the row is skipped and listed in [`Report::skipped`] with its raw text, so that a chart can say
//! "below 5 %" rather than draw a point. Any other text in a number column is an error.
//!
//! # Errors
//!
//! [`read`] checks the whole file and reports every problem (up to [`MAX_PROBLEMS`]), each
//! naming its line (the header is line 1) and column. Input is capped by [`Limits`]; it must be
//! UTF-8 (a byte order mark is dropped). Cells are data, never formulas: `=1+1` is the text
//! `=1+1` (and an error in a number column).
//!
//! # Time
//!
//! [`Observation::year`] is the decimal year of the *middle* of the period, so that annual
//! official figures and monthly citizen figures sit on one axis: `2022` → 2022.5,
//! `2022-Q1` → 2022.125, `2022-S2` → 2022.75, `2022-03` → 2022.208…, `2022-03-15` → the middle
//! of that day, `2019-2021` (a span, as some survey series give) → 2020.5.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One official figure.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observation {
    /// SDG indicator code, canonical "6.1.1" (empty when the file does not say, as in SDMX-CSV
    /// without an `INDICATOR` column: the series then identifies it).
    pub indicator: String,
    /// Series code, e.g. "SH_H2O_SAFE", or a partner's own code.
    pub series: String,
    pub series_title: String,
    /// Area code as given: ISO 3166-1 alpha-3, ISO 3166-2, M49 or a P-code.
    pub area: String,
    pub area_name: String,
    /// Period as given: "2022", "2022-Q1", "2022-03"…
    pub period: String,
    /// Decimal year of the middle of the period (see the module documentation).
    pub year: f64,
    pub value: f64,
    pub low: Option<f64>,
    pub high: Option<f64>,
    pub unit: String,
    /// Disaggregations (SEX, AGE, URBANISATION…, totals as `_T`) and unmapped columns.
    pub dims: BTreeMap<String, String>,
    pub source: String,
    /// Nature of the figure, as the UN SDG database codes it: "C" country data, "CA" country
    /// adjusted, "E" estimated, "M" modelled, "G" global monitoring data, "N" non-relevant.
    pub nature: String,
    pub footnote: String,
}

/// The layout of an official file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Simple,
    UnSdgDatabase,
    SdmxCsv,
}

/// Caps on what a file may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_bytes: usize,
    pub max_rows: usize,
}

impl Default for Limits {
    /// 64 MiB and one million rows: a whole UN SDG series for every area fits.
    fn default() -> Self {
        Limits {
            max_bytes: 64 << 20,
            max_rows: 1_000_000,
        }
    }
}

/// At most this many problems are reported.
pub const MAX_PROBLEMS: usize = 50;
/// A cell longer than this is an error.
pub const MAX_FIELD_BYTES: usize = 16 * 1024;

/// A problem at a place in the file. `line` is 1-based, the header being line 1; `column` is
/// the header's name of the column, empty for the whole row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub line: usize,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.column.is_empty() {
            write!(f, "line {}: {}", self.line, self.message)
        } else {
            write!(
                f,
                "line {}, column {}: {}",
                self.line, self.column, self.message
            )
        }
    }
}

/// Why a file cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OfficialError {
    #[error("the file is {bytes} bytes, more than the {max} allowed")]
    TooLarge { bytes: usize, max: usize },
    #[error("the file has more than {max} rows")]
    TooManyRows { max: usize },
    #[error("the file is not UTF-8 text (line {line})")]
    NotUtf8 { line: usize },
    #[error("the file is empty")]
    Empty,
    #[error("unknown layout: the header is not that of the UN SDG database, SDMX-CSV or indicator,area,period,value")]
    UnknownLayout,
    #[error("{} problem(s), first: {}", .0.len(), .0.first().map(|p| p.to_string()).unwrap_or_default())]
    Problems(Vec<Problem>),
}

/// What [`read_report`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub layout: Layout,
    pub observations: Vec<Observation>,
    /// Rows skipped because their value is missing or censored (see the module documentation).
    pub skipped: Vec<Problem>,
}

/// The layout of a header row, if it is one we read.
pub fn detect(header: &[String]) -> Option<Layout> {
    let names: Vec<String> = header.iter().map(|h| concept(h).to_string()).collect();
    let has = |n: &str| names.iter().any(|h| h.eq_ignore_ascii_case(n));
    match names.first().map(String::as_str) {
        Some(first) if first.eq_ignore_ascii_case("DATAFLOW") => return Some(Layout::SdmxCsv),
        Some(first) if first.eq_ignore_ascii_case("STRUCTURE") && has("STRUCTURE_ID") => {
            return Some(Layout::SdmxCsv)
        }
        _ => {}
    }
    if has("SeriesCode") && has("GeoAreaCode") && has("TimePeriod") && has("Value") {
        return Some(Layout::UnSdgDatabase);
    }
    if ["indicator", "area", "period", "value"]
        .iter()
        .all(|n| has(n))
    {
        return Some(Layout::Simple);
    }
    None
}

/// Reads an official file. Fails if any row has a problem, listing them all (up to
/// [`MAX_PROBLEMS`]). Rows with a missing or censored value are left out (see [`read_report`]
/// to list them).
pub fn read(bytes: &[u8], limits: &Limits) -> Result<(Layout, Vec<Observation>), OfficialError> {
    let r = read_report(bytes, limits)?;
    Ok((r.layout, r.observations))
}

/// Reads an official file and says which rows were skipped and why.
pub fn read_report(bytes: &[u8], limits: &Limits) -> Result<Report, OfficialError> {
    if bytes.len() > limits.max_bytes {
        return Err(OfficialError::TooLarge {
            bytes: bytes.len(),
            max: limits.max_bytes,
        });
    }
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text = match std::str::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            return Err(OfficialError::NotUtf8 { line });
        }
    };
    if text.trim().is_empty() {
        return Err(OfficialError::Empty);
    }
    let delimiter = sniff_delimiter(text);
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let header: Vec<String> = match records.next() {
        Some(Ok(h)) => h.iter().map(|s| s.trim().to_string()).collect(),
        Some(Err(_)) => return Err(OfficialError::UnknownLayout),
        None => return Err(OfficialError::Empty),
    };
    let layout = detect(&header).ok_or(OfficialError::UnknownLayout)?;
    // SDMX-CSV written with labels ("SERIES: Series", "TCD: Chad"): coded cells keep their code.
    let labelled = layout == Layout::SdmxCsv && header.iter().any(|h| h.contains(':'));
    let columns: Vec<String> = header.iter().map(|h| concept(h).to_string()).collect();
    let map = ColumnMap::new(layout, &columns);

    let mut out = Report {
        layout,
        observations: Vec::new(),
        skipped: Vec::new(),
    };
    let mut problems: Vec<Problem> = Vec::new();
    let mut rows = 0usize;
    for rec in records {
        if problems.len() >= MAX_PROBLEMS {
            break;
        }
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map(|p| p.line() as usize).unwrap_or(0);
                problems.push(Problem {
                    line,
                    column: String::new(),
                    message: format!("unreadable CSV: {e}"),
                });
                continue;
            }
        };
        let line = rec
            .position()
            .map(|p| p.line() as usize)
            .unwrap_or(rows + 2);
        if rec.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        rows += 1;
        if rows > limits.max_rows {
            return Err(OfficialError::TooManyRows {
                max: limits.max_rows,
            });
        }
        if rec.len() != columns.len() {
            problems.push(Problem {
                line,
                column: String::new(),
                message: format!("{} cells where the header has {}", rec.len(), columns.len()),
            });
            continue;
        }
        let mut cells: Vec<&str> = Vec::with_capacity(rec.len());
        let mut too_long = false;
        for (i, c) in rec.iter().enumerate() {
            if c.len() > MAX_FIELD_BYTES {
                problems.push(Problem {
                    line,
                    column: header[i].clone(),
                    message: format!("cell of {} bytes, more than {}", c.len(), MAX_FIELD_BYTES),
                });
                too_long = true;
            }
            cells.push(c.trim());
        }
        if too_long {
            continue;
        }
        let ctx = RowCtx {
            line,
            header: &header,
            decimal_comma: delimiter == b';',
            labelled,
        };
        match map.observation(&ctx, &cells) {
            Ok(RowOutcome::Obs(o)) => out.observations.push(*o),
            Ok(RowOutcome::Skipped(p)) => out.skipped.push(p),
            Err(mut ps) => problems.append(&mut ps),
        }
    }
    if !problems.is_empty() {
        problems.truncate(MAX_PROBLEMS);
        return Err(OfficialError::Problems(problems));
    }
    Ok(out)
}

/// `,` unless the header line has more `;` than `,` outside quotes.
fn sniff_delimiter(text: &str) -> u8 {
    let first = text.lines().next().unwrap_or("");
    let (mut commas, mut semis, mut quoted) = (0, 0, false);
    for c in first.chars() {
        match c {
            '"' => quoted = !quoted,
            ',' if !quoted => commas += 1,
            ';' if !quoted => semis += 1,
            _ => {}
        }
    }
    if semis > commas {
        b';'
    } else {
        b','
    }
}

/// "SERIES: Series" or "FREQ:Frequency" (SDMX-CSV with labels) -> the concept's ID.
fn concept(h: &str) -> &str {
    let h = h.trim_start_matches('\u{feff}').trim();
    match h.find(':') {
        Some(i) => h[..i].trim(),
        None => h,
    }
}

/// "F: Female" -> ("F", "Female"); "F" -> ("F", "").
fn split_label(c: &str) -> (&str, &str) {
    match c.find(": ") {
        Some(i) => (c[..i].trim(), c[i + 2..].trim()),
        None => (c, ""),
    }
}

struct RowCtx<'a> {
    line: usize,
    header: &'a [String],
    decimal_comma: bool,
    labelled: bool,
}

impl RowCtx<'_> {
    fn problem(&self, col: usize, message: impl Into<String>) -> Problem {
        Problem {
            line: self.line,
            column: self.header.get(col).cloned().unwrap_or_default(),
            message: message.into(),
        }
    }
}

enum RowOutcome {
    Obs(Box<Observation>),
    Skipped(Problem),
}

/// What a value cell holds.
#[derive(Debug, PartialEq)]
enum Value {
    Number(f64),
    Missing,
    Censored,
    Bad,
}

fn parse_value(raw: &str, decimal_comma: bool) -> Value {
    let s = raw.trim();
    let lower = s.to_ascii_lowercase();
    if s.is_empty()
        || matches!(
            lower.as_str(),
            "nan" | ".." | "..." | "-" | "na" | "n/a" | "null"
        )
    {
        return Value::Missing;
    }
    if s.starts_with(['<', '>', '≤', '≥']) {
        let rest = s.trim_start_matches(['<', '>', '=', '≤', '≥']).trim();
        return match parse_number(rest, decimal_comma) {
            Some(_) => Value::Censored,
            None => Value::Bad,
        };
    }
    match parse_number(s, decimal_comma) {
        Some(v) => Value::Number(v),
        None => Value::Bad,
    }
}

fn parse_number(s: &str, decimal_comma: bool) -> Option<f64> {
    let s = s.trim();
    if s.is_empty() || s.len() > 64 {
        return None;
    }
    // Digits, one sign in front, one decimal mark, an exponent: nothing else (no "inf", no "0x").
    let owned;
    let s = if decimal_comma && s.contains(',') {
        if s.contains('.') {
            return None;
        }
        owned = s.replace(',', ".");
        owned.as_str()
    } else {
        s
    };
    let ok = s
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
        && s.bytes().any(|b| b.is_ascii_digit());
    if !ok {
        return None;
    }
    s.parse::<f64>().ok().filter(|v| v.is_finite())
}

/// Decimal year of the middle of a period (see the module documentation).
pub fn period_year(period: &str) -> Option<f64> {
    let p = period.trim();
    let p = p.strip_suffix(".0").unwrap_or(p);
    let year = |s: &str| -> Option<f64> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<f64>().ok())
            .flatten()
    };
    if let Some(y) = year(p) {
        return Some(y + 0.5);
    }
    let (head, tail) = p.split_once('-')?;
    let y = year(head)?;
    if let Some(y2) = year(tail) {
        return (y2 >= y).then_some((y + y2 + 1.0) / 2.0);
    }
    let tail_up = tail.to_ascii_uppercase();
    let sub = |prefix: &str, n: f64| -> Option<f64> {
        let k: f64 = tail_up.strip_prefix(prefix)?.parse::<u8>().ok()?.into();
        (k >= 1.0 && k <= n).then_some(y + (k - 0.5) / n)
    };
    if let Some(v) = sub("Q", 4.0).or_else(|| sub("S", 2.0)) {
        return Some(v);
    }
    let parts: Vec<&str> = tail.split('-').collect();
    let month: u32 = parts
        .first()?
        .parse()
        .ok()
        .filter(|m| (1..=12).contains(m))?;
    if parts[0].len() != 2 {
        return None;
    }
    match parts.len() {
        1 => Some(y + (f64::from(month) - 0.5) / 12.0),
        2 => {
            let leap = (y as i64 % 4 == 0 && y as i64 % 100 != 0) || y as i64 % 400 == 0;
            let days = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            let day: u32 = parts[1].parse().ok()?;
            if parts[1].len() != 2 || day == 0 || day > days[month as usize - 1] {
                return None;
            }
            let before: u32 = days[..month as usize - 1].iter().sum();
            let total: u32 = days.iter().sum();
            Some(y + (f64::from(before + day) - 0.5) / f64::from(total))
        }
        _ => None,
    }
}

/// UN SDG database bracketed column -> SDMX concept of the SDG data structure.
fn un_dimension(name: &str) -> String {
    let inner = name.trim_start_matches('[').trim_end_matches(']').trim();
    let known = [
        ("Sex", "SEX"),
        ("Age", "AGE"),
        ("Location", "URBANISATION"),
        ("Reporting Type", "REPORTING_TYPE"),
        ("Education level", "EDUCATION_LEV"),
        ("Quantile", "INCOME_WEALTH_QUANTILE"),
        ("Disability status", "DISABILITY_STATUS"),
        ("Type of occupation", "OCCUPATION"),
        ("Type of product", "PRODUCT"),
        ("Activity", "ACTIVITY"),
        ("Freq", "FREQ"),
    ];
    for (un, sdmx) in known {
        if inner.eq_ignore_ascii_case(un) {
            return sdmx.to_string();
        }
    }
    upper_snake(inner)
}

fn upper_snake(s: &str) -> String {
    let mut out = String::new();
    for c in s.trim().chars() {
        if c.is_alphanumeric() {
            out.extend(c.to_uppercase());
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    out.trim_matches('_').to_string()
}

/// UN SDG database dimension values -> SDMX codes for the common ones (totals as `_T`).
fn un_code(value: &str) -> String {
    match value.to_ascii_uppercase().as_str() {
        "ALLAREA" | "BOTHSEX" | "ALLAGE" | "_T" => "_T".into(),
        "URBAN" => "U".into(),
        "RURAL" => "R".into(),
        "FEMALE" => "F".into(),
        "MALE" => "M".into(),
        _ => value.to_string(),
    }
}

/// Where each field of an observation is, for one layout.
struct ColumnMap {
    layout: Layout,
    indicator: Option<usize>,
    series: Option<usize>,
    series_title: Option<usize>,
    area: Option<usize>,
    area_name: Option<usize>,
    period: Option<usize>,
    value: Option<usize>,
    low: Option<usize>,
    high: Option<usize>,
    unit: Option<usize>,
    source: Option<usize>,
    nature: Option<usize>,
    footnote: Option<usize>,
    /// SDMX-CSV 2.0 `ACTION`: rows marked `D` (delete) are not observations.
    action: Option<usize>,
    /// Other columns: index and the name they take in `dims`.
    dims: Vec<(usize, String)>,
}

/// SDMX-CSV columns that are not observation dimensions and are mapped or dropped.
const SDMX_STRUCTURE_COLUMNS: [&str; 7] = [
    "DATAFLOW",
    "STRUCTURE",
    "STRUCTURE_ID",
    "ACTION",
    "KEY",
    "SERIES_KEY",
    "OBS_KEY",
];

impl ColumnMap {
    fn new(layout: Layout, columns: &[String]) -> ColumnMap {
        let find = |names: &[&str]| {
            columns
                .iter()
                .position(|c| names.iter().any(|n| c.eq_ignore_ascii_case(n)))
        };
        let mut m = ColumnMap {
            layout,
            indicator: None,
            series: None,
            series_title: None,
            area: None,
            area_name: None,
            period: None,
            value: None,
            low: None,
            high: None,
            unit: None,
            source: None,
            nature: None,
            footnote: None,
            action: None,
            dims: Vec::new(),
        };
        let ignored: &[&str];
        match layout {
            Layout::UnSdgDatabase => {
                m.indicator = find(&["Indicator"]);
                m.series = find(&["SeriesCode"]);
                m.series_title = find(&["SeriesDescription"]);
                m.area = find(&["GeoAreaCode"]);
                m.area_name = find(&["GeoAreaName"]);
                m.period = find(&["TimePeriod"]);
                m.value = find(&["Value"]);
                m.low = find(&["LowerBound"]);
                m.high = find(&["UpperBound"]);
                m.unit = find(&["[Units]", "Units"]);
                m.source = find(&["Source"]);
                m.nature = find(&["[Nature]", "Nature"]);
                m.footnote = find(&["FootNote"]);
                ignored = &[
                    "Goal",
                    "Target",
                    "Time_Detail",
                    "TimeCoverage",
                    "BasePeriod",
                    "GeoInfoUrl",
                    "GeoInfoType",
                    "ObservationID",
                    "ValueType",
                    "Type",
                    "ReleaseName",
                    "ReleaseStatus",
                    "SeriesID",
                    "SeriesObservationCount",
                ];
            }
            Layout::SdmxCsv => {
                m.indicator = find(&["INDICATOR"]);
                m.series = find(&["SERIES"]);
                m.area = find(&["REF_AREA"]);
                m.period = find(&["TIME_PERIOD"]);
                m.value = find(&["OBS_VALUE"]);
                m.low = find(&["LOWER_BOUND"]);
                m.high = find(&["UPPER_BOUND"]);
                m.unit = find(&["UNIT_MEASURE"]);
                m.source = find(&["SOURCE_DETAIL"]);
                m.nature = find(&["NATURE"]);
                m.footnote = find(&["COMMENT_OBS"]);
                m.action = find(&["ACTION"]);
                ignored = &SDMX_STRUCTURE_COLUMNS;
            }
            Layout::Simple => {
                m.indicator = find(&["indicator"]);
                m.series = find(&["series"]);
                m.series_title = find(&["series_title"]);
                m.area = find(&["area"]);
                m.area_name = find(&["area_name"]);
                m.period = find(&["period"]);
                m.value = find(&["value"]);
                m.low = find(&["low"]);
                m.high = find(&["high"]);
                m.unit = find(&["unit"]);
                m.source = find(&["source"]);
                m.nature = find(&["nature"]);
                m.footnote = find(&["footnote"]);
                ignored = &[];
            }
        }
        let mapped: Vec<usize> = [
            m.indicator,
            m.series,
            m.series_title,
            m.area,
            m.area_name,
            m.period,
            m.value,
            m.low,
            m.high,
            m.unit,
            m.source,
            m.nature,
            m.footnote,
        ]
        .into_iter()
        .flatten()
        .collect();
        for (i, c) in columns.iter().enumerate() {
            if mapped.contains(&i) || ignored.iter().any(|n| c.eq_ignore_ascii_case(n)) {
                continue;
            }
            let name = match layout {
                Layout::UnSdgDatabase => un_dimension(c),
                Layout::SdmxCsv => c.to_ascii_uppercase(),
                Layout::Simple => upper_snake(c),
            };
            if !name.is_empty() {
                m.dims.push((i, name));
            }
        }
        m
    }

    fn observation(&self, ctx: &RowCtx<'_>, raw: &[&str]) -> Result<RowOutcome, Vec<Problem>> {
        let mut problems = Vec::new();
        // With labels, coded columns (dimensions, unit, nature) keep the code and free-text
        // columns (comment, source, value, bounds, period) are left whole.
        let free_text = [
            self.footnote,
            self.source,
            self.value,
            self.low,
            self.high,
            self.period,
            self.series_title,
            self.area_name,
        ];
        let cells: Vec<&str> = raw
            .iter()
            .enumerate()
            .map(|(i, c)| {
                if ctx.labelled && !free_text.contains(&Some(i)) {
                    split_label(c).0
                } else {
                    c
                }
            })
            .collect();
        let label = |i: Option<usize>| -> &str {
            match i {
                Some(i) if ctx.labelled => split_label(raw[i]).1,
                _ => "",
            }
        };
        let get = |i: Option<usize>| i.map(|i| cells[i]).unwrap_or("");
        if let Some(a) = self.action {
            if cells[a].eq_ignore_ascii_case("D") {
                return Ok(RowOutcome::Skipped(
                    ctx.problem(a, "ACTION D (deletion), skipped"),
                ));
            }
        }
        let required = |i: Option<usize>, problems: &mut Vec<Problem>| -> String {
            match i {
                Some(i) if !cells[i].is_empty() => cells[i].to_string(),
                Some(i) => {
                    problems.push(ctx.problem(i, "empty"));
                    String::new()
                }
                None => String::new(),
            }
        };

        // Indicator: canonical code; the UN database may list several ("1.5.1,11.5.1").
        let indicator = match self.indicator {
            Some(i) if !cells[i].is_empty() => {
                let first = cells[i]
                    .split([',', ' '])
                    .find(|s| !s.is_empty())
                    .unwrap_or("");
                match crate::framework::normalise_code(first) {
                    Some(c) if c.split('.').count() == 3 => c,
                    _ => {
                        problems
                            .push(ctx.problem(i, format!("not an SDG indicator code: {first}")));
                        String::new()
                    }
                }
            }
            Some(i) if self.layout != Layout::SdmxCsv => {
                problems.push(ctx.problem(i, "empty"));
                String::new()
            }
            _ => String::new(),
        };
        let area = required(self.area, &mut problems);
        let period = required(self.period, &mut problems);
        let year = if period.is_empty() {
            0.0
        } else {
            match period_year(&period) {
                Some(y) => y,
                None => {
                    if let Some(i) = self.period {
                        problems.push(ctx.problem(i, format!("not a period: {period}")));
                    }
                    0.0
                }
            }
        };
        if self.layout == Layout::SdmxCsv {
            // Series is the key of an SDG observation in SDMX.
            let _ = required(self.series, &mut problems);
        }
        let bound = |i: Option<usize>, problems: &mut Vec<Problem>| -> Option<f64> {
            let i = i?;
            match parse_value(cells[i], ctx.decimal_comma) {
                Value::Number(v) => Some(v),
                Value::Missing => None,
                Value::Censored | Value::Bad => {
                    problems.push(ctx.problem(i, format!("not a number: {}", cells[i])));
                    None
                }
            }
        };
        let low = bound(self.low, &mut problems);
        let high = bound(self.high, &mut problems);
        let value_col = self.value.unwrap_or(0);
        let raw = get(self.value);
        let value = match parse_value(raw, ctx.decimal_comma) {
            Value::Number(v) => Some(v),
            Value::Missing => None,
            Value::Censored => {
                if problems.is_empty() {
                    return Ok(RowOutcome::Skipped(ctx.problem(
                        value_col,
                        format!("censored value {raw}: not a number, skipped"),
                    )));
                }
                None
            }
            Value::Bad => {
                problems.push(ctx.problem(value_col, format!("not a number: {raw}")));
                None
            }
        };
        if let (Some(l), Some(h)) = (low, high) {
            if l > h {
                problems.push(ctx.problem(
                    self.low.unwrap_or(0),
                    format!("lower bound {l} above upper bound {h}"),
                ));
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let Some(value) = value else {
            let what = if raw.is_empty() {
                "no value".to_string()
            } else {
                format!("missing value {raw}")
            };
            return Ok(RowOutcome::Skipped(
                ctx.problem(value_col, format!("{what}, skipped")),
            ));
        };

        let mut dims = BTreeMap::new();
        for (i, name) in &self.dims {
            let v = cells[*i];
            if v.is_empty() {
                continue;
            }
            let v = if self.layout == Layout::UnSdgDatabase {
                un_code(v)
            } else {
                v.to_string()
            };
            dims.insert(name.clone(), v);
        }
        Ok(RowOutcome::Obs(Box::new(Observation {
            indicator,
            series: get(self.series).to_string(),
            series_title: match self.series_title {
                Some(_) => get(self.series_title).to_string(),
                None => label(self.series).to_string(),
            },
            area,
            area_name: match self.area_name {
                Some(_) => get(self.area_name).to_string(),
                None => label(self.area).to_string(),
            },
            period,
            year,
            value,
            low,
            high,
            unit: get(self.unit).to_string(),
            dims,
            source: get(self.source).to_string(),
            nature: get(self.nature).to_string(),
            footnote: get(self.footnote).to_string(),
        })))
    }
}

// ---------------------------------------------------------------------------------------------
// Writing SDMX-CSV for our own series.

/// One observation of a citizen series, for SDMX-CSV.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SdmxRow {
    /// e.g. "BARAZA:DF_CITIZEN_SDG(1.0)".
    pub dataflow: String,
    pub series: String,
    pub ref_area: String,
    pub time_period: String,
    /// `None` for a missing or suppressed observation.
    pub obs_value: Option<f64>,
    pub unit_measure: String,
    /// Dimensions: SEX, AGE, URBANISATION…
    pub dims: BTreeMap<String, String>,
    /// Attributes: LOWER_BOUND, UPPER_BOUND, NATURE, OBS_STATUS, CONF_STATUS, COMMENT_OBS…
    pub attrs: BTreeMap<String, String>,
}

/// SDMX cross-domain code list CL_OBS_STATUS (v2.2): "O" = missing value.
pub const OBS_STATUS_MISSING: &str = "O";
/// SDMX cross-domain code list CL_CONF_STATUS: "C" = confidential statistical information. A
/// cell suppressed to protect respondents carries it, with an empty value and
/// [`OBS_STATUS_MISSING`].
pub const CONF_STATUS_CONFIDENTIAL: &str = "C";

/// The dimensions of the SDG data structure definition, in its order.
const SDG_DIMENSIONS: [&str; 15] = [
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
];
/// The attributes of the SDG data structure definition we know, in its order, then the
/// observation status attributes.
const SDG_ATTRIBUTES: [&str; 10] = [
    "UNIT_MEASURE",
    "UNIT_MULT",
    "NATURE",
    "SOURCE_DETAIL",
    "TIME_DETAIL",
    "COMMENT_OBS",
    "LOWER_BOUND",
    "UPPER_BOUND",
    "OBS_STATUS",
    "CONF_STATUS",
];

/// Writes SDMX-CSV 1.0: `DATAFLOW`, the dimensions (SDG order, then others alphabetically),
/// `TIME_PERIOD`, `OBS_VALUE`, the attributes (SDG order, then others alphabetically). Every
/// dimension and attribute that occurs in some row has a column; a row without it leaves it
/// empty. A row without a value gets `OBS_STATUS` = "O" unless it has one. Lines end in CRLF
/// (RFC 4180); values are quoted when needed.
pub fn write_sdmx_csv(rows: &[SdmxRow]) -> String {
    let ordered = |present: &std::collections::BTreeSet<&str>, known: &[&str]| -> Vec<String> {
        let mut cols: Vec<String> = known
            .iter()
            .filter(|k| present.contains(*k))
            .map(|k| k.to_string())
            .collect();
        cols.extend(
            present
                .iter()
                .filter(|p| !known.contains(p))
                .map(|p| p.to_string()),
        );
        cols
    };
    let mut dim_names: std::collections::BTreeSet<&str> = ["SERIES", "REF_AREA"].into();
    let mut attr_names: std::collections::BTreeSet<&str> = Default::default();
    for r in rows {
        dim_names.extend(r.dims.keys().map(String::as_str));
        attr_names.extend(r.attrs.keys().map(String::as_str));
        if !r.unit_measure.is_empty() {
            attr_names.insert("UNIT_MEASURE");
        }
        if r.obs_value.is_none() {
            attr_names.insert("OBS_STATUS");
        }
    }
    // A name used as a dimension is not repeated as an attribute, and the fixed columns are
    // never taken from the maps.
    for d in &dim_names {
        attr_names.remove(d);
    }
    for fixed in ["DATAFLOW", "TIME_PERIOD", "OBS_VALUE"] {
        dim_names.remove(fixed);
        attr_names.remove(fixed);
    }
    let dims = ordered(&dim_names, &SDG_DIMENSIONS);
    let attrs = ordered(&attr_names, &SDG_ATTRIBUTES);

    let mut out = String::new();
    let mut header = vec!["DATAFLOW".to_string()];
    header.extend(dims.iter().cloned());
    header.push("TIME_PERIOD".into());
    header.push("OBS_VALUE".into());
    header.extend(attrs.iter().cloned());
    push_line(&mut out, header.iter().map(String::as_str));

    for r in rows {
        let mut cells: Vec<String> = vec![r.dataflow.clone()];
        for d in &dims {
            cells.push(match d.as_str() {
                "SERIES" => r.series.clone(),
                "REF_AREA" => r.ref_area.clone(),
                _ => r.dims.get(d).cloned().unwrap_or_default(),
            });
        }
        cells.push(r.time_period.clone());
        cells.push(r.obs_value.map(format_number).unwrap_or_default());
        for a in &attrs {
            let v = match a.as_str() {
                "UNIT_MEASURE" if !r.unit_measure.is_empty() => r.unit_measure.clone(),
                "OBS_STATUS" if r.obs_value.is_none() && !r.attrs.contains_key(a) => {
                    OBS_STATUS_MISSING.to_string()
                }
                _ => r.attrs.get(a).cloned().unwrap_or_default(),
            };
            cells.push(v);
        }
        push_line(&mut out, cells.iter().map(String::as_str));
    }
    out
}

/// Shortest text that reads back as the same f64.
pub(crate) fn format_number(v: f64) -> String {
    let mut s = String::new();
    let _ = write!(s, "{v}");
    s
}

pub(crate) fn push_line<'a>(out: &mut String, cells: impl Iterator<Item = &'a str>) {
    let mut first = true;
    for c in cells {
        if !first {
            out.push(',');
        }
        first = false;
        if c.contains([',', '"', '\n', '\r']) || c.starts_with(' ') || c.ends_with(' ') {
            out.push('"');
            out.push_str(&c.replace('"', "\"\""));
            out.push('"');
        } else {
            out.push_str(c);
        }
    }
    out.push_str("\r\n");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lim() -> Limits {
        Limits::default()
    }

    fn problems(r: Result<(Layout, Vec<Observation>), OfficialError>) -> Vec<Problem> {
        match r {
            Err(OfficialError::Problems(p)) => p,
            other => panic!("expected problems, got {other:?}"),
        }
    }

    const UN_HEADER: &str = "Goal,Target,Indicator,SeriesCode,SeriesDescription,GeoAreaCode,GeoAreaName,TimePeriod,Value,Time_Detail,TimeCoverage,UpperBound,LowerBound,BasePeriod,Source,GeoInfoUrl,FootNote,[Location],[Nature],[Reporting Type],[Units]";

    #[test]
    fn detects_the_three_layouts() {
        let h = |s: &str| s.split(',').map(String::from).collect::<Vec<_>>();
        assert_eq!(detect(&h(UN_HEADER)), Some(Layout::UnSdgDatabase));
        assert_eq!(
            detect(&h("DATAFLOW,FREQ,SERIES,REF_AREA,TIME_PERIOD,OBS_VALUE")),
            Some(Layout::SdmxCsv)
        );
        assert_eq!(
            detect(&h(
                "STRUCTURE,STRUCTURE_ID,ACTION,SERIES,REF_AREA,TIME_PERIOD,OBS_VALUE"
            )),
            Some(Layout::SdmxCsv)
        );
        assert_eq!(
            detect(&h("indicator,area,period,value,sex")),
            Some(Layout::Simple)
        );
        assert_eq!(
            detect(&h("Indicator,Area,Period,Value")),
            Some(Layout::Simple)
        );
        assert_eq!(detect(&h("a,b,c")), None);
        assert_eq!(detect(&[]), None);
    }

    #[test]
    fn reads_the_un_sdg_database_layout() {
        let csv = format!(
            "{UN_HEADER}\n\
             1,1.4,1.4.1,SP_ACS_BSRVH2O,\"Proportion of population using basic drinking water services, by location (%)\",148,Chad,2020,46,2020,,,,,WHO/UNICEF JMP,,,ALLAREA,E,G,PERCENT\n\
             1,1.4,1.4.1,SP_ACS_BSRVH2O,\"Proportion of population using basic drinking water services, by location (%)\",148,Chad,2020,>95,2020,,,,,WHO/UNICEF JMP,,,URBAN,E,G,PERCENT\n\
             1,1.5,\"1.5.1,11.5.1,13.1.1\",VC_DSR_MTMP,Deaths,148,Chad,2019,12.5,2019,,14,11,,X,,Source: national report,,C,G,PER_100000_POP\n"
        );
        let r = read_report(csv.as_bytes(), &lim()).unwrap();
        assert_eq!(r.layout, Layout::UnSdgDatabase);
        assert_eq!(r.observations.len(), 2);
        let o = &r.observations[0];
        assert_eq!(o.indicator, "1.4.1");
        assert_eq!(o.series, "SP_ACS_BSRVH2O");
        assert_eq!(o.area, "148");
        assert_eq!(o.area_name, "Chad");
        assert_eq!(o.value, 46.0);
        assert_eq!(o.year, 2020.5);
        assert_eq!(o.unit, "PERCENT");
        assert_eq!(o.nature, "E");
        assert_eq!(o.dims["URBANISATION"], "_T");
        assert_eq!(o.dims["REPORTING_TYPE"], "G");
        assert!(!o.dims.contains_key("Goal") && !o.dims.contains_key("GOAL"));
        let d = &r.observations[1];
        assert_eq!(d.indicator, "1.5.1");
        assert_eq!((d.low, d.high), (Some(11.0), Some(14.0)));
        assert_eq!(d.footnote, "Source: national report");
        // The censored ">95" is skipped, never a number.
        assert_eq!(r.skipped.len(), 1);
        assert_eq!(r.skipped[0].line, 3);
        assert_eq!(r.skipped[0].column, "Value");
        assert!(r.skipped[0].message.contains(">95"));
    }

    #[test]
    fn reads_the_un_bulk_file_without_brackets() {
        let csv = "Goal,Target,Indicator,SeriesCode,SeriesDescription,GeoAreaCode,GeoAreaName,TimePeriod,Value,Units,ValueType,Age,Sex,Location,Nature,ReleaseName\n\
                   16,16.9,16.9.1,SG_REG_BRTH,Births registered,148,Chad,2019,25.7,PERCENT,Float,<5Y,BOTHSEX,ALLAREA,C,2025.Q3\n";
        let (l, o) = read(csv.as_bytes(), &lim()).unwrap();
        assert_eq!(l, Layout::UnSdgDatabase);
        assert_eq!(o[0].unit, "PERCENT");
        assert_eq!(o[0].nature, "C");
        let dims: Vec<(&str, &str)> = o[0]
            .dims
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(
            dims,
            [("AGE", "<5Y"), ("SEX", "_T"), ("URBANISATION", "_T")]
        );
    }

    #[test]
    fn reads_sdmx_csv_1_and_2_with_labels() {
        let v1 = "DATAFLOW,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,AGE,URBANISATION,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,UNIT_MULT,NATURE,LOWER_BOUND,UPPER_BOUND\n\
                  UNSD:DF_SDG_GLH(1.0),A,G,SH_H2O_SAFE,TCD,_T,_T,R,2022,12.5,PT,0,E,10,15\n";
        let (l, o) = read(v1.as_bytes(), &lim()).unwrap();
        assert_eq!(l, Layout::SdmxCsv);
        assert_eq!(o[0].indicator, "");
        assert_eq!(o[0].series, "SH_H2O_SAFE");
        assert_eq!(o[0].unit, "PT");
        assert_eq!(o[0].dims["URBANISATION"], "R");
        assert_eq!(o[0].dims["FREQ"], "A");
        assert_eq!(o[0].dims["UNIT_MULT"], "0");
        assert_eq!((o[0].low, o[0].high), (Some(10.0), Some(15.0)));
        let v2 = "STRUCTURE,STRUCTURE_ID,ACTION,SERIES:Series,REF_AREA:Reference area,SEX: Sex,TIME_PERIOD:Time period or range,OBS_VALUE:Observation Value\n\
                  dataflow,UNSD:DF_SDG_GLH(1.0): SDG,I,SG_GEN_PARL: Seats held by women,TCD: Chad,F: Female,2022,31.18\n\
                  dataflow,UNSD:DF_SDG_GLH(1.0): SDG,D,SG_GEN_PARL: Seats held by women,TCD: Chad,F: Female,2021,15.38\n";
        let (l, o) = read(v2.as_bytes(), &lim()).unwrap();
        assert_eq!(l, Layout::SdmxCsv);
        assert_eq!(o.len(), 1, "the ACTION D row is not an observation");
        assert_eq!(o[0].series, "SG_GEN_PARL");
        assert_eq!(o[0].area, "TCD");
        assert_eq!(o[0].dims["SEX"], "F");
        assert_eq!(o[0].value, 31.18);
        assert_eq!(o[0].area_name, "Chad");
        assert_eq!(o[0].series_title, "Seats held by women");
        assert!(!o[0].dims.contains_key("ACTION"));
        // Free text keeps its colons, with or without labels; so does the UN layout's.
        let v2c = "STRUCTURE,STRUCTURE_ID,ACTION,SERIES: Series,REF_AREA: Area,TIME_PERIOD: Time,OBS_VALUE: Value,COMMENT_OBS: Comment\n\
                   dataflow,X:DF(1.0),I,S: s,TCD: Chad,2022,1,Note: as of 1 January\n";
        let (_, o) = read(v2c.as_bytes(), &lim()).unwrap();
        assert_eq!(o[0].footnote, "Note: as of 1 January");
    }

    #[test]
    fn reads_the_simple_layout_with_semicolons_and_decimal_commas() {
        let csv = "\u{feff}indicator;area;period;value;low;high;unit;sexe\n\
                   6-1-1;TD-ND;2024-Q1;12,5;10,0;15,25;%;F\n\
                   6.1.1;TD-OD;2024-03;=1+1;;;%;M\n";
        let p = problems(read(csv.as_bytes(), &lim()));
        assert_eq!(p.len(), 1);
        assert_eq!((p[0].line, p[0].column.as_str()), (3, "value"));
        let csv = csv.replace("=1+1", "7");
        let (l, o) = read(csv.as_bytes(), &lim()).unwrap();
        assert_eq!(l, Layout::Simple);
        assert_eq!(o[0].indicator, "6.1.1");
        assert_eq!(o[0].area, "TD-ND");
        assert_eq!(o[0].value, 12.5);
        assert_eq!((o[0].low, o[0].high), (Some(10.0), Some(15.25)));
        assert_eq!(o[0].year, 2024.125);
        assert_eq!(o[0].dims["SEXE"], "F");
        assert!((o[1].year - (2024.0 + 2.5 / 12.0)).abs() < 1e-9);
    }

    #[test]
    fn formula_looking_cells_are_text() {
        let csv =
            "indicator,area,period,value,source\n6.1.1,TCD,2022,40,\"=HYPERLINK(\"\"x\"\")\"\n";
        let (_, o) = read(csv.as_bytes(), &lim()).unwrap();
        assert_eq!(o[0].source, "=HYPERLINK(\"x\")");
    }

    #[test]
    fn all_problems_are_reported_with_line_and_column() {
        let csv = "indicator,area,period,value,low,high\n\
                   9.9,TCD,2022,1,,\n\
                   6.1.1,,2022,1,,\n\
                   6.1.1,TCD,20x2,1,,\n\
                   6.1.1,TCD,2022,abc,,\n\
                   6.1.1,TCD,2022,5,6,4\n\
                   6.1.1,TCD,2022,5\n\
                   6.1.1,TCD,2022,NaN,,\n\
                   6.1.1,TCD,2022,<5,,\n";
        let p = problems(read(csv.as_bytes(), &lim()));
        let at: Vec<(usize, &str)> = p.iter().map(|p| (p.line, p.column.as_str())).collect();
        assert_eq!(
            at,
            [
                (2, "indicator"),
                (3, "area"),
                (4, "period"),
                (5, "value"),
                (6, "low"),
                (7, "")
            ]
        );
        // Over fifty problems, fifty are reported.
        let mut many = String::from("indicator,area,period,value\n");
        for _ in 0..200 {
            many.push_str("6.1.1,TCD,2022,x\n");
        }
        assert_eq!(problems(read(many.as_bytes(), &lim())).len(), MAX_PROBLEMS);
    }

    #[test]
    fn missing_and_censored_values_are_skipped_not_invented() {
        let csv = "indicator,area,period,value\n6.1.1,TCD,2020,\n6.1.1,TCD,2021,NaN\n6.1.1,TCD,2022,<5\n6.1.1,TCD,2023,..\n6.1.1,TCD,2024,3\n";
        let r = read_report(csv.as_bytes(), &lim()).unwrap();
        assert_eq!(r.observations.len(), 1);
        assert_eq!(r.skipped.len(), 4);
        assert!(r
            .skipped
            .iter()
            .any(|p| p.message.contains("censored value <5")));
    }

    #[test]
    fn hostile_input() {
        // Too large.
        let l = Limits {
            max_bytes: 10,
            max_rows: 10,
        };
        assert!(matches!(
            read(b"indicator,area,period,value\n", &l),
            Err(OfficialError::TooLarge { .. })
        ));
        // Too many rows.
        let l = Limits {
            max_bytes: 1 << 20,
            max_rows: 2,
        };
        let csv = "indicator,area,period,value\n6.1.1,A,2020,1\n6.1.1,A,2021,1\n6.1.1,A,2022,1\n";
        assert_eq!(
            read(csv.as_bytes(), &l),
            Err(OfficialError::TooManyRows { max: 2 })
        );
        // Not UTF-8 (Latin-1 "é" on line 2).
        let bytes = b"indicator,area,period,value\n6.1.1,N'Djam\xe9na,2020,1\n";
        assert_eq!(read(bytes, &lim()), Err(OfficialError::NotUtf8 { line: 2 }));
        // Huge field.
        let csv = format!(
            "indicator,area,period,value,source\n6.1.1,TCD,2020,1,{}\n",
            "x".repeat(MAX_FIELD_BYTES + 1)
        );
        let p = problems(read(csv.as_bytes(), &lim()));
        assert_eq!(p[0].column, "source");
        // Empty, unknown, unterminated quote, binary junk.
        assert_eq!(read(b"", &lim()), Err(OfficialError::Empty));
        assert_eq!(read(b"  \n\n", &lim()), Err(OfficialError::Empty));
        assert_eq!(
            read(b"a,b\n1,2\n", &lim()),
            Err(OfficialError::UnknownLayout)
        );
        let r = read(b"indicator,area,period,value\n6.1.1,\"TCD,2020,1\n", &lim());
        assert!(r.is_err());
        assert!(read(b"\x00\x01\x02", &lim()).is_err());
        // Numbers that Rust would parse but a file should not hold.
        for v in ["inf", "NaN1", "1e999", "0x10", "1.2.3", "12,5"] {
            let csv = format!("indicator,area,period,value\n6.1.1,TCD,2020,\"{v}\"\n");
            assert!(read(csv.as_bytes(), &lim()).is_err(), "{v}");
        }
    }

    #[test]
    fn periods() {
        assert_eq!(period_year("2022"), Some(2022.5));
        assert_eq!(period_year("2022.0"), Some(2022.5));
        assert_eq!(period_year("2022-Q4"), Some(2022.875));
        assert_eq!(period_year("2022-S1"), Some(2022.25));
        assert_eq!(period_year("2019-2021"), Some(2020.5));
        assert_eq!(period_year("2022-12"), Some(2022.0 + 11.5 / 12.0));
        let d = period_year("2024-12-31").unwrap();
        assert!(d > 2024.99 && d < 2025.0);
        for bad in [
            "",
            "22",
            "2022-Q5",
            "2022-13",
            "2021-2019",
            "2023-02-29",
            "2022-1",
            "abcd",
        ] {
            assert_eq!(period_year(bad), None, "{bad}");
        }
    }

    fn citizen_rows() -> Vec<SdmxRow> {
        let df = "BARAZA:DF_CITIZEN_SDG(1.0)".to_string();
        let mut a = SdmxRow {
            dataflow: df.clone(),
            series: "CITIZEN_WATER_30MIN".into(),
            ref_area: "TD-ND".into(),
            time_period: "2024-03".into(),
            obs_value: Some(41.25),
            unit_measure: "PT".into(),
            ..Default::default()
        };
        a.dims.insert("SEX".into(), "F".into());
        a.dims.insert("URBANISATION".into(), "U".into());
        a.attrs.insert("LOWER_BOUND".into(), "35.5".into());
        a.attrs.insert("UPPER_BOUND".into(), "47.125".into());
        a.attrs.insert("NATURE".into(), "CITIZEN".into());
        a.attrs
            .insert("COMMENT_OBS".into(), "Ouaddaï, \"wells\" only".into());
        let mut b = a.clone();
        b.ref_area = "TD-OD".into();
        b.dims.insert("SEX".into(), "_T".into());
        b.dims.insert("AGE".into(), "Y15T49".into());
        b.obs_value = Some(0.1 + 0.2);
        b.attrs.remove("COMMENT_OBS");
        let mut c = a.clone();
        c.obs_value = None;
        c.attrs.clear();
        c.attrs
            .insert("CONF_STATUS".into(), CONF_STATUS_CONFIDENTIAL.into());
        vec![a, b, c]
    }

    #[test]
    fn writes_sdmx_csv_1_in_a_stable_order() {
        let out = write_sdmx_csv(&citizen_rows());
        let mut lines = out.split("\r\n");
        assert_eq!(
            lines.next().unwrap(),
            "DATAFLOW,SERIES,REF_AREA,SEX,AGE,URBANISATION,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,NATURE,COMMENT_OBS,LOWER_BOUND,UPPER_BOUND,OBS_STATUS,CONF_STATUS"
        );
        assert_eq!(
            lines.next().unwrap(),
            "BARAZA:DF_CITIZEN_SDG(1.0),CITIZEN_WATER_30MIN,TD-ND,F,,U,2024-03,41.25,PT,CITIZEN,\"Ouaddaï, \"\"wells\"\" only\",35.5,47.125,,"
        );
        let third = lines.nth(1).unwrap();
        assert!(third.ends_with(",2024-03,,PT,,,,,O,C"), "{third}");
        assert_eq!(write_sdmx_csv(&citizen_rows()), out);
        let mut odd = citizen_rows();
        odd[0].dims.insert("TIME_PERIOD".into(), "x".into());
        odd[0].attrs.insert("OBS_VALUE".into(), "x".into());
        assert_eq!(write_sdmx_csv(&odd), out);
        assert_eq!(
            write_sdmx_csv(&[]),
            "DATAFLOW,SERIES,REF_AREA,TIME_PERIOD,OBS_VALUE\r\n"
        );
    }

    #[test]
    fn sdmx_round_trip() {
        let rows = citizen_rows();
        let out = write_sdmx_csv(&rows);
        let r = read_report(out.as_bytes(), &lim()).unwrap();
        assert_eq!(r.layout, Layout::SdmxCsv);
        assert_eq!(r.observations.len(), 2);
        assert_eq!(r.skipped.len(), 1, "the suppressed cell is not a number");
        for (row, o) in rows.iter().zip(&r.observations) {
            assert_eq!(o.series, row.series);
            assert_eq!(o.area, row.ref_area);
            assert_eq!(o.period, row.time_period);
            assert_eq!(Some(o.value), row.obs_value);
            assert_eq!(o.unit, row.unit_measure);
            assert_eq!(&o.dims, &row.dims);
            let attr = |k: &str| row.attrs.get(k).cloned().unwrap_or_default();
            assert_eq!(
                o.low.map(|v| v.to_string()).unwrap_or_default(),
                attr("LOWER_BOUND")
            );
            assert_eq!(
                o.high.map(|v| v.to_string()).unwrap_or_default(),
                attr("UPPER_BOUND")
            );
            assert_eq!(o.nature, attr("NATURE"));
            assert_eq!(o.footnote, attr("COMMENT_OBS"));
        }
        // 0.1 + 0.2 comes back bit for bit.
        assert_eq!(r.observations[1].value, 0.1 + 0.2);
    }

    const SHIPPED: [(&str, &str); 3] = [
        (
            "TCD-1.4.1.csv",
            include_str!("../data/official/TCD-1.4.1.csv"),
        ),
        (
            "TCD-5.5.1.csv",
            include_str!("../data/official/TCD-5.5.1.csv"),
        ),
        (
            "TCD-16.9.1.csv",
            include_str!("../data/official/TCD-16.9.1.csv"),
        ),
    ];

    #[test]
    fn every_shipped_file_reads() {
        let fw = crate::framework::Framework::embedded();
        for (name, text) in SHIPPED {
            let r = read_report(text.as_bytes(), &lim()).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(r.skipped.is_empty(), "{name}");
            assert!(!r.observations.is_empty(), "{name}");
            for o in &r.observations {
                assert!(
                    fw.indicator(&o.indicator).is_some(),
                    "{name}: {}",
                    o.indicator
                );
                assert_eq!(o.area, "148", "{name}");
                assert!(!o.source.is_empty() && !o.nature.is_empty(), "{name}");
                assert!((0.0..=100.0).contains(&o.value), "{name}");
            }
        }
    }

    #[test]
    fn shipped_chad_values_are_the_published_ones() {
        let (_, o) = read(SHIPPED[0].1.as_bytes(), &lim()).unwrap();
        let v = |urb: &str, p: &str| {
            o.iter()
                .find(|o| o.dims["URBANISATION"] == urb && o.period == p)
                .map(|o| o.value)
        };
        assert_eq!(v("_T", "2015"), Some(44.0));
        assert_eq!(v("_T", "2020"), Some(46.0));
        assert_eq!(v("R", "2020"), Some(38.0));
        assert_eq!(v("U", "2020"), Some(74.0));
        let (_, o) = read(SHIPPED[1].1.as_bytes(), &lim()).unwrap();
        assert_eq!(
            o.iter().find(|o| o.period == "2022").map(|o| o.value),
            Some(31.18)
        );
        let (_, o) = read(SHIPPED[2].1.as_bytes(), &lim()).unwrap();
        assert_eq!((o[0].period.as_str(), o[0].value), ("2019", 25.7));
    }

    mod properties {
        use super::super::*;
        use proptest::prelude::*;

        fn text() -> impl Strategy<Value = String> {
            // Printable text with the characters CSV must quote, no leading/trailing space
            // (cells are trimmed on reading) and no ": " (a label separator in SDMX-CSV).
            "[A-Za-z0-9_,;\"'=+é€ -]{0,12}".prop_map(|s| s.trim().replace(": ", ":"))
        }

        proptest! {
            #[test]
            fn read_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
                let _ = read(&bytes, &Limits::default());
            }

            #[test]
            fn read_never_panics_on_csv_like_text(
                body in "(indicator|DATAFLOW|SeriesCode),area,period,value(,[a-z]{1,3}){0,3}\n([0-9.<>;,\"a-z-]{0,20}\n){0,6}"
            ) {
                let _ = read(body.as_bytes(), &Limits::default());
            }

            #[test]
            fn sdmx_round_trip_any_values(
                values in proptest::collection::vec(
                    (-1e12f64..1e12, text(), text(), "[A-Z]{1,3}", "[0-9]{4}(-Q[1-4])?"),
                    1..8,
                )
            ) {
                let rows: Vec<SdmxRow> = values
                    .iter()
                    .map(|(v, comment, unit, sex, period)| {
                        let mut r = SdmxRow {
                            dataflow: "BARAZA:DF_CITIZEN_SDG(1.0)".into(),
                            series: "S".into(),
                            ref_area: "TD-ND".into(),
                            time_period: period.clone(),
                            obs_value: Some(*v),
                            unit_measure: unit.clone(),
                            ..Default::default()
                        };
                        r.dims.insert("SEX".into(), sex.clone());
                        if !comment.is_empty() {
                            r.attrs.insert("COMMENT_OBS".into(), comment.clone());
                        }
                        r
                    })
                    .collect();
                let out = write_sdmx_csv(&rows);
                let (layout, obs) = read(out.as_bytes(), &Limits::default()).unwrap();
                prop_assert_eq!(layout, Layout::SdmxCsv);
                prop_assert_eq!(obs.len(), rows.len());
                for (r, o) in rows.iter().zip(&obs) {
                    prop_assert_eq!(Some(o.value), r.obs_value);
                    prop_assert_eq!(&o.unit, &r.unit_measure);
                    prop_assert_eq!(&o.period, &r.time_period);
                    prop_assert_eq!(&o.dims, &r.dims);
                    prop_assert_eq!(
                        &o.footnote,
                        &r.attrs.get("COMMENT_OBS").cloned().unwrap_or_default()
                    );
                }
            }
        }
    }
}
