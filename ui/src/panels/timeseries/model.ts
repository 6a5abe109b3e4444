// What a time series panel draws, built from frames and field config without touching uPlot: the joined
// x values, one entry per series (style, colour, scale) with raw and stacked values, the y scales, and the
// time axis format. TimeSeriesPanel.tsx turns it into uPlot options.

import { dateParts, formatDate } from '../../data/dateFormat';
import { getFieldDisplayName } from '../../data/displayName';
import { fieldColor } from '../../data/fieldColor';
import type { FieldConfig, ThresholdsConfig } from '../../data/fieldConfig';
import type { DataFrame, Field } from '../../data/frame';

export type DrawStyle = 'line' | 'bars' | 'points';
export type Interpolation = 'linear' | 'smooth' | 'stepBefore' | 'stepAfter';

export interface SeriesModel {
  field: Field;
  frame: DataFrame;
  name: string;
  color: string;
  drawStyle: DrawStyle;
  lineWidth: number;
  fillOpacity: number;
  gradientMode: string;
  interpolation: Interpolation;
  showPoints: 'auto' | 'always' | 'never';
  pointSize: number;
  spanNulls: boolean | number;
  barAlignment: number;
  lineStyle?: { fill?: string; dash?: number[] };
  /** Values on the joined x axis: undefined where the series has no point there, null for a real gap. */
  values: (number | null | undefined)[];
  /** What is plotted (stacked sums for stacked series, else `values`). */
  plotted: (number | null | undefined)[];
  scaleKey: string;
  stackGroup?: string;
  /** The series below it in its stack (index into series), for the fill between them. */
  stackedOn?: number;
  hideFromLegend: boolean;
  hideFromTooltip: boolean;
  hideFromViz: boolean;
}

export interface ScaleModel {
  key: string;
  unit?: string;
  decimals?: number | null;
  min?: number;
  max?: number;
  softMin?: number;
  softMax?: number;
  placement: 'left' | 'right' | 'hidden';
  label?: string;
  log?: number;
  /** custom.axisCenteredZero: the range is symmetric around 0. */
  centeredZero: boolean;
  thresholds?: ThresholdsConfig;
  thresholdsStyle?: string;
  config: FieldConfig;
  percent: boolean;
}

export interface PlotModel {
  xs: number[];
  series: SeriesModel[];
  scales: ScaleModel[];
}

function custom(config: FieldConfig): Record<string, unknown> {
  return (config.custom ?? {}) as Record<string, unknown>;
}

function num(v: unknown, dflt: number): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : dflt;
}

/** Gap (ms) past which a frame's lines break: `custom.insertNulls` of its values when a number, else the interval. */
function nullThreshold(frame: DataFrame, time: Field): number | undefined {
  for (const f of frame.fields) {
    const n = (f.config.custom as { insertNulls?: unknown } | undefined)?.insertNulls;
    if (f.type === 'number' && typeof n === 'number' && n > 0) return n;
  }
  return time.config.interval ?? undefined;
}

/**
 * Outer join of every frame's time field: sorted unique times, and for each (frame, field) the values
 * at those times. A gap longer than the threshold (the field's `custom.insertNulls` ms when set, else the
 * time field's `interval`) gets a null after its last point, so lines break where Prometheus had no sample
 * (Grafana's null-insert threshold).
 */
export function joinFrames(frames: DataFrame[]): {
  xs: number[];
  columns: { frame: DataFrame; field: Field; values: (number | null | undefined)[] }[];
} {
  const times = new Set<number>();
  const parts: { frame: DataFrame; time: Field; field: Field }[] = [];
  for (const frame of frames) {
    const time = frame.fields.find((f) => f.type === 'time');
    if (!time) continue;
    const interval = nullThreshold(frame, time);
    for (let i = 0; i < time.values.length; i++) {
      const t = Number(time.values[i]);
      times.add(t);
      if (interval && i + 1 < time.values.length && Number(time.values[i + 1]) - t > interval)
        times.add(t + interval);
    }
    for (const field of frame.fields) {
      if (field.type === 'number') parts.push({ frame, time, field });
    }
  }
  const xs = [...times].sort((a, b) => a - b);
  const index = new Map<number, number>();
  for (let i = 0; i < xs.length; i++) index.set(xs[i], i);
  const columns = parts.map(({ frame, time, field }) => {
    const values: (number | null | undefined)[] = new Array(xs.length).fill(undefined);
    const interval = nullThreshold(frame, time);
    for (let i = 0; i < time.values.length; i++) {
      const t = Number(time.values[i]);
      const v = field.values[i];
      values[index.get(t) as number] = typeof v === 'number' && Number.isFinite(v) ? v : null;
      if (interval && i + 1 < time.values.length && Number(time.values[i + 1]) - t > interval) {
        const at = index.get(t + interval) as number;
        if (values[at] === undefined) values[at] = null;
      }
    }
    return { frame, field, values };
  });
  return { xs, columns };
}

/** Joined values with nulls bridged where `spanNulls` allows: true always, a number (ms) for shorter gaps. */
export function applySpanNulls(
  xs: number[],
  values: (number | null | undefined)[],
  spanNulls: boolean | number,
): (number | null | undefined)[] {
  if (spanNulls === false) return values;
  const out: (number | null | undefined)[] = values.map((v) => (v === null ? undefined : v));
  if (spanNulls === true) return out;
  // Bridge only gaps up to spanNulls ms; longer ones get a null in the middle.
  let prev = -1;
  for (let i = 0; i < out.length; i++) {
    if (out[i] == null) continue;
    if (prev >= 0 && xs[i] - xs[prev] > spanNulls && i - prev > 1) out[prev + 1] = null;
    prev = i;
  }
  return out;
}

function stackingOf(config: FieldConfig): { mode: string; group: string } {
  const s = custom(config).stacking as { mode?: string; group?: string } | undefined;
  return { mode: s?.mode ?? 'none', group: s?.group ?? 'A' };
}

export function buildPlotModel(frames: DataFrame[]): PlotModel {
  const { xs, columns } = joinFrames(frames);
  const series: SeriesModel[] = [];
  const scales = new Map<string, ScaleModel>();
  columns.forEach(({ frame, field, values }, index) => {
    const config = field.config;
    const c = custom(config);
    const hide = (c.hideFrom ?? {}) as { legend?: boolean; tooltip?: boolean; viz?: boolean };
    const stacking = stackingOf(config);
    const percent = stacking.mode === 'percent';
    const unit = percent ? 'percentunit' : config.unit;
    // Grafana gives each unit its own scale (and axis): series sharing a unit share an axis.
    const scaleKey = unit ?? 'y';
    if (!scales.has(scaleKey)) {
      const placement = (c.axisPlacement as string | undefined) ?? 'auto';
      scales.set(scaleKey, {
        key: scaleKey,
        unit,
        decimals: config.decimals,
        min: percent ? 0 : (config.min ?? undefined),
        max: percent ? 1 : (config.max ?? undefined),
        softMin: c.axisSoftMin as number | undefined,
        softMax: c.axisSoftMax as number | undefined,
        placement:
          placement === 'hidden'
            ? 'hidden'
            : placement === 'right'
              ? 'right'
              : placement === 'left'
                ? 'left'
                : scales.size
                  ? 'right'
                  : 'left',
        label: (c.axisLabel as string | undefined) || undefined,
        log:
          (c.scaleDistribution as { type?: string; log?: number } | undefined)?.type === 'log'
            ? ((c.scaleDistribution as { log?: number }).log ?? 2)
            : undefined,
        centeredZero: c.axisCenteredZero === true,
        thresholds: config.thresholds,
        thresholdsStyle: (c.thresholdsStyle as { mode?: string } | undefined)?.mode,
        config,
        percent,
      });
    }
    const spanNulls = (c.spanNulls as boolean | number | undefined) ?? false;
    const spanned = applySpanNulls(xs, values, spanNulls);
    const drawStyle = (c.drawStyle as DrawStyle | undefined) ?? 'line';
    series.push({
      field,
      frame,
      name: getFieldDisplayName(field, frame, frames),
      color: fieldColor(field, index),
      drawStyle,
      lineWidth: num(c.lineWidth, 1),
      fillOpacity: num(c.fillOpacity, 0),
      gradientMode: (c.gradientMode as string | undefined) ?? 'none',
      interpolation: (c.lineInterpolation as Interpolation | undefined) ?? 'linear',
      showPoints: (c.showPoints as 'auto' | 'always' | 'never' | undefined) ?? 'auto',
      pointSize: num(c.pointSize, 5),
      spanNulls,
      barAlignment: num(c.barAlignment, 0),
      lineStyle: c.lineStyle as SeriesModel['lineStyle'],
      values: spanned,
      plotted: transformValues(spanned, c.transform),
      scaleKey,
      stackGroup:
        stacking.mode === 'none' || stacking.mode === undefined
          ? undefined
          : `${stacking.mode}|${stacking.group}|${scaleKey}`,
      hideFromLegend: !!hide.legend,
      hideFromTooltip: !!hide.tooltip,
      hideFromViz: !!hide.viz,
    });
  });
  stackSeries(series, xs.length);
  return { xs, series, scales: [...scales.values()] };
}

/**
 * What a series plots under `custom.transform`: 'negative-Y' mirrors it below zero (transmit under
 * receive), 'constant' draws its first value across the whole range; tooltips and legends keep the raw values.
 */
export function transformValues(
  values: (number | null | undefined)[],
  transform: unknown,
): (number | null | undefined)[] {
  if (transform === 'negative-Y') return values.map((v) => (typeof v === 'number' ? -v : v));
  if (transform === 'constant') {
    const first = values.find((v) => typeof v === 'number');
    return first === undefined ? values : values.map(() => first);
  }
  return values;
}

/**
 * Stacks series of the same group: each plots the sum of itself and those before it (negative values
 * stack downwards separately, as Grafana does); percent groups are divided by the group's total at each x.
 */
export function stackSeries(series: SeriesModel[], length: number): void {
  const groups = new Map<string, number[]>();
  series.forEach((s, i) => {
    if (!s.stackGroup || s.hideFromViz) return;
    const g = groups.get(s.stackGroup) ?? [];
    g.push(i);
    groups.set(s.stackGroup, g);
  });
  for (const [key, members] of groups) {
    const percent = key.startsWith('percent|');
    const totals = new Array(length).fill(0);
    if (percent) {
      for (const i of members) {
        series[i].plotted.forEach((v, x) => {
          if (typeof v === 'number') totals[x] += Math.abs(v);
        });
      }
    }
    const pos = new Array(length).fill(0);
    const neg = new Array(length).fill(0);
    let prev: number | undefined;
    for (const i of members) {
      const s = series[i];
      s.plotted = s.plotted.map((v, x) => {
        if (typeof v !== 'number') return v;
        const val = percent ? (totals[x] ? v / totals[x] : 0) : v;
        if (val >= 0) {
          pos[x] += val;
          return pos[x];
        }
        neg[x] += val;
        return neg[x];
      });
      s.stackedOn = prev;
      prev = i;
    }
  }
}

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** The tick format Grafana uses for a time axis whose ticks are `incr` ms apart. */
export function timeTickFormat(incr: number): string {
  if (incr < SECOND) return 'HH:mm:ss.SSS';
  if (incr < MINUTE) return 'HH:mm:ss';
  if (incr <= HOUR) return 'HH:mm';
  if (incr <= DAY) return 'MM/DD HH:mm';
  if (incr <= 30 * DAY) return 'MM/DD';
  if (incr <= 365 * DAY) return 'YYYY-MM';
  return 'YYYY';
}

/** Epoch ms formatted with a moment-style pattern in a zone ('utc', 'browser'/'' local, or an IANA name). */
export function formatTime(ms: number, pattern: string, timeZone?: string): string {
  return formatDate(ms, pattern, timeZone === 'browser' ? undefined : timeZone);
}

/** The zone's offset from UTC at `ms`, in ms (what to add to UTC to read the zone's wall clock). */
export function zoneOffset(ms: number, timeZone?: string): number {
  const p = dateParts(ms, timeZone === 'browser' ? undefined : timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second, p.ms) - ms;
}

/**
 * Decimals for axis ticks `incr` apart: as many as the (6-place rounded) increment has, so 0.05 steps read
 * 0.30, 0.25 rather than the unit's automatic 0.300; none (the unit's own choice) for whole steps.
 */
export function tickDecimals(incr: number): number | undefined {
  if (!Number.isFinite(incr) || incr <= 0) return undefined;
  const digits = (String(Number(incr.toFixed(6))).split('.')[1] ?? '').length;
  return digits > 0 ? digits : undefined;
}
