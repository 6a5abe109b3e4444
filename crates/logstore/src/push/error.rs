//! The push API's one error type, carrying the HTTP status Loki answers with.

/// Why a push was refused, with Loki's plain-text message.
///
/// Each variant maps to one HTTP status ([`PushError::status`]); the message
/// is the body Loki writes (its `http.Error` appends a newline, which
/// [`PushError::http_body`] adds). A client error is never a 5xx, because
/// Promtail retries 5xx for minutes but drops other 4xx at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PushError {
    /// 400: the body or an entry is invalid.
    #[error("{0}")]
    BadRequest(String),
    /// 401: no tenant where one is required.
    #[error("{0}")]
    Unauthorized(String),
    /// 413: the body, or what it decompresses to, is over the limit.
    #[error("{0}")]
    TooLarge(String),
    /// 415: a media type the endpoint does not read.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// 429: a tenant or stream rate limit was hit.
    #[error("{0}")]
    RateLimited(String),
}

impl PushError {
    /// The HTTP status code Loki answers with.
    pub fn status(&self) -> u16 {
        match self {
            Self::BadRequest(_) => 400,
            Self::Unauthorized(_) => 401,
            Self::TooLarge(_) => 413,
            Self::UnsupportedMediaType(_) => 415,
            Self::RateLimited(_) => 429,
        }
    }

    /// The message, without the trailing newline.
    pub fn message(&self) -> &str {
        match self {
            Self::BadRequest(m)
            | Self::Unauthorized(m)
            | Self::TooLarge(m)
            | Self::UnsupportedMediaType(m)
            | Self::RateLimited(m) => m,
        }
    }

    /// The response body as Loki writes it (`text/plain`, message and a newline).
    pub fn http_body(&self) -> String {
        format!("{}\n", self.message())
    }

    /// The 401 Loki answers when auth is on and no `X-Scope-OrgID` was sent.
    pub fn no_org_id() -> Self {
        Self::Unauthorized("no org id".to_owned())
    }

    pub(crate) fn bad(message: impl Into<String>) -> Self {
        Self::BadRequest(message.into())
    }
}
