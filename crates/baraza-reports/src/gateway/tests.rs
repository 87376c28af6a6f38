use super::*;
use time::macros::datetime;

const NOW: OffsetDateTime = datetime!(2026-11-30 10:00:00 UTC);

fn config(gateway: Gateway, secret: &str) -> InboundConfig {
    InboundConfig {
        gateway,
        secret: secret.into(),
        default_country: "235".into(),
    }
}

fn headers(h: &[(&str, &str)]) -> Vec<(String, String)> {
    h.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn encode(pairs: &[(String, String)]) -> Vec<u8> {
    serde_urlencoded::to_string(pairs).unwrap().into_bytes()
}

fn unauthorized(r: Result<InboundMessage, GatewayError>) -> &'static str {
    match r {
        Err(GatewayError::Unauthorized { reason, .. }) => reason,
        other => panic!("expected Unauthorized, got {other:?}"),
    }
}

// Twilio's published request-validation example (auth token `12345`), as in the security
// documentation and the test suites of its libraries:
// https://www.twilio.com/docs/usage/security#validating-requests
// https://github.com/twilio/twilio-php (tests/Twilio/Unit/Security/RequestValidatorTest.php)
#[test]
fn twilio_signature_matches_the_published_example() {
    let params = form(&[
        ("CallSid", "CA1234567890ABCDE"),
        ("Caller", "+14158675309"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
    ]);
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(
        twilio_signature("12345", url, &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    // Order of the parameters as sent does not matter; every input does.
    let mut reversed = params.clone();
    reversed.reverse();
    assert_eq!(
        twilio_signature("12345", url, &reversed),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert_ne!(
        twilio_signature("12346", url, &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
    assert_ne!(
        twilio_signature("12345", &format!("{url}&x=1"), &params),
        "RSOYDt4T1cUTdK1PDd93/VVr8B8="
    );
}

// An incoming SMS as Twilio posts it, form-encoded (the messaging webhook's parameters:
// https://www.twilio.com/docs/messaging/guides/webhook-request; a real request's parameter set
// as logged in https://rubydoc.info/gems/nuntius/1.3.12/Nuntius/InboundMessages/TwilioInboundSmsesController).
#[test]
fn twilio_sms_webhook_is_read_after_its_signature() {
    let url = "https://baraza.example.org/sms/twilio";
    let params = form(&[
        ("ToCountry", "TD"),
        ("SmsMessageSid", "SM1f0e8ae6ade23cb3c0ce4524424e406f"),
        ("NumMedia", "0"),
        ("SmsSid", "SM1f0e8ae6ade23cb3c0ce4524424e406f"),
        ("SmsStatus", "received"),
        ("Body", "EAU 3 KHOUMA PANNE"),
        ("To", "+23522510000"),
        ("NumSegments", "1"),
        ("MessageSid", "SM1f0e8ae6ade23cb3c0ce4524424e406f"),
        ("AccountSid", "ACXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"),
        ("From", "+23566123456"),
        ("ApiVersion", "2010-04-01"),
    ]);
    let body = encode(&params);
    let sig = twilio_signature("token", url, &params);
    let h = headers(&[
        ("Content-Type", "application/x-www-form-urlencoded"),
        ("x-twilio-signature", &sig),
    ]);
    let req = WebhookRequest {
        url,
        headers: &h,
        body: &body,
    };
    let m = receive(&config(Gateway::Twilio, "token"), &req, NOW).unwrap();
    assert_eq!(m.gateway, Gateway::Twilio);
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("SM1f0e8ae6ade23cb3c0ce4524424e406f")
    );
    assert_eq!(m.from, "+23566123456");
    assert_eq!(m.to.as_deref(), Some("+23522510000"));
    assert_eq!(m.text, "EAU 3 KHOUMA PANNE");
    assert_eq!(m.received_at, NOW);

    // Another token, a tampered body, another URL, no header: refused.
    assert_eq!(
        unauthorized(receive(&config(Gateway::Twilio, "other"), &req, NOW)),
        "X-Twilio-Signature does not match"
    );
    let tampered = String::from_utf8(body.clone())
        .unwrap()
        .replace("PANNE", "OK");
    let req2 = WebhookRequest {
        body: tampered.as_bytes(),
        ..req
    };
    unauthorized(receive(&config(Gateway::Twilio, "token"), &req2, NOW));
    let req3 = WebhookRequest {
        url: "https://baraza.example.org/sms/twilio?x=1",
        ..req
    };
    unauthorized(receive(&config(Gateway::Twilio, "token"), &req3, NOW));
    // Configured as GET: the parameters are in the URL, which alone is signed.
    let get_url = format!("{url}?{}", String::from_utf8(body.clone()).unwrap());
    let get_sig = twilio_signature("token", &get_url, &[]);
    let hg = headers(&[("X-Twilio-Signature", &get_sig)]);
    let get = WebhookRequest {
        url: &get_url,
        headers: &hg,
        body: b"",
    };
    let m2 = receive(&config(Gateway::Twilio, "token"), &get, NOW).unwrap();
    assert_eq!(
        (m2.from.as_str(), m2.text.as_str()),
        ("+23566123456", "EAU 3 KHOUMA PANNE")
    );
    let none: Vec<(String, String)> = Vec::new();
    let req4 = WebhookRequest {
        headers: &none,
        ..req
    };
    assert_eq!(
        unauthorized(receive(&config(Gateway::Twilio, "token"), &req4, NOW)),
        "no X-Twilio-Signature header"
    );
}

// Africa's Talking's incoming-message callback: form fields `from`, `to`, `text`, `date`,
// `id`, `linkId` (http://docs.africastalking.com/sms/notifications; the fields as a callback
// reads them: https://gist.github.com/JaniKibichi/3a8f39177d46b705f5336f127d447bd2).
// The callback is not signed: the URL carries a key, as the Community Health Toolkit configures
// it (https://docs.communityhealthtoolkit.org/building/messaging/gateways/africas-talking/).
#[test]
fn africas_talking_callback_with_the_secret_in_the_url() {
    let body = encode(&form(&[
        ("linkId", "SampleLinkId123"),
        ("text", "EAU 3 KHOUMA PANNE"),
        ("to", "28901"),
        ("id", "ATXid_c4bdd23b12ad66c9a48cc1ed783da85f"),
        ("date", "2026-11-30 09:58:12"),
        ("from", "+235 66 12 34 56"),
    ]));
    let h = headers(&[("Content-Type", "application/x-www-form-urlencoded")]);
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/africastalking?secret=s3cr%C3%A9t",
        headers: &h,
        body: &body,
    };
    let cfg = config(Gateway::AfricasTalking, "s3crét");
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(m.from, "+23566123456");
    assert_eq!(m.to.as_deref(), Some("28901"));
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("ATXid_c4bdd23b12ad66c9a48cc1ed783da85f")
    );
    assert_eq!(m.received_at, datetime!(2026-11-30 09:58:12 UTC));

    let wrong = WebhookRequest {
        url: "https://baraza.example.org/sms/africastalking?secret=guess",
        ..req
    };
    assert_eq!(unauthorized(receive(&cfg, &wrong, NOW)), "wrong secret");
    let bare = WebhookRequest {
        url: "https://baraza.example.org/sms/africastalking",
        ..req
    };
    assert_eq!(
        unauthorized(receive(&cfg, &bare, NOW)),
        "no secret in the URL"
    );

    // HTTP Basic credentials whose password is the secret do too.
    let basic = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("at:s3crét")
    );
    let h2 = headers(&[("Authorization", &basic)]);
    let req_basic = WebhookRequest {
        url: "https://baraza.example.org/sms/africastalking",
        headers: &h2,
        body: &body,
    };
    assert_eq!(receive(&cfg, &req_basic, NOW).unwrap().from, "+23566123456");

    // An RFC 3339 date is read too; a date in neither form is an error naming the field.
    let body2 = encode(&form(&[
        ("from", "066123456"),
        ("text", "x"),
        ("date", "yesterday"),
    ]));
    let req_bad = WebhookRequest {
        body: &body2,
        ..req
    };
    match receive(&cfg, &req_bad, NOW) {
        Err(GatewayError::Invalid { field: "date", .. }) => {}
        other => panic!("{other:?}"),
    }
}

// FrontlineCloud's activity forwarding to Ushahidi: `from`, `message`, `secret`, as Ushahidi's
// FrontlineSMS source reads them
// (https://github.com/ushahidi/platform/blob/develop/src/App/DataSource/FrontlineSMS/FrontlineSMSController.php).
#[test]
fn frontlinesms_form_and_json_with_the_secret_field() {
    let cfg = config(Gateway::FrontlineSms, "frontline-secret");
    let body = encode(&form(&[
        ("from", "+23599887766"),
        ("message", "INCENDIE marché Moundou"),
        ("secret", "frontline-secret"),
    ]));
    let h = headers(&[("Content-Type", "application/x-www-form-urlencoded")]);
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/frontlinesms",
        headers: &h,
        body: &body,
    };
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(m.from, "+23599887766");
    assert_eq!(m.text, "INCENDIE marché Moundou");
    assert_eq!(m.provider_message_id, None);

    let json =
        br#"{"from":"+23599887766","message":"INCENDIE","secret":"frontline-secret","id":"4711"}"#;
    let hj = headers(&[("Content-Type", "application/json")]);
    let req_json = WebhookRequest {
        url: req.url,
        headers: &hj,
        body: json,
    };
    let m = receive(&cfg, &req_json, NOW).unwrap();
    assert_eq!(m.provider_message_id.as_deref(), Some("4711"));

    let bad = br#"{"from":"+23599887766","message":"INCENDIE","secret":"nope"}"#;
    let req_bad = WebhookRequest {
        body: bad,
        ..req_json
    };
    assert_eq!(unauthorized(receive(&cfg, &req_bad, NOW)), "wrong secret");
    let missing = br#"{"from":"+23599887766","message":"INCENDIE"}"#;
    let req_missing = WebhookRequest {
        body: missing,
        ..req_json
    };
    assert_eq!(unauthorized(receive(&cfg, &req_missing, NOW)), "no secret");
}

// SMSSync's POST of an incoming SMS (http://smssync.ushahidi.com/doc, fields `from`, `message`,
// `message_id`, `sent_to`, `secret`, `device_id`, `sent_timestamp` in milliseconds; read as
// https://github.com/ushahidi/platform/blob/develop/src/App/DataSource/SMSSync/SMSSyncController.php
// reads them).
#[test]
fn smssync_post_with_secret_and_millisecond_timestamp() {
    let cfg = config(Gateway::SmsSync, "smssync-secret");
    let body = encode(&form(&[
        ("from", "+23566123456"),
        ("message", "EAU 3 KHOUMA PANNE"),
        ("message_id", "80ed0e4b-4a80-4dcb-a3e9-8ec4bdba0a4c"),
        ("sent_to", "+23566000000"),
        ("secret", "smssync-secret"),
        ("device_id", "1"),
        ("sent_timestamp", "1795991880000"),
    ]));
    let h = headers(&[("Content-Type", "application/x-www-form-urlencoded")]);
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/smssync",
        headers: &h,
        body: &body,
    };
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("80ed0e4b-4a80-4dcb-a3e9-8ec4bdba0a4c")
    );
    assert_eq!(m.to.as_deref(), Some("+23566000000"));
    assert_eq!(m.received_at.unix_timestamp(), 1_795_991_880);
    unauthorized(receive(&config(Gateway::SmsSync, "other"), &req, NOW));

    let body2 = encode(&form(&[
        ("from", "+23566123456"),
        ("message", "x"),
        ("secret", "smssync-secret"),
        ("sent_timestamp", "soon"),
    ]));
    let req2 = WebhookRequest {
        body: &body2,
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req2, NOW),
        Err(GatewayError::Invalid {
            field: "sent_timestamp",
            ..
        })
    ));
}

fn hs256_jwt(key: &[u8], claims: &Value) -> String {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let h = b64.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
    let p = b64.encode(claims.to_string());
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{h}.{p}").as_bytes());
    format!("{h}.{p}.{}", b64.encode(mac.finalize().into_bytes()))
}

// httpSMS's `message.phone.received` event exactly as documented
// (https://docs.httpsms.com/webhooks/events); the Bearer token is the HS256 JWT its webhook
// service signs with the webhook's signing key: issuer `api.httpsms.com`, audience the webhook
// URL, valid ten minutes either side
// (https://github.com/NdoleStudio/httpsms/blob/main/api/pkg/services/webhook_service.go).
const HTTPSMS_EVENT: &str = r#"{
  "data": {
    "contact": "+18005550100",
    "content": "This is a test incoming message",
    "message_id": "0b0123bb-ef2e-468f-908a-c026d51636aa",
    "owner": "+18005550199",
    "sim": "SIM1",
    "timestamp": "2023-06-29T03:21:19.814Z",
    "user_id": "XtABz6zdeFMoBLoltz6SREDvRSh2"
  },
  "datacontenttype": "application/json",
  "id": "f4aed1d3-ab4f-42b9-b9dd-9fc7182f7197",
  "source": "/v1/messages/receive",
  "specversion": "1.0",
  "time": "2023-06-29T03:21:19.524331882Z",
  "type": "message.phone.received"
}"#;

#[test]
fn httpsms_event_with_its_jwt() {
    let url = "https://baraza.example.org/sms/httpsms";
    let key = "signing-key";
    let t = NOW.unix_timestamp();
    let claims = json!({"aud": url, "exp": t + 600, "iat": t, "iss": "api.httpsms.com",
        "nbf": t - 600, "sub": "XtABz6zdeFMoBLoltz6SREDvRSh2"});
    let token = hs256_jwt(key.as_bytes(), &claims);
    let auth = format!("Bearer {token}");
    let h = headers(&[
        ("Content-Type", "application/json"),
        ("X-Event-Type", "message.phone.received"),
        ("Authorization", &auth),
    ]);
    let req = WebhookRequest {
        url,
        headers: &h,
        body: HTTPSMS_EVENT.as_bytes(),
    };
    let cfg = config(Gateway::HttpSms, key);
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(m.from, "+18005550100");
    assert_eq!(m.to.as_deref(), Some("+18005550199"));
    assert_eq!(m.text, "This is a test incoming message");
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("0b0123bb-ef2e-468f-908a-c026d51636aa")
    );
    assert_eq!(m.received_at, datetime!(2023-06-29 03:21:19.814 UTC));

    // Wrong key, expired, other audience, unsigned: refused.
    assert_eq!(
        unauthorized(receive(&config(Gateway::HttpSms, "other"), &req, NOW)),
        "the token's signature does not match"
    );
    assert_eq!(
        unauthorized(receive(&cfg, &req, NOW + time::Duration::hours(1))),
        "the token has expired"
    );
    let other_aud = format!(
        "Bearer {}",
        hs256_jwt(
            key.as_bytes(),
            &json!({"aud": "https://elsewhere.example/", "exp": t + 600, "iss": "api.httpsms.com"})
        )
    );
    let h2 = headers(&[("Authorization", &other_aud)]);
    let req2 = WebhookRequest {
        headers: &h2,
        ..req
    };
    assert_eq!(
        unauthorized(receive(&cfg, &req2, NOW)),
        "the token's audience is not this URL"
    );
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let none_alg = format!(
        "Bearer {}.{}.",
        b64.encode(br#"{"alg":"none"}"#),
        b64.encode(claims.to_string())
    );
    let h3 = headers(&[("Authorization", &none_alg)]);
    let req3 = WebhookRequest {
        headers: &h3,
        ..req
    };
    assert_eq!(
        unauthorized(receive(&cfg, &req3, NOW)),
        "the token is not signed with HS256"
    );

    // A genuine event of another type is not a message.
    let sent = HTTPSMS_EVENT.replace("message.phone.received", "message.phone.sent");
    let req4 = WebhookRequest {
        body: sent.as_bytes(),
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req4, NOW),
        Err(GatewayError::NotAMessage { event, .. }) if event == "message.phone.sent"
    ));
}

// RapidPro's default *Call webhook* body, shaped by goflow's `DefaultWebhookPayload`
// (https://github.com/nyaruka/goflow/blob/main/flows/webhooks.go): `contact.urn` a string,
// `input.urn` an object with `scheme` and `path`.
const RAPIDPRO_WEBHOOK: &str = r#"{
  "contact": {"uuid": "0e4a5c5b-ef8b-4f6b-8a6a-0b5d0c2c1f11", "name": "Awa", "urn": "tel:+23566123456"},
  "flow": {"uuid": "50c3706e-fedb-42c0-8eab-dda3335714b7", "name": "Signalement"},
  "path": [],
  "results": {},
  "run": {"uuid": "4213ac47-93fd-48c4-af12-7da8218ef09d", "created_on": "2026-11-30T09:59:00.000000Z"},
  "input": {
    "attachments": [],
    "channel": {"uuid": "61602f3e-f603-4c70-8a8f-c477505bf4bf", "name": "Airtel"},
    "created_on": "2026-11-30T09:58:30.123456Z",
    "text": "EAU 3 KHOUMA PANNE",
    "type": "msg",
    "urn": {"display": "+235 66 12 34 56", "path": "+23566123456", "scheme": "tel"},
    "uuid": "9bf91c2b-ce58-4cef-aacc-281e03f69ab5"
  },
  "channel": {"uuid": "61602f3e-f603-4c70-8a8f-c477505bf4bf", "name": "Airtel", "address": "+23522510000"}
}"#;

#[test]
fn rapidpro_flow_webhook_with_its_token() {
    let cfg = config(Gateway::RapidPro, "rp-token");
    let h = headers(&[
        ("Content-Type", "application/json"),
        ("Authorization", "Token rp-token"),
    ]);
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/rapidpro",
        headers: &h,
        body: RAPIDPRO_WEBHOOK.as_bytes(),
    };
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(m.from, "+23566123456");
    assert_eq!(m.text, "EAU 3 KHOUMA PANNE");
    assert_eq!(m.to.as_deref(), Some("+23522510000"));
    assert_eq!(
        m.provider_message_id.as_deref(),
        Some("9bf91c2b-ce58-4cef-aacc-281e03f69ab5")
    );
    assert_eq!(m.received_at, datetime!(2026-11-30 09:58:30.123456 UTC));

    let h2 = headers(&[("Authorization", "Token nope")]);
    let req2 = WebhookRequest {
        headers: &h2,
        ..req
    };
    assert_eq!(unauthorized(receive(&cfg, &req2, NOW)), "wrong token");

    // A flow started without a message has no input; a WhatsApp contact is not a phone here.
    let no_input = RAPIDPRO_WEBHOOK.replace("\"input\": {", "\"input\": null, \"x\": {");
    let req3 = WebhookRequest {
        body: no_input.as_bytes(),
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req3, NOW),
        Err(GatewayError::NotAMessage { .. })
    ));
    let whatsapp = RAPIDPRO_WEBHOOK.replace("\"scheme\": \"tel\"", "\"scheme\": \"whatsapp\"");
    let req4 = WebhookRequest {
        body: whatsapp.as_bytes(),
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req4, NOW),
        Err(GatewayError::Invalid {
            field: "input.urn",
            ..
        })
    ));
}

// Our own generic webhook (docs/reports.md): JSON signed with HMAC-SHA256 of the raw body.
#[test]
fn generic_webhook_signed_body() {
    let cfg = config(Gateway::Generic, "bridge-secret");
    let body = br#"{"id":"m-1","from":"+23566123456","to":"1313","text":"VOL Abeche","received_at":"2026-11-30T09:00:00+01:00"}"#;
    let sig = format!("sha256={}", generic_signature("bridge-secret", body));
    let h = headers(&[
        ("Content-Type", "application/json"),
        ("X-Baraza-Signature", &sig),
    ]);
    let req = WebhookRequest {
        url: "https://baraza.example.org/sms/generic",
        headers: &h,
        body,
    };
    let m = receive(&cfg, &req, NOW).unwrap();
    assert_eq!(m.provider_message_id.as_deref(), Some("m-1"));
    assert_eq!(m.received_at, datetime!(2026-11-30 08:00:00 UTC));
    // Known vector: HMAC-SHA256 with key "key" of the pangram (RFC 4231 style check).
    assert_eq!(
        generic_signature("key", b"The quick brown fox jumps over the lazy dog"),
        "f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
    );
    let tampered = br#"{"id":"m-1","from":"+23566123457","to":"1313","text":"VOL Abeche","received_at":"2026-11-30T09:00:00+01:00"}"#;
    let req2 = WebhookRequest {
        body: tampered,
        ..req
    };
    unauthorized(receive(&cfg, &req2, NOW));
}

#[test]
fn hostile_and_broken_bodies_are_refused_cleanly() {
    let cfg = config(Gateway::FrontlineSms, "s");
    let big = vec![b'a'; MAX_BODY + 1];
    let h = headers(&[("Content-Type", "application/json")]);
    let req = WebhookRequest {
        url: "https://x/",
        headers: &h,
        body: &big,
    };
    assert!(matches!(
        receive(&cfg, &req, NOW),
        Err(GatewayError::TooLarge { .. })
    ));
    let req2 = WebhookRequest {
        body: b"{not json",
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req2, NOW),
        Err(GatewayError::Malformed { format: "JSON", .. })
    ));
    // An alphanumeric sender is not a person to reply to.
    let req3 = WebhookRequest {
        body: br#"{"from":"MTN","message":"promo","secret":"s"}"#,
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req3, NOW),
        Err(GatewayError::Invalid { field: "from", .. })
    ));
    // Control characters in the text are refused.
    let req4 = WebhookRequest {
        body: b"{\"from\":\"+23566123456\",\"message\":\"a\\u0000b\",\"secret\":\"s\"}",
        ..req
    };
    assert!(matches!(
        receive(&cfg, &req4, NOW),
        Err(GatewayError::Invalid {
            field: "message",
            ..
        })
    ));
    // No secret configured: nothing gets in, whatever the request says.
    let req5 = WebhookRequest {
        body: br#"{"from":"+23566123456","message":"x","secret":""}"#,
        ..req
    };
    assert_eq!(
        unauthorized(receive(&config(Gateway::FrontlineSms, ""), &req5, NOW)),
        "no secret is configured for this gateway"
    );
}

#[test]
fn gateway_codes_round_trip() {
    for g in Gateway::ALL {
        assert_eq!(Gateway::from_code(g.code()), Some(g));
    }
    assert_eq!(Gateway::from_code("nexmo"), None);
}

#[test]
fn replies_are_described_for_each_gateway() {
    let to = "+23566123456";
    let r = build_reply(
        &Outbound::Twilio {
            account_sid: "AC123".into(),
            auth_token: "tok".into(),
            from: "+15005550006".into(),
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    assert_eq!(
        r.url,
        "https://api.twilio.com/2010-04-01/Accounts/AC123/Messages.json"
    );
    assert_eq!(r.headers[0].1, "Basic QUMxMjM6dG9r");
    let (bytes, ct) = r.body.encode();
    assert_eq!(ct, "application/x-www-form-urlencoded");
    assert_eq!(
        String::from_utf8(bytes).unwrap(),
        "To=%2B23566123456&From=%2B15005550006&Body=Merci"
    );

    let r = build_reply(
        &Outbound::AfricasTalking {
            username: "sandbox".into(),
            api_key: "k".into(),
            from: Some("28901".into()),
            sandbox: true,
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    assert_eq!(
        r.url,
        "https://api.sandbox.africastalking.com/version1/messaging"
    );
    assert!(r.headers.contains(&("apiKey".into(), "k".into())));
    assert_eq!(
        r.body,
        Body::Form(form(&[
            ("username", "sandbox"),
            ("to", to),
            ("message", "Merci"),
            ("from", "28901"),
        ]))
    );

    let r = build_reply(
        &Outbound::FrontlineSms {
            server_url: "https://cloud.frontlinesms.com/".into(),
            api_key: "fk".into(),
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    assert_eq!(r.url, "https://cloud.frontlinesms.com/api/1/webhook");
    assert_eq!(
        r.body,
        Body::Json(json!({"apiKey": "fk", "payload": {"message": "Merci",
            "recipients": [{"type": "mobile", "value": to}]}}))
    );

    let r = build_reply(
        &Outbound::HttpSms {
            api_key: "hk".into(),
            from: "+23566000000".into(),
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    assert_eq!(r.url, "https://api.httpsms.com/v1/messages/send");
    assert_eq!(r.headers, vec![("x-api-key".into(), "hk".into())]);

    let r = build_reply(
        &Outbound::RapidPro {
            server_url: "https://textit.com".into(),
            api_token: "rt".into(),
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    assert_eq!(r.url, "https://textit.com/api/v2/broadcasts.json");
    assert_eq!(
        r.body,
        Body::Json(json!({"urns": ["tel:+23566123456"], "text": "Merci"}))
    );

    let r = build_reply(
        &Outbound::Generic {
            url: "https://bridge.example/send".into(),
            secret: "gs".into(),
        },
        to,
        "Merci",
        "o-1",
    )
    .unwrap();
    let (bytes, _) = r.body.encode();
    assert_eq!(
        r.headers[0].1,
        format!("sha256={}", generic_signature("gs", &bytes))
    );

    assert_eq!(
        build_reply(&Outbound::SmsSync, to, "Merci", "o-1"),
        Err(OutboundError::Polled)
    );
    assert!(matches!(
        build_reply(&Outbound::SmsSync, "66123456", "Merci", "o-1"),
        Err(OutboundError::Recipient(_))
    ));
    assert_eq!(
        build_reply(
            &Outbound::HttpSms {
                api_key: "k".into(),
                from: "+1".into()
            },
            to,
            "  ",
            "o"
        ),
        Err(OutboundError::Empty)
    );
}

#[test]
fn smssync_poll_answer_lists_pending_replies() {
    let v = smssync_task_response(
        "s",
        &[PendingSms {
            to: "+23566123456".into(),
            text: "Merci".into(),
            uuid: "o-1".into(),
        }],
    );
    assert_eq!(v["payload"]["task"], "send");
    assert_eq!(v["payload"]["messages"][0]["to"], "+23566123456");
    assert_eq!(v["payload"]["messages"][0]["uuid"], "o-1");
    assert_eq!(smssync_ack(true, None)["payload"]["success"], true);
}

#[test]
fn retries_back_off_exponentially_with_bounded_jitter_then_stop() {
    let o = Outbox {
        base_delay_ms: 1_000,
        max_delay_ms: 10_000,
        max_attempts: 6,
        rate_milli_per_s: 1_000,
        burst: 2,
    };
    assert_eq!(o.next_attempt_at(0, 500, 7), Some(500));
    // Without jitter, three quarters of 1 s, 2 s, 4 s, 8 s, then the 10 s ceiling.
    let delays: Vec<i64> = (1..6)
        .map(|a| o.next_attempt_at(a, 0, 0).unwrap())
        .collect();
    assert_eq!(delays, vec![750, 1_500, 3_000, 6_000, 7_500]);
    for jitter in [0, 1, 249, 250, 12_345, u64::MAX] {
        let t = o.next_attempt_at(1, 0, jitter).unwrap();
        assert!((750..=1_000).contains(&t), "{t}");
    }
    assert_eq!(o.next_attempt_at(6, 0, 0), None);
    // Huge settings saturate instead of overflowing.
    let big = Outbox {
        base_delay_ms: u64::MAX / 2,
        max_delay_ms: u64::MAX,
        max_attempts: 100,
        ..o
    };
    assert!(big.next_attempt_at(60, i64::MAX - 5, 0).is_some());
}

#[test]
fn token_bucket_allows_a_burst_then_the_rate() {
    let o = Outbox {
        rate_milli_per_s: 500, // one message every two seconds
        burst: 2,
        ..Outbox::default()
    };
    let b = o.full_bucket(0);
    let b = o.take(b, 0).unwrap();
    let b = o.take(b, 0).unwrap();
    assert_eq!(o.take(b, 0), Err(2_000));
    assert_eq!(o.take(b, 1_000), Err(1_000));
    let b = o.take(b, 2_000).unwrap();
    assert_eq!(o.take(b, 2_000), Err(2_000));
    // Polling every millisecond loses no refill.
    let mut b = b;
    let mut sent = 0;
    for t in 2_001..=12_000 {
        if let Ok(nb) = o.take(b, t) {
            b = nb;
            sent += 1;
        }
    }
    assert_eq!(sent, 5);
    // After a long quiet time the bucket holds the burst, no more.
    let b = o.take(b, 1_000_000).unwrap();
    let b = o.take(b, 1_000_000).unwrap();
    assert!(o.take(b, 1_000_000).is_err());
    // A zero rate never refills.
    let z = Outbox {
        rate_milli_per_s: 0,
        burst: 1,
        ..o
    };
    let b = z.take(z.full_bucket(0), 0).unwrap();
    assert_eq!(z.take(b, 10_000_000), Err(u64::MAX));
}

#[test]
fn defaults_per_gateway_and_acknowledgements() {
    let phone = Outbox::for_gateway(Gateway::SmsSync);
    // Never more than 30 in any 30 minutes: ten at once, then one every 91 s.
    let mut b = phone.full_bucket(0);
    let mut sent = 0;
    for t in (0..=30 * 60_000).step_by(1_000) {
        while let Ok(nb) = phone.take(b, t) {
            b = nb;
            sent += 1;
        }
    }
    assert!((29..=30).contains(&sent), "{sent}");
    assert_eq!(
        phone.take(phone.full_bucket(0), 0).map(|b| b.milli_tokens),
        Ok(9_000)
    );
    assert_eq!(Outbox::for_gateway(Gateway::Twilio).burst, 1);
    assert_eq!(Outbox::for_gateway(Gateway::Generic), Outbox::default());

    let twiml = acknowledgement(Gateway::Twilio);
    assert_eq!(twiml.content_type, "text/xml");
    assert!(twiml.body.ends_with("<Response></Response>"));
    let sync: Value = serde_json::from_str(&acknowledgement(Gateway::SmsSync).body).unwrap();
    assert_eq!(sync["payload"]["success"], true);
    let other: Value = serde_json::from_str(&acknowledgement(Gateway::HttpSms).body).unwrap();
    assert_eq!(other["ok"], true);
}
