//! The engine on the demo's water-point survey and on small forms written for one feature each.

use baraza_fill::{Engine, Env, Filling, Meta, ProblemKind, Widget};
use baraza_xlsform::model::Form;
use std::collections::HashMap;

fn compile(md: &str) -> Form {
    let c = baraza_xlsform::compile_file(md.as_bytes(), "form.md");
    assert!(
        !c.has_errors(),
        "form does not compile: {:?}",
        c.diagnostics
    );
    c.form.expect("form")
}

fn demo() -> Form {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../baraza/demo/points-eau.md"
    ))
    .expect("demo form");
    let c = baraza_xlsform::compile_file(&bytes, "points-eau.md");
    assert!(!c.has_errors());
    c.form.expect("form")
}

fn env() -> Env {
    Env {
        now: "2026-11-28T10:00:00.000+00:00".into(),
        today: "2026-11-28".into(),
        now_days: 20_785.4,
        device_id: "baraza-web".into(),
        username: "amina@eau-tchad.example".into(),
        email: "amina@eau-tchad.example".into(),
    }
}

fn post(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// Answers `fields` (path, value) on the page holding the first of them.
fn answer(e: &Engine<'_>, f: &mut Filling, fields: &[(&str, &str)]) {
    let env = env();
    let rel = e.refresh(f, &env);
    let pages = e.pages();
    let first = fields[0].0.split('#').next().unwrap_or_default();
    let (id, _) = e.idx.parse_path(first).expect("path");
    let page = pages
        .iter()
        .find(|p| e.on_page(id, p))
        .expect("page of the field");
    let mut pairs = Vec::new();
    for (k, v) in fields {
        let base = k.split('#').next().unwrap_or(k);
        pairs.push(("_f".to_owned(), base.to_owned()));
        pairs.push(((*k).to_owned(), (*v).to_owned()));
    }
    e.apply(f, &rel, &env, page, &pairs);
    e.refresh(f, &env);
}

fn problems(e: &Engine<'_>, f: &mut Filling) -> Vec<(String, ProblemKind, Option<String>)> {
    let env = env();
    let rel = e.refresh(f, &env);
    e.check(f, &rel, &env, None)
        .into_iter()
        .map(|p| (p.path, p.kind, p.message))
        .collect()
}

fn fill_demo(e: &Engine<'_>, f: &mut Filling) {
    answer(
        e,
        f,
        &[
            ("/data/localisation/province", "ndjamena"),
            ("/data/localisation/commune", "arr7"),
            ("/data/localisation/quartier", "Chagoua"),
            ("/data/localisation/gps#lat", "12.1"),
            ("/data/localisation/gps#lon", "15.05"),
            ("/data/localisation/gps#acc", "8"),
        ],
    );
    answer(
        e,
        f,
        &[
            ("/data/point/type_point", "forage"),
            ("/data/point/fonctionnel", "non"),
            ("/data/point/pannes", "pompe"),
            ("/data/point/pannes", "tuyau"),
            ("/data/point/jours_panne", "12"),
            ("/data/point/temps_trajet", "25"),
            ("/data/point/prix", "50"),
        ],
    );
    answer(
        e,
        f,
        &[
            ("/data/menage/sexe_chef", "femme"),
            ("/data/menage/taille_menage", "6"),
            ("/data/menage/nb_enfants", "2"),
        ],
    );
    answer(
        e,
        f,
        &[
            ("/data/menage/enfant[1]/age_mois", "14"),
            ("/data/menage/enfant[1]/diarrhee", "oui"),
            ("/data/menage/enfant[2]/age_mois", "40"),
            ("/data/menage/enfant[2]/diarrhee", "non"),
        ],
    );
}

#[test]
fn demo_starts_with_metadata_and_pages() {
    let form = demo();
    let e = Engine::new(&form, "Français (fr)", &HashMap::new());
    let f = e.start(&env());
    let (start, _) = e.idx.parse_path("/data/start").expect("start");
    assert_eq!(
        f.answers.get(&e.idx, start, &[]),
        "2026-11-28T10:00:00.000+00:00"
    );
    let (dev, _) = e.idx.parse_path("/data/deviceid").expect("deviceid");
    assert_eq!(f.answers.get(&e.idx, dev, &[]), "baraza-web");
    // localisation, point, menage, and the closing note.
    assert_eq!(e.pages().len(), 4);
}

#[test]
fn choice_filter_keeps_the_communes_of_the_province() {
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let mut f = e.start(&env());
    answer(&e, &mut f, &[("/data/localisation/province", "ouaddai")]);
    let env = env();
    let rel = e.refresh(&mut f, &env);
    let (id, loc) = e
        .idx
        .parse_path("/data/localisation/commune")
        .expect("commune");
    let names: Vec<&str> = e
        .choices(&f.answers, id, &loc, &rel, &env)
        .iter()
        .map(|c| c.name.as_str())
        .collect();
    assert_eq!(names, ["abeche", "adre"]);
    // A commune of another province is refused.
    answer(&e, &mut f, &[("/data/localisation/commune", "arr1")]);
    let p = problems(&e, &mut f);
    assert!(p
        .iter()
        .any(|(path, kind, _)| path == "/data/localisation/commune"
            && *kind == ProblemKind::NotAChoice("arr1".into())));
}

#[test]
fn relevance_required_constraints_and_messages() {
    let form = demo();
    let e = Engine::new(&form, "Français (fr)", &HashMap::new());
    let mut f = e.start(&env());
    let p = problems(&e, &mut f);
    // Required questions are reported; breakdowns are not relevant yet.
    assert!(p
        .iter()
        .any(|(path, k, _)| path == "/data/point/fonctionnel" && *k == ProblemKind::Required));
    assert!(!p.iter().any(|(path, _, _)| path == "/data/point/pannes"));
    answer(&e, &mut f, &[("/data/point/fonctionnel", "non")]);
    let p = problems(&e, &mut f);
    assert!(p
        .iter()
        .any(|(path, k, _)| path == "/data/point/pannes" && *k == ProblemKind::Required));
    answer(
        &e,
        &mut f,
        &[
            ("/data/point/temps_trajet", "900"),
            ("/data/point/prix", "abc"),
        ],
    );
    let p = problems(&e, &mut f);
    let trajet = p
        .iter()
        .find(|(path, _, _)| path == "/data/point/temps_trajet")
        .expect("constraint");
    assert_eq!(trajet.1, ProblemKind::Constraint);
    assert_eq!(trajet.2.as_deref(), Some("Entre 0 et 600 minutes"));
    assert!(p
        .iter()
        .any(|(path, k, _)| path == "/data/point/prix" && *k == ProblemKind::Type("decimal")));
}

#[test]
fn repeat_count_follows_its_expression_and_constraints_see_other_answers() {
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let mut f = e.start(&env());
    answer(
        &e,
        &mut f,
        &[
            ("/data/menage/taille_menage", "4"),
            ("/data/menage/nb_enfants", "3"),
        ],
    );
    let (rep, _) = e.idx.parse_path("/data/menage/enfant").expect("repeat");
    assert_eq!(f.answers.count(&e.idx, rep, &[]), 3);
    answer(&e, &mut f, &[("/data/menage/nb_enfants", "1")]);
    assert_eq!(f.answers.count(&e.idx, rep, &[]), 1);
    // nb_enfants <= taille_menage
    answer(&e, &mut f, &[("/data/menage/nb_enfants", "5")]);
    let p = problems(&e, &mut f);
    assert!(p
        .iter()
        .any(|(path, k, _)| path == "/data/menage/nb_enfants" && *k == ProblemKind::Constraint));
}

#[test]
fn a_filled_demo_becomes_a_submission_that_ingestion_accepts() {
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let mut f = e.start(&env());
    fill_demo(&e, &mut f);
    assert_eq!(problems(&e, &mut f), vec![]);
    let env = env();
    let rel = e.refresh(&mut f, &env);
    let (calc, _) = e.idx.parse_path("/data/acces_30min").expect("calc");
    assert_eq!(f.answers.get(&e.idx, calc, &[]), "1");
    let xml = e.to_xml(
        &f,
        &rel,
        &env,
        &Meta {
            instance_id: "uuid:0f7e0000-0000-4000-8000-000000000001",
            deprecated_id: None,
            end: None,
        },
    );
    let sub =
        baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default()).expect("parses");
    assert_eq!(sub.form_id, "points_eau");
    assert_eq!(sub.instance_name.as_deref(), Some("Chagoua — forage"));
    let values = baraza_openrosa::type_values(&form, &sub).expect("types");
    let get = |p: &str| {
        values
            .iter()
            .find(|v| v.path == p)
            .map(|v| v.value.clone())
            .unwrap_or(baraza_openrosa::Typed::Empty)
    };
    assert_eq!(
        get("/data/point/pannes"),
        baraza_openrosa::Typed::Choices(vec!["pompe".into(), "tuyau".into()])
    );
    assert_eq!(
        get("/data/localisation/gps"),
        baraza_openrosa::Typed::Geopoint {
            lat: 12.1,
            lon: 15.05,
            alt: Some(0.0),
            acc: Some(8.0)
        }
    );
    assert_eq!(
        get("/data/menage/enfant[2]/age_mois"),
        baraza_openrosa::Typed::Int(40)
    );
    assert_eq!(
        get("/data/end"),
        baraza_openrosa::Typed::DateTime("2026-11-28T10:00:00.000+00:00".into())
    );

    // Read back for an edit: the same answers give the same document.
    let raw: Vec<(String, String)> = sub
        .values
        .iter()
        .map(|v| (v.path.clone(), v.value.clone()))
        .collect();
    let mut again = e.filling_from_values(
        raw.iter().map(|(p, v)| (p.as_str(), v.as_str())),
        &f.started,
    );
    let rel2 = e.refresh(&mut again, &env);
    let xml2 = e.to_xml(
        &again,
        &rel2,
        &env,
        &Meta {
            instance_id: "uuid:0f7e0000-0000-4000-8000-000000000001",
            deprecated_id: None,
            end: None,
        },
    );
    assert_eq!(xml, xml2);
}

#[test]
fn not_relevant_answers_are_kept_in_the_draft_but_submitted_empty() {
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let mut f = e.start(&env());
    fill_demo(&e, &mut f);
    answer(&e, &mut f, &[("/data/point/fonctionnel", "oui")]);
    let env = env();
    let rel = e.refresh(&mut f, &env);
    assert!(rel.is_off("/data/point/jours_panne"));
    let xml = e.to_xml(
        &f,
        &rel,
        &env,
        &Meta {
            instance_id: "uuid:x",
            deprecated_id: Some("uuid:y"),
            end: None,
        },
    );
    assert!(xml.contains("<jours_panne/>"), "{xml}");
    assert!(xml.contains("<deprecatedID>uuid:y</deprecatedID>"));
    answer(&e, &mut f, &[("/data/point/fonctionnel", "non")]);
    let (id, _) = e.idx.parse_path("/data/point/jours_panne").expect("q");
    assert_eq!(f.answers.get(&e.idx, id, &[]), "12");
}

const REPEATS: &str = r#"
| survey |
| | type | name | label | relevant | calculation | constraint | default |
| | text | village | Village | | | | Kibera |
| | begin repeat | member | Member | | | | |
| | text | name | Name of member ${village} | | | | |
| | integer | age | Age | | | . >= 0 | |
| | calculate | pos | | | position(..) | | |
| | begin repeat | visit | Visit | | | | |
| | date | when | When | | | | |
| | end repeat | | | | | | |
| | end repeat | | | | | | |
| | calculate | total_age | | | sum(${age}) | | |
| | calculate | second | | | indexed-repeat(${name}, ${member}, 2) | | |
| | integer | members | How many (${total_age})? | | | . = count(${member}) | |
| | select_one colour or_other | colour | Colour | | | | |
| | rank colour | ranking | Rank | | | | |
| | acknowledge | ok | I agree | | | | |
| choices |
| | list_name | name | label |
| | colour | red | Red |
| | colour | blue | Blue |
"#;

#[test]
fn repeats_are_added_and_removed_and_seen_across() {
    let form = compile(REPEATS);
    let e = Engine::new(&form, "default", &HashMap::new());
    let env = env();
    let mut f = e.start(&env);
    let (member, _) = e.idx.parse_path("/data/member").expect("member");
    assert_eq!(
        f.answers.count(&e.idx, member, &[]),
        1,
        "one instance to start"
    );
    assert!(e.add_instance(&mut f.answers, member, &[], &env));
    assert!(e.add_instance(&mut f.answers, member, &[], &env));
    answer(
        &e,
        &mut f,
        &[
            ("/data/member[1]/name", "Achieng"),
            ("/data/member[1]/age", "30"),
            ("/data/member[2]/name", "Otieno"),
            ("/data/member[2]/age", "12"),
            ("/data/member[3]/name", "Wanjiru"),
            ("/data/member[3]/age", "7"),
        ],
    );
    let calc = |f: &Filling, path: &str| {
        let (id, loc) = e.idx.parse_path(path).expect("path");
        f.answers.get(&e.idx, id, &loc).to_owned()
    };
    assert_eq!(calc(&f, "/data/total_age"), "49");
    assert_eq!(calc(&f, "/data/second"), "Otieno");
    assert_eq!(calc(&f, "/data/member[3]/pos"), "3");
    // The label shows an answer from outside the repeat.
    let rel = e.refresh(&mut f, &env);
    let (name, _) = e.idx.parse_path("/data/member[1]/name").expect("name");
    assert_eq!(
        e.label(&f.answers, name, &[0], &rel).as_deref(),
        Some("Name of member Kibera")
    );
    // Removing the second member shifts the third.
    assert!(e.remove_instance(&mut f.answers, member, &[], 1));
    e.refresh(&mut f, &env);
    assert_eq!(calc(&f, "/data/member[2]/name"), "Wanjiru");
    assert_eq!(calc(&f, "/data/member[2]/pos"), "2");
    assert_eq!(calc(&f, "/data/total_age"), "37");
    // A nested repeat lives in its own member.
    let (visit, _) = e.idx.parse_path("/data/member[2]/visit").expect("visit");
    assert!(e.add_instance(&mut f.answers, visit, &[1], &env));
    answer(
        &e,
        &mut f,
        &[("/data/member[2]/visit[2]/when", "2026-01-05")],
    );
    assert_eq!(calc(&f, "/data/member[2]/visit[2]/when"), "2026-01-05");
    assert_eq!(f.answers.count(&e.idx, visit, &[0]), 1);
    // count(${member}) in a constraint.
    answer(&e, &mut f, &[("/data/members", "3")]);
    assert!(problems(&e, &mut f)
        .iter()
        .any(|(p, k, _)| p == "/data/members" && *k == ProblemKind::Constraint));
    answer(&e, &mut f, &[("/data/members", "2")]);
    assert!(!problems(&e, &mut f)
        .iter()
        .any(|(p, _, _)| p == "/data/members"));
}

#[test]
fn or_other_rank_acknowledge_and_widgets() {
    let form = compile(REPEATS);
    let e = Engine::new(&form, "default", &HashMap::new());
    let env = env();
    let mut f = e.start(&env);
    answer(
        &e,
        &mut f,
        &[
            ("/data/colour", "other"),
            ("/data/colour#other", "green"),
            ("/data/ranking#rank:red", "2"),
            ("/data/ranking#rank:blue", "1"),
            ("/data/ok", "OK"),
        ],
    );
    let rel = e.refresh(&mut f, &env);
    let xml = e.to_xml(
        &f,
        &rel,
        &env,
        &Meta {
            instance_id: "uuid:1",
            deprecated_id: None,
            end: None,
        },
    );
    assert!(
        xml.contains("<colour>other</colour><colour_other>green</colour_other>"),
        "{xml}"
    );
    assert!(xml.contains("<ranking>blue red</ranking>"), "{xml}");
    assert!(xml.contains("<ok>OK</ok>"), "{xml}");
    let sub = baraza_openrosa::parse_submission(xml.as_bytes(), &Default::default()).expect("xml");
    baraza_openrosa::type_values(&form, &sub).expect("typed");
    // The page with the select shows the "other" text.
    let pages = e.pages();
    let (colour, _) = e.idx.parse_path("/data/colour").expect("colour");
    let page = pages.iter().find(|p| e.on_page(colour, p)).expect("page");
    let widgets = e.widgets(&f, &rel, &env, page, &[]);
    let other = widgets.iter().find_map(|w| match w {
        Widget::Question {
            name,
            other,
            choices,
            ..
        } if name == "colour" => Some((other.clone(), choices.len())),
        _ => None,
    });
    assert_eq!(other, Some((Some("green".into()), 3)));
    // An incomplete rank is a problem.
    answer(&e, &mut f, &[("/data/ranking#rank:red", "1")]);
    assert!(problems(&e, &mut f)
        .iter()
        .any(|(p, k, _)| p == "/data/ranking" && *k == ProblemKind::BadRank));
}

#[test]
fn posts_cannot_reach_outside_their_page_or_set_calculations() {
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let env = env();
    let mut f = e.start(&env);
    let rel = e.refresh(&mut f, &env);
    let pages = e.pages();
    let done = e.apply(
        &mut f,
        &rel,
        &env,
        &pages[0],
        &post(&[
            ("_f", "/data/point/type_point"),
            ("/data/point/type_point", "puits"),
            ("_f", "/data/acces_30min"),
            ("/data/acces_30min", "7"),
            ("_f", "/data/../etc/passwd"),
            ("_f", "/data/localisation/quartier"),
            ("/data/localisation/quartier", "Moursal\u{1}\r\nNord"),
        ]),
    );
    assert_eq!(done, vec!["/data/localisation/quartier".to_owned()]);
    let (q, _) = e.idx.parse_path("/data/localisation/quartier").expect("q");
    assert_eq!(f.answers.get(&e.idx, q, &[]), "Moursal\nNord");
    let (t, _) = e.idx.parse_path("/data/point/type_point").expect("t");
    assert_eq!(f.answers.get(&e.idx, t, &[]), "");
}

#[test]
fn from_file_choices_and_filters_on_their_columns() {
    let form = compile(
        r#"
| survey |
| | type | name | label | choice_filter |
| | select_one region | region | Region | |
| | select_one_from_file wards.csv | ward | Ward | county = ${region} |
| choices |
| | list_name | name | label |
| | region | nairobi | Nairobi |
| | region | kisumu | Kisumu |
"#,
    );
    let mut files = HashMap::new();
    files.insert(
        "wards.csv".to_owned(),
        b"name,label,county\nkibera,Kibera,nairobi\nmathare,Mathare,nairobi\nkondele,Kondele,kisumu\n"
            .to_vec(),
    );
    let e = Engine::new(&form, "default", &files);
    let env = env();
    let mut f = e.start(&env);
    answer(&e, &mut f, &[("/data/region", "kisumu")]);
    let rel = e.refresh(&mut f, &env);
    let (ward, _) = e.idx.parse_path("/data/ward").expect("ward");
    let names: Vec<String> = e
        .choices(&f.answers, ward, &[], &rel, &env)
        .iter()
        .map(|c| format!("{}={}", c.name, e.choice_label(c)))
        .collect();
    assert_eq!(names, ["kondele=Kondele"]);
}

#[test]
fn next_waits_when_answers_change_the_choices_of_the_same_page() {
    use baraza_fill::{Action, At, Notice};
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let env = env();
    let mut f = e.start(&env);
    let shown = e.shown(&f, &env, 0);
    let mut pairs: Vec<(String, String)> =
        shown.iter().map(|p| ("_f".to_owned(), p.clone())).collect();
    pairs.push(("/data/localisation/province".into(), "ouaddai".into()));
    pairs.push(("/data/localisation/quartier".into(), "Abéché centre".into()));
    let step = e.step(&mut f, &env, At::Page(0), &pairs, &Action::Next);
    assert_eq!(step.at, At::Page(0));
    assert_eq!(step.notice, Some(Notice::NewQuestions));
    assert!(step.problems.is_empty(), "{:?}", step.problems);
    // Now with a commune of the province: on to the next page.
    pairs.push(("/data/localisation/commune".into(), "adre".into()));
    let step = e.step(&mut f, &env, At::Page(0), &pairs, &Action::Next);
    assert_eq!(step.at, At::Page(1), "{:?}", step.problems);
    // Back on page 0, another province makes the commune invalid: shown again, no error yet.
    let mut back = pairs.clone();
    back.retain(|(k, _)| k != "/data/localisation/province");
    back.push(("/data/localisation/province".into(), "ndjamena".into()));
    let step = e.step(&mut f, &env, At::Page(0), &back, &Action::Next);
    assert_eq!(
        step.notice,
        Some(Notice::NewQuestions),
        "{:?}",
        step.problems
    );
    // Previous never checks; Next on the last page goes to the review.
    let step = e.step(&mut f, &env, At::Page(1), &[], &Action::Previous);
    assert_eq!(step.at, At::Page(0));
    let step = e.step(&mut f, &env, At::Page(3), &[], &Action::Next);
    assert_eq!(step.at, At::Review);
}

#[test]
fn spreadsheet_columns_are_matched_as_kobo_and_central_name_them() {
    use baraza_fill::import::{read_table, ColumnIssue, Target};
    let form = demo();
    let e = Engine::new(&form, "English (en)", &HashMap::new());
    let headers: Vec<String> = [
        "localisation/province",
        "_gps_latitude",
        "_gps_longitude",
        "_gps_precision",
        "point-temps_trajet",
        "_uuid",
        "_submission_time",
        "KEY",
        "SubmissionDate",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let targets = e.map_columns(&headers).expect("all known");
    let (prov, _) = e.idx.parse_path("/data/localisation/province").unwrap();
    let (gps, _) = e.idx.parse_path("/data/localisation/gps").unwrap();
    assert_eq!(targets[0], Target::Question(prov));
    assert_eq!(targets[1], Target::GeoPart(gps, 0));
    assert_eq!(targets[3], Target::GeoPart(gps, 3));
    assert_eq!(targets[5], Target::InstanceId);
    assert_eq!(targets[6], Target::Ignored);
    let cells: Vec<String> = [
        "N’Djamena",
        "12.5",
        "15.1",
        "4",
        "30",
        "abc-123",
        "x",
        "y",
        "z",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let (f, id) = e.row_filling(&targets, &cells, "2026-01-01");
    assert_eq!(id.as_deref(), Some("abc-123"));
    assert_eq!(
        f.answers.get(&e.idx, prov, &[]),
        "ndjamena",
        "a label became its name"
    );
    assert_eq!(f.answers.get(&e.idx, gps, &[]), "12.5 15.1 0 4");
    // Two columns for one question; a question in a repeat.
    let bad: Vec<String> = ["province", "localisation-province", "age_mois", "colour"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let issues = e.map_columns(&bad).unwrap_err();
    assert_eq!(
        issues,
        vec![
            ColumnIssue::Twice {
                column: "localisation-province".into()
            },
            ColumnIssue::InRepeat {
                column: "age_mois".into()
            },
            ColumnIssue::Unknown {
                column: "colour".into()
            },
        ]
    );
    // Tables: semicolons, a BOM, empty rows skipped, row numbers kept.
    let t = read_table("\u{feff}a;b\r\n1;2\r\n;\r\n3;4\r\n".as_bytes(), "x.csv").unwrap();
    assert_eq!(t.headers, ["a", "b"]);
    assert_eq!(
        t.rows,
        vec![
            (2, vec!["1".into(), "2".into()]),
            (4, vec!["3".into(), "4".into()])
        ]
    );
    assert!(read_table(b"", "x.csv").is_err());
    assert!(read_table(b"a,b", "x.pdf").is_err());
}

#[test]
fn a_post_cannot_make_repeat_instances() {
    let form = compile(REPEATS);
    let e = Engine::new(&form, "default", &HashMap::new());
    let env = env();
    let mut f = e.start(&env);
    let rel = e.refresh(&mut f, &env);
    let (member, _) = e.idx.parse_path("/data/member").unwrap();
    let page = e
        .pages()
        .into_iter()
        .find(|p| e.on_page(member, p))
        .unwrap();
    let done = e.apply(
        &mut f,
        &rel,
        &env,
        &page,
        &post(&[
            ("_f", "/data/member[100000]/name"),
            ("/data/member[100000]/name", "x"),
        ]),
    );
    assert!(done.is_empty());
    assert_eq!(f.answers.count(&e.idx, member, &[]), 1);
}
