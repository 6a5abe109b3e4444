// Running Explore's queries: the /api/ds/query request (built-in variables interpolated, a Prometheus
// "Both" query split into its range and instant halves as Grafana does), its answer decoded into frames,
// and the frames sorted into what Explore shows: graph, table, logs.

import type { DsQuery, DsQueryRequest } from '../api';
import { calculateInterval } from '../dashboard/interval';
import type { DataSourceSettings } from '../dashboard/model';
import type { DataFrame, Field, QueryResult } from '../data/frame';
import type { ExploreQuery } from './state';

/** The refId suffix of the instant half of a Prometheus "Both" query (Grafana's `-Instant`). */
export const INSTANT_SUFFIX = '-Instant';

/** Whether a LogQL expression is a log query (answers lines) rather than a metric query. */
export function isLogQuery(expr: string): boolean {
  return /^\s*\{/.test(expr);
}

/** The query interval; a malformed `timeInterval` is ignored rather than failing every query. */
function intervalFor(range: { from: number; to: number }, maxDataPoints: number, timeInterval?: string) {
  try {
    return calculateInterval(range, maxDataPoints, timeInterval);
  } catch {
    return calculateInterval(range, maxDataPoints);
  }
}

/** The /api/ds/query request for Explore's queries over `range` (epoch ms). Empty queries are left out. */
export function buildRequest(
  queries: ExploreQuery[],
  ds: DataSourceSettings,
  range: { from: number; to: number },
  maxDataPoints: number,
): DsQueryRequest {
  const timeInterval = typeof ds.jsonData?.timeInterval === 'string' ? ds.jsonData.timeInterval : undefined;
  const interval = intervalFor(range, maxDataPoints, timeInterval);
  const intervalMs = interval.intervalMs;
  const datasource = { type: ds.type, uid: ds.uid };
  const out: DsQuery[] = [];
  for (const q of queries) {
    if (!q.expr.trim() || q.hide === true) continue;
    // Built-ins such as `$__interval` and `$__auto` are left in: the server fills them with the step.
    const expr = q.expr;
    const common = { refId: q.refId, datasource, expr, intervalMs, maxDataPoints };
    if (ds.type === 'loki') {
      out.push({
        ...common,
        queryType: q.queryType === 'instant' ? 'instant' : 'range',
        maxLines: q.maxLines ?? 1000,
        direction: 'backward',
        legendFormat: q.legendFormat,
      });
      continue;
    }
    const legendFormat = q.legendFormat || undefined;
    const both = q.range !== false && q.instant === true;
    if (q.range !== false || !q.instant) {
      out.push({ ...common, range: true, instant: false, format: 'time_series', legendFormat });
    }
    if (q.instant) {
      out.push({
        ...common,
        refId: both ? `${q.refId}${INSTANT_SUFFIX}` : q.refId,
        range: false,
        instant: true,
        format: 'table',
        legendFormat,
      });
    }
  }
  return { from: String(Math.floor(range.from)), to: String(Math.ceil(range.to)), queries: out };
}

export interface ExploreData {
  /** Time series for the graph (range queries). */
  graph: DataFrame[];
  /** Frames for the table: instant results, else the range results. */
  table: DataFrame[];
  /** Loki log lines. */
  logs: DataFrame[];
  errors: { refId: string; message: string }[];
}

function isLogFrame(f: DataFrame): boolean {
  return (
    f.meta?.type === 'log-lines' ||
    f.meta?.preferredVisualisationType === 'logs' ||
    f.fields.some((x) => x.name === 'Line')
  );
}

function isInstantFrame(f: DataFrame): boolean {
  return (f.refId?.endsWith(INSTANT_SUFFIX) ?? false) || (f.meta?.type?.startsWith('numeric') ?? false);
}

/** Sorts results into graph, table and logs, keeping every query's error. */
export function splitResults(results: QueryResult[]): ExploreData {
  const data: ExploreData = { graph: [], table: [], logs: [], errors: [] };
  const instant: DataFrame[] = [];
  for (const r of results) {
    // A "Both" query that fails fails twice, the same way: one message per query.
    const refId = r.refId.endsWith(INSTANT_SUFFIX) ? r.refId.slice(0, -INSTANT_SUFFIX.length) : r.refId;
    if (r.error && !data.errors.some((e) => e.refId === refId && e.message === r.error)) {
      data.errors.push({ refId, message: r.error });
    }
    for (const f of r.frames) {
      if (isLogFrame(f)) data.logs.push(f);
      else if (isInstantFrame(f)) instant.push(f);
      else data.graph.push(f);
    }
  }
  const forTable = instant.length > 0 ? instant : data.graph;
  data.table = forTable.length > 0 ? [seriesToTable(forTable)] : [];
  return data;
}

/**
 * One table from labelled series, as Grafana's Explore table shows Prometheus results: a Time column,
 * one column per label (`__name__` first), and a Value column (`Value #<refId>` when several queries).
 */
export function seriesToTable(frames: DataFrame[]): DataFrame {
  const labelNames = new Set<string>();
  const refIds = new Set<string>();
  for (const f of frames) {
    const value = f.fields.find((x) => x.type === 'number');
    for (const k of Object.keys(value?.labels ?? {})) labelNames.add(k);
    refIds.add((f.refId ?? '').replace(INSTANT_SUFFIX, ''));
  }
  const labels = [...labelNames].sort((a, b) =>
    a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b),
  );
  const times: unknown[] = [];
  const columns = labels.map(() => [] as unknown[]);
  const valuesByRef = new Map<string, unknown[]>();
  for (const ref of refIds) valuesByRef.set(ref, []);
  for (const f of frames) {
    const time = f.fields.find((x) => x.type === 'time');
    const value = f.fields.find((x) => x.type === 'number');
    if (!value) continue;
    const ref = (f.refId ?? '').replace(INSTANT_SUFFIX, '');
    for (let i = 0; i < f.length; i++) {
      times.push(time?.values[i] ?? null);
      for (let j = 0; j < labels.length; j++) columns[j].push(value.labels?.[labels[j]] ?? '');
      for (const [r, vals] of valuesByRef) vals.push(r === ref ? value.values[i] : null);
    }
  }
  const fields: Field[] = [
    { name: 'Time', type: 'time', config: {}, values: times },
    ...labels.map((l, j): Field => ({ name: l, type: 'string', config: {}, values: columns[j] })),
    ...[...valuesByRef].map(
      ([ref, vals]): Field => ({
        name: refIds.size > 1 ? `Value #${ref}` : 'Value',
        type: 'number',
        config: {},
        values: vals,
      }),
    ),
  ];
  return {
    refId: [...refIds][0],
    fields,
    length: times.length,
    meta: { preferredVisualisationType: 'table' },
  };
}
