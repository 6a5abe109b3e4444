//! The clients: entries batched per tenant and pushed to Loki-compatible
//! stores, as Promtail 2.8's client does it.
//!
//! A [`Client`] is the [`Sink`] the tailers hand entries to, from plain
//! threads. Each entry gets the client's `external_labels` (its own labels
//! win), picks its tenant (the `__tenant_id__` label, else the client's
//! `tenant_id`, else none), loses its reserved `__` labels and joins the
//! tenant's batch under its stream's label text. A batch goes when the
//! next line would take it past `batchsize` bytes of lines, or when it is
//! `batchwait` old. One task per client pushes batches one at a time
//! (protobuf + snappy, see `lokipush`), retrying 429, 5xx and requests
//! that got no answer with backoff, up to `max_retries` attempts; other
//! answers drop the batch at once. Drops are counted in
//! [`ClientMetrics`] under Promtail's reasons.
//!
//! **Acknowledgement.** The batch holds its entries' receipts until the
//! store answered 2xx or the client gave up on it; only then are they
//! released, which is what lets the positions file advance. A batch still
//! unanswered when the client is stopped keeps its receipts unreleased, so
//! its lines are read again on the next start (the store drops exact
//! duplicates).
//!
//! **Back-pressure.** At most one batch is in flight and one more waits
//! behind it (besides the batch each tenant is filling). With both taken,
//! [`Sink::send`] blocks until the store answers: while the store is down
//! the tailers stop reading, and go on from where they stopped.
//!
//! [`Fanout`] gives every entry to several clients.

mod batch;
mod fanout;
mod metrics;
mod push;
mod tls;

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lokipush::{EntryAdapter, LabelPairAdapter, Timestamp};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use crate::config::{ClientConfig, LimitsConfig};
use crate::entry::{Entry, LabelSet, Receipt, Sink, SinkClosed, TENANT_LABEL};
use batch::{Batch, Prepared};
use push::Pusher;

pub use fanout::Fanout;
pub use metrics::{CLIENT_FAMILIES, ClientMetrics, reason};
pub use push::USER_AGENT_VALUE;

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// `url` is empty.
    #[error("client needs target URL")]
    NoUrl,
    /// `url` does not parse, or is not http(s).
    #[error("invalid client url {url:?}")]
    BadUrl {
        /// The URL as configured.
        url: String,
    },
    /// `proxy_url` is not a proxy URL reqwest takes.
    #[error("invalid proxy_url {url:?}")]
    BadProxy {
        /// The URL as configured.
        url: String,
    },
    /// `tls_config.max_version` is below TLS 1.2, the oldest rustls speaks.
    #[error("tls_config.max_version allows no supported TLS version (TLS12, TLS13)")]
    TlsVersion,
    /// A configured header's name or value is not valid in HTTP.
    #[error("invalid header {0:?}")]
    Header(String),
    /// A TLS file could not be read.
    #[error("unable to read {file}: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A TLS file holds no usable PEM.
    #[error("unable to use {file}: {source}")]
    Pem {
        /// The file.
        file: PathBuf,
        /// Why.
        source: reqwest::Error,
    },
    /// `cert_file` without `key_file`, or the reverse.
    #[error("tls_config needs both cert_file and key_file, or neither")]
    CertWithoutKey,
    /// The HTTP client could not be built.
    #[error("building the http client: {0}")]
    Http(#[source] reqwest::Error),
}

/// Entries still with a client that had to stop before the store answered
/// for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the client stopped with {entries} entries not acknowledged")]
pub struct DrainTimedOut {
    /// Entries whose lines will be read again.
    pub entries: usize,
}

/// What a client holds, as [`Client::pending`] reports it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Pending {
    /// Entries in batches not yet acknowledged (in flight included).
    pub entries: usize,
    /// Bytes of their lines.
    pub bytes: usize,
    /// Batches full or old enough, waiting or in flight.
    pub batches: usize,
    /// Threads blocked in [`Sink::send`].
    pub blocked_senders: usize,
}

/// One Loki client: a [`Sink`] that batches and pushes.
pub struct Client {
    shared: Arc<Shared>,
    config: Arc<ClientConfig>,
    limits: Limits,
    metrics: ClientMetrics,
    host: String,
    cancel: CancellationToken,
    task: Mutex<Option<lifecycle::Task<()>>>,
    /// Tripped when the pushing task panics.
    fault: lifecycle::Fault,
    runtime: tokio::runtime::Handle,
}

/// What `limits_config` says to every client (Promtail hands the same
/// three values to each).
#[derive(Debug, Clone, Copy)]
struct Limits {
    /// Streams a batch may hold; 0: no limit.
    max_streams: usize,
    /// Bytes a line may have; 0: no limit.
    max_line_size: usize,
    /// Cut longer lines instead of dropping them.
    max_line_size_truncate: bool,
}

/// What the senders and the pushing task share.
struct Shared {
    state: Mutex<State>,
    /// Signalled when a slot frees up or the client closes.
    room: Condvar,
    /// Wakes the pushing task: a batch is ready, or the client closes.
    wake: Notify,
}

#[derive(Default)]
struct State {
    /// One batch per tenant being filled.
    filling: Vec<Batch>,
    /// Full or old batches, in order, waiting for the pushing task.
    ready: VecDeque<Batch>,
    /// The batch being pushed, as its entries and bytes of lines.
    in_flight: Option<(usize, usize)>,
    closed: bool,
    blocked: usize,
}

/// Batches allowed beyond the ones being filled: the one in flight and
/// one waiting behind it.
const MAX_QUEUED_BATCHES: usize = 2;

impl State {
    fn queued(&self) -> usize {
        self.ready.len() + usize::from(self.in_flight.is_some())
    }

    /// Moves batches at least `wait` old (all of them once closed) to the
    /// ready queue.
    fn flush_aged(&mut self, wait: Duration, now: Instant) {
        let mut i = 0;
        while i < self.filling.len() {
            if self.closed || self.filling[i].is_older_than(wait, now) {
                let batch = self.filling.swap_remove(i);
                self.ready.push_back(batch);
            } else {
                i += 1;
            }
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Client {
    /// Starts a client for `config`, with `limits_config`'s stream and
    /// line limits, counting into `metrics`; its pushing task runs on
    /// `runtime`. The config was validated when it was read (one way of
    /// authenticating, no OAuth2).
    pub fn new(
        config: ClientConfig,
        limits: &LimitsConfig,
        metrics: ClientMetrics,
        runtime: &tokio::runtime::Handle,
    ) -> Result<Client, ClientError> {
        if config.url.is_empty() {
            return Err(ClientError::NoUrl);
        }
        let url = reqwest::Url::parse(&config.url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https") && u.host_str().is_some())
            .ok_or_else(|| ClientError::BadUrl {
                url: config.url.clone(),
            })?;
        let limits = Limits {
            max_streams: limits.max_streams,
            max_line_size: usize::try_from(limits.max_line_size).unwrap_or(usize::MAX),
            max_line_size_truncate: limits.max_line_size_truncate,
        };
        let host = host_label(&url);
        let pusher = Pusher::new(config.clone(), url, host.clone(), metrics.clone())?;
        metrics.init_host(&host);
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            room: Condvar::new(),
            wake: Notify::new(),
        });
        let cancel = CancellationToken::new();
        let fault = lifecycle::Fault::new("the log agent's client");
        let task = lifecycle::spawn_on(
            runtime,
            &fault,
            "push",
            run(shared.clone(), pusher, config.batch_wait, cancel.clone()),
        );
        Ok(Client {
            shared,
            config: Arc::new(config),
            limits,
            metrics,
            host,
            cancel,
            task: Mutex::new(Some(task)),
            fault,
            runtime: runtime.clone(),
        })
    }

    /// The `host` label of the client's metrics: the URL's host and port.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// What the client holds now.
    pub fn pending(&self) -> Pending {
        let state = self.shared.lock();
        let (mut entries, mut bytes) = state.in_flight.unwrap_or((0, 0));
        for b in state.filling.iter().chain(&state.ready) {
            entries += b.len();
            bytes += b.bytes();
        }
        Pending {
            entries,
            bytes,
            batches: state.queued(),
            blocked_senders: state.blocked,
        }
    }

    /// Takes no more entries; what is batched is sent without waiting for
    /// `batchwait`. Senders blocked in [`Sink::send`] return
    /// [`SinkClosed`].
    pub fn close(&self) {
        self.shared.lock().closed = true;
        self.shared.room.notify_all();
        self.shared.wake.notify_one();
    }

    /// Closes the client and waits up to `timeout` for every batch to be
    /// answered (retries included). Past it, the pushes still under way are
    /// abandoned, their receipts kept unreleased.
    pub async fn drain(&self, timeout: Duration) -> Result<(), DrainTimedOut> {
        self.close();
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(mut task) = task else {
            return Ok(());
        };
        // A panic of the task was reported to the client's fault when it
        // happened; the drain is over either way.
        if tokio::time::timeout(timeout, task.join_ref()).await.is_ok() {
            return Ok(());
        }
        let entries = self.pending().entries;
        self.cancel.cancel();
        // The task ends at once when cancelled.
        let _ = task.join_ref().await;
        Err(DrainTimedOut { entries })
    }

    /// Tripped when the client's pushing task panics.
    pub fn fault(&self) -> &lifecycle::Fault {
        &self.fault
    }

    /// [`Client::drain`] for a caller outside the runtime (a plain thread,
    /// `main` at shutdown); like [`Sink::send`], it must not be called from
    /// an async task.
    pub fn drain_blocking(&self, timeout: Duration) -> Result<(), DrainTimedOut> {
        self.runtime.block_on(self.drain(timeout))
    }

    /// Makes `entry` ready for a batch: labels, tenant, line size.
    fn prepare(&self, entry: Entry) -> Option<Prepared> {
        let Entry {
            labels,
            ts_ns,
            line,
            structured_metadata,
            receipt,
        } = entry;
        let labels = if self.config.external_labels.is_empty() {
            labels
        } else {
            let mut merged = self.config.external_labels.clone();
            merged.extend(labels);
            merged
        };
        let tenant = labels
            .get(TENANT_LABEL)
            .unwrap_or(&self.config.tenant_id)
            .clone();
        let mut line = line.into_bytes();
        let max = self.limits.max_line_size;
        if max > 0 && line.len() > max {
            if !self.limits.max_line_size_truncate {
                self.metrics
                    .dropped(&self.host, &tenant, reason::LINE_TOO_LONG, 1, line.len());
                return None;
            }
            self.metrics
                .mutated_entries
                .with_labels(&[&self.host, reason::LINE_TOO_LONG, &tenant])
                .inc();
            self.metrics
                .mutated_bytes
                .with_labels(&[&self.host, reason::LINE_TOO_LONG, &tenant])
                .inc_by((line.len() - max) as f64);
            // Cut at the byte, as Promtail does, even inside a character.
            line.truncate(max);
        }
        Some(Prepared {
            tenant,
            labels: stream_labels(&labels),
            entry: EntryAdapter {
                timestamp: Some(wire_timestamp(ts_ns)),
                line,
                structured_metadata: structured_metadata
                    .into_iter()
                    .map(|(name, value)| LabelPairAdapter {
                        name: name.into_bytes(),
                        value: value.into_bytes(),
                    })
                    .collect(),
            },
            receipt,
        })
    }
}

impl Sink for Client {
    fn send(&self, entry: Entry) -> Result<(), SinkClosed> {
        let Some(prepared) = self.prepare(entry) else {
            return Ok(());
        };
        let mut state = self.shared.lock();
        while !state.closed && state.queued() >= MAX_QUEUED_BATCHES {
            state.blocked += 1;
            state = self
                .shared
                .room
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner);
            state.blocked -= 1;
        }
        if state.closed {
            drop(state);
            keep_unreleased(prepared.receipt);
            return Err(SinkClosed);
        }
        let line_len = prepared.entry.line.len();
        let now = Instant::now();
        let slot = match state
            .filling
            .iter()
            .position(|b| b.tenant == prepared.tenant)
        {
            Some(i) if state.filling[i].is_full_before(line_len, self.config.batch_size) => {
                let full = std::mem::replace(
                    &mut state.filling[i],
                    Batch::new(prepared.tenant.clone(), now),
                );
                state.ready.push_back(full);
                self.shared.wake.notify_one();
                i
            }
            Some(i) => i,
            None => {
                self.metrics.init_tenant(&self.host, &prepared.tenant);
                state.filling.push(Batch::new(prepared.tenant.clone(), now));
                state.filling.len() - 1
            }
        };
        let batch = &mut state.filling[slot];
        if batch.takes_stream(&prepared.labels, self.limits.max_streams) {
            batch.add(prepared);
            return Ok(());
        }
        drop(state);
        tracing::error!(host = %self.host, tenant = %prepared.tenant, stream = %prepared.labels,
            limit = self.limits.max_streams, "batch add err: streams limit exceeded");
        self.metrics.dropped(
            &self.host,
            &prepared.tenant,
            reason::STREAM_LIMITED,
            1,
            prepared.entry.line.len(),
        );
        Ok(())
    }
}

impl Drop for Client {
    /// A client dropped without [`Client::drain`] abandons what it holds,
    /// receipts unreleased.
    fn drop(&mut self) {
        self.close();
        self.cancel.cancel();
    }
}

/// The pushing task: takes ready batches one at a time, and every tenth of
/// `batchwait` (at least 10ms, as Promtail) readies the batches that are
/// old enough.
async fn run(shared: Arc<Shared>, pusher: Pusher, batch_wait: Duration, cancel: CancellationToken) {
    let tick = (batch_wait / 10).max(Duration::from_millis(10));
    loop {
        let next = {
            let mut state = shared.lock();
            state.flush_aged(batch_wait, Instant::now());
            match state.ready.pop_front() {
                Some(batch) => {
                    state.in_flight = Some((batch.len(), batch.bytes()));
                    Some(batch)
                }
                None if state.closed => break,
                None => None,
            }
        };
        match next {
            Some(batch) => {
                pusher.push(batch, &cancel).await;
                shared.lock().in_flight = None;
                shared.room.notify_all();
            }
            None => {
                tokio::select! {
                    () = shared.wake.notified() => {}
                    () = tokio::time::sleep(tick) => {}
                    () = cancel.cancelled() => {}
                }
            }
        }
        if cancel.is_cancelled() {
            break;
        }
    }
    // Whatever is left was never answered: its lines are read again.
    let mut guard = shared.lock();
    let state = &mut *guard;
    state.closed = true;
    let left: Vec<Batch> = state
        .filling
        .drain(..)
        .chain(state.ready.drain(..))
        .collect();
    drop(guard);
    // Dropped, their receipts stay unreleased (see `batch::Held`).
    drop(left);
    shared.room.notify_all();
}

/// Keeps a receipt from ever being released: its lines were not
/// acknowledged and the client will not try again, so the positions must
/// not pass them (the next start reads them again). Only done when the
/// client stops; the tokens stay allocated until the process ends.
fn keep_unreleased(receipt: Receipt) {
    if !receipt.is_empty() {
        std::mem::forget(receipt);
    }
}

/// The label text of an entry's stream: reserved `__` labels (the tenant
/// one included) are not sent.
fn stream_labels(labels: &LabelSet) -> String {
    lokipush::labels_text(
        labels
            .iter()
            .filter(|(name, _)| !name.starts_with("__"))
            .map(|(n, v)| (n.as_str(), v.as_str())),
    )
}

/// The wire timestamp of `ts_ns`. The ends of `i64` stand for a time past
/// what nanoseconds since 1970 can hold (a millisecond time read as
/// seconds gives year 55552): those become a timestamp Go cannot encode,
/// and the whole batch is dropped, as Promtail drops it.
fn wire_timestamp(ts_ns: i64) -> Timestamp {
    if ts_ns == i64::MAX || ts_ns == i64::MIN {
        Timestamp {
            seconds: ts_ns,
            nanos: 0,
        }
    } else {
        Timestamp::from_nanos(ts_ns)
    }
}

/// The URL's host with its port when one is written, as Go's `URL.Host`.
fn host_label(url: &reqwest::Url) -> String {
    let host = url.host_str().unwrap_or_default();
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_labels_are_not_sent() {
        let labels: LabelSet = [
            ("__tenant_id__", "t"),
            ("__path__", "/x"),
            ("job", "api"),
            ("a", "q\""),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        assert_eq!(stream_labels(&labels), r#"{a="q\"", job="api"}"#);
    }

    #[test]
    fn the_ends_of_i64_cannot_be_encoded() {
        assert!(Timestamp::is_valid(wire_timestamp(0)));
        assert!(Timestamp::is_valid(wire_timestamp(i64::MAX - 1)));
        assert!(!Timestamp::is_valid(wire_timestamp(i64::MAX)));
        assert!(!Timestamp::is_valid(wire_timestamp(i64::MIN)));
    }

    #[test]
    fn the_host_label_keeps_a_written_port() {
        for (url, host) in [
            ("http://127.0.0.1:3100/loki/api/v1/push", "127.0.0.1:3100"),
            (
                "https://logs.example.com/loki/api/v1/push",
                "logs.example.com",
            ),
            ("http://[::1]:3100/", "[::1]:3100"),
        ] {
            assert_eq!(host_label(&reqwest::Url::parse(url).unwrap()), host);
        }
    }
}
