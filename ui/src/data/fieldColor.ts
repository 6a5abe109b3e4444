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

// 33 evenly spaced samples of d3's perceptual ramps (packed hex); we interpolate
// linearly between them. Grafana reads d3's 256-entry tables, so colours can
// differ by a few units per channel (tests bound it).
function ramp(packed: string): string[] {
  const out: string[] = [];
  for (let i = 0; i + 6 <= packed.length; i += 6) out.push(`#${packed.slice(i, i + 6)}`);
  return out;
}
const RAMPS: Record<string, string[]> = {
  'continuous-viridis': ramp(
    '440154470d6048186a482374472d7b4537814240863e49893b528b375b8d33638d2f6b8e2c728e297a8e26828e23898e' +
      '21918c1f988b1fa08822a78528ae8032b67a3fbc734ec36b5ec96270cf5784d44b98d83eaddc30c2df23d8e219ece51b' +
      'fde725',
  ),
  'continuous-magma': ramp(
    '0000040303120a0822130d341d114729115a36106b440f7651127c5d177f6a1c81762181832681902a819c2e7faa337d' +
      'b73779c43c75d0416fdc4869e75263ef5d5ef56b5cf9795dfc8961fd9869fea772feb67cfec488fed395fde2a3fcf0b2' +
      'fcfdbf',
  ),
  'continuous-plasma': ramp(
    '0d08872206903105973f049c4c02a15901a56600a77201a87e03a88a09a59511a1a01a9caa2395b32c8ebc3587c43e7f' +
      'cc4778d35171da5a6ae06363e66c5ceb7655f0804ef58b47f89540fba139fdac33feb82cfdc527fcd225f8df25f4ed27' +
      'f0f921',
  ),
  'continuous-inferno': ramp(
    '0000040403120b0724150b37210c4a2f0a5b3d09654a0c6b57106e64156e71196e7d1e6d8a226a972766a32c61b0315b' +
      'bc3754c73e4cd24644db503be45a31eb6628f1731df68013f98e09fb9d07fcac11fbbc21f9cb35f5db4cf2ea69f3f68a' +
      'fcffa4',
  ),
  'continuous-cividis': ramp(
    '00205100265d012b6508316911366c1c3c6e26426e31476e3c4d6e47536d51586e5a5e6e62646f6a6a70727071797673' +
      '7f7c758682768c8877938e789a9478a19b78a9a177b2a874bbaf71c5b66dcebd68d8c462e2cb5cebd355f3da4ffae249' +
      'fdea45',
  ),
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
