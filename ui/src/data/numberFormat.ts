// The formatted-value type every unit formatter returns, and Grafana's
// rounding with automatic decimals that all numeric units share.

export interface FormattedValue {
  text: string;
  prefix?: string;
  suffix?: string;
}

/**
 * Formats a number. `decimals` null/undefined means automatic; `timeZone` and
 * `showMs` matter only to dateTime units.
 */
export type ValueFormatter = (
  value: number | null,
  decimals?: number | null,
  scaledDecimals?: number | null,
  timeZone?: string,
  showMs?: boolean,
) => FormattedValue;

/** prefix + text + suffix. */
export function formattedValueToString(v: FormattedValue): string {
  return `${v.prefix ?? ''}${v.text}${v.suffix ?? ''}`;
}

/**
 * The number of decimals Grafana picks when none is configured: none for
 * integers, otherwise about three significant digits (12.345 -> 1, 0.01234 -> 4).
 * The steps mirror Grafana's so float edge cases (log10 of 1000) round alike.
 */
export function getDecimalsForValue(value: number): number {
  const magnitude = Math.floor(Math.log(Math.abs(value)) / Math.LN10);
  let dec = 1 - magnitude;
  const normalized = Math.abs(value) / 10 ** -dec;
  if (normalized > 2.25) dec += 1;
  if (value % 1 === 0) dec = 0;
  return Math.max(0, dec);
}

/**
 * Rounds `value` to `decimals` places (automatic when null) and pads with
 * zeros to that many places; exponent notation from String() is kept as is.
 * Infinities use the locale's sign ("∞").
 */
export function toFixed(value: number | null, decimals?: number | null): string {
  if (value === null) return '';
  if (value === Number.POSITIVE_INFINITY || value === Number.NEGATIVE_INFINITY) return value.toLocaleString();
  const places = decimals ?? getDecimalsForValue(value);
  if (value === 0) return value.toFixed(places);
  const factor = places ? 10 ** Math.max(0, places) : 1;
  const rounded = String(Math.round(value * factor) / factor);
  if (rounded.includes('e')) return rounded;
  const dot = rounded.indexOf('.');
  const have = dot === -1 ? 0 : rounded.length - dot - 1;
  if (have < places) {
    return (have ? rounded : `${rounded}.`) + String(factor).slice(1, places - have + 1);
  }
  return rounded;
}
