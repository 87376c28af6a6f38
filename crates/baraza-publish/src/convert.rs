//! A catalogue's tabular resource converted as it streams: a CSV read record by record becomes
//! NDJSON, an XLSX workbook or GeoJSON, in memory bounded by one record and the writer's buffer
//! whatever the file's size.
//!
//! * Values take the column's Table Schema type (the catalogue's [`Field`]): an `integer` or
//!   `number` column gives JSON numbers and numeric cells, a `boolean` one `true`/`false`, a
//!   `date` one date cells in XLSX; a value that does not read as its column's type stays text,
//!   and an empty cell is `null` (an empty cell in XLSX). Nothing is lost or rounded: a number
//!   too long for a double stays text.
//! * An HXL hashtag row right after the header is not data: it is skipped.
//! * Keys are the header's names, in the file's order; a missing name is `column_N`; a record
//!   shorter than the header is completed with empty cells, cells beyond the header are dropped.
//! * GeoJSON needs a point: the columns tagged `#geo+lat` and `#geo+lon` (HXL), else columns
//!   named `lat`/`latitude` and `lon`/`lng`/`long`/`longitude` (alone or as a suffix after `_`
//!   or `-`, as ODK's `gps-Latitude`). A record whose coordinates are missing or out of range
//!   is a feature with a `null` geometry (RFC 7946, 3.2), so that every row is still there.

use crate::xlsx::XlsxWriter;
use crate::CellSink;
use baraza_catalogue::model::Field;
use serde_json::Value;
use std::io::{self, Read, Write};

/// The formats a CSV resource is converted to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// Newline-delimited JSON: one object per line.
    Ndjson,
    /// A workbook with one sheet, `data`.
    Xlsx,
    /// A FeatureCollection of points.
    GeoJson,
}

impl Target {
    pub fn extension(self) -> &'static str {
        match self {
            Target::Ndjson => "ndjson",
            Target::Xlsx => "xlsx",
            Target::GeoJson => "geojson",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Target::Ndjson => "application/x-ndjson",
            Target::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Target::GeoJson => "application/geo+json",
        }
    }

    pub fn parse(ext: &str) -> Option<Target> {
        match ext {
            "ndjson" => Some(Target::Ndjson),
            "xlsx" => Some(Target::Xlsx),
            "geojson" => Some(Target::GeoJson),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Number,
    Boolean,
    Date,
    Text,
}

impl Kind {
    fn of(table_schema_type: &str) -> Kind {
        match table_schema_type {
            "integer" => Kind::Integer,
            "number" => Kind::Number,
            "boolean" => Kind::Boolean,
            "date" => Kind::Date,
            _ => Kind::Text,
        }
    }
}

/// A value read as its column's type.
#[derive(Debug, Clone, PartialEq)]
enum Cell<'a> {
    Null,
    Int(i64),
    Num(f64),
    Bool(bool),
    Date(&'a str),
    Text(&'a str),
}

fn cell(kind: Kind, raw: &str) -> Cell<'_> {
    let v = raw.trim();
    if v.is_empty() {
        return Cell::Null;
    }
    match kind {
        Kind::Integer => v.parse().map(Cell::Int).unwrap_or(Cell::Text(raw)),
        Kind::Number => match v.parse::<i64>() {
            Ok(i) => Cell::Int(i),
            Err(_) => v
                .parse::<f64>()
                .ok()
                .filter(|f| f.is_finite() && round_trips(v, *f))
                .map(Cell::Num)
                .unwrap_or(Cell::Text(raw)),
        },
        Kind::Boolean => match v {
            "true" | "TRUE" | "True" => Cell::Bool(true),
            "false" | "FALSE" | "False" => Cell::Bool(false),
            _ => Cell::Text(raw),
        },
        Kind::Date if is_ymd(v) => Cell::Date(v),
        _ => Cell::Text(raw),
    }
}

/// Whether a decimal written as `text` survives as a double: more than 15 significant digits do
/// not, and are better kept as text than rounded.
fn round_trips(text: &str, _: f64) -> bool {
    let mantissa = text.split(['e', 'E']).next().unwrap_or(text);
    mantissa.bytes().filter(u8::is_ascii_digit).count() <= 15
}

fn is_ymd(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

/// The point columns of a table (latitude, longitude), if it has them.
pub fn point_columns(fields: &[Field]) -> Option<(usize, usize)> {
    let by_tag = |want: &str| {
        fields.iter().position(|f| {
            f.hxl.as_deref().is_some_and(|t| {
                let mut parts = t.split('+');
                parts.next() == Some("#geo") && parts.any(|a| a == want)
            })
        })
    };
    if let (Some(lat), Some(lon)) = (by_tag("lat"), by_tag("lon")) {
        return Some((lat, lon));
    }
    let by_name = |names: &[&str]| {
        fields.iter().position(|f| {
            let n = f.name.trim().to_ascii_lowercase();
            let last = n.rsplit(['_', '-']).next().unwrap_or(&n);
            names.contains(&n.as_str()) || names.contains(&last)
        })
    };
    match (
        by_name(&["lat", "latitude"]),
        by_name(&["lon", "lng", "long", "longitude"]),
    ) {
        (Some(lat), Some(lon)) if lat != lon => Some((lat, lon)),
        _ => None,
    }
}

/// What a conversion wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Converted {
    /// Data records written (the header and a hashtag row are not counted).
    pub rows: u64,
    /// GeoJSON features without a geometry (coordinates missing or out of range).
    pub without_point: u64,
}

/// Converts the CSV `input` (with a header row, typed by `fields` by position) to `target`,
/// writing to `out`. `created` (Unix seconds) dates an XLSX workbook's entries. A record the
/// CSV reader cannot read ends the conversion with an error saying where.
pub fn convert<R: Read, W: Write>(
    input: R,
    fields: &[Field],
    target: Target,
    created: i64,
    out: W,
) -> io::Result<Converted> {
    let mut reader = ::csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(true)
        .from_reader(input);
    let names: Vec<String> = reader
        .headers()
        .map_err(csv_error)?
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let h = h.trim().trim_start_matches('\u{feff}');
            if h.is_empty() {
                format!("column_{}", i + 1)
            } else {
                h.to_string()
            }
        })
        .collect();
    let kinds: Vec<Kind> = (0..names.len())
        .map(|i| fields.get(i).map_or(Kind::Text, |f| Kind::of(&f.r#type)))
        .collect();
    let point = match target {
        Target::GeoJson => Some(point_columns(fields).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, "no latitude/longitude columns")
        })?),
        _ => None,
    };
    let mut w = Writer::new(target, &names, created, out)?;
    let mut done = Converted::default();
    let mut record = ::csv::StringRecord::new();
    let mut first = true;
    while reader.read_record(&mut record).map_err(csv_error)? {
        if std::mem::take(&mut first) && is_hashtag_row(&record) {
            continue;
        }
        let cells: Vec<Cell> = (0..names.len())
            .map(|i| cell(kinds[i], record.get(i).unwrap_or("")))
            .collect();
        let geometry = point.and_then(|(lat, lon)| coordinates(&cells[lat], &cells[lon]));
        if point.is_some() && geometry.is_none() {
            done.without_point += 1;
        }
        w.row(&cells, geometry)?;
        done.rows += 1;
    }
    w.finish()?;
    Ok(done)
}

fn csv_error(e: ::csv::Error) -> io::Error {
    let at = e
        .position()
        .map(|p| format!(" (line {})", p.line()))
        .unwrap_or_default();
    io::Error::new(io::ErrorKind::InvalidData, format!("CSV{at}: {e}"))
}

fn is_hashtag_row(r: &::csv::StringRecord) -> bool {
    r.iter().any(|c| c.trim().starts_with('#'))
        && r.iter()
            .all(|c| c.trim().is_empty() || c.trim().starts_with('#'))
}

fn number(c: &Cell) -> Option<f64> {
    match c {
        Cell::Int(i) => Some(*i as f64),
        Cell::Num(f) => Some(*f),
        Cell::Text(t) => t.trim().parse().ok().filter(|f: &f64| f.is_finite()),
        _ => None,
    }
}

fn coordinates(lat: &Cell, lon: &Cell) -> Option<(f64, f64)> {
    let (lat, lon) = (number(lat)?, number(lon)?);
    ((-90.0..=90.0).contains(&lat) && (-180.0..=180.0).contains(&lon)).then_some((lon, lat))
}

fn json_value(c: &Cell) -> Value {
    match c {
        Cell::Null => Value::Null,
        Cell::Int(i) => Value::from(*i),
        Cell::Num(f) => Value::from(*f),
        Cell::Bool(b) => Value::Bool(*b),
        Cell::Date(s) | Cell::Text(s) => Value::String((*s).to_string()),
    }
}

enum Writer<'n, W: Write> {
    Json {
        out: W,
        keys: Vec<String>,
        geo: bool,
        first: bool,
    },
    Xlsx(Box<XlsxWriter<W>>, std::marker::PhantomData<&'n ()>),
}

impl<'n, W: Write> Writer<'n, W> {
    fn new(target: Target, names: &'n [String], created: i64, mut out: W) -> io::Result<Self> {
        // Keys are written once, already quoted and escaped.
        let keys = names
            .iter()
            .map(|n| serde_json::to_string(n).unwrap_or_else(|_| "\"\"".into()))
            .collect();
        Ok(match target {
            Target::Ndjson => Writer::Json {
                out,
                keys,
                geo: false,
                first: true,
            },
            Target::GeoJson => {
                out.write_all(b"{\"type\":\"FeatureCollection\",\"features\":[")?;
                Writer::Json {
                    out,
                    keys,
                    geo: true,
                    first: true,
                }
            }
            Target::Xlsx => {
                let mut x = XlsxWriter::new(out, created)?;
                x.start_sheet("data")?;
                x.start_row()?;
                for n in names {
                    x.text(n)?;
                }
                x.end_row()?;
                Writer::Xlsx(Box::new(x), std::marker::PhantomData)
            }
        })
    }

    fn row(&mut self, cells: &[Cell], point: Option<(f64, f64)>) -> io::Result<()> {
        match self {
            Writer::Json {
                out,
                keys,
                geo,
                first,
            } => {
                let mut line = Vec::with_capacity(256);
                if *geo {
                    if !std::mem::take(first) {
                        line.push(b',');
                    }
                    line.extend_from_slice(b"\n{\"type\":\"Feature\",\"geometry\":");
                    match point {
                        Some((x, y)) => {
                            line.extend_from_slice(b"{\"type\":\"Point\",\"coordinates\":");
                            serde_json::to_writer(&mut line, &[x, y])?;
                            line.push(b'}');
                        }
                        None => line.extend_from_slice(b"null"),
                    }
                    line.extend_from_slice(b",\"properties\":");
                }
                line.push(b'{');
                for (i, (k, c)) in keys.iter().zip(cells).enumerate() {
                    if i > 0 {
                        line.push(b',');
                    }
                    line.extend_from_slice(k.as_bytes());
                    line.push(b':');
                    serde_json::to_writer(&mut line, &json_value(c))?;
                }
                line.push(b'}');
                if *geo {
                    line.push(b'}');
                } else {
                    line.push(b'\n');
                }
                out.write_all(&line)
            }
            Writer::Xlsx(x, _) => {
                x.start_row()?;
                for c in cells {
                    match c {
                        Cell::Null => x.empty()?,
                        Cell::Int(i) => x.int(*i)?,
                        Cell::Num(f) => x.num(*f)?,
                        Cell::Bool(b) => x.text(if *b { "true" } else { "false" })?,
                        Cell::Date(d) => x.date(d)?,
                        Cell::Text(t) => x.text(t)?,
                    }
                }
                x.end_row()
            }
        }
    }

    fn finish(self) -> io::Result<()> {
        match self {
            Writer::Json { mut out, geo, .. } => {
                if geo {
                    out.write_all(b"\n]}\n")?;
                }
                out.flush()
            }
            Writer::Xlsx(x, _) => x.finish()?.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(name: &str, ty: &str, hxl: Option<&str>) -> Field {
        Field {
            name: name.into(),
            r#type: ty.into(),
            hxl: hxl.map(str::to_owned),
            description: String::new(),
        }
    }

    fn fields() -> Vec<Field> {
        vec![
            field("province", "string", Some("#adm1+name")),
            field("points", "integer", None),
            field("taux", "number", None),
            field("ok", "boolean", None),
            field("date", "date", None),
            field("lat", "number", Some("#geo+lat")),
            field("lon", "number", Some("#geo+lon")),
        ]
    }

    const CSV: &str = "province,points,taux,ok,date,lat,lon\r\n\
        #adm1+name,,,,,#geo+lat,#geo+lon\r\n\
        N'Djamena,12,0.5,true,2026-01-05,12.1,15.05\r\n\
        \"Ouaddaï, \"\"Est\"\"\",n/a,,false,2026-02,13.8,20.8\r\n\
        Lac,3,1.25\r\n\
        Kanem,4,1234567890.1234567,TRUE,,95,15\r\n";

    fn run(target: Target) -> (Converted, Vec<u8>) {
        let mut out = Vec::new();
        let done = convert(CSV.as_bytes(), &fields(), target, 0, &mut out).unwrap();
        (done, out)
    }

    #[test]
    fn ndjson_has_typed_values_one_record_a_line() {
        let (done, out) = run(Target::Ndjson);
        assert_eq!(done.rows, 4);
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4);
        assert_eq!(
            lines[0],
            serde_json::json!({"province": "N'Djamena", "points": 12, "taux": 0.5, "ok": true,
                "date": "2026-01-05", "lat": 12.1, "lon": 15.05})
        );
        // What does not read as its type stays text; a short record is completed with nulls.
        assert_eq!(lines[1]["province"], "Ouaddaï, \"Est\"");
        assert_eq!(lines[1]["points"], "n/a");
        assert_eq!(lines[1]["taux"], Value::Null);
        assert_eq!(lines[1]["date"], "2026-02");
        assert_eq!(lines[2]["ok"], Value::Null);
        assert_eq!(lines[2]["taux"], 1.25);
        // Seventeen significant digits are not rounded into a double.
        assert_eq!(lines[3]["taux"], "1234567890.1234567");
        // Keys keep the file's order.
        assert!(text.starts_with("{\"province\":"));
    }

    #[test]
    fn geojson_places_points_and_keeps_every_row() {
        let (done, out) = run(Target::GeoJson);
        assert_eq!((done.rows, done.without_point), (4, 2));
        let v: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["type"], "FeatureCollection");
        let f = v["features"].as_array().unwrap();
        assert_eq!(f.len(), 4);
        assert_eq!(
            f[0]["geometry"]["coordinates"],
            serde_json::json!([15.05, 12.1])
        );
        assert_eq!(f[0]["properties"]["points"], 12);
        // No coordinates, or a latitude of 95: a feature without geometry.
        assert_eq!(f[2]["geometry"], Value::Null);
        assert_eq!(f[3]["geometry"], Value::Null);
        // Without point columns there is no GeoJSON.
        let mut out = Vec::new();
        let e = convert(CSV.as_bytes(), &fields()[..5], Target::GeoJson, 0, &mut out).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::InvalidInput);
    }

    #[test]
    fn point_columns_by_hashtag_then_by_name() {
        assert_eq!(point_columns(&fields()), Some((5, 6)));
        let named = [
            field("gps-Latitude", "number", None),
            field("nom", "string", None),
            field("gps-Longitude", "number", None),
        ];
        assert_eq!(point_columns(&named), Some((0, 2)));
        let lng = [field("lng", "number", None), field("LAT", "number", None)];
        assert_eq!(point_columns(&lng), Some((1, 0)));
        assert_eq!(point_columns(&[field("latitude", "number", None)]), None);
        assert_eq!(point_columns(&[field("plateau", "string", None)]), None);
    }

    #[test]
    fn xlsx_is_a_workbook_with_typed_cells() {
        use calamine::{Data, Reader, Xlsx};
        let (done, out) = run(Target::Xlsx);
        assert_eq!(done.rows, 4);
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(out)).unwrap();
        assert_eq!(wb.sheet_names(), ["data"]);
        let range = wb.worksheet_range("data").unwrap();
        // The header, then four records: the hashtag row is not data.
        assert_eq!(range.get_size(), (5, 7));
        assert_eq!(range.get((0, 0)), Some(&Data::String("province".into())));
        assert_eq!(range.get((1, 0)), Some(&Data::String("N'Djamena".into())));
        assert_eq!(range.get((1, 1)), Some(&Data::Float(12.0)));
        assert_eq!(range.get((3, 2)), Some(&Data::Float(1.25)));
        assert_eq!(range.get((2, 1)), Some(&Data::String("n/a".into())));
        match range.get((1, 4)) {
            Some(Data::DateTime(d)) => assert_eq!(d.as_f64(), 46027.0),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn an_unreadable_record_says_where() {
        let bad = "a,b\n1,2\n\"open,3\n";
        let e = convert(
            bad.as_bytes(),
            &[field("a", "integer", None), field("b", "integer", None)],
            Target::Ndjson,
            0,
            Vec::new(),
        );
        // An unterminated quote runs to the end of the file: the reader accepts it as one
        // field, so the record is written; a real reading error names its line.
        assert!(e.is_ok());
        let invalid = b"a,b\n1,\xff\xfe\n";
        let e = convert(
            &invalid[..],
            &[field("a", "integer", None)],
            Target::Ndjson,
            0,
            Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }
}
