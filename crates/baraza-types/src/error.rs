//! The error-code table.
//!
//! Every error that reaches a user carries one of these stable, snake_case codes. The code decides
//! the kind (whose fault it is) and the HTTP status; the message, in the user's language, is chosen
//! by the web edge from the code. `docs/errors.md` lists them; a test keeps the two in step.

use serde::Serialize;

/// Whose fault an error is, which decides whether it is logged as a failure of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    /// The request was wrong; the user can fix it.
    User,
    /// The user is not allowed, or not signed in.
    Auth,
    /// Something of ours failed; the user can only retry or report the request id.
    Internal,
}

macro_rules! error_codes {
    ($($variant:ident => ($code:literal, $kind:ident, $status:literal)),* $(,)?) => {
        /// A stable error code. See `docs/errors.md`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "snake_case")]
        pub enum ErrorCode { $($variant),* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),*];

            /// The code as it appears in the JSON error envelope.
            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),* }
            }

            pub fn kind(self) -> ErrorKind {
                match self { $(ErrorCode::$variant => ErrorKind::$kind),* }
            }

            /// The HTTP status that the web edge answers with.
            pub fn http_status(self) -> u16 {
                match self { $(ErrorCode::$variant => $status),* }
            }
        }
    };
}

error_codes! {
    BadRequest => ("bad_request", User, 400),
    InvalidForm => ("invalid_form", User, 400),
    InvalidJson => ("invalid_json", User, 400),
    ValidationFailed => ("validation_failed", User, 422),
    WeakPassword => ("weak_password", User, 422),
    InvalidSlug => ("invalid_slug", User, 422),
    Unauthenticated => ("unauthenticated", Auth, 401),
    InvalidCredentials => ("invalid_credentials", Auth, 401),
    InvalidToken => ("invalid_token", Auth, 401),
    TokenExpired => ("token_expired", Auth, 401),
    Forbidden => ("forbidden", Auth, 403),
    CsrfFailed => ("csrf_failed", Auth, 403),
    TokenScope => ("token_scope", Auth, 403),
    NotFound => ("not_found", User, 404),
    MethodNotAllowed => ("method_not_allowed", User, 405),
    Conflict => ("conflict", User, 409),
    SlugTaken => ("slug_taken", User, 409),
    EmailTaken => ("email_taken", User, 409),
    LastOwner => ("last_owner", User, 409),
    FormInvalid => ("form_invalid", User, 422),
    FormVersionExists => ("form_version_exists", User, 409),
    FormNotOpen => ("form_not_open", User, 409),
    SubmissionInvalid => ("submission_invalid", User, 400),
    SubmissionConflict => ("submission_conflict", User, 409),
    SubmissionExists => ("submission_exists", User, 409),
    EncryptedSubmissionInvalid => ("encrypted_submission_invalid", User, 400),
    EncryptedSubmissionTampered => ("encrypted_submission_tampered", User, 422),
    FormKeyWrong => ("form_key_wrong", User, 422),
    ReleaseRefused => ("release_refused", User, 422),
    IndicatorInvalid => ("indicator_invalid", User, 422),
    SearchInvalid => ("search_invalid", User, 400),
    HarvestRunning => ("harvest_running", User, 409),
    DatasetHarvested => ("dataset_harvested", User, 409),
    CensusClosed => ("census_closed", User, 409),
    CensusInUse => ("census_in_use", User, 409),
    WebhookRefused => ("webhook_refused", Auth, 401),
    WebhookInvalid => ("webhook_invalid", User, 400),
    ReportTransition => ("report_transition", User, 409),
    OdataInvalid => ("odata_invalid", User, 400),
    TableQueryInvalid => ("table_query_invalid", User, 400),
    TableTooLarge => ("table_too_large", User, 422),
    TableUnreadable => ("table_unreadable", User, 422),
    OdataUnsupported => ("odata_unsupported", User, 501),
    OpenrosaVersionMissing => ("openrosa_version_missing", User, 400),
    PayloadTooLarge => ("payload_too_large", User, 413),
    UnsupportedMediaType => ("unsupported_media_type", User, 415),
    TooManyAttempts => ("too_many_attempts", Auth, 429),
    RateLimited => ("rate_limited", User, 429),
    PostingTooFast => ("posting_too_fast", User, 429),
    Internal => ("internal", Internal, 500),
    Unavailable => ("unavailable", Internal, 503),
}

impl ErrorCode {
    /// The code whose HTTP status is `status`, for errors produced below our handlers (the router's
    /// 404 and 405, the body limit's 413).
    pub fn from_http_status(status: u16) -> ErrorCode {
        match status {
            401 => ErrorCode::Unauthenticated,
            403 => ErrorCode::Forbidden,
            404 => ErrorCode::NotFound,
            405 => ErrorCode::MethodNotAllowed,
            409 => ErrorCode::Conflict,
            413 => ErrorCode::PayloadTooLarge,
            415 => ErrorCode::UnsupportedMediaType,
            422 => ErrorCode::ValidationFailed,
            429 => ErrorCode::TooManyAttempts,
            400..=499 => ErrorCode::BadRequest,
            503 => ErrorCode::Unavailable,
            _ => ErrorCode::Internal,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_snake_case() {
        let mut seen = HashSet::new();
        for c in ErrorCode::ALL {
            assert!(seen.insert(c.as_str()), "duplicate {}", c.as_str());
            assert!(c
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
            // serde's name and the table's name agree.
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
    }

    #[test]
    fn statuses_match_kinds() {
        for c in ErrorCode::ALL {
            let s = c.http_status();
            match c.kind() {
                ErrorKind::Internal => assert!(s >= 500, "{c:?}"),
                // 501: a well-formed request for a feature Baraza does not implement (as ODK
                // Central answers unsupported OData); the client can change the request.
                ErrorKind::User if s == 501 => {}
                _ => assert!((400..500).contains(&s), "{c:?}"),
            }
        }
    }

    #[test]
    fn from_status_round_trips_the_generic_codes() {
        for s in [401, 403, 404, 405, 409, 413, 415, 422, 429, 500, 503] {
            assert_eq!(ErrorCode::from_http_status(s).http_status(), s);
        }
        assert_eq!(ErrorCode::from_http_status(418), ErrorCode::BadRequest);
    }
}

#[cfg(test)]
mod doc_tests {
    use super::*;

    #[test]
    fn docs_list_every_code_with_its_status() {
        let doc = include_str!("../../../docs/errors.md");
        for c in ErrorCode::ALL {
            let row = format!("| `{}` |", c.as_str());
            let line = doc
                .lines()
                .find(|l| l.starts_with(&row))
                .unwrap_or_else(|| panic!("docs/errors.md lacks {}", c.as_str()));
            assert!(
                line.contains(&format!("| {} |", c.http_status())),
                "docs/errors.md: wrong status for {}",
                c.as_str()
            );
        }
    }
}
