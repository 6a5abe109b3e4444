// The dashboard view: one state (time range, refresh, variables, rows,
// full-screen panel, inspect drawer) changed by the controls, projected onto
// the URL, and read back from it on back/forward.
import { useCallback, useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { BuiltinValue } from '../_shims/interval';
import {
  isRelativeTimeRange,
  parseTimeRange,
  type RawTimeRange,
  type TimeRange,
  toUrlRange,
} from '../_shims/time';
import {
  ALL_VALUE,
  dependsOn,
  interpolate,
  loadOptions,
  type VariableLoadContext,
} from '../_shims/variables';
import { datasourceList, datasourceProxy, type FrontendSettings } from '../api';
import {
  type DashboardUrlState,
  onLocationChange,
  readDashboardUrlState,
  setSearch,
  writeDashboardUrlState,
} from '../router';
import { DashboardGrid } from './DashboardGrid';
import { Inspect, type InspectTab } from './Inspect';
import { collapseRow, expandRow, findPanel, normalizePanels } from './layout';
import type { Dashboard as DashboardModel, Panel, Variable, VariableOption } from './model';
import { PanelChrome, type PanelDataSink, type PanelSnapshot } from './PanelChrome';
import type { Interpolator } from './queryRunner';
import { parseRefreshInterval, RefreshPicker, refreshIntervals } from './RefreshPicker';
import { TimePicker } from './TimePicker';
import { VariablesBar } from './VariablesBar';

export interface DashboardProps {
  model: DashboardModel;
  settings: FrontendSettings;
}

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

/** A variable's current selection set to `values` (URL or picker), texts taken from its options. */
export function selectValues(v: Variable, values: string[]): Variable {
  const opts = v.options ?? [];
  const textOf = (val: string) => {
    if (val === ALL_VALUE) return 'All';
    const o = opts.find((x) => String(x.value) === val);
    return o ? String(o.text) : val;
  };
  const list = v.multi ? values : values.slice(0, 1);
  const current: VariableOption = v.multi
    ? { text: list.map(textOf), value: list }
    : { text: textOf(list[0] ?? ''), value: list[0] ?? '' };
  return {
    ...v,
    current,
    options: opts.map((o) => ({ ...o, selected: list.includes(String(o.value)) })),
  };
}

/** The current values of a variable as a list (what `var-x` holds). */
export function currentValues(v: Variable): string[] {
  const value = v.current?.value;
  if (value === undefined || value === null) return [];
  return (Array.isArray(value) ? value : [value]).map(String);
}

/** Keeps the current values that are still options; otherwise the first option, as Grafana does. */
function validateSelection(v: Variable, fromUrl?: string[]): Variable {
  if (v.type === 'textbox' || v.type === 'constant') {
    const text = fromUrl?.[0] ?? (currentValues(v)[0] || (typeof v.query === 'string' ? v.query : ''));
    return { ...v, current: { text, value: text } };
  }
  const opts = v.options ?? [];
  // URL values are taken as they are, even when the options do not list them (a shared link wins).
  if (fromUrl && fromUrl.length > 0) return selectValues(v, fromUrl);
  const cur = currentValues(v);
  const known = cur.filter((c) => c === ALL_VALUE || opts.some((o) => String(o.value) === c));
  if (known.length > 0) return selectValues(v, known);
  if (opts.length === 0) return cur.length ? selectValues(v, cur) : v;
  return selectValues(v, [String(opts[0].value)]);
}

export function Dashboard({ model, settings }: DashboardProps) {
  const timeZone = timeZoneOf(model);
  const urlAtStart = useMemo(() => readDashboardUrlState(window.location.search), []);
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
  const [vars, setVars] = useState<Variable[]>(() => model.templating?.list ?? []);
  const [varsReady, setVarsReady] = useState(false);
  const [panels, setPanels] = useState<Panel[]>(() => normalizePanels(model.panels ?? []));
  const [viewPanel, setViewPanel] = useState<number | undefined>(parseViewPanel(urlAtStart.viewPanel));
  const [inspect, setInspect] = useState<{ id: number; tab: InspectTab } | undefined>(() => {
    const id = parseViewPanel(urlAtStart.inspect);
    return id === undefined ? undefined : { id, tab: (urlAtStart.inspectTab as InspectTab) ?? 'data' };
  });
  const snapshots = useRef(new Map<number, PanelSnapshot>());
  const [snapshotVersion, setSnapshotVersion] = useState(0);

  const loadCtx = useCallback(
    (range: TimeRange): VariableLoadContext => ({
      datasources: datasourceList(settings),
      defaultDatasource: settings.defaultDatasource,
      fetcher: datasourceProxy,
      range,
    }),
    [settings],
  );

  // Loads variable options in list order (a chained variable comes after what it uses), `only`
  // limiting it to some; URL values win over the saved selection.
  const refreshVariables = useCallback(
    async (
      list: Variable[],
      range: TimeRange,
      only?: (v: Variable) => boolean,
      urlVars?: Record<string, string[]>,
    ) => {
      const out = [...list];
      const changed = new Set<string>();
      for (let i = 0; i < out.length; i++) {
        const v = out[i];
        const needs = only ? only(v) || [...changed].some((n) => dependsOn(v, n)) : true;
        if (!needs) continue;
        let options = v.options ?? [];
        if (v.type !== 'adhoc') {
          try {
            options = await loadOptions(v, out, loadCtx(range));
          } catch (err) {
            console.warn(`variable ${v.name}: ${err instanceof Error ? err.message : String(err)}`);
          }
        }
        const next = validateSelection({ ...v, options }, urlVars?.[v.name]);
        if (currentValues(next).join('\u0000') !== currentValues(v).join('\u0000') || only)
          changed.add(v.name);
        out[i] = next;
      }
      return out;
    },
    [loadCtx],
  );

  // Variables on load: every one, with the URL's values.
  useEffect(() => {
    let live = true;
    refreshVariables(model.templating?.list ?? [], tick.range, undefined, urlAtStart.vars).then((list) => {
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
      vars: Object.fromEntries(
        vars
          .filter((v) => v.type !== 'constant' && v.type !== 'adhoc')
          .map((v) => [v.name, currentValues(v)]),
      ),
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
        setVars((prev) =>
          prev.map((v) => {
            const want = s.vars[v.name];
            return want && want.join('\u0000') !== currentValues(v).join('\u0000')
              ? selectValues(v, want)
              : v;
          }),
        );
      }),
    [],
  );

  const changeRange = useCallback(
    (next: RawTimeRange) => {
      const fresh = makeTick(next, timeZone, 0);
      const range = fresh.range;
      setRaw(next);
      setTick((t) => ({ ...fresh, token: t.token + 1 }));
      // Variables that refresh on time range change (refresh: 2).
      setVars((current) => {
        if (current.some((v) => v.type === 'query' && v.refresh === 2)) {
          refreshVariables(current, range, (v) => v.type === 'query' && v.refresh === 2).then(setVars);
        }
        return current;
      });
    },
    [timeZone, refreshVariables],
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

  const changeVariable = useCallback(
    async (name: string, values: string[]) => {
      const list = vars.map((v) => (v.name === name ? selectValues(v, values) : v));
      setVars(list);
      const dependants = list.filter((v) => v.name !== name && dependsOn(v, name));
      if (dependants.length > 0) {
        const next = await refreshVariables(list, tick.range, (v) => v.name !== name && dependsOn(v, name));
        setVars(next);
      }
    },
    [vars, tick.range, refreshVariables],
  );

  const interpolator: Interpolator = useMemo(
    () => (text: string, scoped: Record<string, BuiltinValue>, format?: string) =>
      interpolate(text, vars, { ...dashboardBuiltins(model, tick.range), ...scoped }, format),
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

  // Escape leaves full-screen view and closes the inspect drawer.
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key !== 'Escape') return;
      if (inspect) setInspect(undefined);
      else if (viewPanel !== undefined) setViewPanel(undefined);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [inspect, viewPanel]);

  const chromeProps = {
    settings,
    tick,
    interpolate: interpolator,
    timeZone,
    ready: varsReady,
    graphTooltip: model.graphTooltip,
    onView: (id: number) => setViewPanel(id),
    onInspect: (id: number, tab: InspectTab = 'data') => setInspect({ id, tab }),
    onChangeTimeRange,
    sink,
  };
  const viewed = viewPanel === undefined ? undefined : findPanel(panels, viewPanel);
  const inspected = inspect ? findPanel(panels, inspect.id) : undefined;

  return (
    <div class="dashboard">
      <div class="dashboard-controls">
        <VariablesBar variables={vars} onChange={changeVariable} />
        <div class="dashboard-time-controls">
          {viewed && (
            <button type="button" class="btn btn-secondary btn-sm" onClick={() => setViewPanel(undefined)}>
              ← Back to dashboard
            </button>
          )}
          {!model.timepicker?.hidden && (
            <TimePicker raw={raw} range={tick.range} timeZone={timeZone} onChange={changeRange} />
          )}
          <RefreshPicker value={refresh} intervals={intervals} onChange={setRefresh} onRefresh={doRefresh} />
        </div>
      </div>
      {viewPanel !== undefined && !viewed && <div class="alert alert-error">Panel {viewPanel} not found</div>}
      {viewed ? (
        <div class="view-panel">
          <PanelChrome panel={viewed} width={0} height={0} fill {...chromeProps} />
        </div>
      ) : (
        <DashboardGrid
          panels={panels}
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
