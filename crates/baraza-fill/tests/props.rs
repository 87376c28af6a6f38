//! Hostile posts never break the engine: whatever a browser (or anyone) posts, in whatever
//! order, the engine neither panics nor writes a submission that ingestion would refuse as XML.

use baraza_fill::{Action, At, Engine, Env, Meta};
use proptest::prelude::*;
use std::collections::HashMap;

fn demo() -> baraza_xlsform::model::Form {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../baraza/demo/points-eau.md"
    ))
    .expect("demo form");
    baraza_xlsform::compile_file(&bytes, "points-eau.md")
        .form
        .expect("form")
}

fn env() -> Env {
    Env {
        now: "2026-11-28T10:00:00.000+00:00".into(),
        today: "2026-11-28".into(),
        now_days: 20_785.4,
        ..Default::default()
    }
}

/// Paths that exist, paths that almost exist, and garbage.
fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/data/localisation/province".to_owned()),
        Just("/data/localisation/gps".to_owned()),
        Just("/data/point/pannes".to_owned()),
        Just("/data/menage/nb_enfants".to_owned()),
        Just("/data/menage/enfant".to_owned()),
        (1usize..700).prop_map(|i| format!("/data/menage/enfant[{i}]")),
        (0usize..700).prop_map(|i| format!("/data/menage/enfant[{i}]/age_mois")),
        Just("/data/acces_30min".to_owned()),
        Just("/data/meta/instanceID".to_owned()),
        "/data/[a-z/\\[\\]0-9]{0,30}",
        ".{0,40}",
    ]
}

fn value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("ndjamena".to_owned()),
        Just("non".to_owned()),
        Just("3".to_owned()),
        Just("999999999999999999999".to_owned()),
        Just("<![CDATA[x]]>&amp;</data>".to_owned()),
        ".{0,60}",
    ]
}

fn action() -> impl Strategy<Value = Action> {
    prop_oneof![
        Just(Action::Next),
        Just(Action::Previous),
        Just(Action::Save),
        Just(Action::Refresh),
        (0usize..10).prop_map(Action::Goto),
        path().prop_map(Action::Add),
        path().prop_map(Action::Remove),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn hostile_posts_never_break_the_engine(
        steps in prop::collection::vec(
            (0usize..6, prop::collection::vec((path(), value()), 0..12), action()),
            1..8,
        )
    ) {
        let form = demo();
        let e = Engine::new(&form, "English (en)", &HashMap::new());
        let env = env();
        let mut f = e.start(&env);
        for (page, fields, action) in steps {
            let mut posted = Vec::new();
            for (p, v) in fields {
                posted.push(("_f".to_owned(), p.clone()));
                posted.push((p.clone(), v.clone()));
                posted.push((format!("{p}#lat"), v.clone()));
            }
            let at = if page == 5 { At::Review } else { At::Page(page) };
            let step = e.step(&mut f, &env, at, &posted, &action);
            let _ = e.shown(&f, &env, 0);
            prop_assert!(matches!(step.at, At::Review) || matches!(step.at, At::Page(n) if n < e.pages().len() || n == page));
        }
        // Whatever happened, the XML is well-formed and safe for ingestion's parser.
        let rel = e.refresh(&mut f, &env);
        let xml = e.to_xml(&f, &rel, &env, &Meta { instance_id: "uuid:x", deprecated_id: None, end: None });
        prop_assert!(baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default()).is_ok(), "{}", xml);
        let _ = e.review(&f, &rel, &env);
        let _ = e.check_all(&mut f, &env);
    }
}
