// Tests for src/explore/state.ts: Explore's URL forms (Grafana 10+ panes, left object, compact left
// array), datasource resolution and per-type query defaults.
import { describe, expect, it } from 'vitest';
import type { DataSourceSettings } from '../../src/dashboard/model';
import {
  emptyPane,
  exploreParams,
  exploreUrl,
  nextRefId,
  paneIdOf,
  parseExploreParams,
  resolveDatasource,
  withDefaults,
} from '../../src/explore/state';

const prom: DataSourceSettings = { uid: 'prom', name: 'Prometheus', type: 'prometheus', jsonData: {} };
const loki: DataSourceSettings = { uid: 'loki', name: 'Loki', type: 'loki', jsonData: { maxLines: 500 } };
const tempo: DataSourceSettings = {
  uid: 'tempo',
  name: 'Tempo',
  type: 'tempo',
  isDefault: true,
  jsonData: {},
};
const all = [tempo, prom, loki];

const params = (o: Record<string, string>) => new URLSearchParams(o);

describe('parseExploreParams', () => {
  it('reads Grafana 10+ panes', () => {
    const panes = {
      x7k: {
        datasource: 'prom',
        queries: [
          {
            refId: 'A',
            expr: 'up',
            range: true,
            instant: true,
            datasource: { type: 'prometheus', uid: 'prom' },
          },
        ],
        range: { from: 'now-6h', to: 'now' },
      },
    };
    const p = params({ schemaVersion: '1', panes: JSON.stringify(panes), orgId: '1' });
    expect(parseExploreParams(p)).toEqual({
      datasource: 'prom',
      queries: [
        {
          refId: 'A',
          expr: 'up',
          range: true,
          instant: true,
          datasource: { type: 'prometheus', uid: 'prom' },
        },
      ],
      range: { from: 'now-6h', to: 'now' },
    });
    expect(paneIdOf(p)).toBe('x7k');
  });

  it('reads the left object of Grafana 7-9', () => {
    const left = {
      datasource: 'loki',
      queries: [{ refId: 'A', expr: '{job="x"}' }],
      range: { from: '1700000000000', to: '1700003600000' },
    };
    expect(parseExploreParams(params({ left: JSON.stringify(left) }))).toEqual({
      datasource: 'loki',
      queries: [{ refId: 'A', expr: '{job="x"}' }],
      range: { from: '1700000000000', to: '1700003600000' },
    });
  });

  it('reads the compact left array', () => {
    const left = ['now-1h', 'now', 'Prometheus', { expr: 'rate(x[5m])' }, { expr: 'up' }];
    expect(parseExploreParams(params({ left: JSON.stringify(left) }))).toEqual({
      datasource: 'Prometheus',
      queries: [
        { refId: 'A', expr: 'rate(x[5m])' },
        { refId: 'B', expr: 'up' },
      ],
      range: { from: 'now-1h', to: 'now' },
    });
  });

  it('a datasource given as a reference object', () => {
    const left = { datasource: { type: 'loki', uid: 'loki' }, queries: [] };
    expect(parseExploreParams(params({ left: JSON.stringify(left) }))?.datasource).toBe('loki');
  });

  it('defaults for a missing range, numeric times as strings', () => {
    expect(parseExploreParams(params({ left: JSON.stringify({ queries: [] }) }))?.range).toEqual({
      from: 'now-1h',
      to: 'now',
    });
    expect(
      parseExploreParams(params({ left: JSON.stringify({ range: { from: 1, to: 2 } }) }))?.range,
    ).toEqual({ from: '1', to: '2' });
  });

  it('duplicate or missing refIds are renamed', () => {
    const left = { queries: [{ refId: 'A', expr: 'a' }, { refId: 'A', expr: 'b' }, { expr: 'c' }] };
    expect(parseExploreParams(params({ left: JSON.stringify(left) }))?.queries.map((q) => q.refId)).toEqual([
      'A',
      'B',
      'C',
    ]);
  });

  it.each([[{}], [{ left: 'not json' }], [{ panes: '{}' }], [{ left: '42' }]])('nothing from %j', (o) =>
    expect(parseExploreParams(params(o))).toBeUndefined(),
  );
});

describe('exploreParams', () => {
  it('writes Grafana 10+ panes and reads them back', () => {
    const pane = {
      datasource: 'prom',
      queries: [{ refId: 'A', expr: 'sum(rate(x{a="b"}[5m]))', range: true }],
      range: { from: 'now-15m', to: 'now' },
    };
    const p = exploreParams(pane, 'abc');
    expect(p.get('schemaVersion')).toBe('1');
    expect(p.get('orgId')).toBe('1');
    expect(Object.keys(JSON.parse(p.get('panes') ?? '{}'))).toEqual(['abc']);
    expect(parseExploreParams(new URLSearchParams(exploreUrl(pane, 'abc').split('?')[1]))).toEqual(pane);
  });
});

describe('resolveDatasource', () => {
  it.each([
    ['prom', 'prom'],
    ['Loki', 'loki'],
    ['tempo', 'prom'],
    ['missing', 'prom'],
    [undefined, 'prom'],
  ])('%s -> %s (Explore skips unsupported types)', (wanted, uid) => {
    expect(resolveDatasource(wanted, all)?.uid).toBe(uid);
  });

  it('the default datasource by name', () => {
    expect(resolveDatasource(undefined, all, 'Loki')?.uid).toBe('loki');
  });

  it('none when no datasource is supported', () => {
    expect(resolveDatasource(undefined, [tempo])).toBeUndefined();
  });
});

describe('withDefaults', () => {
  it('Prometheus queries run as Both unless a type is chosen', () => {
    expect(withDefaults({ refId: 'A', expr: 'up' }, prom)).toMatchObject({
      range: true,
      instant: true,
      datasource: { type: 'prometheus', uid: 'prom' },
    });
    expect(withDefaults({ refId: 'A', expr: 'up', instant: true }, prom)).toMatchObject({
      range: false,
      instant: true,
    });
    expect(withDefaults({ refId: 'A', expr: 'up', range: true, instant: false }, prom)).toMatchObject({
      range: true,
      instant: false,
    });
    expect(withDefaults({ refId: 'A', expr: 'up', range: false, instant: false }, prom)).toMatchObject({
      range: false,
      instant: false,
    });
  });

  it('Loki queries: range unless instant, the datasource line limit', () => {
    expect(withDefaults({ refId: 'A', expr: '{a="b"}' }, loki)).toMatchObject({
      queryType: 'range',
      maxLines: 500,
    });
    expect(
      withDefaults({ refId: 'A', expr: '{a="b"}', queryType: 'instant', maxLines: 20 }, loki),
    ).toMatchObject({ queryType: 'instant', maxLines: 20 });
    expect(withDefaults({ refId: 'A', expr: '' }, { ...loki, jsonData: {} }).maxLines).toBe(1000);
  });
});

describe('refIds and empty panes', () => {
  it('next refId skips used ones', () => {
    expect(
      nextRefId([
        { refId: 'A', expr: '' },
        { refId: 'C', expr: '' },
      ]),
    ).toBe('B');
    expect(
      nextRefId(Array.from({ length: 26 }, (_, i) => ({ refId: String.fromCharCode(65 + i), expr: '' }))),
    ).toBe('AA');
  });

  it('an empty pane has one query with its datasource defaults', () => {
    expect(emptyPane(loki)).toEqual({
      datasource: 'loki',
      queries: [
        {
          refId: 'A',
          expr: '',
          datasource: { type: 'loki', uid: 'loki' },
          queryType: 'range',
          maxLines: 500,
        },
      ],
      range: { from: 'now-1h', to: 'now' },
    });
  });
});
