//! The clients of a config, behind one sink: each config's `clients[]`
//! entry becomes a [`Client`], and several are fanned out.

use std::sync::Arc;
use std::time::Duration;

use crate::client::{Client, ClientError, ClientMetrics, Fanout};
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
            .map(|c| Client::new(c.clone(), limits, metrics.clone(), runtime).map(Arc::new))
            .collect::<Result<Vec<_>, _>>()?;
        let sink: Arc<dyn Sink> = match clients.as_slice() {
            [one] => one.clone(),
            many => Arc::new(Fanout::new(
                many.iter().map(|c| c.clone() as Arc<dyn Sink>).collect(),
            )),
        };
        Ok(Clients { clients, sink })
    }

    /// Passes a panic of any client's pushing task on to `fault` (the
    /// agent's), until `until`.
    pub(crate) fn forward_faults(
        &self,
        fault: &lifecycle::Fault,
        until: &lifecycle::CancellationToken,
    ) {
        for client in &self.clients {
            client.fault().forward(fault, until.clone());
        }
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
