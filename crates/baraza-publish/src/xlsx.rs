//! An XLSX workbook (Office Open XML, ECMA-376) written as a stream: each sheet is one zip entry
//! written row by row, with inline strings (no shared-string table to hold in memory), numbers
//! as numbers, dates and instants as dates (with a `yyyy-mm-dd` or `yyyy-mm-dd hh:mm:ss`
//! format). The header row is frozen.
//!
//! `[Content_Types].xml` comes first (tools recognise the format by it); the workbook and its
//! relationships come last, once every sheet is known: a sheet that reaches Excel's limit of
//! 1,048,576 rows continues in a new sheet (`NAME (2)`), with the header row repeated. Texts
//! longer than a cell holds (32,767 characters) are cut; characters XML cannot carry are dropped.

use crate::table::CellSink;
use crate::zip::ZipStream;
use std::io::{self, Write};

/// Rows an Excel sheet holds.
pub const MAX_ROWS: u32 = 1_048_576;
/// Characters an Excel cell holds.
pub const MAX_CELL_CHARS: usize = 32_767;
/// Days from Excel's day 0 (1899-12-30) to 1970-01-01.
const EXCEL_EPOCH_DAYS: i64 = 25_569;

const BUFFER: usize = 64 * 1024;
const NS: &str = "http://schemas.openxmlformats.org/spreadsheetml/2006/main";
const NS_R: &str = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
const SHEET_START: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<worksheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    "<sheetViews><sheetView workbookViewId=\"0\"><pane ySplit=\"1\" topLeftCell=\"A2\" activePane=\"bottomLeft\" state=\"frozen\"/></sheetView></sheetViews>",
    "<sheetData>"
);
const SHEET_END: &str = "</sheetData></worksheet>";

/// A workbook being written.
pub struct XlsxWriter<W: Write> {
    zip: ZipStream<W>,
    sheets: Vec<String>,
    open: bool,
    base: String,
    part: u32,
    row: u32,
    col: usize,
    header: Vec<String>,
    buf: Vec<u8>,
    cols: Vec<String>,
}

/// A column's letters: 0 → `A`, 26 → `AA`.
fn column_name(mut i: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (i % 26) as u8);
        if i < 26 {
            break;
        }
        i = i / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Appends text escaped for XML, without characters XML 1.0 cannot carry.
fn push_xml(buf: &mut Vec<u8>, s: &str) {
    for c in s.chars() {
        match c {
            '&' => buf.extend_from_slice(b"&amp;"),
            '<' => buf.extend_from_slice(b"&lt;"),
            '>' => buf.extend_from_slice(b"&gt;"),
            '"' => buf.extend_from_slice(b"&quot;"),
            '\t' | '\n' | '\r' => buf.push(c as u8),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => {
                let mut tmp = [0u8; 4];
                buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
            }
        }
    }
}

fn xml_text(s: &str) -> String {
    let mut b = Vec::new();
    push_xml(&mut b, s);
    String::from_utf8(b).unwrap_or_default()
}

impl<W: Write> XlsxWriter<W> {
    /// A new workbook; `created` (Unix seconds) dates its zip entries.
    pub fn new(inner: W, created: i64) -> io::Result<Self> {
        let mut zip = ZipStream::new(inner, created);
        zip.start("[Content_Types].xml")?;
        zip.write_all(
            concat!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
                "<Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">",
                "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/>",
                "<Default Extension=\"xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>",
                "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>",
                "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>",
                "</Types>"
            )
            .as_bytes(),
        )?;
        Ok(XlsxWriter {
            zip,
            sheets: Vec::new(),
            open: false,
            base: String::new(),
            part: 1,
            row: 0,
            col: 0,
            header: Vec::new(),
            buf: Vec::with_capacity(BUFFER + 4096),
            cols: Vec::new(),
        })
    }

    /// Starts a sheet; its first row is taken as its header.
    pub fn start_sheet(&mut self, name: &str) -> io::Result<()> {
        self.close_sheet()?;
        self.base = name.to_owned();
        self.part = 1;
        self.header.clear();
        self.open_part(name.to_owned())
    }

    fn open_part(&mut self, name: String) -> io::Result<()> {
        self.sheets.push(name);
        self.zip
            .start(&format!("xl/worksheets/sheet{}.xml", self.sheets.len()))?;
        self.buf.extend_from_slice(SHEET_START.as_bytes());
        self.open = true;
        self.row = 0;
        Ok(())
    }

    fn close_sheet(&mut self) -> io::Result<()> {
        if self.open {
            self.buf.extend_from_slice(SHEET_END.as_bytes());
            self.zip.write_all(&self.buf)?;
            self.buf.clear();
            self.open = false;
        }
        Ok(())
    }

    /// The sheets written so far (continuation sheets included).
    pub fn sheet_names(&self) -> &[String] {
        &self.sheets
    }

    fn cell_ref(&mut self) {
        while self.cols.len() <= self.col {
            let n = column_name(self.cols.len());
            self.cols.push(n);
        }
        self.buf.extend_from_slice(b"<c r=\"");
        self.buf.extend_from_slice(self.cols[self.col].as_bytes());
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(self.row).as_bytes());
        self.buf.push(b'"');
    }

    fn number_cell(&mut self, style: Option<&str>, v: &[u8]) {
        self.cell_ref();
        if let Some(s) = style {
            self.buf.extend_from_slice(b" s=\"");
            self.buf.extend_from_slice(s.as_bytes());
            self.buf.push(b'"');
        }
        self.buf.extend_from_slice(b"><v>");
        self.buf.extend_from_slice(v);
        self.buf.extend_from_slice(b"</v></c>");
        self.col += 1;
    }

    /// Ends the workbook: the last sheet, the styles, the workbook and its relationships.
    pub fn finish(mut self) -> io::Result<W> {
        if self.sheets.is_empty() {
            self.start_sheet("Sheet")?;
        }
        self.close_sheet()?;
        let mut wb = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<workbook xmlns=\"{NS}\" xmlns:r=\"{NS_R}\"><sheets>"
        );
        let mut rels = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">");
        for (i, name) in self.sheets.iter().enumerate() {
            let n = i + 1;
            wb.push_str(&format!(
                "<sheet name=\"{}\" sheetId=\"{n}\" r:id=\"rId{n}\"/>",
                xml_text(name)
            ));
            rels.push_str(&format!(
                "<Relationship Id=\"rId{n}\" Type=\"{NS_R}/worksheet\" Target=\"worksheets/sheet{n}.xml\"/>"
            ));
        }
        wb.push_str("</sheets></workbook>");
        rels.push_str(&format!(
            "<Relationship Id=\"rId{}\" Type=\"{NS_R}/styles\" Target=\"styles.xml\"/></Relationships>",
            self.sheets.len() + 1
        ));
        self.zip.start("xl/styles.xml")?;
        self.zip.write_all(STYLES.as_bytes())?;
        self.zip.start("xl/workbook.xml")?;
        self.zip.write_all(wb.as_bytes())?;
        self.zip.start("xl/_rels/workbook.xml.rels")?;
        self.zip.write_all(rels.as_bytes())?;
        self.zip.start("_rels/.rels")?;
        self.zip.write_all(
            concat!(
                "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
                "<Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">",
                "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/>",
                "</Relationships>"
            )
            .as_bytes(),
        )?;
        self.zip.finish()
    }
}

/// Cell formats: 0 general, 1 a date, 2 a date and time.
const STYLES: &str = concat!(
    "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\n",
    "<styleSheet xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\">",
    "<numFmts count=\"2\"><numFmt numFmtId=\"164\" formatCode=\"yyyy-mm-dd\"/><numFmt numFmtId=\"165\" formatCode=\"yyyy-mm-dd hh:mm:ss\"/></numFmts>",
    "<fonts count=\"2\"><font><sz val=\"11\"/><name val=\"Calibri\"/></font><font><b/><sz val=\"11\"/><name val=\"Calibri\"/></font></fonts>",
    "<fills count=\"2\"><fill><patternFill patternType=\"none\"/></fill><fill><patternFill patternType=\"gray125\"/></fill></fills>",
    "<borders count=\"1\"><border><left/><right/><top/><bottom/><diagonal/></border></borders>",
    "<cellStyleXfs count=\"1\"><xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\"/></cellStyleXfs>",
    "<cellXfs count=\"4\">",
    "<xf numFmtId=\"0\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\"/>",
    "<xf numFmtId=\"164\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "<xf numFmtId=\"165\" fontId=\"0\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyNumberFormat=\"1\"/>",
    "<xf numFmtId=\"0\" fontId=\"1\" fillId=\"0\" borderId=\"0\" xfId=\"0\" applyFont=\"1\"/>",
    "</cellXfs>",
    "<cellStyles count=\"1\"><cellStyle name=\"Normal\" xfId=\"0\" builtinId=\"0\"/></cellStyles>",
    "</styleSheet>"
);

impl<W: Write> CellSink for XlsxWriter<W> {
    fn start_row(&mut self) -> io::Result<()> {
        if !self.open {
            return Err(io::Error::other("xlsx: a row outside any sheet"));
        }
        if self.row == MAX_ROWS {
            // Continue in a new sheet, under the same header.
            self.close_sheet()?;
            self.part += 1;
            let suffix = format!(" ({})", self.part);
            let stem: String = self
                .base
                .chars()
                .take(31 - suffix.chars().count())
                .collect();
            self.open_part(stem + &suffix)?;
            let header = std::mem::take(&mut self.header);
            self.start_row()?;
            for h in &header {
                self.text(h)?;
            }
            self.end_row()?;
            self.header = header;
        }
        self.row += 1;
        self.col = 0;
        self.buf.extend_from_slice(b"<row r=\"");
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(self.row).as_bytes());
        self.buf.extend_from_slice(b"\">");
        Ok(())
    }

    fn empty(&mut self) -> io::Result<()> {
        self.col += 1;
        Ok(())
    }

    fn text(&mut self, s: &str) -> io::Result<()> {
        if self.row == 1 && self.part == 1 {
            self.header.push(s.to_owned());
        }
        if s.is_empty() {
            self.col += 1;
            return Ok(());
        }
        let s = match s.char_indices().nth(MAX_CELL_CHARS) {
            Some((cut, _)) => &s[..cut],
            None => s,
        };
        self.cell_ref();
        if self.row == 1 {
            self.buf.extend_from_slice(b" s=\"3\"");
        }
        self.buf.extend_from_slice(b" t=\"inlineStr\"><is><t");
        let edge = |c: Option<char>| c.is_some_and(char::is_whitespace);
        if edge(s.chars().next()) || edge(s.chars().last()) || s.contains('\n') {
            self.buf.extend_from_slice(b" xml:space=\"preserve\"");
        }
        self.buf.push(b'>');
        push_xml(&mut self.buf, s);
        self.buf.extend_from_slice(b"</t></is></c>");
        self.col += 1;
        Ok(())
    }

    fn int(&mut self, v: i64) -> io::Result<()> {
        let mut b = itoa::Buffer::new();
        let s = b.format(v).as_bytes().to_vec();
        self.number_cell(None, &s);
        Ok(())
    }

    fn num(&mut self, v: f64) -> io::Result<()> {
        let mut s = Vec::new();
        crate::csv::push_f64(&mut s, v);
        self.number_cell(None, &s);
        Ok(())
    }

    fn date(&mut self, ymd: &str) -> io::Result<()> {
        match crate::time::parse_ymd(ymd) {
            Some((y, m, d)) => {
                let serial = crate::time::unix_days(y, m, d) + EXCEL_EPOCH_DAYS;
                // Excel counts days from 1900 only.
                if serial >= 61 {
                    let s = itoa::Buffer::new().format(serial).as_bytes().to_vec();
                    self.number_cell(Some("1"), &s);
                    return Ok(());
                }
                self.text(ymd)
            }
            None => self.text(ymd),
        }
    }

    fn timestamp(&mut self, unix: i64) -> io::Result<()> {
        let days = unix.div_euclid(86_400) + EXCEL_EPOCH_DAYS;
        if days < 61 {
            return self.text(&crate::time::iso_timestamp(unix));
        }
        let serial = days as f64 + unix.rem_euclid(86_400) as f64 / 86_400.0;
        let mut s = Vec::new();
        crate::csv::push_f64(&mut s, serial);
        self.number_cell(Some("2"), &s);
        Ok(())
    }

    fn end_row(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"</row>");
        if self.buf.len() >= BUFFER {
            self.zip.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use calamine::{Data, Reader, Xlsx};

    #[test]
    fn columns() {
        let names: Vec<String> = [0, 1, 25, 26, 27, 51, 52, 701, 702]
            .into_iter()
            .map(column_name)
            .collect();
        assert_eq!(names, ["A", "B", "Z", "AA", "AB", "AZ", "BA", "ZZ", "AAA"]);
    }

    #[test]
    fn a_workbook_that_calamine_reads() {
        let mut x = XlsxWriter::new(Vec::new(), 1_790_000_000).unwrap();
        x.start_sheet("main & <co>").unwrap();
        for row in [["name", "n", "when", "day"], ["", "", "", ""]] {
            x.start_row().unwrap();
            for (i, cell) in row.iter().enumerate() {
                if cell.is_empty() {
                    match i {
                        0 => x.text(" Abéché\u{1} & co ").unwrap(),
                        1 => x.num(12.5).unwrap(),
                        2 => x.timestamp(1_790_000_000).unwrap(),
                        _ => x.date("2026-10-01").unwrap(),
                    }
                } else {
                    x.text(cell).unwrap();
                }
            }
            x.end_row().unwrap();
        }
        x.start_row().unwrap();
        x.empty().unwrap();
        x.int(7).unwrap();
        x.end_row().unwrap();
        x.start_sheet("second").unwrap();
        x.start_row().unwrap();
        x.text("only").unwrap();
        x.end_row().unwrap();
        let bytes = x.finish().unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        assert_eq!(wb.sheet_names(), ["main & <co>", "second"]);
        let range = wb.worksheet_range("main & <co>").unwrap();
        assert_eq!(range.get_size(), (3, 4));
        assert_eq!(
            range.get((1, 0)),
            Some(&Data::String(" Abéché & co ".into()))
        );
        assert_eq!(range.get((1, 1)), Some(&Data::Float(12.5)));
        match range.get((1, 2)) {
            Some(Data::DateTime(d)) => {
                // 2026-09-21 14:13:20 UTC.
                assert!((d.as_f64() - (46286.0 + 51_200.0 / 86_400.0)).abs() < 1e-9);
                assert!(d.is_datetime());
            }
            other => panic!("{other:?}"),
        }
        match range.get((1, 3)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), 46296.0),
            other => panic!("{other:?}"),
        }
        assert_eq!(range.get((2, 0)), Some(&Data::Empty));
        assert_eq!(range.get((2, 1)), Some(&Data::Float(7.0)));
    }
}
