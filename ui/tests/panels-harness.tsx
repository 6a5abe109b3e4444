// Dev harness: draws every panel type from sample frames shaped like the reference dashboard's
// (tests/panels.html; build with `node tests/panels-harness.mjs`, then open or screenshot it).
import { render } from 'preact';
import type { Panel } from '../src/dashboard/model';
import type { FieldConfigSource } from '../src/data/fieldConfig';
import { applyFieldOverrides } from '../src/data/fieldOverrides';
import type { DataFrame, Field } from '../src/data/frame';
import { fieldConfigWithDefaults } from '../src/panels/defaults';
import { getPanelComponent } from '../src/panels/registry';

const NOW = Date.UTC(2023, 7, 1, 16, 2, 45);
const STEP = 15000;
const N = 25;
const FROM = NOW - STEP * (N - 1);

let seed = 7;
function rnd(): number {
  seed = (seed * 16807) % 2147483647;
  return seed / 2147483647;
}

function series(
  labels: Record<string, string>,
  gen: (i: number) => number | null,
  config = {},
  name?: string,
): DataFrame {
  const time: Field = { name: 'Time', type: 'time', config: { interval: STEP }, values: [] };
  const value: Field = {
    name: 'Value',
    type: 'number',
    labels,
    config: { displayNameFromDS: name, ...config },
    values: [],
  };
  for (let i = 0; i < N; i++) {
    time.values.push(FROM + i * STEP);
    value.values.push(gen(i));
  }
  return { refId: 'A', fields: [time, value], length: N, meta: { type: 'timeseries-multi' } };
}

/** What the shell does before drawing a panel: plugin defaults under the panel's field config, then overrides. */
function applyDefaults(frames: DataFrame[], panel: Panel): DataFrame[] {
  return applyFieldOverrides(frames, fieldConfigWithDefaults(panel), (t) => t);
}

const handlers = [
  '/delete_endpoint',
  '/get_endpoint',
  '/health',
  '/metrics',
  '/post_endpoint',
  '/put_endpoint',
];
const thresholdsGreen = { mode: 'absolute' as const, steps: [{ value: null, color: 'green' }] };

interface Sample {
  panel: Panel;
  frames: DataFrame[];
  w: number;
  h: number;
}

function p(
  type: string,
  title: string,
  options: Record<string, unknown>,
  fieldConfig: FieldConfigSource,
  extra: Partial<Panel> = {},
): Panel {
  return { id: 1, type, title, gridPos: { x: 0, y: 0, w: 6, h: 5 }, options, fieldConfig, ...extra };
}

const logLevels = ['INFO', 'INFO', 'INFO', 'WARNING', 'ERROR', 'DEBUG'];
const logFrame: DataFrame = (() => {
  const n = 300;
  const labels: Field = { name: 'labels', type: 'other', config: {}, values: [] };
  const time: Field = { name: 'Time', type: 'time', config: {}, values: [] };
  const line: Field = { name: 'Line', type: 'string', config: {}, values: [] };
  const tsNs: Field = { name: 'tsNs', type: 'string', config: {}, values: [] };
  const id: Field = { name: 'id', type: 'string', config: {}, values: [] };
  for (let i = 0; i < n; i++) {
    const t = NOW - i * 1003;
    const lvl = logLevels[Math.floor(rnd() * logLevels.length)];
    const iso = new Date(t).toISOString();
    labels.values.push({ job: 'app', filename: '/var/log/app.log' });
    time.values.push(t);
    line.values.push(
      i % 4 === 0
        ? `${iso} | ${lvl} | GET api/vi/foo | Requested by: Undefined Status: 200 Duration: ${Math.floor(rnd() * 1500)} ms`
        : `${iso} | ${lvl} | Module: module_${1 + (i % 3)} | Function: function_${1 + (i % 2)}| Log message level ${lvl} from module module_${1 + (i % 3)} at function function_${1 + (i % 2)} user=bob status=200`,
    );
    tsNs.values.push(`${t}000000`);
    id.values.push(`id${i}`);
  }
  return { refId: 'A', fields: [labels, time, line, tsNs, id], length: n, meta: { type: 'log-lines' } };
})();

const samples: Sample[] = [
  {
    w: 4,
    h: 5,
    panel: p(
      'stat',
      'Server Status',
      {
        colorMode: 'background',
        graphMode: 'none',
        reduceOptions: { calcs: ['lastNotNull'] },
        textMode: 'auto',
      },
      {
        defaults: {
          mappings: [
            {
              type: 'value',
              options: { '1': { text: 'UP', color: 'green' }, '0': { text: 'DOWN', color: 'red' } },
            },
          ],
          thresholds: thresholdsGreen,
        },
        overrides: [],
      },
    ),
    frames: [series({ job: 'app' }, () => 1)],
  },
  {
    w: 11,
    h: 5,
    panel: p(
      'gauge',
      'Response Success Rates',
      { reduceOptions: { calcs: ['lastNotNull'] }, showThresholdMarkers: false },
      {
        defaults: {
          unit: 'percent',
          decimals: 1,
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'red' },
              { value: 80, color: 'green' },
            ],
          },
        },
        overrides: [],
      },
    ),
    frames: [
      series({}, () => 42.1, {}, 'Overall Success Rate'),
      series({}, () => 26.6, {}, 'Server Error Rate'),
      series({}, () => 31.3, {}, 'Client Error Rate'),
    ],
  },
  {
    w: 3,
    h: 5,
    panel: p(
      'stat',
      'Requests / s',
      { colorMode: 'background', graphMode: 'area', reduceOptions: { calcs: ['lastNotNull'] } },
      { defaults: { thresholds: thresholdsGreen, decimals: 3 }, overrides: [] },
    ),
    frames: [series({}, () => 0.7 + rnd() * 0.2)],
  },
  {
    w: 5,
    h: 5,
    panel: p(
      'stat',
      'Log Errors / Warnings',
      {
        colorMode: 'background',
        graphMode: 'none',
        reduceOptions: { calcs: ['lastNotNull'] },
        textMode: 'value_and_name',
      },
      { defaults: { thresholds: thresholdsGreen }, overrides: [] },
    ),
    frames: [series({}, () => 32, {}, 'ERRORS'), series({}, () => 30, {}, 'WARNINGS')],
  },
  {
    w: 11,
    h: 5,
    panel: p(
      'bargauge',
      'Requests Status',
      {
        displayMode: 'lcd',
        orientation: 'horizontal',
        reduceOptions: { calcs: ['lastNotNull'] },
        showUnfilled: true,
      },
      {
        defaults: {
          min: 0,
          max: 100,
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'green' },
              { value: 85, color: 'red' },
            ],
          },
        },
        overrides: [],
      },
    ),
    frames: [
      series({}, () => 90, {}, 'Successful Requests'),
      series({}, () => 57, {}, 'Server Errors'),
      series({}, () => 67, {}, 'Client Errors'),
    ],
  },
  {
    w: 10,
    h: 5,
    panel: p(
      'stat',
      'Requests by type',
      {
        colorMode: 'value',
        graphMode: 'none',
        reduceOptions: { calcs: ['lastNotNull'] },
        textMode: 'value_and_name',
      },
      {
        defaults: { thresholds: thresholdsGreen },
        overrides: [
          {
            matcher: { id: 'byName', options: 'POST' },
            properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'blue' } }],
          },
          {
            matcher: { id: 'byName', options: 'PUT' },
            properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'orange' } }],
          },
          {
            matcher: { id: 'byName', options: 'DELETE' },
            properties: [{ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } }],
          },
        ],
      },
    ),
    frames: ['TOTAL', 'GET', 'POST', 'PUT', 'DELETE'].map((n, i) =>
      series({}, () => [214, 82, 41, 46, 45][i], {}, n),
    ),
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'timeseries',
      'Request Volume',
      { legend: { displayMode: 'list', placement: 'right', calcs: [] }, tooltip: { mode: 'multi' } },
      {
        defaults: { color: { mode: 'palette-classic' }, custom: { lineWidth: 1, fillOpacity: 0 } },
        overrides: [],
      },
    ),
    frames: handlers.map((h) => series({ handler: h }, () => Math.round(rnd() * 12) / 45, {}, h)),
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'timeseries',
      'Percent of 400 errors',
      { legend: { displayMode: 'list', placement: 'right', calcs: [] }, tooltip: { mode: 'single' } },
      {
        defaults: {
          unit: 'percentunit',
          color: { mode: 'palette-classic' },
          custom: {
            lineWidth: 1,
            fillOpacity: 10,
            showPoints: 'always',
            lineInterpolation: 'smooth',
            pointSize: 4,
          },
        },
        overrides: [],
      },
    ),
    frames: handlers
      .slice(0, 4)
      .map((h) => series({ handler: h }, (i) => 0.35 + 0.3 * Math.exp(-i / 3) * rnd(), {}, h)),
  },
  {
    w: 24,
    h: 6,
    panel: p(
      'timeseries',
      'Requests Over Time (stacked bars, table legend, thresholds)',
      {
        legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
        tooltip: { mode: 'multi' },
      },
      {
        defaults: {
          unit: 'reqps',
          color: { mode: 'palette-classic' },
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'green' },
              { value: 1.2, color: 'red' },
            ],
          },
          custom: {
            drawStyle: 'bars',
            fillOpacity: 60,
            stacking: { mode: 'normal', group: 'A' },
            thresholdsStyle: { mode: 'line+area' },
            axisLabel: 'Requests / s',
          },
        },
        overrides: [],
      },
    ),
    frames: handlers.slice(0, 3).map((h) => series({ handler: h }, () => 0.2 + rnd() * 0.3, {}, h)),
  },
  {
    w: 24,
    h: 7,
    panel: p(
      'bargauge',
      'AVG Request duration',
      {
        displayMode: 'lcd',
        orientation: 'horizontal',
        reduceOptions: { calcs: ['lastNotNull'] },
        showUnfilled: true,
      },
      { defaults: { unit: 's', thresholds: thresholdsGreen }, overrides: [] },
    ),
    frames: handlers.map((h, i) =>
      series({ handler: h }, () => [14.5, 13.0, 13.2, 0.0058, 16.3, 13.5][i], {}, h),
    ),
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'logs',
      'General',
      {
        showTime: false,
        wrapLogMessage: false,
        sortOrder: 'Descending',
        enableLogDetails: true,
        dedupStrategy: 'none',
      },
      { defaults: {}, overrides: [] },
    ),
    frames: [logFrame],
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'logs',
      'Errors (time, labels, signature dedup)',
      {
        showTime: true,
        showLabels: true,
        wrapLogMessage: true,
        sortOrder: 'Descending',
        dedupStrategy: 'signature',
      },
      { defaults: {}, overrides: [] },
    ),
    frames: [logFrame],
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'table',
      'Instant table',
      { showHeader: true, footer: { show: true, reducer: ['sum'] } },
      {
        defaults: {
          unit: 's',
          decimals: 2,
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'green' },
              { value: 14, color: 'red' },
            ],
          },
          custom: { cellOptions: { type: 'color-background' } },
        },
        overrides: [],
      },
      { targets: [{ refId: 'A', expr: 'x', format: 'table', instant: true }] },
    ),
    frames: handlers.map((h, i) => ({
      refId: 'A',
      meta: { type: 'numeric-multi' },
      length: 1,
      fields: [
        { name: 'Time', type: 'time' as const, config: {}, values: [NOW] },
        {
          name: 'Value',
          type: 'number' as const,
          labels: { __name__: 'http_duration', handler: h, job: 'app' },
          config: {},
          values: [[14.5, 13.0, 13.2, 0.0058, 16.3, 13.5][i]],
        },
      ],
    })),
  },
  {
    w: 8,
    h: 4,
    panel: p(
      'stat',
      'Stat wide with sparkline',
      {
        colorMode: 'value',
        graphMode: 'area',
        textMode: 'value_and_name',
        reduceOptions: { calcs: ['mean'] },
      },
      { defaults: { unit: 'bytes', color: { mode: 'fixed', fixedColor: 'blue' } }, overrides: [] },
    ),
    frames: [series({}, () => 1e6 + rnd() * 5e5, {}, 'heap')],
  },
  {
    w: 8,
    h: 8,
    panel: p(
      'bargauge',
      'Bar gauge vertical gradient',
      { displayMode: 'gradient', orientation: 'vertical', reduceOptions: { calcs: ['lastNotNull'] } },
      {
        defaults: {
          min: 0,
          max: 100,
          unit: 'percent',
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'green' },
              { value: 60, color: 'yellow' },
              { value: 85, color: 'red' },
            ],
          },
        },
        overrides: [],
      },
    ),
    frames: handlers.slice(0, 4).map((h, i) => series({ handler: h }, () => [30, 65, 90, 50][i], {}, h)),
  },
  {
    w: 8,
    h: 8,
    panel: p(
      'gauge',
      'Gauge with threshold labels',
      { showThresholdLabels: true, showThresholdMarkers: true, reduceOptions: { calcs: ['lastNotNull'] } },
      {
        defaults: {
          unit: 'percentunit',
          thresholds: {
            mode: 'absolute',
            steps: [
              { value: null, color: 'green' },
              { value: 0.7, color: 'orange' },
              { value: 0.9, color: 'red' },
            ],
          },
        },
        overrides: [],
      },
    ),
    frames: [series({}, () => 0.76)],
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'timeseries',
      'Percent stacked, step after, legend bottom list with calcs',
      {
        legend: { displayMode: 'list', placement: 'bottom', calcs: ['mean', 'lastNotNull'] },
        tooltip: { mode: 'multi' },
      },
      {
        defaults: {
          custom: {
            stacking: { mode: 'percent' },
            fillOpacity: 40,
            lineInterpolation: 'stepAfter',
            gradientMode: 'opacity',
          },
        },
        overrides: [],
      },
    ),
    frames: handlers.slice(0, 3).map((h) => series({ handler: h }, () => 1 + rnd() * 4, {}, h)),
  },
  {
    w: 12,
    h: 8,
    panel: p(
      'table',
      'Table: gauge and colour-text cells, sortBy',
      { showHeader: true, sortBy: [{ displayName: 'Value', desc: true }] },
      { defaults: { unit: 'short', max: 20, custom: { cellOptions: { type: 'gauge' } } }, overrides: [] },
      { targets: [{ refId: 'A', expr: 'x', format: 'table', instant: true }] },
    ),
    frames: handlers.map((h, i) => ({
      refId: 'A',
      meta: { type: 'numeric-multi' },
      length: 1,
      fields: [
        { name: 'Time', type: 'time' as const, config: {}, values: [NOW] },
        {
          name: 'Value',
          type: 'number' as const,
          labels: { handler: h },
          config: {},
          values: [[14.5, 13.0, 13.2, 0.5, 16.3, 13.5][i]],
        },
      ],
    })),
  },
  {
    w: 6,
    h: 8,
    panel: p(
      'text',
      'Text',
      {
        mode: 'markdown',
        content:
          '# Fast API\n\nDashboard for **$job** <script>alert(1)</script>\n\n- one\n- [two](https://example.com)\n\n<img src=x onerror="alert(1)">',
      },
      { defaults: {}, overrides: [] },
    ),
    frames: [],
  },
  {
    w: 6,
    h: 8,
    panel: p('heatmap', 'Heatmap', {}, { defaults: {}, overrides: [] }),
    frames: [],
  },
  {
    w: 6,
    h: 4,
    panel: p(
      'stat',
      'No data',
      { reduceOptions: { calcs: ['lastNotNull'] } },
      { defaults: { noValue: 'N/A' }, overrides: [] },
    ),
    frames: [],
  },
  {
    w: 6,
    h: 4,
    panel: p('timeseries', 'Empty graph', {}, { defaults: {}, overrides: [] }),
    frames: [],
  },
];

function Harness() {
  const colW = 1900 / 24;
  return (
    <>
      {samples.map((s, i) => {
        const width = Math.round(s.w * colW - 8);
        const height = s.h * 38 - 8;
        const Comp = getPanelComponent(s.panel.type);
        const frames = applyDefaults(s.frames, s.panel);
        return (
          <div key={i} class="h-panel" style={{ width: `${width}px`, height: `${height}px` }}>
            <div class="h-title">{s.panel.title}</div>
            <div class="h-body">
              <Comp
                panel={s.panel}
                frames={frames}
                width={width - 18}
                height={height - 32 - 10}
                timeRange={{ from: FROM, to: NOW }}
                onChangeTimeRange={(r) => console.log('zoom', r)}
                replaceVariables={(t) => t.replace(/\$job/g, 'app')}
                timeZone="utc"
                graphTooltip={1}
              />
            </div>
          </div>
        );
      })}
    </>
  );
}

/** Every panel of the fixture dashboards named in `?fixtures=a.json,b.json` (served under fixtures/), with synthetic frames. */
async function fixtureSamples(names: string[]): Promise<Sample[]> {
  const out: Sample[] = [];
  for (const name of names) {
    const json = await (await fetch(`fixtures/${name}`)).json();
    const dash = json.dashboard ?? json;
    const walk = (panels: Panel[]) => {
      for (const panel of panels) {
        if (panel.type === 'row') {
          walk(panel.panels ?? []);
          continue;
        }
        const targets = (panel.targets ?? []).filter((t) => !t.hide);
        let frames: DataFrame[];
        if (panel.type === 'logs') frames = [logFrame];
        else if (panel.type === 'table' || targets.some((t) => t.format === 'table' || t.instant))
          frames = targets.flatMap((t) =>
            [0, 1, 2].map((i) => ({
              refId: t.refId,
              meta: { type: 'numeric-multi' },
              length: 1,
              fields: [
                { name: 'Time', type: 'time' as const, config: {}, values: [NOW] },
                {
                  name: 'Value',
                  type: 'number' as const,
                  labels: { instance: `host${i}`, job: 'node' },
                  config: {},
                  values: [rnd() * 100],
                },
              ],
            })),
          );
        else
          frames = targets.flatMap((t) =>
            [0, 1].map((i) => ({
              ...series({ instance: `host${i}`, job: 'node' }, () => rnd() * 100),
              refId: t.refId,
            })),
          );
        out.push({
          panel: { ...panel, title: `${name}: ${panel.title ?? ''}` },
          frames,
          w: panel.gridPos?.w ?? 12,
          h: panel.gridPos?.h ?? 8,
        });
      }
    };
    walk(dash.panels ?? []);
  }
  return out;
}

/** `?bigLogs=N`: one logs panel of N lines (the render time lands in the page title). */
function bigLogs(n: number): Sample {
  const base = logFrame;
  const times: number[] = [];
  const lines: string[] = [];
  for (let i = 0; i < n; i++) {
    times.push(NOW - i * 37);
    lines.push(String(base.fields[2].values[i % base.length]));
  }
  const frame: DataFrame = {
    refId: 'A',
    length: n,
    fields: [
      { name: 'labels', type: 'other', config: {}, values: times.map(() => ({ job: 'app' })) },
      { name: 'Time', type: 'time', config: {}, values: times },
      { name: 'Line', type: 'string', config: {}, values: lines },
      { name: 'tsNs', type: 'string', config: {}, values: times.map((t) => `${t}000000`) },
      { name: 'id', type: 'string', config: {}, values: times.map((_, i) => `b${i}`) },
    ],
  };
  return {
    w: 24,
    h: 20,
    panel: p(
      'logs',
      `${n} lines`,
      { showTime: true, dedupStrategy: 'numbers' },
      { defaults: {}, overrides: [] },
    ),
    frames: [frame],
  };
}

const root = document.getElementById('root');
const big = Number(new URLSearchParams(location.search).get('bigLogs') ?? 0);
if (root && big > 0) {
  samples.length = 0;
  samples.push(bigLogs(big));
  const t0 = performance.now();
  render(<Harness />, root);
  document.title = `rendered in ${Math.round(performance.now() - t0)} ms`;
}
const fixtures = new URLSearchParams(location.search).get('fixtures');
if (root && fixtures) {
  fixtureSamples(fixtures.split(',')).then((list) => {
    samples.length = 0;
    samples.push(...list);
    render(<Harness />, root);
    document.title = `rendered ${list.length}`;
  });
} else if (root && !big) render(<Harness />, root);
