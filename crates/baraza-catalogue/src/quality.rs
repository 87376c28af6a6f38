//! The quality score of a dataset, criterion by criterion.
//!
//! data.gouv.fr's nine criteria (licence, temporal and spatial coverage, an update frequency
//! set and kept, a description over 100 characters, an open format, every resource available,
//! resources documented) plus three of ours: a valid Data Package, HXL tags on the columns, and
//! a documented methodology. A criterion that cannot apply (HXL without a table, "kept" without
//! a promised frequency) is left out of the score rather than counted against the dataset.
//! Each criterion has a code; the web layer shows its name and a fix-it hint in the reader's
//! language (`quality.<code>` and `quality.<code>_hint`).

use crate::licences::{frequency, licence};
use crate::model::Dataset;
use serde::Serialize;

/// The shortest description counted as one (uData's threshold).
pub const MIN_DESCRIPTION: usize = 100;
/// The share of a table's columns that must carry an HXL hashtag.
pub const MIN_HXL_SHARE: f64 = 0.8;
/// The shortest methodology counted as documented, when no documentation file is attached.
pub const MIN_METHODOLOGY: usize = 50;

/// One criterion's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Criterion {
    pub code: &'static str,
    /// `None` when it does not apply to this dataset.
    pub passed: Option<bool>,
    /// What the check found, for the hint (a count, a date, a resource name).
    pub detail: String,
}

/// The score and its criteria.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Quality {
    /// Passed criteria over applicable ones, 0 to 100.
    pub score: u32,
    pub criteria: Vec<Criterion>,
}

/// What the check needs from outside the dataset.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// Unix seconds.
    pub now: i64,
    /// Names of resources whose file cannot be read.
    pub unavailable: Vec<String>,
    /// What makes the Data Package invalid (empty when valid).
    pub datapackage_problems: Vec<String>,
}

pub fn assess(d: &Dataset, facts: &Facts) -> Quality {
    let mut c = Vec::new();
    let mut push = |code, passed: Option<bool>, detail: String| {
        c.push(Criterion {
            code,
            passed,
            detail,
        })
    };
    let lic = licence(&d.license_id);
    push(
        "license",
        Some(lic.is_some_and(|l| l.open)),
        d.license_id.clone(),
    );
    push(
        "temporal_coverage",
        Some(!d.temporal_start.is_empty()),
        format!("{} – {}", d.temporal_start, d.temporal_end),
    );
    push("spatial", Some(!d.spatial.is_empty()), d.spatial.join(", "));
    let freq = frequency(&d.frequency).filter(|f| f.code != "unknown");
    push(
        "update_frequency",
        Some(freq.is_some()),
        d.frequency.clone(),
    );
    let kept = freq.and_then(|f| f.days).map(|days| {
        let late_by = facts.now - d.modified - days * 86_400;
        (late_by <= 0, late_by / 86_400)
    });
    push(
        "update_fulfilled_in_time",
        kept.map(|(ok, _)| ok),
        kept.map(|(_, late)| late.to_string()).unwrap_or_default(),
    );
    let len = d.notes.trim().chars().count();
    push("description", Some(len >= MIN_DESCRIPTION), len.to_string());
    let data: Vec<_> = d
        .resources
        .iter()
        .filter(|r| !r.is_documentation())
        .collect();
    push(
        "has_resources",
        Some(!data.is_empty()),
        data.len().to_string(),
    );
    push(
        "has_open_format",
        Some(data.iter().any(|r| r.open_format())),
        data.iter()
            .map(|r| r.format.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    );
    push(
        "all_resources_available",
        Some(!d.resources.is_empty() && facts.unavailable.is_empty()),
        facts.unavailable.join(", "),
    );
    let has_doc_file = d.resources.iter().any(|r| r.is_documentation());
    let undocumented: Vec<&str> = data
        .iter()
        .filter(|r| r.description.trim().is_empty())
        .map(|r| r.name.as_str())
        .collect();
    push(
        "resources_documentation",
        Some(!data.is_empty() && (undocumented.is_empty() || has_doc_file)),
        undocumented.join(", "),
    );
    let tabular: Vec<_> = d.resources.iter().filter(|r| r.is_tabular()).collect();
    push(
        "datapackage",
        (!tabular.is_empty()).then_some(facts.datapackage_problems.is_empty()),
        facts.datapackage_problems.join("; "),
    );
    let (tagged, columns) = tabular.iter().fold((0usize, 0usize), |(t, n), r| {
        (
            t + r.fields.iter().filter(|f| f.hxl.is_some()).count(),
            n + r.fields.len(),
        )
    });
    push(
        "hxl",
        (columns > 0).then_some(tagged as f64 >= MIN_HXL_SHARE * columns as f64),
        format!("{tagged}/{columns}"),
    );
    push(
        "methodology",
        Some(d.methodology.trim().chars().count() >= MIN_METHODOLOGY || has_doc_file),
        d.methodology.trim().chars().count().to_string(),
    );
    let applicable = c.iter().filter(|c| c.passed.is_some()).count();
    let passed = c.iter().filter(|c| c.passed == Some(true)).count();
    let score = (100 * passed).checked_div(applicable).unwrap_or(0) as u32;
    Quality { score, criteria: c }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::*;

    fn base() -> Dataset {
        Dataset {
            id: "1".into(),
            name: "eau".into(),
            title: "Eau".into(),
            notes: String::new(),
            organisation: Organisation {
                id: "o".into(),
                name: "o".into(),
                title: "O".into(),
                description: String::new(),
                created: 0,
            },
            project: "o/p".into(),
            license_id: "notspecified".into(),
            state: DatasetState::Draft,
            private: false,
            frequency: String::new(),
            temporal_start: String::new(),
            temporal_end: String::new(),
            spatial: vec![],
            spatial_label: String::new(),
            methodology: String::new(),
            version: String::new(),
            maintainer: String::new(),
            maintainer_email: String::new(),
            tags: vec![],
            groups: vec![],
            resources: vec![],
            source: Source::Upload,
            created: 0,
            modified: 0,
            reuses: 0,
        }
    }

    fn csv(described: bool, hxl: usize, of: usize) -> Resource {
        Resource {
            id: "r".into(),
            name: "table".into(),
            description: if described {
                "Une ligne par point d'eau".into()
            } else {
                String::new()
            },
            format: "CSV".into(),
            media_type: "text/csv".into(),
            file_name: "t.csv".into(),
            size: Some(10),
            hash: None,
            position: 0,
            created: 0,
            modified: 0,
            kind: ResourceKind::File { sha256: "x".into() },
            fields: (0..of)
                .map(|i| Field {
                    name: format!("c{i}"),
                    r#type: "string".into(),
                    hxl: (i < hxl).then(|| "#adm1".into()),
                    description: String::new(),
                })
                .collect(),
        }
    }

    fn verdict(q: &Quality, code: &str) -> Option<bool> {
        q.criteria.iter().find(|c| c.code == code).unwrap().passed
    }

    #[test]
    fn an_empty_dataset_scores_zero_and_says_why() {
        let q = assess(&base(), &Facts::default());
        assert_eq!(q.score, 0);
        assert_eq!(verdict(&q, "hxl"), None);
        assert_eq!(verdict(&q, "update_fulfilled_in_time"), None);
        assert_eq!(verdict(&q, "license"), Some(false));
    }

    #[test]
    fn a_complete_dataset_scores_full_and_lateness_counts() {
        let mut d = base();
        d.license_id = "lov2".into();
        d.temporal_start = "2026-01-01".into();
        d.spatial = vec!["TD".into()];
        d.frequency = "monthly".into();
        d.notes = "x".repeat(120);
        d.methodology = "y".repeat(60);
        d.resources = vec![csv(true, 4, 5)];
        d.modified = 1_000_000;
        let facts = Facts {
            now: 1_000_000 + 10 * 86_400,
            ..Facts::default()
        };
        assert_eq!(assess(&d, &facts).score, 100);
        let late = Facts {
            now: 1_000_000 + 40 * 86_400,
            ..Facts::default()
        };
        let q = assess(&d, &late);
        assert_eq!(verdict(&q, "update_fulfilled_in_time"), Some(false));
        assert!(q.score < 100);
        d.resources = vec![csv(false, 3, 5)];
        let q = assess(&d, &facts);
        assert_eq!(verdict(&q, "hxl"), Some(false));
        assert_eq!(verdict(&q, "resources_documentation"), Some(false));
        let broken = Facts {
            unavailable: vec!["table".into()],
            ..facts
        };
        assert_eq!(
            verdict(&assess(&d, &broken), "all_resources_available"),
            Some(false)
        );
    }
}
