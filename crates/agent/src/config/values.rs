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
    let seconds = model::go_duration::parse_go_duration(text)
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
                    if !model::algebra::is_valid_label_name(&name.0) {
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

// ---------------------------------------------------------------------
// Until the shared Go-YAML scalar readers land (`gocompat::yaml`), the
// three this file needs; replaced by a `use` when they do.
// ---------------------------------------------------------------------

/// A boolean as yaml.v2 reads one (`true`, `yes`, `off`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GoBool(pub(crate) bool);

impl<'de> Deserialize<'de> for GoBool {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BoolVisitor;
        impl Visitor<'_> for BoolVisitor {
            type Value = GoBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a boolean")
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<GoBool, E> {
                Ok(GoBool(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoBool, E> {
                match v.to_ascii_lowercase().as_str() {
                    "y" | "yes" | "on" | "true" => Ok(GoBool(true)),
                    "n" | "no" | "off" | "false" => Ok(GoBool(false)),
                    _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(BoolVisitor)
    }
}

/// A Go `int` setting; negative values read as 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GoInt(pub(crate) usize);

impl<'de> Deserialize<'de> for GoInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let n = i128::deserialize(deserializer)?;
        Ok(GoInt(usize::try_from(n.max(0)).unwrap_or(usize::MAX)))
    }
}

/// A duration in Prometheus notation (`5m`, `1d`), as Prometheus'
/// `model.Duration` settings take it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PromDuration(pub(crate) Duration);

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        from_scalar(deserializer, "a duration", |text| {
            model::duration::parse_duration(text)
                .map(PromDuration)
                .map_err(|_| format!("invalid duration {text:?}"))
        })
    }
}

/// A byte size (`256KB`, `1024`), powers of 1024.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteSize(pub(crate) u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        from_scalar(deserializer, "a size", |text| {
            let digits = text.bytes().take_while(u8::is_ascii_digit).count();
            let shift = match text[digits..].trim().to_ascii_lowercase().as_str() {
                "" | "b" => Some(0),
                "k" | "kb" | "kib" => Some(10),
                "m" | "mb" | "mib" => Some(20),
                "g" | "gb" | "gib" => Some(30),
                _ => None,
            };
            text[..digits]
                .parse::<u64>()
                .ok()
                .zip(shift)
                .and_then(|(n, shift)| n.checked_mul(1 << shift))
                .map(ByteSize)
                .ok_or_else(|| format!("invalid size {text:?}"))
        })
    }
}

/// Reads any scalar as its text and parses it inside the visitor, so that
/// the error carries the value's line.
pub(crate) fn from_scalar<'de, D: Deserializer<'de>, T>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<T, D::Error> {
    struct Scalar<T>(&'static str, fn(&str) -> Result<T, String>);
    impl<T> Visitor<'_> for Scalar<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str(self.0)
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
            (self.1)(v).map_err(E::custom)
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
            self.visit_str(&v.to_string())
        }
    }
    deserializer.deserialize_any(Scalar(expecting, parse))
}

/// `-config.expand-env`: placeholder until `gocompat::env` lands.
pub(crate) fn expand(
    text: &str,
    _lookup: &dyn Fn(&str) -> Option<String>,
) -> Result<String, (usize, String)> {
    Ok(text.to_owned())
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
