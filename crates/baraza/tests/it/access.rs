//! The table-driven access test: every route of `baraza_web::routes()`, for every kind of
//! person, on a private and a public project, must answer as its declared guard says.

use crate::common::*;
use axum::http::Method;
use baraza_types::{Permission, Role};
use baraza_web::{routes, Guard};
use reqwest::{Client, StatusCode};

#[derive(Debug, Clone, Copy, PartialEq)]
enum Who {
    Anonymous,
    Outsider,
    Admin,
    Member(Role),
}

struct Person {
    who: Who,
    email: Option<&'static str>,
}

const PEOPLE: &[Person] = &[
    Person {
        who: Who::Anonymous,
        email: None,
    },
    Person {
        who: Who::Outsider,
        email: Some(OUTSIDER),
    },
    Person {
        who: Who::Admin,
        email: Some(ADMIN),
    },
    Person {
        who: Who::Member(Role::Viewer),
        email: Some(MOUSSA),
    },
    Person {
        who: Who::Member(Role::Collector),
        email: Some(FATIME),
    },
    Person {
        who: Who::Member(Role::Analyst),
        email: Some(IDRISS),
    },
    Person {
        who: Who::Member(Role::Manager),
        email: Some(CLAIRE),
    },
    // Amina owns the organisation, so she is owner of its projects.
    Person {
        who: Who::Member(Role::Owner),
        email: Some(AMINA),
    },
];

/// What a route must answer.
#[derive(Debug, PartialEq)]
enum Expect {
    Allowed,
    Unauthenticated,
    Forbidden,
    Hidden,
    /// Refused for a bad app-user token (whoever is signed in in the browser).
    BadToken,
}

fn expect(guard: Guard, who: Who, public: bool) -> Expect {
    use Expect::*;
    match (guard, who) {
        (Guard::Public, _) => Allowed,
        (Guard::AppUser, _) => BadToken,
        (Guard::ApiUser | Guard::Account(_), Who::Anonymous) => Unauthenticated,
        (Guard::ApiUser, _) => Allowed,
        // `{pid}` is the private project.
        (Guard::Account(p), Who::Member(r)) => {
            if r.grants(p) {
                Allowed
            } else {
                Forbidden
            }
        }
        (Guard::Account(_), Who::Outsider | Who::Admin) => Hidden,
        (_, Who::Anonymous) => {
            if guard == Guard::Project(Permission::ViewProject) && public {
                Allowed
            } else {
                Unauthenticated
            }
        }
        (Guard::SignedIn | Guard::Session, _) => Allowed,
        (Guard::Admin, Who::Admin) => Allowed,
        (Guard::Admin, _) => Forbidden,
        (Guard::OrgOwner, Who::Admin | Who::Member(Role::Owner)) => Allowed,
        (Guard::OrgOwner, _) => Forbidden,
        (Guard::Project(p), Who::Member(r)) => {
            if r.grants(p) {
                Allowed
            } else {
                Forbidden
            }
        }
        (Guard::Project(p), Who::Outsider | Who::Admin) => {
            if public && p == Permission::ViewProject {
                Allowed
            } else if public {
                Forbidden
            } else {
                Hidden
            }
        }
    }
}

fn concrete(path: &str, project: &str) -> String {
    path.replace("{org}", "eau-tchad")
        .replace("{project}", project)
        // Ids that do not exist: a write that gets through the guard touches nothing.
        .replace("{user}", "999999")
        .replace("{id}", "999999")
        .replace("{form}", "no_such_form")
        .replace("{token}", "not-a-token")
        .replace("{pid}", "1")
}

/// Whether a 404's message says the project is unknown or private (people whose account is in
/// French read it in French).
fn hidden_project(message: &str) -> bool {
    message.contains("no such project") || message.contains("projet inexistant")
}

async fn session_csrf(app: &TestApp, c: &Client) -> String {
    csrf(app, c, "/").await
}

#[tokio::test]
async fn every_route_enforces_its_guard() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let table = routes();
        let mut checked = 0;
        for person in PEOPLE {
            let client = match person.email {
                Some(e) => signed_in(&app, e).await,
                None => browser(),
            };
            let token = session_csrf(&app, &client).await;
            // The `/v1` API reads credentials from the `Authorization` header only: a session
            // opened through `POST /v1/sessions`, as pyodk does.
            let bearer = match person.email {
                Some(e) => Some(api_session(&app, e).await),
                None => None,
            };
            // Every (route, project) pair; sign-out ends the session, so it comes last.
            let mut pairs = Vec::new();
            for (project, public) in [
                (baraza::demo::PRIVATE_PROJECT, false),
                (baraza::demo::PUBLIC_PROJECT, true),
            ] {
                for route in &table {
                    // Routes without a project are walked once.
                    if public && !route.path.contains("{project}") {
                        continue;
                    }
                    pairs.push((route, project, public));
                }
            }
            pairs.sort_by_key(|(r, _, _)| r.path == "/logout");
            for (route, project, public) in pairs {
                let path = concrete(route.path, project);
                let url = app.url(&path);
                let req = match route.method {
                    Method::GET => client.get(&url),
                    Method::POST if path.starts_with("/api/") => client
                        .post(&url)
                        .header("x-csrf-token", &token)
                        .header("content-type", "application/json")
                        .body("{}"),
                    Method::POST => client.post(&url).form(&[("_csrf", token.as_str())]),
                    Method::DELETE => client.delete(&url).header("x-csrf-token", &token),
                    Method::HEAD => client.head(&url),
                    ref m => panic!("no request for method {m}"),
                };
                let req = match (&bearer, route.guard) {
                    (Some(b), Guard::Account(_) | Guard::ApiUser) => req.bearer_auth(b),
                    _ => req,
                };
                let res = req
                    .header("accept", "application/json")
                    .header("accept-language", "en")
                    .send()
                    .await
                    .unwrap();
                let status = res.status();
                let want = expect(route.guard, person.who, public);
                let ctx = format!(
                    "{} {} as {:?} ({:?}): {status}",
                    route.method, path, person.who, route.guard
                );
                let (code, message) = if status.is_client_error() || status.is_server_error() {
                    let body: serde_json::Value = res.json().await.unwrap_or_default();
                    (
                        body["error"]["code"].as_str().unwrap_or("").to_owned(),
                        body["error"]["message"].as_str().unwrap_or("").to_owned(),
                    )
                } else {
                    Default::default()
                };
                assert!(!status.is_server_error(), "{ctx}");
                match want {
                    Expect::Allowed => {
                        assert!(
                            !matches!(
                                code.as_str(),
                                "unauthenticated" | "forbidden" | "token_scope" | "csrf_failed"
                            ),
                            "{ctx}: refused ({code}) but should be allowed"
                        );
                        assert!(
                            !(code == "not_found" && hidden_project(&message)),
                            "{ctx}: hidden but should be allowed"
                        );
                    }
                    Expect::Unauthenticated if route.method == Method::HEAD => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ctx}")
                    }
                    Expect::Unauthenticated => assert_eq!(code, "unauthenticated", "{ctx}"),
                    Expect::BadToken if route.method == Method::HEAD => {
                        assert_eq!(status, StatusCode::UNAUTHORIZED, "{ctx}")
                    }
                    Expect::BadToken => assert_eq!(code, "invalid_token", "{ctx}"),
                    Expect::Forbidden if route.method == Method::HEAD => {
                        assert_eq!(status, StatusCode::FORBIDDEN, "{ctx}")
                    }
                    Expect::Forbidden => assert_eq!(code, "forbidden", "{ctx}"),
                    Expect::Hidden if route.method == Method::HEAD => {
                        assert_eq!(status, StatusCode::NOT_FOUND, "{ctx}")
                    }
                    Expect::Hidden => {
                        assert_eq!(code, "not_found", "{ctx}");
                        assert!(hidden_project(&message), "{ctx}: {message}");
                    }
                }
                checked += 1;
            }
        }
        assert!(
            checked > 200,
            "walked {checked} route × person combinations"
        );
        app.stop().await;
    }
}

#[tokio::test]
async fn managers_cannot_make_owners_and_projects_keep_one() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let api = |path: &str| {
            app.url(&format!(
                "/api/v1/projects/eau-tchad/{}{path}",
                baraza::demo::PRIVATE_PROJECT
            ))
        };
        let claire = signed_in(&app, CLAIRE).await;
        let token = csrf(&app, &claire, "/").await;
        // A manager adds an analyst...
        let res = claire
            .post(api("/members"))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({"email": OUTSIDER, "role": "analyst"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        // ...but cannot make an owner, nor demote one.
        for (email, role) in [(OUTSIDER, "owner"), (AMINA, "viewer")] {
            let res = claire
                .post(api("/members"))
                .header("x-csrf-token", &token)
                .json(&serde_json::json!({"email": email, "role": role}))
                .send()
                .await
                .unwrap();
            assert_eq!(error_code(res).await.1, "forbidden", "{email} -> {role}");
        }
        // Amina is the only project owner; she cannot leave it ownerless.
        let amina = signed_in(&app, AMINA).await;
        let token = csrf(&app, &amina, "/").await;
        let amina_id = app
            .core
            .store()
            .user_by_email(AMINA)
            .await
            .unwrap()
            .unwrap()
            .id;
        let res = amina
            .delete(api(&format!("/members/{amina_id}")))
            .header("x-csrf-token", &token)
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "last_owner")
        );
        // Unknown role, unknown account: clear errors.
        let res = amina
            .post(api("/members"))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({"email": OUTSIDER, "role": "boss"}))
            .send()
            .await
            .unwrap();
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        assert!(
            message.contains("unknown role") || message.contains("rôle inconnu"),
            "{message}"
        );
        let res = amina
            .post(api("/members"))
            .header("x-csrf-token", &token)
            .json(&serde_json::json!({"email": "ghost@example.org", "role": "viewer"}))
            .send()
            .await
            .unwrap();
        let (_, code, message) = error_code(res).await;
        assert_eq!(code, "not_found");
        assert!(
            message.contains("no account") || message.contains("aucun compte"),
            "{message}"
        );
        // Viewers see the team without e-mail addresses; managers see them.
        let moussa = signed_in(&app, MOUSSA).await;
        let list: serde_json::Value = moussa
            .get(api("/members"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(list["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["email"].is_null()));
        let list: serde_json::Value = claire
            .get(api("/members"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(list["members"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["email"].is_string()));
        app.stop().await;
    }
}

#[tokio::test]
async fn administrators_create_accounts_and_owners_appoint_owners() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        // The administrator creates an account; its password is shown once.
        let admin = signed_in(&app, ADMIN).await;
        let t = csrf(&app, &admin, "/admin/users").await;
        let res = admin
            .post(app.url("/admin/users.json"))
            .form(&[
                ("_csrf", t.as_str()),
                ("name", "Ravi Shrestha"),
                ("email", "ravi@ngo.example"),
                ("locale", "en"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        let created: serde_json::Value = res.json().await.unwrap();
        let password = created["created"]["password"].as_str().unwrap().to_owned();
        assert_eq!(password.len(), 20);
        let listed: serde_json::Value = admin
            .get(app.url("/admin/users.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            listed.get("created").is_none(),
            "the password is not shown again"
        );
        assert!(listed["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u["email"] == "ravi@ngo.example"));
        let ravi = browser();
        assert_eq!(
            try_login(&app, &ravi, "ravi@ngo.example", &password)
                .await
                .status(),
            StatusCode::SEE_OTHER
        );
        // The same address again is refused.
        let res = admin
            .post(app.url("/admin/users.json"))
            .form(&[
                ("_csrf", t.as_str()),
                ("name", "Ravi"),
                ("email", "RAVI@ngo.example"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "email_taken");

        // Amina, owner of the organisation, makes Claire an owner too: Claire may now create
        // projects and owns them all.
        let amina = signed_in(&app, AMINA).await;
        let t = csrf(&app, &amina, "/orgs/eau-tchad/people").await;
        let res = amina
            .post(app.url("/orgs/eau-tchad/people"))
            .form(&[("_csrf", t.as_str()), ("email", CLAIRE), ("role", "owner")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let claire = signed_in(&app, CLAIRE).await;
        let v: serde_json::Value = claire
            .get(app.url(&format!("{}.json", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(v["project"]["your_role"], "owner");
        let people: serde_json::Value = claire
            .get(app.url("/orgs/eau-tchad/people.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(people["members"].as_array().unwrap().len(), 2);
        // Claire steps Amina down, then cannot leave the organisation without an owner.
        let t = csrf(&app, &claire, "/orgs/eau-tchad/people").await;
        let res = claire
            .post(app.url("/orgs/eau-tchad/people"))
            .form(&[("_csrf", t.as_str()), ("email", AMINA), ("role", "member")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let claire_id = app
            .core
            .store()
            .user_by_email(CLAIRE)
            .await
            .unwrap()
            .unwrap()
            .id;
        let res = claire
            .post(app.url(&format!("/orgs/eau-tchad/people/{claire_id}/remove")))
            .header("accept", "application/json")
            .form(&[("_csrf", t.as_str())])
            .send()
            .await
            .unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "last_owner")
        );
        // Amina, now a plain member, no longer manages the organisation's people.
        let res = amina
            .get(app.url("/orgs/eau-tchad/people.json"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "forbidden");
        app.stop().await;
    }
}
