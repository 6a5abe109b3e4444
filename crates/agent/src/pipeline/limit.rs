//! The `limit` stage: a token bucket (`rate` per second, `burst`) that
//! either drops what exceeds it or makes the pipeline wait, optionally one
//! bucket per value of a label.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use instrument::{Counter, Family, Registry, RegistryError};
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::weak;
use super::{PipelineEntry, Stage};

/// The `reason` the drop counter gets for entries over the limit.
const DROP_REASON: &str = "ratelimit_drop_stage";

/// Promtail raises `max_distinct_labels` to this: one bucket is ~80
/// bytes, so the map stays around a megabyte.
const MIN_DISTINCT_LABELS: usize = 10_000;

/// The `limit` stage's options as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawLimitConfig {
    /// Entries per second.
    #[serde(default, deserialize_with = "weak::f64_value")]
    pub(crate) rate: f64,
    /// How many entries may pass at once.
    #[serde(default, deserialize_with = "weak::i64_value")]
    pub(crate) burst: i64,
    /// Drop what exceeds the limit instead of waiting.
    #[serde(default, deserialize_with = "weak::bool_value")]
    pub(crate) drop: bool,
    /// One bucket per value of this label (needs `drop: true`).
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) by_label_name: Option<String>,
    /// How many label values keep a bucket (at least 10000).
    #[serde(default, deserialize_with = "weak::i64_value")]
    pub(crate) max_distinct_labels: i64,
}

/// Why a `limit` config is refused; messages are Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LimitError {
    /// `rate` or `burst` is not positive.
    #[error("limit stage failed to parse rate or burst")]
    RateOrBurst,
    /// `by_label_name` without `drop: true`.
    #[error("When ratelimiting by label, drop must be true")]
    ByLabelMustDrop,
}

/// The `limit` stage's checked options.
#[derive(Debug, Clone)]
pub struct LimitConfig {
    rate: f64,
    burst: f64,
    drop: bool,
    by_label_name: Option<String>,
    max_distinct_labels: usize,
}

impl LimitConfig {
    /// Checks `cfg` as Promtail does; `max_distinct_labels` is raised to
    /// 10000 as Promtail raises it.
    pub(crate) fn new(cfg: &RawLimitConfig) -> Result<Self, LimitError> {
        if cfg.rate <= 0.0 || cfg.burst <= 0 {
            return Err(LimitError::RateOrBurst);
        }
        let by_label_name = cfg.by_label_name.clone().filter(|n| !n.is_empty());
        if by_label_name.is_some() && !cfg.drop {
            return Err(LimitError::ByLabelMustDrop);
        }
        Ok(Self {
            rate: cfg.rate,
            burst: cfg.burst as f64,
            drop: cfg.drop,
            by_label_name,
            max_distinct_labels: usize::try_from(cfg.max_distinct_labels)
                .unwrap_or(0)
                .max(MIN_DISTINCT_LABELS),
        })
    }
}

impl StageOptions for LimitConfig {
    type Raw = RawLimitConfig;
    fn from_raw(raw: RawLimitConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(&raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawLimitConfig::default())
    }
}

/// How the stage waits for a token when it does not drop: the real one
/// sleeps the thread (back-pressure on the tailer); tests record.
pub(crate) trait Pause: Send {
    /// Blocks for `d`.
    fn pause(&mut self, d: Duration);
}

/// Sleeps the calling thread.
pub(crate) struct Sleep;

impl Pause for Sleep {
    fn pause(&mut self, d: Duration) {
        std::thread::sleep(d);
    }
}

/// A token bucket as golang.org/x/time/rate keeps it: full at the start,
/// refilled at `rate` per second up to `burst`; a wait reserves a token
/// ahead, so the count may go below zero.
#[derive(Debug, Clone)]
struct Bucket {
    rate: f64,
    burst: f64,
    tokens: f64,
    last_ns: Option<i64>,
}

impl Bucket {
    fn new(rate: f64, burst: f64) -> Self {
        Self {
            rate,
            burst,
            tokens: burst,
            last_ns: None,
        }
    }

    /// The tokens there would be at `now_ns`.
    fn advance(&self, now_ns: i64) -> f64 {
        let Some(last) = self.last_ns else {
            return self.burst;
        };
        // Time going backwards refills nothing.
        let elapsed = (now_ns.saturating_sub(last)).max(0) as f64 / 1e9;
        (self.tokens + elapsed * self.rate).min(self.burst)
    }

    /// Takes a token if one is there now.
    fn allow(&mut self, now_ns: i64) -> bool {
        let tokens = self.advance(now_ns) - 1.0;
        if tokens < 0.0 {
            return false;
        }
        self.tokens = tokens;
        self.last_ns = Some(now_ns.max(self.last_ns.unwrap_or(i64::MIN)));
        true
    }

    /// Takes a token, possibly ahead of time; how long to wait for it.
    fn reserve(&mut self, now_ns: i64) -> Duration {
        let tokens = self.advance(now_ns) - 1.0;
        self.tokens = tokens;
        self.last_ns = Some(now_ns.max(self.last_ns.unwrap_or(i64::MIN)));
        if tokens < 0.0 {
            // A tiny rate makes the wait longer than a Duration holds: it
            // is then endless (the token never comes), never a panic.
            Duration::try_from_secs_f64(-tokens / self.rate).unwrap_or(Duration::MAX)
        } else {
            Duration::ZERO
        }
    }
}

/// Buckets per label value, keeping only the recently used ones: when the
/// new generation fills up it becomes the old one (Loki's
/// `GenerationalMap`), and the by-label drop counts are reset.
struct Generations {
    max: usize,
    new: HashMap<String, Bucket>,
    old: HashMap<String, Bucket>,
}

impl Generations {
    /// Runs `f` on the bucket of `value` (found in either generation, or
    /// made by `make`); also says whether the generations turned over.
    fn with_bucket<R>(
        &mut self,
        value: &str,
        make: impl FnOnce() -> Bucket,
        f: impl FnOnce(&mut Bucket) -> R,
    ) -> (R, bool) {
        if let Some(bucket) = self.new.get_mut(value) {
            return (f(bucket), false);
        }
        let mut bucket = self.old.remove(value).unwrap_or_else(make);
        let result = f(&mut bucket);
        self.new.insert(value.to_owned(), bucket);
        let rotated = self.new.len() >= self.max;
        if rotated {
            self.old = std::mem::take(&mut self.new);
        }
        (result, rotated)
    }
}

enum Mode {
    /// One bucket; wait or drop.
    Single { bucket: Bucket, drop: bool },
    /// One bucket per value of a label; always drops.
    ByLabel {
        name: String,
        buckets: Generations,
        dropped_by_label: Arc<ByLabelCounter>,
    },
}

/// `logentry_dropped_lines_by_label_total{label_name, label_value}`, which
/// Promtail resets whenever the bucket generations turn over.
pub(crate) type ByLabelCounter = super::metrics::ResettableCounter;

/// The `limit` stage.
pub struct LimitStage {
    mode: Mode,
    rate: f64,
    burst: f64,
    dropped: Arc<Family<Counter>>,
    /// The `reason` its drops are counted under.
    reason: &'static str,
    pause: Box<dyn Pause>,
}

impl LimitStage {
    /// The stage for `cfg`: it counts drops in `dropped` (and, by label,
    /// in `registry`'s `logentry_dropped_lines_by_label_total`) and waits
    /// by sleeping.
    pub fn new(
        cfg: &LimitConfig,
        registry: &Registry,
        dropped: Arc<Family<Counter>>,
    ) -> Result<Self, RegistryError> {
        Self::with_pause(cfg, registry, dropped, Box::new(Sleep))
    }

    /// As [`LimitStage::new`], waiting through `pause`.
    pub(crate) fn with_pause(
        cfg: &LimitConfig,
        registry: &Registry,
        dropped: Arc<Family<Counter>>,
        pause: Box<dyn Pause>,
    ) -> Result<Self, RegistryError> {
        let mode = match &cfg.by_label_name {
            None => Mode::Single {
                bucket: Bucket::new(cfg.rate, cfg.burst),
                drop: cfg.drop,
            },
            Some(name) => Mode::ByLabel {
                name: name.clone(),
                buckets: Generations {
                    max: cfg.max_distinct_labels,
                    new: HashMap::new(),
                    old: HashMap::new(),
                },
                dropped_by_label: super::metrics::ResettableCounter::shared(
                    registry,
                    "logentry_dropped_lines_by_label_total",
                    "A count of all log lines dropped as a result of a pipeline stage",
                    &["label_name", "label_value"],
                )?,
            },
        };
        Ok(Self {
            mode,
            rate: cfg.rate,
            burst: cfg.burst,
            dropped,
            reason: DROP_REASON,
            pause,
        })
    }

    /// Promtail's `limits_config.readline_rate`: one limiter shared by
    /// every job, applied after their stages, that waits or (with
    /// `readline_rate_drop`) drops, counting `global_rate_limiter_drop`.
    pub fn readline(rate: f64, burst: usize, drop: bool, dropped: Arc<Family<Counter>>) -> Self {
        let burst = burst as f64;
        Self {
            mode: Mode::Single {
                bucket: Bucket::new(rate, burst),
                drop,
            },
            rate,
            burst,
            dropped,
            reason: "global_rate_limiter_drop",
            pause: Box::new(Sleep),
        }
    }

    /// Whether the entry passes; waits first when the stage waits.
    fn admit(&mut self, e: &PipelineEntry, now_ns: i64) -> bool {
        let (rate, burst) = (self.rate, self.burst);
        match &mut self.mode {
            Mode::Single { bucket, drop: true } => bucket.allow(now_ns),
            Mode::Single {
                bucket,
                drop: false,
            } => {
                let wait = bucket.reserve(now_ns);
                if !wait.is_zero() {
                    self.pause.pause(wait);
                }
                true
            }
            Mode::ByLabel {
                name,
                buckets,
                dropped_by_label,
            } => {
                // Entries without the label are not limited.
                let Some(value) = e.entry.labels.get(name.as_str()) else {
                    return true;
                };
                let (allowed, rotated) =
                    buckets.with_bucket(value, || Bucket::new(rate, burst), |b| b.allow(now_ns));
                if rotated {
                    dropped_by_label.reset();
                }
                if !allowed {
                    dropped_by_label.inc(&[name.as_str(), value.as_str()]);
                }
                allowed
            }
        }
    }
}

impl Stage for LimitStage {
    fn name(&self) -> &'static str {
        "limit"
    }

    fn process(&mut self, entry: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if self.admit(&entry, now_ns) {
            out.push(entry);
        } else {
            self.dropped.with_labels(&[self.reason]).inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::pipeline::drop::dropped_lines;
    use std::sync::Mutex;

    const SEC: i64 = 1_000_000_000;

    /// Records the waits instead of sleeping.
    struct Recorder(Arc<Mutex<Vec<Duration>>>);
    impl Pause for Recorder {
        fn pause(&mut self, d: Duration) {
            self.0.lock().unwrap().push(d);
        }
    }

    struct Run {
        stage: LimitStage,
        registry: Registry,
        waits: Arc<Mutex<Vec<Duration>>>,
    }

    fn build(yaml: &str) -> Result<Run, String> {
        let raw: RawLimitConfig = yaml_serde::from_str(yaml).map_err(|e| e.to_string())?;
        let cfg = LimitConfig::new(&raw).map_err(|e| e.to_string())?;
        let registry = Registry::new();
        let waits = Arc::new(Mutex::new(Vec::new()));
        let dropped = dropped_lines(&registry).map_err(|e| e.to_string())?;
        let stage =
            LimitStage::with_pause(&cfg, &registry, dropped, Box::new(Recorder(waits.clone())))
                .map_err(|e| e.to_string())?;
        Ok(Run {
            stage,
            registry,
            waits,
        })
    }

    fn entry(labels: &[(&str, &str)]) -> PipelineEntry {
        let mut e = Entry::default();
        for (k, v) in labels {
            e.labels.insert((*k).to_owned(), (*v).to_owned());
        }
        PipelineEntry::new(e)
    }

    /// Which of the entries at the given times (labels `app=<app>`) pass.
    fn passes(run: &mut Run, at: &[(i64, &str)]) -> Vec<bool> {
        at.iter()
            .map(|(t, app)| {
                let mut out = Vec::new();
                let labels: &[(&str, &str)] = if app.is_empty() { &[] } else { &[("app", app)] };
                run.stage.process(entry(labels), *t, &mut out);
                out.len() == 1
            })
            .collect()
    }

    #[test]
    fn config_errors_are_promtails() {
        for (yaml, want) in [
            ("burst: 1", "failed to parse rate or burst"),
            ("rate: 1", "failed to parse rate or burst"),
            ("rate: -1\nburst: 1", "failed to parse rate or burst"),
            ("rate: 1\nburst: 1\nby_label_name: app", "drop must be true"),
        ] {
            let err = build(yaml).err().unwrap_or_default();
            assert!(err.contains(want), "{yaml}: {err}");
        }
    }

    #[test]
    fn a_wait_too_long_for_a_duration_is_endless_not_a_panic() {
        // `Duration::from_secs_f64` panicked on a wait of 1e300 s.
        let mut run = build("rate: 1e-300\nburst: 1").unwrap();
        assert_eq!(passes(&mut run, &[(0, ""), (0, "")]), [true, true]);
        assert_eq!(*run.waits.lock().unwrap(), [Duration::MAX]);
    }

    #[test]
    fn drop_lets_the_burst_through_then_the_rate() {
        let mut run = build("rate: 1\nburst: 2\ndrop: true").unwrap();
        let got = passes(
            &mut run,
            &[(0, ""), (0, ""), (0, ""), (0, ""), (SEC, ""), (SEC, "")],
        );
        assert_eq!(got, [true, true, false, false, true, false]);
        let dropped = dropped_lines(&run.registry).unwrap();
        assert_eq!(dropped.with_labels(&[DROP_REASON]).get(), 3.0);
    }

    #[test]
    fn the_bucket_refills_up_to_the_burst() {
        let mut run = build("rate: 10\nburst: 3\ndrop: true").unwrap();
        let mut at = vec![(0, ""); 3];
        at.extend([(100 * SEC, ""); 4]);
        let got = passes(&mut run, &at);
        assert_eq!(got, [true, true, true, true, true, true, false]);
    }

    #[test]
    fn without_drop_the_stage_waits_for_each_token() {
        let mut run = build("rate: 2\nburst: 1").unwrap();
        let got = passes(&mut run, &[(0, ""), (0, ""), (0, "")]);
        assert_eq!(got, [true, true, true]);
        assert_eq!(
            *run.waits.lock().unwrap(),
            [Duration::from_millis(500), Duration::from_millis(1000)]
        );
        let dropped = dropped_lines(&run.registry).unwrap();
        assert_eq!(dropped.with_labels(&[DROP_REASON]).get(), 0.0);
    }

    #[test]
    fn by_label_keeps_a_bucket_per_value() {
        let mut run = build("rate: 1\nburst: 1\ndrop: true\nby_label_name: app").unwrap();
        let got = passes(&mut run, &[(0, "a"), (0, "b"), (0, "a"), (0, ""), (0, "")]);
        assert_eq!(got, [true, true, false, true, true]);
        let text = instrument::exposition::encode_text(&run.registry.gather());
        assert!(
            text.contains(
                "logentry_dropped_lines_by_label_total{label_name=\"app\",label_value=\"a\"} 1"
            ),
            "{text}"
        );
    }

    #[test]
    fn generations_forget_buckets_unused_for_two_turnovers() {
        let mut gens = Generations {
            max: 2,
            new: HashMap::new(),
            old: HashMap::new(),
        };
        let make = || Bucket::new(1.0, 1.0);
        let tokens = |gens: &mut Generations, v: &str| gens.with_bucket(v, make, |b| b.tokens);
        assert!(!tokens(&mut gens, "a").1);
        gens.with_bucket("a", make, |b| b.tokens = 0.0);
        // "b" fills the new generation: both move to the old one.
        assert!(tokens(&mut gens, "b").1);
        // "a" is found in the old generation and keeps its state.
        assert_eq!(tokens(&mut gens, "a"), (0.0, false));
        assert!(tokens(&mut gens, "c").1);
        assert!(!tokens(&mut gens, "d").1);
        assert!(tokens(&mut gens, "e").1);
        // "a" was in neither generation any more: a fresh, full bucket.
        assert_eq!(tokens(&mut gens, "a").0, 1.0);
    }

    #[test]
    fn max_distinct_labels_has_a_floor() {
        let run =
            build("rate: 1\nburst: 1\ndrop: true\nby_label_name: app\nmax_distinct_labels: 5")
                .unwrap();
        let Mode::ByLabel { buckets, .. } = &run.stage.mode else {
            panic!("not by label");
        };
        assert_eq!(buckets.max, MIN_DISTINCT_LABELS);
    }
}
