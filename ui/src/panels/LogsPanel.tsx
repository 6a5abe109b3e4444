// The logs panel: one row per line (time, level colour bar, labels, line), newest or oldest first, dedup,
// and details (labels and parsed fields) on click. Rows render in pages as the list scrolls, so thousands
// of lines stay fast.
import { useMemo, useState } from 'preact/hooks';
import {
  commonLabels,
  dedupRows,
  LEVEL_COLORS,
  type LogRow,
  logRowsFromFrames,
  parseLineFields,
  sortRows,
} from './logs';
import { formatTime } from './timeseries/model';
import type { PanelProps } from './types';
import './panels.css';

interface LogsOptions {
  showTime?: boolean;
  showLabels?: boolean;
  showCommonLabels?: boolean;
  wrapLogMessage?: boolean;
  prettifyLogMessage?: boolean;
  enableLogDetails?: boolean;
  sortOrder?: 'Descending' | 'Ascending';
  dedupStrategy?: 'none' | 'exact' | 'numbers' | 'signature';
}

const PAGE = 200;

function labelText(labels: Record<string, string>, skip: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => !(k in skip))
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(', ');
}

export function LogsPanel(props: PanelProps) {
  const { panel, frames, width, height, timeZone } = props;
  const o = (panel.options ?? {}) as LogsOptions;
  const rows = useMemo(
    () => dedupRows(sortRows(logRowsFromFrames(frames), o.sortOrder ?? 'Descending'), o.dedupStrategy),
    [frames, o.sortOrder, o.dedupStrategy],
  );
  const common = useMemo(() => commonLabels(rows), [rows]);
  const [shown, setShown] = useState(PAGE);
  const [open, setOpen] = useState<Set<string>>(new Set());
  if (rows.length === 0) {
    return <div class="panel-nodata">{panel.fieldConfig?.defaults?.noValue ?? 'No data'}</div>;
  }
  const onScroll = (e: Event) => {
    const el = e.currentTarget as HTMLElement;
    if (shown < rows.length && el.scrollTop + el.clientHeight > el.scrollHeight - 400) {
      setShown(Math.min(rows.length, shown + PAGE));
    }
  };
  const details = o.enableLogDetails ?? true;
  const toggle = (id: string) => {
    if (!details) return;
    const next = new Set(open);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setOpen(next);
  };
  return (
    <div
      class={`panel-logs${o.wrapLogMessage ? ' wrap' : ''}`}
      style={{ width: `${width}px`, height: `${height}px` }}
      onScroll={onScroll}
    >
      {o.showCommonLabels && Object.keys(common).length > 0 && (
        <div class="panel-logs-common">Common labels: {labelText(common, {})}</div>
      )}
      {rows.slice(0, shown).map((r) => (
        <LogLine
          key={r.id}
          row={r}
          options={o}
          common={common}
          timeZone={timeZone}
          open={open.has(r.id)}
          onClick={() => toggle(r.id)}
          clickable={details}
        />
      ))}
      {shown < rows.length && (
        <button
          type="button"
          class="panel-logs-more"
          onClick={() => setShown(Math.min(rows.length, shown + PAGE))}
        >
          Show {Math.min(PAGE, rows.length - shown)} more of {rows.length - shown} lines
        </button>
      )}
    </div>
  );
}

function prettify(line: string): string {
  const t = line.trim();
  if (!t.startsWith('{')) return line;
  try {
    return JSON.stringify(JSON.parse(t), null, 2);
  } catch {
    return line;
  }
}

function LogLine(props: {
  row: LogRow;
  options: LogsOptions;
  common: Record<string, string>;
  timeZone?: string;
  open: boolean;
  clickable: boolean;
  onClick: () => void;
}) {
  const { row: r, options: o } = props;
  const color = LEVEL_COLORS[r.level];
  return (
    <div class={`panel-logs-row level-${r.level}${props.open ? ' open' : ''}`}>
      {/* biome-ignore lint/a11y/useSemanticElements: a log line holds preformatted text a <button> would restyle. */}
      <div
        class={`panel-logs-line${props.clickable ? ' clickable' : ''}`}
        role="button"
        tabIndex={props.clickable ? 0 : -1}
        aria-expanded={props.open}
        onClick={props.onClick}
        onKeyDown={(e) => {
          if (e.key === 'Enter' || e.key === ' ') props.onClick();
        }}
      >
        <span class="level" style={{ background: color }} title={r.level} />
        {r.duplicates ? <span class="dups">{r.duplicates + 1}x</span> : null}
        {o.showTime && (
          <span class="time">{formatTime(r.time, 'YYYY-MM-DD HH:mm:ss.SSS', props.timeZone)}</span>
        )}
        {o.showLabels && <span class="labels">{labelText(r.labels, props.common)}</span>}
        <span class="msg">{o.prettifyLogMessage ? prettify(r.line) : r.line}</span>
      </div>
      {props.open && <LogDetails row={r} />}
    </div>
  );
}

function LogDetails({ row }: { row: LogRow }) {
  const fields = parseLineFields(row.line);
  const labelKeys = Object.keys(row.labels).sort();
  const fieldKeys = Object.keys(fields);
  return (
    <div class="panel-logs-details">
      {labelKeys.length > 0 && (
        <table>
          <thead>
            <tr>
              <th colSpan={2}>Labels</th>
            </tr>
          </thead>
          <tbody>
            {labelKeys.map((k) => (
              <tr key={k}>
                <td class="key">{k}</td>
                <td>{row.labels[k]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {fieldKeys.length > 0 && (
        <table>
          <thead>
            <tr>
              <th colSpan={2}>Fields</th>
            </tr>
          </thead>
          <tbody>
            {fieldKeys.map((k) => (
              <tr key={k}>
                <td class="key">{k}</td>
                <td>{fields[k]}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
