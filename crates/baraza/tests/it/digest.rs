//! HTTP Digest sign-in (RFC 7616) on the OpenRosa endpoints, as ODK Collect uses it over plain
//! HTTP: only for accounts that allowed it, kept in step with the password, stale nonces, and
//! never a key to the rest of the API. The answers are computed here with the `md-5` and `sha2`
//! crates, independently of the server's code.

use crate::common::*;
use md5::{Digest, Md5};
use reqwest::multipart::{Form, Part};
use reqwest::{Client, Response, StatusCode};
use sha2::Sha256;

fn h(alg: &str, text: &str) -> String {
    match alg {
        "MD5" => format!("{:x}", Md5::digest(text.as_bytes())),
        _ => format!("{:x}", Sha256::digest(text.as_bytes())),
    }
}

/// The `Authorization` header a Digest client sends.
fn answer(alg: &str, user: &str, password: &str, method: &str, uri: &str, nonce: &str) -> String {
    let cnonce = "0a4f113b";
    let nc = "00000001";
    let ha1 = h(alg, &format!("{user}:Baraza:{password}"));
    let ha2 = h(alg, &format!("{method}:{uri}"));
    let response = h(alg, &format!("{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"));
    format!(
        "Digest username=\"{user}\", realm=\"Baraza\", nonce=\"{nonce}\", uri=\"{uri}\", \
         algorithm={alg}, response=\"{response}\", qop=auth, nc={nc}, cnonce=\"{cnonce}\""
    )
}

fn challenges(res: &Response) -> Vec<String> {
    res.headers()
        .get_all("www-authenticate")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect()
}

fn nonce_of(challenge: &str) -> String {
    let start = challenge.find("nonce=\"").expect("a nonce") + 7;
    let end = challenge[start..].find('"').unwrap();
    challenge[start..start + end].to_owned()
}

struct Collect<'a> {
    app: &'a TestApp,
    http: Client,
    pid: i64,
}

impl Collect<'_> {
    fn path(&self, p: &str) -> String {
        format!("/v1/projects/{}{p}", self.pid)
    }

    /// A fresh nonce, from the challenge of an unauthenticated request.
    async fn nonce(&self) -> String {
        let res = self
            .http
            .get(self.app.url(&self.path("/formList")))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        nonce_of(&challenges(&res)[1])
    }

    async fn get(&self, path: &str, alg: &str, user: &str, password: &str) -> Response {
        let nonce = self.nonce().await;
        self.get_with(path, &answer(alg, user, password, "GET", path, &nonce))
            .await
    }

    async fn get_with(&self, path: &str, authorization: &str) -> Response {
        self.http
            .get(self.app.url(path))
            .header("X-OpenRosa-Version", "1.0")
            .header("authorization", authorization)
            .send()
            .await
            .unwrap()
    }
}

async fn set_digest(app: &TestApp, c: &Client, action: &str, password: &str) -> reqwest::Response {
    let token = csrf(app, c, "/account").await;
    c.post(app.url("/account/digest"))
        .header("accept-language", "en")
        .form(&[
            ("_csrf", token.as_str()),
            ("action", action),
            ("password", password),
        ])
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn collect_signs_in_with_digest_only_when_allowed() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let org = app
            .core
            .store()
            .org_by_slug("eau-tchad")
            .await
            .unwrap()
            .unwrap();
        let pid = app
            .core
            .store()
            .project_by_slug(org.id, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap()
            .unwrap()
            .id
            .0;
        let phone = Collect {
            app: &app,
            http: Client::new(),
            pid,
        };
        let form_list = phone.path("/formList");

        // The challenge: Basic first (Collect uses it over HTTPS), then Digest, MD5 and SHA-256.
        let res = phone
            .http
            .get(app.url(&form_list))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        let ch = challenges(&res);
        assert_eq!(ch.len(), 3, "{ch:?}");
        assert!(ch[0].starts_with("Basic realm=\"Baraza\""));
        assert!(ch[1].starts_with("Digest realm=\"Baraza\"") && ch[1].contains("algorithm=MD5"));
        assert!(ch[2].contains("algorithm=SHA-256") && ch[2].contains("qop=\"auth\""));
        assert_eq!(nonce_of(&ch[1]), nonce_of(&ch[2]));

        // Not allowed yet: Fatimé's right password over Digest is refused.
        let res = phone
            .get(&form_list, "MD5", FATIME, "demo-fatime-2026")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // She allows it on her account page, confirming with her password.
        let fatime = signed_in(&app, FATIME).await;
        let res = set_digest(&app, &fatime, "enable", "wrong-password-1").await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        let fatime_id = app
            .core
            .store()
            .user_by_email(FATIME)
            .await
            .unwrap()
            .unwrap()
            .id;
        assert!(app
            .core
            .store()
            .digest_credentials(fatime_id)
            .await
            .unwrap()
            .is_none());
        let res = set_digest(&app, &fatime, "enable", "demo-fatime-2026").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let page: serde_json::Value = fatime
            .get(app.url("/account.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["digest_enabled"], true);
        let (md5, sha256) = app
            .core
            .store()
            .digest_credentials(fatime_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            md5,
            h("MD5", "fatime@eau-tchad.example:Baraza:demo-fatime-2026")
        );
        assert_eq!(sha256.len(), 64);

        // Now Collect signs in over Digest, MD5 or SHA-256: form list, HEAD, POST.
        for alg in ["MD5", "SHA-256"] {
            let res = phone.get(&form_list, alg, FATIME, "demo-fatime-2026").await;
            assert_eq!(res.status(), StatusCode::OK, "{alg}");
            assert!(res.text().await.unwrap().contains("points_eau"));
        }
        let submission = phone.path("/submission");
        let nonce = phone.nonce().await;
        let res = phone
            .http
            .head(app.url(&submission))
            .header("X-OpenRosa-Version", "1.0")
            .header(
                "authorization",
                answer(
                    "MD5",
                    FATIME,
                    "demo-fatime-2026",
                    "HEAD",
                    &submission,
                    &nonce,
                ),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NO_CONTENT);
        let version = {
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
                .project_access(&p, "eau-tchad", baraza::demo::PRIVATE_PROJECT)
                .await
                .unwrap();
            app.core
                .form(&access, "points_eau")
                .await
                .unwrap()
                .1
                .version
        };
        use rand::SeedableRng;
        let xml =
            baraza::demo::submission(7_000, &mut rand::rngs::StdRng::seed_from_u64(7), &version);
        let res = phone
            .http
            .post(app.url(&submission))
            .header("X-OpenRosa-Version", "1.0")
            .header(
                "authorization",
                answer(
                    "SHA-256",
                    FATIME,
                    "demo-fatime-2026",
                    "POST",
                    &submission,
                    &nonce,
                ),
            )
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.into_bytes()).file_name("s.xml"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // The XForm download is OpenRosa too.
        let xform = phone.path("/forms/points_eau.xml");
        assert_eq!(
            phone
                .get(&xform, "MD5", FATIME, "demo-fatime-2026")
                .await
                .status(),
            StatusCode::OK
        );

        // Refused: a wrong password, an answer for another address, a forged nonce, the address
        // not in lower case, an unknown realm.
        let nonce = phone.nonce().await;
        for auth in [
            answer("MD5", FATIME, "wrong-password-1", "GET", &form_list, &nonce),
            answer(
                "MD5",
                FATIME,
                "demo-fatime-2026",
                "GET",
                "/v1/projects/1/other",
                &nonce,
            ),
            answer(
                "MD5",
                FATIME,
                "demo-fatime-2026",
                "GET",
                &form_list,
                "5f5e100-00000000000000000000000000000000",
            ),
            answer(
                "MD5",
                "Fatime@eau-tchad.example",
                "demo-fatime-2026",
                "GET",
                &form_list,
                &nonce,
            ),
            answer("MD5", FATIME, "demo-fatime-2026", "GET", &form_list, &nonce)
                .replace("realm=\"Baraza\"", "realm=\"Other\""),
            answer("MD5", FATIME, "demo-fatime-2026", "GET", &form_list, &nonce)
                .replace("qop=auth", "qop=auth-int"),
            "Digest garbage".to_owned(),
        ] {
            let res = phone.get_with(&form_list, &auth).await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{auth}");
        }

        // Digest opens OpenRosa only: not Central's JSON API, the feed, nor the pages.
        for path in [
            phone.path("/forms"),
            phone.path("/forms/points_eau"),
            phone.path("/forms/points_eau.svc/Submissions"),
        ] {
            let res = phone.get(&path, "MD5", FATIME, "demo-fatime-2026").await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "{path}");
            assert!(
                challenges(&res).iter().all(|c| c.starts_with("Basic")),
                "{path}"
            );
        }

        // A stale nonce: the answer says so, and a fresh one works.
        let nonce = phone.nonce().await;
        app.clock.advance(301);
        let res = phone
            .get_with(
                &form_list,
                &answer("MD5", FATIME, "demo-fatime-2026", "GET", &form_list, &nonce),
            )
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(
            challenges(&res)[1].contains("stale=true"),
            "{:?}",
            challenges(&res)
        );
        let res = phone
            .get(&form_list, "MD5", FATIME, "demo-fatime-2026")
            .await;
        assert_eq!(res.status(), StatusCode::OK);

        // A new password replaces the digests at once; so does an administrator's reset.
        let token = csrf(&app, &fatime, "/account").await;
        let res = fatime
            .post(app.url("/account/password"))
            .form(&[
                ("_csrf", token.as_str()),
                ("current", "demo-fatime-2026"),
                ("new", "new-fatime-password"),
                ("confirm", "new-fatime-password"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let old = phone
            .get(&form_list, "MD5", FATIME, "demo-fatime-2026")
            .await;
        assert_eq!(old.status(), StatusCode::UNAUTHORIZED);
        let new = phone
            .get(&form_list, "SHA-256", FATIME, "new-fatime-password")
            .await;
        assert_eq!(new.status(), StatusCode::OK);
        app.core
            .reset_password(FATIME, "reset-fatime-password")
            .await
            .unwrap();
        let reset = phone
            .get(&form_list, "MD5", FATIME, "reset-fatime-password")
            .await;
        assert_eq!(reset.status(), StatusCode::OK);

        // Withdrawn: the digests are deleted and Digest is refused again.
        let fatime = browser();
        assert_eq!(
            try_login(&app, &fatime, FATIME, "reset-fatime-password")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        let res = set_digest(&app, &fatime, "disable", "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(app
            .core
            .store()
            .digest_credentials(fatime_id)
            .await
            .unwrap()
            .is_none());
        let res = phone
            .get(&form_list, "MD5", FATIME, "reset-fatime-password")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);

        // Guessing over Digest is throttled like any sign-in.
        let moussa = signed_in(&app, MOUSSA).await;
        assert_eq!(
            set_digest(&app, &moussa, "enable", "demo-moussa-2026")
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        for _ in 0..5 {
            let res = phone
                .get(&form_list, "MD5", MOUSSA, "guess-guess-guess")
                .await;
            assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        }
        let res = phone
            .get(&form_list, "MD5", MOUSSA, "demo-moussa-2026")
            .await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        app.stop().await;
    }
}
