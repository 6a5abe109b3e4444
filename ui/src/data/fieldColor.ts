// Field colour modes (the "Color scheme" option): thresholds, fixed, shades,
// classic palette (by series index or name), colour-blind palette and the
// continuous schemes, plus the value -> percent/threshold/colour scale that
// the display processor and gauges use.
import {
  classicPalette,
  contrastRatio,
  FALLBACK_COLOR,
  getColorForTheme,
  parseColor,
  rgbBasis,
  shadesOf,
  stringHash,
  THEME,
} from './colors';
import type { Threshold } from './fieldConfig';
import type { Field } from './frame';
import { reduceField } from './reducers';
import { FALLBACK_THRESHOLD, getActiveThresholdForValue } from './thresholds';

/** The value range percentages are computed against. */
export interface ValueRange {
  min: number | null;
  max: number | null;
  delta: number;
}

/** What a field's colour scale gives for one value. */
export interface ScaleResult {
  color: string;
  /** 0..1 within the field's min..max (0 when there is no range). */
  percent: number;
  threshold?: Threshold;
}

type Calculator = (value: number, percent: number, threshold: Threshold | undefined) => string;

interface ColorMode {
  /** The colour depends on the value (thresholds, continuous schemes). */
  byValue: boolean;
  continuous: boolean;
  /** Colours of a scheme, first = lowest (for booleans and gradients). */
  colors?: () => string[];
  calculator: (field: Field) => Calculator;
}

const COLORBLIND = [
  '#0072B2',
  '#E69F00',
  '#009E73',
  '#CC79A7',
  '#56B4E9',
  '#D55E00',
  '#F0E442',
  '#000000',
  '#FFFFFF',
];

// Nine evenly spaced samples of d3's perceptual ramps; we interpolate linearly
// between them (Grafana reads a 256-entry table, so colours can differ slightly).
const RAMPS: Record<string, string[]> = {
  'continuous-viridis': '#440154 #472d7b #3b528b #2c728e #21918c #28ae80 #5ec962 #addc30 #fde725'.split(' '),
  'continuous-magma': '#000004 #1d1147 #51127c #832681 #b73779 #e75263 #fc8961 #fec488 #fcfdbf'.split(' '),
  'continuous-plasma': '#0d0887 #4c02a1 #7e03a8 #aa2395 #cc4778 #e66c5c #f89540 #fdc527 #f0f921'.split(' '),
  'continuous-inferno': '#000004 #210c4a #57106e #8a226a #bc3754 #e45a31 #f98e09 #f9cb35 #fcffa4'.split(' '),
  'continuous-cividis': '#002051 #11366c #3c4d6e #62646f #7f7c75 #9a9478 #bbaf71 #e2cb5c #fdea45'.split(' '),
};

// Schemes Grafana interpolates with a B-spline through named colours.
const SPLINES: Record<string, string[]> = {
  'continuous-GrYlRd': ['green', 'yellow', 'red'],
  'continuous-RdYlGr': ['red', 'yellow', 'green'],
  'continuous-BlYlRd': ['dark-blue', 'super-light-yellow', 'dark-red'],
  'continuous-YlRd': ['super-light-yellow', 'dark-red'],
  'continuous-BlPu': ['blue', 'purple'],
  'continuous-YlBl': ['super-light-yellow', 'dark-blue'],
  'continuous-blues': ['panel-bg', 'dark-blue'],
  'continuous-reds': ['panel-bg', 'dark-red'],
  'continuous-greens': ['panel-bg', 'dark-green'],
  'continuous-purples': ['panel-bg', 'dark-purple'],
};

function linearRamp(stops: string[]): (t: number) => string {
  const parsed = stops.map((s) => parseColor(s) ?? { r: 0, g: 0, b: 0, a: 1 });
  const n = parsed.length - 1;
  return (t0) => {
    const t = Math.min(1, Math.max(0, Number.isNaN(t0) ? 0 : t0));
    const i = Math.min(n - 1, Math.floor(t * n));
    const f = t * n - i;
    const a = parsed[i];
    const b = parsed[i + 1];
    const mix = (x: number, y: number) => Math.round(x + (y - x) * f);
    return `rgb(${mix(a.r, b.r)}, ${mix(a.g, b.g)}, ${mix(a.b, b.b)})`;
  };
}

const seriesIndex = (f: Field) => f.state?.seriesIndex ?? 0;

const fixed = (f: Field) => () => getColorForTheme(f.config.color?.fixedColor ?? FALLBACK_COLOR);

let byNamePalette: string[] | undefined;
/** The classic palette without colours too dark to read on the panel background. */
function readablePalette(): string[] {
  byNamePalette ??= classicPalette.filter((c) => contrastRatio(c, THEME.panelBackground) >= 3);
  return byNamePalette;
}

function paletteMode(colors: () => readonly string[], byName = false): ColorMode {
  return {
    byValue: false,
    continuous: false,
    colors: () => [...colors()],
    calculator: (f) => () => {
      const list = colors();
      if (byName) return list[Math.abs(stringHash(f.state?.displayName ?? f.name)) % list.length];
      return list[seriesIndex(f) % list.length];
    },
  };
}

function continuousMode(interpolate: (t: number) => string, colors: () => string[]): ColorMode {
  return { byValue: true, continuous: true, colors, calculator: () => (_v, percent) => interpolate(percent) };
}

const MODES: Record<string, ColorMode> = {
  thresholds: {
    byValue: true,
    continuous: false,
    calculator: () => (_v, _p, threshold) => getColorForTheme((threshold ?? FALLBACK_THRESHOLD).color),
  },
  fixed: { byValue: false, continuous: false, calculator: fixed },
  gradient: { byValue: false, continuous: false, calculator: fixed },
  shades: {
    byValue: false,
    continuous: false,
    calculator: (f) => () => {
      const shades = shadesOf(f.config.color?.fixedColor ?? FALLBACK_COLOR);
      return shades[seriesIndex(f) % shades.length];
    },
  },
  'palette-classic': paletteMode(() => classicPalette),
  'palette-classic-by-name': paletteMode(readablePalette, true),
  'palette-colorblind': paletteMode(() =>
    COLORBLIND.filter((c) => contrastRatio(c, THEME.panelBackground) >= 3),
  ),
};
for (const [id, names] of Object.entries(SPLINES)) {
  const colors = () => names.map(getColorForTheme);
  MODES[id] = continuousMode(rgbBasis(colors()), colors);
}
for (const [id, stops] of Object.entries(RAMPS)) MODES[id] = continuousMode(linearRamp(stops), () => stops);

/** The mode for a field's `color.mode`; unknown or missing modes use thresholds, as in Grafana. */
function modeOf(field: Field): ColorMode {
  return MODES[field.config.color?.mode ?? ''] ?? MODES.thresholds;
}

/** Whether a field's colour depends on its values (so a series colour needs a reduction). */
export function isByValueColorMode(field: Field): boolean {
  return modeOf(field).byValue;
}

/** The ids of the colour modes supported here. */
export const COLOR_MODE_IDS = Object.keys(MODES);

/**
 * The field's min/max as percentages use them: config min/max when both set,
 * otherwise the field's own min/max (0..100 for non-numeric or empty fields).
 */
export function getMinMaxAndDelta(field: Field): ValueRange {
  if (field.type !== 'number') return { min: 0, max: 100, delta: 100 };
  let min = field.config.min;
  let max = field.config.max;
  if (typeof min !== 'number' || typeof max !== 'number') {
    if (field.values.length) {
      const stats = reduceField(field, ['min', 'max']);
      if (typeof min !== 'number') min = stats.min as number | null;
      if (typeof max !== 'number') max = stats.max as number | null;
    } else {
      min = 0;
      max = 100;
    }
  }
  return { min: min ?? null, max: max ?? null, delta: (max as number) - (min as number) };
}

/**
 * The colour scale of a field: value -> {color, percent, threshold}. Booleans
 * are green/red (a continuous scheme's ends when one is set); -Infinity means
 * "no value" and gets percent 0.
 */
export function getScaleCalculator(field: Field): (value: number) => ScaleResult {
  const mode = modeOf(field);
  if (field.type === 'boolean') {
    let yes = getColorForTheme('green');
    let no = getColorForTheme('red');
    if (mode.continuous && mode.colors) {
      const colors = mode.colors().map(getColorForTheme);
      yes = colors[colors.length - 1];
      no = colors[0];
    }
    return (value) => (value ? { color: yes, percent: 1 } : { color: no, percent: 0 });
  }
  const color = mode.calculator(field);
  const range = field.state?.range ?? getMinMaxAndDelta(field);
  return (value) => {
    let percent = 0;
    if (value !== Number.NEGATIVE_INFINITY) {
      percent = (value - (range.min as number)) / range.delta;
      if (Number.isNaN(percent)) percent = 0;
    }
    const threshold = getActiveThresholdForValue(field.config.thresholds, value, percent);
    return { percent, threshold, color: color(value, percent, threshold) };
  };
}

/**
 * The one colour that represents a series (legend, line): by-value modes use
 * the value of `color.seriesBy` (default the last value), the others their
 * fixed/palette colour.
 */
export function fieldSeriesColor(field: Field): ScaleResult {
  const mode = modeOf(field);
  if (!mode.byValue) {
    return {
      color: mode.calculator(field)(0, 0, FALLBACK_THRESHOLD),
      threshold: FALLBACK_THRESHOLD,
      percent: 1,
    };
  }
  const stat = field.config.color?.seriesBy ?? 'last';
  const v = reduceField(field, [stat])[stat];
  return getScaleCalculator(field)(typeof v === 'number' ? v : 0);
}

/**
 * A series colour for field `index` (its position among the panel's non-time
 * fields) when the field has no state yet; see fieldSeriesColor.
 */
export function fieldColor(field: Field, index: number): string {
  const f =
    field.state?.seriesIndex === undefined
      ? { ...field, state: { ...field.state, seriesIndex: index } }
      : field;
  return fieldSeriesColor(f).color;
}
