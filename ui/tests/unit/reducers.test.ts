// Reducers: hand-written cases (Grafana's documented calculations) and an
// oracle comparison with @grafana/data's reduceField over generated fields.
import { describe, expect, it } from 'vitest';
import type { Field, FieldType } from '../../src/data/frame';
import { REDUCER_NAMES, reduceField, reducerName, resolveReducerId } from '../../src/data/reducers';
import { rng } from './gen';
import { loadGrafana } from './oracle';

function field(values: unknown[], type: FieldType = 'number', nullValueMode?: string): Field {
  return { name: 'v', type, values, config: nullValueMode ? { nullValueMode } : {} };
}

describe('reducers: hand-written cases', () => {
  const f = field([1, null, 3, Number.NaN, 2, null]);
  const cases: [string, unknown][] = [
    ['lastNotNull', 2],
    ['last', null],
    ['first', 1],
    ['firstNotNull', 1],
    ['mean', 2],
    ['sum', 6],
    ['min', 1],
    ['max', 3],
    ['count', 4], // nulls skipped, NaN counted
    ['range', 2],
    ['delta', 2], // 1 -> 3 (+2), then a drop to 2 is a reset, not subtracted
    ['diff', 1],
    ['diffperc', 100],
    ['step', -1],
    ['logmin', 1],
    ['allIsNull', false],
    ['allIsZero', false],
    ['changeCount', 3],
    ['distinctCount', 4],
    ['current', 2],
    ['avg', 2],
    ['total', 6],
  ];
  for (const [id, want] of cases) {
    it(`${id} of [1, null, 3, NaN, 2, null]`, () => {
      const canonical = resolveReducerId(id) ?? id;
      expect(reduceField(f, [id])[canonical]).toEqual(want);
    });
  }
  it('empty fields give Grafana empty results', () => {
    expect(reduceField(field([]), ['sum', 'mean', 'count', 'allIsNull', 'allIsZero'])).toEqual({
      sum: 0,
      mean: null,
      count: 0,
      allIsNull: true,
      allIsZero: false,
    });
  });
  it('null as zero counts nulls as zeros', () => {
    const z = field([4, null, 2], 'number', 'null as zero');
    expect(reduceField(z, ['mean', 'min', 'count'])).toMatchObject({ mean: 2, min: 0, count: 3 });
  });
  it('names and percentiles', () => {
    expect(reducerName('lastNotNull')).toBe('Last *');
    expect(reducerName('p95')).toBe('95th %');
    expect(reducerName('p1')).toBe('1st %');
    expect(resolveReducerId('p100')).toBeUndefined();
    expect(resolveReducerId('nope')).toBeUndefined();
    expect(reduceField(field([5, 1, 4, 2, 3]), ['p50', 'median'])).toMatchObject({ p50: 3, median: 3 });
  });
});

function same(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => same(x, b[i]));
  return Object.is(a, b) || (a === 0 && b === 0);
}

describe('reducers: oracle (@grafana/data reduceField)', () => {
  const g = loadGrafana();
  const r = rng(11);
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const atoms: unknown[] = [
    null,
    Number.NaN,
    0,
    -0,
    1,
    -1,
    2.5,
    1e9,
    -1e-9,
    Number.POSITIVE_INFINITY,
    undefined,
  ];
  const fields: Field[] = [];
  for (const mode of [undefined, 'connected', 'null', 'null as zero']) {
    for (const len of [0, 1, 2, 3, 5, 12, 40]) {
      for (let k = 0; k < 6; k++) {
        const values: unknown[] = [];
        for (let i = 0; i < len; i++) {
          values.push(
            r() < 0.35 ? pick(atoms) : Math.round((r() - 0.3) * 10 ** Math.floor(r() * 5) * 100) / 100,
          );
        }
        fields.push(field(values, k === 5 ? 'time' : 'number', mode));
      }
    }
    fields.push(field(['a', 'b', null, 'a'], 'string', mode));
    fields.push(field([true, false, null, true], 'boolean', mode));
    fields.push(field([0, 0, null, 0], 'number', mode));
    fields.push(field([null, null], 'number', mode));
    fields.push(field([-5, -2, -9], 'number', mode));
  }
  const ids = [...Object.keys(REDUCER_NAMES), 'p1', 'p25', 'p50', 'p90', 'p99', 'current', 'avg', 'total'];
  const sets: string[][] = [
    ...ids.map((id) => [id]),
    ids,
    ['min', 'max'],
    ['lastNotNull', 'median'],
    ['firstNotNull', 'p95'],
  ];

  it('every reducer set over every generated field', () => {
    const mismatches: string[] = [];
    for (const f of fields) {
      for (const set of sets) {
        // Grafana caches results on field.state, so each call gets a fresh copy.
        const theirs = g.reduceField({
          field: { ...f, values: [...f.values], config: { ...f.config } },
          reducers: set,
        });
        const ours = reduceField({ ...f, values: [...f.values] }, set);
        const keys = new Set([...Object.keys(theirs), ...Object.keys(ours)]);
        keys.delete('previousDeltaUp'); // Grafana's internal bookkeeping
        for (const k of keys) {
          // Known difference: Grafana gives undefined (not null) for most reducers of an empty field.
          const emptyUndefined = f.values.length === 0 && ours[k] === null && theirs[k] === undefined;
          if (!same(ours[k], theirs[k]) && !emptyUndefined) {
            mismatches.push(
              `${f.type} ${String(f.config.nullValueMode)} [${f.values.map(String)}] ${set.length > 3 ? 'ALL' : set} ${k}: ours ${String(ours[k])} grafana ${String(theirs[k])}`,
            );
          }
        }
      }
    }
    expect(mismatches.slice(0, 15)).toEqual([]);
  });
});
