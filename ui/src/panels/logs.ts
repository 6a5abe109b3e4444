// The pure side of the logs panel: rows out of Loki frames, the level of a line (Grafana's rules and
// colours), dedup strategies, common labels, and fields parsed from logfmt or JSON lines.
import type { DataFrame } from '../data/frame';

export type LogLevel = 'critical' | 'error' | 'warning' | 'info' | 'debug' | 'trace' | 'unknown';

/** The words Grafana recognises, in its order, and the level each stands for. */
const LEVEL_WORDS: [string, LogLevel][] = [
  ['emerg', 'critical'],
  ['fatal', 'critical'],
  ['alert', 'critical'],
  ['crit', 'critical'],
  ['critical', 'critical'],
  ['warn', 'warning'],
  ['warning', 'warning'],
  ['err', 'error'],
  ['eror', 'error'],
  ['error', 'error'],
  ['info', 'info'],
  ['information', 'info'],
  ['informational', 'info'],
  ['notice', 'info'],
  ['dbug', 'debug'],
  ['debug', 'debug'],
  ['trace', 'trace'],
];
const LEVEL_RES = LEVEL_WORDS.map(([w, l]) => [new RegExp(`\\b${w}\\b`, 'i'), l] as const);

export const LEVEL_COLORS: Record<LogLevel, string> = {
  critical: '#705da0',
  error: '#e24d42',
  warning: '#eab839',
  info: '#7eb26d',
  debug: '#1f78c1',
  trace: '#6ed0e0',
  unknown: '#8e8e8e',
};

/** The level a label value names ("ERROR", "warn", "crit"...), or unknown. */
export function levelFromKey(key: string): LogLevel {
  const k = key.trim().toLowerCase();
  for (const [w, l] of LEVEL_WORDS) if (w === k) return l;
  return 'unknown';
}

/** The level word that appears earliest in the line, as Grafana detects it. */
export function levelFromLine(line: string): LogLevel {
  let level: LogLevel = 'unknown';
  let at = Number.POSITIVE_INFINITY;
  for (const [re, l] of LEVEL_RES) {
    const m = re.exec(line);
    if (m && m.index < at) {
      at = m.index;
      level = l;
    }
  }
  return level;
}

const LEVEL_LABELS = ['level', 'lvl', 'loglevel', 'log_level', 'severity', 'detected_level'];

export function levelOf(labels: Record<string, string>, line: string): LogLevel {
  for (const k of LEVEL_LABELS) {
    if (labels[k] !== undefined) {
      const l = levelFromKey(labels[k]);
      if (l !== 'unknown') return l;
    }
  }
  return levelFromLine(line);
}

export interface LogRow {
  /** Epoch ms. */
  time: number;
  /** Nanosecond timestamp string when the datasource gave one (orders lines of the same ms). */
  tsNs?: string;
  line: string;
  labels: Record<string, string>;
  level: LogLevel;
  id: string;
  /** How many following rows dedup folded into this one. */
  duplicates?: number;
}

function asLabels(v: unknown): Record<string, string> {
  if (v && typeof v === 'object') return v as Record<string, string>;
  if (typeof v === 'string') {
    try {
      const parsed = JSON.parse(v);
      if (parsed && typeof parsed === 'object') return parsed as Record<string, string>;
    } catch {
      // not JSON labels: none
    }
  }
  return {};
}

/** Rows of every log frame: the `labels`/`Time`/`Line`/`tsNs`/`id` frame Loki answers, or any frame with a time and a string field. */
export function logRowsFromFrames(frames: DataFrame[]): LogRow[] {
  const rows: LogRow[] = [];
  frames.forEach((frame, fi) => {
    const time = frame.fields.find((f) => f.type === 'time');
    const line =
      frame.fields.find((f) => f.name === 'Line' || f.name === 'body') ??
      frame.fields.find((f) => f.type === 'string' && f.name !== 'tsNs' && f.name !== 'id');
    if (!time || !line) return;
    const labelsField = frame.fields.find((f) => f.name === 'labels' || f.name === 'attributes');
    const tsNs = frame.fields.find((f) => f.name === 'tsNs');
    const idField = frame.fields.find((f) => f.name === 'id');
    const levelField = frame.fields.find((f) => f.name === 'level' || f.name === 'detected_level');
    for (let i = 0; i < frame.length; i++) {
      const labels = { ...(line.labels ?? {}), ...asLabels(labelsField?.values[i]) };
      const text = String(line.values[i] ?? '');
      let level = levelOf(labels, text);
      if (levelField && levelField.values[i] != null) level = levelFromKey(String(levelField.values[i]));
      rows.push({
        time: Number(time.values[i]),
        tsNs: tsNs ? String(tsNs.values[i]) : undefined,
        line: text,
        labels,
        level,
        // Ids are unique within a query's answer; two queries may return the same line.
        id: `${frame.refId ?? fi}_${idField ? String(idField.values[i]) : i}`,
      });
    }
  });
  return rows;
}

function nsKey(r: LogRow): bigint {
  if (r.tsNs && /^\d+$/.test(r.tsNs)) return BigInt(r.tsNs);
  return BigInt(Math.round(r.time)) * 1000000n;
}

export function sortRows(rows: LogRow[], order: 'Descending' | 'Ascending' | string): LogRow[] {
  const dir = order === 'Ascending' ? 1 : -1;
  // Keys once per row, not per comparison: thousands of lines sort in a few ms.
  const keyed = rows.map((r) => ({ r, k: nsKey(r) }));
  keyed.sort((a, b) => (a.k === b.k ? 0 : a.k < b.k ? -dir : dir));
  return keyed.map((x) => x.r);
}

export type DedupStrategy = 'none' | 'exact' | 'numbers' | 'signature';

const ISO_DATE = /\d{4}-[01]\d-[0-3]\dT[0-2]\d:[0-5]\d:[0-6]\d[,.]\d+([+-][0-2]\d:[0-5]\d|Z)/g;

/** The part of a line a strategy compares: exact ignores ISO dates, numbers drops digits, signature keeps only punctuation/space. */
export function dedupKey(line: string, strategy: DedupStrategy): string {
  switch (strategy) {
    case 'exact':
      return line.replace(ISO_DATE, '');
    case 'numbers':
      return line.replace(/\d/g, '');
    case 'signature':
      return line.replace(/\w/g, '');
    default:
      return line;
  }
}

/** Folds runs of consecutive duplicate lines into their first row, counting the others. */
export function dedupRows(rows: LogRow[], strategy: DedupStrategy | string | undefined): LogRow[] {
  if (!strategy || strategy === 'none') return rows;
  const s = strategy as DedupStrategy;
  const out: LogRow[] = [];
  let prevKey: string | undefined;
  for (const r of rows) {
    const key = dedupKey(r.line, s);
    const last = out[out.length - 1];
    if (last && key === prevKey) {
      last.duplicates = (last.duplicates ?? 0) + 1;
      continue;
    }
    out.push({ ...r, duplicates: 0 });
    prevKey = key;
  }
  return out;
}

/** Labels with the same value on every row (shown once when `showCommonLabels`, hidden from each row). */
export function commonLabels(rows: LogRow[]): Record<string, string> {
  if (rows.length === 0) return {};
  const common: Record<string, string> = { ...rows[0].labels };
  for (const r of rows) {
    for (const k of Object.keys(common)) if (r.labels[k] !== common[k]) delete common[k];
  }
  return common;
}

/** `key=value` pairs of a logfmt line (values may be double-quoted with \" escapes). */
export function parseLogfmt(line: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s="]+)=(?:"((?:[^"\\]|\\.)*)"|([^\s"]*))/g;
  for (let m = re.exec(line); m; m = re.exec(line)) {
    out[m[1]] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
  }
  return out;
}

/** The fields of a JSON object line, nested keys joined with `_` as Loki's json parser names them. */
export function parseJsonLine(line: string): Record<string, string> | undefined {
  const t = line.trim();
  if (!t.startsWith('{')) return undefined;
  let obj: unknown;
  try {
    obj = JSON.parse(t);
  } catch {
    return undefined;
  }
  if (!obj || typeof obj !== 'object' || Array.isArray(obj)) return undefined;
  const out: Record<string, string> = {};
  const walk = (o: Record<string, unknown>, prefix: string) => {
    for (const [k, v] of Object.entries(o)) {
      const key = prefix ? `${prefix}_${k}` : k;
      if (v && typeof v === 'object' && !Array.isArray(v)) walk(v as Record<string, unknown>, key);
      else out[key] = typeof v === 'string' ? v : JSON.stringify(v);
    }
  };
  walk(obj as Record<string, unknown>, '');
  return out;
}

/** Fields parsed from a line: JSON when it is a JSON object, else logfmt pairs. */
export function parseLineFields(line: string): Record<string, string> {
  return parseJsonLine(line) ?? parseLogfmt(line);
}
