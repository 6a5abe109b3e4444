//! The query endpoints: `query`, `query_range`, and the metadata ones
//! (`labels`, `label/<name>/values`, `series`, `index/*`, `detected_*`,
//! `format_query`), with the tenant's limits.
//!
//! Range queries are split as Loki's frontend splits them, by
//! `split_queries_by_interval`: a log query walks the pieces in its
//! direction and stops once it has its limit; a metric query evaluates up
//! to `max_query_parallelism` pieces at once and joins their steps. Every
//! evaluation runs on a blocking thread with the query's deadline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::response::Response;
use logql::api::{self, QueryStats};
use logql::ast::Expr;
use logql::eval::{Direction, Engine, Query, QueryResult, Series, Stats, StreamResult};
use model::{Labels, Matcher};
use serde_json::json;

use super::params::{LokiRequest, Params};
use super::respond::{self, ApiError};
use super::{AppState, now_ns};
use crate::storage::Storage;

/// Most pieces a range query is split into (as many as it may have steps).
const MAX_PIECES: i128 = 11_000;

/// Default look-back of the metadata endpoints (Loki's `defaultSince`).
const DEFAULT_SINCE_NS: i64 = 3600 * 1_000_000_000;

/// `GET|POST /loki/api/v1/query`.
pub(crate) async fn instant(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    run(st, r, false).await.map(respond::json_body)
}

/// `GET|POST /loki/api/v1/query_range`.
pub(crate) async fn range(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    run(st, r, true).await.map(respond::json_body)
}

async fn run(st: Arc<AppState>, r: LokiRequest, range: bool) -> Result<Vec<u8>, ApiError> {
    let LokiRequest { tenant, params } = r;
    let started = Instant::now();
    let limits = st.limits();
    let get = |k: &str| params.get(k);
    let request_limits = api::RequestLimits {
        max_entries: limits.max_entries_limit_per_query,
        max_query_length_ns: duration_ns(limits.max_query_length),
    };
    let request = if range {
        api::range_request_with(&get, now_ns(), &request_limits)?
    } else {
        api::instant_request_with(&get, now_ns(), &request_limits)?
    };
    let expr = logql::parse(&request.query).map_err(|e| ApiError::from(&logql::Error::from(e)))?;
    let mut q = match (&expr, request.params.instant) {
        (Expr::Metric(_), false) => api::align_steps(&request.params),
        _ => request.params.clone(),
    };
    q.max_series = limits.max_query_series;
    q.parallelism = parallelism(limits.max_query_parallelism);
    let timeout = limits.query_timeout;
    if !timeout.is_zero() {
        q.deadline = Some(started + timeout);
    }
    let split = duration_ns(limits.split_queries_by_interval);
    let parallelism = limits.max_query_parallelism.max(1);
    let (result, mut stats) = match &expr {
        Expr::Log(_) if !q.instant => log_query(&st, &tenant, &expr, &q, split).await?,
        Expr::Metric(_) if !q.instant && split > 0 => {
            metric_query(&st, &tenant, &expr, &q, split, parallelism).await?
        }
        _ => {
            let (r, read) = evaluate(&st, &tenant, &expr, &q).await?;
            (
                r,
                QueryStats {
                    read,
                    ..QueryStats::default()
                },
            )
        }
    };
    stats.exec_time_s = started.elapsed().as_secs_f64();
    stats.entries_returned = api::result_size(&result);
    st.metrics.query(stats.read);
    Ok(api::encode_result(&result, &q, &stats))
}

/// Threads one evaluation may scan with: the tenant's
/// `max_query_parallelism`, at most the machine's cores.
fn parallelism(max_query_parallelism: usize) -> usize {
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    max_query_parallelism.clamp(1, cores)
}

fn duration_ns(d: Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

/// Evaluates one query on a blocking thread.
async fn evaluate(
    st: &Arc<AppState>,
    tenant: &str,
    expr: &Expr,
    q: &Query,
) -> Result<(QueryResult, Stats), ApiError> {
    let (st, tenant, expr, q) = (st.clone(), tenant.to_owned(), expr.clone(), q.clone());
    let joined = tokio::task::spawn_blocking(move || {
        let reader = st.storage.reader(&tenant);
        Engine::new(&reader).eval_with_stats(&expr, &q)
    })
    .await;
    match joined {
        Ok(Ok(answer)) => Ok(answer),
        Ok(Err(e)) => Err(ApiError::from(&e)),
        // A panic in the engine is a bug: answered as ours, and logged.
        Err(e) => {
            tracing::error!("query task failed: {e}");
            Err(ApiError::internal(format!("query failed: {e}")))
        }
    }
}

/// The pieces `[start, end)` is split into at multiples of `interval`,
/// oldest first.
fn pieces(start: i64, end: i64, interval: i64) -> Vec<(i64, i64)> {
    if interval <= 0 || end <= start {
        return vec![(start, end)];
    }
    let mut out = Vec::new();
    let mut from = start;
    while from < end {
        let boundary = from
            .div_euclid(interval)
            .saturating_add(1)
            .saturating_mul(interval);
        let to = boundary.min(end);
        out.push((from, to));
        from = to;
    }
    out
}

/// A log query over its pieces in its direction, until the limit.
async fn log_query(
    st: &Arc<AppState>,
    tenant: &str,
    expr: &Expr,
    q: &Query,
    split: i64,
) -> Result<(QueryResult, QueryStats), ApiError> {
    let mut parts = pieces(q.start_ns, q.end_ns, split);
    if q.direction == Direction::Backward {
        parts.reverse();
    }
    let mut stats = QueryStats {
        splits: if parts.len() > 1 {
            parts.len() as u64
        } else {
            0
        },
        ..QueryStats::default()
    };
    let mut out: Vec<StreamResult> = Vec::new();
    let mut index: HashMap<Labels, usize> = HashMap::new();
    let mut remaining = q.limit;
    for (from, to) in parts {
        if remaining == 0 {
            break;
        }
        let piece = Query {
            start_ns: from,
            end_ns: to,
            limit: remaining,
            ..q.clone()
        };
        let (result, read) = evaluate(st, tenant, expr, &piece).await?;
        stats.read += read;
        let QueryResult::Streams(streams) = result else {
            continue;
        };
        for s in streams {
            match index.get(&s.labels) {
                Some(&i) => {
                    if let Some(existing) = out.get_mut(i) {
                        for e in s.entries {
                            // `interval` holds across the pieces too.
                            let close = q.interval_ns > 0
                                && existing
                                    .entries
                                    .last()
                                    .is_some_and(|(last, _)| (e.0 - last).abs() < q.interval_ns);
                            if !close {
                                remaining = remaining.saturating_sub(1);
                                existing.entries.push(e);
                            }
                        }
                    }
                }
                None => {
                    remaining = remaining.saturating_sub(s.entries.len());
                    index.insert(s.labels.clone(), out.len());
                    out.push(s);
                }
            }
        }
    }
    Ok((QueryResult::Streams(out), stats))
}

/// A metric range query, its steps split by interval and evaluated up to
/// `parallelism` pieces at a time; the pieces' series are joined.
async fn metric_query(
    st: &Arc<AppState>,
    tenant: &str,
    expr: &Expr,
    q: &Query,
    split: i64,
    parallelism: usize,
) -> Result<(QueryResult, QueryStats), ApiError> {
    // Pieces of whole steps: each starts at the first step at or after
    // its boundary, so no step is evaluated twice. In i128: a step or
    // range near the limits of i64 must not overflow. A range of more
    // pieces than a query may have steps is not split.
    let span = i128::from(q.end_ns) - i128::from(q.start_ns);
    let mut step_pieces: Vec<(i64, i64)> = Vec::new();
    if span / i128::from(split) < MAX_PIECES {
        let (start, step) = (i128::from(q.start_ns), i128::from(q.step_ns.max(1)));
        for (from, to) in pieces(q.start_ns, q.end_ns.saturating_add(1), split) {
            let first = if i128::from(from) <= start {
                start
            } else {
                start + (i128::from(from) - start + step - 1) / step * step
            };
            let last_limit = i128::from(to) - 1;
            if first > last_limit {
                continue;
            }
            let last = start + (last_limit - start) / step * step;
            if let (Ok(first), Ok(last)) = (i64::try_from(first), i64::try_from(last)) {
                step_pieces.push((first, last));
            }
        }
    }
    if step_pieces.len() <= 1 {
        let (r, read) = evaluate(st, tenant, expr, q).await?;
        return Ok((
            r,
            QueryStats {
                read,
                ..QueryStats::default()
            },
        ));
    }
    let semaphore = Arc::new(tokio::sync::Semaphore::new(parallelism));
    let mut tasks = tokio::task::JoinSet::new();
    for (i, (first, last)) in step_pieces.iter().copied().enumerate() {
        let piece = Query {
            start_ns: first,
            end_ns: last,
            ..q.clone()
        };
        let (st, tenant, expr, semaphore) = (
            st.clone(),
            tenant.to_owned(),
            expr.clone(),
            semaphore.clone(),
        );
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await;
            (i, evaluate(&st, &tenant, &expr, &piece).await)
        });
    }
    let mut results: Vec<Option<(QueryResult, Stats)>> = vec![None; step_pieces.len()];
    while let Some(joined) = tasks.join_next().await {
        let (i, result) = joined.map_err(|e| ApiError::internal(format!("query failed: {e}")))?;
        if let Some(slot) = results.get_mut(i) {
            *slot = Some(result?);
        }
    }
    let mut stats = QueryStats {
        splits: step_pieces.len() as u64,
        ..QueryStats::default()
    };
    let mut series: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
    for (result, read) in results.into_iter().flatten() {
        stats.read += read;
        if let QueryResult::Matrix(m) = result {
            for s in m {
                series.entry(s.labels).or_default().extend(s.points);
                if q.max_series > 0 && series.len() > q.max_series {
                    return Err(ApiError::from(&logql::Error::SeriesLimit(q.max_series)));
                }
            }
        }
    }
    let matrix = series
        .into_iter()
        .map(|(labels, points)| Series { labels, points })
        .collect();
    Ok((QueryResult::Matrix(matrix), stats))
}

/// The time range of a metadata request: `start`/`end`, or `since`, with
/// Loki's default of the last hour.
fn bounds(params: &Params) -> Result<(i64, i64), ApiError> {
    let end = params
        .get("end")
        .map(|t| api::parse_time(&t))
        .transpose()?
        .unwrap_or_else(now_ns);
    let start = match params.get("start") {
        Some(t) => api::parse_time(&t)?,
        None => match params.get("since") {
            Some(d) => {
                let since = model::duration::parse_duration(d.trim()).map_err(|_| {
                    ApiError::bad(format!("cannot parse {d:?} to a valid duration"))
                })?;
                end.saturating_sub(duration_ns(since))
            }
            None => end.saturating_sub(DEFAULT_SINCE_NS),
        },
    };
    if end < start {
        return Err(ApiError::bad(
            "end timestamp must not be before or equal to start time",
        ));
    }
    Ok((start, end))
}

/// What the metadata endpoints read: the tenant, the time range and the
/// `query` selector's matchers.
struct Selection {
    tenant: String,
    start: i64,
    end: i64,
    matchers: Vec<Matcher>,
}

impl Selection {
    fn of(r: LokiRequest) -> Result<Self, ApiError> {
        let (start, end) = bounds(&r.params)?;
        let matchers = selector(r.params.get("query").as_deref())?;
        Ok(Self {
            tenant: r.tenant,
            start,
            end,
            matchers,
        })
    }
}

/// Matchers of a selector parameter (`query` or `match[]`), or none.
fn selector(text: Option<&str>) -> Result<Vec<Matcher>, ApiError> {
    match text.map(str::trim) {
        None | Some("") => Ok(Vec::new()),
        Some(t) => logql::parse_selector(t).map_err(|e| ApiError::from(&logql::Error::from(e))),
    }
}

/// Asks the storage's index, on a blocking thread (index files may be
/// read).
async fn index<T: Send + 'static>(
    st: &Arc<AppState>,
    ask: impl FnOnce(&Storage) -> T + Send + 'static,
) -> Result<T, ApiError> {
    let storage = st.storage.clone();
    tokio::task::spawn_blocking(move || ask(&storage))
        .await
        .map_err(|e| ApiError::internal(format!("request failed: {e}")))
}

/// `GET|POST /loki/api/v1/labels`.
pub(crate) async fn labels(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let Selection {
        tenant,
        start,
        end,
        matchers,
    } = Selection::of(r)?;
    let names = index(&st, move |s| s.label_names(&tenant, start, end, &matchers)).await?;
    Ok(respond::success(&names))
}

/// `GET|POST /loki/api/v1/label/<name>/values`.
pub(crate) async fn label_values(
    State(st): State<Arc<AppState>>,
    Path(name): Path<String>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let Selection {
        tenant,
        start,
        end,
        matchers,
    } = Selection::of(r)?;
    let values = index(&st, move |s| {
        s.label_values(&tenant, &name, start, end, &matchers)
    })
    .await?;
    Ok(respond::success(&values))
}

/// `GET|POST /loki/api/v1/series`: `match[]` selectors, any of which may
/// select a stream.
pub(crate) async fn series(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let (start, end) = bounds(&r.params)?;
    let mut groups = Vec::new();
    for m in r.params.all("match[]").iter().chain(r.params.all("match")) {
        groups.push(selector(Some(m))?);
    }
    let tenant = r.tenant;
    let streams = index(&st, move |s| s.series(&tenant, &groups, start, end)).await?;
    let limit = st.limits().max_query_series;
    if limit > 0 && streams.len() > limit {
        return Err(ApiError::from(&logql::Error::SeriesLimit(limit)));
    }
    let data: Vec<BTreeMap<&str, &str>> = streams
        .iter()
        .map(|l| l.iter().map(|l| (l.name, l.value)).collect())
        .collect();
    Ok(respond::success(&data))
}

/// `index/stats`' answer, in Loki's member order.
#[derive(serde::Serialize)]
struct IndexStats {
    streams: u64,
    chunks: u64,
    bytes: u64,
    entries: u64,
}

/// A detected label or field, in Loki's member order.
#[derive(serde::Serialize)]
struct Detected<'a> {
    label: &'a str,
    #[serde(rename = "type", skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
    cardinality: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    parsers: Option<[&'static str; 1]>,
}

/// `GET|POST /loki/api/v1/index/stats`: a bare object.
pub(crate) async fn index_stats(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let Selection {
        tenant,
        start,
        end,
        matchers,
    } = Selection::of(r)?;
    let u = index(&st, move |s| s.index_stats(&tenant, &matchers, start, end)).await?;
    Ok(respond::bare(&IndexStats {
        streams: u.streams,
        chunks: u.chunks,
        bytes: u.bytes,
        entries: u.entries,
    }))
}

/// The parameters `index/volume` and `volume_range` share.
struct VolumeRequest {
    selection: Selection,
    targets: Vec<String>,
    limit: usize,
}

impl VolumeRequest {
    fn of(r: LokiRequest) -> Result<Self, ApiError> {
        let targets: Vec<String> = r
            .params
            .get("targetLabels")
            .map(|t| {
                t.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        let limit: usize = r
            .params
            .get("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(100);
        Ok(Self {
            selection: Selection::of(r)?,
            targets,
            limit,
        })
    }
}

/// `GET|POST /loki/api/v1/index/volume`: line bytes per series of the
/// `targetLabels` (or of the labels the selector names) over the range,
/// largest first, as a vector at its end.
pub(crate) async fn volume(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let VolumeRequest {
        selection:
            Selection {
                tenant,
                start,
                end,
                matchers,
            },
        targets,
        limit,
    } = VolumeRequest::of(r)?;
    let mut sorted = index(&st, move |s| {
        s.volume(&tenant, &matchers, start, end, &targets)
    })
    .await?;
    sorted.truncate(limit);
    let result = QueryResult::Vector(
        sorted
            .into_iter()
            .map(|(l, b)| model::algebra::Sample::new(l, b as f64))
            .collect(),
    );
    let q = Query::instant(end);
    Ok(respond::json_body(api::encode_result(
        &result,
        &q,
        &QueryStats::default(),
    )))
}

/// `GET|POST /loki/api/v1/index/volume_range`: the same per `step`, as a
/// matrix: each point is the volume of the step that ends there. The
/// `limit` keeps the series largest over the whole range.
pub(crate) async fn volume_range(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let step = match r.params.get("step") {
        Some(text) => Some(api::parse_step(&text)?),
        None => None,
    };
    let VolumeRequest {
        selection:
            Selection {
                tenant,
                start,
                end,
                matchers,
            },
        targets,
        limit,
    } = VolumeRequest::of(r)?;
    if step.is_some_and(|s| s <= 0) {
        return Err(ApiError::bad(
            "zero or negative query resolution step widths are not accepted. Try a positive integer",
        ));
    }
    // Loki's default step for a range: at most 250 points, at least 1 s.
    let step = step.unwrap_or_else(|| ((end - start) / 250 / 1_000_000_000).max(1) * 1_000_000_000);
    if (i128::from(end) - i128::from(start)) / i128::from(step) >= 11_000 {
        return Err(ApiError::bad(
            "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)",
        ));
    }
    let series = index(&st, move |s| {
        let mut points: BTreeMap<Labels, Vec<(i64, f64)>> = BTreeMap::new();
        let mut totals: BTreeMap<Labels, u64> = BTreeMap::new();
        let mut t = start.saturating_add(step);
        loop {
            let window_end = t.min(end);
            let window_start = window_end.saturating_sub(step).max(start);
            for (labels, bytes) in s.volume(&tenant, &matchers, window_start, window_end, &targets)
            {
                *totals.entry(labels.clone()).or_default() += bytes;
                points
                    .entry(labels)
                    .or_default()
                    .push((window_end, bytes as f64));
            }
            if t >= end {
                break;
            }
            t = t.saturating_add(step);
        }
        let mut largest: Vec<(Labels, u64)> = totals.into_iter().collect();
        largest.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        largest.truncate(limit);
        largest
            .into_iter()
            .filter_map(|(labels, _)| {
                let p = points.remove(&labels)?;
                Some(Series { labels, points: p })
            })
            .collect::<Vec<_>>()
    })
    .await?;
    let q = Query::range(start, end, step);
    Ok(respond::json_body(api::encode_result(
        &QueryResult::Matrix(series),
        &q,
        &QueryStats::default(),
    )))
}

/// `GET /loki/api/v1/detected_labels`: the stream labels of the selected
/// streams with their cardinality.
pub(crate) async fn detected_labels(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let Selection {
        tenant,
        start,
        end,
        matchers,
    } = Selection::of(r)?;
    let streams = index(&st, move |s| s.series(&tenant, &[matchers], start, end)).await?;
    let mut values: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for l in &streams {
        for label in l.iter() {
            values
                .entry(label.name.to_owned())
                .or_default()
                .insert(label.value.to_owned());
        }
    }
    let labels: Vec<Detected<'_>> = values
        .iter()
        .map(|(k, v)| Detected {
            label: k,
            kind: None,
            cardinality: v.len(),
            parsers: None,
        })
        .collect();
    Ok(respond::bare(&json!({ "detectedLabels": labels })))
}

/// `GET /loki/api/v1/detected_fields`: fields found in the lines
/// (logfmt or JSON) of the newest entries, with their type and
/// cardinality.
pub(crate) async fn detected_fields(
    State(st): State<Arc<AppState>>,
    r: LokiRequest,
) -> Result<Response, ApiError> {
    let (start, end) = bounds(&r.params)?;
    let text = r.params.get("query").unwrap_or_default();
    let max = st.limits().max_entries_limit_per_query;
    let line_limit: usize = r
        .params
        .get("line_limit")
        .and_then(|l| l.parse().ok())
        .unwrap_or(1000);
    if max > 0 && line_limit > max {
        return Err(ApiError::bad(format!(
            "max entries limit per query exceeded, limit > max_entries_limit ({line_limit} > {max})"
        )));
    }
    let expr = logql::parse(text.trim()).map_err(|e| ApiError::from(&logql::Error::from(e)))?;
    if !matches!(expr, Expr::Log(_)) {
        return Err(ApiError::bad("detected fields need a log query"));
    }
    let q = Query {
        limit: line_limit,
        ..Query::range(start, end.saturating_add(1), 1)
    };
    let (result, _) = evaluate(&st, &r.tenant, &expr, &q).await?;
    let QueryResult::Streams(streams) = result else {
        return Err(ApiError::bad("detected fields need a log query"));
    };
    let fields = detect_fields(&streams).map_err(|e| ApiError::from(&e))?;
    let list: Vec<Detected<'_>> = fields
        .iter()
        .map(|(k, f)| Detected {
            label: k,
            kind: Some(f.kind),
            cardinality: f.values.len(),
            parsers: Some([f.parser]),
        })
        .collect();
    Ok(respond::bare(
        &json!({ "fields": list, "limit": line_limit }),
    ))
}

/// A field found in lines: its values, type and the parser that found it.
struct Field {
    values: BTreeSet<String>,
    kind: &'static str,
    parser: &'static str,
}

/// The fields of the lines, each line parsed as Loki detects it: JSON when
/// it looks like an object, logfmt otherwise. Stream labels are not
/// fields.
fn detect_fields(streams: &[StreamResult]) -> Result<BTreeMap<String, Field>, logql::Error> {
    let parser = |stage: &str| -> Result<logql::pipeline::Pipeline, logql::Error> {
        match logql::parse(&format!("{{x=\"y\"}} | {stage}"))? {
            Expr::Log(l) => logql::eval::compile_pipeline(&l.stages),
            Expr::Metric(_) => Err(logql::Error::Invalid("not a log query".into())),
        }
    };
    let (json, logfmt) = (parser("json")?, parser("logfmt")?);
    let mut fields: BTreeMap<String, Field> = BTreeMap::new();
    for s in streams {
        for (ts, line) in &s.entries {
            let (pipeline, name) = if line.trim_start().starts_with('{') {
                (&json, "json")
            } else {
                (&logfmt, "logfmt")
            };
            let empty = model::Labels::empty();
            let Some(p) = pipeline.process(*ts, line, &empty, &empty) else {
                continue;
            };
            for label in p.labels.iter() {
                if label.name.starts_with("__") {
                    continue;
                }
                let kind = field_type(label.value);
                let f = fields
                    .entry(label.name.to_owned())
                    .or_insert_with(|| Field {
                        values: BTreeSet::new(),
                        kind,
                        parser: name,
                    });
                if f.kind != kind {
                    f.kind = "string";
                }
                f.values.insert(label.value.to_owned());
            }
        }
    }
    Ok(fields)
}

/// The type Loki gives a detected field's value.
fn field_type(value: &str) -> &'static str {
    if value.parse::<i64>().is_ok() {
        "int"
    } else if value.parse::<f64>().is_ok() {
        "float"
    } else if value == "true" || value == "false" {
        "boolean"
    } else if model::duration::parse_duration(value).is_ok() {
        "duration"
    } else {
        "string"
    }
}

/// `GET|POST /loki/api/v1/format_query`: the query pretty-printed.
pub(crate) async fn format_query(r: LokiRequest) -> Result<Response, ApiError> {
    let text = r.params.get("query").unwrap_or_default();
    let expr = logql::parse(&text).map_err(|e| ApiError::from(&logql::Error::from(e)))?;
    Ok(respond::text(logql::pretty::pretty(&expr)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pieces_cut_at_interval_multiples() {
        assert_eq!(pieces(5, 25, 10), [(5, 10), (10, 20), (20, 25)]);
        assert_eq!(pieces(10, 20, 10), [(10, 20)]);
        assert_eq!(pieces(0, 5, 0), [(0, 5)]);
    }

    #[test]
    fn field_types_are_lokis() {
        assert_eq!(field_type("12"), "int");
        assert_eq!(field_type("1.5"), "float");
        assert_eq!(field_type("150ms"), "duration");
        assert_eq!(field_type("GET"), "string");
    }
}
