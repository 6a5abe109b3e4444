//! Scalar types of prometheus.yml that need their own parsing: durations,
//! byte sizes, label names and regexes.

use std::fmt;
use std::time::Duration;

use regex::Regex;
use serde::{Deserialize, Deserializer, de};

/// A duration written in Prometheus notation (`15s`, `1m30s`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct PromDuration(pub Duration);

impl<'de> Deserialize<'de> for PromDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        model::duration::parse_duration(&text)
            .map(PromDuration)
            .map_err(de::Error::custom)
    }
}

impl fmt::Display for PromDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&model::duration::format_duration(self.0))
    }
}

/// A size with a 1024-based unit (`10MB`, `512KiB`, `0`), as
/// `body_size_limit` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ByteSize(pub u64);

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        parse_byte_size(&text)
            .map(ByteSize)
            .ok_or_else(|| de::Error::custom(format!("invalid size {text:?}")))
    }
}

fn parse_byte_size(text: &str) -> Option<u64> {
    let digits = text.bytes().take_while(u8::is_ascii_digit).count();
    let number: u64 = text.get(..digits)?.parse().ok()?;
    let unit = text[digits..].trim().to_ascii_uppercase();
    let shift = match unit.as_str() {
        "" | "B" => 0,
        "KB" | "KIB" | "K" => 10,
        "MB" | "MIB" | "M" => 20,
        "GB" | "GIB" | "G" => 30,
        "TB" | "TIB" | "T" => 40,
        "PB" | "PIB" | "P" => 50,
        "EB" | "EIB" | "E" => 60,
        _ => return None,
    };
    number.checked_mul(1u64.checked_shl(shift)?)
}

/// Whether `name` is a valid label name in the classic character set.
pub fn is_valid_label_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// A relabeling regex: anchored as `^(?:…)$` (without the `s` flag that
/// label matchers get), and kept with its source text for printing.
#[derive(Debug, Clone)]
pub struct RelabelRegex {
    source: String,
    compiled: Regex,
}

impl RelabelRegex {
    /// Compiles `source` anchored.
    pub fn new(source: &str) -> Result<Self, regex::Error> {
        Ok(Self {
            source: source.to_owned(),
            compiled: Regex::new(&format!("^(?:{source})$"))?,
        })
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The anchored, compiled pattern.
    pub fn regex(&self) -> &Regex {
        &self.compiled
    }
}

impl Default for RelabelRegex {
    fn default() -> Self {
        Self::new("(.*)").expect("the default relabel regex compiles")
    }
}

impl PartialEq for RelabelRegex {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl<'de> Deserialize<'de> for RelabelRegex {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        RelabelRegex::new(&text)
            .map_err(|e| de::Error::custom(format!("invalid regex {text:?}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!(parse_byte_size("0"), Some(0));
        assert_eq!(parse_byte_size("512"), Some(512));
        assert_eq!(parse_byte_size("10MB"), Some(10 << 20));
        assert_eq!(parse_byte_size("1KiB"), Some(1024));
        assert_eq!(parse_byte_size("1XB"), None);
        assert_eq!(parse_byte_size("MB"), None);
        assert_eq!(parse_byte_size("99999999999EB"), None);
    }

    #[test]
    fn relabel_regexes_are_anchored_without_dotall() {
        let re = RelabelRegex::new("a.b").unwrap();
        assert!(re.regex().is_match("axb"));
        assert!(!re.regex().is_match("xaxb"));
        assert!(!re.regex().is_match("a\nb"));
        assert!(RelabelRegex::new("a|b").unwrap().regex().is_match("b"));
    }
}
