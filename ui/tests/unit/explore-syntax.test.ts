// Tests for src/explore/syntax.ts: error spans from the grammars' trees, and Grafana variables masked
// so that they are not reported as syntax errors.
import { describe, expect, it } from 'vitest';
import { maskVariables, parse, type QueryLanguage, syntaxErrors } from '../../src/explore/syntax';

function errors(language: QueryLanguage, text: string): string[] {
  return syntaxErrors(parse(language, maskVariables(text)), text.length).map((e) => text.slice(e.from, e.to));
}

describe('syntaxErrors', () => {
  it.each([
    ['promql', 'up'],
    ['promql', 'sum by (job) (rate(http_requests_total{status=~"5.."}[5m]))'],
    ['promql', 'histogram_quantile(0.99, sum by (le) (rate(x_bucket[5m])))'],
    ['logql', '{job="demo"} |= "error" | logfmt | level="error"'],
    ['logql', 'sum by (level) (count_over_time({job="demo"} | json [5m]))'],
  ] as const)('none in %s %s', (language, text) => expect(errors(language, text)).toEqual([]));

  it.each([
    ['promql', 'sum(rate(x[5m])', [')']],
    ['promql', 'up{job=}', ['}']],
    ['promql', 'up +', ['+']],
    ['logql', '{job="a"} | ', [' ']],
  ] as const)('%s %s', (language, text, want) => expect(errors(language, text)).toEqual(want));

  it('every span lies inside the text and is not empty', () => {
    for (const text of ['', '(', 'sum(', 'up{a="', '{', '{a="b"} |', 'rate(x[', ')))']) {
      for (const language of ['promql', 'logql'] as const) {
        for (const e of syntaxErrors(parse(language, text), text.length)) {
          expect(e.from).toBeGreaterThanOrEqual(0);
          expect(e.to).toBeLessThanOrEqual(text.length);
          if (text.length > 0) expect(e.to).toBeGreaterThan(e.from);
        }
      }
    }
  });
});

describe('maskVariables', () => {
  it.each([
    ['rate(x[$__rate_interval])', 'rate(x[1s              ])'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var} syntax, not a template.
    ['rate(x[${__interval}])', 'rate(x[1s           ])'],
    ['max_over_time(x[$__range:$__interval])', 'max_over_time(x[1s      :1s         ])'],
    ['x offset $shift', 'x offset 1s    '],
    ['up{job="$job"}', 'up{job="vjob"}'],
    ['sum by ($label) (x)', 'sum by (vlabel) (x)'],
    ['[[metric]]{a="b"}', 'v_metric__{a="b"}'],
    // biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's ${var:format} syntax.
    ['${metric:raw}', 'v_metric_raw_'],
  ])('%s', (text, want) => {
    expect(maskVariables(text)).toBe(want);
    expect(maskVariables(text)).toHaveLength(text.length);
  });

  it.each([
    ['promql', 'sum(rate(http_requests_total{job=~"$job"}[$__rate_interval])) by ($group)'],
    ['promql', 'increase(x[$__range]) / $__range_s'],
    ['logql', 'sum(count_over_time({job="$job"} |= "$search" [$__auto]))'],
  ] as const)('no errors for variables in %s %s', (language, text) => {
    expect(errors(language, text)).toEqual([]);
  });
});
