// Template variables: interpolation syntaxes and formats, All / allValue, the URL, option parsing, regex
// filter and sort, Prometheus/Loki variable queries through a recording fetcher fed with recorded API
// answers, and refresh order of chained variables.
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: `${var}` in plain strings is the syntax under test.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinVariables } from '../../src/dashboard/interval';
import { allPanels, migrateDashboard } from '../../src/dashboard/migrate';
import type { DataSourceSettings, Variable } from '../../src/dashboard/model';
import {
  ALL_VALUE,
  applyUrlValues,
  datasourceOptions,
  dependantsOf,
  dependencyGraph,
  type Fetcher,
  filterAndSort,
  formatForDatasource,
  type InterpolationContext,
  initialState,
  initVariables,
  interpolate,
  lokiFormat,
  parseCustomOptions,
  parseIntervalOptions,
  parseVariableQuery,
  prometheusFormat,
  queryResultLines,
  type RefreshEnv,
  refreshVariables,
  repeatValues,
  resolveDatasource,
  runVariableQuery,
  setVariableValue,
  sortOptions,
  toUrlParams,
  type VariableState,
  validateValue,
  variableQueryText,
} from '../../src/dashboard/variables';

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const SHARED = env.VIGIL_SHARED_DIR ?? '../../shared';

function recorded(dir: 'prometheus-api' | 'loki-api', file: string): unknown {
  const text = readFileSync(join(SHARED, 'fixtures', dir, file), 'utf8');
  // Loki's recordings are raw HTTP answers (status line, headers, blank line, JSON object body).
  return JSON.parse(text.slice(text.indexOf('{')));
}

function v(model: Partial<Variable> & { name: string }, over: Partial<VariableState> = {}): VariableState {
  return { ...initialState({ type: 'custom', ...model } as Variable), ...over };
}

const opts = (...values: string[]) => values.map((x) => ({ text: x, value: x }));

const single = v({ name: 'single', current: { text: 'a.b', value: 'a.b' } }, { options: opts('a.b', 'c') });
const multi = v(
  { name: 'multi', multi: true, current: { text: ['a.b', 'c|d'], value: ['a.b', 'c|d'] } },
  { options: opts('a.b', 'c|d', 'e') },
);
const one = v(
  { name: 'one', multi: true, current: { text: ['x'], value: ['x'] } },
  { options: opts('x', 'y') },
);
const all = v(
  { name: 'all', multi: true, includeAll: true, current: { text: ['All'], value: [ALL_VALUE] } },
  { options: opts('a', 'b', 'c') },
);
const allCustom = v(
  { name: 'allc', includeAll: true, allValue: '.*', current: { text: 'All', value: ALL_VALUE } },
  { options: opts('a', 'b') },
);
const quote = v({ name: 'q', current: { text: "it's", value: "it's" } }, { options: opts("it's") });

const ctx: InterpolationContext = {
  variables: [single, multi, one, all, allCustom, quote],
  builtins: builtinVariables(
    { from: 1_690_000_000_000, to: 1_690_021_600_000 },
    { interval: '20s', intervalMs: 20_000 },
    15_000,
  ),
};

describe('interpolation syntaxes', () => {
  const cases: [string, string][] = [
    ['$single', 'a.b'],
    ['${single}', 'a.b'],
    ['[[single]]', 'a.b'],
    ['${multi:csv}', 'a.b,c|d'],
    ['[[multi:pipe]]', 'a.b|c|d'],
    ['$multi', '{a.b,c|d}'],
    ['x=$single,y=${single}z', 'x=a.b,y=a.bz'],
    ['$unknown and ${unknown:csv}', '$unknown and ${unknown:csv}'],
    ['rate(x[$__rate_interval]) $__interval $__interval_ms', 'rate(x[60s]) 20s 20000'],
    ['$__range $__range_s $__range_ms', '21600s 21600 21600000'],
    ['${__from} ${__to:date:seconds}', '1690000000000 1690021600'],
    ['${__from:date}', '2023-07-22T04:26:40.000Z'],
    ['${__from:date:iso}', '2023-07-22T04:26:40.000Z'],
    ['${__from:date:ms}', '1690000000000'],
    ['$__auto', '20s'],
    ['$singleton', '$singleton'],
    ['$constructor $__proto__ ${toString}', '$constructor $__proto__ ${toString}'],
  ];
  for (const [text, want] of cases) it(text, () => expect(interpolate(text, ctx)).toBe(want));

  it('${__from:date:<moment format>} in the browser zone, colons included', () => {
    const d = new Date(1_690_000_000_000);
    const pad = (n: number) => String(n).padStart(2, '0');
    expect(interpolate('${__from:date:YYYY-MM-DD HH:mm}', ctx)).toBe(
      `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}`,
    );
  });

  it('empty and missing text', () => {
    expect(interpolate('', ctx)).toBe('');
    expect(interpolate(undefined, ctx)).toBe('');
  });
});

describe("Grafana's formats", () => {
  const table: [string, string, string][] = [
    // format, single (a.b), multi (a.b, c|d)
    ['regex', 'a\\.b', '(a\\.b|c\\|d)'],
    ['pipe', 'a.b', 'a.b|c|d'],
    ['csv', 'a.b', 'a.b,c|d'],
    ['glob', 'a.b', '{a.b,c|d}'],
    ['json', 'a.b', '["a.b","c|d"]'],
    ['lucene', 'a.b', '("a.b" OR "c\\|d")'],
    ['percentencode', 'a.b', '%7Ba.b%2Cc%7Cd%7D'],
    ['raw', 'a.b', 'a.b,c|d'],
    ['singlequote', "'a.b'", "'a.b','c|d'"],
    ['doublequote', '"a.b"', '"a.b","c|d"'],
    ['sqlstring', "'a.b'", "'a.b','c|d'"],
    ['text', 'a.b', 'a.b + c|d'],
    ['queryparam', 'var-single=a.b', 'var-multi=a.b&var-multi=c%7Cd'],
    ['distributed', 'a.b', 'a.b,multi=c|d'],
    ['nonexistent', 'a.b', '{a.b,c|d}'],
    ['constructor', 'a.b', '{a.b,c|d}'],
  ];
  for (const [fmt, s, m] of table) {
    it(fmt, () => {
      expect(interpolate(`\${single:${fmt}}`, ctx)).toBe(s);
      expect(interpolate(`\${multi:${fmt}}`, ctx)).toBe(m);
    });
  }

  it('a one-value multi variable is not wrapped', () => {
    expect(interpolate('${one:regex}', ctx)).toBe('x');
    expect(interpolate('${one}', ctx)).toBe('x');
  });

  it('quotes are escaped', () => {
    expect(interpolate('${q:singlequote}', ctx)).toBe("'it\\'s'");
    expect(interpolate('${q:sqlstring}', ctx)).toBe("'it''s'");
    expect(interpolate('${q:lucene}', ctx)).toBe("it's");
  });

  it('the format argument applies where the reference names none', () => {
    expect(interpolate('$multi', ctx, 'regex')).toBe('(a\\.b|c\\|d)');
    expect(interpolate('${multi:csv}', ctx, 'regex')).toBe('a.b,c|d');
  });
});

describe('All', () => {
  it('without allValue: all options, formatted', () => {
    expect(interpolate('${all:regex}', ctx)).toBe('(a|b|c)');
    expect(interpolate('$all', ctx)).toBe('{a,b,c}');
    expect(interpolate('${all:text}', ctx)).toBe('All');
    expect(interpolate('$all', ctx, prometheusFormat)).toBe('(a|b|c)');
  });
  it('with allValue: used as written, whatever the format', () => {
    expect(interpolate('$allc', ctx)).toBe('.*');
    expect(interpolate('${allc:regex}', ctx)).toBe('.*');
    expect(interpolate('$allc', ctx, prometheusFormat)).toBe('.*');
    expect(interpolate('${allc:text}', ctx)).toBe('All');
    expect(interpolate('${allc:queryparam}', ctx)).toBe('var-allc=All');
    expect(interpolate('${allc:percentencode}', ctx)).toBe('.%2A');
  });
});

describe('datasource formats', () => {
  it('Prometheus: single values escape quotes only; multi/All regex-escape inside the string', () => {
    expect(interpolate('up{job="$single"}', ctx, prometheusFormat)).toBe('up{job="a.b"}');
    expect(interpolate('up{job=~"$multi"}', ctx, prometheusFormat)).toBe('up{job=~"(a\\\\.b|c\\\\|d)"}');
    expect(interpolate('$q', ctx, prometheusFormat)).toBe("it\\\\'s");
    expect(prometheusFormat('a\\b', { name: 'x', multi: true })).toBe('a\\\\\\\\b');
  });
  it('Loki: multi values joined with | and no parentheses', () => {
    expect(interpolate('{job=~"$multi"}', ctx, lokiFormat)).toBe('{job=~"a\\\\.b|c\\\\|d"}');
    expect(interpolate('{job="$single"}', ctx, lokiFormat)).toBe('{job="a.b"}');
  });
});

describe('the URL', () => {
  const base = [
    v(
      { name: 'job', multi: true, includeAll: true, current: { text: ['a'], value: ['a'] } },
      { options: opts('a', 'b') },
    ),
    v({ name: 'env', current: { text: 'prod', value: 'prod' } }, { options: opts('prod', 'dev') }),
    v({ name: 'k', type: 'constant', query: 'fixed' }),
    v(
      { name: 'any', includeAll: true, allValue: '.+', current: { text: 'x', value: 'x' } },
      { options: opts('x') },
    ),
  ];
  it('var-x=a&var-x=b sets several values; All means the All value; constants ignore the URL', () => {
    const p = new URLSearchParams('var-job=a&var-job=b&var-env=nowhere&var-k=other&var-any=.%2B');
    const s = applyUrlValues(base, p);
    expect(s[0].value).toEqual(['a', 'b']);
    expect(s[1].value).toBe('nowhere');
    expect(s[2].value).toBe('fixed');
    expect(s[3].value).toBe(ALL_VALUE);
    expect(applyUrlValues(base, { 'var-job': 'All' })[0].value).toEqual([ALL_VALUE]);
  });
  it('a URL value survives the first validation even if not offered', () => {
    const s = applyUrlValues(base, { 'var-env': 'nowhere' })[1];
    const kept = validateValue(s, opts('prod', 'dev'));
    expect(kept.value).toBe('nowhere');
    expect(validateValue(kept, opts('prod', 'dev')).value).toBe('prod');
  });
  it('writes values back as var-x parameters', () => {
    expect(toUrlParams(base)).toEqual([
      ['var-job', 'a'],
      ['var-env', 'prod'],
      ['var-any', 'x'],
    ]);
  });
});

describe('values and validation', () => {
  it('initial state from the JSON current, old shapes included', () => {
    const s = initialState({
      name: 'x',
      type: 'query',
      multi: true,
      current: { text: 'a', value: 'a' },
    } as Variable);
    expect(s.value).toEqual(['a']);
    const t = initialState({ name: 'y', type: 'query', current: { text: ['a'], value: ['a'] } } as Variable);
    expect(t.value).toBe('a');
    const i = initialState({
      name: 'i',
      type: 'interval',
      current: { value: '$__auto_interval_i' },
    } as Variable);
    expect(i.value).toBe('$__auto');
  });
  it('keeps still-offered values, else the first option; All stays All', () => {
    const m = v({ name: 'm', multi: true, current: { text: ['a', 'z'], value: ['a', 'z'] } });
    expect(validateValue(m, opts('a', 'b')).value).toEqual(['a']);
    expect(validateValue(m, opts('b')).value).toEqual(['b']);
    const s = v({ name: 's', current: { text: 'B', value: 'gone' } });
    expect(validateValue(s, [{ text: 'B', value: 'b' }]).value).toBe('b');
    expect(validateValue(s, opts('c', 'd')).value).toBe('c');
    expect(validateValue(all, opts('q')).value).toEqual([ALL_VALUE]);
    const noOpts = v({ name: 'n', includeAll: true, current: { text: 'a', value: 'a' } });
    expect(validateValue(noOpts, []).value).toBe(ALL_VALUE);
  });
  it('setting values: All last wins, All first is dropped, text from options', () => {
    const m = v(
      { name: 'm', multi: true },
      {
        options: [
          { text: 'A', value: 'a' },
          { text: 'B', value: 'b' },
        ],
      },
    );
    expect(setVariableValue(m, ['a', ALL_VALUE]).value).toEqual([ALL_VALUE]);
    expect(setVariableValue(m, [ALL_VALUE, 'b']).value).toEqual(['b']);
    expect(setVariableValue(m, ['a', 'b']).text).toEqual(['A', 'B']);
  });
});

describe('repeats', () => {
  it('one copy per selected value, every option for All; the copy sees its own value', () => {
    expect(repeatValues(multi)).toEqual([
      { text: 'a.b', value: 'a.b' },
      { text: 'c|d', value: 'c|d' },
    ]);
    expect(repeatValues(all).map((x) => x.value)).toEqual(['a', 'b', 'c']);
    const scoped = { multi: repeatValues(multi)[1] };
    // A scoped value is a single value to the datasource (as in Grafana): not regex-escaped.
    expect(interpolate('up{x=~"$multi"}', { ...ctx, scoped }, prometheusFormat)).toBe('up{x=~"c|d"}');
  });
});

describe('option sources', () => {
  it('custom: a,b,c / key : value / escaped commas', () => {
    expect(parseCustomOptions('a,b, c')).toEqual(opts('a', 'b', 'c'));
    expect(parseCustomOptions('Prod : prod-1, Dev : dev-1')).toEqual([
      { text: 'Prod', value: 'prod-1' },
      { text: 'Dev', value: 'dev-1' },
    ]);
    expect(parseCustomOptions('a\\,b,c')).toEqual(opts('a,b', 'c'));
    expect(parseCustomOptions('')).toEqual([]);
  });
  it('interval: the list, auto first when enabled', () => {
    expect(parseIntervalOptions('1m,10m, 1h', true)).toEqual([
      { text: 'auto', value: '$__auto' },
      ...opts('1m', '10m', '1h'),
    ]);
  });
  it('interval set to auto computes from the range', () => {
    const iv = v({
      name: 'iv',
      type: 'interval',
      auto: true,
      auto_count: 30,
      auto_min: '10s',
      current: { text: 'auto', value: '$__auto' },
    });
    const c: InterpolationContext = { variables: [iv], range: { from: 0, to: 6 * 3600_000 } };
    expect(interpolate('$iv', c)).toBe('10m');
    const fixed = { ...iv, value: '5m', text: '5m' };
    expect(interpolate('$iv', { variables: [fixed] })).toBe('5m');
  });
  it('datasource: by type, regex on names, value is the uid', () => {
    expect(datasourceOptions('prometheus', '/^Prom/', DATASOURCES)).toEqual([
      { text: 'Prometheus', value: 'prom' },
    ]);
    expect(datasourceOptions('loki', '', DATASOURCES)).toEqual([{ text: 'Loki', value: 'loki' }]);
  });
});

describe('regex filter and sort (Grafana semantics)', () => {
  const items = ['job-api-1', 'job-web-10', 'job-web-2', 'other'].map((text) => ({ text }));
  it('keeps matches; a capture group picks the part', () => {
    expect(filterAndSort(items, '/job-(\\w+)-.*/', 0)).toEqual(opts('api', 'web'));
    expect(filterAndSort(items, 'job-.*', 0)).toEqual(opts('job-api-1', 'job-web-10', 'job-web-2'));
  });
  it('named groups text and value', () => {
    const r = filterAndSort(items, '/job-(?<text>\\w+)-(?<value>\\d+)/', 0);
    expect(r).toEqual([
      { text: 'api', value: '1' },
      { text: 'web', value: '10' },
      { text: 'web', value: '2' },
    ]);
  });
  it('a global regex with several matches gives one option per match', () => {
    expect(filterAndSort([{ text: 'a=1,b=2' }], '/(\\w)=\\d/g', 0)).toEqual(opts('a', 'b'));
  });
  it('sort orders 0..8', () => {
    const o = opts('b10', 'B2', 'a1', 'c');
    const texts = (n: number) => sortOptions(o, n).map((x) => x.text);
    expect(texts(0)).toEqual(['b10', 'B2', 'a1', 'c']);
    expect(texts(1)).toEqual(['B2', 'a1', 'b10', 'c']);
    expect(texts(2)).toEqual(['c', 'b10', 'a1', 'B2']);
    expect(texts(3)).toEqual(['c', 'a1', 'B2', 'b10']);
    expect(texts(4)).toEqual(['b10', 'B2', 'a1', 'c']);
    expect(texts(5)).toEqual(['a1', 'b10', 'B2', 'c']);
    expect(texts(6)).toEqual(['c', 'B2', 'b10', 'a1']);
    expect(texts(7)).toEqual(['a1', 'B2', 'b10', 'c']);
    expect(texts(8)).toEqual(['c', 'b10', 'B2', 'a1']);
  });
});

describe('variable queries', () => {
  it('parses every function form', () => {
    expect(parseVariableQuery('label_names()')).toEqual({ kind: 'label_names' });
    expect(parseVariableQuery('label_names(up{job="a"})')).toEqual({
      kind: 'label_names',
      match: 'up{job="a"}',
    });
    expect(parseVariableQuery('label_values(job)')).toEqual({ kind: 'label_values', label: 'job' });
    expect(parseVariableQuery('label_values(up{a=~"$x"}, instance)')).toEqual({
      kind: 'label_values',
      label: 'instance',
      match: 'up{a=~"$x"}',
    });
    expect(parseVariableQuery('metrics(http_.*)')).toEqual({ kind: 'metrics', regex: 'http_.*' });
    expect(parseVariableQuery('query_result(topk(5, up))')).toEqual({
      kind: 'query_result',
      query: 'topk(5, up)',
    });
    expect(parseVariableQuery('up{job="x"}')).toEqual({ kind: 'series', match: 'up{job="x"}' });
  });

  it('reads the object forms', () => {
    expect(
      variableQueryText({ name: 'a', type: 'query', query: { query: 'label_values(job)', refId: 'X' } }),
    ).toBe('label_values(job)');
    expect(
      variableQueryText({ name: 'a', type: 'query', query: { qryType: 2, label: 'job', metric: 'up' } }),
    ).toBe('label_values(up, job)');
    expect(variableQueryText({ name: 'a', type: 'query', query: { qryType: 1 } })).toBe('label_names()');
    expect(
      variableQueryText({ name: 'a', type: 'query', query: { refId: 'A' }, definition: 'label_values(job)' }),
    ).toBe('label_values(job)');
    expect(
      variableQueryText({
        name: 'a',
        type: 'query',
        query: { type: 1, label: 'level', stream: '{job="x"}' },
      }),
    ).toBe('label_values({job="x"}, level)');
  });

  const range = { from: 1_690_000_000_500, to: 1_690_003_600_200 };
  function recorder(answers: Record<string, unknown>) {
    const calls: [string, Record<string, string | string[]>][] = [];
    const fetch: Fetcher = async (path, params) => {
      calls.push([path, params]);
      if (!(path in answers)) throw new Error(`unexpected ${path}`);
      return answers[path];
    };
    return { calls, fetch };
  }

  it('Prometheus label_values / label_names / metrics / query_result / series against recorded answers', async () => {
    const { calls, fetch } = recorder({
      'api/v1/label/job/values': recorded('prometheus-api', 'label_values.json'),
      'api/v1/labels': recorded('prometheus-api', 'labels.json'),
      'api/v1/label/__name__/values': recorded('prometheus-api', 'label_values_name.json'),
      'api/v1/query': recorded('prometheus-api', 'query_vector.json'),
      'api/v1/series': recorded('prometheus-api', 'series.json'),
    });
    const texts = async (q: string) =>
      (await runVariableQuery('prometheus', q, range, fetch)).map((x) => x.text);
    expect(await texts('label_values(up, job)')).toEqual(['down', 'fastapi', 'prometheus']);
    expect(calls[0]).toEqual([
      'api/v1/label/job/values',
      { start: '1690000000', end: '1690003601', 'match[]': 'up' },
    ]);
    expect((await texts('label_names()')).slice(0, 3)).toEqual(['__name__', 'alertname', 'alertstate']);
    expect(await texts('metrics(.*_count$)')).toContain('http_request_duration_seconds_count');
    expect(await texts('metrics(.*_count$)')).not.toContain('http_requests_total');
    expect(await texts('query_result(up)')).toEqual([
      'up{instance="127.0.0.1:19090",job="prometheus"} 1 1795533224000',
    ]);
    expect(calls.at(-1)).toEqual(['api/v1/query', { query: 'up', time: '1690003601' }]);
    expect(await texts('up')).toContain('up{instance="127.0.0.1:18000",job="fastapi"}');
  });

  it('query_result scalars and strings', () => {
    expect(queryResultLines(recorded('prometheus-api', 'query_scalar.json'))).toEqual(['2']);
    expect(queryResultLines(recorded('prometheus-api', 'query_string.json'))).toEqual(['hello']);
    expect(() => queryResultLines({ status: 'success', data: { resultType: 'matrix', result: [] } })).toThrow(
      /Unknown\/Unhandled result type/,
    );
  });

  it('Loki label_names / label_values with nanosecond times', async () => {
    const { calls, fetch } = recorder({
      'loki/api/v1/labels': recorded('loki-api', 'labels.txt'),
      'loki/api/v1/label/level/values': recorded('loki-api', 'label_values.txt'),
    });
    expect((await runVariableQuery('loki', 'label_names()', range, fetch)).map((x) => x.text)).toEqual([
      'job',
      'level',
    ]);
    expect(
      (await runVariableQuery('loki', 'label_values({job="x"}, level)', range, fetch)).map((x) => x.text),
    ).toEqual(['error', 'info', 'warn']);
    expect(calls[1][1]).toEqual({
      start: '1690000000500000000',
      end: '1690003600200000000',
      query: '{job="x"}',
    });
  });

  it('an error answer becomes a clear error', async () => {
    const fetch: Fetcher = async () => recorded('prometheus-api', 'err_parse.json');
    await expect(runVariableQuery('prometheus', 'label_values(job)', range, fetch)).rejects.toThrow(/parse/i);
  });
});

const DATASOURCES: DataSourceSettings[] = [
  { uid: 'prom', name: 'Prometheus', type: 'prometheus', isDefault: true, jsonData: { timeInterval: '15s' } },
  { uid: 'prom2', name: 'Other Prom', type: 'prometheus', jsonData: {} },
  { uid: 'loki', name: 'Loki', type: 'loki', jsonData: {} },
];

describe('datasources of variables', () => {
  it('resolves by uid, by name, through a variable, and null to the default', () => {
    const ds = v({
      name: 'ds',
      type: 'datasource',
      query: 'prometheus',
      current: { text: 'Other Prom', value: 'prom2' },
    });
    const c: InterpolationContext = { variables: [ds] };
    expect(resolveDatasource({ uid: 'loki' }, DATASOURCES, 'Prometheus')?.uid).toBe('loki');
    expect(resolveDatasource('Loki', DATASOURCES, 'Prometheus')?.uid).toBe('loki');
    expect(resolveDatasource({ uid: '$ds' }, DATASOURCES, 'Prometheus', c)?.uid).toBe('prom2');
    expect(resolveDatasource('${ds}', DATASOURCES, 'Prometheus', c)?.uid).toBe('prom2');
    expect(resolveDatasource(null, DATASOURCES, 'Prometheus')?.uid).toBe('prom');
    expect(resolveDatasource({ type: 'loki' }, DATASOURCES, 'Prometheus')?.uid).toBe('loki');
    expect(resolveDatasource({ uid: 'nope' }, DATASOURCES, 'Prometheus')).toBeUndefined();
  });
});

describe('chained variables', () => {
  const models: Variable[] = [
    { name: 'ds', type: 'datasource', query: 'prometheus', current: { text: 'default', value: 'default' } },
    {
      name: 'namespace',
      type: 'query',
      datasource: { uid: '$ds' },
      query: 'label_values(up{cluster="$cluster"}, namespace)',
      refresh: 1,
      current: { text: 'n1', value: 'n1' },
    },
    {
      name: 'cluster',
      type: 'query',
      datasource: { uid: '$ds' },
      query: 'label_values(up, cluster)',
      refresh: 2,
      regex: '/(prod.*)/',
      sort: 1,
      current: { text: 'prod-b', value: 'prod-b' },
    },
    { name: 'pod', type: 'custom', query: '$namespace-1,$namespace-2', current: { text: 'x', value: 'x' } },
  ];

  function envWith(calls: string[]): RefreshEnv {
    return {
      datasources: DATASOURCES,
      defaultDatasource: 'Prometheus',
      range: { from: 0, to: 3600_000 },
      fetcherFor: (ds) => async (path, params) => {
        calls.push(`${ds.uid} ${path} ${JSON.stringify(params['match[]'] ?? '')}`);
        if (path.includes('/cluster/')) return { status: 'success', data: ['prod-b', 'dev', 'prod-a'] };
        const m = /cluster="([^"]*)"/.exec(String(params['match[]']));
        return { status: 'success', data: [`${m?.[1]}-n1`, `${m?.[1]}-n2`] };
      },
    };
  }

  it('orders by dependency and reports no cycle', () => {
    const g = dependencyGraph(initVariables(models));
    expect(g.order).toEqual(['ds', 'cluster', 'namespace', 'pod']);
    expect(dependantsOf(g, 'ds')).toEqual(['cluster', 'namespace', 'pod']);
    expect(dependantsOf(g, 'cluster')).toEqual(['namespace', 'pod']);
    expect(g.cycle).toBeUndefined();
  });

  it('on load, everything in order with each value feeding the next', async () => {
    const calls: string[] = [];
    const r = await refreshVariables(initVariables(models), { kind: 'load' }, envWith(calls));
    const by = Object.fromEntries(r.variables.map((s) => [s.name, s]));
    expect(by.ds.value).toBe('prom');
    expect(by.cluster.options.map((o) => o.value)).toEqual(['prod-a', 'prod-b']);
    expect(by.cluster.value).toBe('prod-b');
    expect(by.namespace.value).toBe('prod-b-n1');
    expect(by.pod.options.map((o) => o.value)).toEqual(['prod-b-n1-1', 'prod-b-n1-2']);
    expect(calls).toEqual([
      'prom api/v1/label/cluster/values "up"',
      'prom api/v1/label/namespace/values "up{cluster=\\"prod-b\\"}"',
    ]);
  });

  it('changing one refreshes only its dependants', async () => {
    const calls: string[] = [];
    const loaded = (await refreshVariables(initVariables(models), { kind: 'load' }, envWith([]))).variables;
    const changed = loaded.map((s) => (s.name === 'cluster' ? setVariableValue(s, 'prod-a') : s));
    const r = await refreshVariables(changed, { kind: 'changed', name: 'cluster' }, envWith(calls));
    expect(calls).toHaveLength(1);
    expect(r.variables.find((s) => s.name === 'namespace')?.value).toBe('prod-a-n1');
  });

  it('a time range change refreshes refresh=2 variables and their dependants', async () => {
    const calls: string[] = [];
    const loaded = (await refreshVariables(initVariables(models), { kind: 'load' }, envWith([]))).variables;
    await refreshVariables(loaded, { kind: 'timeRange' }, envWith(calls));
    expect(calls.map((c) => c.split(' ')[1])).toEqual([
      'api/v1/label/cluster/values',
      'api/v1/label/namespace/values',
    ]);
  });

  it('a cycle is reported, not a hang', async () => {
    const cyc: Variable[] = [
      { name: 'a', type: 'custom', query: '$b,1' },
      { name: 'b', type: 'custom', query: '$a,2' },
      { name: 'c', type: 'custom', query: 'x,y' },
    ];
    const r = await refreshVariables(initVariables(cyc), { kind: 'load' }, envWith([]));
    expect(r.cycleError).toMatch(/a, b/);
    expect(r.variables.find((s) => s.name === 'c')?.options).toHaveLength(2);
  });

  it('a failing query marks that variable and the rest still refresh', async () => {
    const e = envWith([]);
    e.fetcherFor = () => async () => {
      throw new Error('boom');
    };
    const r = await refreshVariables(initVariables(models), { kind: 'load' }, e);
    expect(r.variables.find((s) => s.name === 'cluster')?.error).toBe('boom');
    expect(r.variables.find((s) => s.name === 'pod')?.options.length).toBe(2);
  });
});

describe('variables of every fixture dashboard', () => {
  const dir = join(SHARED, 'fixtures', 'dashboards');
  const answer = (ds: DataSourceSettings, path: string): unknown => {
    if (ds.type === 'loki') {
      return recorded('loki-api', path.endsWith('labels') ? 'labels.txt' : 'label_values.txt');
    }
    if (path === 'api/v1/labels') return recorded('prometheus-api', 'labels.json');
    if (path === 'api/v1/query') return recorded('prometheus-api', 'query_vector.json');
    if (path === 'api/v1/series') return recorded('prometheus-api', 'series.json');
    if (path === 'api/v1/label/__name__/values') return recorded('prometheus-api', 'label_values_name.json');
    return recorded('prometheus-api', 'label_values.json');
  };
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json'))) {
    it(`${file}: refresh on load, then every panel query interpolates`, async () => {
      const raw = JSON.parse(readFileSync(join(dir, file), 'utf8'));
      const { dashboard } = migrateDashboard(raw, DATASOURCES, 'Prometheus');
      const calls: string[] = [];
      const range = { from: 1_690_000_000_000, to: 1_690_021_600_000 };
      const r = await refreshVariables(
        initVariables(dashboard.templating.list, new URLSearchParams('')),
        { kind: 'load' },
        {
          datasources: DATASOURCES,
          defaultDatasource: 'Prometheus',
          range,
          fetcherFor: (ds) => async (path) => {
            calls.push(path);
            return answer(ds, path);
          },
        },
      );
      expect(r.cycleError).toBeUndefined();
      for (const s of r.variables) expect(s.error, `${s.name}: ${s.error}`).toBeUndefined();
      const names = new Set(r.variables.map((s) => s.name));
      const ictx: InterpolationContext = {
        variables: r.variables,
        builtins: builtinVariables(range, { interval: '20s', intervalMs: 20_000 }),
        range,
      };
      for (const p of allPanels(dashboard)) {
        for (const t of p.targets ?? []) {
          const ds = resolveDatasource(t.datasource, DATASOURCES, 'Prometheus', ictx);
          const expr = interpolate(t.expr ?? '', ictx, formatForDatasource(ds?.type));
          for (const m of expr.matchAll(/\$\{?(\w+)/g)) {
            expect(names.has(m[1]) || m[1].startsWith('__'), `${p.title}: ${m[0]} left in ${expr}`).toBe(
              false,
            );
          }
        }
      }
    });
  }
});
