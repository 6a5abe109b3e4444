// Geometry and colours of one bar gauge (Grafana's BarGauge): where the name, the bar and the value go,
// how many LCD cells fit, and which colour each cell or gradient stop takes.

import { getColorForTheme } from '../data/colors';
import type { FieldConfig } from '../data/fieldConfig';
import { getActiveThreshold } from '../data/thresholds';
import { fitFontSize, type MeasureText, measureText } from './measure';

export type BarOrientation = 'horizontal' | 'vertical';

/** `orientation` as Grafana's VizRepeater resolves auto: a wide panel gets vertical bars side by side. */
export function resolveOrientation(
  option: string | undefined,
  width: number,
  height: number,
): BarOrientation {
  if (option === 'vertical' || option === 'horizontal') return option;
  return width > height ? 'vertical' : 'horizontal';
}

export interface BarGaugeInput {
  width: number;
  height: number;
  orientation: BarOrientation;
  title: string;
  /** The widest value text of the panel, so every bar gets the same room. */
  valueText: string;
  namePlacement?: 'auto' | 'top' | 'left' | 'hidden';
  valueMode?: 'color' | 'text' | 'hidden';
}

export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface BarGaugeGeometry {
  title?: Rect & { fontSize: number; placement: 'above' | 'left' | 'below' };
  value?: Rect & { fontSize: number };
  /** The whole track the bar fills up to its value. */
  bar: Rect;
}

const TITLE_LINE_HEIGHT = 1.5;
const VALUE_LINE_HEIGHT = 1;

export function barGaugeGeometry(g: BarGaugeInput, measure: MeasureText = measureText): BarGaugeGeometry {
  const out: BarGaugeGeometry = { bar: { x: 0, y: 0, width: g.width, height: g.height } };
  const hasTitle = g.title !== '' && g.namePlacement !== 'hidden';
  if (g.orientation === 'vertical') {
    let bottom = g.height;
    if (hasTitle) {
      const fontSize = 14;
      const h = fontSize * TITLE_LINE_HEIGHT;
      out.title = { x: 0, y: g.height - h, width: g.width, height: h, fontSize, placement: 'below' };
      bottom -= h;
    }
    let top = 0;
    if (g.valueMode !== 'hidden') {
      const h = Math.min(Math.max(g.height * 0.1, 14), 40);
      const fontSize = fitFontSize(g.valueText, g.width, h, VALUE_LINE_HEIGHT, undefined, measure, 500);
      out.value = { x: 0, y: 0, width: g.width, height: h, fontSize };
      top = h + 4;
    }
    out.bar = { x: 0, y: top, width: g.width, height: Math.max(0, bottom - top) };
    return out;
  }
  let left = 0;
  let top = 0;
  if (hasTitle) {
    const above = g.namePlacement === 'top' || (g.namePlacement !== 'left' && g.height > 40);
    if (above) {
      const h = Math.max(Math.min(g.height * 0.45, 20), 17);
      const fontSize = Math.min(h / TITLE_LINE_HEIGHT, 14);
      out.title = { x: 0, y: 0, width: g.width, height: h, fontSize, placement: 'above' };
      top = h;
    } else {
      const fontSize = Math.min(Math.max(g.height * 0.6, 10) / TITLE_LINE_HEIGHT, 14);
      const w = Math.min(measure(g.title, fontSize) + 15, g.width * 0.4);
      out.title = { x: 0, y: 0, width: w, height: g.height, fontSize, placement: 'left' };
      left = w + 8;
    }
  }
  const barHeight = g.height - top;
  let right = g.width;
  if (g.valueMode !== 'hidden') {
    const h = Math.min(barHeight, 80);
    const maxW = Math.min(g.width * 0.2, 150);
    const fontSize = fitFontSize(g.valueText, maxW, h, VALUE_LINE_HEIGHT, undefined, measure, 500);
    const w = Math.max(Math.min(measure(g.valueText, fontSize, 500) + 16, maxW), 10);
    out.value = { x: g.width - w, y: top, width: w, height: barHeight, fontSize };
    right = g.width - w - 8;
  }
  out.bar = { x: left, y: top, width: Math.max(0, right - left), height: Math.max(0, barHeight) };
  return out;
}

/** How LCD cells fill a bar `length` px long: Grafana draws ~12 px cells with 2 px gaps. */
export function lcdCells(length: number): { count: number; size: number; spacing: number } {
  const spacing = 2;
  const count = Math.max(1, Math.floor(length / 12));
  const size = Math.max(1, (length - spacing * (count - 1)) / count);
  return { count, size, spacing };
}

const CONTINUOUS: Record<string, string[]> = {
  'continuous-GrYlRd': ['green', 'yellow', 'red'],
  'continuous-RdYlGr': ['red', 'yellow', 'green'],
  'continuous-BlYlRd': ['dark-blue', 'dark-yellow', 'dark-red'],
  'continuous-YlRd': ['yellow', 'red'],
  'continuous-BlPu': ['blue', 'purple'],
  'continuous-YlBl': ['yellow', 'blue'],
  'continuous-greens': ['#0a3a0a', 'green'],
  'continuous-blues': ['#0a1f3a', 'blue'],
  'continuous-reds': ['#3a0a0a', 'red'],
  'continuous-purples': ['#250a3a', 'purple'],
};

/** The colour scale a field's colour mode puts along its range, for gradients and LCD cells. */
export function colorAt(config: FieldConfig, value: number, min: number, max: number): string {
  const mode = config.color?.mode ?? 'thresholds';
  const scheme = CONTINUOUS[mode];
  if (scheme) {
    const t = max > min ? Math.min(1, Math.max(0, (value - min) / (max - min))) : 0;
    const i = Math.min(scheme.length - 1, Math.round(t * (scheme.length - 1)));
    return getColorForTheme(scheme[i]);
  }
  if (mode === 'fixed' && config.color?.fixedColor) return getColorForTheme(config.color.fixedColor);
  const steps = config.thresholds?.steps ?? [{ value: null, color: 'green' }];
  const v =
    config.thresholds?.mode === 'percentage' && max > min ? ((value - min) / (max - min)) * 100 : value;
  return getColorForTheme(getActiveThreshold(v, steps).color);
}

/** CSS gradient stops along the whole track (the filled part is clipped to the value). */
export function gradientStops(config: FieldConfig, min: number, max: number): string[] {
  const mode = config.color?.mode ?? 'thresholds';
  const scheme = CONTINUOUS[mode];
  if (scheme)
    return scheme.map((c, i) => `${getColorForTheme(c)} ${((i / (scheme.length - 1)) * 100).toFixed(1)}%`);
  if (mode !== 'thresholds') {
    const c = colorAt(config, max, min, max);
    return [`${c} 0%`, `${c} 100%`];
  }
  const steps = config.thresholds?.steps ?? [];
  const stops: string[] = [];
  const pct = config.thresholds?.mode === 'percentage';
  for (const s of steps) {
    const pos =
      s.value === null || !Number.isFinite(s.value)
        ? 0
        : pct
          ? s.value
          : max > min
            ? ((s.value - min) / (max - min)) * 100
            : 0;
    stops.push(`${getColorForTheme(s.color)} ${Math.min(100, Math.max(0, pos)).toFixed(1)}%`);
  }
  if (stops.length === 1) stops.push(stops[0].replace(/ [\d.]+%$/, ' 100%'));
  return stops;
}
