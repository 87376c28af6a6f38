//! Rows of a spreadsheet as answers to a form: which question each column answers, and each row as
//! a filling that the engine then checks like any other.
//!
//! Columns are matched by question name (`temps_trajet`), or by path with `/` or `-` between groups
//! (`point/temps_trajet`, as KoboToolbox exports; `point-temps_trajet`, as ODK Central does).
//! Geopoints may come whole (`lat lon alt acc`) or split as Central (`gps-Latitude`, `-Longitude`,
//! `-Altitude`, `-Accuracy`) or KoboToolbox (`_gps_latitude`, `_gps_longitude`, `_gps_altitude`,
//! `_gps_precision`) split them. Choices may be given by name or, for a single choice, by label in
//! any of the form's languages. The columns that exports add (`SubmissionDate`, `KEY`,
//! `ReviewState`, `_id`, `_submission_time`…) are recognised and left aside; an `instanceID`
//! column (`meta-instanceID`, `meta/instanceID`, `instanceID`, `_uuid`, `KEY`) gives each row its
//! identity. Questions inside repeats cannot be imported from one table.

use crate::engine::Engine;
use crate::index::Item;
use crate::record::Filling;
use baraza_xlsform::model::QType;

/// What a column of the table answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A question, by element number.
    Question(usize),
    /// One part of a geopoint: 0 latitude, 1 longitude, 2 altitude, 3 accuracy.
    GeoPart(usize, usize),
    /// The `NAME_other` text of an `or_other` select.
    Other(usize),
    /// The row's instanceID.
    InstanceId,
    /// A column that exports add, left aside.
    Ignored,
}

/// A column that answers nothing the form has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ColumnIssue {
    /// No question of this name or path.
    Unknown { column: String },
    /// The question sits in a repeat: one table cannot carry repeat instances.
    InRepeat { column: String },
    /// Two columns answer the same question.
    Twice { column: String },
}

/// Names of columns that exports add and that carry no answer.
const SYSTEM: &[&str] = &[
    "submissiondate",
    "submitterid",
    "submittername",
    "attachmentspresent",
    "attachmentsexpected",
    "status",
    "reviewstate",
    "deviceid",
    "edits",
    "formversion",
    "_id",
    "_submission_time",
    "_validation_status",
    "_notes",
    "_status",
    "_submitted_by",
    "__version__",
    "_tags",
    "_index",
    "_xform_id_string",
    "_attachments",
    "_geolocation",
    "meta-instancename",
    "meta/instancename",
    "instancename",
    "meta-deprecatedid",
    "meta/deprecatedid",
    "meta-audit",
    "meta/audit",
];

const INSTANCE_ID: &[&str] = &[
    "instanceid",
    "meta-instanceid",
    "meta/instanceid",
    "_uuid",
    "key",
    "uuid",
];

fn norm(s: &str) -> String {
    s.trim().to_ascii_lowercase()
}

impl Engine<'_> {
    /// What each column answers, or every column that answers nothing.
    pub fn map_columns(&self, headers: &[String]) -> Result<Vec<Target>, Vec<ColumnIssue>> {
        let mut out = Vec::with_capacity(headers.len());
        let mut issues = Vec::new();
        // Every question by the names it may go by.
        let mut names: Vec<(String, usize)> = Vec::new();
        for (id, def) in self.idx.defs.iter().enumerate() {
            if let Item::Question(q) = def.item {
                let path = def.xpath.trim_start_matches('/');
                let path = path.split_once('/').map(|(_, p)| p).unwrap_or(path);
                names.push((norm(&q.name), id));
                names.push((norm(path), id));
                names.push((norm(&path.replace('/', "-")), id));
            }
        }
        let find = |n: &str| names.iter().find(|(k, _)| k == n).map(|(_, id)| *id);
        for h in headers {
            let n = norm(h);
            let target = if n.is_empty() || SYSTEM.contains(&n.as_str()) {
                Some(Target::Ignored)
            } else if INSTANCE_ID.contains(&n.as_str()) {
                Some(Target::InstanceId)
            } else if let Some(id) = find(&n) {
                Some(Target::Question(id))
            } else {
                let geo = [
                    ("-latitude", 0),
                    ("-longitude", 1),
                    ("-altitude", 2),
                    ("-accuracy", 3),
                    ("_latitude", 0),
                    ("_longitude", 1),
                    ("_altitude", 2),
                    ("_precision", 3),
                ]
                .iter()
                .find_map(|(suffix, part)| {
                    let base = n.strip_suffix(suffix)?;
                    let base = base.strip_prefix('_').unwrap_or(base);
                    let id = find(base)?;
                    (self.idx.def(id).question()?.qtype == QType::Geopoint)
                        .then_some(Target::GeoPart(id, *part))
                });
                geo.or_else(|| {
                    let base = n.strip_suffix("_other")?;
                    let id = find(base)?;
                    self.idx
                        .def(id)
                        .question()
                        .filter(|q| q.or_other)
                        .map(|_| Target::Other(id))
                })
            };
            match target {
                Some(t) => {
                    let id = match &t {
                        Target::Question(id) | Target::GeoPart(id, _) | Target::Other(id) => {
                            Some(*id)
                        }
                        _ => None,
                    };
                    if let Some(id) = id {
                        if !self.idx.def(id).repeats.is_empty() {
                            issues.push(ColumnIssue::InRepeat { column: h.clone() });
                        } else if out.contains(&t) {
                            issues.push(ColumnIssue::Twice { column: h.clone() });
                        }
                    }
                    out.push(t);
                }
                None => issues.push(ColumnIssue::Unknown { column: h.clone() }),
            }
        }
        if issues.is_empty() {
            Ok(out)
        } else {
            Err(issues)
        }
    }

    /// A row as a filling (not yet checked), with the instanceID its column gives, if any.
    pub fn row_filling(
        &self,
        targets: &[Target],
        cells: &[String],
        started: &str,
    ) -> (Filling, Option<String>) {
        let mut f = Filling {
            started: started.to_owned(),
            ..Default::default()
        };
        let mut instance = None;
        let mut geo: Vec<(usize, [String; 4])> = Vec::new();
        for (t, cell) in targets.iter().zip(cells) {
            let cell = cell.trim();
            match t {
                Target::Question(id) => {
                    let value = self.import_value(*id, cell);
                    f.answers.set(&self.idx, *id, &[], &value);
                }
                Target::GeoPart(id, part) => {
                    let slot = match geo.iter_mut().position(|(g, _)| g == id) {
                        Some(i) => i,
                        None => {
                            geo.push((*id, Default::default()));
                            geo.len() - 1
                        }
                    };
                    geo[slot].1[*part] = cell.to_owned();
                }
                Target::Other(id) => {
                    f.answers.set_extra(&self.idx, *id, &[], "_other", cell);
                }
                Target::InstanceId => {
                    // The first column that gives one (`_uuid` and `KEY` agree in exports).
                    if !cell.is_empty() && instance.is_none() {
                        let id = cell.rsplit('/').next().unwrap_or(cell).to_owned();
                        instance = Some(id);
                    }
                }
                Target::Ignored => {}
            }
        }
        for (id, [lat, lon, alt, acc]) in geo {
            if lat.is_empty() && lon.is_empty() {
                continue;
            }
            let mut v = format!("{lat} {lon}");
            if !alt.is_empty() || !acc.is_empty() {
                v.push(' ');
                v.push_str(if alt.is_empty() { "0" } else { &alt });
                if !acc.is_empty() {
                    v.push(' ');
                    v.push_str(&acc);
                }
            }
            f.answers.set(&self.idx, id, &[], &v);
        }
        (f, instance)
    }

    /// A cell as the answer of question `id`: choices by label become names, spreadsheet times
    /// lose their day, numbers written by spreadsheets lose a useless `.0`.
    fn import_value(&self, id: usize, cell: &str) -> String {
        let Some(q) = self.idx.def(id).question() else {
            return cell.to_owned();
        };
        match q.qtype {
            QType::SelectOne | QType::SelectOneFromFile => {
                let choices = self.all_choices(q);
                if choices.iter().any(|c| c.name == cell) {
                    return cell.to_owned();
                }
                choices
                    .iter()
                    .find(|c| c.texts.label.0.iter().any(|(_, l)| l.trim() == cell))
                    .map(|c| c.name.clone())
                    .unwrap_or_else(|| cell.to_owned())
            }
            QType::SelectMultiple | QType::SelectMultipleFromFile => {
                let choices = self.all_choices(q);
                let by_name = cell
                    .split_whitespace()
                    .all(|t| choices.iter().any(|c| c.name == t));
                if by_name {
                    return cell.split_whitespace().collect::<Vec<_>>().join(" ");
                }
                let parts: Vec<&str> = cell.split([';', ',']).map(str::trim).collect();
                let names: Option<Vec<String>> = parts
                    .iter()
                    .filter(|p| !p.is_empty())
                    .map(|p| {
                        choices
                            .iter()
                            .find(|c| {
                                c.name == *p || c.texts.label.0.iter().any(|(_, l)| l.trim() == *p)
                            })
                            .map(|c| c.name.clone())
                    })
                    .collect();
                names
                    .map(|n| n.join(" "))
                    .unwrap_or_else(|| cell.to_owned())
            }
            QType::Time => match cell
                .strip_prefix("1899-12-30T")
                .or_else(|| cell.strip_prefix("1899-12-31T"))
            {
                Some(t) => t.to_owned(),
                None => cell.to_owned(),
            },
            QType::Integer => match cell.strip_suffix(".0") {
                Some(i) if !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit() || b == b'-') => {
                    i.to_owned()
                }
                _ => cell.to_owned(),
            },
            _ => cell.to_owned(),
        }
    }
}

/// A deterministic instanceID made from a digest (hex) of a row without one: the same row of the
/// same form gives the same id, so importing a file twice adds nothing the second time.
pub fn instance_id_from_digest(digest_hex: &str) -> String {
    let h = digest_hex;
    let mut b: Vec<char> = h.chars().take(32).collect();
    while b.len() < 32 {
        b.push('0');
    }
    // Version 5 style markers (name-based), so the id reads as a UUID.
    b[12] = '5';
    b[16] = match b[16] {
        '0' | '4' | '8' | 'c' => '8',
        '1' | '5' | '9' | 'd' => '9',
        '2' | '6' | 'a' | 'e' => 'a',
        _ => 'b',
    };
    let s: String = b.into_iter().collect();
    format!(
        "uuid:{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// A table read from a spreadsheet: its header and its rows, each with its number in the file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Most rows one import may carry.
pub const MAX_IMPORT_ROWS: usize = 50_000;

/// Why a file cannot be read as a table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TableError {
    /// Not `.csv`, `.xlsx` or `.xls`.
    Format,
    /// Damaged, too large or hostile; the detail says what.
    Unreadable(String),
    /// No header row.
    Empty,
    /// More than [`MAX_IMPORT_ROWS`] rows.
    TooManyRows(usize),
}

/// Reads the first sheet of a workbook, or a CSV file (UTF-8 or Windows-1252; `,` or `;`
/// between fields, as French spreadsheets write), as a table: the first non-empty row is the
/// header, rows that are entirely empty are skipped.
pub fn read_table(bytes: &[u8], file_name: &str) -> Result<Table, TableError> {
    use baraza_xlsform::read::Format;
    let format = Format::from_name(file_name).ok_or(TableError::Format)?;
    let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
    match format {
        Format::Csv => {
            if bytes.len() > baraza_xlsform::read::MAX_FILE_BYTES {
                return Err(TableError::Unreadable(format!(
                    "{} bytes, at most {}",
                    bytes.len(),
                    baraza_xlsform::read::MAX_FILE_BYTES
                )));
            }
            let (text, _) = baraza_xlsform::read::text_of(bytes);
            let first = text.lines().next().unwrap_or("");
            let delimiter = if first.matches(';').count() > first.matches(',').count() {
                b';'
            } else {
                b','
            };
            let mut rdr = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .delimiter(delimiter)
                .from_reader(text.as_bytes());
            for (i, rec) in rdr.records().enumerate() {
                let rec = rec.map_err(|e| TableError::Unreadable(e.to_string()))?;
                if rows.len() > MAX_IMPORT_ROWS + 1 {
                    return Err(TableError::TooManyRows(rows.len()));
                }
                // Rows as a spreadsheet numbers them (a quoted field may span lines).
                let number = i + 1;
                rows.push((number, rec.iter().map(|c| c.trim().to_owned()).collect()));
            }
        }
        Format::Xlsx | Format::Xls => {
            let mut diags = Vec::new();
            let book = baraza_xlsform::read::read(bytes, format, &mut diags);
            let Some(sheet) = book.and_then(|b| b.sheets.into_iter().next()) else {
                let detail = diags
                    .iter()
                    .map(|d| d.message(baraza_xlsform::Lang::En))
                    .collect::<Vec<_>>()
                    .join("; ");
                return Err(TableError::Unreadable(detail));
            };
            for r in sheet.rows {
                rows.push((r.number, r.cells));
            }
        }
        Format::Markdown => return Err(TableError::Format),
    }
    rows.retain(|(_, cells)| cells.iter().any(|c| !c.is_empty()));
    let mut it = rows.into_iter();
    let (_, headers) = it.next().ok_or(TableError::Empty)?;
    let rows: Vec<(usize, Vec<String>)> = it.collect();
    if rows.len() > MAX_IMPORT_ROWS {
        return Err(TableError::TooManyRows(rows.len()));
    }
    Ok(Table { headers, rows })
}
