// The gauge panel: one 270° arc per reduced value, with threshold markers and labels.
import { useMemo } from 'preact/hooks';
import { getColorForTheme } from '../data/colors';
import { formattedValueToString, getValueFormat } from '../data/units';
import { withColorDefaults } from './defaults';
import { displayText, FormattedValue } from './FormattedValue';
import { alignmentFactors, type FieldDisplay, getFieldDisplayValues, layoutValues } from './fieldDisplay';
import { arcPath, arcPoint, gaugeFraction, gaugeGeometry, thresholdBands } from './gaugeGeometry';
import type { PanelProps, ReduceOptions } from './types';
import './panels.css';

interface GaugeOptions {
  reduceOptions?: Partial<ReduceOptions>;
  showThresholdMarkers?: boolean;
  showThresholdLabels?: boolean;
  orientation?: string;
  text?: { titleSize?: number; valueSize?: number };
}

/** Grafana's default range when the field sets none: 0-100, or 0-1 for percentunit. */
export function gaugeRange(config: FieldDisplay['config']): { min: number; max: number } {
  const min = config.min ?? 0;
  const max = config.max ?? (config.unit === 'percentunit' ? 1 : 100);
  return { min, max };
}

export function GaugePanel(props: PanelProps) {
  const { panel, frames, width, height, replaceVariables } = props;
  const o = (panel.options ?? {}) as GaugeOptions;
  const values = useMemo(
    () =>
      getFieldDisplayValues({
        frames: withColorDefaults(frames, 'gauge'),
        reduceOptions: o.reduceOptions,
        defaults: panel.fieldConfig?.defaults,
        replaceVariables,
      }),
    [frames, o.reduceOptions, panel.fieldConfig, replaceVariables],
  );
  const boxes = layoutValues(values.length, width, height, o.orientation, 8, false);
  const align = values.length > 1 ? alignmentFactors(values) : undefined;
  return (
    <div class="panel-gauge" style={{ width: `${width}px`, height: `${height}px` }}>
      {values.map((v, i) => (
        <Gauge key={i} value={v} options={o} box={boxes[i]} alignText={align?.text} count={values.length} />
      ))}
    </div>
  );
}

function Gauge(props: {
  value: FieldDisplay;
  options: GaugeOptions;
  box: { x: number; y: number; width: number; height: number };
  alignText?: string;
  count: number;
}) {
  const { value, options: o, box } = props;
  const d = value.display;
  const { min, max } = gaugeRange(value.config);
  const markers = o.showThresholdMarkers ?? true;
  const labels = o.showThresholdLabels ?? false;
  // Grafana names each gauge only when the panel shows several.
  const title = props.count > 1 || value.config.displayName ? (d.title ?? '') : '';
  const g = gaugeGeometry({
    width: box.width,
    height: box.height,
    title,
    valueText: props.alignText && props.alignText.length > d.text.length ? props.alignText : displayText(d),
    showThresholdMarkers: markers,
    showThresholdLabels: labels,
  });
  const frac = gaugeFraction(d.numeric, min, max);
  const color = d.color ?? '#73BF69';
  const bands = thresholdBands(value.config.thresholds, min, max);
  const fmt = getValueFormat(value.config.unit);
  return (
    <div
      class="panel-gauge-item"
      style={{ left: `${box.x}px`, top: `${box.y}px`, width: `${box.width}px`, height: `${box.height}px` }}
    >
      <svg width={box.width} height={g.titleTop} aria-hidden="true">
        <path
          d={arcPath(g.cx, g.cy, g.radius, 0, 1)}
          fill="none"
          stroke="rgba(204, 204, 220, 0.07)"
          stroke-width={g.gaugeWidth}
        />
        {frac > 0 && (
          <path
            d={arcPath(g.cx, g.cy, g.radius, 0, frac)}
            fill="none"
            stroke={color}
            stroke-width={g.gaugeWidth}
          />
        )}
        {markers &&
          bands.map((b) => (
            <path
              key={`${b.from}`}
              d={arcPath(g.cx, g.cy, g.markerRadius, b.from, b.to)}
              fill="none"
              stroke={getColorForTheme(b.color)}
              stroke-width={g.markerWidth}
            />
          ))}
        {labels &&
          // One label where each band starts, and the maximum at the end of the arc.
          [...bands, { from: 1, to: 1, color: '', value: max }].map((b) => {
            const [x, y] = arcPoint(
              g.cx,
              g.cy,
              g.markerRadius + g.markerWidth + g.thresholdLabelFontSize * 0.8,
              b.from,
            );
            const v =
              b.from === 1
                ? max
                : b.value === null || !Number.isFinite(b.value)
                  ? min
                  : value.config.thresholds?.mode === 'percentage'
                    ? min + ((max - min) * b.value) / 100
                    : b.value;
            return (
              <text
                key={`l${b.from}`}
                x={x}
                y={y}
                fill="#ccccdc"
                font-size={g.thresholdLabelFontSize}
                text-anchor="middle"
                dominant-baseline="middle"
              >
                {formattedValueToString(fmt(v, value.config.decimals))}
              </text>
            );
          })}
      </svg>
      <div
        class="panel-gauge-value"
        style={{ left: '0', right: '0', top: `${g.cy - g.valueFontSize * 0.55}px`, lineHeight: '1.1' }}
      >
        <FormattedValue
          value={d}
          fontSize={o.text?.valueSize ?? g.valueFontSize}
          color={color}
          weight={500}
        />
      </div>
      {title && (
        <div
          class="panel-gauge-title"
          style={{ top: `${g.titleTop}px`, fontSize: `${o.text?.titleSize ?? g.titleFontSize}px` }}
          title={title}
        >
          {title}
        </div>
      )}
    </div>
  );
}
