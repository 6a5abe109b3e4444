// The values a stat, gauge or bar gauge shows: Grafana's getFieldDisplayValues (reduce each matching field
// with the panel's calcs, or one value per row when `values: true`), and the square grid they are laid in.

import { type DisplayValue, getDisplayProcessor } from '../data/display';
import { getFieldDisplayName } from '../data/displayName';
import type { FieldConfig } from '../data/fieldConfig';
import type { DataFrame, Field } from '../data/frame';
import { reduceField } from '../data/reducers';
import type { ReduceOptions } from './types';

/** Grafana's cap on values when `values: true` and no limit is set. */
export const DEFAULT_VALUES_LIMIT = 25;

export interface Sparkline {
  x?: Field;
  y: Field;
  /** Row the reducer's value comes from (last, first, min, max...), drawn as a dot. */
  highlightIndex?: number;
}

export interface FieldDisplay {
  /** The reducer id (or '' for a row value, 'No data' when nothing matched). */
  name: string;
  config: FieldConfig;
  display: DisplayValue;
  sparkline?: Sparkline;
}

export interface FieldDisplayOptions {
  frames: DataFrame[];
  reduceOptions?: Partial<ReduceOptions>;
  defaults?: FieldConfig;
  replaceVariables?: (text: string) => string;
  sparkline?: boolean;
}

/** Turns `"/regex/flags"` into a RegExp; anything else matches by exact name. */
export function fieldNameMatcher(pattern: string): (name: string) => boolean {
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(pattern);
  let re: RegExp;
  try {
    re = m
      ? new RegExp(m[1], m[2].replace('g', ''))
      : new RegExp(`^${pattern.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`);
  } catch {
    return (name) => name === pattern;
  }
  return (name) => re.test(name);
}

function timeField(frame: DataFrame): Field | undefined {
  return frame.fields.find((f) => f.type === 'time');
}

function highlightIndex(y: Field, calc: string): number | undefined {
  const vals = y.values;
  const ok = (v: unknown) => typeof v === 'number' && !Number.isNaN(v);
  switch (calc) {
    case 'last':
      return vals.length - 1;
    case 'first':
      return 0;
    case 'lastNotNull':
      for (let k = vals.length - 1; k >= 0; k--) if (ok(vals[k])) return k;
      return undefined;
    case 'firstNotNull':
      for (let k = 0; k < vals.length; k++) if (ok(vals[k])) return k;
      return undefined;
    case 'min':
    case 'max': {
      let idx = -1;
      let best = calc === 'min' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
      vals.forEach((v, k) => {
        if (ok(v) && (calc === 'min' ? (v as number) < best : (v as number) > best)) {
          best = v as number;
          idx = k;
        }
      });
      return idx >= 0 ? idx : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Reduces a field: numbers through reducers.ts; other types (a string column picked by the `fields`
 * regex) only by position, the reducers that make sense for text, as Grafana's stat shows them.
 */
export function reduceAny(field: Field, calcs: string[]): Record<string, unknown> {
  if (field.type === 'number') return reduceField(field, calcs);
  const vals = field.values;
  const present = (v: unknown) => v !== null && v !== undefined && v !== '';
  const out: Record<string, unknown> = {};
  for (const calc of calcs) {
    switch (calc) {
      case 'first':
        out[calc] = vals[0] ?? null;
        break;
      case 'firstNotNull':
        out[calc] = vals.find(present) ?? null;
        break;
      case 'last':
        out[calc] = vals.length ? vals[vals.length - 1] : null;
        break;
      case 'count':
        out[calc] = vals.length;
        break;
      case 'distinctCount':
        out[calc] = new Set(vals).size;
        break;
      default: {
        // lastNotNull and every numeric reducer: the last value present, so text still shows.
        let v: unknown = null;
        for (let i = vals.length - 1; i >= 0; i--) {
          if (present(vals[i])) {
            v = vals[i];
            break;
          }
        }
        out[calc] = v;
      }
    }
  }
  return out;
}

/** A row's name when every row is its own value: the other string columns, else the field's name. */
function rowName(frame: DataFrame, field: Field, row: number, allFrames: DataFrame[]): string {
  if (field.config.displayName) return field.config.displayName;
  const parts: string[] = [];
  let otherNumeric = 0;
  for (const other of frame.fields) {
    if (other === field) continue;
    if (other.type === 'string') {
      const v = other.values[row];
      if (v != null && String(v).length > 0) parts.push(String(v));
    } else if (other.type === 'number') otherNumeric++;
  }
  if (otherNumeric || parts.length === 0) parts.push(getFieldDisplayName(field, frame, allFrames));
  return parts.join(' ');
}

/** Min and max over every numeric value of every frame (Grafana's global field range). */
export function globalRange(frames: DataFrame[]): { min: number; max: number } | undefined {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const frame of frames) {
    for (const f of frame.fields) {
      if (f.type !== 'number') continue;
      for (const v of f.values) {
        if (typeof v !== 'number' || !Number.isFinite(v)) continue;
        if (v < min) min = v;
        if (v > max) max = v;
      }
    }
  }
  return Number.isFinite(min) ? { min, max } : undefined;
}

/**
 * A field config with min/max filled as Grafana does when unset: 0-100 for percent, 0-1 for percentunit,
 * else the data's global range (thresholds in percentage mode and gauges are drawn against it).
 */
export function withRange(config: FieldConfig, range: { min: number; max: number } | undefined): FieldConfig {
  if (config.min != null && config.max != null) return config;
  const implied =
    config.unit === 'percent'
      ? { min: 0, max: 100 }
      : config.unit === 'percentunit'
        ? { min: 0, max: 1 }
        : range;
  if (!implied) return config;
  return { ...config, min: config.min ?? implied.min, max: config.max ?? implied.max };
}

export function getFieldDisplayValues(opts: FieldDisplayOptions): FieldDisplay[] {
  const range = globalRange(opts.frames);
  const reduce = opts.reduceOptions ?? {};
  // Hand-edited dashboards sometimes hold a bare string here; Grafana's default is last.
  const calcs = Array.isArray(reduce.calcs) && reduce.calcs.length ? reduce.calcs.map(String) : ['last'];
  const limit = reduce.limit ? reduce.limit : DEFAULT_VALUES_LIMIT;
  const replace = opts.replaceVariables ?? ((s: string) => s);
  const byName =
    typeof reduce.fields === 'string' && reduce.fields ? fieldNameMatcher(reduce.fields) : undefined;
  const out: FieldDisplay[] = [];
  for (const frame of opts.frames) {
    const time = timeField(frame);
    for (const field of frame.fields) {
      if (out.length >= limit && reduce.values) break;
      const name = getFieldDisplayName(field, frame, opts.frames);
      if (byName ? !byName(name) && !byName(field.name) : field.type !== 'number') continue;
      // applyFieldOverrides leaves the range percentages use in field.state (config limits, else the data's).
      // Limits: the config's, else the unit's implied 0-100 / 0-1, else the range applyFieldOverrides left
      // in field.state, else the data's.
      const implied = withRange(field.config, undefined);
      const state = field.state?.range;
      const base = state
        ? { ...implied, min: implied.min ?? state.min, max: implied.max ?? state.max }
        : implied;
      const config = withRange(base, range);
      const display = getDisplayProcessor({ field: config === field.config ? field : { ...field, config } });
      if (reduce.values) {
        for (let row = 0; row < field.values.length && out.length < limit; row++) {
          out.push({
            name: '',
            config,
            display: { ...display(field.values[row]), title: rowName(frame, field, row, opts.frames) },
          });
        }
        continue;
      }
      const results = reduceAny(field, calcs);
      for (const calc of calcs) {
        const dv = display(results[calc] ?? null);
        dv.title = field.config.displayName ? replace(field.config.displayName) : name;
        const fd: FieldDisplay = { name: calc, config, display: dv };
        if (opts.sparkline && time && field.values.length > 1) {
          fd.sparkline = { x: time, y: field, highlightIndex: highlightIndex(field, calc) };
        }
        out.push(fd);
      }
    }
  }
  if (out.length === 0) out.push(noValueDisplay(opts.defaults ?? {}));
  return out;
}

/** What a panel shows when no field matched: `noValue`, else "No data". */
export function noValueDisplay(defaults: FieldConfig): FieldDisplay {
  const dv = getDisplayProcessor({ field: { name: '', type: 'other', config: defaults, values: [] } })(null);
  return {
    name: 'No data',
    config: { ...defaults, min: defaults.min ?? 0, max: defaults.max ?? 0 },
    display: { text: dv.text || 'No data', numeric: 0, color: dv.color },
  };
}

/** The longest title/text/prefix/suffix among the values: every value is sized to fit the widest one. */
export interface AlignmentFactors {
  title: string;
  text: string;
  prefix: string;
  suffix: string;
}
export function alignmentFactors(values: FieldDisplay[]): AlignmentFactors {
  const f: AlignmentFactors = { title: '', text: '', prefix: '', suffix: '' };
  for (const { display: d } of values) {
    if (d.text && d.text.length > f.text.length) f.text = d.text;
    if (d.title && d.title.length > f.title.length) f.title = d.title;
    if (d.prefix && d.prefix.length > f.prefix.length) f.prefix = d.prefix;
    if (d.suffix && d.suffix.length > f.suffix.length) f.suffix = d.suffix;
  }
  return f;
}

export interface Box {
  x: number;
  y: number;
  width: number;
  height: number;
}

/**
 * Where each of `count` values goes in a `width`×`height` box. orientation 'horizontal' stacks them
 * (one per row), 'vertical' puts them side by side, 'auto' picks the grid whose cells are the largest
 * squares that fit (as Grafana's stat panel does); the last row's cells share its whole width.
 */
export function layoutValues(
  count: number,
  width: number,
  height: number,
  orientation: string | undefined,
  spacing: number,
  autoGrid = true,
): Box[] {
  const boxes: Box[] = [];
  if (count <= 0) return boxes;
  let dir = orientation ?? 'auto';
  if (dir === 'auto' && !autoGrid) dir = width > height ? 'vertical' : 'horizontal';
  if (dir === 'horizontal' || count === 1) {
    const h = (height - spacing * (count - 1)) / count;
    for (let i = 0; i < count; i++) boxes.push({ x: 0, y: i * (h + spacing), width, height: h });
    return boxes;
  }
  if (dir === 'vertical') {
    const w = (width - spacing * (count - 1)) / count;
    for (let i = 0; i < count; i++) boxes.push({ x: i * (w + spacing), y: 0, width: w, height });
    return boxes;
  }
  // Largest square side s such that cols*rows >= count, trying every column count.
  let best = { cols: 1, side: 0 };
  for (let cols = 1; cols <= count; cols++) {
    const rows = Math.ceil(count / cols);
    const side = Math.min(width / cols, height / rows);
    if (side > best.side) best = { cols, side };
  }
  const cols = best.cols;
  const rows = Math.ceil(count / cols);
  const cellW = (width - spacing * (cols - 1)) / cols;
  const cellH = (height - spacing * (rows - 1)) / rows;
  const onLast = count - cols * (rows - 1);
  const lastW = (width - spacing * (onLast - 1)) / onLast;
  for (let i = 0; i < count; i++) {
    const r = Math.floor(i / cols);
    const c = i % cols;
    const w = r === rows - 1 ? lastW : cellW;
    boxes.push({ x: c * (w + spacing), y: r * (cellH + spacing), width: w, height: cellH });
  }
  return boxes;
}
