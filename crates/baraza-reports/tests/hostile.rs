//! Whatever arrives, nothing panics: every entry point on arbitrary input.

use baraza_reports::gateway::{receive, InboundConfig, WebhookRequest};
use baraza_reports::gazetteer::{free_text, Category, Gazetteer, Place};
use baraza_reports::smsform::{route, SmsForm};
use baraza_reports::{phone, Gateway};
use baraza_xlsform::Format;
use proptest::prelude::*;
use time::macros::datetime;

const FORM: &str = "\
| survey | | | | |
| | type | name | label | required |
| | integer | n | N | yes |
| | decimal | d | D | |
| | select_one c | c | C | |
| | text | t | T | |
| choices | | | |
| | list_name | name | label |
| | c | a | Á |
| | c | b | B |
| settings | | | |
| | form_id | prefix | delimiter |
| | f | F | # |
";

fn gazetteer() -> Gazetteer {
    Gazetteer::new(vec![
        Place {
            id: "nd".into(),
            name: "N'Djaména".into(),
            alt_names: vec!["NDJ".into()],
            admin_code: "TD-ND".into(),
        },
        Place {
            id: "ab".into(),
            name: "Abéché".into(),
            alt_names: vec![],
            admin_code: "TD-OD".into(),
        },
    ])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn sms_text_never_panics(text in "\\PC{0,200}", tail in "[F#0-9a-z ,.]{0,40}") {
        let forms = vec![SmsForm::from_xlsform(FORM.as_bytes(), Format::Markdown, "f", &[]).unwrap()];
        for t in [text.clone(), format!("F{tail}"), format!("F#{tail}")] {
            let _ = forms[0].parse(&t).map_err(|e| e.reply());
            let _ = route(&forms, &t);
            let _ = phone::normalize(&t, "235");
        }
        let g = gazetteer();
        let cats = vec![Category { code: "x".into(), keywords: vec!["EAU".into()] }];
        let _ = free_text(&text, &cats, &g);
        let _ = g.lookup(&text);
    }

    #[test]
    fn webhook_bodies_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512),
                                  auth in "\\PC{0,80}", json in any::<bool>()) {
        let headers = vec![
            ("Content-Type".to_owned(), if json { "application/json" } else { "application/x-www-form-urlencoded" }.to_owned()),
            ("Authorization".to_owned(), auth.clone()),
            ("X-Twilio-Signature".to_owned(), auth.clone()),
            ("X-Baraza-Signature".to_owned(), auth),
        ];
        for gateway in Gateway::ALL {
            let config = InboundConfig { gateway, secret: "s".into(), default_country: "235".into() };
            let req = WebhookRequest { url: "https://x.example/?secret=s", headers: &headers, body: &body };
            let _ = receive(&config, &req, datetime!(2026-11-30 10:00 UTC));
        }
    }

    #[test]
    fn authenticated_fields_never_panic(from in "\\PC{0,40}", message in "\\PC{0,200}",
                                        stamp in "\\PC{0,24}") {
        let body = serde_urlencoded::to_string([
            ("secret", "s"), ("from", from.as_str()), ("message", message.as_str()),
            ("sent_timestamp", stamp.as_str()), ("message_id", stamp.as_str()),
        ]).unwrap();
        let json = serde_json::json!({"secret": "s", "from": from, "message": message, "id": stamp});
        let form_headers = vec![("Content-Type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
        let json_headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        let json_body = json.to_string();
        for (gateway, headers, body) in [
            (Gateway::SmsSync, &form_headers, body.as_bytes()),
            (Gateway::FrontlineSms, &form_headers, body.as_bytes()),
            (Gateway::FrontlineSms, &json_headers, json_body.as_bytes()),
        ] {
            let config = InboundConfig { gateway, secret: "s".into(), default_country: "235".into() };
            let req = WebhookRequest { url: "https://x.example/", headers, body };
            if let Ok(m) = receive(&config, &req, datetime!(2026-11-30 10:00 UTC)) {
                prop_assert!(m.from.starts_with('+'));
                prop_assert!(!m.text.chars().any(|c| c == '\0'));
            }
        }
    }
}
