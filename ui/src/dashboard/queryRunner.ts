// A panel's queries: the /api/ds/query request built from its targets as
// Grafana's PanelQueryRunner does (hidden targets out, datasource per target
// or panel, maxDataPoints, interval, variables interpolated), run with
// cancellation, and the answer decoded into frames with their field config.

import { type DsQuery, type DsQueryRequest, dsQuery, type FrontendSettings, findDatasource } from '../api';
import type { DataFrame } from '../data/frame';
import { type ExplorePane, writeExploreState } from '../router';
import {
  type BuiltinValue,
  builtinVariables,
  DEFAULT_SCRAPE_MS,
  frontendBuiltins,
  intervalToMs,
  panelInterval,
} from './interval';
import type { ScopedVars } from './layout';
import type { DataSourceRef, DataSourceSettings, Panel, Target } from './model';
import { applyPanelTimeOverrides, type TimeRange } from './time';

/** Grafana's pseudo datasources: a panel whose targets each name their own, and the built-in one. */
export const MIXED_DATASOURCE = '-- Mixed --';
export const GRAFANA_DATASOURCE = '-- Grafana --';
export const DASHBOARD_DATASOURCE = '-- Dashboard --';

/**
 * Interpolates dashboard variables (and the scoped builtins) in `text`; with a datasource type, multi
 * values take that datasource's format (Prometheus and Loki: regex-escaped `(a|b)`); with
 * `DISPLAY_TEXT`, variables give their display text (`a + b`, `All`), as Grafana titles do.
 */
export type Interpolator = (
  text: string,
  scoped: Record<string, BuiltinValue>,
  datasourceType?: string,
  /** A repeated panel's own values (`scopedVars`), which win over the dashboard's. */
  scopedVars?: ScopedVars,
) => string;

/** The Interpolator's "type" for titles and descriptions: Grafana's `text` format. */
export const DISPLAY_TEXT = 'text';

export interface QueryContext {
  settings: FrontendSettings;
  /** The dashboard's resolved time range, epoch ms, and what the user wrote. */
  range: TimeRange;
  /** The dashboard's time zone (date math of panel time overrides). */
  timeZone?: string;
  /** The panel's content width in px (the default maxDataPoints). */
  width: number;
  interpolate: Interpolator;
  /** The moment relative times are resolved against (panel time overrides). */
  now?: number;
}

export interface PanelQueryPlan {
  /** The request to send; undefined when the panel has nothing to query. */
  request?: DsQueryRequest;
  /** The panel's time range after its `timeFrom`/`timeShift` overrides. */
  range: { from: number; to: number };
  /** Text for the header when the panel overrides the time ("Last 1 hour", "timeshift -1h"). */
  timeInfo?: string;
  interval: string;
  intervalMs: number;
  maxDataPoints: number;
  /** Builtin variables the request was interpolated with. */
  scoped: Record<string, BuiltinValue>;
  /** Our refIds that stand for another (instant half of a range+instant target) → the target's refId. */
  refIdAlias: Record<string, string>;
  /** Why some targets were left out (unknown datasource...). */
  errors: string[];
}

function refKey(ref: DataSourceRef | string | null | undefined): string | undefined {
  if (ref === null || ref === undefined) return undefined;
  if (typeof ref === 'string') return ref;
  return ref.uid;
}

/** Resolves a datasource reference (possibly a `${ds}` variable) to a datasource of the settings. */
export function resolveDatasource(
  ref: DataSourceRef | string | null | undefined,
  ctx: Pick<QueryContext, 'settings' | 'interpolate'>,
): DataSourceSettings | undefined {
  const key = refKey(ref);
  if (key === undefined) {
    if (ref && typeof ref === 'object' && ref.type) return findDatasource(ctx.settings, { type: ref.type });
    return findDatasource(ctx.settings, undefined);
  }
  const name = key.includes('$') ? ctx.interpolate(key, {}) : key;
  return findDatasource(ctx.settings, name);
}

function isPseudo(key: string | undefined): boolean {
  return (
    key === GRAFANA_DATASOURCE ||
    key === DASHBOARD_DATASOURCE ||
    key === 'grafana' ||
    key === '-- Dashboard --'
  );
}

// The datasource's scrape interval in ms, 0 when unset or unreadable.
function scrapeMs(text: string | undefined): number {
  if (!text) return 0;
  try {
    return intervalToMs(text.replace(/^>/, ''));
  } catch {
    return 0;
  }
}

/** Builds the panel's `/api/ds/query` request (pure: no I/O). */
export function buildPanelQuery(panel: Panel, ctx: QueryContext): PanelQueryPlan {
  const plain = (t: string) => ctx.interpolate(t, {});
  const now = ctx.now ?? Date.now();
  const time = applyPanelTimeOverrides(panel, ctx.range, now, { timeZone: ctx.timeZone }, plain);
  const range = { from: time.range.from, to: time.range.to };
  const panelKey = refKey(panel.datasource);
  const mixed = panelKey === MIXED_DATASOURCE;
  const panelDs = mixed ? undefined : resolveDatasource(panel.datasource, ctx);
  // The minimum interval: the panel's own, else its datasource's scrape interval.
  const { interval, intervalMs, maxDataPoints } = panelInterval({
    range,
    maxDataPoints: typeof panel.maxDataPoints === 'number' ? panel.maxDataPoints : undefined,
    widthPx: ctx.width,
    panelInterval:
      typeof panel.interval === 'string' && panel.interval.trim() !== '' ? plain(panel.interval) : undefined,
    dsTimeInterval: panelDs?.jsonData?.timeInterval,
  });
  const info = time.timeInfo.trim() || undefined;

  const errors: string[] = [];
  const refIdAlias: Record<string, string> = {};
  const queries: DsQuery[] = [];
  // What panel components see (display names, links): the panel's interval, its datasource's scrape.
  const panelScrape = scrapeMs(panelDs?.jsonData?.timeInterval);
  const scoped = builtinVariables(
    range,
    { interval, intervalMs },
    panelScrape > 0 ? panelScrape : DEFAULT_SCRAPE_MS,
  );
  for (const target of panel.targets ?? []) {
    if (target.hide) continue;
    const targetKey = refKey(target.datasource);
    if (isPseudo(mixed ? targetKey : panelKey)) continue;
    // Outside a mixed panel, the panel's datasource decides (targets copy it anyway).
    const ds =
      mixed || !panelDs || !panel.datasource
        ? resolveDatasource(target.datasource ?? panel.datasource, ctx)
        : panelDs;
    if (!ds) {
      errors.push(`Datasource ${targetKey ?? panelKey ?? 'default'} was not found`);
      continue;
    }
    queries.push(
      ...targetQueries(target, ds, { range, interval, intervalMs, maxDataPoints, ctx, refIdAlias }),
    );
  }
  const request =
    queries.length > 0
      ? { from: String(Math.round(range.from)), to: String(Math.round(range.to)), queries }
      : undefined;
  return { request, range, timeInfo: info, interval, intervalMs, maxDataPoints, scoped, refIdAlias, errors };
}

interface TargetEnv {
  range: { from: number; to: number };
  interval: string;
  intervalMs: number;
  maxDataPoints: number;
  ctx: QueryContext;
  refIdAlias: Record<string, string>;
}

// Keys of a target that are the panel's business, not the datasource's.
const DROPPED = new Set(['hide', 'datasource']);

function targetQueries(target: Target, ds: DataSourceSettings, env: TargetEnv): DsQuery[] {
  const base: DsQuery = { refId: target.refId, datasource: { type: ds.type, uid: ds.uid } };
  for (const [key, value] of Object.entries(target)) {
    if (!DROPPED.has(key) && !(key in base)) base[key] = value;
  }
  const lokiType =
    target.queryType === 'instant' || target.queryType === 'range'
      ? target.queryType
      : target.instant === true
        ? 'instant'
        : 'range';
  const targetInterval =
    typeof target.interval === 'string' && target.interval !== ''
      ? env.ctx.interpolate(target.interval, {})
      : undefined;
  if (targetInterval !== undefined) base.interval = targetInterval;
  // The built-ins Grafana's Prometheus and Loki backends fill in (the step as `$__interval`, `$__auto`,
  // `$__rate_interval`...) are left for the server, which knows the step; the rest are filled here.
  const scoped = frontendBuiltins(
    builtinVariables(
      env.range,
      { interval: env.interval, intervalMs: env.intervalMs },
      scrapeMs(ds.jsonData?.timeInterval) || DEFAULT_SCRAPE_MS,
    ),
    ds.type,
  );
  if (typeof target.expr === 'string') base.expr = env.ctx.interpolate(target.expr, scoped, ds.type);
  if (typeof target.legendFormat === 'string') base.legendFormat = target.legendFormat;
  base.intervalMs = env.intervalMs;
  base.maxDataPoints = env.maxDataPoints;

  if (ds.type === 'prometheus') {
    base.format = target.format ?? 'time_series';
    const instant = target.instant === true;
    // A target that says neither is a range query, as in Grafana.
    const range = target.range === true || !instant;
    if (range && instant) {
      const instantRef = `${target.refId}-Instant`;
      env.refIdAlias[instantRef] = target.refId;
      return [
        { ...base, range: true, instant: false },
        { ...base, refId: instantRef, range: false, instant: true },
      ];
    }
    return [{ ...base, range, instant }];
  }
  if (ds.type === 'loki') {
    base.queryType = lokiType;
    const dsMax = Number(ds.jsonData?.maxLines);
    base.maxLines =
      typeof target.maxLines === 'number' && target.maxLines > 0
        ? target.maxLines
        : Number.isFinite(dsMax) && dsMax > 0
          ? dsMax
          : 1000;
    base.direction = typeof target.direction === 'string' ? target.direction : 'backward';
    delete base.instant;
    delete base.range;
    return [base];
  }
  return [base];
}

/** A panel's data: its frames (field config not yet applied) or what went wrong. */
export interface PanelData {
  frames: DataFrame[];
  /** Errors by refId (one panel may have a failing and a working query). */
  errors: { refId?: string; message: string }[];
  request?: DsQueryRequest;
}

/** Runs the plan; an aborted run rejects with the AbortError (callers ignore it). */
export async function runPanelQuery(plan: PanelQueryPlan, signal?: AbortSignal): Promise<PanelData> {
  const errors: PanelData['errors'] = plan.errors.map((message) => ({ message }));
  if (!plan.request) return { frames: [], errors };
  try {
    const response = await dsQuery(plan.request, signal);
    const frames: DataFrame[] = [];
    for (const q of plan.request.queries) {
      const result = response.results[q.refId];
      if (!result) continue;
      const refId = plan.refIdAlias[q.refId] ?? q.refId;
      if (result.error) errors.push({ refId, message: result.error });
      for (const frame of result.frames) frames.push({ ...frame, refId });
    }
    return { frames, errors, request: plan.request };
  } catch (err) {
    if (err instanceof DOMException && err.name === 'AbortError') throw err;
    return {
      frames: [],
      errors: [{ message: err instanceof Error ? err.message : String(err) }],
      request: plan.request,
    };
  }
}

/**
 * One panel's runner: a new run cancels the one in flight (its answer would
 * be stale), and `dispose` cancels whatever is running.
 */
export class PanelQueryRunner {
  private controller?: AbortController;

  async run(plan: PanelQueryPlan): Promise<PanelData | undefined> {
    this.controller?.abort();
    const controller = new AbortController();
    this.controller = controller;
    try {
      return await runPanelQuery(plan, controller.signal);
    } catch (err) {
      if (err instanceof DOMException && err.name === 'AbortError') return undefined;
      throw err;
    } finally {
      if (this.controller === controller) this.controller = undefined;
    }
  }

  dispose(): void {
    this.controller?.abort();
    this.controller = undefined;
  }
}

/** `/explore?...` with the panel's queries (variables filled in) on its first datasource and the dashboard's range. */
export function exploreUrl(plan: PanelQueryPlan, raw: { from: string; to: string }): string | undefined {
  const queries = plan.request?.queries ?? [];
  const ds = queries[0]?.datasource;
  if (!ds?.uid) return undefined;
  const halves = new Set(Object.values(plan.refIdAlias));
  const pane: ExplorePane = {
    datasource: ds.uid,
    queries: queries
      .filter((q) => q.datasource.uid === ds.uid && !(q.refId in plan.refIdAlias))
      .map((q) => ({
        refId: q.refId,
        expr: q.expr,
        datasource: q.datasource,
        ...(ds.type === 'prometheus'
          ? { range: q.range, instant: q.instant === true || halves.has(q.refId) }
          : { queryType: q.queryType }),
        ...(typeof q.legendFormat === 'string' ? { legendFormat: q.legendFormat } : {}),
      })),
    range: raw,
  };
  return `/explore${writeExploreState(pane)}`;
}
