use super::*;
use crate::model::*;

fn ds(
    name: &str,
    title: &str,
    org: &str,
    tags: &[&str],
    groups: &[&str],
    fmts: &[&str],
    modified: i64,
) -> Dataset {
    Dataset {
        id: format!("id-{name}"),
        name: name.into(),
        title: title.into(),
        notes: String::new(),
        organisation: Organisation {
            id: format!("org-{org}"),
            name: org.into(),
            title: org.to_uppercase(),
            description: String::new(),
            created: 0,
        },
        project: format!("{org}/p"),
        license_id: "cc-by".into(),
        state: DatasetState::Published,
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
        tags: tags.iter().map(|s| s.to_string()).collect(),
        groups: groups.iter().map(|s| s.to_string()).collect(),
        resources: fmts
            .iter()
            .enumerate()
            .map(|(i, f)| Resource {
                id: format!("r-{name}-{i}"),
                name: format!("{name} {f}"),
                description: String::new(),
                format: f.to_string(),
                media_type: String::new(),
                file_name: String::new(),
                size: None,
                hash: None,
                position: i as i64,
                created: 0,
                modified: 0,
                kind: ResourceKind::File {
                    sha256: String::new(),
                },
                fields: vec![],
            })
            .collect(),
        source: Source::Upload,
        created: modified,
        modified,
        reuses: 0,
    }
}

fn index() -> Index {
    Index::new(vec![
        ds(
            "eau",
            "Points d'eau à N'Djaména",
            "acted",
            &["eau", "wash"],
            &["sdg-6"],
            &["CSV", "GEOJSON"],
            100,
        ),
        ds(
            "ecoles",
            "Écoles et élèves",
            "acted",
            &["education"],
            &["sdg-4"],
            &["CSV"],
            200,
        ),
        ds(
            "sante",
            "Santé maternelle",
            "mdm",
            &["sante", "wash"],
            &["sdg-3", "sdg-6"],
            &["PDF"],
            300,
        ),
    ])
}

fn names(f: &Found) -> Vec<String> {
    f.results.iter().map(|d| d.name.clone()).collect()
}

fn run(q: Query) -> Result<Vec<String>, SearchError> {
    let idx = index();
    let f = idx.search(&q, &|_| true)?;
    Ok(names(&f))
}

#[test]
fn words_match_folded_prefixes_and_titles_rank_first() {
    let q = |s: &str| Query {
        q: s.into(),
        ..Query::default()
    };
    assert_eq!(run(q("djamena")).unwrap(), ["eau"]);
    assert_eq!(run(q("ÉCOLE")).unwrap(), ["ecoles"]);
    assert_eq!(run(q("sant")).unwrap(), ["sante"]);
    // "wash" is a tag of two; both match, newest first on equal scores.
    assert_eq!(run(q("wash")).unwrap(), ["sante", "eau"]);
    assert_eq!(run(q("eau wash")).unwrap(), ["eau"]);
    assert_eq!(run(q("*:*")).unwrap(), ["sante", "ecoles", "eau"]);
    assert_eq!(run(q("nothing-here")).unwrap(), Vec::<String>::new());
    // A field term in q filters.
    assert_eq!(run(q("tags:wash organization:acted")).unwrap(), ["eau"]);
}

#[test]
fn fq_filters_ranges_negation_and_or_groups() {
    let fq = |s: &str| Query {
        fq: s.into(),
        sort: "name asc".into(),
        ..Query::default()
    };
    assert_eq!(run(fq("organization:acted")).unwrap(), ["eau", "ecoles"]);
    assert_eq!(
        run(fq("+groups:sdg-6 AND res_format:csv")).unwrap(),
        ["eau"]
    );
    assert_eq!(run(fq("-organization:acted")).unwrap(), ["sante"]);
    assert_eq!(
        run(fq("tags:(education OR sante)")).unwrap(),
        ["ecoles", "sante"]
    );
    assert_eq!(
        run(fq("metadata_modified:[150 TO *]")).unwrap(),
        ["ecoles", "sante"]
    );
    assert_eq!(
        run(fq("metadata_modified:[* TO 200]")).unwrap(),
        ["eau", "ecoles"]
    );
    assert_eq!(
        run(fq("metadata_modified:[1970-01-01T00:04:00Z TO *]")).unwrap(),
        ["sante"]
    );
    assert_eq!(run(fq("title:\"santé\"")).unwrap(), ["sante"]);
    assert_eq!(
        run(fq("colour:red")),
        Err(SearchError::UnknownField("colour".into()))
    );
    assert!(matches!(run(fq("tags:(eau")), Err(SearchError::Syntax(..))));
    assert!(matches!(
        run(fq("metadata_modified:[yesterday TO *]")),
        Err(SearchError::Syntax(..))
    ));
}

#[test]
fn sort_paging_and_facets() {
    let idx = index();
    let q = Query {
        sort: "id asc".into(),
        rows: 2,
        start: 1,
        facet_fields: vec!["organization".into(), "groups".into(), "res_format".into()],
        ..Query::default()
    };
    let f = idx.search(&q, &|_| true).unwrap();
    assert_eq!(f.count, 3);
    assert_eq!(names(&f), ["ecoles", "sante"]);
    assert_eq!(
        f.facets[0].items,
        [("acted".to_string(), 2), ("mdm".to_string(), 1)]
    );
    assert_eq!(f.facets[1].items[0], ("sdg-6".to_string(), 2));
    assert_eq!(f.facets[2].items[0], ("CSV".to_string(), 2));
    let limited = Query {
        facet_fields: vec!["groups".into()],
        facet_limit: 1,
        ..Query::default()
    };
    assert_eq!(
        idx.search(&limited, &|_| true).unwrap().facets[0]
            .items
            .len(),
        1
    );
    assert!(matches!(
        idx.search(
            &Query {
                sort: "colour asc".into(),
                ..Query::default()
            },
            &|_| true
        ),
        Err(SearchError::BadSort(_))
    ));
    assert!(matches!(
        idx.search(
            &Query {
                facet_fields: vec!["colour".into()],
                ..Query::default()
            },
            &|_| true
        ),
        Err(SearchError::UnknownField(_))
    ));
    // What `visible` hides is neither counted nor faceted.
    let f = idx
        .search(
            &Query {
                facet_fields: vec!["organization".into()],
                ..Query::default()
            },
            &|d| d.organisation.name != "mdm",
        )
        .unwrap();
    assert_eq!(f.count, 2);
    assert_eq!(f.facets[0].items.len(), 1);
    assert_eq!(idx.get("id-eau").unwrap().name, "eau");
}

#[test]
fn bounds() {
    assert_eq!(
        parse_bound("NOW-1DAY", 100_000, false),
        Some(100_000 - 86_400)
    );
    assert_eq!(parse_bound("1970-01-02", 0, false), Some(86_400));
    assert_eq!(parse_bound("1970-01-02", 0, true), Some(2 * 86_400 - 1));
    assert_eq!(
        parse_bound("2024-02-29T12:00:00.000Z", 0, false),
        Some(1_709_208_000)
    );
    assert_eq!(parse_bound("NOW-1FORTNIGHT", 0, false), None);
}

proptest::proptest! {
    #[test]
    fn any_query_is_answered_or_refused_without_panic(q in ".{0,40}", fq in ".{0,40}", sort in ".{0,20}") {
        let idx = index();
        let _ = idx.search(&Query { q, fq, sort, facet_fields: vec!["tags".into()], ..Query::default() }, &|_| true);
    }
}

#[test]
fn sort_by_reuses() {
    let mut datasets: Vec<Dataset> = ["a", "b", "c"]
        .iter()
        .map(|n| ds(n, n, "acted", &[], &[], &["CSV"], 0))
        .collect();
    datasets[0].reuses = 1;
    datasets[2].reuses = 5;
    let idx = Index::new(datasets);
    let q = |sort: &str| Query {
        sort: sort.into(),
        ..Query::default()
    };
    let f = idx.search(&q("num_reuses desc"), &|_| true).unwrap();
    assert_eq!(names(&f), ["c", "a", "b"]);
    let f = idx
        .search(&q("num_reuses asc, name desc"), &|_| true)
        .unwrap();
    assert_eq!(names(&f), ["b", "a", "c"]);
}
