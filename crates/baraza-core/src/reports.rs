//! Citizen reports: SMS through gateways and the web form in, moderation, the public map, the
//! outbox of replies and the alerts on spikes (docs/reports.md).
//!
//! * **Never twice.** A gateway's webhook is checked (`baraza_reports::gateway::receive`), then
//!   recorded in the message ledger with its report and replies in one transaction, unless
//!   its channel saw its provider id or the same sender sent the same text in the same
//!   ten-minute window or the one before: a replay is acknowledged and stores nothing.
//! * **Never exposed.** A sender's number is sealed under the project's data key the moment it
//!   is read; what is stored in clear is a pseudonym, the project's blind index of the number
//!   (the same keyed hash a data-subject request looks for). Only people who may see personal
//!   data (`ViewPersonal`: managers) have it opened; moderators (`ModerateReports`) see the
//!   pseudonym's first characters; the public sees neither, and neither goes to logs.
//! * **Moderation** follows `baraza_reports::moderation`; moving to `verified` or `published`
//!   needs every item of the project's checklist ticked; every move and comment is audited.
//! * **The map** reads an in-memory index per project, brought up to date from the reports
//!   written since the version it holds, so a view over a million reports is one pass over
//!   compact rows. The public sees published reports only, at their fuzzed positions, in
//!   clusters of at least `k` reports.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::harvest::Fetcher;
use crate::keyring::random;
use crate::{Core, CoreError};
use baraza_protect::blind::BlindKind;
use baraza_protect::DataKey;
use baraza_reports::cluster::{self, BBox, Point};
use baraza_reports::gateway::{
    self, Ack, GatewayError, InboundConfig, Outbound, Outbox, PendingSms, WebhookRequest,
};
use baraza_reports::gazetteer::{self, Category, Gazetteer, Lookup, MatchKind, Place};
use baraza_reports::smsform::{self, Lang, SmsForm, SmsSpec};
use baraza_reports::{dedup, moderation, Gateway, State};
use baraza_store::{
    ChannelRow, MessageOutcome, NewMessage, NewOutgoing, NewReport, ReportQuery, ReportRow,
    ReportSettingsRow,
};
use baraza_types::Permission;
use base64::Engine;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

/// The longest report text taken from the web form, in characters (an SMS is at most 1,600
/// characters once its parts are joined).
pub const MAX_REPORT_CHARS: usize = 1600;
/// The longest comment.
pub const MAX_COMMENT_CHARS: usize = 4000;
/// The most categories, checklist items and SMS forms a project may have.
pub const MAX_CATEGORIES: usize = 50;
/// The window within which the same text from the same sender is a repeat.
pub const DEDUP_WINDOW_SECS: i64 = 600;
/// Reports per page of the queue.
pub const PAGE_SIZE: i64 = 50;
/// How long the gazetteer is kept before it is read again.
const GAZETTEER_TTL_SECS: i64 = 60;
/// How long a channel, a project's report settings and its pseudonym key are kept before they
/// are read again. A change made on this server is seen at once; one made on another server
/// sharing the database, within this many seconds.
const CACHE_TTL_SECS: i64 = 5;

/// How public positions are blurred.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fuzz {
    /// The exact position.
    None,
    /// The centre of the report's admin area.
    Area,
    /// The centre of a grid cell of `fuzz_km`.
    Grid,
}

impl Fuzz {
    pub fn code(self) -> &'static str {
        match self {
            Fuzz::None => "none",
            Fuzz::Area => "area",
            Fuzz::Grid => "grid",
        }
    }

    pub fn from_code(s: &str) -> Option<Fuzz> {
        match s {
            "none" => Some(Fuzz::None),
            "area" => Some(Fuzz::Area),
            "grid" => Some(Fuzz::Grid),
            _ => None,
        }
    }
}

/// A category of reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CategoryDef {
    pub code: String,
    pub label_en: String,
    pub label_fr: String,
    /// Words that announce it at the start of an SMS (`EAU`, `WATER`).
    pub keywords: Vec<String>,
}

/// An XLSForm answered by SMS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SmsFormDef {
    pub form_id: String,
    /// The keyword (`prefix`); the form id in capitals when empty.
    #[serde(default)]
    pub prefix: String,
    /// More keywords with their language: `WATER:en`.
    #[serde(default)]
    pub keywords: Vec<(String, String)>,
    #[serde(default)]
    pub delimiter: Option<char>,
    /// Question name → tag (`compact_tag`).
    #[serde(default)]
    pub tags: Vec<(String, String)>,
    /// The category its reports get.
    #[serde(default)]
    pub category: String,
}

/// A project's report settings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportSettings {
    /// Anyone who sees the project may report through the web form (signed in or not).
    pub web_form: bool,
    /// The public does not see who reported through the web form.
    pub hide_author: bool,
    /// The public does not see when a report was sent.
    pub hide_time: bool,
    pub fuzz: Fuzz,
    pub fuzz_km: f64,
    /// The least number of reports a public map cluster shows.
    pub k_threshold: i64,
    pub categories: Vec<CategoryDef>,
    pub checklist: Vec<String>,
    pub sms_forms: Vec<SmsFormDef>,
    /// Reports of one category in one place within the window that make an alert (0: off).
    pub alert_threshold: i64,
    pub alert_window_hours: i64,
    /// Whether numbers are set to be told of alerts (they are sealed, and not shown).
    pub alert_phones: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        ReportSettings {
            web_form: false,
            hide_author: true,
            hide_time: false,
            fuzz: Fuzz::None,
            fuzz_km: 10.0,
            k_threshold: 5,
            categories: Vec::new(),
            checklist: Vec::new(),
            sms_forms: Vec::new(),
            alert_threshold: 0,
            alert_window_hours: 24,
            alert_phones: false,
        }
    }
}

/// New settings, as a form gives them.
#[derive(Debug, Clone, Default)]
pub struct SettingsInput {
    pub web_form: bool,
    pub hide_author: bool,
    pub hide_time: bool,
    pub fuzz: String,
    pub fuzz_km: String,
    pub k_threshold: String,
    /// One per line: `CODE | English label | French label | KEYWORD KEYWORD`.
    pub categories: String,
    /// One item per line.
    pub checklist: String,
    /// One per line: `form_id | PREFIX | KEYWORD:lang … | delimiter | category`.
    pub sms_forms: String,
    pub alert_threshold: String,
    pub alert_window_hours: String,
    /// Numbers, one per line; `None` keeps the stored ones.
    pub alert_phones: Option<String>,
}

/// A channel as its settings page shows it (no secret).
#[derive(Debug, Clone, Serialize)]
pub struct ChannelView {
    pub id: i64,
    pub gateway: String,
    pub name: String,
    /// The path gateways post to.
    pub webhook_path: String,
    pub enabled: bool,
    /// The outbound settings' names (their values are sealed and not shown).
    pub outbound_keys: Vec<String>,
    pub created_at: i64,
}

/// A report as one reader may see it.
#[derive(Debug, Clone, Serialize)]
pub struct ReportView {
    pub id: i64,
    pub source: String,
    pub channel: String,
    pub form_id: Option<String>,
    pub answers: serde_json::Value,
    pub category: String,
    pub body: String,
    pub place_code: Option<String>,
    pub place_name: String,
    pub place_match: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub state: String,
    /// The first characters of the sender's pseudonym (moderators), to see reports from the
    /// same person; `None` for the public.
    pub sender: Option<String>,
    /// Who reported through the web form, unless hidden.
    pub author: Option<String>,
    /// When it was sent, unless hidden.
    pub reported_at: Option<i64>,
    pub modified_at: i64,
}

/// A report with what its moderators need.
#[derive(Debug, Clone, Serialize)]
pub struct ReportDetail {
    pub report: ReportView,
    /// The sender's number or contact, opened for people who may see personal data only.
    pub sender_contact: Option<String>,
    pub checklist: Vec<(String, bool)>,
    pub next_states: Vec<String>,
    pub comments: Vec<CommentView>,
    pub replies: Vec<ReplyView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    pub author: String,
    pub body: String,
    pub created_at: i64,
}

/// A reply or alert queued for a report (its text; the recipient is the sender).
#[derive(Debug, Clone, Serialize)]
pub struct ReplyView {
    pub body: String,
    pub state: String,
    pub attempts: i64,
    pub last_error: String,
}

/// The list's filters, as the page's query gives them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ReportFilter {
    pub states: Vec<String>,
    pub category: Option<String>,
    pub place: Option<String>,
    /// Days, `YYYY-MM-DD`, inclusive.
    pub from: Option<String>,
    pub to: Option<String>,
    /// The first characters of a sender's pseudonym, as moderators see it (moderators only).
    pub sender: Option<String>,
    pub page: i64,
}

/// A page of reports.
#[derive(Debug, Clone, Serialize)]
pub struct ReportList {
    pub total: i64,
    pub page: i64,
    pub reports: Vec<ReportView>,
    /// Reports per state (moderators only).
    pub counts: Vec<(String, i64)>,
    /// Whether the reader sees the moderation queue or the public list.
    pub moderator: bool,
}

/// A report from the web form.
#[derive(Debug, Clone, Default)]
pub struct WebReportInput {
    pub category: String,
    pub body: String,
    pub place: String,
    pub lat: String,
    pub lon: String,
    /// A number or e-mail address to be reached at (optional, sealed).
    pub contact: String,
}

/// What a webhook call comes to.
#[derive(Debug, Clone)]
pub struct WebhookOutcome {
    /// The answer the gateway expects.
    pub ack: Ack,
    /// The report made, if any (not for a repeat, nor for an event that is not a message).
    pub report_id: Option<i64>,
    pub repeat: bool,
}

/// One cluster of a map.
#[derive(Debug, Clone, Serialize)]
pub struct MapCluster {
    pub lat: f64,
    pub lon: f64,
    pub count: u64,
    /// The zoom of the grid it belongs to (coarser than the view's when merged).
    pub zoom: u8,
    /// Merged from small cells for the public (drawn at its cell's centre).
    pub merged: bool,
}

/// A map's clusters.
#[derive(Debug, Clone, Serialize)]
pub struct MapData {
    pub zoom: u8,
    pub clusters: Vec<MapCluster>,
    /// Reports matching the filters within the view.
    pub shown: u64,
    /// Reports left out for the public because their cluster stayed under k.
    pub hidden: u64,
    /// Reports matching the filters that have no position.
    pub unplaced: u64,
    /// Whether the reader sees every state at exact positions (moderators) or the public view.
    pub moderator: bool,
    pub k: i64,
}

/// The map's filters.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MapFilter {
    pub category: Option<String>,
    pub states: Vec<String>,
    pub place: Option<String>,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// A message read as a report, before it is stored.
struct Parsed {
    category: String,
    body: String,
    form_id: Option<String>,
    answers: String,
}

/// A channel with its secret and reply settings opened.
type OpenChannel = (ChannelRow, String, HashMap<String, String>);

fn invalid(field: &'static str, reason: &'static str) -> CoreError {
    CoreError::Invalid { field, reason }
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn unb64(s: &str) -> Result<Vec<u8>, CoreError> {
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .map_err(|e| CoreError::Internal(format!("sealed value: {e}")))
}

/// The place a sealed value of a project is sealed for.
fn aad(project: i64, what: &str) -> Vec<u8> {
    format!("baraza-report:{project}:{what}").into_bytes()
}

fn seal(key: &DataKey, project: i64, what: &str, clear: &str) -> String {
    b64(&key.seal(clear.as_bytes(), &aad(project, what), random()))
}

fn open(key: &DataKey, project: i64, what: &str, sealed: &str) -> Result<String, CoreError> {
    let clear = key
        .open(&unb64(sealed)?, &aad(project, what))
        .map_err(|e| CoreError::Internal(format!("sealed value: {e}")))?;
    String::from_utf8(clear).map_err(|_| CoreError::Internal("sealed value: not UTF-8".into()))
}

fn parse_settings(row: Option<ReportSettingsRow>) -> ReportSettings {
    let Some(r) = row else {
        return ReportSettings::default();
    };
    ReportSettings {
        web_form: r.web_form,
        hide_author: r.hide_author,
        hide_time: r.hide_time,
        fuzz: Fuzz::from_code(&r.fuzz).unwrap_or(Fuzz::None),
        fuzz_km: r.fuzz_km,
        k_threshold: r.k_threshold,
        categories: serde_json::from_str(&r.categories).unwrap_or_default(),
        checklist: serde_json::from_str(&r.checklist).unwrap_or_default(),
        sms_forms: serde_json::from_str(&r.sms_forms).unwrap_or_default(),
        alert_threshold: r.alert_threshold,
        alert_window_hours: r.alert_window_hours,
        alert_phones: r.alert_phones.is_some() && r.alert_key_version.is_some(),
    }
}

fn parse_lang(s: &str) -> Option<Lang> {
    match s.trim().to_ascii_lowercase().as_str() {
        "en" => Some(Lang::En),
        "fr" => Some(Lang::Fr),
        _ => None,
    }
}

fn parse_int(s: &str, field: &'static str, min: i64, max: i64) -> Result<i64, CoreError> {
    match s.trim().parse::<i64>() {
        Ok(v) if (min..=max).contains(&v) => Ok(v),
        _ => Err(invalid(field, "report.number_range")),
    }
}

/// `YYYY-MM-DD` as the Unix time of its start (UTC).
pub fn parse_day(s: &str) -> Option<i64> {
    let fmt = time::macros::format_description!("[year]-[month]-[day]");
    time::Date::parse(s.trim(), &fmt)
        .ok()
        .map(|d| d.midnight().assume_utc().unix_timestamp())
}

/// A place of the gazetteer with where to put its reports.
#[derive(Debug, Clone)]
struct PlacePoint {
    code: String,
    name: String,
    parent: Option<String>,
    centre: Option<Point>,
}

/// The gazetteer of the instance's admin areas.
struct Places {
    gazetteer: Gazetteer,
    points: Vec<PlacePoint>,
    by_code: HashMap<String, usize>,
    read_at: i64,
}

impl Places {
    fn centre(&self, code: &str) -> Option<Point> {
        self.by_code.get(code).and_then(|&i| self.points[i].centre)
    }

    /// The place and every place under it.
    fn with_descendants(&self, code: &str) -> Vec<String> {
        let mut out = vec![code.to_owned()];
        let mut i = 0;
        while i < out.len() {
            let parent = out[i].clone();
            for p in &self.points {
                if p.parent.as_deref() == Some(parent.as_str()) && !out.contains(&p.code) {
                    out.push(p.code.clone());
                }
            }
            i += 1;
        }
        out
    }
}

/// The centre of a place's simplified polygons: the middle of their bounding box, or the
/// area-weighted centroid of the largest ring when that middle falls outside it.
fn centre_of(geometry: &str) -> Option<Point> {
    let polys: Vec<Vec<Vec<[f64; 2]>>> = serde_json::from_str(geometry).ok()?;
    let mut best: Option<(f64, f64, f64)> = None;
    for poly in &polys {
        let Some(ring) = poly.first() else { continue };
        let (mut a, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for w in ring.windows(2) {
            let cross = w[0][0] * w[1][1] - w[1][0] * w[0][1];
            a += cross;
            cx += (w[0][0] + w[1][0]) * cross;
            cy += (w[0][1] + w[1][1]) * cross;
        }
        if a.abs() < 1e-12 {
            continue;
        }
        let (x, y) = (cx / (3.0 * a), cy / (3.0 * a));
        if best.is_none_or(|(ba, _, _)| a.abs() > ba) {
            best = Some((a.abs(), x, y));
        }
    }
    best.map(|(_, lon, lat)| Point { lat, lon })
}

/// One report in the map's index.
#[derive(Debug, Clone, Copy)]
struct Item {
    lat: f32,
    lon: f32,
    /// Where the public sees it (NaN: nowhere).
    plat: f32,
    plon: f32,
    category: u16,
    place: u32,
    state: u8,
    reported_at: i64,
}

const STATES: [State; 5] = [
    State::InReview,
    State::Verified,
    State::Published,
    State::Archived,
    State::Rejected,
];

fn state_index(code: &str) -> u8 {
    STATES.iter().position(|s| s.code() == code).unwrap_or(0) as u8
}

/// A project's reports in memory, for maps.
#[derive(Default)]
pub struct ReportIndex {
    version: i64,
    slots: HashMap<i64, usize>,
    items: Vec<Item>,
    categories: Vec<String>,
    places: Vec<String>,
    fuzz: Option<(Fuzz, u64)>,
    /// The last maps computed, with what they were computed from (the index's version is part
    /// of the key, so a write makes them stale): a shared public view is clustered once.
    recent: Vec<(String, MapData)>,
}

/// How many computed maps each project keeps.
const RECENT_MAPS: usize = 16;

impl ReportIndex {
    fn intern(list: &mut Vec<String>, s: &str) -> usize {
        match list.iter().position(|x| x == s) {
            Some(i) => i,
            None => {
                list.push(s.to_owned());
                list.len() - 1
            }
        }
    }

    fn public_position(
        fuzz: Fuzz,
        km: f64,
        exact: Option<Point>,
        place: Option<&str>,
        places: &Places,
    ) -> Option<Point> {
        match fuzz {
            Fuzz::None => exact.or_else(|| place.and_then(|c| places.centre(c))),
            Fuzz::Area => place.and_then(|c| places.centre(c)),
            Fuzz::Grid => exact
                .or_else(|| place.and_then(|c| places.centre(c)))
                .map(|p| cluster::snap_km(p, km)),
        }
    }

    fn refuzz(&mut self, fuzz: Fuzz, km: f64, places: &Places) {
        let key = (fuzz, km.to_bits());
        if self.fuzz == Some(key) {
            return;
        }
        for it in &mut self.items {
            let exact = (!it.lat.is_nan()).then(|| Point {
                lat: f64::from(it.lat),
                lon: f64::from(it.lon),
            });
            let place = (it.place != u32::MAX).then(|| self.places[it.place as usize].as_str());
            let p = Self::public_position(fuzz, km, exact, place, places);
            it.plat = p.map(|p| p.lat as f32).unwrap_or(f32::NAN);
            it.plon = p.map(|p| p.lon as f32).unwrap_or(f32::NAN);
        }
        self.fuzz = Some(key);
    }

    fn apply(&mut self, points: Vec<baraza_store::ReportPoint>, places: &Places) {
        let (fuzz, km) = self
            .fuzz
            .map(|(f, k)| (f, f64::from_bits(k)))
            .unwrap_or((Fuzz::None, 0.0));
        for p in points {
            let exact = match (p.lat, p.lon) {
                (Some(lat), Some(lon)) => Some(Point { lat, lon }),
                _ => p.place_code.as_deref().and_then(|c| places.centre(c)),
            };
            let public = Self::public_position(fuzz, km, exact, p.place_code.as_deref(), places);
            let item = Item {
                lat: exact.map(|e| e.lat as f32).unwrap_or(f32::NAN),
                lon: exact.map(|e| e.lon as f32).unwrap_or(f32::NAN),
                plat: public.map(|e| e.lat as f32).unwrap_or(f32::NAN),
                plon: public.map(|e| e.lon as f32).unwrap_or(f32::NAN),
                category: Self::intern(&mut self.categories, &p.category) as u16,
                place: p
                    .place_code
                    .as_deref()
                    .map(|c| Self::intern(&mut self.places, c) as u32)
                    .unwrap_or(u32::MAX),
                state: state_index(&p.state),
                reported_at: p.reported_at,
            };
            match self.slots.get(&p.id) {
                Some(&i) => self.items[i] = item,
                None => {
                    self.slots.insert(p.id, self.items.len());
                    self.items.push(item);
                }
            }
        }
    }

    /// How many reports it holds.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The per-project indexes.
#[derive(Default)]
pub struct ReportIndexes {
    by_project: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<ReportIndex>>>>,
}

/// The gazetteer, read again after a minute.
#[derive(Default)]
pub struct PlacesCache {
    places: Mutex<Option<Arc<Places>>>,
}

/// A project's report settings as stored and as read.
pub(crate) struct CachedSettings {
    row: Option<ReportSettingsRow>,
    parsed: ReportSettings,
}

/// What every webhook call would otherwise read again (see [`CACHE_TTL_SECS`]), and the alerts
/// this server has already raised, so that a spike's later reports do not try again.
#[derive(Default)]
pub struct ReportCache {
    /// By token: when read, and the channel with its secret opened.
    channels: Mutex<HashMap<String, (i64, Arc<OpenChannel>)>>,
    /// By project: when read, and its settings.
    settings: Mutex<HashMap<i64, (i64, Arc<CachedSettings>)>>,
    /// By project: when read, and the version of its pseudonym key.
    pseudonym_keys: Mutex<HashMap<i64, (i64, i64)>>,
    /// Project, category, place and window start of the alerts raised.
    raised: Mutex<HashSet<(i64, String, String, i64)>>,
}

fn cache_poisoned<T>(_: T) -> CoreError {
    CoreError::Internal("report cache poisoned".into())
}

impl ReportCache {
    fn fresh<K, Q, V>(
        map: &Mutex<HashMap<K, (i64, V)>>,
        key: &Q,
        now: i64,
    ) -> Result<Option<V>, CoreError>
    where
        K: std::hash::Hash + Eq + std::borrow::Borrow<Q>,
        Q: std::hash::Hash + Eq + ?Sized,
        V: Clone,
    {
        Ok(map
            .lock()
            .map_err(cache_poisoned)?
            .get(key)
            .filter(|(at, _)| (0..CACHE_TTL_SECS).contains(&(now - at)))
            .map(|(_, v)| v.clone()))
    }

    fn keep<K: std::hash::Hash + Eq, V>(
        map: &Mutex<HashMap<K, (i64, V)>>,
        key: K,
        now: i64,
        value: V,
    ) -> Result<(), CoreError> {
        let mut m = map.lock().map_err(cache_poisoned)?;
        // Stale entries go when the map grows: one per token or project ever seen, at most.
        if m.len() > 1024 {
            m.retain(|_, (at, _)| now - *at < CACHE_TTL_SECS);
        }
        m.insert(key, (now, value));
        Ok(())
    }
}

/// Parses settings input lines; each error names its line.
fn parse_categories(text: &str) -> Result<Vec<CategoryDef>, CoreError> {
    let mut out: Vec<CategoryDef> = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let code = parts[0].to_lowercase();
        if code.is_empty()
            || code.len() > 40
            || !code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(invalid("categories", "report.category_code"));
        }
        if out.iter().any(|c| c.code == code) {
            return Err(invalid("categories", "report.category_twice"));
        }
        let label_en = parts.get(1).copied().unwrap_or("").to_owned();
        let label_fr = parts.get(2).copied().unwrap_or("").to_owned();
        let keywords: Vec<String> = parts
            .get(3)
            .copied()
            .unwrap_or("")
            .split_whitespace()
            .map(|k| k.to_uppercase())
            .collect();
        out.push(CategoryDef {
            label_en: if label_en.is_empty() {
                code.clone()
            } else {
                label_en
            },
            label_fr: if label_fr.is_empty() {
                code.clone()
            } else {
                label_fr
            },
            keywords: if keywords.is_empty() {
                vec![code.to_uppercase()]
            } else {
                keywords
            },
            code,
        });
    }
    if out.len() > MAX_CATEGORIES {
        return Err(invalid("categories", "report.too_many"));
    }
    Ok(out)
}

fn parse_sms_forms(text: &str) -> Result<Vec<SmsFormDef>, CoreError> {
    let mut out = Vec::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split('|').map(str::trim).collect();
        let form_id = parts[0].to_owned();
        if form_id.is_empty() {
            return Err(invalid("sms_forms", "report.sms_form_line"));
        }
        let mut keywords = Vec::new();
        for k in parts.get(2).copied().unwrap_or("").split_whitespace() {
            let (word, lang) = k.split_once(':').unwrap_or((k, "fr"));
            if parse_lang(lang).is_none() {
                return Err(invalid("sms_forms", "report.sms_form_lang"));
            }
            keywords.push((word.to_uppercase(), lang.to_ascii_lowercase()));
        }
        let delimiter = match parts.get(3).copied().unwrap_or("") {
            "" => None,
            d => {
                let mut cs = d.chars();
                match (cs.next(), cs.next()) {
                    (Some(c), None) if !c.is_alphanumeric() => Some(c),
                    _ => return Err(invalid("sms_forms", "report.sms_form_delimiter")),
                }
            }
        };
        out.push(SmsFormDef {
            form_id,
            prefix: parts.get(1).copied().unwrap_or("").to_uppercase(),
            keywords,
            delimiter,
            tags: Vec::new(),
            category: parts.get(4).copied().unwrap_or("").to_lowercase(),
        });
    }
    if out.len() > MAX_CATEGORIES {
        return Err(invalid("sms_forms", "report.too_many"));
    }
    Ok(out)
}

/// The outbound settings each gateway needs, by name.
pub fn outbound_fields(gateway: Gateway) -> &'static [&'static str] {
    match gateway {
        Gateway::Twilio => &["account_sid", "from"],
        Gateway::AfricasTalking => &["username", "api_key", "from", "sandbox"],
        Gateway::FrontlineSms => &["server_url", "api_key"],
        Gateway::HttpSms => &["api_key", "from"],
        Gateway::RapidPro => &["server_url", "api_token"],
        Gateway::Generic => &["url"],
        Gateway::SmsSync => &[],
    }
}

fn outbound_of(gateway: Gateway, secret: &str, o: &HashMap<String, String>) -> Option<Outbound> {
    let get = |k: &str| o.get(k).cloned().filter(|v| !v.trim().is_empty());
    Some(match gateway {
        Gateway::Twilio => Outbound::Twilio {
            account_sid: get("account_sid")?,
            auth_token: secret.to_owned(),
            from: get("from")?,
        },
        Gateway::AfricasTalking => Outbound::AfricasTalking {
            username: get("username")?,
            api_key: get("api_key")?,
            from: get("from"),
            sandbox: get("sandbox").is_some_and(|v| v == "true" || v == "1" || v == "yes"),
        },
        Gateway::FrontlineSms => Outbound::FrontlineSms {
            server_url: get("server_url")?,
            api_key: get("api_key")?,
        },
        Gateway::HttpSms => Outbound::HttpSms {
            api_key: get("api_key")?,
            from: get("from")?,
        },
        Gateway::RapidPro => Outbound::RapidPro {
            server_url: get("server_url")?,
            api_token: get("api_token")?,
        },
        Gateway::Generic => Outbound::Generic {
            url: get("url")?,
            secret: secret.to_owned(),
        },
        Gateway::SmsSync => Outbound::SmsSync,
    })
}

/// Replaces the scheme, host and port of `url` with `base`'s (a proxy, a self-hosted
/// compatible service, or a test double).
fn rebase(url: &str, base: &str) -> String {
    match (url::Url::parse(url), url::Url::parse(base)) {
        (Ok(u), Ok(b)) => {
            let mut out = b.as_str().trim_end_matches('/').to_owned();
            out.push_str(u.path());
            if let Some(q) = u.query() {
                out.push('?');
                out.push_str(q);
            }
            out
        }
        _ => url.to_owned(),
    }
}

/// A place's name without the kind of area that boundary datasets add to it (`N'Djamena
/// Region`, `Région du Lac` stay `N'Djamena`, `Lac`): nobody writes it in an SMS.
fn short_name(name: &str) -> Option<String> {
    const KINDS: [&str; 11] = [
        "region",
        "région",
        "province",
        "prefecture",
        "préfecture",
        "department",
        "département",
        "district",
        "state",
        "county",
        "governorate",
    ];
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() < 2 {
        return None;
    }
    let is_kind = |w: &str| KINDS.contains(&w.to_lowercase().as_str());
    let rest: Vec<&str> = if is_kind(words[words.len() - 1]) {
        words[..words.len() - 1].to_vec()
    } else if is_kind(words[0]) {
        let mut r = words[1..].to_vec();
        if r.len() > 1 && matches!(r[0].to_lowercase().as_str(), "du" | "de" | "des" | "of") {
            r.remove(0);
        }
        r
    } else {
        return None;
    };
    (!rest.is_empty()).then(|| rest.join(" "))
}

fn day_of(t: i64) -> i64 {
    t - t.rem_euclid(86_400)
}

impl Core {
    async fn places_index(&self) -> Result<Arc<Places>, CoreError> {
        let now = self.now();
        if let Some(p) = self
            .reports_places
            .places
            .lock()
            .map_err(|_| CoreError::Internal("places cache poisoned".into()))?
            .as_ref()
        {
            if now - p.read_at < GAZETTEER_TTL_SECS {
                return Ok(p.clone());
            }
        }
        let rows = self.store.places(true).await?;
        let points: Vec<PlacePoint> = rows
            .iter()
            .map(|r| PlacePoint {
                code: r.code.clone(),
                name: r.name.clone(),
                parent: r.parent.clone(),
                centre: r.geometry.as_deref().and_then(centre_of),
            })
            .collect();
        let gazetteer = Gazetteer::new(
            rows.iter()
                .map(|r| Place {
                    id: r.code.clone(),
                    name: r.name.clone(),
                    alt_names: short_name(&r.name).into_iter().collect(),
                    admin_code: r.code.clone(),
                })
                .collect(),
        );
        let by_code = points
            .iter()
            .enumerate()
            .map(|(i, p)| (p.code.clone(), i))
            .collect();
        let p = Arc::new(Places {
            gazetteer,
            points,
            by_code,
            read_at: now,
        });
        *self
            .reports_places
            .places
            .lock()
            .map_err(|_| CoreError::Internal("places cache poisoned".into()))? = Some(p.clone());
        Ok(p)
    }

    /// A project's report settings, read again after [`CACHE_TTL_SECS`].
    pub(crate) async fn settings_of(&self, project: i64) -> Result<Arc<CachedSettings>, CoreError> {
        let now = self.now();
        let cache = &self.reports_cache.settings;
        if let Some(s) = ReportCache::fresh(cache, &project, now)? {
            return Ok(s);
        }
        let row = self.store.report_settings(project).await?;
        let s = Arc::new(CachedSettings {
            parsed: parse_settings(row.clone()),
            row,
        });
        ReportCache::keep(cache, project, now, s.clone())?;
        Ok(s)
    }

    /// The channel of a webhook's token with its secret opened, read again after
    /// [`CACHE_TTL_SECS`].
    async fn channel_of_token(&self, token: &str) -> Result<Arc<OpenChannel>, CoreError> {
        let now = self.now();
        let cache = &self.reports_cache.channels;
        if let Some(c) = ReportCache::fresh(cache, token, now)? {
            return Ok(c);
        }
        let c = self
            .store
            .channel_by_token(token)
            .await?
            .ok_or(CoreError::NotFound { what: "channel" })?;
        let (secret, outbound) = self.channel_secrets(&c).await?;
        let open = Arc::new((c, secret, outbound));
        ReportCache::keep(cache, token.to_owned(), now, open.clone())?;
        Ok(open)
    }

    /// The pseudonym of a number in a project: its blind index under the project's first data
    /// key, so that it stays the same when keys rotate.
    async fn pseudonym(&self, project: i64, e164: &str) -> Result<String, CoreError> {
        let now = self.now();
        let cache = &self.reports_cache.pseudonym_keys;
        let version = match ReportCache::fresh(cache, &project, now)? {
            Some(v) => v,
            None => {
                let oldest = self
                    .store
                    .project_keys(project)
                    .await?
                    .first()
                    .map(|k| k.version);
                let v = match oldest {
                    Some(v) => v,
                    None => self.sealing_key(project).await?.0,
                };
                ReportCache::keep(cache, project, now, v)?;
                v
            }
        };
        let key = self.data_key(project, version).await?;
        let index = key.blind_index_key();
        let phone = BlindKind::Phone {
            default_calling_code: self.settings.default_calling_code,
        };
        // A number as a data-subject request would look for it; an e-mail address given on
        // the web form as one; anything else as an identifier.
        index
            .index(phone, e164)
            .or_else(|_| index.index(BlindKind::Email, e164))
            .or_else(|_| index.index(BlindKind::Identifier, e164))
            .map_err(|e| CoreError::Internal(format!("pseudonym: {e}")))
    }

    /// A project's report settings (anyone who sees the project: the web form and the map need
    /// them).
    pub async fn report_settings(
        &self,
        access: &ProjectAccess,
    ) -> Result<ReportSettings, CoreError> {
        access.require(Permission::ViewProject)?;
        Ok(parse_settings(
            self.store.report_settings(access.project.id.0).await?,
        ))
    }

    /// Replaces a project's report settings (owners).
    pub async fn set_report_settings(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        input: &SettingsInput,
    ) -> Result<ReportSettings, CoreError> {
        access.require(Permission::ManageProject)?;
        let project = access.project.id.0;
        let fuzz = Fuzz::from_code(input.fuzz.trim()).ok_or(invalid("fuzz", "report.fuzz"))?;
        let fuzz_km = match input.fuzz_km.trim().replace(',', ".").parse::<f64>() {
            Ok(v) if (0.1..=500.0).contains(&v) => v,
            _ => return Err(invalid("fuzz_km", "report.number_range")),
        };
        let k = parse_int(&input.k_threshold, "k_threshold", 1, 1000)?;
        let categories = parse_categories(&input.categories)?;
        let checklist: Vec<String> = input
            .checklist
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| l.chars().take(200).collect())
            .collect();
        if checklist.len() > MAX_CATEGORIES {
            return Err(invalid("checklist", "report.too_many"));
        }
        let sms_forms = parse_sms_forms(&input.sms_forms)?;
        for f in &sms_forms {
            self.sms_form(access.project.id, f).await?;
            if !f.category.is_empty() && !categories.iter().any(|c| c.code == f.category) {
                return Err(invalid("sms_forms", "report.sms_form_category"));
            }
        }
        let alert_threshold = parse_int(&input.alert_threshold, "alert_threshold", 0, 100_000)?;
        let alert_window_hours =
            parse_int(&input.alert_window_hours, "alert_window_hours", 1, 24 * 31)?;
        let old = self.store.report_settings(project).await?;
        let (alert_phones, alert_key_version) = match &input.alert_phones {
            None => (
                old.as_ref().and_then(|o| o.alert_phones.clone()),
                old.as_ref().and_then(|o| o.alert_key_version),
            ),
            Some(text) => {
                let mut numbers = Vec::new();
                for l in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
                    let n = baraza_reports::phone::normalize(l, &self.country_code())
                        .map_err(|_| invalid("alert_phones", "report.phone"))?;
                    numbers.push(n);
                }
                if numbers.is_empty() {
                    (None, None)
                } else {
                    let (v, key) = self.sealing_key(project).await?;
                    let list = serde_json::to_string(&numbers)
                        .map_err(|e| CoreError::Internal(e.to_string()))?;
                    (Some(seal(&key, project, "alert-phones", &list)), Some(v))
                }
            }
        };
        let row = ReportSettingsRow {
            project_id: project,
            web_form: input.web_form,
            hide_author: input.hide_author,
            hide_time: input.hide_time,
            fuzz: fuzz.code().into(),
            fuzz_km,
            k_threshold: k,
            categories: serde_json::to_string(&categories)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            checklist: serde_json::to_string(&checklist)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            sms_forms: serde_json::to_string(&sms_forms)
                .map_err(|e| CoreError::Internal(e.to_string()))?,
            alert_threshold,
            alert_window_hours,
            alert_phones,
            alert_key_version,
            modified_at: self.now(),
        };
        self.store.put_report_settings(&row).await?;
        self.reports_cache
            .settings
            .lock()
            .map_err(cache_poisoned)?
            .remove(&project);
        let settings = parse_settings(Some(row));
        self.audit(
            Actor::of(principal),
            "report.settings",
            &Target::project(access.project.id),
            json!({
                "web_form": settings.web_form, "hide_author": settings.hide_author,
                "hide_time": settings.hide_time, "fuzz": fuzz.code(), "fuzz_km": fuzz_km,
                "k_threshold": k, "categories": settings.categories.len(),
                "checklist": settings.checklist.len(), "sms_forms": settings.sms_forms.len(),
                "alert_threshold": alert_threshold, "alert_phones_changed": input.alert_phones.is_some(),
            }),
        )
        .await?;
        Ok(settings)
    }

    fn country_code(&self) -> String {
        self.settings
            .default_calling_code
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// The SMS form of an XLSForm of the project.
    async fn sms_form(
        &self,
        project: baraza_types::ProjectId,
        def: &SmsFormDef,
    ) -> Result<SmsForm, CoreError> {
        let form = self
            .store
            .form_by_xml_id(project, &def.form_id)
            .await?
            .ok_or(invalid("sms_forms", "report.sms_form_unknown"))?;
        let version = form
            .current_version_id
            .ok_or(invalid("sms_forms", "report.sms_form_unknown"))?;
        let model = self.form_model(version).await?;
        let spec = SmsSpec {
            prefix: (!def.prefix.is_empty()).then(|| def.prefix.clone()),
            delimiter: def.delimiter,
            tags: def.tags.clone(),
            keywords: def
                .keywords
                .iter()
                .filter_map(|(k, l)| parse_lang(l).map(|l| (k.clone(), l)))
                .collect(),
            default_lang: None,
        };
        SmsForm::from_model(&model, &spec)
            .map_err(|_| invalid("sms_forms", "report.sms_form_build"))
    }

    /// Adds a gateway channel to a project (owners); returns it with its webhook path.
    pub async fn add_report_channel(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        gateway: &str,
        name: &str,
        secret: &str,
        outbound: &[(String, String)],
    ) -> Result<ChannelView, CoreError> {
        access.require(Permission::ManageProject)?;
        let project = access.project.id.0;
        let g = Gateway::from_code(gateway.trim()).ok_or(invalid("gateway", "report.gateway"))?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 100 {
            return Err(invalid("name", "report.channel_name"));
        }
        let secret = secret.trim();
        if secret.chars().count() < 16 || secret.len() > 512 {
            return Err(invalid("secret", "report.secret_short"));
        }
        let allowed = outbound_fields(g);
        let mut out: HashMap<String, String> = HashMap::new();
        for (k, v) in outbound {
            let (k, v) = (k.trim(), v.trim());
            if v.is_empty() {
                continue;
            }
            if !allowed.contains(&k) && k != "api_base" {
                return Err(invalid("outbound", "report.outbound_unknown"));
            }
            if (k.ends_with("url") || k == "api_base")
                && !(v.starts_with("https://") || v.starts_with("http://"))
            {
                return Err(invalid("outbound", "report.outbound_url"));
            }
            out.insert(k.to_owned(), v.to_owned());
        }
        let (v, key) = self.sealing_key(project).await?;
        let token = hex::encode(random::<16>());
        let outbound_json =
            serde_json::to_string(&out).map_err(|e| CoreError::Internal(e.to_string()))?;
        let now = self.now();
        let id = self
            .store
            .insert_channel(
                project,
                &token,
                g.code(),
                name,
                &seal(&key, project, &format!("channel-secret:{token}"), secret),
                &seal(
                    &key,
                    project,
                    &format!("channel-outbound:{token}"),
                    &outbound_json,
                ),
                v,
                now,
            )
            .await?;
        self.audit(
            Actor::of(principal),
            "report.channel_add",
            &Target::project(access.project.id),
            json!({"channel": id, "gateway": g.code(), "name": name,
                   "outbound": out.keys().collect::<Vec<_>>()}),
        )
        .await?;
        let mut keys: Vec<String> = out.into_keys().collect();
        keys.sort();
        Ok(ChannelView {
            id,
            gateway: g.code().into(),
            name: name.into(),
            webhook_path: format!("/hooks/reports/{token}"),
            enabled: true,
            outbound_keys: keys,
            created_at: now,
        })
    }

    /// A project's channels (owners).
    pub async fn report_channels(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<ChannelView>, CoreError> {
        access.require(Permission::ManageProject)?;
        let project = access.project.id.0;
        let mut out = Vec::new();
        for c in self.store.channels(project).await? {
            let key = self.data_key(project, c.key_version).await?;
            let o: HashMap<String, String> = serde_json::from_str(&open(
                &key,
                project,
                &format!("channel-outbound:{}", c.token),
                &c.outbound,
            )?)
            .unwrap_or_default();
            let mut keys: Vec<String> = o.into_keys().collect();
            keys.sort();
            out.push(ChannelView {
                id: c.id,
                gateway: c.gateway.clone(),
                name: c.name.clone(),
                webhook_path: format!("/hooks/reports/{}", c.token),
                enabled: c.enabled,
                outbound_keys: keys,
                created_at: c.created_at,
            });
        }
        Ok(out)
    }

    /// Turns a channel off (its webhooks are refused) or on again (owners).
    pub async fn set_report_channel_enabled(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        id: i64,
        enabled: bool,
    ) -> Result<(), CoreError> {
        access.require(Permission::ManageProject)?;
        let c = self
            .store
            .channel(id)
            .await?
            .filter(|c| c.project_id == access.project.id.0)
            .ok_or(CoreError::NotFound { what: "channel" })?;
        self.store
            .set_channel_enabled(c.id, enabled, self.now())
            .await?;
        self.reports_cache
            .channels
            .lock()
            .map_err(cache_poisoned)?
            .remove(&c.token);
        self.audit(
            Actor::of(principal),
            if enabled {
                "report.channel_on"
            } else {
                "report.channel_off"
            },
            &Target::project(access.project.id),
            json!({"channel": c.id, "gateway": c.gateway}),
        )
        .await?;
        Ok(())
    }

    async fn channel_secrets(
        &self,
        c: &ChannelRow,
    ) -> Result<(String, HashMap<String, String>), CoreError> {
        let key = self.data_key(c.project_id, c.key_version).await?;
        let secret = open(
            &key,
            c.project_id,
            &format!("channel-secret:{}", c.token),
            &c.secret,
        )?;
        let outbound = serde_json::from_str(&open(
            &key,
            c.project_id,
            &format!("channel-outbound:{}", c.token),
            &c.outbound,
        )?)
        .unwrap_or_default();
        Ok((secret, outbound))
    }

    /// Takes one webhook call of the channel named by `token`: checked, read, deduplicated,
    /// stored with its report and reply. A repeat and a genuine event that is not a message
    /// are acknowledged and store nothing.
    pub async fn receive_report_webhook(
        &self,
        token: &str,
        req: &WebhookRequest<'_>,
    ) -> Result<WebhookOutcome, CoreError> {
        let open = self.channel_of_token(token).await?;
        let (c, secret) = (&open.0, open.1.clone());
        let g = Gateway::from_code(&c.gateway).ok_or_else(|| {
            CoreError::Internal(format!("channel {}: gateway {}", c.id, c.gateway))
        })?;
        if !c.enabled {
            return Err(CoreError::WebhookRefused {
                reason: "this channel is turned off".into(),
            });
        }
        let config = InboundConfig {
            gateway: g,
            secret,
            default_country: self.country_code(),
        };
        let now = time::OffsetDateTime::from_unix_timestamp(self.now())
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let ack = gateway::acknowledgement(g);
        let msg = match gateway::receive(&config, req, now) {
            Ok(m) => m,
            Err(GatewayError::NotAMessage { .. }) => {
                return Ok(WebhookOutcome {
                    ack,
                    report_id: None,
                    repeat: false,
                })
            }
            Err(GatewayError::Unauthorized { reason, .. }) => {
                return Err(CoreError::WebhookRefused {
                    reason: reason.into(),
                })
            }
            Err(e) => {
                return Err(CoreError::WebhookInvalid {
                    detail: e.to_string(),
                })
            }
        };
        let project = c.project_id;
        let sender = self.pseudonym(project, &msg.from).await?;
        let received = msg.received_at.unix_timestamp();
        let window = dedup::window_of(self.now(), DEDUP_WINDOW_SECS);
        let content_key = dedup::content_key(&msg.text, &sender, window);
        let repeat_keys = [
            content_key.clone(),
            dedup::content_key(&msg.text, &sender, window - 1),
        ];
        let cached = self.settings_of(project).await?;
        let settings = &cached.parsed;
        let places = self.places_index().await?;
        // An SMS form's keyword first, then a category keyword and a place.
        let mut forms = Vec::new();
        for def in &settings.sms_forms {
            if let Ok(f) = self.sms_form(baraza_types::ProjectId(project), def).await {
                forms.push((def, f));
            }
        }
        let sms_forms: Vec<SmsForm> = forms.iter().map(|(_, f)| f.clone()).collect();
        let (v, key) = self.sealing_key(project).await?;
        let sealed_from = seal(&key, project, &format!("sender:{sender}"), &msg.from);
        let mut reply: Option<String> = None;
        let mut free_place: Option<Lookup> = None;
        let mut report: Option<Parsed> = None;
        let free_categories: Vec<Category> = settings
            .categories
            .iter()
            .map(|c| Category {
                code: c.code.clone(),
                keywords: c.keywords.clone(),
            })
            .collect();
        if let Some(form) = smsform::route(&sms_forms, &msg.text) {
            let def = forms
                .iter()
                .find(|(_, f)| f.form_id == form.form_id)
                .map(|(d, _)| *d);
            match form.parse(&msg.text) {
                Ok(answers) => {
                    let keyword = msg
                        .text
                        .split_whitespace()
                        .next()
                        .unwrap_or_default()
                        .to_uppercase();
                    reply = Some(answers.confirmation(&keyword));
                    let map: serde_json::Map<String, serde_json::Value> = answers
                        .answers
                        .iter()
                        .map(|(n, a)| {
                            let v = match a {
                                smsform::Answer::Integer(i) => json!(i),
                                smsform::Answer::Decimal(d) => json!(d),
                                smsform::Answer::Choice(c) | smsform::Answer::Text(c) => json!(c),
                            };
                            (n.clone(), v)
                        })
                        .collect();
                    let body = msg.text.trim().to_owned();
                    let category = def.map(|d| d.category.clone()).unwrap_or_default();
                    report = Some(Parsed {
                        category,
                        body,
                        form_id: Some(form.form_id.clone()),
                        answers: serde_json::Value::Object(map).to_string(),
                    });
                }
                Err(e) => reply = Some(e.reply()),
            }
        } else {
            let ft = gazetteer::free_text(&msg.text, &free_categories, &places.gazetteer);
            free_place = Some(ft.place);
            report = Some(Parsed {
                category: ft.category.unwrap_or_default(),
                body: msg.text.trim().to_owned(),
                form_id: None,
                answers: "{}".into(),
            });
        }
        let mut stored_report = None;
        let lookup = match (free_place, &report) {
            (Some(l), _) => Some(l),
            (None, Some(r)) => places.gazetteer.find_in(&r.body).map(|(l, _)| l),
            (None, None) => None,
        };
        let (place_code, place_match) = match lookup {
            Some(Lookup::Found(m)) => (
                Some(places.gazetteer.place(&m).id.clone()),
                match m.kind {
                    MatchKind::Exact => "exact",
                    MatchKind::Variant => "variant",
                    MatchKind::Fuzzy => "typo",
                },
            ),
            Some(Lookup::Ambiguous(_)) => (None, "ambiguous"),
            _ => (None, "none"),
        };
        let centre = place_code.as_deref().and_then(|c| places.centre(c));
        if let Some(Parsed {
            category,
            body,
            form_id,
            answers,
        }) = report
        {
            if reply.is_none() {
                // A free-text report's language is not known: a short reply in both.
                reply = Some(
                    "Merci, votre signalement est reçu ; il sera vérifié. / Thank you, your report was received; it will be checked."
                        .into(),
                );
            }
            stored_report = Some(NewReport {
                project_id: project,
                source: "sms".into(),
                channel_id: Some(c.id),
                form_id,
                answers,
                category,
                body,
                place_code: place_code.clone(),
                place_match: place_match.into(),
                lat: centre.map(|p| p.lat),
                lon: centre.map(|p| p.lon),
                sender: Some(sender.clone()),
                sender_sealed: Some(sealed_from.clone()),
                key_version: Some(v),
                author_id: None,
                reported_at: received,
                created_at: self.now(),
            });
        }
        let replies: Vec<NewOutgoing> = reply
            .map(|body| NewOutgoing {
                channel_id: c.id,
                kind: "reply".into(),
                recipient: sender.clone(),
                recipient_sealed: sealed_from.clone(),
                key_version: v,
                body,
                uuid: hex::encode(random::<12>()),
                next_at_ms: self.now() * 1000,
                created_at: self.now(),
            })
            .into_iter()
            .collect();
        // For the alert check once stored.
        let alert_on = stored_report
            .as_ref()
            .and_then(|r| Some((r.category.clone(), r.place_code.clone()?)));
        let outcome = self
            .store
            .ingest_message(NewMessage {
                channel_id: c.id,
                provider_id: msg.provider_message_id.clone(),
                outcome: if stored_report.is_some() {
                    "report"
                } else {
                    "form_error"
                }
                .into(),
                content_key,
                repeat_keys,
                sender,
                received_at: received,
                report: stored_report,
                replies,
            })
            .await?;
        match outcome {
            MessageOutcome::Repeat => Ok(WebhookOutcome {
                ack,
                report_id: None,
                repeat: true,
            }),
            MessageOutcome::Stored { report_id } => {
                if let (Some(_), Some((category, place))) = (report_id, &alert_on) {
                    self.check_alert(project, category, place).await?;
                }
                Ok(WebhookOutcome {
                    ack,
                    report_id,
                    repeat: false,
                })
            }
        }
    }

    /// An SMSSync phone's poll (`GET ?task=send&secret=…`): the replies waiting for it. Its
    /// report of what it sent (`POST ?task=sent` with `queued_messages`) marks them sent.
    pub async fn smssync_task(
        &self,
        token: &str,
        secret_given: &str,
        sent: Option<&[String]>,
    ) -> Result<serde_json::Value, CoreError> {
        let c = self
            .store
            .channel_by_token(token)
            .await?
            .filter(|c| c.gateway == "smssync")
            .ok_or(CoreError::NotFound { what: "channel" })?;
        let (secret, _) = self.channel_secrets(&c).await?;
        if !c.enabled || !crate::secret::constant_time_eq(&secret, secret_given) {
            return Err(CoreError::WebhookRefused {
                reason: "the secret does not match".into(),
            });
        }
        if let Some(uuids) = sent {
            let n = self
                .store
                .outgoing_sent_by_uuid(c.id, uuids, self.now())
                .await?;
            return Ok(json!({"message_uuids": uuids, "marked": n}));
        }
        let key_cache = self.data_keys(c.project_id).await?;
        let mut pending = Vec::new();
        for o in self.store.pending_outgoing(c.id, 50).await? {
            let key = key_cache
                .get(&o.key_version)
                .ok_or_else(|| CoreError::Internal("outbox key missing".into()))?;
            pending.push(PendingSms {
                to: open(
                    key,
                    c.project_id,
                    &format!("sender:{}", o.recipient),
                    &o.recipient_sealed,
                )?,
                text: o.body.clone(),
                uuid: o.uuid.clone(),
            });
        }
        Ok(gateway::smssync_task_response(&secret, &pending))
    }

    /// Sends the replies and alerts that are due, each through its channel within its rate,
    /// and schedules failures again with backoff. Returns how many were sent.
    pub async fn send_due_replies(&self) -> Result<usize, CoreError> {
        let now_ms = self.now() * 1000;
        let due = self.store.due_outgoing(now_ms, 200).await?;
        if due.is_empty() {
            return Ok(0);
        }
        let fetcher = Fetcher::new(self.settings.harvest_allow_private_addresses)?;
        let mut channels: HashMap<i64, Option<OpenChannel>> = HashMap::new();
        let mut sent = 0;
        for o in due {
            if let std::collections::hash_map::Entry::Vacant(slot) = channels.entry(o.channel_id) {
                let c = match self.store.channel(o.channel_id).await? {
                    Some(c) => {
                        let (s, out) = self.channel_secrets(&c).await?;
                        Some((c, s, out))
                    }
                    None => None,
                };
                slot.insert(c);
            }
            let Some(Some((c, secret, out))) = channels.get_mut(&o.channel_id) else {
                continue;
            };
            let Some(g) = Gateway::from_code(&c.gateway) else {
                continue;
            };
            let Some(ob) = outbound_of(g, secret, out) else {
                // Without reply settings nothing can ever leave: given up at once, not retried.
                tracing::debug!(
                    outbox = o.id,
                    channel = c.id,
                    "reply dropped: the channel has no reply settings"
                );
                self.store
                    .outgoing_failed(o.id, "the channel has no reply settings", None)
                    .await?;
                continue;
            };
            let policy = Outbox::for_gateway(g);
            let bucket = match (c.bucket_milli, c.bucket_at_ms) {
                (Some(m), Some(at)) => gateway::Bucket {
                    milli_tokens: m.max(0) as u64,
                    at_ms: at,
                },
                _ => policy.full_bucket(now_ms),
            };
            let Ok(bucket) = policy.take(bucket, now_ms) else {
                continue;
            };
            c.bucket_milli = Some(bucket.milli_tokens as i64);
            c.bucket_at_ms = Some(bucket.at_ms);
            self.store
                .set_channel_bucket(c.id, bucket.milli_tokens as i64, bucket.at_ms)
                .await?;
            let key = self.data_key(c.project_id, o.key_version).await?;
            let to = open(
                &key,
                c.project_id,
                &format!("sender:{}", o.recipient),
                &o.recipient_sealed,
            )?;
            let result = match gateway::build_reply(&ob, &to, &o.body, &o.uuid) {
                Err(e) => Err(e.to_string()),
                Ok(req) => {
                    let url = match out.get("api_base") {
                        Some(b) => rebase(&req.url, b),
                        None => req.url.clone(),
                    };
                    send(&fetcher, &url, &req).await
                }
            };
            match result {
                Ok(()) => {
                    if self.store.outgoing_sent(o.id, self.now()).await? {
                        sent += 1;
                    }
                }
                Err(e) => {
                    let jitter = u64::from_le_bytes(random::<8>());
                    let next = policy.next_attempt_at((o.attempts + 1) as u32, now_ms, jitter);
                    // The error names the gateway's answer, never the number.
                    let e = e.replace(&to, "[number]");
                    tracing::warn!(outbox = o.id, channel = c.id, error = %e, "reply not sent");
                    self.store.outgoing_failed(o.id, &e, next).await?;
                }
            }
        }
        Ok(sent)
    }

    /// Records an alert when reports of a category in a place reach the project's threshold
    /// within its window, and queues it for the numbers to tell (once per window).
    async fn check_alert(
        &self,
        project: i64,
        category: &str,
        place: &str,
    ) -> Result<(), CoreError> {
        let cached = self.settings_of(project).await?;
        let Some(s) = &cached.row else {
            return Ok(());
        };
        if s.alert_threshold <= 0 || category.is_empty() {
            return Ok(());
        }
        let now = self.now();
        let window = s.alert_window_hours.max(1) * 3600;
        let start = now - now.rem_euclid(window);
        // Once a spike has its alert, its later reports need no count: this server remembers
        // the alerts it raised (another server's are found by the insert below).
        let raised = (project, category.to_owned(), place.to_owned(), start);
        if self
            .reports_cache
            .raised
            .lock()
            .map_err(cache_poisoned)?
            .contains(&raised)
        {
            return Ok(());
        }
        let n = self
            .store
            .count_reports_in(project, category, place, now - window)
            .await?;
        if n < s.alert_threshold {
            return Ok(());
        }
        let inserted = self
            .store
            .insert_alert(project, category, place, start, n, now)
            .await?;
        {
            let mut set = self.reports_cache.raised.lock().map_err(cache_poisoned)?;
            // Windows that are over are forgotten.
            set.retain(|(_, _, _, at)| *at >= now - 2 * window);
            set.insert(raised);
        }
        let Some(alert) = inserted else {
            return Ok(());
        };
        let places = self.places_index().await?;
        let place_name = places
            .by_code
            .get(place)
            .map(|&i| places.points[i].name.clone())
            .unwrap_or_else(|| place.to_owned());
        let mut told = 0;
        if let (Some(sealed), Some(v)) = (&s.alert_phones, s.alert_key_version) {
            let key = self.data_key(project, v).await?;
            let numbers: Vec<String> =
                serde_json::from_str(&open(&key, project, "alert-phones", sealed)?)
                    .unwrap_or_default();
            let channel = self
                .store
                .channels(project)
                .await?
                .into_iter()
                .find(|c| c.enabled);
            if let Some(c) = channel {
                let (sv, skey) = self.sealing_key(project).await?;
                let body = format!(
                    "Baraza: {n} signalements « {category} » à {place_name} en {h} h / {n} \"{category}\" reports in {place_name} within {h} h.",
                    h = s.alert_window_hours
                );
                for number in numbers {
                    let pseudo = self.pseudonym(project, &number).await?;
                    let sealed = seal(&skey, project, &format!("sender:{pseudo}"), &number);
                    let uuid = hex::encode(random::<12>());
                    self.store
                        .queue_outgoing(&NewOutgoing {
                            channel_id: c.id,
                            kind: "alert".into(),
                            recipient: pseudo,
                            recipient_sealed: sealed,
                            key_version: sv,
                            body: body.clone(),
                            uuid,
                            next_at_ms: now * 1000,
                            created_at: now,
                        })
                        .await?;
                    told += 1;
                }
            }
        }
        self.store.set_alert_notified(alert, told).await?;
        self.audit(
            Actor::System,
            "report.alert",
            &Target::project(baraza_types::ProjectId(project)),
            json!({"category": category, "place": place, "count": n, "told": told}),
        )
        .await?;
        Ok(())
    }

    /// A project's alerts, newest first (moderators).
    pub async fn report_alerts(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<baraza_store::AlertRow>, CoreError> {
        access.require(Permission::ModerateReports)?;
        Ok(self.store.report_alerts(access.project.id.0, 100).await?)
    }

    /// Stores a report from the web form: signed in or not, when the project takes them.
    pub async fn submit_web_report(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        input: &WebReportInput,
        client_addr: &str,
    ) -> Result<i64, CoreError> {
        access.require(Permission::ViewProject)?;
        let project = access.project.id.0;
        let settings = parse_settings(self.store.report_settings(project).await?);
        if !settings.web_form && !access.can(Permission::ModerateReports) {
            return Err(CoreError::NotFound {
                what: "report_form",
            });
        }
        let body = input.body.trim();
        if body.is_empty() {
            return Err(invalid("body", "report.body_missing"));
        }
        if body.chars().count() > MAX_REPORT_CHARS {
            return Err(invalid("body", "report.body_long"));
        }
        if principal.user().is_none() {
            // The anonymous form is limited per address, as public web forms are.
            self.rate(
                "public-report",
                client_addr,
                self.settings.public_submissions_per_hour,
            )
            .await?;
        }
        let category = input.category.trim().to_lowercase();
        if !category.is_empty() && !settings.categories.iter().any(|c| c.code == category) {
            return Err(invalid("category", "report.category_unknown"));
        }
        let places = self.places_index().await?;
        let place = input.place.trim();
        let (place_code, place_match) = if place.is_empty() {
            match places.gazetteer.find_in(body).map(|(l, _)| l) {
                Some(Lookup::Found(m)) => (
                    Some(places.gazetteer.place(&m).id.clone()),
                    match m.kind {
                        MatchKind::Exact => "exact",
                        MatchKind::Variant => "variant",
                        MatchKind::Fuzzy => "typo",
                    },
                ),
                Some(Lookup::Ambiguous(_)) => (None, "ambiguous"),
                _ => (None, "none"),
            }
        } else if places.by_code.contains_key(place) {
            (Some(place.to_owned()), "given")
        } else {
            return Err(invalid("place", "report.place_unknown"));
        };
        let coord = |s: &str, field: &'static str, max: f64| -> Result<Option<f64>, CoreError> {
            let s = s.trim().replace(',', ".");
            if s.is_empty() {
                return Ok(None);
            }
            match s.parse::<f64>() {
                Ok(v) if v.is_finite() && v.abs() <= max => Ok(Some(v)),
                _ => Err(invalid(field, "report.coordinate")),
            }
        };
        let lat = coord(&input.lat, "lat", 90.0)?;
        let lon = coord(&input.lon, "lon", 180.0)?;
        if lat.is_some() != lon.is_some() {
            return Err(invalid("lat", "report.coordinate"));
        }
        let (lat, lon) = match (lat, lon) {
            (Some(a), Some(o)) => (Some(a), Some(o)),
            _ => {
                let c = place_code.as_deref().and_then(|c| places.centre(c));
                (c.map(|p| p.lat), c.map(|p| p.lon))
            }
        };
        let contact = input.contact.trim();
        if contact.chars().count() > 200 {
            return Err(invalid("contact", "report.contact_long"));
        }
        let (sender, sealed, v) = if contact.is_empty() {
            (None, None, None)
        } else {
            let norm = baraza_reports::phone::normalize(contact, &self.country_code())
                .unwrap_or_else(|_| contact.to_lowercase());
            let pseudo = self.pseudonym(project, &norm).await?;
            let (v, key) = self.sealing_key(project).await?;
            let sealed = seal(&key, project, &format!("sender:{pseudo}"), &norm);
            (Some(pseudo), Some(sealed), Some(v))
        };
        let now = self.now();
        let id = self
            .store
            .insert_report(&NewReport {
                project_id: project,
                source: "web".into(),
                channel_id: None,
                form_id: None,
                answers: "{}".into(),
                category: category.clone(),
                body: body.to_owned(),
                place_code: place_code.clone(),
                place_match: place_match.into(),
                lat,
                lon,
                sender,
                sender_sealed: sealed,
                key_version: v,
                author_id: principal.user().map(|u| u.id.0),
                reported_at: now,
                created_at: now,
            })
            .await?;
        if let Some(p) = &place_code {
            self.check_alert(project, &category, p).await?;
        }
        Ok(id)
    }

    fn report_view(
        &self,
        r: &ReportRow,
        moderator: bool,
        settings: &ReportSettings,
        places: &Places,
    ) -> ReportView {
        let (lat, lon) = if moderator {
            (r.lat, r.lon)
        } else {
            let exact = match (r.lat, r.lon) {
                (Some(lat), Some(lon)) => Some(Point { lat, lon }),
                _ => None,
            };
            let p = ReportIndex::public_position(
                settings.fuzz,
                settings.fuzz_km,
                exact,
                r.place_code.as_deref(),
                places,
            );
            (p.map(|p| p.lat), p.map(|p| p.lon))
        };
        ReportView {
            id: r.id,
            source: r.source.clone(),
            channel: if moderator {
                r.channel_name.clone()
            } else {
                String::new()
            },
            form_id: r.form_id.clone(),
            answers: serde_json::from_str(&r.answers).unwrap_or(json!({})),
            category: r.category.clone(),
            body: r.body.clone(),
            place_code: r.place_code.clone(),
            place_name: r.place_name.clone(),
            place_match: if moderator {
                r.place_match.clone()
            } else {
                String::new()
            },
            lat,
            lon,
            state: r.state.clone(),
            sender: if moderator {
                r.sender.as_ref().map(|s| s.chars().take(10).collect())
            } else {
                None
            },
            author: if moderator || !settings.hide_author {
                (!r.author_name.is_empty()).then(|| r.author_name.clone())
            } else {
                None
            },
            reported_at: if moderator || !settings.hide_time {
                Some(r.reported_at)
            } else {
                None
            },
            modified_at: if moderator || !settings.hide_time {
                r.modified_at
            } else {
                day_of(r.modified_at)
            },
        }
    }

    /// The moderation queue (moderators: every state) or the published reports (anyone who
    /// sees the project), newest first.
    pub async fn report_list(
        &self,
        access: &ProjectAccess,
        f: &ReportFilter,
    ) -> Result<ReportList, CoreError> {
        access.require(Permission::ViewProject)?;
        let moderator = access.can(Permission::ModerateReports);
        let project = access.project.id.0;
        let settings = parse_settings(self.store.report_settings(project).await?);
        let places = self.places_index().await?;
        for s in &f.states {
            if State::from_code(s).is_none() {
                return Err(invalid("state", "report.state_unknown"));
            }
        }
        let states = if moderator {
            f.states.clone()
        } else {
            vec![State::Published.code().to_owned()]
        };
        let day = |s: &Option<String>, field: &'static str| -> Result<Option<i64>, CoreError> {
            match s.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
                None => Ok(None),
                Some(d) => parse_day(d).map(Some).ok_or(invalid(field, "report.day")),
            }
        };
        let from = day(&f.from, "from")?;
        let to = day(&f.to, "to")?.map(|t| t + 86_400);
        let page = f.page.max(1);
        let query = ReportQuery {
            states,
            category: f.category.clone().filter(|c| !c.is_empty()),
            places: f
                .place
                .as_deref()
                .filter(|p| !p.is_empty())
                .map(|p| places.with_descendants(p))
                .unwrap_or_default(),
            from,
            to,
            sender: if moderator {
                f.sender
                    .clone()
                    .filter(|s| s.len() >= 6 && s.chars().all(|c| c.is_ascii_hexdigit()))
            } else {
                None
            },
            limit: PAGE_SIZE,
            offset: (page - 1) * PAGE_SIZE,
        };
        let (rows, total) = self.store.reports(project, &query).await?;
        Ok(ReportList {
            total,
            page,
            reports: rows
                .iter()
                .map(|r| self.report_view(r, moderator, &settings, &places))
                .collect(),
            counts: if moderator {
                self.store.report_counts(project).await?
            } else {
                Vec::new()
            },
            moderator,
        })
    }

    /// One report: the public sees a published one; moderators see any, with its checklist,
    /// comments and replies; people who may see personal data also see its sender's number.
    pub async fn report_detail(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        id: i64,
    ) -> Result<ReportDetail, CoreError> {
        access.require(Permission::ViewProject)?;
        let moderator = access.can(Permission::ModerateReports);
        let project = access.project.id.0;
        let r = self
            .store
            .report(id)
            .await?
            .filter(|r| r.project_id == project)
            .filter(|r| moderator || r.state == State::Published.code())
            .ok_or(CoreError::NotFound { what: "report" })?;
        let settings = parse_settings(self.store.report_settings(project).await?);
        let places = self.places_index().await?;
        let view = self.report_view(&r, moderator, &settings, &places);
        if !moderator {
            return Ok(ReportDetail {
                report: view,
                sender_contact: None,
                checklist: Vec::new(),
                next_states: Vec::new(),
                comments: Vec::new(),
                replies: Vec::new(),
            });
        }
        let ticked: HashMap<String, bool> = serde_json::from_str(&r.checklist).unwrap_or_default();
        let sender_contact = match (&r.sender_sealed, r.key_version, &r.sender) {
            (Some(sealed), Some(v), Some(pseudo)) if access.can(Permission::ViewPersonal) => {
                let key = self.data_key(project, v).await?;
                let clear = open(&key, project, &format!("sender:{pseudo}"), sealed)?;
                self.audit(
                    Actor::of(principal),
                    "report.sender_read",
                    &Target::project(access.project.id),
                    json!({"report": r.id}),
                )
                .await?;
                Some(clear)
            }
            _ => None,
        };
        let from = State::from_code(&r.state).unwrap_or(State::InReview);
        Ok(ReportDetail {
            report: view,
            sender_contact,
            checklist: settings
                .checklist
                .iter()
                .map(|c| (c.clone(), ticked.get(c).copied().unwrap_or(false)))
                .collect(),
            next_states: from.next().iter().map(|s| s.code().to_owned()).collect(),
            comments: self
                .store
                .report_comments(id)
                .await?
                .into_iter()
                .map(|c| CommentView {
                    author: c.author_name,
                    body: c.body,
                    created_at: c.created_at,
                })
                .collect(),
            replies: self
                .store
                .report_outgoing(id)
                .await?
                .into_iter()
                .map(|o| ReplyView {
                    body: o.body,
                    state: o.state,
                    attempts: o.attempts,
                    last_error: o.last_error,
                })
                .collect(),
        })
    }

    /// Moves a report to another state with the checklist as ticked (moderators). `verified`
    /// and `published` need every item ticked.
    pub async fn moderate_report(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        id: i64,
        to: &str,
        ticked: &[String],
    ) -> Result<(), CoreError> {
        access.require(Permission::ModerateReports)?;
        let project = access.project.id.0;
        let r = self
            .store
            .report(id)
            .await?
            .filter(|r| r.project_id == project)
            .ok_or(CoreError::NotFound { what: "report" })?;
        let from = State::from_code(&r.state)
            .ok_or_else(|| CoreError::Internal(format!("report {id}: state {}", r.state)))?;
        let to_state = State::from_code(to).ok_or(invalid("state", "report.state_unknown"))?;
        let settings = parse_settings(self.store.report_settings(project).await?);
        let checklist: HashMap<String, bool> = settings
            .checklist
            .iter()
            .map(|c| (c.clone(), ticked.contains(c)))
            .collect();
        if to_state != from {
            moderation::transition(from, to_state).map_err(|_| CoreError::ReportTransition {
                from: from.code(),
                to: to_state.code(),
            })?;
            if matches!(to_state, State::Verified | State::Published)
                && checklist.values().any(|t| !t)
            {
                return Err(invalid("checklist", "report.checklist_incomplete"));
            }
        }
        let json_list =
            serde_json::to_string(&checklist).map_err(|e| CoreError::Internal(e.to_string()))?;
        if !self
            .store
            .set_report_state(
                id,
                project,
                from.code(),
                to_state.code(),
                &json_list,
                self.now(),
            )
            .await?
        {
            return Err(CoreError::ReportTransition {
                from: from.code(),
                to: to_state.code(),
            });
        }
        self.audit(
            Actor::of(principal),
            "report.state",
            &Target::project(access.project.id),
            json!({"report": id, "from": from.code(), "to": to_state.code(),
                   "checklist": checklist.values().filter(|t| **t).count()}),
        )
        .await?;
        Ok(())
    }

    /// Adds a moderator's comment to a report.
    pub async fn comment_report(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        id: i64,
        body: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ModerateReports)?;
        let body = body.trim();
        if body.is_empty() {
            return Err(invalid("body", "report.body_missing"));
        }
        if body.chars().count() > MAX_COMMENT_CHARS {
            return Err(invalid("body", "report.body_long"));
        }
        self.store
            .report(id)
            .await?
            .filter(|r| r.project_id == access.project.id.0)
            .ok_or(CoreError::NotFound { what: "report" })?;
        self.store
            .add_report_comment(id, principal.user().map(|u| u.id.0), body, self.now())
            .await?;
        self.audit(
            Actor::of(principal),
            "report.comment",
            &Target::project(access.project.id),
            json!({"report": id}),
        )
        .await?;
        Ok(())
    }

    /// Corrects a report's category and place (moderators).
    pub async fn relocate_report(
        &self,
        principal: &Principal,
        access: &ProjectAccess,
        id: i64,
        category: &str,
        place: &str,
    ) -> Result<(), CoreError> {
        access.require(Permission::ModerateReports)?;
        let project = access.project.id.0;
        let r = self
            .store
            .report(id)
            .await?
            .filter(|r| r.project_id == project)
            .ok_or(CoreError::NotFound { what: "report" })?;
        let settings = parse_settings(self.store.report_settings(project).await?);
        let category = category.trim().to_lowercase();
        if !category.is_empty() && !settings.categories.iter().any(|c| c.code == category) {
            return Err(invalid("category", "report.category_unknown"));
        }
        let places = self.places_index().await?;
        let place = place.trim();
        let (code, centre) = if place.is_empty() {
            (None, None)
        } else if places.by_code.contains_key(place) {
            (Some(place), places.centre(place))
        } else {
            return Err(invalid("place", "report.place_unknown"));
        };
        let (lat, lon) = match (code == r.place_code.as_deref(), r.lat, r.lon) {
            (true, lat, lon) => (lat, lon),
            _ => (centre.map(|c| c.lat), centre.map(|c| c.lon)),
        };
        self.store
            .set_report_place(id, project, &category, code, lat, lon, self.now())
            .await?;
        self.audit(
            Actor::of(principal),
            "report.place",
            &Target::project(access.project.id),
            json!({"report": id, "category": category, "place": code}),
        )
        .await?;
        Ok(())
    }

    /// The index of a project's reports, brought up to date.
    async fn report_index(
        &self,
        project: i64,
    ) -> Result<Arc<tokio::sync::Mutex<ReportIndex>>, CoreError> {
        let idx = self
            .report_indexes
            .by_project
            .lock()
            .map_err(|_| CoreError::Internal("report index poisoned".into()))?
            .entry(project)
            .or_default()
            .clone();
        Ok(idx)
    }

    /// The map's clusters of a project's reports within `bbox` at `zoom`: moderators see every
    /// state they ask for at exact positions; others see published reports at their public
    /// positions, in clusters of at least the project's k.
    pub async fn report_map(
        &self,
        access: &ProjectAccess,
        bbox: BBox,
        zoom: u8,
        f: &MapFilter,
    ) -> Result<MapData, CoreError> {
        access.require(Permission::ViewProject)?;
        let moderator = access.can(Permission::ModerateReports);
        let project = access.project.id.0;
        let cached = self.settings_of(project).await?;
        let settings = &cached.parsed;
        let places = self.places_index().await?;
        let idx = self.report_index(project).await?;
        let mut idx = idx.lock().await;
        if self.store.report_version(project).await? != idx.version {
            let (points, version) = self.store.report_points_since(project, idx.version).await?;
            idx.apply(points, &places);
            idx.version = version;
        }
        if !moderator {
            idx.refuzz(settings.fuzz, settings.fuzz_km, &places);
        }
        let key = format!(
            "{}|{moderator}|{zoom}|{:?}|{:?}|{}|{:?}|{:?}|{:?}|{:?}|{:?}",
            idx.version,
            (bbox.south, bbox.west, bbox.north, bbox.east),
            idx.fuzz,
            settings.k_threshold,
            f.category,
            f.states,
            f.place,
            f.from,
            f.to
        );
        if let Some((_, hit)) = idx.recent.iter().find(|(k, _)| *k == key) {
            return Ok(hit.clone());
        }
        let category = match &f.category {
            Some(c) => match idx.categories.iter().position(|x| x == c) {
                Some(i) => Some(i as u16),
                None => Some(u16::MAX),
            },
            None => None,
        };
        let mut state_mask = 0u8;
        if moderator {
            for s in &f.states {
                let code = State::from_code(s).ok_or(invalid("state", "report.state_unknown"))?;
                state_mask |= 1 << state_index(code.code());
            }
            if state_mask == 0 {
                state_mask = !0;
            }
        } else {
            state_mask = 1 << state_index(State::Published.code());
        }
        let place_set: Option<Vec<bool>> = f.place.as_deref().filter(|p| !p.is_empty()).map(|p| {
            let codes = places.with_descendants(p);
            idx.places.iter().map(|c| codes.contains(c)).collect()
        });
        let (from, to) = (f.from.unwrap_or(i64::MIN), f.to.unwrap_or(i64::MAX));
        let mut unplaced = 0u64;
        let mut pts = Vec::new();
        for it in &idx.items {
            if state_mask & (1 << it.state) == 0
                || category.is_some_and(|c| c != it.category)
                || it.reported_at < from
                || it.reported_at >= to
            {
                continue;
            }
            if let Some(set) = &place_set {
                if it.place == u32::MAX || !set[it.place as usize] {
                    continue;
                }
            }
            let (lat, lon) = if moderator {
                (it.lat, it.lon)
            } else {
                (it.plat, it.plon)
            };
            if lat.is_nan() {
                unplaced += 1;
                continue;
            }
            let p = Point {
                lat: f64::from(lat),
                lon: f64::from(lon),
            };
            if bbox.contains(p) {
                pts.push(p);
            }
        }
        let clusters = cluster::cluster(pts.iter().copied(), zoom);
        let shown = pts.len() as u64;
        let k = settings.k_threshold.max(1);
        let (cells, hidden) = if moderator {
            (
                clusters
                    .cells
                    .iter()
                    .map(|c| MapCluster {
                        lat: c.lat,
                        lon: c.lon,
                        count: c.count,
                        zoom: c.zoom,
                        merged: false,
                    })
                    .collect(),
                0,
            )
        } else {
            let public = cluster::k_anonymous(&clusters, k as u64, 3);
            (
                public
                    .shown
                    .iter()
                    .map(|c| MapCluster {
                        lat: c.lat,
                        lon: c.lon,
                        count: c.count,
                        zoom: c.zoom,
                        merged: c.zoom != zoom,
                    })
                    .collect(),
                public.hidden,
            )
        };
        let data = MapData {
            zoom,
            clusters: cells,
            shown: shown - hidden,
            hidden,
            unplaced,
            moderator,
            k,
        };
        if idx.recent.len() >= RECENT_MAPS {
            idx.recent.remove(0);
        }
        idx.recent.push((key, data.clone()));
        Ok(data)
    }

    /// The places that reports can name (for forms and filters).
    pub async fn report_places(&self) -> Result<Vec<(String, String, Option<String>)>, CoreError> {
        let p = self.places_index().await?;
        Ok(p.points
            .iter()
            .map(|p| (p.code.clone(), p.name.clone(), p.parent.clone()))
            .collect())
    }

    /// Whether the reader moderates this project's reports.
    pub fn moderates(access: &ProjectAccess) -> bool {
        access.can(Permission::ModerateReports)
    }
}

/// Sends one described request; an answer other than 2xx is an error naming its status.
async fn send(fetcher: &Fetcher, url: &str, req: &gateway::HttpRequest) -> Result<(), String> {
    let u = fetcher.check(url).await.map_err(|e| e.to_string())?;
    let (body, ct) = req.body.encode();
    let mut r = fetcher
        .client()
        .request(
            reqwest::Method::from_bytes(req.method.as_bytes()).unwrap_or(reqwest::Method::POST),
            u,
        )
        .header(reqwest::header::CONTENT_TYPE, ct)
        .body(body);
    for (k, v) in &req.headers {
        r = r.header(k.as_str(), v.as_str());
    }
    let res = r
        .send()
        .await
        .map_err(|e| format!("the gateway could not be reached: {e}"))?;
    if res.status().is_success() {
        Ok(())
    } else {
        Err(format!(
            "the gateway answered HTTP {}",
            res.status().as_u16()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_are_read_line_by_line_and_checked() {
        let c = parse_categories("eau | Water | Eau | EAU water maya\n\nsante\n").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].code, "eau");
        assert_eq!(c[0].keywords, ["EAU", "WATER", "MAYA"]);
        assert_eq!(c[1].label_fr, "sante");
        assert_eq!(c[1].keywords, ["SANTE"]);
        assert!(matches!(
            parse_categories("eau\nEAU | x"),
            Err(CoreError::Invalid {
                reason: "report.category_twice",
                ..
            })
        ));
        assert!(matches!(
            parse_categories("l'eau | x"),
            Err(CoreError::Invalid {
                reason: "report.category_code",
                ..
            })
        ));
    }

    #[test]
    fn sms_form_lines_give_keywords_languages_and_delimiters() {
        let f = parse_sms_forms("pompes | EAU | WATER:en MAYA:fr | , | eau").unwrap();
        assert_eq!(f[0].form_id, "pompes");
        assert_eq!(f[0].prefix, "EAU");
        assert_eq!(
            f[0].keywords,
            [("WATER".into(), "en".into()), ("MAYA".into(), "fr".into())]
        );
        assert_eq!(f[0].delimiter, Some(','));
        assert_eq!(f[0].category, "eau");
        assert!(parse_sms_forms("pompes | EAU | WATER:de").is_err());
        assert!(parse_sms_forms("pompes | EAU | | ab").is_err());
        assert!(parse_sms_forms("pompes | EAU | | x").is_err());
    }

    #[test]
    fn a_place_is_put_at_the_centroid_of_its_largest_ring() {
        // A 2 × 2 square around (1, 1) and a tiny square far away.
        let g =
            "[[[[0,0],[2,0],[2,2],[0,2],[0,0]]],[[[10,10],[10.1,10],[10.1,10.1],[10,10],[10,10]]]]";
        let c = centre_of(g).unwrap();
        assert!(
            (c.lat - 1.0).abs() < 1e-9 && (c.lon - 1.0).abs() < 1e-9,
            "{c:?}"
        );
        assert!(centre_of("not json").is_none());
        assert!(centre_of("[[[[0,0],[0,0],[0,0]]]]").is_none());
    }

    #[test]
    fn api_base_replaces_scheme_and_host_only() {
        assert_eq!(
            rebase(
                "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?x=1",
                "http://127.0.0.1:9000/"
            ),
            "http://127.0.0.1:9000/2010-04-01/Accounts/AC1/Messages.json?x=1"
        );
        assert_eq!(
            rebase("https://a.example/x", "not a url"),
            "https://a.example/x"
        );
    }

    fn places() -> Places {
        let points = vec![PlacePoint {
            code: "TD-ND".into(),
            name: "N'Djamena".into(),
            parent: None,
            centre: Some(Point {
                lat: 12.1,
                lon: 15.0,
            }),
        }];
        Places {
            gazetteer: Gazetteer::new(Vec::new()),
            by_code: [("TD-ND".to_owned(), 0)].into_iter().collect(),
            points,
            read_at: 0,
        }
    }

    fn point(id: i64, state: &str, lat: Option<f64>) -> baraza_store::ReportPoint {
        baraza_store::ReportPoint {
            id,
            category: "eau".into(),
            state: state.into(),
            place_code: Some("TD-ND".into()),
            lat,
            lon: lat.map(|_| 15.3),
            reported_at: 100,
        }
    }

    #[test]
    fn the_index_updates_reports_in_place_and_fuzzes_for_the_public() {
        let p = places();
        let mut idx = ReportIndex::default();
        idx.apply(
            vec![
                point(1, "in_review", Some(12.4)),
                point(2, "published", None),
            ],
            &p,
        );
        assert_eq!(idx.len(), 2);
        // Report 2 has no position of its own: it is at its area's centre.
        assert!((idx.items[1].lat - 12.1).abs() < 1e-4);
        // A moderation moves report 1: the same slot, not a second row.
        idx.apply(vec![point(1, "published", Some(12.4))], &p);
        assert_eq!(idx.len(), 2);
        assert_eq!(idx.items[0].state, state_index("published"));
        // Area fuzzing: the public sees both at the area's centre.
        idx.refuzz(Fuzz::Area, 10.0, &p);
        assert!((idx.items[0].plat - 12.1).abs() < 1e-4 && (idx.items[0].plon - 15.0).abs() < 1e-4);
        // Grid fuzzing snaps to a 10 km cell, not the exact point.
        idx.refuzz(Fuzz::Grid, 10.0, &p);
        let snapped = cluster::snap_km(
            Point {
                lat: 12.4,
                lon: 15.3,
            },
            10.0,
        );
        assert!((f64::from(idx.items[0].plat) - snapped.lat).abs() < 1e-4);
        assert!(
            (f64::from(idx.items[0].plat) - 12.4).abs() > 1e-6
                || (f64::from(idx.items[0].plon) - 15.3).abs() > 1e-6
        );
    }

    #[test]
    fn days_are_read_as_utc_midnights() {
        assert_eq!(parse_day("2026-11-30"), Some(1_795_996_800));
        assert_eq!(parse_day("30/11/2026"), None);
    }

    #[test]
    fn places_answer_to_their_name_without_the_kind_of_area() {
        for (name, short) in [
            ("N'Djamena Region", Some("N'Djamena")),
            ("Région du Lac", Some("Lac")),
            ("Province Ouaddaï", Some("Ouaddaï")),
            ("Logone Occidental", None),
            ("Region", None),
            ("Lac", None),
        ] {
            assert_eq!(short_name(name).as_deref(), short, "{name}");
        }
    }

    #[test]
    fn short_names_drop_the_kind_of_area_only() {
        assert_eq!(short_name("N'Djamena Region").as_deref(), Some("N'Djamena"));
        assert_eq!(short_name("Kigali PROVINCE").as_deref(), Some("Kigali"));
        assert_eq!(short_name("Ouaddaï"), None);
        assert_eq!(short_name("Region"), None);
        assert_eq!(short_name(" region"), None);
        // A multi-byte tail is not cut in the middle of a character.
        assert_eq!(short_name("é region"), Some("é".into()));
        assert_eq!(short_name("xé"), None);
    }
}
