// Date math, range parsing and descriptions, checked against Grafana's own @grafana/data over generated
// inputs, plus the behaviours Grafana has no single function for (zoom, panel time overrides).
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';

// A zone with DST makes "browser" time different from UTC; set before any Date work in this file.
// (vitest.config may pin TZ=UTC for other files; this file wants a zone with DST and sets its own.)
const nodeProcess = (globalThis as unknown as { process: { env: Record<string, string | undefined> } })
  .process;
const previousTz = nodeProcess.env.TZ;
nodeProcess.env.TZ = 'Europe/Berlin';

import {
  applyPanelTimeOverrides,
  DEFAULT_TIME_RANGE,
  dateMath,
  describeTextRange,
  describeTimeRange,
  formatDate,
  isValidTimeSpan,
  parseTimeInput,
  parseTimeRange,
  QUICK_RANGES,
  shiftRange,
  timeAgo,
  toUrlRange,
  zoomOut,
} from '../../src/dashboard/time';
import { grafana, rng } from './oracle-time';

// Thousands of oracle comparisons on a shared machine: a generous per-test limit (not a speed check).
vi.setConfig({ testTimeout: 60_000 });

const ZONES = ['utc', 'browser', 'America/New_York', 'Asia/Kolkata'];
const UNITS = ['s', 'm', 'h', 'd', 'w', 'M', 'y', 'Q'];

/** Random instants from 1995 to 2035, including ones near month ends and DST changes. */
function instants(n: number, seed: number): number[] {
  const r = rng(seed);
  const out = [
    Date.UTC(2024, 0, 31, 12, 0, 0),
    Date.UTC(2024, 1, 29, 23, 59, 59, 999),
    Date.UTC(2023, 2, 26, 1, 30),
    Date.UTC(2023, 9, 29, 0, 30),
    Date.UTC(2023, 11, 31, 23, 0),
    Date.UTC(2021, 0, 3, 0, 0),
  ];
  while (out.length < n) out.push(Math.floor(Date.UTC(1995, 0, 1) + r() * 40 * 365 * 86_400_000));
  return out;
}

function expressions(n: number, seed: number): string[] {
  const r = rng(seed);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const out = [
    'now',
    'now/d',
    'now-1d/d',
    'now/w',
    'now-1M/M',
    'now-5m',
    'now-6h',
    'now+1y/y',
    'now/Q',
    'now-1w/w',
  ];
  while (out.length < n) {
    let e = 'now';
    const parts = 1 + Math.floor(r() * 3);
    for (let i = 0; i < parts; i++) {
      const op = pick(['-', '+', '/']);
      const unit = pick(UNITS);
      if (op === '/') e += `/${unit}`;
      else e += `${op}${r() < 0.2 ? '' : 1 + Math.floor(r() * 400)}${unit}`;
    }
    out.push(e);
  }
  return out;
}

// Put the zone back for whatever runs next in this worker (the config pins TZ=UTC for the other files).
afterAll(() => {
  if (previousTz === undefined) delete nodeProcess.env.TZ;
  else nodeProcess.env.TZ = previousTz;
});

it('runs in a zone that is not UTC, so "browser" differs from "utc"', () => {
  expect(new Date(Date.UTC(2024, 0, 1)).getHours()).toBe(1);
  expect(new Date(Date.UTC(2024, 6, 1)).getHours()).toBe(2);
});

describe('dateMath.parse against Grafana', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });

  const nows = instants(40, 7);
  const exprs = expressions(60, 11);
  for (const zone of ZONES) {
    it(`matches for ${exprs.length} expressions x ${nows.length} instants in ${zone}`, () => {
      let checked = 0;
      for (const now of nows) {
        vi.setSystemTime(now);
        for (const e of exprs) {
          for (const roundUp of [false, true]) {
            const want = grafana.dateMath.parse(e, roundUp, zone)?.valueOf();
            const got = dateMath.parse(e, roundUp, now, { timeZone: zone });
            if (got !== want)
              throw new Error(
                `${e} roundUp=${roundUp} now=${new Date(now).toISOString()}: ${got} != ${want}`,
              );
            checked++;
          }
        }
      }
      expect(checked).toBe(nows.length * exprs.length * 2);
    });
  }

  it('rejects what Grafana rejects', () => {
    const now = Date.UTC(2024, 5, 1);
    vi.setSystemTime(now);
    for (const e of ['now-', 'now-5x', 'now/2d', 'now-123456m', 'now*2', 'now-5m/', 'nowx']) {
      const want = grafana.dateMath.parse(e, false, 'utc');
      expect(dateMath.parse(e, false, now, { timeZone: 'utc' }), e).toBe(want?.valueOf());
    }
  });

  it('fiscal quarters and years', () => {
    const now = Date.UTC(2024, 4, 15, 10);
    vi.setSystemTime(now);
    for (const e of ['now/fQ', 'now/fy', 'now-1Q/fQ', 'now-1y/fy']) {
      for (const fy of [0, 3, 9]) {
        for (const up of [false, true]) {
          const want = grafana.dateMath.parse(e, up, 'utc', fy)?.valueOf();
          expect(
            dateMath.parse(e, up, now, { timeZone: 'utc', fiscalYearStartMonth: fy }),
            `${e} ${fy} ${up}`,
          ).toBe(want);
        }
      }
    }
  });
});

describe('parseTimeRange against Grafana', () => {
  beforeAll(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
  });
  afterAll(() => {
    vi.useRealTimers();
  });
  const cases: [string, string][] = [
    ['now-6h', 'now'],
    ['now/d', 'now/d'],
    ['now-1d/d', 'now-1d/d'],
    ['1690000000000', '1690003600000'],
    ['2023-08-01T10:00:00.000Z', '2023-08-01T12:30:00.000Z'],
    ['2023-08-01 10:00:00', '2023-08-01 12:00:00'],
    ['now-7d', 'now-1h'],
  ];
  for (const zone of ['utc', 'browser']) {
    it(`reads picker and URL ranges in ${zone}`, () => {
      const now = Date.UTC(2024, 2, 31, 1, 30, 12, 345);
      vi.setSystemTime(now);
      for (const [from, to] of cases) {
        const want = (
          grafana.rangeUtil as unknown as {
            convertRawToRange(
              raw: { from: string; to: string },
              tz: string,
            ): { from: { valueOf(): number }; to: { valueOf(): number } };
          }
        ).convertRawToRange({ from, to }, zone);
        const got = parseTimeRange({ from, to }, now, { timeZone: zone });
        expect([got.from, got.to], `${from}..${to}`).toEqual([want.from.valueOf(), want.to.valueOf()]);
      }
    });
  }

  it('URL forms: epoch ms, YYYYMMDD, YYYYMMDDTHHmmss', () => {
    expect(parseTimeInput('1690000000000', false, 0)).toBe(1690000000000);
    expect(parseTimeInput('20230801', false, 0, { timeZone: 'utc' })).toBe(Date.UTC(2023, 7, 1));
    expect(parseTimeInput('20230801T101500', false, 0, { timeZone: 'utc' })).toBe(
      Date.UTC(2023, 7, 1, 10, 15),
    );
    expect(parseTimeInput('2023-08-01T10:00:00+02:00', false, 0)).toBe(Date.UTC(2023, 7, 1, 8));
    expect(parseTimeInput('garbage', false, 0)).toBeUndefined();
    // Invalid math means now, as in Grafana's dateTimeParse.
    expect(parseTimeInput('now-5x', false, 1234)).toBe(1234);
  });

  it('falls back to the default range on unparseable ends', () => {
    const now = Date.UTC(2024, 0, 1);
    const r = parseTimeRange({ from: 'bogus', to: 'also bogus' }, now);
    expect([r.from, r.to]).toEqual([now - 6 * 3600_000, now]);
    expect(DEFAULT_TIME_RANGE).toEqual({ from: 'now-6h', to: 'now' });
  });
});

/** The fields of a text range we reproduce (Grafana's also carries an always-undefined `section`). */
function textRange(expr: string) {
  const { from, to, display, invalid } = grafana.rangeUtil.describeTextRange(expr);
  return invalid ? { from, to, display, invalid } : { from, to, display };
}

describe('describeTimeRange against Grafana', () => {
  it('names every quick range as Grafana does', () => {
    for (const q of QUICK_RANGES) {
      expect(describeTimeRange(q)).toBe(grafana.rangeUtil.describeTimeRange({ from: q.from, to: q.to }));
    }
    expect(QUICK_RANGES).toHaveLength(36);
    expect(QUICK_RANGES[0]).toEqual({ from: 'now-5m', to: 'now', display: 'Last 5 minutes' });
    expect(describeTimeRange({ from: 'now-6h', to: 'now' })).toBe('Last 6 hours');
    expect(describeTimeRange({ from: 'now/d', to: 'now' })).toBe('Today so far');
    const custom = [{ from: 'now-6h', to: 'now', display: 'Shift' }];
    expect(describeTimeRange({ from: 'now-6h', to: 'now' }, 'utc', 0, custom)).toBe(
      grafana.rangeUtil.describeTimeRange({ from: 'now-6h', to: 'now' }, 'utc', custom),
    );
  });

  it('describes generated relative ranges', () => {
    const r = rng(3);
    for (let i = 0; i < 120; i++) {
      const unit = UNITS[Math.floor(r() * UNITS.length)];
      const n = 1 + Math.floor(r() * 100);
      const from = `now-${n}${unit}`;
      expect(describeTimeRange({ from, to: 'now' }), from).toBe(
        grafana.rangeUtil.describeTimeRange({ from, to: 'now' }),
      );
      const text = `${n}${unit}`;
      expect(describeTextRange(text)).toEqual(textRange(text));
      const plus = `+${n}${unit}`;
      expect(describeTextRange(plus)).toEqual(textRange(plus));
    }
    for (const odd of ['now-5m', 'now-1h/h', 'banana', 'now-5x']) {
      expect(describeTextRange(odd), odd).toEqual(textRange(odd));
      expect(describeTimeRange({ from: odd, to: 'now-1m' })).toBe(
        grafana.rangeUtil.describeTimeRange({ from: odd, to: 'now-1m' }),
      );
    }
  });

  for (const zone of ['utc', 'browser']) {
    it(`describes absolute ranges in ${zone}`, () => {
      for (const from of instants(30, 5)) {
        const to = from + 3_600_000 * 7 + 1234;
        const want = grafana.rangeUtil.describeTimeRange(
          { from: grafana.dateTime(from), to: grafana.dateTime(to) },
          zone,
        );
        expect(describeTimeRange({ from: String(from), to: String(to) }, zone)).toBe(want);
      }
    });
  }

  it('absolute with a relative end reads like "... to a few seconds ago"', () => {
    const now = Date.UTC(2023, 7, 1, 12);
    expect(describeTimeRange({ from: '2023-08-01T10:00:00Z', to: 'now' }, 'utc', now)).toBe(
      '2023-08-01 10:00:00 to a few seconds ago',
    );
    expect(timeAgo(now - 3 * 3600_000, now)).toBe('3 hours ago');
    expect(timeAgo(now + 90_000, now)).toBe('in 2 minutes');
  });

  it('isValidTimeSpan as Grafana', () => {
    for (const t of ['5m', '1h', '$var', '+$x', 'now-1d', 'banana', '1Q', '7d/d']) {
      const want = !grafana.rangeUtil.describeTextRange(t).invalid || t.startsWith('$') || t.startsWith('+$');
      expect(isValidTimeSpan(t), t).toBe(want);
    }
  });
});

describe('changing the range', () => {
  it('zoom out keeps the centre and doubles the span', () => {
    expect(zoomOut({ from: 1000, to: 3000 })).toEqual({ from: 0, to: 4000 });
    expect(zoomOut({ from: 0, to: 3600_000 }, 3)).toEqual({ from: -3600_000, to: 7200_000 });
  });
  it('shift moves by half the span', () => {
    expect(shiftRange({ from: 0, to: 1000 }, -1)).toEqual({ from: -500, to: 500 });
    expect(shiftRange({ from: 0, to: 1000 }, 1)).toEqual({ from: 500, to: 1500 });
  });
  it('URL ranges keep math and write absolute ends as epoch ms', () => {
    expect(toUrlRange({ from: 'now-6h', to: 'now' })).toEqual({ from: 'now-6h', to: 'now' });
    expect(toUrlRange({ from: '2023-08-01T10:00:00Z', to: '1690000000000' })).toEqual({
      from: String(Date.UTC(2023, 7, 1, 10)),
      to: '1690000000000',
    });
  });
});

describe('panel time overrides', () => {
  const now = Date.UTC(2024, 5, 10, 12, 0, 0);
  const dash = parseTimeRange({ from: 'now-6h', to: 'now' }, now, { timeZone: 'utc' });
  it('relative time replaces a relative dashboard range', () => {
    const r = applyPanelTimeOverrides({ timeFrom: '5m' }, dash, now, { timeZone: 'utc' });
    expect(r.range.from).toBe(now - 300_000);
    expect(r.range.to).toBe(now);
    expect(r.timeInfo).toBe('Last 5 minutes');
  });
  it('relative time does not apply to an absolute dashboard range', () => {
    const abs = parseTimeRange({ from: '1690000000000', to: '1690003600000' }, now);
    expect(applyPanelTimeOverrides({ timeFrom: '5m' }, abs, now).range).toEqual(abs);
  });
  it('time shift moves both ends back', () => {
    const r = applyPanelTimeOverrides({ timeShift: '1h' }, dash, now, { timeZone: 'utc' });
    expect([r.range.from, r.range.to]).toEqual([dash.from - 3600_000, dash.to - 3600_000]);
    expect(r.timeInfo).toBe(' timeshift -1h');
    const both = applyPanelTimeOverrides({ timeFrom: 'now/d', timeShift: '1d/d' }, dash, now, {
      timeZone: 'utc',
    });
    expect(both.range.from).toBe(Date.UTC(2024, 5, 9));
    expect(both.range.to).toBe(Date.UTC(2024, 5, 10) - 1);
  });
  it('invalid overrides report an error and keep the range', () => {
    const r = applyPanelTimeOverrides({ timeFrom: 'banana' }, dash, now);
    expect(r.error).toBe('invalid time override');
    expect(r.range).toBe(dash);
    expect(applyPanelTimeOverrides({ timeFrom: '1h', hideTimeOverride: true }, dash, now).timeInfo).toBe('');
  });
});

describe('formatDate against moment', () => {
  it('formats the common tokens like moment in the browser zone', () => {
    const fmts = [
      'YYYY-MM-DD HH:mm:ss',
      'YYYY-MM-DDTHH:mm:ss.SSSZ',
      'MMM D, YYYY h:mm A',
      'dddd Do MMMM',
      'X x',
      '[at] HH:mm ZZ',
    ];
    for (const t of instants(25, 9)) {
      for (const f of fmts) expect(formatDate(t, f), f).toBe(grafana.dateTime(t).format(f));
    }
  });
});
