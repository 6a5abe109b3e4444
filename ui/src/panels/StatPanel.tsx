// The stat panel: one big value per reduced field (or row), coloured by thresholds, with an optional sparkline.
import { useMemo } from 'preact/hooks';
import { alpha, shade, textOn } from './color';
import { withColorDefaults } from './defaults';
import { displayText, FormattedValue } from './FormattedValue';
import { alignmentFactors, type FieldDisplay, getFieldDisplayValues, layoutValues } from './fieldDisplay';
import { Sparkline } from './Sparkline';
import { statLayout } from './statLayout';
import type { PanelProps, ReduceOptions } from './types';
import './panels.css';

export interface StatOptions {
  reduceOptions?: Partial<ReduceOptions>;
  colorMode?: 'value' | 'background' | 'background_solid' | 'none';
  graphMode?: 'area' | 'none';
  textMode?: string;
  justifyMode?: string;
  orientation?: string;
  wideLayout?: boolean;
  text?: { titleSize?: number; valueSize?: number };
}

const SPACING = 4;

export function StatPanel(props: PanelProps) {
  const { panel, frames, width, height, replaceVariables } = props;
  const o = (panel.options ?? {}) as StatOptions;
  const graphMode = o.graphMode ?? 'area';
  const values = useMemo(
    () =>
      getFieldDisplayValues({
        frames: withColorDefaults(frames, 'stat'),
        reduceOptions: o.reduceOptions,
        defaults: panel.fieldConfig?.defaults,
        replaceVariables,
        sparkline: graphMode !== 'none',
      }),
    [frames, o.reduceOptions, panel.fieldConfig, replaceVariables, graphMode],
  );
  const boxes = layoutValues(values.length, width, height, o.orientation, SPACING, true);
  const align = values.length > 1 ? alignmentFactors(values) : undefined;
  return (
    <div class="panel-stat" style={{ width: `${width}px`, height: `${height}px` }}>
      {values.map((v, i) => (
        <BigValue key={i} value={v} options={o} count={values.length} box={boxes[i]} align={align} />
      ))}
    </div>
  );
}

function BigValue(props: {
  value: FieldDisplay;
  options: StatOptions;
  count: number;
  box: { x: number; y: number; width: number; height: number };
  align?: ReturnType<typeof alignmentFactors>;
}) {
  const { value, options: o, box } = props;
  const d = value.display;
  const colorMode = o.colorMode ?? 'value';
  const color = d.color ?? '#73BF69';
  const title = d.title ?? '';
  const layout = statLayout({
    width: box.width,
    height: box.height,
    title,
    valueText: displayText(d),
    textMode: o.textMode,
    justifyMode: o.justifyMode,
    count: props.count,
    hasSparkline: !!value.sparkline,
    wideLayout: o.wideLayout,
    alignment: props.align,
  });
  if (o.text?.valueSize) layout.valueFontSize = o.text.valueSize;
  if (o.text?.titleSize) layout.titleFontSize = o.text.titleSize;
  const onBackground = colorMode === 'background' || colorMode === 'background_solid';
  const textColor = onBackground ? textOn(color) : undefined;
  const style: Record<string, string> = {
    left: `${box.x}px`,
    top: `${box.y}px`,
    width: `${box.width}px`,
    height: `${box.height}px`,
  };
  if (colorMode === 'background')
    style.background = `linear-gradient(120deg, ${shade(color, -8, 6)}, ${shade(color, 4, -6)})`;
  if (colorMode === 'background_solid') style.background = color;
  if (textColor) style.color = textColor;
  const valueColor = colorMode === 'value' ? color : textColor;
  const mode = layout;
  const textStyle = {
    padding: `${mode.padding}px`,
    flexDirection: mode.kind === 'wide' ? 'row' : 'column',
    justifyContent: mode.kind === 'wide' ? (mode.justifyCenter ? 'center' : 'space-between') : 'center',
    alignItems: mode.kind === 'wide' ? 'center' : mode.justifyCenter ? 'center' : 'flex-start',
    bottom: mode.kind === 'stacked' && mode.chartHeight ? `${mode.chartHeight}px` : '0',
    right: mode.kind === 'wide' && mode.chartWidth ? `${mode.chartWidth}px` : '0',
  };
  const nameOnly = o.textMode === 'name';
  return (
    <div class={`panel-stat-value${onBackground ? ' on-bg' : ''}`} style={style}>
      <div class="panel-stat-text" style={textStyle}>
        {mode.showTitle && (
          <div class="panel-stat-title" style={{ fontSize: `${mode.titleFontSize}px` }}>
            {title}
          </div>
        )}
        {mode.showValue &&
          (nameOnly ? (
            <span
              class="panel-stat-number"
              style={{ fontSize: `${mode.valueFontSize}px`, color: valueColor }}
            >
              {title}
            </span>
          ) : (
            <span class="panel-stat-number">
              <FormattedValue value={d} fontSize={mode.valueFontSize} color={valueColor} weight={500} />
            </span>
          ))}
      </div>
      {value.sparkline && mode.chartHeight > 0 && (
        <div
          class="panel-stat-chart"
          style={
            mode.kind === 'wide'
              ? { right: `${mode.padding}px`, top: `${mode.padding}px`, bottom: `${mode.padding}px` }
              : { left: '0', right: '0', bottom: '0' }
          }
        >
          <Sparkline
            data={value.sparkline}
            width={mode.kind === 'wide' ? mode.chartWidth : box.width}
            height={mode.kind === 'wide' ? box.height - 2 * mode.padding : mode.chartHeight}
            lineColor={onBackground ? 'rgba(255,255,255,0.55)' : color}
            fillColor={onBackground ? 'rgba(255,255,255,0.18)' : alpha(color, 0.2)}
          />
        </div>
      )}
    </div>
  );
}
