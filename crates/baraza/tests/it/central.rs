//! ODK Central's API as pyodk speaks it (sessions, projects, forms, submissions, the OData
//! feed), with its access rules and hostile input, on both backends.

use crate::common::*;
use reqwest::{Client, StatusCode};
use serde_json::Value;
use std::collections::HashSet;

async fn pid_of(app: &TestApp) -> i64 {
    let org = app
        .core
        .store()
        .org_by_slug(baraza::demo::ORG_SLUG)
        .await
        .unwrap()
        .unwrap();
    app.core
        .store()
        .project_by_slug(org.id, baraza::demo::PRIVATE_PROJECT)
        .await
        .unwrap()
        .unwrap()
        .id
        .0
}

async fn get_json(c: &Client, url: &str, token: &str) -> (StatusCode, Value) {
    let res = c.get(url).bearer_auth(token).send().await.unwrap();
    let status = res.status();
    let body = res.json().await.unwrap_or(Value::Null);
    (status, body)
}

async fn form_version(app: &TestApp) -> String {
    let amina = app
        .core
        .store()
        .user_by_email(AMINA)
        .await
        .unwrap()
        .unwrap();
    let p = app.core.cli_principal(amina.id).await.unwrap();
    let access = app
        .core
        .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
        .await
        .unwrap();
    app.core
        .form(&access, "points_eau")
        .await
        .unwrap()
        .1
        .version
}

fn demo_xml(i: usize, version: &str) -> String {
    use rand::SeedableRng;
    baraza::demo::submission(i, &mut rand::rngs::StdRng::seed_from_u64(i as u64), version)
}

fn instance_id(xml: &str) -> String {
    let start = xml.find("<instanceID>").unwrap() + "<instanceID>".len();
    let end = xml.find("</instanceID>").unwrap();
    xml[start..end].to_owned()
}

/// Every row of an OData table, following `@odata.nextLink`.
async fn all_rows(c: &Client, first: &str, token: &str) -> Vec<Value> {
    let mut rows = Vec::new();
    let mut url = first.to_owned();
    for _ in 0..1000 {
        let (status, body) = get_json(c, &url, token).await;
        assert_eq!(status, StatusCode::OK, "{url}: {body}");
        rows.extend(body["value"].as_array().unwrap().iter().cloned());
        match body["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return rows,
        }
    }
    panic!("nextLink never ends");
}

#[tokio::test]
async fn pyodk_reads_projects_forms_and_the_feed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = Client::new();
        let pid = pid_of(&app).await;
        let v1 = |p: &str| app.url(&format!("/v1{p}"));

        // A session, as pyodk opens it.
        let res = c
            .post(v1("/sessions"))
            .json(&serde_json::json!({"email": CLAIRE, "password": "demo-claire-2026"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let s: Value = res.json().await.unwrap();
        for k in ["token", "csrf", "expiresAt", "createdAt"] {
            assert!(s[k].is_string(), "{k}: {s}");
        }
        assert_eq!(s["createdAt"], "2026-09-21T14:13:20.000Z");
        let claire = s["token"].as_str().unwrap().to_owned();
        let res = c
            .post(v1("/sessions"))
            .json(&serde_json::json!({"email": CLAIRE, "password": "wrong-password-x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            error_code(res).await.1,
            "invalid_credentials",
            "a wrong password"
        );

        let (status, me) = get_json(&c, &v1("/users/current"), &claire).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            (me["email"].as_str(), me["type"].as_str()),
            (Some(CLAIRE), Some("user"))
        );

        // Projects: only the caller's.
        let (_, projects) = get_json(&c, &v1("/projects"), &claire).await;
        let ids: Vec<i64> = projects
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        // The survey's project, and the demo's citizen reports.
        assert_eq!(ids.len(), 3, "{projects}");
        assert!(ids.contains(&pid));
        let outsider = api_session(&app, OUTSIDER).await;
        let (_, none) = get_json(&c, &v1("/projects"), &outsider).await;
        assert_eq!(
            none,
            Value::Array(vec![]),
            "the public project is not theirs"
        );
        let (_, p) = get_json(&c, &v1(&format!("/projects/{pid}")), &claire).await;
        assert_eq!(p["id"], pid);
        assert_eq!(p["archived"], false);

        // Forms.
        let forms_url = v1(&format!("/projects/{pid}/forms"));
        let (_, forms) = get_json(&c, &forms_url, &claire).await;
        let f = &forms[0];
        assert_eq!(f["xmlFormId"], "points_eau");
        assert_eq!(f["projectId"], pid);
        assert_eq!(f["state"], "open");
        assert!(f["publishedAt"].is_string(), "{f}");
        assert_eq!(f["hash"].as_str().unwrap().len(), 32);
        assert!(f["enketoId"].is_null() && f["keyId"].is_null());
        let (_, one) = get_json(&c, &format!("{forms_url}/points_eau"), &claire).await;
        assert_eq!(one["version"], f["version"]);
        let xform = c
            .get(format!("{forms_url}/points_eau.xml"))
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(xform.contains("<h:html") && xform.contains("points_eau"));
        let (_, versions) =
            get_json(&c, &format!("{forms_url}/points_eau/versions"), &claire).await;
        assert_eq!(versions.as_array().unwrap().len(), 1);

        // Submissions, Central's JSON list: all 300, by an app user (negative actor id).
        let subs_url = format!("{forms_url}/points_eau/submissions");
        let (status, subs) = get_json(&c, &subs_url, &claire).await;
        assert_eq!(status, StatusCode::OK);
        let subs = subs.as_array().unwrap().clone();
        assert_eq!(subs.len(), baraza::demo::SUBMISSIONS);
        assert!(subs.iter().all(|s| s["submitterId"].as_i64().unwrap() < 0));
        let first_id = subs[0]["instanceId"].as_str().unwrap().to_owned();
        let (_, one) = get_json(&c, &format!("{subs_url}/{first_id}"), &claire).await;
        assert_eq!(one["instanceId"], first_id.as_str());
        assert_eq!(one["currentVersion"]["instanceId"], first_id.as_str());
        assert!(one["currentVersion"]["instanceName"].is_string());
        let (_, atts) = get_json(&c, &format!("{subs_url}/{first_id}/attachments"), &claire).await;
        assert_eq!(atts, Value::Array(vec![]));
        let xml = c
            .get(format!("{subs_url}/{first_id}.xml"))
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(xml.contains(&format!("<instanceID>{first_id}</instanceID>")));

        // The OData feed.
        let svc = format!("{forms_url}/points_eau.svc");
        let (_, doc) = get_json(&c, &svc, &claire).await;
        let sets: Vec<&str> = doc["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["name"].as_str().unwrap())
            .collect();
        assert_eq!(sets, ["Submissions", "Submissions.menage.enfant"]);
        assert_eq!(doc["@odata.context"], format!("{}/$metadata", svc).as_str());
        let edmx = c
            .get(format!("{svc}/$metadata"))
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap();
        assert!(edmx.headers()["content-type"]
            .to_str()
            .unwrap()
            .contains("xml"));
        let edmx = edmx.text().await.unwrap();
        let doc = roxmltree::Document::parse(&edmx).expect("EDMX is XML");
        assert!(doc.descendants().any(|n| n.has_tag_name("Property")
            && n.attribute("Name") == Some("temps_trajet")
            && n.attribute("Type") == Some("Edm.Int64")));

        // Paging: $top with @odata.nextLink ($skiptoken), $count; every submission once.
        let (_, page) = get_json(
            &c,
            &format!("{svc}/Submissions?$top=40&$count=true"),
            &claire,
        )
        .await;
        assert_eq!(page["value"].as_array().unwrap().len(), 40);
        assert_eq!(page["@odata.count"], 300);
        assert!(page["@odata.nextLink"]
            .as_str()
            .unwrap()
            .contains("%24skiptoken="));
        let rows = all_rows(&c, &format!("{svc}/Submissions?$top=40"), &claire).await;
        assert_eq!(rows.len(), 300);
        let ids: HashSet<&str> = rows.iter().map(|r| r["__id"].as_str().unwrap()).collect();
        assert_eq!(ids.len(), 300);
        let rest_ids: HashSet<&str> = subs
            .iter()
            .map(|s| s["instanceId"].as_str().unwrap())
            .collect();
        assert_eq!(ids, rest_ids);
        let (_, tail) =
            get_json(&c, &format!("{svc}/Submissions?$skip=295&$top=10"), &claire).await;
        assert_eq!(tail["value"].as_array().unwrap().len(), 5);
        assert!(tail.get("@odata.nextLink").is_none());
        let (_, all) = get_json(&c, &format!("{svc}/Submissions"), &claire).await;
        assert_eq!(
            all["value"].as_array().unwrap().len(),
            300,
            "no $top: everything"
        );

        // Values match what was submitted.
        let row = rows
            .iter()
            .find(|r| r["__id"] == first_id.as_str())
            .unwrap();
        let quartier = row["localisation"]["quartier"].as_str().unwrap();
        assert!(xml.contains(&format!("<quartier>{quartier}</quartier>")));
        let minutes = row["point"]["temps_trajet"].as_i64().unwrap();
        assert!(xml.contains(&format!("<temps_trajet>{minutes}</temps_trajet>")));
        assert_eq!(row["localisation"]["gps"]["type"], "Point");
        assert_eq!(
            row["__system"]["submitterName"],
            "Fatimé Haroun — téléphone 1"
        );
        assert_eq!(row["__system"]["reviewState"], Value::Null);
        assert_eq!(row["__system"]["formVersion"], f["version"]);

        // The repeat table: one row per child, linked to its submission.
        let children: i64 = rows
            .iter()
            .map(|r| r["menage"]["nb_enfants"].as_i64().unwrap())
            .sum();
        let (_, enfants) = get_json(
            &c,
            &format!("{svc}/Submissions.menage.enfant?$count=true"),
            &claire,
        )
        .await;
        assert_eq!(enfants["@odata.count"], children);
        let enfants = enfants["value"].as_array().unwrap();
        assert_eq!(enfants.len() as i64, children);
        assert!(enfants
            .iter()
            .all(|e| ids.contains(e["__Submissions-id"].as_str().unwrap())
                && e["__id"].as_str().unwrap().len() == 40));
        let paged = all_rows(
            &c,
            &format!("{svc}/Submissions.menage.enfant?$top=25"),
            &claire,
        )
        .await;
        assert_eq!(paged.len() as i64, children);
        // One submission, and the path below it.
        let with_children = rows
            .iter()
            .find(|r| r["menage"]["nb_enfants"].as_i64().unwrap() > 1)
            .unwrap();
        let wid = with_children["__id"].as_str().unwrap();
        let link = with_children["menage"]["enfant@odata.navigationLink"]
            .as_str()
            .unwrap();
        let (_, nested) = get_json(&c, &format!("{svc}/{link}"), &claire).await;
        assert_eq!(
            nested["value"].as_array().unwrap().len() as i64,
            with_children["menage"]["nb_enfants"].as_i64().unwrap()
        );
        let (_, single) = get_json(&c, &format!("{svc}/Submissions('{wid}')"), &claire).await;
        assert_eq!(single["value"][0]["__id"], wid);

        // $expand=*, $select, $wkt.
        let (_, expanded) = get_json(
            &c,
            &format!("{svc}/Submissions('{wid}')?$expand=*"),
            &claire,
        )
        .await;
        assert_eq!(
            expanded["value"][0]["menage"]["enfant"]
                .as_array()
                .unwrap()
                .len() as i64,
            with_children["menage"]["nb_enfants"].as_i64().unwrap()
        );
        let (_, selected) = get_json(
            &c,
            &format!(
                "{svc}/Submissions?$top=1&$select=__id,localisation/quartier,__system/submitterId"
            ),
            &claire,
        )
        .await;
        let r0 = &selected["value"][0];
        assert_eq!(r0["localisation"].as_object().unwrap().len(), 1, "{r0}");
        assert_eq!(r0["__system"].as_object().unwrap().len(), 1, "{r0}");
        assert!(r0.get("point").is_none());
        let (_, wkt) = get_json(&c, &format!("{svc}/Submissions?$top=1&$wkt=true"), &claire).await;
        assert!(wkt["value"][0]["localisation"]["gps"]
            .as_str()
            .unwrap()
            .starts_with("POINT ("));

        // Compressed (as Python's requests asks): the stream ends cleanly.
        for url in [format!("{svc}/Submissions"), subs_url.clone()] {
            let res = c
                .get(&url)
                .bearer_auth(&claire)
                .header("accept-encoding", "gzip")
                .send()
                .await
                .unwrap();
            assert_eq!(res.headers()["content-encoding"], "gzip");
            let zipped = res.bytes().await.expect("the whole body");
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(&zipped[..]),
                &mut text,
            )
            .expect("complete gzip");
            let v: Value = serde_json::from_str(&text).expect("complete JSON");
            let n = v.get("value").unwrap_or(&v).as_array().unwrap().len();
            assert_eq!(n, 300, "{url}");
        }

        // Excel and Power BI sign in with Basic credentials.
        let res = c
            .get(format!("{svc}/Submissions?$top=1"))
            .basic_auth(IDRISS, Some("demo-idriss-2026"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // Signing out ends the session.
        let res = c
            .delete(v1("/sessions/current"))
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let (status, _) = get_json(&c, &v1("/users/current"), &claire).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        app.stop().await;
    }
}

#[tokio::test]
async fn submissions_are_created_from_xml_and_filtered_by_date() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = Client::new();
        let pid = pid_of(&app).await;
        let version = form_version(&app).await;
        let forms_url = app.url(&format!("/v1/projects/{pid}/forms"));
        let subs_url = format!("{forms_url}/points_eau/submissions");
        let svc = format!("{forms_url}/points_eau.svc");
        let fatime = api_session(&app, FATIME).await;
        let claire = api_session(&app, CLAIRE).await;

        // Ten days after the demo's submissions, Fatimé sends one through the API.
        app.clock.advance(10 * 86_400);
        let xml = demo_xml(5_000, &version);
        let id = instance_id(&xml);
        let post = |token: &str, body: String| {
            c.post(&subs_url)
                .bearer_auth(token)
                .header("content-type", "application/xml")
                .body(body)
                .send()
        };
        let res = post(&fatime, xml.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let created: Value = res.json().await.unwrap();
        assert_eq!(created["instanceId"], id.as_str());
        let fatime_id = app
            .core
            .store()
            .user_by_email(FATIME)
            .await
            .unwrap()
            .unwrap()
            .id
            .0;
        assert_eq!(created["submitterId"], fatime_id);
        assert_eq!(created["createdAt"], "2026-10-01T14:13:20.000Z");
        // A replay changes nothing and says so, as Central does; other bytes are a conflict.
        let res = post(&fatime, xml.clone()).await.unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "submission_exists")
        );
        let res = post(&fatime, xml.replace("<prix>", "<prix>1"))
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "submission_conflict");
        // The body must be this form's.
        let res = c
            .post(format!("{forms_url}/other_form/submissions"))
            .bearer_auth(&fatime)
            .body(demo_xml(5_001, &version))
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "submission_invalid")
        );
        assert!(message.contains("other_form"), "{message}");
        // Hostile bodies.
        for (body, what) in [
            (
                "<!DOCTYPE d [<!ENTITY a \"aaaa\">]><data id=\"points_eau\">&a;</data>".to_owned(),
                "DTD",
            ),
            ("not xml".to_owned(), "garbage"),
            (xml.replace("</data>", ""), "truncated"),
        ] {
            let res = post(&fatime, body).await.unwrap();
            assert_eq!(error_code(res).await.1, "submission_invalid", "{what}");
        }
        let big = format!("{}{}", xml, " ".repeat(11 * 1024 * 1024));
        let res = post(&fatime, big).await.unwrap();
        assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let (_, subs) = get_json(&c, &subs_url, &claire).await;
        assert_eq!(
            subs.as_array().unwrap().len(),
            301,
            "one more, nothing half-stored"
        );

        // Filters on the submission date (and the others Central offers).
        let count = |filter: String| {
            let c = c.clone();
            let url = format!("{svc}/Submissions");
            let token = claire.clone();
            async move {
                let res = c
                    .get(url)
                    .query(&[
                        ("$filter", filter.as_str()),
                        ("$count", "true"),
                        ("$top", "0"),
                    ])
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let body: Value = res.json().await.unwrap();
                assert_eq!(status, StatusCode::OK, "{filter}: {body}");
                body["@odata.count"].as_i64().unwrap()
            }
        };
        assert_eq!(
            count("__system/submissionDate ge 2026-09-25".into()).await,
            1
        );
        assert_eq!(
            count("__system/submissionDate lt 2026-09-25T00:00:00Z".into()).await,
            300
        );
        assert_eq!(
            count("__system/submissionDate ge 2026-10-01T16:13:20+02:00".into()).await,
            1
        );
        assert_eq!(
            count("__system/submissionDate gt 2026-10-01T16:13:20+02:00".into()).await,
            0
        );
        assert_eq!(
            count("__system/submissionDate gt 2026-10-01T16:13:19.5+02:00".into()).await,
            1
        );
        assert_eq!(
            count(format!("__system/submitterId eq '{fatime_id}'")).await,
            1
        );
        assert_eq!(
            count(format!("not (__system/submitterId eq {fatime_id})")).await,
            300
        );
        // The demo's reviewer approved 10 records, rejected one, flagged one.
        assert_eq!(count("__system/reviewState eq null".into()).await, 289);
        assert_eq!(
            count("__system/reviewState ne 'approved'".into()).await,
            291
        );
        assert_eq!(count("__system/reviewState eq 'hasIssues'".into()).await, 1);
        assert_eq!(
            count("__system/updatedAt eq null and __system/submitterId lt 0".into()).await,
            300
        );
        assert_eq!(
            count(format!(
                "__id eq '{id}' or __system/submissionDate lt 2000-01-01"
            ))
            .await,
            1
        );
        let res = c
            .get(format!("{svc}/Submissions"))
            .query(&[("$filter", "__system/submissionDate ge 2026-09-25")])
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap();
        let body: Value = res.json().await.unwrap();
        assert_eq!(body["value"][0]["__id"], id.as_str());
        assert_eq!(
            body["value"][0]["__system"]["submissionDate"],
            "2026-10-01T14:13:20.000Z"
        );

        // Unsupported and invalid queries are refused clearly.
        for (query, status, code) in [
            ("$filter=year(__system/submissionDate) eq 2026", 501, "odata_unsupported"),
            ("$filter=localisation/quartier eq 'Farcha'", 501, "odata_unsupported"),
            ("$orderby=__id", 501, "odata_unsupported"),
            ("$expand=menage/enfant", 501, "odata_unsupported"),
            ("$filter=__system/submissionDate ge", 400, "odata_invalid"),
            ("$filter=__system/submissionDate ge 2026-02-30", 400, "odata_invalid"),
            ("$top=-1", 400, "odata_invalid"),
            ("$top=ten", 400, "odata_invalid"),
            ("$select=nope", 400, "odata_invalid"),
            ("$skiptoken=v1.x", 400, "odata_invalid"),
            ("$filter=(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((true)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))", 400, "odata_invalid"),
        ] {
            let res = c
                .get(format!("{svc}/Submissions?{}", query.replace(' ', "%20")))
                .bearer_auth(&claire)
                .send()
                .await
                .unwrap();
            let (s, code_got, message) = error_code(res).await;
            assert_eq!((s.as_u16(), code_got.as_str()), (status, code), "{query}: {message}");
        }
        for path in [
            "Nope",
            "Submissions.menage",
            "Submissions('uuid:nope')",
            "Submissions('x')/nope",
        ] {
            let res = c
                .get(format!("{svc}/{path}"))
                .bearer_auth(&claire)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::NOT_FOUND, "{path}");
        }
        let res = c
            .get(format!("{forms_url}/points_eau.svc.svc/Submissions"))
            .bearer_auth(&claire)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        // A form that does not accept submissions refuses them.
        let amina = app
            .core
            .store()
            .user_by_email(AMINA)
            .await
            .unwrap()
            .unwrap();
        let p = app.core.cli_principal(amina.id).await.unwrap();
        let access = app
            .core
            .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        app.core
            .set_form_state(&access, "points_eau", baraza_store::FormState::Closed)
            .await
            .unwrap();
        let res = post(&fatime, demo_xml(5_002, &version)).await.unwrap();
        assert_eq!(error_code(res).await.1, "form_not_open");
        let (_, forms) = get_json(&c, &forms_url, &claire).await;
        assert_eq!(forms[0]["state"], "closed");
        app.stop().await;
    }
}

#[tokio::test]
async fn the_api_follows_roles_and_tokens() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = Client::new();
        let pid = pid_of(&app).await;
        let version = form_version(&app).await;
        let forms_url = app.url(&format!("/v1/projects/{pid}/forms"));
        let subs_url = format!("{forms_url}/points_eau/submissions");
        let svc = format!("{forms_url}/points_eau.svc/Submissions?$top=1");
        let status = |url: String, token: String| {
            let c = c.clone();
            async move { c.get(url).bearer_auth(token).send().await.unwrap().status() }
        };
        // A viewer sees forms, not data; an analyst reads data and may submit; a collector
        // submits and reads only what she sent (none of the demo's records); an outsider does
        // not see the project.
        let moussa = api_session(&app, MOUSSA).await;
        let idriss = api_session(&app, IDRISS).await;
        let fatime = api_session(&app, FATIME).await;
        let outsider = api_session(&app, OUTSIDER).await;
        assert_eq!(
            status(forms_url.clone(), moussa.clone()).await,
            StatusCode::OK
        );
        for url in [subs_url.clone(), svc.clone()] {
            assert_eq!(
                status(url.clone(), moussa.clone()).await,
                StatusCode::FORBIDDEN,
                "{url}"
            );
            let res = reqwest::Client::new()
                .get(&url)
                .bearer_auth(&fatime)
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::OK, "{url}");
            let body: serde_json::Value = res.json().await.unwrap();
            let rows = body.get("value").unwrap_or(&body);
            assert_eq!(rows, &serde_json::json!([]), "{url}");
            assert_eq!(
                status(url.clone(), idriss.clone()).await,
                StatusCode::OK,
                "{url}"
            );
            assert_eq!(
                status(url.clone(), outsider.clone()).await,
                StatusCode::NOT_FOUND,
                "{url}"
            );
        }
        for (i, token, want) in [
            (6_000, &moussa, StatusCode::FORBIDDEN),
            (6_001, &outsider, StatusCode::NOT_FOUND),
            (6_002, &idriss, StatusCode::OK),
            (6_003, &fatime, StatusCode::OK),
        ] {
            let res = c
                .post(&subs_url)
                .bearer_auth(token)
                .body(demo_xml(i, &version))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), want, "{i}");
        }
        // Without credentials, or with a browser's cookie only: 401 with a Basic challenge.
        let res = c.get(&forms_url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        let browser = signed_in(&app, CLAIRE).await;
        let res = browser.get(&forms_url).send().await.unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNAUTHORIZED,
            "cookies do not open /v1"
        );
        // Garbage tokens.
        for bad in ["nope", "bz_nope", &"x".repeat(5000)] {
            let res = c.get(&forms_url).bearer_auth(bad).send().await.unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        // An API token opens its project only, with its role.
        let claire = app
            .core
            .store()
            .user_by_email(CLAIRE)
            .await
            .unwrap()
            .unwrap();
        let p = app.core.cli_principal(claire.id).await.unwrap();
        let access = app
            .core
            .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        let minted = app
            .core
            .create_token(&p, &access, "power bi", baraza_types::Role::Viewer, 30)
            .await
            .unwrap();
        let (_, projects) = get_json(&c, &app.url("/v1/projects"), &minted.secret).await;
        assert_eq!(projects.as_array().unwrap().len(), 1);
        assert_eq!(projects[0]["id"], pid);
        assert_eq!(
            status(svc.clone(), minted.secret.clone()).await,
            StatusCode::FORBIDDEN
        );
        // Sessions: POST /v1/sessions wants JSON; one cannot end someone else's session.
        let res = c
            .post(app.url("/v1/sessions"))
            .form(&[("email", CLAIRE), ("password", "demo-claire-2026")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
        let res = c
            .post(app.url("/v1/sessions"))
            .header("content-type", "application/json")
            .body("{\"email\":1}")
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "invalid_json");
        let res = c
            .delete(app.url(&format!("/v1/sessions/{idriss}")))
            .bearer_auth(&moussa)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            status(subs_url.clone(), idriss.clone()).await,
            StatusCode::OK
        );
        let res = c
            .delete(app.url(&format!("/v1/sessions/{idriss}")))
            .bearer_auth(&idriss)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(
            status(subs_url.clone(), idriss.clone()).await,
            StatusCode::UNAUTHORIZED
        );
        // Sign-in throttling applies to the API too.
        for _ in 0..5 {
            let res = c
                .post(app.url("/v1/sessions"))
                .json(&serde_json::json!({"email": MOUSSA, "password": "guess-guess-guess"}))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = c
            .post(app.url("/v1/sessions"))
            .json(&serde_json::json!({"email": MOUSSA, "password": "demo-moussa-2026"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }
}
