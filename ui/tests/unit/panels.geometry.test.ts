// Pure geometry of stat values, gauges, bar gauges and sparklines (text measured by the glyph-width estimate).
import { describe, expect, it } from 'vitest';
import {
  barGaugeGeometry,
  colorAt,
  gradientStops,
  lcdCells,
  resolveOrientation,
} from '../../src/panels/barGauge';
import { alpha, shade, textOn } from '../../src/panels/color';
import { arcPath, gaugeFraction, gaugeGeometry, thresholdBands } from '../../src/panels/gaugeGeometry';
import { approxTextWidth, fitFontSize } from '../../src/panels/measure';
import { sparklinePath } from '../../src/panels/sparklinePath';
import { effectiveTextMode, statLayout } from '../../src/panels/statLayout';

const measure = (t: string, size: number) => approxTextWidth(t, size);

describe('fitFontSize', () => {
  it('is limited by width, height and the cap', () => {
    // 10 chars at 14px = 81.2px wide
    expect(fitFontSize('0123456789', 1000, 20, 1, undefined, measure)).toBe(20);
    expect(fitFontSize('0123456789', 83.2, 1000, 1, undefined, measure)).toBeCloseTo(14, 5);
    expect(fitFontSize('0123456789', 1000, 1000, 1, 30, measure)).toBe(30);
  });
});

describe('statLayout', () => {
  it.each([
    ['auto', 1, 'value'],
    ['auto', 2, 'value_and_name'],
    ['name', 1, 'name'],
    ['bogus', 3, 'value_and_name'],
  ])('text mode %s with %i values is %s', (mode, count, want) => {
    expect(effectiveTextMode(mode, count)).toBe(want);
  });

  const base = { title: 'GET', valueText: '82', count: 1, hasSparkline: false };
  it('wide boxes put the name beside the value', () => {
    const l = statLayout({ ...base, width: 600, height: 100, textMode: 'value_and_name' }, measure);
    expect(l.kind).toBe('wide');
    expect(l.showTitle).toBe(true);
    expect(l.justifyCenter).toBe(false);
  });
  it('a single value alone is centred, its font grows with the box', () => {
    const small = statLayout({ ...base, width: 100, height: 100 }, measure);
    const big = statLayout({ ...base, width: 200, height: 200 }, measure);
    expect(small.kind).toBe('stacked');
    expect(small.showTitle).toBe(false);
    expect(small.justifyCenter).toBe(true);
    expect(big.valueFontSize).toBeGreaterThan(small.valueFontSize);
  });
  it('reserves room for a sparkline only in tall boxes', () => {
    expect(
      statLayout({ ...base, width: 150, height: 150, hasSparkline: true }, measure).chartHeight,
    ).toBeGreaterThan(0);
    expect(statLayout({ ...base, width: 150, height: 90, hasSparkline: true }, measure).chartHeight).toBe(0);
  });
  it('wideLayout false keeps wide boxes stacked', () => {
    expect(statLayout({ ...base, width: 600, height: 100, wideLayout: false }, measure).kind).toBe('stacked');
  });
  it('text mode none shows neither', () => {
    const l = statLayout({ ...base, width: 100, height: 100, textMode: 'none' }, measure);
    expect([l.showTitle, l.showValue]).toEqual([false, false]);
  });
});

describe('gauge', () => {
  it.each([
    [50, 0, 100, 0.5],
    [-5, 0, 100, 0],
    [500, 0, 100, 1],
    [0.25, 0, 1, 0.25],
    [Number.NaN, 0, 1, 0],
    [5, 5, 5, 0],
  ])('fraction of %d in [%d,%d] is %d', (v, min, max, f) => {
    expect(gaugeFraction(v, min, max)).toBe(f);
  });
  it('threshold bands cover the range in order', () => {
    const bands = thresholdBands(
      {
        mode: 'absolute',
        steps: [
          { value: null, color: 'green' },
          { value: 80, color: 'red' },
        ],
      },
      0,
      100,
    );
    expect(bands.map((b) => [b.from, b.to, b.color])).toEqual([
      [0, 0.8, 'green'],
      [0.8, 1, 'red'],
    ]);
    const pct = thresholdBands(
      {
        mode: 'percentage',
        steps: [
          { value: null, color: 'a' },
          { value: 25, color: 'b' },
        ],
      },
      0,
      8,
    );
    expect(pct[1].from).toBe(0.25);
  });
  it('fits inside its box', () => {
    const g = gaugeGeometry(
      {
        width: 200,
        height: 150,
        title: 'x',
        valueText: '42.1%',
        showThresholdMarkers: true,
        showThresholdLabels: false,
      },
      measure,
    );
    expect(g.cx).toBe(100);
    expect(g.cy - g.markerRadius).toBeGreaterThanOrEqual(0);
    expect(g.cx + g.markerRadius).toBeLessThanOrEqual(200);
    expect(g.titleTop).toBeLessThan(150);
  });
  it('arc paths start lower left and use the large-arc flag past 180°', () => {
    expect(arcPath(0, 0, 10, 0, 1)).toMatch(/^M-7\.07,7\.07A10\.00,10\.00 0 1 1 7\.07,7\.07$/);
    expect(arcPath(0, 0, 10, 0, 0.5)).toContain(' 0 0 1 ');
  });
});

describe('bar gauge', () => {
  it.each([
    ['auto', 400, 100, 'vertical'],
    ['auto', 100, 400, 'horizontal'],
    [undefined, 100, 100, 'horizontal'],
    ['horizontal', 400, 100, 'horizontal'],
    ['vertical', 100, 400, 'vertical'],
  ])('orientation %s in %ix%i is %s', (o, w, h, want) => {
    expect(resolveOrientation(o, w, h)).toBe(want);
  });
  it('names above tall bars, left of short ones', () => {
    const tall = barGaugeGeometry(
      { width: 500, height: 60, orientation: 'horizontal', title: 'Server Errors', valueText: '57' },
      measure,
    );
    const short = barGaugeGeometry(
      { width: 500, height: 30, orientation: 'horizontal', title: '/health', valueText: '13.2 s' },
      measure,
    );
    expect(tall.title?.placement).toBe('above');
    expect(tall.bar.y).toBe(tall.title?.height);
    expect(short.title?.placement).toBe('left');
    expect(short.bar.x).toBeGreaterThan(0);
    expect(short.bar.x + short.bar.width).toBeLessThanOrEqual(short.value?.x ?? 0);
  });
  it('vertical bars: value on top, name below', () => {
    const g = barGaugeGeometry(
      { width: 80, height: 300, orientation: 'vertical', title: 'a', valueText: '1' },
      measure,
    );
    expect(g.title?.placement).toBe('below');
    expect(g.bar.y).toBeGreaterThan(0);
    expect(g.bar.y + g.bar.height).toBeLessThanOrEqual(g.title?.y ?? 0);
  });
  it('hidden names and values leave the bar the whole box', () => {
    const g = barGaugeGeometry(
      {
        width: 300,
        height: 30,
        orientation: 'horizontal',
        title: 'a',
        valueText: '1',
        namePlacement: 'hidden',
        valueMode: 'hidden',
      },
      measure,
    );
    expect(g.bar).toEqual({ x: 0, y: 0, width: 300, height: 30 });
  });
  it.each([
    [120, 10],
    [5, 1],
    [1330, 110],
  ])('a %ipx LCD bar has %i cells', (len, count) => {
    const c = lcdCells(len);
    expect(c.count).toBe(count);
    expect(c.count * c.size + (c.count - 1) * c.spacing).toBeCloseTo(len, 5);
  });
  it('cell colours follow thresholds, percentage thresholds and continuous schemes', () => {
    const th = {
      mode: 'absolute' as const,
      steps: [
        { value: null, color: '#00ff00' },
        { value: 80, color: '#ff0000' },
      ],
    };
    expect(colorAt({ thresholds: th }, 50, 0, 100)).toBe('#00ff00');
    expect(colorAt({ thresholds: th }, 90, 0, 100)).toBe('#ff0000');
    expect(colorAt({ thresholds: { ...th, mode: 'percentage' } }, 0.9, 0, 1)).toBe('#ff0000');
    expect(colorAt({ color: { mode: 'fixed', fixedColor: '#123456' } }, 1, 0, 1)).toBe('#123456');
    expect(colorAt({ color: { mode: 'continuous-GrYlRd' } }, 0, 0, 1)).not.toBe(
      colorAt({ color: { mode: 'continuous-GrYlRd' } }, 1, 0, 1),
    );
  });
  it('a base step of -Infinity (as loaded dashboards hold it) starts at 0', () => {
    const th = {
      mode: 'absolute' as const,
      steps: [
        { value: Number.NEGATIVE_INFINITY, color: '#00ff00' },
        { value: 50, color: '#ff0000' },
      ],
    };
    expect(gradientStops({ thresholds: th }, 0, 100)).toEqual(['#00ff00 0.0%', '#ff0000 50.0%']);
    expect(thresholdBands(th, 0, 100).map((b) => [b.from, b.to])).toEqual([
      [0, 0.5],
      [0.5, 1],
    ]);
  });
  it('gradient stops sit at the thresholds', () => {
    const th = {
      mode: 'absolute' as const,
      steps: [
        { value: null, color: '#00ff00' },
        { value: 50, color: '#ff0000' },
      ],
    };
    expect(gradientStops({ thresholds: th }, 0, 200)).toEqual(['#00ff00 0.0%', '#ff0000 25.0%']);
  });
});

describe('colours', () => {
  it('alpha and shade', () => {
    expect(alpha('#ff0000', 0.5)).toBe('rgba(255, 0, 0, 0.5)');
    expect(shade('#808080', 10)).toBe('rgb(154, 154, 154)');
    expect(shade('#808080', -100)).toBe('rgb(0, 0, 0)');
    expect(shade('nonsense', 10)).toBe('nonsense');
  });
  it.each([
    ['#73BF69', 'rgb(247, 248, 250)'],
    ['#F2495C', 'rgb(247, 248, 250)'],
    ['#ffffff', 'rgb(36, 41, 46)'],
  ])('text on %s is %s', (bg, want) => {
    expect(textOn(bg)).toBe(want);
  });
});

describe('sparklinePath', () => {
  it('scales to the box and breaks at gaps', () => {
    const p = sparklinePath(
      {
        x: { name: 't', type: 'time', config: {}, values: [0, 1, 2, 3] },
        y: { name: 'v', type: 'number', config: {}, values: [0, 10, null, 5] },
        highlightIndex: 3,
      },
      30,
      12,
    );
    expect(p?.line).toBe('M0.0,11.0L10.0,1.0M30.0,6.0');
    expect(p?.highlight).toEqual([30, 6]);
  });
  it('nothing to draw without numbers', () => {
    expect(
      sparklinePath({ y: { name: 'v', type: 'number', config: {}, values: [null] } }, 10, 10),
    ).toBeUndefined();
  });
});
