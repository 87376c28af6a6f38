//! Indicators and the SDG dashboard, as a reader and a manager use them: the demo's figures
//! checked against the records read back from the submissions' CSV and computed here
//! independently; a new record, an edit, a rejection and an erasure reaching the figures at
//! once; a full recompute giving the same figures; definitions checked all or nothing and kept
//! to managers; small cells never leaking through the page, its twins or the analytics API.

use crate::common::*;
use baraza_core::forms::Submitter;
use rand::SeedableRng;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;

fn dashboard() -> String {
    format!("{}/indicators", private_project())
}

fn indicator(slug: &str) -> String {
    format!("{}/indicators/{slug}", private_project())
}

/// The survey's records as the submissions' CSV gives them: (column → value) per record.
async fn records(app: &TestApp, c: &reqwest::Client) -> Vec<BTreeMap<String, String>> {
    let csv = c
        .get(app.url(&format!(
            "{}/forms/points_eau/submissions.csv",
            private_project()
        )))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut r = csv::Reader::from_reader(csv.as_bytes());
    let h = r.headers().unwrap().clone();
    r.records()
        .map(|row| {
            let row = row.unwrap();
            h.iter()
                .zip(row.iter())
                .map(|(k, v)| (k.to_owned(), v.to_owned()))
                .collect()
        })
        .collect()
}

fn place(province: &str) -> &'static str {
    match province {
        "ndjamena" => "TD-ND",
        "ouaddai" => "TD-OD",
        other => panic!("unexpected province {other}"),
    }
}

/// Wilson's 95 % interval, written here again from its formula.
fn wilson(k: f64, n: f64) -> (f64, f64) {
    let z: f64 = 1.959963984540054;
    let p = k / n;
    let d = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / d;
    let half = z * ((p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt()) / d;
    (centre - half, centre + half)
}

fn figure<'a>(page: &'a Value, period: &str, place: &str, dim: &str, group: &str) -> &'a Value {
    page["figures"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| {
            f["period"] == period && f["place"] == place && f["dim"] == dim && f["group"] == group
        })
        .unwrap_or_else(|| panic!("no figure {period} {place} {dim} {group}"))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * (1.0 + a.abs().max(b.abs()))
}

/// Expected (n, numerator) of `points-en-panne` per (period, place, type) from the records.
type Counts = BTreeMap<(String, String, String), (u64, u64)>;

fn expected_breakdowns(rows: &[BTreeMap<String, String>]) -> Counts {
    let mut out: Counts = BTreeMap::new();
    for r in rows.iter().filter(|r| r["ReviewState"] != "rejected") {
        let period = r["today"][..7].to_owned();
        let broken = u64::from(r["point-fonctionnel"] == "non");
        for pl in ["_T", place(&r["localisation-province"])] {
            for (dim, group) in [("_T", "_T"), ("type_point", r["point-type_point"].as_str())] {
                let key = (period.clone(), pl.to_owned(), format!("{dim}={group}"));
                let e = out.entry(key).or_default();
                e.0 += 1;
                e.1 += broken;
            }
        }
    }
    out
}

#[tokio::test]
async fn figures_match_the_records_and_follow_every_change_at_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let rows = records(&app, &claire).await;
        assert_eq!(rows.len(), 300);

        // An unweighted share: every shown cell's n, value and Wilson interval as computed here.
        let page = get_json(&app, &claire, &indicator("points-en-panne")).await;
        let expected = expected_breakdowns(&rows);
        let mut checked = 0;
        for ((period, pl, dg), (n, k)) in &expected {
            let (dim, group) = dg.split_once('=').unwrap();
            let f = figure(&page, period, pl, dim, group);
            if f["shown"] == "hidden" {
                assert!(f.get("n").is_none() && f.get("estimate").is_none(), "{f}");
                continue;
            }
            assert_eq!(f["n"].as_u64(), Some(*n), "{period} {pl} {dg}");
            let e = &f["estimate"];
            let (lo, hi) = wilson(*k as f64, *n as f64);
            assert!(close(
                e["value"].as_f64().unwrap(),
                100.0 * *k as f64 / *n as f64
            ));
            assert!(close(e["low"].as_f64().unwrap(), 100.0 * lo), "{e}");
            assert!(close(e["high"].as_f64().unwrap(), 100.0 * hi), "{e}");
            assert_eq!(e["method"], "wilson");
            let bracketed = *n < 50;
            assert_eq!(f["shown"] == "bracketed", bracketed, "{f}");
            checked += 1;
        }
        assert!(checked >= 10, "only {checked} figures shown");

        // A weighted share (by household size) and a mean, for the whole of each month.
        let weighted = get_json(&app, &claire, &indicator("eau-de-base")).await;
        let corvee = get_json(&app, &claire, &indicator("corvee-eau")).await;
        for period in ["2026-10", "2026-11"] {
            let month: Vec<_> = rows
                .iter()
                .filter(|r| r["ReviewState"] != "rejected" && r["today"].starts_with(period))
                .collect();
            let (mut sw, mut swy, mut minutes) = (0.0, 0.0, 0.0);
            for r in &month {
                let w: f64 = r["menage-taille_menage"].parse().unwrap();
                let t: f64 = r["point-temps_trajet"].parse().unwrap();
                let basic = r["point-fonctionnel"] == "oui"
                    && r["point-type_point"] != "puits"
                    && t * 2.0 <= 30.0;
                sw += w;
                swy += if basic { w } else { 0.0 };
                minutes += 2.0 * t;
            }
            let f = figure(&weighted, period, "_T", "_T", "_T");
            assert_eq!(f["n"].as_u64(), Some(month.len() as u64));
            assert!(close(
                f["estimate"]["value"].as_f64().unwrap(),
                100.0 * swy / sw
            ));
            assert_eq!(f["estimate"]["method"], "wilson_effective");
            assert!(f["estimate"]["deff"].as_f64().unwrap() > 0.0);
            let f = figure(&corvee, period, "_T", "_T", "_T");
            assert!(close(
                f["estimate"]["value"].as_f64().unwrap(),
                minutes / month.len() as f64
            ));
        }
        // The volunteers' satisfaction: no interval, marked not representative on the page.
        let s = get_json(&app, &claire, &indicator("satisfaction-usagers")).await;
        let f = figure(&s, "2026", "_T", "_T", "_T");
        assert!(
            f["estimate"]["low"].is_null() && f["n"].as_u64() == Some(28),
            "{f}"
        );
        assert_eq!(f["shown"], "bracketed");
        let html = claire
            .get(app.url(&indicator("satisfaction-usagers")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // Claire reads French: a decimal comma.
        assert!(
            html.contains("non représentatif") && html.contains("(57,1\u{a0}%)"),
            "{html}"
        );

        // A new record counts at once.
        let core = &app.core;
        let (amina, principal, access) = owner_access(core).await;
        let total = |p: &Value, period: &str| {
            let f = figure(p, period, "_T", "_T", "_T");
            (
                f["n"].as_u64().unwrap(),
                f["estimate"]["value"].as_f64().unwrap() * f["n"].as_f64().unwrap() / 100.0,
            )
        };
        let (n0, k0) = total(&page, "2026-10");
        let version = "2026011";
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let xml = baraza::demo::submission(1000, &mut rng, version);
        let xml = xml.replace(
            "<fonctionnel>non</fonctionnel>",
            "<fonctionnel>oui</fonctionnel>",
        );
        assert!(
            xml.contains("<today>2026-10-"),
            "an even record is of October"
        );
        let id = xml
            .split("<instanceID>")
            .nth(1)
            .unwrap()
            .split("</instanceID>")
            .next()
            .unwrap()
            .to_owned();
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            xml.as_bytes(),
            &[],
        )
        .await
        .unwrap();
        let p = get_json(&app, &claire, &indicator("points-en-panne")).await;
        assert_eq!(total(&p, "2026-10").0, n0 + 1);
        assert!(close(total(&p, "2026-10").1, k0));

        // An edit that says the point is broken: still one record, one more broken.
        let edited = xml
            .replace(
                &format!("<instanceID>{id}</instanceID>"),
                &format!(
                    "<instanceID>uuid:edit-of-1000</instanceID><deprecatedID>{id}</deprecatedID>"
                ),
            )
            .replace(
                "<fonctionnel>oui</fonctionnel>",
                "<fonctionnel>non</fonctionnel>",
            );
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            edited.as_bytes(),
            &[],
        )
        .await
        .unwrap();
        let p = get_json(&app, &claire, &indicator("points-en-panne")).await;
        assert_eq!(total(&p, "2026-10").0, n0 + 1);
        assert!(close(total(&p, "2026-10").1, k0 + 1.0));

        // Rejected in review: it no longer counts.
        core.review_submission(
            &access,
            &principal,
            "points_eau",
            "uuid:edit-of-1000",
            "rejected",
            "doublon",
        )
        .await
        .unwrap();
        let p = get_json(&app, &claire, &indicator("points-en-panne")).await;
        assert_eq!(total(&p, "2026-10").0, n0);
        assert!(close(total(&p, "2026-10").1, k0));

        // An erased record leaves the figures, and nothing derived from it stays behind.
        let victim = rows
            .iter()
            .find(|r| r["ReviewState"] != "rejected" && r["today"].starts_with("2026-10"))
            .unwrap();
        let victim_id = victim["meta-instanceID"].clone();
        let stored = core
            .store()
            .form_by_xml_id(access.project.id, "points_eau")
            .await
            .unwrap()
            .unwrap();
        let sub = core
            .store()
            .submission(stored.id, &victim_id)
            .await
            .unwrap()
            .unwrap();
        core.erase_record(&access, "points_eau", &victim_id, "consent_withdrawn")
            .await
            .unwrap();
        for row in core.store().indicators(access.project.id.0).await.unwrap() {
            let left = core
                .store()
                .indicator_contributions(row.id, &[sub.id])
                .await
                .unwrap();
            assert!(
                left.is_empty(),
                "{} kept a contribution of an erased record",
                row.slug
            );
        }
        let p = get_json(&app, &claire, &indicator("points-en-panne")).await;
        assert_eq!(total(&p, "2026-10").0, n0 - 1);

        // A full recompute gives the same figures as the updates did.
        for slug in ["points-en-panne", "eau-de-base", "corvee-eau"] {
            let before = get_json(&app, &claire, &indicator(slug)).await;
            let res = post_form(
                &app,
                &claire,
                &indicator(slug),
                &format!("{}/recompute", indicator(slug)),
                &[],
            )
            .await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
            let after = get_json(&app, &claire, &indicator(slug)).await;
            let (a, b) = (
                before["figures"].as_array().unwrap(),
                after["figures"].as_array().unwrap(),
            );
            assert_eq!(a.len(), b.len(), "{slug}");
            for (x, y) in a.iter().zip(b) {
                assert_eq!(x["n"], y["n"], "{slug}");
                assert_eq!(x["shown"], y["shown"], "{slug}");
                for k in ["value", "low", "high"] {
                    match (x["estimate"][k].as_f64(), y["estimate"][k].as_f64()) {
                        (Some(u), Some(v)) => assert!(close(u, v), "{slug} {k}: {u} != {v}"),
                        (u, v) => assert_eq!(u, v, "{slug} {k}"),
                    }
                }
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn small_cells_never_leak_and_no_total_gives_one_away() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let moussa = signed_in(&app, MOUSSA).await;
        let page = get_json(&app, &moussa, &indicator("eau-de-base")).await;
        let figures = page["figures"].as_array().unwrap();
        let hidden: Vec<&Value> = figures.iter().filter(|f| f["shown"] == "hidden").collect();
        assert!(!hidden.is_empty(), "the demo has small cells");
        for f in &hidden {
            assert!(f.get("n").is_none() && f.get("estimate").is_none(), "{f}");
        }
        // Every line of groups with its total (sex is required, so nothing is missing from it):
        // never exactly one hidden item, else subtraction gives it back.
        let mut lines: BTreeMap<(String, String), (usize, usize)> = BTreeMap::new();
        for f in figures.iter().filter(|f| f["dim"] == "sexe_chef") {
            let key = (
                f["period"].as_str().unwrap().to_owned(),
                f["place"].as_str().unwrap().to_owned(),
            );
            let e = lines.entry(key).or_default();
            e.0 += 1;
            e.1 += usize::from(f["shown"] == "hidden");
        }
        for ((period, place), (_, h)) in &lines {
            let total_hidden =
                usize::from(figure(&page, period, place, "_T", "_T")["shown"] == "hidden");
            assert_ne!(
                h + total_hidden,
                1,
                "{period} {place}: one hidden item in a line"
            );
        }
        // The CSV twin and the analytics API say no more.
        let csv = moussa
            .get(app.url(&format!("{}.csv", indicator("eau-de-base"))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for line in csv.lines().filter(|l| l.contains(",hidden,")) {
            assert!(line.ends_with(",hidden,,,,,"), "{line}");
        }
        let a: Value = moussa
            .get(app.url(&format!(
                "{}/analytics.json?dimension=dx:eau-de-base&dimension=sexe_chef",
                dashboard()
            )))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rows = a["rows"].as_array().unwrap();
        assert!(!rows.is_empty() && rows.iter().all(|r| r["dimension"] == "sexe_chef"));
        for r in rows.iter().filter(|r| r["shown"] == "hidden") {
            assert!(r["n"].is_null() && r["value"].is_null(), "{r}");
        }
        // SDMX-CSV: hidden observations empty and marked confidential.
        let sdmx = moussa
            .get(app.url(&format!("{}/sdmx.csv", indicator("eau-de-base"))))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            sdmx.starts_with("DATAFLOW,"),
            "{}",
            &sdmx[..80.min(sdmx.len())]
        );
        assert!(sdmx.contains("BARAZA:DF_CITIZEN_SDG(1.0)"));
        app.stop().await;
    }
}

#[tokio::test]
async fn sdmx_csv_2_is_keyed_by_its_structure_and_keeps_hidden_figures_empty() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let moussa = signed_in(&app, MOUSSA).await;
        let slug = "eau-de-base";

        let res = moussa
            .get(app.url(&format!("{}/sdmx2.csv", indicator(slug))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        assert_eq!(h["content-type"], "text/csv; charset=utf-8");
        assert!(h["content-disposition"]
            .to_str()
            .unwrap()
            .contains("eau-de-base.sdmx2.csv"));
        let body = res.text().await.unwrap();
        let (header, _) = body.split_once("\r\n").unwrap();
        // The SDG DSD's SEX for the head of household's sex; the household size as our own.
        assert_eq!(
            header,
            "STRUCTURE,STRUCTURE_ID,ACTION,FREQ,SERIES,REF_AREA,SEX,TAILLE_MENAGE,TIME_PERIOD,\
             OBS_VALUE,UNIT_MEASURE,OBS_STATUS,CONF_STATUS,LOWER_BOUND,UPPER_BOUND,COMMENT_OBS"
        );
        let mut r = csv::Reader::from_reader(body.as_bytes());
        let cols: Vec<String> = r.headers().unwrap().iter().map(str::to_owned).collect();
        let rows: Vec<BTreeMap<String, String>> = r
            .records()
            .map(|row| {
                cols.iter()
                    .cloned()
                    .zip(row.unwrap().iter().map(str::to_owned))
                    .collect()
            })
            .collect();

        let v = get_json(&app, &moussa, &indicator(slug)).await;
        let figures = v["figures"].as_array().unwrap();
        assert_eq!(rows.len(), figures.len());
        let code = |dim: &str, group: &str| match (dim, group) {
            ("sexe_chef", "femme") => "F".to_owned(),
            ("sexe_chef", "homme") => "M".to_owned(),
            ("taille_menage", "9+") => "9PLUS".to_owned(),
            (_, g) => g.to_owned(),
        };
        let mut hidden = 0;
        for f in figures {
            let (dim, group) = (f["dim"].as_str().unwrap(), f["group"].as_str().unwrap());
            let (sex, size) = match dim {
                "sexe_chef" => (code(dim, group), "_T".to_owned()),
                "taille_menage" => ("_T".to_owned(), code(dim, group)),
                _ => ("_T".to_owned(), "_T".to_owned()),
            };
            let row = rows
                .iter()
                .find(|r| {
                    r["REF_AREA"] == f["place"].as_str().unwrap()
                        && r["TIME_PERIOD"] == f["period"].as_str().unwrap()
                        && r["SEX"] == sex
                        && r["TAILLE_MENAGE"] == size
                })
                .unwrap_or_else(|| panic!("no row for {f}"));
            assert_eq!(row["STRUCTURE"], "dataflow");
            assert_eq!(row["STRUCTURE_ID"], "BARAZA:DF_6_1_1_EAU_DE_BASE(1.0)");
            assert_eq!(row["ACTION"], "I");
            assert_eq!(row["FREQ"], "M");
            assert_eq!(row["SERIES"], "6_1_1_EAU_DE_BASE");
            assert_eq!(row["UNIT_MEASURE"], "PT");
            if f["shown"] == "hidden" {
                hidden += 1;
                for col in ["OBS_VALUE", "LOWER_BOUND", "UPPER_BOUND", "COMMENT_OBS"] {
                    assert_eq!(row[col], "", "{col} of a hidden figure: {row:?}");
                }
                assert_eq!(row["OBS_STATUS"], "O");
                assert_eq!(row["CONF_STATUS"], "C");
            } else {
                let value: f64 = row["OBS_VALUE"].parse().unwrap();
                assert!((value - f["estimate"]["value"].as_f64().unwrap()).abs() < 1e-12);
                assert_eq!(row["COMMENT_OBS"], format!("n={}", f["n"]));
                assert_eq!(row["OBS_STATUS"], "");
            }
        }
        assert!(hidden > 0, "the demo has hidden figures");

        // The structure names every code the rows use.
        let res = moussa
            .get(app.url(&format!("{}/sdmx-structure.xml", indicator(slug))))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/vnd.sdmx.structure+xml; version=2.1"));
        let xml = res.text().await.unwrap();
        assert!(xml.contains(
            "<str:Dataflow id=\"DF_6_1_1_EAU_DE_BASE\" agencyID=\"BARAZA\" version=\"1.0\">"
        ));
        assert!(xml.contains("<str:DataStructure id=\"DSD_6_1_1_EAU_DE_BASE\""));
        for dim in ["FREQ", "SERIES", "REF_AREA", "SEX", "TAILLE_MENAGE"] {
            let list = if dim == "REF_AREA" {
                "CL_AREA".to_owned()
            } else {
                format!("CL_{dim}")
            };
            let start = xml
                .find(&format!("<str:Codelist id=\"{list}\""))
                .unwrap_or_else(|| panic!("{list}"));
            let end = start + xml[start..].find("</str:Codelist>").unwrap();
            for row in &rows {
                assert!(
                    xml[start..end].contains(&format!("<str:Code id=\"{}\">", row[dim])),
                    "{dim}={} is not in {list}",
                    row[dim]
                );
            }
        }

        // As the SDMX-CSV 1.0 route: kept from those outside the project (signed out, the CSV
        // is refused with 401 and the XML, like other pages, sends to the login page), and an
        // unknown indicator is not found.
        for who in [None, Some(OUTSIDER)] {
            let c = match who {
                Some(email) => signed_in(&app, email).await,
                None => browser(),
            };
            let v1 = c
                .get(app.url(&format!("{}/sdmx.csv", indicator(slug))))
                .send()
                .await
                .unwrap()
                .status();
            assert_ne!(v1, StatusCode::OK);
            for tail in ["sdmx2.csv", "sdmx-structure.xml"] {
                let res = c
                    .get(app.url(&format!("{}/{tail}", indicator(slug))))
                    .send()
                    .await
                    .unwrap();
                let expected = match (who, tail) {
                    (None, "sdmx-structure.xml") => StatusCode::SEE_OTHER,
                    _ => v1,
                };
                assert_eq!(res.status(), expected, "{who:?} {tail}");
                assert!(!res.text().await.unwrap().contains("DF_6_1_1"));
            }
        }
        for tail in ["sdmx2.csv", "sdmx-structure.xml"] {
            let res = moussa
                .get(app.url(&format!("{}/{tail}", indicator("no-such-indicator"))))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{tail}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn definitions_are_checked_all_or_nothing_and_kept_to_managers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let defs = format!("{}/definitions", dashboard());

        // Readers see the dashboard, a goal and an indicator, not the definitions.
        let moussa = signed_in(&app, MOUSSA).await;
        let d = get_json(&app, &moussa, &dashboard()).await;
        assert_eq!(d["goals"].as_array().unwrap().len(), 17);
        assert_eq!(d["indicators"].as_array().unwrap().len(), 4);
        let goal6 = &d["goals"][5];
        assert_eq!(goal6["indicators"].as_array().unwrap().len(), 2);
        let g5 = get_json(&app, &moussa, &format!("{}/goals/5", dashboard())).await;
        assert!(
            g5["official"]
                .as_array()
                .unwrap()
                .iter()
                .any(|o| o["series"] == "SG_GEN_PARL"),
            "goal 5 shows the official series imported for it"
        );
        let idriss = signed_in(&app, IDRISS).await;
        for c in [&moussa, &idriss] {
            let res = c.get(app.url(&defs)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::FORBIDDEN);
        }
        let outsider = signed_in(&app, OUTSIDER).await;
        let res = outsider.get(app.url(&dashboard())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // One valid and one invalid definition: refused together, every problem named.
        let claire = signed_in(&app, CLAIRE).await;
        let before = get_json(&app, &claire, &defs).await;
        let file = r#"
[[indicator]]
id = "prix-bidon"
form = "points_eau"
title = { fr = "Prix du bidon", en = "Price of a jerrycan" }
aggregation = "median"
value = "${prix}"
date = "${today}"
period = "month"
place = "province"
places = { ndjamena = "TD-ND", ouaddai = "TD-OD" }
sdg = { indicator = "6.1.1", alignment = "partial" }
credibility = { collected_by = { fr = "ONG" }, sampling = "probability", participation = "collaborative", validation = "self_declared" }

[[indicator]]
id = "faux"
form = "points_eau"
title = { fr = "Faux" }
aggregation = "share"
numerator = "${inconnu} = 'x'"
period = "month"
place = "quartier"
disaggregate = ["taille_menage"]
sdg = { indicator = "6.9.9", alignment = "exact" }
credibility = { collected_by = { fr = "ONG" }, sampling = "probability", participation = "collaborative", validation = "self_declared" }
"#;
        let res = post_form(&app, &claire, &defs, &defs, &[("definitions", file)]).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code, "indicator_invalid");
        for needle in ["${inconnu}", "quartier", "taille_menage", "6.9.9"] {
            assert!(message.contains(needle), "{needle} not in {message}");
        }
        let after = get_json(&app, &claire, &defs).await;
        assert_eq!(after["definitions"], before["definitions"]);

        // A syntax error names its line.
        let res = post_form(
            &app,
            &claire,
            &defs,
            &defs,
            &[("definitions", "[[indicator]]\nid = \n")],
        )
        .await;
        let (_, code, message) = error_code(res).await;
        assert_eq!(code, "indicator_invalid");
        assert!(message.contains("line 2"), "{message}");

        // The valid one alone is saved, computed at once, and audited.
        let valid = file.split("[[indicator]]\nid = \"faux\"").next().unwrap();
        let res = post_form(&app, &claire, &defs, &defs, &[("definitions", valid)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let p = get_json(&app, &claire, &indicator("prix-bidon")).await;
        let f = figure(&p, "2026-10", "_T", "_T", "_T");
        assert_eq!(f["estimate"]["method"], "order_statistics");
        assert!(p["gini"].is_number() && p["palma"].is_number(), "{p}");
        let log = app
            .core
            .store()
            .audit_entries(&baraza_store::AuditQuery {
                action_prefix: Some("indicator.".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(log
            .iter()
            .any(|e| e.action == "indicator.define" && e.details.contains("prix-bidon")));

        // An official series uploaded as SDMX-CSV sits beside the figures, never in them.
        let sdmx = "DATAFLOW,FREQ,REPORTING_TYPE,SERIES,REF_AREA,SEX,TIME_PERIOD,OBS_VALUE,UNIT_MEASURE,NATURE\n\
                    UN:DF_SDG_GLH(1.0),A,G,SH_H2O_SAFE,TD-ND,_T,2022,31.5,PT,E\n";
        let token = csrf(&app, &claire, &defs).await;
        let form = reqwest::multipart::Form::new()
            .text("_csrf", token)
            .text("indicator", "6.1.1")
            .part(
                "file",
                reqwest::multipart::Part::bytes(sdmx.as_bytes().to_vec()).file_name("safe.csv"),
            );
        let res = claire
            .post(app.url(&format!("{}/official", dashboard())))
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let p = get_json(&app, &claire, &indicator("points-en-panne")).await;
        assert!(p["official"]
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["series"] == "SH_H2O_SAFE"));
        let f = figure(&p, "2026-10", "_T", "_T", "_T");
        assert!(f["estimate"]["value"].as_f64().unwrap() < 100.0);
        app.stop().await;
    }
}

#[tokio::test]
async fn places_come_from_geojson_and_a_csv_hierarchy_all_or_nothing() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        // The demo imported Chad's 23 provinces from GeoJSON, simplified, with their licence.
        let places = core.places(true).await.unwrap();
        let provinces: Vec<_> = places.iter().filter(|p| p.level == 1).collect();
        assert_eq!(provinces.len(), 23);
        let nd = provinces.iter().find(|p| p.code == "TD-ND").unwrap();
        assert_eq!(nd.licence, "ODbL-1.0");
        assert!(nd.attribution.contains("OpenStreetMap"));
        let geometry = nd.geometry.clone().unwrap();
        assert!(
            geometry.len() < 20_000,
            "simplified: {} bytes",
            geometry.len()
        );

        // A CSV hierarchy: the country, districts under a province; the province keeps its shape.
        let csv = "code;name;level;parent\nTD;Tchad;0;\nTD-ND;N'Djamena;1;TD\nTD-ND-01;1er arrondissement;2;TD-ND\n";
        assert_eq!(
            core.import_places_csv(csv.as_bytes(), "test", "")
                .await
                .unwrap(),
            3
        );
        let places = core.places(true).await.unwrap();
        let nd = places.iter().find(|p| p.code == "TD-ND").unwrap();
        assert_eq!(
            (nd.name.as_str(), nd.geometry.as_ref()),
            ("N'Djamena", Some(&geometry))
        );
        assert!(places
            .iter()
            .any(|p| p.code == "TD-ND-01" && p.parent.as_deref() == Some("TD-ND")));

        // A parent nobody knows, a level that is not a number: nothing imported, lines named.
        let bad = "code,name,level,parent\nTD-XX-01,Ailleurs,2,TD-XX\nTD-ND-02,2e,deux,TD-ND\n";
        let err = core
            .import_places_csv(bad.as_bytes(), "test", "")
            .await
            .unwrap_err()
            .to_string();
        assert!(err.contains("TD-XX") && err.contains("line 3"), "{err}");
        assert!(!core
            .places(false)
            .await
            .unwrap()
            .iter()
            .any(|p| p.code == "TD-XX-01"));
        app.stop().await;
    }
}
