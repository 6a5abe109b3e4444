// Query intervals as Grafana computes them: `$__interval` from the range and max data points rounded to
// Grafana's table, the datasource's or panel's minimum interval, `$__rate_interval`, and the other built-in
// variables (`$__range`, `$__from`...) a panel query sees.

/** The seconds in each interval unit (a month is 30 days and a year 365, as in Grafana). */
const UNIT_SECONDS: Record<string, number> = {
  y: 31_536_000,
  M: 2_592_000,
  w: 604_800,
  d: 86_400,
  h: 3_600,
  m: 60,
  s: 1,
  ms: 0.001,
};

const INTERVAL_RE = /^(-?\d+(?:\.\d+)?)(ms|[Mwdhmsy])/;

export class IntervalError extends Error {
  override name = 'IntervalError';
}

export interface IntervalInfo {
  /** Seconds per unit. */
  sec: number;
  type: string;
  count: number;
}

/**
 * Grafana's describeInterval: `15s` -> {sec:1,type:'s',count:15}; a bare number is seconds. Like Grafana it
 * keeps the integer part of the count (`1.5m` counts 1) and ignores what follows the unit. Throws
 * IntervalError on anything else.
 */
export function describeInterval(str: string): IntervalInfo {
  if (Number(str)) return { sec: 1, type: 's', count: Number.parseInt(str, 10) };
  const m = INTERVAL_RE.exec(str);
  if (!m) {
    throw new IntervalError(
      `Invalid interval string, has to be either unit-less or end with one of the following units: "${Object.keys(UNIT_SECONDS).join(', ')}"`,
    );
  }
  return { sec: UNIT_SECONDS[m[2]], type: m[2], count: Number.parseInt(m[1], 10) };
}

export function intervalToSeconds(str: string): number {
  const info = describeInterval(str);
  return info.sec * info.count;
}

export function intervalToMs(str: string): number {
  const info = describeInterval(str);
  return info.sec * 1000 * info.count;
}

/**
 * A minimum interval as dashboards write it: `10s`, or `>10s` (the older "at least" spelling, which
 * Grafana's kbn stripped). Empty or unparseable gives undefined rather than an exception: a broken panel
 * option must not stop the dashboard.
 */
export function parseMinInterval(text: string | undefined | null): number | undefined {
  if (!text) return undefined;
  const t = text.trim().replace(/^>/, '');
  if (!t) return undefined;
  try {
    return intervalToMs(t);
  } catch {
    return undefined;
  }
}

/** Grafana's table: a raw interval in ms snaps to the nearest "nice" interval (1s, 2s, 5s, 10s, 15s, ...). */
const ROUND_TABLE: readonly [number, number][] = [
  [10, 1],
  [15, 10],
  [35, 20],
  [75, 50],
  [150, 100],
  [350, 200],
  [750, 500],
  [1_500, 1_000],
  [3_500, 2_000],
  [7_500, 5_000],
  [12_500, 10_000],
  [17_500, 15_000],
  [25_000, 20_000],
  [45_000, 30_000],
  [90_000, 60_000],
  [210_000, 120_000],
  [450_000, 300_000],
  [750_000, 600_000],
  [1_050_000, 900_000],
  [1_500_000, 1_200_000],
  [2_700_000, 1_800_000],
  [5_400_000, 3_600_000],
  [9_000_000, 7_200_000],
  [16_200_000, 10_800_000],
  [32_400_000, 21_600_000],
  [86_400_000, 43_200_000],
  [604_800_000, 86_400_000],
  [1_814_400_000, 604_800_000],
  [3_628_800_000, 2_592_000_000],
];

export function roundInterval(intervalMs: number): number {
  for (const [below, value] of ROUND_TABLE) {
    if (intervalMs < below) return value;
  }
  return 31_536_000_000;
}

/** Grafana's secondsToHms: the largest whole unit only (90 s -> `1m`), as `$__interval` is written. */
export function secondsToHms(seconds: number): string {
  const years = Math.floor(seconds / 31_536_000);
  if (years) return `${years}y`;
  const days = Math.floor((seconds % 31_536_000) / 86_400);
  if (days) return `${days}d`;
  const hours = Math.floor(((seconds % 31_536_000) % 86_400) / 3_600);
  if (hours) return `${hours}h`;
  const minutes = Math.floor((((seconds % 31_536_000) % 86_400) % 3_600) / 60);
  if (minutes) return `${minutes}m`;
  const secs = Math.floor((((seconds % 31_536_000) % 86_400) % 3_600) % 60);
  if (secs) return `${secs}s`;
  const ms = Math.floor(seconds * 1000);
  if (ms) return `${ms}ms`;
  return 'less than a millisecond';
}

export interface Interval {
  /** `$__interval`, e.g. `15s`. */
  interval: string;
  /** `$__interval_ms`. */
  intervalMs: number;
}

/**
 * Grafana's rangeutil.calculateInterval: (to - from) / resolution rounded to the table, at least
 * `lowLimit` (an interval string such as `15s`; `>15s` accepted). Throws IntervalError on a malformed
 * lowLimit, as Grafana does; use `panelInterval` for the forgiving variant.
 */
export function calculateInterval(
  range: { from: number; to: number },
  resolution: number,
  lowLimit?: string | null,
): Interval {
  let lowLimitMs = 1;
  if (lowLimit) lowLimitMs = intervalToMs(lowLimit.replace(/^>/, ''));
  let intervalMs = roundInterval((range.to - range.from) / resolution);
  if (lowLimitMs > intervalMs) intervalMs = lowLimitMs;
  return { intervalMs, interval: secondsToHms(intervalMs / 1000) };
}

/** Grafana's default when neither the panel nor the container says how many points fit. */
export const DEFAULT_MAX_DATA_POINTS = 500;

export interface PanelIntervalInput {
  range: { from: number; to: number };
  /** The panel's own `maxDataPoints`, if set. */
  maxDataPoints?: number | null;
  /** The panel's width in px (Grafana uses it as max data points unless the panel sets them). */
  widthPx?: number;
  /** The panel's `interval` (min interval, may be `>10s`), variables already replaced. */
  panelInterval?: string | null;
  /** The datasource's `jsonData.timeInterval` (its scrape interval). */
  dsTimeInterval?: string | null;
}

export interface PanelInterval extends Interval {
  maxDataPoints: number;
}

/**
 * What a panel's queries get as interval and max data points: the panel's min interval overrides the
 * datasource's `timeInterval`; an unparseable one is ignored.
 */
export function panelInterval(input: PanelIntervalInput): PanelInterval {
  const width = input.widthPx && input.widthPx > 0 ? Math.floor(input.widthPx) : DEFAULT_MAX_DATA_POINTS;
  const maxDataPoints = input.maxDataPoints && input.maxDataPoints > 0 ? input.maxDataPoints : width;
  const candidates = [input.panelInterval, input.dsTimeInterval];
  let lowLimit: string | undefined;
  for (const c of candidates) {
    if (c && parseMinInterval(c) !== undefined) {
      lowLimit = c;
      break;
    }
  }
  return { ...calculateInterval(input.range, maxDataPoints, lowLimit), maxDataPoints };
}

/** Prometheus' default scrape interval when the datasource sets no `timeInterval`. */
export const DEFAULT_SCRAPE_MS = 15_000;

/** `$__rate_interval` in ms: max(interval + scrape, 4 × scrape); a zero scrape counts as 15 s. */
export function rateInterval(intervalMs: number, scrapeMs: number = DEFAULT_SCRAPE_MS): number {
  const scrape = scrapeMs > 0 ? scrapeMs : DEFAULT_SCRAPE_MS;
  return Math.max(intervalMs + scrape, 4 * scrape);
}

/** A built-in variable's value: strings are substituted as they are, numbers as their decimal text. */
export type BuiltinValue = string | number;

/**
 * The built-in variables of a panel query: `__interval`, `__interval_ms`, `__rate_interval`,
 * `__rate_interval_ms`, `__range`, `__range_s`, `__range_ms`, `__from`, `__to`, `__auto`.
 * Keys have no `$`. `__from`/`__to` are epoch ms; `${__from:date:iso}` and friends format them.
 */
export function builtinVariables(
  range: { from: number; to: number },
  interval: Interval,
  scrapeMs: number = DEFAULT_SCRAPE_MS,
): Record<string, BuiltinValue> {
  const rangeMs = range.to - range.from;
  const rangeS = Math.round(rangeMs / 1000);
  // Grafana's Prometheus datasource works in whole seconds here: interval and scrape are read back as
  // seconds and the result written as `<n>s`.
  const intervalS = Math.floor(interval.intervalMs / 1000);
  const scrapeS = Math.floor(scrapeMs / 1000) || 15;
  const rateS = Math.max(intervalS + scrapeS, 4 * scrapeS);
  return {
    __interval: interval.interval,
    __interval_ms: interval.intervalMs,
    __rate_interval: `${rateS}s`,
    __rate_interval_ms: rateS * 1000,
    __range: `${rangeS}s`,
    __range_s: rangeS,
    __range_ms: rangeMs,
    __from: range.from,
    __to: range.to,
    __auto: interval.interval,
  };
}

/**
 * The built-ins that Grafana's Prometheus and Loki backends fill in themselves once they know the step
 * a query runs with (the server does: crates/dashboard/src/query/builtins.rs). A query to such a
 * datasource is sent with these left as written; everything else is interpolated here.
 */
export const BACKEND_BUILTINS: readonly string[] = [
  '__interval',
  '__interval_ms',
  '__rate_interval',
  '__rate_interval_ms',
  '__range',
  '__range_s',
  '__range_ms',
  '__auto',
];

/** The built-ins to interpolate in the browser for a query to a datasource of `dsType`. */
export function frontendBuiltins(
  builtins: Record<string, BuiltinValue>,
  dsType: string | undefined,
): Record<string, BuiltinValue> {
  if (dsType !== 'prometheus' && dsType !== 'loki') return builtins;
  const out = { ...builtins };
  for (const name of BACKEND_BUILTINS) delete out[name];
  return out;
}
