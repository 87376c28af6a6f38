//! The pieces together, through the public API: a gateway posting the same SMS twice gives the
//! same deduplication keys, and the message reads as an SMS form answer.

use baraza_reports::dedup::{content_keys_to_check, provider_key, pseudonym};
use baraza_reports::gateway::{receive, InboundConfig, WebhookRequest};
use baraza_reports::smsform::{route, Answer, SmsForm};
use baraza_reports::Gateway;
use baraza_xlsform::Format;
use time::macros::datetime;

const FORM: &str = "\
| survey | | | | |
| | type | name | label | required |
| | integer | pompes | Nombre de pompes | yes |
| | text | village | Village | yes |
| | select_one etat | etat | État | yes |
| choices | | | |
| | list_name | name | label |
| | etat | ok | Fonctionne |
| | etat | panne | En panne |
| settings | | |
| | form_id | prefix |
| | eau | EAU |
";

#[test]
fn a_replayed_webhook_gives_the_same_keys_and_one_answer() {
    let config = InboundConfig {
        gateway: Gateway::AfricasTalking,
        secret: "at-secret".into(),
        default_country: "235".into(),
    };
    // Africa's Talking's incoming-message fields (http://docs.africastalking.com/sms/notifications).
    let body = b"from=%2B23566123456&to=1313&text=EAU+3+KHOUMA+PANNE&date=2026-11-30+09%3A58%3A12&id=ATXid_1&linkId=L1";
    let headers = vec![(
        "Content-Type".to_owned(),
        "application/x-www-form-urlencoded".to_owned(),
    )];
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/africastalking?secret=at-secret",
        headers: &headers,
        body,
    };
    let first = receive(&config, &req, datetime!(2026-11-30 10:00:00 UTC)).unwrap();
    let again = receive(&config, &req, datetime!(2026-11-30 10:00:40 UTC)).unwrap();

    let key = b"instance key";
    let keys = |m: &baraza_reports::InboundMessage| {
        (
            provider_key(m.gateway, m.provider_message_id.as_deref().unwrap()),
            content_keys_to_check(
                &m.text,
                &pseudonym(key, &m.from),
                m.received_at.unix_timestamp(),
                600,
            ),
        )
    };
    let (p1, c1) = keys(&first);
    let (p2, c2) = keys(&again);
    assert_eq!(p1, p2);
    assert!(c2.contains(&c1[0]));

    let forms = vec![SmsForm::from_xlsform(FORM.as_bytes(), Format::Markdown, "eau", &[]).unwrap()];
    let answers = route(&forms, &first.text)
        .unwrap()
        .parse(&first.text)
        .unwrap();
    assert_eq!(answers.get("pompes"), Some(&Answer::Integer(3)));
    assert_eq!(answers.get("etat"), Some(&Answer::Choice("panne".into())));
}
