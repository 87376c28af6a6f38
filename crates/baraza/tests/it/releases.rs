//! Releases of a form's microdata, used as a manager would: keys chosen on the demo survey, the
//! risk shown, recodings and a suppression added while the page re-scores, the policy refusing
//! then passing, the release made, its signed report checked and its table re-checked for
//! k-anonymity here, independently. Analysts are refused; a released table cannot change.

use crate::common::*;
use baraza_protect::chain::AuditPublicKey;
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::HashMap;

/// Records below k, expected re-identifications and global risk at the end of a release's report.
fn risk_after(r: &Value) -> (u64, f64, f64) {
    let report = &r["report"];
    let risk = &report["risk_after"];
    let k = report["policy"]["k"].as_u64().unwrap();
    let below = risk["k_anonymity"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["k"].as_u64() == Some(k))
        .unwrap()["records"]
        .as_u64()
        .unwrap();
    (
        below,
        risk["expected_reidentifications"].as_f64().unwrap(),
        risk["global_risk_percent"].as_f64().unwrap(),
    )
}

/// The merge of the demo's neighbourhoods into their province, as a manager types it.
const TO_PROVINCE: &str = "Farcha, Milezi, Madjorio, Chagoua, Dembé, Amtoukoui, Walia, Ngueli, Toukra = N'Djamena\nAbéché Centre, Amsiguett, Bitchotchi, Adré, Hilé Houdjaj, Goungour = Ouaddaï";

#[tokio::test]
async fn a_manager_releases_the_survey_once_the_policy_passes_with_a_signed_report() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let form = format!("{}/forms/points_eau", private_project());
        let list = format!("{form}/releases");

        // The form page leads to releases; the variables offered leave out GPS and metadata.
        let page = claire
            .get(app.url(&form))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            page.contains("/releases\""),
            "the form page links to releases"
        );
        let l = get_json(&app, &claire, &list).await;
        let names: Vec<&str> = l["variables"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"localisation-quartier"), "{names:?}");
        assert!(!names
            .iter()
            .any(|n| n.contains("gps") || n.contains("deviceid")));
        let excluded = l["excluded"].as_array().unwrap();
        assert!(excluded.iter().any(|e| e.as_str().unwrap().contains("gps")));
        assert_eq!(l["policy"]["k"], 3);
        assert_eq!(l["policy"]["max_global_risk_percent"], 3.0);

        // Claire chooses the keys an intruder could know.
        let res = post_form(
            &app,
            &claire,
            &list,
            &list,
            &[
                ("name", "Points d'eau 2026 — diffusion publique"),
                ("keys", "localisation-quartier"),
                ("keys", "menage-sexe_chef"),
                ("keys", "menage-taille_menage"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let url = res.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();

        // The risk is shown at once: many records are unique, the policy refuses.
        let r = get_json(&app, &claire, &url).await;
        assert_eq!(r["state"], "draft");
        assert_eq!(r["outcome"]["outcome"], "refused");
        assert_eq!(r["outcome"]["report"]["records"], 300);
        let before = &r["outcome"]["report"]["risk_before"];
        assert!(before["expected_reidentifications"].as_f64().unwrap() > 50.0);
        let html = claire
            .get(app.url(&url))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // (Claire reads French, the language of her account.)
        assert!(html.contains("Ré-identifications attendues"), "{html}");
        assert!(html.contains("La politique refuse cette table"));
        // Releasing now is refused, and says which checks failed.
        let res = post_form(&app, &claire, &url, &format!("{url}/release"), &[]).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert_eq!(code, "release_refused");
        assert!(message.contains("KAnonymity"), "{message}");

        // A step that cannot run is refused with what and where.
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}/steps"),
            &[
                ("method", "intervals"),
                ("variable", "menage-sexe_chef"),
                ("breaks", "5"),
            ],
        )
        .await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "release_refused")
        );
        assert!(
            message.contains("menage-sexe_chef")
                && (message.contains("not a number") || message.contains("n’est pas un nombre"))
                && message.contains("1. recode_intervals"),
            "{message}"
        );

        // A first recoding, re-scored: the neighbourhood merged into its province.
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}/steps"),
            &[
                ("method", "merge"),
                ("variable", "localisation-quartier"),
                ("map", TO_PROVINCE),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK, "{:?}", res.text().await);
        let r = get_json(&app, &claire, &url).await;
        let steps = r["outcome"]["report"]["steps"].as_array().unwrap();
        assert_eq!(steps.len(), 1);
        assert_eq!(steps[0]["method"], "recode_merge");
        let after_merge = &steps[0]["risk_after"];
        assert!(
            after_merge["expected_reidentifications"].as_f64().unwrap()
                < before["expected_reidentifications"].as_f64().unwrap()
        );
        // A few households are still rare: a local suppression that honours an importance
        // order blanks their household size, the least important key.
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}/steps"),
            &[
                ("method", "suppress"),
                ("k", "3"),
                ("importance", "menage-sexe_chef, localisation-quartier"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        let suppress = &r["outcome"]["report"]["steps"][1];
        let rare = after_merge["k_anonymity"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["k"] == 3)
            .unwrap()["records"]
            .as_u64()
            .unwrap();
        assert!(rare > 0, "the merge leaves rare records: {after_merge}");
        let blanked = suppress["loss"]["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["variable"] == "menage-taille_menage")
            .unwrap()["suppressed"]
            .as_u64()
            .unwrap();
        assert!(blanked > 0 && blanked <= rare, "{suppress:#}");
        // Still too many combinations for a 3 % global risk: the second recoding.
        assert_eq!(r["outcome"]["outcome"], "refused");
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}/steps"),
            &[
                ("method", "intervals"),
                ("variable", "menage-taille_menage"),
                ("breaks", "7"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        // The district would give back what the merge hid: Claire drops it too.
        let r = get_json(&app, &claire, &url).await;
        let mut drop: Vec<String> = r["recipe"]["drop"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect();
        drop.push("localisation-commune".into());
        let fields: Vec<(&str, &str)> = drop.iter().map(|d| ("drop", d.as_str())).collect();
        let res = post_form(&app, &claire, &url, &format!("{url}/columns"), &fields).await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        assert_eq!(r["outcome"]["outcome"], "passed", "{:#}", r["outcome"]);
        let (below, expected, global) = risk_after(&r["outcome"]);
        assert_eq!(below, 0);
        assert!(global < 3.0 && expected < 9.0, "{expected} {global}");
        // Personal fields were dropped from the start.
        let dropped: Vec<&str> = r["recipe"]["drop"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert!(r["variables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["withheld"] == true)
            .all(|v| dropped.contains(&v["name"].as_str().unwrap())));

        // An analyst may not see or make releases.
        let idriss = signed_in(&app, IDRISS).await;
        let res = idriss
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Released: the report is signed by the server's key over its exact bytes.
        let res = post_form(&app, &claire, &url, &format!("{url}/release"), &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        assert_eq!(r["state"], "released");
        let res = claire
            .get(app.url(&format!("{url}/report.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let header = res
            .headers()
            .get("baraza-signature")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        let body = res.bytes().await.unwrap();
        let field = |name: &str| {
            header
                .split("; ")
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        let key = AuditPublicKey::from_hex(&field("key")).unwrap();
        let sig: [u8; 64] = hex::decode(field("signature")).unwrap().try_into().unwrap();
        assert!(key.verify_document("baraza-release-report", &body, &sig));
        let mut altered = body.to_vec();
        let at = altered.iter().position(|b| b.is_ascii_digit()).unwrap();
        altered[at] = if altered[at] == b'9' {
            b'8'
        } else {
            altered[at] + 1
        };
        assert!(!key.verify_document("baraza-release-report", &altered, &sig));
        // Anyone given the report, the key and the signature checks it offline.
        let file = app.data_dir.join("report.json");
        std::fs::write(&file, &body).unwrap();
        let verify = |path: &std::path::Path, key: &str| {
            std::process::Command::new(env!("CARGO_BIN_EXE_baraza"))
                .args(["sdc", "verify-report"])
                .arg(path)
                .args(["--key", key, "--signature", &field("signature")])
                .output()
                .unwrap()
        };
        let out = verify(&file, &field("key"));
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        std::fs::write(&file, &altered).unwrap();
        assert_eq!(verify(&file, &field("key")).status.code(), Some(1));
        assert_eq!(verify(&file, "not-a-key").status.code(), Some(2));
        let report: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(report["verdict"]["passed"], true);
        assert_eq!(report["steps"].as_array().unwrap().len(), 3);
        // The printable report, in French and in English.
        for (lang, words) in [
            ("fr", "Rapport de contrôle de la divulgation"),
            ("en", "Disclosure control report"),
        ] {
            let token = csrf(&app, &claire, &url).await;
            claire
                .post(app.url("/-/lang"))
                .form(&[("_csrf", token.as_str()), ("lang", lang), ("next", "/")])
                .send()
                .await
                .unwrap();
            let html = claire
                .get(app.url(&format!("{url}/report")))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(html.contains(words), "{lang}: {html}");
            assert!(html.contains(&field("signature")));
        }

        // The released table: no personal column, and k-anonymous on the keys, checked here.
        let csv = claire
            .get(app.url(&format!("{url}.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let mut lines = csv.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        assert!(!header
            .iter()
            .any(|h| h.contains("gps") || h.contains("deviceid")));
        let col = |n: &str| header.iter().position(|h| *h == n).unwrap();
        let keys = [
            col("localisation-quartier"),
            col("menage-sexe_chef"),
            col("menage-taille_menage"),
        ];
        let rows: Vec<Vec<String>> = lines
            .map(|l| l.split(',').map(str::to_owned).collect())
            .collect();
        assert_eq!(rows.len(), 300);
        let mut counts: HashMap<Vec<String>, usize> = HashMap::new();
        for r in &rows {
            *counts
                .entry(keys.iter().map(|&k| r[k].clone()).collect())
                .or_default() += 1;
        }
        // A blank matches any value: every record has at least 3 records it could be.
        for r in &rows {
            let fk: usize = counts
                .iter()
                .filter(|(c, _)| {
                    keys.iter()
                        .enumerate()
                        .all(|(i, &k)| r[k].is_empty() || c[i].is_empty() || c[i] == r[k])
                })
                .map(|(_, n)| n)
                .sum();
            assert!(fk >= 3, "{r:?}");
        }
        assert!(rows
            .iter()
            .all(|r| ["N'Djamena", "Ouaddaï", ""].contains(&r[keys[0]].as_str())));

        // A released release does not change.
        let res = post_form(
            &app,
            &claire,
            &url,
            &format!("{url}/steps/remove"),
            &[("step", "1")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // All of it is in the audit log.
        let audit: Value = claire
            .get(app.url(&format!("{}/audit.json?kind=release", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let actions: Vec<&str> = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        for a in [
            "release.create",
            "release.change",
            "release.release",
            "release.download",
        ] {
            assert!(actions.contains(&a), "{a} in {actions:?}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn the_project_policy_withholds_personal_fields_unless_it_allows_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let policy = format!("{}/release-policy", private_project());
        let p = get_json(&app, &claire, &policy).await;
        assert_eq!(p["policy"]["is_default"], true);

        // Bad values are refused with their field named.
        for (field, value) in [("k", "1"), ("max_global_risk_percent", "abc")] {
            let mut fields = vec![
                ("k", "3"),
                ("max_global_risk_percent", "3"),
                ("allowed", ""),
            ];
            for f in fields.iter_mut() {
                if f.0 == field {
                    f.1 = value;
                }
            }
            let res = post_form(&app, &claire, &policy, &policy, &fields).await;
            let (status, code, message) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
            );
            assert!(message.contains(field), "{message}");
        }

        // A release that keeps a personal column is refused by the policy…
        let list = format!("{}/forms/avis_usagers/releases", private_project());
        let l = get_json(&app, &claire, &list).await;
        let personal: Vec<String> = l["variables"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|v| v["withheld"] == true)
            .map(|v| v["name"].as_str().unwrap().to_owned())
            .collect();
        assert!(!personal.is_empty(), "{l:#}");
        let key = l["variables"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["withheld"] == false)
            .unwrap()["name"]
            .as_str()
            .unwrap()
            .to_owned();
        let res = post_form(
            &app,
            &claire,
            &list,
            &list,
            &[("name", "Avis"), ("keys", &key)],
        )
        .await;
        let url = res.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let r = get_json(&app, &claire, &url).await;
        assert_eq!(
            r["recipe"]["drop"].as_array().unwrap().len(),
            personal.len()
        );
        let res = post_form(&app, &claire, &url, &format!("{url}/columns"), &[]).await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        let checks = r["outcome"]["report"]["verdict"]["checks"]
            .as_array()
            .unwrap();
        let withheld_failed = |name: &str| {
            checks.iter().any(|c| {
                c["rule"] == "variable_withheld" && c["variable"] == name && c["passed"] == false
            })
        };
        assert!(withheld_failed(&personal[0]), "{checks:#?}");

        // … until the policy allows it by name (then only k and the risk decide).
        let res = post_form(
            &app,
            &claire,
            &policy,
            &policy,
            &[
                ("k", "3"),
                ("max_global_risk_percent", "3"),
                ("allowed", &personal[0]),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        let checks = r["outcome"]["report"]["verdict"]["checks"]
            .as_array()
            .unwrap();
        assert!(!checks.iter().any(|c| c["rule"] == "variable_withheld"
            && c["variable"] == personal[0].as_str()
            && c["passed"] == false));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_place_is_replaced_by_the_larger_place_its_records_name() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let list = format!("{}/forms/points_eau/releases", private_project());
        let res = post_form(
            &app,
            &claire,
            &list,
            &list,
            &[
                ("name", "Par arrondissement"),
                ("keys", "localisation-quartier"),
                ("keys", "menage-sexe_chef"),
            ],
        )
        .await;
        let url = res.json::<Value>().await.unwrap()["url"]
            .as_str()
            .unwrap()
            .to_owned();
        let steps = format!("{url}/steps");

        // Each neighbourhood becomes the district its records name.
        let res = post_form(
            &app,
            &claire,
            &url,
            &steps,
            &[
                ("method", "parent"),
                ("variable", "localisation-quartier"),
                ("parent", "localisation-commune"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::OK);
        let r = get_json(&app, &claire, &url).await;
        let step = &r["outcome"]["report"]["steps"][0];
        assert_eq!(step["method"], "recode_hierarchy");
        let levels = &step["parameters"]["recode"]["levels"][0];
        assert_eq!(levels["Chagoua"], "arr7");
        assert_eq!(levels["Goungour"], "adre");
        let quartier = &step["loss"]["variables"][0];
        assert_eq!(quartier["variable"], "localisation-quartier");
        assert_eq!(quartier["categories_before"], 15);
        assert_eq!(quartier["categories_after"], 5);

        // A value found in two larger places is refused, with both named.
        let res = post_form(
            &app,
            &claire,
            &url,
            &steps,
            &[
                ("method", "parent"),
                ("variable", "menage-sexe_chef"),
                ("parent", "localisation-commune"),
            ],
        )
        .await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "release_refused")
        );
        assert!(message.contains("menage-sexe_chef"), "{message}");
        // A column the release cannot read is named.
        let res = post_form(
            &app,
            &claire,
            &url,
            &steps,
            &[
                ("method", "parent"),
                ("variable", "localisation-quartier"),
                ("parent", "localisation-gps"),
            ],
        )
        .await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        assert!(message.contains("parent"), "{message}");
        let r = get_json(&app, &claire, &url).await;
        assert_eq!(r["recipe"]["steps"].as_array().unwrap().len(), 1);
        app.stop().await;
    }
}
