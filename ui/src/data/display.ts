// The display processor: turns one raw value of a field into what panels
// show (text with prefix/suffix, colour, percent of range) using the field's
// unit, decimals, value mappings, thresholds, colour mode and "no value" text.
import { getColorForTheme } from './colors';
import { getScaleCalculator } from './fieldColor';
import type { Field } from './frame';
import { getValueMappingResult } from './mappings';
import { formattedValueToString, getValueFormat, isBooleanUnit } from './units';

export interface DisplayValue {
  text: string;
  /** The value as a number (NaN when it is not one). */
  numeric: number;
  prefix?: string;
  suffix?: string;
  color?: string;
  /** 0..1 within the field's range (gauges, bar gauges). */
  percent?: number;
  title?: string;
  icon?: string;
}

export type DisplayProcessor = (value: unknown, adjacentDecimals?: number | null) => DisplayValue;

export interface DisplayProcessorOptions {
  field?: Field;
  /** 'utc', 'browser' (default) or an IANA zone, for date units. */
  timeZone?: string;
}

const DATE_UNITS = new Set([
  'dateTimeAsIso',
  'dateTimeAsIsoNoDateIfToday',
  'dateTimeAsUS',
  'dateTimeAsUSNoDateIfToday',
  'dateTimeAsLocal',
  'dateTimeAsLocalNoDateIfToday',
  'dateTimeFromNow',
]);

/** A value as a number the way Grafana reads one: booleans 1/0, numeric strings parsed, else NaN. */
export function anyToNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (value === '' || value === null || value === undefined || Array.isArray(value)) return Number.NaN;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'symbol') return Number.NaN;
  if (typeof value === 'bigint') return Number(value);
  // Signed hex ("-0x1f") is not a number, as in lodash's toNumber.
  if (typeof value === 'string' && /^\s*[-+]0x/i.test(value)) return Number.NaN;
  return Number(value);
}

/** A value as text: null/undefined are empty, -0 keeps its sign (as lodash's toString). */
function valueToString(value: unknown): string {
  if (value == null) return '';
  if (typeof value === 'number' && Object.is(value, -0)) return '-0';
  return String(value);
}

function toStringProcessor(value: unknown): DisplayValue {
  return { text: valueToString(value), numeric: anyToNumber(value) };
}

/** Parses a date string to epoch ms (ISO and RFC forms; no zone means UTC, as Grafana's toUtc), NaN when unparseable. */
function parseDate(text: string): number {
  const local = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text);
  return new Date(local ? `${text.replace(' ', 'T')}Z` : text).getTime();
}

/** A display processor for a field; with no field, values are shown as plain strings. */
export function getDisplayProcessor(options?: DisplayProcessorOptions): DisplayProcessor {
  const field = options?.field;
  if (!field) return toStringProcessor;
  const config = field.config ?? {};
  let unit = config.unit;
  let hasDateUnit = Boolean(unit && (DATE_UNITS.has(unit) || unit.startsWith('time:')));
  let showMs = false;
  if (field.type === 'time' && !hasDateUnit) {
    unit = 'dateTimeAsSystem';
    hasDateUnit = true;
    if (field.values.length > 1) {
      const first = field.values[0];
      const last = field.values[field.values.length - 1];
      const sec = (v: unknown) =>
        typeof v === 'string' ? Math.floor(parseDate(v) / 1000) : (v as number) / 1000;
      // Spans under a minute show milliseconds.
      showMs = Math.abs(sec(last) - sec(first)) < 60;
    }
  } else if (field.type === 'boolean') {
    if (!isBooleanUnit(unit)) unit = 'bool';
  } else if (!unit && field.type === 'string') {
    unit = 'string';
  }
  const isStringUnit = unit === 'string';
  const canTrimZeros =
    !hasDateUnit &&
    !unit?.startsWith('currency') &&
    !isBooleanUnit(unit) &&
    unit !== 'locale' &&
    field.type === 'number' &&
    config.decimals == null;
  const format = getValueFormat(unit || 'none');
  const scale = getScaleCalculator(field);
  const mappings = config.mappings;
  const timeZone = options?.timeZone;

  return (raw, adjacentDecimals) => {
    let value = raw;
    if (hasDateUnit && typeof value === 'string') value = parseDate(value);
    const numeric = isStringUnit ? Number.NaN : anyToNumber(value);
    let text: string | undefined;
    let prefix: string | undefined;
    let suffix: string | undefined;
    let color: string | undefined;
    let icon: string | undefined;
    let percent: number | undefined;

    if (mappings && mappings.length > 0) {
      const hit = getValueMappingResult(mappings, value);
      if (hit) {
        if (hit.text != null) text = hit.text;
        if (hit.color != null) color = getColorForTheme(hit.color);
        if (hit.icon != null) icon = hit.icon;
      }
    }

    if (!Number.isNaN(numeric)) {
      if (text == null && typeof value !== 'boolean') {
        let v: { text: string; prefix?: string; suffix?: string };
        if (canTrimZeros && adjacentDecimals != null) {
          // Legends align values to shared decimals, then drop trailing zeros.
          v = format(numeric, adjacentDecimals, null, timeZone, showMs);
          const asNumber = +v.text;
          if (!Number.isNaN(asNumber)) v.text = `${asNumber}`;
        } else {
          v = format(numeric, config.decimals, null, timeZone, showMs);
        }
        text = v.text;
        suffix = v.suffix;
        prefix = v.prefix;
      }
      if (color == null) {
        const s = scale(numeric);
        color = s.color;
        percent = s.percent;
      }
    }

    if (text == null && Array.isArray(value)) text = value.join(', ');
    if (text == null) {
      text = valueToString(value);
      if (!text) text = config.noValue ? config.noValue : '';
    }
    if (!color) {
      const s = scale(Number.NEGATIVE_INFINITY);
      color = s.color;
      percent = s.percent;
    }
    const out: DisplayValue = { text, numeric, prefix, suffix, color };
    if (icon != null) out.icon = icon;
    if (percent != null) out.percent = percent;
    return out;
  };
}

/** The display text of a value: prefix + text + suffix. */
export function displayValueToString(v: DisplayValue): string {
  return formattedValueToString(v);
}
