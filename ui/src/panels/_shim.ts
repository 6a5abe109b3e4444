// TEMPORARY stand-in for the ui-data lane's modules (src/data/{units,reducers,display,thresholds,colors,
// displayName}.ts) with the same API, so the panels compile and render before those land. Deleted once they do.

import type { Threshold } from '../data/fieldConfig';
import type { DataFrame, Field } from '../data/frame';

export interface FormattedValue {
  text: string;
  prefix?: string;
  suffix?: string;
}
export type ValueFormatter = (value: number, decimals?: number | null) => FormattedValue;

export function formattedValueToString(v: FormattedValue): string {
  return `${v.prefix ?? ''}${v.text}${v.suffix ?? ''}`;
}

function fixed(value: number, decimals?: number | null): string {
  if (!Number.isFinite(value)) return String(value);
  if (decimals != null) return value.toFixed(decimals);
  const abs = Math.abs(value);
  const d = abs === 0 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(abs)));
  return String(Number(value.toFixed(Math.min(d, 10))));
}

function scaled(steps: string[], factor: number): ValueFormatter {
  return (value, decimals) => {
    let i = 0;
    let v = value;
    while (Math.abs(v) >= factor && i < steps.length - 1) {
      v /= factor;
      i++;
    }
    return { text: fixed(v, decimals), suffix: steps[i] };
  };
}

export function getValueFormat(id?: string | null): ValueFormatter {
  switch (id ?? 'short') {
    case 'none':
      return (v, d) => ({ text: fixed(v, d) });
    case 'percent':
      return (v, d) => ({ text: fixed(v, d), suffix: '%' });
    case 'percentunit':
      return (v, d) => ({ text: fixed(v * 100, d), suffix: '%' });
    case 's':
      return (v, d) =>
        Math.abs(v) < 1 && v !== 0
          ? { text: fixed(v * 1000, d), suffix: ' ms' }
          : { text: fixed(v, d), suffix: ' s' };
    case 'ms':
      return (v, d) =>
        Math.abs(v) >= 1000
          ? { text: fixed(v / 1000, d), suffix: ' s' }
          : { text: fixed(v, d), suffix: ' ms' };
    case 'bytes':
      return scaled([' B', ' KiB', ' MiB', ' GiB', ' TiB'], 1024);
    case 'reqps':
      return (v, d) => ({ text: fixed(v, d), suffix: ' req/s' });
    default:
      return scaled(['', ' K', ' Mil', ' Bil', ' Tri'], 1000);
  }
}

export function reduceField(field: Field, ids: string[]): Record<string, unknown> {
  const nums = field.values.filter((v): v is number => typeof v === 'number' && !Number.isNaN(v));
  const all = field.values as (number | null)[];
  const out: Record<string, unknown> = {};
  for (const id of ids) {
    switch (id) {
      case 'last':
        out[id] = all.length ? (all[all.length - 1] ?? null) : null;
        break;
      case 'first':
        out[id] = all.length ? (all[0] ?? null) : null;
        break;
      case 'lastNotNull':
        out[id] = nums.length ? nums[nums.length - 1] : null;
        break;
      case 'firstNotNull':
        out[id] = nums.length ? nums[0] : null;
        break;
      case 'mean':
        out[id] = nums.length ? nums.reduce((a, b) => a + b, 0) / nums.length : null;
        break;
      case 'sum':
        out[id] = nums.reduce((a, b) => a + b, 0);
        break;
      case 'min':
        out[id] = nums.length ? Math.min(...nums) : null;
        break;
      case 'max':
        out[id] = nums.length ? Math.max(...nums) : null;
        break;
      case 'count':
        out[id] = all.length;
        break;
      case 'range':
        out[id] = nums.length ? Math.max(...nums) - Math.min(...nums) : null;
        break;
      case 'delta':
      case 'diff':
        out[id] = nums.length ? nums[nums.length - 1] - nums[0] : null;
        break;
      default:
        out[id] = nums.length ? nums[nums.length - 1] : null;
    }
  }
  return out;
}

const NAMED: Record<string, string> = {
  green: '#73BF69',
  'dark-green': '#37872D',
  'semi-dark-green': '#56A64B',
  'light-green': '#96D98D',
  red: '#F2495C',
  'dark-red': '#C4162A',
  'semi-dark-red': '#E02F44',
  'light-red': '#FF7383',
  yellow: '#FADE2A',
  'dark-yellow': '#E0B400',
  orange: '#FF9830',
  'dark-orange': '#FA6400',
  blue: '#5794F2',
  'dark-blue': '#1F60C4',
  purple: '#B877D9',
  'dark-purple': '#8F3BB8',
  text: '#ccccdc',
  transparent: 'transparent',
};
export function getColorForTheme(name: string | undefined | null): string {
  if (!name) return '#808080';
  return NAMED[name] ?? name;
}
export const classicPalette = [
  '#7EB26D',
  '#EAB839',
  '#6ED0E0',
  '#EF843C',
  '#E24D42',
  '#1F78C1',
  '#BA43A9',
  '#705DA0',
  '#508642',
  '#CCA300',
];

export function getActiveThreshold(value: number, steps: Threshold[]): Threshold {
  let active = steps[0] ?? { value: null, color: 'green' };
  for (const s of steps) {
    if (s.value === null || value >= s.value) active = s;
    else break;
  }
  return active;
}

export function fieldColor(field: Field, index: number): string {
  const c = field.config.color;
  if (c?.mode === 'fixed' && c.fixedColor) return getColorForTheme(c.fixedColor);
  if (c?.mode === 'thresholds') return getColorForTheme(field.config.thresholds?.steps[0]?.color ?? 'green');
  return classicPalette[index % classicPalette.length];
}

export interface DisplayValue {
  text: string;
  numeric: number;
  color?: string;
  prefix?: string;
  suffix?: string;
  title?: string;
  percent?: number;
}

export function getDisplayProcessor(opts: {
  field?: Field;
  timeZone?: string;
}): (value: unknown) => DisplayValue {
  const config = opts.field?.config ?? {};
  const fmt = getValueFormat(config.unit);
  return (value: unknown): DisplayValue => {
    let numeric = typeof value === 'number' ? value : Number.NaN;
    if (typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))
      numeric = Number(value);
    let color: string | undefined;
    let text: string | undefined;
    for (const m of config.mappings ?? []) {
      if (m.type === 'value' && value != null && m.options[String(value)]) {
        text = m.options[String(value)].text;
        color = m.options[String(value)].color;
      } else if (
        m.type === 'special' &&
        (value == null || Number.isNaN(numeric)) &&
        m.options.match.includes('null')
      ) {
        if (value == null) {
          text = m.options.result.text;
          color = m.options.result.color;
        }
      } else if (m.type === 'range' && Number.isFinite(numeric)) {
        const { from, to, result } = m.options;
        if ((from == null || numeric >= from) && (to == null || numeric <= to)) {
          text = result.text;
          color = result.color;
        }
      }
      if (text !== undefined || color !== undefined) break;
    }
    const min = config.min ?? 0;
    const max = config.max ?? 100;
    let percent: number | undefined;
    if (Number.isFinite(numeric)) {
      percent = max > min ? (numeric - min) / (max - min) : 0;
      if (!color) {
        const mode = config.color?.mode ?? 'thresholds';
        if (mode === 'fixed' && config.color?.fixedColor) color = getColorForTheme(config.color.fixedColor);
        else if (config.thresholds) {
          const v = config.thresholds.mode === 'percentage' ? percent * 100 : numeric;
          color = getColorForTheme(getActiveThreshold(v, config.thresholds.steps).color);
        } else color = mode === 'thresholds' ? '#73BF69' : classicPalette[0];
      }
    }
    if (text !== undefined) return { text, numeric, color, percent };
    if (value == null || (typeof value === 'number' && Number.isNaN(value)))
      return { text: config.noValue ?? '', numeric: Number.NaN, color };
    if (!Number.isFinite(numeric)) return { text: String(value), numeric, color };
    const f = fmt(numeric, config.decimals);
    return { text: f.text, prefix: f.prefix, suffix: f.suffix, numeric, color, percent };
  };
}

export function getFieldDisplayName(field: Field, frame?: DataFrame, allFrames?: DataFrame[]): string {
  if (field.config.displayName) return field.config.displayName;
  if (field.config.displayNameFromDS) return field.config.displayNameFromDS;
  const labels = field.labels ?? {};
  const keys = Object.keys(labels).filter((k) => k !== '__name__');
  if (keys.length === 1 && (allFrames?.length ?? 1) > 1) return labels[keys[0]];
  if (keys.length || labels.__name__) {
    const inner = keys.map((k) => `${k}="${labels[k]}"`).join(', ');
    return `${labels.__name__ ?? ''}${inner ? `{${inner}}` : ''}`;
  }
  if (frame?.name && field.name === 'Value') return frame.name;
  return field.name;
}
