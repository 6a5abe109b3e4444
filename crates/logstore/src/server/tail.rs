//! `GET /loki/api/v1/tail`: live entries over a WebSocket.
//!
//! First the newest `limit` entries since `start` (default one hour ago),
//! oldest first; then, every poll, the entries that arrived since, up to
//! `delay_for` seconds behind now so that late pushes are not skipped.
//! Frames are Loki's: `{"streams":[{"stream":{…},"values":[["<ns>","line"]]}]}`.
//! The socket closes when the client goes or the server drains.

use std::sync::Arc;
use std::time::Duration;

use axum::Extension;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::{RawQuery, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use logql::ast::Expr;
use logql::eval::{Direction, Engine, Query, QueryResult, StreamResult};
use tokio_util::sync::CancellationToken;

use super::params::{Params, tenant};
use super::respond::ApiError;
use super::{AppState, now_ns};

/// How often new entries are looked for.
const POLL: Duration = Duration::from_millis(500);
/// Loki's most `delay_for`.
const MAX_DELAY_S: i64 = 5;

/// The tail request's parameters, checked before upgrading.
struct Tail {
    tenant: String,
    expr: Expr,
    limit: usize,
    start_ns: i64,
    delay_ns: i64,
}

fn parse(st: &AppState, headers: &HeaderMap, params: &Params) -> Result<Tail, ApiError> {
    let tenant = tenant(headers, st.auth_enabled)?;
    let text = params.get("query").unwrap_or_default();
    let expr = logql::parse(&text).map_err(|e| ApiError::from(&logql::Error::from(e)))?;
    if !matches!(expr, Expr::Log(_)) {
        return Err(ApiError::bad("tail needs a log query"));
    }
    let limit = match params.get("limit") {
        Some(l) => l
            .trim()
            .parse::<usize>()
            .map_err(|_| ApiError::bad(format!("cannot parse limit {l:?}")))?,
        None => 100,
    };
    let max = st.limits().max_entries_limit_per_query;
    if max > 0 && limit > max {
        return Err(ApiError::bad(format!(
            "max entries limit per query exceeded, limit > max_entries_limit ({limit} > {max})"
        )));
    }
    let delay: i64 = match params.get("delay_for") {
        Some(d) => d
            .trim()
            .parse()
            .map_err(|_| ApiError::bad(format!("cannot parse delay_for {d:?}")))?,
        None => 0,
    };
    if !(0..=MAX_DELAY_S).contains(&delay) {
        return Err(ApiError::bad(format!(
            "delay_for can't be greater than {MAX_DELAY_S}"
        )));
    }
    let start_ns = match params.get("start") {
        Some(t) => logql::api::parse_time(&t)?,
        None => now_ns().saturating_sub(3600 * 1_000_000_000),
    };
    Ok(Tail {
        tenant,
        expr,
        limit,
        start_ns,
        delay_ns: delay * 1_000_000_000,
    })
}

/// The upgrade handler.
pub(crate) async fn tail(
    State(st): State<Arc<AppState>>,
    Extension(stop): Extension<CancellationToken>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    let params = Params::parse(query.as_deref(), &headers, &[]);
    match parse(&st, &headers, &params) {
        Ok(t) => ws.on_upgrade(move |socket| run(st, t, socket, stop)),
        Err(e) => e.into_response(),
    }
}

/// Entries of `[from, to)`: the newest `limit` when `newest` (the first
/// frame), else the oldest `limit`; returned oldest first.
async fn read(
    st: &Arc<AppState>,
    t: &Tail,
    from: i64,
    to: i64,
    newest: bool,
) -> Result<Vec<StreamResult>, String> {
    let q = Query {
        direction: if newest {
            Direction::Backward
        } else {
            Direction::Forward
        },
        limit: t.limit.max(1),
        ..Query::range(from, to, 1)
    };
    let (st, tenant, expr) = (st.clone(), t.tenant.clone(), t.expr.clone());
    let result = tokio::task::spawn_blocking(move || {
        let reader = st.storage.reader(&tenant);
        Engine::new(&reader).eval(&expr, &q)
    })
    .await
    .map_err(|e| e.to_string())?
    .map_err(|e| e.to_string())?;
    let QueryResult::Streams(mut streams) = result else {
        return Ok(Vec::new());
    };
    for s in &mut streams {
        if newest {
            s.entries.reverse();
        }
    }
    Ok(streams)
}

async fn run(st: Arc<AppState>, t: Tail, mut socket: WebSocket, stop: CancellationToken) {
    let mut from = t.start_ns;
    let mut first = true;
    loop {
        let to = now_ns().saturating_sub(t.delay_ns);
        if to > from {
            match read(&st, &t, from, to, first).await {
                Ok(streams) => {
                    let newest = streams
                        .iter()
                        .flat_map(|s| s.entries.iter().map(|e| e.0))
                        .max();
                    // Entries at the newest time may still be arriving
                    // for other streams: the next read starts right after
                    // what was sent, or at `to` when nothing was.
                    from = match (first, newest) {
                        (_, Some(n)) if !first => n.saturating_add(1),
                        _ => to,
                    };
                    if streams.iter().any(|s| !s.entries.is_empty())
                        && socket
                            .send(Message::Text(
                                logql::api::encode_tail_frame(&streams).into(),
                            ))
                            .await
                            .is_err()
                    {
                        return;
                    }
                }
                Err(e) => {
                    let _ = socket.send(Message::Text(e.into())).await;
                    return;
                }
            }
            first = false;
        }
        tokio::select! {
            () = stop.cancelled() => {
                let _ = socket.send(Message::Close(None)).await;
                return;
            }
            () = tokio::time::sleep(POLL) => {}
            incoming = socket.recv() => {
                // The client closed, failed, or sent something: only a
                // close or an error ends the tail.
                match incoming {
                    None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                    Some(Ok(_)) => {}
                }
            }
        }
    }
}
