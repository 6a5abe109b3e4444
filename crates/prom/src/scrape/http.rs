//! Fetching one target's metrics over HTTP, as Prometheus asks for them.

use std::time::Duration;

use super::process::Fetched;
use crate::config::HttpClientConfig;
use crate::exposition::ExpositionFormat;

/// The `Accept` header of Prometheus 3: OpenMetrics first, then the text
/// formats, then anything.
pub(crate) const ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

/// How to fetch one target.
pub(crate) struct Fetcher {
    pub(crate) client: reqwest::Client,
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) auth: HttpClientConfig,
    pub(crate) body_size_limit: Option<u64>,
    pub(crate) fallback: Option<ExpositionFormat>,
}

impl Fetcher {
    /// One scrape; errors are the `lastError` the targets API shows.
    pub(crate) async fn fetch(&self) -> Result<Fetched, String> {
        let mut request = self
            .client
            .get(&self.url)
            .timeout(self.timeout)
            .header("Accept", ACCEPT)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format!("{}", self.timeout.as_secs_f64()),
            );
        request = self.auth.authorize(request)?;
        let mut response = request.send().await.map_err(describe)?;
        if !response.status().is_success() {
            return Err(format!("server returned HTTP status {}", response.status()));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let format = ExpositionFormat::from_content_type(&content_type)
            .or(self.fallback)
            .ok_or_else(|| {
                format!("received unsupported Content-Type {content_type:?} and no fallback_scrape_protocol specified for target")
            })?;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(describe)? {
            body.extend_from_slice(&chunk);
            if self
                .body_size_limit
                .is_some_and(|limit| limit > 0 && body.len() as u64 > limit)
            {
                return Err(format!(
                    "body size limit exceeded ({} bytes)",
                    self.body_size_limit.unwrap_or(0)
                ));
            }
        }
        Ok(Fetched { body, format })
    }
}

/// reqwest's errors name their kind vaguely; timeouts deserve Prometheus'
/// wording.
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        "context deadline exceeded".to_owned()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(inner) = source {
            text.push_str(": ");
            text.push_str(&inner.to_string());
            source = inner.source();
        }
        text
    }
}
