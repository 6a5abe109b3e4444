// Interval math checked against Grafana's rangeutil over generated inputs, and the built-in variables.
import { describe, expect, it, vi } from 'vitest';
import {
  BACKEND_BUILTINS,
  builtinVariables,
  calculateInterval,
  DEFAULT_MAX_DATA_POINTS,
  describeInterval,
  frontendBuiltins,
  IntervalError,
  intervalToMs,
  intervalToSeconds,
  panelInterval,
  parseMinInterval,
  rateInterval,
  roundInterval,
  secondsToHms,
} from '../../src/dashboard/interval';
import { grafana, rng } from './oracle-time';

// Thousands of oracle comparisons on a shared machine: a generous per-test limit (not a speed check).
vi.setConfig({ testTimeout: 60_000 });

const { rangeUtil } = grafana;

function intervalStrings(n: number, seed: number): string[] {
  const r = rng(seed);
  const units = ['ms', 's', 'm', 'h', 'd', 'w', 'M', 'y'];
  const out = [
    '15s',
    '1m',
    '10s',
    '1.5m',
    '500ms',
    '30',
    '0s',
    '2h',
    '1d',
    '1w',
    '1M',
    '1y',
    '-5m',
    '7dd',
    '5mx',
  ];
  while (out.length < n) {
    const count = r() < 0.1 ? (r() * 100).toFixed(1) : String(Math.floor(r() * 1000));
    out.push(`${count}${units[Math.floor(r() * units.length)]}`);
  }
  return out;
}

describe('interval strings against Grafana', () => {
  it('describeInterval / intervalToMs / intervalToSeconds agree on generated strings', () => {
    for (const s of intervalStrings(400, 1)) {
      expect(describeInterval(s), s).toEqual(rangeUtil.describeInterval(s));
      expect(intervalToMs(s), s).toBe(rangeUtil.intervalToMs(s));
      expect(intervalToSeconds(s), s).toBe(rangeUtil.intervalToSeconds(s));
    }
  });

  it('rejects what Grafana rejects, with a typed error', () => {
    for (const s of ['', 'abc', 'm5', '>10s', ' 5m']) {
      expect(() => rangeUtil.describeInterval(s), s).toThrow();
      expect(() => describeInterval(s), s).toThrow(IntervalError);
    }
  });

  it('secondsToHms agrees', () => {
    const r = rng(2);
    const values = [0, 0.0004, 0.001, 0.5, 1, 59, 60, 90, 3599, 3600, 86400, 31536000, 63072000];
    for (let i = 0; i < 500; i++) values.push(r() * 10 ** Math.floor(r() * 9));
    for (const v of values) expect(secondsToHms(v), String(v)).toBe(rangeUtil.secondsToHms(v));
  });

  it('roundInterval follows the table at and around every boundary', () => {
    const r = rng(3);
    const values: number[] = [];
    for (const b of [
      10, 15, 35, 75, 150, 350, 750, 1500, 3500, 7500, 12500, 17500, 25000, 45000, 90000, 210000,
    ]) {
      values.push(b - 1, b, b + 1, b - 0.5);
    }
    for (let i = 0; i < 1000; i++) values.push(r() * 10 ** Math.floor(r() * 11));
    for (const v of values) expect(roundInterval(v), String(v)).toBe(rangeUtil.roundInterval(v));
  });
});

describe('calculateInterval against Grafana', () => {
  it('agrees on generated ranges, resolutions and low limits', () => {
    const r = rng(4);
    const lows = [undefined, '', '1ms', '10s', '15s', '1m', '5m', '30', '1h', '2d'];
    let n = 0;
    for (let i = 0; i < 2000; i++) {
      const from = Math.floor(1.6e12 + r() * 1e11);
      const span = Math.floor(10 ** (3 + r() * 8));
      const resolution = 1 + Math.floor(r() * 3000);
      const low = lows[Math.floor(r() * lows.length)];
      const want = rangeUtil.calculateInterval(
        { from: grafana.dateTime(from), to: grafana.dateTime(from + span) },
        resolution,
        low,
      );
      expect(
        calculateInterval({ from, to: from + span }, resolution, low),
        `${span}/${resolution} ${low}`,
      ).toEqual(want);
      n++;
    }
    expect(n).toBe(2000);
  });

  it('the typical dashboard cases', () => {
    const h6 = { from: 0, to: 6 * 3600_000 };
    expect(calculateInterval(h6, 1200)).toEqual({ interval: '20s', intervalMs: 20_000 });
    expect(calculateInterval(h6, 1200, '1m')).toEqual({ interval: '1m', intervalMs: 60_000 });
    expect(calculateInterval({ from: 0, to: 300_000 }, 1000)).toEqual({ interval: '200ms', intervalMs: 200 });
    expect(calculateInterval(h6, 1200, '>30s')).toEqual({ interval: '30s', intervalMs: 30_000 });
  });
});

describe('panel interval', () => {
  const range = { from: 0, to: 6 * 3600_000 };
  it('max data points are the panel width unless the panel sets them', () => {
    expect(panelInterval({ range, widthPx: 1200 })).toEqual({
      interval: '20s',
      intervalMs: 20_000,
      maxDataPoints: 1200,
    });
    expect(panelInterval({ range, widthPx: 1200, maxDataPoints: 100 }).maxDataPoints).toBe(100);
    expect(panelInterval({ range }).maxDataPoints).toBe(DEFAULT_MAX_DATA_POINTS);
  });
  it("the panel's min interval overrides the datasource's timeInterval", () => {
    expect(panelInterval({ range, widthPx: 1200, dsTimeInterval: '1m' }).interval).toBe('1m');
    expect(
      panelInterval({ range, widthPx: 1200, dsTimeInterval: '1m', panelInterval: '>10s' }).interval,
    ).toBe('20s');
    expect(panelInterval({ range, widthPx: 1200, panelInterval: '5m' }).interval).toBe('5m');
  });
  it('a broken min interval is ignored, not fatal', () => {
    expect(panelInterval({ range, widthPx: 1200, panelInterval: '$oops' }).interval).toBe('20s');
    expect(parseMinInterval('>15s')).toBe(15_000);
    expect(parseMinInterval('nonsense')).toBeUndefined();
    expect(parseMinInterval('')).toBeUndefined();
  });
});

describe('built-in variables', () => {
  it('$__rate_interval = max($__interval + scrape, 4 x scrape)', () => {
    expect(rateInterval(15_000, 15_000)).toBe(60_000);
    expect(rateInterval(60_000, 15_000)).toBe(75_000);
    expect(rateInterval(20_000)).toBe(60_000);
    expect(rateInterval(300_000, 0)).toBe(315_000);
  });

  it('the whole map for a 6h range at 20s', () => {
    const range = { from: 1_690_000_000_000, to: 1_690_000_000_000 + 6 * 3600_000 };
    const vars = builtinVariables(range, { interval: '20s', intervalMs: 20_000 }, 15_000);
    expect(vars).toEqual({
      __interval: '20s',
      __interval_ms: 20_000,
      __rate_interval: '60s',
      __rate_interval_ms: 60_000,
      __range: '21600s',
      __range_s: 21600,
      __range_ms: 21_600_000,
      __from: range.from,
      __to: range.to,
      __auto: '20s',
    });
    const big = builtinVariables(range, { interval: '2m', intervalMs: 120_000 }, 30_000);
    expect(big.__rate_interval).toBe('150s');
  });

  it('range seconds are rounded', () => {
    expect(builtinVariables({ from: 0, to: 1499 }, { interval: '1ms', intervalMs: 1 }).__range_s).toBe(1);
    expect(builtinVariables({ from: 0, to: 1500 }, { interval: '1ms', intervalMs: 1 }).__range).toBe('2s');
  });
});

describe('built-ins left for the server', () => {
  const vars = builtinVariables({ from: 0, to: 6 * 3600_000 }, { interval: '20s', intervalMs: 20_000 });
  it.each(['prometheus', 'loki'])('a %s query keeps the step-dependent ones as written', (type) => {
    const kept = frontendBuiltins(vars, type);
    for (const name of BACKEND_BUILTINS) expect(kept).not.toHaveProperty(name);
    expect(kept.__from).toBe(0);
    expect(kept.__to).toBe(6 * 3600_000);
  });
  it('any other datasource gets them all in the browser', () => {
    expect(frontendBuiltins(vars, 'testdata')).toEqual(vars);
    expect(frontendBuiltins(vars, undefined)).toEqual(vars);
  });
});
