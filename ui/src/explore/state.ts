// Explore's state (datasource, queries, time range) and its form in the URL, as Grafana writes it:
// `/explore?schemaVersion=1&panes={"<id>":{datasource,queries,range}}&orgId=1` (Grafana 10+), and read
// back from that, from `left={datasource,queries,range}` (Grafana 7-9) and from the older compact
// `left=["now-1h","now","<datasource>",{"expr":"..."}]`.
import type { DataSourceRef, DataSourceSettings } from '../dashboard/model';

export interface ExploreQuery {
  refId: string;
  expr: string;
  datasource?: DataSourceRef;
  /** Prometheus: range and/or instant ("Both" sets both). */
  range?: boolean;
  instant?: boolean;
  legendFormat?: string;
  editorMode?: string;
  /** Loki: 'range' | 'instant'. */
  queryType?: string;
  /** Loki: the line limit of log queries. */
  maxLines?: number;
  [key: string]: unknown;
}

export interface ExplorePane {
  /** The datasource's uid (older URLs may hold its name; resolveDatasource accepts both). */
  datasource?: string;
  queries: ExploreQuery[];
  range: { from: string; to: string };
}

export const DEFAULT_RANGE = { from: 'now-1h', to: 'now' };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseJSON(text: string | null): unknown {
  if (!text) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** A time as the URL holds it: date math (`now-6h`) or epoch ms, as a string. */
function timeText(v: unknown, fallback: string): string {
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return typeof v === 'string' && v !== '' ? v : fallback;
}

function datasourceText(v: unknown): string | undefined {
  if (typeof v === 'string') return v || undefined;
  if (isObject(v) && typeof v.uid === 'string') return v.uid;
  return undefined;
}

function refIdAt(i: number): string {
  // A..Z, then AA, AB, ... as Grafana names them.
  let n = i;
  let id = '';
  do {
    id = String.fromCharCode(65 + (n % 26)) + id;
    n = Math.floor(n / 26) - 1;
  } while (n >= 0);
  return id;
}

function normaliseQueries(raw: unknown): ExploreQuery[] {
  const list = Array.isArray(raw) ? raw.filter(isObject) : [];
  const seen = new Set<string>();
  let spare = 0;
  return list.map((q, i) => {
    let refId = typeof q.refId === 'string' && q.refId ? q.refId : refIdAt(i);
    while (seen.has(refId)) refId = refIdAt(spare++);
    seen.add(refId);
    const expr = typeof q.expr === 'string' ? q.expr : typeof q.query === 'string' ? q.query : '';
    return { ...q, refId, expr } as ExploreQuery;
  });
}

function paneFrom(obj: Record<string, unknown>): ExplorePane {
  const range = isObject(obj.range) ? obj.range : {};
  return {
    datasource: datasourceText(obj.datasource),
    queries: normaliseQueries(obj.queries),
    range: { from: timeText(range.from, DEFAULT_RANGE.from), to: timeText(range.to, DEFAULT_RANGE.to) },
  };
}

/** The (left) pane a URL's query string describes; undefined when it describes none. */
export function parseExploreParams(params: URLSearchParams): ExplorePane | undefined {
  const panes = parseJSON(params.get('panes'));
  if (isObject(panes)) {
    const first = Object.values(panes).find(isObject);
    if (first) return paneFrom(first);
  }
  const left = parseJSON(params.get('left'));
  if (isObject(left)) return paneFrom(left);
  if (Array.isArray(left)) {
    // Compact form: [from, to, datasource, ...queries].
    const [from, to, datasource, ...queries] = left;
    return paneFrom({ range: { from, to }, datasource, queries });
  }
  return undefined;
}

/** The query string for a pane, in Grafana 10+'s form. `paneId` keeps the id a URL already had. */
export function exploreParams(pane: ExplorePane, paneId = 'explore'): URLSearchParams {
  const value = { datasource: pane.datasource, queries: pane.queries, range: pane.range };
  return new URLSearchParams([
    ['schemaVersion', '1'],
    ['panes', JSON.stringify({ [paneId]: value })],
    ['orgId', '1'],
  ]);
}

/** The id of the first pane of a `panes` URL, to keep it when the URL is rewritten. */
export function paneIdOf(params: URLSearchParams): string | undefined {
  const panes = parseJSON(params.get('panes'));
  return isObject(panes) ? Object.keys(panes)[0] : undefined;
}

export function exploreUrl(pane: ExplorePane, paneId?: string): string {
  return `/explore?${exploreParams(pane, paneId)}`;
}

/** The datasource types Explore can query. */
export const SUPPORTED_TYPES = ['prometheus', 'loki'];

/**
 * The datasource a pane names (uid first, then name), else the default one when Explore supports it,
 * else the first supported one.
 */
export function resolveDatasource(
  wanted: string | undefined,
  datasources: DataSourceSettings[],
  defaultName?: string,
): DataSourceSettings | undefined {
  const usable = datasources.filter((d) => SUPPORTED_TYPES.includes(d.type));
  if (wanted) {
    const found = usable.find((d) => d.uid === wanted) ?? usable.find((d) => d.name === wanted);
    if (found) return found;
  }
  return usable.find((d) => d.name === defaultName) ?? usable.find((d) => d.isDefault) ?? usable[0];
}

/** A query with the defaults of its datasource's type filled in, as Grafana's query editors set them. */
export function withDefaults(query: ExploreQuery, ds: DataSourceSettings): ExploreQuery {
  const datasource = { type: ds.type, uid: ds.uid };
  if (ds.type === 'loki') {
    const maxLines =
      typeof query.maxLines === 'number' && query.maxLines > 0 ? query.maxLines : lokiMaxLines(ds);
    return { ...query, datasource, queryType: query.queryType === 'instant' ? 'instant' : 'range', maxLines };
  }
  // Explore's Prometheus default, when a query says neither, is "Both": the graph from the range
  // query, the table from the instant one.
  const unset = query.range == null && query.instant == null;
  return {
    ...query,
    datasource,
    range: unset ? true : query.range === true,
    instant: unset ? true : query.instant === true,
  };
}

/** The datasource's configured line limit (`jsonData.maxLines`), else Grafana's 1000. */
export function lokiMaxLines(ds: DataSourceSettings): number {
  const configured = Number(ds.jsonData?.maxLines);
  return Number.isFinite(configured) && configured > 0 ? configured : 1000;
}

/** The next unused refId for an added query. */
export function nextRefId(queries: ExploreQuery[]): string {
  const used = new Set(queries.map((q) => q.refId));
  for (let i = 0; ; i++) {
    const id = refIdAt(i);
    if (!used.has(id)) return id;
  }
}

/** A new pane for a datasource: one empty query. */
export function emptyPane(ds: DataSourceSettings | undefined, range = DEFAULT_RANGE): ExplorePane {
  const query: ExploreQuery = { refId: 'A', expr: '' };
  return { datasource: ds?.uid, queries: [ds ? withDefaults(query, ds) : query], range: { ...range } };
}
