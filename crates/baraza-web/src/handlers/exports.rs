//! Exports of a form's submissions, streamed in constant memory: CSV (the root table, the
//! submissions page's `.csv` twin), a zip of CSVs (one per table, as ODK Central's `.csv.zip`),
//! XLSX (one sheet per table), JSON (nested documents) and GeoJSON.
//!
//! # How a download flows
//!
//! ```text
//! reader task (async) ──batches of 1,000 rows, at most 2 waiting──▶ writer thread (blocking)
//!   core.export_batch, keyset                                         baraza-publish writers
//!                                                                        │ 64 KiB chunks, at most 8 waiting
//!                                                   HTTP body ◀──────────┘
//! ```
//!
//! Both channels are bounded, so a slow client slows the writer, which slows the reader: memory
//! stays flat whatever the number of rows. Each batch is a short keyset query (no transaction
//! held open while a client downloads). Formats of several tables read the submissions once per
//! table, bound to the ids that existed when the download began. A client that goes away stops
//! both at their next step. An error after the first byte can only cut the body short (the
//! client sees an incomplete transfer); it is logged.

use super::views::ProjectView;
use crate::ctx::{ProjectGuard, ViewData};
use crate::error::{WebError, WebResult};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderValue};
use axum::response::Response;
use baraza_core::listing::{FilterParams, SubmissionSource};
use baraza_core::{Core, ProjectAccess};
use baraza_publish::csv::CsvSink;
use baraza_publish::geojson::GeoJsonWriter;
use baraza_publish::json::JsonWriter;
use baraza_publish::table::{write_header, write_hxl_row};
use baraza_publish::xlsx::XlsxWriter;
use baraza_publish::zip::ZipStream;
use baraza_publish::{parse_values, Flattener, Meta};
use baraza_store::{ListedSubmission, SubmissionQuery, SubmitterRef};
use baraza_types::ErrorCode;
use std::collections::HashMap;
use std::io::{self, Write};
use tokio::sync::mpsc;

/// Rows read per database round trip.
const BATCH: i64 = 1000;
/// Batches read ahead of the writer.
const BATCHES_AHEAD: usize = 2;
/// Bytes per body chunk, and chunks waiting for the client.
const CHUNK: usize = 64 * 1024;
const CHUNKS_AHEAD: usize = 8;

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The root table as CSV.
    Csv,
    /// Every table as CSV, in a zip archive.
    CsvZip,
    Xlsx,
    Json,
    /// A FeatureCollection whose geometries come from this root field.
    GeoJson(usize),
}

impl Format {
    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::CsvZip => "application/zip",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Json => "application/json",
            Format::GeoJson(_) => "application/geo+json",
        }
    }

    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::CsvZip => "csv.zip",
            Format::Xlsx => "xlsx",
            Format::Json => "json",
            Format::GeoJson(_) => "geojson",
        }
    }
}

/// What an export is asked for besides its filters.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Options {
    /// GeoJSON's geometry field.
    pub geo: Option<String>,
    /// `hxl=1`: the HXL hashtag row after the header (CSV, CSV zip, XLSX), as KoboToolbox's
    /// "include HXL hashtags" export option; written only when the form tags some question.
    pub hxl: bool,
}

/// Reads the query string: the filters, `geo` for GeoJSON and `hxl`. A parameter given twice is
/// refused (which one applies would be a guess).
pub(crate) fn read_params(raw: Option<&str>) -> WebResult<(FilterParams, Options)> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| WebError::code(ErrorCode::BadRequest))?;
    let mut p = FilterParams::default();
    let mut geo = None;
    let mut hxl: Option<bool> = None;
    let mut seen: Vec<&'static str> = Vec::new();
    for (k, v) in pairs {
        let slot: (&'static str, &mut String) = match k.as_str() {
            "review" => ("review", &mut p.review),
            "submitter" => ("submitter", &mut p.submitter),
            "from" => ("from", &mut p.from),
            "to" => ("to", &mut p.to),
            "question" => ("question", &mut p.question),
            "op" => ("op", &mut p.op),
            "value" => ("value", &mut p.value),
            "sort" => ("sort", &mut p.sort),
            "after" => ("after", &mut p.after),
            "geo" => {
                if geo.replace(v).is_some() {
                    return Err(duplicate("geo"));
                }
                continue;
            }
            "hxl" => {
                let on = match v.as_str() {
                    "1" | "true" | "yes" | "on" => true,
                    "" | "0" | "false" | "no" | "off" => false,
                    _ => return Err(invalid("hxl", "filter.hxl")),
                };
                if hxl.replace(on).is_some() {
                    return Err(duplicate("hxl"));
                }
                continue;
            }
            _ => continue,
        };
        if seen.contains(&slot.0) {
            return Err(duplicate(slot.0));
        }
        seen.push(slot.0);
        *slot.1 = v;
    }
    Ok((
        p,
        Options {
            geo,
            hxl: hxl.unwrap_or(false),
        },
    ))
}

fn duplicate(field: &'static str) -> WebError {
    let mut e = WebError::code(ErrorCode::ValidationFailed).with_detail("invalid.filter.duplicate");
    e.0.args.push(("field", field.to_owned()));
    e
}

fn invalid(field: &'static str, reason: &'static str) -> WebError {
    baraza_core::CoreError::Invalid { field, reason }.into()
}

/// `attachment` with a file name safe in any header, and the exact one for clients that read
/// RFC 6266's `filename*`.
pub(crate) fn content_disposition(name: &str) -> HeaderValue {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let exact = crate::middleware::url_encode(name).replace('/', "%2F");
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{exact}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("attachment"))
}

/// Answers an export: checks the filters before the first byte (a bad one is a 422 naming its
/// parameter), then streams.
pub(crate) async fn export(
    core: Core,
    access: ProjectAccess,
    source: SubmissionSource,
    params: &FilterParams,
    format: Format,
    hxl: bool,
) -> WebResult<Response> {
    let filter = source.filter(params)?;
    let query = core
        .export_query(&access, &source, &filter, format.extension())
        .await?;
    let passes = match format {
        Format::CsvZip | Format::Xlsx => source.schema.tables.len(),
        _ => 1,
    };
    let now = core.now();
    let (batch_tx, batch_rx) = mpsc::channel(BATCHES_AHEAD);
    let (body_tx, mut body_rx) = mpsc::channel::<Result<Bytes, io::Error>>(CHUNKS_AHEAD);
    let file_name = format!(
        "{}.{}",
        baraza_publish::schema::safe_file_name(&source.form.xml_form_id),
        format.extension()
    );
    tokio::spawn(read_batches(
        core,
        access,
        source.clone(),
        query,
        passes,
        batch_tx,
    ));
    tokio::task::spawn_blocking(move || write_export(format, &source, hxl, now, batch_rx, body_tx));
    let stream = futures::stream::poll_fn(move |cx| body_rx.poll_recv(cx));
    let mut res = Response::new(Body::from_stream(stream));
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    h.insert(header::CONTENT_DISPOSITION, content_disposition(&file_name));
    // Exports hold personal data: never kept by caches.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

/// What the reader sends the writer.
enum Msg {
    Rows(Vec<ListedSubmission>),
    /// The end of one pass over the submissions.
    EndOfPass,
}

async fn read_batches(
    core: Core,
    access: ProjectAccess,
    source: SubmissionSource,
    query: SubmissionQuery,
    passes: usize,
    tx: mpsc::Sender<Result<Msg, String>>,
) {
    for _ in 0..passes {
        let mut after = None;
        loop {
            let rows = match core
                .export_batch(&access, &source, &query, after, BATCH)
                .await
            {
                Ok(rows) => rows,
                Err(e) => {
                    tracing::error!(error = %e, "export: reading submissions failed");
                    let _ = tx.send(Err(e.to_string())).await;
                    return;
                }
            };
            let full = rows.len() as i64 == BATCH;
            after = rows.last().map(ListedSubmission::cursor);
            if !rows.is_empty() && tx.send(Ok(Msg::Rows(rows))).await.is_err() {
                return; // The download was abandoned.
            }
            if !full {
                break;
            }
        }
        if tx.send(Ok(Msg::EndOfPass)).await.is_err() {
            return;
        }
    }
}

/// The HTTP body, as a writer: bytes are handed over in chunks, waiting while the client is
/// behind; a client that went away is a `BrokenPipe` error.
pub(crate) struct BodyWriter {
    tx: mpsc::Sender<Result<Bytes, io::Error>>,
    buf: Vec<u8>,
}

impl BodyWriter {
    pub(crate) fn new(tx: mpsc::Sender<Result<Bytes, io::Error>>) -> Self {
        BodyWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for BodyWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// The writer's side: takes batches, writes the format.
struct Rows {
    rx: mpsc::Receiver<Result<Msg, String>>,
}

impl Rows {
    /// Calls `each` for every row of the current pass.
    fn pass(
        &mut self,
        mut each: impl FnMut(&ListedSubmission) -> io::Result<()>,
    ) -> io::Result<()> {
        loop {
            match self.rx.blocking_recv() {
                Some(Ok(Msg::Rows(rows))) => {
                    for r in &rows {
                        each(r)?;
                    }
                }
                Some(Ok(Msg::EndOfPass)) => return Ok(()),
                Some(Err(e)) => return Err(io::Error::other(e)),
                None => return Err(io::Error::other("export reader stopped")),
            }
        }
    }
}

/// A row's system fields.
struct RowMeta {
    submitter_id: Option<String>,
}

impl RowMeta {
    fn of(r: &ListedSubmission) -> RowMeta {
        RowMeta {
            submitter_id: r.submitter.map(|s| match s {
                SubmitterRef::AppUser(id) => format!("app:{id}"),
                SubmitterRef::User(id) => format!("user:{id}"),
            }),
        }
    }

    fn meta<'a>(&'a self, r: &'a ListedSubmission) -> Meta<'a> {
        Meta {
            key: &r.root_instance_id,
            instance_id: &r.instance_id,
            received_at: r.received_at,
            submitter_id: self.submitter_id.as_deref(),
            submitter_name: r.submitter_name.as_deref(),
            attachments_present: r.attachments_present,
            attachments_expected: r.attachments_expected,
            review_state: &r.review_state,
            edits: r.edits,
            form_version: &r.form_version,
        }
    }
}

/// A record's values; a record whose stored values cannot be read is written with its system
/// fields only (and logged), rather than stopping the export.
fn values_of(r: &ListedSubmission) -> Vec<baraza_publish::StoredValue<'_>> {
    parse_values(&r.values_json).unwrap_or_else(|e| {
        tracing::error!(submission = r.id, error = %e, "export: unreadable stored values");
        Vec::new()
    })
}

fn write_export(
    format: Format,
    source: &SubmissionSource,
    hxl: bool,
    now: i64,
    rx: mpsc::Receiver<Result<Msg, String>>,
    body: mpsc::Sender<Result<Bytes, io::Error>>,
) {
    let out = BodyWriter::new(body.clone());
    let mut rows = Rows { rx };
    let schema = &*source.schema;
    let result = (|| -> io::Result<()> {
        match format {
            Format::Csv => {
                let mut sink = CsvSink::new(out);
                write_header(schema, 0, &mut sink)?;
                if hxl {
                    write_hxl_row(schema, 0, &mut sink)?;
                }
                let mut f = Flattener::new(schema);
                rows.pass(|r| {
                    let m = RowMeta::of(r);
                    f.root_row(&m.meta(r), &values_of(r), &mut sink)
                })?;
                sink.finish()?;
            }
            Format::CsvZip => {
                let mut zip = ZipStream::new(out, now);
                let mut f = Flattener::new(schema);
                for (t, table) in schema.tables.iter().enumerate() {
                    zip.start(&format!("{}.csv", table.file_stem))?;
                    let mut sink = CsvSink::new(&mut zip);
                    write_header(schema, t, &mut sink)?;
                    if hxl {
                        write_hxl_row(schema, t, &mut sink)?;
                    }
                    rows.pass(|r| {
                        let m = RowMeta::of(r);
                        let values = values_of(r);
                        if t == 0 {
                            f.root_row(&m.meta(r), &values, &mut sink)
                        } else {
                            f.repeat_rows(t, &m.meta(r), &values, &mut sink).map(|_| ())
                        }
                    })?;
                    sink.finish()?;
                }
                zip.finish()?;
            }
            Format::Xlsx => {
                let mut x = XlsxWriter::new(out, now)?;
                let mut f = Flattener::new(schema);
                for (t, table) in schema.tables.iter().enumerate() {
                    x.start_sheet(&table.sheet)?;
                    write_header(schema, t, &mut x)?;
                    if hxl {
                        write_hxl_row(schema, t, &mut x)?;
                    }
                    rows.pass(|r| {
                        let m = RowMeta::of(r);
                        let values = values_of(r);
                        if t == 0 {
                            f.root_row(&m.meta(r), &values, &mut x)
                        } else {
                            f.repeat_rows(t, &m.meta(r), &values, &mut x).map(|_| ())
                        }
                    })?;
                }
                x.finish()?;
            }
            Format::Json => {
                let mut w = JsonWriter::new(out)?;
                rows.pass(|r| {
                    let m = RowMeta::of(r);
                    w.record(schema, &m.meta(r), &values_of(r))
                })?;
                w.finish()?;
            }
            Format::GeoJson(geo) => {
                let mut w = GeoJsonWriter::new(out, schema, geo)?;
                rows.pass(|r| {
                    let m = RowMeta::of(r);
                    w.record(&m.meta(r), &values_of(r)).map(|_| ())
                })?;
                w.finish()?;
            }
        }
        Ok(())
    })();
    if let Err(e) = result {
        if e.kind() != io::ErrorKind::BrokenPipe {
            tracing::error!(error = %e, "export failed; the download is cut short");
            let _ = body.blocking_send(Err(e));
        }
    }
}

fn form_param(params: &HashMap<String, String>) -> WebResult<String> {
    params.get("form").cloned().ok_or_else(WebError::not_found)
}

async fn answer(
    g: ProjectGuard<ViewData>,
    params: HashMap<String, String>,
    raw: Option<String>,
    pick: impl FnOnce(&SubmissionSource, Option<&str>) -> WebResult<Format>,
) -> WebResult<Response> {
    let id = form_param(&params)?;
    let (filters, options) = read_params(raw.as_deref())?;
    let core = g.ctx.state.core.clone();
    // The format may depend on the form (GeoJSON's field), so it is checked before streaming.
    let source = core.submission_source(&g.access, &id).await?;
    let format = pick(&source, options.geo.as_deref())?;
    export(core, g.access, source, &filters, format, options.hxl).await
}

/// `GET …/forms/{form}/submissions.csv.zip`.
pub async fn csv_zip(
    g: ProjectGuard<ViewData>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    answer(g, params, raw, |_, _| Ok(Format::CsvZip)).await
}

/// `GET …/forms/{form}/submissions.xlsx`.
pub async fn xlsx(
    g: ProjectGuard<ViewData>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    answer(g, params, raw, |_, _| Ok(Format::Xlsx)).await
}

/// `GET …/forms/{form}/submissions.geojson[?geo=QUESTION]`.
pub async fn geojson(
    g: ProjectGuard<ViewData>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    answer(g, params, raw, |source, geo| {
        let schema = &source.schema;
        let field = match geo.map(str::trim).filter(|g| !g.is_empty()) {
            Some(name) => schema
                .root_field(name)
                .filter(|&f| schema.fields[f].kind.is_geo())
                .ok_or_else(|| invalid("geo", "filter.geo"))?,
            None => schema
                .default_geo()
                .ok_or_else(|| invalid("geo", "filter.no_geo"))?,
        };
        Ok(Format::GeoJson(field))
    })
    .await
}

/// `GET /api/v1/projects/{org}/{project}/forms/{form}/submissions`: every submission as a JSON
/// array of nested documents.
pub async fn json(
    g: ProjectGuard<ViewData>,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(raw): RawQuery,
) -> WebResult<Response> {
    answer(g, params, raw, |_, _| Ok(Format::Json)).await
}

/// The export links of a form's submissions, carrying the filters in use.
#[derive(Debug, Clone, serde::Serialize)]
pub struct ExportLinks {
    pub csv: String,
    pub csv_zip: String,
    pub xlsx: String,
    pub json: String,
    /// `None` when the form has no geopoint, geotrace or geoshape outside repeats.
    pub geojson: Option<String>,
}

impl ExportLinks {
    pub fn new(project: &ProjectView, source: &SubmissionSource, filters: &FilterParams) -> Self {
        let query = serde_urlencoded::to_string(filters.pairs()).unwrap_or_default();
        let q = if query.is_empty() {
            String::new()
        } else {
            format!("?{query}")
        };
        let id = &source.form.xml_form_id;
        let base = format!("{}/forms/{id}/submissions", project.url);
        let api = format!(
            "/api/v1/projects/{}/{}/forms/{id}/submissions",
            project.org, project.slug
        );
        ExportLinks {
            csv: format!("{base}.csv{q}"),
            csv_zip: format!("{base}.csv.zip{q}"),
            xlsx: format!("{base}.xlsx{q}"),
            json: format!("{api}{q}"),
            geojson: source
                .schema
                .default_geo()
                .map(|_| format!("{base}.geojson{q}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters() {
        let (p, o) = read_params(Some("review=approved&x=1&geo=gps&value=a%26b")).unwrap();
        assert_eq!(p.review, "approved");
        assert_eq!(p.value, "a&b");
        assert_eq!(o.geo.as_deref(), Some("gps"));
        assert!(!o.hxl);
        assert!(read_params(Some("review=a&review=b")).is_err());
        assert!(read_params(Some("hxl=1")).unwrap().1.hxl);
        assert!(!read_params(Some("hxl=false")).unwrap().1.hxl);
        assert!(read_params(Some("hxl=peut-etre")).is_err());
        assert!(read_params(Some("hxl=1&hxl=0")).is_err());
        assert!(read_params(None).is_ok());
    }

    #[test]
    fn file_names_are_safe_in_headers() {
        let v = content_disposition("eau \"potable\"\r\n.csv");
        let s = v.to_str().unwrap();
        assert!(
            s.starts_with("attachment; filename=\"eau__potable___.csv\""),
            "{s}"
        );
        assert!(
            s.contains("filename*=UTF-8''eau%20%22potable%22%0D%0A.csv"),
            "{s}"
        );
        let v = content_disposition("relevé.xlsx");
        assert!(v.to_str().unwrap().contains("relev%C3%A9.xlsx"));
    }
}
