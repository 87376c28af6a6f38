//! Whatever text the answers hold, a CSV reader and a spreadsheet reader get it back, and a
//! damaged stored record is an error, never a panic.

use baraza_publish::csv::CsvSink;
use baraza_publish::xlsx::XlsxWriter;
use baraza_publish::CellSink;
use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn csv_cells_read_back(cells in proptest::collection::vec(".{0,40}", 1..8)) {
        let mut sink = CsvSink::new(Vec::new());
        // Rows start with our own column (as exports do), never with an answer.
        sink.start_row().unwrap();
        sink.text("key").unwrap();
        for c in &cells {
            sink.text(c).unwrap();
        }
        sink.end_row().unwrap();
        let out = sink.finish().unwrap();
        let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        let got: Vec<&str> = rec.iter().skip(1).collect();
        prop_assert_eq!(got, cells.iter().map(String::as_str).collect::<Vec<_>>());
    }

    #[test]
    fn xlsx_cells_read_back(cells in proptest::collection::vec("[^\u{0}-\u{8}\u{b}\u{c}\u{e}-\u{1f}\u{fffe}\u{ffff}]{1,40}", 1..6)) {
        use calamine::{Data, Reader, Xlsx};
        let mut x = XlsxWriter::new(Vec::new(), 0).unwrap();
        x.start_sheet("s").unwrap();
        x.start_row().unwrap();
        x.text("header").unwrap();
        x.end_row().unwrap();
        x.start_row().unwrap();
        for c in &cells {
            x.text(c).unwrap();
        }
        x.end_row().unwrap();
        let bytes = x.finish().unwrap();
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let range = wb.worksheet_range("s").unwrap();
        for (j, c) in cells.iter().enumerate() {
            // XML normalises a carriage return and a CRLF to a line feed.
            let want = c.replace("\r\n", "\n").replace('\r', "\n");
            prop_assert_eq!(range.get((1, j)), Some(&Data::String(want)));
        }
    }

    #[test]
    fn damaged_records_are_errors(s in ".{0,200}") {
        let _ = baraza_publish::parse_values(&s);
    }
}
