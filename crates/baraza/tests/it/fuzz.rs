//! Property test of the request paths we own: whatever arrives (paths, methods, cookies,
//! languages, tokens, bodies), the server answers with a 2xx–4xx, never panics, never a 5xx, and
//! its JSON errors keep the envelope's shape.

use axum::body::Body;
use axum::http::{HeaderValue, Request};
use baraza::config::{Overrides, Settings};
use baraza::{demo, Application};
use proptest::prelude::*;
use tower::ServiceExt;

fn segment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("orgs".to_owned()),
        Just("eau-tchad".to_owned()),
        Just("projects".to_owned()),
        Just(demo::PRIVATE_PROJECT.to_owned()),
        Just("people".to_owned()),
        Just("api".to_owned()),
        Just("v1".to_owned()),
        Just("-".to_owned()),
        Just("..".to_owned()),
        Just("%00".to_owned()),
        Just("%2e%2e".to_owned()),
        Just("x.json".to_owned()),
        "[a-z0-9%._~-]{0,12}",
        "[0-9]{1,20}",
    ]
}

fn request() -> impl Strategy<Value = (String, String, Vec<(String, String)>, Vec<u8>)> {
    let method = prop_oneof![
        Just("GET"),
        Just("POST"),
        Just("DELETE"),
        Just("PUT"),
        Just("HEAD"),
        Just("OPTIONS")
    ];
    let path = prop::collection::vec(segment(), 0..6).prop_map(|s| format!("/{}", s.join("/")));
    let header = prop_oneof![
        (Just("cookie".to_owned()), "[ -~]{0,80}"),
        (
            Just("cookie".to_owned()),
            "baraza_session=[A-Za-z0-9_-]{0,50}; baraza_csrf=[a-f0-9]{0,48}"
        ),
        (Just("accept-language".to_owned()), "[ -~]{0,40}"),
        (
            Just("accept".to_owned()),
            prop_oneof![
                Just("application/json".to_owned()),
                Just("text/html".to_owned()),
                "[ -~]{0,20}"
            ]
        ),
        (
            Just("authorization".to_owned()),
            "(Bearer |Basic |)[ -~]{0,60}"
        ),
        (
            Just("content-type".to_owned()),
            prop_oneof![
                Just("application/x-www-form-urlencoded".to_owned()),
                Just("application/json".to_owned()),
                "[ -~]{0,30}"
            ]
        ),
        (Just("origin".to_owned()), "[ -~]{0,30}"),
        (Just("x-forwarded-for".to_owned()), "[ -~]{0,30}"),
    ];
    let body = prop::collection::vec(any::<u8>(), 0..300);
    (method, path, prop::collection::vec(header, 0..5), body)
        .prop_map(|(m, p, h, b)| (m.to_owned(), p, h, b))
}

#[test]
fn no_input_makes_the_server_fail() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = std::env::temp_dir().join(format!(
        "baraza-fuzz-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let router = rt.block_on(async {
        let settings = Settings::load(
            &Overrides {
                config: None,
                values: vec![
                    ("data_dir", dir.display().to_string()),
                    ("listen", "127.0.0.1:0".into()),
                ],
                defaults: vec![],
            },
            &|_| None,
        )
        .unwrap();
        let app = Application::build(&settings).await.unwrap();
        demo::seed(app.core()).await.unwrap();
        let state =
            baraza_web::AppState::new(app.core().clone(), baraza::app::web_settings(&settings))
                .unwrap();
        baraza_web::router(state)
    });
    let config = ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    };
    proptest!(config, |((method, path, headers, body) in request())| {
        let mut req = Request::builder().method(method.as_str());
        let Ok(uri) = path.parse::<axum::http::Uri>() else { return Ok(()); };
        req = req.uri(uri);
        for (k, v) in &headers {
            if let Ok(v) = HeaderValue::from_str(v) {
                req = req.header(k.as_str(), v);
            }
        }
        let req = req.body(Body::from(body.clone())).unwrap();
        let res = rt.block_on(router.clone().oneshot(req)).unwrap();
        let status = res.status();
        prop_assert!(!status.is_server_error(), "{method} {path} {headers:?} -> {status}");
        let is_json = res.headers().get("content-type").is_some_and(|c| c.to_str().unwrap_or("").starts_with("application/json"));
        let bytes = rt.block_on(axum::body::to_bytes(res.into_body(), usize::MAX)).unwrap();
        if status.is_client_error() && is_json {
            let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            prop_assert_eq!(&v["ok"], &serde_json::Value::Bool(false));
            prop_assert_eq!(&v["status"], &serde_json::json!(status.as_u16()));
            prop_assert!(v["error"]["code"].is_string() && v["error"]["message"].is_string());
        }
    });
    let _ = std::fs::remove_dir_all(dir);
}
