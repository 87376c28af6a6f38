//! ODK Collect's side of the OpenRosa conversation, request by request as Collect makes it
//! (formList, form download, manifest, HEAD then POST of each submission, replays of split
//! uploads), against the real server: nothing lost, nothing doubled.

use crate::common::*;
use baraza_core::forms::Submitter;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;

const PHOTO_FORM: &str = "| survey | | | |\n| | type | name | label |\n| | text | village | Village |\n| | image | photo | Photo of the water point |\n| settings | | |\n| | form_id | version |\n| | photo_test | 1 |\n";

struct Phone {
    http: reqwest::Client,
    base: String,
}

impl Phone {
    fn get(&self, url: &str) -> reqwest::RequestBuilder {
        self.http
            .get(url)
            .header("X-OpenRosa-Version", "1.0")
            .header(
                "User-Agent",
                "org.odk.collect.android/v2025.2.3 okhttp/4.12.0",
            )
    }

    async fn submit(&self, xml: &str, files: &[(&str, &[u8])]) -> reqwest::Response {
        self.submit_part(xml, files, false).await
    }

    /// A request of a split upload: Collect marks all but the last with `*isIncomplete*`.
    async fn submit_part(
        &self,
        xml: &str,
        files: &[(&str, &[u8])],
        incomplete: bool,
    ) -> reqwest::Response {
        // Collect asks first how much it may send.
        let head = self
            .http
            .head(format!("{}/submission", self.base))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::NO_CONTENT);
        let max: u64 = head.headers()["x-openrosa-accept-content-length"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(max >= 10 * 1024 * 1024);
        let mut form = Form::new().part(
            "xml_submission_file",
            Part::bytes(xml.as_bytes().to_vec())
                .file_name("submission.xml")
                .mime_str("text/xml")
                .unwrap(),
        );
        for (name, bytes) in files {
            form = form.part(
                name.to_string(),
                Part::bytes(bytes.to_vec())
                    .file_name(name.to_string())
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        if incomplete {
            form = form.text("*isIncomplete*", "yes");
        }
        self.http
            .post(format!("{}/submission", self.base))
            .header("X-OpenRosa-Version", "1.0")
            .multipart(form)
            .send()
            .await
            .unwrap()
    }
}

/// The files in the blob store.
fn blob_files(app: &TestApp) -> usize {
    fn walk(dir: &std::path::Path) -> usize {
        std::fs::read_dir(dir).map_or(0, |entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        walk(&p)
                    } else {
                        1
                    }
                })
                .sum()
        })
    }
    walk(&app.data_dir.join("blobs"))
}

fn photo_xml(id: &str, village: &str, deprecated: Option<&str>) -> String {
    let dep = deprecated
        .map(|d| format!("<deprecatedID>{d}</deprecatedID>"))
        .unwrap_or_default();
    format!("<?xml version='1.0' ?><data id=\"photo_test\" version=\"1\"><village>{village}</village><photo>p.jpg</photo><meta><instanceID>{id}</instanceID>{dep}</meta></data>")
}

#[tokio::test]
async fn collect_downloads_forms_and_submissions_are_never_lost_nor_doubled() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let amina = core.store().user_by_email(AMINA).await.unwrap().unwrap();
        let amina_p = core.cli_principal(amina.id).await.unwrap();
        let access = core
            .project_access(&amina_p, "eau-tchad", baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        let up = core
            .upload_form(&access, &amina_p, "photo.md", PHOTO_FORM.as_bytes())
            .await
            .unwrap();
        core.set_form_state(
            &access,
            &up.form.xml_form_id,
            baraza_store::FormState::Published,
        )
        .await
        .unwrap();
        let (app_user, token) = core
            .create_app_user(&access, &amina_p, "Téléphone de test")
            .await
            .unwrap();
        let base = app.url(&format!("/v1/key/{token}/projects/{}", access.project.id.0));
        let phone = Phone {
            http: reqwest::Client::new(),
            base: base.clone(),
        };

        // formList: the OpenRosa header is required, and returned.
        let res = phone
            .http
            .get(format!("{base}/formList"))
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "openrosa_version_missing");
        let res = phone.get(&format!("{base}/formList")).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["x-openrosa-version"], "1.0");
        let list = res.text().await.unwrap();
        assert!(
            list.contains("<formID>points_eau</formID>")
                && list.contains("<formID>photo_test</formID>"),
            "{list}"
        );
        // Form download: the hash in the list is the MD5 of what is downloaded.
        let doc = roxmltree::Document::parse(&list).unwrap();
        for xform in doc.descendants().filter(|n| n.has_tag_name("xform")) {
            let get = |tag: &str| {
                xform
                    .children()
                    .find(|c| c.has_tag_name(tag))
                    .and_then(|c| c.text())
                    .unwrap()
                    .to_owned()
            };
            let body = phone
                .get(&get("downloadUrl"))
                .send()
                .await
                .unwrap()
                .bytes()
                .await
                .unwrap();
            assert_eq!(baraza_openrosa::md5_hash(&body), get("hash"));
            let manifest = phone.get(&get("manifestUrl")).send().await.unwrap();
            assert_eq!(manifest.status(), StatusCode::OK);
            assert!(manifest.text().await.unwrap().contains("xformsManifest"));
        }

        // A submission whose photo comes in a second request (Collect splits large uploads).
        let first = photo_xml("uuid:11111111-1111-4111-8111-111111111111", "Chagoua", None);
        let files_before = blob_files(&app);
        let res = phone.submit_part(&first, &[], true).await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(
            blob_files(&app),
            files_before,
            "neither the XML (kept in its row) nor the *isIncomplete* flag is a file"
        );
        assert_eq!(res.headers()["x-openrosa-version"], "1.0");
        assert!(res.text().await.unwrap().contains("OpenRosaResponse"));
        let res = phone
            .submit(&first, &[("p.jpg", b"\xff\xd8\xff jpeg bytes")])
            .await;
        assert_eq!(
            res.status(),
            StatusCode::CREATED,
            "a replay is acknowledged"
        );
        let form = core
            .store()
            .form_by_xml_id(access.project.id, "photo_test")
            .await
            .unwrap()
            .unwrap();
        let stored = core
            .store()
            .submission(form.id, "uuid:11111111-1111-4111-8111-111111111111")
            .await
            .unwrap()
            .unwrap();
        let atts = core
            .store()
            .submission_attachments(stored.id)
            .await
            .unwrap();
        assert_eq!(atts.len(), 1);
        assert!(atts[0].sha256.is_some(), "the late attachment was merged");
        assert!(atts[0].key.is_some(), "the attachment is sealed at rest");
        assert_eq!(
            core.stored_attachment(form.project_id, stored.id, &atts[0].name)
                .await
                .unwrap(),
            b"\xff\xd8\xff jpeg bytes"
        );
        // Same instanceID, other content: a conflict, nothing changed.
        let other = photo_xml("uuid:11111111-1111-4111-8111-111111111111", "Walia", None);
        let res = phone.submit(&other, &[]).await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::CONFLICT, "submission_conflict")
        );
        // An edit: a new instanceID that deprecates the first; both versions are kept.
        let edit = photo_xml(
            "uuid:22222222-2222-4222-8222-222222222222",
            "Chagoua (corrigé)",
            Some("uuid:11111111-1111-4111-8111-111111111111"),
        );
        assert_eq!(
            phone
                .submit(&edit, &[("p.jpg", b"\xff\xd8\xff jpeg bytes")])
                .await
                .status(),
            StatusCode::CREATED
        );
        let history = core
            .store()
            .submission_history(form.id, "uuid:11111111-1111-4111-8111-111111111111")
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        assert_eq!(
            (history[0].is_current, history[1].is_current),
            (false, true)
        );
        let current = core
            .store()
            .list_submissions(form.id, 0, 100)
            .await
            .unwrap();
        assert_eq!(current.len(), 1, "one record, in its latest version");
        // The record's page shows both versions, newest first, from either instanceID.
        let amina_web = signed_in(&app, AMINA).await;
        for id in [
            "uuid:22222222-2222-4222-8222-222222222222",
            "uuid:11111111-1111-4111-8111-111111111111",
        ] {
            let page: serde_json::Value = amina_web
                .get(app.url(&format!(
                    "{}/forms/photo_test/submissions/{id}.json",
                    private_project()
                )))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let versions = page["versions"].as_array().unwrap();
            assert_eq!(versions.len(), 2);
            assert_eq!(versions[0]["current"], true);
            assert!(versions[0]["answers"]
                .as_array()
                .unwrap()
                .iter()
                .any(|a| a["answer"] == "Chagoua (corrigé)"));
        }

        // Hostile or broken submissions are refused, and nothing is stored.
        let bomb = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\"><!ENTITY lol2 \"&lol;&lol;&lol;&lol;\">]><data id=\"photo_test\" version=\"1\"><village>&lol2;</village><meta><instanceID>uuid:3</instanceID></meta></data>";
        let bad_name = photo_xml("uuid:44444444-4444-4444-8444-444444444444", "X", None)
            .replace("p.jpg", "../../etc/passwd");
        let wrong_version = photo_xml("uuid:55555555-5555-4555-8555-555555555555", "X", None)
            .replace("version=\"1\"", "version=\"0\"");
        let bad_value = "<data id=\"photo_test\" version=\"1\"><village>x</village><nope>1</nope><meta><instanceID>uuid:6</instanceID></meta></data>";
        for xml in [
            bomb,
            bad_name.as_str(),
            wrong_version.as_str(),
            bad_value,
            "not xml at all",
        ] {
            let res = phone.submit(xml, &[]).await;
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::BAD_REQUEST, "submission_invalid"),
                "{xml}"
            );
        }
        assert_eq!(
            core.store()
                .list_submissions(form.id, 0, 100)
                .await
                .unwrap()
                .len(),
            1
        );
        // Malformed multipart.
        let res = phone
            .http
            .post(format!("{base}/submission"))
            .header("X-OpenRosa-Version", "1.0")
            .header("content-type", "multipart/form-data; boundary=zzz")
            .body("--zzz\r\nbroken")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);

        // A closed form accepts nothing; a revoked phone gets nothing.
        core.set_form_state(&access, "photo_test", baraza_store::FormState::Closed)
            .await
            .unwrap();
        let late = photo_xml("uuid:77777777-7777-4777-8777-777777777777", "X", None);
        assert_eq!(
            error_code(phone.submit(&late, &[]).await).await.1,
            "form_not_open"
        );
        core.revoke_app_user(&access, app_user.id).await.unwrap();
        let res = phone.get(&format!("{base}/formList")).send().await.unwrap();
        assert_eq!(error_code(res).await.1, "invalid_token");

        // The demo's 300 submissions are all there, once each.
        let demo = core
            .store()
            .form_by_xml_id(access.project.id, "points_eau")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            core.store()
                .list_submissions(demo.id, 0, 1000)
                .await
                .unwrap()
                .len(),
            baraza::demo::SUBMISSIONS
        );
        let _ = Submitter::AppUser(0);
        app.stop().await;
    }
}

#[tokio::test]
async fn people_use_openrosa_with_basic_credentials() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let pid = app
            .core
            .store()
            .org_by_slug("eau-tchad")
            .await
            .unwrap()
            .map(|o| o.id)
            .unwrap();
        let project = app
            .core
            .store()
            .project_by_slug(pid, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap()
            .unwrap();
        let base = app.url(&format!("/v1/projects/{}", project.id.0));
        let http = reqwest::Client::new();
        // No credentials: a challenge Collect understands.
        let res = http
            .get(format!("{base}/formList"))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        assert!(res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic"));
        let res = http
            .get(format!("{base}/formList"))
            .basic_auth(FATIME, Some("wrong-password"))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
        // A collector lists forms and submits.
        let res = http
            .get(format!("{base}/formList"))
            .basic_auth(FATIME, Some("demo-fatime-2026"))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert!(res
            .text()
            .await
            .unwrap()
            .contains(&format!("{base}/forms/points_eau.xml")));
        let (_, version) = {
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
            app.core.form(&access, "points_eau").await.unwrap()
        };
        use rand::SeedableRng;
        let xml = baraza::demo::submission(
            9_999,
            &mut rand::rngs::StdRng::seed_from_u64(1),
            &version.version,
        );
        let post = |who: &'static str, password: &'static str| {
            let form = Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.clone().into_bytes()).file_name("s.xml"),
            );
            http.post(format!("{base}/submission"))
                .basic_auth(who, Some(password))
                .header("X-OpenRosa-Version", "1.0")
                .multipart(form)
                .send()
        };
        // A viewer may read forms but not submit.
        let res = post(MOUSSA, "demo-moussa-2026").await.unwrap();
        assert_eq!(error_code(res).await.1, "forbidden");
        let res = post(FATIME, "demo-fatime-2026").await.unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);
        // An outsider sees nothing of the project.
        let res = http
            .get(format!("{base}/formList"))
            .basic_auth(OUTSIDER, Some("outsider-password-1"))
            .header("X-OpenRosa-Version", "1.0")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        app.stop().await;
    }
}

const VILLAGE_FORM: &str = "| survey | | | |\n| | type | name | label |\n| | select_one_from_file villages.csv | village | Village |\n| | text | remarks | Remarks |\n| settings | | |\n| | form_id | version |\n| | villages_test | 3 |\n";

#[tokio::test]
async fn managers_upload_forms_and_their_files_and_collect_gets_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let claire = signed_in(&app, CLAIRE).await; // a manager
        let forms = format!("{}/forms", private_project());
        let token = csrf(&app, &claire, &forms).await;
        let upload = |name: &'static str, bytes: &'static [u8], to: String| {
            let form = Form::new()
                .text("_csrf", token.clone())
                .part("file", Part::bytes(bytes.to_vec()).file_name(name));
            claire
                .post(app.url(&to))
                .header("accept-language", "en")
                .multipart(form)
                .send()
        };
        // A broken form: refused, every problem listed where it is, nothing stored.
        let broken = b"| survey | | | |\n| | type | name | label |\n| | txet | a | A |\n| | select_one nope | b | B |\n";
        let res = upload("broken.md", broken, forms.clone()).await.unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let page = res.text().await.unwrap();
        // Claire reads French: so do the problems, each with its sheet, row and column.
        assert!(
            page.contains("type de question inconnu txet")
                && page.contains("la liste de choix nope n’est pas sur la feuille choices"),
            "{page}"
        );
        assert!(
            page.contains("<td>survey</td><td>2</td><td><code>type</code></td>"),
            "{page}"
        );
        // A good one, then its CSV file.
        let res = upload("villages.md", VILLAGE_FORM.as_bytes(), forms.clone())
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(res.headers()["location"], format!("{forms}/villages_test"));
        let csv: &'static [u8] = b"name,label\nfarcha,Farcha\nwalia,Walia\n";
        let res = upload(
            "villages.csv",
            csv,
            format!("{forms}/villages_test/attachments"),
        )
        .await
        .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = upload(
            "other.csv",
            csv,
            format!("{forms}/villages_test/attachments"),
        )
        .await
        .unwrap();
        assert_eq!(
            res.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "a file the form does not use"
        );
        let page: serde_json::Value = claire
            .get(app.url(&format!("{forms}/villages_test.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["files"][0]["name"], "villages.csv");
        assert_eq!(page["files"][0]["uploaded"], true);
        // The same version number with other content is a conflict.
        let changed: &'static [u8] = b"| survey | | | |\n| | type | name | label |\n| | text | x | X |\n| settings | | |\n| | form_id | version |\n| | villages_test | 3 |\n";
        let res = claire
            .post(app.url(&forms))
            .header("accept", "application/json")
            .multipart(
                Form::new()
                    .text("_csrf", token.clone())
                    .part("file", Part::bytes(changed.to_vec()).file_name("v.md")),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.1, "form_version_exists");
        // Publish, then Collect sees the file in the manifest and downloads it.
        let res = claire
            .post(app.url(&format!("{forms}/villages_test/state")))
            .form(&[("_csrf", token.as_str()), ("state", "published")])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
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
        let (_, key) = app
            .core
            .create_app_user(&access, &p, "phone")
            .await
            .unwrap();
        let phone = Phone {
            http: reqwest::Client::new(),
            base: app.url(&format!("/v1/key/{key}/projects/{}", access.project.id.0)),
        };
        let manifest = phone
            .get(&format!("{}/forms/villages_test/manifest", phone.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let doc = roxmltree::Document::parse(&manifest).unwrap();
        let file = doc
            .descendants()
            .find(|n| n.has_tag_name("mediaFile"))
            .expect("a media file");
        let get = |tag: &str| {
            file.children()
                .find(|c| c.has_tag_name(tag))
                .and_then(|c| c.text())
                .unwrap()
                .to_owned()
        };
        assert_eq!(get("filename"), "villages.csv");
        assert_eq!(get("hash"), baraza_openrosa::md5_hash(csv));
        let body = phone
            .get(&get("downloadUrl"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(&body[..], csv);
        let xform = phone
            .get(&format!("{}/forms/villages_test.xml", phone.base))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(xform.contains("jr://file-csv/villages.csv"));
        app.stop().await;
    }
}

#[tokio::test]
async fn collect_reads_refusals_as_openrosa_responses_in_the_phones_language() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let amina = core.store().user_by_email(AMINA).await.unwrap().unwrap();
        let amina_p = core.cli_principal(amina.id).await.unwrap();
        let access = core
            .project_access(&amina_p, "eau-tchad", baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        let (_, token) = core
            .create_app_user(&access, &amina_p, "Téléphone")
            .await
            .unwrap();
        let path = format!("/v1/key/{token}/projects/{}", access.project.id.0);
        let http = reqwest::Client::new();
        // A submission for a form version the server does not have, from a French phone.
        let xml = "<?xml version='1.0' ?><data id=\"points_eau\" version=\"1999\"><meta><instanceID>uuid:x</instanceID></meta></data>";
        let res = http
            .post(app.url(&format!("{path}/submission")))
            .header("X-OpenRosa-Version", "1.0")
            .header("Accept-Language", "fr-TD,fr")
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.as_bytes().to_vec()).file_name("submission.xml"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::BAD_REQUEST);
        assert!(res.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml"));
        assert_eq!(res.headers()["x-error-code"], "submission_invalid");
        let body = res.text().await.unwrap();
        assert!(
            body.contains("<message nature=\"error\">") && body.contains("1999"),
            "{body}"
        );
        assert!(body.contains("refus"), "in French: {body}");
        // A client that asks for JSON still gets the JSON envelope.
        let res = http
            .post(app.url(&format!("{path}/submission")))
            .header("X-OpenRosa-Version", "1.0")
            .header("Accept", "application/json")
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(xml.as_bytes().to_vec()).file_name("submission.xml"),
            ))
            .send()
            .await
            .unwrap();
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "submission_invalid");
        app.stop().await;
    }
}

const SEALED_PHOTO: &[u8] = b"\xff\xd8\xff\xe0 SENTINEL-PHOTO-SEALED-5521 \xff\xd9";

/// A photo sent by Collect never reaches the disk in clear: it is sealed as it arrives, under a
/// key of its own kept sealed in its row. Those who may see it download it through Central's
/// route, the same bytes; an analyst (photos are personal by default) cannot; a changed blob is
/// an error, never other bytes. A photo stored in clear by an older Baraza is sealed by the
/// housekeeping, and still downloads.
#[tokio::test]
async fn photos_are_sealed_at_rest_and_downloaded_only_by_those_who_see_them() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        let (amina, principal, access) = owner_access(core).await;
        core.upload_form(&access, &principal, "photo.md", PHOTO_FORM.as_bytes())
            .await
            .unwrap();
        core.set_form_state(&access, "photo_test", baraza_store::FormState::Published)
            .await
            .unwrap();
        let (_, token) = core
            .create_app_user(&access, &principal, "Téléphone de Kyabé")
            .await
            .unwrap();
        let pid = access.project.id.0;
        let phone = Phone {
            http: reqwest::Client::new(),
            base: app.url(&format!("/v1/key/{token}/projects/{pid}")),
        };
        let id = "uuid:5521aaaa-7a4d-4e8b-9c1f-2d6a8e0b5c71";
        let res = phone
            .submit(&photo_xml(id, "Kyabé", None), &[("p.jpg", SEALED_PHOTO)])
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        // The same upload again (Collect retries): one blob, not two.
        let blobs = blob_files(&app);
        let res = phone
            .submit(&photo_xml(id, "Kyabé", None), &[("p.jpg", SEALED_PHOTO)])
            .await;
        assert_eq!(res.status(), StatusCode::CREATED);
        assert_eq!(blob_files(&app), blobs, "the replay's copy is wiped");
        assert_eq!(
            traces(&app, "SENTINEL-PHOTO-SEALED-5521"),
            Vec::<String>::new(),
            "the photo is nowhere in clear"
        );

        let url = app.url(&format!(
            "/v1/projects/{pid}/forms/photo_test/submissions/{id}/attachments/p.jpg"
        ));
        let http = reqwest::Client::new();
        let owner = api_session(&app, AMINA).await;
        let res = http.get(&url).bearer_auth(&owner).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.headers()["content-type"], "image/jpeg");
        assert_eq!(res.headers()["x-content-type-options"], "nosniff");
        assert_eq!(
            res.headers()["content-disposition"],
            "attachment; filename=\"p.jpg\""
        );
        assert_eq!(res.bytes().await.unwrap().as_ref(), SEALED_PHOTO);
        let res = http
            .get(app.url(&format!(
                "/v1/projects/{pid}/forms/photo_test/submissions/{id}/attachments"
            )))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap();
        let list: serde_json::Value = res.json().await.unwrap();
        assert_eq!(list, serde_json::json!([{"name": "p.jpg", "exists": true}]));
        // Downloads are in the audit log.
        let audited = core
            .store()
            .audit_entries(&baraza_store::AuditQuery {
                action_prefix: Some("data.download".into()),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(audited.len(), 1, "{audited:?}");

        // The analyst sees the record but not its photo, here as everywhere.
        let analyst = api_session(&app, IDRISS).await;
        let res = http.get(&url).bearer_auth(&analyst).send().await.unwrap();
        assert_eq!(error_code(res).await.0, StatusCode::NOT_FOUND);
        let res = http
            .get(url.replace("p.jpg", "autre.jpg"))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap();
        assert_eq!(error_code(res).await.0, StatusCode::NOT_FOUND);

        // A changed byte in the blob: refused, not other bytes.
        let form = core
            .store()
            .form_by_xml_id(access.project.id, "photo_test")
            .await
            .unwrap()
            .unwrap();
        let row = core.store().submission(form.id, id).await.unwrap().unwrap();
        let att = core.store().submission_attachments(row.id).await.unwrap();
        let path = core
            .blobs()
            .path(att[0].sha256.as_deref().unwrap())
            .unwrap();
        let original = std::fs::read(&path).unwrap();
        let mut changed = original.clone();
        let at = changed.len() / 2;
        changed[at] ^= 0x01;
        std::fs::write(&path, &changed).unwrap();
        let res = http.get(&url).bearer_auth(&owner).send().await.unwrap();
        assert!(res.status().is_server_error(), "{}", res.status());
        std::fs::write(&path, &original).unwrap();

        // A photo an older Baraza stored in clear is sealed by the housekeeping.
        let clear = core.blobs().put(b"OLD-CLEAR-PHOTO-3307").await.unwrap();
        let old = "uuid:3307bbbb-7a4d-4e8b-9c1f-2d6a8e0b5c71";
        core.ingest_submission(
            access.project.id,
            Submitter::User(amina.id),
            photo_xml(old, "Sarh", None).as_bytes(),
            &[baraza_core::forms::IncomingFile {
                name: "p.jpg".into(),
                blob: clear,
                key: None,
            }],
        )
        .await
        .unwrap();
        assert!(!traces(&app, "OLD-CLEAR-PHOTO-3307").is_empty());
        assert_eq!(core.seal_existing_files().await.unwrap(), 1);
        assert_eq!(core.seal_existing_files().await.unwrap(), 0);
        assert_eq!(
            traces(&app, "OLD-CLEAR-PHOTO-3307"),
            Vec::<String>::new(),
            "the clear copy is wiped"
        );
        let res = http
            .get(url.replace(id, old))
            .bearer_auth(&owner)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(res.bytes().await.unwrap().as_ref(), b"OLD-CLEAR-PHOTO-3307");
        app.stop().await;
    }
}
