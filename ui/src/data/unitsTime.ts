// Time-span units (ns, µs, ms, s, m, h, d, durations, hh:mm:ss, clocks) with
// Grafana's thresholds for switching to a larger unit and its pluralisation.
import { formatDate } from './dateFormat';
import { type FormattedValue, toFixed, type ValueFormatter } from './numberFormat';

/** Grafana pluralises only these suffixes, and only after scaling. */
const PLURAL = new Set([' min', ' hour', ' day', ' week', ' year']);

/** A scaled value: `value` shown with `suffix`, plural when |value| > 1. */
function scaled(value: number, decimals: number | null | undefined, suffix: string): FormattedValue {
  return {
    text: toFixed(value, decimals),
    suffix: PLURAL.has(suffix) && Math.abs(value) > 1 ? `${suffix}s` : suffix,
  };
}

/** The value in its own unit, never pluralised. */
function plain(value: number, decimals: number | null | undefined, suffix: string): FormattedValue {
  return { text: toFixed(value, decimals), suffix };
}

const nanoseconds: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 1e3) return plain(v, d, ' ns');
  if (a < 1e6) return scaled(v / 1e3, d, ' µs');
  if (a < 1e9) return scaled(v / 1e6, d, ' ms');
  if (a < 6e10) return scaled(v / 1e9, d, ' s');
  if (a < 36e11) return scaled(v / 6e10, d, ' min');
  if (a < 864e11) return scaled(v / 36e11, d, ' hour');
  return scaled(v / 864e11, d, ' day');
};

const microseconds: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 1e3) return plain(v, d, ' µs');
  if (a < 1e6) return scaled(v / 1e3, d, ' ms');
  return scaled(v / 1e6, d, ' s');
};

const milliseconds: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 1e3) return plain(v, d, ' ms');
  if (a < 6e4) return scaled(v / 1e3, d, ' s');
  if (a < 36e5) return scaled(v / 6e4, d, ' min');
  if (a < 864e5) return scaled(v / 36e5, d, ' hour');
  if (a < 31536e6) return scaled(v / 864e5, d, ' day');
  return scaled(v / 31536e6, d, ' year');
};

const seconds: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  if (v === 0) return { text: '0', suffix: ' s' };
  const a = Math.abs(v);
  // Sub-second values are multiplied (not divided) as in Grafana, which rounds differently.
  if (a < 1e-6) return scaled(v * 1e9, d, ' ns');
  if (a < 1e-3) return scaled(v * 1e6, d, ' µs');
  if (a < 1) return scaled(v * 1e3, d, ' ms');
  if (a < 60) return plain(v, d, ' s');
  if (a < 3600) return scaled(v / 60, d, ' min');
  if (a < 86400) return scaled(v / 3600, d, ' hour');
  if (a < 604800) return scaled(v / 86400, d, ' day');
  if (a < 31536e3) return scaled(v / 604800, d, ' week');
  // Grafana divides by a 365.24-day year here but switches at 365 days.
  return scaled(v / 31556900, d, ' year');
};

const minutes: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 60) return plain(v, d, ' min');
  if (a < 1440) return scaled(v / 60, d, ' hour');
  if (a < 10080) return scaled(v / 1440, d, ' day');
  if (a < 604800) return scaled(v / 10080, d, ' week');
  return scaled(v / 525948, d, ' year');
};

const hours: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 24) return plain(v, d, ' hour');
  if (a < 168) return scaled(v / 24, d, ' day');
  if (a < 8760) return scaled(v / 168, d, ' week');
  return scaled(v / 8760, d, ' year');
};

const days: ValueFormatter = (v, d) => {
  if (v === null) return { text: '' };
  const a = Math.abs(v);
  if (a < 7) return scaled(v, d, ' day');
  if (a < 365) return scaled(v / 7, d, ' week');
  return scaled(v / 365, d, ' year');
};

const SPANS: [string, number][] = [
  ['year', 31536e3],
  ['month', 2592e3],
  ['week', 604800],
  ['day', 86400],
  ['hour', 3600],
  ['minute', 60],
  ['second', 1],
  ['millisecond', 1e-3],
];

/**
 * "2 hours, 3 minutes": the largest whole unit, then `decimals` more units
 * (each floored); negative spans end in " ago".
 */
function humanDuration(
  value: number | null,
  decimals: number | null | undefined,
  scale: string,
): FormattedValue {
  if (value === null) return { text: '' };
  if (value === 0) return { text: '0', suffix: ` ${scale}s` };
  if (value < 0) {
    const v = humanDuration(-value, decimals, scale);
    v.suffix = `${v.suffix ?? ''} ago`;
    return v;
  }
  const unitSeconds = SPANS.find(([name]) => name === scale)?.[1] ?? 1;
  let rest = value * (unitSeconds * 1000);
  const out: string[] = [];
  let started = false;
  let remaining = decimals ?? 0;
  for (let i = 0; i < SPANS.length && remaining >= 0; i++) {
    const spanMs = SPANS[i][1] * 1000;
    const count = rest / spanMs;
    if (count >= 1 || started) {
      started = true;
      const whole = Math.floor(count);
      out.push(`${whole} ${SPANS[i][0]}${whole !== 1 ? 's' : ''}`);
      rest %= spanMs;
      remaining--;
    }
  }
  return { text: out.join(', ') };
}

function two(n: number): string {
  return n > 9 ? `${n}` : `0${n}`;
}

/** "01:02:03" from seconds; negative spans end in " ago". */
function hms(value: number | null): FormattedValue {
  const size = value ?? 0;
  if (size < 0) {
    const v = hms(-size);
    v.suffix = `${v.suffix ?? ''} ago`;
    return v;
  }
  const h = Math.floor(size / 3600);
  const m = Math.floor((size % 3600) / 60);
  const s = Math.floor((size % 3600) % 60);
  return { text: `${two(h)}:${two(m)}:${two(s)}` };
}

/** "2 d 01:02:03" from seconds (the day part only when there is at least one). */
function dhms(value: number | null): FormattedValue {
  const size = value ?? 0;
  if (size < 0) {
    const v = dhms(-size);
    v.suffix = `${v.suffix ?? ''} ago`;
    return v;
  }
  const d = Math.floor(size / 86400);
  return { text: (d > 0 ? `${d} d ` : '') + hms(size - d * 24 * 3600).text };
}

/** "01h:02m:03s:004ms"-style clock from ms; `decimals` trims the smaller parts. */
function clock(ms: number | null, decimals: number | null | undefined): FormattedValue {
  if (ms === null) return { text: '' };
  const f = (pattern: string) => formatDate(ms, pattern, 'utc');
  if (ms < 1000) return { text: f('SSS[ms]') };
  if (ms < 60000) return { text: f(decimals === 0 ? 'ss[s]' : 'ss[s]:SSS[ms]') };
  if (ms < 3600000) {
    return { text: f(decimals === 0 ? 'mm[m]' : decimals === 1 ? 'mm[m]:ss[s]' : 'mm[m]:ss[s]:SSS[ms]') };
  }
  const h = `${Math.floor(ms / 3600000)}h`;
  const rest =
    decimals === 0 ? '' : decimals === 1 ? 'mm[m]' : decimals === 2 ? 'mm[m]:ss[s]' : 'mm[m]:ss[s]:SSS[ms]';
  return { text: rest ? `${h}:${f(rest)}` : h };
}

/** The time-span units by id. */
export const DURATION_UNITS: Record<string, ValueFormatter> = {
  ns: nanoseconds,
  µs: microseconds,
  ms: milliseconds,
  s: seconds,
  m: minutes,
  h: hours,
  d: days,
  dtdurationms: (v, d) => humanDuration(v, d, 'millisecond'),
  dtdurations: (v, d) => humanDuration(v, d, 'second'),
  dthms: (v) => hms(v),
  dtdhms: (v) => dhms(v),
  timeticks: (v, d) => seconds((v ?? 0) / 100, d), // Grafana divides null too, giving "0 s"
  clockms: (v, d) => clock(v, d),
  clocks: (v, d) => clock((v ?? 0) * 1000, d),
};
