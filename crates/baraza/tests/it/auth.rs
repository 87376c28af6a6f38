//! Signing in and out, throttling, CSRF, sessions, passwords, languages.

use crate::common::*;
use reqwest::StatusCode;

#[tokio::test]
async fn login_success_and_failure() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = browser();

        // Wrong password: the form again, 401, the message in the person's language.
        let res = try_login(&app, &c, AMINA, "not-the-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let html = res.text().await.unwrap();
        assert!(
            html.contains("The e-mail address or the password is wrong."),
            "{html}"
        );
        assert!(
            html.contains(AMINA),
            "the e-mail address is kept in the form"
        );

        // Unknown account: the same answer.
        let res = try_login(&app, &c, "nobody@example.org", "whatever-password").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // Right password: a session cookie, HttpOnly and SameSite, and back to `next`.
        let token = csrf(&app, &c, "/login").await;
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("_csrf", token.as_str()),
                ("email", "Amina@Eau-Tchad.example"),
                ("password", "demo-amina-2026"),
                ("next", "/orgs/eau-tchad"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/orgs/eau-tchad");
        let cookies: Vec<_> = res
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect();
        let session = cookies
            .iter()
            .find(|c| c.starts_with("baraza_session="))
            .expect("session cookie");
        assert!(
            session.contains("HttpOnly") && session.contains("SameSite=Lax"),
            "{session}"
        );
        assert!(!session.contains("Secure"), "no Secure flag without https");

        // Signed in: the private project is readable, the account page too.
        let res = c.get(app.url(&private_project())).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let me: serde_json::Value = c
            .get(app.url("/api/v1/me"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(me["user"]["email"], AMINA);
        assert_eq!(me["auth"], "session");

        // Logout ends the session on the server, not just in the browser.
        let old_cookie = session.split(';').next().unwrap().to_owned();
        let token = csrf(&app, &c, "/").await;
        let res = c
            .post(app.url("/logout"))
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let replay = browser()
            .get(app.url("/api/v1/me"))
            .header("cookie", old_cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);

        // `next` never leads off the site.
        let token = csrf(&app, &c, "/login").await;
        let res = c
            .post(app.url("/login"))
            .form(&[
                ("_csrf", token.as_str()),
                ("email", AMINA),
                ("password", "demo-amina-2026"),
                ("next", "//evil.example/x"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["location"], "/");
        app.stop().await;
    }
}

#[tokio::test]
async fn throttling_per_account_and_per_address() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("login_max_failures_per_address", "8")]).await;
        let c = browser();
        for _ in 0..5 {
            let res = try_login(&app, &browser(), CLAIRE, "wrong-password-x").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        // The account is locked: even the right password is refused, with Retry-After.
        let res = try_login(&app, &c, CLAIRE, "demo-claire-2026").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));
        assert!(res
            .text()
            .await
            .unwrap()
            .contains("Too many failed attempts"));
        // Other accounts are not locked by it...
        let res = try_login(&app, &browser(), IDRISS, "demo-idriss-2026").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // ...until the address itself has failed too often (5 + 3 = 8 failures).
        for _ in 0..3 {
            let res = try_login(&app, &c, FATIME, "wrong-password-y").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = try_login(&app, &c, MOUSSA, "demo-moussa-2026").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        // The JSON answer carries the error envelope.
        let token = csrf(&app, &c, "/login").await;
        let res = c
            .post(app.url("/login.json"))
            .form(&[
                ("_csrf", token.as_str()),
                ("email", MOUSSA),
                ("password", "demo-moussa-2026"),
            ])
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts")
        );
        // After the window, all is forgiven.
        app.clock.advance(16 * 60);
        let res = try_login(&app, &c, CLAIRE, "demo-claire-2026").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        app.stop().await;
    }
}

#[tokio::test]
async fn csrf_is_required_on_every_form() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = signed_in(&app, CLAIRE).await;
        let people = format!("{}/people", private_project());
        let good = csrf(&app, &c, &people).await;

        // No token, a wrong token, another session's token: all refused, nothing changed.
        let other = signed_in(&app, AMINA).await;
        let others_token = csrf(&app, &other, &people).await;
        for token in ["", "nope", others_token.as_str()] {
            let res = c
                .post(app.url(&people))
                .header("accept", "application/json")
                .form(&[("_csrf", token), ("email", OUTSIDER), ("role", "viewer")])
                .send()
                .await
                .unwrap();
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::FORBIDDEN, "csrf_failed"),
                "token {token:?}"
            );
        }
        // A cross-site origin is refused even with the right token.
        let res = c
            .post(app.url(&people))
            .header("origin", "https://evil.example")
            .header("accept", "application/json")
            .form(&[
                ("_csrf", good.as_str()),
                ("email", OUTSIDER),
                ("role", "viewer"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "csrf_failed");
        let members = app
            .core
            .store()
            .list_members(project_id(&app).await)
            .await
            .unwrap();
        assert!(members.iter().all(|m| m.email != OUTSIDER));

        // The sign-in form needs the anonymous token too (login CSRF).
        let anon = browser();
        let res = anon
            .post(app.url("/login"))
            .form(&[("email", AMINA), ("password", "demo-amina-2026")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // The right token, same origin: done.
        let res = c
            .post(app.url(&people))
            .header("origin", app.base.as_str())
            .form(&[
                ("_csrf", good.as_str()),
                ("email", OUTSIDER),
                ("role", "viewer"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let members = app
            .core
            .store()
            .list_members(project_id(&app).await)
            .await
            .unwrap();
        assert!(members.iter().any(|m| m.email == OUTSIDER));
        app.stop().await;
    }
}

pub async fn project_id(app: &TestApp) -> baraza_types::ProjectId {
    let org = app
        .core
        .store()
        .org_by_slug("eau-tchad")
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
}

#[tokio::test]
async fn sessions_expire_and_password_change_ends_other_sessions() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let laptop = signed_in(&app, IDRISS).await;
        let phone = signed_in(&app, IDRISS).await;

        // Wrong current password: the form again, with the reason.
        let token = csrf(&app, &laptop, "/account").await;
        let res = laptop
            .post(app.url("/account/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("current", "wrong"),
                ("new", "a-new-long-password"),
                ("confirm", "a-new-long-password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // Too short.
        let res = laptop
            .post(app.url("/account/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("current", "demo-idriss-2026"),
                ("new", "short"),
                ("confirm", "short"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // Idriss chose French: the reason comes in French.
        assert!(res.text().await.unwrap().contains("au moins 10 caractères"));
        // Good.
        let res = laptop
            .post(app.url("/account/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("current", "demo-idriss-2026"),
                ("new", "a-new-long-password"),
                ("confirm", "a-new-long-password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            laptop
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        assert_eq!(
            phone
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        let res = try_login(&app, &browser(), IDRISS, "a-new-long-password").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Idle sessions expire; use slides the expiry.
        app.clock.advance(13 * 24 * 3600);
        assert_eq!(
            laptop
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        app.clock.advance(13 * 24 * 3600);
        assert_eq!(
            laptop
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::OK
        );
        app.clock.advance(15 * 24 * 3600);
        assert_eq!(
            laptop
                .get(app.url("/api/v1/me"))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::UNAUTHORIZED
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn language_follows_the_browser_and_the_switch_sticks() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let c = browser();
        let fr = c
            .get(app.url("/"))
            .header("accept-language", "fr-TD,fr;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(fr.contains("<html lang=\"fr\">") && fr.contains("Projets publics"));
        let en = c
            .get(app.url("/"))
            .header("accept-language", "en-KE,en;q=0.9")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(en.contains("<html lang=\"en\">") && en.contains("Public projects"));

        // The switch: a form, no JavaScript; a cookie keeps the choice over Accept-Language.
        let token = csrf_from(&en);
        let res = c
            .post(app.url("/-/lang"))
            .form(&[("_csrf", token.as_str()), ("lang", "fr"), ("next", "/orgs")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], "/orgs");
        let page = c
            .get(app.url("/orgs"))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<html lang=\"fr\">"), "{page}");

        // Errors too speak the person's language.
        let res = c.get(app.url("/no/such/page.json")).send().await.unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::NOT_FOUND, "not_found")
        );
        assert!(message.contains("Il n’y a rien ici"), "{message}");

        // A signed-in person's choice is saved and comes back at the next sign-in.
        let s = signed_in(&app, CLAIRE).await;
        let token = csrf(&app, &s, "/account").await;
        s.post(app.url("/-/lang"))
            .form(&[("_csrf", token.as_str()), ("lang", "en")])
            .send()
            .await
            .unwrap();
        let user = app
            .core
            .store()
            .user_by_email(CLAIRE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(user.locale.as_deref(), Some("en"));
        let fresh = browser();
        try_login(&app, &fresh, CLAIRE, "demo-claire-2026").await;
        let page = fresh
            .get(app.url("/account"))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains("<html lang=\"en\">"));
        app.stop().await;
    }
}
