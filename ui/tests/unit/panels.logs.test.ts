// Logs panel logic: level detection and colours, rows from Loki frames, sorting, dedup, common labels,
// logfmt and JSON fields. Loki's recorded answers come from the shared fixtures.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DataFrame } from '../../src/data/frame';
import {
  commonLabels,
  dedupKey,
  dedupRows,
  type LogRow,
  levelFromKey,
  levelFromLine,
  levelOf,
  logRowsFromFrames,
  parseJsonLine,
  parseLineFields,
  parseLogfmt,
  sortRows,
} from '../../src/panels/logs';

const env = (globalThis as unknown as { process: { env: Record<string, string | undefined> } }).process.env;
const shared = env.VIGIL_SHARED_DIR ?? '../../shared';

describe('log levels', () => {
  it.each([
    ['2023-08-01 | ERROR | boom', 'error'],
    ['level=warn msg=x', 'warning'],
    ['WARNING: disk', 'warning'],
    ['an info line with error later', 'info'],
    ['fatal: gone', 'critical'],
    ['CRIT something', 'critical'],
    ['dbug x', 'debug'],
    ['trace id=1', 'trace'],
    ['notice: hi', 'info'],
    ['errors happen', 'unknown'],
    ['informative', 'unknown'],
    ['', 'unknown'],
  ])('%j is %s', (line, level) => {
    expect(levelFromLine(line)).toBe(level);
  });
  it.each([
    ['ERROR', 'error'],
    ['warn', 'warning'],
    ['Information', 'info'],
    ['emerg', 'critical'],
    ['whatever', 'unknown'],
  ])('label value %s is %s', (v, level) => {
    expect(levelFromKey(v)).toBe(level);
  });
  it('labels win over the line, in Grafana order', () => {
    expect(levelOf({ level: 'debug' }, 'ERROR here')).toBe('debug');
    expect(levelOf({ detected_level: 'warn' }, 'ERROR here')).toBe('warning');
    expect(levelOf({ log_level: 'info', detected_level: 'error' }, '')).toBe('info');
    expect(levelOf({ level: 'bogus' }, 'ERROR here')).toBe('error');
  });
});

function lokiFrame(lines: [number, string, Record<string, string>][]): DataFrame {
  return {
    refId: 'A',
    meta: { type: 'log-lines' },
    length: lines.length,
    fields: [
      { name: 'labels', type: 'other', config: {}, values: lines.map((l) => l[2]) },
      { name: 'Time', type: 'time', config: {}, values: lines.map((l) => l[0]) },
      { name: 'Line', type: 'string', config: {}, values: lines.map((l) => l[1]) },
      { name: 'tsNs', type: 'string', config: {}, values: lines.map((l) => `${l[0]}000000`) },
      { name: 'id', type: 'string', config: {}, values: lines.map((_, i) => `id${i}`) },
    ],
  };
}

describe('rows', () => {
  const frame = lokiFrame([
    [2000, 'b error', { job: 'a', level: 'info' }],
    [1000, 'a', { job: 'a' }],
    [3000, 'c', { job: 'a', pod: 'x' }],
  ]);
  it('reads labels, time, line and level', () => {
    const rows = logRowsFromFrames([frame]);
    expect(rows.map((r) => [r.time, r.line, r.level, r.id])).toEqual([
      [2000, 'b error', 'info', 'A_id0'],
      [1000, 'a', 'unknown', 'A_id1'],
      [3000, 'c', 'unknown', 'A_id2'],
    ]);
  });
  it('sorts newest or oldest first', () => {
    const rows = logRowsFromFrames([frame]);
    expect(sortRows(rows, 'Descending').map((r) => r.time)).toEqual([3000, 2000, 1000]);
    expect(sortRows(rows, 'Ascending').map((r) => r.time)).toEqual([1000, 2000, 3000]);
  });
  it('orders lines of one millisecond by nanoseconds', () => {
    const rows: LogRow[] = [
      { time: 1, tsNs: '1000001', line: 'x', labels: {}, level: 'unknown', id: 'a' },
      { time: 1, tsNs: '1000002', line: 'y', labels: {}, level: 'unknown', id: 'b' },
    ];
    expect(sortRows(rows, 'Descending').map((r) => r.id)).toEqual(['b', 'a']);
  });
  it('common labels are those on every row with one value', () => {
    expect(commonLabels(logRowsFromFrames([frame]))).toEqual({ job: 'a' });
    expect(commonLabels([])).toEqual({});
  });
  it('labels may come as a JSON string', () => {
    const f = lokiFrame([[1, 'x', {}]]);
    f.fields[0].values = ['{"app":"z"}'];
    expect(logRowsFromFrames([f])[0].labels).toEqual({ app: 'z' });
  });
  it('frames without a time or line field give no rows', () => {
    expect(logRowsFromFrames([{ fields: [], length: 0 }])).toEqual([]);
  });
  it('reads the recorded Loki answer shape', () => {
    // The fixture is Loki's query_range streams answer; turn it into the frame the server sends.
    const text = readFileSync(`${shared}/fixtures/loki-api/query_range_streams.txt`, 'utf8');
    const body = JSON.parse(text.slice(text.indexOf('{')));
    const lines: [number, string, Record<string, string>][] = [];
    for (const s of body.data.result)
      for (const [ns, l] of s.values) lines.push([Number(BigInt(ns) / 1000000n), l, s.stream]);
    const rows = sortRows(logRowsFromFrames([lokiFrame(lines)]), 'Descending');
    expect(rows.length).toBe(lines.length);
    for (let i = 1; i < rows.length; i++) expect(rows[i - 1].time).toBeGreaterThanOrEqual(rows[i].time);
  });
});

describe('dedup', () => {
  const row = (line: string): LogRow => ({ time: 0, line, labels: {}, level: 'unknown', id: line });
  it.each([
    ['exact', '2023-08-01T14:11:35.126Z a', '2023-08-01T14:11:36.999Z a', true],
    ['exact', 'a 1', 'a 2', false],
    ['numbers', 'took 15 ms', 'took 230 ms', true],
    ['numbers', 'took 15 ms', 'took 15 s', false],
    ['signature', 'user=bob id=1', 'user=alice id=22', true],
    ['signature', 'a=b', 'a b', false],
    ['none', 'x', 'x', false],
  ])('%s: %j and %j are duplicates: %s', (strategy, a, b, dup) => {
    const out = dedupRows([row(a), row(b)], strategy);
    expect(out.length).toBe(dup ? 1 : 2);
    if (dup) expect(out[0].duplicates).toBe(1);
  });
  it('folds only consecutive runs', () => {
    const out = dedupRows([row('a'), row('a'), row('b'), row('a')], 'exact');
    expect(out.map((r) => [r.line, r.duplicates])).toEqual([
      ['a', 1],
      ['b', 0],
      ['a', 0],
    ]);
  });
  it('keys', () => {
    expect(dedupKey('a1b2', 'numbers')).toBe('ab');
    expect(dedupKey('a=1, b', 'signature')).toBe('=, ');
  });
});

describe('fields', () => {
  it.each([
    ['level=info msg="hello world" n=3', { level: 'info', msg: 'hello world', n: '3' }],
    ['a="q \\"x\\"" b=', { a: 'q "x"', b: '' }],
    ['no pairs here', {}],
  ])('logfmt %j', (line, want) => {
    expect(parseLogfmt(line)).toEqual(want);
  });
  it('JSON objects flatten nested keys with _', () => {
    expect(parseJsonLine('{"a":1,"b":{"c":"x","d":[1]},"e":null}')).toEqual({
      a: '1',
      b_c: 'x',
      b_d: '[1]',
      e: 'null',
    });
    expect(parseJsonLine('[1]')).toBeUndefined();
    expect(parseJsonLine('{bad')).toBeUndefined();
  });
  it('picks JSON, else logfmt', () => {
    expect(parseLineFields(' {"a":"b"}')).toEqual({ a: 'b' });
    expect(parseLineFields('{bad a=b')).toEqual({ a: 'b' });
  });
});
