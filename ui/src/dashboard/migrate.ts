// Brings a stored dashboard JSON (schemaVersion 14 or later, some older) up to schemaVersion 41 the way
// Grafana's DashboardMigrator and its automatic panel migrations do, for everything that changes what we
// draw: legacy rows to grid panels, datasource names to refs, `${DS_X}` inputs, graph -> timeseries,
// singlestat -> stat/gauge, table-old -> table, old thresholds and value maps, old variable shapes.
// It never throws: a step that meets odd input leaves that part as it was and notes it in `warnings`.
import type { Dashboard, DataSourceRef, DataSourceSettings, GridPos, Panel, Target } from './model';

export const LATEST_SCHEMA_VERSION = 41;

const GRID_COLUMNS = 24;
const GRID_CELL_HEIGHT = 30;
const GRID_CELL_VMARGIN = 8;
const MIN_PANEL_HEIGHT = GRID_CELL_HEIGHT * 3;
const DEFAULT_ROW_HEIGHT = 250;
const DEFAULT_PANEL_SPAN = 4;

export const MIXED_DATASOURCE: DataSourceRef = { type: 'datasource', uid: '-- Mixed --' };
export const GRAFANA_DATASOURCE: DataSourceRef = { type: 'datasource', uid: 'grafana' };

type Json = Record<string, unknown>;

export interface MigrationResult {
  dashboard: Dashboard;
  /** Steps that met input they could not handle (that part was left as it was). */
  warnings: string[];
}

const isObj = (v: unknown): v is Json => !!v && typeof v === 'object' && !Array.isArray(v);
const num = (v: unknown): number | undefined => {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
};

function clone<T>(v: T): T {
  try {
    return structuredClone(v);
  } catch {
    return JSON.parse(JSON.stringify(v)) as T;
  }
}

// ---- Datasource references ----

/** Refs that name no datasource of ours but mean something (mixed, Grafana's built-in, expressions). */
const SPECIAL_UIDS = new Set(['-- Mixed --', '-- Grafana --', 'grafana', '-- Dashboard --', '__expr__']);

interface DsContext {
  warnings: string[];
  datasources: readonly DataSourceSettings[];
  defaultDs?: DataSourceSettings;
  /** Datasource variables by name -> the plugin type they select. */
  dsVariables: Map<string, string>;
}

const refOf = (ds: DataSourceSettings): DataSourceRef => ({ type: ds.type, uid: ds.uid });

function variableName(text: string): string | undefined {
  const m = /^\$(\w+)$|^\$\{(\w+)(?::[^}]*)?\}$|^\[\[(\w+)\]\]$/.exec(text.trim());
  return m ? m[1] || m[2] || m[3] : undefined;
}

/**
 * Grafana's migrateDatasourceNameToRef: a name (or uid) becomes `{type, uid}`; a datasource variable keeps
 * its `$name` as uid with the variable's type; null/`default` gives null when `defaultAsNull`, else the
 * default's ref; an unknown name keeps the name as uid.
 */
function nameToRef(value: unknown, ctx: DsContext, defaultAsNull: boolean): DataSourceRef | null {
  if (isObj(value)) {
    const ref = value as DataSourceRef;
    if (typeof ref.uid === 'string') {
      const v = variableName(ref.uid);
      if (v) {
        if (!ref.type && ctx.dsVariables.has(v)) return { type: ctx.dsVariables.get(v), uid: ref.uid };
        return { ...ref };
      }
      if (ctx.datasources.some((d) => d.uid === ref.uid) || SPECIAL_UIDS.has(ref.uid)) return { ...ref };
      // Deliberately kinder than Grafana: a uid from another installation (exported dashboards carry
      // them) is pointed at this installation's datasource of the same type, or matched by name.
      const byName = ctx.datasources.find((d) => d.name === ref.uid);
      if (byName) return refOf(byName);
      const sameType = ref.type
        ? ((ctx.defaultDs?.type === ref.type ? ctx.defaultDs : undefined) ??
          ctx.datasources.find((d) => d.type === ref.type))
        : undefined;
      if (sameType) {
        ctx.warnings.push(`datasource uid ${ref.uid} not found; using ${sameType.name} (${ref.type})`);
        return refOf(sameType);
      }
      return { ...ref };
    }
    if (ref.uid == null && ref.type) {
      // A ref with a type but no uid (provisioned JSON often has it): the default of that type.
      const ds =
        (ctx.defaultDs?.type === ref.type ? ctx.defaultDs : undefined) ??
        ctx.datasources.find((d) => d.type === ref.type);
      return ds ? refOf(ds) : { ...ref };
    }
    return defaultAsNull ? null : ctx.defaultDs ? refOf(ctx.defaultDs) : null;
  }
  if (value == null || value === 'default' || value === '') {
    if (defaultAsNull) return null;
    return ctx.defaultDs ? refOf(ctx.defaultDs) : null;
  }
  if (typeof value !== 'string') return null;
  if (value === '-- Mixed --') return { ...MIXED_DATASOURCE };
  if (value === '-- Grafana --' || value === 'grafana') return { ...GRAFANA_DATASOURCE };
  if (value === '-- Dashboard --') return { type: 'datasource', uid: '-- Dashboard --' };
  const v = variableName(value);
  if (v) {
    const type = ctx.dsVariables.get(v);
    return type ? { type, uid: value } : { uid: value };
  }
  const ds = ctx.datasources.find((d) => d.name === value) ?? ctx.datasources.find((d) => d.uid === value);
  return ds ? refOf(ds) : { uid: value };
}

// ---- `${DS_X}` template inputs ----

/**
 * Replaces the `${DS_NAME}` placeholders of an exported dashboard with a real datasource of the input's
 * plugin type (the default when it has that type): its uid where a ref's `uid` is expected, its name in
 * other strings (old datasource name fields).
 */
function resolveInputs(dash: Json, ctx: DsContext, warnings: string[]): void {
  const inputs = Array.isArray(dash.__inputs) ? dash.__inputs.filter(isObj) : [];
  const byName = new Map<string, DataSourceSettings>();
  const pick = (type: string | undefined) => {
    if (!type) return ctx.defaultDs;
    if (ctx.defaultDs?.type === type) return ctx.defaultDs;
    return ctx.datasources.find((d) => d.type === type);
  };
  for (const input of inputs) {
    if (input.type !== 'datasource' || typeof input.name !== 'string') continue;
    const ds = pick(typeof input.pluginId === 'string' ? input.pluginId : undefined);
    if (ds) byName.set(input.name, ds);
    else warnings.push(`no datasource of type ${String(input.pluginId)} for input ${input.name}`);
  }
  const lookup = (name: string): DataSourceSettings | undefined => {
    const known = byName.get(name);
    if (known) return known;
    if (!name.startsWith('DS_')) return undefined;
    // No __inputs entry (hand-edited exports): guess the type from the name (DS_PROMETHEUS -> prometheus).
    const guess = name.slice(3).toLowerCase();
    const ds =
      ctx.datasources.find((d) => guess.startsWith(d.type.toLowerCase())) ??
      ctx.datasources.find((d) => guess.includes(d.type.toLowerCase()));
    return ds ?? ctx.defaultDs;
  };
  const re = /\$\{(DS_[A-Za-z0-9_-]+)\}/g;
  const walk = (node: unknown, key?: string): unknown => {
    if (typeof node === 'string') {
      if (!node.includes('${DS_')) return node;
      return node.replace(re, (m, name: string) => {
        const ds = lookup(name);
        if (!ds) return m;
        return key === 'uid' ? ds.uid : ds.name;
      });
    }
    if (Array.isArray(node)) return node.map((x) => walk(x, key));
    if (isObj(node)) {
      for (const k of Object.keys(node)) {
        if (k === '__inputs' || k === '__requires') continue;
        node[k] = walk(node[k], k);
      }
    }
    return node;
  };
  walk(dash);
}

// ---- Legacy rows -> grid ----

function gridHeight(height: unknown): number {
  let h = typeof height === 'string' ? Number.parseInt(height.replace('px', ''), 10) : Number(height);
  if (!Number.isFinite(h)) h = DEFAULT_ROW_HEIGHT;
  if (h < MIN_PANEL_HEIGHT) h = MIN_PANEL_HEIGHT;
  return Math.ceil(h / (GRID_CELL_HEIGHT + GRID_CELL_VMARGIN));
}

/** Places panels of one legacy row left to right, wrapping as Grafana's RowArea does. */
class RowArea {
  area: number[];
  constructor(
    public height: number,
    public yPos: number,
  ) {
    this.area = new Array(GRID_COLUMNS).fill(0);
  }
  add(g: GridPos) {
    for (let i = g.x; i < g.x + g.w; i++) {
      const bottom = g.y + g.h - this.yPos;
      if (!this.area[i] || bottom > this.area[i]) this.area[i] = bottom;
    }
  }
  position(width: number, once = false): { x: number; y: number } | null {
    let start: number | undefined;
    let end: number | undefined;
    for (let i = this.area.length - 1; i >= 0; i--) {
      if (this.height - this.area[i] > 0) {
        if (end === undefined) end = i;
        else if (i < this.area.length - 1 && this.area[i] <= this.area[i + 1]) start = i;
        else break;
      } else {
        break;
      }
    }
    if (start !== undefined && end !== undefined && end - start >= width - 1) {
      return { x: start, y: Math.max(...this.area.slice(start)) };
    }
    if (once) return null;
    this.yPos += this.height;
    this.area.fill(0);
    return this.position(width, true);
  }
}

function upgradeRows(dash: Json): void {
  const rows = Array.isArray(dash.rows) ? dash.rows.filter(isObj) : [];
  delete dash.rows;
  if (!rows.length) return;
  const panels: Json[] = Array.isArray(dash.panels) ? (dash.panels as unknown[]).filter(isObj) : [];
  const ids = rows.flatMap((r) =>
    (Array.isArray(r.panels) ? r.panels : []).map((p) => num(isObj(p) ? p.id : 0) ?? 0),
  );
  const existing = panels.map((p) => num(p.id) ?? 0);
  let nextRowId = Math.max(0, ...ids, ...existing) + 1;
  const showRows = rows.some((r) => r.collapse || r.showTitle || r.repeat);
  let yPos = panels.reduce((m, p) => {
    const g = isObj(p.gridPos) ? p.gridPos : {};
    return Math.max(m, (num(g.y) ?? 0) + (num(g.h) ?? 0));
  }, 0);
  for (const row of rows) {
    if (row.repeatIteration) continue;
    const rowHeight = gridHeight(row.height ?? DEFAULT_ROW_HEIGHT);
    let rowPanel: Json | undefined;
    if (showRows) {
      rowPanel = {
        id: nextRowId++,
        type: 'row',
        title: row.title ?? '',
        collapsed: row.collapse === true,
        panels: [],
        gridPos: { x: 0, y: yPos, w: GRID_COLUMNS, h: 1 },
      };
      if (row.repeat) rowPanel.repeat = row.repeat;
      yPos++;
    }
    const area = new RowArea(rowHeight, yPos);
    let bottom = 0;
    for (const p of Array.isArray(row.panels) ? row.panels.filter(isObj) : []) {
      const span = num(p.span) || DEFAULT_PANEL_SPAN;
      const w = Math.max(1, Math.min(GRID_COLUMNS, Math.floor(span) * (GRID_COLUMNS / 12)));
      const h = p.height != null ? gridHeight(p.height) : rowHeight;
      const pos = area.position(w) ?? { x: 0, y: 0 };
      yPos = area.yPos;
      const g = { x: pos.x, y: yPos + pos.y, w, h };
      p.gridPos = g;
      area.add(g);
      if (!rowPanel?.collapsed) bottom = Math.max(bottom, g.y + g.h);
      if (p.minSpan) p.minSpan = Math.min(GRID_COLUMNS, (GRID_COLUMNS / 12) * (num(p.minSpan) ?? 0));
      delete p.span;
      delete p.height;
      if (rowPanel?.collapsed) (rowPanel.panels as Json[]).push(p);
      else panels.push(p);
    }
    if (rowPanel) panels.push(rowPanel);
    // Grafana advances by the row's height and lets the grid push overlapping panels down when it
    // lays them out; our grid does not compact, so the next row starts below the tallest panel.
    if (!rowPanel?.collapsed) yPos = Math.max(yPos + rowHeight, bottom);
  }
  dash.panels = panels;
}

// ---- Panel-level migrations ----

interface Step {
  value: number | null;
  color: string;
}

/** The table-old style's thresholds (`["50","80"]`) and three colours as steps over a base (-Infinity). */
function thresholdsFromList(list: unknown, colors: unknown): Step[] {
  const cs = Array.isArray(colors) && colors.length ? colors.map(String) : ['green', 'orange', 'red'];
  const values = (Array.isArray(list) ? list : []).map(num).filter((n): n is number => n !== undefined);
  const steps: Step[] = [{ value: Number.NEGATIVE_INFINITY, color: cs[0] }];
  values.forEach((v, i) => {
    steps.push({ value: v, color: cs[i + 1] ?? cs[cs.length - 1] });
  });
  return steps;
}

/** The colour of the threshold step a number falls in (Grafana's getActiveThreshold). */
function activeColor(value: number, steps: readonly Step[]): string | undefined {
  let color: string | undefined;
  for (const [i, s] of steps.entries()) {
    if (i === 0 || s.value === null || value >= s.value) color = s.color;
    else break;
  }
  return color;
}

function mappingResult(text: unknown, steps?: readonly Step[]): Json {
  const numeric = Number.parseFloat(String(text));
  const color = steps && !Number.isNaN(numeric) ? activeColor(numeric, steps) : undefined;
  return color === undefined ? { text } : { text, color };
}

/**
 * One angular value map (`type` 1, `value`, `text`) or range map (`type` 2, `from`, `to`) as a new
 * mapping, coloured like the threshold its text would fall in (Grafana's upgradeOldAngularValueMapping).
 */
function angularMapping(old: Json, steps?: readonly Step[]): Json | undefined {
  const result = mappingResult(old.text, steps);
  if (old.type === 1 || old.type === 'value') {
    if (old.value == null) return undefined;
    if (old.value === 'null') return { type: 'special', options: { match: 'null', result } };
    return { type: 'value', options: { [String(old.value)]: result } };
  }
  if (old.type === 2 || old.type === 'range') {
    if (old.from === 'null' || old.to === 'null')
      return { type: 'special', options: { match: 'null', result } };
    return { type: 'range', options: { from: Number(old.from), to: Number(old.to), result } };
  }
  return undefined;
}

/** A singlestat's value or range maps as new mappings, one each (Grafana's convertOldAngularValueMappings). */
export function convertSinglestatMappings(panel: Json, steps?: readonly Step[]): Json[] {
  let type = num(panel.mappingType);
  const valueMaps = Array.isArray(panel.valueMaps) ? panel.valueMaps.filter(isObj) : [];
  const rangeMaps = Array.isArray(panel.rangeMaps) ? panel.rangeMaps.filter(isObj) : [];
  if (!type) type = valueMaps.length ? 1 : rangeMaps.length ? 2 : undefined;
  const list = type === 1 ? valueMaps : type === 2 ? rangeMaps : [];
  const out: Json[] = [];
  list.forEach((m, id) => {
    const converted = angularMapping({ ...m, id, type }, steps);
    if (converted) out.push(converted);
  });
  return out;
}

/**
 * Schema 30's upgrade of field-config mappings: old value maps merge into one value mapping (first),
 * ranges and `null` become their own; mappings already in the new shape are kept.
 */
export function upgradeValueMappings(old: unknown, steps?: readonly Step[]): unknown[] | undefined {
  if (!Array.isArray(old)) return undefined;
  const valueOptions: Json = {};
  const out: Json[] = [];
  for (const m of old) {
    if (!isObj(m)) continue;
    if (m.type && isObj(m.options)) {
      if (m.type === 'value') Object.assign(valueOptions, m.options);
      else out.push(m);
      continue;
    }
    const result = mappingResult(m.text, steps);
    if (m.type === 1 && m.value != null) {
      if (m.value === 'null') out.push({ type: 'special', options: { match: 'null', result } });
      else valueOptions[String(m.value)] = result;
    } else if (m.type === 2) {
      out.push({ type: 'range', options: { from: Number(m.from), to: Number(m.to), result } });
    }
  }
  if (Object.keys(valueOptions).length) out.unshift({ type: 'value', options: valueOptions });
  return out;
}

function fieldConfigOf(p: Json): { defaults: Json; overrides: Json[] } {
  const fc = isObj(p.fieldConfig) ? p.fieldConfig : {};
  const defaults = isObj(fc.defaults) ? fc.defaults : {};
  const overrides = Array.isArray(fc.overrides) ? fc.overrides.filter(isObj) : [];
  const out = { defaults, overrides };
  p.fieldConfig = out;
  return out;
}

/** Singlestat's `valueName` -> reducer id (Grafana's reducer registry, aliases included); others -> mean. */
const REDUCER_OF: Record<string, string> = {
  avg: 'mean',
  mean: 'mean',
  current: 'lastNotNull',
  lastNotNull: 'lastNotNull',
  last: 'last',
  first: 'first',
  firstNotNull: 'firstNotNull',
  max: 'max',
  min: 'min',
  total: 'sum',
  sum: 'sum',
  delta: 'delta',
  diff: 'diff',
  range: 'range',
  count: 'count',
};

/** What the angular singlestat showed for keys its JSON leaves out (its panelDefaults; not its N/A maps). */
const SINGLESTAT_DEFAULTS: Json = {
  valueName: 'avg',
  format: 'none',
  thresholds: '',
  colors: ['#299c46', 'rgba(237, 129, 40, 0.89)', '#d44a3a'],
  sparkline: { show: false },
  gauge: { show: false, minValue: 0, maxValue: 100, thresholdMarkers: true, thresholdLabels: false },
  nullPointMode: 'connected',
};

/**
 * Angular singlestat -> stat, or gauge when it drew its gauge (Grafana's sharedSingleStatPanelChangedHandler
 * plus the stat and gauge handlers): reducer, unit, decimals, no-value text, thresholds from the
 * `"50,80"` string and colours, value/range maps, sparkline and colour mode.
 */
function singlestatToStat(p: Json): void {
  for (const [k, v] of Object.entries(SINGLESTAT_DEFAULTS)) if (p[k] === undefined) p[k] = clone(v);
  const gauge = isObj(p.gauge) ? p.gauge : {};
  const toGauge = gauge.show === true;
  const fc = fieldConfigOf(p);
  const defaults: Json = {};
  if (typeof p.format === 'string' && p.format) defaults.unit = p.format;
  if (typeof p.nullPointMode === 'string') defaults.nullValueMode = p.nullPointMode;
  if (typeof p.nullText === 'string' && p.nullText) defaults.noValue = p.nullText;
  if (num(p.decimals) !== undefined) defaults.decimals = num(p.decimals);
  if (typeof p.thresholds === 'string' && p.thresholds && Array.isArray(p.colors)) {
    // One step per colour: the first is the base, the others take the levels in order.
    const levels = p.thresholds.split(',').map((x) => Number(x.trim()));
    const steps: Step[] = [];
    for (const color of p.colors) {
      const idx = steps.length - 1;
      if (idx < 0) steps.push({ value: Number.NEGATIVE_INFINITY, color: String(color) });
      else if (Number.isFinite(levels[idx])) steps.push({ value: levels[idx], color: String(color) });
    }
    defaults.thresholds = { mode: 'absolute', steps };
  }
  const steps = isObj(defaults.thresholds) ? (defaults.thresholds.steps as Step[]) : undefined;
  const mappings = convertSinglestatMappings(p, steps);
  if (mappings.length) defaults.mappings = mappings;
  if (toGauge) {
    if (num(gauge.minValue) !== undefined) defaults.min = num(gauge.minValue);
    if (num(gauge.maxValue) !== undefined) defaults.max = num(gauge.maxValue);
  }
  fc.defaults = defaults;
  p.fieldConfig = fc;
  const valueName = String(p.valueName);
  const reduceOptions: Json = { calcs: [REDUCER_OF[valueName] ?? 'mean'] };
  if (typeof p.tableColumn === 'string' && p.tableColumn) reduceOptions.fields = `/^${p.tableColumn}$/`;
  const options: Json = { reduceOptions, orientation: 'horizontal' };
  if (toGauge) {
    options.showThresholdMarkers = gauge.thresholdMarkers;
    options.showThresholdLabels = gauge.thresholdLabels;
  } else {
    const sparkline = isObj(p.sparkline) ? p.sparkline : {};
    options.graphMode = sparkline.show ? 'area' : 'none';
    options.colorMode = p.colorBackground ? 'background' : p.colorValue ? 'value' : 'none';
    if (valueName === 'name') options.textMode = 'name';
  }
  for (const k of [
    'gauge',
    'sparkline',
    'thresholds',
    'colors',
    'format',
    'decimals',
    'nullText',
    'valueMaps',
    'rangeMaps',
    'mappingType',
    'mappingTypes',
    'valueName',
    'colorBackground',
    'colorValue',
    'colorPrefix',
    'colorPostfix',
    'prefix',
    'postfix',
    'prefixFontSize',
    'postfixFontSize',
    'valueFontSize',
    'nullPointMode',
    'tableColumn',
  ]) {
    delete p[k];
  }
  p.options = options;
  p.type = toGauge ? 'gauge' : 'stat';
}

function colorProp(color: unknown): Json {
  return { id: 'color', value: { mode: 'fixed', fixedColor: String(color) } };
}

function seriesMatcher(alias: string): Json {
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(alias);
  return m ? { id: 'byRegexp', options: alias } : { id: 'byName', options: alias };
}

/** An old graph y axis as field config: unit, decimals, min, max, label, log scale, shown or hidden. */
function axisConfig(axis: unknown): Json {
  if (!isObj(axis)) return {};
  const custom: Json = { axisPlacement: axis.show ? 'auto' : 'hidden' };
  if (typeof axis.label === 'string' && axis.label) custom.axisLabel = axis.label;
  const log = num(axis.logBase);
  if (log === 2 || log === 10) custom.scaleDistribution = { type: 'log', log };
  const out: Json = { custom };
  if (typeof axis.format === 'string') out.unit = axis.format;
  for (const k of ['decimals', 'min', 'max'] as const) {
    const n = num(axis[k]);
    if (n !== undefined) out[k] = n;
  }
  return out;
}

/** Legend keys of the old graph that are reducers, by their id in the new legend. */
const LEGEND_REDUCERS: Record<string, string> = {
  avg: 'mean',
  current: 'lastNotNull',
  total: 'sum',
  min: 'min',
  max: 'max',
};

interface AngularThreshold {
  op?: string;
  value: number;
  fill?: boolean;
  line?: boolean;
  colorMode?: string;
  fillColor?: string;
  lineColor?: string;
}

function thresholdColor(t: AngularThreshold): string {
  if (t.colorMode === 'critical') return 'red';
  if (t.colorMode === 'warning') return 'orange';
  if (t.colorMode === 'custom') return String(t.fillColor || t.lineColor || 'red');
  return 'red';
}

/** The graph's `gt`/`lt` threshold list as threshold steps (gaps transparent) plus how to draw them. */
function graphThresholds(
  list: unknown[],
): { steps: { value: number; color: string }[]; mode: string } | undefined {
  const sorted = list
    .filter(isObj)
    .map((t) => ({ ...t, value: num(t.value) }) as AngularThreshold)
    .filter((t) => typeof t.value === 'number')
    .sort((a, b) => (a.value > b.value ? 1 : -1));
  if (!sorted.length) return undefined;
  const steps: { value: number; color: string }[] = [];
  let area = false;
  let line = false;
  sorted.forEach((t, i) => {
    const next = sorted[i + 1];
    if (t.fill) area = true;
    if (t.line) line = true;
    if (t.op === 'gt') steps.push({ value: t.value, color: thresholdColor(t) });
    if (t.op === 'lt') {
      if (!steps.length) steps.push({ value: Number.NEGATIVE_INFINITY, color: thresholdColor(t) });
      if (next && next.op === 'gt' && next.value > t.value)
        steps.push({ value: t.value, color: 'transparent' });
      else if (next && next.op === 'lt') steps.push({ value: t.value, color: thresholdColor(next) });
      else steps.push({ value: t.value, color: 'transparent' });
    }
  });
  if (steps.length && steps[0].value !== Number.NEGATIVE_INFINITY) {
    steps.unshift({ value: Number.NEGATIVE_INFINITY, color: 'transparent' });
  }
  return { steps, mode: line && area ? 'line+area' : area ? 'area' : 'line' };
}

const GRAPH_DEFAULTS: Json = {
  lines: true,
  fill: 1,
  linewidth: 1,
  pointradius: 2,
  nullPointMode: 'null',
  legend: { show: true },
  tooltip: { shared: true, sort: 0 },
};

/** Angular graph -> timeseries as Grafana's flotToGraphOptions: styles, axes, legend, tooltip, overrides. */
function graphToTimeseries(p: Json): void {
  // What the angular panel showed for keys its JSON leaves out (its panelDefaults).
  for (const [k, v] of Object.entries(GRAPH_DEFAULTS)) if (p[k] === undefined) p[k] = clone(v);
  const fc = fieldConfigOf(p);
  const overrides = fc.overrides;
  const yaxes = Array.isArray(p.yaxes) ? p.yaxes : [];
  const y1: Json = { ...fc.defaults, ...axisConfig(yaxes[0]) };
  const dash = {
    fill: p.dashes ? 'dash' : 'solid',
    dash: [num(p.dashLength) ?? 10, num(p.spaceLength) ?? 10],
  };

  if (isObj(p.aliasColors)) {
    for (const [name, color] of Object.entries(p.aliasColors)) {
      if (color) overrides.push({ matcher: { id: 'byName', options: name }, properties: [colorProp(color)] });
    }
  }
  let fillBelowTo = false;
  for (const s of Array.isArray(p.seriesOverrides) ? p.seriesOverrides.filter(isObj) : []) {
    if (typeof s.alias !== 'string' || !s.alias) continue;
    const props: Json[] = [];
    let dashOverride: { fill: string; dash: number[] } | undefined;
    for (const [k, val] of Object.entries(s)) {
      switch (k) {
        case 'yaxis':
          if (num(val) === 2) {
            // Series on the right axis take that axis' settings where they differ from the left one.
            const y2 = axisConfig(yaxes[1]);
            for (const [key, value] of Object.entries(y2)) {
              if (key !== 'custom' && value !== y1[key]) props.push({ id: key, value });
            }
            const y2c = isObj(y2.custom) ? y2.custom : { axisPlacement: 'auto' };
            const y1c = isObj(y1.custom) ? y1.custom : {};
            for (const [key, value] of Object.entries(y2c)) {
              if (key === 'axisPlacement') {
                props.push({ id: 'custom.axisPlacement', value: value === 'hidden' ? 'hidden' : 'right' });
              } else if (value !== y1c[key]) {
                props.push({ id: `custom.${key}`, value });
              }
            }
          }
          break;
        case 'fill':
          props.push({ id: 'custom.fillOpacity', value: (num(val) ?? 0) * 10 });
          break;
        case 'fillBelowTo':
          fillBelowTo = true;
          props.push({ id: 'custom.fillBelowTo', value: val });
          break;
        case 'fillGradient':
          if (val) {
            props.push({ id: 'custom.gradientMode', value: 'opacity' });
            props.push({ id: 'custom.fillOpacity', value: (num(val) ?? 0) * 10 });
          }
          break;
        case 'points':
          props.push({ id: 'custom.showPoints', value: val ? 'always' : 'never' });
          break;
        case 'bars':
          if (val) {
            props.push({ id: 'custom.drawStyle', value: 'bars' });
            props.push({ id: 'custom.fillOpacity', value: 100 });
          } else {
            props.push({ id: 'custom.drawStyle', value: 'line' });
          }
          break;
        case 'lines':
          if (val === false) props.push({ id: 'custom.lineWidth', value: 0 });
          break;
        case 'linewidth':
          props.push({ id: 'custom.lineWidth', value: num(val) });
          break;
        case 'pointradius':
          props.push({ id: 'custom.pointSize', value: 2 + (num(val) ?? 0) * 2 });
          break;
        case 'dashLength':
        case 'spaceLength':
        case 'dashes':
          dashOverride ??= { fill: dash.fill, dash: [...dash.dash] };
          if (k === 'dashLength') dashOverride.dash[0] = num(val) ?? 10;
          else if (k === 'spaceLength') dashOverride.dash[1] = num(val) ?? 10;
          else dashOverride.fill = val ? 'dash' : 'solid';
          break;
        case 'stack':
          props.push({
            id: 'custom.stacking',
            value: { mode: val === false ? 'none' : 'normal', group: val },
          });
          break;
        case 'color':
          props.push(colorProp(val));
          break;
        case 'transform':
          if (val === 'negative-Y') props.push({ id: 'custom.transform', value: 'negative-Y' });
          break;
        case 'legend':
          if (val === false)
            props.push({ id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } });
          break;
        default:
          break;
      }
    }
    if (dashOverride) props.push({ id: 'custom.lineStyle', value: dashOverride });
    if (props.length) overrides.push({ matcher: seriesMatcher(s.alias), properties: props });
  }

  const graph: Json = isObj(y1.custom) ? { ...y1.custom } : {};
  graph.drawStyle = p.bars ? 'bars' : p.lines ? 'line' : 'points';
  if (p.points) {
    graph.showPoints = 'always';
    const r = num(p.pointradius);
    if (r !== undefined) graph.pointSize = 2 + r * 2;
  } else if (graph.drawStyle !== 'points') {
    graph.showPoints = 'never';
  }
  if (num(p.linewidth) !== undefined) graph.lineWidth = num(p.linewidth);
  if (dash.fill !== 'solid') graph.lineStyle = dash;
  const fill = num(p.fill);
  if (fillBelowTo) graph.fillOpacity = 35;
  else if (fill !== undefined) graph.fillOpacity = fill * 10;
  const gradient = num(p.fillGradient);
  if (gradient !== undefined && gradient > 0) {
    graph.gradientMode = 'opacity';
    graph.fillOpacity = gradient * 10;
  }
  // Grafana maps the graph's "connected" null mode to spanning gaps.
  graph.spanNulls = p.nullPointMode === 'connected';
  if (p.steppedLine) graph.lineInterpolation = 'stepAfter';
  if (graph.drawStyle === 'bars') graph.fillOpacity = 100;
  if (p.stack) graph.stacking = { mode: p.percentage ? 'percent' : 'normal', group: 'A' };
  if (isObj(p.yaxis) && num(p.yaxis.decimals) !== undefined && y1.decimals === undefined) {
    y1.decimals = num(p.yaxis.decimals);
  }
  if (num(p.decimals) !== undefined && y1.decimals === undefined) y1.decimals = num(p.decimals);

  const options: Json = {
    legend: { showLegend: true, displayMode: 'list', placement: 'bottom', calcs: [] },
    tooltip: { mode: 'single', sort: 'none' },
  };
  const legend = isObj(p.legend) ? p.legend : undefined;
  const lo = options.legend as Json;
  if (legend) {
    if (legend.show === false) lo.showLegend = false;
    else if (legend.alignAsTable) lo.displayMode = 'table';
    if (legend.rightSide) lo.placement = 'right';
    if (legend.values) {
      lo.calcs = Object.keys(legend)
        .filter((k) => legend[k] && LEGEND_REDUCERS[k])
        .map((k) => LEGEND_REDUCERS[k]);
    }
  }
  if (isObj(p.tooltip)) {
    options.tooltip = {
      mode: p.tooltip.shared ? 'multi' : 'single',
      sort: p.tooltip.sort === 1 ? 'asc' : p.tooltip.sort === 2 ? 'desc' : 'none',
    };
  }
  if (Array.isArray(p.thresholds) && p.thresholds.length) {
    const t = graphThresholds(p.thresholds);
    if (t) {
      graph.thresholdsStyle = { mode: t.mode };
      y1.thresholds = { mode: 'absolute', steps: t.steps };
    }
  }
  y1.custom = graph;
  p.fieldConfig = { defaults: y1, overrides };

  for (const k of [
    'bars',
    'lines',
    'points',
    'pointradius',
    'linewidth',
    'dashes',
    'dashLength',
    'spaceLength',
    'fill',
    'fillGradient',
    'nullPointMode',
    'steppedLine',
    'stack',
    'percentage',
    'yaxes',
    'yaxis',
    'xaxis',
    'legend',
    'tooltip',
    'aliasColors',
    'seriesOverrides',
    'thresholds',
    'renderer',
    'hiddenSeries',
    'timeRegions',
    'decimals',
  ]) {
    delete p[k];
  }
  p.options = { ...(isObj(p.options) ? p.options : {}), ...options };
  delete (p.options as Json).dataLinks;
  p.type = 'timeseries';
}

/** Angular table (`styles`) -> table: the catch-all style gives defaults, the others overrides by name. */
function tableOldToTable(p: Json): void {
  const { defaults, overrides } = fieldConfigOf(p);
  for (const s of Array.isArray(p.styles) ? p.styles.filter(isObj) : []) {
    const props: Json[] = [];
    const pattern = typeof s.pattern === 'string' ? s.pattern : '';
    const unit = s.type === 'date' ? 'dateTimeAsIso' : typeof s.unit === 'string' ? s.unit : undefined;
    const target: Json = {};
    if (unit) target.unit = unit;
    if (num(s.decimals) !== undefined) target.decimals = num(s.decimals);
    if (typeof s.alias === 'string' && s.alias) target.displayName = s.alias;
    if (s.type === 'hidden') target['custom.hidden'] = true;
    if (Array.isArray(s.thresholds) && s.thresholds.length) {
      target.thresholds = { mode: 'absolute', steps: thresholdsFromList(s.thresholds, s.colors) };
      if (s.colorMode === 'cell') target['custom.cellOptions'] = { type: 'color-background' };
      if (s.colorMode === 'value') target['custom.cellOptions'] = { type: 'color-text' };
    }
    if (pattern === '/.*/' || pattern === '') {
      for (const [k, v] of Object.entries(target)) {
        if (k.startsWith('custom.')) {
          defaults.custom = { ...(isObj(defaults.custom) ? defaults.custom : {}), [k.slice(7)]: v };
        } else if (k !== 'displayName') {
          defaults[k] = v;
        }
      }
      continue;
    }
    for (const [k, v] of Object.entries(target)) props.push({ id: k, value: v });
    if (props.length) overrides.push({ matcher: seriesMatcher(pattern), properties: props });
  }
  delete p.styles;
  delete p.columns;
  delete p.transform;
  p.options = { ...(isObj(p.options) ? p.options : {}), showHeader: true };
  p.type = 'table';
}

const CELL_OPTIONS: Record<string, Json> = {
  'color-background': { type: 'color-background', mode: 'gradient' },
  'color-background-solid': { type: 'color-background', mode: 'basic' },
  'gradient-gauge': { type: 'gauge', mode: 'gradient' },
  'lcd-gauge': { type: 'gauge', mode: 'lcd' },
  basic: { type: 'gauge', mode: 'basic' },
  'color-text': { type: 'color-text' },
  'json-view': { type: 'json-view' },
  image: { type: 'image' },
  auto: { type: 'auto' },
};

/** Schema 38: table `displayMode` -> `cellOptions`. */
function tableCellOptions(p: Json): void {
  if (p.type !== 'table') return;
  const { defaults, overrides } = fieldConfigOf(p);
  const custom = isObj(defaults.custom) ? defaults.custom : undefined;
  if (custom && typeof custom.displayMode === 'string') {
    custom.cellOptions = CELL_OPTIONS[custom.displayMode] ?? { type: 'auto' };
    delete custom.displayMode;
  }
  for (const o of overrides) {
    for (const prop of Array.isArray(o.properties) ? o.properties.filter(isObj) : []) {
      if (prop.id === 'custom.displayMode') {
        prop.id = 'custom.cellOptions';
        prop.value = CELL_OPTIONS[String(prop.value)] ?? { type: 'auto' };
      }
    }
  }
}

/** Schema 30: old value maps inside field config; schema 37: hidden legend. */
function fieldConfigUpgrades(p: Json): void {
  if (isObj(p.fieldConfig) && isObj(p.fieldConfig.defaults)) {
    const d = p.fieldConfig.defaults;
    if (Array.isArray(d.mappings) && d.mappings.some((m) => isObj(m) && typeof m.type !== 'string')) {
      const steps =
        isObj(d.thresholds) && Array.isArray(d.thresholds.steps) ? (d.thresholds.steps as Step[]) : undefined;
      d.mappings = upgradeValueMappings(d.mappings, steps);
    }
  }
  const legend = isObj(p.options) && isObj(p.options.legend) ? p.options.legend : undefined;
  if (legend) {
    if (legend.displayMode === 'hidden' || legend.showLegend === false) {
      legend.displayMode = 'list';
      legend.showLegend = false;
    } else if (legend.showLegend === undefined) {
      legend.showLegend = true;
    }
  }
}

/**
 * Stat, gauge and bar gauge panels from Grafana 6 kept their field options inside `options.fieldOptions`
 * (thresholds as a bare list, old value mappings); Grafana's sharedSingleStatMigrationHandler moves them
 * to `fieldConfig` and `options.reduceOptions`.
 */
function singleStatFieldOptions(p: Json): void {
  const options = isObj(p.options) ? p.options : undefined;
  const fo = options && isObj(options.fieldOptions) ? options.fieldOptions : undefined;
  if (!options || !fo) return;
  const fc = fieldConfigOf(p);
  const defaults: Json = isObj(fo.defaults) ? { ...fo.defaults } : {};
  const thresholds = Array.isArray(defaults.thresholds) ? defaults.thresholds : fo.thresholds;
  if (Array.isArray(thresholds) && thresholds.length) {
    const steps = thresholds
      .filter(isObj)
      .map((t) => ({
        value: t.value == null ? Number.NEGATIVE_INFINITY : (num(t.value) ?? 0),
        color: String(t.color),
      }))
      .sort((a, b) => a.value - b.value);
    if (steps.length) steps[0].value = Number.NEGATIVE_INFINITY;
    defaults.thresholds = { mode: 'absolute', steps };
  } else {
    delete defaults.thresholds;
  }
  const mappings = Array.isArray(defaults.mappings) ? defaults.mappings : fo.mappings;
  if (Array.isArray(mappings)) {
    const steps = isObj(defaults.thresholds) ? (defaults.thresholds.steps as Step[]) : undefined;
    defaults.mappings = upgradeValueMappings(mappings, steps);
  }
  if (typeof defaults.color === 'string') defaults.color = { mode: 'fixed', fixedColor: defaults.color };
  if (defaults.title != null) {
    defaults.displayName = defaults.title;
    delete defaults.title;
  }
  fc.defaults = { ...fc.defaults, ...defaults };
  if (Array.isArray(fo.overrides)) fc.overrides.push(...fo.overrides.filter(isObj));
  options.reduceOptions = { values: fo.values, limit: fo.limit, calcs: fo.calcs };
  delete options.fieldOptions;
}

const ANGULAR_TYPES: Record<string, (p: Json) => void> = {
  graph: graphToTimeseries,
  singlestat: singlestatToStat,
  'grafana-singlestat-panel': singlestatToStat,
  'table-old': tableOldToTable,
  text2: (p) => {
    p.type = 'text';
  },
};

function migratePanel(p: Json, ctx: DsContext, oldVersion: number, warnings: string[]): void {
  const title = typeof p.title === 'string' ? p.title : String(p.id ?? '?');
  const step = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      warnings.push(`panel "${title}": ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  if (typeof p.type !== 'string') p.type = 'graph';
  // Angular `table` with styles is table-old (schema 24); angular panels move to their React successors.
  if (p.type === 'table' && Array.isArray(p.styles)) p.type = 'table-old';
  const upgrade = ANGULAR_TYPES[String(p.type)];
  if (upgrade) step(`${p.type} migration`, () => upgrade(p));
  if (p.type === 'stat' || p.type === 'gauge' || p.type === 'bargauge') {
    step('field options', () => singleStatFieldOptions(p));
  }
  step('field config', () => fieldConfigUpgrades(p));
  step('table cell options', () => tableCellOptions(p));
  if (num(p.maxDataPoints) === undefined) delete p.maxDataPoints;
  else p.maxDataPoints = num(p.maxDataPoints);
  for (const k of ['timeFrom', 'timeShift', 'interval']) {
    if (p[k] === null || p[k] === '') delete p[k];
  }
  step('datasource', () => {
    p.datasource = nameToRef(p.datasource, ctx, true);
    const targets = Array.isArray(p.targets) ? p.targets.filter(isObj) : [];
    p.targets = targets;
    let panelWasDefault = false;
    if (p.datasource == null && targets.length && p.type !== 'row') {
      p.datasource = ctx.defaultDs ? refOf(ctx.defaultDs) : null;
      panelWasDefault = true;
    }
    for (const t of targets) {
      const tRef = t.datasource == null ? null : nameToRef(t.datasource, ctx, false);
      if (tRef == null || tRef.uid == null) {
        t.datasource = isObj(p.datasource) ? { ...(p.datasource as Json) } : null;
      } else {
        t.datasource = tRef;
      }
      const uid = isObj(t.datasource) ? t.datasource.uid : undefined;
      if (panelWasDefault && uid !== '__expr__' && ctx.defaultDs) t.datasource = refOf(ctx.defaultDs);
    }
    if (p.datasource == null && p.type !== 'row') delete p.datasource;
  });
  if (oldVersion < 17 && p.minSpan) {
    step('minSpan', () => {
      const max = GRID_COLUMNS / (num(p.minSpan) || GRID_COLUMNS);
      const factors = [1, 2, 3, 4, 6, 8, 12, 24];
      let best = factors[0];
      for (const f of factors) if (Math.abs(f - max) < Math.abs(best - max)) best = f;
      p.maxPerRow = best;
      delete p.minSpan;
    });
  }
  if (Array.isArray(p.panels)) {
    const children = p.panels.filter(isObj);
    for (const c of children) migratePanel(c, ctx, oldVersion, warnings);
    p.panels = children;
  }
}

// ---- Grid sanity ----

function fixGrid(panels: Json[], ids: { next: number; seen: Set<number> }): void {
  for (const p of panels) {
    const id = num(p.id);
    if (id === undefined || ids.seen.has(id)) {
      p.id = ids.next++;
    } else {
      p.id = id;
    }
    ids.seen.add(p.id as number);
    const g = isObj(p.gridPos) ? p.gridPos : {};
    let w = Math.round(num(g.w) ?? 6);
    let x = Math.round(num(g.x) ?? 0);
    const h = Math.max(1, Math.round(num(g.h) ?? 3));
    const y = Math.max(0, Math.round(num(g.y) ?? 0));
    w = Math.min(GRID_COLUMNS, Math.max(1, w));
    x = Math.min(GRID_COLUMNS - w, Math.max(0, x));
    p.gridPos = { x, y, w, h: p.type === 'row' ? 1 : h };
    if (Array.isArray(p.panels)) fixGrid(p.panels as Json[], ids);
  }
}

function sortByGrid(panels: Json[]): void {
  const pos = (p: Json) => (p.gridPos as GridPos) ?? { x: 0, y: 0, w: 0, h: 0 };
  panels.sort((a, b) => pos(a).y - pos(b).y || pos(a).x - pos(b).x);
}

// ---- Variables ----

function migrateVariable(v: Json, ctx: DsContext, warnings: string[]): void {
  try {
    if (v.type === 'query' || v.type === 'adhoc') {
      v.datasource = nameToRef(v.datasource, ctx, true);
      if (v.datasource == null && v.type === 'query' && ctx.defaultDs) v.datasource = refOf(ctx.defaultDs);
    }
    // Schema 29: query variables always refresh (never-refresh stored options were dropped).
    if (v.type === 'query') {
      if (v.refresh !== 1 && v.refresh !== 2) v.refresh = 1;
      v.options = [];
    }
    if (v.type === 'constant') v.hide = 2;
    if (v.type === 'interval' && isObj(v.current) && typeof v.current.value === 'string') {
      if (v.current.value.startsWith('$__auto_interval')) v.current = { ...v.current, value: '$__auto' };
    }
    const cur = isObj(v.current) ? v.current : undefined;
    if (cur && v.multi === true) {
      if (cur.value != null && !Array.isArray(cur.value)) cur.value = [cur.value];
      if (cur.text != null && !Array.isArray(cur.text)) cur.text = [cur.text];
    }
    for (const k of ['tags', 'tagsQuery', 'tagValuesQuery', 'useTags']) delete v[k];
  } catch (e) {
    warnings.push(`variable ${String(v.name)}: ${e instanceof Error ? e.message : String(e)}`);
  }
}

// ---- Entry point ----

function emptyDashboard(): Json {
  return { title: 'Dashboard', uid: '', panels: [], templating: { list: [] } };
}

/**
 * Migrates a dashboard to schemaVersion 41. `datasources` and `defaultName` come from
 * `/api/frontend/settings`. The input is not modified.
 */
export function migrateDashboard(
  json: unknown,
  datasources: readonly DataSourceSettings[],
  defaultName?: string,
): MigrationResult {
  const warnings: string[] = [];
  let dash: Json;
  if (isObj(json) && isObj(json.dashboard) && !('panels' in json) && !('rows' in json)) {
    dash = clone(json.dashboard);
  } else if (isObj(json)) {
    dash = clone(json);
  } else {
    warnings.push('dashboard JSON is not an object');
    dash = emptyDashboard();
  }
  const oldVersion = num(dash.schemaVersion) ?? 0;
  const defaultDs =
    datasources.find((d) => d.name === defaultName) ?? datasources.find((d) => d.isDefault) ?? datasources[0];
  const templating = isObj(dash.templating) ? dash.templating : {};
  const list = Array.isArray(templating.list) ? templating.list.filter(isObj) : [];
  dash.templating = { ...templating, list };
  const dsVariables = new Map<string, string>();
  for (const v of list) {
    if (v.type === 'datasource' && typeof v.name === 'string' && typeof v.query === 'string') {
      dsVariables.set(v.name, v.query);
    }
  }
  const ctx: DsContext = { datasources, defaultDs, dsVariables, warnings };

  const guard = (name: string, fn: () => void) => {
    try {
      fn();
    } catch (e) {
      warnings.push(`${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  };
  guard('inputs', () => resolveInputs(dash, ctx, warnings));
  guard('rows', () => upgradeRows(dash));
  if (!Array.isArray(dash.panels)) dash.panels = [];
  // Copies an old Grafana saved for repeated panels are made again from the variable at view time.
  const notClone = (p: Json) => !p.repeatPanelId;
  const panels = (dash.panels as unknown[]).filter(isObj).filter(notClone);
  for (const p of panels) if (Array.isArray(p.panels)) p.panels = p.panels.filter(isObj).filter(notClone);
  dash.panels = panels;
  for (const p of panels) migratePanel(p, ctx, oldVersion, warnings);
  for (const v of list) migrateVariable(v, ctx, warnings);

  guard('grid', () => {
    const all: number[] = [];
    const collect = (ps: Json[]) => {
      for (const p of ps) {
        const id = num(p.id);
        if (id !== undefined) all.push(id);
        if (Array.isArray(p.panels)) collect(p.panels as Json[]);
      }
    };
    collect(panels);
    fixGrid(panels, { next: Math.max(0, ...all) + 1, seen: new Set() });
    sortByGrid(panels);
  });

  guard('annotations', () => {
    const ann = isObj(dash.annotations) ? dash.annotations : {};
    const items = Array.isArray(ann.list) ? ann.list.filter(isObj) : [];
    for (const a of items) {
      if (a.datasource === '-- Grafana --' || a.builtIn === 1)
        a.datasource = { type: 'grafana', uid: '-- Grafana --' };
      else a.datasource = nameToRef(a.datasource, ctx, false);
    }
    dash.annotations = { ...ann, list: items };
  });

  const time = isObj(dash.time) ? dash.time : {};
  dash.time = {
    from: typeof time.from === 'string' && time.from ? time.from : 'now-6h',
    to: typeof time.to === 'string' && time.to ? time.to : 'now',
  };
  if (isObj(dash.timepicker)) {
    // Schema 41 dropped the picker's own list of ranges; the refresh intervals stay.
    delete dash.timepicker.time_options;
    delete dash.timepicker.nowDelay;
  }
  if (typeof dash.refresh !== 'string' && dash.refresh !== false) dash.refresh = '';
  if (typeof dash.timezone !== 'string') dash.timezone = '';
  if (typeof dash.title !== 'string') dash.title = String(dash.title ?? 'Dashboard');
  if (typeof dash.uid !== 'string') dash.uid = dash.uid == null ? '' : String(dash.uid);
  delete dash.__inputs;
  delete dash.__requires;
  dash.schemaVersion = Math.max(LATEST_SCHEMA_VERSION, oldVersion);
  return { dashboard: dash as unknown as Dashboard, warnings: [...new Set(warnings)] };
}

/** Every panel of a migrated dashboard, rows' children included, in grid order. */
export function allPanels(d: Dashboard): Panel[] {
  const out: Panel[] = [];
  for (const p of d.panels) {
    out.push(p);
    if (Array.isArray(p.panels)) out.push(...p.panels);
  }
  return out;
}

/** The queries of a panel that run (not hidden), each with a resolved datasource ref. */
export function visibleTargets(p: Panel): Target[] {
  return (p.targets ?? []).filter((t) => !t.hide);
}
