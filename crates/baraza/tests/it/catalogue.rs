//! The open-data catalogue: search and facets, dataset pages, downloads, DCAT, Atom, Data
//! Package, and who may see and edit what (docs/catalogue.md).

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

const PUBLISHED: [&str; 4] = [
    "activite-iati-barometre-eau",
    "eau-de-base-serie",
    "points-eau-menages-2026",
    "registre-points-eau",
];
const DRAFT: &str = "avis-usagers-brouillon";

fn names(v: &serde_json::Value) -> Vec<String> {
    let mut n: Vec<String> = v["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_string())
        .collect();
    n.sort();
    n
}

/// `/catalogue.json?{qs}`.
async fn search(app: &TestApp, c: &reqwest::Client, qs: &str) -> serde_json::Value {
    let res = c
        .get(app.url(&format!("/catalogue.json?{qs}")))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{qs}");
    res.json().await.unwrap()
}

fn project_catalogue() -> String {
    format!("{}/catalogue", private_project())
}

#[tokio::test]
async fn search_facets_and_visibility() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let all = get_json(&app, &anon, "/catalogue").await;
        assert_eq!(
            names(&all),
            PUBLISHED,
            "anonymous readers see published datasets only"
        );
        assert_eq!(all["count"], 4);
        // Accents and case are folded: "menages" finds "Ménages".
        let v = search(&app, &anon, "q=menages").await;
        assert!(names(&v).contains(&"points-eau-menages-2026".to_string()));
        let v = search(&app, &anon, "q=M%C3%89NAGES%20sdmx").await;
        assert_eq!(names(&v), ["eau-de-base-serie"]);
        // Facets narrow the search and count what is left.
        let v = search(&app, &anon, "res_format=PDF").await;
        assert_eq!(names(&v), ["registre-points-eau"]);
        let v = search(&app, &anon, "groups=sdg-6&tags=HXL").await;
        assert_eq!(names(&v), ["registre-points-eau"]);
        let formats = v["facets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "res_format")
            .unwrap()["items"]
            .clone();
        assert!(formats.to_string().contains("PDF"), "{formats}");
        // The HTML page shows the same, with facet links and the licence title.
        let html = text_of(&app, &anon, "/catalogue?q=registre").await;
        assert!(html.contains("Registre des points"), "{html}");
        assert!(html.contains("href=\"/dataset/registre-points-eau\""));

        // Members of the project see its draft; others do not, not even by its address.
        let amina = signed_in(&app, AMINA).await;
        let mine = get_json(&app, &amina, "/catalogue").await;
        assert!(names(&mine).contains(&DRAFT.to_string()));
        let outsider = signed_in(&app, OUTSIDER).await;
        assert!(!names(&get_json(&app, &outsider, "/catalogue").await).contains(&DRAFT.to_string()));
        for c in [&anon, &outsider] {
            let res = c
                .get(app.url(&format!("/dataset/{DRAFT}")))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND);
        }
        let res = amina
            .get(app.url(&format!("/dataset/{DRAFT}")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // A query the catalogue cannot run says why.
        let (status, code, _) = error_code(
            anon.get(app.url("/catalogue.json?q=colour:red"))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "search_invalid")
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn dataset_pages_downloads_and_machine_readable_twins() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let d = get_json(&app, &anon, "/dataset/registre-points-eau").await;
        let dataset = &d["dataset"];
        assert_eq!(dataset["license_id"], "lov2");
        assert_eq!(d["licence"]["open"], true);
        assert!(
            d["quality"]["score"].as_u64().unwrap() >= 80,
            "{}",
            d["quality"]
        );
        let resources = dataset["resources"].as_array().unwrap();
        assert_eq!(resources.len(), 2);
        let csv = &resources[0];
        assert_eq!(csv["format"], "CSV");
        // The HXL row of the uploaded CSV tags its columns.
        assert_eq!(csv["fields"][0]["hxl"], "#loc+code");
        let url = format!(
            "/dataset/registre-points-eau/resource/{}/download",
            csv["id"].as_str().unwrap()
        );
        let res = anon.get(app.url(&url)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("points-eau-registre.csv"));
        let body = res.text().await.unwrap();
        assert!(body.starts_with("code,nom,type,province"));
        // Compressed for a client that asks: the streamed file ends cleanly (the compression
        // layer polls the stream once more after its end).
        let gz = anon
            .get(app.url(&url))
            .header("accept-encoding", "gzip")
            .send()
            .await
            .unwrap();
        assert_eq!(gz.headers()["content-encoding"], "gzip");
        let gz = gz.bytes().await.expect("the whole compressed body");
        let mut plain = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz[..]), &mut plain)
            .unwrap();
        assert_eq!(plain, body);
        let pdf = &resources[1];
        let res = anon
            .get(app.url(&format!(
                "/dataset/registre-points-eau/resource/{}/download",
                pdf["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["content-type"], "application/pdf");
        assert!(res.bytes().await.unwrap().starts_with(b"%PDF-"));

        // The released survey table is served as released, byte for byte.
        let d = get_json(&app, &anon, "/dataset/points-eau-menages-2026").await;
        let r = &d["dataset"]["resources"][0];
        let got = anon
            .get(app.url(&format!(
                "/dataset/points-eau-menages-2026/resource/{}/download",
                r["id"].as_str().unwrap()
            )))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        let want = r["hash"]
            .as_str()
            .unwrap()
            .trim_start_matches("sha256:")
            .to_string();
        use sha2::Digest;
        assert_eq!(hex(&sha2::Sha256::digest(&got)), want);
        // The indicator series is SDMX-CSV, published without its hidden cells' values.
        let d = get_json(&app, &anon, "/dataset/eau-de-base-serie").await;
        let r = &d["dataset"]["resources"][0];
        assert_eq!(d["dataset"]["groups"][0], "sdg-6");
        let sdmx = text_of(
            &app,
            &anon,
            &format!(
                "/dataset/eau-de-base-serie/resource/{}/download",
                r["id"].as_str().unwrap()
            ),
        )
        .await;
        assert!(sdmx.starts_with("DATAFLOW,"), "{sdmx}");

        // The page carries schema.org JSON-LD; DCAT, the Data Package and the feed are there.
        let page = text_of(&app, &anon, "/dataset/registre-points-eau").await;
        assert!(page.contains("application/ld+json"));
        assert!(page.contains("\"@type\":\"Dataset\"") || page.contains("\"@type\": \"Dataset\""));
        let ttl = anon.get(app.url("/catalog.ttl")).send().await.unwrap();
        assert!(ttl.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/turtle"));
        let ttl = ttl.text().await.unwrap();
        assert_eq!(ttl.matches("a dcat:Dataset").count(), 4, "{ttl}");
        assert!(!ttl.contains(DRAFT));
        let jsonld: serde_json::Value = anon
            .get(app.url("/catalog.jsonld"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(jsonld.to_string().contains("registre-points-eau"));
        let rdf = text_of(&app, &anon, "/catalog.rdf").await;
        roxmltree::Document::parse(&rdf).expect("RDF/XML parses");
        // Nothing changed since tomorrow: an empty page.
        let since = text_of(&app, &anon, "/catalog.ttl?modified_since=2999-01-01").await;
        assert_eq!(since.matches("a dcat:Dataset").count(), 0);
        let one = text_of(&app, &anon, "/dataset/registre-points-eau.ttl").await;
        assert!(one.contains("dcat:distribution"));
        let atom = text_of(&app, &anon, "/feeds/datasets.atom").await;
        let doc = roxmltree::Document::parse(&atom).expect("Atom parses");
        assert_eq!(
            doc.descendants()
                .filter(|n| n.has_tag_name("entry"))
                .count(),
            4
        );
        let dp: serde_json::Value = anon
            .get(app.url("/dataset/registre-points-eau/datapackage.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(dp["name"], "registre-points-eau");
        assert_eq!(dp["resources"][0]["schema"]["fields"][0]["name"], "code");
        // A draft is in none of them.
        let res = anon
            .get(app.url(&format!("/dataset/{DRAFT}/datapackage.json")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

/// A GET that must answer 200, read as text.
async fn text_of(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let res = c.get(app.url(path)).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

async fn upload(
    app: &TestApp,
    c: &reqwest::Client,
    file_name: &str,
    bytes: &[u8],
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(app, c, &project_catalogue()).await;
    let mut form = Form::new().text("_csrf", token);
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    form = form.part(
        "file",
        Part::bytes(bytes.to_vec()).file_name(file_name.to_string()),
    );
    c.post(app.url(&format!("{}/upload", project_catalogue())))
        .header("accept", "application/json")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn managers_publish_files_and_hostile_uploads_are_refused() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let fields = [
            ("title", "Prix de l'eau au bidon"),
            ("license_id", "cc-by"),
            ("groups", "6"),
            ("groups", "sdg-1"),
            ("tags", "eau, prix"),
            ("state", "draft"),
        ];
        let res = upload(
            &app,
            &claire,
            "../../etc/prix.csv",
            b"province,prix\nTD-ND,25\n",
            &fields,
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_string();
        assert_eq!(to, "/dataset/prix-de-l-eau-au-bidon");
        let d = get_json(&app, &claire, &to).await;
        assert_eq!(
            d["dataset"]["groups"],
            serde_json::json!(["sdg-1", "sdg-6"])
        );
        assert_eq!(d["dataset"]["state"], "draft");
        // The file name offered for download keeps no path.
        assert_eq!(d["dataset"]["resources"][0]["file_name"], "prix.csv");
        assert_eq!(d["dataset"]["resources"][0]["fields"][1]["type"], "integer");
        // Not public while a draft.
        let anon = browser();
        assert_eq!(
            anon.get(app.url(&to)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        // Publishing it: the edit form.
        let edit = format!("{to}/edit");
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &[
                ("title", "Prix de l'eau au bidon"),
                ("name", "prix-eau"),
                ("license_id", "cc-by"),
                ("state", "published"),
                ("notes", &"Prix relevés auprès des vendeurs. ".repeat(4)),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/dataset/prix-eau");
        let all = get_json(&app, &anon, "/catalogue").await;
        assert!(names(&all).contains(&"prix-eau".to_string()));
        let log = app
            .core
            .store()
            .audit_entries(&baraza_store::AuditQuery {
                action_prefix: Some("dataset.".into()),
                limit: 100,
                ..Default::default()
            })
            .await
            .unwrap();
        for action in ["dataset.create", "dataset.publish"] {
            assert!(log.iter().any(|e| e.action == action), "{action}");
        }

        // What is not what it says it is, is refused, and nothing is stored.
        let before = get_json(&app, &claire, "/catalogue").await["count"].clone();
        for (name, bytes) in [
            ("zip.csv", &b"PK\x03\x04\x14\x00\x00\x00"[..]),
            ("fake.pdf", &b"<html>not a pdf</html>"[..]),
            ("program.exe", &b"MZ\x90\x00"[..]),
            ("empty.csv", &b""[..]),
            ("bad.geojson", &b"{\"type\": \"FeatureCollection\", "[..]),
        ] {
            let res = upload(
                &app,
                &claire,
                name,
                bytes,
                &[("title", name), ("license_id", "cc-by")],
            )
            .await;
            assert!(res.status().is_client_error(), "{name}: {}", res.status());
        }
        // A licence we do not offer, a title too long, a taken name.
        for bad in [
            vec![("title", "x"), ("license_id", "wtfpl")],
            vec![("title", &*"t".repeat(301)), ("license_id", "cc-by")],
            vec![
                ("title", "Doublon"),
                ("name", "prix-eau"),
                ("license_id", "cc-by"),
            ],
        ] {
            let res = upload(&app, &claire, "ok.csv", b"a,b\n1,2\n", &bad).await;
            assert!(res.status().is_client_error(), "{bad:?}: {}", res.status());
        }
        assert_eq!(get_json(&app, &claire, "/catalogue").await["count"], before);

        // An analyst may read but not publish; an outsider cannot edit.
        let idriss = signed_in(&app, IDRISS).await;
        let res = idriss
            .get(app.url(&project_catalogue()))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = idriss
            .get(app.url("/dataset/prix-eau/edit"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let outsider = signed_in(&app, OUTSIDER).await;
        let res = outsider
            .get(app.url("/dataset/prix-eau/edit"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Deleting it takes it out of every listing.
        let res = post_form(
            &app,
            &claire,
            "/dataset/prix-eau/edit",
            "/dataset/prix-eau/delete",
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(
            !names(&get_json(&app, &anon, "/catalogue").await).contains(&"prix-eau".to_string())
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn only_released_tables_and_the_projects_indicators_can_be_published() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let page = get_json(&app, &claire, &project_catalogue()).await;
        let releases = page["publishable"]["releases"].as_array().unwrap();
        assert_eq!(releases.len(), 1, "only the released one: {releases:?}");
        // The draft release (the demo's second) cannot be published.
        let (_, _, access) = owner_access(&app.core).await;
        let drafts: Vec<_> = app
            .core
            .releases(&access, "points_eau")
            .await
            .unwrap()
            .into_iter()
            .filter(|r| r.state == "draft")
            .collect();
        assert!(!drafts.is_empty());
        let origin = format!("release:points_eau:{}", drafts[0].id);
        let res = post_form(
            &app,
            &claire,
            &project_catalogue(),
            &project_catalogue(),
            &[
                ("origin", &origin),
                ("title", "Brouillon"),
                ("license_id", "cc-by"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = post_form(
            &app,
            &claire,
            &project_catalogue(),
            &project_catalogue(),
            &[
                ("origin", "indicator:eau-de-base"),
                ("title", "Deuxième série"),
                ("license_id", "cc-zero"),
                ("state", "published"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &browser(), "/dataset/deuxieme-serie").await;
        assert_eq!(d["dataset"]["resources"][0]["format"], "SDMX-CSV");
        app.stop().await;
    }
}

#[tokio::test]
async fn tabular_resources_convert_as_they_stream_and_releases_carry_the_forms_hashtags() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let d = get_json(&app, &anon, "/dataset/registre-points-eau").await;
        let resources = d["dataset"]["resources"].as_array().unwrap();
        let (csv, pdf) = (&resources[0], &resources[1]);
        // The hashtag row takes no part in the column types.
        let types: Vec<&str> = csv["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["string", "string", "string", "string", "string", "date", "number", "number"]
        );
        let base = format!(
            "/dataset/registre-points-eau/resource/{}/download",
            csv["id"].as_str().unwrap()
        );
        let page = text_of(&app, &anon, "/dataset/registre-points-eau").await;
        for ext in ["ndjson", "xlsx", "geojson"] {
            assert!(page.contains(&format!("{base}.{ext}")), "{ext} linked");
        }

        let res = anon
            .get(app.url(&format!("{base}.ndjson")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "application/x-ndjson");
        assert!(res.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("points-eau-registre.ndjson"));
        let text = res.text().await.unwrap();
        let rows: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(rows.len(), 7, "the hashtag row is not a record");
        assert_eq!(rows[0]["code"], "PE-ND-001");
        assert_eq!(rows[0]["latitude"], 12.0781);

        let geo: serde_json::Value = anon
            .get(app.url(&format!("{base}.geojson")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let features = geo["features"].as_array().unwrap();
        assert_eq!(features.len(), 7);
        assert_eq!(
            features[0]["geometry"]["coordinates"],
            serde_json::json!([15.089, 12.0781])
        );
        assert_eq!(features[0]["properties"]["nom"], "Forage de Gassi");

        let xlsx = anon
            .get(app.url(&format!("{base}.xlsx")))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        use calamine::Reader;
        let mut wb: calamine::Xlsx<_> =
            calamine::Xlsx::new(std::io::Cursor::new(xlsx.to_vec())).unwrap();
        let range = wb.worksheet_range("data").unwrap();
        assert_eq!(range.get_size(), (8, 8));
        assert_eq!(range.get((1, 6)), Some(&calamine::Data::Float(12.0781)));

        // Not a table, not a conversion we make, no such resource: not found.
        for path in [
            format!(
                "/dataset/registre-points-eau/resource/{}/download.ndjson",
                pdf["id"].as_str().unwrap()
            ),
            format!("{base}.parquet"),
            format!("{base}.ndjson").replace(csv["id"].as_str().unwrap(), "nope"),
            format!("/dataset/{DRAFT}/resource/x/download.ndjson"),
        ] {
            let res = anon.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }

        // The released survey table: the form's `hxl` column tags its columns, and the file
        // is served with the hashtag row after its header (its hash is the file's).
        let d = get_json(&app, &anon, "/dataset/points-eau-menages-2026").await;
        let r = &d["dataset"]["resources"][0];
        let tags: Vec<(String, String)> = r["fields"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["hxl"].is_string())
            .map(|f| {
                (
                    f["name"].as_str().unwrap().to_string(),
                    f["hxl"].as_str().unwrap().to_string(),
                )
            })
            .collect();
        assert!(
            tags.contains(&("localisation-province".into(), "#adm1+name".into())),
            "{tags:?}"
        );
        let got = text_of(
            &app,
            &anon,
            &format!(
                "/dataset/points-eau-menages-2026/resource/{}/download",
                r["id"].as_str().unwrap()
            ),
        )
        .await;
        let mut lines = got.lines();
        let header: Vec<&str> = lines.next().unwrap().split(',').collect();
        let hashtags: Vec<&str> = lines.next().unwrap().split(',').collect();
        let at = header
            .iter()
            .position(|h| *h == "localisation-province")
            .unwrap();
        assert_eq!(hashtags[at], "#adm1+name");
        assert_eq!(header.len(), hashtags.len());
        let dp: serde_json::Value = anon
            .get(app.url("/dataset/points-eau-menages-2026/datapackage.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            dp["resources"][0]["dialect"]["commentRows"],
            serde_json::json!([2])
        );
        // Its NDJSON has as many records as the CSV has rows below the hashtag row.
        let ndjson = text_of(
            &app,
            &anon,
            &format!(
                "/dataset/points-eau-menages-2026/resource/{}/download.ndjson",
                r["id"].as_str().unwrap()
            ),
        )
        .await;
        assert_eq!(ndjson.lines().count(), got.lines().count() - 2);
        app.stop().await;
    }
}

/// Issue 8: a dataset's versions. Each change a reader would notice is one version, a failed
/// edit none; an older version shows its own metadata and serves its own files; readers outside
/// the project see neither names nor what happened while the dataset was private.
#[tokio::test]
async fn every_change_to_a_dataset_is_a_version_with_its_history() {
    use sha2::Digest;
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let anon = browser();
        let first = b"province,points\nTD-ND,12\n";
        let res = upload(
            &app,
            &claire,
            "points.csv",
            first,
            &[
                ("title", "Points par province"),
                ("name", "points-versions"),
                ("license_id", "cc-by"),
                ("state", "published"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page = "/dataset/points-versions";
        let edit = format!("{page}/edit");
        let metadata = |title: &'static str, licence: &'static str, private: bool| {
            let mut f = vec![
                ("title", title),
                ("name", "points-versions"),
                ("license_id", licence),
                ("state", "published"),
            ];
            if private {
                f.push(("private", "on"));
            }
            f
        };
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &metadata("Points d'eau", "cc-by", false),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // A refused edit (a licence we do not offer) is no version.
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &metadata("Refusé", "wtfpl", false),
        )
        .await;
        assert!(res.status().is_client_error(), "{}", res.status());
        // A file added, then the first one removed.
        let token = csrf(&app, &claire, &edit).await;
        let second = b"province,points\nTD-ND,12\nTD-OD,7\n";
        let res = claire
            .post(app.url(&format!("{page}/resources")))
            .multipart(
                Form::new()
                    .text("_csrf", token)
                    .text("resource_name", "Points 2")
                    .part(
                        "file",
                        Part::bytes(second.to_vec()).file_name("points2.csv"),
                    ),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &claire, page).await;
        let old_id = d["dataset"]["resources"][0]["id"]
            .as_str()
            .unwrap()
            .to_string();
        assert_eq!(d["latest_version"], 3);
        let res = post_form(
            &app,
            &claire,
            &edit,
            &format!("{page}/resources/{old_id}/delete"),
            &[],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        let h = get_json(&app, &claire, &format!("{page}/versions")).await;
        let v = h["versions"].as_array().unwrap();
        let numbers: Vec<i64> = v.iter().map(|v| v["number"].as_i64().unwrap()).collect();
        assert_eq!(numbers, [4, 3, 2, 1], "{h}");
        let hash = |b: &[u8]| format!("sha256:{}", hex(&sha2::Sha256::digest(b)));
        assert_eq!(v[3]["changes"]["start"], "created");
        assert_eq!(v[3]["changes"]["added"][0]["hash"], hash(first));
        assert_eq!(v[2]["changes"]["fields"], serde_json::json!(["title"]));
        assert_eq!(v[1]["changes"]["added"][0]["hash"], hash(second));
        assert_eq!(v[1]["changes"]["added"][0]["size"], second.len());
        assert_eq!(v[0]["changes"]["removed"][0]["id"], old_id.as_str());
        assert_eq!(v[0]["changes"]["removed"][0]["hash"], hash(first));
        // Members see who; everyone else reads "an editor".
        assert_eq!(v[0]["by"]["kind"], "user");
        assert!(
            v[0]["by"]["name"].as_str().unwrap().contains("Claire"),
            "{h}"
        );
        let public = get_json(&app, &anon, &format!("{page}/versions")).await;
        assert_eq!(public["versions"].as_array().unwrap().len(), 4);
        assert_eq!(
            public["versions"][0]["by"],
            serde_json::json!({"kind": "user"})
        );
        let html = text_of(&app, &anon, &format!("{page}/versions")).await;
        assert!(
            html.contains("an editor") && !html.contains("Claire"),
            "{html}"
        );
        // The dataset's page links its history.
        let html = text_of(&app, &anon, page).await;
        assert!(html.contains(&format!("href=\"{page}/versions\"")));
        assert!(html.contains("Version 4 · history"), "{html}");

        // An older version: its own title and files, the removed file still served as it was.
        let one = get_json(&app, &anon, &format!("{page}/versions/1")).await;
        assert_eq!(one["snapshot"]["title"], "Points par province");
        assert_eq!(one["latest"], 4);
        let html = text_of(&app, &anon, &format!("{page}/versions/1")).await;
        assert!(html.contains("Points par province"));
        let file = format!("{page}/versions/1/resource/{old_id}/download");
        assert!(html.contains(&file));
        let res = anon.get(app.url(&file)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(&res.bytes().await.unwrap()[..], first);
        // Not a file of that version, not a version, not a number: 404.
        for bad in [
            format!("{page}/versions/4/resource/{old_id}/download"),
            format!("{page}/versions/9"),
            format!("{page}/versions/0"),
            format!("{page}/versions/x"),
            format!("{page}/versions/-1.json"),
        ] {
            let res = anon.get(app.url(&bad)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{bad}");
        }

        // Private: its history is hidden as its page is; published again, the private
        // version stays with the project.
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &metadata("Points d'eau", "cc-by", true),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        for path in [
            format!("{page}/versions"),
            format!("{page}/versions/1"),
            file.clone(),
        ] {
            let res = anon.get(app.url(&path)).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &metadata("Points d'eau", "cc-by", false),
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let public = get_json(&app, &anon, &format!("{page}/versions")).await;
        let seen: Vec<i64> = public["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["number"].as_i64().unwrap())
            .collect();
        assert_eq!(seen, [6, 4, 3, 2, 1]);
        let res = anon
            .get(app.url(&format!("{page}/versions/5")))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let five = get_json(&app, &claire, &format!("{page}/versions/5")).await;
        assert_eq!(
            five["version"]["changes"]["fields"],
            serde_json::json!(["private"])
        );
        assert_eq!(five["version"]["public"], false);

        // The demo's register has a history: created, a file, an edit.
        let reg = get_json(&app, &anon, "/dataset/registre-points-eau/versions").await;
        assert!(reg["versions"].as_array().unwrap().len() >= 3, "{reg}");
        assert_eq!(
            reg["versions"][0]["changes"]["fields"],
            serde_json::json!(["version"])
        );
        app.stop().await;
    }
}
