// uPlot options built from the plot model: series styles, scales, axes, stacking bands.
import { describe, expect, it } from 'vitest';
import type { FieldConfig } from '../../src/data/fieldConfig';
import type { DataFrame } from '../../src/data/frame';
import { buildPlotModel } from '../../src/panels/timeseries/model';
import { buildOptions, plotData } from '../../src/panels/timeseries/TimeSeriesPanel';

function ts(values: (number | null)[], config: FieldConfig = {}): DataFrame {
  return {
    length: values.length,
    fields: [
      { name: 'Time', type: 'time', config: {}, values: values.map((_, i) => i * 1000) },
      { name: 'Value', type: 'number', config, values },
    ],
  };
}

describe('buildOptions', () => {
  it('builds one uPlot series per field', () => {
    const m = buildPlotModel([ts([1, 2], { custom: { lineWidth: 3, fillOpacity: 50 } }), ts([3, 4])]);
    const o = buildOptions(m, 400, 200, { from: 0, to: 1000 }, 'utc', new Set([1]));
    expect(o.series).toHaveLength(3);
    expect(o.series[1]).toMatchObject({ width: 3, show: true });
    expect(typeof o.series[1].fill).toBe('string');
    expect(o.series[2]).toMatchObject({ show: false, fill: undefined });
    expect(o.width).toBe(400);
  });
  it('x is the panel time range; y scales per unit with axes', () => {
    const m = buildPlotModel([
      ts([1], { unit: 's' }),
      ts([1], { unit: 'bytes', custom: { axisPlacement: 'hidden' } }),
    ]);
    const o = buildOptions(m, 400, 200, { from: 5, to: 9 }, 'utc', new Set());
    const xr = o.scales?.x.range as (...a: unknown[]) => [number, number];
    expect(xr()).toEqual([5, 9]);
    expect(Object.keys(o.scales ?? {})).toEqual(['x', 's', 'bytes']);
    expect(o.axes?.map((a) => [a.scale, a.show !== false])).toEqual([
      ['x', true],
      ['s', true],
      ['bytes', false],
    ]);
  });
  it('soft limits widen the range, hard ones fix it, bars keep zero', () => {
    const range = (config: FieldConfig, lo: number, hi: number) => {
      const m = buildPlotModel([ts([lo, hi], config)]);
      const o = buildOptions(m, 400, 200, { from: 0, to: 1 }, 'utc', new Set());
      const key = m.scales[0].key;
      const fn = o.scales?.[key].range as (u: unknown, a: number, b: number) => [number, number];
      return fn(null, lo, hi);
    };
    expect(range({ min: 0, max: 100 }, 20, 30)).toEqual([0, 100]);
    const soft = range({ custom: { axisSoftMin: 0, axisSoftMax: 50 } }, 20, 30);
    expect(soft[0]).toBeLessThanOrEqual(0);
    expect(soft[1]).toBeGreaterThanOrEqual(50);
    expect(range({ custom: { drawStyle: 'bars' } }, 20, 30)[0]).toBe(0);
    const centred = range({ custom: { axisCenteredZero: true } }, -5, 30);
    expect(centred[0]).toBe(-centred[1]);
    expect(range({}, 20, 30)[0]).toBeGreaterThan(0);
  });
  it('stacked series get a band down to the one below', () => {
    const stack = { custom: { stacking: { mode: 'normal' }, fillOpacity: 20 } };
    const m = buildPlotModel([ts([1], stack), ts([2], stack)]);
    const o = buildOptions(m, 400, 200, { from: 0, to: 1 }, 'utc', new Set());
    expect(o.bands).toEqual([{ series: [2, 1] }]);
    expect(plotData(m)).toEqual([[0], [1], [3]]);
  });
  it('dashed and dotted lines', () => {
    const m = buildPlotModel([
      ts([1], { custom: { lineStyle: { fill: 'dash', dash: [10, 5] } } }),
      ts([1], { custom: { lineStyle: { fill: 'dot' } } }),
      ts([1], { custom: { lineStyle: { fill: 'solid' } } }),
    ]);
    const o = buildOptions(m, 400, 200, { from: 0, to: 1 }, 'utc', new Set());
    expect(o.series.slice(1).map((x) => [x.dash, x.cap])).toEqual([
      [[10, 5], undefined],
      [[0, 10], 'round'],
      [undefined, undefined],
    ]);
  });
  it('points style draws no line; always/never points', () => {
    const m = buildPlotModel([
      ts([1], { custom: { drawStyle: 'points' } }),
      ts([1], { custom: { showPoints: 'never' } }),
      ts([1], { custom: { showPoints: 'always', pointSize: 7 } }),
    ]);
    const o = buildOptions(m, 400, 200, { from: 0, to: 1 }, 'utc', new Set());
    expect(o.series[1].width).toBe(0);
    expect(o.series[1].points?.show).toBe(true);
    expect(o.series[2].points?.show).toBe(false);
    expect(o.series[3].points).toMatchObject({ show: true, size: 7 });
  });
});
