// Time ranges as Grafana's time picker has them: date math (`now-6h`, `now/d`), absolute times, the
// quick-range list and its descriptions, zoom out, and panel time overrides. Pure: `now` is a parameter.
//
// Grafana does this with moment-timezone; we do the same calendar arithmetic on wall-clock fields in the
// dashboard's time zone ('utc', 'browser' or '' for the browser's zone, or an IANA name through Intl), so a
// day or a month is a calendar day or month there, not a fixed number of milliseconds.

import { dateParts, formatDate, formatTimeAgo, zonedTime } from '../data/dateFormat';

/** 'utc', 'browser', '' (= browser) or an IANA zone name such as 'Europe/Berlin'. */
export type TimeZone = string;

/** The text of a range as the dashboard JSON and the URL hold it. */
export interface RawTimeRange {
  from: string;
  to: string;
}

export interface TimeRange {
  /** Epoch milliseconds. */
  from: number;
  to: number;
  raw: RawTimeRange;
}

export interface QuickRange {
  from: string;
  to: string;
  display: string;
}

export interface DateMathOptions {
  timeZone?: TimeZone;
  /** 0 = Sunday (moment's 'en' locale, Grafana's default), 1 = Monday, 6 = Saturday. */
  weekStart?: number;
  /** 0 = January. Used by the fiscal units `fQ` and `fy`. */
  fiscalYearStartMonth?: number;
}

// ---- Calendar fields in a time zone ----

// Moment-token formatting (`${__from:date:YYYY-MM-DD}`) is data/dateFormat's; re-exported for this module's callers.
export { formatDate };

interface Fields {
  year: number;
  /** 0-11 */
  month: number;
  /** 1-31 */
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** The fields of `ms` in the zone, split by data/dateFormat (month made 0-11 for the arithmetic here). */
function toFields(ms: number, tz: TimeZone | undefined): Fields {
  const p = dateParts(ms, tz);
  return {
    year: p.year,
    month: p.month - 1,
    day: p.day,
    hour: p.hour,
    minute: p.minute,
    second: p.second,
    ms: p.ms,
  };
}

/** Epoch ms of wall-clock fields in a zone; fields may overflow (month 13, day 0) as Date's setters allow. */
function fromFields(f: Fields, tz: TimeZone | undefined): number {
  return zonedTime({ ...f, month: f.month + 1 }, tz);
}

/** Wall-clock fields read as UTC (an ISO time with an explicit offset). */
function utcOf(f: Fields): number {
  return fromFields(f, 'utc');
}

/** The zone's offset from UTC in minutes at an instant (positive east of Greenwich). */
export function zoneOffsetMinutes(ms: number, tz: TimeZone | undefined): number {
  return dateParts(ms, tz).offset;
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
}

// ---- moment's add / startOf / endOf ----

type Unit = 'y' | 'Q' | 'M' | 'w' | 'd' | 'h' | 'm' | 's';
const UNITS: readonly string[] = ['y', 'M', 'w', 'd', 'h', 'm', 's', 'Q'];
const FIXED_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000 };

function addUnits(ms: number, n: number, unit: Unit, tz: TimeZone | undefined): number {
  const fixed = FIXED_MS[unit];
  // Hours and smaller are elapsed time (an hour across a DST change is still 3600 s), as in moment.
  if (fixed !== undefined) return ms + n * fixed;
  const f = toFields(ms, tz);
  if (unit === 'd' || unit === 'w') {
    f.day += unit === 'w' ? n * 7 : n;
    return fromFields(f, tz);
  }
  const months = unit === 'y' ? n * 12 : unit === 'Q' ? n * 3 : n;
  const total = f.year * 12 + f.month + months;
  f.year = Math.floor(total / 12);
  f.month = total - f.year * 12;
  // moment keeps the day of month when it can and otherwise takes the month's last day (Jan 31 + 1M = Feb 28).
  f.day = Math.min(f.day, daysInMonth(f.year, f.month));
  return fromFields(f, tz);
}

function startOf(ms: number, unit: Unit, tz: TimeZone | undefined, weekStart: number): number {
  const f = toFields(ms, tz);
  switch (unit) {
    case 'y':
      f.month = 0;
      f.day = 1;
      f.hour = f.minute = f.second = f.ms = 0;
      break;
    case 'Q':
      f.month -= f.month % 3;
      f.day = 1;
      f.hour = f.minute = f.second = f.ms = 0;
      break;
    case 'M':
      f.day = 1;
      f.hour = f.minute = f.second = f.ms = 0;
      break;
    case 'w': {
      const weekday = new Date(Date.UTC(f.year, f.month, f.day)).getUTCDay();
      f.day -= (weekday - weekStart + 7) % 7;
      f.hour = f.minute = f.second = f.ms = 0;
      break;
    }
    case 'd':
      f.hour = f.minute = f.second = f.ms = 0;
      break;
    case 'h':
      f.minute = f.second = f.ms = 0;
      break;
    case 'm':
      f.second = f.ms = 0;
      break;
    case 's':
      f.ms = 0;
      break;
  }
  return fromFields(f, tz);
}

function endOf(ms: number, unit: Unit, tz: TimeZone | undefined, weekStart: number): number {
  return addUnits(startOf(ms, unit, tz, weekStart), 1, unit, tz) - 1;
}

/** Rounds to a fiscal quarter or year that starts in `fyStartMonth` (moment-free copy of Grafana's rule). */
function roundToFiscal(
  ms: number,
  unit: Unit,
  roundUp: boolean,
  fyStartMonth: number,
  tz: TimeZone | undefined,
): number | undefined {
  if (unit !== 'y' && unit !== 'Q') return undefined;
  const month = toFields(ms, tz).month;
  const back = unit === 'y' ? (month - fyStartMonth + 12) % 12 : (month - fyStartMonth + 12) % 3;
  const start = startOf(addUnits(ms, -back, 'M', tz), 'M', tz, 0);
  if (!roundUp) return start;
  return endOf(addUnits(start, unit === 'y' ? 11 : 2, 'M', tz), 'M', tz, 0);
}

// ---- Date math ----

/** At most this many digits in one number of a math expression (Grafana's limit). */
const MAX_MATH_TOKEN_DIGITS = 5;

/** Applies the math part of an expression (`-1d/d`, `+5m`) to a time. Undefined when it is malformed. */
export function parseDateMath(
  mathString: string,
  time: number,
  roundUp = false,
  opts: DateMathOptions = {},
): number | undefined {
  const s = mathString.replace(/\s/g, '');
  const weekStart = opts.weekStart ?? 0;
  let result = time;
  let i = 0;
  const isDigit = (c: string) => c >= '0' && c <= '9';
  while (i < s.length) {
    const op = s.charAt(i++);
    if (op !== '/' && op !== '+' && op !== '-') return undefined;
    let num: number;
    if (!isDigit(s.charAt(i))) {
      num = 1;
    } else if (s.length === 2) {
      num = Number(s.charAt(i));
    } else {
      const from = i;
      while (isDigit(s.charAt(i))) {
        i++;
        if (i - from > MAX_MATH_TOKEN_DIGITS) return undefined;
      }
      num = Number(s.substring(from, i));
    }
    // Rounding takes no number other than an implicit 1 (`/d`, not `/2d`).
    if (op === '/' && num !== 1) return undefined;
    let unit = s.charAt(i++);
    let fiscal = false;
    if (unit === 'f') {
      unit = s.charAt(i++);
      fiscal = true;
    }
    if (!UNITS.includes(unit)) return undefined;
    const u = unit as Unit;
    if (op === '/') {
      if (fiscal) {
        const r = roundToFiscal(result, u, roundUp, opts.fiscalYearStartMonth ?? 0, opts.timeZone);
        // Grafana's fiscal rounding of other units leaves the time as it is.
        if (r !== undefined) result = r;
      } else {
        result = roundUp
          ? endOf(result, u, opts.timeZone, weekStart)
          : startOf(result, u, opts.timeZone, weekStart);
      }
    } else {
      result = addUnits(result, op === '+' ? num : -num, u, opts.timeZone);
    }
  }
  return result;
}

/** Whether text is date math relative to now (`now...`) or to an anchor (`2023-01-01||+1d`). */
export function isMathString(text: string | undefined | null): boolean {
  if (!text) return false;
  return text.substring(0, 3) === 'now' || text.includes('||');
}

const ISO_RE =
  /^(\d{4})-?(\d{2})-?(\d{2})(?:[T ](\d{2})(?::?(\d{2})(?::?(\d{2})(?:[.,](\d{1,9}))?)?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Parses an ISO-8601 date or date-time (as moment's ISO_8601 parser does), in `tz` unless it has an offset. */
export function parseIsoDate(text: string, tz?: TimeZone): number | undefined {
  const m = ISO_RE.exec(text.trim());
  if (!m) return undefined;
  const f: Fields = {
    year: Number(m[1]),
    month: Number(m[2]) - 1,
    day: Number(m[3]),
    hour: Number(m[4] ?? 0),
    minute: Number(m[5] ?? 0),
    second: Number(m[6] ?? 0),
    ms: m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000 + 1e-9) : 0,
  };
  if (f.month > 11 || f.day < 1 || f.day > daysInMonth(f.year, f.month) || f.hour > 24 || f.minute > 59) {
    return undefined;
  }
  if (f.second > 59) return undefined;
  const zone = m[8];
  if (!zone) return fromFields(f, tz);
  if (zone.toUpperCase() === 'Z') return utcOf(f);
  const sign = zone[0] === '-' ? -1 : 1;
  const digits = zone.slice(1).replace(':', '');
  const offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  return utcOf(f) - offset * 60_000;
}

/**
 * Grafana's `dateMath.parse`: `now` with math (`now-5m`, `now/d`, `now-1d/d`), `<ISO date>||<math>`, or an
 * ISO date. `roundUp` makes rounding go to the end of the unit (used for `to`). Undefined when invalid.
 */
function parse(
  text: string | undefined | null,
  roundUp = false,
  now: number = Date.now(),
  opts: DateMathOptions = {},
): number | undefined {
  if (!text) return undefined;
  let time: number | undefined;
  let math: string;
  if (text.substring(0, 3) === 'now') {
    time = now;
    math = text.substring(3);
  } else {
    const idx = text.indexOf('||');
    const anchor = idx === -1 ? text : text.substring(0, idx);
    math = idx === -1 ? '' : text.substring(idx + 2);
    time = parseIsoDate(anchor, opts.timeZone);
  }
  if (time === undefined) return undefined;
  if (!math.length) return time;
  return parseDateMath(math, time, roundUp, opts);
}

export const dateMath = {
  parse,
  parseDateMath,
  isMathString,
  isValid(text: string, now: number = Date.now()): boolean {
    return parse(text, false, now) !== undefined;
  },
};

/**
 * One end of a range as the time picker and the URL give it, as Grafana's `dateTimeParse` reads it:
 * date math (invalid math means now), epoch milliseconds (`1690000000000`), `YYYYMMDD`,
 * `YYYYMMDDTHHmmss`, `YYYY-MM-DD HH:mm:ss` (in the dashboard's zone) or ISO (`...Z` is UTC).
 * Undefined when it is none of those.
 */
export function parseTimeInput(
  value: string | number,
  roundUp: boolean,
  now: number = Date.now(),
  opts: DateMathOptions = {},
): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  const text = value.trim();
  if (text.includes('now')) return parse(text, roundUp, now, opts) ?? now;
  if (/^\d{8}$/.test(text) || /^\d{8}T\d{6}$/i.test(text)) {
    const iso = parseIsoDate(text, opts.timeZone);
    if (iso !== undefined) return iso;
  }
  if (/^-?\d+$/.test(text)) return Number(text);
  return parseIsoDate(text, opts.timeZone);
}

/** Grafana's convertRawToRange: `from` rounds down, `to` rounds up. Unparseable ends fall back to now-6h/now. */
export function parseTimeRange(
  raw: RawTimeRange,
  now: number = Date.now(),
  opts: DateMathOptions = {},
): TimeRange {
  const from = parseTimeInput(raw.from, false, now, opts) ?? now - 6 * 3_600_000;
  const to = parseTimeInput(raw.to, true, now, opts) ?? now;
  return { from, to, raw };
}

/** The range of a dashboard that does not say one. */
export const DEFAULT_TIME_RANGE: RawTimeRange = { from: 'now-6h', to: 'now' };

// ---- Quick ranges and descriptions ----

function lastN(n: number, unit: string): string {
  return `Last ${n} ${unit}${n === 1 ? '' : 's'}`;
}
function nextN(n: number, unit: string): string {
  return `Next ${n} ${unit}${n === 1 ? '' : 's'}`;
}

/** The time picker's quick ranges, in the order Grafana's picker lists them (@grafana/ui quickOptions). */
export const QUICK_RANGES: readonly QuickRange[] = [
  { from: 'now-5m', to: 'now', display: lastN(5, 'minute') },
  { from: 'now-15m', to: 'now', display: lastN(15, 'minute') },
  { from: 'now-30m', to: 'now', display: lastN(30, 'minute') },
  { from: 'now-1h', to: 'now', display: lastN(1, 'hour') },
  { from: 'now-3h', to: 'now', display: lastN(3, 'hour') },
  { from: 'now-6h', to: 'now', display: lastN(6, 'hour') },
  { from: 'now-12h', to: 'now', display: lastN(12, 'hour') },
  { from: 'now-24h', to: 'now', display: lastN(24, 'hour') },
  { from: 'now-2d', to: 'now', display: lastN(2, 'day') },
  { from: 'now-7d', to: 'now', display: lastN(7, 'day') },
  { from: 'now-30d', to: 'now', display: lastN(30, 'day') },
  { from: 'now-90d', to: 'now', display: lastN(90, 'day') },
  { from: 'now-6M', to: 'now', display: lastN(6, 'month') },
  { from: 'now-1y', to: 'now', display: lastN(1, 'year') },
  { from: 'now-2y', to: 'now', display: lastN(2, 'year') },
  { from: 'now-5y', to: 'now', display: lastN(5, 'year') },
  { from: 'now-1d/d', to: 'now-1d/d', display: 'Yesterday' },
  { from: 'now-2d/d', to: 'now-2d/d', display: 'Day before yesterday' },
  { from: 'now-7d/d', to: 'now-7d/d', display: 'This day last week' },
  { from: 'now-1w/w', to: 'now-1w/w', display: 'Previous week' },
  { from: 'now-1M/M', to: 'now-1M/M', display: 'Previous month' },
  { from: 'now-1Q/fQ', to: 'now-1Q/fQ', display: 'Previous fiscal quarter' },
  { from: 'now-1y/y', to: 'now-1y/y', display: 'Previous year' },
  { from: 'now-1y/fy', to: 'now-1y/fy', display: 'Previous fiscal year' },
  { from: 'now/d', to: 'now/d', display: 'Today' },
  { from: 'now/d', to: 'now', display: 'Today so far' },
  { from: 'now/w', to: 'now/w', display: 'This week' },
  { from: 'now/w', to: 'now', display: 'This week so far' },
  { from: 'now/M', to: 'now/M', display: 'This month' },
  { from: 'now/M', to: 'now', display: 'This month so far' },
  { from: 'now/y', to: 'now/y', display: 'This year' },
  { from: 'now/y', to: 'now', display: 'This year so far' },
  { from: 'now/fQ', to: 'now', display: 'This fiscal quarter so far' },
  { from: 'now/fQ', to: 'now/fQ', display: 'This fiscal quarter' },
  { from: 'now/fy', to: 'now', display: 'This fiscal year so far' },
  { from: 'now/fy', to: 'now/fy', display: 'This fiscal year' },
];

/** Ranges Grafana names but does not list in the picker (the future). */
const HIDDEN_RANGES: readonly QuickRange[] = [
  ['1m', 1, 'minute'],
  ['5m', 5, 'minute'],
  ['15m', 15, 'minute'],
  ['30m', 30, 'minute'],
  ['1h', 1, 'hour'],
  ['3h', 3, 'hour'],
  ['6h', 6, 'hour'],
  ['12h', 12, 'hour'],
  ['24h', 24, 'hour'],
  ['2d', 2, 'day'],
  ['7d', 7, 'day'],
  ['30d', 30, 'day'],
  ['90d', 90, 'day'],
  ['6M', 6, 'month'],
  ['1y', 1, 'year'],
  ['2y', 2, 'year'],
  ['5y', 5, 'year'],
].map(([span, n, unit]) => ({ from: 'now', to: `now+${span}`, display: nextN(n as number, unit as string) }));

const STANDARD_RANGES: readonly QuickRange[] = [...QUICK_RANGES, ...HIDDEN_RANGES];

const SPAN_NAMES: Record<string, string> = {
  s: 'second',
  m: 'minute',
  h: 'hour',
  d: 'day',
  w: 'week',
  M: 'month',
  Q: 'quarter',
  y: 'year',
  fQ: 'fiscal quarter',
  fy: 'fiscal year',
};

export interface TextRangeInfo extends QuickRange {
  invalid?: boolean;
}

/** Grafana's describeTextRange: `5m` / `now-5m` -> Last 5 minutes, `+1h` -> Next 1 hour. */
export function describeTextRange(expr: string): TextRangeInfo {
  const isLast = expr.indexOf('+') !== 0;
  let e = expr;
  if (e.indexOf('now') === -1) e = (isLast ? 'now-' : 'now') + e;
  const known = STANDARD_RANGES.find((o) => o.from === e && o.to === 'now');
  if (known) return { ...known };
  const opt: TextRangeInfo = isLast
    ? { from: e, to: 'now', display: '' }
    : { from: 'now', to: e, display: '' };
  const parts = /^now([-+])(\d+)(f[Qy]|[yMwdhmsQ])/.exec(e);
  if (parts) {
    const amount = Number.parseInt(parts[2], 10);
    const name = SPAN_NAMES[parts[3]];
    opt.display = `${isLast ? 'Last ' : 'Next '}${amount} ${name}${amount > 1 ? 's' : ''}`;
  } else {
    opt.display = `${opt.from} to ${opt.to}`;
    opt.invalid = true;
  }
  return opt;
}

/** Whether a panel's relative time / time shift text is usable (Grafana's isValidTimeSpan). */
export function isValidTimeSpan(value: string): boolean {
  if (value.indexOf('$') === 0 || value.indexOf('+$') === 0) return true;
  return describeTextRange(value).invalid !== true;
}

/** `YYYY-MM-DD HH:mm:ss` in the zone: Grafana's default full date format. */
export function formatDateTime(ms: number, tz?: TimeZone, withMs = false): string {
  return formatDate(ms, withMs ? 'YYYY-MM-DD HH:mm:ss.SSS' : 'YYYY-MM-DD HH:mm:ss', tz);
}

/** moment's `fromNow()` wording: "a few seconds ago", "5 minutes ago", "in 2 hours". */
export function timeAgo(ms: number, now: number): string {
  return formatTimeAgo(ms, now);
}

/**
 * What the time picker shows for a range (Grafana's describeTimeRange): a quick range's name, "Last 10
 * minutes" for `now-10m` to `now`, `YYYY-MM-DD HH:mm:ss to YYYY-MM-DD HH:mm:ss` for absolute ends.
 */
export function describeTimeRange(
  raw: RawTimeRange,
  tz?: TimeZone,
  now: number = Date.now(),
  /** The dashboard's own `timepicker.quick_ranges`, which win over Grafana's names. */
  quickRanges: readonly QuickRange[] = [],
): string {
  const known = [...quickRanges, ...STANDARD_RANGES].find((o) => o.from === raw.from && o.to === raw.to);
  if (known) return known.display;
  const fromAbs = raw.from.includes('now')
    ? undefined
    : parseTimeInput(raw.from, false, now, { timeZone: tz });
  const toAbs = raw.to.includes('now') ? undefined : parseTimeInput(raw.to, true, now, { timeZone: tz });
  if (fromAbs !== undefined && toAbs !== undefined) {
    return `${formatDateTime(fromAbs, tz)} to ${formatDateTime(toAbs, tz)}`;
  }
  if (fromAbs !== undefined) {
    const to = parse(raw.to, true, now, { timeZone: 'utc' });
    return to !== undefined ? `${formatDateTime(fromAbs, tz)} to ${timeAgo(to, now)}` : '';
  }
  if (toAbs !== undefined) {
    const from = parse(raw.from, false, now, { timeZone: 'utc' });
    return from !== undefined ? `${timeAgo(from, now)} to ${formatDateTime(toAbs, tz)}` : '';
  }
  if (raw.to === 'now') return describeTextRange(raw.from).display;
  return `${raw.from} to ${raw.to}`;
}

/** Whether either end moves with the clock (the dashboard re-evaluates it on refresh). */
export function isRelativeTimeRange(raw: RawTimeRange): boolean {
  return raw.from.includes('now') || raw.to.includes('now');
}

// ---- Changing the range ----

/** Grafana's zoom out: the centre stays, the span is multiplied by `factor`. Returns absolute ms. */
export function zoomOut(range: { from: number; to: number }, factor = 2): { from: number; to: number } {
  const span = range.to - range.from;
  const centre = range.to - span / 2;
  return { from: Math.round(centre - (span * factor) / 2), to: Math.round(centre + (span * factor) / 2) };
}

/** The time picker's arrows: move the range back (-1) or forward (+1) by half its span, as Grafana does. */
export function shiftRange(
  range: { from: number; to: number },
  direction: -1 | 1,
): { from: number; to: number } {
  const half = Math.floor((range.to - range.from) / 2);
  return direction < 0
    ? { from: range.from - half, to: range.to - half }
    : { from: range.from + half, to: range.to + half };
}

/** A range as URL parameters: date math kept as text, absolute ends as epoch ms (Grafana's toURLRange). */
export function toUrlRange(raw: RawTimeRange, now: number = Date.now()): RawTimeRange {
  const end = (text: string, up: boolean) =>
    text.includes('now') ? text : String(parseTimeInput(text, up, now) ?? text);
  return { from: end(raw.from, false), to: end(raw.to, true) };
}

// ---- Panel time overrides ----

export interface PanelTimeOptions {
  /** Relative time: `5m`, `now-2h`, `now/d`... */
  timeFrom?: string;
  /** Time shift: `1h`, `1d/d`... (the range is moved back by it). */
  timeShift?: string;
  hideTimeOverride?: boolean;
}

export interface PanelTimeResult {
  range: TimeRange;
  /** What Grafana shows in the panel header ("Last 5 minutes timeshift -1h"); empty when nothing applies. */
  timeInfo: string;
  /** Set when an override is not valid; the dashboard's range is used. */
  error?: string;
}

/**
 * Applies a panel's relative time (`timeFrom`, only when the dashboard range is relative, as Grafana) and
 * time shift (`timeShift`). `replace` interpolates variables in them first.
 */
export function applyPanelTimeOverrides(
  panel: PanelTimeOptions,
  range: TimeRange,
  now: number = Date.now(),
  opts: DateMathOptions = {},
  replace: (text: string) => string = (t) => t,
): PanelTimeResult {
  let out: PanelTimeResult = { range, timeInfo: '' };
  if (panel.timeFrom) {
    const info = describeTextRange(replace(panel.timeFrom));
    if (info.invalid) return { range, timeInfo: 'invalid time override', error: 'invalid time override' };
    if (isMathString(range.raw.from) || range.raw.from.includes('now')) {
      const from = parse(info.from, false, now, opts);
      const to = parse(info.to, true, now, opts);
      if (from !== undefined && to !== undefined) {
        out = { range: { from, to, raw: { from: info.from, to: info.to } }, timeInfo: info.display };
      }
    }
  }
  if (panel.timeShift) {
    const text = replace(panel.timeShift);
    const info = describeTextRange(text);
    if (info.invalid) return { range: out.range, timeInfo: 'invalid timeshift', error: 'invalid timeshift' };
    const shift = `-${text}`;
    const from = parseDateMath(shift, out.range.from, false, opts);
    const to = parseDateMath(shift, out.range.to, true, opts);
    if (from !== undefined && to !== undefined) {
      out = {
        range: { from, to, raw: { from: String(from), to: String(to) } },
        timeInfo: `${out.timeInfo} timeshift ${shift}`,
      };
    }
  }
  if (panel.hideTimeOverride) out.timeInfo = '';
  return out;
}
