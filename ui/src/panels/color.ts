// Small colour arithmetic for panels (alpha, lighter/darker, hue spin), on any CSS colour the field
// config may hold: Grafana's names (through colors.ts), #rgb/#rrggbb(aa), rgb()/rgba().
import { getColorForTheme } from './_shim';

export interface Rgba {
  r: number;
  g: number;
  b: number;
  a: number;
}

export function parseColor(input: string): Rgba | undefined {
  const c = getColorForTheme(input).trim();
  let m = /^#([0-9a-f]{3,8})$/i.exec(c);
  if (m) {
    let h = m[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((x) => x + x).join('');
    if (h.length !== 6 && h.length !== 8) return undefined;
    const n = (i: number) => Number.parseInt(h.slice(i, i + 2), 16);
    return { r: n(0), g: n(2), b: n(4), a: h.length === 8 ? n(6) / 255 : 1 };
  }
  m = /^rgba?\(\s*([\d.]+)\s*,\s*([\d.]+)\s*,\s*([\d.]+)\s*(?:,\s*([\d.]+)\s*)?\)$/i.exec(c);
  if (m) return { r: +m[1], g: +m[2], b: +m[3], a: m[4] === undefined ? 1 : +m[4] };
  return undefined;
}

export function toCss({ r, g, b, a }: Rgba): string {
  const R = Math.round(r);
  const G = Math.round(g);
  const B = Math.round(b);
  return a >= 1 ? `rgb(${R}, ${G}, ${B})` : `rgba(${R}, ${G}, ${B}, ${Math.round(a * 1000) / 1000})`;
}

/** The colour with its alpha replaced (Grafana's colorManipulator.alpha). */
export function alpha(color: string, a: number): string {
  const c = parseColor(color);
  return c ? toCss({ ...c, a }) : color;
}

function toHsl({ r, g, b }: Rgba): [number, number, number] {
  const R = r / 255;
  const G = g / 255;
  const B = b / 255;
  const max = Math.max(R, G, B);
  const min = Math.min(R, G, B);
  const l = (max + min) / 2;
  if (max === min) return [0, 0, l];
  const d = max - min;
  const s = l > 0.5 ? d / (2 - max - min) : d / (max + min);
  let h: number;
  if (max === R) h = (G - B) / d + (G < B ? 6 : 0);
  else if (max === G) h = (B - R) / d + 2;
  else h = (R - G) / d + 4;
  return [h * 60, s, l];
}

function fromHsl(h: number, s: number, l: number, a: number): Rgba {
  const hue = (((h % 360) + 360) % 360) / 360;
  if (s === 0) return { r: l * 255, g: l * 255, b: l * 255, a };
  const q = l < 0.5 ? l * (1 + s) : l + s - l * s;
  const p = 2 * l - q;
  const f = (t: number) => {
    let x = t;
    if (x < 0) x += 1;
    if (x > 1) x -= 1;
    if (x < 1 / 6) return p + (q - p) * 6 * x;
    if (x < 1 / 2) return q;
    if (x < 2 / 3) return p + (q - p) * (2 / 3 - x) * 6;
    return p;
  };
  return { r: f(hue + 1 / 3) * 255, g: f(hue) * 255, b: f(hue - 1 / 3) * 255, a };
}

/** Lightness shifted by `amount` (0..100, negative darkens) and hue turned by `spin` degrees. */
export function shade(color: string, amount: number, spin = 0): string {
  const c = parseColor(color);
  if (!c) return color;
  const [h, s, l] = toHsl(c);
  const nl = Math.min(1, Math.max(0, l + amount / 100));
  return toCss(fromHsl(h + spin, s, nl, c.a));
}

/** Perceived brightness 0..1: decides dark or light text over a coloured background. */
export function luminance(color: string): number {
  const c = parseColor(color);
  if (!c) return 0;
  return (0.299 * c.r + 0.587 * c.g + 0.114 * c.b) / 255;
}
