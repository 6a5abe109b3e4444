// The time series panel: uPlot draws the series of the plot model (lines, bars, points, fills, stacks,
// thresholds); Preact draws the legend and the tooltip around it.
import { createPortal } from 'preact/compat';
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { getColorForTheme } from '../../data/colors';
import { getDisplayProcessor } from '../../data/display';
import { getActiveThreshold } from '../../data/thresholds';
import { formattedValueToString, getValueFormat } from '../../data/units';
import { alpha } from '../color';
import { crosshair } from '../crosshair';
import { withColorDefaults } from '../defaults';
import { measureText } from '../measure';
import type { PanelProps } from '../types';
import {
  type LegendItem,
  type LegendOptions,
  legendItems,
  legendSize,
  legendVisible,
  reducerName,
} from './legend';
import {
  buildPlotModel,
  formatTime,
  type PlotModel,
  type ScaleModel,
  type SeriesModel,
  tickDecimals,
  timeTickFormat,
  zoneOffset,
} from './model';
import '../panels.css';

interface TimeSeriesOptions {
  legend?: LegendOptions;
  tooltip?: { mode?: 'single' | 'multi' | 'none'; sort?: 'none' | 'asc' | 'desc' };
}

const AXIS_COLOR = 'rgba(204, 204, 220, 0.65)';
const GRID_COLOR = 'rgba(240, 250, 255, 0.09)';
const FONT = '12px Inter, Helvetica, Arial, sans-serif';

let nextId = 0;

const DEFAULT_LEGEND: LegendOptions = { displayMode: 'list', placement: 'bottom', calcs: [] };

function pathsFor(s: SeriesModel): uPlot.Series.PathBuilder | undefined {
  const p = uPlot.paths;
  if (s.drawStyle === 'points') return () => null;
  if (s.drawStyle === 'bars') {
    return p.bars?.({ size: [0.6, 100], align: s.barAlignment as -1 | 0 | 1 });
  }
  switch (s.interpolation) {
    case 'smooth':
      return p.spline?.();
    case 'stepBefore':
      return p.stepped?.({ align: -1 });
    case 'stepAfter':
      return p.stepped?.({ align: 1 });
    default:
      return p.linear?.();
  }
}

function fillFor(s: SeriesModel): uPlot.Series.Fill | undefined {
  if (s.fillOpacity <= 0) return undefined;
  const a = Math.min(1, s.fillOpacity / 100);
  if (s.gradientMode === 'none' || s.drawStyle === 'bars') return alpha(s.color, a);
  // opacity / hue / scheme: fade from the line's colour at the top to transparent at the bottom.
  return (u: uPlot) => {
    const { top, height } = u.bbox;
    const g = u.ctx.createLinearGradient(0, top, 0, top + height);
    g.addColorStop(0, alpha(s.color, a));
    g.addColorStop(1, alpha(s.color, 0));
    return g;
  };
}

function axisFor(scale: ScaleModel, side: 1 | 3): uPlot.Axis {
  const fmt = getValueFormat(scale.unit);
  return {
    scale: scale.key,
    side,
    show: scale.placement !== 'hidden',
    stroke: AXIS_COLOR,
    font: FONT,
    labelFont: FONT,
    label: scale.label,
    labelSize: scale.label ? 20 : 0,
    grid: { show: side === 3, stroke: GRID_COLOR, width: 1 },
    ticks: { show: false },
    gap: 6,
    size: (u, values, axisIdx, cycleNum) => {
      const axis = u.axes[axisIdx];
      if (cycleNum > 1) return (axis as { _size?: number })._size ?? 40;
      let w = 0;
      for (const v of values ?? []) w = Math.max(w, measureText(v, 12));
      return Math.ceil(w) + 16 + (scale.label ? 20 : 0);
    },
    // Ticks get the decimals their spacing needs (Grafana's axis formatting) unless the field sets them;
    // percentunit shows values x100: its ticks take the decimals of the scaled step, 0 for whole percents.
    values: (_u, splits, _axisIdx, _space, incr) => {
      const decimals =
        scale.decimals ??
        (scale.unit === 'percentunit' ? (tickDecimals(incr * 100) ?? 0) : tickDecimals(incr));
      return splits.map((v) => (v == null ? '' : formattedValueToString(fmt(v, decimals))));
    },
  };
}

function thresholdsHook(scales: ScaleModel[]) {
  return (u: uPlot) => {
    const ctx = u.ctx;
    const { left, top, width, height } = u.bbox;
    for (const s of scales) {
      const mode = s.thresholdsStyle;
      const steps = s.thresholds?.steps;
      if (!mode || mode === 'off' || !steps?.length || !u.scales[s.key]) continue;
      const pct = s.thresholds?.mode === 'percentage';
      const sc = u.scales[s.key];
      const lo = sc.min ?? 0;
      const hi = sc.max ?? 1;
      const val = (v: number) => (pct ? lo + ((hi - lo) * v) / 100 : v);
      ctx.save();
      ctx.beginPath();
      ctx.rect(left, top, width, height);
      ctx.clip();
      if (mode.includes('area')) {
        for (let i = 0; i < steps.length; i++) {
          const from =
            steps[i].value === null || !Number.isFinite(steps[i].value) ? lo : val(steps[i].value as number);
          const to = i + 1 < steps.length ? val(steps[i + 1].value as number) : hi;
          const y0 = u.valToPos(Math.max(from, lo), s.key, true);
          const y1 = u.valToPos(Math.min(to, hi), s.key, true);
          ctx.fillStyle = alpha(getColorForTheme(steps[i].color), 0.15);
          ctx.fillRect(left, Math.min(y0, y1), width, Math.abs(y1 - y0));
        }
      }
      if (mode.includes('line') || mode.includes('dashed')) {
        ctx.lineWidth = 2 * devicePixelRatio;
        if (mode.includes('dashed')) ctx.setLineDash([10 * devicePixelRatio, 10 * devicePixelRatio]);
        for (const st of steps) {
          // The base step (null, or -Infinity once loaded) has no line.
          if (st.value === null || !Number.isFinite(st.value)) continue;
          const y = u.valToPos(val(st.value), s.key, true);
          ctx.strokeStyle = alpha(getColorForTheme(st.color), 0.7);
          ctx.beginPath();
          ctx.moveTo(left, y);
          ctx.lineTo(left + width, y);
          ctx.stroke();
        }
      }
      ctx.restore();
    }
  };
}

export interface TooltipState {
  left: number;
  top: number;
  idx: number;
  /** Series under the pointer (single mode). */
  focus: number | null;
}

export function buildOptions(
  model: PlotModel,
  width: number,
  height: number,
  timeRange: { from: number; to: number },
  timeZone: string | undefined,
  hidden: Set<number>,
): uPlot.Options {
  const scales: uPlot.Scales = {
    x: { time: false, auto: false, range: () => [timeRange.from, timeRange.to] },
  };
  for (const s of model.scales) {
    // Bars grow from zero, so a scale with bars keeps zero in view.
    const hasBars = model.series.some((x) => x.scaleKey === s.key && x.drawStyle === 'bars');
    scales[s.key] = {
      auto: true,
      distr: s.log ? 3 : 1,
      log: (s.log ?? 10) as 10 | 2,
      range: (u, dataMin, dataMax) => {
        let min = dataMin ?? 0;
        let max = dataMax ?? 1;
        if (hasBars) {
          min = Math.min(min, 0);
          max = Math.max(max, 0);
        }
        if (s.softMin != null) min = Math.min(min, s.softMin);
        if (s.softMax != null) max = Math.max(max, s.softMax);
        if (s.thresholdsStyle && s.thresholdsStyle !== 'off' && s.thresholds?.mode !== 'percentage') {
          // Grafana keeps threshold lines in view.
          for (const st of s.thresholds?.steps ?? []) {
            if (st.value != null && Number.isFinite(st.value)) {
              min = Math.min(min, st.value);
              max = Math.max(max, st.value);
            }
          }
        }
        if (s.centeredZero) {
          const m = Math.max(Math.abs(min), Math.abs(max));
          min = -m;
          max = m;
        }
        const [lo0, hi0] = uPlot.rangeNum(min, max, 0.1, true);
        const lo = lo0 ?? min;
        const hi = hi0 ?? max;
        // Positive data never gets a negative axis (uPlot's padding would add one).
        const r: uPlot.Range.MinMax = [
          s.min ?? (dataMin != null && dataMin >= 0 && lo < 0 ? 0 : lo),
          s.max ?? hi,
        ];
        void u;
        return r;
      },
    };
  }
  const xFormat = (incr: number) => timeTickFormat(incr);
  const axes: uPlot.Axis[] = [
    {
      scale: 'x',
      stroke: AXIS_COLOR,
      font: FONT,
      grid: { stroke: GRID_COLOR, width: 1 },
      ticks: { show: false },
      // About 60 px per tick as Grafana spaces them, more when the labels the spacing implies are wider.
      space: (_u, _axisIdx, min, max, dim) => {
        const incr = ((max - min) * 60) / Math.max(dim, 1);
        const sample = formatTime(max, xFormat(incr), timeZone);
        return Math.max(60, measureText(sample, 12) + 14);
      },
      size: 26,
      gap: 4,
      incrs: [
        1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5,
        36e5, 72e5, 108e5, 216e5, 432e5, 864e5, 1728e5, 6048e5, 2592e6, 7776e6, 31536e6,
      ],
      splits: (_u, _axisIdx, min, max, incr) => {
        // Ticks on round times of the viewer's zone (minutes and hours start where the clock says).
        const off = zoneOffset(min, timeZone);
        const out: number[] = [];
        let t = Math.ceil((min + off) / incr) * incr - off;
        for (; t <= max; t += incr) out.push(t);
        return out;
      },
      values: (_u, splits, _i, _space, incr) => splits.map((v) => formatTime(v, xFormat(incr), timeZone)),
    },
  ];
  const sides = new Set<string>();
  for (const s of model.scales) {
    if (s.placement === 'hidden') {
      axes.push({ scale: s.key, show: false });
      continue;
    }
    const side = s.placement === 'right' ? 1 : 3;
    axes.push(axisFor(s, side));
    sides.add(s.key);
  }
  const series: uPlot.Series[] = [{}];
  const bands: uPlot.Band[] = [];
  model.series.forEach((s, i) => {
    const stacked = s.stackedOn !== undefined;
    series.push({
      label: s.name,
      scale: s.scaleKey,
      stroke: s.drawStyle === 'bars' && s.fillOpacity > 0 ? s.color : s.color,
      width: s.drawStyle === 'points' ? 0 : s.lineWidth,
      fill: fillFor(s),
      paths: pathsFor(s),
      spanGaps: s.spanNulls === true,
      // Dashes as Grafana draws them; dots are zero-length dashes with round caps.
      dash:
        s.lineStyle?.fill === 'dash'
          ? (s.lineStyle.dash ?? [10, 10])
          : s.lineStyle?.fill === 'dot'
            ? [0, ...(s.lineStyle.dash?.slice(1) ?? [10])]
            : undefined,
      cap: s.lineStyle?.fill === 'dot' ? 'round' : undefined,
      show: !hidden.has(i) && !s.hideFromViz,
      points: {
        show:
          s.drawStyle === 'points' || s.showPoints === 'always'
            ? true
            : s.showPoints === 'never'
              ? false
              : undefined,
        size: s.pointSize,
        stroke: s.color,
        fill: s.color,
        width: 1,
      },
    });
    if (stacked) {
      // uPlot clips the upper series' fill to the band, so each layer fills only down to the one below.
      bands.push({ series: [i + 1, (s.stackedOn as number) + 1] });
    }
  });
  return {
    width,
    height,
    scales,
    axes,
    series,
    bands,
    legend: { show: false },
    padding: [8, 8, 0, 0],
    cursor: {
      drag: { x: true, y: false, setScale: false },
      points: { size: 7, width: 1 },
      focus: { prox: 30 },
    },
    focus: { alpha: 1 },
    select: { show: true, left: 0, top: 0, width: 0, height: 0 },
    hooks: { drawClear: [thresholdsHook(model.scales)] },
  };
}

/** uPlot's data: x plus each series' plotted values (undefined = no point there, null = a gap). */
export function plotData(model: PlotModel): uPlot.AlignedData {
  return [model.xs, ...model.series.map((s) => s.plotted as (number | null)[])] as uPlot.AlignedData;
}

export function TimeSeriesPanel(props: PanelProps) {
  const { panel, frames, width, height, timeRange, timeZone, onChangeTimeRange } = props;
  const o = (panel.options ?? {}) as TimeSeriesOptions;
  const legendOpts: LegendOptions = o.legend ?? DEFAULT_LEGEND;
  const tooltipMode = o.tooltip?.mode ?? 'single';
  const model = useMemo(() => buildPlotModel(withColorDefaults(frames, 'timeseries')), [frames]);
  // Hidden series are remembered by name: a refresh may return the series in another order.
  const [hiddenNames, setHiddenNames] = useState<Set<string>>(new Set());
  const hidden = useMemo(() => {
    const out = new Set<number>();
    model.series.forEach((s, i) => {
      if (hiddenNames.has(s.name)) out.add(i);
    });
    return out;
  }, [model, hiddenNames]);
  // The tooltip follows the pointer through its own little store, so moving the mouse re-renders only it.
  const tips = useMemo(() => new TipStore(), []);
  const setTip = (t: TooltipState | null | ((prev: TooltipState | null) => TooltipState | null)) =>
    tips.set(typeof t === 'function' ? t(tips.value) : t);
  const plotRef = useRef<HTMLDivElement>(null);
  const uRef = useRef<uPlot | null>(null);
  const id = useMemo(() => `ts${nextId++}`, []);
  const rightScales = useMemo(
    () => new Set(model.scales.filter((s) => s.placement === 'right').map((s) => s.key)),
    [model],
  );
  const items = useMemo(
    () => legendItems(model.series, legendOpts, rightScales),
    [model, legendOpts, rightScales],
  );
  const showLegend = legendVisible(o.legend) && items.length > 0;
  const placement = legendOpts.placement ?? 'bottom';
  const lsize = showLegend ? legendSize(items, legendOpts, width, height) : { width: 0, height: 0 };
  const plotW = Math.max(10, placement === 'right' && showLegend ? width - lsize.width - 8 : width);
  const plotH = Math.max(10, placement === 'bottom' && showLegend ? height - lsize.height : height);
  const cbRef = useRef({ onChangeTimeRange, tooltipMode, graphTooltip: props.graphTooltip ?? 0 });
  cbRef.current = { onChangeTimeRange, tooltipMode, graphTooltip: props.graphTooltip ?? 0 };
  const sizeRef = useRef({ plotW, plotH });
  sizeRef.current = { plotW, plotH };

  useEffect(() => {
    const el = plotRef.current;
    if (!el || model.xs.length === 0) return;
    const opts = buildOptions(
      model,
      sizeRef.current.plotW,
      sizeRef.current.plotH,
      timeRange,
      timeZone,
      hidden,
    );
    let fromBus = false;
    opts.hooks = {
      ...opts.hooks,
      setSelect: [
        (u) => {
          const sel = u.select;
          if (sel.width > 5) {
            const from = u.posToVal(sel.left, 'x');
            const to = u.posToVal(sel.left + sel.width, 'x');
            cbRef.current.onChangeTimeRange({ from: Math.round(from), to: Math.round(to) });
          }
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
        },
      ],
      setCursor: [
        (u) => {
          const { left, top, idx } = u.cursor;
          const shared = cbRef.current.graphTooltip;
          if (!fromBus) u.root.classList.remove('synced');
          if (!fromBus && shared > 0) {
            crosshair.publish({
              time: idx == null || left == null || left < 0 ? null : u.posToVal(left, 'x'),
              source: id,
            });
          }
          const showTip = cbRef.current.tooltipMode !== 'none' && (!fromBus || shared === 2);
          if (idx == null || left == null || left < 0 || !showTip) setTip(null);
          else setTip({ left, top: fromBus ? sizeRef.current.plotH / 3 : (top ?? 0), idx, focus: null });
        },
      ],
      setSeries: [
        (u, sidx) => {
          setTip((t) => (t ? { ...t, focus: sidx == null ? null : sidx - 1 } : t));
          void u;
        },
      ],
    };
    const u = new uPlot(opts, plotData(model), el);
    uRef.current = u;
    const unsub = crosshair.subscribe((e) => {
      if (e.source === id || cbRef.current.graphTooltip === 0) return;
      fromBus = true;
      // Other panels show only the vertical line, as Grafana's shared crosshair does.
      u.root.classList.toggle('synced', e.time != null);
      if (e.time == null) u.setCursor({ left: -10, top: -10 });
      else u.setCursor({ left: u.valToPos(e.time, 'x'), top: sizeRef.current.plotH / 3 });
      fromBus = false;
    });
    const leave = () => {
      if (cbRef.current.graphTooltip > 0) crosshair.publish({ time: null, source: id });
      setTip(null);
    };
    u.over.addEventListener('mouseleave', leave);
    return () => {
      unsub();
      u.over.removeEventListener('mouseleave', leave);
      u.destroy();
      uRef.current = null;
    };
  }, [model, timeRange.from, timeRange.to, timeZone, hidden, id, tips]);

  // A resize only resizes the chart; it is not rebuilt.
  useEffect(() => {
    uRef.current?.setSize({ width: plotW, height: plotH });
  }, [plotW, plotH]);

  if (model.xs.length === 0 || model.series.length === 0) {
    // Rows without a time field (an instant query drawn as a graph) get Grafana's explanation.
    const noTime = frames.some((f) => f.length > 0 && !f.fields.some((x) => x.type === 'time'));
    return (
      <div class="panel-nodata">
        {noTime ? 'Data does not have a time field' : (panel.fieldConfig?.defaults?.noValue ?? 'No data')}
      </div>
    );
  }

  const toggle = (index: number, ev: MouseEvent) => {
    const name = model.series[index]?.name;
    if (name === undefined) return;
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey) {
      const next = new Set(hiddenNames);
      if (next.has(name)) next.delete(name);
      else next.add(name);
      setHiddenNames(next);
      return;
    }
    // Grafana: a click isolates the series; a second click on the isolated one shows all again.
    const isolated = hidden.size === model.series.length - 1 && !hidden.has(index);
    setHiddenNames(isolated ? new Set() : new Set(model.series.map((s) => s.name).filter((n) => n !== name)));
  };

  return (
    <div
      class={`panel-timeseries legend-${placement}`}
      style={{
        width: `${width}px`,
        height: `${height}px`,
        flexDirection: placement === 'right' ? 'row' : 'column',
      }}
    >
      <div class="panel-timeseries-plot" style={{ width: `${plotW}px`, height: `${plotH}px` }}>
        <div ref={plotRef} />
        <TooltipHost store={tips}>
          {(tip) => (
            <Tooltip
              model={model}
              state={tip}
              mode={tooltipMode}
              sort={o.tooltip?.sort}
              hidden={hidden}
              timeZone={timeZone}
              u={uRef.current}
            />
          )}
        </TooltipHost>
      </div>
      {showLegend && (
        <Legend
          items={items}
          options={legendOpts}
          hidden={hidden}
          onClick={toggle}
          style={
            placement === 'right'
              ? { width: `${lsize.width}px`, height: `${height}px` }
              : { height: `${lsize.height}px`, width: `${width}px` }
          }
        />
      )}
    </div>
  );
}

/** Holds the tooltip's state outside Preact so pointer moves do not re-render the legend. */
class TipStore {
  value: TooltipState | null = null;
  private listeners = new Set<(t: TooltipState | null) => void>();
  set(t: TooltipState | null): void {
    if (t === this.value || (t === null && this.value === null)) return;
    this.value = t;
    for (const fn of this.listeners) fn(t);
  }
  subscribe(fn: (t: TooltipState | null) => void): () => void {
    this.listeners.add(fn);
    return () => {
      this.listeners.delete(fn);
    };
  }
}

function TooltipHost(props: { store: TipStore; children: (tip: TooltipState) => preact.ComponentChildren }) {
  const [tip, setTip] = useState<TooltipState | null>(props.store.value);
  useEffect(() => props.store.subscribe(setTip), [props.store]);
  return tip ? props.children(tip) : null;
}

function Legend(props: {
  items: LegendItem[];
  options: LegendOptions;
  hidden: Set<number>;
  onClick: (index: number, ev: MouseEvent) => void;
  style: Record<string, string>;
}) {
  const { items, options, hidden, onClick } = props;
  const calcs = Array.isArray(options.calcs) ? options.calcs : [];
  if (options.displayMode === 'table') {
    return (
      <div class="panel-legend table" style={props.style}>
        <table>
          <thead>
            <tr>
              <th />
              {calcs.map((c) => (
                <th key={c}>{reducerName(c)}</th>
              ))}
            </tr>
          </thead>
          <tbody>
            {items.map((it) => (
              <tr
                key={it.index}
                class={hidden.has(it.index) ? 'hidden' : ''}
                onClick={(e) => onClick(it.index, e)}
              >
                <td class="name">
                  <span class="swatch" style={{ background: it.color }} />
                  {it.label}
                </td>
                {it.values.map((v) => (
                  <td key={v.calc}>{v.text}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    );
  }
  return (
    <div class={`panel-legend list ${options.placement ?? 'bottom'}`} style={props.style}>
      {items.map((it) => (
        <button
          type="button"
          key={it.index}
          class={`panel-legend-item${hidden.has(it.index) ? ' hidden' : ''}`}
          onClick={(e) => onClick(it.index, e)}
        >
          <span class="swatch" style={{ background: it.color }} />
          <span class="label">{it.label}</span>
          {it.values.map((v) => (
            <span key={v.calc} class="calc">
              {reducerName(v.calc)}: <b>{v.text}</b>
            </span>
          ))}
        </button>
      ))}
    </div>
  );
}

function Tooltip(props: {
  model: PlotModel;
  state: TooltipState;
  mode: string;
  sort?: string;
  hidden: Set<number>;
  timeZone?: string;
  u: uPlot | null;
}) {
  const { model, state, mode, hidden } = props;
  const t = model.xs[state.idx];
  if (t === undefined) return null;
  let rows = model.series
    .map((s, i) => ({ s, i, v: s.values[state.idx] }))
    .filter(({ s, i }) => !s.hideFromTooltip && !hidden.has(i) && !s.hideFromViz);
  if (mode === 'single') {
    let pick = state.focus;
    if (pick == null && props.u) {
      // Nearest series to the pointer vertically.
      let best = Number.POSITIVE_INFINITY;
      for (const r of rows) {
        const v = r.s.plotted[state.idx];
        if (typeof v !== 'number') continue;
        const d = Math.abs(props.u.valToPos(v, r.s.scaleKey) - state.top);
        if (d < best) {
          best = d;
          pick = r.i;
        }
      }
    }
    rows = rows.filter((r) => r.i === pick);
  } else if (props.sort === 'asc' || props.sort === 'desc') {
    const dir = props.sort === 'asc' ? 1 : -1;
    rows.sort((a, b) => dir * (((a.v as number) ?? 0) - ((b.v as number) ?? 0)));
  }
  if (rows.length === 0 || !props.u) return null;
  // The tooltip lives in document.body (a panel clips what overflows it), placed in viewport
  // coordinates beside the pointer, on the side with more room.
  const rect = props.u.over.getBoundingClientRect();
  const x = rect.left + state.left;
  const y = rect.top + state.top;
  const vw = window.innerWidth;
  const vh = window.innerHeight;
  const style: Record<string, string> = {};
  if (x > vw / 2) style.right = `${vw - x + 16}px`;
  else style.left = `${x + 16}px`;
  if (y > vh / 2) style.bottom = `${vh - y + 12}px`;
  else style.top = `${y + 12}px`;
  return createPortal(
    <div class="ts-tooltip" style={style}>
      <div class="ts-tooltip-time">{formatTime(t, 'YYYY-MM-DD HH:mm:ss', props.timeZone)}</div>
      {rows.map(({ s, i, v }) => {
        const d = getDisplayProcessor({ field: s.field, timeZone: props.timeZone })(v ?? null);
        const color =
          s.field.config.color?.mode === 'thresholds' && typeof v === 'number' && s.field.config.thresholds
            ? getColorForTheme(getActiveThreshold(v, s.field.config.thresholds.steps).color)
            : s.color;
        return (
          <div key={i} class="ts-tooltip-row">
            <span class="swatch" style={{ background: color }} />
            <span class="label">{s.name}</span>
            <span class="value">{`${d.prefix ?? ''}${d.text}${d.suffix ?? ''}`}</span>
          </div>
        );
      })}
    </div>,
    document.body,
  );
}
