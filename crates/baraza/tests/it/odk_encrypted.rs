//! ODK encrypted forms, as their users meet them: a manager turns encryption on with a
//! passphrase, ODK Collect (played by Python's `cryptography`, independent of our Rust code)
//! fetches the form with its public key and posts encrypted submissions over OpenRosa, with
//! both MGF1 variants and an encrypted photo; the server keeps them unreadable until the manager
//! decrypts them into the protected store, where the personal answers are sealed. A wrong
//! passphrase, a tampered file, an unknown envelope change nothing; a replay gives one record.
//! A form whose author holds its key is decrypted with the PEM, which is never kept.

use crate::common::*;
use baraza_store::Backend;
use reqwest::multipart::{Form, Part};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};

const NAME: &str = "Achta SENTINEL-CHIFFRE-4417";
const PASSPHRASE: &str = "le fleuve Chari coule vers le lac";
const PHOTO: &[u8] = b"\xff\xd8\xff\xe0 a photo of the water point PHOTO-ENC-2231";

fn form(id: &str, public_key: Option<&str>) -> String {
    let (col, val) = match public_key {
        Some(k) => (" public_key |", format!(" {k} |")),
        None => ("", String::new()),
    };
    format!(
        "| survey | | | |\n| | type | name | label |\n| | text | nom_complet | Nom complet |\n| | text | village | Village |\n| | image | photo | Photo |\n| settings | | | |\n| | form_id | version |{col}\n| | {id} | 1 |{val}\n"
    )
}

fn python_ok() -> bool {
    let ok = std::process::Command::new("python3")
        .args(["-c", "import cryptography"])
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        assert!(
            std::env::var("CI").map(|v| v != "true").unwrap_or(true),
            "CI=true but Python's cryptography is not installed"
        );
    }
    ok
}

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/fixtures/collect/odk_encrypt.py")
}

/// A key pair made by Python (an author who keeps the private key).
fn python_keypair() -> (String, String) {
    let out = std::process::Command::new("python3")
        .arg(script())
        .arg("--keypair")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    (
        v["public_key"].as_str().unwrap().to_owned(),
        v["private_pem"].as_str().unwrap().to_owned(),
    )
}

/// What ODK Collect would post: the envelope and the encrypted files (name, bytes).
struct Encrypted {
    envelope: String,
    files: Vec<(String, Vec<u8>)>,
}

fn encrypt(
    public_key: &str,
    mgf: &str,
    form_id: &str,
    version: &str,
    instance: &str,
    name: &str,
) -> Encrypted {
    let xml = format!(
        "<data id=\"{form_id}\" version=\"{version}\" xmlns:orx=\"http://openrosa.org/xforms\"><nom_complet>{name}</nom_complet><village>Abéché</village><photo>photo.jpg</photo><orx:meta><orx:instanceID>{instance}</orx:instanceID></orx:meta></data>"
    );
    let dir = std::env::temp_dir().join(format!(
        "baraza-odk-{}-{}",
        std::process::id(),
        instance.replace(':', "-")
    ));
    let _ = std::fs::remove_dir_all(&dir);
    let req = json!({
        "public_key": public_key, "mgf": mgf, "form_id": form_id, "version": version,
        "instance_id": instance, "xml": xml, "media": [["photo.jpg", hex::encode(PHOTO)]],
    });
    let mut child = std::process::Command::new("python3")
        .arg(script())
        .arg(&dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(req.to_string().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let envelope = std::fs::read_to_string(dir.join("submission.xml")).unwrap();
    let files = ["photo.jpg.enc", "submission.xml.enc"]
        .iter()
        .map(|n| (n.to_string(), std::fs::read(dir.join(n)).unwrap()))
        .collect();
    let _ = std::fs::remove_dir_all(&dir);
    Encrypted { envelope, files }
}

/// Posts as ODK Collect does: the envelope as `xml_submission_file`, each `.enc` file a part.
async fn post(base: &str, e: &Encrypted) -> reqwest::Response {
    post_part(base, e, false).await
}

/// One request of a split upload (`*isIncomplete*` on all but the last).
async fn post_part(base: &str, e: &Encrypted, incomplete: bool) -> reqwest::Response {
    let mut form = Form::new().part(
        "xml_submission_file",
        Part::bytes(e.envelope.clone().into_bytes())
            .file_name("submission.xml")
            .mime_str("text/xml")
            .unwrap(),
    );
    for (name, bytes) in &e.files {
        form = form.part(
            name.clone(),
            Part::bytes(bytes.clone())
                .file_name(name.clone())
                .mime_str("application/octet-stream")
                .unwrap(),
        );
    }
    if incomplete {
        form = form.text("*isIncomplete*", "yes");
    }
    reqwest::Client::new()
        .post(format!("{base}/submission"))
        .header("X-OpenRosa-Version", "1.0")
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn get_text(c: &reqwest::Client, url: String) -> String {
    c.get(url)
        .header("X-OpenRosa-Version", "1.0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

fn served_key(xform: &str) -> String {
    let at = xform
        .find("base64RsaPublicKey=\"")
        .expect("the XForm has a public key");
    let rest = &xform[at + "base64RsaPublicKey=\"".len()..];
    rest[..rest.find('"').unwrap()].to_owned()
}

async fn pending(app: &TestApp, c: &reqwest::Client, form: &str) -> i64 {
    let page: Value = c
        .get(app.url(&format!("{}/forms/{form}.json", private_project())))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    page["encrypted_pending"].as_i64().unwrap()
}

async fn decrypt(
    app: &TestApp,
    c: &reqwest::Client,
    form: &str,
    field: &str,
    value: &str,
) -> reqwest::Response {
    let url = format!("{}/forms/{form}/decrypt", private_project());
    let token = csrf(app, c, &url).await;
    c.post(app.url(&format!("{url}.json")))
        .form(&[("_csrf", token.as_str()), (field, value)])
        .send()
        .await
        .unwrap()
}

async fn record(app: &TestApp, c: &reqwest::Client, form: &str, instance: &str) -> String {
    c.get(app.url(&format!(
        "{}/forms/{form}/submissions/{instance}.json",
        private_project()
    )))
    .send()
    .await
    .unwrap()
    .text()
    .await
    .unwrap()
}

/// The form published in the demo's private project, and an app user's OpenRosa base URL.
async fn setup(app: &TestApp, id: &str, public_key: Option<&str>) -> String {
    let core = &app.core;
    let (_, principal, access) = owner_access(core).await;
    core.upload_form(&access, &principal, "f.md", form(id, public_key).as_bytes())
        .await
        .expect("form");
    core.set_form_state(&access, id, baraza_store::FormState::Published)
        .await
        .unwrap();
    let (_, token) = core
        .create_app_user(&access, &principal, "Téléphone chiffré")
        .await
        .unwrap();
    app.url(&format!("/v1/key/{token}/projects/{}", access.project.id.0))
}

#[tokio::test]
async fn collect_encrypts_and_a_manager_decrypts_into_the_protected_store() {
    if !python_ok() {
        return;
    }
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let base = setup(&app, "secret", None).await;
        let phone = reqwest::Client::new();
        let claire = signed_in(&app, CLAIRE).await;
        let list_before = get_text(&phone, format!("{base}/formList")).await;

        // The manager turns encryption on; a short passphrase or two different ones are refused.
        let url = format!("{}/encryption", private_project());
        for (p, again, code) in [
            ("court", "court", "validation_failed"),
            (PASSPHRASE, "autre chose encore", "validation_failed"),
        ] {
            let token = csrf(&app, &claire, &url).await;
            let res = claire
                .post(app.url(&format!("{url}.json")))
                .form(&[
                    ("_csrf", token.as_str()),
                    ("passphrase", p),
                    ("passphrase_again", again),
                    ("hint", "le fleuve"),
                ])
                .send()
                .await
                .unwrap();
            assert_eq!(error_code(res).await.1, code);
        }
        let token = csrf(&app, &claire, &url).await;
        let res = claire
            .post(app.url(&url))
            .form(&[
                ("_csrf", token.as_str()),
                ("passphrase", PASSPHRASE),
                ("passphrase_again", PASSPHRASE),
                ("hint", "le fleuve"),
            ])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection());
        let page: Value = claire
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["enabled"], true, "{page}");
        assert_eq!(page["hint"], "le fleuve");
        let secret = page["forms"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["xml_form_id"] == "secret")
            .unwrap();
        assert_eq!(secret["key"], "managed", "{page}");

        // Collect sees a new version (another hash) and gets the public key with it.
        let list = get_text(&phone, format!("{base}/formList")).await;
        assert_ne!(list, list_before);
        assert!(list.contains("1[encrypted]"), "{list}");
        let xform = get_text(&phone, format!("{base}/forms/secret.xml")).await;
        let key = served_key(&xform);

        // Both MGF1 variants, with an encrypted photo; a replay is one record.
        let a = encrypt(&key, "sha256", "secret", "1[encrypted]", "uuid:enc-a", NAME);
        let b = encrypt(
            &key,
            "sha1",
            "secret",
            "1[encrypted]",
            "uuid:enc-b",
            "Hassan",
        );
        // Collect splits a large upload: the photo first (marked incomplete), then the rest
        // with the same envelope, which is a replay that adds the missing file.
        let first = Encrypted {
            envelope: b.envelope.clone(),
            files: vec![b.files[0].clone()],
        };
        assert_eq!(
            post_part(&base, &first, true).await.status(),
            StatusCode::CREATED
        );
        assert_eq!(pending(&app, &claire, "secret").await, 1);
        for e in [&a, &b, &a] {
            let res = post(&base, e).await;
            assert_eq!(res.status(), StatusCode::CREATED);
        }
        assert_eq!(pending(&app, &claire, "secret").await, 2);
        // Another envelope under the same instanceID is a conflict.
        let a2 = encrypt(&key, "sha256", "secret", "1[encrypted]", "uuid:enc-a", "x");
        assert_eq!(
            error_code(post(&base, &a2).await).await.1,
            "submission_conflict"
        );
        // An envelope with an element ODK's has not, or without its signature, is refused.
        let odd = Encrypted {
            envelope: a
                .envelope
                .replace("</data>", "<nom_complet>x</nom_complet></data>"),
            files: vec![],
        };
        let (status, code, _) = error_code(post(&base, &odd).await).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::BAD_REQUEST, "encrypted_submission_invalid")
        );
        let unsigned = Encrypted {
            envelope: a.envelope.replace("uuid:enc-a", "uuid:enc-u").replace(
                &a.envelope[a
                    .envelope
                    .find("<base64EncryptedElementSignature>")
                    .unwrap()..a.envelope.find("</data>").unwrap()],
                "",
            ),
            files: vec![],
        };
        assert_eq!(
            error_code(post(&base, &unsigned).await).await.1,
            "encrypted_submission_invalid"
        );

        // Nothing readable yet: no record in the table, the name nowhere in clear.
        assert!(record(&app, &claire, "secret", "uuid:enc-a")
            .await
            .contains("not_found"));

        // A wrong passphrase changes nothing.
        let res = decrypt(&app, &claire, "secret", "passphrase", "pas la bonne phrase").await;
        assert_eq!(error_code(res).await.1, "form_key_wrong");
        assert_eq!(pending(&app, &claire, "secret").await, 2);

        // The right one decrypts both into the protected store.
        let res = decrypt(&app, &claire, "secret", "passphrase", PASSPHRASE).await;
        assert_eq!(res.status(), StatusCode::OK);
        let done: Value = res.json().await.unwrap();
        assert_eq!(done["result"]["decrypted"], 2, "{done}");
        assert_eq!(pending(&app, &claire, "secret").await, 0);
        let page = record(&app, &claire, "secret", "uuid:enc-a").await;
        assert!(
            page.contains("SENTINEL-CHIFFRE-4417") && page.contains("photo.jpg"),
            "{page}"
        );
        assert!(record(&app, &claire, "secret", "uuid:enc-b")
            .await
            .contains("Hassan"));
        // The analyst does not see the personal answer.
        let idriss = signed_in(&app, IDRISS).await;
        let page = record(&app, &idriss, "secret", "uuid:enc-a").await;
        assert!(
            !page.contains("SENTINEL-CHIFFRE-4417") && page.contains("Abéché"),
            "{page}"
        );
        // The decrypted photo is the record's attachment (Central's API).
        let api = reqwest::Client::new();
        let bearer = api_session(&app, CLAIRE).await;
        let pid = base.rsplit('/').next().unwrap().to_owned();
        let photo = api
            .get(app.url(&format!(
                "/v1/projects/{pid}/forms/secret/submissions/uuid:enc-a/attachments"
            )))
            .bearer_auth(&bearer)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(
            photo.contains("photo.jpg") && photo.contains("true"),
            "{photo}"
        );

        // A replay after decryption changes nothing.
        assert_eq!(post(&base, &a).await.status(), StatusCode::CREATED);
        assert_eq!(pending(&app, &claire, "secret").await, 0);

        // A tampered file: refused at decryption, nothing changed.
        let mut t = encrypt(
            &key,
            "sha256",
            "secret",
            "1[encrypted]",
            "uuid:enc-t",
            "Tampered",
        );
        let last = t.files[1].1.len() - 20;
        t.files[1].1[last] ^= 0x01;
        assert_eq!(post(&base, &t).await.status(), StatusCode::CREATED);
        let res = decrypt(&app, &claire, "secret", "passphrase", PASSPHRASE).await;
        let (status, code, message) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (
                StatusCode::UNPROCESSABLE_ENTITY,
                "encrypted_submission_tampered"
            ),
            "{message}"
        );
        assert_eq!(pending(&app, &claire, "secret").await, 1);
        assert!(record(&app, &claire, "secret", "uuid:enc-t")
            .await
            .contains("not_found"));
        // The manager erases it; the form's decryption is no longer stopped.
        let url = format!("{}/forms/secret/decrypt", private_project());
        let page: Value = claire
            .get(app.url(&format!("{url}.json")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["records"][0]["instance_id"], "uuid:enc-t", "{page}");
        assert_eq!(page["records"][0]["complete"], true);
        let token = csrf(&app, &claire, &url).await;
        let res = claire
            .post(app.url(&format!("{url}/erase")))
            .form(&[("_csrf", token.as_str()), ("instance", "uuid:enc-t")])
            .send()
            .await
            .unwrap();
        assert!(res.status().is_success() || res.status().is_redirection());
        assert_eq!(pending(&app, &claire, "secret").await, 0);
        let res = decrypt(&app, &claire, "secret", "passphrase", PASSPHRASE).await;
        assert_eq!(res.status(), StatusCode::OK);

        // The decryption is in the audit log, without the passphrase.
        let audit = claire
            .get(app.url(&format!("{}/audit.json", private_project())))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(audit.contains("data.decrypted"), "{audit}");
        assert!(audit.contains("data.encrypted_erased"), "{audit}");
        assert!(!audit.contains("Chari"));

        if backend == Backend::Sqlite {
            // Sealed at rest: the name is in no file; the passphrase was never written.
            assert_eq!(traces(&app, "SENTINEL-CHIFFRE-4417"), Vec::<String>::new());
            assert_eq!(traces(&app, "coule vers le lac"), Vec::<String>::new());
        }
        app.stop().await;
    }
}

#[tokio::test]
async fn a_form_whose_author_holds_the_key_is_decrypted_with_its_pem() {
    if !python_ok() {
        return;
    }
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (public, pem) = python_keypair();
        let base = setup(&app, "auteur", Some(&public)).await;
        let phone = reqwest::Client::new();
        let xform = get_text(&phone, format!("{base}/forms/auteur.xml")).await;
        assert_eq!(served_key(&xform), public);
        let e = encrypt(&public, "sha1", "auteur", "1", "uuid:auteur-1", NAME);
        assert_eq!(post(&base, &e).await.status(), StatusCode::CREATED);
        // A clear submission is accepted too, as ODK Central accepts it.
        let clear = "<data id=\"auteur\" version=\"1\"><nom_complet>Clair</nom_complet><village>Mongo</village><meta><instanceID>uuid:clair</instanceID></meta></data>";
        let res = reqwest::Client::new()
            .post(format!("{base}/submission"))
            .header("X-OpenRosa-Version", "1.0")
            .multipart(Form::new().part(
                "xml_submission_file",
                Part::bytes(clear.as_bytes().to_vec()).file_name("submission.xml"),
            ))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::CREATED);

        let claire = signed_in(&app, CLAIRE).await;
        let page: Value = claire
            .get(app.url(&format!("{}/forms/auteur/decrypt.json", private_project())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(page["form"]["key"], "author", "{page}");
        assert_eq!(page["form"]["pending"], 1);
        // Another key, or no PEM at all, changes nothing.
        let (_, other) = python_keypair();
        let res = decrypt(&app, &claire, "auteur", "private_key", &other).await;
        assert_eq!(error_code(res).await.1, "form_key_wrong");
        let res = decrypt(&app, &claire, "auteur", "private_key", "not a key").await;
        assert_eq!(error_code(res).await.1, "validation_failed");
        assert_eq!(pending(&app, &claire, "auteur").await, 1);
        let res = decrypt(&app, &claire, "auteur", "private_key", &pem).await;
        assert_eq!(res.status(), StatusCode::OK);
        let done: Value = res.json().await.unwrap();
        assert_eq!(done["result"]["decrypted"], 1, "{done}");
        assert!(record(&app, &claire, "auteur", "uuid:auteur-1")
            .await
            .contains("SENTINEL-CHIFFRE-4417"));
        if backend == Backend::Sqlite {
            // The private key was never written anywhere.
            let line = pem.lines().nth(1).unwrap();
            assert_eq!(traces(&app, line), Vec::<String>::new());
            assert_eq!(traces(&app, "SENTINEL-CHIFFRE-4417"), Vec::<String>::new());
        }
        app.stop().await;
    }
}
