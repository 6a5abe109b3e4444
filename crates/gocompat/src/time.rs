//! Go's `time` formatting and parsing by reference layout
//! (`2006-01-02T15:04:05Z07:00`), in UTC, with Go's named layouts.
//!
//! Times are nanoseconds since the Unix epoch ([`format`], [`parse`]); for
//! times outside the ±292 years that fit, [`parse_parts`] returns seconds
//! and nanoseconds apart. Formatting always writes UTC (`Z`, `+0000`,
//! `UTC`), as vigil's servers and Loki's run in UTC; parsing honours the
//! offset written in the value.

/// Go's `time.RFC3339`.
pub const RFC3339: &str = "2006-01-02T15:04:05Z07:00";
/// Go's `time.RFC3339Nano`.
pub const RFC3339_NANO: &str = "2006-01-02T15:04:05.999999999Z07:00";
/// What Go's `Time.String()` prints.
pub const TIME_STRING: &str = "2006-01-02 15:04:05.999999999 -0700 MST";

/// Go's named layouts (`time.ANSIC`, …), by their Go names.
pub const NAMED_LAYOUTS: [(&str, &str); 15] = [
    ("ANSIC", "Mon Jan _2 15:04:05 2006"),
    ("UnixDate", "Mon Jan _2 15:04:05 MST 2006"),
    ("RubyDate", "Mon Jan 02 15:04:05 -0700 2006"),
    ("RFC822", "02 Jan 06 15:04 MST"),
    ("RFC822Z", "02 Jan 06 15:04 -0700"),
    ("RFC850", "Monday, 02-Jan-06 15:04:05 MST"),
    ("RFC1123", "Mon, 02 Jan 2006 15:04:05 MST"),
    ("RFC1123Z", "Mon, 02 Jan 2006 15:04:05 -0700"),
    ("RFC3339", RFC3339),
    ("RFC3339Nano", RFC3339_NANO),
    ("Kitchen", "3:04PM"),
    ("Stamp", "Jan _2 15:04:05"),
    ("StampMilli", "Jan _2 15:04:05.000"),
    ("StampMicro", "Jan _2 15:04:05.000000"),
    ("StampNano", "Jan _2 15:04:05.000000000"),
];

/// The layout Go names `name` (`"RFC3339"`), if it is one of
/// [`NAMED_LAYOUTS`].
pub fn named_layout(name: &str) -> Option<&'static str> {
    NAMED_LAYOUTS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, layout)| *layout)
}

/// Why a value does not parse with a layout; the messages follow Go's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The value does not match the layout.
    #[error("parsing time {value:?} as {layout:?}: cannot parse")]
    CannotParse {
        /// The value as given.
        value: String,
        /// The layout.
        layout: String,
    },
    /// The value goes on after the layout ends.
    #[error("parsing time {value:?}: extra text: {extra:?}")]
    ExtraText {
        /// The value as given.
        value: String,
        /// What is left over.
        extra: String,
    },
    /// A month, day, hour, minute or second out of its range.
    #[error("parsing time {value:?}: value out of range")]
    ValueOutOfRange {
        /// The value as given.
        value: String,
    },
    /// A time that does not fit in nanoseconds since the epoch.
    #[error("parsing time {value:?}: out of range")]
    OutOfRange {
        /// The value as given.
        value: String,
    },
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// Layout elements, longest first where one is a prefix of another.
const TOKENS: &[&str] = &[
    "January", "Monday", "2006", "Jan", "Mon", "MST", "Z07:00", "Z0700", "Z07", "-07:00", "-0700",
    "-07", "01", "02", "_2", "15", "03", "04", "05", "06", "PM", "pm", "1", "2", "3", "4", "5",
];

/// Days since 1970-01-01 to (year, month 1-12, day 1-31).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The days of `month` (1-12) in `year`.
fn days_in(month: u32, year: i64) -> u32 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Formats `ns` (UTC) with a Go layout.
///
/// ```
/// assert_eq!(gocompat::time::format(1_500_000_000, gocompat::time::TIME_STRING),
///            "1970-01-01 00:00:01.5 +0000 UTC");
/// ```
pub fn format(ns: i64, layout: &str) -> String {
    let secs = ns.div_euclid(1_000_000_000);
    let frac = ns.rem_euclid(1_000_000_000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (year, month, day) = civil(days);
    let (hour, min, sec) = (sod / 3600, (sod % 3600) / 60, sod % 60);
    let weekday = (days + 4).rem_euclid(7) as usize;
    let month_name = MONTHS.get(month as usize - 1).copied().unwrap_or("");
    let day_name = DAYS.get(weekday).copied().unwrap_or("");
    let mut out = String::new();
    let mut rest = layout;
    while !rest.is_empty() {
        // Fractional seconds: `.000` / `.999` (also with `,`).
        if let Some(after) = rest.strip_prefix(['.', ',']) {
            let n = after.chars().take_while(|c| *c == '0' || *c == '9').count();
            let digit = after.chars().next();
            if n > 0 && !after.chars().nth(n).is_some_and(|c| c.is_ascii_digit()) {
                let digits = format!("{frac:09}");
                let mut part = digits.get(..n.min(9)).unwrap_or("").to_owned();
                if digit == Some('9') {
                    part = part.trim_end_matches('0').to_owned();
                    if !part.is_empty() {
                        out.push('.');
                        out.push_str(&part);
                    }
                } else {
                    out.push(rest.chars().next().unwrap_or('.'));
                    out.push_str(&part);
                }
                rest = after.get(n..).unwrap_or("");
                continue;
            }
        }
        let Some(tok) = TOKENS.iter().find(|t| rest.starts_with(**t)) else {
            let mut chars = rest.chars();
            if let Some(c) = chars.next() {
                out.push(c);
            }
            rest = chars.as_str();
            continue;
        };
        let h12 = if hour % 12 == 0 { 12 } else { hour % 12 };
        let piece = match *tok {
            "January" => month_name.to_owned(),
            "Jan" => month_name.get(..3).unwrap_or("").to_owned(),
            "Monday" => day_name.to_owned(),
            "Mon" => day_name.get(..3).unwrap_or("").to_owned(),
            "MST" => "UTC".into(),
            "Z07:00" | "Z0700" | "Z07" => "Z".into(),
            "-07:00" => "+00:00".into(),
            "-0700" => "+0000".into(),
            "-07" => "+00".into(),
            // Go: at least four digits, the sign before them.
            "2006" if year < 0 => format!("-{:04}", -year),
            "2006" => format!("{year:04}"),
            "06" => format!("{:02}", year.rem_euclid(100)),
            "01" => format!("{month:02}"),
            "1" => month.to_string(),
            "02" => format!("{day:02}"),
            "_2" => format!("{day:>2}"),
            "2" => day.to_string(),
            "15" => format!("{hour:02}"),
            "03" => format!("{h12:02}"),
            "3" => h12.to_string(),
            "04" => format!("{min:02}"),
            "4" => min.to_string(),
            "05" => format!("{sec:02}"),
            "5" => sec.to_string(),
            "PM" => if hour >= 12 { "PM" } else { "AM" }.into(),
            "pm" => if hour >= 12 { "pm" } else { "am" }.into(),
            _ => String::new(),
        };
        out.push_str(&piece);
        rest = rest.get(tok.len()..).unwrap_or("");
    }
    out
}

/// Parses `value` with a Go layout; returns ns since the epoch.
///
/// ```
/// use gocompat::time::{parse, RFC3339};
/// assert_eq!(parse(RFC3339, "1970-01-01T00:00:01+00:00"), Ok(1_000_000_000));
/// ```
pub fn parse(layout: &str, value: &str) -> Result<i64, ParseError> {
    let (secs, nanos) = parse_parts(layout, value)?;
    secs.checked_mul(1_000_000_000)
        .and_then(|n| n.checked_add(i64::from(nanos)))
        .ok_or_else(|| ParseError::OutOfRange {
            value: value.to_owned(),
        })
}

/// Parses an RFC 3339 time with any fraction of a second (Go's
/// `time.Parse(time.RFC3339Nano, …)`, which is what Prometheus and Loki
/// read time parameters with); returns seconds and nanoseconds since the
/// epoch, so that any four-digit year fits.
pub fn parse_rfc3339(value: &str) -> Result<(i64, u32), ParseError> {
    parse_parts(RFC3339_NANO, value)
}

/// Parses `value` with a Go layout; returns whole seconds since the epoch
/// and the nanoseconds past them.
///
/// Like Go, fixed-width elements (`01`, `02`, `04`, `05`, `2006`) take
/// exactly their digits, the others one or two; a day must exist in its
/// month and a second is below 60.
pub fn parse_parts(layout: &str, value: &str) -> Result<(i64, u32), ParseError> {
    let f = parse_fields(layout, value)?;
    // Without a year in the layout, year 1 (what this function has always
    // used; Go's own default is year 0, see `Fields::year`).
    let days = days_from_civil(f.year.unwrap_or(1), f.month, f.day);
    let secs =
        days * 86_400 + i64::from(f.hour) * 3600 + i64::from(f.minute) * 60 + i64::from(f.second)
            - i64::from(f.offset.unwrap_or(0));
    Ok((secs, f.nanos))
}

/// What a layout read from a value, before any time zone is applied: what
/// a caller needs to place the time itself (Promtail's `timestamp` stage
/// reads year-less layouts in the current year, and civil times in a
/// configured location).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fields {
    /// The year, when the layout has one (`2006`, `06`); Go's default
    /// otherwise is year 0.
    pub year: Option<i64>,
    /// Month, 1-12.
    pub month: u32,
    /// Day of the month, from 1.
    pub day: u32,
    /// Hour, 0-23.
    pub hour: u32,
    /// Minute, 0-59.
    pub minute: u32,
    /// Second, 0-59.
    pub second: u32,
    /// Nanoseconds past the second.
    pub nanos: u32,
    /// A numeric offset (`-0700`, `Z07:00` with `Z` as 0) in seconds east
    /// of UTC, when the value wrote one.
    pub offset: Option<i32>,
    /// A zone abbreviation (`MST` in the layout), as written (`EDT`).
    pub zone_name: Option<String>,
}

/// Parses `value` with a Go layout into its [`Fields`].
///
/// Like Go, a fraction of a second right after the seconds is read even
/// when the layout has none (`05` reads `35.126`), and a day is checked
/// against its month in the value's year (year 0, a leap year, without
/// one).
///
/// ```
/// use gocompat::time::parse_fields;
/// let f = parse_fields("Jan _2 15:04:05", "Aug  1 14:11:35.5").unwrap();
/// assert_eq!((f.year, f.month, f.day, f.second, f.nanos), (None, 8, 1, 35, 500_000_000));
/// ```
pub fn parse_fields(layout: &str, value: &str) -> Result<Fields, ParseError> {
    let bad = || ParseError::CannotParse {
        value: value.to_owned(),
        layout: layout.to_owned(),
    };
    let mut zone_name = None;
    let mut has_offset = false;
    let mut year_read = None;
    let (mut year, mut month, mut day) = (0i64, 1u32, 1u32);
    let (mut hour, mut min, mut sec, mut nanos, mut offset) = (0i64, 0i64, 0i64, 0i64, 0i64);
    let mut pm: Option<bool> = None;
    let mut l = layout;
    let mut v = value;
    let number = |v: &mut &str, min: usize, max: usize| -> Result<i64, ParseError> {
        let n = v.chars().take(max).take_while(char::is_ascii_digit).count();
        if n < min.max(1) {
            return Err(bad());
        }
        let text = v.get(..n).ok_or_else(bad)?;
        *v = v.get(n..).unwrap_or("");
        text.parse().map_err(|_| bad())
    };
    while !l.is_empty() {
        if let Some(after) = l.strip_prefix(['.', ',']) {
            let n = after.chars().take_while(|c| *c == '0' || *c == '9').count();
            if n > 0 {
                l = after.get(n..).unwrap_or("");
                if let Some(vr) = v.strip_prefix(['.', ',']) {
                    let digits = vr.chars().take_while(char::is_ascii_digit).count();
                    let text = vr.get(..digits).unwrap_or("");
                    let padded = format!("{:0<9}", text.get(..digits.min(9)).unwrap_or(""));
                    nanos = padded.parse().unwrap_or(0);
                    v = vr.get(digits..).unwrap_or("");
                }
                continue;
            }
        }
        let Some(tok) = TOKENS.iter().find(|t| l.starts_with(**t)) else {
            let mut lc = l.chars();
            let c = lc.next();
            l = lc.as_str();
            let mut vc = v.chars();
            if vc.next() != c {
                return Err(bad());
            }
            v = vc.as_str();
            continue;
        };
        l = l.get(tok.len()..).unwrap_or("");
        match *tok {
            "2006" => {
                year = number(&mut v, 4, 4)?;
                year_read = Some(year);
            }
            // Go reads two-digit years 69-99 as 19xx.
            "06" => {
                let yy = number(&mut v, 2, 2)?;
                year = if yy >= 69 { 1900 + yy } else { 2000 + yy };
                year_read = Some(year);
            }
            "01" => month = number(&mut v, 2, 2)? as u32,
            "1" => month = number(&mut v, 1, 2)? as u32,
            "02" => day = number(&mut v, 2, 2)? as u32,
            "2" => day = number(&mut v, 1, 2)? as u32,
            "_2" => {
                if v.starts_with(' ') {
                    v = &v[1..];
                }
                day = number(&mut v, 1, 2)? as u32;
            }
            "03" => hour = number(&mut v, 2, 2)?,
            "15" | "3" => hour = number(&mut v, 1, 2)?,
            "04" => min = number(&mut v, 2, 2)?,
            "4" => min = number(&mut v, 1, 2)?,
            "05" | "5" => {
                sec = number(&mut v, if *tok == "05" { 2 } else { 1 }, 2)?;
                // Go reads a fraction after the seconds even when the
                // layout has none, unless the layout's fraction follows.
                let layout_fraction = l
                    .strip_prefix(['.', ','])
                    .is_some_and(|r| r.starts_with(['0', '9']));
                if !layout_fraction {
                    if let Some(vr) = v.strip_prefix(['.', ',']) {
                        let digits = vr.chars().take_while(char::is_ascii_digit).count();
                        if digits > 0 {
                            let text = vr.get(..digits.min(9)).unwrap_or("");
                            nanos = format!("{text:0<9}").parse().unwrap_or(0);
                            v = vr.get(digits..).unwrap_or("");
                        }
                    }
                }
            }
            "January" | "Jan" => {
                let idx = MONTHS
                    .iter()
                    .position(|m| {
                        let name = if *tok == "Jan" {
                            m.get(..3).unwrap_or("")
                        } else {
                            m
                        };
                        v.starts_with(name)
                    })
                    .ok_or_else(bad)?;
                let len = if *tok == "Jan" {
                    3
                } else {
                    MONTHS.get(idx).map_or(0, |m| m.len())
                };
                v = v.get(len..).unwrap_or("");
                month = idx as u32 + 1;
            }
            "Monday" | "Mon" => {
                let len = DAYS
                    .iter()
                    .map(|d| {
                        if *tok == "Mon" {
                            d.get(..3).unwrap_or("")
                        } else {
                            d
                        }
                    })
                    .find(|d| v.starts_with(*d))
                    .map(str::len)
                    .ok_or_else(bad)?;
                v = v.get(len..).unwrap_or("");
            }
            "PM" | "pm" => {
                let word = v.get(..2).unwrap_or("").to_ascii_uppercase();
                pm = Some(word == "PM");
                v = v.get(2..).unwrap_or("");
            }
            "MST" => {
                let n = v.chars().take_while(char::is_ascii_uppercase).count();
                zone_name = Some(v.get(..n).unwrap_or("").to_owned());
                v = v.get(n..).unwrap_or("");
            }
            _ => {
                // Zone offsets.
                has_offset = true;
                if let Some(r) = v.strip_prefix('Z').filter(|_| tok.starts_with('Z')) {
                    v = r;
                } else {
                    let sign = match v.chars().next() {
                        Some('+') => 1,
                        Some('-') => -1,
                        _ => return Err(bad()),
                    };
                    v = v.get(1..).unwrap_or("");
                    let h = number(&mut v, 2, 2)?;
                    if let Some(r) = v.strip_prefix(':') {
                        v = r;
                    }
                    let m = if v.starts_with(|c: char| c.is_ascii_digit()) {
                        number(&mut v, 2, 2)?
                    } else {
                        0
                    };
                    offset = sign * (h * 3600 + m * 60);
                }
            }
        }
    }
    if !v.is_empty() {
        return Err(ParseError::ExtraText {
            value: value.to_owned(),
            extra: v.to_owned(),
        });
    }
    if let Some(pm) = pm {
        hour = hour % 12 + if pm { 12 } else { 0 };
    }
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in(month, year)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return Err(ParseError::ValueOutOfRange {
            value: value.to_owned(),
        });
    }
    let small = |n: i64| {
        u32::try_from(n).map_err(|_| ParseError::ValueOutOfRange {
            value: value.to_owned(),
        })
    };
    Ok(Fields {
        year: year_read,
        month,
        day,
        hour: small(hour)?,
        minute: small(min)?,
        second: small(sec)?,
        nanos: small(nanos)?,
        offset: if has_offset {
            Some(i32::try_from(offset).map_err(|_| bad())?)
        } else {
            None
        },
        zone_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_layouts() {
        let ns = 1_700_000_000_123_456_789;
        assert_eq!(
            format(ns, "2006-01-02T15:04:05.000Z07:00"),
            "2023-11-14T22:13:20.123Z"
        );
        assert_eq!(
            format(ns, "Mon Jan _2 3:04PM .999999999"),
            "Tue Nov 14 10:13PM .123456789"
        );
        assert_eq!(
            parse("2006-01-02T15:04:05Z07:00", "2023-11-14T22:13:20Z").unwrap(),
            1_700_000_000_000_000_000
        );
        assert_eq!(
            parse("2006-01-02 15:04:05 -0700", "2023-11-14 23:13:20 +0100").unwrap(),
            1_700_000_000_000_000_000
        );
        assert!(parse("2006-01-02", "nope").is_err());
        assert!(parse("2006-01-02", "2023-13-01").is_err());
    }

    fn fields(layout: &str, value: &str) -> Fields {
        parse_fields(layout, value).unwrap_or_else(|e| panic!("{layout} {value}: {e}"))
    }

    #[test]
    fn a_fraction_after_the_seconds_is_read_without_one_in_the_layout() {
        assert_eq!(
            parse(RFC3339, "2023-08-01T14:11:35.126Z"),
            Ok(1_690_899_095_126_000_000)
        );
        assert_eq!(fields("15:04:05.000", "14:11:35.126").nanos, 126_000_000);
    }

    #[test]
    fn fields_say_what_the_value_wrote() {
        let f = fields("Jan _2 15:04:05", "Dec 31 23:59:59");
        assert_eq!(
            (f.year, f.month, f.day, f.offset, f.zone_name),
            (None, 12, 31, None, None)
        );
        let f = fields("02/01/2006 15:04:05 -0700", "01/08/2023 14:11:35 +0200");
        assert_eq!(
            (f.year, f.month, f.day, f.offset),
            (Some(2023), 8, 1, Some(7200))
        );
        let f = fields(NAMED_LAYOUTS[1].1, "Tue Aug  1 10:11:35 EDT 2023");
        assert_eq!((f.zone_name.as_deref(), f.offset), (Some("EDT"), None));
        assert_eq!(fields(RFC3339, "2023-08-01T14:11:35Z").offset, Some(0));
    }

    #[test]
    fn a_year_less_february_29_is_valid_as_in_go() {
        assert_eq!(fields("Jan 2", "Feb 29").day, 29);
        assert!(parse_fields("2006 Jan 2", "2023 Feb 29").is_err());
    }

    #[test]
    fn go_string_and_rfc3339_in_utc() {
        let ns = 1_795_526_161_821_457_089;
        assert_eq!(format(ns, RFC3339), "2026-11-24T13:16:01Z");
        assert_eq!(
            format(ns, TIME_STRING),
            "2026-11-24 13:16:01.821457089 +0000 UTC"
        );
        assert_eq!(
            format(1_000_000_000, TIME_STRING),
            "1970-01-01 00:00:01 +0000 UTC"
        );
        assert_eq!(
            format(1_500_000_000, TIME_STRING),
            "1970-01-01 00:00:01.5 +0000 UTC"
        );
        assert_eq!(format(i64::MIN, RFC3339), "1677-09-21T00:12:43Z");
    }

    #[test]
    fn rfc3339_is_read_as_go_reads_it() {
        assert_eq!(
            parse_rfc3339("2023-11-14T22:13:20.5Z"),
            Ok((1_700_000_000, 500_000_000))
        );
        assert_eq!(
            parse_rfc3339("2023-11-14T23:13:20+01:00"),
            Ok((1_700_000_000, 0))
        );
        assert_eq!(
            parse_rfc3339("9999-12-31T23:59:59Z"),
            Ok((253_402_300_799, 0))
        );
        for bad in [
            "2023-13-01T00:00:00Z",
            "2023-02-30T00:00:00Z",
            "2023-1-01T00:00:00Z",
            "2023-01-01T00:00:60Z",
            "2023-01-01 00:00:00Z",
            "2023-01-01T00:00:00",
            "2023-01-01T00:00:00Zjunk",
            "",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_rfc3339("x").unwrap_err().to_string(),
            r#"parsing time "x" as "2006-01-02T15:04:05.999999999Z07:00": cannot parse"#
        );
    }

    #[test]
    fn named_layouts_are_gos() {
        assert_eq!(named_layout("RFC3339"), Some(RFC3339));
        assert_eq!(named_layout("Kitchen"), Some("3:04PM"));
        assert_eq!(named_layout("rfc3339"), None);
        assert_eq!(
            format(0, named_layout("ANSIC").unwrap()),
            "Thu Jan  1 00:00:00 1970"
        );
    }
}
