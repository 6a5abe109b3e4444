// Panel query requests as Grafana's PanelQueryRunner builds them, and running them against a stub server.
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { FrontendSettings } from '../../src/api';
import type { Panel } from '../../src/dashboard/model';
import {
  buildPanelQuery,
  exploreUrl,
  type Interpolator,
  PanelQueryRunner,
  type QueryContext,
  runPanelQuery,
} from '../../src/dashboard/queryRunner';

const settings: FrontendSettings = {
  defaultDatasource: 'Prometheus',
  datasources: {
    Prometheus: { uid: 'prom', name: 'Prometheus', type: 'prometheus', isDefault: true, jsonData: {} },
    Scraped: { uid: 'prom15', name: 'Scraped', type: 'prometheus', jsonData: { timeInterval: '15s' } },
    Loki: { uid: 'loki', name: 'Loki', type: 'loki', jsonData: {} },
    LokiCapped: { uid: 'loki2', name: 'LokiCapped', type: 'loki', jsonData: { maxLines: 300 } },
  },
};

// Dashboard variables of these tests: job=api (single), handler=[a, b] (multi), ds=Scraped.
const vars: Record<string, string | string[]> = { job: 'api', handler: ['a', 'b'], ds: 'Scraped' };
const interpolate: Interpolator = (text, scoped) =>
  text.replace(/\$\{(\w+)\}|\$(\w+)/g, (whole, a, b) => {
    const name = a ?? b;
    if (name in scoped) return String(scoped[name]);
    const v = vars[name];
    if (v === undefined) return whole;
    return Array.isArray(v) ? `(${v.join('|')})` : v;
  });

const HOUR = 3_600_000;
// A panel datasource given by the dashboard variable `ds` (Grafana writes it `${ds}`).
const DS_VARIABLE = ['$', '{ds}'].join('');
const ctx = (over: Partial<QueryContext> = {}): QueryContext => ({
  settings,
  range: { from: 10 * HOUR, to: 11 * HOUR, raw: { from: 'now-1h', to: 'now' } },
  width: 1000,
  interpolate,
  now: 11 * HOUR,
  ...over,
});
const panel = (over: Partial<Panel>): Panel => ({
  id: 1,
  type: 'timeseries',
  gridPos: { x: 0, y: 0, w: 12, h: 8 },
  datasource: { type: 'prometheus', uid: 'prom' },
  targets: [{ refId: 'A', expr: 'up' }],
  ...over,
});

describe('interval and maxDataPoints', () => {
  it.each<[string, Partial<Panel>, Partial<QueryContext>, string, number, number]>([
    // 1h over 1000 px = 3.6 s, which Grafana's table rounds to 5 s.
    ['the panel width is maxDataPoints', {}, {}, '5s', 5000, 1000],
    ['a narrower panel gets a coarser interval', {}, { width: 300 }, '10s', 10000, 300],
    ['the panel maxDataPoints wins over the width', { maxDataPoints: 100 }, {}, '30s', 30000, 100],
    [
      'the datasource timeInterval is the minimum',
      { datasource: { type: 'prometheus', uid: 'prom15' } },
      {},
      '15s',
      15000,
      1000,
    ],
    [
      'the panel interval wins over the datasource one',
      { datasource: { type: 'prometheus', uid: 'prom15' }, interval: '1m' },
      {},
      '1m',
      60000,
      1000,
    ],
  ])('%s', (_name, over, c, interval, intervalMs, maxDataPoints) => {
    const plan = buildPanelQuery(panel(over), ctx(c));
    expect([plan.interval, plan.intervalMs, plan.maxDataPoints]).toEqual([
      interval,
      intervalMs,
      maxDataPoints,
    ]);
    expect(plan.request?.queries[0]).toMatchObject({ intervalMs, maxDataPoints });
  });
});

describe('request', () => {
  it('sends the range as epoch ms strings', () => {
    const plan = buildPanelQuery(panel({}), ctx());
    expect(plan.request?.from).toBe(String(10 * HOUR));
    expect(plan.request?.to).toBe(String(11 * HOUR));
  });

  it('leaves hidden targets out, and sends nothing when all are hidden', () => {
    const targets = [
      { refId: 'A', expr: 'a', hide: true },
      { refId: 'B', expr: 'b' },
    ];
    expect(buildPanelQuery(panel({ targets }), ctx()).request?.queries.map((q) => q.refId)).toEqual(['B']);
    expect(buildPanelQuery(panel({ targets: [targets[0]] }), ctx()).request).toBeUndefined();
    expect(buildPanelQuery(panel({ targets: [] }), ctx()).request).toBeUndefined();
  });

  it('interpolates variables in expr, leaves the step built-ins to the server, sends legendFormat as written', () => {
    const plan = buildPanelQuery(
      panel({
        datasource: { type: 'prometheus', uid: 'prom15' },
        targets: [
          {
            refId: 'A',
            expr: 'sum by (handler) (rate(x{job="$job",handler=~"$handler"}[$__rate_interval])) / $__range_s',
            legendFormat: '{{handler}} $job',
          },
        ],
      }),
      ctx(),
    );
    expect(plan.request?.queries[0]).toMatchObject({
      refId: 'A',
      datasource: { type: 'prometheus', uid: 'prom15' },
      // The server fills $__rate_interval and $__range_s with the step it runs.
      expr: 'sum by (handler) (rate(x{job="api",handler=~"(a|b)"}[$__rate_interval])) / $__range_s',
      legendFormat: '{{handler}} $job',
      range: true,
      instant: false,
      format: 'time_series',
    });
    expect(plan.request?.queries[0]).not.toHaveProperty('hide');
  });

  it('resolves a datasource variable in the panel datasource', () => {
    const plan = buildPanelQuery(panel({ datasource: { type: 'prometheus', uid: DS_VARIABLE } }), ctx());
    expect(plan.request?.queries[0].datasource).toEqual({ type: 'prometheus', uid: 'prom15' });
    expect(plan.interval).toBe('15s');
  });

  it('sends each target of a mixed panel to its own datasource', () => {
    const plan = buildPanelQuery(
      panel({
        datasource: { type: 'datasource', uid: '-- Mixed --' },
        targets: [
          { refId: 'A', expr: 'up', datasource: { type: 'prometheus', uid: 'prom' } },
          { refId: 'B', expr: '{job="x"}', datasource: { type: 'loki', uid: 'loki' } },
          { refId: 'C', datasource: { type: 'datasource', uid: 'grafana' } },
        ],
      }),
      ctx(),
    );
    expect(plan.request?.queries.map((q) => [q.refId, q.datasource.uid])).toEqual([
      ['A', 'prom'],
      ['B', 'loki'],
    ]);
  });

  it('uses a target datasource when the panel names none', () => {
    const plan = buildPanelQuery(
      panel({ datasource: undefined, targets: [{ refId: 'A', expr: 'x', datasource: { uid: 'loki' } }] }),
      ctx(),
    );
    expect(plan.request?.queries[0].datasource).toEqual({ type: 'loki', uid: 'loki' });
  });

  it('reports an unknown datasource instead of querying it', () => {
    const plan = buildPanelQuery(panel({ datasource: { uid: 'gone' } }), ctx());
    expect(plan.request).toBeUndefined();
    expect(plan.errors).toEqual(['Datasource gone was not found']);
  });
});

describe('built-ins: the step-dependent ones go to Prometheus and Loki as written', () => {
  it.each<[string, Partial<Panel>, string]>([
    [
      'Prometheus $__interval',
      { targets: [{ refId: 'A', expr: 'rate(x[$__interval])' }] },
      'rate(x[$__interval])',
    ],
    [
      'Loki $__auto',
      { datasource: { uid: 'loki' }, targets: [{ refId: 'A', expr: 'count_over_time({a="b"}[$__auto])' }] },
      'count_over_time({a="b"}[$__auto])',
    ],
    [
      'the range bounds are filled in the browser',
      { targets: [{ refId: 'A', expr: 'time() * 1000 > $__from' }] },
      'time() * 1000 > 36000000',
    ],
  ])('%s', (_name, over, expr) => {
    expect(buildPanelQuery(panel(over), ctx()).request?.queries[0].expr).toBe(expr);
  });

  it('a target min step and intervalFactor travel with the query', () => {
    const plan = buildPanelQuery(
      panel({ targets: [{ refId: 'A', expr: 'up', interval: '1m', intervalFactor: 2 }] }),
      ctx(),
    );
    expect(plan.request?.queries[0]).toMatchObject({ interval: '1m', intervalFactor: 2 });
  });
});

describe('prometheus range and instant', () => {
  it.each<[string, { range?: boolean; instant?: boolean }, [string, boolean, boolean][]]>([
    ['neither flag is a range query', {}, [['A', true, false]]],
    ['range only', { range: true }, [['A', true, false]]],
    ['instant only', { instant: true, range: false }, [['A', false, true]]],
    [
      'both are two queries',
      { range: true, instant: true },
      [
        ['A', true, false],
        ['A-Instant', false, true],
      ],
    ],
  ])('%s', (_name, flags, expected) => {
    const plan = buildPanelQuery(panel({ targets: [{ refId: 'A', expr: 'up', ...flags }] }), ctx());
    expect(plan.request?.queries.map((q) => [q.refId, q.range, q.instant])).toEqual(expected);
  });
});

describe('loki', () => {
  it.each<[string, Record<string, unknown>, string, Record<string, unknown>]>([
    [
      'defaults: range, 1000 lines, backward',
      {},
      'loki',
      { queryType: 'range', maxLines: 1000, direction: 'backward' },
    ],
    ['instant queryType', { queryType: 'instant' }, 'loki', { queryType: 'instant' }],
    ['legacy instant flag', { instant: true }, 'loki', { queryType: 'instant' }],
    ['the target maxLines', { maxLines: 50 }, 'loki', { maxLines: 50 }],
    ['the datasource maxLines', {}, 'loki2', { maxLines: 300 }],
    ['direction kept', { direction: 'forward' }, 'loki', { direction: 'forward' }],
  ])('%s', (_name, target, uid, expected) => {
    const plan = buildPanelQuery(
      panel({
        datasource: { type: 'loki', uid },
        targets: [{ refId: 'A', expr: '{job="$job"}', ...target }],
      }),
      ctx(),
    );
    const q = plan.request?.queries[0];
    expect(q).toMatchObject({ expr: '{job="api"}', ...expected });
    expect(q).not.toHaveProperty('instant');
  });
});

describe('panel time overrides', () => {
  it('queries the panel relative time and says so in the header', () => {
    const plan = buildPanelQuery(panel({ timeFrom: '5m' }), ctx());
    expect(plan.range).toEqual({ from: 11 * HOUR - 300_000, to: 11 * HOUR });
    expect(plan.timeInfo).toBe('Last 5 minutes');
  });

  it('shifts the range back by the time shift', () => {
    const plan = buildPanelQuery(panel({ timeShift: '1h' }), ctx());
    expect(plan.range).toEqual({ from: 9 * HOUR, to: 10 * HOUR });
    expect(plan.timeInfo).toContain('timeshift -1h');
  });
});

describe('exploreUrl', () => {
  it("opens the panel's queries on its datasource with the dashboard's range, instant halves folded back", () => {
    const plan = buildPanelQuery(
      panel({
        targets: [
          { refId: 'A', expr: 'up{job="$job"}', range: true, instant: true, legendFormat: '{{job}}' },
          { refId: 'B', expr: 'x', hide: true },
        ],
      }),
      ctx(),
    );
    const url = exploreUrl(plan, { from: 'now-1h', to: 'now' }) ?? '';
    expect(url.startsWith('/explore?')).toBe(true);
    const panes = JSON.parse(new URLSearchParams(url.slice('/explore'.length)).get('panes') ?? '{}');
    expect(Object.values(panes)).toEqual([
      {
        datasource: 'prom',
        queries: [
          {
            refId: 'A',
            expr: 'up{job="api"}',
            datasource: { type: 'prometheus', uid: 'prom' },
            range: true,
            instant: true,
            legendFormat: '{{job}}',
          },
        ],
        range: { from: 'now-1h', to: 'now' },
      },
    ]);
  });

  it('is undefined for a panel without queries', () => {
    expect(
      exploreUrl(buildPanelQuery(panel({ targets: [] }), ctx()), { from: 'now-1h', to: 'now' }),
    ).toBeUndefined();
  });
});

describe('running', () => {
  afterEach(() => vi.unstubAllGlobals());

  const frame = (refId: string) => ({
    schema: {
      refId,
      meta: { type: 'timeseries-multi', executedQueryString: 'Expr: up\nStep: 15s' },
      fields: [
        { name: 'Time', type: 'time' },
        { name: 'Value', type: 'number', labels: { job: 'api' } },
      ],
    },
    data: {
      values: [
        [1, 2],
        [0.5, null],
      ],
      entities: [null, { NaN: [1] }],
    },
  });

  it('decodes frames, maps the instant half back to its refId, and keeps per-query errors', async () => {
    const fetch = vi.fn(
      async () =>
        new Response(
          JSON.stringify({
            results: {
              A: { status: 200, frames: [frame('A')] },
              'A-Instant': { status: 200, frames: [frame('A-Instant')] },
              B: { status: 400, error: 'parse error at char 3' },
            },
          }),
          { status: 207 },
        ),
    );
    vi.stubGlobal('fetch', fetch);
    const plan = buildPanelQuery(
      panel({
        targets: [
          { refId: 'A', expr: 'up', range: true, instant: true },
          { refId: 'B', expr: 'up{' },
        ],
      }),
      ctx(),
    );
    const data = await runPanelQuery(plan);
    expect(data.frames.map((f) => f.refId)).toEqual(['A', 'A']);
    expect(data.frames[0].fields[1].values[1]).toBeNaN();
    expect(data.errors).toEqual([{ refId: 'B', message: 'parse error at char 3' }]);
    const [url, init] = fetch.mock.calls[0] as unknown as [string, RequestInit];
    expect(url).toBe('/api/ds/query');
    expect(init.method).toBe('POST');
    expect((init.headers as Record<string, string>)['X-Grafana-Org-Id']).toBe('1');
    expect(init.credentials).toBe('same-origin');
  });

  it('turns a failed request into the panel error', async () => {
    vi.stubGlobal('fetch', async () => new Response('{"message":"bad request"}', { status: 400 }));
    const data = await runPanelQuery(buildPanelQuery(panel({}), ctx()));
    expect(data.frames).toEqual([]);
    expect(data.errors).toEqual([{ message: 'bad request' }]);
  });

  it('cancels the query in flight when a newer one starts', async () => {
    const signals: AbortSignal[] = [];
    vi.stubGlobal('fetch', (_url: string, init: RequestInit) => {
      const signal = init.signal as AbortSignal;
      signals.push(signal);
      return new Promise<Response>((resolve, reject) => {
        signal.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        setTimeout(() => resolve(new Response('{"results":{"A":{"frames":[]}}}')), 0);
      });
    });
    const runner = new PanelQueryRunner();
    const plan = buildPanelQuery(panel({}), ctx());
    const first = runner.run(plan);
    const second = runner.run(plan);
    expect(await first).toBeUndefined();
    expect(await second).toEqual({ frames: [], errors: [], request: plan.request });
    expect(signals[0].aborted).toBe(true);
    expect(signals[1].aborted).toBe(false);
  });
});
