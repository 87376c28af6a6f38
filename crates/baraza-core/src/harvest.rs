//! Harvesting in: another catalogue's datasets (a CKAN Action API, or a DCAT catalogue in
//! Turtle or RDF/XML) imported into a project, incrementally and idempotently.
//!
//! - **Idempotent.** A harvested dataset is keyed by (source, remote identifier). The
//!   normalised remote record's hash is kept: an equal hash writes nothing; a different one
//!   replaces the metadata and the link resources in place (one transaction per dataset).
//! - **Incremental.** A run reads only what changed since the source's watermark (the highest
//!   remote modification seen by the last good run, minus [`WATERMARK_OVERLAP_SECS`]). A full
//!   run reads everything and withdraws (makes draft) what the remote no longer lists.
//! - **Read-only.** A harvested dataset is edited on its source; here the edit forms refuse.
//! - **Safe.** Only http and https; private, loopback and link-local addresses are refused
//!   (checked at every DNS answer, so redirects and rebinding are covered) unless the
//!   configuration allows them; every answer is size-bounded, every request time-bounded;
//!   pages and datasets per run are bounded. One bad record is logged and skipped; a
//!   transport failure fails the run and keeps the watermark.
//! - **One run at a time per source**, across servers: a lock on the source's row.

use crate::access::ProjectAccess;
use crate::audit::{Actor, Target};
use crate::catalogue::new_uuid;
use crate::{Core, CoreError};
use baraza_catalogue::harvest::{self as h, PageError, RdfSyntax, RemoteDataset};
use baraza_catalogue::{licences, DatasetState, ResourceKind, Source};
use baraza_store::{
    DatasetWrite, HarvestCounts, HarvestRunRow, HarvestSourceRow, HarvestSourceWrite, HarvestWrite,
    HarvestedRow, ResourceWrite,
};
use baraza_types::{Permission, ProjectId};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// Largest answer read per page.
pub const MAX_PAGE_BYTES: usize = 20 * 1024 * 1024;
/// Most pages read per run.
pub const MAX_PAGES: usize = 500;
/// Most datasets read per run.
pub const MAX_DATASETS: usize = 20_000;
/// Datasets asked per CKAN page.
pub const CKAN_ROWS: usize = 100;
/// How far the watermark is set back from the newest remote change, for clocks that disagree
/// and changes committed while a page was read.
pub const WATERMARK_OVERLAP_SECS: i64 = 600;
/// How long a run may hold its source (a crashed run's lock expires after this).
pub const RUN_LOCK_SECS: i64 = 3600;
/// A full run is made at least this often (it is what withdraws vanished datasets).
pub const FULL_RUN_EVERY_SECS: i64 = 7 * 86_400;
/// Longest error log kept per run.
const MAX_LOG_BYTES: usize = 16 * 1024;
/// Per-request time limit.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const MAX_REDIRECTS: usize = 5;
/// Languages preferred for titles and descriptions read from DCAT.
const LANGS: [&str; 2] = ["fr", "en"];

pub const KINDS: [&str; 2] = ["ckan", "dcat"];
pub const SCHEDULES: [&str; 3] = ["manual", "daily", "weekly"];

/// A source's settings as a form gives them.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct SourceInput {
    pub title: String,
    pub url: String,
    pub kind: String,
    pub filter: String,
    pub default_licence: String,
    pub schedule: String,
}

/// A source with its latest runs, for its page.
#[derive(Debug, Clone, serde::Serialize)]
pub struct SourceView {
    pub source: HarvestSourceRow,
    pub runs: Vec<HarvestRunRow>,
    /// How many datasets it holds here.
    pub datasets: usize,
}

// ---------------------------------------------------------------------------------------------
// Outbound HTTP

/// Whether an address is one a harvest may not reach by default: loopback, private,
/// link-local, shared (CGNAT), unspecified, multicast, broadcast, documentation, unique-local.
pub fn forbidden_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || o[0] >= 240
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return forbidden_address(IpAddr::V4(v4));
            }
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || s[0] == 0x2001 && s[1] == 0x0db8
                || s[0] == 0x0064 && s[1] == 0xff9b
        }
    }
}

/// A DNS resolver that drops forbidden addresses (and fails when none is left), so that no
/// connection — the first request's, a redirect's, a rebinding's — reaches them.
struct GuardedResolver {
    allow_private: bool,
}

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allow = self.allow_private;
        let host = name.as_str().to_string();
        Box::pin(async move {
            let addrs: Vec<std::net::SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| allow || !forbidden_address(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} resolves only to forbidden addresses").into());
            }
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Why a fetch failed (the whole run fails: the watermark stays where it was).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("the address {0} is not an http:// or https:// URL")]
    BadUrl(String),
    #[error("the address {0} is private, loopback or link-local, and harvest_allow_private_addresses is off")]
    Forbidden(String),
    #[error("{url} could not be reached: {detail}")]
    Transport { url: String, detail: String },
    #[error("{url} answered HTTP {status}")]
    Status { url: String, status: u16 },
    #[error("{url} answered more than {limit} bytes")]
    TooLarge { url: String, limit: usize },
}

/// The harvest's HTTP client.
pub struct Fetcher {
    client: reqwest::Client,
    allow_private: bool,
}

impl Fetcher {
    pub fn new(allow_private: bool) -> Result<Fetcher, CoreError> {
        let policy = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                return attempt.error("too many redirects");
            }
            let u = attempt.url();
            if !matches!(u.scheme(), "http" | "https") {
                return attempt.error("redirected to a URL that is not http or https");
            }
            if let Some(ip) = literal_ip(u) {
                if !allow_private && forbidden_address(ip) {
                    return attempt.error("redirected to a forbidden address");
                }
            }
            attempt.follow()
        });
        let client = reqwest::Client::builder()
            .user_agent(concat!("Baraza-harvester/", env!("CARGO_PKG_VERSION")))
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .redirect(policy)
            .dns_resolver(Arc::new(GuardedResolver { allow_private }))
            .build()
            .map_err(|e| CoreError::Internal(format!("harvest client: {e}")))?;
        Ok(Fetcher {
            client,
            allow_private,
        })
    }

    /// The guarded client (private addresses refused as configured), for other outgoing calls.
    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// Checks a URL before it is asked: scheme, host, and (for an address or a name) that it
    /// does not lead to a forbidden address.
    pub async fn check(&self, raw: &str) -> Result<url::Url, FetchError> {
        let u = url::Url::parse(raw).map_err(|_| FetchError::BadUrl(raw.to_string()))?;
        if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
            return Err(FetchError::BadUrl(raw.to_string()));
        }
        if self.allow_private {
            return Ok(u);
        }
        let host = u.host_str().unwrap_or_default().to_string();
        if let Some(ip) = literal_ip(&u) {
            return if forbidden_address(ip) {
                Err(FetchError::Forbidden(host))
            } else {
                Ok(u)
            };
        }
        let port = u.port_or_known_default().unwrap_or(80);
        let looked = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map(|a| a.collect::<Vec<_>>());
        match looked {
            Ok(addrs) => {
                if !addrs.is_empty() && addrs.iter().all(|a| forbidden_address(a.ip())) {
                    return Err(FetchError::Forbidden(host));
                }
                Ok(u)
            }
            Err(e) => Err(FetchError::Transport {
                url: raw.to_string(),
                detail: format!("the name {host} does not resolve ({e})"),
            }),
        }
    }

    /// GETs a URL; its content type and at most [`MAX_PAGE_BYTES`] of body.
    pub async fn get(&self, raw: &str, accept: &str) -> Result<(String, Vec<u8>), FetchError> {
        let u = self.check(raw).await?;
        let transport = |e: reqwest::Error| FetchError::Transport {
            url: raw.to_string(),
            detail: error_chain(&e),
        };
        let mut res = self
            .client
            .get(u)
            .header(reqwest::header::ACCEPT, accept)
            .send()
            .await
            .map_err(transport)?;
        if !res.status().is_success() {
            return Err(FetchError::Status {
                url: raw.to_string(),
                status: res.status().as_u16(),
            });
        }
        let too_large = || FetchError::TooLarge {
            url: raw.to_string(),
            limit: MAX_PAGE_BYTES,
        };
        if res
            .content_length()
            .is_some_and(|n| n > MAX_PAGE_BYTES as u64)
        {
            return Err(too_large());
        }
        let ct = res
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let mut body = Vec::new();
        while let Some(chunk) = res.chunk().await.map_err(transport)? {
            if body.len() + chunk.len() > MAX_PAGE_BYTES {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok((ct, body))
    }
}

fn literal_ip(u: &url::Url) -> Option<IpAddr> {
    match u.host()? {
        url::Host::Ipv4(a) => Some(IpAddr::V4(a)),
        url::Host::Ipv6(a) => Some(IpAddr::V6(a)),
        url::Host::Domain(_) => None,
    }
}

/// A reqwest error with its causes ("error sending request: … : connection refused").
fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !s.contains(&t) {
            s.push_str(": ");
            s.push_str(&t);
        }
        cur = c.source();
    }
    s
}

/// The Action API base (ending in `/`) for what a manager typed: an API base, or a site root.
pub fn ckan_api_base(url: &str) -> String {
    let u = url.trim().trim_end_matches('/');
    if u.ends_with("/api/3/action") || u.ends_with("/api/action") {
        format!("{u}/")
    } else if u.ends_with("/api/3") || u.ends_with("/api") {
        format!("{u}/action/")
    } else {
        format!("{u}/api/3/action/")
    }
}

/// The site root of a CKAN Action API base (for the datasets' original pages).
fn ckan_site(api: &str) -> String {
    let a = api.trim_end_matches('/');
    for suffix in ["/api/3/action", "/api/action"] {
        if let Some(s) = a.strip_suffix(suffix) {
            return s.to_string();
        }
    }
    a.to_string()
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

// ---------------------------------------------------------------------------------------------
// A run

/// What one run collects as it goes.
struct RunState {
    counts: HarvestCounts,
    log: String,
    seen: HashSet<String>,
    /// The newest remote modification read.
    newest: Option<i64>,
    /// Whether every dataset of the source was read (a bounded run may stop early).
    complete: bool,
    read: usize,
    /// The source's harvested datasets, by remote id (kept up to date as the run writes).
    known: HashMap<String, HarvestedRow>,
}

impl RunState {
    fn note(&mut self, line: &str) {
        if self.log.len() + line.len() + 1 > MAX_LOG_BYTES {
            if !self.log.ends_with("…\n") {
                self.log.push_str("…\n");
            }
            return;
        }
        self.log.push_str(line);
        self.log.push('\n');
    }
    fn error(&mut self, line: &str) {
        self.counts.errors += 1;
        self.note(line);
    }
}

fn check_input(i: &SourceInput) -> Result<(), CoreError> {
    let bad = |field, reason| Err(CoreError::Invalid { field, reason });
    if i.title.trim().is_empty() || i.title.chars().count() > 200 {
        return bad("title", "harvest_title");
    }
    let u = i.url.trim();
    if u.len() > 2000
        || url::Url::parse(u)
            .ok()
            .filter(|p| matches!(p.scheme(), "http" | "https") && p.host_str().is_some())
            .is_none()
    {
        return bad("url", "harvest_url");
    }
    if !KINDS.contains(&i.kind.as_str()) {
        return bad("kind", "harvest_kind");
    }
    if !SCHEDULES.contains(&i.schedule.as_str()) {
        return bad("schedule", "harvest_schedule");
    }
    if i.filter.len() > 500 || i.filter.chars().any(char::is_control) {
        return bad("filter", "harvest_filter");
    }
    if licences::licence(&i.default_licence).is_none() {
        return bad("default_licence", "licence_unknown");
    }
    Ok(())
}

fn write_of(i: &SourceInput) -> HarvestSourceWrite<'_> {
    HarvestSourceWrite {
        title: i.title.trim(),
        url: i.url.trim(),
        kind: &i.kind,
        filter: i.filter.trim(),
        default_licence: &i.default_licence,
        schedule: &i.schedule,
    }
}

impl Core {
    fn fetcher(&self) -> Result<Fetcher, CoreError> {
        Fetcher::new(self.settings.harvest_allow_private_addresses)
    }

    /// A project's sources with their latest runs.
    pub async fn harvest_sources(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<SourceView>, CoreError> {
        access.require(Permission::PublishData)?;
        let cat = self.catalogue().await?;
        let mut out = Vec::new();
        for s in self
            .store
            .harvest_sources(Some(access.project.id.0))
            .await?
        {
            let runs = self.store.harvest_runs(s.id, 10).await?;
            let datasets = cat
                .index
                .all()
                .filter(|d| matches!(&d.source, Source::Harvest { source_id, .. } if *source_id == s.id))
                .count();
            out.push(SourceView {
                source: s,
                runs,
                datasets,
            });
        }
        Ok(out)
    }

    /// One source of the access's project, or `NotFound`.
    pub async fn harvest_source(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<HarvestSourceRow, CoreError> {
        access.require(Permission::PublishData)?;
        self.store
            .harvest_source(id)
            .await?
            .filter(|s| s.project_id == access.project.id.0)
            .ok_or(CoreError::NotFound {
                what: "harvest_source",
            })
    }

    /// Adds a source to the access's project; returns its id.
    pub async fn create_harvest_source(
        &self,
        access: &ProjectAccess,
        input: SourceInput,
    ) -> Result<i64, CoreError> {
        access.require(Permission::PublishData)?;
        check_input(&input)?;
        let id = self
            .store
            .insert_harvest_source(
                access.project.id.0,
                &write_of(&input),
                access.user.map(|u| u.0),
                self.now(),
            )
            .await?;
        self.audit(
            Actor::of_access(access),
            "harvest.source_create",
            &Target::project(access.project.id),
            json!({ "source": id, "title": input.title.trim(), "url": input.url.trim(), "kind": input.kind }),
        )
        .await?;
        Ok(id)
    }

    /// Changes a source's settings.
    pub async fn update_harvest_source(
        &self,
        access: &ProjectAccess,
        id: i64,
        input: SourceInput,
    ) -> Result<(), CoreError> {
        let before = self.harvest_source(access, id).await?;
        check_input(&input)?;
        self.store
            .update_harvest_source(id, &write_of(&input), self.now())
            .await?;
        self.audit(
            Actor::of_access(access),
            "harvest.source_update",
            &Target::project(access.project.id),
            json!({ "source": id, "title": input.title.trim(), "url": input.url.trim(),
                    "was_url": before.url, "kind": input.kind, "schedule": input.schedule }),
        )
        .await?;
        Ok(())
    }

    /// Deletes a source and the datasets harvested from it.
    pub async fn delete_harvest_source(
        &self,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<(), CoreError> {
        let s = self.harvest_source(access, id).await?;
        if s.locked_until.is_some_and(|t| t >= self.now()) {
            return Err(CoreError::HarvestRunning);
        }
        let n = self.store.delete_harvest_source(id).await?;
        self.audit(
            Actor::of_access(access),
            "harvest.source_delete",
            &Target::project(access.project.id),
            json!({ "source": id, "title": s.title, "url": s.url, "datasets_deleted": n }),
        )
        .await?;
        Ok(())
    }

    /// "Harvest now", by a manager: runs the source and returns the run.
    pub async fn harvest_now(
        &self,
        access: &ProjectAccess,
        id: i64,
        full: bool,
    ) -> Result<HarvestRunRow, CoreError> {
        let s = self.harvest_source(access, id).await?;
        self.run_harvest(&s, full, Actor::of_access(access)).await
    }

    /// Runs every source that is due (`all`: every source, due or not); the runs made. A
    /// source another server is running is skipped.
    pub async fn run_due_harvests(
        &self,
        only: Option<i64>,
        all: bool,
    ) -> Result<Vec<(HarvestSourceRow, Result<HarvestRunRow, CoreError>)>, CoreError> {
        let now = self.now();
        let mut out = Vec::new();
        for s in self.store.harvest_sources(None).await? {
            if only.is_some_and(|id| id != s.id) {
                continue;
            }
            let every = match s.schedule.as_str() {
                "daily" => Some(86_400),
                "weekly" => Some(7 * 86_400),
                _ => None,
            };
            let due = only.is_some()
                || all
                || every.is_some_and(|e| s.last_run_at.is_none_or(|t| t + e <= now));
            if !due {
                continue;
            }
            let r = self.run_harvest(&s, false, Actor::System).await;
            if matches!(r, Err(CoreError::HarvestRunning)) && only.is_none() {
                continue;
            }
            out.push((s, r));
        }
        Ok(out)
    }

    /// One run of a source: full when asked, when there is no watermark yet, or when the last
    /// full run is older than [`FULL_RUN_EVERY_SECS`]; incremental otherwise.
    pub async fn run_harvest(
        &self,
        s: &HarvestSourceRow,
        full: bool,
        actor: Actor,
    ) -> Result<HarvestRunRow, CoreError> {
        let now = self.now();
        let token = new_uuid();
        if !self
            .store
            .lock_harvest_source(s.id, &token, now, now + RUN_LOCK_SECS)
            .await?
        {
            return Err(CoreError::HarvestRunning);
        }
        let result = self.run_locked(s, full, now).await;
        // The lock is given back whatever happened (a crash leaves it to expire).
        let unlocked = self.store.unlock_harvest_source(s.id, &token).await;
        let run = result?;
        unlocked?;
        self.audit(
            actor,
            "harvest.run",
            &Target::project(ProjectId(s.project_id)),
            json!({ "source": s.id, "run": run.id, "full": run.full, "status": run.status,
                    "created": run.counts.created, "updated": run.counts.updated,
                    "unchanged": run.counts.unchanged, "withdrawn": run.counts.withdrawn,
                    "errors": run.counts.errors }),
        )
        .await?;
        Ok(run)
    }

    async fn run_locked(
        &self,
        s: &HarvestSourceRow,
        asked_full: bool,
        now: i64,
    ) -> Result<HarvestRunRow, CoreError> {
        let last_full = self
            .store
            .harvest_runs(s.id, 50)
            .await?
            .into_iter()
            .filter(|r| r.full && r.status != "failed" && r.status != "running")
            .map(|r| r.started_at)
            .max();
        let full = asked_full
            || s.watermark.is_none()
            || last_full.is_none_or(|t| t + FULL_RUN_EVERY_SECS <= now);
        let since = if full { None } else { s.watermark };
        let run_id = self.store.start_harvest_run(s.id, full, now).await?;
        let mut st = RunState {
            counts: HarvestCounts::default(),
            log: String::new(),
            seen: HashSet::new(),
            newest: None,
            complete: true,
            read: 0,
            known: self.store.harvested(s.id).await?,
        };
        let fetched = match self.fetcher() {
            Ok(f) => match s.kind.as_str() {
                "ckan" => self.harvest_ckan(&f, s, since, &mut st).await,
                _ => self.harvest_dcat(&f, s, since, &mut st).await,
            },
            Err(e) => Err(e.to_string()),
        };
        let (status, watermark) = match fetched {
            Ok(()) => {
                if full && st.complete {
                    self.withdraw_missing(s, &mut st).await?;
                } else if full {
                    st.note("the run stopped at its limits: nothing was withdrawn");
                }
                let status = if st.counts.errors > 0 || !st.complete {
                    "partial"
                } else {
                    "ok"
                };
                // The watermark moves only forward, and only past what was read.
                let wm = st
                    .newest
                    .map(|n| n - WATERMARK_OVERLAP_SECS)
                    .filter(|w| s.watermark.is_none_or(|old| *w > old));
                (status, wm)
            }
            Err(e) => {
                st.note(&e);
                ("failed", None)
            }
        };
        self.store
            .finish_harvest_run(
                run_id,
                s.id,
                status,
                &st.counts,
                &st.log,
                watermark,
                self.now(),
            )
            .await?;
        self.store
            .harvest_runs(s.id, 1)
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| CoreError::Internal("harvest run vanished".into()))
    }

    async fn harvest_ckan(
        &self,
        f: &Fetcher,
        s: &HarvestSourceRow,
        since: Option<i64>,
        st: &mut RunState,
    ) -> Result<(), String> {
        let api = ckan_api_base(&s.url);
        let site = ckan_site(&api);
        let mut fq: Vec<String> = Vec::new();
        let filter = s.filter.trim();
        if !filter.is_empty() {
            fq.push(if filter.contains(':') {
                filter.to_string()
            } else {
                format!("organization:{filter}")
            });
        }
        if let Some(w) = since {
            fq.push(format!("metadata_modified:[{} TO *]", h::iso_utc(w)));
        }
        let fq = fq.join(" AND ");
        let mut start = 0usize;
        for page in 0..MAX_PAGES {
            let mut url = format!(
                "{api}package_search?q=*:*&rows={CKAN_ROWS}&start={start}&sort={}",
                enc("metadata_modified asc")
            );
            if !fq.is_empty() {
                url.push_str(&format!("&fq={}", enc(&fq)));
            }
            let (_, body) = f
                .get(&url, "application/json")
                .await
                .map_err(|e| e.to_string())?;
            let (count, results) = h::ckan_page(&body).map_err(|e| format!("{url}: {e}"))?;
            if results.is_empty() {
                return Ok(());
            }
            let n = results.len();
            for v in &results {
                let id = v
                    .get("id")
                    .and_then(|i| i.as_str())
                    .unwrap_or("?")
                    .to_string();
                let mapped = h::from_ckan(v, &site);
                if !self.take(s, &id, mapped, st).await? {
                    return Ok(());
                }
            }
            start += n;
            if start >= count {
                return Ok(());
            }
            if page + 1 == MAX_PAGES {
                st.complete = false;
                st.note(&format!("stopped after {MAX_PAGES} pages"));
            }
        }
        Ok(())
    }

    async fn harvest_dcat(
        &self,
        f: &Fetcher,
        s: &HarvestSourceRow,
        since: Option<i64>,
        st: &mut RunState,
    ) -> Result<(), String> {
        let mut url = s.url.trim().to_string();
        if let Some(w) = since {
            // Baraza's and uData's catalogues read `modified_since`; others ignore it, and the
            // hashes then tell what changed.
            let sep = if url.contains('?') { '&' } else { '?' };
            url = format!("{url}{sep}modified_since={}", enc(&h::iso_utc(w)));
        }
        let mut visited = HashSet::new();
        for _ in 0..MAX_PAGES {
            if !visited.insert(url.clone()) {
                return Ok(());
            }
            let (ct, body) = f
                .get(
                    &url,
                    "text/turtle, application/rdf+xml;q=0.9, application/xml;q=0.5",
                )
                .await
                .map_err(|e| e.to_string())?;
            let syntax = RdfSyntax::guess(&ct, &url);
            let page = h::dcat_page(&body, syntax, &url, &LANGS).map_err(|e| match e {
                PageError::NotRdf { .. } => format!("{url}: {e} (is it a DCAT catalogue?)"),
                e => format!("{url}: {e}"),
            })?;
            for (iri, mapped) in page.datasets {
                if !self.take(s, &iri, mapped, st).await? {
                    return Ok(());
                }
            }
            match page.next {
                Some(next) => {
                    url = url::Url::parse(&url)
                        .and_then(|b| b.join(&next))
                        .map(|u| u.to_string())
                        .map_err(|_| format!("{url}: the next page {next} is not a URL"))?;
                }
                None => return Ok(()),
            }
        }
        st.complete = false;
        st.note(&format!("stopped after {MAX_PAGES} pages"));
        Ok(())
    }

    /// One remote record: mapped or logged; stored when new or changed. False when the run's
    /// dataset limit is reached. An error here is the store's (the run fails).
    async fn take(
        &self,
        s: &HarvestSourceRow,
        label: &str,
        mapped: Result<RemoteDataset, h::RecordError>,
        st: &mut RunState,
    ) -> Result<bool, String> {
        if st.read >= MAX_DATASETS {
            st.complete = false;
            st.note(&format!("stopped after {MAX_DATASETS} datasets"));
            return Ok(false);
        }
        st.read += 1;
        let d = match mapped {
            Ok(d) => d,
            Err(e) => {
                st.error(&format!("{label}: skipped, {e}"));
                return Ok(true);
            }
        };
        if let Some(m) = d.modified {
            st.newest = Some(st.newest.map_or(m, |n| n.max(m)));
        }
        if !st.seen.insert(d.remote_id.clone()) {
            return Ok(true);
        }
        let hash = d.content_hash();
        match self
            .store_remote(s, &d, &hash, st.known.get(&d.remote_id))
            .await
        {
            Ok(Stored::Created(id)) | Ok(Stored::Updated(id)) => {
                if st.known.contains_key(&d.remote_id) {
                    st.counts.updated += 1;
                } else {
                    st.counts.created += 1;
                }
                st.known.insert(
                    d.remote_id.clone(),
                    HarvestedRow {
                        dataset_id: id,
                        content_hash: hash,
                        withdrawn: false,
                    },
                );
            }
            Ok(Stored::Unchanged) => st.counts.unchanged += 1,
            Err(e @ CoreError::Store(_)) | Err(e @ CoreError::Internal(_)) => {
                return Err(format!("{}: {e}", d.remote_id))
            }
            Err(e) => st.error(&format!("{}: skipped, {e}", d.remote_id)),
        }
        Ok(true)
    }

    async fn store_remote(
        &self,
        s: &HarvestSourceRow,
        d: &RemoteDataset,
        hash: &str,
        existing: Option<&HarvestedRow>,
    ) -> Result<Stored, CoreError> {
        if let Some(k) = existing {
            if k.content_hash == hash && !k.withdrawn {
                return Ok(Stored::Unchanged);
            }
        }
        let license = if d.license_id.is_empty() {
            s.default_licence.clone()
        } else {
            d.license_id.clone()
        };
        let source = Source::Harvest {
            source_id: s.id,
            source_title: s.title.clone(),
            remote_id: d.remote_id.clone(),
            original_url: d.original_url.clone(),
        };
        let kinds: Vec<ResourceKind> = d
            .resources
            .iter()
            .map(|r| ResourceKind::Link { url: r.url.clone() })
            .collect();
        let ids: Vec<String> = d.resources.iter().map(|_| new_uuid()).collect();
        let file_names: Vec<String> = d
            .resources
            .iter()
            .map(|r| {
                r.url
                    .split(['?', '#'])
                    .next()
                    .and_then(|p| p.rsplit('/').next())
                    .filter(|n| !n.is_empty())
                    .unwrap_or("resource")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                            c
                        } else {
                            '_'
                        }
                    })
                    .take(120)
                    .collect()
            })
            .collect();
        let no_fields = Vec::new();
        let resources: Vec<ResourceWrite> = d
            .resources
            .iter()
            .enumerate()
            .map(|(i, r)| ResourceWrite {
                uuid: &ids[i],
                name: &r.name,
                description: &r.description,
                format: &r.format,
                media_type: &r.media_type,
                file_name: &file_names[i],
                size: None,
                hash: None,
                kind: &kinds[i],
                fields: &no_fields,
            })
            .collect();
        let now = self.now();
        if let Some(k) = existing {
            let dw = dataset_write(d, &license, "");
            self.store
                .harvest_update(
                    k.dataset_id,
                    &HarvestWrite {
                        source_id: s.id,
                        remote_id: &d.remote_id,
                        content_hash: hash,
                        remote_modified: d.modified,
                        dataset: &dw,
                        source: &source,
                        resources: &resources,
                    },
                    now,
                )
                .await?;
            return Ok(Stored::Updated(k.dataset_id));
        }
        // A new local name: the remote's, with a suffix on a clash. It is kept afterwards
        // (updates never rename), so links to it stay valid across runs.
        let base = h::local_name(d);
        let mut name = String::new();
        for i in 1..=1000 {
            let candidate = if i == 1 {
                base.clone()
            } else {
                let suffix = format!("-{i}");
                let cut = base.len().min(100 - suffix.len());
                format!("{}{suffix}", base[..cut].trim_end_matches('-'))
            };
            if !self.store.dataset_name_taken(&candidate).await? {
                name = candidate;
                break;
            }
        }
        if name.is_empty() {
            return Err(CoreError::SlugTaken { slug: base });
        }
        let dw = dataset_write(d, &license, &name);
        let id = self
            .store
            .harvest_create(
                s.project_id,
                &new_uuid(),
                &HarvestWrite {
                    source_id: s.id,
                    remote_id: &d.remote_id,
                    content_hash: hash,
                    remote_modified: d.modified,
                    dataset: &dw,
                    source: &source,
                    resources: &resources,
                },
                s.created_by,
                now,
            )
            .await?;
        Ok(Stored::Created(id))
    }

    /// After a complete full run: withdraws the datasets the remote no longer lists.
    async fn withdraw_missing(
        &self,
        s: &HarvestSourceRow,
        st: &mut RunState,
    ) -> Result<(), CoreError> {
        let gone: Vec<String> = st
            .known
            .iter()
            .filter(|(id, k)| !k.withdrawn && !st.seen.contains(*id))
            .map(|(id, _)| id.clone())
            .collect();
        for remote_id in gone {
            self.store
                .harvest_withdraw(s.id, &remote_id, self.now())
                .await?;
            st.counts.withdrawn += 1;
            st.note(&format!("{remote_id}: withdrawn (no longer in the source)"));
            if let Some(k) = st.known.get_mut(&remote_id) {
                k.withdrawn = true;
            }
        }
        Ok(())
    }
}

enum Stored {
    Created(i64),
    Updated(i64),
    Unchanged,
}

/// The local metadata of a remote dataset (`name` is used only when it is created).
fn dataset_write<'a>(d: &'a RemoteDataset, license: &'a str, name: &'a str) -> DatasetWrite<'a> {
    DatasetWrite {
        name,
        title: &d.title,
        notes: &d.notes,
        license_id: license,
        state: DatasetState::Published,
        private: false,
        frequency: &d.frequency,
        temporal_start: &d.temporal_start,
        temporal_end: &d.temporal_end,
        spatial: &d.spatial,
        spatial_label: &d.spatial_label,
        methodology: &d.methodology,
        version: &d.version,
        maintainer: &d.maintainer,
        maintainer_email: &d.maintainer_email,
        tags: &d.tags,
        groups: &d.groups,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "224.0.0.1",
        ] {
            assert!(forbidden_address(a.parse().unwrap()), "{a}");
        }
        for a in ["8.8.8.8", "197.159.0.1", "2a00:1450:4007::1"] {
            assert!(!forbidden_address(a.parse().unwrap()), "{a}");
        }
    }

    #[test]
    fn api_bases() {
        assert_eq!(
            ckan_api_base("https://d.org/api/3/action/"),
            "https://d.org/api/3/action/"
        );
        assert_eq!(
            ckan_api_base("https://d.org/api/3/action"),
            "https://d.org/api/3/action/"
        );
        assert_eq!(
            ckan_api_base("https://d.org"),
            "https://d.org/api/3/action/"
        );
        assert_eq!(
            ckan_api_base("https://d.org/api"),
            "https://d.org/api/action/"
        );
        assert_eq!(
            ckan_site("https://d.org/ckan/api/3/action/"),
            "https://d.org/ckan"
        );
    }

    #[tokio::test]
    async fn urls_are_checked() {
        let f = Fetcher::new(false).unwrap();
        assert!(matches!(
            f.check("ftp://x.org/").await,
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(
            f.check("file:///etc/passwd").await,
            Err(FetchError::BadUrl(_))
        ));
        assert!(matches!(
            f.check("http://127.0.0.1:8080/").await,
            Err(FetchError::Forbidden(_))
        ));
        assert!(matches!(
            f.check("http://[::1]/").await,
            Err(FetchError::Forbidden(_))
        ));
        assert!(matches!(
            f.check("http://localhost/").await,
            Err(FetchError::Forbidden(_))
        ));
        let open = Fetcher::new(true).unwrap();
        assert!(open.check("http://127.0.0.1:8080/").await.is_ok());
    }
}
