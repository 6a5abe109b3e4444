// applyFieldOverrides: a panel's field config applied to its frames, as
// Grafana does it: the datasource's field config wins over the panel's
// defaults, matching override rules win over both (in order), and each field
// gets its state (series index, display name, the min/max range that
// percentage thresholds and gauges use).
import { getFieldDisplayName, getFrameDisplayName } from './displayName';
import { getMinMaxAndDelta, type ValueRange } from './fieldColor';
import type { ConfigOverrideRule, FieldConfig, FieldConfigSource, ThresholdsConfig } from './fieldConfig';
import type { DataFrame, Field, FieldType } from './frame';
import { reduceField } from './reducers';

/** What a field-level template is interpolated in. */
export interface FieldScope {
  field: Field;
  frame: DataFrame;
  frames: DataFrame[];
  frameIndex: number;
}

/** Interpolates dashboard variables ($var, ${var:format}); the field scope is given for anything else. */
export type ReplaceVariables = (text: string, scope?: FieldScope) => string;

type Matcher = (field: Field, frame: DataFrame, frames: DataFrame[]) => boolean;

function toRegex(pattern: string): RegExp | undefined {
  if (!pattern) return undefined;
  try {
    if (!pattern.startsWith('/')) return new RegExp(`^${pattern}$`);
    const m = /^\/(.*?)\/(g?i?m?y?s?)$/.exec(pattern);
    return m ? new RegExp(m[1], m[2]) : undefined;
  } catch {
    return undefined; // an invalid pattern matches nothing (Grafana logs it)
  }
}

/** Grafana also matches "Value"/"Time" rules against renamed Prometheus value/time fields. */
function nameFallback(names: Set<string>): Matcher | undefined {
  if (names.has('Value')) return (field) => Boolean(field.labels) && field.labels?.__name__ === field.name;
  if (names.has('Time') || names.has('time')) {
    return (field, frame) =>
      (frame.meta as { typeVersion?: unknown } | undefined)?.typeVersion == null && field.type === 'time';
  }
  return undefined;
}

function namesMatcher(names: string[]): Matcher {
  const set = new Set(names);
  const fallback = nameFallback(set);
  return (field, frame, frames) =>
    set.has(field.name) ||
    set.has(getFieldDisplayName(field, frame, frames)) ||
    Boolean(fallback?.(field, frame, frames));
}

function compare(left: unknown, op: string, right: unknown): boolean {
  let l = left;
  let r = right;
  let o = op;
  if (l == null || r == null) {
    l ??= 'null';
    r ??= 'null';
    if (o === 'gte' || o === 'lte') o = 'eq';
  }
  const a = l as number;
  const b = r as number;
  switch (o) {
    case 'eq':
      return `${l}` === `${r}`;
    case 'neq':
      return `${l}` !== `${r}`;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
  }
  return false;
}

/** A matcher for an override rule, or undefined for an unknown matcher id (the rule is skipped). */
export function fieldMatcher(id: string, options: unknown): Matcher | undefined {
  switch (id) {
    case 'byName':
      return namesMatcher([options as string]);
    case 'byNames': {
      const o = (options ?? {}) as { names?: string[]; mode?: string };
      const m = namesMatcher(o.names ?? []);
      return o.mode === 'exclude' ? (f, fr, all) => !m(f, fr, all) : m;
    }
    case 'byRegexp': {
      const re = toRegex(options as string);
      return (f, fr, all) => Boolean(re?.test(getFieldDisplayName(f, fr, all)));
    }
    case 'byRegexpOrNames': {
      const o = (options ?? {}) as { pattern?: string; names?: string[] };
      const re = toRegex(o.pattern ?? '');
      const byNames = namesMatcher(o.names ?? []);
      return (f, fr, all) => byNames(f, fr, all) || Boolean(re?.test(getFieldDisplayName(f, fr, all)));
    }
    case 'byFrameRefID':
      return (_f, frame) => frame.refId === options;
    case 'byType':
      return (f) => f.type === options;
    case 'numeric':
      return (f) => f.type === 'number';
    case 'time':
      return (f) => f.type === 'time';
    case 'byValue': {
      const o = options as { reducer?: string; op?: string; value?: unknown } | undefined;
      if (!o?.reducer) return () => false;
      const reducer = o.reducer;
      return (f) => {
        const left = reduceField(f, [reducer])[reducer];
        if (reducer === 'allIsNull' || reducer === 'allIsZero') return Boolean(left);
        return compare(left, o.op || 'eq', o.value);
      };
    }
  }
  return undefined;
}

type Process = (value: unknown, field: Field, scope: FieldScope, replace: ReplaceVariables) => unknown;

const asString: Process = (v) => (v == null ? v : `${v}`);
const asNumber: Process = (v) => (v == null ? undefined : Number.parseFloat(String(v)));
const asIs: Process = (v) => v;

/** The standard (non-custom) properties: how a value is read, and which fields it applies to. */
const STANDARD: Record<string, { process: Process; applies: (f: Field) => boolean }> = {
  unit: { process: asString, applies: () => true },
  min: { process: asNumber, applies: (f) => f.type === 'number' },
  max: { process: asNumber, applies: (f) => f.type === 'number' },
  decimals: { process: asNumber, applies: (f) => f.type === 'number' },
  displayName: {
    process: (v, field, scope, replace) => {
      if (field.state) field.state.displayName = undefined;
      if (v == null) return v;
      return typeof v === 'string' ? interpolateField(v, scope, replace) : `${v}`;
    },
    applies: () => true,
  },
  color: { process: asIs, applies: () => true },
  noValue: { process: asString, applies: () => true },
  links: { process: asIs, applies: () => true },
  mappings: { process: asIs, applies: (f) => f.type !== 'time' },
  thresholds: { process: asIs, applies: () => true },
  fieldMinMax: { process: asIs, applies: (f) => f.type === 'number' },
  description: { process: asString, applies: () => true },
  filterable: { process: asIs, applies: () => true },
};

/**
 * Replaces the field macros Grafana offers in display names and links:
 * ${__field.name}, ${__field.displayName}, ${__field.labels} (`a="b", c="d"`),
 * ${__field.labels.X}, ${__field.labels.__values}, ${__series.name}; then the
 * dashboard's variables.
 */
export function interpolateField(text: string, scope: FieldScope, replace: ReplaceVariables): string {
  const { field, frame, frames } = scope;
  const labels = field.labels ?? {};
  const out = text.replace(/\$\{(__field|__series)\.([^}]+)\}/g, (whole, kind: string, path: string) => {
    if (kind === '__series') return path === 'name' ? getFrameDisplayName(frame) : whole;
    if (path === 'name') return field.name;
    if (path === 'displayName') return getFieldDisplayName(field, frame, frames);
    if (path === 'labels') {
      return Object.keys(labels)
        .sort()
        .map((k) => `${k}="${labels[k]}"`)
        .join(', ');
    }
    if (path === 'labels.__values') return Object.values(labels).sort().join(', ');
    if (path.startsWith('labels.')) return labels[path.slice(7)] ?? '';
    return whole;
  });
  return replace(out, scope);
}

function getPath(obj: Record<string, unknown> | undefined, path: string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    if (cur == null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (let i = 0; i < path.length - 1; i++) {
    const next = cur[path[i]];
    if (next == null || typeof next !== 'object') cur[path[i]] = {};
    cur = cur[path[i]] as Record<string, unknown>;
  }
  cur[path[path.length - 1]] = value;
}

function unsetPath(obj: Record<string, unknown>, path: string[]): void {
  const parent = getPath(obj, path.slice(0, -1));
  if (parent && typeof parent === 'object') delete (parent as Record<string, unknown>)[path[path.length - 1]];
}

/**
 * The first threshold step always starts at -Infinity: dashboard JSON writes
 * it as null or leaves `value` out, and Grafana's app forces it on load (for
 * the defaults and for thresholds in overrides). A missing mode is absolute.
 */
function fixBaseStep(t: ThresholdsConfig | undefined): void {
  if (!t || typeof t !== 'object') return;
  if (!t.mode) t.mode = 'absolute';
  if (!Array.isArray(t.steps)) t.steps = [];
  else if (t.steps.length) t.steps[0].value = Number.NEGATIVE_INFINITY;
}

function clone<T>(v: T): T {
  if (v === undefined) return v;
  return structuredClone(v);
}

function applyDefaults(
  config: FieldConfig,
  defaults: FieldConfig,
  field: Field,
  scope: FieldScope,
  replace: ReplaceVariables,
) {
  if (config.links && defaults.links) config.links.push(...clone(defaults.links));
  // Datasource config: only a null base step is read as -Infinity (as Grafana does).
  const dsBase = config.thresholds?.steps?.[0];
  if (dsBase && dsBase.value === null) dsBase.value = Number.NEGATIVE_INFINITY;
  const defaultBase =
    defaults.thresholds?.mode === 'absolute' &&
    defaults.thresholds.steps.find((s) => s.value === Number.NEGATIVE_INFINITY);
  if (
    config.thresholds?.mode === 'absolute' &&
    !config.thresholds.steps.some((s) => s.value === Number.NEGATIVE_INFINITY) &&
    defaultBase
  ) {
    config.thresholds.steps.unshift({ ...defaultBase });
  }
  for (const [key, prop] of Object.entries(STANDARD)) {
    if (config[key] != null || !prop.applies(field)) continue;
    const v = prop.process(clone(defaults[key]), field, scope, replace);
    if (v != null) config[key] = v;
  }
  // Custom (panel-specific) options: each one the field does not set comes from the defaults.
  // (Grafana adds `custom: {}` when the panel type has custom options; a panel's saved
  // defaults always hold `custom` then, so its presence stands in for that.)
  if (defaults.custom) {
    if (!config.custom) config.custom = {};
    const custom = config.custom;
    for (const [key, value] of Object.entries(defaults.custom)) {
      if (custom[key] == null && value != null) custom[key] = clone(value);
    }
  }
  // A thresholds config implies thresholds colouring; a colour without a mode is dropped.
  if (!config.color) {
    if (config.thresholds) config.color = { mode: 'thresholds' };
  } else if (!config.color.mode) {
    delete config.color;
  }
  if (config.min != null && config.max != null && config.min > config.max) {
    [config.min, config.max] = [config.max, config.min];
  }
}

function applyProperty(
  config: FieldConfig,
  prop: { id: string; value?: unknown },
  field: Field,
  scope: FieldScope,
  replace: ReplaceVariables,
) {
  const custom = prop.id.startsWith('custom.');
  const std = STANDARD[prop.id];
  if (!custom && !std) return; // unknown property ids are ignored, as Grafana's registry does
  let value = std ? std.process(clone(prop.value), field, scope, replace) : clone(prop.value);
  if (custom && !config.custom) config.custom = {};
  const target = custom ? (config.custom as Record<string, unknown>) : (config as Record<string, unknown>);
  const path = custom ? prop.id.slice(7).split('.') : [prop.id];
  if (value == null) {
    unsetPath(target, path);
    return;
  }
  // Lists (links, mappings) from an override go before the ones already there.
  const existing = getPath(target, path);
  if (Array.isArray(value) && Array.isArray(existing)) value = [...value, ...existing];
  setPath(target, path, value);
}

/** min/max over every numeric value of every frame (nulls count as 0 with "null as zero"). */
function numericRange(frames: DataFrame[]): ValueRange {
  let min = Number.POSITIVE_INFINITY;
  let max = Number.NEGATIVE_INFINITY;
  for (const frame of frames) {
    for (const field of frame.fields) {
      if (field.type !== 'number') continue;
      const nullAsZero = field.config.nullValueMode === 'null as zero';
      for (const raw of field.values) {
        if (raw === null) {
          if (nullAsZero) {
            if (min > 0) min = 0;
            if (max < 0) max = 0;
          }
        } else if (!Number.isNaN(raw)) {
          const v = raw as number;
          if (min > v) min = v;
          if (max < v) max = v;
        }
      }
    }
  }
  const lo = min === Number.POSITIVE_INFINITY ? null : min;
  const hi = max === Number.NEGATIVE_INFINITY ? null : max;
  return { min: lo, max: hi, delta: (hi ?? 0) - (lo ?? 0) };
}

/** A field's type from its first non-null value, for fields typed "other". */
function guessType(field: Field): FieldType {
  for (const v of field.values) {
    if (v == null) continue;
    if (typeof v === 'number') return 'number';
    if (typeof v === 'boolean') return 'boolean';
    if (typeof v === 'string') return 'string';
    if (v instanceof Date) return 'time';
    return field.type;
  }
  return field.type;
}

/**
 * Applies a panel's field config to its frames and returns new frames (the
 * input is not changed). Each field's config becomes datasource config +
 * panel defaults (where the datasource set nothing) + matching overrides, in
 * rule order; `state` gets seriesIndex (counting non-time fields across
 * frames), displayName and range (config min/max, else min/max over all
 * numeric fields of all frames, or the field's own with `fieldMinMax`).
 */
export function applyFieldOverrides(
  frames: DataFrame[],
  source: FieldConfigSource | undefined,
  replaceVariables: ReplaceVariables = (t) => t,
): DataFrame[] {
  if (!source) return frames;
  const defaults = clone(source.defaults ?? {});
  fixBaseStep(defaults.thresholds);
  const rules: { match: Matcher; properties: ConfigOverrideRule['properties'] }[] = [];
  for (const rule of clone(source.overrides ?? [])) {
    for (const prop of rule.properties ?? []) {
      if (prop.id === 'thresholds') fixBaseStep(prop.value as ThresholdsConfig | undefined);
    }
    const scope = (rule.matcher as { scope?: string }).scope ?? 'series';
    if (scope !== 'series') continue;
    const match = fieldMatcher(rule.matcher.id, rule.matcher.options);
    if (match) rules.push({ match, properties: rule.properties ?? [] });
  }
  let seriesIndex = 0;
  let globalRange: ValueRange | undefined;
  const result: DataFrame[] = frames.map((f) => ({ ...f }));
  for (let index = 0; index < frames.length; index++) {
    const frame = result[index];
    frame.fields = frame.fields.map((f) => ({ ...f, config: clone(f.config ?? {}), state: { ...f.state } }));
    for (const field of frame.fields) {
      const config = field.config;
      const scope: FieldScope = { field, frame, frames: result, frameIndex: index };
      applyDefaults(config, defaults, field, scope, replaceVariables);
      for (const rule of rules) {
        if (rule.match(field, frame, result)) {
          for (const prop of rule.properties) applyProperty(config, prop, field, scope, replaceVariables);
        }
      }
      // The range is worked out on the type as given; an "other" field's guessed type only applies after.
      const type = !field.type || field.type === 'other' ? guessType(field) : field.type;
      let range: ValueRange | undefined;
      if (typeof config.min === 'number' && typeof config.max === 'number') {
        range = { min: config.min, max: config.max, delta: config.max - config.min };
        // Grafana lets the first field with both limits set stand in for the panel-wide range.
        globalRange ??= range;
      } else if (field.type === 'number') {
        if (config.fieldMinMax) {
          const local = getMinMaxAndDelta(field);
          const min = config.min ?? local.min;
          const max = config.max ?? local.max;
          range = { min, max, delta: (max as number) - (min as number) };
        } else {
          globalRange ??= numericRange(frames);
          const min = config.min ?? globalRange.min;
          const max = config.max ?? globalRange.max;
          range = { min, max, delta: (max as number) - (min as number) };
        }
      }
      field.type = type;
      field.state = { ...field.state, seriesIndex, range };
      if (field.type !== 'time') seriesIndex++;
    }
  }
  // Display names need every frame's final config (frame names, labels), so they come last.
  for (const frame of result) {
    for (const field of frame.fields) {
      field.state = { ...field.state, displayName: getFieldDisplayName(field, frame, result) };
    }
  }
  return result;
}
