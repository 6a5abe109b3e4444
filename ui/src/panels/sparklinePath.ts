// SVG paths of a sparkline: one line and the area under it; gaps (null) break the line.
import type { Sparkline } from './fieldDisplay';

export interface SparklinePaths {
  line: string;
  area: string;
  highlight?: [number, number];
}

export function sparklinePath(data: Sparkline, width: number, height: number): SparklinePaths | undefined {
  const ys = data.y.values;
  const xs = data.x?.values;
  const n = ys.length;
  let xMin = Number.POSITIVE_INFINITY;
  let xMax = Number.NEGATIVE_INFINITY;
  let yMin = Number.POSITIVE_INFINITY;
  let yMax = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    const x = xs ? Number(xs[i]) : i;
    const y = ys[i];
    if (typeof y !== 'number' || !Number.isFinite(y)) continue;
    xMin = Math.min(xMin, x);
    xMax = Math.max(xMax, x);
    yMin = Math.min(yMin, y);
    yMax = Math.max(yMax, y);
  }
  if (!Number.isFinite(yMin)) return undefined;
  if (yMax === yMin) {
    // A flat series sits in the middle, as Grafana's does.
    yMin -= 1;
    yMax += 1;
  }
  const px = (x: number) => (xMax === xMin ? width / 2 : ((x - xMin) / (xMax - xMin)) * width);
  const py = (y: number) => height - 1 - ((y - yMin) / (yMax - yMin)) * (height - 2);
  let line = '';
  let area = '';
  let segStart: number | undefined;
  let last = 0;
  for (let i = 0; i < n; i++) {
    const y = ys[i];
    const x = xs ? Number(xs[i]) : i;
    if (typeof y !== 'number' || !Number.isFinite(y)) {
      if (segStart !== undefined)
        area += `L${px(last).toFixed(1)},${height}L${px(segStart).toFixed(1)},${height}Z`;
      segStart = undefined;
      continue;
    }
    const X = px(x).toFixed(1);
    const Y = py(y).toFixed(1);
    if (segStart === undefined) {
      segStart = x;
      line += `M${X},${Y}`;
      area += `M${X},${Y}`;
    } else {
      line += `L${X},${Y}`;
      area += `L${X},${Y}`;
    }
    last = x;
  }
  if (segStart !== undefined)
    area += `L${px(last).toFixed(1)},${height}L${px(segStart).toFixed(1)},${height}Z`;
  const out: SparklinePaths = { line, area };
  const hi = data.highlightIndex;
  if (hi !== undefined && typeof ys[hi] === 'number' && Number.isFinite(ys[hi] as number)) {
    out.highlight = [px(xs ? Number(xs[hi]) : hi), py(ys[hi] as number)];
  }
  return out;
}
