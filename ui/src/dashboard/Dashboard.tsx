// The dashboard view: one state (time range, refresh, variables, rows,
// full-screen panel, inspect drawer) changed by the controls, projected onto
// the URL, and read back from it on back/forward.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { datasourceList, datasourceProxy, type FrontendSettings } from '../api';
import {
  type DashboardUrlState,
  onLocationChange,
  readDashboardUrlState,
  setSearch,
  writeDashboardUrlState,
} from '../router';
import { DashboardGrid } from './DashboardGrid';
import { type DashboardLink, DashboardLinks } from './DashboardLinks';
import { Inspect, type InspectTab } from './Inspect';
import type { BuiltinValue } from './interval';
import {
  collapseRow,
  expandRow,
  findPanel,
  normalizePanels,
  type RepeatValue,
  repeatPanels,
  type ScopedVars,
} from './layout';
import type { Dashboard as DashboardModel, Panel } from './model';
import { PanelChrome, type PanelDataSink, type PanelSnapshot, type PanelStateSink } from './PanelChrome';
import { DISPLAY_TEXT, type Interpolator } from './queryRunner';
import { parseRefreshInterval, RefreshPicker, refreshIntervals } from './RefreshPicker';
import { TimePicker } from './TimePicker';
import {
  isRelativeTimeRange,
  parseTimeRange,
  type QuickRange,
  type RawTimeRange,
  shiftRange,
  type TimeRange,
  toUrlRange,
  zoomOut,
} from './time';
import { VariablesBar } from './VariablesBar';
import {
  ALL_VALUE,
  applyUrlValues,
  formatForDatasource,
  initVariables,
  interpolate,
  type RefreshEnv,
  type RefreshReason,
  refreshVariables,
  setVariableValue,
  toUrlParams,
  type VariableState,
  type VariableValue,
} from './variables';

export interface DashboardProps {
  model: DashboardModel;
  settings: FrontendSettings;
}

/** The performance mark set once the first screen of panels has painted. */
export const PANELS_PAINTED_MARK = 'vigil:panels-painted';

/** What the panels share: the resolved range and the token that a refresh bumps. */
export interface QueryTick {
  range: TimeRange;
  token: number;
  /** The moment the range was resolved (panel time overrides count from it). */
  now: number;
}

function makeTick(raw: RawTimeRange, timeZone: string, token: number): QueryTick {
  const now = Date.now();
  return { range: parseTimeRange(raw, now, { timeZone }), token, now };
}

function timeZoneOf(model: DashboardModel): string {
  return typeof model.timezone === 'string' && model.timezone !== '' ? model.timezone : 'browser';
}

function parseViewPanel(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const n = Number(text.replace(/^panel-/, ''));
  return Number.isFinite(n) ? n : undefined;
}

/** The URL's `var-x` values of the variables (constants and ad hoc filters have none). */
export function variableUrlValues(vars: readonly VariableState[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (const [key, value] of toUrlParams(vars)) {
    const name = key.slice(4);
    out[name] ??= [];
    out[name].push(value);
  }
  return out;
}

function sameValues(a: string[] | undefined, b: string[] | undefined): boolean {
  return (a ?? []).join('\u0000') === (b ?? []).join('\u0000');
}

export function Dashboard({ model, settings }: DashboardProps) {
  const timeZone = timeZoneOf(model);
  const urlAtStart = useMemo(() => readDashboardUrlState(window.location.search), []);
  const kiosk = useMemo(() => new URLSearchParams(window.location.search).has('kiosk'), []);
  const [raw, setRaw] = useState<RawTimeRange>(() => ({
    from: urlAtStart.from ?? model.time?.from ?? 'now-6h',
    to: urlAtStart.to ?? model.time?.to ?? 'now',
  }));
  const [tick, setTick] = useState<QueryTick>(() => makeTick(raw, timeZone, 0));
  const intervals = refreshIntervals(model.timepicker?.refresh_intervals);
  const [refresh, setRefresh] = useState<string>(() => {
    const wanted = urlAtStart.refresh ?? (typeof model.refresh === 'string' ? model.refresh : '');
    return parseRefreshInterval(wanted) ? wanted : '';
  });
  const [vars, setVars] = useState<VariableState[]>(() =>
    initVariables(model.templating?.list, new URLSearchParams(window.location.search)),
  );
  const [varsReady, setVarsReady] = useState(false);
  const [panels, setPanels] = useState<Panel[]>(() => normalizePanels(model.panels ?? []));
  const [viewPanel, setViewPanel] = useState<number | undefined>(parseViewPanel(urlAtStart.viewPanel));
  const [inspect, setInspect] = useState<{ id: number; tab: InspectTab } | undefined>(() => {
    const id = parseViewPanel(urlAtStart.inspect);
    return id === undefined ? undefined : { id, tab: (urlAtStart.inspectTab as InspectTab) ?? 'data' };
  });
  const snapshots = useRef(new Map<number, PanelSnapshot>());
  const [snapshotVersion, setSnapshotVersion] = useState(0);

  const env = useCallback(
    (range: TimeRange): RefreshEnv => ({
      datasources: datasourceList(settings),
      defaultDatasource: settings.defaultDatasource,
      fetcherFor: (ds) => datasourceProxy(ds.uid),
      range,
      builtins: dashboardBuiltins(model, range),
    }),
    [settings, model],
  );

  // Brings variables up to date (options, values) and reports a circular dependency.
  const refreshVars = useCallback(
    async (list: VariableState[], reason: RefreshReason, range: TimeRange): Promise<VariableState[]> => {
      const result = await refreshVariables(list, reason, env(range));
      if (result.cycleError) console.warn(result.cycleError);
      return result.variables;
    },
    [env],
  );

  // Variables on load: every one (the URL's values were applied by initVariables).
  useEffect(() => {
    let live = true;
    refreshVars(vars, { kind: 'load' }, tick.range).then((list) => {
      if (!live) return;
      setVars(list);
      setVarsReady(true);
    });
    return () => {
      live = false;
    };
  }, []);

  // The URL follows the state; the first write replaces (the page just opened), later ones push.
  const wroteOnce = useRef(false);
  const lastWritten = useRef('');
  useEffect(() => {
    if (!varsReady) return;
    const state: DashboardUrlState = {
      ...toUrlRange(raw),
      vars: variableUrlValues(vars),
      refresh: refresh || undefined,
      viewPanel: viewPanel === undefined ? undefined : String(viewPanel),
      inspect: inspect ? String(inspect.id) : undefined,
      inspectTab: inspect && inspect.tab !== 'data' ? inspect.tab : undefined,
    };
    const search = writeDashboardUrlState(state, window.location.search);
    lastWritten.current = search;
    setSearch(search, { replace: !wroteOnce.current });
    wroteOnce.current = true;
  }, [varsReady, raw, vars, refresh, viewPanel, inspect]);

  // Back/forward: read the state back from the URL.
  useEffect(
    () =>
      onLocationChange((loc) => {
        if (!loc.path.startsWith('/d/') || loc.search === lastWritten.current) return;
        lastWritten.current = loc.search;
        const s = readDashboardUrlState(loc.search);
        const nextRaw = { from: s.from ?? model.time.from, to: s.to ?? model.time.to };
        setRaw((prev) => {
          if (prev.from === nextRaw.from && prev.to === nextRaw.to) return prev;
          setTick((t) => makeTick(nextRaw, timeZone, t.token + 1));
          return nextRaw;
        });
        setRefresh(s.refresh && parseRefreshInterval(s.refresh) ? s.refresh : '');
        setViewPanel(parseViewPanel(s.viewPanel));
        const inspectId = parseViewPanel(s.inspect);
        setInspect(
          inspectId === undefined
            ? undefined
            : { id: inspectId, tab: (s.inspectTab as InspectTab) ?? 'data' },
        );
        setVars((prev) => {
          const now = variableUrlValues(prev);
          const changed = Object.keys(s.vars).some((name) => !sameValues(now[name], s.vars[name]));
          return changed ? applyUrlValues(prev, new URLSearchParams(loc.search)) : prev;
        });
      }),
    [],
  );

  const changeRange = useCallback(
    (next: RawTimeRange) => {
      const fresh = makeTick(next, timeZone, 0);
      const range = fresh.range;
      setRaw(next);
      setTick((t) => ({ ...fresh, token: t.token + 1 }));
      // Variables that refresh on time range change (query variables with refresh: 2, auto intervals).
      setVars((current) => {
        if (
          current.some(
            (v) => (v.type === 'query' && v.refresh === 2) || (v.type === 'interval' && v.model.auto),
          )
        ) {
          refreshVars(current, { kind: 'timeRange' }, range).then(setVars);
        }
        return current;
      });
    },
    [timeZone, refreshVars],
  );

  const doRefresh = useCallback(() => {
    setTick((t) =>
      isRelativeTimeRange(raw) ? makeTick(raw, timeZone, t.token + 1) : { ...t, token: t.token + 1 },
    );
  }, [raw, timeZone]);

  // Auto-refresh, paused while the tab is hidden (as Grafana does).
  useEffect(() => {
    const ms = parseRefreshInterval(refresh);
    if (!ms) return;
    const id = window.setInterval(() => {
      if (document.visibilityState !== 'hidden') doRefresh();
    }, ms);
    return () => window.clearInterval(id);
  }, [refresh, doRefresh]);

  // A new value re-runs the variables that depend on it; panels re-query when their request changes.
  const changeVariable = useCallback(
    async (name: string, value: VariableValue) => {
      const list = vars.map((v) => (v.name === name ? setVariableValue(v, value) : v));
      setVars(list);
      const next = await refreshVars(list, { kind: 'changed', name }, tick.range);
      if (next.some((v, i) => v !== list[i])) setVars(next);
    },
    [vars, tick.range, refreshVars],
  );

  const interpolator: Interpolator = useMemo(
    () =>
      (
        text: string,
        scoped: Record<string, BuiltinValue>,
        datasourceType?: string,
        scopedVars?: ScopedVars,
      ) =>
        interpolate(
          text,
          {
            variables: vars,
            builtins: { ...dashboardBuiltins(model, tick.range), ...scoped },
            range: tick.range,
            scoped: scopedVars,
          },
          datasourceType === DISPLAY_TEXT
            ? 'text'
            : datasourceType
              ? formatForDatasource(datasourceType)
              : undefined,
        ),
    [vars, model, tick.range],
  );

  const toggleRow = useCallback((row: Panel) => {
    setPanels((ps) => (row.collapsed ? expandRow(ps, row.id) : collapseRow(ps, row.id)));
  }, []);

  // Panels report their data here for the inspect drawer; only the inspected one re-renders it.
  const inspectedId = useRef<number | undefined>(undefined);
  inspectedId.current = inspect?.id;
  const sink: PanelDataSink = useCallback((id, snap) => {
    snapshots.current.set(id, snap);
    if (inspectedId.current === id) setSnapshotVersion((n) => n + 1);
  }, []);

  const onChangeTimeRange = useCallback(
    (r: { from: number; to: number }) =>
      changeRange({ from: String(Math.round(r.from)), to: String(Math.round(r.to)) }),
    [changeRange],
  );

  // Grafana's keyboard shortcuts: Esc leaves view/inspect; v views and i inspects the panel under the
  // mouse; t z zooms out, t ← / t → shift the range; d r refreshes.
  const hovered = useRef<number | undefined>(undefined);
  const prefix = useRef('');
  const keyState = useRef({ inspect, viewPanel, range: tick.range, doRefresh });
  keyState.current = { inspect, viewPanel, range: tick.range, doRefresh };
  useEffect(() => {
    const absolute = (r: { from: number; to: number }) =>
      changeRange({ from: String(r.from), to: String(r.to) });
    const onKey = (e: KeyboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
      const k = keyState.current;
      const first = prefix.current;
      prefix.current = '';
      if (e.key === 'Escape') {
        if (k.inspect) setInspect(undefined);
        else if (k.viewPanel !== undefined) setViewPanel(undefined);
      } else if (first === 't' && e.key === 'z') absolute(zoomOut(k.range, 2));
      else if (first === 't' && e.key === 'ArrowLeft') absolute(shiftRange(k.range, -1));
      else if (first === 't' && e.key === 'ArrowRight') absolute(shiftRange(k.range, 1));
      else if (first === 'd' && e.key === 'r') k.doRefresh();
      else if (e.key === 't' || e.key === 'd') prefix.current = e.key;
      else if (e.key === 'v' && (hovered.current !== undefined || k.viewPanel !== undefined)) {
        setViewPanel(k.viewPanel !== undefined ? undefined : hovered.current);
      } else if (e.key === 'i' && hovered.current !== undefined) {
        setInspect({ id: hovered.current, tab: 'data' });
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [changeRange]);

  // performance.mark('vigil:panels-painted') once every panel in view on first load has its final state
  // and the browser has painted it (the paint benchmark and the browser tests read it).
  const panelStates = useRef(new Map<number, { observed: boolean; inView: boolean; final: boolean }>());
  const painted = useRef(false);
  const onState: PanelStateSink = useCallback((id, st) => {
    if (painted.current) return;
    if (st === undefined) panelStates.current.delete(id);
    else panelStates.current.set(id, st);
    const all = [...panelStates.current.values()];
    if (all.length === 0 || !all.every((s) => s.observed)) return;
    if (!all.every((s) => !s.inView || s.final)) return;
    painted.current = true;
    requestAnimationFrame(() => {
      // The frame after the one that drew the last panel: everything is on screen by now.
      requestAnimationFrame(() => performance.mark(PANELS_PAINTED_MARK));
    });
  }, []);

  const chromeProps = {
    settings,
    tick,
    interpolate: interpolator,
    timeZone,
    ready: varsReady,
    graphTooltip: model.graphTooltip,
    onView: (id: number) => setViewPanel(id),
    onHover: (id: number | undefined) => {
      hovered.current = id;
    },
    onInspect: (id: number, tab: InspectTab = 'data') => setInspect({ id, tab }),
    onChangeTimeRange,
    sink,
    onState,
  };
  // Repeated panels: one copy per value of their variable (re-made when the variables change).
  const shown = useMemo(() => repeatPanels(panels, (name) => repeatValues(vars, name)), [panels, vars]);
  // Nothing to wait for (no panels, or all in collapsed rows): the first screen is painted as it is.
  const nothingToQuery = !shown.some((p) => p.type !== 'row');
  useEffect(() => {
    if (!varsReady || !nothingToQuery || painted.current) return;
    painted.current = true;
    requestAnimationFrame(() => requestAnimationFrame(() => performance.mark(PANELS_PAINTED_MARK)));
  }, [varsReady, nothingToQuery]);
  const viewed = viewPanel === undefined ? undefined : findPanel(shown, viewPanel);
  const inspected = inspect ? findPanel(shown, inspect.id) : undefined;

  return (
    <div class="dashboard" data-testid="dashboard" data-uid={model.uid}>
      <div class="dashboard-controls" hidden={kiosk}>
        <VariablesBar variables={vars} onChange={changeVariable} />
        <DashboardLinks
          links={Array.isArray(model.links) ? (model.links as DashboardLink[]) : []}
          uid={model.uid}
          timeParams={new URLSearchParams({ ...toUrlRange(raw) }).toString()}
          varParams={new URLSearchParams(toUrlParams(vars)).toString()}
          interpolate={(text) => interpolator(text, {})}
        />
        <div class="dashboard-time-controls">
          {viewed && (
            <button type="button" class="btn btn-secondary btn-sm" onClick={() => setViewPanel(undefined)}>
              ← Back to dashboard
            </button>
          )}
          {!model.timepicker?.hidden && (
            <TimePicker
              raw={raw}
              range={tick.range}
              timeZone={timeZone}
              onChange={changeRange}
              quickRanges={validQuickRanges(model.timepicker?.quick_ranges)}
            />
          )}
          <RefreshPicker value={refresh} intervals={intervals} onChange={setRefresh} onRefresh={doRefresh} />
        </div>
      </div>
      {viewPanel !== undefined && !viewed && <div class="alert alert-error">Panel {viewPanel} not found</div>}
      {viewed ? (
        <div class="view-panel">
          <PanelChrome panel={viewed} width={0} height={0} fill {...chromeProps} />
        </div>
      ) : shown.length === 0 ? (
        <div class="empty-state">This dashboard has no panels yet.</div>
      ) : (
        <DashboardGrid
          panels={shown}
          onToggleRow={toggleRow}
          interpolate={interpolator}
          chrome={chromeProps}
        />
      )}
      {inspect && inspected && (
        <Inspect
          key={inspect.id}
          version={snapshotVersion}
          panel={inspected}
          snapshot={snapshots.current.get(inspect.id)}
          tab={inspect.tab}
          timeZone={timeZone}
          onTab={(tab) => setInspect({ id: inspect.id, tab })}
          onClose={() => setInspect(undefined)}
        />
      )}
    </div>
  );
}

/** The values a panel repeated over variable `name` gets: those selected, or every option for All. */
export function repeatValues(vars: readonly VariableState[], name: string): RepeatValue[] | undefined {
  const v = vars.find((x) => x.name === name);
  if (!v) return undefined;
  const values = Array.isArray(v.value) ? v.value : [v.value];
  if (values.includes(ALL_VALUE)) return v.options.map((o) => ({ text: o.text, value: o.value }));
  const texts = Array.isArray(v.text) ? v.text : [v.text];
  return values.map((value, i) => ({ value, text: texts[i] ?? value }));
}

/** The dashboard's own quick ranges that say what they are (from, to and a name). */
function validQuickRanges(list: unknown): QuickRange[] {
  if (!Array.isArray(list)) return [];
  return list.filter(
    (r): r is QuickRange =>
      !!r && typeof r.from === 'string' && typeof r.to === 'string' && typeof r.display === 'string',
  );
}

/** Variables every query sees besides the panel's own interval ones: the dashboard's identity. */
function dashboardBuiltins(model: DashboardModel, range: TimeRange): Record<string, BuiltinValue> {
  return {
    __dashboard: model.title,
    __from: range.from,
    __to: range.to,
    __org: 1,
    __timezone:
      timeZoneOf(model) === 'browser' ? Intl.DateTimeFormat().resolvedOptions().timeZone : timeZoneOf(model),
  };
}
