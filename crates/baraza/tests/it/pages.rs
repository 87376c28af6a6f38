//! Pages, their `.json` twins, system pages, errors and headers.

use crate::common::*;
use axum::http::Method;
use reqwest::StatusCode;

#[tokio::test]
async fn every_page_has_a_json_twin() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = signed_in(&app, AMINA).await;
        let admin = signed_in(&app, ADMIN).await;
        // The register's CSV, for the table page.
        let register = get_json(&app, &c, "/dataset/registre-points-eau").await;
        let resource = register["dataset"]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["format"] == "CSV")
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string();
        // A citizen report, for the report's page (the web form, which its moderators may
        // always use).
        let reports = format!("{}/reports", private_project());
        let res = post_form(
            &app,
            &c,
            &format!("{reports}/new"),
            &reports,
            &[("body", "Forage en panne"), ("place", "TD-ND")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let report: serde_json::Value = res.json().await.unwrap();
        let report = report["id"].as_i64().unwrap().to_string();
        let mut n = 0;
        for route in baraza_web::routes() {
            if route.method != Method::GET
                || route.path.starts_with("/-/")
                || route.path.starts_with("/api/")
                || route.path == "/favicon.ico"
                || route.path.starts_with("/v1/")
                || route.path.ends_with("/xform")
                || route.path.contains("{instance}")
                // Drafts and public links need one made first: tests/it/webform.rs checks them.
                || route.path.contains("{draft}")
                || route.path.contains("{token}")
                // Downloads (submissions.csv.zip, .xlsx, .geojson), not pages.
                || route.path.contains("/submissions.")
                // An indicator's downloads and embeddable chart, not pages.
                || route.path.ends_with("/sdmx")
                || route.path.ends_with("/sdmx2")
                || route.path.ends_with("/chart.svg")
                || route.path.ends_with("/embed")
                || route.path.ends_with("/definitions.toml")
                // The catalogue's machine-readable files and downloads, not pages
                // (tests/it/catalogue.rs checks them).
                || route.path.starts_with("/catalog.")
                || route.path.starts_with("/feeds/")
                || route.path.ends_with("/datapackage")
                || route.path.ends_with("/download")
                || route.path.ends_with("/resource/{id}/{file}")
                // IATI XML files, not pages (tests/it/iati.rs checks them).
                || route.path.ends_with(".xml")
                // A harvest source needs one made first: tests/it/harvest.rs checks its page.
                || route.path.contains("{source}")
                // The reports' GeoJSON, not a page (tests/it/reports.rs checks it).
                || route.path.ends_with(".geojson")
            {
                continue;
            }
            let path = route
                .path
                .replace("/reports/{id}", &format!("/reports/{report}"))
                .replace("{org}", "eau-tchad")
                .replace("{project}", baraza::demo::PRIVATE_PROJECT)
                .replace("{form}", "points_eau")
                .replace("{goal}", "6")
                .replace("{indicator}", "eau-de-base")
                .replace("{name}", "registre-points-eau")
                .replace("{slug}", "open-licences")
                .replace("{census}", baraza::demo::CENSUS)
                .replace("{place}", "TD")
                .replace("{category}", "budget")
                .replace("{resource}", &resource)
                // The register's first version.
                .replace("{n}", "1")
                // The demo's first incident and agreement.
                .replace("{id}", "1");
            // The sign-in page sends signed-in people on; look at it as a visitor.
            let c = if path == "/login" {
                browser()
            } else if route.guard == baraza_web::Guard::Admin {
                admin.clone()
            } else {
                c.clone()
            };
            let html = c.get(app.url(&path)).send().await.unwrap();
            assert_eq!(html.status(), StatusCode::OK, "{path}");
            assert!(
                html.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("text/html"),
                "{path}"
            );
            let page = html.text().await.unwrap();
            let twin = if path == "/" {
                "/index.json".to_owned()
            } else {
                format!("{path}.json")
            };
            assert!(
                page.contains(&format!("href=\"{twin}\"")),
                "{path} links its twin"
            );
            let json = c.get(app.url(&twin)).send().await.unwrap();
            assert_eq!(json.status(), StatusCode::OK, "{twin}");
            assert!(
                json.headers()["content-type"]
                    .to_str()
                    .unwrap()
                    .starts_with("application/json"),
                "{twin}"
            );
            let v: serde_json::Value = json.json().await.unwrap();
            assert!(v.is_object(), "{twin}");
            n += 1;
        }
        assert!(n >= 8, "checked {n} pages");
        app.stop().await;
    }
}

#[tokio::test]
async fn system_pages_and_headers() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = browser();
        let res = c.get(app.url("/-/health")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let h = res.headers().clone();
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(v["ok"], true);
        assert_eq!(v["database"]["backend"], app.backend.as_str());
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));
        let v: serde_json::Value = c
            .get(app.url("/-/version"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["version"], env!("CARGO_PKG_VERSION"));

        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'")
                && !csp.contains("unsafe-inline")
                && csp.contains("frame-ancestors 'none'")
        );
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "same-origin");
        assert_eq!(h["x-request-id"].to_str().unwrap().len(), 16);

        // Pages carry no inline script or style, and stay small.
        let page = c
            .get(app.url("/"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains("<script") && !page.contains("style="));
        assert!(page.len() < 50_000);
        let css = c.get(app.url("/-/static/baraza.css")).send().await.unwrap();
        assert!(css.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/css"));
        app.stop().await;
    }
}

#[tokio::test]
async fn bad_requests_get_clear_errors_in_the_envelope() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = signed_in(&app, CLAIRE).await;
        let token = csrf(&app, &c, "/").await;

        // Unknown route: 404, HTML for browsers, the envelope for JSON.
        let res = c
            .get(app.url("/nowhere"))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(res.text().await.unwrap().contains("Introuvable"));
        let (status, code, _) =
            error_code(c.get(app.url("/api/v1/nowhere")).send().await.unwrap()).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );

        // Wrong method.
        let res = c
            .delete(app.url("/orgs"))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed")
        );
        let res = c
            .put(app.url("/login"))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert!(res.text().await.unwrap().contains("n’accepte pas"));

        // Oversized body.
        let people = format!("{}/people", private_project());
        let huge = "x".repeat(200 * 1024);
        let res = c
            .post(app.url(&people))
            .header("accept", "application/json")
            .form(&[
                ("_csrf", token.as_str()),
                ("email", huge.as_str()),
                ("role", "viewer"),
            ])
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large")
        );

        // Malformed form, wrong content type, bad JSON.
        let res = c
            .post(app.url(&people))
            .header("accept", "application/json")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("_csrf={token}&email=x"))
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_form")
        );
        assert!(
            message.contains("role"),
            "names the missing field: {message}"
        );
        let res = c
            .post(app.url(&people))
            .header("accept", "application/json")
            .header("content-type", "text/plain")
            .body("hello")
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "unsupported_media_type");
        let api = app.url(&format!(
            "/api/v1/projects/eau-tchad/{}/members",
            baraza::demo::PRIVATE_PROJECT
        ));
        let res = c
            .post(&api)
            .header("x-csrf-token", &token)
            .header("content-type", "application/json")
            .body("{\"email\": ")
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "invalid_json")
        );
        assert!(message.contains("line 1"), "says where: {message}");

        // Validation: a bad slug says what is wrong with it.
        let amina = signed_in(&app, AMINA).await;
        let t = csrf(&app, &amina, "/orgs/eau-tchad").await;
        let res = amina
            .post(app.url("/orgs/eau-tchad/projects"))
            .header("accept", "application/json")
            .header("accept-language", "fr")
            .form(&[
                ("_csrf", t.as_str()),
                ("name", "Enquête"),
                ("slug", "Bad Slug"),
                ("visibility", "private"),
            ])
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_slug")
        );
        assert!(
            message.contains("« Bad Slug »") && message.contains("lettre minuscule"),
            "{message}"
        );
        // A taken slug: 409, and nothing half-written.
        let res = amina
            .post(app.url("/orgs/eau-tchad/projects"))
            .header("accept", "application/json")
            .form(&[
                ("_csrf", t.as_str()),
                ("name", "Doublon"),
                ("slug", baraza::demo::PUBLIC_PROJECT),
                ("visibility", "public"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "slug_taken");
        // A good one.
        let res = amina
            .post(app.url("/orgs/eau-tchad/projects"))
            .form(&[
                ("_csrf", t.as_str()),
                ("name", "Enquête Ouaddaï 2027"),
                ("slug", ""),
                ("visibility", "private"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()["location"],
            "/orgs/eau-tchad/projects/enquete-ouaddai-2027"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn anonymous_visitors_see_only_what_is_public() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = browser();
        let home: serde_json::Value = c
            .get(app.url("/index.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let mut public: Vec<_> = home["public_projects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["slug"].as_str().unwrap().to_owned())
            .collect();
        public.sort();
        // The water barometer and the citizen reports.
        assert_eq!(
            public,
            vec![baraza::demo::PUBLIC_PROJECT, baraza::demo::REPORTS_PROJECT]
        );
        assert_eq!(
            c.get(app.url(&public_project()))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        // A link to a members-only page sends the person to sign in, then back.
        let res = c.get(app.url(&private_project())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            res.headers()["location"].to_str().unwrap(),
            format!("/login?next={}", private_project())
        );
        let org: serde_json::Value = c
            .get(app.url("/orgs/eau-tchad.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(org["projects"].as_array().unwrap().len(), 2);
        app.stop().await;
    }
}

#[tokio::test]
async fn server_failures_show_a_request_id_and_nothing_internal() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The database goes away under the running server.
        app.core.store().close().await;
        let c = browser();
        let res = c
            .get(app.url("/orgs.json"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["status"], 503);
        assert_eq!(body["error"]["code"], "unavailable");
        assert_eq!(
            body["request_id"],
            id.as_str(),
            "the id in the body is the one in the logs"
        );
        let text = body.to_string().to_lowercase();
        for leak in ["sqlx", "pool", "sqlite", "postgres", "closed"] {
            assert!(!text.contains(leak), "{leak} leaked: {body}");
        }
        let res = c
            .get(app.url("/orgs"))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let id = res.headers()["x-request-id"].to_str().unwrap().to_owned();
        let page = res.text().await.unwrap();
        assert!(
            page.contains(&id) && page.contains("Temporairement indisponible"),
            "{page}"
        );
        let res = c.get(app.url("/-/health")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::SERVICE_UNAVAILABLE);
        let v: serde_json::Value = res.json().await.unwrap();
        assert_eq!(
            (v["ok"].as_bool(), v["database"]["ok"].as_bool()),
            (Some(false), Some(false))
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn submissions_have_a_csv_twin_streamed_whole() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let idriss = signed_in(&app, IDRISS).await; // an analyst
        let path = format!("{}/forms/points_eau/submissions", private_project());
        let res = idriss
            .get(app.url(&format!("{path}.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let text = res.text().await.unwrap();
        let mut rows = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = rows.headers().unwrap().iter().map(str::to_owned).collect();
        assert_eq!(&header[..3], ["SubmissionDate", "start", "end"]);
        assert!(
            header.contains(&"localisation-gps-Latitude".to_owned())
                && header.contains(&"point-temps_trajet".to_owned())
        );
        let records: Vec<csv::StringRecord> = rows.records().map(Result::unwrap).collect();
        assert_eq!(
            records.len(),
            baraza::demo::SUBMISSIONS,
            "every submission, across export batches"
        );
        let key = header.iter().position(|h| h == "KEY").unwrap();
        let ids: std::collections::HashSet<&str> =
            records.iter().map(|r| r.get(key).unwrap()).collect();
        assert_eq!(ids.len(), records.len(), "no row twice");
        // The page and its JSON twin page by 50 with keyset links.
        let page: serde_json::Value = idriss
            .get(app.url(&format!("{path}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["submissions"].as_array().unwrap().len(), 50);
        let next = page["next"].as_str().unwrap();
        let page2: serde_json::Value = idriss
            .get(app.url(&format!("{path}.json?after={next}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let last_id = page["submissions"][49]["id"].as_i64().unwrap();
        assert_ne!(page2["submissions"][0]["id"].as_i64().unwrap(), last_id);
        // Viewers do not read the data; a collector reads only the records she sent (the
        // demo's came from a phone and the public link): the header, no row.
        let moussa = signed_in(&app, MOUSSA).await;
        let res = moussa
            .get(app.url(&format!("{path}.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "forbidden");
        let fatime = signed_in(&app, FATIME).await;
        let res = fatime
            .get(app.url(&format!("{path}.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.text().await.unwrap().lines().count(), 1);
        // Pages without a table have no CSV twin.
        let res = idriss.get(app.url("/orgs.csv")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}
