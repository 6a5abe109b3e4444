// The inspect drawer: a panel's data as a table per frame (with CSV download),
// the query it sent and what the datasource ran, and the panel's JSON.
import { useState } from 'preact/hooks';
import { getDisplayProcessor } from '../data/display';
import type { DataFrame, Field } from '../data/frame';
import type { Panel } from './model';
import type { PanelSnapshot } from './PanelChrome';
import { formatDateTime } from './time';

export type InspectTab = 'data' | 'query' | 'json';

interface InspectProps {
  panel: Panel;
  snapshot?: PanelSnapshot;
  tab: InspectTab;
  timeZone: string;
  /** Bumped when the panel's data changes (the snapshot object is mutated in place). */
  version?: number;
  onTab: (tab: InspectTab) => void;
  onClose: () => void;
}

/** Rows the table shows at most: the CSV download has them all. */
const MAX_ROWS = 1000;

/** A column's header: its name, with the series labels when it has any. */
export function fieldHeader(field: Field): string {
  const labels = Object.entries(field.labels ?? {});
  const name = field.config.displayNameFromDS ?? field.config.displayName ?? field.name;
  if (labels.length === 0 || field.config.displayNameFromDS) return name;
  return `${name} {${labels.map(([k, v]) => `${k}="${v}"`).join(', ')}}`;
}

/** One cell as text: times as dates in the dashboard's zone, objects as JSON. */
export function cellText(field: Field, value: unknown, timeZone: string): string {
  if (value === null || value === undefined) return '';
  if (field.type === 'time' && typeof value === 'number') return formatDateTime(value, timeZone);
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A column's values as the panel would show them (unit, decimals, mappings); objects as JSON. */
function formattedCell(field: Field, timeZone: string): (value: unknown) => string {
  if (field.type === 'other') return (value) => cellText(field, value, timeZone);
  const display = getDisplayProcessor({ field, timeZone });
  return (value) => {
    if (value === null || value === undefined) return '';
    const d = display(value);
    return `${d.prefix ?? ''}${d.text}${d.suffix ?? ''}`;
  };
}

/** The frame as CSV (RFC 4180 quoting), times as epoch ms for lossless reuse. */
export function frameToCsv(frame: DataFrame): string {
  const quote = (s: string) => (/[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s);
  const lines = [frame.fields.map((f) => quote(fieldHeader(f))).join(',')];
  for (let i = 0; i < frame.length; i++) {
    lines.push(
      frame.fields
        .map((f) => {
          const v = f.values[i];
          if (v === null || v === undefined) return '';
          return quote(typeof v === 'object' ? JSON.stringify(v) : String(v));
        })
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}

function download(name: string, text: string, type: string) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

export function Inspect({ panel, snapshot, tab, timeZone, onTab, onClose }: InspectProps) {
  const title = panel.title || `Panel ${panel.id}`;
  return (
    <aside class="drawer" role="dialog" aria-label={`Inspect: ${title}`}>
      <div class="drawer-header">
        <h2>Inspect: {title}</h2>
        <button type="button" class="btn btn-secondary btn-sm btn-icon" aria-label="Close" onClick={onClose}>
          ×
        </button>
        <div class="drawer-subtitle muted">
          {snapshot?.frames.length ?? 0} frame(s), {snapshot?.frames.reduce((n, f) => n + f.length, 0) ?? 0}{' '}
          row(s)
        </div>
        <div class="tabs" role="tablist">
          {(['data', 'query', 'json'] as const).map((t) => (
            <button
              type="button"
              role="tab"
              key={t}
              aria-selected={tab === t}
              class={`tab${tab === t ? ' active' : ''}`}
              onClick={() => onTab(t)}
            >
              {t === 'data' ? 'Data' : t === 'query' ? 'Query' : 'JSON'}
            </button>
          ))}
        </div>
      </div>
      <div class="drawer-body">
        {!snapshot ? (
          <div class="muted">The panel has not run its queries yet.</div>
        ) : tab === 'data' ? (
          <DataTab frames={snapshot.frames} timeZone={timeZone} title={title} />
        ) : tab === 'query' ? (
          <QueryTab snapshot={snapshot} />
        ) : (
          <pre class="code-block">{JSON.stringify(panel, null, 2)}</pre>
        )}
      </div>
    </aside>
  );
}

function DataTab({ frames, timeZone, title }: { frames: DataFrame[]; timeZone: string; title: string }) {
  const [index, setIndex] = useState(0);
  // Grafana shows values with the field's unit, decimals and mappings unless "Formatted data" is off.
  const [formatted, setFormatted] = useState(true);
  if (frames.length === 0) return <div class="muted">No data</div>;
  const frame = frames[Math.min(index, frames.length - 1)];
  const rows = Math.min(frame.length, MAX_ROWS);
  const displays = frame.fields.map((field) => formattedCell(field, timeZone));
  return (
    <div class="inspect-data">
      <div class="inspect-data-bar">
        <label class="inspect-toggle">
          <input
            type="checkbox"
            checked={formatted}
            onChange={(e) => setFormatted(e.currentTarget.checked)}
          />
          Formatted data
        </label>
        {frames.length > 1 && (
          <select
            class="input select"
            aria-label="Frame"
            value={String(index)}
            onChange={(e) => setIndex(Number(e.currentTarget.value))}
          >
            {frames.map((f, i) => (
              <option key={`${i}-${f.name ?? ''}`} value={String(i)}>
                {`Series ${i + 1}: ${
                  f.name ||
                  f.fields
                    .filter((x) => x.type !== 'time')
                    .map(fieldHeader)
                    .join(', ') ||
                  f.refId ||
                  ''
                }`}
              </option>
            ))}
          </select>
        )}
        <button
          type="button"
          class="btn btn-primary btn-sm"
          onClick={() =>
            download(`${title.replace(/[^\w-]+/g, '_')}-data.csv`, frameToCsv(frame), 'text/csv')
          }
        >
          Download CSV
        </button>
      </div>
      <div class="inspect-table-wrap">
        <table class="inspect-table">
          <thead>
            <tr>
              {frame.fields.map((f, i) => (
                <th key={`${i}-${f.name}`}>{fieldHeader(f)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {Array.from({ length: rows }, (_, r) => (
              <tr key={r}>
                {frame.fields.map((f, c) => (
                  <td key={`${c}-${f.name}`}>
                    {formatted ? displays[c](f.values[r]) : cellText(f, f.values[r], timeZone)}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {frame.length > MAX_ROWS && (
        <div class="muted">
          Showing {MAX_ROWS} of {frame.length} rows; the CSV has them all.
        </div>
      )}
    </div>
  );
}

function QueryTab({ snapshot }: { snapshot: PanelSnapshot }) {
  const executed = snapshot.frames
    .map((f) => ({ refId: f.refId, text: f.meta?.executedQueryString }))
    .filter((e): e is { refId: string | undefined; text: string } => typeof e.text === 'string')
    .filter((e, i, all) => all.findIndex((x) => x.refId === e.refId && x.text === e.text) === i);
  const errors = snapshot.data?.errors ?? [];
  return (
    <div class="inspect-query">
      <p class="muted">
        Interval {snapshot.plan.interval}, max data points {snapshot.plan.maxDataPoints}
        {snapshot.plan.timeInfo ? `, ${snapshot.plan.timeInfo}` : ''}
      </p>
      {errors.length > 0 && (
        <div class="alert alert-error">
          {errors.map((e) => (
            <div key={`${e.refId}-${e.message}`}>{e.refId ? `${e.refId}: ${e.message}` : e.message}</div>
          ))}
        </div>
      )}
      {executed.length > 0 && (
        <>
          <h3>Executed queries</h3>
          {executed.map((e) => (
            <pre key={`${e.refId}-${e.text}`} class="code-block">
              {e.refId ? `${e.refId}: ` : ''}
              {e.text}
            </pre>
          ))}
        </>
      )}
      <h3>Request</h3>
      <pre class="code-block">
        {snapshot.plan.request
          ? `POST /api/ds/query\n${JSON.stringify(snapshot.plan.request, null, 2)}`
          : 'No query'}
      </pre>
    </div>
  );
}
