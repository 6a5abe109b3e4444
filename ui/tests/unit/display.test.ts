// Display processor and colours: hand-written cases and an oracle comparison
// with @grafana/data's getDisplayProcessor over a matrix of field configs.
import { describe, expect, it } from 'vitest';
import { classicPalette, getColorForTheme, shadesOf } from '../../src/data/colors';
import { getDisplayProcessor } from '../../src/data/display';
import { COLOR_MODE_IDS, fieldSeriesColor } from '../../src/data/fieldColor';
import type { FieldConfig } from '../../src/data/fieldConfig';
import type { Field, FieldType } from '../../src/data/frame';
import { loadGrafana } from './oracle';

function field(type: FieldType, values: unknown[], config: FieldConfig, state?: Field['state']): Field {
  return { name: 'Value', type, values, config, state };
}

const STEPS = [
  { value: Number.NEGATIVE_INFINITY, color: 'green' },
  { value: 50, color: 'semi-dark-orange' },
  { value: 80, color: 'red' },
];

describe('display: hand-written cases', () => {
  it('formats with unit and decimals and colours by threshold', () => {
    const f = field('number', [10, 90], {
      unit: 'percent',
      decimals: 1,
      thresholds: { mode: 'absolute', steps: STEPS },
    });
    const d = getDisplayProcessor({ field: f })(85.25);
    expect(d).toMatchObject({ text: '85.3', suffix: '%', numeric: 85.25, color: '#F2495C' });
    expect(d.percent).toBeCloseTo((85.25 - 10) / 80);
  });
  it('percentage thresholds compare against the field min/max', () => {
    const f = field('number', [0, 200], { thresholds: { mode: 'percentage', steps: STEPS } });
    expect(getDisplayProcessor({ field: f })(120).color).toBe('#FF780A'); // 60%
  });
  it('value mappings replace text and colour', () => {
    const f = field('number', [0, 1], {
      mappings: [
        { type: 'value', options: { '1': { text: 'UP', color: 'green' } } },
        { type: 'special', options: { match: 'null', result: { text: 'N/A', color: 'text' } } },
        { type: 'range', options: { from: 2, to: 10, result: { text: 'few' } } },
      ],
    });
    const p = getDisplayProcessor({ field: f });
    expect(p(1)).toMatchObject({ text: 'UP', color: '#73BF69' });
    expect(p(null)).toMatchObject({ text: 'N/A', color: 'rgb(204, 204, 220)' });
    expect(p(5).text).toBe('few');
  });
  it('noValue for missing values', () => {
    const f = field('number', [], { noValue: 'nothing' });
    expect(getDisplayProcessor({ field: f })(null).text).toBe('nothing');
  });
  it('fixed and palette colours', () => {
    expect(
      getDisplayProcessor({
        field: field('number', [1], { color: { mode: 'fixed', fixedColor: 'purple' } }),
      })(1).color,
    ).toBe('#B877D9');
    const p = field('number', [1], { color: { mode: 'palette-classic' } }, { seriesIndex: 2 });
    expect(fieldSeriesColor(p).color).toBe(classicPalette[2]);
  });
  it('named colours', () => {
    expect(getColorForTheme('semi-dark-red')).toBe('#E02F44');
    expect(getColorForTheme('dark-green')).toBe('#37872D');
    expect(getColorForTheme('transparent')).toBe('rgba(0,0,0,0)');
    expect(getColorForTheme('#abc')).toBe('#abc');
    expect(getColorForTheme('rgba(1, 2, 3, 0.4)')).toBe('rgba(1, 2, 3, 0.4)');
    expect(getColorForTheme('RebeccaPurple')).toBe('#663399');
    expect(getColorForTheme('')).toBe('#808080');
    expect(shadesOf('blue')).toHaveLength(11);
  });
});

describe('display: oracle (@grafana/data getDisplayProcessor)', () => {
  const g = loadGrafana();
  const theme = g.createTheme();

  it('named colours and the classic palette match the dark theme', () => {
    const names = ['green', 'red', 'semi-dark-red', 'dark-green', 'super-light-blue', 'light-purple', 'text'];
    for (const n of [...names, 'transparent', 'panel-bg', 'orange', 'yellow', 'Blue', 'nope', '#123456']) {
      expect(getColorForTheme(n), n).toBe(theme.visualization.getColorByName(n));
    }
    expect(classicPalette).toEqual(
      theme.visualization.palette.map((c) => theme.visualization.getColorByName(c)),
    );
  });

  const mappingSets: FieldConfig['mappings'][] = [
    undefined,
    [
      {
        type: 'value',
        options: { '1': { text: 'one', color: 'blue' }, up: { text: 'UP' }, true: { text: 'yes' } },
      },
      { type: 'range', options: { from: 10, to: 20, result: { text: 'teen', color: 'orange' } } },
      { type: 'range', options: { from: null, to: -5, result: { color: 'purple' } } },
      { type: 'regex', options: { pattern: '/(\\w+)-(\\d+)/', result: { text: '$2 of $1' } } },
      { type: 'special', options: { match: 'nan', result: { text: 'not a number' } } },
      { type: 'special', options: { match: 'null+nan', result: { text: 'gone', color: 'red' } } },
      { type: 'special', options: { match: 'empty', result: { text: 'blank' } } },
      { type: 'special', options: { match: 'false', result: { text: 'nope', icon: 'x.svg' } } },
    ],
  ];
  const colorModes = [
    undefined,
    { mode: 'thresholds' },
    { mode: 'fixed', fixedColor: 'dark-blue' },
    { mode: 'fixed' },
    { mode: 'palette-classic' },
    { mode: 'palette-classic-by-name' },
    { mode: 'shades', fixedColor: '#3274D9' },
    { mode: 'shades', fixedColor: 'red' },
    { mode: 'continuous-GrYlRd' },
    { mode: 'continuous-BlYlRd' },
    { mode: 'continuous-blues' },
    { mode: 'no-such-mode' },
  ];
  const thresholds: FieldConfig['thresholds'][] = [
    undefined,
    { mode: 'absolute', steps: STEPS },
    { mode: 'percentage', steps: STEPS },
  ];
  const configs: { type: FieldType; values: unknown[]; config: FieldConfig; state?: Field['state'] }[] = [];
  const numberValues = [3, 50, 97.5, null, -12];
  for (const unit of [
    undefined,
    'short',
    'percent',
    'bytes',
    's',
    'currencyUSD',
    'bool',
    'locale',
    'dateTimeAsIso',
  ]) {
    for (const decimals of [undefined, 0, 2]) {
      for (const mappings of mappingSets) {
        for (const t of thresholds) {
          configs.push({
            type: 'number',
            values: numberValues,
            config: { unit, decimals, mappings, thresholds: t },
          });
        }
      }
    }
  }
  for (const color of colorModes) {
    for (const t of thresholds) {
      for (const [min, max] of [
        [undefined, undefined],
        [0, 100],
        [-50, undefined],
      ]) {
        for (const seriesIndex of [undefined, 0, 3, 70]) {
          configs.push({
            type: 'number',
            values: numberValues,
            config: { color, thresholds: t, min, max, noValue: 'n/a' },
            state:
              seriesIndex === undefined ? undefined : { seriesIndex, displayName: `series ${seriesIndex}` },
          });
        }
      }
      configs.push({ type: 'boolean', values: [true, false], config: { color, thresholds: t } });
    }
  }
  configs.push({ type: 'number', values: [], config: { noValue: '-' } });
  configs.push({
    type: 'number',
    values: [1, 2],
    config: {},
    state: { range: { min: 0, max: 10, delta: 10 } },
  });
  for (const mappings of mappingSets) {
    configs.push({ type: 'string', values: ['a', 'b'], config: { mappings } });
    configs.push({ type: 'boolean', values: [true, false], config: { mappings, unit: 'bool_on_off' } });
    configs.push({ type: 'time', values: [1700000000000, 1700000030000], config: { mappings } });
    configs.push({ type: 'time', values: [1700000000000, 1700003600000], config: { unit: 'time:HH:mm' } });
    configs.push({ type: 'other', values: [{ a: 1 }], config: { mappings } });
  }
  const inputs: unknown[] = [
    0,
    1,
    -0,
    3.14158,
    12,
    15,
    50,
    80,
    99.9,
    -7,
    -1e6,
    1e15,
    Number.NaN,
    Number.POSITIVE_INFINITY,
    Number.NEGATIVE_INFINITY,
    null,
    undefined,
    '',
    '42',
    ' 7 ',
    'up',
    'disk-3',
    'true',
    'false',
    'abc',
    '0x1F',
    '-0x1F',
    true,
    false,
    [1, 2, null],
    [],
    1700000000000,
    '2023-11-14T22:13:20Z',
  ];

  it('matches for every config and input', () => {
    const mismatches: string[] = [];
    for (const c of configs) {
      const ours = getDisplayProcessor({
        field: field(c.type, c.values, c.config, c.state),
        timeZone: 'utc',
      });
      const theirs = g.getDisplayProcessor({
        field: {
          name: 'Value',
          type: c.type,
          values: c.values,
          config: structuredClone(c.config),
          state: c.state,
        },
        theme,
        timeZone: 'utc',
      });
      for (const v of inputs) {
        for (const adjacent of [undefined, 1]) {
          const a = ours(v, adjacent);
          const b = theirs(v, adjacent);
          const keys = ['text', 'numeric', 'prefix', 'suffix', 'color', 'percent', 'icon'] as const;
          for (const k of keys) {
            const x = a[k];
            const y = (b as Record<string, unknown>)[k];
            if (!Object.is(x, y)) {
              mismatches.push(
                `${c.type} ${JSON.stringify(c.config)} ${String(v)} adj=${adjacent} ${k}: ours ${x} grafana ${y}`,
              );
            }
          }
        }
      }
    }
    expect(mismatches.slice(0, 12)).toEqual([]);
  });

  it('supports the colour modes Grafana has (except experimental palettes)', () => {
    for (const id of COLOR_MODE_IDS)
      expect(id).toMatch(/^(thresholds|fixed|gradient|shades|palette-|continuous-)/);
  });
});

describe('series colours: oracle (@grafana/data getFieldSeriesColor)', () => {
  const g = loadGrafana();
  const theme = g.createTheme();
  const seriesColor = g.getFieldSeriesColor as (
    f: unknown,
    t: unknown,
  ) => { color: string; percent?: number };
  const modes = [
    { mode: 'thresholds' },
    { mode: 'thresholds', seriesBy: 'max' as const },
    { mode: 'thresholds', seriesBy: 'min' as const },
    { mode: 'palette-classic' },
    { mode: 'palette-classic-by-name' },
    { mode: 'fixed', fixedColor: 'orange' },
    { mode: 'shades', fixedColor: 'green' },
    { mode: 'continuous-RdYlGr' },
    { mode: 'continuous-YlBl' },
  ];
  it('agrees for every mode, series index and data shape', () => {
    for (const color of modes) {
      for (const seriesIndex of [0, 1, 5, 17, 63, 64]) {
        for (const values of [[1, 50, 95], [null, 3], [], [120, -3]]) {
          const config: FieldConfig = { color, thresholds: { mode: 'absolute', steps: STEPS } };
          const state = { seriesIndex, displayName: `s${seriesIndex}` };
          const ours = fieldSeriesColor(field('number', values, config, state));
          const theirs = seriesColor(
            { name: 'Value', type: 'number', values, config: structuredClone(config), state: { ...state } },
            theme,
          );
          expect([ours.color, ours.percent], `${JSON.stringify(color)} #${seriesIndex} ${values}`).toEqual([
            theirs.color,
            theirs.percent,
          ]);
        }
      }
    }
  });
});

describe('continuous perceptual schemes (approximate by design)', () => {
  const g = loadGrafana();
  const theme = g.createTheme();
  // Grafana reads d3's 256-entry tables; we interpolate nine samples of them, so
  // colours may differ by a few units per channel. This bounds the difference.
  it('stay within 4/255 per channel of Grafana', () => {
    const rgb = (c: string) => {
      const h = /^#([0-9a-f]{6})$/i.exec(c);
      if (h) return [0, 2, 4].map((i) => Number.parseInt(h[1].slice(i, i + 2), 16));
      return (/rgb\((\d+), (\d+), (\d+)\)/.exec(c) ?? []).slice(1).map(Number);
    };
    for (const mode of ['viridis', 'magma', 'plasma', 'inferno', 'cividis']) {
      const config: FieldConfig = { color: { mode: `continuous-${mode}` }, min: 0, max: 100 };
      const ours = getDisplayProcessor({ field: field('number', [0, 100], config) });
      const theirs = g.getDisplayProcessor({
        field: { name: 'Value', type: 'number', values: [0, 100], config: structuredClone(config) },
        theme,
      });
      let worst = 0;
      for (let v = 0; v <= 100; v += 0.5) {
        const a = rgb(ours(v).color ?? '');
        const b = rgb(theirs(v).color ?? '');
        for (let i = 0; i < 3; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
      }
      expect(worst, mode).toBeLessThanOrEqual(4);
    }
  });
});
