// Tests for src/explore/completion.ts: the completion sources against a fake datasource fetcher.
import { type Completion, CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import { completionFor, type Fetcher, labelValueText, selectorOf } from '../../src/explore/completion';
import type { QueryLanguage } from '../../src/explore/syntax';

interface Call {
  path: string;
  params: Record<string, string>;
}

/** A fake datasource: answers by path, records every call. */
function fakeFetcher(answers: Record<string, unknown>): { fetcher: Fetcher; calls: Call[] } {
  const calls: Call[] = [];
  const fetcher: Fetcher = async (path, params) => {
    calls.push({ path, params: { ...params } as Record<string, string> });
    if (!(path in answers)) throw new Error(`404 ${path}`);
    return answers[path];
  };
  return { fetcher, calls };
}

const ok = (data: unknown) => ({ status: 'success', data });

async function complete(
  language: QueryLanguage,
  marked: string,
  fetcher: Fetcher,
  explicit = false,
): Promise<CompletionResult | null> {
  const pos = marked.indexOf('§');
  const doc = marked.slice(0, pos) + marked.slice(pos + 1);
  const state = EditorState.create({ doc });
  const source = completionFor(language, {
    fetcher,
    timeRange: () => ({ from: 1_700_000_000_000, to: 1_700_003_600_000 }),
  });
  return source(new CompletionContext(state, pos, explicit));
}

const labels = (r: CompletionResult | null) => r?.options.map((o: Completion) => o.label) ?? [];

const prom = {
  'api/v1/label/__name__/values': ok(['http_requests_total', 'up']),
  'api/v1/metadata': ok({ http_requests_total: [{ type: 'counter', help: 'Requests served.', unit: '' }] }),
  'api/v1/labels': ok(['__name__', 'handler', 'job', 'status']),
  'api/v1/label/job/values': ok(['api', 'node "1"']),
  'api/v1/label/handler/values': ok(['/items/{id}']),
};

describe('PromQL completion', () => {
  it('metric names with their metadata, functions and aggregations', async () => {
    const { fetcher } = fakeFetcher(prom);
    const r = await complete('promql', 'ht§', fetcher);
    expect(r?.from).toBe(0);
    expect(labels(r)).toContain('http_requests_total');
    expect(labels(r)).toContain('rate');
    expect(labels(r)).toContain('sum');
    const metric = r?.options.find((o) => o.label === 'http_requests_total');
    expect(metric).toMatchObject({ detail: 'counter', info: 'Requests served.' });
    expect(r?.options.find((o) => o.label === 'histogram_quantile')?.detail).toBe(
      '(φ scalar, b instant-vector)',
    );
  });

  it('no popup at an empty operand unless asked for', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    expect(await complete('promql', 'rate(§', fetcher)).toBeNull();
    expect(calls).toEqual([]);
    expect(labels(await complete('promql', 'rate(§', fetcher, true))).toContain('up');
  });

  it('the metric list is fetched once and reused', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const source = completionFor('promql', { fetcher });
    for (const doc of ['h', 'ht']) {
      await source(new CompletionContext(EditorState.create({ doc }), doc.length, false));
    }
    expect(calls.filter((c) => c.path === 'api/v1/label/__name__/values')).toHaveLength(1);
  });

  it('label names of the selector being typed, via match[]', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const r = await complete('promql', 'http_requests_total{job="api", §}', fetcher);
    expect(calls).toEqual([
      {
        path: 'api/v1/labels',
        params: { 'match[]': 'http_requests_total{job="api"}', start: '1700000000', end: '1700003600' },
      },
    ]);
    // Labels already matched and __name__ (the metric is named) are not offered again.
    expect(labels(r)).toEqual(['handler', 'status']);
  });

  it('label names without a selector ask without match[]', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    await complete('promql', '{§', fetcher);
    expect(calls[0]).toEqual({ path: 'api/v1/labels', params: { start: '1700000000', end: '1700003600' } });
  });

  it('grouping labels from the aggregated metric', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const r = await complete('promql', 'sum(rate(http_requests_total[5m])) by (§', fetcher);
    expect(calls[0].params['match[]']).toBe('http_requests_total{}');
    expect(labels(r)).toContain('handler');
  });

  it('label values, quoted when no quote is open', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const r = await complete('promql', 'up{job=§', fetcher);
    expect(calls[0]).toMatchObject({ path: 'api/v1/label/job/values', params: { 'match[]': 'up{}' } });
    expect(r?.options.map((o) => o.apply)).toEqual(['"api"', '"node \\"1\\""']);
  });

  it('label values inside an open quote are escaped for the string', async () => {
    const { fetcher } = fakeFetcher(prom);
    const r = await complete('promql', 'up{job="§"}', fetcher);
    expect(r?.from).toBe(8);
    expect(r?.options.map((o) => o.apply)).toEqual(['api', 'node \\"1\\"']);
  });

  it('label values after =~ are regex-escaped', async () => {
    const { fetcher } = fakeFetcher(prom);
    const r = await complete('promql', 'up{handler=~"§', fetcher);
    expect(r?.options.map((o) => o.apply)).toEqual(['/items/\\\\{id\\\\}']);
  });

  it('keywords after a complete operand', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const r = await complete('promql', 'sum(rate(x[5m])) b§', fetcher);
    expect(calls).toEqual([]);
    expect(labels(r)).toContain('by');
    expect(labels(r)).toContain('offset');
  });

  it('durations in a range', async () => {
    const { fetcher, calls } = fakeFetcher(prom);
    const r = await complete('promql', 'rate(up[§', fetcher);
    expect(calls).toEqual([]);
    expect(labels(r)[0]).toBe('$__rate_interval');
    expect(labels(r)).toContain('5m');
  });

  it('a failing datasource still offers functions', async () => {
    const { fetcher } = fakeFetcher({});
    const r = await complete('promql', 'ra§', fetcher);
    expect(labels(r)).toContain('rate');
  });
});

const loki = {
  'loki/api/v1/labels': ok(['job', 'level']),
  'loki/api/v1/label/job/values': ok(['demo', 'varlogs']),
  'loki/api/v1/query_range': ok({
    resultType: 'streams',
    result: [
      { stream: { job: 'demo', level: 'info', msg: 'hello', dur: '150ms' }, values: [] },
      { stream: { job: 'demo', level: 'error', msg: 'x', status: '500' }, values: [] },
    ],
  }),
};

describe('LogQL completion', () => {
  it('stream label names', async () => {
    const { fetcher, calls } = fakeFetcher(loki);
    const r = await complete('logql', '{§', fetcher);
    expect(calls[0]).toEqual({
      path: 'loki/api/v1/labels',
      params: { start: '1700000000000000000', end: '1700003600000000000' },
    });
    expect(labels(r)).toEqual(['job', 'level']);
  });

  it('stream label values narrowed by the other matchers', async () => {
    const { fetcher, calls } = fakeFetcher(loki);
    const r = await complete('logql', '{level="info", job="§"}', fetcher);
    expect(calls[0]).toMatchObject({
      path: 'loki/api/v1/label/job/values',
      params: { query: '{level="info"}' },
    });
    expect(r?.options.map((o) => o.apply)).toEqual(['demo', 'varlogs']);
  });

  it('after |: parsers, formatters and the labels of a sample of the query so far', async () => {
    const { fetcher, calls } = fakeFetcher(loki);
    const r = await complete('logql', '{job="demo"} | logfmt | §', fetcher);
    const sample = calls.find((c) => c.path === 'loki/api/v1/query_range');
    expect(sample?.params).toMatchObject({ query: '{job="demo"} | logfmt', limit: '20' });
    expect(labels(r)).toEqual(
      expect.arrayContaining([
        'json',
        'logfmt',
        'regexp',
        'pattern',
        'unpack',
        'line_format',
        'label_format',
      ]),
    );
    expect(labels(r)).toEqual(expect.arrayContaining(['dur', 'msg', 'status']));
    expect(r?.options.find((o) => o.label === 'line_format')?.apply).toBe('line_format ""');
  });

  it('values of a parsed label from the sample', async () => {
    const { fetcher } = fakeFetcher(loki);
    const r = await complete('logql', '{job="demo"} | logfmt | level="§', fetcher);
    expect(labels(r)).toEqual(['error', 'info']);
  });

  it('range functions and aggregations', async () => {
    const { fetcher } = fakeFetcher(loki);
    const r = await complete('logql', 'cou§', fetcher);
    expect(labels(r)).toEqual(
      expect.arrayContaining(['count_over_time', 'count', 'rate', 'bytes_rate', 'topk']),
    );
  });

  it('grouping labels include those a parser adds', async () => {
    const { fetcher, calls } = fakeFetcher(loki);
    const r = await complete('logql', 'sum by (§) (count_over_time({job="demo"} | logfmt [5m]))', fetcher);
    expect(calls.find((c) => c.path === 'loki/api/v1/query_range')?.params.query).toBe(
      '{job="demo"} | logfmt',
    );
    expect(labels(r)).toEqual(['dur', 'job', 'level', 'msg', 'status']);
  });

  it('grouping labels of the aggregated selector', async () => {
    const { fetcher, calls } = fakeFetcher(loki);
    const r = await complete('logql', 'sum by (§) (count_over_time({job="demo"}[5m]))', fetcher);
    expect(calls[0]).toMatchObject({ path: 'loki/api/v1/labels', params: { query: '{job="demo"}' } });
    expect(labels(r)).toEqual(['job', 'level']);
  });
});

describe('helpers', () => {
  it.each([
    [undefined, [], '{}'],
    ['up', [], 'up{}'],
    ['up', [{ name: 'a', op: '=~', value: 'x"y' }], 'up{a=~"x\\"y"}'],
  ] as const)('selectorOf(%s, %j) = %s', (metric, matchers, want) => {
    expect(selectorOf(metric, [...matchers])).toBe(want);
  });

  it.each([
    ['a.b', '=', false, '"a.b"'],
    ['a.b', '=~', false, '"a\\\\.b"'],
    ['a\\b', '=', true, 'a\\\\b'],
    ['(x|y)', '!~', true, '\\\\(x\\\\|y\\\\)'],
  ])('labelValueText(%s, %s, %s) = %s', (value, op, quoted, want) => {
    expect(labelValueText(value, op, quoted)).toBe(want);
  });
});
