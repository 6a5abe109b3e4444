//! The clients of a config, behind one sink: each config's `clients[]`
//! entry becomes a [`Client`], and several are fanned out.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{Client, ClientConfig, ClientError, ClientMetrics, Fanout};
use crate::config::{self, LimitsConfig};
use crate::entry::Sink;

/// The running clients of one config.
pub(crate) struct Clients {
    clients: Vec<Arc<Client>>,
    sink: Arc<dyn Sink>,
}

impl Clients {
    /// Starts a client per entry of `configs`, on the current runtime.
    pub(crate) fn start(
        configs: &[config::ClientConfig],
        limits: &LimitsConfig,
        metrics: &ClientMetrics,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Clients, ClientError> {
        let clients = configs
            .iter()
            .map(|c| Client::new(client_config(c, limits), metrics.clone(), runtime).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let sink: Arc<dyn Sink> = match clients.as_slice() {
            [one] => one.clone(),
            many => Arc::new(Fanout::new(
                many.iter().map(|c| c.clone() as Arc<dyn Sink>).collect(),
            )),
        };
        Ok(Clients { clients, sink })
    }

    /// Where entries go.
    pub(crate) fn sink(&self) -> Arc<dyn Sink> {
        self.sink.clone()
    }

    /// Sends what is batched and waits up to `timeout` for the answers;
    /// blocking. What is still unanswered then keeps its receipts, so its
    /// lines are read again on the next start.
    pub(crate) fn stop(self, timeout: Duration) {
        for client in &self.clients {
            if let Err(e) = client.drain_blocking(timeout) {
                tracing::warn!(host = client.host(), "{e}");
            }
        }
    }
}

/// The client's settings from the config's.
// TEMPORARY until the client takes `config::ClientConfig` itself.
fn client_config(c: &config::ClientConfig, limits: &LimitsConfig) -> ClientConfig {
    use crate::client::{BackoffConfig, BasicAuth, TlsConfig};
    use crate::config::{ClientAuth, Secret};
    let (mut basic_auth, mut bearer_token, mut bearer_token_file) = (None, None, None);
    match &c.auth {
        Some(ClientAuth::Basic { username, password }) => {
            basic_auth = Some(match password {
                Secret::Inline(p) => BasicAuth {
                    username: username.clone(),
                    password: Some(p.clone()),
                    password_file: None,
                },
                Secret::File(f) => BasicAuth {
                    username: username.clone(),
                    password: None,
                    password_file: Some(f.clone()),
                },
            });
        }
        Some(ClientAuth::Authorization { credentials, .. }) => match credentials {
            Secret::Inline(t) => bearer_token = Some(t.clone()),
            Secret::File(f) => bearer_token_file = Some(f.clone()),
        },
        None => {}
    }
    ClientConfig {
        url: c.url.clone(),
        tenant_id: c.tenant_id.clone(),
        batch_wait: c.batch_wait,
        batch_size: c.batch_size,
        timeout: c.timeout,
        backoff: BackoffConfig {
            min_period: c.backoff.min_period,
            max_period: c.backoff.max_period,
            max_retries: u32::try_from(c.backoff.max_retries).unwrap_or(u32::MAX),
        },
        external_labels: c.external_labels.clone(),
        basic_auth,
        bearer_token,
        bearer_token_file,
        headers: c.headers.clone(),
        tls: TlsConfig {
            ca_file: c.tls.ca_file.clone(),
            cert_file: c.tls.cert_file.clone(),
            key_file: c.tls.key_file.clone(),
            server_name: c.tls.server_name.clone(),
            insecure_skip_verify: c.tls.insecure_skip_verify,
        },
        drop_rate_limited_batches: c.drop_rate_limited_batches,
        max_streams: limits.max_streams,
        max_line_size: usize::try_from(limits.max_line_size).unwrap_or(usize::MAX),
        max_line_size_truncate: limits.max_line_size_truncate,
    }
}
