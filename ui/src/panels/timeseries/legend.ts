// The legend of a time series panel: one item per visible series with its reduced values (`legend.calcs`),
// Grafana's names for those values, sorting, and the room the legend takes.

import { getDisplayProcessor } from '../../data/display';
import type { Field } from '../../data/frame';
import { reduceField } from '../../data/reducers';
import { type MeasureText, measureText } from '../measure';
import type { SeriesModel } from './model';

export interface LegendOptions {
  showLegend?: boolean;
  displayMode?: 'list' | 'table' | 'hidden';
  placement?: 'bottom' | 'right';
  calcs?: string[];
  sortBy?: string;
  sortDesc?: boolean;
  width?: number;
}

export interface LegendItem {
  /** Index into the plot model's series. */
  index: number;
  label: string;
  color: string;
  /** Per calc: the formatted value and the raw number (for sorting). */
  values: { calc: string; text: string; numeric: number | null }[];
  yAxisRight: boolean;
}

const REDUCER_NAMES: Record<string, string> = {
  lastNotNull: 'Last *',
  last: 'Last',
  firstNotNull: 'First *',
  first: 'First',
  mean: 'Mean',
  max: 'Max',
  min: 'Min',
  sum: 'Total',
  count: 'Count',
  range: 'Range',
  delta: 'Delta',
  diff: 'Difference',
  diffperc: 'Difference percent',
  changeCount: 'Change count',
  distinctCount: 'Distinct count',
  median: 'Median',
  stdDev: 'StdDev',
  variance: 'Variance',
  allIsNull: 'All null',
  allIsZero: 'All zero',
  allValues: 'All values',
  uniqueValues: 'All unique values',
  logmin: 'Min (above zero)',
  step: 'Min interval',
  p1: '1st %',
  p99: '99th %',
};

export function reducerName(id: string): string {
  if (REDUCER_NAMES[id]) return REDUCER_NAMES[id];
  const p = /^p(\d+)$/.exec(id);
  if (p) return `${p[1]}th %`;
  return id;
}

export function legendItems(
  series: SeriesModel[],
  options: LegendOptions,
  rightScales: Set<string>,
): LegendItem[] {
  const calcs = Array.isArray(options.calcs) ? options.calcs : [];
  const items: LegendItem[] = [];
  series.forEach((s, index) => {
    if (s.hideFromLegend) return;
    const reduced = calcs.length ? reduceField(s.field as Field, calcs) : {};
    const display = calcs.length ? getDisplayProcessor({ field: s.field }) : undefined;
    items.push({
      index,
      label: s.name,
      color: s.color,
      yAxisRight: rightScales.has(s.scaleKey),
      values: calcs.map((calc) => {
        const raw = reduced[calc];
        const v = typeof raw === 'number' ? raw : typeof raw === 'boolean' ? Number(raw) : null;
        const d = display?.(raw ?? null);
        return { calc, text: d ? `${d.prefix ?? ''}${d.text}${d.suffix ?? ''}` : '', numeric: v };
      }),
    });
  });
  if (options.sortBy) {
    const key = options.sortBy;
    const pick = (it: LegendItem): number | string => {
      if (key === 'Name') return it.label;
      const v = it.values.find((x) => reducerName(x.calc) === key || x.calc === key);
      return v?.numeric ?? Number.NEGATIVE_INFINITY;
    };
    items.sort((a, b) => {
      const x = pick(a);
      const y = pick(b);
      const c = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
      return options.sortDesc ? -c : c;
    });
  }
  return items;
}

/** Whether the legend shows at all (Grafana: showLegend false or displayMode hidden hides it). */
export function legendVisible(options: LegendOptions | undefined): boolean {
  if (!options) return true;
  return options.showLegend !== false && options.displayMode !== 'hidden';
}

/**
 * Room the legend takes: for a bottom legend its height (list items wrap, a table has a row per item),
 * at most 40% of the panel; for a right legend its width, at most 60%.
 */
export function legendSize(
  items: LegendItem[],
  options: LegendOptions,
  width: number,
  height: number,
  measure: MeasureText = measureText,
): { width: number; height: number } {
  const placement = options.placement ?? 'bottom';
  const table = options.displayMode === 'table';
  const rowH = table ? 26 : 22;
  const valueWidths = (it: LegendItem) =>
    it.values.reduce(
      (w, v) => w + Math.max(measure(v.text, 12), table ? measure(reducerName(v.calc), 12) : 0) + 20,
      0,
    );
  if (placement === 'right') {
    let w = 0;
    for (const it of items) {
      const listVals = table
        ? valueWidths(it)
        : it.values.reduce((s, v) => s + measure(`${reducerName(v.calc)}: ${v.text}`, 12) + 12, 0);
      w = Math.max(w, measure(it.label, 12) + 30 + listVals);
    }
    return { width: Math.min(options.width ?? w + 16, width * 0.6), height };
  }
  let h: number;
  if (table) h = rowH * (items.length + 1) + 4;
  else {
    let rows = 1;
    let x = 0;
    for (const it of items) {
      const w =
        measure(it.label, 12) +
        32 +
        it.values.reduce((s, v) => s + measure(`${reducerName(v.calc)}: ${v.text}`, 12) + 12, 0);
      if (x > 0 && x + w > width) {
        rows++;
        x = 0;
      }
      x += w;
    }
    h = rows * rowH + 6;
  }
  return { width, height: Math.min(h, height * 0.4) };
}
