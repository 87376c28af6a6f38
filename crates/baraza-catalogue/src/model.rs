//! The dataset and its resources, as every reader of the catalogue sees them.

use serde::{Deserialize, Serialize};

/// A dataset's life: a draft is seen only by the project's members; a published dataset by
/// everyone, unless it is private (then by members only, as CKAN's `private`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DatasetState {
    Draft,
    Published,
}

impl DatasetState {
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetState::Draft => "draft",
            DatasetState::Published => "published",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "draft" => Some(DatasetState::Draft),
            "published" => Some(DatasetState::Published),
            _ => None,
        }
    }
}

/// What the dataset was made from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Source {
    /// A form's released table (disclosure control passed).
    Release { form: String, release_id: i64 },
    /// One indicator's series.
    Indicator { indicator: String },
    /// Files uploaded by hand.
    Upload,
    /// The project's IATI activity (its budgets and transactions), written live.
    IatiActivity,
    /// Metadata harvested from another catalogue (CKAN or DCAT); read-only here, kept in step
    /// with the remote by the harvest runs.
    Harvest {
        /// The harvest source's id (its row in `harvest_sources`).
        source_id: i64,
        /// The source's title, shown as "harvested from …".
        source_title: String,
        /// The remote identifier (CKAN `id`, or the DCAT dataset's IRI).
        remote_id: String,
        /// The dataset's original page on the remote catalogue (may be empty).
        original_url: String,
    },
}

impl Source {
    /// Whether the dataset is a harvested copy (read-only: the remote is its master).
    pub fn is_harvested(&self) -> bool {
        matches!(self, Source::Harvest { .. })
    }
}

/// The publisher.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organisation {
    /// Stable id (CKAN's `id`).
    pub id: String,
    /// URL name (CKAN's `name`), the org's slug.
    pub name: String,
    pub title: String,
    pub description: String,
    pub created: i64,
}

/// What a resource is, for the server that serves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ResourceKind {
    /// The CSV of a release (stored with the release).
    Release { release_id: i64 },
    /// An indicator's series as SDMX-CSV.
    IndicatorSeries { indicator: String },
    /// An uploaded file (a blob, by its SHA-256).
    File { sha256: String },
    /// The dataset's project's IATI 2.03 activity XML, written when downloaded.
    IatiActivity,
    /// A file that stays on another server (a harvested resource): its download redirects
    /// there, nothing is proxied or copied.
    Link { url: String },
}

impl ResourceKind {
    /// The remote address of a [`ResourceKind::Link`].
    pub fn link(&self) -> Option<&str> {
        match self {
            ResourceKind::Link { url } => Some(url),
            _ => None,
        }
    }
}

/// A column of a tabular resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Field {
    pub name: String,
    /// Table Schema type: string, integer, number, date, boolean, geopoint…
    pub r#type: String,
    /// The HXL hashtag (with attributes), when the form gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hxl: Option<String>,
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub description: String,
}

/// A file of a dataset.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Stable id (CKAN's resource `id`, a UUID).
    pub id: String,
    pub name: String,
    pub description: String,
    /// Upper-case format name as CKAN shows it: CSV, XLSX, GEOJSON, PDF, JSON…
    pub format: String,
    pub media_type: String,
    /// The file's name when downloaded.
    pub file_name: String,
    pub size: Option<i64>,
    /// `sha256:<hex>` when known.
    pub hash: Option<String>,
    pub position: i64,
    pub created: i64,
    pub modified: i64,
    pub kind: ResourceKind,
    /// The columns, for tabular resources (CSV and what is served as CSV).
    pub fields: Vec<Field>,
}

impl Resource {
    /// Whether `datastore_search` and the table page can read it (a table with columns).
    pub fn is_tabular(&self) -> bool {
        !self.fields.is_empty()
    }

    /// Whether the format is open and machine-readable (not PDF, not a proprietary format).
    pub fn open_format(&self) -> bool {
        OPEN_FORMATS.contains(&self.format.as_str())
    }

    /// Whether the resource is documentation (a PDF, a text) rather than data.
    pub fn is_documentation(&self) -> bool {
        matches!(
            self.format.as_str(),
            "PDF" | "TXT" | "MD" | "HTML" | "DOCX" | "ODT"
        )
    }
}

/// Formats counted as open by the quality score (uData's list, trimmed to what we serve).
pub const OPEN_FORMATS: [&str; 11] = [
    "CSV", "JSON", "GEOJSON", "XML", "NDJSON", "XLSX", "ODS", "SDMX-CSV", "TXT", "ZIP", "IATI-XML",
];

/// A dataset, with its resources.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    /// Stable id (CKAN's `id`, a UUID).
    pub id: String,
    /// Unique URL name (CKAN's `name`): lower case letters, digits, `-` and `_`, 2 to 100.
    pub name: String,
    pub title: String,
    /// The description (Markdown-free plain text).
    pub notes: String,
    pub organisation: Organisation,
    /// `org/project` of the project that holds it (for links and access).
    pub project: String,
    pub license_id: String,
    pub state: DatasetState,
    pub private: bool,
    /// A code of [`crate::licences::FREQUENCIES`], or empty.
    pub frequency: String,
    /// ISO dates (YYYY-MM-DD), inclusive; empty when not said.
    pub temporal_start: String,
    pub temporal_end: String,
    /// Place codes from the gazetteer, or ISO 3166 codes ("TD", "TD-ND").
    pub spatial: Vec<String>,
    /// A readable name of the spatial coverage ("Tchad, 23 provinces").
    pub spatial_label: String,
    pub methodology: String,
    pub version: String,
    pub maintainer: String,
    pub maintainer_email: String,
    pub tags: Vec<String>,
    /// Group names: `sdg-1` … `sdg-17`.
    pub groups: Vec<String>,
    pub resources: Vec<Resource>,
    pub source: Source,
    pub created: i64,
    pub modified: i64,
    /// How many reuses are registered (shown and fed back to the project).
    pub reuses: i64,
}

impl Dataset {
    /// Seen by everyone (published and not private).
    pub fn is_public(&self) -> bool {
        self.state == DatasetState::Published && !self.private
    }
}

/// Whether `name` is a valid dataset or tag URL name: 2 to 100 of `a-z 0-9 - _`.
pub fn valid_name(name: &str) -> bool {
    (2..=100).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
}

/// A URL name made from a title: folded, words joined by `-`, at most 90 characters.
pub fn slugify(title: &str) -> String {
    let mut s = String::new();
    for w in crate::fold::words(title) {
        let w: String = w.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
        if w.is_empty() {
            continue;
        }
        if s.len() + w.len() + 1 > 90 {
            break;
        }
        if !s.is_empty() {
            s.push('-');
        }
        s.push_str(&w);
    }
    if s.len() < 2 {
        s.push_str("-dataset");
        s = s.trim_start_matches('-').to_string();
    }
    s
}

/// A tag as it is kept: trimmed, inner spaces single, at most 100 characters, and only letters,
/// digits, spaces and `-_.` (CKAN's rule). `None` when nothing is left.
pub fn clean_tag(tag: &str) -> Option<String> {
    let t: String = tag
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '.'))
        .take(100)
        .collect();
    let t = t.trim().to_string();
    (t.chars().count() >= 2).then_some(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_tags() {
        assert!(valid_name("eau-potable_2026"));
        assert!(!valid_name("Eau"));
        assert!(!valid_name("a"));
        assert!(!valid_name("../etc"));
        assert_eq!(
            slugify("Points d'eau à N'Djaména — 2026"),
            "points-d-eau-a-n-djamena-2026"
        );
        assert_eq!(slugify("É"), "e-dataset");
        assert_eq!(clean_tag("  eau   potable "), Some("eau potable".into()));
        assert_eq!(clean_tag("<script>"), Some("script".into()));
        assert_eq!(clean_tag("!"), None);
    }
}
