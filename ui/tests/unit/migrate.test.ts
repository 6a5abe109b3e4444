// Dashboard migration: every fixture dashboard migrates cleanly (panels kept, grid valid, datasources
// resolved), plus one targeted case per migration step.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${DS_X}` placeholders in plain strings are under test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import {
  allPanels,
  convertSinglestatMappings,
  LATEST_SCHEMA_VERSION,
  migrateDashboard,
  upgradeValueMappings,
} from '../../src/dashboard/migrate';
import type { Dashboard, DataSourceSettings, Panel } from '../../src/dashboard/model';
import { grafana, rng } from './oracle-time';

// Thousands of oracle comparisons on a shared machine: a generous per-test limit (not a speed check).
vi.setConfig({ testTimeout: 60_000 });

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const DIR = join(env.VIGIL_SHARED_DIR ?? '../../shared', 'fixtures', 'dashboards');

const DATASOURCES: DataSourceSettings[] = [
  { uid: 'prom', name: 'Prometheus', type: 'prometheus', isDefault: true, jsonData: { timeInterval: '15s' } },
  { uid: 'loki', name: 'Loki', type: 'loki', jsonData: {} },
];

type Json = Record<string, unknown>;

function migrate(json: unknown): { dashboard: Dashboard; warnings: string[] } {
  return migrateDashboard(json, DATASOURCES, 'Prometheus');
}

/** Non-row panels of an unmigrated dashboard: top level, rows' children, legacy rows. */
function countOriginal(d: Json): { panels: number; rows: number } {
  let panels = 0;
  let rows = 0;
  const walk = (ps: unknown) => {
    for (const p of Array.isArray(ps) ? (ps as Json[]) : []) {
      if (p.type === 'row') rows++;
      else panels++;
      walk(p.panels);
    }
  };
  walk(d.panels);
  for (const r of Array.isArray(d.rows) ? (d.rows as Json[]) : []) walk(r.panels);
  return { panels, rows };
}

const VARIABLE_UID = /^\$\w+$|^\$\{\w+(:\w+)?\}$/;
const SPECIAL = new Set(['-- Mixed --', 'grafana', '-- Grafana --', '-- Dashboard --']);

function refResolved(ref: unknown, variables: Set<string>): boolean {
  if (!ref || typeof ref !== 'object') return false;
  const uid = (ref as { uid?: unknown }).uid;
  if (typeof uid !== 'string') return false;
  if (SPECIAL.has(uid) || DATASOURCES.some((d) => d.uid === uid)) return true;
  const m = VARIABLE_UID.exec(uid);
  return !!m && variables.has(uid.replace(/^\$\{?(\w+).*$/, '$1'));
}

describe('every fixture dashboard', () => {
  const files = readdirSync(DIR).filter((f) => f.endsWith('.json'));
  it('finds the fixtures', () => expect(files.length).toBeGreaterThanOrEqual(8));

  for (const file of files) {
    describe(file, () => {
      const original = JSON.parse(readFileSync(join(DIR, file), 'utf8')) as Json;
      const frozen = JSON.stringify(original);
      const { dashboard } = migrate(original);
      const panels = allPanels(dashboard);
      const variables = new Set(
        dashboard.templating.list.filter((v) => v.type === 'datasource').map((v) => v.name),
      );

      it('migrates to the latest schema without touching the input', () => {
        expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(LATEST_SCHEMA_VERSION);
        expect(JSON.stringify(original)).toBe(frozen);
        expect('rows' in dashboard).toBe(false);
      });

      it('keeps every panel, rows included', () => {
        const want = countOriginal(original);
        expect(panels.filter((p) => p.type !== 'row').length).toBe(want.panels);
        expect(panels.filter((p) => p.type === 'row').length).toBeGreaterThanOrEqual(want.rows);
      });

      it('puts every panel on the 24-column grid with a unique id', () => {
        const ids = new Set<number>();
        for (const p of panels) {
          const g = p.gridPos;
          expect(
            Number.isInteger(g.x) && Number.isInteger(g.y) && Number.isInteger(g.w) && Number.isInteger(g.h),
          ).toBe(true);
          expect(g.x).toBeGreaterThanOrEqual(0);
          expect(g.w).toBeGreaterThanOrEqual(1);
          expect(g.x + g.w).toBeLessThanOrEqual(24);
          expect(g.h).toBeGreaterThanOrEqual(1);
          expect(ids.has(p.id)).toBe(false);
          ids.add(p.id);
        }
      });

      it('resolves every datasource of panels with queries, and of their queries', () => {
        for (const p of panels) {
          if (p.type === 'row' || !p.targets?.length) continue;
          expect(refResolved(p.datasource, variables), `${p.title}: ${JSON.stringify(p.datasource)}`).toBe(
            true,
          );
          for (const t of p.targets) {
            expect(
              refResolved(t.datasource, variables),
              `${p.title}/${t.refId}: ${JSON.stringify(t.datasource)}`,
            ).toBe(true);
          }
        }
        for (const v of dashboard.templating.list) {
          if (v.type !== 'query') continue;
          expect(refResolved(v.datasource, variables), `variable ${v.name}`).toBe(true);
        }
      });

      it('leaves no angular panel types behind', () => {
        for (const p of panels) expect(['graph', 'singlestat', 'table-old']).not.toContain(p.type);
      });

      it('is stable: migrating again changes nothing', () => {
        expect(migrate(dashboard).dashboard).toEqual(dashboard);
      });
    });
  }
});

describe('legacy rows', () => {
  const legacy = {
    schemaVersion: 14,
    title: 'old',
    rows: [
      {
        title: 'First',
        showTitle: true,
        height: '250px',
        panels: [
          { id: 1, type: 'graph', span: 6 },
          { id: 2, type: 'graph', span: 6 },
          { id: 3, type: 'graph', span: 4, height: 400 },
        ],
      },
      { title: 'Hidden', collapse: true, height: 200, panels: [{ id: 4, type: 'singlestat', span: 12 }] },
      { title: 'Third', panels: [{ id: 5, type: 'text', span: 24 }] },
    ],
  };

  it('become row panels and grid positions as Grafana lays them out', () => {
    const d = migrate(legacy).dashboard;
    const pos = (p: Panel) => [p.type, p.id, p.gridPos.x, p.gridPos.y, p.gridPos.w, p.gridPos.h];
    expect(d.panels.map(pos)).toEqual([
      ['row', 6, 0, 0, 24, 1],
      ['timeseries', 1, 0, 1, 12, 7],
      ['timeseries', 2, 12, 1, 12, 7],
      ['timeseries', 3, 0, 8, 8, 11],
      ['row', 7, 0, 19, 24, 1],
      ['row', 8, 0, 20, 24, 1],
      ['text', 5, 0, 21, 24, 7],
    ]);
    const collapsed = d.panels.find((p) => p.id === 7);
    expect(collapsed?.collapsed).toBe(true);
    expect(collapsed?.panels?.map((p) => [p.id, p.type, p.gridPos.w])).toEqual([[4, 'stat', 24]]);
  });

  it('without titles, collapse or repeat, no row panels are added', () => {
    const d = migrate({
      rows: [{ panels: [{ id: 1, type: 'text', span: 3 }] }, { panels: [{ id: 2, type: 'text' }] }],
    }).dashboard;
    expect(d.panels.map((p) => [p.id, p.gridPos.x, p.gridPos.y, p.gridPos.w])).toEqual([
      [1, 0, 0, 6],
      [2, 0, 7, 8],
    ]);
  });
});

describe('datasource references', () => {
  const dash = (panelDs: unknown, targetDs?: unknown, extra: Json = {}) =>
    migrate({
      schemaVersion: 27,
      templating: {
        list: [
          { name: 'ds', type: 'datasource', query: 'loki' },
          { name: 'q', type: 'query', datasource: 'Loki', query: 'label_names()', refresh: 0 },
        ],
      },
      panels: [
        {
          id: 1,
          type: 'timeseries',
          datasource: panelDs,
          gridPos: { x: 0, y: 0, w: 12, h: 8 },
          targets: [{ refId: 'A', expr: 'up', ...(targetDs !== undefined ? { datasource: targetDs } : {}) }],
          ...extra,
        },
      ],
    }).dashboard;

  const cases: [string, unknown, unknown, unknown][] = [
    ['name', 'Loki', { type: 'loki', uid: 'loki' }, { type: 'loki', uid: 'loki' }],
    ['null -> default', null, { type: 'prometheus', uid: 'prom' }, { type: 'prometheus', uid: 'prom' }],
    [
      'missing -> default',
      undefined,
      { type: 'prometheus', uid: 'prom' },
      { type: 'prometheus', uid: 'prom' },
    ],
    [
      'mixed',
      '-- Mixed --',
      { type: 'datasource', uid: '-- Mixed --' },
      { type: 'datasource', uid: '-- Mixed --' },
    ],
    ['variable', '$ds', { type: 'loki', uid: '$ds' }, { type: 'loki', uid: '$ds' }],
    ['ref kept', { type: 'loki', uid: 'loki' }, { type: 'loki', uid: 'loki' }, { type: 'loki', uid: 'loki' }],
    [
      'foreign uid -> same type',
      { type: 'loki', uid: 'X1' },
      { type: 'loki', uid: 'loki' },
      { type: 'loki', uid: 'loki' },
    ],
  ];
  for (const [name, given, panel, target] of cases) {
    it(name, () => {
      const p = dash(given).panels[0];
      expect(p.datasource).toEqual(panel);
      expect(p.targets?.[0].datasource).toEqual(target);
    });
  }

  it('targets keep their own datasource under a mixed panel', () => {
    const p = dash('-- Mixed --', 'Loki').panels[0];
    expect(p.targets?.[0].datasource).toEqual({ type: 'loki', uid: 'loki' });
  });

  it('query variables: names to refs, refresh never becomes on load', () => {
    const v = dash(null).templating.list[1];
    expect(v.datasource).toEqual({ type: 'loki', uid: 'loki' });
    expect(v.refresh).toBe(1);
  });

  it('${DS_X} inputs resolve to a datasource of the input type', () => {
    const d = migrate({
      __inputs: [{ name: 'DS_LOGS', type: 'datasource', pluginId: 'loki' }],
      schemaVersion: 36,
      panels: [
        {
          id: 1,
          type: 'logs',
          datasource: { type: 'loki', uid: '${DS_LOGS}' },
          targets: [{ refId: 'A', datasource: '${DS_LOGS}', expr: '{a="b"}' }],
        },
      ],
    }).dashboard;
    expect(d.panels[0].datasource).toEqual({ type: 'loki', uid: 'loki' });
    expect(d.panels[0].targets?.[0].datasource).toEqual({ type: 'loki', uid: 'loki' });
    expect('__inputs' in d).toBe(false);
  });
});

describe('panel type migrations', () => {
  const one = (panel: Json) =>
    migrate({ schemaVersion: 20, panels: [{ id: 1, gridPos: { x: 0, y: 0, w: 12, h: 8 }, ...panel }] })
      .dashboard.panels[0];

  it('graph -> timeseries with its main options', () => {
    const p = one({
      type: 'graph',
      lines: true,
      fill: 3,
      linewidth: 2,
      stack: true,
      steppedLine: true,
      nullPointMode: 'connected',
      legend: { show: true, alignAsTable: true, rightSide: true, values: true, avg: true, current: true },
      tooltip: { shared: false, sort: 2 },
      yaxes: [
        { format: 'bytes', min: '0', max: null, decimals: 1, logBase: 2, label: 'mem', show: true },
        { format: 'short', show: true },
      ],
      aliasColors: { errors: '#ff0000' },
      seriesOverrides: [{ alias: '/5xx/', yaxis: 2, lines: false, bars: true }],
    });
    expect(p.type).toBe('timeseries');
    const d = p.fieldConfig?.defaults as Json;
    expect(d.unit).toBe('bytes');
    expect(d.min).toBe(0);
    expect(d.max).toBeUndefined();
    expect(d.decimals).toBe(1);
    expect(d.custom).toMatchObject({
      drawStyle: 'line',
      fillOpacity: 30,
      lineWidth: 2,
      lineInterpolation: 'stepAfter',
      spanNulls: true,
      stacking: { mode: 'normal', group: 'A' },
      scaleDistribution: { type: 'log', log: 2 },
      axisLabel: 'mem',
      axisPlacement: 'auto',
      showPoints: 'never',
    });
    expect(p.options).toMatchObject({
      legend: { showLegend: true, displayMode: 'table', placement: 'right', calcs: ['mean', 'lastNotNull'] },
      tooltip: { mode: 'single', sort: 'desc' },
    });
    expect(p.fieldConfig?.overrides).toEqual([
      {
        matcher: { id: 'byName', options: 'errors' },
        properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: '#ff0000' } }],
      },
      {
        matcher: { id: 'byRegexp', options: '/5xx/' },
        properties: [
          { id: 'unit', value: 'short' },
          { id: 'custom.axisPlacement', value: 'right' },
          { id: 'custom.lineWidth', value: 0 },
          { id: 'custom.drawStyle', value: 'bars' },
          { id: 'custom.fillOpacity', value: 100 },
        ],
      },
    ]);
    expect(p.yaxes).toBeUndefined();
  });

  it('graph with only defaults looks like the angular panel did', () => {
    const p = one({ type: 'graph', targets: [] });
    expect(p.fieldConfig?.defaults.custom).toMatchObject({
      drawStyle: 'line',
      fillOpacity: 10,
      lineWidth: 1,
    });
    expect(p.options).toMatchObject({
      legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
      tooltip: { mode: 'multi', sort: 'none' },
    });
  });

  it('graph thresholds: gt/lt steps with transparent gaps, line and area', () => {
    const p = one({
      type: 'graph',
      thresholds: [
        { op: 'gt', value: 80, colorMode: 'critical', fill: true, line: true },
        { op: 'lt', value: 10, colorMode: 'warning', fill: true },
      ],
    });
    expect(p.fieldConfig?.defaults.thresholds).toEqual({
      mode: 'absolute',
      steps: [
        { value: Number.NEGATIVE_INFINITY, color: 'orange' },
        { value: 10, color: 'transparent' },
        { value: 80, color: 'red' },
      ],
    });
    expect(p.fieldConfig?.defaults.custom).toMatchObject({ thresholdsStyle: { mode: 'line+area' } });
  });

  it('graph bars and points', () => {
    const bars = one({ type: 'graph', bars: true, lines: false });
    expect(bars.fieldConfig?.defaults.custom).toMatchObject({ drawStyle: 'bars', fillOpacity: 100 });
    const points = one({ type: 'graph', lines: false, points: true, pointradius: 3 });
    expect(points.fieldConfig?.defaults.custom).toMatchObject({
      drawStyle: 'points',
      showPoints: 'always',
      pointSize: 8,
    });
    const hidden = one({ type: 'graph', legend: { show: false } });
    expect((hidden.options as Json).legend).toMatchObject({ showLegend: false });
  });

  it('singlestat -> stat with thresholds, value maps, reducer, sparkline and colour mode', () => {
    const p = one({
      type: 'singlestat',
      format: 'percent',
      decimals: 2,
      valueName: 'current',
      thresholds: '50,80',
      colors: ['green', 'orange', 'red'],
      colorBackground: true,
      sparkline: { show: true },
      valueMaps: [
        { op: '=', text: 'UP', value: '1' },
        { op: '=', text: 'N/A', value: 'null' },
        { op: '=', text: '90', value: '2' },
      ],
      mappingType: 1,
      nullText: 'none',
    });
    expect(p.type).toBe('stat');
    expect(p.fieldConfig?.defaults).toEqual({
      unit: 'percent',
      decimals: 2,
      noValue: 'none',
      nullValueMode: 'connected',
      thresholds: {
        mode: 'absolute',
        steps: [
          { value: Number.NEGATIVE_INFINITY, color: 'green' },
          { value: 50, color: 'orange' },
          { value: 80, color: 'red' },
        ],
      },
      mappings: [
        { type: 'value', options: { '1': { text: 'UP' } } },
        { type: 'special', options: { match: 'null', result: { text: 'N/A' } } },
        { type: 'value', options: { '2': { text: '90', color: 'red' } } },
      ],
    });
    expect(p.options).toEqual({
      reduceOptions: { calcs: ['lastNotNull'] },
      orientation: 'horizontal',
      colorMode: 'background',
      graphMode: 'area',
    });
  });

  it('singlestat with a gauge -> gauge; range maps; empty thresholds stay unset', () => {
    const p = one({
      type: 'singlestat',
      gauge: { show: true, minValue: 0, maxValue: 200, thresholdMarkers: true, thresholdLabels: false },
      mappingType: 2,
      rangeMaps: [{ from: '0', to: '10', text: 'low' }],
      valueName: 'name',
    });
    expect(p.type).toBe('gauge');
    expect(p.fieldConfig?.defaults).toMatchObject({
      min: 0,
      max: 200,
      mappings: [{ type: 'range', options: { from: 0, to: 10, result: { text: 'low' } } }],
    });
    expect(p.fieldConfig?.defaults.thresholds).toBeUndefined();
    expect(p.options).toEqual({
      reduceOptions: { calcs: ['mean'] },
      orientation: 'horizontal',
      showThresholdMarkers: true,
      showThresholdLabels: false,
    });
  });

  it("singlestat mappings equal @grafana/data's convertOldAngularValueMappings on generated panels", () => {
    const r = rng(21);
    const texts = ['UP', 'DOWN', '10', '55.5', '99', 'N/A', '', '-3'];
    const values = ['0', '1', 'null', '2', 'x', '10'];
    for (let n = 0; n < 300; n++) {
      const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
      const panel: Json = {
        mappingType: pick([undefined, 1, 2]),
        valueMaps: Array.from({ length: Math.floor(r() * 4) }, () => ({
          op: '=',
          value: pick(values),
          text: pick(texts),
        })),
        rangeMaps: Array.from({ length: Math.floor(r() * 3) }, () => ({
          from: pick(['0', '5', 'null']),
          to: pick(['10', '50', 'null']),
          text: pick(texts),
        })),
      };
      const steps = [
        { value: Number.NEGATIVE_INFINITY, color: 'green' },
        { value: 50, color: 'red' },
      ];
      const want = grafana.convertOldAngularValueMappings(JSON.parse(JSON.stringify(panel)), {
        mode: 'absolute',
        steps,
      });
      expect(convertSinglestatMappings(panel, steps), JSON.stringify(panel)).toEqual(want);
    }
  });
  it('table-old -> table with units from styles', () => {
    const p = one({
      type: 'table-old',
      styles: [
        { pattern: 'Time', type: 'date' },
        { pattern: 'Value', type: 'number', unit: 'ms', decimals: 1, thresholds: ['10'], colorMode: 'cell' },
        { pattern: '/.*/', type: 'number', unit: 'short' },
      ],
    });
    expect(p.type).toBe('table');
    expect(p.fieldConfig?.defaults.unit).toBe('short');
    expect(p.fieldConfig?.overrides?.[0]).toEqual({
      matcher: { id: 'byName', options: 'Time' },
      properties: [{ id: 'unit', value: 'dateTimeAsIso' }],
    });
    expect(p.fieldConfig?.overrides?.[1].properties).toContainEqual({
      id: 'custom.cellOptions',
      value: { type: 'color-background' },
    });
  });

  it('table displayMode -> cellOptions (schema 38)', () => {
    const p = one({
      type: 'table',
      fieldConfig: { defaults: { custom: { displayMode: 'lcd-gauge' } }, overrides: [] },
    });
    expect(p.fieldConfig?.defaults.custom).toEqual({ cellOptions: { type: 'gauge', mode: 'lcd' } });
  });

  it('old value mappings inside field config (schema 30) merge into one value mapping', () => {
    expect(
      upgradeValueMappings(
        [
          { id: 0, type: 1, value: '0', text: 'DOWN' },
          { id: 1, type: 1, value: '1', text: 'UP' },
          { id: 2, type: 2, from: '2', to: '5', text: '3' },
          { type: 'value', options: { '7': { text: 'seven' } } },
        ],
        [
          { value: null, color: 'red' },
          { value: 2, color: 'blue' },
        ],
      ),
    ).toEqual([
      { type: 'value', options: { '0': { text: 'DOWN' }, '1': { text: 'UP' }, '7': { text: 'seven' } } },
      { type: 'range', options: { from: 2, to: 5, result: { text: '3', color: 'blue' } } },
    ]);
    const p = one({
      type: 'stat',
      fieldConfig: { defaults: { mappings: [{ id: 0, type: 1, value: '1', text: 'UP' }] }, overrides: [] },
    });
    expect(p.fieldConfig?.defaults.mappings).toEqual([{ type: 'value', options: { '1': { text: 'UP' } } }]);
  });

  it('Grafana 6 gauge options.fieldOptions move to fieldConfig and reduceOptions', () => {
    const p = one({
      type: 'gauge',
      options: {
        fieldOptions: {
          calcs: ['lastNotNull'],
          values: false,
          defaults: {
            unit: 'percent',
            title: 'CPU',
            thresholds: [
              { value: 80, color: 'red' },
              { value: null, color: 'green' },
            ],
            mappings: [{ id: 0, type: 1, value: '1', text: 'on' }],
          },
          overrides: [],
        },
        showThresholdMarkers: true,
      },
    });
    expect(p.fieldConfig?.defaults).toEqual({
      unit: 'percent',
      displayName: 'CPU',
      thresholds: {
        mode: 'absolute',
        steps: [
          { value: Number.NEGATIVE_INFINITY, color: 'green' },
          { value: 80, color: 'red' },
        ],
      },
      mappings: [{ type: 'value', options: { '1': { text: 'on' } } }],
    });
    expect(p.options).toEqual({
      showThresholdMarkers: true,
      reduceOptions: { values: false, limit: undefined, calcs: ['lastNotNull'] },
    });
  });

  it('saved copies of repeated panels are dropped (the repeat makes them again)', () => {
    const d = migrate({
      panels: [
        { id: 1, type: 'text', repeat: 'x', gridPos: { x: 0, y: 0, w: 12, h: 4 } },
        { id: 2, type: 'text', repeatPanelId: 1, gridPos: { x: 12, y: 0, w: 12, h: 4 } },
      ],
    }).dashboard;
    expect(d.panels.map((p) => p.id)).toEqual([1]);
  });

  it('an unknown panel type is kept as it is', () => {
    const p = one({ type: 'grafana-worldmap-panel', options: { a: 1 }, whatever: [1, 2] });
    expect(p.type).toBe('grafana-worldmap-panel');
    expect(p.whatever).toEqual([1, 2]);
  });
});

describe('odd input never throws', () => {
  const odd: unknown[] = [
    null,
    42,
    'text',
    [],
    {},
    { panels: 'nope', rows: 5, templating: 'x' },
    { panels: [null, 1, { type: 5 }, { gridPos: 'x', targets: 'y' }] },
    { rows: [{ panels: [{ span: 'wide', height: 'tall' }, null] }, null] },
    { panels: [{ type: 'graph', yaxes: 'bad', seriesOverrides: [null, { alias: 3 }], legend: 7 }] },
    { panels: [{ type: 'singlestat', thresholds: {}, valueMaps: 'x', gauge: 3 }] },
    { templating: { list: [null, { name: 'x', type: 'query', current: 'weird' }] } },
    { panels: [{ type: 'row', collapsed: true, panels: [{ type: 'graph', gridPos: { x: 30, w: 40 } }] }] },
    { dashboard: { title: 'wrapped', panels: [{ id: 1, type: 'text' }] } },
  ];
  for (const [i, json] of odd.entries()) {
    it(`case ${i}`, () => {
      const { dashboard } = migrate(json);
      expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(LATEST_SCHEMA_VERSION);
      expect(Array.isArray(dashboard.panels)).toBe(true);
      for (const p of allPanels(dashboard)) expect(p.gridPos.x + p.gridPos.w).toBeLessThanOrEqual(24);
    });
  }

  it('the API wrapper {dashboard, meta} is unwrapped', () => {
    expect(migrate({ dashboard: { title: 'wrapped', panels: [] }, meta: {} }).dashboard.title).toBe(
      'wrapped',
    );
  });

  it('time, refresh and timezone defaults', () => {
    const d = migrate({
      timepicker: { time_options: ['5m'], refresh_intervals: ['5s'] },
      refresh: null,
    }).dashboard;
    expect(d.time).toEqual({ from: 'now-6h', to: 'now' });
    expect(d.timepicker).toEqual({ refresh_intervals: ['5s'] });
    expect(d.refresh).toBe('');
    expect(d.timezone).toBe('');
    expect(migrate({ timezone: 'utc', refresh: '30s' }).dashboard).toMatchObject({
      timezone: 'utc',
      refresh: '30s',
    });
  });
});
