// The table panel: a frame's fields as columns, formatted by their display processors, sortable, with
// coloured cells, gauge cells, an optional footer, and a frame selector when the query gave several frames.
import { useMemo, useState } from 'preact/hooks';
import { type DisplayValue, getDisplayProcessor } from '../data/display';
import { reduceField } from '../data/reducers';
import { formattedValueToString } from '../data/units';
import { alpha, shade, textOn } from './color';
import { withColorDefaults } from './defaults';
import { globalRange } from './fieldDisplay';
import { gaugeFraction } from './gaugeGeometry';
import { type Column, nextSort, prepareTableFrames, type SortState, sortRows, tableColumns } from './table';
import { reducerName } from './timeseries/legend';
import { formatTime } from './timeseries/model';
import type { PanelProps } from './types';
import './panels.css';

interface TableOptions {
  showHeader?: boolean;
  cellHeight?: 'sm' | 'md' | 'lg';
  footer?: { show?: boolean; reducer?: string[]; fields?: string | string[]; countRows?: boolean };
  sortBy?: { displayName: string; desc?: boolean }[];
  frameIndex?: number;
}

interface CellOptions {
  type?: string;
  mode?: string;
}

const PAGE = 500;

function text(d: DisplayValue): string {
  return formattedValueToString({ text: d.text, prefix: d.prefix, suffix: d.suffix });
}

export function TablePanel(props: PanelProps) {
  const { panel, width, height, timeZone } = props;
  const o = (panel.options ?? {}) as TableOptions;
  const frames = useMemo(
    () => prepareTableFrames(withColorDefaults(props.frames, 'table'), panel.targets),
    [props.frames, panel.targets],
  );
  const [frameIdx, setFrameIdx] = useState(o.frameIndex ?? 0);
  const frame = frames[Math.min(frameIdx, frames.length - 1)];
  const columns = useMemo(() => (frame ? tableColumns(frame, frames) : []), [frame, frames]);
  const initialSort = useMemo(() => {
    const want = o.sortBy?.[0];
    if (!want) return undefined;
    const c = columns.find((col) => col.title === want.displayName);
    return c ? { index: c.index, desc: !!want.desc } : undefined;
  }, [columns, o.sortBy]);
  const [sort, setSort] = useState<SortState | undefined | null>(null);
  const activeSort = sort === null ? initialSort : sort;
  const order = useMemo(() => (frame ? sortRows(frame, activeSort) : []), [frame, activeSort]);
  const [shown, setShown] = useState(PAGE);
  const processors = useMemo(
    () =>
      columns.map((c) =>
        c.field.type === 'time' ? undefined : getDisplayProcessor({ field: c.field, timeZone }),
      ),
    [columns, timeZone],
  );
  const range = useMemo(() => (frame ? globalRange([frame]) : undefined), [frame]);
  if (!frame || frame.length === 0 || columns.length === 0) {
    return <div class="panel-nodata">{panel.fieldConfig?.defaults?.noValue ?? 'No data'}</div>;
  }
  const rowH = o.cellHeight === 'lg' ? 48 : o.cellHeight === 'md' ? 40 : 32;
  const footer = o.footer?.show;
  const showSelector = frames.length > 1;
  const onScroll = (e: Event) => {
    const el = e.currentTarget as HTMLElement;
    if (shown < order.length && el.scrollTop + el.clientHeight > el.scrollHeight - 400)
      setShown(shown + PAGE);
  };
  return (
    <div class="panel-table" style={{ width: `${width}px`, height: `${height}px` }}>
      <div
        class="panel-table-scroll"
        onScroll={onScroll}
        style={{ height: `${height - (showSelector ? 32 : 0)}px` }}
      >
        <table style={{ minWidth: `${width}px` }}>
          {o.showHeader !== false && (
            <thead>
              <tr>
                {columns.map((c) => {
                  const s = activeSort?.index === c.index ? (activeSort.desc ? ' ↓' : ' ↑') : '';
                  return (
                    <th
                      key={c.index}
                      style={headerStyle(c)}
                      onClick={() => setSort(nextSort(activeSort, c.index))}
                      title="Sort"
                    >
                      {c.title}
                      {s}
                    </th>
                  );
                })}
              </tr>
            </thead>
          )}
          <tbody>
            {order.slice(0, shown).map((r) => (
              <tr key={r} style={{ height: `${rowH}px` }}>
                {columns.map((c, ci) => (
                  <Cell
                    key={c.index}
                    column={c}
                    value={c.field.values[r]}
                    display={processors[ci]}
                    timeZone={timeZone}
                    range={range}
                  />
                ))}
              </tr>
            ))}
          </tbody>
          {footer && (
            <tfoot>
              <tr>
                {columns.map((c, ci) => (
                  <td key={c.index} style={{ textAlign: align(c) }}>
                    {footerCell(c, ci, o, processors[ci], order.length)}
                  </td>
                ))}
              </tr>
            </tfoot>
          )}
        </table>
      </div>
      {showSelector && (
        <select
          class="panel-table-frames"
          value={String(frameIdx)}
          onChange={(e) => {
            setFrameIdx(Number((e.currentTarget as HTMLSelectElement).value));
            setSort(null);
          }}
        >
          {frames.map((f, i) => (
            <option key={i} value={String(i)}>
              {frameTitle(f, i, frames)}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

function frameTitle(f: PanelProps['frames'][number], i: number, frames: PanelProps['frames']): string {
  if (f.name) return f.name;
  const v = f.fields.find((x) => x.type === 'number');
  if (v?.labels && Object.keys(v.labels).length) {
    return `${v.labels.__name__ ?? ''}{${Object.entries(v.labels)
      .filter(([k]) => k !== '__name__')
      .map(([k, val]) => `${k}="${val}"`)
      .join(', ')}}`;
  }
  return `${f.refId ?? 'Frame'} ${frames.length > 1 ? i + 1 : ''}`.trim();
}

function custom(c: Column): {
  align?: string;
  width?: number;
  minWidth?: number;
  cellOptions?: CellOptions;
  displayMode?: string;
} {
  return (c.field.config.custom ?? {}) as ReturnType<typeof custom>;
}

function align(c: Column): 'left' | 'right' | 'center' {
  const a = custom(c).align;
  if (a === 'left' || a === 'right' || a === 'center') return a;
  return c.field.type === 'number' ? 'right' : 'left';
}

function headerStyle(c: Column): Record<string, string> {
  const cu = custom(c);
  const s: Record<string, string> = { textAlign: align(c) };
  if (cu.width) s.width = `${cu.width}px`;
  if (cu.minWidth) s.minWidth = `${cu.minWidth}px`;
  return s;
}

function footerCell(
  c: Column,
  ci: number,
  o: TableOptions,
  display: ((v: unknown) => DisplayValue) | undefined,
  rows: number,
): string {
  if (o.footer?.countRows) return ci === 0 ? `Count ${rows}` : '';
  const reducer = (Array.isArray(o.footer?.reducer) ? o.footer?.reducer[0] : undefined) ?? 'sum';
  const fields = o.footer?.fields;
  if (fields?.length && !(Array.isArray(fields) ? fields.includes(c.title) : fields === c.title)) {
    return ci === 0 ? reducerName(reducer) : '';
  }
  if (c.field.type !== 'number') return ci === 0 ? reducerName(reducer) : '';
  const v = reduceField(c.field, [reducer])[reducer] ?? null;
  return display ? text(display(v)) : String(v ?? '');
}

function Cell(props: {
  column: Column;
  value: unknown;
  display?: (v: unknown) => DisplayValue;
  timeZone?: string;
  range?: { min: number; max: number };
}) {
  const { column: c, value, display } = props;
  const cu = custom(c);
  const a = align(c);
  if (c.field.type === 'time' || !display) {
    const t =
      typeof value === 'number'
        ? formatTime(value, 'YYYY-MM-DD HH:mm:ss', props.timeZone)
        : String(value ?? '');
    return <td style={{ textAlign: a }}>{t}</td>;
  }
  if (c.field.type === 'other' && value && typeof value === 'object') {
    return <td style={{ textAlign: a }}>{JSON.stringify(value)}</td>;
  }
  const d = display(value);
  // Older dashboards say custom.displayMode; newer ones custom.cellOptions.type.
  const type = cu.cellOptions?.type ?? cu.displayMode ?? 'auto';
  const color = d.color ?? '#73BF69';
  const style: Record<string, string> = { textAlign: a };
  if (type === 'color-text') style.color = color;
  if (type === 'color-background' || type === 'color-background-solid') {
    const solid = type === 'color-background-solid' || cu.cellOptions?.mode === 'basic';
    style.background = solid ? color : `linear-gradient(120deg, ${shade(color, -8, 6)}, ${color})`;
    style.color = textOn(color);
  }
  if (type === 'gauge' || type === 'gradient-gauge' || type === 'lcd-gauge' || type === 'basic') {
    const min = c.field.config.min ?? props.range?.min ?? 0;
    const max = c.field.config.max ?? props.range?.max ?? 100;
    const f = gaugeFraction(d.numeric, min, max);
    return (
      <td class="panel-table-gauge">
        <div
          class="bar"
          style={{ width: `${f * 100}%`, background: alpha(color, 0.35), borderRight: `2px solid ${color}` }}
        />
        <span style={{ color }}>{text(d)}</span>
      </td>
    );
  }
  return <td style={style}>{text(d)}</td>;
}
