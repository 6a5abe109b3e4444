//! Functions of instant vectors: math, dates, labels, sorting, timestamps.

use std::cmp::Ordering;

use model::algebra::{self, Sample, Vector};
use promql_parser::parser::Expr;

use crate::QueryError;
use crate::eval::{Drops, Evaluator, Val, check_unique, unwrap_parens};

/// The one-argument math functions.
pub(super) fn math(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sgn" => |x| {
            if x < 0.0 {
                -1.0
            } else if x > 0.0 {
                1.0
            } else {
                x
            }
        },
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |x| x * 180.0 / std::f64::consts::PI,
        "rad" => |x| x * std::f64::consts::PI / 180.0,
        _ => return None,
    })
}

/// `timestamp(v)`: the time of each sample in seconds; for a plain
/// selector, the time the sample was written, not the evaluation time.
pub(super) fn timestamp(ev: &mut Evaluator<'_>, arg: &Expr, t: i64) -> Result<Val, QueryError> {
    let out: Vector = if let Expr::VectorSelector(vs) = unwrap_parens(arg) {
        ev.select_with_time(vs, t)
            .into_iter()
            .map(|(labels, st, _)| Sample::new(labels, st as f64 / 1000.0))
            .collect()
    } else {
        ev.eval_vector(arg, t)?
            .into_iter()
            .map(|mut s| {
                s.value = t as f64 / 1000.0;
                s
            })
            .collect()
    };
    ev.drop_names(out, Drops::All)
}

pub(super) fn label_replace(
    v: Vector,
    dst: &str,
    replacement: &str,
    src: &str,
    regex: &str,
) -> Result<Vector, QueryError> {
    if model::anchored_regex(regex).is_err() {
        return Err(QueryError::Execution(format!(
            "invalid regular expression in label_replace(): {regex}"
        )));
    }
    if !algebra::is_valid_label_name(dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_replace(): {dst}"
        )));
    }
    Ok(algebra::label_replace(v, dst, replacement, src, regex)?)
}

pub(super) fn label_join(
    v: Vector,
    dst: &str,
    sep: &str,
    srcs: &[String],
) -> Result<Vector, QueryError> {
    if !algebra::is_valid_label_name(dst) {
        return Err(QueryError::Execution(format!(
            "invalid destination label name in label_join(): {dst}"
        )));
    }
    for src in srcs {
        if !algebra::is_valid_label_name(src) {
            return Err(QueryError::Execution(format!(
                "invalid source label name in label_join(): {src}"
            )));
        }
    }
    let out: Vector = v
        .into_iter()
        .map(|mut s| {
            let joined = srcs
                .iter()
                .map(|n| s.labels.get(n).unwrap_or(""))
                .collect::<Vec<_>>()
                .join(sep);
            if joined.is_empty() {
                s.labels.remove(dst);
            } else {
                s.labels.set(dst, joined);
            }
            s
        })
        .collect();
    check_unique(&out)?;
    Ok(out)
}

/// `sort`, `sort_desc` (NaN last), `sort_by_label`, `sort_by_label_desc`
/// (natural order of the listed labels' values, then all labels).
pub(super) fn sort(name: &str, mut v: Vector, labels: &[String]) -> Vector {
    match name {
        "sort" | "sort_desc" => {
            let desc = name == "sort_desc";
            v.sort_by(|a, b| match (a.value.is_nan(), b.value.is_nan()) {
                (true, true) => Ordering::Equal,
                (true, false) => Ordering::Greater,
                (false, true) => Ordering::Less,
                (false, false) if desc => b.value.total_cmp(&a.value),
                (false, false) => a.value.total_cmp(&b.value),
            });
        }
        _ => {
            let desc = name == "sort_by_label_desc";
            v.sort_by(|a, b| {
                let mut ord = Ordering::Equal;
                for l in labels {
                    ord = natural_cmp(a.labels.get(l).unwrap_or(""), b.labels.get(l).unwrap_or(""));
                    if ord != Ordering::Equal {
                        break;
                    }
                }
                let ord = ord.then_with(|| a.labels.cmp(&b.labels));
                if desc { ord.reverse() } else { ord }
            });
        }
    }
    v
}

/// Compares strings with runs of digits compared as numbers.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a.first(), b.first()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) if x.is_ascii_digit() && y.is_ascii_digit() => {
                let na = a.iter().take_while(|c| c.is_ascii_digit()).count();
                let nb = b.iter().take_while(|c| c.is_ascii_digit()).count();
                let da = trim_zeros(&a[..na]);
                let db = trim_zeros(&b[..nb]);
                let ord = da.len().cmp(&db.len()).then_with(|| da.cmp(db));
                if ord != Ordering::Equal {
                    return ord;
                }
                a = &a[na..];
                b = &b[nb..];
            }
            (Some(x), Some(y)) => {
                if x != y {
                    return x.cmp(y);
                }
                a = &a[1..];
                b = &b[1..];
            }
        }
    }
}

fn trim_zeros(d: &[u8]) -> &[u8] {
    let n = d.iter().take_while(|&&c| c == b'0').count();
    &d[n..]
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian.
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// One calendar field (UTC) of a Unix time in seconds.
pub(super) fn date_part(name: &str, seconds: f64) -> f64 {
    if !seconds.is_finite() {
        return f64::NAN;
    }
    let secs = seconds as i64;
    let days = secs.div_euclid(86_400);
    let in_day = secs.rem_euclid(86_400);
    let (y, m, d) = civil(days);
    let value = match name {
        "year" => y,
        "month" => m,
        "day_of_month" => d,
        "day_of_week" => (days + 4).rem_euclid(7),
        "day_of_year" => {
            let (_, _, _) = (y, m, d);
            days - days_from_civil(y, 1, 1) + 1
        }
        "days_in_month" => match m {
            2 if is_leap(y) => 29,
            2 => 28,
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        },
        "hour" => in_day / 3600,
        "minute" => in_day % 3600 / 60,
        _ => return f64::NAN,
    };
    value as f64
}

fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_fields() {
        // 2024-02-29T13:45:00Z
        let t = 1_709_214_300.0;
        assert_eq!(date_part("year", t), 2024.0);
        assert_eq!(date_part("month", t), 2.0);
        assert_eq!(date_part("day_of_month", t), 29.0);
        assert_eq!(date_part("days_in_month", t), 29.0);
        assert_eq!(date_part("day_of_year", t), 60.0);
        assert_eq!(date_part("day_of_week", t), 4.0);
        assert_eq!(date_part("hour", t), 13.0);
        assert_eq!(date_part("minute", t), 45.0);
        assert_eq!(date_part("year", 0.0), 1970.0);
    }

    #[test]
    fn natural_order() {
        assert_eq!(natural_cmp("a2", "a10"), Ordering::Less);
        assert_eq!(natural_cmp("b", "a10"), Ordering::Greater);
    }
}
