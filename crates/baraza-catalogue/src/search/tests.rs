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

/// A catalogue of `n` datasets with few distinct words, scores, dates and titles, so that
/// many matches tie on the first sort keys.
fn many(n: usize) -> Index {
    let words = ["eau", "eaux", "école", "santé", "puits"];
    Index::new(
        (0..n)
            .map(|i| {
                let title = format!("{} {}", words[i % 5], words[(i / 5) % 5]);
                let mut d = ds(
                    &format!("d{:03}", (i * 37) % n),
                    &title,
                    ["acted", "mdm", "unicef"][i % 3],
                    &[words[(i / 7) % 5]],
                    &[["sdg-6", "sdg-4"][i % 2]],
                    &["CSV", "PDF", "CSV"][..1 + i % 3],
                    (i % 4) as i64,
                );
                d.reuses = (i % 3) as i64;
                d
            })
            .collect(),
    )
}

proptest::proptest! {
    /// Any page of any sort is the slice of the whole list ordered naively (every key in turn,
    /// then the name): selecting the page must never change what a full sort would give.
    #[test]
    fn a_page_is_the_slice_of_the_full_order(
        q in proptest::sample::select(vec!["", "eau", "ea", "école santé", "puits"]),
        sort in proptest::sample::select(vec![
            "", "score desc, metadata_modified desc", "title_string asc", "num_reuses desc",
            "metadata_modified asc, num_resources desc", "id asc", "name desc", "num_tags asc, score asc",
        ]),
        start in 0usize..70,
        rows in 0usize..30,
    ) {
        let idx = many(60);
        let all = idx
            .search(&Query { q: q.into(), sort: sort.into(), rows: 1000, ..Query::default() }, &|_| true)
            .unwrap();
        let page = idx
            .search(&Query { q: q.into(), sort: sort.into(), rows, start, ..Query::default() }, &|_| true)
            .unwrap();
        proptest::prop_assert_eq!(all.count, page.count);
        let expected: Vec<String> = names(&all).into_iter().skip(start).take(rows).collect();
        proptest::prop_assert_eq!(names(&page), expected);
    }
}

#[test]
fn the_full_order_follows_every_key_then_the_name() {
    let idx = many(60);
    let f = idx
        .search(
            &Query {
                sort: "metadata_modified desc, num_reuses asc".into(),
                rows: 1000,
                ..Query::default()
            },
            &|_| true,
        )
        .unwrap();
    assert_eq!(f.results.len(), 60);
    for w in f.results.windows(2) {
        let (a, b) = (w[0], w[1]);
        let ka = (-a.modified, a.reuses, &a.name);
        let kb = (-b.modified, b.reuses, &b.name);
        assert!(ka < kb, "{} before {}", a.name, b.name);
    }
}

#[test]
fn word_prefixes_take_the_best_word_and_exact_words_weigh_double() {
    let idx = many(60);
    let q = |s: &str| Query {
        q: s.into(),
        sort: "score desc".into(),
        rows: 1000,
        ..Query::default()
    };
    // "eau" is a whole word of some titles and the beginning of "eaux" in others: both
    // match, and the exact word ranks first.
    let f = idx.search(&q("eau"), &|_| true).unwrap();
    let exact = |d: &Dataset| words(&d.title).iter().any(|w| w == "eau");
    assert!(f.results.iter().any(|d| !exact(d)));
    let first_inexact = f.results.iter().position(|d| !exact(d)).unwrap();
    assert!(f.results[..first_inexact].iter().all(|d| exact(d)));
    // Every term must be there.
    let both = idx.search(&q("école santé"), &|_| true).unwrap();
    assert!(both.count > 0);
    for d in &both.results {
        let w = words(&format!("{} {}", d.title, d.tags.join(" ")));
        assert!(
            w.iter().any(|w| w.starts_with("ecole")) && w.iter().any(|w| w.starts_with("sante"))
        );
    }
}

#[test]
fn facets_count_datasets_once_and_unknown_facets_are_refused_even_without_matches() {
    let mut d = ds(
        "dup",
        "Doublons",
        "acted",
        &["eau"],
        &["sdg-6"],
        &["CSV", "csv2"],
        0,
    );
    d.spatial = vec!["TD".into(), "TD".into()];
    let idx = Index::new(vec![d]);
    let f = idx
        .search(
            &Query {
                facet_fields: vec!["spatial".into(), "res_format".into()],
                ..Query::default()
            },
            &|_| true,
        )
        .unwrap();
    assert_eq!(f.facets[0].items, [("TD".to_string(), 1)]);
    assert_eq!(f.facets[1].items.len(), 2);
    let err = idx
        .search(
            &Query {
                q: "introuvable".into(),
                facet_fields: vec!["colour".into()],
                ..Query::default()
            },
            &|_| true,
        )
        .unwrap_err();
    assert_eq!(err, SearchError::UnknownField("colour".into()));
}

#[test]
fn text_and_title_filters_read_the_index() {
    let fq = |s: &str| {
        run(Query {
            fq: s.into(),
            ..Query::default()
        })
        .unwrap()
    };
    // `title:` looks at titles only: "wash" is a tag, never a title word.
    assert_eq!(fq("title:djam"), ["eau"]);
    assert!(fq("title:wash").is_empty());
    // `text:` looks everywhere, every word of a value, any of the values.
    assert_eq!(fq("text:wash"), ["sante", "eau"]);
    assert_eq!(fq("text:\"wash matern\""), ["sante"]);
    assert_eq!(fq("text:(ecoles OR maternelle)"), ["sante", "ecoles"]);
    assert_eq!(fq("-text:wash"), ["ecoles"]);
    assert_eq!(fq("title:*").len(), 3);
    assert_eq!(fq("-title:sante text:wash"), ["eau"]);
}
