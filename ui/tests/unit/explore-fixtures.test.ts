// Explore's editor against the shared fixtures: every query of the real dashboards parses without a
// syntax error once Grafana's variables are masked, the completion context never fails anywhere in
// them, and the recorded Prometheus and Loki API answers feed the completion sources.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CompletionContext, type CompletionResult } from '@codemirror/autocomplete';
import { EditorState } from '@codemirror/state';
import { describe, expect, it } from 'vitest';
import { completionFor, type Fetcher } from '../../src/explore/completion';
import { completionSituation } from '../../src/explore/completionContext';
import { maskVariables, parse, type QueryLanguage, syntaxErrors } from '../../src/explore/syntax';

const SHARED = process.env.VIGIL_SHARED_DIR ?? join(process.cwd(), '../../shared');
const DASHBOARDS = join(SHARED, 'fixtures/dashboards');

/** Every `expr` in a dashboard's JSON, wherever it sits (panels, rows, targets). */
function exprsOf(json: unknown, out: string[] = []): string[] {
  if (Array.isArray(json)) for (const v of json) exprsOf(v, out);
  else if (json && typeof json === 'object') {
    const o = json as Record<string, unknown>;
    if (typeof o.expr === 'string' && o.expr.trim() !== '') out.push(o.expr);
    for (const v of Object.values(o)) exprsOf(v, out);
  }
  return out;
}

const queries = readdirSync(DASHBOARDS)
  .filter((f) => f.endsWith('.json'))
  .flatMap((file) =>
    exprsOf(JSON.parse(readFileSync(join(DASHBOARDS, file), 'utf8'))).map((expr) => ({ file, expr })),
  );

function clean(language: QueryLanguage, text: string): boolean {
  return syntaxErrors(parse(language, maskVariables(text)), text.length).length === 0;
}

describe('fixture dashboard queries', () => {
  it('there are queries to check', () => expect(queries.length).toBeGreaterThan(100));

  it('each parses in PromQL or LogQL once variables are masked', () => {
    const failing = queries.filter((q) => !clean('promql', q.expr) && !clean('logql', q.expr));
    expect(failing).toEqual([]);
  });

  it('the completion context is found at every position of every query', () => {
    for (const { expr } of queries) {
      const language: QueryLanguage = clean('promql', expr) ? 'promql' : 'logql';
      const tree = parse(language, expr);
      for (let pos = 0; pos <= expr.length; pos++) {
        const s = completionSituation(language, expr, pos, tree);
        if (s.kind !== 'none') {
          expect(s.from).toBeGreaterThanOrEqual(0);
          expect(s.from).toBeLessThanOrEqual(pos);
          expect(expr.slice(s.from, pos)).toBe(s.prefix);
        }
      }
    }
  });
});

/** The JSON body of a recorded answer: Prometheus' are bare JSON, Loki's whole HTTP responses. */
function recorded(dir: string, name: string): unknown {
  const text = readFileSync(join(SHARED, 'fixtures', dir, name), 'utf8');
  const body = text.startsWith('HTTP/')
    ? text.slice(text.indexOf('\n\n') >= 0 ? text.indexOf('\n\n') + 2 : text.indexOf('\r\n\r\n') + 4)
    : text;
  return JSON.parse(body);
}

function fetcherOf(answers: Record<string, () => unknown>): Fetcher {
  return async (path, params) => {
    const key = 'match[]' in params ? `${path}?match` : path;
    const answer = answers[key] ?? answers[path];
    if (!answer) throw new Error(`no recording for ${key}`);
    return answer();
  };
}

async function complete(
  language: QueryLanguage,
  doc: string,
  fetcher: Fetcher,
): Promise<CompletionResult | null> {
  const source = completionFor(language, { fetcher });
  return source(new CompletionContext(EditorState.create({ doc }), doc.length, true));
}

describe('recorded datasource answers', () => {
  const prom = fetcherOf({
    'api/v1/label/__name__/values': () => recorded('prometheus-api', 'label_values_name.json'),
    'api/v1/metadata': () => recorded('prometheus-api', 'metadata.json'),
    'api/v1/labels': () => recorded('prometheus-api', 'labels.json'),
    'api/v1/labels?match': () => recorded('prometheus-api', 'labels_match.json'),
    'api/v1/label/job/values': () => recorded('prometheus-api', 'label_values.json'),
  });
  const loki = fetcherOf({
    'loki/api/v1/labels': () => recorded('loki-api', 'labels.txt'),
    'loki/api/v1/label/job/values': () => recorded('loki-api', 'label_values.txt'),
    'loki/api/v1/query_range': () => recorded('loki-api', 'query_range_streams.txt'),
  });

  it('Prometheus metric names', async () => {
    const names = (recorded('prometheus-api', 'label_values_name.json') as { data: string[] }).data;
    const r = await complete('promql', 'http_', prom);
    const offered = new Set(r?.options.map((o) => o.label));
    for (const n of names) expect(offered.has(n)).toBe(true);
  });

  it('Prometheus label names for a selector', async () => {
    const r = await complete('promql', 'up{', prom);
    const want = (recorded('prometheus-api', 'labels_match.json') as { data: string[] }).data.filter(
      (n) => n !== '__name__',
    );
    expect(r?.options.map((o) => o.label)).toEqual(want);
  });

  it('Prometheus label values', async () => {
    const r = await complete('promql', '{job="', prom);
    expect(r?.options.map((o) => o.label)).toEqual(
      (recorded('prometheus-api', 'label_values.json') as { data: string[] }).data,
    );
  });

  it('Loki label names and values', async () => {
    const names = await complete('logql', '{', loki);
    expect(names?.options.map((o) => o.label)).toEqual(
      (recorded('loki-api', 'labels.txt') as { data: string[] }).data,
    );
    const values = await complete('logql', '{job="', loki);
    expect(values?.options.map((o) => o.label)).toEqual(
      (recorded('loki-api', 'label_values.txt') as { data: string[] }).data,
    );
  });

  it('Loki parsed labels from a recorded log sample', async () => {
    const r = await complete('logql', '{job="demo"} | logfmt | ', loki);
    const sample = recorded('loki-api', 'query_range_streams.txt') as {
      data: { result: { stream: Record<string, string> }[] };
    };
    const offered = new Set(r?.options.map((o) => o.label));
    for (const k of Object.keys(sample.data.result[0].stream)) expect(offered.has(k)).toBe(true);
  });
});
