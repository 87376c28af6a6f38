//! The tamper-evident audit log, as people meet it: what is recorded when they sign in, read,
//! export and change things; who may read the log (pages and their `.json`/`.csv` twins); the
//! unusual-exports alert; verification, and tampering caught on both backends.

use crate::common::*;
use baraza_core::audit::{Actor, AuditBroken, Target};
use baraza_store::Backend;
use baraza_types::{ProjectId, UserId};
use reqwest::StatusCode;
use serde_json::Value;

fn audit_path() -> String {
    format!("{}/audit", private_project())
}

async fn entries(app: &TestApp, c: &reqwest::Client, query: &str) -> Vec<Value> {
    let res = c
        .get(app.url(&format!("{}.json{query}", audit_path())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.unwrap();
    body["entries"].as_array().unwrap().clone()
}

fn actions(entries: &[Value]) -> Vec<String> {
    entries
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect()
}

/// Changes entry `seq`'s details behind the application's back, as someone with write access to
/// the database would, switching off the append-only trigger first.
async fn tamper(app: &TestApp, seq: i64) {
    use sqlx::Connection;
    let url = &app.db.as_ref().unwrap().url;
    match app.backend {
        Backend::Sqlite => {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            let refused = sqlx::query("UPDATE audit_log SET details = '{}' WHERE seq = $1")
                .bind(seq)
                .execute(&mut c)
                .await;
            assert!(refused.is_err(), "the trigger refuses changes");
            sqlx::query("DROP TRIGGER audit_log_no_update")
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_log SET details = '{\"role\":\"viewer\"}' WHERE seq = $1")
                .bind(seq)
                .execute(&mut c)
                .await
                .unwrap();
        }
        Backend::Postgres => {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            let refused = sqlx::query("DELETE FROM audit_log WHERE seq = $1")
                .bind(seq)
                .execute(&mut c)
                .await;
            assert!(refused.is_err(), "the trigger refuses deletions");
            sqlx::query("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
                .execute(&mut c)
                .await
                .unwrap();
            sqlx::query("UPDATE audit_log SET details = '{\"role\":\"viewer\"}' WHERE seq = $1")
                .bind(seq)
                .execute(&mut c)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn what_people_do_is_recorded_and_the_log_proves_itself() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let base = private_project();

        // Sign-ins, a failed one, reads and an export.
        let idriss = signed_in(&app, IDRISS).await;
        let failed = try_login(
            &app,
            &browser(),
            "nobody@nowhere.example",
            "wrong-password-1",
        )
        .await;
        assert_eq!(failed.status(), StatusCode::UNAUTHORIZED, "the form again");
        let list = idriss
            .get(app.url(&format!("{base}/forms/points_eau/submissions")))
            .send()
            .await
            .unwrap();
        assert_eq!(list.status(), StatusCode::OK);
        let page: Value = idriss
            .get(app.url(&format!("{base}/forms/points_eau/submissions.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let instance = page["submissions"][0]["instance_id"]
            .as_str()
            .expect("an instance")
            .to_owned();
        let one = idriss
            .get(app.url(&format!("{base}/forms/points_eau/submissions/{instance}")))
            .send()
            .await
            .unwrap();
        assert_eq!(one.status(), StatusCode::OK);
        let csv = idriss
            .get(app.url(&format!("{base}/forms/points_eau/submissions.csv")))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        let _ = csv.bytes().await.unwrap();

        // The manager reads the project's log, newest first.
        let claire = signed_in(&app, CLAIRE).await;
        let all = entries(&app, &claire, "").await;
        let acts = actions(&all);
        for expected in [
            "export.download",
            "data.view",
            "data.list",
            "member.role_set",
            "form.uploaded",
        ] {
            assert!(
                acts.contains(&expected.to_owned()),
                "{expected} in {acts:?}"
            );
        }
        let view = all.iter().find(|e| e["action"] == "data.view").unwrap();
        assert!(view["target"].as_str().unwrap().ends_with(&instance));
        assert_eq!(view["actor_name"], "Idriss Abakar");
        let seqs: Vec<i64> = all.iter().map(|e| e["seq"].as_i64().unwrap()).collect();
        assert!(seqs.windows(2).all(|w| w[0] > w[1]), "newest first");
        // Filters: one kind, one account.
        let exports = entries(&app, &claire, "?kind=export").await;
        assert!(
            !exports.is_empty()
                && exports
                    .iter()
                    .all(|e| e["action"].as_str().unwrap().starts_with("export."))
        );
        let idriss_id = view["actor"]
            .as_str()
            .unwrap()
            .trim_start_matches("user:")
            .to_owned();
        let by_idriss = entries(&app, &claire, &format!("?user={idriss_id}")).await;
        assert!(by_idriss.iter().all(|e| e["actor"] == view["actor"]));
        // The CSV twin and the page.
        let csv = claire
            .get(app.url(&format!("{}.csv", audit_path())))
            .send()
            .await
            .unwrap();
        assert_eq!(csv.status(), StatusCode::OK);
        let text = csv.text().await.unwrap();
        assert!(
            text.starts_with("seq,at,actor,actor_name,action,target,details,hash"),
            "{text}"
        );
        let html = claire
            .get(app.url(&audit_path()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            html.contains("Downloaded an export") || html.contains("A téléchargé un export"),
            "labels"
        );

        // Sign-ins are in the site's log, for administrators; nothing personal is written.
        let admin = signed_in(&app, ADMIN).await;
        let site: Value = admin
            .get(app.url("/-/audit.json?kind=auth"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let site_acts = actions(site["entries"].as_array().unwrap());
        assert!(site_acts.contains(&"auth.sign_in".to_owned()));
        assert!(site_acts.contains(&"auth.sign_in_failed".to_owned()));
        let everything = admin
            .get(app.url("/-/audit.csv"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for secret in [
            "nobody@nowhere.example",
            "wrong-password-1",
            IDRISS,
            "puits",
        ] {
            assert!(
                !everything.contains(secret),
                "{secret} must not be in the audit log"
            );
        }

        // Who may read it: managers and owners of the project, administrators for the site.
        for (who, status) in [
            (IDRISS, StatusCode::FORBIDDEN),
            (FATIME, StatusCode::FORBIDDEN),
            (OUTSIDER, StatusCode::NOT_FOUND),
        ] {
            let c = signed_in(&app, who).await;
            let res = c
                .get(app.url(&format!("{}.json", audit_path())))
                .send()
                .await
                .unwrap();
            assert_eq!(res.status(), status, "{who}");
        }
        assert_eq!(
            claire
                .get(app.url("/-/audit.json"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::FORBIDDEN
        );

        // Verification from the site's page, then through the core; then tampering is caught.
        let csrf = csrf(&app, &admin, "/-/audit").await;
        let verified = admin
            .post(app.url("/-/audit/verify.json"))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(verified.status(), StatusCode::OK);
        let v: Value = verified.json().await.unwrap();
        assert_eq!(v["verification"]["ok"], true, "{v}");
        let ok = app.core.verify_audit(1, None, None).await.expect("intact");
        assert_eq!(ok.signatures_checked, ok.entries);
        let anchor = baraza_protect::chain::parse_anchor(ok.anchor.as_deref().unwrap()).unwrap();
        assert!(app
            .core
            .verify_audit(1000, Some(anchor), None)
            .await
            .is_ok());
        let member_entry = all
            .iter()
            .find(|e| e["action"] == "member.role_set")
            .unwrap()["seq"]
            .as_i64()
            .unwrap();
        tamper(&app, member_entry).await;
        match app.core.verify_audit(1000, None, None).await {
            Err(AuditBroken::Chain(baraza_protect::chain::Break::Content { seq })) => {
                assert_eq!(seq as i64, member_entry)
            }
            other => panic!("expected a changed entry, got {other:?}"),
        }
        let csrf = csrf_from(
            &admin
                .get(app.url("/-/audit"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
        let v: Value = admin
            .post(app.url("/-/audit/verify.json"))
            .form(&[("_csrf", csrf.as_str())])
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["verification"]["ok"], false);
        assert!(v["verification"]["error"]
            .as_str()
            .unwrap()
            .contains(&format!("entry {member_entry} was changed")));
        app.stop().await;
    }
}

#[tokio::test]
async fn a_log_checked_in_parts_catches_a_change_at_the_seam() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let batch = (0..40)
            .map(|i| {
                (
                    Actor::User(UserId(1 + i % 3)),
                    "data.view".to_owned(),
                    Target::submission(ProjectId(1), "points_eau", &format!("uuid:{i}")),
                    serde_json::json!({ "i": i }),
                )
            })
            .collect();
        app.core.audit_many(batch).await.unwrap();
        let whole = app
            .core
            .verify_audit_in_parts(7, None, None, 1)
            .await
            .unwrap();
        for parts in [2, 3, 4] {
            let v = app
                .core
                .verify_audit_in_parts(7, None, None, parts)
                .await
                .unwrap();
            assert_eq!(v, whole, "{parts} parts");
        }
        // The entry the second of three parts starts from, which the first part checks.
        let head = whole.entries as i64;
        let seam = head / 3;
        tamper(&app, seam).await;
        for parts in [1, 3] {
            match app
                .core
                .verify_audit_in_parts(1000, None, None, parts)
                .await
            {
                Err(AuditBroken::Chain(baraza_protect::chain::Break::Content { seq })) => {
                    assert_eq!(seq as i64, seam, "{parts} parts")
                }
                other => panic!("expected entry {seam} changed, got {other:?}"),
            }
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn an_account_exporting_far_more_than_usual_raises_an_alert() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let idriss = signed_in(&app, IDRISS).await;
    let url = app.url(&format!(
        "{}/forms/points_eau/submissions.csv",
        private_project()
    ));
    for _ in 0..baraza_core::audit::ALERT_MIN_EXPORTS {
        let res = idriss.get(&url).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let _ = res.bytes().await.unwrap();
    }
    let claire = signed_in(&app, CLAIRE).await;
    let page: Value = claire
        .get(app.url(&format!("{}.json", audit_path())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(page["alerts"].as_array().unwrap().is_empty(), "not yet");
    let res = idriss.get(&url).send().await.unwrap();
    let _ = res.bytes().await.unwrap();
    let page: Value = claire
        .get(app.url(&format!("{}.json", audit_path())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alerts = page["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{page}");
    assert_eq!(alerts[0]["action"], "alert.unusual_exports");
    assert_eq!(
        alerts[0]["details"]["exports_last_24h"],
        baraza_core::audit::ALERT_MIN_EXPORTS + 1
    );
    // Raised once, not at every export after.
    let res = idriss.get(&url).send().await.unwrap();
    let _ = res.bytes().await.unwrap();
    let again = entries(&app, &claire, "?kind=alert").await;
    assert_eq!(again.len(), 1);
    app.stop().await;
}

#[tokio::test]
async fn a_key_file_that_did_not_sign_the_log_is_refused_at_start() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let key_file = app.data_dir.join("audit.key");
    assert!(key_file.exists(), "created at first start");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by Baraza only");
    }
    let url = app.db.as_ref().unwrap().url.clone();
    let data_dir = app.data_dir.clone();
    let other_key = data_dir.join("other.key");
    std::fs::write(&other_key, hex::encode([9u8; 32])).unwrap();
    let settings = baraza::config::Settings::load(
        &baraza::config::Overrides {
            config: None,
            values: vec![
                ("data_dir", data_dir.display().to_string()),
                ("database_url", url),
                ("listen", "127.0.0.1:0".to_owned()),
                ("audit_key_file", other_key.display().to_string()),
            ],
            defaults: vec![],
        },
        &|_| None,
    )
    .unwrap();
    let err = match baraza::Application::build(&settings).await {
        Ok(_) => panic!("a second key must be refused"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        err.contains("is not the key that signs this database's audit log"),
        "{err}"
    );
    assert!(
        !err.contains(&hex::encode([9u8; 32])),
        "the secret is not printed"
    );
    app.stop().await;
}
