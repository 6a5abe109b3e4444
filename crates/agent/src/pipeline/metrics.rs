//! The `metrics` stage: counters, gauges and histograms fed from the
//! extracted map, one series per label set of the entries, dropped after
//! `max_idle_duration` without an update; and the metric vectors with
//! changing label sets that it and `limit` register for `/metrics`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use instrument::{
    Collector, FamilySnapshot, MetricKind, MetricSnapshot, MetricValue, Registry, RegistryError,
};
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::weak;
use super::{PipelineEntry, Stage};
use crate::entry::LabelSet;

/// The prefix of custom metric names when `prefix` is not set.
const DEFAULT_PREFIX: &str = "promtail_custom_";
/// How long a series lives without an update when `max_idle_duration`
/// is not set.
const DEFAULT_MAX_IDLE_NS: i64 = 5 * 60 * 1_000_000_000;
/// Prometheus' default histogram buckets (`prometheus.DefBuckets`).
const DEFAULT_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The `metrics` stage's options as written: metric name (before the
/// prefix) to its definition.
pub(crate) type RawMetricsConfig = BTreeMap<String, RawMetricConfig>;

/// One metric of a `metrics` stage as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawMetricConfig {
    /// `Counter`, `Gauge` or `Histogram`, in any case.
    #[serde(default, rename = "type")]
    pub(crate) metric_type: String,
    /// The HELP text.
    #[serde(default)]
    pub(crate) description: String,
    /// The extracted key read; the metric's name by default.
    #[serde(default)]
    pub(crate) source: Option<String>,
    /// Replaces `promtail_custom_` before the name.
    #[serde(default)]
    pub(crate) prefix: String,
    /// A Go duration of at least 1s; `5m` by default.
    #[serde(default)]
    pub(crate) max_idle_duration: Option<String>,
    /// The type's own settings (action, value, buckets, …).
    #[serde(default)]
    pub(crate) config: serde_json::Value,
}

/// `config` of a counter.
#[derive(Debug, Clone, Default, Deserialize)]
struct CounterConfig {
    #[serde(default)]
    match_all: Option<bool>,
    #[serde(default)]
    count_entry_bytes: Option<bool>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    action: String,
}

/// `config` of a gauge.
#[derive(Debug, Clone, Default, Deserialize)]
struct GaugeConfig {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    action: String,
}

/// `config` of a histogram.
#[derive(Debug, Clone, Default, Deserialize)]
struct HistogramConfig {
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    buckets: Option<Vec<f64>>,
}

/// Why a `metrics` config is refused; messages are Promtail's where it
/// has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MetricsError {
    /// The type is none of the three.
    #[error(
        "invalid metric type '{0}', metric type must be one of 'counter', 'gauge', or 'histogram'"
    )]
    Type(String),
    /// `max_idle_duration` is not a Go duration.
    #[error("max_idle_duration could not be parsed as a time.Duration: '{0}'")]
    IdleDuration(gocompat::duration::GoDurationError),
    /// `max_idle_duration` under a second.
    #[error("max_idle_duration less than 1s not allowed")]
    SubSecondIdle,
    /// `config` does not fit the type: the metric and the reason.
    #[error("metric {0}: {1}")]
    Config(String, String),
    /// A counter without an action.
    #[error("counter action must be defined as either `inc` or `add`")]
    CounterActionRequired,
    /// A counter action other than `inc`/`add`.
    #[error("action {0} is not valid, action must be either `inc` or `add`")]
    CounterAction(String),
    /// `match_all` with `value`.
    #[error(
        "`match_all: true` cannot be combined with `value`, please remove `match_all` or `value`"
    )]
    MatchAllWithValue,
    /// `count_entry_bytes` without `match_all`.
    #[error("`count_entry_bytes: true` can only be set with `match_all: true`")]
    CountBytesWithoutMatchAll,
    /// `count_entry_bytes` with `inc`.
    #[error("`count_entry_bytes: true` can only be used with `action: add`")]
    CountBytesAction,
    /// A gauge without an action.
    #[error("gauge action must be defined as `set`, `inc`, `dec`, `add`, or `sub`")]
    GaugeActionRequired,
    /// A gauge action outside the five.
    #[error("action {0} is not valid, action must be `set`, `inc`, `dec`, `add`, or `sub`")]
    GaugeAction(String),
    /// Histogram buckets that do not increase.
    #[error("histogram {0}: buckets must be in increasing order")]
    Buckets(String),
    /// The full name is not a valid metric name.
    #[error("invalid metric name {0:?}")]
    Name(String),
}

/// What a counter does with a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum CounterAction {
    Inc,
    Add,
}

/// What a gauge does with a value.
#[derive(Debug, Clone, Copy, PartialEq)]
enum GaugeAction {
    Set,
    Inc,
    Dec,
    Add,
    Sub,
}

/// One metric's rule.
#[derive(Debug, Clone)]
enum Rule {
    Counter {
        action: CounterAction,
        match_all: bool,
        count_bytes: bool,
    },
    Gauge(GaugeAction),
    Histogram,
}

/// One metric, checked: what it reads and how it updates its series.
#[derive(Debug, Clone)]
struct MetricDef {
    /// The full name, prefix included.
    name: String,
    help: String,
    shape: Shape,
    max_idle_ns: i64,
    source: String,
    value: Option<String>,
    rule: Rule,
}

/// The `metrics` stage's checked options.
#[derive(Debug, Clone, Default)]
pub struct MetricsConfig {
    metrics: Vec<MetricDef>,
}

impl StageOptions for MetricsConfig {
    type Raw = RawMetricsConfig;
    fn from_raw(raw: RawMetricsConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(&raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Ok(Self::default())
    }
}

impl MetricsConfig {
    /// Checks `cfg` as Promtail does.
    pub(crate) fn new(cfg: &RawMetricsConfig) -> Result<Self, MetricsError> {
        let mut metrics = Vec::new();
        for (name, mc) in cfg {
            let kind = mc.metric_type.to_lowercase();
            let max_idle_ns = match &mc.max_idle_duration {
                None => DEFAULT_MAX_IDLE_NS,
                Some(text) => {
                    let ns = weak::go_duration_ns(text).map_err(MetricsError::IdleDuration)?;
                    if ns < 1_000_000_000 {
                        return Err(MetricsError::SubSecondIdle);
                    }
                    ns
                }
            };
            let prefix = if mc.prefix.is_empty() {
                DEFAULT_PREFIX
            } else {
                &mc.prefix
            };
            let full = format!("{prefix}{name}");
            let config = if mc.config.is_null() {
                serde_json::Value::Object(serde_json::Map::new())
            } else {
                mc.config.clone()
            };
            let decode_err =
                |e: serde_json::Error| MetricsError::Config(name.clone(), e.to_string());
            let (rule, value, shape) = match kind.as_str() {
                "counter" => {
                    let c: CounterConfig = serde_json::from_value(config).map_err(decode_err)?;
                    let (rule, value) = counter_rule(c)?;
                    (rule, value, Shape::Counter)
                }
                "gauge" => {
                    let g: GaugeConfig = serde_json::from_value(config).map_err(decode_err)?;
                    (Rule::Gauge(gauge_action(&g.action)?), g.value, Shape::Gauge)
                }
                "histogram" => {
                    let h: HistogramConfig = serde_json::from_value(config).map_err(decode_err)?;
                    let bounds = h.buckets.unwrap_or_else(|| DEFAULT_BUCKETS.to_vec());
                    if bounds.windows(2).any(|w| w[0] >= w[1]) || bounds.iter().any(|b| b.is_nan())
                    {
                        return Err(MetricsError::Buckets(full));
                    }
                    (Rule::Histogram, h.value, Shape::Histogram(bounds))
                }
                _ => return Err(MetricsError::Type(kind)),
            };
            if !model::is_valid_metric_name(&full) {
                return Err(MetricsError::Name(full));
            }
            metrics.push(MetricDef {
                name: full,
                help: mc.description.clone(),
                shape,
                max_idle_ns,
                source: mc.source.clone().unwrap_or_else(|| name.clone()),
                value,
                rule,
            });
        }
        Ok(Self { metrics })
    }
}

/// One configured metric with its series.
struct Metric {
    source: String,
    value: Option<String>,
    rule: Rule,
    vec: Arc<SeriesVec>,
}

/// The `metrics` stage.
pub struct MetricsStage {
    metrics: Vec<Metric>,
}

impl MetricsStage {
    /// Registers the metrics of `cfg` in `registry` (one another pipeline
    /// registered with the same name, type, help and buckets is shared, as
    /// the Go client merges them; another one by that name is a
    /// duplicate).
    pub fn new(cfg: &MetricsConfig, registry: &Registry) -> Result<Self, RegistryError> {
        let metrics = cfg
            .metrics
            .iter()
            .map(|m| {
                Ok(Metric {
                    source: m.source.clone(),
                    value: m.value.clone(),
                    rule: m.rule.clone(),
                    vec: SeriesVec::shared(
                        registry,
                        &m.name,
                        &m.help,
                        m.shape.clone(),
                        m.max_idle_ns,
                    )?,
                })
            })
            .collect::<Result<_, RegistryError>>()?;
        Ok(Self { metrics })
    }
}

/// The rule of a counter's config, checked as Promtail checks it.
fn counter_rule(c: CounterConfig) -> Result<(Rule, Option<String>), MetricsError> {
    if c.action.is_empty() {
        return Err(MetricsError::CounterActionRequired);
    }
    let action = match c.action.to_lowercase().as_str() {
        "inc" => CounterAction::Inc,
        "add" => CounterAction::Add,
        other => return Err(MetricsError::CounterAction(other.to_owned())),
    };
    let match_all = c.match_all == Some(true);
    let count_bytes = c.count_entry_bytes == Some(true);
    if match_all && c.value.is_some() {
        return Err(MetricsError::MatchAllWithValue);
    }
    if count_bytes && !match_all {
        return Err(MetricsError::CountBytesWithoutMatchAll);
    }
    if count_bytes && action != CounterAction::Add {
        return Err(MetricsError::CountBytesAction);
    }
    Ok((
        Rule::Counter {
            action,
            match_all,
            count_bytes,
        },
        c.value,
    ))
}

/// A gauge action, checked as Promtail checks it.
fn gauge_action(action: &str) -> Result<GaugeAction, MetricsError> {
    if action.is_empty() {
        return Err(MetricsError::GaugeActionRequired);
    }
    Ok(match action.to_lowercase().as_str() {
        "set" => GaugeAction::Set,
        "inc" => GaugeAction::Inc,
        "dec" => GaugeAction::Dec,
        "add" => GaugeAction::Add,
        "sub" => GaugeAction::Sub,
        other => return Err(MetricsError::GaugeAction(other.to_owned())),
    })
}

impl Metric {
    /// Updates the series of `labels` for one entry.
    fn record(&self, e: &PipelineEntry, now_ns: i64) {
        let labels = &e.entry.labels;
        if let Rule::Counter {
            action,
            match_all: true,
            count_bytes,
        } = self.rule
        {
            // Counted whatever was extracted; `add` without
            // `count_entry_bytes` has no value to add, so it does nothing.
            match (action, count_bytes) {
                (CounterAction::Add, true) => {
                    self.vec.update(labels, now_ns, |s| {
                        s.add(e.entry.line.len() as f64);
                    });
                }
                (CounterAction::Inc, _) => self.vec.update(labels, now_ns, |s| s.add(1.0)),
                (CounterAction::Add, false) => {}
            }
            return;
        }
        let Some(v) = e.extracted.get(&self.source) else {
            return;
        };
        if let Some(want) = &self.value {
            if get_string(v).as_deref() != Some(want.as_str()) {
                return;
            }
        }
        let float = || weak::extracted_float(v);
        match self.rule {
            Rule::Counter { action, .. } => match action {
                CounterAction::Inc => self.vec.update(labels, now_ns, |s| s.add(1.0)),
                CounterAction::Add => {
                    // Prometheus' Go client panics on a negative add; a
                    // counter here ignores it instead.
                    if let Some(f) = float().filter(|f| *f >= 0.0) {
                        self.vec.update(labels, now_ns, |s| s.add(f));
                    }
                }
            },
            Rule::Gauge(action) => {
                let delta = match action {
                    GaugeAction::Inc => Some(1.0),
                    GaugeAction::Dec => Some(-1.0),
                    GaugeAction::Add => float(),
                    GaugeAction::Sub => float().map(|f| -f),
                    GaugeAction::Set => {
                        if let Some(f) = float() {
                            self.vec.update(labels, now_ns, |s| s.set(f));
                        }
                        return;
                    }
                };
                if let Some(d) = delta {
                    self.vec.update(labels, now_ns, |s| s.add(d));
                }
            }
            Rule::Histogram => {
                if let Some(f) = float() {
                    self.vec.update(labels, now_ns, |s| s.observe(f));
                }
            }
        }
    }
}

impl Stage for MetricsStage {
    fn name(&self) -> &'static str {
        "metrics"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        for metric in &self.metrics {
            metric.record(&entry, now_ns);
        }
        out.push(entry);
    }
}

/// What a [`SeriesVec`] holds.
#[derive(Debug, Clone, PartialEq)]
enum Shape {
    Counter,
    Gauge,
    /// Upper bounds, without `+Inf`.
    Histogram(Vec<f64>),
}

/// The value of one series.
#[derive(Debug, Clone)]
enum Value {
    Single(f64),
    Histogram {
        per_bucket: Vec<u64>,
        count: u64,
        sum: f64,
    },
}

/// One series and when it last changed.
#[derive(Debug, Clone)]
struct Series {
    value: Value,
    bounds: Arc<[f64]>,
    last_ns: i64,
}

impl Series {
    fn add(&mut self, d: f64) {
        if let Value::Single(v) = &mut self.value {
            *v += d;
        }
    }

    fn set(&mut self, f: f64) {
        if let Value::Single(v) = &mut self.value {
            *v = f;
        }
    }

    fn observe(&mut self, f: f64) {
        if let Value::Histogram {
            per_bucket,
            count,
            sum,
        } = &mut self.value
        {
            // `le` is inclusive; past the last bound is the `+Inf` bucket.
            let i = self
                .bounds
                .iter()
                .position(|b| f <= *b)
                .unwrap_or(self.bounds.len());
            if let Some(n) = per_bucket.get_mut(i) {
                *n += 1;
            }
            *count += 1;
            *sum += f;
        }
    }
}

/// The labels of a series: the entry's, without reserved or invalid names.
type SeriesKey = LabelSet;

/// A metric family whose series carry whatever labels their entries had,
/// each removed once idle for `max_idle_ns` (Promtail's `metricVec`). It
/// is its own [`Collector`], since the registry's families have fixed
/// label names and keep their children forever.
pub(crate) struct SeriesVec {
    /// The family name as configured (Promtail prints a counter's as it
    /// is, `_total` or not).
    name: String,
    help: String,
    shape: Shape,
    bounds: Arc<[f64]>,
    max_idle_ns: i64,
    series: Mutex<BTreeMap<SeriesKey, Series>>,
}

impl SeriesVec {
    /// The vector registered under `name`, or a new one; an existing one
    /// of another shape or help is a conflict.
    fn shared(
        registry: &Registry,
        name: &str,
        help: &str,
        shape: Shape,
        max_idle_ns: i64,
    ) -> Result<Arc<Self>, RegistryError> {
        let bounds: Arc<[f64]> = match &shape {
            Shape::Histogram(b) => b.iter().copied().collect(),
            _ => Arc::from(Vec::new()),
        };
        // Registered under the configured name, so a counter and a gauge
        // both called `x_total` collide, as they would in Promtail.
        let vec = registry.shared(name, || {
            Ok(Self {
                name: name.to_owned(),
                help: help.to_owned(),
                shape: shape.clone(),
                bounds,
                max_idle_ns,
                series: Mutex::new(BTreeMap::new()),
            })
        })?;
        if vec.shape != shape || vec.help != help {
            return Err(RegistryError::Duplicate(name.to_owned()));
        }
        Ok(vec)
    }

    /// Changes the series of `labels` (cleaned of reserved and invalid
    /// names), made on first use.
    fn update(&self, labels: &LabelSet, now_ns: i64, f: impl FnOnce(&mut Series)) {
        let keep = |k: &str| !k.starts_with("__") && model::is_valid_label_name(k);
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        // The common case, labels that need no cleaning and a series that
        // exists, allocates nothing.
        let clean = labels.keys().all(|k| keep(k));
        if clean {
            if let Some(s) = series.get_mut(labels) {
                f(s);
                s.last_ns = now_ns;
                return;
            }
        }
        let key: SeriesKey = if clean {
            labels.clone()
        } else {
            labels
                .iter()
                .filter(|(k, _)| keep(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        };
        let s = series.entry(key).or_insert_with(|| Series {
            value: match self.shape {
                Shape::Histogram(_) => Value::Histogram {
                    per_bucket: vec![0; self.bounds.len() + 1],
                    count: 0,
                    sum: 0.0,
                },
                _ => Value::Single(0.0),
            },
            bounds: self.bounds.clone(),
            last_ns: now_ns,
        });
        f(s);
        s.last_ns = now_ns;
    }

    /// Removes the series idle for `max_idle_ns` at `now_ns`.
    fn prune(&self, now_ns: i64) {
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        series.retain(|_, s| now_ns.saturating_sub(s.last_ns) < self.max_idle_ns);
    }

    /// The family as it stands.
    fn snapshot(&self) -> FamilySnapshot {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        let metrics = series
            .iter()
            .map(|(labels, s)| MetricSnapshot {
                labels: labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
                value: match &s.value {
                    Value::Single(v) => MetricValue::Single(*v),
                    Value::Histogram {
                        per_bucket,
                        count,
                        sum,
                    } => {
                        let mut cumulative = 0;
                        let buckets = self
                            .bounds
                            .iter()
                            .copied()
                            .chain([f64::INFINITY])
                            .zip(per_bucket)
                            .map(|(bound, n)| {
                                cumulative += n;
                                (bound, cumulative)
                            })
                            .collect();
                        MetricValue::Histogram {
                            buckets,
                            count: *count,
                            sum: *sum,
                        }
                    }
                },
                // Promtail's Go client prints no `_created` series.
                created: None,
            })
            .collect();
        FamilySnapshot {
            name: self.name.clone(),
            help: self.help.clone(),
            kind: match self.shape {
                Shape::Counter => MetricKind::Counter,
                Shape::Gauge => MetricKind::Gauge,
                Shape::Histogram(_) => MetricKind::Histogram,
            },
            metrics,
        }
    }
}

impl Collector for SeriesVec {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        // As Promtail, idle series are removed when scraped.
        self.prune(unix_now_ns());
        out.push(self.snapshot());
    }
}

fn unix_now_ns() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_nanos()).unwrap_or(i64::MAX))
}

/// A counter family with fixed label names whose series can all be
/// removed at once (Promtail resets its by-label drop counts when the
/// limiter forgets label values).
pub(crate) struct ResettableCounter {
    name: String,
    help: String,
    label_names: Vec<String>,
    series: Mutex<BTreeMap<Vec<String>, f64>>,
}

impl ResettableCounter {
    /// The counter registered under `name` (which may end in `_total`), or
    /// a new one.
    pub(crate) fn shared(
        registry: &Registry,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<Arc<Self>, RegistryError> {
        let base = name.strip_suffix("_total").unwrap_or(name);
        registry.shared(base, || {
            Ok(Self {
                name: name.to_owned(),
                help: help.to_owned(),
                label_names: label_names.iter().map(|n| (*n).to_owned()).collect(),
                series: Mutex::new(BTreeMap::new()),
            })
        })
    }

    /// Adds one to the series of these label values.
    pub(crate) fn inc(&self, values: &[&str]) {
        let key: Vec<String> = values.iter().map(|v| (*v).to_owned()).collect();
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        *series.entry(key).or_insert(0.0) += 1.0;
    }

    /// Removes every series.
    pub(crate) fn reset(&self) {
        self.series
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clear();
    }
}

impl Collector for ResettableCounter {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        out.push(FamilySnapshot {
            name: self.name.clone(),
            help: self.help.clone(),
            kind: MetricKind::Counter,
            metrics: series
                .iter()
                .map(|(values, v)| MetricSnapshot {
                    labels: self
                        .label_names
                        .iter()
                        .cloned()
                        .zip(values.clone())
                        .collect(),
                    value: MetricValue::Single(*v),
                    created: None,
                })
                .collect(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;

    const SEC: i64 = 1_000_000_000;

    fn config(yaml: &str) -> Result<MetricsConfig, String> {
        let raw: RawMetricsConfig = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        MetricsConfig::new(&raw).map_err(|e| e.to_string())
    }

    fn stage(yaml: &str) -> Result<(MetricsStage, Registry), String> {
        let registry = Registry::new();
        let stage = MetricsStage::new(&config(yaml)?, &registry).map_err(|e| e.to_string())?;
        Ok((stage, registry))
    }

    fn entry(line: &str, labels: &[(&str, &str)], extracted: &[(&str, &str)]) -> PipelineEntry {
        let mut e = Entry {
            line: line.to_owned(),
            ..Entry::default()
        };
        for (k, v) in labels {
            e.labels.insert((*k).to_owned(), (*v).to_owned());
        }
        let mut e = PipelineEntry::new(e);
        for (k, v) in extracted {
            e.extracted.insert((*k).to_owned(), serde_json::json!(v));
        }
        e
    }

    /// Samples as Promtail's Go client prints them (`name{labels} value`,
    /// `le` last, counters under `counter_name(name)`), without HELP/TYPE.
    /// The agent's exposition is the server's business; this checks the
    /// values.
    fn go_lines(families: &[FamilySnapshot], counter_name: impl Fn(&str) -> String) -> Vec<String> {
        let line = |name: &str, labels: &[(String, String)], le: Option<f64>, v: f64| {
            let mut pairs: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
            if let Some(le) = le {
                let le = if le.is_infinite() {
                    "+Inf".to_owned()
                } else {
                    le.to_string()
                };
                pairs.push(format!("le=\"{le}\""));
            }
            if pairs.is_empty() {
                format!("{name} {v}")
            } else {
                format!("{name}{{{}}} {v}", pairs.join(","))
            }
        };
        let mut out = Vec::new();
        for f in families {
            for m in &f.metrics {
                match &m.value {
                    MetricValue::Single(v) if f.kind == MetricKind::Counter => {
                        out.push(line(&counter_name(&f.name), &m.labels, None, *v));
                    }
                    MetricValue::Single(v) => out.push(line(&f.name, &m.labels, None, *v)),
                    MetricValue::Histogram {
                        buckets,
                        count,
                        sum,
                    } => {
                        for (bound, n) in buckets {
                            let name = format!("{}_bucket", f.name);
                            out.push(line(&name, &m.labels, Some(*bound), *n as f64));
                        }
                        out.push(line(
                            &format!("{}_count", f.name),
                            &m.labels,
                            None,
                            *count as f64,
                        ));
                        out.push(line(&format!("{}_sum", f.name), &m.labels, None, *sum));
                    }
                    MetricValue::Summary { .. } => {}
                }
            }
        }
        out
    }

    fn samples(registry: &Registry) -> Vec<String> {
        go_lines(&registry.gather(), str::to_owned)
    }

    /// An entry to run: line, labels, extracted strings.
    type Row<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [(&'a str, &'a str)]);

    /// Runs entries through a stage from `yaml` and returns the samples.
    fn run(yaml: &str, entries: &[Row<'_>]) -> Vec<String> {
        let (mut stage, registry) = stage(yaml).unwrap();
        let mut out = Vec::new();
        for (line, labels, extracted) in entries {
            // Scrapes remove series idle by the wall clock.
            stage.process(entry(line, labels, extracted), unix_now_ns(), &mut out);
        }
        assert_eq!(out.len(), entries.len(), "the stage passes every entry");
        samples(&registry)
    }

    #[test]
    fn config_errors_are_promtails() {
        for (yaml, want) in [
            ("m: {type: Summary}", "invalid metric type 'summary'"),
            ("m: {type: Counter}", "counter action must be defined"),
            (
                "m: {type: Counter, config: {action: set}}",
                "action set is not valid",
            ),
            (
                "m: {type: Counter, config: {action: inc, match_all: true, value: x}}",
                "cannot be combined with `value`",
            ),
            (
                "m: {type: Counter, config: {action: add, count_entry_bytes: true}}",
                "can only be set with `match_all: true`",
            ),
            (
                "m: {type: Counter, config: {action: inc, match_all: true, count_entry_bytes: true}}",
                "can only be used with `action: add`",
            ),
            ("m: {type: Gauge}", "gauge action must be defined"),
            (
                "m: {type: Gauge, config: {action: mul}}",
                "action mul is not valid",
            ),
            (
                "m: {type: Gauge, max_idle_duration: 500ms, config: {action: inc}}",
                "less than 1s not allowed",
            ),
            (
                "m: {type: Gauge, max_idle_duration: 5, config: {action: inc}}",
                "could not be parsed",
            ),
            (
                "m: {type: Histogram, config: {buckets: [2, 1]}}",
                "increasing order",
            ),
            (
                "m: {type: Gauge, prefix: 1x, config: {action: inc}}",
                "invalid metric name",
            ),
        ] {
            let err = stage(yaml).err().unwrap_or_default();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn counter_inc_on_a_value() {
        let got = run(
            "errors_total: {type: Counter, source: level, config: {value: error, action: inc}}",
            &[
                ("a", &[("job", "x")], &[("level", "error")]),
                ("b", &[("job", "x")], &[("level", "info")]),
                ("c", &[("job", "x")], &[]),
                ("d", &[("job", "x")], &[("level", "error")]),
            ],
        );
        assert_eq!(got, ["promtail_custom_errors_total{job=\"x\"} 2"]);
    }

    #[test]
    fn counter_source_defaults_to_the_name() {
        let got = run(
            "hits_total: {type: Counter, config: {action: inc}}",
            &[("a", &[], &[("hits_total", "1")]), ("b", &[], &[])],
        );
        assert_eq!(got, ["promtail_custom_hits_total 1"]);
    }

    #[test]
    fn counter_add_reads_numbers_and_durations() {
        let got = run(
            "t_total: {type: Counter, source: t, config: {action: add}}",
            &[
                ("a", &[], &[("t", "1.5")]),
                ("b", &[], &[("t", "500ms")]),
                ("c", &[], &[("t", "x")]),
                ("d", &[], &[("t", "-4")]),
            ],
        );
        assert_eq!(got, ["promtail_custom_t_total 2"]);
    }

    #[test]
    fn counter_match_all_counts_every_entry_or_its_bytes() {
        let entries: &[Row<'_>] = &[("abc", &[], &[]), ("héllo", &[], &[])];
        assert_eq!(
            run(
                "n_total: {type: Counter, config: {match_all: true, action: inc}}",
                entries
            ),
            ["promtail_custom_n_total 2"]
        );
        assert_eq!(
            run(
                "b_total: {type: Counter, config: {match_all: true, count_entry_bytes: true, action: add}}",
                entries
            ),
            ["promtail_custom_b_total 9"]
        );
        // `add` with `match_all` alone has nothing to add.
        assert!(
            run(
                "z_total: {type: Counter, config: {match_all: true, action: add}}",
                entries
            )
            .is_empty()
        );
    }

    #[test]
    fn gauge_actions() {
        for (action, want) in [
            ("set", "2"),
            ("inc", "3"),
            ("dec", "-3"),
            ("add", "7"),
            ("sub", "-7"),
        ] {
            let yaml = format!("g: {{type: Gauge, source: v, config: {{action: {action}}}}}");
            let got = run(
                &yaml,
                &[
                    ("a", &[], &[("v", "5")]),
                    ("b", &[], &[("v", "x")]),
                    ("c", &[], &[("v", "2")]),
                ],
            );
            assert_eq!(got, [format!("promtail_custom_g {want}")], "{action}");
        }
    }

    #[test]
    fn gauge_value_filter() {
        let got = run(
            "g: {type: Gauge, source: v, config: {value: up, action: inc}}",
            &[("a", &[], &[("v", "up")]), ("b", &[], &[("v", "down")])],
        );
        assert_eq!(got, ["promtail_custom_g 1"]);
    }

    #[test]
    fn histogram_buckets_and_default_buckets() {
        let got = run(
            "h: {type: Histogram, source: v, config: {buckets: [1, 10]}}",
            &[
                ("a", &[], &[("v", "1")]),
                ("b", &[], &[("v", "5")]),
                ("c", &[], &[("v", "50")]),
                ("d", &[], &[("v", "x")]),
            ],
        );
        assert_eq!(
            got,
            [
                "promtail_custom_h_bucket{le=\"1\"} 1",
                "promtail_custom_h_bucket{le=\"10\"} 2",
                "promtail_custom_h_bucket{le=\"+Inf\"} 3",
                "promtail_custom_h_count 3",
                "promtail_custom_h_sum 56",
            ]
        );
        let got = run(
            "h: {type: Histogram, source: v}",
            &[("a", &[], &[("v", "0.3")])],
        );
        assert_eq!(got.len(), DEFAULT_BUCKETS.len() + 3);
        assert!(got.contains(&"promtail_custom_h_bucket{le=\"0.5\"} 1".to_owned()));
        assert!(got.contains(&"promtail_custom_h_bucket{le=\"0.25\"} 0".to_owned()));
    }

    #[test]
    fn series_labels_leave_out_reserved_names() {
        let got = run(
            "n_total: {type: Counter, config: {match_all: true, action: inc}}",
            &[("a", &[("__path__", "/x"), ("job", "j")], &[])],
        );
        assert_eq!(got, ["promtail_custom_n_total{job=\"j\"} 1"]);
    }

    #[test]
    fn prefix_replaces_the_default() {
        let got = run(
            "lines_total: {type: Counter, prefix: my_, config: {match_all: true, action: inc}}",
            &[("a", &[], &[])],
        );
        assert_eq!(got, ["my_lines_total 1"]);
    }

    #[test]
    fn idle_series_are_removed() {
        let (mut stage, registry) =
            stage("n_total: {type: Counter, max_idle_duration: 2s, config: {match_all: true, action: inc}}")
                .unwrap();
        let mut out = Vec::new();
        stage.process(entry("a", &[("s", "old")], &[]), 0, &mut out);
        stage.process(entry("a", &[("s", "new")], &[]), 5 * SEC, &mut out);
        let vec = &stage.metrics[0].vec;
        vec.prune(6 * SEC);
        let snap = vec.snapshot();
        assert_eq!(snap.metrics.len(), 1);
        assert_eq!(snap.metrics[0].labels, [("s".to_owned(), "new".to_owned())]);
        vec.prune(7 * SEC);
        assert!(vec.snapshot().metrics.is_empty());
        drop(registry);
    }

    #[test]
    fn two_pipelines_share_a_metric_of_the_same_shape() {
        let registry = Registry::new();
        let cfg =
            config("n_total: {type: Counter, config: {match_all: true, action: inc}}").unwrap();
        let mut a = MetricsStage::new(&cfg, &registry).unwrap();
        let mut b = MetricsStage::new(&cfg, &registry).unwrap();
        let mut out = Vec::new();
        a.process(entry("x", &[("job", "a")], &[]), unix_now_ns(), &mut out);
        b.process(entry("x", &[("job", "b")], &[]), unix_now_ns(), &mut out);
        assert_eq!(
            samples(&registry),
            [
                "promtail_custom_n_total{job=\"a\"} 1",
                "promtail_custom_n_total{job=\"b\"} 1"
            ]
        );
        let other = config("n_total: {type: Gauge, config: {action: inc}}").unwrap();
        assert!(MetricsStage::new(&other, &registry).is_err());
    }

    /// case25: the series Promtail 2.8 exposed for the recorded config and
    /// input, compared by family, labels and value.
    #[test]
    fn golden_case25_series() {
        let dir = testkit::shared_dir()
            .join("conformance/golden/promtail-pipelines/case25-metrics-counter");
        let config = std::fs::read_to_string(dir.join("config.yaml")).unwrap();
        let doc: serde_json::Value = yaml_serde::from_str(&config).unwrap();
        let stages = &doc["scrape_configs"][0]["pipeline_stages"];
        let raw: RawMetricsConfig = serde_json::from_value(stages[2]["metrics"].clone()).unwrap();
        let registry = Registry::new();
        let mut stage = MetricsStage::new(&MetricsConfig::new(&raw).unwrap(), &registry).unwrap();
        let input = std::fs::read_to_string(dir.join("input.log")).unwrap();
        let mut out = Vec::new();
        for line in input.lines() {
            // What the case's regex and labels stages leave.
            let mut words = line.split(' ');
            let level = words.next().unwrap_or_default();
            let bytes = words
                .next()
                .filter(|w| w.bytes().all(|b| b.is_ascii_digit()));
            let mut extracted = vec![("level", level)];
            extracted.extend(bytes.map(|b| ("bytes", b)));
            let labels = [("env", "dev"), ("job", "fast-api-logs"), ("level", level)];
            stage.process(entry(line, &labels, &extracted), unix_now_ns(), &mut out);
        }
        let recorded = std::fs::read_to_string(dir.join("metrics.txt")).unwrap();
        let mut counters = Vec::new();
        let mut want: Vec<String> = Vec::new();
        for line in recorded.lines() {
            if let Some(rest) = line.strip_prefix("# TYPE ") {
                if rest.ends_with(" counter") {
                    counters.push(rest.trim_end_matches(" counter").to_owned());
                }
            } else if line.contains("promtail_custom_") && !line.starts_with('#') {
                want.push(line.to_owned());
            }
        }
        let mut got = go_lines(&registry.gather(), |name| {
            // Counters keep the configured name, which the Go client prints.
            counters
                .iter()
                .find(|c| *c == name)
                .cloned()
                .unwrap_or_default()
        });
        want.sort();
        got.sort();
        assert_eq!(got, want);
    }
}
