//! Search over the whole catalogue, in memory, with CKAN's query language.
//!
//! The [`Index`] is built once from every dataset (the core rebuilds it when the catalogue's
//! version changes) and answers a [`Query`] — CKAN's `package_search` parameters — with the
//! matching datasets, their count and the facets.
//!
//! * `q`: words, each of which must begin a word of the dataset (title, description, tags,
//!   organisation, groups, resource names and formats, methodology), accents and case folded;
//!   `"quoted words"` must all be there; `field:value` terms filter as in `fq`; `*:*` or nothing
//!   matches everything. Titles weigh more than tags, and tags more than the rest, for `score`.
//! * `fq`: `field:value`, `field:"a value"`, `field:(a OR b)`, `field:[A TO B]` (with `*` and
//!   `NOW`, `NOW-7DAYS`), `-field:value` to exclude; `+` and `AND` are accepted and ignored.
//!   Fields: `organization`, `groups`, `tags`, `res_format`, `license_id`, `name`, `id`,
//!   `frequency`, `state`, `capacity` (public/private), `dataset_type`/`type`, `title`, `text`,
//!   `metadata_modified`, `metadata_created`, `num_resources`, `num_tags`. Another field is an
//!   error, as Solr's "undefined field" is in CKAN.
//! * `sort`: comma-separated `field asc|desc` over `score`, `name`, `title_string`, `id`,
//!   `metadata_modified`, `metadata_created`, `num_resources`, `num_tags`, `num_reuses` (the
//!   reuses registered and not hidden, as uData sorts by); ties are broken by
//!   name, so that paging is stable.

use crate::fold::{fold, words};
use crate::model::{Dataset, DatasetState};
use std::collections::HashMap;

/// A query that cannot be run, said as CKAN says it ("Search Query Error").
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    #[error("cannot search on undefined field \"{0}\"")]
    UnknownField(String),
    #[error("cannot sort on \"{0}\": sort by score, name, title_string, id, metadata_modified, metadata_created, num_resources, num_tags or num_reuses, each asc or desc")]
    BadSort(String),
    #[error("cannot read \"{0}\" in the query: {1}")]
    Syntax(String, &'static str),
}

/// The facets CKAN's clients ask for, and ours.
pub const FACET_FIELDS: [&str; 7] = [
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "frequency",
    "spatial",
];

/// `package_search`'s parameters, already parsed from the request.
#[derive(Debug, Clone)]
pub struct Query {
    pub q: String,
    pub fq: String,
    pub sort: String,
    pub rows: usize,
    pub start: usize,
    pub facet_fields: Vec<String>,
    /// The most values per facet; negative means all (CKAN's `facet.limit`).
    pub facet_limit: i64,
    pub facet_mincount: usize,
    /// "Now" in Unix seconds, for `NOW` in ranges.
    pub now: i64,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            q: String::new(),
            fq: String::new(),
            sort: String::new(),
            rows: 10,
            start: 0,
            facet_fields: Vec::new(),
            facet_limit: 50,
            facet_mincount: 1,
            now: 0,
        }
    }
}

/// One facet's values with their counts, most frequent first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Facet {
    pub field: String,
    pub items: Vec<(String, usize)>,
}

/// What a search found.
#[derive(Debug)]
pub struct Found<'a> {
    pub count: usize,
    pub results: Vec<&'a Dataset>,
    pub facets: Vec<Facet>,
}

struct Doc {
    formats: Vec<String>,
}

/// One facet field's values, interned: each dataset's value ids (distinct, in a slice of
/// `ids` from `starts[i]` to `starts[i + 1]`), so that counting over thousands of matches
/// adds to an array rather than hashing strings.
struct FacetColumn {
    values: Vec<String>,
    starts: Vec<u32>,
    ids: Vec<u32>,
}

impl FacetColumn {
    fn new(datasets: &[Dataset], docs: &[Doc], field: &str) -> Self {
        let mut dict: HashMap<&str, u32> = HashMap::new();
        let mut values = Vec::new();
        let mut starts = Vec::with_capacity(datasets.len() + 1);
        let mut ids = Vec::new();
        for (d, doc) in datasets.iter().zip(docs) {
            starts.push(ids.len() as u32);
            let from = ids.len();
            for v in facet_values(field, d, doc) {
                let id = *dict.entry(v).or_insert_with(|| {
                    values.push(v.to_string());
                    (values.len() - 1) as u32
                });
                if !ids[from..].contains(&id) {
                    ids.push(id);
                }
            }
        }
        starts.push(ids.len() as u32);
        FacetColumn {
            values,
            starts,
            ids,
        }
    }
}

/// A dataset's values for one of [`FACET_FIELDS`].
fn facet_values<'a>(field: &str, d: &'a Dataset, doc: &'a Doc) -> Vec<&'a str> {
    match field {
        "organization" => vec![d.organisation.name.as_str()],
        "groups" => d.groups.iter().map(String::as_str).collect(),
        "tags" => d.tags.iter().map(String::as_str).collect(),
        "res_format" => doc.formats.iter().map(String::as_str).collect(),
        "license_id" => vec![d.license_id.as_str()],
        "frequency" if !d.frequency.is_empty() => vec![d.frequency.as_str()],
        "spatial" => d.spatial.iter().map(String::as_str).collect(),
        _ => vec![],
    }
}

/// The catalogue, ready to search.
///
/// Besides the datasets, it keeps an inverted index (every folded word, sorted, with the
/// datasets that hold it and its weight there), each facet field's values interned, and the
/// rank of each dataset by name, title and id, so that a query touches only small arrays:
/// a word query reads the postings of the words it begins, facets add to counters, and the
/// sort compares integers and selects the page rather than ordering every match.
pub struct Index {
    datasets: Vec<Dataset>,
    docs: Vec<Doc>,
    by_name: HashMap<String, usize>,
    /// Every word of the catalogue, sorted; `postings[k]` lists (dataset, weight) for `vocab[k]`.
    vocab: Vec<String>,
    postings: Vec<Vec<(u32, u8)>>,
    /// The columns of [`FACET_FIELDS`], in that order.
    facets: Vec<FacetColumn>,
    name_rank: Vec<u32>,
    title_rank: Vec<u32>,
    id_rank: Vec<u32>,
}

/// The position of each item in the order `key` sorts them.
fn ranks<K: Ord>(n: usize, key: impl Fn(usize) -> K) -> Vec<u32> {
    let keys: Vec<K> = (0..n).map(key).collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| keys[a as usize].cmp(&keys[b as usize]).then(a.cmp(&b)));
    let mut rank = vec![0u32; n];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

impl Index {
    pub fn new(datasets: Vec<Dataset>) -> Index {
        let (docs, words): (Vec<Doc>, Vec<Vec<(String, u8)>>) = datasets.iter().map(doc_of).unzip();
        let mut by_name = HashMap::with_capacity(datasets.len() * 2);
        for (i, d) in datasets.iter().enumerate() {
            by_name.insert(d.name.clone(), i);
            by_name.insert(d.id.clone(), i);
        }
        let mut triples: Vec<(&str, u32, u8)> = words
            .iter()
            .enumerate()
            .flat_map(|(i, words)| words.iter().map(move |(w, wt)| (w.as_str(), i as u32, *wt)))
            .collect();
        triples.sort_unstable();
        let mut vocab: Vec<String> = Vec::new();
        let mut postings: Vec<Vec<(u32, u8)>> = Vec::new();
        for (w, i, wt) in triples {
            if vocab.last().map(String::as_str) != Some(w) {
                vocab.push(w.to_string());
                postings.push(Vec::new());
            }
            if let Some(p) = postings.last_mut() {
                p.push((i, wt));
            }
        }
        let facets = FACET_FIELDS
            .iter()
            .map(|field| FacetColumn::new(&datasets, &docs, field))
            .collect();
        let n = datasets.len();
        let name_rank = ranks(n, |i| datasets[i].name.as_str());
        let title_rank = ranks(n, |i| fold(&datasets[i].title));
        let id_rank = ranks(n, |i| datasets[i].id.as_str());
        Index {
            datasets,
            docs,
            by_name,
            vocab,
            postings,
            facets,
            name_rank,
            title_rank,
            id_rank,
        }
    }

    pub fn len(&self) -> usize {
        self.datasets.len()
    }

    pub fn is_empty(&self) -> bool {
        self.datasets.is_empty()
    }

    /// Every dataset, in name order.
    pub fn all(&self) -> impl Iterator<Item = &Dataset> {
        self.datasets.iter()
    }

    /// The dataset with this name or id.
    pub fn get(&self, name_or_id: &str) -> Option<&Dataset> {
        self.by_name.get(name_or_id).map(|&i| &self.datasets[i])
    }

    /// Per dataset, the weight of its best word beginning with `term` (doubled when the word
    /// is the term itself), 0 when it has none: read from the postings of the words that
    /// begin with `term`.
    fn term_weights(&self, term: &str) -> Vec<u8> {
        let mut out = vec![0u8; self.datasets.len()];
        let start = self.vocab.partition_point(|w| w.as_str() < term);
        for (word, postings) in self.vocab[start..].iter().zip(&self.postings[start..]) {
            if !word.starts_with(term) {
                break;
            }
            let exact = word == term;
            for &(i, w) in postings {
                let w = if exact { w * 2 } else { w };
                let slot = &mut out[i as usize];
                *slot = (*slot).max(w);
            }
        }
        out
    }

    /// Per dataset, whether it has a word beginning with `term` (in its title only, when
    /// `title`: title words are the only ones of weight 3).
    fn term_docs(&self, term: &str, title: bool) -> Vec<bool> {
        let mut out = vec![false; self.datasets.len()];
        let start = self.vocab.partition_point(|w| w.as_str() < term);
        for (word, postings) in self.vocab[start..].iter().zip(&self.postings[start..]) {
            if !word.starts_with(term) {
                break;
            }
            for &(i, w) in postings {
                if !title || w == 3 {
                    out[i as usize] = true;
                }
            }
        }
        out
    }

    /// For a `text:` or `title:` filter, the datasets it matches before negation (any of its
    /// values, each of whose words must begin a word), read from the index; `None` for other
    /// filters.
    fn words_filter(&self, f: &Filter) -> Option<Vec<bool>> {
        let (Test::Values(values), "text" | "title") = (&f.test, f.field.as_str()) else {
            return None;
        };
        let mut out = vec![false; self.datasets.len()];
        for v in values {
            if v == "*" {
                return Some(vec![true; self.datasets.len()]);
            }
            let mut all = vec![true; self.datasets.len()];
            for t in words(v) {
                for (a, hit) in all.iter_mut().zip(self.term_docs(&t, f.field == "title")) {
                    *a &= hit;
                }
            }
            for (o, a) in out.iter_mut().zip(all) {
                *o |= a;
            }
        }
        Some(out)
    }

    /// The datasets that `visible` lets through and the query matches, sorted and paged, with
    /// the facets of all matches (not only the page).
    pub fn search(
        &self,
        query: &Query,
        visible: &dyn Fn(&Dataset) -> bool,
    ) -> Result<Found<'_>, SearchError> {
        let (text, mut filters) = parse_q(&query.q)?;
        filters.extend(parse_fq(&query.fq, query.now)?);
        let sort = parse_sort(&query.sort)?;
        for field in &query.facet_fields {
            if !FACET_FIELDS.contains(&field.as_str()) {
                return Err(SearchError::UnknownField(field.clone()));
            }
        }
        // Scores of the text terms: every term must begin a word of the dataset.
        let weights: Vec<Vec<u8>> = text.iter().map(|t| self.term_weights(t)).collect();
        let word_filters: Vec<Option<Vec<bool>>> =
            filters.iter().map(|f| self.words_filter(f)).collect();
        let mut hits: Vec<(usize, u32)> = Vec::new();
        for (i, d) in self.datasets.iter().enumerate() {
            let mut score = 0u32;
            if !weights.iter().all(|w| {
                score += u32::from(w[i]);
                w[i] > 0
            }) {
                continue;
            }
            if !visible(d) {
                continue;
            }
            let doc = &self.docs[i];
            if !filters.iter().zip(&word_filters).all(|(f, w)| match w {
                Some(w) => w[i] != f.negate,
                None => f.matches(d, doc),
            }) {
                continue;
            }
            hits.push((i, score));
        }
        let facets = query
            .facet_fields
            .iter()
            .map(|field| self.facet(field, &hits, query))
            .collect();
        let count = hits.len();
        let results = self
            .page(&sort, hits, query.start, query.rows)
            .into_iter()
            .map(|i| &self.datasets[i])
            .collect();
        Ok(Found {
            count,
            results,
            facets,
        })
    }

    /// The sort key of a match, as an integer (strings by their rank), larger first when
    /// `desc`.
    fn key(&self, key: SortKey, (i, score): (usize, u32), desc: bool) -> i64 {
        let d = &self.datasets[i];
        let v = match key {
            SortKey::Score => i64::from(score),
            SortKey::Name => i64::from(self.name_rank[i]),
            SortKey::Title => i64::from(self.title_rank[i]),
            SortKey::Id => i64::from(self.id_rank[i]),
            SortKey::Modified => d.modified,
            SortKey::Created => d.created,
            SortKey::Resources => d.resources.len() as i64,
            SortKey::Tags => d.tags.len() as i64,
            SortKey::Reuses => d.reuses,
        };
        if desc {
            v.saturating_neg()
        } else {
            v
        }
    }

    /// The indexes of the matches from `start` to `start + rows` in the order `sort` asks, ties
    /// broken by name. Only that page is ordered; the rest is only selected out.
    fn page(
        &self,
        sort: &[(SortKey, bool)],
        hits: Vec<(usize, u32)>,
        start: usize,
        rows: usize,
    ) -> Vec<usize> {
        let end = start.saturating_add(rows).min(hits.len());
        if start >= end {
            return Vec::new();
        }
        // Keys up to the first one that no two datasets share (name, id), then the name.
        let mut spec: Vec<(SortKey, bool)> = Vec::new();
        for &(k, desc) in sort {
            spec.push((k, desc));
            if matches!(k, SortKey::Name | SortKey::Id) {
                break;
            }
        }
        if !matches!(spec.last(), Some((SortKey::Name | SortKey::Id, _))) {
            spec.push((SortKey::Name, false));
        }
        let width = spec.len();
        let mut keys: Vec<i64> = Vec::with_capacity(hits.len() * width);
        for &hit in &hits {
            keys.extend(spec.iter().map(|&(k, desc)| self.key(k, hit, desc)));
        }
        let row = |p: u32| &keys[p as usize * width..(p as usize + 1) * width];
        let mut order: Vec<u32> = (0..hits.len() as u32).collect();
        let cmp = |a: &u32, b: &u32| row(*a).cmp(row(*b));
        if end < order.len() {
            order.select_nth_unstable_by(end, cmp);
            order.truncate(end);
        }
        order.sort_unstable_by(cmp);
        order[start..end]
            .iter()
            .map(|&p| hits[p as usize].0)
            .collect()
    }

    fn facet(&self, field: &str, hits: &[(usize, u32)], q: &Query) -> Facet {
        let column = FACET_FIELDS
            .iter()
            .position(|f| *f == field)
            .map(|k| &self.facets[k]);
        let mut items: Vec<(String, usize)> = Vec::new();
        if let Some(c) = column {
            let mut counts = vec![0usize; c.values.len()];
            for &(i, _) in hits {
                for &id in &c.ids[c.starts[i] as usize..c.starts[i + 1] as usize] {
                    counts[id as usize] += 1;
                }
            }
            items = counts
                .into_iter()
                .enumerate()
                .filter(|&(_, n)| n > 0 && n >= q.facet_mincount)
                .map(|(id, n)| (c.values[id].clone(), n))
                .collect();
        }
        items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        if q.facet_limit >= 0 {
            items.truncate(q.facet_limit as usize);
        }
        Facet {
            field: field.to_string(),
            items,
        }
    }
}

/// A dataset's formats, and its folded words with their weight (3 title, 2 name and tags, 1
/// other), sorted, one entry per word.
fn doc_of(d: &Dataset) -> (Doc, Vec<(String, u8)>) {
    let mut map: HashMap<String, u8> = HashMap::new();
    let mut put = |text: &str, w: u8| {
        for word in words(text) {
            let e = map.entry(word).or_insert(0);
            *e = (*e).max(w);
        }
    };
    put(&d.title, 3);
    put(&d.name, 2);
    for t in &d.tags {
        put(t, 2);
    }
    put(&d.notes, 1);
    put(&d.methodology, 1);
    put(&d.organisation.name, 1);
    put(&d.organisation.title, 1);
    put(&d.spatial_label, 1);
    for g in &d.groups {
        put(g, 1);
    }
    for r in &d.resources {
        put(&r.name, 1);
        put(&r.format, 1);
        put(&r.description, 1);
    }
    let mut words: Vec<(String, u8)> = map.into_iter().collect();
    words.sort();
    let mut formats: Vec<String> = d.resources.iter().map(|r| r.format.clone()).collect();
    formats.sort();
    formats.dedup();
    (Doc { formats }, words)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SortKey {
    Score,
    Name,
    Title,
    Id,
    Modified,
    Created,
    Resources,
    Tags,
    Reuses,
}

fn parse_sort(s: &str) -> Result<Vec<(SortKey, bool)>, SearchError> {
    let s = s.trim();
    if s.is_empty() {
        return Ok(vec![(SortKey::Score, true), (SortKey::Modified, true)]);
    }
    let mut out = Vec::new();
    for part in s.split(',') {
        let mut it = part.split_whitespace();
        let (Some(field), dir) = (it.next(), it.next()) else {
            continue;
        };
        let key = match field {
            "score" | "rank" => SortKey::Score,
            "name" => SortKey::Name,
            "title_string" | "title" => SortKey::Title,
            "id" => SortKey::Id,
            "metadata_modified" => SortKey::Modified,
            "metadata_created" => SortKey::Created,
            "num_resources" => SortKey::Resources,
            "num_tags" => SortKey::Tags,
            "num_reuses" | "reuses" => SortKey::Reuses,
            _ => return Err(SearchError::BadSort(part.trim().to_string())),
        };
        let desc = match dir.map(str::to_ascii_lowercase).as_deref() {
            None | Some("asc") => false,
            Some("desc") => true,
            Some(_) => return Err(SearchError::BadSort(part.trim().to_string())),
        };
        out.push((key, desc));
    }
    Ok(out)
}

#[derive(Debug, Clone, PartialEq)]
enum Test {
    /// One of these values (exact, or case-insensitive for formats); `*` is any.
    Values(Vec<String>),
    /// A range of numbers (dates become Unix seconds); `None` is open.
    Range(Option<i64>, Option<i64>),
}

#[derive(Debug, Clone, PartialEq)]
struct Filter {
    field: String,
    test: Test,
    negate: bool,
}

const FIELDS: [&str; 18] = [
    "organization",
    "groups",
    "tags",
    "res_format",
    "license_id",
    "name",
    "id",
    "frequency",
    "state",
    "capacity",
    "dataset_type",
    "type",
    "title",
    "text",
    "metadata_modified",
    "metadata_created",
    "num_resources",
    "num_tags",
];

impl Filter {
    fn matches(&self, d: &Dataset, doc: &Doc) -> bool {
        let hit = match &self.test {
            Test::Range(lo, hi) => {
                let v = match self.field.as_str() {
                    "metadata_modified" => d.modified,
                    "metadata_created" => d.created,
                    "num_resources" => d.resources.len() as i64,
                    "num_tags" => d.tags.len() as i64,
                    _ => return self.negate,
                };
                lo.is_none_or(|lo| v >= lo) && hi.is_none_or(|hi| v <= hi)
            }
            Test::Values(values) => values.iter().any(|v| self.value_matches(d, doc, v)),
        };
        hit != self.negate
    }

    fn value_matches(&self, d: &Dataset, doc: &Doc, v: &str) -> bool {
        let any = v == "*";
        match self.field.as_str() {
            "organization" => any || d.organisation.name == v || d.organisation.id == v,
            "groups" => (any && !d.groups.is_empty()) || d.groups.iter().any(|g| g == v),
            "tags" => (any && !d.tags.is_empty()) || d.tags.iter().any(|t| t == v),
            "res_format" => {
                (any && !doc.formats.is_empty())
                    || doc.formats.iter().any(|f| f.eq_ignore_ascii_case(v))
            }
            "license_id" => any || d.license_id == v,
            "name" => any || d.name == v,
            "id" => any || d.id == v,
            "frequency" => (any && !d.frequency.is_empty()) || d.frequency == v,
            "state" => {
                any || v == d.state.as_str()
                    || (v == "active" && d.state == DatasetState::Published)
            }
            "capacity" => any || v == if d.private { "private" } else { "public" },
            "dataset_type" | "type" => any || v == "dataset",
            // Read from the index before the scan (`Index::words_filter`).
            "title" | "text" => any,
            "metadata_modified" | "metadata_created" | "num_resources" | "num_tags" => {
                let n = match self.field.as_str() {
                    "metadata_modified" => d.modified,
                    "metadata_created" => d.created,
                    "num_resources" => d.resources.len() as i64,
                    _ => d.tags.len() as i64,
                };
                any || parse_bound(v, 0, false).is_some_and(|b| b == n)
            }
            _ => false,
        }
    }
}

/// Splits a query into terms, keeping `"quoted strings"`, `(groups)` and `[ranges]` whole.
fn terms(s: &str) -> Result<Vec<String>, SearchError> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut close: Option<char> = None;
    for c in s.chars() {
        match close {
            Some(end) => {
                cur.push(c);
                if c == end {
                    close = None;
                }
            }
            None if c.is_whitespace() => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            None => {
                match c {
                    '"' => close = Some('"'),
                    '(' => close = Some(')'),
                    '[' | '{' => close = Some(if c == '[' { ']' } else { '}' }),
                    _ => {}
                }
                cur.push(c);
            }
        }
    }
    if close.is_some() {
        return Err(SearchError::Syntax(
            s.to_string(),
            "a quote or bracket is not closed",
        ));
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    Ok(out)
}

fn unquote(v: &str) -> &str {
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(v)
}

/// One `field:value` term as a filter; `None` when the term has no field.
fn filter_of(term: &str, now: i64) -> Result<Option<Filter>, SearchError> {
    let (negate, t) = match term.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, term.strip_prefix('+').unwrap_or(term)),
    };
    let Some((field, value)) = t.split_once(':') else {
        return Ok(None);
    };
    if field.is_empty() || field.starts_with('"') || field.contains(['(', '[']) {
        return Ok(None);
    }
    if field == "*" && value == "*" {
        return Ok(None);
    }
    if !FIELDS.contains(&field) {
        return Err(SearchError::UnknownField(field.to_string()));
    }
    let test = if let Some(inner) = value
        .strip_prefix(['[', '{'])
        .and_then(|v| v.strip_suffix([']', '}']))
    {
        let (lo, hi) = inner
            .split_once(" TO ")
            .ok_or_else(|| SearchError::Syntax(term.to_string(), "a range is [A TO B]"))?;
        let bound = |b: &str, upper: bool| -> Result<Option<i64>, SearchError> {
            let b = b.trim();
            if b == "*" {
                return Ok(None);
            }
            parse_bound(b, now, upper).map(Some).ok_or_else(|| {
                SearchError::Syntax(term.to_string(), "a bound is a date, a number, NOW or *")
            })
        };
        Test::Range(bound(lo, false)?, bound(hi, true)?)
    } else if let Some(inner) = value.strip_prefix('(').and_then(|v| v.strip_suffix(')')) {
        Test::Values(
            terms(inner)?
                .into_iter()
                .filter(|t| t != "OR")
                .map(|t| unquote(&t).to_string())
                .collect(),
        )
    } else {
        Test::Values(vec![unquote(value).to_string()])
    };
    Ok(Some(Filter {
        field: field.to_string(),
        test,
        negate,
    }))
}

fn parse_q(q: &str) -> Result<(Vec<String>, Vec<Filter>), SearchError> {
    let mut text = Vec::new();
    let mut filters = Vec::new();
    for term in terms(q)? {
        if matches!(term.as_str(), "AND" | "OR" | "*:*" | "*") {
            continue;
        }
        match filter_of(&term, 0)? {
            Some(f) => filters.push(f),
            None => text.extend(words(unquote(&term))),
        }
    }
    Ok((text, filters))
}

fn parse_fq(fq: &str, now: i64) -> Result<Vec<Filter>, SearchError> {
    let mut out = Vec::new();
    for term in terms(fq)? {
        if matches!(term.as_str(), "AND" | "*:*") {
            continue;
        }
        match filter_of(&term, now)? {
            Some(f) => out.push(f),
            None => return Err(SearchError::Syntax(term, "a filter is field:value")),
        }
    }
    Ok(out)
}

/// A range bound: an integer, `NOW`, `NOW-7DAYS`/`NOW-1YEAR`…, or an ISO date or date-time
/// (Unix seconds, UTC). An upper bound given as a bare date ends at that day's last second.
fn parse_bound(b: &str, now: i64, upper: bool) -> Option<i64> {
    if let Ok(n) = b.parse::<i64>() {
        return Some(n);
    }
    if let Some(rest) = b.strip_prefix("NOW") {
        let rest = rest.split('/').next().unwrap_or("");
        if rest.is_empty() {
            return Some(now);
        }
        let (sign, rest) = match rest.as_bytes()[0] {
            b'-' => (-1, &rest[1..]),
            b'+' => (1, &rest[1..]),
            _ => return None,
        };
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let n: i64 = rest[..digits].parse().ok()?;
        let unit = match rest[digits..].trim_end_matches('S') {
            "SECOND" => 1,
            "MINUTE" => 60,
            "HOUR" => 3600,
            "DAY" => 86_400,
            "MONTH" => 30 * 86_400,
            "YEAR" => 365 * 86_400,
            _ => return None,
        };
        return Some(now + sign * n * unit);
    }
    let date = b.get(..10)?;
    let (y, m, d) = (
        date.get(..4)?.parse::<i64>().ok()?,
        date.get(5..7)?.parse::<u32>().ok()?,
        date.get(8..10)?.parse::<u32>().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || &date[4..5] != "-" || &date[7..8] != "-"
    {
        return None;
    }
    let day = days_from_civil(y, m, d) * 86_400;
    let rest = b[10..].trim_end_matches('Z');
    if rest.is_empty() {
        return Some(if upper { day + 86_399 } else { day });
    }
    let t = rest.strip_prefix('T')?;
    let hms: Vec<i64> = t
        .split('.')
        .next()?
        .split(':')
        .map(|p| p.parse().ok())
        .collect::<Option<_>>()?;
    let secs = hms.first().copied().unwrap_or(0) * 3600
        + hms.get(1).copied().unwrap_or(0) * 60
        + hms.get(2).copied().unwrap_or(0);
    Some(day + secs)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
