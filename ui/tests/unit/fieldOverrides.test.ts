// applyFieldOverrides: defaults vs datasource config vs overrides, matchers,
// ranges and series indexes; checked by hand and against @grafana/data with
// the standard field-config registry Grafana's app registers.
import { describe, expect, it } from 'vitest';
import type { FieldConfig, FieldConfigSource } from '../../src/data/fieldConfig';
import { applyFieldOverrides, interpolateField } from '../../src/data/fieldOverrides';
import type { DataFrame } from '../../src/data/frame';
import { fixThresholdsLikeGrafanaApp, grafanaFieldConfigRegistry, loadGrafana } from './oracle';

function promFrames(): DataFrame[] {
  const series = (
    refId: string,
    labels: Record<string, string>,
    values: (number | null)[],
    legend?: string,
  ) => ({
    refId,
    length: values.length,
    fields: [
      {
        name: 'Time',
        type: 'time' as const,
        config: { interval: 15000 },
        values: values.map((_, i) => i * 15000),
      },
      {
        name: 'Value',
        type: 'number' as const,
        labels,
        config: legend ? { displayNameFromDS: legend } : {},
        values,
      },
    ],
  });
  return [
    series('A', { job: 'api', instance: 'h1' }, [1, 5, null, 9]),
    series('A', { job: 'db', instance: 'h2' }, [20, 30, 25, Number.NaN], 'db on h2'),
    series('B', { job: 'api', instance: 'h3' }, [-4, 2, 3, 100]),
  ];
}

function tableFrames(): DataFrame[] {
  return [
    {
      name: 'table',
      refId: 'C',
      length: 3,
      fields: [
        { name: 'host', type: 'string', config: {}, values: ['a', 'b', 'c'] },
        { name: 'cpu', type: 'number', config: { unit: 'percentunit' }, values: [0.1, 0.5, 0.99] },
        { name: 'mem', type: 'number', config: { min: 0, max: 64 }, values: [3, 9, null] },
        { name: 'raw', type: 'other', config: {}, values: [null, 7, 8] },
        { name: 'up', type: 'boolean', config: {}, values: [true, false, true] },
      ],
    },
  ];
}

const STEPS = [
  { value: null, color: 'green' },
  { value: 80, color: 'red' },
];

const SOURCES: FieldConfigSource[] = [
  { defaults: {}, overrides: [] },
  {
    defaults: {
      unit: 'short',
      decimals: 2,
      min: 0,
      thresholds: { mode: 'absolute', steps: STEPS },
      color: { mode: 'palette-classic' },
      mappings: [{ type: 'value', options: { '1': { text: 'one' } } }],
      links: [{ title: 'd', url: '/d' }],
      custom: { lineWidth: 2, fillOpacity: 10 },
      noValue: '-',
    },
    overrides: [
      { matcher: { id: 'byName', options: 'cpu' }, properties: [{ id: 'unit', value: 'percent' }] },
      {
        matcher: { id: 'byRegexp', options: '/h[12]/' },
        properties: [
          { id: 'custom.lineWidth', value: 5 },
          { id: 'color', value: { mode: 'fixed', fixedColor: 'red' } },
          { id: 'mappings', value: [{ type: 'value', options: { '5': { text: 'five' } } }] },
        ],
      },
      { matcher: { id: 'byFrameRefID', options: 'B' }, properties: [{ id: 'displayName', value: 'from B' }] },
      {
        matcher: { id: 'byNames', options: { mode: 'exclude', names: ['cpu', 'host'] } },
        properties: [
          { id: 'max', value: '200' },
          { id: 'decimals', value: null },
        ],
      },
      { matcher: { id: 'byType', options: 'string' }, properties: [{ id: 'custom.align', value: 'center' }] },
      { matcher: { id: 'nope', options: 'x' }, properties: [{ id: 'unit', value: 'bytes' }] },
      {
        matcher: { id: 'byValue', options: { reducer: 'max', op: 'gte', value: 50 } },
        properties: [
          { id: 'thresholds', value: { mode: 'percentage', steps: STEPS } },
          { id: 'unknownProp', value: 1 },
        ],
      },
    ],
  },
  {
    defaults: {
      displayName: 'Series',
      min: 10,
      max: 5,
      color: { fixedColor: 'blue' } as FieldConfig['color'],
      fieldMinMax: true,
    },
    overrides: [
      {
        matcher: { id: 'byNames', options: { mode: 'include', names: ['db on h2', 'mem'] } },
        properties: [
          { id: 'links', value: [{ title: 'o', url: '/o' }] },
          { id: 'min', value: null },
          { id: 'noValue', value: 'nothing' },
        ],
      },
      { matcher: { id: 'byName', options: 'Time' }, properties: [{ id: 'unit', value: 'dateTimeAsIso' }] },
    ],
  },
  {
    defaults: { unit: 'bytes', thresholds: { mode: 'percentage', steps: STEPS } },
    overrides: [
      {
        matcher: { id: 'byName', options: 'raw' },
        properties: [{ id: 'thresholds', value: { mode: 'absolute', steps: [{ value: 1, color: 'blue' }] } }],
      },
      { matcher: { id: 'byType', options: 'number' }, properties: [{ id: 'fieldMinMax', value: true }] },
    ],
  },
];

describe('fieldOverrides: hand-written cases', () => {
  it('datasource config wins over defaults; overrides win over both', () => {
    const [frame] = applyFieldOverrides(tableFrames(), SOURCES[1]);
    const cpu = frame.fields[1];
    expect(cpu.config.unit).toBe('percent'); // override
    const mem = frame.fields[2];
    expect(mem.config.unit).toBe('short'); // default
    expect(mem.config.min).toBe(0); // datasource
    expect(mem.config.max).toBe(200); // override, parsed from a string
    expect(mem.config.decimals).toBeUndefined(); // override with null unsets
    expect(mem.config.custom).toEqual({ lineWidth: 2, fillOpacity: 10 });
    expect(frame.fields[0].config.custom?.align).toBe('center');
  });
  it('thresholds base step null becomes -Infinity; ranges come from all numeric fields', () => {
    const frames = applyFieldOverrides(promFrames(), { defaults: SOURCES[3].defaults, overrides: [] });
    expect(frames[0].fields[1].config.thresholds?.steps[0].value).toBe(Number.NEGATIVE_INFINITY);
    expect(frames[0].fields[1].state?.range).toEqual({ min: -4, max: 100, delta: 104 });
  });
  it('series indexes skip time fields and run across frames', () => {
    const frames = applyFieldOverrides(promFrames(), SOURCES[0]);
    expect(frames.map((f) => f.fields.map((x) => x.state?.seriesIndex))).toEqual([
      [0, 0],
      [1, 1],
      [2, 2],
    ]);
    expect(frames.map((f) => f.fields[1].state?.displayName)).toEqual([
      '{instance="h1", job="api"}',
      'db on h2',
      '{instance="h3", job="api"}',
    ]);
  });
  it('displayName templates use the field macros and the dashboard variables', () => {
    const source: FieldConfigSource = {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's template syntax, not a JS template
      defaults: { displayName: '${__field.labels.job}/${__field.labels.instance} in $env' },
      overrides: [],
    };
    const frames = applyFieldOverrides(promFrames(), source, (t) => t.replace('$env', 'prod'));
    expect(frames[2].fields[1].state?.displayName).toBe('api/h3 in prod');
    const scope = { field: frames[0].fields[1], frame: frames[0], frames, frameIndex: 0 };
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's template syntax, not a JS template
    expect(interpolateField('${__field.labels}', scope, (t) => t)).toBe('instance="h1", job="api"');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's template syntax, not a JS template
    expect(interpolateField('${__field.name} ${__series.name}', scope, (t) => t)).toBe(
      'Value api/h1 in prod',
    );
  });
  it('does not change its input', () => {
    const input = promFrames();
    const before = JSON.stringify(input);
    applyFieldOverrides(input, SOURCES[1]);
    expect(JSON.stringify(input)).toBe(before);
  });
});

describe('fieldOverrides: oracle (@grafana/data applyFieldOverrides)', () => {
  const g = loadGrafana();
  // The panel type's custom options exist only when its defaults carry `custom` (see applyDefaults).
  const registryFor = (source: FieldConfigSource) =>
    grafanaFieldConfigRegistry(source.defaults.custom ? ['lineWidth', 'fillOpacity', 'align'] : []);
  const theme = g.createTheme();

  // The oracle gets the config as Grafana's app hands it over (base steps fixed on load).
  const norm = (v: unknown) =>
    JSON.parse(JSON.stringify(v ?? null, (_k, x) => (x === Number.NEGATIVE_INFINITY ? '-Inf' : x)));

  for (const [si, source] of SOURCES.entries()) {
    for (const [name, make] of [
      ['prometheus', promFrames],
      ['table', tableFrames],
      ['both', () => [...promFrames(), ...tableFrames()]],
    ] as const) {
      it(`source ${si} on ${name} frames`, () => {
        const ours = applyFieldOverrides(make(), structuredClone(source));
        const theirs = g.applyFieldOverrides({
          data: make(),
          fieldConfig: fixThresholdsLikeGrafanaApp(structuredClone(source)),
          fieldConfigRegistry: registryFor(source),
          replaceVariables: (v: string) => v,
          theme,
        });
        expect(ours.length).toBe(theirs.length);
        for (let fi = 0; fi < ours.length; fi++) {
          for (let i = 0; i < ours[fi].fields.length; i++) {
            const a = ours[fi].fields[i];
            const b = theirs[fi].fields[i] as unknown as typeof a;
            const where = `frame ${fi} field ${a.name}`;
            expect(norm(a.config), where).toEqual(norm(b.config));
            expect(a.type, where).toBe(b.type);
            expect(a.state?.seriesIndex, where).toBe(b.state?.seriesIndex);
            expect(norm(a.state?.range), where).toEqual(norm(b.state?.range));
            expect(a.state?.displayName, where).toBe(g.getFieldDisplayName(b, theirs[fi], theirs));
          }
        }
      });
    }
  }
});
