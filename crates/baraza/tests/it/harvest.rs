//! Harvesting in (docs/harvest.md): one Baraza instance (B) harvests another (A) on loopback,
//! through A's CKAN Action API and then A's DCAT catalogue — idempotent runs, incremental runs,
//! withdrawal on a full run, read-only harvested datasets, and the safety refusals.

use crate::common::*;
use reqwest::StatusCode;
use serde_json::Value;

/// A's public datasets (its draft `avis-usagers-brouillon` is never harvested).
const PUBLIC: [&str; 4] = [
    "activite-iati-barometre-eau",
    "eau-de-base-serie",
    "points-eau-menages-2026",
    "registre-points-eau",
];

fn harvest_page() -> String {
    format!("{}/catalogue/harvest", private_project())
}

/// Adds a source on `app` as Claire; returns its id.
async fn add_source(app: &TestApp, c: &reqwest::Client, title: &str, url: &str, kind: &str) -> i64 {
    let res = post_form(
        app,
        c,
        &harvest_page(),
        &harvest_page(),
        &[
            ("title", title),
            ("url", url),
            ("kind", kind),
            ("default_licence", "cc-by"),
            ("schedule", "manual"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "adding {url}");
    let to = res.headers()["location"].to_str().unwrap().to_string();
    to.rsplit('/').next().unwrap().parse().unwrap()
}

/// "Harvest now" (`full`: a full run); returns the run as the source's page shows it.
async fn run(app: &TestApp, c: &reqwest::Client, id: i64, full: bool) -> Value {
    let page = format!("{}/{id}", harvest_page());
    let mut fields = vec![];
    if full {
        fields.push(("full", "1"));
    }
    let res = post_form(app, c, &page, &format!("{page}/run"), &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "run of source {id}");
    let v = get_json(app, c, &page).await;
    assert_ne!(v["runs"][0]["status"], "running", "{v}");
    v["runs"][0].clone()
}

fn counts(run: &Value) -> [i64; 5] {
    let c = &run["counts"];
    ["created", "updated", "unchanged", "withdrawn", "errors"].map(|k| c[k].as_i64().unwrap_or(-1))
}

/// B's public datasets harvested from source `id`, by name, via B's CKAN API.
async fn harvested(app: &TestApp, id: i64) -> Vec<Value> {
    let v: Value = reqwest::get(app.url("/api/3/action/package_search?rows=1000"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["result"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["source"] == format!("harvest:{id}"))
        .cloned()
        .collect()
}

#[tokio::test]
async fn one_instance_harvests_another_by_ckan_then_dcat() {
    for backend in backends() {
        let a = TestApp::spawn(backend).await;
        let b = TestApp::spawn_with(backend, &[("harvest_allow_private_addresses", "true")]).await;
        let claire = signed_in(&b, CLAIRE).await;

        // CKAN: the first run creates A's public datasets, and only those.
        let ckan = add_source(
            &b,
            &claire,
            "Baraza A (CKAN)",
            &a.url("/api/3/action/"),
            "ckan",
        )
        .await;
        let r = run(&b, &claire, ckan, false).await;
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(r["full"], true, "the first run reads everything");
        assert_eq!(counts(&r), [4, 0, 0, 0, 0], "{r}");
        let mut titles: Vec<String> = harvested(&b, ckan)
            .await
            .iter()
            .map(|d| d["title"].as_str().unwrap().to_string())
            .collect();
        titles.sort();
        let mut a_titles = Vec::new();
        for n in PUBLIC {
            let d = get_json(&a, &browser(), &format!("/dataset/{n}")).await;
            a_titles.push(d["dataset"]["title"].as_str().unwrap().to_string());
        }
        a_titles.sort();
        assert_eq!(
            titles, a_titles,
            "B's package_search lists A's public datasets"
        );
        // B has the same demo: names clash, and the harvested copies get a suffix.
        let copy = get_json(&b, &browser(), "/dataset/registre-points-eau-2").await;
        let d = &copy["dataset"];
        assert_eq!(d["source"]["kind"], "harvest");
        assert_eq!(d["source"]["source_title"], "Baraza A (CKAN)");
        assert_eq!(
            d["source"]["original_url"],
            a.url("/dataset/registre-points-eau")
        );
        // Resources are links to A's files, downloaded from A (a redirect, no proxying).
        let r0 = &d["resources"][0];
        assert_eq!(r0["kind"]["kind"], "link");
        let remote = r0["kind"]["url"].as_str().unwrap().to_string();
        assert!(remote.starts_with(&a.base), "{remote}");
        let formats = |d: &Value| -> Vec<String> {
            d["resources"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["format"].as_str().unwrap().to_string())
                .collect()
        };
        let original = get_json(&a, &browser(), "/dataset/registre-points-eau").await;
        assert_eq!(formats(d), formats(&original["dataset"]));
        assert!(formats(d).contains(&"PDF".to_string()));
        let res = browser()
            .get(b.url(&format!(
                "/dataset/registre-points-eau-2/resource/{}/download",
                r0["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(res.headers()["location"], remote.as_str());
        assert_eq!(
            reqwest::get(&remote).await.unwrap().status(),
            StatusCode::OK
        );
        // The page says where it comes from; it cannot be edited here.
        let html = browser()
            .get(b.url("/dataset/registre-points-eau-2"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Harvested from Baraza A (CKAN)"), "{html}");
        assert!(html.contains("original page"));
        let res = claire
            .get(b.url("/dataset/registre-points-eau-2/edit.json"))
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "dataset_harvested")
        );
        // It is in B's DCAT output with A's file as its download URL.
        let ttl = reqwest::get(b.url("/catalog.ttl"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(ttl.contains("registre-points-eau-2"));
        assert!(
            ttl.contains(&format!("dcat:downloadURL <{remote}>")),
            "{ttl}"
        );

        // Nothing changed on A: nothing is written.
        let version = b.core.store().catalogue_version().await.unwrap();
        let r = run(&b, &claire, ckan, false).await;
        assert_eq!(r["full"], false, "{r}");
        assert_eq!(counts(&r), [0, 0, 4, 0, 0], "{r}");
        assert_eq!(b.core.store().catalogue_version().await.unwrap(), version);

        // A dataset changed on A, a day later: the incremental run updates exactly it.
        a.clock.advance(86_400);
        let a_claire = signed_in(&a, CLAIRE).await;
        let edit = "/dataset/points-eau-menages-2026/edit";
        let res = post_form(
            &a,
            &a_claire,
            edit,
            edit,
            &[
                ("title", "Points d'eau et ménages, 2026 (révisé)"),
                ("name", "points-eau-menages-2026"),
                ("license_id", "cc-by"),
                ("state", "published"),
                ("notes", "Révision de la description."),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let r = run(&b, &claire, ckan, false).await;
        assert_eq!(counts(&r), [0, 1, 3, 0, 0], "{r}");
        let copy = get_json(&b, &browser(), "/dataset/points-eau-menages-2026-2").await;
        assert_eq!(
            copy["dataset"]["title"],
            "Points d'eau et ménages, 2026 (révisé)"
        );
        // The watermark moved past the other datasets: the next run reads only the changed one.
        let r = run(&b, &claire, ckan, false).await;
        assert_eq!(counts(&r), [0, 0, 1, 0, 0], "{r}");

        // A dataset deleted on A: a full run withdraws it (a draft: gone from public lists).
        let res = post_form(
            &a,
            &a_claire,
            "/dataset/eau-de-base-serie/edit",
            "/dataset/eau-de-base-serie/delete",
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let r = run(&b, &claire, ckan, true).await;
        assert_eq!(r["full"], true);
        assert_eq!(counts(&r), [0, 0, 3, 1, 0], "{r}");
        assert_eq!(harvested(&b, ckan).await.len(), 3);
        assert_eq!(
            browser()
                .get(b.url("/dataset/eau-de-base-serie-2"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        // Members still see it, as a draft.
        let w = get_json(&b, &claire, "/dataset/eau-de-base-serie-2").await;
        assert_eq!(w["dataset"]["state"], "draft");

        // DCAT: the same catalogue read as Turtle creates A's three remaining public datasets.
        let dcat = add_source(
            &b,
            &claire,
            "Baraza A (DCAT)",
            &a.url("/catalog.ttl"),
            "dcat",
        )
        .await;
        let r = run(&b, &claire, dcat, false).await;
        assert_eq!(r["status"], "ok", "{r}");
        assert_eq!(counts(&r), [3, 0, 0, 0, 0], "{r}");
        let copy = get_json(&b, &browser(), "/dataset/points-eau-menages-2026-3").await;
        let d = &copy["dataset"];
        assert_eq!(d["title"], "Points d'eau et ménages, 2026 (révisé)");
        assert_eq!(d["source"]["source_title"], "Baraza A (DCAT)");
        assert_eq!(d["license_id"], "cc-by");
        assert!(!d["resources"].as_array().unwrap().is_empty());
        let r = run(&b, &claire, dcat, true).await;
        assert_eq!(counts(&r), [0, 0, 3, 0, 0], "{r}");
        // And as RDF/XML: the same records, so nothing changes.
        let page = format!("{}/{dcat}", harvest_page());
        let res = post_form(
            &b,
            &claire,
            &page,
            &page,
            &[
                ("title", "Baraza A (DCAT)"),
                ("url", &a.url("/catalog.rdf")),
                ("kind", "dcat"),
                ("default_licence", "cc-by"),
                ("schedule", "weekly"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let r = run(&b, &claire, dcat, false).await;
        assert_eq!(r["full"], true, "a new address reads everything again");
        assert_eq!(counts(&r), [0, 0, 3, 0, 0], "{r}");

        // The audit log names the runs.
        let log = b
            .core
            .store()
            .audit_entries(&baraza_store::AuditQuery {
                action_prefix: Some("harvest.".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
        assert!(actions.contains(&"harvest.source_create"));
        assert!(actions.contains(&"harvest.source_update"));
        assert!(actions.contains(&"harvest.run"));

        // Deleting a source deletes its datasets.
        let res = post_form(&b, &claire, &page, &format!("{page}/delete"), &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            browser()
                .get(b.url("/dataset/points-eau-menages-2026-3"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        b.stop().await;
        a.stop().await;
    }
}

#[tokio::test]
async fn bad_sources_fail_clearly_and_keep_the_watermark() {
    for backend in backends() {
        let b = TestApp::spawn_with(backend, &[("harvest_allow_private_addresses", "true")]).await;
        let claire = signed_in(&b, CLAIRE).await;
        // Not a URL, not http: refused when the source is added.
        for (url, kind) in [
            ("not a url", "ckan"),
            ("ftp://x.org/", "ckan"),
            ("https://x.org/", "csv"),
        ] {
            let res = post_form(
                &b,
                &claire,
                &harvest_page(),
                &harvest_page(),
                &[("title", "X"), ("url", url), ("kind", kind)],
            )
            .await;
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed"),
                "{url}"
            );
        }
        // Unreachable: a port nobody listens on.
        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let id = add_source(
            &b,
            &claire,
            "Closed",
            &format!("http://127.0.0.1:{closed}/api/3/action/"),
            "ckan",
        )
        .await;
        let r = run(&b, &claire, id, false).await;
        assert_eq!(r["status"], "failed");
        assert!(
            r["log"].as_str().unwrap().contains("could not be reached"),
            "{r}"
        );
        let v = get_json(&b, &claire, &format!("{}/{id}", harvest_page())).await;
        assert_eq!(v["source"]["watermark"], Value::Null);
        // Not a CKAN API: a site without one.
        let id = add_source(&b, &claire, "Not CKAN", &b.url("/catalogue"), "ckan").await;
        let r = run(&b, &claire, id, false).await;
        assert_eq!(r["status"], "failed");
        assert!(
            r["log"].as_str().unwrap().contains("answered HTTP 404"),
            "{r}"
        );
        // JSON, but not CKAN's envelope: the source is an API base whose answers are not CKAN's.
        let id = add_source(
            &b,
            &claire,
            "Not CKAN either",
            &b.url("/learn.json?x="),
            "ckan",
        )
        .await;
        let r = run(&b, &claire, id, false).await;
        assert_eq!(r["status"], "failed");
        assert!(
            r["log"]
                .as_str()
                .unwrap()
                .contains("not a CKAN Action API answer"),
            "{r}"
        );
        let id = add_source(&b, &claire, "HTML", &b.url("/"), "dcat").await;
        let r = run(&b, &claire, id, false).await;
        assert_eq!(r["status"], "failed");
        assert!(r["log"].as_str().unwrap().contains("not valid RDF"), "{r}");
        // Sources and runs belong to their project's managers.
        let idriss = signed_in(&b, IDRISS).await;
        let res = idriss
            .get(b.url(&format!("{}/{id}.json", harvest_page())))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        b.stop().await;
    }
}

#[tokio::test]
async fn private_addresses_are_refused_by_default() {
    for backend in backends() {
        let a = TestApp::spawn(backend).await;
        let b = TestApp::spawn(backend).await;
        let claire = signed_in(&b, CLAIRE).await;
        for url in [
            a.url("/api/3/action/"),
            format!(
                "http://localhost:{}/api/3/action/",
                a.base.rsplit(':').next().unwrap()
            ),
            "http://169.254.169.254/latest/meta-data/".to_string(),
            "http://[::1]/".to_string(),
        ] {
            let id = add_source(&b, &claire, "Here", &url, "ckan").await;
            let r = run(&b, &claire, id, false).await;
            assert_eq!(r["status"], "failed", "{url}");
            assert!(
                r["log"]
                    .as_str()
                    .unwrap()
                    .contains("harvest_allow_private_addresses is off"),
                "{url}: {r}"
            );
            assert_eq!(counts(&r), [0, 0, 0, 0, 0]);
        }
        b.stop().await;
        a.stop().await;
    }
}
