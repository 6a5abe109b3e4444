//! The built-in variables that Grafana's Prometheus and Loki backends fill
//! into a query's expression once the step is known: `$__interval`,
//! `$__interval_ms`, `$__rate_interval`, `$__rate_interval_ms`, `$__range`,
//! `$__range_s`, `$__range_ms` and Loki's `$__auto`, each also written
//! `${__name}`.
//!
//! They are filled here rather than in the UI because only the server
//! knows the step a query really runs with, and because a tool calling
//! `/api/ds/query` with Grafana's own requests leaves them in.

/// The values one query's expression sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Builtins {
    /// `$__interval`: the step (Prometheus) or the UI's interval (Loki), ms.
    pub interval_ms: i64,
    /// `$__rate_interval`, ms; Prometheus only.
    pub rate_interval_ms: Option<i64>,
    /// `$__range`: `to - from`, ms.
    pub range_ms: i64,
    /// Loki's `$__auto`: the step of a range query, the range of an
    /// instant one, ms.
    pub auto_ms: Option<i64>,
}

/// `expr` with every built-in replaced; other `$` text is left as it is.
pub fn interpolate(expr: &str, values: &Builtins) -> String {
    if !expr.contains("__") {
        return expr.to_owned();
    }
    let range_s = (values.range_ms as f64 / 1000.0).round() as i64;
    // Longer names first, so `$__interval` never eats `$__interval_ms`.
    let mut replacements = vec![
        ("__interval_ms", values.interval_ms.to_string()),
        ("__interval", format_interval(values.interval_ms)),
        ("__range_ms", values.range_ms.to_string()),
        ("__range_s", range_s.to_string()),
        ("__range", format!("{range_s}s")),
    ];
    if let Some(rate) = values.rate_interval_ms {
        replacements.insert(0, ("__rate_interval_ms", rate.to_string()));
        // Grafana writes this one as a Go duration (`1m0s`).
        replacements.insert(
            1,
            (
                "__rate_interval",
                gocompat::duration::format(rate.saturating_mul(1_000_000)),
            ),
        );
    }
    if let Some(auto) = values.auto_ms {
        replacements.push(("__auto", format_interval(auto)));
    }
    let mut out = expr.to_owned();
    for (name, value) in &replacements {
        out = out
            .replace(&format!("${{{name}}}"), value)
            .replace(&format!("${name}"), value);
    }
    out
}

/// Grafana's `FormatInterval`: the largest whole unit of y, d, h, m, s, ms
/// (truncating: 90 s is `1m`), at least `1ms`.
pub fn format_interval(ms: i64) -> String {
    const UNITS: [(i64, &str); 6] = [
        (365 * 24 * 3_600_000, "y"),
        (24 * 3_600_000, "d"),
        (3_600_000, "h"),
        (60_000, "m"),
        (1_000, "s"),
        (1, "ms"),
    ];
    UNITS
        .iter()
        .find(|(size, _)| ms >= *size)
        .map(|(size, unit)| format!("{}{unit}", ms / size))
        .unwrap_or_else(|| "1ms".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROM: Builtins = Builtins {
        interval_ms: 30_000,
        rate_interval_ms: Some(60_000),
        range_ms: 3_600_000,
        auto_ms: None,
    };

    #[test]
    fn intervals_format_as_grafana_truncating_to_the_largest_unit() {
        for (ms, text) in [
            (0, "1ms"),
            (1, "1ms"),
            (999, "999ms"),
            (1_000, "1s"),
            (15_000, "15s"),
            (90_000, "1m"),
            (3_600_000, "1h"),
            (86_400_000, "1d"),
            (400 * 86_400_000, "1y"),
        ] {
            assert_eq!(format_interval(ms), text, "{ms}");
        }
    }

    #[test]
    fn every_builtin_is_filled_in_both_spellings() {
        for (expr, want) in [
            ("rate(x[$__interval])", "rate(x[30s])"),
            ("rate(x[${__interval}])", "rate(x[30s])"),
            ("x / $__interval_ms", "x / 30000"),
            ("rate(x[$__rate_interval])", "rate(x[1m0s])"),
            (
                "rate(x[${__rate_interval}]) * $__rate_interval_ms",
                "rate(x[1m0s]) * 60000",
            ),
            ("increase(x[$__range])", "increase(x[3600s])"),
            ("x * $__range_s + ${__range_ms}", "x * 3600 + 3600000"),
            ("up{job=\"$job\"}", "up{job=\"$job\"}"),
        ] {
            assert_eq!(interpolate(expr, &PROM), want, "{expr}");
        }
    }

    #[test]
    fn loki_auto_and_no_rate_interval() {
        let loki = Builtins {
            interval_ms: 2_000,
            rate_interval_ms: None,
            range_ms: 1_800_000,
            auto_ms: Some(5_000),
        };
        assert_eq!(
            interpolate("count_over_time({a=\"b\"}[$__auto])", &loki),
            "count_over_time({a=\"b\"}[5s])"
        );
        assert_eq!(
            interpolate("rate({a=\"b\"}[$__interval])", &loki),
            "rate({a=\"b\"}[2s])"
        );
        assert_eq!(
            interpolate("x[$__rate_interval]", &loki),
            "x[$__rate_interval]"
        );
    }
}
