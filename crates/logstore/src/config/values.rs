//! Scalars of loki-config.yaml that need their own parsing: Prometheus
//! durations, byte sizes and booleans, read as leniently as Loki's YAML
//! decoder reads them.
//!
//! Loki decodes its config with Go's yaml.v2, which turns any scalar into a
//! string when the target wants one (so `max_line_size: 1024` and
//! `retention_period: 0` are fine) and takes YAML 1.1 booleans (`yes`,
//! `off`). The wrappers here accept the same spellings, so a file Loki
//! reads is never refused for how a value is written.

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A duration in Prometheus notation (`168h`, `1d`, `0`): what Loki's
/// `model.Duration` limits take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PromDuration(pub(crate) Duration);

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Scalar("a duration", |text| {
            model::duration::parse_duration(text)
                .map(PromDuration)
                .map_err(|_| format!("invalid duration {text:?}"))
        }))
    }
}

/// A size in bytes with an optional unit (`256KB`, `3MB`, `1024`): what
/// Loki's `flagext.ByteSize` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ByteSize(pub(crate) u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(Scalar("a size", |text| {
            parse_byte_size(text)
                .map(ByteSize)
                .ok_or_else(|| format!("invalid size {text:?}"))
        }))
    }
}

/// A boolean as yaml.v2 reads one: YAML 1.2's `true`/`false` and YAML
/// 1.1's `yes`/`no`/`on`/`off` in their usual capitalisations.
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
                match v {
                    "y" | "Y" | "yes" | "Yes" | "YES" | "on" | "On" | "ON" | "true" | "True"
                    | "TRUE" => Ok(GoBool(true)),
                    "n" | "N" | "no" | "No" | "NO" | "off" | "Off" | "OFF" | "false" | "False"
                    | "FALSE" => Ok(GoBool(false)),
                    _ => Err(E::invalid_type(de::Unexpected::Str(v), &self)),
                }
            }
        }
        deserializer.deserialize_any(BoolVisitor)
    }
}

/// An integer limit. Loki's are Go `int`s, so a negative value loads; no
/// limit vigil reads means anything below zero, so it reads as 0, which is
/// what Loki's "is it set" checks (`> 0`) make of it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct GoInt(pub(crate) usize);

impl<'de> Deserialize<'de> for GoInt {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct IntVisitor;
        impl Visitor<'_> for IntVisitor {
            type Value = GoInt;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<GoInt, E> {
                Ok(GoInt(usize::try_from(v).unwrap_or(usize::MAX)))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<GoInt, E> {
                Ok(GoInt(usize::try_from(v).unwrap_or(0)))
            }
        }
        deserializer.deserialize_any(IntVisitor)
    }
}

/// Reads any scalar as its text, the way yaml.v2 fills a Go string, and
/// parses that text. The parsing happens inside the visitor so that its
/// errors carry the value's line and key path, which yaml_serde attaches
/// only to errors raised while the scalar is being read.
struct Scalar<T>(&'static str, fn(&str) -> Result<T, String>);

impl<T> Scalar<T> {
    fn parse<E: de::Error>(&self, text: &str) -> Result<T, E> {
        (self.1)(text).map_err(E::custom)
    }
}

impl<T> Visitor<'_> for Scalar<T> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        self.parse(v)
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.parse(&v.to_string())
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.parse(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.parse(&v.to_string())
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.parse(&v.to_string())
    }
}

/// Parses a byte size as Loki does: digits, optional spaces, then a unit
/// in any case, each unit a power of 1024 (`1KB` is 1024 bytes, as are
/// `1k` and `1KiB`). Loki upper-cases the text first, so `Mb` means
/// megabytes here too, never megabits.
pub(crate) fn parse_byte_size(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    if digits == 0 {
        return None;
    }
    let number: u64 = text[..digits].parse().ok()?;
    let unit = text[digits..].trim().to_ascii_lowercase();
    let shift = match unit.as_str() {
        "" | "b" | "byte" => 0,
        "k" | "kb" | "kib" | "kilo" | "kilobyte" | "kilobytes" => 10,
        "m" | "mb" | "mib" | "mega" | "megabyte" | "megabytes" => 20,
        "g" | "gb" | "gib" | "giga" | "gigabyte" | "gigabytes" => 30,
        "t" | "tb" | "tib" | "tera" | "terabyte" | "terabytes" => 40,
        "p" | "pb" | "pib" | "peta" | "petabyte" | "petabytes" => 50,
        "e" | "eb" | "eib" | "exa" | "exabyte" | "exabytes" => 60,
        _ => return None,
    };
    number.checked_mul(1u64 << shift)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_are_powers_of_1024() {
        for (text, bytes) in [
            ("0", Some(0)),
            ("1024", Some(1024)),
            ("256KB", Some(256 << 10)),
            ("256kb", Some(256 << 10)),
            ("3MB", Some(3 << 20)),
            ("3Mb", Some(3 << 20)),
            ("1 GiB", Some(1 << 30)),
            ("2megabytes", Some(2 << 20)),
            ("1k", Some(1024)),
            ("KB", None),
            ("1.5MB", None),
            ("-1", None),
            ("12XB", None),
            ("99999999999EB", None),
        ] {
            assert_eq!(parse_byte_size(text), bytes, "{text}");
        }
    }

    #[test]
    fn booleans_take_yaml_1_1_spellings() {
        let read = |text: &str| yaml_serde::from_str::<GoBool>(text).map(|b| b.0).ok();
        assert_eq!(read("true"), Some(true));
        assert_eq!(read("yes"), Some(true));
        assert_eq!(read("Off"), Some(false));
        assert_eq!(read("maybe"), None);
        assert_eq!(read("1"), None);
    }

    #[test]
    fn durations_and_sizes_take_bare_numbers() {
        let duration = |text: &str| yaml_serde::from_str::<PromDuration>(text).map(|d| d.0).ok();
        assert_eq!(duration("0"), Some(Duration::ZERO));
        assert_eq!(duration("1w"), Some(Duration::from_secs(7 * 86_400)));
        assert_eq!(duration("168"), None);
        let int = |text: &str| yaml_serde::from_str::<GoInt>(text).map(|i| i.0).ok();
        assert_eq!(int("500"), Some(500));
        assert_eq!(int("-1"), Some(0));
        assert_eq!(int("'500'"), None);
        let size = |text: &str| yaml_serde::from_str::<ByteSize>(text).map(|s| s.0).ok();
        assert_eq!(size("1024"), Some(1024));
        assert_eq!(size("'15MB'"), Some(15 << 20));
    }
}
