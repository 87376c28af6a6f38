//! The OData feed of a form (`…/forms/{id}.svc`), as Excel, Power BI and pyodk read ODK
//! Central's: the service document, `$metadata`, `Submissions`, one table per repeat, and one
//! submission (`Submissions('uuid:…')`, with the paths below it).
//!
//! Tables are streamed: submissions are read from the store a batch at a time (keyset paging on
//! their id, newest first) and written out as they come, so a form of a million submissions is
//! served in constant memory. `$top` with `$skip` pages `Submissions` in the database
//! (`OFFSET` once, then the keyset); `@odata.nextLink` carries a `$skiptoken` holding the last id.
//! Repeat tables are produced from their submissions in the same way; their paging counts rows,
//! so `$skip` there scans from the start.

use super::auth::Account;
use super::submission_json;
use crate::ctx::{self, Ctx};
use crate::error::{WebError, WebResult};
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use baraza_core::central::FeedSubmission;
use baraza_core::{Core, CoreError, ProjectAccess};
use baraza_odata::query::{read_skiptoken, skiptoken};
use baraza_odata::rows::Renderer;
use baraza_odata::{Filter, ODataError, Options, Resource, Schema};
use baraza_store::FormRow;
use baraza_types::ErrorCode;
use std::collections::HashMap;
use std::sync::Arc;

/// Submissions read from the store at a time.
const BATCH: u64 = 100;

fn odata_error(e: ODataError) -> WebError {
    match e {
        ODataError::Invalid(m) => {
            WebError::code(ErrorCode::OdataInvalid).with_detail(format!("raw:{m}"))
        }
        ODataError::Unsupported(m) => {
            WebError::code(ErrorCode::OdataUnsupported).with_detail(format!("raw:{m}"))
        }
        ODataError::NotFound(m) => WebError::not_found().with_detail(format!("raw:{m}")),
    }
}

fn with_headers(mut res: Response, content_type: &'static str) -> Response {
    let h = res.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert("odata-version", HeaderValue::from_static("4.0"));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

const JSON: &str = "application/json; charset=utf-8";

fn service_root(ctx: &Ctx, headers: &HeaderMap, access: &ProjectAccess, id: &str) -> String {
    format!(
        "{}/v1/projects/{}/forms/{}.svc",
        super::super::forms::base_url(ctx, headers),
        access.project.id.0,
        baraza_odata::encode_uri_component(id)
    )
}

/// `GET …/forms/{id}.svc`: the service document.
pub(crate) async fn service_document(
    ctx: &Ctx,
    access: &ProjectAccess,
    id: &str,
    headers: &HeaderMap,
) -> WebResult<Response> {
    let (_, schema) = ctx.state.core.feed_schema(access, id).await?;
    let root = service_root(ctx, headers, access, id);
    let doc = schema.service_document(&format!("{root}/$metadata"));
    let body = serde_json::to_vec(&doc).unwrap_or_default();
    Ok(with_headers((StatusCode::OK, body).into_response(), JSON))
}

/// `GET …/forms/{id}.svc/{resource}`: `$metadata`, a table, or one submission.
pub async fn feed(
    g: Account<ctx::ViewData>,
    headers: HeaderMap,
    Path(params): Path<HashMap<String, String>>,
    RawQuery(query): RawQuery,
) -> WebResult<Response> {
    let ctx = &g.ctx;
    let raw = params.get("form").ok_or_else(WebError::not_found)?;
    let id = raw.strip_suffix(".svc").ok_or_else(WebError::not_found)?;
    let resource_path = params.get("odata").map(String::as_str).unwrap_or("");
    let pairs: Vec<(String, String)> = match query.as_deref() {
        Some(q) => serde_urlencoded::from_str(q).map_err(|e| {
            WebError::code(ErrorCode::OdataInvalid).with_detail(format!("raw:query string: {e}"))
        })?,
        None => Vec::new(),
    };
    let resource = Resource::parse(resource_path).map_err(odata_error)?;
    let (form, schema) = ctx.state.core.feed_schema(&g.access, id).await?;
    if resource == Resource::Metadata {
        return Ok(with_headers(
            (StatusCode::OK, schema.edmx()).into_response(),
            "application/xml; charset=utf-8",
        ));
    }
    let options =
        Options::parse(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map_err(odata_error)?;
    let root = service_root(ctx, &headers, &g.access, id);
    let link = NextLink {
        url: format!(
            "{}{}",
            super::super::forms::base_url(ctx, &headers),
            ctx.info.original_path
        ),
        pairs,
    };
    match resource {
        Resource::Metadata => Err(WebError::not_found()),
        Resource::Table(table) => {
            // Checked now, so that a bad `$select` or table is an error, not a broken stream.
            let renderer = Renderer::new(&schema, &table, &options).map_err(odata_error)?;
            let root_table = renderer.is_root();
            let before =
                match &options.skiptoken {
                    Some(t) if root_table => Some(read_skiptoken(t).map_err(odata_error)?),
                    Some(_) => return Err(odata_error(ODataError::Invalid(
                        "$skiptoken is not one this server made; follow @odata.nextLink as given"
                            .into(),
                    ))),
                    None => None,
                };
            let count = if options.count && root_table {
                Some(
                    ctx.state
                        .core
                        .feed_count(&g.access, &form, options.filter.as_ref())
                        .await?,
                )
            } else {
                None
            };
            // `$skip` counts submissions in the database for `Submissions`, rows for repeats.
            let offset = if before.is_some() || !root_table {
                0
            } else {
                options.skip
            };
            let feed = Feed {
                core: ctx.state.core.clone(),
                access: g.access.clone(),
                form,
                filter: options.filter.clone(),
                schema: Arc::new(schema),
                table: table.clone(),
                mode: if root_table { Mode::Root } else { Mode::Repeat },
                skip_rows: if root_table { 0 } else { options.skip },
                remaining: options.top,
                options: Arc::new(options),
                before,
                offset,
                first: true,
                emitted: 0,
                rows_seen: 0,
                more: false,
                last_id: None,
                count,
                context: format!("{root}/$metadata#{table}"),
                link,
                step: Step::Start,
            };
            Ok(stream_response(feed))
        }
        Resource::Entity { instance_id, path } => {
            let sub = ctx
                .state
                .core
                .feed_submission(&g.access, &form, &instance_id)
                .await?;
            let renderer = if path.is_empty() {
                Renderer::new(&schema, "Submissions", &options)
            } else {
                Renderer::for_entity(&schema, &path, &options)
            }
            .map_err(odata_error)?;
            let rows = renderer.rows(&sub.as_odata());
            let total = rows.len() as u64;
            let skip = options.skip.min(total);
            let take = options.top.unwrap_or(total).min(total - skip);
            let more = skip + take < total;
            let table = std::iter::once("Submissions")
                .chain(path.iter().map(|(n, _)| n.as_str()))
                .collect::<Vec<_>>()
                .join(".");
            let mut body = b"{\"value\":[".to_vec();
            for (i, row) in rows
                .iter()
                .skip(skip as usize)
                .take(take as usize)
                .enumerate()
            {
                if i > 0 {
                    body.push(b',');
                }
                write_json(&mut body, row);
            }
            body.extend_from_slice(
                footer(
                    &format!("{root}/$metadata#{table}"),
                    more.then(|| link.with_skip(skip + take)),
                    options.count.then_some(total as i64),
                )
                .as_bytes(),
            );
            Ok(with_headers((StatusCode::OK, body).into_response(), JSON))
        }
    }
}

/// `GET …/forms/{id}/submissions`: Central's JSON list, streamed.
pub(crate) fn rest_list(ctx: &Ctx, access: ProjectAccess, form: FormRow) -> Response {
    let feed = Feed {
        core: ctx.state.core.clone(),
        access,
        form,
        filter: None,
        schema: Arc::new(Schema {
            xml_form_id: String::new(),
            fields: Vec::new(),
        }),
        table: String::new(),
        mode: Mode::Rest,
        skip_rows: 0,
        remaining: None,
        options: Arc::new(Options::default()),
        before: None,
        offset: 0,
        first: true,
        emitted: 0,
        rows_seen: 0,
        more: false,
        last_id: None,
        count: None,
        context: String::new(),
        link: NextLink {
            url: String::new(),
            pairs: Vec::new(),
        },
        step: Step::Start,
    };
    stream_response(feed)
}

fn write_json<T: serde::Serialize>(out: &mut Vec<u8>, v: &T) {
    // Invariant: our values serialise (strings, numbers, nulls, arrays and objects only).
    let _ = serde_json::to_writer(out, v);
}

fn footer(context: &str, next: Option<String>, count: Option<i64>) -> String {
    let mut f = String::from("],\"@odata.context\":");
    f.push_str(&serde_json::Value::from(context).to_string());
    if let Some(n) = next {
        f.push_str(",\"@odata.nextLink\":");
        f.push_str(&serde_json::Value::from(n).to_string());
    }
    if let Some(c) = count {
        f.push_str(&format!(",\"@odata.count\":{c}"));
    }
    f.push('}');
    f
}

/// The request's URL, for `@odata.nextLink`.
struct NextLink {
    url: String,
    pairs: Vec<(String, String)>,
}

impl NextLink {
    fn with(&self, key: &str, value: String) -> String {
        let mut pairs: Vec<(String, String)> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "$skip" && k != "$skiptoken")
            .cloned()
            .collect();
        pairs.push((key.to_owned(), value));
        let q = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{}?{q}", self.url)
    }

    fn with_skip(&self, skip: u64) -> String {
        self.with("$skip", skip.to_string())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The `Submissions` table.
    Root,
    /// A repeat's table.
    Repeat,
    /// Central's REST list of submissions (a JSON array).
    Rest,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Step {
    Start,
    Rows,
    Footer,
    Done,
}

struct Feed {
    core: Core,
    access: ProjectAccess,
    form: FormRow,
    filter: Option<Filter>,
    schema: Arc<Schema>,
    options: Arc<Options>,
    table: String,
    mode: Mode,
    /// The keyset: only submissions with a smaller id come next.
    before: Option<i64>,
    /// The database offset of the next read (`$skip` on `Submissions`, once).
    offset: u64,
    /// Rows still to skip (`$skip` on a repeat table).
    skip_rows: u64,
    /// Rows still to write (`$top`).
    remaining: Option<u64>,
    first: bool,
    emitted: u64,
    /// Rows of a repeat table seen, skipped or not (its `@odata.count`).
    rows_seen: u64,
    more: bool,
    last_id: Option<i64>,
    count: Option<i64>,
    context: String,
    link: NextLink,
    step: Step,
}

impl Feed {
    fn push_row<T: serde::Serialize>(&mut self, out: &mut Vec<u8>, row: &T) {
        if !self.first {
            out.push(b',');
        }
        self.first = false;
        write_json(out, row);
        self.emitted += 1;
    }

    async fn page(&self, limit: u64) -> Result<Vec<FeedSubmission>, CoreError> {
        self.core
            .feed_page(
                &self.access,
                &self.form,
                self.filter.as_ref(),
                self.before,
                self.offset,
                limit,
            )
            .await
    }

    /// The next batch of rows, written out; moves to the footer when done.
    async fn fill(&mut self) -> Result<Vec<u8>, CoreError> {
        let mut out = Vec::new();
        // The renderer borrows these while rows are written into `self`.
        let (schema, options) = (Arc::clone(&self.schema), Arc::clone(&self.options));
        let table = self.table.clone();
        match self.mode {
            Mode::Root | Mode::Rest => {
                let (limit, cap) = match self.remaining {
                    None => (BATCH, BATCH),
                    Some(r) if r >= BATCH => (BATCH, BATCH),
                    Some(r) => (r + 1, r),
                };
                let page = self.page(limit).await?;
                self.offset = 0;
                let take = (page.len() as u64).min(cap);
                let renderer = match self.mode {
                    Mode::Root => Renderer::new(&schema, &table, &options).ok(),
                    _ => None,
                };
                for sub in page.iter().take(take as usize) {
                    match &renderer {
                        Some(r) => {
                            for row in r.rows(&sub.as_odata()) {
                                self.push_row(&mut out, &row);
                            }
                        }
                        None => self.push_row(&mut out, &submission_json(sub)),
                    }
                    self.last_id = Some(sub.row.id);
                }
                self.before = self.last_id.or(self.before);
                if let Some(r) = self.remaining.as_mut() {
                    *r -= take;
                }
                if page.len() as u64 > cap {
                    self.more = true;
                    self.step = Step::Footer;
                } else if (page.len() as u64) < limit {
                    self.step = Step::Footer;
                }
            }
            Mode::Repeat => {
                let page = self.page(BATCH).await?;
                let Some(renderer) = Renderer::new(&schema, &table, &options).ok() else {
                    self.step = Step::Footer;
                    return Ok(out);
                };
                for sub in &page {
                    for row in renderer.rows(&sub.as_odata()) {
                        self.rows_seen += 1;
                        if self.skip_rows > 0 {
                            self.skip_rows -= 1;
                        } else if self.remaining == Some(0) {
                            self.more = true;
                        } else {
                            self.push_row(&mut out, &row);
                            if let Some(r) = self.remaining.as_mut() {
                                *r -= 1;
                            }
                        }
                    }
                    self.before = Some(sub.row.id);
                }
                if (page.len() as u64) < BATCH || (self.more && !self.options.count) {
                    self.step = Step::Footer;
                }
            }
        }
        Ok(out)
    }

    fn footer(&self) -> String {
        match self.mode {
            Mode::Rest => "]".to_owned(),
            Mode::Root => footer(
                &self.context,
                self.more
                    .then(|| {
                        self.last_id
                            .map(|id| self.link.with("$skiptoken", skiptoken(id)))
                    })
                    .flatten(),
                self.count,
            ),
            Mode::Repeat => footer(
                &self.context,
                self.more
                    .then(|| self.link.with_skip(self.options.skip + self.emitted)),
                self.options.count.then_some(self.rows_seen as i64),
            ),
        }
    }
}

async fn next_chunk(mut f: Feed) -> Option<(Result<Bytes, std::io::Error>, Feed)> {
    match f.step {
        Step::Done => None,
        Step::Start => {
            f.step = Step::Rows;
            let head: &'static [u8] = if f.mode == Mode::Rest {
                b"["
            } else {
                b"{\"value\":["
            };
            Some((Ok(Bytes::from_static(head)), f))
        }
        Step::Rows => match f.fill().await {
            Ok(chunk) => Some((Ok(Bytes::from(chunk)), f)),
            Err(e) => {
                // The status is sent; the only honest signal left is to break the response.
                tracing::error!(error = %e, "feed stopped");
                f.step = Step::Done;
                Some((Err(std::io::Error::other(e.to_string())), f))
            }
        },
        Step::Footer => {
            f.step = Step::Done;
            let tail = f.footer();
            Some((Ok(Bytes::from(tail)), f))
        }
    }
}

fn stream_response(feed: Feed) -> Response {
    use futures::StreamExt;
    // Fused: the compression layer may poll once more after the end.
    let stream = futures::stream::unfold(feed, next_chunk).fuse();
    with_headers(
        (StatusCode::OK, Body::from_stream(stream)).into_response(),
        JSON,
    )
}
