//! ODK Collect's HTTP conversation, replayed against the real server: the requests Collect makes
//! (with its headers, its multipart bodies, its split uploads and its resends) and what it needs
//! back, as written down in `fixtures/collect/conversation.json`. URLs of forms, manifests and
//! media are taken from the server's answers, as Collect takes them.

use crate::common::*;
use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::io::Read;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/fixtures/collect");

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Conversation {
    #[allow(dead_code)]
    about: Vec<String>,
    client_headers: BTreeMap<String, String>,
    setup: Setup,
    steps: Vec<Step>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Setup {
    #[allow(dead_code)]
    about: String,
    form: String,
    media: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Step {
    say: String,
    request: Req,
    expect: Expect,
    #[serde(default)]
    capture: Vec<Capture>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Req {
    method: String,
    url: String,
    #[serde(default)]
    multipart: Vec<PartSpec>,
}

/// A multipart field: a file beside the fixture, or a plain value.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PartSpec {
    name: String,
    filename: Option<String>,
    content_type: Option<String>,
    file: Option<String>,
    value: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Expect {
    status: u16,
    #[serde(default)]
    headers: BTreeMap<String, String>,
    #[serde(default)]
    header_contains: BTreeMap<String, String>,
    #[serde(default)]
    header_at_least: BTreeMap<String, u64>,
    #[serde(default)]
    body_contains: Vec<String>,
    #[serde(default)]
    body_lacks: Vec<String>,
    body_md5: Option<String>,
    body_file: Option<String>,
}

/// The text of the child `take` of the `within` element whose child `where.0` says `where.1`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Capture {
    name: String,
    #[serde(rename = "in")]
    within: String,
    #[serde(rename = "where")]
    matching: (String, String),
    take: String,
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{DIR}/{name}")).unwrap_or_else(|e| panic!("fixture {name}: {e}"))
}

/// Fills `{name}` placeholders; an unknown one is a mistake in the fixture.
fn fill(template: &str, vars: &BTreeMap<String, String>) -> String {
    let mut out = template.to_owned();
    for (k, v) in vars {
        out = out.replace(&format!("{{{k}}}"), v);
    }
    if let Some(start) = out.find('{') {
        let rest = &out[start + 1..];
        if let Some(end) = rest.find('}') {
            let name = &rest[..end];
            assert!(
                name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
                "unknown variable {{{name}}} in {template}"
            );
        }
    }
    out
}

fn capture(body: &str, c: &Capture) -> String {
    let doc = roxmltree::Document::parse(body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let child_text = |n: roxmltree::Node, tag: &str| {
        n.children()
            .find(|c| c.has_tag_name(tag))
            .and_then(|c| c.text())
            .map(str::to_owned)
    };
    doc.descendants()
        .filter(|n| n.has_tag_name(c.within.as_str()))
        .find(|n| child_text(*n, &c.matching.0).as_deref() == Some(c.matching.1.as_str()))
        .and_then(|n| child_text(n, &c.take))
        .unwrap_or_else(|| {
            panic!(
                "no <{}> of the <{}> whose <{}> is {}: {body}",
                c.take, c.within, c.matching.0, c.matching.1
            )
        })
}

#[tokio::test]
async fn odk_collect_conversation_replays_against_the_server() {
    let conv: Conversation =
        serde_json::from_slice(&fixture("conversation.json")).expect("conversation.json");
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let core = &app.core;
        // The project publishes the inspection form next to the demo's survey, with its logo,
        // and gives a phone its QR code (an app user).
        let amina = core.store().user_by_email(AMINA).await.unwrap().unwrap();
        let p = core.cli_principal(amina.id).await.unwrap();
        let access = core
            .project_access(&p, baraza::demo::ORG_SLUG, baraza::demo::PRIVATE_PROJECT)
            .await
            .unwrap();
        let up = core
            .upload_form(&access, &p, &conv.setup.form, &fixture(&conv.setup.form))
            .await
            .unwrap();
        let form_id = up.form.xml_form_id.clone();
        for m in &conv.setup.media {
            core.put_form_attachment(&access, &form_id, m, &fixture(m))
                .await
                .unwrap();
        }
        core.set_form_state(&access, &form_id, baraza_store::FormState::Published)
            .await
            .unwrap();
        let (_, token) = core
            .create_app_user(&access, &p, "Téléphone d’Achta")
            .await
            .unwrap();

        let mut vars = BTreeMap::new();
        vars.insert(
            "server".to_owned(),
            app.url(&format!("/v1/key/{token}/projects/{}", access.project.id.0)),
        );
        let http = reqwest::Client::new();
        for step in &conv.steps {
            let say = &step.say;
            let url = fill(&step.request.url, &vars);
            let method = Method::from_bytes(step.request.method.as_bytes()).unwrap();
            let mut req = http.request(method, &url);
            for (k, v) in &conv.client_headers {
                req = req.header(k, v);
            }
            if !step.request.multipart.is_empty() {
                let mut form = Form::new();
                for part in &step.request.multipart {
                    form = match (&part.file, &part.value) {
                        (Some(file), None) => {
                            let mut p = Part::bytes(fixture(file));
                            if let Some(f) = &part.filename {
                                p = p.file_name(f.clone());
                            }
                            if let Some(ct) = &part.content_type {
                                p = p.mime_str(ct).unwrap();
                            }
                            form.part(part.name.clone(), p)
                        }
                        (None, Some(value)) => form.text(part.name.clone(), value.clone()),
                        _ => panic!("{say}: a part has a file or a value"),
                    };
                }
                req = req.multipart(form);
            }
            let res = req.send().await.unwrap();
            let status = res.status().as_u16();
            let headers = res.headers().clone();
            let raw = res.bytes().await.unwrap().to_vec();
            let gzipped = headers
                .get("content-encoding")
                .is_some_and(|v| v.as_bytes() == b"gzip");
            let body = if gzipped {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&raw[..])
                    .read_to_end(&mut out)
                    .expect("gzip body");
                out
            } else {
                raw
            };
            let text = String::from_utf8_lossy(&body).into_owned();
            let e = &step.expect;
            assert_eq!(status, e.status, "{say}: {url}: {text}");
            let header = |name: &str| {
                headers
                    .get(name)
                    .unwrap_or_else(|| panic!("{say}: no {name} header in {headers:?}"))
                    .to_str()
                    .unwrap()
                    .to_owned()
            };
            for (k, v) in &e.headers {
                assert_eq!(header(k), fill(v, &vars), "{say}: {k}");
            }
            for (k, v) in &e.header_contains {
                assert!(header(k).contains(&fill(v, &vars)), "{say}: {k}");
            }
            for (k, min) in &e.header_at_least {
                let n: u64 = header(k).parse().unwrap();
                assert!(n >= *min, "{say}: {k} = {n}");
            }
            for s in &e.body_contains {
                let s = fill(s, &vars);
                assert!(text.contains(&s), "{say}: {s:?} not in {text}");
            }
            for s in &e.body_lacks {
                assert!(!text.contains(s.as_str()), "{say}: {s:?} in {text}");
            }
            if let Some(md5) = &e.body_md5 {
                assert_eq!(baraza_openrosa::md5_hash(&body), fill(md5, &vars), "{say}");
            }
            if let Some(file) = &e.body_file {
                assert!(body == fixture(file), "{say}: not the bytes of {file}");
            }
            for c in &step.capture {
                vars.insert(c.name.clone(), capture(&text, c));
            }
        }

        // What the server kept: the inspection once, in its edited version, with both photos in
        // each version; every XML byte for byte.
        let form = core
            .store()
            .form_by_xml_id(access.project.id, &form_id)
            .await
            .unwrap()
            .unwrap();
        let current = core
            .store()
            .list_submissions(form.id, 0, 100)
            .await
            .unwrap();
        assert_eq!(current.len(), 1);
        let history = core
            .store()
            .submission_history(form.id, &current[0].root_instance_id)
            .await
            .unwrap();
        assert_eq!(history.len(), 2);
        for (row, xml) in history
            .iter()
            .zip(["inspection.xml", "inspection-edit.xml"])
        {
            assert_eq!(
                core.submission_xml(&access, &form_id, &row.instance_id)
                    .await
                    .unwrap(),
                fixture(xml)
            );
            let atts = core.store().submission_attachments(row.id).await.unwrap();
            assert_eq!(atts.len(), 2, "{atts:?}");
            for f in atts {
                assert!(f.sha256.is_some(), "{} missing", f.name);
                assert_eq!(
                    core.stored_attachment(access.project.id, row.id, &f.name)
                        .await
                        .unwrap(),
                    fixture(&f.name)
                );
            }
        }
        let water = core
            .submission_xml(
                &access,
                "points_eau",
                "uuid:3f1c9b2e-7a4d-4e8b-9c1f-2d6a8e0b5c71",
            )
            .await
            .unwrap();
        assert_eq!(water, fixture("points_eau.xml"));
        app.stop().await;
    }
}
