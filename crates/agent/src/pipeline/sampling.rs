//! The `sampling` stage: keeps each entry with probability `rate` and
//! counts the others as dropped (Promtail 2.9's stage, which 2.8 configs
//! do not have but later ones use).

use std::sync::Arc;

use instrument::{Counter, Family};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::weak;
use super::{PipelineEntry, Stage};

const DEFAULT_REASON: &str = "sampling_stage";

/// The largest 63-bit value: Promtail (after Jaeger's sampler) draws
/// 63-bit numbers and keeps those at or below `rate` times this.
const MAX_RANDOM: u64 = (1 << 63) - 1;

/// The `sampling` stage's options as written, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct RawSamplingConfig {
    /// The share of entries kept, from 0 to 1.
    #[serde(default, deserialize_with = "weak::f64_value")]
    pub(crate) rate: f64,
    /// The `reason` label of the drop counter; `sampling_stage` by default.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) drop_counter_reason: Option<String>,
}

/// Why a `sampling` config is refused; the message is Promtail's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SamplingError {
    /// The rate is outside [0, 1] (as Go's `%f` prints it).
    #[error(
        "sampling stage failed to parse rate,Sampling Rate must be between 0.0 and 1.0, received {0}"
    )]
    Rate(String),
}

/// The `sampling` stage's checked options.
#[derive(Debug, Clone)]
pub struct SamplingConfig {
    /// Draws at or below this keep the entry.
    boundary: u64,
    reason: String,
}

impl SamplingConfig {
    /// Checks `cfg` as Promtail does.
    pub(crate) fn new(cfg: &RawSamplingConfig) -> Result<Self, SamplingError> {
        // NaN fails both comparisons in Go too, and then samples nothing.
        if cfg.rate < 0.0 || cfg.rate > 1.0 {
            return Err(SamplingError::Rate(format!("{:.6}", cfg.rate)));
        }
        let rate = cfg.rate.clamp(0.0, 1.0);
        let reason = match cfg.drop_counter_reason.as_deref() {
            None | Some("") => DEFAULT_REASON.to_owned(),
            Some(r) => r.to_owned(),
        };
        Ok(Self {
            boundary: (MAX_RANDOM as f64 * rate) as u64,
            reason,
        })
    }
}

impl StageOptions for SamplingConfig {
    type Raw = RawSamplingConfig;
    fn from_raw(raw: RawSamplingConfig) -> Result<Self, ConfigError> {
        Ok(Self::new(&raw)?)
    }
    fn from_null() -> Result<Self, ConfigError> {
        Self::from_raw(RawSamplingConfig::default())
    }
}

/// The `sampling` stage.
pub struct SamplingStage {
    boundary: u64,
    rng: StdRng,
    reason: String,
    dropped: Arc<Family<Counter>>,
}

impl SamplingStage {
    /// The stage for `cfg` with a random seed, counting drops in
    /// `dropped`.
    pub fn new(cfg: SamplingConfig, dropped: Arc<Family<Counter>>) -> Self {
        Self::with_rng(cfg, dropped, StdRng::from_os_rng())
    }

    /// As [`SamplingStage::new`], drawing from `rng` (tests seed it).
    pub(crate) fn with_rng(
        cfg: SamplingConfig,
        dropped: Arc<Family<Counter>>,
        rng: StdRng,
    ) -> Self {
        Self {
            boundary: cfg.boundary,
            rng,
            reason: cfg.reason,
            dropped,
        }
    }

    fn is_sampled(&mut self) -> bool {
        // A zero draw is redrawn, so a rate of 0 keeps nothing.
        let draw = loop {
            let v = self.rng.next_u64() >> 1;
            if v != 0 {
                break v;
            }
        };
        self.boundary >= draw
    }
}

impl Stage for SamplingStage {
    fn name(&self) -> &'static str {
        "sampling"
    }

    fn process(&mut self, entry: PipelineEntry, _now_ns: i64, out: &mut Vec<PipelineEntry>) {
        if self.is_sampled() {
            out.push(entry);
        } else {
            self.dropped.with_labels(&[&self.reason]).inc();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::entry::Entry;
    use crate::pipeline::drop::dropped_lines;
    use instrument::Registry;

    /// How many of `n` entries a stage from `yaml` keeps, and the drop
    /// count under `reason`.
    fn run(yaml: &str, seed: u64, n: usize, reason: &str) -> (usize, f64) {
        let raw: RawSamplingConfig = yaml_serde::from_str(yaml).unwrap();
        let cfg = SamplingConfig::new(&raw).unwrap();
        let registry = Registry::new();
        let counter = dropped_lines(&registry).unwrap();
        let mut stage = SamplingStage::with_rng(cfg, counter.clone(), StdRng::seed_from_u64(seed));
        let mut out = Vec::new();
        for _ in 0..n {
            stage.process(PipelineEntry::new(Entry::default()), 0, &mut out);
        }
        (out.len(), counter.with_labels(&[reason]).get())
    }

    #[test]
    fn rate_zero_keeps_nothing_and_one_keeps_all() {
        assert_eq!(run("rate: 0", 1, 100, "sampling_stage"), (0, 100.0));
        assert_eq!(run("rate: 1", 1, 100, "sampling_stage"), (100, 0.0));
    }

    #[test]
    fn a_rate_keeps_about_that_share() {
        for (rate, seed) in [(0.1, 7), (0.5, 8), (0.9, 9)] {
            let (kept, dropped) = run(&format!("rate: {rate}"), seed, 10_000, "sampling_stage");
            let share = kept as f64 / 10_000.0;
            assert!((share - rate).abs() < 0.03, "rate {rate}: kept {share}");
            assert_eq!(kept as f64 + dropped, 10_000.0);
        }
    }

    #[test]
    fn the_same_seed_keeps_the_same_entries() {
        assert_eq!(
            run("rate: 0.3", 42, 1000, "x"),
            run("rate: 0.3", 42, 1000, "x")
        );
    }

    #[test]
    fn drops_are_counted_under_the_reason() {
        let (_, dropped) = run("rate: 0\ndrop_counter_reason: sampled", 1, 5, "sampled");
        assert_eq!(dropped, 5.0);
    }

    #[test]
    fn rates_outside_zero_to_one_are_refused() {
        for (rate, shown) in [("-0.1", "-0.100000"), ("1.5", "1.500000")] {
            let raw: RawSamplingConfig = yaml_serde::from_str(&format!("rate: {rate}")).unwrap();
            let err = SamplingConfig::new(&raw).err().unwrap().to_string();
            assert!(err.contains("between 0.0 and 1.0"), "{err}");
            assert!(err.ends_with(shown), "{err}");
        }
    }
}
