// Test-only loader for Grafana's own @grafana/data, used as an oracle that our
// src/data modules must agree with. Never import this (or @grafana/data) from src/.
//
// @grafana/data's CJS build touches `navigator` at load time (its locale
// helpers), so a minimal one is defined first; `window`/`document` are left
// undefined on purpose, because with `window` defined some transitive packages
// (nano-css via react-use) believe they run in a browser and need a DOM.
// Loading goes through createRequire so Node's CJS loader, not Vite's transform,
// evaluates the package (fast, and the same code Grafana ships).
//
// Timezone: dateTime units format in the process's zone. vitest.config.ts sets
// TZ=UTC for the whole test run, and loadGrafana() asserts it, so results never
// depend on the machine's zone.
import { createRequire } from 'node:module';

/** The subset of @grafana/data's API the tests use (typed loosely on purpose: it is an oracle, not a dependency). */
export interface GrafanaData {
  getValueFormat(
    id?: string | null,
  ): (
    value: number | null,
    decimals?: number | null,
    scaledDecimals?: number | null,
    timeZone?: string,
    showMs?: boolean,
  ) => { text: string; prefix?: string; suffix?: string };
  formattedValueToString(v: { text: string; prefix?: string; suffix?: string }): string;
  toFixed(value: number, decimals?: number | null): string;
  reduceField(opts: { field: unknown; reducers: string[] }): Record<string, unknown>;
  getDisplayProcessor(opts: { field: unknown; theme: unknown; timeZone?: string }): (
    value: unknown,
    adjacentDecimals?: number,
  ) => {
    text: string;
    numeric: number;
    color?: string;
    prefix?: string;
    suffix?: string;
    percent?: number;
    title?: string;
    icon?: string;
  };
  getActiveThreshold(value: number, steps: unknown[]): { value: number; color: string };
  getValueMappingResult(mappings: unknown[], value: unknown): Record<string, unknown> | null;
  getFieldDisplayName(field: unknown, frame?: unknown, allFrames?: unknown[]): string;
  applyFieldOverrides(options: Record<string, unknown>): Array<{
    name?: string;
    fields: Array<{ name: string; config: Record<string, unknown>; state?: Record<string, unknown> }>;
  }>;
  createTheme(options?: Record<string, unknown>): {
    visualization: { getColorByName(name: string): string; palette: string[] };
  };
  fieldReducers: { list(): Array<{ id: string; name: string }> };
  standardFieldConfigEditorRegistry: unknown;
  standardTransformersRegistry: unknown;
  [key: string]: unknown;
}

let loaded: GrafanaData | undefined;

/** Loads @grafana/data once (about half a second) and returns it. */
export function loadGrafana(): GrafanaData {
  if (loaded) return loaded;
  if (process.env.TZ !== 'UTC') {
    throw new Error(`oracle tests need TZ=UTC (vitest.config.ts sets it); got ${process.env.TZ}`);
  }
  const g = globalThis as { navigator?: unknown };
  if (g.navigator === undefined) {
    g.navigator = { userAgent: 'node', language: 'en-US', languages: ['en-US'] };
  }
  const require = createRequire(import.meta.url);
  loaded = require('@grafana/data') as GrafanaData;
  return loaded;
}

/**
 * One internal module of @grafana/data's CJS build (for functions its index
 * does not export, e.g. 'utils/valueMappings' -> getValueMappingResult).
 */
export function loadGrafanaModule<T>(relPath: string): T {
  loadGrafana();
  const require = createRequire(import.meta.url);
  const index = require.resolve('@grafana/data');
  const base = index.slice(0, index.lastIndexOf('/') + 1);
  return require(`${base}${relPath}.cjs`) as T;
}

/**
 * The standard field-config registry Grafana's app registers (unit, min, max,
 * decimals, displayName, color, noValue, links, mappings, thresholds,
 * fieldMinMax, description, filterable) plus the given custom option paths,
 * built from @grafana/data's own processors; applyFieldOverrides needs it.
 */
export function grafanaFieldConfigRegistry(customPaths: string[]): unknown {
  const g = loadGrafana();
  type Proc = (v: unknown, c: unknown, s: unknown) => unknown;
  const p = (name: string) => g[name] as Proc;
  const all = () => true;
  const isNum = (f: { type: string }) => f.type === 'number';
  const items = [
    { id: 'unit', path: 'unit', process: p('stringOverrideProcessor'), shouldApply: all },
    { id: 'min', path: 'min', process: p('numberOverrideProcessor'), shouldApply: isNum },
    { id: 'max', path: 'max', process: p('numberOverrideProcessor'), shouldApply: isNum },
    { id: 'decimals', path: 'decimals', process: p('numberOverrideProcessor'), shouldApply: isNum },
    {
      id: 'displayName',
      path: 'displayName',
      process: p('displayNameOverrideProcessor'),
      settings: { expandTemplateVars: true },
      shouldApply: all,
    },
    { id: 'color', path: 'color', process: p('identityOverrideProcessor'), shouldApply: all },
    { id: 'noValue', path: 'noValue', process: p('stringOverrideProcessor'), shouldApply: all },
    { id: 'links', path: 'links', process: p('dataLinksOverrideProcessor'), shouldApply: all },
    {
      id: 'mappings',
      path: 'mappings',
      process: p('valueMappingsOverrideProcessor'),
      shouldApply: (f: { type: string }) => f.type !== 'time',
    },
    { id: 'thresholds', path: 'thresholds', process: p('thresholdsOverrideProcessor'), shouldApply: all },
    { id: 'fieldMinMax', path: 'fieldMinMax', process: p('identityOverrideProcessor'), shouldApply: isNum },
    { id: 'description', path: 'description', process: p('stringOverrideProcessor'), shouldApply: all },
    { id: 'filterable', path: 'filterable', process: p('identityOverrideProcessor'), shouldApply: all },
    ...customPaths.map((k) => ({
      id: `custom.${k}`,
      path: k,
      isCustom: true,
      process: p('identityOverrideProcessor'),
      shouldApply: all,
    })),
  ].map((i) => ({ name: i.id, settings: {}, ...i }));
  const Registry = g.FieldConfigOptionsRegistry as new (init: () => unknown[]) => unknown;
  return new Registry(() => items);
}

/**
 * What Grafana's app does to a panel's field config when it loads a
 * dashboard, before applyFieldOverrides ever sees it: the first threshold step
 * becomes -Infinity (JSON has null or nothing there) and a missing mode is
 * absolute, in the defaults and in override properties.
 */
export function fixThresholdsLikeGrafanaApp<T extends { defaults?: unknown; overrides?: unknown }>(
  source: T,
): T {
  const fix = (t: unknown) => {
    const th = t as { mode?: string; steps?: { value: number | null }[] } | undefined;
    if (!th || typeof th !== 'object') return;
    th.mode ||= 'absolute';
    if (!Array.isArray(th.steps)) th.steps = [];
    else if (th.steps.length) th.steps[0].value = Number.NEGATIVE_INFINITY;
  };
  fix((source.defaults as { thresholds?: unknown } | undefined)?.thresholds);
  for (const o of (source.overrides as { properties?: { id: string; value?: unknown }[] }[] | undefined) ??
    []) {
    for (const p of o.properties ?? []) if (p.id === 'thresholds') fix(p.value);
  }
  return source;
}
