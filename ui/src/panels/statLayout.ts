// Geometry of one stat value (Grafana's BigValue layouts): wide (name left, value right) or stacked
// (name above value), with or without a sparkline, font sizes fitted to the box.
import type { AlignmentFactors } from './fieldDisplay';
import { fitFontSize, type MeasureText, measureText } from './measure';

export type TextMode = 'auto' | 'value' | 'value_and_name' | 'name' | 'none';

export interface StatLayoutInput {
  width: number;
  height: number;
  title: string;
  /** The value as shown: prefix + text + suffix. */
  valueText: string;
  textMode?: string;
  justifyMode?: string;
  /** How many values the panel shows (auto text mode shows names only when more than one). */
  count: number;
  hasSparkline: boolean;
  /** `options.wideLayout` (default true). */
  wideLayout?: boolean;
  alignment?: AlignmentFactors;
}

export interface StatLayout {
  kind: 'wide' | 'stacked';
  showTitle: boolean;
  showValue: boolean;
  titleFontSize: number;
  valueFontSize: number;
  justifyCenter: boolean;
  padding: number;
  /** Sparkline area (0 when none), at the bottom of the box. */
  chartWidth: number;
  chartHeight: number;
}

const LINE_HEIGHT = 1.2;
const MAX_TITLE_SIZE = 30;

export function effectiveTextMode(mode: string | undefined, count: number): TextMode {
  switch (mode) {
    case 'value':
    case 'value_and_name':
    case 'name':
    case 'none':
      return mode;
    default:
      return count > 1 ? 'value_and_name' : 'value';
  }
}

export function statLayout(input: StatLayoutInput, measure: MeasureText = measureText): StatLayout {
  const { width, height } = input;
  const mode = effectiveTextMode(input.textMode, input.count);
  const showTitle = (mode === 'value_and_name' || mode === 'name') && input.title !== '';
  const showValue = mode !== 'name' && mode !== 'none';
  const titleText = input.alignment?.title || input.title;
  const valueText =
    mode === 'name'
      ? input.title
      : input.alignment
        ? `${input.alignment.prefix}${input.alignment.text}${input.alignment.suffix}`.length >
          input.valueText.length
          ? `${input.alignment.prefix}${input.alignment.text}${input.alignment.suffix}`
          : input.valueText
        : input.valueText;
  // Grafana centres when asked to, and in auto mode whenever no name is shown.
  const justifyCenter = input.justifyMode === 'center' || !showTitle;
  const padding = height > 100 ? 12 : 8;
  const innerW = Math.max(0, width - 2 * padding);
  const innerH = Math.max(0, height - 2 * padding);
  const wide = input.wideLayout !== false && width / height > 2.5;
  const out: StatLayout = {
    kind: wide ? 'wide' : 'stacked',
    showTitle: showTitle && mode !== 'name',
    showValue: showValue || mode === 'name',
    titleFontSize: 0,
    valueFontSize: 0,
    justifyCenter,
    padding,
    chartWidth: 0,
    chartHeight: 0,
  };
  if (wide) {
    // Wide: name on the left, value on the right (the value gets 30% of the width when there is a name,
    // the name up to 60%), a sparkline in the right half when the box is taller than 50 px.
    const chart = input.hasSparkline && height > 50;
    if (chart) {
      out.chartWidth = innerW * 0.5;
      out.chartHeight = innerH;
    }
    const textW = innerW - out.chartWidth;
    const valueW = out.showTitle ? textW * 0.3 : textW;
    out.valueFontSize = fitFontSize(valueText, valueW, innerH, LINE_HEIGHT, undefined, measure, 500);
    if (out.showTitle) {
      const t = fitFontSize(titleText, textW * 0.6, innerH, LINE_HEIGHT, MAX_TITLE_SIZE, measure);
      out.titleFontSize = Math.min(t, out.valueFontSize * 0.7);
    }
    return out;
  }
  // Stacked: name above value (the name at most 15% of the height), a sparkline along the bottom quarter
  // when the box is taller than 100 px.
  const chart = input.hasSparkline && height > 100;
  if (chart) {
    out.chartWidth = width;
    out.chartHeight = height * 0.25;
  }
  let titleH = 0;
  if (out.showTitle) {
    out.titleFontSize = fitFontSize(titleText, innerW, height * 0.15, LINE_HEIGHT, MAX_TITLE_SIZE, measure);
    titleH = out.titleFontSize * LINE_HEIGHT;
  }
  const valueH = Math.max(innerH - out.chartHeight - titleH, 1);
  out.valueFontSize = fitFontSize(valueText, innerW, valueH, LINE_HEIGHT, undefined, measure, 500);
  if (out.showTitle) out.titleFontSize = Math.min(out.titleFontSize, out.valueFontSize * 0.7);
  return out;
}
