use baraza_store::StoreError;
use baraza_types::ErrorCode;

/// What a use case refuses, and why. Each variant maps to one code of the error table.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    #[error("e-mail or password is wrong")]
    InvalidCredentials,
    #[error("too many failed sign-ins; try again in {retry_after_secs} seconds")]
    TooManyAttempts { retry_after_secs: i64 },
    #[error("too many submissions from this address; try again in {retry_after_secs} seconds")]
    RateLimited { retry_after_secs: i64 },
    #[error(
        "too many messages or reuses in a short time; try again in {retry_after_secs} seconds"
    )]
    PostingTooFast { retry_after_secs: i64 },
    #[error("sign in to continue")]
    Unauthenticated,
    #[error("your role does not allow this")]
    Forbidden,
    #[error("{what} not found")]
    NotFound { what: &'static str },
    #[error("the password must have at least {min} characters and differ from the e-mail address")]
    WeakPassword { min: usize },
    #[error("{field}: {reason}")]
    Invalid {
        field: &'static str,
        reason: &'static str,
    },
    #[error("slug {slug:?} is not valid ({reason})")]
    InvalidSlug { slug: String, reason: &'static str },
    #[error("slug {slug:?} is already used")]
    SlugTaken { slug: String },
    #[error("an account with this e-mail address already exists")]
    EmailTaken,
    #[error("a project must keep at least one owner")]
    LastOwner,
    #[error("the API token is not valid")]
    InvalidToken,
    #[error("the API token has expired")]
    TokenExpired,
    #[error("the API token does not cover this project or action")]
    TokenScope,
    #[error("the form has {} problem(s)", diagnostics.len())]
    FormRefused {
        diagnostics: Vec<baraza_xlsform::Diagnostic>,
    },
    #[error("this form already has a version {version}")]
    FormVersionExists { version: String },
    #[error("the form does not accept submissions")]
    FormNotOpen,
    #[error("submission refused ({code}): {detail}")]
    SubmissionInvalid { code: &'static str, detail: String },
    #[error("another submission with this instanceID was already received")]
    SubmissionConflict,
    #[error("encrypted submission refused: {detail}")]
    EncryptedInvalid { detail: String },
    #[error("the passphrase or private key does not open this form's encrypted submissions")]
    FormKeyWrong,
    #[error("encrypted submission {instance_id} was altered: {detail}")]
    EncryptedTampered { instance_id: String, detail: String },
    /// Why, as a code and values that pages translate (and in English for logs).
    #[error("the release was refused: {}", problem.message)]
    ReleaseRefused {
        problem: Box<crate::releases::Problem>,
    },
    /// Every problem of an indicator definition or an official series, each naming where.
    #[error("the indicator definition was refused: {}", problems.join("; "))]
    IndicatorInvalid { problems: Vec<String> },
    #[error("the search could not be run: {problem}")]
    SearchInvalid { problem: String },
    #[error("the table could not be read: {param}: {problem}")]
    TableQuery { param: String, problem: String },
    #[error("the table is too large for this page: {what}")]
    TableTooLarge { what: String },
    #[error("the file could not be read as a table: {problem}")]
    TableUnreadable { problem: String },
    #[error("this source is being harvested now; wait for the run to end")]
    HarvestRunning,
    #[error("a harvested dataset is edited on its source, not here")]
    DatasetHarvested,
    #[error("this census is closed: it accepts no entries")]
    CensusClosed,
    #[error("the census's {field} {code:?} has entries published or awaiting review")]
    CensusInUse { field: &'static str, code: String },
    #[error("the gateway's call was refused: {reason}")]
    WebhookRefused { reason: String },
    #[error("the gateway's call could not be read: {detail}")]
    WebhookInvalid { detail: String },
    #[error("a report cannot go from {from} to {to}")]
    ReportTransition {
        from: &'static str,
        to: &'static str,
    },
    #[error("internal error: {0}")]
    Internal(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl CoreError {
    pub fn code(&self) -> ErrorCode {
        match self {
            CoreError::InvalidCredentials => ErrorCode::InvalidCredentials,
            CoreError::TooManyAttempts { .. } => ErrorCode::TooManyAttempts,
            CoreError::RateLimited { .. } => ErrorCode::RateLimited,
            CoreError::PostingTooFast { .. } => ErrorCode::PostingTooFast,
            CoreError::Unauthenticated => ErrorCode::Unauthenticated,
            CoreError::Forbidden => ErrorCode::Forbidden,
            CoreError::NotFound { .. } => ErrorCode::NotFound,
            CoreError::WeakPassword { .. } => ErrorCode::WeakPassword,
            CoreError::Invalid { .. } => ErrorCode::ValidationFailed,
            CoreError::InvalidSlug { .. } => ErrorCode::InvalidSlug,
            CoreError::SlugTaken { .. } => ErrorCode::SlugTaken,
            CoreError::EmailTaken => ErrorCode::EmailTaken,
            CoreError::LastOwner => ErrorCode::LastOwner,
            CoreError::InvalidToken => ErrorCode::InvalidToken,
            CoreError::TokenExpired => ErrorCode::TokenExpired,
            CoreError::TokenScope => ErrorCode::TokenScope,
            CoreError::FormRefused { .. } => ErrorCode::FormInvalid,
            CoreError::FormVersionExists { .. } => ErrorCode::FormVersionExists,
            CoreError::FormNotOpen => ErrorCode::FormNotOpen,
            CoreError::SubmissionInvalid { .. } => ErrorCode::SubmissionInvalid,
            CoreError::SubmissionConflict => ErrorCode::SubmissionConflict,
            CoreError::EncryptedInvalid { .. } => ErrorCode::EncryptedSubmissionInvalid,
            CoreError::FormKeyWrong => ErrorCode::FormKeyWrong,
            CoreError::EncryptedTampered { .. } => ErrorCode::EncryptedSubmissionTampered,
            CoreError::ReleaseRefused { .. } => ErrorCode::ReleaseRefused,
            CoreError::IndicatorInvalid { .. } => ErrorCode::IndicatorInvalid,
            CoreError::SearchInvalid { .. } => ErrorCode::SearchInvalid,
            CoreError::TableQuery { .. } => ErrorCode::TableQueryInvalid,
            CoreError::TableTooLarge { .. } => ErrorCode::TableTooLarge,
            CoreError::TableUnreadable { .. } => ErrorCode::TableUnreadable,
            CoreError::HarvestRunning => ErrorCode::HarvestRunning,
            CoreError::DatasetHarvested => ErrorCode::DatasetHarvested,
            CoreError::CensusClosed => ErrorCode::CensusClosed,
            CoreError::CensusInUse { .. } => ErrorCode::CensusInUse,
            CoreError::WebhookRefused { .. } => ErrorCode::WebhookRefused,
            CoreError::WebhookInvalid { .. } => ErrorCode::WebhookInvalid,
            CoreError::ReportTransition { .. } => ErrorCode::ReportTransition,
            CoreError::Internal(_) => ErrorCode::Internal,
            CoreError::Store(StoreError::Unavailable(_)) => ErrorCode::Unavailable,
            CoreError::Store(StoreError::Conflict { .. }) => ErrorCode::Conflict,
            CoreError::Store(_) => ErrorCode::Internal,
        }
    }
}
