//! Scalars of promtail-config.yaml that Promtail reads with Go's yaml.v2
//! into Go types: `time.Duration`, strings, label sets.
//!
//! yaml.v2 fills a `time.Duration` from a string with Go's
//! `time.ParseDuration` (`500ms`, `1m30s`; no `d` or `w`) and from a bare
//! number as nanoseconds: `batchwait: 5` is five nanoseconds, not
//! seconds. A Go string takes any scalar as written (`tenant_id: 42`), and
//! a Prometheus label set refuses names outside `[a-zA-Z_][a-zA-Z0-9_]*`
//! and reads a missing value as the empty string.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, Visitor};

use crate::entry::LabelSet;

/// A Go `time.Duration` as yaml.v2 reads one. Negative durations, which
/// Go accepts and no Promtail setting means anything by, are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GoDuration(pub(crate) Duration);

impl<'de> Deserialize<'de> for GoDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct DurationVisitor;
        impl Visitor<'_> for DurationVisitor {
            type Value = GoDuration;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a duration")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoDuration, E> {
                Ok(GoDuration(Duration::from_nanos(v)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoDuration, E> {
                u64::try_from(v)
                    .map(|ns| GoDuration(Duration::from_nanos(ns)))
                    .map_err(|_| E::custom(format!("negative duration {v}")))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<GoDuration, E> {
                // yaml.v2 truncates a float to whole nanoseconds.
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(GoDuration(Duration::from_nanos(v as u64)))
                } else {
                    Err(E::custom(format!("invalid duration {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                parse_go_duration(v).map(GoDuration).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Parses Go duration text into a non-negative duration.
pub(crate) fn parse_go_duration(text: &str) -> Result<Duration, String> {
    let seconds = gocompat::duration::parse_go_duration(text)
        .map_err(|e| format!("invalid duration {text:?}: {e}"))?;
    if seconds < 0.0 {
        return Err(format!("negative duration {text:?}"));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| format!("invalid duration {text:?}"))
}

/// A Go string: any scalar, as written; a missing value is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct GoString(pub(crate) String);

impl<'de> Deserialize<'de> for GoString {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // yaml_serde hands a plain scalar to a `String` as its text
        // (`1.50` stays `1.50`), which is what yaml.v2 does.
        Option::<String>::deserialize(deserializer).map(|s| GoString(s.unwrap_or_default()))
    }
}

/// A Prometheus label set (`model.LabelSet`): names checked, values any
/// scalar, a missing value empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LabelMap(pub(crate) LabelSet);

impl<'de> Deserialize<'de> for LabelMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct MapVisitor;
        impl<'de> Visitor<'de> for MapVisitor {
            type Value = LabelMap;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping of label names to values")
            }
            fn visit_unit<E: de::Error>(self) -> Result<LabelMap, E> {
                Ok(LabelMap::default())
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LabelMap, A::Error> {
                let mut labels = LabelSet::new();
                while let Some(name) = map.next_key::<GoString>()? {
                    let value = map.next_value::<GoString>()?;
                    if !model::is_valid_label_name(&name.0) {
                        return Err(de::Error::custom(format!(
                            "{:?} is not a valid label name",
                            name.0
                        )));
                    }
                    labels.insert(name.0, value.0);
                }
                Ok(LabelMap(labels))
            }
        }
        deserializer.deserialize_any(MapVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn duration(text: &str) -> Result<Duration, String> {
        yaml_serde::from_str::<GoDuration>(text)
            .map(|d| d.0)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn durations_read_as_yaml_v2_reads_time_duration() {
        assert_eq!(duration("1s"), Ok(Duration::from_secs(1)));
        assert_eq!(duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(duration("1m30s"), Ok(Duration::from_secs(90)));
        assert_eq!(duration("0"), Ok(Duration::ZERO));
        // A bare number is nanoseconds.
        assert_eq!(duration("5"), Ok(Duration::from_nanos(5)));
        assert!(duration("'5'").is_err());
        assert!(duration("1d").is_err());
        assert!(duration("-1s").is_err());
        assert!(duration("true").is_err());
    }

    #[test]
    fn label_maps_check_names_and_keep_empty_values() {
        let read = |text: &str| yaml_serde::from_str::<LabelMap>(text).map(|m| m.0);
        let labels = read("{a: 1, b: , c: x}").unwrap();
        assert_eq!(labels["a"], "1");
        assert_eq!(labels["b"], "");
        assert!(read("{1a: x}").is_err());
        assert!(read("{a-b: x}").is_err());
    }
}
