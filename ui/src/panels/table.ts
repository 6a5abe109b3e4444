// The pure side of the table panel: Prometheus table-format results as one frame with labels as
// columns, the columns a frame shows, sorting, and footer reductions.
import type { Target } from '../dashboard/model';
import { getFieldDisplayName } from '../data/displayName';
import type { DataFrame, Field } from '../data/frame';

/**
 * Frames of table-format (or instant) Prometheus queries merged as Grafana shows them: one row per series
 * and time, columns Time, every label, and the value ("Value", or "Value #A" per query when several).
 * Other frames are returned unchanged.
 */
export function prepareTableFrames(frames: DataFrame[], targets: Target[] | undefined): DataFrame[] {
  const tableRefs = new Set((targets ?? []).filter((t) => t.format === 'table').map((t) => t.refId));
  // A frame that already has columns besides time and numbers (a datasource that answered a table) is
  // shown as it is.
  const seriesLike = (f: DataFrame) => f.fields.every((x) => x.type === 'time' || x.type === 'number');
  const toMerge = frames.filter(
    (f) =>
      seriesLike(f) &&
      ((f.refId !== undefined && tableRefs.has(f.refId)) ||
        (f.meta?.type === 'numeric-multi' && frames.every((g) => g.meta?.type === 'numeric-multi'))),
  );
  if (toMerge.length === 0) return frames;
  const rest = frames.filter((f) => !toMerge.includes(f));
  const refIds = [...new Set(toMerge.map((f) => f.refId ?? 'A'))];
  const labelKeys = new Set<string>();
  for (const f of toMerge)
    for (const fld of f.fields) for (const k of Object.keys(fld.labels ?? {})) labelKeys.add(k);
  const keys = [...labelKeys].sort((a, b) =>
    a === '__name__' ? -1 : b === '__name__' ? 1 : a.localeCompare(b),
  );
  const rows = new Map<
    string,
    { time: number | null; labels: Record<string, string>; values: Record<string, unknown> }
  >();
  let anyTime = false;
  let valueConfig: Field['config'] = {};
  for (const f of toMerge) {
    const time = f.fields.find((x) => x.type === 'time');
    if (time) anyTime = true;
    for (const fld of f.fields) {
      if (fld.type !== 'number') continue;
      valueConfig = { ...fld.config, displayNameFromDS: undefined, displayName: undefined };
      const labels = fld.labels ?? {};
      for (let i = 0; i < f.length; i++) {
        const t = time ? Number(time.values[i]) : null;
        const key = `${t}|${keys.map((k) => labels[k] ?? '').join('\u0000')}`;
        let row = rows.get(key);
        if (!row) {
          row = { time: t, labels, values: {} };
          rows.set(key, row);
        }
        row.values[f.refId ?? 'A'] = fld.values[i];
      }
    }
  }
  const list = [...rows.values()];
  const fields: Field[] = [];
  if (anyTime) fields.push({ name: 'Time', type: 'time', config: {}, values: list.map((r) => r.time) });
  for (const k of keys)
    fields.push({ name: k, type: 'string', config: {}, values: list.map((r) => r.labels[k] ?? '') });
  for (const ref of refIds) {
    fields.push({
      name: refIds.length > 1 ? `Value #${ref}` : 'Value',
      type: 'number',
      config: valueConfig,
      values: list.map((r) => r.values[ref] ?? null),
    });
  }
  const merged: DataFrame = { refId: refIds.join(','), fields, length: list.length, meta: { type: 'table' } };
  return [merged, ...rest];
}

export interface Column {
  field: Field;
  /** Index of the field in its frame. */
  index: number;
  title: string;
}

export function tableColumns(frame: DataFrame, frames: DataFrame[]): Column[] {
  const cols: Column[] = [];
  frame.fields.forEach((field, index) => {
    const custom = (field.config.custom ?? {}) as { hidden?: boolean; hideFrom?: { viz?: boolean } };
    if (custom.hidden || custom.hideFrom?.viz) return;
    // Grafana's table shows the field's display name; for a plain "Value" with labels that is the series name.
    cols.push({ field, index, title: getFieldDisplayName(field, frame, frames) });
  });
  return cols;
}

export interface SortState {
  /** Index of the field in the frame. */
  index: number;
  desc: boolean;
}

function compare(a: unknown, b: unknown): number {
  const na = a == null || (typeof a === 'number' && Number.isNaN(a));
  const nb = b == null || (typeof b === 'number' && Number.isNaN(b));
  if (na || nb) return na && nb ? 0 : na ? -1 : 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  const sa = typeof a === 'object' ? JSON.stringify(a) : String(a);
  const sb = typeof b === 'object' ? JSON.stringify(b) : String(b);
  return sa.localeCompare(sb, undefined, { numeric: true });
}

/** Row order for a sort (a stable sort of row indexes; missing values first ascending). */
export function sortRows(frame: DataFrame, sort: SortState | undefined): number[] {
  const idx = Array.from({ length: frame.length }, (_, i) => i);
  if (!sort) return idx;
  const field = frame.fields[sort.index];
  if (!field) return idx;
  const dir = sort.desc ? -1 : 1;
  return idx.sort((x, y) => dir * compare(field.values[x], field.values[y]) || x - y);
}

/** Next state when a header is clicked: ascending, then descending, then unsorted. */
export function nextSort(current: SortState | undefined, index: number): SortState | undefined {
  if (!current || current.index !== index) return { index, desc: false };
  if (!current.desc) return { index, desc: true };
  return undefined;
}
