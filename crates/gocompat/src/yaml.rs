//! Config files as Go's yaml.v2 reads them: scalars into Go types (any
//! scalar as a string, YAML 1.1 booleans, `int`s that may be negative,
//! `time.Duration`s, byte sizes in the units notation of Loki's and
//! Prometheus' configs), and whole files read strictly, with errors at
//! `file:line:column` ([`strict_block!`], [`FileError`], [`Messages`]).
//!
//! yaml.v2 turns any scalar into a string when the target wants one (so
//! `max_line_size: 1024` and `retention_period: 0` are fine) and takes YAML
//! 1.1 booleans (`yes`, `off`). The wrappers here accept the same
//! spellings, so a file the Go program reads is never refused for how a
//! value is written.

mod file;

use std::fmt;
use std::time::Duration;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

pub use file::{FileError, Location, Messages, Ties};

#[doc(inline)]
pub use crate::__yaml_strict_block as strict_block;

/// Reads any scalar as its text, the way yaml.v2 fills a Go string, and
/// parses that text with `parse`; `expecting` names the value in type
/// errors ("a duration").
///
/// The parsing happens inside the visitor so that its errors carry the
/// value's line and key path, which YAML deserializers attach only to
/// errors raised while the scalar is being read.
pub fn from_scalar<'de, D, T, E>(
    deserializer: D,
    expecting: &'static str,
    parse: fn(&str) -> Result<T, E>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    E: fmt::Display,
{
    deserializer.deserialize_any(Scalar { expecting, parse })
}

struct Scalar<T, E> {
    expecting: &'static str,
    parse: fn(&str) -> Result<T, E>,
}

impl<T, E: fmt::Display> Scalar<T, E> {
    fn parse<R: de::Error>(&self, text: &str) -> Result<T, R> {
        (self.parse)(text).map_err(R::custom)
    }
}

impl<T, E: fmt::Display> Visitor<'_> for Scalar<T, E> {
    type Value = T;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_str<R: de::Error>(self, v: &str) -> Result<T, R> {
        self.parse(v)
    }
    fn visit_u64<R: de::Error>(self, v: u64) -> Result<T, R> {
        self.parse(&v.to_string())
    }
    fn visit_i64<R: de::Error>(self, v: i64) -> Result<T, R> {
        self.parse(&v.to_string())
    }
    fn visit_f64<R: de::Error>(self, v: f64) -> Result<T, R> {
        self.parse(&v.to_string())
    }
    fn visit_bool<R: de::Error>(self, v: bool) -> Result<T, R> {
        self.parse(&v.to_string())
    }
}

/// A size in bytes with an optional unit (`256KB`, `3MB`, `1024`, `1KiB`):
/// what Loki's `flagext.ByteSize` and Prometheus' `body_size_limit` take.
/// Written as any scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        from_scalar(deserializer, "a size", |text| {
            parse_byte_size(text)
                .map(ByteSize)
                .ok_or_else(|| format!("invalid size {text:?}"))
        })
    }
}

/// Parses a byte size: digits, optional spaces, then a unit in any case,
/// each unit a power of 1024 (`1KB` is 1024 bytes, as are `1k` and
/// `1KiB`; the spelled-out `kilobyte` forms too). The text is compared
/// without regard to case, so `Mb` means megabytes here, never megabits.
/// `None` for anything else or a size past `u64`.
pub fn parse_byte_size(text: &str) -> Option<u64> {
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

/// A boolean as yaml.v2 reads one: YAML 1.2's `true`/`false` and YAML
/// 1.1's `yes`/`no`/`on`/`off`/`y`/`n` in their usual capitalisations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoBool(pub bool);

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

/// A Go `int` that only means something when positive (a limit, a count).
/// A negative value loads, as in Go, and reads as 0, which is what the Go
/// programs' "is it set" checks (`> 0`) make of it too.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoInt(pub usize);

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

/// A Go `time.Duration` as yaml.v2 reads one: a string with Go's
/// `time.ParseDuration` (`500ms`, `1m30s`; no `d` or `w`), a bare number as
/// nanoseconds (`batchwait: 5` is five nanoseconds, not seconds; a float is
/// truncated to whole nanoseconds). Negative durations, which Go accepts,
/// are refused: a [`Duration`] cannot hold one, and no setting read this
/// way means anything by one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GoDuration(pub Duration);

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
                if v.is_finite() && v >= 0.0 && v < u64::MAX as f64 {
                    Ok(GoDuration(Duration::from_nanos(v as u64)))
                } else {
                    Err(E::custom(format!("invalid duration {v}")))
                }
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<GoDuration, E> {
                parse_duration(v).map(GoDuration).map_err(E::custom)
            }
        }
        deserializer.deserialize_any(DurationVisitor)
    }
}

/// Why a text is not a duration [`GoDuration`] takes.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    /// Not a Go duration; holds the text and Go's message.
    #[error("invalid duration {0:?}: {1}")]
    Invalid(String, crate::duration::GoDurationError),
    /// A Go duration below zero.
    #[error("negative duration {0:?}")]
    Negative(String),
    /// A Go duration too long for a [`Duration`].
    #[error("invalid duration {0:?}")]
    OutOfRange(String),
}

/// Parses Go duration text (see [`crate::duration::parse_go_duration`])
/// into a duration that is not negative.
///
/// ```
/// use std::time::Duration;
/// assert_eq!(gocompat::yaml::parse_duration("1m30s"), Ok(Duration::from_secs(90)));
/// assert_eq!(
///     gocompat::yaml::parse_duration("-1s").unwrap_err().to_string(),
///     r#"negative duration "-1s""#,
/// );
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let seconds = crate::duration::parse_go_duration(text)
        .map_err(|e| DurationError::Invalid(text.to_owned(), e))?;
    if seconds < 0.0 {
        return Err(DurationError::Negative(text.to_owned()));
    }
    Duration::try_from_secs_f64(seconds).map_err(|_| DurationError::OutOfRange(text.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes_are_powers_of_1024() {
        for (text, bytes) in [
            ("0", Some(0)),
            ("512", Some(512)),
            ("1024", Some(1024)),
            ("256KB", Some(256 << 10)),
            ("256kb", Some(256 << 10)),
            ("10MB", Some(10 << 20)),
            ("3Mb", Some(3 << 20)),
            ("1KiB", Some(1024)),
            ("1 GiB", Some(1 << 30)),
            ("2megabytes", Some(2 << 20)),
            ("1k", Some(1024)),
            ("KB", None),
            ("MB", None),
            ("1.5MB", None),
            ("-1", None),
            ("1XB", None),
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
    fn ints_below_zero_read_as_zero_and_strings_are_refused() {
        let int = |text: &str| yaml_serde::from_str::<GoInt>(text).map(|i| i.0).ok();
        assert_eq!(int("500"), Some(500));
        assert_eq!(int("-1"), Some(0));
        assert_eq!(int("'500'"), None);
    }

    #[test]
    fn sizes_are_read_from_any_scalar() {
        let size = |text: &str| yaml_serde::from_str::<ByteSize>(text).map(|s| s.0);
        assert_eq!(size("1024").ok(), Some(1024));
        assert_eq!(size("'15MB'").ok(), Some(15 << 20));
        let error = size("256XB").unwrap_err().to_string();
        assert!(error.contains(r#"invalid size "256XB""#), "{error}");
    }

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
        assert_eq!(duration("2.9"), Ok(Duration::from_nanos(2)));
        assert!(duration("'5'").is_err());
        assert!(duration("true").is_err());
    }

    #[test]
    fn duration_messages_name_the_text_and_go_s_reason() {
        let message = |text: &str| duration(text).unwrap_err();
        assert!(
            message("1d")
                .starts_with(r#"invalid duration "1d": time: unknown unit "d" in duration "1d""#),
            "{}",
            message("1d")
        );
        assert!(message("-1s").starts_with(r#"negative duration "-1s""#));
        assert!(message("-5").starts_with("negative duration -5"));
        assert!(message("-5.5").starts_with("invalid duration -5.5"));
    }
}
