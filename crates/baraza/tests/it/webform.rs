//! The web form over HTTP: members filling page by page, drafts, test fills of draft forms,
//! public links (cookie-held drafts, honeypot, rate limit), corrections by managers with their
//! reason, and the review of records.

use crate::common::*;
use reqwest::multipart::Form;
use reqwest::{Client, StatusCode};
use serde_json::Value;

const FORM: &str = "points_eau";

/// A multipart form as browsers send it: field names as they are (reqwest percent-encodes them
/// by default).
fn form_new() -> Form {
    Form::new().percent_encode_noop()
}

fn form_url() -> String {
    format!("{}/forms/{FORM}", private_project())
}

/// A browser filling one draft.
pub(crate) struct Filler<'a> {
    app: &'a TestApp,
    client: Client,
    /// The draft's path.
    path: String,
    lang: &'static str,
}

impl Filler<'_> {
    async fn csrf(&self) -> String {
        let html = self
            .client
            .get(self.app.url(&self.path))
            .header("accept-language", self.lang)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        csrf_from(&html)
    }

    /// Posts answers (input name, value) and a button.
    pub(crate) async fn post(&self, fields: &[(&str, &str)], action: &str) -> reqwest::Response {
        let token = self.csrf().await;
        let mut form = form_new().text("_csrf", token);
        let mut listed: Vec<String> = Vec::new();
        for (k, _) in fields {
            let base = k.split('#').next().unwrap_or(k).to_owned();
            if !k.starts_with('_') && !listed.contains(&base) {
                listed.push(base);
            }
        }
        for l in listed {
            form = form.text("_f", l);
        }
        for (k, v) in fields {
            form = form.text((*k).to_owned(), (*v).to_owned());
        }
        form = form.text("_action", action.to_owned());
        self.client
            .post(self.app.url(&self.path))
            .header("accept-language", self.lang)
            .multipart(form)
            .send()
            .await
            .unwrap()
    }

    /// Posts the page as a browser would: every answer it shows, with `changes` applied.
    async fn post_page(&self, changes: &[(&str, &str)], action: &str) -> reqwest::Response {
        let s = self.state().await;
        let mut fields: Vec<(String, String)> = Vec::new();
        collect_values(&s["widgets"], &mut fields);
        for (k, v) in changes {
            match fields.iter_mut().find(|(fk, _)| fk == k) {
                Some(f) => f.1 = (*v).to_owned(),
                None => fields.push(((*k).to_owned(), (*v).to_owned())),
            }
        }
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        self.post(&pairs, action).await
    }

    /// The draft's JSON twin.
    async fn state(&self) -> Value {
        self.client
            .get(self.app.url(&format!("{}.json", self.path)))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

pub(crate) fn location(res: &reqwest::Response) -> String {
    res.headers()["location"].to_str().unwrap().to_owned()
}

async fn start<'a>(app: &'a TestApp, client: Client, lang: &'static str) -> Filler<'a> {
    start_at(app, client, &form_url(), lang).await
}

/// Starts a draft of the form at `url` (its page's path) through its fill page.
pub(crate) async fn start_at<'a>(
    app: &'a TestApp,
    client: Client,
    url: &str,
    lang: &'static str,
) -> Filler<'a> {
    let token = csrf(app, &client, &format!("{url}/fill")).await;
    let res = client
        .post(app.url(&format!("{url}/fill")))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let path = location(&res);
    assert!(path.starts_with(&format!("{url}/fill/")), "{path}");
    Filler {
        app,
        client,
        path,
        lang,
    }
}

/// Posts the first page of the taps form: a place and a photo.
async fn post_visit(f: &Filler<'_>, place: &str, file_name: &str, bytes: &[u8]) {
    let token = f.csrf().await;
    let form = form_new()
        .text("_csrf", token)
        .text("_f", "/data/visit/place")
        .text("_f", "/data/visit/photo")
        .text("/data/visit/place", place.to_owned())
        .part(
            "/data/visit/photo",
            reqwest::multipart::Part::bytes(bytes.to_vec()).file_name(file_name.to_owned()),
        )
        .text("_action", "next");
    let res = f
        .client
        .post(f.app.url(&f.path))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

const PAGE1: &[(&str, &str)] = &[
    ("/data/localisation/province", "ndjamena"),
    ("/data/localisation/commune", "arr9"),
    ("/data/localisation/quartier", "Walia"),
    ("/data/localisation/gps#lat", "12.0631"),
    ("/data/localisation/gps#lon", "15.0459"),
    ("/data/localisation/gps#acc", "6"),
];

const PAGE2: &[(&str, &str)] = &[
    ("/data/point/type_point", "borne"),
    ("/data/point/fonctionnel", "non"),
    ("/data/point/pannes", "robinet"),
    ("/data/point/pannes", "qualite"),
    ("/data/point/jours_panne", "3"),
    ("/data/point/temps_trajet", "45"),
    ("/data/point/prix", "25"),
];

/// Fills the demo survey up to its review page.
async fn fill_to_review(f: &Filler<'_>) {
    let res = f.post(PAGE1, "next").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = f.post(PAGE2, "next").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let household = [
        ("/data/menage/sexe_chef", "femme"),
        ("/data/menage/taille_menage", "7"),
        ("/data/menage/nb_enfants", "2"),
    ];
    // The children appear on the same page: it is shown again, with them.
    let res = f.post(&household, "next").await;
    assert_eq!(res.status(), StatusCode::OK);
    let html = res.text().await.unwrap();
    assert!(html.contains("/data/menage/enfant[2]/age_mois"), "{html}");
    let mut all = household.to_vec();
    all.extend([
        ("/data/menage/enfant[1]/age_mois", "8"),
        ("/data/menage/enfant[1]/diarrhee", "oui"),
        ("/data/menage/enfant[2]/age_mois", "30"),
        ("/data/menage/enfant[2]/diarrhee", "non"),
    ]);
    let res = f.post(&all, "next").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The closing note.
    let res = f.post(&[], "next").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let s = f.state().await;
    assert_eq!(s["at"]["at"], "review", "{s}");
}

async fn submission_json(app: &TestApp, c: &Client, instance: &str) -> Value {
    let res = c
        .get(app.url(&format!("{}/submissions/{instance}.json", form_url())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK, "{instance}");
    res.json().await.unwrap()
}

fn answer(v: &Value, path: &str) -> String {
    v["versions"][0]["answers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["path"] == path)
        .map(|a| a["answer"].as_str().unwrap_or("").to_owned())
        .unwrap_or_default()
}

#[tokio::test]
async fn a_collector_fills_the_survey_in_the_browser() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let fatime = signed_in(&app, FATIME).await;
        // The form's page offers the web form.
        let page = fatime
            .get(app.url(&form_url()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&format!("{}/fill", form_url())));
        let f = start(&app, fatime.clone(), "fr").await;
        // The first page, in French, with the province choices and the GPS inputs.
        let html = f
            .client
            .get(app.url(&f.path))
            .header("accept-language", "fr")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Localisation"), "{html}");
        assert!(html.contains("name=\"/data/localisation/gps#lat\""));
        assert!(html.contains("N’Djamena"));
        // Required answers missing, and a constraint broken: the page comes back with messages.
        let res = f
            .post_page(&[("/data/localisation/province", "ndjamena")], "next")
            .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("Cette réponse est obligatoire."), "{html}");
        let res = f.post(PAGE1, "next").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let mut bad = PAGE2.to_vec();
        bad.retain(|(k, _)| *k != "/data/point/temps_trajet");
        bad.push(("/data/point/temps_trajet", "900"));
        let res = f.post(&bad, "next").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let html = res.text().await.unwrap();
        assert!(html.contains("Entre 0 et 600 minutes"), "{html}");
        // Previous keeps the answers of the page.
        let res = f.post(&bad, "prev").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(f.state().await["at"]["page"], 0);
        let res = f.post(PAGE1, "next").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let state = f.state().await;
        assert_eq!(state["at"]["page"], 1);
        let widgets = state["widgets"].to_string();
        assert!(widgets.contains("\"value\":\"900\""), "{widgets}");

        // Another person cannot see this draft.
        let claire = signed_in(&app, CLAIRE).await;
        let res = claire.get(app.url(&f.path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);

        let res = f.post_page(&[], "prev").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        fill_to_review(&f).await;
        let review = f
            .client
            .get(app.url(&f.path))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(review.contains("Walia"), "{review}");
        let res = f.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        let instance = to.split("sent=").nth(1).expect("sent=").replace("%3A", ":");
        assert!(instance.starts_with("uuid:"), "{to}");
        // The draft is gone; the record is there, sent by Fatimé, as typed values.
        assert_eq!(
            f.client
                .get(app.url(&f.path))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        let amina = signed_in(&app, AMINA).await;
        let v = submission_json(&app, &amina, &instance).await;
        assert_eq!(v["versions"][0]["submitter"], "Fatimé Haroun");
        assert_eq!(answer(&v, "/data/point/temps_trajet"), "45");
        assert_eq!(answer(&v, "/data/point/pannes"), "robinet qualite");
        assert_eq!(answer(&v, "/data/menage/enfant[2]/age_mois"), "30");
        assert_eq!(answer(&v, "/data/localisation/gps"), "12.0631 15.0459");
        assert_eq!(answer(&v, "/data/acces_30min"), "0");
        // Sending twice (a second click) makes no second record.
        let forms: Value = amina
            .get(app.url(&format!("{}/forms.json", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let n = forms["forms"][0]["submissions"].as_i64().unwrap();
        assert_eq!(n, baraza::demo::SUBMISSIONS as i64 + 1);
        app.stop().await;
    }
}

#[tokio::test]
async fn drafts_are_kept_resumed_and_discarded() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let fatime = signed_in(&app, FATIME).await;
        let f = start(&app, fatime.clone(), "en").await;
        let res = f.post(PAGE1, "save").await;
        assert_eq!(res.status(), StatusCode::OK);
        // Fatimé reads Baraza in French.
        assert!(res.text().await.unwrap().contains("Enregistré."));
        // The form's fill page lists the draft; opening it shows the answers kept.
        let overview: Value = fatime
            .get(app.url(&format!("{}/fill.json", form_url())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(overview["drafts"][0]["url"], f.path.as_str());
        let s = f.state().await;
        assert!(s["widgets"].to_string().contains("Walia"));
        let res = f.post(&[], "discard").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(
            fatime.get(app.url(&f.path)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        // Hostile posts: an unknown button, a field outside the form, no CSRF token.
        let f = start(&app, fatime.clone(), "en").await;
        let res = f.post(&[("/etc/passwd", "x")], "explode").await;
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        let res = f
            .client
            .post(app.url(&f.path))
            .multipart(form_new().text("_action", "next"))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        // A path outside the page is ignored (the page is shown again, unchanged).
        let res = f
            .post(&[("/data/../meta/instanceID", "uuid:evil")], "next")
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        assert!(!f.state().await.to_string().contains("evil"));
        app.stop().await;
    }
}

const REPEAT_FORM: &str = r#"
| survey |
| | type | name | label | required |
| | begin group | visit | Visit | |
| | text | place | Place | yes |
| | image | photo | Photo of the tap | |
| | end group | | | |
| | begin repeat | person | Person | |
| | text | name | Name | yes |
| | end repeat | | | |
| settings |
| | form_title | form_id | version |
| | Taps | taps | 1 |
"#;

async fn upload_form(app: &TestApp, c: &Client, name: &str, text: &str) {
    let token = csrf(app, c, &format!("{}/forms", private_project())).await;
    let form = form_new().text("_csrf", token).part(
        "file",
        reqwest::multipart::Part::bytes(text.as_bytes().to_vec()).file_name(name.to_owned()),
    );
    let res = c
        .post(app.url(&format!("{}/forms", private_project())))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "upload {name}");
}

async fn set_state(app: &TestApp, c: &Client, form: &str, state: &str) {
    let url = format!("{}/forms/{form}", private_project());
    let token = csrf(app, c, &url).await;
    let res = c
        .post(app.url(&format!("{url}/state")))
        .form(&[("_csrf", token.as_str()), ("state", state)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn draft_forms_are_tested_and_repeats_and_files_work() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        upload_form(&app, &amina, "taps.md", REPEAT_FORM).await;
        let url = format!("{}/forms/taps", private_project());
        // A collector cannot test a draft form.
        let fatime = signed_in(&app, FATIME).await;
        let res = fatime
            .get(app.url(&format!("{url}/fill")))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let f = start_at(&app, amina.clone(), &url, "en").await;
        // A photo, uploaded with the page.
        let jpeg = b"\xff\xd8\xff\xe0 a tiny jpeg \xff\xd9".to_vec();
        post_visit(&f, "Kibera", "IMG_0001.JPG", &jpeg).await;
        // One person to start; add two, remove the first.
        let res = f
            .post(&[("/data/person[1]/name", "Achieng")], "add:/data/person")
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = f
            .post(
                &[
                    ("/data/person[1]/name", "Achieng"),
                    ("/data/person[2]/name", "Otieno"),
                ],
                "add:/data/person",
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let res = f
            .post(
                &[
                    ("/data/person[1]/name", "Achieng"),
                    ("/data/person[2]/name", "Otieno"),
                    ("/data/person[3]/name", "Wanjiru"),
                ],
                "remove:/data/person[1]",
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let s = f.state().await.to_string();
        assert!(
            !s.contains("Achieng") && s.contains("Otieno") && s.contains("Wanjiru"),
            "{s}"
        );
        let res = f.post_page(&[], "next").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        // Testing: checked, shown, not stored.
        let res = f.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::OK);
        let html = res.text().await.unwrap();
        assert!(html.contains("&lt;person&gt;&lt;name&gt;Otieno"), "{html}");
        assert!(html.contains(".jpg&lt;/photo&gt;"), "{html}");

        // Published, the same filling is stored, with its photo.
        set_state(&app, &amina, "taps", "published").await;
        let f = start_at(&app, amina.clone(), &url, "en").await;
        post_visit(&f, "Mathare", "tap.jpeg", &jpeg).await;
        let res = f.post(&[("/data/person[1]/name", "Akinyi")], "next").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = f.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        let instance = to.split("sent=").nth(1).unwrap().replace("%3A", ":");
        let v: Value = amina
            .get(app.url(&format!("{url}/submissions/{instance}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let photo = v["versions"][0]["answers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["path"] == "/data/visit/photo")
            .unwrap()["answer"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(photo.ends_with(".jpeg"), "{photo}");
        let store = app.core.store();
        let org = store
            .org_by_slug(baraza::demo::ORG_SLUG)
            .await
            .unwrap()
            .unwrap();
        let project = store
            .project_by_slug(org.id, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap()
            .unwrap();
        let form_id = store
            .form_by_xml_id(project.id, "taps")
            .await
            .unwrap()
            .unwrap()
            .id;
        let row = app
            .core
            .store()
            .submission(form_id, &instance)
            .await
            .unwrap()
            .unwrap();
        let files = app
            .core
            .store()
            .submission_attachments(row.id)
            .await
            .unwrap();
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].name, photo);
        assert!(files[0].key.is_some(), "the photo is sealed at rest");
        let blob = app
            .core
            .stored_attachment(project.id, row.id, &photo)
            .await
            .unwrap();
        assert_eq!(blob, jpeg);
        app.stop().await;
    }
}

async fn public_link(app: &TestApp, amina: &Client) -> String {
    let token = csrf(app, amina, &form_url()).await;
    let res = amina
        .post(app.url(&format!("{}/public-link", form_url())))
        .form(&[("_csrf", token.as_str()), ("public", "on")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page: Value = amina
        .get(app.url(&format!("{}.json", form_url())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let link = page["public_link"]
        .as_str()
        .expect("a public link")
        .to_owned();
    let path = link
        .split_once("/f/")
        .map(|(_, t)| format!("/f/{t}"))
        .unwrap();
    path
}

async fn start_public<'a>(app: &'a TestApp, link: &str) -> Filler<'a> {
    let citizen = browser();
    let page = citizen.get(app.url(link)).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let token = csrf_from(&page.text().await.unwrap());
    let res = citizen
        .post(app.url(link))
        .form(&[("_csrf", token.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "start public draft");
    let path = location(&res);
    assert!(path.starts_with(&format!("{link}/")));
    Filler {
        app,
        client: citizen,
        path,
        lang: "en",
    }
}

#[tokio::test]
async fn public_links_take_citizen_reports_with_limits() {
    for backend in backends() {
        let app = TestApp::spawn_with(backend, &[("public_form_submissions_per_hour", "2")]).await;
        let amina = signed_in(&app, AMINA).await;
        let link = public_link(&app, &amina).await;
        let json: Value = browser()
            .get(app.url(&format!("{link}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(json["xml_form_id"], FORM);

        let f = start_public(&app, &link).await;
        // Nobody else (no cookie) can open this draft.
        let res = browser().get(app.url(&f.path)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert!(f
            .client
            .get(app.url(&f.path))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("name=\"website\""));
        fill_to_review(&f).await;
        let res = f.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(location(&res), format!("{link}?sent=1"));

        // A robot fills the honeypot: thanked, not stored.
        let robot = start_public(&app, &link).await;
        fill_to_review(&robot).await;
        let res = robot
            .post(&[("website", "http://spam.example")], "send")
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // The second real submission from this address passes; the third is refused.
        let g = start_public(&app, &link).await;
        fill_to_review(&g).await;
        assert_eq!(g.post(&[], "send").await.status(), StatusCode::SEE_OTHER);
        let h = start_public(&app, &link).await;
        fill_to_review(&h).await;
        let res = h.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
        assert!(res.headers().contains_key("retry-after"));

        let forms: Value = amina
            .get(app.url(&format!("{}/forms.json", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            forms["forms"][0]["submissions"].as_i64().unwrap(),
            baraza::demo::SUBMISSIONS as i64 + 2
        );
        // Turning the link off closes it, drafts included.
        let token = csrf(&app, &amina, &form_url()).await;
        amina
            .post(app.url(&format!("{}/public-link", form_url())))
            .form(&[("_csrf", token.as_str()), ("public", "off")])
            .send()
            .await
            .unwrap();
        assert_eq!(
            browser().get(app.url(&link)).send().await.unwrap().status(),
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            h.client
                .get(app.url(&h.path))
                .send()
                .await
                .unwrap()
                .status(),
            StatusCode::NOT_FOUND
        );
        app.stop().await;
    }
}

async fn first_instance(app: &TestApp, c: &Client) -> String {
    let page: Value = c
        .get(app.url(&format!("{}/submissions.json?sort=oldest", form_url())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["submissions"][0]["instance_id"]
        .as_str()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn managers_review_comment_and_correct_records() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await;
        let instance = first_instance(&app, &claire).await;
        let record = format!("{}/submissions/{instance}", form_url());
        // Review with a comment, then a comment alone.
        let token = csrf(&app, &claire, &record).await;
        let res = claire
            .post(app.url(&format!("{record}/review")))
            .form(&[
                ("_csrf", token.as_str()),
                ("review_state", "has_issues"),
                ("comment", "The price looks too high for a public tap."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = claire
            .post(app.url(&format!("{record}/comments")))
            .form(&[
                ("_csrf", token.as_str()),
                ("body", "Called the enumerator."),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = claire
            .post(app.url(&format!("{record}/review")))
            .header("accept", "application/json")
            .form(&[("_csrf", token.as_str()), ("review_state", "lost")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        // An analyst reads but does not review.
        let idriss = signed_in(&app, IDRISS).await;
        let t2 = csrf(&app, &idriss, &record).await;
        let res = idriss
            .post(app.url(&format!("{record}/review")))
            .header("accept", "application/json")
            .form(&[("_csrf", t2.as_str()), ("review_state", "approved")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::FORBIDDEN);

        // A correction: the record opens in the web form with its answers.
        let res = claire
            .post(app.url(&format!("{record}/edit")))
            .form(&[("_csrf", token.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let f = Filler {
            app: &app,
            client: claire.clone(),
            path: location(&res),
            lang: "en",
        };
        let s = f.state().await;
        assert_eq!(s["mode"], "edit");
        let before = submission_json(&app, &claire, &instance).await;
        let old_price = answer(&before, "/data/point/prix");
        assert!(!old_price.is_empty());
        // Go to page 2 and change the price.
        let res = f.post_page(&[], "next").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = f.post_page(&[("/data/point/prix", "150")], "review").await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{:?}",
            res.text().await
        );
        // No reason, no correction.
        let res = f.post(&[], "send").await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = f
            .post(&[("_reason", "Price confirmed by phone: 150 CFA.")], "send")
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = location(&res);
        let new_instance = to.rsplit('/').next().unwrap().replace("%3A", ":");
        assert_ne!(new_instance, instance);
        let after = submission_json(&app, &claire, &new_instance).await;
        assert_eq!(answer(&after, "/data/point/prix"), "150");
        let versions = after["versions"].as_array().unwrap();
        assert_eq!(versions.len(), 2);
        assert_eq!(versions[0]["submitter"], "Claire Ngarlem");
        assert_eq!(
            after["review_state"], "has_issues",
            "the review state is kept"
        );
        let kinds: Vec<&str> = after["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["kind"].as_str().unwrap())
            .collect();
        // The demo's own review first, then this test's.
        assert_eq!(kinds, ["review", "review", "comment", "edit"]);
        assert_eq!(
            after["events"][3]["body"],
            "Price confirmed by phone: 150 CFA."
        );
        assert_eq!(after["events"][3]["by"], "Claire Ngarlem");
        // The old instance still leads to the record.
        let old = submission_json(&app, &claire, &instance).await;
        assert_eq!(old["versions"].as_array().unwrap().len(), 2);
        app.stop().await;
    }
}

/// The answers shown in a page's widgets, as the inputs would post them.
fn collect_values(w: &Value, out: &mut Vec<(String, String)>) {
    match w {
        Value::Array(a) => a.iter().for_each(|x| collect_values(x, out)),
        Value::Object(o) => {
            if o.get("kind") == Some(&Value::from("question")) && o["readonly"] == false {
                let path = o["path"].as_str().unwrap().to_owned();
                let value = o["value"].as_str().unwrap_or("").to_owned();
                match o["control"].as_str().unwrap() {
                    "select_multiple" => {
                        for c in value.split_whitespace() {
                            out.push((path.clone(), c.to_owned()));
                        }
                    }
                    "geopoint" => {
                        let parts: Vec<&str> = value.split_whitespace().collect();
                        for (i, s) in ["lat", "lon", "alt", "acc"].iter().enumerate() {
                            out.push((
                                format!("{path}#{s}"),
                                parts.get(i).unwrap_or(&"").to_string(),
                            ));
                        }
                    }
                    _ => out.push((path, value)),
                }
            }
            for k in ["children", "instances"] {
                if let Some(c) = o.get(k) {
                    collect_values(c, out);
                }
            }
        }
        _ => {}
    }
}

/// A draft holds the answers of a submission not sent yet: those of a form with personal
/// questions are sealed at rest like the records (no file of the data directory holds them in
/// clear), and open again when the draft is resumed.
#[tokio::test]
async fn drafts_of_forms_with_personal_questions_are_sealed_at_rest() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        crate::encryption::contacts(&app).await;
        let amina = signed_in(&app, AMINA).await;
        let url = format!("{}/forms/contacts", private_project());
        let f = start_at(&app, amina.clone(), &url, "en").await;
        let name = "Halimé SENTINEL-DRAFT-4418";
        let res = f
            .post(
                &[
                    ("/data/nom_complet", name),
                    ("/data/telephone", "066 12 34 56"),
                    ("/data/commentaire", "note"),
                ],
                "save",
            )
            .await;
        assert_eq!(res.status(), StatusCode::OK);
        let id = f.path.rsplit('/').next().unwrap();
        let stored = app.core.store().draft(id).await.unwrap().unwrap();
        assert!(
            stored.state_json.starts_with("sealed:"),
            "{}",
            stored.state_json
        );
        assert!(!stored.state_json.contains("SENTINEL-DRAFT"));
        if backend == baraza_store::Backend::Sqlite {
            assert!(
                files_containing(&app.data_dir, b"SENTINEL-DRAFT-4418").is_empty(),
                "a file holds the draft's answer in clear"
            );
        }
        // Resumed, the answers are there.
        assert!(f.state().await.to_string().contains(name));
        app.stop().await;
    }
}
