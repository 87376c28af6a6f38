//! CKAN's Action API as CKAN clients use it: every action over HTTP on both backends, CKAN's
//! envelope and errors, search with its filters, paging and facets, what members see beyond
//! the public catalogue, and the datastore over the demo's tabular resources.

use crate::common::*;
use baraza::demo;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::collections::BTreeSet;

const PUBLIC: [&str; 4] = [
    "activite-iati-barometre-eau",
    "eau-de-base-serie",
    "points-eau-menages-2026",
    "registre-points-eau",
];
const DRAFT: &str = "avis-usagers-brouillon";

/// A GET action: status and body.
async fn get(app: &TestApp, c: &reqwest::Client, action: &str, query: &str) -> (StatusCode, Value) {
    let url = if query.is_empty() {
        app.url(&format!("/api/3/action/{action}"))
    } else {
        app.url(&format!("/api/3/action/{action}?{query}"))
    };
    let res = c.get(url).send().await.unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    assert!(ct.starts_with("application/json"), "{action}: {ct}");
    (status, res.json().await.unwrap())
}

/// A successful GET action's result, its envelope checked.
async fn ok(app: &TestApp, c: &reqwest::Client, action: &str, query: &str) -> Value {
    let (status, body) = get(app, c, action, query).await;
    assert_eq!(status, StatusCode::OK, "{action}?{query}: {body}");
    assert_eq!(body["success"], true, "{body}");
    let help = body["help"].as_str().unwrap();
    assert_eq!(
        help,
        format!("{}/api/3/action/help_show?name={action}", app.base),
        "{body}"
    );
    body["result"].clone()
}

async fn post_json(app: &TestApp, path: &str, body: Value) -> (StatusCode, Value) {
    let res = reqwest::Client::new()
        .post(app.url(path))
        .json(&body)
        .send()
        .await
        .unwrap();
    (res.status(), res.json().await.unwrap())
}

fn names(results: &Value) -> Vec<String> {
    results
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap().to_owned())
        .collect()
}

fn search_names(result: &Value) -> BTreeSet<String> {
    names(&result["results"]).into_iter().collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn ckan_read_actions_answer_as_ckan() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = reqwest::Client::new();

        // status_show and the envelope.
        let s = ok(&app, &anon, "status_show", "").await;
        assert_eq!(s["ckan_version"], "2.10.4");
        assert_eq!(s["site_title"], "Baraza");
        assert_eq!(s["site_url"], app.base);
        assert_eq!(s["extensions"], json!(["baraza"]));

        // package_list: the public datasets, sorted; paged.
        let list = ok(&app, &anon, "package_list", "").await;
        assert_eq!(list, json!(PUBLIC));
        let page = ok(&app, &anon, "package_list", "limit=1&offset=1").await;
        assert_eq!(page, json!([PUBLIC[1]]));

        // package_show by name and by id; the dictionary's shape.
        let p = ok(&app, &anon, "package_show", "id=registre-points-eau").await;
        let id = p["id"].as_str().unwrap().to_owned();
        let by_id = ok(&app, &anon, "package_show", &format!("id={id}")).await;
        assert_eq!(by_id["name"], "registre-points-eau");
        assert_eq!(p["state"], "active");
        assert_eq!(p["type"], "dataset");
        assert_eq!(p["private"], false);
        assert_eq!(p["license_id"], "lov2");
        assert_eq!(p["isopen"], true);
        assert_eq!(p["owner_org"], demo::ORG_SLUG);
        assert_eq!(p["organization"]["name"], demo::ORG_SLUG);
        assert_eq!(p["organization"]["type"], "organization");
        assert_eq!(
            p["url"],
            format!("{}/dataset/registre-points-eau", app.base)
        );
        assert_eq!(p["frequency"], "monthly");
        assert_eq!(p["spatial"], "TD-ND,TD-OD");
        assert!(p["extras"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["key"] == "temporal_start" && e["value"] == "2026-10-01"));
        let modified = p["metadata_modified"].as_str().unwrap();
        assert_eq!(modified.len(), 26, "{modified}");
        assert!(modified.ends_with(".000000") && !modified.ends_with('Z'));
        assert_eq!(p["groups"][0]["name"], "sdg-6");
        assert!(p["groups"][0]["title"].as_str().unwrap().starts_with("6. "));
        assert!(p["tags"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t["name"] == "eau"));
        assert_eq!(p["num_resources"], 2);
        let csv = &p["resources"][0];
        let pdf = &p["resources"][1];
        assert_eq!(csv["format"], "CSV");
        assert_eq!(csv["datastore_active"], true);
        assert_eq!(pdf["format"], "PDF");
        assert_eq!(pdf["datastore_active"], false);
        assert_eq!(csv["package_id"], p["id"]);
        assert_eq!(
            csv["url"],
            format!(
                "{}/dataset/registre-points-eau/resource/{}/download",
                app.base,
                csv["id"].as_str().unwrap()
            )
        );

        // resource_show.
        let rid = csv["id"].as_str().unwrap().to_owned();
        let r = ok(&app, &anon, "resource_show", &format!("id={rid}")).await;
        assert_eq!(r, *csv);

        // current_package_list_with_resources: the public datasets, with their resources.
        let cur = ok(&app, &anon, "current_package_list_with_resources", "").await;
        assert_eq!(
            names(&cur).into_iter().collect::<BTreeSet<_>>(),
            set(&PUBLIC)
        );
        assert!(cur
            .as_array()
            .unwrap()
            .iter()
            .all(|d| !d["resources"].as_array().unwrap().is_empty()));
        let cur1 = ok(
            &app,
            &anon,
            "current_package_list_with_resources",
            "limit=1",
        )
        .await;
        assert_eq!(cur1.as_array().unwrap().len(), 1);

        // Organisations.
        let orgs = ok(&app, &anon, "organization_list", "").await;
        assert!(
            orgs.as_array().unwrap().contains(&json!(demo::ORG_SLUG)),
            "{orgs}"
        );
        let orgs = ok(&app, &anon, "organization_list", "all_fields=true").await;
        let eau = orgs
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["name"] == demo::ORG_SLUG)
            .unwrap();
        assert_eq!(eau["package_count"], 4);
        assert_eq!(eau["is_organization"], true);
        let o = ok(
            &app,
            &anon,
            "organization_show",
            &format!("id={}&include_datasets=true", demo::ORG_SLUG),
        )
        .await;
        assert_eq!(
            search_names(&json!({"results": o["packages"]})),
            set(&PUBLIC)
        );
        let o = ok(
            &app,
            &anon,
            "organization_show",
            &format!("id={}", demo::ORG_SLUG),
        )
        .await;
        assert!(o.get("packages").is_none());

        // Groups: the 17 SDGs, titled in the request's language.
        let groups = ok(&app, &anon, "group_list", "sort=name").await;
        assert_eq!(groups.as_array().unwrap().len(), 17);
        assert!(groups.as_array().unwrap().contains(&json!("sdg-6")));
        let all = ok(&app, &anon, "group_list", "all_fields=true").await;
        let six = all
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["name"] == "sdg-6")
            .unwrap();
        assert!(six["title"].as_str().unwrap().starts_with("6. "));
        assert!(six["package_count"].as_u64().unwrap() >= 2);
        assert!(!six["description"].as_str().unwrap().is_empty());
        let fr = ok(&app, &anon, "group_show", "id=sdg-6&lang=fr").await;
        assert_ne!(fr["title"], six["title"], "French title");
        let g = ok(&app, &anon, "group_show", "id=sdg-6&include_datasets=true").await;
        let in_six = search_names(&json!({"results": g["packages"]}));
        assert!(in_six.contains("registre-points-eau") && !in_six.contains(DRAFT));

        // Tags, licences, help.
        let tags = ok(&app, &anon, "tag_list", "").await;
        assert!(tags.as_array().unwrap().contains(&json!("eau")), "{tags}");
        assert!(
            !tags.as_array().unwrap().contains(&json!("avis")),
            "draft's tag"
        );
        let tags = ok(&app, &anon, "tag_list", "query=HX").await;
        assert_eq!(tags, json!(["HXL"]));
        let lic = ok(&app, &anon, "license_list", "").await;
        let lov2 = lic
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["id"] == "lov2")
            .unwrap();
        assert_eq!(lov2["od_conformance"], "approved");
        assert!(lov2["title"].as_str().unwrap().contains("Licence Ouverte"));
        let help = ok(&app, &anon, "help_show", "name=package_search").await;
        assert!(help.as_str().unwrap().contains("fq"));

        // The /api/action alias.
        let res = anon
            .get(app.url("/api/action/package_list"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["result"], json!(PUBLIC));

        // POST with JSON, and with a form.
        let (status, body) = post_json(
            &app,
            "/api/3/action/package_show",
            json!({"id": "points-eau-menages-2026", "use_default_schema": true}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["name"], "points-eau-menages-2026");
        let res = anon
            .post(app.url("/api/action/package_search"))
            .form(&[("q", "registre"), ("rows", "1")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["result"]["count"], 1);

        // Errors.
        let (status, body) = get(&app, &anon, "package_show", "id=no-such-dataset").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["success"], false);
        assert_eq!(body["error"]["__type"], "Not Found Error");
        assert_eq!(body["error"]["message"], "Not found");
        let (status, body) = get(&app, &anon, "package_show", "").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["__type"], "Validation Error");
        assert_eq!(body["error"]["name_or_id"], json!(["Missing value"]));
        let (status, body) = get(&app, &anon, "resource_show", "id=nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["__type"], "Not Found Error");
        let (status, body) = get(&app, &anon, "package_search", "fq=colour:blue").await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["error"]["__type"], "Search Error");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("Search error: "));
        let (status, body) = get(&app, &anon, "package_search", "sort=colour%20asc").await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert_eq!(body["error"]["__type"], "Search Query Error");
        let (status, body) = get(&app, &anon, "package_search", "rows=-1").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["rows"], json!(["Must be a natural number"]));
        let (status, body) = get(&app, &anon, "package_create", "").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body,
            json!("Bad request - Action name not known: package_create")
        );
        let (status, _) = post_json(&app, "/api/3/action/no_such_action", json!({})).await;
        assert_eq!(status, StatusCode::BAD_REQUEST);

        app.stop().await;
    }
}

#[tokio::test]
async fn ckan_package_search_filters_pages_and_facets() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = reqwest::Client::new();
        let s = |q: &'static str| {
            let app = &app;
            let anon = &anon;
            async move { ok(app, anon, "package_search", q).await }
        };

        // Everything public; CKAN's default sort is said back.
        let all = s("").await;
        assert_eq!(all["count"], 4);
        assert_eq!(search_names(&all), set(&PUBLIC));
        assert_eq!(all["sort"], "score desc, metadata_modified desc");
        assert_eq!(all["facets"], json!({}));

        // Accents folded: "menages" finds "Ménages".
        let r = s("q=menages").await;
        assert!(search_names(&r).contains("points-eau-menages-2026"), "{r}");
        let r = s("q=M%C3%89NAGES").await;
        assert!(search_names(&r).contains("points-eau-menages-2026"));
        assert_eq!(s("q=zzzzzz").await["count"], 0);

        // fq on organisation, group, tag, format, date.
        let r = s("fq=organization:eau-tchad").await;
        assert_eq!(r["count"], 4);
        let r = s("fq=organization:nobody").await;
        assert_eq!(r["count"], 0);
        let r = s("fq=groups:sdg-6").await;
        let six = search_names(&r);
        assert!(six.contains("registre-points-eau") && six.contains("points-eau-menages-2026"));
        let r = s("fq=tags:eau").await;
        assert_eq!(r["count"], 4);
        let r = s("fq=tags:HXL").await;
        assert_eq!(search_names(&r), set(&["registre-points-eau"]));
        let r = s("fq=res_format:PDF").await;
        assert_eq!(search_names(&r), set(&["registre-points-eau"]));
        let r = s("fq=metadata_modified:%5B2026-01-01T00:00:00Z%20TO%20*%5D").await;
        assert_eq!(r["count"], 4);
        let r = s("fq=metadata_modified:%5B2030-01-01T00:00:00Z%20TO%20*%5D").await;
        assert_eq!(r["count"], 0);
        // fq_list adds filters.
        let r = s("fq=tags:eau&fq_list=res_format:PDF").await;
        assert_eq!(r["count"], 1);

        // Paging by id covers everything once.
        let mut seen = Vec::new();
        for start in 0..5 {
            let r = ok(
                &app,
                &anon,
                "package_search",
                &format!("sort=id%20asc&rows=1&start={start}"),
            )
            .await;
            assert_eq!(r["count"], 4);
            seen.extend(names(&r["results"]));
        }
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert_eq!(seen.iter().cloned().collect::<BTreeSet<_>>(), set(&PUBLIC));
        let ids: Vec<String> = {
            let r = s("sort=id%20asc&rows=10").await;
            r["results"]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d["id"].as_str().unwrap().to_owned())
                .collect()
        };
        let mut sorted = ids.clone();
        sorted.sort();
        assert_eq!(ids, sorted);
        // rows above the maximum are clamped, as CKAN does.
        assert_eq!(s("rows=5000").await["count"], 4);

        // Facets, both shapes; facet=false turns them off.
        let r = s("facet.field=%5B%22organization%22%2C%22res_format%22%2C%22groups%22%5D").await;
        assert_eq!(r["facets"]["organization"][demo::ORG_SLUG], 4);
        assert_eq!(r["facets"]["res_format"]["PDF"], 1);
        assert!(r["facets"]["groups"]["sdg-6"].as_u64().unwrap() >= 2);
        let items = r["search_facets"]["organization"]["items"]
            .as_array()
            .unwrap();
        assert_eq!(items[0]["name"], demo::ORG_SLUG);
        assert_eq!(items[0]["count"], 4);
        assert_ne!(
            items[0]["display_name"],
            demo::ORG_SLUG,
            "the organisation's title"
        );
        assert_eq!(r["search_facets"]["res_format"]["title"], "res_format");
        let r = s("facet.field=tags&facet.field=license_id&facet.limit=1").await;
        assert_eq!(r["facets"]["tags"].as_object().unwrap().len(), 1);
        assert_eq!(r["facets"]["tags"]["eau"], 4);
        assert_eq!(r["facets"]["license_id"]["lov2"], 4);
        let r = s("facet=false&facet.field=tags").await;
        assert_eq!(r["facets"], json!({}));

        app.stop().await;
    }
}

/// An API token of Amina's for the demo's private project (where the draft is).
async fn api_token(app: &TestApp, amina: &reqwest::Client) -> String {
    let token = csrf(app, amina, "/account/tokens").await;
    let res = amina
        .post(app.url("/account/tokens"))
        .header("accept-language", "en")
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "ckan client"),
            (
                "project",
                &format!("{}/{}", demo::ORG_SLUG, demo::PRIVATE_PROJECT),
            ),
            ("role", "viewer"),
            ("days", "30"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let html = res.text().await.unwrap();
    let at = html.find("class=\"secret\">").expect("the secret") + "class=\"secret\">".len();
    html[at..at + html[at..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn ckan_drafts_are_seen_by_members_only_when_asked() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = reqwest::Client::new();

        // Anonymous: no draft anywhere, even when asked for.
        let r = ok(
            &app,
            &anon,
            "package_search",
            "include_drafts=true&include_private=true&rows=100",
        )
        .await;
        assert!(!search_names(&r).contains(DRAFT));
        let (status, body) = get(&app, &anon, "package_show", &format!("id={DRAFT}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
        let outsider = signed_in(&app, OUTSIDER).await;
        let r = ok(&app, &outsider, "package_search", "include_drafts=true").await;
        assert!(!search_names(&r).contains(DRAFT));

        // Amina, signed in: not by default (as CKAN), then with include_drafts.
        let amina = signed_in(&app, AMINA).await;
        let r = ok(&app, &amina, "package_search", "").await;
        assert!(!search_names(&r).contains(DRAFT));
        let r = ok(&app, &amina, "package_search", "include_drafts=true").await;
        assert!(search_names(&r).contains(DRAFT), "{}", r["count"]);
        assert_eq!(r["count"], 5);
        let d = ok(&app, &amina, "package_show", &format!("id={DRAFT}")).await;
        assert_eq!(d["state"], "draft");
        // package_list stays public, as in CKAN.
        let list = ok(&app, &amina, "package_list", "").await;
        assert_eq!(list, json!(PUBLIC));

        // With an API token, as a bearer token and as CKAN clients send their API key.
        let token = api_token(&app, &amina).await;
        let res = reqwest::Client::new()
            .post(app.url("/api/3/action/package_search"))
            .bearer_auth(&token)
            .json(&json!({"include_drafts": true, "q": "brouillon"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let body: Value = res.json().await.unwrap();
        assert!(search_names(&body["result"]).contains(DRAFT), "{body}");
        let res = reqwest::Client::new()
            .get(app.url(&format!("/api/3/action/package_show?id={DRAFT}")))
            .header("authorization", &token)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        app.stop().await;
    }
}

#[tokio::test]
async fn ckan_datastore_search_reads_tabular_resources() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = reqwest::Client::new();
        let p = ok(&app, &anon, "package_show", "id=registre-points-eau").await;
        let csv_id = p["resources"][0]["id"].as_str().unwrap().to_owned();
        let pdf_id = p["resources"][1]["id"].as_str().unwrap().to_owned();
        let q = |extra: &str| format!("resource_id={csv_id}{extra}");

        // Everything, the HXL row skipped: the register has 7 water points.
        let all = ok(&app, &anon, "datastore_search", &q("")).await;
        assert_eq!(all["resource_id"], csv_id);
        assert_eq!(all["total"], 7, "{all}");
        assert_eq!(all["limit"], 100);
        assert_eq!(all["fields"][0], json!({"id": "_id", "type": "int"}));
        let ids: Vec<&str> = all["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["id"].as_str().unwrap())
            .collect();
        assert_eq!(
            ids,
            [
                "_id",
                "code",
                "nom",
                "type",
                "province",
                "etat",
                "derniere_visite",
                "latitude",
                "longitude"
            ]
        );
        let lat = all["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id"] == "latitude")
            .unwrap();
        assert_eq!(lat["type"], "numeric");
        let records = all["records"].as_array().unwrap();
        assert!(records
            .iter()
            .all(|r| !r["code"].as_str().unwrap().starts_with('#')));
        assert_eq!(records[0]["_id"], 1);
        assert_eq!(records[0]["code"], "PE-ND-001");
        assert!(records[0]["latitude"].is_f64());
        assert!(all["_links"]["next"]
            .as_str()
            .unwrap()
            .contains("offset=100"));

        // Filters, a list of values, q, sort, limit and offset.
        let f = ok(
            &app,
            &anon,
            "datastore_search",
            &q("&filters=%7B%22etat%22%3A%22en%20panne%22%7D"),
        )
        .await;
        let broken = f["total"].as_u64().unwrap();
        assert!(broken >= 1);
        assert!(f["records"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["etat"] == "en panne"));
        let f = ok(
            &app,
            &anon,
            "datastore_search",
            &q("&filters=%7B%22code%22%3A%5B%22PE-ND-001%22%2C%22PE-ND-002%22%5D%7D"),
        )
        .await;
        assert_eq!(f["total"], 2);
        let t = ok(&app, &anon, "datastore_search", &q("&q=panne")).await;
        assert_eq!(t["total"].as_u64().unwrap(), broken);
        let t = ok(&app, &anon, "datastore_search", &q("&q=gassi")).await;
        assert_eq!(t["total"], 1);
        assert_eq!(t["records"][0]["nom"], "Forage de Gassi");
        let sorted = ok(
            &app,
            &anon,
            "datastore_search",
            &q("&sort=code%20desc&limit=2&offset=1"),
        )
        .await;
        let codes: Vec<&str> = sorted["records"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        let mut every: Vec<&str> = records
            .iter()
            .map(|r| r["code"].as_str().unwrap())
            .collect();
        every.sort();
        every.reverse();
        assert_eq!(codes, every[1..3]);
        assert_eq!(sorted["total"], 7);
        let some = ok(
            &app,
            &anon,
            "datastore_search",
            &q("&fields=code,etat&limit=1"),
        )
        .await;
        assert_eq!(some["records"][0].as_object().unwrap().len(), 2);
        assert_eq!(some["fields"].as_array().unwrap().len(), 2);

        // POST, as ckanapi sends it.
        let (status, body) = post_json(
            &app,
            "/api/3/action/datastore_search",
            json!({"resource_id": csv_id, "filters": {"province": "TD-ND"}, "limit": 1}),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["result"]["records"].as_array().unwrap().len(), 1);
        assert_eq!(body["result"]["records"][0]["province"], "TD-ND");

        // The released table is tabular too.
        let rel = ok(&app, &anon, "package_show", "id=points-eau-menages-2026").await;
        let rel_id = rel["resources"][0]["id"].as_str().unwrap();
        let t = ok(
            &app,
            &anon,
            "datastore_search",
            &format!("resource_id={rel_id}&limit=5"),
        )
        .await;
        assert!(t["total"].as_u64().unwrap() > 0);
        assert!(t["records"].as_array().unwrap().len() <= 5);

        // Errors: a PDF, an unknown resource, an unknown column, no resource_id.
        let (status, body) = get(
            &app,
            &anon,
            "datastore_search",
            &format!("resource_id={pdf_id}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert_eq!(body["error"]["__type"], "Not Found Error");
        assert!(body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("was not found"));
        let (status, _) = get(&app, &anon, "datastore_search", "resource_id=nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, body) = get(&app, &anon, "datastore_search", &q("&sort=colour")).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["__type"], "Validation Error");
        let (status, body) = get(&app, &anon, "datastore_search", "").await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert_eq!(body["error"]["resource_id"], json!(["Missing value"]));

        // The draft's resource stays hidden from anonymous readers.
        let amina = signed_in(&app, AMINA).await;
        let d = ok(&app, &amina, "package_show", &format!("id={DRAFT}")).await;
        let draft_res = d["resources"][0]["id"].as_str().unwrap();
        let (status, _) = get(
            &app,
            &anon,
            "datastore_search",
            &format!("resource_id={draft_res}"),
        )
        .await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let (status, _) = get(&app, &anon, "resource_show", &format!("id={draft_res}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let t = ok(
            &app,
            &amina,
            "datastore_search",
            &format!("resource_id={draft_res}"),
        )
        .await;
        assert_eq!(t["total"], 2);

        app.stop().await;
    }
}
