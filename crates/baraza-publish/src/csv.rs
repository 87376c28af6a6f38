//! CSV (RFC 4180): comma-separated, CRLF line ends, fields quoted when they hold a comma, a quote
//! or a line break, quotes doubled. UTF-8 without a byte-order mark, as ODK Central writes it.
//! Numbers are written in full (`1234.5`, never `1.2345e3`); dates as `YYYY-MM-DD`; instants as
//! `2026-09-21T14:13:20.000Z`.
//!
//! Cells are written exactly as stored. A spreadsheet that opens a CSV may read a cell starting
//! with `=`, `+`, `-` or `@` as a formula: people who open exports of untrusted answers in a
//! spreadsheet should use the XLSX export, whose cells are never formulas.

use crate::table::CellSink;
use std::io::{self, Write};

/// Bytes kept before they are handed to the inner writer.
const BUFFER: usize = 64 * 1024;

/// A CSV writer of typed cells.
pub struct CsvSink<W: Write> {
    inner: W,
    buf: Vec<u8>,
    first: bool,
    rows: u64,
}

impl<W: Write> CsvSink<W> {
    pub fn new(inner: W) -> Self {
        CsvSink {
            inner,
            buf: Vec::with_capacity(BUFFER + 4096),
            first: true,
            rows: 0,
        }
    }

    /// Rows written so far (the header included).
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn sep(&mut self) {
        if self.first {
            self.first = false;
        } else {
            self.buf.push(b',');
        }
    }

    fn flush_if_full(&mut self) -> io::Result<()> {
        if self.buf.len() >= BUFFER {
            self.inner.write_all(&self.buf)?;
            self.buf.clear();
        }
        Ok(())
    }

    /// Hands everything to the inner writer and returns it.
    pub fn finish(mut self) -> io::Result<W> {
        self.inner.write_all(&self.buf)?;
        self.buf.clear();
        self.inner.flush()?;
        Ok(self.inner)
    }
}

/// Appends a field, quoted if it must be.
pub(crate) fn push_field(buf: &mut Vec<u8>, s: &str) {
    let needs = s.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r'));
    if !needs {
        buf.extend_from_slice(s.as_bytes());
        return;
    }
    buf.push(b'"');
    for part in s.split('"').enumerate() {
        if part.0 > 0 {
            buf.extend_from_slice(b"\"\"");
        }
        buf.extend_from_slice(part.1.as_bytes());
    }
    buf.push(b'"');
}

/// Appends a number in full decimal notation (Rust's shortest round-trip form).
pub(crate) fn push_f64(buf: &mut Vec<u8>, v: f64) {
    // Writing to a Vec cannot fail.
    let _ = write!(buf, "{v}");
}

impl<W: Write> CellSink for CsvSink<W> {
    fn start_row(&mut self) -> io::Result<()> {
        self.first = true;
        Ok(())
    }

    fn empty(&mut self) -> io::Result<()> {
        self.sep();
        Ok(())
    }

    fn text(&mut self, s: &str) -> io::Result<()> {
        self.sep();
        push_field(&mut self.buf, s);
        Ok(())
    }

    fn int(&mut self, v: i64) -> io::Result<()> {
        self.sep();
        self.buf
            .extend_from_slice(itoa::Buffer::new().format(v).as_bytes());
        Ok(())
    }

    fn num(&mut self, v: f64) -> io::Result<()> {
        self.sep();
        push_f64(&mut self.buf, v);
        Ok(())
    }

    fn date(&mut self, ymd: &str) -> io::Result<()> {
        self.text(ymd)
    }

    fn timestamp(&mut self, unix: i64) -> io::Result<()> {
        self.sep();
        let mut s = String::with_capacity(24);
        crate::time::push_iso_timestamp(&mut s, unix);
        self.buf.extend_from_slice(s.as_bytes());
        Ok(())
    }

    fn end_row(&mut self) -> io::Result<()> {
        self.buf.extend_from_slice(b"\r\n");
        self.rows += 1;
        self.flush_if_full()
    }
}

/// One CSV record of text fields, ending with CRLF (a header row, a template).
pub fn line<S: AsRef<str>>(fields: &[S]) -> String {
    let mut buf = Vec::new();
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        push_field(&mut buf, f.as_ref());
    }
    buf.extend_from_slice(b"\r\n");
    String::from_utf8(buf).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_only_what_must_be() {
        let mut sink = CsvSink::new(Vec::new());
        sink.start_row().unwrap();
        for s in ["plain", "a,b", "say \"hi\"", "two\nlines", "", "é ünïcode"] {
            sink.text(s).unwrap();
        }
        sink.empty().unwrap();
        sink.int(-42).unwrap();
        sink.num(0.1).unwrap();
        sink.num(1e21).unwrap();
        sink.num(-12.5).unwrap();
        sink.timestamp(1_790_000_000).unwrap();
        sink.end_row().unwrap();
        let out = String::from_utf8(sink.finish().unwrap()).unwrap();
        assert_eq!(
            out,
            "plain,\"a,b\",\"say \"\"hi\"\"\",\"two\nlines\",,é ünïcode,,-42,0.1,1000000000000000000000,-12.5,2026-09-21T14:13:20.000Z\r\n"
        );
        // A real CSV reader reads back what was written.
        let mut r = ::csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(out.as_bytes());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[2], "say \"hi\"");
        assert_eq!(&rec[3], "two\nlines");
    }
}
