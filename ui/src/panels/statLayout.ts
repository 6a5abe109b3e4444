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
    const chart = input.hasSparkline && height > 50;
    if (chart) {
      out.chartWidth = width * 0.5 > 250 ? width * 0.5 : 0;
      out.chartWidth = Math.min(innerW * 0.5, Math.max(out.chartWidth, innerW * 0.3));
      out.chartHeight = innerH;
    }
    const textW = innerW - out.chartWidth;
    if (out.showTitle) {
      out.titleFontSize = fitFontSize(titleText, textW * 0.45, innerH, LINE_HEIGHT, MAX_TITLE_SIZE, measure);
    }
    const valueW = out.showTitle ? textW * 0.55 : textW;
    out.valueFontSize = fitFontSize(valueText, valueW, innerH, LINE_HEIGHT, undefined, measure, 500);
    if (out.showTitle) out.titleFontSize = Math.min(out.titleFontSize, out.valueFontSize * 0.7);
    return out;
  }
  const chart = input.hasSparkline && height > 100;
  if (chart) {
    out.chartWidth = width;
    out.chartHeight = Math.min(height * 0.25, 60) + (height > 150 ? height * 0.1 : 0);
  }
  let textH = innerH - out.chartHeight;
  if (out.showTitle) {
    out.titleFontSize = fitFontSize(
      titleText,
      innerW,
      textH * 0.15 + 6,
      LINE_HEIGHT,
      MAX_TITLE_SIZE,
      measure,
    );
    textH -= out.titleFontSize * LINE_HEIGHT;
  }
  out.valueFontSize = fitFontSize(
    valueText,
    innerW,
    Math.max(textH, 1),
    LINE_HEIGHT,
    undefined,
    measure,
    500,
  );
  if (out.showTitle) out.titleFontSize = Math.min(out.titleFontSize, out.valueFontSize * 0.7);
  return out;
}
