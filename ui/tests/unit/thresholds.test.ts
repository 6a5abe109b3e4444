// Thresholds: the active step for absolute and percentage modes, checked by
// hand and against @grafana/data's getActiveThreshold.
import { describe, expect, it } from 'vitest';
import type { Threshold } from '../../src/data/fieldConfig';
import { getActiveThreshold, getActiveThresholdForValue, sortThresholds } from '../../src/data/thresholds';
import { rng } from './gen';
import { loadGrafana } from './oracle';

const STEPS: Threshold[] = [
  { value: null, color: 'green' },
  { value: 50, color: 'orange' },
  { value: 80, color: 'red' },
];

describe('thresholds: hand-written cases', () => {
  const cases: [number, string][] = [
    [Number.NEGATIVE_INFINITY, 'green'],
    [-1e9, 'green'],
    [49.999, 'green'],
    [50, 'orange'], // a step applies from its value up
    [79, 'orange'],
    [80, 'red'],
    [1e9, 'red'],
    [Number.NaN, 'green'],
  ];
  for (const [v, want] of cases) {
    it(`${v} -> ${want}`, () => expect(getActiveThreshold(v, STEPS).color).toBe(want));
  }
  it('no steps give the fallback grey', () => {
    expect(getActiveThreshold(5, []).color).toBe('#808080');
    expect(getActiveThreshold(5, undefined).color).toBe('#808080');
  });
  it('percentage mode uses percent * 100', () => {
    expect(getActiveThresholdForValue({ mode: 'percentage', steps: STEPS }, 3, 0.85).color).toBe('red');
    expect(getActiveThresholdForValue({ mode: 'absolute', steps: STEPS }, 3, 0.85).color).toBe('green');
  });
  it('sorts with the base step first', () => {
    expect(sortThresholds([STEPS[2], STEPS[0], STEPS[1]]).map((s) => s.color)).toEqual([
      'green',
      'orange',
      'red',
    ]);
  });
});

describe('thresholds: oracle (@grafana/data getActiveThreshold)', () => {
  const g = loadGrafana();
  it('agrees on random steps and values', () => {
    const r = rng(5);
    for (let n = 0; n < 300; n++) {
      const count = Math.floor(r() * 5);
      const values = Array.from({ length: count }, () => Math.round((r() - 0.5) * 200)).sort((a, b) => a - b);
      const steps = [
        { value: Number.NEGATIVE_INFINITY, color: 'base' },
        ...values.map((v, i) => ({ value: v, color: `c${i}` })),
      ];
      for (const v of [Math.round((r() - 0.5) * 250), ...values, Number.NaN, Number.POSITIVE_INFINITY]) {
        expect(getActiveThreshold(v, steps), `${v} in ${values}`).toEqual(g.getActiveThreshold(v, steps));
      }
    }
  });
});
