// Tests for src/explore/completionContext.ts: which completion applies at the cursor (`|` in each case).
import { describe, expect, it } from 'vitest';
import { completionSituation, type Situation } from '../../src/explore/completionContext';
import type { QueryLanguage } from '../../src/explore/syntax';

function at(language: QueryLanguage, marked: string): Situation {
  const pos = marked.indexOf('|');
  if (pos < 0) throw new Error(`no cursor in ${marked}`);
  const text = marked.slice(0, pos) + marked.slice(pos + 1);
  return completionSituation(language, text, pos);
}

// LogQL uses `|` itself, so its cases mark the cursor with `§`.
function atL(marked: string): Situation {
  const pos = marked.indexOf('§');
  if (pos < 0) throw new Error(`no cursor in ${marked}`);
  return completionSituation('logql', marked.slice(0, pos) + marked.slice(pos + 1), pos);
}

const noMatchers = { matchers: [] };

describe('PromQL expressions', () => {
  it.each([
    ['|', { kind: 'expression', from: 0, prefix: '' }],
    ['ra|', { kind: 'expression', from: 0, prefix: 'ra' }],
    ['http_req|', { kind: 'expression', from: 0, prefix: 'http_req' }],
    ['node:cpu|', { kind: 'expression', from: 0, prefix: 'node:cpu' }],
    ['rate(|', { kind: 'expression', from: 5, prefix: '' }],
    ['rate(ht|', { kind: 'expression', from: 5, prefix: 'ht' }],
    ['sum(|', { kind: 'expression', from: 4, prefix: '' }],
    ['up + |', { kind: 'expression', from: 5, prefix: '' }],
    ['up / on(job) |', { kind: 'expression', from: 13, prefix: '' }],
    ['up and |', { kind: 'expression', from: 7, prefix: '' }],
    ['sum by (job) (|', { kind: 'expression', from: 14, prefix: '' }],
    ['histogram_quantile(0.9, |', { kind: 'expression', from: 24, prefix: '' }],
    ['histogram_quantile(0.9, su|', { kind: 'expression', from: 24, prefix: 'su' }],
    ['clamp_max(up, |', { kind: 'expression', from: 14, prefix: '' }],
  ])('%s', (q, want) => expect(at('promql', q)).toEqual(want));

  it.each([
    'rate(up[5m])|',
    'up{job="a"}|',
    '1e3|',
    'up offset 5m|',
    'label_replace(up, "dst|',
    'label_replace(up, "dst", "|',
    'count_values("val|", up)',
  ])('nothing at %s', (q) => expect(at('promql', q)).toEqual({ kind: 'none' }));
});

describe('PromQL after a complete operand', () => {
  it.each([
    ['up |', 3, ''],
    ['up o|', 3, 'o'],
    ['rate(up[5m]) |', 13, ''],
    ['up{job="a"} an|', 12, 'an'],
    ['sum b|', 4, 'b'],
    ['sum(rate(x[5m])) by (job) |', 26, ''],
    ['1 |', 2, ''],
  ])('%s', (q, from, prefix) => expect(at('promql', q)).toEqual({ kind: 'operator', from, prefix }));

  it.each([
    ['up and |', { kind: 'expression', from: 7, prefix: '' }],
    ['up offset |', { kind: 'none' }],
    ['sum by (job) |', { kind: 'operator', from: 13, prefix: '' }],
  ])('%s', (q, want) => expect(at('promql', q)).toEqual(want));
});

describe('PromQL label names in selectors', () => {
  it.each([
    ['up{|', { metric: 'up', from: 3, prefix: '' }],
    ['up{|}', { metric: 'up', from: 3, prefix: '' }],
    ['up{jo|', { metric: 'up', from: 3, prefix: 'jo' }],
    ['up{jo|}', { metric: 'up', from: 3, prefix: 'jo' }],
    ['{|', { metric: undefined, from: 1, prefix: '' }],
    ['rate(http_requests_total{|}[5m])', { metric: 'http_requests_total', from: 25, prefix: '' }],
    ['sum(rate(x{ha|', { metric: 'x', from: 11, prefix: 'ha' }],
  ])('%s', (q, want) =>
    expect(at('promql', q)).toEqual({ kind: 'labelName', place: 'selector', ...noMatchers, ...want }),
  );

  it('after a comma, with the earlier matchers', () => {
    expect(at('promql', 'up{job="a", |')).toEqual({
      kind: 'labelName',
      place: 'selector',
      metric: 'up',
      from: 12,
      prefix: '',
      matchers: [{ name: 'job', op: '=', value: 'a' }],
    });
  });

  it('between matchers, with the ones before and after', () => {
    expect(at('promql', 'up{job=~"a.*", in|, code!="5xx"}')).toMatchObject({
      kind: 'labelName',
      prefix: 'in',
      matchers: [
        { name: 'job', op: '=~', value: 'a.*' },
        { name: 'code', op: '!=', value: '5xx' },
      ],
    });
  });

  it('the metric named by __name__', () => {
    expect(at('promql', '{__name__="up", |}')).toMatchObject({
      kind: 'labelName',
      metric: 'up',
      matchers: [],
    });
  });

  it('escaped quotes in an earlier value', () => {
    expect(at('promql', 'up{path="a\\"b", |')).toMatchObject({
      kind: 'labelName',
      matchers: [{ name: 'path', op: '=', value: 'a"b' }],
    });
  });

  it('a cursor inside a label name completes what is before it (regression: the prefix ran past it)', () => {
    expect(at('promql', 'up{jo|b="a"}')).toMatchObject({ kind: 'labelName', from: 3, prefix: 'jo' });
    expect(at('promql', 'up{job="a", clu|ster="x"}')).toMatchObject({
      kind: 'labelName',
      from: 12,
      prefix: 'clu',
    });
  });

  it('nothing after a label name and a blank', () => {
    expect(at('promql', 'up{job |')).toEqual({ kind: 'none' });
  });

  it('nothing after a complete matcher without a comma', () => {
    expect(at('promql', 'up{job="a"|}')).toEqual({ kind: 'none' });
  });
});

describe('PromQL label values', () => {
  it.each([
    ['up{job=|', { op: '=', quoted: false, from: 7, prefix: '' }],
    ['up{job= |', { op: '=', quoted: false, from: 8, prefix: '' }],
    ['up{job="|', { op: '=', quoted: true, from: 8, prefix: '' }],
    ['up{job="|"}', { op: '=', quoted: true, from: 8, prefix: '' }],
    ['up{job="pro|', { op: '=', quoted: true, from: 8, prefix: 'pro' }],
    ['up{job=~"pro|', { op: '=~', quoted: true, from: 9, prefix: 'pro' }],
    ['up{job!="|', { op: '!=', quoted: true, from: 9, prefix: '' }],
    ['up{job!~|', { op: '!~', quoted: false, from: 8, prefix: '' }],
    ['up{job=pro|', { op: '=', quoted: false, from: 7, prefix: 'pro' }],
    ["up{job='pro|", { op: '=', quoted: true, from: 8, prefix: 'pro' }],
  ])('%s', (q, want) =>
    expect(at('promql', q)).toEqual({
      kind: 'labelValue',
      place: 'selector',
      label: 'job',
      metric: 'up',
      matchers: [],
      ...want,
    }),
  );

  it('with the other matchers of the selector', () => {
    expect(at('promql', 'rate(http_requests_total{handler="/a", status="|"}[5m])')).toEqual({
      kind: 'labelValue',
      place: 'selector',
      label: 'status',
      op: '=',
      quoted: true,
      from: 47,
      prefix: '',
      metric: 'http_requests_total',
      matchers: [{ name: 'handler', op: '=', value: '/a' }],
    });
  });

  it('a value in a selector without a metric name', () => {
    expect(at('promql', '{job="a",instance="|')).toMatchObject({
      kind: 'labelValue',
      label: 'instance',
      metric: undefined,
      matchers: [{ name: 'job', op: '=', value: 'a' }],
    });
  });
});

describe('PromQL grouping labels', () => {
  it.each([
    ['sum by (|', { metric: undefined, from: 8, prefix: '' }],
    ['sum by (jo|', { metric: undefined, from: 8, prefix: 'jo' }],
    ['sum without (a, |', { metric: undefined, from: 16, prefix: '' }],
    [
      'sum by (|) (rate(x{a="b"}[5m]))',
      { metric: 'x', from: 8, prefix: '', matchers: [{ name: 'a', op: '=', value: 'b' }] },
    ],
    ['sum(rate(http_requests_total[5m])) by (|', { metric: 'http_requests_total', from: 39, prefix: '' }],
    [
      'sum(rate(http_requests_total[5m])) by (handler, st|)',
      { metric: 'http_requests_total', from: 48, prefix: 'st' },
    ],
    ['topk by (|) (5, up)', { metric: 'up', from: 9, prefix: '' }],
  ])('%s', (q, want) =>
    expect(at('promql', q)).toEqual({ kind: 'labelName', place: 'grouping', matchers: [], ...want }),
  );

  it('nothing after the grouping is closed', () => {
    expect(at('promql', 'sum by (job)|')).toEqual({ kind: 'none' });
  });
});

describe('PromQL ranges', () => {
  it.each([
    ['rate(up[|', { from: 8, prefix: '' }],
    ['rate(up[|])', { from: 8, prefix: '' }],
    ['rate(up[5|', { from: 8, prefix: '5' }],
    ['rate(up[5m|])', { from: 8, prefix: '5m' }],
    ['rate(up{job="a"}[$__ra|', { from: 17, prefix: '$__ra' }],
    ['max_over_time(up[1h:|', { from: 20, prefix: '' }],
    ['max_over_time(up[1h:5|])', { from: 20, prefix: '5' }],
  ])('%s', (q, want) => expect(at('promql', q)).toEqual({ kind: 'duration', ...want }));
});

describe('LogQL selectors', () => {
  it.each([
    ['{§', { kind: 'labelName', place: 'selector', from: 1, prefix: '', matchers: [] }],
    ['{jo§', { kind: 'labelName', place: 'selector', from: 1, prefix: 'jo', matchers: [] }],
    [
      '{job="a", §}',
      {
        kind: 'labelName',
        place: 'selector',
        from: 10,
        prefix: '',
        matchers: [{ name: 'job', op: '=', value: 'a' }],
      },
    ],
    [
      '{job=§',
      {
        kind: 'labelValue',
        place: 'selector',
        label: 'job',
        op: '=',
        quoted: false,
        from: 5,
        prefix: '',
        matchers: [],
      },
    ],
    [
      '{job="§',
      {
        kind: 'labelValue',
        place: 'selector',
        label: 'job',
        op: '=',
        quoted: true,
        from: 6,
        prefix: '',
        matchers: [],
      },
    ],
    [
      '{job=~"ap§',
      {
        kind: 'labelValue',
        place: 'selector',
        label: 'job',
        op: '=~',
        quoted: true,
        from: 7,
        prefix: 'ap',
        matchers: [],
      },
    ],
    [
      'count_over_time({app="x", level="§"}[5m])',
      {
        kind: 'labelValue',
        place: 'selector',
        label: 'level',
        op: '=',
        quoted: true,
        from: 33,
        prefix: '',
        matchers: [{ name: 'app', op: '=', value: 'x' }],
      },
    ],
  ])('%s', (q, want) => expect(atL(q)).toEqual({ metric: undefined, ...want }));

  it('nothing after the selector is closed', () => {
    expect(atL('{job="a"}§')).toEqual({ kind: 'none' });
  });
});

describe('LogQL pipelines', () => {
  const scope = { matchers: [{ name: 'job', op: '=', value: 'a' }] };
  it.each([
    ['{job="a"} |§', { kind: 'pipeline', from: 11, prefix: '', logQuery: '{job="a"}' }],
    ['{job="a"} | §', { kind: 'pipeline', from: 12, prefix: '', logQuery: '{job="a"}' }],
    ['{job="a"} | js§', { kind: 'pipeline', from: 12, prefix: 'js', logQuery: '{job="a"}' }],
    ['{job="a"} | json | §', { kind: 'pipeline', from: 19, prefix: '', logQuery: '{job="a"} | json' }],
    [
      '{job="a"} |= "x" | logfmt | lev§',
      { kind: 'pipeline', from: 28, prefix: 'lev', logQuery: '{job="a"} |= "x" | logfmt' },
    ],
    [
      '{job="a"} | json | level="§',
      {
        kind: 'labelValue',
        place: 'pipeline',
        label: 'level',
        op: '=',
        quoted: true,
        from: 26,
        prefix: '',
        logQuery: '{job="a"} | json',
      },
    ],
    [
      '{job="a"} | json | level=~"er§',
      {
        kind: 'labelValue',
        place: 'pipeline',
        label: 'level',
        op: '=~',
        quoted: true,
        from: 27,
        prefix: 'er',
        logQuery: '{job="a"} | json',
      },
    ],
    [
      '{job="a"} | json | level="x" or level="§',
      {
        kind: 'labelValue',
        place: 'pipeline',
        label: 'level',
        op: '=',
        quoted: true,
        from: 39,
        prefix: '',
        logQuery: '{job="a"} | json',
      },
    ],
    [
      '{job="a"} | logfmt | unwrap §',
      { kind: 'labelName', place: 'pipeline', from: 28, prefix: '', logQuery: '{job="a"} | logfmt' },
    ],
    [
      '{job="a"} | logfmt | unwrap dur§',
      { kind: 'labelName', place: 'pipeline', from: 28, prefix: 'dur', logQuery: '{job="a"} | logfmt' },
    ],
    [
      '{job="a"} | logfmt | unwrap duration(lat§',
      { kind: 'labelName', place: 'pipeline', from: 37, prefix: 'lat', logQuery: '{job="a"} | logfmt' },
    ],
    [
      '{job="a"} | logfmt | drop a, §',
      { kind: 'labelName', place: 'pipeline', from: 29, prefix: '', logQuery: '{job="a"} | logfmt' },
    ],
  ])('%s', (q, want) => expect(atL(q)).toEqual({ ...scope, ...want }));

  it.each([
    '{job="a"} |= "er§',
    '{job="a"} |~ "§',
    '{job="a"} != §',
    '{job="a"} | json | line_format "{{§',
    '{job="a"} | json | level="x"§',
    '{job="a"} | json §',
  ])('nothing at %s', (q) => expect(atL(q)).toEqual({ kind: 'none' }));
});

describe('LogQL metric queries', () => {
  it.each([
    ['§', { kind: 'expression', from: 0, prefix: '' }],
    ['cou§', { kind: 'expression', from: 0, prefix: 'cou' }],
    ['sum(§', { kind: 'expression', from: 4, prefix: '' }],
    ['count_over_time({a="b"}[§', { kind: 'duration', from: 24, prefix: '' }],
    ['rate({a="b"}[5§])', { kind: 'duration', from: 13, prefix: '5' }],
    ['sum by (§', { kind: 'labelName', place: 'grouping', from: 8, prefix: '', matchers: [] }],
    [
      'sum(count_over_time({a="b"}[5m])) by (le§',
      {
        kind: 'labelName',
        place: 'grouping',
        from: 38,
        prefix: 'le',
        matchers: [{ name: 'a', op: '=', value: 'b' }],
      },
    ],
    [
      'sum by (§) (rate({a="b"} | json [1m]))',
      {
        kind: 'labelName',
        place: 'grouping',
        from: 8,
        prefix: '',
        matchers: [{ name: 'a', op: '=', value: 'b' }],
        logQuery: '{a="b"} | json',
      },
    ],
    [
      'sum(rate({job="a"}[5m])) by (§',
      {
        kind: 'labelName',
        place: 'grouping',
        from: 29,
        prefix: '',
        matchers: [{ name: 'job', op: '=', value: 'a' }],
      },
    ],
  ])('%s', (q, want) => expect(atL(q)).toEqual(want));

  it('a pipeline inside a range aggregation keeps its selector', () => {
    expect(atL('count_over_time({a="b"} | §')).toEqual({
      kind: 'pipeline',
      from: 26,
      prefix: '',
      matchers: [{ name: 'a', op: '=', value: 'b' }],
      logQuery: '{a="b"}',
    });
  });
});
