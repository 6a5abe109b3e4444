//! Fetching one target's metrics over HTTP, as Prometheus asks for them.

use std::time::Duration;

use super::process::Fetched;
use crate::client::describe;
use crate::config::HttpClientConfig;
use crate::exposition::ExpositionFormat;

/// The `Accept` header of Prometheus 3: OpenMetrics first, then the text
/// formats, then anything.
pub(crate) const ACCEPT: &str = "application/openmetrics-text;version=1.0.0;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1";

/// How to fetch one target.
pub(crate) struct Fetcher {
    /// The job's client, or why it could not be built (a CA file that
    /// cannot be read): then every scrape fails with that as its error.
    pub(crate) client: Result<reqwest::Client, String>,
    pub(crate) url: String,
    pub(crate) timeout: Duration,
    pub(crate) auth: HttpClientConfig,
    pub(crate) body_size_limit: Option<u64>,
    pub(crate) fallback: Option<ExpositionFormat>,
}

impl Fetcher {
    /// One scrape; errors are the `lastError` the targets API shows.
    pub(crate) async fn fetch(&self) -> Result<Fetched, String> {
        let client = self
            .client
            .as_ref()
            .map_err(|e| format!("error creating HTTP client: {e}"))?;
        let mut request = client
            .get(&self.url)
            .timeout(self.timeout)
            .header("Accept", ACCEPT)
            .header(
                "X-Prometheus-Scrape-Timeout-Seconds",
                format!("{}", self.timeout.as_secs_f64()),
            );
        request = self.auth.authorize(request)?;
        let mut response = request.send().await.map_err(|e| describe(&e))?;
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
        while let Some(chunk) = response.chunk().await.map_err(|e| describe(&e))? {
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
