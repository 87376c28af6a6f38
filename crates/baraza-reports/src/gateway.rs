//! SMS gateways: their webhooks in, their send requests out, and the outbox policy.
//!
//! Every gateway posts an incoming SMS in its own documented shape. [`receive`] checks the
//! request really comes from the gateway (signature or shared secret, compared in constant
//! time), then reads it into one [`InboundMessage`] with the sender's number in E.164. What each
//! gateway sends and what we check:
//!
//! | gateway | body | check |
//! | --- | --- | --- |
//! | Twilio | form (or query, for GET): `MessageSid`, `From`, `To`, `Body`… | `X-Twilio-Signature`: base64 HMAC-SHA1, keyed by the auth token, of the full URL followed by every POST parameter sorted by name, name then value |
//! | Africa's Talking | form: `from`, `to`, `text`, `date`, `id`, `linkId` | none is signed: the callback URL configured in the dashboard carries `?secret=…` (or HTTP Basic credentials whose password is the secret) |
//! | FrontlineSMS (FrontlineCloud activity) | form or JSON: `from`, `message`, `secret` | the `secret` field, as Ushahidi's FrontlineSMS source checks it |
//! | SMSSync | form: `from`, `message`, `message_id`, `sent_to`, `secret`, `device_id`, `sent_timestamp` (ms) | the `secret` field |
//! | httpSMS | JSON CloudEvent `message.phone.received` | `Authorization: Bearer` JWT, HS256 with the webhook's signing key, issuer `api.httpsms.com`, audience the webhook URL, within its `nbf`/`exp` |
//! | RapidPro / TextIt | JSON of a flow's *Call webhook* action (default body): `contact.urn`, `input.text`, `input.uuid`… | the action's `Authorization: Token <secret>` header (RapidPro signs nothing) |
//! | generic | JSON `{"id","from","to","text","received_at"}` | `X-Baraza-Signature: sha256=<hex HMAC-SHA256 of the raw body>` |
//!
//! Replies go back through the same gateway: [`build_reply`] describes the HTTP request (no
//! IO). SMSSync is the exception: the phone polls, so replies are handed over in the answer to
//! its `task=send` poll ([`smssync_task_response`]).

use crate::phone::{self, PhoneError};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use subtle::ConstantTimeEq;
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// The largest webhook body read; SMS are short, and so are their webhooks.
pub const MAX_BODY: usize = 64 * 1024;

/// A gateway we take webhooks from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Gateway {
    Twilio,
    AfricasTalking,
    FrontlineSms,
    SmsSync,
    HttpSms,
    RapidPro,
    Generic,
}

impl Gateway {
    pub const ALL: [Gateway; 7] = [
        Gateway::Twilio,
        Gateway::AfricasTalking,
        Gateway::FrontlineSms,
        Gateway::SmsSync,
        Gateway::HttpSms,
        Gateway::RapidPro,
        Gateway::Generic,
    ];

    /// The stable code used in URLs, configuration and keys.
    pub fn code(self) -> &'static str {
        match self {
            Gateway::Twilio => "twilio",
            Gateway::AfricasTalking => "africastalking",
            Gateway::FrontlineSms => "frontlinesms",
            Gateway::SmsSync => "smssync",
            Gateway::HttpSms => "httpsms",
            Gateway::RapidPro => "rapidpro",
            Gateway::Generic => "generic",
        }
    }

    pub fn from_code(code: &str) -> Option<Gateway> {
        Gateway::ALL.into_iter().find(|g| g.code() == code)
    }
}

/// One incoming SMS, whatever the gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub gateway: Gateway,
    /// The gateway's own id of the message, when it gives one (the first deduplication key).
    pub provider_message_id: Option<String>,
    /// The sender, E.164.
    pub from: String,
    /// The number or short code the message was sent to, as the gateway wrote it.
    pub to: Option<String>,
    pub text: String,
    /// When the gateway says it received the message, else the `now` given to [`receive`].
    pub received_at: OffsetDateTime,
}

/// What the web layer hands over from an HTTP request.
#[derive(Debug, Clone, Copy)]
pub struct WebhookRequest<'a> {
    /// The full URL the gateway called, scheme, host, path and query, as configured at the
    /// gateway (behind a proxy, the public URL, not the internal one).
    pub url: &'a str,
    /// Header names in any case.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl WebhookRequest<'_> {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn is_json(&self) -> bool {
        match self.header("content-type") {
            Some(ct) => ct.to_ascii_lowercase().contains("json"),
            None => self.body.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{'),
        }
    }

    fn query(&self) -> Vec<(String, String)> {
        match self.url.split_once('?') {
            Some((_, q)) => {
                let q = q.split('#').next().unwrap_or("");
                serde_urlencoded::from_str(q).unwrap_or_default()
            }
            None => Vec::new(),
        }
    }
}

/// How one configured gateway checks and reads its webhooks.
#[derive(Debug, Clone)]
pub struct InboundConfig {
    pub gateway: Gateway,
    /// Twilio's auth token, httpSMS's signing key, the shared secret of the others.
    pub secret: String,
    /// Digits of the country code completing national numbers (`235` for Chad).
    pub default_country: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum GatewayError {
    /// The request is not from the gateway: refuse with 401/403 and store nothing.
    #[error("{gateway}: not authenticated: {reason}")]
    Unauthorized {
        gateway: &'static str,
        reason: &'static str,
    },
    #[error("{gateway}: the body is larger than {MAX_BODY} bytes")]
    TooLarge { gateway: &'static str },
    #[error("{gateway}: the body is not valid {format}")]
    Malformed {
        gateway: &'static str,
        format: &'static str,
    },
    #[error("{gateway}: field `{field}` is missing")]
    Missing {
        gateway: &'static str,
        field: &'static str,
    },
    #[error("{gateway}: field `{field}`: {detail}")]
    Invalid {
        gateway: &'static str,
        field: &'static str,
        detail: String,
    },
    /// A genuine event that is not an incoming message (a delivery report, a heartbeat):
    /// answer 200 and store nothing.
    #[error("{gateway}: event `{event}` is not an incoming message")]
    NotAMessage {
        gateway: &'static str,
        event: String,
    },
}

/// Checks `req` with `config` and reads the message. `now` stands in for gateways that send no
/// reception time and bounds the validity of httpSMS's token.
pub fn receive(
    config: &InboundConfig,
    req: &WebhookRequest<'_>,
    now: OffsetDateTime,
) -> Result<InboundMessage, GatewayError> {
    let g = config.gateway.code();
    if req.body.len() > MAX_BODY {
        return Err(GatewayError::TooLarge { gateway: g });
    }
    if config.secret.is_empty() {
        // An empty secret would let anyone in: refuse rather than accept everything.
        return Err(unauthorized(g, "no secret is configured for this gateway"));
    }
    let r = Reader {
        config,
        now,
        gateway: g,
    };
    match config.gateway {
        Gateway::Twilio => r.twilio(req),
        Gateway::AfricasTalking => r.africas_talking(req),
        Gateway::FrontlineSms => r.frontline(req),
        Gateway::SmsSync => r.smssync(req),
        Gateway::HttpSms => r.httpsms(req),
        Gateway::RapidPro => r.rapidpro(req),
        Gateway::Generic => r.generic(req),
    }
}

fn unauthorized(gateway: &'static str, reason: &'static str) -> GatewayError {
    GatewayError::Unauthorized { gateway, reason }
}

fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

type Fields = Vec<(String, String)>;

fn get<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    get_raw(fields, name).filter(|v| !v.trim().is_empty())
}

/// A field as posted, blank included (a message's text, whose emptiness is its own error).
fn get_raw<'f>(fields: &'f Fields, name: &str) -> Option<&'f str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// JSON objects flattened to the string fields the form parsers read.
fn json_fields(v: &Value) -> Fields {
    match v.as_object() {
        Some(o) => o
            .iter()
            .filter_map(|(k, v)| {
                let s = match v {
                    Value::String(s) => s.clone(),
                    Value::Number(n) => n.to_string(),
                    Value::Bool(b) => b.to_string(),
                    _ => return None,
                };
                Some((k.clone(), s))
            })
            .collect(),
        None => Vec::new(),
    }
}

struct Reader<'c> {
    config: &'c InboundConfig,
    now: OffsetDateTime,
    gateway: &'static str,
}

impl Reader<'_> {
    fn form(&self, req: &WebhookRequest<'_>) -> Result<Fields, GatewayError> {
        serde_urlencoded::from_bytes(req.body).map_err(|_| GatewayError::Malformed {
            gateway: self.gateway,
            format: "form data",
        })
    }

    fn json(&self, req: &WebhookRequest<'_>) -> Result<Value, GatewayError> {
        serde_json::from_slice(req.body).map_err(|_| GatewayError::Malformed {
            gateway: self.gateway,
            format: "JSON",
        })
    }

    fn missing(&self, field: &'static str) -> GatewayError {
        GatewayError::Missing {
            gateway: self.gateway,
            field,
        }
    }

    fn invalid(&self, field: &'static str, detail: impl Into<String>) -> GatewayError {
        GatewayError::Invalid {
            gateway: self.gateway,
            field,
            detail: detail.into(),
        }
    }

    fn phone(&self, field: &'static str, raw: &str) -> Result<String, GatewayError> {
        phone::normalize(raw, &self.config.default_country)
            .map_err(|e: PhoneError| self.invalid(field, e.to_string()))
    }

    fn text(&self, field: &'static str, raw: Option<&str>) -> Result<String, GatewayError> {
        let t = raw.ok_or_else(|| self.missing(field))?;
        if t.chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        {
            return Err(self.invalid(field, "control characters"));
        }
        Ok(t.trim().to_owned())
    }

    fn rfc3339(&self, field: &'static str, raw: &str) -> Result<OffsetDateTime, GatewayError> {
        OffsetDateTime::parse(raw.trim(), &Rfc3339)
            .map_err(|_| self.invalid(field, format!("{raw:?} is not an RFC 3339 time")))
    }

    fn check_field_secret(&self, fields: &Fields) -> Result<(), GatewayError> {
        match get(fields, "secret") {
            Some(s) if ct_eq(s.as_bytes(), self.config.secret.as_bytes()) => Ok(()),
            Some(_) => Err(unauthorized(self.gateway, "wrong secret")),
            None => Err(unauthorized(self.gateway, "no secret")),
        }
    }

    fn twilio(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let posted = self.form(req)?;
        let sig = req
            .header("x-twilio-signature")
            .ok_or(unauthorized(self.gateway, "no X-Twilio-Signature header"))?;
        let expected = twilio_signature(&self.config.secret, req.url, &posted);
        if !ct_eq(sig.trim().as_bytes(), expected.as_bytes()) {
            return Err(unauthorized(
                self.gateway,
                "X-Twilio-Signature does not match",
            ));
        }
        // A webhook configured as GET carries its parameters in the (signed) URL.
        let fields = if posted.is_empty() {
            req.query()
        } else {
            posted
        };
        let sid = get(&fields, "MessageSid")
            .or_else(|| get(&fields, "SmsSid"))
            .ok_or_else(|| self.missing("MessageSid"))?;
        Ok(InboundMessage {
            gateway: Gateway::Twilio,
            provider_message_id: Some(sid.to_owned()),
            from: self.phone(
                "From",
                get(&fields, "From").ok_or_else(|| self.missing("From"))?,
            )?,
            to: get(&fields, "To").map(str::to_owned),
            text: self.text("Body", get_raw(&fields, "Body"))?,
            received_at: self.now,
        })
    }

    fn africas_talking(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let query = req.query();
        let secret_ok = match (get(&query, "secret"), req.header("authorization")) {
            (Some(s), _) => ct_eq(s.as_bytes(), self.config.secret.as_bytes()),
            (None, Some(auth)) => basic_password(auth)
                .is_some_and(|p| ct_eq(p.as_bytes(), self.config.secret.as_bytes())),
            (None, None) => return Err(unauthorized(self.gateway, "no secret in the URL")),
        };
        if !secret_ok {
            return Err(unauthorized(self.gateway, "wrong secret"));
        }
        let fields = if req.is_json() {
            json_fields(&self.json(req)?)
        } else {
            self.form(req)?
        };
        let received_at = match get(&fields, "date") {
            Some(d) => at_date(d).ok_or_else(|| {
                self.invalid(
                    "date",
                    format!("{d:?} is neither RFC 3339 nor `YYYY-MM-DD HH:MM:SS`"),
                )
            })?,
            None => self.now,
        };
        Ok(InboundMessage {
            gateway: Gateway::AfricasTalking,
            provider_message_id: get(&fields, "id").map(str::to_owned),
            from: self.phone(
                "from",
                get(&fields, "from").ok_or_else(|| self.missing("from"))?,
            )?,
            to: get(&fields, "to").map(str::to_owned),
            text: self.text("text", get_raw(&fields, "text"))?,
            received_at,
        })
    }

    fn frontline(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let fields = if req.is_json() {
            json_fields(&self.json(req)?)
        } else {
            self.form(req)?
        };
        self.check_field_secret(&fields)?;
        Ok(InboundMessage {
            gateway: Gateway::FrontlineSms,
            provider_message_id: get(&fields, "id").map(str::to_owned),
            from: self.phone(
                "from",
                get(&fields, "from").ok_or_else(|| self.missing("from"))?,
            )?,
            to: get(&fields, "to").map(str::to_owned),
            text: self.text("message", get(&fields, "message"))?,
            received_at: self.now,
        })
    }

    fn smssync(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let fields = self.form(req)?;
        self.check_field_secret(&fields)?;
        let received_at = match get(&fields, "sent_timestamp") {
            Some(ms) => {
                let ms: i64 = ms.trim().parse().map_err(|_| {
                    self.invalid("sent_timestamp", format!("{ms:?} is not milliseconds"))
                })?;
                OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
                    .map_err(|_| self.invalid("sent_timestamp", "out of range"))?
            }
            None => self.now,
        };
        Ok(InboundMessage {
            gateway: Gateway::SmsSync,
            provider_message_id: get(&fields, "message_id").map(str::to_owned),
            from: self.phone(
                "from",
                get(&fields, "from").ok_or_else(|| self.missing("from"))?,
            )?,
            to: get(&fields, "sent_to").map(str::to_owned),
            text: self.text("message", get(&fields, "message"))?,
            received_at,
        })
    }

    fn httpsms(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let auth = req
            .header("authorization")
            .ok_or(unauthorized(self.gateway, "no Authorization header"))?;
        let token = auth.strip_prefix("Bearer ").ok_or(unauthorized(
            self.gateway,
            "the Authorization header is not a Bearer token",
        ))?;
        verify_jwt_hs256(
            token.trim(),
            self.config.secret.as_bytes(),
            "api.httpsms.com",
            req.url,
            self.now,
        )
        .map_err(|reason| unauthorized(self.gateway, reason))?;
        let v = self.json(req)?;
        let event = v.get("type").and_then(Value::as_str).unwrap_or("");
        if event != "message.phone.received" {
            return Err(GatewayError::NotAMessage {
                gateway: self.gateway,
                event: event.chars().take(64).collect(),
            });
        }
        let data = v.get("data").ok_or_else(|| self.missing("data"))?;
        let s = |k: &'static str| data.get(k).and_then(Value::as_str);
        let received_at = match s("timestamp") {
            Some(t) => self.rfc3339("data.timestamp", t)?,
            None => self.now,
        };
        Ok(InboundMessage {
            gateway: Gateway::HttpSms,
            provider_message_id: s("message_id").map(str::to_owned),
            from: self.phone(
                "data.contact",
                s("contact").ok_or_else(|| self.missing("data.contact"))?,
            )?,
            to: s("owner").map(str::to_owned),
            text: self.text("data.content", s("content"))?,
            received_at,
        })
    }

    fn rapidpro(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let auth = req
            .header("authorization")
            .ok_or(unauthorized(self.gateway, "no Authorization header"))?;
        let token = auth.strip_prefix("Token ").ok_or(unauthorized(
            self.gateway,
            "the Authorization header is not `Token <secret>`",
        ))?;
        if !ct_eq(token.trim().as_bytes(), self.config.secret.as_bytes()) {
            return Err(unauthorized(self.gateway, "wrong token"));
        }
        let v = self.json(req)?;
        let input = v.get("input").filter(|i| !i.is_null());
        let Some(input) = input else {
            return Err(GatewayError::NotAMessage {
                gateway: self.gateway,
                event: "flow webhook without input".into(),
            });
        };
        // The input's URN is an object (`scheme`, `path`, `display`); the contact's, a string.
        let urn = match input.get("urn") {
            Some(Value::Object(o)) => match (o.get("scheme"), o.get("path")) {
                (Some(Value::String(s)), Some(Value::String(p))) if s == "tel" => Some(p.clone()),
                (Some(Value::String(s)), _) => {
                    return Err(self.invalid("input.urn", format!("scheme `{s}` is not a phone")))
                }
                _ => None,
            },
            _ => None,
        }
        .or_else(|| {
            v.pointer("/contact/urn")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or_else(|| self.missing("contact.urn"))?;
        if let Some((scheme, _)) = urn.split_once(':') {
            if scheme != "tel" {
                return Err(
                    self.invalid("contact.urn", format!("scheme `{scheme}` is not a phone"))
                );
            }
        }
        let received_at = match input.get("created_on").and_then(Value::as_str) {
            Some(t) => self.rfc3339("input.created_on", t)?,
            None => self.now,
        };
        Ok(InboundMessage {
            gateway: Gateway::RapidPro,
            provider_message_id: input.get("uuid").and_then(Value::as_str).map(str::to_owned),
            from: self.phone("contact.urn", &urn)?,
            to: v
                .pointer("/channel/address")
                .and_then(Value::as_str)
                .map(str::to_owned),
            text: self.text("input.text", input.get("text").and_then(Value::as_str))?,
            received_at,
        })
    }

    fn generic(&self, req: &WebhookRequest<'_>) -> Result<InboundMessage, GatewayError> {
        let sig = req
            .header("x-baraza-signature")
            .ok_or(unauthorized(self.gateway, "no X-Baraza-Signature header"))?;
        let hex_sig = sig.trim().strip_prefix("sha256=").ok_or(unauthorized(
            self.gateway,
            "X-Baraza-Signature is not `sha256=<hex>`",
        ))?;
        let expected = generic_signature(&self.config.secret, req.body);
        if !ct_eq(hex_sig.to_ascii_lowercase().as_bytes(), expected.as_bytes()) {
            return Err(unauthorized(
                self.gateway,
                "X-Baraza-Signature does not match",
            ));
        }
        let v = self.json(req)?;
        let s = |k: &'static str| v.get(k).and_then(Value::as_str);
        let received_at = match s("received_at") {
            Some(t) => self.rfc3339("received_at", t)?,
            None => self.now,
        };
        Ok(InboundMessage {
            gateway: Gateway::Generic,
            provider_message_id: s("id").filter(|i| !i.is_empty()).map(str::to_owned),
            from: self.phone("from", s("from").ok_or_else(|| self.missing("from"))?)?,
            to: s("to").map(str::to_owned),
            text: self.text("text", s("text"))?,
            received_at,
        })
    }
}

/// Twilio's `X-Twilio-Signature` for a form POST: base64(HMAC-SHA1(auth token, URL followed by
/// each parameter's name and value, sorted by name then value)).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// The generic webhook's signature: lower-case hex HMAC-SHA256 of the raw body.
pub fn generic_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    hex::encode(mac.finalize().into_bytes())
}

fn basic_password(auth: &str) -> Option<String> {
    let b64 = auth.strip_prefix("Basic ")?.trim();
    let raw = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let s = String::from_utf8(raw).ok()?;
    s.split_once(':').map(|(_, p)| p.to_owned())
}

/// Africa's Talking writes `date` as RFC 3339 or as `YYYY-MM-DD HH:MM:SS` in UTC.
fn at_date(d: &str) -> Option<OffsetDateTime> {
    let d = d.trim();
    if let Ok(t) = OffsetDateTime::parse(d, &Rfc3339) {
        return Some(t);
    }
    let fmt = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    time::PrimitiveDateTime::parse(d, &fmt)
        .ok()
        .map(|p| p.assume_utc())
}

/// Checks an HS256 JWT: signature, `iss`, `aud` (string or list) and the `nbf`/`exp` window
/// around `now` (a minute of clock skew tolerated). Other algorithms are refused, `none` first.
fn verify_jwt_hs256(
    token: &str,
    key: &[u8],
    issuer: &str,
    audience: &str,
    now: OffsetDateTime,
) -> Result<(), &'static str> {
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the token is not a JWT");
    };
    let header: Value = b64
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the token's header is not JSON")?;
    if header.get("alg").and_then(Value::as_str) != Some("HS256") {
        return Err("the token is not signed with HS256");
    }
    let sig = b64
        .decode(s)
        .map_err(|_| "the token's signature is not base64url")?;
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).map_err(|_| "bad key")?;
    mac.update(h.as_bytes());
    mac.update(b".");
    mac.update(p.as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| "the token's signature does not match")?;
    let claims: Value = b64
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the token's claims are not JSON")?;
    if claims.get("iss").and_then(Value::as_str) != Some(issuer) {
        return Err("the token's issuer is not the gateway");
    }
    let aud_ok = match claims.get("aud") {
        Some(Value::String(a)) => a == audience,
        Some(Value::Array(a)) => a.iter().any(|x| x.as_str() == Some(audience)),
        _ => false,
    };
    if !aud_ok {
        return Err("the token's audience is not this URL");
    }
    let t = now.unix_timestamp();
    const SKEW: i64 = 60;
    match claims.get("exp").and_then(Value::as_i64) {
        Some(exp) if t <= exp + SKEW => {}
        Some(_) => return Err("the token has expired"),
        None => return Err("the token has no expiry"),
    }
    if let Some(nbf) = claims.get("nbf").and_then(Value::as_i64) {
        if t + SKEW < nbf {
            return Err("the token is not valid yet");
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Outbound

/// An HTTP request to make, described: the caller sends it.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpRequest {
    pub method: &'static str,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Body,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Form(Vec<(String, String)>),
    Json(Value),
}

impl Body {
    /// The bytes to send and their content type.
    pub fn encode(&self) -> (Vec<u8>, &'static str) {
        match self {
            Body::Form(f) => (
                serde_urlencoded::to_string(f)
                    .unwrap_or_default()
                    .into_bytes(),
                "application/x-www-form-urlencoded",
            ),
            Body::Json(v) => (v.to_string().into_bytes(), "application/json"),
        }
    }
}

/// How to send through one configured gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum Outbound {
    /// Programmable Messaging: `POST /2010-04-01/Accounts/{sid}/Messages.json`, HTTP Basic
    /// with the account SID and auth token, form `To`, `From`, `Body`
    /// (<https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource>).
    Twilio {
        account_sid: String,
        auth_token: String,
        from: String,
    },
    /// `POST https://api.africastalking.com/version1/messaging` with the `apiKey` header, form
    /// `username`, `to`, `message`, `from` (the sandbox host when `sandbox`;
    /// <http://docs.africastalking.com/sms/sending>).
    AfricasTalking {
        username: String,
        api_key: String,
        from: Option<String>,
        sandbox: bool,
    },
    /// FrontlineCloud's *Send SMS from a web service* activity: `POST {server}/api/1/webhook`
    /// with `{"apiKey", "payload": {"message", "recipients": [{"type": "mobile", "value"}]}}`,
    /// as Ushahidi sends it
    /// (<https://github.com/ushahidi/platform/blob/develop/src/App/DataSource/FrontlineSMS/FrontlineSMS.php>).
    FrontlineSms { server_url: String, api_key: String },
    /// `POST https://api.httpsms.com/v1/messages/send` with the `x-api-key` header, JSON
    /// `from`, `to`, `content`, `request_id`
    /// (<https://github.com/NdoleStudio/httpsms/blob/main/api/pkg/requests/message_send_request.go>).
    HttpSms { api_key: String, from: String },
    /// RapidPro's `POST {server}/api/v2/broadcasts.json` with `Authorization: Token`, JSON
    /// `urns` and `text`.
    RapidPro {
        server_url: String,
        api_token: String,
    },
    /// Our generic JSON, signed as inbound webhooks are.
    Generic { url: String, secret: String },
    /// The phone polls for replies: see [`smssync_task_response`].
    SmsSync,
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutboundError {
    #[error("SMSSync fetches replies when it polls; it takes no request")]
    Polled,
    #[error("recipient: {0}")]
    Recipient(PhoneError),
    #[error("the reply is empty")]
    Empty,
}

/// The request sending `text` to `to` (E.164) through `gateway`; `id` is our outbox id, sent
/// where the gateway keeps a client reference.
pub fn build_reply(
    gateway: &Outbound,
    to: &str,
    text: &str,
    id: &str,
) -> Result<HttpRequest, OutboundError> {
    if !to.trim_start().starts_with('+') {
        return Err(OutboundError::Recipient(PhoneError::NotANumber(
            to.chars().take(32).collect(),
        )));
    }
    let to = phone::normalize(to, "").map_err(OutboundError::Recipient)?;
    if text.trim().is_empty() {
        return Err(OutboundError::Empty);
    }
    let text = text.to_owned();
    Ok(match gateway {
        Outbound::Twilio {
            account_sid,
            auth_token,
            from,
        } => {
            let basic = base64::engine::general_purpose::STANDARD
                .encode(format!("{account_sid}:{auth_token}"));
            HttpRequest {
                method: "POST",
                url: format!(
                    "https://api.twilio.com/2010-04-01/Accounts/{}/Messages.json",
                    path_segment(account_sid)
                ),
                headers: vec![("Authorization".into(), format!("Basic {basic}"))],
                body: Body::Form(vec![
                    ("To".into(), to),
                    ("From".into(), from.clone()),
                    ("Body".into(), text),
                ]),
            }
        }
        Outbound::AfricasTalking {
            username,
            api_key,
            from,
            sandbox,
        } => {
            let host = if *sandbox {
                "api.sandbox.africastalking.com"
            } else {
                "api.africastalking.com"
            };
            let mut form = vec![
                ("username".into(), username.clone()),
                ("to".into(), to),
                ("message".into(), text),
            ];
            if let Some(f) = from {
                form.push(("from".into(), f.clone()));
            }
            HttpRequest {
                method: "POST",
                url: format!("https://{host}/version1/messaging"),
                headers: vec![
                    ("apiKey".into(), api_key.clone()),
                    ("Accept".into(), "application/json".into()),
                ],
                body: Body::Form(form),
            }
        }
        Outbound::FrontlineSms {
            server_url,
            api_key,
        } => HttpRequest {
            method: "POST",
            url: format!("{}/api/1/webhook", server_url.trim_end_matches('/')),
            headers: vec![("Accept".into(), "application/json".into())],
            body: Body::Json(json!({
                "apiKey": api_key,
                "payload": {
                    "message": text,
                    "recipients": [{"type": "mobile", "value": to}],
                },
            })),
        },
        Outbound::HttpSms { api_key, from } => HttpRequest {
            method: "POST",
            url: "https://api.httpsms.com/v1/messages/send".into(),
            headers: vec![("x-api-key".into(), api_key.clone())],
            body: Body::Json(json!({"content": text, "from": from, "to": to, "request_id": id})),
        },
        Outbound::RapidPro {
            server_url,
            api_token,
        } => HttpRequest {
            method: "POST",
            url: format!(
                "{}/api/v2/broadcasts.json",
                server_url.trim_end_matches('/')
            ),
            headers: vec![("Authorization".into(), format!("Token {api_token}"))],
            body: Body::Json(json!({"urns": [format!("tel:{to}")], "text": text})),
        },
        Outbound::Generic { url, secret } => {
            let body = json!({"id": id, "to": to, "text": text});
            let sig = generic_signature(secret, body.to_string().as_bytes());
            HttpRequest {
                method: "POST",
                url: url.clone(),
                headers: vec![("X-Baraza-Signature".into(), format!("sha256={sig}"))],
                body: Body::Json(body),
            }
        }
        Outbound::SmsSync => return Err(OutboundError::Polled),
    })
}

fn path_segment(s: &str) -> String {
    s.chars().filter(|c| c.is_ascii_alphanumeric()).collect()
}

/// One reply waiting for an SMSSync phone.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingSms {
    pub to: String,
    pub text: String,
    /// Our outbox id, echoed by the phone when it reports the message sent.
    pub uuid: String,
}

/// The answer to SMSSync's `GET ?task=send` poll: the replies it should send, as SMSSync's
/// documentation and Ushahidi's controller write it.
pub fn smssync_task_response(secret: &str, pending: &[PendingSms]) -> Value {
    json!({
        "payload": {
            "task": "send",
            "success": true,
            "secret": secret,
            "messages": pending.iter().map(|p| json!({
                "to": p.to,
                "message": p.text,
                "uuid": p.uuid,
            })).collect::<Vec<_>>(),
        }
    })
}

/// The answer to SMSSync's POST of a message: `success` tells the phone whether to retry.
pub fn smssync_ack(success: bool, error: Option<&str>) -> Value {
    json!({"payload": {"success": success, "error": error}})
}

// ---------------------------------------------------------------------------------------------
// Outbox policy

/// When to try a reply again and how fast a gateway may be used, as pure functions of time
/// (milliseconds since the Unix epoch, or any monotonic origin the caller keeps).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outbox {
    /// Delay before the first retry.
    pub base_delay_ms: u64,
    /// The delay doubles per attempt up to this.
    pub max_delay_ms: u64,
    /// Attempts in all, the first included; past this the reply is given up.
    pub max_attempts: u32,
    /// Messages per second the gateway allows, in thousandths (1500 = 1.5/s).
    pub rate_milli_per_s: u64,
    /// How many messages may leave at once after a quiet time.
    pub burst: u64,
}

impl Default for Outbox {
    fn default() -> Self {
        Outbox {
            base_delay_ms: 30_000,
            max_delay_ms: 6 * 3_600_000,
            max_attempts: 8,
            rate_milli_per_s: 1_000,
            burst: 10,
        }
    }
}

impl Outbox {
    /// Conservative defaults per gateway, to be raised to what an account is granted. Android
    /// counts the segments an app sends and, past a limit, waits for the phone's owner to allow
    /// more, which on an unattended gateway phone means nothing leaves: 30 a minute in current
    /// AOSP (`SmsUsageMonitor`), 30 in 30 minutes in older releases. SMSSync and httpSMS phones
    /// stay within the older limit: bursts of 10, then one every 91 seconds (10 + 20 in any
    /// 30 minutes). Twilio one message a second, a long code's rate; the others one a second,
    /// bursts of ten.
    pub fn for_gateway(gateway: Gateway) -> Outbox {
        let base = Outbox::default();
        match gateway {
            Gateway::SmsSync | Gateway::HttpSms => Outbox {
                rate_milli_per_s: 11,
                burst: 10,
                ..base
            },
            Gateway::Twilio => Outbox { burst: 1, ..base },
            _ => base,
        }
    }
}

/// What to answer a gateway whose webhook was taken (or recognised as a repeat).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub content_type: &'static str,
    pub body: String,
}

/// The 200 answer each gateway expects: empty TwiML for Twilio (which would otherwise log a
/// schema warning), `{"payload": {"success": true}}` for SMSSync and FrontlineSMS (the phone
/// retries without it), a small JSON for the others.
pub fn acknowledgement(gateway: Gateway) -> Ack {
    match gateway {
        Gateway::Twilio => Ack {
            content_type: "text/xml",
            body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response></Response>".into(),
        },
        Gateway::SmsSync | Gateway::FrontlineSms => Ack {
            content_type: "application/json",
            body: smssync_ack(true, None).to_string(),
        },
        _ => Ack {
            content_type: "application/json",
            body: json!({"ok": true}).to_string(),
        },
    }
}

/// A gateway's token bucket: tokens in thousandths, and when they were counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bucket {
    pub milli_tokens: u64,
    pub at_ms: i64,
}

impl Outbox {
    /// When attempt number `attempts + 1` may run after `attempts` failures, the last at
    /// `failed_at_ms`; `None` once `max_attempts` are spent. `jitter` (any number, e.g. a hash of
    /// the message id) spreads retries over the last quarter of the delay so that a gateway
    /// coming back is not hit by every reply at once.
    pub fn next_attempt_at(&self, attempts: u32, failed_at_ms: i64, jitter: u64) -> Option<i64> {
        if attempts == 0 {
            return Some(failed_at_ms);
        }
        if attempts >= self.max_attempts {
            return None;
        }
        let exp = (attempts - 1).min(40);
        let delay = self
            .base_delay_ms
            .saturating_mul(1u64 << exp)
            .min(self.max_delay_ms);
        let spread = delay / 4;
        let delay = delay - spread + if spread > 0 { jitter % (spread + 1) } else { 0 };
        Some(failed_at_ms.saturating_add(i64::try_from(delay).unwrap_or(i64::MAX)))
    }

    /// A full bucket, for a gateway not used yet.
    pub fn full_bucket(&self, now_ms: i64) -> Bucket {
        Bucket {
            milli_tokens: self.burst.saturating_mul(1000),
            at_ms: now_ms,
        }
    }

    /// Takes one message's token at `now_ms`: `Ok(bucket after)` to send now, or
    /// `Err(milliseconds to wait)` with the bucket unchanged.
    pub fn take(&self, bucket: Bucket, now_ms: i64) -> Result<Bucket, u64> {
        let cap = self.burst.max(1).saturating_mul(1000);
        let elapsed = u64::try_from(now_ms.saturating_sub(bucket.at_ms)).unwrap_or(0);
        // rate_milli_per_s thousandths of a token per second = rate_milli_per_s / 1000 milli
        // tokens per millisecond.
        let refill = elapsed.saturating_mul(self.rate_milli_per_s) / 1000;
        let tokens = bucket.milli_tokens.saturating_add(refill);
        // Time is consumed only for the whole milli tokens it refilled, so that frequent
        // polling at a slow rate does not lose the fractions.
        let at_ms = if tokens >= cap || self.rate_milli_per_s == 0 {
            now_ms.max(bucket.at_ms)
        } else {
            let used = refill.saturating_mul(1000) / self.rate_milli_per_s;
            bucket
                .at_ms
                .saturating_add(i64::try_from(used).unwrap_or(i64::MAX))
        };
        let tokens = tokens.min(cap);
        if tokens >= 1000 {
            return Ok(Bucket {
                milli_tokens: tokens - 1000,
                at_ms,
            });
        }
        if self.rate_milli_per_s == 0 {
            return Err(u64::MAX);
        }
        let missing = 1000 - tokens;
        // Milliseconds until `missing` milli tokens have refilled, rounded up.
        Err((missing * 1000).div_ceil(self.rate_milli_per_s))
    }
}

#[cfg(test)]
mod tests;
