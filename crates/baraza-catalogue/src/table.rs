//! A tabular resource in memory, and the table page's query over it.
//!
//! # Layout
//!
//! A CSV is read once into columns. Each column keeps its distinct values once, in a
//! *dictionary* (one string arena and the end offset of each value), and each row holds a
//! `u32` code into it: a column of a million rows with 23 provinces costs 4 MB of codes and a
//! few hundred bytes of text. Columns typed integer, number or date (Table Schema types, or
//! guessed from the values when the file carries an HXL hashtag row) also keep the numeric
//! value of each dictionary entry (dates as `yyyymmdd`), `NaN` when a value does not parse
//! (so `1,5` with a comma decimal stays text and is never a number). Text is folded for
//! `contains` and search (lower case, accents removed, [`crate::fold`]); the folded
//! dictionary is kept only when some value differs from its fold.
//!
//! # Query
//!
//! Every operator is first evaluated on the dictionaries, which are small, into one boolean
//! per distinct value; rows are then scanned once, each row testing its codes against those
//! masks and, in the same pass, adding to the facet counts. Filters on one column combine
//! with AND, values of one equality filter with OR, columns with AND. Facets are counted
//! within the filtered rows (as Datasette does), top 30 values and the number of distinct
//! values. Sorting ranks each dictionary once (lazily, per column) and picks the page with a
//! partial selection, so a first page never sorts all matching rows. Paging is stable (ties
//! are broken by row order) and works by offset or by a keyset token, `_next`, which is the
//! last row's number: the page after it is "rows after this one in the order", whatever was
//! read before.
//!
//! Parameters follow Datasette's: `col=value` (repeated: any of them), `col__exact`,
//! `col__contains`, `col__gte`, `col__lte`, `col__gt`, `col__lt`, `_search`, `_sort`,
//! `_sort_desc`, `_size` (50 by default, at most 1000), `_offset`, `_next` and `_facet`.
//! Anything else is refused with an error naming the parameter.

use crate::fold::fold;
use foldhash::HashMap;
use foldhash::HashMapExt;
use serde::Serialize;
use std::sync::OnceLock;

/// Rows per page unless `_size` says otherwise.
pub const DEFAULT_PAGE_SIZE: usize = 50;
/// The largest `_size`.
pub const MAX_PAGE_SIZE: usize = 1000;
/// Values listed per facet.
pub const FACET_VALUES: usize = 30;
/// A column is suggested as a facet when it has this many distinct values or fewer (and two
/// or more).
pub const SUGGEST_MAX_DISTINCT: usize = 30;
/// Words of `_search` taken into account.
const MAX_SEARCH_WORDS: usize = 16;

/// Why a file could not be read as a table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TableError {
    #[error("the file is not a CSV with a header row: {0}")]
    NotCsv(String),
    #[error("the file has more than {max} rows, more than a table page can hold")]
    TooManyRows { max: u64 },
}

/// A parameter of the query that cannot be used: which one, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{param}: {problem}")]
pub struct QueryError {
    pub param: String,
    pub problem: String,
}

fn bad(param: &str, problem: impl Into<String>) -> QueryError {
    QueryError {
        param: param.to_string(),
        problem: problem.into(),
    }
}

/// The type of a column, as the query treats it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    String,
    Integer,
    Number,
    Date,
    Boolean,
}

impl Kind {
    /// The kind of a Table Schema type (`geopoint`, `any`… are text).
    pub fn of_schema(t: &str) -> Kind {
        match t {
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "date" => Kind::Date,
            "boolean" => Kind::Boolean,
            _ => Kind::String,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::String => "string",
            Kind::Integer => "integer",
            Kind::Number => "number",
            Kind::Date => "date",
            Kind::Boolean => "boolean",
        }
    }
    /// Whether values have a numeric view (ranges compare numbers, sorting is numeric).
    pub fn is_numeric(self) -> bool {
        matches!(self, Kind::Integer | Kind::Number | Kind::Date)
    }
}

/// `yyyy-mm-dd` (what follows, a time, is ignored) as the number `yyyymmdd`.
fn date_number(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    if b.len() < 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    if b.len() > 10 && !matches!(b[10], b'T' | b' ') {
        return None;
    }
    let digits = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())
            .flatten()
    };
    let (y, m, d) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    ((1..=12).contains(&m) && (1..=31).contains(&d)).then_some((y * 10_000 + m * 100 + d) as f64)
}

/// The number a value stands for in a column of `kind`, if any.
pub fn number_of(kind: Kind, s: &str) -> Option<f64> {
    let s = s.trim();
    match kind {
        Kind::Integer | Kind::Number => {
            // Rust accepts "inf", "NaN" and "1e5"; a table's numbers are plain decimals.
            if s.is_empty()
                || !s
                    .bytes()
                    .all(|c| c.is_ascii_digit() || matches!(c, b'-' | b'+' | b'.' | b'e' | b'E'))
            {
                return None;
            }
            s.parse::<f64>().ok().filter(|f| f.is_finite())
        }
        Kind::Date => date_number(s),
        Kind::String | Kind::Boolean => None,
    }
}

/// Distinct strings in one arena, by code.
#[derive(Debug, Default)]
struct Dict {
    text: String,
    ends: Vec<u32>,
}

impl Dict {
    fn push(&mut self, s: &str) {
        self.text.push_str(s);
        self.ends.push(self.text.len() as u32);
    }
    fn get(&self, code: u32) -> &str {
        let i = code as usize;
        let start = if i == 0 { 0 } else { self.ends[i - 1] as usize };
        &self.text[start..self.ends[i] as usize]
    }
    fn len(&self) -> usize {
        self.ends.len()
    }
    fn bytes(&self) -> usize {
        self.text.capacity() + self.ends.capacity() * 4
    }
}

/// One column: its dictionary, its codes and, for numeric kinds, each value's number.
#[derive(Debug)]
pub struct Column {
    pub name: String,
    pub kind: Kind,
    /// The HXL hashtag of the column, when the file has a hashtag row.
    pub hxl: Option<String>,
    values: Dict,
    /// The folded dictionary, when some value differs from its fold.
    folded: Option<Dict>,
    /// Per dictionary entry, its number (`NaN` when none); empty for text kinds.
    numbers: Vec<f64>,
    codes: Vec<u32>,
    /// Per dictionary entry, its position in the column's order, and how many entries are
    /// ordinary values (the others, empty or unreadable as numbers, come after them in both
    /// directions). Built on first sort.
    rank: OnceLock<(Vec<u32>, u32)>,
}

impl Column {
    /// The value of row `row`.
    pub fn value(&self, row: u32) -> &str {
        self.values.get(self.codes[row as usize])
    }
    /// The code of row `row`.
    pub fn code(&self, row: u32) -> u32 {
        self.codes[row as usize]
    }
    /// The value of a code.
    pub fn value_of(&self, code: u32) -> &str {
        self.values.get(code)
    }
    /// How many distinct values the column has (the empty value included).
    pub fn distinct(&self) -> usize {
        self.values.len()
    }
    /// The number of row `row`'s value, for numeric kinds.
    pub fn number(&self, row: u32) -> Option<f64> {
        let n = *self.numbers.get(self.codes[row as usize] as usize)?;
        (!n.is_nan()).then_some(n)
    }
    fn folded(&self, code: u32) -> &str {
        match &self.folded {
            Some(f) => f.get(code),
            None => self.values.get(code),
        }
    }
    /// Empty values last in ascending order; numbers by value for numeric kinds, text by its
    /// folded form then its bytes.
    fn rank(&self) -> &[u32] {
        &self.ranked().0
    }
    fn ranked(&self) -> &(Vec<u32>, u32) {
        self.rank.get_or_init(|| {
            let mut order: Vec<u32> = (0..self.values.len() as u32).collect();
            if self.kind.is_numeric() {
                order.sort_by(|&a, &b| {
                    let (x, y) = (self.numbers[a as usize], self.numbers[b as usize]);
                    match (x.is_nan(), y.is_nan()) {
                        (false, false) => x.total_cmp(&y),
                        (true, true) => {
                            let (sa, sb) = (self.values.get(a), self.values.get(b));
                            sa.is_empty().cmp(&sb.is_empty()).then_with(|| sa.cmp(sb))
                        }
                        (a_nan, _) => a_nan.cmp(&!a_nan),
                    }
                });
            } else {
                order.sort_by(|&a, &b| {
                    let (sa, sb) = (self.values.get(a), self.values.get(b));
                    sa.is_empty()
                        .cmp(&sb.is_empty())
                        .then_with(|| self.folded(a).cmp(self.folded(b)))
                        .then_with(|| sa.cmp(sb))
                });
            }
            let ordinary = order
                .iter()
                .filter(|&&c| {
                    if self.kind.is_numeric() {
                        !self.numbers[c as usize].is_nan()
                    } else {
                        !self.values.get(c).is_empty()
                    }
                })
                .count() as u32;
            let mut rank = vec![0u32; order.len()];
            for (pos, code) in order.into_iter().enumerate() {
                rank[code as usize] = pos as u32;
            }
            (rank, ordinary)
        })
    }
    fn bytes(&self) -> usize {
        self.values.bytes()
            + self.folded.as_ref().map_or(0, Dict::bytes)
            + self.numbers.capacity() * 8
            + self.codes.capacity() * 4
            + self.rank.get().map_or(0, |r| r.0.capacity() * 4)
            + self.name.capacity()
    }
}

/// A declared column: its name and Table Schema type (a resource's `fields`).
#[derive(Debug, Clone)]
pub struct Declared<'a> {
    pub name: &'a str,
    pub r#type: &'a str,
}

/// A table held in memory.
#[derive(Debug)]
pub struct Table {
    columns: Vec<Column>,
    rows: usize,
    /// Rows that had more or fewer cells than the header (padded with empty values, or cut).
    pub ragged_rows: usize,
    /// Whether the file had an HXL hashtag row after its header.
    pub has_hxl: bool,
}

impl Table {
    /// Reads a CSV (a UTF-8 byte order mark and an HXL hashtag row after the header are
    /// recognised; neither counts as data). Types come from `declared` when the file has no
    /// hashtag row, else they are guessed from the values. Cells that are not UTF-8 are read
    /// with replacement characters.
    pub fn load(bytes: &[u8], declared: &[Declared]) -> Result<Table, TableError> {
        let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        let mut r = csv::ReaderBuilder::new()
            .flexible(true)
            .has_headers(true)
            .from_reader(bytes);
        let headers: Vec<String> = r
            .byte_headers()
            .map_err(|e| TableError::NotCsv(e.to_string()))?
            .iter()
            .map(|h| String::from_utf8_lossy(h).trim().to_string())
            .collect();
        if headers.is_empty() || headers.iter().all(String::is_empty) {
            return Err(TableError::NotCsv("the header row is empty".into()));
        }
        let mut names: Vec<String> = Vec::with_capacity(headers.len());
        for (i, h) in headers.iter().enumerate() {
            let base = if h.is_empty() {
                format!("column_{}", i + 1)
            } else {
                h.clone()
            };
            let mut name = base.clone();
            let mut n = 2;
            while names.contains(&name) {
                name = format!("{base}_{n}");
                n += 1;
            }
            names.push(name);
        }
        let width = names.len();
        let mut maps: Vec<HashMap<Box<str>, u32>> = (0..width).map(|_| HashMap::new()).collect();
        let mut dicts: Vec<Dict> = (0..width).map(|_| Dict::default()).collect();
        let mut codes: Vec<Vec<u32>> = (0..width).map(|_| Vec::new()).collect();
        let mut hxl: Option<Vec<String>> = None;
        let mut ragged = 0usize;
        let mut rec = csv::ByteRecord::new();
        let mut first = true;
        let mut rows = 0usize;
        loop {
            match r.read_byte_record(&mut rec) {
                Ok(false) => break,
                Ok(true) => {}
                Err(e) => {
                    let line = e.position().map(|p| p.line()).unwrap_or(0);
                    return Err(TableError::NotCsv(format!("line {line}: {e}")));
                }
            }
            if std::mem::take(&mut first) {
                let cells: Vec<String> = rec
                    .iter()
                    .map(|c| String::from_utf8_lossy(c).trim().to_string())
                    .collect();
                let tagged = cells.iter().filter(|c| c.starts_with('#')).count();
                if tagged > 0 && cells.iter().all(|c| c.is_empty() || c.starts_with('#')) {
                    hxl = Some(cells);
                    continue;
                }
            }
            if rows as u64 >= u32::MAX as u64 {
                return Err(TableError::TooManyRows {
                    max: u32::MAX as u64,
                });
            }
            if rec.len() != width {
                ragged += 1;
            }
            for c in 0..width {
                let cell = rec.get(c).unwrap_or(b"");
                let text = String::from_utf8_lossy(cell);
                let map = &mut maps[c];
                let code = match map.get(text.as_ref()) {
                    Some(&code) => code,
                    None => {
                        let code = dicts[c].len() as u32;
                        dicts[c].push(&text);
                        map.insert(text.into_owned().into_boxed_str(), code);
                        code
                    }
                };
                codes[c].push(code);
            }
            rows += 1;
        }
        drop(maps);
        let has_hxl = hxl.is_some();
        let mut columns = Vec::with_capacity(width);
        for (c, ((name, values), mut codes)) in names.into_iter().zip(dicts).zip(codes).enumerate()
        {
            codes.shrink_to_fit();
            let declared_kind = declared
                .iter()
                .find(|d| d.name == name)
                .map(|d| Kind::of_schema(d.r#type));
            let kind = match declared_kind {
                Some(k) if !has_hxl => k,
                _ => guess(&values),
            };
            let numbers = if kind.is_numeric() {
                (0..values.len() as u32)
                    .map(|i| number_of(kind, values.get(i)).unwrap_or(f64::NAN))
                    .collect()
            } else {
                Vec::new()
            };
            let folded = fold_dict(&values);
            let tag = hxl
                .as_ref()
                .and_then(|h| h.get(c))
                .filter(|t| !t.is_empty())
                .cloned();
            columns.push(Column {
                name,
                kind,
                hxl: tag,
                values,
                folded,
                numbers,
                codes,
                rank: OnceLock::new(),
            });
        }
        Ok(Table {
            columns,
            rows,
            ragged_rows: ragged,
            has_hxl,
        })
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }
    pub fn rows(&self) -> usize {
        self.rows
    }
    /// The index of a column by name.
    pub fn column(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
    /// Bytes held (codes, dictionaries, numbers, ranks built so far).
    pub fn bytes(&self) -> usize {
        std::mem::size_of::<Table>() + self.columns.iter().map(Column::bytes).sum::<usize>()
    }
    /// The bytes a table of `rows` rows may hold once every column has been sorted (ranks
    /// add 4 bytes per distinct value): what a cache budget must reserve.
    pub fn bytes_when_ranked(&self) -> usize {
        self.bytes()
            + self
                .columns
                .iter()
                .filter(|c| c.rank.get().is_none())
                .map(|c| c.values.len() * 4)
                .sum::<usize>()
    }

    /// Columns suggested as facets: two to 30 distinct non-empty values, fewer than the rows
    /// (a column of unique values counts nothing), not already faceted.
    pub fn suggested_facets(&self, q: &Query) -> Vec<usize> {
        (0..self.columns.len())
            .filter(|c| !q.facets.contains(c))
            .filter(|&c| {
                let col = &self.columns[c];
                // At most one entry is empty: a long dictionary is not worth counting.
                if col.values.len() > SUGGEST_MAX_DISTINCT + 1 {
                    return false;
                }
                let non_empty = (0..col.values.len() as u32)
                    .filter(|&i| !col.values.get(i).is_empty())
                    .count();
                (2..=SUGGEST_MAX_DISTINCT).contains(&non_empty) && non_empty < self.rows
            })
            .collect()
    }
}

/// The kind of a column's values: integer when every non-empty value is an integer, number,
/// date, boolean likewise, else string.
fn guess(values: &Dict) -> Kind {
    let mut kind: Option<Kind> = None;
    for i in 0..values.len() as u32 {
        let v = values.get(i).trim();
        if v.is_empty() {
            continue;
        }
        let this = if number_of(Kind::Integer, v).is_some() && !v.contains(['.', 'e', 'E']) {
            Kind::Integer
        } else if number_of(Kind::Number, v).is_some() {
            Kind::Number
        } else if date_number(v).is_some() {
            Kind::Date
        } else if matches!(v, "true" | "false") {
            Kind::Boolean
        } else {
            return Kind::String;
        };
        kind = Some(match (kind, this) {
            (None, t) => t,
            (Some(a), b) if a == b => a,
            (Some(Kind::Integer), Kind::Number) | (Some(Kind::Number), Kind::Integer) => {
                Kind::Number
            }
            _ => return Kind::String,
        });
    }
    kind.unwrap_or(Kind::String)
}

fn fold_dict(values: &Dict) -> Option<Dict> {
    let folded: Vec<String> = (0..values.len() as u32)
        .map(|i| fold(values.get(i)))
        .collect();
    if folded
        .iter()
        .enumerate()
        .all(|(i, f)| f == values.get(i as u32))
    {
        return None;
    }
    let mut d = Dict::default();
    for f in &folded {
        d.push(f);
    }
    Some(d)
}

/// One condition on a column.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// The value is one of these (exact, after trimming).
    Eq(Vec<String>),
    /// The folded value contains this folded text.
    Contains(String),
    Gte(f64),
    Lte(f64),
    Gt(f64),
    Lt(f64),
}

impl Op {
    /// The operator's suffix in a parameter name (`__contains`…), empty for equality.
    pub fn suffix(&self) -> &'static str {
        match self {
            Op::Eq(_) => "",
            Op::Contains(_) => "__contains",
            Op::Gte(_) => "__gte",
            Op::Lte(_) => "__lte",
            Op::Gt(_) => "__gt",
            Op::Lt(_) => "__lt",
        }
    }
}

/// A filter: a column and a condition, with the parameter it came from (for removal links).
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub column: usize,
    pub op: Op,
    /// The parameter as given: (`name`, `value`) pairs (several for an `Eq` with several
    /// values).
    pub params: Vec<(String, String)>,
}

/// What to read from a table.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub filters: Vec<Filter>,
    /// Folded words that must each appear in some text column of a row.
    pub search: Vec<String>,
    /// The text of `_search` as given.
    pub search_text: String,
    /// Column and descending.
    pub sort: Option<(usize, bool)>,
    pub size: usize,
    pub offset: usize,
    /// The last row of the previous page (keyset paging).
    pub next: Option<u32>,
    pub facets: Vec<usize>,
}

fn parse_number(kind: Kind, param: &str, v: &str) -> Result<f64, QueryError> {
    match kind {
        Kind::Date => date_number(v.trim())
            .ok_or_else(|| bad(param, format!("\"{v}\" is not a date (write YYYY-MM-DD)"))),
        Kind::Integer | Kind::Number => number_of(Kind::Number, v)
            .ok_or_else(|| bad(param, format!("\"{v}\" is not a number (write 12 or 12.5)"))),
        _ => Err(bad(
            param,
            "ranges apply to columns of numbers or dates only",
        )),
    }
}

impl Query {
    /// Reads a query from URL parameters (see the module's list). Every unknown column,
    /// unknown `_` parameter or unreadable value is refused, naming the parameter.
    pub fn parse(t: &Table, pairs: &[(String, String)]) -> Result<Query, QueryError> {
        let mut q = Query {
            size: DEFAULT_PAGE_SIZE,
            ..Query::default()
        };
        let column = |param: &str, name: &str| {
            t.column(name)
                .ok_or_else(|| bad(param, format!("the table has no column \"{name}\"")))
        };
        for (k, v) in pairs {
            match k.as_str() {
                "_search" => {
                    q.search_text = v.trim().to_string();
                    q.search = crate::fold::words(v);
                    q.search.truncate(MAX_SEARCH_WORDS);
                }
                "_sort" | "_sort_desc" => {
                    if v.is_empty() {
                        continue;
                    }
                    if q.sort.is_some() {
                        return Err(bad(k, "sort by one column only"));
                    }
                    q.sort = Some((column(k, v)?, k == "_sort_desc"));
                }
                "_size" => {
                    q.size = match v.trim() {
                        "max" => MAX_PAGE_SIZE,
                        s => s
                            .parse::<usize>()
                            .ok()
                            .filter(|n| (1..=MAX_PAGE_SIZE).contains(n))
                            .ok_or_else(|| {
                                bad(
                                    k,
                                    format!("\"{v}\" is not a page size from 1 to {MAX_PAGE_SIZE}"),
                                )
                            })?,
                    }
                }
                "_offset" => {
                    q.offset = v
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| bad(k, format!("\"{v}\" is not a row number")))?
                }
                "_next" => {
                    if v.is_empty() {
                        continue;
                    }
                    q.next = Some(
                        v.trim()
                            .parse::<u32>()
                            .ok()
                            .filter(|&n| (n as usize) < t.rows())
                            .ok_or_else(|| bad(k, format!("\"{v}\" is not a row of this table")))?,
                    )
                }
                "_facet" => {
                    let c = column(k, v)?;
                    if !q.facets.contains(&c) {
                        q.facets.push(c);
                    }
                }
                _ if k.starts_with('_') => {
                    return Err(bad(k, "not a parameter of the table page"));
                }
                _ => {
                    let (name, op) = match k.rsplit_once("__") {
                        Some((name, op))
                            if matches!(op, "exact" | "contains" | "gte" | "lte" | "gt" | "lt") =>
                        {
                            (name, op)
                        }
                        _ => (k.as_str(), "exact"),
                    };
                    let c = column(k, name)?;
                    let kind = t.columns[c].kind;
                    let op = match op {
                        "exact" => {
                            // Several values of one column: any of them.
                            if let Some(f) = q
                                .filters
                                .iter_mut()
                                .find(|f| f.column == c && matches!(f.op, Op::Eq(_)))
                            {
                                if let Op::Eq(values) = &mut f.op {
                                    values.push(v.trim().to_string());
                                }
                                f.params.push((k.clone(), v.clone()));
                                continue;
                            }
                            Op::Eq(vec![v.trim().to_string()])
                        }
                        "contains" => Op::Contains(fold(v.trim())),
                        "gte" => Op::Gte(parse_number(kind, k, v)?),
                        "lte" => Op::Lte(parse_number(kind, k, v)?),
                        "gt" => Op::Gt(parse_number(kind, k, v)?),
                        _ => Op::Lt(parse_number(kind, k, v)?),
                    };
                    q.filters.push(Filter {
                        column: c,
                        op,
                        params: vec![(k.clone(), v.clone())],
                    });
                }
            }
        }
        Ok(q)
    }
}

/// One facet's counts within the matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct FacetCounts {
    pub column: usize,
    /// The most frequent values, by count then in the column's order: (code, count).
    pub values: Vec<(u32, usize)>,
    /// How many distinct non-empty values the matching rows have.
    pub distinct: usize,
}

/// A page of a query's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Rows matching the filters.
    pub total: usize,
    /// The page's rows, in order.
    pub rows: Vec<u32>,
    /// The keyset token of the next page, when there is one.
    pub next: Option<u32>,
    pub facets: Vec<FacetCounts>,
}

/// Per column, which codes pass: `None` when the column is not restricted.
struct Masks {
    /// (column, allowed code).
    columns: Vec<(usize, Vec<bool>)>,
    /// Text columns and, per code, the bit set of search words the value contains.
    search: Vec<(usize, Vec<u64>)>,
    /// The bit set every matching row must reach.
    search_all: u64,
    /// A filter that no value can pass (nothing matches).
    empty: bool,
}

fn contains_all_masks(t: &Table, q: &Query) -> Masks {
    let mut by_column: Vec<(usize, Vec<bool>)> = Vec::new();
    for f in &q.filters {
        let col = &t.columns[f.column];
        let n = col.values.len();
        let pass: Vec<bool> = (0..n as u32)
            .map(|i| match &f.op {
                Op::Eq(values) => {
                    let v = col.values.get(i).trim();
                    values.iter().any(|w| w == v)
                }
                Op::Contains(text) => col.folded(i).contains(text.as_str()),
                Op::Gte(x) => col.numbers.get(i as usize).is_some_and(|n| *n >= *x),
                Op::Lte(x) => col.numbers.get(i as usize).is_some_and(|n| *n <= *x),
                Op::Gt(x) => col.numbers.get(i as usize).is_some_and(|n| *n > *x),
                Op::Lt(x) => col.numbers.get(i as usize).is_some_and(|n| *n < *x),
            })
            .collect();
        match by_column.iter_mut().find(|(c, _)| *c == f.column) {
            Some((_, mask)) => mask.iter_mut().zip(pass).for_each(|(m, p)| *m &= p),
            None => by_column.push((f.column, pass)),
        }
    }
    let empty = by_column.iter().any(|(_, m)| !m.iter().any(|&b| b));
    let mut search = Vec::new();
    let mut search_all = 0u64;
    if !q.search.is_empty() {
        search_all = if q.search.len() >= 64 {
            u64::MAX
        } else {
            (1u64 << q.search.len()) - 1
        };
        for (c, col) in t.columns.iter().enumerate() {
            if col.kind != Kind::String {
                continue;
            }
            let bits: Vec<u64> = (0..col.values.len() as u32)
                .map(|i| {
                    let v = col.folded(i);
                    q.search
                        .iter()
                        .enumerate()
                        .filter(|(_, w)| v.contains(w.as_str()))
                        .fold(0u64, |acc, (j, _)| acc | (1 << j))
                })
                .collect();
            if bits.iter().any(|&b| b != 0) {
                search.push((c, bits));
            }
        }
    }
    Masks {
        columns: by_column,
        search,
        search_all,
        empty,
    }
}

impl Table {
    /// Every row matching the filters and search, in the query's order (for the CSV twin).
    pub fn matching(&self, q: &Query) -> Vec<u32> {
        let (mut hits, _) = self.scan(q, &[]);
        self.sort_all(&mut hits, q.sort);
        hits
    }

    /// The matching rows (in row order) and the facet counts of `facets` over them.
    fn scan(&self, q: &Query, facets: &[usize]) -> (Vec<u32>, Vec<Vec<u32>>) {
        let mut counts: Vec<Vec<u32>> = facets
            .iter()
            .map(|&c| vec![0u32; self.columns[c].values.len()])
            .collect();
        let m = contains_all_masks(self, q);
        if m.empty || (!q.search.is_empty() && m.search.is_empty()) {
            return (Vec::new(), counts);
        }
        let facet_codes: Vec<&[u32]> = facets
            .iter()
            .map(|&c| self.columns[c].codes.as_slice())
            .collect();
        let filters: Vec<(&[u32], &[bool])> = m
            .columns
            .iter()
            .map(|(c, mask)| (self.columns[*c].codes.as_slice(), mask.as_slice()))
            .collect();
        let search: Vec<(&[u32], &[u64])> = m
            .search
            .iter()
            .map(|(c, bits)| (self.columns[*c].codes.as_slice(), bits.as_slice()))
            .collect();
        let mut hits = Vec::new();
        for row in 0..self.rows {
            if !filters
                .iter()
                .all(|(codes, mask)| mask[codes[row] as usize])
            {
                continue;
            }
            if !search.is_empty() {
                let mut have = 0u64;
                for (codes, bits) in &search {
                    have |= bits[codes[row] as usize];
                }
                if have != m.search_all {
                    continue;
                }
            }
            hits.push(row as u32);
            for (codes, count) in facet_codes.iter().zip(counts.iter_mut()) {
                count[codes[row] as usize] += 1;
            }
        }
        (hits, counts)
    }

    /// The sort key of a row: its value's rank, reversed when descending.
    fn key_fn(&self, sort: Option<(usize, bool)>) -> impl Fn(u32) -> (u32, u32) + '_ {
        let ranked = sort.map(|(c, desc)| (&self.columns[c], self.columns[c].ranked(), desc));
        move |row: u32| match &ranked {
            None => (0, row),
            Some((col, (rank, ordinary), desc)) => {
                let r = rank[col.codes[row as usize] as usize];
                // Descending reverses the ordinary values; empty ones stay last.
                (
                    if *desc && r < *ordinary {
                        ordinary - 1 - r
                    } else {
                        r
                    },
                    row,
                )
            }
        }
    }

    fn sort_all(&self, hits: &mut [u32], sort: Option<(usize, bool)>) {
        if sort.is_some() {
            let key = self.key_fn(sort);
            hits.sort_unstable_by_key(|&r| key(r));
        }
    }

    /// A page of the query's answer, with its facets.
    pub fn page(&self, q: &Query) -> Page {
        let (mut hits, counts) = self.scan(q, &q.facets);
        let total = hits.len();
        let key = self.key_fn(q.sort);
        if let Some(after) = q.next {
            let k = key(after);
            hits.retain(|&r| key(r) > k);
        }
        // Rows after the token (all matching rows without one).
        let remaining = hits.len();
        let want = q.offset.saturating_add(q.size);
        if q.sort.is_some() {
            if hits.len() > want {
                hits.select_nth_unstable_by_key(want, |&r| key(r));
                hits.truncate(want);
            }
            hits.sort_unstable_by_key(|&r| key(r));
        }
        let rows: Vec<u32> = hits.into_iter().skip(q.offset).take(q.size).collect();
        let next = if remaining > q.offset + rows.len() {
            rows.last().copied()
        } else {
            None
        };
        let facets = q
            .facets
            .iter()
            .zip(counts)
            .map(|(&c, count)| self.facet(c, &count))
            .collect();
        Page {
            total,
            rows,
            next,
            facets,
        }
    }

    fn facet(&self, c: usize, count: &[u32]) -> FacetCounts {
        let col = &self.columns[c];
        let mut present: Vec<(u32, usize)> = count
            .iter()
            .enumerate()
            .filter(|&(code, &n)| n > 0 && !col.values.get(code as u32).is_empty())
            .map(|(code, &n)| (code as u32, n as usize))
            .collect();
        let distinct = present.len();
        let rank = col.rank();
        let order = |a: &(u32, usize), b: &(u32, usize)| {
            b.1.cmp(&a.1)
                .then_with(|| rank[a.0 as usize].cmp(&rank[b.0 as usize]))
        };
        if present.len() > FACET_VALUES {
            present.select_nth_unstable_by(FACET_VALUES, order);
            present.truncate(FACET_VALUES);
        }
        present.sort_unstable_by(order);
        FacetCounts {
            column: c,
            values: present,
            distinct,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CSV: &str = "\u{feff}province,type,status,year,users,visited,note\n\
#adm1+name,#loc+type,#status,#date+year,#population,#date,#description\n\
Ouaddaï,forage,broken,2024,120,2026-01-05,\"Près de l'école, côté nord\"\n\
Ouaddaï,puits,working,2025,80,2026-02-10,ÉCOLE fermée\n\
Lac,forage,broken,2024,300,2025-12-31,\n\
Lac,forage,working,2023,,2026-03-01,\"dit \"\"neuf\"\"\"\n\
Ouaddaï,forage,broken,2025,45,2026-01-20,marché\n\
Salamat,borne,broken,2024,1,5\n";

    fn table() -> Table {
        Table::load(CSV.as_bytes(), &[]).unwrap()
    }

    fn q(t: &Table, query: &str) -> Result<Query, QueryError> {
        let pairs: Vec<(String, String)> = serde_urlencoded_like(query);
        Query::parse(t, &pairs)
    }

    /// `a=b&c=d` split without decoding (tests write plain values).
    fn serde_urlencoded_like(s: &str) -> Vec<(String, String)> {
        s.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| match p.split_once('=') {
                Some((k, v)) => (k.to_string(), v.to_string()),
                None => (p.to_string(), String::new()),
            })
            .collect()
    }

    fn rows(t: &Table, query: &str) -> Vec<u32> {
        t.page(&q(t, query).unwrap()).rows
    }

    #[test]
    fn loads_bom_hxl_quotes_and_ragged_rows() {
        let t = table();
        assert_eq!(t.rows(), 6, "the hashtag row is not data");
        assert!(t.has_hxl);
        assert_eq!(
            t.columns()[0].name,
            "province",
            "the byte order mark is not in the name"
        );
        assert_eq!(t.columns()[0].hxl.as_deref(), Some("#adm1+name"));
        assert_eq!(t.columns()[6].value(3), "dit \"neuf\"");
        assert_eq!(t.columns()[6].value(0), "Près de l'école, côté nord");
        // The last row has 6 cells of 7: padded.
        assert_eq!(t.ragged_rows, 1);
        assert_eq!(t.columns()[6].value(5), "");
        let kinds: Vec<Kind> = t.columns().iter().map(|c| c.kind).collect();
        assert_eq!(
            kinds,
            [
                Kind::String,
                Kind::String,
                Kind::String,
                Kind::Integer,
                Kind::Integer,
                Kind::String, // "5" is not a date: the column is text
                Kind::String
            ]
        );
        assert!(t.bytes() > 0);
    }

    #[test]
    fn declared_types_are_used_and_comma_decimals_stay_text() {
        let csv = "code,amount,when\nA,\"1,5\",2026-01-02\nB,2.5,2026-01-01\nC,10,\n";
        let t = Table::load(
            csv.as_bytes(),
            &[
                Declared {
                    name: "amount",
                    r#type: "string",
                },
                Declared {
                    name: "when",
                    r#type: "date",
                },
            ],
        )
        .unwrap();
        assert_eq!(t.columns()[1].kind, Kind::String);
        assert_eq!(t.columns()[2].kind, Kind::Date);
        // Guessed: "1,5" is not a number, so the column is text.
        let t = Table::load(csv.as_bytes(), &[]).unwrap();
        assert_eq!(t.columns()[1].kind, Kind::String);
        assert_eq!(t.columns()[1].number(0), None);
        assert_eq!(
            rows(&t, "when__gte=2026-01-02"),
            [0],
            "dates compare as dates"
        );
        assert_eq!(rows(&t, "_sort=when"), [1, 0, 2], "empty last");
        assert_eq!(rows(&t, "_sort_desc=when"), [0, 1, 2]);
    }

    #[test]
    fn empty_and_header_only_files() {
        assert!(matches!(Table::load(b"", &[]), Err(TableError::NotCsv(_))));
        assert!(matches!(
            Table::load(b",,\n", &[]),
            Err(TableError::NotCsv(_))
        ));
        let t = Table::load(b"a,b\n", &[]).unwrap();
        assert_eq!(t.rows(), 0);
        let p = t.page(&q(&t, "_facet=a&_sort=b").unwrap());
        assert_eq!((p.total, p.rows.len(), p.next), (0, 0, None));
        assert_eq!(p.facets[0].distinct, 0);
        // Blank and duplicate headers get names.
        let t = Table::load(b"a,,a\n1,2,3\n", &[]).unwrap();
        let names: Vec<&str> = t.columns().iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["a", "column_2", "a_2"]);
    }

    #[test]
    fn equality_filters_or_within_and_across_columns() {
        let t = table();
        assert_eq!(rows(&t, "province=Ouaddaï"), [0, 1, 4]);
        assert_eq!(rows(&t, "province=Ouaddaï&status=broken"), [0, 4]);
        assert_eq!(
            rows(&t, "province=Ouaddaï&province=Lac&status=working"),
            [1, 3]
        );
        assert_eq!(rows(&t, "province__exact=Lac"), [2, 3]);
        assert_eq!(rows(&t, "province=Nowhere"), Vec::<u32>::new());
        assert_eq!(
            rows(&t, "note="),
            [2, 5],
            "an empty value matches empty cells"
        );
    }

    #[test]
    fn contains_is_folded() {
        let t = table();
        assert_eq!(rows(&t, "note__contains=ecole"), [0, 1]);
        assert_eq!(rows(&t, "note__contains=ÉCOLE"), [0, 1]);
        assert_eq!(rows(&t, "province__contains=DDA"), [0, 1, 4]);
    }

    #[test]
    fn ranges_on_numbers() {
        let t = table();
        assert_eq!(rows(&t, "users__gte=80"), [0, 1, 2]);
        assert_eq!(rows(&t, "users__lte=80"), [1, 4, 5]);
        assert_eq!(rows(&t, "users__gte=45&users__lte=120"), [0, 1, 4]);
        assert_eq!(rows(&t, "users__gt=80&users__lt=300"), [0]);
        assert_eq!(rows(&t, "year__gte=2025"), [1, 4]);
    }

    #[test]
    fn search_needs_every_word_somewhere() {
        let t = table();
        assert_eq!(rows(&t, "_search=ecole"), [0, 1]);
        assert_eq!(rows(&t, "_search=ecole puits"), [1]);
        assert_eq!(rows(&t, "_search=lac forage"), [2, 3]);
        assert_eq!(rows(&t, "_search=zzz"), Vec::<u32>::new());
        assert_eq!(rows(&t, "_search="), [0, 1, 2, 3, 4, 5]);
    }

    #[test]
    fn sorting_is_stable_and_puts_empty_last() {
        let t = table();
        assert_eq!(rows(&t, "_sort=users"), [5, 4, 1, 0, 2, 3]);
        assert_eq!(rows(&t, "_sort_desc=users"), [2, 0, 1, 4, 5, 3]);
        // Ties keep the file's order.
        assert_eq!(rows(&t, "_sort=province"), [2, 3, 0, 1, 4, 5]);
        assert_eq!(rows(&t, "_sort_desc=type"), [1, 0, 2, 3, 4, 5]);
    }

    #[test]
    fn paging_by_offset_and_keyset_agree() {
        let t = table();
        for sort in ["", "_sort=users&", "_sort_desc=province&"] {
            let all = rows(&t, &format!("{sort}_size=100"));
            let mut seen: Vec<u32> = Vec::new();
            let mut next = None;
            loop {
                let query = match next {
                    None => format!("{sort}_size=4"),
                    Some(n) => format!("{sort}_size=4&_next={n}"),
                };
                let p = t.page(&q(&t, &query).unwrap());
                assert_eq!(p.total, 6);
                seen.extend(&p.rows);
                next = p.next;
                if next.is_none() {
                    break;
                }
            }
            assert_eq!(seen, all, "{sort}");
            let by_offset: Vec<u32> = [0, 2, 4]
                .iter()
                .flat_map(|o| rows(&t, &format!("{sort}_size=2&_offset={o}")))
                .collect();
            assert_eq!(by_offset, all, "{sort}");
        }
        let p = t.page(&q(&t, "_size=6").unwrap());
        assert_eq!(p.next, None, "a full last page has no next");
        let p = t.page(&q(&t, "_size=5").unwrap());
        assert_eq!(p.next, Some(4));
    }

    #[test]
    fn facets_count_within_the_filtered_rows() {
        let t = table();
        let p = t.page(&q(&t, "status=broken&_facet=province&_facet=type").unwrap());
        assert_eq!(p.total, 4);
        let named = |f: &FacetCounts| -> Vec<(String, usize)> {
            f.values
                .iter()
                .map(|(c, n)| (t.columns()[f.column].value_of(*c).to_string(), *n))
                .collect()
        };
        assert_eq!(
            named(&p.facets[0]),
            [
                ("Ouaddaï".into(), 2),
                ("Lac".into(), 1),
                ("Salamat".into(), 1)
            ]
        );
        assert_eq!(p.facets[0].distinct, 3);
        assert_eq!(
            named(&p.facets[1]),
            [("forage".into(), 3), ("borne".into(), 1)]
        );
        // Empty values are not a facet value.
        let p = t.page(&q(&t, "_facet=users").unwrap());
        assert_eq!(p.facets[0].distinct, 5);
        // Suggestions: few distinct values, not already faceted.
        let query = q(&t, "_facet=province").unwrap();
        let names: Vec<&str> = t
            .suggested_facets(&query)
            .into_iter()
            .map(|c| t.columns()[c].name.as_str())
            .collect();
        // `visited` has a different value in each row: nothing to count.
        assert_eq!(names, ["type", "status", "year", "users", "note"]);
    }

    #[test]
    fn top_thirty_facet_values() {
        let mut csv = String::from("v\n");
        for i in 0..40 {
            for _ in 0..(i % 5 + 1) {
                csv.push_str(&format!("v{i:02}\n"));
            }
        }
        let t = Table::load(csv.as_bytes(), &[]).unwrap();
        let p = t.page(&q(&t, "_facet=v").unwrap());
        assert_eq!(p.facets[0].distinct, 40);
        assert_eq!(p.facets[0].values.len(), FACET_VALUES);
        assert_eq!(
            p.facets[0].values[0],
            (4, 5),
            "the most frequent first, then in order"
        );
        assert!(p.facets[0].values.windows(2).all(|w| w[0].1 >= w[1].1));
    }

    #[test]
    fn bad_parameters_are_named() {
        let t = table();
        for (query, param) in [
            ("nope=1", "nope"),
            ("nope__contains=1", "nope__contains"),
            ("users__gte=abc", "users__gte"),
            ("users__gte=1,5", "users__gte"),
            ("province__gte=1", "province__gte"),
            ("_sort=nope", "_sort"),
            ("_facet=nope", "_facet"),
            ("_size=0", "_size"),
            ("_size=1001", "_size"),
            ("_next=99", "_next"),
            ("_next=x", "_next"),
            ("_offset=-1", "_offset"),
            ("_frobnicate=1", "_frobnicate"),
            ("_sort=users&_sort_desc=year", "_sort_desc"),
        ] {
            let e = q(&t, query).unwrap_err();
            assert_eq!(e.param, param, "{query}: {e}");
        }
        assert_eq!(q(&t, "_size=max").unwrap().size, MAX_PAGE_SIZE);
    }

    #[test]
    fn matching_gives_every_row_in_order() {
        let t = table();
        let query = q(&t, "status=broken&_sort_desc=users&_size=1").unwrap();
        assert_eq!(t.matching(&query), [2, 0, 4, 5]);
    }
}
