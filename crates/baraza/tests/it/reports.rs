//! Citizen reports (docs/reports.md), as gateways, citizens, moderators and the public meet
//! them on a running server: every gateway's webhook in its documented shape, checked,
//! acknowledged and taken once; repeats by content; categories and places read from free text;
//! the sender's number seen by managers only, in no page, file or log line of anyone else;
//! moderation with its checklist; the public map's k; the web form; the outbox; alerts.

use crate::common::*;
use baraza_reports::gateway::{generic_signature, twilio_signature};
use baraza_store::Backend;
use base64::Engine as _;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A public project of the demo organisation made for these tests, with the demo's people in
/// their usual roles.
const SLUG: &str = "signalements-essai";

/// The citizen's number, and how it might be written anywhere it leaks.
const NUMBER: &str = "+23566123456";
const SPELLINGS: [&str; 5] = [
    "66123456",
    "+23566123456",
    "23566123456",
    "66 12 34 56",
    "%2B23566123456",
];

fn project() -> String {
    format!("/orgs/{}/projects/{SLUG}", baraza::demo::ORG_SLUG)
}

fn reports() -> String {
    format!("{}/reports", project())
}

fn settings_page() -> String {
    format!("{}/settings", reports())
}

/// The app with Chad's calling code, loopback allowed for outbound calls (the outbox test's
/// bridge), and the test project.
async fn spawn(backend: Backend) -> TestApp {
    let app = TestApp::spawn_with(
        backend,
        &[
            ("default_calling_code", "235"),
            ("harvest_allow_private_addresses", "true"),
        ],
    )
    .await;
    let (_, owner, _) = owner_access(&app.core).await;
    app.core
        .create_project(
            &owner,
            baraza::demo::ORG_SLUG,
            &baraza_core::orgs::ProjectInput {
                name: "Signalements citoyens (essai)".into(),
                slug: SLUG.into(),
                description: "Pannes et incidents signalés par SMS et sur le web.".into(),
                visibility: baraza_types::Visibility::Public,
            },
        )
        .await
        .expect("test project");
    let access = app
        .core
        .project_access(&owner, baraza::demo::ORG_SLUG, SLUG)
        .await
        .unwrap();
    use baraza_types::Role;
    for (email, role) in [
        (CLAIRE, Role::Manager),
        (IDRISS, Role::Analyst),
        (FATIME, Role::Collector),
        (MOUSSA, Role::Viewer),
    ] {
        app.core.set_member(&access, email, role).await.unwrap();
    }
    app
}

/// Posts a form as a browser would (no JSON asked for).
async fn post_html(
    app: &TestApp,
    c: &reqwest::Client,
    page: &str,
    to: &str,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    let token = csrf(app, c, page).await;
    let mut form = vec![("_csrf", token.as_str())];
    form.extend_from_slice(fields);
    c.post(app.url(to))
        .header("accept-language", "en")
        .form(&form)
        .send()
        .await
        .unwrap()
}

/// Saves the report settings through their form (the owner); `over` replaces the defaults.
async fn save_settings(app: &TestApp, owner: &reqwest::Client, over: &[(&str, &str)]) {
    let mut fields: Vec<(&str, &str)> = vec![
        ("hide_author", "1"),
        ("fuzz", "none"),
        ("fuzz_km", "10"),
        ("k_threshold", "5"),
        ("categories", ""),
        ("checklist", ""),
        ("sms_forms", ""),
        ("alert_threshold", "0"),
        ("alert_window_hours", "24"),
    ];
    for (k, v) in over {
        fields.retain(|(f, _)| f != k);
        fields.push((k, v));
    }
    let res = post_html(app, owner, &settings_page(), &settings_page(), &fields).await;
    let status = res.status();
    assert_eq!(
        status,
        StatusCode::SEE_OTHER,
        "settings saved: {}",
        res.text().await.unwrap()
    );
}

#[derive(Debug, Clone)]
struct Channel {
    id: i64,
    /// `/hooks/reports/{token}`.
    hook: String,
}

/// Adds a channel through the JSON twin of the settings page's form.
async fn add_channel(
    app: &TestApp,
    owner: &reqwest::Client,
    gateway: &str,
    secret: &str,
    outbound: &str,
) -> Channel {
    let name = format!("{gateway} channel");
    let res = post_form(
        app,
        owner,
        &settings_page(),
        &format!("{}/channels", reports()),
        &[
            ("gateway", gateway),
            ("name", &name),
            ("secret", secret),
            ("outbound", outbound),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED, "channel {gateway}");
    let v: Value = res.json().await.unwrap();
    assert_eq!(v["gateway"], gateway, "{v}");
    assert!(
        !v.to_string().contains(secret),
        "the secret is not shown: {v}"
    );
    Channel {
        id: v["id"].as_i64().unwrap(),
        hook: v["webhook_path"].as_str().unwrap().to_owned(),
    }
}

/// Turns a channel off or on with the settings page's button.
async fn channel_enabled(app: &TestApp, owner: &reqwest::Client, ch: &Channel, on: bool) {
    let res = post_html(
        app,
        owner,
        &settings_page(),
        &format!("{}/channels/{}/state", reports(), ch.id),
        &[("enabled", if on { "1" } else { "0" })],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn rfc3339(t: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(t)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap()
}

/// An HS256 JWT, as httpSMS's webhook service signs it.
fn hs256_jwt(key: &str, claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let h = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = b64.encode(claims.to_string());
    // HMAC-SHA256 of `header.payload`: the generic webhook's signature is the same MAC in hex.
    let mac = hex::decode(generic_signature(key, format!("{h}.{p}").as_bytes())).unwrap();
    format!("{h}.{p}.{}", b64.encode(mac))
}

/// One incoming SMS.
#[derive(Debug, Clone, Copy)]
struct Sms<'a> {
    /// The gateway's message id.
    id: &'a str,
    /// The sender as the gateway writes it.
    from: &'a str,
    text: &'a str,
}

/// The request `gateway` makes for `sms` to the channel's webhook, in the gateway's documented
/// shape (the payloads of `baraza_reports::gateway`'s tests), authenticated with `secret`.
fn webhook(
    app: &TestApp,
    gateway: &str,
    ch: &Channel,
    secret: &str,
    sms: Sms<'_>,
) -> reqwest::RequestBuilder {
    let c = reqwest::Client::new();
    let url = app.url(&ch.hook);
    let now = app.clock_now();
    let form = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    match gateway {
        "twilio" => {
            let params = form(&[
                ("ToCountry", "TD"),
                ("SmsMessageSid", sms.id),
                ("NumMedia", "0"),
                ("SmsSid", sms.id),
                ("SmsStatus", "received"),
                ("Body", sms.text),
                ("To", "+23522510000"),
                ("NumSegments", "1"),
                ("MessageSid", sms.id),
                ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
                ("From", sms.from),
                ("ApiVersion", "2010-04-01"),
            ]);
            // Signed over the URL the server sees: its Host, as no public URL is set.
            let sig = twilio_signature(secret, &url, &params);
            c.post(url).header("x-twilio-signature", sig).form(&params)
        }
        "africastalking" => {
            let date = time::OffsetDateTime::from_unix_timestamp(now - 30).unwrap();
            let date = format!(
                "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
                date.year(),
                u8::from(date.month()),
                date.day(),
                date.hour(),
                date.minute(),
                date.second()
            );
            let params = form(&[
                ("linkId", "SampleLinkId123"),
                ("text", sms.text),
                ("to", "28901"),
                ("id", sms.id),
                ("date", &date),
                ("from", sms.from),
            ]);
            // The callback URL configured in the dashboard carries the secret.
            c.post(format!("{url}?secret={secret}")).form(&params)
        }
        "frontlinesms" => c.post(url).form(&[
            ("from", sms.from),
            ("message", sms.text),
            ("secret", secret),
        ]),
        "smssync" => {
            let ts = ((now - 30) * 1000).to_string();
            c.post(url).form(&[
                ("from", sms.from),
                ("message", sms.text),
                ("message_id", sms.id),
                ("sent_to", "+23566000000"),
                ("secret", secret),
                ("device_id", "1"),
                ("sent_timestamp", ts.as_str()),
            ])
        }
        "httpsms" => {
            let claims = json!({"aud": url, "exp": now + 600, "iat": now,
                "iss": "api.httpsms.com", "nbf": now - 600, "sub": "XtABz6zdeFMoBLoltz6SREDvRSh2"});
            let event = json!({
                "data": {
                    "contact": sms.from,
                    "content": sms.text,
                    "message_id": sms.id,
                    "owner": "+23522510000",
                    "sim": "SIM1",
                    "timestamp": rfc3339(now - 30),
                    "user_id": "XtABz6zdeFMoBLoltz6SREDvRSh2"
                },
                "datacontenttype": "application/json",
                "id": format!("event-{}", sms.id),
                "source": "/v1/messages/receive",
                "specversion": "1.0",
                "time": rfc3339(now - 29),
                "type": "message.phone.received"
            });
            c.post(url)
                .header("x-event-type", "message.phone.received")
                .header(
                    "authorization",
                    format!("Bearer {}", hs256_jwt(secret, &claims)),
                )
                .json(&event)
        }
        "rapidpro" => {
            let body = json!({
                "contact": {"uuid": "0e4a5c5b-ef8b-4f6b-8a6a-0b5d0c2c1f11", "name": "Awa",
                            "urn": format!("tel:{}", sms.from)},
                "flow": {"uuid": "50c3706e-fedb-42c0-8eab-dda3335714b7", "name": "Signalement"},
                "path": [],
                "results": {},
                "run": {"uuid": "4213ac47-93fd-48c4-af12-7da8218ef09d", "created_on": rfc3339(now - 20)},
                "input": {
                    "attachments": [],
                    "channel": {"uuid": "61602f3e-f603-4c70-8a8f-c477505bf4bf", "name": "Airtel"},
                    "created_on": rfc3339(now - 30),
                    "text": sms.text,
                    "type": "msg",
                    "urn": {"display": sms.from, "path": sms.from, "scheme": "tel"},
                    "uuid": sms.id
                },
                "channel": {"uuid": "61602f3e-f603-4c70-8a8f-c477505bf4bf", "name": "Airtel",
                            "address": "+23522510000"}
            });
            c.post(url)
                .header("authorization", format!("Token {secret}"))
                .json(&body)
        }
        "generic" => {
            let body = json!({"id": sms.id, "from": sms.from, "to": "1313", "text": sms.text,
                              "received_at": rfc3339(now - 30)})
            .to_string();
            c.post(url)
                .header("content-type", "application/json")
                .header(
                    "x-baraza-signature",
                    format!("sha256={}", generic_signature(secret, body.as_bytes())),
                )
                .body(body)
        }
        other => panic!("no gateway {other}"),
    }
}

trait ClockNow {
    fn clock_now(&self) -> i64;
}

impl ClockNow for TestApp {
    fn clock_now(&self) -> i64 {
        use baraza_core::Clock;
        self.clock.now()
    }
}

/// Sends an SMS and expects it taken: 200 with the gateway's acknowledgement.
async fn deliver(app: &TestApp, gateway: &str, ch: &Channel, secret: &str, sms: Sms<'_>) {
    let res = webhook(app, gateway, ch, secret, sms).send().await.unwrap();
    let status = res.status();
    let ct = res.headers()["content-type"].to_str().unwrap().to_owned();
    let body = res.text().await.unwrap();
    assert_eq!(status, StatusCode::OK, "{gateway}: {body}");
    match gateway {
        "twilio" => {
            assert!(ct.starts_with("text/xml"), "{ct}");
            assert_eq!(
                body,
                "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>"
            );
        }
        "smssync" | "frontlinesms" => {
            assert!(ct.starts_with("application/json"), "{ct}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v["payload"]["success"], true, "{gateway}: {v}");
        }
        _ => {
            assert!(ct.starts_with("application/json"), "{ct}");
            let v: Value = serde_json::from_str(&body).unwrap();
            assert_eq!(v, json!({"ok": true}), "{gateway}");
        }
    }
}

/// Sends an SMS and expects it refused as not from the gateway.
async fn refused(app: &TestApp, gateway: &str, ch: &Channel, secret: &str, sms: Sms<'_>) {
    let res = webhook(app, gateway, ch, secret, sms).send().await.unwrap();
    let (status, code, _) = error_code(res).await;
    assert_eq!(
        (status, code.as_str()),
        (StatusCode::UNAUTHORIZED, "webhook_refused"),
        "{gateway}"
    );
}

/// The moderation queue's first page as `c` sees it (`query` without its `?`).
async fn queue(app: &TestApp, c: &reqwest::Client, query: &str) -> Value {
    let res = c
        .get(app.url(&format!("{}.json?{query}", reports())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    res.json().await.unwrap()
}

/// The reports of the queue whose text is `text`.
async fn with_text(app: &TestApp, c: &reqwest::Client, text: &str) -> Vec<Value> {
    let v = queue(app, c, "").await;
    v["reports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["body"] == text)
        .cloned()
        .collect()
}

/// The one report whose text is `text`.
async fn report_with_text(app: &TestApp, c: &reqwest::Client, text: &str) -> Value {
    let found = with_text(app, c, text).await;
    assert_eq!(found.len(), 1, "one report {text:?}: {found:?}");
    found[0].clone()
}

const GATEWAYS: [&str; 7] = [
    "twilio",
    "africastalking",
    "frontlinesms",
    "smssync",
    "httpsms",
    "rapidpro",
    "generic",
];

#[tokio::test]
async fn every_gateway_is_taken_once_acknowledged_and_refused_when_not_genuine() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;

        // Twilio through the settings page's form, as a person adds it; the page lists it with
        // its webhook, and neither the page nor its twin shows the auth token.
        let twilio_secret = "twilio-auth-token-0123456789";
        let res = post_html(
            &app,
            &amina,
            &settings_page(),
            &format!("{}/channels", reports()),
            &[
                ("gateway", "twilio"),
                ("name", "Twilio Tchad"),
                ("secret", twilio_secret),
                ("outbound", "account_sid=AC0123\nfrom=+23522510000"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let settings = get_json(&app, &amina, &settings_page()).await;
        let tw = &settings["channels"][0];
        assert_eq!(tw["gateway"], "twilio", "{settings}");
        assert_eq!(tw["outbound_keys"], json!(["account_sid", "from"]));
        let twilio = Channel {
            id: tw["id"].as_i64().unwrap(),
            hook: tw["webhook_path"].as_str().unwrap().to_owned(),
        };
        let page = amina
            .get(app.url(&settings_page()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(page.contains(&twilio.hook), "the page shows the webhook");
        assert!(!page.contains(twilio_secret) && !settings.to_string().contains(twilio_secret));

        // The sender as each gateway writes it: all are the same person.
        let froms = [
            ("twilio", "+23566123456"),
            ("africastalking", "+235 66 12 34 56"),
            ("frontlinesms", "066123456"),
            ("smssync", "+23566123456"),
            ("httpsms", "+23566123456"),
            ("rapidpro", "+23566123456"),
            ("generic", "0023566123456"),
        ];
        let mut taken = 0;
        for (i, gateway) in GATEWAYS.into_iter().enumerate() {
            let secret = format!("{gateway}-secret-0123456789");
            let ch = if gateway == "twilio" {
                twilio.clone()
            } else {
                add_channel(&app, &amina, gateway, &secret, "").await
            };
            let secret = if gateway == "twilio" {
                twilio_secret.to_owned()
            } else {
                secret
            };
            let from = froms[i].1;
            let text = format!("EAU forage en panne, message par {gateway}");
            let id = format!("{gateway}-msg-1");
            let sms = Sms {
                id: &id,
                from,
                text: &text,
            };

            // Not genuine: refused, nothing stored.
            refused(&app, gateway, &ch, "wrong-secret-0123456789", sms).await;
            assert!(
                with_text(&app, &idriss, &text).await.is_empty(),
                "{gateway}"
            );

            // Genuine: taken; the same message again is acknowledged alike and stores nothing.
            deliver(&app, gateway, &ch, &secret, sms).await;
            deliver(&app, gateway, &ch, &secret, sms).await;
            let r = report_with_text(&app, &idriss, &text).await;
            taken += 1;
            assert_eq!(r["source"], "sms");
            assert_eq!(r["state"], "in_review");
            let name = if gateway == "twilio" {
                "Twilio Tchad".to_owned()
            } else {
                format!("{gateway} channel")
            };
            assert_eq!(r["channel"], name);
            // The same person whatever the gateway's spelling: the same pseudonym.
            let first = queue(&app, &idriss, "").await["reports"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["sender"].clone())
                .collect::<Vec<_>>();
            assert!(
                first.iter().all(|s| *s == r["sender"]),
                "{gateway}: {first:?}"
            );
            assert!(r["sender"].as_str().is_some_and(|s| !s.is_empty()));

            // Turned off, the channel refuses even genuine messages; on again, it takes them.
            channel_enabled(&app, &amina, &ch, false).await;
            let text2 = format!("INCENDIE message par {gateway}, canal coupé");
            let id2 = format!("{gateway}-msg-2");
            let sms2 = Sms {
                id: &id2,
                from,
                text: &text2,
            };
            refused(&app, gateway, &ch, &secret, sms2).await;
            assert!(with_text(&app, &idriss, &text2).await.is_empty());
            channel_enabled(&app, &amina, &ch, true).await;
            deliver(&app, gateway, &ch, &secret, sms2).await;
            report_with_text(&app, &idriss, &text2).await;
            taken += 1;
            let q = queue(&app, &idriss, "").await;
            assert_eq!(q["total"], taken, "{gateway}: {q}");
        }

        // An unknown token is nobody's channel.
        let res = reqwest::Client::new()
            .post(app.url("/hooks/reports/0123456789abcdef0123456789abcdef"))
            .json(&json!({"from": NUMBER, "text": "x"}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        // A genuine httpSMS event that is not a message: acknowledged, nothing stored.
        let hs = settings_channel(&app, &amina, "httpsms").await;
        let now = app.clock_now();
        let url = app.url(&hs.hook);
        let claims = json!({"aud": url, "exp": now + 600, "iss": "api.httpsms.com"});
        let res = reqwest::Client::new()
            .post(url)
            .header(
                "authorization",
                format!(
                    "Bearer {}",
                    hs256_jwt("httpsms-secret-0123456789", &claims)
                ),
            )
            .json(&json!({"type": "message.phone.sent", "data": {"contact": NUMBER, "content": "envoyé"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        assert_eq!(queue(&app, &idriss, "").await["total"], taken);
        app.stop().await;
    }
}

/// A channel of the settings page by gateway.
async fn settings_channel(app: &TestApp, owner: &reqwest::Client, gateway: &str) -> Channel {
    let s = get_json(app, owner, &settings_page()).await;
    let c = s["channels"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["gateway"] == gateway)
        .unwrap_or_else(|| panic!("no {gateway} channel: {s}"))
        .clone();
    Channel {
        id: c["id"].as_i64().unwrap(),
        hook: c["webhook_path"].as_str().unwrap().to_owned(),
    }
}

#[tokio::test]
async fn the_same_text_from_the_same_sender_within_ten_minutes_is_one_report() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let secret = "bridge-secret-0123456789";
        let ch = add_channel(&app, &amina, "generic", secret, "").await;
        let text = "EAU la pompe du quartier est en panne";
        let send = |id: &'static str, from: &'static str, text: &'static str| {
            deliver(&app, "generic", &ch, secret, Sms { id, from, text })
        };
        send("m-1", NUMBER, text).await;
        // Another provider id (the phone sent it twice), five minutes later, other spacing
        // and case: the same report.
        app.clock.advance(300);
        send(
            "m-2",
            "+235 66 12 34 56",
            "eau  la pompe du quartier est en PANNE",
        )
        .await;
        assert_eq!(queue(&app, &idriss, "").await["total"], 1);
        // In the next ten-minute window still.
        app.clock.advance(400);
        send("m-3", NUMBER, text).await;
        assert_eq!(queue(&app, &idriss, "").await["total"], 1);
        // Another text: another report; another sender with the same text: another report.
        send("m-4", NUMBER, "EAU la pompe fuit aussi").await;
        assert_eq!(queue(&app, &idriss, "").await["total"], 2);
        send("m-5", "+23599887766", text).await;
        assert_eq!(queue(&app, &idriss, "").await["total"], 3);
        // Much later the same words are news again.
        app.clock.advance(3600);
        send("m-6", NUMBER, text).await;
        assert_eq!(queue(&app, &idriss, "").await["total"], 4);
        let same = with_text(&app, &idriss, text).await;
        assert_eq!(same.len(), 3, "{same:?}");
        app.stop().await;
    }
}

#[tokio::test]
async fn free_text_gets_its_category_and_place() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        save_settings(
            &app,
            &amina,
            &[(
                "categories",
                "incendie | Fire | Incendie | INCENDIE FEU\neau | Water | Eau | EAU WATER",
            )],
        )
        .await;
        let secret = "bridge-secret-0123456789";
        let ch = add_channel(&app, &amina, "generic", secret, "").await;
        // (text, category, place code): unaccented, misspelt, a keyword typo, no keyword, no
        // place.
        let cases = [
            ("INCENDIE marché central OUADDAI", "incendie", Some("TD-OD")),
            ("INCENDEI marché Ouadai", "incendie", Some("TD-OD")),
            ("feu au marché de NDJAMENA", "incendie", Some("TD-ND")),
            ("EAU forage en panne Logone Ocidental", "eau", Some("TD-LO")),
            ("la borne de Moyen Chari ne coule plus", "", Some("TD-MC")),
            ("INCENDIE grand marché", "incendie", None),
        ];
        for (i, (text, category, place)) in cases.iter().enumerate() {
            let id = format!("m-{i}");
            deliver(
                &app,
                "generic",
                &ch,
                secret,
                Sms {
                    id: &id,
                    from: NUMBER,
                    text,
                },
            )
            .await;
            let r = report_with_text(&app, &idriss, text).await;
            assert_eq!(r["category"], *category, "{text}: {r}");
            assert_eq!(r["place_code"].as_str(), *place, "{text}: {r}");
            if place.is_some() {
                assert!(r["lat"].is_number() && r["lon"].is_number(), "{r}");
                assert!(!r["place_name"].as_str().unwrap().is_empty());
            } else {
                assert_eq!(r["place_match"], "none");
            }
        }
        // The queue filters by category and by place.
        let fires = queue(&app, &idriss, "category=incendie").await;
        assert_eq!(fires["total"], 4);
        let od = queue(&app, &idriss, "place=TD-OD").await;
        assert_eq!(od["total"], 2);
        // A moderator corrects a report that named no place.
        let r = report_with_text(&app, &idriss, "INCENDIE grand marché").await;
        let page = format!("{}/{}", reports(), r["id"]);
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/place"),
            &[("category", "incendie"), ("place", "TD-GR")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &idriss, &page).await;
        assert_eq!(d["report"]["place_code"], "TD-GR");
        assert_eq!(d["report"]["place_name"], "Guéra");
        let res = post_form(
            &app,
            &idriss,
            &page,
            &format!("{page}/place"),
            &[("category", "incendie"), ("place", "TD-XX")],
        )
        .await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        app.stop().await;
    }
}

/// A log sink for the tracing events of the threads that ask for it.
#[derive(Clone, Default)]
struct LogBuf(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for LogBuf {
    type Writer = LogBuf;
    fn make_writer(&'a self) -> LogBuf {
        self.clone()
    }
}

/// The threads whose events are kept.
static CAPTURED: Mutex<Vec<std::thread::ThreadId>> = Mutex::new(Vec::new());

/// Every tracing event of the calling thread from now on, at the most talkative level, as the
/// server's log would print it. (A subscriber set for one thread only misses events whose
/// call sites other tests' threads saw first; one global subscriber keeps this thread's.)
fn capture_logs() -> LogBuf {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::Layer;
    static BUF: std::sync::OnceLock<LogBuf> = std::sync::OnceLock::new();
    let buf = BUF.get_or_init(|| {
        let buf = LogBuf::default();
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(buf.clone())
            .with_filter(tracing_subscriber::filter::dynamic_filter_fn(|_, _| {
                CAPTURED
                    .lock()
                    .map(|t| t.contains(&std::thread::current().id()))
                    .unwrap_or(false)
            }));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other test sets a global subscriber");
        buf
    });
    CAPTURED.lock().unwrap().push(std::thread::current().id());
    buf.clone()
}

fn leaks(what: &str, text: &str) {
    for s in SPELLINGS {
        assert!(!text.contains(s), "{what} shows the number as {s:?}");
    }
}

#[tokio::test]
async fn the_senders_number_is_never_exposed_but_to_managers() {
    for backend in backends() {
        // Every log event of the server at its most talkative (the test runs the server on its
        // own thread).
        let logs = capture_logs();

        let app = spawn(backend).await;
        assert!(
            traces(&app, "66123456").is_empty(),
            "no file holds the number before"
        );
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let claire = signed_in(&app, CLAIRE).await;
        let moussa = signed_in(&app, MOUSSA).await;
        let fatime = signed_in(&app, FATIME).await;
        save_settings(
            &app,
            &amina,
            &[
                ("web_form", "1"),
                ("k_threshold", "1"),
                ("categories", "eau | Water | Eau | EAU"),
            ],
        )
        .await;
        let secret = "twilio-auth-token-0123456789";
        let ch = add_channel(
            &app,
            &amina,
            "twilio",
            secret,
            "account_sid=AC0123\nfrom=+23522510000",
        )
        .await;
        let text = "EAU forage en panne depuis trois jours OUADDAI";
        deliver(
            &app,
            "twilio",
            &ch,
            secret,
            Sms {
                id: "SM1f0e8ae6ade23cb3c0ce4524424e406f",
                from: NUMBER,
                text,
            },
        )
        .await;
        // A moderator publishes it and comments.
        let r = report_with_text(&app, &idriss, text).await;
        let id = r["id"].as_i64().unwrap();
        let page = format!("{}/{id}", reports());
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[("state", "published")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/comments"),
            &[("body", "Confirmé par le comité de gestion")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);

        // What the public, a viewer, a collector and a moderator can read.
        let anonymous = browser();
        let paths = [
            project(),
            reports(),
            format!("{}.json", reports()),
            format!("{}.csv", reports()),
            format!("{}.json?state=published&state=in_review", reports()),
            format!("{}/map", reports()),
            format!("{}/map.json", reports()),
            format!("{}/map?z=7&lat=13.5&lon=20.8", reports()),
            format!("{}.geojson", reports()),
            format!("{}.geojson?zoom=9&bbox=15,10,25,16", reports()),
            page.clone(),
            format!("{page}.json"),
            format!("{}/new", reports()),
        ];
        for (who, c) in [
            ("anonymous", &anonymous),
            ("viewer", &moussa),
            ("collector", &fatime),
            ("analyst", &idriss),
        ] {
            for p in &paths {
                let res = c.get(app.url(p)).send().await.unwrap();
                assert_eq!(res.status(), StatusCode::OK, "{who} {p}");
                let body = res.text().await.unwrap();
                leaks(&format!("{p} for {who}"), &body);
            }
            // The report is there to be seen, only without its sender.
            let d = get_json(&app, c, &page).await;
            assert_eq!(d["report"]["body"], text, "{who}");
            assert!(d["sender_contact"].is_null(), "{who}: {d}");
            let csv = c
                .get(app.url(&format!("{}.csv", reports())))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(csv.contains("forage en panne"), "{who}: {csv}");
            let geo: Value = c
                .get(app.url(&format!("{}.geojson", reports())))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            assert_eq!(geo["reports"], 1, "{who}: {geo}");
            // The project's audit log is for managers.
            let res = c
                .get(app.url(&format!("{}/audit", project())))
                .send()
                .await
                .unwrap();
            assert_ne!(res.status(), StatusCode::OK, "{who}");
            leaks(
                &format!("the audit log for {who}"),
                &res.text().await.unwrap(),
            );
        }
        // Moderators know reports from the same person by a pseudonym, not the number.
        let d = get_json(&app, &idriss, &page).await;
        assert!(d["report"]["sender"]
            .as_str()
            .is_some_and(|s| !s.is_empty()));
        let anon = get_json(&app, &anonymous, &page).await;
        assert!(anon["report"]["sender"].is_null(), "{anon}");

        // A manager sees the number on the report's page, and that reading is audited.
        let html = claire
            .get(app.url(&page))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains(NUMBER), "the manager sees the number");
        let d = get_json(&app, &claire, &page).await;
        assert_eq!(d["sender_contact"], NUMBER);
        // …but not in the lists, the map or the files.
        for p in [
            format!("{}.json", reports()),
            format!("{}.csv", reports()),
            format!("{}.geojson", reports()),
            format!("{}/map", reports()),
        ] {
            let body = claire
                .get(app.url(&p))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            leaks(&format!("{p} for the manager"), &body);
        }
        for c in [&claire, &amina] {
            let audit = c
                .get(app.url(&format!("{}/audit.json", project())))
                .send()
                .await
                .unwrap();
            assert_eq!(audit.status(), StatusCode::OK);
            let audit = audit.text().await.unwrap();
            leaks("the audit log", &audit);
            let v: Value = serde_json::from_str(&audit).unwrap();
            let reads: Vec<&Value> = v["entries"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["action"] == "report.sender_read")
                .collect();
            assert_eq!(reads.len(), 2, "two readings by the manager: {v}");
            let html = c
                .get(app.url(&format!("{}/audit", project())))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            leaks("the audit page", &html);
            assert!(html.contains("report.sender_read"));
        }
        let admin = signed_in(&app, ADMIN).await;
        let site = admin
            .get(app.url("/-/audit.json"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(site.contains("report.sender_read"));
        leaks("the site's audit log", &site);

        // No file of the instance (its SQLite database included) holds the number in clear,
        // and no log line of the server does.
        assert_eq!(traces(&app, "66123456"), Vec::<String>::new());
        assert_eq!(traces(&app, "23566123456"), Vec::<String>::new());
        app.stop().await;
        let log = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
        assert!(
            log.contains("/hooks/reports/") && log.contains("request"),
            "the server's requests were logged here: {} bytes, {}",
            log.len(),
            log.chars().take(3000).collect::<String>()
        );
        leaks("the server's log", &log);
    }
}

#[tokio::test]
async fn moderation_follows_the_checklist_and_the_public_sees_only_published_reports() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let moussa = signed_in(&app, MOUSSA).await;
        let fatime = signed_in(&app, FATIME).await;
        let anonymous = browser();
        save_settings(
            &app,
            &amina,
            &[
                ("k_threshold", "1"),
                (
                    "checklist",
                    "Source rappelée par téléphone\nLieu confirmé par le comité",
                ),
            ],
        )
        .await;
        let secret = "bridge-secret-0123456789";
        let ch = add_channel(&app, &amina, "generic", secret, "").await;
        let text = "EAU borne-fontaine cassée à Abéché, OUADDAI";
        deliver(
            &app,
            "generic",
            &ch,
            secret,
            Sms {
                id: "m-1",
                from: NUMBER,
                text,
            },
        )
        .await;
        let r = report_with_text(&app, &idriss, text).await;
        let page = format!("{}/{}", reports(), r["id"]);
        let d = get_json(&app, &idriss, &page).await;
        assert_eq!(
            d["next_states"],
            json!(["verified", "published", "rejected"]),
            "{d}"
        );
        assert_eq!(d["checklist"].as_array().unwrap().len(), 2);

        // Not yet public: the public list, its map and the report's page know nothing of it.
        let public = get_json(&app, &anonymous, &reports()).await;
        assert_eq!(public["total"], 0, "{public}");
        assert_eq!(public["moderator"], false);
        let res = anonymous.get(app.url(&page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = moussa.get(app.url(&page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let geo: Value = anonymous
            .get(app.url(&format!("{}.geojson", reports())))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            (geo["reports"].clone(), geo["hidden"].clone()),
            (json!(0), json!(0))
        );

        // People who do not moderate cannot move it.
        for (who, c) in [("viewer", &moussa), ("collector", &fatime)] {
            let res = post_form(
                &app,
                c,
                "/",
                &format!("{page}/state"),
                &[("state", "published")],
            )
            .await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
            let res = post_form(&app, c, "/", &format!("{page}/comments"), &[("body", "ok")]).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{who}");
        }
        assert_eq!(
            get_json(&app, &idriss, &page).await["report"]["state"],
            "in_review"
        );

        // Verified needs the whole checklist: one item is not enough.
        let res = post_form(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[
                ("state", "verified"),
                ("check", "Source rappelée par téléphone"),
            ],
        )
        .await;
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNPROCESSABLE_ENTITY, "validation_failed")
        );
        assert_eq!(
            get_json(&app, &idriss, &page).await["report"]["state"],
            "in_review"
        );
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[
                ("state", "verified"),
                ("check", "Source rappelée par téléphone"),
                ("check", "Lieu confirmé par le comité"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &idriss, &page).await;
        assert_eq!(d["report"]["state"], "verified");
        assert!(
            d["checklist"]
                .as_array()
                .unwrap()
                .iter()
                .all(|c| c[1] == true),
            "{d}"
        );
        // Verified is not public yet.
        assert_eq!(get_json(&app, &anonymous, &reports()).await["total"], 0);

        // A comment, then published (the checklist stays ticked).
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/comments"),
            &[("body", "Le comité confirme : la borne est cassée.")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[
                ("state", "published"),
                ("check", "Source rappelée par téléphone"),
                ("check", "Lieu confirmé par le comité"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let d = get_json(&app, &idriss, &page).await;
        assert_eq!(d["report"]["state"], "published");
        assert_eq!(
            d["comments"][0]["body"],
            "Le comité confirme : la borne est cassée."
        );
        assert_eq!(d["comments"][0]["author"], "Idriss Abakar");
        let html = idriss
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("Le comité confirme"));

        // Public now: in the list, on its page (without comments), on the map.
        let public = get_json(&app, &anonymous, &reports()).await;
        assert_eq!(public["total"], 1, "{public}");
        assert_eq!(public["reports"][0]["body"], text);
        assert_eq!(public["reports"][0]["channel"], "");
        let d = get_json(&app, &anonymous, &page).await;
        assert_eq!(d["comments"], json!([]));
        assert_eq!(d["next_states"], json!([]));
        let map = get_json(&app, &anonymous, &format!("{}/map", reports())).await;
        assert_eq!(map["shown"], 1, "{map}");
        assert_eq!(map["moderator"], false);
        let res = anonymous.get(app.url(&page)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);

        // Archived: out of the public's sight, and it stays archived.
        let res = post_html(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[("state", "archived")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        assert_eq!(get_json(&app, &anonymous, &reports()).await["total"], 0);
        let map = get_json(&app, &anonymous, &format!("{}/map", reports())).await;
        assert_eq!(map["shown"], 0, "{map}");
        for to in ["published", "in_review", "verified"] {
            let res = post_form(
                &app,
                &idriss,
                &page,
                &format!("{page}/state"),
                &[
                    ("state", to),
                    ("check", "Source rappelée par téléphone"),
                    ("check", "Lieu confirmé par le comité"),
                ],
            )
            .await;
            let (status, code, _) = error_code(res).await;
            assert_eq!(
                (status, code.as_str()),
                (StatusCode::CONFLICT, "report_transition"),
                "archived → {to}"
            );
        }
        let d = get_json(&app, &idriss, &page).await;
        assert_eq!(d["report"]["state"], "archived");
        assert_eq!(d["next_states"], json!([]));
        let res = post_form(
            &app,
            &idriss,
            &page,
            &format!("{page}/state"),
            &[("state", "lost")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

        // The moderator's queue counts it; every move is in the audit log.
        let q = queue(&app, &idriss, "state=archived").await;
        assert_eq!(q["total"], 1);
        let claire = signed_in(&app, CLAIRE).await;
        let audit = get_json(&app, &claire, &format!("{}/audit", project())).await;
        let moves = audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["action"] == "report.state")
            .count();
        assert_eq!(moves, 3, "{audit}");
        app.stop().await;
    }
}

/// Sends a web report as `c` (a moderator may always); returns its id.
async fn web_report(app: &TestApp, c: &reqwest::Client, body: &str, place: &str) -> i64 {
    let res = post_form(
        app,
        c,
        &format!("{}/new", reports()),
        &reports(),
        &[("body", body), ("place", place)],
    )
    .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    res.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn publish(app: &TestApp, moderator: &reqwest::Client, id: i64) {
    let page = format!("{}/{id}", reports());
    let res = post_html(
        app,
        moderator,
        &page,
        &format!("{page}/state"),
        &[("state", "published")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn geojson(app: &TestApp, c: &reqwest::Client) -> Value {
    let res = c
        .get(app.url(&format!("{}.geojson", reports())))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/geo+json"));
    res.json().await.unwrap()
}

fn counted(geo: &Value) -> u64 {
    geo["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["count"].as_u64().unwrap())
        .sum()
}

#[tokio::test]
async fn the_public_map_hides_places_with_fewer_than_k_reports() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let anonymous = browser();
        // k = 5 (the default, saved).
        save_settings(&app, &amina, &[("k_threshold", "5")]).await;
        let mut ids = Vec::new();
        for i in 0..3 {
            let id = web_report(&app, &amina, &format!("Forage en panne n°{i}"), "TD-OD").await;
            publish(&app, &idriss, id).await;
            ids.push(id);
        }
        // One report left in review elsewhere: moderators see it, the public never.
        web_report(&app, &amina, "Latrines débordent", "TD-ND").await;

        let public = geojson(&app, &anonymous).await;
        assert_eq!(public["k"], 5);
        assert_eq!(public["features"], json!([]), "{public}");
        assert_eq!(public["hidden"], 3, "{public}");
        assert_eq!(public["reports"], 0);
        let map = get_json(&app, &anonymous, &format!("{}/map", reports())).await;
        assert_eq!(
            (map["shown"].clone(), map["hidden"].clone()),
            (json!(0), json!(3)),
            "{map}"
        );
        let html = anonymous
            .get(app.url(&format!("{}/map", reports())))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("<svg"), "the map is drawn");
        // The public list still lists them (a list shows no position beyond the place).
        assert_eq!(get_json(&app, &anonymous, &reports()).await["total"], 3);

        // A moderator sees every report where it is.
        let modv = geojson(&app, &idriss).await;
        assert_eq!(counted(&modv), 4, "{modv}");
        assert_eq!(modv["hidden"], 0);
        let only_published = idriss
            .get(app.url(&format!("{}.geojson?state=published", reports())))
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        assert_eq!(counted(&only_published), 3, "{only_published}");

        // Two more published in the same province: five, shown to the public.
        for i in 3..5 {
            let id = web_report(&app, &amina, &format!("Forage en panne n°{i}"), "TD-OD").await;
            publish(&app, &idriss, id).await;
        }
        let public = geojson(&app, &anonymous).await;
        assert_eq!(counted(&public), 5, "{public}");
        assert_eq!(public["hidden"], 0);
        let map = get_json(&app, &anonymous, &format!("{}/map", reports())).await;
        assert_eq!(map["shown"], 5, "{map}");
        // Bad views are refused clearly.
        let res = anonymous
            .get(app.url(&format!("{}.geojson?bbox=1,2,3", reports())))
            .header("accept", "application/json")
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        app.stop().await;
    }
}

#[tokio::test]
async fn the_web_form_takes_anonymous_reports_only_when_turned_on() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let claire = signed_in(&app, CLAIRE).await;
        let anonymous = browser();
        let new = format!("{}/new", reports());

        // Off (the default): no form, and a post is not taken.
        let res = anonymous.get(app.url(&new)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = post_form(
            &app,
            &anonymous,
            "/login",
            &reports(),
            &[("body", "Forage en panne")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(queue(&app, &idriss, "").await["total"], 0);

        save_settings(
            &app,
            &amina,
            &[("web_form", "1"), ("categories", "eau | Water | Eau | EAU")],
        )
        .await;
        let html = anonymous
            .get(app.url(&new))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap();
        assert_eq!(html.status(), StatusCode::OK);
        let html = html.text().await.unwrap();
        assert!(html.contains("name=\"body\"") && html.contains("name=\"contact\""));

        // A mistake shows the form again with what was typed.
        let text = "La borne-fontaine du marché de Farcha est cassée";
        let res = post_html(
            &app,
            &anonymous,
            &new,
            &reports(),
            &[
                ("category", "eau"),
                ("body", text),
                ("place", "TD-ND"),
                ("lat", "douze"),
                ("lon", "15.05"),
                ("contact", "66 99 88 77"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let again = res.text().await.unwrap();
        assert!(again.contains(text), "the text is kept");
        assert!(again.contains("66 99 88 77") && again.contains("douze"));
        assert!(again.contains("name=\"_csrf\""));
        let res = post_html(&app, &anonymous, &new, &reports(), &[("body", "   ")]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let res = post_html(
            &app,
            &anonymous,
            &new,
            &reports(),
            &[("body", text), ("category", "vol")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
        assert!(res.text().await.unwrap().contains(text));
        assert_eq!(queue(&app, &idriss, "").await["total"], 0);

        // Right: stored, and thanked.
        let res = post_html(
            &app,
            &anonymous,
            &new,
            &reports(),
            &[
                ("category", "eau"),
                ("body", text),
                ("place", "TD-ND"),
                ("lat", "12,13"),
                ("lon", "15.05"),
                ("contact", "66 99 88 77"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let to = res.headers()["location"].to_str().unwrap().to_owned();
        assert_eq!(to, format!("{new}?sent=1"));
        let thanks = anonymous
            .get(app.url(&to))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(thanks.contains("role=\"status\""));

        // The moderator sees it, without the contact; the manager with it.
        let r = report_with_text(&app, &idriss, text).await;
        assert_eq!(r["source"], "web");
        assert_eq!(r["category"], "eau");
        assert_eq!(r["place_code"], "TD-ND");
        assert_eq!(r["lat"], 12.13);
        assert_eq!(
            r["author"],
            Value::Null,
            "an anonymous report has no author"
        );
        let page = format!("{}/{}", reports(), r["id"]);
        for p in [
            page.clone(),
            format!("{page}.json"),
            format!("{}.json", reports()),
        ] {
            let body = idriss
                .get(app.url(&p))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            assert!(body.contains("Farcha"), "{p}");
            for s in ["66998877", "66 99 88 77", "+23566998877"] {
                assert!(!body.contains(s), "{p} shows the contact to a moderator");
            }
        }
        let d = get_json(&app, &claire, &page).await;
        assert_eq!(d["sender_contact"], "+23566998877");
        let html = claire
            .get(app.url(&page))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(html.contains("+23566998877"));
        assert!(traces(&app, "66998877").is_empty());

        // A signed-in person's report names them to moderators.
        let fatime = signed_in(&app, FATIME).await;
        let res = post_html(
            &app,
            &fatime,
            &new,
            &reports(),
            &[("body", "Robinet qui fuit à Moundou")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let r = report_with_text(&app, &idriss, "Robinet qui fuit à Moundou").await;
        assert_eq!(r["author"], "Fatimé Haroun");

        // Off again: refused again.
        save_settings(&app, &amina, &[]).await;
        let res = anonymous.get(app.url(&new)).send().await.unwrap();
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        let res = post_html(
            &app,
            &anonymous,
            "/login",
            &reports(),
            &[("body", "Encore")],
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
        assert_eq!(queue(&app, &idriss, "").await["total"], 2);
        app.stop().await;
    }
}

/// A messaging bridge on loopback that records what it is sent and answers 200, or 500 when
/// told to fail.
/// A request the bridge received: its headers and body.
type Received = (axum::http::HeaderMap, Vec<u8>);

#[derive(Clone, Default)]
struct Bridge {
    got: Arc<Mutex<Vec<Received>>>,
    fail: Arc<AtomicBool>,
}

async fn start_bridge() -> (String, Bridge) {
    use axum::extract::State;
    async fn take(
        State(b): State<Bridge>,
        headers: axum::http::HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::http::StatusCode {
        b.got.lock().unwrap().push((headers, body.to_vec()));
        if b.fail.load(Ordering::SeqCst) {
            axum::http::StatusCode::INTERNAL_SERVER_ERROR
        } else {
            axum::http::StatusCode::OK
        }
    }
    let bridge = Bridge::default();
    let router = axum::Router::new()
        .route("/sms/out", axum::routing::post(take))
        .with_state(bridge.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/sms/out", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    (url, bridge)
}

#[tokio::test]
async fn replies_leave_through_the_outbox_and_smssync_phones_poll_for_theirs() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let (bridge_url, bridge) = start_bridge().await;
        let secret = "bridge-secret-0123456789";
        let ch = add_channel(
            &app,
            &amina,
            "generic",
            secret,
            &format!("url={bridge_url}"),
        )
        .await;
        assert_eq!(app.core.send_due_replies().await.unwrap(), 0);

        deliver(
            &app,
            "generic",
            &ch,
            secret,
            Sms {
                id: "m-1",
                from: "066123456",
                text: "EAU panne au forage de Walia",
            },
        )
        .await;
        assert!(
            bridge.got.lock().unwrap().is_empty(),
            "nothing leaves before the worker runs"
        );
        assert_eq!(app.core.send_due_replies().await.unwrap(), 1);
        let (headers, body) = bridge.got.lock().unwrap()[0].clone();
        let v: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["to"], NUMBER, "{v}");
        assert!(v["text"].as_str().unwrap().contains("Merci"), "{v}");
        assert!(v["id"].as_str().is_some_and(|i| !i.is_empty()), "{v}");
        let mut keys: Vec<&String> = v.as_object().unwrap().keys().collect();
        keys.sort();
        assert_eq!(keys, ["id", "text", "to"]);
        assert_eq!(
            headers["x-baraza-signature"].to_str().unwrap(),
            format!("sha256={}", generic_signature(secret, &body))
        );
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
        // Sent once only.
        assert_eq!(app.core.send_due_replies().await.unwrap(), 0);
        assert_eq!(bridge.got.lock().unwrap().len(), 1);
        let r = report_with_text(&app, &idriss, "EAU panne au forage de Walia").await;
        let d = get_json(&app, &idriss, &format!("{}/{}", reports(), r["id"])).await;
        assert_eq!(d["replies"][0]["state"], "sent", "{d}");

        // The bridge fails: the reply stays pending, tried once, for later.
        bridge.fail.store(true, Ordering::SeqCst);
        let text = "EAU la borne de Chagoua est sèche";
        deliver(
            &app,
            "generic",
            &ch,
            secret,
            Sms {
                id: "m-2",
                from: NUMBER,
                text,
            },
        )
        .await;
        assert_eq!(app.core.send_due_replies().await.unwrap(), 0);
        assert_eq!(bridge.got.lock().unwrap().len(), 2);
        let r = report_with_text(&app, &idriss, text).await;
        let out = app
            .core
            .store()
            .report_outgoing(r["id"].as_i64().unwrap())
            .await
            .unwrap();
        assert_eq!(out.len(), 1);
        let now_ms = app.clock_now() * 1000;
        assert_eq!((out[0].state.as_str(), out[0].attempts), ("pending", 1));
        assert!(
            out[0].next_at_ms >= now_ms + 22_500 && out[0].next_at_ms <= now_ms + 30_000,
            "retried after 30 s less a quarter at most: {} vs {now_ms}",
            out[0].next_at_ms
        );
        let d = get_json(&app, &idriss, &format!("{}/{}", reports(), r["id"])).await;
        assert_eq!(d["replies"][0]["state"], "pending", "{d}");
        assert_eq!(d["replies"][0]["attempts"], 1);
        assert!(
            d["replies"][0]["last_error"]
                .as_str()
                .unwrap()
                .contains("500"),
            "{d}"
        );
        leaks("the reply's error", &d.to_string());
        // Not due yet: nothing is tried.
        assert_eq!(app.core.send_due_replies().await.unwrap(), 0);
        assert_eq!(bridge.got.lock().unwrap().len(), 2);
        // Due, and the bridge is back.
        app.clock.advance(31);
        bridge.fail.store(false, Ordering::SeqCst);
        assert_eq!(app.core.send_due_replies().await.unwrap(), 1);
        assert_eq!(bridge.got.lock().unwrap().len(), 3);
        let out = app
            .core
            .store()
            .report_outgoing(r["id"].as_i64().unwrap())
            .await
            .unwrap();
        assert_eq!((out[0].state.as_str(), out[0].attempts), ("sent", 2));

        // SMSSync: the phone polls for its replies with its secret.
        let ss_secret = "smssync-secret-0123456789";
        let ss = add_channel(&app, &amina, "smssync", ss_secret, "").await;
        let ss_text = "EAU le puits de Goz Beida est pollué";
        deliver(
            &app,
            "smssync",
            &ss,
            ss_secret,
            Sms {
                id: "80ed0e4b-4a80-4dcb-a3e9-8ec4bdba0a4c",
                from: NUMBER,
                text: ss_text,
            },
        )
        .await;
        // The worker leaves polled channels alone.
        assert_eq!(app.core.send_due_replies().await.unwrap(), 0);
        let poll = |secret: &str| {
            reqwest::Client::new()
                .get(app.url(&format!("{}?task=send&secret={secret}", ss.hook)))
                .send()
        };
        let res = poll("wrong-secret-0123456789").await.unwrap();
        let (status, code, _) = error_code(res).await;
        assert_eq!(
            (status, code.as_str()),
            (StatusCode::UNAUTHORIZED, "webhook_refused")
        );
        let res = poll(ss_secret).await.unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["payload"]["task"], "send", "{v}");
        assert_eq!(v["payload"]["secret"], ss_secret);
        let msgs = v["payload"]["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1, "{v}");
        assert_eq!(msgs[0]["to"], NUMBER);
        assert!(msgs[0]["message"].as_str().unwrap().contains("Merci"));
        let uuid = msgs[0]["uuid"].as_str().unwrap().to_owned();
        // The phone reports it sent: it is not handed over again.
        let res = reqwest::Client::new()
            .post(app.url(&format!("{}?task=sent&secret={ss_secret}", ss.hook)))
            .form(&[("queued_messages", uuid.as_str())])
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), StatusCode::OK);
        let v: Value = res.json().await.unwrap();
        assert_eq!(v["marked"], 1, "{v}");
        let v: Value = poll(ss_secret).await.unwrap().json().await.unwrap();
        assert_eq!(v["payload"]["messages"], json!([]), "{v}");
        app.stop().await;
    }
}

#[tokio::test]
async fn a_spike_of_reports_in_one_province_raises_an_alert_for_moderators() {
    for backend in backends() {
        let app = spawn(backend).await;
        let amina = signed_in(&app, AMINA).await;
        let idriss = signed_in(&app, IDRISS).await;
        let moussa = signed_in(&app, MOUSSA).await;
        save_settings(
            &app,
            &amina,
            &[
                ("categories", "incendie | Fire | Incendie | INCENDIE"),
                ("alert_threshold", "3"),
                ("alert_window_hours", "24"),
                ("alert_phones", "+235 66 00 11 22"),
            ],
        )
        .await;
        // The numbers to tell are sealed: the settings page does not show them back.
        let s = amina
            .get(app.url(&settings_page()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!s.contains("66001122") && !s.contains("66 00 11 22"));
        assert_eq!(
            get_json(&app, &amina, &settings_page()).await["settings"]["alert_phones"],
            true
        );

        let secret = "bridge-secret-0123456789";
        let ch = add_channel(&app, &amina, "generic", secret, "").await;
        let sms = [
            (
                "a-1",
                "+23566000001",
                "INCENDIE au marché d'Abéché, OUADDAI",
            ),
            ("a-2", "+23566000002", "INCENDIE maisons brûlées OUADDAI"),
            // Another province and another category do not count.
            (
                "a-3",
                "+23566000003",
                "INCENDIE au grand marché de NDJAMENA",
            ),
            ("a-4", "+23566000004", "feu de brousse OUADDAI"),
        ];
        for (id, from, text) in sms {
            deliver(&app, "generic", &ch, secret, Sms { id, from, text }).await;
            app.clock.advance(3600);
        }
        let q = queue(&app, &idriss, "").await;
        assert_eq!(q["total"], 4);
        assert_eq!(
            q["alerts"],
            json!([]),
            "two in Ouaddaï are not a spike: {q}"
        );

        // The third fire in Ouaddaï within the day.
        deliver(
            &app,
            "generic",
            &ch,
            secret,
            Sms {
                id: "a-5",
                from: "+23566000005",
                text: "INCENDIE à Biltine et Abéché OUADDAI",
            },
        )
        .await;
        let q = queue(&app, &idriss, "").await;
        let alerts = q["alerts"].as_array().unwrap();
        assert_eq!(alerts.len(), 1, "{q}");
        assert_eq!(alerts[0]["category"], "incendie");
        assert_eq!(alerts[0]["place"], "Ouaddaï");
        assert_eq!(alerts[0]["count"], 3);
        assert_eq!(alerts[0]["told"], 1, "the number set is told");
        let html = idriss
            .get(app.url(&reports()))
            .header("accept-language", "en")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let section = html
            .split_once("class=\"alerts\"")
            .map(|(_, s)| s.to_owned())
            .expect("an alerts section on the queue");
        // Idriss reads French.
        assert!(
            section.contains("Incendie") && section.contains("Ouaddaï"),
            "{section}"
        );
        // A fourth in the same window makes no second alert.
        deliver(
            &app,
            "generic",
            &ch,
            secret,
            Sms {
                id: "a-6",
                from: "+23566000006",
                text: "INCENDIE encore à OUADDAI",
            },
        )
        .await;
        assert_eq!(
            queue(&app, &idriss, "").await["alerts"]
                .as_array()
                .unwrap()
                .len(),
            1
        );
        // People who do not moderate see no alert.
        let v = get_json(&app, &moussa, &reports()).await;
        assert_eq!(v["alerts"], json!([]));
        let audit = get_json(
            &app,
            &signed_in(&app, CLAIRE).await,
            &format!("{}/audit", project()),
        )
        .await;
        assert!(audit["entries"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["action"] == "report.alert"));
        app.stop().await;
    }
}
