//! Functions over range vectors: `rate` and friends with Prometheus'
//! extrapolation, `*_over_time`, `deriv`, `predict_linear`, `changes`, ….

use model::algebra::{KahanSum, prometheus_mean, prometheus_quantile, prometheus_variance};

use crate::value::Point;

/// `rate`, `increase` and `delta`: the change over the window, extrapolated
/// towards the window's edges as Prometheus does. `start` is the window's
/// open start, `end` its end.
pub(crate) fn extrapolated_delta(
    points: &[Point],
    start: i64,
    end: i64,
    is_counter: bool,
    is_rate: bool,
) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let first = points[0];
    let last = points[points.len() - 1];
    let mut result = last.v - first.v;
    if is_counter {
        let mut prev = first.v;
        for p in &points[1..] {
            if p.v < prev {
                result += prev;
            }
            prev = p.v;
        }
    }
    let range_secs = (end - start) as f64 / 1000.0;
    let mut to_start = (first.t - start) as f64 / 1000.0;
    let mut to_end = (end - last.t) as f64 / 1000.0;
    let sampled = (last.t - first.t) as f64 / 1000.0;
    let average = sampled / (points.len() - 1) as f64;
    let threshold = average * 1.1;
    if to_start >= threshold {
        to_start = average / 2.0;
    }
    if is_counter && result > 0.0 && first.v >= 0.0 {
        // A counter cannot go below zero: do not extrapolate past the time
        // it would have been zero.
        let to_zero = sampled * (first.v / result);
        if to_zero < to_start {
            to_start = to_zero;
        }
    }
    if to_end >= threshold {
        to_end = average / 2.0;
    }
    let factor = (sampled + to_start + to_end) / sampled;
    let mut value = result * factor;
    if is_rate {
        value /= range_secs;
    }
    Some(value)
}

/// `irate` and `idelta`: from the last two samples.
pub(crate) fn instant_delta(points: &[Point], is_rate: bool) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let last = points[points.len() - 1];
    let prev = points[points.len() - 2];
    let mut result = if is_rate && last.v < prev.v {
        last.v
    } else {
        last.v - prev.v
    };
    if is_rate {
        let interval = (last.t - prev.t) as f64 / 1000.0;
        if interval == 0.0 {
            return None;
        }
        result /= interval;
    }
    Some(result)
}

/// Least-squares line through the points, with the intercept at
/// `intercept_time`: `(slope, intercept)`.
pub(crate) fn linear_regression(points: &[Point], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut sum_y, mut sum_xy, mut sum_x2) = (
        0.0,
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
        KahanSum::default(),
    );
    let init = points.first().map_or(0.0, |p| p.v);
    let mut constant = true;
    for (i, p) in points.iter().enumerate() {
        if constant && i > 0 && p.v != init {
            constant = false;
        }
        n += 1.0;
        let x = (p.t - intercept_time) as f64 / 1000.0;
        sum_x.add(x);
        sum_y.add(p.v);
        sum_xy.add(x * p.v);
        sum_x2.add(x * x);
    }
    if constant {
        if init.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init);
    }
    let (sx, sy, sxy, sx2) = (sum_x.value(), sum_y.value(), sum_xy.value(), sum_x2.value());
    let cov = sxy - sx * sy / n;
    let var = sx2 - sx * sx / n;
    let slope = cov / var;
    let intercept = sy / n - slope * sx / n;
    (slope, intercept)
}

pub(crate) fn sum(points: &[Point]) -> f64 {
    let mut k = KahanSum::default();
    for p in points {
        k.add(p.v);
    }
    k.value()
}

pub(crate) fn avg(points: &[Point]) -> f64 {
    prometheus_mean(points.iter().map(|p| p.v))
}

pub(crate) fn variance(points: &[Point]) -> f64 {
    prometheus_variance(points.iter().map(|p| p.v))
}

/// Go's `math.Max`: NaN wins.
pub(crate) fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN wins.
pub(crate) fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

/// Prometheus' φ-quantile (NaN ordered first).
pub(crate) fn quantile(q: f64, values: Vec<f64>) -> f64 {
    prometheus_quantile(q, values)
}

/// `double_exponential_smoothing(v, sf, tf)` (formerly `holt_winters`).
pub(crate) fn double_exponential_smoothing(points: &[Point], sf: f64, tf: f64) -> Option<f64> {
    if points.len() < 2 {
        return None;
    }
    let mut s0 = 0.0;
    let mut s1 = points[0].v;
    let mut b = points[1].v - points[0].v;
    for (i, p) in points.iter().enumerate().skip(1) {
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let next = sf * p.v + (1.0 - sf) * (s1 + b);
        s0 = s1;
        s1 = next;
    }
    Some(s1)
}
