//! The metric registry: families of counters, gauges, histograms and
//! summaries, and the snapshots the encoders print.
//!
//! A family owns its children (one per label-value tuple) in creation order,
//! which is the order the Python client prints them in. Lookups of an
//! existing child take a read lock and allocate nothing.

use std::any::Any;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{SystemTime, UNIX_EPOCH};

use indexmap::{Equivalent, IndexMap};

use crate::RegistryError;

/// What kind of metric a family holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// Monotonic count. The Python client's layouts print its samples
    /// with a `_total` suffix; Go's text format prints them under the
    /// family's name as it is.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative buckets, count and sum.
    Histogram,
    /// Count and sum, without quantiles (as the instrumentator uses it).
    Summary,
}

impl MetricKind {
    /// The name of the kind in `# TYPE` lines.
    pub fn as_str(self) -> &'static str {
        match self {
            MetricKind::Counter => "counter",
            MetricKind::Gauge => "gauge",
            MetricKind::Histogram => "histogram",
            MetricKind::Summary => "summary",
        }
    }
}

/// A point-in-time copy of one family, what the encoders print.
#[derive(Debug, Clone, PartialEq)]
pub struct FamilySnapshot {
    /// The family name as the program named it; a counter's may end in
    /// `_total` or not. The Python client's layouts print a counter under
    /// the name without `_total` (samples `<base>_total`), as
    /// `prometheus_client` strips it; Go's client prints the name as it
    /// is (a counter `x_sum` stays `x_sum`).
    pub name: String,
    /// The help text.
    pub help: String,
    /// The kind of every metric in the family.
    pub kind: MetricKind,
    /// The children, in creation order (Go's layout sorts them).
    pub metrics: Vec<MetricSnapshot>,
}

/// One child of a family.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricSnapshot {
    /// Label pairs in the family's label-name order (the encoders sort
    /// them by name).
    pub labels: Vec<(String, String)>,
    /// The value.
    pub value: MetricValue,
    /// When the child was created, in Unix seconds (`_created` series).
    pub created: Option<f64>,
}

/// The value of one child.
#[derive(Debug, Clone, PartialEq)]
pub enum MetricValue {
    /// A counter or gauge value.
    Single(f64),
    /// Histogram: `(upper bound, cumulative count)` ending with `+Inf`.
    Histogram {
        /// Cumulative buckets.
        buckets: Vec<(f64, u64)>,
        /// Number of observations.
        count: u64,
        /// Sum of observations.
        sum: f64,
    },
    /// Summary without quantiles.
    Summary {
        /// Number of observations.
        count: u64,
        /// Sum of observations.
        sum: f64,
    },
}

/// Anything that can add families to a scrape: the registry's own families,
/// and collectors that compute values at scrape time (process metrics).
pub trait Collector: Send + Sync {
    /// Appends this collector's families to `out`.
    fn collect(&self, out: &mut Vec<FamilySnapshot>);
}

/// A collector and the family names it claims.
struct Registered {
    names: Vec<String>,
    collector: Arc<dyn Collector>,
    /// The same collector as its concrete type, when it was registered
    /// through [`Registry::shared`], so a later call can hand it back.
    shared: Option<Arc<dyn Any + Send + Sync>>,
}

/// A set of collectors, gathered in registration order.
#[derive(Default)]
pub struct Registry {
    collectors: RwLock<Vec<Registered>>,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a collector; `names` are the family names it produces, checked
    /// against the ones already registered.
    pub fn register(
        &self,
        names: &[&str],
        collector: Arc<dyn Collector>,
    ) -> Result<(), RegistryError> {
        let mut collectors = self
            .collectors
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        for name in names {
            if collectors.iter().any(|r| r.names.iter().any(|t| t == name)) {
                return Err(RegistryError::Duplicate((*name).to_owned()));
            }
        }
        collectors.push(Registered {
            names: names.iter().map(|n| (*n).to_owned()).collect(),
            collector,
            shared: None,
        });
        Ok(())
    }

    /// The collector registered before under `name` through this method,
    /// or a new one from `make`, registered under `name`.
    ///
    /// Several users share one family this way, as Prometheus' Go client
    /// lets a second registration reuse the first (`AlreadyRegisteredError`):
    /// every Promtail pipeline stage that drops lines counts them in the one
    /// `logentry_dropped_lines_total`. A name taken by a collector of
    /// another type, or registered through [`Registry::register`], is a
    /// [`RegistryError::Duplicate`].
    pub fn shared<T: Collector + 'static>(
        &self,
        name: &str,
        make: impl FnOnce() -> Result<T, RegistryError>,
    ) -> Result<Arc<T>, RegistryError> {
        let mut collectors = self
            .collectors
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(found) = collectors
            .iter()
            .find(|r| r.names.iter().any(|n| n == name))
        {
            return found
                .shared
                .clone()
                .and_then(|any| any.downcast::<T>().ok())
                .ok_or_else(|| RegistryError::Duplicate(name.to_owned()));
        }
        let collector = Arc::new(make()?);
        collectors.push(Registered {
            names: vec![name.to_owned()],
            collector: collector.clone(),
            shared: Some(collector.clone()),
        });
        Ok(collector)
    }

    /// The counter family registered under `name` by an earlier call, or a
    /// new one (see [`Registry::shared`]); `name` may end in `_total`.
    pub fn shared_counter(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<Arc<Family<Counter>>, RegistryError> {
        self.shared(counter_key(name), || {
            Family::new(name, help, label_names, ())
        })
    }

    /// Registers and returns a counter family. `name` may end in `_total`:
    /// the family keeps it as given (Go's layout prints it so), and it is
    /// registered under the name without `_total`, so `x` and `x_total`
    /// are the one family they are for the Python client.
    pub fn counter(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<Arc<Family<Counter>>, RegistryError> {
        let family = Family::new(name, help, label_names, ())?;
        self.add_family(counter_key(name), family)
    }

    /// Registers and returns a gauge family.
    pub fn gauge(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<Arc<Family<Gauge>>, RegistryError> {
        self.add_family(name, Family::new(name, help, label_names, ())?)
    }

    /// Registers and returns a histogram family; `+Inf` is appended to the
    /// bounds when missing.
    pub fn histogram(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
        bounds: &[f64],
    ) -> Result<Arc<Family<Histogram>>, RegistryError> {
        if label_names.contains(&"le") {
            return Err(RegistryError::ReservedLabel("le".into()));
        }
        let mut bounds = bounds.to_vec();
        if bounds.is_empty()
            || bounds.windows(2).any(|w| w[0] >= w[1])
            || bounds.iter().any(|b| b.is_nan())
        {
            return Err(RegistryError::Buckets(name.to_owned()));
        }
        if bounds.last() != Some(&f64::INFINITY) {
            bounds.push(f64::INFINITY);
        }
        let family = Family::new(name, help, label_names, Arc::from(bounds))?;
        self.add_family(name, family)
    }

    /// Registers and returns a summary family (count and sum only).
    pub fn summary(
        &self,
        name: &str,
        help: &str,
        label_names: &[&str],
    ) -> Result<Arc<Family<Summary>>, RegistryError> {
        if label_names.contains(&"quantile") {
            return Err(RegistryError::ReservedLabel("quantile".into()));
        }
        self.add_family(name, Family::new(name, help, label_names, ())?)
    }

    /// Registers `family` under the name `key`.
    fn add_family<M: Metric>(
        &self,
        key: &str,
        family: Family<M>,
    ) -> Result<Arc<Family<M>>, RegistryError> {
        let family = Arc::new(family);
        self.register(&[key], family.clone())?;
        Ok(family)
    }

    /// Snapshots every family, in registration order.
    pub fn gather(&self) -> Vec<FamilySnapshot> {
        let collectors = self
            .collectors
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        let mut out = Vec::new();
        for registered in collectors.iter() {
            registered.collector.collect(&mut out);
        }
        out
    }
}

/// A metric type that can live in a [`Family`].
pub trait Metric: Send + Sync + 'static {
    /// Per-family settings every child needs (histogram bounds).
    type Config: Clone + Send + Sync;
    /// The kind printed in `# TYPE`.
    const KIND: MetricKind;
    /// A zeroed metric.
    fn new(config: &Self::Config) -> Self;
    /// The current value.
    fn value(&self, config: &Self::Config) -> MetricValue;
    /// Whether children carry a `_created` timestamp (counters, histograms
    /// and summaries do in the Python client; gauges do not).
    const HAS_CREATED: bool = true;
}

struct Child<M> {
    metric: Arc<M>,
    created: f64,
}

/// All children of one metric name, keyed by label values.
pub struct Family<M: Metric> {
    name: String,
    help: String,
    label_names: Vec<String>,
    config: M::Config,
    // foldhash: label lookups run on every request, and SipHash's DoS
    // resistance buys nothing for values the app's own routes produce.
    children: RwLock<IndexMap<Box<[String]>, Child<M>, foldhash::fast::RandomState>>,
}

/// Borrowed label values that hash and compare like the owned key, so a
/// lookup needs no allocation.
struct ValuesRef<'a>(&'a [&'a str]);

impl Hash for ValuesRef<'_> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        // `[&str]` and `[String]` hash identically: length, then each str.
        self.0.hash(state);
    }
}

impl Equivalent<Box<[String]>> for ValuesRef<'_> {
    fn equivalent(&self, key: &Box<[String]>) -> bool {
        key.len() == self.0.len() && key.iter().zip(self.0).all(|(a, b)| a == b)
    }
}

impl<M: Metric> Family<M> {
    fn new(
        name: &str,
        help: &str,
        label_names: &[&str],
        config: M::Config,
    ) -> Result<Self, RegistryError> {
        if !model::is_valid_metric_name(name) {
            return Err(RegistryError::InvalidName(name.to_owned()));
        }
        for label in label_names {
            if !model::is_valid_label_name(label) || label.starts_with("__") {
                return Err(RegistryError::InvalidLabelName((*label).to_owned()));
            }
        }
        Ok(Self {
            name: name.to_owned(),
            help: help.to_owned(),
            label_names: label_names.iter().map(|l| (*l).to_owned()).collect(),
            config,
            children: RwLock::new(IndexMap::default()),
        })
    }

    /// The child for these label values, created on first use.
    ///
    /// # Panics
    /// When the number of values differs from the number of label names:
    /// that is a bug in the caller, like a wrong argument count.
    pub fn with_labels(&self, values: &[&str]) -> Arc<M> {
        assert_eq!(
            values.len(),
            self.label_names.len(),
            "metric {} takes labels {:?}",
            self.name,
            self.label_names
        );
        let key = ValuesRef(values);
        if let Some(child) = self
            .children
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return child.metric.clone();
        }
        let mut children = self
            .children
            .write()
            .unwrap_or_else(PoisonError::into_inner);
        let owned: Box<[String]> = values.iter().map(|v| (*v).to_owned()).collect();
        children
            .entry(owned)
            .or_insert_with(|| Child {
                metric: Arc::new(M::new(&self.config)),
                created: unix_now(),
            })
            .metric
            .clone()
    }

    /// The family name as registered (a counter's may end in `_total`).
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl<M: Metric> Collector for Family<M> {
    fn collect(&self, out: &mut Vec<FamilySnapshot>) {
        let children = self.children.read().unwrap_or_else(PoisonError::into_inner);
        let metrics = children
            .iter()
            .map(|(values, child)| MetricSnapshot {
                labels: self
                    .label_names
                    .iter()
                    .cloned()
                    .zip(values.iter().cloned())
                    .collect(),
                value: child.metric.value(&self.config),
                created: M::HAS_CREATED.then_some(child.created),
            })
            .collect();
        out.push(FamilySnapshot {
            name: self.name.clone(),
            help: self.help.clone(),
            kind: M::KIND,
            metrics,
        });
    }
}

/// The name a counter is registered under: without `_total`, as the
/// Python client keys it.
fn counter_key(name: &str) -> &str {
    name.strip_suffix("_total").unwrap_or(name)
}

fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// An `f64` updated atomically through its bit pattern.
#[derive(Default)]
struct AtomicF64(AtomicU64);

impl AtomicF64 {
    fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    fn set(&self, value: f64) {
        self.0.store(value.to_bits(), Ordering::Relaxed);
    }

    fn add(&self, delta: f64) {
        // The closure always returns Some, so the update cannot fail.
        let _ = self
            .0
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |bits| {
                Some((f64::from_bits(bits) + delta).to_bits())
            });
    }
}

/// A monotonic counter.
#[derive(Default)]
pub struct Counter(AtomicF64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.add(1.0);
    }

    /// Adds `delta`; negative or NaN deltas are ignored, since a counter
    /// never goes down.
    pub fn inc_by(&self, delta: f64) {
        if delta >= 0.0 {
            self.0.add(delta);
        }
    }

    /// The current count.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl Metric for Counter {
    type Config = ();
    const KIND: MetricKind = MetricKind::Counter;
    fn new(_: &()) -> Self {
        Self::default()
    }
    fn value(&self, _: &()) -> MetricValue {
        MetricValue::Single(self.get())
    }
}

/// A value that goes up and down.
#[derive(Default)]
pub struct Gauge(AtomicF64);

impl Gauge {
    /// Sets the value.
    pub fn set(&self, value: f64) {
        self.0.set(value);
    }
    /// Adds one.
    pub fn inc(&self) {
        self.0.add(1.0);
    }
    /// Subtracts one.
    pub fn dec(&self) {
        self.0.add(-1.0);
    }
    /// The current value.
    pub fn get(&self) -> f64 {
        self.0.get()
    }
}

impl Metric for Gauge {
    type Config = ();
    const KIND: MetricKind = MetricKind::Gauge;
    const HAS_CREATED: bool = false;
    fn new(_: &()) -> Self {
        Self::default()
    }
    fn value(&self, _: &()) -> MetricValue {
        MetricValue::Single(self.get())
    }
}

/// Observations counted into fixed buckets.
pub struct Histogram {
    // One lock keeps buckets, count and sum consistent with each other in
    // every scrape; it is uncontended in practice.
    state: Mutex<HistogramState>,
}

struct HistogramState {
    per_bucket: Vec<u64>,
    count: u64,
    sum: f64,
}

impl Histogram {
    /// Records one observation; `bounds` are the family's (see
    /// [`Family::with_labels`]), so callers use [`Family::observe`].
    fn observe_with(&self, bounds: &[f64], value: f64) {
        let index = bounds
            .iter()
            .position(|b| value <= *b)
            .unwrap_or(bounds.len() - 1);
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.per_bucket[index] += 1;
        state.count += 1;
        state.sum += value;
    }
}

impl Family<Histogram> {
    /// Records `value` in the child with these label values.
    pub fn observe(&self, values: &[&str], value: f64) {
        self.with_labels(values).observe_with(&self.config, value);
    }
}

impl Metric for Histogram {
    type Config = Arc<[f64]>;
    const KIND: MetricKind = MetricKind::Histogram;
    fn new(bounds: &Arc<[f64]>) -> Self {
        Self {
            state: Mutex::new(HistogramState {
                per_bucket: vec![0; bounds.len()],
                count: 0,
                sum: 0.0,
            }),
        }
    }
    fn value(&self, bounds: &Arc<[f64]>) -> MetricValue {
        let state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        let mut cumulative = 0;
        let buckets = bounds
            .iter()
            .zip(&state.per_bucket)
            .map(|(bound, n)| {
                cumulative += n;
                (*bound, cumulative)
            })
            .collect();
        MetricValue::Histogram {
            buckets,
            count: state.count,
            sum: state.sum,
        }
    }
}

/// Count and sum of observations.
#[derive(Default)]
pub struct Summary {
    state: Mutex<(u64, f64)>,
}

impl Summary {
    /// Records one observation.
    pub fn observe(&self, value: f64) {
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        state.0 += 1;
        state.1 += value;
    }
}

impl Metric for Summary {
    type Config = ();
    const KIND: MetricKind = MetricKind::Summary;
    fn new(_: &()) -> Self {
        Self::default()
    }
    fn value(&self, _: &()) -> MetricValue {
        let (count, sum) = *self.state.lock().unwrap_or_else(PoisonError::into_inner);
        MetricValue::Summary { count, sum }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn children_keep_creation_order_and_are_reused() {
        let registry = Registry::new();
        let family = registry.counter("c_total", "help", &["a"]).unwrap();
        family.with_labels(&["z"]).inc();
        family.with_labels(&["a"]).inc();
        family.with_labels(&["z"]).inc_by(2.0);
        let snap = &registry.gather()[0];
        assert_eq!(snap.name, "c_total");
        let values: Vec<_> = snap
            .metrics
            .iter()
            .map(|m| (m.labels[0].1.as_str(), m.value.clone()))
            .collect();
        assert_eq!(
            values,
            [
                ("z", MetricValue::Single(3.0)),
                ("a", MetricValue::Single(1.0))
            ]
        );
    }

    #[test]
    fn histogram_buckets_are_cumulative_and_le_inclusive() {
        let registry = Registry::new();
        let h = registry
            .histogram("h", "help", &[], &[0.1, 0.5, 1.0])
            .unwrap();
        for v in [0.05, 0.1, 0.3, 2.0] {
            h.observe(&[], v);
        }
        let MetricValue::Histogram {
            buckets,
            count,
            sum,
        } = &registry.gather()[0].metrics[0].value
        else {
            panic!("not a histogram");
        };
        assert_eq!(buckets, &[(0.1, 2), (0.5, 3), (1.0, 3), (f64::INFINITY, 4)]);
        assert_eq!(*count, 4);
        assert!((sum - 2.45).abs() < 1e-9);
    }

    #[test]
    fn registration_errors() {
        let registry = Registry::new();
        registry.counter("x_total", "h", &[]).unwrap();
        assert!(matches!(
            registry.gauge("x", "h", &[]),
            Err(RegistryError::Duplicate(_))
        ));
        // `x` and `x_total` are one counter to the Python client.
        assert!(matches!(
            registry.counter("x", "h", &[]),
            Err(RegistryError::Duplicate(_))
        ));
        assert!(matches!(
            registry.gauge("1x", "h", &[]),
            Err(RegistryError::InvalidName(_))
        ));
        assert!(matches!(
            registry.gauge("y", "h", &["__a"]),
            Err(RegistryError::InvalidLabelName(_))
        ));
        assert!(matches!(
            registry.histogram("h", "h", &["le"], &[1.0]),
            Err(RegistryError::ReservedLabel(_))
        ));
        assert!(matches!(
            registry.histogram("h", "h", &[], &[2.0, 1.0]),
            Err(RegistryError::Buckets(_))
        ));
    }

    #[test]
    fn gauges_have_no_created_timestamp() {
        let registry = Registry::new();
        registry
            .gauge("g", "h", &[])
            .unwrap()
            .with_labels(&[])
            .set(2.0);
        registry
            .counter("c", "h", &[])
            .unwrap()
            .with_labels(&[])
            .inc();
        let snaps = registry.gather();
        assert_eq!(snaps[0].metrics[0].created, None);
        assert!(snaps[1].metrics[0].created.is_some());
    }

    #[test]
    fn shared_families_are_registered_once() {
        let registry = Registry::new();
        let a = registry
            .shared_counter("d_total", "h", &["reason"])
            .unwrap();
        let b = registry
            .shared_counter("d_total", "h", &["reason"])
            .unwrap();
        a.with_labels(&["x"]).inc();
        b.with_labels(&["x"]).inc();
        assert_eq!(registry.gather().len(), 1);
        assert_eq!(a.with_labels(&["x"]).get(), 2.0);
    }

    #[test]
    fn a_shared_name_taken_otherwise_is_a_duplicate() {
        let registry = Registry::new();
        registry.counter("c_total", "h", &[]).unwrap();
        assert!(matches!(
            registry.shared_counter("c_total", "h", &[]),
            Err(RegistryError::Duplicate(_))
        ));
        registry.shared_counter("g", "h", &[]).unwrap();
        assert!(matches!(
            registry.shared("g", || Family::<Gauge>::new("g", "h", &[], ())),
            Err(RegistryError::Duplicate(_))
        ));
    }

    #[test]
    fn counters_ignore_negative_increments() {
        let c = Counter::default();
        c.inc_by(-1.0);
        c.inc_by(f64::NAN);
        c.inc_by(0.5);
        assert_eq!(c.get(), 0.5);
    }
}
