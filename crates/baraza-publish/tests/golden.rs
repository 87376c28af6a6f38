//! Every writer on a small household survey (groups, a repeat with a nested repeat, two repeats of
//! the same name, geopoint, geotrace, geoshape, select_multiple, dates, hostile text), whose
//! submissions are typed by `baraza-openrosa` exactly as at ingest. Outputs are compared with the
//! files in `tests/golden/`; `BARAZA_BLESS=1 cargo test -p baraza-publish --test golden` rewrites
//! them after a deliberate change (review the diff).

use baraza_publish::csv::CsvSink;
use baraza_publish::geojson::GeoJsonWriter;
use baraza_publish::json::JsonWriter;
use baraza_publish::table::write_header;
use baraza_publish::xlsx::XlsxWriter;
use baraza_publish::zip::ZipStream;
use baraza_publish::{parse_values, Flattener, Meta, Schema};
use std::io::Read;
use std::path::PathBuf;

fn dir(sub: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests")
        .join(sub)
}

struct Record {
    key: &'static str,
    instance_id: &'static str,
    received_at: i64,
    submitter_id: &'static str,
    submitter_name: &'static str,
    review_state: &'static str,
    edits: i64,
    values_json: String,
}

impl Record {
    fn meta(&self) -> Meta<'_> {
        Meta {
            key: self.key,
            instance_id: self.instance_id,
            received_at: self.received_at,
            submitter_id: Some(self.submitter_id),
            submitter_name: Some(self.submitter_name),
            attachments_present: 0,
            attachments_expected: 0,
            review_state: self.review_state,
            edits: self.edits,
            form_version: "3",
        }
    }
}

fn fixture() -> (Schema, Vec<Record>) {
    let md = std::fs::read(dir("fixtures").join("household.md")).unwrap();
    let compiled = baraza_xlsform::compile_file(&md, "household.md");
    assert!(!compiled.has_errors(), "{:?}", compiled.diagnostics);
    let form = compiled.form.unwrap();
    let typed = |file: &str| {
        let xml = std::fs::read(dir("fixtures").join(file)).unwrap();
        let sub =
            baraza_openrosa::parse_submission(&xml, &baraza_openrosa::Limits::default()).unwrap();
        let values = baraza_openrosa::type_values(&form, &sub).unwrap();
        serde_json::to_string(&values).unwrap()
    };
    let records = vec![
        Record {
            key: "uuid:11111111-1111-4111-8111-111111111111",
            instance_id: "uuid:11111111-1111-4111-8111-111111111111",
            received_at: 1_790_000_000,
            submitter_id: "app:1",
            submitter_name: "Phone 1",
            review_state: "approved",
            edits: 0,
            values_json: typed("sub1.xml"),
        },
        // An edited record: its key is its first version's instanceID.
        Record {
            key: "uuid:00000000-0000-4000-8000-000000000000",
            instance_id: "uuid:22222222-2222-4222-8222-222222222222",
            received_at: 1_790_003_600,
            submitter_id: "user:7",
            submitter_name: "Claire",
            review_state: "received",
            edits: 1,
            values_json: typed("sub2.xml"),
        },
    ];
    (Schema::new(&form, "household"), records)
}

fn check_golden(name: &str, actual: &[u8]) {
    let path = dir("golden").join(name);
    if std::env::var_os("BARAZA_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|_| panic!("no golden {}: run with BARAZA_BLESS=1", path.display()));
    if expected != actual {
        panic!(
            "{name} differs from its golden:\n--- expected\n{}\n--- actual\n{}",
            String::from_utf8_lossy(&expected),
            String::from_utf8_lossy(actual)
        );
    }
}

fn csv_table(schema: &Schema, records: &[Record], table: usize) -> Vec<u8> {
    let mut sink = CsvSink::new(Vec::new());
    write_header(schema, table, &mut sink).unwrap();
    let mut f = Flattener::new(schema);
    for r in records {
        let values = parse_values(&r.values_json).unwrap();
        if table == 0 {
            f.root_row(&r.meta(), &values, &mut sink).unwrap();
        } else {
            f.repeat_rows(table, &r.meta(), &values, &mut sink).unwrap();
        }
    }
    sink.finish().unwrap()
}

#[test]
fn the_shape_follows_odk_central() {
    let (schema, _) = fixture();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.file_stem.as_str()).collect();
    assert_eq!(
        names,
        [
            "household",
            "household-member~1",
            "household-illness",
            "household-member~2"
        ]
    );
    let sheets: Vec<&str> = schema.tables.iter().map(|t| t.sheet.as_str()).collect();
    assert_eq!(sheets, ["household", "member", "illness", "member (2)"]);
    let root = &schema.tables[0].headers;
    let want_start = [
        "SubmissionDate",
        "start",
        "deviceid",
        "village",
        "visit_date",
        "household-size",
        "household-income",
        "household-sources",
        "household-sources/well",
        "household-sources/tap",
        "household-sources/river",
        "household-latrine",
        "household-home-Latitude",
        "household-home-Longitude",
        "household-home-Altitude",
        "household-home-Accuracy",
        "field",
        "path",
        "big",
        "thanks",
        "meta-instanceID",
        "meta-instanceName",
        "KEY",
    ];
    assert_eq!(&root[..want_start.len()], want_start);
    assert_eq!(root.last().map(String::as_str), Some("FormVersion"));
    assert_eq!(
        schema.tables[1].headers,
        ["name", "age", "PARENT_KEY", "KEY"]
    );
    assert_eq!(schema.tables[2].headers, ["what", "PARENT_KEY", "KEY"]);
    assert_eq!(schema.tables[2].parent, Some(1));
    assert_eq!(
        schema.root_field("size"),
        schema.root_field("household/size")
    );
    assert!(schema.root_field("size").is_some());
    assert_eq!(schema.root_field("name"), None, "in a repeat");
    assert_eq!(
        schema.default_geo().map(|f| schema.fields[f].name.as_str()),
        Some("home")
    );
}

#[test]
fn csv_tables_match_their_goldens() {
    let (schema, records) = fixture();
    for (t, table) in schema.tables.iter().enumerate() {
        let out = csv_table(&schema, &records, t);
        check_golden(&format!("{}.csv", table.file_stem), &out);
    }
    // The keys link: every PARENT_KEY of the nested table is a KEY of its parent table.
    let keys = |t: usize, col: &str| -> Vec<String> {
        let out = csv_table(&schema, &records, t);
        let mut r = csv::Reader::from_reader(out.as_slice());
        let idx = r.headers().unwrap().iter().position(|h| h == col).unwrap();
        r.records().map(|x| x.unwrap()[idx].to_owned()).collect()
    };
    let member_keys = keys(1, "KEY");
    assert_eq!(
        member_keys,
        [
            "uuid:11111111-1111-4111-8111-111111111111/household/member[1]",
            "uuid:11111111-1111-4111-8111-111111111111/household/member[2]",
            "uuid:00000000-0000-4000-8000-000000000000/household/member[1]",
        ]
    );
    for parent in keys(2, "PARENT_KEY") {
        assert!(member_keys.contains(&parent), "{parent}");
    }
}

#[test]
fn the_csv_archive_holds_one_file_per_table() {
    let (schema, records) = fixture();
    let mut z = ZipStream::new(Vec::new(), 1_790_000_000);
    for (t, table) in schema.tables.iter().enumerate() {
        z.start(&format!("{}.csv", table.file_stem)).unwrap();
        std::io::Write::write_all(&mut z, &csv_table(&schema, &records, t)).unwrap();
    }
    let bytes = z.finish().unwrap();
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
    assert_eq!(archive.len(), schema.tables.len());
    for (t, table) in schema.tables.iter().enumerate() {
        let mut s = Vec::new();
        archive
            .by_name(&format!("{}.csv", table.file_stem))
            .unwrap()
            .read_to_end(&mut s)
            .unwrap();
        assert_eq!(s, csv_table(&schema, &records, t));
    }
}

#[test]
fn json_and_geojson_match_their_goldens() {
    let (schema, records) = fixture();
    let mut w = JsonWriter::new(Vec::new()).unwrap();
    for r in &records {
        w.record(&schema, &r.meta(), &parse_values(&r.values_json).unwrap())
            .unwrap();
    }
    let json = w.finish().unwrap();
    check_golden("household.json", &json);
    let doc: serde_json::Value = serde_json::from_slice(&json).unwrap();
    assert_eq!(
        doc[0]["household"]["member"][0]["illness"][1]["what"],
        "cough\nand cold"
    );
    assert_eq!(doc[0]["household"]["home"]["coordinates"][0], 15.05);
    assert_eq!(
        doc[1]["household"]["member"][0]["age"],
        serde_json::Value::Null
    );
    assert_eq!(doc[1]["__system"]["edits"], 1);

    for geo in ["home", "field", "path"] {
        let f = schema.root_field(geo).unwrap();
        let mut g = GeoJsonWriter::new(Vec::new(), &schema, f).unwrap();
        for r in &records {
            g.record(&r.meta(), &parse_values(&r.values_json).unwrap())
                .unwrap();
        }
        assert_eq!(g.count(), 1, "only the first record has a {geo}");
        let out = g.finish().unwrap();
        check_golden(&format!("household-{geo}.geojson"), &out);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(doc["type"], "FeatureCollection");
        let feature = &doc["features"][0];
        assert_eq!(feature["properties"]["village"], "Farcha, \"north\"");
        assert_eq!(feature["properties"]["household-size"], 3);
    }
}

#[test]
fn the_workbook_has_the_cells_of_the_csv_tables() {
    use calamine::{Data, Reader, Xlsx};
    let (schema, records) = fixture();
    let mut x = XlsxWriter::new(Vec::new(), 1_790_000_000).unwrap();
    let mut f = Flattener::new(&schema);
    for (t, table) in schema.tables.iter().enumerate() {
        x.start_sheet(&table.sheet).unwrap();
        write_header(&schema, t, &mut x).unwrap();
        for r in &records {
            let values = parse_values(&r.values_json).unwrap();
            if t == 0 {
                f.root_row(&r.meta(), &values, &mut x).unwrap();
            } else {
                f.repeat_rows(t, &r.meta(), &values, &mut x).unwrap();
            }
        }
    }
    let bytes = x.finish().unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    for (t, table) in schema.tables.iter().enumerate() {
        let range = wb.worksheet_range(&table.sheet).unwrap();
        let csv_bytes = csv_table(&schema, &records, t);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(csv_bytes.as_slice());
        for (i, rec) in r.records().enumerate() {
            let rec = rec.unwrap();
            for (j, want) in rec.iter().enumerate() {
                let got = range.get((i, j)).cloned().unwrap_or(Data::Empty);
                let ok = match &got {
                    Data::Empty => want.is_empty(),
                    Data::String(s) => s == want,
                    Data::Float(v) => want.parse::<f64>().ok() == Some(*v),
                    Data::Int(v) => want.parse::<i64>().ok() == Some(*v),
                    // Dates and instants: the CSV's ISO text starts with the same day.
                    Data::DateTime(d) => {
                        let days = d.as_f64().floor() as i64 - 25_569;
                        let (y, m, dd) = baraza_publish::parse_ymd(&want[..10]).unwrap();
                        baraza_publish::unix_days(y, m, dd) == days
                    }
                    other => panic!("unexpected cell {other:?}"),
                };
                assert!(
                    ok,
                    "sheet {} cell ({i},{j}): {got:?} vs {want:?}",
                    table.sheet
                );
            }
        }
    }
}

#[test]
fn stored_values_read_back_as_ingest_wrote_them() {
    let (_, records) = fixture();
    for r in &records {
        let original: serde_json::Value = serde_json::from_str(&r.values_json).unwrap();
        let values = parse_values(&r.values_json).unwrap();
        let original = original.as_array().unwrap();
        assert_eq!(values.len(), original.len());
        for (v, o) in values.iter().zip(original) {
            assert_eq!(&*v.path, o["path"].as_str().unwrap());
            assert_eq!(v.repeat.as_deref(), o["repeat"].as_str());
            assert_eq!(
                baraza_publish::values::Typed::Empty == v.value,
                o["value"]["type"] == "empty"
            );
        }
    }
}
