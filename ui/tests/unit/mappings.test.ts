// Value mappings: Grafana's documented behaviour by mapping type, and an
// oracle comparison with @grafana/data's getValueMappingResult.
import { describe, expect, it } from 'vitest';
import type { ValueMapping } from '../../src/data/fieldConfig';
import { getValueMappingResult, stringToJsRegex } from '../../src/data/mappings';
import { loadGrafanaModule } from './oracle';

const MAPPINGS: ValueMapping[] = [
  { type: 'value', options: { '0': { text: 'down', color: 'red', index: 0 }, OK: { text: 'fine' } } },
  { type: 'range', options: { from: 1, to: 5, result: { text: 'low' } } },
  { type: 'range', options: { from: 100, to: null, result: { text: 'huge', color: 'purple' } } },
  { type: 'regex', options: { pattern: '/^host-(\\d+)$/', result: { text: 'Host $1' } } },
  { type: 'regex', options: { pattern: 'db.*', result: { text: 'database' } } },
  { type: 'special', options: { match: 'null', result: { text: 'null!' } } },
  { type: 'special', options: { match: 'nan', result: { text: 'NaN!' } } },
  { type: 'special', options: { match: 'true', result: { text: 'yes' } } },
  { type: 'special', options: { match: 'false', result: { text: 'no' } } },
  { type: 'special', options: { match: 'empty', result: { text: 'empty!' } } },
];

describe('mappings: hand-written cases', () => {
  const cases: [unknown, string | undefined][] = [
    [0, 'down'],
    ['0', 'down'],
    ['OK', 'fine'],
    [3, 'low'],
    [5, 'low'], // ranges are inclusive
    [5.5, undefined],
    [1e9, 'huge'],
    ['host-12', 'Host 12'],
    ['db1', 'database'],
    ['xdb1', undefined], // non-/…/ patterns match the whole value
    [null, 'null!'],
    [undefined, 'null!'],
    [Number.NaN, 'NaN!'],
    [true, 'yes'],
    ['false', 'no'],
    ['', 'empty!'],
    ['constructor', undefined],
  ];
  for (const [value, want] of cases) {
    it(`${JSON.stringify(value) ?? String(value)} -> ${want}`, () => {
      expect(getValueMappingResult(MAPPINGS, value)?.text).toBe(want);
    });
  }
  it('regex strings', () => {
    expect(stringToJsRegex('/a+/i').flags).toBe('i');
    expect(stringToJsRegex('a|b').source).toBe('^a|b$');
    expect(() => stringToJsRegex('/a(/x')).toThrow();
  });
  it('null+nan matches both; the first matching mapping wins', () => {
    const m: ValueMapping[] = [
      { type: 'special', options: { match: 'null+nan', result: { text: 'none' } } },
      { type: 'value', options: { NaN: { text: 'later' } } },
    ];
    expect(getValueMappingResult(m, null)?.text).toBe('none');
    expect(getValueMappingResult(m, Number.NaN)?.text).toBe('none');
  });
});

describe('mappings: oracle (@grafana/data getValueMappingResult)', () => {
  const g = loadGrafanaModule<{ getValueMappingResult(m: unknown[], v: unknown): unknown }>(
    'utils/valueMappings',
  );
  const values: unknown[] = [
    0,
    1,
    2.5,
    5,
    6,
    100,
    -3,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    null,
    undefined,
    '',
    '0',
    '3',
    ' 4 ',
    '1e2',
    'OK',
    'host-7',
    'host-x',
    'db',
    'dbx',
    'true',
    'false',
    true,
    false,
    [1],
  ];
  const sets: ValueMapping[][] = [
    MAPPINGS,
    [...MAPPINGS].reverse(),
    MAPPINGS.filter((m) => m.type !== 'value'),
  ];
  it('agrees on every value and mapping order', () => {
    for (const set of sets) {
      for (const v of values) {
        expect(getValueMappingResult(set, v), `${String(v)}`).toEqual(g.getValueMappingResult(set, v));
      }
    }
  });
});
