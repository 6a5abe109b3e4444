// The Explore page (`/explore`): pick a Prometheus or Loki datasource, write queries in the CodeMirror
// editor, run them over a time range, see a graph and a table (metric queries) or the log lines (Loki
// log queries). The pane (datasource, queries, range) lives in the URL as Grafana writes it, so a link
// or back/forward restores it and runs it.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { datasourceProxy, dsQuery, getFrontendSettings } from '../api';
import type { DataSourceSettings, Panel } from '../dashboard/model';
import { describeTimeRange, parseTimeRange, QUICK_RANGES } from '../dashboard/time';
import { applyFieldOverrides } from '../data/fieldOverrides';
import type { DataFrame } from '../data/frame';
import { getPanelComponent } from '../panels/registry';
import type { Fetcher } from './completion';
import { QueryEditor } from './QueryEditor';
import { buildRequest, type ExploreData, isLogQuery, splitResults } from './query';
import {
  type ExplorePane,
  type ExploreQuery,
  emptyPane,
  exploreUrl,
  nextRefId,
  paneIdOf,
  parseExploreParams,
  resolveDatasource,
  SUPPORTED_TYPES,
  withDefaults,
} from './state';

const GRAPH_HEIGHT = 300;
/** The table and the logs are as tall as their rows, within these bounds (then they scroll). */
const TABLE_ROW = 36;
const TABLE_MAX = 400;
const LOG_ROW = 22;
const LOGS_MAX = 800;
/** A result section's padding and border: the panel draws inside them. */
const SECTION_INSET = 18;

/** The shell router's event for in-app navigation (src/router.ts). */
const LOCATION_CHANGE = 'vigil:locationchange';
/** Raised when this page rewrites its own URL, so that it does not restore what it wrote. */
const WROTE_URL = 'vigil:explore-url';

function writeUrl(url: string, replace: boolean): void {
  if (url === window.location.pathname + window.location.search) return;
  if (replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  window.dispatchEvent(new Event(WROTE_URL));
}

/** The pane in the current URL, its queries completed with their datasource's defaults. */
function paneFromLocation(datasources: DataSourceSettings[], defaultName?: string): ExplorePane {
  const parsed = parseExploreParams(new URLSearchParams(window.location.search));
  const ds = resolveDatasource(parsed?.datasource, datasources, defaultName);
  if (!parsed || parsed.queries.length === 0) return emptyPane(ds, parsed?.range);
  return {
    datasource: ds?.uid,
    queries: ds ? parsed.queries.map((q) => withDefaults(q, ds)) : parsed.queries,
    range: parsed.range,
  };
}

export function Explore() {
  const [datasources, setDatasources] = useState<DataSourceSettings[] | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [pane, setPane] = useState<ExplorePane | null>(null);
  const [data, setData] = useState<ExploreData | null>(null);
  const [requestError, setRequestError] = useState<string | null>(null);
  const [running, setRunning] = useState(false);
  const [width, setWidth] = useState(1000);
  const defaultName = useRef<string | undefined>(undefined);
  const paneId = useRef<string | undefined>(undefined);
  const inflight = useRef<AbortController | null>(null);
  const results = useRef<HTMLDivElement>(null);
  // Handlers created once (editor keys, popstate) read the latest pane through this ref.
  const paneRef = useRef(pane);
  paneRef.current = pane;

  const ds = useMemo(
    () =>
      datasources && pane ? resolveDatasource(pane.datasource, datasources, defaultName.current) : undefined,
    [datasources, pane?.datasource],
  );
  const fetcher = useMemo<Fetcher | null>(() => (ds ? datasourceProxy(ds.uid) : null), [ds?.uid]);

  const run = useCallback(
    async (target: ExplorePane | null = paneRef.current, push = true) => {
      if (!target || !datasources) return;
      const source = resolveDatasource(target.datasource, datasources, defaultName.current);
      if (!source) return;
      if (push) writeUrl(exploreUrl(target, paneId.current), false);
      const range = parseTimeRange(target.range);
      const request = buildRequest(target.queries, source, range, Math.max(100, Math.round(width)));
      inflight.current?.abort();
      inflight.current = null;
      if (request.queries.length === 0) {
        setRunning(false);
        setData(null);
        setRequestError(null);
        return;
      }
      const controller = new AbortController();
      inflight.current = controller;
      setRunning(true);
      try {
        const answer = Object.values((await dsQuery(request, controller.signal)).results);
        if (controller.signal.aborted) return;
        setData(splitResults(answer));
        setRequestError(null);
      } catch (e) {
        if (controller.signal.aborted) return;
        setData(null);
        setRequestError(e instanceof Error ? e.message : String(e));
      } finally {
        if (inflight.current === controller) {
          inflight.current = null;
          setRunning(false);
        }
      }
    },
    [datasources, width],
  );
  const runRef = useRef(run);
  runRef.current = run;

  // Datasources first; then the URL's pane, run at once when it holds a query.
  useEffect(() => {
    getFrontendSettings()
      .then((settings) => {
        const list = Object.values(settings.datasources ?? {});
        defaultName.current = settings.defaultDatasource;
        setDatasources(list);
      })
      .catch((e: unknown) => setLoadError(e instanceof Error ? e.message : String(e)));
  }, []);

  useEffect(() => {
    if (!datasources) return;
    // The URL this page wrote last: a location event that lands on it is the page's own doing.
    let seen: string | undefined;
    const restore = () => {
      if (window.location.pathname !== '/explore' || window.location.search === seen) return;
      seen = window.location.search;
      paneId.current = paneIdOf(new URLSearchParams(window.location.search));
      const restored = paneFromLocation(datasources, defaultName.current);
      setPane(restored);
      if (restored.queries.some((q) => q.expr.trim() !== '')) void runRef.current(restored, false);
      else setData(null);
    };
    restore();
    const onWrite = () => {
      seen = window.location.search;
    };
    // Back/forward, and the shell router's in-app navigation event.
    window.addEventListener('popstate', restore);
    window.addEventListener(LOCATION_CHANGE, restore);
    window.addEventListener(WROTE_URL, onWrite);
    return () => {
      window.removeEventListener('popstate', restore);
      window.removeEventListener(LOCATION_CHANGE, restore);
      window.removeEventListener(WROTE_URL, onWrite);
    };
  }, [datasources]);

  // The graph's data points follow the width of the results, as Grafana's maxDataPoints does.
  useEffect(() => {
    const el = results.current;
    if (!el || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver((entries) => {
      const w = entries[0]?.contentRect.width;
      if (w) setWidth((old) => (Math.abs(old - w) > 1 ? w : old));
    });
    observer.observe(el);
    return () => observer.disconnect();
  }, [results.current]);

  useEffect(() => () => inflight.current?.abort(), []);

  if (loadError) return <div class="explore-page explore-alert">Could not load datasources: {loadError}</div>;
  if (!datasources || !pane) return <div class="explore-page">Loading…</div>;

  const usable = datasources.filter((d) => SUPPORTED_TYPES.includes(d.type));
  // Handlers start from the newest pane: the editor updates it between renders.
  const latest = (): ExplorePane => paneRef.current ?? pane;
  const setQueries = (queries: ExploreQuery[]) => setPane({ ...latest(), queries });
  // As Grafana's query editors do, a changed option (type, line limit, hiding) runs the queries again.
  const updateQuery = (i: number, change: Partial<ExploreQuery>) => {
    const base = latest();
    const changed = { ...base, queries: base.queries.map((q, j) => (j === i ? { ...q, ...change } : q)) };
    setPane(changed);
    if (changed.queries.some((q) => q.expr.trim() !== '')) void run(changed);
  };

  const changeDatasource = (uid: string) => {
    const next = usable.find((d) => d.uid === uid);
    if (!next) return;
    // Queries carry over between datasources of one type; another type starts from an empty query.
    const keep = ds?.type === next.type;
    const base = latest();
    const queries = keep ? base.queries.map((q) => withDefaults(q, next)) : emptyPane(next).queries;
    const changed = { ...base, datasource: next.uid, queries };
    setPane(changed);
    setData(null);
    setRequestError(null);
    writeUrl(exploreUrl(changed, paneId.current), true);
  };

  const changeRange = (range: { from: string; to: string }) => {
    const changed = { ...latest(), range };
    setPane(changed);
    void run(changed);
  };

  const timeRange = parseTimeRange(pane.range);
  const language = ds?.type === 'loki' ? 'logql' : 'promql';

  return (
    <div class="explore-page" data-testid="explore">
      <div class="explore-toolbar">
        <select
          class="explore-select"
          aria-label="Data source"
          data-testid="datasource-picker"
          value={ds?.uid ?? ''}
          onChange={(e) => changeDatasource((e.target as HTMLSelectElement).value)}
        >
          {usable.length === 0 && <option value="">No Prometheus or Loki datasource</option>}
          {usable.map((d) => (
            <option key={d.uid} value={d.uid}>
              {d.name}
            </option>
          ))}
        </select>
        <div class="explore-spacer" />
        <TimeRangeSelect range={pane.range} onChange={changeRange} />
        <button
          type="button"
          class="explore-button explore-run"
          data-testid="run-query"
          disabled={!ds}
          onClick={() => void run()}
        >
          {running ? 'Running…' : 'Run query'}
        </button>
      </div>

      <div class="explore-queries">
        {ds &&
          fetcher &&
          pane.queries.map((q, i) => (
            <div class="explore-query" key={q.refId} data-testid={`query-row-${q.refId}`}>
              <div class="explore-query-header">
                <span class="explore-refid">{q.refId}</span>
                <span class="explore-dsname">({ds.name})</span>
                <div class="explore-spacer" />
                <button
                  type="button"
                  class="explore-icon-button explore-text-button"
                  aria-pressed={q.hide === true}
                  aria-label={`${q.hide ? 'Enable' : 'Disable'} query ${q.refId}`}
                  onClick={() => updateQuery(i, { hide: !q.hide })}
                >
                  {q.hide ? 'Disabled' : 'Enabled'}
                </button>
                {pane.queries.length > 1 && (
                  <button
                    type="button"
                    class="explore-icon-button"
                    aria-label={`Remove query ${q.refId}`}
                    onClick={() => {
                      const base = latest();
                      const changed = { ...base, queries: base.queries.filter((_, j) => j !== i) };
                      setPane(changed);
                      void run(changed);
                    }}
                  >
                    ×
                  </button>
                )}
              </div>
              <QueryEditor
                value={q.expr}
                language={language}
                fetcher={fetcher}
                timeRange={() => timeRange}
                onChange={(expr) => {
                  const current = paneRef.current;
                  if (!current) return;
                  const next = {
                    ...current,
                    queries: current.queries.map((x) => (x.refId === q.refId ? { ...x, expr } : x)),
                  };
                  // At once, so that a run key pressed before the next render sends this text.
                  paneRef.current = next;
                  setPane(next);
                }}
                onRun={() => void runRef.current()}
              />
              <QueryOptions query={q} type={ds.type} onChange={(change) => updateQuery(i, change)} />
            </div>
          ))}
        {ds && (
          <button
            type="button"
            class="explore-button explore-secondary"
            onClick={() =>
              setQueries([
                ...latest().queries,
                withDefaults({ refId: nextRefId(latest().queries), expr: '' }, ds),
              ])
            }
          >
            + Add query
          </button>
        )}
      </div>

      <div class="explore-results" ref={results}>
        {requestError && (
          <div class="explore-alert" role="alert" data-testid="explore-error">
            {requestError}
          </div>
        )}
        {data?.errors.map((e) => (
          <div class="explore-alert" role="alert" key={e.refId} data-testid="explore-error">
            <strong>{e.refId}:</strong> {e.message}
          </div>
        ))}
        {data && (
          <Results
            data={data}
            width={width}
            timeRange={timeRange}
            logQuery={ds?.type === 'loki' && pane.queries.some((q) => isLogQuery(q.expr))}
            onChangeTimeRange={(r) =>
              changeRange({ from: String(Math.round(r.from)), to: String(Math.round(r.to)) })
            }
          />
        )}
      </div>
    </div>
  );
}

function TimeRangeSelect({
  range,
  onChange,
}: {
  range: { from: string; to: string };
  onChange: (range: { from: string; to: string }) => void;
}) {
  const current = QUICK_RANGES.findIndex((r) => r.from === range.from && r.to === range.to);
  return (
    <select
      class="explore-select"
      aria-label="Time range"
      data-testid="time-range"
      value={current >= 0 ? String(current) : 'custom'}
      onChange={(e) => {
        const r = QUICK_RANGES[Number((e.target as HTMLSelectElement).value)];
        if (r) onChange({ from: r.from, to: r.to });
      }}
    >
      {current < 0 && <option value="custom">{describeTimeRange(range)}</option>}
      {QUICK_RANGES.map((r, i) => (
        <option key={r.display} value={String(i)}>
          {r.display}
        </option>
      ))}
    </select>
  );
}

function RadioGroup<T extends string>({
  label,
  name,
  value,
  options,
  onChange,
}: {
  label: string;
  /** The radio group's name: unique per query row. */
  name: string;
  value: T;
  options: [T, string][];
  onChange: (v: T) => void;
}) {
  return (
    <div class="explore-option" role="radiogroup" aria-label={label}>
      <span class="explore-option-label">{label}</span>
      {options.map(([v, text]) => (
        <label key={v} class={v === value ? 'explore-radio active' : 'explore-radio'}>
          <input type="radio" name={name} value={v} checked={v === value} onChange={() => onChange(v)} />
          {text}
        </label>
      ))}
    </div>
  );
}

type PromType = 'range' | 'instant' | 'both';

function QueryOptions({
  query,
  type,
  onChange,
}: {
  query: ExploreQuery;
  type: string;
  onChange: (change: Partial<ExploreQuery>) => void;
}) {
  if (type === 'loki') {
    return (
      <div class="explore-options">
        <RadioGroup
          label="Query type"
          name={`query-type-${query.refId}`}
          value={query.queryType === 'instant' ? 'instant' : 'range'}
          options={[
            ['range', 'Range'],
            ['instant', 'Instant'],
          ]}
          onChange={(v) => onChange({ queryType: v })}
        />
        <label class="explore-option">
          <span class="explore-option-label">Line limit</span>
          <input
            class="explore-input"
            type="number"
            min={1}
            value={query.maxLines ?? 1000}
            onChange={(e) => {
              const n = Number((e.target as HTMLInputElement).value);
              if (Number.isInteger(n) && n > 0) onChange({ maxLines: n });
            }}
          />
        </label>
        <LegendInput query={query} onChange={onChange} />
      </div>
    );
  }
  const kind: PromType = query.range && query.instant ? 'both' : query.instant ? 'instant' : 'range';
  return (
    <div class="explore-options">
      <RadioGroup<PromType>
        label="Type"
        name={`query-type-${query.refId}`}
        value={kind}
        options={[
          ['range', 'Range'],
          ['instant', 'Instant'],
          ['both', 'Both'],
        ]}
        onChange={(v) => onChange({ range: v !== 'instant', instant: v !== 'range' })}
      />
      <LegendInput query={query} onChange={onChange} />
    </div>
  );
}

function LegendInput({
  query,
  onChange,
}: {
  query: ExploreQuery;
  onChange: (c: Partial<ExploreQuery>) => void;
}) {
  return (
    <label class="explore-option">
      <span class="explore-option-label">Legend</span>
      <input
        class="explore-input"
        placeholder="Auto, or {{label}}"
        value={query.legendFormat && query.legendFormat !== '__auto' ? query.legendFormat : ''}
        onChange={(e) => onChange({ legendFormat: (e.target as HTMLInputElement).value || undefined })}
      />
    </label>
  );
}

/** A panel object for one of Explore's result views. */
function explorePanel(
  type: string,
  options: Record<string, unknown>,
  custom: Record<string, unknown> = {},
): Panel {
  return {
    id: 1,
    type,
    title: '',
    gridPos: { x: 0, y: 0, w: 24, h: 8 },
    fieldConfig: { defaults: { custom }, overrides: [] },
    options,
  };
}

const GRAPH_PANEL = explorePanel(
  'timeseries',
  {
    legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
    tooltip: { mode: 'single', sort: 'none' },
  },
  {
    drawStyle: 'line',
    lineWidth: 1,
    fillOpacity: 0,
    showPoints: 'never',
    pointSize: 5,
    lineInterpolation: 'linear',
  },
);
const TABLE_PANEL = explorePanel('table', { showHeader: true, cellHeight: 'sm' });
const LOGS_PANEL = explorePanel('logs', {
  showTime: true,
  showLabels: false,
  showCommonLabels: false,
  wrapLogMessage: true,
  prettifyLogMessage: false,
  enableLogDetails: true,
  dedupStrategy: 'none',
  sortOrder: 'Descending',
});

function withConfig(frames: DataFrame[], panel: Panel): DataFrame[] {
  return applyFieldOverrides(frames, panel.fieldConfig, (s) => s);
}

function Results({
  data,
  width,
  timeRange,
  logQuery,
  onChangeTimeRange,
}: {
  data: ExploreData;
  width: number;
  timeRange: { from: number; to: number };
  logQuery: boolean;
  onChangeTimeRange: (range: { from: number; to: number }) => void;
}) {
  const Graph = getPanelComponent('timeseries');
  const Table = getPanelComponent('table');
  const Logs = getPanelComponent('logs');
  const inner = Math.max(100, width - SECTION_INSET);
  const rows = (frames: DataFrame[]) => frames.reduce((n, f) => n + f.length, 0);
  const tableHeight = Math.min(TABLE_MAX, TABLE_ROW * (rows(data.table) + 1) + 8);
  const logsHeight = Math.min(LOGS_MAX, Math.max(120, LOG_ROW * rows(data.logs) + 16));
  const common = {
    width: inner,
    timeRange,
    onChangeTimeRange,
    replaceVariables: (s: string) => s,
    timeZone: 'browser',
  };
  const nothing = data.graph.length === 0 && data.table.length === 0 && data.logs.length === 0;
  return (
    <>
      {data.graph.length > 0 && (
        <section class="explore-section" data-testid="explore-graph">
          <h2 class="explore-section-title">Graph</h2>
          <Graph
            {...common}
            panel={GRAPH_PANEL}
            frames={withConfig(data.graph, GRAPH_PANEL)}
            height={GRAPH_HEIGHT}
          />
        </section>
      )}
      {data.table.length > 0 && (
        <section class="explore-section" data-testid="explore-table">
          <h2 class="explore-section-title">Table</h2>
          <Table
            {...common}
            panel={TABLE_PANEL}
            frames={withConfig(data.table, TABLE_PANEL)}
            height={tableHeight}
          />
        </section>
      )}
      {data.logs.length > 0 && (
        <section class="explore-section" data-testid="explore-logs">
          <h2 class="explore-section-title">Logs</h2>
          <Logs
            {...common}
            panel={LOGS_PANEL}
            frames={withConfig(data.logs, LOGS_PANEL)}
            height={logsHeight}
          />
        </section>
      )}
      {nothing && data.errors.length === 0 && (
        <div class="explore-empty" data-testid="explore-no-data">
          {logQuery ? 'No logs found.' : 'No data'}
        </div>
      )}
    </>
  );
}
