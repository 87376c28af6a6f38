//! Reuses and discussions (docs/catalogue.md, "Reuses and discussions"): registering,
//! editing and deleting a reuse, the counts on the dataset, in search and on the project's
//! pages, moderation, hidden datasets never named, discussions with their permissions, and
//! hostile input.

use crate::common::*;
use reqwest::StatusCode;

const REGISTER: &str = "registre-points-eau";
const HOUSEHOLDS: &str = "points-eau-menages-2026";
const SERIES: &str = "eau-de-base-serie";
const DRAFT: &str = "avis-usagers-brouillon";

async fn status_of(app: &TestApp, c: &reqwest::Client, path: &str) -> StatusCode {
    c.get(app.url(path)).send().await.unwrap().status()
}

async fn html_of(app: &TestApp, c: &reqwest::Client, path: &str) -> String {
    let res = c
        .get(app.url(path))
        .header("accept-language", "en")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{path}");
    res.text().await.unwrap()
}

async fn reuse_count(app: &TestApp, name: &str) -> i64 {
    get_json(app, &browser(), &format!("/dataset/{name}")).await["dataset"]["reuses"]
        .as_i64()
        .unwrap()
}

fn ids(v: &serde_json::Value) -> Vec<i64> {
    v["reuses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

/// Registers a reuse through the form; returns the response (303 to the reuse when done).
async fn register(
    app: &TestApp,
    c: &reqwest::Client,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    post_form(app, c, "/reuses/new", "/reuses", fields).await
}

fn id_from(res: &reqwest::Response) -> i64 {
    res.headers()["location"]
        .to_str()
        .unwrap()
        .trim_start_matches("/reuses/")
        .trim_start_matches("/discussions/")
        .split(['#', '?'])
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

async fn actions(app: &TestApp, prefix: &str) -> Vec<String> {
    app.core
        .store()
        .audit_entries(&baraza_store::AuditQuery {
            action_prefix: Some(prefix.into()),
            limit: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

#[tokio::test]
async fn register_edit_delete_and_counts() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        // The demo: an article, a map and an application, all of the register.
        assert_eq!(reuse_count(&app, REGISTER).await, 3);
        assert_eq!(reuse_count(&app, HOUSEHOLDS).await, 1);
        assert_eq!(reuse_count(&app, SERIES).await, 1);
        let page = html_of(&app, &anon, &format!("/dataset/{REGISTER}")).await;
        assert!(page.contains("Reuses (3)"), "{page}");
        assert!(page.contains("Discussions (2, 1 open)"), "{page}");
        assert!(page.contains(&format!("href=\"/reuses/new?dataset={REGISTER}\"")));

        // Someone from outside registers a visualisation of the series; hostile text stays text.
        let outsider = signed_in(&app, OUTSIDER).await;
        let form = html_of(&app, &outsider, &format!("/reuses/new?dataset={SERIES}")).await;
        assert!(form.contains(&format!("value=\"{SERIES}\"")), "{form}");
        let res = register(
            &app,
            &outsider,
            &[
                ("title", "Chart <script>alert(1)</script>"),
                ("type", "visualization"),
                ("url", "https://example.org/viz?a=1&b=2"),
                (
                    "description",
                    "First line\nsecond <b>line</b>\n\nNew paragraph",
                ),
                ("topic", "Water"),
                ("datasets", SERIES),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id = id_from(&res);
        let page = html_of(&app, &anon, &format!("/reuses/{id}")).await;
        assert!(
            page.contains("Chart &lt;script&gt;alert(1)&lt;/script&gt;"),
            "{page}"
        );
        assert!(!page.contains("<script>alert(1)"));
        assert!(page.contains("First line<br>second &lt;b&gt;line&lt;/b&gt;</p><p>New paragraph"));
        assert!(page.contains(
            "href=\"https://example.org/viz?a=1&amp;b=2\" rel=\"nofollow ugc noopener noreferrer\""
        ));
        let v = get_json(&app, &anon, &format!("/reuses/{id}")).await;
        assert_eq!(v["reuse"]["type"], "visualization");
        assert_eq!(v["reuse"]["owner"], "Outsider");
        assert_eq!(v["reuse"]["datasets"][0]["name"], SERIES);
        assert_eq!(v["reuse"]["can_edit"], false);

        // Counted on the dataset, in search, in CKAN, on the project's and the organisation's pages.
        assert_eq!(reuse_count(&app, SERIES).await, 2);
        let d = get_json(&app, &anon, &format!("/dataset/{SERIES}")).await;
        assert!(ids(&d).contains(&id));
        let found = get_json(&app, &anon, "/catalogue").await;
        assert!(found.to_string().contains("\"reuses\":2"));
        let by_reuses = anon
            .get(app.url("/catalogue.json?sort=reuses"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(by_reuses["results"][0]["name"], REGISTER);
        assert_eq!(by_reuses["results"][1]["name"], SERIES);
        let ckan: serde_json::Value = anon
            .get(app.url("/api/3/action/package_search?sort=num_reuses%20desc,name%20asc"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(ckan["result"]["results"][0]["name"], REGISTER);
        assert_eq!(ckan["result"]["results"][0]["num_reuses"], 3);
        assert_eq!(ckan["result"]["results"][1]["num_reuses"], 2);
        let amina = signed_in(&app, AMINA).await;
        let project = get_json(&app, &amina, &private_project()).await;
        assert_eq!(ids(&project).len(), 4, "{project}");
        let html = html_of(&app, &amina, &private_project()).await;
        // Amina reads in French, her account's language.
        assert!(
            html.contains("Vos données ont été réutilisées 4 fois"),
            "{html}"
        );
        let cat = get_json(&app, &amina, &format!("{}/catalogue", private_project())).await;
        assert!(ids(&cat).contains(&id));
        let org = get_json(&app, &anon, "/orgs/eau-tchad").await;
        assert_eq!(org["reuses"], 4);

        // The list, filtered, and its CSV twin.
        let all = get_json(&app, &anon, "/reuses").await;
        assert_eq!(all["count"], 4);
        let viz = anon
            .get(app.url("/reuses.json?type=visualization"))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(viz["count"], 2);
        let of = anon
            .get(app.url(&format!("/reuses.json?dataset={HOUSEHOLDS}")))
            .send()
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap();
        assert_eq!(of["count"], 1);
        let csv = anon.get(app.url("/reuses.csv")).send().await.unwrap();
        assert!(csv.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv"));
        let csv = csv.text().await.unwrap();
        assert_eq!(
            csv.lines().next(),
            Some("id,title,type,url,topic,owner,created,datasets")
        );
        assert!(csv.contains(&format!(
            "{id},Chart <script>alert(1)</script>,visualization,"
        )));

        // Only its owner edits and deletes it.
        let edit = format!("/reuses/{id}/edit");
        let idriss = signed_in(&app, IDRISS).await;
        let fields = [
            ("title", "Chart of basic water access"),
            ("type", "visualization"),
            ("url", "https://example.org/viz"),
            ("datasets", &format!("{SERIES}, {HOUSEHOLDS}")),
        ];
        let res = post_form(&app, &idriss, "/reuses/new", &edit, &fields).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(&app, &outsider, "/reuses/new", &edit, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let v = get_json(&app, &outsider, &format!("/reuses/{id}")).await;
        assert_eq!(v["reuse"]["title"], "Chart of basic water access");
        assert_eq!(v["reuse"]["can_edit"], true);
        assert_eq!(v["reuse"]["datasets"].as_array().unwrap().len(), 2);
        assert_eq!(reuse_count(&app, HOUSEHOLDS).await, 2);
        let delete = format!("/reuses/{id}/delete");
        let res = post_form(&app, &idriss, "/reuses/new", &delete, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(&app, &outsider, "/reuses/new", &delete, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            status_of(&app, &anon, &format!("/reuses/{id}")).await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(reuse_count(&app, SERIES).await, 1);
        assert_eq!(reuse_count(&app, HOUSEHOLDS).await, 1);
        let log = actions(&app, "reuse.").await;
        for a in ["reuse.create", "reuse.update", "reuse.delete"] {
            assert!(log.iter().any(|x| x == a), "{a}: {log:?}");
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn hostile_input_and_hidden_datasets() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        let outsider = signed_in(&app, OUTSIDER).await;
        let ok = |url: &'static str| {
            [
                ("title", "A reuse"),
                ("type", "application"),
                ("url", url),
                ("datasets", SERIES),
            ]
        };
        // Addresses that are not http(s) links are refused, saying which field.
        for url in [
            "javascript:alert(1)",
            " JAVASCRIPT:alert(document.cookie)",
            "data:text/html,<script>alert(1)</script>",
            "ftp://example.org/file",
            "//example.org/x",
            "https://user:secret@example.org/",
        ] {
            let res = register(&app, &outsider, &ok(url)).await;
            let (status, code, message) = error_code(res).await;
            assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{url}");
            assert_eq!(code, "validation_failed");
            assert!(message.contains("http"), "{url}: {message}");
        }
        let long_title = "t".repeat(201);
        let long_text = "d".repeat(5001);
        for (field, value) in [
            ("title", long_title.as_str()),
            ("title", "  "),
            ("type", "poem"),
            ("description", long_text.as_str()),
            ("datasets", ""),
        ] {
            let mut fields: Vec<(&str, &str)> = ok("https://example.org/")
                .into_iter()
                .filter(|(k, _)| *k != field)
                .collect();
            fields.push((field, value));
            let res = register(&app, &outsider, &fields).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field}");
        }
        // A draft is not reused by someone who cannot see it: 404, as its page.
        let mut fields = ok("https://example.org/").to_vec();
        fields.retain(|(k, _)| *k != "datasets");
        fields.push(("datasets", DRAFT));
        let res = register(&app, &outsider, &fields).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            status_of(&app, &outsider, &format!("/reuses/new?dataset={DRAFT}")).await,
            StatusCode::NOT_FOUND
        );
        // Without a session, no form and no registering.
        assert_ne!(status_of(&app, &anon, "/reuses/new").await, StatusCode::OK);
        // No CSRF token, no reuse.
        let res = outsider
            .post(app.url("/reuses"))
            .form(&ok("https://example.org/"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // Moderation: a manager of the dataset's project hides the article, with a reason.
        let moderate = "/reuses/1/moderate";
        let res = post_form(
            &app,
            &outsider,
            "/reuses/new",
            moderate,
            &[("hidden", "1"), ("reason", "no")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let claire = signed_in(&app, CLAIRE).await;
        let res = post_form(&app, &claire, "/reuses/new", moderate, &[("hidden", "1")]).await;
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason is needed"
        );
        let res = post_form(
            &app,
            &claire,
            "/reuses/new",
            moderate,
            &[
                ("hidden", "1"),
                ("reason", "The link leads to an advertisement"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert!(!ids(&get_json(&app, &anon, "/reuses").await).contains(&1));
        assert_eq!(
            status_of(&app, &anon, "/reuses/1").await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(reuse_count(&app, REGISTER).await, 2);
        assert_eq!(reuse_count(&app, SERIES).await, 0);
        let moussa = signed_in(&app, MOUSSA).await;
        let mine = get_json(&app, &moussa, "/reuses/1").await;
        assert_eq!(mine["reuse"]["hidden"], true);
        assert_eq!(
            mine["reuse"]["hidden_reason"],
            "The link leads to an advertisement"
        );
        let res = post_form(&app, &claire, "/reuses/new", moderate, &[("hidden", "0")]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(reuse_count(&app, REGISTER).await, 3);
        assert!(actions(&app, "reuse.")
            .await
            .contains(&"reuse.hide".to_string()));

        // The outsider's reuse of the register and the series, before the register is withdrawn.
        let both = format!("{SERIES}, {REGISTER}");
        let mut fields = ok("https://example.org/both").to_vec();
        fields.retain(|(k, _)| *k != "datasets");
        fields.push(("datasets", &both));
        let res = register(&app, &outsider, &fields).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let mine = id_from(&res);
        // The register goes back to draft: its reuses and discussions no longer name it.
        let edit = format!("/dataset/{REGISTER}/edit");
        let res = post_form(
            &app,
            &claire,
            &edit,
            &edit,
            &[
                ("title", "Registre des points d’eau suivis"),
                ("name", REGISTER),
                ("license_id", "lov2"),
                ("state", "draft"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // The map was made with the register only: gone for readers.
        assert_eq!(
            status_of(&app, &anon, "/reuses/2").await,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            status_of(&app, &anon, "/discussions/1").await,
            StatusCode::NOT_FOUND
        );
        // The application also used the households' table: shown, naming that one only.
        let app3 = get_json(&app, &anon, "/reuses/3").await;
        assert_eq!(app3["reuse"]["datasets"].as_array().unwrap().len(), 1);
        assert_eq!(app3["reuse"]["datasets"][0]["name"], HOUSEHOLDS);
        let page = html_of(&app, &anon, "/reuses/3").await;
        assert!(!page.contains(REGISTER), "{page}");
        let listed = get_json(&app, &anon, "/reuses").await.to_string();
        assert!(!listed.contains(REGISTER), "{listed}");
        let csv = anon
            .get(app.url("/reuses.csv"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!csv.contains(REGISTER), "{csv}");
        // The project's members still see all of it.
        let amina = signed_in(&app, AMINA).await;
        assert_eq!(status_of(&app, &amina, "/reuses/2").await, StatusCode::OK);
        assert_eq!(
            status_of(&app, &amina, "/discussions/1").await,
            StatusCode::OK
        );
        // Its owner edits it without losing the link to the dataset they no longer see.
        let v = get_json(&app, &outsider, &format!("/reuses/{mine}")).await;
        assert_eq!(v["reuse"]["datasets"].as_array().unwrap().len(), 1);
        let edit = format!("/reuses/{mine}/edit");
        let res = post_form(
            &app,
            &outsider,
            "/reuses/new",
            &edit,
            &[
                ("title", "Renamed"),
                ("type", "application"),
                ("url", "https://example.org/both"),
                ("datasets", SERIES),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let v = get_json(&app, &amina, &format!("/reuses/{mine}")).await;
        assert_eq!(v["reuse"]["title"], "Renamed");
        assert_eq!(v["reuse"]["datasets"].as_array().unwrap().len(), 2, "{v}");
        app.stop().await;
    }
}

#[tokio::test]
async fn discussions() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let anon = browser();
        // The demo's closed discussion: opening, two replies and the closing message.
        let d = get_json(&app, &anon, "/discussions/1").await;
        assert!(d["closed"].is_i64(), "{d}");
        assert_eq!(d["closed_by"], "Claire Ngarlem");
        assert_eq!(d["messages"].as_array().unwrap().len(), 4);
        assert_eq!(d["subject"]["kind"], "dataset");
        assert_eq!(d["can_reply"], false);
        let outsider = signed_in(&app, OUTSIDER).await;
        let res = post_form(
            &app,
            &outsider,
            "/discussions/2",
            "/discussions/1/reply",
            &[("comment", "Late")],
        )
        .await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );

        // Anyone signed in opens one; the text is escaped, line breaks kept.
        let page = format!("/dataset/{HOUSEHOLDS}");
        let open = format!("{page}/discussions");
        let res = post_form(
            &app,
            &outsider,
            &page,
            &open,
            &[
                ("title", "<img src=x onerror=alert(1)>"),
                ("comment", "Which year?\n<script>alert(2)</script>"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id = id_from(&res);
        let url = format!("/discussions/{id}");
        let html = html_of(&app, &anon, &url).await;
        assert!(
            html.contains("&lt;img src=x onerror=alert(1)&gt;"),
            "{html}"
        );
        assert!(
            html.contains("Which year?<br>&lt;script&gt;alert(2)&lt;/script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>alert(2)"));
        assert!(html_of(&app, &anon, &page)
            .await
            .contains(&format!("href=\"{url}\"")));
        // Not on a draft one cannot see, nor too long, nor without a title.
        let draft = format!("/dataset/{DRAFT}/discussions");
        let res = post_form(
            &app,
            &outsider,
            &page,
            &draft,
            &[("title", "t"), ("comment", "c")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let long = "m".repeat(5001);
        for fields in [
            [("title", "t"), ("comment", long.as_str())],
            [("title", ""), ("comment", "c")],
        ] {
            let res = post_form(&app, &outsider, &page, &open, &fields).await;
            assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        }
        let reply = format!("{url}/reply");
        let moussa = signed_in(&app, MOUSSA).await;
        let res = post_form(
            &app,
            &moussa,
            &url,
            &reply,
            &[("comment", "2026, see the methodology.")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &anon, &url).await;
        assert_eq!(d["messages"].as_array().unwrap().len(), 2);
        let message = d["messages"][1]["id"].as_i64().unwrap();

        // Anyone signed in reports a message; once per person.
        let report = format!("{url}/messages/{message}/report");
        let idriss = signed_in(&app, IDRISS).await;
        for _ in 0..2 {
            let res = post_form(&app, &idriss, &url, &report, &[("reason", "spam")]).await;
            assert_eq!(res.status(), StatusCode::SEE_OTHER);
        }
        let reports = actions(&app, "discussion.report").await;
        assert_eq!(reports.len(), 1);
        // Managers hide it; readers see that moderation hid it, managers still read it.
        let hide = format!("{url}/messages/{message}/hide");
        let res = post_form(
            &app,
            &outsider,
            &url,
            &hide,
            &[("hidden", "1"), ("reason", "x")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let claire = signed_in(&app, CLAIRE).await;
        let seen = get_json(&app, &claire, &url).await;
        assert_eq!(seen["messages"][1]["reports"], 1);
        let res = post_form(
            &app,
            &claire,
            &url,
            &hide,
            &[("hidden", "1"), ("reason", "Off topic")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &anon, &url).await;
        assert_eq!(d["messages"][1]["hidden"], true);
        assert_eq!(d["messages"][1]["body"], "");
        assert!(d["messages"][1].get("hidden_reason").is_none());
        let html = html_of(&app, &anon, &url).await;
        assert!(html.contains("Message hidden by moderation."));
        assert!(!html.contains("see the methodology"));
        let d = get_json(&app, &claire, &url).await;
        assert_eq!(d["messages"][1]["body"], "2026, see the methodology.");
        assert_eq!(d["messages"][1]["hidden_reason"], "Off topic");

        // Only the project's managers close it, with a closing message.
        let close = format!("{url}/close");
        let res = post_form(&app, &outsider, &url, &close, &[("comment", "Done")]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(
            &app,
            &claire,
            &url,
            &close,
            &[("comment", "Answered in the methodology note.")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &anon, &url).await;
        assert!(d["closed"].is_i64());
        assert_eq!(d["messages"].as_array().unwrap().len(), 3);
        let res = post_form(&app, &moussa, &url, &reply, &[("comment", "One more")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // On a reuse: its owner closes it.
        let res = post_form(
            &app,
            &moussa,
            "/reuses/2",
            "/reuses/2/discussions",
            &[("title", "Source"), ("comment", "Which date?")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let on_reuse = id_from(&res);
        let v = get_json(&app, &anon, "/reuses/2").await;
        assert_eq!(v["discussions"][0]["id"], on_reuse);
        let idriss_close = format!("/discussions/{on_reuse}/close");
        let res = post_form(&app, &moussa, "/reuses/2", &idriss_close, &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = post_form(&app, &idriss, "/reuses/2", &idriss_close, &[]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // Posting too fast is refused with 429 and a clear reason, until the window passes.
        let reply2 = "/discussions/2/reply";
        let mut refused = None;
        for i in 0..12 {
            let res = post_form(
                &app,
                &outsider,
                "/discussions/2",
                reply2,
                &[("comment", &format!("message {i}"))],
            )
            .await;
            if res.status() != StatusCode::SEE_OTHER {
                refused = Some((i, res));
                break;
            }
        }
        let (i, res) = refused.expect("a limit");
        // The outsider had opened one discussion in the window: 10 messages in all.
        assert_eq!(i, 9);
        assert!(res.headers().contains_key("retry-after"));
        let (status, code, message) = error_code(res).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(code, "posting_too_fast");
        assert!(message.contains("minutes"), "{message}");
        app.clock.advance(601);
        let res = post_form(
            &app,
            &outsider,
            "/discussions/2",
            reply2,
            &[("comment", "later")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let log = actions(&app, "discussion.").await;
        for a in [
            "discussion.open",
            "discussion.reply",
            "discussion.close",
            "discussion.report",
            "discussion.hide_message",
        ] {
            assert!(log.iter().any(|x| x == a), "{a}: {log:?}");
        }
        app.stop().await;
    }
}
