//! The push endpoints: `POST /loki/api/v1/push` (Loki protobuf + snappy,
//! JSON with gzip/deflate) and `POST /otlp/v1/logs`.
//!
//! The order is Loki's: decode, validate (the valid entries of a request
//! are kept even when others fail), admit by the tenant's ingestion rate,
//! admit line by line by each stream's rate, store durably, then answer:
//! 204, or the validation error, or the entries the store ignored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use model::Labels;

use super::params::tenant;
use super::respond::{self, ApiError};
use super::{AppState, now_ns};
use crate::push::{
    self, FailedEntry, OtlpConfig, PushError, PushRequest, StreamRateLimiter, TenantRateLimiter,
};
use crate::storage::AppendStream;
use logql::store::EntryRef;

/// Loki's `max_returned_stream_errors`.
const MAX_LISTED_ERRORS: usize = 10;

/// The push path's rate limiters, per tenant and per stream.
pub(crate) struct RateLimits {
    tenants: Mutex<TenantRateLimiter>,
    streams: Mutex<HashMap<(String, Labels), StreamRateLimiter>>,
}

impl RateLimits {
    pub(crate) fn new(limits: &push::Limits) -> Self {
        Self {
            tenants: Mutex::new(TenantRateLimiter::new(
                limits.ingestion_rate_bytes,
                limits.ingestion_burst_bytes,
            )),
            streams: Mutex::new(HashMap::new()),
        }
    }

    /// Starts over with new limits (a reload): full buckets at the new
    /// rates.
    pub(crate) fn reset(&self, limits: &push::Limits) {
        *self.tenants.lock().unwrap_or_else(PoisonError::into_inner) =
            TenantRateLimiter::new(limits.ingestion_rate_bytes, limits.ingestion_burst_bytes);
        self.streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

fn push_error(e: PushError) -> Response {
    ApiError::plain(e.status(), e.message()).into_response()
}

/// The wire formats the push endpoints read.
#[derive(Debug, Clone, Copy)]
enum Format {
    /// Loki's protobuf (snappy) or JSON.
    Loki,
    /// OTLP logs, protobuf or JSON.
    Otlp,
}

/// `POST /loki/api/v1/push`.
pub(crate) async fn loki(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(st, headers, body, Format::Loki).await
}

/// `POST /otlp/v1/logs`.
pub(crate) async fn otlp(
    State(st): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    receive(st, headers, body, Format::Otlp).await
}

/// Both push endpoints: the tenant, a turn among the pushes being
/// processed, decoding off the async threads, then [`ingest`].
async fn receive(st: Arc<AppState>, headers: HeaderMap, body: Bytes, format: Format) -> Response {
    let tenant = match tenant(&headers, st.auth_enabled) {
        Ok(t) => t,
        Err(e) => return e.into_response(),
    };
    // Decoding and storing are CPU work: about as many at once as there
    // are cores. More would only hold more decoded requests in memory.
    let Ok(permit) = st.pushing.clone().acquire_owned().await else {
        return ApiError::unavailable("shutting down").into_response();
    };
    let content_type = header_str(&headers, header::CONTENT_TYPE).map(str::to_owned);
    let encoding = header_str(&headers, header::CONTENT_ENCODING).map(str::to_owned);
    let size = body.len();
    let decoded = tokio::task::spawn_blocking(move || {
        let (ct, ce) = (content_type.as_deref(), encoding.as_deref());
        match format {
            Format::Loki => push::decode(ct, ce, &body),
            Format::Otlp => push::decode_otlp(ct, ce, &body, &OtlpConfig::default(), now_ns()),
        }
    })
    .await;
    match decoded {
        Ok(Ok(request)) => ingest(st, tenant, request, permit).await,
        Ok(Err(e)) => {
            st.metrics.discarded("invalid", &tenant, 0, size);
            push_error(e)
        }
        Err(e) => {
            tracing::error!(%tenant, "decoding a push failed: {e}");
            ApiError::internal(format!("push failed: {e}")).into_response()
        }
    }
}

async fn ingest(
    st: Arc<AppState>,
    tenant: String,
    request: PushRequest,
    permit: tokio::sync::OwnedSemaphorePermit,
) -> Response {
    let now = now_ns();
    let limits = st.push_limits();
    let checked = push::validate(request, &limits, now);
    if checked.rejected > 0 {
        st.metrics
            .discarded("validation", &tenant, checked.rejected, 0);
    }
    if checked.lines > 0 {
        let admitted = st
            .rates
            .tenants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .check(&tenant, now, checked.lines, checked.bytes);
        if let Err(e) = admitted {
            st.metrics
                .discarded("rate_limited", &tenant, checked.lines, checked.bytes);
            return push_error(e);
        }
    }
    // Each stream's rate, line by line: refused lines are reported like
    // the store's refusals.
    let mut failed: Vec<(Labels, Vec<FailedEntry>, usize)> = Vec::new();
    let mut batch: Vec<(Labels, Vec<push::PushEntry>)> =
        Vec::with_capacity(checked.request.streams.len());
    // Streams that would start past the tenant's active-stream limit are
    // refused whole, the others stored (Loki's ingester).
    let mut over_stream_limit = false;
    let mut streams_in = checked.request.streams;
    if let Some(limit) = st.limits().active_streams_limit() {
        let mut active = st.storage.active_streams(&tenant);
        streams_in.retain(|stream| {
            if st.storage.is_active(&tenant, &stream.labels) {
                return true;
            }
            if active < limit {
                active += 1;
                return true;
            }
            st.metrics
                .discarded("stream_limit", &tenant, stream.entries.len(), 0);
            over_stream_limit = true;
            false
        });
    }
    {
        let mut streams = st
            .rates
            .streams
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for stream in streams_in {
            let total = stream.entries.len();
            let limiter = streams
                .entry((tenant.clone(), stream.labels.clone()))
                .or_insert_with(|| {
                    StreamRateLimiter::new(
                        limits.per_stream_rate_bytes,
                        limits.per_stream_burst_bytes,
                    )
                });
            let mut refused = Vec::new();
            let mut entries = Vec::with_capacity(total);
            for e in stream.entries {
                match limiter.check(now, &stream.labels, e.line.len()) {
                    Ok(()) => entries.push(e),
                    Err(limited) => refused.push(FailedEntry {
                        ts_ns: e.ts_ns,
                        reason: limited.0,
                        rate_limited: true,
                    }),
                }
            }
            if !refused.is_empty() {
                st.metrics
                    .discarded("per_stream_rate_limit", &tenant, refused.len(), 0);
                failed.push((stream.labels.clone(), refused, total));
            }
            if !entries.is_empty() {
                batch.push((stream.labels, entries));
            }
        }
    }
    let lines: usize = batch.iter().map(|s| s.1.len()).sum();
    let bytes: usize = batch
        .iter()
        .flat_map(|s| s.1.iter().map(|e| e.line.len()))
        .sum();
    let appended = {
        let (st, tenant) = (st.clone(), tenant.clone());
        // The append waits for the log's fsync: blocking work.
        tokio::task::spawn_blocking(move || {
            let refs: Vec<Vec<EntryRef<'_>>> = batch
                .iter()
                .map(|(_, entries)| {
                    entries
                        .iter()
                        .map(|e| EntryRef {
                            ts_ns: e.ts_ns,
                            line: &e.line,
                            metadata: &e.metadata,
                        })
                        .collect()
                })
                .collect();
            let streams: Vec<AppendStream<'_>> = batch
                .iter()
                .zip(&refs)
                .map(|((labels, _), entries)| AppendStream { labels, entries })
                .collect();
            let report = st.storage.append_unsynced(&tenant, &streams, now);
            let totals: Vec<(Labels, usize)> =
                batch.iter().map(|(l, e)| (l.clone(), e.len())).collect();
            (report, totals)
        })
        .await
    };
    // The decoded batch is gone: the next push may be decoded while this
    // one waits for the log's sync.
    drop(permit);
    let durable = match appended {
        Ok((Ok((report, durable)), totals)) => {
            tokio::task::spawn_blocking(move || durable.wait().map(|()| (report, totals))).await
        }
        Ok((Err(e), _)) => Ok(Err(e)),
        Err(e) => Err(e),
    };
    let (report, totals) = match durable {
        Ok(Ok(done)) => done,
        // Storage failing is ours: 5xx, so that clients retry.
        Ok(Err(e)) => {
            tracing::error!(%tenant, "storing a push failed: {e}");
            return ApiError::internal(e.to_string()).into_response();
        }
        Err(e) => {
            tracing::error!(%tenant, "the push task failed: {e}");
            return ApiError::internal(format!("push failed: {e}")).into_response();
        }
    };
    st.metrics.received(&tenant, lines, bytes);
    for ((labels, total), stream) in totals.into_iter().zip(&report.streams) {
        if stream.rejected.is_empty() {
            continue;
        }
        st.metrics
            .discarded("out_of_order", &tenant, stream.rejected.len(), 0);
        let refused: Vec<FailedEntry> = stream
            .rejected
            .iter()
            .map(|r| FailedEntry {
                ts_ns: r.ts_ns,
                reason: push::too_far_behind_reason(r.oldest_acceptable_ns),
                rate_limited: false,
            })
            .collect();
        failed.push((labels, refused, total));
    }
    if let Some(e) = checked.error {
        return push_error(e);
    }
    if over_stream_limit {
        return push_error(PushError::RateLimited(format!(
            "Maximum active stream limit exceeded, reduce the number of active streams (reduce labels or reduce label values), or contact your administrator to see if the limit can be increased, user: '{tenant}'"
        )));
    }
    // Loki's ingester answers with the last stream that had refusals.
    if let Some((labels, refused, total)) = failed.last() {
        if let Some(e) =
            push::ignored_entries_error(&tenant, labels, refused, *total, MAX_LISTED_ERRORS)
        {
            return push_error(e);
        }
    }
    respond::no_content()
}
