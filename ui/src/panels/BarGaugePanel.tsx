// The bar gauge panel: one bar per reduced value, drawn basic, gradient or as LCD cells.
import { useMemo } from 'preact/hooks';
import {
  type BarOrientation,
  barGaugeGeometry,
  colorAt,
  gradientStops,
  lcdCells,
  resolveOrientation,
} from './barGauge';
import { alpha } from './color';
import { withColorDefaults } from './defaults';
import { displayText, FormattedValue } from './FormattedValue';
import { alignmentFactors, type FieldDisplay, getFieldDisplayValues, layoutValues } from './fieldDisplay';
import { gaugeFraction } from './gaugeGeometry';
import type { PanelProps, ReduceOptions } from './types';
import './panels.css';

interface BarGaugeOptions {
  reduceOptions?: Partial<ReduceOptions>;
  displayMode?: 'basic' | 'gradient' | 'lcd';
  orientation?: string;
  showUnfilled?: boolean;
  namePlacement?: 'auto' | 'top' | 'left' | 'hidden';
  valueMode?: 'color' | 'text' | 'hidden';
  minVizHeight?: number;
  maxVizHeight?: number;
  minVizWidth?: number;
  text?: { titleSize?: number; valueSize?: number };
}

const SPACING = 8;
const UNFILLED = 'rgba(204, 204, 220, 0.04)';

export function BarGaugePanel(props: PanelProps) {
  const { panel, frames, width, height, replaceVariables } = props;
  const o = (panel.options ?? {}) as BarGaugeOptions;
  const values = useMemo(
    () =>
      getFieldDisplayValues({
        frames: withColorDefaults(frames, 'bargauge'),
        reduceOptions: o.reduceOptions,
        defaults: panel.fieldConfig?.defaults,
        replaceVariables,
      }),
    [frames, o.reduceOptions, panel.fieldConfig, replaceVariables],
  );
  const orientation = resolveOrientation(o.orientation, width, height);
  const n = values.length;
  // Bars stack along the other axis; each is at least minVizHeight tall (the panel scrolls past that)
  // and at most maxVizHeight.
  const minH = o.minVizHeight ?? 16;
  const maxH = o.maxVizHeight ?? 300;
  let boxes = layoutValues(
    n,
    width,
    height,
    orientation === 'horizontal' ? 'horizontal' : 'vertical',
    SPACING,
    false,
  );
  let contentHeight = height;
  if (orientation === 'horizontal' && n > 0) {
    const h = Math.min(maxH, Math.max(minH, (height - SPACING * (n - 1)) / n));
    boxes = values.map((_, i) => ({ x: 0, y: i * (h + SPACING), width, height: h }));
    contentHeight = n * h + SPACING * (n - 1);
  }
  const align = alignmentFactors(values);
  const alignText = `${align.prefix}${align.text}${align.suffix}`;
  return (
    <div
      class="panel-bargauge"
      style={{
        width: `${width}px`,
        height: `${height}px`,
        overflowY: contentHeight > height + 1 ? 'auto' : 'hidden',
      }}
    >
      <div style={{ position: 'relative', height: `${contentHeight}px` }}>
        {values.map((v, i) => (
          <BarGauge
            key={i}
            value={v}
            options={o}
            orientation={orientation}
            box={boxes[i]}
            alignText={alignText}
            alignTitle={align.title}
          />
        ))}
      </div>
    </div>
  );
}

function BarGauge(props: {
  value: FieldDisplay;
  options: BarGaugeOptions;
  orientation: BarOrientation;
  box: { x: number; y: number; width: number; height: number };
  alignText: string;
  alignTitle: string;
}) {
  const { value, options: o, box, orientation } = props;
  const d = value.display;
  const title = d.title ?? '';
  const mode = o.displayMode ?? 'gradient';
  const valueMode = o.valueMode ?? 'color';
  const geo = barGaugeGeometry({
    width: box.width,
    height: box.height,
    orientation,
    title: props.alignTitle || title,
    valueText: props.alignText.length > displayText(d).length ? props.alignText : displayText(d),
    namePlacement: o.namePlacement,
    valueMode,
  });
  if (geo.title) geo.title.fontSize = o.text?.titleSize ?? geo.title.fontSize;
  const min = value.config.min ?? 0;
  const max = value.config.max ?? 100;
  const frac = gaugeFraction(d.numeric, min, max);
  const color = d.color ?? '#73BF69';
  const showUnfilled = o.showUnfilled ?? true;
  const horizontal = orientation === 'horizontal';
  const { bar } = geo;
  const length = horizontal ? bar.width : bar.height;
  const filled = length * frac;
  const valueColor = valueMode === 'text' ? '#ccccdc' : color;

  let barEl: preact.ComponentChildren;
  if (mode === 'lcd') {
    const cells = lcdCells(length);
    const items: preact.JSX.Element[] = [];
    for (let i = 0; i < cells.count; i++) {
      const cellValue = min + ((max - min) * (i + 0.5)) / cells.count;
      const lit = Number.isFinite(d.numeric) && cellValue <= d.numeric;
      const c = colorAt(value.config, cellValue, min, max);
      const pos = i * (cells.size + cells.spacing);
      const style: Record<string, string> = horizontal
        ? { left: `${pos}px`, top: '0', width: `${cells.size}px`, height: '100%' }
        : { bottom: `${pos}px`, left: '0', height: `${cells.size}px`, width: '100%' };
      if (lit) {
        style.background = alpha(c, 0.95);
        style.boxShadow = `0 0 4px ${alpha(c, 0.6)}`;
      } else if (showUnfilled) style.background = alpha(c, 0.2);
      else continue;
      items.push(<div key={i} class="panel-bargauge-cell" style={style} />);
    }
    barEl = items;
  } else {
    const fillStyle: Record<string, string> = horizontal
      ? { left: '0', top: '0', bottom: '0', width: `${filled}px` }
      : { left: '0', right: '0', bottom: '0', height: `${filled}px` };
    if (mode === 'gradient') {
      const dir = horizontal ? 'to right' : 'to top';
      fillStyle.background = `linear-gradient(${dir}, ${gradientStops(value.config, min, max).join(', ')})`;
      fillStyle.backgroundSize = horizontal ? `${length}px 100%` : `100% ${length}px`;
      fillStyle.backgroundPosition = horizontal ? 'left' : 'bottom';
    } else {
      fillStyle.background = alpha(color, 0.35);
      if (horizontal) fillStyle.borderRight = `2px solid ${color}`;
      else fillStyle.borderTop = `2px solid ${color}`;
    }
    barEl = (
      <>
        {showUnfilled && <div class="panel-bargauge-unfilled" style={{ inset: '0', background: UNFILLED }} />}
        {filled > 0 && <div class="panel-bargauge-fill" style={fillStyle} />}
      </>
    );
  }
  return (
    <div
      class={`panel-bargauge-item ${orientation}`}
      style={{ left: `${box.x}px`, top: `${box.y}px`, width: `${box.width}px`, height: `${box.height}px` }}
    >
      {geo.title && (
        <div
          class={`panel-bargauge-title ${geo.title.placement}`}
          style={rectStyle(geo.title, { fontSize: `${geo.title.fontSize}px` })}
          title={title}
        >
          {title}
        </div>
      )}
      <div class="panel-bargauge-bar" style={rectStyle(bar)}>
        {barEl}
      </div>
      {geo.value && (
        <div class={`panel-bargauge-value ${orientation}`} style={rectStyle(geo.value)}>
          <FormattedValue
            value={d}
            fontSize={o.text?.valueSize ?? geo.value.fontSize}
            color={valueColor}
            weight={500}
          />
        </div>
      )}
    </div>
  );
}

function rectStyle(
  r: { x: number; y: number; width: number; height: number },
  extra: Record<string, string> = {},
) {
  return { left: `${r.x}px`, top: `${r.y}px`, width: `${r.width}px`, height: `${r.height}px`, ...extra };
}
