//! API tokens: scoped to one project and a role, expiring, revocable, hashed at rest.

use crate::common::*;
use reqwest::StatusCode;

async fn mint(
    app: &TestApp,
    c: &reqwest::Client,
    project: &str,
    role: &str,
    days: &str,
) -> reqwest::Response {
    let token = csrf(app, c, "/account/tokens").await;
    c.post(app.url("/account/tokens"))
        .header("accept-language", "en")
        .form(&[
            ("_csrf", token.as_str()),
            ("name", "nightly export"),
            ("project", &format!("eau-tchad/{project}")),
            ("role", role),
            ("days", days),
        ])
        .send()
        .await
        .unwrap()
}

fn secret_from(html: &str) -> String {
    let at = html
        .find("class=\"secret\">")
        .expect("the secret is shown once")
        + "class=\"secret\">".len();
    html[at..at + html[at..].find('<').unwrap()].to_owned()
}

#[tokio::test]
async fn token_scope_role_expiry_and_revocation() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let private = baraza::demo::PRIVATE_PROJECT;

        // A role above one's own cannot be given to a token.
        let res = mint(&app, &claire, private, "owner", "30").await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // Out-of-range lifetimes are refused with the reason.
        let res = mint(&app, &claire, private, "viewer", "400").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Claire reads French.
        assert!(res.text().await.unwrap().contains("entre 1 et 365 jours"));

        let res = mint(&app, &claire, private, "viewer", "30").await;
        assert_eq!(res.status(), StatusCode::CREATED);
        let viewer = secret_from(&res.text().await.unwrap());
        assert!(viewer.starts_with("bz_"));
        let res = mint(&app, &claire, private, "manager", "30").await;
        let manager = secret_from(&res.text().await.unwrap());

        // Only a digest is stored.
        let listed = app
            .core
            .store()
            .list_tokens(
                app.core
                    .store()
                    .user_by_email(CLAIRE)
                    .await
                    .unwrap()
                    .unwrap()
                    .id,
            )
            .await
            .unwrap();
        assert_eq!(listed.len(), 2);
        assert!(listed
            .iter()
            .all(|t| t.token.token_hash.len() == 64 && !viewer.contains(&t.token.token_hash)));
        // The list page never shows a secret again.
        let page = claire
            .get(app.url("/account/tokens"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!page.contains(&viewer) && !page.contains(&manager));

        let api = |p: &str| app.url(&format!("/api/v1/projects/eau-tchad/{p}"));
        let bare = reqwest::Client::new();
        let get = |url: String, t: &str| bare.get(url).bearer_auth(t).send();

        // In scope: reads work, and `me` says what the token is limited to.
        assert_eq!(
            get(api(private), &viewer).await.unwrap().status(),
            StatusCode::OK
        );
        let me: serde_json::Value = get(app.url("/api/v1/me"), &viewer)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["auth"], "token");
        assert_eq!(me["token"]["role"], "viewer");
        // The page twins accept tokens too.
        assert_eq!(
            get(app.url(&format!("{}.json", private_project())), &viewer)
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        // Another project: refused, even the public one's members.
        let res = get(
            api(&format!("{}/members", baraza::demo::PUBLIC_PROJECT)),
            &viewer,
        )
        .await
        .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::FORBIDDEN, "token_scope")
        );
        // Listing shows only the token's project.
        let list: serde_json::Value = get(app.url("/api/v1/projects"), &viewer)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(list["projects"].as_array().unwrap().len(), 1);
        // A viewer token cannot manage people; a manager token can, without CSRF (no cookie).
        let body = serde_json::json!({"email": OUTSIDER, "role": "viewer"});
        let res = bare
            .post(api(&format!("{private}/members")))
            .bearer_auth(&viewer)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "token_scope");
        let res = bare
            .post(api(&format!("{private}/members")))
            .bearer_auth(&manager)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // Tokens cannot reach session-only pages (account, minting more tokens).
        let res = bare
            .get(app.url("/account.json"))
            .bearer_auth(&manager)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "token_scope");
        // The token never exceeds the person: demote Claire to viewer, and her manager token
        // can no longer manage.
        let amina = signed_in(&app, AMINA).await;
        let t = csrf(&app, &amina, "/").await;
        let res = amina
            .post(api(&format!("{private}/members")))
            .header("x-csrf-token", &t)
            .json(&serde_json::json!({"email": CLAIRE, "role": "viewer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let res = bare
            .post(api(&format!("{private}/members")))
            .bearer_auth(&manager)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "token_scope");

        // Garbage and unknown tokens.
        for bad in ["bz_unknown", "not-a-token"] {
            let res = get(api(private), bad).await.unwrap();
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::UNAUTHORIZED, "invalid_token")
            );
        }

        // Revocation takes effect at once.
        let id = listed
            .iter()
            .find(|t| t.token.role == baraza_types::Role::Viewer)
            .unwrap()
            .token
            .id;
        let t = csrf(&app, &claire, "/account/tokens").await;
        let res = claire
            .post(app.url(&format!("/account/tokens/{id}/revoke")))
            .form(&[("_csrf", t.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            error_code(get(api(private), &viewer).await.unwrap())
                .await
                .1,
            "invalid_token"
        );
        // Someone else cannot revoke Claire's tokens.
        let t = csrf(&app, &amina, "/account/tokens").await;
        let other = listed
            .iter()
            .find(|t| t.token.role == baraza_types::Role::Manager)
            .unwrap()
            .token
            .id;
        let res = amina
            .post(app.url(&format!("/account/tokens/{other}/revoke")))
            .header("accept", "application/json")
            .form(&[("_csrf", t.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "not_found");

        // Expiry.
        app.clock.advance(31 * 24 * 3600);
        let res = get(app.url("/api/v1/me"), &manager).await.unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "token_expired")
        );
        app.stop().await;
    }
}
