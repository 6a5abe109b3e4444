// Geometry of a gauge (Grafana's flot gauge): a 270° arc from lower left to lower right, an outer ring of
// threshold colours, the value centred inside and the name below.
import type { ThresholdsConfig } from '../data/fieldConfig';
import { fitFontSize, type MeasureText, measureText } from './measure';

export const GAUGE_START = 0.75 * Math.PI;
export const GAUGE_SWEEP = 1.5 * Math.PI;

export interface GaugeGeometry {
  cx: number;
  cy: number;
  /** Radius of the middle of the value band. */
  radius: number;
  gaugeWidth: number;
  markerRadius: number;
  markerWidth: number;
  valueFontSize: number;
  titleFontSize: number;
  /** Top of the name line (0 height when no name). */
  titleTop: number;
  thresholdLabelFontSize: number;
}

export interface GaugeInput {
  width: number;
  height: number;
  title: string;
  valueText: string;
  showThresholdMarkers: boolean;
  showThresholdLabels: boolean;
}

export function gaugeGeometry(g: GaugeInput, measure: MeasureText = measureText): GaugeGeometry {
  const showTitle = g.title !== '';
  const titleFontSize = showTitle ? Math.max(8, Math.min((g.width * 0.15) / 1.5, 20)) : 0;
  const available = showTitle ? g.height - titleFontSize * 1.5 : g.height;
  const gaugeHeight = Math.max(10, Math.min(available, g.width));
  const dimension = Math.min(g.width, gaugeHeight);
  const gaugeWidth = Math.min(dimension / 5.5, 40) / (g.showThresholdLabels ? 1.5 : 1);
  const markerWidth = g.showThresholdMarkers ? gaugeWidth / 5 : 0;
  const valueWidthBase = Math.min(g.width, dimension * 1.3) * 0.9;
  const valueWidth = Math.max(
    10,
    valueWidthBase - (gaugeWidth + markerWidth + (g.showThresholdLabels ? 12 : 0)) * 2,
  );
  const valueFontSize = fitFontSize(g.valueText, valueWidth, dimension, 1, gaugeWidth * 1.7, measure, 500);
  const thresholdLabelFontSize = Math.max(valueFontSize / 2.5, 12);
  const labelSpace = g.showThresholdLabels ? thresholdLabelFontSize * 1.6 : 0;
  // A 270° arc is 1 + sin(45°) radii tall: fit it in the gauge's box, whichever side limits.
  // Labels sit outside the ring: above, on both sides, and below the arc's two ends (sin 45° lower).
  const labelsBelow = labelSpace * Math.SQRT1_2;
  const outer = Math.max(
    4,
    Math.min(g.width / 2 - labelSpace, (gaugeHeight - labelSpace - labelsBelow) / (1 + Math.SQRT1_2)) - 2,
  );
  const markerRadius = outer - markerWidth / 2;
  const gap = markerWidth ? Math.max(1, markerWidth / 2) : 0;
  const radius = Math.max(1, outer - markerWidth - gap - gaugeWidth / 2);
  const cx = g.width / 2;
  const arcHeight = outer * (1 + Math.SQRT1_2);
  const cy = labelSpace + (gaugeHeight - labelSpace - labelsBelow - arcHeight) / 2 + outer;
  return {
    cx,
    cy,
    radius,
    gaugeWidth,
    markerRadius,
    markerWidth,
    valueFontSize,
    titleFontSize,
    titleTop: gaugeHeight,
    thresholdLabelFontSize,
  };
}

/** Fraction 0..1 of `value` between min and max, clamped. */
export function gaugeFraction(value: number, min: number, max: number): number {
  if (!Number.isFinite(value) || max <= min) return 0;
  return Math.min(1, Math.max(0, (value - min) / (max - min)));
}

/** The threshold steps as [from, to] fractions of the gauge with their colour. */
export function thresholdBands(
  thresholds: ThresholdsConfig | undefined,
  min: number,
  max: number,
): { from: number; to: number; color: string; value: number | null }[] {
  const steps = thresholds?.steps ?? [];
  const toFraction = (v: number | null) => {
    if (v === null) return 0;
    return thresholds?.mode === 'percentage' ? Math.min(1, Math.max(0, v / 100)) : gaugeFraction(v, min, max);
  };
  const bands = steps.map((s, i) => ({
    from: toFraction(s.value),
    to: i + 1 < steps.length ? toFraction(steps[i + 1].value) : 1,
    color: s.color,
    value: s.value,
  }));
  return bands.filter((b) => b.to > b.from);
}

/** SVG path of an arc of radius r from fraction a to b of the gauge sweep. */
export function arcPath(cx: number, cy: number, r: number, a: number, b: number): string {
  const t0 = GAUGE_START + a * GAUGE_SWEEP;
  const t1 = GAUGE_START + b * GAUGE_SWEEP;
  const x0 = cx + r * Math.cos(t0);
  const y0 = cy + r * Math.sin(t0);
  const x1 = cx + r * Math.cos(t1);
  const y1 = cy + r * Math.sin(t1);
  const large = t1 - t0 > Math.PI ? 1 : 0;
  return `M${x0.toFixed(2)},${y0.toFixed(2)}A${r.toFixed(2)},${r.toFixed(2)} 0 ${large} 1 ${x1.toFixed(2)},${y1.toFixed(2)}`;
}

/** Point at fraction f of the sweep on radius r (threshold labels). */
export function arcPoint(cx: number, cy: number, r: number, f: number): [number, number] {
  const t = GAUGE_START + f * GAUGE_SWEEP;
  return [cx + r * Math.cos(t), cy + r * Math.sin(t)];
}
