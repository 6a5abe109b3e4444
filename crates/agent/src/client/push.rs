//! One batch to the store: the HTTP request, and Promtail's retries with
//! backoff.

use std::time::{Duration, Instant};

use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use tokio_util::sync::CancellationToken;

use super::ClientError;
use super::batch::Batch;
use super::metrics::{ClientMetrics, reason};
use crate::config::{BackoffConfig, ClientAuth, ClientConfig, Secret};

/// The `User-Agent` of a push: Promtail's `promtail/<version>`, naming the
/// Promtail release whose behaviour the client follows, then vigil's.
pub const USER_AGENT_VALUE: &str =
    concat!("promtail/2.8.0 (vigil/", env!("CARGO_PKG_VERSION"), ")");

/// The header that names the tenant.
const TENANT_HEADER: &str = "X-Scope-OrgID";

/// Bytes of an error answer read for the log, as Promtail.
const MAX_ERROR_BYTES: usize = 1024;

/// What pushes batches for one client.
pub(crate) struct Pusher {
    http: reqwest::Client,
    url: reqwest::Url,
    host: String,
    config: ClientConfig,
    /// `config.headers` checked once.
    headers: Vec<(HeaderName, HeaderValue)>,
    metrics: ClientMetrics,
}

/// Whether the client is done with a batch: answered, or given up on
/// (its lines count as done); or abandoned as the client stops (they do
/// not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Done,
    Abandoned,
}

/// How one attempt ended: the status (-1 when nothing was answered) and,
/// when it failed, why.
struct Attempt {
    status: i32,
    error: Option<String>,
}

impl Pusher {
    /// A pusher for `config`, whose URL is `url`.
    pub(crate) fn new(
        config: ClientConfig,
        url: reqwest::Url,
        host: String,
        metrics: ClientMetrics,
    ) -> Result<Self, ClientError> {
        let mut headers = Vec::with_capacity(config.headers.len());
        for (name, value) in &config.headers {
            let bad = || ClientError::Header(name.clone());
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| bad())?;
            let value = HeaderValue::from_str(value).map_err(|_| bad())?;
            headers.push((name, value));
        }
        Ok(Self {
            http: super::tls::http_client(&config)?,
            url,
            host,
            config,
            headers,
            metrics,
        })
    }

    /// Pushes `batch` until the store acknowledges it or the client gives
    /// up on it (then it is counted as dropped); either way its receipt is
    /// released. When `cancel` fires first, the receipt is kept unreleased,
    /// so its lines are read again on the next start.
    pub(crate) async fn push(&self, mut batch: Batch, cancel: &CancellationToken) {
        let receipt = std::mem::take(&mut batch.receipt);
        if self.deliver(batch, cancel).await == Verdict::Done {
            receipt.release();
        }
    }

    /// Sends `batch` with retries; whether the client is done with it.
    async fn deliver(&self, mut batch: Batch, cancel: &CancellationToken) -> Verdict {
        let tenant = batch.tenant.clone();
        let entries = batch.len();
        let line_bytes = batch.bytes();
        let body = match batch.encode() {
            Ok(body) => body,
            Err(error) => {
                // Promtail logs this and drops the whole batch (a time past
                // year 9999 in one entry does it); vigil counts it too.
                tracing::error!(host = %self.host, %error, "error encoding batch");
                self.metrics.dropped(
                    &self.host,
                    &tenant,
                    reason::INGESTER_ERROR,
                    entries,
                    line_bytes,
                );
                return Verdict::Done;
            }
        };
        let body_len = body.len();
        self.metrics
            .encoded_bytes
            .with_labels(&[&self.host])
            .inc_by(body_len as f64);

        let mut backoff = Backoff::new(self.config.backoff);
        let last = loop {
            let start = Instant::now();
            let attempt = tokio::select! {
                attempt = self.attempt(&tenant, &body) => attempt,
                () = cancel.cancelled() => return Verdict::Abandoned,
            };
            self.metrics.request_duration.observe(
                &[&self.host, &attempt.status.to_string()],
                start.elapsed().as_secs_f64(),
            );
            if self.config.drop_rate_limited_batches && attempt.status == 429 {
                // At once, so one throttled tenant does not hold up the
                // others behind it.
                tracing::warn!(host = %self.host, "dropping batch due to rate limiting applied at ingester");
                self.metrics
                    .dropped(&self.host, &tenant, reason::RATE_LIMITED, entries, body_len);
                return Verdict::Done;
            }
            let Some(error) = attempt.error else {
                self.metrics
                    .sent_bytes
                    .with_labels(&[&self.host])
                    .inc_by(body_len as f64);
                self.metrics
                    .sent_entries
                    .with_labels(&[&self.host])
                    .inc_by(entries as f64);
                return Verdict::Done;
            };
            // Only 429, 5xx and requests that got no answer are retried.
            if attempt.status > 0 && attempt.status != 429 && attempt.status / 100 != 5 {
                break (attempt.status, error);
            }
            tracing::warn!(host = %self.host, status = attempt.status, tenant = %tenant, %error,
                "error sending batch, will retry");
            self.metrics
                .batch_retries
                .with_labels(&[&self.host, &tenant])
                .inc();
            let delay = backoff.next_delay();
            if !backoff.ongoing() {
                break (attempt.status, error);
            }
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = cancel.cancelled() => return Verdict::Abandoned,
            }
        };
        let (status, error) = last;
        tracing::error!(host = %self.host, status, tenant = %tenant, %error, "final error sending batch");
        // The last answer names the reason, whatever the earlier ones were.
        let why = if status == 429 {
            reason::RATE_LIMITED
        } else {
            reason::INGESTER_ERROR
        };
        self.metrics
            .dropped(&self.host, &tenant, why, entries, body_len);
        Verdict::Done
    }

    /// One POST of `body`.
    async fn attempt(&self, tenant: &str, body: &[u8]) -> Attempt {
        let no_answer = |error: String| Attempt {
            status: -1,
            error: Some(error),
        };
        let mut request = self
            .http
            .post(self.url.clone())
            .header(CONTENT_TYPE, lokipush::CONTENT_TYPE)
            .header(USER_AGENT, USER_AGENT_VALUE)
            .body(body.to_vec());
        if !tenant.is_empty() {
            request = request.header(TENANT_HEADER, tenant);
        }
        // Configured headers never replace the ones the protocol needs.
        let mut has_authorization = false;
        for (name, value) in &self.headers {
            if name == CONTENT_TYPE
                || name == USER_AGENT
                || (!tenant.is_empty() && name == TENANT_HEADER)
            {
                tracing::debug!(host = %self.host, key = %name, "custom header key already exists, skipping");
                continue;
            }
            has_authorization |= name == AUTHORIZATION;
            request = request.header(name, value);
        }
        if !has_authorization {
            match self.authorization() {
                Ok(Some(Auth::Basic(user, password))) => {
                    request = request.basic_auth(user, Some(password))
                }
                Ok(Some(Auth::Header(value))) => request = request.header(AUTHORIZATION, value),
                Ok(None) => {}
                Err(error) => return no_answer(error),
            }
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return no_answer(describe(&error)),
        };
        let status = response.status();
        if status.is_success() {
            return Attempt {
                status: i32::from(status.as_u16()),
                error: None,
            };
        }
        let first_line = error_line(response).await;
        Attempt {
            status: i32::from(status.as_u16()),
            error: Some(format!(
                "server returned HTTP status {status} ({}): {first_line}",
                status.as_u16()
            )),
        }
    }

    /// The credentials of `basic_auth` or `authorization` (bearer tokens
    /// included), files read now so that a rotated secret is picked up.
    fn authorization(&self) -> Result<Option<Auth>, String> {
        let read = |secret: &Secret| match secret {
            Secret::Inline(text) => Ok(text.clone()),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim().to_owned())
                .map_err(|e| format!("unable to read {}: {e}", path.display())),
        };
        Ok(match &self.config.auth {
            None => None,
            Some(ClientAuth::Basic { username, password }) => {
                Some(Auth::Basic(username.clone(), read(password)?))
            }
            Some(ClientAuth::Authorization {
                scheme,
                credentials,
            }) => Some(Auth::Header(format!("{scheme} {}", read(credentials)?))),
        })
    }
}

/// Credentials for one request.
enum Auth {
    /// User and password.
    Basic(String, String),
    /// The whole `Authorization` value, `<scheme> <credentials>`.
    Header(String),
}

/// The first line of the first kilobyte of an error answer.
async fn error_line(mut response: reqwest::Response) -> String {
    let mut body = Vec::new();
    while body.len() < MAX_ERROR_BYTES {
        match response.chunk().await {
            Ok(Some(chunk)) => body.extend_from_slice(&chunk),
            _ => break,
        }
    }
    body.truncate(MAX_ERROR_BYTES);
    let text = String::from_utf8_lossy(&body);
    text.lines().next().unwrap_or("").to_owned()
}

/// A request error with its causes, which reqwest keeps apart.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(inner) = source {
        text.push_str(": ");
        text.push_str(&inner.to_string());
        source = inner.source();
    }
    text
}

/// dskit's backoff, as Promtail uses it: each wait is drawn at random
/// between the step's bounds, which double from `min_period` to
/// `max_period`.
struct Backoff {
    config: BackoffConfig,
    retries: usize,
    low: Duration,
    high: Duration,
}

impl Backoff {
    fn new(config: BackoffConfig) -> Self {
        Self {
            config,
            retries: 0,
            low: config.min_period,
            high: double(config.min_period, config.max_period),
        }
    }

    /// Whether another attempt is allowed (`max_retries` 0: always).
    fn ongoing(&self) -> bool {
        self.config.max_retries == 0 || self.retries < self.config.max_retries
    }

    /// Counts a retry and returns how long to wait before it.
    fn next_delay(&mut self) -> Duration {
        self.retries = self.retries.saturating_add(1);
        if self.low >= self.high {
            return self.low;
        }
        let span = u64::try_from((self.high - self.low).as_nanos()).unwrap_or(u64::MAX);
        let delay = self.low + Duration::from_nanos(rand::random_range(..span));
        if self.high < self.config.max_period {
            self.low = double(self.low, self.config.max_period);
            self.high = double(self.high, self.config.max_period);
        }
        delay
    }
}

/// Twice `value`, at most `max`.
fn double(value: Duration, max: Duration) -> Duration {
    value.saturating_mul(2).min(max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_within_their_bounds_up_to_the_max() {
        let mut b = Backoff::new(BackoffConfig {
            min_period: Duration::from_millis(500),
            max_period: Duration::from_secs(5),
            max_retries: 10,
        });
        // Once the upper bound reaches the max, the step stays where it
        // is (dskit's behaviour): the waits never settle on the max itself.
        let bounds = [
            (500, 1000),
            (1000, 2000),
            (2000, 4000),
            (4000, 5000),
            (4000, 5000),
        ];
        for (low, high) in bounds {
            assert!(b.ongoing());
            let d = b.next_delay().as_millis();
            assert!(d >= low && d < high, "{d} not in {low}..{high}");
        }
        assert_eq!(b.retries, 5);
    }

    #[test]
    fn equal_bounds_wait_exactly_the_min() {
        let mut b = Backoff::new(BackoffConfig {
            min_period: Duration::from_millis(7),
            max_period: Duration::from_millis(7),
            max_retries: 3,
        });
        assert_eq!(b.next_delay(), Duration::from_millis(7));
        assert_eq!(b.next_delay(), Duration::from_millis(7));
    }

    #[test]
    fn max_retries_counts_attempts_and_zero_is_for_ever() {
        let mut b = Backoff::new(BackoffConfig {
            max_retries: 2,
            ..BackoffConfig::default()
        });
        b.next_delay();
        assert!(b.ongoing());
        b.next_delay();
        assert!(!b.ongoing());
        let mut forever = Backoff::new(BackoffConfig {
            max_retries: 0,
            ..BackoffConfig::default()
        });
        for _ in 0..100 {
            forever.next_delay();
        }
        assert!(forever.ongoing());
    }
}
