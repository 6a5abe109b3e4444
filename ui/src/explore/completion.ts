// The editor's completion sources: what completionContext.ts says applies at the cursor, filled with
// names from the datasource (metric names, label names and values through Grafana's datasource proxy)
// and the fixed lists of functions.ts. The HTTP side is a `Fetcher` the caller passes in, so tests use
// a fake one.
import type {
  Completion,
  CompletionContext,
  CompletionResult,
  CompletionSource,
} from '@codemirror/autocomplete';
import { syntaxTree } from '@codemirror/language';
import type { EditorView } from '@codemirror/view';
import { completionSituation, type LabelMatcher, type LabelScope, type Situation } from './completionContext';
import {
  DURATIONS,
  type FunctionInfo,
  LOGQL_AGGREGATIONS,
  LOGQL_OTHER_FUNCTIONS,
  LOGQL_PIPELINE_STAGES,
  LOGQL_RANGE_FUNCTIONS,
  PROMQL_AGGREGATIONS,
  PROMQL_FUNCTIONS,
  PROMQL_KEYWORDS,
} from './functions';
import type { QueryLanguage, Tree } from './syntax';

/**
 * GETs a datasource API path (relative to the datasource, e.g. `api/v1/labels`) with query parameters
 * (an array repeats its key) and answers the decoded JSON body; rejects on an HTTP or network error.
 * The shell's `datasourceProxy(uid)` (src/api.ts) is one.
 */
export type Fetcher = (path: string, params: Record<string, string | string[]>) => Promise<unknown>;

export interface CompletionOptions {
  fetcher: Fetcher;
  /** The time range lookups cover (epoch ms); without it the datasource's default applies. */
  timeRange?: () => { from: number; to: number };
}

/** How long an answer from the datasource is reused. */
const CACHE_MS = 60_000;

class Cache {
  private entries = new Map<string, { at: number; value: Promise<unknown> }>();

  get<T>(key: string, load: () => Promise<T>): Promise<T> {
    const now = Date.now();
    const hit = this.entries.get(key);
    if (hit && now - hit.at < CACHE_MS) return hit.value as Promise<T>;
    const value = load();
    this.entries.set(key, { at: now, value });
    // A failed lookup is not remembered: the next keystroke tries again.
    value.catch(() => this.entries.delete(key));
    return value;
  }
}

/** `data` of a Prometheus/Loki API envelope, when it is a list of strings. */
function stringList(body: unknown): string[] {
  const data = (body as { data?: unknown } | null)?.data;
  return Array.isArray(data) ? data.filter((v): v is string => typeof v === 'string') : [];
}

/** Renders matchers as a selector, `metric{a="b"}`, for `match[]` and `query` parameters. */
export function selectorOf(metric: string | undefined, matchers: LabelMatcher[]): string {
  const inner = matchers.map((m) => `${m.name}${m.op}${JSON.stringify(m.value)}`).join(',');
  return `${metric ?? ''}{${inner}}`;
}

/** Characters with a meaning in a regular expression, escaped so that a value matches itself. */
export function escapeRegex(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The text that completes a label value, given the matcher's operator and whether a quote is open. */
export function labelValueText(value: string, op: string, quoted: boolean): string {
  const raw = op === '=~' || op === '!~' ? escapeRegex(value) : value;
  const escaped = JSON.stringify(raw).slice(1, -1);
  return quoted ? escaped : `"${escaped}"`;
}

/** Inserts `name()` with the cursor between the parentheses. */
function applyCall(view: EditorView, completion: Completion, from: number, to: number): void {
  const text = `${completion.label}()`;
  view.dispatch({
    changes: { from, to, insert: text },
    selection: { anchor: from + text.length - 1 },
    userEvent: 'input.complete',
  });
}

function functionOptions(list: FunctionInfo[], type: string, boost = 0): Completion[] {
  return list.map((f) => ({
    label: f.name,
    type,
    detail: f.signature,
    info: f.info,
    apply: applyCall,
    boost,
  }));
}

function labelNameOptions(names: string[], scope: LabelScope): Completion[] {
  const used = new Set(scope.matchers.map((m) => m.name));
  return names
    .filter((n) => !used.has(n) && !(n === '__name__' && scope.metric))
    .map((n) => ({ label: n, type: 'property' }));
}

function valueOptions(values: string[], situation: Extract<Situation, { kind: 'labelValue' }>): Completion[] {
  return values.map((v) => ({
    label: v,
    type: 'text',
    apply: labelValueText(v, situation.op, situation.quoted),
  }));
}

function durationOptions(): Completion[] {
  return DURATIONS.map((d, i) => ({ label: d, type: 'constant', boost: -i }));
}

function treeFor(context: CompletionContext): Tree | undefined {
  const tree = syntaxTree(context.state);
  return tree.length === context.state.doc.length ? tree : undefined;
}

/** Answers nothing unless something is typed or completion was asked for (Ctrl-Space). */
function wanted(context: CompletionContext, situation: Situation): boolean {
  if (situation.kind === 'none') return false;
  if (context.explicit) return true;
  if (situation.kind === 'expression' || situation.kind === 'operator') return situation.prefix.length > 0;
  return true;
}

/** PromQL completion against a Prometheus datasource. */
export function promqlCompletion(options: CompletionOptions): CompletionSource {
  const cache = new Cache();
  const timeParams = (): [string, string][] => {
    const range = options.timeRange?.();
    if (!range) return [];
    return [
      ['start', String(Math.floor(range.from / 1000))],
      ['end', String(Math.ceil(range.to / 1000))],
    ];
  };
  const get = (path: string, params: [string, string][]) => {
    // The cache key leaves the time range out: a lookup a minute later is still a good answer.
    const all = Object.fromEntries([...params, ...timeParams()]);
    return cache.get(`${path}?${new URLSearchParams(params)}`, () => options.fetcher(path, all));
  };
  const matchParams = (scope: LabelScope): [string, string][] =>
    scope.metric || scope.matchers.length > 0 ? [['match[]', selectorOf(scope.metric, scope.matchers)]] : [];

  const metricOptions = async (): Promise<Completion[]> => {
    const [names, metadata] = await Promise.all([
      get('api/v1/label/__name__/values', []).then(stringList),
      get('api/v1/metadata', []).catch(() => null),
    ]);
    const meta = ((metadata as { data?: unknown } | null)?.data ?? {}) as Record<
      string,
      { type?: string; help?: string }[]
    >;
    return names.map((name) => {
      const m = meta[name]?.[0] ?? meta[name.replace(/_(bucket|count|sum|total)$/, '')]?.[0];
      return { label: name, type: 'variable', detail: m?.type, info: m?.help || undefined, boost: -1 };
    });
  };

  return async (context) => {
    const text = context.state.doc.toString();
    const situation = completionSituation('promql', text, context.pos, treeFor(context));
    if (!wanted(context, situation) || situation.kind === 'none') return null;
    const result = (options: Completion[], validFor: RegExp): CompletionResult => ({
      from: situation.from,
      options,
      validFor,
    });
    switch (situation.kind) {
      case 'expression': {
        const metrics = await metricOptions().catch(() => []);
        return result(
          [
            ...functionOptions(PROMQL_AGGREGATIONS, 'keyword', 1),
            ...functionOptions(PROMQL_FUNCTIONS, 'function'),
            ...metrics,
          ],
          /^[A-Za-z0-9_:]*$/,
        );
      }
      case 'labelName': {
        const names = await get('api/v1/labels', matchParams(situation)).then(stringList);
        return result(labelNameOptions(names, situation), /^[A-Za-z0-9_]*$/);
      }
      case 'labelValue': {
        const path = `api/v1/label/${encodeURIComponent(situation.label)}/values`;
        const values = await get(path, matchParams(situation)).then(stringList);
        return result(valueOptions(values, situation), situation.quoted ? /^[^"\\]*$/ : /^[A-Za-z0-9_]*$/);
      }
      case 'duration':
        return result(durationOptions(), /^[A-Za-z0-9_$]*$/);
      case 'operator':
        return result(
          PROMQL_KEYWORDS.map((k) => ({ label: k, type: 'keyword' })),
          /^[A-Za-z_]*$/,
        );
      default:
        return null;
    }
  };
}

/** A Loki streams answer's label sets (`data.result[].stream`). */
function streamLabels(body: unknown): Record<string, string>[] {
  const result = (body as { data?: { result?: unknown } } | null)?.data?.result;
  if (!Array.isArray(result)) return [];
  return result
    .map((r) => (r as { stream?: unknown; metric?: unknown }).stream ?? (r as { metric?: unknown }).metric)
    .filter((s): s is Record<string, string> => typeof s === 'object' && s !== null);
}

/** LogQL completion against a Loki datasource. */
export function logqlCompletion(options: CompletionOptions): CompletionSource {
  const cache = new Cache();
  const timeParams = (): [string, string][] => {
    const range = options.timeRange?.();
    if (!range) return [];
    return [
      ['start', `${Math.floor(range.from)}000000`],
      ['end', `${Math.ceil(range.to)}000000`],
    ];
  };
  const get = (path: string, params: [string, string][]) => {
    // The cache key leaves the time range out: a lookup a minute later is still a good answer.
    const all = Object.fromEntries([...params, ...timeParams()]);
    return cache.get(`${path}?${new URLSearchParams(params)}`, () => options.fetcher(path, all));
  };
  const queryParams = (scope: LabelScope): [string, string][] =>
    scope.matchers.length > 0 ? [['query', selectorOf(undefined, scope.matchers)]] : [];
  const streamLabelNames = (scope: LabelScope) =>
    get('loki/api/v1/labels', queryParams(scope)).then(stringList);
  /*
   * Labels a parser adds exist only in query results: as Grafana does, a few recent lines of the query so
   * far are fetched and their label sets read.
   */
  const sampleLabels = (logQuery: string | undefined) =>
    logQuery
      ? get('loki/api/v1/query_range', [
          ['query', logQuery],
          ['limit', '20'],
          ['direction', 'backward'],
        ]).then(streamLabels)
      : Promise.resolve([]);
  const pipelineLabelNames = async (scope: LabelScope): Promise<string[]> => {
    const [stream, sampled] = await Promise.all([
      streamLabelNames(scope).catch(() => []),
      sampleLabels(scope.logQuery).catch(() => []),
    ]);
    const names = new Set(stream);
    for (const labels of sampled) for (const k of Object.keys(labels)) names.add(k);
    return [...names].sort();
  };

  return async (context) => {
    const text = context.state.doc.toString();
    const situation = completionSituation('logql', text, context.pos, treeFor(context));
    if (!wanted(context, situation) || situation.kind === 'none') return null;
    const result = (options: Completion[], validFor: RegExp): CompletionResult => ({
      from: situation.from,
      options,
      validFor,
    });
    switch (situation.kind) {
      case 'expression':
        return result(
          [
            ...functionOptions(LOGQL_AGGREGATIONS, 'keyword', 1),
            ...functionOptions(LOGQL_RANGE_FUNCTIONS, 'function'),
            ...functionOptions(LOGQL_OTHER_FUNCTIONS, 'function', -1),
          ],
          /^[A-Za-z0-9_]*$/,
        );
      case 'labelName': {
        const names =
          situation.place === 'selector'
            ? await streamLabelNames(situation)
            : await pipelineLabelNames(situation);
        // Outside the selector, a label the selector already matches may still be grouped or filtered on.
        const scope = situation.place === 'selector' ? situation : { ...situation, matchers: [] };
        return result(labelNameOptions(names, scope), /^[A-Za-z0-9_]*$/);
      }
      case 'labelValue': {
        let values: string[];
        if (situation.place === 'pipeline') {
          const sampled = await sampleLabels(situation.logQuery).catch(() => []);
          values = [...new Set(sampled.map((l) => l[situation.label]).filter((v) => v !== undefined))].sort();
        } else {
          const path = `loki/api/v1/label/${encodeURIComponent(situation.label)}/values`;
          values = await get(path, queryParams(situation)).then(stringList);
        }
        return result(valueOptions(values, situation), situation.quoted ? /^[^"\\]*$/ : /^[A-Za-z0-9_]*$/);
      }
      case 'duration':
        return result(durationOptions(), /^[A-Za-z0-9_$]*$/);
      case 'pipeline': {
        const stages: Completion[] = LOGQL_PIPELINE_STAGES.map((s) => ({
          label: s.label,
          type: 'keyword',
          info: s.info,
          apply: s.insert,
          boost: 1,
        }));
        const labels = await pipelineLabelNames(situation).catch(() => []);
        const filters = labels.map((l) => ({ label: l, type: 'property', detail: 'label filter' }));
        return result([...stages, ...filters], /^[A-Za-z0-9_]*$/);
      }
      default:
        return null;
    }
  };
}

/** The completion source for a query language. */
export function completionFor(language: QueryLanguage, options: CompletionOptions): CompletionSource {
  return language === 'promql' ? promqlCompletion(options) : logqlCompletion(options);
}
