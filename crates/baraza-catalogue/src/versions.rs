//! A dataset's versions: what changed between two states of a dataset, as its history shows it.
//!
//! Every write that alters what a reader gets (an edit, a resource added or removed, a harvest
//! run) stores the dataset as it now is (a *snapshot*, the [`Dataset`] itself) and the
//! [`Changes`] from the previous snapshot. The comparison is here, pure, so that the store has
//! one way to decide whether a write made a version and what its summary says.
//!
//! What is compared is what a reader gets: the metadata (not the organisation, which is the
//! project's, nor the reuse count, nor the times), and each resource's name, description,
//! format, media type, file name, size, hash, kind and columns (not its position or times).
//! Resources are paired by id first, then — for a harvest run, which gives every resource a
//! new id — by what they are (the same link, the same blob).

use crate::model::{Dataset, Resource};
use serde::{Deserialize, Serialize};

/// How a version came to be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Start {
    /// A change from the previous version.
    Changed,
    /// The dataset was created.
    Created,
    /// The first version recorded for a dataset made before versions were kept: its
    /// changes are unknown, its snapshot is the dataset as it was then.
    Baseline,
}

/// One resource in a version's summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResourceChange {
    pub id: String,
    pub name: String,
    pub format: String,
    /// `sha256:<hex>` when known.
    pub hash: Option<String>,
    pub size: Option<i64>,
    /// For a changed resource: its hash before, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_hash: Option<String>,
    /// For a changed resource: its size before, when it differs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_size: Option<i64>,
}

impl ResourceChange {
    fn of(r: &Resource) -> Self {
        ResourceChange {
            id: r.id.clone(),
            name: r.name.clone(),
            format: r.format.clone(),
            hash: r.hash.clone(),
            size: r.size,
            previous_hash: None,
            previous_size: None,
        }
    }
}

/// What changed from one version to the next.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Changes {
    pub start: Start,
    /// The metadata fields that changed, by their CKAN names (`title`, `notes`, `license_id`…).
    pub fields: Vec<String>,
    pub added: Vec<ResourceChange>,
    pub removed: Vec<ResourceChange>,
    pub changed: Vec<ResourceChange>,
}

impl Changes {
    /// Whether nothing a reader gets changed (then no version is recorded).
    pub fn is_empty(&self) -> bool {
        self.start == Start::Changed
            && self.fields.is_empty()
            && self.added.is_empty()
            && self.removed.is_empty()
            && self.changed.is_empty()
    }
}

/// The metadata fields compared, with their CKAN names.
fn fields(d: &Dataset) -> [(&'static str, serde_json::Value); 18] {
    use serde_json::json;
    [
        ("name", json!(d.name)),
        ("title", json!(d.title)),
        ("notes", json!(d.notes)),
        ("license_id", json!(d.license_id)),
        ("state", json!(d.state)),
        ("private", json!(d.private)),
        ("frequency", json!(d.frequency)),
        ("temporal_start", json!(d.temporal_start)),
        ("temporal_end", json!(d.temporal_end)),
        ("spatial", json!(d.spatial)),
        ("spatial_label", json!(d.spatial_label)),
        ("methodology", json!(d.methodology)),
        ("version", json!(d.version)),
        ("maintainer", json!(d.maintainer)),
        ("maintainer_email", json!(d.maintainer_email)),
        ("tags", json!(d.tags)),
        ("groups", json!(d.groups)),
        ("source", json!(d.source)),
    ]
}

/// Whether two resources give a reader the same thing (ids, positions and times aside).
fn same_resource(a: &Resource, b: &Resource) -> bool {
    a.name == b.name
        && a.description == b.description
        && a.format == b.format
        && a.media_type == b.media_type
        && a.file_name == b.file_name
        && a.size == b.size
        && a.hash == b.hash
        && a.kind == b.kind
        && a.fields == b.fields
}

/// What changed from `old` (the last version's snapshot, if any) to `new`. `created` says
/// that `new` was just created; without a previous snapshot otherwise, the result is a
/// [`Start::Baseline`].
pub fn diff(old: Option<&Dataset>, new: &Dataset, created: bool) -> Changes {
    let Some(old) = old else {
        let start = if created {
            Start::Created
        } else {
            Start::Baseline
        };
        return Changes {
            start,
            fields: Vec::new(),
            added: if created {
                new.resources.iter().map(ResourceChange::of).collect()
            } else {
                Vec::new()
            },
            removed: Vec::new(),
            changed: Vec::new(),
        };
    };
    let changed_fields = fields(old)
        .into_iter()
        .zip(fields(new))
        .filter(|((_, a), (_, b))| a != b)
        .map(|((k, _), _)| k.to_string())
        .collect();
    // Pair old and new resources: by id, then by kind (a harvest run's new ids).
    let mut pair: Vec<Option<usize>> = new
        .resources
        .iter()
        .map(|n| old.resources.iter().position(|o| o.id == n.id))
        .collect();
    for (i, n) in new.resources.iter().enumerate() {
        if pair[i].is_none() {
            pair[i] = old
                .resources
                .iter()
                .enumerate()
                .find(|(j, o)| o.kind == n.kind && !pair.contains(&Some(*j)))
                .map(|(j, _)| j);
        }
    }
    let mut out = Changes {
        start: Start::Changed,
        fields: changed_fields,
        added: Vec::new(),
        removed: Vec::new(),
        changed: Vec::new(),
    };
    for (i, n) in new.resources.iter().enumerate() {
        match pair[i] {
            None => out.added.push(ResourceChange::of(n)),
            Some(j) => {
                let o = &old.resources[j];
                if !same_resource(o, n) {
                    let mut c = ResourceChange::of(n);
                    if o.hash != n.hash {
                        c.previous_hash = o.hash.clone();
                    }
                    if o.size != n.size {
                        c.previous_size = o.size;
                    }
                    out.changed.push(c);
                }
            }
        }
    }
    for (j, o) in old.resources.iter().enumerate() {
        if !pair.contains(&Some(j)) {
            out.removed.push(ResourceChange::of(o));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{DatasetState, Organisation, ResourceKind, Source};

    fn resource(id: &str, sha: &str, size: i64) -> Resource {
        Resource {
            id: id.into(),
            name: format!("file {id}"),
            description: String::new(),
            format: "CSV".into(),
            media_type: "text/csv".into(),
            file_name: format!("{id}.csv"),
            size: Some(size),
            hash: Some(format!("sha256:{sha}")),
            position: 0,
            created: 1,
            modified: 1,
            kind: ResourceKind::File { sha256: sha.into() },
            fields: Vec::new(),
        }
    }

    fn dataset() -> Dataset {
        Dataset {
            id: "u".into(),
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
            license_id: "cc-by".into(),
            state: DatasetState::Published,
            private: false,
            frequency: String::new(),
            temporal_start: String::new(),
            temporal_end: String::new(),
            spatial: Vec::new(),
            spatial_label: String::new(),
            methodology: String::new(),
            version: String::new(),
            maintainer: String::new(),
            maintainer_email: String::new(),
            tags: vec!["eau".into()],
            groups: Vec::new(),
            resources: vec![resource("a", "aa", 10)],
            source: Source::Upload,
            created: 1,
            modified: 1,
            reuses: 0,
        }
    }

    #[test]
    fn first_versions() {
        let d = dataset();
        let c = diff(None, &d, true);
        assert_eq!(c.start, Start::Created);
        assert_eq!(c.added.len(), 1);
        assert!(!c.is_empty());
        let b = diff(None, &d, false);
        assert_eq!(b.start, Start::Baseline);
        assert!(b.added.is_empty() && !b.is_empty());
    }

    /// What a case does, the fields it changes, and its files added, removed and changed.
    type Case = (
        &'static str,
        Box<dyn Fn(&mut Dataset)>,
        Vec<&'static str>,
        [usize; 3],
    );

    #[test]
    fn what_a_reader_gets_is_compared() {
        let old = dataset();
        let cases: Vec<Case> = vec![
            ("nothing", Box::new(|_| {}), vec![], [0, 0, 0]),
            (
                "times, reuses, organisation and positions are not content",
                Box::new(|d| {
                    d.modified = 99;
                    d.reuses = 3;
                    d.organisation.title = "Autre".into();
                    d.resources[0].position = 4;
                    d.resources[0].modified = 99;
                }),
                vec![],
                [0, 0, 0],
            ),
            (
                "title and tags",
                Box::new(|d| {
                    d.title = "Eau potable".into();
                    d.tags.push("odd 6".into());
                }),
                vec!["title", "tags"],
                [0, 0, 0],
            ),
            (
                "published",
                Box::new(|d| d.state = DatasetState::Draft),
                vec!["state"],
                [0, 0, 0],
            ),
            (
                "a resource added",
                Box::new(|d| d.resources.push(resource("b", "bb", 5))),
                vec![],
                [1, 0, 0],
            ),
            (
                "a resource removed",
                Box::new(|d| d.resources.clear()),
                vec![],
                [0, 1, 0],
            ),
            (
                "a resource renamed",
                Box::new(|d| d.resources[0].name = "Registre".into()),
                vec![],
                [0, 0, 1],
            ),
            (
                "a new id for the same file (a harvest run) is no change",
                Box::new(|d| d.resources[0].id = "z".into()),
                vec![],
                [0, 0, 0],
            ),
            (
                "another file under a new id",
                Box::new(|d| d.resources[0] = resource("z", "cc", 12)),
                vec![],
                [1, 1, 0],
            ),
        ];
        for (what, change, want_fields, [added, removed, changed]) in cases {
            let mut new = old.clone();
            change(&mut new);
            let c = diff(Some(&old), &new, false);
            assert_eq!(c.fields, want_fields, "{what}");
            assert_eq!(
                (c.added.len(), c.removed.len(), c.changed.len()),
                (added, removed, changed),
                "{what}"
            );
            assert_eq!(
                c.is_empty(),
                want_fields.is_empty() && added + removed + changed == 0,
                "{what}"
            );
        }
    }

    #[test]
    fn a_replaced_file_keeps_both_hashes() {
        let old = dataset();
        let mut new = old.clone();
        new.resources[0].hash = Some("sha256:bb".into());
        new.resources[0].size = Some(11);
        new.resources[0].kind = ResourceKind::File {
            sha256: "bb".into(),
        };
        let c = diff(Some(&old), &new, false);
        assert_eq!(c.changed.len(), 1);
        assert_eq!(c.changed[0].hash.as_deref(), Some("sha256:bb"));
        assert_eq!(c.changed[0].previous_hash.as_deref(), Some("sha256:aa"));
        assert_eq!(c.changed[0].previous_size, Some(10));
    }
}
