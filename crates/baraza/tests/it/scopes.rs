//! Row-level scopes on every read path: each GET route of `baraza_web::routes()` that reads a
//! project (pages, their twins, exports, ODK Central's API and OData feed, the JSON API), for
//! every kind of person, with three records of which each person may see some. A record a person
//! may not see must never show in any answer (its sentinel text is searched for in every body,
//! inside zip and xlsx downloads too), and the lists must show the records they may see, so that
//! the test fails if scoping hides too little or too much.

use crate::common::*;
use axum::http::Method;
use baraza_core::forms::Submitter;
use baraza_web::{routes, Guard};
use reqwest::{Client, StatusCode};
use std::io::Read;

/// The three records: instanceID, who sends it, province, sentinel (their `quartier`, a
/// question that is not personal, so analysts see it).
const RECORDS: [(&str, &str, &str, &str); 3] = [
    ("uuid:scope-fatime-ndj", FATIME, "ndjamena", "QZFATIMENDJ"),
    ("uuid:scope-amina-oua", AMINA, "ouaddai", "QZAMINAOUA"),
    ("uuid:scope-amina-ndj", AMINA, "ndjamena", "QZAMINANDJ"),
];

/// One of the demo survey's submissions, made ours.
fn record(i: usize, instance_id: &str, province: &str, sentinel: &str) -> String {
    let xml = baraza::demo::submission(
        800_000 + i,
        &mut <rand::rngs::StdRng as rand::SeedableRng>::seed_from_u64(i as u64),
        "2026011",
    );
    let replace = |xml: &str, tag: &str, value: &str| {
        let open = format!("<{tag}>");
        let close = format!("</{tag}>");
        let a = xml.find(&open).expect(tag) + open.len();
        let b = a + xml[a..].find(&close).expect(tag);
        format!("{}{value}{}", &xml[..a], &xml[b..])
    };
    let commune = if province == "ouaddai" {
        "abeche"
    } else {
        "arr7"
    };
    let xml = replace(&xml, "province", province);
    let xml = replace(&xml, "commune", commune);
    let xml = replace(&xml, "quartier", sentinel);
    let xml = replace(&xml, "instanceName", sentinel);
    replace(&xml, "instanceID", instance_id)
}

/// A response's body as text; zip archives (CSV zip, XLSX) unpacked, every member's text
/// joined.
async fn body_text(res: reqwest::Response) -> String {
    let bytes = res.bytes().await.unwrap();
    if bytes.starts_with(b"PK\x03\x04") {
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes.to_vec())).expect("zip");
        let mut out = String::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            let mut buf = Vec::new();
            f.read_to_end(&mut buf).unwrap();
            out.push_str(&String::from_utf8_lossy(&buf));
        }
        return out;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// Every GET of the private project that a read can go through, with its placeholders filled:
/// `{instance}` routes once per record, the OData feed's documents and entities.
fn read_paths(pid: i64) -> Vec<(String, Guard)> {
    let mut out = Vec::new();
    for route in routes() {
        if route.method != Method::GET
            || !(route.path.contains("{project}") || route.path.contains("{pid}"))
            // A draft, a public link and a form's own files need one made first and hold no
            // record (tests/it/webform.rs, collect.rs).
            || route.path.contains("{draft}")
            || route.path.contains("{token}")
            || route.path.contains("{name}")
        {
            continue;
        }
        let base = route
            .path
            .replace("{org}", "eau-tchad")
            .replace("{project}", baraza::demo::PRIVATE_PROJECT)
            .replace("{pid}", &pid.to_string())
            .replace("{id}", "1");
        let mut paths = Vec::new();
        if base.contains("{*odata}") {
            let svc = base.replace("{form}", "points_eau.svc");
            paths.push(svc.replace("{*odata}", "Submissions"));
            paths.push(svc.replace("{*odata}", "Submissions?$count=true"));
            for (id, ..) in RECORDS {
                paths.push(svc.replace("{*odata}", &format!("Submissions('{id}')")));
            }
        } else if base.contains("{instance}") {
            for (id, ..) in RECORDS {
                paths.push(
                    base.replace("{form}", "points_eau")
                        .replace("{instance}", id),
                );
            }
        } else {
            paths.push(base.replace("{form}", "points_eau"));
        }
        for p in paths {
            out.push((p, route.guard));
        }
    }
    out
}

/// What one person may see: the sentinels of their records.
async fn walk(app: &TestApp, pid: i64, email: Option<&str>, visible: &[&str]) -> usize {
    let client = match email {
        Some(e) => signed_in(app, e).await,
        None => browser(),
    };
    let bearer = match email {
        Some(e) => Some(api_session(app, e).await),
        None => None,
    };
    let hidden: Vec<&str> = RECORDS
        .iter()
        .map(|r| r.3)
        .filter(|s| !visible.contains(s))
        .collect();
    let mut walked = 0;
    for (path, guard) in read_paths(pid) {
        let twins: Vec<String> = if path.starts_with("/orgs/") && !path.contains("/submissions.") {
            vec![path.clone(), format!("{path}.json")]
        } else {
            vec![path.clone()]
        };
        for path in twins {
            let req = client.get(app.url(&path));
            let req = match (&bearer, guard) {
                (Some(b), Guard::Account(_) | Guard::ApiUser) => req.bearer_auth(b),
                _ => req,
            };
            let res = req.header("accept-language", "en").send().await.unwrap();
            let status = res.status();
            let body = body_text(res).await;
            let who = email.unwrap_or("anonymous");
            assert!(!status.is_server_error(), "{path} as {who}: {status}");
            for s in &hidden {
                assert!(
                    !body.contains(s),
                    "{path} as {who} ({status}) shows {s}, a record they may not see"
                );
            }
            // A record's own addresses: open for its readers, absent for the others.
            if let Some((.., sentinel)) = RECORDS.iter().find(|r| path.contains(r.0)) {
                if hidden.contains(sentinel) {
                    assert!(
                        !status.is_success(),
                        "{path} as {who}: {status} for a record they may not see"
                    );
                }
            }
            walked += 1;
        }
    }
    // The lists show every record the person may see.
    let project = private_project();
    for list in [
        format!("{project}/forms/points_eau/submissions.json"),
        format!("{project}/forms/points_eau/submissions.csv.zip"),
        format!("{project}/forms/points_eau/submissions.xlsx"),
        format!(
            "/api/v1/projects/eau-tchad/{}/forms/points_eau/submissions",
            baraza::demo::PRIVATE_PROJECT
        ),
        format!("/v1/projects/{pid}/forms/points_eau.svc/Submissions"),
    ] {
        if visible.is_empty() {
            break;
        }
        let mut req = client.get(app.url(&list));
        if list.starts_with("/v1/") {
            req = req.bearer_auth(bearer.as_deref().unwrap());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK, "{list} as {email:?}");
        let body = body_text(res).await;
        for s in visible {
            assert!(body.contains(s), "{list} as {email:?} lacks {s}");
        }
    }
    walked
}

/// The account id of a demo person.
async fn user_id(app: &TestApp, email: &str) -> baraza_types::UserId {
    app.core
        .store()
        .user_by_email(email)
        .await
        .unwrap()
        .expect("a demo account")
        .id
}

async fn set_scope(app: &TestApp, manager: &Client, user: &str, field: &str, values: &str) {
    let id = user_id(app, user).await;
    let people = format!("{}/people", private_project());
    let token = csrf(app, manager, &people).await;
    let res = manager
        .post(app.url(&format!("{people}/{}/scope", id.0)))
        .form(&[
            ("_csrf", token.as_str()),
            ("scope_field", field),
            ("scope_values", values),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "scope of {user}");
}

#[tokio::test]
async fn every_read_path_shows_each_person_only_their_records() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, _, access) = owner_access(&app.core).await;
        let pid = access.project.id;
        for (i, (id, sender, province, sentinel)) in RECORDS.into_iter().enumerate() {
            let user = user_id(&app, sender).await;
            app.core
                .ingest_submission(
                    pid,
                    Submitter::User(user),
                    record(i, id, province, sentinel).as_bytes(),
                    &[],
                )
                .await
                .expect("record");
        }
        let all = ["QZFATIMENDJ", "QZAMINAOUA", "QZAMINANDJ"];
        let mut walked = 0;
        for (email, visible) in [
            (Some(AMINA), &all[..]),
            (Some(CLAIRE), &all[..]),
            (Some(IDRISS), &all[..]),
            // A collector reads only what they sent.
            (Some(FATIME), &["QZFATIMENDJ"][..]),
            (Some(MOUSSA), &[][..]),
            (Some(OUTSIDER), &[][..]),
            (None, &[][..]),
        ] {
            walked += walk(&app, pid.0, email, visible).await;
        }

        // A manager limits the analyst to one province, and the collector too: she then sees
        // nothing (her one record is in the other province).
        let claire = signed_in(&app, CLAIRE).await;
        set_scope(&app, &claire, IDRISS, "province", "ouaddai").await;
        set_scope(&app, &claire, FATIME, "province", "ouaddai, lac").await;
        walked += walk(&app, pid.0, Some(IDRISS), &["QZAMINAOUA"]).await;
        walked += walk(&app, pid.0, Some(FATIME), &[]).await;
        // Lifted, the analyst sees everything again.
        set_scope(&app, &claire, IDRISS, "", "").await;
        walked += walk(&app, pid.0, Some(IDRISS), &all).await;
        assert!(walked > 300, "walked {walked} path × person combinations");
        app.stop().await;
    }
}

#[tokio::test]
async fn scopes_are_checked_and_recorded() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let people = format!("{}/people", private_project());
        let idriss = user_id(&app, IDRISS).await;
        let amina = user_id(&app, AMINA).await;
        for (user, field, values, code_field) in [
            // No form has such a question, or it is personal (the GPS), or in a repeat.
            (idriss, "nowhere", "x", "scope_field"),
            (idriss, "gps", "x", "scope_field"),
            (idriss, "age_mois", "3", "scope_field"),
            (idriss, "province", " , ", "scope_values"),
            (idriss, "province", "a\u{7}b", "scope_values"),
            // Managers and owners read every record.
            (amina, "province", "ouaddai", "scope_field"),
        ] {
            let token = csrf(&app, &claire, &people).await;
            let res = claire
                .post(app.url(&format!("{people}/{}/scope", user.0)))
                .header("accept", "application/json")
                .form(&[
                    ("_csrf", token.as_str()),
                    ("scope_field", field),
                    ("scope_values", values),
                ])
                .send()
                .await
                .unwrap();
            let (status, code, message) = error_code(res).await;
            assert_eq!(
                status,
                StatusCode::UNPROCESSABLE_ENTITY,
                "{field} {values:?}"
            );
            assert_eq!(code, "validation_failed", "{field}");
            assert!(message.contains(code_field), "{field}: {message}");
        }
        // Nothing was stored by the refusals; a good scope is, shown on the people page and
        // recorded in the audit log; an analyst cannot set one.
        let (_, _, access) = owner_access(&app.core).await;
        let members = app
            .core
            .store()
            .list_members(access.project.id)
            .await
            .unwrap();
        assert!(members.iter().all(|m| m.scope.is_none()));
        let token = csrf(&app, &claire, &people).await;
        let res = claire
            .post(app.url(&format!("{people}/{}/scope", idriss.0)))
            .form(&[
                ("_csrf", token.as_str()),
                ("scope_field", "province"),
                ("scope_values", "ouaddai,ndjamena"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page: serde_json::Value = claire
            .get(app.url(&format!("{people}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let m = page["members"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["user_id"] == idriss.0)
            .unwrap();
        assert_eq!(m["scope"]["field"], "province");
        assert_eq!(
            m["scope"]["values"],
            serde_json::json!(["ouaddai", "ndjamena"])
        );
        let audit: serde_json::Value = claire
            .get(app.url(&format!("{}/audit.json", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            audit.to_string().contains("member.scope_set"),
            "the audit log records the scope"
        );
        let analyst = signed_in(&app, IDRISS).await;
        let token = csrf(&app, &analyst, &format!("{}/forms", private_project())).await;
        let res = analyst
            .post(app.url(&format!("{people}/{}/scope", idriss.0)))
            .header("accept", "application/json")
            .form(&[("_csrf", token.as_str()), ("scope_field", "")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        app.stop().await;
    }
}
