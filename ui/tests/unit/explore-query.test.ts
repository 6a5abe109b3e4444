// Tests for src/explore/query.ts: the /api/ds/query request Explore sends, built-in variables, and how
// answers are sorted into graph, table and logs.
import { describe, expect, it } from 'vitest';
import { decodeQueryResponse } from '../../src/api';
import type { DataSourceSettings } from '../../src/dashboard/model';
import type { FrameJSON } from '../../src/data/frame';
import { buildRequest, isLogQuery, seriesToTable, splitResults } from '../../src/explore/query';

const prom: DataSourceSettings = {
  uid: 'prom',
  name: 'Prometheus',
  type: 'prometheus',
  jsonData: { timeInterval: '10s' },
};
const loki: DataSourceSettings = { uid: 'loki', name: 'Loki', type: 'loki', jsonData: {} };
const hour = { from: 1_700_000_000_000, to: 1_700_003_600_000 };

/** The answer's results as Explore reads them: the shell's decoder, in refId order. */
function decodeResults(results: Record<string, { status?: number; error?: string; frames?: FrameJSON[] }>) {
  return Object.values(decodeQueryResponse({ results }).results);
}

describe('buildRequest', () => {
  it('a Prometheus Both query becomes a range query and an -Instant one', () => {
    const r = buildRequest(
      [{ refId: 'A', expr: 'rate(x[$__rate_interval])', range: true, instant: true }],
      prom,
      hour,
      1200,
    );
    expect(r.from).toBe('1700000000000');
    expect(r.to).toBe('1700003600000');
    expect(r.queries).toEqual([
      expect.objectContaining({
        refId: 'A',
        range: true,
        instant: false,
        datasource: { type: 'prometheus', uid: 'prom' },
        maxDataPoints: 1200,
      }),
      expect.objectContaining({ refId: 'A-Instant', range: false, instant: true, format: 'table' }),
    ]);
    // 3600s / 1200 points = 3s, raised to the datasource's 10s.
    expect(r.queries[0].intervalMs).toBe(10_000);
    // Built-ins go to the server as written: it fills them with the step it runs.
    expect(r.queries[0].expr).toBe('rate(x[$__rate_interval])');
  });

  it('range-only and instant-only keep the refId', () => {
    const r = buildRequest(
      [
        { refId: 'A', expr: 'up', range: true, instant: false },
        { refId: 'B', expr: 'up', range: false, instant: true },
      ],
      prom,
      hour,
      1000,
    );
    expect(r.queries.map((q) => [q.refId, q.range, q.instant])).toEqual([
      ['A', true, false],
      ['B', false, true],
    ]);
  });

  it('empty and hidden queries are left out', () => {
    const r = buildRequest(
      [
        { refId: 'A', expr: '  ' },
        { refId: 'B', expr: 'up', hide: true },
      ],
      prom,
      hour,
      1000,
    );
    expect(r.queries).toEqual([]);
  });

  it('Loki queries carry queryType, the line limit and direction', () => {
    const r = buildRequest(
      [{ refId: 'A', expr: '{job="x"} |= "err"', queryType: 'range', maxLines: 200 }],
      loki,
      hour,
      1000,
    );
    expect(r.queries).toEqual([
      expect.objectContaining({
        refId: 'A',
        expr: '{job="x"} |= "err"',
        queryType: 'range',
        maxLines: 200,
        direction: 'backward',
        datasource: { type: 'loki', uid: 'loki' },
      }),
    ]);
  });
});

it.each([
  ['{job="x"}', true],
  ['  {job="x"} | json', true],
  ['rate({job="x"}[5m])', false],
  ['sum by (level) (count_over_time({a="b"}[1m]))', false],
])('isLogQuery(%s) = %s', (expr, want) => expect(isLogQuery(expr)).toBe(want));

function series(
  refId: string,
  labels: Record<string, string>,
  times: number[],
  values: (number | null)[],
  type = 'timeseries-multi',
): FrameJSON {
  return {
    schema: {
      refId,
      meta: { type },
      fields: [
        { name: 'Time', type: 'time' },
        { name: 'Value', type: 'number', labels },
      ],
    },
    data: { values: [times, values] },
  };
}

const logs: FrameJSON = {
  schema: {
    refId: 'A',
    meta: { type: 'log-lines', custom: { frameType: 'LabeledTimeValues' } },
    fields: [
      { name: 'labels', type: 'other' },
      { name: 'Time', type: 'time' },
      { name: 'Line', type: 'string' },
      { name: 'tsNs', type: 'string' },
      { name: 'id', type: 'string' },
    ],
  },
  data: { values: [[{ job: 'x' }], [1], ['hello'], ['1000000'], ['a']] },
};

describe('splitResults', () => {
  it('range frames to the graph, instant frames to the table', () => {
    const results = decodeResults({
      A: {
        status: 200,
        frames: [series('A', { job: 'a' }, [1, 2], [1, 2]), series('A', { job: 'b' }, [1, 2], [3, 4])],
      },
      'A-Instant': {
        status: 200,
        frames: [series('A-Instant', { __name__: 'up', job: 'a' }, [2], [1], 'numeric-multi')],
      },
    });
    const data = splitResults(results);
    expect(data.graph).toHaveLength(2);
    expect(data.logs).toEqual([]);
    expect(data.table).toHaveLength(1);
    expect(data.table[0].fields.map((f) => f.name)).toEqual(['Time', '__name__', 'job', 'Value']);
    expect(data.table[0].fields.map((f) => f.values)).toEqual([[2], ['up'], ['a'], [1]]);
  });

  it('the table shows range frames when no instant query ran', () => {
    const data = splitResults(
      decodeResults({ A: { status: 200, frames: [series('A', { job: 'a' }, [1, 2], [5, 6])] } }),
    );
    expect(data.table[0].fields.map((f) => f.values)).toEqual([
      [1, 2],
      ['a', 'a'],
      [5, 6],
    ]);
  });

  it('log lines to the logs view', () => {
    const data = splitResults(decodeResults({ A: { status: 200, frames: [logs] } }));
    expect(data.logs).toHaveLength(1);
    expect(data.graph).toEqual([]);
    expect(data.table).toEqual([]);
  });

  it('a Both query failing twice reports one error', () => {
    const data = splitResults(
      decodeResults({
        A: { status: 400, error: 'bad_data: parse error' },
        'A-Instant': { status: 400, error: 'bad_data: parse error' },
      }),
    );
    expect(data.errors).toEqual([{ refId: 'A', message: 'bad_data: parse error' }]);
  });

  it('errors are kept per query beside the other results', () => {
    const data = splitResults(
      decodeResults({
        A: { status: 400, error: 'parse error at char 5' },
        B: { status: 200, frames: [series('B', {}, [1], [1])] },
      }),
    );
    expect(data.errors).toEqual([{ refId: 'A', message: 'parse error at char 5' }]);
    expect(data.graph).toHaveLength(1);
  });
});

describe('seriesToTable', () => {
  it('one Value column per query when several ran', () => {
    const frames = decodeResults({
      A: { frames: [series('A', { job: 'a' }, [1], [1])] },
      B: { frames: [series('B', { job: 'b', le: '0.5' }, [1], [2])] },
    }).flatMap((r) => r.frames);
    const table = seriesToTable(frames);
    expect(table.fields.map((f) => f.name)).toEqual(['Time', 'job', 'le', 'Value #A', 'Value #B']);
    expect(table.fields.map((f) => f.values)).toEqual([
      [1, 1],
      ['a', 'b'],
      ['', '0.5'],
      [1, null],
      [null, 2],
    ]);
    expect(table.length).toBe(2);
  });
});
