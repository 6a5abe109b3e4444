// A stat panel's sparkline: the series as an SVG area, scaled to its own min/max.
import type { Sparkline as SparklineData } from './fieldDisplay';
import { sparklinePath } from './sparklinePath';

export function Sparkline(props: {
  data: SparklineData;
  width: number;
  height: number;
  lineColor: string;
  fillColor: string;
}) {
  const { width, height } = props;
  if (width <= 0 || height <= 0) return null;
  const p = sparklinePath(props.data, width, height);
  if (!p) return null;
  return (
    <svg
      class="panel-sparkline"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      aria-hidden="true"
    >
      <path d={p.area} fill={props.fillColor} stroke="none" />
      <path d={p.line} fill="none" stroke={props.lineColor} stroke-width="1" />
      {p.highlight && <circle cx={p.highlight[0]} cy={p.highlight[1]} r="3" fill={props.lineColor} />}
    </svg>
  );
}
