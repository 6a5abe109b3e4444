// TEMPORARY shim: a snapshot of lane ui-time's src/dashboard/ file of the same name; deleted once it is merged.
// Brings a stored dashboard JSON (schemaVersion 14 or later, some older) up to schemaVersion 41 the way
// Grafana's DashboardMigrator and its automatic panel migrations do, for everything that changes what we
// draw: legacy rows to grid panels, datasource names to refs, `${DS_X}` inputs, graph -> timeseries,
// singlestat -> stat/gauge, table-old -> table, old thresholds and value maps, old variable shapes.
// It never throws: a step that meets odd input leaves that part as it was and notes it in `warnings`.
import type {
  Dashboard,
  DataSourceRef,
  DataSourceSettings,
  GridPos,
  Panel,
  Target,
} from '../dashboard/model';

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

const COLORS_DEFAULT = ['#299c46', 'rgba(237, 129, 40, 0.89)', '#d44a3a'];

interface Step {
  value: number | null;
  color: string;
}

/** Singlestat-style `"50,80"` + three colours -> threshold steps (the first is the base, value null). */
function thresholdsFromString(text: unknown, colors: unknown): Step[] {
  const cs = Array.isArray(colors) && colors.length ? colors.map(String) : COLORS_DEFAULT;
  const values =
    typeof text === 'string'
      ? text
          .split(',')
          .map((s) => num(s.trim()))
          .filter((n): n is number => n !== undefined)
      : Array.isArray(text)
        ? text.map(num).filter((n): n is number => n !== undefined)
        : [];
  const steps: Step[] = [{ value: null, color: cs[0] ?? 'green' }];
  values.forEach((v, i) => {
    steps.push({ value: v, color: cs[i + 1] ?? cs[cs.length - 1] });
  });
  return steps;
}

function activeColor(value: number, steps: Step[]): string | undefined {
  let color: string | undefined;
  for (const s of steps) {
    if (s.value === null || value >= s.value) color = s.color;
  }
  return color;
}

/** Grafana's upgradeValueMappings: old value/range maps -> value, range and special mappings. */
export function upgradeValueMappings(old: unknown, steps?: Step[]): unknown[] | undefined {
  if (!Array.isArray(old)) return undefined;
  const valueOptions: Json = {};
  const out: Json[] = [];
  let index = 0;
  for (const m of old) {
    if (!isObj(m)) continue;
    // Already new-style (type is a string): keep.
    if (typeof m.type === 'string') {
      out.push(m);
      continue;
    }
    const text = m.text == null ? '' : String(m.text);
    const numeric = Number.parseFloat(text);
    const color = steps && !Number.isNaN(numeric) ? activeColor(numeric, steps) : undefined;
    const result: Json = { text };
    if (color) result.color = color;
    const type = num(m.type) ?? (m.from != null || m.to != null ? 2 : 1);
    if (type === 1 && m.value != null) {
      if (m.value === 'null') {
        out.push({ type: 'special', options: { match: 'null', result: { ...result, index: index++ } } });
      } else {
        valueOptions[String(m.value)] = { ...result, index: index++ };
      }
    } else if (type === 2) {
      out.push({
        type: 'range',
        options: { from: num(m.from) ?? null, to: num(m.to) ?? null, result: { ...result, index: index++ } },
      });
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

const REDUCER_OF: Record<string, string> = {
  avg: 'mean',
  current: 'lastNotNull',
  max: 'max',
  min: 'min',
  total: 'sum',
  first: 'firstNotNull',
  delta: 'delta',
  diff: 'diff',
  range: 'range',
  last_time: 'lastNotNull',
  name: 'lastNotNull',
};

/** Angular singlestat -> stat or gauge (gauge when it showed its gauge). */
function singlestatToStat(p: Json): void {
  const gauge = isObj(p.gauge) ? p.gauge : {};
  const toGauge = gauge.show === true;
  const { defaults } = fieldConfigOf(p);
  const steps = thresholdsFromString(p.thresholds, p.colors);
  if (typeof p.format === 'string') defaults.unit = p.format;
  if (num(p.decimals) !== undefined) defaults.decimals = num(p.decimals);
  if (typeof p.nullText === 'string' && p.nullText) defaults.noValue = p.nullText;
  if (toGauge) {
    if (num(gauge.minValue) !== undefined) defaults.min = num(gauge.minValue);
    if (num(gauge.maxValue) !== undefined) defaults.max = num(gauge.maxValue);
  }
  defaults.thresholds = { mode: 'absolute', steps };
  defaults.color = { mode: 'thresholds' };
  const mapType = num(p.mappingType) ?? 1;
  const oldMaps =
    mapType === 2
      ? (Array.isArray(p.rangeMaps) ? p.rangeMaps : []).map((m) => (isObj(m) ? { ...m, type: 2 } : m))
      : (Array.isArray(p.valueMaps) ? p.valueMaps : []).map((m) => (isObj(m) ? { ...m, type: 1 } : m));
  const mappings = upgradeValueMappings(oldMaps, steps);
  if (mappings?.length) defaults.mappings = mappings;
  const calc = REDUCER_OF[String(p.valueName ?? 'avg')] ?? 'mean';
  const sparkline = isObj(p.sparkline) ? p.sparkline : {};
  const options: Json = {
    reduceOptions: { calcs: [calc], fields: '', values: false },
    orientation: 'horizontal',
    text: {},
  };
  if (toGauge) {
    options.showThresholdMarkers = gauge.thresholdMarkers !== false;
    options.showThresholdLabels = gauge.thresholdLabels === true;
  } else {
    options.colorMode = p.colorBackground ? 'background' : p.colorValue ? 'value' : 'none';
    options.graphMode = sparkline.show ? 'area' : 'none';
    options.justifyMode = 'auto';
    options.textMode = 'auto';
  }
  if (typeof p.tableColumn === 'string' && p.tableColumn) {
    (options.reduceOptions as Json).fields = `/^${p.tableColumn.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&')}$/`;
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
  p.options = { ...(isObj(p.options) ? p.options : {}), ...options };
  p.type = toGauge ? 'gauge' : 'stat';
}

function colorProp(color: unknown): Json {
  return { id: 'color', value: { mode: 'fixed', fixedColor: String(color) } };
}

function seriesMatcher(alias: string): Json {
  const m = /^\/(.*)\/([gimsuy]*)$/.exec(alias);
  return m ? { id: 'byRegexp', options: alias } : { id: 'byName', options: alias };
}

/** Angular graph -> timeseries: draw style, fill, stacking, axes, legend, tooltip, series overrides. */
function graphToTimeseries(p: Json): void {
  const { defaults, overrides } = fieldConfigOf(p);
  const custom: Json = isObj(defaults.custom) ? defaults.custom : {};
  defaults.custom = custom;
  const bars = p.bars === true;
  const lines = p.lines !== false;
  const points = p.points === true;
  custom.drawStyle = bars ? 'bars' : lines ? 'line' : points ? 'points' : 'line';
  if (!bars && !lines && !points) custom.lineWidth = 0;
  if (points) {
    custom.showPoints = 'always';
    const r = num(p.pointradius);
    if (r !== undefined) custom.pointSize = 2 + r * 2;
  } else if (custom.drawStyle !== 'points') {
    custom.showPoints = 'never';
  }
  if (lines && num(p.linewidth) !== undefined) custom.lineWidth = num(p.linewidth);
  if (p.dashes)
    custom.lineStyle = { fill: 'dash', dash: [num(p.dashLength) ?? 10, num(p.spaceLength) ?? 10] };
  const fill = num(p.fill);
  custom.fillOpacity = bars ? 100 : fill !== undefined ? fill * 10 : 10;
  const gradient = num(p.fillGradient);
  if (gradient && gradient > 0) {
    custom.gradientMode = 'opacity';
    custom.fillOpacity = gradient * 10;
  }
  custom.spanNulls = p.nullPointMode === 'connected';
  if (p.steppedLine) custom.lineInterpolation = 'stepAfter';
  if (p.stack) custom.stacking = { mode: p.percentage ? 'percent' : 'normal', group: 'A' };
  const yaxes = Array.isArray(p.yaxes) ? p.yaxes.filter(isObj) : [];
  const y1 = yaxes[0];
  if (y1) {
    if (typeof y1.format === 'string' && defaults.unit === undefined) defaults.unit = y1.format;
    if (num(y1.decimals) !== undefined) defaults.decimals = num(y1.decimals);
    if (num(y1.min) !== undefined) defaults.min = num(y1.min);
    if (num(y1.max) !== undefined) defaults.max = num(y1.max);
    if (typeof y1.label === 'string' && y1.label) custom.axisLabel = y1.label;
    const base = num(y1.logBase);
    if (base && base !== 1) custom.scaleDistribution = { type: 'log', log: base };
    if (y1.show === false) custom.axisPlacement = 'hidden';
  }
  if (isObj(p.yaxis) && num(p.yaxis.decimals) !== undefined) defaults.decimals = num(p.yaxis.decimals);
  if (num(p.decimals) !== undefined) defaults.decimals = num(p.decimals);
  // Graph thresholds become field thresholds drawn as lines/areas.
  if (Array.isArray(p.thresholds) && p.thresholds.length && !defaults.thresholds) {
    const steps: Step[] = [{ value: null, color: 'transparent' }];
    let fillArea = false;
    for (const t of p.thresholds.filter(isObj)) {
      const v = num(t.value);
      if (v === undefined) continue;
      const color =
        t.colorMode === 'critical'
          ? 'red'
          : t.colorMode === 'warning'
            ? 'orange'
            : t.colorMode === 'ok'
              ? 'green'
              : String(t.lineColor ?? t.fillColor ?? 'red');
      steps.push({ value: v, color });
      if (t.fill) fillArea = true;
    }
    steps.sort((a, b) => (a.value ?? Number.NEGATIVE_INFINITY) - (b.value ?? Number.NEGATIVE_INFINITY));
    defaults.thresholds = { mode: 'absolute', steps };
    custom.thresholdsStyle = { mode: fillArea ? 'line+area' : 'line' };
  }
  const legend = isObj(p.legend) ? p.legend : {};
  const calcs: string[] = [];
  for (const [k, id] of [
    ['min', 'min'],
    ['max', 'max'],
    ['avg', 'mean'],
    ['current', 'lastNotNull'],
    ['total', 'sum'],
  ] as const) {
    if (legend.values && legend[k]) calcs.push(id);
  }
  const tooltip = isObj(p.tooltip) ? p.tooltip : {};
  const options: Json = {
    legend: {
      showLegend: legend.show !== false,
      displayMode: legend.alignAsTable ? 'table' : 'list',
      placement: legend.rightSide ? 'right' : 'bottom',
      calcs,
    },
    tooltip: {
      mode: tooltip.shared === false ? 'single' : 'multi',
      sort: tooltip.sort === 1 ? 'asc' : tooltip.sort === 2 ? 'desc' : 'none',
    },
  };
  // Series overrides and alias colours -> field overrides.
  if (isObj(p.aliasColors)) {
    for (const [name, color] of Object.entries(p.aliasColors)) {
      overrides.push({ matcher: { id: 'byName', options: name }, properties: [colorProp(color)] });
    }
  }
  for (const s of Array.isArray(p.seriesOverrides) ? p.seriesOverrides.filter(isObj) : []) {
    if (typeof s.alias !== 'string' || !s.alias) continue;
    const props: Json[] = [];
    if (s.color) props.push(colorProp(s.color));
    if (s.bars === true) props.push({ id: 'custom.drawStyle', value: 'bars' });
    if (s.lines === true && !s.bars) props.push({ id: 'custom.drawStyle', value: 'line' });
    if (s.lines === false && s.points !== true && s.bars !== true)
      props.push({ id: 'custom.lineWidth', value: 0 });
    if (s.points === true) props.push({ id: 'custom.showPoints', value: 'always' });
    if (num(s.fill) !== undefined)
      props.push({ id: 'custom.fillOpacity', value: (num(s.fill) as number) * 10 });
    if (num(s.linewidth) !== undefined) props.push({ id: 'custom.lineWidth', value: num(s.linewidth) });
    if (s.stack === false) props.push({ id: 'custom.stacking', value: { mode: 'none', group: 'A' } });
    if (num(s.yaxis) === 2) props.push({ id: 'custom.axisPlacement', value: 'right' });
    if (s.dashes === true) props.push({ id: 'custom.lineStyle', value: { fill: 'dash', dash: [10, 10] } });
    if (s.transform === 'negative-Y') props.push({ id: 'custom.transform', value: 'negative-Y' });
    if (s.legend === false) {
      props.push({ id: 'custom.hideFrom', value: { legend: true, tooltip: false, viz: false } });
    }
    if (props.length) overrides.push({ matcher: seriesMatcher(s.alias), properties: props });
  }
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
      target.thresholds = { mode: 'absolute', steps: thresholdsFromString(s.thresholds, s.colors) };
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
  const panels = (dash.panels as unknown[]).filter(isObj);
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
