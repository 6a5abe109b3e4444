// TEMPORARY stand-ins, with the brief's API, for modules other lanes write in parallel:
// src/dashboard/time.ts and interval.ts (ui-time), src/panels/registry.ts (ui-panels) and the frontend
// settings call of src/api.ts (ui-shell). Deleted once those are in main.
import { type ComponentType, h } from 'preact';
import type { DataSourceSettings, Panel } from '../dashboard/model';
import type { DataFrame } from '../data/frame';

// --- src/dashboard/time.ts --------------------------------------------------------------------

export interface RawTimeRange {
  from: string;
  to: string;
}

const UNIT_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
  M: 2_592_000_000,
  y: 31_536_000_000,
};

/** `now`, `now-6h`, `now-1d/d` (rounding in UTC) or epoch ms; undefined when unreadable. */
function parseTime(text: string, roundUp: boolean, now: number): number | undefined {
  if (/^\d+$/.test(text)) return Number(text);
  const m = /^now(?:([+-])(\d+)([smhdwMy]))?(?:\/([smhdwMy]))?$/.exec(text.trim());
  if (!m) {
    const parsed = Date.parse(text);
    return Number.isNaN(parsed) ? undefined : parsed;
  }
  let t = now;
  if (m[1]) t += (m[1] === '-' ? -1 : 1) * Number(m[2]) * UNIT_MS[m[3]];
  if (m[4]) {
    const unit = UNIT_MS[m[4]];
    t = Math.floor(t / unit) * unit + (roundUp ? unit - 1 : 0);
  }
  return t;
}

export function parseTimeRange(
  raw: RawTimeRange,
  now = Date.now(),
): { from: number; to: number; raw: RawTimeRange } {
  const from = parseTime(raw.from, false, now) ?? now - 3_600_000;
  const to = parseTime(raw.to, true, now) ?? now;
  return { from, to, raw };
}

export const QUICK_RANGES: { from: string; to: string; display: string }[] = [
  { from: 'now-5m', to: 'now', display: 'Last 5 minutes' },
  { from: 'now-15m', to: 'now', display: 'Last 15 minutes' },
  { from: 'now-30m', to: 'now', display: 'Last 30 minutes' },
  { from: 'now-1h', to: 'now', display: 'Last 1 hour' },
  { from: 'now-3h', to: 'now', display: 'Last 3 hours' },
  { from: 'now-6h', to: 'now', display: 'Last 6 hours' },
  { from: 'now-12h', to: 'now', display: 'Last 12 hours' },
  { from: 'now-24h', to: 'now', display: 'Last 24 hours' },
  { from: 'now-2d', to: 'now', display: 'Last 2 days' },
  { from: 'now-7d', to: 'now', display: 'Last 7 days' },
  { from: 'now-30d', to: 'now', display: 'Last 30 days' },
];

export function describeTimeRange(raw: RawTimeRange): string {
  const quick = QUICK_RANGES.find((r) => r.from === raw.from && r.to === raw.to);
  if (quick) return quick.display;
  const show = (t: string) => (/^\d+$/.test(t) ? new Date(Number(t)).toISOString() : t);
  return `${show(raw.from)} to ${show(raw.to)}`;
}

// --- src/dashboard/interval.ts ----------------------------------------------------------------

export interface Interval {
  interval: string;
  intervalMs: number;
}

/** range / resolution, no less than `lowLimit` (e.g. `15s`) nor 1ms (Grafana also rounds to a table). */
export function calculateInterval(
  range: { from: number; to: number },
  resolution: number,
  lowLimit?: string | null,
): Interval {
  const raw = Math.max(1, Math.floor((range.to - range.from) / Math.max(1, resolution)));
  const min = lowLimit ? (durationMs(lowLimit.replace(/^>/, '')) ?? 0) : 0;
  const intervalMs = Math.max(raw, min);
  return { interval: formatDuration(intervalMs), intervalMs };
}

function durationMs(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w|y)$/.exec(text.trim());
  if (!m) return undefined;
  const unit = m[2] === 'ms' ? 1 : UNIT_MS[m[2]];
  return Number(m[1]) * unit;
}

function formatDuration(ms: number): string {
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

export type BuiltinValue = string | number;

export interface QueryBuiltinsOptions {
  dsType?: string;
  maxDataPoints?: number;
  targetInterval?: string | null;
  intervalFactor?: number | null;
  dsTimeInterval?: string | null;
  queryType?: string;
}

/** The built-in variables one query sees (Prometheus and Loki rules simplified). */
export function queryBuiltins(
  range: { from: number; to: number },
  interval: Interval,
  opts: QueryBuiltinsOptions,
): Record<string, BuiltinValue> {
  const rangeMs = range.to - range.from;
  const rangeS = Math.round(rangeMs / 1000);
  const scrapeS = Math.floor((durationMs(opts.dsTimeInterval ?? '') ?? 15_000) / 1000) || 15;
  const intervalS = Math.floor(interval.intervalMs / 1000);
  const rateS = Math.max(intervalS + scrapeS, 4 * scrapeS);
  const auto = opts.queryType === 'instant' ? formatDuration(rangeMs) : interval.interval;
  return {
    __interval: interval.interval,
    __interval_ms: interval.intervalMs,
    __rate_interval: `${rateS}s`,
    __rate_interval_ms: rateS * 1000,
    __range: `${rangeS}s`,
    __range_s: rangeS,
    __range_ms: rangeMs,
    __from: range.from,
    __to: range.to,
    __auto: auto,
  };
}

// --- src/panels/types.ts and registry.ts ------------------------------------------------------

export interface PanelProps {
  panel: Panel;
  frames: DataFrame[];
  width: number;
  height: number;
  timeRange: { from: number; to: number };
  onChangeTimeRange: (range: { from: number; to: number }) => void;
  replaceVariables: (text: string) => string;
  timeZone?: string;
}

function Placeholder({ panel, frames }: PanelProps) {
  const rows = frames.reduce((n, f) => n + f.length, 0);
  return h(
    'div',
    { class: 'explore-panel-placeholder' },
    `${panel.type}: ${frames.length} frame(s), ${rows} row(s)`,
  );
}

export function getPanelComponent(_type: string): ComponentType<PanelProps> {
  return Placeholder;
}

// --- src/api.ts -------------------------------------------------------------------------------

export interface FrontendSettings {
  datasources: Record<string, DataSourceSettings>;
  defaultDatasource?: string;
}

export async function getFrontendSettings(): Promise<FrontendSettings> {
  const response = await fetch('/api/frontend/settings', { headers: { Accept: 'application/json' } });
  if (!response.ok) throw new Error(`frontend settings: ${response.status} ${response.statusText}`);
  return (await response.json()) as FrontendSettings;
}
