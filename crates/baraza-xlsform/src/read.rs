//! Reading a form file into sheets of text cells, whatever its format.
//!
//! * `.xlsx` / `.xls` through calamine. An `.xlsx` is a zip archive: before calamine sees it, its
//!   central directory is checked so that a "zip bomb" (a few kilobytes that expand to gigabytes)
//!   is refused with a diagnostic instead of exhausting memory.
//! * `.csv` and `.md` in pyxform's layout: a row whose first cell holds a sheet name (`survey`,
//!   `choices`, `settings`) starts that sheet; the following rows, first cell empty, are its rows.
//!
//! Every cell becomes text as a person would read it: whole numbers without `.0`, booleans as
//! `TRUE`/`FALSE`, dates in ISO 8601. Rows keep the number the spreadsheet shows.

use crate::diag::Diagnostic;
use std::io::{Cursor, Read};

/// Refuse files larger than this before reading them.
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Refuse workbooks whose parts expand beyond this.
pub const MAX_UNCOMPRESSED_BYTES: u64 = 200 * 1024 * 1024;
/// Refuse sheets with more rows than this.
pub const MAX_ROWS: usize = 200_000;
/// Refuse sheets with more columns than this.
pub const MAX_COLUMNS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Xlsx,
    Xls,
    Csv,
    Markdown,
}

impl Format {
    /// The format for a file name, by its extension.
    pub fn from_name(name: &str) -> Option<Format> {
        let lower = name.to_ascii_lowercase();
        let ext = lower.rsplit('.').next()?;
        match ext {
            "xlsx" | "xlsm" => Some(Format::Xlsx),
            "xls" => Some(Format::Xls),
            "csv" => Some(Format::Csv),
            "md" | "markdown" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// One row: its number as the spreadsheet shows it, and its cells as text (trimmed).
#[derive(Debug, Clone, PartialEq)]
pub struct RawRow {
    pub number: usize,
    pub cells: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sheet {
    pub name: String,
    pub rows: Vec<RawRow>,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Workbook {
    pub sheets: Vec<Sheet>,
}

impl Workbook {
    /// A sheet by name, ignoring case (XLSForm sheet names are case-insensitive in practice).
    pub fn sheet(&self, name: &str) -> Option<&Sheet> {
        self.sheets
            .iter()
            .find(|s| s.name.trim().eq_ignore_ascii_case(name))
    }
}

/// Reads `bytes` as `format`. Problems are pushed to `diags`; `None` when nothing usable was read.
pub fn read(bytes: &[u8], format: Format, diags: &mut Vec<Diagnostic>) -> Option<Workbook> {
    if bytes.len() > MAX_FILE_BYTES {
        diags.push(Diagnostic::error("file_too_large", "-").arg(
            "detail",
            format!("{} bytes, at most {MAX_FILE_BYTES}", bytes.len()),
        ));
        return None;
    }
    match format {
        Format::Xlsx => {
            check_zip(bytes, diags)?;
            guarded(diags, |d| read_xlsx(bytes, d))
        }
        Format::Xls => guarded(diags, |d| read_calamine(bytes, d)),
        Format::Csv => {
            let text = decode_text(bytes, diags);
            read_csv(&text, diags)
        }
        Format::Markdown => {
            let text = decode_text(bytes, diags);
            Some(split_sheets(markdown_rows(&text), diags))
        }
    }
}

/// Runs a workbook reader, turning a panic inside the spreadsheet library (a damaged file can
/// trigger one) into a diagnostic: nothing the user sends may take the server down.
fn guarded(
    diags: &mut Vec<Diagnostic>,
    f: impl FnOnce(&mut Vec<Diagnostic>) -> Option<Workbook>,
) -> Option<Workbook> {
    let mut local = Vec::new();
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&mut local))) {
        Ok(book) => {
            diags.append(&mut local);
            book
        }
        Err(_) => {
            diags.push(
                Diagnostic::error("file_unreadable", "-").arg("detail", "the workbook is damaged"),
            );
            None
        }
    }
}

/// The most cells read from one sheet.
pub const MAX_CELLS: usize = 2_000_000;

/// Reads an .xlsx cell by cell (calamine's streaming reader): only cells that exist are kept, so a
/// damaged or hostile file that puts one cell at row 1,000,000 cannot make us allocate a dense
/// grid; positions beyond the limits are refused before anything is stored.
fn read_xlsx(bytes: &[u8], diags: &mut Vec<Diagnostic>) -> Option<Workbook> {
    use calamine::{DataRef, Reader};
    use std::collections::BTreeMap;
    let mut book: calamine::Xlsx<_> = match calamine::Xlsx::new(Cursor::new(bytes.to_vec())) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error("file_unreadable", "-").arg("detail", e.to_string()));
            return None;
        }
    };
    let mut out = Workbook::default();
    for name in book.sheet_names() {
        for m in book.merge_cells_by_sheet_name(&name).unwrap_or_default() {
            diags.push(
                Diagnostic::warning("merged_cells", &name)
                    .at(m.start.0 as usize + 1)
                    .col(&column_letter(m.start.1 as usize))
                    .arg(
                        "range",
                        format!(
                            "{}{}:{}{}",
                            column_letter(m.start.1 as usize),
                            m.start.0 + 1,
                            column_letter(m.end.1 as usize),
                            m.end.0 + 1
                        ),
                    ),
            );
        }
        let mut reader = match book.worksheet_cells_reader(&name) {
            Ok(r) => r,
            Err(e) => {
                diags
                    .push(Diagnostic::error("file_unreadable", &name).arg("detail", e.to_string()));
                continue;
            }
        };
        let mut rows: BTreeMap<u32, Vec<(u32, String)>> = BTreeMap::new();
        let mut count = 0usize;
        let mut refused = false;
        loop {
            let cell = match reader.next_cell_with_formula() {
                Ok(Some(c)) => c,
                Ok(None) => break,
                Err(e) => {
                    diags.push(
                        Diagnostic::error("file_unreadable", &name).arg("detail", e.to_string()),
                    );
                    refused = true;
                    break;
                }
            };
            let (r, c) = cell.pos;
            count += 1;
            if r as usize >= MAX_ROWS || c as usize >= MAX_COLUMNS || count > MAX_CELLS {
                diags.push(
                    Diagnostic::error("sheet_too_large", &name)
                        .arg(
                            "count",
                            format!("{}", (r as usize + 1).max(c as usize + 1).max(count)),
                        )
                        .arg(
                            "max",
                            format!("{MAX_ROWS} rows / {MAX_COLUMNS} columns / {MAX_CELLS} cells"),
                        ),
                );
                refused = true;
                break;
            }
            let text = match &cell.value {
                DataRef::Empty => String::new(),
                DataRef::String(s) | DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => {
                    s.trim().to_owned()
                }
                DataRef::SharedString(s) => s.trim().to_owned(),
                DataRef::Int(n) => n.to_string(),
                DataRef::Float(f) => number_text(*f),
                DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
                DataRef::DateTime(d) => excel_serial_to_iso(d.as_f64()),
                DataRef::Error(e) => format!("#{e:?}"),
            };
            if cell.formula.as_deref().is_some_and(|f| !f.is_empty()) {
                diags.push(
                    Diagnostic::warning("formula_value", &name)
                        .at(r as usize + 1)
                        .col(&column_letter(c as usize))
                        .arg("value", text.clone()),
                );
            }
            if !text.is_empty() {
                rows.entry(r).or_default().push((c, text));
            }
        }
        drop(reader);
        if refused {
            continue;
        }
        let rows = rows
            .into_iter()
            .map(|(r, cells)| {
                let width = cells
                    .iter()
                    .map(|(c, _)| *c as usize + 1)
                    .max()
                    .unwrap_or(0);
                let mut v = vec![String::new(); width];
                for (c, text) in cells {
                    v[c as usize] = text;
                }
                RawRow {
                    number: r as usize + 1,
                    cells: v,
                }
            })
            .collect();
        out.sheets.push(Sheet { name, rows });
    }
    Some(out)
}

/// Text as UTF-8 (without a BOM), or, when it is not, as Windows-1252 (as spreadsheets on
/// Windows save CSV); says which.
pub fn text_of(bytes: &[u8]) -> (String, bool) {
    let mut d = Vec::new();
    let text = decode_text(bytes, &mut d);
    (text, d.is_empty())
}

/// Text as UTF-8 (without a BOM), or, when it is not, as Windows-1252 with a warning.
fn decode_text(bytes: &[u8], diags: &mut Vec<Diagnostic>) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => {
            diags.push(Diagnostic::warning("file_encoding", "-"));
            bytes.iter().map(|&b| windows_1252(b)).collect()
        }
    }
}

fn windows_1252(b: u8) -> char {
    const HIGH: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž',
        '\u{8f}', '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}',
        'ž', 'Ÿ',
    ];
    match b {
        0x80..=0x9f => HIGH[(b - 0x80) as usize],
        _ => b as char,
    }
}

/// Checks an xlsx archive's declared sizes before anything is decompressed.
fn check_zip(bytes: &[u8], diags: &mut Vec<Diagnostic>) -> Option<()> {
    let archive = match zip::ZipArchive::new(Cursor::new(bytes)) {
        Ok(a) => a,
        Err(e) => {
            diags.push(Diagnostic::error("file_unreadable", "-").arg("detail", e.to_string()));
            return None;
        }
    };
    if archive.len() > 10_000 {
        diags.push(
            Diagnostic::error("file_too_large", "-")
                .arg("detail", format!("{} parts in the archive", archive.len())),
        );
        return None;
    }
    let mut total: u64 = 0;
    let mut archive = archive;
    for i in 0..archive.len() {
        let Ok(entry) = archive.by_index_raw(i) else {
            diags.push(Diagnostic::error("file_unreadable", "-").arg("detail", "damaged archive"));
            return None;
        };
        let size = entry.size();
        let compressed = entry.compressed_size().max(1);
        total = total.saturating_add(size);
        // Spreadsheet XML compresses well, but not a thousand times.
        if size > 1024 * 1024 && size / compressed > 1000 {
            diags.push(Diagnostic::error("file_too_large", "-").arg(
                "detail",
                format!(
                    "{} expands {}-fold",
                    entry.name().unwrap_or_default(),
                    size / compressed
                ),
            ));
            return None;
        }
    }
    if total > MAX_UNCOMPRESSED_BYTES {
        diags.push(
            Diagnostic::error("file_too_large", "-")
                .arg("detail", format!("{total} bytes once expanded")),
        );
        return None;
    }
    Some(())
}

fn read_calamine(bytes: &[u8], diags: &mut Vec<Diagnostic>) -> Option<Workbook> {
    use calamine::{Data, Reader};
    let mut book = match calamine::open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())) {
        Ok(b) => b,
        Err(e) => {
            diags.push(Diagnostic::error("file_unreadable", "-").arg("detail", e.to_string()));
            return None;
        }
    };
    let mut out = Workbook::default();
    for name in book.sheet_names() {
        let range = match book.worksheet_range(&name) {
            Ok(r) => r,
            Err(e) => {
                diags
                    .push(Diagnostic::error("file_unreadable", &name).arg("detail", e.to_string()));
                continue;
            }
        };
        let (height, width) = range.get_size();
        if height > MAX_ROWS || width > MAX_COLUMNS {
            diags.push(
                Diagnostic::error("sheet_too_large", &name)
                    .arg("count", height.max(width).to_string())
                    .arg("max", format!("{MAX_ROWS} rows / {MAX_COLUMNS} columns")),
            );
            continue;
        }
        let start = range.start().unwrap_or((0, 0));
        if let calamine::Sheets::Xlsx(x) = &mut book {
            for m in x.merge_cells_by_sheet_name(&name).unwrap_or_default() {
                diags.push(
                    Diagnostic::warning("merged_cells", &name)
                        .at(m.start.0 as usize + 1)
                        .col(&column_letter(m.start.1 as usize))
                        .arg(
                            "range",
                            format!(
                                "{}{}:{}{}",
                                column_letter(m.start.1 as usize),
                                m.start.0 + 1,
                                column_letter(m.end.1 as usize),
                                m.end.0 + 1
                            ),
                        ),
                );
            }
        }
        let formulas = book.worksheet_formula(&name).ok();
        let mut rows = Vec::with_capacity(height);
        for (i, row) in range.rows().enumerate() {
            let number = start.0 as usize + i + 1;
            let mut cells: Vec<String> = vec![String::new(); start.1 as usize];
            for cell in row {
                cells.push(match cell {
                    Data::Empty => String::new(),
                    Data::String(s) => s.trim().to_owned(),
                    Data::Int(n) => n.to_string(),
                    Data::Float(f) => number_text(*f),
                    Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
                    Data::DateTime(d) => excel_serial_to_iso(d.as_f64()),
                    Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
                    Data::Error(e) => format!("#{e:?}"),
                });
            }
            rows.push(RawRow { number, cells });
        }
        if let Some(f) = formulas {
            let fstart = f.start().unwrap_or((0, 0));
            for (i, frow) in f.rows().enumerate() {
                for (j, formula) in frow.iter().enumerate() {
                    if formula.is_empty() {
                        continue;
                    }
                    let r = fstart.0 as usize + i + 1;
                    let c = fstart.1 as usize + j;
                    let value = rows
                        .iter()
                        .find(|row| row.number == r)
                        .and_then(|row| row.cells.get(c).cloned())
                        .unwrap_or_default();
                    diags.push(
                        Diagnostic::warning("formula_value", &name)
                            .at(r)
                            .col(&column_letter(c))
                            .arg("value", value),
                    );
                }
            }
        }
        out.sheets.push(Sheet { name, rows });
    }
    Some(out)
}

/// `0` -> `A`, `27` -> `AB`.
pub fn column_letter(mut c: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (c % 26) as u8);
        if c < 26 {
            break;
        }
        c = c / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// An Excel date serial (days since 1899-12-30) as ISO 8601: `2026-01-31`, or with a time.
fn excel_serial_to_iso(serial: f64) -> String {
    if !serial.is_finite() || !(0.0..3_000_000.0).contains(&serial) {
        return serial.to_string();
    }
    let days = serial.floor() as i64 - 25_569; // days from 1970-01-01
    let secs = ((serial - serial.floor()) * 86_400.0).round() as i64;
    // Civil date from days since the epoch (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    if secs == 0 {
        format!("{y:04}-{m:02}-{d:02}")
    } else {
        format!(
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            secs / 3600,
            secs % 3600 / 60,
            secs % 60
        )
    }
}

fn number_text(f: f64) -> String {
    if f.fract() == 0.0 && f.abs() < 1e15 {
        format!("{}", f as i64)
    } else {
        f.to_string()
    }
}

fn read_csv(text: &str, diags: &mut Vec<Diagnostic>) -> Option<Workbook> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut rows = Vec::new();
    for (i, rec) in reader.records().enumerate() {
        match rec {
            Ok(r) => {
                if r.len() > MAX_COLUMNS || i > MAX_ROWS {
                    diags.push(
                        Diagnostic::error("sheet_too_large", "-")
                            .arg("count", r.len().max(i).to_string())
                            .arg("max", format!("{MAX_ROWS} rows / {MAX_COLUMNS} columns")),
                    );
                    return None;
                }
                rows.push(r.iter().map(|c| c.trim().to_owned()).collect::<Vec<_>>());
            }
            Err(e) => {
                diags.push(
                    Diagnostic::error("file_unreadable", "-")
                        .at(i + 1)
                        .arg("detail", e.to_string()),
                );
                return None;
            }
        }
    }
    Some(split_sheets(rows, diags))
}

/// The rows of the Markdown tables in `text`.
fn markdown_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if !line.starts_with('|') {
            continue;
        }
        let inner = line.strip_prefix('|').unwrap_or(line);
        let inner = match inner.strip_suffix('|') {
            Some(rest) if !rest.ends_with('\\') => rest,
            _ => inner,
        };
        let cells = split_unescaped(inner);
        if cells
            .iter()
            .all(|c| !c.is_empty() && c.chars().all(|ch| ch == '-' || ch == ':'))
        {
            continue; // a |---|---| separator
        }
        rows.push(cells);
    }
    rows
}

/// Splits a Markdown table row on `|`, keeping `\|` as a literal bar.
fn split_unescaped(row: &str) -> Vec<String> {
    let mut cells = Vec::new();
    let mut cell = String::new();
    let mut chars = row.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'|') => {
                cell.push('|');
                chars.next();
            }
            '|' => cells.push(std::mem::take(&mut cell).trim().to_owned()),
            _ => cell.push(c),
        }
    }
    cells.push(cell.trim().to_owned());
    cells
}

/// Splits pyxform's one-table layout into sheets: a first cell names a sheet, the rows after it
/// (first cell empty) belong to it. Row numbers count from the sheet's header row, as 1.
fn split_sheets(rows: Vec<Vec<String>>, diags: &mut Vec<Diagnostic>) -> Workbook {
    let mut book = Workbook::default();
    for mut cells in rows {
        if cells.len() > MAX_COLUMNS {
            diags.push(
                Diagnostic::error("sheet_too_large", "-")
                    .arg("count", cells.len().to_string())
                    .arg("max", format!("{MAX_COLUMNS} columns")),
            );
            return book;
        }
        let first = if cells.is_empty() {
            String::new()
        } else {
            cells.remove(0)
        };
        if !first.is_empty() {
            book.sheets.push(Sheet {
                name: first,
                rows: Vec::new(),
            });
            continue;
        }
        if let Some(sheet) = book.sheets.last_mut() {
            let number = sheet.rows.len() + 1;
            sheet.rows.push(RawRow { number, cells });
        }
    }
    book
}

/// Reads a whole stream into memory, refusing more than [`MAX_FILE_BYTES`].
pub fn read_limited(mut r: impl Read) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    r.by_ref()
        .take(MAX_FILE_BYTES as u64 + 1)
        .read_to_end(&mut buf)?;
    Ok(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_layout() {
        let md = "| survey |      |      |\n|--|--|--|\n|        | type | name |\n|        | text | q1   |\n| choices | | |\n| | list_name | name |\n";
        let mut d = Vec::new();
        let wb = read(md.as_bytes(), Format::Markdown, &mut d).unwrap();
        assert!(d.is_empty());
        assert_eq!(wb.sheets.len(), 2);
        let s = wb.sheet("SURVEY").unwrap();
        assert_eq!(
            s.rows[0],
            RawRow {
                number: 1,
                cells: vec!["type".into(), "name".into()]
            }
        );
        assert_eq!(s.rows[1].cells, vec!["text", "q1"]);
    }

    #[test]
    fn escaped_bars_stay_in_their_cell() {
        let md = "| survey | | |\n| | type | name | constraint |\n| | text | a | . = 'x\\|y' |\n";
        let mut d = Vec::new();
        let wb = read(md.as_bytes(), Format::Markdown, &mut d).unwrap();
        assert_eq!(
            wb.sheet("survey").unwrap().rows[1].cells,
            vec!["text", "a", ". = 'x|y'"]
        );
    }

    #[test]
    fn csv_layout_and_encoding() {
        let csv = b"survey,,\n,type,name\n,text,caf\xe9\n";
        let mut d = Vec::new();
        let wb = read(csv, Format::Csv, &mut d).unwrap();
        assert_eq!(d[0].code, "file_encoding");
        assert_eq!(
            wb.sheet("survey").unwrap().rows[1].cells,
            vec!["text", "café"]
        );
    }

    #[test]
    fn refuses_garbage_and_bombs() {
        let mut d = Vec::new();
        assert!(read(b"not a zip", Format::Xlsx, &mut d).is_none());
        assert_eq!(d[0].code, "file_unreadable");
        let mut d = Vec::new();
        let big = vec![0u8; MAX_FILE_BYTES + 1];
        assert!(read(&big, Format::Xlsx, &mut d).is_none());
        assert_eq!(d[0].code, "file_too_large");
    }

    #[test]
    fn letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(column_letter(27), "AB");
    }

    #[test]
    fn excel_dates() {
        assert_eq!(excel_serial_to_iso(46053.0), "2026-01-31");
        assert_eq!(excel_serial_to_iso(25569.5), "1970-01-01T12:00:00");
    }

    #[test]
    fn numbers_read_like_people_write_them() {
        assert_eq!(number_text(1.0), "1");
        assert_eq!(number_text(2.5), "2.5");
    }
}
