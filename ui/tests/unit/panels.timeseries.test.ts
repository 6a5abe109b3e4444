// Time series logic: joining frames, null handling, stacking, scales from field config, legend calcs and
// sizes, time axis formats, and the shared crosshair bus.
import { describe, expect, it } from 'vitest';
import type { FieldConfig } from '../../src/data/fieldConfig';
import type { DataFrame } from '../../src/data/frame';
import { CrosshairBus, type CrosshairEvent } from '../../src/panels/crosshair';
import { approxTextWidth } from '../../src/panels/measure';
import { legendItems, legendSize, legendVisible, reducerName } from '../../src/panels/timeseries/legend';
import {
  applySpanNulls,
  buildPlotModel,
  formatTime,
  joinFrames,
  tickDecimals,
  timeTickFormat,
  zoneOffset,
} from '../../src/panels/timeseries/model';

function ts(
  times: number[],
  values: (number | null)[],
  config: FieldConfig = {},
  name = 's',
  interval?: number,
): DataFrame {
  return {
    refId: 'A',
    length: times.length,
    fields: [
      { name: 'Time', type: 'time', config: interval ? { interval } : {}, values: times },
      { name: 'Value', type: 'number', config: { displayNameFromDS: name, ...config }, values },
    ],
  };
}

describe('joinFrames', () => {
  it('outer-joins times; missing points are undefined, real nulls null', () => {
    const { xs, columns } = joinFrames([ts([1, 2], [10, null]), ts([2, 3], [20, 30])]);
    expect(xs).toEqual([1, 2, 3]);
    expect(columns[0].values).toEqual([10, null, undefined]);
    expect(columns[1].values).toEqual([undefined, 20, 30]);
  });
  it('breaks lines where points are further apart than the interval', () => {
    const { xs, columns } = joinFrames([ts([0, 10, 40], [1, 2, 3], {}, 's', 10)]);
    expect(xs).toEqual([0, 10, 20, 40]);
    expect(columns[0].values).toEqual([1, 2, null, 3]);
  });
  it('custom.insertNulls overrides the interval as the threshold', () => {
    const { xs, columns } = joinFrames([
      ts([0, 10, 40], [1, 2, 3], { custom: { insertNulls: 20 } }, 's', 10),
    ]);
    expect(xs).toEqual([0, 10, 30, 40]);
    expect(columns[0].values).toEqual([1, 2, null, 3]);
  });
  it('NaN and infinities are gaps', () => {
    expect(joinFrames([ts([1, 2], [Number.NaN, Number.POSITIVE_INFINITY])]).columns[0].values).toEqual([
      null,
      null,
    ]);
  });
});

describe('applySpanNulls', () => {
  const xs = [0, 10, 20, 100, 110];
  const vals = [1, null, 2, undefined, 3];
  it.each([
    [false, [1, null, 2, undefined, 3]],
    [true, [1, undefined, 2, undefined, 3]],
    [50, [1, undefined, 2, null, 3]],
  ])('spanNulls %s', (span, want) => {
    expect(applySpanNulls(xs, vals, span)).toEqual(want);
  });
});

describe('buildPlotModel', () => {
  it('reads the custom field config', () => {
    const m = buildPlotModel([
      ts([1], [1], {
        unit: 'bytes',
        custom: {
          drawStyle: 'bars',
          lineWidth: 2,
          fillOpacity: 30,
          lineInterpolation: 'stepAfter',
          showPoints: 'always',
          axisSoftMin: 0,
          axisPlacement: 'right',
          axisLabel: 'mem',
          thresholdsStyle: { mode: 'line+area' },
        },
      }),
    ]);
    const s = m.series[0];
    expect([s.drawStyle, s.lineWidth, s.fillOpacity, s.interpolation, s.showPoints]).toEqual([
      'bars',
      2,
      30,
      'stepAfter',
      'always',
    ]);
    expect(m.scales).toMatchObject([
      { key: 'bytes', softMin: 0, placement: 'right', label: 'mem', thresholdsStyle: 'line+area' },
    ]);
  });
  it('defaults as Grafana: line, width 1, no fill, linear, auto points', () => {
    const s = buildPlotModel([ts([1], [1])]).series[0];
    expect([s.drawStyle, s.lineWidth, s.fillOpacity, s.interpolation, s.showPoints, s.spanNulls]).toEqual([
      'line',
      1,
      0,
      'linear',
      'auto',
      false,
    ]);
  });
  it('one scale per unit; the second goes right', () => {
    const m = buildPlotModel([
      ts([1], [1], { unit: 's' }),
      ts([1], [1], { unit: 's' }),
      ts([1], [1], { unit: 'bytes' }),
    ]);
    expect(m.scales.map((s) => [s.key, s.placement])).toEqual([
      ['s', 'left'],
      ['bytes', 'right'],
    ]);
  });
  it('hard min/max and hideFrom', () => {
    const m = buildPlotModel([
      ts([1], [1], { min: 0, max: 10, custom: { hideFrom: { legend: true, tooltip: true, viz: false } } }),
    ]);
    expect(m.scales[0]).toMatchObject({ min: 0, max: 10 });
    expect([m.series[0].hideFromLegend, m.series[0].hideFromTooltip, m.series[0].hideFromViz]).toEqual([
      true,
      true,
      false,
    ]);
  });
  it('stacks normal groups, keeps raw values for the legend', () => {
    const stack = { custom: { stacking: { mode: 'normal', group: 'A' } } };
    const m = buildPlotModel([
      ts([1, 2], [1, 2], stack, 'a'),
      ts([1, 2], [10, null], stack, 'b'),
      ts([1, 2], [5, 5], { custom: { stacking: { mode: 'normal', group: 'B' } } }, 'c'),
    ]);
    expect(m.series.map((s) => s.plotted)).toEqual([
      [1, 2],
      [11, null],
      [5, 5],
    ]);
    expect(m.series[1].values).toEqual([10, null]);
    expect(m.series.map((s) => s.stackedOn)).toEqual([undefined, 0, undefined]);
  });
  it('percent stacking divides by the total and uses a 0-1 percentunit scale', () => {
    const stack = { custom: { stacking: { mode: 'percent' } } };
    const m = buildPlotModel([ts([1], [1], stack), ts([1], [3], stack)]);
    expect(m.series.map((s) => s.plotted)).toEqual([[0.25], [1]]);
    expect(m.scales[0]).toMatchObject({ unit: 'percentunit', min: 0, max: 1 });
  });
  it.each([
    ['negative-Y', [-1, null, -3]],
    ['constant', [1, 1, 1]],
    [undefined, [1, null, 3]],
  ])('transform %s plots %j, keeps raw values', (transform, plotted) => {
    const m = buildPlotModel([ts([1, 2, 3], [1, null, 3], { custom: { transform } })]);
    expect(m.series[0].plotted).toEqual(plotted);
    expect(m.series[0].values).toEqual([1, null, 3]);
  });
  it('negative values stack downwards', () => {
    const stack = { custom: { stacking: { mode: 'normal' } } };
    const m = buildPlotModel([ts([1], [-1], stack), ts([1], [-2], stack), ts([1], [4], stack)]);
    expect(m.series.map((s) => s.plotted[0])).toEqual([-1, -3, 4]);
  });
});

describe('legend', () => {
  const m = buildPlotModel([ts([1, 2, 3], [1, 5, 3], {}, 'a'), ts([1, 2, 3], [2, 2, 2], {}, 'bb')]);
  it('reduces each series with the calcs', () => {
    const items = legendItems(m.series, { calcs: ['mean', 'max'] }, new Set());
    expect(items.map((i) => [i.label, i.values.map((v) => v.numeric)])).toEqual([
      ['a', [3, 5]],
      ['bb', [2, 2]],
    ]);
  });
  it('sorts by a calc or by name', () => {
    expect(
      legendItems(m.series, { calcs: ['max'], sortBy: 'Max', sortDesc: false }, new Set()).map(
        (i) => i.label,
      ),
    ).toEqual(['bb', 'a']);
    expect(legendItems(m.series, { sortBy: 'Name', sortDesc: true }, new Set()).map((i) => i.label)).toEqual([
      'bb',
      'a',
    ]);
  });
  it.each([
    [undefined, true],
    [{ showLegend: false }, false],
    [{ displayMode: 'hidden' as const }, false],
    [{ displayMode: 'table' as const }, true],
  ])('visible %j: %s', (opts, want) => {
    expect(legendVisible(opts)).toBe(want);
  });
  it('sizes: table rows, wrapping list, capped', () => {
    const items = legendItems(m.series, {}, new Set());
    const measure = (t: string, s: number) => approxTextWidth(t, s);
    expect(legendSize(items, { displayMode: 'table' }, 800, 400, measure).height).toBe(26 * 3 + 4);
    expect(legendSize(items, { displayMode: 'list' }, 800, 400, measure).height).toBe(28);
    expect(legendSize(items, { displayMode: 'list' }, 40, 400, measure).height).toBe(50);
    expect(legendSize(items, { displayMode: 'table' }, 800, 100, measure).height).toBe(40);
    const right = legendSize(items, { placement: 'right' }, 800, 400, measure);
    expect(right.height).toBe(400);
    expect(right.width).toBeGreaterThan(30);
  });
  it.each([
    ['lastNotNull', 'Last *'],
    ['mean', 'Mean'],
    ['sum', 'Total'],
    ['p95', '95th %'],
    ['custom', 'custom'],
  ])('reducer %s is named %s', (id, name) => {
    expect(reducerName(id)).toBe(name);
  });
});

describe('time axis', () => {
  it.each([
    [500, 'HH:mm:ss.SSS'],
    [10_000, 'HH:mm:ss'],
    [30_000, 'HH:mm:ss'],
    [60_000, 'HH:mm'],
    [3_600_000, 'HH:mm'],
    [3 * 3_600_000, 'MM/DD HH:mm'],
    [86_400_000 * 2, 'MM/DD'],
    [86_400_000 * 60, 'YYYY-MM'],
    [86_400_000 * 400, 'YYYY'],
  ])('ticks %i ms apart use %s', (incr, fmt) => {
    expect(timeTickFormat(incr)).toBe(fmt);
  });
  it('formats in UTC and in a named zone', () => {
    const t = Date.UTC(2023, 7, 1, 4, 5, 6, 7);
    expect(formatTime(t, 'YYYY-MM-DD HH:mm:ss.SSS', 'utc')).toBe('2023-08-01 04:05:06.007');
    expect(formatTime(t, 'HH:mm', 'Asia/Tokyo')).toBe('13:05');
  });
  it.each([
    ['utc', 0],
    ['Asia/Tokyo', 9 * 3600000],
    ['America/New_York', -4 * 3600000],
  ])('offset of %s', (zone, off) => {
    expect(zoneOffset(Date.UTC(2023, 7, 1), zone)).toBe(off);
  });
});

describe('tickDecimals', () => {
  it.each([
    [1, undefined],
    [20, undefined],
    [0.5, 1],
    [0.05, 2],
    [0.25, 2],
    [2.5, 1],
    [0.1 + 0.2, 1],
    [0, undefined],
  ])('ticks %d apart need %s decimals', (incr, d) => {
    expect(tickDecimals(incr)).toBe(d);
  });
});

describe('crosshair bus', () => {
  it('delivers to every subscriber until unsubscribed', () => {
    const bus = new CrosshairBus();
    const got: CrosshairEvent[] = [];
    const off = bus.subscribe((e) => got.push(e));
    bus.subscribe(() => {});
    bus.publish({ time: 5, source: 'a' });
    off();
    bus.publish({ time: null, source: 'a' });
    expect(got).toEqual([{ time: 5, source: 'a' }]);
    expect(bus.size).toBe(1);
  });
});
