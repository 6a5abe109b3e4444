// Colour arithmetic panels need beyond src/data/colors.ts: lighter/darker shades with a hue turn (the
// stat panel's gradient background) and the text colour that reads on a coloured background.
import { luminance, parseColor, type Rgba, withAlpha } from '../data/colors';

/** The colour with its alpha replaced. */
export const alpha = withAlpha;

function toCss({ r, g, b, a }: Rgba): string {
  const R = Math.round(r);
  const G = Math.round(g);
  const B = Math.round(b);
  return a >= 1 ? `rgb(${R}, ${G}, ${B})` : `rgba(${R}, ${G}, ${B}, ${Math.round(a * 1000) / 1000})`;
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

/** Lightness shifted by `amount` (-100..100, negative darkens) and hue turned by `spin` degrees. */
export function shade(color: string, amount: number, spin = 0): string {
  const c = parseColor(color);
  if (!c) return color;
  const [h, s, l] = toHsl(c);
  const nl = Math.min(1, Math.max(0, l + amount / 100));
  return toCss(fromHsl(h + spin, s, nl, c.a));
}

/**
 * Text colour over a coloured cell or stat background: the dark theme writes near-white on every
 * threshold colour (white text on green, yellow, red); only a near-white background gets dark text.
 */
export function textOn(background: string): string {
  return luminance(background) > 0.7 ? 'rgb(36, 41, 46)' : 'rgb(247, 248, 250)';
}
