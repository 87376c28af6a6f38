//! A dataset's table page (`/dataset/{name}/table/{resource}`, `.json`, `.csv`): filters,
//! facets, search, sorting, paging, the CSV twin, access and bad parameters (docs/catalogue.md,
//! "The table page"). Expectations are counted by hand from the demo's water-point register
//! (crates/baraza/demo/catalogue/points-eau-registre.csv: seven points, an HXL row).

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::Value;

const REGISTER: &str = "registre-points-eau";

/// The table page's path of a dataset's first CSV resource.
async fn table_of(app: &TestApp, c: &reqwest::Client, dataset: &str) -> String {
    let d = get_json(app, c, &format!("/dataset/{dataset}")).await;
    let id = d["dataset"]["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["format"] == "CSV")
        .expect("a CSV resource")["id"]
        .as_str()
        .unwrap()
        .to_string();
    format!("/dataset/{dataset}/table/{id}")
}

async fn json_of(app: &TestApp, c: &reqwest::Client, path: &str, qs: &str) -> Value {
    let res = c
        .get(app.url(&format!("{path}.json?{qs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{qs}");
    res.json().await.unwrap()
}

fn codes(v: &Value) -> Vec<String> {
    v["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap().to_string())
        .collect()
}

fn facet(v: &Value, column: &str) -> Vec<(String, u64)> {
    v["facets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["column"] == column)
        .expect("the facet")["values"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["value"].as_str().unwrap().to_string(),
                x["count"].as_u64().unwrap(),
            )
        })
        .collect()
}

#[tokio::test]
async fn filters_facets_search_sorting_and_paging_over_the_register() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let path = table_of(&app, &anon, REGISTER).await;

        // The whole table: the HXL row is not a row, its tags describe the columns.
        let v = json_of(&app, &anon, &path, "").await;
        assert_eq!(
            (v["total"].as_u64(), v["table_rows"].as_u64()),
            (Some(7), Some(7))
        );
        assert_eq!(v["columns"][3]["name"], "province");
        assert_eq!(v["columns"][3]["hxl"], "#adm1+code");
        assert_eq!(v["columns"][6]["type"], "number");
        assert_eq!(v["rows"][0]["latitude"], 12.0781, "numbers are numbers");
        assert_eq!(v["next"], Value::Null);
        let suggested: Vec<&str> = v["suggested_facets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap())
            .collect();
        for col in ["type", "province", "etat"] {
            assert!(suggested.contains(&col), "{suggested:?}");
        }
        assert!(
            !suggested.contains(&"code"),
            "seven distinct codes of seven rows"
        );

        // Equality with facets counted within the filtered rows.
        let v = json_of(&app, &anon, &path, "province=TD-OD&_facet=type&_facet=etat").await;
        assert_eq!(v["total"], 3);
        assert_eq!(codes(&v), ["PE-OD-001", "PE-OD-002", "PE-OD-003"]);
        assert_eq!(
            facet(&v, "type"),
            [("forage".into(), 2), ("borne-fontaine".into(), 1)]
        );
        assert_eq!(
            facet(&v, "etat"),
            [("fonctionnel".into(), 2), ("en panne".into(), 1)]
        );
        // Several values of one column: any of them; columns: all of them.
        let v = json_of(
            &app,
            &anon,
            &path,
            "type=puits&type=borne-fontaine&etat=fonctionnel&_facet=province",
        )
        .await;
        assert_eq!(codes(&v), ["PE-ND-004", "PE-OD-003"]);
        assert_eq!(
            facet(&v, "province"),
            [("TD-ND".into(), 1), ("TD-OD".into(), 1)]
        );
        let f = &v["facets"][0];
        assert_eq!(f["distinct"], 2);
        // Accents and case folded.
        let v = json_of(&app, &anon, &path, "nom__contains=ABECHE").await;
        assert_eq!(codes(&v), ["PE-OD-001"]);
        // Ranges on numbers and dates.
        let v = json_of(&app, &anon, &path, "latitude__gte=13").await;
        assert_eq!(v["total"], 3);
        let v = json_of(&app, &anon, &path, "derniere_visite__lte=2026-11-14").await;
        assert_eq!(
            codes(&v),
            ["PE-ND-001", "PE-ND-002", "PE-ND-003", "PE-ND-004"]
        );
        // Full text over the text columns.
        let v = json_of(&app, &anon, &path, "_search=forage%20adre").await;
        assert_eq!(codes(&v), ["PE-OD-002"]);

        // Sorted, two rows a page, followed to the end by `next_url`.
        let mut seen = Vec::new();
        let mut url = format!("{path}.json?_sort_desc=latitude&_size=2");
        loop {
            let res = anon.get(app.url(&url)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{url}");
            let v: Value = res.json().await.unwrap();
            assert_eq!(v["total"], 7);
            seen.extend(codes(&v));
            match v["next_url"].as_str() {
                Some(next) => {
                    let (p, q) = next.split_once('?').unwrap();
                    url = format!("{p}.json?{q}");
                }
                None => break,
            }
        }
        assert_eq!(
            seen,
            [
                "PE-OD-001",
                "PE-OD-003",
                "PE-OD-002",
                "PE-ND-003",
                "PE-ND-004",
                "PE-ND-001",
                "PE-ND-002"
            ]
        );
        let v = json_of(&app, &anon, &path, "_sort_desc=latitude&_size=2&_offset=2").await;
        assert_eq!(codes(&v), ["PE-OD-002", "PE-ND-003"]);

        // The CSV twin: header, HXL row, then exactly the filtered rows in order.
        let qs = "etat=fonctionnel&_sort=code&_size=1";
        let res = anon
            .get(app.url(&format!("{path}.csv?{qs}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let body = res.text().await.unwrap();
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(body.as_bytes());
        let lines: Vec<Vec<String>> = r
            .records()
            .map(|l| l.unwrap().iter().map(str::to_string).collect())
            .collect();
        assert_eq!(lines[0][0], "code");
        assert_eq!(lines[1][0], "#loc+code");
        let all = json_of(&app, &anon, &path, "etat=fonctionnel&_sort=code&_size=1000").await;
        let want = all["rows"].as_array().unwrap();
        assert_eq!(want.len(), 5);
        assert_eq!(lines.len(), 2 + want.len());
        let names: Vec<&str> = all["columns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["name"].as_str().unwrap())
            .collect();
        assert_eq!(lines[0], names);
        for (line, row) in lines[2..].iter().zip(want) {
            for (cell, name) in line.iter().zip(&names) {
                match &row[*name] {
                    Value::String(s) => assert_eq!(cell, s),
                    Value::Null => assert_eq!(cell, ""),
                    n => assert_eq!(cell.parse::<f64>().unwrap(), n.as_f64().unwrap()),
                }
            }
        }
        assert_eq!(lines[2][1], "Forage de Gassi");

        // The HTML page: facet links add a filter, headers sort, the CSV link keeps the filters.
        let html = anon
            .get(app.url(&format!("{path}?province=TD-OD&_facet=type")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains(&format!(
                "href=\"{path}?province=TD-OD&amp;_facet=type&amp;type=forage\""
            )),
            "{html}"
        );
        assert!(html.contains(&format!(
            "href=\"{path}?province=TD-OD&amp;_facet=type&amp;_sort=latitude\""
        )));
        assert!(html.contains(&format!(
            "href=\"{path}.csv?province=TD-OD&amp;_facet=type\""
        )));
        assert!(
            html.contains(&format!("href=\"{path}?_facet=type\"")),
            "the filter can be removed"
        );
        assert!(html.contains("Forage d&#39;Adré") || html.contains("Forage d'Adré"));
        assert!(!html.contains("<script"), "no JavaScript");
        // The dataset page links its table.
        let page = anon
            .get(app.url(&format!("/dataset/{REGISTER}")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("href=\"{path}\"")));

        // The filter form's fields become the page's own parameters.
        let res = no_redirects()
            .get(app.url(&format!(
                "{path}?_facet=type&_filter_column=nom&_filter_op=contains&_filter_value=Forage&_next=3"
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()["location"],
            format!("{path}?_facet=type&nom__contains=Forage").as_str()
        );
        app.stop().await;
    }
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

#[tokio::test]
async fn bad_parameters_are_named_and_hidden_tables_are_not_found() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let path = table_of(&app, &anon, REGISTER).await;
        for (qs, param) in [
            ("nope=1", "nope"),
            ("_facet=nope", "_facet"),
            ("_sort=nope", "_sort"),
            ("latitude__gte=abc", "latitude__gte"),
            ("nom__gte=3", "nom__gte"),
            ("_size=5000", "_size"),
            ("_next=99", "_next"),
            ("_shape=array", "_shape"),
        ] {
            let res = anon
                .get(app.url(&format!("{path}.json?{qs}")))
                .send()
                .await
                .unwrap();
            let (status, code, message) = error_code(res).await;
            assert_eq!(status, StatusCode::BAD_REQUEST, "{qs}");
            assert_eq!(code, "table_query_invalid", "{qs}");
            assert!(message.contains(&format!("“{param}”")), "{qs}: {message}");
            // The HTML page says it too.
            let res = anon
                .get(app.url(&format!("{path}?{qs}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::BAD_REQUEST);
            let html = res.text().await.unwrap();
            assert!(html.contains(param), "{qs}");
        }
        // Unknown resource, a resource that is not a table, an unknown dataset.
        let d = get_json(&app, &anon, &format!("/dataset/{REGISTER}")).await;
        let pdf = d["dataset"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["format"] == "PDF")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        for p in [
            format!("/dataset/{REGISTER}/table/{pdf}"),
            format!("/dataset/{REGISTER}/table/no-such-id"),
            format!("/dataset/nope/table/{pdf}"),
        ] {
            let res = anon.get(app.url(&p)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{p}");
        }

        // A draft dataset's table: its project's members see it, outsiders get 404.
        let claire = signed_in(&app, CLAIRE).await;
        let page = format!("{}/catalogue", private_project());
        let token = csrf(&app, &claire, &page).await;
        let form = Form::new()
            .text("_csrf", token)
            .text("title", "Prix du bidon")
            .text("license_id", "cc-by")
            .text("state", "draft")
            .part(
                "file",
                Part::bytes(
                    "\u{feff}province,prix,note\nTD-ND,25,\"dit \"\"cher\"\"\"\nTD-OD,\"1,5\"\nTD-OD,30,ok\n"
                        .as_bytes()
                        .to_vec(),
                )
                .file_name("prix.csv"),
            );
        let res = claire
            .post(app.url(&format!("{page}/upload")))
            .header("accept", "application/json")
            .multipart(form)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let draft = table_of(&app, &claire, "prix-du-bidon").await;
        let v = json_of(&app, &claire, &draft, "province=TD-OD&_facet=prix").await;
        assert_eq!(v["total"], 2);
        assert_eq!(v["columns"][1]["type"], "string", "a comma decimal is text");
        assert_eq!(v["rows"][0]["note"], Value::Null, "a short row is padded");
        assert_eq!(facet(&v, "prix"), [("1,5".into(), 1), ("30".into(), 1)]);
        let v = json_of(&app, &claire, &draft, "note__contains=cher").await;
        assert_eq!(v["rows"][0]["note"], "dit \"cher\"");
        for c in [browser(), signed_in(&app, OUTSIDER).await] {
            for suffix in ["", ".json", ".csv"] {
                let res = c
                    .get(app.url(&format!("{draft}{suffix}")))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(res.status(), StatusCode::NOT_FOUND, "{suffix}");
            }
        }
        app.stop().await;
    }
}
