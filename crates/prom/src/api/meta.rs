//! Series, label and metadata endpoints.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::extract::{Path, State};
use model::{Labels, Matcher};
use serde_json::{Value, json};
use tsdb::Queryable;

use super::params::{Params, parse_selector};
use super::respond::{ApiError, Success};
use super::{ApiState, blocking, labels_json};

/// `start` and `end`, defaulting to all time, `end` not before `start`.
fn time_range(params: &Params) -> Result<(i64, i64), ApiError> {
    let start = params.time_or("start", model::time::MIN_TIME_MS)?;
    let end = params.time_or("end", model::time::MAX_TIME_MS)?;
    if end < start {
        return Err(ApiError::bad_param(
            "end",
            "end timestamp must not be before start time",
        ));
    }
    Ok((start, end))
}

/// Cuts `items` to `limit`, with Prometheus' warning when it did.
fn truncate<T: serde::Serialize>(mut items: Vec<T>, limit: Option<usize>) -> Success<Vec<T>> {
    let mut warnings = Vec::new();
    if let Some(limit) = limit {
        if items.len() > limit {
            items.truncate(limit);
            warnings.push("results truncated due to limit".to_owned());
        }
    }
    Success {
        data: items,
        warnings,
        infos: Vec::new(),
    }
}

pub(super) async fn series(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Vec<Value>>, ApiError> {
    let selectors = params.selectors()?;
    if selectors.is_empty() {
        return Err(ApiError::bad_data("no match[] parameter provided"));
    }
    let (start, end) = time_range(&params)?;
    let limit = params.limit()?;
    let found = blocking(move || {
        let querier = state.db.querier(start, end)?;
        let mut found = BTreeSet::new();
        for matchers in &selectors {
            for series in querier.select(matchers)? {
                found.insert(series.labels().clone());
            }
        }
        Ok(found)
    })
    .await?;
    let data = found
        .iter()
        .map(|l| Value::Object(labels_json(l)))
        .collect();
    Ok(truncate(data, limit))
}

pub(super) async fn labels(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Vec<String>>, ApiError> {
    let selectors = params.selectors()?;
    let (start, end) = time_range(&params)?;
    let limit = params.limit()?;
    let names = blocking(move || {
        let querier = state.db.querier(start, end)?;
        let mut names = BTreeSet::new();
        if selectors.is_empty() {
            names.extend(querier.label_names(&[])?);
        }
        for matchers in &selectors {
            names.extend(querier.label_names(matchers)?);
        }
        Ok(names)
    })
    .await?;
    Ok(truncate(names.into_iter().collect(), limit))
}

pub(super) async fn label_values(
    State(state): State<Arc<ApiState>>,
    Path(name): Path<String>,
    params: Params,
) -> Result<Success<Vec<String>>, ApiError> {
    if !model::is_valid_label_name(&name) {
        return Err(ApiError::bad_data(format!("invalid label name: {name:?}")));
    }
    let selectors = params.selectors()?;
    let (start, end) = time_range(&params)?;
    let limit = params.limit()?;
    let values = blocking(move || {
        let querier = state.db.querier(start, end)?;
        let mut values = BTreeSet::new();
        if selectors.is_empty() {
            values.extend(querier.label_values(&name, &[])?);
        }
        for matchers in &selectors {
            values.extend(querier.label_values(&name, matchers)?);
        }
        Ok(values)
    })
    .await?;
    Ok(truncate(values.into_iter().collect(), limit))
}

/// `/api/v1/metadata`: per metric family, the distinct metadata targets
/// gave, from their last scrapes.
pub(super) async fn metadata(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Value>, ApiError> {
    let limit = params.limit()?;
    let per_metric = match params.get("limit_per_metric").filter(|v| !v.is_empty()) {
        None => None,
        Some(text) => Some(text.parse::<i64>().map_err(|_| {
            ApiError::bad_param("limit_per_metric", "cannot parse \"limit_per_metric\"")
        })?)
        .filter(|l| *l > 0)
        .map(|l| l as usize),
    };
    let wanted = params.get("metric").filter(|m| !m.is_empty());
    let mut families: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for target in state.scrape.active_targets() {
        for m in target.health.metadata.iter() {
            if wanted.is_some_and(|w| w != m.family) {
                continue;
            }
            let entry = json!({
                "type": m.kind.as_str(),
                "help": m.help.clone().unwrap_or_default(),
                "unit": m.unit.clone().unwrap_or_default(),
            });
            let list = families.entry(m.family.clone()).or_default();
            if !list.contains(&entry) && per_metric.is_none_or(|n| list.len() < n) {
                list.push(entry);
            }
        }
    }
    let data: serde_json::Map<String, Value> = families
        .into_iter()
        .take(limit.unwrap_or(usize::MAX))
        .map(|(k, v)| (k, Value::from(v)))
        .collect();
    Ok(Success::new(Value::Object(data)))
}

/// `/api/v1/targets/metadata`: metadata per target, filtered by a selector
/// on target labels and a metric name.
pub(super) async fn targets_metadata(
    State(state): State<Arc<ApiState>>,
    params: Params,
) -> Result<Success<Vec<Value>>, ApiError> {
    let limit = params.limit()?;
    let matcher_sets: Vec<Vec<Matcher>> = match params.get("match_target").filter(|m| !m.is_empty())
    {
        Some(text) => parse_selector(text)?,
        None => vec![Vec::new()],
    };
    let wanted = params.get("metric").filter(|m| !m.is_empty());
    let mut out = Vec::new();
    for target in state.scrape.active_targets() {
        let labels: &Labels = &target.target.labels;
        let selected = |set: &Vec<Matcher>| {
            set.iter()
                .all(|m| m.matches(labels.get(&m.name).unwrap_or("")))
        };
        if !matcher_sets.iter().any(selected) {
            continue;
        }
        for m in target.health.metadata.iter() {
            if wanted.is_some_and(|w| w != m.family) {
                continue;
            }
            let mut entry = json!({
                "target": labels_json(labels),
                "type": m.kind.as_str(),
                "help": m.help.clone().unwrap_or_default(),
                "unit": m.unit.clone().unwrap_or_default(),
            });
            if wanted.is_none() {
                entry["metric"] = Value::from(m.family.clone());
            }
            out.push(entry);
        }
    }
    Ok(truncate(out, limit))
}
