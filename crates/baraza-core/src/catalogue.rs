//! The open-data catalogue: what leaves Baraza, and how it is found.
//!
//! A dataset is made from a form's *released* table (never from raw records: only a release
//! that passed the project's disclosure policy can be put in), from an indicator's series,
//! from the project's IATI activity (written live as IATI 2.03 XML), or from uploaded files. Project managers and owners (`publish_data`) create, edit, publish and
//! withdraw datasets; a draft or private dataset is seen by the project's members only.
//!
//! Every change to a dataset records a *version* in the store, in the change's transaction
//! (see [`Core::dataset_history`]): its number, when, who, what changed, and the dataset as it
//! then was.
//!
//! Reads go through one search index ([`Catalogue`]) kept in memory and rebuilt when the
//! store's catalogue version moves, so that several servers behind a load balancer agree
//! without talking to each other: a read costs one small query for the version.

use crate::access::{Principal, ProjectAccess};
use crate::audit::{Actor, Target};
use crate::{Core, CoreError};
use baraza_catalogue::model::{clean_tag, slugify, valid_name, Field};
use baraza_catalogue::quality::{self, Quality};
use baraza_catalogue::search::Index;
use baraza_catalogue::versions::Changes;
use baraza_catalogue::{
    licences, Dataset, DatasetState, Organisation, Resource, ResourceKind, Source,
};
use baraza_store::{DatasetWrite, ResourceWrite, StoreError, VersionAuthor};
use baraza_types::Permission;
use serde_json::json;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

/// The largest file accepted as a resource.
pub const MAX_RESOURCE_BYTES: usize = 20 * 1024 * 1024;
/// How many rows of a CSV are read to guess its columns' types.
const TYPE_SAMPLE_ROWS: usize = 1000;

/// The catalogue as of one version: the search index and who holds each dataset.
pub struct Catalogue {
    pub version: i64,
    pub index: Index,
    /// Every organisation, datasets or not (CKAN's `organization_list`).
    pub organisations: Vec<Organisation>,
    /// The project (id) of each dataset, by dataset name.
    projects: HashMap<String, i64>,
    /// The store's row id of each dataset, by dataset name.
    rows: HashMap<String, i64>,
}

impl Catalogue {
    pub(crate) fn project_of(&self, d: &Dataset) -> Option<i64> {
        self.projects.get(&d.name).copied()
    }

    /// The store's row id of a dataset.
    pub(crate) fn row_of(&self, d: &Dataset) -> Option<i64> {
        self.rows.get(&d.name).copied()
    }

    /// The dataset stored at this row id.
    pub(crate) fn by_row(&self, row: i64) -> Option<&Dataset> {
        self.rows
            .iter()
            .find(|(_, r)| **r == row)
            .and_then(|(name, _)| self.index.get(name))
    }
}

/// Who is reading: what non-public datasets they may see.
#[derive(Debug, Clone, Default)]
pub struct Viewer {
    admin: bool,
    projects: HashSet<i64>,
    /// Projects where they may edit datasets (`publish_data`).
    publishes: HashSet<i64>,
}

impl Viewer {
    /// Whether this reader sees `d`: everyone sees published public datasets; members of the
    /// project see its drafts and private ones; site administrators see everything.
    pub fn sees(&self, cat: &Catalogue, d: &Dataset) -> bool {
        d.is_public()
            || self.admin
            || cat
                .project_of(d)
                .is_some_and(|p| self.projects.contains(&p))
    }

    /// Whether this reader may edit `d`.
    pub fn edits(&self, cat: &Catalogue, d: &Dataset) -> bool {
        cat.project_of(d)
            .is_some_and(|p| self.publishes.contains(&p))
    }

    /// Whether this reader is a site administrator.
    pub fn is_admin(&self) -> bool {
        self.admin
    }

    pub fn is_anonymous(&self) -> bool {
        !self.admin && self.projects.is_empty()
    }

    /// Whether this reader is one of `d`'s project's members (or a site administrator): they
    /// see all its versions and who made them.
    pub fn is_member(&self, cat: &Catalogue, d: &Dataset) -> bool {
        self.admin
            || cat
                .project_of(d)
                .is_some_and(|p| self.projects.contains(&p))
    }
}

/// Who made a version, as the reader may know it: the project's members see the editor's
/// name; everyone else reads "an editor" (`name` is `None`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum VersionBy {
    User {
        #[serde(skip_serializing_if = "Option::is_none")]
        name: Option<String>,
    },
    Harvest,
    System,
}

/// One version of a dataset, as its history shows it.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VersionEntry {
    pub number: i64,
    /// When (Unix seconds).
    pub at: i64,
    pub by: VersionBy,
    /// Whether the dataset was published and not private at this version.
    pub public: bool,
    pub changes: Changes,
}

/// Whether an older version's resource can still be downloaded as it was: an uploaded file
/// (its blob is content-addressed, so the bytes are those its hash names, while the blob
/// exists) or a release's table (a release never changes). An indicator's series and an IATI
/// activity are written live (their old bytes are not kept); a link is only an address.
pub fn version_resource_kept(r: &Resource) -> bool {
    matches!(
        r.kind,
        ResourceKind::File { .. } | ResourceKind::Release { .. }
    )
}

fn version_entry(v: baraza_store::DatasetVersionRow, member: bool) -> VersionEntry {
    VersionEntry {
        number: v.number,
        at: v.created_at,
        by: match v.author {
            VersionAuthor::User(_) => VersionBy::User {
                name: if member {
                    // An erased account leaves its versions: they read as "an editor".
                    v.author_name
                } else {
                    None
                },
            },
            VersionAuthor::Harvest => VersionBy::Harvest,
            VersionAuthor::System => VersionBy::System,
        },
        public: v.public,
        changes: v.changes,
    }
}

/// A dataset's metadata as a form or an API gives it; checked by [`Core`] before it is stored.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(default)]
pub struct DatasetInput {
    pub name: String,
    pub title: String,
    pub notes: String,
    pub license_id: String,
    /// `draft` or `published`.
    pub state: String,
    pub private: bool,
    pub frequency: String,
    pub temporal_start: String,
    pub temporal_end: String,
    /// Comma-separated place codes.
    pub spatial: String,
    pub spatial_label: String,
    pub methodology: String,
    pub version: String,
    pub maintainer: String,
    pub maintainer_email: String,
    /// Comma-separated tags.
    pub tags: String,
    /// Comma-separated group names or goal numbers ("6, sdg-5").
    pub groups: String,
}

/// A file given as a resource.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub bytes: Vec<u8>,
    pub name: String,
    pub description: String,
}

/// What a dataset is made from when it is created.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A released table of this form (`xml_form_id`, release id).
    Release { form: String, release_id: i64 },
    /// This indicator's series (its slug).
    Indicator { slug: String },
    /// A first uploaded file.
    Upload(Upload),
    /// The project's IATI activity, written live as IATI 2.03 XML.
    IatiActivity,
}

/// A resource about to be stored.
struct NewResource {
    kind: ResourceKind,
    name: String,
    file_name: String,
    format: &'static str,
    media: &'static str,
    size: Option<i64>,
    hash: Option<String>,
    fields: Vec<Field>,
    description: String,
}

/// A new random UUID (version 4), as CKAN gives datasets and resources.
pub fn new_uuid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

fn split_list(s: &str) -> Vec<String> {
    s.split([',', ';', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

/// `YYYY-MM-DD` with a month and a day in range.
fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
        && s[5..7].parse::<u32>().is_ok_and(|m| (1..=12).contains(&m))
        && s[8..10].parse::<u32>().is_ok_and(|d| (1..=31).contains(&d))
}

fn valid_date(s: &str) -> bool {
    s.is_empty() || is_date(s)
}

/// A dataset's lists once checked: tags, groups, spatial codes, and its state.
type Checked = (Vec<String>, Vec<String>, Vec<String>, DatasetState);

/// Checks a dataset's metadata, field by field; says the first that is wrong.
fn checked(input: &DatasetInput) -> Result<Checked, CoreError> {
    let bad = |field, reason| Err(CoreError::Invalid { field, reason });
    if input.title.trim().is_empty() || input.title.chars().count() > 300 {
        return bad("title", "dataset_title");
    }
    if !valid_name(&input.name) {
        return bad("name", "dataset_name");
    }
    if licences::licence(&input.license_id).is_none() {
        return bad("license_id", "licence_unknown");
    }
    if !input.frequency.is_empty() && licences::frequency(&input.frequency).is_none() {
        return bad("frequency", "frequency_unknown");
    }
    if !valid_date(input.temporal_start.trim()) || !valid_date(input.temporal_end.trim()) {
        return bad("temporal_start", "date_format");
    }
    if !input.temporal_end.trim().is_empty()
        && input.temporal_end.trim() < input.temporal_start.trim()
    {
        return bad("temporal_end", "date_order");
    }
    if !input.maintainer_email.is_empty() && !input.maintainer_email.contains('@') {
        return bad("maintainer_email", "email");
    }
    let state = match input.state.as_str() {
        "" => DatasetState::Draft,
        s => match DatasetState::parse(s) {
            Some(s) => s,
            None => return bad("state", "dataset_state"),
        },
    };
    let mut tags: Vec<String> = split_list(&input.tags)
        .iter()
        .filter_map(|t| clean_tag(t))
        .collect();
    tags.sort();
    tags.dedup();
    let mut groups = Vec::new();
    for g in split_list(&input.groups) {
        let n = g.trim_start_matches("sdg-").trim_start_matches("SDG ");
        match n.parse::<u8>() {
            Ok(n) if (1..=17).contains(&n) => groups.push(format!("sdg-{n}")),
            _ => return bad("groups", "group_unknown"),
        }
    }
    groups.sort_by_key(|g| g[4..].parse::<u8>().unwrap_or(0));
    groups.dedup();
    let spatial = split_list(&input.spatial);
    Ok((tags, groups, spatial, state))
}

fn write<'a>(input: &'a DatasetInput, lists: &'a Checked) -> DatasetWrite<'a> {
    DatasetWrite {
        name: &input.name,
        title: input.title.trim(),
        notes: input.notes.trim(),
        license_id: &input.license_id,
        state: lists.3,
        private: input.private,
        frequency: &input.frequency,
        temporal_start: input.temporal_start.trim(),
        temporal_end: input.temporal_end.trim(),
        spatial: &lists.2,
        spatial_label: input.spatial_label.trim(),
        methodology: input.methodology.trim(),
        version: input.version.trim(),
        maintainer: input.maintainer.trim(),
        maintainer_email: input.maintainer_email.trim(),
        tags: &lists.0,
        groups: &lists.1,
    }
}

/// The format, media type and file name of an upload, read from its name and checked against
/// its first bytes (a "CSV" that is a zip, a "PDF" that is not one, are refused).
fn sniff(file_name: &str, bytes: &[u8]) -> Result<(&'static str, &'static str), CoreError> {
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    let bad = || CoreError::Invalid {
        field: "file",
        reason: "resource_format",
    };
    let zip = bytes.starts_with(b"PK\x03\x04");
    let text = std::str::from_utf8(bytes).is_ok() && !bytes.contains(&0);
    Ok(match ext.as_str() {
        "csv" if text => ("CSV", "text/csv"),
        "geojson" | "json" if text => {
            let v: serde_json::Value = serde_json::from_slice(bytes).map_err(|_| bad())?;
            if ext == "geojson"
                || v.get("type")
                    .and_then(|t| t.as_str())
                    .is_some_and(|t| t.contains("Feature"))
            {
                ("GEOJSON", "application/geo+json")
            } else {
                ("JSON", "application/json")
            }
        }
        "xlsx" if zip => (
            "XLSX",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
        "pdf" if bytes.starts_with(b"%PDF-") => ("PDF", "application/pdf"),
        "txt" | "md" if text => ("TXT", "text/plain"),
        _ => return Err(bad()),
    })
}

/// A file name safe to offer for download: the last path part, only `A-Za-z0-9._-`.
fn safe_file_name(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("");
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .take(120)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        fallback.to_string()
    } else {
        s
    }
}

/// The columns of a CSV, with types guessed from its first rows (integer, number, date,
/// boolean, string), and their HXL hashtags when the row after the header is a hashtag row
/// (that row is not a value: it takes no part in the types). `None` when it is not a readable
/// CSV with a header.
pub fn csv_fields(bytes: &[u8]) -> Option<Vec<Field>> {
    let tags = hxl_row(bytes);
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers: Vec<String> = r
        .headers()
        .ok()?
        .iter()
        .map(|h| h.trim().to_string())
        .collect();
    if headers.is_empty() || headers.iter().all(String::is_empty) {
        return None;
    }
    let mut kinds: Vec<Option<&'static str>> = vec![None; headers.len()];
    let skip = usize::from(tags.is_some());
    for rec in r.records().skip(skip).take(TYPE_SAMPLE_ROWS) {
        let rec = rec.ok()?;
        for (i, v) in rec.iter().enumerate().take(headers.len()) {
            let v = v.trim();
            if v.is_empty() {
                continue;
            }
            let this = if v.parse::<i64>().is_ok() {
                "integer"
            } else if v.parse::<f64>().is_ok() {
                "number"
            } else if is_date(v) {
                "date"
            } else if matches!(v, "true" | "false") {
                "boolean"
            } else {
                "string"
            };
            kinds[i] = Some(match (kinds[i], this) {
                (None, t) => t,
                (Some(a), b) if a == b => a,
                (Some("integer"), "number") | (Some("number"), "integer") => "number",
                _ => "string",
            });
        }
    }
    Some(
        headers
            .into_iter()
            .zip(kinds)
            .enumerate()
            .map(|(i, (name, kind))| Field {
                name: if name.is_empty() {
                    format!("column_{}", i + 1)
                } else {
                    name
                },
                r#type: kind.unwrap_or("string").to_string(),
                hxl: tags
                    .as_ref()
                    .and_then(|t| t.get(i))
                    .filter(|t| !t.is_empty())
                    .cloned(),
                description: String::new(),
            })
            .collect(),
    )
}

/// A CSV's HXL hashtag row (the row after the header whose cells are `#tags`), if it has one.
pub fn hxl_row(bytes: &[u8]) -> Option<Vec<String>> {
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let first = r.records().next()?.ok()?;
    let cells: Vec<String> = first.iter().map(|c| c.trim().to_string()).collect();
    let tagged = cells.iter().filter(|c| c.starts_with('#')).count();
    (tagged > 0 && cells.iter().all(|c| c.is_empty() || c.starts_with('#'))).then_some(cells)
}

/// A CSV with the HXL hashtag row of `fields` right after its header, when any field has a
/// hashtag (HXL's rule: the hashtag row comes before the data); the CSV as it is otherwise.
pub fn with_hxl_row<'a>(csv: &'a str, fields: &[Field]) -> std::borrow::Cow<'a, str> {
    if fields.iter().all(|f| f.hxl.is_none()) || hxl_row(csv.as_bytes()).is_some() {
        return std::borrow::Cow::Borrowed(csv);
    }
    let mut r = csv::ReaderBuilder::new()
        .flexible(true)
        .from_reader(csv.as_bytes());
    if r.headers().is_err() {
        return std::borrow::Cow::Borrowed(csv);
    }
    let mut end = (r.position().byte() as usize).min(csv.len());
    // The reader stops after the `\r` of a CRLF line end: the `\n` belongs to the header.
    if csv[..end].ends_with('\r') && csv[end..].starts_with('\n') {
        end += 1;
    }
    let tags: Vec<&str> = fields
        .iter()
        .map(|f| f.hxl.as_deref().unwrap_or(""))
        .collect();
    let mut out = String::with_capacity(csv.len() + 16 * tags.len());
    out.push_str(&csv[..end]);
    if !out.ends_with('\n') {
        out.push_str("\r\n");
    }
    out.push_str(&baraza_publish::csv::line(&tags));
    out.push_str(&csv[end..]);
    std::borrow::Cow::Owned(out)
}

fn conflict_or(e: StoreError, name: &str) -> CoreError {
    match e {
        StoreError::Conflict { .. } => CoreError::SlugTaken {
            slug: name.to_string(),
        },
        e => e.into(),
    }
}

impl Core {
    /// The catalogue as it is now: the cached index when the store's version has not moved,
    /// else a fresh one.
    pub async fn catalogue(&self) -> Result<Arc<Catalogue>, CoreError> {
        let version = self.store.catalogue_version().await?;
        if let Some(c) = self.catalogue_cache.read().ok().and_then(|c| c.clone()) {
            if c.version == version {
                return Ok(c);
            }
        }
        // One rebuild at a time; whoever waited finds it done.
        let _guard = self.catalogue_rebuild.lock().await;
        if let Some(c) = self.catalogue_cache.read().ok().and_then(|c| c.clone()) {
            if c.version >= version {
                return Ok(c);
            }
        }
        let (version, stored) = self.store.catalogue().await?;
        let mut projects = HashMap::with_capacity(stored.len());
        let mut rows = HashMap::with_capacity(stored.len());
        let mut datasets = Vec::with_capacity(stored.len());
        for s in stored {
            projects.insert(s.dataset.name.clone(), s.project_id);
            rows.insert(s.dataset.name.clone(), s.row_id);
            datasets.push(s.dataset);
        }
        let organisations = self
            .store
            .list_orgs()
            .await?
            .into_iter()
            .map(|o| Organisation {
                id: o.slug.clone(),
                name: o.slug,
                title: o.name,
                description: o.description,
                created: o.created_at,
            })
            .collect();
        let c = Arc::new(Catalogue {
            version,
            index: Index::new(datasets),
            organisations,
            projects,
            rows,
        });
        if let Ok(mut slot) = self.catalogue_cache.write() {
            *slot = Some(c.clone());
        }
        Ok(c)
    }

    /// What `principal` may see and edit in the catalogue beyond its public part.
    pub async fn catalogue_viewer(&self, principal: &Principal) -> Result<Viewer, CoreError> {
        let Some(user) = principal.user() else {
            return Ok(Viewer::default());
        };
        let mut v = Viewer {
            admin: user.is_admin,
            ..Viewer::default()
        };
        for p in self.visible_projects(principal, None).await? {
            let role = if p.org_owner {
                Some(baraza_types::Role::Owner)
            } else {
                p.member_role
            };
            if let Some(role) = role {
                v.projects.insert(p.project.id.0);
                if role.grants(Permission::PublishData) {
                    v.publishes.insert(p.project.id.0);
                }
            }
        }
        Ok(v)
    }

    /// One dataset that `viewer` may see, or `NotFound` (a hidden dataset is not disclosed).
    pub async fn dataset_seen(
        &self,
        viewer: &Viewer,
        name_or_id: &str,
    ) -> Result<(Arc<Catalogue>, Dataset), CoreError> {
        let cat = self.catalogue().await?;
        let d = cat
            .index
            .get(name_or_id)
            .filter(|d| viewer.sees(&cat, d))
            .cloned()
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        Ok((cat, d))
    }

    /// The project access of a dataset's project, for edits (needs `publish_data`).
    async fn dataset_for_edit(
        &self,
        principal: &Principal,
        name: &str,
    ) -> Result<(ProjectAccess, i64, Dataset), CoreError> {
        let cat = self.catalogue().await?;
        let d = cat
            .index
            .get(name)
            .cloned()
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        let (org, project) = d
            .project
            .split_once('/')
            .ok_or_else(|| CoreError::Internal("dataset without project".into()))?;
        let access = self.project_access(principal, org, project).await?;
        if !access.can(Permission::ViewProject) && !d.is_public() {
            return Err(CoreError::NotFound { what: "dataset" });
        }
        access.require(Permission::PublishData)?;
        // A harvested dataset's master is its source: a local edit would be overwritten by the
        // next run, so there is none (delete its harvest source instead).
        if d.source.is_harvested() {
            return Err(CoreError::DatasetHarvested);
        }
        let row = cat
            .rows
            .get(&d.name)
            .copied()
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        Ok((access, row, d))
    }

    /// Creates a dataset in the access's project from a release, an indicator or a file.
    pub async fn create_dataset(
        &self,
        access: &ProjectAccess,
        mut input: DatasetInput,
        origin: Origin,
    ) -> Result<String, CoreError> {
        access.require(Permission::PublishData)?;
        if input.name.trim().is_empty() {
            input.name = slugify(&input.title);
        }
        if input.license_id.is_empty() {
            input.license_id = "notspecified".into();
        }
        let now = self.now();
        let resource_id = new_uuid();
        let (source, resource) = match &origin {
            Origin::Release { form, release_id } => {
                // Only a released table (the disclosure policy passed) can be published.
                let row = self
                    .store
                    .release(access.project.id.0, *release_id)
                    .await?
                    .filter(|r| r.state == "released")
                    .ok_or(CoreError::NotFound { what: "release" })?;
                let csv = self
                    .store
                    .release_data(access.project.id.0, row.id)
                    .await?
                    .ok_or(CoreError::NotFound { what: "release" })?;
                let tags = self.release_hxl(access, form).await?;
                let mut fields = csv_fields(csv.as_bytes()).unwrap_or_default();
                for f in &mut fields {
                    f.hxl = tags.get(&f.name).cloned();
                }
                // Served with its hashtag row when the form tags columns: size and hash are
                // those of the file as downloaded.
                let tagged = with_hxl_row(&csv, &fields);
                let hash = if tagged.len() == csv.len() {
                    row.data_sha256.clone()
                } else {
                    Some(hex::encode(<sha2::Sha256 as sha2::Digest>::digest(
                        tagged.as_bytes(),
                    )))
                };
                (
                    Source::Release {
                        form: form.clone(),
                        release_id: row.id,
                    },
                    NewResource {
                        kind: ResourceKind::Release { release_id: row.id },
                        name: row.name.clone(),
                        file_name: format!("{form}-release-{}.csv", row.id),
                        format: "CSV",
                        media: "text/csv",
                        size: Some(tagged.len() as i64),
                        hash: hash.map(|h| format!("sha256:{h}")),
                        fields,
                        description: String::new(),
                    },
                )
            }
            Origin::Indicator { slug } => {
                let csv = self.indicator_sdmx(access, slug).await?;
                let fields = csv_fields(csv.as_bytes()).unwrap_or_default();
                if let Some(goal) = self
                    .indicator_views(access)
                    .await?
                    .iter()
                    .find(|v| v.row.slug == *slug)
                    .and_then(|v| v.sdg.as_ref())
                    .and_then(|i| i.goals.first())
                {
                    if !input.groups.is_empty() {
                        input.groups.push(',');
                    }
                    input.groups.push_str(&goal.to_string());
                }
                (
                    Source::Indicator {
                        indicator: slug.clone(),
                    },
                    NewResource {
                        kind: ResourceKind::IndicatorSeries {
                            indicator: slug.clone(),
                        },
                        name: format!("{slug} (SDMX-CSV)"),
                        file_name: format!("{slug}.sdmx.csv"),
                        format: "SDMX-CSV",
                        media: "text/csv",
                        size: None,
                        hash: None,
                        fields,
                        description: String::new(),
                    },
                )
            }
            Origin::Upload(u) => {
                let (kind, hash, format, media, fields, size) = self.store_upload(u).await?;
                (
                    Source::Upload,
                    NewResource {
                        kind,
                        name: if u.name.trim().is_empty() {
                            u.file_name.clone()
                        } else {
                            u.name.trim().to_string()
                        },
                        file_name: safe_file_name(&u.file_name, "file"),
                        format,
                        media,
                        size: Some(size),
                        hash: Some(hash),
                        fields,
                        description: u.description.trim().to_string(),
                    },
                )
            }
            Origin::IatiActivity => {
                let Some(a) = self.store.iati_activity(access.project.id).await? else {
                    return Err(CoreError::NotFound {
                        what: "iati_activity",
                    });
                };
                (
                    Source::IatiActivity,
                    NewResource {
                        kind: ResourceKind::IatiActivity,
                        name: format!("IATI activity {}", a.code),
                        file_name: format!(
                            "{}-{}.iati.xml",
                            access.org.slug,
                            safe_file_name(&a.code, "activity")
                        ),
                        format: "IATI-XML",
                        media: "application/xml",
                        size: None,
                        hash: None,
                        fields: Vec::new(),
                        description: String::new(),
                    },
                )
            }
        };
        let lists = checked(&input)?;
        let w = write(&input, &lists);
        let r = ResourceWrite {
            uuid: &resource_id,
            name: &resource.name,
            description: &resource.description,
            format: resource.format,
            media_type: resource.media,
            file_name: &resource.file_name,
            size: resource.size,
            hash: resource.hash.as_deref(),
            kind: &resource.kind,
            fields: &resource.fields,
        };
        let uuid = new_uuid();
        self.store
            .insert_dataset(
                access.project.id.0,
                &uuid,
                &w,
                &source,
                &[r],
                access.user.map(|u| u.0),
                now,
            )
            .await
            .map_err(|e| conflict_or(e, &input.name))?;
        self.audit(
            Actor::of_access(access),
            "dataset.create",
            &Target::project(access.project.id),
            json!({ "dataset": input.name, "state": lists.3.as_str(), "source": source }),
        )
        .await?;
        Ok(input.name)
    }

    /// Stores an uploaded file as a blob; its kind, hash, format, media type, columns, size.
    #[allow(clippy::type_complexity)]
    async fn store_upload(
        &self,
        u: &Upload,
    ) -> Result<
        (
            ResourceKind,
            String,
            &'static str,
            &'static str,
            Vec<Field>,
            i64,
        ),
        CoreError,
    > {
        if u.bytes.is_empty() {
            return Err(CoreError::Invalid {
                field: "file",
                reason: "file_empty",
            });
        }
        if u.bytes.len() > MAX_RESOURCE_BYTES {
            return Err(CoreError::Invalid {
                field: "file",
                reason: "file_too_large",
            });
        }
        let (format, media) = sniff(&u.file_name, &u.bytes)?;
        let fields = if format == "CSV" {
            csv_fields(&u.bytes).ok_or(CoreError::Invalid {
                field: "file",
                reason: "csv_unreadable",
            })?
        } else {
            Vec::new()
        };
        let blob = self
            .blobs
            .put(&u.bytes)
            .await
            .map_err(|e| CoreError::Internal(format!("storing a resource: {e}")))?;
        Ok((
            ResourceKind::File {
                sha256: blob.sha256.clone(),
            },
            format!("sha256:{}", blob.sha256),
            format,
            media,
            fields,
            u.bytes.len() as i64,
        ))
    }

    /// Replaces a dataset's metadata; returns its (possibly new) name.
    pub async fn update_dataset(
        &self,
        principal: &Principal,
        name: &str,
        mut input: DatasetInput,
    ) -> Result<String, CoreError> {
        let (access, row, before) = self.dataset_for_edit(principal, name).await?;
        if input.name.trim().is_empty() {
            input.name = before.name.clone();
        }
        let lists = checked(&input)?;
        self.store
            .update_dataset(
                row,
                &write(&input, &lists),
                VersionAuthor::user_or_system(access.user.map(|u| u.0)),
                self.now(),
            )
            .await
            .map_err(|e| conflict_or(e, &input.name))?;
        let action = if before.state != lists.3 {
            if lists.3 == DatasetState::Published {
                "dataset.publish"
            } else {
                "dataset.unpublish"
            }
        } else {
            "dataset.update"
        };
        self.audit(
            Actor::of_access(&access),
            action,
            &Target::project(access.project.id),
            json!({ "dataset": input.name, "was": before.name, "state": lists.3.as_str(), "private": input.private }),
        )
        .await?;
        Ok(input.name)
    }

    /// Adds an uploaded file to a dataset.
    pub async fn add_dataset_file(
        &self,
        principal: &Principal,
        name: &str,
        u: Upload,
    ) -> Result<(), CoreError> {
        let (access, row, d) = self.dataset_for_edit(principal, name).await?;
        let (kind, hash, format, media, fields, size) = self.store_upload(&u).await?;
        let id = new_uuid();
        let rname = if u.name.trim().is_empty() {
            u.file_name.clone()
        } else {
            u.name.trim().to_string()
        };
        self.store
            .add_resource(
                row,
                &ResourceWrite {
                    uuid: &id,
                    name: &rname,
                    description: u.description.trim(),
                    format,
                    media_type: media,
                    file_name: &safe_file_name(&u.file_name, "file"),
                    size: Some(size),
                    hash: Some(&hash),
                    kind: &kind,
                    fields: &fields,
                },
                VersionAuthor::user_or_system(access.user.map(|u| u.0)),
                self.now(),
            )
            .await?;
        self.audit(
            Actor::of_access(&access),
            "dataset.resource_add",
            &Target::project(access.project.id),
            json!({ "dataset": d.name, "resource": id, "name": rname, "format": format, "hash": hash }),
        )
        .await?;
        Ok(())
    }

    /// Removes a resource from a dataset.
    pub async fn delete_dataset_resource(
        &self,
        principal: &Principal,
        name: &str,
        resource: &str,
    ) -> Result<(), CoreError> {
        let (access, row, d) = self.dataset_for_edit(principal, name).await?;
        if !self
            .store
            .delete_resource(
                row,
                resource,
                VersionAuthor::user_or_system(access.user.map(|u| u.0)),
                self.now(),
            )
            .await?
        {
            return Err(CoreError::NotFound { what: "resource" });
        }
        self.audit(
            Actor::of_access(&access),
            "dataset.resource_delete",
            &Target::project(access.project.id),
            json!({ "dataset": d.name, "resource": resource }),
        )
        .await?;
        Ok(())
    }

    /// Deletes a dataset (its released tables and series stay with the project).
    pub async fn delete_dataset(&self, principal: &Principal, name: &str) -> Result<(), CoreError> {
        let (access, row, d) = self.dataset_for_edit(principal, name).await?;
        self.store.delete_dataset(row).await?;
        self.audit(
            Actor::of_access(&access),
            "dataset.delete",
            &Target::project(access.project.id),
            json!({ "dataset": d.name, "id": d.id }),
        )
        .await?;
        Ok(())
    }

    /// A dataset's versions that `viewer` may see, newest first, with the dataset. The
    /// project's members see every version and who made it; everyone else sees the versions
    /// made while the dataset was public (a draft's or a private dataset's past stays with the
    /// project), with "an editor" for a person. Hidden datasets are `NotFound`, as their page.
    pub async fn dataset_history(
        &self,
        viewer: &Viewer,
        name: &str,
    ) -> Result<(Dataset, Vec<VersionEntry>), CoreError> {
        let (cat, d) = self.dataset_seen(viewer, name).await?;
        let row = cat
            .row_of(&d)
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        let member = viewer.is_member(&cat, &d);
        let versions = self
            .store
            .dataset_versions(row)
            .await?
            .into_iter()
            .filter(|v| member || v.public)
            .map(|v| version_entry(v, member))
            .collect();
        Ok((d, versions))
    }

    /// The number of the latest version of `d` that `viewer` may see (see
    /// [`Core::dataset_history`]); `None` when there is none.
    pub async fn dataset_latest_version(
        &self,
        viewer: &Viewer,
        cat: &Catalogue,
        d: &Dataset,
    ) -> Result<Option<i64>, CoreError> {
        let Some(row) = cat.row_of(d) else {
            return Ok(None);
        };
        Ok(self
            .store
            .dataset_latest_version(row, !viewer.is_member(cat, d))
            .await?)
    }

    /// One version of a dataset that `viewer` may see (as [`Core::dataset_history`] lists
    /// them): the dataset now, the version, and the dataset as it then was.
    pub async fn dataset_version(
        &self,
        viewer: &Viewer,
        name: &str,
        number: i64,
    ) -> Result<(Dataset, VersionEntry, Dataset), CoreError> {
        let (cat, d) = self.dataset_seen(viewer, name).await?;
        let row = cat
            .row_of(&d)
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        let member = viewer.is_member(&cat, &d);
        let (v, then) = self
            .store
            .dataset_version(row, number)
            .await?
            .filter(|(v, _)| member || v.public)
            .ok_or(CoreError::NotFound {
                what: "dataset_version",
            })?;
        Ok((d, version_entry(v, member), then))
    }

    /// A resource's bytes, for a reader who may see the dataset.
    pub async fn resource_bytes(&self, d: &Dataset, r: &Resource) -> Result<Vec<u8>, CoreError> {
        let cat = self.catalogue().await?;
        let project = cat
            .project_of(d)
            .ok_or(CoreError::NotFound { what: "dataset" })?;
        match &r.kind {
            ResourceKind::Release { release_id } => {
                let csv = self
                    .store
                    .release_data(project, *release_id)
                    .await?
                    .ok_or(CoreError::NotFound { what: "resource" })?;
                Ok(with_hxl_row(&csv, &r.fields).into_owned().into_bytes())
            }
            ResourceKind::IndicatorSeries { indicator } => {
                // The series is read as the catalogue's reader, not as a member: a published
                // dataset makes its figures (already suppressed below the project's k) public.
                let access = self.system_access(project).await?;
                Ok(self.indicator_sdmx(&access, indicator).await?.into_bytes())
            }
            ResourceKind::File { sha256 } => self
                .blobs
                .read(sha256)
                .await
                .map_err(|_| CoreError::NotFound { what: "resource" }),
            ResourceKind::IatiActivity => {
                // As an indicator's series: a published dataset makes the activity public.
                let access = self.system_access(project).await?;
                Ok(self.iati_project_file(&access).await?.into_bytes())
            }
            // A link is never fetched nor proxied: its reader is sent to the remote address.
            ResourceKind::Link { .. } => Err(CoreError::NotFound { what: "resource" }),
        }
    }

    /// A resource for download: an uploaded file is opened to be streamed from disk in chunks
    /// (never read whole into memory); a release's table and an indicator's series are
    /// produced whole (a release is bounded by the form's records, a series by its cells).
    pub async fn resource_body(
        &self,
        d: &Dataset,
        r: &Resource,
    ) -> Result<ResourceBody, CoreError> {
        if let ResourceKind::File { sha256 } = &r.kind {
            let path = self
                .blobs
                .path(sha256)
                .ok_or(CoreError::NotFound { what: "resource" })?;
            let file = tokio::fs::File::open(&path)
                .await
                .map_err(|_| CoreError::NotFound { what: "resource" })?;
            let len = file.metadata().await.map(|m| m.len()).ok();
            return Ok(ResourceBody::File { file, len });
        }
        Ok(ResourceBody::Bytes(self.resource_bytes(d, r).await?))
    }

    /// The quality score of a dataset, with what the checks need from the store.
    pub async fn dataset_quality(&self, d: &Dataset) -> Result<Quality, CoreError> {
        let mut unavailable = Vec::new();
        for r in &d.resources {
            let ok = match &r.kind {
                ResourceKind::File { sha256 } => {
                    self.blobs.path(sha256).is_some_and(|p| p.exists())
                }
                ResourceKind::Release { .. } | ResourceKind::IndicatorSeries { .. } => true,
                ResourceKind::IatiActivity => match self.catalogue().await?.project_of(d) {
                    Some(p) => self.has_iati_activity(p).await?,
                    None => false,
                },
                // The remote server's business; not checked from here.
                ResourceKind::Link { .. } => true,
            };
            if !ok {
                unavailable.push(r.name.clone());
            }
        }
        let facts = quality::Facts {
            now: self.now(),
            unavailable,
            datapackage_problems: baraza_publish::datapackage::problems(d),
        };
        Ok(quality::assess(d, &facts))
    }

    /// A reader's standing in a project that holds a published dataset: enough to read what
    /// the dataset publishes (an indicator's suppressed figures, its IATI activity), nothing
    /// more.
    async fn system_access(&self, project: i64) -> Result<ProjectAccess, CoreError> {
        let p = self
            .store
            .project_by_id(baraza_types::ProjectId(project))
            .await?
            .ok_or(CoreError::NotFound { what: "project" })?;
        let org = self
            .store
            .org_by_id(p.org_id)
            .await?
            .ok_or(CoreError::NotFound {
                what: "organisation",
            })?;
        Ok(ProjectAccess::reader(org, p))
    }

    /// What the project can put in the catalogue: its released tables (form, release id,
    /// name) and its indicators (slug, title in each language).
    pub async fn publishable(&self, access: &ProjectAccess) -> Result<Publishable, CoreError> {
        access.require(Permission::PublishData)?;
        let mut releases = Vec::new();
        for f in self.forms(access).await? {
            for r in self.releases(access, &f.form.xml_form_id).await? {
                if r.state == "released" {
                    releases.push((f.form.xml_form_id.clone(), r.id, r.name));
                }
            }
        }
        let indicators = self
            .indicator_views(access)
            .await?
            .iter()
            .map(|v| (v.row.slug.clone(), v.def.spec.title.clone()))
            .collect();
        let iati_activity = self
            .store
            .iati_activity(access.project.id)
            .await?
            .map(|a| a.code);
        Ok(Publishable {
            releases,
            indicators,
            iati_activity,
        })
    }

    /// The project's datasets, drafts and private ones included.
    pub async fn project_datasets(
        &self,
        access: &ProjectAccess,
    ) -> Result<Vec<Dataset>, CoreError> {
        access.require(Permission::ViewProject)?;
        let cat = self.catalogue().await?;
        let id = access.project.id.0;
        Ok(cat
            .index
            .all()
            .filter(|d| cat.project_of(d) == Some(id))
            .filter(|d| d.is_public() || access.role.is_some())
            .cloned()
            .collect())
    }
}

/// See [`Core::resource_body`].
pub enum ResourceBody {
    Bytes(Vec<u8>),
    File {
        file: tokio::fs::File,
        len: Option<u64>,
    },
}

/// See [`Core::publishable`].
#[derive(Debug, Clone, serde::Serialize)]
pub struct Publishable {
    pub releases: Vec<(String, i64, String)>,
    pub indicators: Vec<(String, std::collections::BTreeMap<String, String>)>,
    /// The project's IATI activity code, when it has recorded one.
    pub iati_activity: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_hxl_row_gives_tags_and_takes_no_part_in_the_types() {
        let csv = b"province,points,date\n#adm1+name,#indicator+num,#date\nKanem,12,2026-01-05\nLac,7,2026-02-01\n";
        let f = csv_fields(csv).unwrap();
        let got: Vec<_> = f
            .iter()
            .map(|f| (f.name.as_str(), f.r#type.as_str(), f.hxl.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("province", "string", Some("#adm1+name")),
                ("points", "integer", Some("#indicator+num")),
                ("date", "date", Some("#date")),
            ]
        );
        // Without the row: no tags, the same types.
        let f = csv_fields(b"province,points\nKanem,12\n").unwrap();
        assert_eq!(
            (f[1].r#type.as_str(), f[1].hxl.as_deref()),
            ("integer", None)
        );
    }

    #[test]
    fn the_hashtag_row_goes_right_after_the_header() {
        let field = |name: &str, hxl: Option<&str>| Field {
            name: name.into(),
            r#type: "string".into(),
            hxl: hxl.map(str::to_owned),
            description: String::new(),
        };
        let fields = [field("province", Some("#adm1+name")), field("n", None)];
        let csv = "province,n\r\nKanem,3\r\n";
        assert_eq!(
            with_hxl_row(csv, &fields),
            "province,n\r\n#adm1+name,\r\nKanem,3\r\n"
        );
        // A quoted header with a line break inside is one record.
        let csv = "\"pro\nvince\",n\nKanem,3\n";
        assert_eq!(
            with_hxl_row(csv, &fields),
            "\"pro\nvince\",n\n#adm1+name,\r\nKanem,3\n"
        );
        // A header alone, without its line end.
        assert_eq!(
            with_hxl_row("province,n", &fields),
            "province,n\r\n#adm1+name,\r\n"
        );
        // Untagged fields, or a file that has its row already: unchanged.
        assert_eq!(with_hxl_row(csv, &[field("province", None)]), csv);
        let tagged = "province,n\n#adm1+name,\nKanem,3\n";
        assert_eq!(with_hxl_row(tagged, &fields), tagged);
        // What it writes is read back as the tags it was given.
        let out = with_hxl_row("province,n\r\nKanem,3\r\n", &fields);
        let back = csv_fields(out.as_bytes()).unwrap();
        assert_eq!(back[0].hxl.as_deref(), Some("#adm1+name"));
    }
}
