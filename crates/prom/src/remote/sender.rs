//! The sender: one `remote_write` entry's queue, shards, retries and metrics.

use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use instrument::{Counter, Family, Gauge, Registry};
use md5::{Digest, Md5};
use model::Labels;
use serde::Deserialize;
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

use super::RemoteError;
use super::proto::{self, Sample, TimeSeries, WriteRequest};
use super::queue::{DiskQueue, Position, Reader};
use crate::config::{HttpClientConfig, RemoteWriteConfig};
use model::duration::PromDuration;
use model::relabel;

/// Largest segment file of a queue.
const SEGMENT_SIZE: u64 = 16 << 20;

/// Largest queue on disk; past it the oldest samples are dropped (and
/// counted). At ~30 bytes a sample, some 17 million samples: hours of a
/// busy server's scrapes.
pub const MAX_QUEUE_BYTES: u64 = 512 << 20;

/// `queue_config`, with Prometheus 3's defaults.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueConfig {
    /// Samples buffered in memory per shard, read ahead from disk (10000).
    pub capacity: usize,
    /// Most shards (50); vigil runs `min_shards` shards, never resharding.
    pub max_shards: usize,
    /// Shards sending in parallel (1).
    pub min_shards: usize,
    /// Most samples in one request (2000).
    pub max_samples_per_send: usize,
    /// Longest wait for a request to fill up (5s).
    pub batch_send_deadline: Duration,
    /// First wait before a retry (30ms), doubled at each attempt.
    pub min_backoff: Duration,
    /// Longest wait between retries (5s).
    pub max_backoff: Duration,
    /// Whether 429 Too Many Requests is retried like a 5xx (true).
    pub retry_on_http_429: bool,
}

impl Default for QueueConfig {
    fn default() -> Self {
        Self {
            capacity: 10_000,
            max_shards: 50,
            min_shards: 1,
            max_samples_per_send: 2_000,
            batch_send_deadline: Duration::from_secs(5),
            min_backoff: Duration::from_millis(30),
            max_backoff: Duration::from_secs(5),
            retry_on_http_429: true,
        }
    }
}

/// The fields of `queue_config` this sender reads; others are accepted.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct RawQueueConfig {
    capacity: Option<usize>,
    max_shards: Option<usize>,
    min_shards: Option<usize>,
    max_samples_per_send: Option<usize>,
    batch_send_deadline: Option<PromDuration>,
    min_backoff: Option<PromDuration>,
    max_backoff: Option<PromDuration>,
    retry_on_http_429: Option<bool>,
}

impl QueueConfig {
    /// Reads `queue_config` (absent: the defaults).
    pub fn parse(value: Option<&yaml_serde::Value>) -> Result<Self, String> {
        let defaults = Self::default();
        let Some(value) = value.filter(|v| !v.is_null()) else {
            return Ok(defaults);
        };
        let raw: RawQueueConfig =
            yaml_serde::from_value(value.clone()).map_err(|e| format!("queue_config: {e}"))?;
        let config = Self {
            capacity: raw.capacity.unwrap_or(defaults.capacity).max(1),
            max_shards: raw.max_shards.unwrap_or(defaults.max_shards).max(1),
            min_shards: raw.min_shards.unwrap_or(defaults.min_shards).max(1),
            max_samples_per_send: raw
                .max_samples_per_send
                .unwrap_or(defaults.max_samples_per_send)
                .max(1),
            batch_send_deadline: raw
                .batch_send_deadline
                .map_or(defaults.batch_send_deadline, |d| d.0),
            min_backoff: raw.min_backoff.map_or(defaults.min_backoff, |d| d.0),
            max_backoff: raw.max_backoff.map_or(defaults.max_backoff, |d| d.0),
            retry_on_http_429: raw.retry_on_http_429.unwrap_or(defaults.retry_on_http_429),
        };
        if config.min_shards > config.max_shards {
            return Err("queue_config: min_shards must not exceed max_shards".into());
        }
        if config.min_backoff > config.max_backoff {
            return Err("queue_config: min_backoff must not exceed max_backoff".into());
        }
        Ok(config)
    }
}

/// The sender's metrics, as Prometheus names them, each labelled with
/// `remote_name` and `url`. Register once per registry and share between
/// writers.
#[derive(Clone)]
pub struct RemoteMetrics {
    samples: Arc<Family<Counter>>,
    failed: Arc<Family<Counter>>,
    retried: Arc<Family<Counter>>,
    dropped: Arc<Family<Counter>>,
    pending: Arc<Family<Gauge>>,
    highest_sent: Arc<Family<Gauge>>,
}

impl std::fmt::Debug for RemoteMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RemoteMetrics")
    }
}

impl RemoteMetrics {
    /// Registers the families in `registry`.
    pub fn register(registry: &Registry) -> Result<Self, RemoteError> {
        let labels = ["remote_name", "url"];
        Ok(Self {
            samples: registry.counter(
                "prometheus_remote_storage_samples_total",
                "Total number of samples sent to remote storage.",
                &labels,
            )?,
            failed: registry.counter(
                "prometheus_remote_storage_samples_failed_total",
                "Total number of samples which failed on send to remote storage, non-recoverable errors.",
                &labels,
            )?,
            retried: registry.counter(
                "prometheus_remote_storage_samples_retried_total",
                "Total number of samples which failed on send to remote storage but were retried because the send error was recoverable.",
                &labels,
            )?,
            dropped: registry.counter(
                "prometheus_remote_storage_samples_dropped_total",
                "Total number of samples which were dropped before being sent to remote storage, by relabelling or because the queue was full.",
                &labels,
            )?,
            pending: registry.gauge(
                "prometheus_remote_storage_samples_pending",
                "The number of samples read from the queue and waiting to be sent.",
                &labels,
            )?,
            highest_sent: registry.gauge(
                "prometheus_remote_storage_queue_highest_sent_timestamp_seconds",
                "Timestamp from a WAL sample, the highest timestamp successfully sent by this queue, in seconds since epoch.",
                &labels,
            )?,
        })
    }
}

/// One queue's children of the metric families.
struct QueueMetrics {
    samples: Arc<Counter>,
    failed: Arc<Counter>,
    retried: Arc<Counter>,
    dropped: Arc<Counter>,
    pending: Arc<Gauge>,
    highest_sent: Arc<Gauge>,
}

impl QueueMetrics {
    fn new(metrics: &RemoteMetrics, name: &str, url: &str) -> Self {
        let values = [name, url];
        Self {
            samples: metrics.samples.with_labels(&values),
            failed: metrics.failed.with_labels(&values),
            retried: metrics.retried.with_labels(&values),
            dropped: metrics.dropped.with_labels(&values),
            pending: metrics.pending.with_labels(&values),
            highest_sent: metrics.highest_sent.with_labels(&values),
        }
    }
}

/// What the sending task shares with the writer handle.
struct Shared {
    queue: DiskQueue,
    notify: Notify,
    metrics: QueueMetrics,
}

/// Everything a shard needs to send a request.
struct Endpoint {
    client: reqwest::Client,
    url: String,
    name: String,
    headers: BTreeMap<String, String>,
    auth: HttpClientConfig,
    queue: QueueConfig,
}

/// A running `remote_write` entry: a durable queue and the task that
/// empties it into the endpoint. Dropping it stops the task; what was not
/// yet delivered stays on disk for the next start on the same directory.
pub struct RemoteWriter {
    name: String,
    shared: Arc<Shared>,
    cancel: CancellationToken,
    /// The sending task, taken by the first [`RemoteWriter::stop`].
    task: std::sync::Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl std::fmt::Debug for RemoteWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RemoteWriter")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl RemoteWriter {
    /// Opens the queue of `config` under `data_dir/remote-write/<name>`
    /// (`name`: the entry's `name`, else a hash of its URL) and starts its
    /// sending task on the current tokio runtime. `external_labels` are
    /// added to every series that lacks them, before `write_relabel_configs`.
    pub fn start(
        config: &RemoteWriteConfig,
        external_labels: &BTreeMap<String, String>,
        data_dir: &Path,
        metrics: &RemoteMetrics,
    ) -> Result<Self, RemoteError> {
        let name = queue_name(config);
        let fail = |reason: String| RemoteError::Config {
            name: name.clone(),
            reason,
        };
        let queue_config = QueueConfig::parse(config.queue_config.as_ref()).map_err(fail)?;
        let runtime = tokio::runtime::Handle::try_current()
            .map_err(|_| fail("the sender needs a tokio runtime".into()))?;
        let timeout = config
            .remote_timeout
            .map_or(Duration::from_secs(30), |d| d.0);
        let client = crate::client::build(
            &config.http.tls_config,
            reqwest::Client::builder().timeout(timeout),
        )
        .map_err(|e| fail(format!("error creating HTTP client: {e}")))?;
        let dir = data_dir.join("remote-write").join(&name);
        let (queue, delivered) = DiskQueue::open(&dir, SEGMENT_SIZE, MAX_QUEUE_BYTES)?;
        let shared = Arc::new(Shared {
            queue,
            notify: Notify::new(),
            metrics: QueueMetrics::new(metrics, &name, &config.url),
        });
        let endpoint = Arc::new(Endpoint {
            client,
            url: config.url.clone(),
            name: name.clone(),
            headers: config.headers.clone(),
            auth: config.http.clone(),
            queue: queue_config,
        });
        let cancel = CancellationToken::new();
        let context = Context {
            shared: shared.clone(),
            endpoint,
            external: external_labels.clone(),
            relabel: config.write_relabel_configs.clone(),
            cancel: cancel.clone(),
        };
        let task = runtime.spawn(context.run(Reader::new(delivered)));
        Ok(Self {
            name,
            shared,
            cancel,
            task: std::sync::Mutex::new(Some(task)),
        })
    }

    /// The queue's name: the `remote_name` label of its metrics.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Queues committed samples for sending. It writes one record to the
    /// queue's current segment file and returns, never waiting for the
    /// network; call it after each successful TSDB commit, with the samples
    /// of that commit. Samples are sent in the order they are enqueued.
    pub fn enqueue(&self, samples: &[(Labels, i64, f64)]) -> Result<(), RemoteError> {
        self.enqueue_request(&to_request(samples.iter().map(|(l, t, v)| (l, *t, *v))))
    }

    fn enqueue_request(&self, request: &WriteRequest) -> Result<(), RemoteError> {
        if request.timeseries.is_empty() {
            return Ok(());
        }
        let dropped = self.shared.queue.append(request)?;
        self.shared.metrics.dropped.inc_by(dropped as f64);
        self.shared.notify.notify_one();
        Ok(())
    }

    /// Stops the sending task and waits for it: a request in flight is
    /// abandoned and will be sent again by the next start.
    pub async fn shutdown(self) {
        self.stop().await;
    }

    /// [`RemoteWriter::shutdown`] through a shared reference: a scrape
    /// still holding the writer may enqueue after it, into the queue file
    /// the next start sends from (the drop syncs it). A panic of the
    /// sending task is logged; the queue on disk is intact.
    pub async fn stop(&self) {
        self.cancel.cancel();
        let task = self
            .task
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(task) = task
            && let Err(e) = task.await
            && e.is_panic()
        {
            tracing::error!(queue = %self.name, "the remote-write sender panicked: {e}");
        }
        let shared = self.shared.clone();
        // An fsync: off the async workers.
        let _ = tokio::task::spawn_blocking(move || shared.queue.sync()).await;
    }
}

impl Drop for RemoteWriter {
    fn drop(&mut self) {
        self.cancel.cancel();
        let _ = self.shared.queue.sync();
    }
}

/// Every `remote_write` entry of a config, started together: what the
/// server holds, and what `enqueue` after each commit goes to.
#[derive(Debug, Default)]
pub struct RemoteWriters {
    writers: Vec<RemoteWriter>,
}

impl RemoteWriters {
    /// Starts a [`RemoteWriter`] per entry of `config.remote_write`, with
    /// the global `external_labels`. Two entries with the same queue name
    /// (the same `name`, or the same URL and no name) are refused, as
    /// Prometheus refuses them: they would share a queue directory.
    pub fn start(
        config: &crate::config::Config,
        data_dir: &Path,
        metrics: &RemoteMetrics,
    ) -> Result<Self, RemoteError> {
        let mut names = std::collections::BTreeSet::new();
        for entry in &config.remote_write {
            let name = queue_name(entry);
            if !names.insert(name.clone()) {
                let reason = if entry.name.as_ref().is_some_and(|n| !n.is_empty()) {
                    format!("found multiple remote write configs with job name {name:?}")
                } else {
                    format!(
                        "duplicate remote write configs are not allowed, found duplicate for URL: {}",
                        entry.url
                    )
                };
                return Err(RemoteError::Config { name, reason });
            }
        }
        let external = &config.global.external_labels;
        let writers = config
            .remote_write
            .iter()
            .map(|entry| RemoteWriter::start(entry, external, data_dir, metrics))
            .collect::<Result<_, _>>()?;
        Ok(Self { writers })
    }

    /// [`RemoteWriter::enqueue`] on every writer; an error of one writer
    /// (its disk) is logged and does not stop the others.
    pub fn enqueue(&self, samples: &[(Labels, i64, f64)]) {
        self.enqueue_request(&to_request(samples.iter().map(|(l, t, v)| (l, *t, *v))));
    }

    /// [`RemoteWriters::enqueue`] of samples already in a request (see
    /// [`to_request`]).
    pub fn enqueue_request(&self, request: &WriteRequest) {
        for writer in &self.writers {
            if let Err(e) = writer.enqueue_request(request) {
                tracing::error!(remote_name = %writer.name, error = %e, "queueing samples for remote write failed");
            }
        }
    }

    /// Whether no entry is configured.
    pub fn is_empty(&self) -> bool {
        self.writers.is_empty()
    }

    /// Stops every writer (on reload: before starting the new set).
    pub async fn shutdown(self) {
        self.stop().await;
    }

    /// Stops every writer through a shared reference (see
    /// [`RemoteWriter::stop`]): no need to wait for the last scrape
    /// holding them to let go.
    pub async fn stop(&self) {
        for writer in &self.writers {
            writer.stop().await;
        }
    }
}

/// Samples as a `WriteRequest`, consecutive samples of a series sharing
/// one `TimeSeries`.
pub fn to_request<'a>(samples: impl IntoIterator<Item = (&'a Labels, i64, f64)>) -> WriteRequest {
    let mut request = WriteRequest::default();
    for (labels, t, v) in samples {
        let sample = Sample {
            value: v,
            timestamp: t,
        };
        match request.timeseries.last_mut() {
            Some(last) if same_labels(&last.labels, labels) => last.samples.push(sample),
            _ => {
                let mut series = TimeSeries::new(labels);
                series.samples.push(sample);
                request.timeseries.push(series);
            }
        }
    }
    request
}

fn same_labels(wire: &[proto::Label], labels: &Labels) -> bool {
    wire.len() == labels.len()
        && wire
            .iter()
            .zip(labels.iter())
            .all(|(a, b)| a.name == b.name && a.value == b.value)
}

/// The entry's `name`, else the first hex digits of its URL's MD5: stable
/// across restarts, so a restarted writer finds its queue.
fn queue_name(config: &RemoteWriteConfig) -> String {
    if let Some(name) = config.name.as_ref().filter(|n| !n.is_empty()) {
        return name.clone();
    }
    let digest = Md5::digest(config.url.as_bytes());
    digest[..3].iter().map(|b| format!("{b:02x}")).collect()
}

/// The sending task's state.
struct Context {
    shared: Arc<Shared>,
    endpoint: Arc<Endpoint>,
    external: BTreeMap<String, String>,
    relabel: Vec<relabel::RelabelConfig>,
    cancel: CancellationToken,
}

/// How a request ended.
enum Sent {
    /// Delivered or dropped for good: move on.
    Done,
    /// The writer is stopping: leave it for the next start.
    Cancelled,
}

impl Context {
    async fn run(self, mut reader: Reader) {
        let queue = &self.endpoint.queue;
        let ahead = queue.capacity.saturating_mul(queue.min_shards);
        let mut pending: Vec<(Labels, i64, f64)> = Vec::new();
        let mut pending_end = Position::default();
        let mut first_at: Option<Instant> = None;
        loop {
            if pending.len() < ahead {
                // File reads and fsyncs run off the async threads.
                let shared = self.shared.clone();
                let room = ahead - pending.len();
                let read = tokio::task::spawn_blocking(move || {
                    let records = read_ahead(&mut reader, &shared.queue, room);
                    (reader, records)
                })
                .await;
                let records;
                (reader, records) = match read {
                    Ok(done) => done,
                    Err(e) => {
                        tracing::error!(remote_name = %self.endpoint.name, error = %e, "reading the remote write queue panicked");
                        return;
                    }
                };
                for (request, end) in records {
                    self.take(request, &mut pending);
                    pending_end = end;
                    first_at.get_or_insert_with(Instant::now);
                }
            }
            self.shared.metrics.pending.set(pending.len() as f64);
            let waited = first_at.map_or(Duration::ZERO, |t| t.elapsed());
            let full = pending.len() >= queue.max_samples_per_send.saturating_mul(queue.min_shards);
            if first_at.is_some() && (full || waited >= queue.batch_send_deadline) {
                // Bound what a power loss can cost to one batch interval.
                self.on_disk(
                    |queue| queue.sync(),
                    "syncing the remote write queue failed",
                )
                .await;
                if let Sent::Cancelled = self.send_all(std::mem::take(&mut pending)).await {
                    return;
                }
                self.on_disk(
                    move |queue| queue.commit(pending_end),
                    "saving the remote write queue cursor failed",
                )
                .await;
                first_at = None;
                self.shared.metrics.pending.set(0.0);
                continue;
            }
            let wait = if first_at.is_some() {
                queue.batch_send_deadline.saturating_sub(waited)
            } else {
                Duration::from_secs(1)
            };
            // Stopping wins over any other ready branch (here and below),
            // so a stopped writer sends nothing more.
            tokio::select! {
                biased;
                () = self.cancel.cancelled() => return,
                () = self.shared.notify.notified() => {}
                () = tokio::time::sleep(wait) => {}
            }
        }
    }

    /// Runs a disk operation of the queue off the async threads; a failure
    /// is logged (the next batch tries again).
    async fn on_disk(
        &self,
        op: impl FnOnce(&DiskQueue) -> Result<(), RemoteError> + Send + 'static,
        what: &'static str,
    ) {
        let shared = self.shared.clone();
        match tokio::task::spawn_blocking(move || op(&shared.queue)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(remote_name = %self.endpoint.name, error = %e, "{what}"),
            Err(e) => tracing::error!(remote_name = %self.endpoint.name, error = %e, "{what}"),
        }
    }

    /// Adds a queue record's samples, labelled for the endpoint, to
    /// `pending`; counts the ones relabelling drops.
    fn take(&self, request: WriteRequest, pending: &mut Vec<(Labels, i64, f64)>) {
        for series in request.timeseries {
            let mut labels =
                Labels::from_pairs(series.labels.into_iter().map(|l| (l.name, l.value)));
            for (name, value) in &self.external {
                if labels.get(name).is_none() {
                    labels.set(name.clone(), value.clone());
                }
            }
            let labels = match relabel::process(&labels, &self.relabel) {
                Some(labels) if !labels.is_empty() => labels,
                _ => {
                    self.shared
                        .metrics
                        .dropped
                        .inc_by(series.samples.len() as f64);
                    continue;
                }
            };
            pending.extend(
                series
                    .samples
                    .into_iter()
                    .map(|s| (labels.clone(), s.timestamp, s.value)),
            );
        }
    }

    /// Sends `samples` through the shards, each shard's requests in order;
    /// a series always goes through the same shard, so its samples arrive
    /// in order.
    async fn send_all(&self, samples: Vec<(Labels, i64, f64)>) -> Sent {
        let shards = self.endpoint.queue.min_shards;
        let mut split: Vec<Vec<(Labels, i64, f64)>> = vec![Vec::new(); shards];
        for sample in samples {
            let mut hasher = std::collections::hash_map::DefaultHasher::new();
            sample.0.hash(&mut hasher);
            split[(hasher.finish() % shards as u64) as usize].push(sample);
        }
        let mut set = tokio::task::JoinSet::new();
        for shard in split.into_iter().filter(|s| !s.is_empty()) {
            let endpoint = self.endpoint.clone();
            let shared = self.shared.clone();
            let cancel = self.cancel.clone();
            set.spawn(async move {
                for batch in shard.chunks(endpoint.queue.max_samples_per_send) {
                    if let Sent::Cancelled = send_batch(&endpoint, &shared, &cancel, batch).await {
                        return Sent::Cancelled;
                    }
                }
                Sent::Done
            });
        }
        let mut outcome = Sent::Done;
        while let Some(joined) = set.join_next().await {
            if !matches!(joined, Ok(Sent::Done)) {
                outcome = Sent::Cancelled;
            }
        }
        outcome
    }
}

/// Records from the reader's position until they hold at least `room`
/// samples or the reader catches up with the writers.
fn read_ahead(
    reader: &mut Reader,
    queue: &DiskQueue,
    room: usize,
) -> Vec<(WriteRequest, Position)> {
    let mut records = Vec::new();
    let mut samples = 0;
    while samples < room {
        match reader.next(queue) {
            Ok(Some((request, end))) => {
                samples += request
                    .timeseries
                    .iter()
                    .map(|s| s.samples.len())
                    .sum::<usize>();
                records.push((request, end));
            }
            Ok(None) => break,
            Err(e) => {
                tracing::error!(dir = %queue.dir().display(), error = %e, "reading the remote write queue failed");
                break;
            }
        }
    }
    records
}

/// One request, retried on 5xx, 429 (when configured) and transport errors
/// with exponential backoff, until delivered, refused for good, or the
/// writer stops.
async fn send_batch(
    endpoint: &Endpoint,
    shared: &Shared,
    cancel: &CancellationToken,
    batch: &[(Labels, i64, f64)],
) -> Sent {
    let highest = batch.iter().map(|s| s.1).max().unwrap_or(i64::MIN);
    let body = proto::encode(&to_request(batch.iter().map(|(l, t, v)| (l, *t, *v))));
    let count = batch.len() as f64;
    let metrics = &shared.metrics;
    let mut backoff = endpoint.queue.min_backoff;
    loop {
        let attempt = tokio::select! {
            biased;
            () = cancel.cancelled() => return Sent::Cancelled,
            result = post(endpoint, body.clone()) => result,
        };
        let (retry, retry_after) = match attempt {
            Ok(answer) if answer.status.is_success() => {
                metrics.samples.inc_by(count);
                let seconds = highest as f64 / 1000.0;
                if seconds > metrics.highest_sent.get() {
                    metrics.highest_sent.set(seconds);
                }
                return Sent::Done;
            }
            Ok(answer)
                if answer.status.is_server_error()
                    || (answer.status.as_u16() == 429 && endpoint.queue.retry_on_http_429) =>
            {
                (answer.describe(), answer.retry_after)
            }
            Ok(answer) => {
                tracing::error!(remote_name = %endpoint.name, url = %endpoint.url, error = %answer.describe(), samples = batch.len(), "non-recoverable error: samples dropped");
                metrics.failed.inc_by(count);
                return Sent::Done;
            }
            Err(e) => (e, None),
        };
        // The endpoint's Retry-After wins over our backoff, within reason.
        let wait = retry_after.map_or(backoff, |d| d.min(MAX_RETRY_AFTER));
        tracing::warn!(remote_name = %endpoint.name, url = %endpoint.url, error = %retry, ?wait, "failed to send batch, retrying");
        metrics.retried.inc_by(count);
        tokio::select! {
            biased;
            () = cancel.cancelled() => return Sent::Cancelled,
            () = tokio::time::sleep(wait) => {}
        }
        backoff = backoff.saturating_mul(2).min(endpoint.queue.max_backoff);
    }
}

/// The longest `Retry-After` honoured.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// What the endpoint answered.
struct Answer {
    status: reqwest::StatusCode,
    /// `Retry-After` in seconds, when sent.
    retry_after: Option<Duration>,
    /// The start of the body of an error answer.
    message: String,
}

impl Answer {
    /// As Prometheus logs it: `server returned HTTP status 400 Bad Request: …`.
    fn describe(&self) -> String {
        let mut text = format!("server returned HTTP status {}", self.status);
        if !self.message.is_empty() {
            text.push_str(": ");
            text.push_str(self.message.trim_end());
        }
        text
    }
}

/// One POST; a transport error (connection refused, timeout) as text.
async fn post(endpoint: &Endpoint, body: Vec<u8>) -> Result<Answer, String> {
    let mut request = endpoint
        .client
        .post(&endpoint.url)
        .header("User-Agent", concat!("vigil/", env!("CARGO_PKG_VERSION")));
    for (name, value) in proto::REQUEST_HEADERS {
        request = request.header(name, value);
    }
    for (name, value) in &endpoint.headers {
        request = request.header(name.as_str(), value.as_str());
    }
    request = endpoint.auth.authorize(request)?;
    let mut response = request
        .body(body)
        .send()
        .await
        .map_err(|e| crate::client::describe(&e))?;
    let status = response.status();
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let mut message = Vec::new();
    if !status.is_success() {
        // Enough of the body to log; the rest is not read.
        while let Ok(Some(chunk)) = response.chunk().await {
            message.extend_from_slice(&chunk);
            if message.len() >= 512 {
                message.truncate(512);
                break;
            }
        }
    }
    Ok(Answer {
        status,
        retry_after,
        message: String::from_utf8_lossy(&message).into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_config_defaults_and_overrides() {
        assert_eq!(QueueConfig::parse(None).unwrap(), QueueConfig::default());
        let yaml: yaml_serde::Value = yaml_serde::from_str(
            "capacity: 5\nmax_samples_per_send: 7\nbatch_send_deadline: 50ms\nmin_backoff: 10ms\nmax_backoff: 1s\nretry_on_http_429: false\nsample_age_limit: 0s\n",
        )
        .unwrap();
        let parsed = QueueConfig::parse(Some(&yaml)).unwrap();
        assert_eq!(parsed.capacity, 5);
        assert_eq!(parsed.max_samples_per_send, 7);
        assert_eq!(parsed.batch_send_deadline, Duration::from_millis(50));
        assert_eq!(parsed.min_backoff, Duration::from_millis(10));
        assert!(!parsed.retry_on_http_429);
        let bad: yaml_serde::Value =
            yaml_serde::from_str("min_backoff: 2s\nmax_backoff: 1s").unwrap();
        assert!(QueueConfig::parse(Some(&bad)).is_err());
    }

    #[tokio::test]
    async fn an_unreadable_ca_file_fails_the_start() {
        let dir = tempfile::tempdir().unwrap();
        let metrics = RemoteMetrics::register(&Registry::new()).unwrap();
        let mut config = RemoteWriteConfig {
            url: "https://mimir.example/api/v1/push".into(),
            ..RemoteWriteConfig::default()
        };
        config.http.tls_config.ca_file = "/nonexistent/ca.pem".into();
        let error = RemoteWriter::start(&config, &BTreeMap::new(), dir.path(), &metrics)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("unable to read CA cert: unable to read file /nonexistent/ca.pem"),
            "{error}"
        );
    }

    #[test]
    fn queue_name_is_stable() {
        let config = RemoteWriteConfig {
            url: "http://127.0.0.1:1/api/v1/write".into(),
            ..RemoteWriteConfig::default()
        };
        assert_eq!(queue_name(&config), queue_name(&config.clone()));
        assert_eq!(queue_name(&config).len(), 6);
    }
}
