// Text measurement for auto-sized values: a canvas 2D context in the browser, an average glyph width
// elsewhere (unit tests), so layout code stays pure and testable.
export type MeasureText = (text: string, fontSize: number, fontWeight?: number) => number;

let ctx: CanvasRenderingContext2D | null | undefined;
const cache = new Map<string, number>();

/** Width in px of `text` at `fontSize` in the UI font. */
export const measureText: MeasureText = (text, fontSize, fontWeight = 400) => {
  if (ctx === undefined) {
    ctx = typeof document !== 'undefined' ? document.createElement('canvas').getContext('2d') : null;
  }
  if (!ctx) return approxTextWidth(text, fontSize);
  const key = `${fontWeight}|${text}`;
  let w14 = cache.get(key);
  if (w14 === undefined) {
    ctx.font = `${fontWeight} 14px Inter, Helvetica, Arial, sans-serif`;
    w14 = ctx.measureText(text).width;
    if (cache.size > 5000) cache.clear();
    cache.set(key, w14);
  }
  return (w14 * fontSize) / 14;
};

/** Width estimate without a canvas: 0.58 em per character. */
export function approxTextWidth(text: string, fontSize: number): number {
  return text.length * fontSize * 0.58;
}

/**
 * The largest font size at which `text` fits `width` × `height` (one line of `lineHeight`), capped by
 * `maxSize`: Grafana's calculateFontSize.
 */
export function fitFontSize(
  text: string,
  width: number,
  height: number,
  lineHeight: number,
  maxSize: number | undefined,
  measure: MeasureText = measureText,
  fontWeight = 400,
): number {
  const w14 = measure(text, 14, fontWeight);
  const byWidth = (width / (w14 + 2)) * 14;
  const byHeight = height / lineHeight;
  const size = Math.max(1, Math.min(byWidth, byHeight));
  return maxSize === undefined ? size : Math.min(size, maxSize);
}
