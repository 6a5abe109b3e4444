//! Grafana's step math for Prometheus range queries (its backend's
//! `calculatePrometheusInterval`), as small pure functions on
//! milliseconds.
//!
//! The minimum interval is the query's own `interval` (min step) when set,
//! else the `intervalMs` the UI computed, else the datasource's
//! `timeInterval`, else 15 s. The step is the larger of that minimum
//! (or range / maxDataPoints rounded to Grafana's table, when larger) and
//! the "safe" interval range / 11000 rounded the same way, times
//! `intervalFactor`. `$__rate_interval` as a min step gives Grafana's rate
//! interval instead. Start and end are then floored to a multiple of the
//! step (shifted by the query's `utcOffsetSec`).

/// Prometheus refuses more than 11,000 points per series.
pub const SAFE_RESOLUTION: i64 = 11_000;
/// Grafana's resolution when a query gives no `maxDataPoints`.
pub const DEFAULT_RESOLUTION: i64 = 1_500;
/// The interval used when nothing else gives one.
pub const DEFAULT_INTERVAL_MS: i64 = 15_000;

/// What a Prometheus query's step is computed from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StepInput {
    /// `to - from` of the request, in ms.
    pub range_ms: i64,
    /// The query's `interval` (min step), e.g. `"30s"`; may be a variable.
    pub query_interval: String,
    /// The query's `intervalMs` (the UI's `$__interval`), 0 when absent.
    pub interval_ms: i64,
    /// The datasource's `jsonData.timeInterval`, e.g. `"15s"`.
    pub ds_time_interval: String,
    /// The query's `maxDataPoints`, 0 when absent.
    pub max_data_points: i64,
    /// The query's `intervalFactor` (legacy resolution), 0 when absent.
    pub interval_factor: i64,
}

/// An interval that does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid interval {0:?}")]
pub struct IntervalError(pub String);

/// The step in ms for `input`.
pub fn prometheus_step(input: &StepInput) -> Result<i64, IntervalError> {
    let is_variable = input.query_interval.starts_with('$');
    let query_interval = if is_variable {
        ""
    } else {
        input.query_interval.as_str()
    };
    let min = interval_from(
        &input.ds_time_interval,
        query_interval,
        input.interval_ms,
        DEFAULT_INTERVAL_MS,
    )?;
    let calculated = calculate(input.range_ms, min, input.max_data_points);
    let safe = round_interval(input.range_ms / SAFE_RESOLUTION);
    let adjusted = calculated.max(safe);
    if matches!(
        input.query_interval.as_str(),
        "$__rate_interval" | "${__rate_interval}"
    ) {
        return rate_interval(adjusted, &input.ds_time_interval);
    }
    let factor = if input.interval_factor <= 0 {
        1
    } else {
        input.interval_factor
    };
    Ok(adjusted.saturating_mul(factor).max(1))
}

/// Grafana's `$__rate_interval`: max(interval + scrape, 4 × scrape), the
/// scrape interval being the datasource's `timeInterval` or 15 s.
pub fn rate_interval(interval_ms: i64, ds_time_interval: &str) -> Result<i64, IntervalError> {
    let scrape = if ds_time_interval.is_empty() {
        DEFAULT_INTERVAL_MS
    } else {
        parse_interval(ds_time_interval)?
    };
    // Saturating: both come from outside (the request, the datasource).
    Ok(interval_ms
        .saturating_add(scrape)
        .max(scrape.saturating_mul(4)))
}

/// Grafana's `GetIntervalFrom`: the query's min step, else its
/// `intervalMs`, else the datasource's, else `default_ms`.
pub fn interval_from(
    ds_interval: &str,
    query_interval: &str,
    interval_ms: i64,
    default_ms: i64,
) -> Result<i64, IntervalError> {
    let query_interval = if query_interval == "0s" {
        ""
    } else {
        query_interval
    };
    if query_interval.is_empty() && interval_ms > 0 {
        return Ok(interval_ms);
    }
    let text = if query_interval.is_empty() {
        ds_interval
    } else {
        query_interval
    };
    if text.is_empty() {
        return Ok(default_ms);
    }
    parse_interval(text)
}

/// An interval as Grafana accepts it: `30s`, `1m`, `>10s` (the `<`/`>`
/// markers of old dashboards are ignored), or a bare number of seconds.
pub fn parse_interval(text: &str) -> Result<i64, IntervalError> {
    let cleaned = text.trim().replacen('<', "", 1).replacen('>', "", 1);
    if !cleaned.is_empty() && cleaned.bytes().all(|b| b.is_ascii_digit()) {
        return cleaned
            .parse::<i64>()
            .map(|s| s.saturating_mul(1000))
            .map_err(|_| IntervalError(text.to_owned()));
    }
    model::duration::parse_duration(&cleaned)
        .map(|d| d.as_millis() as i64)
        .map_err(|_| IntervalError(text.to_owned()))
}

/// Grafana's interval calculator: range / resolution rounded to its
/// table, or `min_ms` when that is larger.
pub fn calculate(range_ms: i64, min_ms: i64, max_data_points: i64) -> i64 {
    let resolution = if max_data_points <= 0 {
        DEFAULT_RESOLUTION
    } else {
        max_data_points
    };
    let raw = range_ms / resolution;
    if raw < min_ms {
        return min_ms;
    }
    round_interval(raw)
}

/// Grafana's table of "nice" intervals: `ms` rounded to the one whose band
/// it falls in.
pub fn round_interval(ms: i64) -> i64 {
    const SECOND: i64 = 1000;
    const MINUTE: i64 = 60 * SECOND;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    // (upper bound of the band, inclusive; the interval it rounds to)
    const TABLE: &[(i64, i64)] = &[
        (10, 1),
        (15, 10),
        (35, 20),
        (75, 50),
        (150, 100),
        (350, 200),
        (750, 500),
        (1_500, SECOND),
        (3_500, 2 * SECOND),
        (7_500, 5 * SECOND),
        (12_500, 10 * SECOND),
        (17_500, 15 * SECOND),
        (25_000, 20 * SECOND),
        (45_000, 30 * SECOND),
        (90_000, MINUTE),
        (210_000, 2 * MINUTE),
        (450_000, 5 * MINUTE),
        (750_000, 10 * MINUTE),
        (1_050_000, 15 * MINUTE),
        (1_500_000, 20 * MINUTE),
        (2_700_000, 30 * MINUTE),
        (5_400_000, HOUR),
        (9_000_000, 2 * HOUR),
        (16_200_000, 3 * HOUR),
        (32_400_000, 6 * HOUR),
        (86_400_000, 12 * HOUR),
        (172_800_000, DAY),
        (604_800_000, DAY),
        (1_814_400_000, 7 * DAY),
    ];
    for &(bound, interval) in TABLE {
        if ms <= bound {
            return interval;
        }
    }
    if ms < 3_628_800_000 {
        30 * DAY
    } else {
        365 * DAY
    }
}

/// Floors `t_ms` to a multiple of `step_ms`, counted from the query's
/// time-zone offset (Grafana's `AlignTimeRange`).
pub fn align(t_ms: i64, step_ms: i64, utc_offset_sec: i64) -> i64 {
    if step_ms <= 0 {
        return t_ms;
    }
    let offset = utc_offset_sec.saturating_mul(1000);
    // Saturating: the offset is the request's, any i64.
    t_ms.saturating_sub(offset)
        .div_euclid(step_ms)
        .saturating_mul(step_ms)
        .saturating_add(offset)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    fn input(range_ms: i64, interval_ms: i64, max_data_points: i64) -> StepInput {
        StepInput {
            range_ms,
            interval_ms,
            max_data_points,
            ..StepInput::default()
        }
    }

    #[test]
    fn steps_like_grafana() {
        // (what, input, step ms)
        let cases = [
            ("1h, 15s from the UI", input(H, 15_000, 1200), 15_000),
            ("6h, 20s from the UI", input(6 * H, 20_000, 1200), 20_000),
            // 1h / 100 points = 36s, rounded to 30s.
            ("few points", input(H, 1_000, 100), 30_000),
            // 30d / 11000 = 235.6s -> 5m beats the UI's 1s.
            (
                "safe resolution",
                input(30 * 24 * H, 1_000, 50_000),
                300_000,
            ),
            ("no interval at all: 15s", input(H, 0, 1200), 15_000),
            (
                "datasource timeInterval when the UI sent none",
                StepInput {
                    ds_time_interval: "1m".into(),
                    ..input(H, 0, 1200)
                },
                60_000,
            ),
            (
                "the UI's interval wins over the datasource's",
                StepInput {
                    ds_time_interval: "1m".into(),
                    ..input(H, 15_000, 1200)
                },
                15_000,
            ),
            (
                "query min step wins",
                StepInput {
                    query_interval: "45s".into(),
                    ..input(H, 15_000, 1200)
                },
                45_000,
            ),
            (
                "legacy > marker",
                StepInput {
                    query_interval: ">10s".into(),
                    ..input(H, 15_000, 1200)
                },
                10_000,
            ),
            (
                "variable min step ignored",
                StepInput {
                    query_interval: "$__interval".into(),
                    ..input(H, 15_000, 1200)
                },
                15_000,
            ),
            (
                "interval factor",
                StepInput {
                    interval_factor: 2,
                    ..input(H, 15_000, 1200)
                },
                30_000,
            ),
            (
                "rate interval",
                StepInput {
                    query_interval: "$__rate_interval".into(),
                    ..input(H, 15_000, 1200)
                },
                60_000,
            ),
        ];
        for (what, input, want) in cases {
            assert_eq!(prometheus_step(&input), Ok(want), "{what}");
        }
    }

    #[test]
    fn a_bad_interval_is_an_error() {
        let bad = StepInput {
            query_interval: "soon".into(),
            ..input(H, 0, 0)
        };
        assert_eq!(prometheus_step(&bad), Err(IntervalError("soon".into())));
    }

    #[test]
    fn rounding_table() {
        for (ms, want) in [
            (0, 1),
            (10, 1),
            (11, 10),
            (1_499, 1_000),
            (2_400, 2_000),
            (12_000, 10_000),
            (17_000, 15_000),
            (36_000, 30_000),
            (100_000, 120_000),
            (235_636, 300_000),
            (3_000_000, 3_600_000),
            (100_000_000, 86_400_000),
            (700_000_000, 604_800_000),
            (2_000_000_000, 2_592_000_000),
            (4_000_000_000, 31_536_000_000),
        ] {
            assert_eq!(round_interval(ms), want, "{ms}");
        }
    }

    #[test]
    fn alignment_floors_to_the_step() {
        for (t, step, offset, want) in [
            (1_795_533_224_500, 15_000, 0, 1_795_533_210_000),
            (1_795_533_210_000, 15_000, 0, 1_795_533_210_000),
            (7_200_500, 3_600_000, 0, 7_200_000),
            (7_200_500, 3_600_000, 1_800, 5_400_000),
            (-1, 1_000, 0, -1_000),
            (12_345, 0, 0, 12_345),
        ] {
            assert_eq!(align(t, step, offset), want, "{t} {step} {offset}");
        }
    }

    #[test]
    fn intervals_parse() {
        for (text, want) in [
            ("15s", Ok(15_000)),
            ("1m", Ok(60_000)),
            ("1h30m", Ok(5_400_000)),
            ("30", Ok(30_000)),
            ("<1m", Ok(60_000)),
            ("x", Err(IntervalError("x".into()))),
        ] {
            assert_eq!(parse_interval(text), want, "{text}");
        }
    }
}
