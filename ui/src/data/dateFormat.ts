// Date formatting with moment.js-style patterns ("YYYY-MM-DD HH:mm:ss"), the
// syntax Grafana's dateTime units and `time:<pattern>` units use, in a given
// time zone ('utc', 'browser'/'' for the local zone, or an IANA name), plus
// moment's relative "5 minutes ago" wording. No moment dependency.

/** Wall-clock fields in a time zone, without the instant's weekday and offset. */
export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  ms: number;
}

/** The calendar fields of one instant as seen in one time zone. */
export interface DateParts extends WallTime {
  weekday: number; // 0 = Sunday
  /** Minutes east of UTC. */
  offset: number;
}

const MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];
const WEEKDAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];

const zoneFormatters = new Map<string, Intl.DateTimeFormat | null>();

/** An Intl formatter for an IANA zone, or null when the name is not a zone. */
function zoneFormatter(zone: string): Intl.DateTimeFormat | null {
  let f = zoneFormatters.get(zone);
  if (f === undefined) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone: zone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      });
    } catch {
      f = null;
    }
    zoneFormatters.set(zone, f);
  }
  return f;
}

/** Whether a zone name means UTC (Grafana stores 'utc'; any case is accepted). */
function isUtc(tz: string): boolean {
  return tz.toLowerCase() === 'utc';
}

/** The IANA formatter for a zone name, or null for UTC and for the browser's zone ('browser', '', unknown names). */
function ianaZone(tz: string): Intl.DateTimeFormat | null {
  return tz && tz !== 'browser' && !isUtc(tz) ? zoneFormatter(tz) : null;
}

/** Wall-clock fields read as if they were UTC. setUTCFullYear keeps years 0-99 (Date.UTC would make them 1900-1999). */
function utcOf(f: WallTime): number {
  const d = new Date(0);
  d.setUTCFullYear(f.year, f.month - 1, f.day);
  d.setUTCHours(f.hour, f.minute, f.second, f.ms);
  return d.getTime();
}

/** The fields of an instant in an IANA zone, and the zone's exact offset there in ms (LMT offsets have seconds). */
function ianaParts(whole: number, f: Intl.DateTimeFormat): { parts: DateParts; offsetMs: number } {
  const parts: Record<string, string> = {};
  for (const p of f.formatToParts(new Date(whole))) parts[p.type] = p.value;
  const hour = Number(parts.hour);
  const fields = {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    // Some engines say 24 for midnight even with h23.
    hour: hour === 24 ? 0 : hour,
    minute: Number(parts.minute),
    second: Number(parts.second),
    ms: ((whole % 1000) + 1000) % 1000,
  };
  const offsetMs = utcOf(fields) - whole;
  const weekday = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'].indexOf(parts.weekday);
  return { parts: { ...fields, weekday, offset: Math.round(offsetMs / 60000) }, offsetMs };
}

/** Splits `ms` into calendar fields in `timeZone` (unknown names fall back to the local zone, as Grafana does). */
export function dateParts(ms: number, timeZone?: string): DateParts {
  const d = new Date(ms);
  const tz = timeZone ?? '';
  if (isUtc(tz)) {
    return {
      year: d.getUTCFullYear(),
      month: d.getUTCMonth() + 1,
      day: d.getUTCDate(),
      hour: d.getUTCHours(),
      minute: d.getUTCMinutes(),
      second: d.getUTCSeconds(),
      ms: d.getUTCMilliseconds(),
      weekday: d.getUTCDay(),
      offset: 0,
    };
  }
  const f = ianaZone(tz);
  // Date truncates fractional milliseconds; the fields follow the instant Date holds.
  if (f) return ianaParts(d.getTime(), f).parts;
  return {
    year: d.getFullYear(),
    month: d.getMonth() + 1,
    day: d.getDate(),
    hour: d.getHours(),
    minute: d.getMinutes(),
    second: d.getSeconds(),
    ms: d.getMilliseconds(),
    weekday: d.getDay(),
    // moment rounds the local offset to whole minutes (historic LMT offsets have seconds).
    offset: -Math.round(d.getTimezoneOffset()),
  };
}

/**
 * Epoch ms of wall-clock fields in `timeZone` (the inverse of dateParts, for calendar date math). Fields may
 * overflow (month 13, day 0) as Date's setters allow. In a DST gap or overlap the IANA case settles where
 * moment-timezone does: guess with the offset at the wall time read as UTC, then correct once.
 */
export function zonedTime(f: WallTime, timeZone?: string): number {
  const tz = timeZone ?? '';
  if (isUtc(tz)) return utcOf(f);
  const fmt = ianaZone(tz);
  if (!fmt) {
    const d = new Date(0);
    d.setFullYear(f.year, f.month - 1, f.day);
    d.setHours(f.hour, f.minute, f.second, f.ms);
    return d.getTime();
  }
  const wall = utcOf(f);
  const offsetAt = (t: number) => ianaParts(t, fmt).offsetMs;
  const t = wall - offsetAt(wall);
  return wall - offsetAt(t);
}

function pad(n: number, width: number): string {
  const s = String(Math.abs(n)).padStart(width, '0');
  return n < 0 ? `-${s}` : s;
}

function ordinal(n: number): string {
  const b = n % 10;
  const suffix =
    Math.floor((n % 100) / 10) === 1 ? 'th' : b === 1 ? 'st' : b === 2 ? 'nd' : b === 3 ? 'rd' : 'th';
  return `${n}${suffix}`;
}

function zone(offset: number, sep: string): string {
  const sign = offset < 0 ? '-' : '+';
  const a = Math.abs(offset);
  return `${sign}${pad(Math.floor(a / 60), 2)}${sep}${pad(a % 60, 2)}`;
}

function dayOfYear(p: DateParts): number {
  return Math.round((Date.UTC(p.year, p.month - 1, p.day) - Date.UTC(p.year, 0, 1)) / 86400000) + 1;
}

// Longest tokens first, so "MMMM" wins over "MM" and "M".
const TOKEN =
  /\[([^\]]*)\]|\\(.)|YYYYYY|YYYY|YY|Qo|Q|MMMM|MMM|MMo|Mo|MM|M|DDDD|DDDo|DDD|Do|DD|D|dddd|ddd|do|dd|d|HH|H|hh|h|kk|k|mm|m|ss|s|S{1,9}|A|a|ZZ|Z|X|x|./gsu;

function token(tok: string, p: DateParts, ms: number): string {
  switch (tok) {
    case 'YYYYYY':
      return (p.year < 0 ? '-' : '+') + pad(Math.abs(p.year), 6);
    case 'YYYY':
      return pad(p.year, 4);
    case 'YY':
      return pad(p.year % 100, 2);
    case 'Q':
      return String(Math.ceil(p.month / 3));
    case 'Qo':
      return ordinal(Math.ceil(p.month / 3));
    case 'MMMM':
      return MONTHS[p.month - 1];
    case 'MMM':
      return MONTHS[p.month - 1].slice(0, 3);
    case 'MM':
      return pad(p.month, 2);
    case 'M':
      return String(p.month);
    case 'Mo':
      return ordinal(p.month);
    case 'DDDD':
      return pad(dayOfYear(p), 3);
    case 'DDD':
      return String(dayOfYear(p));
    case 'DDDo':
      return ordinal(dayOfYear(p));
    case 'DD':
      return pad(p.day, 2);
    case 'D':
      return String(p.day);
    case 'Do':
      return ordinal(p.day);
    case 'dddd':
      return WEEKDAYS[p.weekday];
    case 'ddd':
      return WEEKDAYS[p.weekday].slice(0, 3);
    case 'dd':
      return WEEKDAYS[p.weekday].slice(0, 2);
    case 'd':
      return String(p.weekday);
    case 'do':
      return ordinal(p.weekday);
    case 'HH':
      return pad(p.hour, 2);
    case 'H':
      return String(p.hour);
    case 'hh':
      return pad(p.hour % 12 || 12, 2);
    case 'h':
      return String(p.hour % 12 || 12);
    case 'kk':
      return pad(p.hour || 24, 2);
    case 'k':
      return String(p.hour || 24);
    case 'mm':
      return pad(p.minute, 2);
    case 'm':
      return String(p.minute);
    case 'ss':
      return pad(p.second, 2);
    case 's':
      return String(p.second);
    case 'A':
      return p.hour < 12 ? 'AM' : 'PM';
    case 'a':
      return p.hour < 12 ? 'am' : 'pm';
    case 'ZZ':
      return zone(p.offset, '');
    case 'Z':
      return zone(p.offset, ':');
    case 'X':
      return String(Math.floor(ms / 1000));
    case 'x':
      return String(ms);
  }
  if (tok[0] === 'S') {
    // Fractional seconds: moment shows milliseconds, padded with zeros past 3 digits.
    return pad(p.ms, 3).padEnd(tok.length, '0').slice(0, tok.length);
  }
  return tok;
}

/**
 * Formats epoch milliseconds with a moment-style pattern in a time zone.
 * Text in `[brackets]` and `\x` escapes is literal. An invalid instant (NaN,
 * ±Infinity, out of Date's range) gives "Invalid date", as moment does.
 */
export function formatDate(ms: number, pattern: string, timeZone?: string): string {
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return 'Invalid date';
  const p = dateParts(ms, timeZone);
  return pattern.replace(TOKEN, (m: string, literal?: string, escaped?: string) => {
    if (literal !== undefined) return literal;
    if (escaped !== undefined) return escaped;
    return token(m, p, ms);
  });
}

/**
 * Moment's relative wording for `ms` against `now` ("a few seconds ago", "in
 * 5 minutes", "a year ago"), with moment's default thresholds and rounding.
 */
export function formatTimeAgo(ms: number, now: number = Date.now()): string {
  if (!Number.isFinite(ms) || Number.isNaN(new Date(ms).getTime())) return 'Invalid date';
  const diff = now - ms; // positive: in the past
  const abs = Math.abs(diff);
  const seconds = Math.round(abs / 1000);
  const minutes = Math.round(abs / 60000);
  const hours = Math.round(abs / 3600000);
  const days = Math.round(abs / 86400000);
  // moment converts days to months with the 400-year Gregorian cycle average.
  const monthsExact = ((abs / 86400000) * 4800) / 146097;
  const months = Math.round(monthsExact);
  const years = Math.round(monthsExact / 12);
  let text: string;
  if (seconds <= 44) text = 'a few seconds';
  else if (minutes <= 1) text = 'a minute';
  else if (minutes < 45) text = `${minutes} minutes`;
  else if (hours <= 1) text = 'an hour';
  else if (hours < 22) text = `${hours} hours`;
  else if (days <= 1) text = 'a day';
  else if (days < 26) text = `${days} days`;
  else if (months <= 1) text = 'a month';
  else if (months < 11) text = `${months} months`;
  else if (years <= 1) text = 'a year';
  else text = `${years} years`;
  return diff >= 0 ? `${text} ago` : `in ${text}`;
}

/**
 * A moment-style pattern for the browser's locale built from Intl's parts for
 * `options` (what Grafana's "Local" dateTime units use), e.g. en-US gives
 * "MM/DD/YYYY, hh:mm:ss A".
 */
export function localTimePattern(options: Intl.DateTimeFormatOptions, locale?: string | string[]): string {
  let f: Intl.DateTimeFormat;
  try {
    f = new Intl.DateTimeFormat(locale, options);
  } catch {
    f = new Intl.DateTimeFormat('en-US', options);
  }
  const hour12 = f.resolvedOptions().hour12;
  const map: Record<string, string> = {
    year: 'YYYY',
    month: 'MM',
    day: 'DD',
    hour: hour12 ? 'hh' : 'HH',
    minute: 'mm',
    second: 'ss',
    weekday: 'ddd',
    era: 'N',
    dayPeriod: 'A',
    timeZoneName: 'Z',
  };
  return f
    .formatToParts(new Date())
    .map((part) => map[part.type] || part.value)
    .join('');
}
