//! The `sampling` stage: keeps each entry with probability `rate` and
//! counts the others as dropped (Promtail 2.9's stage, which 2.8 configs
//! do not have but later ones use).

use std::sync::Arc;

use instrument::{Counter, Family};
use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};
use serde::Deserialize;

use super::weak;
use super::{PipelineEntry, Stage};

const DEFAULT_REASON: &str = "sampling_stage";

/// The largest 63-bit value: Promtail (after Jaeger's sampler) draws
/// 63-bit numbers and keeps those at or below `rate` times this.
const MAX_RANDOM: u64 = (1 << 63) - 1;

/// The `sampling` stage's config, keys as Promtail's.
#[derive(Debug, Clone, Default, Deserialize)]
pub(crate) struct SamplingConfig {
    /// The share of entries kept, from 0 to 1.
    #[serde(default, deserialize_with = "weak::f64_value")]
    pub(crate) rate: f64,
    /// The `reason` label of the drop counter; `sampling_stage` by default.
    #[serde(default, deserialize_with = "weak::opt_string")]
    pub(crate) drop_counter_reason: Option<String>,
}

/// Why a `sampling` config is refused; the message is Promtail's.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SamplingError {
    /// The rate is outside [0, 1].
    #[error(
        "sampling stage failed to parse rate,Sampling Rate must be between 0.0 and 1.0, received {0:.6}"
    )]
    Rate(f64),
}

/// The `sampling` stage.
pub(crate) struct SamplingStage {
    boundary: u64,
    rng: StdRng,
    reason: String,
    dropped: Arc<Family<Counter>>,
}

impl SamplingStage {
    /// Checks `cfg` and builds the stage with a random seed.
    pub(crate) fn new(
        cfg: &SamplingConfig,
        dropped: Arc<Family<Counter>>,
    ) -> Result<Self, SamplingError> {
        Self::with_rng(cfg, dropped, StdRng::from_os_rng())
    }

    /// As [`SamplingStage::new`], drawing from `rng` (tests seed it).
    pub(crate) fn with_rng(
        cfg: &SamplingConfig,
        dropped: Arc<Family<Counter>>,
        rng: StdRng,
    ) -> Result<Self, SamplingError> {
        // NaN fails both comparisons in Go too, and then samples nothing.
        if cfg.rate < 0.0 || cfg.rate > 1.0 {
            return Err(SamplingError::Rate(cfg.rate));
        }
        let rate = cfg.rate.clamp(0.0, 1.0);
        let reason = match cfg.drop_counter_reason.as_deref() {
            None | Some("") => DEFAULT_REASON.to_owned(),
            Some(r) => r.to_owned(),
        };
        Ok(Self {
            boundary: (MAX_RANDOM as f64 * rate) as u64,
            rng,
            reason,
            dropped,
        })
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
        let cfg: SamplingConfig = yaml_serde::from_str(yaml).unwrap();
        let registry = Registry::new();
        let counter = dropped_lines(&registry).unwrap();
        let mut stage =
            SamplingStage::with_rng(&cfg, counter.clone(), StdRng::seed_from_u64(seed)).unwrap();
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
        let registry = Registry::new();
        let counter = dropped_lines(&registry).unwrap();
        for rate in ["-0.1", "1.5"] {
            let cfg: SamplingConfig = yaml_serde::from_str(&format!("rate: {rate}")).unwrap();
            let err = SamplingStage::new(&cfg, counter.clone()).err().unwrap();
            assert!(err.to_string().contains("between 0.0 and 1.0"), "{err}");
        }
    }
}
