// Dashboard template variables as Grafana runs them: their state (from the JSON's `current`, the URL's
// `var-x`, and options), interpolation of `$var` / `${var:format}` / `[[var]]` with Grafana's formats,
// the variable types (query, custom, interval, constant, textbox, datasource), Prometheus/Loki variable
// queries through an injected fetcher, and refresh order for chained variables.

import { type BuiltinValue, calculateInterval } from './interval';
import type { DataSourceRef, DataSourceSettings, Variable } from './model';
import { formatDate } from './time';

export const ALL_VALUE = '$__all';
export const ALL_TEXT = 'All';
export const AUTO_VALUE = '$__auto';

export type VariableValue = string | string[];

export interface OptionState {
  text: string;
  value: string;
}

/** A variable at run time. `model` is its JSON as the dashboard holds it. */
export interface VariableState {
  name: string;
  type: Variable['type'];
  label?: string;
  hide: number;
  multi: boolean;
  includeAll: boolean;
  allValue?: string | null;
  value: VariableValue;
  text: VariableValue;
  /** The choices, without the All option. */
  options: OptionState[];
  /** 0 never, 1 on load, 2 on time range change. */
  refresh: number;
  model: Variable;
  /** The last refresh's failure, shown beside the variable. */
  error?: string;
  /** Set when the value came from the URL: it survives the next validation even if not among the options. */
  keepValue?: boolean;
}

/** What a custom formatter is told about the variable being formatted. */
export interface FormatVariableInfo {
  name: string;
  type?: string;
  multi?: boolean;
  includeAll?: boolean;
}

export type FormatFunction = (value: string | string[], variable: FormatVariableInfo) => string;
export type Format = string | FormatFunction;

export interface ScopedVar {
  text: string;
  value: VariableValue;
}

export interface InterpolationContext {
  variables: readonly VariableState[];
  /** `__interval`, `__from`... (see interval.ts `builtinVariables`). */
  builtins?: Record<string, BuiltinValue>;
  /** Per-panel values that win over dashboard variables (repeated panels, `__field`...). */
  scoped?: Record<string, ScopedVar>;
  /** For interval variables set to auto. */
  range?: { from: number; to: number };
}

// ---- Formats ----

/** Grafana's escapeRegex: the characters special in a JS/RE2 regex get a backslash. */
export function escapeRegex(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

function luceneEscape(value: string): string {
  if (!Number.isNaN(+value)) return value;
  return value.replace(/([!*+\-=<>\s&|()[\]{}^~?:\\/"])/g, '\\$1');
}

/** encodeURIComponent that also encodes `!'()*` (RFC 3986), as Grafana's percentencode does. */
function encodeStrict(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

interface Formatted {
  value: string | string[] | number;
  text: string;
  variable: FormatVariableInfo;
}

type Formatter = (f: Formatted, args: string[]) => string;

const str = (v: string | string[] | number) => String(v);

/** Grafana's variable formats by id (`${var:csv}`). */
const FORMATS: Record<string, Formatter> = {
  lucene: ({ value }) => {
    if (Array.isArray(value)) {
      if (value.length === 0) return '__empty__';
      return `(${value.map((v) => `"${luceneEscape(v)}"`).join(' OR ')})`;
    }
    return luceneEscape(str(value));
  },
  raw: ({ value }) => str(value),
  regex: ({ value }) => {
    if (Array.isArray(value)) {
      const escaped = value.map(escapeRegex);
      return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
    }
    return escapeRegex(str(value));
  },
  pipe: ({ value }) => (Array.isArray(value) ? value.join('|') : str(value)),
  distributed: ({ value, variable }) =>
    Array.isArray(value)
      ? value.map((v, i) => (i === 0 ? v : `${variable.name}=${v}`)).join(',')
      : str(value),
  csv: ({ value }) => (Array.isArray(value) ? value.join(',') : str(value)),
  html: ({ value }) => escapeHtml(Array.isArray(value) ? value.join(', ') : str(value)),
  json: ({ value }) => (typeof value === 'string' ? value : JSON.stringify(value)),
  percentencode: ({ value }) => encodeStrict(Array.isArray(value) ? `{${value.join(',')}}` : str(value)),
  uriencode: ({ value }) =>
    encodeURI(Array.isArray(value) ? `{${value.join(',')}}` : str(value)).replace(
      /[!'()*]/g,
      (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
    ),
  singlequote: ({ value }) => {
    const q = (v: string) => `'${v.replace(/'/g, "\\'")}'`;
    return Array.isArray(value) ? value.map(q).join(',') : q(str(value));
  },
  doublequote: ({ value }) => {
    const q = (v: string) => `"${v.replace(/"/g, '\\"')}"`;
    return Array.isArray(value) ? value.map(q).join(',') : q(str(value));
  },
  sqlstring: ({ value }) => {
    const q = (v: string) => `'${v.replace(/'|"/g, (m) => (m === "'" ? "''" : '\\"'))}'`;
    return Array.isArray(value) ? value.map(q).join(',') : q(str(value));
  },
  join: ({ value }, args) => (Array.isArray(value) ? value.join(args[0] ?? ',') : str(value)),
  date: ({ value }, args) => {
    const n =
      typeof value === 'number' ? value : typeof value === 'string' ? Number.parseInt(value, 10) : Number.NaN;
    if (Number.isNaN(n)) return 'NaN';
    const arg = args[0] ?? 'iso';
    switch (arg) {
      case 'ms':
        return str(value);
      case 'seconds':
        return `${Math.round(n / 1000)}`;
      case 'iso':
        return new Date(n).toISOString();
      default:
        // Like Grafana, in the browser's zone; a format with ':' in it arrives split into args.
        return formatDate(n, args.join(':'));
    }
  },
  glob: ({ value }) => (Array.isArray(value) && value.length > 1 ? `{${value.join(',')}}` : str(value)),
  text: ({ text }) => text,
  queryparam: ({ value, variable }) => {
    const one = (v: string) => `var-${variable.name}=${encodeStrict(v)}`;
    return Array.isArray(value) ? value.map(one).join('&') : one(str(value));
  },
};

/** The format ids `${var:<id>}` accepts. */
export const FORMAT_IDS: readonly string[] = Object.keys(FORMATS);

function prometheusRegularEscape(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/'/g, "\\\\'");
}

function regexEscapeInString(value: string): string {
  // Inside a PromQL/LogQL string a regex backslash is written twice, so both levels of escaping apply.
  return value.replace(/\\/g, '\\\\\\\\').replace(/[$^*{}[\]+?.()|]/g, '\\\\$&');
}

/**
 * Prometheus' way of putting a variable into PromQL: a single value only has quotes and backslashes
 * escaped; a multi-value or include-All variable is regex-escaped and several values become `(a|b)`.
 */
export const prometheusFormat: FormatFunction = (value, variable) => {
  if (!variable.multi && !variable.includeAll) {
    return Array.isArray(value)
      ? value.map(prometheusRegularEscape).join(',')
      : prometheusRegularEscape(value);
  }
  if (typeof value === 'string') return regexEscapeInString(value);
  const escaped = value.map(regexEscapeInString);
  return escaped.length === 1 ? escaped[0] : `(${escaped.join('|')})`;
};

/** Loki's: a single value as it is; multi/All regex-escaped and joined with `|` (no parentheses). */
export const lokiFormat: FormatFunction = (value, variable) => {
  if (!variable.multi && !variable.includeAll) return Array.isArray(value) ? value.join(',') : value;
  if (typeof value === 'string') return regexEscapeInString(value);
  const escaped = value.map(regexEscapeInString);
  return escaped.length === 1 ? escaped[0] : escaped.join('|');
};

/** The default format of a datasource's queries: Prometheus' and Loki's own; others use glob. */
export function formatForDatasource(type: string | undefined): FormatFunction | undefined {
  if (type === 'prometheus') return prometheusFormat;
  if (type === 'loki') return lokiFormat;
  return undefined;
}

// ---- Interpolation ----

/** `$var`, `[[var]]`, `[[var:fmt]]`, `${var}`, `${var.field}`, `${var:fmt}` (Grafana's variable regex). */
export const VARIABLE_REGEX = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;

function isAll(value: VariableValue): boolean {
  return value === ALL_VALUE || (Array.isArray(value) && value[0] === ALL_VALUE);
}

/** The text of a variable as the `text` format and the variables bar show it. */
export function variableText(v: VariableState): string {
  if (isAll(v.value)) return ALL_TEXT;
  return Array.isArray(v.text) ? v.text.join(' + ') : String(v.text);
}

/** The value an interval variable stands for: its choice, or the computed one when set to auto. */
function intervalValue(v: VariableState, range?: { from: number; to: number }): string {
  const value = Array.isArray(v.value) ? (v.value[0] ?? '') : v.value;
  if (value !== AUTO_VALUE && !value.startsWith('$__auto_interval')) return value;
  if (!range) return value;
  const count = Number(v.model.auto_count ?? 30) || 30;
  try {
    return calculateInterval(range, count, String(v.model.auto_min ?? '10s')).interval;
  } catch {
    return calculateInterval(range, count).interval;
  }
}

const MAX_DEPTH = 10;

/**
 * Replaces variable references in text. `format` applies where the reference names none; without one,
 * Grafana's default (glob) is used. Unknown variables stay as written.
 */
export function interpolate(
  text: string | undefined | null,
  ctx: InterpolationContext,
  format?: Format,
  depth = 0,
): string {
  if (!text || typeof text !== 'string') return text ?? '';
  return text.replace(
    VARIABLE_REGEX,
    (
      match,
      v1: string | undefined,
      v2: string | undefined,
      f2: string | undefined,
      v3: string | undefined,
      fieldPath: string | undefined,
      f3: string | undefined,
    ) => {
      const name = (v1 || v2 || v3) as string;
      const fmt: Format | undefined = f2 || f3 || format;
      const scoped = ctx.scoped && Object.hasOwn(ctx.scoped, name) ? ctx.scoped[name] : undefined;
      if (scoped) {
        const info = { name, multi: Array.isArray(scoped.value), includeAll: false };
        return applyFormat(scoped.value, scoped.text, info, fmt);
      }
      const variable = ctx.variables.find((v) => v.name === name);
      if (variable) return formatVariable(variable, ctx, fmt, depth, fieldPath);
      if (ctx.builtins && Object.hasOwn(ctx.builtins, name)) {
        const value = ctx.builtins[name];
        return applyFormat(
          typeof value === 'number' ? String(value) : value,
          String(value),
          { name },
          fmt,
          value,
        );
      }
      return match;
    },
  );
}

function formatVariable(
  v: VariableState,
  ctx: InterpolationContext,
  fmt: Format | undefined,
  depth: number,
  _fieldPath?: string,
): string {
  const info: FormatVariableInfo = { name: v.name, type: v.type, multi: v.multi, includeAll: v.includeAll };
  if (v.type === 'interval') {
    const value = intervalValue(v, ctx.range);
    return applyFormat(value, value, info, fmt);
  }
  if (isAll(v.value)) {
    if (v.allValue) {
      // A custom all value is used as written (no escaping), except for the text and URL formats; it may
      // itself hold variables.
      if (fmt === 'text') return ALL_TEXT;
      if (fmt === 'percentencode') return encodeStrict(v.allValue);
      if (fmt === 'queryparam') return `var-${v.name}=${ALL_TEXT}`;
      return depth < MAX_DEPTH ? interpolate(v.allValue, ctx, undefined, depth + 1) : v.allValue;
    }
    const all = v.options.map((o) => o.value);
    return applyFormat(all, ALL_TEXT, info, fmt);
  }
  return applyFormat(v.value, variableText(v), info, fmt);
}

function applyFormat(
  value: VariableValue,
  text: string,
  info: FormatVariableInfo,
  fmt: Format | undefined,
  raw?: BuiltinValue,
): string {
  if (typeof fmt === 'function') return fmt(value, info);
  let id = fmt ?? 'glob';
  let args: string[] = [];
  const parts = id.split(':');
  if (parts.length > 1) {
    id = parts[0];
    args = parts.slice(1);
  }
  // Unknown format ids fall back to glob, as Grafana does (own keys only: `${x:constructor}` is unknown).
  const formatter = Object.hasOwn(FORMATS, id) ? FORMATS[id] : FORMATS.glob;
  return formatter(
    { value: raw !== undefined && typeof raw === 'number' ? raw : value, text, variable: info },
    args,
  );
}

/**
 * The values a panel or row repeated by this variable is drawn for, each as the scoped value its copy
 * sees: the selected values, or every option when All is selected.
 */
export function repeatValues(v: VariableState): ScopedVar[] {
  if (isAll(v.value)) return v.options.map((o) => ({ text: o.text, value: o.value }));
  const values = Array.isArray(v.value) ? v.value : [v.value];
  const texts = Array.isArray(v.text) ? v.text : [v.text];
  return values.map((value, i) => ({ value, text: texts[i] ?? value }));
}

/** The names a text refers to (`$a`, `${b:csv}`, `[[c]]`). */
export function referencedNames(text: string | undefined | null): string[] {
  if (!text) return [];
  const out = new Set<string>();
  for (const m of text.matchAll(VARIABLE_REGEX)) out.add((m[1] || m[2] || m[4]) as string);
  return [...out];
}

// ---- State from the dashboard JSON and the URL ----

/** The query text of a variable, whichever shape the JSON has. */
export function variableQueryText(model: Variable): string {
  const q = model.query;
  if (typeof q === 'string') return q;
  if (q && typeof q === 'object') {
    if (typeof q.query === 'string' && q.query) return q.query;
    const built = promQueryFromObject(q) ?? lokiQueryFromObject(q);
    if (built) return built;
  }
  return typeof model.definition === 'string' ? model.definition : '';
}

/** Prometheus' variable-editor object (`qryType` 1..6) back to the classic text. */
function promQueryFromObject(q: Record<string, unknown>): string | undefined {
  const type = q.qryType;
  if (typeof type !== 'number') return undefined;
  const metric = typeof q.metric === 'string' ? q.metric : '';
  const label = typeof q.label === 'string' ? q.label : '';
  switch (type) {
    case 1:
      return `label_names(${metric})`;
    case 2:
      return metric ? `label_values(${metric}, ${label})` : `label_values(${label})`;
    case 3:
      return `metrics(${metric})`;
    case 4:
      return `query_result(${typeof q.varQuery === 'string' ? q.varQuery : ''})`;
    case 5:
      return typeof q.seriesQuery === 'string' ? q.seriesQuery : '';
    default:
      return undefined;
  }
}

/** Loki's variable-editor object (`{type: 0|1|'labelNames'|'labelValues', label, stream}`). */
function lokiQueryFromObject(q: Record<string, unknown>): string | undefined {
  const t = q.type;
  const label = typeof q.label === 'string' ? q.label : '';
  const stream = typeof q.stream === 'string' ? q.stream : '';
  if (t === 0 || t === 'labelNames') return 'label_names()';
  if (t === 1 || t === 'labelValues')
    return stream ? `label_values(${stream}, ${label})` : `label_values(${label})`;
  return undefined;
}

function asOptions(list: unknown): OptionState[] {
  if (!Array.isArray(list)) return [];
  const out: OptionState[] = [];
  for (const o of list) {
    if (!o || typeof o !== 'object') continue;
    const rec = o as Record<string, unknown>;
    const value = Array.isArray(rec.value) ? rec.value[0] : rec.value;
    const text = Array.isArray(rec.text) ? rec.text[0] : rec.text;
    if (value === ALL_VALUE) continue;
    if (value === undefined && text === undefined) continue;
    out.push({ text: String(text ?? value), value: String(value ?? text) });
  }
  return out;
}

function normaliseValue(v: unknown): VariableValue {
  if (Array.isArray(v)) return v.map((x) => String(x ?? ''));
  if (v === undefined || v === null) return '';
  return String(v);
}

/** A variable's state as the dashboard JSON has it, before any refresh. */
export function initialState(model: Variable): VariableState {
  const cur = (model.current ?? {}) as { text?: unknown; value?: unknown };
  let value = normaliseValue(cur.value);
  let text = normaliseValue(cur.text ?? cur.value);
  const multi = model.multi === true;
  if (multi && !Array.isArray(value)) value = value === '' ? [] : [value];
  if (multi && !Array.isArray(text)) text = text === '' ? [] : [text];
  if (!multi && Array.isArray(value)) value = value[0] ?? '';
  if (!multi && Array.isArray(text)) text = text[0] ?? '';
  if (model.type === 'interval' && typeof value === 'string' && value.startsWith('$__auto_interval')) {
    value = AUTO_VALUE;
  }
  const st: VariableState = {
    name: String(model.name ?? ''),
    type: model.type,
    label: model.label,
    hide: Number(model.hide ?? 0) || 0,
    multi,
    includeAll: model.includeAll === true,
    allValue: model.allValue ?? null,
    value,
    text,
    options: asOptions(model.options),
    refresh: Number(model.refresh ?? (model.type === 'query' ? 1 : 0)) || 0,
    model,
  };
  if (model.type === 'constant') {
    const q = variableQueryText(model);
    st.value = q;
    st.text = q;
    st.hide = 2;
  }
  if (model.type === 'textbox' && (cur.value === undefined || cur.value === null)) {
    const q = variableQueryText(model);
    st.value = q;
    st.text = q;
  }
  return st;
}

export type UrlValues = URLSearchParams | Record<string, string | string[] | undefined>;

function urlGetAll(params: UrlValues, key: string): string[] | undefined {
  if (params instanceof URLSearchParams) {
    return params.has(key) ? params.getAll(key) : undefined;
  }
  const v = params[key];
  if (v === undefined) return undefined;
  return Array.isArray(v) ? v : [v];
}

/**
 * Takes `var-<name>` values from the URL (repeated for several values). `All` means the All value, and so
 * does the variable's custom all value; a URL value is kept even when it is not among the options.
 */
export function applyUrlValues(states: readonly VariableState[], params: UrlValues): VariableState[] {
  return states.map((s) => {
    if (s.type === 'constant') return s;
    const raw = urlGetAll(params, `var-${s.name}`);
    if (raw === undefined) return s;
    let values = raw;
    if (s.includeAll && values[0] === ALL_TEXT) values = [ALL_VALUE];
    if (s.allValue && values.length === 1 && values[0] === s.allValue) values = [ALL_VALUE];
    if (values.length > 1 && values[values.length - 1] === ALL_VALUE) values = [ALL_VALUE];
    else if (values.length > 1 && values[0] === ALL_VALUE) values = values.slice(1);
    const texts = values.map((v) =>
      v === ALL_VALUE ? ALL_TEXT : (s.options.find((o) => o.value === v)?.text ?? v),
    );
    const multiValue = s.multi || values.length > 1;
    return {
      ...s,
      value: multiValue ? values : (values[0] ?? ''),
      text: multiValue ? texts : (texts[0] ?? ''),
      keepValue: true,
    };
  });
}

/** The URL parameters of the current values (`var-x=a&var-x=b`); constants have none. */
export function toUrlParams(states: readonly VariableState[]): [string, string][] {
  const out: [string, string][] = [];
  for (const s of states) {
    if (s.type === 'constant' || s.type === 'adhoc') continue;
    const values = Array.isArray(s.value) ? s.value : [s.value];
    for (const v of values) out.push([`var-${s.name}`, v]);
  }
  return out;
}

/** Sets a variable's value as the variables bar does (All last wins, All first dropped, text from options). */
export function setVariableValue(state: VariableState, value: VariableValue): VariableState {
  let v: VariableValue = Array.isArray(value) ? [...value] : value;
  if (Array.isArray(v)) {
    if (v.length === 0) v = state.options.length ? [state.options[0].value] : [];
    if (v[v.length - 1] === ALL_VALUE) v = [ALL_VALUE];
    else if (v[0] === ALL_VALUE && v.length > 1) v = v.slice(1);
  }
  const textOf = (x: string) =>
    x === ALL_VALUE
      ? ALL_TEXT
      : (state.options.find((o) => o.value === x)?.text ??
        state.options.find((o) => o.text === x)?.text ??
        x);
  const text = Array.isArray(v) ? v.map(textOf) : textOf(v);
  return { ...state, value: v, text, keepValue: false, error: undefined };
}

/**
 * Grafana's check of the current value against new options: keep what is still offered (multi), else
 * match by value then text, else All when includeAll and nothing is offered, else the first option.
 */
export function validateValue(state: VariableState, options: OptionState[]): VariableState {
  const next: VariableState = { ...state, options };
  if (state.keepValue) {
    next.keepValue = false;
    return next;
  }
  if (options.length === 0) {
    if (state.includeAll) {
      next.value = ALL_VALUE;
      next.text = ALL_TEXT;
    } else if (state.multi) {
      next.value = [];
      next.text = [];
    } else {
      next.value = '';
      next.text = '';
    }
    return next;
  }
  if (isAll(state.value)) {
    if (state.includeAll) {
      next.text = state.multi ? [ALL_TEXT] : ALL_TEXT;
      return next;
    }
    next.value = state.multi ? [options[0].value] : options[0].value;
    next.text = state.multi ? [options[0].text] : options[0].text;
    return next;
  }
  if (state.multi) {
    const cur = Array.isArray(state.value) ? state.value : [state.value];
    const valid = cur.filter((v) => options.some((o) => o.value === v));
    if (valid.length === 0) {
      next.value = [options[0].value];
      next.text = [options[0].text];
    } else {
      next.value = valid;
      next.text = valid.map((v) => options.find((o) => o.value === v)?.text ?? v);
    }
    return next;
  }
  const curValue = Array.isArray(state.value) ? state.value[0] : state.value;
  const curText = Array.isArray(state.text) ? state.text[0] : state.text;
  const match = options.find((o) => o.value === curValue) ?? options.find((o) => o.text === curText);
  const chosen = match ?? options[0];
  next.value = chosen.value;
  next.text = chosen.text;
  return next;
}

// ---- Options of the simple types ----

/** A custom variable's `a,b,c` or `key : value` list (commas escaped as `\,`). */
export function parseCustomOptions(query: string): OptionState[] {
  const items = query.match(/(?:\\,|[^,])+/g) ?? [];
  return items.map((raw) => {
    const text = raw.replace(/\\,/g, ',');
    const kv = /^\s*(.+)\s:\s(.+)$/.exec(text);
    if (kv) return { text: kv[1].trim(), value: kv[2].trim() };
    return { text: text.trim(), value: text.trim() };
  });
}

/** An interval variable's choices, with the auto choice first when enabled. */
export function parseIntervalOptions(query: string, auto: boolean): OptionState[] {
  const items = query
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const opts = items.map((s) => ({ text: s, value: s }));
  if (auto) opts.unshift({ text: 'auto', value: AUTO_VALUE });
  return opts;
}

/** Grafana's stringToJsRegex: `/re/flags` as written, anything else anchored `^...$`. */
export function stringToJsRegex(str: string): RegExp {
  if (str[0] !== '/') return new RegExp(`^${str}$`);
  const m = str.match(/^\/(.*?)\/(g?i?m?y?s?)$/);
  if (!m) throw new Error(`'${str}' is not a valid regular expression.`);
  return new RegExp(m[1], m[2]);
}

/** A datasource variable's choices: datasources of the type (its `query`), names filtered by its regex. */
export function datasourceOptions(
  type: string,
  regex: string,
  datasources: readonly DataSourceSettings[],
): OptionState[] {
  let re: RegExp | undefined;
  if (regex) re = stringToJsRegex(regex);
  return datasources
    .filter((d) => d.type === type && (!re || re.test(d.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((d) => ({ text: d.name, value: d.uid }));
}

// ---- Regex filter and sort of query results ----

export interface MetricFindValue {
  text: string;
  value?: string;
}

function allMatches(s: string, re: RegExp): RegExpExecArray[] {
  const out: RegExpExecArray[] = [];
  re.lastIndex = 0;
  let m: RegExpExecArray | null;
  do {
    m = re.exec(s);
    if (m) out.push(m);
  } while (re.global && m && m[0] !== '' && m[0] !== undefined);
  return out;
}

/**
 * Grafana's metricNamesToVariableValues: the regex keeps matching values; a capture group picks the part
 * used, named groups `text`/`value` pick each; a global regex with several matches gives one option per
 * match. Then duplicates (by value) go and the sort applies.
 */
export function filterAndSort(
  items: readonly MetricFindValue[],
  regex: string | undefined,
  sort: number,
  applyTo: 'value' | 'text' = 'value',
): OptionState[] {
  const re = regex ? stringToJsRegex(regex) : undefined;
  let options: OptionState[] = [];
  for (const item of items) {
    let text = item.text ?? item.value ?? '';
    let value = item.value ?? item.text ?? '';
    if (re) {
      const matches = allMatches(applyTo === 'text' ? text : value, re);
      if (!matches.length) continue;
      const valueGroup = matches.find((m) => m.groups?.value);
      const textGroup = matches.find((m) => m.groups?.text);
      const first = matches.find((m) => m.length > 1);
      if (valueGroup || textGroup) {
        value = valueGroup?.groups?.value ?? textGroup?.groups?.text ?? value;
        text = textGroup?.groups?.text ?? valueGroup?.groups?.value ?? text;
      } else if (matches.length > 1 && first) {
        for (const m of matches) options.push({ text: m[1], value: m[1] });
        continue;
      } else if (first) {
        text = first[1];
        value = first[1];
      }
    }
    options.push({ text, value });
  }
  const seen = new Set<string>();
  options = options.filter((o) => {
    if (seen.has(o.value)) return false;
    seen.add(o.value);
    return true;
  });
  return sortOptions(options, sort);
}

function cmp(a: string | number, b: string | number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function numericKey(label: string): number {
  if (!label) return -1;
  const m = label.match(/.*?(\d+).*/);
  return m ? Number.parseInt(m[1], 10) : -1;
}

const collator = new Intl.Collator(undefined, { sensitivity: 'accent', numeric: true });

/** Grafana's sort orders: 0 none, 1/2 alphabetical, 3/4 numerical, 5/6 case-insensitive, 7/8 natural. */
export function sortOptions(options: OptionState[], sort: number): OptionState[] {
  const by = (key: (o: OptionState) => string | number) =>
    options
      .map((o, i) => ({ o, i, k: key(o) }))
      .sort((a, b) => cmp(a.k, b.k) || a.i - b.i)
      .map((x) => x.o);
  switch (sort) {
    case 1:
      return by((o) => o.text);
    case 2:
      return by((o) => o.text).reverse();
    case 3:
      return by((o) => numericKey(o.text));
    case 4:
      return by((o) => numericKey(o.text)).reverse();
    case 5:
      return by((o) => o.text.toLowerCase());
    case 6:
      return by((o) => o.text.toLowerCase()).reverse();
    case 7:
      return options.slice().sort((a, b) => collator.compare(a.text, b.text));
    case 8:
      return options
        .slice()
        .sort((a, b) => collator.compare(a.text, b.text))
        .reverse();
    default:
      return options;
  }
}

// ---- Query variables ----

/** A GET against the datasource's HTTP API through the proxy (`api/v1/labels`, `loki/api/v1/labels`...). */
export type Fetcher = (path: string, params: Record<string, string | string[]>) => Promise<unknown>;

export type ParsedQuery =
  | { kind: 'label_names'; match?: string }
  | { kind: 'label_values'; label: string; match?: string }
  | { kind: 'metrics'; regex: string }
  | { kind: 'query_result'; query: string }
  | { kind: 'series'; match: string };

export class VariableQueryError extends Error {
  override name = 'VariableQueryError';
}

/**
 * Parses a Prometheus/Loki variable query: `label_names()`, `label_names(match)`, `label_values(label)`,
 * `label_values(match, label)`, `metrics(regex)`, `query_result(query)`. Anything else is a series
 * selector (Grafana then lists the series' label sets).
 */
export function parseVariableQuery(query: string): ParsedQuery {
  const q = query.trim();
  let m = /^label_names\(\)\s*$/.exec(q);
  if (m) return { kind: 'label_names' };
  m = /^label_names\((.+)\)\s*$/.exec(q);
  if (m) return { kind: 'label_names', match: m[1] };
  m = /^label_values\((?:(.+),\s*)?([a-zA-Z_$][a-zA-Z0-9_]*)\)\s*$/.exec(q);
  if (m) return { kind: 'label_values', label: m[2], match: m[1]?.trim() || undefined };
  m = /^metrics\((.+)\)\s*$/.exec(q);
  if (m) return { kind: 'metrics', regex: m[1] };
  m = /^query_result\((.+)\)\s*$/.exec(q);
  if (m) return { kind: 'query_result', query: m[1] };
  return { kind: 'series', match: q };
}

function dataOf(body: unknown): unknown {
  if (body && typeof body === 'object' && !Array.isArray(body)) {
    const b = body as { status?: unknown; error?: unknown; data?: unknown };
    // The HTTP APIs answer {status:"error", error:"..."} (the proxy may pass such bodies through).
    if (b.status === 'error') throw new VariableQueryError(String(b.error ?? 'query failed'));
    if ('data' in b) return b.data;
  }
  return body;
}

function stringList(body: unknown): string[] {
  const d = dataOf(body);
  if (!Array.isArray(d)) throw new VariableQueryError('unexpected answer: expected a list');
  return d.map((x) => String(x));
}

function labelSets(body: unknown): Record<string, string>[] {
  const d = dataOf(body);
  if (!Array.isArray(d)) throw new VariableQueryError('unexpected answer: expected a list of series');
  return d.filter((x): x is Record<string, string> => !!x && typeof x === 'object');
}

interface PromSample {
  metric?: Record<string, string>;
  value?: [number, string];
}

/** Prometheus' query_result lines: `name{a="b"} value timestamp-ms`, or the scalar/string value. */
export function queryResultLines(body: unknown): string[] {
  const d = dataOf(body) as { resultType?: string; result?: unknown };
  if (!d || typeof d !== 'object') throw new VariableQueryError('unexpected answer to query_result');
  switch (d.resultType) {
    case 'scalar':
    case 'string': {
      const r = d.result as [number, string] | undefined;
      return [String(r?.[1] ?? '')];
    }
    case 'vector': {
      const rows = Array.isArray(d.result) ? (d.result as PromSample[]) : [];
      return rows.map((s) => {
        const { __name__: name, ...labels } = s.metric ?? {};
        const pairs = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
        const [ts, val] = s.value ?? [0, ''];
        return `${name ?? ''}{${pairs.join(',')}} ${val} ${ts * 1000}`;
      });
    }
    default:
      throw new VariableQueryError(`Unknown/Unhandled result type: [${d.resultType}]`);
  }
}

/**
 * Runs a (already interpolated) variable query against a Prometheus or Loki datasource and returns the
 * raw values, before regex and sort. Times: Prometheus in seconds (start floored, end ceiled), Loki in ns.
 */
export async function runVariableQuery(
  dsType: string,
  query: string,
  range: { from: number; to: number },
  fetch: Fetcher,
): Promise<MetricFindValue[]> {
  const parsed = parseVariableQuery(query);
  const loki = dsType === 'loki';
  const time: Record<string, string> = loki
    ? { start: `${Math.round(range.from)}000000`, end: `${Math.round(range.to)}000000` }
    : { start: String(Math.floor(range.from / 1000)), end: String(Math.ceil(range.to / 1000)) };
  const base = loki ? 'loki/api/v1/' : 'api/v1/';
  const texts = (xs: string[]) => xs.map((text) => ({ text }));
  switch (parsed.kind) {
    case 'label_names': {
      const params: Record<string, string | string[]> = { ...time };
      if (parsed.match) params[loki ? 'query' : 'match[]'] = parsed.match;
      return texts(stringList(await fetch(`${base}labels`, params)));
    }
    case 'label_values': {
      const params: Record<string, string | string[]> = { ...time };
      if (parsed.match) params[loki ? 'query' : 'match[]'] = parsed.match;
      const path = `${base}label/${encodeURIComponent(parsed.label)}/values`;
      return texts(stringList(await fetch(path, params)));
    }
    case 'metrics': {
      if (loki) throw new VariableQueryError('metrics() is a Prometheus query');
      const names = stringList(await fetch(`${base}label/__name__/values`, { ...time }));
      let re: RegExp;
      try {
        re = new RegExp(parsed.regex);
      } catch {
        throw new VariableQueryError(`invalid regex in metrics(): ${parsed.regex}`);
      }
      return texts(names.filter((n) => re.test(n)));
    }
    case 'query_result': {
      if (loki) throw new VariableQueryError('query_result() is a Prometheus query');
      const body = await fetch(`${base}query`, { query: parsed.query, time: time.end });
      return texts(queryResultLines(body));
    }
    case 'series': {
      if (!parsed.match) return [];
      const series = labelSets(await fetch(`${base}series`, { ...time, 'match[]': parsed.match }));
      return texts(
        series.map((labels) => {
          const { __name__: name, ...rest } = labels;
          return `${name ?? ''}{${Object.entries(rest)
            .map(([k, v]) => `${k}="${v}"`)
            .join(',')}}`;
        }),
      );
    }
  }
}

// ---- Datasources of variables and panels ----

/**
 * The datasource a reference means: by uid, else by name (old dashboards), after replacing variables
 * (`${ds}`); missing or null means the default. Undefined when nothing matches.
 */
export function resolveDatasource(
  ref: DataSourceRef | string | null | undefined,
  datasources: readonly DataSourceSettings[],
  defaultName: string | undefined,
  ctx?: InterpolationContext,
): DataSourceSettings | undefined {
  const byKey = (key: string) =>
    datasources.find((d) => d.uid === key) ?? datasources.find((d) => d.name === key);
  const fallback = () =>
    datasources.find((d) => d.name === defaultName) ?? datasources.find((d) => d.isDefault);
  let key: string | undefined;
  if (typeof ref === 'string') key = ref;
  else if (ref && typeof ref === 'object') key = ref.uid;
  if (!key || key === 'default') {
    if (ref && typeof ref === 'object' && ref.type && !key) {
      const d = fallback();
      return d && d.type === ref.type ? d : (datasources.find((x) => x.type === ref.type) ?? d);
    }
    return fallback();
  }
  if (ctx && key.includes('$')) key = interpolate(key, ctx);
  if (key === 'default') return fallback();
  return byKey(key);
}

// ---- Dependencies and refresh ----

/** The texts of a variable that may refer to other variables. */
function variableRefs(s: VariableState): string[] {
  const texts = [variableQueryText(s.model), s.model.regex, s.model.datasource?.uid];
  if (s.type === 'custom' || s.type === 'query') texts.push(s.allValue ?? undefined);
  const names = new Set<string>();
  for (const t of texts) for (const n of referencedNames(typeof t === 'string' ? t : undefined)) names.add(n);
  names.delete(s.name);
  return [...names];
}

export interface DependencyGraph {
  /** name -> the variables it uses. */
  dependsOn: Map<string, string[]>;
  /** name -> the variables that use it. */
  dependants: Map<string, string[]>;
  /** All variables in an order where each comes after what it uses. */
  order: string[];
  /** Set when the variables refer to each other in a circle; those are left out of `order`. */
  cycle?: string[];
}

export function dependencyGraph(states: readonly VariableState[]): DependencyGraph {
  const names = new Set(states.map((s) => s.name));
  const dependsOn = new Map<string, string[]>();
  const dependants = new Map<string, string[]>();
  for (const s of states) {
    dependsOn.set(
      s.name,
      variableRefs(s).filter((n) => names.has(n)),
    );
    dependants.set(s.name, []);
  }
  for (const [name, deps] of dependsOn) for (const d of deps) dependants.get(d)?.push(name);
  // Kahn's algorithm, keeping dashboard order among ready variables.
  const remaining = new Map([...dependsOn].map(([k, v]) => [k, new Set(v)]));
  const order: string[] = [];
  let progressed = true;
  while (remaining.size && progressed) {
    progressed = false;
    for (const s of states) {
      const deps = remaining.get(s.name);
      if (!deps || deps.size) continue;
      order.push(s.name);
      remaining.delete(s.name);
      for (const other of remaining.values()) other.delete(s.name);
      progressed = true;
    }
  }
  const graph: DependencyGraph = { dependsOn, dependants, order };
  if (remaining.size) graph.cycle = [...remaining.keys()];
  return graph;
}

/** Every variable that depends on `name`, directly or through others, in refresh order. */
export function dependantsOf(graph: DependencyGraph, name: string): string[] {
  const found = new Set<string>();
  const stack = [...(graph.dependants.get(name) ?? [])];
  while (stack.length) {
    const n = stack.pop() as string;
    if (found.has(n)) continue;
    found.add(n);
    stack.push(...(graph.dependants.get(n) ?? []));
  }
  return graph.order.filter((n) => found.has(n));
}

export interface RefreshEnv {
  datasources: readonly DataSourceSettings[];
  defaultDatasource?: string;
  /** A fetcher bound to one datasource (through `/api/datasources/proxy/uid/<uid>/`). */
  fetcherFor: (ds: DataSourceSettings) => Fetcher;
  range: { from: number; to: number };
  /** Built-ins available to variable queries (`$__range`...). */
  builtins?: Record<string, BuiltinValue>;
}

/** Why refreshVariables was called: which variables it updates. */
export type RefreshReason = { kind: 'load' } | { kind: 'timeRange' } | { kind: 'changed'; name: string };

function shouldRefresh(s: VariableState, reason: RefreshReason): boolean {
  if (reason.kind === 'load') return true;
  if (reason.kind === 'timeRange') {
    if (s.type === 'query') return s.refresh === 2;
    return s.type === 'interval' && s.model.auto === true;
  }
  return false;
}

/** Computes one variable's options (running its query if it has one) and validates its value. */
export async function updateVariable(
  s: VariableState,
  all: readonly VariableState[],
  env: RefreshEnv,
): Promise<VariableState> {
  const ctx: InterpolationContext = { variables: all, builtins: env.builtins, range: env.range };
  const query = variableQueryText(s.model);
  try {
    switch (s.type) {
      case 'custom':
        return validateValue({ ...s, error: undefined }, parseCustomOptions(interpolate(query, ctx)));
      case 'interval': {
        const options = parseIntervalOptions(query, s.model.auto === true);
        return validateValue({ ...s, error: undefined }, options);
      }
      case 'constant':
        return { ...s, value: query, text: query, options: [{ text: query, value: query }] };
      case 'textbox':
        return s;
      case 'datasource': {
        const regex = interpolate(s.model.regex ?? '', ctx, 'regex');
        const options = datasourceOptions(query, regex, env.datasources);
        if (!s.keepValue && options.length) {
          const cur = Array.isArray(s.value) ? s.value[0] : s.value;
          const curText = Array.isArray(s.text) ? s.text[0] : s.text;
          const matches = options.some((o) => o.value === cur || o.text === curText);
          if (!matches || cur === 'default' || cur === '') {
            const def = resolveDatasource(null, env.datasources, env.defaultDatasource);
            const pick = options.find((o) => o.value === def?.uid);
            if (pick && !isAll(s.value)) {
              return validateValue({ ...s, value: pick.value, text: pick.text, error: undefined }, options);
            }
          }
        }
        return validateValue({ ...s, error: undefined }, options);
      }
      case 'query': {
        if (s.refresh === 0 && s.options.length) return validateValue(s, s.options);
        const ds = resolveDatasource(s.model.datasource, env.datasources, env.defaultDatasource, ctx);
        if (!ds) throw new VariableQueryError('datasource not found');
        const text = interpolate(query, ctx, formatForDatasource(ds.type));
        const raw = await runVariableQuery(ds.type, text, env.range, env.fetcherFor(ds));
        const regex = s.model.regex ? interpolate(s.model.regex, ctx, 'regex') : undefined;
        const applyTo = s.model.regexApplyTo === 'text' ? 'text' : 'value';
        const options = filterAndSort(raw, regex, Number(s.model.sort ?? 0) || 0, applyTo);
        return validateValue({ ...s, error: undefined }, options);
      }
      default:
        return s;
    }
  } catch (e) {
    return { ...s, error: e instanceof Error ? e.message : String(e) };
  }
}

export interface RefreshResult {
  variables: VariableState[];
  /** Set when variables refer to each other in a circle (they are left as they were). */
  cycleError?: string;
}

/**
 * Brings variables up to date in dependency order: on load all of them; on a time range change the query
 * variables with refresh 2 (and auto intervals); when one changes, everything that depends on it. A
 * variable refreshed also refreshes its dependants.
 */
export async function refreshVariables(
  states: readonly VariableState[],
  reason: RefreshReason,
  env: RefreshEnv,
): Promise<RefreshResult> {
  const graph = dependencyGraph(states);
  const current = new Map(states.map((s) => [s.name, s]));
  const todo = new Set<string>();
  if (reason.kind === 'changed') {
    for (const n of dependantsOf(graph, reason.name)) todo.add(n);
  } else {
    for (const s of states) {
      if (shouldRefresh(s, reason)) {
        todo.add(s.name);
        for (const n of dependantsOf(graph, s.name)) todo.add(n);
      }
    }
  }
  for (const name of graph.order) {
    if (!todo.has(name)) continue;
    const s = current.get(name);
    if (!s) continue;
    const list = states.map((x) => current.get(x.name) as VariableState);
    current.set(name, await updateVariable(s, list, env));
  }
  const result: RefreshResult = { variables: states.map((s) => current.get(s.name) as VariableState) };
  if (graph.cycle) result.cycleError = `Circular dependency between variables: ${graph.cycle.join(', ')}`;
  return result;
}

/** Builds the variables of a dashboard's `templating.list` with the URL's values applied. */
export function initVariables(list: readonly Variable[] | undefined, params?: UrlValues): VariableState[] {
  const states = (list ?? []).filter((v) => v && typeof v === 'object' && v.name).map(initialState);
  return params ? applyUrlValues(states, params) : states;
}
