//! The `timestamp` stage: the entry's time parsed from an extracted value,
//! with Promtail's formats, fallbacks, time zone and failure actions.
//!
//! Formats, as Promtail 2.8's `convertDateLayout` has them: the names
//! `ANSIC`, `UnixDate`, `RubyDate`, `RFC822`, `RFC822Z`, `RFC850`,
//! `RFC1123`, `RFC1123Z`, `RFC3339`, `RFC3339Nano` (parsed as Go's
//! `time.Parse` does, without `location`), `Unix` (with an optional
//! fraction), `UnixMs`, `UnixUs`, `UnixNs`, and anything else as a Go
//! layout, in `location` when one is set. Other Go constant names
//! (`Kitchen`, `Stamp`, …) are not among them: Promtail reads those as
//! literal layouts, and so does vigil. A layout without `06` (so without a
//! year) gets the current year, moved across New Year when the month and
//! the current month are December and January.

use std::collections::HashMap;

use serde::Deserialize;

use super::config::{ConfigError, StageOptions};
use super::value::get_string;
use super::{PipelineEntry, Stage};
use crate::entry::LabelSet;
use gocompat::time::Fields;

/// What to do when the value is missing or does not parse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionOnFailure {
    /// Keep the entry's time.
    Skip,
    /// The last good time of the same labels plus 1ns (Promtail's default).
    Fudge,
}

/// `timestamp: {source, format, fallback_formats, location, action_on_failure}`.
#[derive(Debug, Clone)]
pub struct TimestampConfig {
    /// The extracted name holding the time.
    pub source: String,
    /// The formats in the order they are tried: `format`, then
    /// `fallback_formats`.
    pub formats: Vec<Format>,
    /// The time zone for layouts without an offset.
    pub location: Option<jiff::tz::TimeZone>,
    /// On failure.
    pub action_on_failure: ActionOnFailure,
}

/// One way to read a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Format {
    /// Seconds, optionally with a fraction (`1562708916.000000123`).
    Unix,
    /// Milliseconds.
    UnixMs,
    /// Microseconds.
    UnixUs,
    /// Nanoseconds.
    UnixNs,
    /// A Go layout.
    Layout {
        /// The layout (a predefined name already replaced by its layout).
        layout: String,
        /// Whether `location` applies (custom layouts only).
        in_location: bool,
        /// The layout has no year: the current one is used.
        yearless: bool,
    },
}

impl Format {
    /// The format a config names.
    pub fn named(name: &str) -> Self {
        match name {
            "Unix" => return Format::Unix,
            "UnixMs" => return Format::UnixMs,
            "UnixUs" => return Format::UnixUs,
            "UnixNs" => return Format::UnixNs,
            _ => {}
        }
        if let Some(layout) = PROMTAIL_NAMES
            .contains(&name)
            .then(|| gocompat::time::named_layout(name))
            .flatten()
        {
            return Format::Layout {
                layout: layout.to_owned(),
                in_location: false,
                yearless: false,
            };
        }
        Format::Layout {
            layout: name.to_owned(),
            in_location: true,
            // Promtail's test: neither "06" nor "2006" in it.
            yearless: !name.contains("06"),
        }
    }
}

/// The Go layout names Promtail 2.8 reads (a subset of Go's).
const PROMTAIL_NAMES: [&str; 10] = [
    "ANSIC",
    "UnixDate",
    "RubyDate",
    "RFC822",
    "RFC822Z",
    "RFC850",
    "RFC1123",
    "RFC1123Z",
    "RFC3339",
    "RFC3339Nano",
];

/// The options as written.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct RawTimestampConfig {
    #[serde(default)]
    source: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    fallback_formats: Vec<String>,
    #[serde(default)]
    location: Option<String>,
    #[serde(default)]
    action_on_failure: Option<String>,
}

impl TimestampConfig {
    /// Checks the options as Promtail does; `location` is an IANA zone
    /// name, looked up in the system's time zone database.
    pub fn new(
        source: &str,
        format: &str,
        fallback_formats: &[String],
        location: Option<&str>,
        action_on_failure: Option<&str>,
    ) -> Result<Self, ConfigError> {
        if source.is_empty() {
            return Err(ConfigError::Invalid(
                "timestamp source value is required if timestamp is specified",
            ));
        }
        if format.is_empty() {
            return Err(ConfigError::Invalid("timestamp format is required"));
        }
        let location = location.map(load_location).transpose()?;
        let action_on_failure = match action_on_failure {
            None | Some("fudge") => ActionOnFailure::Fudge,
            Some("skip") => ActionOnFailure::Skip,
            Some(_) => return Err(ConfigError::ActionOnFailure),
        };
        let formats = std::iter::once(format)
            .chain(fallback_formats.iter().map(String::as_str))
            .map(Format::named)
            .collect();
        Ok(Self {
            source: source.to_owned(),
            formats,
            location,
            action_on_failure,
        })
    }
}

/// Go's `time.LoadLocation`: `""` and `UTC` are UTC, `Local` the
/// machine's zone, anything else a zone of the database.
fn load_location(name: &str) -> Result<jiff::tz::TimeZone, ConfigError> {
    match name {
        "" | "UTC" => Ok(jiff::tz::TimeZone::UTC),
        "Local" => Ok(jiff::tz::TimeZone::system()),
        _ => jiff::tz::TimeZone::get(name)
            .map_err(|_| ConfigError::Location(format!("unknown time zone {name}"))),
    }
}

impl StageOptions for TimestampConfig {
    type Raw = RawTimestampConfig;
    fn from_raw(raw: RawTimestampConfig) -> Result<Self, ConfigError> {
        Self::new(
            &raw.source,
            &raw.format,
            &raw.fallback_formats,
            raw.location.as_deref(),
            raw.action_on_failure.as_deref(),
        )
    }
    fn from_null() -> Result<Self, ConfigError> {
        Err(ConfigError::Invalid(
            "timestamp stage config cannot be empty",
        ))
    }
}

/// How many label sets the fudge action remembers (Promtail's LRU size).
const MAX_LAST_KNOWN: usize = 10_000;

/// The built stage.
#[derive(Debug)]
pub struct TimestampStage {
    cfg: TimestampConfig,
    /// The last time set per label set, for `fudge`.
    last_known: HashMap<u64, i64>,
    /// Insertion order of `last_known`, to evict the oldest.
    order: std::collections::VecDeque<u64>,
}

impl TimestampStage {
    /// The stage for `cfg`.
    pub fn new(cfg: TimestampConfig) -> Self {
        Self {
            cfg,
            last_known: HashMap::new(),
            order: std::collections::VecDeque::new(),
        }
    }

    fn remember(&mut self, key: u64, ts: i64) {
        if self.last_known.insert(key, ts).is_none() {
            self.order.push_back(key);
            if self.order.len() > MAX_LAST_KNOWN {
                if let Some(old) = self.order.pop_front() {
                    self.last_known.remove(&old);
                }
            }
        }
    }

    /// The value parsed with the first format that reads it.
    fn parse(&self, value: &str, now_ns: i64) -> Option<i64> {
        self.cfg
            .formats
            .iter()
            .find_map(|f| parse_with(f, value, self.cfg.location.as_ref(), now_ns))
    }
}

/// The key fudge remembers times under: Promtail uses the label set's
/// text; a hash of the label set tells the same sets apart without
/// building that text for every entry.
fn labels_key(labels: &LabelSet) -> u64 {
    use std::hash::{Hash, Hasher};
    // Runs for every entry: a multiply-rotate hash taking eight bytes a
    // step (as rustc's FxHash) costs a fraction of SipHash. A collision (as
    // with any 64-bit hash) only fudges from another stream's last time.
    struct Fx(u64);
    impl Fx {
        fn add(&mut self, word: u64) {
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
    impl Hasher for Fx {
        fn finish(&self) -> u64 {
            self.0
        }
        fn write(&mut self, bytes: &[u8]) {
            let mut chunks = bytes.chunks_exact(8);
            for chunk in &mut chunks {
                let mut word = [0u8; 8];
                word.copy_from_slice(chunk);
                self.add(u64::from_le_bytes(word));
            }
            let rest = chunks.remainder();
            if !rest.is_empty() {
                let mut word = [0u8; 8];
                word[..rest.len()].copy_from_slice(rest);
                // The length keeps "a" and "a\0" apart.
                self.add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 59));
            }
        }
    }
    let mut h = Fx(0);
    labels.hash(&mut h);
    h.finish()
}

impl Stage for TimestampStage {
    fn name(&self) -> &'static str {
        "timestamp"
    }

    fn process(&mut self, mut e: PipelineEntry, now_ns: i64, out: &mut Vec<PipelineEntry>) {
        let parsed = e
            .extracted
            .get(&self.cfg.source)
            .and_then(get_string)
            .and_then(|v| self.parse(&v, now_ns));
        match (parsed, self.cfg.action_on_failure) {
            (Some(ts), ActionOnFailure::Fudge) => {
                e.entry.ts_ns = ts;
                self.remember(labels_key(&e.entry.labels), ts);
            }
            (Some(ts), ActionOnFailure::Skip) => e.entry.ts_ns = ts,
            (None, ActionOnFailure::Fudge) => {
                let key = labels_key(&e.entry.labels);
                // Before any success there is nothing to fudge from.
                if let Some(last) = self.last_known.get(&key).copied() {
                    e.entry.ts_ns = last.saturating_add(1);
                    self.remember(key, e.entry.ts_ns);
                }
            }
            (None, ActionOnFailure::Skip) => {}
        }
        out.push(e);
    }
}

/// Reads `value` with one format; None when it does not parse, or parses
/// to a time outside what ns in an i64 hold (years 1678 to 2262).
fn parse_with(
    format: &Format,
    value: &str,
    location: Option<&jiff::tz::TimeZone>,
    now_ns: i64,
) -> Option<i64> {
    match format {
        Format::Unix => parse_unix(value),
        Format::UnixMs => value.parse::<i64>().ok().map(|v| v.wrapping_mul(1_000_000)),
        Format::UnixUs => value.parse::<i64>().ok().map(|v| v.wrapping_mul(1_000)),
        Format::UnixNs => value.parse::<i64>().ok(),
        Format::Layout {
            layout,
            in_location,
            yearless,
        } => {
            let location = location.filter(|_| *in_location);
            if !*yearless && location.is_none() {
                // The common case: the value's offset, or UTC.
                return gocompat::time::parse(layout, value).ok();
            }
            let mut fields = gocompat::time::parse_fields(layout, value).ok()?;
            if *yearless {
                // A year in the value of a year-less layout is an error.
                if fields.year.is_some_and(|y| y != 0) {
                    return None;
                }
                let (now_year, now_month) = year_month(now_ns);
                fields.year = Some(match (fields.month, now_month) {
                    (12, 1) => now_year - 1,
                    (1, 12) => now_year + 1,
                    _ => now_year,
                });
            }
            resolve(&fields, location)
        }
    }
}

/// `Unix`: integer seconds, or seconds and a fraction when there is
/// exactly one dot (the fraction scaled as Promtail does, through a
/// float64).
fn parse_unix(value: &str) -> Option<i64> {
    if value.matches('.').count() == 1 {
        let (sec, frac) = value.split_once('.')?;
        let secs: i64 = sec.parse().ok()?;
        let frac_value: i64 = frac.parse().ok()?;
        let exp = 9 - i32::try_from(frac.len()).ok()?;
        // Go: int64(float64(frac) * math.Pow(10, 9-len)).
        let nanos = (frac_value as f64 * 10f64.powi(exp)) as i64;
        return secs.checked_mul(1_000_000_000)?.checked_add(nanos);
    }
    value.parse::<i64>().ok()?.checked_mul(1_000_000_000)
}

/// The year and month (1-12) of a time in UTC.
fn year_month(ts_ns: i64) -> (i64, u32) {
    let ts =
        jiff::Timestamp::from_nanosecond(i128::from(ts_ns)).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = jiff::tz::TimeZone::UTC.to_datetime(ts);
    (i64::from(dt.year()), u32::try_from(dt.month()).unwrap_or(1))
}

/// The instant of `parts`: a numeric offset wins; an abbreviation is
/// looked up in the location (Go's `lookupName`), and counts as UTC when
/// unknown (as Go's fabricated zero-offset zone, on a UTC host); without a
/// zone the time is civil time in the location, or UTC.
fn resolve(parts: &Fields, location: Option<&jiff::tz::TimeZone>) -> Option<i64> {
    // Go's default year, for layouts with "06" in them but no year element.
    let year = parts.year.unwrap_or(0);
    let civil = jiff::civil::DateTime::new(
        i16::try_from(year).ok()?,
        i8::try_from(parts.month).ok()?,
        i8::try_from(parts.day).ok()?,
        i8::try_from(parts.hour).ok()?,
        i8::try_from(parts.minute).ok()?,
        i8::try_from(parts.second).ok()?,
        i32::try_from(parts.nanos).ok()?,
    )
    .ok()?;
    let utc_offset = |offset: i32| -> Option<i64> {
        let off = jiff::tz::Offset::from_seconds(offset).ok()?;
        let ts = off.to_timestamp(civil).ok()?;
        ts_to_ns(ts)
    };
    match (parts.offset, parts.zone_name.as_deref(), location) {
        (Some(o), _, _) => utc_offset(o),
        (None, None, None) => utc_offset(0),
        (None, None, Some(tz)) => ts_to_ns(tz.to_ambiguous_timestamp(civil).compatible().ok()?),
        (None, Some(name), Some(tz)) => {
            let amb = tz.to_ambiguous_timestamp(civil);
            let candidates = [amb.earlier().ok(), amb.later().ok()];
            let found = candidates
                .into_iter()
                .flatten()
                .find(|ts| tz.to_offset_info(*ts).abbreviation() == name);
            match found {
                Some(ts) => ts_to_ns(ts),
                None => utc_offset(0),
            }
        }
        (None, Some(_), None) => utc_offset(0),
    }
}

fn ts_to_ns(ts: jiff::Timestamp) -> Option<i64> {
    i64::try_from(ts.as_nanosecond()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs a stage over `(labels value, ts value)` entries read at
    /// `now`; the times they leave with.
    fn times(cfg: TimestampConfig, entries: &[(&str, Option<&str>)], now: i64) -> Vec<i64> {
        let mut stage = TimestampStage::new(cfg);
        let mut out = Vec::new();
        for (job, ts) in entries {
            let mut e = crate::pipeline::testing::entry("x");
            e.entry.labels.insert("job".into(), (*job).into());
            e.entry.ts_ns = now;
            if let Some(ts) = ts {
                e.extracted
                    .insert("ts".into(), serde_json::Value::String((*ts).into()));
            }
            stage.process(e, now, &mut out);
        }
        out.iter().map(|e| e.entry.ts_ns).collect()
    }

    fn config(format: &str, location: Option<&str>, action: Option<&str>) -> TimestampConfig {
        TimestampConfig::new("ts", format, &[], location, action).expect("valid")
    }

    #[test]
    fn fudge_is_the_last_time_of_the_same_labels_plus_1ns() {
        let got = times(
            config("Unix", None, None),
            &[
                ("a", Some("bad")),
                ("a", Some("10")),
                ("a", Some("bad")),
                ("b", None),
                ("a", None),
            ],
            7,
        );
        assert_eq!(got, [7, 10_000_000_000, 10_000_000_001, 7, 10_000_000_002]);
    }

    #[test]
    fn skip_keeps_the_read_time() {
        let got = times(
            config("Unix", None, Some("skip")),
            &[("a", Some("10")), ("a", Some("bad"))],
            7,
        );
        assert_eq!(got, [10_000_000_000, 7]);
    }

    #[test]
    fn fallback_formats_are_tried_in_order() {
        let cfg =
            TimestampConfig::new("ts", "RFC3339", &["UnixMs".into()], None, None).expect("valid");
        assert_eq!(times(cfg, &[("a", Some("1500"))], 0), [1_500_000_000]);
    }

    #[test]
    fn go_layouts_locations_and_year_less_layouts() {
        // 2026-11-24T15:32:00Z, when the golden corpus was recorded.
        let now = 1_795_534_320_000_000_000;
        let layout = |f: &str, loc: Option<&str>, v: &str| {
            times(config(f, loc, Some("skip")), &[("a", Some(v))], now)[0]
        };
        assert_eq!(
            layout("RFC3339", None, "2023-08-01T14:11:35.126+02:00"),
            1_690_891_895_126_000_000
        );
        assert_eq!(
            layout("2006-01-02 15:04:05.000", None, "2023-08-01 14:11:35.126"),
            1_690_899_095_126_000_000
        );
        assert_eq!(
            layout(
                "2006-01-02 15:04:05",
                Some("America/New_York"),
                "2023-08-01 10:11:35"
            ),
            1_690_899_095_000_000_000
        );
        // The named layouts ignore the location, as Promtail's do.
        assert_eq!(
            layout("RFC3339", Some("America/New_York"), "2023-08-01T14:11:35Z"),
            1_690_899_095_000_000_000
        );
        assert_eq!(
            layout("Jan _2 15:04:05", None, "Aug  1 14:11:35"),
            1_785_593_495_000_000_000
        );
        assert_eq!(
            layout("Jan _2 15:04:05", None, "Jan  1 00:00:00"),
            1_767_225_600_000_000_000
        );
        // January read in December belongs to the next year.
        let december = 1_796_428_800_000_000_000;
        let cfg = config("Jan _2 15:04:05", None, Some("skip"));
        assert_eq!(
            times(cfg, &[("a", Some("Jan  1 00:00:00"))], december)[0],
            1_798_761_600_000_000_000
        );
    }

    #[test]
    fn unix_seconds_with_and_without_fraction() {
        assert_eq!(parse_unix("1690899095"), Some(1_690_899_095_000_000_000));
        assert_eq!(
            parse_unix("1690899095.123"),
            Some(1_690_899_095_123_000_000)
        );
        assert_eq!(
            parse_unix("1690899095.000000123"),
            Some(1_690_899_095_000_000_123)
        );
        assert_eq!(parse_unix("abc"), None);
        assert_eq!(parse_unix("1.2.3"), None);
    }

    #[test]
    fn unix_seconds_past_year_2262_do_not_parse() {
        assert_eq!(parse_unix("1690899095123"), None);
    }

    #[test]
    fn unix_ms_us_ns() {
        let t = |f: Format, v: &str| parse_with(&f, v, None, 0);
        assert_eq!(
            t(Format::UnixMs, "1690899095123"),
            Some(1_690_899_095_123_000_000)
        );
        assert_eq!(
            t(Format::UnixUs, "1690899095123456"),
            Some(1_690_899_095_123_456_000)
        );
        assert_eq!(
            t(Format::UnixNs, "1690899095123456789"),
            Some(1_690_899_095_123_456_789)
        );
        assert_eq!(t(Format::UnixMs, "1690899095.5"), None);
    }

    #[test]
    fn names_and_layouts() {
        assert_eq!(Format::named("Unix"), Format::Unix);
        assert!(matches!(
            Format::named("RFC3339"),
            Format::Layout {
                in_location: false,
                yearless: false,
                ..
            }
        ));
        assert!(matches!(
            Format::named("Jan _2 15:04:05"),
            Format::Layout {
                in_location: true,
                yearless: true,
                ..
            }
        ));
        assert!(matches!(
            Format::named("02/01/06"),
            Format::Layout {
                yearless: false,
                ..
            }
        ));
        // Not a Promtail name: a literal layout, without a year.
        assert!(matches!(
            Format::named("Kitchen"),
            Format::Layout { yearless: true, .. }
        ));
    }

    #[test]
    fn config_errors() {
        let cfg = |s: &str, f: &str, loc: Option<&str>, a: Option<&str>| {
            TimestampConfig::new(s, f, &[], loc, a).err()
        };
        assert_eq!(
            cfg("", "RFC3339", None, None),
            Some(ConfigError::Invalid(
                "timestamp source value is required if timestamp is specified"
            ))
        );
        assert_eq!(
            cfg("t", "", None, None),
            Some(ConfigError::Invalid("timestamp format is required"))
        );
        assert_eq!(
            cfg("t", "RFC3339", None, Some("ignore")),
            Some(ConfigError::ActionOnFailure)
        );
        assert!(matches!(
            cfg("t", "RFC3339", Some("Mars/Olympus"), None),
            Some(ConfigError::Location(_))
        ));
        assert_eq!(cfg("t", "RFC3339", Some("UTC"), Some("skip")), None);
    }

    /// What the layout read: a date, a time, and a zone (`+7200` an
    /// offset, a name an abbreviation, `""` none).
    fn parts(year: i64, month: u32, day: u32, hms: (u32, u32, u32), zone: &str) -> Fields {
        let (offset, zone_name) = match zone {
            "" => (None, None),
            z if z.starts_with(['+', '-']) => (z.parse().ok(), None),
            z => (None, Some(z.to_owned())),
        };
        Fields {
            year: Some(year),
            month,
            day,
            hour: hms.0,
            minute: hms.1,
            second: hms.2,
            nanos: 0,
            offset,
            zone_name,
        }
    }

    #[test]
    fn zones_resolve_as_go() {
        let ny = load_location("America/New_York").expect("the zone database has New York");
        let noon = |zone: &str| parts(2023, 8, 1, (12, 0, 0), zone);
        let utc_noon = 1_690_891_200_000_000_000;
        assert_eq!(resolve(&noon(""), None), Some(utc_noon));
        assert_eq!(
            resolve(&noon("+7200"), Some(&ny)),
            Some(utc_noon - 7_200_000_000_000)
        );
        assert_eq!(
            resolve(&noon(""), Some(&ny)),
            Some(utc_noon + 4 * 3_600_000_000_000)
        );
        assert_eq!(
            resolve(&noon("EDT"), Some(&ny)),
            Some(utc_noon + 4 * 3_600_000_000_000)
        );
        assert_eq!(resolve(&noon("EDT"), None), Some(utc_noon));
        let winter = parts(2023, 1, 1, (12, 0, 0), "EST");
        assert_eq!(
            resolve(&winter, Some(&ny)),
            Some(1_672_574_400_000_000_000 + 5 * 3_600_000_000_000)
        );
    }
}
